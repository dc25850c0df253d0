/* batch_compare.c - equality and raw size of batches. */
#include <string.h>

#include "batch_internal.h"

static int columns_equal(const hr__column *x, const hr__column *y, size_t rows)
{
    if (strcmp(x->name, y->name) != 0 || x->type_oid != y->type_oid ||
        x->nullable != y->nullable)
        return 0;
    if (rows && memcmp(x->states, y->states, rows) != 0)
        return 0;
    for (size_t r = 0; r < rows; r++) {
        if (x->states[r] != HR_VALUE_PRESENT)
            continue;
        if (x->storage == HR__STORE_BYTES) {
            uint32_t xl = x->offsets[r + 1] - x->offsets[r];
            uint32_t yl = y->offsets[r + 1] - y->offsets[r];
            if (xl != yl ||
                (xl && memcmp(x->heap + x->offsets[r], y->heap + y->offsets[r],
                              xl) != 0))
                return 0;
        } else if (memcmp(x->values + r * x->width, y->values + r * y->width,
                          x->width) != 0) {
            return 0;
        }
    }
    return 1;
}

HR_API int hr_batch_equal(const hr_batch *a, const hr_batch *b)
{
    if (!a || !b)
        return 0;
    size_t rows = hr_batch_rows(a);
    if (a->ncolumns != b->ncolumns || rows != hr_batch_rows(b) ||
        strcmp(a->schema_name, b->schema_name) != 0 ||
        strcmp(a->table_name, b->table_name) != 0)
        return 0;
    for (int i = 0; i < a->ncolumns; i++)
        if (!columns_equal(&a->columns[i], &b->columns[i], rows))
            return 0;
    return 1;
}

/* The on-disk width PostgreSQL gives a fixed-size type. */
static size_t type_width(const hr__column *c)
{
    switch (c->type_oid) {
    case HR_OID_INT2:
        return 2;
    case HR_OID_INT4:
    case HR_OID_DATE:
        return 4;
    default:
        return c->width;
    }
}

HR_API size_t hr_batch_raw_size(const hr_batch *b)
{
    size_t rows = hr_batch_rows(b), total = 0;
    if (rows == 0)
        return 0;
    for (int i = 0; i < b->ncolumns; i++) {
        const hr__column *c = &b->columns[i];
        size_t special = 0;
        for (size_t r = 0; r < rows; r++)
            special += c->states[r] != HR_VALUE_PRESENT;
        if (c->storage == HR__STORE_BYTES)
            total += c->offsets[rows]; /* NULL / TOAST cells hold no bytes */
        else
            total += (rows - special) * type_width(c);
        total += special;
    }
    return total;
}
