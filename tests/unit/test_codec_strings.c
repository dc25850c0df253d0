/* test_codec_strings.c - the string column codec (lib/codec/strcodec.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zdict.h>
#include <zstd.h>

#include <heliosrepl/heliosrepl.h>

#include "codec/intcodec.h"
#include "codec/strcodec.h"
#include "core/core_internal.h"
#include "failing_allocator.h"

/* ------------------------------------------------------------------------ */
/* Test data                                                                 */
/* ------------------------------------------------------------------------ */

static uint64_t rng;

static void seed(uint64_t s)
{
    rng = s;
}

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

/* Rank 0..k-1 drawn with P(r) ~ 1/(r+1) (Zipf, s = 1), k <= 64. */
static unsigned zipf(unsigned k)
{
    double total = 0, cdf[64];
    for (unsigned i = 0; i < k; i++)
        cdf[i] = (total += 1.0 / (i + 1));
    const double u = (double)(rnd() >> 11) / 9007199254740992.0 * total;
    for (unsigned i = 0; i < k; i++)
        if (u < cdf[i])
            return i;
    return k - 1;
}

/* A column: string i is heap[off[i] .. off[i+1]). */
typedef struct col {
    uint8_t *heap;
    uint32_t *off;
    size_t n, len, cap, ncap;
} col;

static void col_init(col *c)
{
    memset(c, 0, sizeof *c);
    c->cap = 4096; /* never NULL: heap + 0 must be a valid pointer */
    c->heap = malloc(c->cap);
    c->off = malloc(sizeof *c->off);
    c->off[0] = 0;
    c->ncap = 0;
}

static void col_add(col *c, const void *p, size_t len)
{
    if (c->len + len > c->cap) {
        while (c->len + len > c->cap)
            c->cap *= 2;
        c->heap = realloc(c->heap, c->cap);
    }
    if (c->n + 1 >= c->ncap) {
        c->ncap = c->ncap ? 2 * c->ncap : 1024;
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

static const char *const statuses[20] = {"completed",
                                         "pending_payment",
                                         "processing",
                                         "shipped",
                                         "delivered",
                                         "cancelled_by_customer",
                                         "refunded",
                                         "partially_refunded",
                                         "awaiting_fulfillment",
                                         "on_hold",
                                         "payment_failed",
                                         "returned",
                                         "in_transit",
                                         "out_for_delivery",
                                         "ready_for_pickup",
                                         "backordered",
                                         "disputed",
                                         "chargeback_received",
                                         "archived",
                                         "draft"};

/* Rows in commit order: multi-row transactions write runs (mean `run`) of
 * one status; statuses are Zipf-distributed. */
static void gen_status_runs(col *c, size_t n, unsigned run)
{
    while (c->n < n) {
        const char *s = statuses[zipf(20)];
        do
            col_adds(c, s);
        while (c->n < n && rndn(run) != 0);
    }
}

/* Independent rows: every row an independent uniform draw. */
static void gen_status_iid(col *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        col_adds(c, statuses[rndn(20)]);
}

static const char *const events[8] = {"page_view", "click",  "add_to_cart",
                                      "purchase",  "search", "login",
                                      "logout",    "scroll"};
static const char *const paths[6] = {
    "/", "/products", "/cart", "/checkout", "/search", "/account/orders"};
static const char *const refs[5] = {
    "https://www.google.com/", "", "https://newsletter.example.com/",
    "https://www.facebook.com/", "https://partner.example.net/"};
static const char *const oses[4] = {"iOS 17.4", "Android 14", "Windows 11",
                                    "macOS 14.4"};
static const char *const browsers[4] = {"Safari", "Chrome", "Firefox", "Edge"};

/* Analytics events as an application logs them. */
static void gen_json(col *c, size_t n, uint64_t *ts)
{
    char b[1024];
    for (size_t i = 0; i < n; i++) {
        *ts += rndn(3000);
        const unsigned ev = zipf(8), dev = rndn(3);
        int k = snprintf(
            b, sizeof b,
            "{\"ts\":%llu,\"user\":\"u%u\",\"event\":\"%s\","
            "\"session_id\":\"%08x-%04x-%04x\",\"props\":{\"url\":"
            "\"https://shop.example.com%s/%u\",\"referrer\":\"%s\","
            "\"device\":{\"type\":\"%s\",\"os\":\"%s\",\"browser\":\"%s\"},"
            "\"app_version\":\"5.%u.%u\"",
            (unsigned long long)*ts, rndn(5000), events[ev], (unsigned)rnd(),
            rndn(65536), rndn(65536), paths[zipf(6)], rndn(1000), refs[zipf(5)],
            dev == 0   ? "mobile"
            : dev == 1 ? "desktop"
                       : "tablet",
            oses[zipf(4)], browsers[zipf(4)], 10 + rndn(3), rndn(10));
        if (ev == 3)
            k += snprintf(b + k, sizeof b - (size_t)k,
                          ",\"order\":{\"amount\":%u.%02u,\"currency\":\"%s\","
                          "\"items\":%u,\"coupon\":%s}",
                          rndn(500), rndn(100), rndn(4) ? "USD" : "EUR",
                          1 + rndn(5), rndn(5) ? "null" : "\"SPRING10\"");
        else if (ev == 4)
            k += snprintf(b + k, sizeof b - (size_t)k,
                          ",\"query\":\"%s\",\"results\":%u", events[rndn(8)],
                          rndn(200));
        else
            k += snprintf(b + k, sizeof b - (size_t)k,
                          ",\"duration_ms\":%u,\"experiment\":{"
                          "\"checkout_v2\":\"%c\"}",
                          rndn(30000), rndn(2) ? 'A' : 'B');
        k += snprintf(b + k, sizeof b - (size_t)k, "}}");
        col_add(c, b, (size_t)k);
    }
}

/* Service log lines: a few formats with numbers and words in them. */
static void gen_log(col *c, size_t n, uint64_t *ms)
{
    static const char *const routes[4] = {"/api/v1/items/", "/api/v1/users/",
                                          "/health", "/api/v1/orders/"};
    char b[256];
    for (size_t i = 0; i < n; i++) {
        *ms += rndn(400);
        const uint64_t t = *ms;
        const unsigned kind = zipf(4);
        int k =
            snprintf(b, sizeof b, "2024-05-01 %02u:%02u:%02u.%03u ",
                     (unsigned)(t / 3600000 % 24), (unsigned)(t / 60000 % 60),
                     (unsigned)(t / 1000 % 60), (unsigned)(t % 1000));
        if (kind == 0)
            k += snprintf(b + k, sizeof b - (size_t)k,
                          "INFO [worker-%u] GET %s%u status=200 took %ums",
                          rndn(8), routes[rndn(4)], rndn(100000), rndn(900));
        else if (kind == 1)
            k += snprintf(b + k, sizeof b - (size_t)k,
                          "WARN [worker-%u] slow query: %u rows in %u.%03us",
                          rndn(8), rndn(5000), rndn(10), rndn(1000));
        else if (kind == 2)
            k += snprintf(b + k, sizeof b - (size_t)k,
                          "ERROR [worker-%u] upstream %s timed out after %ums",
                          rndn(8), rndn(2) ? "payments" : "inventory",
                          1000 * (1 + rndn(5)));
        else
            k += snprintf(b + k, sizeof b - (size_t)k,
                          "DEBUG cache hit ratio %u%% (%u/%u)", rndn(101),
                          rndn(1000), 1000);
        col_add(c, b, (size_t)k);
    }
}

/* Sentences of words from a 600-word vocabulary, Zipf-ish. */
static void gen_text(col *c, size_t n)
{
    static char vocab[600][12];
    uint64_t saved = rng;
    seed(4242);
    for (int w = 0; w < 600; w++) {
        const unsigned l = 2 + rndn(9);
        for (unsigned j = 0; j < l; j++)
            vocab[w][j] = (char)('a' + rndn(26));
        vocab[w][l] = 0;
    }
    rng = saved;
    char b[1024];
    for (size_t i = 0; i < n; i++) {
        const unsigned words = 3 + rndn(30);
        int k = 0;
        for (unsigned w = 0; w < words; w++)
            k += snprintf(b + k, sizeof b - (size_t)k, "%s%s", w ? " " : "",
                          vocab[zipf(40) * 15 + rndn(15)]);
        b[k++] = '.';
        col_add(c, b, (size_t)k);
    }
}

static void gen_random_bytes(col *c, size_t n, unsigned maxlen)
{
    uint8_t b[4096];
    for (size_t i = 0; i < n; i++) {
        const unsigned len = rndn(maxlen + 1);
        for (unsigned j = 0; j < len; j++)
            b[j] = (uint8_t)rnd();
        col_add(c, b, len);
    }
}

/* Distinct, compressible binary records with NUL bytes inside (a random
 * tag each: no template fits them). */
static void gen_nul_records(col *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b[64] = "key";
        int k = 4;
        for (int j = 0; j < 4; j++)
            b[k++] = (uint8_t)('a' + rndn(26));
        k += snprintf((char *)b + k, 20, "%u", rndn(100000));
        k += 1 + (int)rndn(20); /* NUL then a run of NULs and padding */
        memcpy(b + k, "padding", 7);
        col_add(c, b, (size_t)k + 7);
    }
}

/* ------------------------------------------------------------------------ */
/* Fixture and helpers                                                       */
/* ------------------------------------------------------------------------ */

static hr_env *env;
static ZSTD_CCtx *cctx;
static ZSTD_DCtx *dctx;

static void setup(void)
{
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
    cctx = ZSTD_createCCtx();
    dctx = ZSTD_createDCtx();
    ck_assert_ptr_nonnull(cctx);
    ck_assert_ptr_nonnull(dctx);
}

static void teardown(void)
{
    ZSTD_freeCCtx(cctx);
    ZSTD_freeDCtx(dctx);
    hr_env_free(env);
}

/* A trained dictionary, as the codec driver would hold it. */
typedef struct test_dict {
    hr__str_dict handle;
    uint8_t *bytes;
    size_t len;
} test_dict;

static void dict_make(test_dict *d, uint32_t id, uint64_t seed_value, int level)
{
    col samples;
    col_init(&samples);
    uint64_t ts = 1714000000000ull;
    seed(seed_value);
    gen_json(&samples, 2000, &ts);
    size_t *sizes = malloc(2000 * sizeof *sizes);
    for (size_t i = 0; i < 2000; i++)
        sizes[i] = samples.off[i + 1] - samples.off[i];
    ck_assert_int_eq(hr__str_train_dict(env, samples.heap, sizes, 2000,
                                        16 << 10, &d->bytes, &d->len),
                     HR_OK);
    d->handle.id = id;
    d->handle.cdict = ZSTD_createCDict(d->bytes, d->len, level);
    d->handle.ddict = ZSTD_createDDict(d->bytes, d->len);
    ck_assert_ptr_nonnull(d->handle.cdict);
    ck_assert_ptr_nonnull(d->handle.ddict);
    free(sizes);
    col_free(&samples);
}

static void dict_free(test_dict *d)
{
    ZSTD_freeCDict((ZSTD_CDict *)d->handle.cdict);
    ZSTD_freeDDict((ZSTD_DDict *)d->handle.ddict);
    hr__free(env, d->bytes);
}

/* The lookup knows one dictionary: ctx is a test_dict. */
static const ZSTD_DDict *lookup_one(void *ctx, uint32_t id)
{
    const test_dict *d = ctx;
    return d && id == d->handle.id ? d->handle.ddict : NULL;
}

static hr__str_opts opts_zstd(int level)
{
    hr__str_opts o = {level, 0, NULL, cctx};
    return o;
}

static hr__str_dec dec_default(const test_dict *dict)
{
    hr__str_dec d = {dctx, lookup_one, (void *)dict, 64u << 20};
    return d;
}

static void encode(hr__wbuf *out, const col *c, const hr__str_opts *o)
{
    hr__wbuf_init(out, env);
    hr__str_encode(out, c->heap, c->off, c->n, o);
    ck_assert_int_eq(out->failed, 0);
    ck_assert_uint_gt(out->len, 0);
}

/* Decode `len` bytes as n strings into a fresh heap. */
static int decode(const uint8_t *data, size_t len, size_t n,
                  const hr__str_dec *d, hr__wbuf *heap, uint32_t *offsets,
                  size_t *consumed)
{
    hr__rbuf in;
    hr__rbuf_init(&in, data, len);
    hr__wbuf_init(heap, env);
    int rc = hr__str_decode(&in, n, offsets, heap, d, env);
    if (consumed)
        *consumed = in.pos;
    return rc;
}

static void assert_same(const col *c, const hr__wbuf *heap,
                        const uint32_t *offsets)
{
    ck_assert_uint_eq(offsets[0], 0);
    ck_assert_uint_eq(heap->len, c->len);
    for (size_t i = 0; i < c->n; i++) {
        const uint32_t len = c->off[i + 1] - c->off[i];
        ck_assert_uint_eq(offsets[i + 1] - offsets[i], len);
        if (len) /* an all-empty heap may have no buffer */
            ck_assert_int_eq(
                memcmp(heap->data + offsets[i], c->heap + c->off[i], len), 0);
    }
}

/* Encode with `o`, decode, compare; returns the scheme byte. */
static int roundtrip(const col *c, const hr__str_opts *o, const test_dict *dict)
{
    hr__wbuf out, heap;
    encode(&out, c, o);
    uint32_t *offsets = malloc((c->n + 1) * sizeof *offsets);
    hr__str_dec d = dec_default(dict);
    size_t consumed;
    ck_assert_int_eq(
        decode(out.data, out.len, c->n, &d, &heap, offsets, &consumed), HR_OK);
    ck_assert_uint_eq(consumed, out.len);
    assert_same(c, &heap, offsets);
    const int scheme = out.data[0];
    free(offsets);
    hr__wbuf_free(&heap);
    hr__wbuf_free(&out);
    return scheme;
}

/* Round trip under every option set: zstd, snappy, no CCtx, dictionary. */
static void roundtrip_all(const col *c)
{
    test_dict dict;
    dict_make(&dict, 77, 99, 3);
    hr__str_opts o = opts_zstd(3);
    roundtrip(c, &o, NULL);
    o.zstd_level = 1;
    roundtrip(c, &o, NULL);
    o.dict = &dict.handle;
    roundtrip(c, &o, &dict);
    o.dict = NULL;
    o.prefer_snappy = 1;
    roundtrip(c, &o, NULL);
    o.prefer_snappy = 0;
    o.cctx = NULL;
    roundtrip(c, &o, NULL);
    dict_free(&dict);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */
/* ------------------------------------------------------------------------ */

START_TEST(scheme_ids_are_pinned)
{
    /* Wire values: a renumbering must fail here. */
    ck_assert_int_eq(HR__STR_PLAIN, 0);
    ck_assert_int_eq(HR__STR_DICT, 1);
    ck_assert_int_eq(HR__STR_ZSTD, 2);
    ck_assert_int_eq(HR__STR_SNAPPY, 3);
    ck_assert_int_eq(HR__STR_TEMPLATE, 4);
}
END_TEST

START_TEST(roundtrip_edge_cases)
{
    col c;
    /* n = 0 */
    col_init(&c);
    roundtrip_all(&c);
    col_free(&c);
    /* n = 1: empty, one byte, one longer string */
    const char *ones[] = {"", "x", "a single string of some length here"};
    for (int k = 0; k < 3; k++) {
        col_init(&c);
        col_adds(&c, ones[k]);
        roundtrip_all(&c);
        col_free(&c);
    }
    /* all empty */
    col_init(&c);
    for (int i = 0; i < 1000; i++)
        col_add(&c, "", 0);
    roundtrip_all(&c);
    ck_assert_int_eq(roundtrip(&c, &(hr__str_opts){3, 0, NULL, cctx}, NULL),
                     HR__STR_PLAIN);
    col_free(&c);
    /* empty strings mixed in, low and high cardinality */
    seed(1);
    col_init(&c);
    for (int i = 0; i < 700; i++)
        col_adds(&c, rndn(3) ? statuses[rndn(5)] : "");
    roundtrip_all(&c);
    col_free(&c);
    col_init(&c);
    for (int i = 0; i < 700; i++) {
        char b[32];
        snprintf(b, sizeof b, "%u", rndn(3) ? (unsigned)rnd() : 0u);
        col_adds(&c, rndn(4) ? b : "");
    }
    roundtrip_all(&c);
    col_free(&c);
    /* binary with NULs: random, and compressible */
    col_init(&c);
    gen_random_bytes(&c, 300, 64);
    roundtrip_all(&c);
    col_free(&c);
    col_init(&c);
    for (int i = 0; i < 500; i++) {
        uint8_t b[40] = {0};
        b[rndn(40)] = (uint8_t)rndn(4);
        col_add(&c, b, 8 + rndn(32));
    }
    roundtrip_all(&c);
    col_free(&c);
    /* long strings: 1 MB each, random and repetitive, and small ones */
    col_init(&c);
    uint8_t *big = malloc(1 << 20);
    for (size_t i = 0; i < (1u << 20); i++)
        big[i] = (uint8_t)rnd();
    col_add(&c, big, 1 << 20);
    col_adds(&c, "between");
    for (size_t i = 0; i < (1u << 20); i++)
        big[i] = (uint8_t)("lorem ipsum dolor sit amet "[i % 27]);
    col_add(&c, big, 1 << 20);
    col_add(&c, "", 0);
    roundtrip_all(&c);
    col_free(&c);
    free(big);
}
END_TEST

START_TEST(roundtrip_every_shape)
{
    /* Generated columns of 64..1024 rows, under every option set. */
    const size_t sizes[] = {64, 257, 1024};
    for (int k = 0; k < 3; k++) {
        col c;
        uint64_t ts = 1714000000000ull;
        seed(100 + (uint64_t)k);
        col_init(&c);
        gen_status_runs(&c, sizes[k], 8);
        roundtrip_all(&c);
        col_free(&c);
        col_init(&c);
        gen_status_iid(&c, sizes[k]);
        roundtrip_all(&c);
        col_free(&c);
        col_init(&c);
        gen_json(&c, sizes[k], &ts);
        roundtrip_all(&c);
        col_free(&c);
        col_init(&c);
        gen_text(&c, sizes[k]);
        roundtrip_all(&c);
        col_free(&c);
    }
}
END_TEST

START_TEST(heap_slices_and_shared_heaps)
{
    /* The encoder takes a slice of a heap (offsets[0] > 0); the decoder
     * appends to a heap that already holds another column. */
    col c;
    seed(7);
    col_init(&c);
    gen_status_iid(&c, 600);
    hr__str_opts o = opts_zstd(3);
    hr__wbuf a, b;
    hr__wbuf_init(&a, env);
    hr__wbuf_init(&b, env);
    hr__str_encode(&a, c.heap, c.off + 100, 200, &o); /* rows 100..299 */
    hr__str_encode(&b, c.heap, c.off, 600, &o);
    ck_assert_int_eq(a.failed | b.failed, 0);
    hr__str_dec d = dec_default(NULL);
    hr__wbuf heap;
    hr__wbuf_init(&heap, env);
    uint32_t oa[201], ob[601];
    hr__rbuf in;
    hr__rbuf_init(&in, a.data, a.len);
    ck_assert_int_eq(hr__str_decode(&in, 200, oa, &heap, &d, env), HR_OK);
    hr__rbuf_init(&in, b.data, b.len);
    ck_assert_int_eq(hr__str_decode(&in, 600, ob, &heap, &d, env), HR_OK);
    ck_assert_uint_eq(oa[0], 0);
    ck_assert_uint_eq(ob[0], oa[200]);
    ck_assert_uint_eq(heap.len, ob[600]);
    for (int i = 0; i < 200; i++)
        ck_assert_int_eq(memcmp(heap.data + oa[i], c.heap + c.off[100 + i],
                                oa[i + 1] - oa[i]),
                         0);
    for (int i = 0; i < 600; i++)
        ck_assert_int_eq(
            memcmp(heap.data + ob[i], c.heap + c.off[i], ob[i + 1] - ob[i]), 0);
    hr__wbuf_free(&heap);
    hr__wbuf_free(&a);
    hr__wbuf_free(&b);
    col_free(&c);
}
END_TEST

START_TEST(low_cardinality_is_dict)
{
    hr__str_opts o = opts_zstd(3);
    hr__wbuf out;
    col c;
    /* 20 statuses over 1024 rows in commit order (runs of mean 8). */
    seed(11);
    col_init(&c);
    gen_status_runs(&c, 1024, 8);
    encode(&out, &c, &o);
    ck_assert_int_eq(out.data[0], HR__STR_DICT);
    ck_assert_msg(out.len * 30 <= c.len, "%zu bytes for %zu raw (%.1fx)",
                  out.len, c.len, (double)c.len / (double)out.len);
    hr__wbuf_free(&out);
    col_free(&c);
    /* Two equal values: a dictionary would not beat the raw bytes. */
    col_init(&c);
    col_adds(&c, "ab");
    col_adds(&c, "ab");
    ck_assert_int_eq(roundtrip(&c, &o, NULL), HR__STR_PLAIN);
    col_free(&c);
    /* Independent uniform rows: the codes cannot go below log2(20) = 4.32
     * bits a row, so ~13 bytes a value give at most ~24x; ask for 14x. */
    seed(12);
    col_init(&c);
    gen_status_iid(&c, 1024);
    encode(&out, &c, &o);
    ck_assert_int_eq(out.data[0], HR__STR_DICT);
    ck_assert_msg(out.len * 14 <= c.len, "%zu bytes for %zu raw (%.1fx)",
                  out.len, c.len, (double)c.len / (double)out.len);
    hr__wbuf_free(&out);
    col_free(&c);
}
END_TEST

START_TEST(text_is_zstd_or_snappy_random_is_plain)
{
    col c;
    seed(21);
    col_init(&c);
    gen_text(&c, 1024);
    hr__str_opts o = opts_zstd(3);
    ck_assert_int_eq(roundtrip(&c, &o, NULL), HR__STR_ZSTD);
    o.prefer_snappy = 1;
    ck_assert_int_eq(roundtrip(&c, &o, NULL), HR__STR_SNAPPY);
    o.prefer_snappy = 0;
    o.cctx = NULL;
    ck_assert_int_eq(roundtrip(&c, &o, NULL), HR__STR_SNAPPY);
    col_free(&c);
    /* Incompressible bytes: compressing does not pay. */
    col_init(&c);
    gen_random_bytes(&c, 1024, 100);
    o = opts_zstd(3);
    ck_assert_int_eq(roundtrip(&c, &o, NULL), HR__STR_PLAIN);
    col_free(&c);
}
END_TEST

START_TEST(dictionary_only_on_small_blocks)
{
    /* The trained dictionary is used below 32 KiB of bytes, not above:
     * the dictionary id after the scheme and layout bytes. */
    test_dict dict;
    dict_make(&dict, 77, 99, 3);
    const size_t rows[2] = {64, 1024};
    for (int k = 0; k < 2; k++) {
        col c;
        seed(70 + (uint64_t)k);
        col_init(&c);
        gen_text(&c, rows[k]);
        hr__str_opts o = opts_zstd(3);
        o.dict = &dict.handle;
        hr__wbuf out;
        encode(&out, &c, &o);
        ck_assert_int_eq(out.data[0], HR__STR_ZSTD);
        ck_assert_int_eq(out.data[2], c.len < (32u << 10) ? 77 : 0);
        ck_assert_int_eq(roundtrip(&c, &o, &dict), HR__STR_ZSTD);
        hr__wbuf_free(&out);
        col_free(&c);
    }
    dict_free(&dict);
}
END_TEST

static size_t zstd3_size(const col *c)
{
    const size_t bound = ZSTD_compressBound(c->len);
    void *tmp = malloc(bound);
    const size_t size = ZSTD_compress(tmp, bound, c->heap, c->len, 3);
    ck_assert(!ZSTD_isError(size));
    free(tmp);
    return size;
}

START_TEST(json_with_trained_dict_beats_zstd3)
{
    /* The dictionary is trained on 2000 earlier events of the table; the
     * batches are later events. zstd -3 gets the bare concatenation (no
     * lengths or separators), so the codec pays for its row boundaries.
     * From 128 rows TEMPLATE is tried too, and wins. */
    test_dict dict;
    dict_make(&dict, 0x5eed, 1, 3);
    const size_t rows[] = {64, 256, 1024};
    for (int k = 0; k < 3; k++) {
        col c;
        uint64_t ts = 1715000000000ull;
        seed(500 + (uint64_t)k);
        col_init(&c);
        gen_json(&c, rows[k], &ts);
        hr__str_opts o = opts_zstd(3);
        o.dict = &dict.handle;
        hr__wbuf out;
        encode(&out, &c, &o);
        const int want = rows[k] < 128 ? HR__STR_ZSTD : HR__STR_TEMPLATE;
        ck_assert_int_eq(out.data[0], want);
        const size_t z3 = zstd3_size(&c);
        ck_assert_msg(out.len < z3, "%zu rows: %zu bytes vs zstd -3 %zu",
                      rows[k], out.len, z3);
        ck_assert_int_eq(roundtrip(&c, &o, &dict), want);
        hr__wbuf_free(&out);
        col_free(&c);
    }
    dict_free(&dict);
}
END_TEST

/*
 * One encoding of each wire shape, checked by its leading bytes: scheme,
 * then (compressed) layout or (DICT) distinct count, nested scheme, codes.
 */
typedef struct shape {
    const char *name;
    col c;
    hr__str_opts o;
    hr__wbuf enc;
} shape;

enum { NSHAPES = 12 };

static test_dict shapes_dict;

static void shapes_make(shape *s)
{
    dict_make(&shapes_dict, 77, 99, 3);
    for (int k = 0; k < NSHAPES; k++) {
        col_init(&s[k].c);
        s[k].o = opts_zstd(3);
    }
    uint64_t ts = 1714000000000ull;
    seed(31);
    s[0].name = "plain";
    gen_random_bytes(&s[0].c, 100, 40);
    s[1].name = "dict, int codes, plain values";
    gen_status_runs(&s[1].c, 300, 40);
    s[2].name = "dict, zstd codes, compressed values";
    for (int i = 0; i < 1000; i++) {
        char b[64];
        const unsigned z = zipf(64);
        snprintf(b, sizeof b, "value-number-%u-of-the-dictionary%.*s", z,
                 (int)(z % 17), "+++++++++++++++++");
        col_adds(&s[2].c, b);
    }
    s[3].name = "zstd, NUL layout";
    gen_text(&s[3].c, 200);
    s[4].name = "zstd, lengths layout (NUL bytes inside)";
    gen_nul_records(&s[4].c, 200);
    s[5].name = "zstd, lengths layout (constant length)";
    for (int i = 0; i < 200; i++) {
        char b[40];
        snprintf(b, sizeof b, "%08x-0000-4000-8000-%012x", rndn(16),
                 rndn(1000));
        col_adds(&s[5].c, b);
    }
    s[6].name = "zstd with dictionary";
    gen_json(&s[6].c, 60, &ts); /* below 32 KiB: the dictionary is used */
    s[6].o.dict = &shapes_dict.handle;
    s[7].name = "snappy, NUL layout";
    gen_text(&s[7].c, 200);
    s[7].o.prefer_snappy = 1;
    s[8].name = "snappy, lengths layout";
    gen_nul_records(&s[8].c, 200);
    s[8].o.prefer_snappy = 1;
    s[9].name = "template: JSON (int, dict and template columns)";
    gen_json(&s[9].c, 300, &ts);
    s[10].name = "template: log lines";
    uint64_t ms = 43200000;
    gen_log(&s[10].c, 300, &ms);
    s[11].name = "template with dictionary";
    gen_json(&s[11].c, 200, &ts);
    s[11].o.dict = &shapes_dict.handle;
    for (int k = 0; k < NSHAPES; k++)
        encode(&s[k].enc, &s[k].c, &s[k].o);
    /* Each shape is what its name says. */
    const uint8_t *e;
    ck_assert_int_eq(s[0].enc.data[0], HR__STR_PLAIN);
    e = s[1].enc.data;
    ck_assert_int_eq(e[0], HR__STR_DICT);
    ck_assert_int_eq(e[2], HR__STR_PLAIN); /* d < 128: one varint byte */
    e = s[2].enc.data;
    ck_assert_int_eq(e[0], HR__STR_DICT);
    ck_assert_int_eq(e[2], HR__STR_ZSTD);
    ck_assert_int_eq(e[3], 1); /* NUL layout */
    ck_assert_int_eq(s[3].enc.data[0], HR__STR_ZSTD);
    ck_assert_int_eq(s[3].enc.data[1], 1);
    ck_assert_int_eq(s[4].enc.data[0], HR__STR_ZSTD);
    ck_assert_int_eq(s[4].enc.data[1], 0);
    ck_assert_int_eq(s[5].enc.data[0], HR__STR_ZSTD);
    ck_assert_int_eq(s[5].enc.data[1], 0);
    ck_assert_int_eq(s[6].enc.data[0], HR__STR_ZSTD);
    ck_assert_int_eq(s[6].enc.data[2], 77); /* varint dictionary id */
    ck_assert_int_eq(s[7].enc.data[0], HR__STR_SNAPPY);
    ck_assert_int_eq(s[7].enc.data[1], 1);
    ck_assert_int_eq(s[8].enc.data[0], HR__STR_SNAPPY);
    ck_assert_int_eq(s[8].enc.data[1], 0);
    for (int k = 9; k < 12; k++)
        ck_assert_msg(s[k].enc.data[0] == HR__STR_TEMPLATE, "%s: scheme %d",
                      s[k].name, s[k].enc.data[0]);
}

static void shapes_free(shape *s)
{
    for (int k = 0; k < NSHAPES; k++) {
        col_free(&s[k].c);
        hr__wbuf_free(&s[k].enc);
    }
    dict_free(&shapes_dict);
}

/* Whether the codes of a DICT encoding are in form `form`: found by
 * decoding the encoding's prefix up to the codes. */
static int dict_codes_form(const shape *s)
{
    hr__rbuf in;
    hr__rbuf_init(&in, s->enc.data, s->enc.len);
    uint8_t scheme;
    uint64_t d;
    hr__rbuf_get_u8(&in, &scheme);
    hr__rbuf_get_varint(&in, &d);
    uint32_t *offs = malloc((d + 1) * sizeof *offs);
    hr__wbuf values;
    hr__wbuf_init(&values, env);
    hr__str_dec dec = dec_default(NULL);
    /* The values block alone is a string block of d strings. */
    ck_assert_int_eq(hr__str_decode(&in, d, offs, &values, &dec, env), HR_OK);
    uint8_t form = 0xff;
    hr__rbuf_get_u8(&in, &form);
    hr__wbuf_free(&values);
    free(offs);
    return form;
}

START_TEST(every_shape_roundtrips)
{
    shape s[NSHAPES];
    shapes_make(s);
    ck_assert_int_eq(dict_codes_form(&s[1]), 0);
    ck_assert_int_eq(dict_codes_form(&s[2]), 1);
    for (int k = 0; k < NSHAPES; k++)
        roundtrip(&s[k].c, &s[k].o, &shapes_dict);
    shapes_free(s);
}
END_TEST

START_TEST(every_truncation_is_corrupt)
{
    shape s[NSHAPES];
    shapes_make(s);
    hr__str_dec d = dec_default(&shapes_dict);
    for (int k = 0; k < NSHAPES; k++) {
        uint32_t *offsets = malloc((s[k].c.n + 1) * sizeof *offsets);
        for (size_t len = 0; len < s[k].enc.len; len++) {
            /* A copy of exactly `len` bytes, so ASan sees any overread. */
            uint8_t *cut = malloc(len ? len : 1);
            memcpy(cut, s[k].enc.data, len);
            hr__wbuf heap;
            int rc = decode(cut, len, s[k].c.n, &d, &heap, offsets, NULL);
            ck_assert_msg(rc == HR_ECORRUPT, "%s: %zu of %zu bytes -> %d",
                          s[k].name, len, s[k].enc.len, rc);
            ck_assert_uint_eq(heap.len, 0); /* restored on failure */
            hr__wbuf_free(&heap);
            free(cut);
        }
        free(offsets);
    }
    shapes_free(s);
}
END_TEST

START_TEST(random_corruption_never_crashes)
{
    shape s[NSHAPES];
    shapes_make(s);
    seed(77);
    hr__str_dec d = dec_default(&shapes_dict);
    d.max_bytes = 1 << 20;
    int outcomes[5] = {0};
    for (int k = 0; k < NSHAPES; k++) {
        const size_t n = s[k].c.n, len = s[k].enc.len;
        uint32_t *offsets = malloc((n + 1) * sizeof *offsets);
        uint8_t *bad = malloc(len);
        for (int iter = 0; iter < 1500; iter++) {
            memcpy(bad, s[k].enc.data, len);
            const unsigned flips = 1 + rndn(4);
            for (unsigned f = 0; f < flips; f++) {
                /* mostly the header bytes, where the structure is */
                const size_t at = rndn(2) ? rndn(len < 24 ? (unsigned)len : 24)
                                          : rndn((unsigned)len);
                bad[at] = rndn(3) ? (uint8_t)(bad[at] ^ (1u << rndn(8)))
                                  : (uint8_t)rnd();
            }
            hr__wbuf heap;
            const int rc = decode(bad, len, n, &d, &heap, offsets, NULL);
            ck_assert_msg(rc == HR_OK || rc == HR_ECORRUPT || rc == HR_ELIMIT ||
                              rc == HR_ENOTFOUND,
                          "%s: rc %d", s[k].name, rc);
            if (rc == HR_OK) {
                ck_assert_uint_eq(offsets[0], 0);
                for (size_t i = 0; i < n; i++)
                    ck_assert_uint_le(offsets[i], offsets[i + 1]);
                ck_assert_uint_eq(offsets[n], heap.len);
                ck_assert_uint_le(heap.len, d.max_bytes);
            } else {
                ck_assert_uint_eq(heap.len, 0);
            }
            outcomes[rc == HR_OK ? 0 : rc == HR_ECORRUPT ? 1 : 2]++;
            hr__wbuf_free(&heap);
        }
        free(bad);
        free(offsets);
    }
    ck_assert_int_gt(outcomes[1], 0);
    shapes_free(s);
}
END_TEST

START_TEST(unknown_dictionary_is_notfound)
{
    test_dict a, b;
    dict_make(&a, 1001, 5, 3);
    dict_make(&b, 1002, 6, 3);
    col c;
    uint64_t ts = 1716000000000ull;
    seed(41);
    col_init(&c);
    gen_json(&c, 200, &ts);
    hr__str_opts o = opts_zstd(3);
    o.dict = &a.handle;
    hr__wbuf out, heap;
    encode(&out, &c, &o);
    uint32_t *offsets = malloc((c.n + 1) * sizeof *offsets);
    /* No lookup, a lookup that knows another id, and the right one. */
    hr__str_dec d = {dctx, NULL, NULL, 1 << 24};
    ck_assert_int_eq(decode(out.data, out.len, c.n, &d, &heap, offsets, NULL),
                     HR_ENOTFOUND);
    hr__wbuf_free(&heap);
    d = dec_default(&b);
    ck_assert_int_eq(decode(out.data, out.len, c.n, &d, &heap, offsets, NULL),
                     HR_ENOTFOUND);
    hr__wbuf_free(&heap);
    d = dec_default(&a);
    ck_assert_int_eq(decode(out.data, out.len, c.n, &d, &heap, offsets, NULL),
                     HR_OK);
    assert_same(&c, &heap, offsets);
    hr__wbuf_free(&heap);
    /* The id is known but names a different dictionary than the frame's. */
    b.handle.id = 1001;
    d = dec_default(&b);
    ck_assert_int_eq(decode(out.data, out.len, c.n, &d, &heap, offsets, NULL),
                     HR_ECORRUPT);
    hr__wbuf_free(&heap);
    b.handle.id = 1002;
    free(offsets);
    hr__wbuf_free(&out);
    col_free(&c);
    dict_free(&a);
    dict_free(&b);
}
END_TEST

START_TEST(max_bytes_is_limit)
{
    shape s[NSHAPES];
    shapes_make(s);
    for (int k = 0; k < NSHAPES; k++) {
        uint32_t *offsets = malloc((s[k].c.n + 1) * sizeof *offsets);
        hr__str_dec d = dec_default(&shapes_dict);
        hr__wbuf heap;
        d.max_bytes = s[k].c.len - 1;
        ck_assert_msg(decode(s[k].enc.data, s[k].enc.len, s[k].c.n, &d, &heap,
                             offsets, NULL) == HR_ELIMIT,
                      "%s", s[k].name);
        ck_assert_uint_eq(heap.len, 0);
        hr__wbuf_free(&heap);
        d.max_bytes = s[k].c.len;
        ck_assert_int_eq(decode(s[k].enc.data, s[k].enc.len, s[k].c.n, &d,
                                &heap, offsets, NULL),
                         HR_OK);
        assert_same(&s[k].c, &heap, offsets);
        hr__wbuf_free(&heap);
        free(offsets);
    }
    shapes_free(s);
}
END_TEST

/* Hand-made payloads a correct encoder never writes. */
static int decode_crafted(const hr__wbuf *w, size_t n, size_t max_bytes)
{
    uint32_t offsets[64];
    ck_assert_uint_le(n, 63);
    hr__str_dec d = dec_default(NULL);
    d.max_bytes = max_bytes;
    hr__wbuf heap;
    const int rc = decode(w->data, w->len, n, &d, &heap, offsets, NULL);
    hr__wbuf_free(&heap);
    return rc;
}

static void put_lengths(hr__wbuf *w, const int64_t *lens, size_t n)
{
    hr__int_encode(w, lens, n, 3);
}

static void put_zstd_frame(hr__wbuf *w, const void *src, size_t len)
{
    uint8_t frame[512];
    const size_t size = ZSTD_compress(frame, sizeof frame, src, len, 1);
    ck_assert(!ZSTD_isError(size));
    hr__wbuf_put_varint(w, size);
    hr__wbuf_put(w, frame, size);
}

START_TEST(crafted_inconsistencies_are_rejected)
{
    hr__wbuf w;
    const int64_t lens2[2] = {3, 2};
    /* Unknown scheme byte. */
    hr__wbuf_init(&w, env);
    hr__wbuf_put_u8(&w, 5);
    ck_assert_int_eq(decode_crafted(&w, 1, 100), HR_ECORRUPT);
    hr__wbuf_free(&w);
    /* Negative length. */
    hr__wbuf_init(&w, env);
    hr__wbuf_put_u8(&w, HR__STR_PLAIN);
    const int64_t neg[2] = {-1, 6};
    put_lengths(&w, neg, 2);
    hr__wbuf_put(&w, "abcde", 5);
    ck_assert_int_eq(decode_crafted(&w, 2, 100), HR_ECORRUPT);
    hr__wbuf_free(&w);
    /* Lengths larger than the input. */
    hr__wbuf_init(&w, env);
    hr__wbuf_put_u8(&w, HR__STR_PLAIN);
    put_lengths(&w, lens2, 2);
    hr__wbuf_put(&w, "abcd", 4);
    ck_assert_int_eq(decode_crafted(&w, 2, 100), HR_ECORRUPT);
    /* ... but a huge declared total is ELIMIT before anything is read. */
    hr__wbuf_free(&w);
    hr__wbuf_init(&w, env);
    hr__wbuf_put_u8(&w, HR__STR_PLAIN);
    const int64_t huge[2] = {UINT32_MAX, UINT32_MAX};
    put_lengths(&w, huge, 2);
    ck_assert_int_eq(decode_crafted(&w, 2, 1 << 20), HR_ELIMIT);
    hr__wbuf_free(&w);
    /* A zstd frame whose content size disagrees with the lengths. */
    hr__wbuf_init(&w, env);
    hr__wbuf_put_u8(&w, HR__STR_ZSTD);
    hr__wbuf_put_u8(&w, 0);
    put_lengths(&w, lens2, 2);
    hr__wbuf_put_varint(&w, 0);
    put_zstd_frame(&w, "abcdef", 6);
    ck_assert_int_eq(decode_crafted(&w, 2, 100), HR_ECORRUPT);
    hr__wbuf_free(&w);
    /* The right frame, with a byte after it inside the declared size. */
    hr__wbuf_init(&w, env);
    hr__wbuf_put_u8(&w, HR__STR_ZSTD);
    hr__wbuf_put_u8(&w, 0);
    put_lengths(&w, lens2, 2);
    hr__wbuf_put_varint(&w, 0);
    {
        uint8_t frame[64];
        size_t size = ZSTD_compress(frame, sizeof frame, "abcde", 5, 1);
        frame[size++] = 0;
        hr__wbuf_put_varint(&w, size);
        hr__wbuf_put(&w, frame, size);
    }
    ck_assert_int_eq(decode_crafted(&w, 2, 100), HR_ECORRUPT);
    hr__wbuf_free(&w);
    /* Two frames back to back in the declared size. */
    hr__wbuf_init(&w, env);
    hr__wbuf_put_u8(&w, HR__STR_ZSTD);
    hr__wbuf_put_u8(&w, 0);
    put_lengths(&w, lens2, 2);
    hr__wbuf_put_varint(&w, 0);
    {
        uint8_t frame[128];
        size_t a = ZSTD_compress(frame, sizeof frame, "abc", 3, 1);
        size_t b = ZSTD_compress(frame + a, sizeof frame - a, "de", 2, 1);
        hr__wbuf_put_varint(&w, a + b);
        hr__wbuf_put(&w, frame, a + b);
    }
    ck_assert_int_eq(decode_crafted(&w, 2, 100), HR_ECORRUPT);
    hr__wbuf_free(&w);
    /* NUL layout: bytes after the last terminator; too few terminators;
     * a declared content beyond max_bytes. */
    const char *nul_cases[3] = {"abc\0de\0x", "abc\0de", "abc\0de\0"};
    const size_t nul_lens[3] = {8, 6, 7};
    const int nul_rc[3] = {HR_ECORRUPT, HR_ECORRUPT, HR_ELIMIT};
    for (int k = 0; k < 3; k++) {
        hr__wbuf_init(&w, env);
        hr__wbuf_put_u8(&w, HR__STR_ZSTD);
        hr__wbuf_put_u8(&w, 1);
        hr__wbuf_put_varint(&w, 0);
        put_zstd_frame(&w, nul_cases[k], nul_lens[k]);
        ck_assert_int_eq(decode_crafted(&w, 2, k == 2 ? 4 : 100), nul_rc[k]);
        hr__wbuf_free(&w);
    }
    /* Unknown layout byte. */
    hr__wbuf_init(&w, env);
    hr__wbuf_put_u8(&w, HR__STR_SNAPPY);
    hr__wbuf_put_u8(&w, 2);
    ck_assert_int_eq(decode_crafted(&w, 2, 100), HR_ECORRUPT);
    hr__wbuf_free(&w);
    /* DICT: more distinct values than rows; none for some rows; a nested
     * DICT; a code out of range; zstd codes form with d > 256. */
    const uint64_t bad_d[2] = {3, 0};
    for (int k = 0; k < 2; k++) {
        hr__wbuf_init(&w, env);
        hr__wbuf_put_u8(&w, HR__STR_DICT);
        hr__wbuf_put_varint(&w, bad_d[k]);
        ck_assert_int_eq(decode_crafted(&w, 2, 100), HR_ECORRUPT);
        hr__wbuf_free(&w);
    }
    hr__wbuf_init(&w, env);
    hr__wbuf_put_u8(&w, HR__STR_DICT);
    hr__wbuf_put_varint(&w, 1);
    hr__wbuf_put_u8(&w, HR__STR_DICT);
    ck_assert_int_eq(decode_crafted(&w, 2, 100), HR_ECORRUPT);
    hr__wbuf_free(&w);
    const int64_t codes_bad[2] = {0, 1};
    const int64_t one_len[1] = {3};
    hr__wbuf_init(&w, env);
    hr__wbuf_put_u8(&w, HR__STR_DICT);
    hr__wbuf_put_varint(&w, 1);
    hr__wbuf_put_u8(&w, HR__STR_PLAIN);
    put_lengths(&w, one_len, 1);
    hr__wbuf_put(&w, "abc", 3);
    hr__wbuf_put_u8(&w, 0);
    put_lengths(&w, codes_bad, 2);
    ck_assert_int_eq(decode_crafted(&w, 2, 100), HR_ECORRUPT);
    hr__wbuf_free(&w);
    /* The same with valid codes decodes; with max_bytes 5 it is ELIMIT
     * (2 x 3 bytes), though the values alone fit. */
    const int64_t codes_ok[2] = {0, 0};
    hr__wbuf_init(&w, env);
    hr__wbuf_put_u8(&w, HR__STR_DICT);
    hr__wbuf_put_varint(&w, 1);
    hr__wbuf_put_u8(&w, HR__STR_PLAIN);
    put_lengths(&w, one_len, 1);
    hr__wbuf_put(&w, "abc", 3);
    hr__wbuf_put_u8(&w, 0);
    put_lengths(&w, codes_ok, 2);
    ck_assert_int_eq(decode_crafted(&w, 2, 100), HR_OK);
    ck_assert_int_eq(decode_crafted(&w, 2, 5), HR_ELIMIT);
    hr__wbuf_free(&w);
    /* zstd codes: a code byte >= d, and a frame of the wrong length. */
    const char *code_frames[2] = {"\0\1", "\0\0\0"};
    for (int k = 0; k < 2; k++) {
        hr__wbuf_init(&w, env);
        hr__wbuf_put_u8(&w, HR__STR_DICT);
        hr__wbuf_put_varint(&w, 1);
        hr__wbuf_put_u8(&w, HR__STR_PLAIN);
        put_lengths(&w, one_len, 1);
        hr__wbuf_put(&w, "abc", 3);
        hr__wbuf_put_u8(&w, 1);
        put_zstd_frame(&w, code_frames[k], (size_t)(2 + k));
        ck_assert_int_eq(decode_crafted(&w, 2, 100), HR_ECORRUPT);
        hr__wbuf_free(&w);
    }
}
END_TEST

/* Failing-allocator sweeps: every allocation failure is HR_ENOMEM. */
typedef struct sweep_state {
    const col *c;
    hr__str_opts o;
    const hr__wbuf *enc;
    const test_dict *dict;
} sweep_state;

static int encode_op(hr_env *e, void *state)
{
    sweep_state *s = state;
    hr__wbuf out;
    hr__wbuf_init(&out, e);
    hr__str_encode(&out, s->c->heap, s->c->off, s->c->n, &s->o);
    const int rc = out.failed ? HR_ENOMEM : HR_OK;
    hr__wbuf_free(&out);
    return rc;
}

static int decode_op(hr_env *e, void *state)
{
    sweep_state *s = state;
    uint32_t *offsets = malloc((s->c->n + 1) * sizeof *offsets);
    hr__rbuf in;
    hr__rbuf_init(&in, s->enc->data, s->enc->len);
    hr__wbuf heap;
    hr__wbuf_init(&heap, e);
    hr__str_dec d = dec_default(s->dict);
    const int rc = hr__str_decode(&in, s->c->n, offsets, &heap, &d, e);
    hr__wbuf_free(&heap);
    free(offsets);
    return rc;
}

START_TEST(allocation_failures_are_enomem)
{
    shape s[NSHAPES];
    shapes_make(s);
    for (int k = 0; k < NSHAPES; k++) {
        sweep_state st = {&s[k].c, s[k].o, &s[k].enc, &shapes_dict};
        char why[256] = "";
        long points =
            failing_allocator_sweep(encode_op, NULL, &st, why, sizeof why);
        ck_assert_msg(points > 0, "encode %s: %ld (%s)", s[k].name, points,
                      why);
        points = failing_allocator_sweep(decode_op, NULL, &st, why, sizeof why);
        ck_assert_msg(points > 0, "decode %s: %ld (%s)", s[k].name, points,
                      why);
    }
    shapes_free(s);
}
END_TEST

typedef struct train_state {
    const col *samples;
    const size_t *sizes;
} train_state;

static int train_op(hr_env *e, void *state)
{
    const train_state *t = state;
    uint8_t *dict;
    size_t len;
    const int rc =
        hr__str_train_dict(e, t->samples->heap, t->sizes,
                           (unsigned)t->samples->n, 8 << 10, &dict, &len);
    if (rc == HR_OK)
        hr__free(e, dict);
    return rc;
}

START_TEST(train_dict_results_and_errors)
{
    col samples;
    uint64_t ts = 1714000000000ull;
    seed(61);
    col_init(&samples);
    gen_json(&samples, 1000, &ts);
    size_t *sizes = malloc(1000 * sizeof *sizes);
    for (size_t i = 0; i < 1000; i++)
        sizes[i] = samples.off[i + 1] - samples.off[i];
    uint8_t *dict = (uint8_t *)1;
    size_t len = 1;
    /* Arguments that cannot train. */
    ck_assert_int_eq(
        hr__str_train_dict(env, samples.heap, sizes, 0, 4096, &dict, &len),
        HR_EINVAL);
    ck_assert_ptr_null(dict);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(
        hr__str_train_dict(env, samples.heap, sizes, 1000, 0, &dict, &len),
        HR_EINVAL);
    /* Too few samples. */
    ck_assert_int_eq(
        hr__str_train_dict(env, samples.heap, sizes, 3, 4096, &dict, &len),
        HR_EINVAL);
    ck_assert_ptr_null(dict);
    /* Enough: a zstd dictionary with an id, within the capacity. */
    ck_assert_int_eq(
        hr__str_train_dict(env, samples.heap, sizes, 1000, 4096, &dict, &len),
        HR_OK);
    ck_assert_uint_le(len, 4096);
    ck_assert_uint_gt(len, 256);
    ck_assert_uint_ne(ZSTD_getDictID_fromDict(dict, len), 0);
    hr__free(env, dict);
    /* Allocation failure. */
    train_state t = {&samples, sizes};
    char why[256] = "";
    long points = failing_allocator_sweep(train_op, NULL, &t, why, sizeof why);
    ck_assert_msg(points == 1, "sweep: %ld (%s)", points, why);
    free(sizes);
    col_free(&samples);
}
END_TEST

static Suite *codec_strings_suite(void)
{
    Suite *s = suite_create("codec_strings");
    TCase *tc = tcase_create("codec_strings");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, scheme_ids_are_pinned);
    tcase_add_test(tc, roundtrip_edge_cases);
    tcase_add_test(tc, roundtrip_every_shape);
    tcase_add_test(tc, heap_slices_and_shared_heaps);
    tcase_add_test(tc, low_cardinality_is_dict);
    tcase_add_test(tc, text_is_zstd_or_snappy_random_is_plain);
    tcase_add_test(tc, dictionary_only_on_small_blocks);
    tcase_add_test(tc, json_with_trained_dict_beats_zstd3);
    tcase_add_test(tc, every_shape_roundtrips);
    tcase_add_test(tc, every_truncation_is_corrupt);
    tcase_add_test(tc, random_corruption_never_crashes);
    tcase_add_test(tc, unknown_dictionary_is_notfound);
    tcase_add_test(tc, max_bytes_is_limit);
    tcase_add_test(tc, crafted_inconsistencies_are_rejected);
    tcase_add_test(tc, allocation_failures_are_enomem);
    tcase_add_test(tc, train_dict_results_and_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(codec_strings_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
