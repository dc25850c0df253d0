/*
 * heliosrepl/batch.h - a column batch: a relation's schema plus N rows.
 *
 * A batch is what crosses the wire: the replication stream fills it with a
 * tenant's changes, the codec turns it into one frame and back, the applier
 * writes it to the target. Values are stored column-wise in the form
 * PostgreSQL keeps them in memory:
 *
 *   bool                  hr_batch_append_bool       0 / 1
 *   int2, int4, int8      hr_batch_append_int64      range-checked per type
 *   date                  hr_batch_append_int64      days since 2000-01-01
 *   timestamp(tz)         hr_batch_append_int64      microseconds since
 *                                                    2000-01-01 00:00 (UTC
 *                                                    for timestamptz)
 *   float4                hr_batch_append_float4     bit-exact (-0.0, NaN)
 *   float8                hr_batch_append_float8     bit-exact (-0.0, NaN)
 *   uuid                  hr_batch_append_uuid       16 bytes
 *   numeric, text, varchar, bpchar, json, jsonb, bytea, and every type
 *   the batch does not know
 *                         hr_batch_append_bytes      text form (bytea: raw)
 *
 * Every value may instead be NULL (nullable columns only) or the
 * "unchanged TOAST" marker of pgoutput: the old value was not sent and must
 * be left as it is on the target. The marker is never turned into NULL.
 *
 * Build a batch by declaring its columns, then appending values column by
 * column (or row by row: the order of appends across columns is free). The
 * batch's row count is the number of complete rows (the shortest column).
 */
#ifndef HELIOSREPL_BATCH_H
#define HELIOSREPL_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include <heliosrepl/core.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hr_batch hr_batch;

/* PostgreSQL type OIDs with native encodings (pg_type.oid, pinned there). */
#define HR_OID_BOOL 16u
#define HR_OID_BYTEA 17u
#define HR_OID_INT8 20u
#define HR_OID_INT2 21u
#define HR_OID_INT4 23u
#define HR_OID_TEXT 25u
#define HR_OID_JSON 114u
#define HR_OID_FLOAT4 700u
#define HR_OID_FLOAT8 701u
#define HR_OID_BPCHAR 1042u
#define HR_OID_VARCHAR 1043u
#define HR_OID_DATE 1082u
#define HR_OID_TIMESTAMP 1114u
#define HR_OID_TIMESTAMPTZ 1184u
#define HR_OID_NUMERIC 1700u
#define HR_OID_UUID 2950u
#define HR_OID_JSONB 3802u

/* Limits a batch enforces (and a decoder checks before allocating). */
#define HR_BATCH_MAX_COLUMNS 1664   /* PostgreSQL's MaxTupleAttributeNumber */
#define HR_BATCH_MAX_NAME 255       /* bytes in a column or relation name */

typedef enum hr_value_state {
    HR_VALUE_PRESENT = 0,
    HR_VALUE_NULL = 1,
    HR_VALUE_UNCHANGED_TOAST = 2
} hr_value_state;

/*
 * hr_batch_new - an empty batch (no columns, no rows).
 * Returns HR_OK, HR_EINVAL (NULL argument), HR_ENOMEM.
 */
HR_API int hr_batch_new(hr_env *env, hr_batch **out);

/* hr_batch_free - NULL is a no-op. */
HR_API void hr_batch_free(hr_batch *batch);

/* hr_batch_clear - drop rows and columns and relation; keep the memory. */
HR_API void hr_batch_clear(hr_batch *batch);

/* hr_batch_clear_rows - drop the rows, keep the schema and the memory. */
HR_API void hr_batch_clear_rows(hr_batch *batch);

/*
 * hr_batch_truncate - keep the first `rows` cells of every column and drop
 * the rest (a row half appended when an append failed, say). Columns
 * shorter than `rows` are left as they are.
 */
HR_API void hr_batch_truncate(hr_batch *batch, size_t rows);

/*
 * hr_batch_set_relation - name the relation the rows belong to (both
 * strings copied; NULL or "" for none). HR_OK, HR_EINVAL (name too long),
 * HR_ENOMEM. On error the relation is unchanged.
 */
HR_API int hr_batch_set_relation(hr_batch *batch, const char *schema_name,
                                 const char *table_name);

/*
 * hr_batch_add_column - declare the next column. Only while the batch has
 * no values. Returns the new column's index (>= 0), or HR_ESTATE (values
 * already appended), HR_EINVAL (empty or too long name, too many columns),
 * HR_ENOMEM.
 */
HR_API int hr_batch_add_column(hr_batch *batch, const char *name,
                               uint32_t type_oid, int nullable);

/*
 * Appenders: add one value to the end of column `col`. Each returns HR_OK,
 * HR_EINVAL (bad column index, a type the column does not hold, a value out
 * of the column type's range, NULL into a NOT NULL column), or HR_ENOMEM.
 * On error nothing is appended.
 */
HR_API int hr_batch_append_null(hr_batch *batch, int col);
HR_API int hr_batch_append_unchanged_toast(hr_batch *batch, int col);
HR_API int hr_batch_append_bool(hr_batch *batch, int col, int value);
HR_API int hr_batch_append_int64(hr_batch *batch, int col, int64_t value);
HR_API int hr_batch_append_float4(hr_batch *batch, int col, float value);
HR_API int hr_batch_append_float8(hr_batch *batch, int col, double value);
HR_API int hr_batch_append_uuid(hr_batch *batch, int col,
                                const uint8_t value[16]);
/* `data` may be NULL when len is 0; values may hold any bytes, NUL included. */
HR_API int hr_batch_append_bytes(hr_batch *batch, int col, const void *data,
                                 size_t len);

/*
 * hr_batch_append_rows - append the rows of `src` (hr_batch_rows of them)
 * to the end of `dst`, which must have the same relation and the same
 * columns (names, types, nullability, in order); a `dst` with no columns
 * first takes the relation and columns of `src`, and a `src` with no
 * columns appends nothing. `src` is not changed.
 * Cost: one copy of each column's bytes, no per-value calls. Not
 * thread-safe on `dst`; `src` may be read by other threads meanwhile.
 * Returns HR_OK, HR_EINVAL (NULL argument, dst == src, another relation or
 * columns: the message names the first difference), HR_ESTATE (`dst` ends
 * in a partial row), HR_ELIMIT (a column would pass 4 GiB of value bytes),
 * HR_ENOMEM. On error `dst` holds the rows it held (one that had no
 * columns is left cleared: no columns, no relation).
 */
HR_API int hr_batch_append_rows(hr_batch *dst, const hr_batch *src);

/* Shape. Counts are never negative; a NULL batch reports 0. */
HR_API int hr_batch_columns(const hr_batch *batch);
HR_API size_t hr_batch_rows(const hr_batch *batch);
/* Column metadata; NULL / 0 for a bad index. Strings owned by the batch. */
HR_API const char *hr_batch_column_name(const hr_batch *batch, int col);
HR_API uint32_t hr_batch_column_type(const hr_batch *batch, int col);
HR_API int hr_batch_column_nullable(const hr_batch *batch, int col);
/* The relation; "" when unset. Owned by the batch. */
HR_API const char *hr_batch_schema_name(const hr_batch *batch);
HR_API const char *hr_batch_table_name(const hr_batch *batch);

/*
 * hr_batch_value_state - HR_VALUE_PRESENT / _NULL / _UNCHANGED_TOAST of a
 * cell, or HR_EINVAL for a bad index.
 */
HR_API int hr_batch_value_state(const hr_batch *batch, int col, size_t row);

/*
 * Getters: read a present value. HR_OK, HR_EINVAL (bad index, wrong type
 * for the column), HR_ENOTFOUND (the cell is NULL or unchanged TOAST).
 * hr_batch_get_bytes points *data into the batch: valid until the batch is
 * changed or freed.
 */
HR_API int hr_batch_get_bool(const hr_batch *batch, int col, size_t row,
                             int *value);
HR_API int hr_batch_get_int64(const hr_batch *batch, int col, size_t row,
                              int64_t *value);
HR_API int hr_batch_get_float4(const hr_batch *batch, int col, size_t row,
                               float *value);
HR_API int hr_batch_get_float8(const hr_batch *batch, int col, size_t row,
                               double *value);
HR_API int hr_batch_get_uuid(const hr_batch *batch, int col, size_t row,
                             uint8_t value[16]);
HR_API int hr_batch_get_bytes(const hr_batch *batch, int col, size_t row,
                              const uint8_t **data, size_t *len);

/*
 * hr_batch_equal - 1 when both batches have the same relation, columns and
 * rows: values compared bit for bit (so -0.0 != 0.0 and a NaN equals the
 * same NaN), states compared exactly. 0 otherwise or if either is NULL.
 */
HR_API int hr_batch_equal(const hr_batch *a, const hr_batch *b);

/*
 * hr_batch_raw_size - the plain binary size of the complete rows: fixed
 * width types at their width (bool 1, int2 2, ...), variable ones at their
 * length, plus one byte per cell that is NULL or unchanged TOAST. The
 * yardstick the codec's compression ratios are quoted against.
 */
HR_API size_t hr_batch_raw_size(const hr_batch *batch);

/* hr_batch_errmsg - the last failed call's message; "" if none. */
HR_API const char *hr_batch_errmsg(const hr_batch *batch);

#ifdef __cplusplus
}
#endif

#endif /* HELIOSREPL_BATCH_H */
