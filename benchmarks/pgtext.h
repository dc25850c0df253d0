/*
 * pgtext.h - PostgreSQL's text output of values, and a batch serialized
 * row-wise as pgoutput sends it: the baseline the codec benchmark
 * compresses with zstd and snappy.
 *
 * Times are PostgreSQL's: microseconds since 2000-01-01 00:00 UTC
 * (timestamp, timestamptz) or days since 2000-01-01 (date), proleptic
 * Gregorian calendar, UTC. The formatters write like snprintf: at most `cap`
 * bytes including the NUL, and return the length of the text.
 */
#ifndef HR_BENCH_PGTEXT_H
#define HR_BENCH_PGTEXT_H

#include <stddef.h>
#include <stdint.h>

#include <heliosrepl/heliosrepl.h>

#include "support.h"

/* A UTC civil time. */
typedef struct pgtext_civil {
    int64_t y;
    unsigned mo, d, h, mi, s;
    int64_t us; /* 0..999999 */
} pgtext_civil;

/* PostgreSQL microseconds of a UTC civil time (whole seconds). */
int64_t pgtext_us(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi,
                  unsigned s);

/* The civil time of PostgreSQL microseconds (before 2000 too). */
pgtext_civil pgtext_civil_of_us(int64_t t);

/* float8 / float4 output of PostgreSQL 12+: the shortest "%.Ng" that reads
 * back to the same value; NaN, Infinity, -Infinity. */
int pgtext_float8(char *out, size_t cap, double v);
int pgtext_float4(char *out, size_t cap, float v);

/* `2024-05-01 12:34:56.123456` (trailing zeros of the fraction cut, no
 * fraction when it is 0), plus `+00` when `with_tz` (timestamptz in a
 * session with TimeZone UTC). */
int pgtext_timestamp(char *out, size_t cap, int64_t t, int with_tz);

/* `2024-05-01` of days since 2000-01-01. */
int pgtext_date(char *out, size_t cap, int64_t days);

/* `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (lower case); needs cap >= 37,
 * returns 0 (writes nothing) otherwise. */
int pgtext_uuid(char *out, size_t cap, const uint8_t u[16]);

/* Append one cell of `b` as pgoutput TupleData sends it in text mode: 'n'
 * (NULL), 'u' (unchanged TOAST), or 't' + int32 length + the text output of
 * the value (bytea as \x + hex; text-like types as their bytes). */
void pgtext_put_cell(bench_buf *out, const hr_batch *b, int col, size_t row);

/* Replace `out`'s contents with the batch as pgoutput INSERT tuples: per
 * row 'N', int16 column count, then each cell (pgtext_put_cell). */
void pgtext_serialize_rowwise(bench_buf *out, const hr_batch *b);

#endif /* HR_BENCH_PGTEXT_H */
