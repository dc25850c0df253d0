/*
 * stream_demux.c - from decoded transactions to per-tenant transactions.
 *
 * The tenant of a row change is the value of the tenant column (found by
 * name in the change's relation): in the new tuple of an insert or update
 * (the old key tuple when the new one holds the unchanged-TOAST marker),
 * in the old tuple of a delete. Text values are compared as they are (char
 * padding trimmed); binary values of text-like, integer and uuid columns are
 * turned into their text form first.
 *
 *   dedicated  every change of the transaction goes to the one tenant, as
 *              it is (the row filter already sends a row leaving or
 *              entering the tenant as a delete or an insert). A row of
 *              another tenant means the publication's row filter is not
 *              ours: HR_EPROTO, nothing is handed over.
 *   shared     each transaction is split by tenant, changes kept in commit
 *              order; tenants not registered are skipped; a TRUNCATE goes
 *              to every registered tenant (it emptied the table for all of
 *              them); a transactional logical message has no tenant and is
 *              not handed over. An update whose old key tuple holds another
 *              tenant than its new row moved the row: it goes to the old
 *              tenant with role DELETE and to the new one with role INSERT.
 *              (An update without an old tuple kept its key, and the tenant
 *              column is part of it - setup checks - so it moved nothing.)
 *
 * A row without a usable tenant value (NULL, missing column) is HR_EPROTO.
 * A tenant is handed a transaction only if its end LSN is beyond what the
 * tenant was already handed or confirmed, so a reconnect repeats nothing.
 *
 * Keepalives move the stream's position to the server's WAL end: the
 * walsender reports there how far decoding has sent, and every
 * transaction that committed before that point was sent - and so handed
 * over - before the keepalive. (While the walsender sends a transaction it
 * has not yet counted that transaction's commit record: a keepalive in the
 * middle of one reports a point before its commit, and a slot confirmed to
 * such a point sends the whole transaction again after a reconnect.) A
 * tenant with nothing pending may so be confirmed to that point, as
 * PostgreSQL's own subscriber reports its received position as flushed
 * when it has no pending transaction.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "stream_internal.h"

/* The owner of a TRUNCATE in shared mode: every registered tenant. */
static hr__tenant all_tenants;

/* ---- the tenant column of a relation ---- */

void hr__demux_forget(hr_stream *s)
{
    s->nrelcols = 0;
}

static void relcol_drop(hr_stream *s, uint32_t oid)
{
    for (size_t i = 0; i < s->nrelcols; i++)
        if (s->relcols[i].oid == oid) {
            s->relcols[i] = s->relcols[--s->nrelcols];
            return;
        }
}

/* The tenant column's index in `rel`, -1 if it has none; HR_ENOMEM. */
static int tenant_col(hr_stream *s, const hr_pgrelation *rel, int *col)
{
    uint32_t oid = hr_pgrelation_oid(rel);
    for (size_t i = 0; i < s->nrelcols; i++)
        if (s->relcols[i].oid == oid) {
            *col = s->relcols[i].col;
            if (i) { /* move to front: rows come in runs of one relation */
                hr__relcol x = s->relcols[i];
                s->relcols[i] = s->relcols[0];
                s->relcols[0] = x;
            }
            return HR_OK;
        }
    int found = -1, n = hr_pgrelation_columns(rel);
    for (int c = 0; c < n; c++) {
        const char *name = hr_pgrelation_column_name(rel, c);
        if (name && strcmp(name, s->cfg->tenant_column) == 0) {
            found = c;
            break;
        }
    }
    if (s->nrelcols == s->relcols_cap) {
        size_t cap = s->relcols_cap ? s->relcols_cap * 2 : 16;
        hr__relcol *v = hr__realloc(s->env, s->relcols, cap * sizeof *v);
        if (!v)
            return hr__fail(&s->error, HR_ENOMEM, "out of memory");
        s->relcols = v;
        s->relcols_cap = cap;
    }
    s->relcols[s->nrelcols++] = (hr__relcol){oid, found};
    *col = found;
    return HR_OK;
}

/* ---- the tenant value of a change ---- */

typedef struct tvalue {
    const char *p;
    size_t len;
    char buf[40]; /* binary integers and uuids in text form */
} tvalue;

static uint64_t be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Text form of a value; HR_EPROTO (message set) if it has none here. */
static int value_text(hr_stream *s, const hr_pgrelation *rel, int col, int form,
                      const uint8_t *data, size_t len, tvalue *out)
{
    uint32_t type = hr_pgrelation_column_type(rel, col);
    if (form == HR_PGVALUE_TEXT || type == HR_OID_TEXT ||
        type == HR_OID_VARCHAR || type == HR_OID_BPCHAR ||
        type == 19 /*name*/) {
        /* binary text-like values are their bytes too */
        out->p = (const char *)data;
        out->len = len;
        if (type == HR_OID_BPCHAR)
            while (out->len && out->p[out->len - 1] == ' ')
                out->len--;
        return HR_OK;
    }
    if ((type == HR_OID_INT2 && len == 2) ||
        (type == HR_OID_INT4 && len == 4) ||
        (type == HR_OID_INT8 && len == 8)) {
        uint64_t u = be(data, len);
        int64_t v = len == 2 ? (int16_t)u : len == 4 ? (int32_t)u : (int64_t)u;
        out->len = (size_t)snprintf(out->buf, sizeof out->buf, "%" PRId64, v);
        out->p = out->buf;
        return HR_OK;
    }
    if (type == HR_OID_UUID && len == 16) {
        static const char hex[] = "0123456789abcdef";
        size_t o = 0;
        for (size_t i = 0; i < 16; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10)
                out->buf[o++] = '-';
            out->buf[o++] = hex[data[i] >> 4];
            out->buf[o++] = hex[data[i] & 15];
        }
        out->p = out->buf;
        out->len = o;
        return HR_OK;
    }
    return hr__fail(
        &s->error, HR_EPROTO,
        "table %s.%s: binary value of tenant column %s (type %" PRIu32
        ") has no known text form; use text mode",
        hr_pgrelation_schema(rel), hr_pgrelation_name(rel),
        s->cfg->tenant_column, type);
}

/* The tenant value of tuple `which` of change i: HR_OK, 1 when the tuple
 * or the value is not there (absent tuple, unchanged TOAST), HR_EPROTO for
 * NULL or an undecodable value. */
static int tuple_tenant(hr_stream *s, const hr_pgtxn *txn, size_t i,
                        const hr_pgrelation *rel, int col, hr_pgtuple which,
                        tvalue *out)
{
    const uint8_t *data = NULL;
    size_t len = 0;
    int form = hr_pgtxn_change_value(txn, i, which, col, &data, &len);
    if (form < 0 || form == HR_PGVALUE_UNCHANGED_TOAST)
        return 1;
    if (form == HR_PGVALUE_NULL)
        return hr__fail(&s->error, HR_EPROTO,
                        "table %s.%s: a row with NULL in tenant column %s",
                        hr_pgrelation_schema(rel), hr_pgrelation_name(rel),
                        s->cfg->tenant_column);
    return value_text(s, rel, col, form, data, len, out);
}

static int same(const tvalue *a, const tvalue *b)
{
    return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/*
 * The tenant value of row change i into *v, and into *old the old row's
 * when an update carries one with a different tenant (old->p NULL
 * otherwise). HR_OK or HR_EPROTO / HR_ENOMEM with the message set.
 */
static int change_tenant(hr_stream *s, const hr_pgtxn *txn, size_t i, int kind,
                         tvalue *v, tvalue *old)
{
    const hr_pgrelation *rel = hr_pgtxn_change_relation(txn, i);
    old->p = NULL;
    if (!rel)
        return hr__fail(&s->error, HR_EPROTO, "row change %zu has no relation",
                        i);
    int col = -1, rc = tenant_col(s, rel, &col);
    if (rc != HR_OK)
        return rc;
    if (col < 0)
        return hr__fail(&s->error, HR_EPROTO,
                        "table %s.%s has no tenant column %s",
                        hr_pgrelation_schema(rel), hr_pgrelation_name(rel),
                        s->cfg->tenant_column);
    int has_old =
        kind != HR_PGCHANGE_INSERT && hr_pgtxn_change_old_form(txn, i) != 0;
    rc = 1;
    if (kind != HR_PGCHANGE_DELETE)
        rc = tuple_tenant(s, txn, i, rel, col, HR_PGTUPLE_NEW, v);
    if (rc < 0)
        return rc;
    if (has_old) {
        tvalue o;
        int orc = tuple_tenant(s, txn, i, rel, col, HR_PGTUPLE_OLD, &o);
        if (orc < 0)
            return orc;
        if (orc == HR_OK) {
            if (rc == 1) {
                *v = o;
                if (o.p == o.buf)
                    v->p = v->buf;
                rc = HR_OK;
            } else if (!same(v, &o)) {
                *old = o;
                if (o.p == o.buf)
                    old->p = old->buf;
            }
        }
    }
    if (rc == 1)
        return hr__fail(&s->error, HR_EPROTO,
                        "table %s.%s: a %s without a value of tenant column "
                        "%s (is it in the replica identity?)",
                        hr_pgrelation_schema(rel), hr_pgrelation_name(rel),
                        kind == HR_PGCHANGE_DELETE ? "delete" : "change",
                        s->cfg->tenant_column);
    return HR_OK;
}

/* ---- scratch ---- */

static int reserve(hr_stream *s, size_t nchg, size_t nowner, size_t ntouched)
{
    if (nchg > s->chg_cap) {
        hr_stream_change *v = hr__realloc(s->env, s->chg, nchg * sizeof *v);
        if (!v)
            return hr__fail(&s->error, HR_ENOMEM, "out of memory");
        s->chg = v;
        s->chg_cap = nchg;
    }
    if (nowner > s->owner_cap) {
        hr__owner *v = hr__realloc(s->env, s->owner, nowner * sizeof *v);
        if (!v)
            return hr__fail(&s->error, HR_ENOMEM, "out of memory");
        s->owner = v;
        s->owner_cap = nowner;
    }
    if (ntouched > s->touched_cap) {
        hr__tenant **v = hr__realloc(s->env, s->touched, ntouched * sizeof *v);
        if (!v)
            return hr__fail(&s->error, HR_ENOMEM, "out of memory");
        s->touched = v;
        s->touched_cap = ntouched;
    }
    return HR_OK;
}

/* Hand tenant t its part of txn (changes[0..n)), unless it has it. */
static int hand_over(hr_stream *s, hr__tenant *t, const hr_pgtxn *txn,
                     const hr_stream_change *changes, size_t n)
{
    uint64_t end = hr_pgtxn_end_lsn(txn);
    if (n == 0 || end <= t->delivered || end <= t->confirmed)
        return HR_OK;
    /* Quiet until now: what the stream decoded so far had nothing for the
     * tenant, so its confirm moves up before it has something pending. */
    if (t->delivered <= t->confirmed && s->position > t->confirmed)
        t->confirmed = s->position;
    s->in_callback = 1;
    int rc = s->cb.on_txn(s->cb.ctx, t->id, txn, changes, n);
    s->in_callback = 0;
    if (rc != HR_OK) {
        if (rc > 0)
            rc = HR_EINTERNAL;
        char at[24];
        hr__lsn_format(end, at);
        return hr__fail(&s->error, rc,
                        "on_txn for tenant %s (transaction ending at %s) "
                        "returned %s",
                        t->id, at, hr_status_name(rc));
    }
    if (end > t->delivered)
        t->delivered = end;
    s->txns_delivered++;
    return HR_OK;
}

static int deliver_dedicated(hr_stream *s, const hr_pgtxn *txn)
{
    hr__tenant *t = s->tenants.v[0];
    uint64_t end = hr_pgtxn_end_lsn(txn);
    if (end <= t->delivered || end <= t->confirmed)
        return HR_OK;
    size_t n = hr_pgtxn_changes(txn);
    int rc = reserve(s, n, 0, 0);
    if (rc != HR_OK)
        return rc;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int kind = hr_pgtxn_change_kind(txn, i);
        if (kind == HR_PGCHANGE_INSERT || kind == HR_PGCHANGE_UPDATE ||
            kind == HR_PGCHANGE_DELETE) {
            tvalue v, old;
            rc = change_tenant(s, txn, i, kind, &v, &old);
            if (rc != HR_OK)
                return rc;
            if (v.len != t->len || memcmp(v.p, t->id, t->len) != 0) {
                const hr_pgrelation *rel = hr_pgtxn_change_relation(txn, i);
                return hr__fail(&s->error, HR_EPROTO,
                                "publication %s sent a row of tenant '%.*s' "
                                "(table %s.%s) to tenant %s's stream: its row "
                                "filter is not WHERE (%s = '%s')",
                                s->cfg->publication, (int)v.len, v.p,
                                hr_pgrelation_schema(rel),
                                hr_pgrelation_name(rel), t->id,
                                s->cfg->tenant_column, t->id);
            }
        }
        s->chg[k++] = (hr_stream_change){i, HR_STREAM_ROLE_AS_IS};
    }
    return hand_over(s, t, txn, s->chg, k);
}

static void touch(hr_stream *s, hr__tenant *t, size_t *ntouched)
{
    if (t->stamp != s->stamp) {
        t->stamp = s->stamp;
        t->count = 0;
        s->touched[(*ntouched)++] = t;
    }
}

static int deliver_shared(hr_stream *s, const hr_pgtxn *txn)
{
    size_t n = hr_pgtxn_changes(txn);
    if (n == 0 || s->tenants.n == 0)
        return HR_OK;
    int rc = reserve(s, 0, n, s->tenants.n);
    if (rc != HR_OK)
        return rc;
    if (++s->stamp == 0) { /* wrapped: no tenant may keep a live stamp */
        for (size_t k = 0; k < s->tenants.n; k++)
            s->tenants.v[k]->stamp = 0;
        s->stamp = 1;
    }
    size_t ntouched = 0, ntrunc = 0;
    for (size_t i = 0; i < n; i++) {
        int kind = hr_pgtxn_change_kind(txn, i);
        hr__owner *o = &s->owner[i];
        *o = (hr__owner){NULL, NULL, 0};
        if (kind == HR_PGCHANGE_TRUNCATE) {
            o->to = &all_tenants;
            ntrunc++;
            continue;
        }
        if (kind != HR_PGCHANGE_INSERT && kind != HR_PGCHANGE_UPDATE &&
            kind != HR_PGCHANGE_DELETE)
            continue; /* a transactional message: nobody's */
        tvalue v, old;
        rc = change_tenant(s, txn, i, kind, &v, &old);
        if (rc != HR_OK)
            return rc;
        if (old.p) { /* the row moved: a delete for the tenant it left */
            o->moved = 1;
            o->from = hr__tenants_find(&s->tenants, old.p, old.len);
            if (o->from) {
                touch(s, o->from, &ntouched);
                o->from->count++;
            }
        }
        o->to = hr__tenants_find(&s->tenants, v.p, v.len);
        if (o->to) {
            touch(s, o->to, &ntouched);
            o->to->count++;
        }
    }
    if (ntrunc)
        for (size_t k = 0; k < s->tenants.n; k++) {
            touch(s, s->tenants.v[k], &ntouched);
            s->tenants.v[k]->count += ntrunc;
        }
    if (ntouched == 0)
        return HR_OK;
    /* Lay the tenants' index lists out one after the other. */
    size_t total = 0;
    for (size_t k = 0; k < ntouched; k++) {
        s->touched[k]->fill = total;
        total += s->touched[k]->count;
    }
    rc = reserve(s, total, 0, 0);
    if (rc != HR_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        const hr__owner *o = &s->owner[i];
        if (o->to == &all_tenants) {
            for (size_t k = 0; k < ntouched; k++)
                s->chg[s->touched[k]->fill++] =
                    (hr_stream_change){i, HR_STREAM_ROLE_AS_IS};
            continue;
        }
        if (o->from)
            s->chg[o->from->fill++] =
                (hr_stream_change){i, HR_STREAM_ROLE_DELETE};
        if (o->to)
            s->chg[o->to->fill++] = (hr_stream_change){
                i, o->moved ? HR_STREAM_ROLE_INSERT : HR_STREAM_ROLE_AS_IS};
    }
    for (size_t k = 0; k < ntouched; k++) {
        hr__tenant *t = s->touched[k];
        size_t start = t->fill - t->count;
        rc = hand_over(s, t, txn, s->chg + start, t->count);
        if (rc != HR_OK)
            return rc;
    }
    return HR_OK;
}

/* ---- decoder callbacks ---- */

static int on_txn(void *ctx, const hr_pgtxn *txn)
{
    hr_stream *s = ctx;
    int rc = s->cfg->mode == HR_STREAM_DEDICATED ? deliver_dedicated(s, txn)
                                                 : deliver_shared(s, txn);
    if (rc != HR_OK)
        return rc;
    uint64_t end = hr_pgtxn_end_lsn(txn);
    if (end > s->position)
        s->position = end;
    return HR_OK;
}

static int on_relation(void *ctx, const hr_pgrelation *rel, int schema_changed)
{
    hr_stream *s = ctx;
    relcol_drop(s, hr_pgrelation_oid(rel));
    if (!schema_changed || !s->cb.on_schema_change)
        return HR_OK;
    s->in_callback = 1;
    int rc = s->cb.on_schema_change(s->cb.ctx, rel);
    s->in_callback = 0;
    if (rc != HR_OK)
        return hr__fail(&s->error, rc > 0 ? HR_EINTERNAL : rc,
                        "on_schema_change for %s.%s returned %s",
                        hr_pgrelation_schema(rel), hr_pgrelation_name(rel),
                        hr_status_name(rc));
    return HR_OK;
}

static int on_keepalive(void *ctx, uint64_t wal_end, int64_t server_time,
                        int reply_requested)
{
    hr_stream *s = ctx;
    (void)server_time;
    if (reply_requested)
        s->status_now = 1;
    /* Everything committed before wal_end was handed over (see the top):
     * quiet tenants may be confirmed up to it. Tell the server at once, as
     * its walsender pings exactly when it waits for our flush position. */
    if (wal_end > s->position) {
        s->position = wal_end;
        if (hr__slot_confirm(s) > s->flush_sent)
            s->status_now = 1;
    }
    return HR_OK;
}

static int on_message(void *ctx, uint64_t lsn, const char *prefix,
                      const uint8_t *content, size_t content_len)
{
    hr_stream *s = ctx;
    (void)content;
    (void)content_len;
    if (prefix && strcmp(prefix, HR__HEARTBEAT_PREFIX) == 0)
        hr__heartbeat_arrived(s, lsn);
    return HR_OK;
}

hr_pgdecoder_callbacks hr__demux_callbacks(hr_stream *s)
{
    hr_pgdecoder_callbacks cb = {HR_PGDECODER_CALLBACKS_VERSION,
                                 s,
                                 on_txn,
                                 on_relation,
                                 on_keepalive,
                                 on_message};
    return cb;
}

int hr__stream_feed(hr_stream *s, const uint8_t *payload, size_t len)
{
    s->error.code = HR_OK;
    int rc = hr_pgdecoder_feed(s->dec, payload, len);
    if (rc != HR_OK && s->error.code != rc) /* the decoder's own failure */
        hr__fail(&s->error, rc, "pgoutput: %s", hr_pgdecoder_errmsg(s->dec));
    return rc;
}
