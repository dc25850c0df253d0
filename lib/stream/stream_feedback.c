/*
 * stream_feedback.c - standby status updates and the timer arithmetic.
 *
 * A status update ('r') reports write = the WAL end the server last told
 * us of, flush = apply = what the slot may be confirmed to: the minimum
 * effective confirm over the tenants (see stream_internal.h), never lower
 * than the slot's confirmed_flush_lsn at connect and never lower than what
 * was reported before. It goes out when the server asks (keepalive with the
 * reply flag) and at least every status_interval_ms.
 */
#include <string.h>

#include "stream_internal.h"

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

void hr__status_encode(uint8_t out[HR__STATUS_UPDATE_LEN], uint64_t write,
                       uint64_t flush, uint64_t apply, int64_t pg_time_us,
                       int reply)
{
    out[0] = 'r';
    put_be64(out + 1, write);
    put_be64(out + 9, flush);
    put_be64(out + 17, apply);
    put_be64(out + 25, (uint64_t)pg_time_us);
    out[33] = reply ? 1 : 0;
}

int64_t hr__ms_until(uint64_t deadline_ns, uint64_t now_ns)
{
    if (deadline_ns <= now_ns)
        return 0;
    uint64_t d = deadline_ns - now_ns;
    /* Round up: waking a little late is harmless, waking early spins. */
    uint64_t ms = d / HR__NS_PER_MS + (d % HR__NS_PER_MS != 0);
    return ms > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)ms;
}

uint64_t hr__deadline_min(uint64_t a, uint64_t b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    return a < b ? a : b;
}

uint64_t hr__tenant_effective(const hr_stream *s, const hr__tenant *t)
{
    if (t->fresh)
        return 0;
    if (t->delivered <= t->confirmed && s->position > t->confirmed)
        return s->position;
    return t->confirmed;
}

uint64_t hr__slot_confirm(const hr_stream *s)
{
    uint64_t m = UINT64_MAX;
    for (size_t i = 0; i < s->tenants.n; i++) {
        const hr__tenant *t = s->tenants.v[i];
        if (t->fresh) /* starts where the stream starts: not below it */
            continue;
        uint64_t e = hr__tenant_effective(s, t);
        if (e < m)
            m = e;
    }
    if (m == UINT64_MAX) /* no tenant: what was decoded is nobody's */
        m = s->position;
    return m > s->slot_floor ? m : s->slot_floor;
}

static int64_t pg_now_us(const hr_stream *s)
{
    uint64_t wall_us = hr_env_wall_ns(s->env) / 1000u;
    return (int64_t)wall_us - HR__PG_EPOCH_OFFSET_US;
}

int hr__feedback_step(hr_stream *s)
{
    hr__pgc *c = &s->repl;
    if (c->flush_pending && hr__pgc_flush(c) != HR_OK)
        return HR_EIO;
    if (!s->status_now && !s->status_blocked && s->now < s->next_status_at)
        return HR_OK;
    uint64_t flush = hr__slot_confirm(s);
    if (flush < s->flush_sent)
        flush = s->flush_sent;
    uint64_t write = hr_pgdecoder_wal_end(s->dec);
    if (write < flush)
        write = flush;
    uint8_t msg[HR__STATUS_UPDATE_LEN];
    hr__status_encode(msg, write, flush, flush, pg_now_us(s), 0);
    int r = PQputCopyData(c->conn, (const char *)msg, (int)sizeof msg);
    if (r < 0) {
        hr__pgc_note(c, "cannot send a status update");
        return HR_EIO;
    }
    if (r == 0) {
        /* libpq's buffer is full and the socket would block: retry once it
         * is writable. */
        s->status_blocked = 1;
        c->flush_pending = 1;
        return HR_OK;
    }
    s->status_blocked = 0;
    s->status_now = 0;
    s->flush_sent = flush;
    s->next_status_at =
        s->now + (uint64_t)s->cfg->status_interval_ms * HR__NS_PER_MS;
    return hr__pgc_flush(c);
}

uint64_t hr__feedback_deadline(const hr_stream *s)
{
    if (s->state != HR__ST_STREAMING)
        return 0;
    if (s->more_pending || s->status_now)
        return HR__DEADLINE_NOW;
    return s->next_status_at ? s->next_status_at : HR__DEADLINE_NOW;
}
