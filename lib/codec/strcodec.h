/*
 * strcodec.h - encoding of one string (text/bytea/json) column of a batch.
 *
 * The encoder picks one scheme per column per batch from cheap estimates and
 * writes a scheme byte followed by its payload. Wire layout (integers written
 * with hr__int_encode are "ints(k)": k values in the int codec's format;
 * varints are LEB128):
 *
 *   PLAIN  (0): ints(n) lengths | the n strings' bytes, concatenated
 *   DICT   (1): varint d (distinct values, 1 <= d <= n)
 *              | a nested string block of the d values: scheme byte
 *                (PLAIN, ZSTD or SNAPPY; never DICT) + payload as here
 *              | u8 codes form, then the n codes (each < d):
 *                  0: ints(n)
 *                  1: varint size | one zstd frame of n bytes, one code each
 *                     (only when d <= 256)
 *   ZSTD   (2): u8 layout | [ints(n) lengths] | varint dictionary id
 *                (0 = none) | varint size | one zstd frame with its content
 *                size and the dictionary's zstd id in the header
 *   SNAPPY (3): u8 layout | [ints(n) lengths] | varint size | one snappy block
 *   TEMPLATE (4): templates (literal text with value slots), a template id
 *              per row and per-slot columns of values: see strtpl.h. Nests
 *              at most 2 deep (a TEMPLATE block's text columns may be
 *              TEMPLATE, theirs may not); never inside DICT.
 *
 *   layout 0: the lengths are present; the frame holds the concatenated
 *             bytes, its content size is their sum.
 *   layout 1: no lengths; the frame holds every string followed by a NUL
 *             byte (used only when no string contains one), so its content
 *             size is the sum of the lengths + n.
 *
 * ints(k) use cascade depth 3 (RLE may nest). Decoders reject any size that
 * disagrees, bytes left inside a declared size, and codes out of range.
 *
 * The encoder's choice: DICT when a sample says the values repeat; else,
 * from 128 rows (16 inside a TEMPLATE block), TEMPLATE when it fits the
 * values and is smaller than the general encoding; else ZSTD (or SNAPPY)
 * when it shrinks the bytes, PLAIN otherwise. Bytes whose sample looks
 * random (a flat histogram) skip the compressor; the trained dictionary is
 * used on blocks below 32 KiB only.
 *
 * Thread rules: the functions keep no state; a ZSTD_CCtx / ZSTD_DCtx passed
 * in is used by one call at a time.
 */
#ifndef HR_CODEC_STRCODEC_H
#define HR_CODEC_STRCODEC_H

#include <stddef.h>
#include <stdint.h>

#include <zstd.h>

#include "bytebuf.h"

/* Scheme ids are wire values: pinned. */
typedef enum hr__str_scheme {
    HR__STR_PLAIN = 0,
    HR__STR_DICT = 1,
    HR__STR_ZSTD = 2,
    HR__STR_SNAPPY = 3,
    HR__STR_TEMPLATE = 4
} hr__str_scheme;

/* A trained zstd dictionary shared by encoder and decoder. */
typedef struct hr__str_dict {
    uint32_t id;             /* recorded in ZSTD payloads; 0 = none */
    const ZSTD_CDict *cdict; /* encoder side (may be NULL on decoder) */
    const ZSTD_DDict *ddict; /* decoder side */
} hr__str_dict;

typedef struct hr__str_opts {
    /*
     * zstd level without a dictionary (0 = zstd's default, clamped to zstd's
     * bounds). With a dictionary the level is the one the CDict was made at.
     */
    int zstd_level;
    int prefer_snappy;        /* snappy instead of zstd for the fallback */
    const hr__str_dict *dict; /* may be NULL; used when id != 0 and cdict */
    ZSTD_CCtx *cctx;          /* caller-owned, reused; NULL = never zstd */
} hr__str_opts;

/*
 * hr__str_encode - append the scheme byte and payload of n strings to `out`.
 * String i is heap[offsets[i] .. offsets[i+1]); offsets must not decrease.
 * Allocation failures (of `out` or of scratch memory, taken from out->env)
 * set out->failed: the caller checks it once and reports HR_ENOMEM.
 */
void hr__str_encode(hr__wbuf *out, const uint8_t *heap, const uint32_t *offsets,
                    size_t n, const hr__str_opts *opts);

/*
 * Decoder-side lookup of a dictionary by the recorded id (NULL if unknown).
 * The frame's own zstd dictionary id must then match the DDict's.
 */
typedef const ZSTD_DDict *(*hr__ddict_lookup_fn)(void *ctx, uint32_t id);

typedef struct hr__str_dec {
    ZSTD_DCtx *dctx;            /* caller-owned, reused; required */
    hr__ddict_lookup_fn lookup; /* may be NULL: no dictionaries known */
    void *lookup_ctx;
    size_t max_bytes; /* bound on the bytes this call appends */
} hr__str_dec;

/*
 * hr__str_decode - decode n strings from `in` (n is trusted: the caller
 * validated it). Appends their bytes to `heap` and fills offsets[0..n]
 * (caller allocates n+1) with positions in heap->data: offsets[0] is
 * heap->len on entry, so several columns may share one heap. On success the
 * cursor is just past the payload. On failure heap->len is restored and
 * the cursor position is unspecified.
 *
 * Returns HR_OK; HR_ECORRUPT for any malformed or inconsistent input
 * (truncation, bad scheme, sizes that disagree, zstd/snappy errors, trailing
 * bytes inside a declared size, codes out of range); HR_ELIMIT when the
 * strings would exceed dec->max_bytes or the heap would pass 4 GiB (offsets
 * are 32-bit); HR_ENOTFOUND when the frame names a dictionary the lookup
 * does not know; HR_ENOMEM. Scratch memory comes from `env`, and is bounded
 * by O(n) plus twice max_bytes, and for TEMPLATE the values of its columns
 * until the output is written: 8 bytes per number value (each writes at
 * least one output byte, checked before they are allocated) and 4 per text
 * value (at most max_bytes + n of them), so at most 8 x max_bytes + 4n.
 */
int hr__str_decode(hr__rbuf *in, size_t n, uint32_t *offsets, hr__wbuf *heap,
                   const hr__str_dec *dec, const hr_env *env);

/*
 * hr__str_train_dict - train a zstd dictionary of at most dict_capacity bytes
 * from nb_samples samples laid end to end in `samples`. On HR_OK *dict_out
 * (allocated from env, the caller frees it with hr__free) holds *dict_len
 * bytes. HR_EINVAL when training fails (too few or too small samples, zero
 * capacity), HR_ENOMEM. zstd's trainer allocates its own working memory with
 * malloc, outside env's allocator.
 */
int hr__str_train_dict(const hr_env *env, const uint8_t *samples,
                       const size_t *sample_sizes, unsigned nb_samples,
                       size_t dict_capacity, uint8_t **dict_out,
                       size_t *dict_len);

/* ------------------------------------------------------------------------ */
/* Shared by strcodec.c, strdict.c and strtpl*.c only                         */
/* ------------------------------------------------------------------------ */

/*
 * One string block (scheme byte + payload): DICT only when allow_dict,
 * TEMPLATE only when depth > 0 (its text columns nest at depth - 1).
 */
void hr__str_encode_block(hr__wbuf *out, const uint8_t *heap,
                          const uint32_t *offsets, size_t n,
                          const hr__str_opts *opts, int allow_dict, int depth);
int hr__str_decode_block(hr__rbuf *in, size_t n, uint32_t *offsets,
                         hr__wbuf *heap, const hr__str_dec *dec, size_t limit,
                         int allow_dict, int depth, const hr_env *env);

/*
 * Cascade depth of every ints(k) of the string schemes (part of their
 * format, like HR__CASCADE_DEPTH of the columns): lets the int codec use
 * RLE, whose run values and lengths are nested encodings.
 */
#define HR__STR_INT_DEPTH 3

/* DICT of n strings; returns 0 (writing nothing) past n / 2 distinct
 * values, else 1 (allocation failure sets out->failed). */
int hr__str_encode_dict(hr__wbuf *out, const uint8_t *heap,
                        const uint32_t *offsets, size_t n,
                        const hr__str_opts *opts);
/* DICT's payload after its scheme byte (as hr__str_decode_block). */
int hr__str_decode_dict(hr__rbuf *in, size_t n, uint32_t *offsets,
                        hr__wbuf *heap, const hr__str_dec *dec, size_t limit,
                        const hr_env *env);

/* DICT's codes (u8 form + payload) of n codes < d; small: n bytes scratch. */
void hr__str_encode_codes(hr__wbuf *out, const int64_t *codes, uint8_t *small,
                          size_t n, size_t d, const hr__str_opts *opts);
int hr__str_decode_codes(hr__rbuf *in, size_t n, size_t d, int64_t *codes,
                         uint8_t *small, const hr__str_dec *dec,
                         const hr_env *env);

/* Whether a hashed sample of the strings has few distinct values. */
int hr__str_low_card(const uint8_t *heap, const uint32_t *offsets, size_t n);

/* "varint size | that many bytes": *p points at them. HR_ECORRUPT. */
int hr__str_get_size(hr__rbuf *in, const uint8_t **p, size_t *size);
/* ints(n) at HR__STR_INT_DEPTH; any error but HR_ENOMEM is HR_ECORRUPT. */
int hr__str_int_decode(hr__rbuf *in, int64_t *v, size_t n, const hr_env *env);
/*
 * Whether [src, src+size) is exactly one zstd frame (no skippable or
 * trailing data) declaring its content size (to *content) and the
 * dictionary dict_id (0: none). HR_OK or HR_ECORRUPT.
 */
int hr__str_check_zstd_frame(const uint8_t *src, size_t size, unsigned dict_id,
                             uint64_t *content);
/* Decompress a checked frame into exactly `len` bytes at dst. */
int hr__str_zstd_into(const hr__str_dec *dec, const ZSTD_DDict *ddict,
                      uint8_t *dst, size_t len, const uint8_t *src,
                      size_t size);

static inline size_t hr__str_varint_len(uint64_t v)
{
    size_t len = 1;
    while (v >= 0x80) {
        v >>= 7;
        len++;
    }
    return len;
}

/* Write `v` as a varint at p (room for 10 bytes); returns its length. */
static inline size_t hr__str_varint_store(uint8_t *p, uint64_t v)
{
    size_t len = 0;
    while (v >= 0x80) {
        p[len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[len++] = (uint8_t)v;
    return len;
}

#endif /* HR_CODEC_STRCODEC_H */
