/*
 * pred_trees.c - the learned model as the predictor keeps it: the boosted
 * trees copied out of XGBoost after training, evaluated here.
 *
 * Why not keep XGBoost's booster and its own serialization: a saved state is
 * outside data, and fuzzing hr_predictor_load found a heap-buffer-overflow in
 * libxgboost 1.7.4's model reader (UBJReader::DecodeStr) on a damaged model.
 * So XGBoost only ever reads what it wrote itself in this process: after
 * training, its JSON model is parsed (jansson) into the flat arrays below,
 * which the state loader checks completely (every child after its parent
 * and inside the tree, every feature index in range, every value finite)
 * before a tree walk can see them. Evaluating a few dozen small trees also
 * needs no matrix, no threads and no allocation.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "predict_internal.h"

hr__ptrees *hr__ptrees_alloc(const hr_env *env, uint32_t n_trees,
                             uint32_t n_nodes)
{
    hr__ptrees *t = hr__calloc(env, 1, sizeof *t);
    if (!t)
        return NULL;
    t->start = hr__calloc(env, (size_t)n_trees + 1, sizeof *t->start);
    t->nodes = hr__calloc(env, n_nodes ? n_nodes : 1, sizeof *t->nodes);
    if (!t->start || !t->nodes) {
        hr__ptrees_free(env, t);
        return NULL;
    }
    t->n_trees = n_trees;
    t->n_nodes = n_nodes;
    return t;
}

void hr__ptrees_free(const hr_env *env, hr__ptrees *t)
{
    if (!t)
        return;
    hr__free(env, t->start);
    hr__free(env, t->nodes);
    hr__free(env, t);
}

int hr__ptrees_check(const hr__ptrees *t, size_t nfeat)
{
    if (!isfinite(t->base_margin) || t->start[0] != 0 ||
        t->start[t->n_trees] != t->n_nodes)
        return 0;
    for (uint32_t k = 0; k < t->n_trees; k++) {
        uint32_t s = t->start[k], e = t->start[k + 1];
        if (e <= s || e > t->n_nodes)
            return 0;
        int64_t n = (int64_t)(e - s);
        for (int64_t i = 0; i < n; i++) {
            const hr__pnode *nd = &t->nodes[s + i];
            if (!isfinite(nd->value) || nd->default_left > 1)
                return 0;
            if (nd->left == -1 && nd->right == -1)
                continue;
            /* Children after their parent: a walk always ends. */
            if (nd->left <= i || nd->left >= n || nd->right <= i ||
                nd->right >= n || nd->feature >= nfeat)
                return 0;
        }
    }
    return 1;
}

float hr__ptrees_predict(const hr__ptrees *t, const float *x)
{
    float margin = t->base_margin;
    for (uint32_t k = 0; k < t->n_trees; k++) {
        const hr__pnode *tree = t->nodes + t->start[k];
        const hr__pnode *nd = tree;
        while (nd->left != -1) {
            float v = x[nd->feature];
            int left = isnan(v) ? (int)nd->default_left : v < nd->value;
            nd = tree + (left ? nd->left : nd->right);
        }
        margin += nd->value;
    }
    return 1.0f / (1.0f + expf(-margin)); /* binary:logistic */
}

/* ---- XGBoost's JSON model ------------------------------------------------ */

static json_t *path(json_t *j, const char *const *keys)
{
    for (; j && *keys; keys++)
        j = json_object_get(j, *keys);
    return j;
}

/* An array of numbers (or booleans) of length n, element i as a double. */
static int number_at(json_t *arr, size_t i, double *out)
{
    json_t *v = json_array_get(arr, i);
    if (json_is_number(v))
        *out = json_number_value(v);
    else if (json_is_boolean(v))
        *out = json_is_true(v);
    else
        return 0;
    return 1;
}

static int fill_tree(hr__ptrees *t, uint32_t k, json_t *tree, size_t n)
{
    json_t *left = json_object_get(tree, "left_children");
    json_t *right = json_object_get(tree, "right_children");
    json_t *cond = json_object_get(tree, "split_conditions");
    json_t *feat = json_object_get(tree, "split_indices");
    json_t *dflt = json_object_get(tree, "default_left");
    hr__pnode *nodes = t->nodes + t->start[k];
    for (size_t i = 0; i < n; i++) {
        double l, r, c, f, d;
        if (!number_at(left, i, &l) || !number_at(right, i, &r) ||
            !number_at(cond, i, &c) || !number_at(feat, i, &f) ||
            !number_at(dflt, i, &d) || f < 0 || f > UINT32_MAX ||
            fabs(l) > INT32_MAX || fabs(r) > INT32_MAX)
            return 0;
        nodes[i].left = (int32_t)l;
        nodes[i].right = (int32_t)r;
        nodes[i].value = (float)c;
        nodes[i].feature = (uint32_t)f;
        nodes[i].default_left = d != 0;
    }
    return 1;
}

int hr__ptrees_from_json(hr_predictor *p, const char *text, size_t len,
                         hr__ptrees **out)
{
    static const char *const trees_at[] = {"learner", "gradient_booster",
                                           "model", "trees", NULL};
    static const char *const base_at[] = {"learner", "learner_model_param",
                                          "base_score", NULL};
    *out = NULL;
    json_error_t err;
    json_t *root = json_loadb(text, len, 0, &err);
    if (!root)
        return hr__fail(&p->error, HR_EINTERNAL, "XGBoost model JSON: %.200s",
                        err.text);
    int rc = HR_EINTERNAL;
    json_t *trees = path(root, trees_at);
    json_t *base = path(root, base_at);
    size_t n_trees = json_array_size(trees), n_nodes = 0;
    double base_score =
        json_is_string(base) ? strtod(json_string_value(base), NULL) : 0.5;
    for (size_t k = 0; k < n_trees; k++)
        n_nodes += json_array_size(
            json_object_get(json_array_get(trees, k), "left_children"));
    hr__ptrees *t = NULL;
    if (n_trees == 0 || n_nodes > UINT32_MAX || !(base_score > 0) ||
        !(base_score < 1))
        goto out;
    t = hr__ptrees_alloc(p->env, (uint32_t)n_trees, (uint32_t)n_nodes);
    if (!t) {
        rc = hr__fail(&p->error, HR_ENOMEM, "model: out of memory");
        goto out;
    }
    t->base_margin = (float)-log(1.0 / base_score - 1.0);
    for (size_t k = 0; k < n_trees; k++) {
        json_t *tree = json_array_get(trees, k);
        size_t n = json_array_size(json_object_get(tree, "left_children"));
        t->start[k + 1] = t->start[k] + (uint32_t)n;
        if (!fill_tree(t, (uint32_t)k, tree, n))
            goto out;
    }
    if (hr__ptrees_check(t, p->nfeat)) {
        *out = t;
        t = NULL;
        rc = HR_OK;
    }
out:
    if (rc == HR_EINTERNAL)
        hr__fail(&p->error, HR_EINTERNAL,
                 "XGBoost model JSON: unexpected layout");
    hr__ptrees_free(p->env, t);
    json_decref(root);
    return rc;
}
