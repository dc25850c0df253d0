/* codec.c - the codec handle: parameters, keys, dictionaries. */
#include <string.h>

#include "codec_internal.h"

typedef struct param_spec {
    int64_t min, max, initial;
} param_spec;

/* Indexed by hr_codec_param; entry 0 is unused. */
static const param_spec param_specs[] = {
    [HR_CODEC_PARAM_LEVEL] = {1, 19, 3},
    [HR_CODEC_PARAM_SAMPLE_ROWS] = {16, 65536, 1024},
    [HR_CODEC_PARAM_DICTIONARY] = {0, 1, 1},
    [HR_CODEC_PARAM_DICT_MIN_BYTES] = {4096, 64 << 20, 256 << 10},
    [HR_CODEC_PARAM_COMPRESSOR] = {HR_CODEC_ZSTD, HR_CODEC_SNAPPY, HR_CODEC_ZSTD},
    [HR_CODEC_PARAM_MAX_ROWS] = {1, INT32_MAX, 1 << 20},
    [HR_CODEC_PARAM_MAX_BYTES] = {4096, (int64_t)1 << 40, (int64_t)1 << 30},
    [HR_CODEC_PARAM_REQUIRE_ENCRYPTION] = {0, 1, 0},
};

#define PARAM_COUNT ((int)(sizeof param_specs / sizeof param_specs[0]))

static const param_spec *spec_of(int param)
{
    return param >= 1 && param < PARAM_COUNT ? &param_specs[param] : NULL;
}

HR_API int hr_codec_param_bounds(hr_codec_param param, int64_t *min,
                                 int64_t *max)
{
    const param_spec *s = spec_of((int)param);
    if (!s || !min || !max)
        return HR_EINVAL;
    *min = s->min;
    *max = s->max;
    return HR_OK;
}

HR_API int hr_codec_new(hr_env *env, hr_codec **out)
{
    if (!out)
        return HR_EINVAL;
    *out = NULL;
    if (!env)
        return HR_EINVAL;
    hr_codec *c = hr__calloc(env, 1, sizeof *c);
    if (!c)
        return HR_ENOMEM;
    c->env = hr__env_ref(env);
    for (int p = 1; p < PARAM_COUNT; p++)
        c->params[p] = param_specs[p].initial;
    hr__keyring_init(&c->keys);
    hr__dicts_init(&c->dicts);
    hr__wbuf_init(&c->frame, env);
    hr__wbuf_init(&c->body, env);
    hr__wbuf_init(&c->scratch, env);
    *out = c;
    return HR_OK;
}

HR_API void hr_codec_free(hr_codec *c)
{
    if (!c)
        return;
    hr_env *env = c->env;
    hr__keyring_free(env, &c->keys);
    hr__dicts_free(env, &c->dicts);
    ZSTD_freeCCtx(c->cctx);
    ZSTD_freeDCtx(c->dctx);
    hr__wbuf_free(&c->frame);
    hr__wbuf_free(&c->body);
    hr__wbuf_free(&c->scratch);
    hr__free(env, c);
    hr__env_unref(env);
}

HR_API int hr_codec_set_param(hr_codec *c, hr_codec_param param, int64_t value)
{
    if (!c)
        return HR_EINVAL;
    const param_spec *s = spec_of((int)param);
    if (!s)
        return hr__fail(&c->error, HR_EINVAL, "unknown codec parameter %d",
                        (int)param);
    if (value < s->min || value > s->max)
        return hr__fail(&c->error, HR_EINVAL,
                        "codec parameter %d: %lld outside %lld..%lld", (int)param,
                        (long long)value, (long long)s->min, (long long)s->max);
    c->params[param] = value;
    return HR_OK;
}

HR_API int hr_codec_get_param(const hr_codec *c, hr_codec_param param,
                              int64_t *value)
{
    if (!c || !value || !spec_of((int)param))
        return HR_EINVAL;
    *value = c->params[param];
    return HR_OK;
}

HR_API int hr_codec_add_key(hr_codec *c, uint32_t key_id,
                            const uint8_t key[HR_CODEC_KEY_SIZE])
{
    if (!c)
        return HR_EINVAL;
    if (key_id == 0 || !key)
        return hr__fail(&c->error, HR_EINVAL, "key id must be non-zero and key non-NULL");
    int rc = hr__keyring_add(c->env, &c->keys, key_id, key);
    if (rc == HR_EINVAL)
        return hr__fail(&c->error, rc, "key id %u is loaded with another key",
                        key_id);
    if (rc != HR_OK)
        return hr__fail(&c->error, rc, "out of memory loading key %u", key_id);
    return HR_OK;
}

HR_API int hr_codec_remove_key(hr_codec *c, uint32_t key_id)
{
    if (!c)
        return HR_EINVAL;
    if (hr__keyring_remove(&c->keys, key_id) != HR_OK)
        return hr__fail(&c->error, HR_ENOTFOUND, "key id %u is not loaded",
                        key_id);
    if (c->encrypt_key_id == key_id)
        c->encrypt_key_id = 0;
    return HR_OK;
}

HR_API int hr_codec_set_encrypt_key(hr_codec *c, uint32_t key_id)
{
    if (!c)
        return HR_EINVAL;
    if (key_id && !hr__keyring_find(&c->keys, key_id))
        return hr__fail(&c->error, HR_ENOTFOUND, "key id %u is not loaded",
                        key_id);
    c->encrypt_key_id = key_id;
    return HR_OK;
}

HR_API int hr_codec_export_dicts(hr_codec *c, const uint8_t **blob,
                                 size_t *blob_len)
{
    if (!c || !blob || !blob_len)
        return HR_EINVAL;
    c->scratch.len = 0;
    c->scratch.failed = 0;
    hr__dicts_export(&c->dicts, &c->scratch);
    if (c->scratch.failed)
        return hr__fail(&c->error, HR_ENOMEM, "out of memory exporting dictionaries");
    *blob = c->scratch.data;
    *blob_len = c->scratch.len;
    return HR_OK;
}

HR_API int hr_codec_import_dicts(hr_codec *c, const uint8_t *blob,
                                 size_t blob_len)
{
    if (!c || (!blob && blob_len))
        return HR_EINVAL;
    hr__rbuf in;
    hr__rbuf_init(&in, blob, blob_len);
    int rc = hr__dicts_import(c->env, &c->dicts, &in);
    if (rc == HR_OK && hr__rbuf_left(&in) != 0)
        rc = HR_ECORRUPT;
    if (rc != HR_OK)
        return hr__fail(&c->error, rc, "%s in dictionary blob at offset %zu",
                        rc == HR_ENOMEM ? "out of memory" : "corrupt entry",
                        in.pos);
    return HR_OK;
}

void *hr__codec_scratch(hr_codec *c, size_t bytes)
{
    c->scratch.len = 0;
    c->scratch.failed = 0;
    if (hr__wbuf_reserve(&c->scratch, bytes ? bytes : 1) != 0)
        return NULL;
    return c->scratch.data;
}

HR_API const char *hr_codec_errmsg(const hr_codec *c)
{
    return c ? c->error.message : "no codec (NULL hr_codec)";
}
