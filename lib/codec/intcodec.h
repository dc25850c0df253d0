/*
 * intcodec.h - encoding of n int64 values (one column of a batch, or a
 * stream nested in another scheme), BtrBlocks-style: the encoder measures
 * every scheme exactly from one statistics pass and writes the smallest.
 *
 * Wire layout: one scheme byte, then its payload. zz(x) is the zigzag of x
 * as an LEB128 varint ((x << 1) ^ (x >> 63), so small negatives are short);
 * bits(k, w) is k values packed at width w (bitpack.h, ceil(k*w/8) bytes);
 * ints(k) is a nested encoding of k values in this same format, one level
 * deeper. All arithmetic is modulo 2^64, so every int64 sequence
 * round-trips, including INT64_MIN/INT64_MAX jumps.
 *
 *   PLAIN (0): n x u64 little-endian
 *   CONST (1): zz(value)                                           n >= 1
 *   FOR   (2): zz(base) | u8 w | bits(n, w) of v[i] - base
 *   DELTA (3): zz(v[0]) | zz(base) | u8 w
 *              | bits(n-1, w) of (v[i] - v[i-1]) - base, i >= 1    n >= 2
 *   DOD   (4): zz(v[0]) | zz(v[1] - v[0]) | zz(base) | u8 w
 *              | bits(n-2, w) of (v[i] - v[i-1]) - (v[i-1] - v[i-2])
 *                - base, i >= 2                                    n >= 3
 *   RLE   (5): varint r (1 <= r <= n) | ints(r) run values
 *              | ints(r) run lengths (each >= 1, summing to n)     depth >= 1
 *
 * The encoder uses base = the minimum, so w is the width of the range; the
 * decoder accepts any base and w <= 64.
 */
#ifndef HR_CODEC_INTCODEC_H
#define HR_CODEC_INTCODEC_H

#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"

/* Wire ids are pinned: they appear in frames. */
typedef enum hr__int_scheme {
    HR__INT_PLAIN = 0,
    HR__INT_CONST = 1,
    HR__INT_FOR = 2,
    HR__INT_DELTA = 3,
    HR__INT_DOD = 4,
    HR__INT_RLE = 5
} hr__int_scheme;

/*
 * Append one scheme byte + payload encoding v[0..n). `depth` bounds
 * cascading: RLE encodes its run values and run lengths recursively with
 * depth-1; at depth <= 0 RLE is not considered. Picks the smallest encoding
 * (ties go to the cheaper decoder). Allocates only to measure RLE (through
 * out->env); on allocation failure out->failed is set.
 */
void hr__int_encode(hr__wbuf *out, const int64_t *v, size_t n, int depth);

/*
 * Decode exactly n values into v[0..n) from `in`, leaving the cursor after
 * the encoding. `depth` must be the encoder's. Returns HR_OK, HR_ECORRUPT
 * (malformed or inconsistent input; v may hold partial output) or HR_ENOMEM
 * (RLE scratch of one u64 per run, via env). Never reads outside `in`,
 * writes only v[0..n), and allocates at most 8 * n bytes per nesting level.
 */
int hr__int_decode(hr__rbuf *in, int64_t *v, size_t n, int depth,
                   const hr_env *env);

#endif /* HR_CODEC_INTCODEC_H */
