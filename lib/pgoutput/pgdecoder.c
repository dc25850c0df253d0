/* pgdecoder.c - the decoder handle: lifetime, parameters, state queries. */
#include <string.h>

#include "pgoutput_internal.h"

#define MAX_TXN_BYTES_DEFAULT ((int64_t)1 << 30)
#define MAX_TXN_BYTES_MIN ((int64_t)65536)
#define MAX_TXN_BYTES_MAX ((int64_t)1 << 40)

HR_API int hr_pgdecoder_new(hr_env *env,
                            const hr_pgdecoder_callbacks *callbacks,
                            hr_pgdecoder **out)
{
    if (!out)
        return HR_EINVAL;
    *out = NULL;
    if (!env || !callbacks)
        return HR_EINVAL;
    if (callbacks->version != HR_PGDECODER_CALLBACKS_VERSION)
        return hr__fail(&env->error, HR_EINVAL,
                        "pgdecoder callbacks version %u, this library knows %u",
                        callbacks->version,
                        (unsigned)HR_PGDECODER_CALLBACKS_VERSION);
    hr_pgdecoder *d = hr__calloc(env, 1, sizeof *d);
    if (!d)
        return HR_ENOMEM;
    d->env = hr__env_ref(env);
    d->cb = *callbacks;
    d->max_txn_bytes = (uint64_t)MAX_TXN_BYTES_DEFAULT;
    *out = d;
    return HR_OK;
}

/* Drop every open transaction (they pin relation versions). */
static void drop_open(hr_pgdecoder *d)
{
    if (d->txn) {
        hr__pgtxn_release(d, d->txn);
        d->txn = NULL;
    }
    d->stream = NULL;
    hr__pg_streams_drop(d);
}

HR_API void hr_pgdecoder_free(hr_pgdecoder *d)
{
    if (!d)
        return;
    hr_env *env = d->env;
    drop_open(d);
    hr__pgrel_clear(d);
    hr__free(env, d->rels.slots);
    hr__free(env, d->streams);
    while (d->spares) {
        hr_pgtxn *t = d->spares;
        d->spares = t->next_spare;
        hr__pgtxn_destroy(d, t);
    }
    hr__free(env, d);
    hr__env_unref(env);
}

HR_API void hr_pgdecoder_reset(hr_pgdecoder *d, int keep_relations)
{
    if (!d)
        return;
    drop_open(d);
    if (!keep_relations)
        hr__pgrel_clear(d);
    d->last_rel = NULL;
    d->failed = 0;
    d->msg_name = NULL;
    d->msg_base = 0;
    d->msg_lsn = 0;
    hr__error_clear(&d->error);
}

HR_API int hr_pgdecoder_set_param(hr_pgdecoder *d, hr_pgdecoder_param param,
                                  int64_t value)
{
    if (!d)
        return HR_EINVAL;
    switch (param) {
    case HR_PGDECODER_PARAM_MAX_TXN_BYTES:
        if (value < MAX_TXN_BYTES_MIN || value > MAX_TXN_BYTES_MAX)
            return hr__fail(&d->error, HR_EINVAL,
                            "MAX_TXN_BYTES %lld out of range 65536..2^40",
                            (long long)value);
        d->max_txn_bytes = (uint64_t)value;
        return HR_OK;
    }
    return hr__fail(&d->error, HR_EINVAL, "unknown pgdecoder parameter %d",
                    (int)param);
}

HR_API uint64_t hr_pgdecoder_wal_end(const hr_pgdecoder *d)
{
    return d ? d->wal_end : 0;
}

HR_API const hr_pgrelation *hr_pgdecoder_relation(const hr_pgdecoder *d,
                                                  uint32_t oid)
{
    if (!d)
        return NULL;
    return hr__pgrel_find(&d->rels, oid);
}

HR_API const char *hr_pgdecoder_errmsg(const hr_pgdecoder *d)
{
    if (!d)
        return "no decoder (NULL hr_pgdecoder)";
    return d->error.message;
}
