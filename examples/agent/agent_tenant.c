/*
 * agent_tenant.c - one tenant's producing side: startup (checkpoint, copy
 * state, slot), the initial copy, the change stream, and the conversion of
 * both into codec frames on the transport.
 *
 * Units (a source transaction, one table's copy) go onto the one transport
 * whole and never interleave with another tenant's: a stream hands each
 * transaction inside one callback, and a table being copied holds the
 * agent's unit lock (agent->copy_owner) until its last batch, so the
 * receiver has one applier transaction open at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

/* ---- sending, with a spill list in production order ---- */

static int spill_push(agent *a, const hr_transport_meta *meta,
                      const uint8_t *data, size_t len)
{
    spill_msg *m = calloc(1, sizeof *m);
    if (!m)
        return HR_ENOMEM;
    m->meta = *meta;
    if (meta->flags & HR_TRANSPORT_COPY) {
        m->schema = strdup(meta->schema_name);
        m->table = strdup(meta->table_name);
        m->meta.schema_name = m->schema;
        m->meta.table_name = m->table;
    }
    if (len) {
        m->data = malloc(len);
        if (m->data)
            memcpy(m->data, data, len);
    }
    if ((len && !m->data) ||
        ((meta->flags & HR_TRANSPORT_COPY) && (!m->schema || !m->table))) {
        free(m->schema);
        free(m->table);
        free(m->data);
        free(m);
        return HR_ENOMEM;
    }
    m->len = len;
    if (a->spill_tail)
        a->spill_tail->next = m;
    else
        a->spill_head = m;
    a->spill_tail = m;
    return HR_OK;
}

int agent_flush_spill(agent *a)
{
    while (a->spill_head) {
        spill_msg *m = a->spill_head;
        int rc = hr_transport_send(a->transport, &m->meta, m->data, m->len);
        if (rc == HR_EAGAIN)
            return 0;
        if (rc != HR_OK) {
            agent_log("transport: %s", hr_transport_errmsg(a->transport));
            a->fatal = 1;
            return 0;
        }
        a->spill_head = m->next;
        if (!a->spill_head)
            a->spill_tail = NULL;
        free(m->schema);
        free(m->table);
        free(m->data);
        free(m);
    }
    return 1;
}

int tenant_send(tenant *t, hr_transport_meta *meta, const uint8_t *data,
                size_t len)
{
    agent *a = t->agent;
    meta->size = sizeof *meta;
    meta->tenant_id = t->id;
    /* Whether a unit of this tenant is open on the receiving side once
     * this message arrives: a failed tenant then sends ABORT. */
    if (meta->flags & (HR_TRANSPORT_LAST | HR_TRANSPORT_ABORT))
        t->unit_partial = 0;
    else if (meta->flags & HR_TRANSPORT_FIRST)
        t->unit_partial = 1;
    if (!a->spill_head) {
        int rc = hr_transport_send(a->transport, meta, data, len);
        if (rc != HR_EAGAIN)
            return rc;
    }
    return spill_push(a, meta, data, len);
}

/* May the tenant produce now: room on the transport, nothing spilled, and
 * no other tenant in the middle of a table copy. */
int tenant_may_produce(const tenant *t)
{
    const agent *a = t->agent;
    return !a->spill_head && hr_transport_writable(a->transport, 0) &&
           (!a->copy_owner || a->copy_owner == t) && !a->stopping;
}

void tenant_fail(tenant *t, int rc, const char *what, const char *msg)
{
    if (t->state == TS_FAILED)
        return;
    agent_log("tenant %s failed: %s: %s (%s)", t->id, what, msg,
              hr_status_name(rc));
    t->state = TS_FAILED;
    t->agent->failed = 1;
}

/* ---- frames ---- */

/* Encode `b` and send it as a message of the tenant's unit. */
int tenant_send_batch(tenant *t, const hr_batch *b, hr_transport_meta *meta)
{
    agent *a = t->agent;
    const uint8_t *frame;
    size_t len;
    int rc = hr_codec_encode(a->enc, b, t->id, &frame, &len);
    if (rc != HR_OK) {
        tenant_fail(t, rc, "encode", hr_codec_errmsg(a->enc));
        return rc;
    }
    t->rows += hr_batch_rows(b);
    t->raw_bytes += hr_batch_raw_size(b);
    t->wire_bytes += len;
    rc = tenant_send(t, meta, frame, len);
    if (rc != HR_OK)
        tenant_fail(t, rc, "send", hr_transport_errmsg(a->transport));
    return rc;
}

/* A TRUNCATE becomes one "_hr_op" = 5 batch per relation (apply.h). */
static int send_truncate(tenant *t, const hr_pgtxn *txn, size_t change,
                         hr_transport_meta *meta, int *first, int last)
{
    size_t nrel = 0;
    int options = 0;
    int rc = hr_pgtxn_change_truncate(txn, change, &nrel, &options);
    if (rc != HR_OK)
        return rc;
    hr_batch *b = t->agent->scratch;
    for (size_t k = 0; k < nrel; k++) {
        const hr_pgrelation *r =
            hr_pgtxn_change_truncate_relation(txn, change, k);
        if (!r) {
            tenant_fail(t, HR_EPROTO, "truncate", "unknown relation");
            return HR_EPROTO;
        }
        hr_batch_clear(b);
        if ((rc = hr_batch_set_relation(b, hr_pgrelation_schema(r),
                                        hr_pgrelation_name(r))) != HR_OK ||
            (rc = hr_batch_add_column(b, "_hr_op", HR_OID_INT2, 0)) < 0 ||
            (rc = hr_batch_append_int64(b, 0, HR_OP_TRUNCATE)) != HR_OK)
            return rc;
        meta->flags = (*first ? HR_TRANSPORT_FIRST : 0) |
                      (last && k + 1 == nrel ? HR_TRANSPORT_LAST : 0);
        if ((rc = tenant_send_batch(t, b, meta)) != HR_OK)
            return rc;
        *first = 0;
    }
    return HR_OK;
}

static void ring_push(tenant *t, uint64_t lsn, int64_t commit_time)
{
    if (t->ring_len == LAG_RING) { /* forget the oldest: lag is approximate */
        t->ring_head = (t->ring_head + 1) % LAG_RING;
        t->ring_len--;
    }
    t->ring[(t->ring_head + t->ring_len) % LAG_RING] =
        (lsn_time){lsn, commit_time};
    t->ring_len++;
}

static int on_txn(void *ctx, const char *tenant_id, const hr_pgtxn *txn,
                  const hr_stream_change *changes, size_t n)
{
    (void)tenant_id;
    tenant *t = ctx;
    if (t->muted) /* shutting down: hand it over again next run */
        return HR_ECLOSED;
    int rc;
    if (unit_wants(t, txn, changes, n)) {
        if ((rc = unit_add(t, txn, changes, n)) != HR_OK)
            return rc;
        t->txns++;
        ring_push(t, hr_pgtxn_end_lsn(txn), hr_pgtxn_commit_time(txn));
        return HR_OK;
    }
    if ((rc = unit_flush(t)) != HR_OK) /* what came before goes first */
        return rc;
    hr_transport_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.lsn = hr_pgtxn_end_lsn(txn);
    meta.commit_time = hr_pgtxn_commit_time(txn);

    /* The last change that makes a message, so it can carry LAST. */
    size_t last = n;
    for (size_t i = n; i-- > 0;) {
        int kind = hr_pgtxn_change_kind(txn, changes[i].index);
        if (kind != HR_PGCHANGE_MESSAGE) {
            last = i;
            break;
        }
    }
    int first = 1;
    size_t i = 0;
    while (i < n && i <= last && rc == HR_OK) {
        int kind = hr_pgtxn_change_kind(txn, changes[i].index);
        if (kind == HR_PGCHANGE_MESSAGE) {
            i++;
        } else if (kind == HR_PGCHANGE_TRUNCATE) {
            rc = send_truncate(t, txn, changes[i].index, &meta, &first,
                               i == last);
            i++;
        } else {
            size_t next = i + 1;
            rc = hr_stream_to_batch(txn, changes, n, i, t->agent->scratch,
                                    &next);
            if (rc != HR_OK) {
                tenant_fail(t, rc, "batch", hr_batch_errmsg(t->agent->scratch));
                break;
            }
            meta.flags = (first ? HR_TRANSPORT_FIRST : 0) |
                         (next > last ? HR_TRANSPORT_LAST : 0);
            rc = tenant_send_batch(t, t->agent->scratch, &meta);
            first = 0;
            i = next;
        }
    }
    if (rc == HR_OK && first) { /* nothing to apply: moves the checkpoint */
        meta.flags = HR_TRANSPORT_FIRST | HR_TRANSPORT_LAST;
        rc = tenant_send(t, &meta, NULL, 0);
    }
    if (rc != HR_OK)
        return rc;
    t->txns++;
    ring_push(t, meta.lsn, meta.commit_time);
    return HR_OK;
}

/* ---- handles ---- */

static void opts_tables_stream(const agent_config *cfg, hr_stream_opts *o)
{
    for (size_t i = 0; i < cfg->n_schemas; i++)
        hr_stream_opts_add_schema(o, cfg->schemas[i]);
    for (size_t i = 0; i < cfg->n_tables; i++)
        hr_stream_opts_add_table(o, cfg->tables[i]);
    if (!cfg->n_schemas && !cfg->n_tables)
        hr_stream_opts_add_schema(o, "public");
}

static int make_stream(tenant *t, uint64_t start_lsn, int snapshot)
{
    agent *a = t->agent;
    const agent_config *cfg = a->cfg;
    hr_stream_opts *o = NULL;
    int rc = hr_stream_opts_new(a->env, &o);
    if (rc != HR_OK)
        return rc;
    if ((rc = hr_stream_opts_set_conninfo(o, cfg->source)) != HR_OK ||
        (rc = hr_stream_opts_set_tenant(o, t->id)) != HR_OK ||
        (rc = hr_stream_opts_set_slot(o, t->slot)) != HR_OK ||
        (rc = hr_stream_opts_set_publication(o, t->slot)) != HR_OK ||
        (rc = hr_stream_opts_set_start_lsn(o, start_lsn)) != HR_OK ||
        (rc = hr_stream_opts_set_binary(o, cfg->binary)) != HR_OK ||
        (rc = hr_stream_opts_set_status_interval_ms(
             o, cfg->status_interval_ms)) != HR_OK ||
        (rc = hr_stream_opts_set_heartbeat_interval_ms(
             o, cfg->heartbeat_interval_ms)) != HR_OK ||
        (rc = hr_stream_opts_set_export_snapshot(o, snapshot)) != HR_OK ||
        (cfg->tenant_column && (rc = hr_stream_opts_set_tenant_column(
                                    o, cfg->tenant_column)) != HR_OK)) {
        tenant_fail(t, rc, "stream options", hr_stream_opts_errmsg(o));
        hr_stream_opts_free(o);
        return rc;
    }
    opts_tables_stream(cfg, o);
    hr_stream_callbacks cb = {HR_STREAM_CALLBACKS_VERSION, t, on_txn, NULL};
    rc = hr_stream_new(a->env, o, &cb, &t->stream);
    hr_stream_opts_free(o);
    if (rc != HR_OK)
        tenant_fail(t, rc, "stream", hr_env_errmsg(a->env));
    return rc;
}

static int on_table_begin(void *ctx, const char *schema, const char *table,
                          uint64_t rows_expected)
{
    tenant *t = ctx;
    (void)rows_expected;
    if (t->agent->cfg->verbose)
        agent_log("tenant %s: copying %s.%s (%llu rows)", t->id, schema, table,
                  (unsigned long long)rows_expected);
    return HR_OK;
}

static uint64_t copy_snapshot_lsn(const tenant *t)
{
    return t->copy_own_snapshot ? hr_copier_snapshot_lsn(t->copier)
                                : t->copy_lsn;
}

static int on_batch(void *ctx, const char *schema, const char *table,
                    hr_batch *batch)
{
    tenant *t = ctx;
    if (!tenant_may_produce(t))
        return HR_EAGAIN;
    hr_transport_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.flags =
        HR_TRANSPORT_COPY | (t->copy_unit_open ? 0 : HR_TRANSPORT_FIRST);
    meta.lsn = copy_snapshot_lsn(t);
    meta.schema_name = schema;
    meta.table_name = table;
    int rc = tenant_send_batch(t, batch, &meta);
    if (rc != HR_OK)
        return rc;
    hr_batch_free(batch);
    t->copy_unit_open = 1;
    t->agent->copy_owner = t;
    return HR_OK;
}

static int on_table_end(void *ctx, const char *schema, const char *table,
                        uint64_t rows, uint64_t bytes)
{
    tenant *t = ctx;
    (void)rows;
    (void)bytes;
    hr_transport_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.flags = HR_TRANSPORT_COPY | HR_TRANSPORT_LAST |
                 (t->copy_unit_open ? 0 : HR_TRANSPORT_FIRST);
    meta.lsn = copy_snapshot_lsn(t);
    meta.schema_name = schema;
    meta.table_name = table;
    int rc = tenant_send(t, &meta, NULL, 0);
    t->copy_unit_open = 0;
    if (t->agent->copy_owner == t)
        t->agent->copy_owner = NULL;
    return rc;
}

static int make_copier(tenant *t, const char *snapshot, char **skip,
                       size_t n_skip)
{
    agent *a = t->agent;
    const agent_config *cfg = a->cfg;
    hr_copier_opts *o = NULL;
    int rc = hr_copier_opts_new(a->env, &o);
    if (rc != HR_OK)
        return rc;
    if ((rc = hr_copier_opts_set_conninfo(o, cfg->source)) != HR_OK ||
        (rc = hr_copier_opts_set_tenant(o, t->id)) != HR_OK ||
        (rc = hr_copier_opts_set_snapshot(o, snapshot)) != HR_OK ||
        (rc = hr_copier_opts_set_rows_per_batch(
             o, (size_t)cfg->copy_rows_per_batch)) != HR_OK ||
        (cfg->tenant_column && (rc = hr_copier_opts_set_tenant_column(
                                    o, cfg->tenant_column)) != HR_OK)) {
        tenant_fail(t, rc, "copier options", hr_copier_opts_errmsg(o));
        hr_copier_opts_free(o);
        return rc;
    }
    for (size_t i = 0; i < cfg->n_schemas; i++)
        hr_copier_opts_add_schema(o, cfg->schemas[i]);
    for (size_t i = 0; i < cfg->n_tables; i++)
        hr_copier_opts_add_table(o, cfg->tables[i]);
    for (size_t i = 0; i < n_skip; i++)
        hr_copier_opts_add_skip_table(o, skip[i]);
    if ((rc = agent_qos_copy_priorities(a, t, o)) != HR_OK)
        agent_log("tenant %s: copy order by heat: %s (schema, name order)",
                  t->id, hr_status_name(rc));
    hr_copier_callbacks cb = {HR_COPIER_CALLBACKS_VERSION, t, on_table_begin,
                              on_batch, on_table_end};
    rc = hr_copier_new(a->env, o, &cb, &t->copier);
    hr_copier_opts_free(o);
    if (rc != HR_OK)
        tenant_fail(t, rc, "copier", hr_env_errmsg(a->env));
    t->copy_unit_open = 0;
    return rc;
}

/* The slot exists but the copy never finished: copy what is missing with a
 * snapshot of the copier's own and replay the overlap idempotently. */
static int start_own_copy(tenant *t, uint64_t slot_lsn)
{
    agent *a = t->agent;
    char **tables = NULL;
    size_t n = 0;
    int rc = agent_sql_tables(a, &tables, &n);
    if (rc != HR_OK)
        return rc;
    char *skip[AGENT_MAX_LIST * 4];
    size_t n_skip = 0;
    for (size_t i = 0; i < n; i++) {
        char *dot = strchr(tables[i], '.');
        if (dot && n_skip < sizeof skip / sizeof *skip) {
            *dot = 0;
            int done = hr_applier_copy_table_done(a->applier, t->id, tables[i],
                                                  dot + 1);
            *dot = '.';
            if (done == 1)
                skip[n_skip++] = tables[i];
        }
    }
    agent_log("tenant %s: resuming its initial copy (%zu of %zu tables done) "
              "with a snapshot of its own; streaming from %X/%X",
              t->id, n_skip, n, (unsigned)(slot_lsn >> 32), (unsigned)slot_lsn);
    t->copy_own_snapshot = 1;
    t->copy_lsn = slot_lsn;
    rc = make_copier(t, NULL, skip, n_skip);
    for (size_t i = 0; i < n; i++)
        free(tables[i]);
    free(tables);
    if (rc == HR_OK)
        t->state = TS_COPY;
    return rc;
}

int tenant_start(tenant *t)
{
    agent *a = t->agent;
    uint64_t ckpt = 0;
    int done = 0;
    size_t tables_done = 0;
    if (hr_applier_checkpoint(a->applier, t->id, &ckpt) != HR_OK ||
        hr_applier_copy_state(a->applier, t->id, &done, &tables_done) != HR_OK)
        return HR_EAGAIN;
    t->applied_lsn = ckpt;
    if (done || ckpt > 0) {
        agent_log("tenant %s: streaming from checkpoint %X/%X", t->id,
                  (unsigned)(ckpt >> 32), (unsigned)ckpt);
        t->copy_percent = 100;
        int rc = make_stream(t, ckpt, 0);
        if (rc == HR_OK)
            t->state = TS_STREAM;
        return rc;
    }
    int exists = 0;
    uint64_t confirmed = 0;
    if (agent_sql_slot(a, t->slot, &exists, &confirmed) != HR_OK)
        return HR_EAGAIN;
    if (exists)
        return start_own_copy(t, confirmed);
    agent_log("tenant %s: no checkpoint: initial copy in the new slot's "
              "snapshot",
              t->id);
    int rc = make_stream(t, 0, 1);
    if (rc == HR_OK)
        t->state = TS_SNAPSHOT;
    return rc;
}

/* The copy is complete: tell the receiver, then stream from its end. */
static int finish_copy(tenant *t)
{
    hr_transport_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.flags = HR_TRANSPORT_COPY_DONE;
    meta.lsn = t->copy_lsn;
    meta.idempotent_until =
        t->copy_own_snapshot ? hr_copier_snapshot_lsn(t->copier) : 0;
    t->replay_until = meta.idempotent_until;
    int rc = tenant_send(t, &meta, NULL, 0);
    if (rc != HR_OK)
        return rc;
    uint64_t rows = 0;
    hr_copier_progress(t->copier, &rows, NULL, NULL, NULL);
    agent_log("tenant %s: initial copy done (%llu rows)", t->id,
              (unsigned long long)rows);
    t->copy_rows = rows;
    t->copy_percent = 100;
    hr_copier_free(t->copier);
    t->copier = NULL;
    t->state = TS_STREAM;
    if (t->stream)
        return hr_stream_release_snapshot(t->stream);
    return make_stream(t, 0, 0);
}

/* Start over from the target's state (the slot now exists). */
static void restart_copy(tenant *t, const char *why)
{
    agent *a = t->agent;
    agent_log("tenant %s: initial copy interrupted (%s): resuming", t->id, why);
    if (t->copy_unit_open) {
        hr_transport_meta meta;
        memset(&meta, 0, sizeof meta);
        meta.flags = HR_TRANSPORT_ABORT;
        tenant_send(t, &meta, NULL, 0);
        t->copy_unit_open = 0;
    }
    if (a->copy_owner == t)
        a->copy_owner = NULL;
    hr_copier_free(t->copier);
    t->copier = NULL;
    hr_stream_free(t->stream);
    t->stream = NULL;
    t->state = TS_INIT;
    t->retry_at_ns = agent_now_ns(a) + 1000000000ull;
}

int tenant_step(tenant *t, uint64_t now_ns)
{
    int rc = HR_OK;
    if (t->state == TS_FAILED) {
        unitbuf_clear(&t->unit);
        if (t->unit_partial) { /* or the receiver would wait for its end */
            hr_transport_meta meta;
            memset(&meta, 0, sizeof meta);
            meta.flags = HR_TRANSPORT_ABORT;
            tenant_send(t, &meta, NULL, 0);
        }
        t->copy_unit_open = 0;
        if (t->agent->copy_owner == t)
            t->agent->copy_owner = NULL;
        if (t->copier) {
            hr_copier_free(t->copier);
            t->copier = NULL;
        }
        if (t->stream) {
            hr_stream_free(t->stream);
            t->stream = NULL;
        }
        return HR_OK;
    }
    if (t->stream && (t->state != TS_STREAM || tenant_may_produce(t))) {
        rc = hr_stream_step(t->stream, now_ns);
        if (rc == HR_ENOTFOUND || rc == HR_ECLOSED) {
            tenant_fail(t, rc, "stream", hr_stream_errmsg(t->stream));
            return rc;
        }
        if (rc == HR_ESTATE && t->state != TS_STREAM &&
            hr_stream_phase(t->stream) == HR_STREAM_PHASE_SNAPSHOT_HELD &&
            !hr_stream_snapshot_name(t->stream)) {
            restart_copy(t, "the slot's snapshot was lost");
            return HR_OK;
        }
        if (rc != HR_OK && rc != HR_ECLOSED)
            agent_log("tenant %s: stream: %s (%s; retrying)", t->id,
                      hr_stream_errmsg(t->stream), hr_status_name(rc));
        if (t->state != TS_FAILED)
            unit_flush(t); /* what the step handed over */
    }
    if (t->state == TS_SNAPSHOT && t->stream) {
        int phase = hr_stream_phase(t->stream);
        const char *name = hr_stream_snapshot_name(t->stream);
        if (phase == HR_STREAM_PHASE_SNAPSHOT_HELD && name) {
            t->copy_lsn = hr_stream_consistent_lsn(t->stream);
            t->copy_own_snapshot = 0;
            if (make_copier(t, name, NULL, 0) == HR_OK)
                t->state = TS_COPY;
        } else if (phase == HR_STREAM_PHASE_STREAMING) {
            /* Someone else made the slot meanwhile: no snapshot for us. */
            restart_copy(t, "the slot existed already");
        }
        return HR_OK;
    }
    if (t->state == TS_COPY && t->copier) {
        if (t->agent->copy_owner && t->agent->copy_owner != t)
            return HR_OK;
        rc = hr_copier_step(t->copier, now_ns);
        if (rc != HR_OK) {
            restart_copy(t, hr_copier_errmsg(t->copier));
            return HR_OK;
        }
        hr_copier_progress(t->copier, &t->copy_rows, &t->copy_rows_expected,
                           NULL, &t->copy_percent);
        if (hr_copier_done(t->copier) && !t->agent->spill_head)
            return finish_copy(t);
    }
    return HR_OK;
}

void tenant_free(tenant *t)
{
    unitbuf_free(&t->unit);
    hr_copier_free(t->copier);
    hr_stream_free(t->stream);
    t->copier = NULL;
    t->stream = NULL;
}
