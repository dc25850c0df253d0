/*
 * pred_state.c - the saved heat state: one blob of our own format (layout in
 * docs/predict.md), little-endian, ending in an XXH3-64 checksum of all the
 * bytes before it. The loader treats the blob as outside data: every count,
 * length and value is checked into a fresh state, which replaces the
 * predictor's only when all of it is good.
 */
#include <math.h>
#include <string.h>

#include <xxhash.h>

#include "predict_internal.h"

#define MAGIC "HRPD"
#define FORMAT_VERSION 1
#define FLAG_MODEL 0x1u
#define HEADER_SIZE 16
#define NODE_SIZE 17 /* left, right, feature, value, default_left */
#define MAX_TREES 1000

/* ---- writing ----------------------------------------------------------- */

typedef struct wbuf {
    uint8_t *p;
} wbuf;

static void put(wbuf *w, const void *src, size_t n)
{
    memcpy(w->p, src, n);
    w->p += n;
}

static void put_u64(wbuf *w, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        *w->p++ = (uint8_t)(v >> (8 * i));
}

static void put_u32(wbuf *w, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        *w->p++ = (uint8_t)(v >> (8 * i));
}

static void put_u16(wbuf *w, uint16_t v)
{
    *w->p++ = (uint8_t)v;
    *w->p++ = (uint8_t)(v >> 8);
}

static void put_f32(wbuf *w, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    put_u32(w, v);
}

static void put_f64(wbuf *w, double f)
{
    uint64_t v;
    memcpy(&v, &f, 8);
    put_u64(w, v);
}

static size_t entry_size(const hr_predictor *p, const hr__pentry *e)
{
    return 2 + strlen(e->key) + 4 * 8 + 2 * 4 + p->fstride * 4 +
           (size_t)p->slots * 4;
}

int hr__pred_save(hr_predictor *p)
{
    const hr__ptrees *model = p->model;
    size_t cells = p->started ? (size_t)p->sketch.width * p->sketch.depth : 0;
    size_t size = HEADER_SIZE + (HR__PRED_PARAMS - 1) * 8 +
                  (HR__PRED_XPARAMS - 1) * 8 + 4 + 4 * (size_t)p->nh + 1 +
                  5 * 8 + 4 + 2 * 8 + 1 + 8 + cells * 4 + 4 + 8;
    for (size_t i = 0; i < p->n_entries; i++)
        size += entry_size(p, &p->entries[i]);
    if (model)
        size += 4 + 4 + 4 + 4 * (size_t)model->n_trees +
                NODE_SIZE * (size_t)model->n_nodes;
    if (size > p->blob_cap) {
        uint8_t *b = hr__realloc(p->env, p->blob, size);
        if (!b)
            return hr__fail(&p->error, HR_ENOMEM, "save: out of memory");
        p->blob = b;
        p->blob_cap = size;
    }
    wbuf w = {p->blob};
    put(&w, MAGIC, 4);
    put_u16(&w, FORMAT_VERSION);
    put_u16(&w, model ? FLAG_MODEL : 0);
    put_u64(&w, 0); /* reserved */
    for (int i = 1; i < HR__PRED_PARAMS; i++)
        put_u64(&w, (uint64_t)p->params[i]);
    for (int i = 1; i < HR__PRED_XPARAMS; i++)
        put_u64(&w, (uint64_t)p->xparams[i]);
    put_u32(&w, p->nh);
    for (uint32_t h = 0; h < p->nh; h++)
        put_u32(&w, p->horizons[h]);
    *w.p++ = (uint8_t)p->started;
    put_u64(&w, p->now_ns);
    put_u64(&w, p->windows);
    put_u64(&w, p->events);
    put_u64(&w, p->model_failures);
    put_u64(&w, p->rng);
    put_u32(&w, (uint32_t)p->trainings);
    put_f64(&w, p->learned_auc);
    put_f64(&w, p->heuristic_auc);
    *w.p++ = (uint8_t)p->learned_active;
    put_u64(&w, cells);
    for (size_t c = 0; c < cells; c++)
        put_u32(&w, p->sketch.cells[c]);
    put_u32(&w, (uint32_t)p->n_entries);
    for (size_t i = 0; i < p->n_entries; i++) {
        const hr__pentry *e = &p->entries[i];
        size_t len = strlen(e->key);
        put_u16(&w, (uint16_t)len);
        put(&w, e->key, len);
        put_u64(&w, e->last_ns);
        put_u64(&w, e->prev_last_ns);
        put_u64(&w, e->win);
        put_u64(&w, e->first_win);
        put_f32(&w, e->reads);
        put_f32(&w, e->writes);
        const float *f = hr__pred_fstate(p, i);
        for (size_t k = 0; k < p->fstride; k++)
            put_f32(&w, f[k]);
        for (uint32_t s = 0; s < p->slots; s++)
            put_u32(&w, p->fdays[i * p->slots + s]);
    }
    if (model) {
        put_u32(&w, model->n_trees);
        put_u32(&w, model->n_nodes);
        put_f32(&w, model->base_margin);
        for (uint32_t k = 0; k < model->n_trees; k++)
            put_u32(&w, model->start[k + 1] - model->start[k]);
        for (uint32_t i = 0; i < model->n_nodes; i++) {
            const hr__pnode *nd = &model->nodes[i];
            put_u32(&w, (uint32_t)nd->left);
            put_u32(&w, (uint32_t)nd->right);
            put_u32(&w, nd->feature);
            put_f32(&w, nd->value);
            *w.p++ = (uint8_t)nd->default_left;
        }
    }
    put_u64(&w, XXH3_64bits(p->blob, (size_t)(w.p - p->blob)));
    p->blob_len = (size_t)(w.p - p->blob);
    if (p->blob_len != size)
        return hr__fail(&p->error, HR_EINTERNAL, "save: size mismatch");
    return HR_OK;
}

/* ---- reading ----------------------------------------------------------- */

typedef struct rbuf {
    const uint8_t *p, *end;
    int bad;
} rbuf;

static const uint8_t *take(rbuf *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *at = r->p;
    r->p += n;
    return at;
}

static uint64_t get_u64(rbuf *r)
{
    const uint8_t *b = take(r, 8);
    uint64_t v = 0;
    for (int i = 0; b && i < 8; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static uint32_t get_u32(rbuf *r)
{
    const uint8_t *b = take(r, 4);
    return b ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                   (uint32_t)b[3] << 24
             : 0;
}

static uint16_t get_u16(rbuf *r)
{
    const uint8_t *b = take(r, 2);
    return b ? (uint16_t)(b[0] | b[1] << 8) : 0;
}

static uint8_t get_u8(rbuf *r)
{
    const uint8_t *b = take(r, 1);
    return b ? b[0] : 0;
}

/* A stored count or profile value: finite and not negative. */
static int get_count(rbuf *r, float *out)
{
    uint32_t v = get_u32(r);
    memcpy(out, &v, 4);
    return !r->bad && isfinite(*out) && *out >= 0;
}

static int corrupt(hr_predictor *p, const char *what)
{
    return hr__fail(&p->error, HR_ECORRUPT, "predictor state: %s", what);
}

/* Parameters and counters into `t` (a fresh predictor sharing p's env). */
static int read_params(hr_predictor *p, hr_predictor *t, rbuf *r)
{
    for (int i = 1; i < HR__PRED_PARAMS; i++) {
        int64_t v = (int64_t)get_u64(r);
        if (v < hr__pred_param_spec[i][0] || v > hr__pred_param_spec[i][1])
            return corrupt(p, "parameter out of range");
        t->params[i] = v;
    }
    for (int i = 1; i < HR__PRED_XPARAMS; i++) {
        int64_t v = (int64_t)get_u64(r);
        if (!hr__pred_xparam_ok(i, v))
            return corrupt(p, "experimental parameter out of range");
        t->xparams[i] = v;
    }
    t->nh = get_u32(r);
    if (t->nh < 1 || t->nh > HR__PRED_MAX_H)
        return corrupt(p, "horizon count");
    for (uint32_t h = 0; h < t->nh; h++) {
        t->horizons[h] = get_u32(r);
        if (t->horizons[h] < 1 || t->horizons[h] > 1000000)
            return corrupt(p, "horizon");
    }
    t->started = get_u8(r);
    t->now_ns = get_u64(r);
    t->windows = get_u64(r);
    t->events = get_u64(r);
    t->model_failures = get_u64(r);
    t->rng = get_u64(r);
    t->trainings = (int)(get_u32(r) & 0x7fffffff);
    uint64_t a = get_u64(r), b = get_u64(r);
    memcpy(&t->learned_auc, &a, 8);
    memcpy(&t->heuristic_auc, &b, 8);
    t->learned_active = get_u8(r);
    if (r->bad)
        return corrupt(p, "truncated");
    if (t->started > 1 || t->learned_active > 1 || !isfinite(t->learned_auc) ||
        !isfinite(t->heuristic_auc))
        return corrupt(p, "bad flag or statistic");
    return HR_OK;
}

static int read_entry(hr_predictor *p, hr_predictor *t, rbuf *r)
{
    uint16_t len = get_u16(r);
    const uint8_t *key = take(r, len);
    if (!key || len == 0 || len > HR_PREDICTOR_KEY_MAX || memchr(key, 0, len))
        return corrupt(p, "bad key");
    uint64_t hash = hr__pred_hash((const char *)key, len);
    if (hr__pred_find(t, (const char *)key, len, hash))
        return corrupt(p, "duplicate key");
    hr__pentry *e;
    if (hr__pred_append(t, (const char *)key, len, &e) != HR_OK)
        return hr__fail(&p->error, HR_ENOMEM, "load: out of memory");
    e->last_ns = get_u64(r);
    e->prev_last_ns = get_u64(r);
    e->win = get_u64(r);
    e->first_win = get_u64(r);
    int ok = get_count(r, &e->reads) & get_count(r, &e->writes);
    float *f = hr__pred_fstate(t, (size_t)(e - t->entries));
    for (size_t k = 0; k < t->fstride; k++)
        ok &= get_count(r, &f[k]);
    uint64_t today = t->now_ns / HR__PRED_NS_PER_DAY;
    for (uint32_t s = 0; s < t->slots; s++) {
        uint32_t d = get_u32(r);
        ok &= d <= today;
        t->fdays[(size_t)(e - t->entries) * t->slots + s] = d;
    }
    if (!ok || r->bad || e->last_ns > t->now_ns ||
        e->prev_last_ns > e->last_ns || e->win > t->cw ||
        (e->prev_last_ns && e->prev_last_ns / t->window_ns >= e->win) ||
        e->first_win > e->win ||
        (e->last_ns && e->last_ns / t->window_ns != e->win))
        return corrupt(p, "bad key state");
    return HR_OK;
}

static float get_f32(rbuf *r)
{
    uint32_t v = get_u32(r);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

static int read_model(hr_predictor *p, hr_predictor *t, rbuf *r)
{
    uint32_t n_trees = get_u32(r), n_nodes = get_u32(r);
    float base = get_f32(r);
    if (r->bad || n_trees == 0 || n_trees > MAX_TREES ||
        (size_t)(r->end - r->p) / 4 < n_trees)
        return corrupt(p, "model: tree count");
    const uint8_t *counts = take(r, 4 * (size_t)n_trees);
    if (!counts || (size_t)(r->end - r->p) / NODE_SIZE < n_nodes)
        return corrupt(p, "model: node count");
    hr__ptrees *m = hr__ptrees_alloc(p->env, n_trees, n_nodes);
    if (!m)
        return hr__fail(&p->error, HR_ENOMEM, "load: out of memory");
    t->model = m;
    m->base_margin = base;
    rbuf c = {counts, counts + 4 * (size_t)n_trees, 0};
    for (uint32_t k = 0; k < n_trees; k++) {
        uint32_t n = get_u32(&c);
        if (n > n_nodes - m->start[k])
            return corrupt(p, "model: tree sizes");
        m->start[k + 1] = m->start[k] + n;
    }
    for (uint32_t i = 0; i < n_nodes; i++) {
        hr__pnode *nd = &m->nodes[i];
        nd->left = (int32_t)get_u32(r);
        nd->right = (int32_t)get_u32(r);
        nd->feature = get_u32(r);
        nd->value = get_f32(r);
        nd->default_left = get_u8(r);
    }
    if (r->bad || !hr__ptrees_check(m, t->nfeat))
        return corrupt(p, "model: malformed tree");
    return HR_OK;
}

static int read_state(hr_predictor *p, hr_predictor *t, rbuf *r, unsigned flags)
{
    int rc = read_params(p, t, r);
    if (rc != HR_OK)
        return rc;
    uint64_t cells = get_u64(r);
    if (!t->started) {
        if (cells != 0 || get_u32(r) != 0 || flags || t->learned_active)
            return corrupt(p, "state of a predictor never started");
        return r->bad ? corrupt(p, "truncated") : HR_OK;
    }
    uint32_t n = 0;
    /* The layout must match the parameters; bound n before allocating. */
    uint64_t want = (uint64_t)t->xparams[HR_PREDICTOR_EXP_SKETCH_WIDTH] *
                    (uint64_t)t->xparams[HR_PREDICTOR_EXP_SKETCH_DEPTH];
    if (cells != want || (uint64_t)(r->end - r->p) / 4 < cells)
        return corrupt(p, "sketch size");
    const uint8_t *sketch = take(r, (size_t)cells * 4);
    n = get_u32(r);
    if (r->bad || n > (uint64_t)t->params[HR_PREDICTOR_PARAM_MAX_KEYS] ||
        (size_t)(r->end - r->p) / 34 < n) /* an entry takes >= 34 bytes */
        return corrupt(p, "key count");
    uint64_t rng = t->rng; /* the layout seeds it from the parameters */
    if (hr__pred_layout_alloc(t, n) != HR_OK)
        return hr__fail(&p->error, HR_ENOMEM, "load: out of memory");
    t->rng = rng;
    t->cw = t->now_ns / t->window_ns;
    for (size_t c = 0; c < cells; c++)
        t->sketch.cells[c] = (uint32_t)sketch[4 * c] |
                             (uint32_t)sketch[4 * c + 1] << 8 |
                             (uint32_t)sketch[4 * c + 2] << 16 |
                             (uint32_t)sketch[4 * c + 3] << 24;
    for (uint32_t i = 0; i < n; i++)
        if ((rc = read_entry(p, t, r)) != HR_OK)
            return rc;
    if (flags & FLAG_MODEL) {
        if ((rc = read_model(p, t, r)) != HR_OK)
            return rc;
    } else if (t->learned_active) {
        return corrupt(p, "model in use but none saved");
    }
    return r->bad ? corrupt(p, "truncated") : HR_OK;
}

int hr__pred_load(hr_predictor *p, const uint8_t *blob, size_t len)
{
    if (len < HEADER_SIZE + 8 || memcmp(blob, MAGIC, 4) != 0)
        return corrupt(p, "not a predictor state (magic)");
    unsigned version = blob[4] | (unsigned)blob[5] << 8;
    if (version > FORMAT_VERSION)
        return hr__fail(&p->error, HR_EVERSION,
                        "predictor state format %u, newer than %u", version,
                        FORMAT_VERSION);
    if (version == 0)
        return corrupt(p, "format version 0");
    uint64_t sum = 0;
    for (int i = 0; i < 8; i++)
        sum |= (uint64_t)blob[len - 8 + i] << (8 * i);
    if (XXH3_64bits(blob, len - 8) != sum)
        return corrupt(p, "checksum mismatch");
    unsigned flags = blob[6] | (unsigned)blob[7] << 8;
    rbuf r = {blob + 8, blob + len - 8, 0};
    if (flags & ~FLAG_MODEL || get_u64(&r) != 0)
        return corrupt(p, "unknown flags");

    hr_predictor t;
    memset(&t, 0, sizeof t);
    t.env = p->env;
    int rc = read_state(p, &t, &r, flags);
    if (rc == HR_OK && r.p != r.end)
        rc = corrupt(p, "trailing bytes");
    if (rc != HR_OK) {
        hr__pred_layout_free(&t);
        hr__ptrees_free(t.env, t.model);
        return rc;
    }
    if (!t.started) { /* parameters only */
        t.nfeat = t.nh + HR__PRED_EXTRA_FEATS;
    }
    hr__pred_layout_free(p);
    hr__ptrees_free(p->env, p->model);
    t.error = p->error;
    t.scores = p->scores;
    t.order = p->order;
    t.scores_cap = p->scores_cap;
    t.blob = p->blob;
    t.blob_cap = p->blob_cap;
    t.learned_cw = 0;
    *p = t;
    return HR_OK;
}
