/*
 * heliosrepl/predict.h - the hot-data predictor: which tenants / tables will
 * be accessed in the coming window.
 *
 * The host reports access events (a key - a tenant id or "tenant/table" -,
 * the time, read or write) and asks for a score per key, the probability
 * that the key is accessed in the current window, or for the k best keys.
 * The scheduler and the copy order of a migration use the answers.
 *
 * Two scorers answer:
 *   - a heuristic that is always on: a count-min sketch of access counts
 *     with periodic aging (halving) plus each key's last access time, in the
 *     manner of TinyLFU. It needs no training and costs a few bytes per key;
 *   - a learned model: gradient-boosted trees (XGBoost) over windowed
 *     per-key features (decayed counts over several horizons, time since the
 *     last access, time of day, day of week, write ratio, the key's usual
 *     activity in this hour of the day). The host trains it explicitly with
 *     hr_predictor_train, on the thread and at the moment it chooses, from
 *     examples the predictor collects as windows pass. A model is only put
 *     in use when it ranks held-out examples at least as well as the
 *     heuristic; before that (cold start), for keys first seen in the
 *     current window, and after any failure of the model, the heuristic
 *     answers.
 *
 * Time. The predictor is sans-I/O: every call that depends on time takes
 * `now_ns`, wall-clock nanoseconds since the Unix epoch (UTC; time of day and
 * day of week are taken from it); 0 is refused (HR_EINVAL). Time is cut into
 * windows of HR_PREDICTOR_PARAM_WINDOW_MS. A `now_ns` earlier than one seen
 * before is taken as the latest time seen (a wall clock that steps back does
 * not rewind the predictor). The first call in a new window closes the windows
 * before it: its cost is bounded by the examples it samples for training
 * (at most 1024 by default), not by the number of keys.
 *
 * What a score means. With the learned model, a key's score is predicted
 * from what was known when the current window began, and stays the same for
 * the whole window. Heuristic and recency scores follow every event.
 *
 * Persistence. hr_predictor_save writes the whole heat state (parameters,
 * sketch, tracked keys and their features, the model's trees) as one
 * versioned, checksummed blob of the library's own format; hr_predictor_load
 * checks it completely and restores it in another process, e.g. after a
 * restart or on the new primary after a failover. The collected training
 * examples are not saved.
 *
 * Threads. The library starts no thread. Training runs on the calling
 * thread: the predictor gives XGBoost nthread = 1 for every matrix and
 * booster, and runs it with the calling thread's OpenMP default thread count
 * set to 1 (then restored), so libgomp starts no pool (without that, some
 * XGBoost paths start one thread per core, kept for the process's life).
 * Scoring never calls XGBoost: the trained trees are copied out of it and
 * evaluated by the predictor. One thread at a time per predictor;
 * predictors of one env may run on different threads. XGBoost's and
 * jansson's allocations during training are their own (not the host
 * allocator's), like the other third-party libraries'.
 */
#ifndef HELIOSREPL_PREDICT_H
#define HELIOSREPL_PREDICT_H

#include <stddef.h>
#include <stdint.h>

#include <heliosrepl/core.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hr_predictor hr_predictor;

/* Longest key in bytes (a tenant id of up to 255 bytes + "/" + table). */
#define HR_PREDICTOR_KEY_MAX 511

/* The kind of an access event. Values pinned. */
typedef enum hr_predictor_access {
    HR_PREDICTOR_READ = 1,
    HR_PREDICTOR_WRITE = 2
} hr_predictor_access;

/* Which scorer answers hr_predictor_score and hr_predictor_top_k. */
typedef enum hr_predictor_scorer {
    /* The learned model when one is in use, the heuristic otherwise. */
    HR_PREDICTOR_SCORER_AUTO = 0,
    /* Count-min sketch with aging + recency (always available). */
    HR_PREDICTOR_SCORER_HEURISTIC = 1,
    /* Plain recency: the most recently accessed keys first (a baseline). */
    HR_PREDICTOR_SCORER_RECENCY = 2,
    /* The learned model only: HR_ESTATE while no model is in use. Keys first
     * seen in the current window still get the heuristic's score. */
    HR_PREDICTOR_SCORER_LEARNED = 3
} hr_predictor_scorer;

/*
 * Parameters; values pinned. hr_predictor_param_bounds gives each range.
 * Those marked "layout" shape the state: they can only be set before the
 * first event (HR_ESTATE afterwards, and after hr_predictor_load).
 */
typedef enum hr_predictor_param {
    /* Window length in milliseconds: 1000..604800000 (7 days), default
     * 60000. Layout. */
    HR_PREDICTOR_PARAM_WINDOW_MS = 1,
    /* Keys tracked at most: 16..16777216, default 65536. When full, a new
     * key replaces the weakest of a few sampled keys only if the sketch
     * counts it more often (TinyLFU admission). Layout. */
    HR_PREDICTOR_PARAM_MAX_KEYS = 2,
    /* Training examples kept (a ring; the oldest go first): 0..4194304,
     * default 65536. 0 collects none (heuristic only). Memory grows with
     * the examples held: 4 * (features + 1) + 13 bytes each. Layout. */
    HR_PREDICTOR_PARAM_TRAIN_ROWS = 3,
    /* hr_predictor_scorer, default HR_PREDICTOR_SCORER_AUTO. May be changed
     * at any time. */
    HR_PREDICTOR_PARAM_SCORER = 4,
    /* Seed of the example sampling and of XGBoost: 0..2^31-1, default 1. */
    HR_PREDICTOR_PARAM_SEED = 5
} hr_predictor_param;

/*
 * hr_predictor_new - a predictor with default parameters, no keys, no model.
 * Returns HR_OK and sets *out; HR_EINVAL (NULL argument; *out set to NULL
 * when out is not NULL); HR_ENOMEM.
 */
HR_API int hr_predictor_new(hr_env *env, hr_predictor **out);

/* hr_predictor_free - release everything, the model included. NULL is a
 * no-op. */
HR_API void hr_predictor_free(hr_predictor *p);

/*
 * hr_predictor_set_param / hr_predictor_get_param - HR_OK; HR_EINVAL
 * (unknown parameter, value out of bounds, NULL argument); HR_ESTATE (a
 * layout parameter after the first event).
 */
HR_API int hr_predictor_set_param(hr_predictor *p, hr_predictor_param param,
                                  int64_t value);
HR_API int hr_predictor_get_param(const hr_predictor *p,
                                  hr_predictor_param param, int64_t *value);

/* hr_predictor_param_bounds - HR_OK and the inclusive range, or HR_EINVAL.
 * Thread-safe. */
HR_API int hr_predictor_param_bounds(hr_predictor_param param, int64_t *min,
                                     int64_t *max);

/*
 * hr_predictor_observe - report `count` (>= 1) accesses of kind `kind` to
 * `key` (NUL-terminated, 1..HR_PREDICTOR_KEY_MAX bytes) at `now_ns`. The
 * key is copied the first time it is seen.
 * Returns HR_OK; HR_EINVAL (NULL argument, empty or too long key, bad kind,
 * count 0); HR_ENOMEM (nothing was recorded).
 */
HR_API int hr_predictor_observe(hr_predictor *p, const char *key,
                                uint64_t now_ns, hr_predictor_access kind,
                                uint32_t count);

/*
 * hr_predictor_advance - move the predictor's time to `now_ns`, closing the
 * windows that ended (observe, score, top_k and train do this too). A host
 * that wants the work of closing a window at a moment of its choosing calls
 * it from a timer. HR_OK; HR_EINVAL (NULL); HR_ENOMEM.
 */
HR_API int hr_predictor_advance(hr_predictor *p, uint64_t now_ns);

/*
 * hr_predictor_score - the probability in [0, 1] that `key` is accessed in
 * the window containing `now_ns`, from the scorer HR_PREDICTOR_PARAM_SCORER
 * names. A key never seen scores (almost) 0. Advances time like
 * hr_predictor_advance.
 * Returns HR_OK and sets *score; HR_EINVAL (NULL argument, bad key);
 * HR_ESTATE (scorer LEARNED and no model in use); HR_ENOMEM.
 */
HR_API int hr_predictor_score(hr_predictor *p, const char *key, uint64_t now_ns,
                              double *score);

/*
 * hr_predictor_top_k - the (at most) k tracked keys with the highest scores
 * for the window containing `now_ns`, best first (equal scores: the more
 * recently accessed key first). keys[i] and scores[i] are filled for
 * i < *n, *n = min(k, keys tracked). The key strings belong to the
 * predictor and stay valid until the next call that takes `now_ns`
 * (observe, advance, score, top_k, train) or load / free. `scores` may be
 * NULL. Advances time like hr_predictor_advance.
 * Returns HR_OK; HR_EINVAL (NULL p, keys or n); HR_ESTATE (scorer LEARNED
 * and no model in use); HR_ENOMEM.
 */
HR_API int hr_predictor_top_k(hr_predictor *p, uint64_t now_ns,
                              const char **keys, double *scores, size_t k,
                              size_t *n);

/*
 * hr_predictor_train - train the learned model on the examples collected so
 * far (after advancing to `now_ns`), on the calling thread; with the default
 * trees it takes a few seconds per 100,000 examples on one core. The newest
 * fifth of the examples is held out: the new model replaces the current one
 * only if it ranks them at least as well as the heuristic (ROC AUC; see
 * hr_predictor_info), otherwise the previous state is kept.
 * Returns HR_OK (trained; whether it is in use: hr_predictor_info);
 * HR_EINVAL (NULL); HR_ESTATE (too few examples, or examples of only one
 * class: keep observing); HR_ENOMEM; HR_EINTERNAL (XGBoost failed, or the
 * copied trees did not predict what XGBoost predicts: the message is in
 * hr_predictor_errmsg; the previous model stays).
 */
HR_API int hr_predictor_train(hr_predictor *p, uint64_t now_ns);

/* What hr_predictor_info reports. */
typedef struct hr_predictor_info {
    size_t size;             /* set to sizeof(hr_predictor_info) by caller */
    uint64_t keys;           /* keys tracked */
    uint64_t windows;        /* windows closed since creation (or load) */
    uint64_t examples;       /* labelled training examples held */
    uint64_t events;         /* access events observed (sum of counts) */
    int learned_active;      /* 1 when the learned model answers AUTO */
    int trainings;           /* models trained by this handle */
    double learned_auc;      /* holdout ROC AUC of the last model trained */
    double heuristic_auc;    /* the heuristic's on the same holdout */
    uint64_t model_failures; /* predictions that failed and fell back */
} hr_predictor_info;

/*
 * hr_predictor_info - fill `info` (info->size must be at least the size of
 * the fields up to model_failures; a larger struct from a newer header is
 * filled as far as this library knows). AUCs are -1 before any training.
 * HR_OK; HR_EINVAL (NULL argument, size too small).
 */
HR_API int hr_predictor_get_info(const hr_predictor *p,
                                 hr_predictor_info *info);

/*
 * hr_predictor_save - the heat state as one blob (format: docs/predict.md).
 * *blob points into the predictor and stays valid until the next call on
 * it. HR_OK; HR_EINVAL (NULL argument); HR_ENOMEM.
 */
HR_API int hr_predictor_save(hr_predictor *p, const uint8_t **blob,
                             size_t *blob_len);

/*
 * hr_predictor_load - replace the predictor's whole state (parameters
 * included) with a saved blob. The blob is outside data: it is checked
 * (magic, version, checksum, every length and value) before anything is
 * replaced; on any error the predictor is unchanged. Collected training
 * examples are dropped. Scores after a load equal the scores before the
 * save, for the same `now_ns`.
 * Returns HR_OK; HR_EINVAL (NULL argument); HR_ECORRUPT (damaged,
 * truncated or inconsistent blob, malformed trees);
 * HR_EVERSION (a newer format version); HR_ENOMEM.
 */
HR_API int hr_predictor_load(hr_predictor *p, const uint8_t *blob,
                             size_t blob_len);

/* hr_predictor_errmsg - the last failed call's message; "" if none. Owned
 * by the predictor, valid until the next call on it. */
HR_API const char *hr_predictor_errmsg(const hr_predictor *p);

#ifdef HR_EXPERIMENTAL
/*
 * Experimental knobs: NOT part of the ABI promise. They are exported under
 * the HELIOSREPL_EXPERIMENTAL symbol version node (names hr_*_exp_*) and
 * may change or disappear in any release. Define HR_EXPERIMENTAL before
 * including this header to see them. All of them shape the state: set them
 * before the first event (HR_ESTATE afterwards).
 */
typedef enum hr_predictor_exp_param {
    /* Count-min sketch counters per row: a power of two, 64..16777216,
     * default 16384. */
    HR_PREDICTOR_EXP_SKETCH_WIDTH = 1,
    /* Count-min sketch rows: 1..8, default 4. */
    HR_PREDICTOR_EXP_SKETCH_DEPTH = 2,
    /* Windows between two halvings of the sketch: 1..1048576, default 30. */
    HR_PREDICTOR_EXP_AGING_WINDOWS = 3,
    /* Boosting rounds: 1..1000, default 40. */
    HR_PREDICTOR_EXP_TREE_ROUNDS = 4,
    /* Maximum tree depth: 1..12, default 6. */
    HR_PREDICTOR_EXP_TREE_DEPTH = 5,
    /* Learning rate (eta) in thousandths: 1..1000, default 200. */
    HR_PREDICTOR_EXP_TREE_ETA_MILLI = 6,
    /* Examples sampled per closed window: 1..1048576, default 1024. */
    HR_PREDICTOR_EXP_ROWS_PER_WINDOW = 7,
    /* Slots of the per-key daily profile: 0 (off) or 1..96 dividing 86400,
     * default 24 (hours). */
    HR_PREDICTOR_EXP_DAY_SLOTS = 8,
    /* Fewest labelled examples hr_predictor_train accepts: 10..2^22,
     * default 200. */
    HR_PREDICTOR_EXP_MIN_TRAIN_ROWS = 9
} hr_predictor_exp_param;

/* Maximum number of count horizons. */
#define HR_PREDICTOR_EXP_MAX_HORIZONS 8

/* hr_predictor_exp_set / _get - HR_OK, HR_EINVAL, HR_ESTATE. */
HR_EXPERIMENTAL_API int hr_predictor_exp_set(hr_predictor *p,
                                             hr_predictor_exp_param param,
                                             int64_t value);
HR_EXPERIMENTAL_API int hr_predictor_exp_get(const hr_predictor *p,
                                             hr_predictor_exp_param param,
                                             int64_t *value);

/*
 * hr_predictor_exp_set_horizons - the count horizons of the learned
 * features, in windows (1..HR_PREDICTOR_EXP_MAX_HORIZONS of them, each
 * 1..1000000; default 1, 4, 16, 64): each feature is a count decayed by
 * exp(-1/h) per window. HR_OK, HR_EINVAL, HR_ESTATE.
 */
HR_EXPERIMENTAL_API int hr_predictor_exp_set_horizons(hr_predictor *p,
                                                      const uint32_t *windows,
                                                      size_t n);

/*
 * hr_predictor_exp_features - the learned model's feature vector of `key`
 * for the current window (as the model sees it): writes up to `cap` floats
 * and sets *n to the feature count. HR_OK, HR_EINVAL, HR_ENOTFOUND (key not
 * tracked).
 */
HR_EXPERIMENTAL_API int hr_predictor_exp_features(hr_predictor *p,
                                                  const char *key, float *out,
                                                  size_t cap, size_t *n);
#endif /* HR_EXPERIMENTAL */

#ifdef __cplusplus
}
#endif

#endif /* HELIOSREPL_PREDICT_H */
