/*
 * strcodec.c - see strcodec.h for the wire layout.
 *
 * Choice, cheapest test first: a hashed sample of 128 rows says whether a
 * dictionary can pay; if so the full build (bounded: it gives up past n/2
 * distinct values) decides DICT. Otherwise exactly one general-purpose
 * compressor runs (zstd, or snappy when preferred or when there is no
 * CCtx), and PLAIN is written instead when it does not shrink the bytes.
 */
#include "strcodec.h"

#include <assert.h>
#include <snappy-c.h>
#include <xxhash.h>
#include <zdict.h>

#include "intcodec.h"

/*
 * Cascade depth of the lengths and codes (part of this block's format, like
 * HR__CASCADE_DEPTH of the columns): lets the int codec use RLE, whose run
 * values and lengths are nested encodings.
 */
#define INT_DEPTH 3

/* Below this many bytes a compressed frame's overhead outweighs its gain. */
#define MIN_COMPRESS 32

/* Rows hashed to estimate the distinct count, and the sample's verdict. */
#define SAMPLE_ROWS 128
#define SAMPLE_SLOTS 256
#define SAMPLE_MAX_DISTINCT (SAMPLE_ROWS * 3 / 4)

/* Spare bytes behind DICT's values and output for fixed-size copies. */
#define COPY_SLACK 16

/* How a compressed block delimits its strings (the byte after the scheme). */
#define LAYOUT_LENGTHS 0 /* ints(n) lengths before the frame */
#define LAYOUT_NUL 1     /* each string ends with a NUL inside the frame */

static size_t varint_len(uint64_t v)
{
    size_t len = 1;
    while (v >= 0x80) {
        v >>= 7;
        len++;
    }
    return len;
}

/* Write `v` as a varint at p (room for 10 bytes); returns its length. */
static size_t varint_store(uint8_t *p, uint64_t v)
{
    size_t len = 0;
    while (v >= 0x80) {
        p[len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[len++] = (uint8_t)v;
    return len;
}

static void fail_alloc(hr__wbuf *out)
{
    out->failed = 1;
}

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
    size_t room = varint_len(bound);
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
    size_t prefix = varint_len(csize);
    if (prefix + csize >= budget)
        return -1;
    uint8_t *at = out->data + out->len;
    if (prefix != room)
        memmove(at + prefix, dst, csize);
    varint_store(at, csize);
    out->len += prefix + csize;
    return 0;
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
        fail_alloc(out);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        assert(offsets[i + 1] >= offsets[i]);
        lens[i] = offsets[i + 1] - offsets[i];
    }
    const size_t start = out->len;
    if (total >= MIN_COMPRESS) {
        const int use_zstd = opts->cctx && !opts->prefer_snappy;
        const ZSTD_CDict *cdict = use_zstd ? usable_cdict(opts) : NULL;
        hr__wbuf_put_u8(out, use_zstd ? HR__STR_ZSTD : HR__STR_SNAPPY);
        hr__wbuf_put_u8(out, LAYOUT_LENGTHS);
        hr__int_encode(out, lens, n, INT_DEPTH);
        const size_t lens_size = out->len - start - 2;
        const size_t plain_size = 1 + lens_size + total;
        const uint8_t *src = bytes;
        size_t src_len = total;
        uint8_t *joined = NULL;
        if (!out->failed && lens_size * 4 >= n && !memchr(bytes, 0, total)) {
            joined = join_nul(out->env, heap, offsets, n, total);
            if (!joined)
                fail_alloc(out);
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
    hr__int_encode(out, lens, n, INT_DEPTH);
    hr__wbuf_put(out, bytes, total);
    hr__free(out->env, lens);
}

static uint64_t row_hash(const uint8_t *heap, const uint32_t *offsets, size_t i)
{
    return XXH3_64bits(heap + offsets[i], offsets[i + 1] - offsets[i]);
}

/* Whether a hashed sample of the rows has few enough distinct values. */
static int sample_says_dict(const uint8_t *heap, const uint32_t *offsets,
                            size_t n)
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

static void encode_block(hr__wbuf *out, const uint8_t *heap,
                         const uint32_t *offsets, size_t n,
                         const hr__str_opts *opts, int allow_dict);

/*
 * The codes as ints; then, when they need at least 2 bits a row and fit a
 * byte, zstd's entropy coder on one byte per code, kept if smaller.
 */
static void encode_codes(hr__wbuf *out, dict_build *b, size_t n, size_t d,
                         const hr__str_opts *opts)
{
    const size_t start = out->len;
    hr__wbuf_put_u8(out, 0);
    hr__int_encode(out, b->codes, n, INT_DEPTH);
    const size_t int_size = out->len - start;
    if (out->failed || d > 256 || !opts->cctx || int_size < n / 4 + 16)
        return;
    for (size_t i = 0; i < n; i++)
        b->small[i] = (uint8_t)b->codes[i];
    const size_t bound = ZSTD_compressBound(n);
    if (hr__wbuf_reserve(out, bound) != 0)
        return;
    int level = zstd_level(opts);
    uint8_t *dst = out->data + out->len;
    size_t csize = ZSTD_compressCCtx(opts->cctx, dst, bound, b->small, n,
                                     level < 1 ? 1 : level);
    if (ZSTD_isError(csize) || 1 + varint_len(csize) + csize >= int_size)
        return;
    uint8_t *at = out->data + start;
    at[0] = 1;
    size_t prefix = varint_store(at + 1, csize);
    memmove(at + 1 + prefix, dst, csize);
    out->len = start + 1 + prefix + csize;
}

/* Write DICT; returns 0 (writing nothing) when there are too many values. */
static int encode_dict(hr__wbuf *out, const uint8_t *heap,
                       const uint32_t *offsets, size_t n,
                       const hr__str_opts *opts)
{
    dict_build b;
    void *mem = dict_build_alloc(out->env, &b, n);
    if (!mem) {
        fail_alloc(out);
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
        fail_alloc(out);
    } else {
        hr__wbuf_put_u8(out, HR__STR_DICT);
        hr__wbuf_put_varint(out, d);
        encode_block(out, values.data, b.doffsets, d, opts, 0);
        encode_codes(out, &b, n, d, opts);
    }
    hr__wbuf_free(&values);
    hr__free(out->env, mem);
    return 1;
}

static void encode_block(hr__wbuf *out, const uint8_t *heap,
                         const uint32_t *offsets, size_t n,
                         const hr__str_opts *opts, int allow_dict)
{
    static const uint8_t none[1] = {0};
    if (!heap)
        heap = none; /* all strings empty: never read, but keep it valid */
    const size_t total = offsets[n] - offsets[0];
    const size_t start = out->len;
    if (allow_dict && n >= 2 && total > 0 &&
        sample_says_dict(heap, offsets, n) &&
        encode_dict(out, heap, offsets, n, opts)) {
        if (out->failed || out->len - start <= total)
            return;
        out->len = start; /* tiny columns: not even below the raw bytes */
    }
    encode_general(out, heap, offsets, n, opts);
}

void hr__str_encode(hr__wbuf *out, const uint8_t *heap, const uint32_t *offsets,
                    size_t n, const hr__str_opts *opts)
{
    assert(out && offsets && opts);
    assert(offsets[n] >= offsets[0]);
    encode_block(out, heap, offsets, n, opts, 1);
}

/* ------------------------------------------------------------------------ */
/* Decoder                                                                   */
/* ------------------------------------------------------------------------ */

static int get_size(hr__rbuf *in, const uint8_t **p, size_t *size)
{
    uint64_t v;
    if (hr__rbuf_get_varint(in, &v) != 0 || v > hr__rbuf_left(in))
        return HR_ECORRUPT;
    *size = (size_t)v;
    return hr__rbuf_take(in, p, *size) == 0 ? HR_OK : HR_ECORRUPT;
}

static int int_decode(hr__rbuf *in, int64_t *v, size_t n, const hr_env *env)
{
    int rc = hr__int_decode(in, v, n, INT_DEPTH, env);
    return rc == HR_OK || rc == HR_ENOMEM ? rc : HR_ECORRUPT;
}

/*
 * Check that [src, src+size) is exactly one zstd frame (no skippable or
 * trailing data) declaring its content size and the dictionary `dict_id`;
 * the content size goes to *content.
 */
static int check_zstd_frame(const uint8_t *src, size_t size, unsigned dict_id,
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
static int zstd_into(const hr__str_dec *dec, const ZSTD_DDict *ddict,
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
        if (get_size(in, &f->src, &f->size) != HR_OK)
            return HR_ECORRUPT;
        if (id != 0) {
            f->ddict =
                dec->lookup ? dec->lookup(dec->lookup_ctx, (uint32_t)id) : NULL;
            if (!f->ddict)
                return HR_ENOTFOUND;
        }
        return check_zstd_frame(
            f->src, f->size, f->ddict ? ZSTD_getDictID_fromDDict(f->ddict) : 0,
            &f->content);
    }
    if (get_size(in, &f->src, &f->size) != HR_OK)
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
        return zstd_into(dec, f->ddict, dst, len, f->src, f->size);
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
    int rc = int_decode(in, lens, n, env);
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

/* The codes of DICT into codes[0..n), each checked against d. */
static int decode_codes(hr__rbuf *in, size_t n, size_t d, int64_t *codes,
                        uint8_t *small, const hr__str_dec *dec,
                        const hr_env *env)
{
    uint8_t form;
    if (hr__rbuf_get_u8(in, &form) != 0)
        return HR_ECORRUPT;
    if (form == 0) {
        int rc = int_decode(in, codes, n, env);
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
    if (get_size(in, &src, &size) != HR_OK)
        return HR_ECORRUPT;
    uint64_t content;
    int rc = check_zstd_frame(src, size, 0, &content);
    if (rc == HR_OK && content != n)
        rc = HR_ECORRUPT;
    if (rc == HR_OK)
        rc = zstd_into(dec, NULL, small, n, src, size);
    if (rc != HR_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (small[i] >= d)
            return HR_ECORRUPT;
        codes[i] = small[i];
    }
    return HR_OK;
}

static int decode_block(hr__rbuf *in, size_t n, uint32_t *offsets,
                        hr__wbuf *heap, const hr__str_dec *dec, size_t limit,
                        int allow_dict, const hr_env *env);

static int decode_dict(hr__rbuf *in, size_t n, uint32_t *offsets,
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
    int rc = decode_block(in, d, doffsets, &values, dec, limit, 0, env);
    if (rc == HR_OK)
        rc = decode_codes(in, n, d, codes, small, dec, env);
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

static int decode_block(hr__rbuf *in, size_t n, uint32_t *offsets,
                        hr__wbuf *heap, const hr__str_dec *dec, size_t limit,
                        int allow_dict, const hr_env *env)
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
        return decode_dict(in, n, offsets, heap, dec, limit, env);
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
    int rc = decode_block(in, n, offsets, heap, dec, dec->max_bytes, 1, env);
    if (rc != HR_OK)
        heap->len = base;
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
    size_t len = ZDICT_trainFromBuffer(dict, dict_capacity, samples,
                                       sample_sizes, nb_samples);
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
