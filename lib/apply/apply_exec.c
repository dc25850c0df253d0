/*
 * apply_exec.c - runs a group's ops on the target connection without
 * blocking. Consecutive statements go out as one pipeline (libpq pipeline
 * mode, prepared statements created on first use) closed by a Sync; a run
 * of inserts goes out as one binary COPY, which pipeline mode does not
 * allow, so the connection leaves pipeline mode for it. The first error
 * aborts the rest (the server skips to the Sync) and the group is rolled
 * back; apply_group.c decides what happens next.
 */
#include <string.h>

#include "apply_internal.h"

#define COPY_CHUNK 65536

static int expect_push(hr_applier *a, size_t v)
{
    hr__group *g = &a->g;
    if (g->nexpect == g->expect_cap) {
        size_t cap = g->expect_cap ? g->expect_cap * 2 : 256;
        size_t *e = hr__malloc(a->env, cap * sizeof *e);
        if (!e)
            return HR_ENOMEM;
        for (size_t i = 0; i < g->nexpect; i++)
            e[i] = g->expect[(g->expect_head + i) % g->expect_cap];
        hr__free(a->env, g->expect);
        g->expect = e;
        g->expect_cap = cap;
        g->expect_head = 0;
    }
    g->expect[(g->expect_head + g->nexpect++) % g->expect_cap] = v;
    return HR_OK;
}

static size_t expect_pop(hr__group *g)
{
    if (!g->nexpect)
        return SIZE_MAX;
    size_t v = g->expect[g->expect_head];
    g->expect_head = (g->expect_head + 1) % g->expect_cap;
    g->nexpect--;
    return v;
}

static void note_error(hr_applier *a, const PGresult *r, size_t op)
{
    hr__group *g = &a->g;
    if (g->failed)
        return;
    g->failed = 1;
    g->failed_op = op;
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    snprintf(g->fail_state, sizeof g->fail_state, "%s", st ? st : "");
    const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(a->pgc.conn);
    const char *where = "";
    char ctx[160] = "";
    if (op < g->nops && g->ops[op].rel) {
        snprintf(ctx, sizeof ctx, " (table %s.%s)", g->ops[op].rel->schema,
                 g->ops[op].rel->table);
        where = ctx;
    }
    const char *col = r ? PQresultErrorField(r, PG_DIAG_COLUMN_NAME) : NULL;
    snprintf(g->fail_msg, sizeof g->fail_msg, "%.*s%s%s%s",
             (int)strcspn(m, "\n"), m, where, col ? " column " : "",
             col ? col : "");
}

/* ---- pipeline segments ---- */

static int send_row(hr_applier *a, size_t i)
{
    hr__group *g = &a->g;
    hr__op *op = &g->ops[i];
    hr__stmt *s = op->stmt;
    PGconn *c = a->pgc.conn;
    if (!s->prepared) {
        if (!PQsendPrepare(c, s->name, s->sql, s->nparams, s->ptypes))
            return HR_EIO;
        s->prepared = 2;
        if (expect_push(a, i | HR__EXPECT_PREPARE) != HR_OK)
            return HR_ENOMEM;
    }
    const char *const *values;
    const int *lengths, *formats;
    int rc = hr__stmt_params(a, op->rel, s, op->inv, op->batch, op->row,
                             op->key_row,
                             a->tenants[g->txns[op->txn]->tenant].id, &values,
                             &lengths, &formats);
    if (rc != HR_OK)
        return rc;
    if (!PQsendQueryPrepared(c, s->name, s->nparams, values, lengths, formats,
                             0))
        return HR_EIO;
    return expect_push(a, i);
}

static int send_pipeline(hr_applier *a)
{
    hr__group *g = &a->g;
    PGconn *c = a->pgc.conn;
    if (!g->in_pipeline) {
        if (!PQenterPipelineMode(c))
            return HR_EIO;
        g->in_pipeline = 1;
    }
    int rc = HR_OK;
    for (; g->next_op < g->nops && g->ops[g->next_op].kind != HR__OP_COPY;
         g->next_op++) {
        size_t i = g->next_op;
        hr__op *op = &g->ops[i];
        switch (op->kind) {
        case HR__OP_ROW:
            rc = send_row(a, i);
            break;
        case HR__OP_SQL:
            rc = PQsendQueryParams(c, op->sql, 0, NULL, NULL, NULL, NULL, 0)
                     ? expect_push(a, i)
                     : HR_EIO;
            break;
        default:
            rc = PQsendQueryParams(c, op->sql, op->nparams, NULL, op->params,
                                   NULL, NULL, 0)
                     ? expect_push(a, i)
                     : HR_EIO;
            break;
        }
        if (rc != HR_OK)
            return rc;
    }
    if (!PQpipelineSync(c))
        return HR_EIO;
    a->pgc.state = HR__PGC_BUSY;
    g->state = HR__G_PIPE;
    return hr__pgc_flush(&a->pgc);
}

/* Results of the pipeline until its Sync. */
static int read_pipeline(hr_applier *a)
{
    hr__group *g = &a->g;
    PGconn *c = a->pgc.conn;
    for (;;) {
        if (PQisBusy(c))
            return HR_EAGAIN;
        PGresult *r = PQgetResult(c);
        if (!r) {
            if (PQstatus(c) == CONNECTION_BAD)
                return HR_EIO;
            continue; /* the end of one statement's results */
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            return HR_OK;
        }
        size_t e = expect_pop(g);
        size_t i = e & ~HR__EXPECT_PREPARE;
        int prepare = (e & HR__EXPECT_PREPARE) != 0 && e != SIZE_MAX;
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            if (prepare)
                g->ops[i].stmt->prepared = 1;
        } else {
            if (prepare && i < g->nops)
                g->ops[i].stmt->prepared = 0;
            if (st != PGRES_PIPELINE_ABORTED)
                note_error(a, r, i);
        }
        PQclear(r);
    }
}

/* ---- COPY segments ---- */

static int start_copy(hr_applier *a)
{
    hr__group *g = &a->g;
    PGconn *c = a->pgc.conn;
    if (g->in_pipeline) {
        if (!PQexitPipelineMode(c))
            return HR_EIO;
        g->in_pipeline = 0;
    }
    hr__op *first = &g->ops[g->next_op];
    char *sql;
    int rc = hr__rel_copy_sql(a, first->rel, first->inv, &sql);
    if (rc != HR_OK)
        return rc;
    rc = hr__copy_header(a);
    /* The run: this op and the COPY ops after it into the same table with
     * the same columns (apply_group.c made them so). */
    size_t i = g->next_op;
    for (; rc == HR_OK && i < g->nops && g->ops[i].kind == HR__OP_COPY &&
           g->ops[i].rel == first->rel;
         i++)
        rc = hr__copy_rows(a, g->ops[i].inv, first->rel->ncols,
                           g->ops[i].batch, g->ops[i].row, g->ops[i].row_end);
    if (rc == HR_OK)
        rc = hr__copy_trailer(a);
    if (rc != HR_OK) {
        hr__free(a->env, sql);
        return rc;
    }
    g->failed_op = g->next_op; /* for an error of the whole COPY */
    size_t copy_first = g->next_op;
    g->next_op = i;
    int ok = PQsendQueryParams(c, sql, 0, NULL, NULL, NULL, NULL, 0);
    hr__free(a->env, sql);
    if (!ok)
        return HR_EIO;
    g->nexpect = 0;
    rc = expect_push(a, copy_first);
    if (rc != HR_OK)
        return rc;
    a->pgc.state = HR__PGC_BUSY;
    g->state = HR__G_COPY_START;
    return hr__pgc_flush(&a->pgc);
}

static int copy_data(hr_applier *a)
{
    hr__group *g = &a->g;
    PGconn *c = a->pgc.conn;
    while (g->copy_sent < g->copy_len) {
        size_t n = g->copy_len - g->copy_sent;
        if (n > COPY_CHUNK)
            n = COPY_CHUNK;
        int r = PQputCopyData(c, (const char *)g->copybuf + g->copy_sent, (int)n);
        if (r < 0)
            return HR_EIO;
        if (r == 0) {
            a->pgc.flush_pending = 1; /* wait until writable */
            return HR_EAGAIN;
        }
        g->copy_sent += n;
    }
    int r = PQputCopyEnd(c, NULL);
    if (r < 0)
        return HR_EIO;
    if (r == 0) {
        a->pgc.flush_pending = 1;
        return HR_EAGAIN;
    }
    g->state = HR__G_COPY_END;
    return hr__pgc_flush(&a->pgc) == HR_OK ? HR_OK : HR_EIO;
}

/* Results until the end of the current command (PQgetResult NULL);
 * COPY IN moves on to sending data. */
static int read_command(hr_applier *a, int *copy_in)
{
    PGconn *c = a->pgc.conn;
    *copy_in = 0;
    for (;;) {
        if (PQisBusy(c))
            return HR_EAGAIN;
        PGresult *r = PQgetResult(c);
        if (!r)
            return PQstatus(c) == CONNECTION_BAD ? HR_EIO : HR_OK;
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_COPY_IN) {
            PQclear(r);
            *copy_in = 1;
            return HR_OK;
        }
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
            note_error(a, r, a->g.failed_op);
        PQclear(r);
    }
}

/* ---- driving ---- */

static int next_segment(hr_applier *a)
{
    hr__group *g = &a->g;
    if (g->failed) {
        if (g->in_pipeline) {
            if (!PQexitPipelineMode(a->pgc.conn))
                return HR_EIO;
            g->in_pipeline = 0;
        }
        a->pgc.state = HR__PGC_IDLE;
        if (hr__pgc_send(&a->pgc, "ROLLBACK") != HR_OK)
            return HR_EIO;
        g->state = HR__G_ROLLBACK;
        return HR_OK;
    }
    if (g->next_op >= g->nops) {
        if (g->in_pipeline) {
            PQexitPipelineMode(a->pgc.conn);
            g->in_pipeline = 0;
        }
        a->pgc.state = HR__PGC_IDLE;
        return hr__group_done(a);
    }
    return g->ops[g->next_op].kind == HR__OP_COPY ? start_copy(a)
                                                  : send_pipeline(a);
}

int hr__exec_start(hr_applier *a)
{
    a->g.next_op = 0;
    return next_segment(a);
}

int hr__exec_step(hr_applier *a)
{
    hr__group *g = &a->g;
    if (a->pgc.flush_pending && hr__pgc_flush(&a->pgc) != HR_OK)
        return HR_EIO;
    if (!PQconsumeInput(a->pgc.conn))
        return HR_EIO;
    int rc, copy_in;
    switch (g->state) {
    case HR__G_PIPE:
        rc = read_pipeline(a);
        if (rc != HR_OK)
            return rc;
        return next_segment(a);
    case HR__G_COPY_START:
        rc = read_command(a, &copy_in);
        if (rc != HR_OK)
            return rc;
        if (!copy_in)
            return next_segment(a); /* refused: g->failed is set */
        g->state = HR__G_COPY_DATA;
        return HR_OK;
    case HR__G_COPY_DATA:
        return copy_data(a);
    case HR__G_COPY_END:
        rc = read_command(a, &copy_in);
        if (rc != HR_OK)
            return rc;
        return next_segment(a);
    case HR__G_ROLLBACK: {
        PGresult *res;
        rc = hr__pgc_collect(&a->pgc, &res);
        if (rc != HR_OK)
            return rc == HR_EAGAIN ? rc : HR_EIO;
        PQclear(res);
        return hr__group_failed(a);
    }
    default:
        return HR_EINTERNAL;
    }
}
