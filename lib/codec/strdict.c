/*
 * strdict.c - DICT (strcodec.h, scheme 1): the distinct values once, then
 * a code per row; and the training of the zstd dictionaries the ZSTD
 * scheme may use.
 */
#include <string.h>

#define XXH_INLINE_ALL /* short keys: the hash inlined, no call */
#include <xxhash.h>
/* ZDICT_trainFromBuffer_fastCover is zstd's experimental API: its params
 * struct has kept its layout since zstd 1.3.6, but a libzstd upgrade that
 * changed it would need this library rebuilt. */
#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>

#include "intcodec.h"
#include "strcodec.h"

/* Rows hashed to estimate the distinct count, and the sample's verdict. */
#define SAMPLE_ROWS 128
#define SAMPLE_SLOTS 256
#define SAMPLE_MAX_DISTINCT (SAMPLE_ROWS * 3 / 4)

/* zstd dictionary training: fastCover with fixed parameters. The stable
 * ZDICT_trainFromBuffer searches segment sizes 50..2000 and took 76-305 ms
 * per column on 256 KiB of samples - a stall of the host's loop, once per
 * column and stream; fixed at 1000 it takes 14-70 ms, and the benchmark's
 * ratios moved by under 1% (bench-codec, docs/format.md). */
#define TRAIN_SEGMENT 1000 /* k */
#define TRAIN_DMER 8       /* d, ZDICT_trainFromBuffer's default */
#define TRAIN_LOG_FREQS 20 /* f, idem */

/* Spare bytes behind DICT's values and output for fixed-size copies. */
#define COPY_SLACK 16

/* ------------------------------------------------------------------------ */
/* Encoder                                                                   */
/* ------------------------------------------------------------------------ */

static uint64_t row_hash(const uint8_t *heap, const uint32_t *offsets, size_t i)
{
    return XXH3_64bits(heap + offsets[i], offsets[i + 1] - offsets[i]);
}

/* Whether a hashed sample of the rows has few enough distinct values. */
int hr__str_low_card(const uint8_t *heap, const uint32_t *offsets, size_t n)
{
    if (n <= SAMPLE_ROWS)
        return 1; /* the full build is as cheap as the sample */
    uint64_t seen[SAMPLE_SLOTS];
    uint8_t used[SAMPLE_SLOTS] = {0};
    unsigned distinct = 0;
    for (size_t k = 0; k < SAMPLE_ROWS; k++) {
        uint64_t h = row_hash(heap, offsets, k * (n / SAMPLE_ROWS));
        size_t slot = h & (SAMPLE_SLOTS - 1);
        while (used[slot] && seen[slot] != h)
            slot = (slot + 1) & (SAMPLE_SLOTS - 1);
        if (!used[slot]) {
            used[slot] = 1;
            seen[slot] = h;
            if (++distinct > SAMPLE_MAX_DISTINCT)
                return 0;
        }
    }
    return 1;
}

/* Scratch of the dictionary build, one allocation. */
typedef struct dict_build {
    int64_t *codes;     /* [n] */
    uint64_t *hashes;   /* [max_distinct] */
    uint32_t *first;    /* [max_distinct]: first row holding the value */
    uint32_t *doffsets; /* [max_distinct + 1] */
    uint32_t *slots;    /* [cap]: value index + 1, 0 = empty */
    uint8_t *small;     /* [n]: codes as bytes (d <= 256) */
    size_t cap;
    size_t max_distinct;
} dict_build;

static void *dict_build_alloc(const hr_env *env, dict_build *b, size_t n)
{
    b->max_distinct = n / 2;
    b->cap = 16;
    while (b->cap < 2 * b->max_distinct)
        b->cap *= 2;
    size_t md = b->max_distinct;
    size_t size = n * sizeof(int64_t) + md * sizeof(uint64_t) +
                  (2 * md + 1 + b->cap) * sizeof(uint32_t) + n;
    uint8_t *mem = hr__malloc(env, size);
    if (!mem)
        return NULL;
    b->codes = (int64_t *)mem;
    b->hashes = (uint64_t *)(b->codes + n);
    b->first = (uint32_t *)(b->hashes + md);
    b->doffsets = b->first + md;
    b->slots = b->doffsets + md + 1;
    b->small = (uint8_t *)(b->slots + b->cap);
    memset(b->slots, 0, b->cap * sizeof(uint32_t));
    return mem;
}

/* Assign codes in order of first appearance; 0 if more than max_distinct. */
static size_t dict_assign(dict_build *b, const uint8_t *heap,
                          const uint32_t *offsets, size_t n)
{
    size_t d = 0;
    const size_t mask = b->cap - 1;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = heap + offsets[i];
        const uint32_t len = offsets[i + 1] - offsets[i];
        const uint64_t h = XXH3_64bits(p, len);
        size_t slot = h & mask;
        for (;;) {
            uint32_t e = b->slots[slot];
            if (e == 0) {
                if (d == b->max_distinct)
                    return 0;
                b->slots[slot] = (uint32_t)(d + 1);
                b->hashes[d] = h;
                b->first[d] = (uint32_t)i;
                b->codes[i] = (int64_t)d++;
                break;
            }
            const uint32_t f = b->first[e - 1];
            if (b->hashes[e - 1] == h && offsets[f + 1] - offsets[f] == len &&
                memcmp(heap + offsets[f], p, len) == 0) {
                b->codes[i] = e - 1;
                break;
            }
            slot = (slot + 1) & mask;
        }
    }
    return d;
}

/*
 * The codes as ints; then, when they need at least 2 bits a row and fit a
 * byte, zstd's entropy coder on one byte per code, kept if smaller.
 */
void hr__str_encode_codes(hr__wbuf *out, const int64_t *codes, uint8_t *small,
                          size_t n, size_t d, const hr__str_opts *opts)
{
    const size_t start = out->len;
    hr__wbuf_put_u8(out, 0);
    hr__int_encode(out, codes, n, HR__STR_INT_DEPTH);
    const size_t int_size = out->len - start;
    if (out->failed || d > 256 || !opts->cctx || int_size < n / 4 + 16)
        return;
    for (size_t i = 0; i < n; i++)
        small[i] = (uint8_t)codes[i];
    const size_t bound = ZSTD_compressBound(n);
    if (hr__wbuf_reserve(out, bound) != 0)
        return;
    /* Codes are near-independent symbols: what pays is zstd's Huffman coder
     * on its literals. Short matches (a few equal codes) cost more than
     * they save there, so the fastest strategy with the longest minimum
     * match: 10% smaller than level 1 and twice as fast. The parameters
     * are sticky; they are reset for the CCtx's other users. */
    uint8_t *dst = out->data + out->len;
    ZSTD_CCtx *cctx = opts->cctx;
    size_t csize = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1);
    if (!ZSTD_isError(csize))
        csize = ZSTD_CCtx_setParameter(cctx, ZSTD_c_strategy, ZSTD_fast);
    if (!ZSTD_isError(csize))
        csize = ZSTD_CCtx_setParameter(cctx, ZSTD_c_minMatch, 7);
    if (!ZSTD_isError(csize))
        csize = ZSTD_compress2(cctx, dst, bound, small, n);
    ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
    if (ZSTD_isError(csize) ||
        1 + hr__str_varint_len(csize) + csize >= int_size)
        return;
    uint8_t *at = out->data + start;
    at[0] = 1;
    size_t prefix = hr__str_varint_store(at + 1, csize);
    memmove(at + 1 + prefix, dst, csize);
    out->len = start + 1 + prefix + csize;
}

/* Write DICT; returns 0 (writing nothing) when there are too many values. */
int hr__str_encode_dict(hr__wbuf *out, const uint8_t *heap,
                        const uint32_t *offsets, size_t n,
                        const hr__str_opts *opts)
{
    dict_build b;
    void *mem = dict_build_alloc(out->env, &b, n);
    if (!mem) {
        out->failed = 1;
        return 1;
    }
    const size_t d = dict_assign(&b, heap, offsets, n);
    if (d == 0) {
        hr__free(out->env, mem);
        return 0;
    }
    /* The distinct values laid end to end, for the nested block. */
    hr__wbuf values;
    hr__wbuf_init(&values, out->env);
    b.doffsets[0] = 0;
    for (size_t k = 0; k < d; k++) {
        const uint32_t f = b.first[k];
        const uint32_t len = offsets[f + 1] - offsets[f];
        hr__wbuf_put(&values, heap + offsets[f], len);
        b.doffsets[k + 1] = b.doffsets[k] + len;
    }
    if (values.failed) {
        out->failed = 1;
    } else {
        hr__wbuf_put_u8(out, HR__STR_DICT);
        hr__wbuf_put_varint(out, d);
        hr__str_encode_block(out, values.data, b.doffsets, d, opts, 0, 0);
        hr__str_encode_codes(out, b.codes, b.small, n, d, opts);
    }
    hr__wbuf_free(&values);
    hr__free(out->env, mem);
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Decoder                                                                   */
/* ------------------------------------------------------------------------ */

/* The codes of DICT into codes[0..n), each checked against d. */
int hr__str_decode_codes(hr__rbuf *in, size_t n, size_t d, int64_t *codes,
                         uint8_t *small, const hr__str_dec *dec,
                         const hr_env *env)
{
    uint8_t form;
    if (hr__rbuf_get_u8(in, &form) != 0)
        return HR_ECORRUPT;
    if (form == 0) {
        int rc = hr__str_int_decode(in, codes, n, env);
        if (rc != HR_OK)
            return rc;
        for (size_t i = 0; i < n; i++)
            if (codes[i] < 0 || (uint64_t)codes[i] >= d)
                return HR_ECORRUPT;
        return HR_OK;
    }
    if (form != 1 || d > 256)
        return HR_ECORRUPT;
    const uint8_t *src;
    size_t size;
    if (hr__str_get_size(in, &src, &size) != HR_OK)
        return HR_ECORRUPT;
    uint64_t content;
    int rc = hr__str_check_zstd_frame(src, size, 0, &content);
    if (rc == HR_OK && content != n)
        rc = HR_ECORRUPT;
    if (rc == HR_OK)
        rc = hr__str_zstd_into(dec, NULL, small, n, src, size);
    if (rc != HR_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (small[i] >= d)
            return HR_ECORRUPT;
        codes[i] = small[i];
    }
    return HR_OK;
}

int hr__str_decode_dict(hr__rbuf *in, size_t n, uint32_t *offsets,
                        hr__wbuf *heap, const hr__str_dec *dec, size_t limit,
                        const hr_env *env)
{
    uint64_t d64;
    if (hr__rbuf_get_varint(in, &d64) != 0 || d64 > n || (n > 0 && d64 == 0))
        return HR_ECORRUPT;
    const size_t d = (size_t)d64;
    /* codes [n] int64 + small [n] + value offsets [d + 1] */
    uint8_t *mem =
        hr__malloc(env, n * (sizeof(int64_t) + 1) + (d + 1) * sizeof(uint32_t));
    if (!mem)
        return HR_ENOMEM;
    int64_t *codes = (int64_t *)mem;
    uint32_t *doffsets = (uint32_t *)(codes + n);
    uint8_t *small = (uint8_t *)(doffsets + d + 1);
    hr__wbuf values;
    hr__wbuf_init(&values, env);
    int rc =
        hr__str_decode_block(in, d, doffsets, &values, dec, limit, 0, 0, env);
    if (rc == HR_OK)
        rc = hr__str_decode_codes(in, n, d, codes, small, dec, env);
    uint64_t total = 0;
    for (size_t i = 0; rc == HR_OK && i < n; i++) {
        const int64_t c = codes[i];
        total += doffsets[c + 1] - doffsets[c];
        if (total > limit)
            rc = HR_ELIMIT;
    }
    const size_t base = heap->len;
    if (rc == HR_OK && total > UINT32_MAX - (uint64_t)base)
        rc = HR_ELIMIT;
    /* COPY_SLACK spare bytes after both buffers let short values move as
     * one fixed-size copy (the spare bytes are overwritten or past len). */
    if (rc == HR_OK && (hr__wbuf_reserve(heap, (size_t)total + COPY_SLACK) ||
                        hr__wbuf_reserve(&values, COPY_SLACK)))
        rc = HR_ENOMEM;
    if (rc == HR_OK) {
        memset(values.data + values.len, 0, COPY_SLACK);
        const uint8_t *vals = values.data;
        uint8_t *dst = heap->data + base;
        uint32_t at = (uint32_t)base;
        for (size_t i = 0; i < n; i++) {
            const int64_t c = codes[i];
            const uint32_t from = doffsets[c];
            const uint32_t len = doffsets[c + 1] - from;
            offsets[i] = at;
            if (len <= COPY_SLACK)
                memcpy(dst, vals + from, COPY_SLACK);
            else
                memcpy(dst, vals + from, len);
            dst += len;
            at += len;
        }
        offsets[n] = at;
        heap->len += (size_t)total;
    }
    hr__wbuf_free(&values);
    hr__free(env, mem);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Dictionary training                                                       */
/* ------------------------------------------------------------------------ */

int hr__str_train_dict(const hr_env *env, const uint8_t *samples,
                       const size_t *sample_sizes, unsigned nb_samples,
                       size_t dict_capacity, uint8_t **dict_out,
                       size_t *dict_len)
{
    *dict_out = NULL;
    *dict_len = 0;
    if (!samples || !sample_sizes || nb_samples == 0 || dict_capacity == 0)
        return HR_EINVAL;
    uint8_t *dict = hr__malloc(env, dict_capacity);
    if (!dict)
        return HR_ENOMEM;
    ZDICT_fastCover_params_t params;
    memset(&params, 0, sizeof params);
    /* fastCover refuses a segment longer than the dictionary. */
    params.k = dict_capacity < TRAIN_SEGMENT ? (unsigned)dict_capacity
                                             : TRAIN_SEGMENT;
    params.d = TRAIN_DMER;
    params.f = TRAIN_LOG_FREQS;
    params.accel = 1;
    size_t len = ZDICT_trainFromBuffer_fastCover(dict, dict_capacity, samples,
                                       sample_sizes, nb_samples, params);
    if (ZDICT_isError(len)) {
        hr__free(env, dict);
        return HR_EINVAL;
    }
    /* The capacity is not shrunk: callers copy the dictionary into a CDict /
     * DDict and free it, and a failed shrink would be a non-error ENOMEM. */
    *dict_out = dict;
    *dict_len = len;
    return HR_OK;
}
