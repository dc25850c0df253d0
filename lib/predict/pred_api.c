/* pred_api.c - training, info, save / load and errmsg entry points. */
#include <string.h>

#include "predict_internal.h"

HR_API int hr_predictor_train(hr_predictor *p, uint64_t now_ns)
{
    if (!p)
        return HR_EINVAL;
    int rc = hr__pred_advance(p, now_ns);
    if (rc != HR_OK)
        return rc;
    if (!p->row_cap)
        return hr__fail(&p->error, HR_ESTATE,
                        "no examples are collected (TRAIN_ROWS is 0)");
    return hr__pred_train(p);
}

HR_API int hr_predictor_get_info(const hr_predictor *p, hr_predictor_info *info)
{
    if (!p || !info || info->size < sizeof(hr_predictor_info))
        return HR_EINVAL;
    size_t labelled = 0;
    for (size_t r = 0; r < p->row_count; r++)
        labelled += p->labels[r] == 0 || p->labels[r] == 1;
    size_t size = info->size;
    memset(info, 0, sizeof *info);
    info->size = size;
    info->keys = p->n_entries;
    info->windows = p->windows;
    info->examples = labelled;
    info->events = p->events;
    info->learned_active = p->learned_active;
    info->trainings = p->trainings;
    info->learned_auc = p->learned_auc;
    info->heuristic_auc = p->heuristic_auc;
    info->model_failures = p->model_failures;
    return HR_OK;
}

HR_API int hr_predictor_save(hr_predictor *p, const uint8_t **blob,
                             size_t *blob_len)
{
    if (!p)
        return HR_EINVAL;
    if (!blob || !blob_len)
        return hr__fail(&p->error, HR_EINVAL, "NULL blob or blob_len");
    int rc = hr__pred_save(p);
    if (rc != HR_OK)
        return rc;
    *blob = p->blob;
    *blob_len = p->blob_len;
    return HR_OK;
}

HR_API int hr_predictor_load(hr_predictor *p, const uint8_t *blob,
                             size_t blob_len)
{
    if (!p)
        return HR_EINVAL;
    if (!blob)
        return hr__fail(&p->error, HR_EINVAL, "NULL blob");
    return hr__pred_load(p, blob, blob_len);
}

HR_API const char *hr_predictor_errmsg(const hr_predictor *p)
{
    return p ? p->error.message : "no predictor";
}
