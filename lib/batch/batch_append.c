/*
 * batch_append.c - hr_batch_append_rows: one batch's rows onto another of
 * the same shape, column by column (no per-value calls).
 */
#include <stdio.h>
#include <string.h>

#include "batch_internal.h"

/* Every column of `b` holds exactly `rows` cells. */
static int rectangular(const hr_batch *b, size_t rows)
{
    for (int i = 0; i < b->ncolumns; i++)
        if (b->columns[i].len != rows)
            return 0;
    return 1;
}

static int same_shape(hr_batch *dst, const hr_batch *src)
{
    if (strcmp(dst->schema_name, src->schema_name) ||
        strcmp(dst->table_name, src->table_name))
        return hr__fail(&dst->error, HR_EINVAL,
                        "relation \"%s.%s\" differs from \"%s.%s\"",
                        src->schema_name, src->table_name, dst->schema_name,
                        dst->table_name);
    if (dst->ncolumns != src->ncolumns)
        return hr__fail(&dst->error, HR_EINVAL,
                        "%d columns differ from the batch's %d",
                        src->ncolumns, dst->ncolumns);
    for (int i = 0; i < dst->ncolumns; i++) {
        const hr__column *d = &dst->columns[i], *s = &src->columns[i];
        if (strcmp(d->name, s->name) || d->type_oid != s->type_oid ||
            d->nullable != s->nullable)
            return hr__fail(&dst->error, HR_EINVAL,
                            "column %d (\"%s\", type %u%s) differs from "
                            "\"%s\", type %u%s",
                            i, s->name, s->type_oid,
                            s->nullable ? "" : " not null", d->name,
                            d->type_oid, d->nullable ? "" : " not null");
    }
    return HR_OK;
}

/* An empty batch takes the relation and columns of `src`. */
static int adopt_shape(hr_batch *dst, const hr_batch *src)
{
    int rc = hr_batch_set_relation(dst, src->schema_name, src->table_name);
    for (int i = 0; rc == HR_OK && i < src->ncolumns; i++) {
        const hr__column *s = &src->columns[i];
        int col = hr_batch_add_column(dst, s->name, s->type_oid, s->nullable);
        rc = col < 0 ? col : HR_OK;
    }
    if (rc != HR_OK)
        hr_batch_clear(dst);
    return rc;
}

static void copy_cells(hr__column *d, const hr__column *s, size_t rows)
{
    memcpy(d->states + d->len, s->states, rows);
    if (d->storage == HR__STORE_BYTES) {
        const uint32_t base = (uint32_t)d->heap_len;
        const size_t bytes = s->offsets[rows];
        if (bytes) /* a column of empty values or NULLs has no heap */
            memcpy(d->heap + d->heap_len, s->heap, bytes);
        for (size_t r = 1; r <= rows; r++)
            d->offsets[d->len + r] = base + s->offsets[r];
        d->heap_len += bytes;
    } else {
        memcpy(d->values + d->len * d->width, s->values, rows * d->width);
    }
    size_t special = 0;
    for (size_t r = 0; r < rows; r++)
        special += s->states[r] != HR_VALUE_PRESENT;
    d->special += special;
    d->len += rows;
}

HR_API int hr_batch_append_rows(hr_batch *dst, const hr_batch *src)
{
    if (!dst || !src)
        return HR_EINVAL;
    if (dst == src)
        return hr__fail(&dst->error, HR_EINVAL,
                        "a batch cannot be appended to itself");
    const size_t rows = hr_batch_rows(src);
    int rc, adopted = 0;
    if (src->ncolumns == 0) /* no columns, no rows: nothing to append */
        return HR_OK;
    if (dst->ncolumns == 0) {
        if ((rc = adopt_shape(dst, src)) != HR_OK)
            return rc;
        adopted = 1;
    } else if ((rc = same_shape(dst, src)) != HR_OK) {
        return rc;
    }
    const size_t have = hr_batch_rows(dst);
    if (!rectangular(dst, have))
        return hr__fail(&dst->error, HR_ESTATE,
                        "the batch ends in a partial row");
    /* Reserve everything first: on failure nothing was appended. */
    for (int i = 0; i < dst->ncolumns; i++) {
        hr__column *d = &dst->columns[i];
        const hr__column *s = &src->columns[i];
        rc = hr__column_reserve(dst->env, d, rows);
        if (rc == HR_OK && d->storage == HR__STORE_BYTES && rows)
            rc = hr__column_reserve_heap(dst->env, d, s->offsets[rows]);
        if (rc != HR_OK) {
            char name[HR_BATCH_MAX_NAME + 1];
            snprintf(name, sizeof name, "%s", d->name);
            if (adopted) /* clears the message too: set it after */
                hr_batch_clear(dst);
            return hr__fail(&dst->error, rc, "%s appending to column \"%s\"",
                            rc == HR_ELIMIT ? "4 GiB column limit reached"
                                            : "out of memory",
                            name);
        }
    }
    if (rows)
        for (int i = 0; i < dst->ncolumns; i++)
            copy_cells(&dst->columns[i], &src->columns[i], rows);
    return HR_OK;
}
