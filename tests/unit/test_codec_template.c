/*
 * test_codec_template.c - the TEMPLATE string scheme (lib/codec/strtpl.c):
 * exact round trips of hostile text, the column kinds, when the encoder
 * picks it, and the decoder's checks on hand-made payloads. (The shapes of
 * test_codec_strings.c cover truncation, corruption, max_bytes and
 * allocation failures of real TEMPLATE encodings.)
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include <heliosrepl/heliosrepl.h>

#include "check_main.h"
#include "codec/intcodec.h"
#include "codec/strcodec.h"
#include "codec/strtpl.h"
#include "core/core_internal.h"

/* ------------------------------------------------------------------------ */
/* Columns and helpers                                                       */
/* ------------------------------------------------------------------------ */

static uint64_t rng;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static unsigned rndn(unsigned n)
{
    return (unsigned)(rnd() % n);
}

typedef struct col {
    uint8_t *heap;
    uint32_t *off;
    size_t n, len, cap, ncap;
} col;

static void col_init(col *c)
{
    memset(c, 0, sizeof *c);
    c->cap = 4096;
    c->heap = malloc(c->cap);
    c->ncap = 1024;
    c->off = malloc((c->ncap + 1) * sizeof *c->off);
    c->off[0] = 0;
}

static void col_add(col *c, const void *p, size_t len)
{
    while (c->len + len > c->cap)
        c->heap = realloc(c->heap, c->cap *= 2);
    if (c->n + 1 > c->ncap) {
        c->ncap *= 2;
        c->off = realloc(c->off, (c->ncap + 1) * sizeof *c->off);
    }
    if (len)
        memcpy(c->heap + c->len, p, len);
    c->len += len;
    c->off[++c->n] = (uint32_t)c->len;
}

static void col_adds(col *c, const char *s)
{
    col_add(c, s, strlen(s));
}

static void col_free(col *c)
{
    free(c->heap);
    free(c->off);
}

static hr_env *env;
static ZSTD_CCtx *cctx;
static ZSTD_DCtx *dctx;

static void setup(void)
{
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
    cctx = ZSTD_createCCtx();
    dctx = ZSTD_createDCtx();
}

static void teardown(void)
{
    ZSTD_freeCCtx(cctx);
    ZSTD_freeDCtx(dctx);
    hr_env_free(env);
}

static hr__str_opts opts_zstd(void)
{
    hr__str_opts o = {3, 0, NULL, cctx};
    return o;
}

/* Decode w as n strings with max_bytes; on HR_OK compare with c. */
static int decode_check(const uint8_t *data, size_t len, size_t n,
                        size_t max_bytes, const col *c)
{
    hr__rbuf in;
    hr__rbuf_init(&in, data, len);
    hr__wbuf heap;
    hr__wbuf_init(&heap, env);
    uint32_t *offsets = malloc((n + 1) * sizeof *offsets);
    hr__str_dec dec = {dctx, NULL, NULL, max_bytes};
    const int rc = hr__str_decode(&in, n, offsets, &heap, &dec, env);
    if (rc == HR_OK) {
        ck_assert_uint_eq(offsets[0], 0);
        ck_assert_uint_eq(offsets[n], heap.len);
        if (c) {
            ck_assert_uint_eq(in.pos, len);
            ck_assert_uint_eq(heap.len, c->len);
            for (size_t i = 0; i < n; i++) {
                const uint32_t l = c->off[i + 1] - c->off[i];
                ck_assert_uint_eq(offsets[i + 1] - offsets[i], l);
                if (l)
                    ck_assert_msg(memcmp(heap.data + offsets[i],
                                         c->heap + c->off[i], l) == 0,
                                  "row %zu: %.*s", i, (int)l,
                                  c->heap + c->off[i]);
            }
        }
    } else {
        ck_assert_uint_eq(heap.len, 0);
    }
    free(offsets);
    hr__wbuf_free(&heap);
    return rc;
}

/* TEMPLATE forced (hr__tpl_encode), decoded and compared; its size. */
static size_t forced_roundtrip(const col *c)
{
    hr__str_opts o = opts_zstd();
    hr__wbuf out;
    hr__wbuf_init(&out, env);
    ck_assert_int_eq(hr__tpl_encode(&out, c->heap, c->off, c->n, &o, 2,
                                    HR__TPL_MAX_TEMPLATES),
                     1);
    ck_assert_int_eq(out.failed, 0);
    ck_assert_int_eq(out.data[0], HR__STR_TEMPLATE);
    ck_assert_int_eq(decode_check(out.data, out.len, c->n, c->len, c), HR_OK);
    if (c->len > 0)
        ck_assert_int_eq(
            decode_check(out.data, out.len, c->n, c->len - 1, NULL), HR_ELIMIT);
    const size_t size = out.len;
    hr__wbuf_free(&out);
    return size;
}

/* hr__str_encode's own choice, decoded and compared; the scheme. */
static int chosen_roundtrip(const col *c, size_t *size)
{
    hr__str_opts o = opts_zstd();
    hr__wbuf out;
    hr__wbuf_init(&out, env);
    hr__str_encode(&out, c->heap, c->off, c->n, &o);
    ck_assert_int_eq(out.failed, 0);
    ck_assert_int_eq(decode_check(out.data, out.len, c->n, c->len, c), HR_OK);
    const int scheme = out.data[0];
    if (size)
        *size = out.len;
    hr__wbuf_free(&out);
    return scheme;
}

/* The header of a TEMPLATE encoding: template and column counts, kinds. */
static void tpl_header(const hr__wbuf *w, size_t *t, size_t *c, int64_t *kinds,
                       size_t kinds_cap)
{
    hr__rbuf in;
    hr__rbuf_init(&in, w->data, w->len);
    uint8_t scheme;
    uint64_t t64, c64;
    ck_assert_int_eq(hr__rbuf_get_u8(&in, &scheme), 0);
    ck_assert_int_eq(scheme, HR__STR_TEMPLATE);
    ck_assert_int_eq(hr__rbuf_get_varint(&in, &t64), 0);
    ck_assert_int_eq(hr__rbuf_get_varint(&in, &c64), 0);
    int64_t k[HR__TPL_MAX_TEMPLATES];
    ck_assert_int_eq(hr__int_decode(&in, k, t64, 3, env), HR_OK);
    size_t s = 0;
    for (size_t j = 0; j < t64; j++)
        s += (size_t)k[j];
    int64_t *refs = malloc((s + 1) * sizeof *refs);
    ck_assert_int_eq(hr__int_decode(&in, refs, s, 3, env), HR_OK);
    free(refs);
    ck_assert_uint_le(c64, kinds_cap);
    ck_assert_int_eq(hr__int_decode(&in, kinds, c64, 3, env), HR_OK);
    *t = t64;
    *c = c64;
}

/*
 * Walk a TEMPLATE encoding of n rows down to its columns and count those of
 * each kind, and the TEXT columns that are TEMPLATE blocks themselves.
 */
static void tpl_columns(const hr__wbuf *w, size_t n, size_t *ints,
                        size_t *texts, size_t *nested)
{
    hr__rbuf in;
    hr__rbuf_init(&in, w->data, w->len);
    uint8_t scheme;
    uint64_t t, c;
    ck_assert_int_eq(hr__rbuf_get_u8(&in, &scheme), 0);
    ck_assert_int_eq(scheme, HR__STR_TEMPLATE);
    ck_assert_int_eq(hr__rbuf_get_varint(&in, &t), 0);
    ck_assert_int_eq(hr__rbuf_get_varint(&in, &c), 0);
    int64_t k[HR__TPL_MAX_TEMPLATES];
    ck_assert_int_eq(hr__int_decode(&in, k, t, 3, env), HR_OK);
    size_t s = 0;
    for (size_t j = 0; j < t; j++)
        s += (size_t)k[j];
    int64_t *refs = malloc((s + 1) * sizeof *refs);
    int64_t *kinds = malloc((c + 1) * sizeof *kinds);
    size_t *m = calloc(c + 1, sizeof *m);
    ck_assert_int_eq(hr__int_decode(&in, refs, s, 3, env), HR_OK);
    ck_assert_int_eq(hr__int_decode(&in, kinds, c, 3, env), HR_OK);
    hr__str_dec dec = {dctx, NULL, NULL, 1 << 30};
    hr__wbuf heap;
    hr__wbuf_init(&heap, env);
    uint32_t *offs = malloc((n * HR__TPL_MAX_SLOTS + s + t + 1) * sizeof *offs);
    ck_assert_int_eq(hr__str_decode(&in, s + t, offs, &heap, &dec, env), HR_OK);
    int64_t *ids = calloc(n, sizeof *ids);
    uint8_t *small = malloc(n);
    if (t > 1)
        ck_assert_int_eq(hr__str_decode_codes(&in, n, t, ids, small, &dec, env),
                         HR_OK);
    for (size_t i = 0; i < n; i++) {
        size_t base = 0;
        for (int64_t j = 0; j < ids[i]; j++)
            base += (size_t)k[j];
        for (int64_t q = 0; q < k[ids[i]]; q++)
            m[refs[base + (size_t)q]]++;
    }
    *ints = *texts = *nested = 0;
    for (size_t q = 0; q < c; q++) {
        if (kinds[q] == 0) {
            ++*texts;
            *nested += in.data[in.pos] == HR__STR_TEMPLATE;
            ck_assert_int_eq(hr__str_decode(&in, m[q], offs, &heap, &dec, env),
                             HR_OK);
        } else {
            ++*ints;
            int64_t *v = malloc((m[q] + 1) * sizeof *v);
            ck_assert_int_eq(hr__int_decode(&in, v, m[q], 3, env), HR_OK);
            free(v);
        }
    }
    ck_assert_uint_eq(in.pos, w->len); /* every byte accounted for */
    hr__wbuf_free(&heap);
    free(offs);
    free(ids);
    free(small);
    free(m);
    free(kinds);
    free(refs);
}

/* ------------------------------------------------------------------------ */
/* Data                                                                      */
/* ------------------------------------------------------------------------ */

/* Events like the benchmark's: jsonb output form, six event types. */
static void gen_events(col *c, size_t n, uint64_t *clock)
{
    static const char *const devices[3] = {"mobile", "desktop", "tablet"};
    static const char *const elements[4] = {"button#add", "a.nav", "img.hero",
                                            "input#q"};
    char b[512], props[256];
    for (size_t i = 0; i < n; i++) {
        *clock += rndn(400);
        const uint64_t t = *clock;
        const char *event;
        const unsigned pick = rndn(100);
        if (pick < 50) {
            event = "page_view";
            if (rndn(3))
                snprintf(props, sizeof props, "{\"path\": \"/products/%u\"}",
                         1 + rndn(5000));
            else
                snprintf(props, sizeof props, "{\"path\": \"/cart\"}");
        } else if (pick < 80) {
            event = "click";
            snprintf(props, sizeof props,
                     "{\"x\": %u, \"y\": %u, \"element\": \"%s\"}", rndn(1920),
                     rndn(1080), elements[rndn(4)]);
        } else {
            event = "purchase";
            snprintf(props, sizeof props,
                     "{\"items\": %u, \"total\": %u.%02u, \"ok\": %s}",
                     1 + rndn(6), rndn(500), rndn(100),
                     rndn(8) ? "true" : "false");
        }
        const int k = snprintf(
            b, sizeof b,
            "{\"ts\": \"2024-05-01T%02u:%02u:%02u.%03uZ\", \"event\": \"%s\", "
            "\"props\": %s, \"device\": \"%s\", \"user_id\": %u}",
            (unsigned)(t / 3600000 % 24), (unsigned)(t / 60000 % 60),
            (unsigned)(t / 1000 % 60), (unsigned)(t % 1000), event, props,
            devices[rndn(3)], 1000 + rndn(60));
        col_add(c, b, (size_t)k);
    }
}

static size_t zstd3_size(const col *c)
{
    const size_t bound = ZSTD_compressBound(c->len);
    void *tmp = malloc(bound);
    const size_t size = ZSTD_compress(tmp, bound, c->heap, c->len, 3);
    ck_assert(!ZSTD_isError(size));
    free(tmp);
    return size;
}

/* ------------------------------------------------------------------------ */
/* Round trips                                                               */
/* ------------------------------------------------------------------------ */

/* Values that stress the tokenizer; %u is replaced by a varying number. */
static const char *const tricky[] = {
    "{\"a\": \"esc \\\" \\\\ \\n \\u00e9 \\/\", \"n\": %u}",
    "{\"k\": \"caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac\", \"n\": %u}",
    "[1, [2, [3, [%u]]], {\"a\": [true, false, null, \"x\"]}]",
    "{\"neg0\": -0, \"e\": 1e5, \"E\": -2.5E+10, \"z\": 00, \"n\": %u}",
    "{\"max\": 9223372036854775807, \"over\": 9223372036854775808, \"n\": %u}",
    "{\"min\": -9223372036854775808, \"under\": -9223372036854775809, "
    "\"n\": %u}",
    "{\"big\": 18446744073709551616, \"long\": 000000000000000000001, "
    "\"n\": %u}",
    "  {  \"spaced\"  :  %u ,\"tight\":\"x\"}  ",
    "{\"b\": 2, \"a\": 1, \"n\": %u}",
    "{\"a\": \"unterminated %u",
    "{\"a\" %u}",
    "}{\"a\": tru, \"b\": nul, \"c\": falsey, \"n\": %u",
    "{\"hex\": 0x1F, \"n\": 1.2.3, \"m\": %u.}",
    "{\"word\": true1, \"n\": %ua}",
    "\xff\xfe {\"x\": %u} \xff",
    "plain log line %u with 0012 zero-padded and -7 and 3.14",
    "2024-05-01T12:%u:00.000Z",
    "%u",
    "-%u",
    "0%u",
    "",
    "   ",
    "\"\"",
    "\"%u\"",
    "{\"\": \"\", \"n\": %u}",
    "[\"a\", \"b\", \"\", %u, \"\\\\\"]",
};
#define NTRICKY (sizeof tricky / sizeof tricky[0])

/* The pattern with each "%u" replaced by v (no printf: patterns are data). */
static size_t subst(char *b, size_t cap, const char *p, unsigned v)
{
    char num[16];
    const int nl = snprintf(num, sizeof num, "%u", v);
    size_t k = 0;
    for (; *p && k + 16 < cap; p++) {
        if (p[0] == '%' && p[1] == 'u') {
            memcpy(b + k, num, (size_t)nl);
            k += (size_t)nl;
            p++;
        } else {
            b[k++] = *p;
        }
    }
    return k;
}

START_TEST(tricky_values_round_trip)
{
    /* Each pattern in 8+ rows with varying numbers, interleaved: at most 64
     * templates in 256+ rows, so TEMPLATE can be forced. */
    rng = 3;
    col c;
    col_init(&c);
    char b[512];
    for (size_t i = 0; i < 12 * NTRICKY; i++) {
        const char *p = tricky[rndn(NTRICKY)];
        /* few numbers: where one glues to a word it is literal text, and
         * each number makes another template there */
        static const unsigned nums[4] = {0, 7, 42, 4294967295u};
        const unsigned v = nums[rndn(4)];
        col_add(&c, b, subst(b, sizeof b, p, v));
    }
    forced_roundtrip(&c);
    chosen_roundtrip(&c, NULL);
    col_free(&c);
    /* NUL bytes inside values, and 0xff everywhere. */
    col_init(&c);
    static const char pre[] = "{\"a\": \"x\0y\", \"n\": ";
    for (int i = 0; i < 256; i++) {
        uint8_t v[40];
        size_t k = sizeof pre - 1;
        memcpy(v, pre, k);
        k += (size_t)snprintf((char *)v + k, 12, "%u", rndn(1000));
        v[k++] = '}';
        if (i % 3 == 0)
            v[k++] = 0xff;
        if (i % 5 == 0)
            v[k++] = 0;
        col_add(&c, v, k);
    }
    forced_roundtrip(&c);
    chosen_roundtrip(&c, NULL);
    col_free(&c);
}
END_TEST

START_TEST(every_value_the_same_and_empty)
{
    /* One template, every slot folded: the template is the value. */
    col c;
    col_init(&c);
    for (int i = 0; i < 300; i++)
        col_adds(&c, "{\"a\": 1, \"b\": \"same\", \"c\": [true, null]}");
    forced_roundtrip(&c);
    col_free(&c);
    /* All empty: a template of no bytes (an empty output). */
    col_init(&c);
    for (int i = 0; i < 300; i++)
        col_add(&c, "", 0);
    forced_roundtrip(&c);
    col_free(&c);
    /* Empty strings in every slot. */
    col_init(&c);
    for (int i = 0; i < 300; i++)
        col_adds(&c, i % 2 ? "{\"a\": \"\", \"b\": \"\"}" : "[\"\", \"\"]");
    forced_roundtrip(&c);
    col_free(&c);
}
END_TEST

START_TEST(column_kinds)
{
    /* Canonical integers -> INT; fixed-width digits -> DIGITS(w); numbers
     * that do not re-print exactly -> TEXT. */
    static const struct {
        const char *what;
        int64_t kind;
    } cases[] = {
        {"{\"n\": %d}", 1},       /* 17, -3, 0 */
        {"{\"n\": %05u}", 1 + 5}, /* 00017 */
        {"t=%02u:00", 1 + 2},     /* log mode: 07 */
        {"{\"n\": %u.5}", 0},     /* a fraction */
        {"{\"n\": -0%u}", 0},     /* -00, -07: not canonical */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        rng = 10 + k;
        col c;
        col_init(&c);
        char b[64];
        for (int i = 0; i < 400; i++) {
            const unsigned v = rndn(60);
            int len = 0;
            switch (k) {
            case 0:
                len = snprintf(b, sizeof b, "{\"n\": %d}", (int)v - 20);
                break;
            case 1:
                len = snprintf(b, sizeof b, "{\"n\": %05u}", v);
                break;
            case 2:
                len = snprintf(b, sizeof b, "t=%02u:00", v);
                break;
            case 3:
                len = snprintf(b, sizeof b, "{\"n\": %u.5}", v);
                break;
            default:
                len = snprintf(b, sizeof b, "{\"n\": -0%u}", v);
                break;
            }
            col_add(&c, b, (size_t)len);
        }
        hr__str_opts o = opts_zstd();
        hr__wbuf out;
        hr__wbuf_init(&out, env);
        ck_assert_int_eq(hr__tpl_encode(&out, c.heap, c.off, c.n, &o, 1, 64),
                         1);
        size_t t, nc;
        int64_t kinds[8];
        tpl_header(&out, &t, &nc, kinds, 8);
        ck_assert_uint_eq(t, 1);
        ck_assert_uint_eq(nc, 1);
        ck_assert_msg(kinds[0] == cases[k].kind, "%s: kind %lld", cases[k].what,
                      (long long)kinds[0]);
        ck_assert_int_eq(decode_check(out.data, out.len, c.n, c.len, &c),
                         HR_OK);
        hr__wbuf_free(&out);
        col_free(&c);
    }
}
END_TEST

START_TEST(json_events_pick_template)
{
    rng = 42;
    uint64_t clock = 7200000;
    const size_t rows[] = {128, 300, 1024, 4096};
    for (int k = 0; k < 4; k++) {
        col c;
        col_init(&c);
        gen_events(&c, rows[k], &clock);
        size_t size;
        ck_assert_int_eq(chosen_roundtrip(&c, &size), HR__STR_TEMPLATE);
        const size_t z3 = zstd3_size(&c);
        if (rows[k] == 1024) {
            /* number columns, text columns, and a TEMPLATE among them (the
             * timestamps) */
            hr__str_opts o = opts_zstd();
            hr__wbuf out;
            hr__wbuf_init(&out, env);
            ck_assert_int_eq(hr__tpl_encode(&out, c.heap, c.off, c.n, &o, 2,
                                            HR__TPL_MAX_TEMPLATES),
                             1);
            size_t ints, texts, nested;
            tpl_columns(&out, c.n, &ints, &texts, &nested);
            ck_assert_uint_gt(ints, 0);
            ck_assert_uint_gt(texts, 0);
            ck_assert_uint_gt(nested, 0);
            hr__wbuf_free(&out);
        }
        /* Below zstd -3 of the bare concatenation; from 1024 rows by 1.5x. */
        const size_t x = rows[k] >= 1024 ? 3 : 2;
        ck_assert_msg(size * x < z3 * 2, "%zu rows: %zu vs zstd -3 %zu",
                      rows[k], size, z3);
        col_free(&c);
    }
    /* Below 128 rows the general schemes are used. */
    col c;
    col_init(&c);
    gen_events(&c, 100, &clock);
    ck_assert_int_eq(chosen_roundtrip(&c, NULL), HR__STR_ZSTD);
    col_free(&c);
}
END_TEST

START_TEST(other_columns_keep_their_schemes)
{
    col c;
    char b[256];
    /* Low cardinality: DICT. */
    rng = 5;
    col_init(&c);
    for (int i = 0; i < 1024; i++) {
        snprintf(b, sizeof b, "status-%u", rndn(10));
        col_adds(&c, b);
    }
    ck_assert_int_eq(chosen_roundtrip(&c, NULL), HR__STR_DICT);
    col_free(&c);
    /* Free text: no template fits, zstd. */
    col_init(&c);
    for (int i = 0; i < 1024; i++) {
        int k = 0;
        for (unsigned w = 0, nw = 3 + rndn(12); w < nw; w++)
            k += snprintf(b + k, sizeof b - (size_t)k, "%s%c%c%c", w ? " " : "",
                          'a' + rndn(6), 'a' + rndn(26), 'a' + rndn(26));
        col_add(&c, b, (size_t)k);
    }
    ck_assert_int_eq(chosen_roundtrip(&c, NULL), HR__STR_ZSTD);
    hr__str_opts o = opts_zstd();
    hr__wbuf out;
    hr__wbuf_init(&out, env);
    ck_assert_int_eq(hr__tpl_encode(&out, c.heap, c.off, c.n, &o, 2, 64), 0);
    ck_assert_uint_eq(out.len, 0);
    hr__wbuf_free(&out);
    col_free(&c);
    /* Random hex ids: a new template every few rows, gives up. */
    col_init(&c);
    for (int i = 0; i < 1024; i++) {
        snprintf(b, sizeof b, "%016llx", (unsigned long long)rnd());
        col_adds(&c, b);
    }
    ck_assert_int_ne(chosen_roundtrip(&c, NULL), HR__STR_TEMPLATE);
    col_free(&c);
}
END_TEST

START_TEST(too_many_slots_give_up)
{
    col c;
    col_init(&c);
    char *b = malloc(HR__TPL_MAX_SLOTS * 4 + 16);
    for (int i = 0; i < 200; i++) {
        int k = 0;
        for (int s = 0; s <= HR__TPL_MAX_SLOTS; s++)
            k += sprintf(b + k, "%u,", rndn(10));
        col_add(&c, b, (size_t)k);
    }
    hr__str_opts o = opts_zstd();
    hr__wbuf out;
    hr__wbuf_init(&out, env);
    ck_assert_int_eq(hr__tpl_encode(&out, c.heap, c.off, c.n, &o, 2, 64), 0);
    hr__wbuf_free(&out);
    chosen_roundtrip(&c, NULL);
    free(b);
    col_free(&c);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Hand-made payloads                                                        */
/* ------------------------------------------------------------------------ */

static void put_ints(hr__wbuf *w, const int64_t *v, size_t n)
{
    hr__int_encode(w, v, n, 3);
}

static void put_plain(hr__wbuf *w, const char *const *strs, size_t n)
{
    int64_t lens[64];
    ck_assert_uint_le(n, 64);
    for (size_t i = 0; i < n; i++)
        lens[i] = (int64_t)strlen(strs[i]);
    hr__wbuf_put_u8(w, HR__STR_PLAIN);
    put_ints(w, lens, n);
    for (size_t i = 0; i < n; i++)
        hr__wbuf_put(w, strs[i], strlen(strs[i]));
}

/* A TEMPLATE payload from its parts; ids NULL when t == 1. */
typedef struct craft {
    uint64_t t, c;
    const int64_t *k;
    const int64_t *refs;
    size_t s;
    const int64_t *kinds;
    const char *const *pieces;
    size_t npieces;
    const int64_t *ids;
    size_t n;
} craft;

static void put_header(hr__wbuf *w, const craft *f)
{
    hr__wbuf_put_u8(w, HR__STR_TEMPLATE);
    hr__wbuf_put_varint(w, f->t);
    hr__wbuf_put_varint(w, f->c);
    put_ints(w, f->k, (size_t)f->t);
    put_ints(w, f->refs, f->s);
    put_ints(w, f->kinds, (size_t)f->c);
    put_plain(w, f->pieces, f->npieces);
    if (f->ids) {
        hr__wbuf_put_u8(w, 0);
        put_ints(w, f->ids, f->n);
    }
}

static int decode_crafted(const hr__wbuf *w, size_t n, size_t max_bytes)
{
    return decode_check(w->data, w->len, n, max_bytes, NULL);
}

START_TEST(crafted_payloads_decode_or_are_rejected)
{
    /* A valid base: 2 templates "<#>" and "[$|#]", columns INT and TEXT,
     * 3 rows: ids 0 1 0. */
    static const int64_t k2[2] = {1, 2};
    static const int64_t refs[3] = {0, 1, 0};
    static const int64_t kinds[2] = {1, 0};
    static const char *const pieces[5] = {"<", ">", "[", "|", "]"};
    static const int64_t ids[3] = {0, 1, 0};
    static const int64_t ints3[3] = {7, -12, 300};
    static const char *const texts[1] = {"txt"};
    craft f = {2, 2, k2, refs, 3, kinds, pieces, 5, ids, 3};
    hr__wbuf w;
    hr__wbuf_init(&w, env);
    put_header(&w, &f);
    put_ints(&w, ints3, 3);
    put_plain(&w, texts, 1);
    col want;
    col_init(&want);
    col_adds(&want, "<7>");
    col_adds(&want, "[txt|-12]");
    col_adds(&want, "<300>");
    ck_assert_int_eq(decode_check(w.data, w.len, 3, 100, &want), HR_OK);
    ck_assert_int_eq(decode_crafted(&w, 3, want.len), HR_OK);
    ck_assert_int_eq(decode_crafted(&w, 3, want.len - 1), HR_ELIMIT);
    /* n must allow t templates each used by a row. */
    ck_assert_int_eq(decode_crafted(&w, 1, 100), HR_ECORRUPT);
    ck_assert_int_eq(decode_crafted(&w, 0, 100), HR_ECORRUPT);
    hr__wbuf_free(&w);
    col_free(&want);

    /* One mutation at a time of the valid base; every one is rejected. */
    enum { CASES = 15 };
    for (int m = 0; m < CASES; m++) {
        craft g = f;
        /* room for the counts the mutations declare */
        int64_t kk[65] = {1, 2}, rr[3] = {0, 1, 0}, kd[4] = {1, 0};
        int64_t ii[3] = {0, 1, 0}, vals[3] = {7, -12, 300};
        const char *pp[5] = {"<", ">", "[", "|", "]"};
        g.k = kk;
        g.refs = rr;
        g.kinds = kd;
        g.ids = ii;
        g.pieces = pp;
        size_t nvals = 3;
        int want_rc = HR_ECORRUPT;
        switch (m) {
        case 0:
            g.t = 0;
            break; /* no template */
        case 1:
            g.t = 65;
            break; /* over 64 */
        case 2:
            g.c = 4;
            break; /* c > s */
        case 3:
            kk[1] = HR__TPL_MAX_SLOTS + 1;
            break; /* too many slots */
        case 4:
            kk[0] = -1;
            break;
        case 5:
            rr[2] = 2;
            break; /* no such column */
        case 6:
            rr[1] = 0;
            g.c = 2;
            break; /* column 1 unused */
        case 7:
            kd[1] = 1 + 19;
            break; /* unknown kind */
        case 8:
            kd[1] = -1;
            break;
        case 9:
            g.npieces = 4;
            break; /* a piece short */
        case 10:
            ii[1] = 2;
            break; /* no such template */
        case 11:
            ii[1] = 0;
            break; /* template 1 unused */
        case 12:
            kd[0] = 1 + 2;
            vals[0] = 100;
            break; /* DIGITS(2) >= 100 */
        case 13:
            kd[0] = 1 + 2;
            vals[1] = -1;
            break; /* negative digits */
        case 14:
            pp[2] = "";
            pp[4] = "";
            pp[3] = "";
            break; /* 2 slots, 0 bytes */
        }
        hr__wbuf_init(&w, env);
        put_header(&w, &g);
        put_ints(&w, vals, nvals);
        put_plain(&w, texts, 1);
        const int rc = decode_crafted(&w, 3, 1000);
        ck_assert_msg(rc == want_rc, "mutation %d: rc %d", m, rc);
        hr__wbuf_free(&w);
    }
}
END_TEST

START_TEST(template_nesting_is_bounded)
{
    /* A TEMPLATE whose text column is a TEMPLATE whose text column is a
     * TEMPLATE: the third level is corrupt (depth 2 at the top). */
    static const int64_t k1[1] = {1}, ref0[1] = {0}, text_kind[1] = {0};
    static const char *const pieces[2] = {"(", ")"};
    static const int64_t int_kind[1] = {1};
    static const int64_t one[2] = {5, 6};
    for (int levels = 1; levels <= 3; levels++) {
        hr__wbuf w;
        hr__wbuf_init(&w, env);
        for (int l = 0; l < levels; l++) {
            const int last = l == levels - 1;
            craft f = {1,      1, k1,   ref0, 1, last ? int_kind : text_kind,
                       pieces, 2, NULL, 2};
            put_header(&w, &f);
        }
        put_ints(&w, one, 2);
        const int rc = decode_crafted(&w, 2, 1000);
        ck_assert_msg(rc == (levels <= 2 ? HR_OK : HR_ECORRUPT),
                      "%d levels: rc %d", levels, rc);
        hr__wbuf_free(&w);
    }
    /* TEMPLATE as the values of a DICT: corrupt. */
    hr__wbuf w;
    hr__wbuf_init(&w, env);
    hr__wbuf_put_u8(&w, HR__STR_DICT);
    hr__wbuf_put_varint(&w, 2);
    craft f = {1, 1, k1, ref0, 1, int_kind, pieces, 2, NULL, 2};
    put_header(&w, &f);
    put_ints(&w, one, 2);
    ck_assert_int_eq(decode_crafted(&w, 2, 1000), HR_ECORRUPT);
    hr__wbuf_free(&w);
}
END_TEST

START_TEST(huge_declared_output_is_limit_before_allocating)
{
    /* 1024 slots of 1023 separator bytes per row, 4096 rows: 4 MB of
     * literal alone against a 1 MB limit. */
    enum { K = HR__TPL_MAX_SLOTS };
    static const int64_t k1[1] = {K};
    int64_t *refs = calloc(K, sizeof *refs);
    static const int64_t kind_text[1] = {0};
    hr__wbuf w;
    hr__wbuf_init(&w, env);
    hr__wbuf_put_u8(&w, HR__STR_TEMPLATE);
    hr__wbuf_put_varint(&w, 1);
    hr__wbuf_put_varint(&w, 1);
    put_ints(&w, k1, 1);
    put_ints(&w, refs, K);
    put_ints(&w, kind_text, 1);
    /* K + 1 pieces: "", then K times "," */
    int64_t *lens = malloc((K + 1) * sizeof *lens);
    for (int i = 0; i <= K; i++)
        lens[i] = i > 0;
    hr__wbuf_put_u8(&w, HR__STR_PLAIN);
    put_ints(&w, lens, K + 1);
    for (int i = 0; i < K; i++)
        hr__wbuf_put_u8(&w, ',');
    ck_assert_int_eq(decode_crafted(&w, 4096, 1 << 20), HR_ELIMIT);
    hr__wbuf_free(&w);
    free(lens);
    free(refs);
    /* Two DIGITS(18) values a row around one comma: 37 bytes a row at
     * least, known before the values are decoded. */
    static const int64_t k2[1] = {2}, refs2[2] = {0, 0}, kind18[1] = {1 + 18};
    static const char *const pieces[3] = {"", ",", ""};
    int64_t *vals = malloc(2 * 4096 * sizeof *vals);
    for (int i = 0; i < 2 * 4096; i++)
        vals[i] = 5;
    craft f = {1, 1, k2, refs2, 2, kind18, pieces, 3, NULL, 4096};
    hr__wbuf_init(&w, env);
    put_header(&w, &f);
    put_ints(&w, vals, 2 * 4096);
    ck_assert_int_eq(decode_crafted(&w, 4096, 37 * 4096 - 1), HR_ELIMIT);
    ck_assert_int_eq(decode_crafted(&w, 4096, 37 * 4096), HR_OK);
    hr__wbuf_free(&w);
    free(vals);
}
END_TEST

START_TEST(random_templates_fuzz_round_trip)
{
    /* Random mixes of JSON-ish and log-ish fragments. */
    static const char *const frags[] = {"{",     "}",
                                        "[",     "]",
                                        ",",     ": ",
                                        "\"",    "\"k\": ",
                                        "\\\"",  "true",
                                        "false", "null",
                                        "-",     "0",
                                        "007",   "1.5",
                                        "e9",    " ",
                                        "x",     "\xc3\xa9",
                                        "\xff",  "12345678901234567890",
                                        ":",     "T",
                                        "Z",     "\\"};
    rng = 99;
    for (int iter = 0; iter < 40; iter++) {
        col c;
        col_init(&c);
        const unsigned patterns = 1 + rndn(8);
        char pat[8][64];
        for (unsigned p = 0; p < patterns; p++) {
            int k = 0;
            pat[p][0] = 0;
            for (unsigned f = 0, nf = rndn(12); f < nf && k < 40; f++)
                k += snprintf(pat[p] + k, sizeof pat[p] - (size_t)k, "%s",
                              frags[rndn(sizeof frags / sizeof *frags)]);
        }
        for (int i = 0; i < 256; i++) {
            char b[256];
            const char *p = pat[rndn(patterns)];
            int k = 0;
            /* numbers spliced in at random points */
            for (const char *q = p; *q; q++) {
                b[k++] = *q;
                if (rndn(6) == 0)
                    k += snprintf(b + k, sizeof b - (size_t)k, "%u", rndn(70));
            }
            col_add(&c, b, (size_t)k);
        }
        hr__str_opts o = opts_zstd();
        hr__wbuf out;
        hr__wbuf_init(&out, env);
        if (hr__tpl_encode(&out, c.heap, c.off, c.n, &o, 2, 64))
            ck_assert_int_eq(decode_check(out.data, out.len, c.n, c.len, &c),
                             HR_OK);
        hr__wbuf_free(&out);
        chosen_roundtrip(&c, NULL);
        col_free(&c);
    }
}
END_TEST

static Suite *codec_template_suite(void)
{
    Suite *s = suite_create("codec_template");
    TCase *tc = tcase_create("codec_template");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, tricky_values_round_trip);
    tcase_add_test(tc, every_value_the_same_and_empty);
    tcase_add_test(tc, column_kinds);
    tcase_add_test(tc, json_events_pick_template);
    tcase_add_test(tc, other_columns_keep_their_schemes);
    tcase_add_test(tc, too_many_slots_give_up);
    tcase_add_test(tc, crafted_payloads_decode_or_are_rejected);
    tcase_add_test(tc, template_nesting_is_bounded);
    tcase_add_test(tc, huge_declared_output_is_limit_before_allocating);
    tcase_add_test(tc, random_templates_fuzz_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(codec_template_suite());
}
