/*
 * apply_plan.c - a group's ops: BEGIN, each transaction's rows (runs of
 * inserts into one relation with the same columns become binary COPY; the
 * rest prepared statements), the initial copy's bookkeeping, one
 * checkpoint per tenant, COMMIT.
 */
#include <stdio.h>
#include <string.h>

#include "apply_internal.h"

static hr__op *add_op(hr_applier *a, hr__opkind kind, size_t txn)
{
    hr__group *g = &a->g;
    if (g->nops == g->ops_cap) {
        size_t cap = g->ops_cap ? g->ops_cap * 2 : 256;
        hr__op *v = hr__realloc(a->env, g->ops, cap * sizeof *v);
        if (!v)
            return NULL;
        g->ops = v;
        g->ops_cap = cap;
    }
    hr__op *op = &g->ops[g->nops++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->txn = txn;
    return op;
}

int64_t hr__op_code(const hr_batch *b, size_t row)
{
    int64_t v;
    memcpy(&v, b->columns[0].values + row * 8, 8);
    return v;
}

/* target column -> batch column (-1 when the batch lacks it) */
static const int *inv_map(hr_applier *a, const hr__rel *r, const hr_batch *b)
{
    int *inv = hr__group_alloc(a, sizeof(int) * (size_t)(r->ncols + 1));
    if (!inv)
        return NULL;
    for (int j = 0; j < r->ncols; j++) {
        inv[j] = -1;
        for (int i = 1; i < b->ncolumns; i++)
            if (!strcmp(b->columns[i].name, r->cols[j].name)) {
                inv[j] = i;
                break;
            }
    }
    return inv;
}

static int same_columns(const hr__rel *r, const int *x, const hr_batch *bx,
                        const int *y, const hr_batch *by)
{
    for (int j = 0; j < r->ncols; j++) {
        if ((x[j] >= 0) != (y[j] >= 0))
            return 0;
        if (x[j] >= 0 &&
            bx->columns[x[j]].type_oid != by->columns[y[j]].type_oid)
            return 0;
    }
    return 1;
}

static int row_has_toast(const hr_batch *b, size_t row)
{
    for (int i = 1; i < b->ncolumns; i++)
        if (b->columns[i].states[row] == HR_VALUE_UNCHANGED_TOAST)
            return 1;
    return 0;
}

/* A run of inserts of one relation with the same columns, collected as
 * tentative COPY ops from `first_op`; too short a run becomes row ops. */
typedef struct run {
    size_t first_op;
    size_t rows;
    int open;
} run;

static int run_close(hr_applier *a, run *ru)
{
    if (!ru->open)
        return HR_OK;
    ru->open = 0;
    hr__group *g = &a->g;
    if (ru->rows >= a->opts->copy_min_rows && a->opts->copy_min_rows)
        return HR_OK;
    /* Too short: the same rows as prepared inserts. */
    size_t n = g->nops - ru->first_op;
    hr__op tmp[64];
    hr__op *pieces = n <= 64 ? tmp : hr__group_alloc(a, n * sizeof *pieces);
    if (!pieces)
        return HR_ENOMEM;
    memcpy(pieces, g->ops + ru->first_op, n * sizeof *pieces);
    g->nops = ru->first_op;
    for (size_t k = 0; k < n; k++) {
        for (size_t row = pieces[k].row; row < pieces[k].row_end; row++) {
            hr__stmt *s;
            int rc = hr__rel_stmt(a, pieces[k].rel, pieces[k].inv,
                                  pieces[k].batch, 1, 0, row, &s);
            if (rc != HR_OK)
                return rc;
            hr__op *op = add_op(a, HR__OP_ROW, pieces[k].txn);
            if (!op)
                return HR_ENOMEM;
            op->batch = pieces[k].batch;
            op->inv = pieces[k].inv;
            op->rel = pieces[k].rel;
            op->stmt = s;
            op->row = op->key_row = row;
        }
    }
    return HR_OK;
}

static int add_row(hr_applier *a, size_t ti, hr__rel *r, const int *inv,
                   hr_batch *b, int opcode, size_t row, size_t key_row,
                   int idem)
{
    hr__stmt *s;
    int rc = hr__rel_stmt(a, r, inv, b, opcode, idem, row, &s);
    if (rc != HR_OK)
        return rc;
    if (opcode == 2) {
        int any = 0;
        for (int j = 0; j < r->ncols && !any; j++)
            any = s->mask[j];
        if (!any)
            return HR_OK; /* every column unchanged TOAST: nothing to do */
    }
    hr__op *op = add_op(a, HR__OP_ROW, ti);
    if (!op)
        return HR_ENOMEM;
    op->batch = b;
    op->inv = inv;
    op->rel = r;
    op->stmt = s;
    op->row = row;
    op->key_row = key_row;
    return HR_OK;
}

/* The ops of batch b of group transaction ti. */
static int batch_ops(hr_applier *a, size_t ti, hr_batch *b, int idem,
                     run *ru)
{
    hr__rel *r = hr__rel_get(a, b->schema_name, b->table_name, 0);
    const int *inv = inv_map(a, r, b);
    if (!inv)
        return HR_ENOMEM;
    size_t n = hr_batch_rows(b), old_row = 0;
    int have_old = 0; /* row old_row is an update's old row (op 4) */
    int copy_ok = !idem && hr__rel_copy_ok(r, inv, b);
    for (size_t row = 0; row < n; row++) {
        int64_t opcode = hr__op_code(b, row);
        int rc = HR_OK;
        if (opcode == 1 && copy_ok && !row_has_toast(b, row)) {
            hr__op *last = a->g.nops ? &a->g.ops[a->g.nops - 1] : NULL;
            if (ru->open && last && last->kind == HR__OP_COPY &&
                last->batch == b && last->row_end == row) {
                last->row_end++;
            } else {
                if (ru->open && (!last || last->kind != HR__OP_COPY ||
                                 last->rel != r ||
                                 !same_columns(r, last->inv, last->batch, inv, b)))
                    rc = run_close(a, ru);
                if (rc != HR_OK)
                    return rc;
                if (!ru->open) {
                    ru->open = 1;
                    ru->first_op = a->g.nops;
                    ru->rows = 0;
                }
                hr__op *op = add_op(a, HR__OP_COPY, ti);
                if (!op)
                    return HR_ENOMEM;
                op->batch = b;
                op->inv = inv;
                op->rel = r;
                op->row = row;
                op->row_end = row + 1;
            }
            ru->rows++;
            continue;
        }
        if ((rc = run_close(a, ru)) != HR_OK)
            return rc;
        switch (opcode) {
        case 1:
            rc = add_row(a, ti, r, inv, b, 1, row, row, idem);
            break;
        case 2:
            rc = add_row(a, ti, r, inv, b, 2, row,
                         have_old && old_row + 1 == row ? old_row : row, 0);
            have_old = 0;
            break;
        case 3:
            rc = add_row(a, ti, r, inv, b, 3, row, row, 0);
            break;
        case 4:
            old_row = row;
            have_old = 1;
            break;
        case HR_OP_TRUNCATE:
            rc = add_row(a, ti, r, inv, b, 5, row, row, 0);
            break;
        default:
            return hr__fail(&a->error, HR_EINVAL,
                            "%s.%s row %zu: _hr_op %lld is no operation",
                            b->schema_name, b->table_name, row,
                            (long long)opcode);
        }
        if (rc != HR_OK)
            return rc;
    }
    return HR_OK;
}

/* ---- meta statements ---- */

/* An op running `verb` <meta schema> `tail` with text parameters. */
static hr__op *meta_op(hr_applier *a, size_t ti, const char *verb,
                       const char *tail)
{
    hr__sbuf b;
    hr__sbuf_init(&b, a->env);
    hr__sbuf_add(&b, verb);
    hr__sbuf_ident(&b, a->pgc.conn, a->opts->meta_schema);
    hr__sbuf_add(&b, tail);
    char *sql;
    if (hr__sbuf_take(&b, &sql) != HR_OK)
        return NULL;
    char *kept = hr__group_strdup(a, sql);
    hr__free(a->env, sql);
    hr__op *op = kept ? add_op(a, HR__OP_META, ti) : NULL;
    if (op)
        op->sql = kept;
    return op;
}

static char *lsn_text(hr_applier *a, uint64_t lsn)
{
    char buf[24];
    hr__lsn_format(lsn, buf);
    return hr__group_strdup(a, buf);
}

/* The checkpoint moves forward only: an older one never overwrites it. */
static int checkpoint_op(hr_applier *a, size_t ti, uint64_t lsn)
{
    hr__op *op = meta_op(a, ti, "INSERT INTO ",
                         ".checkpoints AS c (tenant, source_id, lsn) VALUES "
                         "($1, $2, $3::pg_lsn) ON CONFLICT (tenant, source_id) "
                         "DO UPDATE SET lsn = EXCLUDED.lsn, applied_at = now() "
                         "WHERE c.lsn < EXCLUDED.lsn");
    if (!op)
        return HR_ENOMEM;
    op->nparams = 3;
    op->params[0] = a->tenants[a->g.txns[ti]->tenant].id;
    op->params[1] = a->opts->source_id;
    op->params[2] = lsn_text(a, lsn);
    return op->params[2] ? HR_OK : HR_ENOMEM;
}

static int copy_progress_op(hr_applier *a, size_t ti)
{
    hr__atxn *t = a->g.txns[ti];
    hr__op *op = meta_op(a, ti, "INSERT INTO ",
                         ".copy_progress (tenant, source_id, table_name, rows, "
                         "snapshot_lsn) VALUES ($1, $2, $3, $4::bigint, "
                         "$5::pg_lsn) ON CONFLICT (tenant, source_id, "
                         "table_name) DO UPDATE SET rows = EXCLUDED.rows, "
                         "snapshot_lsn = EXCLUDED.snapshot_lsn, done_at = now()");
    if (!op)
        return HR_ENOMEM;
    char rows[24];
    snprintf(rows, sizeof rows, "%zu", t->rows);
    size_t ql = strlen(t->copy_schema) + strlen(t->copy_table) + 2;
    char *q = hr__group_alloc(a, ql);
    if (!q)
        return HR_ENOMEM;
    snprintf(q, ql, "%s.%s", t->copy_schema, t->copy_table);
    op->nparams = 5;
    op->params[0] = a->tenants[t->tenant].id;
    op->params[1] = a->opts->source_id;
    op->params[2] = q;
    op->params[3] = hr__group_strdup(a, rows);
    op->params[4] = lsn_text(a, t->lsn);
    return op->params[3] && op->params[4] ? HR_OK : HR_ENOMEM;
}

int hr__group_plan(hr_applier *a)
{
    hr__group *g = &a->g;
    hr__op *op = add_op(a, HR__OP_SQL, SIZE_MAX);
    if (!op)
        return HR_ENOMEM;
    op->sql = "BEGIN";
    run ru = {0, 0, 0};
    int rc = HR_OK;
    for (size_t ti = 0; ti < g->ntxns && rc == HR_OK; ti++) {
        hr__atxn *t = g->txns[ti];
        hr__atenant *tn = &a->tenants[t->tenant];
        if (t->kind == HR__TX_FINISH)
            continue;
        if (t->kind == HR__TX_COPY) {
            if ((rc = run_close(a, &ru)) != HR_OK)
                break;
            hr__rel *r = hr__rel_get(a, t->copy_schema, t->copy_table, 0);
            rc = add_row(a, ti, r, NULL, NULL, 5, 0, 0, 0);
        }
        int idem = t->kind == HR__TX_STREAM && t->lsn <= tn->idempotent_until;
        for (size_t i = 0; i < t->nbatches && rc == HR_OK; i++)
            rc = batch_ops(a, ti, t->batches[i], idem, &ru);
        if (rc == HR_OK && t->kind == HR__TX_COPY) {
            rc = run_close(a, &ru);
            if (rc == HR_OK)
                rc = copy_progress_op(a, ti);
        }
    }
    if (rc == HR_OK)
        rc = run_close(a, &ru);
    /* One checkpoint per tenant: its last transaction's LSN. The last
     * index per tenant in one pass (a group may hold 20,000 transactions). */
    for (size_t ti = 0; ti < g->ntxns; ti++)
        if (g->txns[ti]->kind != HR__TX_COPY)
            a->tenants[g->txns[ti]->tenant].group_last_checkpoint = ti;
    for (size_t ti = g->ntxns; rc == HR_OK && ti-- > 0;) {
        hr__atxn *t = g->txns[ti];
        if (t->kind != HR__TX_COPY &&
            a->tenants[t->tenant].group_last_checkpoint == ti)
            rc = checkpoint_op(a, ti, t->lsn);
    }
    if (rc != HR_OK)
        return rc;
    op = add_op(a, HR__OP_SQL, SIZE_MAX);
    if (!op)
        return HR_ENOMEM;
    op->sql = "COMMIT";
    return HR_OK;
}
