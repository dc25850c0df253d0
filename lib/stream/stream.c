/* stream.c - the stream handle: lifetime, tenants, what to wait for, the
 * phase, step, confirms, the snapshot. */
#include <string.h>

#include "stream_internal.h"

/* Calls a callback may not make (only hr_stream_confirm is allowed). */
static int reentered(hr_stream *s, const char *what)
{
    return s->in_callback
               ? hr__fail(&s->error, HR_ESTATE,
                          "%s called from inside a stream callback", what)
               : HR_OK;
}

HR_API int hr_stream_new(hr_env *env, const hr_stream_opts *opts,
                         const hr_stream_callbacks *callbacks, hr_stream **out)
{
    if (!out)
        return HR_EINVAL;
    *out = NULL;
    if (!env)
        return HR_EINVAL;
    /* Failures are the env's to report: the options stay untouched. */
    hr__error *err = &env->error;
    if (!opts || !callbacks)
        return hr__fail(err, HR_EINVAL, "NULL %s",
                        !opts ? "options" : "callbacks");
    if (callbacks->version != HR_STREAM_CALLBACKS_VERSION)
        return hr__fail(err, HR_EINVAL,
                        "stream callbacks version %u, this library knows %u",
                        callbacks->version,
                        (unsigned)HR_STREAM_CALLBACKS_VERSION);
    if (!callbacks->on_txn)
        return hr__fail(err, HR_EINVAL, "stream callbacks need on_txn");
    hr_stream_opts *cfg = NULL;
    int rc = hr__stream_opts_resolve(opts, &cfg, err);
    if (rc != HR_OK)
        return rc;
    hr_stream *s = hr__calloc(env, 1, sizeof *s);
    if (!s) {
        hr_stream_opts_free(cfg);
        return hr__fail(err, HR_ENOMEM, "out of memory");
    }
    s->env = hr__env_ref(env);
    s->cfg = cfg;
    s->cb = *callbacks;
    s->backoff_ns = HR__BACKOFF_FIRST_NS;
    s->state = HR__ST_IDLE;
    s->held = cfg->hold_start;
    hr_pgdecoder_callbacks dcb = hr__demux_callbacks(s);
    rc = hr_pgdecoder_new(env, &dcb, &s->dec);
    if (rc == HR_OK && cfg->mode == HR_STREAM_DEDICATED) {
        hr__tenant *t;
        rc = hr__tenants_add(env, &s->tenants, cfg->tenant, strlen(cfg->tenant),
                             &t);
        if (rc == HR_OK)
            t->confirmed = t->delivered = cfg->start_lsn;
    }
    if (rc != HR_OK) {
        hr_stream_free(s);
        return hr__fail(err, rc, "out of memory");
    }
    *out = s;
    return HR_OK;
}

HR_API void hr_stream_free(hr_stream *s)
{
    if (!s)
        return;
    hr_env *env = s->env;
    if (s->dec)
        hr__stream_close(s);
    hr_pgdecoder_free(s->dec);
    hr__tenants_free(env, &s->tenants);
    hr__free(env, s->snapshot_name);
    hr__free(env, s->relcols);
    hr__free(env, s->chg);
    hr__free(env, s->owner);
    hr__free(env, s->touched);
    hr_stream_opts_free(s->cfg);
    hr__free(env, s);
    hr__env_unref(env);
}

/* ---- tenants ---- */

HR_API int hr_stream_add_tenant(hr_stream *s, const char *tenant_id,
                                uint64_t confirmed_lsn)
{
    if (!s)
        return HR_EINVAL;
    if (reentered(s, "hr_stream_add_tenant"))
        return HR_ESTATE;
    if (s->cfg->mode != HR_STREAM_SHARED)
        return hr__fail(&s->error, HR_EINVAL,
                        "a dedicated stream has its one tenant");
    size_t len = tenant_id ? strlen(tenant_id) : 0;
    if (!hr__tenant_id_valid(tenant_id, len))
        return hr__fail(&s->error, HR_EINVAL,
                        "tenant id must be 1..%d bytes of [A-Za-z0-9_.-]",
                        HR__TENANT_ID_MAX);
    if (hr__tenants_find(&s->tenants, tenant_id, len))
        return hr__fail(&s->error, HR_EINVAL, "tenant %s is already added",
                        tenant_id);
    hr__tenant *t;
    int rc = hr__tenants_add(s->env, &s->tenants, tenant_id, len, &t);
    if (rc != HR_OK)
        return hr__fail(&s->error, rc, "cannot add tenant %s: %s", tenant_id,
                        hr_strerror(rc));
    if (confirmed_lsn) {
        t->confirmed = t->delivered = confirmed_lsn;
    } else if (s->start_lsn_used || s->position) {
        /* From the current position: what was decoded is not its. */
        uint64_t p =
            s->position > s->start_lsn_used ? s->position : s->start_lsn_used;
        t->confirmed = t->delivered = p;
    } else {
        t->fresh = 1; /* from wherever the stream starts */
    }
    return HR_OK;
}

HR_API int hr_stream_remove_tenant(hr_stream *s, const char *tenant_id)
{
    if (!s)
        return HR_EINVAL;
    if (reentered(s, "hr_stream_remove_tenant"))
        return HR_ESTATE;
    if (s->cfg->mode != HR_STREAM_SHARED)
        return hr__fail(&s->error, HR_EINVAL,
                        "a dedicated stream's tenant cannot be removed");
    if (!tenant_id ||
        hr__tenants_remove(s->env, &s->tenants, tenant_id) != HR_OK)
        return hr__fail(&s->error, HR_ENOTFOUND, "no tenant %s",
                        tenant_id ? tenant_id : "(NULL)");
    return HR_OK;
}

/* ---- what to wait for ---- */

HR_API int hr_stream_fd(const hr_stream *s)
{
    if (!s)
        return -1;
    return hr__pgc_fd(&s->repl);
}

HR_API int hr_stream_interest(const hr_stream *s)
{
    if (!s || hr__pgc_fd(&s->repl) < 0)
        return 0;
    return hr__pgc_interest(&s->repl) | (s->status_blocked ? HR_POLL_OUT : 0);
}

HR_API int hr_stream_fds(const hr_stream *s, int *fds, int *interests, int max)
{
    if (!s || max < 0 || (max > 0 && (!fds || !interests)))
        return HR_EINVAL;
    /* From now on the host sees the heartbeat socket: no polling steps. */
    ((hr_stream *)(uintptr_t)s)->fds_watched = 1;
    int n = 0;
    int fd = hr_stream_fd(s);
    if (fd >= 0) {
        if (n < max) {
            fds[n] = fd;
            interests[n] = hr_stream_interest(s);
        }
        n++;
    }
    fd = hr__pgc_fd(&s->hb);
    if (fd >= 0 && hr__pgc_in_flight(&s->hb)) {
        if (n < max) {
            fds[n] = fd;
            interests[n] = hr__pgc_interest(&s->hb);
        }
        n++;
    }
    return n;
}

HR_API int64_t hr_stream_timeout_ms(const hr_stream *s, uint64_t now_ns)
{
    if (!s)
        return -1;
    uint64_t d = 0;
    switch (s->state) {
    case HR__ST_IDLE:
        if (s->snap != HR__SNAP_LOST)
            d = s->reconnect_at ? s->reconnect_at : HR__DEADLINE_NOW;
        break;
    case HR__ST_CONNECTING:
        /* +1: the attempt is given up once strictly past the limit */
        d = s->connect_started + HR__CONNECT_TIMEOUT_NS + 1;
        break;
    case HR__ST_SNAPSHOT:
        if (s->snap == HR__SNAP_RELEASED)
            d = HR__DEADLINE_NOW;
        break;
    case HR__ST_HELD:
        if (!s->held) /* the tenant moved in: start at once */
            d = HR__DEADLINE_NOW;
        break;
    default:
        break;
    }
    d = hr__deadline_min(d, hr__feedback_deadline(s));
    d = hr__deadline_min(d, hr__heartbeat_deadline(s));
    if (!d)
        return -1;
    if (d == HR__DEADLINE_NOW)
        return 0;
    return hr__ms_until(d, now_ns);
}

HR_API int hr_stream_phase(const hr_stream *s)
{
    if (!s)
        return HR_STREAM_PHASE_CLOSED;
    switch (s->state) {
    case HR__ST_IDLE:
        if (s->snap == HR__SNAP_LOST)
            return HR_STREAM_PHASE_SNAPSHOT_HELD; /* waits for the release */
        return s->reconnect_at ? HR_STREAM_PHASE_BACKOFF : HR_STREAM_PHASE_IDLE;
    case HR__ST_CONNECTING:
        return HR_STREAM_PHASE_CONNECTING;
    case HR__ST_SNAPSHOT:
        if (s->snap == HR__SNAP_HELD)
            return HR_STREAM_PHASE_SNAPSHOT_HELD;
        return HR_STREAM_PHASE_SETUP; /* released: starting */
    case HR__ST_HELD:
        return s->held ? HR_STREAM_PHASE_HELD : HR_STREAM_PHASE_SETUP;
    case HR__ST_STREAMING:
        return HR_STREAM_PHASE_STREAMING;
    case HR__ST_CLOSED:
        return HR_STREAM_PHASE_CLOSED;
    default:
        return HR_STREAM_PHASE_SETUP;
    }
}

/* ---- step ---- */

HR_API int hr_stream_step(hr_stream *s, uint64_t now_ns)
{
    if (!s)
        return HR_EINVAL;
    if (reentered(s, "hr_stream_step"))
        return HR_ESTATE;
    s->now = now_ns;
    int rc = HR_OK;
    /* Each pass moves one state along; a few passes finish what is ready
     * (e.g. connected -> probe sent) without waiting for the host's loop. */
    for (int pass = 0; pass < 16; pass++) {
        int progressed = 0;
        rc = hr__stream_advance(s, &progressed);
        if (rc != HR_OK || !progressed)
            break;
    }
    hr__heartbeat_step(s);
    return rc;
}

/* ---- confirms ---- */

static hr__tenant *tenant_of(hr_stream *s, const char *tenant_id, int *rc)
{
    *rc = HR_OK;
    if (s->cfg->mode == HR_STREAM_DEDICATED) {
        hr__tenant *t = s->tenants.v[0];
        if (tenant_id && strcmp(tenant_id, t->id) != 0) {
            *rc = HR_ENOTFOUND;
            return NULL;
        }
        return t;
    }
    if (!tenant_id) {
        *rc = HR_EINVAL;
        return NULL;
    }
    hr__tenant *t = hr__tenants_find(&s->tenants, tenant_id, strlen(tenant_id));
    if (!t)
        *rc = HR_ENOTFOUND;
    return t;
}

HR_API int hr_stream_confirm(hr_stream *s, const char *tenant_id, uint64_t lsn)
{
    if (!s)
        return HR_EINVAL;
    int rc;
    hr__tenant *t = tenant_of(s, tenant_id, &rc);
    if (!t)
        return rc == HR_EINVAL
                   ? hr__fail(&s->error, rc,
                              "a shared stream's confirm "
                              "names its tenant")
                   : hr__fail(&s->error, rc, "no tenant %s", tenant_id);
    if (lsn > t->confirmed) {
        t->confirmed = lsn;
        if (t->fresh) /* a checkpoint before the start: it is the start */
            t->fresh = 0;
    }
    if (t->delivered < t->confirmed)
        t->delivered = t->confirmed;
    return HR_OK;
}

HR_API uint64_t hr_stream_confirmed_lsn(const hr_stream *s,
                                        const char *tenant_id)
{
    if (!s)
        return 0;
    if (!tenant_id)
        return hr__slot_confirm(s);
    int rc;
    hr__tenant *t = tenant_of((hr_stream *)(uintptr_t)s, tenant_id, &rc);
    return t ? hr__tenant_effective(s, t) : 0;
}

/* ---- snapshot ---- */

HR_API const char *hr_stream_snapshot_name(const hr_stream *s)
{
    return s && s->snap == HR__SNAP_HELD ? s->snapshot_name : NULL;
}

HR_API uint64_t hr_stream_consistent_lsn(const hr_stream *s)
{
    return s ? s->consistent_lsn : 0;
}

HR_API int hr_stream_release_snapshot(hr_stream *s)
{
    if (!s)
        return HR_EINVAL;
    if (reentered(s, "hr_stream_release_snapshot"))
        return HR_ESTATE;
    switch (s->snap) {
    case HR__SNAP_HELD:
        s->snap = HR__SNAP_RELEASED; /* step sends START_REPLICATION */
        return HR_OK;
    case HR__SNAP_LOST:
        s->snap = HR__SNAP_NONE; /* reconnect now and stream from the slot */
        hr__free(s->env, s->snapshot_name);
        s->snapshot_name = NULL;
        s->reconnect_at = 0;
        return HR_OK;
    default:
        return hr__fail(&s->error, HR_ESTATE, "no snapshot is held");
    }
}

HR_API const char *hr_stream_errmsg(const hr_stream *s)
{
    return s ? s->error.message : "no stream (NULL)";
}
