/*
 * batch_internal.h - the batch's column storage, shared with the codec so it
 * can encode from and decode into the arrays directly.
 */
#ifndef HR_BATCH_INTERNAL_H
#define HR_BATCH_INTERNAL_H

#include <heliosrepl/batch.h>

#include "core/core_internal.h"

/* How a column's present values are stored. */
typedef enum hr__storage {
    HR__STORE_BOOL = 0,   /* uint8_t 0/1 */
    HR__STORE_INT = 1,    /* int64_t: int2/4/8, date, timestamp(tz) */
    HR__STORE_FLOAT4 = 2, /* float */
    HR__STORE_FLOAT8 = 3, /* double */
    HR__STORE_UUID = 4,   /* 16 bytes */
    HR__STORE_BYTES = 5   /* offsets + heap */
} hr__storage;

typedef struct hr__column {
    char *name;
    uint32_t type_oid;
    uint8_t nullable;
    uint8_t storage;     /* hr__storage */
    uint8_t width;       /* bytes per fixed value; 0 for BYTES */
    int64_t min_value;   /* HR__STORE_INT range of the PostgreSQL type */
    int64_t max_value;
    size_t len;          /* cells appended */
    size_t cap;          /* cells allocated */
    uint8_t *states;     /* hr_value_state per cell */
    size_t special;      /* cells that are NULL or unchanged TOAST */
    uint8_t *values;     /* fixed-width values, `width` bytes a cell */
    uint32_t *offsets;   /* BYTES: cap + 1 offsets into heap; offsets[0] = 0 */
    uint8_t *heap;       /* BYTES: the value bytes */
    size_t heap_len;
    size_t heap_cap;
} hr__column;

struct hr_batch {
    hr_env *env;
    char *schema_name;   /* never NULL: "" when unset */
    char *table_name;
    hr__column *columns;
    int ncolumns;
    int columns_cap;
    hr__error error;
};

/* The storage class of a type OID (unknown OIDs are BYTES: text form). */
hr__storage hr__storage_of_type(uint32_t type_oid);

/* Make room for `cells` more cells in `c` (states + values/offsets). */
int hr__column_reserve(const hr_env *env, hr__column *c, size_t cells);
/* Make room for `bytes` more heap bytes in a BYTES column. */
int hr__column_reserve_heap(const hr_env *env, hr__column *c, size_t bytes);

#endif /* HR_BATCH_INTERNAL_H */
