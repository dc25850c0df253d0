/*
 * pgchange.c - the change messages: Insert, Update, Delete, Truncate and the
 * logical decoding Message, appended to their transaction's buffers.
 */
#include <inttypes.h>
#include <string.h>

#include "pgoutput_internal.h"

/*
 * TupleData: Int16 columns, then per column 'n' (NULL), 'u' (unchanged
 * TOAST), or 't'/'b' + Int32 length + bytes. The values are copied into the
 * arena as they are checked: one pass, one reservation for the whole tuple
 * (its values cannot be longer than what is left of the message).
 */
static int parse_tuple(hr_pgdecoder *d, hr__pgin *in, hr_pgtxn *t,
                       const hr_pgrelation *rel, size_t *first)
{
    uint16_t n;
    const size_t at = in->pos;
    int rc = hr__pgin_u16(d, in, "tuple column count", &n);
    if (rc != HR_OK)
        return rc;
    if (n != (unsigned)rel->ncols)
        return hr__pg_protofail(d, at,
                                "tuple has %u columns, relation \"%s\".\"%s\" "
                                "(OID %" PRIu32 ") has %d",
                                n, rel->schema, rel->name, rel->oid,
                                rel->ncols);
    if ((rc = hr__pgtxn_reserve_vals(d, t, n)) != HR_OK ||
        (rc = hr__pgtxn_reserve_arena(d, t, hr__pgin_left(in))) != HR_OK)
        return rc;

    const uint8_t *p = in->p;
    const size_t len = in->len;
    size_t pos = in->pos;
    hr__pgval *v = n ? t->vals + t->nvals : NULL; /* a table may have none */
    uint8_t *arena = t->arena;
    size_t aoff = t->arena_len;
    for (unsigned i = 0; i < n; i++) {
        if (pos >= len)
            return hr__pg_protofail(d, pos,
                                    "truncated: column %u kind needs 1 byte, "
                                    "0 left",
                                    i);
        const uint8_t kind = p[pos];
        switch (kind) {
        case 'n':
        case 'u':
            v[i].off = 0;
            v[i].len = 0;
            v[i].form = kind;
            pos++;
            break;
        case 't':
        case 'b': {
            if (len - pos < 5)
                return hr__pg_protofail(d, pos + 1,
                                        "truncated: column %u length needs 4 "
                                        "bytes, %zu left",
                                        i, len - pos - 1);
            const uint32_t vlen = hr__be32(p + pos + 1);
            if (vlen > INT32_MAX)
                return hr__pg_protofail(
                    d, pos + 1, "column %u length %" PRId32 " is negative", i,
                    (int32_t)vlen);
            pos += 5;
            if (len - pos < vlen)
                return hr__pg_protofail(d, pos,
                                        "truncated: column %u value needs "
                                        "%" PRIu32 " bytes, %zu left",
                                        i, vlen, len - pos);
            memcpy(arena + aoff, p + pos, vlen);
            v[i].off = aoff;
            v[i].len = vlen;
            v[i].form = kind;
            aoff += vlen;
            pos += vlen;
            break;
        }
        default:
            return hr__pg_protofail(d, pos, "column %u has unknown kind 0x%02x",
                                    i, kind);
        }
    }
    rc = hr__pgtxn_account(
        d, t, (uint64_t)(aoff - t->arena_len) + (uint64_t)n * sizeof *v);
    if (rc != HR_OK)
        return rc;
    t->arena_len = aoff;
    *first = t->nvals;
    t->nvals += n;
    in->pos = pos;
    return HR_OK;
}

static int read_relation(hr_pgdecoder *d, hr__pgin *in, hr_pgrelation **rel)
{
    uint32_t oid;
    const size_t at = in->pos;
    int rc = hr__pgin_u32(d, in, "relation OID", &oid);
    if (rc != HR_OK)
        return rc;
    return hr__pgrel_need(d, at, oid, rel);
}

static int read_tag(hr_pgdecoder *d, hr__pgin *in, const char *what,
                    uint8_t *tag)
{
    return hr__pgin_u8(d, in, what, tag);
}

static int add_row_change(hr_pgdecoder *d, hr_pgtxn *t, int kind,
                          hr_pgrelation *rel, int old_form, size_t new_vals,
                          size_t old_vals)
{
    int rc;
    hr__pgchange *c = hr__pgtxn_add_change(d, t, &rc);
    if (!c)
        return rc;
    c->kind = (uint8_t)kind;
    c->old_form = (uint8_t)old_form;
    c->rel = rel;
    c->u.row.new_vals = new_vals;
    c->u.row.old_vals = old_vals;
    return hr__pgtxn_pin(d, t, rel);
}

int hr__pg_insert_msg(hr_pgdecoder *d, hr__pgin *in, hr_pgtxn *t)
{
    hr_pgrelation *rel;
    uint8_t tag;
    size_t vals;
    int rc;
    if ((rc = read_relation(d, in, &rel)) != HR_OK ||
        (rc = read_tag(d, in, "tuple tag", &tag)) != HR_OK)
        return rc;
    if (tag != 'N')
        return hr__pg_protofail(d, in->pos - 1,
                                "tuple tag 0x%02x, expected 'N'", tag);
    if ((rc = parse_tuple(d, in, t, rel, &vals)) != HR_OK ||
        (rc = hr__pgin_end(d, in)) != HR_OK)
        return rc;
    return add_row_change(d, t, HR_PGCHANGE_INSERT, rel, 0, vals, HR__PG_NONE);
}

int hr__pg_update_msg(hr_pgdecoder *d, hr__pgin *in, hr_pgtxn *t)
{
    hr_pgrelation *rel;
    uint8_t tag;
    size_t new_vals, old_vals = HR__PG_NONE;
    int old_form = 0;
    int rc;
    if ((rc = read_relation(d, in, &rel)) != HR_OK ||
        (rc = read_tag(d, in, "tuple tag", &tag)) != HR_OK)
        return rc;
    if (tag == 'K' || tag == 'O') {
        old_form = tag;
        if ((rc = parse_tuple(d, in, t, rel, &old_vals)) != HR_OK ||
            (rc = read_tag(d, in, "new tuple tag", &tag)) != HR_OK)
            return rc;
    }
    if (tag != 'N')
        return hr__pg_protofail(d, in->pos - 1,
                                old_form ? "tuple tag 0x%02x, expected 'N'"
                                         : "tuple tag 0x%02x, expected 'K', "
                                           "'O' or 'N'",
                                tag);
    if ((rc = parse_tuple(d, in, t, rel, &new_vals)) != HR_OK ||
        (rc = hr__pgin_end(d, in)) != HR_OK)
        return rc;
    return add_row_change(d, t, HR_PGCHANGE_UPDATE, rel, old_form, new_vals,
                          old_vals);
}

int hr__pg_delete_msg(hr_pgdecoder *d, hr__pgin *in, hr_pgtxn *t)
{
    hr_pgrelation *rel;
    uint8_t tag;
    size_t old_vals;
    int rc;
    if ((rc = read_relation(d, in, &rel)) != HR_OK ||
        (rc = read_tag(d, in, "tuple tag", &tag)) != HR_OK)
        return rc;
    if (tag != 'K' && tag != 'O')
        return hr__pg_protofail(d, in->pos - 1,
                                "tuple tag 0x%02x, expected 'K' or 'O'", tag);
    if ((rc = parse_tuple(d, in, t, rel, &old_vals)) != HR_OK ||
        (rc = hr__pgin_end(d, in)) != HR_OK)
        return rc;
    return add_row_change(d, t, HR_PGCHANGE_DELETE, rel, tag, HR__PG_NONE,
                          old_vals);
}

int hr__pg_truncate_msg(hr_pgdecoder *d, hr__pgin *in, hr_pgtxn *t)
{
    uint32_t count;
    uint8_t options;
    size_t at = in->pos;
    int rc;
    if ((rc = hr__pgin_u32(d, in, "relation count", &count)) != HR_OK)
        return rc;
    if (count == 0 || count > INT32_MAX)
        return hr__pg_protofail(d, at, "relation count %" PRId32 " (1 or more)",
                                (int32_t)count);
    at = in->pos;
    if ((rc = hr__pgin_u8(d, in, "options", &options)) != HR_OK)
        return rc;
    if (options & ~3u)
        return hr__pg_protofail(d, at, "unknown options 0x%02x", options);
    if (hr__pgin_left(in) / 4 < count)
        return hr__pg_short(d, in, (size_t)count * 4, "relation OIDs");
    if ((rc = hr__pgtxn_reserve_trels(d, t, count)) != HR_OK ||
        (rc = hr__pgtxn_account(d, t, (uint64_t)count * sizeof *t->trels)))
        return rc;
    for (uint32_t k = 0; k < count; k++) {
        hr_pgrelation *rel;
        if ((rc = read_relation(d, in, &rel)) != HR_OK ||
            (rc = hr__pgtxn_pin(d, t, rel)) != HR_OK)
            return rc;
        t->trels[t->ntrels + k] = rel;
    }
    if ((rc = hr__pgin_end(d, in)) != HR_OK)
        return rc;
    hr__pgchange *c = hr__pgtxn_add_change(d, t, &rc);
    if (!c)
        return rc;
    c->kind = HR_PGCHANGE_TRUNCATE;
    c->options = options;
    c->u.trunc.first = t->ntrels;
    c->u.trunc.count = count;
    t->ntrels += count;
    return HR_OK;
}

int hr__pg_message_msg(hr_pgdecoder *d, hr__pgin *in, hr_pgtxn *t, uint32_t xid)
{
    uint8_t flags;
    uint64_t lsn;
    const char *prefix;
    size_t prefix_len;
    uint32_t len;
    size_t at = in->pos;
    int rc;
    if ((rc = hr__pgin_u8(d, in, "flags", &flags)) != HR_OK)
        return rc;
    if (flags > 1)
        return hr__pg_protofail(d, at, "flags 0x%02x", flags);
    if ((rc = hr__pgin_u64(d, in, "message LSN", &lsn)) ||
        (rc = hr__pgin_str(d, in, "prefix", &prefix, &prefix_len)))
        return rc;
    at = in->pos;
    if ((rc = hr__pgin_u32(d, in, "content length", &len)) != HR_OK)
        return rc;
    if (len > INT32_MAX)
        return hr__pg_protofail(d, at, "content length %" PRId32 " is negative",
                                (int32_t)len);
    if (hr__pgin_left(in) < len)
        return hr__pg_short(d, in, len, "content");
    const uint8_t *content = in->p + in->pos;
    in->pos += len;
    if ((rc = hr__pgin_end(d, in)) != HR_OK)
        return rc;

    if (!flags) {
        /* Non-transactional: the host gets it now, whatever is open. */
        if (!d->cb.on_message)
            return HR_OK;
        d->in_callback = 1;
        rc = d->cb.on_message(d->cb.ctx, lsn, prefix, content, len);
        d->in_callback = 0;
        if (rc != HR_OK)
            return hr__fail(&d->error, rc, "on_message returned %d", rc);
        return HR_OK;
    }
    if (!t)
        return hr__pg_protofail(d, 0,
                                "transactional message outside a transaction");
    if (t->streamed && (rc = hr__pgtxn_mark_sub(d, t, xid)) != HR_OK)
        return rc;
    size_t prefix_off, content_off;
    if ((rc = hr__pgtxn_put(d, t, prefix, prefix_len, 1, &prefix_off)) ||
        (rc = hr__pgtxn_put(d, t, content, len, 0, &content_off)))
        return rc;
    hr__pgchange *c = hr__pgtxn_add_change(d, t, &rc);
    if (!c)
        return rc;
    c->kind = HR_PGCHANGE_MESSAGE;
    c->u.msg.prefix = prefix_off;
    c->u.msg.content = content_off;
    c->u.msg.len = len;
    return HR_OK;
}
