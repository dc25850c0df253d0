/*
 * apply_session.c - the target connection: connect without blocking,
 * create the meta schema, load the checkpoints, then hand the connection
 * to the group machine (apply_group.c). A lost connection puts the group's
 * transactions back at the head of the queue and reconnects after a
 * back-off; the reloaded checkpoints tell which of them committed.
 */
#include <stdlib.h>
#include <string.h>

#include "apply_internal.h"

#define BACKOFF_FIRST_NS (100 * HR__NS_PER_MS)
#define BACKOFF_MAX_NS (30000 * HR__NS_PER_MS)
#define STEP_ROUNDS 64

enum { SETUP_SCHEMA = 0, SETUP_LOAD = 1, SETUP_DONE = 2 };

void hr__applier_lost(hr_applier *a, const char *why)
{
    hr__log(a->env, HR_LOG_WARN, "applier: target connection lost: %s", why);
    hr__group_reset(a, 1);
    hr__pgc_close(&a->pgc);
    hr__rels_forget_prepared(a);
    a->phase = HR_APPLIER_PHASE_BACKOFF;
    a->backoff_ns = a->backoff_ns ? a->backoff_ns * 2 : BACKOFF_FIRST_NS;
    if (a->backoff_ns > BACKOFF_MAX_NS)
        a->backoff_ns = BACKOFF_MAX_NS;
    a->retry_at_ns = hr_env_monotonic_ns(a->env) + a->backoff_ns;
}

int hr__applier_send_simple(hr_applier *a, const char *sql)
{
    return hr__pgc_send(&a->pgc, sql);
}

static int send_setup(hr_applier *a)
{
    hr__sbuf b;
    hr__sbuf_init(&b, a->env);
    PGconn *c = a->pgc.conn;
    const char *m = a->opts->meta_schema;
    hr__sbuf_add(&b, "CREATE SCHEMA IF NOT EXISTS ");
    hr__sbuf_ident(&b, c, m);
    hr__sbuf_add(&b, "; CREATE TABLE IF NOT EXISTS ");
    hr__sbuf_ident(&b, c, m);
    hr__sbuf_add(&b, ".checkpoints (tenant text NOT NULL, source_id text NOT "
                     "NULL, lsn pg_lsn NOT NULL, applied_at timestamptz NOT "
                     "NULL DEFAULT now(), PRIMARY KEY (tenant, source_id))"
                     "; CREATE TABLE IF NOT EXISTS ");
    hr__sbuf_ident(&b, c, m);
    hr__sbuf_add(&b, ".copy_progress (tenant text NOT NULL, source_id text "
                     "NOT NULL, table_name text NOT NULL, rows bigint NOT "
                     "NULL, snapshot_lsn pg_lsn NOT NULL, done_at timestamptz "
                     "NOT NULL DEFAULT now(), PRIMARY KEY (tenant, source_id, "
                     "table_name)); CREATE TABLE IF NOT EXISTS ");
    hr__sbuf_ident(&b, c, m);
    hr__sbuf_add(&b, ".apply_errors (id bigserial PRIMARY KEY, tenant text "
                     "NOT NULL, source_id text NOT NULL, lsn pg_lsn, status "
                     "text NOT NULL, message text NOT NULL, failed_at "
                     "timestamptz NOT NULL DEFAULT now())");
    char *sql;
    int rc = hr__sbuf_take(&b, &sql);
    if (rc != HR_OK)
        return rc;
    rc = hr__pgc_send(&a->pgc, sql);
    hr__free(a->env, sql);
    return rc;
}

static int send_load(hr_applier *a)
{
    hr__sbuf b;
    hr__sbuf_init(&b, a->env);
    PGconn *c = a->pgc.conn;
    hr__sbuf_add(&b, "SELECT 'c', tenant, lsn::text FROM ");
    hr__sbuf_ident(&b, c, a->opts->meta_schema);
    hr__sbuf_add(&b, ".checkpoints WHERE source_id = ");
    hr__sbuf_literal(&b, c, a->opts->source_id);
    hr__sbuf_add(&b, " UNION ALL SELECT 'p', tenant, table_name FROM ");
    hr__sbuf_ident(&b, c, a->opts->meta_schema);
    hr__sbuf_add(&b, ".copy_progress WHERE source_id = ");
    hr__sbuf_literal(&b, c, a->opts->source_id);
    char *sql;
    int rc = hr__sbuf_take(&b, &sql);
    if (rc != HR_OK)
        return rc;
    rc = hr__pgc_send(&a->pgc, sql);
    hr__free(a->env, sql);
    return rc;
}

/* The checkpoints and copy progress of this source, as the target has
 * them: the truth after any reconnect. */
static int load(hr_applier *a, PGresult *res)
{
    for (size_t i = 0; i < a->ntenants; i++) {
        hr__atenant *t = &a->tenants[i];
        t->checkpoint = 0;
        t->has_checkpoint = 0;
        for (size_t j = 0; j < t->tables_done; j++)
            hr__free(a->env, t->done_tables[j]);
        t->tables_done = 0;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        const char *kind = PQgetvalue(res, r, 0);
        const char *tenant = PQgetvalue(res, r, 1);
        const char *val = PQgetvalue(res, r, 2);
        size_t ti;
        int rc = hr__applier_tenant(a, tenant, 1, &ti);
        if (rc == HR_EINVAL)
            continue; /* not a tenant id this library writes */
        if (rc != HR_OK)
            return rc;
        hr__atenant *t = &a->tenants[ti];
        if (kind[0] == 'c') {
            uint64_t lsn;
            if (hr__lsn_parse(val, &lsn) != HR_OK)
                return hr__fail(&a->error, HR_EPROTO,
                                "checkpoint of %s: bad LSN \"%s\"", tenant,
                                val);
            t->checkpoint = lsn;
            t->has_checkpoint = 1;
            if (t->last_submitted < lsn)
                t->last_submitted = lsn;
        } else if ((rc = hr__tenant_mark_done(a, t, val)) != HR_OK) {
            return rc;
        }
    }
    return HR_OK;
}

static int setup_result(hr_applier *a, PGresult *res)
{
    const char *state;
    if (PQresultStatus(res) != PGRES_COMMAND_OK &&
        PQresultStatus(res) != PGRES_TUPLES_OK) {
        int code = hr__classify_error(res, &state);
        const char *m = PQresultErrorMessage(res);
        hr__fail(&a->error, code == HR_EAGAIN ? HR_EIO : code,
                 "target set-up: %.*s (SQLSTATE %s)", (int)strcspn(m, "\n"),
                 m, state);
        return code == HR_EAGAIN ? HR_EIO : code;
    }
    if (a->setup_step == SETUP_SCHEMA) {
        a->setup_step = SETUP_LOAD;
        return send_load(a);
    }
    int rc = load(a, res);
    if (rc != HR_OK)
        return rc;
    a->setup_step = SETUP_DONE;
    a->phase = HR_APPLIER_PHASE_READY;
    a->backoff_ns = 0;
    return HR_OK;
}

/* One round of the state machine: HR_OK (progress: go on), HR_EAGAIN
 * (wait for the fd or the timer), or an error for the host. */
static int round_once(hr_applier *a, uint64_t now_ns)
{
    int rc;
    switch (a->phase) {
    case HR_APPLIER_PHASE_IDLE:
    case HR_APPLIER_PHASE_BACKOFF:
        if (now_ns < a->retry_at_ns)
            return HR_EAGAIN;
        rc = hr__pgc_start(&a->pgc, a->env, a->keys, a->vals);
        if (rc != HR_OK) {
            hr__applier_lost(a, a->pgc.errbuf);
            return rc == HR_ENOMEM ? rc : HR_EAGAIN;
        }
        a->phase = HR_APPLIER_PHASE_CONNECTING;
        return HR_OK;
    case HR_APPLIER_PHASE_CONNECTING:
        rc = hr__pgc_connect_poll(&a->pgc);
        if (rc == HR_EAGAIN)
            return HR_EAGAIN;
        if (rc != HR_OK) {
            hr__fail(&a->error, rc, "target: %s", a->pgc.errbuf);
            hr__applier_lost(a, a->pgc.errbuf);
            return rc == HR_EAUTH ? rc : HR_EAGAIN;
        }
        a->phase = HR_APPLIER_PHASE_SETUP;
        a->setup_step = SETUP_SCHEMA;
        rc = send_setup(a);
        if (rc == HR_EIO) {
            hr__applier_lost(a, a->pgc.errbuf);
            return HR_EAGAIN;
        }
        return rc;
    case HR_APPLIER_PHASE_SETUP: {
        PGresult *res;
        rc = hr__pgc_collect(&a->pgc, &res);
        if (rc == HR_EAGAIN)
            return HR_EAGAIN;
        if (rc != HR_OK) {
            hr__applier_lost(a, a->pgc.errbuf);
            return HR_EAGAIN;
        }
        rc = setup_result(a, res);
        PQclear(res);
        if (rc == HR_EIO || rc == HR_ESCHEMA || rc == HR_ESTATE) {
            hr__applier_lost(a, a->error.message);
            return rc;
        }
        return rc;
    }
    case HR_APPLIER_PHASE_READY:
        rc = hr__group_step(a, now_ns);
        if (rc == HR_OK || rc == HR_EAGAIN)
            return rc;
        /* The connection's state is unknown after a failure in the middle
         * of a group: start over on a new one (nothing was committed). */
        hr__applier_lost(a, rc == HR_EIO ? hr__pgc_note(&a->pgc, "connection lost")
                                         : hr_strerror(rc));
        return rc == HR_EIO ? HR_EAGAIN : rc;
    default:
        return hr__fail(&a->error, HR_ECLOSED, "the applier is closed");
    }
}

int hr_applier_step(hr_applier *a, uint64_t now_ns)
{
    if (!a)
        return HR_EINVAL;
    if (a->in_callback)
        return hr__fail(&a->error, HR_ESTATE, "called from a callback");
    for (int i = 0; i < STEP_ROUNDS; i++) {
        int rc = round_once(a, now_ns);
        if (rc == HR_EAGAIN)
            return HR_OK;
        if (rc != HR_OK)
            return rc;
    }
    return HR_OK;
}

int hr_applier_fd(const hr_applier *a)
{
    return a ? hr__pgc_fd(&a->pgc) : -1;
}

int hr_applier_interest(const hr_applier *a)
{
    return a ? hr__pgc_interest(&a->pgc) : 0;
}

int64_t hr_applier_timeout_ms(const hr_applier *a, uint64_t now_ns)
{
    if (!a)
        return -1;
    switch (a->phase) {
    case HR_APPLIER_PHASE_IDLE:
        return 0;
    case HR_APPLIER_PHASE_BACKOFF:
        return a->retry_at_ns <= now_ns
                   ? 0
                   : (int64_t)((a->retry_at_ns - now_ns + HR__NS_PER_MS - 1) /
                               HR__NS_PER_MS);
    case HR_APPLIER_PHASE_READY: {
        int64_t ms;
        return hr__group_wants_timer(a, now_ns, &ms) ? ms : -1;
    }
    default:
        return -1;
    }
}
