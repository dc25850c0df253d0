/*
 * test_stream_restart.c - 20 tenants on one shared slot, against a real
 * PostgreSQL 15, through a host crash:
 *
 *   1. a workload of multi-tenant transactions (inserts, updates, deletes
 *      over three tables, plus writers nobody registered) streams to 20
 *      tenants: each gets exactly its transactions, in commit order, never
 *      a row of another tenant;
 *   2. each tenant confirms a different point (one nothing, one
 *      everything); the slot never passes the slowest tenant's confirm;
 *   3. the stream is freed without a word (a crash: nothing but the confirms
 *      survives), more transactions commit while it is down;
 *   4. a new stream gets each tenant with its confirmed LSN: each tenant
 *      receives exactly the transactions after its own confirm - none
 *      missing, none repeated, in commit order, with the same end LSNs as
 *      before the crash - and then the new ones.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_stream_common.h"
#include "test_stream_workload.h"

#define NTEN 20

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

static hr_stream *shared_stream(const char *ci, recorder *r)
{
    hr_stream_opts *o = base_opts(env, ci);
    ck_assert_int_eq(hr_stream_opts_set_mode(o, HR_STREAM_SHARED), HR_OK);
    hr_stream_callbacks cb = rec_callbacks(r);
    hr_stream *s = NULL;
    int rc = hr_stream_new(env, o, &cb, &s);
    ck_assert_msg(rc == HR_OK, "hr_stream_new: %s", hr_env_errmsg(env));
    hr_stream_opts_free(o);
    rec_set_stream(r, s);
    return s;
}

/* Run until `rows` rows arrived, then a little longer: nothing more may. */
static void drain(hr_stream *s, const recorder *r, size_t rows)
{
    uint64_t deadline = mono_ns() + 60 * 1000000000ull;
    while (rec_rows(r, NTEN) < rows && mono_ns() < deadline)
        ck_assert_int_eq(hr_stream_run(s, 50), HR_OK);
    if (rec_rows(r, NTEN) < rows)
        for (int t = 0; t < NTEN; t++)
            fprintf(stderr, "  %s: %zu transactions, %zu rows\n", wl_name(t),
                    r->got[t].ntx, r->got[t].nrows);
    ck_assert_msg(rec_rows(r, NTEN) >= rows, "%zu rows of %zu after 60 s",
                  rec_rows(r, NTEN), rows);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(hr_stream_run(s, 50), HR_OK);
    ck_assert_uint_eq(rec_rows(r, NTEN), rows);
}

/* `count` workload transactions, the stream stepped now and then (NULL:
 * down). */
static void write_some(workload *w, PGconn *conn, hr_stream *s, int count)
{
    for (int i = 0; i < count; i++) {
        wl_txn(w, conn, 8);
        if (s && i % 20 == 19)
            ck_assert_int_eq(hr_stream_run(s, 5), HR_OK);
    }
}

START_TEST(twenty_tenants_restart_from_their_confirms)
{
    char ci[512];
    fresh_db("st_restart", ci, sizeof ci);
    PGconn *conn = db_connect(ci);
    wl_make_tables(conn);

    workload w;
    wl_init(&w, NTEN, 4242);
    recorder r1 = {0};
    for (int t = 0; t < NTEN; t++)
        r1.policy[t] = REC_CONFIRM_NONE;
    hr_stream *s = shared_stream(ci, &r1);
    for (int t = 0; t < NTEN; t++)
        ck_assert_int_eq(hr_stream_add_tenant(s, wl_name(t), 0), HR_OK);
    wait_streaming(s, 30);

    /* 1. every tenant gets exactly its transactions */
    write_some(&w, conn, s, 300);
    drain(s, &r1, wl_rows(&w, NTEN));
    for (int t = 0; t < NTEN; t++) {
        ck_assert_uint_gt(w.exp[t].ntx, 10);
        check_txns(wl_name(t), &r1.got[t], 0, &w.exp[t], 0, WL_ALL);
    }

    /* 2. tenant t confirms its first cut[t] transactions: t00 nothing,
     * t19 everything, the others spread in between. A tenant that never
     * confirmed keeps its starting point as its checkpoint:
     * hr_stream_confirmed_lsn (a checkpoint of 0 would make it a new tenant,
     * starting at the stream's position, its initial copy being the host's
     * business). */
    size_t cut[NTEN];
    uint64_t ckpt[NTEN], low = UINT64_MAX;
    for (int t = 0; t < NTEN; t++) {
        size_t ntx = r1.got[t].ntx;
        cut[t] = t == NTEN - 1 ? ntx : (ntx * (size_t)t) / NTEN;
        ckpt[t] = cut[t] ? r1.got[t].end[cut[t] - 1]
                         : hr_stream_confirmed_lsn(s, wl_name(t));
        ck_assert_uint_gt(ckpt[t], 0);
        if (cut[t]) {
            ck_assert_int_eq(hr_stream_confirm(s, wl_name(t), ckpt[t]), HR_OK);
            if (ckpt[t] < low)
                low = ckpt[t];
        }
    }
    /* Let status updates go out (status_interval 200 ms). t00 confirmed
     * nothing, so the slot stays where the stream started; never past the
     * lowest confirm in any case. */
    uint64_t start = ckpt[0];
    ck_assert_uint_lt(start, r1.got[0].end[0]);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(hr_stream_run(s, 50), HR_OK);
    uint64_t slot = slot_confirmed(conn, "hr_shared");
    ck_assert_uint_gt(slot, 0);
    ck_assert_uint_le(slot, start);
    ck_assert_uint_le(hr_stream_confirmed_lsn(s, NULL), start);
    ck_assert_uint_le(slot, low);
    /* t19, with nothing pending, follows the stream's position */
    for (int t = 1; t < NTEN - 1; t++)
        ck_assert_uint_eq(hr_stream_confirmed_lsn(s, wl_name(t)), ckpt[t]);
    ck_assert_uint_ge(hr_stream_confirmed_lsn(s, wl_name(NTEN - 1)),
                      ckpt[NTEN - 1]);

    /* 3. crash: the stream goes away, the source carries on */
    hr_stream_free(s);
    size_t exp_before[NTEN];
    for (int t = 0; t < NTEN; t++)
        exp_before[t] = w.exp[t].ntx;
    write_some(&w, conn, NULL, 100);

    /* 4. restart each tenant from its own checkpoint */
    recorder r2 = {0};
    s = shared_stream(ci, &r2);
    for (int t = 0; t < NTEN; t++)
        ck_assert_int_eq(hr_stream_add_tenant(s, wl_name(t), ckpt[t]), HR_OK);
    wait_streaming(s, 30);
    write_some(&w, conn, s, 100);
    size_t want = 0;
    for (int t = 0; t < NTEN; t++)
        want += w.exp[t].nrows - w.exp[t].first[cut[t]];
    drain(s, &r2, want);
    size_t resent = 0;
    for (int t = 0; t < NTEN; t++) {
        const char *name = wl_name(t);
        check_txns(name, &r2.got[t], 0, &w.exp[t], cut[t], WL_ALL);
        /* the ones delivered before the crash come with the same end LSNs */
        for (size_t k = cut[t]; k < exp_before[t]; k++) {
            ck_assert_uint_eq(r2.got[t].end[k - cut[t]], r1.got[t].end[k]);
            resent++;
        }
        if (r2.got[t].ntx)
            ck_assert_uint_gt(r2.got[t].end[0], ckpt[t]);
    }
    fprintf(stderr,
            "  restart: %zu deliveries before the crash, %zu after (%zu "
            "of them unconfirmed before it)\n",
            r1.deliveries, r2.deliveries, resent);
    ck_assert_uint_gt(resent, 0);

    ck_assert_int_eq(hr_stream_drop(s), HR_OK);
    hr_stream_free(s);
    rec_free(&r1);
    rec_free(&r2);
    wl_free(&w);
    PQfinish(conn);
}
END_TEST

static Suite *restart_suite(void)
{
    Suite *s = suite_create("integration.stream_restart");
    TCase *tc = tcase_create("restart");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, twenty_tenants_restart_from_their_confirms);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(restart_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
