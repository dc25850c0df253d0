/*
 * pgvalue_float.c - float4 / float8 text forms into floats.
 *
 * An exact fast path (Clinger's: a mantissa and power of ten that are both
 * exact) and a fallback to strtod / strtof under a cached "C" locale, so a
 * host's setlocale() never changes how "1.5" parses.
 */
#include "pgvalue.h"

#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

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

int hr__pg_parse_float8(const uint8_t *s, size_t len, double *out)
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

int hr__pg_parse_float4(const uint8_t *s, size_t len, float *out)
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
