/*
 * stream_pgconn.c - a libpq connection driven without blocking: connect
 * with PQconnectStartParams / PQconnectPoll, one query at a time with
 * PQsendQuery + PQconsumeInput / PQisBusy / PQgetResult, output flushed
 * with PQflush and write interest while it returns 1.
 *
 * PQconnectPoll is called only once the socket is ready in the direction
 * it asked for (checked with a zero-timeout poll), as libpq requires: in
 * some phases it writes on a socket that is not yet in non-blocking mode.
 */
#include <poll.h>
#include <string.h>

#include "stream_internal.h"

/* ---- connection parameters ---- */

typedef struct param {
    const char *key;
    const char *val;
} param;

int hr__conn_params(const hr_env *env, const char *conninfo, int replication,
                    const char *application_name, const char ***keys,
                    const char ***vals, void **storage, hr__error *err)
{
    *keys = *vals = NULL;
    *storage = NULL;
    char *why = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &why);
    if (!opts) {
        int rc = why ? hr__fail(err, HR_EINVAL, "conninfo: %s", why)
                     : hr__fail(err, HR_ENOMEM, "out of memory");
        PQfreemem(why);
        return rc;
    }
    /* Count the given parameters and the bytes of their strings. */
    size_t n = 0, bytes = 0;
    const char *user_options = NULL, *user_app = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (!strcmp(o->keyword, "options")) {
            user_options = o->val;
            continue;
        }
        if (!strcmp(o->keyword, "replication"))
            continue;
        if (!strcmp(o->keyword, "application_name"))
            user_app = o->val;
        n++;
        bytes += strlen(o->keyword) + strlen(o->val) + 2;
    }
    /* + options, replication, application_name, terminator */
    size_t slots = n + 4;
    size_t options_len = strlen(HR__SESSION_OPTIONS) +
                         (user_options ? strlen(user_options) + 1 : 0) + 1;
    bytes += options_len + strlen(application_name) + 1;
    char *block = hr__malloc(env, 2 * slots * sizeof(char *) + bytes);
    if (!block) {
        PQconninfoFree(opts);
        return hr__fail(err, HR_ENOMEM, "out of memory");
    }
    const char **k = (const char **)(void *)block;
    const char **v = k + slots;
    char *heap = (char *)(v + slots);
    size_t i = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || !strcmp(o->keyword, "options") ||
            !strcmp(o->keyword, "replication"))
            continue;
        size_t kl = strlen(o->keyword) + 1, vl = strlen(o->val) + 1;
        memcpy(heap, o->keyword, kl);
        k[i] = heap;
        heap += kl;
        memcpy(heap, o->val, vl);
        v[i] = heap;
        heap += vl;
        i++;
    }
    /* Our session settings after the host's, so ours win. */
    char *options = heap;
    options[0] = '\0';
    if (user_options) {
        strcpy(options, user_options);
        strcat(options, " ");
    }
    strcat(options, HR__SESSION_OPTIONS);
    heap += options_len;
    k[i] = "options";
    v[i++] = options;
    if (!user_app) {
        size_t al = strlen(application_name) + 1;
        memcpy(heap, application_name, al);
        k[i] = "application_name";
        v[i++] = heap;
    }
    if (replication) {
        k[i] = "replication";
        v[i++] = "database";
    }
    k[i] = NULL;
    v[i] = NULL;
    PQconninfoFree(opts);
    *keys = k;
    *vals = v;
    *storage = block;
    return HR_OK;
}

/* ---- the connection ---- */

const char *hr__pgc_note(hr__pgc *c, const char *fallback)
{
    const char *m = c->conn ? PQerrorMessage(c->conn) : NULL;
    if (!m || !*m)
        m = fallback;
    /* One line: libpq messages end in "\n" and may carry several lines. */
    size_t n = strcspn(m, "\n");
    if (n >= sizeof c->errbuf)
        n = sizeof c->errbuf - 1;
    memcpy(c->errbuf, m, n);
    c->errbuf[n] = '\0';
    return c->errbuf;
}

void hr__pgc_close(hr__pgc *c)
{
    if (c->result)
        PQclear(c->result);
    c->result = NULL;
    if (c->conn)
        PQfinish(c->conn);
    c->conn = NULL;
    c->state = HR__PGC_NONE;
    c->poll_write = 0;
    c->flush_pending = 0;
}

static void notice(void *arg, const char *message)
{
    const hr_env *env = arg;
    hr__log(env, HR_LOG_DEBUG, "server: %.*s", (int)strcspn(message, "\n"),
            message);
}

void hr__pg_route_notices(PGconn *conn, const hr_env *env)
{
    PQsetNoticeProcessor(conn, notice, (void *)(uintptr_t)env);
}

int hr__pgc_start(hr__pgc *c, const hr_env *env, const char *const *keys,
                  const char *const *vals)
{
    hr__pgc_close(c);
    c->conn = PQconnectStartParams(keys, vals, 0);
    if (!c->conn) {
        hr__pgc_note(c, "out of memory");
        return HR_ENOMEM;
    }
    hr__pg_route_notices(c->conn, env);
    if (PQstatus(c->conn) == CONNECTION_BAD) {
        hr__pgc_note(c, "cannot start the connection");
        hr__pgc_close(c);
        return HR_EIO;
    }
    /* libpq: act as if PQconnectPoll had returned PGRES_POLLING_WRITING. */
    c->state = HR__PGC_CONNECTING;
    c->poll_write = 1;
    return HR_OK;
}

/* Whether the socket is ready for `events` right now (never waits). */
static int socket_ready(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events, .revents = 0};
    return poll(&p, 1, 0) > 0;
}

/* A connection failure caused by credentials or authorization. libpq has no
 * SQLSTATE for connection failures; these phrases are the server's (English)
 * and libpq's own. */
static int looks_like_auth(PGconn *conn, const char *msg)
{
    static const char *const phrases[] = {
        "authentication failed",
        "no pg_hba.conf entry",
        "password",
        "permission denied",
        "must be superuser or replication role",
        "must have the REPLICATION attribute"};
    if (PQconnectionNeedsPassword(conn))
        return 1;
    for (size_t i = 0; i < sizeof phrases / sizeof phrases[0]; i++)
        if (strstr(msg, phrases[i]))
            return 1;
    return strstr(msg, "role \"") && strstr(msg, "does not exist");
}

int hr__pgc_connect_poll(hr__pgc *c)
{
    if (c->state != HR__PGC_CONNECTING)
        return HR_EIO;
    int fd = PQsocket(c->conn);
    if (fd >= 0 && !socket_ready(fd, c->poll_write ? POLLOUT : POLLIN))
        return HR_EAGAIN;
    switch (PQconnectPoll(c->conn)) {
    case PGRES_POLLING_READING:
        c->poll_write = 0;
        return HR_EAGAIN;
    case PGRES_POLLING_WRITING:
        c->poll_write = 1;
        return HR_EAGAIN;
    case PGRES_POLLING_OK:
        if (PQsetnonblocking(c->conn, 1) != 0) {
            hr__pgc_note(c, "cannot set non-blocking mode");
            hr__pgc_close(c);
            return HR_EIO;
        }
        c->state = HR__PGC_IDLE;
        c->poll_write = 0;
        return HR_OK;
    default: {
        const char *m = hr__pgc_note(c, "connection failed");
        int rc = looks_like_auth(c->conn, m) ? HR_EAUTH : HR_EIO;
        /* keep errbuf, drop the connection */
        PQfinish(c->conn);
        c->conn = NULL;
        c->state = HR__PGC_NONE;
        return rc;
    }
    }
}

int hr__pgc_flush(hr__pgc *c)
{
    if (!c->conn)
        return HR_EIO;
    int r = PQflush(c->conn);
    if (r < 0) {
        hr__pgc_note(c, "cannot send");
        return HR_EIO;
    }
    c->flush_pending = r == 1;
    return HR_OK;
}

int hr__pgc_send(hr__pgc *c, const char *sql)
{
    if (c->state != HR__PGC_IDLE || !PQsendQuery(c->conn, sql)) {
        hr__pgc_note(c, "cannot send the query");
        return HR_EIO;
    }
    c->state = HR__PGC_BUSY;
    return hr__pgc_flush(c);
}

int hr__pgc_collect(hr__pgc *c, PGresult **out)
{
    *out = NULL;
    if (c->state != HR__PGC_BUSY)
        return HR_EIO;
    if (c->flush_pending && hr__pgc_flush(c) != HR_OK)
        return HR_EIO;
    /* After a failed read, PQisBusy still parses what arrived before it
     * (often the server's reason, e.g. "terminating connection"). */
    int lost = !PQconsumeInput(c->conn);
    if (lost)
        hr__pgc_note(c, "connection lost");
    while (!PQisBusy(c->conn)) {
        PGresult *r = PQgetResult(c->conn);
        if (!r) {
            c->state = HR__PGC_IDLE;
            *out = c->result;
            c->result = NULL;
            if (!*out) {
                hr__pgc_note(c, "the query returned no result");
                return HR_EIO;
            }
            return HR_OK;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_COPY_BOTH || st == PGRES_COPY_OUT ||
            st == PGRES_COPY_IN) {
            /* The copy has begun: there is no further result to wait for. */
            if (c->result)
                PQclear(c->result);
            c->result = NULL;
            c->state = HR__PGC_COPY;
            *out = r;
            return HR_OK;
        }
        /* Keep the first failure; otherwise the last result. */
        if (c->result && PQresultStatus(c->result) == PGRES_FATAL_ERROR) {
            PQclear(r);
        } else {
            if (c->result)
                PQclear(c->result);
            c->result = r;
        }
        if (PQstatus(c->conn) == CONNECTION_BAD)
            break;
    }
    if (lost || PQstatus(c->conn) == CONNECTION_BAD) {
        if (c->result && PQresultStatus(c->result) == PGRES_FATAL_ERROR) {
            /* the server said why before it went away */
            c->state = HR__PGC_IDLE;
            *out = c->result;
            c->result = NULL;
            return HR_OK;
        }
        if (!lost)
            hr__pgc_note(c, "connection lost");
        return HR_EIO;
    }
    return HR_EAGAIN;
}

int hr__pgc_fd(const hr__pgc *c)
{
    return c->conn && c->state != HR__PGC_NONE ? PQsocket(c->conn) : -1;
}

int hr__pgc_in_flight(const hr__pgc *c)
{
    return c->state == HR__PGC_CONNECTING || c->state == HR__PGC_BUSY ||
           (c->state != HR__PGC_NONE && c->flush_pending);
}

int hr__pgc_interest(const hr__pgc *c)
{
    switch (c->state) {
    case HR__PGC_CONNECTING:
        return c->poll_write ? HR_POLL_OUT : HR_POLL_IN;
    case HR__PGC_IDLE:
    case HR__PGC_BUSY:
    case HR__PGC_COPY:
        return HR_POLL_IN | (c->flush_pending ? HR_POLL_OUT : 0);
    default:
        return 0;
    }
}

/* ---- error classification ---- */

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int hr__classify_sqlstate(const char *st)
{
    if (!st || !*st || starts(st, "08") || starts(st, "57P") ||
        !strcmp(st, "55006")    /* object in use: the slot is still active */
        || !strcmp(st, "55P03") /* lock not available */
        || !strcmp(st, "40001") || !strcmp(st, "40P01"))
        return HR_EAGAIN;
    if (!strcmp(st, "53400")) /* configuration limit: max slots, senders */
        return HR_ELIMIT;
    if (starts(st, "53")) /* out of connections, memory, disk: for now */
        return HR_EAGAIN;
    if (starts(st, "28") || !strcmp(st, "42501"))
        return HR_EAUTH;
    if (!strcmp(st, "42P01") || !strcmp(st, "42703") || !strcmp(st, "42704"))
        return HR_ESCHEMA;
    /* object not in prerequisite state: wal_level, a slot of another
     * database, an invalidated slot */
    if (starts(st, "55"))
        return HR_ESTATE;
    if (starts(st, "0A")) /* feature not supported */
        return HR_EUNSUPPORTED;
    return HR_EIO; /* unexpected: the SQLSTATE goes into the message */
}

int hr__classify_error(const PGresult *res, const char **sqlstate)
{
    const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!st)
        st = "";
    *sqlstate = st;
    return hr__classify_sqlstate(st);
}
