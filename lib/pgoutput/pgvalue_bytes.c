/*
 * pgvalue_bytes.c - the uuid and bytea text forms into bytes, as uuid_in and
 * byteain read them.
 */
#include "pgvalue.h"

static inline int hex_value(uint8_t ch)
{
    if ((unsigned)ch - '0' <= 9)
        return ch - '0';
    const unsigned lower = (unsigned)(ch | 0x20) - 'a';
    return lower <= 5 ? (int)lower + 10 : -1;
}

/* 8-4-4-4-12 hex digits (either case), also without hyphens or in braces,
 * as uuid_in accepts them. */
int hr__pg_parse_uuid(const uint8_t *s, size_t len, uint8_t out[16])
{
    size_t i = 0;
    if (len >= 2 && s[0] == '{' && s[len - 1] == '}') {
        i = 1;
        len--;
    }
    const int hyphens = len - i == 36;
    if (!hyphens && len - i != 32)
        return -1;
    for (int k = 0; k < 16; k++) {
        if (hyphens && (k == 4 || k == 6 || k == 8 || k == 10)) {
            if (s[i++] != '-')
                return -1;
        }
        const int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[k] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return 0;
}

/* byteain's hex format ('\x' then pairs; whitespace between pairs allowed).
 * Returns the byte count written to dst, or -1. */
long hr__pg_bytea_hex(const uint8_t *s, size_t len, uint8_t *dst)
{
    size_t n = 0;
    for (size_t i = 2; i < len;) {
        const uint8_t ch = s[i];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
            i++;
            continue;
        }
        if (i + 1 >= len)
            return -1;
        const int hi = hex_value(ch), lo = hex_value(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        dst[n++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return (long)n;
}

/* byteain's escape format: '\\' is a backslash, '\ooo' an octal byte,
 * anything else itself. */
long hr__pg_bytea_escape(const uint8_t *s, size_t len, uint8_t *dst)
{
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        if (s[i] != '\\') {
            dst[n++] = s[i++];
        } else if (i + 1 < len && s[i + 1] == '\\') {
            dst[n++] = '\\';
            i += 2;
        } else if (i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' &&
                   s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' &&
                   s[i + 3] <= '7') {
            dst[n++] = (uint8_t)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 |
                                 (s[i + 3] - '0'));
            i += 4;
        } else {
            return -1;
        }
    }
    return (long)n;
}
