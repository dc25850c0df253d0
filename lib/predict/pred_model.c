/*
 * pred_model.c - the learned model through XGBoost's C API: training,
 * prediction, serialization. Every matrix and booster gets nthread = 1, so
 * XGBoost's OpenMP loops run on the calling thread. XGBoost reports errors
 * through XGBGetLastError (thread-local); they are copied into the
 * predictor's message and mapped to HR_EINTERNAL (or HR_ECORRUPT for a
 * model that does not load).
 *
 * nthread = 1 does not cover everything: loading a model runs an OpenMP
 * parallel region before the booster has its parameters, which starts
 * libgomp's pool (a thread per core, kept for the process's lifetime). So
 * every XGBoost call runs with the calling thread's OpenMP default (the
 * nthreads-var ICV, which belongs to that thread alone) set to 1 and then
 * restored, and no pool thread is ever started.
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
                     size_t n, void **booster_out)
{
    *booster_out = NULL;
    DMatrixHandle dm = NULL;
    BoosterHandle b = NULL;
    int rc = make_matrix(p, x, n, &dm);
    if (rc != HR_OK)
        return rc;
    if (XGDMatrixSetFloatInfo(dm, "label", y, (bst_ulong)n) != 0) {
        rc = xgb_fail(p, HR_EINTERNAL, "labels");
        goto out;
    }
    if (XGBoosterCreate(&dm, 1, &b) != 0) {
        rc = xgb_fail(p, HR_EINTERNAL, "booster");
        goto out;
    }
    if ((rc = set_params(p, b)) != HR_OK)
        goto out;
    int rounds = (int)p->xparams[HR_PREDICTOR_EXP_TREE_ROUNDS];
    for (int it = 0; it < rounds; it++)
        if (XGBoosterUpdateOneIter(b, it, dm) != 0) {
            rc = xgb_fail(p, HR_EINTERNAL, "training");
            goto out;
        }
    *booster_out = b;
    b = NULL;
out:
    if (b)
        XGBoosterFree(b);
    XGDMatrixFree(dm);
    return rc;
}

static int model_predict(hr_predictor *p, void *booster, const float *x,
                       size_t n, float *out)
{
    static const char config[] =
        "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
        "\"iteration_end\": 0, \"strict_shape\": false}";
    DMatrixHandle dm = NULL;
    int rc = make_matrix(p, x, n, &dm);
    if (rc != HR_OK)
        return rc;
    const bst_ulong *shape = NULL;
    bst_ulong dim = 0;
    const float *result = NULL;
    if (XGBoosterPredictFromDMatrix(booster, dm, config, &shape, &dim,
                                    &result) != 0) {
        rc = xgb_fail(p, HR_EINTERNAL, "prediction");
    } else if (dim < 1 || shape[0] != n) {
        rc = hr__fail(&p->error, HR_EINTERNAL,
                      "XGBoost prediction: unexpected shape");
    } else {
        bst_ulong per_row = 1;
        for (bst_ulong d = 1; d < dim; d++)
            per_row *= shape[d];
        for (size_t i = 0; i < n; i++) {
            float v = result[i * per_row];
            out[i] = isfinite(v) ? (v < 0 ? 0 : v > 1 ? 1 : v) : 0;
        }
    }
    XGDMatrixFree(dm);
    return rc;
}

int hr__pmodel_save(hr_predictor *p, void *booster, const uint8_t **bytes,
                    size_t *len)
{
    bst_ulong n = 0;
    const char *data = NULL;
    if (XGBoosterSaveModelToBuffer(booster, "{\"format\": \"ubj\"}", &n,
                                   &data) != 0)
        return xgb_fail(p, HR_EINTERNAL, "save");
    *bytes = (const uint8_t *)data;
    *len = (size_t)n;
    return HR_OK;
}

static int model_load(hr_predictor *p, const uint8_t *bytes, size_t len,
                    void **booster_out)
{
    *booster_out = NULL;
    BoosterHandle b = NULL;
    if (XGBoosterCreate(NULL, 0, &b) != 0)
        return xgb_fail(p, HR_EINTERNAL, "booster");
    int rc = HR_OK;
    bst_ulong nfeat = 0;
    if (XGBoosterLoadModelFromBuffer(b, bytes, (bst_ulong)len) != 0) {
        rc = xgb_fail(p, HR_ECORRUPT, "model");
    } else if ((rc = set_params(p, b)) != HR_OK) {
        /* message set */
    } else if (XGBoosterGetNumFeature(b, &nfeat) != 0 || nfeat != p->nfeat) {
        rc = hr__fail(&p->error, HR_ECORRUPT,
                      "model: %llu features, the predictor has %zu",
                      (unsigned long long)nfeat, p->nfeat);
    }
    if (rc != HR_OK) {
        XGBoosterFree(b);
        return rc;
    }
    *booster_out = b;
    return HR_OK;
}

void hr__pmodel_free(void *booster)
{
    if (booster)
        XGBoosterFree(booster);
}

int hr__pmodel_train(hr_predictor *p, const float *x, const float *y,
                     size_t n, void **booster_out)
{
    int saved = omp_enter();
    int rc = model_train(p, x, y, n, booster_out);
    omp_leave(saved);
    return rc;
}

int hr__pmodel_predict(hr_predictor *p, void *booster, const float *x,
                       size_t n, float *out)
{
    int saved = omp_enter();
    int rc = model_predict(p, booster, x, n, out);
    omp_leave(saved);
    return rc;
}

int hr__pmodel_load(hr_predictor *p, const uint8_t *bytes, size_t len,
                    void **booster_out)
{
    int saved = omp_enter();
    int rc = model_load(p, bytes, len, booster_out);
    omp_leave(saved);
    return rc;
}
