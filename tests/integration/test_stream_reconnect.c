/*
 * test_stream_reconnect.c - losing the walsender, losing the host, a failing
 * callback, and heartbeats, against a real PostgreSQL 15:
 *
 *   - the walsender is terminated (pg_terminate_backend) again and again
 *     while transactions keep coming: every transaction arrives exactly
 *     once, in commit order, whether the host confirms each one or only
 *     now and then;
 *   - the host "crashes" (the stream is freed with unconfirmed deliveries)
 *     and a new stream resumes from its checkpoint (start_lsn): nothing
 *     before the checkpoint again, nothing after it missing;
 *   - a callback failure is returned by step and the transaction comes
 *     again, once;
 *   - a quiet tenant's slot (confirmed_flush_lsn) advances while another
 *     tenant writes: through the walsender's keepalives alone (no
 *     heartbeats), through heartbeats alone (keepalive positions ignored),
 *     and with both; the heartbeat connection's socket is reported by
 *     hr_stream_fds to a host loop that polls what it says.
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream/stream_internal.h"
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
              "NULL, note text, PRIMARY KEY (tenant_id, id))");
}

/* `count` single-row transactions of acme (ids from *next) and one of
 * globex between each. */
static void write_txns(PGconn *conn, long *next, int count)
{
    sql(conn,
        "DO $$ BEGIN FOR i IN %ld..%ld LOOP "
        "INSERT INTO orders VALUES ('acme', i, 'n' || i); COMMIT; "
        "INSERT INTO orders VALUES ('globex', i, 'g'); COMMIT; "
        "END LOOP; END $$",
        *next, *next + count - 1);
    *next += count;
}

/* Every id 1..n exactly once and in order. */
static void check_exactly_once(const collector *c, long n)
{
    ck_assert_msg(c->n == (size_t)n, "%zu rows, expected %ld", c->n, n);
    for (long i = 0; i < n; i++) {
        ck_assert_str_eq(c->rows[i].tenant, "acme");
        ck_assert_msg(c->rows[i].id == i + 1, "row %ld has id %ld", i,
                      c->rows[i].id);
        if (i)
            ck_assert_uint_gt(c->rows[i].end_lsn, c->rows[i - 1].end_lsn);
    }
}

static void walsender_killed(int confirm_each)
{
    char ci[512];
    fresh_db(confirm_each ? "st_kill" : "st_kill_lazy", ci, sizeof ci);
    PGconn *conn = db_connect(ci);
    make_tables(conn);

    collector c = {0};
    c.confirm_each = confirm_each;
    hr_stream_opts *o = base_opts(env, ci);
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, "acme"), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_status_interval_ms(o, 100), HR_OK);
    hr_stream *s = make_stream(env, o, &c);
    hr_stream_opts_free(o);
    wait_streaming(s, 30);

    long next = 1;
    int kills = 0;
    for (int round = 0; round < 12; round++) {
        write_txns(conn, &next, 150);
        /* part of it read, then the walsender goes away mid-stream */
        for (int i = 0; i < 2; i++)
            ck_assert_int_eq(hr_stream_run(s, 20), HR_OK);
        if (!confirm_each && c.n)
            ck_assert_int_eq(
                hr_stream_confirm(s, NULL, c.rows[c.n / 2].end_lsn), HR_OK);
        if (round % 3 == 1) {
            /* the slot has a walsender only once replication started */
            wait_streaming(s, 30);
            kills += kill_walsender(conn, "hr_acme");
            /* also while it reconnects and sets up again */
            write_txns(conn, &next, 20);
        }
    }
    rows_goal g = {&c, (size_t)(next - 1)};
    run_until(s, goal_reached, &g, 60);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(hr_stream_run(s, 50), HR_OK);
    check_exactly_once(&c, next - 1);
    ck_assert_int_ge(kills, 3);
    ck_assert_uint_ge(stream_reconnects(s), 1 + (uint64_t)kills);
    fprintf(stderr,
            "  %ld transactions, %d walsenders killed, %llu "
            "connections: each transaction exactly once\n",
            next - 1, kills, (unsigned long long)stream_reconnects(s));

    /* the slot follows the confirms */
    ck_assert_int_eq(hr_stream_confirm(s, NULL, c.rows[c.n - 1].end_lsn),
                     HR_OK);
    uint64_t want = c.rows[c.n - 1].end_lsn;
    uint64_t deadline = mono_ns() + 10 * 1000000000ull;
    while (slot_confirmed(conn, "hr_acme") < want && mono_ns() < deadline)
        ck_assert_int_eq(hr_stream_run(s, 50), HR_OK);
    ck_assert_uint_ge(slot_confirmed(conn, "hr_acme"), want);
    ck_assert_int_eq(hr_stream_drop(s), HR_OK);
    hr_stream_free(s);
    collector_free(&c);
    PQfinish(conn);
}

START_TEST(walsender_killed_confirm_each)
{
    walsender_killed(1);
}
END_TEST

START_TEST(walsender_killed_lazy_confirms)
{
    walsender_killed(0);
}
END_TEST

START_TEST(host_restart_resumes_at_checkpoint)
{
    char ci[512];
    fresh_db("st_restart", ci, sizeof ci);
    PGconn *conn = db_connect(ci);
    make_tables(conn);

    collector c = {0};
    hr_stream_opts *o = base_opts(env, ci);
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, "acme"), HR_OK);
    hr_stream *s = make_stream(env, o, &c);
    wait_streaming(s, 30);
    long next = 1;
    write_txns(conn, &next, 300);
    rows_goal g = {&c, 300};
    run_until(s, goal_reached, &g, 30);
    /* The host applied (and checkpointed) up to id 120, confirmed only up
     * to id 50, then died. */
    ck_assert_int_eq(hr_stream_confirm(s, NULL, c.rows[49].end_lsn), HR_OK);
    uint64_t deadline = mono_ns() + 10 * 1000000000ull;
    while (slot_confirmed(conn, "hr_acme") < c.rows[49].end_lsn &&
           mono_ns() < deadline)
        ck_assert_int_eq(hr_stream_run(s, 50), HR_OK);
    ck_assert_uint_eq(slot_confirmed(conn, "hr_acme"), c.rows[49].end_lsn);
    uint64_t checkpoint = c.rows[119].end_lsn;
    hr_stream_free(s);

    write_txns(conn, &next, 30);
    collector c2 = {0};
    c2.confirm_each = 1;
    ck_assert_int_eq(hr_stream_opts_set_start_lsn(o, checkpoint), HR_OK);
    s = make_stream(env, o, &c2);
    hr_stream_opts_free(o);
    g = (rows_goal){&c2, 330 - 120};
    run_until(s, goal_reached, &g, 30);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(hr_stream_run(s, 50), HR_OK);
    ck_assert_uint_eq(c2.n, 330 - 120);
    for (size_t i = 0; i < c2.n; i++)
        ck_assert_int_eq(c2.rows[i].id, 121 + (long)i);
    ck_assert_int_eq(hr_stream_drop(s), HR_OK);
    hr_stream_free(s);
    collector_free(&c);
    collector_free(&c2);
    PQfinish(conn);
}
END_TEST

START_TEST(callback_failure_comes_again_once)
{
    char ci[512];
    fresh_db("st_cbfail", ci, sizeof ci);
    PGconn *conn = db_connect(ci);
    make_tables(conn);
    collector c = {0};
    hr_stream_opts *o = base_opts(env, ci);
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, "acme"), HR_OK);
    hr_stream *s = make_stream(env, o, &c);
    hr_stream_opts_free(o);
    wait_streaming(s, 30);
    long next = 1;
    write_txns(conn, &next, 5);
    rows_goal g = {&c, 2};
    run_until(s, goal_reached, &g, 30);
    c.fail_next = 1;
    write_txns(conn, &next, 5);
    int rc = HR_OK;
    uint64_t deadline = mono_ns() + 20 * 1000000000ull;
    while (rc == HR_OK && mono_ns() < deadline)
        rc = hr_stream_run(s, 50);
    ck_assert_int_eq(rc, HR_EIO); /* the callback's status */
    ck_assert_ptr_nonnull(strstr(hr_stream_errmsg(s), "on_txn"));
    g = (rows_goal){&c, 10};
    run_until(s, goal_reached, &g, 30);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(hr_stream_run(s, 50), HR_OK);
    check_exactly_once(&c, 10);
    ck_assert_int_eq(hr_stream_drop(s), HR_OK);
    hr_stream_free(s);
    collector_free(&c);
    PQfinish(conn);
}
END_TEST

/* The stream's decoder, with keepalives that never move the position:
 * what the stream did before it confirmed on keepalives, so heartbeats
 * alone must move a quiet tenant. */
static hr_pgdecoder_callbacks real_callbacks;

static int keepalive_without_position(void *ctx, uint64_t wal_end,
                                      int64_t server_time, int reply)
{
    (void)wal_end;
    return real_callbacks.on_keepalive(ctx, 0, server_time, reply);
}

static void ignore_keepalive_positions(hr_stream *s)
{
    real_callbacks = hr__demux_callbacks(s);
    hr_pgdecoder_callbacks cb = real_callbacks;
    cb.on_keepalive = keepalive_without_position;
    hr_pgdecoder_free(s->dec);
    s->dec = NULL;
    ck_assert_int_eq(hr_pgdecoder_new(env, &cb, &s->dec), HR_OK);
}

/* A host loop as a host writes it: poll(2) on what hr_stream_fds reports,
 * for `ms`; the most sockets it reported at once goes to *most. */
static void host_loop(hr_stream *s, int ms, int *most)
{
    uint64_t end = mono_ns() + (uint64_t)ms * 1000000u;
    while (mono_ns() < end) {
        int fd[HR_STREAM_FDS_MAX], in[HR_STREAM_FDS_MAX];
        int n = hr_stream_fds(s, fd, in, HR_STREAM_FDS_MAX);
        ck_assert_int_ge(n, 0);
        ck_assert_int_le(n, HR_STREAM_FDS_MAX);
        if (n > *most)
            *most = n;
        struct pollfd p[HR_STREAM_FDS_MAX];
        for (int k = 0; k < n; k++) {
            p[k].fd = fd[k];
            p[k].events = (short)((in[k] & HR_POLL_IN ? POLLIN : 0) |
                                  (in[k] & HR_POLL_OUT ? POLLOUT : 0));
            p[k].revents = 0;
        }
        int64_t t = hr_stream_timeout_ms(s, mono_ns());
        if (t < 0 || t > 50)
            t = 50;
        poll(p, (nfds_t)n, (int)t);
        int rc = hr_stream_step(s, mono_ns());
        ck_assert_msg(rc == HR_OK, "step: %s: %s", hr_status_name(rc),
                      hr_stream_errmsg(s));
    }
}

enum { BY_KEEPALIVES = 1, BY_HEARTBEATS = 2 };

static void quiet_tenant(const char *db, int how)
{
    char ci[512];
    fresh_db(db, ci, sizeof ci);
    PGconn *conn = db_connect(ci);
    make_tables(conn);

    collector c = {0};
    hr_stream_opts *o = base_opts(env, ci);
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, "quiet"), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_status_interval_ms(o, 100), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_heartbeat_interval_ms(
                         o, how & BY_HEARTBEATS ? 200 : 0),
                     HR_OK);
    hr_stream *s = make_stream(env, o, &c);
    hr_stream_opts_free(o);
    if (!(how & BY_KEEPALIVES))
        ignore_keepalive_positions(s);
    wait_streaming(s, 30);
    int most = 0;
    host_loop(s, 250, &most);
    uint64_t before = slot_confirmed(conn, "hr_quiet");

    /* Another tenant writes for ~3 s; the quiet one never does. */
    long id = 1;
    uint64_t end = mono_ns() + 3 * 1000000000ull;
    while (mono_ns() < end) {
        sql(conn,
            "INSERT INTO orders SELECT 'busy', g, 'x' FROM "
            "generate_series(%ld, %ld) g",
            id, id + 99);
        id += 100;
        host_loop(s, 100, &most);
    }
    char lsn[64];
    sql_value(conn, lsn, sizeof lsn, "SELECT pg_current_wal_lsn()");
    uint64_t written = parse_lsn(lsn);
    /* the last keepalives or heartbeats come after the writes */
    uint64_t deadline = mono_ns() + 10 * 1000000000ull;
    while (slot_confirmed(conn, "hr_quiet") < written && mono_ns() < deadline)
        host_loop(s, 50, &most);
    uint64_t after = slot_confirmed(conn, "hr_quiet");
    fprintf(stderr,
            "  quiet tenant's slot (%s%s): %llX -> %llX (WAL at %llX), "
            "%llu heartbeats, up to %d fds\n",
            how == BY_KEEPALIVES   ? "keepalives"
            : how == BY_HEARTBEATS ? "heartbeats"
                                   : "keepalives and heartbeats",
            "", (unsigned long long)before, (unsigned long long)after,
            (unsigned long long)written,
            (unsigned long long)stream_heartbeats(s), most);
    ck_assert_uint_gt(after, before);
    ck_assert_uint_ge(after, written);
    if (how == BY_HEARTBEATS) {
        ck_assert_uint_gt(stream_heartbeats(s), 0);
        ck_assert_int_eq(most, 2); /* the heartbeat's socket was reported */
    }
    if (!(how & BY_HEARTBEATS)) {
        ck_assert_uint_eq(stream_heartbeats(s), 0);
        ck_assert_int_eq(most, 1);
    }
    ck_assert_uint_eq(c.n, 0);
    ck_assert_int_eq(hr_stream_drop(s), HR_OK);
    hr_stream_free(s);
    collector_free(&c);
    PQfinish(conn);
}

START_TEST(quiet_tenant_follows_keepalives)
{
    quiet_tenant("st_ka", BY_KEEPALIVES);
}
END_TEST

START_TEST(quiet_tenant_follows_heartbeats)
{
    quiet_tenant("st_hb", BY_HEARTBEATS);
}
END_TEST

START_TEST(quiet_tenant_follows_both)
{
    quiet_tenant("st_kahb", BY_KEEPALIVES | BY_HEARTBEATS);
}
END_TEST

static Suite *reconnect_suite(void)
{
    Suite *s = suite_create("integration.stream_reconnect");
    TCase *tc = tcase_create("reconnect");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, walsender_killed_confirm_each);
    tcase_add_test(tc, walsender_killed_lazy_confirms);
    tcase_add_test(tc, host_restart_resumes_at_checkpoint);
    tcase_add_test(tc, callback_failure_comes_again_once);
    tcase_add_test(tc, quiet_tenant_follows_keepalives);
    tcase_add_test(tc, quiet_tenant_follows_heartbeats);
    tcase_add_test(tc, quiet_tenant_follows_both);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(reconnect_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
