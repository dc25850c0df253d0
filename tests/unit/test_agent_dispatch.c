/*
 * test_agent_dispatch.c - the agent's dispatcher (examples/agent/
 * agent_dispatch.c): per-tenant order, whole units, the scheduler's picks,
 * heat raising weights only within the tier's bounds, and round robin when
 * no tenant is hot. Messages are small integers; the dispatcher only
 * carries them.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <heliosrepl/heliosrepl.h>

#include "agent_dispatch.h"
#include "check_main.h"

#define SEC UINT64_C(1000000000)
#define WALL (UINT64_C(1704067200) * SEC)

static hr_env *env;
static dispatch d;
static int freed;

static void count_free(void *msg)
{
    (void)msg;
    freed++;
}

static void *M(size_t tenant, size_t n)
{
    return (void *)(uintptr_t)(tenant * 1000 + n + 1);
}

static void setup(void)
{
    freed = 0;
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
    ck_assert_int_eq(dispatch_init(&d, env, 3, 1000000, count_free), HR_OK);
    ck_assert_int_eq(dispatch_set_name(&d, 0, "a"), HR_OK);
    ck_assert_int_eq(dispatch_set_name(&d, 1, "b"), HR_OK);
    ck_assert_int_eq(dispatch_set_name(&d, 2, "c"), HR_OK);
}

static void teardown(void)
{
    dispatch_free(&d);
    hr_env_free(env);
}

/* The tier presets' reservation and limit would pace these tests' clock
 * (a few ns per decision); the picks tested here are the weight phase's. */
static void no_rates(void)
{
    for (int tier = HR_QOS_PREMIUM; tier <= HR_QOS_BASIC; tier++) {
        ck_assert_int_eq(
            hr_scheduler_set_tier(d.sched, tier, HR_QOS_RESERVATION, 0), HR_OK);
        ck_assert_int_eq(hr_scheduler_set_tier(d.sched, tier, HR_QOS_LIMIT, 0),
                         HR_OK);
    }
}

/* One message out; its tenant. */
static size_t take(uint64_t now, void **msg)
{
    size_t t = DISPATCH_NONE;
    void *m = dispatch_peek(&d, now, &t, NULL);
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_eq(dispatch_peek(&d, now, NULL, NULL), m); /* stable */
    ck_assert_int_eq(dispatch_pop(&d, now), HR_OK);
    if (msg)
        *msg = m;
    return t;
}

static void push_unit(size_t tenant, size_t first, size_t msgs, int64_t cost)
{
    for (size_t k = 0; k < msgs; k++) {
        uint32_t f =
            (k == 0 ? DISPATCH_FIRST : 0) | (k + 1 == msgs ? DISPATCH_LAST : 0);
        ck_assert_int_eq(
            dispatch_push(&d, tenant, M(tenant, first + k), f, cost, 0), HR_OK);
    }
}

START_TEST(order_within_tenant)
{
    no_rates();
    for (size_t u = 0; u < 20; u++)
        for (size_t t = 0; t < 3; t++)
            push_unit(t, u * 2, 2, 10);
    size_t next[3] = {0, 0, 0};
    for (size_t k = 0; k < 120; k++) {
        void *m;
        size_t t = take(k, &m);
        ck_assert_ptr_eq(m, M(t, next[t]));
        next[t]++;
    }
    ck_assert_ptr_null(dispatch_peek(&d, 200, NULL, NULL));
    ck_assert_uint_eq(d.queued, 0);
}
END_TEST

START_TEST(whole_units_never_interleaved)
{
    no_rates();
    push_unit(0, 0, 5, 100);
    for (size_t u = 0; u < 5; u++)
        push_unit(1, u, 1, 1);
    size_t t0 = take(0, NULL);
    /* Whoever starts, its unit goes out whole before the other's. */
    if (t0 == 0)
        for (size_t k = 1; k < 5; k++)
            ck_assert_uint_eq(take(k, NULL), 0);
    size_t seen0 = t0 == 0 ? 5 : 0;
    while (d.queued) {
        size_t t = take(10, NULL);
        if (t == 0) {
            ck_assert_uint_eq(seen0, 0);
            for (size_t k = 1; k < 5; k++)
                ck_assert_uint_eq(take(10, NULL), 0);
            seen0 = 5;
        }
    }
    ck_assert_uint_eq(seen0, 5);
}
END_TEST

START_TEST(open_unit_waits_for_its_rest)
{
    no_rates();
    ck_assert_int_eq(dispatch_push(&d, 0, M(0, 0), DISPATCH_FIRST, 1, 0),
                     HR_OK);
    ck_assert_uint_eq(take(0, NULL), 0);
    push_unit(1, 0, 1, 1);
    /* Tenant 1 has a whole unit, but tenant 0's unit is half handed over. */
    uint64_t wait = 0;
    ck_assert_ptr_null(dispatch_peek(&d, 1, NULL, &wait));
    ck_assert_int_eq(dispatch_pop(&d, 1), HR_ESTATE);
    ck_assert_int_eq(dispatch_push(&d, 0, M(0, 1), 0, 1, 2), HR_OK);
    ck_assert_uint_eq(take(3, NULL), 0);
    ck_assert_ptr_null(dispatch_peek(&d, 3, NULL, NULL));
    ck_assert_int_eq(dispatch_push(&d, 0, M(0, 2), DISPATCH_LAST, 1, 4), HR_OK);
    ck_assert_uint_eq(take(5, NULL), 0);
    ck_assert_uint_eq(take(6, NULL), 1);
}
END_TEST

START_TEST(standalone_abort_and_drop)
{
    no_rates();
    /* A message outside any unit is a unit of its own (copy-done mark). */
    ck_assert_int_eq(dispatch_push(&d, 2, M(2, 0), 0, 0, 0), HR_OK);
    ck_assert_uint_eq(d.t[2].units, 1);
    ck_assert_uint_eq(take(0, NULL), 2);
    ck_assert_uint_eq(d.t[2].units_done, 1);
    /* ABORT ends the open unit like LAST. */
    ck_assert_int_eq(dispatch_push(&d, 2, M(2, 1), DISPATCH_FIRST, 1, 0),
                     HR_OK);
    ck_assert_int_eq(dispatch_push(&d, 2, M(2, 2), DISPATCH_ABORT, 0, 0),
                     HR_OK);
    ck_assert_int_eq(d.t[2].tail_open, 0);
    take(1, NULL);
    take(1, NULL);
    ck_assert_uint_eq(d.t[2].units, 0);
    ck_assert_uint_eq(d.cur, DISPATCH_NONE);
    /* A failed tenant's queue is freed, its half unit forgotten. */
    push_unit(1, 0, 3, 1);
    push_unit(1, 3, 2, 1);
    ck_assert_uint_eq(take(2, NULL), 1);
    dispatch_drop_tenant(&d, 1, 3);
    ck_assert_int_eq(freed, 4);
    ck_assert_uint_eq(d.queued, 0);
    ck_assert_ptr_null(dispatch_peek(&d, 4, NULL, NULL));
    push_unit(0, 0, 1, 1);
    ck_assert_uint_eq(take(5, NULL), 0);
}
END_TEST

/* Without heat: equal weights, equal costs: strict turns. */
START_TEST(no_heat_is_round_robin)
{
    no_rates();
    for (size_t u = 0; u < 300; u++)
        for (size_t t = 0; t < 3; t++)
            push_unit(t, u, 1, 50);
    size_t served[3] = {0, 0, 0};
    for (size_t k = 0; k < 900; k++) {
        served[take(k * 1000, NULL)]++;
        size_t lo = served[0], hi = served[0];
        for (size_t t = 1; t < 3; t++) {
            lo = served[t] < lo ? served[t] : lo;
            hi = served[t] > hi ? served[t] : hi;
        }
        ck_assert_uint_le(hi - lo, 1);
    }
}
END_TEST

static double setting(size_t t, hr_qos_setting which)
{
    double v = -1;
    ck_assert_int_eq(hr_scheduler_tenant_setting(d.sched, t, which, &v, NULL),
                     HR_OK);
    return v;
}

START_TEST(heat_raises_weight_within_bounds)
{
    double base = setting(0, HR_QOS_WEIGHT);
    double res = setting(0, HR_QOS_RESERVATION), lim = setting(0, HR_QOS_LIMIT);
    ck_assert_double_eq(dispatch_set_heat(&d, 0, 0.1, 0), base);
    ck_assert_double_eq(dispatch_set_heat(&d, 0, NAN, 0), base);
    ck_assert_double_eq_tol(dispatch_set_heat(&d, 0, 2.0, 0), 2 * base, 1e-9);
    ck_assert_double_eq_tol(dispatch_set_heat(&d, 0, 1e9, 0),
                            DISPATCH_HOT_MAX * base, 1e-9);
    ck_assert_double_eq_tol(dispatch_set_heat(&d, 0, 4.0, 0), 4 * base, 1e-9);
    ck_assert_double_eq_tol(setting(0, HR_QOS_WEIGHT), 4 * base, 1e-9);
    ck_assert_double_eq(setting(0, HR_QOS_RESERVATION), res);
    ck_assert_double_eq(setting(0, HR_QOS_LIMIT), lim);
    /* Another tier: bounded by that tier's weight. */
    ck_assert_int_eq(dispatch_set_tier(&d, 1, HR_QOS_BASIC, 0), HR_OK);
    double basic = setting(1, HR_QOS_WEIGHT);
    ck_assert_double_eq_tol(dispatch_set_heat(&d, 1, 1e9, 0),
                            DISPATCH_HOT_MAX * basic, 1e-9);
    dispatch_clear_heat(&d, 0);
    ck_assert_double_eq(setting(0, HR_QOS_WEIGHT), base);
    ck_assert_double_eq(setting(1, HR_QOS_WEIGHT), basic);
    ck_assert_int_eq(dispatch_tier_parse("premium"), HR_QOS_PREMIUM);
    ck_assert_int_eq(dispatch_tier_parse("gold"), 0);
}
END_TEST

/* A hot tenant gets its raised share of the applier. */
START_TEST(scheduler_follows_heat)
{
    no_rates();
    for (size_t u = 0; u < 400; u++)
        for (size_t t = 0; t < 2; t++)
            push_unit(t, u, 1, 10);
    dispatch_set_heat(&d, 0, 4.0, 0);
    size_t served[2] = {0, 0};
    for (size_t k = 0; k < 500; k++)
        served[take(k * 1000, NULL)]++;
    /* Weights 4:1 -> 400:100. */
    ck_assert_uint_ge(served[0], 370);
    ck_assert_uint_le(served[0], 420);
}
END_TEST

START_TEST(predictor_names_the_hot)
{
    hr_predictor *p = NULL;
    ck_assert_int_eq(hr_predictor_new(env, &p), HR_OK);
    ck_assert_int_eq(
        hr_predictor_set_param(p, HR_PREDICTOR_PARAM_WINDOW_MS, 10000), HR_OK);
    for (int w = 0; w < 20; w++)
        for (int k = 0; k < 30; k++)
            ck_assert_int_eq(
                dispatch_observe(&d, p, 1, "public.t",
                                 WALL + (uint64_t)w * 10 * SEC + (uint64_t)k,
                                 HR_PREDICTOR_WRITE),
                HR_OK);
    int hot = dispatch_apply_predictor(&d, p, 0, WALL + 200 * SEC + 1);
    ck_assert_int_eq(hot, 1);
    double base = 0;
    hr_scheduler_get_tier(d.sched, HR_QOS_STANDARD, HR_QOS_WEIGHT, &base);
    /* One hot tenant of three weighs DISPATCH_HOT_SET_WEIGHT of the sum. */
    ck_assert_double_eq_tol(d.t[1].weight / (d.t[1].weight + 2 * base),
                            DISPATCH_HOT_SET_WEIGHT, 1e-9);
    ck_assert_double_eq(d.t[0].weight, base);
    ck_assert_double_eq(d.t[2].weight, base);
    double s = 0;
    ck_assert_int_eq(
        hr_predictor_score(p, "b/public.t", WALL + 200 * SEC + 1, &s), HR_OK);
    ck_assert_double_gt(s, 0);
    hr_predictor_free(p);
}
END_TEST

/* When everybody is hot, nobody is: at most DISPATCH_HOT_SHARE of the
 * tenants get a raised weight, the best scores first. */
START_TEST(hot_share_is_capped)
{
    dispatch big;
    ck_assert_int_eq(dispatch_init(&big, env, 10, 1000000, NULL), HR_OK);
    hr_predictor *p = NULL;
    ck_assert_int_eq(hr_predictor_new(env, &p), HR_OK);
    ck_assert_int_eq(
        hr_predictor_set_param(p, HR_PREDICTOR_PARAM_WINDOW_MS, 10000), HR_OK);
    for (size_t i = 0; i < 10; i++) {
        char name[8];
        snprintf(name, sizeof name, "t%zu", i);
        ck_assert_int_eq(dispatch_set_name(&big, i, name), HR_OK);
    }
    /* Every tenant read in every window: all score high. */
    for (int w = 0; w < 20; w++)
        for (size_t i = 0; i < 10; i++)
            for (int k = 0; k < 5; k++)
                ck_assert_int_eq(dispatch_observe(&big, p, i, NULL,
                                                  WALL +
                                                      (uint64_t)w * 10 * SEC +
                                                      i * 10 + (uint64_t)k,
                                                  HR_PREDICTOR_READ),
                                 HR_OK);
    int hot = dispatch_apply_predictor(&big, p, 0, WALL + 200 * SEC + 1);
    ck_assert_int_eq(hot, 2);
    double base = 0;
    hr_scheduler_get_tier(big.sched, HR_QOS_STANDARD, HR_QOS_WEIGHT, &base);
    size_t raised = 0;
    double hot_weight = 0, all_weight = 0;
    for (size_t i = 0; i < 10; i++) {
        ck_assert_double_le(big.t[i].weight, DISPATCH_HOT_MAX * base + 1e-9);
        raised += big.t[i].weight > base;
        hot_weight += big.t[i].weight > base ? big.t[i].weight : 0;
        all_weight += big.t[i].weight;
    }
    ck_assert_uint_eq(raised, 2);
    ck_assert_double_eq_tol(hot_weight / all_weight, DISPATCH_HOT_SET_WEIGHT,
                            1e-9);
    hr_predictor_free(p);
    dispatch_free(&big);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("agent_dispatch");
    TCase *tc = tcase_create("dispatch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, order_within_tenant);
    tcase_add_test(tc, whole_units_never_interleaved);
    tcase_add_test(tc, open_unit_waits_for_its_rest);
    tcase_add_test(tc, standalone_abort_and_drop);
    tcase_add_test(tc, no_heat_is_round_robin);
    tcase_add_test(tc, heat_raises_weight_within_bounds);
    tcase_add_test(tc, scheduler_follows_heat);
    tcase_add_test(tc, predictor_names_the_hot);
    tcase_add_test(tc, hot_share_is_capped);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
