/*
 * stream_conn.c - the replication connection's state machine.
 *
 *   IDLE --(reconnect_at passed)--> CONNECTING --(PQconnectPoll OK)-->
 *   PROBE -> TABLES -> [PUBLICATION] -> [SLOT -> [SNAPSHOT]] -> [HELD] -> START
 *   -> STREAMING
 *
 * Any failure on the way, or a lost connection while streaming, goes
 * through hr__stream_lost: close, reset the decoder (open transactions are
 * sent again from their start; relations are kept so a definition that
 * changed meanwhile is still reported), back off (100 ms doubling to 30 s,
 * back to 100 ms once data flows), then IDLE. Transient losses (connection
 * errors, a walsender terminated, a slot still held by the previous
 * walsender) make step return HR_OK; the others are returned once per
 * attempt while the stream keeps retrying. A failure no retry can cure -
 * the slot vanished - goes through hr__stream_shut instead: CLOSED for
 * good, every later step returns it again.
 *
 * Streaming reads every CopyData message libpq has (PQconsumeInput, then
 * PQgetCopyData(conn, &buf, 1) until it returns 0) and feeds it to the
 * decoder, whose callbacks hand the transactions over; then feedback.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "stream_internal.h"

void hr__stream_close(hr_stream *s)
{
    if (s->repl.conn && s->repl.state != HR__PGC_NONE &&
        s->repl.state != HR__PGC_CONNECTING)
        s->backend_pid = PQbackendPID(s->repl.conn);
    hr__pgc_close(&s->repl);
    hr__pgc_close(&s->hb);
    hr_pgdecoder_reset(s->dec, 1);
    hr__setup_clear_tables(s);
    s->more_pending = 0;
    s->status_now = 0;
    s->status_blocked = 0;
}

int hr__stream_lost(hr_stream *s, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hr__vfail(&s->error, code == HR_EAGAIN ? HR_EIO : code, fmt, ap);
    va_end(ap);
    if (s->state == HR__ST_SNAPSHOT && s->snap == HR__SNAP_HELD) {
        s->snap = HR__SNAP_LOST;
        code = HR_ESTATE; /* the host must act: release or start over */
        size_t n = strlen(s->error.message);
        snprintf(s->error.message + n, sizeof s->error.message - n,
                 "; the exported snapshot %s is gone with that connection: "
                 "release it (hr_stream_release_snapshot) to stream from the "
                 "slot, or drop the stream and start over",
                 s->snapshot_name ? s->snapshot_name : "");
        s->error.code = code;
    }
    hr__stream_close(s);
    s->state = HR__ST_IDLE;
    s->reconnect_at = s->now + s->backoff_ns;
    hr__log(s->env, code == HR_EAGAIN ? HR_LOG_WARN : HR_LOG_ERROR,
            "stream %s: %s; reconnecting in %llu ms", s->cfg->slot,
            s->error.message,
            (unsigned long long)(s->backoff_ns / HR__NS_PER_MS));
    s->backoff_ns *= 2;
    if (s->backoff_ns > HR__BACKOFF_MAX_NS)
        s->backoff_ns = HR__BACKOFF_MAX_NS;
    return code == HR_EAGAIN ? HR_OK : code;
}

int hr__stream_shut(hr_stream *s, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hr__vfail(&s->error, code, fmt, ap);
    va_end(ap);
    hr__stream_close(s);
    s->state = HR__ST_CLOSED;
    s->closed = s->error;
    hr__log(s->env, HR_LOG_ERROR, "stream %s: %s; the stream is closed",
            s->cfg->slot, s->error.message);
    return code;
}

int hr__stream_connect(hr_stream *s)
{
    const char **keys, **vals;
    void *storage;
    int rc = hr__conn_params(s->env, s->cfg->conninfo, 1, "heliosrepl", &keys,
                             &vals, &storage, &s->error);
    if (rc != HR_OK) {
        s->reconnect_at = s->now + s->backoff_ns;
        return rc;
    }
    rc = hr__pgc_start(&s->repl, s->env, keys, vals);
    hr__free(s->env, storage); /* libpq copied what it needs */
    s->reconnects++;
    if (rc == HR_ENOMEM) {
        s->reconnect_at = s->now + s->backoff_ns;
        return hr__fail(&s->error, HR_ENOMEM, "out of memory");
    }
    s->state = HR__ST_CONNECTING;
    s->connect_started = s->now;
    if (rc != HR_OK)
        return hr__stream_lost(s, HR_EAGAIN, "cannot connect: %s",
                               s->repl.errbuf);
    return HR_OK;
}

/* The copy ended or failed: why, from the final result if it is there. */
static int copy_ended(hr_stream *s, const char *how)
{
    PGconn *conn = s->repl.conn;
    PGresult *res = NULL;
    if (PQconsumeInput(conn) && !PQisBusy(conn))
        res = PQgetResult(conn);
    if (res && PQresultStatus(res) == PGRES_FATAL_ERROR) {
        const char *sqlstate;
        int code = hr__classify_error(res, &sqlstate);
        const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        int rc = hr__stream_lost(s, code, "replication %s: %s (SQLSTATE %s)",
                                 how, msg ? msg : "error", sqlstate);
        PQclear(res);
        return rc;
    }
    if (res)
        PQclear(res);
    return hr__stream_lost(s, HR_EAGAIN, "replication %s: %s", how,
                           hr__pgc_note(&s->repl, "the server ended the copy"));
}

static int stream_read(hr_stream *s)
{
    PGconn *conn = s->repl.conn;
    int lost = !PQconsumeInput(conn);
    int budget = HR__READ_BUDGET;
    s->more_pending = 0;
    for (;;) {
        char *buf = NULL;
        int n = PQgetCopyData(conn, &buf, 1);
        if (n > 0) {
            s->backoff_ns = HR__BACKOFF_FIRST_NS; /* data flows again */
            int rc = hr__stream_feed(s, (const uint8_t *)buf, (size_t)n);
            PQfreemem(buf);
            if (rc != HR_OK) {
                char why[HR__ERRMSG_MAX];
                snprintf(why, sizeof why, "%s", s->error.message);
                return hr__stream_lost(s, rc, "%s", why);
            }
            if (--budget == 0) {
                s->more_pending = 1; /* yield; timeout 0 brings us back */
                break;
            }
            continue;
        }
        if (n == 0)
            break;
        return copy_ended(s, n == -1 ? "ended" : "failed");
    }
    if (lost)
        return copy_ended(s, "connection lost");
    if (hr__feedback_step(s) != HR_OK)
        return hr__stream_lost(s, HR_EAGAIN, "status update: %s",
                               s->repl.errbuf);
    return HR_OK;
}

int hr__stream_advance(hr_stream *s, int *progressed)
{
    *progressed = 0;
    switch (s->state) {
    case HR__ST_IDLE:
        if (s->snap == HR__SNAP_LOST || s->now < s->reconnect_at)
            return HR_OK;
        *progressed = 1;
        return hr__stream_connect(s);
    case HR__ST_CONNECTING: {
        int rc = hr__pgc_connect_poll(&s->repl);
        if (rc == HR_EAGAIN) {
            if (s->now - s->connect_started > HR__CONNECT_TIMEOUT_NS)
                return hr__stream_lost(s, HR_EAGAIN,
                                       "cannot connect: timed out");
            return HR_OK;
        }
        *progressed = 1;
        if (rc != HR_OK)
            return hr__stream_lost(s, rc == HR_EAUTH ? HR_EAUTH : HR_EAGAIN,
                                   "cannot connect: %s", s->repl.errbuf);
        s->backend_pid = PQbackendPID(s->repl.conn);
        return hr__setup_begin(s);
    }
    case HR__ST_PROBE:
    case HR__ST_TABLES:
    case HR__ST_PUBLICATION:
    case HR__ST_SLOT:
    case HR__ST_START: {
        PGresult *res = NULL;
        int rc = hr__pgc_collect(&s->repl, &res);
        if (rc == HR_EAGAIN)
            return HR_OK;
        *progressed = 1;
        if (rc != HR_OK)
            return hr__stream_lost(s, HR_EAGAIN,
                                   "connection lost during "
                                   "setup: %s",
                                   s->repl.errbuf);
        return hr__setup_result(s, res);
    }
    case HR__ST_SNAPSHOT:
    case HR__ST_HELD:
        if ((s->state == HR__ST_SNAPSHOT && s->snap == HR__SNAP_RELEASED) ||
            (s->state == HR__ST_HELD && !s->held)) {
            *progressed = 1;
            return hr__setup_start(s);
        }
        /* Idle while the host copies or the tenant catches up; notice if
         * the connection dies (hr__stream_lost reports a held snapshot as
         * lost: HR_ESTATE; a held start just reconnects and holds again). */
        if (!PQconsumeInput(s->repl.conn) ||
            PQstatus(s->repl.conn) == CONNECTION_BAD) {
            *progressed = 1;
            return hr__stream_lost(s, HR_EAGAIN, "%s",
                                   hr__pgc_note(&s->repl, "connection lost"));
        }
        return HR_OK;
    case HR__ST_STREAMING:
        return stream_read(s);
    case HR__ST_CLOSED:
        s->error = s->closed;
        return s->closed.code;
    }
    return HR_EINTERNAL;
}
