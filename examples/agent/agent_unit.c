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
#include <string.h>

#include "agent.h"

int unit_flush(tenant *t)
{
    unitbuf *u = &t->unit;
    if (!u->txns)
        return HR_OK;
    hr_transport_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.lsn = u->lsn;
    meta.commit_time = u->commit_time;
    int rc = HR_OK;
    for (size_t k = 0; k < u->n && rc == HR_OK; k++) {
        meta.flags = (k == 0 ? HR_TRANSPORT_FIRST : 0) |
                     (k + 1 == u->n ? HR_TRANSPORT_LAST : 0);
        rc = tenant_send_batch(t, u->batch[k], &meta);
    }
    if (rc == HR_OK && !u->n) { /* moves the checkpoint only */
        meta.flags = HR_TRANSPORT_FIRST | HR_TRANSPORT_LAST;
        rc = tenant_send(t, &meta, NULL, 0);
        if (rc != HR_OK)
            tenant_fail(t, rc, "send", hr_transport_errmsg(t->agent->transport));
    }
    unitbuf_clear(u);
    return rc;
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
    const char *msg = "";
    int rc = unitbuf_add_txn(&t->unit, t->agent->env, txn, changes, n,
                             t->agent->scratch, &msg);
    if (rc != HR_OK) {
        tenant_fail(t, rc, "batch", msg);
        return rc;
    }
    /* Only between transactions: a unit holds whole ones. */
    return t->unit.rows >= UNIT_MAX_ROWS ? unit_flush(t) : HR_OK;
}
