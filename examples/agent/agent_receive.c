/*
 * agent_receive.c - the applying side: messages off the transport, frames
 * decoded, units handed to the applier; the applier's callbacks confirm
 * what is durably applied to the tenant's stream.
 */
#include <string.h>

#include "agent.h"

static void drop_unit(agent *a)
{
    if (a->unit_open)
        hr_applier_rollback(a->applier);
    a->unit_open = 0;
}

/* HR_OK (message consumed), HR_EAGAIN (the applier wants it later). The
 * frame was decoded when it left the transport (agent_qos_pull): the
 * applier takes qm->batch. */
static int apply_one(agent *a, agent_qmsg *qm)
{
    const hr_transport_meta m = qm->meta;
    tenant *t = qm->tenant;
    if (t->state == TS_FAILED) { /* paused on the target: nothing more */
        if (a->unit_open && a->unit_tenant == t)
            drop_unit(a);
        return HR_OK;
    }
    int rc;
    if (m.flags & HR_TRANSPORT_ABORT) {
        drop_unit(a);
        return HR_OK;
    }
    if (m.flags & HR_TRANSPORT_COPY_DONE) {
        if (m.idempotent_until &&
            (rc = hr_applier_set_idempotent_until(
                 a->applier, t->id, m.idempotent_until)) != HR_OK) {
            if (rc == HR_EAGAIN)
                return rc;
            tenant_fail(t, rc, "idempotent replay",
                        hr_applier_errmsg(a->applier));
            return HR_OK;
        }
        rc = hr_applier_finish_copy(a->applier, t->id, m.lsn);
        if (rc == HR_EAGAIN)
            return rc;
        if (rc != HR_OK)
            tenant_fail(t, rc, "finish copy", hr_applier_errmsg(a->applier));
        return HR_OK;
    }
    if (m.flags & HR_TRANSPORT_FIRST) {
        if (m.flags & HR_TRANSPORT_COPY)
            rc = hr_applier_begin_copy(a->applier, t->id, m.schema_name,
                                       m.table_name, m.lsn);
        else
            rc = hr_applier_begin(a->applier, t->id, m.lsn);
        if (rc == HR_EAGAIN)
            return rc;
        if (rc != HR_OK) {
            tenant_fail(t, rc, "begin", hr_applier_errmsg(a->applier));
            return HR_OK;
        }
        a->unit_open = 1;
        a->unit_tenant = t;
    }
    size_t len = qm->len;
    if (len) {
        if (!a->unit_open) {
            tenant_fail(t, HR_EPROTO, "receive", "a frame outside a unit");
            return HR_OK;
        }
        hr_batch *b = qm->batch;
        if (!b) /* not decoded: the tenant failed meanwhile */
            return HR_OK;
        qm->batch = NULL;
        if (!(m.flags & HR_TRANSPORT_COPY))
            agent_qos_observe_write(a, t, hr_batch_schema_name(b),
                                    hr_batch_table_name(b));
        if ((rc = hr_applier_add_batch(a->applier, b)) != HR_OK) {
            tenant_fail(t, rc, "add batch", hr_applier_errmsg(a->applier));
            hr_batch_free(b);
            drop_unit(a);
            return HR_OK;
        }
    }
    if (m.flags & HR_TRANSPORT_LAST) {
        if (!a->unit_open) {
            tenant_fail(t, HR_EPROTO, "receive", "LAST outside a unit");
            return HR_OK;
        }
        a->unit_open = 0;
        if ((rc = hr_applier_commit(a->applier)) != HR_OK)
            tenant_fail(t, rc, "commit", hr_applier_errmsg(a->applier));
    }
    return HR_OK;
}

/* The transport's messages wait in per-tenant queues; the dispatcher
 * (agent_qos.c) says whose unit the applier gets next. A message the
 * applier refuses for now stays at the head of its queue. */
int agent_receive(agent *a)
{
    int moved = 0;
    agent_qos_pull(a);
    while (hr_applier_phase(a->applier) == HR_APPLIER_PHASE_READY) {
        agent_qmsg *qm = agent_qos_peek(a);
        if (!qm) {
            if (agent_qos_pull(a) == 0)
                break;
            continue;
        }
        if (apply_one(a, qm) == HR_EAGAIN)
            break;
        agent_qos_pop(a);
        moved++;
        agent_qos_pull(a);
    }
    return moved;
}

static void on_applied(void *ctx, const char *tenant_id, uint64_t lsn)
{
    agent *a = ctx;
    tenant *t = agent_tenant(a, tenant_id);
    if (!t)
        return;
    if (lsn > t->applied_lsn)
        t->applied_lsn = lsn;
    while (t->ring_len && t->ring[t->ring_head].lsn <= lsn) {
        t->last_applied_commit_time = t->ring[t->ring_head].commit_time;
        t->ring_head = (t->ring_head + 1) % LAG_RING;
        t->ring_len--;
    }
    if (t->stream && t->state == TS_STREAM)
        hr_stream_confirm(t->stream, NULL, lsn);
}

static void on_error(void *ctx, const char *tenant_id, uint64_t lsn, int status,
                     const char *message)
{
    agent *a = ctx;
    tenant *t = agent_tenant(a, tenant_id);
    (void)lsn;
    if (t)
        tenant_fail(t, status, "apply", message);
    else
        agent_log("apply error for unknown tenant %s: %s", tenant_id, message);
}

void agent_applier_callbacks(agent *a, hr_applier_callbacks *cb)
{
    memset(cb, 0, sizeof *cb);
    cb->version = HR_APPLIER_CALLBACKS_VERSION;
    cb->ctx = a;
    cb->on_applied = on_applied;
    cb->on_error = on_error;
}
