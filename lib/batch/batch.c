/* batch.c - batch lifetime, schema and shape. */
#include <string.h>

#include "batch_internal.h"

static char empty_name[] = "";

hr__storage hr__storage_of_type(uint32_t type_oid)
{
    switch (type_oid) {
    case HR_OID_BOOL:
        return HR__STORE_BOOL;
    case HR_OID_INT2:
    case HR_OID_INT4:
    case HR_OID_INT8:
    case HR_OID_DATE:
    case HR_OID_TIMESTAMP:
    case HR_OID_TIMESTAMPTZ:
        return HR__STORE_INT;
    case HR_OID_FLOAT4:
        return HR__STORE_FLOAT4;
    case HR_OID_FLOAT8:
        return HR__STORE_FLOAT8;
    case HR_OID_UUID:
        return HR__STORE_UUID;
    default:
        return HR__STORE_BYTES;
    }
}

/* The int64 range of an integer-stored PostgreSQL type. */
static void int_range(uint32_t type_oid, int64_t *min, int64_t *max)
{
    switch (type_oid) {
    case HR_OID_INT2:
        *min = INT16_MIN;
        *max = INT16_MAX;
        break;
    case HR_OID_INT4:
    case HR_OID_DATE: /* PostgreSQL keeps a date in an int32 */
        *min = INT32_MIN;
        *max = INT32_MAX;
        break;
    default:
        *min = INT64_MIN;
        *max = INT64_MAX;
        break;
    }
}

static const uint8_t storage_width[] = {1, 8, 4, 8, 16, 0};

HR_API int hr_batch_new(hr_env *env, hr_batch **out)
{
    if (!out)
        return HR_EINVAL;
    *out = NULL;
    if (!env)
        return HR_EINVAL;
    hr_batch *b = hr__calloc(env, 1, sizeof *b);
    if (!b)
        return HR_ENOMEM;
    b->env = hr__env_ref(env);
    b->schema_name = empty_name;
    b->table_name = empty_name;
    *out = b;
    return HR_OK;
}

static void free_name(const hr_env *env, char **name)
{
    if (*name != empty_name)
        hr__free(env, *name);
    *name = empty_name;
}

static void free_column(const hr_env *env, hr__column *c)
{
    hr__free(env, c->name);
    hr__free(env, c->states);
    hr__free(env, c->values);
    hr__free(env, c->offsets);
    hr__free(env, c->heap);
    memset(c, 0, sizeof *c);
}

HR_API void hr_batch_clear(hr_batch *b)
{
    if (!b)
        return;
    for (int i = 0; i < b->ncolumns; i++)
        free_column(b->env, &b->columns[i]);
    b->ncolumns = 0;
    free_name(b->env, &b->schema_name);
    free_name(b->env, &b->table_name);
    hr__error_clear(&b->error);
}

HR_API void hr_batch_free(hr_batch *b)
{
    if (!b)
        return;
    hr_env *env = b->env;
    hr_batch_clear(b);
    hr__free(env, b->columns);
    hr__free(env, b);
    hr__env_unref(env);
}

HR_API void hr_batch_truncate(hr_batch *b, size_t rows)
{
    if (!b)
        return;
    for (int i = 0; i < b->ncolumns; i++) {
        hr__column *c = &b->columns[i];
        if (c->len <= rows)
            continue;
        for (size_t r = rows; r < c->len; r++)
            c->special -= c->states[r] != HR_VALUE_PRESENT;
        c->len = rows;
        if (c->storage == HR__STORE_BYTES)
            c->heap_len = c->offsets[rows];
    }
}

HR_API void hr_batch_clear_rows(hr_batch *b)
{
    hr_batch_truncate(b, 0);
}

/* A copy of `src` for a relation name field; "" maps to empty_name. */
static int dup_name(hr_batch *b, const char *src, char **out)
{
    *out = empty_name;
    if (!src || !*src)
        return HR_OK;
    *out = hr__strdup(b->env, src);
    return *out ? HR_OK : HR_ENOMEM;
}

HR_API int hr_batch_set_relation(hr_batch *b, const char *schema_name,
                                 const char *table_name)
{
    if (!b)
        return HR_EINVAL;
    size_t slen = schema_name ? strlen(schema_name) : 0;
    size_t tlen = table_name ? strlen(table_name) : 0;
    if (slen > HR_BATCH_MAX_NAME || tlen > HR_BATCH_MAX_NAME)
        return hr__fail(&b->error, HR_EINVAL, "relation name longer than %d bytes",
                        HR_BATCH_MAX_NAME);
    char *schema, *table;
    if (dup_name(b, schema_name, &schema) != HR_OK)
        return hr__fail(&b->error, HR_ENOMEM, "out of memory copying a name");
    if (dup_name(b, table_name, &table) != HR_OK) {
        free_name(b->env, &schema);
        return hr__fail(&b->error, HR_ENOMEM, "out of memory copying a name");
    }
    free_name(b->env, &b->schema_name);
    free_name(b->env, &b->table_name);
    b->schema_name = schema;
    b->table_name = table;
    return HR_OK;
}

static int batch_has_values(const hr_batch *b)
{
    for (int i = 0; i < b->ncolumns; i++)
        if (b->columns[i].len)
            return 1;
    return 0;
}

HR_API int hr_batch_add_column(hr_batch *b, const char *name, uint32_t type_oid,
                               int nullable)
{
    if (!b)
        return HR_EINVAL;
    if (batch_has_values(b))
        return hr__fail(&b->error, HR_ESTATE,
                        "columns must be declared before values are appended");
    if (!name || !*name || strlen(name) > HR_BATCH_MAX_NAME)
        return hr__fail(&b->error, HR_EINVAL,
                        "column name must be 1..%d bytes", HR_BATCH_MAX_NAME);
    if (b->ncolumns >= HR_BATCH_MAX_COLUMNS)
        return hr__fail(&b->error, HR_EINVAL, "more than %d columns",
                        HR_BATCH_MAX_COLUMNS);
    if (b->ncolumns == b->columns_cap) {
        int cap = b->columns_cap ? b->columns_cap * 2 : 8;
        hr__column *grown =
            hr__realloc(b->env, b->columns, (size_t)cap * sizeof *grown);
        if (!grown)
            return hr__fail(&b->error, HR_ENOMEM, "out of memory adding a column");
        b->columns = grown;
        b->columns_cap = cap;
    }
    hr__column *c = &b->columns[b->ncolumns];
    memset(c, 0, sizeof *c);
    c->name = hr__strdup(b->env, name);
    if (!c->name)
        return hr__fail(&b->error, HR_ENOMEM, "out of memory adding a column");
    c->type_oid = type_oid;
    c->nullable = nullable ? 1 : 0;
    c->storage = (uint8_t)hr__storage_of_type(type_oid);
    c->width = storage_width[c->storage];
    int_range(type_oid, &c->min_value, &c->max_value);
    return b->ncolumns++;
}

HR_API int hr_batch_columns(const hr_batch *b)
{
    return b ? b->ncolumns : 0;
}

HR_API size_t hr_batch_rows(const hr_batch *b)
{
    if (!b || b->ncolumns == 0)
        return 0;
    size_t rows = b->columns[0].len;
    for (int i = 1; i < b->ncolumns; i++)
        if (b->columns[i].len < rows)
            rows = b->columns[i].len;
    return rows;
}

static const hr__column *column_at(const hr_batch *b, int col)
{
    if (!b || col < 0 || col >= b->ncolumns)
        return NULL;
    return &b->columns[col];
}

HR_API const char *hr_batch_column_name(const hr_batch *b, int col)
{
    const hr__column *c = column_at(b, col);
    return c ? c->name : NULL;
}

HR_API uint32_t hr_batch_column_type(const hr_batch *b, int col)
{
    const hr__column *c = column_at(b, col);
    return c ? c->type_oid : 0;
}

HR_API int hr_batch_column_nullable(const hr_batch *b, int col)
{
    const hr__column *c = column_at(b, col);
    return c ? c->nullable : 0;
}

HR_API const char *hr_batch_schema_name(const hr_batch *b)
{
    return b ? b->schema_name : "";
}

HR_API const char *hr_batch_table_name(const hr_batch *b)
{
    return b ? b->table_name : "";
}

HR_API const char *hr_batch_errmsg(const hr_batch *b)
{
    return b ? b->error.message : "no batch (NULL hr_batch)";
}
