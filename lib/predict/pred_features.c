/*
 * pred_features.c - per-key windowed state, the learned model's features,
 * and the collection of training examples as windows close.
 *
 * A key's state is folded lazily: counts of its window `win` stay apart
 * until an event of a later window arrives, so the features "as of the start
 * of the current window" - what the model is trained on and predicts from -
 * can be computed at any time during the window, without touching the keys
 * that saw no event.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "predict_internal.h"

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t day_of(uint64_t t_ns)
{
    return t_ns / HR__PRED_NS_PER_DAY;
}

static uint32_t slot_of(const hr_predictor *p, uint64_t t_ns)
{
    uint64_t sec = (t_ns / 1000000000ull) % 86400u;
    return (uint32_t)(sec / (86400u / p->slots));
}

/* Previous days' profile of one slot as of day `day`, given its stored
 * (hist, cur, cur_day). */
static double profile_hist(double hist, double cur, uint64_t cur_day,
                           uint64_t day)
{
    if (day <= cur_day)
        return hist;
    double h = HR__PRED_DAY_DECAY * hist + (1 - HR__PRED_DAY_DECAY) * cur;
    return h * pow(HR__PRED_DAY_DECAY, (double)(day - cur_day - 1));
}

/* Fold the counts of window `win` into the profile slot of that window. */
static void profile_add(hr_predictor *p, size_t i, uint64_t win, double count)
{
    if (!p->slots || count <= 0)
        return;
    float *f = hr__pred_fstate(p, i) + p->nh + 1;
    uint32_t *days = p->fdays + i * p->slots;
    uint64_t t = win * p->window_ns;
    uint32_t s = slot_of(p, t);
    uint64_t d = day_of(t);
    if (d > days[s]) {
        f[s] = (float)profile_hist(f[s], f[p->slots + s], days[s], d);
        f[p->slots + s] = 0;
        days[s] = (uint32_t)d;
    }
    f[p->slots + s] += (float)count;
}

void hr__pred_touch(hr_predictor *p, size_t i, uint64_t now_ns,
                    hr_predictor_access kind, uint32_t count)
{
    hr__pentry *e = &p->entries[i];
    if (e->win < p->cw) {
        float *f = hr__pred_fstate(p, i);
        double tot = (double)e->reads + e->writes;
        double gap = (double)(p->cw - 1 - e->win);
        for (uint32_t h = 0; h < p->nh; h++)
            f[h] = (float)((f[h] * p->decay[h] + tot) * pow(p->decay[h], gap));
        double a = p->decay[p->nh - 1];
        f[p->nh] = (float)((f[p->nh] * a + e->writes) * pow(a, gap));
        profile_add(p, i, e->win, tot);
        e->prev_last_ns = e->last_ns;
        e->win = p->cw;
        e->reads = e->writes = 0;
    }
    if (kind == HR_PREDICTOR_WRITE)
        e->writes += (float)count;
    else
        e->reads += (float)count;
    e->last_ns = now_ns;
}

void hr__pred_features(const hr_predictor *p, size_t i, float *out)
{
    const hr__pentry *e = &p->entries[i];
    const float *f = hr__pred_fstate(p, i);
    uint64_t start = p->cw * p->window_ns;
    uint32_t nh = p->nh;
    double tot = 0, writes = 0, gap = 0;
    uint64_t last = e->prev_last_ns;
    int folded = e->win < p->cw; /* window `win` closed before this one */
    if (folded) {
        tot = (double)e->reads + e->writes;
        writes = e->writes;
        gap = (double)(p->cw - 1 - e->win);
        last = e->last_ns;
    }
    double total_long = 0;
    for (uint32_t h = 0; h < nh; h++) {
        double v = f[h];
        if (folded)
            v = (v * p->decay[h] + tot) * pow(p->decay[h], gap);
        out[h] = (float)log1p(v);
        total_long = v;
    }
    double w = f[nh];
    if (folded) {
        double a = p->decay[nh - 1];
        w = (w * a + writes) * pow(a, gap);
    }
    double age = last ? (double)(start - last) / (double)p->window_ns
                      : HR__PRED_AGE_NEVER;
    uint64_t sec = start / 1000000000ull;
    out[nh] = (float)log1p(age);
    out[nh + 1] = (float)(sec % 86400u) / 86400.0f;
    out[nh + 2] = (float)((sec / 86400u + 4) % 7); /* 1970-01-01: Thursday */
    out[nh + 3] = total_long > 1e-6 ? (float)(w / total_long) : NAN;
    out[nh + 4] = out[nh + 5] = out[nh + 6] = 0;
    if (!p->slots)
        return;
    const float *hist = f + nh + 1, *cur = hist + p->slots;
    const uint32_t *days = p->fdays + i * p->slots;
    uint64_t d = day_of(start);
    uint32_t s_now = slot_of(p, start);
    uint32_t s_win = slot_of(p, e->win * p->window_ns);
    uint64_t d_win = day_of(e->win * p->window_ns);
    double sum = 0, next = 0, today = 0;
    for (uint32_t s = 0; s < p->slots; s++) {
        double h = hist[s], c = cur[s];
        uint64_t cd = days[s];
        if (folded && tot > 0 && s == s_win) { /* virtual profile_add */
            if (d_win > cd) {
                h = profile_hist(h, c, cd, d_win);
                c = 0;
                cd = d_win;
            }
            c += tot;
        }
        double v = profile_hist(h, c, cd, d);
        sum += v;
        if (s == s_now) {
            next = v;
            today = cd == d ? c : 0;
        }
    }
    out[nh + 4] = (float)log1p(next);
    out[nh + 5] = (float)log1p(sum / p->slots);
    out[nh + 6] = (float)log1p(today);
}

static float *row_at(const hr_predictor *p, size_t r)
{
    return p->rows + r * (p->nfeat + 1);
}

void hr__pred_collect(hr_predictor *p, uint64_t closed_cw)
{
    for (size_t k = 0; k < p->pending_count; k++) {
        size_t r = (p->pending_first + k) % p->row_cap;
        if (p->labels[r] != HR__ROW_PENDING)
            continue;
        uint32_t i = p->row_entry[r];
        if (i >= p->n_entries || p->entries[i].hash != p->row_hash[r]) {
            p->labels[r] = HR__ROW_DROPPED; /* the key was evicted */
            continue;
        }
        const hr__pentry *e = &p->entries[i];
        p->labels[r] = e->win == closed_cw && e->reads + e->writes > 0;
    }
    p->pending_count = 0;
}

void hr__pred_sample(hr_predictor *p)
{
    if (!p->row_cap || !p->n_entries)
        return;
    size_t m = (size_t)p->xparams[HR_PREDICTOR_EXP_ROWS_PER_WINDOW];
    if (m > p->row_cap)
        m = p->row_cap;
    int all = p->n_entries <= m;
    if (all)
        m = p->n_entries;
    p->pending_first = p->row_next;
    p->pending_count = m;
    uint64_t start = p->cw * p->window_ns;
    for (size_t k = 0; k < m; k++) {
        size_t i = all ? k : (size_t)(rng_next(&p->rng) % p->n_entries);
        size_t r = p->row_next;
        float *row = row_at(p, r);
        hr__pred_features(p, i, row);
        row[p->nfeat] = (float)hr__pred_heuristic(p, &p->entries[i],
                                                  p->entries[i].hash, start);
        p->labels[r] = HR__ROW_PENDING;
        p->row_entry[r] = (uint32_t)i;
        p->row_hash[r] = p->entries[i].hash;
        p->row_next = (r + 1) % p->row_cap;
        if (p->row_count < p->row_cap)
            p->row_count++;
    }
}

typedef struct auc_ctx {
    const float *scores;
    size_t stride;
} auc_ctx;

static _Thread_local auc_ctx sort_ctx;

static int by_score(const void *a, const void *b)
{
    float x = sort_ctx.scores[*(const uint32_t *)a * sort_ctx.stride];
    float y = sort_ctx.scores[*(const uint32_t *)b * sort_ctx.stride];
    return (x > y) - (x < y);
}

double hr__pred_auc(const float *scores, const float *labels, size_t n,
                    size_t stride, uint32_t *order)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        order[i] = (uint32_t)i;
        pos += labels[i] > 0.5f;
    }
    if (pos == 0 || pos == n)
        return -1;
    sort_ctx = (auc_ctx){scores, stride};
    qsort(order, n, sizeof *order, by_score);
    /* Mann-Whitney U: sum of the positives' ranks, ties at their mean rank. */
    double rank_sum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        float v = scores[order[i] * stride];
        while (j < n && scores[order[j] * stride] == v)
            j++;
        double mean_rank = (double)(i + j + 1) / 2.0;
        for (size_t k = i; k < j; k++)
            if (labels[order[k]] > 0.5f)
                rank_sum += mean_rank;
        i = j;
    }
    double neg = (double)(n - pos);
    return (rank_sum - (double)pos * (double)(pos + 1) / 2.0) /
           ((double)pos * neg);
}
