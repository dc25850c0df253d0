/*
 * pred_model.c - training through XGBoost's C API. The booster lives only
 * for one hr_predictor_train call: its trees are copied out (pred_trees.c)
 * and checked against XGBoost's own predictions on the held-out examples.
 * Every matrix and booster gets nthread = 1, so XGBoost's OpenMP loops run
 * on the calling thread. XGBoost reports errors through XGBGetLastError
 * (thread-local); they are copied into the predictor's message and mapped
 * to HR_EINTERNAL.
 *
 * nthread = 1 does not cover everything: some XGBoost paths (loading a
 * model, seen in testing) run an OpenMP parallel region with the default
 * thread count, which starts libgomp's pool (a thread per core, kept for
 * the process's lifetime). So training runs with the calling thread's
 * OpenMP default (the nthreads-var ICV, which belongs to that thread alone)
 * set to 1 and then restored, and no pool thread is started.
 */
#include <math.h>
#include <stdio.h>

#include <xgboost/c_api.h>

#include "predict_internal.h"

/* The OpenMP runtime API (libgomp), declared here because clang's omp.h
 * comes with a package the build does not need otherwise. */
extern int omp_get_max_threads(void);
extern void omp_set_num_threads(int n);

static int omp_enter(void)
{
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    return saved;
}

static void omp_leave(int saved)
{
    omp_set_num_threads(saved);
}

static int xgb_fail(hr_predictor *p, int code, const char *what)
{
    const char *msg = XGBGetLastError();
    return hr__fail(&p->error, code, "XGBoost %s: %.300s", what,
                    msg ? msg : "(no message)");
}

static int make_matrix(hr_predictor *p, const float *x, size_t n,
                       DMatrixHandle *out)
{
    if (XGDMatrixCreateFromMat_omp(x, (bst_ulong)n, (bst_ulong)p->nfeat, NAN,
                                   out, 1) != 0)
        return xgb_fail(p, HR_EINTERNAL, "matrix");
    return HR_OK;
}

static int set_params(hr_predictor *p, BoosterHandle b)
{
    char depth[16], eta[32], seed[24];
    snprintf(depth, sizeof depth, "%d",
             (int)p->xparams[HR_PREDICTOR_EXP_TREE_DEPTH]);
    snprintf(eta, sizeof eta, "%.3f",
             (double)p->xparams[HR_PREDICTOR_EXP_TREE_ETA_MILLI] / 1000.0);
    snprintf(seed, sizeof seed, "%d", (int)p->params[HR_PREDICTOR_PARAM_SEED]);
    const char *kv[][2] = {
        {"nthread", "1"},
        {"verbosity", "0"},
        {"objective", "binary:logistic"},
        {"tree_method", "hist"},
        {"max_depth", depth},
        {"eta", eta},
        {"seed", seed},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (XGBoosterSetParam(b, kv[i][0], kv[i][1]) != 0)
            return xgb_fail(p, HR_EINTERNAL, "parameter");
    return HR_OK;
}

static int model_train(hr_predictor *p, const float *x, const float *y,
                       size_t n_fit, size_t n_hold, float *pred_hold,
                       hr__ptrees **out)
{
    static const char predict_config[] =
        "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
        "\"iteration_end\": 0, \"strict_shape\": false}";
    DMatrixHandle fit = NULL, hold = NULL;
    BoosterHandle b = NULL;
    hr__ptrees *t = NULL;
    size_t f = p->nfeat;
    int rc = make_matrix(p, x, n_fit, &fit);
    if (rc == HR_OK)
        rc = make_matrix(p, x + n_fit * f, n_hold, &hold);
    if (rc != HR_OK)
        goto out;
    if (XGDMatrixSetFloatInfo(fit, "label", y, (bst_ulong)n_fit) != 0) {
        rc = xgb_fail(p, HR_EINTERNAL, "labels");
        goto out;
    }
    if (XGBoosterCreate(&fit, 1, &b) != 0) {
        rc = xgb_fail(p, HR_EINTERNAL, "booster");
        goto out;
    }
    if ((rc = set_params(p, b)) != HR_OK)
        goto out;
    int rounds = (int)p->xparams[HR_PREDICTOR_EXP_TREE_ROUNDS];
    for (int it = 0; it < rounds; it++)
        if (XGBoosterUpdateOneIter(b, it, fit) != 0) {
            rc = xgb_fail(p, HR_EINTERNAL, "training");
            goto out;
        }
    bst_ulong len = 0;
    const char *json = NULL;
    if (XGBoosterSaveModelToBuffer(b, "{\"format\": \"json\"}", &len, &json) !=
        0) {
        rc = xgb_fail(p, HR_EINTERNAL, "model JSON");
        goto out;
    }
    if ((rc = hr__ptrees_from_json(p, json, (size_t)len, &t)) != HR_OK)
        goto out;
    /* The copied trees must predict what XGBoost predicts. */
    const bst_ulong *shape = NULL;
    bst_ulong dim = 0;
    const float *ref = NULL;
    if (XGBoosterPredictFromDMatrix(b, hold, predict_config, &shape, &dim,
                                    &ref) != 0) {
        rc = xgb_fail(p, HR_EINTERNAL, "prediction");
        goto out;
    }
    if (dim != 1 || shape[0] != n_hold) {
        rc = hr__fail(&p->error, HR_EINTERNAL,
                      "XGBoost prediction: unexpected shape");
        goto out;
    }
    for (size_t i = 0; i < n_hold; i++) {
        pred_hold[i] = hr__ptrees_predict(t, x + (n_fit + i) * f);
        if (!(fabsf(pred_hold[i] - ref[i]) <= 1e-5f)) {
            rc = hr__fail(&p->error, HR_EINTERNAL,
                          "copied trees predict %g, XGBoost %g (example %zu)",
                          (double)pred_hold[i], (double)ref[i], i);
            goto out;
        }
    }
    *out = t;
    t = NULL;
out:
    hr__ptrees_free(p->env, t);
    if (b)
        XGBoosterFree(b);
    if (fit)
        XGDMatrixFree(fit);
    if (hold)
        XGDMatrixFree(hold);
    return rc;
}

int hr__pmodel_train(hr_predictor *p, const float *x, const float *y,
                     size_t n_fit, size_t n_hold, float *pred_hold,
                     hr__ptrees **out)
{
    *out = NULL;
    int saved = omp_enter();
    int rc = model_train(p, x, y, n_fit, n_hold, pred_hold, out);
    omp_leave(saved);
    return rc;
}
