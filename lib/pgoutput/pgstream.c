/*
 * pgstream.c - protocol 2 streamed transactions: Stream Start / Stop open and
 * close segments of one of several open transactions; Stream Commit delivers
 * it whole, Stream Abort drops it or one of its subtransactions.
 */
#include <inttypes.h>

#include "pgoutput_internal.h"

static size_t find_stream(const hr_pgdecoder *d, uint32_t xid)
{
    for (size_t i = 0; i < d->nstreams; i++)
        if (d->streams[i]->xid == xid)
            return i;
    return HR__PG_NONE;
}

static hr_pgtxn *take_stream(hr_pgdecoder *d, size_t i)
{
    hr_pgtxn *t = d->streams[i];
    d->streams[i] = d->streams[--d->nstreams];
    return t;
}

void hr__pg_streams_drop(hr_pgdecoder *d)
{
    while (d->nstreams)
        hr__pgtxn_release(d, take_stream(d, d->nstreams - 1));
}

static int outside_block(hr_pgdecoder *d)
{
    if (!d->stream)
        return HR_OK;
    return hr__pg_protofail(d, 0,
                            "inside the stream block of transaction %" PRIu32
                            " (no Stream Stop)",
                            d->stream->xid);
}

static int read_xid(hr_pgdecoder *d, hr__pgin *in, const char *field,
                    uint32_t *xid)
{
    const size_t at = in->pos;
    int rc = hr__pgin_u32(d, in, field, xid);
    if (rc == HR_OK && *xid == 0)
        return hr__pg_protofail(d, at, "invalid %s 0", field);
    return rc;
}

int hr__pg_stream_start(hr_pgdecoder *d, hr__pgin *in)
{
    uint32_t xid;
    uint8_t first;
    int rc;
    if ((rc = outside_block(d)) != HR_OK)
        return rc;
    if (d->txn)
        return hr__pg_protofail(
            d, 0, "transaction %" PRIu32 " has not committed", d->txn->xid);
    if ((rc = read_xid(d, in, "transaction ID", &xid)) != HR_OK)
        return rc;
    const size_t at = in->pos;
    if ((rc = hr__pgin_u8(d, in, "first-segment flag", &first)) != HR_OK)
        return rc;
    if (first > 1)
        return hr__pg_protofail(d, at, "first-segment flag 0x%02x", first);
    if ((rc = hr__pgin_end(d, in)) != HR_OK)
        return rc;
    const size_t i = find_stream(d, xid);
    if (!first) {
        if (i == HR__PG_NONE)
            return hr__pg_protofail(
                d, 1, "transaction %" PRIu32 " has had no first segment", xid);
        d->stream = d->streams[i];
        return HR_OK;
    }
    if (i != HR__PG_NONE)
        return hr__pg_protofail(d, 1,
                                "first segment of transaction %" PRIu32
                                ", which is already open",
                                xid);
    if (d->nstreams == d->streams_cap) {
        size_t cap = d->streams_cap ? d->streams_cap * 2 : 8;
        hr_pgtxn **s = hr__realloc(d->env, d->streams, cap * sizeof *s);
        if (!s)
            return hr__pg_nomem(d, "opening a streamed transaction");
        d->streams = s;
        d->streams_cap = cap;
    }
    hr_pgtxn *t = hr__pgtxn_acquire(d, xid, 1);
    if (!t)
        return hr__pg_nomem(d, "opening a streamed transaction");
    d->streams[d->nstreams++] = t;
    d->stream = t;
    return HR_OK;
}

int hr__pg_stream_stop(hr_pgdecoder *d, hr__pgin *in)
{
    if (!d->stream)
        return hr__pg_protofail(d, 0, "no stream block is open");
    int rc = hr__pgin_end(d, in);
    if (rc != HR_OK)
        return rc;
    d->stream = NULL;
    return HR_OK;
}

int hr__pg_stream_commit(hr_pgdecoder *d, hr__pgin *in)
{
    uint32_t xid;
    uint8_t flags;
    uint64_t commit_lsn, end_lsn, commit_time;
    int rc;
    if ((rc = outside_block(d)) != HR_OK ||
        (rc = read_xid(d, in, "transaction ID", &xid)) != HR_OK)
        return rc;
    const size_t at = in->pos;
    if ((rc = hr__pgin_u8(d, in, "flags", &flags)) != HR_OK)
        return rc;
    if (flags)
        return hr__pg_protofail(d, at, "flags 0x%02x, expected 0", flags);
    if ((rc = hr__pgin_u64(d, in, "commit LSN", &commit_lsn)) ||
        (rc = hr__pgin_u64(d, in, "end LSN", &end_lsn)) ||
        (rc = hr__pgin_u64(d, in, "commit time", &commit_time)) ||
        (rc = hr__pgin_end(d, in)))
        return rc;
    const size_t i = find_stream(d, xid);
    if (i == HR__PG_NONE)
        return hr__pg_protofail(
            d, 1, "transaction %" PRIu32 " was never started", xid);
    hr_pgtxn *t = take_stream(d, i);
    t->commit_lsn = t->final_lsn = commit_lsn;
    t->end_lsn = end_lsn;
    t->commit_time = (int64_t)commit_time;
    return hr__pg_deliver(d, t);
}

int hr__pg_stream_abort(hr_pgdecoder *d, hr__pgin *in)
{
    uint32_t xid, subxid;
    int rc;
    if ((rc = outside_block(d)) != HR_OK ||
        (rc = read_xid(d, in, "transaction ID", &xid)) ||
        (rc = read_xid(d, in, "subtransaction ID", &subxid)) ||
        (rc = hr__pgin_end(d, in)))
        return rc;
    const size_t i = find_stream(d, xid);
    if (i == HR__PG_NONE)
        return hr__pg_protofail(
            d, 1, "transaction %" PRIu32 " was never started", xid);
    if (subxid == xid)
        hr__pgtxn_release(d, take_stream(d, i));
    else
        hr__pgtxn_abort_sub(d->streams[i], subxid);
    return HR_OK;
}
