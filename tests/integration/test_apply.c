/*
 * test_apply.c - hr_applier against real source and target servers: a
 * tenant's stream (hr_stream) applied through hr_applier ends equal to the
 * source, whatever the mix of operations; a crash (the applier and the
 * stream freed mid-run, nothing kept but the target) resumes exactly once;
 * a schema mismatch pauses only its tenant; the initial-copy calls record
 * their progress with the data.
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_stream_common.h"

static const char *tgt_conninfo(void)
{
    const char *v = getenv("HR_TEST_PG_TARGET");
    ck_assert_msg(v && *v, "HR_TEST_PG_TARGET is not set");
    return v;
}

static void fresh_target(const char *name, char *out, size_t outlen)
{
    PGconn *c = db_connect(tgt_conninfo());
    sql(c, "DROP DATABASE IF EXISTS %s", name);
    sql(c, "CREATE DATABASE %s", name);
    PQfinish(c);
    snprintf(out, outlen, "%s dbname=%s", tgt_conninfo(), name);
}

static const char *items_ddl =
    "CREATE TABLE items (tenant_id text NOT NULL, id int NOT NULL, note "
    "text, amount numeric(12,2), qty int8, ratio float8, flag bool, at "
    "timestamptz, day date, doc jsonb, uid uuid, raw bytea, big text, "
    "PRIMARY KEY (tenant_id, id))";

/* ---- the pipeline: stream -> batches -> applier -> confirm ---- */

typedef struct pipe_ctx {
    hr_env *env;
    hr_stream *stream;
    hr_applier *applier;
    uint64_t applied;
    int errors;
    int last_error;
    char last_message[512];
    char error_tenant[64];
} pipe_ctx;

static int on_txn(void *ctx, const char *tenant, const hr_pgtxn *txn,
                  const hr_stream_change *changes, size_t n)
{
    pipe_ctx *p = ctx;
    int rc = hr_applier_begin(p->applier, tenant, hr_pgtxn_end_lsn(txn));
    if (rc != HR_OK)
        return rc;
    size_t i = 0;
    while (i < n) {
        int kind = hr_pgtxn_change_kind(txn, changes[i].index);
        if (kind != HR_PGCHANGE_INSERT && kind != HR_PGCHANGE_UPDATE &&
            kind != HR_PGCHANGE_DELETE) {
            if (kind == HR_PGCHANGE_TRUNCATE) {
                size_t nrel = 0;
                hr_pgtxn_change_truncate(txn, changes[i].index, &nrel, NULL);
                for (size_t k = 0; k < nrel; k++) {
                    const hr_pgrelation *rel =
                        hr_pgtxn_change_truncate_relation(txn, changes[i].index, k);
                    hr_batch *b;
                    ck_assert_int_eq(hr_batch_new(p->env, &b), HR_OK);
                    hr_batch_set_relation(b, hr_pgrelation_schema(rel),
                                          hr_pgrelation_name(rel));
                    hr_batch_add_column(b, "_hr_op", HR_OID_INT2, 0);
                    hr_batch_append_int64(b, 0, HR_OP_TRUNCATE);
                    ck_assert_int_eq(hr_applier_add_batch(p->applier, b), HR_OK);
                }
            }
            i++;
            continue;
        }
        hr_batch *b;
        ck_assert_int_eq(hr_batch_new(p->env, &b), HR_OK);
        size_t next;
        rc = hr_stream_to_batch(txn, changes, n, i, b, &next);
        ck_assert_msg(rc == HR_OK, "to_batch: %s", hr_batch_errmsg(b));
        ck_assert_int_eq(hr_applier_add_batch(p->applier, b), HR_OK);
        i = next;
    }
    return hr_applier_commit(p->applier);
}

static void on_applied(void *ctx, const char *tenant, uint64_t lsn)
{
    pipe_ctx *p = ctx;
    p->applied = lsn;
    if (p->stream)
        hr_stream_confirm(p->stream, NULL, lsn);
    (void)tenant;
}

static void on_error(void *ctx, const char *tenant, uint64_t lsn, int status,
                     const char *message)
{
    pipe_ctx *p = ctx;
    p->errors++;
    p->last_error = status;
    snprintf(p->last_message, sizeof p->last_message, "%s", message);
    snprintf(p->error_tenant, sizeof p->error_tenant, "%s", tenant);
    (void)lsn;
}

static hr_applier *make_applier(hr_env *env, const char *conninfo,
                                pipe_ctx *p, size_t group_rows)
{
    hr_applier_opts *o;
    ck_assert_int_eq(hr_applier_opts_new(env, &o), HR_OK);
    ck_assert_int_eq(hr_applier_opts_set_conninfo(o, conninfo), HR_OK);
    ck_assert_int_eq(hr_applier_opts_set_source_id(o, "src1"), HR_OK);
    if (group_rows)
        ck_assert_int_eq(hr_applier_opts_set_group_rows(o, group_rows), HR_OK);
    hr_applier_callbacks cb = {HR_APPLIER_CALLBACKS_VERSION, p, on_applied,
                               on_error};
    hr_applier *a;
    int rc = hr_applier_new(env, o, &cb, &a);
    ck_assert_msg(rc == HR_OK, "hr_applier_new: %s", hr_env_errmsg(env));
    hr_applier_opts_free(o);
    return a;
}

/* Poll both handles once (up to 20 ms) and step them. */
static void pump(pipe_ctx *p)
{
    struct pollfd fds[3];
    int n = 0;
    if (p->stream) {
        int sf[2], si[2];
        int k = hr_stream_fds(p->stream, sf, si, 2);
        for (int i = 0; i < k && i < 2; i++)
            fds[n++] = (struct pollfd){sf[i], (short)((si[i] & HR_POLL_IN ? POLLIN : 0) |
                                                      (si[i] & HR_POLL_OUT ? POLLOUT : 0)), 0};
    }
    int af = hr_applier_fd(p->applier), ai = hr_applier_interest(p->applier);
    if (af >= 0)
        fds[n++] = (struct pollfd){af, (short)((ai & HR_POLL_IN ? POLLIN : 0) |
                                               (ai & HR_POLL_OUT ? POLLOUT : 0)), 0};
    uint64_t now = hr_env_monotonic_ns(p->env);
    int64_t t = hr_applier_timeout_ms(p->applier, now);
    if (p->stream) {
        int64_t ts = hr_stream_timeout_ms(p->stream, now);
        if (ts >= 0 && (t < 0 || ts < t))
            t = ts;
    }
    if (t < 0 || t > 20)
        t = 20;
    poll(fds, (nfds_t)n, (int)t);
    now = hr_env_monotonic_ns(p->env);
    int rc = hr_applier_step(p->applier, now);
    ck_assert_msg(rc == HR_OK, "applier step: %s: %s", hr_status_name(rc),
                  hr_applier_errmsg(p->applier));
    if (p->stream && hr_applier_phase(p->applier) == HR_APPLIER_PHASE_READY &&
        hr_applier_pending_bytes(p->applier) < (8u << 20)) {
        rc = hr_stream_step(p->stream, now);
        ck_assert_msg(rc == HR_OK, "stream step: %s: %s", hr_status_name(rc),
                      hr_stream_errmsg(p->stream));
    }
}

static void wait_ready(pipe_ctx *p)
{
    uint64_t deadline = mono_ns() + 30000000000ull;
    while (hr_applier_phase(p->applier) != HR_APPLIER_PHASE_READY) {
        ck_assert_msg(mono_ns() < deadline, "applier not ready: %s",
                      hr_applier_errmsg(p->applier));
        pump(p);
    }
}

static uint64_t current_lsn(PGconn *c)
{
    char v[64];
    sql_value(c, v, sizeof v, "SELECT pg_current_wal_lsn()");
    return parse_lsn(v);
}

/* Pump until the applied checkpoint passes `lsn` (the source's WAL end
 * after the workload: heartbeats and keepalives carry the stream there). */
static void catch_up(pipe_ctx *p, uint64_t lsn, double seconds)
{
    uint64_t deadline = mono_ns() + (uint64_t)(seconds * 1e9);
    while (hr_stream_confirmed_lsn(p->stream, NULL) < lsn ||
           hr_applier_pending_bytes(p->applier) > 0) {
        ck_assert_msg(mono_ns() < deadline,
                      "no catch-up: applied %llX of %llX (%s / %s)",
                      (unsigned long long)p->applied, (unsigned long long)lsn,
                      hr_applier_errmsg(p->applier), hr_stream_errmsg(p->stream));
        pump(p);
    }
}

/* A row as text, independent of the table's column order. */
#define ROW_TEXT                                                               \
    "(tenant_id, id, note, amount, qty, ratio, flag, at, day, doc, uid, raw, " \
    "big)::text"

static void checksum(PGconn *c, const char *tenant, char *out, size_t cap)
{
    sql_value(c, out, cap,
              "SELECT count(*) || ':' || coalesce(md5(string_agg(%s, '|' "
              "ORDER BY id)), '-') FROM items t WHERE tenant_id = '%s'",
              ROW_TEXT,
              tenant);
}

/* The first row that differs, for the failure message. */
static void first_difference(PGconn *src, PGconn *tgt, const char *tenant,
                             char *out, size_t cap)
{
    char q[512];
    snprintf(q, sizeof q,
             "SELECT left(%s, 300) FROM items t WHERE tenant_id = '%s' "
             "ORDER BY id",
             ROW_TEXT, tenant);
    PGresult *a = PQexec(src, q), *b = PQexec(tgt, q);
    int n = PQntuples(a) < PQntuples(b) ? PQntuples(a) : PQntuples(b);
    snprintf(out, cap, "row counts %d / %d", PQntuples(a), PQntuples(b));
    for (int i = 0; i < n; i++)
        if (strcmp(PQgetvalue(a, i, 0), PQgetvalue(b, i, 0))) {
            snprintf(out, cap, "row %d: source %s | target %s", i,
                     PQgetvalue(a, i, 0), PQgetvalue(b, i, 0));
            break;
        }
    PQclear(a);
    PQclear(b);
}

static void assert_equal(PGconn *src, PGconn *tgt, const char *tenant)
{
    char a[128], b[128], diff[1024] = "";
    checksum(src, tenant, a, sizeof a);
    checksum(tgt, tenant, b, sizeof b);
    if (strcmp(a, b))
        first_difference(src, tgt, tenant, diff, sizeof diff);
    ck_assert_msg(!strcmp(a, b), "tenant %s: source %s, target %s: %s", tenant,
                  a, b, diff);
}

static void workload(PGconn *s, int round)
{
    int base = round * 2000;
    /* A big insert transaction (COPY on the target), both tenants. */
    sql(s,
        "INSERT INTO items SELECT t, %d + g, 'n' || g, g * 1.25, g::int8 * "
        "1000000000, g / 3.0, g %% 2 = 0, '2024-01-01'::timestamptz + g * "
        "interval '1 second', '2024-01-01'::date + g, jsonb_build_object('g', "
        "g), md5(g::text)::uuid, decode(md5(g::text), 'hex'), CASE WHEN g %% "
        "100 = 0 THEN repeat(md5(g::text), 400) END FROM generate_series(1, "
        "1000) g, (VALUES ('A'), ('B')) v(t)",
        base);
    /* Small transactions: updates (TOAST unchanged), deletes, NULLs. */
    for (int i = 0; i < 30; i++)
        sql(s,
            "BEGIN; UPDATE items SET note = 'u%d', amount = NULL WHERE id = "
            "%d + %d; DELETE FROM items WHERE id = %d + %d + 500 AND "
            "tenant_id = 'A'; INSERT INTO items (tenant_id, id, note) VALUES "
            "('A', %d + 1500 + %d, E'tab\\there'); COMMIT",
            i, base, i * 10, base, i, base, i);
    /* Updates of the same row in many transactions. */
    for (int i = 0; i < 20; i++)
        sql(s, "UPDATE items SET qty = %d WHERE tenant_id = 'A' AND id = %d + 100",
            i, base);
    /* A key change. */
    sql(s, "UPDATE items SET id = id + 100000 WHERE tenant_id = 'A' AND id = %d + 7",
        base);
}

static void setup_dbs(const char *name, char *src_ci, char *tgt_ci, size_t cap)
{
    fresh_db(name, src_ci, cap);
    fresh_target(name, tgt_ci, cap);
    PGconn *s = db_connect(src_ci), *t = db_connect(tgt_ci);
    sql(s, "%s", items_ddl);
    sql(t, "%s", items_ddl);
    PQfinish(s);
    PQfinish(t);
}

static hr_stream *tenant_stream(hr_env *env, const char *conninfo,
                                const char *tenant, uint64_t start,
                                pipe_ctx *p)
{
    hr_stream_opts *o = base_opts(env, conninfo);
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, tenant), HR_OK);
    ck_assert_int_eq(hr_stream_opts_add_table(o, "public.items"), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_start_lsn(o, start), HR_OK);
    /* A slot per database: a failed test's slot never blocks the next. */
    char slot[64];
    const char *db = NULL;
    for (const char *f = conninfo; (f = strstr(f, "dbname=")); f++)
        db = f;
    snprintf(slot, sizeof slot, "%s_%s", db ? db + 7 : "x", tenant);
    for (char *c = slot; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
    ck_assert_int_eq(hr_stream_opts_set_slot(o, slot), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_heartbeat_interval_ms(o, 300), HR_OK);
    hr_stream_callbacks cb = {HR_STREAM_CALLBACKS_VERSION, p, on_txn, NULL};
    hr_stream *s;
    ck_assert_int_eq(hr_stream_new(env, o, &cb, &s), HR_OK);
    hr_stream_opts_free(o);
    return s;
}

START_TEST(stream_to_target_equal)
{
    char src_ci[512], tgt_ci[512];
    setup_dbs("apply_basic", src_ci, tgt_ci, sizeof src_ci);
    hr_env *env;
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
    log_to_stderr(env);
    pipe_ctx p = {.env = env};
    p.applier = make_applier(env, tgt_ci, &p, 0);
    wait_ready(&p);
    uint64_t cp = 1;
    ck_assert_int_eq(hr_applier_checkpoint(p.applier, "A", &cp), HR_OK);
    ck_assert_uint_eq(cp, 0);
    p.stream = tenant_stream(env, src_ci, "A", 0, &p);
    while (hr_stream_phase(p.stream) != HR_STREAM_PHASE_STREAMING)
        pump(&p);
    PGconn *s = db_connect(src_ci), *t = db_connect(tgt_ci);
    workload(s, 0);
    sql(s, "TRUNCATE items");
    workload(s, 1);
    catch_up(&p, current_lsn(s), 60);
    assert_equal(s, t, "A");
    char v[64];
    sql_value(t, v, sizeof v, "SELECT count(*) FROM items WHERE tenant_id <> 'A'");
    ck_assert_str_eq(v, "0");
    /* The checkpoint on the target is what the applier reported. */
    sql_value(t, v, sizeof v,
              "SELECT lsn FROM heliosrepl.checkpoints WHERE tenant = 'A' AND "
              "source_id = 'src1'");
    ck_assert_uint_eq(parse_lsn(v), p.applied);
    uint64_t txns, stxns, rows, bytes;
    hr_applier_stats(p.applier, &txns, &stxns, &rows, &bytes);
    ck_assert_uint_gt(stxns, txns); /* grouped */
    ck_assert_int_eq(p.errors, 0);
    hr_stream_drop(p.stream);
    hr_stream_free(p.stream);
    hr_applier_free(p.applier);
    hr_env_free(env);
    PQfinish(s);
    PQfinish(t);
}
END_TEST

START_TEST(crash_resumes_exactly_once)
{
    char src_ci[512], tgt_ci[512];
    setup_dbs("apply_crash", src_ci, tgt_ci, sizeof src_ci);
    hr_env *env;
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
    log_to_stderr(env);
    PGconn *s = db_connect(src_ci), *t = db_connect(tgt_ci);
    /* Create the slot first, then write the whole backlog. */
    pipe_ctx p0 = {.env = env};
    p0.applier = make_applier(env, tgt_ci, &p0, 300);
    wait_ready(&p0);
    p0.stream = tenant_stream(env, src_ci, "A", 0, &p0);
    while (hr_stream_phase(p0.stream) != HR_STREAM_PHASE_STREAMING)
        pump(&p0);
    hr_stream_free(p0.stream);
    hr_applier_free(p0.applier);
    for (int r = 0; r < 3; r++)
        workload(s, r);
    uint64_t end = current_lsn(s);
    /* Crash repeatedly: each run applies some groups, then everything in
     * memory is dropped; a new applier + stream resume from the target's
     * checkpoint. Once, the target connection is killed mid-group. */
    for (int run = 0; run < 8; run++) {
        pipe_ctx p = {.env = env};
        p.applier = make_applier(env, tgt_ci, &p, 50);
        wait_ready(&p);
        uint64_t cp;
        ck_assert_int_eq(hr_applier_checkpoint(p.applier, "A", &cp), HR_OK);
        p.stream = tenant_stream(env, src_ci, "A", cp, &p);
        /* Until a group committed, or everything is applied (bounded in
         * time, not in rounds: a quiet machine pumps many empty rounds
         * before its first commit). Run 3 kills the target backend while
         * changes are queued. */
        uint64_t target_txns = 0, start = mono_ns();
        int killed = 0;
        while (target_txns < 1 && p.applied < end &&
               mono_ns() - start < 30000000000ull) {
            pump(&p);
            hr_applier_stats(p.applier, &target_txns, NULL, NULL, NULL);
            if (run == 3 && !killed && hr_applier_pending_bytes(p.applier) > 0) {
                sql(t, "SELECT pg_terminate_backend(pid) FROM "
                       "pg_stat_activity WHERE application_name = "
                       "'heliosrepl-applier'");
                killed = 1;
            }
        }
        ck_assert_msg(target_txns >= 1 || cp >= end, "run %d applied nothing",
                      run);
        hr_stream_free(p.stream);
        hr_applier_free(p.applier);
    }
    pipe_ctx p = {.env = env};
    p.applier = make_applier(env, tgt_ci, &p, 0);
    wait_ready(&p);
    uint64_t cp;
    ck_assert_int_eq(hr_applier_checkpoint(p.applier, "A", &cp), HR_OK);
    ck_assert_uint_gt(cp, 0);
    p.stream = tenant_stream(env, src_ci, "A", cp, &p);
    catch_up(&p, end, 90);
    assert_equal(s, t, "A");
    hr_stream_drop(p.stream);
    hr_stream_free(p.stream);
    hr_applier_free(p.applier);
    hr_env_free(env);
    PQfinish(s);
    PQfinish(t);
}
END_TEST

START_TEST(schema_mismatch_pauses_tenant)
{
    char src_ci[512], tgt_ci[512];
    setup_dbs("apply_schema", src_ci, tgt_ci, sizeof src_ci);
    PGconn *s = db_connect(src_ci), *t = db_connect(tgt_ci);
    sql(t, "ALTER TABLE items DROP COLUMN note");
    hr_env *env;
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
    log_to_stderr(env);
    pipe_ctx p = {.env = env};
    p.applier = make_applier(env, tgt_ci, &p, 0);
    wait_ready(&p);
    p.stream = tenant_stream(env, src_ci, "A", 0, &p);
    while (hr_stream_phase(p.stream) != HR_STREAM_PHASE_STREAMING)
        pump(&p);
    sql(s, "INSERT INTO items (tenant_id, id, note) VALUES ('A', 1, 'x')");
    uint64_t deadline = mono_ns() + 30000000000ull;
    while (!p.errors) {
        ck_assert_msg(mono_ns() < deadline, "no schema error reported");
        pump(&p);
    }
    ck_assert_int_eq(p.last_error, HR_ESCHEMA);
    ck_assert_str_eq(p.error_tenant, "A");
    ck_assert_msg(strstr(p.last_message, "items") && strstr(p.last_message, "note"),
                  "message: %s", p.last_message);
    char v[64];
    sql_value(t, v, sizeof v, "SELECT count(*) FROM items");
    ck_assert_str_eq(v, "0");
    /* The error is recorded on the target right after on_error. */
    deadline = mono_ns() + 10000000000ull;
    for (;;) {
        sql_value(t, v, sizeof v,
                  "SELECT count(*) FROM heliosrepl.apply_errors WHERE tenant = "
                  "'A' AND status = 'HR_ESCHEMA' AND message LIKE '%%note%%'");
        if (!strcmp(v, "1"))
            break;
        ck_assert_msg(mono_ns() < deadline, "apply_errors has %s rows", v);
        pump(&p);
    }
    /* A paused tenant takes nothing new. */
    ck_assert_int_eq(hr_applier_begin(p.applier, "A", UINT64_MAX - 1), HR_ESTATE);
    /* Fixed on the target: resume applies the queued transaction. */
    sql(t, "ALTER TABLE items ADD COLUMN note text");
    ck_assert_int_eq(hr_applier_resume(p.applier, "A"), HR_OK);
    catch_up(&p, current_lsn(s), 30);
    assert_equal(s, t, "A");
    hr_stream_drop(p.stream);
    hr_stream_free(p.stream);
    hr_applier_free(p.applier);
    hr_env_free(env);
    PQfinish(s);
    PQfinish(t);
}
END_TEST

START_TEST(initial_copy_records_progress)
{
    char src_ci[512], tgt_ci[512];
    setup_dbs("apply_copy", src_ci, tgt_ci, sizeof src_ci);
    PGconn *t = db_connect(tgt_ci);
    /* A leftover of an abandoned attempt is replaced, other tenants kept. */
    sql(t, "INSERT INTO items (tenant_id, id) VALUES ('A', 999), ('B', 1)");
    hr_env *env;
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
    pipe_ctx p = {.env = env};
    p.applier = make_applier(env, tgt_ci, &p, 0);
    wait_ready(&p);
    ck_assert_int_eq(hr_applier_begin_copy(p.applier, "A", "public", "items", 0x1000), HR_OK);
    for (int k = 0; k < 3; k++) {
        hr_batch *b;
        ck_assert_int_eq(hr_batch_new(env, &b), HR_OK);
        hr_batch_set_relation(b, "public", "items");
        hr_batch_add_column(b, "_hr_op", HR_OID_INT2, 0);
        hr_batch_add_column(b, "tenant_id", HR_OID_TEXT, 1);
        hr_batch_add_column(b, "id", HR_OID_INT4, 1);
        hr_batch_add_column(b, "amount", HR_OID_NUMERIC, 1);
        for (int i = 0; i < 100; i++) {
            hr_batch_append_int64(b, 0, 1);
            hr_batch_append_bytes(b, 1, "A", 1);
            hr_batch_append_int64(b, 2, k * 100 + i);
            char num[32];
            int len = snprintf(num, sizeof num, "%s%d.%02d", i % 2 ? "-" : "", i * 37, i);
            if (i == 5)
                hr_batch_append_null(b, 3);
            else
                hr_batch_append_bytes(b, 3, num, (size_t)len);
        }
        ck_assert_int_eq(hr_applier_add_batch(p.applier, b), HR_OK);
    }
    ck_assert_int_eq(hr_applier_commit(p.applier), HR_OK);
    ck_assert_int_eq(hr_applier_finish_copy(p.applier, "A", 0x2000), HR_OK);
    uint64_t deadline = mono_ns() + 30000000000ull;
    while (hr_applier_pending_bytes(p.applier) > 0 || p.applied != 0x2000) {
        ck_assert_msg(mono_ns() < deadline, "copy not applied: %s",
                      hr_applier_errmsg(p.applier));
        pump(&p);
    }
    char v[128];
    sql_value(t, v, sizeof v,
              "SELECT count(*) || ':' || sum(amount) FROM items WHERE tenant_id = 'A'");
    /* sum over i of (+/-)(37 i + i/100), i = 0..99 without i = 5, x 3 */
    double expect = 0;
    for (int i = 0; i < 100; i++)
        if (i != 5)
            expect += (i % 2 ? -1 : 1) * (37.0 * i + i / 100.0);
    char want[128];
    snprintf(want, sizeof want, "300:%.2f", expect * 3);
    ck_assert_str_eq(v, want);
    sql_value(t, v, sizeof v, "SELECT count(*) FROM items WHERE tenant_id = 'B'");
    ck_assert_str_eq(v, "1");
    int done;
    size_t tables;
    ck_assert_int_eq(hr_applier_copy_state(p.applier, "A", &done, &tables), HR_OK);
    ck_assert_int_eq(done, 1);
    ck_assert_uint_eq(tables, 1);
    ck_assert_int_eq(hr_applier_copy_table_done(p.applier, "A", "public", "items"), 1);
    sql_value(t, v, sizeof v,
              "SELECT rows || ' ' || snapshot_lsn FROM heliosrepl.copy_progress "
              "WHERE tenant = 'A'");
    ck_assert_str_eq(v, "300 0/1000");
    hr_applier_free(p.applier);
    /* A new applier sees the same state on the target. */
    p.applier = make_applier(env, tgt_ci, &p, 0);
    wait_ready(&p);
    uint64_t cp;
    ck_assert_int_eq(hr_applier_checkpoint(p.applier, "A", &cp), HR_OK);
    ck_assert_uint_eq(cp, 0x2000);
    ck_assert_int_eq(hr_applier_copy_table_done(p.applier, "A", "public", "items"), 1);
    hr_applier_free(p.applier);
    hr_env_free(env);
    PQfinish(t);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("apply");
    TCase *tc = tcase_create("target");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, initial_copy_records_progress);
    tcase_add_test(tc, stream_to_target_equal);
    tcase_add_test(tc, schema_mismatch_pauses_tenant);
    tcase_add_test(tc, crash_resumes_exactly_once);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
