/*
 * pred_train.c - hr_predictor_train: fit a model on the labelled examples
 * and put it in use only if it ranks the held-out newest examples at least
 * as well as the heuristic does.
 */
#include <string.h>

#include "predict_internal.h"

typedef struct train_bufs {
    float *x, *y, *heur, *pred;
    uint32_t *order;
} train_bufs;

static void bufs_free(const hr_env *env, train_bufs *b)
{
    hr__free(env, b->x);
    hr__free(env, b->y);
    hr__free(env, b->heur);
    hr__free(env, b->pred);
    hr__free(env, b->order);
}

/* Copy the labelled rows, oldest first. Returns how many. */
static size_t gather(const hr_predictor *p, train_bufs *b)
{
    size_t n = 0, f = p->nfeat;
    size_t first = p->row_count < p->row_cap ? 0 : p->row_next;
    for (size_t k = 0; k < p->row_count; k++) {
        size_t r = (first + k) % p->row_cap;
        if (p->labels[r] != 0 && p->labels[r] != 1)
            continue;
        const float *row = p->rows + r * (f + 1);
        memcpy(b->x + n * f, row, f * sizeof(float));
        b->heur[n] = row[f];
        b->y[n] = (float)p->labels[r];
        n++;
    }
    return n;
}

int hr__pred_train(hr_predictor *p)
{
    const hr_env *env = p->env;
    size_t min_rows = (size_t)p->xparams[HR_PREDICTOR_EXP_MIN_TRAIN_ROWS];
    size_t labelled = 0;
    for (size_t r = 0; r < p->row_count; r++)
        labelled += p->labels[r] == 0 || p->labels[r] == 1;
    if (labelled < min_rows)
        return hr__fail(&p->error, HR_ESTATE,
                        "%zu labelled examples, %zu needed: keep observing",
                        labelled, min_rows);
    train_bufs b = {0};
    size_t f = p->nfeat;
    b.x = hr__malloc(env, labelled * f * sizeof(float));
    b.y = hr__malloc(env, labelled * sizeof(float));
    b.heur = hr__malloc(env, labelled * sizeof(float));
    b.pred = hr__malloc(env, labelled * sizeof(float));
    b.order = hr__malloc(env, labelled * sizeof(uint32_t));
    if (!b.x || !b.y || !b.heur || !b.pred || !b.order) {
        bufs_free(env, &b);
        return hr__fail(&p->error, HR_ENOMEM, "training: out of memory");
    }
    size_t n = gather(p, &b);
    size_t hold = n / 5 ? n / 5 : 1, fit = n - hold;
    size_t pos = 0;
    for (size_t i = 0; i < fit; i++)
        pos += b.y[i] > 0.5f;
    if (pos == 0 || pos == fit) {
        bufs_free(env, &b);
        return hr__fail(&p->error, HR_ESTATE,
                        "the examples are all %s: keep observing",
                        pos ? "accessed" : "idle");
    }
    hr__ptrees *model = NULL;
    int rc = hr__pmodel_train(p, b.x, b.y, fit, hold, b.pred, &model);
    if (rc != HR_OK) {
        bufs_free(env, &b);
        return rc;
    }
    double auc_model = hr__pred_auc(b.pred, b.y + fit, hold, 1, b.order);
    double auc_heur = hr__pred_auc(b.heur + fit, b.y + fit, hold, 1, b.order);
    bufs_free(env, &b);
    p->trainings++;
    p->learned_auc = auc_model;
    p->heuristic_auc = auc_heur;
    if (auc_model < auc_heur) {
        hr__log(env, HR_LOG_INFO,
                "predictor: model not used (holdout AUC %.4f < heuristic "
                "%.4f)",
                auc_model, auc_heur);
        hr__ptrees_free(env, model);
        return HR_OK;
    }
    hr__ptrees_free(env, p->model);
    p->model = model;
    p->learned_active = 1;
    p->learned_cw = 0;
    return HR_OK;
}
