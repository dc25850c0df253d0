/*
 * fuzz_strcodec.c - libFuzzer target for the string column codec
 * (lib/codec/strcodec.c): hr__str_decode of arbitrary bytes, and
 * hr__str_encode -> hr__str_decode round trips of arbitrary columns.
 *
 * Input: byte 0 chooses the mode.
 *   even: decode. Bytes 1-2 give n (u16 LE mod 4097), the rest is decoded
 *         with max_bytes 1 MiB and a lookup that knows dictionary FUZZ_DICT_ID.
 *   odd:  round trip. Byte 1 holds options (bit 0 snappy, bit 1 dictionary,
 *         bit 2 no CCtx, bits 3-5 zstd level, bit 6 repeats renumbered,
 *         bit 7 TEMPLATE forced), the rest describes a column as ops (see
 *         column_from); it must decode to itself, exactly at max_bytes =
 *         its size and with HR_ELIMIT one byte below. Renumbered repeats
 *         change the digits of the strings they copy (rows that share a
 *         template); a forced TEMPLATE is hr__tpl_encode's own encoding,
 *         when the column fits one.
 *
 * The seed corpus (tests/fuzz/corpus/strcodec) holds real encodings of every
 * wire shape; it is written by this file built with -DFUZZ_STRCODEC_CORPUS:
 *   clang -DFUZZ_STRCODEC_CORPUS ... tests/fuzz/fuzz_strcodec.c -o mk
 *   ./mk tests/fuzz/corpus/strcodec
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zdict.h>
#include <zstd.h>

#include <heliosrepl/heliosrepl.h>

#include "codec/strcodec.h"
#include "codec/strtpl.h"

#define FUZZ_MAX_ROWS 4096
#define FUZZ_MAX_BYTES (1u << 20)
/* Round-trip columns stay smaller: every encoder pass (the tokenizer,
 * renumbering) is a per-byte loop under coverage instrumentation. */
#define FUZZ_COLUMN_BYTES (1u << 17)
#define FUZZ_DICT_ID 4242u

static hr_env *env;
static ZSTD_CCtx *cctx;
static ZSTD_DCtx *dctx;
static hr__str_dict dict;
static uint32_t offsets[FUZZ_MAX_ROWS + 1];
static size_t consumed; /* input bytes the last decode read */

/* A deterministic generator, for the dictionary and the corpus. */
static uint64_t gen_state;

static uint32_t gen(void)
{
    gen_state = gen_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(gen_state >> 33);
}

/* One JSON event of the kind the dictionary is made for. */
static int gen_event(char *b, size_t cap)
{
    static const char *const ev[4] = {"click", "view", "purchase", "search"};
    return snprintf(b, cap,
                    "{\"ts\":%u,\"user\":\"u%u\",\"event\":\"%s\",\"props\":"
                    "{\"page\":\"/p/%u\",\"device\":\"%s\"}}",
                    1700000000u + gen() % 100000, gen() % 5000, ev[gen() % 4],
                    gen() % 100, gen() % 2 ? "mobile" : "desktop");
}

/* A zstd dictionary with a fixed id, built the same way every time. */
static void make_dict(void)
{
    enum { NS = 200 };
    static char samples[NS * 128];
    static size_t sizes[NS];
    static uint8_t content[2048], bytes[8192];
    size_t len = 0;
    gen_state = 1;
    for (int i = 0; i < NS; i++) {
        sizes[i] = (size_t)gen_event(samples + len, 128);
        len += sizes[i];
    }
    memcpy(content, samples, sizeof content);
    ZDICT_params_t params = {0, 0, FUZZ_DICT_ID};
    size_t dlen =
        ZDICT_finalizeDictionary(bytes, sizeof bytes, content, sizeof content,
                                 samples, sizes, NS, params);
    if (ZDICT_isError(dlen))
        abort();
    dict.id = FUZZ_DICT_ID;
    dict.cdict = ZSTD_createCDict(bytes, dlen, 3);
    dict.ddict = ZSTD_createDDict(bytes, dlen);
    if (!dict.cdict || !dict.ddict ||
        ZSTD_getDictID_fromDDict(dict.ddict) != FUZZ_DICT_ID)
        abort();
}

static void init_once(void)
{
    if (env)
        return;
    if (hr_env_new(&env, NULL) != HR_OK)
        abort();
    cctx = ZSTD_createCCtx();
    dctx = ZSTD_createDCtx();
    if (!cctx || !dctx)
        abort();
    make_dict();
}

static const ZSTD_DDict *lookup(void *ctx, uint32_t id)
{
    (void)ctx;
    return id == FUZZ_DICT_ID ? dict.ddict : NULL;
}

/* Decode and check what an HR_OK promises. */
static int decode(const uint8_t *data, size_t size, size_t n, size_t max_bytes,
                  hr__wbuf *heap)
{
    hr__str_dec dec = {dctx, lookup, NULL, max_bytes};
    hr__rbuf in;
    hr__rbuf_init(&in, data, size);
    hr__wbuf_init(heap, env);
    int rc = hr__str_decode(&in, n, offsets, heap, &dec, env);
    consumed = in.pos;
    if (rc == HR_OK) {
        if (offsets[0] != 0 || offsets[n] != heap->len || heap->len > max_bytes)
            abort();
        for (size_t i = 0; i < n; i++)
            if (offsets[i] > offsets[i + 1])
                abort();
    } else if (rc != HR_ECORRUPT && rc != HR_ELIMIT && rc != HR_ENOTFOUND) {
        abort(); /* no ENOMEM with the system allocator at these sizes */
    } else if (heap->len != 0) {
        abort(); /* a failed decode leaves the heap as it was */
    }
    return rc;
}

/* A column built from ops, over a heap of at most FUZZ_COLUMN_BYTES. */
typedef struct column {
    uint8_t *heap;
    uint32_t off[FUZZ_MAX_ROWS + 1];
    size_t n, len;
} column;

static void column_add(column *c, const uint8_t *p, size_t len)
{
    if (c->n == FUZZ_MAX_ROWS || len > FUZZ_COLUMN_BYTES - c->len)
        return;
    memcpy(c->heap + c->len, p, len);
    c->len += len;
    c->off[++c->n] = (uint32_t)c->len;
}

/* Copy len bytes, the digits of the first 64 moved on by `shift` (mod 10;
 * a per-byte loop is slow under coverage instrumentation). */
static void renumber(uint8_t *dst, const uint8_t *src, size_t len,
                     unsigned shift)
{
    memcpy(dst, src, len);
    for (size_t i = 0; i < len && i < 64; i++) {
        const uint8_t b = src[i];
        dst[i] =
            b >= '0' && b <= '9' ? (uint8_t)('0' + (b - '0' + shift) % 10) : b;
        shift = shift * 7 + 3;
    }
}

/*
 * Ops: c < 0x40: a new string of the next c bytes; 0x40..0x7f: a repeat of
 * an earlier string (low-cardinality columns; renumbered: the same shape
 * with other digits); 0x80..0xff: the next byte repeated (c & 0x7f) * 16
 * times (long, compressible strings).
 */
static void column_from(column *c, const uint8_t *p, size_t size,
                        int renumbered)
{
    size_t i = 0;
    c->n = c->len = 0;
    c->off[0] = 0;
    while (i < size && c->n < FUZZ_MAX_ROWS) {
        const uint8_t op = p[i++];
        if (op < 0x40) {
            const size_t len = op <= size - i ? op : size - i;
            column_add(c, p + i, len);
            i += len;
        } else if (op < 0x80) {
            if (c->n == 0) {
                column_add(c, p, 0);
                continue;
            }
            const size_t k = c->n - 1 - (op - 0x40u) % c->n;
            const size_t len = c->off[k + 1] - c->off[k];
            if (renumbered && len <= FUZZ_COLUMN_BYTES - c->len) {
                /* written in place after every string: no overlap */
                renumber(c->heap + c->len, c->heap + c->off[k], len,
                         (unsigned)c->n);
                c->len += len;
                c->off[++c->n] = (uint32_t)c->len;
            } else {
                column_add(c, c->heap + c->off[k], len);
            }
        } else {
            const uint8_t byte = i < size ? p[i++] : 0;
            uint8_t run[0x7f * 16];
            const size_t len = (size_t)(op & 0x7f) * 16;
            memset(run, byte, len);
            column_add(c, run, len);
        }
    }
}

static void round_trip(const uint8_t *data, size_t size)
{
    static const int levels[8] = {-1, 1, 2, 3, 4, 6, 9, 12};
    static column c;
    if (!c.heap && !(c.heap = malloc(FUZZ_COLUMN_BYTES)))
        abort();
    if (size < 1)
        return;
    const uint8_t flags = data[0];
    column_from(&c, data + 1, size - 1, flags & 0x40);
    hr__str_opts opts = {levels[(flags >> 3) & 7], flags & 1,
                         flags & 2 ? &dict : NULL, flags & 4 ? NULL : cctx};
    hr__wbuf out;
    hr__wbuf_init(&out, env);
    if (!(flags & 0x80) || c.n == 0 ||
        !hr__tpl_encode(&out, c.heap, c.off, c.n, &opts, 2,
                        HR__TPL_MAX_TEMPLATES))
        hr__str_encode(&out, c.heap, c.off, c.n, &opts);
    if (out.failed)
        abort();
    hr__wbuf heap;
    if (decode(out.data, out.len, c.n, c.len, &heap) != HR_OK ||
        consumed != out.len || heap.len != c.len ||
        (c.len && memcmp(heap.data, c.heap, c.len)) ||
        memcmp(offsets, c.off, (c.n + 1) * sizeof *offsets))
        abort();
    hr__wbuf_free(&heap);
    if (c.len > 0 &&
        decode(out.data, out.len, c.n, c.len - 1, &heap) != HR_ELIMIT)
        abort();
    hr__wbuf_free(&heap);
    hr__wbuf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    if (size < 1)
        return 0;
    if (data[0] & 1) {
        round_trip(data + 1, size - 1);
        return 0;
    }
    if (size < 3)
        return 0;
    const size_t n = (size_t)(data[1] | data[2] << 8) % (FUZZ_MAX_ROWS + 1);
    hr__wbuf heap;
    decode(data + 3, size - 3, n, FUZZ_MAX_BYTES, &heap);
    hr__wbuf_free(&heap);
    return 0;
}

#ifdef FUZZ_STRCODEC_CORPUS
/* Seed writer: real encodings of each wire shape, plus round-trip seeds. */
static const char *corpus_dir;
static int seeds;

static void write_seed(const uint8_t *p, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/seed-%02d", corpus_dir, seeds++);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, len, f) != len || fclose(f) != 0)
        abort();
}

static void seed_encoding(const column *c, hr__str_opts opts)
{
    hr__wbuf out;
    hr__wbuf_init(&out, env);
    hr__wbuf_put_u8(&out, 0);
    hr__wbuf_put_u16(&out, (uint16_t)c->n);
    hr__str_encode(&out, c->heap, c->off, c->n, &opts);
    hr__wbuf heap;
    if (out.failed || decode(out.data + 3, out.len - 3, c->n, c->len, &heap))
        abort();
    hr__wbuf_free(&heap);
    write_seed(out.data, out.len);
    hr__wbuf_free(&out);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    corpus_dir = argv[1];
    init_once();
    static column c;
    c.heap = malloc(FUZZ_COLUMN_BYTES);
    const hr__str_opts zstd3 = {3, 0, NULL, cctx};
    const hr__str_opts snappy = {3, 1, NULL, cctx};
    const hr__str_opts with_dict = {3, 0, &dict, cctx};
    static const char *const names[20] = {
        "completed", "pending",    "shipped",    "refunded",    "returned",
        "on_hold",   "processing", "delivered",  "cancelled",   "disputed",
        "archived",  "draft",      "in_transit", "backordered", "failed",
        "approved",  "rejected",   "expired",    "queued",      "paused"};
    char b[256];
    gen_state = 99;
    /* n = 0; all empty; one string */
    c.n = c.len = 0;
    c.off[0] = 0;
    seed_encoding(&c, zstd3);
    for (int i = 0; i < 50; i++)
        column_add(&c, (const uint8_t *)"", 0);
    seed_encoding(&c, zstd3);
    c.n = c.len = 0;
    column_add(&c, (const uint8_t *)"hello", 5);
    seed_encoding(&c, zstd3);
    /* DICT: runs (int codes), uniform (zstd codes), with empty values */
    for (int shape = 0; shape < 3; shape++) {
        c.n = c.len = 0;
        const char *cur = names[0];
        for (int i = 0; i < 1000; i++) {
            if (shape == 0 ? gen() % 10 == 0 : 1)
                cur = shape == 2 && gen() % 4 == 0 ? "" : names[gen() % 20];
            column_add(&c, (const uint8_t *)cur, strlen(cur));
        }
        seed_encoding(&c, zstd3);
    }
    /* DICT with many long values (a compressed values block) */
    c.n = c.len = 0;
    for (int i = 0; i < 400; i++) {
        const unsigned v = gen() % 50;
        const int k = snprintf(b, sizeof b, "a-longer-dictionary-value-%u%.*s",
                               v, (int)(v % 9), "________");
        column_add(&c, (const uint8_t *)b, (size_t)k);
    }
    seed_encoding(&c, zstd3);
    /* JSON: zstd NUL layout, with the dictionary, snappy (below 128 rows:
     * not TEMPLATE) */
    c.n = c.len = 0;
    for (int i = 0; i < 120; i++) {
        const int k = gen_event(b, sizeof b);
        column_add(&c, (const uint8_t *)b, (size_t)k);
    }
    seed_encoding(&c, zstd3);
    seed_encoding(&c, with_dict);
    seed_encoding(&c, snappy);
    /* NUL bytes inside: lengths layout, zstd and snappy; random: PLAIN */
    c.n = c.len = 0;
    for (int i = 0; i < 200; i++) {
        uint8_t r[48] = "key";
        int k = 4;
        for (int j = 0; j < 4; j++) /* a random tag: no template fits */
            r[k++] = (uint8_t)('a' + gen() % 26);
        k += snprintf((char *)r + k, 12, "%u", gen() % 100000);
        column_add(&c, r, (size_t)k + 1 + gen() % 16);
    }
    seed_encoding(&c, zstd3);
    seed_encoding(&c, snappy);
    c.n = c.len = 0;
    for (int i = 0; i < 100; i++) {
        uint8_t r[32];
        const size_t len = gen() % 32;
        for (size_t j = 0; j < len; j++)
            r[j] = (uint8_t)gen();
        column_add(&c, r, len);
    }
    seed_encoding(&c, zstd3);
    /* Constant-length ids: zstd, lengths layout */
    c.n = c.len = 0;
    for (int i = 0; i < 200; i++) {
        const int k = snprintf(b, sizeof b, "%08x-0000-4000-8000-%012u",
                               gen() % 16, gen() % 1000);
        column_add(&c, (const uint8_t *)b, (size_t)k);
    }
    seed_encoding(&c, zstd3);
    /* TEMPLATE: JSON events (nested templates, int, digits and dictionary
     * columns), with the dictionary, log lines */
    c.n = c.len = 0;
    for (int i = 0; i < 300; i++) {
        const unsigned ms = 1000 * (unsigned)i + gen() % 1000;
        const unsigned ev = gen() % 3;
        int k = snprintf(b, sizeof b,
                         "{\"ts\": \"2024-05-01T10:%02u:%02u.%03uZ\", "
                         "\"event\": \"%s\", \"user\": %u, ",
                         ms / 60000 % 60, ms / 1000 % 60, ms % 1000,
                         ev == 0   ? "view"
                         : ev == 1 ? "click"
                                   : "buy",
                         100 + gen() % 40);
        if (ev == 2)
            k += snprintf(b + k, sizeof b - (size_t)k,
                          "\"total\": %u.%02u, \"ok\": %s}", gen() % 300,
                          gen() % 100, gen() % 4 ? "true" : "false");
        else
            k += snprintf(b + k, sizeof b - (size_t)k,
                          "\"path\": \"/p/%u\", \"x\": [%u, %d]}", gen() % 50,
                          gen() % 2000, (int)(gen() % 100) - 50);
        column_add(&c, (const uint8_t *)b, (size_t)k);
    }
    seed_encoding(&c, zstd3);
    seed_encoding(&c, with_dict);
    c.n = c.len = 0;
    for (int i = 0; i < 200; i++) {
        const int k = snprintf(
            b, sizeof b, "12:00:%02u.%03u %s [w-%u] GET /items/%u took %ums",
            (unsigned)i / 4 % 60, gen() % 1000, gen() % 5 ? "INFO" : "WARN",
            gen() % 4, gen() % 10000, gen() % 700);
        column_add(&c, (const uint8_t *)b, (size_t)k);
    }
    seed_encoding(&c, zstd3);
    /* Round-trip seeds: mode byte, flags, ops */
    static const uint8_t rt[][24] = {
        {1, 0x18, 5, 'h', 'e', 'l', 'l', 'o', 0x40, 0x40, 3, 'a', 'b', 'c',
         0x41, 0x40, 0x85, 'z'},
        {1, 0x1b, 0x90, 'q', 0x40, 0x40, 0x40, 2, 0, 1, 0x41},
        {1, 0x05, 4, 't', 'e', 'x', 't', 4, 'm', 'o', 'r', 'e', 0x81, ' ', 0x41,
         0x43},
        {1, 0x00, 0, 0, 0, 0x40, 0x40},
    };
    /* Renumbered repeats of a JSON line and a log line, 200 rows: TEMPLATE
     * chosen (flags 0x58) and forced (0xd8). */
    static const char *const lines[2] = {
        "{\"a\": 12, \"b\": \"x7\", \"c\": 3.5}", "t=10:42:07 id=981 ok"};
    for (int f = 0; f < 2; f++)
        for (int l = 0; l < 2; l++) {
            uint8_t seed[256];
            size_t k = 0;
            seed[k++] = 1;
            seed[k++] = f ? 0xd8 : 0x58;
            const size_t len = strlen(lines[l]);
            seed[k++] = (uint8_t)len;
            memcpy(seed + k, lines[l], len);
            k += len;
            for (int r = 0; r < 200; r++)
                seed[k++] = 0x40 + (uint8_t)(r % 3);
            write_seed(seed, k);
        }
    for (size_t k = 0; k < sizeof rt / sizeof rt[0]; k++)
        write_seed(rt[k], sizeof rt[k]);
    printf("%d seeds in %s\n", seeds, corpus_dir);
    return 0;
}
#endif
