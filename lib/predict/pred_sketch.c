/*
 * pred_sketch.c - the count-min sketch of the heuristic scorer.
 *
 * Conservative update (only the counters at the current minimum grow) keeps
 * the over-count of colliding keys low; halving every counter on aging keeps
 * the counts a recent-weighted frequency, as TinyLFU does.
 */
#include <string.h>

#include "predict_internal.h"

int hr__psketch_init(hr__psketch *s, const hr_env *env, uint32_t width,
                     uint32_t depth)
{
    s->cells = hr__calloc(env, (size_t)width * depth, sizeof *s->cells);
    if (!s->cells)
        return HR_ENOMEM;
    s->width = width;
    s->depth = depth;
    return HR_OK;
}

void hr__psketch_free(hr__psketch *s, const hr_env *env)
{
    hr__free(env, s->cells);
    s->cells = NULL;
}

/* Row i's counter: double hashing of the key's 64-bit hash. */
static size_t cell_of(const hr__psketch *s, uint64_t hash, uint32_t row)
{
    uint32_t h1 = (uint32_t)hash;
    uint32_t h2 = (uint32_t)(hash >> 32) | 1u;
    return (size_t)row * s->width + ((h1 + row * h2) & (s->width - 1));
}

uint32_t hr__psketch_estimate(const hr__psketch *s, uint64_t hash)
{
    uint32_t min = UINT32_MAX;
    for (uint32_t r = 0; r < s->depth; r++) {
        uint32_t v = s->cells[cell_of(s, hash, r)];
        if (v < min)
            min = v;
    }
    return min;
}

void hr__psketch_add(hr__psketch *s, uint64_t hash, uint32_t count)
{
    uint32_t min = hr__psketch_estimate(s, hash);
    uint32_t target = count > UINT32_MAX - min ? UINT32_MAX : min + count;
    for (uint32_t r = 0; r < s->depth; r++) {
        uint32_t *c = &s->cells[cell_of(s, hash, r)];
        if (*c < target)
            *c = target;
    }
}

void hr__psketch_age(hr__psketch *s, uint64_t halvings)
{
    size_t n = (size_t)s->width * s->depth;
    if (halvings == 0)
        return;
    if (halvings >= 32) {
        memset(s->cells, 0, n * sizeof *s->cells);
        return;
    }
    for (size_t i = 0; i < n; i++)
        s->cells[i] >>= halvings;
}
