/* dicts.c - see dicts.h. */
#include "dicts.h"

#include <xxhash.h>

#define MAX_SAMPLE_BYTES 4096 /* longer values are cut: training wants many */

void hr__dicts_init(hr__dicts *d)
{
    memset(d, 0, sizeof *d);
}

static void free_dict(const hr_env *env, hr__dict *dict)
{
    ZSTD_freeCDict((ZSTD_CDict *)dict->handle.cdict);
    ZSTD_freeDDict((ZSTD_DDict *)dict->handle.ddict);
    hr__free(env, dict->bytes);
}

static void free_pool_samples(const hr_env *env, hr__dict_pool *p)
{
    hr__free(env, p->samples);
    hr__free(env, p->sizes);
    p->samples = NULL;
    p->sizes = NULL;
    p->samples_len = 0;
    p->count = 0;
}

void hr__dicts_free(const hr_env *env, hr__dicts *d)
{
    for (size_t i = 0; i < d->ndicts; i++)
        free_dict(env, &d->dicts[i]);
    for (size_t i = 0; i < d->npools; i++)
        free_pool_samples(env, &d->pools[i]);
    hr__free(env, d->dicts);
    hr__free(env, d->pools);
    hr__dicts_init(d);
}

uint32_t hr__dict_id_of(const uint8_t *bytes, size_t len)
{
    uint32_t id = (uint32_t)XXH3_64bits(bytes, len);
    return id ? id : 1;
}

hr__dict *hr__dicts_find(hr__dicts *d, uint32_t id)
{
    for (size_t i = 0; i < d->ndicts; i++)
        if (d->dicts[i].handle.id == id)
            return &d->dicts[i];
    return NULL;
}

const ZSTD_DDict *hr__dicts_lookup(void *ctx, uint32_t id)
{
    hr__dict *dict = hr__dicts_find(ctx, id);
    return dict ? dict->handle.ddict : NULL;
}

/* Append a dictionary; `bytes` (allocated from env) is taken over. */
static int store_dict(const hr_env *env, hr__dicts *d, uint32_t id,
                      uint8_t *bytes, size_t len, int level, int with_cdict)
{
    if (d->ndicts == d->dicts_cap) {
        size_t cap = d->dicts_cap ? d->dicts_cap * 2 : 4;
        hr__dict *grown = hr__realloc(env, d->dicts, cap * sizeof *grown);
        if (!grown) {
            hr__free(env, bytes);
            return HR_ENOMEM;
        }
        d->dicts = grown;
        d->dicts_cap = cap;
    }
    hr__dict *dict = &d->dicts[d->ndicts];
    memset(dict, 0, sizeof *dict);
    dict->bytes = bytes;
    dict->len = len;
    dict->handle.id = id;
    dict->handle.ddict = ZSTD_createDDict(bytes, len);
    if (with_cdict)
        dict->handle.cdict = ZSTD_createCDict(bytes, len, level);
    if (!dict->handle.ddict || (with_cdict && !dict->handle.cdict)) {
        free_dict(env, dict);
        return HR_ECORRUPT;
    }
    d->ndicts++;
    return HR_OK;
}

int hr__dicts_add(const hr_env *env, hr__dicts *d, uint32_t id,
                  const uint8_t *bytes, size_t len)
{
    if (len == 0 || len > HR__DICT_MAX_BYTES || hr__dict_id_of(bytes, len) != id)
        return HR_ECORRUPT;
    if (hr__dicts_find(d, id))
        return HR_OK;
    uint8_t *copy = hr__malloc(env, len);
    if (!copy)
        return HR_ENOMEM;
    memcpy(copy, bytes, len);
    return store_dict(env, d, id, copy, len, 0, 0);
}

static hr__dict_pool *pool_for(const hr_env *env, hr__dicts *d, uint64_t key)
{
    for (size_t i = 0; i < d->npools; i++)
        if (d->pools[i].key == key)
            return &d->pools[i];
    if (d->npools == d->pools_cap) {
        size_t cap = d->pools_cap ? d->pools_cap * 2 : 4;
        hr__dict_pool *grown = hr__realloc(env, d->pools, cap * sizeof *grown);
        if (!grown)
            return NULL;
        d->pools = grown;
        d->pools_cap = cap;
    }
    hr__dict_pool *p = &d->pools[d->npools++];
    memset(p, 0, sizeof *p);
    p->key = key;
    return p;
}

static int add_samples(const hr_env *env, hr__dict_pool *p, const uint8_t *heap,
                       const uint32_t *offsets, size_t n)
{
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = offsets[i + 1] - offsets[i];
        bytes += len < MAX_SAMPLE_BYTES ? len : MAX_SAMPLE_BYTES;
    }
    uint8_t *samples = hr__realloc(env, p->samples, p->samples_len + bytes);
    if (!samples)
        return HR_ENOMEM;
    p->samples = samples;
    size_t *sizes = hr__realloc(env, p->sizes, (p->count + n) * sizeof *sizes);
    if (!sizes)
        return HR_ENOMEM;
    p->sizes = sizes;
    for (size_t i = 0; i < n; i++) {
        size_t len = offsets[i + 1] - offsets[i];
        if (len > MAX_SAMPLE_BYTES)
            len = MAX_SAMPLE_BYTES;
        if (len == 0)
            continue;
        memcpy(p->samples + p->samples_len, heap + offsets[i], len);
        p->samples_len += len;
        p->sizes[p->count++] = len;
    }
    return HR_OK;
}

static void train(const hr_env *env, hr__dicts *d, hr__dict_pool *p, int level)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    size_t capacity = p->samples_len / 8;
    if (capacity > HR__DICT_CAPACITY)
        capacity = HR__DICT_CAPACITY;
    int rc = hr__str_train_dict(env, p->samples, p->sizes, p->count, capacity,
                                &bytes, &len);
    free_pool_samples(env, p);
    if (rc != HR_OK) {
        p->gave_up = rc == HR_EINVAL; /* ENOMEM: try again later */
        return;
    }
    uint32_t id = hr__dict_id_of(bytes, len);
    if (hr__dicts_find(d, id)) {
        hr__free(env, bytes);
        p->dict_id = id;
        return;
    }
    if (store_dict(env, d, id, bytes, len, level, 1) == HR_OK)
        p->dict_id = id;
    else
        p->gave_up = 1;
}

int hr__dicts_for_column(const hr_env *env, hr__dicts *d, uint64_t key,
                         const uint8_t *heap, const uint32_t *offsets, size_t n,
                         size_t min_bytes, int level, hr__dict **dict)
{
    *dict = NULL;
    hr__dict_pool *p = pool_for(env, d, key);
    if (!p)
        return HR_ENOMEM;
    if (p->gave_up)
        return HR_OK;
    if (p->dict_id) {
        hr__dict *found = hr__dicts_find(d, p->dict_id);
        /* A dictionary learnt from a peer has no CDict: make one. */
        if (found && !found->handle.cdict)
            found->handle.cdict =
                ZSTD_createCDict(found->bytes, found->len, level);
        if (found && found->handle.cdict)
            *dict = found;
        return HR_OK;
    }
    if (add_samples(env, p, heap, offsets, n) != HR_OK) {
        free_pool_samples(env, p);
        return HR_ENOMEM;
    }
    if (p->samples_len >= min_bytes)
        train(env, d, p, level);
    return HR_OK;
}

void hr__dicts_export(const hr__dicts *d, hr__wbuf *out)
{
    hr__wbuf_put_varint(out, d->ndicts);
    for (size_t i = 0; i < d->ndicts; i++) {
        hr__wbuf_put_u32(out, d->dicts[i].handle.id);
        hr__wbuf_put_varint(out, d->dicts[i].len);
        hr__wbuf_put(out, d->dicts[i].bytes, d->dicts[i].len);
    }
}

int hr__dicts_import(const hr_env *env, hr__dicts *d, hr__rbuf *in)
{
    uint64_t count;
    if (hr__rbuf_get_varint(in, &count) != 0 || count > hr__rbuf_left(in))
        return HR_ECORRUPT;
    for (uint64_t i = 0; i < count; i++) {
        uint32_t id;
        uint64_t len;
        const uint8_t *bytes;
        if (hr__rbuf_get_u32(in, &id) != 0 ||
            hr__rbuf_get_varint(in, &len) != 0 || len > hr__rbuf_left(in) ||
            hr__rbuf_take(in, &bytes, (size_t)len) != 0)
            return HR_ECORRUPT;
        int rc = hr__dicts_add(env, d, id, bytes, (size_t)len);
        if (rc != HR_OK)
            return rc;
    }
    return HR_OK;
}
