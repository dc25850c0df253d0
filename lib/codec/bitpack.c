/*
 * bitpack.c - see bitpack.h.
 *
 * Unpacking is the decoder's hot loop, so it works on groups of 8 values: 8
 * values of width w are exactly w bytes, so every group starts on a byte
 * boundary and value j of a group sits at the constant bit offset j*w. One
 * unaligned 64-bit load and a shift then extract a value (two loads above 56
 * bits). The group kernel is instantiated for each width, so shifts and
 * masks are immediates and the compiler unrolls the 8 extractions.
 *
 * The kernel reads up to 9 bytes past a value's first byte. Groups whose
 * reads stay inside the input run straight from it; the last few run from a
 * zero-padded copy, so no load ever leaves the input.
 */
#include "bitpack.h"

#include <assert.h>
#include <string.h>

#if defined(__GNUC__)
#define HR__ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define HR__ALWAYS_INLINE inline
#endif

static inline uint64_t width_mask(unsigned w)
{
    return w >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << w) - 1;
}

/* Bytes the group kernel may touch for one group: see unpack_groups. */
static inline size_t group_reach(unsigned w)
{
    return (7u * w) / 8 + 9;
}

/* Value at bit offset `bit` of p; with constant arguments every shift and
 * mask is an immediate. */
static HR__ALWAYS_INLINE uint64_t extract(const uint8_t *p, const unsigned bit,
                                          const unsigned w, const uint64_t mask)
{
    const uint8_t *q = p + bit / 8;
    const unsigned shift = bit % 8;
    uint64_t x = hr__load_u64(q) >> shift;
    /* Above 56 bits a value can straddle 9 bytes. Shifting in two steps
     * keeps the count below 64 when shift is 0. */
    if (w > 56)
        x |= ((uint64_t)q[8] << 1) << (63 - shift);
    return x & mask;
}

/* Written out rather than looped: compilers at -O2 do not reliably unroll
 * an inner loop of 8, and unrolled is what makes the offsets constant. */
static HR__ALWAYS_INLINE void unpack_groups(const uint8_t *p, uint64_t *out,
                                            size_t groups, const unsigned w)
{
    const uint64_t mask = width_mask(w);
    for (size_t g = 0; g < groups; g++) {
        out[0] = extract(p, 0 * w, w, mask);
        out[1] = extract(p, 1 * w, w, mask);
        out[2] = extract(p, 2 * w, w, mask);
        out[3] = extract(p, 3 * w, w, mask);
        out[4] = extract(p, 4 * w, w, mask);
        out[5] = extract(p, 5 * w, w, mask);
        out[6] = extract(p, 6 * w, w, mask);
        out[7] = extract(p, 7 * w, w, mask);
        p += w;
        out += 8;
    }
}

#define HR__UNPACK_CASE(W)                                                     \
    case W:                                                                    \
        unpack_groups(p, out, groups, W);                                      \
        break;

/* Unpack whole groups of 8 at width 1..63 with a width-specialised kernel. */
static void unpack_dispatch(const uint8_t *p, uint64_t *out, size_t groups,
                            unsigned w)
{
    /* clang-format off */
    switch (w) {
        HR__UNPACK_CASE(1) HR__UNPACK_CASE(2) HR__UNPACK_CASE(3)
        HR__UNPACK_CASE(4) HR__UNPACK_CASE(5) HR__UNPACK_CASE(6)
        HR__UNPACK_CASE(7) HR__UNPACK_CASE(8) HR__UNPACK_CASE(9)
        HR__UNPACK_CASE(10) HR__UNPACK_CASE(11) HR__UNPACK_CASE(12)
        HR__UNPACK_CASE(13) HR__UNPACK_CASE(14) HR__UNPACK_CASE(15)
        HR__UNPACK_CASE(16) HR__UNPACK_CASE(17) HR__UNPACK_CASE(18)
        HR__UNPACK_CASE(19) HR__UNPACK_CASE(20) HR__UNPACK_CASE(21)
        HR__UNPACK_CASE(22) HR__UNPACK_CASE(23) HR__UNPACK_CASE(24)
        HR__UNPACK_CASE(25) HR__UNPACK_CASE(26) HR__UNPACK_CASE(27)
        HR__UNPACK_CASE(28) HR__UNPACK_CASE(29) HR__UNPACK_CASE(30)
        HR__UNPACK_CASE(31) HR__UNPACK_CASE(32) HR__UNPACK_CASE(33)
        HR__UNPACK_CASE(34) HR__UNPACK_CASE(35) HR__UNPACK_CASE(36)
        HR__UNPACK_CASE(37) HR__UNPACK_CASE(38) HR__UNPACK_CASE(39)
        HR__UNPACK_CASE(40) HR__UNPACK_CASE(41) HR__UNPACK_CASE(42)
        HR__UNPACK_CASE(43) HR__UNPACK_CASE(44) HR__UNPACK_CASE(45)
        HR__UNPACK_CASE(46) HR__UNPACK_CASE(47) HR__UNPACK_CASE(48)
        HR__UNPACK_CASE(49) HR__UNPACK_CASE(50) HR__UNPACK_CASE(51)
        HR__UNPACK_CASE(52) HR__UNPACK_CASE(53) HR__UNPACK_CASE(54)
        HR__UNPACK_CASE(55) HR__UNPACK_CASE(56) HR__UNPACK_CASE(57)
        HR__UNPACK_CASE(58) HR__UNPACK_CASE(59) HR__UNPACK_CASE(60)
        HR__UNPACK_CASE(61) HR__UNPACK_CASE(62) HR__UNPACK_CASE(63)
    default:
        assert(0 && "width out of range");
    }
    /* clang-format on */
}

#undef HR__UNPACK_CASE

/*
 * The tail starts where fewer than group_reach(w) <= 65 bytes remain (or
 * fewer than 8 values): at most 79 values, even at width 1. Its last group
 * reads at most 65 bytes past the start of its own data.
 */
#define HR__TAIL_BYTES 160
#define HR__TAIL_VALUES 80

static void unpack_tail(const uint8_t *p, size_t nbytes, uint64_t *out,
                        size_t n, unsigned w)
{
    uint8_t buf[HR__TAIL_BYTES + 16] = {0};
    uint64_t vals[HR__TAIL_VALUES];
    const size_t groups = (n + 7) / 8;
    assert(nbytes <= HR__TAIL_BYTES && groups * 8 <= HR__TAIL_VALUES);
    assert((groups - 1) * w + group_reach(w) <= sizeof buf);
    memcpy(buf, p, nbytes);
    unpack_dispatch(buf, vals, groups, w);
    memcpy(out, vals, n * sizeof *out);
}

static void unpack_general(const uint8_t *p, size_t nbytes, uint64_t *out,
                           size_t n, unsigned w)
{
    /* Group g (from byte g*w) is safe while g*w + reach <= nbytes. */
    const size_t reach = group_reach(w);
    size_t fast = 0;
    if (nbytes >= reach)
        fast = (nbytes - reach) / w + 1;
    if (fast > n / 8)
        fast = n / 8;
    unpack_dispatch(p, out, fast, w);
    if (fast * 8 < n)
        unpack_tail(p + fast * w, nbytes - fast * w, out + fast * 8,
                    n - fast * 8, w);
}

int hr__bitpack_get(hr__rbuf *in, uint64_t *v, size_t n, unsigned w)
{
    if (w > 64)
        return -1;
    const size_t nbytes = hr__bitpack_bytes(n, w);
    if (nbytes > hr__rbuf_left(in))
        return -1;
    const uint8_t *p = in->data + in->pos;
    /* Padding bits must be zero: one encoding per stream, and a check
     * that catches most streams declared with the wrong width. */
    const unsigned used = (unsigned)((n % 8) * w % 8);
    if (used && (p[nbytes - 1] >> used) != 0)
        return -1;
    if (n == 0)
        return 0;
    if (w == 0)
        memset(v, 0, n * sizeof *v);
    else if (w == 64)
        memcpy(v, p, n * sizeof *v); /* the stream is little-endian words */
    else
        unpack_general(p, nbytes, v, n, w);
    in->pos += nbytes;
    return 0;
}

void hr__bitpack_put(hr__wbuf *out, const uint64_t *v, size_t n, unsigned w)
{
    assert(w <= 64);
    const size_t nbytes = hr__bitpack_bytes(n, w);
    if (nbytes == 0 || hr__wbuf_reserve(out, nbytes) != 0)
        return;
    uint8_t *p = out->data + out->len;
    out->len += nbytes;
    if (w == 64) {
        memcpy(p, v, nbytes);
        return;
    }
    /* Fill a 64-bit accumulator; each full word is stored whole, the bits
     * that did not fit start the next one. Exactly nbytes are written. */
    uint64_t acc = 0;
    unsigned fill = 0;
    for (size_t i = 0; i < n; i++) {
        const uint64_t x = v[i];
        assert((x >> w) == 0);
        acc |= x << fill;
        fill += w;
        if (fill >= 64) {
            hr__store_u64(p, acc);
            p += 8;
            fill -= 64;
            acc = fill ? x >> (w - fill) : 0;
        }
    }
    for (unsigned b = 0; b < fill; b += 8, acc >>= 8)
        *p++ = (uint8_t)acc;
}
