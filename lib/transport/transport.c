/*
 * transport.c - what every transport kind shares: the bounded FIFO of
 * messages, metadata checks, limits, stats. A message is one allocation
 * (header, strings, payload) so that sending costs one malloc and one copy.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "transport_internal.h"

#define DEFAULT_MAX_MESSAGES 4096
#define DEFAULT_MAX_BYTES (64 * 1024 * 1024)
#define MAX_NAME 255

/* The caller's meta must reach at least this far for a call to use it. */
#define META_MIN_SIZE (offsetof(hr_transport_meta, flags) + sizeof(uint32_t))
#define META_HAS(meta, field)                                                  \
    ((meta)->size >= offsetof(hr_transport_meta, field) + sizeof((meta)->field))

typedef struct param_spec {
    int64_t min, max;
} param_spec;

static const param_spec param_specs[] = {
    [HR_TRANSPORT_PARAM_MAX_MESSAGES] = {1, INT32_MAX},
    [HR_TRANSPORT_PARAM_MAX_BYTES] = {1, (int64_t)1 << 40},
};

static const param_spec *spec_of(int param)
{
    if (param < HR_TRANSPORT_PARAM_MAX_MESSAGES ||
        param > HR_TRANSPORT_PARAM_MAX_BYTES)
        return NULL;
    return &param_specs[param];
}

HR_API int hr_transport_param_bounds(hr_transport_param param, int64_t *min,
                                     int64_t *max)
{
    const param_spec *s = spec_of((int)param);
    if (!s || !min || !max)
        return HR_EINVAL;
    *min = s->min;
    *max = s->max;
    return HR_OK;
}

int hr__transport_create(hr_env *env, const hr__transport_ops *ops,
                         hr_transport **out)
{
    if (!out)
        return HR_EINVAL;
    *out = NULL;
    if (!env)
        return HR_EINVAL;
    hr_transport *t = hr__calloc(env, 1, sizeof *t);
    if (!t)
        return HR_ENOMEM;
    t->env = hr__env_ref(env);
    t->ops = ops;
    t->max_messages = DEFAULT_MAX_MESSAGES;
    t->max_bytes = DEFAULT_MAX_BYTES;
    t->next_seq = 1;
    *out = t;
    return HR_OK;
}

HR_API void hr_transport_free(hr_transport *t)
{
    if (!t)
        return;
    if (t->ops->destroy)
        t->ops->destroy(t);
    hr_transport_msg *m = t->head;
    while (m) {
        hr_transport_msg *next = m->next;
        hr_transport_msg_free(m);
        m = next;
    }
    hr_env *env = t->env;
    hr__free(env, t);
    hr__env_unref(env);
}

HR_API int hr_transport_kind(const hr_transport *t)
{
    return t ? t->ops->kind : 0;
}

HR_API int hr_transport_set_param(hr_transport *t, hr_transport_param param,
                                  int64_t value)
{
    if (!t)
        return HR_EINVAL;
    const param_spec *s = spec_of((int)param);
    if (!s)
        return hr__fail(&t->error, HR_EINVAL, "unknown transport parameter %d",
                        (int)param);
    if (value < s->min || value > s->max)
        return hr__fail(&t->error, HR_EINVAL,
                        "transport parameter %d: %lld outside %lld..%lld",
                        (int)param, (long long)value, (long long)s->min,
                        (long long)s->max);
    if (param == HR_TRANSPORT_PARAM_MAX_MESSAGES)
        t->max_messages = value;
    else
        t->max_bytes = value;
    return HR_OK;
}

HR_API int hr_transport_get_param(const hr_transport *t,
                                  hr_transport_param param, int64_t *value)
{
    if (!t || !value || !spec_of((int)param))
        return HR_EINVAL;
    *value = param == HR_TRANSPORT_PARAM_MAX_MESSAGES ? t->max_messages
                                                      : t->max_bytes;
    return HR_OK;
}

HR_API int hr_transport_writable(const hr_transport *t, size_t len)
{
    if (!t)
        return 0;
    if (t->queued_messages == 0)
        return 1;
    if ((int64_t)t->queued_messages >= t->max_messages)
        return 0;
    /* queued_bytes <= 2^40 + one message: no overflow in practice, but a
     * huge len must not wrap. */
    if (len > (size_t)t->max_bytes ||
        t->queued_bytes > (size_t)t->max_bytes - len)
        return 0;
    return 1;
}

/* 1..MAX_NAME bytes (a NUL ends the string, so none inside). */
static int name_ok(const char *s)
{
    if (!s)
        return 0;
    size_t n = strnlen(s, MAX_NAME + 1);
    return n >= 1 && n <= MAX_NAME;
}

static int check_meta(hr_transport *t, const hr_transport_meta *meta,
                      const uint8_t *data, size_t len)
{
    if (meta->size < META_MIN_SIZE)
        return hr__fail(&t->error, HR_EINVAL,
                        "meta->size %zu is smaller than the fields up to "
                        "flags (%zu)",
                        meta->size, (size_t)META_MIN_SIZE);
    if (!name_ok(meta->tenant_id))
        return hr__fail(&t->error, HR_EINVAL, "tenant id must be 1..%d bytes",
                        MAX_NAME);
    uint32_t f = meta->flags;
    if (f & ~HR_TRANSPORT_FLAGS_ALL)
        return hr__fail(&t->error, HR_EINVAL, "unknown message flags 0x%x",
                        (unsigned)(f & ~HR_TRANSPORT_FLAGS_ALL));
    if (!data && len > 0)
        return hr__fail(&t->error, HR_EINVAL, "NULL data with length %zu", len);
    if ((f & HR_TRANSPORT_COPY_DONE) && (f != HR_TRANSPORT_COPY_DONE || len))
        return hr__fail(&t->error, HR_EINVAL,
                        "COPY_DONE stands alone: no other flag, no bytes");
    if ((f & HR_TRANSPORT_ABORT) && (f != HR_TRANSPORT_ABORT || len))
        return hr__fail(&t->error, HR_EINVAL,
                        "ABORT stands alone: no other flag, no bytes");
    if (f & HR_TRANSPORT_COPY) {
        if (!META_HAS(meta, table_name) || !name_ok(meta->schema_name) ||
            !name_ok(meta->table_name))
            return hr__fail(&t->error, HR_EINVAL,
                            "a COPY message names its table (schema and "
                            "table, 1..%d bytes each)",
                            MAX_NAME);
    }
    return HR_OK;
}

HR_API int hr_transport_send(hr_transport *t, hr_transport_meta *meta,
                             const uint8_t *data, size_t len)
{
    if (!t)
        return HR_EINVAL;
    if (!meta)
        return hr__fail(&t->error, HR_EINVAL, "NULL meta");
    int rc = check_meta(t, meta, data, len);
    if (rc != HR_OK)
        return rc;
    if (!hr_transport_writable(t, len))
        return hr__fail(&t->error, HR_EAGAIN,
                        "queue full (%zu messages, %zu bytes queued)",
                        t->queued_messages, t->queued_bytes);

    const int copy = (meta->flags & HR_TRANSPORT_COPY) != 0;
    size_t tenant_len = strlen(meta->tenant_id) + 1;
    size_t schema_len = copy ? strlen(meta->schema_name) + 1 : 0;
    size_t table_len = copy ? strlen(meta->table_name) + 1 : 0;
    size_t total =
        sizeof(hr_transport_msg) + tenant_len + schema_len + table_len + len;
    if (total < len)
        return hr__fail(&t->error, HR_EINVAL, "message too large");
    hr_transport_msg *m = hr__malloc(t->env, total);
    if (!m)
        return hr__fail(&t->error, HR_ENOMEM,
                        "out of memory for a %zu-byte message", len);
    memset(m, 0, sizeof *m);
    char *p = (char *)(m + 1);
    memcpy(p, meta->tenant_id, tenant_len);
    m->tenant_id = p;
    p += tenant_len;
    if (copy) {
        memcpy(p, meta->schema_name, schema_len);
        m->schema_name = p;
        p += schema_len;
        memcpy(p, meta->table_name, table_len);
        m->table_name = p;
        p += table_len;
    }
    if (len)
        memcpy(p, data, len);
    m->data = (const uint8_t *)p;
    m->len = len;
    m->flags = meta->flags;
    m->lsn = META_HAS(meta, lsn) ? meta->lsn : 0;
    m->commit_time = META_HAS(meta, commit_time) ? meta->commit_time : 0;
    m->idempotent_until =
        META_HAS(meta, idempotent_until) ? meta->idempotent_until : 0;
    m->seq = t->next_seq++;
    m->env = hr__env_ref(t->env);
    if (t->tail)
        t->tail->next = m;
    else
        t->head = m;
    t->tail = m;
    t->queued_messages++;
    t->queued_bytes += len;
    t->sent_messages++;
    t->sent_bytes += len;
    if (META_HAS(meta, seq))
        meta->seq = m->seq;
    hr__error_clear(&t->error);
    return HR_OK;
}

HR_API int hr_transport_recv(hr_transport *t, hr_transport_msg **out)
{
    if (out)
        *out = NULL;
    if (!t)
        return HR_EINVAL;
    if (!out)
        return hr__fail(&t->error, HR_EINVAL, "NULL out");
    hr_transport_msg *m = t->head;
    if (!m)
        return HR_EAGAIN;
    t->head = m->next;
    if (!t->head)
        t->tail = NULL;
    m->next = NULL;
    t->queued_messages--;
    t->queued_bytes -= m->len;
    *out = m;
    return HR_OK;
}

HR_API void hr_transport_msg_free(hr_transport_msg *m)
{
    if (!m)
        return;
    hr_env *env = m->env;
    hr__free(env, m);
    hr__env_unref(env);
}

HR_API int hr_transport_msg_meta(const hr_transport_msg *m,
                                 hr_transport_meta *meta)
{
    if (!m || !meta || meta->size < META_MIN_SIZE)
        return HR_EINVAL;
    meta->tenant_id = m->tenant_id;
    meta->flags = m->flags;
    if (META_HAS(meta, lsn))
        meta->lsn = m->lsn;
    if (META_HAS(meta, commit_time))
        meta->commit_time = m->commit_time;
    if (META_HAS(meta, schema_name))
        meta->schema_name = m->schema_name;
    if (META_HAS(meta, table_name))
        meta->table_name = m->table_name;
    if (META_HAS(meta, idempotent_until))
        meta->idempotent_until = m->idempotent_until;
    if (META_HAS(meta, seq))
        meta->seq = m->seq;
    return HR_OK;
}

HR_API const uint8_t *hr_transport_msg_data(const hr_transport_msg *m,
                                            size_t *len)
{
    if (len)
        *len = m ? m->len : 0;
    return m ? m->data : NULL;
}

HR_API int hr_transport_fd(const hr_transport *t)
{
    return t ? t->ops->fd(t) : -1;
}

HR_API int hr_transport_interest(const hr_transport *t)
{
    return t ? t->ops->interest(t) : 0;
}

HR_API int64_t hr_transport_timeout_ms(const hr_transport *t, uint64_t now_ns)
{
    return t ? t->ops->timeout_ms(t, now_ns) : -1;
}

HR_API int hr_transport_step(hr_transport *t, uint64_t now_ns)
{
    if (!t)
        return HR_EINVAL;
    return t->ops->step(t, now_ns);
}

HR_API void hr_transport_stats(const hr_transport *t, uint64_t *sent_messages,
                               uint64_t *sent_bytes, size_t *queued_messages,
                               size_t *queued_bytes)
{
    if (sent_messages)
        *sent_messages = t ? t->sent_messages : 0;
    if (sent_bytes)
        *sent_bytes = t ? t->sent_bytes : 0;
    if (queued_messages)
        *queued_messages = t ? t->queued_messages : 0;
    if (queued_bytes)
        *queued_bytes = t ? t->queued_bytes : 0;
}

HR_API const char *hr_transport_errmsg(const hr_transport *t)
{
    return t ? t->error.message : "no transport (NULL hr_transport)";
}
