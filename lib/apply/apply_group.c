/*
 * apply_group.c - one target transaction: take source transactions from
 * the queue (in order, skipping paused tenants, up to the group limits),
 * check them against the target's relations, turn them into ops (BEGIN,
 * rows, COPY runs, checkpoints, COMMIT), and after the executor is done
 * either record the new checkpoints or put everything back and pause the
 * tenant that failed.
 */
#include <stdio.h>
#include <string.h>

#include "apply_internal.h"

void *hr__group_alloc(hr_applier *a, size_t size)
{
    hr__group *g = &a->g;
    if (g->narena == g->arena_cap) {
        size_t cap = g->arena_cap ? g->arena_cap * 2 : 16;
        void **v = hr__realloc(a->env, g->arena, cap * sizeof *v);
        if (!v)
            return NULL;
        g->arena = v;
        g->arena_cap = cap;
    }
    void *p = hr__malloc(a->env, size ? size : 1);
    if (p)
        g->arena[g->narena++] = p;
    return p;
}

static char *group_strdup(hr_applier *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = hr__group_alloc(a, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* Forget the group; with requeue its transactions go back to the head of
 * the queue in their order (else the caller freed them). */
void hr__group_reset(hr_applier *a, int requeue)
{
    hr__group *g = &a->g;
    if (requeue && g->ntxns) {
        for (size_t i = g->ntxns; i-- > 0;) {
            hr__atxn *t = g->txns[i];
            t->next = a->head;
            a->head = t;
            if (!a->tail)
                a->tail = t;
        }
    }
    g->ntxns = 0;
    for (size_t i = 0; i < g->narena; i++)
        hr__free(a->env, g->arena[i]);
    g->narena = 0;
    g->nops = g->next_op = 0;
    g->nexpect = g->expect_head = 0;
    g->in_pipeline = 0;
    g->failed = 0;
    g->fail_state[0] = '\0';
    g->fail_msg[0] = '\0';
    g->copy_len = g->copy_sent = 0;
    g->rows = g->bytes = 0;
    g->state = HR__G_NONE;
}

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

static int64_t op_of(const hr_batch *b, size_t row)
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
        int64_t opcode = op_of(b, row);
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
    char *kept = group_strdup(a, sql);
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
    return group_strdup(a, buf);
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
    op->params[3] = group_strdup(a, rows);
    op->params[4] = lsn_text(a, t->lsn);
    return op->params[3] && op->params[4] ? HR_OK : HR_ENOMEM;
}

/* ---- building a group ---- */

static int rel_known(hr_applier *a, const char *schema, const char *table)
{
    const hr__rel *r = hr__rel_get(a, schema, table, 0);
    return r && r->loaded;
}

/* Whether queued transaction t is obsolete: the target has it already. */
static int obsolete(const hr_applier *a, const hr__atxn *t)
{
    const hr__atenant *tn = &a->tenants[t->tenant];
    switch (t->kind) {
    case HR__TX_STREAM:
        return tn->has_checkpoint && t->lsn <= tn->checkpoint;
    case HR__TX_COPY:
        return tn->has_checkpoint ||
               hr_applier_copy_table_done(a, tn->id, t->copy_schema,
                                          t->copy_table);
    default:
        return tn->has_checkpoint && t->lsn <= tn->checkpoint;
    }
}

static void unlink_txn(hr_applier *a, hr__atxn *prev, hr__atxn *t)
{
    if (prev)
        prev->next = t->next;
    else
        a->head = t->next;
    if (a->tail == t)
        a->tail = prev;
    t->next = NULL;
    a->pending_bytes -= t->bytes;
    a->pending_rows -= t->rows;
}

/* Make sure every relation the next group may touch is known: HR_OK when
 * all are loaded, HR_EAGAIN when a metadata query went out. */
static int need_metadata(hr_applier *a)
{
    size_t rows = 0;
    for (hr__atxn *t = a->head; t && rows < a->opts->group_rows; t = t->next) {
        if (a->tenants[t->tenant].paused)
            continue;
        rows += t->rows;
        for (size_t i = 0; i < t->nbatches; i++)
            if (!hr__rel_get(a, t->batches[i]->schema_name,
                             t->batches[i]->table_name, 1))
                return HR_ENOMEM;
        if (t->kind == HR__TX_COPY &&
            !hr__rel_get(a, t->copy_schema, t->copy_table, 1))
            return HR_ENOMEM;
    }
    char *sql;
    int rc = hr__rel_meta_sql(a, &sql);
    if (rc != HR_OK || !sql)
        return rc;
    rc = hr__pgc_send(&a->pgc, sql);
    hr__free(a->env, sql);
    if (rc != HR_OK)
        return HR_EIO;
    a->g.state = HR__G_META;
    return HR_EAGAIN;
}

/* Pause tenant ti with `code` and `msg`: on_error, and the error recorded
 * on the target (HR__G_ERRLOG). */
static int pause_tenant(hr_applier *a, size_t ti, uint64_t lsn, int code,
                        const char *msg)
{
    hr__atenant *tn = &a->tenants[ti];
    tn->paused = 1;
    hr__fail(&a->error, code, "tenant %s paused: %s", tn->id, msg);
    hr__log(a->env, HR_LOG_ERROR, "applier: tenant %s paused at %llX: %s",
            tn->id, (unsigned long long)lsn, msg);
    if (a->cb.on_error) {
        a->in_callback = 1;
        a->cb.on_error(a->cb.ctx, tn->id, lsn, code, msg);
        a->in_callback = 0;
    }
    char lsnbuf[24];
    hr__lsn_format(lsn, lsnbuf);
    const char *values[5] = {tn->id, a->opts->source_id, lsnbuf,
                             hr_status_name(code), msg};
    hr__sbuf b;
    hr__sbuf_init(&b, a->env);
    hr__sbuf_add(&b, "INSERT INTO ");
    hr__sbuf_ident(&b, a->pgc.conn, a->opts->meta_schema);
    hr__sbuf_add(&b, ".apply_errors (tenant, source_id, lsn, status, message) "
                     "VALUES ($1, $2, $3::pg_lsn, $4, $5)");
    char *sql;
    int rc = hr__sbuf_take(&b, &sql);
    if (rc != HR_OK)
        return rc;
    if (a->g.in_pipeline) {
        PQexitPipelineMode(a->pgc.conn);
        a->g.in_pipeline = 0;
    }
    int ok = PQsendQueryParams(a->pgc.conn, sql, 5, NULL, values, NULL, NULL, 0);
    hr__free(a->env, sql);
    if (!ok)
        return HR_EIO;
    a->pgc.state = HR__PGC_BUSY;
    a->g.state = HR__G_ERRLOG;
    return hr__pgc_flush(&a->pgc) == HR_OK ? HR_EAGAIN : HR_EIO;
}

static int build(hr_applier *a)
{
    hr__group *g = &a->g;
    hr__atxn *prev = NULL, *t = a->head;
    size_t lead_tenant = SIZE_MAX;
    while (t && g->rows < a->opts->group_rows && g->bytes < a->opts->group_bytes) {
        hr__atxn *next = t->next;
        hr__atenant *tn = &a->tenants[t->tenant];
        if (tn->paused || (a->isolate && lead_tenant != SIZE_MAX &&
                           t->tenant != lead_tenant)) {
            prev = t;
            t = next;
            continue;
        }
        if (obsolete(a, t)) {
            unlink_txn(a, prev, t);
            hr__atxn_free(a, t);
            t = next;
            continue;
        }
        /* Relations not fetched yet (beyond what need_metadata looked at):
         * the next group takes it. */
        int unknown = t->kind == HR__TX_COPY &&
                      !rel_known(a, t->copy_schema, t->copy_table);
        for (size_t i = 0; i < t->nbatches && !unknown; i++)
            unknown = !rel_known(a, t->batches[i]->schema_name,
                                     t->batches[i]->table_name);
        if (unknown)
            break;
        /* Check before taking: a bad batch pauses its tenant with nothing
         * of it sent. */
        char msg[HR__ERRMSG_MAX];
        if (t->kind == HR__TX_COPY) {
            hr__rel *r = hr__rel_get(a, t->copy_schema, t->copy_table, 0);
            int rc = hr__rel_check(r, NULL, 2, a->opts->tenant_column, msg,
                                   sizeof msg);
            if (rc != HR_OK) {
                r->loaded = 0;
                hr__group_reset(a, 1);
                return pause_tenant(a, t->tenant, t->lsn, rc, msg);
            }
        }
        for (size_t i = 0; i < t->nbatches; i++) {
            hr_batch *b = t->batches[i];
            hr__rel *r = hr__rel_get(a, b->schema_name, b->table_name, 0);
            int need = 0;
            size_t n = hr_batch_rows(b);
            for (size_t row = 0; row < n && need != 1; row++) {
                int64_t op = op_of(b, row);
                need = op == 2 || op == 3 || op == 4 ? 1
                       : op == HR_OP_TRUNCATE       ? 2
                                                    : need;
            }
            int rc = hr__rel_check(r, b, need, a->opts->tenant_column, msg,
                                   sizeof msg);
            if (rc != HR_OK) {
                r->loaded = 0; /* fetch again on resume */
                hr__group_reset(a, 1);
                return pause_tenant(a, t->tenant, t->lsn, rc, msg);
            }
        }
        if (g->ntxns == g->txns_cap) {
            size_t cap = g->txns_cap ? g->txns_cap * 2 : 64;
            hr__atxn **v = hr__realloc(a->env, g->txns, cap * sizeof *v);
            if (!v)
                return HR_ENOMEM;
            g->txns = v;
            g->txns_cap = cap;
        }
        unlink_txn(a, prev, t);
        g->txns[g->ntxns++] = t;
        g->rows += t->rows;
        g->bytes += t->bytes;
        if (lead_tenant == SIZE_MAX)
            lead_tenant = t->tenant;
        t = next;
    }
    return HR_OK;
}

/* The ops of the group: BEGIN, every transaction's rows, the checkpoints,
 * COMMIT. */
static int plan(hr_applier *a)
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
    /* One checkpoint per tenant: its last transaction's LSN. */
    for (size_t ti = g->ntxns; rc == HR_OK && ti-- > 0;) {
        hr__atxn *t = g->txns[ti];
        if (t->kind == HR__TX_COPY)
            continue;
        int later = 0;
        for (size_t k = ti + 1; k < g->ntxns && !later; k++)
            later = g->txns[k]->tenant == t->tenant &&
                    g->txns[k]->kind != HR__TX_COPY;
        if (!later)
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

/* ---- the end of a group ---- */

int hr__group_done(hr_applier *a)
{
    hr__group *g = &a->g;
    a->st_target_txns++;
    /* New checkpoints and copied tables, then the callbacks. */
    for (size_t ti = 0; ti < g->ntxns; ti++) {
        hr__atxn *t = g->txns[ti];
        hr__atenant *tn = &a->tenants[t->tenant];
        if (t->kind == HR__TX_COPY) {
            size_t ql = strlen(t->copy_schema) + strlen(t->copy_table) + 2;
            char *q = hr__group_alloc(a, ql);
            if (!q || (snprintf(q, ql, "%s.%s", t->copy_schema, t->copy_table),
                       hr__tenant_mark_done(a, tn, q)) != HR_OK)
                return HR_ENOMEM;
        } else if (!tn->has_checkpoint || t->lsn > tn->checkpoint) {
            tn->checkpoint = t->lsn;
            tn->has_checkpoint = 1;
        }
        if (t->kind == HR__TX_STREAM)
            a->st_source_txns++;
        a->st_rows += t->rows;
        a->st_bytes += t->bytes;
    }
    /* Callbacks get each tenant once, with its final checkpoint. */
    a->in_callback = 1;
    for (size_t ti = g->ntxns; ti-- > 0;) {
        hr__atxn *t = g->txns[ti];
        int later = 0;
        for (size_t k = ti + 1; k < g->ntxns && !later; k++)
            later = g->txns[k]->tenant == t->tenant;
        if (!later && a->cb.on_applied && a->tenants[t->tenant].has_checkpoint)
            a->cb.on_applied(a->cb.ctx, a->tenants[t->tenant].id,
                             a->tenants[t->tenant].checkpoint);
    }
    a->in_callback = 0;
    for (size_t ti = 0; ti < g->ntxns; ti++)
        hr__atxn_free(a, g->txns[ti]);
    g->ntxns = 0;
    a->isolate = a->isolate > 0 ? a->isolate - 1 : 0;
    hr__group_reset(a, 0);
    if (a->head)
        a->oldest_ns = hr_env_monotonic_ns(a->env);
    return HR_OK;
}

static int transient_state(const char *st)
{
    return !st[0] || !strncmp(st, "08", 2) || !strncmp(st, "40", 2) ||
           !strncmp(st, "53", 2) || !strncmp(st, "57", 2) ||
           !strncmp(st, "55P03", 5);
}

/* After ROLLBACK of a failed group: retry what is transient, pause the
 * tenant whose row the target refused. */
int hr__group_failed(hr_applier *a)
{
    hr__group *g = &a->g;
    char st[6], msg[HR__ERRMSG_MAX];
    memcpy(st, g->fail_state, sizeof st);
    memcpy(msg, g->fail_msg, sizeof msg);
    size_t ti = g->failed_op < g->nops ? g->ops[g->failed_op].txn : SIZE_MAX;
    if (transient_state(st)) {
        hr__log(a->env, HR_LOG_WARN, "applier: group failed, retrying: %s", msg);
        hr__group_reset(a, 1);
        return HR_OK;
    }
    if (ti == SIZE_MAX || ti >= g->ntxns) {
        /* COMMIT (a deferred constraint, say): find the tenant by trying
         * them one at a time. */
        if (g->ntxns && !a->isolate) {
            a->isolate = 64;
            hr__group_reset(a, 1);
            return HR_OK;
        }
        ti = 0;
    }
    size_t tenant = g->txns[ti]->tenant;
    uint64_t lsn = g->txns[ti]->lsn;
    int code = !strncmp(st, "42", 2) ? HR_ESCHEMA : HR_ECONFLICT;
    hr__rels_forget_prepared(a);
    for (hr__rel *r = a->rels; r; r = r->next)
        if (code == HR_ESCHEMA)
            r->loaded = 0;
    hr__group_reset(a, 1);
    a->isolate = 0;
    char full[HR__ERRMSG_MAX + 16];
    snprintf(full, sizeof full, "%s (SQLSTATE %s)", msg, st);
    return pause_tenant(a, tenant, lsn, code, full);
}

/* ---- step ---- */

int hr__group_wants_timer(const hr_applier *a, uint64_t now_ns, int64_t *ms)
{
    if (a->g.state != HR__G_NONE || !a->head || a->nothing_ready)
        return 0;
    if (a->pending_rows >= a->opts->group_rows ||
        a->pending_bytes >= a->opts->group_bytes)
        *ms = 0;
    else {
        uint64_t due = a->oldest_ns + (uint64_t)a->opts->group_delay_ms * HR__NS_PER_MS;
        *ms = due <= now_ns ? 0 : (int64_t)((due - now_ns + HR__NS_PER_MS - 1) / HR__NS_PER_MS);
    }
    return 1;
}

int hr__group_step(hr_applier *a, uint64_t now_ns)
{
    hr__group *g = &a->g;
    if (g->state == HR__G_META) {
        PGresult *res;
        int rc = hr__pgc_collect(&a->pgc, &res);
        if (rc != HR_OK)
            return rc == HR_EAGAIN ? rc : HR_EIO;
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            const char *m = PQresultErrorMessage(res);
            hr__fail(&a->error, HR_EIO, "reading the target's catalog: %.*s",
                     (int)strcspn(m, "\n"), m);
            PQclear(res);
            return HR_EIO;
        }
        rc = hr__rel_meta_load(a, res);
        PQclear(res);
        g->state = HR__G_NONE;
        return rc;
    }
    if (g->state == HR__G_ERRLOG) {
        PGresult *res;
        int rc = hr__pgc_collect(&a->pgc, &res);
        if (rc != HR_OK)
            return rc == HR_EAGAIN ? rc : HR_EIO;
        PQclear(res); /* a failure to log is only logged */
        g->state = HR__G_NONE;
        return HR_OK;
    }
    if (g->state != HR__G_NONE)
        return hr__exec_step(a);
    int64_t ms;
    if (!hr__group_wants_timer(a, now_ns, &ms) || ms > 0)
        return HR_EAGAIN;
    int rc = need_metadata(a);
    if (rc != HR_OK)
        return rc;
    rc = build(a);
    if (rc != HR_OK)
        return rc;
    if (!g->ntxns) {
        for (hr__atxn *t = a->head; t; t = t->next)
            if (!a->tenants[t->tenant].paused)
                return HR_OK; /* its relations are fetched next round */
        a->nothing_ready = 1; /* until a submit or a resume */
        return HR_EAGAIN;
    }
    rc = plan(a);
    if (rc != HR_OK) {
        hr__group_reset(a, 1);
        return rc;
    }
    return hr__exec_start(a);
}
