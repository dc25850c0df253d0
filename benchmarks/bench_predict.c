/*
 * bench_predict.c - precision of the hot-data predictor on a simulated
 * multi-tenant workload.
 *
 * Tenants of Zipf-skewed popularity, each with a few tables (themselves
 * skewed), live in different time zones with a daily cycle (office hours,
 * quiet weekends) or a nightly batch hour; some burst for a while, and every
 * day a few tenants' popularity is redrawn. Accesses are reported per key
 * ("tenant/table") and window. The predictor collects examples for the
 * first days and is trained at the end of each day; over the last days,
 * at the start of every window, each scorer names its top 1% and top 10%
 * of the keys and is scored on how many of them are accessed in that
 * window (precision). The three scorers see the same workload (the
 * generator is seeded) from copies of one predictor (hr_predictor_save /
 * load), so they differ only in how they rank.
 *
 * stdout: predict.top{1,10}pct.precision.{learned,heuristic,recency}
 * stderr: workload size, training time and holdout AUCs.
 * --quick: fewer tenants and days (a smoke run).
 */
#define HR_EXPERIMENTAL
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <heliosrepl/heliosrepl.h>

#include "support.h"

#define SEC 1000000000ull
#define WINDOW_S 300ull               /* 5 minutes */
#define PER_DAY (86400ull / WINDOW_S) /* 288 windows */
#define T0 (1704067200ull * SEC)      /* Monday 2024-01-01 UTC */

typedef struct tenant {
    double base;    /* accesses per window at full activity */
    int tz;         /* hours added to UTC */
    int kind;       /* 0 office hours, 1 nightly batch, 2 round the clock */
    int batch_hour; /* kind 1: local hour of the batch */
    int burst_left; /* windows of the current burst */
    double write_share;
    int first_key, nkeys;
} tenant;

typedef struct workload {
    bench_rng rng;
    tenant *tenants;
    int ntenants;
    char (*keys)[32];
    double *key_weight; /* share of its tenant's accesses */
    int *key_tenant;
    int nkeys;
} workload;

static double uniform(bench_rng *r)
{
    return (double)(bench_rng_next(r) >> 11) / 9007199254740992.0;
}

static uint32_t poisson(bench_rng *r, double lambda)
{
    if (lambda <= 0)
        return 0;
    if (lambda > 30) { /* normal approximation */
        double u1 = uniform(r) + 1e-12, u2 = uniform(r);
        double z = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
        double v = lambda + sqrt(lambda) * z;
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

static double zipf_base(bench_rng *r, int ntenants)
{
    /* Popularity rank drawn uniformly: rate ~ 1 / rank^1.1. */
    int rank = 1 + (int)bench_rng_below(r, (uint32_t)ntenants);
    return 200.0 / pow(rank, 1.1);
}

static void make_workload(workload *w, int ntenants)
{
    memset(w, 0, sizeof *w);
    w->rng.s = 20240101;
    w->ntenants = ntenants;
    w->tenants = bench_xrealloc(NULL, sizeof(tenant) * (size_t)ntenants);
    int cap = ntenants * 8;
    w->keys = bench_xrealloc(NULL, sizeof *w->keys * (size_t)cap);
    w->key_weight = bench_xrealloc(NULL, sizeof(double) * (size_t)cap);
    w->key_tenant = bench_xrealloc(NULL, sizeof(int) * (size_t)cap);
    for (int t = 0; t < ntenants; t++) {
        tenant *tn = &w->tenants[t];
        tn->base = zipf_base(&w->rng, ntenants);
        tn->tz = (int)bench_rng_below(&w->rng, 24) - 11;
        uint32_t k = bench_rng_below(&w->rng, 10);
        tn->kind = k < 6 ? 0 : k < 8 ? 1 : 2;
        tn->batch_hour = (int)bench_rng_below(&w->rng, 24);
        tn->burst_left = 0;
        tn->write_share = uniform(&w->rng);
        tn->first_key = w->nkeys;
        tn->nkeys = 1 + (int)bench_rng_below(&w->rng, 8);
        double sum = 0;
        for (int j = 0; j < tn->nkeys; j++)
            sum += 1.0 / (j + 1);
        for (int j = 0; j < tn->nkeys; j++) {
            int i = w->nkeys++;
            snprintf(w->keys[i], sizeof w->keys[i], "tenant%04d/table%d", t, j);
            w->key_weight[i] = 1.0 / (j + 1) / sum;
            w->key_tenant[i] = t;
        }
    }
}

/* A tenant's activity multiplier in window `win`. */
static double activity(const tenant *t, uint64_t win)
{
    uint64_t sec = win * WINDOW_S + (uint64_t)((t->tz + 24) * 3600);
    int hour = (int)((sec / 3600) % 24);
    int dow = (int)((sec / 86400 + 0) % 7); /* day 0 is a Monday */
    switch (t->kind) {
    case 0: {
        double office = hour >= 8 && hour < 18 ? 1.0 : 0.04;
        return dow >= 5 ? office * 0.2 : office;
    }
    case 1:
        return hour == t->batch_hour ? 3.0 : 0.01;
    default:
        return 0.35;
    }
}

/* Draw window `win`'s accesses and report them; sets accessed[key]. */
static void run_window(workload *w, hr_predictor **ps, int np, uint64_t win,
                       char *accessed)
{
    if (win % PER_DAY == 0 && win > 0) /* popularity shifts */
        for (int t = 0; t < w->ntenants; t++)
            if (uniform(&w->rng) < 0.05)
                w->tenants[t].base = zipf_base(&w->rng, w->ntenants);
    for (int t = 0; t < w->ntenants; t++) {
        tenant *tn = &w->tenants[t];
        if (tn->burst_left > 0)
            tn->burst_left--;
        else if (uniform(&w->rng) < 0.002)
            tn->burst_left = 3 + (int)bench_rng_below(&w->rng, 12);
        double rate =
            tn->base * activity(tn, win) * (tn->burst_left > 0 ? 20.0 : 1.0);
        for (int j = 0; j < tn->nkeys; j++) {
            int i = tn->first_key + j;
            uint32_t n = poisson(&w->rng, rate * w->key_weight[i]);
            accessed[i] = n > 0;
            if (!n)
                continue;
            uint32_t writes = (uint32_t)(n * tn->write_share);
            uint64_t at = T0 + win * WINDOW_S * SEC +
                          bench_rng_below(&w->rng, (uint32_t)WINDOW_S) * SEC;
            for (int k = 0; k < np; k++) {
                if (n - writes)
                    bench_check(hr_predictor_observe(ps[k], w->keys[i], at,
                                                     HR_PREDICTOR_READ,
                                                     n - writes),
                                "observe");
                if (writes)
                    bench_check(hr_predictor_observe(ps[k], w->keys[i], at,
                                                     HR_PREDICTOR_WRITE,
                                                     writes),
                                "observe");
            }
        }
    }
}

static void train(hr_predictor *p, uint64_t win, double *seconds)
{
    double t0 = bench_now_s();
    int rc = hr_predictor_train(p, T0 + win * WINDOW_S * SEC);
    *seconds += bench_now_s() - t0;
    if (rc != HR_OK)
        bench_die("train", hr_predictor_errmsg(p));
    hr_predictor_info info = {.size = sizeof info};
    bench_check(hr_predictor_get_info(p, &info), "info");
    fprintf(stderr,
            "bench-predict: day %llu: trained on %llu examples: holdout AUC "
            "learned %.4f, heuristic %.4f (%s)\n",
            (unsigned long long)(win / PER_DAY),
            (unsigned long long)info.examples, info.learned_auc,
            info.heuristic_auc, info.learned_active ? "in use" : "not used");
}

int main(int argc, char **argv)
{
    bench_set_progname("bench-predict");
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int ntenants = quick ? 150 : 600;
    uint64_t learn_days = quick ? 4 : 7, eval_days = quick ? 1 : 2;
    workload w;
    make_workload(&w, ntenants);
    hr_env *env;
    bench_check(hr_env_new(&env, NULL), "env");

    /* One predictor learns; at evaluation it is copied per scorer. */
    hr_predictor *p;
    bench_check(hr_predictor_new(env, &p), "predictor");
    bench_check(hr_predictor_set_param(p, HR_PREDICTOR_PARAM_WINDOW_MS,
                                       (int64_t)WINDOW_S * 1000),
                "param");
    bench_check(
        hr_predictor_set_param(p, HR_PREDICTOR_PARAM_TRAIN_ROWS, 1 << 18),
        "param");
    bench_check(hr_predictor_exp_set(p, HR_PREDICTOR_EXP_ROWS_PER_WINDOW, 256),
                "param");
    char *accessed = bench_xrealloc(NULL, (size_t)w.nkeys);
    double train_s = 0, t_start = bench_now_s();
    uint64_t win = 0;
    for (; win < learn_days * PER_DAY; win++)
        run_window(&w, &p, 1, win, accessed);
    train(p, win, &train_s);

    enum { LEARNED, HEURISTIC, RECENCY, NSCORERS };
    static const char *names[] = {"learned", "heuristic", "recency"};
    static const int scorers[] = {HR_PREDICTOR_SCORER_AUTO,
                                  HR_PREDICTOR_SCORER_HEURISTIC,
                                  HR_PREDICTOR_SCORER_RECENCY};
    const uint8_t *blob;
    size_t blob_len;
    bench_check(hr_predictor_save(p, &blob, &blob_len), "save");
    hr_predictor *ps[NSCORERS];
    for (int s = 0; s < NSCORERS; s++) {
        bench_check(hr_predictor_new(env, &ps[s]), "predictor");
        bench_check(hr_predictor_load(ps[s], blob, blob_len), "load");
        bench_check(hr_predictor_set_param(ps[s], HR_PREDICTOR_PARAM_SCORER,
                                           scorers[s]),
                    "param");
    }
    hr_predictor_free(p);
    fprintf(stderr, "bench-predict: %d tenants, %d keys, state %zu bytes\n",
            ntenants, w.nkeys, blob_len);

    size_t k10 = (size_t)w.nkeys / 10, k1 = (size_t)w.nkeys / 100;
    if (k1 == 0)
        k1 = 1;
    const char **top = bench_xrealloc(NULL, sizeof(char *) * k10);
    char *picked = bench_xrealloc(NULL, (size_t)NSCORERS * 2 * (size_t)w.nkeys);
    double hits[NSCORERS][2] = {{0}};
    uint64_t windows = 0, active = 0;
    for (; win < (learn_days + eval_days) * PER_DAY; win++) {
        if (win % PER_DAY == 0 && win > learn_days * PER_DAY)
            train(ps[LEARNED], win, &train_s); /* the host retrains daily */
        memset(picked, 0, (size_t)NSCORERS * 2 * (size_t)w.nkeys);
        for (int s = 0; s < NSCORERS; s++) {
            size_t n;
            bench_check(hr_predictor_top_k(ps[s], T0 + win * WINDOW_S * SEC,
                                           top, NULL, k10, &n),
                        "top_k");
            for (size_t i = 0; i < n; i++) {
                int t = atoi(top[i] + 6), j = atoi(strrchr(top[i], 'e') + 1);
                int key = w.tenants[t].first_key + j;
                picked[(s * 2 + 1) * w.nkeys + key] = 1;
                if (i < k1)
                    picked[(s * 2) * w.nkeys + key] = 1;
            }
        }
        run_window(&w, ps, NSCORERS, win, accessed);
        for (int key = 0; key < w.nkeys; key++)
            active += accessed[key] != 0;
        for (int s = 0; s < NSCORERS; s++)
            for (int key = 0; key < w.nkeys; key++) {
                hits[s][0] += accessed[key] && picked[(s * 2) * w.nkeys + key];
                hits[s][1] +=
                    accessed[key] && picked[(s * 2 + 1) * w.nkeys + key];
            }
        windows++;
    }
    fprintf(stderr,
            "bench-predict: %llu evaluation windows, %.1f keys accessed per "
            "window (top 1%%: %zu keys, top 10%%: %zu), training %.1f s, "
            "total %.1f s\n",
            (unsigned long long)windows, (double)active / (double)windows, k1,
            k10, train_s, bench_now_s() - t_start);
    for (int pct = 0; pct < 2; pct++)
        for (int s = 0; s < NSCORERS; s++)
            printf("predict.top%dpct.precision.%s %.4f ratio\n", pct ? 10 : 1,
                   names[s],
                   hits[s][pct] / (double)((pct ? k10 : k1) * windows));
    for (int s = 0; s < NSCORERS; s++)
        hr_predictor_free(ps[s]);
    hr_env_free(env);
    free(top);
    free(picked);
    free(accessed);
    free(w.tenants);
    free(w.keys);
    free(w.key_weight);
    free(w.key_tenant);
    return 0;
}
