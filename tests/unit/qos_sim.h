/*
 * qos_sim.h - a simulated server in front of an hr_scheduler, shared by the
 * unit test (tests/unit/test_qos.c) and the benchmark (bench-qos), which
 * prints the same fairness figures.
 *
 * The server serves one work item at a time; an item of cost c keeps it busy
 * c / real_capacity seconds of simulated time. The scheduler is told
 * capacity_estimate (HR_SCHED_PARAM_CAPACITY) and every tenant follows its
 * tier preset, whose reservation and limit are fractions of that estimate;
 * so when the estimate is off, the tenants' absolute rates are off by the
 * same factor while the server's real speed is not. The scheduler's own
 * decisions never read the capacity, so this is exactly how a wrong
 * estimate reaches a running system. See docs/qos.md ("Capacity").
 *
 * Tenants (for n = 1000; the tier fractions scale with 1000/n):
 *   0..n/10-1       premium   reservation 0.2% of the estimate, weight 4,
 *                             no limit
 *   n/10..n/2-1     standard  reservation 0.1%, weight 2, no limit
 *   n/2..n-1        basic     reservation 0.06%, weight 1, limit 0.075%
 * so the reservations sum to 90% of the estimate. Work:
 *   - always backlogged: the first 10 premium, the 20 standard after the
 *     first one and the first 10 basic tenants (an endless queue each);
 *   - the greedy tenant, the first standard one, offers 10x its fair share
 *     (its reservation plus its weight's part of the unreserved capacity,
 *     as if every tenant were backlogged): Poisson arrivals;
 *   - every other tenant offers its reservation: Poisson arrivals.
 * Item costs are uniform in 15..25 units; the rates are a few thousand
 * units per second, so an item is 1-2% of a tenant's second.
 *
 * Figures, over 1-second windows of simulated time:
 *   reservation  a tenant meets it in a window when it is served at least
 *                95% of min(entitled, demand), where demand is what it had
 *                waiting at the window's start plus what arrived in it, and
 *                entitled is its reservation for one second, scaled down by
 *                real_capacity / reservation sum when that is below 1 (an
 *                over-committed server can only share out what it has, in
 *                proportion to the reservations);
 *   limit        served / limit - 1 for every tenant with a limit;
 *   share        for tenants without a limit that had work throughout the
 *                window, the cost served in the weight phase divided by the
 *                weight, compared with the mean of those tenants; and the
 *                same with what the server gave beyond the reservation in
 *                place of the scheduler's weight-phase counter ("excess").
 */
#ifndef HR_TEST_QOS_SIM_H
#define HR_TEST_QOS_SIM_H

#include <stdint.h>

#include <heliosrepl/core.h>

typedef struct qos_sim_config {
    int tenants;              /* multiple of 10, at least 100 */
    int seconds;              /* simulated seconds (one window each) */
    double real_capacity;     /* cost units per second the server serves */
    double capacity_estimate; /* what the scheduler is told */
    uint64_t seed;
} qos_sim_config;

typedef struct qos_sim_result {
    uint64_t decisions;
    long reservation_windows;       /* tenant-windows checked */
    long reservation_missed;        /* of which below 95% */
    double reservation_met_pct;     /* 100 * (1 - missed / windows) */
    double worst_reservation_pct;   /* lowest served / min(entitled, demand) */
    double limit_overshoot_max_pct; /* max of 100*(served/limit - 1), >= 0 */
    double share_error_max_pct;  /* max |share / mean - 1| in %, per window */
    double excess_error_max_pct; /* the same, share measured as served -
                                    reservation (not by the scheduler) */
    long share_samples;          /* tenant-windows in the share figure */
    double greedy_served_per_s;  /* what the greedy tenant got */
    double greedy_offered_per_s;
    double served_per_s; /* everything served, per second */
} qos_sim_result;

/* Run the simulation; HR_OK or the first failing library call's status
 * (with a message in `why`). */
int qos_sim_run(hr_env *env, const qos_sim_config *cfg, qos_sim_result *out,
                char *why, size_t why_size);

#endif
