/*
 * pgvalue.c - pgoutput wire values into typed batch cells.
 *
 * Hot path: one value at a time, straight into the column's arrays (the
 * batch's storage is shared through batch_internal.h), no allocation beyond
 * the column's own growth, no sscanf. Floats take an exact fast path
 * (Clinger's: a mantissa and power of ten that are both exact) and fall back
 * to strtod / strtof under a cached "C" locale, so a host's setlocale() never
 * changes how "1.5" parses.
 */
#include "pgvalue.h"

#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- PostgreSQL's calendar constants (datatype/timestamp.h) ------------ */

#define PG_EPOCH_JDATE 2451545        /* date2j(2000, 1, 1) */
#define PG_DATE_END_JULIAN 2147483494 /* date2j(5874898, 1, 1) */
#define PG_MIN_TIMESTAMP INT64_C(-211813488000000000) /* 4714-11-24 BC */
#define PG_END_TIMESTAMP INT64_C(9223371331200000000) /* 294277-01-01 */
#define USECS_PER_DAY INT64_C(86400000000)
#define USECS_PER_SEC INT64_C(1000000)

/* ---- messages ---------------------------------------------------------- */

static const char *type_name(uint32_t oid)
{
    switch (oid) {
    case HR_OID_BOOL:
        return "bool";
    case HR_OID_BYTEA:
        return "bytea";
    case HR_OID_INT8:
        return "int8";
    case HR_OID_INT2:
        return "int2";
    case HR_OID_INT4:
        return "int4";
    case HR_OID_TEXT:
        return "text";
    case HR_OID_JSON:
        return "json";
    case HR_OID_FLOAT4:
        return "float4";
    case HR_OID_FLOAT8:
        return "float8";
    case HR_OID_BPCHAR:
        return "bpchar";
    case HR_OID_VARCHAR:
        return "varchar";
    case HR_OID_DATE:
        return "date";
    case HR_OID_TIMESTAMP:
        return "timestamp";
    case HR_OID_TIMESTAMPTZ:
        return "timestamptz";
    case HR_OID_NUMERIC:
        return "numeric";
    case HR_OID_UUID:
        return "uuid";
    case HR_OID_JSONB:
        return "jsonb";
    default:
        return NULL;
    }
}

/* "int4", or "type oid 869" for a type without a name here. */
static const char *type_label(uint32_t oid, char *buf, size_t cap)
{
    const char *name = type_name(oid);
    if (name)
        return name;
    snprintf(buf, cap, "type oid %u", oid);
    return buf;
}

/* Up to 48 bytes of a value for a message: printable ASCII as is (quotes and
 * backslashes escaped), other bytes as \xNN, "..." when cut. */
static void quote_value(char *dst, size_t cap, const uint8_t *data, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, i;
    for (i = 0; i < len && i < 48 && o + 5 < cap; i++) {
        const uint8_t ch = data[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
            dst[o++] = (char)ch;
        } else {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[ch >> 4];
            dst[o++] = hex[ch & 15];
        }
    }
    if (i < len && o + 4 <= cap) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
}

static int bad_text(hr_batch *b, const hr__column *c, const uint8_t *data,
                    size_t len)
{
    char q[256], tbuf[32];
    quote_value(q, sizeof q, data, len);
    return hr__fail(&b->error, HR_EPROTO,
                    "column \"%s\": invalid %s value \"%s\" (text form)",
                    c->name, type_label(c->type_oid, tbuf, sizeof tbuf), q);
}

static int bad_binary(hr_batch *b, const hr__column *c, const uint8_t *data,
                      size_t len, const char *why)
{
    char q[256], tbuf[32];
    quote_value(q, sizeof q, data, len);
    return hr__fail(&b->error, HR_EPROTO,
                    "column \"%s\": invalid %s value \"%s\" (binary form, %zu "
                    "bytes: %s)",
                    c->name, type_label(c->type_oid, tbuf, sizeof tbuf), q, len,
                    why);
}

/* ---- appending straight into the column -------------------------------- */

static int grow_failed(hr_batch *b, const hr__column *c, int rc)
{
    return hr__fail(&b->error, rc, "%s appending to column \"%s\"",
                    rc == HR_ELIMIT ? "4 GiB column limit reached"
                                    : "out of memory",
                    c->name);
}

/*
 * Copies of a few bytes. A memcpy of a length the compiler does not know may
 * become `rep movs`, whose start-up costs more than copying a short value:
 * values are mostly short, so copy them with word moves.
 */
static inline void copy_short(uint8_t *dst, const uint8_t *src, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t head, tail;
        memcpy(&head, src, 8);
        memcpy(&tail, src + n - 8, 8);
        memcpy(dst, &head, 8);
        memcpy(dst + n - 8, &tail, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t head, tail;
        memcpy(&head, src, 4);
        memcpy(&tail, src + n - 4, 4);
        memcpy(dst, &head, 4);
        memcpy(dst + n - 4, &tail, 4);
    } else if (n < 4) {
        for (size_t i = 0; i < n; i++)
            dst[i] = src[i];
    } else if (n <= 32) {
        copy_short(dst, src, 16);
        copy_short(dst + n - 16, src + n - 16, 16);
    } else {
        memcpy(dst, src, n);
    }
}

/* A present fixed-width cell holding the `c->width` bytes at `value`. */
static int push_fixed(hr_batch *b, hr__column *c, const void *value)
{
    if (c->len == c->cap) {
        const int rc = hr__column_reserve(b->env, c, 1);
        if (rc != HR_OK)
            return grow_failed(b, c, rc);
    }
    const size_t cell = c->len++;
    c->states[cell] = HR_VALUE_PRESENT;
    uint8_t *dst = c->values + cell * c->width;
    switch (c->width) { /* constant sizes: plain moves */
    case 1:
        memcpy(dst, value, 1);
        break;
    case 4:
        memcpy(dst, value, 4);
        break;
    case 8:
        memcpy(dst, value, 8);
        break;
    case 16:
        memcpy(dst, value, 16);
        break;
    default:
        memcpy(dst, value, c->width);
        break;
    }
    return HR_OK;
}

static int push_int(hr_batch *b, hr__column *c, int64_t v)
{
    /* The parsers check PostgreSQL's ranges; the batch's are as wide. */
    if (v < c->min_value || v > c->max_value)
        return hr__fail(&b->error, HR_EPROTO,
                        "column \"%s\": %lld out of range for type oid %u",
                        c->name, (long long)v, c->type_oid);
    return push_fixed(b, c, &v);
}

/* Room for one BYTES cell of at most `max` (> 0) bytes, written at *dst and
 * then committed with bytes_commit(c, actual length). */
static int bytes_reserve(hr_batch *b, hr__column *c, size_t max, uint8_t **dst)
{
    int rc = hr__column_reserve(b->env, c, 1);
    if (rc == HR_OK)
        rc = hr__column_reserve_heap(b->env, c, max);
    if (rc != HR_OK)
        return grow_failed(b, c, rc);
    *dst = c->heap + c->heap_len;
    return HR_OK;
}

static void bytes_commit(hr__column *c, size_t n)
{
    const size_t cell = c->len++;
    c->states[cell] = HR_VALUE_PRESENT;
    c->heap_len += n;
    c->offsets[cell + 1] = (uint32_t)c->heap_len;
}

static int push_bytes(hr_batch *b, hr__column *c, const uint8_t *data,
                      size_t len)
{
    int rc = hr__column_reserve(b->env, c, 1);
    if (rc == HR_OK && len)
        rc = hr__column_reserve_heap(b->env, c, len);
    if (rc != HR_OK)
        return grow_failed(b, c, rc);
    if (len)
        copy_short(c->heap + c->heap_len, data, len);
    bytes_commit(c, len);
    return HR_OK;
}

/* ---- big-endian reads -------------------------------------------------- */

static inline uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static inline uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* ---- integers ---------------------------------------------------------- */

/* An optionally signed decimal in [min, max] (min < 0 < max). */
static int parse_int(const uint8_t *s, size_t len, int64_t min, int64_t max,
                     int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (len && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == len)
        return -1;
    while (i + 1 < len && s[i] == '0') /* leading zeros (int4in allows them) */
        i++;
    /* 19 digits always fit in a uint64: no overflow check per digit (and no
     * division), one range check at the end. */
    if (len - i > 19)
        return -1;
    uint64_t v = 0;
    for (; i < len; i++) {
        const unsigned d = (unsigned)s[i] - '0';
        if (d > 9)
            return -1;
        v = v * 10 + d;
    }
    const uint64_t limit = neg ? (uint64_t)(-(min + 1)) + 1 : (uint64_t)max;
    if (v > limit)
        return -1;
    /* -(v - 1) - 1 avoids negating INT64_MIN's magnitude as an int64. */
    *out = neg ? (v ? -(int64_t)(v - 1) - 1 : 0) : (int64_t)v;
    return 0;
}

/* ---- floats ------------------------------------------------------------ */

static const double pow10_double[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static const float pow10_float[] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f,
                                    1e6f, 1e7f, 1e8f, 1e9f, 1e10f};

/* A plain decimal: [+-]digits[.digits][(e|E)[+-]digits], read as
 * mant * 10^exp10 with at most 19 significant digits. */
typedef struct decimal {
    uint64_t mant;
    int exp10;
    int ndigits; /* significant digits in mant */
    int neg;
} decimal;

/* 1 when `s` is such a decimal and nothing was cut off, else 0 (the caller
 * then asks strtod, which also knows NaN, Infinity and hex). */
static int scan_decimal(const uint8_t *s, size_t len, decimal *d)
{
    size_t i = 0;
    uint64_t mant = 0;
    int nd = 0, exp10 = 0, any = 0;
    d->neg = 0;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        d->neg = s[i++] == '-';
    for (; i < len && (unsigned)s[i] - '0' <= 9; i++) {
        const unsigned dg = (unsigned)s[i] - '0';
        any = 1;
        if (nd == 0 && dg == 0)
            continue;
        if (nd == 19)
            return 0;
        mant = mant * 10 + dg;
        nd++;
    }
    if (i < len && s[i] == '.') {
        for (i++; i < len && (unsigned)s[i] - '0' <= 9; i++) {
            const unsigned dg = (unsigned)s[i] - '0';
            any = 1;
            exp10--;
            if (nd == 0 && dg == 0)
                continue;
            if (nd == 19)
                return 0;
            mant = mant * 10 + dg;
            nd++;
        }
    }
    if (!any)
        return 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        int eneg = 0, e = 0, edigits = 0;
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            eneg = s[i++] == '-';
        for (; i < len && (unsigned)s[i] - '0' <= 9; i++, edigits++)
            if (e < 100000)
                e = e * 10 + (s[i] - '0');
        if (!edigits)
            return 0;
        exp10 += eneg ? -e : e;
    }
    if (i != len)
        return 0;
    d->mant = mant;
    d->exp10 = exp10;
    d->ndigits = nd;
    return 1;
}

static _Atomic(locale_t) c_locale;

/* A "C" locale made once and kept for the life of the process. */
static locale_t the_c_locale(void)
{
    locale_t l = atomic_load_explicit(&c_locale, memory_order_acquire);
    if (l)
        return l;
    locale_t fresh = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (!fresh)
        return (locale_t)0;
    locale_t expected = (locale_t)0;
    if (!atomic_compare_exchange_strong(&c_locale, &expected, fresh)) {
        freelocale(fresh);
        return expected;
    }
    return fresh;
}

/* strtod / strtof of the whole text in the "C" locale, with float8in's rule
 * that an out-of-range result (0 or infinity from ERANGE) is an error.
 * 0 on success, -1 bad text, HR_ENOMEM when no locale could be made. */
static int slow_parse(const uint8_t *s, size_t len, int single, double *dv,
                      float *fv)
{
    char buf[512];
    if (len == 0 || len >= sizeof buf || memchr(s, '\0', len))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    const locale_t c = the_c_locale();
    if (!c)
        return HR_ENOMEM;
    const locale_t old = uselocale(c);
    char *end;
    errno = 0;
    int bad;
    if (single) {
        *fv = strtof(buf, &end);
        bad = errno == ERANGE && (*fv == 0.0f || isinf(*fv));
        if (isnan(*fv))
            *fv = NAN;
    } else {
        *dv = strtod(buf, &end);
        bad = errno == ERANGE && (*dv == 0.0 || isinf(*dv));
        if (isnan(*dv))
            *dv = (double)NAN;
    }
    uselocale(old);
    /* float8in allows surrounding spaces; strtod skipped the leading ones. */
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
        end++;
    return end == buf || *end != '\0' || bad ? -1 : 0;
}

static int parse_float8(const uint8_t *s, size_t len, double *out)
{
    /* The fast path needs double operations rounded once, to double. */
#if FLT_EVAL_METHOD == 0 || FLT_EVAL_METHOD == 1
    decimal d;
    if (scan_decimal(s, len, &d)) {
        double v = -1.0;
        if (d.mant == 0) {
            v = 0.0;
        } else if (d.ndigits <= 15) {
            /* Both factors exact, so one correctly rounded operation. */
            if (d.exp10 >= -22 && d.exp10 <= 22)
                v = d.exp10 >= 0 ? (double)d.mant * pow10_double[d.exp10]
                                 : (double)d.mant / pow10_double[-d.exp10];
            else if (d.exp10 > 22 && d.exp10 <= 22 + 15 - d.ndigits)
                v = (double)d.mant * pow10_double[d.exp10 - 22] * 1e22;
        }
        if (v >= 0.0) {
            *out = d.neg ? -v : v;
            return 0;
        }
    }
#endif
    float unused;
    return slow_parse(s, len, 0, out, &unused);
}

static int parse_float4(const uint8_t *s, size_t len, float *out)
{
#if FLT_EVAL_METHOD == 0
    decimal d;
    if (scan_decimal(s, len, &d)) {
        float v = -1.0f;
        if (d.mant == 0)
            v = 0.0f;
        else if (d.ndigits <= 7 && d.exp10 >= -10 && d.exp10 <= 10)
            v = d.exp10 >= 0 ? (float)d.mant * pow10_float[d.exp10]
                             : (float)d.mant / pow10_float[-d.exp10];
        if (v >= 0.0f) {
            *out = d.neg ? -v : v;
            return 0;
        }
    }
#endif
    double unused;
    return slow_parse(s, len, 1, &unused, out);
}

/* ---- dates and timestamps ---------------------------------------------- */

/* PostgreSQL's date2j (Julian day of a proleptic Gregorian date; year 0 is
 * 1 BC), in 64 bits so that no parsed year can overflow it. */
static int64_t date2j(int64_t y, int m, int d)
{
    if (m > 2) {
        m += 1;
        y += 4800;
    } else {
        m += 13;
        y += 4799;
    }
    const int64_t century = y / 100;
    int64_t julian = y * 365 - 32167;
    julian += y / 4 - century + century / 4;
    julian += 7834 * m / 256 + d;
    return julian;
}

static int is_leap(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

/* `n` (min..max) digits at s[*i]; advances *i. */
static int read_digits(const char *s, size_t len, size_t *i, int min, int max,
                       int64_t *out)
{
    int64_t v = 0;
    int n = 0;
    while (*i < len && n < max && (unsigned)s[*i] - '0' <= 9) {
        v = v * 10 + (s[*i] - '0');
        (*i)++;
        n++;
    }
    if (n < min || (*i < len && (unsigned)s[*i] - '0' <= 9))
        return -1;
    *out = v;
    return 0;
}

static int equals_ci(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (ch != word[i])
            return 0;
    }
    return 1;
}

/* 'YYYY-MM-DD' at s[*i] (year: 1..7 digits, as printed; not yet BC). */
static int read_ymd(const char *s, size_t len, size_t *i, int64_t *y, int *m,
                    int *d)
{
    int64_t mm, dd;
    if (read_digits(s, len, i, 1, 7, y) || *i >= len || s[(*i)++] != '-' ||
        read_digits(s, len, i, 1, 2, &mm) || *i >= len || s[(*i)++] != '-' ||
        read_digits(s, len, i, 1, 2, &dd))
        return -1;
    *m = (int)mm;
    *d = (int)dd;
    return 0;
}

/* A trailing " BC" at s[*i]: 1 (consumed), else 0. */
static int read_bc(const char *s, size_t len, size_t *i)
{
    if (len - *i == 3 && s[*i] == ' ' && (s[*i + 1] | 0x20) == 'b' &&
        (s[*i + 2] | 0x20) == 'c') {
        *i = len;
        return 1;
    }
    return 0;
}

/* The Julian day of y-m-d (astronomical y after BC applied), or -1. */
static int64_t checked_julian(int64_t y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1)
        return -1;
    if (d > mdays[m - 1] + (m == 2 && is_leap(y)))
        return -1;
    const int64_t j = date2j(y, m, d);
    return j < 0 ? -1 : j;
}

int hr__pg_parse_date(const char *s, size_t len, int32_t *out)
{
    if (len && (s[0] == 'i' || s[0] == 'I' || s[0] == '-' || s[0] == '+')) {
        if (equals_ci(s, len, "infinity") || equals_ci(s, len, "+infinity")) {
            *out = HR__PG_DATE_NOEND;
            return 0;
        }
        if (equals_ci(s, len, "-infinity")) {
            *out = HR__PG_DATE_NOBEGIN;
            return 0;
        }
    }
    size_t i = 0;
    int64_t y;
    int m, d;
    if (read_ymd(s, len, &i, &y, &m, &d))
        return -1;
    if (read_bc(s, len, &i)) {
        if (y == 0)
            return -1;
        y = 1 - y;
    }
    if (i != len)
        return -1;
    const int64_t j = checked_julian(y, m, d);
    if (j < 0 || j >= PG_DATE_END_JULIAN)
        return -1;
    *out = (int32_t)(j - PG_EPOCH_JDATE);
    return 0;
}

/* '+HH[:MM[:SS]]', '+HHMM', or 'Z' at s[*i]: seconds east of UTC. */
static int read_offset(const char *s, size_t len, size_t *i, int64_t *secs)
{
    if (s[*i] == 'Z' || s[*i] == 'z') {
        (*i)++;
        *secs = 0;
        return 0;
    }
    const int neg = s[*i] == '-';
    (*i)++;
    int64_t hh, mm = 0, ss = 0;
    const size_t start = *i;
    if (read_digits(s, len, i, 1, 4, &hh))
        return -1;
    if (*i - start == 4) { /* +HHMM */
        mm = hh % 100;
        hh /= 100;
    } else if (*i - start > 2) {
        return -1;
    } else if (*i < len && s[*i] == ':') {
        (*i)++;
        if (read_digits(s, len, i, 2, 2, &mm))
            return -1;
        if (*i < len && s[*i] == ':') {
            (*i)++;
            if (read_digits(s, len, i, 2, 2, &ss))
                return -1;
        }
    }
    if (hh > 23 || mm > 59 || ss > 59)
        return -1;
    *secs = (hh * 3600 + mm * 60 + ss) * (neg ? -1 : 1);
    return 0;
}

int hr__pg_parse_timestamp(const char *s, size_t len, int with_tz, int64_t *out)
{
    if (len && (s[0] == 'i' || s[0] == 'I' || s[0] == '-' || s[0] == '+')) {
        if (equals_ci(s, len, "infinity") || equals_ci(s, len, "+infinity")) {
            *out = HR__PG_TIMESTAMP_NOEND;
            return 0;
        }
        if (equals_ci(s, len, "-infinity")) {
            *out = HR__PG_TIMESTAMP_NOBEGIN;
            return 0;
        }
    }
    size_t i = 0;
    int64_t y, hh, mi, ss, frac = 0, offset = 0;
    int m, d;
    if (read_ymd(s, len, &i, &y, &m, &d) || i >= len ||
        (s[i] != ' ' && s[i] != 'T'))
        return -1;
    i++;
    if (read_digits(s, len, &i, 2, 2, &hh) || i >= len || s[i++] != ':' ||
        read_digits(s, len, &i, 2, 2, &mi) || i >= len || s[i++] != ':' ||
        read_digits(s, len, &i, 2, 2, &ss))
        return -1;
    if (hh > 23 || mi > 59 || ss > 59)
        return -1;
    if (i < len && s[i] == '.') {
        const size_t start = ++i;
        if (read_digits(s, len, &i, 1, 6, &frac))
            return -1;
        for (size_t n = i - start; n < 6; n++)
            frac *= 10;
    }
    if (i < len && (s[i] == '+' || s[i] == '-' || s[i] == 'Z' || s[i] == 'z')) {
        if (!with_tz || read_offset(s, len, &i, &offset))
            return -1;
    }
    if (read_bc(s, len, &i)) {
        if (y == 0)
            return -1;
        y = 1 - y;
    }
    if (i != len || y < -4713 || y > 294277)
        return -1;
    const int64_t j = checked_julian(y, m, d);
    if (j < 0)
        return -1;
    /* |days| < 1.1e8, so days * USECS_PER_DAY < 9.5e18: check, then add. */
    int64_t t;
    if (__builtin_mul_overflow(j - PG_EPOCH_JDATE, USECS_PER_DAY, &t) ||
        __builtin_add_overflow(
            t, ((hh * 60 + mi) * 60 + ss) * USECS_PER_SEC + frac, &t) ||
        __builtin_sub_overflow(t, offset * USECS_PER_SEC, &t))
        return -1;
    if (t < PG_MIN_TIMESTAMP || t >= PG_END_TIMESTAMP)
        return -1;
    *out = t;
    return 0;
}

/* ---- uuid, bytea ------------------------------------------------------- */

static inline int hex_value(uint8_t ch)
{
    if ((unsigned)ch - '0' <= 9)
        return ch - '0';
    const unsigned lower = (unsigned)(ch | 0x20) - 'a';
    return lower <= 5 ? (int)lower + 10 : -1;
}

/* 8-4-4-4-12 hex digits (either case), also without hyphens or in braces,
 * as uuid_in accepts them. */
static int parse_uuid(const uint8_t *s, size_t len, uint8_t out[16])
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
static long bytea_hex(const uint8_t *s, size_t len, uint8_t *dst)
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
static long bytea_escape(const uint8_t *s, size_t len, uint8_t *dst)
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

static int append_bytea_text(hr_batch *b, hr__column *c, const uint8_t *s,
                             size_t len)
{
    const int hex = len >= 2 && s[0] == '\\' && s[1] == 'x';
    if (len == (hex ? 2u : 0u))
        return push_bytes(b, c, NULL, 0);
    /* At most a byte per two hex digits (one for an odd, bad, count). */
    const size_t max = hex ? (len - 1) / 2 : len;
    uint8_t *dst = NULL;
    const int rc = bytes_reserve(b, c, max, &dst);
    if (rc != HR_OK)
        return rc;
    const long n = hex ? bytea_hex(s, len, dst) : bytea_escape(s, len, dst);
    if (n < 0)
        return bad_text(b, c, s, len);
    bytes_commit(c, (size_t)n);
    return HR_OK;
}

/* ---- numeric: the NUMERIC send format printed as numeric_out does ------ */

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
    const int weight = (int16_t)be16(data + 2);
    const size_t dscale = be16(data + 6) & NUMERIC_DSCALE_MASK;
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
    int ndigits = be16(data);
    int weight = (int16_t)be16(data + 2);
    const unsigned sign = be16(data + 4);
    const unsigned raw_dscale = be16(data + 6);
    if (len != 8 + 2 * (size_t)ndigits ||
        (raw_dscale & NUMERIC_DSCALE_MASK) != raw_dscale)
        return -1;
    const int dscale = (int)raw_dscale;
    const uint8_t *digits = data + 8;
    for (int k = 0; k < ndigits; k++)
        if (be16(digits + 2 * k) >= NBASE)
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
    while (ndigits > 0 && be16(digits) == 0) {
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
            if (be16(digits + 2 * k) != 0 &&
                (k <= weight || 4 * (k - weight - 1) < dscale)) {
                if (k > weight && 4 * (k - weight) > dscale) {
                    /* Only some of its places are kept: look at them. */
                    unsigned dig = be16(digits + 2 * k);
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
            unsigned dig = d < ndigits ? be16(digits + 2 * d) : 0;
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
                d >= 0 && d < ndigits ? be16(digits + 2 * d) : 0;
            const char four[4] = {
                (char)('0' + dig / 1000), (char)('0' + dig / 100 % 10),
                (char)('0' + dig / 10 % 10), (char)('0' + dig % 10)};
            for (int p = 0; p < 4 && i < dscale; p++, i++)
                *cp++ = four[p];
        }
    }
    return (long)(cp - dst);
}

static int append_numeric_binary(hr_batch *b, hr__column *c,
                                 const uint8_t *data, size_t len)
{
    uint8_t *dst = NULL;
    const int rc =
        bytes_reserve(b, c, hr__pg_numeric_text_max(data, len), &dst);
    if (rc != HR_OK)
        return rc;
    const long n = hr__pg_numeric_to_text(data, len, (char *)dst);
    if (n < 0)
        return bad_binary(b, c, data, len, "not a NUMERIC send form");
    bytes_commit(c, (size_t)n);
    return HR_OK;
}

/* ---- dispatch ---------------------------------------------------------- */

static int append_text(hr_batch *b, hr__column *c, const uint8_t *s, size_t len)
{
    int64_t iv;
    switch (c->type_oid) {
    case HR_OID_BOOL:
        if (len == 1 && (s[0] == 't' || s[0] == 'f')) {
            const uint8_t v = s[0] == 't';
            return push_fixed(b, c, &v);
        } else {
            /* boolin's other spellings. */
            static const char *const yes[] = {"true", "yes", "on", "1"};
            static const char *const no[] = {"false", "no", "off", "0"};
            for (int k = 0; k < 4; k++) {
                uint8_t v = 2;
                if (equals_ci((const char *)s, len, yes[k]))
                    v = 1;
                else if (equals_ci((const char *)s, len, no[k]))
                    v = 0;
                if (v != 2)
                    return push_fixed(b, c, &v);
            }
            if (len == 1 && (s[0] == 'T' || s[0] == 'F' || s[0] == 'y' ||
                             s[0] == 'Y' || s[0] == 'n' || s[0] == 'N')) {
                const uint8_t v = (s[0] | 0x20) == 't' || (s[0] | 0x20) == 'y';
                return push_fixed(b, c, &v);
            }
            return bad_text(b, c, s, len);
        }
    case HR_OID_INT2:
        if (parse_int(s, len, INT16_MIN, INT16_MAX, &iv))
            return bad_text(b, c, s, len);
        return push_fixed(b, c, &iv);
    case HR_OID_INT4:
        if (parse_int(s, len, INT32_MIN, INT32_MAX, &iv))
            return bad_text(b, c, s, len);
        return push_fixed(b, c, &iv);
    case HR_OID_INT8:
        if (parse_int(s, len, INT64_MIN, INT64_MAX, &iv))
            return bad_text(b, c, s, len);
        return push_fixed(b, c, &iv);
    case HR_OID_FLOAT4: {
        float v;
        const int rc = parse_float4(s, len, &v);
        if (rc == HR_ENOMEM)
            return hr__fail(&b->error, rc, "out of memory making a C locale");
        if (rc)
            return bad_text(b, c, s, len);
        return push_fixed(b, c, &v);
    }
    case HR_OID_FLOAT8: {
        double v;
        const int rc = parse_float8(s, len, &v);
        if (rc == HR_ENOMEM)
            return hr__fail(&b->error, rc, "out of memory making a C locale");
        if (rc)
            return bad_text(b, c, s, len);
        return push_fixed(b, c, &v);
    }
    case HR_OID_DATE: {
        int32_t v;
        if (hr__pg_parse_date((const char *)s, len, &v))
            return bad_text(b, c, s, len);
        return push_int(b, c, v);
    }
    case HR_OID_TIMESTAMP:
    case HR_OID_TIMESTAMPTZ:
        if (hr__pg_parse_timestamp((const char *)s, len,
                                   c->type_oid == HR_OID_TIMESTAMPTZ, &iv))
            return bad_text(b, c, s, len);
        return push_fixed(b, c, &iv);
    case HR_OID_UUID: {
        uint8_t u[16];
        if (parse_uuid(s, len, u))
            return bad_text(b, c, s, len);
        return push_fixed(b, c, u);
    }
    case HR_OID_BYTEA:
        return append_bytea_text(b, c, s, len);
    default:
        /* text, varchar, bpchar, json, jsonb, numeric and every other type:
         * the text form is the value. */
        return push_bytes(b, c, s, len);
    }
}

static int append_binary(hr_batch *b, hr__column *c, const uint8_t *s,
                         size_t len)
{
    static const char wrong_size[] = "wrong size";
    switch (c->type_oid) {
    case HR_OID_BOOL: {
        if (len != 1)
            return bad_binary(b, c, s, len, wrong_size);
        const uint8_t v = s[0] != 0; /* boolrecv */
        return push_fixed(b, c, &v);
    }
    case HR_OID_INT2: {
        if (len != 2)
            return bad_binary(b, c, s, len, wrong_size);
        const int64_t v = (int16_t)be16(s);
        return push_fixed(b, c, &v);
    }
    case HR_OID_INT4: {
        if (len != 4)
            return bad_binary(b, c, s, len, wrong_size);
        const int64_t v = (int32_t)be32(s);
        return push_fixed(b, c, &v);
    }
    case HR_OID_INT8:
    case HR_OID_TIMESTAMP:
    case HR_OID_TIMESTAMPTZ: {
        if (len != 8)
            return bad_binary(b, c, s, len, wrong_size);
        const int64_t v = (int64_t)be64(s);
        if (c->type_oid != HR_OID_INT8 && v != HR__PG_TIMESTAMP_NOBEGIN &&
            v != HR__PG_TIMESTAMP_NOEND &&
            (v < PG_MIN_TIMESTAMP || v >= PG_END_TIMESTAMP))
            return bad_binary(b, c, s, len, "timestamp out of range");
        return push_fixed(b, c, &v);
    }
    case HR_OID_DATE: {
        if (len != 4)
            return bad_binary(b, c, s, len, wrong_size);
        const int32_t v = (int32_t)be32(s);
        if (v != HR__PG_DATE_NOBEGIN && v != HR__PG_DATE_NOEND &&
            (v < -PG_EPOCH_JDATE || v >= PG_DATE_END_JULIAN - PG_EPOCH_JDATE))
            return bad_binary(b, c, s, len, "date out of range");
        return push_int(b, c, v);
    }
    case HR_OID_FLOAT4: {
        if (len != 4)
            return bad_binary(b, c, s, len, wrong_size);
        const uint32_t bits = be32(s);
        float v;
        memcpy(&v, &bits, sizeof v);
        return push_fixed(b, c, &v);
    }
    case HR_OID_FLOAT8: {
        if (len != 8)
            return bad_binary(b, c, s, len, wrong_size);
        const uint64_t bits = be64(s);
        double v;
        memcpy(&v, &bits, sizeof v);
        return push_fixed(b, c, &v);
    }
    case HR_OID_UUID:
        if (len != 16)
            return bad_binary(b, c, s, len, wrong_size);
        return push_fixed(b, c, s);
    case HR_OID_NUMERIC:
        return append_numeric_binary(b, c, s, len);
    case HR_OID_JSONB:
        /* jsonb_send: a version byte (1), then the text. */
        if (len < 1)
            return bad_binary(b, c, s, len, "no version byte");
        if (s[0] != 1)
            return hr__fail(&b->error, HR_EUNSUPPORTED,
                            "column \"%s\": jsonb binary version %u is not "
                            "supported (only 1)",
                            c->name, s[0]);
        return push_bytes(b, c, s + 1, len - 1);
    case HR_OID_BYTEA:
    case HR_OID_TEXT:
    case HR_OID_VARCHAR:
    case HR_OID_BPCHAR:
    case HR_OID_JSON:
        /* textsend / byteasend: the bytes themselves. */
        return push_bytes(b, c, s, len);
    default: {
        char tbuf[32];
        return hr__fail(&b->error, HR_EUNSUPPORTED,
                        "column \"%s\": no binary decoder for %s (publish it "
                        "in text form)",
                        c->name, type_label(c->type_oid, tbuf, sizeof tbuf));
    }
    }
}

int hr__pgvalue_append(hr_batch *b, int col, int form, const uint8_t *data,
                       size_t len)
{
    if (!b)
        return HR_EINVAL;
    if (col < 0 || col >= b->ncolumns)
        return hr__fail(&b->error, HR_EINVAL, "column %d out of range (0..%d)",
                        col, b->ncolumns - 1);
    if (len && !data)
        return hr__fail(&b->error, HR_EINVAL, "NULL data with length %zu", len);
    hr__column *c = &b->columns[col];
    if (form == 't')
        return append_text(b, c, data, len);
    if (form == 'b')
        return append_binary(b, c, data, len);
    return hr__fail(&b->error, HR_EINVAL,
                    "column \"%s\": value form %d is neither text nor binary",
                    c->name, form);
}
