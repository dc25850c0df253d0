/*
 * apply_values.c - batch values in PostgreSQL's binary send format, for
 * binary parameters of prepared statements and for binary COPY. The batch
 * keeps most types in that form already (see batch.h); only byte order,
 * the width of integer types, jsonb's version byte and numeric (kept as
 * text) need work.
 */
#include <string.h>

#include "apply_internal.h"

int hr__param_binary(uint32_t oid)
{
    switch (oid) {
    case HR_OID_BOOL:
    case HR_OID_BYTEA:
    case HR_OID_INT8:
    case HR_OID_INT2:
    case HR_OID_INT4:
    case HR_OID_TEXT:
    case HR_OID_JSON:
    case HR_OID_FLOAT4:
    case HR_OID_FLOAT8:
    case HR_OID_BPCHAR:
    case HR_OID_VARCHAR:
    case HR_OID_DATE:
    case HR_OID_TIMESTAMP:
    case HR_OID_TIMESTAMPTZ:
    case HR_OID_UUID:
    case HR_OID_JSONB:
        return 1;
    default:
        return 0;
    }
}

int hr__copy_binary(uint32_t oid)
{
    return oid == HR_OID_NUMERIC || hr__param_binary(oid);
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

/*
 * numeric's text form ("-12.3400", "NaN", "Infinity") as its binary form:
 * ndigits, weight, sign, dscale (int16 each), then base-10000 digits.
 * Returns the length, or -1 for text that is not a plain numeric.
 */
int hr__numeric_binary(const uint8_t *s, size_t len, uint8_t *out)
{
    uint16_t sign = 0;
    if (len == 3 && !memcmp(s, "NaN", 3))
        sign = 0xC000;
    else if (len == 8 && !memcmp(s, "Infinity", 8))
        sign = 0xD000;
    else if (len == 9 && !memcmp(s, "-Infinity", 9))
        sign = 0xF000;
    if (sign) {
        memset(out, 0, 8);
        put_be(out + 4, sign, 2);
        return 8;
    }
    size_t i = 0;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        sign = s[i++] == '-' ? 0x4000 : 0;
    size_t int_start = i;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    size_t int_len = i - int_start, frac_start = i, frac_len = 0;
    if (i < len && s[i] == '.') {
        frac_start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        frac_len = i - frac_start;
    }
    if (i != len || int_len + frac_len == 0 || frac_len > 0x3FFF)
        return -1;
    /* Groups of 4 decimal digits aligned on the point: the integer part
     * padded on the left, the fraction on the right. */
    size_t int_groups = (int_len + 3) / 4, frac_groups = (frac_len + 3) / 4;
    size_t ngroups = int_groups + frac_groups;
    uint8_t *digits = out + 8;
    size_t nd = 0;
    long weight = (long)int_groups - 1;
    int leading = 1;
    for (size_t g = 0; g < ngroups; g++) {
        unsigned v = 0;
        for (int k = 0; k < 4; k++) {
            long pos; /* index into the digit string, or out of range */
            unsigned d = 0;
            if (g < int_groups) {
                pos = (long)(g * 4 + (size_t)k) - (long)(int_groups * 4 - int_len);
                if (pos >= 0)
                    d = s[int_start + (size_t)pos] - '0';
            } else {
                pos = (long)((g - int_groups) * 4 + (size_t)k);
                if ((size_t)pos < frac_len)
                    d = s[frac_start + (size_t)pos] - '0';
            }
            v = v * 10 + d;
        }
        if (leading && v == 0) {
            weight--;
            continue;
        }
        leading = 0;
        put_be(digits + 2 * nd, v, 2);
        nd++;
    }
    while (nd > 0 && digits[2 * nd - 2] == 0 && digits[2 * nd - 1] == 0)
        nd--;
    if (nd == 0) {
        weight = 0;
        sign = 0;
    }
    if (weight < -0x8000 || weight > 0x7FFF)
        return -1;
    put_be(out, nd, 2);
    put_be(out + 2, (uint16_t)(int16_t)weight, 2);
    put_be(out + 4, sign, 2);
    put_be(out + 6, frac_len, 2);
    return (int)(8 + 2 * nd);
}

size_t hr__value_binary_max(const hr_batch *b, int col, size_t row)
{
    const hr__column *c = &b->columns[col];
    if (c->storage != HR__STORE_BYTES)
        return 16;
    return c->offsets[row + 1] - c->offsets[row] + 16;
}

int hr__value_binary(const hr_batch *b, int col, size_t row, uint8_t *dst,
                     int *len)
{
    const hr__column *c = &b->columns[col];
    if (c->states[row] != HR_VALUE_PRESENT) {
        *len = -1;
        return HR_OK;
    }
    const uint8_t *v = c->values ? c->values + row * c->width : NULL;
    switch (c->storage) {
    case HR__STORE_BOOL:
        dst[0] = v[0];
        *len = 1;
        return HR_OK;
    case HR__STORE_INT: {
        int64_t x;
        memcpy(&x, v, 8);
        int w = c->type_oid == HR_OID_INT2 ? 2
                : (c->type_oid == HR_OID_INT4 || c->type_oid == HR_OID_DATE)
                    ? 4
                    : 8;
        put_be(dst, (uint64_t)x, w);
        *len = w;
        return HR_OK;
    }
    case HR__STORE_FLOAT4: {
        uint32_t x;
        memcpy(&x, v, 4);
        put_be(dst, x, 4);
        *len = 4;
        return HR_OK;
    }
    case HR__STORE_FLOAT8: {
        uint64_t x;
        memcpy(&x, v, 8);
        put_be(dst, x, 8);
        *len = 8;
        return HR_OK;
    }
    case HR__STORE_UUID:
        memcpy(dst, v, 16);
        *len = 16;
        return HR_OK;
    default: {
        const uint8_t *p = c->heap + c->offsets[row];
        size_t n = c->offsets[row + 1] - c->offsets[row];
        if (c->type_oid == HR_OID_NUMERIC) {
            int k = hr__numeric_binary(p, n, dst);
            if (k < 0)
                return HR_EINVAL;
            *len = k;
            return HR_OK;
        }
        size_t at = 0;
        if (c->type_oid == HR_OID_JSONB)
            dst[at++] = 1; /* jsonb's binary format version */
        memcpy(dst + at, p, n);
        *len = (int)(at + n);
        return HR_OK;
    }
    }
}

int hr__scratch_reserve(hr_applier *a, size_t n)
{
    if (n <= a->scratch_cap)
        return HR_OK;
    size_t cap = a->scratch_cap ? a->scratch_cap : 4096;
    while (cap < n)
        cap *= 2;
    uint8_t *p = hr__realloc(a->env, a->scratch, cap);
    if (!p)
        return HR_ENOMEM;
    a->scratch = p;
    a->scratch_cap = cap;
    return HR_OK;
}

int hr__copy_reserve(hr_applier *a, size_t more)
{
    hr__group *g = &a->g;
    if (g->copy_len + more <= g->copy_cap)
        return HR_OK;
    size_t cap = g->copy_cap ? g->copy_cap : 65536;
    while (cap < g->copy_len + more)
        cap *= 2;
    uint8_t *p = hr__realloc(a->env, g->copybuf, cap);
    if (!p)
        return HR_ENOMEM;
    g->copybuf = p;
    g->copy_cap = cap;
    return HR_OK;
}

static const uint8_t copy_signature[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n',
                                           0xFF, '\r', '\n', 0};

int hr__copy_header(hr_applier *a)
{
    hr__group *g = &a->g;
    g->copy_len = g->copy_sent = 0;
    if (hr__copy_reserve(a, 19) != HR_OK)
        return HR_ENOMEM;
    memcpy(g->copybuf, copy_signature, 11);
    memset(g->copybuf + 11, 0, 8); /* flags, header extension length */
    g->copy_len = 19;
    return HR_OK;
}

int hr__copy_trailer(hr_applier *a)
{
    if (hr__copy_reserve(a, 2) != HR_OK)
        return HR_ENOMEM;
    put_be(a->g.copybuf + a->g.copy_len, 0xFFFF, 2);
    a->g.copy_len += 2;
    return HR_OK;
}

int hr__copy_rows(hr_applier *a, const int *inv, int ntcols,
                  const hr_batch *b, size_t from, size_t to)
{
    hr__group *g = &a->g;
    int nfields = 0;
    for (int j = 0; j < ntcols; j++)
        nfields += inv[j] >= 0;
    for (size_t row = from; row < to; row++) {
        size_t need = 2;
        for (int j = 0; j < ntcols; j++)
            if (inv[j] >= 0)
                need += 4 + hr__value_binary_max(b, inv[j], row);
        if (hr__copy_reserve(a, need) != HR_OK)
            return HR_ENOMEM;
        uint8_t *p = g->copybuf + g->copy_len;
        put_be(p, (uint64_t)nfields, 2);
        size_t at = 2;
        for (int j = 0; j < ntcols; j++) {
            if (inv[j] < 0)
                continue;
            int len;
            if (hr__value_binary(b, inv[j], row, p + at + 4, &len) != HR_OK)
                return hr__fail(&a->error, HR_EINVAL,
                                "column \"%s\": not a numeric value",
                                b->columns[inv[j]].name);
            put_be(p + at, (uint64_t)(int64_t)len, 4);
            at += 4 + (len > 0 ? (size_t)len : 0);
        }
        g->copy_len += at;
    }
    return HR_OK;
}
