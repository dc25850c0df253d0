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

char *hr__group_strdup(hr_applier *a, const char *s)
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
                int64_t op = hr__op_code(b, row);
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
    /* Callbacks get each tenant once, with its final checkpoint: at the
     * tenant's last transaction in the group, found in one pass. */
    for (size_t ti = 0; ti < g->ntxns; ti++)
        a->tenants[g->txns[ti]->tenant].group_last = ti;
    a->in_callback = 1;
    for (size_t ti = g->ntxns; ti-- > 0;) {
        hr__atxn *t = g->txns[ti];
        if (a->tenants[t->tenant].group_last == ti && a->cb.on_applied &&
            a->tenants[t->tenant].has_checkpoint)
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
    if (a->invalidate_pending)
        hr__rels_invalidate(a);
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
    rc = hr__group_plan(a);
    if (rc != HR_OK) {
        hr__group_reset(a, 1);
        return rc;
    }
    return hr__exec_start(a);
}
