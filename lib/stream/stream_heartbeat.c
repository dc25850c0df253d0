/*
 * stream_heartbeat.c - heartbeats that keep a quiet tenant's slot moving
 * when nothing else does.
 *
 * A quiet tenant (nothing handed over and unconfirmed) follows the stream's
 * position, which transactions of any tenant and the server's keepalives
 * move (stream_demux.c). Neither comes when the walsender has nothing to
 * send and no reason to ping: in dedicated mode the row filter drops the
 * other tenants' writes, and a walsender that keeps decoding them does not
 * send keepalives while our status updates arrive in time. Then the slot
 * would hold that WAL for a quiet tenant forever. So every
 * heartbeat_interval_ms, while streaming, while some tenant is quiet and
 * while the position did not move during the last interval, the stream
 * runs
 *
 *   SELECT pg_catalog.pg_logical_emit_message(false, 'heliosrepl.heartbeat',
 *          '') WHERE pg_catalog.pg_current_wal_insert_lsn() > 'position'
 *
 * over a second, normal connection (opened and driven without blocking,
 * like the replication one). The condition keeps an idle server idle: a
 * message is written only when WAL was written after the position. The
 * message is non-transactional, so the walsender sends it at its own WAL
 * position, after every transaction that committed before it. When it
 * arrives on the replication stream at LSN H, the stream's position moves
 * to H, and every quiet tenant's effective confirm with it: the next
 * status update lets the slot advance past WAL that held nothing for them.
 *
 * Heartbeat failures (and one still out after HR__HEARTBEAT_TIMEOUT_NS)
 * are logged and retried at the next interval; they never fail the stream.
 *
 * The heartbeat connection's socket is the second fd of hr_stream_fds
 * while it connects or waits for its answer. A host that only watches
 * hr_stream_fd is asked for a step every HR__HEARTBEAT_POLL_NS instead.
 */
#include <stdio.h>
#include <string.h>

#include "stream_internal.h"

void hr__heartbeat_sql(uint64_t position, char out[HR__HEARTBEAT_SQL_MAX])
{
    char at[24];
    hr__lsn_format(position, at);
    snprintf(out, HR__HEARTBEAT_SQL_MAX,
             "SELECT pg_catalog.pg_logical_emit_message(false, "
             "'" HR__HEARTBEAT_PREFIX "', '') WHERE "
             "pg_catalog.pg_current_wal_insert_lsn() > "
             "'%s'::pg_catalog.pg_lsn",
             at);
}

int hr__any_quiet(const hr_stream *s)
{
    for (size_t i = 0; i < s->tenants.n; i++) {
        const hr__tenant *t = s->tenants.v[i];
        if (!t->fresh && t->delivered <= t->confirmed)
            return 1;
    }
    return 0;
}

static uint64_t interval_ns(const hr_stream *s)
{
    return (uint64_t)s->cfg->heartbeat_interval_ms * HR__NS_PER_MS;
}

static void hb_failed(hr_stream *s, const char *what)
{
    hr__log(s->env, HR_LOG_WARN, "stream %s: heartbeat %s: %s", s->cfg->slot,
            what, s->hb.errbuf[0] ? s->hb.errbuf : "failed");
    hr__pgc_close(&s->hb);
    s->hb_retry_at = s->now + interval_ns(s);
}

static void hb_connect(hr_stream *s)
{
    const char **keys, **vals;
    void *storage;
    hr__error err;
    if (hr__conn_params(s->env, s->cfg->conninfo, 0, "heliosrepl-heartbeat",
                        &keys, &vals, &storage, &err) != HR_OK) {
        hr__log(s->env, HR_LOG_WARN, "stream %s: heartbeat: %s", s->cfg->slot,
                err.message);
        s->hb_retry_at = s->now + interval_ns(s);
        return;
    }
    int rc = hr__pgc_start(&s->hb, s->env, keys, vals);
    hr__free(s->env, storage);
    if (rc != HR_OK)
        hb_failed(s, "connect");
    s->hb_started = s->now;
}

/* Move the heartbeat connection along; returns 1 when it is idle. */
static int hb_drive(hr_stream *s)
{
    hr__pgc *c = &s->hb;
    if (c->state == HR__PGC_CONNECTING) {
        int rc = hr__pgc_connect_poll(c);
        if (rc == HR_EAGAIN)
            return 0;
        if (rc != HR_OK) {
            hb_failed(s, "connect");
            return 0;
        }
    }
    if (c->state == HR__PGC_BUSY) {
        PGresult *res = NULL;
        int rc = hr__pgc_collect(c, &res);
        if (rc == HR_EAGAIN)
            return 0;
        if (rc != HR_OK) {
            hb_failed(s, "query");
            return 0;
        }
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            const char *m = PQresultErrorMessage(res);
            snprintf(c->errbuf, sizeof c->errbuf, "%.*s", (int)strcspn(m, "\n"),
                     m);
            PQclear(res);
            hb_failed(s, "query");
            return 0;
        }
        if (PQntuples(res) > 0) /* WAL had moved: a message was written */
            s->heartbeats_emitted++;
        PQclear(res);
    }
    if (c->state == HR__PGC_IDLE) {
        if (c->flush_pending && hr__pgc_flush(c) != HR_OK) {
            hb_failed(s, "connection");
            return 0;
        }
        /* Notices or a server going away: read them, notice a loss. */
        if (!PQconsumeInput(c->conn)) {
            hr__pgc_note(c, "connection lost");
            hb_failed(s, "connection");
            return 0;
        }
        return 1;
    }
    return 0;
}

void hr__heartbeat_step(hr_stream *s)
{
    if (s->cfg->heartbeat_interval_ms == 0)
        return;
    if (s->state != HR__ST_STREAMING) {
        s->next_hb_at = 0;
        return;
    }
    if (!s->next_hb_at) {
        s->next_hb_at = s->now + interval_ns(s);
        s->hb_position = s->position;
    }
    int idle = s->hb.state != HR__PGC_NONE && hb_drive(s);
    if (hr__pgc_in_flight(&s->hb) &&
        s->now - s->hb_started > HR__HEARTBEAT_TIMEOUT_NS) {
        snprintf(
            s->hb.errbuf, sizeof s->hb.errbuf, "no answer after %llu ms",
            (unsigned long long)(HR__HEARTBEAT_TIMEOUT_NS / HR__NS_PER_MS));
        hb_failed(s, "timed out");
        return;
    }
    if (s->now < s->next_hb_at || s->now < s->hb_retry_at)
        return;
    /* Due. Would a heartbeat move anything? Not without a quiet tenant, and
     * not while transactions or keepalives move the position anyway. */
    if (!hr__any_quiet(s) || s->position > s->hb_position) {
        s->hb_position = s->position;
        s->next_hb_at = s->now + interval_ns(s);
        return;
    }
    if (s->hb.state == HR__PGC_NONE) {
        hb_connect(s); /* sends once connected, on a later step */
        return;
    }
    if (!idle)
        return; /* connecting, or the previous heartbeat is still out */
    char sql[HR__HEARTBEAT_SQL_MAX];
    hr__heartbeat_sql(s->position, sql);
    if (hr__pgc_send(&s->hb, sql) != HR_OK) {
        hb_failed(s, "send");
        return;
    }
    s->hb_started = s->now;
    s->next_hb_at = s->now + interval_ns(s);
}

void hr__heartbeat_arrived(hr_stream *s, uint64_t lsn)
{
    if (lsn > s->position)
        s->position = lsn;
    /* Our own heartbeat moving the position is no reason to skip the next. */
    if (s->position > s->hb_position)
        s->hb_position = s->position;
}

uint64_t hr__heartbeat_deadline(const hr_stream *s)
{
    if (s->cfg->heartbeat_interval_ms == 0 || s->state != HR__ST_STREAMING)
        return 0;
    if (hr__pgc_in_flight(&s->hb)) {
        /* +1: given up once strictly past the limit */
        uint64_t limit = s->hb_started + HR__HEARTBEAT_TIMEOUT_NS + 1;
        if (s->fds_watched) /* its socket wakes the host */
            return limit;
        return hr__deadline_min(limit, s->now + HR__HEARTBEAT_POLL_NS);
    }
    uint64_t d = s->next_hb_at ? s->next_hb_at : s->now;
    return d > s->hb_retry_at ? d : s->hb_retry_at;
}
