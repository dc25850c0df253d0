/*
 * bench_qos.c - decisions per second of the QoS scheduler on one core, and
 * the fairness figures of the 1,000-tenant simulation of the unit test.
 *
 * Usage: bench-qos [--quick] [--no-sim]
 *
 *   --quick   shorter timings and a 10-second simulation (a smoke run)
 *   --no-sim  only the decisions/s figures
 *
 * Prints one `name value unit` line per figure on stdout:
 *
 *   qos.tenants10000.decisions_s       hr_scheduler_next + hr_scheduler_charge
 *                                      pairs per second, 10,000 tenants
 *   qos.tenants1000.decisions_s        the same with 1,000 tenants
 *   qos.tenants*.decisions_cpu_s       the same per second of the thread's
 *                                      CPU time (what a core of its own
 *                                      would do when the machine is shared)
 *   qos.reservation_windows_met_pct    the simulation (tests/unit/qos_sim.h),
 *   qos.limit_overshoot_max_pct        capacity estimate exact, 60 simulated
 *   qos.share_error_max_pct            seconds (share: the worse of the two
 *                                      measures of qos_sim.h)
 *   qos.est_low30.*                    the same, real capacity 1.3 x estimate
 *   qos.est_high30.reservation_windows_met_pct, ...limit_overshoot_max_pct
 *                                      real capacity 0.7 x estimate: the
 *                                      reservations (129% of it) scaled down
 *
 * Decisions: every tenant always has work; the tiers, reservations (90% of
 * a capacity of 10^9 units/s), weights and limits are those of the
 * simulation scaled to n tenants, so the basic tenants run into their limits
 * and the decisions include moving tenants on and off the limit heap. Item
 * costs are uniform in 15..25, drawn before timing; `now` advances by cost
 * / capacity per decision. One untimed pass of 10^5 decisions, then passes
 * of 10^6 until 1 s has gone (--quick: 0.2 s); decisions/s = decisions per
 * second of CLOCK_MONOTONIC. stderr notes a figure whose wall time exceeds
 * its thread CPU time by more than 10% (another process took the core).
 *
 * Exit status 0; 1 when a scheduler call fails; 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <heliosrepl/heliosrepl.h>

#include "support.h"
#include "qos_sim.h"

#define CAPACITY 1000000000.0
#define COSTS 4096

static hr_scheduler *make(hr_env *env, int n)
{
    hr_scheduler *s;
    bench_check(hr_scheduler_new(env, &s), "hr_scheduler_new");
    const double scale = 1000.0 / n;
    bench_check(
        hr_scheduler_set_param(s, HR_SCHED_PARAM_CAPACITY, (int64_t)CAPACITY),
        "capacity");
    static const struct {
        hr_qos_tier tier;
        double reservation, weight, limit;
    } tiers[] = {
        {HR_QOS_PREMIUM, 0.002, 4, 0},
        {HR_QOS_STANDARD, 0.001, 2, 0},
        {HR_QOS_BASIC, 0.0006, 1, 0.00075},
    };
    for (size_t k = 0; k < 3; k++) {
        bench_check(hr_scheduler_set_tier(s, tiers[k].tier, HR_QOS_RESERVATION,
                                          tiers[k].reservation * scale),
                    "tier");
        bench_check(hr_scheduler_set_tier(s, tiers[k].tier, HR_QOS_WEIGHT,
                                          tiers[k].weight),
                    "tier");
        bench_check(hr_scheduler_set_tier(s, tiers[k].tier, HR_QOS_LIMIT,
                                          tiers[k].limit * scale),
                    "tier");
    }
    for (int i = 0; i < n; i++) {
        const hr_qos_tier tier = i < n / 10  ? HR_QOS_PREMIUM
                                 : i < n / 2 ? HR_QOS_STANDARD
                                             : HR_QOS_BASIC;
        bench_check(hr_scheduler_add(s, (uint64_t)i, tier), "add");
        bench_check(hr_scheduler_set_backlog(s, (uint64_t)i, UINT64_MAX, 0),
                    "backlog");
    }
    return s;
}

typedef struct clockwork {
    double now_ns;
    uint32_t next_cost;
    int64_t costs[COSTS];
} clockwork;

static size_t decide(hr_scheduler *s, clockwork *cw, size_t count)
{
    size_t done = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t tenant, wait;
        const uint64_t now = (uint64_t)cw->now_ns;
        const int rc = hr_scheduler_next(s, now, &tenant, &wait);
        if (rc == HR_OK) {
            const int64_t cost = cw->costs[cw->next_cost++ % COSTS];
            if (hr_scheduler_charge(s, tenant, cost, 1, now) != HR_OK)
                bench_die("hr_scheduler_charge", hr_scheduler_errmsg(s));
            cw->now_ns += (double)cost * 1e9 / CAPACITY;
            done++;
        } else if (rc == HR_EAGAIN) {
            cw->now_ns += (double)wait;
        } else {
            bench_die("hr_scheduler_next", hr_strerror(rc));
        }
    }
    return done;
}

static void decisions(hr_env *env, int n, double min_s)
{
    hr_scheduler *s = make(env, n);
    clockwork *cw = calloc(1, sizeof *cw);
    if (!cw)
        bench_die("calloc", NULL);
    bench_rng rng = {.s = 12345};
    for (int i = 0; i < COSTS; i++)
        cw->costs[i] = bench_rng_range(&rng, 15, 25);
    decide(s, cw, 100000); /* warm-up */
    size_t total = 0;
    const double t0 = bench_now_s(), c0 = bench_cpu_s();
    double t1;
    do {
        total += decide(s, cw, 1000000);
        t1 = bench_now_s();
    } while (t1 - t0 < min_s);
    const double cpu = bench_cpu_s() - c0, wall = t1 - t0;
    if (wall > cpu * 1.1)
        fprintf(stderr,
                "bench-qos: tenants%d: wall %.3f s > cpu %.3f s: the core was "
                "shared, the figure is understated (%.0f decisions per CPU "
                "second)\n",
                n, wall, cpu, (double)total / cpu);
    printf("qos.tenants%d.decisions_s %.0f decisions/s\n", n,
           (double)total / wall);
    printf("qos.tenants%d.decisions_cpu_s %.0f decisions/s\n", n,
           (double)total / cpu);
    fflush(stdout);
    free(cw);
    hr_scheduler_free(s);
}

static void fairness(hr_env *env, const char *label, double real_factor,
                     int seconds)
{
    const qos_sim_config cfg = {
        .tenants = 1000,
        .seconds = seconds,
        .real_capacity = 2000000.0 * real_factor,
        .capacity_estimate = 2000000.0,
        .seed = 42,
    };
    qos_sim_result r;
    char why[512];
    const int rc = qos_sim_run(env, &cfg, &r, why, sizeof why);
    if (rc != HR_OK)
        bench_die("simulation", why);
    printf("qos.%sreservation_windows_met_pct %.3f %%\n", label,
           r.reservation_met_pct);
    printf("qos.%slimit_overshoot_max_pct %.2f %%\n", label,
           r.limit_overshoot_max_pct);
    /* Over-committed, nothing is left for the weights: no share figure. */
    if (real_factor >= 1)
        printf("qos.%sshare_error_max_pct %.2f %%\n", label,
               r.share_error_max_pct > r.excess_error_max_pct
                   ? r.share_error_max_pct
                   : r.excess_error_max_pct);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    bench_set_progname("bench-qos");
    int quick = 0, sim = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
        } else if (strcmp(argv[i], "--no-sim") == 0) {
            sim = 0;
        } else {
            fprintf(stderr, "usage: bench-qos [--quick] [--no-sim]\n");
            return 2;
        }
    }
    hr_env *env;
    bench_check(hr_env_new(&env, NULL), "hr_env_new");
    const double min_s = quick ? 0.2 : 1.0;
    decisions(env, 10000, min_s);
    decisions(env, 1000, min_s);
    const int seconds = quick ? 10 : 60;
    if (sim) {
        fairness(env, "", 1.0, seconds);
        fairness(env, "est_low30.", 1.3, seconds);
        fairness(env, "est_high30.", 0.7, seconds);
    }
    hr_env_free(env);
    return 0;
}
