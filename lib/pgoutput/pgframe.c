/*
 * pgframe.c - the replication stream's CopyData payloads: XLogData ('w')
 * carries one pgoutput message, a primary keepalive ('k') the server's WAL
 * end and clock.
 */
#include <string.h>

#include "pgoutput_internal.h"

#define XLOGDATA_HEADER 25 /* 'w', Int64 start, Int64 end, Int64 send time */

/* Common entry checks; HR_OK to go on. */
static int can_feed(hr_pgdecoder *d, const void *p, size_t len)
{
    if (!p && len)
        return hr__fail(&d->error, HR_EINVAL, "NULL payload of %zu bytes", len);
    if (d->in_callback) /* the transaction being delivered would be lost */
        return hr__fail(&d->error, HR_ESTATE,
                        "hr_pgdecoder_feed called from a decoder callback");
    if (!d->failed)
        return HR_OK;
    if (d->error.code != HR_ESTATE) {
        char was[HR__ERRMSG_MAX];
        memcpy(was, d->error.message, sizeof was);
        was[sizeof was - 1] = 0;
        hr__fail(&d->error, HR_ESTATE,
                 "fed after a failure without hr_pgdecoder_reset (%.400s)",
                 was);
    }
    return HR_ESTATE;
}

static void saw_wal_end(hr_pgdecoder *d, uint64_t end)
{
    if (end > d->wal_end)
        d->wal_end = end;
}

static int keepalive(hr_pgdecoder *d, hr__pgin *in)
{
    uint64_t end, time;
    uint8_t reply;
    int rc;
    if ((rc = hr__pgin_u64(d, in, "WAL end", &end)) ||
        (rc = hr__pgin_u64(d, in, "server time", &time)))
        return rc;
    const size_t at = in->pos;
    if ((rc = hr__pgin_u8(d, in, "reply flag", &reply)) != HR_OK)
        return rc;
    if (reply > 1)
        return hr__pg_protofail(d, at, "reply flag 0x%02x", reply);
    if ((rc = hr__pgin_end(d, in)) != HR_OK)
        return rc;
    saw_wal_end(d, end);
    if (d->cb.on_keepalive) {
        d->in_callback = 1;
        rc = d->cb.on_keepalive(d->cb.ctx, end, (int64_t)time, reply);
        d->in_callback = 0;
        if (rc != HR_OK)
            return hr__fail(&d->error, rc, "on_keepalive returned %d", rc);
    }
    return HR_OK;
}

HR_API int hr_pgdecoder_feed(hr_pgdecoder *d, const uint8_t *payload,
                             size_t len)
{
    if (!d)
        return HR_EINVAL;
    int rc = can_feed(d, payload, len);
    if (rc != HR_OK)
        return rc;
    d->msg_base = 0;
    d->msg_lsn = 0;
    d->msg_name = "CopyData";
    if (len == 0)
        return hr__pg_protofail(d, 0, "empty payload");
    hr__pgin in = {payload, len, 1};
    switch (payload[0]) {
    case 'w': {
        uint64_t start, end, time;
        d->msg_name = "XLogData";
        if ((rc = hr__pgin_u64(d, &in, "WAL start", &start)) ||
            (rc = hr__pgin_u64(d, &in, "WAL end", &end)) ||
            (rc = hr__pgin_u64(d, &in, "send time", &time)))
            return rc;
        saw_wal_end(d, end);
        return hr__pg_message(d, payload + XLOGDATA_HEADER,
                              len - XLOGDATA_HEADER, XLOGDATA_HEADER, start);
    }
    case 'k':
        d->msg_name = "keepalive";
        return keepalive(d, &in);
    default:
        return hr__pg_protofail(d, 0, "unknown type 0x%02x (not 'w' or 'k')",
                                payload[0]);
    }
}

HR_API int hr_pgdecoder_feed_message(hr_pgdecoder *d, uint64_t lsn,
                                     const uint8_t *message, size_t len)
{
    if (!d)
        return HR_EINVAL;
    int rc = can_feed(d, message, len);
    if (rc != HR_OK)
        return rc;
    return hr__pg_message(d, message, len, 0, lsn);
}
