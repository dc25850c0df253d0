/*
 * fuzz_intcodec.c - libFuzzer target for the int64 and float codecs
 * (lib/codec/intcodec.c, floatcodec.c, bitpack.c).
 *
 * Input: u16 n (little-endian, taken modulo 4097), one mode byte, then the
 * payload. Mode bits 0-1 are the cascade depth (0..3); bits 2-4 pick:
 *
 *   0 int decode   1 f64 decode   2 f32 decode        payload = an encoding
 *   3 int encode   4 f64 encode   5 f32 encode        payload = values
 *   6 bitpack get (width = first payload byte)        payload = a stream
 *   7 same as 0
 *
 * Decoding must return HR_OK or HR_ECORRUPT and stay in bounds (the
 * sanitizers check); when it succeeds, the values must survive an
 * encode/decode round trip. Encoding must round-trip its values bit for bit.
 * Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <heliosrepl/heliosrepl.h>

#include "codec/bitpack.h"
#include "codec/bytebuf.h"
#include "codec/floatcodec.h"
#include "codec/intcodec.h"

#define MAX_N 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static hr_env *fuzz_env(void)
{
    static hr_env *env;
    if (!env && hr_env_new(&env, NULL) != HR_OK)
        abort();
    return env;
}

static void check_rc(int rc)
{
    if (rc != HR_OK && rc != HR_ECORRUPT)
        abort();
}

/* Encode v[0..n) with `encode`, decode it with `decode`, demand equal bytes
 * (bits, for floats) and a fully consumed encoding. */
typedef void (*encode_fn)(hr__wbuf *out, const void *v, size_t n, int depth);
typedef int (*decode_fn)(hr__rbuf *in, void *v, size_t n, int depth,
                         const hr_env *env);

static void enc_int(hr__wbuf *out, const void *v, size_t n, int depth)
{
    hr__int_encode(out, v, n, depth);
}

static void enc_f64(hr__wbuf *out, const void *v, size_t n, int depth)
{
    hr__f64_encode(out, v, n, depth);
}

static void enc_f32(hr__wbuf *out, const void *v, size_t n, int depth)
{
    hr__f32_encode(out, v, n, depth);
}

static int dec_int(hr__rbuf *in, void *v, size_t n, int depth,
                   const hr_env *env)
{
    return hr__int_decode(in, v, n, depth, env);
}

static int dec_f64(hr__rbuf *in, void *v, size_t n, int depth,
                   const hr_env *env)
{
    return hr__f64_decode(in, v, n, depth, env);
}

static int dec_f32(hr__rbuf *in, void *v, size_t n, int depth,
                   const hr_env *env)
{
    return hr__f32_decode(in, v, n, depth, env);
}

static void round_trip(encode_fn encode, decode_fn decode, const void *v,
                       size_t n, size_t width, int depth)
{
    hr_env *env = fuzz_env();
    hr__wbuf w;
    hr__wbuf_init(&w, env);
    encode(&w, v, n, depth);
    if (w.failed)
        abort();
    /* An exact-size copy, so ASan sees any read past the encoding. */
    uint8_t *copy = malloc(w.len ? w.len : 1);
    uint8_t *back = malloc(n ? n * width : 1);
    if (!copy || !back)
        abort();
    if (w.len)
        memcpy(copy, w.data, w.len);
    hr__rbuf r;
    hr__rbuf_init(&r, copy, w.len);
    if (decode(&r, back, n, depth, env) != HR_OK || r.pos != w.len)
        abort();
    if (n && memcmp(back, v, n * width) != 0)
        abort();
    free(back);
    free(copy);
    hr__wbuf_free(&w);
}

/* Decode hostile bytes; on success, the result must round-trip. */
static void decode_input(encode_fn encode, decode_fn decode, size_t width,
                         const uint8_t *p, size_t len, size_t n, int depth)
{
    void *v = malloc(n ? n * width : 1);
    if (!v)
        abort();
    hr__rbuf r;
    hr__rbuf_init(&r, p, len);
    const int rc = decode(&r, v, n, depth, fuzz_env());
    check_rc(rc);
    if (rc == HR_OK)
        round_trip(encode, decode, v, n, width, depth);
    free(v);
}

/*
 * Values for the encoder from raw bytes. The shape byte picks how: raw
 * 8-byte values, or 1-byte steps of a running sum (sorted-ish ids and
 * timestamps), or 1-byte values (runs, low cardinality), or 2-byte values
 * scaled as decimals (floats).
 */
static size_t make_ints(const uint8_t *p, size_t len, int64_t *v, size_t n)
{
    if (len == 0)
        return 0;
    const unsigned shape = p[0] % 3;
    p++, len--;
    size_t count = shape == 0 ? len / 8 : len;
    count = count < n ? count : n;
    uint64_t acc = 0;
    for (size_t i = 0; i < count; i++) {
        if (shape == 0) {
            uint64_t x;
            memcpy(&x, p + 8 * i, 8);
            v[i] = (int64_t)x;
        } else if (shape == 1) {
            acc += (uint64_t)(int64_t)(int8_t)p[i] + 1000000;
            v[i] = (int64_t)acc;
        } else {
            v[i] = (int64_t)(p[i] % 8) * 1000;
        }
    }
    return count;
}

static size_t make_f64(const uint8_t *p, size_t len, double *v, size_t n)
{
    if (len == 0)
        return 0;
    const unsigned shape = p[0] % 2;
    p++, len--;
    size_t count = shape == 0 ? len / 8 : len / 2;
    count = count < n ? count : n;
    for (size_t i = 0; i < count; i++) {
        if (shape == 0) {
            memcpy(&v[i], p + 8 * i, 8);
        } else {
            const int16_t d = (int16_t)(p[2 * i] | p[2 * i + 1] << 8);
            v[i] = (double)d / 100.0;
        }
    }
    return count;
}

static size_t make_f32(const uint8_t *p, size_t len, float *v, size_t n)
{
    if (len == 0)
        return 0;
    const unsigned shape = p[0] % 2;
    p++, len--;
    size_t count = shape == 0 ? len / 4 : len / 2;
    count = count < n ? count : n;
    for (size_t i = 0; i < count; i++) {
        if (shape == 0) {
            memcpy(&v[i], p + 4 * i, 4);
        } else {
            const int16_t d = (int16_t)(p[2 * i] | p[2 * i + 1] << 8);
            v[i] = (float)d / 10.0f;
        }
    }
    return count;
}

static void bitpack_input(const uint8_t *p, size_t len, size_t n)
{
    if (len == 0)
        return;
    const unsigned w = p[0];
    uint64_t *v = malloc(n ? n * sizeof *v : 1);
    if (!v)
        abort();
    hr__rbuf r;
    hr__rbuf_init(&r, p + 1, len - 1);
    if (hr__bitpack_get(&r, v, n, w) == 0) {
        /* Accepted streams are canonical: repacking gives the same bytes. */
        hr__wbuf out;
        hr__wbuf_init(&out, fuzz_env());
        hr__bitpack_put(&out, v, n, w);
        if (out.failed || out.len != r.pos ||
            (out.len && memcmp(out.data, p + 1, out.len) != 0))
            abort();
        hr__wbuf_free(&out);
    } else if (r.pos != 0) {
        abort();
    }
    free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int64_t ints[MAX_N];
    static double f64s[MAX_N];
    static float f32s[MAX_N];
    if (size < 3)
        return 0;
    const size_t n = (size_t)(data[0] | data[1] << 8) % (MAX_N + 1);
    const int depth = data[2] & 3;
    const unsigned op = (data[2] >> 2) & 7;
    const uint8_t *p = data + 3;
    const size_t len = size - 3;
    size_t count;
    switch (op) {
    case 1:
        decode_input(enc_f64, dec_f64, sizeof(double), p, len, n, depth);
        break;
    case 2:
        decode_input(enc_f32, dec_f32, sizeof(float), p, len, n, depth);
        break;
    case 3:
        count = make_ints(p, len, ints, n);
        round_trip(enc_int, dec_int, ints, count, sizeof *ints, depth);
        break;
    case 4:
        count = make_f64(p, len, f64s, n);
        round_trip(enc_f64, dec_f64, f64s, count, sizeof *f64s, depth);
        break;
    case 5:
        count = make_f32(p, len, f32s, n);
        round_trip(enc_f32, dec_f32, f32s, count, sizeof *f32s, depth);
        break;
    case 6:
        bitpack_input(p, len, n);
        break;
    default:
        decode_input(enc_int, dec_int, sizeof(int64_t), p, len, n, depth);
        break;
    }
    return 0;
}
