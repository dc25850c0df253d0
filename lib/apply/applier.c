/*
 * applier.c - the applier handle, its tenants, and the queue of submitted
 * transactions. The queue is one FIFO over all tenants: a group takes
 * transactions from its head in order, skipping paused tenants, so each
 * tenant's transactions reach the target in the order they were submitted.
 */
#include <string.h>

#include "apply_internal.h"

int hr_applier_new(hr_env *env, const hr_applier_opts *opts,
                   const hr_applier_callbacks *cb, hr_applier **out)
{
    if (!out)
        return HR_EINVAL;
    *out = NULL;
    if (!env)
        return HR_EINVAL;
    if (!opts)
        return hr__fail(&env->error, HR_EINVAL, "opts is NULL");
    if (!opts->conninfo)
        return hr__fail(&env->error, HR_EINVAL, "no target conninfo");
    if (cb && cb->version != HR_APPLIER_CALLBACKS_VERSION)
        return hr__fail(&env->error, HR_EINVAL,
                        "callbacks version %u, expected %u", cb->version,
                        HR_APPLIER_CALLBACKS_VERSION);
    hr_applier *a = hr__calloc(env, 1, sizeof *a);
    if (!a)
        return hr__fail(&env->error, HR_ENOMEM, "out of memory");
    a->env = hr__env_ref(env);
    if (cb)
        a->cb = *cb;
    a->opts = hr__calloc(env, 1, sizeof *a->opts);
    char *conninfo = hr__strdup(env, opts->conninfo);
    if (!a->opts || !conninfo) {
        hr__free(env, conninfo);
        hr__free(env, a->opts);
        a->opts = NULL;
        hr_applier_free(a);
        return hr__fail(&env->error, HR_ENOMEM, "out of memory");
    }
    *a->opts = *opts;
    a->opts->env = hr__env_ref(env);
    a->opts->conninfo = conninfo;
    hr__error_clear(&a->opts->error);
    int rc = hr__conn_params(env, opts->conninfo, 0, "heliosrepl-applier",
                             &a->keys, &a->vals, &a->params_storage,
                             &env->error);
    if (rc != HR_OK) {
        hr_applier_free(a);
        return rc;
    }
    a->phase = HR_APPLIER_PHASE_IDLE;
    *out = a;
    return HR_OK;
}

void hr__atxn_free(hr_applier *a, hr__atxn *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nbatches; i++)
        hr_batch_free(t->batches[i]);
    hr__free(a->env, t->batches);
    hr__free(a->env, t->copy_schema);
    hr__free(a->env, t->copy_table);
    hr__free(a->env, t);
}

void hr_applier_free(hr_applier *a)
{
    if (!a)
        return;
    hr_env *env = a->env;
    hr__group_reset(a, 1);
    hr__pgc_close(&a->pgc);
    for (hr__atxn *t = a->head; t;) {
        hr__atxn *next = t->next;
        hr__atxn_free(a, t);
        t = next;
    }
    hr__atxn_free(a, a->open);
    for (size_t i = 0; i < a->ntenants; i++) {
        for (size_t j = 0; j < a->tenants[i].tables_done; j++)
            hr__free(env, a->tenants[i].done_tables[j]);
        hr__free(env, a->tenants[i].done_tables);
    }
    hr__free(env, a->tenants);
    hr__rels_free(a);
    hr__free(env, a->g.txns);
    hr__free(env, a->g.ops);
    hr__free(env, a->g.expect);
    hr__free(env, a->g.arena);
    hr__free(env, a->g.copybuf);
    hr__free(env, a->scratch);
    hr__free(env, a->params_storage);
    hr_applier_opts_free(a->opts);
    hr__free(env, a);
    hr__env_unref(env);
}

const char *hr_applier_errmsg(const hr_applier *a)
{
    return a ? a->error.message : "";
}

int hr_applier_phase(const hr_applier *a)
{
    return a ? a->phase : HR_APPLIER_PHASE_CLOSED;
}

size_t hr_applier_pending_bytes(const hr_applier *a)
{
    return a ? a->pending_bytes : 0;
}

void hr_applier_stats(const hr_applier *a, uint64_t *target_txns,
                      uint64_t *source_txns, uint64_t *rows, uint64_t *bytes)
{
    if (target_txns)
        *target_txns = a ? a->st_target_txns : 0;
    if (source_txns)
        *source_txns = a ? a->st_source_txns : 0;
    if (rows)
        *rows = a ? a->st_rows : 0;
    if (bytes)
        *bytes = a ? a->st_bytes : 0;
}

/* ---- tenants ---- */

int hr__applier_tenant(hr_applier *a, const char *id, int create, size_t *out)
{
    if (!id || !hr__tenant_id_valid(id, strlen(id)))
        return HR_EINVAL;
    for (size_t i = 0; i < a->ntenants; i++)
        if (!strcmp(a->tenants[i].id, id)) {
            *out = i;
            return HR_OK;
        }
    if (!create)
        return HR_ENOTFOUND;
    if (a->ntenants == a->tenants_cap) {
        size_t cap = a->tenants_cap ? a->tenants_cap * 2 : 8;
        hr__atenant *t = hr__realloc(a->env, a->tenants, cap * sizeof *t);
        if (!t)
            return HR_ENOMEM;
        a->tenants = t;
        a->tenants_cap = cap;
    }
    hr__atenant *t = &a->tenants[a->ntenants];
    memset(t, 0, sizeof *t);
    strcpy(t->id, id);
    *out = a->ntenants++;
    return HR_OK;
}

int hr__tenant_mark_done(hr_applier *a, hr__atenant *t, const char *qualified)
{
    for (size_t i = 0; i < t->tables_done; i++)
        if (!strcmp(t->done_tables[i], qualified))
            return HR_OK;
    if (t->tables_done == t->done_cap) {
        size_t cap = t->done_cap ? t->done_cap * 2 : 4;
        char **d = hr__realloc(a->env, t->done_tables, cap * sizeof *d);
        if (!d)
            return HR_ENOMEM;
        t->done_tables = d;
        t->done_cap = cap;
    }
    char *copy = hr__strdup(a->env, qualified);
    if (!copy)
        return HR_ENOMEM;
    t->done_tables[t->tables_done++] = copy;
    return HR_OK;
}

static int loaded(const hr_applier *a)
{
    return a->phase == HR_APPLIER_PHASE_READY || a->setup_step < 0;
}

int hr_applier_checkpoint(const hr_applier *a, const char *tenant_id,
                          uint64_t *lsn)
{
    if (!a || !lsn || !tenant_id ||
        !hr__tenant_id_valid(tenant_id, strlen(tenant_id)))
        return HR_EINVAL;
    *lsn = 0;
    if (!loaded(a))
        return HR_EAGAIN;
    size_t i;
    if (hr__applier_tenant((hr_applier *)a, tenant_id, 0, &i) == HR_OK)
        *lsn = a->tenants[i].checkpoint;
    return HR_OK;
}

int hr_applier_copy_state(const hr_applier *a, const char *tenant_id,
                          int *done, size_t *tables_done)
{
    if (!a || !done || !tables_done || !tenant_id ||
        !hr__tenant_id_valid(tenant_id, strlen(tenant_id)))
        return HR_EINVAL;
    *done = 0;
    *tables_done = 0;
    if (!loaded(a))
        return HR_EAGAIN;
    size_t i;
    if (hr__applier_tenant((hr_applier *)a, tenant_id, 0, &i) == HR_OK) {
        *done = a->tenants[i].has_checkpoint;
        *tables_done = a->tenants[i].tables_done;
    }
    return HR_OK;
}

int hr_applier_copy_table_done(const hr_applier *a, const char *tenant_id,
                               const char *schema_name,
                               const char *table_name)
{
    size_t i;
    if (!a || !schema_name || !table_name || !loaded(a) ||
        hr__applier_tenant((hr_applier *)a, tenant_id, 0, &i) != HR_OK)
        return 0;
    const hr__atenant *t = &a->tenants[i];
    size_t sl = strlen(schema_name);
    for (size_t j = 0; j < t->tables_done; j++) {
        const char *q = t->done_tables[j];
        if (!strncmp(q, schema_name, sl) && q[sl] == '.' &&
            !strcmp(q + sl + 1, table_name))
            return 1;
    }
    return 0;
}

/* ---- submitting ---- */

static int open_txn(hr_applier *a, const char *tenant_id, hr__txkind kind,
                    uint64_t lsn, hr__atxn **out)
{
    if (a->open)
        return hr__fail(&a->error, HR_ESTATE, "a transaction is open");
    if (!loaded(a))
        return hr__fail(&a->error, HR_ESTATE,
                        "the checkpoints are not loaded yet");
    size_t ti;
    int rc = hr__applier_tenant(a, tenant_id, 1, &ti);
    if (rc == HR_EINVAL)
        return hr__fail(&a->error, rc,
                        "tenant id must be 1..63 bytes of [A-Za-z0-9_.-]");
    if (rc != HR_OK)
        return hr__fail(&a->error, rc, "out of memory");
    if (a->tenants[ti].paused)
        return hr__fail(&a->error, HR_ESTATE, "tenant %s is paused",
                        tenant_id);
    if (a->pending_bytes > a->opts->max_pending_bytes)
        return hr__fail(&a->error, HR_EAGAIN, "%zu bytes pending",
                        a->pending_bytes);
    hr__atxn *t = hr__calloc(a->env, 1, sizeof *t);
    if (!t)
        return hr__fail(&a->error, HR_ENOMEM, "out of memory");
    t->tenant = ti;
    t->kind = kind;
    t->lsn = lsn;
    *out = t;
    return HR_OK;
}

int hr_applier_begin(hr_applier *a, const char *tenant_id, uint64_t end_lsn)
{
    if (!a)
        return HR_EINVAL;
    hr__atxn *t = NULL; /* set by open_txn on HR_OK; gcc -O3 cannot tell */
    int rc = open_txn(a, tenant_id, HR__TX_STREAM, end_lsn, &t);
    if (rc != HR_OK)
        return rc;
    a->open = t;
    return HR_OK;
}

int hr_applier_begin_copy(hr_applier *a, const char *tenant_id,
                          const char *schema_name, const char *table_name,
                          uint64_t snapshot_lsn)
{
    if (!a)
        return HR_EINVAL;
    if (!schema_name || !*schema_name || !table_name || !*table_name)
        return hr__fail(&a->error, HR_EINVAL, "no table named");
    hr__atxn *t = NULL; /* set by open_txn on HR_OK; gcc -O3 cannot tell */
    int rc = open_txn(a, tenant_id, HR__TX_COPY, snapshot_lsn, &t);
    if (rc != HR_OK)
        return rc;
    t->copy_schema = hr__strdup(a->env, schema_name);
    t->copy_table = hr__strdup(a->env, table_name);
    if (!t->copy_schema || !t->copy_table) {
        hr__atxn_free(a, t);
        return hr__fail(&a->error, HR_ENOMEM, "out of memory");
    }
    a->open = t;
    return HR_OK;
}

int hr_applier_add_batch(hr_applier *a, hr_batch *b)
{
    if (!a)
        return HR_EINVAL;
    if (!b)
        return hr__fail(&a->error, HR_EINVAL, "batch is NULL");
    if (!a->open)
        return hr__fail(&a->error, HR_ESTATE, "no transaction is open");
    if (b->ncolumns < 1 || strcmp(b->columns[0].name, "_hr_op") != 0 ||
        b->columns[0].type_oid != HR_OID_INT2)
        return hr__fail(&a->error, HR_EINVAL,
                        "the first column of a batch must be _hr_op int2");
    if (!*b->table_name)
        return hr__fail(&a->error, HR_EINVAL, "the batch names no relation");
    if (b->columns[0].special)
        return hr__fail(&a->error, HR_EINVAL, "_hr_op holds a NULL");
    hr__atxn *t = a->open;
    if (t->nbatches == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4;
        hr_batch **v = hr__realloc(a->env, t->batches, cap * sizeof *v);
        if (!v)
            return hr__fail(&a->error, HR_ENOMEM, "out of memory");
        t->batches = v;
        t->cap = cap;
    }
    t->batches[t->nbatches++] = b;
    t->rows += hr_batch_rows(b);
    t->bytes += hr_batch_raw_size(b);
    return HR_OK;
}

static void enqueue(hr_applier *a, hr__atxn *t)
{
    if (!a->head)
        a->oldest_ns = hr_env_monotonic_ns(a->env);
    if (a->tail)
        a->tail->next = t;
    else
        a->head = t;
    a->tail = t;
    a->pending_bytes += t->bytes;
    a->pending_rows += t->rows;
    a->nothing_ready = 0;
}

int hr_applier_commit(hr_applier *a)
{
    if (!a)
        return HR_EINVAL;
    hr__atxn *t = a->open;
    if (!t)
        return hr__fail(&a->error, HR_ESTATE, "no transaction is open");
    a->open = NULL;
    hr__atenant *tn = &a->tenants[t->tenant];
    if (t->kind == HR__TX_STREAM) {
        /* Already applied, or already queued (a stream that resumed from
         * an older confirm hands it again): dropped, as promised. */
        uint64_t seen = tn->checkpoint > tn->last_submitted
                            ? tn->checkpoint
                            : tn->last_submitted;
        if (t->lsn <= seen) {
            hr__atxn_free(a, t);
            return HR_OK;
        }
        tn->last_submitted = t->lsn;
    }
    enqueue(a, t);
    return HR_OK;
}

void hr_applier_rollback(hr_applier *a)
{
    if (!a || !a->open)
        return;
    hr__atxn_free(a, a->open);
    a->open = NULL;
}

int hr_applier_finish_copy(hr_applier *a, const char *tenant_id, uint64_t lsn)
{
    if (!a)
        return HR_EINVAL;
    hr__atxn *t = NULL; /* set by open_txn on HR_OK; gcc -O3 cannot tell */
    int rc = open_txn(a, tenant_id, HR__TX_FINISH, lsn, &t);
    if (rc != HR_OK)
        return rc;
    hr__atenant *tn = &a->tenants[t->tenant];
    if (tn->last_submitted < lsn)
        tn->last_submitted = lsn;
    enqueue(a, t);
    return HR_OK;
}

int hr_applier_set_idempotent_until(hr_applier *a, const char *tenant_id,
                                    uint64_t lsn)
{
    if (!a)
        return HR_EINVAL;
    size_t ti;
    int rc = hr__applier_tenant(a, tenant_id, 1, &ti);
    if (rc != HR_OK)
        return hr__fail(&a->error, rc, "bad tenant id or out of memory");
    a->tenants[ti].idempotent_until = lsn;
    return HR_OK;
}

int hr_applier_resume(hr_applier *a, const char *tenant_id)
{
    if (!a)
        return HR_EINVAL;
    size_t ti;
    if (hr__applier_tenant(a, tenant_id, 0, &ti) != HR_OK ||
        !a->tenants[ti].paused)
        return hr__fail(&a->error, HR_ENOTFOUND, "tenant is not paused");
    a->tenants[ti].paused = 0;
    a->nothing_ready = 0;
    /* The host may have changed the target's tables meanwhile. */
    hr__rels_invalidate(a);
    return HR_OK;
}
