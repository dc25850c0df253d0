/*
 * test_predict.c - hr_predictor: the sketch and its aging, recency, top-k
 * order, cold start, training on a daily cycle, save / load, corrupt state,
 * allocation failures, and that no thread is started.
 */
#define HR_EXPERIMENTAL
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include <heliosrepl/heliosrepl.h>

#include "check_main.h"
#include "failing_allocator.h"
#include "predict/predict_internal.h"

#define SEC 1000000000ull
/* A Monday, 00:00 UTC (2024-01-01). */
#define T0 (1704067200ull * SEC)

static hr_env *env;

static void setup(void)
{
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
}

static void teardown(void)
{
    hr_env_free(env);
}

static hr_predictor *make(int64_t window_ms)
{
    hr_predictor *p;
    ck_assert_int_eq(hr_predictor_new(env, &p), HR_OK);
    ck_assert_int_eq(
        hr_predictor_set_param(p, HR_PREDICTOR_PARAM_WINDOW_MS, window_ms),
        HR_OK);
    return p;
}

START_TEST(sketch_counts_and_ages_exactly)
{
    hr__psketch s;
    ck_assert_int_eq(hr__psketch_init(&s, env, 1024, 4), HR_OK);
    for (uint64_t k = 1; k <= 20; k++)
        for (uint64_t c = 0; c < k; c++)
            hr__psketch_add(&s, k * 0x9e3779b97f4a7c15ull, 1);
    for (uint64_t k = 1; k <= 20; k++)
        ck_assert_uint_eq(hr__psketch_estimate(&s, k * 0x9e3779b97f4a7c15ull),
                          k);
    hr__psketch_add(&s, 42, 7);
    ck_assert_uint_eq(hr__psketch_estimate(&s, 42), 7);
    hr__psketch_age(&s, 1);
    ck_assert_uint_eq(hr__psketch_estimate(&s, 42), 3);
    ck_assert_uint_eq(hr__psketch_estimate(&s, 20 * 0x9e3779b97f4a7c15ull), 10);
    hr__psketch_age(&s, 2);
    ck_assert_uint_eq(hr__psketch_estimate(&s, 20 * 0x9e3779b97f4a7c15ull), 2);
    hr__psketch_age(&s, 40);
    ck_assert_uint_eq(hr__psketch_estimate(&s, 20 * 0x9e3779b97f4a7c15ull), 0);
    /* Saturation instead of wrap-around. */
    hr__psketch_add(&s, 5, UINT32_MAX - 1);
    hr__psketch_add(&s, 5, 10);
    ck_assert_uint_eq(hr__psketch_estimate(&s, 5), UINT32_MAX);
    hr__psketch_free(&s, env);
}
END_TEST

START_TEST(windows_age_the_sketch)
{
    hr_predictor *p = make(1000);
    ck_assert_int_eq(hr_predictor_exp_set(p, HR_PREDICTOR_EXP_AGING_WINDOWS, 4),
                     HR_OK);
    /* Window 4k: aging happens when crossing a multiple of 4 windows. */
    uint64_t t = T0; /* T0 / 1 s is a multiple of 4 */
    ck_assert_int_eq(hr_predictor_observe(p, "acme", t, HR_PREDICTOR_READ, 12),
                     HR_OK);
    ck_assert_int_eq(
        hr_predictor_observe(p, "acme/orders", t + SEC, HR_PREDICTOR_WRITE, 5),
        HR_OK);
    uint64_t h = hr__pred_hash("acme", 4);
    ck_assert_uint_eq(hr__psketch_estimate(&p->sketch, h), 12);
    ck_assert_int_eq(hr_predictor_advance(p, t + 3 * SEC), HR_OK);
    ck_assert_uint_eq(hr__psketch_estimate(&p->sketch, h), 12);
    ck_assert_int_eq(hr_predictor_advance(p, t + 4 * SEC), HR_OK);
    ck_assert_uint_eq(hr__psketch_estimate(&p->sketch, h), 6);
    /* A jump over three aging points halves three times. */
    ck_assert_int_eq(hr_predictor_advance(p, t + 16 * SEC), HR_OK);
    ck_assert_uint_eq(hr__psketch_estimate(&p->sketch, h), 0);
    ck_assert_uint_eq(
        hr__psketch_estimate(&p->sketch, hr__pred_hash("acme/orders", 11)), 0);
    hr_predictor_info info = {.size = sizeof info};
    ck_assert_int_eq(hr_predictor_get_info(p, &info), HR_OK);
    ck_assert_uint_eq(info.windows, 16);
    ck_assert_uint_eq(info.keys, 2);
    ck_assert_uint_eq(info.events, 17);
    hr_predictor_free(p);
}
END_TEST

START_TEST(recency_scores)
{
    hr_predictor *p = make(10000);
    ck_assert_int_eq(hr_predictor_set_param(p, HR_PREDICTOR_PARAM_SCORER,
                                            HR_PREDICTOR_SCORER_RECENCY),
                     HR_OK);
    ck_assert_int_eq(hr_predictor_observe(p, "a", T0, HR_PREDICTOR_READ, 50),
                     HR_OK);
    ck_assert_int_eq(
        hr_predictor_observe(p, "b", T0 + 10 * SEC, HR_PREDICTOR_READ, 1),
        HR_OK);
    double sa, sb, sc;
    ck_assert_int_eq(hr_predictor_score(p, "a", T0 + 10 * SEC, &sa), HR_OK);
    ck_assert_int_eq(hr_predictor_score(p, "b", T0 + 10 * SEC, &sb), HR_OK);
    ck_assert_int_eq(hr_predictor_score(p, "c", T0 + 10 * SEC, &sc), HR_OK);
    ck_assert_double_eq_tol(sb, 1.0, 1e-12);
    ck_assert_double_eq_tol(sa, 0.5, 1e-12); /* one window old */
    ck_assert_double_eq(sc, 0.0);
    const char *keys[4];
    double scores[4];
    size_t n;
    ck_assert_int_eq(hr_predictor_top_k(p, T0 + 30 * SEC, keys, scores, 4, &n),
                     HR_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(keys[0], "b");
    ck_assert_str_eq(keys[1], "a");
    ck_assert_double_eq_tol(scores[0], 1.0 / 3.0, 1e-12);
    ck_assert_double_eq_tol(scores[1], 0.25, 1e-12);
    hr_predictor_free(p);
}
END_TEST

START_TEST(top_k_order)
{
    hr_predictor *p = make(60000);
    char key[32];
    /* key i is accessed i times; keys 3 and 13 tie on count. */
    for (int i = 1; i <= 20; i++) {
        snprintf(key, sizeof key, "tenant%02d", i);
        int c = i == 13 ? 3 : i;
        ck_assert_int_eq(hr_predictor_observe(p, key, T0 + (uint64_t)i * SEC,
                                              HR_PREDICTOR_READ, (uint32_t)c),
                         HR_OK);
    }
    const char *keys[30];
    double scores[30];
    size_t n;
    ck_assert_int_eq(hr_predictor_top_k(p, T0 + 30 * SEC, keys, scores, 5, &n),
                     HR_OK);
    ck_assert_uint_eq(n, 5);
    static const char *want[] = {"tenant20", "tenant19", "tenant18", "tenant17",
                                 "tenant16"};
    for (int i = 0; i < 5; i++)
        ck_assert_str_eq(keys[i], want[i]);
    for (int i = 1; i < 5; i++)
        ck_assert(scores[i] < scores[i - 1]);
    ck_assert_int_eq(hr_predictor_top_k(p, T0 + 30 * SEC, keys, scores, 30, &n),
                     HR_OK);
    ck_assert_uint_eq(n, 20);
    for (size_t i = 1; i < n; i++)
        ck_assert(scores[i] <= scores[i - 1]);
    /* Equal counts: the more recent key first (13 after 3). */
    int at3 = -1, at13 = -1;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(keys[i], "tenant03") == 0)
            at3 = (int)i;
        if (strcmp(keys[i], "tenant13") == 0)
            at13 = (int)i;
    }
    ck_assert_int_eq(at13 + 1, at3);
    for (size_t i = 0; i < n; i++) {
        double s;
        ck_assert_int_eq(hr_predictor_score(p, keys[i], T0 + 30 * SEC, &s),
                         HR_OK);
        ck_assert_double_eq(s, scores[i]);
        ck_assert(s > 0 && s <= 1);
    }
    ck_assert_int_eq(hr_predictor_top_k(p, T0 + 30 * SEC, keys, NULL, 0, &n),
                     HR_OK);
    ck_assert_uint_eq(n, 0);
    hr_predictor_free(p);
}
END_TEST

START_TEST(arguments_and_layout)
{
    hr_predictor *p = make(60000);
    int64_t lo, hi, v;
    ck_assert_int_eq(
        hr_predictor_param_bounds(HR_PREDICTOR_PARAM_WINDOW_MS, &lo, &hi),
        HR_OK);
    ck_assert_int_eq(lo, 1000);
    ck_assert_int_eq(
        hr_predictor_param_bounds((hr_predictor_param)99, &lo, &hi), HR_EINVAL);
    ck_assert_int_eq(hr_predictor_set_param(p, HR_PREDICTOR_PARAM_WINDOW_MS, 5),
                     HR_EINVAL);
    ck_assert_int_eq(hr_predictor_observe(p, "", T0, HR_PREDICTOR_READ, 1),
                     HR_EINVAL);
    ck_assert_int_eq(
        hr_predictor_observe(p, "a", T0, (hr_predictor_access)9, 1), HR_EINVAL);
    ck_assert_int_eq(hr_predictor_observe(p, "a", T0, HR_PREDICTOR_READ, 0),
                     HR_EINVAL);
    ck_assert_int_eq(hr_predictor_observe(p, "a", 0, HR_PREDICTOR_READ, 1),
                     HR_EINVAL);
    char longkey[HR_PREDICTOR_KEY_MAX + 2];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    ck_assert_int_eq(hr_predictor_observe(p, longkey, T0, HR_PREDICTOR_READ, 1),
                     HR_EINVAL);
    longkey[HR_PREDICTOR_KEY_MAX] = '\0';
    ck_assert_int_eq(hr_predictor_observe(p, longkey, T0, HR_PREDICTOR_READ, 1),
                     HR_OK);
    ck_assert_int_eq(
        hr_predictor_set_param(p, HR_PREDICTOR_PARAM_WINDOW_MS, 5000),
        HR_ESTATE);
    ck_assert_int_eq(hr_predictor_exp_set(p, HR_PREDICTOR_EXP_SKETCH_DEPTH, 2),
                     HR_ESTATE);
    ck_assert_int_eq(hr_predictor_set_param(p, HR_PREDICTOR_PARAM_SCORER,
                                            HR_PREDICTOR_SCORER_RECENCY),
                     HR_OK);
    ck_assert_int_eq(hr_predictor_get_param(p, HR_PREDICTOR_PARAM_SCORER, &v),
                     HR_OK);
    ck_assert_int_eq(v, HR_PREDICTOR_SCORER_RECENCY);
    /* A clock that steps back holds the predictor's time. */
    double s;
    ck_assert_int_eq(hr_predictor_score(p, longkey, T0 - 100 * SEC, &s), HR_OK);
    ck_assert_double_eq(s, 1.0);
    float feats[32];
    size_t nf;
    ck_assert_int_eq(hr_predictor_exp_features(p, "nope", feats, 32, &nf),
                     HR_ENOTFOUND);
    ck_assert_int_eq(hr_predictor_exp_features(p, longkey, feats, 32, &nf),
                     HR_OK);
    ck_assert_uint_eq(nf, 4 + 7);
    ck_assert_str_ne(hr_predictor_errmsg(p), "");
    hr_predictor_free(NULL);
    hr_predictor_free(p);
}
END_TEST

START_TEST(cold_start_uses_the_heuristic)
{
    hr_predictor *p = make(60000);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(hr_predictor_observe(p, i % 2 ? "x" : "y",
                                              T0 + (uint64_t)i * SEC,
                                              HR_PREDICTOR_READ, 1),
                         HR_OK);
    double auto_s, heur_s;
    ck_assert_int_eq(hr_predictor_score(p, "x", T0 + 20 * SEC, &auto_s), HR_OK);
    ck_assert_int_eq(hr_predictor_set_param(p, HR_PREDICTOR_PARAM_SCORER,
                                            HR_PREDICTOR_SCORER_HEURISTIC),
                     HR_OK);
    ck_assert_int_eq(hr_predictor_score(p, "x", T0 + 20 * SEC, &heur_s), HR_OK);
    ck_assert(heur_s > 0);
    ck_assert_double_eq(auto_s, heur_s);
    ck_assert_int_eq(hr_predictor_set_param(p, HR_PREDICTOR_PARAM_SCORER,
                                            HR_PREDICTOR_SCORER_LEARNED),
                     HR_OK);
    ck_assert_int_eq(hr_predictor_score(p, "x", T0 + 20 * SEC, &heur_s),
                     HR_ESTATE);
    ck_assert_int_eq(hr_predictor_train(p, T0 + 20 * SEC), HR_ESTATE);
    hr_predictor_info info = {.size = sizeof info};
    ck_assert_int_eq(hr_predictor_get_info(p, &info), HR_OK);
    ck_assert_int_eq(info.learned_active, 0);
    ck_assert_double_eq(info.learned_auc, -1);
    hr_predictor_free(p);
}
END_TEST

/* ---- a daily cycle --------------------------------------------------------
 */

#define CYCLE_KEYS 120
#define CYCLE_WINDOW_S 600 /* 10 minutes: 144 windows a day */

static uint64_t rng_state = 12345;

static double uniform(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* Key k is busy for three hours a day from hour k % 24, idle otherwise. */
static int busy(int k, uint64_t window)
{
    int hour = (int)((window * CYCLE_WINDOW_S / 3600) % 24);
    int from = k % 24;
    return (hour - from + 24) % 24 < 3;
}

static void feed_window(hr_predictor *p, uint64_t window, char(*accessed))
{
    char key[16];
    uint64_t start = T0 + window * CYCLE_WINDOW_S * SEC;
    for (int k = 0; k < CYCLE_KEYS; k++) {
        double prob = busy(k, window) ? 0.6 : 0.03;
        accessed[k] = uniform() < prob;
        if (!accessed[k])
            continue;
        snprintf(key, sizeof key, "t%03d", k);
        ck_assert_int_eq(hr_predictor_observe(p, key, start + (uint64_t)k * SEC,
                                              HR_PREDICTOR_WRITE,
                                              1 + (uint32_t)(k % 3)),
                         HR_OK);
    }
}

/* Mean precision of the top `k` against the accesses of each window. */
static double precision(hr_predictor *p, int scorer, uint64_t from,
                        uint64_t windows, size_t k, hr_predictor **copy)
{
    const char *keys[CYCLE_KEYS];
    char accessed[CYCLE_KEYS];
    double hits = 0;
    rng_state = 777;
    ck_assert_int_eq(
        hr_predictor_set_param(p, HR_PREDICTOR_PARAM_SCORER, scorer), HR_OK);
    for (uint64_t w = from; w < from + windows; w++) {
        size_t n;
        uint64_t start = T0 + w * CYCLE_WINDOW_S * SEC;
        ck_assert_int_eq(hr_predictor_top_k(p, start, keys, NULL, k, &n),
                         HR_OK);
        ck_assert_uint_eq(n, k);
        char picked[CYCLE_KEYS] = {0};
        for (size_t i = 0; i < n; i++)
            picked[atoi(keys[i] + 1)] = 1;
        feed_window(p, w, accessed);
        for (int i = 0; i < CYCLE_KEYS; i++)
            hits += picked[i] && accessed[i];
    }
    (void)copy;
    return hits / (double)(k * windows);
}

static hr_predictor *trained_cycle(void)
{
    hr_predictor *p = make(CYCLE_WINDOW_S * 1000);
    ck_assert_int_eq(
        hr_predictor_set_param(p, HR_PREDICTOR_PARAM_TRAIN_ROWS, 40000), HR_OK);
    char accessed[CYCLE_KEYS];
    rng_state = 12345;
    for (uint64_t w = 0; w < 6 * 144; w++)
        feed_window(p, w, accessed);
    ck_assert_int_eq(hr_predictor_train(p, T0 + 6 * 144 * CYCLE_WINDOW_S * SEC),
                     HR_OK);
    return p;
}

static int thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    int n = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    if (f)
        fclose(f);
    return n;
}

START_TEST(learned_model_beats_recency_on_a_daily_cycle)
{
    int threads_before = thread_count();
    hr_predictor *p = trained_cycle();
    hr_predictor_info info = {.size = sizeof info};
    ck_assert_int_eq(hr_predictor_get_info(p, &info), HR_OK);
    ck_assert_int_eq(info.trainings, 1);
    ck_assert_msg(info.learned_active, "model not used: AUC %.3f vs %.3f",
                  info.learned_auc, info.heuristic_auc);
    ck_assert(info.learned_auc >= info.heuristic_auc);
    ck_assert(info.learned_auc > 0.8);
    uint64_t from = 6 * 144;
    /* Evaluate on copies of the same state so every scorer sees the same
     * days: save once, load per scorer. */
    const uint8_t *blob;
    size_t len;
    ck_assert_int_eq(hr_predictor_save(p, &blob, &len), HR_OK);
    double prec[4];
    int scorers[] = {HR_PREDICTOR_SCORER_LEARNED, HR_PREDICTOR_SCORER_RECENCY,
                     HR_PREDICTOR_SCORER_HEURISTIC};
    for (int s = 0; s < 3; s++) {
        hr_predictor *q;
        ck_assert_int_eq(hr_predictor_new(env, &q), HR_OK);
        ck_assert_int_eq(hr_predictor_load(q, blob, len), HR_OK);
        prec[s] = precision(q, scorers[s], from, 144, 12, NULL);
        hr_predictor_free(q);
    }
    ck_assert_msg(prec[0] > prec[1] + 0.05,
                  "learned %.3f, recency %.3f, heuristic %.3f", prec[0],
                  prec[1], prec[2]);
    ck_assert_msg(prec[0] > prec[2], "learned %.3f, heuristic %.3f", prec[0],
                  prec[2]);
    /* Training and prediction ran on this thread: no OpenMP pool. */
    ck_assert_int_eq(thread_count(), threads_before);
    hr_predictor_free(p);
}
END_TEST

START_TEST(save_load_round_trip)
{
    hr_predictor *p = trained_cycle();
    uint64_t now = T0 + (6 * 144 + 3) * CYCLE_WINDOW_S * SEC + 17 * SEC;
    ck_assert_int_eq(hr_predictor_observe(p, "t001", now, HR_PREDICTOR_READ, 2),
                     HR_OK);
    const uint8_t *blob;
    size_t len;
    ck_assert_int_eq(hr_predictor_save(p, &blob, &len), HR_OK);
    uint8_t *copy = malloc(len);
    memcpy(copy, blob, len);
    hr_predictor *q;
    ck_assert_int_eq(hr_predictor_new(env, &q), HR_OK);
    ck_assert_int_eq(hr_predictor_load(q, copy, len), HR_OK);
    /* Saving the loaded state gives the same bytes. */
    const uint8_t *blob2;
    size_t len2;
    ck_assert_int_eq(hr_predictor_save(q, &blob2, &len2), HR_OK);
    ck_assert_uint_eq(len2, len);
    ck_assert(memcmp(blob2, copy, len) == 0);
    hr_predictor_info iq = {.size = sizeof iq}, ip = {.size = sizeof ip};
    hr_predictor_get_info(q, &iq);
    hr_predictor_get_info(p, &ip);
    ck_assert_int_eq(iq.learned_active, 1);
    ck_assert_uint_eq(iq.keys, ip.keys);
    char key[16];
    for (int scorer = 0; scorer <= 3; scorer++) {
        hr_predictor_set_param(p, HR_PREDICTOR_PARAM_SCORER, scorer);
        hr_predictor_set_param(q, HR_PREDICTOR_PARAM_SCORER, scorer);
        for (int k = 0; k < CYCLE_KEYS + 2; k++) {
            snprintf(key, sizeof key, "t%03d", k);
            double a, b;
            ck_assert_int_eq(hr_predictor_score(p, key, now + SEC, &a), HR_OK);
            ck_assert_int_eq(hr_predictor_score(q, key, now + SEC, &b), HR_OK);
            ck_assert_msg(a == b, "scorer %d key %s: %.17g vs %.17g", scorer,
                          key, a, b);
        }
    }
    /* And they stay equal as both go on. */
    hr_predictor_set_param(p, HR_PREDICTOR_PARAM_SCORER, 0);
    hr_predictor_set_param(q, HR_PREDICTOR_PARAM_SCORER, 0);
    for (int step = 1; step < 5; step++) {
        uint64_t t = now + (uint64_t)step * CYCLE_WINDOW_S * SEC;
        hr_predictor_observe(p, "t007", t, HR_PREDICTOR_WRITE, 1);
        hr_predictor_observe(q, "t007", t, HR_PREDICTOR_WRITE, 1);
        const char *kp[10], *kq[10];
        double sp[10], sq[10];
        size_t np, nq;
        ck_assert_int_eq(hr_predictor_top_k(p, t, kp, sp, 10, &np), HR_OK);
        ck_assert_int_eq(hr_predictor_top_k(q, t, kq, sq, 10, &nq), HR_OK);
        ck_assert_uint_eq(np, nq);
        for (size_t i = 0; i < np; i++) {
            ck_assert_str_eq(kp[i], kq[i]);
            ck_assert(sp[i] == sq[i]);
        }
    }
    free(copy);
    hr_predictor_free(q);
    hr_predictor_free(p);
}
END_TEST

static void put_le64(uint8_t *at, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        at[i] = (uint8_t)(v >> (8 * i));
}

static void reseal(uint8_t *b, size_t len)
{
    put_le64(b + len - 8, XXH3_64bits(b, len - 8));
}

START_TEST(corrupt_state_is_refused)
{
    hr_predictor *p = make(60000);
    ck_assert_int_eq(hr_predictor_observe(p, "a/b", T0, HR_PREDICTOR_READ, 3),
                     HR_OK);
    ck_assert_int_eq(
        hr_predictor_observe(p, "c", T0 + 61 * SEC, HR_PREDICTOR_WRITE, 1),
        HR_OK);
    const uint8_t *blob;
    size_t len;
    ck_assert_int_eq(hr_predictor_save(p, &blob, &len), HR_OK);
    uint8_t *b = malloc(len);
    hr_predictor *q = make(60000);
    ck_assert_int_eq(hr_predictor_observe(q, "keep", T0, HR_PREDICTOR_READ, 1),
                     HR_OK);
    double before;
    ck_assert_int_eq(hr_predictor_score(q, "keep", T0 + SEC, &before), HR_OK);
    /* Every single flipped byte: checksum (or magic/version) refuses it. */
    for (size_t i = 0; i < len; i++) {
        memcpy(b, blob, len);
        b[i] ^= 0x40;
        int rc = hr_predictor_load(q, b, len);
        ck_assert_msg(rc == HR_ECORRUPT ||
                          ((i == 4 || i == 5) && rc == HR_EVERSION),
                      "byte %zu: %d", i, rc);
    }
    /* Every truncation. */
    for (size_t n = 0; n < len; n++)
        ck_assert_int_eq(hr_predictor_load(q, blob, n), HR_ECORRUPT);
    /* Bad contents under a good checksum. */
    memcpy(b, blob, len);
    b[4] = 2;
    reseal(b, len);
    ck_assert_int_eq(hr_predictor_load(q, b, len), HR_EVERSION);
    memcpy(b, blob, len);
    put_le64(b + 16, 5); /* window of 5 ms */
    reseal(b, len);
    ck_assert_int_eq(hr_predictor_load(q, b, len), HR_ECORRUPT);
    memcpy(b, blob, len);
    b[6] = 1; /* claims a model */
    reseal(b, len);
    ck_assert_int_eq(hr_predictor_load(q, b, len), HR_ECORRUPT);
    /* The second key's name turned into the first's: a duplicate. */
    memcpy(b, blob, len);
    uint8_t *c = NULL;
    for (size_t i = 0; i + 3 < len; i++)
        if (b[i] == 1 && b[i + 1] == 0 && b[i + 2] == 'c')
            c = b + i;
    ck_assert_ptr_nonnull(c);
    c[2] = 0; /* a NUL inside a key */
    reseal(b, len);
    ck_assert_int_eq(hr_predictor_load(q, b, len), HR_ECORRUPT);
    ck_assert_str_ne(hr_predictor_errmsg(q), "");
    /* q is unchanged by all of it. */
    double after;
    ck_assert_int_eq(hr_predictor_score(q, "keep", T0 + SEC, &after), HR_OK);
    ck_assert_double_eq(before, after);
    ck_assert_int_eq(hr_predictor_load(q, blob, len), HR_OK);
    ck_assert_int_eq(hr_predictor_score(q, "keep", T0 + 62 * SEC, &after),
                     HR_OK);
    ck_assert_double_eq(after, 0);
    free(b);
    hr_predictor_free(q);
    hr_predictor_free(p);
}
END_TEST

/* A small predictor with a trained model (alternating keys, 1 s windows). */
static hr_predictor *small_trained(hr_env *e, int *rc_out)
{
    hr_predictor *p;
    int rc = hr_predictor_new(e, &p);
    if (rc != HR_OK) {
        *rc_out = rc;
        return NULL;
    }
    hr_predictor_set_param(p, HR_PREDICTOR_PARAM_WINDOW_MS, 1000);
    hr_predictor_set_param(p, HR_PREDICTOR_PARAM_MAX_KEYS, 24);
    hr_predictor_set_param(p, HR_PREDICTOR_PARAM_TRAIN_ROWS, 400);
    hr_predictor_exp_set(p, HR_PREDICTOR_EXP_MIN_TRAIN_ROWS, 10);
    hr_predictor_exp_set(p, HR_PREDICTOR_EXP_TREE_ROUNDS, 2);
    char key[16];
    for (int w = 0; w < 12 && rc == HR_OK; w++)
        for (int k = 0; k < 30 && rc == HR_OK; k++) {
            if ((k + w) % 3 == 0)
                continue;
            snprintf(key, sizeof key, "k%d", k);
            rc = hr_predictor_observe(p, key, T0 + (uint64_t)w * SEC,
                                      HR_PREDICTOR_READ, 1 + (uint32_t)k);
        }
    if (rc == HR_OK)
        rc = hr_predictor_train(p, T0 + 12 * SEC);
    *rc_out = rc;
    return p;
}

START_TEST(corrupt_model_is_refused)
{
    int rc;
    hr_predictor *p = small_trained(env, &rc);
    ck_assert_int_eq(rc, HR_OK);
    hr_predictor_info info = {.size = sizeof info};
    hr_predictor_get_info(p, &info);
    ck_assert_int_eq(info.trainings, 1);
    const uint8_t *blob;
    size_t len;
    ck_assert_int_eq(hr_predictor_save(p, &blob, &len), HR_OK);
    ck_assert_msg(info.learned_active, "AUC %.3f vs %.3f", info.learned_auc,
                  info.heuristic_auc);
    ck_assert_int_eq(blob[6], 1); /* the model flag */
    uint8_t *b = malloc(len);
    hr_predictor *q;
    ck_assert_int_eq(hr_predictor_new(env, &q), HR_OK);
    ck_assert_int_eq(hr_predictor_load(q, blob, len), HR_OK);
    if (blob[6] == 1) {
        /* The last node (a leaf) made a node pointing back to the root. */
        size_t last = len - 8 - 17;
        memcpy(b, blob, len);
        memset(b + last, 0, 8); /* left = right = 0 */
        reseal(b, len);
        ck_assert_int_eq(hr_predictor_load(q, b, len), HR_ECORRUPT);
        memcpy(b, blob, len);
        memset(b + last + 12, 0xff, 4); /* value NaN */
        reseal(b, len);
        ck_assert_int_eq(hr_predictor_load(q, b, len), HR_ECORRUPT);
        memcpy(b, blob, len);
        b[last + 16] = 7; /* default_left not 0/1 */
        reseal(b, len);
        ck_assert_int_eq(hr_predictor_load(q, b, len), HR_ECORRUPT);
    }
    free(b);
    hr_predictor_free(q);
    hr_predictor_free(p);
}
END_TEST

/* ---- allocation failures --------------------------------------------------
 */

typedef struct sweep_state {
    hr_predictor *p, *q;
} sweep_state;

static int sweep_op(hr_env *e, void *state)
{
    sweep_state *s = state;
    int rc;
    s->p = small_trained(e, &rc);
    if (rc != HR_OK)
        return rc;
    const char *keys[8];
    size_t n;
    if ((rc = hr_predictor_top_k(s->p, T0 + 13 * SEC, keys, NULL, 8, &n)) !=
        HR_OK)
        return rc;
    const uint8_t *blob;
    size_t len;
    if ((rc = hr_predictor_save(s->p, &blob, &len)) != HR_OK)
        return rc;
    if ((rc = hr_predictor_new(e, &s->q)) != HR_OK)
        return rc;
    if ((rc = hr_predictor_load(s->q, blob, len)) != HR_OK)
        return rc;
    double sc;
    return hr_predictor_score(s->q, "k1", T0 + 14 * SEC, &sc);
}

static void sweep_cleanup(void *state)
{
    sweep_state *s = state;
    hr_predictor_free(s->p);
    hr_predictor_free(s->q);
    s->p = s->q = NULL;
}

START_TEST(every_allocation_failure_is_enomem)
{
    sweep_state s = {0};
    char why[160] = "";
    long points =
        failing_allocator_sweep(sweep_op, sweep_cleanup, &s, why, sizeof why);
    ck_assert_msg(points > 15, "sweep: %ld (%s)", points, why);
}
END_TEST

static Suite *predict_suite(void)
{
    Suite *s = suite_create("predict");
    TCase *tc = tcase_create("predict");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, sketch_counts_and_ages_exactly);
    tcase_add_test(tc, windows_age_the_sketch);
    tcase_add_test(tc, recency_scores);
    tcase_add_test(tc, top_k_order);
    tcase_add_test(tc, arguments_and_layout);
    tcase_add_test(tc, cold_start_uses_the_heuristic);
    tcase_add_test(tc, learned_model_beats_recency_on_a_daily_cycle);
    tcase_add_test(tc, save_load_round_trip);
    tcase_add_test(tc, corrupt_state_is_refused);
    tcase_add_test(tc, corrupt_model_is_refused);
    tcase_add_test(tc, every_allocation_failure_is_enomem);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(predict_suite());
}
