/*
 * bench_e2e.c - end-to-end catch-up: a backlog of one tenant's rows (with
 * as many rows of another tenant interleaved) replicated from a source
 * PostgreSQL to a target PostgreSQL, by our pipeline (stream -> codec ->
 * in-process transport -> codec -> applier, as heliosrepl-agent runs it)
 * and, in the same run on the same servers, by PostgreSQL's own logical
 * replication (a publication with the same row filter; a subscription
 * created disabled, then enabled).
 *
 * Each side catches up the same backlog five times (HR_E2E_REPS=N: N
 * times, N odd, at most 9; its own slot or
 * subscription each time, interleaved ours / native and alternating which
 * goes first, so load from other processes on the machine and order
 * effects hit both alike); the figures are medians. Time
 * runs from connecting (ours) or ALTER SUBSCRIPTION ... ENABLE (native)
 * until the tenant's last row is committed on the target.
 *
 * Without HR_TEST_PG_SOURCE / HR_TEST_PG_TARGET in the environment it runs
 * itself under tests/support/with-servers. Prints, per transaction size T
 * (1000 and 10 rows of the tenant per source transaction):
 *   e2e.txnT.rows_s, e2e.txnT.native_rows_s, e2e.txnT.ratio_vs_native
 * and e2e.wire_ratio: raw pgoutput bytes of the tenant's changes (what a
 * walsender sends for them) over the bytes our frames took on the wire.
 *
 * Usage: bench-e2e [ROWS]   (default 200000 rows of the tenant per size)
 * Experiments on our side (defaults are the agent's): HR_E2E_BINARY=1
 * (pgoutput binary values), HR_E2E_DICT=0 (no zstd dictionaries),
 * HR_E2E_LEVEL=N (zstd level), HR_E2E_SNAPPY=1 (snappy, not zstd),
 * HR_E2E_COALESCE=0 (one unit per source transaction; default 1: the
 * transactions of a stream step as one unit, as the agent),
 * HR_E2E_LOWAT=BYTES (default 65536, as the agent: while transactions
 * come, the replication socket wakes the loop only from this many bytes on,
 * or every 5 ms - fewer wake-ups, which on a 2-core machine preempt the
 * walsender we wait for; 0 or 1: wake for every segment).
 *
 * bench-servers: --pg source --pg target
 */
#define _GNU_SOURCE /* usleep */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include <heliosrepl/apply.h>
#include <heliosrepl/heliosrepl.h>

#include "support.h"
#include "e2e_pipe.h"

#ifndef HR_WITH_SERVERS
#define HR_WITH_SERVERS "tests/support/with-servers"
#endif

static const char *source_ci, *target_ci;

static PGconn *connect_db(const char *conninfo, const char *dbname)
{
    char ci[2048];
    if (dbname)
        snprintf(ci, sizeof ci, "%s dbname=%s", conninfo, dbname);
    else
        snprintf(ci, sizeof ci, "%s", conninfo);
    PGconn *c = PQconnectdb(ci);
    if (PQstatus(c) != CONNECTION_OK)
        bench_die("connect", PQerrorMessage(c));
    return c;
}

static void exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        bench_die(sql, PQerrorMessage(c));
    PQclear(r);
}

static char *query1(PGconn *c, const char *sql, char *out, size_t n)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1)
        bench_die(sql, PQerrorMessage(c));
    snprintf(out, n, "%s", PQgetisnull(r, 0, 0) ? "" : PQgetvalue(r, 0, 0));
    PQclear(r);
    return out;
}

static const char table_ddl[] =
    "CREATE SCHEMA IF NOT EXISTS bench;"
    "CREATE TABLE IF NOT EXISTS bench.items ("
    " tenant_id text NOT NULL, id bigint NOT NULL, qty int NOT NULL,"
    " price numeric(12,2) NOT NULL, name text NOT NULL,"
    " created_at timestamptz NOT NULL, attrs jsonb,"
    " PRIMARY KEY (tenant_id, id))";

/* T rows of `a` and T of `b`, alternating, per source transaction. */
static const char load_proc[] =
    "CREATE OR REPLACE PROCEDURE bench.load(t int, total int, a text, b text)"
    " LANGUAGE plpgsql AS $$"
    " DECLARE base bigint := 0; BEGIN"
    " WHILE base < total LOOP"
    "  INSERT INTO bench.items"
    "  SELECT CASE WHEN g % 2 = 0 THEN a ELSE b END, base + g / 2, g % 97,"
    "         round(((base + g) % 100000 / 7.0)::numeric, 2),"
    "         'item ' || ((base + g) % 5000),"
    "         timestamptz '2025-01-01 00:00+00' + (base + g) * interval '1 "
    "second',"
    "         jsonb_build_object('color', (ARRAY['red','green','blue'])[1 + g "
    "% 3],"
    "                            'size', g % 9)"
    "  FROM generate_series(0, 2 * t - 1) g;"
    "  COMMIT; base := base + t;"
    " END LOOP; END $$";

#define REPS_MAX 9 /* catch-ups per side and size, alternating; medians */
static int reps = 5;  /* HR_E2E_REPS */

static void setup_servers(void)
{
    PGconn *src = connect_db(source_ci, NULL);
    exec_ok(src, table_ddl);
    exec_ok(src, load_proc);
    PQfinish(src);
    PGconn *tgt = connect_db(target_ci, NULL);
    char sql[256];
    /* The launcher starts apply workers at most once per
     * wal_retrieve_retry_interval (5 s): enabling the next subscription
     * soon after the last would time the launcher's pause, not the
     * replication. */
    exec_ok(tgt, "ALTER SYSTEM SET wal_retrieve_retry_interval = '50ms'");
    exec_ok(tgt, "SELECT pg_reload_conf()");
    exec_ok(tgt, "DROP DATABASE IF EXISTS ours");
    exec_ok(tgt, "CREATE DATABASE ours");
    for (int k = 0; k < reps; k++) {
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS native%d", k);
        exec_ok(tgt, sql);
        snprintf(sql, sizeof sql, "CREATE DATABASE native%d", k);
        exec_ok(tgt, sql);
    }
    PQfinish(tgt);
    PGconn *c = connect_db(target_ci, "ours");
    exec_ok(c, table_ddl);
    PQfinish(c);
    for (int k = 0; k < reps; k++) {
        snprintf(sql, sizeof sql, "native%d", k);
        c = connect_db(target_ci, sql);
        exec_ok(c, table_ddl);
        PQfinish(c);
    }
}

typedef struct round_result {
    double ours_s[REPS_MAX], native_s[REPS_MAX];
    uint64_t raw_bytes, wire_bytes;
} round_result;

static long long count_rows(PGconn *c, const char *tenant)
{
    char sql[256], buf[64];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM bench.items WHERE tenant_id = '%s'", tenant);
    return atoll(query1(c, sql, buf, sizeof buf));
}

/* Ours, repetition k: an empty table, its own slot and source_id. */
static double run_ours(int t, int k, const char *a, const char *b, int total,
                       uint64_t *wire)
{
    char slot[64], source_id[32], ours_ci[2048];
    snprintf(slot, sizeof slot, "hr_%s_%d", a, k);
    snprintf(source_id, sizeof source_id, "bench%d_%d", t, k);
    snprintf(ours_ci, sizeof ours_ci, "%s dbname=ours", target_ci);
    PGconn *ours = connect_db(target_ci, "ours");
    exec_ok(ours, "TRUNCATE bench.items");
    e2e_result r;
    e2e_pipe_run(source_ci, ours_ci, a, slot, source_id, (uint64_t)total, &r);
    if (count_rows(ours, a) != total)
        bench_die("ours", "wrong row count on the target");
    if (count_rows(ours, b) != 0)
        bench_die("ours", "the other tenant's rows reached the target");
    PQfinish(ours);
    *wire = r.wire_bytes;
    return r.seconds;
}

/* Native, repetition k: enable, then wait for the tenant's last row
 * (commit order: when it is there, every earlier transaction is). */
static double run_native(int t, int k, const char *a, int total)
{
    char db[32], sql[256];
    snprintf(db, sizeof db, "native%d", k);
    PGconn *nat = connect_db(target_ci, db);
    snprintf(sql, sizeof sql,
             "SELECT 1 FROM bench.items WHERE tenant_id = '%s' AND id = %d", a,
             total - 1);
    char en[128];
    snprintf(en, sizeof en, "ALTER SUBSCRIPTION sub_%d_%d ENABLE", t, k);
    double n0 = bench_now_s();
    exec_ok(nat, en);
    for (;;) {
        PGresult *q = PQexec(nat, sql);
        int found = PQresultStatus(q) == PGRES_TUPLES_OK && PQntuples(q) == 1;
        PQclear(q);
        if (found)
            break;
        if (bench_now_s() - n0 > 600)
            bench_die("native", "no catch-up within 600 s");
        usleep(20000);
    }
    double secs = bench_now_s() - n0;
    if (count_rows(nat, a) != total)
        bench_die("native", "wrong row count on the target");
    snprintf(sql, sizeof sql, "DROP SUBSCRIPTION sub_%d_%d", t, k);
    exec_ok(nat, sql);
    PQfinish(nat);
    return secs;
}

static void run_round(int t, int total, round_result *res)
{
    char a[32], b[32], sql[4096], buf[256], slot[64];
    snprintf(a, sizeof a, "a%d", t);
    snprintf(b, sizeof b, "b%d", t);

    /* Slots first, so the backlog is behind every one of them. */
    for (int k = 0; k < reps; k++) {
        snprintf(slot, sizeof slot, "hr_%s_%d", a, k);
        e2e_pipe_create_slot(source_ci, a, slot);
    }
    PGconn *src = connect_db(source_ci, NULL);
    snprintf(sql, sizeof sql,
             "SELECT pg_create_logical_replication_slot('meter_%d', "
             "'pgoutput')",
             t);
    exec_ok(src, sql);
    snprintf(sql, sizeof sql,
             "CREATE PUBLICATION native_%d FOR TABLE bench.items "
             "WHERE (tenant_id = '%s')",
             t, a);
    exec_ok(src, sql);
    for (int k = 0; k < reps; k++) {
        char db[32];
        snprintf(db, sizeof db, "native%d", k);
        PGconn *nat = connect_db(target_ci, db);
        snprintf(sql, sizeof sql,
                 "CREATE SUBSCRIPTION sub_%d_%d CONNECTION '%s' PUBLICATION "
                 "native_%d WITH (enabled = false, copy_data = false, "
                 "create_slot = true, slot_name = 'native_%d_%d')",
                 t, k, source_ci, t, t, k);
        exec_ok(nat, sql);
        PQfinish(nat);
    }

    fprintf(stderr, "bench-e2e: loading %d + %d rows in %d-row transactions\n",
            total, total, t);
    double t0 = bench_now_s();
    snprintf(sql, sizeof sql, "CALL bench.load(%d, %d, '%s', '%s')", t, total,
             a, b);
    exec_ok(src, sql);
    /* Autovacuum would pick the freshly loaded table up during the first
     * catch-ups and slow whichever side runs then: vacuum it now. */
    exec_ok(src, "VACUUM (ANALYZE) bench.items");
    exec_ok(src, "CHECKPOINT");
    fprintf(stderr, "bench-e2e: loaded in %.1f s\n", bench_now_s() - t0);

    /* What a walsender sends for the tenant's changes: the raw bytes. */
    snprintf(sql, sizeof sql,
             "SELECT sum(octet_length(data)) FROM "
             "pg_logical_slot_get_binary_changes('meter_%d', NULL, NULL, "
             "'proto_version', '1', 'publication_names', 'hr_%s_0')",
             t, a);
    res->raw_bytes = strtoull(query1(src, sql, buf, sizeof buf), NULL, 10);
    snprintf(sql, sizeof sql, "SELECT pg_drop_replication_slot('meter_%d')", t);
    exec_ok(src, sql);

    for (int k = 0; k < reps; k++) {
        /* Alternate who goes first, so an order effect cancels out. */
        if (k % 2 == 0) {
            res->ours_s[k] = run_ours(t, k, a, b, total, &res->wire_bytes);
            res->native_s[k] = run_native(t, k, a, total);
        } else {
            res->native_s[k] = run_native(t, k, a, total);
            res->ours_s[k] = run_ours(t, k, a, b, total, &res->wire_bytes);
        }
        fprintf(stderr, "bench-e2e: txn%d run %d: ours %.2f s, native %.2f s\n",
                t, k + 1, res->ours_s[k], res->native_s[k]);
    }
    for (int k = 0; k < reps; k++) {
        snprintf(slot, sizeof slot, "hr_%s_%d", a, k);
        e2e_pipe_drop_slot(source_ci, a, slot);
    }
    PQfinish(src);
}

static double median(double *v)
{
    for (int i = 1; i < reps; i++)
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double x = v[j];
            v[j] = v[j - 1];
            v[j - 1] = x;
        }
    return v[reps / 2];
}

int main(int argc, char **argv)
{
    bench_set_progname("bench-e2e");
    source_ci = getenv("HR_TEST_PG_SOURCE");
    target_ci = getenv("HR_TEST_PG_TARGET");
    if (!source_ci || !target_ci) {
        char *args[8] = {(char *)HR_WITH_SERVERS,
                         (char *)"--pg",
                         (char *)"source",
                         (char *)"--pg",
                         (char *)"target",
                         (char *)"--",
                         argv[0],
                         NULL};
        char *full[10];
        memcpy(full, args, sizeof args);
        if (argc > 1) {
            full[7] = argv[1];
            full[8] = NULL;
        }
        execv(HR_WITH_SERVERS, full);
        bench_die("exec with-servers", HR_WITH_SERVERS);
    }
    int total = argc > 1 ? atoi(argv[1]) : 200000;
    const char *reps_env = getenv("HR_E2E_REPS");
    if (reps_env) {
        reps = atoi(reps_env);
        if (reps < 1 || reps > REPS_MAX || reps % 2 == 0)
            bench_die("HR_E2E_REPS", "an odd number from 1 to 9");
    }
    if (total < 1000)
        bench_die("usage", "bench-e2e [ROWS >= 1000]");
    setup_servers();
    static const int sizes[] = {1000, 10};
    uint64_t raw = 0, wire = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        round_result r;
        run_round(sizes[i], total, &r);
        double ours = total / median(r.ours_s);
        double native = total / median(r.native_s);
        printf("e2e.txn%d.rows_s %.0f rows/s\n", sizes[i], ours);
        printf("e2e.txn%d.native_rows_s %.0f rows/s\n", sizes[i], native);
        printf("e2e.txn%d.ratio_vs_native %.2f x\n", sizes[i], ours / native);
        fflush(stdout);
        raw += r.raw_bytes;
        wire += r.wire_bytes;
    }
    printf("e2e.wire_ratio %.2f x\n", wire ? (double)raw / (double)wire : 0);
    return 0;
}
