/*
 * predict_internal.h - the predictor's state, shared by the files of
 * lib/predict. Not installed. See include/heliosrepl/predict.h and
 * docs/predict.md.
 */
#ifndef HR_PREDICT_INTERNAL_H
#define HR_PREDICT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#ifndef HR_EXPERIMENTAL
#define HR_EXPERIMENTAL
#endif
#include <heliosrepl/predict.h>

#include "core/core_internal.h"

#define HR__PRED_PARAMS 6   /* hr_predictor_param 1..5 */
#define HR__PRED_XPARAMS 10 /* hr_predictor_exp_param 1..9 */
#define HR__PRED_MAX_H HR_PREDICTOR_EXP_MAX_HORIZONS
/* Features after the horizons: age, time of day, day of week, write ratio,
 * usual count in this hour, mean hourly count, count this hour today. */
#define HR__PRED_EXTRA_FEATS 7
#define HR__PRED_MAX_FEATS (HR__PRED_MAX_H + HR__PRED_EXTRA_FEATS)
/* A training row: the features, then the heuristic's score (not a feature:
 * kept to compare the model with the heuristic on held-out rows). */
#define HR__PRED_NS_PER_DAY (86400ull * 1000000000ull)
/* Daily profile: weight of the previous days against the last one. */
#define HR__PRED_DAY_DECAY 0.5
/* Age given to a key never accessed before the window, in windows. */
#define HR__PRED_AGE_NEVER 1e6

/* Labels of training rows. */
#define HR__ROW_PENDING (-1)
#define HR__ROW_DROPPED (-2)

/* Count-min sketch (conservative update, 32-bit saturating counters). */
typedef struct hr__psketch {
    uint32_t *cells; /* depth rows of width counters */
    uint32_t width;  /* a power of two */
    uint32_t depth;
} hr__psketch;

int hr__psketch_init(hr__psketch *s, const hr_env *env, uint32_t width,
                     uint32_t depth);
void hr__psketch_free(hr__psketch *s, const hr_env *env);
void hr__psketch_add(hr__psketch *s, uint64_t hash, uint32_t count);
uint32_t hr__psketch_estimate(const hr__psketch *s, uint64_t hash);
/* Halve every counter `halvings` times (>= 32 clears them). */
void hr__psketch_age(hr__psketch *s, uint64_t halvings);

/*
 * A tracked key. Its float state (entry i's block of p->fstride floats in
 * p->fstate) holds: decayed totals per horizon as of the start of window
 * `win` [nh], decayed writes at the longest horizon [1], then the daily
 * profile: per slot the previous days' decayed count [S] and the count of
 * day days[s] [S]; p->fdays holds the S day numbers.
 */
typedef struct hr__pentry {
    uint64_t hash;
    char *key;
    uint64_t last_ns;      /* last access; 0: none */
    uint64_t prev_last_ns; /* last access before window `win`; 0: none */
    uint64_t win;          /* window of reads/writes */
    uint64_t first_win;    /* window the key was first seen in */
    float reads, writes;   /* counts of window `win` */
    float learned;         /* learned score, valid when p->learned_cw */
} hr__pentry;

struct hr_predictor {
    hr_env *env;
    hr__error error;
    int64_t params[HR__PRED_PARAMS];
    int64_t xparams[HR__PRED_XPARAMS];
    uint32_t horizons[HR__PRED_MAX_H];
    uint32_t nh;

    /* Time: set by the first call that takes now_ns. */
    int started;
    uint64_t window_ns;
    uint64_t now_ns;              /* latest time seen */
    uint64_t cw;                  /* current window = now_ns / window_ns */
    double decay[HR__PRED_MAX_H]; /* per-window factor of each horizon */
    uint32_t slots;               /* daily profile slots (0: none) */
    size_t nfeat;                 /* nh + HR__PRED_EXTRA_FEATS */

    hr__psketch sketch;

    /* Keys: entries[0..n) and an open-addressing index of entry + 1. */
    hr__pentry *entries;
    size_t n_entries, cap_entries;
    float *fstate;
    uint32_t *fdays;
    size_t fstride;
    uint32_t *table;
    size_t table_cap; /* a power of two, >= 2 * cap_entries */

    /* Training examples: a ring of row_cap rows of nfeat + 1 floats, of which
     * row_alloc are allocated (it grows while it fills). */
    float *rows;
    int8_t *labels;
    uint32_t *row_entry;
    uint64_t *row_hash;
    size_t row_cap, row_alloc, row_next, row_count;
    size_t pending_first, pending_count; /* rows of the current window */
    uint64_t rng;

    /* The learned model. */
    struct hr__ptrees *model; /* NULL: none */
    int learned_active;       /* the model answers AUTO */
    uint64_t learned_cw;      /* 1 + window whose learned scores are cached */

    /* Statistics (hr_predictor_info). */
    uint64_t windows, events, model_failures;
    int trainings;
    double learned_auc, heuristic_auc;

    /* Scratch: top-k scores and order, the saved blob. */
    double *scores;
    uint32_t *order;
    size_t scores_cap;
    uint8_t *blob;
    size_t blob_len, blob_cap;
};

/* predictor.c */
int hr__pred_start(hr_predictor *p, uint64_t now_ns);
int hr__pred_advance(hr_predictor *p, uint64_t now_ns);
void hr__pred_layout_free(hr_predictor *p);
/* Allocate the layout of a started predictor (sketch, keys, ring). */
int hr__pred_layout_alloc(hr_predictor *p, size_t cap_entries);
double hr__pred_heuristic(const hr_predictor *p, const hr__pentry *e,
                          uint64_t hash, uint64_t now_ns);
double hr__pred_recency(const hr_predictor *p, const hr__pentry *e,
                        uint64_t now_ns);
int hr__pred_learned_refresh(hr_predictor *p);

/* pred_keys.c */
uint64_t hr__pred_hash(const char *key, size_t len);
/* The entry of `key` or NULL. */
hr__pentry *hr__pred_find(const hr_predictor *p, const char *key, size_t len,
                          uint64_t hash);
/* The entry of `key`, created (or admitted over a victim) if needed. Sets
 * *entry NULL when the key is not admitted. HR_OK or HR_ENOMEM. */
int hr__pred_get_or_add(hr_predictor *p, const char *key, size_t len,
                        uint64_t hash, hr__pentry **entry);
/* Insert an entry with a copied key at the end (load path). */
int hr__pred_append(hr_predictor *p, const char *key, size_t len,
                    hr__pentry **entry);
int hr__pred_table_rebuild(hr_predictor *p);
static inline float *hr__pred_fstate(const hr_predictor *p, size_t i)
{
    return p->fstate + i * p->fstride;
}

/* pred_features.c */
void hr__pred_touch(hr_predictor *p, size_t i, uint64_t now_ns,
                    hr_predictor_access kind, uint32_t count);
/* The feature vector of entry i as of the start of the current window. */
void hr__pred_features(const hr_predictor *p, size_t i, float *out);
/* Label the pending rows, then sample rows of the new window. */
void hr__pred_collect(hr_predictor *p, uint64_t closed_cw);
void hr__pred_sample(hr_predictor *p);
/* ROC AUC of scores against 0/1 labels (ties averaged); -1 if one class. */
double hr__pred_auc(const float *scores, const float *labels, size_t n,
                    size_t stride, uint32_t *order_scratch);

/* The learned model: boosted trees copied out of XGBoost (pred_trees.c).
 * Tree k is nodes[start[k] .. start[k + 1]); node 0 of a tree is its root;
 * a leaf has left == right == -1 and its value in `value`. */
typedef struct hr__pnode {
    int32_t left, right;   /* node index within the tree, or -1 */
    uint32_t feature;      /* split feature */
    float value;           /* split condition (go left if x < value) or leaf */
    uint32_t default_left; /* 1: a missing (NaN) feature goes left */
} hr__pnode;

typedef struct hr__ptrees {
    uint32_t n_trees, n_nodes;
    uint32_t *start;
    hr__pnode *nodes;
    float base_margin;
} hr__ptrees;

hr__ptrees *hr__ptrees_alloc(const hr_env *env, uint32_t n_trees,
                             uint32_t n_nodes);
void hr__ptrees_free(const hr_env *env, hr__ptrees *t);
/* 1 when every tree is well formed for `nfeat` features (see the file). */
int hr__ptrees_check(const hr__ptrees *t, size_t nfeat);
/* The probability the trees give to feature vector x. */
float hr__ptrees_predict(const hr__ptrees *t, const float *x);
int hr__ptrees_from_json(hr_predictor *p, const char *json, size_t len,
                         hr__ptrees **out);

/* pred_model.c (XGBoost): fit on x[0..n_fit), predict x[n_fit..+n_hold)
 * into pred_hold with the copied trees (checked against XGBoost). */
int hr__pmodel_train(hr_predictor *p, const float *x, const float *y,
                     size_t n_fit, size_t n_hold, float *pred_hold,
                     hr__ptrees **out);

/* pred_train.c */
int hr__pred_train(hr_predictor *p);

/* pred_state.c */
int hr__pred_save(hr_predictor *p);
int hr__pred_load(hr_predictor *p, const uint8_t *blob, size_t len);

/* pred_params.c */
extern const int64_t hr__pred_param_spec[HR__PRED_PARAMS][3];
extern const int64_t hr__pred_xparam_spec[HR__PRED_XPARAMS][3];
int hr__pred_xparam_ok(int param, int64_t value);

#endif /* HR_PREDICT_INTERNAL_H */
