/* pred_params.c - parameter ranges and defaults, and the experimental knobs. */
#include <string.h>

#include "predict_internal.h"

/* {min, max, default}, indexed by hr_predictor_param; row 0 unused. */
const int64_t hr__pred_param_spec[HR__PRED_PARAMS][3] = {
    [HR_PREDICTOR_PARAM_WINDOW_MS] = {1000, 604800000, 60000},
    [HR_PREDICTOR_PARAM_MAX_KEYS] = {16, 1 << 24, 65536},
    [HR_PREDICTOR_PARAM_TRAIN_ROWS] = {0, 1 << 22, 65536},
    [HR_PREDICTOR_PARAM_SCORER] = {HR_PREDICTOR_SCORER_AUTO,
                                   HR_PREDICTOR_SCORER_LEARNED,
                                   HR_PREDICTOR_SCORER_AUTO},
    [HR_PREDICTOR_PARAM_SEED] = {0, INT32_MAX, 1},
};

/* Indexed by hr_predictor_exp_param; row 0 unused. */
const int64_t hr__pred_xparam_spec[HR__PRED_XPARAMS][3] = {
    [HR_PREDICTOR_EXP_SKETCH_WIDTH] = {64, 1 << 24, 16384},
    [HR_PREDICTOR_EXP_SKETCH_DEPTH] = {1, 8, 4},
    [HR_PREDICTOR_EXP_AGING_WINDOWS] = {1, 1 << 20, 30},
    [HR_PREDICTOR_EXP_TREE_ROUNDS] = {1, 1000, 40},
    [HR_PREDICTOR_EXP_TREE_DEPTH] = {1, 12, 6},
    [HR_PREDICTOR_EXP_TREE_ETA_MILLI] = {1, 1000, 200},
    [HR_PREDICTOR_EXP_ROWS_PER_WINDOW] = {1, 1 << 20, 1024},
    [HR_PREDICTOR_EXP_DAY_SLOTS] = {0, 96, 24},
    [HR_PREDICTOR_EXP_MIN_TRAIN_ROWS] = {10, 1 << 22, 200},
};

int hr__pred_xparam_ok(int param, int64_t v)
{
    if (param < 1 || param >= HR__PRED_XPARAMS)
        return 0;
    if (v < hr__pred_xparam_spec[param][0] ||
        v > hr__pred_xparam_spec[param][1])
        return 0;
    if (param == HR_PREDICTOR_EXP_SKETCH_WIDTH && (v & (v - 1)) != 0)
        return 0;
    if (param == HR_PREDICTOR_EXP_DAY_SLOTS && v != 0 && 86400 % v != 0)
        return 0;
    return 1;
}

HR_EXPERIMENTAL_API int hr_predictor_exp_set(hr_predictor *p,
                                             hr_predictor_exp_param param,
                                             int64_t value)
{
    if (!p)
        return HR_EINVAL;
    if (!hr__pred_xparam_ok((int)param, value))
        return hr__fail(&p->error, HR_EINVAL,
                        "experimental parameter %d: value %lld out of range",
                        (int)param, (long long)value);
    if (p->started)
        return hr__fail(&p->error, HR_ESTATE,
                        "experimental parameters are set before the first "
                        "event");
    p->xparams[param] = value;
    return HR_OK;
}

HR_EXPERIMENTAL_API int hr_predictor_exp_get(const hr_predictor *p,
                                             hr_predictor_exp_param param,
                                             int64_t *value)
{
    if (!p || !value || (int)param < 1 || (int)param >= HR__PRED_XPARAMS)
        return HR_EINVAL;
    *value = p->xparams[param];
    return HR_OK;
}

HR_EXPERIMENTAL_API int hr_predictor_exp_set_horizons(hr_predictor *p,
                                                      const uint32_t *windows,
                                                      size_t n)
{
    if (!p)
        return HR_EINVAL;
    if (!windows || n < 1 || n > HR__PRED_MAX_H)
        return hr__fail(&p->error, HR_EINVAL, "1..%d horizons", HR__PRED_MAX_H);
    for (size_t i = 0; i < n; i++)
        if (windows[i] < 1 || windows[i] > 1000000)
            return hr__fail(&p->error, HR_EINVAL,
                            "horizon %zu: %u windows, not 1..1000000", i,
                            windows[i]);
    if (p->started)
        return hr__fail(&p->error, HR_ESTATE,
                        "horizons are set before the first event");
    for (size_t i = 0; i < n; i++)
        p->horizons[i] = windows[i];
    p->nh = (uint32_t)n;
    return HR_OK;
}

HR_EXPERIMENTAL_API int hr_predictor_exp_features(hr_predictor *p,
                                                  const char *key, float *out,
                                                  size_t cap, size_t *n)
{
    if (!p || !key || !n || (cap && !out))
        return HR_EINVAL;
    size_t len = strlen(key);
    hr__pentry *e =
        p->started ? hr__pred_find(p, key, len, hr__pred_hash(key, len)) : NULL;
    if (!e)
        return hr__fail(&p->error, HR_ENOTFOUND, "key '%.64s' not tracked",
                        key);
    float f[HR__PRED_MAX_FEATS];
    hr__pred_features(p, (size_t)(e - p->entries), f);
    for (size_t i = 0; i < cap && i < p->nfeat; i++)
        out[i] = f[i];
    *n = p->nfeat;
    return HR_OK;
}
