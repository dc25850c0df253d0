/*
 * pgvalue_time.c - PostgreSQL's ISO date and timestamp(tz) text forms
 * (DateStyle = ISO) into days / microseconds since 2000-01-01.
 */
#include "pgvalue.h"

#include <stdint.h>

#define USECS_PER_DAY INT64_C(86400000000)
#define USECS_PER_SEC INT64_C(1000000)

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
        if (hr__pg_equals_ci(s, len, "infinity") ||
            hr__pg_equals_ci(s, len, "+infinity")) {
            *out = HR__PG_DATE_NOEND;
            return 0;
        }
        if (hr__pg_equals_ci(s, len, "-infinity")) {
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
    if (j < 0 || j >= HR__PG_DATE_END_JULIAN)
        return -1;
    *out = (int32_t)(j - HR__PG_EPOCH_JDATE);
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
        if (hr__pg_equals_ci(s, len, "infinity") ||
            hr__pg_equals_ci(s, len, "+infinity")) {
            *out = HR__PG_TIMESTAMP_NOEND;
            return 0;
        }
        if (hr__pg_equals_ci(s, len, "-infinity")) {
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
    if (__builtin_mul_overflow(j - HR__PG_EPOCH_JDATE, USECS_PER_DAY, &t) ||
        __builtin_add_overflow(
            t, ((hh * 60 + mi) * 60 + ss) * USECS_PER_SEC + frac, &t) ||
        __builtin_sub_overflow(t, offset * USECS_PER_SEC, &t))
        return -1;
    if (t < HR__PG_MIN_TIMESTAMP || t >= HR__PG_END_TIMESTAMP)
        return -1;
    *out = t;
    return 0;
}
