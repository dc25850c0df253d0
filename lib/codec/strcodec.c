/*
 * strcodec.c - see strcodec.h for the wire layout: the choice of a
 * scheme, the general-purpose schemes (PLAIN, ZSTD, SNAPPY) and the
 * dispatch of the decoder. DICT and dictionary training are in strdict.c,
 * TEMPLATE in strtpl*.c.
 *
 * Choice, cheapest test first: a hashed sample of 128 rows says whether a
 * dictionary can pay; if so the full build (bounded: it gives up past n/2
 * distinct values) decides DICT. Otherwise TEMPLATE is tried on enough
 * rows, then exactly one general-purpose compressor runs (zstd, or snappy
 * when preferred or when there is no CCtx), and PLAIN is written instead
 * when it does not shrink the bytes.
 */
#include "strcodec.h"

#include <assert.h>
#include <snappy-c.h>

#include "intcodec.h"
#include "strtpl.h"

/* Below this many bytes a compressed frame's overhead outweighs its gain. */
#define MIN_COMPRESS 32

/*
 * The trained dictionary is used for blocks below this size only: there it
 * saves 7-15% (text and JSON of 64-256 rows, 7-30 KB); on blocks of 100+
 * KiB zstd finds the same repeats in the block itself (2-3% saved) and
 * the dictionary costs ~20% of the speed.
 */
#define DICT_MAX_BYTES (32u << 10)

/* looks_random: blocks from this size, the histogram of a sample. */
#define RANDOM_MIN_BYTES 1024
#define RANDOM_SAMPLE 1024

/*
 * TEMPLATE nesting: a TEMPLATE block's text columns may be TEMPLATE again
 * (depth 1), theirs may not (part of the format).
 */
#define TPL_DEPTH 2

/*
 * TEMPLATE is tried from this many rows and bytes (see try_template): on a
 * column from TPL_MIN_ROWS (below, its many small columns cost several
 * times the time of one zstd call for a few percent), on a column of a
 * TEMPLATE block (which pays those costs already) from TPL_MIN_NESTED_ROWS.
 */
#define TPL_MIN_ROWS 128
#define TPL_MIN_NESTED_ROWS 16
#define TPL_MIN_BYTES 64
#define TPL_EXACT_ROWS 128
#define TPL_SAMPLE_ROWS 64
#define TPL_CLEAR_WIN 0.6

/* How a compressed block delimits its strings (the byte after the scheme). */
#define LAYOUT_LENGTHS 0 /* ints(n) lengths before the frame */
#define LAYOUT_NUL 1     /* each string ends with a NUL inside the frame */

/* ------------------------------------------------------------------------ */
/* Encoder                                                                   */
/* ------------------------------------------------------------------------ */

static int zstd_level(const hr__str_opts *opts)
{
    int level = opts->zstd_level;
    if (level == 0)
        return ZSTD_CLEVEL_DEFAULT;
    if (level < ZSTD_minCLevel())
        return ZSTD_minCLevel();
    if (level > ZSTD_maxCLevel())
        return ZSTD_maxCLevel();
    return level;
}

static const ZSTD_CDict *usable_cdict(const hr__str_opts *opts)
{
    const hr__str_dict *dict = opts->dict;
    if (!dict || dict->id == 0 || !dict->cdict)
        return NULL;
    return dict->cdict;
}

/*
 * Compress src into `out` as "varint size | frame". Returns 0 when written,
 * -1 when compression failed or the result is not below `budget` bytes (the
 * caller rewinds), and sets out->failed when memory ran out.
 */
static int put_compressed(hr__wbuf *out, const uint8_t *src, size_t len,
                          const hr__str_opts *opts, int use_zstd,
                          const ZSTD_CDict *cdict, int zlevel, size_t budget)
{
    size_t bound =
        use_zstd ? ZSTD_compressBound(len) : snappy_max_compressed_length(len);
    if (use_zstd && ZSTD_isError(bound))
        return -1;
    /* The size prefix goes first: compress after room for the longest
     * prefix, then slide the frame down to the actual prefix. */
    size_t room = hr__str_varint_len(bound);
    if (hr__wbuf_reserve(out, room + bound) != 0)
        return -1;
    uint8_t *dst = out->data + out->len + room;
    size_t csize;
    if (use_zstd) {
        csize =
            cdict ? ZSTD_compress_usingCDict(opts->cctx, dst, bound, src, len,
                                             cdict)
                  : ZSTD_compressCCtx(opts->cctx, dst, bound, src, len, zlevel);
        if (ZSTD_isError(csize))
            return -1;
    } else {
        csize = bound;
        if (snappy_compress((const char *)src, len, (char *)dst, &csize) !=
            SNAPPY_OK)
            return -1;
    }
    size_t prefix = hr__str_varint_len(csize);
    if (prefix + csize >= budget)
        return -1;
    uint8_t *at = out->data + out->len;
    if (prefix != room)
        memmove(at + prefix, dst, csize);
    hr__str_varint_store(at, csize);
    out->len += prefix + csize;
    return 0;
}

/*
 * Whether the bytes look incompressible (random ids, hashes, compressed or
 * encrypted data), so that the compressor is not even tried: the byte
 * histogram of a sample is flat over nearly all 256 values. Text and
 * structured binary never are (few distinct bytes, or a few frequent ones).
 */
static int looks_random(const uint8_t *p, size_t len)
{
    if (len < RANDOM_MIN_BYTES)
        return 0;
    /* First 64 bytes: random ones have ~57 distinct values (rarely below
     * 48), text and most binary far fewer - then no histogram at all. */
    uint64_t seen[4] = {0};
    for (size_t i = 0; i < 64; i++)
        seen[p[i] >> 6] |= (uint64_t)1 << (p[i] & 63);
    if (__builtin_popcountll(seen[0]) + __builtin_popcountll(seen[1]) +
            __builtin_popcountll(seen[2]) + __builtin_popcountll(seen[3]) <
        48)
        return 0;
    const size_t s = len < RANDOM_SAMPLE ? len : RANDOM_SAMPLE;
    uint32_t hist[256] = {0};
    for (size_t i = 0; i < s; i++)
        hist[p[i]]++;
    unsigned distinct = 0;
    uint32_t max = 0;
    for (int b = 0; b < 256; b++) {
        distinct += hist[b] != 0;
        max = hist[b] > max ? hist[b] : max;
    }
    /* uniform bytes: 256 values, the most frequent within ~2x the mean */
    return distinct >= 224 && max <= 3 * s / 256 + 16;
}

/* The strings each followed by a NUL, for the NUL layout. */
static uint8_t *join_nul(const hr_env *env, const uint8_t *heap,
                         const uint32_t *offsets, size_t n, size_t total)
{
    uint8_t *joined = hr__malloc(env, total + n);
    if (!joined)
        return NULL;
    uint8_t *w = joined;
    for (size_t i = 0; i < n; i++) {
        const uint32_t len = offsets[i + 1] - offsets[i];
        memcpy(w, heap + offsets[i], len);
        w += len;
        *w++ = 0;
    }
    return joined;
}

/*
 * PLAIN, or ZSTD / SNAPPY when the compressor shrinks the bytes. The
 * compressed schemes drop the lengths for NUL terminators inside the frame
 * when the lengths would cost 2+ bits a row and no string holds a NUL
 * (PostgreSQL text never does): zstd predicts a terminator after `}` almost
 * for free, and a JSON column's lengths otherwise cost about a byte a row.
 */
static void encode_general(hr__wbuf *out, const uint8_t *heap,
                           const uint32_t *offsets, size_t n,
                           const hr__str_opts *opts)
{
    const uint8_t *bytes = heap + offsets[0];
    const size_t total = offsets[n] - offsets[0];
    int64_t *lens = hr__malloc(out->env, (n ? n : 1) * sizeof *lens);
    if (!lens) {
        out->failed = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        assert(offsets[i + 1] >= offsets[i]);
        lens[i] = offsets[i + 1] - offsets[i];
    }
    const size_t start = out->len;
    if (total >= MIN_COMPRESS && !looks_random(bytes, total)) {
        const int use_zstd = opts->cctx && !opts->prefer_snappy;
        const ZSTD_CDict *cdict =
            use_zstd && total < DICT_MAX_BYTES ? usable_cdict(opts) : NULL;
        hr__wbuf_put_u8(out, use_zstd ? HR__STR_ZSTD : HR__STR_SNAPPY);
        hr__wbuf_put_u8(out, LAYOUT_LENGTHS);
        hr__int_encode(out, lens, n, HR__STR_INT_DEPTH);
        const size_t lens_size = out->len - start - 2;
        const size_t plain_size = 1 + lens_size + total;
        const uint8_t *src = bytes;
        size_t src_len = total;
        uint8_t *joined = NULL;
        if (!out->failed && lens_size * 4 >= n && !memchr(bytes, 0, total)) {
            joined = join_nul(out->env, heap, offsets, n, total);
            if (!joined)
                out->failed = 1;
            out->len = start + 2;
            out->data[start + 1] = LAYOUT_NUL;
            src = joined;
            src_len = total + n;
        }
        if (use_zstd)
            hr__wbuf_put_varint(out, cdict ? opts->dict->id : 0);
        int done = 0;
        if (!out->failed && out->len - start < plain_size)
            done = put_compressed(out, src, src_len, opts, use_zstd, cdict,
                                  zstd_level(opts),
                                  plain_size - (out->len - start)) == 0;
        hr__free(out->env, joined);
        if (done || out->failed) {
            hr__free(out->env, lens);
            return;
        }
        out->len = start; /* did not pay: plain instead */
    }
    hr__wbuf_put_u8(out, HR__STR_PLAIN);
    hr__int_encode(out, lens, n, HR__STR_INT_DEPTH);
    hr__wbuf_put(out, bytes, total);
    hr__free(out->env, lens);
}

/*
 * TEMPLATE when it is smaller than the general encoding. The tokenizer gives
 * up early on text that does not fit (a new template every row), so the
 * full TEMPLATE is tried first. Up to TPL_EXACT_ROWS rows the general
 * encoding is made too and the smaller kept; above that, the general
 * encoding of the first TPL_SAMPLE_ROWS rows, scaled to n rows, is an
 * estimate zstd beats by less than TPL_CLEAR_WIN on more rows: TEMPLATE
 * stays when it is that much below it, else both are compared exactly.
 * Returns 1 when it wrote the block (or memory ran out).
 */
static int try_template(hr__wbuf *out, const uint8_t *heap,
                        const uint32_t *offsets, size_t n,
                        const hr__str_opts *opts, int depth)
{
    const size_t start = out->len;
    if (!hr__tpl_encode(out, heap, offsets, n, opts, depth,
                        HR__TPL_MAX_TEMPLATES))
        return 0;
    if (out->failed)
        return 1;
    const size_t tpl_size = out->len - start;
    hr__wbuf other;
    hr__wbuf_init(&other, out->env);
    if (n > TPL_EXACT_ROWS) {
        encode_general(&other, heap, offsets, TPL_SAMPLE_ROWS, opts);
        const int clear =
            !other.failed && (double)tpl_size * TPL_SAMPLE_ROWS <
                                 TPL_CLEAR_WIN * (double)other.len * (double)n;
        other.len = 0;
        if (clear || other.failed) {
            out->failed |= other.failed;
            hr__wbuf_free(&other);
            return 1;
        }
    }
    encode_general(&other, heap, offsets, n, opts);
    if (other.failed)
        out->failed = 1;
    else if (other.len <= tpl_size) {
        out->len = start;
        hr__wbuf_put(out, other.data, other.len);
    }
    hr__wbuf_free(&other);
    return 1;
}

void hr__str_encode_block(hr__wbuf *out, const uint8_t *heap,
                          const uint32_t *offsets, size_t n,
                          const hr__str_opts *opts, int allow_dict, int depth)
{
    static const uint8_t none[1] = {0};
    if (!heap)
        heap = none; /* all strings empty: never read, but keep it valid */
    const size_t total = offsets[n] - offsets[0];
    const size_t start = out->len;
    if (allow_dict && n >= 2 && total > 0 &&
        hr__str_low_card(heap, offsets, n) &&
        hr__str_encode_dict(out, heap, offsets, n, opts)) {
        if (out->failed || out->len - start <= total)
            return;
        out->len = start; /* tiny columns: not even below the raw bytes */
    }
    if (depth > 0 &&
        n >= (depth == TPL_DEPTH ? TPL_MIN_ROWS : TPL_MIN_NESTED_ROWS) &&
        total >= TPL_MIN_BYTES &&
        try_template(out, heap, offsets, n, opts, depth))
        return;
    encode_general(out, heap, offsets, n, opts);
}

void hr__str_encode(hr__wbuf *out, const uint8_t *heap, const uint32_t *offsets,
                    size_t n, const hr__str_opts *opts)
{
    assert(out && offsets && opts);
    assert(offsets[n] >= offsets[0]);
    hr__str_encode_block(out, heap, offsets, n, opts, 1, TPL_DEPTH);
}

/* ------------------------------------------------------------------------ */
/* Decoder                                                                   */
/* ------------------------------------------------------------------------ */

int hr__str_get_size(hr__rbuf *in, const uint8_t **p, size_t *size)
{
    uint64_t v;
    if (hr__rbuf_get_varint(in, &v) != 0 || v > hr__rbuf_left(in))
        return HR_ECORRUPT;
    *size = (size_t)v;
    return hr__rbuf_take(in, p, *size) == 0 ? HR_OK : HR_ECORRUPT;
}

int hr__str_int_decode(hr__rbuf *in, int64_t *v, size_t n, const hr_env *env)
{
    int rc = hr__int_decode(in, v, n, HR__STR_INT_DEPTH, env);
    return rc == HR_OK || rc == HR_ENOMEM ? rc : HR_ECORRUPT;
}

/*
 * Check that [src, src+size) is exactly one zstd frame (no skippable or
 * trailing data) declaring its content size and the dictionary `dict_id`;
 * the content size goes to *content.
 */
int hr__str_check_zstd_frame(const uint8_t *src, size_t size, unsigned dict_id,
                             uint64_t *content)
{
    if (size < 4 || hr__load_u32(src) != ZSTD_MAGICNUMBER)
        return HR_ECORRUPT;
    if (ZSTD_findFrameCompressedSize(src, size) != size)
        return HR_ECORRUPT; /* an error code never equals a real size */
    const unsigned long long declared = ZSTD_getFrameContentSize(src, size);
    if (declared == ZSTD_CONTENTSIZE_UNKNOWN ||
        declared == ZSTD_CONTENTSIZE_ERROR)
        return HR_ECORRUPT;
    if (ZSTD_getDictID_fromFrame(src, size) != dict_id)
        return HR_ECORRUPT;
    *content = declared;
    return HR_OK;
}

/* Decompress a checked frame into exactly `len` bytes at dst. */
int hr__str_zstd_into(const hr__str_dec *dec, const ZSTD_DDict *ddict,
                      uint8_t *dst, size_t len, const uint8_t *src, size_t size)
{
    uint8_t dummy;
    if (len == 0)
        dst = &dummy; /* an empty heap has no data pointer yet */
    const size_t got = ddict ? ZSTD_decompress_usingDDict(dec->dctx, dst, len,
                                                          src, size, ddict)
                             : ZSTD_decompress_usingDict(dec->dctx, dst, len,
                                                         src, size, NULL, 0);
    return !ZSTD_isError(got) && got == len ? HR_OK : HR_ECORRUPT;
}

/* A compressed frame read from the input, checked up to its contents. */
typedef struct frame {
    int scheme;
    const uint8_t *src;
    size_t size;
    uint64_t content; /* declared decompressed size */
    const ZSTD_DDict *ddict;
} frame;

/* "[varint dictionary id (ZSTD)] | varint size | frame" */
static int read_frame(hr__rbuf *in, int scheme, const hr__str_dec *dec,
                      frame *f)
{
    f->scheme = scheme;
    f->ddict = NULL;
    if (scheme == HR__STR_ZSTD) {
        uint64_t id;
        if (hr__rbuf_get_varint(in, &id) != 0 || id > UINT32_MAX)
            return HR_ECORRUPT;
        if (hr__str_get_size(in, &f->src, &f->size) != HR_OK)
            return HR_ECORRUPT;
        if (id != 0) {
            f->ddict =
                dec->lookup ? dec->lookup(dec->lookup_ctx, (uint32_t)id) : NULL;
            if (!f->ddict)
                return HR_ENOTFOUND;
        }
        return hr__str_check_zstd_frame(
            f->src, f->size, f->ddict ? ZSTD_getDictID_fromDDict(f->ddict) : 0,
            &f->content);
    }
    if (hr__str_get_size(in, &f->src, &f->size) != HR_OK)
        return HR_ECORRUPT;
    size_t declared;
    if (snappy_uncompressed_length((const char *)f->src, f->size, &declared) !=
        SNAPPY_OK)
        return HR_ECORRUPT;
    f->content = declared;
    return HR_OK;
}

/* Decompress f into exactly f->content bytes at dst. */
static int inflate(const frame *f, const hr__str_dec *dec, uint8_t *dst)
{
    const size_t len = (size_t)f->content;
    if (f->scheme == HR__STR_ZSTD)
        return hr__str_zstd_into(dec, f->ddict, dst, len, f->src, f->size);
    char dummy;
    size_t got = len;
    if (snappy_uncompress((const char *)f->src, f->size,
                          len ? (char *)dst : &dummy, &got) != SNAPPY_OK ||
        got != len)
        return HR_ECORRUPT;
    return HR_OK;
}

/* Offsets for `n` lengths starting at `base`, checked against limits. */
static int lay_out(const int64_t *lens, size_t n, uint32_t *offsets,
                   size_t base, size_t limit, size_t *total_out)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (lens[i] < 0 || lens[i] > (int64_t)UINT32_MAX)
            return HR_ECORRUPT;
        total += (uint64_t)lens[i];
        if (total > limit)
            return HR_ELIMIT; /* also keeps the sum from overflowing */
    }
    if (total > UINT32_MAX - (uint64_t)base)
        return HR_ELIMIT; /* 32-bit offsets */
    offsets[0] = (uint32_t)base;
    for (size_t i = 0; i < n; i++)
        offsets[i + 1] = offsets[i] + (uint32_t)lens[i];
    *total_out = (size_t)total;
    return HR_OK;
}

/* PLAIN, or a compressed block with explicit lengths. */
static int decode_with_lengths(hr__rbuf *in, int scheme, size_t n,
                               uint32_t *offsets, hr__wbuf *heap,
                               const hr__str_dec *dec, size_t limit,
                               const hr_env *env)
{
    int64_t *lens = hr__malloc(env, (n ? n : 1) * sizeof *lens);
    if (!lens)
        return HR_ENOMEM;
    size_t total = 0;
    int rc = hr__str_int_decode(in, lens, n, env);
    if (rc == HR_OK)
        rc = lay_out(lens, n, offsets, heap->len, limit, &total);
    hr__free(env, lens);
    if (rc != HR_OK)
        return rc;
    const uint8_t *src = NULL;
    frame f;
    if (scheme == HR__STR_PLAIN)
        rc = hr__rbuf_take(in, &src, total) == 0 ? HR_OK : HR_ECORRUPT;
    else if ((rc = read_frame(in, scheme, dec, &f)) == HR_OK &&
             f.content != total)
        rc = HR_ECORRUPT;
    if (rc != HR_OK)
        return rc;
    if (hr__wbuf_reserve(heap, total) != 0)
        return HR_ENOMEM;
    if (total == 0)
        return HR_OK; /* an empty heap may have no buffer: NULL + 0 is UB */
    uint8_t *dst = heap->data + heap->len;
    if (src)
        memcpy(dst, src, total);
    else
        rc = inflate(&f, dec, dst);
    if (rc == HR_OK)
        heap->len += total;
    return rc;
}

/* A compressed block of NUL-terminated strings, split in place. */
static int decode_nul(hr__rbuf *in, int scheme, size_t n, uint32_t *offsets,
                      hr__wbuf *heap, const hr__str_dec *dec, size_t limit)
{
    frame f;
    int rc = read_frame(in, scheme, dec, &f);
    if (rc != HR_OK)
        return rc;
    if (f.content < n)
        return HR_ECORRUPT; /* not even the terminators */
    if (f.content - n > limit || f.content > SIZE_MAX)
        return HR_ELIMIT;
    const size_t base = heap->len;
    if (f.content - n > UINT32_MAX - (uint64_t)base)
        return HR_ELIMIT;
    offsets[0] = (uint32_t)base;
    if (n == 0) /* an empty frame: nothing to place */
        return f.content == 0 ? inflate(&f, dec, NULL) : HR_ECORRUPT;
    const size_t size = (size_t)f.content;
    if (hr__wbuf_reserve(heap, size) != 0)
        return HR_ENOMEM;
    uint8_t *const start = heap->data + base;
    if ((rc = inflate(&f, dec, start)) != HR_OK)
        return rc;
    const uint8_t *r = start;
    const uint8_t *const end = start + size;
    uint8_t *w = start;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *nul = memchr(r, 0, (size_t)(end - r));
        if (!nul)
            return HR_ECORRUPT;
        const size_t len = (size_t)(nul - r);
        if (w != r)
            memmove(w, r, len);
        w += len;
        r = nul + 1;
        offsets[i + 1] = (uint32_t)(base + (size_t)(w - start));
    }
    if (r != end)
        return HR_ECORRUPT; /* bytes after the last terminator */
    heap->len = base + (size_t)(w - start);
    return HR_OK;
}

static int decode_general(hr__rbuf *in, int scheme, size_t n, uint32_t *offsets,
                          hr__wbuf *heap, const hr__str_dec *dec, size_t limit,
                          const hr_env *env)
{
    if (scheme == HR__STR_PLAIN)
        return decode_with_lengths(in, scheme, n, offsets, heap, dec, limit,
                                   env);
    uint8_t layout;
    if (hr__rbuf_get_u8(in, &layout) != 0)
        return HR_ECORRUPT;
    if (layout == LAYOUT_LENGTHS)
        return decode_with_lengths(in, scheme, n, offsets, heap, dec, limit,
                                   env);
    if (layout == LAYOUT_NUL)
        return decode_nul(in, scheme, n, offsets, heap, dec, limit);
    return HR_ECORRUPT;
}

int hr__str_decode_block(hr__rbuf *in, size_t n, uint32_t *offsets,
                         hr__wbuf *heap, const hr__str_dec *dec, size_t limit,
                         int allow_dict, int depth, const hr_env *env)
{
    uint8_t scheme;
    if (hr__rbuf_get_u8(in, &scheme) != 0)
        return HR_ECORRUPT;
    switch (scheme) {
    case HR__STR_PLAIN:
    case HR__STR_ZSTD:
    case HR__STR_SNAPPY:
        return decode_general(in, scheme, n, offsets, heap, dec, limit, env);
    case HR__STR_DICT:
        if (!allow_dict)
            return HR_ECORRUPT;
        return hr__str_decode_dict(in, n, offsets, heap, dec, limit, env);
    case HR__STR_TEMPLATE:
        return hr__tpl_decode(in, n, offsets, heap, dec, limit, depth, env);
    default:
        return HR_ECORRUPT;
    }
}

int hr__str_decode(hr__rbuf *in, size_t n, uint32_t *offsets, hr__wbuf *heap,
                   const hr__str_dec *dec, const hr_env *env)
{
    assert(in && offsets && heap && dec && dec->dctx);
    if (n > SIZE_MAX / 16)
        return HR_ELIMIT; /* keeps the O(n) scratch sizes from overflowing */
    const size_t base = heap->len;
    int rc = hr__str_decode_block(in, n, offsets, heap, dec, dec->max_bytes, 1,
                                  TPL_DEPTH, env);
    if (rc != HR_OK)
        heap->len = base;
    return rc;
}
