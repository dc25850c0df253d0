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
    HR__STR_SNAPPY = 3
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
 * by O(n) plus twice max_bytes.
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

#endif /* HR_CODEC_STRCODEC_H */
