/*
 * predictor.c - the predictor handle: parameters, time and windows, events,
 * scores and the top k.
 */
#include <math.h>
#include <string.h>

#include "predict_internal.h"

static const uint32_t default_horizons[] = {1, 4, 16, 64};

HR_API int hr_predictor_param_bounds(hr_predictor_param param, int64_t *min,
                                     int64_t *max)
{
    if ((int)param < 1 || (int)param >= HR__PRED_PARAMS || !min || !max)
        return HR_EINVAL;
    *min = hr__pred_param_spec[param][0];
    *max = hr__pred_param_spec[param][1];
    return HR_OK;
}

HR_API int hr_predictor_new(hr_env *env, hr_predictor **out)
{
    if (!out)
        return HR_EINVAL;
    *out = NULL;
    if (!env)
        return HR_EINVAL;
    hr_predictor *p = hr__calloc(env, 1, sizeof *p);
    if (!p)
        return HR_ENOMEM;
    p->env = hr__env_ref(env);
    for (int i = 1; i < HR__PRED_PARAMS; i++)
        p->params[i] = hr__pred_param_spec[i][2];
    for (int i = 1; i < HR__PRED_XPARAMS; i++)
        p->xparams[i] = hr__pred_xparam_spec[i][2];
    p->nh = sizeof default_horizons / sizeof default_horizons[0];
    memcpy(p->horizons, default_horizons, sizeof default_horizons);
    p->learned_auc = p->heuristic_auc = -1;
    *out = p;
    return HR_OK;
}

void hr__pred_layout_free(hr_predictor *p)
{
    const hr_env *env = p->env;
    for (size_t i = 0; i < p->n_entries; i++)
        hr__free(env, p->entries[i].key);
    hr__free(env, p->entries);
    hr__free(env, p->fstate);
    hr__free(env, p->fdays);
    hr__free(env, p->table);
    hr__psketch_free(&p->sketch, env);
    hr__free(env, p->rows);
    hr__free(env, p->labels);
    hr__free(env, p->row_entry);
    hr__free(env, p->row_hash);
    p->entries = NULL;
    p->fstate = NULL;
    p->fdays = NULL;
    p->table = NULL;
    p->rows = NULL;
    p->labels = NULL;
    p->row_entry = NULL;
    p->row_hash = NULL;
    p->n_entries = p->cap_entries = p->table_cap = 0;
    p->row_cap = p->row_alloc = p->row_next = p->row_count = 0;
    p->pending_first = p->pending_count = 0;
}

HR_API void hr_predictor_free(hr_predictor *p)
{
    if (!p)
        return;
    hr_env *env = p->env;
    hr__pred_layout_free(p);
    hr__ptrees_free(env, p->model);
    hr__free(env, p->scores);
    hr__free(env, p->order);
    hr__free(env, p->blob);
    hr__free(env, p);
    hr__env_unref(env);
}

HR_API int hr_predictor_set_param(hr_predictor *p, hr_predictor_param param,
                                  int64_t value)
{
    if (!p)
        return HR_EINVAL;
    int i = (int)param;
    if (i < 1 || i >= HR__PRED_PARAMS)
        return hr__fail(&p->error, HR_EINVAL, "unknown parameter %d", i);
    if (value < hr__pred_param_spec[i][0] || value > hr__pred_param_spec[i][1])
        return hr__fail(&p->error, HR_EINVAL,
                        "parameter %d: %lld not in %lld..%lld", i,
                        (long long)value, (long long)hr__pred_param_spec[i][0],
                        (long long)hr__pred_param_spec[i][1]);
    int layout = param == HR_PREDICTOR_PARAM_WINDOW_MS ||
                 param == HR_PREDICTOR_PARAM_MAX_KEYS ||
                 param == HR_PREDICTOR_PARAM_TRAIN_ROWS;
    if (layout && p->started)
        return hr__fail(&p->error, HR_ESTATE,
                        "parameter %d shapes the state: set it before the "
                        "first event",
                        i);
    p->params[i] = value;
    return HR_OK;
}

HR_API int hr_predictor_get_param(const hr_predictor *p,
                                  hr_predictor_param param, int64_t *value)
{
    if (!p || !value || (int)param < 1 || (int)param >= HR__PRED_PARAMS)
        return HR_EINVAL;
    *value = p->params[param];
    return HR_OK;
}

int hr__pred_layout_alloc(hr_predictor *p, size_t cap_entries)
{
    const hr_env *env = p->env;
    p->window_ns =
        (uint64_t)p->params[HR_PREDICTOR_PARAM_WINDOW_MS] * 1000000ull;
    for (uint32_t h = 0; h < p->nh; h++)
        p->decay[h] = exp(-1.0 / p->horizons[h]);
    p->slots = (uint32_t)p->xparams[HR_PREDICTOR_EXP_DAY_SLOTS];
    p->nfeat = p->nh + HR__PRED_EXTRA_FEATS;
    p->fstride = p->nh + 1 + 2 * (size_t)p->slots;
    p->row_cap = (size_t)p->params[HR_PREDICTOR_PARAM_TRAIN_ROWS];
    p->rng =
        (uint64_t)p->params[HR_PREDICTOR_PARAM_SEED] * 0x2545f4914f6cdd1dull;
    int rc = hr__psketch_init(
        &p->sketch, env, (uint32_t)p->xparams[HR_PREDICTOR_EXP_SKETCH_WIDTH],
        (uint32_t)p->xparams[HR_PREDICTOR_EXP_SKETCH_DEPTH]);
    if (rc != HR_OK)
        goto fail;
    if (cap_entries) {
        p->entries = hr__malloc(env, cap_entries * sizeof *p->entries);
        p->fstate = hr__malloc(env, cap_entries * p->fstride * sizeof(float));
        p->fdays =
            p->slots
                ? hr__malloc(env, cap_entries * p->slots * sizeof(uint32_t))
                : NULL;
        if (!p->entries || !p->fstate || (p->slots && !p->fdays))
            goto fail;
        p->cap_entries = cap_entries;
    }
    if (hr__pred_table_rebuild(p) != HR_OK)
        goto fail;
    return HR_OK;
fail:
    hr__pred_layout_free(p);
    return HR_ENOMEM;
}

int hr__pred_start(hr_predictor *p, uint64_t now_ns)
{
    if (hr__pred_layout_alloc(p, 0) != HR_OK)
        return hr__fail(&p->error, HR_ENOMEM, "predictor state: out of memory");
    p->started = 1;
    p->now_ns = now_ns;
    p->cw = now_ns / p->window_ns;
    return HR_OK;
}

/* Room for `rows` training examples. The ring grows as examples arrive (so
 * a large TRAIN_ROWS, or a loaded state that asks for one, costs memory
 * only once it is used); while it is not full, rows are appended in order,
 * so growing never moves one. */
static int ring_reserve(hr_predictor *p, size_t rows)
{
    if (rows <= p->row_alloc)
        return HR_OK;
    size_t n = p->row_alloc * 2 > 1024 ? p->row_alloc * 2 : 1024;
    if (n < rows)
        n = rows;
    if (n > p->row_cap)
        n = p->row_cap;
    const hr_env *env = p->env;
    float *r = hr__realloc(env, p->rows, n * (p->nfeat + 1) * sizeof *r);
    if (!r)
        return HR_ENOMEM;
    p->rows = r;
    int8_t *l = hr__realloc(env, p->labels, n);
    if (!l)
        return HR_ENOMEM;
    p->labels = l;
    uint32_t *e = hr__realloc(env, p->row_entry, n * sizeof *e);
    if (!e)
        return HR_ENOMEM;
    p->row_entry = e;
    uint64_t *h = hr__realloc(env, p->row_hash, n * sizeof *h);
    if (!h)
        return HR_ENOMEM;
    p->row_hash = h;
    p->row_alloc = n;
    return HR_OK;
}

int hr__pred_advance(hr_predictor *p, uint64_t now_ns)
{
    if (now_ns == 0) /* 0 marks "never" in the key state */
        return hr__fail(&p->error, HR_EINVAL, "now_ns 0");
    if (!p->started)
        return hr__pred_start(p, now_ns);
    if (now_ns < p->now_ns)
        now_ns = p->now_ns; /* the wall clock stepped back: hold */
    uint64_t w = now_ns / p->window_ns;
    if (w > p->cw) {
        /* Memory first: a failure leaves the window open, nothing changed. */
        size_t m = (size_t)p->xparams[HR_PREDICTOR_EXP_ROWS_PER_WINDOW];
        if (m > p->n_entries)
            m = p->n_entries;
        size_t need = p->row_count + m;
        if (p->row_cap && ring_reserve(p, need < p->row_cap ? need : p->row_cap))
            return hr__fail(&p->error, HR_ENOMEM,
                            "training examples: out of memory");
        hr__pred_collect(p, p->cw);
        uint64_t a = (uint64_t)p->xparams[HR_PREDICTOR_EXP_AGING_WINDOWS];
        hr__psketch_age(&p->sketch, w / a - p->cw / a);
        p->windows += w - p->cw;
        p->cw = w;
        hr__pred_sample(p);
    }
    p->now_ns = now_ns;
    return HR_OK;
}

/* Fraction [0, 1) of the current window that has passed at `now_ns`. */
static double window_frac(const hr_predictor *p, uint64_t now_ns)
{
    uint64_t start = p->cw * p->window_ns;
    if (now_ns <= start)
        return 0;
    double f = (double)(now_ns - start) / (double)p->window_ns;
    return f < 1 ? f : 0.999999;
}

double hr__pred_heuristic(const hr_predictor *p, const hr__pentry *e,
                          uint64_t hash, uint64_t now_ns)
{
    double a = (double)p->xparams[HR_PREDICTOR_EXP_AGING_WINDOWS];
    double phase = ((double)(p->cw % (uint64_t)a) + window_frac(p, now_ns)) / a;
    /* Since the last halving the sketch holds about rate * a * (1 + phase)
     * accesses of a key accessed at a steady rate per window. */
    double rate = hr__psketch_estimate(&p->sketch, hash) / (a * (1 + phase));
    double freq = 1 - exp(-rate);
    double recent = 0;
    if (e && e->last_ns && now_ns >= e->last_ns)
        recent =
            exp(-(double)(now_ns - e->last_ns) / ((double)p->window_ns * a));
    return freq * (0.5 + 0.5 * recent);
}

double hr__pred_recency(const hr_predictor *p, const hr__pentry *e,
                        uint64_t now_ns)
{
    if (!e || !e->last_ns)
        return 0;
    double age = now_ns > e->last_ns
                     ? (double)(now_ns - e->last_ns) / (double)p->window_ns
                     : 0;
    return 1 / (1 + age);
}

/* The learned scores of every key with history, once per window (features
 * as of the window's start do not change during it). A score that is not a
 * number in [0, 1] counts as a failure of the model, which is then taken
 * out of use: the heuristic answers. */
int hr__pred_learned_refresh(hr_predictor *p)
{
    if (!p->learned_active || p->learned_cw == p->cw + 1)
        return HR_OK;
    float x[HR__PRED_MAX_FEATS];
    for (size_t i = 0; i < p->n_entries; i++) {
        hr__pred_features(p, i, x);
        float y = hr__ptrees_predict(p->model, x);
        if (!(y >= 0 && y <= 1)) {
            p->model_failures++;
            p->learned_active = 0;
            hr__log(p->env, HR_LOG_WARN,
                    "predictor: the model gave %g for key '%.64s'; using the "
                    "heuristic",
                    (double)y, p->entries[i].key);
            return HR_OK;
        }
        p->entries[i].learned = y;
    }
    p->learned_cw = p->cw + 1;
    return HR_OK;
}

static int check_key(hr_predictor *p, const char *key, size_t *len)
{
    if (!key)
        return hr__fail(&p->error, HR_EINVAL, "NULL key");
    *len = strnlen(key, HR_PREDICTOR_KEY_MAX + 1);
    if (*len == 0 || *len > HR_PREDICTOR_KEY_MAX)
        return hr__fail(&p->error, HR_EINVAL, "key length not 1..%d",
                        HR_PREDICTOR_KEY_MAX);
    return HR_OK;
}

HR_API int hr_predictor_observe(hr_predictor *p, const char *key,
                                uint64_t now_ns, hr_predictor_access kind,
                                uint32_t count)
{
    if (!p)
        return HR_EINVAL;
    size_t len = 0;
    int rc = check_key(p, key, &len);
    if (rc != HR_OK)
        return rc;
    if (kind != HR_PREDICTOR_READ && kind != HR_PREDICTOR_WRITE)
        return hr__fail(&p->error, HR_EINVAL, "access kind %d", (int)kind);
    if (count == 0)
        return hr__fail(&p->error, HR_EINVAL, "count 0");
    if ((rc = hr__pred_advance(p, now_ns)) != HR_OK)
        return rc;
    uint64_t hash = hr__pred_hash(key, len);
    hr__pentry *e;
    if (hr__pred_get_or_add(p, key, len, hash, &e) != HR_OK)
        return hr__fail(&p->error, HR_ENOMEM, "new key: out of memory");
    hr__psketch_add(&p->sketch, hash, count);
    if (e)
        hr__pred_touch(p, (size_t)(e - p->entries), p->now_ns, kind, count);
    p->events += count;
    return HR_OK;
}

HR_API int hr_predictor_advance(hr_predictor *p, uint64_t now_ns)
{
    if (!p)
        return HR_EINVAL;
    return hr__pred_advance(p, now_ns);
}

/* Score of entry e (NULL: untracked key of hash `hash`) from `scorer`. */
static double score_of(const hr_predictor *p, int scorer, const hr__pentry *e,
                       uint64_t hash)
{
    if (scorer == HR_PREDICTOR_SCORER_RECENCY)
        return hr__pred_recency(p, e, p->now_ns);
    if (scorer != HR_PREDICTOR_SCORER_HEURISTIC && p->learned_active && e &&
        e->first_win < p->cw)
        return e->learned;
    return hr__pred_heuristic(p, e, hash, p->now_ns);
}

/* Advance, and bring the learned scores up to date when they will be used. */
static int prepare(hr_predictor *p, uint64_t now_ns, int *scorer)
{
    int rc = hr__pred_advance(p, now_ns);
    if (rc != HR_OK)
        return rc;
    *scorer = (int)p->params[HR_PREDICTOR_PARAM_SCORER];
    if (*scorer == HR_PREDICTOR_SCORER_AUTO ||
        *scorer == HR_PREDICTOR_SCORER_LEARNED) {
        if ((rc = hr__pred_learned_refresh(p)) != HR_OK)
            return rc;
        if (*scorer == HR_PREDICTOR_SCORER_LEARNED && !p->learned_active)
            return hr__fail(&p->error, HR_ESTATE,
                            "no learned model in use (train first)");
    }
    return HR_OK;
}

HR_API int hr_predictor_score(hr_predictor *p, const char *key, uint64_t now_ns,
                              double *score)
{
    if (!p)
        return HR_EINVAL;
    size_t len = 0;
    int rc = check_key(p, key, &len);
    if (rc != HR_OK)
        return rc;
    if (!score)
        return hr__fail(&p->error, HR_EINVAL, "NULL score");
    int scorer;
    if ((rc = prepare(p, now_ns, &scorer)) != HR_OK)
        return rc;
    uint64_t hash = hr__pred_hash(key, len);
    const hr__pentry *e = hr__pred_find(p, key, len, hash);
    double s = score_of(p, scorer, e, hash);
    *score = s < 0 ? 0 : s > 1 ? 1 : s;
    return HR_OK;
}

/* Heap order: a ranks before b (higher score, then more recent, then hash). */
static int ranks_before(const hr_predictor *p, uint32_t a, uint32_t b)
{
    if (p->scores[a] != p->scores[b])
        return p->scores[a] > p->scores[b];
    if (p->entries[a].last_ns != p->entries[b].last_ns)
        return p->entries[a].last_ns > p->entries[b].last_ns;
    return p->entries[a].hash < p->entries[b].hash;
}

/* Sift down in a heap whose root is the entry ranking last. */
static void sift(const hr_predictor *p, uint32_t *heap, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, worst = i;
        if (l < n && ranks_before(p, heap[worst], heap[l]))
            worst = l;
        if (r < n && ranks_before(p, heap[worst], heap[r]))
            worst = r;
        if (worst == i)
            return;
        uint32_t t = heap[i];
        heap[i] = heap[worst];
        heap[worst] = t;
        i = worst;
    }
}

HR_API int hr_predictor_top_k(hr_predictor *p, uint64_t now_ns,
                              const char **keys, double *scores, size_t k,
                              size_t *n)
{
    if (!p)
        return HR_EINVAL;
    if (!keys || !n)
        return hr__fail(&p->error, HR_EINVAL, "NULL keys or n");
    *n = 0;
    int scorer, rc;
    if ((rc = prepare(p, now_ns, &scorer)) != HR_OK)
        return rc;
    size_t total = p->n_entries;
    if (total > p->scores_cap) {
        double *s = hr__realloc(p->env, p->scores, total * sizeof *s);
        if (!s)
            return hr__fail(&p->error, HR_ENOMEM, "top k: out of memory");
        p->scores = s;
        uint32_t *o = hr__realloc(p->env, p->order, total * sizeof *o);
        if (!o)
            return hr__fail(&p->error, HR_ENOMEM, "top k: out of memory");
        p->order = o;
        p->scores_cap = total;
    }
    if (k > total)
        k = total;
    size_t h = 0;
    for (uint32_t i = 0; i < total; i++) {
        const hr__pentry *e = &p->entries[i];
        p->scores[i] = score_of(p, scorer, e, e->hash);
        if (h < k) { /* grow the heap: sift the new leaf up */
            size_t c = h++;
            p->order[c] = i;
            while (c > 0 &&
                   ranks_before(p, p->order[(c - 1) / 2], p->order[c])) {
                uint32_t t = p->order[c];
                p->order[c] = p->order[(c - 1) / 2];
                p->order[(c - 1) / 2] = t;
                c = (c - 1) / 2;
            }
        } else if (k > 0 && ranks_before(p, i, p->order[0])) {
            p->order[0] = i;
            sift(p, p->order, h, 0);
        }
    }
    /* Heap sort: popping the last-ranked root fills the array from the end. */
    for (size_t end = h; end > 1; end--) {
        uint32_t t = p->order[0];
        p->order[0] = p->order[end - 1];
        p->order[end - 1] = t;
        sift(p, p->order, end - 1, 0);
    }
    for (size_t j = 0; j < h; j++) {
        uint32_t i = p->order[j];
        keys[j] = p->entries[i].key;
        if (scores) {
            double s = p->scores[i];
            scores[j] = s < 0 ? 0 : s > 1 ? 1 : s;
        }
    }
    *n = h;
    return HR_OK;
}
