/*
 * pgmessage.c - one pgoutput message: dispatch on its type, the transaction
 * frame (Begin, Commit, Origin) and delivery of committed transactions.
 */
#include <inttypes.h>

#include "pgoutput_internal.h"

static const char *message_name(uint8_t type)
{
    switch (type) {
    case 'B':
        return "Begin";
    case 'C':
        return "Commit";
    case 'O':
        return "Origin";
    case 'R':
        return "Relation";
    case 'Y':
        return "Type";
    case 'I':
        return "Insert";
    case 'U':
        return "Update";
    case 'D':
        return "Delete";
    case 'T':
        return "Truncate";
    case 'M':
        return "Message";
    case 'S':
        return "Stream Start";
    case 'E':
        return "Stream Stop";
    case 'c':
        return "Stream Commit";
    case 'A':
        return "Stream Abort";
    default:
        return NULL;
    }
}

int hr__pg_deliver(hr_pgdecoder *d, hr_pgtxn *t)
{
    int rc = HR_OK;
    if (d->cb.on_txn) {
        d->in_callback = 1;
        rc = d->cb.on_txn(d->cb.ctx, t);
        d->in_callback = 0;
    }
    hr__pgtxn_release(d, t);
    if (rc != HR_OK)
        return hr__fail(&d->error, rc, "on_txn returned %d", rc);
    return HR_OK;
}

static int begin_msg(hr_pgdecoder *d, hr__pgin *in)
{
    uint64_t final_lsn, commit_time;
    uint32_t xid;
    int rc;
    if (d->stream)
        return hr__pg_protofail(d, 0,
                                "inside the stream block of transaction "
                                "%" PRIu32 " (no Stream Stop)",
                                d->stream->xid);
    if (d->txn)
        return hr__pg_protofail(
            d, 0, "transaction %" PRIu32 " has not committed", d->txn->xid);
    if ((rc = hr__pgin_u64(d, in, "final LSN", &final_lsn)) ||
        (rc = hr__pgin_u64(d, in, "commit time", &commit_time)) ||
        (rc = hr__pgin_u32(d, in, "transaction ID", &xid)) ||
        (rc = hr__pgin_end(d, in)))
        return rc;
    hr_pgtxn *t = hr__pgtxn_acquire(d, xid, 0);
    if (!t)
        return hr__pg_nomem(d, "starting a transaction");
    t->final_lsn = final_lsn;
    t->commit_time = (int64_t)commit_time;
    d->txn = t;
    return HR_OK;
}

static int commit_msg(hr_pgdecoder *d, hr__pgin *in)
{
    uint8_t flags;
    uint64_t commit_lsn, end_lsn, commit_time;
    int rc;
    if (d->stream)
        return hr__pg_protofail(d, 0,
                                "inside the stream block of transaction "
                                "%" PRIu32 " (no Stream Stop)",
                                d->stream->xid);
    if (!d->txn)
        return hr__pg_protofail(d, 0, "no transaction is open (no Begin)");
    size_t at = in->pos;
    if ((rc = hr__pgin_u8(d, in, "flags", &flags)) != HR_OK)
        return rc;
    if (flags)
        return hr__pg_protofail(d, at, "flags 0x%02x, expected 0", flags);
    at = in->pos;
    if ((rc = hr__pgin_u64(d, in, "commit LSN", &commit_lsn)) ||
        (rc = hr__pgin_u64(d, in, "end LSN", &end_lsn)) ||
        (rc = hr__pgin_u64(d, in, "commit time", &commit_time)) ||
        (rc = hr__pgin_end(d, in)))
        return rc;
    hr_pgtxn *t = d->txn;
    if (commit_lsn != t->final_lsn)
        return hr__pg_protofail(
            d, at,
            "commit LSN %" PRIX32 "/%" PRIX32 " is not Begin's final LSN "
            "%" PRIX32 "/%" PRIX32,
            (uint32_t)(commit_lsn >> 32), (uint32_t)commit_lsn,
            (uint32_t)(t->final_lsn >> 32), (uint32_t)t->final_lsn);
    t->commit_lsn = commit_lsn;
    t->end_lsn = end_lsn;
    t->commit_time = (int64_t)commit_time;
    d->txn = NULL;
    return hr__pg_deliver(d, t);
}

static int origin_msg(hr_pgdecoder *d, hr__pgin *in)
{
    uint64_t lsn;
    const char *name;
    size_t n;
    int rc;
    hr_pgtxn *t = d->stream ? d->stream : d->txn;
    if (!t)
        return hr__pg_protofail(d, 0, "outside a transaction");
    if ((rc = hr__pgin_u64(d, in, "origin LSN", &lsn)) ||
        (rc = hr__pgin_str(d, in, "origin name", &name, &n)) ||
        (rc = hr__pgin_end(d, in)))
        return rc;
    return hr__pgtxn_set_origin(d, t, name, n, lsn);
}

/* The messages that may belong to a transaction: R Y I U D T M. */
static int txn_message(hr_pgdecoder *d, hr__pgin *in, uint8_t type)
{
    hr_pgtxn *t = d->txn;
    uint32_t xid = 0;
    int rc;
    if (d->stream) {
        /* Inside a stream block each carries its (sub)transaction's xid. */
        t = d->stream;
        if ((rc = hr__pgin_u32(d, in, "transaction ID", &xid)) != HR_OK)
            return rc;
        if (xid == 0)
            return hr__pg_protofail(d, 1, "invalid transaction ID 0");
    }
    switch (type) {
    case 'R':
        return hr__pg_relation_msg(d, in);
    case 'Y':
        return hr__pg_type_msg(d, in);
    case 'M':
        return hr__pg_message_msg(d, in, t, xid);
    default:
        break;
    }
    if (!t)
        return hr__pg_protofail(d, 0, "outside a transaction");
    if (t->streamed && (rc = hr__pgtxn_mark_sub(d, t, xid)) != HR_OK)
        return rc;
    switch (type) {
    case 'I':
        return hr__pg_insert_msg(d, in, t);
    case 'U':
        return hr__pg_update_msg(d, in, t);
    case 'D':
        return hr__pg_delete_msg(d, in, t);
    default:
        return hr__pg_truncate_msg(d, in, t);
    }
}

int hr__pg_message(hr_pgdecoder *d, const uint8_t *msg, size_t len, size_t base,
                   uint64_t lsn)
{
    d->msg_base = base;
    d->msg_lsn = lsn;
    d->msg_name = "XLogData";
    if (len == 0)
        return hr__pg_protofail(d, 0, "no pgoutput message in the data");
    const uint8_t type = msg[0];
    const char *name = message_name(type);
    if (!name)
        return hr__pg_protofail(d, 0, "unknown pgoutput message type 0x%02x",
                                type);
    d->msg_name = name;
    hr__pgin in = {msg, len, 1};
    switch (type) {
    case 'B':
        return begin_msg(d, &in);
    case 'C':
        return commit_msg(d, &in);
    case 'O':
        return origin_msg(d, &in);
    case 'S':
        return hr__pg_stream_start(d, &in);
    case 'E':
        return hr__pg_stream_stop(d, &in);
    case 'c':
        return hr__pg_stream_commit(d, &in);
    case 'A':
        return hr__pg_stream_abort(d, &in);
    default:
        return txn_message(d, &in, type);
    }
}
