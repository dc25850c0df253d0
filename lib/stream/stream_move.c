/*
 * stream_move.c - moving a tenant that lags from a shared stream to a
 * dedicated one, and what a host needs to decide it: the tenant's lag and
 * where a slot starts.
 *
 * Why the move waits. A new slot starts at its consistent point C: it sends
 * every transaction that ends after C and none that ends before. The
 * tenant's changes between its confirm and C exist only in the shared slot
 * (which keeps them, being confirmed to the minimum over its tenants). So
 * the tenant stays on the shared stream until what it durably applied
 * (its effective confirm E) reaches C; from then on the dedicated slot has
 * everything after E. Handing over at E and skipping on the dedicated
 * stream what the shared one already handed over (the tenant's `delivered`)
 * gives neither a gap nor a duplicate; and since E >= C, the host's
 * checkpoint is a valid start_lsn for the dedicated slot after any crash.
 *
 * Both positions are record boundaries (commit end LSNs, keepalive WAL
 * ends, heartbeat LSNs), so "ends after E" on the server (which starts
 * decoding at E) and in the stream's skip (end > delivered) agree.
 */
#include <string.h>

#include "stream_internal.h"

HR_API uint64_t hr_stream_slot_lsn(const hr_stream *s)
{
    return s && s->slot_seen ? s->slot_floor : 0;
}

HR_API int64_t hr_stream_tenant_lag_bytes(const hr_stream *s,
                                          const char *tenant_id)
{
    if (!s)
        return HR_EINVAL;
    const hr__tenant *t;
    if (s->cfg->mode == HR_STREAM_DEDICATED) {
        t = s->tenants.v[0];
        if (tenant_id && strcmp(tenant_id, t->id) != 0)
            return HR_ENOTFOUND;
    } else {
        if (!tenant_id)
            return HR_EINVAL;
        t = hr__tenants_find(&s->tenants, tenant_id, strlen(tenant_id));
        if (!t)
            return HR_ENOTFOUND;
    }
    if (t->fresh)
        return 0;
    uint64_t head = hr_pgdecoder_wal_end(s->dec);
    if (s->position > head)
        head = s->position;
    uint64_t at = hr__tenant_effective(s, t);
    if (head <= at)
        return 0;
    uint64_t lag = head - at;
    return lag > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)lag;
}

HR_API int hr_stream_move_tenant(hr_stream *from, const char *tenant_id,
                                 hr_stream *to)
{
    if (!from)
        return HR_EINVAL;
    hr__error *err = &from->error;
    if (!to || to == from || !tenant_id)
        return hr__fail(err, HR_EINVAL,
                        "a move needs a tenant and two distinct streams");
    if (from->in_callback || to->in_callback)
        return hr__fail(err, HR_ESTATE,
                        "hr_stream_move_tenant called from inside a stream "
                        "callback");
    if (from->cfg->mode != HR_STREAM_SHARED ||
        to->cfg->mode != HR_STREAM_DEDICATED)
        return hr__fail(err, HR_EINVAL,
                        "a tenant moves from a shared stream to a dedicated "
                        "one");
    if (strcmp(to->cfg->tenant, tenant_id) != 0)
        return hr__fail(err, HR_EINVAL,
                        "stream %s is dedicated to tenant %s, not %s",
                        to->cfg->slot, to->cfg->tenant, tenant_id);
    hr__tenant *t =
        hr__tenants_find(&from->tenants, tenant_id, strlen(tenant_id));
    if (!t)
        return hr__fail(err, HR_ENOTFOUND, "no tenant %s on stream %s",
                        tenant_id, from->cfg->slot);
    if (!to->held)
        return hr__fail(err, HR_ESTATE,
                        "stream %s %s: a tenant moves only to a stream made "
                        "with hold_start that has not started",
                        to->cfg->slot,
                        to->cfg->hold_start ? "took its tenant already"
                                            : "was not made with hold_start");
    if (to->state == HR__ST_CLOSED)
        return hr__fail(err, HR_ESTATE,
                        "stream %s is closed (%s): the tenant stays here",
                        to->cfg->slot, to->closed.message);
    if (!to->slot_seen)
        return hr__fail(err, HR_EAGAIN,
                        "stream %s has not set up its slot yet: step it until "
                        "its phase is HELD",
                        to->cfg->slot);
    uint64_t at = t->fresh ? 0 : hr__tenant_effective(from, t);
    if (at < to->slot_floor) {
        char a[24], c[24];
        hr__lsn_format(at, a);
        hr__lsn_format(to->slot_floor, c);
        return hr__fail(err, HR_EAGAIN,
                        "tenant %s is confirmed to %s on stream %s; slot %s "
                        "starts at %s: keep streaming and confirming",
                        tenant_id, a, from->cfg->slot, to->cfg->slot, c);
    }
    hr__tenant *d = to->tenants.v[0];
    d->fresh = 0;
    d->confirmed = at;
    d->delivered = t->delivered > at ? t->delivered : at;
    char a[24];
    hr__lsn_format(at, a);
    hr__log(from->env, HR_LOG_INFO,
            "stream %s: tenant %s moves to stream %s from %s", from->cfg->slot,
            tenant_id, to->cfg->slot, a);
    /* Cannot fail: the tenant is there. */
    hr__tenants_remove(from->env, &from->tenants, tenant_id);
    /* The shared slot may advance now: tell the server soon. */
    if (hr__slot_confirm(from) > from->flush_sent)
        from->status_now = 1;
    to->held = 0;
    hr__error_clear(err);
    return HR_OK;
}
