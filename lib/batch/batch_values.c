/* batch_values.c - appending and reading cells. */
#include <string.h>

#include "batch_internal.h"

int hr__column_reserve(const hr_env *env, hr__column *c, size_t cells)
{
    if (cells <= c->cap - c->len)
        return HR_OK;
    if (cells > (SIZE_MAX / 32) - c->len)
        return HR_ENOMEM;
    size_t cap = c->cap ? c->cap : 64;
    while (cap < c->len + cells)
        cap *= 2;
    uint8_t *states = hr__realloc(env, c->states, cap);
    if (!states)
        return HR_ENOMEM;
    c->states = states;
    if (c->storage == HR__STORE_BYTES) {
        uint32_t *offsets =
            hr__realloc(env, c->offsets, (cap + 1) * sizeof *offsets);
        if (!offsets)
            return HR_ENOMEM;
        if (!c->offsets)
            offsets[0] = 0;
        c->offsets = offsets;
    } else {
        uint8_t *values = hr__realloc(env, c->values, cap * c->width);
        if (!values)
            return HR_ENOMEM;
        c->values = values;
    }
    c->cap = cap;
    return HR_OK;
}

int hr__column_reserve_heap(const hr_env *env, hr__column *c, size_t bytes)
{
    if (bytes <= c->heap_cap - c->heap_len)
        return HR_OK;
    /* Offsets are 32-bit: a column holds at most 4 GiB - 1 of value bytes. */
    if (bytes > UINT32_MAX - c->heap_len)
        return HR_ELIMIT;
    size_t cap = c->heap_cap ? c->heap_cap : 1024;
    while (cap < c->heap_len + bytes)
        cap *= 2;
    uint8_t *heap = hr__realloc(env, c->heap, cap);
    if (!heap)
        return HR_ENOMEM;
    c->heap = heap;
    c->heap_cap = cap;
    return HR_OK;
}

static const char *storage_name(uint8_t storage)
{
    static const char *const names[] = {"bool", "integer", "float4",
                                        "float8", "uuid", "bytes"};
    return names[storage];
}

/* The column `col` if it exists and stores `storage`, else NULL + error. */
static hr__column *writable_column(hr_batch *b, int col, int storage,
                                   const char *what)
{
    if (!b)
        return NULL;
    if (col < 0 || col >= b->ncolumns) {
        hr__fail(&b->error, HR_EINVAL, "column %d out of range (0..%d)", col,
                 b->ncolumns - 1);
        return NULL;
    }
    hr__column *c = &b->columns[col];
    if (storage >= 0 && c->storage != storage) {
        hr__fail(&b->error, HR_EINVAL,
                 "column \"%s\" (type oid %u) holds %s values, not %s", c->name,
                 c->type_oid, storage_name(c->storage), what);
        return NULL;
    }
    return c;
}

/* Reserve a cell (and `heap_bytes`), record its state; returns the cell. */
static int push_cell(hr_batch *b, hr__column *c, hr_value_state state,
                     size_t heap_bytes, size_t *cell)
{
    int rc = hr__column_reserve(b->env, c, 1);
    if (rc == HR_OK && c->storage == HR__STORE_BYTES)
        rc = hr__column_reserve_heap(b->env, c, heap_bytes);
    if (rc != HR_OK)
        return hr__fail(&b->error, rc, "%s appending to column \"%s\"",
                        rc == HR_ELIMIT ? "4 GiB column limit reached"
                                        : "out of memory",
                        c->name);
    *cell = c->len++;
    c->states[*cell] = (uint8_t)state;
    if (state != HR_VALUE_PRESENT)
        c->special++;
    if (c->storage == HR__STORE_BYTES)
        c->offsets[*cell + 1] = (uint32_t)(c->heap_len + heap_bytes);
    else if (state != HR_VALUE_PRESENT)
        memset(c->values + *cell * c->width, 0, c->width);
    return HR_OK;
}

static int append_special(hr_batch *b, int col, hr_value_state state)
{
    hr__column *c = writable_column(b, col, -1, NULL);
    if (!c)
        return HR_EINVAL;
    if (state == HR_VALUE_NULL && !c->nullable)
        return hr__fail(&b->error, HR_EINVAL,
                        "NULL in column \"%s\", which is NOT NULL", c->name);
    size_t cell = 0;
    return push_cell(b, c, state, 0, &cell);
}

HR_API int hr_batch_append_null(hr_batch *b, int col)
{
    return append_special(b, col, HR_VALUE_NULL);
}

HR_API int hr_batch_append_unchanged_toast(hr_batch *b, int col)
{
    return append_special(b, col, HR_VALUE_UNCHANGED_TOAST);
}

static int append_fixed(hr_batch *b, int col, int storage, const char *what,
                        const void *value)
{
    hr__column *c = writable_column(b, col, storage, what);
    if (!c)
        return HR_EINVAL;
    size_t cell = 0;
    int rc = push_cell(b, c, HR_VALUE_PRESENT, 0, &cell);
    if (rc == HR_OK)
        memcpy(c->values + cell * c->width, value, c->width);
    return rc;
}

HR_API int hr_batch_append_bool(hr_batch *b, int col, int value)
{
    uint8_t v = value ? 1 : 0;
    return append_fixed(b, col, HR__STORE_BOOL, "bool", &v);
}

HR_API int hr_batch_append_int64(hr_batch *b, int col, int64_t value)
{
    hr__column *c = writable_column(b, col, HR__STORE_INT, "integer");
    if (!c)
        return HR_EINVAL;
    if (value < c->min_value || value > c->max_value)
        return hr__fail(&b->error, HR_EINVAL,
                        "%lld out of range for column \"%s\" (type oid %u)",
                        (long long)value, c->name, c->type_oid);
    return append_fixed(b, col, HR__STORE_INT, "integer", &value);
}

HR_API int hr_batch_append_float4(hr_batch *b, int col, float value)
{
    return append_fixed(b, col, HR__STORE_FLOAT4, "float4", &value);
}

HR_API int hr_batch_append_float8(hr_batch *b, int col, double value)
{
    return append_fixed(b, col, HR__STORE_FLOAT8, "float8", &value);
}

HR_API int hr_batch_append_uuid(hr_batch *b, int col, const uint8_t value[16])
{
    if (!value)
        return b ? hr__fail(&b->error, HR_EINVAL, "NULL uuid pointer")
                 : HR_EINVAL;
    return append_fixed(b, col, HR__STORE_UUID, "uuid", value);
}

HR_API int hr_batch_append_bytes(hr_batch *b, int col, const void *data,
                                 size_t len)
{
    hr__column *c = writable_column(b, col, HR__STORE_BYTES, "bytes");
    if (!c)
        return HR_EINVAL;
    if (len && !data)
        return hr__fail(&b->error, HR_EINVAL, "NULL data with length %zu", len);
    size_t cell = 0;
    int rc = push_cell(b, c, HR_VALUE_PRESENT, len, &cell);
    if (rc == HR_OK && len) {
        memcpy(c->heap + c->heap_len, data, len);
        c->heap_len += len;
    }
    return rc;
}

/* The cell (col, row) if it exists in a column of `storage` and is present. */
static int readable_cell(const hr_batch *b, int col, size_t row, int storage,
                         const hr__column **out)
{
    if (!b || col < 0 || col >= b->ncolumns)
        return HR_EINVAL;
    const hr__column *c = &b->columns[col];
    if (row >= c->len || (storage >= 0 && c->storage != storage))
        return HR_EINVAL;
    if (c->states[row] != HR_VALUE_PRESENT)
        return HR_ENOTFOUND;
    *out = c;
    return HR_OK;
}

HR_API int hr_batch_value_state(const hr_batch *b, int col, size_t row)
{
    if (!b || col < 0 || col >= b->ncolumns || row >= b->columns[col].len)
        return HR_EINVAL;
    return b->columns[col].states[row];
}

static int get_fixed(const hr_batch *b, int col, size_t row, int storage,
                     void *value)
{
    const hr__column *c;
    int rc = readable_cell(b, col, row, storage, &c);
    if (rc == HR_OK)
        memcpy(value, c->values + row * c->width, c->width);
    return rc;
}

HR_API int hr_batch_get_bool(const hr_batch *b, int col, size_t row, int *value)
{
    uint8_t v;
    int rc = value ? get_fixed(b, col, row, HR__STORE_BOOL, &v) : HR_EINVAL;
    if (rc == HR_OK)
        *value = v;
    return rc;
}

HR_API int hr_batch_get_int64(const hr_batch *b, int col, size_t row,
                              int64_t *value)
{
    return value ? get_fixed(b, col, row, HR__STORE_INT, value) : HR_EINVAL;
}

HR_API int hr_batch_get_float4(const hr_batch *b, int col, size_t row,
                               float *value)
{
    return value ? get_fixed(b, col, row, HR__STORE_FLOAT4, value) : HR_EINVAL;
}

HR_API int hr_batch_get_float8(const hr_batch *b, int col, size_t row,
                               double *value)
{
    return value ? get_fixed(b, col, row, HR__STORE_FLOAT8, value) : HR_EINVAL;
}

HR_API int hr_batch_get_uuid(const hr_batch *b, int col, size_t row,
                             uint8_t value[16])
{
    return value ? get_fixed(b, col, row, HR__STORE_UUID, value) : HR_EINVAL;
}

HR_API int hr_batch_get_bytes(const hr_batch *b, int col, size_t row,
                              const uint8_t **data, size_t *len)
{
    const hr__column *c;
    if (!data || !len)
        return HR_EINVAL;
    int rc = readable_cell(b, col, row, HR__STORE_BYTES, &c);
    if (rc != HR_OK)
        return rc;
    /* A column that only ever held empty values has no heap yet. */
    *data = c->heap ? c->heap + c->offsets[row] : (const uint8_t *)"";
    *len = c->offsets[row + 1] - c->offsets[row];
    return HR_OK;
}
