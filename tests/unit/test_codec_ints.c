/*
 * test_codec_ints.c - bit packing, the int64 cascade codec and the ALP float
 * codec: round trips, scheme choice and size on typical data, and hostile
 * input (truncation, corruption, allocation failure).
 *
 * Decoders always read from an exact-size heap copy of the encoding, so the
 * sanitizer build catches any read past the end.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <heliosrepl/heliosrepl.h>

#include "check_main.h"
#include "codec/bitpack.h"
#include "codec/bytebuf.h"
#include "codec/floatcodec.h"
#include "codec/intcodec.h"
#include "failing_allocator.h"

#define DEPTH 3 /* what the frame codec uses */

/* ---- helpers ---- */

static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
    rng_state = seed;
}

/* splitmix64: deterministic, so a failure reproduces. */
static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t bound)
{
    return bound ? rng() % bound : 0;
}

static hr_env *env;

static void setup(void)
{
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
}

static void teardown(void)
{
    hr_env_free(env);
    env = NULL;
}

/* An exact-size heap copy of w's bytes (at least 1 byte allocated). */
static uint8_t *exact_copy(const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    if (len)
        memcpy(copy, data, len);
    return copy;
}

typedef struct encoded {
    uint8_t *data; /* exact-size heap copy */
    size_t len;
} encoded;

static encoded encode_ints(const int64_t *v, size_t n, int depth)
{
    hr__wbuf w;
    hr__wbuf_init(&w, env);
    hr__int_encode(&w, v, n, depth);
    ck_assert_int_eq(w.failed, 0);
    encoded e = {exact_copy(w.data, w.len), w.len};
    hr__wbuf_free(&w);
    return e;
}

static int decode_ints(const encoded *e, size_t len, int64_t *v, size_t n,
                       int depth, size_t *consumed)
{
    uint8_t *copy = exact_copy(e->data, len);
    hr__rbuf r;
    hr__rbuf_init(&r, copy, len);
    const int rc = hr__int_decode(&r, v, n, depth, env);
    if (consumed)
        *consumed = r.pos;
    free(copy);
    return rc;
}

/* Index of the first mismatch, or n. (Check logs every assertion, so hot
 * loops compare first and assert once.) */
static size_t first_difference(const int64_t *a, const int64_t *b, size_t n)
{
    size_t i = 0;
    while (i < n && a[i] == b[i])
        i++;
    return i;
}

/* Encode, decode, compare; returns the encoding (caller frees data). */
static encoded int_roundtrip(const int64_t *v, size_t n, int depth)
{
    encoded e = encode_ints(v, n, depth);
    int64_t *back = malloc((n ? n : 1) * sizeof *back);
    size_t consumed = 0;
    ck_assert_int_eq(decode_ints(&e, e.len, back, n, depth, &consumed), HR_OK);
    ck_assert_uint_eq(consumed, e.len);
    const size_t bad = first_difference(back, v, n);
    ck_assert_msg(bad == n, "n=%zu i=%zu: %lld != %lld", n, bad,
                  (long long)(bad < n ? back[bad] : 0),
                  (long long)(bad < n ? v[bad] : 0));
    free(back);
    return e;
}

static void int_roundtrip_free(const int64_t *v, size_t n, int depth)
{
    encoded e = int_roundtrip(v, n, depth);
    free(e.data);
}

static int bits_equal64(const double *a, const double *b, size_t n)
{
    return n == 0 || memcmp(a, b, n * sizeof *a) == 0;
}

static encoded encode_f64(const double *v, size_t n, int depth)
{
    hr__wbuf w;
    hr__wbuf_init(&w, env);
    hr__f64_encode(&w, v, n, depth);
    ck_assert_int_eq(w.failed, 0);
    encoded e = {exact_copy(w.data, w.len), w.len};
    hr__wbuf_free(&w);
    return e;
}

static encoded encode_f32(const float *v, size_t n, int depth)
{
    hr__wbuf w;
    hr__wbuf_init(&w, env);
    hr__f32_encode(&w, v, n, depth);
    ck_assert_int_eq(w.failed, 0);
    encoded e = {exact_copy(w.data, w.len), w.len};
    hr__wbuf_free(&w);
    return e;
}

static int decode_f64(const encoded *e, size_t len, double *v, size_t n,
                      int depth, size_t *consumed)
{
    uint8_t *copy = exact_copy(e->data, len);
    hr__rbuf r;
    hr__rbuf_init(&r, copy, len);
    const int rc = hr__f64_decode(&r, v, n, depth, env);
    if (consumed)
        *consumed = r.pos;
    free(copy);
    return rc;
}

static int decode_f32(const encoded *e, size_t len, float *v, size_t n,
                      int depth, size_t *consumed)
{
    uint8_t *copy = exact_copy(e->data, len);
    hr__rbuf r;
    hr__rbuf_init(&r, copy, len);
    const int rc = hr__f32_decode(&r, v, n, depth, env);
    if (consumed)
        *consumed = r.pos;
    free(copy);
    return rc;
}

static encoded f64_roundtrip(const double *v, size_t n, int depth)
{
    encoded e = encode_f64(v, n, depth);
    double *back = malloc((n ? n : 1) * sizeof *back);
    size_t consumed = 0;
    ck_assert_int_eq(decode_f64(&e, e.len, back, n, depth, &consumed), HR_OK);
    ck_assert_uint_eq(consumed, e.len);
    ck_assert_msg(bits_equal64(back, v, n), "f64 round trip not bit-exact");
    free(back);
    return e;
}

static encoded f32_roundtrip(const float *v, size_t n, int depth)
{
    encoded e = encode_f32(v, n, depth);
    float *back = malloc((n ? n : 1) * sizeof *back);
    size_t consumed = 0;
    ck_assert_int_eq(decode_f32(&e, e.len, back, n, depth, &consumed), HR_OK);
    ck_assert_uint_eq(consumed, e.len);
    ck_assert_msg(n == 0 || memcmp(back, v, n * sizeof *v) == 0,
                  "f32 round trip not bit-exact");
    free(back);
    return e;
}

static double bits_to_f64(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static float bits_to_f32(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* ---- data generators ---- */

static void gen_sequential(int64_t *v, size_t n, int64_t start)
{
    for (size_t i = 0; i < n; i++)
        v[i] = start + (int64_t)i;
}

/* Microsecond timestamps, one per second from 2024-01-01. */
static void gen_timestamps(int64_t *v, size_t n)
{
    const int64_t t0 = INT64_C(1704067200) * 1000000;
    for (size_t i = 0; i < n; i++)
        v[i] = t0 + (int64_t)i * 1000000;
}

/* Runs of random length 1..max_run over a few distinct values. */
static void gen_runs(int64_t *v, size_t n, unsigned max_run, unsigned card)
{
    size_t i = 0;
    while (i < n) {
        const int64_t x = (int64_t)rng_below(card) * 1000 - 7;
        size_t len = 1 + (size_t)rng_below(max_run);
        for (; len && i < n; len--)
            v[i++] = x;
    }
}

/* Prices with 2 decimals: a random walk in cents, as a parser yields them. */
static void gen_prices(double *v, size_t n)
{
    int64_t cents = 10000;
    for (size_t i = 0; i < n; i++) {
        cents += (int64_t)rng_below(201) - 100;
        if (cents < 100)
            cents = 100;
        v[i] = (double)cents / 100.0;
    }
}

/* A mix of shapes for randomized tests. */
static void gen_any(int64_t *v, size_t n, unsigned kind)
{
    switch (kind % 9) {
    case 0:
        for (size_t i = 0; i < n; i++)
            v[i] = (int64_t)rng();
        break;
    case 1:
        for (size_t i = 0; i < n; i++)
            v[i] = (int64_t)rng_below(1000) - 500;
        break;
    case 2:
        gen_sequential(v, n, (int64_t)rng());
        break;
    case 3:
        gen_runs(v, n, 1 + (unsigned)rng_below(50), 1 + (unsigned)rng_below(5));
        break;
    case 4: {
        const int64_t extremes[] = {INT64_MIN,     INT64_MAX,    0, -1, 1,
                                    INT64_MIN + 1, INT64_MAX - 1};
        for (size_t i = 0; i < n; i++)
            v[i] = extremes[rng_below(7)];
        break;
    }
    case 5: {
        uint64_t t = rng(), step = rng_below(1u << 20);
        for (size_t i = 0; i < n; i++, t += step + rng_below(3))
            v[i] = (int64_t)t; /* wraps past INT64_MAX: fine modulo 2^64 */
        break;
    }
    case 6:
        for (size_t i = 0; i < n; i++)
            v[i] = (int64_t)((uint64_t)i * i * 3);
        break;
    case 7:
        for (size_t i = 0; i < n; i++)
            v[i] = (int64_t)(rng() >> rng_below(64));
        break;
    default:
        for (size_t i = 0; i < n; i++)
            v[i] = 42;
        break;
    }
}

/* ---- bitpack ---- */

static void check_bitpack(const uint64_t *v, size_t n, unsigned w,
                          int truncations)
{
    hr__wbuf out;
    hr__wbuf_init(&out, env);
    /* Pack in two calls, the first a multiple of 8 values: one stream. */
    const size_t split = (n / 2) & ~(size_t)7;
    hr__bitpack_put(&out, v, split, w);
    hr__bitpack_put(&out, v + split, n - split, w);
    ck_assert_int_eq(out.failed, 0);
    ck_assert_uint_eq(out.len, hr__bitpack_bytes(n, w));
    ck_assert_uint_eq(out.len, (n * w + 7) / 8);

    uint8_t *copy = exact_copy(out.data, out.len);
    uint64_t *back = calloc(n + 1, sizeof *back);
    back[n] = 0xabcdef; /* canary: unpack writes exactly n values */
    hr__rbuf r;
    hr__rbuf_init(&r, copy, out.len);
    ck_assert_int_eq(hr__bitpack_get(&r, back, n, w), 0);
    ck_assert_uint_eq(r.pos, out.len);
    ck_assert_msg(n == 0 || memcmp(back, v, n * sizeof *v) == 0, "w=%u n=%zu",
                  w, n);
    ck_assert_uint_eq(back[n], 0xabcdef);

    /* Truncations fail without moving the cursor: every one for short
     * streams, the interesting ones (and a stride) for long ones. */
    for (size_t len = 0; truncations && len < out.len;
         len += (len < 24 || len + 24 > out.len) ? 1 : 61) {
        uint8_t *short_copy = exact_copy(out.data, len);
        hr__rbuf_init(&r, short_copy, len);
        ck_assert_int_eq(hr__bitpack_get(&r, back, n, w), -1);
        ck_assert_uint_eq(r.pos, 0);
        free(short_copy);
    }
    /* A set padding bit is rejected. */
    const unsigned used = (unsigned)((n * w) % 8);
    if (used) {
        copy[out.len - 1] |= (uint8_t)(0x80u);
        hr__rbuf_init(&r, copy, out.len);
        ck_assert_int_eq(hr__bitpack_get(&r, back, n, w), -1);
    }
    free(back);
    free(copy);
    hr__wbuf_free(&out);
}

START_TEST(bitpack_every_width_and_length)
{
    static const size_t lengths[] = {
        0,  1,   2,   7,   8,   9,   15,  16,  17,   31,   63,   64,
        65, 100, 127, 128, 129, 255, 256, 257, 1000, 1023, 1024, 1031};
    const size_t maxn = 1031;
    uint64_t *v = malloc(maxn * sizeof *v);
    rng_seed(1);
    for (unsigned w = 0; w <= 64; w++) {
        const uint64_t mask = w == 64 ? UINT64_MAX : ((uint64_t)1 << w) - 1;
        for (size_t li = 0; li < sizeof lengths / sizeof *lengths; li++) {
            const size_t n = lengths[li];
            for (size_t i = 0; i < n; i++)
                v[i] = rng() & mask;
            check_bitpack(v, n, w, 1);
            for (size_t i = 0; i < n; i++)
                v[i] = mask; /* all ones: every bit of every slot */
            check_bitpack(v, n, w, 0);
        }
    }
    free(v);
}
END_TEST

START_TEST(bitpack_rejects_width_above_64)
{
    const uint8_t data[16] = {0};
    uint64_t out[1];
    hr__rbuf r;
    hr__rbuf_init(&r, data, sizeof data);
    ck_assert_int_eq(hr__bitpack_get(&r, out, 1, 65), -1);
    ck_assert_int_eq(hr__bitpack_get(&r, out, 1, 255), -1);
    ck_assert_uint_eq(hr__bit_width(0), 0);
    ck_assert_uint_eq(hr__bit_width(1), 1);
    ck_assert_uint_eq(hr__bit_width(UINT64_MAX), 64);
}
END_TEST

/* ---- int codec: schemes ---- */

START_TEST(int_scheme_ids_are_pinned)
{
    ck_assert_int_eq(HR__INT_PLAIN, 0);
    ck_assert_int_eq(HR__INT_CONST, 1);
    ck_assert_int_eq(HR__INT_FOR, 2);
    ck_assert_int_eq(HR__INT_DELTA, 3);
    ck_assert_int_eq(HR__INT_DOD, 4);
    ck_assert_int_eq(HR__INT_RLE, 5);
    ck_assert_int_eq(HR__FLOAT_PLAIN, 0);
    ck_assert_int_eq(HR__FLOAT_ALP, 1);
}
END_TEST

/* Round trip and return the scheme the encoder chose. */
static int chosen_scheme(const int64_t *v, size_t n, int depth, size_t *size)
{
    encoded e = int_roundtrip(v, n, depth);
    const int scheme = e.data[0];
    if (size)
        *size = e.len;
    free(e.data);
    return scheme;
}

START_TEST(int_each_scheme_round_trips)
{
    enum { N = 1000 };
    int64_t v[N];
    rng_seed(2);

    for (size_t i = 0; i < N; i++)
        v[i] = (int64_t)rng();
    ck_assert_int_eq(chosen_scheme(v, N, DEPTH, NULL), HR__INT_PLAIN);

    for (size_t i = 0; i < N; i++)
        v[i] = -123456789;
    ck_assert_int_eq(chosen_scheme(v, N, DEPTH, NULL), HR__INT_CONST);

    for (size_t i = 0; i < N; i++)
        v[i] = INT64_C(5000000000) + (int64_t)rng_below(1000);
    ck_assert_int_eq(chosen_scheme(v, N, DEPTH, NULL), HR__INT_FOR);

    for (size_t i = 0; i < N; i++)
        v[i] = (i ? v[i - 1] : 0) + 50 + (int64_t)rng_below(20);
    ck_assert_int_eq(chosen_scheme(v, N, DEPTH, NULL), HR__INT_DELTA);

    for (size_t i = 0; i < N; i++)
        v[i] = (int64_t)(i * i) - 77; /* constant second difference */
    ck_assert_int_eq(chosen_scheme(v, N, DEPTH, NULL), HR__INT_DOD);

    gen_runs(v, N, 40, 3);
    ck_assert_int_eq(chosen_scheme(v, N, DEPTH, NULL), HR__INT_RLE);
    /* The same data without cascading must not use RLE. */
    ck_assert_int_ne(chosen_scheme(v, N, 0, NULL), HR__INT_RLE);
}
END_TEST

START_TEST(int_edge_lengths_and_extremes)
{
    const int64_t extremes[] = {INT64_MIN,     INT64_MAX,    0, -1, 1,
                                INT64_MIN + 1, INT64_MAX - 1};
    const size_t ne = sizeof extremes / sizeof *extremes;
    for (int depth = -1; depth <= DEPTH; depth++) {
        /* n = 0: nothing to store beyond the scheme byte. */
        encoded e = int_roundtrip(NULL, 0, depth);
        ck_assert_uint_eq(e.len, 1);
        free(e.data);
        for (size_t i = 0; i < ne; i++)
            int_roundtrip_free(&extremes[i], 1, depth);
        for (size_t i = 0; i < ne; i++)
            for (size_t j = 0; j < ne; j++) {
                const int64_t pair[2] = {extremes[i], extremes[j]};
                int_roundtrip_free(pair, 2, depth);
                const int64_t three[3] = {extremes[i], extremes[j],
                                          extremes[i]};
                int_roundtrip_free(three, 3, depth);
            }
        /* Jumps across the whole range, deltas wrapping both ways. */
        int64_t jumps[64];
        for (size_t i = 0; i < 64; i++)
            jumps[i] = (i % 2) ? INT64_MAX : INT64_MIN;
        int_roundtrip_free(jumps, 64, depth);
        for (size_t i = 0; i < 64; i++)
            jumps[i] = extremes[(i * 5 + i / 3) % ne];
        int_roundtrip_free(jumps, 64, depth);
        /* Sequences running off the ends of the range. */
        for (size_t i = 0; i < 64; i++)
            jumps[i] = (int64_t)((uint64_t)INT64_MAX - 30 + i);
        int_roundtrip_free(jumps, 64, depth);
        for (size_t i = 0; i < 64; i++)
            jumps[i] = (int64_t)((uint64_t)INT64_MIN + 30 - i * 3);
        int_roundtrip_free(jumps, 64, depth);
    }
}
END_TEST

START_TEST(int_random_round_trips)
{
    int64_t *v = malloc(5000 * sizeof *v);
    rng_seed(3);
    for (unsigned trial = 0; trial < 2000; trial++) {
        const size_t n = trial < 200
                             ? trial
                             : 1 + (size_t)rng_below(trial % 10 ? 1100 : 5000);
        gen_any(v, n, trial);
        int_roundtrip_free(v, n, (int)(trial % 5) - 1);
    }
    free(v);
}
END_TEST

START_TEST(int_typical_data_compresses)
{
    enum { N = 1024 };
    int64_t v[N];
    const size_t raw = N * sizeof(int64_t);
    size_t size;

    gen_sequential(v, N, 1);
    int scheme = chosen_scheme(v, N, DEPTH, &size);
    ck_assert(scheme == HR__INT_DELTA || scheme == HR__INT_DOD);
    ck_assert_uint_le(size * 50, raw);

    gen_sequential(v, N, INT64_C(987654321012));
    chosen_scheme(v, N, DEPTH, &size);
    ck_assert_uint_le(size * 50, raw);

    gen_timestamps(v, N);
    scheme = chosen_scheme(v, N, DEPTH, &size);
    ck_assert(scheme == HR__INT_DELTA || scheme == HR__INT_DOD);
    ck_assert_uint_le(size * 50, raw);

    /* Sequential ids with a few gaps (deleted rows) still compress well. */
    rng_seed(4);
    for (size_t i = 0; i < N; i++)
        v[i] = (i ? v[i - 1] : 1000) + 1 + (rng_below(50) == 0);
    chosen_scheme(v, N, DEPTH, &size);
    ck_assert_uint_le(size * 30, raw);

    for (size_t i = 0; i < N; i++)
        v[i] = 7;
    ck_assert_int_eq(chosen_scheme(v, N, DEPTH, &size), HR__INT_CONST);
    ck_assert_uint_le(size, 2);

    /* A low-cardinality status column sorted in runs. */
    gen_runs(v, N, 100, 4);
    ck_assert_int_eq(chosen_scheme(v, N, DEPTH, &size), HR__INT_RLE);
    ck_assert_uint_le(size * 20, raw);
}
END_TEST

/* RLE run lengths that are themselves runs cascade one level deeper. */
START_TEST(int_rle_cascades)
{
    enum { N = 4096 };
    int64_t v[N];
    for (size_t i = 0; i < N; i++)
        v[i] = (int64_t)(i / 16) % 3; /* runs of 16: lengths CONST */
    size_t size;
    ck_assert_int_eq(chosen_scheme(v, N, DEPTH, &size), HR__INT_RLE);
    ck_assert_uint_le(size, 80);
    for (int depth = 0; depth <= DEPTH; depth++)
        int_roundtrip_free(v, N, depth);
}
END_TEST

/* ---- int codec: hostile input ---- */

/* Every strict prefix of a valid encoding is corrupt. */
static void check_int_truncations(const int64_t *v, size_t n, int depth)
{
    encoded e = int_roundtrip(v, n, depth);
    int64_t *back = malloc((n ? n : 1) * sizeof *back);
    size_t len = 0;
    while (len < e.len &&
           decode_ints(&e, len, back, n, depth, NULL) == HR_ECORRUPT)
        len++;
    ck_assert_msg(len == e.len, "prefix %zu of %zu (scheme %u) decoded", len,
                  e.len, e.data[0]);
    free(back);
    free(e.data);
}

START_TEST(int_every_truncation_is_corrupt)
{
    int64_t *v = malloc(1500 * sizeof *v);
    rng_seed(5);
    for (unsigned kind = 0; kind < 9; kind++) {
        for (size_t n = 1; n <= 40; n += 13) {
            gen_any(v, n, kind);
            check_int_truncations(v, n, DEPTH);
        }
        gen_any(v, 1500, kind);
        check_int_truncations(v, 1500, DEPTH);
    }
    gen_runs(v, 1500, 30, 5);
    check_int_truncations(v, 1500, DEPTH);
    for (size_t i = 0; i < 1500; i++)
        v[i] = (int64_t)(i / 16) % 3;
    check_int_truncations(v, 1500, DEPTH);
    free(v);
}
END_TEST

START_TEST(int_rejects_inconsistent_input)
{
    int64_t out[8];
    /* Unknown scheme. */
    encoded bad = {(uint8_t[]){9, 0, 0}, 3};
    ck_assert_int_eq(decode_ints(&bad, 3, out, 1, DEPTH, NULL), HR_ECORRUPT);
    /* FOR with width 65. */
    bad = (encoded){(uint8_t[]){HR__INT_FOR, 0, 65, 0}, 4};
    ck_assert_int_eq(decode_ints(&bad, 4, out, 0, DEPTH, NULL), HR_ECORRUPT);
    /* DELTA needs 2 values, DOD 3, CONST 1. */
    bad = (encoded){(uint8_t[]){HR__INT_DELTA, 0, 0, 0}, 4};
    ck_assert_int_eq(decode_ints(&bad, 4, out, 1, DEPTH, NULL), HR_ECORRUPT);
    bad = (encoded){(uint8_t[]){HR__INT_DOD, 0, 0, 0, 0}, 5};
    ck_assert_int_eq(decode_ints(&bad, 5, out, 2, DEPTH, NULL), HR_ECORRUPT);
    bad = (encoded){(uint8_t[]){HR__INT_CONST, 0}, 2};
    ck_assert_int_eq(decode_ints(&bad, 2, out, 0, DEPTH, NULL), HR_ECORRUPT);
    /* RLE: 2 runs of CONST 5 and lengths CONST 3: sum 6 != 4. */
    bad = (encoded){
        (uint8_t[]){HR__INT_RLE, 2, HR__INT_CONST, 10, HR__INT_CONST, 6}, 6};
    ck_assert_int_eq(decode_ints(&bad, 6, out, 4, DEPTH, NULL), HR_ECORRUPT);
    /* ... sum 6 == 6 decodes. */
    ck_assert_int_eq(decode_ints(&bad, 6, out, 6, DEPTH, NULL), HR_OK);
    ck_assert_int_eq(out[0], 5);
    ck_assert_int_eq(out[5], 5);
    /* ... but not when cascading is exhausted. */
    ck_assert_int_eq(decode_ints(&bad, 6, out, 6, 0, NULL), HR_ECORRUPT);
    /* RLE: zero-length run; more runs than values; zero runs. */
    bad = (encoded){
        (uint8_t[]){HR__INT_RLE, 2, HR__INT_CONST, 10, HR__INT_CONST, 0}, 6};
    ck_assert_int_eq(decode_ints(&bad, 6, out, 0, DEPTH, NULL), HR_ECORRUPT);
    bad = (encoded){
        (uint8_t[]){HR__INT_RLE, 3, HR__INT_CONST, 10, HR__INT_CONST, 2}, 6};
    ck_assert_int_eq(decode_ints(&bad, 6, out, 2, DEPTH, NULL), HR_ECORRUPT);
    bad = (encoded){(uint8_t[]){HR__INT_RLE, 0}, 2};
    ck_assert_int_eq(decode_ints(&bad, 2, out, 2, DEPTH, NULL), HR_ECORRUPT);
    /* A run length that overflows when added up. */
    bad = (encoded){(uint8_t[]){HR__INT_RLE,
                                2,
                                HR__INT_CONST,
                                10,
                                HR__INT_PLAIN,
                                1,
                                0,
                                0,
                                0,
                                0,
                                0,
                                0,
                                0,
                                0xff,
                                0xff,
                                0xff,
                                0xff,
                                0xff,
                                0xff,
                                0xff,
                                0xff},
                    21};
    ck_assert_int_eq(decode_ints(&bad, 21, out, 8, DEPTH, NULL), HR_ECORRUPT);
    /* A nonzero padding bit in a FOR block. */
    bad = (encoded){(uint8_t[]){HR__INT_FOR, 0, 3, 0xff}, 4};
    ck_assert_int_eq(decode_ints(&bad, 4, out, 2, DEPTH, NULL), HR_ECORRUPT);
    bad = (encoded){(uint8_t[]){HR__INT_FOR, 0, 3, 0x3f}, 4};
    ck_assert_int_eq(decode_ints(&bad, 4, out, 2, DEPTH, NULL), HR_OK);
    ck_assert_int_eq(out[1], 7);
    /* Overlong varint. */
    bad = (encoded){(uint8_t[]){HR__INT_CONST, 0xff, 0xff, 0xff, 0xff, 0xff,
                                0xff, 0xff, 0xff, 0xff, 0x7f},
                    11};
    ck_assert_int_eq(decode_ints(&bad, 11, out, 1, DEPTH, NULL), HR_ECORRUPT);
}
END_TEST

/* Flip, overwrite, insert or drop bytes: decoding must stay in bounds (the
 * sanitizer build checks) and report OK or ECORRUPT. */
static void mutate(uint8_t *buf, size_t *len, size_t cap)
{
    const unsigned op = (unsigned)rng_below(4);
    if (*len == 0 || op == 2) {
        if (*len < cap) {
            const size_t at = (size_t)rng_below(*len + 1);
            memmove(buf + at + 1, buf + at, *len - at);
            buf[at] = (uint8_t)rng();
            (*len)++;
        }
        return;
    }
    const size_t at = (size_t)rng_below(*len);
    if (op == 0)
        buf[at] ^= (uint8_t)(1u << rng_below(8));
    else if (op == 1)
        buf[at] = (uint8_t)rng();
    else {
        memmove(buf + at, buf + at + 1, *len - at - 1);
        (*len)--;
    }
}

START_TEST(int_random_corruption_is_safe)
{
    enum { MAXN = 600 };
    int64_t v[MAXN], back[MAXN];
    rng_seed(6);
    for (unsigned trial = 0; trial < 3000; trial++) {
        const size_t n = 1 + (size_t)rng_below(MAXN);
        gen_any(v, n, trial);
        hr__wbuf w;
        hr__wbuf_init(&w, env);
        hr__int_encode(&w, v, n, DEPTH);
        const size_t cap = w.len + 8;
        uint8_t *buf = malloc(cap);
        memcpy(buf, w.data, w.len);
        size_t len = w.len;
        hr__wbuf_free(&w);
        const unsigned edits = 1 + (unsigned)rng_below(4);
        for (unsigned k = 0; k < edits; k++)
            mutate(buf, &len, cap);
        encoded e = {buf, len};
        const int rc = decode_ints(&e, len, back, n, DEPTH, NULL);
        free(buf);
        if (rc != HR_OK && rc != HR_ECORRUPT)
            ck_abort_msg("trial %u: decode returned %d", trial, rc);
    }
    /* Pure noise with any count. */
    for (unsigned trial = 0; trial < 3000; trial++) {
        uint8_t noise[64];
        const size_t len = (size_t)rng_below(sizeof noise + 1);
        for (size_t i = 0; i < len; i++)
            noise[i] = (uint8_t)rng();
        if (len)
            noise[0] %= 7; /* mostly valid scheme ids */
        encoded e = {noise, len};
        const int rc = decode_ints(&e, len, back, (size_t)rng_below(MAXN),
                                   (int)rng_below(4), NULL);
        if (rc != HR_OK && rc != HR_ECORRUPT)
            ck_abort_msg("noise trial %u: decode returned %d", trial, rc);
    }
}
END_TEST

/* ---- float codec ---- */

static const uint64_t special64[] = {
    0x0000000000000000u, /* +0.0 */
    0x8000000000000000u, /* -0.0 */
    0x7ff0000000000000u, /* +inf */
    0xfff0000000000000u, /* -inf */
    0x7ff8000000000000u, /* quiet NaN */
    0xfff8000000000123u, /* negative quiet NaN with payload */
    0x7ff0000000000001u, /* signalling NaN */
    0x7ff4000000abcdefu, /* signalling NaN with payload */
    0x0000000000000001u, /* smallest denormal */
    0x000fffffffffffffu, /* largest denormal */
    0x8000000000000001u, /* negative denormal */
    0x0010000000000000u, /* DBL_MIN */
    0x7fefffffffffffffu, /* DBL_MAX */
    0xffefffffffffffffu, /* -DBL_MAX */
    0x3fb999999999999au, /* 0.1 */
    0x3fd3333333333334u, /* 0.1 + 0.2 */
    0x43e0000000000000u, /* 2^63 */
    0xc3e0000000000000u, /* -2^63 */
    0x4340000000000001u, /* 2^53 + 2 */
};

static const uint32_t special32[] = {
    0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u,
    0xffc00123u, 0x7f800001u, 0x7fa0abcdu, 0x00000001u, 0x007fffffu,
    0x80000001u, 0x00800000u, 0x7f7fffffu, 0xff7fffffu, 0x3dcccccdu,
    0x5f000000u, 0xdf000000u, 0x4b800001u,
};

START_TEST(float_special_values_round_trip)
{
    enum { N = 300 };
    const size_t ns64 = sizeof special64 / sizeof *special64;
    const size_t ns32 = sizeof special32 / sizeof *special32;
    double d[N];
    float f[N];
    rng_seed(7);
    for (int depth = 0; depth <= DEPTH; depth++) {
        /* Only specials: PLAIN. */
        for (size_t i = 0; i < ns64; i++)
            d[i] = bits_to_f64(special64[i]);
        free(f64_roundtrip(d, ns64, depth).data);
        for (size_t i = 0; i < ns32; i++)
            f[i] = bits_to_f32(special32[i]);
        free(f32_roundtrip(f, ns32, depth).data);
        /* Specials as exceptions among decimals: ALP, bit-exact. */
        gen_prices(d, N);
        for (size_t i = 0; i < N; i++)
            f[i] = (float)((int64_t)rng_below(100000)) / 100.0f;
        for (size_t i = 0; i < ns64; i++)
            d[(i * 37 + 3) % N] = bits_to_f64(special64[i]);
        for (size_t i = 0; i < ns32; i++)
            f[(i * 37 + 3) % N] = bits_to_f32(special32[i]);
        d[0] = bits_to_f64(special64[5]); /* leading exceptions */
        d[1] = bits_to_f64(special64[1]);
        d[N - 1] = bits_to_f64(special64[7]); /* and trailing */
        encoded e = f64_roundtrip(d, N, depth);
        ck_assert_int_eq(e.data[0],
                         (depth >= 1 ? HR__FLOAT_ALP : HR__FLOAT_PLAIN));
        free(e.data);
        e = f32_roundtrip(f, N, depth);
        ck_assert_int_eq(e.data[0],
                         (depth >= 1 ? HR__FLOAT_ALP : HR__FLOAT_PLAIN));
        free(e.data);
        /* One value at a time, and n = 0. */
        for (size_t i = 0; i < ns64; i++)
            free(f64_roundtrip(&d[(i * 37 + 3) % N], 1, depth).data);
        for (size_t i = 0; i < ns32; i++)
            free(f32_roundtrip(&f[(i * 37 + 3) % N], 1, depth).data);
        free(f64_roundtrip(NULL, 0, depth).data);
        free(f32_roundtrip(NULL, 0, depth).data);
    }
}
END_TEST

START_TEST(float_decimal_series_compress)
{
    enum { N = 1024 };
    double d[N];
    float f[N];
    rng_seed(8);
    gen_prices(d, N);
    encoded e = f64_roundtrip(d, N, DEPTH);
    ck_assert_int_eq(e.data[0], HR__FLOAT_ALP);
    ck_assert_msg(e.len * 6 <= sizeof d, "prices: %zu bytes", e.len);
    free(e.data);

    /* 1 decimal sensor readings; integers with trailing zeros. */
    for (size_t i = 0; i < N; i++)
        d[i] = (double)(200 + (int64_t)rng_below(100)) / 10.0;
    e = f64_roundtrip(d, N, DEPTH);
    ck_assert_int_eq(e.data[0], HR__FLOAT_ALP);
    ck_assert_uint_le(e.len * 6, sizeof d);
    free(e.data);
    for (size_t i = 0; i < N; i++)
        d[i] = (double)(1000 * (int64_t)rng_below(500)) * 1e6;
    e = f64_roundtrip(d, N, DEPTH);
    ck_assert_int_eq(e.data[0], HR__FLOAT_ALP);
    ck_assert_uint_le(e.len * 6, sizeof d);
    free(e.data);

    /* float4 prices. */
    int64_t cents = 5000;
    for (size_t i = 0; i < N; i++) {
        cents += (int64_t)rng_below(41) - 20;
        f[i] = (float)cents / 100.0f;
    }
    e = f32_roundtrip(f, N, DEPTH);
    ck_assert_int_eq(e.data[0], HR__FLOAT_ALP);
    ck_assert_uint_le(e.len * 3, sizeof f);
    free(e.data);
}
END_TEST

START_TEST(float_random_round_trips)
{
    enum { MAXN = 1500 };
    static const double pow10[8] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7};
    double *d = malloc(MAXN * sizeof *d);
    float *f = malloc(MAXN * sizeof *f);
    rng_seed(9);
    for (unsigned trial = 0; trial < 600; trial++) {
        const size_t n = 1 + (size_t)rng_below(MAXN);
        const unsigned kind = trial % 5;
        for (size_t i = 0; i < n; i++) {
            const uint64_t r = rng();
            switch (kind) {
            case 0: /* any bit pattern */
                d[i] = bits_to_f64(r);
                f[i] = bits_to_f32((uint32_t)r);
                break;
            case 1: /* real doubles */
                d[i] = (double)(r >> 11) * 0x1p-53;
                f[i] = (float)d[i];
                break;
            case 2: /* decimals with a random number of digits */
                d[i] = (double)(int64_t)(r % 1000000) / pow10[trial % 8];
                f[i] = (float)(int64_t)(r % 100000) / (float)pow10[trial % 5];
                break;
            case 3: /* mostly decimals, some specials */
                d[i] = rng_below(10) ? (double)(r % 10000) / 100.0
                                     : bits_to_f64(special64[r % 19]);
                f[i] = rng_below(10) ? (float)(r % 10000) / 100.0f
                                     : bits_to_f32(special32[r % 18]);
                break;
            default: /* large magnitudes: digits near the int64 limits */
                d[i] = (double)(int64_t)(r >> 1) * (rng_below(2) ? 1 : -1);
                f[i] = (float)d[i];
                break;
            }
        }
        const int depth = (int)(trial % 4);
        free(f64_roundtrip(d, n, depth).data);
        free(f32_roundtrip(f, n, depth).data);
    }
    free(d);
    free(f);
}
END_TEST

START_TEST(float_hostile_input)
{
    enum { N = 400 };
    double d[N], back[N];
    float f[N], fback[N];
    rng_seed(10);
    gen_prices(d, N);
    for (size_t i = 0; i < N; i += 17)
        d[i] = bits_to_f64(special64[i % 19]);
    for (size_t i = 0; i < N; i++)
        f[i] = (i % 23) ? (float)(int64_t)rng_below(10000) / 10.0f
                        : bits_to_f32(special32[i % 18]);
    encoded e64 = f64_roundtrip(d, N, DEPTH);
    encoded e32 = f32_roundtrip(f, N, DEPTH);
    ck_assert_int_eq(e64.data[0], HR__FLOAT_ALP);
    ck_assert_int_eq(e32.data[0], HR__FLOAT_ALP);
    size_t prefix = 0;
    while (prefix < e64.len &&
           decode_f64(&e64, prefix, back, N, DEPTH, NULL) == HR_ECORRUPT)
        prefix++;
    ck_assert_uint_eq(prefix, e64.len);
    prefix = 0;
    while (prefix < e32.len &&
           decode_f32(&e32, prefix, fback, N, DEPTH, NULL) == HR_ECORRUPT)
        prefix++;
    ck_assert_uint_eq(prefix, e32.len);
    /* Depth exhausted, exponent out of range, exception out of range. */
    ck_assert_int_eq(decode_f64(&e64, e64.len, back, N, 0, NULL), HR_ECORRUPT);
    encoded bad = {(uint8_t[]){HR__FLOAT_ALP, 19, 0, 0, HR__INT_CONST, 2}, 6};
    ck_assert_int_eq(decode_f64(&bad, 6, back, 3, DEPTH, NULL), HR_ECORRUPT);
    bad.data[1] = 11;
    ck_assert_int_eq(decode_f32(&bad, 6, fback, 3, DEPTH, NULL), HR_ECORRUPT);
    bad.data[1] = 2;
    ck_assert_int_eq(decode_f64(&bad, 6, back, 3, DEPTH, NULL), HR_OK);
    ck_assert(back[2] == 0.01);
    encoded exc = {(uint8_t[]){HR__FLOAT_ALP,
                               0,
                               0,
                               2,
                               HR__INT_CONST,
                               2,
                               1,
                               0,
                               0,
                               0,
                               0,
                               0,
                               0,
                               0xf0,
                               0x7f,
                               0,
                               0,
                               0,
                               0,
                               0,
                               0,
                               0,
                               0xf0,
                               0x7f},
                   24};
    /* positions 1 and 2 of n = 3: fine; of n = 2: the second is past n. */
    ck_assert_int_eq(decode_f64(&exc, 24, back, 3, DEPTH, NULL), HR_OK);
    ck_assert(back[0] == 1.0 && isinf(back[1]) && isinf(back[2]));
    ck_assert_int_eq(decode_f64(&exc, 24, back, 2, DEPTH, NULL), HR_ECORRUPT);
    exc.data[3] = 4; /* more exceptions than values */
    ck_assert_int_eq(decode_f64(&exc, 24, back, 3, DEPTH, NULL), HR_ECORRUPT);

    for (unsigned trial = 0; trial < 2000; trial++) {
        const encoded *src = trial % 2 ? &e64 : &e32;
        const size_t cap = src->len + 8;
        uint8_t *buf = malloc(cap);
        memcpy(buf, src->data, src->len);
        size_t len = src->len;
        const unsigned edits = 1 + (unsigned)rng_below(3);
        for (unsigned k = 0; k < edits; k++)
            mutate(buf, &len, cap);
        encoded m = {buf, len};
        const int rc = trial % 2 ? decode_f64(&m, len, back, N, DEPTH, NULL)
                                 : decode_f32(&m, len, fback, N, DEPTH, NULL);
        free(buf);
        if (rc != HR_OK && rc != HR_ECORRUPT)
            ck_abort_msg("trial %u: decode returned %d", trial, rc);
    }
    free(e64.data);
    free(e32.data);
}
END_TEST

/* ---- allocation failure ---- */

typedef struct sweep_state {
    const encoded *enc;
    size_t n;
    int kind; /* 0 int decode, 1 f64 decode, 2 f32 decode, 3 int encode,
               * 4 f64 encode */
    const void *values;
    void *out;
} sweep_state;

static int sweep_op(hr_env *e, void *arg)
{
    sweep_state *s = arg;
    hr__rbuf r;
    if (s->kind <= 2) {
        hr__rbuf_init(&r, s->enc->data, s->enc->len);
        if (s->kind == 0)
            return hr__int_decode(&r, s->out, s->n, DEPTH, e);
        if (s->kind == 1)
            return hr__f64_decode(&r, s->out, s->n, DEPTH, e);
        return hr__f32_decode(&r, s->out, s->n, DEPTH, e);
    }
    hr__wbuf w;
    hr__wbuf_init(&w, e);
    if (s->kind == 3)
        hr__int_encode(&w, s->values, s->n, DEPTH);
    else
        hr__f64_encode(&w, s->values, s->n, DEPTH);
    const int rc = w.failed ? HR_ENOMEM : HR_OK;
    hr__wbuf_free(&w);
    return rc;
}

static long sweep(sweep_state *s)
{
    char why[160] = "";
    const long points =
        failing_allocator_sweep(sweep_op, NULL, s, why, sizeof why);
    ck_assert_msg(points >= 0, "kind %d: %s", s->kind, why);
    return points;
}

START_TEST(decoders_and_encoders_report_enomem)
{
    enum { N = 2048 };
    int64_t v[N], back[N];
    double d[N], dback[N];
    float f[N], fback[N];
    rng_seed(11);

    /* Nested RLE: runs whose lengths are themselves runs. */
    for (size_t i = 0; i < N; i++)
        v[i] = (int64_t)((i / 8) % 5 + (i / 512) * 100);
    encoded ei = int_roundtrip(v, N, DEPTH);
    ck_assert_int_eq(ei.data[0], HR__INT_RLE);
    sweep_state s = {&ei, N, 0, NULL, back};
    ck_assert_int_ge(sweep(&s), 1);

    /* ALP whose digits are runs (RLE inside ALP). */
    for (size_t i = 0; i < N; i++)
        d[i] = (double)((int64_t)(i / 32) % 7) / 4.0;
    d[5] = -0.0;
    encoded ed = f64_roundtrip(d, N, DEPTH);
    ck_assert_int_eq(ed.data[0], HR__FLOAT_ALP);
    s = (sweep_state){&ed, N, 1, NULL, dback};
    ck_assert_int_ge(sweep(&s), 2);

    for (size_t i = 0; i < N; i++)
        f[i] = (float)(int64_t)rng_below(1000) / 8.0f;
    encoded ef = f32_roundtrip(f, N, DEPTH);
    ck_assert_int_eq(ef.data[0], HR__FLOAT_ALP);
    s = (sweep_state){&ef, N, 2, NULL, fback};
    ck_assert_int_ge(sweep(&s), 1);

    s = (sweep_state){NULL, N, 3, v, NULL};
    ck_assert_int_ge(sweep(&s), 2);
    s = (sweep_state){NULL, N, 4, d, NULL};
    ck_assert_int_ge(sweep(&s), 3);

    free(ei.data);
    free(ed.data);
    free(ef.data);
}
END_TEST

static Suite *codec_ints_suite(void)
{
    Suite *s = suite_create("codec_ints");
    TCase *tc = tcase_create("codec_ints");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, bitpack_every_width_and_length);
    tcase_add_test(tc, bitpack_rejects_width_above_64);
    tcase_add_test(tc, int_scheme_ids_are_pinned);
    tcase_add_test(tc, int_each_scheme_round_trips);
    tcase_add_test(tc, int_edge_lengths_and_extremes);
    tcase_add_test(tc, int_random_round_trips);
    tcase_add_test(tc, int_typical_data_compresses);
    tcase_add_test(tc, int_rle_cascades);
    tcase_add_test(tc, int_every_truncation_is_corrupt);
    tcase_add_test(tc, int_rejects_inconsistent_input);
    tcase_add_test(tc, int_random_corruption_is_safe);
    tcase_add_test(tc, float_special_values_round_trip);
    tcase_add_test(tc, float_decimal_series_compress);
    tcase_add_test(tc, float_random_round_trips);
    tcase_add_test(tc, float_hostile_input);
    tcase_add_test(tc, decoders_and_encoders_report_enomem);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(codec_ints_suite());
}
