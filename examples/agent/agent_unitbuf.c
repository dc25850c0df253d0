/*
 * agent_unitbuf.c - see agent_unitbuf.h.
 */
#include "agent_unitbuf.h"

#include <stdlib.h>
#include <string.h>

/* `b` onto the unit's last batch when the relation and columns match,
 * else as a new batch. */
static int add_batch(unitbuf *u, hr_env *env, const hr_batch *b,
                     const char **errmsg)
{
    if (u->n && hr_batch_append_rows(u->batch[u->n - 1], b) == HR_OK)
        return HR_OK;
    if (u->n == u->cap) {
        size_t cap = u->cap ? 2 * u->cap : 8;
        hr_batch **grown = realloc(u->batch, cap * sizeof *grown);
        if (!grown) {
            *errmsg = "out of memory";
            return HR_ENOMEM;
        }
        memset(grown + u->cap, 0, (cap - u->cap) * sizeof *grown);
        u->batch = grown;
        u->cap = cap;
    }
    hr_batch **slot = &u->batch[u->n];
    int rc = *slot ? HR_OK : hr_batch_new(env, slot);
    if (rc == HR_OK)
        rc = hr_batch_append_rows(*slot, b);
    if (rc != HR_OK) {
        *errmsg = *slot ? hr_batch_errmsg(*slot) : "out of memory";
        return rc;
    }
    u->n++;
    return HR_OK;
}

int unitbuf_add_txn(unitbuf *u, hr_env *env, const hr_pgtxn *txn,
                    const hr_stream_change *changes, size_t n,
                    hr_batch *scratch, const char **errmsg)
{
    size_t i = 0;
    while (i < n) {
        if (hr_pgtxn_change_kind(txn, changes[i].index) ==
            HR_PGCHANGE_MESSAGE) {
            i++;
            continue;
        }
        size_t next = i + 1;
        int rc = hr_stream_to_batch(txn, changes, n, i, scratch, &next);
        if (rc != HR_OK) {
            *errmsg = hr_batch_errmsg(scratch);
            return rc;
        }
        if ((rc = add_batch(u, env, scratch, errmsg)) != HR_OK)
            return rc;
        u->rows += hr_batch_rows(scratch);
        i = next;
    }
    u->lsn = hr_pgtxn_end_lsn(txn);
    u->commit_time = hr_pgtxn_commit_time(txn);
    u->txns++;
    return HR_OK;
}

void unitbuf_clear(unitbuf *u)
{
    for (size_t k = 0; k < u->n; k++)
        hr_batch_clear(u->batch[k]);
    u->n = 0;
    u->rows = 0;
    u->txns = 0;
}

void unitbuf_free(unitbuf *u)
{
    unitbuf_clear(u);
    for (size_t k = 0; k < u->cap; k++)
        hr_batch_free(u->batch[k]);
    free(u->batch);
    memset(u, 0, sizeof *u);
}
