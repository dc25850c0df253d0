/*
 * pgtext.c - PostgreSQL text output of values and the pgoutput row-wise
 * serialization of a batch (see pgtext.h).
 */
#include "pgtext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Calendar: proleptic Gregorian, days relative to 1970-01-01 (Howard
 * Hinnant's civil-from-days algorithms). */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* PostgreSQL's epoch (2000-01-01) in days since 1970-01-01. */
#define PG_EPOCH_DAYS 10957

int64_t pgtext_us(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi,
                  unsigned s)
{
    const int64_t days = days_from_civil(y, mo, d) - PG_EPOCH_DAYS;
    return ((days * 24 + h) * 60 + mi) * 60000000ll + (int64_t)s * 1000000ll;
}

pgtext_civil pgtext_civil_of_us(int64_t t)
{
    pgtext_civil c;
    const int64_t secs = floor_div(t, 1000000);
    c.us = t - secs * 1000000;
    const int64_t days = floor_div(secs, 86400);
    const int64_t sod = secs - days * 86400;
    civil_from_days(days + PG_EPOCH_DAYS, &c.y, &c.mo, &c.d);
    c.h = (unsigned)(sod / 3600);
    c.mi = (unsigned)(sod / 60 % 60);
    c.s = (unsigned)(sod % 60);
    return c;
}

/* Shortest "%.Ng" that reads back to the same value (PostgreSQL 12+). */
int pgtext_float8(char *out, size_t cap, double v)
{
    if (v != v)
        return snprintf(out, cap, "NaN");
    if (v > 1.7976931348623157e308)
        return snprintf(out, cap, "Infinity");
    if (v < -1.7976931348623157e308)
        return snprintf(out, cap, "-Infinity");
    int n = 0;
    for (int p = 1; p <= 17; p++) {
        n = snprintf(out, cap, "%.*g", p, v);
        double back = strtod(out, NULL);
        if (memcmp(&back, &v, sizeof v) == 0)
            break;
    }
    return n;
}

int pgtext_float4(char *out, size_t cap, float v)
{
    if (v != v)
        return snprintf(out, cap, "NaN");
    if (v > 3.40282347e38f)
        return snprintf(out, cap, "Infinity");
    if (v < -3.40282347e38f)
        return snprintf(out, cap, "-Infinity");
    int n = 0;
    for (int p = 1; p <= 9; p++) {
        n = snprintf(out, cap, "%.*g", p, (double)v);
        float back = strtof(out, NULL);
        if (memcmp(&back, &v, sizeof v) == 0)
            break;
    }
    return n;
}

int pgtext_timestamp(char *out, size_t cap, int64_t t, int with_tz)
{
    const pgtext_civil c = pgtext_civil_of_us(t);
    int n = snprintf(out, cap, "%04lld-%02u-%02u %02u:%02u:%02u",
                     (long long)c.y, c.mo, c.d, c.h, c.mi, c.s);
    if (c.us) {
        char frac[16];
        snprintf(frac, sizeof frac, "%06lld", (long long)c.us);
        size_t k = strlen(frac);
        while (k > 0 && frac[k - 1] == '0')
            frac[--k] = '\0';
        n += snprintf(out + n, cap - (size_t)n, ".%s", frac);
    }
    if (with_tz)
        n += snprintf(out + n, cap - (size_t)n, "+00");
    return n;
}

int pgtext_date(char *out, size_t cap, int64_t days)
{
    int64_t y;
    unsigned m, d;
    civil_from_days(days + PG_EPOCH_DAYS, &y, &m, &d);
    return snprintf(out, cap, "%04lld-%02u-%02u", (long long)y, m, d);
}

int pgtext_uuid(char *out, size_t cap, const uint8_t u[16])
{
    static const char hex[] = "0123456789abcdef";
    if (cap < 37)
        return 0;
    int n = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[n++] = '-';
        out[n++] = hex[u[i] >> 4];
        out[n++] = hex[u[i] & 15];
    }
    out[n] = '\0';
    return n;
}

void pgtext_put_cell(bench_buf *out, const hr_batch *b, int col, size_t row)
{
    const int state = hr_batch_value_state(b, col, row);
    if (state == HR_VALUE_NULL) {
        bench_buf_put_u8(out, 'n');
        return;
    }
    if (state == HR_VALUE_UNCHANGED_TOAST) {
        bench_buf_put_u8(out, 'u');
        return;
    }
    char text[128];
    int n = 0;
    int64_t i64;
    double f8;
    float f4;
    int flag;
    uint8_t uuid[16];
    const uint8_t *bytes;
    size_t len;
    const uint32_t oid = hr_batch_column_type(b, col);
    switch (oid) {
    case HR_OID_BOOL:
        bench_check(hr_batch_get_bool(b, col, row, &flag), "get bool");
        n = snprintf(text, sizeof text, "%s", flag ? "t" : "f");
        break;
    case HR_OID_INT2:
    case HR_OID_INT4:
    case HR_OID_INT8:
        bench_check(hr_batch_get_int64(b, col, row, &i64), "get int");
        n = snprintf(text, sizeof text, "%lld", (long long)i64);
        break;
    case HR_OID_DATE:
        bench_check(hr_batch_get_int64(b, col, row, &i64), "get date");
        n = pgtext_date(text, sizeof text, i64);
        break;
    case HR_OID_TIMESTAMP:
    case HR_OID_TIMESTAMPTZ:
        bench_check(hr_batch_get_int64(b, col, row, &i64), "get timestamp");
        n = pgtext_timestamp(text, sizeof text, i64, oid == HR_OID_TIMESTAMPTZ);
        break;
    case HR_OID_FLOAT4:
        bench_check(hr_batch_get_float4(b, col, row, &f4), "get float4");
        n = pgtext_float4(text, sizeof text, f4);
        break;
    case HR_OID_FLOAT8:
        bench_check(hr_batch_get_float8(b, col, row, &f8), "get float8");
        n = pgtext_float8(text, sizeof text, f8);
        break;
    case HR_OID_UUID:
        bench_check(hr_batch_get_uuid(b, col, row, uuid), "get uuid");
        n = pgtext_uuid(text, sizeof text, uuid);
        break;
    case HR_OID_BYTEA: { /* \x + hex */
        static const char hex[] = "0123456789abcdef";
        bench_check(hr_batch_get_bytes(b, col, row, &bytes, &len), "get bytea");
        bench_buf_put_u8(out, 't');
        bench_buf_put_be32(out, (uint32_t)(2 + 2 * len));
        bench_buf_put(out, "\\x", 2);
        for (size_t k = 0; k < len; k++) {
            const char h[2] = {hex[bytes[k] >> 4], hex[bytes[k] & 15]};
            bench_buf_put(out, h, 2);
        }
        return;
    }
    default: /* text-like: the bytes are the text form */
        bench_check(hr_batch_get_bytes(b, col, row, &bytes, &len), "get bytes");
        bench_buf_put_u8(out, 't');
        bench_buf_put_be32(out, (uint32_t)len);
        bench_buf_put(out, bytes, len);
        return;
    }
    bench_buf_put_u8(out, 't');
    bench_buf_put_be32(out, (uint32_t)n);
    bench_buf_put(out, text, (size_t)n);
}

void pgtext_serialize_rowwise(bench_buf *out, const hr_batch *b)
{
    out->len = 0;
    const int ncols = hr_batch_columns(b);
    const size_t rows = hr_batch_rows(b);
    for (size_t r = 0; r < rows; r++) {
        bench_buf_put_u8(out, 'N');
        bench_buf_put_be16(out, (uint16_t)ncols);
        for (int c = 0; c < ncols; c++)
            pgtext_put_cell(out, b, c, r);
    }
}
