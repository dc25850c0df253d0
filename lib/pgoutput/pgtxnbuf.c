/*
 * pgtxnbuf.c - buffers of open transactions: growable arrays reused from one
 * transaction to the next, the byte arena, relation pins, the byte limit and
 * the subtransaction marks of streamed transactions.
 */
#include <inttypes.h>
#include <string.h>

#include "pgoutput_internal.h"

/* Spare transactions kept for reuse, and the buffer size a spare may keep:
 * one huge transaction must not pin its memory for the decoder's life. */
#define MAX_SPARES 4
#define SPARE_KEEP_BYTES ((size_t)16 << 20)

hr_pgtxn *hr__pgtxn_acquire(hr_pgdecoder *d, uint32_t xid, int streamed)
{
    hr_pgtxn *t = d->spares;
    if (t) {
        d->spares = t->next_spare;
        d->nspares--;
        t->next_spare = NULL;
    } else if (!(t = hr__calloc(d->env, 1, sizeof *t))) {
        return NULL;
    }
    t->id = ++d->txn_ids;
    t->xid = xid;
    t->streamed = streamed ? 1 : 0;
    return t;
}

void hr__pgtxn_destroy(hr_pgdecoder *d, hr_pgtxn *t)
{
    hr__free(d->env, t->origin);
    hr__free(d->env, t->changes);
    hr__free(d->env, t->vals);
    hr__free(d->env, t->arena);
    hr__free(d->env, t->trels);
    hr__free(d->env, t->pins);
    hr__free(d->env, t->subs);
    hr__free(d->env, t);
}

static void free_array(hr_pgdecoder *d, void **p, size_t *cap)
{
    hr__free(d->env, *p);
    *p = NULL;
    *cap = 0;
}

void hr__pgtxn_release(hr_pgdecoder *d, hr_pgtxn *t)
{
    for (size_t i = 0; i < t->npins; i++)
        hr__pgrel_unpin(d, t->pins[i]);
    t->npins = 0;
    t->nchanges = t->nvals = t->arena_len = t->ntrels = t->nsubs = 0;
    t->last_subxid = t->max_subxid = 0;
    t->bytes = 0;
    t->has_origin = 0;
    t->origin_lsn = 0;
    t->xid = 0;
    t->final_lsn = t->commit_lsn = t->end_lsn = 0;
    t->commit_time = 0;
    if (d->nspares >= MAX_SPARES) {
        hr__pgtxn_destroy(d, t);
        return;
    }
    if (t->arena_cap > SPARE_KEEP_BYTES)
        free_array(d, (void **)&t->arena, &t->arena_cap);
    if (t->vals_cap * sizeof *t->vals > SPARE_KEEP_BYTES)
        free_array(d, (void **)&t->vals, &t->vals_cap);
    if (t->changes_cap * sizeof *t->changes > SPARE_KEEP_BYTES)
        free_array(d, (void **)&t->changes, &t->changes_cap);
    if (t->trels_cap * sizeof *t->trels > SPARE_KEEP_BYTES)
        free_array(d, (void **)&t->trels, &t->trels_cap);
    t->next_spare = d->spares;
    d->spares = t;
    d->nspares++;
}

int hr__pgtxn_account(hr_pgdecoder *d, hr_pgtxn *t, uint64_t n)
{
    if (n > d->max_txn_bytes || t->bytes > d->max_txn_bytes - n) {
        d->failed = 1;
        return hr__fail(&d->error, HR_ELIMIT,
                        "transaction %" PRIu32 " buffers more than %" PRIu64
                        " bytes (MAX_TXN_BYTES)",
                        t->xid, d->max_txn_bytes);
    }
    t->bytes += n;
    return HR_OK;
}

/* Grow *p (of `elem`-byte items, *cap of them) to hold at least `need`. */
static int grow(hr_pgdecoder *d, void **p, size_t *cap, size_t need,
                size_t elem, size_t first)
{
    if (need <= *cap)
        return HR_OK;
    size_t n = *cap ? *cap : first;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return hr__pg_nomem(d, "buffering a transaction");
        n *= 2;
    }
    if (n > SIZE_MAX / elem)
        return hr__pg_nomem(d, "buffering a transaction");
    void *q = hr__realloc(d->env, *p, n * elem);
    if (!q)
        return hr__pg_nomem(d, "buffering a transaction");
    *p = q;
    *cap = n;
    return HR_OK;
}

hr__pgchange *hr__pgtxn_add_change(hr_pgdecoder *d, hr_pgtxn *t, int *rc)
{
    if ((*rc = grow(d, (void **)&t->changes, &t->changes_cap, t->nchanges + 1,
                    sizeof *t->changes, 64)) != HR_OK ||
        (*rc = hr__pgtxn_account(d, t, sizeof *t->changes)) != HR_OK)
        return NULL;
    hr__pgchange *c = &t->changes[t->nchanges++];
    c->old_form = 0;
    c->options = 0;
    c->rel = NULL;
    return c;
}

/*
 * O(1) whatever the number of relations (a bulk load into 1000 partitions
 * is 1000 relations): the relation remembers the last transaction that
 * pinned it. When two open transactions take turns on one relation it is
 * pinned again, once a turn: a few extra entries, each released at the end.
 */
int hr__pgtxn_pin(hr_pgdecoder *d, hr_pgtxn *t, hr_pgrelation *rel)
{
    if (rel->pin_txn == t->id)
        return HR_OK;
    int rc = grow(d, (void **)&t->pins, &t->pins_cap, t->npins + 1,
                  sizeof *t->pins, 8);
    if (rc != HR_OK)
        return rc;
    t->pins[t->npins++] = rel;
    rel->pins++;
    rel->pin_txn = t->id;
    return HR_OK;
}

int hr__pgtxn_reserve_vals(hr_pgdecoder *d, hr_pgtxn *t, size_t n)
{
    if (n > SIZE_MAX - t->nvals)
        return hr__pg_nomem(d, "buffering a transaction");
    return grow(d, (void **)&t->vals, &t->vals_cap, t->nvals + n,
                sizeof *t->vals, 256);
}

int hr__pgtxn_reserve_arena(hr_pgdecoder *d, hr_pgtxn *t, size_t n)
{
    if (n > SIZE_MAX - t->arena_len)
        return hr__pg_nomem(d, "buffering a transaction");
    return grow(d, (void **)&t->arena, &t->arena_cap, t->arena_len + n, 1,
                4096);
}

int hr__pgtxn_reserve_trels(hr_pgdecoder *d, hr_pgtxn *t, size_t n)
{
    if (n > SIZE_MAX - t->ntrels)
        return hr__pg_nomem(d, "buffering a transaction");
    return grow(d, (void **)&t->trels, &t->trels_cap, t->ntrels + n,
                sizeof *t->trels, 16);
}

int hr__pgtxn_put(hr_pgdecoder *d, hr_pgtxn *t, const void *src, size_t n,
                  int nul, size_t *off)
{
    const size_t total = n + (nul ? 1 : 0);
    int rc;
    if ((rc = hr__pgtxn_account(d, t, total)) != HR_OK ||
        (rc = hr__pgtxn_reserve_arena(d, t, total)) != HR_OK)
        return rc;
    *off = t->arena_len;
    if (n)
        memcpy(t->arena + t->arena_len, src, n);
    if (nul)
        t->arena[t->arena_len + n] = 0;
    t->arena_len += total;
    return HR_OK;
}

int hr__pgtxn_set_origin(hr_pgdecoder *d, hr_pgtxn *t, const char *name,
                         size_t n, uint64_t lsn)
{
    if (n + 1 > t->origin_cap) {
        char *o = hr__realloc(d->env, t->origin, n + 1);
        if (!o)
            return hr__pg_nomem(d, "keeping a replication origin");
        t->origin = o;
        t->origin_cap = n + 1;
    }
    memcpy(t->origin, name, n);
    t->origin[n] = 0;
    t->has_origin = 1;
    t->origin_lsn = lsn;
    return HR_OK;
}

int hr__pgtxn_mark_sub(hr_pgdecoder *d, hr_pgtxn *t, uint32_t xid)
{
    if (xid == t->xid || xid == t->last_subxid)
        return HR_OK;
    /*
     * Subxact xids are mostly handed out in increasing order: one above all
     * seen is new without a search (a loop of EXCEPTION blocks makes
     * thousands). Otherwise search from the tail, where recent ones are.
     */
    if (!t->nsubs || xid > t->max_subxid) {
        t->max_subxid = xid;
    } else {
        for (size_t i = t->nsubs; i > 0; i--) {
            if (t->subs[i - 1].xid == xid) {
                t->last_subxid = xid;
                return HR_OK;
            }
        }
    }
    int rc = grow(d, (void **)&t->subs, &t->subs_cap, t->nsubs + 1,
                  sizeof *t->subs, 8);
    if (rc != HR_OK)
        return rc;
    hr__pgsub *s = &t->subs[t->nsubs++];
    s->xid = xid;
    s->nchanges = t->nchanges;
    s->nvals = t->nvals;
    s->arena_len = t->arena_len;
    s->ntrels = t->ntrels;
    t->last_subxid = xid;
    return HR_OK;
}

void hr__pgtxn_abort_sub(hr_pgtxn *t, uint32_t xid)
{
    size_t i = t->nsubs;
    while (i > 0 && t->subs[i - 1].xid != xid)
        i--;
    if (i == 0)
        return; /* no change of that subxact reached us: nothing to drop */
    /*
     * As PostgreSQL's apply worker does: its changes, and those of the
     * subxacts that came after its first change (its children), go.
     */
    const hr__pgsub *s = &t->subs[i - 1];
    t->nchanges = s->nchanges;
    t->nvals = s->nvals;
    t->arena_len = s->arena_len;
    t->ntrels = s->ntrels;
    t->nsubs = i - 1;
    t->last_subxid = 0;
    /* max_subxid stays: an upper bound is all mark_sub needs. */
    t->bytes = (uint64_t)t->nchanges * sizeof *t->changes +
               (uint64_t)t->nvals * sizeof *t->vals + t->arena_len +
               (uint64_t)t->ntrels * sizeof *t->trels;
}
