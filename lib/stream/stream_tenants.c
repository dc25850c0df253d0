/*
 * stream_tenants.c - the stream's tenants: an array of tenants and an open
 * addressing index over their ids (XXH3), so shared mode finds the tenant
 * of a change in O(1) whatever the number of tenants. Removal rebuilds the
 * index (rare, and O(n)).
 */
#include <string.h>

#include <xxhash.h>

#include "stream_internal.h"

static size_t slot_of(const hr__tenants *t, const char *id, size_t len)
{
    return (size_t)XXH3_64bits(id, len) & (t->index_cap - 1);
}

hr__tenant *hr__tenants_find(const hr__tenants *t, const char *id, size_t len)
{
    if (!t->index_cap)
        return NULL;
    for (size_t i = slot_of(t, id, len);; i = (i + 1) & (t->index_cap - 1)) {
        uint32_t e = t->index[i];
        if (!e)
            return NULL;
        hr__tenant *x = t->v[e - 1];
        if (x->len == len && memcmp(x->id, id, len) == 0)
            return x;
    }
}

/* Rebuild the index with `cap` slots (a power of two > 2n). */
static int reindex(const hr_env *env, hr__tenants *t, size_t cap)
{
    uint32_t *index = hr__calloc(env, cap, sizeof *index);
    if (!index)
        return HR_ENOMEM;
    hr__free(env, t->index);
    t->index = index;
    t->index_cap = cap;
    for (size_t k = 0; k < t->n; k++) {
        size_t i = slot_of(t, t->v[k]->id, t->v[k]->len);
        while (index[i])
            i = (i + 1) & (cap - 1);
        index[i] = (uint32_t)(k + 1);
    }
    return HR_OK;
}

int hr__tenants_add(const hr_env *env, hr__tenants *t, const char *id,
                    size_t len, hr__tenant **out)
{
    *out = NULL;
    if (t->n >= UINT32_MAX / 4)
        return HR_ELIMIT;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        hr__tenant **v = hr__realloc(env, t->v, cap * sizeof *v);
        if (!v)
            return HR_ENOMEM;
        t->v = v;
        t->cap = cap;
    }
    if (2 * (t->n + 1) >= t->index_cap) {
        size_t cap = t->index_cap ? t->index_cap * 2 : 16;
        while (2 * (t->n + 1) >= cap)
            cap *= 2;
        if (reindex(env, t, cap) != HR_OK)
            return HR_ENOMEM;
    }
    hr__tenant *x = hr__calloc(env, 1, sizeof *x);
    char *copy = hr__malloc(env, len + 1);
    if (!x || !copy) {
        hr__free(env, x);
        hr__free(env, copy);
        return HR_ENOMEM;
    }
    memcpy(copy, id, len);
    copy[len] = '\0';
    x->id = copy;
    x->len = len;
    t->v[t->n++] = x;
    size_t i = slot_of(t, id, len);
    while (t->index[i])
        i = (i + 1) & (t->index_cap - 1);
    t->index[i] = (uint32_t)t->n;
    *out = x;
    return HR_OK;
}

int hr__tenants_remove(const hr_env *env, hr__tenants *t, const char *id)
{
    size_t len = strlen(id);
    for (size_t k = 0; k < t->n; k++) {
        hr__tenant *x = t->v[k];
        if (x->len != len || memcmp(x->id, id, len) != 0)
            continue;
        hr__free(env, x->id);
        hr__free(env, x);
        t->v[k] = t->v[--t->n];
        /* Rebuild the index in place: no allocation, so removal cannot
         * fail half-way. */
        memset(t->index, 0, t->index_cap * sizeof *t->index);
        for (size_t j = 0; j < t->n; j++) {
            size_t i = slot_of(t, t->v[j]->id, t->v[j]->len);
            while (t->index[i])
                i = (i + 1) & (t->index_cap - 1);
            t->index[i] = (uint32_t)(j + 1);
        }
        return HR_OK;
    }
    return HR_ENOTFOUND;
}

void hr__tenants_free(const hr_env *env, hr__tenants *t)
{
    for (size_t k = 0; k < t->n; k++) {
        hr__free(env, t->v[k]->id);
        hr__free(env, t->v[k]);
    }
    hr__free(env, t->v);
    hr__free(env, t->index);
    memset(t, 0, sizeof *t);
}
