/*
 * heliosrepl/apply.h - exactly-once apply of tenants' changes to a target
 * PostgreSQL.
 *
 * The host hands the applier each source transaction of a tenant as a
 * sequence of column batches (hr_pgtxn_to_batch / hr_stream_to_batch, or
 * hr_codec_decode of their frames) closed by the transaction's end LSN. The
 * applier groups many small source transactions, of any tenants, into one
 * target transaction (bounded by rows, bytes and time, commit order kept per
 * tenant), writes the rows - pipelined prepared statements per relation,
 * runs of inserts as COPY - and, in the same target transaction, each
 * tenant's new checkpoint in <meta>.checkpoints. After any crash the target
 * is exactly at a transaction boundary of every tenant: the host restarts
 * its streams from hr_applier_checkpoint, and the applier itself skips
 * whatever a tenant's checkpoint already covers. Exactly-once effect.
 *
 * The target schema <meta> (default "heliosrepl") is created on first
 * connect:
 *   checkpoints(tenant, source_id, lsn, applied_at)   primary key (tenant,
 *                                                     source_id)
 *   copy_progress(tenant, source_id, table_name, rows, snapshot_lsn,
 *                 done_at)                            the initial copy
 *   apply_errors(tenant, source_id, lsn, status, message, failed_at)
 *
 * Batches: the first column is "_hr_op" (int2; see hr_pgtxn_to_batch):
 * 1 insert, 2 update (new row), 3 delete (old key), 4 update's old row
 * (right before its new row), plus one value this header adds:
 *   5 truncate: the batch's relation lost every row OF THIS TENANT. The
 *     target table may hold other tenants' rows, so a source TRUNCATE is
 *     applied as DELETE FROM table WHERE tenant_column = tenant. A
 *     truncate batch has the "_hr_op" column (and may have others, all
 *     ignored) and one row.
 * Rows are matched on the target by its primary key (or its replica
 * identity index); a relation that has neither can only take inserts.
 * Unchanged-TOAST values are left untouched on the target. Batch column
 * names must exist on the target with a compatible type (same family:
 * integers, floats, text-like, ...; anything into text); otherwise the
 * tenant pauses with HR_ESCHEMA naming the table and the column, nothing of
 * its transaction applied, and the other tenants carry on.
 *
 * Host-owned I/O, as for the stream: hr_applier_fd / _interest /
 * _timeout_ms say what to wait for, hr_applier_step does the ready work
 * and never blocks. A lost target connection is no error: the applier
 * reconnects, reloads the checkpoints and applies again what they do not
 * cover.
 *
 * Thread rules: one thread at a time per applier; callbacks run inside
 * hr_applier_step and may call hr_applier_checkpoint and the submit
 * functions, nothing else of the same applier.
 */
#ifndef HELIOSREPL_APPLY_H
#define HELIOSREPL_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include <heliosrepl/batch.h>
#include <heliosrepl/core.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hr_applier hr_applier;
typedef struct hr_applier_opts hr_applier_opts;

/* The "_hr_op" value of a truncate batch (see above). */
#define HR_OP_TRUNCATE 5

/* What the applier is doing (hr_applier_phase). Values pinned. */
enum hr_applier_phase {
    HR_APPLIER_PHASE_IDLE = 0,       /* before the first step */
    HR_APPLIER_PHASE_CONNECTING = 1, /* connecting to the target */
    HR_APPLIER_PHASE_SETUP = 2,      /* creating <meta>, loading checkpoints */
    HR_APPLIER_PHASE_READY = 3,      /* checkpoints known; applying */
    HR_APPLIER_PHASE_BACKOFF = 4,    /* connection lost: reconnects later */
    HR_APPLIER_PHASE_CLOSED = 5      /* freed or failed for good */
};

/* ---- options ---- */

/* HR_OK, HR_EINVAL, HR_ENOMEM. */
HR_API int hr_applier_opts_new(hr_env *env, hr_applier_opts **out);
HR_API void hr_applier_opts_free(hr_applier_opts *opts);

/*
 * Setters: each copies its arguments; HR_OK, HR_EINVAL (message in
 * hr_applier_opts_errmsg), HR_ENOMEM.
 *
 * conninfo        libpq connection string of the target (required)
 * source_id       names the source in the checkpoints, so one target can
 *                 take the same tenant id from several sources: 1..63 of
 *                 [A-Za-z0-9_.-] (default "default")
 * meta_schema     the schema of the applier's own tables (default
 *                 "heliosrepl")
 * tenant_column   the tenant column, for truncates (default "tenant_id")
 * group_rows      close a target transaction after this many rows
 *                 (default 20000; 1 = one source transaction per target
 *                 transaction)
 * group_bytes     ... or this many bytes of values (default 16 MiB)
 * group_delay_ms  wait at most this long for more source transactions
 *                 before committing a group that is not full (default 20;
 *                 0 = commit what is there at once)
 * copy_min_rows   runs of at least this many inserts of one relation go
 *                 through COPY (default 64; 0 = never COPY)
 * max_pending_bytes  hr_applier_begin refuses (HR_EAGAIN) while more than
 *                 this many bytes of submitted changes wait (default 64
 *                 MiB): backpressure for the host
 */
HR_API int hr_applier_opts_set_conninfo(hr_applier_opts *opts,
                                        const char *conninfo);
HR_API int hr_applier_opts_set_source_id(hr_applier_opts *opts,
                                         const char *source_id);
HR_API int hr_applier_opts_set_meta_schema(hr_applier_opts *opts,
                                           const char *schema);
HR_API int hr_applier_opts_set_tenant_column(hr_applier_opts *opts,
                                             const char *column);
HR_API int hr_applier_opts_set_group_rows(hr_applier_opts *opts, size_t rows);
HR_API int hr_applier_opts_set_group_bytes(hr_applier_opts *opts,
                                           size_t bytes);
HR_API int hr_applier_opts_set_group_delay_ms(hr_applier_opts *opts,
                                              int64_t ms);
HR_API int hr_applier_opts_set_copy_min_rows(hr_applier_opts *opts,
                                             size_t rows);
HR_API int hr_applier_opts_set_max_pending_bytes(hr_applier_opts *opts,
                                                 size_t bytes);
HR_API const char *hr_applier_opts_errmsg(const hr_applier_opts *opts);

/* ---- callbacks ---- */

#define HR_APPLIER_CALLBACKS_VERSION 1

typedef struct hr_applier_callbacks {
    unsigned version; /* HR_APPLIER_CALLBACKS_VERSION */
    void *ctx;
    /*
     * A target transaction committed: `tenant_id` is durably applied up to
     * `lsn` (the end LSN of its last source transaction in the group, or a
     * copy's snapshot LSN). The host confirms it to the stream
     * (hr_stream_confirm). May be NULL.
     */
    void (*on_applied)(void *ctx, const char *tenant_id, uint64_t lsn);
    /*
     * The tenant paused: `status` (HR_ESCHEMA, HR_ECONFLICT for a row the
     * target refused - a constraint, a bad value -, ...) and a message
     * naming table and column. Its transaction from `lsn` on is not
     * applied and stays queued; nothing else of the tenant is applied
     * until hr_applier_resume. The error is also recorded in
     * <meta>.apply_errors. May be NULL.
     */
    void (*on_error)(void *ctx, const char *tenant_id, uint64_t lsn,
                     int status, const char *message);
} hr_applier_callbacks;

/* ---- the applier ---- */

/*
 * hr_applier_new - from `opts` (copied) and `callbacks` (copied; NULL for
 * none). Nothing is connected before the first step. HR_OK, HR_EINVAL
 * (NULL argument, no conninfo, wrong callbacks version), HR_ENOMEM; the
 * message in hr_env_errmsg(env).
 */
HR_API int hr_applier_new(hr_env *env, const hr_applier_opts *opts,
                          const hr_applier_callbacks *callbacks,
                          hr_applier **out);

/* hr_applier_free - closes the connection; what was not committed is not
 * applied (its source transactions come again after a restart). NULL: no-op. */
HR_API void hr_applier_free(hr_applier *applier);

/* The target connection's socket (-1 while none), its interest
 * (HR_POLL_IN | HR_POLL_OUT), and the milliseconds until hr_applier_step
 * must run anyway (0 now, -1 no timer), from the env clock's monotonic
 * `now_ns`. Ask again after every step. */
HR_API int hr_applier_fd(const hr_applier *applier);
HR_API int hr_applier_interest(const hr_applier *applier);
HR_API int64_t hr_applier_timeout_ms(const hr_applier *applier,
                                     uint64_t now_ns);

/* An enum hr_applier_phase value (CLOSED for NULL). */
HR_API int hr_applier_phase(const hr_applier *applier);

/*
 * hr_applier_step - the ready work, never blocking: connect, set up
 * <meta>, load checkpoints, send the next group, read results, commit,
 * report on_applied / on_error, reconnect after a lost connection. HR_OK,
 * or HR_EAUTH (the target refused the credentials or a privilege - the
 * applier retries after a back-off), HR_ENOMEM, HR_ESTATE (called from a
 * callback), HR_EIO (a server error it does not know, SQLSTATE in the
 * message; it retries after a back-off). Per-tenant failures are not
 * returned here: they go to on_error.
 */
HR_API int hr_applier_step(hr_applier *applier, uint64_t now_ns);

/*
 * hr_applier_checkpoint - the tenant's checkpoint on the target: the end
 * LSN of its last applied source transaction (0: none). HR_OK; HR_EAGAIN
 * before the checkpoints are loaded (phase READY); HR_EINVAL.
 * hr_applier_copy_state tells the initial copy's: *done = 1 when every
 * table was copied (the checkpoint then is at least the snapshot LSN),
 * else the number of tables already copied in *tables_done (each copied in
 * one target transaction).
 */
HR_API int hr_applier_checkpoint(const hr_applier *applier,
                                 const char *tenant_id, uint64_t *lsn);
HR_API int hr_applier_copy_state(const hr_applier *applier,
                                 const char *tenant_id, int *done,
                                 size_t *tables_done);
/* 1 when the tenant's initial copy of table schema.table is done. */
HR_API int hr_applier_copy_table_done(const hr_applier *applier,
                                      const char *tenant_id,
                                      const char *schema_name,
                                      const char *table_name);

/*
 * Submitting a source transaction of a tenant:
 *   hr_applier_begin(a, tenant, end_lsn)   then
 *   hr_applier_add_batch(a, batch) ...     then
 *   hr_applier_commit(a)
 * `end_lsn` is the transaction's end LSN (hr_pgtxn_end_lsn); a transaction
 * at or below the tenant's checkpoint is accepted and dropped. add_batch
 * takes ownership of `batch` on HR_OK (the applier frees it; it must come
 * from an env) and leaves it with the caller on error. Transactions of one
 * tenant are applied in the order submitted, end LSNs increasing.
 *
 * begin: HR_OK; HR_EAGAIN (backpressure: too many pending bytes - step,
 * then try again); HR_ESTATE (a transaction is open, the tenant is paused,
 * the checkpoints are not loaded yet, end_lsn not above the tenant's last
 * submitted one); HR_EINVAL (bad tenant id). add_batch: HR_OK; HR_EINVAL
 * (no "_hr_op" int2 first column, no relation name); HR_ESTATE (no
 * transaction open). commit: HR_OK, HR_ESTATE. hr_applier_rollback drops
 * the open transaction (no-op without one).
 */
HR_API int hr_applier_begin(hr_applier *applier, const char *tenant_id,
                            uint64_t end_lsn);
HR_API int hr_applier_add_batch(hr_applier *applier, hr_batch *batch);
HR_API int hr_applier_commit(hr_applier *applier);
HR_API void hr_applier_rollback(hr_applier *applier);

/*
 * Initial copy of one table of a tenant, in one target transaction:
 *   hr_applier_begin_copy(a, tenant, schema, table, snapshot_lsn)
 *   hr_applier_add_batch(a, batch) ...   (inserts: "_hr_op" = 1)
 *   hr_applier_commit(a)
 * The target transaction first deletes the tenant's rows of that table
 * (a copy interrupted earlier left none, but a table copied in an earlier,
 * abandoned attempt may hold some), then inserts, then records the table
 * in <meta>.copy_progress. hr_applier_finish_copy(a, tenant, lsn) records
 * the whole copy as done and sets the checkpoint to `lsn` (the slot's
 * consistent point): streaming starts there.
 *
 * A copy whose snapshot is not the slot's own (resumed after a crash, with
 * a new snapshot taken at `snapshot_lsn` later than the slot's consistent
 * point) makes the changes between the two points arrive twice: pass the
 * later LSN to hr_applier_set_idempotent_until and the applier applies the
 * tenant's changes up to it idempotently (inserts as upserts on the key,
 * updates and deletes of missing rows ignored), which converges to the
 * source. Returns as begin / commit.
 */
HR_API int hr_applier_begin_copy(hr_applier *applier, const char *tenant_id,
                                 const char *schema_name,
                                 const char *table_name,
                                 uint64_t snapshot_lsn);
HR_API int hr_applier_finish_copy(hr_applier *applier, const char *tenant_id,
                                  uint64_t lsn);
HR_API int hr_applier_set_idempotent_until(hr_applier *applier,
                                           const char *tenant_id,
                                           uint64_t lsn);

/*
 * hr_applier_resume - a paused tenant tries its queued transaction again
 * (after the host fixed the target schema, say). HR_OK, HR_ENOTFOUND (not
 * paused).
 */
HR_API int hr_applier_resume(hr_applier *applier, const char *tenant_id);

/* Bytes of submitted changes not yet committed on the target. */
HR_API size_t hr_applier_pending_bytes(const hr_applier *applier);

/*
 * hr_applier_stats - totals since hr_applier_new: committed target
 * transactions, source transactions and rows applied, and bytes of values
 * written. Any pointer may be NULL.
 */
HR_API void hr_applier_stats(const hr_applier *applier, uint64_t *target_txns,
                             uint64_t *source_txns, uint64_t *rows,
                             uint64_t *bytes);

/* hr_applier_errmsg - the last failure's message; "" if none. */
HR_API const char *hr_applier_errmsg(const hr_applier *applier);

#ifdef __cplusplus
}
#endif

#endif /* HELIOSREPL_APPLY_H */
