/*
 * bench_predict_lag.c - replication lag of the data that is read, with the
 * agent's dispatcher driven by the predictor vs round robin.
 *
 * 100 tenants share one worker. A backlog (the last 120 s of every
 * tenant's writes) is waiting when the run starts, and writes go on at
 * about 95% of what the applier serves. Tenants are of Zipf-skewed size;
 * some are "active" for a while (writing 5x more, read heavily), and the
 * active set drifts (each tenant turns active or quiet at random, a few
 * windows to minutes at a time). Reads follow activity but not exactly:
 * a tenant may also be read hard while it writes little (a report), and
 * quiet tenants are read now and then.
 *
 * Every transaction goes through the SAME dispatcher code heliosrepl-agent
 * uses (examples/agent/agent_dispatch.c: per-tenant unit queues served by
 * hr_scheduler). The apply side is simulated: the applier serves
 * CAPACITY rows per second, one transaction at a time. It is simulated on
 * purpose: 100 tenants' servers on a 2-core machine would measure the
 * machine, not the dispatch policy. Two runs on the identical workload
 * (seeded generator, decisions do not feed back into it):
 *   predictor    the agent's policy: an hr_predictor observes the writes
 *                replicated and the reads of an access log (the agent's
 *                access_log option); at the start of every window the
 *                tenants' scores raise hot tenants' weights within their
 *                tier (dispatch_apply_predictor); trained every 60 windows;
 *   roundrobin   no predictor, every tenant the tier's weight: the
 *                scheduler shares the applier by cost, round robin.
 * A third run, no_access_log, is the agent without an access log: the
 * predictor sees only the writes replicated, which rank tables but make no
 * tenant hotter than another (every tenant writes), so it equals round
 * robin - printed to keep that visible.
 *
 * Workload knobs (ZIPF, ACTIVE_X): tenant sizes are kept such that an
 * active tenant's writes stay under the standard tier's limit (10% of the
 * capacity). With steeper sizes (Zipf 0.8, x5) the biggest active tenants
 * are held by their limit in both runs, and the reduction was 11.8%.
 *
 * The lag of a read of tenant T at time t is how old T's oldest change
 * committed before t and not yet applied is (0 when T is caught up): how
 * far behind the data the reader sees is. "lag_hot" is the MEAN of that
 * over every read after a 10-window warm-up (p50 printed too).
 *
 * Four workloads (seeds) are run; the lags printed are their means, and
 * predict.hot_lag_reduction_pct = 100 * (1 - lag_hot predictor / lag_hot
 * roundrobin) of those means, with the smallest and largest reduction of
 * a single seed (the figure varies with the workload drawn). Also the
 * mean lag over all tenants (what the cold tenants pay). --quick: fewer
 * windows.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <heliosrepl/heliosrepl.h>

#include "agent_dispatch.h"
#include "support.h"

#define SEC 1000000000ull
#define NT 100
#define NTABLES 4
#define WINDOW_S 10ull
#define T0 (1704067200ull * SEC) /* predictor wall clock origin */
#define CAPACITY 20000.0         /* rows per second the applier serves */
#define LOAD 0.95                /* writes / capacity */
#define BACKLOG_S 120.0
#define WARMUP 10
#define ZIPF 0.3     /* tenant sizes */
#define ACTIVE_X 4.0 /* an active tenant writes this much more */
#define TRAIN_EVERY 60

enum { POL_PREDICT = 0, POL_RR = 1, POL_NOLOG = 2 };

typedef struct ev {
    uint64_t t; /* ns of simulated time */
    uint16_t tenant;
    uint16_t table;
    uint16_t rows; /* 0: a read */
} ev;

typedef struct gen {
    bench_rng rng;
    double base[NT]; /* rows per second when quiet */
    int active[NT], reading[NT];
} gen;

typedef struct sim_tenant {
    uint64_t *commit; /* commit times of txns not applied yet (FIFO) */
    size_t head, len, cap;
} sim_tenant;

static double uniform(bench_rng *r)
{
    return (double)(bench_rng_next(r) >> 11) / 9007199254740992.0;
}

static uint32_t poisson(bench_rng *r, double lambda)
{
    if (lambda > 50) { /* normal approximation */
        double u1 = uniform(r) + 1e-12, u2 = uniform(r);
        double z = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
        double v = lambda + z * sqrt(lambda);
        return v < 0 ? 0 : (uint32_t)(v + 0.5);
    }
    double l = exp(-lambda), p = 1;
    uint32_t k = 0;
    do {
        k++;
        p *= uniform(r);
    } while (p > l);
    return k - 1;
}

static void gen_init(gen *g, uint64_t seed)
{
    memset(g, 0, sizeof *g);
    g->rng.s = seed;
    double sum = 0;
    for (int i = 0; i < NT; i++) {
        g->base[i] = 1.0 / pow(i + 1, ZIPF);
        g->active[i] = uniform(&g->rng) < 0.15;
        g->reading[i] = g->active[i];
        sum += g->base[i] * (g->active[i] ? ACTIVE_X : 1);
    }
    /* Scaled so that the expected load is LOAD x capacity (15% active). */
    double expect = 0;
    for (int i = 0; i < NT; i++)
        expect += g->base[i] * (0.15 * ACTIVE_X + 0.85);
    (void)sum;
    for (int i = 0; i < NT; i++)
        g->base[i] *= LOAD * CAPACITY / expect;
}

/* Activity drifts between windows. */
static void gen_drift(gen *g)
{
    for (int i = 0; i < NT; i++) {
        double u = uniform(&g->rng);
        if (g->active[i] ? u < 0.04 : u < 0.04 * 15 / 85)
            g->active[i] = !g->active[i];
        /* Reads follow activity, with their own lead or lag. */
        u = uniform(&g->rng);
        if (g->reading[i] != g->active[i] && u < 0.5)
            g->reading[i] = g->active[i];
        else if (uniform(&g->rng) < 0.005)
            g->reading[i] = 1; /* read hard while writing little */
    }
}

static int ev_cmp(const void *a, const void *b)
{
    const ev *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

static uint16_t pick_table(bench_rng *r)
{
    double u = uniform(r);
    return u < 0.6 ? 0 : u < 0.85 ? 1 : u < 0.95 ? 2 : 3;
}

/* The events of [from, from + span): writes and reads, time-sorted. */
static size_t gen_events(gen *g, uint64_t from, double span_s, ev **out,
                         size_t *cap, int with_reads)
{
    size_t n = 0;
    for (int i = 0; i < NT; i++) {
        double rows_s = g->base[i] * (g->active[i] ? ACTIVE_X : 1);
        uint32_t txns = poisson(&g->rng, rows_s * span_s / 20.5);
        uint32_t reads =
            with_reads ? poisson(&g->rng, (g->reading[i] ? 3.0 : 0.05) * span_s)
                       : 0;
        if (n + txns + reads > *cap) {
            *cap = (n + txns + reads) * 2;
            *out = bench_xrealloc(*out, *cap * sizeof **out);
        }
        for (uint32_t k = 0; k < txns + reads; k++) {
            ev *e = &(*out)[n++];
            e->t = from + (uint64_t)(uniform(&g->rng) * span_s * SEC);
            e->tenant = (uint16_t)i;
            e->table = pick_table(&g->rng);
            e->rows = k < txns ? (uint16_t)bench_rng_range(&g->rng, 1, 40) : 0;
        }
    }
    qsort(*out, n, sizeof **out, ev_cmp);
    return n;
}

static void fifo_push(sim_tenant *t, uint64_t v)
{
    if (t->len == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 256;
        uint64_t *nb = bench_xrealloc(NULL, ncap * sizeof *nb);
        for (size_t k = 0; k < t->len; k++)
            nb[k] = t->commit[(t->head + k) % t->cap];
        free(t->commit);
        t->commit = nb;
        t->head = 0;
        t->cap = ncap;
    }
    t->commit[(t->head + t->len++) % t->cap] = v;
}

typedef struct result {
    double lag_mean_s, lag_p50_s, lag_all_s;
    uint64_t reads, txns;
    double run_s;
    int learned;
} result;

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct sim {
    dispatch d;
    hr_predictor *p;
    sim_tenant t[NT];
    uint64_t busy_until; /* the applier's current txn ends */
    int busy_tenant;     /* -1: idle */
    uint64_t wake;       /* limited: try again then */
    uint64_t applied;
} sim;

/* Applier idle at `now`: the dispatcher hands over the next txn. */
static void serve(sim *s, uint64_t now)
{
    size_t tn = 0;
    uint64_t wait = 0;
    void *m = dispatch_peek(&s->d, now, &tn, &wait);
    if (!m) {
        s->wake = wait == UINT64_MAX ? UINT64_MAX : now + wait;
        return;
    }
    int64_t rows = s->d.t[tn].head->cost;
    bench_check(dispatch_pop(&s->d, now), "dispatch_pop");
    s->busy_tenant = (int)tn;
    s->busy_until = now + (uint64_t)((double)rows / CAPACITY * SEC);
    s->wake = UINT64_MAX;
}

static void finish(sim *s)
{
    sim_tenant *t = &s->t[s->busy_tenant];
    t->head = (t->head + 1) % t->cap;
    t->len--;
    s->busy_tenant = -1;
    s->applied++;
}

static void arrive(sim *s, const ev *e, uint64_t commit, int policy)
{
    static char dummy;
    bench_check(dispatch_push(&s->d, e->tenant, &dummy,
                              DISPATCH_FIRST | DISPATCH_LAST, e->rows, e->t),
                "dispatch_push");
    fifo_push(&s->t[e->tenant], commit);
    if (policy != POL_RR) {
        char table[16];
        snprintf(table, sizeof table, "public.t%u", e->table);
        bench_check(dispatch_observe_table(&s->d, s->p, e->tenant, table,
                                           T0 + commit, HR_PREDICTOR_WRITE),
                    "observe");
    }
}

static void run(int policy, int windows, uint64_t seed, result *res)
{
    double t_start = bench_now_s();
    sim s;
    memset(&s, 0, sizeof s);
    s.busy_tenant = -1;
    s.wake = UINT64_MAX;
    hr_env *env = NULL;
    bench_check(hr_env_new(&env, NULL), "hr_env_new");
    bench_check(dispatch_init(&s.d, env, NT, (int64_t)CAPACITY, NULL),
                "dispatch_init");
    for (int i = 0; i < NT; i++) {
        char name[16];
        snprintf(name, sizeof name, "tenant%03d", i);
        bench_check(dispatch_set_name(&s.d, (size_t)i, name), "name");
    }
    if (policy != POL_RR) {
        bench_check(hr_predictor_new(env, &s.p), "hr_predictor_new");
        bench_check(hr_predictor_set_param(s.p, HR_PREDICTOR_PARAM_WINDOW_MS,
                                           WINDOW_S * 1000),
                    "window");
    }
    gen g;
    gen_init(&g, seed);
    ev *evs = NULL;
    size_t cap = 0;
    double *lags = NULL;
    size_t nlags = 0, lcap = 0;
    double lag_sum = 0, all_sum = 0;
    uint64_t all_n = 0;

    /* The backlog: the last BACKLOG_S of writes, all waiting at time 0. */
    uint64_t origin = (uint64_t)(BACKLOG_S * SEC);
    size_t n = gen_events(&g, 0, BACKLOG_S, &evs, &cap, 0);
    for (size_t k = 0; k < n; k++) {
        ev e = evs[k];
        uint64_t commit = e.t;
        e.t = origin;
        arrive(&s, &e, commit, policy);
    }
    uint64_t now = origin;
    for (int w = 0; w < windows; w++) {
        uint64_t wstart = origin + (uint64_t)w * WINDOW_S * SEC;
        uint64_t wend = wstart + WINDOW_S * SEC;
        if (s.p) {
            if (w > 0 && w % TRAIN_EVERY == 0) /* off the critical path */
                hr_predictor_train(s.p, T0 + wstart);
            int hot = dispatch_apply_predictor(&s.d, s.p, wstart, T0 + wstart);
            if (hot < 0)
                bench_die("dispatch_apply_predictor", hr_predictor_errmsg(s.p));
        }
        gen_drift(&g);
        n = gen_events(&g, wstart, (double)WINDOW_S, &evs, &cap, 1);
        size_t k = 0;
        for (;;) {
            uint64_t next_ev = k < n ? evs[k].t : wend;
            uint64_t next_apply = s.busy_tenant >= 0 ? s.busy_until : s.wake;
            if (next_apply <= next_ev && next_apply < wend) {
                now = next_apply;
                if (s.busy_tenant >= 0)
                    finish(&s);
                serve(&s, now);
                continue;
            }
            if (k == n)
                break;
            const ev *e = &evs[k++];
            now = e->t;
            if (e->rows) {
                arrive(&s, e, e->t, policy);
                if (s.busy_tenant < 0)
                    serve(&s, now);
                continue;
            }
            /* A read. */
            sim_tenant *t = &s.t[e->tenant];
            double lag = t->len ? (double)(now - t->commit[t->head]) / SEC : 0;
            if (policy != POL_NOLOG && s.p) {
                char table[16];
                snprintf(table, sizeof table, "public.t%u", e->table);
                bench_check(dispatch_observe(&s.d, s.p, e->tenant, table,
                                             T0 + now, HR_PREDICTOR_READ),
                            "observe read");
            }
            if (w < WARMUP)
                continue;
            if (nlags == lcap) {
                lcap = lcap ? lcap * 2 : 4096;
                lags = bench_xrealloc(lags, lcap * sizeof *lags);
            }
            lags[nlags++] = lag;
            lag_sum += lag;
        }
        now = wend;
        if (w >= WARMUP)
            for (int i = 0; i < NT; i++, all_n++)
                all_sum +=
                    s.t[i].len
                        ? (double)(now - s.t[i].commit[s.t[i].head]) / SEC
                        : 0;
    }
    qsort(lags, nlags, sizeof *lags, dcmp);
    res->reads = nlags;
    res->lag_mean_s = nlags ? lag_sum / (double)nlags : 0;
    res->lag_p50_s = nlags ? lags[nlags / 2] : 0;
    res->lag_all_s = all_n ? all_sum / (double)all_n : 0;
    res->txns = s.applied;
    res->learned = 0;
    if (s.p) {
        hr_predictor_info info;
        memset(&info, 0, sizeof info);
        info.size = sizeof info;
        if (hr_predictor_get_info(s.p, &info) == HR_OK)
            res->learned = info.learned_active;
    }
    res->run_s = bench_now_s() - t_start;
    free(lags);
    free(evs);
    for (int i = 0; i < NT; i++)
        free(s.t[i].commit);
    dispatch_free(&s.d);
    hr_predictor_free(s.p);
    hr_env_free(env);
}

int main(int argc, char **argv)
{
    bench_set_progname("bench-predict_lag");
    int windows = 180;
    if (argc > 1 && !strcmp(argv[1], "--quick"))
        windows = 40;
    static const char *names[] = {"predictor", "roundrobin", "no_access_log"};
    static const uint64_t seeds[] = {0x5eedf00dull, 0x1234567ull, 0xabcdefull,
                                     0x2468aceull};
    const int nseeds = (int)(sizeof seeds / sizeof *seeds);
    double mean[3] = {0}, p50[3] = {0}, all[3] = {0};
    double red_min = 1e9, red_max = -1e9;
    for (int k = 0; k < nseeds; k++) {
        result r[3];
        for (int pol = 0; pol < 3; pol++) {
            run(pol, windows, seeds[k], &r[pol]);
            fprintf(stderr,
                    "bench-predict_lag: seed %d %-13s reads %llu, txns "
                    "applied %llu, lag of reads mean %.2f s p50 %.2f s, all "
                    "tenants %.2f s, learned model in use %d, %.1f s\n",
                    k, names[pol], (unsigned long long)r[pol].reads,
                    (unsigned long long)r[pol].txns, r[pol].lag_mean_s,
                    r[pol].lag_p50_s, r[pol].lag_all_s, r[pol].learned,
                    r[pol].run_s);
            mean[pol] += r[pol].lag_mean_s / nseeds;
            p50[pol] += r[pol].lag_p50_s / nseeds;
            all[pol] += r[pol].lag_all_s / nseeds;
        }
        double red =
            r[POL_RR].lag_mean_s > 0
                ? 100 * (1 - r[POL_PREDICT].lag_mean_s / r[POL_RR].lag_mean_s)
                : 0;
        red_min = red < red_min ? red : red_min;
        red_max = red > red_max ? red : red_max;
    }
    /* Over the seeds: the mean lags, and the reduction of the mean. */
    double rr = mean[POL_RR];
    printf("predict.hot_lag_reduction_pct %.1f pct\n",
           rr > 0 ? 100 * (1 - mean[POL_PREDICT] / rr) : 0);
    printf("predict.hot_lag_reduction_min_pct %.1f pct\n", red_min);
    printf("predict.hot_lag_reduction_max_pct %.1f pct\n", red_max);
    printf("predict.hot_lag_reduction_no_access_log_pct %.1f pct\n",
           rr > 0 ? 100 * (1 - mean[POL_NOLOG] / rr) : 0);
    for (int pol = 0; pol < 3; pol++) {
        printf("predict.hot_lag_mean.%s %.3f s\n", names[pol], mean[pol]);
        printf("predict.hot_lag_p50.%s %.3f s\n", names[pol], p50[pol]);
        printf("predict.all_tenants_lag_mean.%s %.3f s\n", names[pol],
               all[pol]);
    }
    return 0;
}
