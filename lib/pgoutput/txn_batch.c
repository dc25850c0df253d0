/*
 * txn_batch.c - hr_pgtxn_to_batch: a run of one relation's row changes as a
 * typed column batch, "_hr_op" first (see pgoutput.h for the convention).
 * The run is taken from a list of (change, role) entries
 * (hr__pgtxn_entries_to_batch, txn_batch.h): hr_pgtxn_to_batch lists every
 * change as it is; hr_stream_to_batch lists a tenant's changes, some of
 * them updates to convert as a delete or an insert (a row that moved
 * between tenants).
 *
 * Built only on the public hr_pgtxn_* / hr_pgrelation_* accessors and
 * pgvalue. When `out` already has exactly the schema the run needs (the
 * common case: a host converting one table's changes again and again), only
 * its rows are dropped, so the columns keep their memory.
 */
#include <heliosrepl/pgoutput.h>

#include <string.h>

#include "batch/batch_internal.h"
#include "pgvalue.h"
#include "txn_batch.h"

enum { OP_INSERT = 1, OP_UPDATE = 2, OP_DELETE = 3, OP_UPDATE_OLD = 4 };

static const char op_column[] = "_hr_op";

static int is_row_change(int kind)
{
    return kind == HR_PGCHANGE_INSERT || kind == HR_PGCHANGE_UPDATE ||
           kind == HR_PGCHANGE_DELETE;
}

/* 1 when `out` already holds exactly the columns and relation of `rel`. */
static int same_schema(const hr_batch *out, const hr_pgrelation *rel, int ncols)
{
    if (out->ncolumns != ncols + 1)
        return 0;
    if (strcmp(out->schema_name, hr_pgrelation_schema(rel)) != 0 ||
        strcmp(out->table_name, hr_pgrelation_name(rel)) != 0)
        return 0;
    const hr__column *c = &out->columns[0];
    if (c->type_oid != HR_OID_INT2 || c->nullable ||
        strcmp(c->name, op_column) != 0)
        return 0;
    for (int k = 0; k < ncols; k++) {
        c = &out->columns[k + 1];
        if (!c->nullable || c->type_oid != hr_pgrelation_column_type(rel, k) ||
            strcmp(c->name, hr_pgrelation_column_name(rel, k)) != 0)
            return 0;
    }
    return 1;
}

static int declare_schema(hr_batch *out, const hr_pgrelation *rel, int ncols)
{
    if (same_schema(out, rel, ncols)) {
        hr_batch_clear_rows(out);
        hr__error_clear(&out->error);
        return HR_OK;
    }
    hr_batch_clear(out);
    int rc = hr_batch_set_relation(out, hr_pgrelation_schema(rel),
                                   hr_pgrelation_name(rel));
    if (rc == HR_OK)
        rc = hr_batch_add_column(out, op_column, HR_OID_INT2, 0);
    for (int k = 0; k < ncols && rc >= 0; k++)
        rc = hr_batch_add_column(out, hr_pgrelation_column_name(rel, k),
                                 hr_pgrelation_column_type(rel, k), 1);
    /* PostgreSQL never sends what a batch cannot hold (names over 255 bytes
     * or empty, more than 1663 columns): the relation message was bad. */
    if (rc == HR_EINVAL) {
        char why[HR__ERRMSG_MAX];
        memcpy(why, out->error.message, sizeof why);
        why[sizeof why - 1] = '\0';
        return hr__fail(&out->error, HR_EPROTO,
                        "relation \"%.64s\".\"%.64s\" does not fit a batch: "
                        "%.200s",
                        hr_pgrelation_schema(rel), hr_pgrelation_name(rel),
                        why);
    }
    return rc < 0 ? rc : HR_OK;
}

/* One row: op, then every column's value from tuple `which` of change i.
 * With `toast_from_old`, a value the tuple holds as unchanged TOAST is
 * taken from the old tuple when that one has it. */
static int append_row(const hr_pgtxn *txn, size_t i, hr_pgtuple which, int op,
                      int toast_from_old, int ncols, hr_batch *out)
{
    int rc = hr_batch_append_int64(out, 0, op);
    for (int k = 0; k < ncols && rc == HR_OK; k++) {
        const uint8_t *data = NULL;
        size_t len = 0;
        int form = hr_pgtxn_change_value(txn, i, which, k, &data, &len);
        if (form == HR_PGVALUE_UNCHANGED_TOAST && toast_from_old) {
            const uint8_t *odata = NULL;
            size_t olen = 0;
            const int oform =
                hr_pgtxn_change_value(txn, i, HR_PGTUPLE_OLD, k, &odata, &olen);
            if (oform == HR_PGVALUE_TEXT || oform == HR_PGVALUE_BINARY) {
                form = oform;
                data = odata;
                len = olen;
            }
        }
        switch (form) {
        case HR_PGVALUE_NULL:
            rc = hr_batch_append_null(out, k + 1);
            break;
        case HR_PGVALUE_UNCHANGED_TOAST:
            rc = hr_batch_append_unchanged_toast(out, k + 1);
            break;
        case HR_PGVALUE_TEXT:
        case HR_PGVALUE_BINARY:
            rc = hr__pgvalue_append(out, k + 1, form, data, len);
            break;
        default:
            rc = hr__fail(
                &out->error, HR_EPROTO,
                "column \"%s\": the change has no value for it",
                hr_pgrelation_column_name(hr_pgtxn_change_relation(txn, i), k));
            break;
        }
    }
    return rc;
}

/* An update converted as the delete of its old row (role DELETE) or the
 * insert of its new row (role INSERT). */
static int convert_moved(const hr_pgtxn *txn, size_t i, int kind, int role,
                         int ncols, hr_batch *out)
{
    if (role != HR__PGCONV_DELETE && role != HR__PGCONV_INSERT)
        return hr__fail(&out->error, HR_EINVAL,
                        "role %d is not 0 (as is), 1 (delete) or 2 (insert)",
                        role);
    if (kind != HR_PGCHANGE_UPDATE)
        return hr__fail(&out->error, HR_EINVAL,
                        "role %d on a change that is not an update", role);
    const int old_form = hr_pgtxn_change_old_form(txn, i);
    if (role == HR__PGCONV_DELETE) {
        /* The tenant column is part of the replica identity, so an update
         * that changes it changes the key, and the key update carries the
         * old key: without it the row's old identity is unknown. */
        if (old_form == 0)
            return hr__fail(&out->error, HR_EPROTO,
                            "an update converted to a delete has no old "
                            "tuple (did its key change? the moved column "
                            "must be part of the replica identity)");
        return append_row(txn, i, HR_PGTUPLE_OLD, OP_DELETE, 0, ncols, out);
    }
    return append_row(txn, i, HR_PGTUPLE_NEW, OP_INSERT, old_form == 'O', ncols,
                      out);
}

static int convert_change(const hr_pgtxn *txn, size_t i, int role, int ncols,
                          hr_batch *out)
{
    const int kind = hr_pgtxn_change_kind(txn, i);
    if (role != HR__PGCONV_AS_IS)
        return convert_moved(txn, i, kind, role, ncols, out);
    if (kind == HR_PGCHANGE_INSERT)
        return append_row(txn, i, HR_PGTUPLE_NEW, OP_INSERT, 0, ncols, out);
    if (kind == HR_PGCHANGE_DELETE) {
        if (hr_pgtxn_change_old_form(txn, i) == 0)
            return hr__fail(&out->error, HR_EPROTO,
                            "a delete without an old tuple");
        return append_row(txn, i, HR_PGTUPLE_OLD, OP_DELETE, 0, ncols, out);
    }
    int rc = HR_OK;
    if (hr_pgtxn_change_old_form(txn, i) != 0)
        rc = append_row(txn, i, HR_PGTUPLE_OLD, OP_UPDATE_OLD, 0, ncols, out);
    if (rc == HR_OK)
        rc = append_row(txn, i, HR_PGTUPLE_NEW, OP_UPDATE, 0, ncols, out);
    return rc;
}

/* Clear `out` after a failure, keeping the failure's code and message (with
 * where it happened in front). */
static int fail_cleared(hr_batch *out, int rc, size_t change)
{
    const hr__error saved = out->error;
    /* The row being appended: its "_hr_op" cell went in first. */
    const size_t row =
        out->ncolumns && out->columns[0].len ? out->columns[0].len - 1 : 0;
    hr_batch_clear(out);
    return hr__fail(&out->error, rc, "change %zu (batch row %zu): %s", change,
                    row, saved.message[0] ? saved.message : hr_strerror(rc));
}

int hr__pgtxn_entries_to_batch(const hr_pgtxn *txn, hr__pgconv_entry_fn entry,
                               const void *list, size_t n, size_t first,
                               hr_batch *out, size_t *next)
{
    *next = first;
    const size_t nchanges = hr_pgtxn_changes(txn);
    int role = HR__PGCONV_AS_IS;
    const size_t i0 = entry(list, first, &role);
    const int kind = i0 < nchanges ? hr_pgtxn_change_kind(txn, i0) : HR_EINVAL;
    const hr_pgrelation *rel =
        is_row_change(kind) ? hr_pgtxn_change_relation(txn, i0) : NULL;
    if (!rel) {
        hr_batch_clear(out);
        return i0 >= nchanges
                   ? hr__fail(&out->error, HR_EINVAL,
                              "change %zu out of range (%zu changes)", i0,
                              nchanges)
                   : hr__fail(&out->error, HR_EINVAL,
                              "change %zu is not an insert, update "
                              "or delete",
                              i0);
    }
    const int ncols = hr_pgrelation_columns(rel);
    int rc = declare_schema(out, rel, ncols);
    if (rc != HR_OK)
        return fail_cleared(out, rc, i0);
    size_t k = first;
    for (; k < n; k++) {
        const size_t i = entry(list, k, &role);
        if (k > first &&
            (i >= nchanges || !is_row_change(hr_pgtxn_change_kind(txn, i)) ||
             hr_pgtxn_change_relation(txn, i) != rel))
            break;
        rc = convert_change(txn, i, role, ncols, out);
        if (rc != HR_OK)
            return fail_cleared(out, rc, i);
    }
    *next = k;
    return HR_OK;
}

/* hr_pgtxn_to_batch's list: every change, as it is. */
static size_t every_change(const void *list, size_t k, int *role)
{
    (void)list;
    *role = HR__PGCONV_AS_IS;
    return k;
}

HR_API int hr_pgtxn_to_batch(const hr_pgtxn *txn, size_t first, hr_batch *out,
                             size_t *next)
{
    if (!out)
        return HR_EINVAL;
    if (!txn || !next) {
        hr_batch_clear(out);
        return hr__fail(&out->error, HR_EINVAL, "NULL transaction or next");
    }
    *next = first;
    const size_t n = hr_pgtxn_changes(txn);
    if (first >= n) {
        hr_batch_clear(out);
        return hr__fail(&out->error, HR_EINVAL,
                        "change %zu out of range (%zu changes)", first, n);
    }
    return hr__pgtxn_entries_to_batch(txn, every_change, NULL, n, first, out,
                                      next);
}
