/*
 * pred_keys.c - the tracked keys: entries in one array, found through an
 * open-addressing table (linear probing) of entry index + 1, and TinyLFU
 * admission once MAX_KEYS are tracked.
 */
#include <string.h>

#include <xxhash.h>

#include "predict_internal.h"

/* Sampled entries a new key must beat when the table is full. */
#define ADMISSION_SAMPLE 8

uint64_t hr__pred_hash(const char *key, size_t len)
{
    return XXH3_64bits(key, len);
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

hr__pentry *hr__pred_find(const hr_predictor *p, const char *key, size_t len,
                          uint64_t hash)
{
    if (!p->table)
        return NULL;
    size_t mask = p->table_cap - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        uint32_t slot = p->table[i];
        if (slot == 0)
            return NULL;
        hr__pentry *e = &p->entries[slot - 1];
        if (e->hash == hash && strncmp(e->key, key, len) == 0 &&
            e->key[len] == '\0')
            return e;
    }
}

static void table_insert(hr_predictor *p, size_t index)
{
    size_t mask = p->table_cap - 1;
    size_t i = (size_t)p->entries[index].hash & mask;
    while (p->table[i] != 0)
        i = (i + 1) & mask;
    p->table[i] = (uint32_t)index + 1;
}

/* Backward-shift deletion keeps every probe chain unbroken. */
static void table_remove(hr_predictor *p, size_t index)
{
    size_t mask = p->table_cap - 1;
    size_t i = (size_t)p->entries[index].hash & mask;
    while (p->table[i] != index + 1)
        i = (i + 1) & mask;
    for (size_t j = (i + 1) & mask; p->table[j] != 0; j = (j + 1) & mask) {
        size_t home = (size_t)p->entries[p->table[j] - 1].hash & mask;
        /* Move j back into the hole i unless its home lies in (i, j]. */
        int between =
            i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            p->table[i] = p->table[j];
            i = j;
        }
    }
    p->table[i] = 0;
}

int hr__pred_table_rebuild(hr_predictor *p)
{
    size_t cap = 16;
    while (cap < 2 * p->cap_entries)
        cap *= 2;
    uint32_t *t = hr__calloc(p->env, cap, sizeof *t);
    if (!t)
        return HR_ENOMEM;
    hr__free(p->env, p->table);
    p->table = t;
    p->table_cap = cap;
    for (size_t i = 0; i < p->n_entries; i++)
        table_insert(p, i);
    return HR_OK;
}

/* Room for `cap` entries. On failure the predictor is as it was (arrays that
 * did grow are kept: they are only larger). */
static int grow(hr_predictor *p, size_t cap)
{
    const hr_env *env = p->env;
    hr__pentry *e = hr__realloc(env, p->entries, cap * sizeof *e);
    if (!e)
        return HR_ENOMEM;
    p->entries = e;
    float *f = hr__realloc(env, p->fstate, cap * p->fstride * sizeof *f);
    if (!f)
        return HR_ENOMEM;
    p->fstate = f;
    if (p->slots) {
        uint32_t *d = hr__realloc(env, p->fdays, cap * p->slots * sizeof *d);
        if (!d)
            return HR_ENOMEM;
        p->fdays = d;
    }
    size_t old = p->cap_entries;
    p->cap_entries = cap;
    if (hr__pred_table_rebuild(p) != HR_OK) {
        p->cap_entries = old;
        return HR_ENOMEM;
    }
    return HR_OK;
}

static void entry_init(hr_predictor *p, size_t i, char *key, uint64_t hash)
{
    hr__pentry *e = &p->entries[i];
    memset(e, 0, sizeof *e);
    e->key = key;
    e->hash = hash;
    e->win = p->cw;
    e->first_win = p->cw;
    memset(hr__pred_fstate(p, i), 0, p->fstride * sizeof(float));
    if (p->slots)
        memset(p->fdays + i * p->slots, 0, p->slots * sizeof(uint32_t));
}

static char *copy_key(const hr_env *env, const char *key, size_t len)
{
    char *k = hr__malloc(env, len + 1);
    if (k) {
        memcpy(k, key, len);
        k[len] = '\0';
    }
    return k;
}

int hr__pred_append(hr_predictor *p, const char *key, size_t len,
                    hr__pentry **entry)
{
    if (p->n_entries == p->cap_entries) {
        size_t max = (size_t)p->params[HR_PREDICTOR_PARAM_MAX_KEYS];
        size_t cap = p->cap_entries ? 2 * p->cap_entries : 16;
        if (p->cap_entries >= max)
            return HR_ELIMIT;
        if (grow(p, cap < max ? cap : max) != HR_OK)
            return HR_ENOMEM;
    }
    char *k = copy_key(p->env, key, len);
    if (!k)
        return HR_ENOMEM;
    size_t i = p->n_entries++;
    entry_init(p, i, k, hr__pred_hash(key, len));
    table_insert(p, i);
    *entry = &p->entries[i];
    return HR_OK;
}

int hr__pred_get_or_add(hr_predictor *p, const char *key, size_t len,
                        uint64_t hash, hr__pentry **entry)
{
    *entry = hr__pred_find(p, key, len, hash);
    if (*entry)
        return HR_OK;
    size_t max = (size_t)p->params[HR_PREDICTOR_PARAM_MAX_KEYS];
    if (p->n_entries < max) {
        int rc = hr__pred_append(p, key, len, entry);
        if (rc == HR_OK)
            (*entry)->hash = hash;
        return rc;
    }
    /* Full: the key replaces the weakest sampled key only if the sketch
     * has seen it more often (this event not yet counted). */
    size_t victim = 0;
    uint32_t victim_est = UINT32_MAX;
    for (int s = 0; s < ADMISSION_SAMPLE; s++) {
        size_t i = (size_t)(rng_next(&p->rng) % p->n_entries);
        uint32_t est = hr__psketch_estimate(&p->sketch, p->entries[i].hash);
        if (est < victim_est) {
            victim_est = est;
            victim = i;
        }
    }
    if (hr__psketch_estimate(&p->sketch, hash) < victim_est)
        return HR_OK;
    char *k = copy_key(p->env, key, len);
    if (!k)
        return HR_ENOMEM;
    table_remove(p, victim);
    hr__free(p->env, p->entries[victim].key);
    entry_init(p, victim, k, hash);
    table_insert(p, victim);
    *entry = &p->entries[victim];
    return HR_OK;
}
