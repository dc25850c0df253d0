/*
 * test_stream_move.c - a tenant that lags on a shared slot moves to a
 * dedicated slot while the workload runs, against a real PostgreSQL 15:
 *
 *   - ten tenants share a slot; t03's host applies slowly (confirms 30
 *     transactions behind), so hr_stream_tenant_lag_bytes shows it lagging
 *     and the shared slot waits for it;
 *   - a dedicated stream for t03 with hold_start sets up its slot and holds
 *     (phase HELD) while t03 is still behind that slot's start;
 *   - hr_stream_move_tenant says HR_EAGAIN until t03's confirm reaches the
 *     dedicated slot's start, then moves it - with transactions handed over
 *     but not yet confirmed;
 *   - across the move t03 gets every one of its transactions exactly once,
 *     in commit order (the shared stream's part, then the dedicated one's),
 *     the other tenants are untouched, and the shared slot moves on.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_stream_common.h"
#include "test_stream_workload.h"

#define NTEN 10
#define MOVER 3 /* t03 */

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

static hr_stream *new_stream(hr_stream_opts *o, recorder *r)
{
    hr_stream_callbacks cb = rec_callbacks(r);
    hr_stream *s = NULL;
    int rc = hr_stream_new(env, o, &cb, &s);
    ck_assert_msg(rc == HR_OK, "hr_stream_new: %s", hr_env_errmsg(env));
    hr_stream_opts_free(o);
    rec_set_stream(r, s);
    return s;
}

static void run_both(hr_stream *a, hr_stream *b)
{
    int rc = hr_stream_run(a, 5);
    ck_assert_msg(rc == HR_OK, "%s", hr_stream_errmsg(a));
    rc = hr_stream_run(b, 5);
    ck_assert_msg(rc == HR_OK, "%s", hr_stream_errmsg(b));
}

/* Rows the streams handed over of tenants [0, NTEN). */
static size_t rows_in(const recorder *rs, const recorder *rd)
{
    return rec_rows(rs, NTEN) + rec_rows(rd, NTEN);
}

START_TEST(lagging_tenant_moves_to_a_dedicated_slot)
{
    char ci[512];
    fresh_db("st_mover", ci, sizeof ci);
    PGconn *conn = db_connect(ci);
    wl_make_tables(conn);
    const char *mover = wl_name(MOVER);

    workload w;
    wl_init(&w, NTEN, 777);
    recorder rs = {0}, rd = {0};
    rs.policy[MOVER] = REC_CONFIRM_LAG;
    rs.lag[MOVER] = 30;
    hr_stream_opts *o = base_opts(env, ci);
    ck_assert_int_eq(hr_stream_opts_set_mode(o, HR_STREAM_SHARED), HR_OK);
    hr_stream *s = new_stream(o, &rs);
    for (int t = 0; t < NTEN; t++)
        ck_assert_int_eq(hr_stream_add_tenant(s, wl_name(t), 0), HR_OK);
    wait_streaming(s, 30);

    /* 1. t03 falls behind */
    for (int i = 0; i < 150; i++) {
        wl_txn(&w, conn, 8);
        if (i % 10 == 9)
            ck_assert_int_eq(hr_stream_run(s, 5), HR_OK);
    }
    uint64_t deadline = mono_ns() + 30 * 1000000000ull;
    while (rec_rows(&rs, NTEN) < wl_rows(&w, NTEN) && mono_ns() < deadline)
        ck_assert_int_eq(hr_stream_run(s, 50), HR_OK);
    for (int i = 0; i < 6; i++) /* status updates, keepalives */
        ck_assert_int_eq(hr_stream_run(s, 50), HR_OK);
    ck_assert_uint_gt(rs.got[MOVER].ntx, 40);
    int64_t lag = hr_stream_tenant_lag_bytes(s, mover);
    int64_t lag0 = hr_stream_tenant_lag_bytes(s, wl_name(0));
    fprintf(stderr, "  t03 lags %lld bytes, t00 %lld\n", (long long)lag,
            (long long)lag0);
    ck_assert_int_gt(lag, 8192);
    ck_assert_int_lt(lag0, lag / 4);
    ck_assert_int_eq(hr_stream_tenant_lag_bytes(s, "nobody"), HR_ENOTFOUND);
    ck_assert_int_eq(hr_stream_tenant_lag_bytes(s, NULL), HR_EINVAL);
    uint64_t t03_confirm = hr_stream_confirmed_lsn(s, mover);
    ck_assert_uint_le(slot_confirmed(conn, "hr_shared"), t03_confirm);

    /* 2. its dedicated stream sets up and holds */
    o = base_opts(env, ci);
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, mover), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_hold_start(o, 1), HR_OK);
    hr_stream *d = new_stream(o, &rd);
    deadline = mono_ns() + 30 * 1000000000ull;
    while (hr_stream_phase(d) != HR_STREAM_PHASE_HELD) {
        ck_assert_msg(mono_ns() < deadline, "not held: %s",
                      hr_stream_errmsg(d));
        wl_txn(&w, conn, 8);
        run_both(s, d);
    }
    uint64_t c = hr_stream_slot_lsn(d);
    ck_assert_uint_gt(c, 0);
    ck_assert_uint_lt(hr_stream_confirmed_lsn(s, mover), c);
    ck_assert_int_eq(hr_stream_move_tenant(s, mover, d), HR_EAGAIN);
    ck_assert_int_eq(hr_stream_move_tenant(s, wl_name(1), d), HR_EINVAL);
    ck_assert_int_eq(hr_stream_move_tenant(d, mover, s), HR_EINVAL);
    for (int i = 0; i < 5; i++) { /* held: nothing comes */
        wl_txn(&w, conn, 8);
        run_both(s, d);
    }
    ck_assert_int_eq(hr_stream_phase(d), HR_STREAM_PHASE_HELD);
    ck_assert_uint_eq(rd.deliveries, 0);

    /* 3. t03's host catches up (still one transaction behind) and the move
     * goes through once its confirm passed the dedicated slot's start */
    rs.lag[MOVER] = 1;
    int waits = 0, rc;
    deadline = mono_ns() + 30 * 1000000000ull;
    while ((rc = hr_stream_move_tenant(s, mover, d)) == HR_EAGAIN) {
        ck_assert_msg(mono_ns() < deadline, "no move: %s", hr_stream_errmsg(s));
        waits++;
        wl_txn(&w, conn, 8);
        run_both(s, d);
    }
    ck_assert_msg(rc == HR_OK, "move: %s", hr_stream_errmsg(s));
    const wl_txns *gs = &rs.got[MOVER];
    size_t n_shared = gs->ntx;
    uint64_t last_shared = gs->end[n_shared - 1];
    uint64_t moved_at = hr_stream_confirmed_lsn(d, NULL);
    ck_assert_uint_ge(moved_at, c);
    ck_assert_uint_lt(moved_at, last_shared); /* one handed, unconfirmed */
    ck_assert_int_eq(hr_stream_move_tenant(s, mover, d), HR_ENOTFOUND);
    ck_assert_int_eq(hr_stream_confirm(s, mover, last_shared), HR_ENOTFOUND);
    size_t overlap = 0; /* handed over by the shared stream, also in d's slot */
    for (size_t k = 0; k < n_shared; k++)
        overlap += gs->end[k] > c;
    fprintf(stderr,
            "  moved after %d waits; %zu of t03's transactions came from the "
            "shared slot, %zu of them after the dedicated slot's start\n",
            waits, n_shared, overlap);
    ck_assert_uint_gt(overlap, 0);
    /* d starts from t03's confirm, before the last transaction the shared
     * stream handed over: the server sends that one again, d skips it */
    rd.policy[MOVER] = REC_CONFIRM_EACH;
    deadline = mono_ns() + 30 * 1000000000ull;
    while (hr_stream_phase(d) != HR_STREAM_PHASE_STREAMING) {
        ck_assert_msg(mono_ns() < deadline, "not streaming: %s",
                      hr_stream_errmsg(d));
        run_both(s, d);
    }
    run_both(s, d);
    ck_assert_uint_eq(rd.deliveries, 0);
    /* its host confirms what it applied of the shared stream's part on the
     * dedicated stream now, and every new transaction as it comes */
    ck_assert_int_eq(hr_stream_confirm(d, mover, last_shared), HR_OK);

    /* 4. the workload goes on */
    for (int i = 0; i < 150; i++) {
        wl_txn(&w, conn, 8);
        if (i % 10 == 9)
            run_both(s, d);
    }
    deadline = mono_ns() + 30 * 1000000000ull;
    while (rows_in(&rs, &rd) < wl_rows(&w, NTEN) && mono_ns() < deadline)
        run_both(s, d);
    for (int i = 0; i < 6; i++)
        run_both(s, d);
    ck_assert_int_eq(hr_stream_phase(d), HR_STREAM_PHASE_STREAMING);
    ck_assert_uint_eq(rows_in(&rs, &rd), wl_rows(&w, NTEN));

    for (int t = 0; t < NTEN; t++) {
        if (t == MOVER)
            continue;
        check_txns(wl_name(t), &rs.got[t], 0, &w.exp[t], 0, WL_ALL);
        ck_assert_uint_eq(rd.got[t].ntx, 0);
    }
    /* t03: the shared part, then the dedicated part, exactly once */
    ck_assert_uint_eq(gs->ntx, n_shared);
    check_txns(mover, gs, 0, &w.exp[MOVER], 0, n_shared);
    check_txns(mover, &rd.got[MOVER], 0, &w.exp[MOVER], n_shared, WL_ALL);
    ck_assert_uint_gt(rd.got[MOVER].ntx, 10);
    ck_assert_uint_gt(rd.got[MOVER].end[0], last_shared);

    /* the shared slot no longer waits for t03; t03's own slot follows it */
    uint64_t last_d = rd.got[MOVER].end[rd.got[MOVER].ntx - 1];
    deadline = mono_ns() + 10 * 1000000000ull;
    while ((slot_confirmed(conn, "hr_shared") <= moved_at ||
            slot_confirmed(conn, "hr_t03") < last_d) &&
           mono_ns() < deadline)
        run_both(s, d);
    ck_assert_uint_gt(slot_confirmed(conn, "hr_shared"), moved_at);
    ck_assert_uint_ge(slot_confirmed(conn, "hr_t03"), last_d);

    ck_assert_int_eq(hr_stream_drop(d), HR_OK);
    ck_assert_int_eq(hr_stream_drop(s), HR_OK);
    hr_stream_free(d);
    hr_stream_free(s);
    rec_free(&rs);
    rec_free(&rd);
    wl_free(&w);
    PQfinish(conn);
}
END_TEST

static Suite *move_suite(void)
{
    Suite *s = suite_create("integration.stream_move");
    TCase *tc = tcase_create("move");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, lagging_tenant_moves_to_a_dedicated_slot);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(move_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
