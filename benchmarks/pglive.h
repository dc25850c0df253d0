/*
 * pglive.h - the live figures of bench-pgoutput, against a real source
 * PostgreSQL (the one ./scripts/bench starts through tests/support/
 * with-servers; its conninfo in HR_TEST_PG_SOURCE):
 *
 *   pglive_rows     pgoutput.live.rows_s: a backlog of 1 million rows (1000-
 *                   row transactions) of one tenant, created first, then
 *                   drained by a dedicated hr_stream that confirms every
 *                   transaction; rows/s from hr_stream_new to the last row
 *   pglive_tenants  pgoutput.tenants100.{shared,dedicated}_src_cpu_s: 100
 *                   tenants' rows (multi-tenant transactions) replicated
 *                   once through one shared stream and once through 100
 *                   dedicated streams; the source server's CPU seconds for
 *                   each
 *
 * Plus the helpers both share: SQL that must succeed, a fresh database,
 * driving many streams from one poll loop, and the source's CPU time.
 * Fatal errors go through bench_die.
 */
#ifndef HR_BENCH_PGLIVE_H
#define HR_BENCH_PGLIVE_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include <heliosrepl/heliosrepl.h>
#include <heliosrepl/stream.h>

/* `rows`: backlog size (1,000,000; less with --quick). */
void pglive_rows(hr_env *env, const char *conninfo, long rows);
/* `tenants` x `rows_per_tenant` rows. */
void pglive_tenants(hr_env *env, const char *conninfo, int tenants,
                    long rows_per_tenant);

/* ---- helpers (pglive.c) ---- */

PGconn *live_connect(const char *conninfo);
void live_sql(PGconn *conn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A fresh database `name`; its conninfo into out. */
void live_fresh_db(const char *conninfo, const char *name, char *out,
                   size_t outlen);
/* Drop database `name` and its slots. */
void live_drop_db(const char *conninfo, const char *name);
/* pg_current_wal_lsn(). */
uint64_t live_wal_lsn(PGconn *conn);

/* Counts what a stream hands over and confirms each transaction. */
typedef struct live_sink {
    hr_stream *stream;
    long rows;
    long txns;
} live_sink;

hr_stream_callbacks live_callbacks(live_sink *k);

/* Step every stream of v[0..n) (NULL entries skipped) from one poll loop
 * until done(arg) or `seconds` pass (then die). */
typedef int (*live_done_fn)(void *arg);
void live_drive(hr_stream *const *v, size_t n, live_done_fn done, void *arg,
                double seconds);

/* The source's postmaster, found from a backend of `conn`. */
int live_postmaster(PGconn *conn);
/* CPU seconds of the postmaster and every process it forked, live or
 * reaped (/proc: utime + stime + cutime + cstime). */
double live_src_cpu_s(int postmaster);
/* Wait until no walsender of the postmaster is left, reaped (so its CPU
 * time is in the postmaster's cutime / cstime). */
void live_walsenders_gone(int postmaster);

#endif
