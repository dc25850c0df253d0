/*
 * test_qos.c - the QoS scheduler's rules, one at a time, with a simulated
 * clock (`now` in nanoseconds): parameters, tier presets and overrides,
 * the reservation / weight / limit phases, no credit for idle time, changes
 * while running, the heap structure, and every allocation failure. The
 * 1,000-tenant fairness runs are in test_qos_fairness.c.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include <heliosrepl/heliosrepl.h>

#include "check_main.h"
#include "failing_allocator.h"
#include "qos/qos_internal.h"

#define SEC UINT64_C(1000000000)
#define MS UINT64_C(1000000)

static hr_env *env;
static hr_scheduler *s;

static void setup(void)
{
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
    ck_assert_int_eq(hr_scheduler_new(env, &s), HR_OK);
}

static void teardown(void)
{
    hr_scheduler_free(s);
    hr_env_free(env);
}

static double setting(uint64_t tenant, hr_qos_setting which)
{
    double v = -1;
    ck_assert_int_eq(hr_scheduler_tenant_setting(s, tenant, which, &v, NULL),
                     HR_OK);
    return v;
}

/* Add a tenant with explicit settings (0 = none for reservation/limit). */
static void add(uint64_t tenant, double res, double weight, double limit)
{
    ck_assert_int_eq(hr_scheduler_add(s, tenant, HR_QOS_BASIC), HR_OK);
    ck_assert_int_eq(
        hr_scheduler_override(s, tenant, HR_QOS_RESERVATION, res, 0), HR_OK);
    ck_assert_int_eq(hr_scheduler_override(s, tenant, HR_QOS_WEIGHT, weight, 0),
                     HR_OK);
    ck_assert_int_eq(hr_scheduler_override(s, tenant, HR_QOS_LIMIT, limit, 0),
                     HR_OK);
}

/* Decide at `now` and charge `cost`; returns the tenant served. */
static uint64_t serve(uint64_t now, int64_t cost)
{
    uint64_t tenant = UINT64_MAX, wait = 1;
    ck_assert_int_eq(hr_scheduler_next(s, now, &tenant, &wait), HR_OK);
    ck_assert_uint_eq(wait, 0);
    ck_assert_int_eq(hr_scheduler_charge(s, tenant, cost, 1, now), HR_OK);
    return tenant;
}

static hr_qos_tenant_stats stats(uint64_t tenant)
{
    hr_qos_tenant_stats st = {.size = sizeof st};
    ck_assert_int_eq(hr_scheduler_tenant_stats(s, tenant, &st), HR_OK);
    return st;
}

START_TEST(params_have_bounds)
{
    static const struct {
        hr_scheduler_param p;
        int64_t min, max, initial;
    } specs[] = {
        {HR_SCHED_PARAM_CAPACITY, 1, INT64_C(1) << 50, 1000000},
        {HR_SCHED_PARAM_ADMISSION, 0, 1, 0},
        {HR_SCHED_PARAM_MAX_TENANTS, 1, 1 << 24, 1 << 20},
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        int64_t lo, hi, v;
        ck_assert_int_eq(hr_scheduler_param_bounds(specs[i].p, &lo, &hi),
                         HR_OK);
        ck_assert_int_eq(lo, specs[i].min);
        ck_assert_int_eq(hi, specs[i].max);
        ck_assert_int_eq(hr_scheduler_get_param(s, specs[i].p, &v), HR_OK);
        ck_assert_int_eq(v, specs[i].initial);
        ck_assert_int_eq(hr_scheduler_set_param(s, specs[i].p, hi), HR_OK);
        ck_assert_int_eq(hr_scheduler_set_param(s, specs[i].p, hi + 1),
                         HR_EINVAL);
        ck_assert_int_eq(hr_scheduler_set_param(s, specs[i].p, lo - 1),
                         HR_EINVAL);
    }
    int64_t lo, hi;
    ck_assert_int_eq(hr_scheduler_param_bounds(0, &lo, &hi), HR_EINVAL);
    ck_assert_int_eq(hr_scheduler_param_bounds(4, &lo, &hi), HR_EINVAL);
    ck_assert_int_eq(hr_scheduler_set_param(s, 9, 1), HR_EINVAL);
    ck_assert_str_eq(hr_scheduler_errmsg(s), "unknown scheduler parameter 9");
    ck_assert_int_eq(hr_scheduler_new(env, NULL), HR_EINVAL);
    hr_scheduler *x = (hr_scheduler *)1;
    ck_assert_int_eq(hr_scheduler_new(NULL, &x), HR_EINVAL);
    ck_assert_ptr_null(x);
    hr_scheduler_free(NULL);
}
END_TEST

START_TEST(tier_presets_and_overrides)
{
    /* The documented defaults, scaled by the default capacity (1e6/s). */
    static const double presets[4][4] = {
        [HR_QOS_PREMIUM] = {0, 0.01, 4, 0},
        [HR_QOS_STANDARD] = {0, 0.001, 2, 0.10},
        [HR_QOS_BASIC] = {0, 0, 1, 0.02},
    };
    for (int tier = HR_QOS_PREMIUM; tier <= HR_QOS_BASIC; tier++) {
        ck_assert_int_eq(hr_scheduler_add(s, (uint64_t)tier, tier), HR_OK);
        for (int k = HR_QOS_RESERVATION; k <= HR_QOS_LIMIT; k++) {
            double v;
            ck_assert_int_eq(hr_scheduler_get_tier(s, tier, k, &v), HR_OK);
            ck_assert_double_eq(v, presets[tier][k]);
            const double scale = k == HR_QOS_WEIGHT ? 1 : 1e6;
            ck_assert_double_eq_tol(setting((uint64_t)tier, k),
                                    presets[tier][k] * scale, 1e-6);
        }
    }
    /* Tenants follow their preset and the capacity... */
    ck_assert_int_eq(
        hr_scheduler_set_param(s, HR_SCHED_PARAM_CAPACITY, 2000000), HR_OK);
    ck_assert_double_eq_tol(setting(1, HR_QOS_RESERVATION), 20000, 1e-6);
    ck_assert_int_eq(
        hr_scheduler_set_tier(s, HR_QOS_PREMIUM, HR_QOS_RESERVATION, 0.05),
        HR_OK);
    ck_assert_double_eq_tol(setting(1, HR_QOS_RESERVATION), 100000, 1e-6);
    /* ...unless they override it, until the override is cleared. */
    int overridden = -1;
    double v;
    ck_assert_int_eq(hr_scheduler_override(s, 1, HR_QOS_RESERVATION, 123, 0),
                     HR_OK);
    ck_assert_int_eq(
        hr_scheduler_tenant_setting(s, 1, HR_QOS_RESERVATION, &v, &overridden),
        HR_OK);
    ck_assert_double_eq(v, 123);
    ck_assert_int_eq(overridden, 1);
    ck_assert_int_eq(hr_scheduler_set_param(s, HR_SCHED_PARAM_CAPACITY, 1000),
                     HR_OK);
    ck_assert_double_eq(setting(1, HR_QOS_RESERVATION), 123);
    ck_assert_int_eq(hr_scheduler_clear_override(s, 1, HR_QOS_RESERVATION, 0),
                     HR_OK);
    ck_assert_double_eq_tol(setting(1, HR_QOS_RESERVATION), 50, 1e-9);
    /* Moving tiers keeps overrides. */
    ck_assert_int_eq(hr_scheduler_override(s, 3, HR_QOS_WEIGHT, 7.5, 0), HR_OK);
    ck_assert_int_eq(hr_scheduler_set_tenant_tier(s, 3, HR_QOS_PREMIUM, 0),
                     HR_OK);
    ck_assert_double_eq(setting(3, HR_QOS_WEIGHT), 7.5);
    ck_assert_double_eq_tol(setting(3, HR_QOS_RESERVATION), 50, 1e-9);
    ck_assert_int_eq(stats(3).tier, HR_QOS_PREMIUM);
    /* Bad values. */
    ck_assert_int_eq(hr_scheduler_set_tier(s, 0, HR_QOS_WEIGHT, 1), HR_EINVAL);
    ck_assert_int_eq(
        hr_scheduler_set_tier(s, HR_QOS_BASIC, HR_QOS_RESERVATION, 1.5),
        HR_EINVAL);
    ck_assert_int_eq(hr_scheduler_set_tier(s, HR_QOS_BASIC, HR_QOS_WEIGHT, 0),
                     HR_EINVAL);
    ck_assert_int_eq(hr_scheduler_override(s, 1, HR_QOS_LIMIT, NAN, 0),
                     HR_EINVAL);
    ck_assert_int_eq(hr_scheduler_override(s, 1, HR_QOS_LIMIT, -1, 0),
                     HR_EINVAL);
    ck_assert_int_eq(hr_scheduler_override(s, 1, 4, 1, 0), HR_EINVAL);
    ck_assert_int_eq(hr_scheduler_override(s, 99, HR_QOS_LIMIT, 1, 0),
                     HR_ENOTFOUND);
    ck_assert_str_eq(hr_scheduler_errmsg(s), "no tenant 99");
}
END_TEST

START_TEST(tenants_come_and_go)
{
    ck_assert_int_eq(hr_scheduler_add(s, 7, HR_QOS_STANDARD), HR_OK);
    ck_assert_int_eq(hr_scheduler_add(s, 7, HR_QOS_BASIC), HR_ECONFLICT);
    ck_assert_int_eq(hr_scheduler_add(s, 8, 0), HR_EINVAL);
    ck_assert_uint_eq(hr_scheduler_tenant_count(s), 1);
    ck_assert_int_eq(hr_scheduler_remove(s, 8), HR_ENOTFOUND);
    ck_assert_int_eq(hr_scheduler_remove(s, 7), HR_OK);
    ck_assert_int_eq(hr_scheduler_remove(s, 7), HR_ENOTFOUND);
    ck_assert_uint_eq(hr_scheduler_tenant_count(s), 0);
    /* MAX_TENANTS */
    ck_assert_int_eq(hr_scheduler_set_param(s, HR_SCHED_PARAM_MAX_TENANTS, 2),
                     HR_OK);
    ck_assert_int_eq(hr_scheduler_add(s, 1, HR_QOS_BASIC), HR_OK);
    ck_assert_int_eq(hr_scheduler_add(s, 2, HR_QOS_BASIC), HR_OK);
    ck_assert_int_eq(hr_scheduler_add(s, 3, HR_QOS_BASIC), HR_ELIMIT);
    ck_assert_int_eq(hr_scheduler_set_param(s, HR_SCHED_PARAM_MAX_TENANTS, 1),
                     HR_ELIMIT);
    /* Admission: reservations may not exceed the capacity. */
    ck_assert_int_eq(hr_scheduler_set_param(s, HR_SCHED_PARAM_CAPACITY, 1000),
                     HR_OK);
    ck_assert_int_eq(hr_scheduler_set_param(s, HR_SCHED_PARAM_ADMISSION, 1),
                     HR_OK);
    ck_assert_int_eq(hr_scheduler_override(s, 1, HR_QOS_RESERVATION, 600, 0),
                     HR_OK);
    ck_assert_int_eq(hr_scheduler_override(s, 2, HR_QOS_RESERVATION, 500, 0),
                     HR_ELIMIT);
    ck_assert_double_eq(setting(2, HR_QOS_RESERVATION), 0); /* unchanged */
    ck_assert_int_eq(hr_scheduler_override(s, 2, HR_QOS_RESERVATION, 400, 0),
                     HR_OK);
    ck_assert_int_eq(hr_scheduler_set_param(s, HR_SCHED_PARAM_CAPACITY, 999),
                     HR_ELIMIT);
    ck_assert_int_eq(
        hr_scheduler_set_tier(s, HR_QOS_BASIC, HR_QOS_RESERVATION, 0.1),
        HR_OK); /* both tenants override it */
    ck_assert_int_eq(hr_scheduler_clear_override(s, 2, HR_QOS_RESERVATION, 0),
                     HR_OK); /* 600 + 100 */
    ck_assert_int_eq(
        hr_scheduler_set_tier(s, HR_QOS_BASIC, HR_QOS_RESERVATION, 0.5),
        HR_ELIMIT);
    ck_assert_int_eq(hr_scheduler_remove(s, 1), HR_OK);
    ck_assert_int_eq(
        hr_scheduler_set_tier(s, HR_QOS_BASIC, HR_QOS_RESERVATION, 0.5), HR_OK);
    ck_assert_int_eq(hr__sched_check(s), HR_OK);
}
END_TEST

START_TEST(nothing_to_do)
{
    uint64_t tenant = 5, wait = 0;
    ck_assert_int_eq(hr_scheduler_next(s, 0, &tenant, &wait), HR_ENOTFOUND);
    ck_assert_uint_eq(wait, UINT64_MAX);
    ck_assert_uint_eq(tenant, 5);
    add(1, 0, 1, 0);
    ck_assert_int_eq(hr_scheduler_next(s, 0, &tenant, &wait), HR_ENOTFOUND);
    ck_assert_int_eq(hr_scheduler_set_backlog(s, 1, 2, 0), HR_OK);
    ck_assert_uint_eq(hr_scheduler_backlogged_count(s), 1);
    ck_assert_int_eq(hr_scheduler_next(s, 0, NULL, NULL), HR_OK);
    /* Two items: after two charges the tenant is idle again. */
    ck_assert_uint_eq(serve(0, 1), 1);
    ck_assert_uint_eq(serve(0, 1), 1);
    ck_assert_uint_eq(hr_scheduler_backlogged_count(s), 0);
    ck_assert_int_eq(hr_scheduler_next(s, 0, &tenant, &wait), HR_ENOTFOUND);
    ck_assert_int_eq(hr_scheduler_next(NULL, 0, &tenant, &wait), HR_EINVAL);
    ck_assert_int_eq(hr_scheduler_set_backlog(s, 2, 1, 0), HR_ENOTFOUND);
    ck_assert_int_eq(hr_scheduler_enqueue(s, 1, UINT64_MAX, 0), HR_OK);
    ck_assert_int_eq(hr_scheduler_enqueue(s, 1, 5, 0), HR_OK); /* saturates */
    ck_assert_uint_eq(stats(1).backlog, UINT64_MAX);
}
END_TEST

/* Reservations come first; the rest is shared by weight. */
START_TEST(reservation_then_weight)
{
    add(1, 100, 1, 0);  /* 100 units/s guaranteed, tiny weight */
    add(2, 0, 1000, 0); /* no reservation, huge weight */
    ck_assert_int_eq(hr_scheduler_set_backlog(s, 1, 1000000, 0), HR_OK);
    ck_assert_int_eq(hr_scheduler_set_backlog(s, 2, 1000000, 0), HR_OK);
    /* A server doing 1000 units/s in items of 1 unit, for 10 s: tenant 1
     * gets its 100/s in the reservation phase plus 1/1001 of the rest. */
    int served[3] = {0};
    for (uint64_t i = 0; i < 10000; i++)
        served[serve(i * MS, 1)]++;
    const hr_qos_tenant_stats a = stats(1), b = stats(2);
    ck_assert_int_ge(a.reservation_cost, 999);
    ck_assert_int_le(a.reservation_cost, 1001);
    ck_assert_int_le(a.weight_cost, 10);
    ck_assert_int_eq(b.reservation_cost, 0);
    ck_assert_int_eq(a.reservation_cost + a.weight_cost, served[1]);
    ck_assert_int_eq(b.weight_cost, served[2]);
    ck_assert_uint_eq(a.decisions, (uint64_t)served[1]);
    ck_assert_int_eq(a.last_phase, HR_QOS_PHASE_RESERVATION);
    ck_assert_int_eq(b.last_phase, HR_QOS_PHASE_WEIGHT);
}
END_TEST

/* Backlogged tenants without reservations share in proportion to weight,
 * to within one item. */
START_TEST(weights_share_exactly)
{
    add(1, 0, 1, 0);
    add(2, 0, 3, 0);
    add(3, 0, 0.5, 0);
    for (uint64_t t = 1; t <= 3; t++)
        ck_assert_int_eq(hr_scheduler_set_backlog(s, t, 100000, 0), HR_OK);
    int served[4] = {0};
    for (int i = 0; i < 9000; i++)
        served[serve(0, 1)]++;
    ck_assert_int_le(abs(served[1] - 2000), 1);
    ck_assert_int_le(abs(served[2] - 6000), 1);
    ck_assert_int_le(abs(served[3] - 1000), 1);
}
END_TEST

START_TEST(limit_is_a_ceiling)
{
    add(1, 0, 1, 10); /* at most 10 units/s */
    ck_assert_int_eq(hr_scheduler_set_backlog(s, 1, 100000, 0), HR_OK);
    ck_assert_uint_eq(serve(0, 2), 1); /* 2 units: next in 200 ms */
    uint64_t tenant, wait;
    ck_assert_int_eq(hr_scheduler_next(s, 50 * MS, &tenant, &wait), HR_EAGAIN);
    ck_assert_uint_eq(wait, 150 * MS);
    ck_assert_int_eq(hr_scheduler_next(s, 200 * MS - 1, &tenant, &wait),
                     HR_EAGAIN);
    ck_assert_uint_eq(wait, 1);
    ck_assert_uint_eq(serve(200 * MS, 1), 1);
    /* Polling as fast as allowed for 100 s serves 100 s * 10/s, never more,
     * and waiting does not save up: the pace restarts from now. */
    uint64_t now = 300 * MS, units = 3;
    while (now < 100 * SEC) {
        int rc = hr_scheduler_next(s, now, &tenant, &wait);
        if (rc == HR_OK) {
            ck_assert_int_eq(hr_scheduler_charge(s, 1, 1, 1, now), HR_OK);
            units++;
            now += 1 * MS;
        } else {
            ck_assert_int_eq(rc, HR_EAGAIN);
            now += wait;
        }
    }
    ck_assert_uint_le(units, 1000 + 1);
    ck_assert_uint_ge(units, 1000 - 1);
    /* Idle for 10 s, then 5 items at once: still one per 100 ms. */
    const uint64_t back = 110 * SEC;
    ck_assert_uint_eq(serve(back, 1), 1);
    ck_assert_int_eq(hr_scheduler_next(s, back, &tenant, &wait), HR_EAGAIN);
    ck_assert_uint_eq(wait, 100 * MS);
    /* A raised limit applies at once. */
    ck_assert_int_eq(hr_scheduler_override(s, 1, HR_QOS_LIMIT, 0, back), HR_OK);
    ck_assert_int_eq(hr_scheduler_next(s, back, &tenant, &wait), HR_OK);
}
END_TEST

/* A tenant that was idle gets no back pay, in either phase. */
START_TEST(idle_earns_no_credit)
{
    add(1, 100, 1, 0); /* reservation 100/s */
    add(2, 0, 1, 0);
    add(3, 0, 1, 0);
    ck_assert_int_eq(hr_scheduler_set_backlog(s, 2, 1000000, 0), HR_OK);
    ck_assert_int_eq(hr_scheduler_set_backlog(s, 3, 1000000, 0), HR_OK);
    /* Tenants 2 and 3 work alone for 10 s (1000 decisions each at 1 ms)... */
    for (uint64_t i = 0; i < 10000; i++)
        serve(i * MS, 1);
    ck_assert_int_eq(stats(2).weight_cost, 5000);
    /* ...tenant 3 goes idle for 10 s while 2 keeps working... */
    ck_assert_int_eq(hr_scheduler_set_backlog(s, 3, 0, 10 * SEC), HR_OK);
    for (uint64_t i = 0; i < 10000; i++)
        ck_assert_uint_eq(serve(10 * SEC + i * MS, 1), 2);
    /* ...and tenant 1 (idle since the start) and 3 come back. */
    const uint64_t t0 = 20 * SEC;
    ck_assert_int_eq(hr_scheduler_set_backlog(s, 1, 1000000, t0), HR_OK);
    ck_assert_int_eq(hr_scheduler_set_backlog(s, 3, 1000000, t0), HR_OK);
    int served[4] = {0};
    for (int i = 0; i < 300; i++)
        served[serve(t0, 1)]++;
    /* At one instant: one reservation item for tenant 1 (not 20 s worth),
     * then the three share by weight: 100 each, not 10000 for tenant 3. */
    ck_assert_int_eq(stats(1).reservation_cost, 1);
    ck_assert_int_le(abs(served[1] - 100), 2);
    ck_assert_int_le(abs(served[2] - 100), 2);
    ck_assert_int_le(abs(served[3] - 100), 2);
}
END_TEST

START_TEST(charges_and_corrections)
{
    add(1, 1000, 1, 0);
    add(2, 0, 1, 0);
    ck_assert_int_eq(hr_scheduler_set_backlog(s, 1, 10, 0), HR_OK);
    ck_assert_int_eq(hr_scheduler_set_backlog(s, 2, 10, 0), HR_OK);
    /* Asking again without charging gives the same answer. */
    uint64_t a, b;
    ck_assert_int_eq(hr_scheduler_next(s, 0, &a, NULL), HR_OK);
    ck_assert_int_eq(hr_scheduler_next(s, 0, &b, NULL), HR_OK);
    ck_assert_uint_eq(a, 1);
    ck_assert_uint_eq(b, 1);
    /* Charge the estimate (10 units), then 5 more once the real cost is
     * known: both in the reservation phase. */
    ck_assert_int_eq(hr_scheduler_charge(s, 1, 10, 1, 0), HR_OK);
    ck_assert_int_eq(hr_scheduler_charge(s, 1, 5, 0, 0), HR_OK);
    hr_qos_tenant_stats st = stats(1);
    ck_assert_int_eq(st.reservation_cost, 15);
    ck_assert_uint_eq(st.items, 1);
    ck_assert_uint_eq(st.backlog, 9);
    /* A refund moves the tags back: 15 - 15 = 0 units, due again now. */
    ck_assert_int_eq(hr_scheduler_charge(s, 1, -15, 0, 0), HR_OK);
    ck_assert_int_eq(stats(1).reservation_cost, 0);
    ck_assert_int_eq(hr_scheduler_next(s, 0, &a, NULL), HR_OK);
    ck_assert_uint_eq(a, 1);
    /* Work the host did on its own counts in the weight phase. */
    ck_assert_int_eq(hr_scheduler_charge(s, 2, 7, 1, 0), HR_OK);
    ck_assert_int_eq(stats(2).weight_cost, 7);
    ck_assert_int_eq(stats(2).decisions, 0);
    /* Removing the tenant just picked: its charge is refused, the next
     * decision goes elsewhere. */
    ck_assert_int_eq(hr_scheduler_remove(s, 1), HR_OK);
    ck_assert_int_eq(hr_scheduler_charge(s, 1, 1, 1, 0), HR_ENOTFOUND);
    ck_assert_int_eq(hr_scheduler_next(s, 0, &a, NULL), HR_OK);
    ck_assert_uint_eq(a, 2);
    ck_assert_int_eq(hr_scheduler_charge(s, 2, INT64_C(1) << 51, 1, 0),
                     HR_EINVAL);
    /* A `now` older than one seen counts as the newest. */
    add(3, 0, 1, 1); /* 1 unit/s */
    ck_assert_int_eq(hr_scheduler_set_backlog(s, 3, 5, 100 * SEC), HR_OK);
    ck_assert_int_eq(hr_scheduler_charge(s, 3, 1, 1, 5 * SEC), HR_OK);
    uint64_t wait;
    ck_assert_int_eq(hr_scheduler_remove(s, 2), HR_OK);
    ck_assert_int_eq(hr_scheduler_next(s, 0, &a, &wait), HR_EAGAIN);
    ck_assert_uint_eq(wait, SEC);
}
END_TEST

static int log2_ceil(uint32_t n)
{
    int k = 0;
    while ((1u << k) < n)
        k++;
    return k;
}

/* Random adds, removals, setting changes, backlog changes and decisions on
 * up to 4096 tenants: after each step the heaps and the map are consistent,
 * and no single operation moves more heap levels than a few heap operations
 * can (O(log n) by structure, not by timing). */
START_TEST(changes_while_running_keep_the_heaps)
{
    uint64_t rng = 7, now = 0;
    int present[4096] = {0};
    for (int step = 0; step < 60000; step++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        const uint32_t r = (uint32_t)(rng >> 33);
        const uint64_t t = r % 4096;
        now += (r >> 12) % 3 * MS;
        uint64_t before = 0;
        for (int h = 0; h < HR__QHEAPS; h++)
            before += s->heaps[h].steps;
        const uint64_t moves = s->limit_moves;
        int rc;
        switch ((r >> 20) % 8) {
        case 0:
            rc = hr_scheduler_add(s, t, (hr_qos_tier)(1 + r % 3));
            ck_assert_int_eq(rc, present[t] ? HR_ECONFLICT : HR_OK);
            present[t] = 1;
            break;
        case 1:
            rc = hr_scheduler_remove(s, t);
            ck_assert_int_eq(rc, present[t] ? HR_OK : HR_ENOTFOUND);
            present[t] = 0;
            break;
        case 2:
            rc = hr_scheduler_override(s, t, (hr_qos_setting)(1 + r % 3),
                                       (double)(1 + (r >> 8) % 5000), now);
            ck_assert_int_eq(rc, present[t] ? HR_OK : HR_ENOTFOUND);
            break;
        case 3:
        case 4:
            rc = hr_scheduler_set_backlog(s, t, (r >> 5) % 4, now);
            ck_assert_int_eq(rc, present[t] ? HR_OK : HR_ENOTFOUND);
            break;
        default: {
            uint64_t who, wait;
            rc = hr_scheduler_next(s, now, &who, &wait);
            if (rc == HR_OK)
                ck_assert_int_eq(
                    hr_scheduler_charge(s, who, 1 + r % 40, 1, now), HR_OK);
            else if (rc == HR_EAGAIN)
                now += wait;
            else
                ck_assert_int_eq(rc, HR_ENOTFOUND);
        }
        }
        uint64_t moved = 0;
        for (int h = 0; h < HR__QHEAPS; h++)
            moved += s->heaps[h].steps;
        moved -= before;
        /* A step re-places one tenant (at most three heap operations),
         * plus, in a decision, three for each tenant held at or released
         * from its limit (each hold follows a charge, each release a
         * hold); a heap operation moves an entry at most 2 log4(n) =
         * log2(n) levels (down to a leaf, then up). */
        const uint64_t levels = (uint64_t)log2_ceil(s->cap) + 1;
        ck_assert_uint_le(moved, levels * (3 + 3 * (s->limit_moves - moves)));
        if (step % 500 == 0)
            ck_assert_int_eq(hr__sched_check(s), HR_OK);
    }
    ck_assert_int_eq(hr__sched_check(s), HR_OK);
}
END_TEST

typedef struct sweep_state {
    hr_scheduler *s;
} sweep_state;

static int sweep_op(hr_env *e, void *state)
{
    sweep_state *st = state;
    int rc = hr_scheduler_new(e, &st->s);
    for (uint64_t t = 0; rc == HR_OK && t < 300; t++)
        rc = hr_scheduler_add(st->s, t * 7919, HR_QOS_STANDARD);
    for (uint64_t t = 0; rc == HR_OK && t < 300; t += 3)
        rc = hr_scheduler_remove(st->s, t * 7919);
    for (uint64_t t = 1000; rc == HR_OK && t < 1100; t++)
        rc = hr_scheduler_add(st->s, t, HR_QOS_BASIC);
    if (rc == HR_OK)
        rc = hr_scheduler_set_backlog(st->s, 1000, 3, 0);
    uint64_t who;
    if (rc == HR_OK)
        rc = hr_scheduler_next(st->s, 0, &who, NULL);
    if (rc == HR_OK)
        rc = hr_scheduler_charge(st->s, who, 1, 1, 0);
    return rc;
}

static void sweep_cleanup(void *state)
{
    sweep_state *st = state;
    hr_scheduler_free(st->s);
    st->s = NULL;
}

START_TEST(every_allocation_failure_is_enomem)
{
    sweep_state st = {0};
    char why[256] = "";
    const long points =
        failing_allocator_sweep(sweep_op, sweep_cleanup, &st, why, sizeof why);
    ck_assert_msg(points > 10, "sweep: %ld (%s)", points, why);
}
END_TEST

static Suite *qos_suite(void)
{
    Suite *su = suite_create("qos");
    TCase *tc = tcase_create("qos");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, params_have_bounds);
    tcase_add_test(tc, tier_presets_and_overrides);
    tcase_add_test(tc, tenants_come_and_go);
    tcase_add_test(tc, nothing_to_do);
    tcase_add_test(tc, reservation_then_weight);
    tcase_add_test(tc, weights_share_exactly);
    tcase_add_test(tc, limit_is_a_ceiling);
    tcase_add_test(tc, idle_earns_no_credit);
    tcase_add_test(tc, charges_and_corrections);
    tcase_add_test(tc, changes_while_running_keep_the_heaps);
    tcase_add_test(tc, every_allocation_failure_is_enomem);
    suite_add_tcase(su, tc);
    return su;
}

int main(void)
{
    return run_suite(qos_suite());
}
