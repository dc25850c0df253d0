/*
 * agent_unit.c - several small source transactions of a tenant as one unit.
 *
 * The transactions one stream step hands over are collected (their rows
 * appended to one batch per relation run, hr_batch_append_rows) and sent
 * as one unit at the end of the step, or once it holds UNIT_MAX_ROWS: one
 * frame and one applier unit where there were many. The unit carries the
 * last transaction's end LSN, so the checkpoint the applier writes with it
 * covers all of them, and they commit together on the target.
 *
 * Exactly once still holds because a unit never straddles a checkpoint:
 * the stream hands a tenant only transactions after everything it handed
 * over before (and after the checkpoint it started from), so a unit holds
 * none that an earlier unit held or the target already has. Transactions
 * the applier replays idempotently (after a copy with its own snapshot,
 * up to t->replay_until) and transactions with a TRUNCATE travel alone,
 * as before.
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"

int unit_flush(tenant *t)
{
    if (!t->unit_txns)
        return HR_OK;
    hr_transport_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.lsn = t->unit_lsn;
    meta.commit_time = t->unit_commit_time;
    int rc = HR_OK;
    for (size_t k = 0; k < t->unit_nbatches && rc == HR_OK; k++) {
        meta.flags = (k == 0 ? HR_TRANSPORT_FIRST : 0) |
                     (k + 1 == t->unit_nbatches ? HR_TRANSPORT_LAST : 0);
        rc = tenant_send_batch(t, t->unit[k], &meta);
    }
    if (rc == HR_OK && !t->unit_nbatches) { /* moves the checkpoint only */
        meta.flags = HR_TRANSPORT_FIRST | HR_TRANSPORT_LAST;
        rc = tenant_send(t, &meta, NULL, 0);
        if (rc != HR_OK)
            tenant_fail(t, rc, "send", hr_transport_errmsg(t->agent->transport));
    }
    unit_drop(t);
    return rc;
}

void unit_drop(tenant *t)
{
    for (size_t k = 0; k < t->unit_nbatches; k++)
        hr_batch_clear(t->unit[k]);
    t->unit_nbatches = 0;
    t->unit_rows = 0;
    t->unit_txns = 0;
}

void unit_free(tenant *t)
{
    unit_drop(t);
    for (size_t k = 0; k < t->unit_cap; k++)
        hr_batch_free(t->unit[k]);
    free(t->unit);
    t->unit = NULL;
    t->unit_cap = 0;
}

/* The scratch batch onto the unit's last batch, or as a new one. */
static int add_batch(tenant *t, const hr_batch *b)
{
    if (t->unit_nbatches &&
        hr_batch_append_rows(t->unit[t->unit_nbatches - 1], b) == HR_OK)
        return HR_OK;
    if (t->unit_nbatches == t->unit_cap) {
        size_t cap = t->unit_cap ? 2 * t->unit_cap : 8;
        hr_batch **grown = realloc(t->unit, cap * sizeof *grown);
        if (!grown) {
            tenant_fail(t, HR_ENOMEM, "batch", "out of memory");
            return HR_ENOMEM;
        }
        memset(grown + t->unit_cap, 0, (cap - t->unit_cap) * sizeof *grown);
        t->unit = grown;
        t->unit_cap = cap;
    }
    hr_batch **slot = &t->unit[t->unit_nbatches];
    int rc = *slot ? HR_OK : hr_batch_new(t->agent->env, slot);
    if (rc == HR_OK)
        rc = hr_batch_append_rows(*slot, b);
    if (rc != HR_OK) {
        tenant_fail(t, rc, "batch", *slot ? hr_batch_errmsg(*slot) : "");
        return rc;
    }
    t->unit_nbatches++;
    return HR_OK;
}

int unit_wants(const tenant *t, const hr_pgtxn *txn,
               const hr_stream_change *changes, size_t n)
{
    if (hr_pgtxn_end_lsn(txn) <= t->replay_until)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (hr_pgtxn_change_kind(txn, changes[i].index) ==
            HR_PGCHANGE_TRUNCATE)
            return 0;
    return 1;
}

int unit_add(tenant *t, const hr_pgtxn *txn, const hr_stream_change *changes,
             size_t n)
{
    hr_batch *scratch = t->agent->scratch;
    size_t i = 0;
    while (i < n) {
        if (hr_pgtxn_change_kind(txn, changes[i].index) ==
            HR_PGCHANGE_MESSAGE) {
            i++;
            continue;
        }
        size_t next = i + 1;
        int rc = hr_stream_to_batch(txn, changes, n, i, scratch, &next);
        if (rc == HR_OK)
            rc = add_batch(t, scratch);
        else
            tenant_fail(t, rc, "batch", hr_batch_errmsg(scratch));
        if (rc != HR_OK)
            return rc;
        t->unit_rows += hr_batch_rows(scratch);
        i = next;
    }
    t->unit_lsn = hr_pgtxn_end_lsn(txn);
    t->unit_commit_time = hr_pgtxn_commit_time(txn);
    t->unit_txns++;
    /* Only between transactions: a unit holds whole ones. */
    return t->unit_rows >= UNIT_MAX_ROWS ? unit_flush(t) : HR_OK;
}
