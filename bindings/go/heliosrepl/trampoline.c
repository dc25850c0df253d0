/* trampoline.c - C functions handed to the library for Go callbacks. */
#include "trampoline.h"

#include "_cgo_export.h"

static uint64_t monotonic_ns(void *ctx)
{
    return hrgoMonotonicNs((uintptr_t)ctx);
}

static uint64_t wall_ns(void *ctx)
{
    return hrgoWallNs((uintptr_t)ctx);
}

static void log_message(void *ctx, hr_log_level level, const char *message)
{
    /* cgo's export header drops const; Go only reads the message. */
    hrgoLog((uintptr_t)ctx, (int)level, (char *)message);
}

int hrgo_env_set_clock(hr_env *env, uintptr_t ctx, int monotonic, int wall)
{
    const hr_clock clock = {HR_CLOCK_VERSION, (void *)ctx,
                            monotonic ? monotonic_ns : NULL,
                            wall ? wall_ns : NULL};
    return hr_env_set_clock(env, &clock);
}

int hrgo_env_set_log(hr_env *env, uintptr_t ctx, int enabled, int min_level)
{
    return hr_env_set_log(env, enabled ? log_message : NULL, (void *)ctx,
                          (hr_log_level)min_level);
}

void hrgo_log_through_trampoline(uintptr_t ctx, int level, const char *message)
{
    log_message((void *)ctx, (hr_log_level)level, message);
}

/* ---- pgoutput decoder callbacks (pgcallbacks.go) ---- */

/* cgo's export header drops const; Go only reads through these pointers. */
static int pg_on_txn(void *ctx, const hr_pgtxn *txn)
{
    return hrgoPgTxn((uintptr_t)ctx, (hr_pgtxn *)txn);
}

static int pg_on_relation(void *ctx, const hr_pgrelation *relation,
                          int schema_changed)
{
    return hrgoPgRelation((uintptr_t)ctx, (hr_pgrelation *)relation,
                          schema_changed);
}

static int pg_on_keepalive(void *ctx, uint64_t wal_end, int64_t server_time,
                           int reply_requested)
{
    return hrgoPgKeepalive((uintptr_t)ctx, wal_end, server_time,
                           reply_requested);
}

static int pg_on_message(void *ctx, uint64_t lsn, const char *prefix,
                         const uint8_t *content, size_t content_len)
{
    return hrgoPgMessage((uintptr_t)ctx, lsn, (char *)prefix,
                         (uint8_t *)content, content_len);
}

int hrgo_pgdecoder_new(hr_env *env, uintptr_t ctx, unsigned which,
                       hr_pgdecoder **out)
{
    const hr_pgdecoder_callbacks cb = {
        HR_PGDECODER_CALLBACKS_VERSION,
        (void *)ctx,
        (which & HRGO_PG_ON_TXN) ? pg_on_txn : NULL,
        (which & HRGO_PG_ON_RELATION) ? pg_on_relation : NULL,
        (which & HRGO_PG_ON_KEEPALIVE) ? pg_on_keepalive : NULL,
        (which & HRGO_PG_ON_MESSAGE) ? pg_on_message : NULL,
    };
    return hr_pgdecoder_new(env, &cb, out);
}

/* ---- stream callbacks (streamcallbacks.go) ---- */

static int stream_on_txn(void *ctx, const char *tenant_id, const hr_pgtxn *txn,
                         const hr_stream_change *changes, size_t n)
{
    return hrgoStreamTxn((uintptr_t)ctx, (char *)tenant_id, (hr_pgtxn *)txn,
                         (hr_stream_change *)changes, n);
}

static int stream_on_schema_change(void *ctx, const hr_pgrelation *relation)
{
    return hrgoStreamSchemaChange((uintptr_t)ctx, (hr_pgrelation *)relation);
}

int hrgo_stream_new(hr_env *env, const hr_stream_opts *opts, uintptr_t ctx,
                    unsigned which, hr_stream **out)
{
    const hr_stream_callbacks cb = {
        HR_STREAM_CALLBACKS_VERSION,
        (void *)ctx,
        (which & HRGO_STREAM_ON_TXN) ? stream_on_txn : NULL,
        (which & HRGO_STREAM_ON_SCHEMA_CHANGE) ? stream_on_schema_change
                                               : NULL,
    };
    return hr_stream_new(env, opts, &cb, out);
}

/* ---- applier callbacks (applycallbacks.go) ---- */

static void applier_on_applied(void *ctx, const char *tenant_id, uint64_t lsn)
{
    hrgoApplierApplied((uintptr_t)ctx, (char *)tenant_id, lsn);
}

static void applier_on_error(void *ctx, const char *tenant_id, uint64_t lsn,
                             int status, const char *message)
{
    hrgoApplierError((uintptr_t)ctx, (char *)tenant_id, lsn, status,
                     (char *)message);
}

int hrgo_applier_new(hr_env *env, const hr_applier_opts *opts, uintptr_t ctx,
                     unsigned which, hr_applier **out)
{
    const hr_applier_callbacks cb = {
        HR_APPLIER_CALLBACKS_VERSION,
        (void *)ctx,
        (which & HRGO_APPLIER_ON_APPLIED) ? applier_on_applied : NULL,
        (which & HRGO_APPLIER_ON_ERROR) ? applier_on_error : NULL,
    };
    return hr_applier_new(env, opts, &cb, out);
}

void hrgo_applier_through_trampolines(uintptr_t ctx, const char *tenant_id,
                                      uint64_t lsn, int status,
                                      const char *message)
{
    applier_on_applied((void *)ctx, tenant_id, lsn);
    applier_on_error((void *)ctx, tenant_id, lsn, status, message);
}

/* ---- copier callbacks (copycallbacks.go) ---- */

static int copier_on_table_begin(void *ctx, const char *schema,
                                 const char *table, uint64_t rows)
{
    return hrgoCopierTableBegin((uintptr_t)ctx, (char *)schema, (char *)table,
                                rows);
}

static int copier_on_batch(void *ctx, const char *schema, const char *table,
                           hr_batch *batch)
{
    return hrgoCopierBatch((uintptr_t)ctx, (char *)schema, (char *)table,
                           batch);
}

static int copier_on_table_end(void *ctx, const char *schema,
                               const char *table, uint64_t rows,
                               uint64_t bytes)
{
    return hrgoCopierTableEnd((uintptr_t)ctx, (char *)schema, (char *)table,
                              rows, bytes);
}

int hrgo_copier_new(hr_env *env, const hr_copier_opts *opts, uintptr_t ctx,
                    unsigned which, hr_copier **out)
{
    const hr_copier_callbacks cb = {
        HR_COPIER_CALLBACKS_VERSION,
        (void *)ctx,
        (which & HRGO_COPIER_ON_TABLE_BEGIN) ? copier_on_table_begin : NULL,
        copier_on_batch,
        (which & HRGO_COPIER_ON_TABLE_END) ? copier_on_table_end : NULL,
    };
    return hr_copier_new(env, opts, &cb, out);
}
