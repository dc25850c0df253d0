/*
 * heliosrepl/copy.h - the source side of a tenant's initial copy.
 *
 * A copier reads a tenant's existing rows of a set of tables from the source
 * PostgreSQL, all inside one snapshot, and hands them to the host as column
 * batches in the form hr_pgtxn_to_batch gives a transaction's inserts:
 * "_hr_op" (int2 NOT NULL, always 1 = insert) first, then the table's
 * columns (nullable, with their type OIDs, generated columns left out as
 * pgoutput leaves them out), typed values converted exactly as pgoutput's
 * text values are, and the batch's relation set to the table.
 *
 * The snapshot is either the exported snapshot of the tenant's new slot
 * (hr_stream_snapshot_name with export_snapshot): the copy then holds the
 * data exactly as of the slot's consistent point, and streaming from the
 * slot continues it without gap or overlap; or, without a snapshot name,
 * one of the copier's own: a REPEATABLE READ transaction whose first
 * statement reads the WAL insert position, reported as
 * hr_copier_snapshot_lsn. Every transaction visible in that snapshot
 * committed before that LSN, and every one that commits later is not in it.
 *
 * Per table, highest priority first (hr_copier_opts_set_table_priority;
 * default 0), equal priorities in the order schema, name: the tenant's
 * rows are counted
 * (SELECT count(*) in the snapshot, for progress), then read with
 * COPY (SELECT cols FROM table WHERE tenant_col = 'id') TO STDOUT in text
 * format, parsed into batches of rows_per_batch rows and handed over one
 * after another. Tables come one after another; a table's batches in order.
 *
 * The host owns the I/O: it waits on hr_copier_fd for hr_copier_interest
 * or until hr_copier_timeout_ms passes, then calls hr_copier_step, which
 * connects, queries and reads what has arrived - never blocking. The
 * library starts no thread.
 *
 * An error is final for the copier: step returns it (and again on every
 * later step), the connection is closed and the table in progress is
 * incomplete (its on_table_end never came). The host frees the copier and
 * starts a new one with the tables it has completed as skip tables.
 *
 * Thread rules: one thread at a time per copier; callbacks run inside
 * hr_copier_step / hr_copier_run and must not call into the same copier
 * (but for hr_copier_progress, hr_copier_snapshot_lsn and hr_copier_errmsg).
 */
#ifndef HELIOSREPL_COPY_H
#define HELIOSREPL_COPY_H

#include <stddef.h>
#include <stdint.h>

#include <heliosrepl/batch.h>
#include <heliosrepl/core.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hr_copier hr_copier;
typedef struct hr_copier_opts hr_copier_opts;

/* ---- options: a builder object, so new options never break the ABI ---- */

/* HR_OK, HR_EINVAL, HR_ENOMEM. */
HR_API int hr_copier_opts_new(hr_env *env, hr_copier_opts **out);
HR_API void hr_copier_opts_free(hr_copier_opts *opts);

/*
 * Setters: each copies its arguments and returns HR_OK, HR_EINVAL (with a
 * message in hr_copier_opts_errmsg), or HR_ENOMEM. The table rules are the
 * stream's (hr_stream_opts_*), so a copier and a stream given the same
 * options cover the same tables.
 *
 * conninfo       libpq connection string of the source (required)
 * tenant         the tenant id (required): 1..63 bytes of [A-Za-z0-9_.-]
 * tenant_column  the tenant column name (default "tenant_id")
 * table          add "schema.table" (or "table": schema public) to the
 *                explicit table list; a missing one is HR_ESCHEMA
 * schema         add every table of this schema that has the tenant column
 *                (ordinary or partitioned, not a partition). With neither
 *                tables nor schemas: schema "public"
 * snapshot       the name of an exported snapshot to copy in
 *                (hr_stream_snapshot_name), 1..63 bytes; NULL or "" for a
 *                snapshot of the copier's own (the default)
 * skip_table     add "schema.table" (or "table") to the tables not to copy
 *                (the host copied them already); a name that matches no
 *                table is ignored
 * rows_per_batch rows of one batch, 1..1048576 (default 1024); a batch
 *                also goes out early once its rows took 16 MiB of COPY
 *                text
 */
HR_API int hr_copier_opts_set_conninfo(hr_copier_opts *opts,
                                       const char *conninfo);
HR_API int hr_copier_opts_set_tenant(hr_copier_opts *opts,
                                     const char *tenant_id);
HR_API int hr_copier_opts_set_tenant_column(hr_copier_opts *opts,
                                            const char *column);
HR_API int hr_copier_opts_add_table(hr_copier_opts *opts, const char *table);
HR_API int hr_copier_opts_add_schema(hr_copier_opts *opts, const char *schema);
HR_API int hr_copier_opts_set_snapshot(hr_copier_opts *opts,
                                       const char *snapshot_name);
HR_API int hr_copier_opts_add_skip_table(hr_copier_opts *opts,
                                         const char *table);
HR_API int hr_copier_opts_set_rows_per_batch(hr_copier_opts *opts, size_t rows);

/*
 * hr_copier_opts_set_table_priority - copy "schema.table" (or "table":
 * schema public) before the tables of a lower priority: tables are copied
 * highest priority first, equal priorities (every table not named: 0) in
 * the order schema, name. E.g. a host copies the tables its readers will
 * want first (hr_predictor scores). Naming a table again replaces its
 * priority; a name that matches no copied table is ignored. `priority` is
 * any finite value. HR_OK, HR_EINVAL (NULL, bad table name, priority not
 * finite; message in hr_copier_opts_errmsg), HR_ENOMEM.
 */
HR_API int hr_copier_opts_set_table_priority(hr_copier_opts *opts,
                                             const char *table,
                                             double priority);
/* The last setter failure's message; "" if none. */
HR_API const char *hr_copier_opts_errmsg(const hr_copier_opts *opts);

/* ---- callbacks ---- */

#define HR_COPIER_CALLBACKS_VERSION 1

/*
 * `version` must be HR_COPIER_CALLBACKS_VERSION; on_batch is required, the
 * others may be NULL. Callbacks return HR_OK, or a negative status that
 * ends the copy: step returns it (see the top of this file) - but
 * on_batch's HR_EAGAIN, see there. `schema` and `table` are valid during
 * the call.
 */
typedef struct hr_copier_callbacks {
    unsigned version;
    void *ctx;
    /* A table starts: `rows_expected` rows of the tenant are in the
     * snapshot. */
    int (*on_table_begin)(void *ctx, const char *schema, const char *table,
                          uint64_t rows_expected);
    /*
     * The next batch of the table (1..rows_per_batch rows). HR_OK: the host
     * owns `batch` from now on and frees it (hr_batch_free, or by handing
     * it to hr_applier_add_batch, which takes ownership). HR_EAGAIN
     * (backpressure): the copier keeps the batch, reads nothing more, and
     * offers the same batch again at the next step. Any other status: the
     * copier keeps and frees the batch and the copy ends with that status.
     */
    int (*on_batch)(void *ctx, const char *schema, const char *table,
                    hr_batch *batch);
    /* The table is complete: every batch of it was taken. `rows` of it,
     * `bytes` of COPY text read for it. */
    int (*on_table_end)(void *ctx, const char *schema, const char *table,
                        uint64_t rows, uint64_t bytes);
} hr_copier_callbacks;

/* ---- the copier ---- */

/*
 * hr_copier_new - a copier from `opts` (copied; never written). Nothing is
 * connected yet: the first hr_copier_step starts. HR_OK, HR_EINVAL (NULL
 * argument, wrong callbacks version, no on_batch, missing conninfo or
 * tenant), HR_ENOMEM; the message of a failure is in hr_env_errmsg(env).
 */
HR_API int hr_copier_new(hr_env *env, const hr_copier_opts *opts,
                         const hr_copier_callbacks *callbacks, hr_copier **out);

/* hr_copier_free - closes the connection, frees a batch still held.
 * NULL: no-op. Not from a callback. */
HR_API void hr_copier_free(hr_copier *copier);

/*
 * hr_copier_fd / hr_copier_interest - the socket to wait on (-1 while there
 * is none: before the first step, after the end) and what for
 * (HR_POLL_IN | HR_POLL_OUT; 0 while a batch is held back by on_batch's
 * HR_EAGAIN: nothing more is read until it is taken). Ask again after
 * every step.
 */
HR_API int hr_copier_fd(const hr_copier *copier);
HR_API int hr_copier_interest(const hr_copier *copier);

/*
 * hr_copier_timeout_ms - milliseconds until hr_copier_step must run even if
 * the socket stays quiet, from the env clock's `now_ns` (monotonic): 0 when
 * step has work at once (before the first step; data already read; a batch
 * held back is offered again every 10 ms, unless the host steps sooner);
 * the connect time limit; -1 for no timer (done, failed, or waiting for the
 * socket alone).
 */
HR_API int64_t hr_copier_timeout_ms(const hr_copier *copier, uint64_t now_ns);

/*
 * hr_copier_step - do the work that is ready, without blocking: connect,
 * open the snapshot, find the tables, count, COPY, parse, hand over
 * batches. HR_OK (call again when the fd is ready or the timeout passes;
 * also once done, which changes nothing), or:
 *
 *   HR_ESCHEMA  a table is missing or lacks the tenant column (named)
 *   HR_EAUTH    the source refused the credentials or a privilege
 *   HR_ESTATE   the snapshot name is invalid, or its snapshot is gone (the
 *               exporting transaction ended); called from a callback
 *   HR_EPROTO   malformed COPY data (table, row and column named)
 *   HR_EIO      the connection failed or broke; a server error (SQLSTATE
 *               in the message)
 *   HR_ENOMEM, HR_EINVAL (NULL copier), or a callback's status.
 *
 * Every error but the last two is final (see the top of this file).
 */
HR_API int hr_copier_step(hr_copier *copier, uint64_t now_ns);

/*
 * hr_copier_run - step until done, an error, or `timeout_ms` passing
 * (poll(2) on the fd, the env clock for time); a negative timeout runs
 * until done or an error. Same returns as hr_copier_step, HR_EIO if
 * poll(2) fails; HR_OK when done or when the time is up (hr_copier_done
 * tells which). A batch held back is offered again every 10 ms.
 */
HR_API int hr_copier_run(hr_copier *copier, int64_t timeout_ms);

/* hr_copier_done - 1 once every table is copied (the connection is then
 * closed and the snapshot let go), 0 otherwise (also for NULL). */
HR_API int hr_copier_done(const hr_copier *copier);

/*
 * hr_copier_progress - rows handed over (in batches the host took), rows
 * expected over every table (0 until the tables are counted), COPY text
 * bytes read, and percent (0..100: rows done over rows expected; 100 once
 * done). Any pointer may be NULL. HR_OK or HR_EINVAL (NULL copier).
 */
HR_API int hr_copier_progress(const hr_copier *copier, uint64_t *rows_done,
                              uint64_t *rows_expected, uint64_t *bytes,
                              double *percent);

/*
 * hr_copier_snapshot_lsn - without a snapshot name, once the snapshot is
 * open: the WAL insert position read as the snapshot's first statement
 * (every transaction in the copy committed before it, none after it is
 * in). 0 before that, and always with an exported snapshot (its LSN is the
 * slot's consistent point: hr_stream_consistent_lsn).
 */
HR_API uint64_t hr_copier_snapshot_lsn(const hr_copier *copier);

/* hr_copier_errmsg - the last failure's message; "" if none. */
HR_API const char *hr_copier_errmsg(const hr_copier *copier);

#ifdef __cplusplus
}
#endif

#endif /* HELIOSREPL_COPY_H */
