/*
 * test_stream_dedicated.c - a dedicated tenant stream against a real
 * PostgreSQL 15 (tests/support/with-servers --pg source):
 *
 *   - it sees exactly its tenant's inserts, updates and deletes while
 *     another tenant writes the same tables;
 *   - setup is idempotent: a second stream on the same slot and
 *     publication starts cleanly, adds a table created since, and resumes
 *     from the host's checkpoint;
 *   - a table whose replica identity lacks the tenant column fails with
 *     HR_ESCHEMA naming it, and the same stream recovers once it is fixed;
 *   - export_snapshot: the snapshot shows the rows before the slot, the
 *     stream delivers exactly the rows after it; a snapshot lost with its
 *     connection is HR_ESTATE, and releasing it streams from the slot;
 *   - a slot dropped behind the stream's back is HR_ENOTFOUND, for good,
 *     and is not created again;
 *   - hr_stream_drop removes slot and publication.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_stream_common.h"

static hr_env *env;

static void setup(void)
{
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
    log_to_stderr(env);
}

static void teardown(void)
{
    hr_env_free(env);
}

static void make_tables(PGconn *conn)
{
    sql(conn, "CREATE TABLE orders (tenant_id text NOT NULL, id bigint NOT "
              "NULL, note text, PRIMARY KEY (tenant_id, id));"
              "CREATE TABLE items (tenant_id text NOT NULL, id bigint NOT "
              "NULL, note text, PRIMARY KEY (tenant_id, id))");
}

static void drop_stream(hr_stream *s)
{
    int rc = hr_stream_drop(s);
    ck_assert_msg(rc == HR_OK, "hr_stream_drop: %s", hr_stream_errmsg(s));
    hr_stream_free(s);
}

static void expect(const got_row *r, const char *tenant, int kind,
                   const char *table, long id, const char *note)
{
    ck_assert_str_eq(r->tenant, tenant);
    ck_assert_int_eq(r->kind, kind);
    ck_assert_str_eq(r->table, table);
    ck_assert_int_eq(r->id, id);
    if (note)
        ck_assert_str_eq(r->note, note);
}

/* Run a little longer and check nothing more arrives. */
static void settle(hr_stream *s, collector *c, size_t rows)
{
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(hr_stream_run(s, 50), HR_OK);
    ck_assert_uint_eq(c->n, rows);
}

START_TEST(sees_only_its_tenant)
{
    char ci[512];
    fresh_db("st_only", ci, sizeof ci);
    PGconn *conn = db_connect(ci);
    make_tables(conn);

    collector c = {0};
    hr_stream_opts *o = base_opts(env, ci);
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, "acme"), HR_OK);
    hr_stream *s = make_stream(env, o, &c);
    hr_stream_opts_free(o);
    wait_streaming(s, 30);
    ck_assert_int_ne(hr_stream_fd(s), -1);
    ck_assert_int_ne(hr_stream_interest(s) & HR_POLL_IN, 0);
    int fds[HR_STREAM_FDS_MAX], ins[HR_STREAM_FDS_MAX];
    int nfds = hr_stream_fds(s, fds, ins, HR_STREAM_FDS_MAX);
    ck_assert_int_ge(nfds, 1); /* 2 while a heartbeat is out */
    ck_assert_int_eq(fds[0], hr_stream_fd(s));
    ck_assert_int_eq(ins[0], hr_stream_interest(s));

    sql(conn, "BEGIN;"
              "INSERT INTO orders VALUES ('acme', 1, 'a1'), ('globex', 1, "
              "'g1'), ('acme', 2, 'a2');"
              "COMMIT");
    sql(conn, "UPDATE orders SET note = note || '+' WHERE id = 1");
    sql(conn, "BEGIN;"
              "DELETE FROM orders WHERE tenant_id = 'acme' AND id = 2;"
              "INSERT INTO items VALUES ('globex', 10, 'gi'), ('acme', 10, "
              "'ai');"
              "DELETE FROM orders WHERE tenant_id = 'globex';"
              "COMMIT");
    sql(conn, "INSERT INTO items VALUES ('globex', 11, 'only globex')");
    sql(conn, "INSERT INTO items VALUES ('acme2', 12, 'prefix, not acme')");
    sql(conn, "UPDATE items SET note = 'z' WHERE tenant_id = 'acme'");

    rows_goal g = {&c, 6};
    run_until(s, goal_reached, &g, 30);
    settle(s, &c, 6);
    expect(&c.rows[0], "acme", HR_PGCHANGE_INSERT, "orders", 1, "a1");
    expect(&c.rows[1], "acme", HR_PGCHANGE_INSERT, "orders", 2, "a2");
    expect(&c.rows[2], "acme", HR_PGCHANGE_UPDATE, "orders", 1, "a1+");
    expect(&c.rows[3], "acme", HR_PGCHANGE_DELETE, "orders", 2, NULL);
    expect(&c.rows[4], "acme", HR_PGCHANGE_INSERT, "items", 10, "ai");
    expect(&c.rows[5], "acme", HR_PGCHANGE_UPDATE, "items", 10, "z");
    ck_assert_uint_eq(c.txns, 4);
    /* one transaction's rows share its end LSN; LSNs grow */
    ck_assert_uint_eq(c.rows[0].end_lsn, c.rows[1].end_lsn);
    ck_assert_uint_lt(c.rows[1].end_lsn, c.rows[2].end_lsn);
    ck_assert_uint_eq(c.rows[3].end_lsn, c.rows[4].end_lsn);

    /* the publication carries the row filter */
    char v[256];
    sql_value(conn, v, sizeof v,
              "SELECT string_agg(tablename || ':' || rowfilter, ',' ORDER BY "
              "tablename) FROM pg_publication_tables WHERE pubname = "
              "'hr_acme'");
    ck_assert_msg(strstr(v, "items:(tenant_id = 'acme'::text)") &&
                      strstr(v, "orders:(tenant_id = 'acme'::text)"),
                  "row filters: %s", v);

    drop_stream(s);
    collector_free(&c);
    PQfinish(conn);
}
END_TEST

START_TEST(setup_is_idempotent)
{
    char ci[512];
    fresh_db("st_idem", ci, sizeof ci);
    PGconn *conn = db_connect(ci);
    make_tables(conn);

    collector c = {0};
    c.confirm_each = 1;
    hr_stream_opts *o = base_opts(env, ci);
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, "acme"), HR_OK);
    hr_stream *s = make_stream(env, o, &c);
    wait_streaming(s, 30);
    sql(conn, "INSERT INTO orders VALUES ('acme', 1, 'first')");
    rows_goal g = {&c, 1};
    run_until(s, goal_reached, &g, 30);
    uint64_t checkpoint = hr_stream_confirmed_lsn(s, "acme");
    ck_assert_uint_eq(checkpoint, c.rows[0].end_lsn);
    hr_stream_free(s); /* a crash: the slot may not have seen the confirm */

    /* Since then: a new table of the schema, and more rows. */
    sql(conn, "CREATE TABLE extra (tenant_id text, id int, note text, "
              "PRIMARY KEY (id, tenant_id))");
    sql(conn, "INSERT INTO orders VALUES ('acme', 2, 'second')");

    /* The same options again, resuming from the host's checkpoint. */
    collector c2 = {0};
    c2.confirm_each = 1;
    ck_assert_int_eq(hr_stream_opts_set_start_lsn(o, checkpoint), HR_OK);
    s = make_stream(env, o, &c2);
    wait_streaming(s, 30);
    sql(conn, "INSERT INTO extra VALUES ('acme', 3, 'third'), ('other', 3, "
              "'no')");
    g = (rows_goal){&c2, 2};
    run_until(s, goal_reached, &g, 30);
    settle(s, &c2, 2);
    expect(&c2.rows[0], "acme", HR_PGCHANGE_INSERT, "orders", 2, "second");
    expect(&c2.rows[1], "acme", HR_PGCHANGE_INSERT, "extra", 3, "third");

    char v[64];
    sql_value(conn, v, sizeof v,
              "SELECT count(*) FROM pg_publication_tables WHERE pubname = "
              "'hr_acme'");
    ck_assert_str_eq(v, "3");
    sql_value(conn, v, sizeof v,
              "SELECT count(*) FROM pg_replication_slots WHERE slot_name = "
              "'hr_acme'");
    ck_assert_str_eq(v, "1");
    hr_stream_free(s);

    /* A third time, with nothing new: starts and finds nothing to do. */
    collector c3 = {0};
    s = make_stream(env, o, &c3);
    wait_streaming(s, 30);
    settle(s, &c3, 0);
    drop_stream(s);
    hr_stream_opts_free(o);
    collector_free(&c);
    collector_free(&c2);
    collector_free(&c3);
    PQfinish(conn);
}
END_TEST

/* Step until a non-OK status; returns it. */
static int run_until_error(hr_stream *s, double seconds)
{
    uint64_t deadline = mono_ns() + (uint64_t)(seconds * 1e9);
    while (mono_ns() < deadline) {
        int rc = hr_stream_run(s, 50);
        if (rc != HR_OK)
            return rc;
    }
    return HR_OK;
}

START_TEST(replica_identity_without_tenant_fails)
{
    char ci[512];
    fresh_db("st_ri", ci, sizeof ci);
    PGconn *conn = db_connect(ci);
    make_tables(conn);
    sql(conn, "CREATE TABLE bad (id bigint PRIMARY KEY, tenant_id text)");

    collector c = {0};
    hr_stream_opts *o = base_opts(env, ci);
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, "acme"), HR_OK);
    hr_stream *s = make_stream(env, o, &c);
    int rc = run_until_error(s, 20);
    ck_assert_msg(rc == HR_ESCHEMA, "got %s: %s", hr_status_name(rc),
                  hr_stream_errmsg(s));
    ck_assert_msg(strstr(hr_stream_errmsg(s), "public.bad") &&
                      strstr(hr_stream_errmsg(s), "tenant_id"),
                  "message: %s", hr_stream_errmsg(s));
    fprintf(stderr, "  HR_ESCHEMA: %s\n", hr_stream_errmsg(s));
    /* nothing was created for the broken setup */
    char v[64];
    sql_value(conn, v, sizeof v,
              "SELECT count(*) FROM pg_publication WHERE pubname = 'hr_acme'");
    ck_assert_str_eq(v, "0");

    sql(conn, "ALTER TABLE bad REPLICA IDENTITY NOTHING");
    rc = run_until_error(s, 20);
    ck_assert_int_eq(rc, HR_ESCHEMA);
    ck_assert_ptr_nonnull(strstr(hr_stream_errmsg(s), "NOTHING"));

    /* An index identity with the tenant column, or FULL, is fine: the same
     * stream gets going once the schema is fixed. */
    sql(conn, "CREATE UNIQUE INDEX bad_ri ON bad (tenant_id, id);"
              "ALTER TABLE bad ALTER tenant_id SET NOT NULL;"
              "ALTER TABLE bad REPLICA IDENTITY USING INDEX bad_ri");
    wait_streaming(s, 60);
    sql(conn, "INSERT INTO bad VALUES (7, 'acme'), (8, 'other')");
    sql(conn, "DELETE FROM bad WHERE id = 7");
    rows_goal g = {&c, 2};
    run_until(s, goal_reached, &g, 30);
    expect(&c.rows[0], "acme", HR_PGCHANGE_INSERT, "bad", 7, NULL);
    expect(&c.rows[1], "acme", HR_PGCHANGE_DELETE, "bad", 7, NULL);
    drop_stream(s);
    hr_stream_opts_free(o);

    /* An explicit table that does not exist is named too. */
    o = base_opts(env, ci);
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, "acme"), HR_OK);
    ck_assert_int_eq(hr_stream_opts_add_table(o, "public.orders"), HR_OK);
    ck_assert_int_eq(hr_stream_opts_add_table(o, "nope.missing"), HR_OK);
    s = make_stream(env, o, &c);
    rc = run_until_error(s, 20);
    ck_assert_int_eq(rc, HR_ESCHEMA);
    ck_assert_ptr_nonnull(strstr(hr_stream_errmsg(s), "nope.missing"));
    hr_stream_free(s);
    hr_stream_opts_free(o);
    collector_free(&c);
    PQfinish(conn);
}
END_TEST

static int has_snapshot(void *arg)
{
    return hr_stream_snapshot_name(arg) != NULL;
}

START_TEST(exported_snapshot_then_stream)
{
    char ci[512];
    fresh_db("st_snap", ci, sizeof ci);
    PGconn *conn = db_connect(ci);
    make_tables(conn);
    sql(conn, "INSERT INTO orders SELECT t, g, 'before' FROM "
              "generate_series(1, 5) g, (VALUES ('acme'), ('globex')) v(t)");

    collector c = {0};
    hr_stream_opts *o = base_opts(env, ci);
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, "acme"), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_export_snapshot(o, 1), HR_OK);
    hr_stream *s = make_stream(env, o, &c);
    hr_stream_opts_free(o);
    run_until(s, has_snapshot, s, 30);
    const char *snap = hr_stream_snapshot_name(s);
    ck_assert_uint_ne(hr_stream_consistent_lsn(s), 0);
    ck_assert_int_eq(hr_stream_timeout_ms(s, mono_ns()), -1);

    /* Rows committed after the slot: the stream's, not the snapshot's. */
    sql(conn, "INSERT INTO orders VALUES ('acme', 6, 'after'), ('globex', 6, "
              "'after')");
    sql(conn, "INSERT INTO orders VALUES ('acme', 7, 'after')");

    PGconn *copy = db_connect(ci);
    sql(copy, "BEGIN ISOLATION LEVEL REPEATABLE READ");
    sql(copy, "SET TRANSACTION SNAPSHOT '%s'", snap);
    char v[64];
    sql_value(copy, v, sizeof v,
              "SELECT count(*) || '/' || max(id) FROM orders WHERE "
              "tenant_id = 'acme'");
    ck_assert_str_eq(v, "5/5");
    /* while the host copies, stepping hands nothing over */
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(hr_stream_run(s, 50), HR_OK);
    ck_assert_uint_eq(c.n, 0);
    ck_assert_ptr_nonnull(hr_stream_snapshot_name(s));
    sql(copy, "COMMIT");
    PQfinish(copy);

    ck_assert_int_eq(hr_stream_release_snapshot(s), HR_OK);
    ck_assert_int_eq(hr_stream_release_snapshot(s), HR_ESTATE);
    sql(conn, "UPDATE orders SET note = 'later' WHERE tenant_id = 'acme' AND "
              "id = 3");
    rows_goal g = {&c, 3};
    run_until(s, goal_reached, &g, 30);
    settle(s, &c, 3);
    expect(&c.rows[0], "acme", HR_PGCHANGE_INSERT, "orders", 6, "after");
    expect(&c.rows[1], "acme", HR_PGCHANGE_INSERT, "orders", 7, "after");
    expect(&c.rows[2], "acme", HR_PGCHANGE_UPDATE, "orders", 3, "later");
    ck_assert_ptr_null(hr_stream_snapshot_name(s));
    ck_assert_uint_gt(c.rows[0].end_lsn, hr_stream_consistent_lsn(s));
    drop_stream(s);
    collector_free(&c);
    PQfinish(conn);
}
END_TEST

/* Terminate the replication connection of database `db` (any walsender of
 * application heliosrepl there, holding a slot or not). */
static int kill_repl_backend(PGconn *conn, const char *db)
{
    char v[32];
    sql_value(conn, v, sizeof v,
              "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
              "WHERE backend_type = 'walsender' AND application_name = "
              "'heliosrepl' AND datname = '%s'",
              db);
    return atoi(v);
}

START_TEST(lost_snapshot_is_reported)
{
    char ci[512];
    fresh_db("st_snaplost", ci, sizeof ci);
    PGconn *conn = db_connect(ci);
    make_tables(conn);
    collector c = {0};
    hr_stream_opts *o = base_opts(env, ci);
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, "acme"), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_export_snapshot(o, 1), HR_OK);
    hr_stream *s = make_stream(env, o, &c);
    hr_stream_opts_free(o);
    run_until(s, has_snapshot, s, 30);
    ck_assert_int_eq(hr_stream_phase(s), HR_STREAM_PHASE_SNAPSHOT_HELD);
    ck_assert_int_eq(kill_repl_backend(conn, "st_snaplost"), 1);
    int rc = run_until_error(s, 20);
    ck_assert_msg(rc == HR_ESTATE, "got %s: %s", hr_status_name(rc),
                  hr_stream_errmsg(s));
    ck_assert_ptr_nonnull(strstr(hr_stream_errmsg(s), "snapshot"));
    fprintf(stderr, "  HR_ESTATE: %s\n", hr_stream_errmsg(s));
    /* it waits for the host: no snapshot name, no timer, no reconnect */
    ck_assert_int_eq(hr_stream_phase(s), HR_STREAM_PHASE_SNAPSHOT_HELD);
    ck_assert_ptr_null(hr_stream_snapshot_name(s));
    ck_assert_int_eq(hr_stream_timeout_ms(s, mono_ns()), -1);
    ck_assert_int_eq(hr_stream_run(s, 100), HR_OK);
    ck_assert_int_eq(hr_stream_phase(s), HR_STREAM_PHASE_SNAPSHOT_HELD);

    ck_assert_int_eq(hr_stream_release_snapshot(s), HR_OK);
    ck_assert_int_eq(hr_stream_phase(s), HR_STREAM_PHASE_IDLE);
    wait_streaming(s, 30);
    sql(conn, "INSERT INTO orders VALUES ('acme', 1, 'after')");
    rows_goal g = {&c, 1};
    run_until(s, goal_reached, &g, 30);
    expect(&c.rows[0], "acme", HR_PGCHANGE_INSERT, "orders", 1, "after");
    drop_stream(s);
    collector_free(&c);
    PQfinish(conn);
}
END_TEST

START_TEST(vanished_slot_closes_the_stream)
{
    char ci[512];
    fresh_db("st_vanish", ci, sizeof ci);
    PGconn *conn = db_connect(ci);
    make_tables(conn);
    collector c = {0};
    hr_stream_opts *o = base_opts(env, ci);
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, "acme"), HR_OK);
    hr_stream *s = make_stream(env, o, &c);
    hr_stream_opts_free(o);
    wait_streaming(s, 30);
    sql(conn, "INSERT INTO orders VALUES ('acme', 1, 'seen')");
    rows_goal g = {&c, 1};
    run_until(s, goal_reached, &g, 30);

    /* Someone drops the slot while the stream is between connections. */
    ck_assert_int_eq(kill_walsender(conn, "hr_acme"), 1);
    uint64_t deadline = mono_ns() + 10 * 1000000000ull;
    for (;;) {
        PGresult *res = PQexec(conn, "SELECT pg_drop_replication_slot("
                                     "'hr_acme')");
        int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
        PQclear(res);
        if (ok)
            break;
        ck_assert_msg(mono_ns() < deadline, "the slot stays active");
    }
    sql(conn, "INSERT INTO orders VALUES ('acme', 2, 'lost')");
    int rc = run_until_error(s, 20);
    ck_assert_msg(rc == HR_ENOTFOUND, "got %s: %s", hr_status_name(rc),
                  hr_stream_errmsg(s));
    ck_assert_ptr_nonnull(strstr(hr_stream_errmsg(s), "hr_acme"));
    fprintf(stderr, "  HR_ENOTFOUND: %s\n", hr_stream_errmsg(s));
    ck_assert_int_eq(hr_stream_phase(s), HR_STREAM_PHASE_CLOSED);
    ck_assert(hr_is_fatal(rc));
    /* for good: every step says so, nothing reconnects or re-creates */
    uint64_t reconnects = stream_reconnects(s);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(hr_stream_run(s, 50), HR_ENOTFOUND);
    ck_assert_uint_eq(stream_reconnects(s), reconnects);
    char v[64];
    sql_value(conn, v, sizeof v,
              "SELECT count(*) FROM pg_replication_slots WHERE slot_name = "
              "'hr_acme'");
    ck_assert_str_eq(v, "0");
    ck_assert_uint_eq(c.n, 1);
    drop_stream(s); /* the publication; the slot is gone already */
    sql_value(conn, v, sizeof v, "SELECT count(*) FROM pg_publication");
    ck_assert_str_eq(v, "0");
    collector_free(&c);
    PQfinish(conn);
}
END_TEST

START_TEST(drop_removes_slot_and_publication)
{
    char ci[512];
    fresh_db("st_drop", ci, sizeof ci);
    PGconn *conn = db_connect(ci);
    make_tables(conn);
    collector c = {0};
    hr_stream_opts *o = base_opts(env, ci);
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, "Acme.EU-1"), HR_OK);
    hr_stream *s = make_stream(env, o, &c);
    hr_stream_opts_free(o);
    wait_streaming(s, 30);
    /* the tenant id is not a valid slot name: folded, with a hash */
    char v[128];
    sql_value(conn, v, sizeof v,
              "SELECT slot_name FROM pg_replication_slots WHERE slot_name "
              "LIKE 'hrx_acme_eu_1_%%'");
    ck_assert_uint_eq(strlen(v), strlen("hrx_acme_eu_1_") + 16);
    ck_assert_int_eq(hr_stream_drop(s), HR_OK);
    ck_assert_int_eq(hr_stream_step(s, mono_ns()), HR_ECLOSED);
    ck_assert_int_eq(hr_stream_phase(s), HR_STREAM_PHASE_CLOSED);
    sql_value(conn, v, sizeof v,
              "SELECT (SELECT count(*) FROM pg_replication_slots WHERE "
              "slot_name LIKE 'hrx_acme_eu_1_%%') || '/' || (SELECT count(*) "
              "FROM pg_publication)");
    ck_assert_str_eq(v, "0/0");
    /* dropping again: nothing there, still fine */
    ck_assert_int_eq(hr_stream_drop(s), HR_OK);
    hr_stream_free(s);
    collector_free(&c);
    PQfinish(conn);
}
END_TEST

static Suite *dedicated_suite(void)
{
    Suite *s = suite_create("integration.stream_dedicated");
    TCase *tc = tcase_create("dedicated");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, sees_only_its_tenant);
    tcase_add_test(tc, setup_is_idempotent);
    tcase_add_test(tc, replica_identity_without_tenant_fails);
    tcase_add_test(tc, exported_snapshot_then_stream);
    tcase_add_test(tc, lost_snapshot_is_reported);
    tcase_add_test(tc, vanished_slot_closes_the_stream);
    tcase_add_test(tc, drop_removes_slot_and_publication);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(dedicated_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
