/*
 * pgvalue_numeric.c - the NUMERIC send format printed as numeric_out does.
 */
#include "pgvalue.h"

#include <string.h>

#include "pgwire.h"

#define NUMERIC_POS 0x0000
#define NUMERIC_NEG 0x4000
#define NUMERIC_NAN 0xC000
#define NUMERIC_PINF 0xD000
#define NUMERIC_NINF 0xF000
#define NUMERIC_DSCALE_MASK 0x3FFF
#define NBASE 10000

size_t hr__pg_numeric_text_max(const uint8_t *data, size_t len)
{
    if (len < 8)
        return 16;
    const int weight = (int16_t)hr__be16(data + 2);
    const size_t dscale = hr__be16(data + 6) & NUMERIC_DSCALE_MASK;
    const size_t before = weight >= 0 ? ((size_t)weight + 1) * 4 : 1;
    /* sign, digits, point, scale digits; at least "-Infinity". */
    return 16 + before + dscale;
}

long hr__pg_numeric_to_text(const uint8_t *data, size_t len, char *dst)
{
    if (len < 8)
        return -1;
    /* numeric_recv reads the digit count as unsigned: a numeric may have
     * more than 32767 of them. */
    int ndigits = hr__be16(data);
    int weight = (int16_t)hr__be16(data + 2);
    const unsigned sign = hr__be16(data + 4);
    const unsigned raw_dscale = hr__be16(data + 6);
    if (len != 8 + 2 * (size_t)ndigits ||
        (raw_dscale & NUMERIC_DSCALE_MASK) != raw_dscale)
        return -1;
    const int dscale = (int)raw_dscale;
    const uint8_t *digits = data + 8;
    for (int k = 0; k < ndigits; k++)
        if (hr__be16(digits + 2 * k) >= NBASE)
            return -1;
    char *cp = dst;
    switch (sign) {
    case NUMERIC_NAN:
        memcpy(cp, "NaN", 3);
        return 3;
    case NUMERIC_PINF:
        memcpy(cp, "Infinity", 8);
        return 8;
    case NUMERIC_NINF:
        memcpy(cp, "-Infinity", 9);
        return 9;
    case NUMERIC_POS:
    case NUMERIC_NEG:
        break;
    default:
        return -1;
    }
    /* numeric_recv normalises: leading zero digits go (make_result), and a
     * value that is zero once cut to dscale digits (trunc_var) is printed
     * without a sign. */
    while (ndigits > 0 && hr__be16(digits) == 0) {
        digits += 2;
        ndigits--;
        weight--;
    }
    if (ndigits == 0)
        weight = 0;
    int negative = 0;
    if (sign == NUMERIC_NEG) {
        /* Digit k holds decimal places 4*(weight-k+1)-3 .. 4*(weight-k+1)
         * below the point when negative; it survives truncation if any of
         * its places <= dscale, i.e. 4*(k-weight-1) < dscale. */
        for (int k = 0; k < ndigits && !negative; k++)
            if (hr__be16(digits + 2 * k) != 0 &&
                (k <= weight || 4 * (k - weight - 1) < dscale)) {
                if (k > weight && 4 * (k - weight) > dscale) {
                    /* Only some of its places are kept: look at them. */
                    unsigned dig = hr__be16(digits + 2 * k);
                    const int keep = dscale - 4 * (k - weight - 1);
                    for (int p = keep; p < 4; p++)
                        dig /= 10;
                    negative = dig != 0;
                } else {
                    negative = 1;
                }
            }
    }
    if (negative)
        *cp++ = '-';
    int d;
    if (weight < 0) {
        d = weight + 1;
        *cp++ = '0';
    } else {
        for (d = 0; d <= weight; d++) {
            unsigned dig = d < ndigits ? hr__be16(digits + 2 * d) : 0;
            const unsigned d1 = dig / 1000, d2 = dig / 100 % 10,
                           d3 = dig / 10 % 10, d4 = dig % 10;
            /* In the first digit, suppress extra leading decimal zeroes. */
            int putit = d > 0;
            putit |= d1 > 0;
            if (putit)
                *cp++ = (char)('0' + d1);
            putit |= d2 > 0;
            if (putit)
                *cp++ = (char)('0' + d2);
            putit |= d3 > 0;
            if (putit)
                *cp++ = (char)('0' + d3);
            *cp++ = (char)('0' + d4);
        }
    }
    if (dscale > 0) {
        *cp++ = '.';
        for (int i = 0; i < dscale; d++) {
            const unsigned dig =
                d >= 0 && d < ndigits ? hr__be16(digits + 2 * d) : 0;
            const char four[4] = {
                (char)('0' + dig / 1000), (char)('0' + dig / 100 % 10),
                (char)('0' + dig / 10 % 10), (char)('0' + dig % 10)};
            for (int p = 0; p < 4 && i < dscale; p++, i++)
                *cp++ = four[p];
        }
    }
    return (long)(cp - dst);
}
