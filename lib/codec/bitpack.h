/*
 * bitpack.h - fixed-width bit packing, the leaf of the integer cascades.
 *
 * n values of w bits (0 <= w <= 64) occupy exactly hr__bitpack_bytes(n, w)
 * = ceil(n * w / 8) bytes: one LSB-first bit stream, value i at bits
 * [i*w, (i+1)*w), bit k of the stream in byte k/8 at position k%8 (so on a
 * little-endian host the stream is a sequence of little-endian words). The
 * unused high bits of the last byte are zero; the reader rejects anything
 * else, so every stream has a single valid encoding.
 *
 * Blocks of a multiple of 8 values end on a byte boundary, so a caller may
 * pack a long run in several calls (all but the last a multiple of 8 values)
 * and unpack it in one.
 */
#ifndef HR_CODEC_BITPACK_H
#define HR_CODEC_BITPACK_H

#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"

/* Bytes taken by n values of width w; no overflow for any n when w <= 64. */
static inline size_t hr__bitpack_bytes(size_t n, unsigned w)
{
    return (n / 8) * w + ((n % 8) * w + 7) / 8;
}

/* Bits needed for x: 0 for 0, else 1 + floor(log2(x)). */
static inline unsigned hr__bit_width(uint64_t x)
{
    return x ? 64u - (unsigned)__builtin_clzll(x) : 0u;
}

/*
 * Append v[0..n) packed at width w. Each value must fit in w bits (asserted
 * in debug builds). On allocation failure out->failed is set.
 */
void hr__bitpack_put(hr__wbuf *out, const uint64_t *v, size_t n, unsigned w);

/*
 * Read n values of width w into v[0..n). Returns 0, or -1 without moving the
 * cursor when w > 64, the input is short, or the padding bits are not zero.
 */
int hr__bitpack_get(hr__rbuf *in, uint64_t *v, size_t n, unsigned w);

#endif /* HR_CODEC_BITPACK_H */
