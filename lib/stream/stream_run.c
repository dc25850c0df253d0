/*
 * stream_run.c - the two blocking conveniences: hr_stream_run, a poll(2)
 * loop around hr_stream_step, and hr_stream_drop.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stream_internal.h"

static short poll_events(int interest)
{
    return (short)(((interest & HR_POLL_IN) ? POLLIN : 0) |
                   ((interest & HR_POLL_OUT) ? POLLOUT : 0));
}

HR_API int hr_stream_run(hr_stream *s, int64_t timeout_ms)
{
    if (!s)
        return HR_EINVAL;
    if (s->in_callback)
        return hr__fail(&s->error, HR_ESTATE,
                        "hr_stream_run called from inside a stream callback");
    uint64_t start = hr_env_monotonic_ns(s->env);
    uint64_t deadline = timeout_ms < 0
                            ? UINT64_MAX
                            : start + (uint64_t)timeout_ms * HR__NS_PER_MS;
    for (;;) {
        uint64_t now = hr_env_monotonic_ns(s->env);
        int rc = hr_stream_step(s, now);
        if (rc != HR_OK)
            return rc;
        now = hr_env_monotonic_ns(s->env);
        if (now >= deadline)
            return HR_OK;
        int64_t wait = hr_stream_timeout_ms(s, now);
        int64_t left =
            deadline == UINT64_MAX ? INT_MAX : hr__ms_until(deadline, now);
        if (wait < 0 || wait > left)
            wait = left;
        if (wait > INT_MAX)
            wait = INT_MAX;
        /* Every socket the stream waits on, as any host loop would. */
        int fd[HR_STREAM_FDS_MAX], interest[HR_STREAM_FDS_MAX];
        int n = hr_stream_fds(s, fd, interest, HR_STREAM_FDS_MAX);
        if (n < 0)
            return n;
        if (n > HR_STREAM_FDS_MAX)
            return hr__fail(&s->error, HR_EINTERNAL,
                            "hr_stream_fds reports %d sockets", n);
        struct pollfd fds[HR_STREAM_FDS_MAX];
        for (int k = 0; k < n; k++) {
            fds[k].fd = fd[k];
            fds[k].events = poll_events(interest[k]);
            fds[k].revents = 0;
        }
        if (poll(fds, (nfds_t)n, (int)wait) < 0 && errno != EINTR)
            return hr__fail(&s->error, HR_EIO, "poll: %s", strerror(errno));
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Run `sql`; HR_OK, or the classified failure with the message set and
 * the SQLSTATE copied into sqlstate[6] ("" if none). */
static int exec_sql(hr_stream *s, PGconn *conn, const char *sql,
                    char sqlstate[6])
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    sqlstate[0] = '\0';
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        PQclear(res);
        return HR_OK;
    }
    const char *state;
    int code = hr__classify_error(res, &state);
    snprintf(sqlstate, 6, "%s", state);
    if (code == HR_EAGAIN)
        code = HR_EIO;
    const char *m = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
    hr__fail(&s->error, code, "%.*s", (int)strcspn(m, "\n"), m);
    PQclear(res);
    return code;
}

/* The PID holding the slot, 0 when none (or the slot is gone), -1 on error. */
static int slot_holder(PGconn *conn, const hr_stream *s)
{
    hr__sbuf b;
    hr__sbuf_init(&b, s->env);
    hr__sbuf_add(&b, "SELECT active_pid FROM pg_catalog.pg_replication_slots "
                     "WHERE slot_name = ");
    hr__sbuf_literal(&b, conn, s->cfg->slot);
    char *sql = NULL;
    if (hr__sbuf_take(&b, &sql) != HR_OK)
        return -1;
    PGresult *res = PQexec(conn, sql);
    hr__free(s->env, sql);
    int pid = -1;
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK)
        pid = PQntuples(res) == 0 || PQgetisnull(res, 0, 0)
                  ? 0
                  : (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return pid;
}

typedef void (*drop_sql_fn)(hr__sbuf *, PGconn *, const hr_stream_opts *);

static int build(hr_stream *s, PGconn *conn, drop_sql_fn fn, char **sql)
{
    hr__sbuf b;
    hr__sbuf_init(&b, s->env);
    fn(&b, conn, s->cfg);
    int rc = hr__sbuf_take(&b, sql);
    return rc == HR_OK ? rc : hr__fail(&s->error, rc, "cannot build SQL");
}

static int drop_slot(hr_stream *s, PGconn *conn, int own_pid)
{
    char *sql = NULL;
    int rc = build(s, conn, hr__sql_drop_slot, &sql);
    if (rc != HR_OK)
        return rc;
    /* Our own walsender may take a moment to exit after the close. */
    for (int attempt = 0;; attempt++) {
        char sqlstate[6];
        rc = exec_sql(s, conn, sql, sqlstate);
        if (rc == HR_OK || strcmp(sqlstate, "55006") != 0)
            break;
        int holder = slot_holder(conn, s);
        if (holder == 0)
            continue; /* released meanwhile: try again now */
        if (holder != own_pid || attempt >= 100) {
            rc = hr__fail(&s->error, HR_ESTATE,
                          "replication slot %s is in use by PID %d",
                          s->cfg->slot, holder);
            break;
        }
        sleep_ms(100);
    }
    hr__free(s->env, sql);
    return rc;
}

HR_API int hr_stream_drop(hr_stream *s)
{
    if (!s)
        return HR_EINVAL;
    if (s->in_callback)
        return hr__fail(&s->error, HR_ESTATE,
                        "hr_stream_drop called from inside a stream callback");
    hr__stream_close(s);
    int own_pid = s->backend_pid;
    s->state = HR__ST_CLOSED;
    hr__fail(&s->closed, HR_ECLOSED, "the stream was dropped (hr_stream_drop)");

    const char **keys, **vals;
    void *storage;
    int rc = hr__conn_params(s->env, s->cfg->conninfo, 0, "heliosrepl-drop",
                             &keys, &vals, &storage, &s->error);
    if (rc != HR_OK)
        return rc;
    PGconn *conn = PQconnectdbParams(keys, vals, 0);
    hr__free(s->env, storage);
    if (!conn)
        return hr__fail(&s->error, HR_ENOMEM, "out of memory");
    hr__pg_route_notices(conn, s->env);
    if (PQstatus(conn) != CONNECTION_OK) {
        const char *m = PQerrorMessage(conn);
        rc = hr__fail(&s->error,
                      PQconnectionNeedsPassword(conn) ? HR_EAUTH : HR_EIO,
                      "cannot connect: %.*s", (int)strcspn(m, "\n"), m);
        PQfinish(conn);
        return rc;
    }
    rc = drop_slot(s, conn, own_pid);
    if (rc == HR_OK) {
        char *sql = NULL;
        char sqlstate[6];
        rc = build(s, conn, hr__sql_drop_publication, &sql);
        if (rc == HR_OK)
            rc = exec_sql(s, conn, sql, sqlstate);
        hr__free(s->env, sql);
    }
    PQfinish(conn);
    if (rc == HR_OK) {
        hr__error_clear(&s->error);
        hr__log(s->env, HR_LOG_INFO,
                "stream %s: slot and publication %s "
                "dropped",
                s->cfg->slot, s->cfg->publication);
    }
    return rc;
}
