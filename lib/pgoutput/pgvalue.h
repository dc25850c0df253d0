/*
 * pgvalue.h - one pgoutput wire value (text or binary form) into a typed
 * hr_batch cell, by the column's PostgreSQL type OID. Internal.
 *
 * The conversions are those of batch.h's table: bool, int2/4/8, float4/8,
 * date, timestamp(tz) and uuid become native values; bytea becomes its raw
 * bytes; numeric becomes the text PostgreSQL's numeric_out prints (from the
 * binary form too); text-like types keep their bytes; any other type keeps
 * its text form (its binary form is HR_EUNSUPPORTED). Text is parsed as
 * PostgreSQL's output functions print it with DateStyle = ISO; the parsing
 * never depends on the process locale.
 */
#ifndef HR_PGVALUE_H
#define HR_PGVALUE_H

#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include "batch/batch_internal.h"

/* PostgreSQL's special date / timestamp values (DATEVAL_NOBEGIN & co.). */
#define HR__PG_DATE_NOBEGIN INT32_MIN
#define HR__PG_DATE_NOEND INT32_MAX
#define HR__PG_TIMESTAMP_NOBEGIN INT64_MIN
#define HR__PG_TIMESTAMP_NOEND INT64_MAX

/* PostgreSQL's calendar constants (datatype/timestamp.h). */
#define HR__PG_EPOCH_JDATE 2451545        /* date2j(2000, 1, 1) */
#define HR__PG_DATE_END_JULIAN 2147483494 /* date2j(5874898, 1, 1) */
#define HR__PG_MIN_TIMESTAMP INT64_C(-211813488000000000) /* 4714-11-24 BC */
#define HR__PG_END_TIMESTAMP INT64_C(9223371331200000000) /* 294277-01-01 */

/*
 * hr__pgvalue_append - append the value `data`, `len` bytes in wire form
 * `form` ('t' text or 'b' binary; NULL and unchanged TOAST are appended by
 * the caller) to column `col` of `b`, converted by the column's type OID.
 * HR_OK; HR_EPROTO (the value does not parse as the column's type: the
 * message in hr_batch_errmsg(b) names the column and the value);
 * HR_EUNSUPPORTED (a binary value of a type without a binary decoder, or a
 * jsonb binary version other than 1); HR_EINVAL (bad column, bad form);
 * HR_ENOMEM; HR_ELIMIT (the column's 4 GiB heap is full). On error nothing
 * is appended.
 */
int hr__pgvalue_append(hr_batch *b, int col, int form, const uint8_t *data,
                       size_t len);

/*
 * Parsers of PostgreSQL's ISO text forms, for tests and other modules.
 * Each returns 0 on success, -1 when the text is not a valid value.
 * Dates are days since 2000-01-01, timestamps microseconds since
 * 2000-01-01 00:00 (UTC when `with_tz`: a trailing offset is applied; without
 * it an offset is an error). 'infinity' / '-infinity' give the NOEND /
 * NOBEGIN values above.
 */
int hr__pg_parse_date(const char *s, size_t len, int32_t *out);
int hr__pg_parse_timestamp(const char *s, size_t len, int with_tz,
                           int64_t *out);

/*
 * hr__pg_numeric_to_text - the text numeric_out prints for the binary
 * NUMERIC send format in `data`, written to `dst` (at least
 * hr__pg_numeric_text_max(data, len) bytes; no NUL). Returns the text's
 * length, or -1 when the binary form is malformed.
 */
size_t hr__pg_numeric_text_max(const uint8_t *data, size_t len);
long hr__pg_numeric_to_text(const uint8_t *data, size_t len, char *dst);

/*
 * Text parsers of the other native types (pgvalue_float.c, pgvalue_bytes.c).
 * float4 / float8: 0, -1 when the text is not a valid value (or out of
 * range, as float8in has it), HR_ENOMEM when no "C" locale could be made.
 * uuid: 0 or -1. bytea: the hex ('\x' prefix included in `s`) or escape
 * format decoded into `dst` (room for (len - 1) / 2, resp. len, bytes);
 * the byte count, or -1.
 */
int hr__pg_parse_float4(const uint8_t *s, size_t len, float *out);
int hr__pg_parse_float8(const uint8_t *s, size_t len, double *out);
int hr__pg_parse_uuid(const uint8_t *s, size_t len, uint8_t out[16]);
long hr__pg_bytea_hex(const uint8_t *s, size_t len, uint8_t *dst);
long hr__pg_bytea_escape(const uint8_t *s, size_t len, uint8_t *dst);

/* 1 when `s` (`len` bytes) is `word` (lower case), ignoring ASCII case. */
static inline int hr__pg_equals_ci(const char *s, size_t len, const char *word)
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

#endif /* HR_PGVALUE_H */
