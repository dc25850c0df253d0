/* qos_sim.c - see qos_sim.h. */
#include "qos_sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <heliosrepl/qos.h>

#define NS 1e9
#define COST_MIN 15
#define COST_MAX 25
#define COST_MEAN 20.0

typedef struct sim_tenant {
    int endless;    /* always has work */
    double offered; /* open tenants: cost units per second */
    double reservation, weight, limit;
    uint16_t *fifo; /* costs of waiting items (open tenants) */
    size_t head, len, cap;
    double queued; /* cost waiting */
    /* the current window */
    double served, demand;
    double busy_since_ns; /* when its queue last became non-empty */
    double busy_ns;       /* time in this window with work waiting */
    int emptied;
    int64_t weight_cost_start;
    double total_served;
} sim_tenant;

typedef struct arrival {
    double at_ns;
    int tenant;
} arrival;

typedef struct sim {
    hr_scheduler *sched;
    const qos_sim_config *cfg;
    sim_tenant *t;
    arrival *heap;
    int heap_n;
    uint64_t rng;
    double entitled_factor;
    qos_sim_result *out;
    double *shares;
    double *excess;
    char *why;
    size_t why_size;
} sim;

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in (0, 1]. */
static double rng_unit(uint64_t *s)
{
    return ((double)(rng_next(s) >> 11) + 1.0) / 9007199254740992.0;
}

static int draw_cost(sim *sm)
{
    return COST_MIN + (int)(rng_next(&sm->rng) % (COST_MAX - COST_MIN + 1));
}

static int fail(sim *sm, int rc, const char *what)
{
    snprintf(sm->why, sm->why_size, "%s: %s (%s)", what, hr_strerror(rc),
             hr_scheduler_errmsg(sm->sched));
    return rc;
}

/* ---- arrivals: a binary min-heap of each open tenant's next arrival ---- */

static void heap_push(sim *sm, double at_ns, int tenant)
{
    int i = sm->heap_n++;
    while (i > 0 && sm->heap[(i - 1) / 2].at_ns > at_ns) {
        sm->heap[i] = sm->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    sm->heap[i] = (arrival){at_ns, tenant};
}

static arrival heap_pop(sim *sm)
{
    const arrival top = sm->heap[0];
    const arrival last = sm->heap[--sm->heap_n];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= sm->heap_n)
            break;
        if (c + 1 < sm->heap_n && sm->heap[c + 1].at_ns < sm->heap[c].at_ns)
            c++;
        if (sm->heap[c].at_ns >= last.at_ns)
            break;
        sm->heap[i] = sm->heap[c];
        i = c;
    }
    if (sm->heap_n)
        sm->heap[i] = last;
    return top;
}

static void schedule_arrival(sim *sm, int i, double after_ns)
{
    const double mean_gap_s = COST_MEAN / sm->t[i].offered;
    heap_push(sm, after_ns - log(rng_unit(&sm->rng)) * mean_gap_s * NS, i);
}

static void fifo_push(sim_tenant *t, uint16_t cost)
{
    if (t->len == t->cap) {
        const size_t cap = t->cap ? 2 * t->cap : 64;
        uint16_t *f = malloc(cap * sizeof *f);
        if (!f)
            abort();
        for (size_t k = 0; k < t->len; k++)
            f[k] = t->fifo[(t->head + k) % t->cap];
        free(t->fifo);
        t->fifo = f;
        t->cap = cap;
        t->head = 0;
    }
    t->fifo[(t->head + t->len++) % t->cap] = cost;
}

static uint16_t fifo_pop(sim_tenant *t)
{
    const uint16_t cost = t->fifo[t->head];
    t->head = (t->head + 1) % t->cap;
    t->len--;
    return cost;
}

/* ---- setup ---- */

static int setup(sim *sm)
{
    const qos_sim_config *cfg = sm->cfg;
    const int n = cfg->tenants;
    const double scale = 1000.0 / n;
    hr_scheduler *s = sm->sched;
    int rc = hr_scheduler_set_param(s, HR_SCHED_PARAM_CAPACITY,
                                    (int64_t)cfg->capacity_estimate);
    if (rc != HR_OK)
        return fail(sm, rc, "capacity");
    static const struct {
        hr_qos_tier tier;
        double reservation, weight, limit;
    } tiers[] = {
        {HR_QOS_PREMIUM, 0.002, 4, 0},
        {HR_QOS_STANDARD, 0.001, 2, 0},
        {HR_QOS_BASIC, 0.0006, 1, 0.00075},
    };
    for (size_t k = 0; k < 3; k++) {
        if ((rc = hr_scheduler_set_tier(s, tiers[k].tier, HR_QOS_RESERVATION,
                                        tiers[k].reservation * scale)) ||
            (rc = hr_scheduler_set_tier(s, tiers[k].tier, HR_QOS_WEIGHT,
                                        tiers[k].weight)) ||
            (rc = hr_scheduler_set_tier(s, tiers[k].tier, HR_QOS_LIMIT,
                                        tiers[k].limit * scale)))
            return fail(sm, rc, "tier preset");
    }
    const int premium_end = n / 10, standard_end = n / 2;
    double reservation_sum = 0, weight_sum = 0;
    for (int i = 0; i < n; i++) {
        const hr_qos_tier tier = i < premium_end    ? HR_QOS_PREMIUM
                                 : i < standard_end ? HR_QOS_STANDARD
                                                    : HR_QOS_BASIC;
        if ((rc = hr_scheduler_add(s, (uint64_t)i, tier)) != HR_OK)
            return fail(sm, rc, "add");
        sim_tenant *t = &sm->t[i];
        if ((rc = hr_scheduler_tenant_setting(
                 s, (uint64_t)i, HR_QOS_RESERVATION, &t->reservation, NULL)) ||
            (rc = hr_scheduler_tenant_setting(s, (uint64_t)i, HR_QOS_WEIGHT,
                                              &t->weight, NULL)) ||
            (rc = hr_scheduler_tenant_setting(s, (uint64_t)i, HR_QOS_LIMIT,
                                              &t->limit, NULL)))
            return fail(sm, rc, "tenant setting");
        reservation_sum += t->reservation;
        weight_sum += t->weight;
        t->endless = i < 10 || (i >= standard_end && i < standard_end + 10) ||
                     (i > premium_end && i <= premium_end + 20);
    }
    const double leftover = cfg->real_capacity > reservation_sum
                                ? cfg->real_capacity - reservation_sum
                                : 0;
    sm->entitled_factor = cfg->real_capacity < reservation_sum
                              ? cfg->real_capacity / reservation_sum
                              : 1.0;
    const int greedy = premium_end;
    for (int i = 0; i < n; i++) {
        sim_tenant *t = &sm->t[i];
        if (t->endless) {
            rc = hr_scheduler_set_backlog(s, (uint64_t)i, UINT64_MAX, 0);
            if (rc != HR_OK)
                return fail(sm, rc, "backlog");
            continue;
        }
        t->offered =
            i == greedy
                ? 10 * (t->reservation + t->weight / weight_sum * leftover)
                : t->reservation;
        t->emptied = 1;
        schedule_arrival(sm, i, 0);
    }
    sm->out->greedy_offered_per_s = sm->t[greedy].offered;
    return HR_OK;
}

/* ---- windows ---- */

static int close_window(sim *sm, double boundary_ns)
{
    qos_sim_result *out = sm->out;
    const int n = sm->cfg->tenants;
    int shares = 0;
    double share_sum = 0, excess_sum = 0;
    for (int i = 0; i < n; i++) {
        sim_tenant *t = &sm->t[i];
        hr_qos_tenant_stats st = {.size = sizeof st};
        const int rc = hr_scheduler_tenant_stats(sm->sched, (uint64_t)i, &st);
        if (rc != HR_OK)
            return fail(sm, rc, "stats");
        if (t->endless || t->len) {
            t->busy_ns += boundary_ns - t->busy_since_ns;
            t->busy_since_ns = boundary_ns;
        }
        const double want =
            t->reservation * sm->entitled_factor * t->busy_ns / NS;
        if (want > 0) {
            const double ratio = t->served / want;
            out->reservation_windows++;
            if (ratio < 0.95) {
                out->reservation_missed++;
                if (getenv("QOS_SIM_DEBUG"))
                    fprintf(stderr,
                            "miss t%d served %.0f demand %.0f "
                            "entitled %.0f queued %.0f endless %d\n",
                            i, t->served, t->demand, want, t->queued,
                            t->endless);
            }
            if (ratio < out->worst_reservation_pct / 100)
                out->worst_reservation_pct = ratio * 100;
        }
        if (t->limit > 0) {
            const double over = (t->served / t->limit - 1) * 100;
            if (over > out->limit_overshoot_max_pct)
                out->limit_overshoot_max_pct = over;
        }
        if (t->limit == 0 && !t->emptied) {
            /* Measured twice: by the scheduler's phase counters, and
             * independently of them, as what the server gave beyond the
             * reservation. */
            sm->excess[shares] =
                (t->served - t->reservation * sm->entitled_factor) / t->weight;
            excess_sum += sm->excess[shares];
            sm->shares[shares] =
                (double)(st.weight_cost - t->weight_cost_start) / t->weight;
            share_sum += sm->shares[shares++];
        }
        t->total_served += t->served;
        t->served = 0;
        t->busy_ns = 0;
        t->demand = t->queued;
        t->emptied = !t->endless && t->len == 0;
        t->weight_cost_start = st.weight_cost;
    }
    const double mean = shares ? share_sum / shares : 0;
    const double excess_mean = shares ? excess_sum / shares : 0;
    if (shares >= 2 && mean > 0 && excess_mean > 0) {
        for (int k = 0; k < shares; k++) {
            double err = fabs(sm->shares[k] / mean - 1) * 100;
            if (err > out->share_error_max_pct)
                out->share_error_max_pct = err;
            err = fabs(sm->excess[k] / excess_mean - 1) * 100;
            if (err > out->excess_error_max_pct)
                out->excess_error_max_pct = err;
        }
        out->share_samples += shares;
    }
    return HR_OK;
}

/* ---- the server ---- */

static int serve(sim *sm, uint64_t tenant, double *now_ns)
{
    sim_tenant *t = &sm->t[tenant];
    int cost;
    if (t->endless) {
        cost = draw_cost(sm);
    } else {
        cost = fifo_pop(t);
        t->queued -= cost;
        if (t->len == 0) {
            t->emptied = 1;
            t->busy_ns += *now_ns - t->busy_since_ns;
        }
    }
    const int rc =
        hr_scheduler_charge(sm->sched, tenant, cost, 1, (uint64_t)*now_ns);
    if (rc != HR_OK)
        return fail(sm, rc, "charge");
    t->served += cost;
    sm->out->decisions++;
    *now_ns += cost * NS / sm->cfg->real_capacity;
    return HR_OK;
}

static int run(sim *sm)
{
    double now = 0;
    int rc;
    for (int window = 0; window < sm->cfg->seconds;) {
        const double boundary = (window + 1) * NS;
        if (now >= boundary) {
            if ((rc = close_window(sm, boundary)) != HR_OK)
                return rc;
            window++;
            continue;
        }
        while (sm->heap_n && sm->heap[0].at_ns <= now) {
            const arrival a = heap_pop(sm);
            sim_tenant *t = &sm->t[a.tenant];
            const int cost = draw_cost(sm);
            if (t->len == 0) /* an arrival late for a closed window */
                t->busy_since_ns =
                    a.at_ns > boundary - NS ? a.at_ns : boundary - NS;
            fifo_push(t, (uint16_t)cost);
            t->queued += cost;
            t->demand += cost;
            rc = hr_scheduler_enqueue(sm->sched, (uint64_t)a.tenant, 1,
                                      (uint64_t)a.at_ns);
            if (rc != HR_OK)
                return fail(sm, rc, "enqueue");
            schedule_arrival(sm, a.tenant, a.at_ns);
        }
        uint64_t tenant = 0, wait = 0;
        rc = hr_scheduler_next(sm->sched, (uint64_t)now, &tenant, &wait);
        if (rc == HR_OK) {
            if ((rc = serve(sm, tenant, &now)) != HR_OK)
                return rc;
            continue;
        }
        if (rc != HR_EAGAIN && rc != HR_ENOTFOUND)
            return fail(sm, rc, "next");
        /* Idle server: skip to whatever happens first. */
        double until = boundary;
        if (sm->heap_n && sm->heap[0].at_ns < until)
            until = sm->heap[0].at_ns;
        if (rc == HR_EAGAIN && now + (double)wait < until)
            until = now + (double)wait;
        now = until > now ? until : now + 1;
    }
    return HR_OK;
}

int qos_sim_run(hr_env *env, const qos_sim_config *cfg, qos_sim_result *out,
                char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    out->worst_reservation_pct = 1e9; /* lowered by every window */
    sim sm = {.cfg = cfg,
              .out = out,
              .rng = cfg->seed,
              .why = why,
              .why_size = why_size};
    why[0] = '\0';
    const size_t n = (size_t)cfg->tenants;
    sm.t = calloc(n, sizeof *sm.t);
    sm.heap = calloc(n, sizeof *sm.heap);
    sm.shares = calloc(n, sizeof *sm.shares);
    sm.excess = calloc(n, sizeof *sm.excess);
    int rc = sm.t && sm.heap && sm.shares && sm.excess ? HR_OK : HR_ENOMEM;
    if (rc == HR_OK)
        rc = hr_scheduler_new(env, &sm.sched);
    if (rc == HR_OK)
        rc = setup(&sm);
    if (rc == HR_OK)
        rc = run(&sm);
    if (rc == HR_OK) {
        out->reservation_met_pct =
            out->reservation_windows
                ? 100.0 * (1.0 - (double)out->reservation_missed /
                                     (double)out->reservation_windows)
                : 0;
        double total = 0;
        for (size_t i = 0; i < n; i++)
            total += sm.t[i].total_served;
        out->served_per_s = total / cfg->seconds;
        out->greedy_served_per_s =
            sm.t[cfg->tenants / 10].total_served / cfg->seconds;
    }
    for (size_t i = 0; sm.t && i < n; i++)
        free(sm.t[i].fifo);
    free(sm.t);
    free(sm.heap);
    free(sm.shares);
    free(sm.excess);
    hr_scheduler_free(sm.sched);
    return rc;
}
