/*
 * pglive.c - helpers of the live figures, and pgoutput.live.rows_s (see
 * pglive.h).
 */
#include "pglive.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

/* ---- SQL ---- */

/* "database does not exist, skipping" and the like are no news here. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

PGconn *live_connect(const char *conninfo)
{
    PGconn *conn = PQconnectdb(conninfo);
    if (!conn || PQstatus(conn) != CONNECTION_OK)
        bench_die("cannot connect to the source",
                  conn ? PQerrorMessage(conn) : "out of memory");
    PQsetNoticeProcessor(conn, quiet, NULL);
    return conn;
}

void live_sql(PGconn *conn, const char *fmt, ...)
{
    char q[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof q)
        bench_die("statement too long", fmt);
    PGresult *res = PQexec(conn, q);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fprintf(stderr, "bench-pgoutput: %.300s\n", q);
        bench_die("statement failed", PQerrorMessage(conn));
    }
    PQclear(res);
}

void live_fresh_db(const char *conninfo, const char *name, char *out,
                   size_t outlen)
{
    PGconn *conn = live_connect(conninfo);
    live_sql(conn,
             "SELECT pg_drop_replication_slot(slot_name) FROM "
             "pg_replication_slots WHERE database = '%s'",
             name);
    live_sql(conn, "DROP DATABASE IF EXISTS %s", name);
    live_sql(conn, "CREATE DATABASE %s", name);
    PQfinish(conn);
    snprintf(out, outlen, "%s dbname=%s", conninfo, name);
}

void live_drop_db(const char *conninfo, const char *name)
{
    PGconn *conn = live_connect(conninfo);
    live_sql(conn,
             "SELECT pg_drop_replication_slot(slot_name) FROM "
             "pg_replication_slots WHERE database = '%s'",
             name);
    live_sql(conn, "DROP DATABASE IF EXISTS %s", name);
    PQfinish(conn);
}

uint64_t live_wal_lsn(PGconn *conn)
{
    PGresult *res = PQexec(conn, "SELECT pg_current_wal_lsn()");
    unsigned hi = 0, lo = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK ||
        sscanf(PQgetvalue(res, 0, 0), "%X/%X", &hi, &lo) != 2)
        bench_die("pg_current_wal_lsn", PQerrorMessage(conn));
    PQclear(res);
    return ((uint64_t)hi << 32) | lo;
}

/* ---- streams ---- */

static int sink_txn(void *ctx, const char *tenant, const hr_pgtxn *txn,
                    const hr_stream_change *changes, size_t n)
{
    live_sink *k = ctx;
    (void)changes;
    k->rows += (long)n;
    k->txns++;
    /* in dedicated mode the tenant argument may be NULL or its own */
    return hr_stream_confirm(k->stream, tenant, hr_pgtxn_end_lsn(txn));
}

hr_stream_callbacks live_callbacks(live_sink *k)
{
    hr_stream_callbacks cb = {HR_STREAM_CALLBACKS_VERSION, k, sink_txn, NULL};
    return cb;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void live_drive(hr_stream *const *v, size_t n, live_done_fn done, void *arg,
                double seconds)
{
    struct pollfd *p =
        bench_xrealloc(NULL, (n * HR_STREAM_FDS_MAX + 1) * sizeof *p);
    uint64_t deadline = now_ns() + (uint64_t)(seconds * 1e9);
    while (!done(arg)) {
        if (now_ns() > deadline)
            bench_die("live figure", "timed out");
        int64_t wait = 100;
        size_t np = 0;
        for (size_t i = 0; i < n; i++) {
            if (!v[i])
                continue;
            int rc = hr_stream_step(v[i], now_ns());
            if (rc != HR_OK)
                bench_die("hr_stream_step", hr_stream_errmsg(v[i]));
            int fd[HR_STREAM_FDS_MAX], in[HR_STREAM_FDS_MAX];
            int m = hr_stream_fds(v[i], fd, in, HR_STREAM_FDS_MAX);
            for (int k = 0; k < m && k < HR_STREAM_FDS_MAX; k++)
                p[np++] = (struct pollfd){
                    fd[k],
                    (short)(((in[k] & HR_POLL_IN) ? POLLIN : 0) |
                            ((in[k] & HR_POLL_OUT) ? POLLOUT : 0)),
                    0};
            int64_t t = hr_stream_timeout_ms(v[i], now_ns());
            if (t >= 0 && t < wait)
                wait = t;
        }
        if (done(arg))
            break;
        if (wait > 0 || np)
            poll(p, np, (int)wait);
    }
    free(p);
}

/* ---- the source's CPU ---- */

/* Fields 4 (ppid) and 14..17 (utime stime cutime cstime) of
 * /proc/<pid>/stat, and field 3 (state); 0 if the process is gone. */
static int proc_stat(int pid, int *ppid, char *state, unsigned long long t[4])
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = 0;
    const char *s = strrchr(buf, ')'); /* the command may hold spaces */
    if (!s)
        return 0;
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt
     * majflt cmajflt utime stime cutime cstime */
    int n = sscanf(s + 2,
                   "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu "
                   "%llu",
                   state, ppid, &t[0], &t[1], &t[2], &t[3]);
    return n == 6;
}

int live_postmaster(PGconn *conn)
{
    int pid = PQbackendPID(conn), ppid = 0;
    char state;
    unsigned long long t[4];
    if (!proc_stat(pid, &ppid, &state, t) || ppid <= 1)
        bench_die("cannot find the source's postmaster",
                  "is the server on this machine?");
    return ppid;
}

/* Call fn(pid) for every live child of the postmaster. */
static void children(int postmaster, void (*fn)(int pid, void *arg), void *arg)
{
    DIR *d = opendir("/proc");
    if (!d)
        bench_die("opendir /proc", NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        int pid = atoi(e->d_name), ppid;
        char state;
        unsigned long long t[4];
        if (proc_stat(pid, &ppid, &state, t) && ppid == postmaster)
            fn(pid, arg);
    }
    closedir(d);
}

static void add_cpu(int pid, void *arg)
{
    unsigned long long *sum = arg, t[4];
    int ppid;
    char state;
    if (proc_stat(pid, &ppid, &state, t))
        *sum += t[0] + t[1] + t[2] + t[3];
}

double live_src_cpu_s(int postmaster)
{
    unsigned long long sum = 0;
    add_cpu(postmaster, &sum);
    children(postmaster, add_cpu, &sum);
    return (double)sum / (double)sysconf(_SC_CLK_TCK);
}

static void count_walsender(int pid, void *arg)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    FILE *f = fopen(path, "r");
    size_t len = 0;
    if (f) {
        len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
    }
    buf[len] = 0;
    int ppid;
    char state = 0;
    unsigned long long t[4];
    proc_stat(pid, &ppid, &state, t);
    /* a zombie's time reaches the postmaster only once it is reaped */
    if (state == 'Z' || strstr(buf, "walsender"))
        ++*(int *)arg;
}

void live_walsenders_gone(int postmaster)
{
    uint64_t deadline = now_ns() + 30 * 1000000000ull;
    for (;;) {
        int left = 0;
        children(postmaster, count_walsender, &left);
        if (!left)
            return;
        if (now_ns() > deadline)
            bench_die("walsenders did not exit", NULL);
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
}

/* ---- pgoutput.live.rows_s ---- */

typedef struct rows_goal {
    const live_sink *k;
    long rows;
} rows_goal;

static int rows_reached(void *arg)
{
    const rows_goal *g = arg;
    return g->k->rows >= g->rows;
}

static int is_streaming(void *arg)
{
    return hr_stream_phase(arg) == HR_STREAM_PHASE_STREAMING;
}

static hr_stream *acme_stream(hr_env *env, const char *ci, live_sink *k)
{
    hr_stream_opts *o;
    bench_check(hr_stream_opts_new(env, &o), "hr_stream_opts_new");
    bench_check(hr_stream_opts_set_conninfo(o, ci), "conninfo");
    bench_check(hr_stream_opts_set_tenant(o, "acme"), "tenant");
    bench_check(hr_stream_opts_set_heartbeat_interval_ms(o, 0), "heartbeat");
    hr_stream_callbacks cb = live_callbacks(k);
    hr_stream *s;
    if (hr_stream_new(env, o, &cb, &s) != HR_OK)
        bench_die("hr_stream_new", hr_env_errmsg(env));
    hr_stream_opts_free(o);
    k->stream = s;
    return s;
}

void pglive_rows(hr_env *env, const char *conninfo, long rows)
{
    char ci[1024];
    live_fresh_db(conninfo, "bench_live", ci, sizeof ci);
    PGconn *conn = live_connect(ci);
    live_sql(conn, "CREATE TABLE orders (tenant_id text NOT NULL, id bigint "
                   "NOT NULL, created_at timestamptz NOT NULL, amount "
                   "numeric(12,2), quantity int, status text, note text, "
                   "PRIMARY KEY (tenant_id, id))");
    /* publication and slot first, so the slot holds the whole backlog */
    live_sink k = {0};
    hr_stream *s = acme_stream(env, ci, &k);
    live_drive(&s, 1, is_streaming, s, 60);
    hr_stream_free(s);

    double t0 = bench_now_s();
    const long per_txn = 1000;
    live_sql(conn,
             "DO $$ BEGIN FOR b IN 0..%ld LOOP "
             "INSERT INTO orders SELECT 'acme', g, timestamptz '2024-01-01' "
             "+ g * interval '1 second', (g %% 100000) / 100.0, 1 + g %% 20, "
             "(ARRAY['new','paid','shipped'])[1 + g %% 3], 'order note ' || "
             "g FROM generate_series(b * %ld + 1, (b + 1) * %ld) g; COMMIT; "
             "END LOOP; END $$",
             rows / per_txn - 1, per_txn, per_txn);
    fprintf(stderr,
            "bench-pgoutput: live backlog of %ld rows (%ld-row "
            "transactions) written in %.1f s\n",
            rows, per_txn, bench_now_s() - t0);

    int pm = live_postmaster(conn);
    double src0 = live_src_cpu_s(pm);
    double cpu0 = bench_cpu_s();
    t0 = bench_now_s();
    k = (live_sink){0};
    s = acme_stream(env, ci, &k);
    rows_goal g = {&k, rows};
    live_drive(&s, 1, rows_reached, &g, 600);
    double wall = bench_now_s() - t0;
    double cpu = bench_cpu_s() - cpu0;
    hr_stream_free(s);
    live_walsenders_gone(pm);
    double src = live_src_cpu_s(pm) - src0;
    if (k.rows != rows)
        bench_die("live backlog", "wrong row count");
    printf("pgoutput.live.rows_s %.0f rows/s\n", (double)rows / wall);
    printf("pgoutput.live.client_cpu_s %.2f s\n", cpu);
    printf("pgoutput.live.src_cpu_s %.2f s\n", src);
    fflush(stdout);
    PQfinish(conn);
    live_drop_db(conninfo, "bench_live");
}
