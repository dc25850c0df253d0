/*
 * heliosrepl/stream.h - a tenant change stream from a source PostgreSQL.
 *
 * A stream owns one logical replication connection (libpq, non-blocking) to
 * the source and hands the host each committed transaction of its tenants.
 * It runs in one of two modes:
 *
 *   dedicated  one tenant: a publication whose tables carry the row filter
 *              WHERE (tenant_col = 'id'), and a pgoutput slot of its own.
 *   shared     many tenants on one slot and one publication per source
 *              database: the source decodes its WAL once, the stream splits
 *              each transaction by the tenant column into per-tenant
 *              transactions, each tenant confirms on its own, and the slot
 *              is confirmed up to the minimum of its tenants' confirms.
 *              Tenants are added and removed without a new slot.
 *
 * The host owns the I/O: it asks hr_stream_fds (or hr_stream_fd /
 * hr_stream_interest) and hr_stream_timeout_ms what to wait for, waits in
 * its own loop, and calls hr_stream_step, which connects, sets up, reads,
 * decodes, sends status updates and heartbeats, and reconnects - never
 * blocking. hr_stream_run is a blocking convenience built on the same step.
 *
 * Exactly once: the slot is confirmed only up to what the host says it has
 * durably applied (hr_stream_confirm). After a reconnect the stream resumes
 * from the confirmed position and skips transactions the host already
 * confirmed, so nothing is missed and nothing is handed over twice.
 *
 * Thread rules: one thread at a time per stream; callbacks run inside
 * hr_stream_step / hr_stream_run and must not call into the same stream
 * except hr_stream_confirm.
 */
#ifndef HELIOSREPL_STREAM_H
#define HELIOSREPL_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include <heliosrepl/core.h>
#include <heliosrepl/pgoutput.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hr_stream hr_stream;
typedef struct hr_stream_opts hr_stream_opts;

typedef enum hr_stream_mode {
    HR_STREAM_DEDICATED = 1,
    HR_STREAM_SHARED = 2
} hr_stream_mode;

/*
 * What the stream is doing (hr_stream_phase). Values pinned.
 *
 *   IDLE           nothing connected, and nothing failed: before the first
 *                  step, or right after hr_stream_release_snapshot of a
 *                  lost snapshot (the next step connects)
 *   CONNECTING     the replication connection is being established
 *   SETUP          probing the source, creating the publication or the
 *                  slot, starting replication
 *   SNAPSHOT_HELD  the slot was created with export_snapshot: the stream
 *                  waits for hr_stream_release_snapshot (the snapshot's
 *                  name is hr_stream_snapshot_name, NULL if it was lost
 *                  with its connection)
 *   STREAMING      replication runs: transactions are handed over
 *   BACKOFF        the connection was lost or a step failed: the stream
 *                  reconnects once the back-off passes (hr_stream_timeout_ms)
 *   CLOSED         the stream never connects again: after hr_stream_drop,
 *                  or after HR_ENOTFOUND (its slot vanished)
 *   HELD           hold_start: publication and slot exist
 *                  (hr_stream_slot_lsn is where the slot starts); the
 *                  stream waits for its tenant to move in from a shared
 *                  stream (hr_stream_move_tenant) before it replicates
 */
enum hr_stream_phase {
    HR_STREAM_PHASE_IDLE = 0,
    HR_STREAM_PHASE_CONNECTING = 1,
    HR_STREAM_PHASE_SETUP = 2,
    HR_STREAM_PHASE_SNAPSHOT_HELD = 3,
    HR_STREAM_PHASE_STREAMING = 4,
    HR_STREAM_PHASE_BACKOFF = 5,
    HR_STREAM_PHASE_CLOSED = 6,
    HR_STREAM_PHASE_HELD = 7
};

/*
 * How the host applies one change of a transaction handed over in shared
 * mode (hr_stream_change.role). Values pinned.
 *
 *   AS_IS   apply the change as it is
 *   DELETE  an update that moved the row out of this tenant (its tenant
 *           column changed): apply it as a delete of its old row - the old
 *           key, or the whole old row under REPLICA IDENTITY FULL
 *   INSERT  an update that moved the row into this tenant: apply it as an
 *           insert of its new row
 */
enum hr_stream_role {
    HR_STREAM_ROLE_AS_IS = 0,
    HR_STREAM_ROLE_DELETE = 1,
    HR_STREAM_ROLE_INSERT = 2
};

/* One change of a tenant's transaction: its index in the hr_pgtxn and the
 * hr_stream_role to apply it with. */
typedef struct hr_stream_change {
    size_t index;
    int role;
} hr_stream_change;

/* ---- options: a builder object, so new options never break the ABI ---- */

/* HR_OK, HR_EINVAL, HR_ENOMEM. */
HR_API int hr_stream_opts_new(hr_env *env, hr_stream_opts **out);
HR_API void hr_stream_opts_free(hr_stream_opts *opts);

/*
 * Setters: each copies its arguments and returns HR_OK, HR_EINVAL (with a
 * message in hr_stream_opts_errmsg), or HR_ENOMEM.
 *
 * conninfo      libpq connection string of the source (required)
 * mode          HR_STREAM_DEDICATED (default) or HR_STREAM_SHARED
 * tenant        dedicated mode: the tenant id (required); 1..63 bytes of
 *               [A-Za-z0-9_.-]
 * tenant_column the tenant column name (default "tenant_id")
 * table         add "schema.table" to the explicit table list
 * schema        add every table of this schema that has the tenant column
 * slot          slot name, 1..63 of [a-z0-9_] (default: "hr_" + tenant
 *               when the id is 1..60 of [a-z0-9_], else "hrx_" + the id
 *               folded to those characters + "_" + a 64-bit hash of it, so
 *               distinct tenants never share a slot; "hr_shared" in shared
 *               mode); publication likewise (1..63 bytes, no backslash)
 * start_lsn     the host's checkpoint: the end LSN of the last transaction
 *               it durably applied. Replication starts at the later of it
 *               and the slot's confirmed position, and no transaction
 *               ending at or before it is handed over (dedicated mode; in
 *               shared mode each tenant's checkpoint is given to
 *               hr_stream_add_tenant). If this stream has to create the
 *               slot, changes between the checkpoint and the slot's
 *               consistent point are not in it (logged as a warning).
 *               Default 0: the slot's own confirmed position
 * binary        ask pgoutput for binary values (default 0: text)
 * proto_version pgoutput protocol 1 or 2 (default 2: large transactions
 *               are streamed)
 * status_interval_ms    standby status updates at least this often
 *                       (default 10000)
 * heartbeat_interval_ms this often, when a tenant has nothing pending and
 *                       neither transactions nor the server's keepalives
 *                       moved the stream's position during the interval,
 *                       emit a heartbeat message (only if the source wrote
 *                       WAL since), so its slot keeps advancing (default
 *                       30000; 0 disables)
 * export_snapshot       when this stream creates the slot, hold the slot's
 *                       exported snapshot for an initial copy: step pauses
 *                       after creating the slot until the host calls
 *                       hr_stream_release_snapshot (default 0)
 * hold_start            dedicated mode, for a tenant moving off a shared
 *                       stream: step sets up publication and slot, then
 *                       waits (phase HELD) without replicating until
 *                       hr_stream_move_tenant moves the tenant in and sets
 *                       its start. Excludes start_lsn and export_snapshot
 *                       (hr_stream_new: HR_EINVAL). Default 0
 */
HR_API int hr_stream_opts_set_conninfo(hr_stream_opts *opts,
                                       const char *conninfo);
HR_API int hr_stream_opts_set_mode(hr_stream_opts *opts, hr_stream_mode mode);
HR_API int hr_stream_opts_set_tenant(hr_stream_opts *opts,
                                     const char *tenant_id);
HR_API int hr_stream_opts_set_tenant_column(hr_stream_opts *opts,
                                            const char *column);
HR_API int hr_stream_opts_add_table(hr_stream_opts *opts, const char *table);
HR_API int hr_stream_opts_add_schema(hr_stream_opts *opts, const char *schema);
HR_API int hr_stream_opts_set_slot(hr_stream_opts *opts, const char *slot);
HR_API int hr_stream_opts_set_publication(hr_stream_opts *opts,
                                          const char *publication);
HR_API int hr_stream_opts_set_start_lsn(hr_stream_opts *opts, uint64_t lsn);
HR_API int hr_stream_opts_set_binary(hr_stream_opts *opts, int binary);
HR_API int hr_stream_opts_set_proto_version(hr_stream_opts *opts, int version);
HR_API int hr_stream_opts_set_status_interval_ms(hr_stream_opts *opts,
                                                 int64_t ms);
HR_API int hr_stream_opts_set_heartbeat_interval_ms(hr_stream_opts *opts,
                                                    int64_t ms);
HR_API int hr_stream_opts_set_export_snapshot(hr_stream_opts *opts, int hold);
HR_API int hr_stream_opts_set_hold_start(hr_stream_opts *opts, int hold);
HR_API const char *hr_stream_opts_errmsg(const hr_stream_opts *opts);

/* ---- callbacks ---- */

#define HR_STREAM_CALLBACKS_VERSION 1

/*
 * `version` must be HR_STREAM_CALLBACKS_VERSION. A callback returns HR_OK,
 * or a negative status that makes hr_stream_step return it (the stream
 * stays usable; the transaction is handed over again after a reconnect
 * unless it was confirmed).
 */
typedef struct hr_stream_callbacks {
    unsigned version;
    void *ctx;
    /*
     * A committed transaction of `tenant_id`: the changes changes[0..n) of
     * `txn`, in commit order, each with its role (in dedicated mode every
     * change of `txn`, all HR_STREAM_ROLE_AS_IS: the server's row filter
     * already turns a row moving out of or into the tenant into a delete
     * or an insert). `txn` and `changes` are valid during the call;
     * hr_stream_to_batch converts them. Once on_txn returned HR_OK for a
     * transaction, this stream object never hands it over again, not even
     * after a reconnect (a new stream resumes from the confirmed position
     * or start_lsn).
     *
     * Shared mode: a change belongs to the tenant of its row. An update
     * that changes the tenant column (its old key tuple holds another
     * tenant than its new row; an update without an old tuple kept its
     * key, and the tenant column is part of the key) goes to the old
     * tenant with HR_STREAM_ROLE_DELETE and to the new tenant with
     * HR_STREAM_ROLE_INSERT, to each one that is registered. A TRUNCATE
     * goes to every tenant, a transactional logical message to none.
     */
    int (*on_txn)(void *ctx, const char *tenant_id, const hr_pgtxn *txn,
                  const hr_stream_change *changes, size_t n);
    /* A relation's definition changed on the source (before its changes). */
    int (*on_schema_change)(void *ctx, const hr_pgrelation *relation);
} hr_stream_callbacks;

/* ---- the stream ---- */

/*
 * hr_stream_new - a stream from `opts` (copied; never written). Nothing is
 * connected yet: the first hr_stream_step starts. HR_OK, HR_EINVAL (NULL
 * argument, wrong callbacks version, missing or conflicting options),
 * HR_ENOMEM; the message of a failure is in hr_env_errmsg(env) (the
 * setters' own failures stay in hr_stream_opts_errmsg).
 */
HR_API int hr_stream_new(hr_env *env, const hr_stream_opts *opts,
                         const hr_stream_callbacks *callbacks, hr_stream **out);

/* hr_stream_free - closes the connection (nothing is dropped). NULL: no-op. */
HR_API void hr_stream_free(hr_stream *stream);

/*
 * Shared mode: add or remove a tenant at any time. A new tenant starts with
 * the transactions committed after the current position (its initial copy
 * is the host's business); `confirmed_lsn` (or 0) is its checkpoint.
 * HR_OK, HR_EINVAL (bad id, an id already added, dedicated mode),
 * HR_ENOMEM, HR_ESTATE (from a callback); remove gives HR_ENOTFOUND for an
 * unknown tenant.
 */
HR_API int hr_stream_add_tenant(hr_stream *stream, const char *tenant_id,
                                uint64_t confirmed_lsn);
HR_API int hr_stream_remove_tenant(hr_stream *stream, const char *tenant_id);

/* The most fds hr_stream_fds reports in this version (a later one may
 * report more: compare its return with the room given). */
#define HR_STREAM_FDS_MAX 2

/*
 * hr_stream_fds - every socket the stream waits on now: the replication
 * connection's first (as hr_stream_fd / hr_stream_interest), then the
 * heartbeat connection's while a heartbeat is being connected or sent.
 * Fills fds[k] / interests[k] (HR_POLL_IN | HR_POLL_OUT) for
 * k < min(count, max) and returns the count (0 while there is no
 * connection), or HR_EINVAL (NULL stream, max < 0, NULL arrays with
 * max > 0). The sockets change across steps: ask again after every step.
 * A host that calls it is taken to watch every fd it reports, and
 * hr_stream_timeout_ms stops asking for polling steps (see there).
 */
HR_API int hr_stream_fds(const hr_stream *stream, int *fds, int *interests,
                         int max);

/* The replication connection alone: its socket (-1 while none) and its
 * interest. Like hr_stream_fds, ask again after every step. */
HR_API int hr_stream_fd(const hr_stream *stream);
HR_API int hr_stream_interest(const hr_stream *stream);

/*
 * hr_stream_timeout_ms - milliseconds until hr_stream_step must run even if
 * the fds stay quiet (status updates, heartbeats, reconnect back-off,
 * connect and heartbeat time limits), from the env clock's `now_ns`
 * (monotonic). 0 means now; -1 means no timer (wait for the fds alone).
 * A host that never called hr_stream_fds watches hr_stream_fd only and
 * cannot see the heartbeat connection: while a heartbeat is out (a few
 * milliseconds every heartbeat_interval_ms) this asks such a host for a
 * step every 10 ms. Once the host called hr_stream_fds, it does not.
 */
HR_API int64_t hr_stream_timeout_ms(const hr_stream *stream, uint64_t now_ns);

/* hr_stream_phase - what the stream is doing: an enum hr_stream_phase
 * value (HR_STREAM_PHASE_CLOSED for NULL). */
HR_API int hr_stream_phase(const hr_stream *stream);

/*
 * hr_stream_step - do the work that is ready, without blocking: connect,
 * set up publication and slot (idempotently), start replication, read and
 * decode what has arrived, deliver committed transactions, answer
 * keepalives, send status updates and heartbeats, reconnect after a lost
 * connection. Returns HR_OK (call again when an fd is ready or the timeout
 * passes). A lost connection, a terminated walsender, a server that is
 * restarting or out of connections are not errors: the stream reconnects
 * on its own and step returns HR_OK. Otherwise:
 *
 *   HR_ESCHEMA  a table's replica identity lacks the tenant column, a
 *               table is missing (the message names it)
 *   HR_EAUTH    the source refused the credentials or a privilege
 *   HR_ESTATE   the source cannot serve the stream as it is (wal_level is
 *               not logical, the slot name belongs to a slot of another
 *               kind, the slot was invalidated); the exported snapshot was
 *               lost with its connection (call hr_stream_release_snapshot);
 *               called from a callback
 *   HR_ENOTFOUND  the slot this stream used vanished from the source
 *               (dropped by someone): creating it again would silently
 *               skip the changes in between, so the stream is closed for
 *               good (phase CLOSED; every later step says so again): drop
 *               it and start over with a new initial copy
 *   HR_EUNSUPPORTED  a source older than PostgreSQL 15 (14 in shared mode)
 *   HR_ELIMIT   the source is out of slots or wal senders; a transaction
 *               larger than the decoder's limit
 *   HR_EPROTO   the source sent something malformed, a row without a
 *               tenant value, a row of another tenant on a dedicated slot
 *   HR_EIO      a server error the stream does not know (SQLSTATE in the
 *               message) - never a mere lost connection
 *   HR_ENOMEM, HR_ECLOSED (after hr_stream_drop), or a callback's status.
 *
 * After an error (but HR_ENOTFOUND and HR_ECLOSED) the stream closes its
 * connection and retries after a back-off (100 ms doubling to 30 s) when
 * step is called again, so a fixed schema is picked up by the same stream.
 */
HR_API int hr_stream_step(hr_stream *stream, uint64_t now_ns);

/*
 * hr_stream_run - step until `timeout_ms` passes (poll(2) on the fds of
 * hr_stream_fds); a negative timeout runs until an error. Same returns as
 * hr_stream_step, and HR_EIO if poll(2) fails; HR_OK when the time is up.
 */
HR_API int hr_stream_run(hr_stream *stream, int64_t timeout_ms);

/*
 * hr_stream_confirm - the host has durably applied everything of
 * `tenant_id` (NULL in dedicated mode) up to `lsn` (a transaction's end
 * LSN). Status updates report it as flushed; the slot never advances past
 * the minimum over the stream's tenants. May be called from on_txn.
 * HR_OK, HR_EINVAL (NULL tenant in shared mode; lsn moving backwards is
 * ignored, not an error), HR_ENOTFOUND (unknown tenant).
 */
HR_API int hr_stream_confirm(hr_stream *stream, const char *tenant_id,
                             uint64_t lsn);

/*
 * The confirmed position of a tenant (NULL: the slot's), 0 if none. A
 * tenant with nothing pending (everything handed over is confirmed) is at
 * the stream's position instead when that is later: the end of the last
 * transaction decoded for anyone, the last heartbeat, or the WAL end of
 * the server's last keepalive - every transaction committed before any of
 * them was handed over already.
 */
HR_API uint64_t hr_stream_confirmed_lsn(const hr_stream *stream,
                                        const char *tenant_id);

/*
 * hr_stream_snapshot_name - with export_snapshot, once step has created the
 * slot: the exported snapshot's name (SET TRANSACTION SNAPSHOT 'name' in a
 * REPEATABLE READ transaction on another connection sees the data exactly
 * as of the slot's consistent point), and the slot's consistent LSN; NULL /
 * 0 otherwise. The string is owned by the stream. When the slot already
 * existed no snapshot is held (the name stays NULL and step streams at
 * once); the consistent LSN is set whenever this stream created the slot.
 */
HR_API const char *hr_stream_snapshot_name(const hr_stream *stream);
HR_API uint64_t hr_stream_consistent_lsn(const hr_stream *stream);

/*
 * hr_stream_release_snapshot - the initial copy is done (or abandoned):
 * the stream lets the snapshot go and starts replicating from the
 * consistent point. HR_OK, HR_ESTATE (no snapshot held). If the connection
 * holding it broke (step returned HR_ESTATE saying the snapshot is gone;
 * the phase stays SNAPSHOT_HELD with a NULL name), the stream waits for
 * this call too, then streams from the slot: a copy made with the lost
 * snapshot is not consistent with it and must be redone by other means.
 */
HR_API int hr_stream_release_snapshot(hr_stream *stream);

/*
 * hr_stream_drop - remove the slot and the publication from the source
 * (blocking, with the stream's conninfo). The stream is closed afterwards.
 * HR_OK (also when they did not exist), HR_EIO, HR_ESTATE (the slot is in
 * use by another connection).
 */
HR_API int hr_stream_drop(hr_stream *stream);

/*
 * hr_stream_to_batch - convert the run of listed changes that starts at
 * changes[first] into `out` (cleared first) and set *next to the entry
 * after the run: the entries that follow, as long as they are inserts,
 * updates or deletes of the same relation version. Like
 * hr_pgtxn_to_batch (same columns, "_hr_op" first, same typed values) with
 * the roles applied:
 *
 *   AS_IS   as hr_pgtxn_to_batch: 1 insert; 4 + 2 (or 2 alone) update;
 *           3 delete
 *   DELETE  an update as a row with op 3 from its old tuple (key columns
 *           only, the others NULL, unless REPLICA IDENTITY FULL)
 *   INSERT  an update as a row with op 1 from its new tuple; a value the
 *           new tuple holds as unchanged TOAST is taken from the old row
 *           when the old row is complete (REPLICA IDENTITY FULL), and
 *           stays the marker otherwise
 *
 * HR_OK; HR_EINVAL (NULL argument, first >= n, an entry that is no row
 * change or out of the transaction's range, a role out of range, a role
 * other than AS_IS on a change that is not an update); HR_EPROTO (a
 * DELETE-role update without an old tuple: an update that moves a row to
 * another tenant must carry the old key, since the tenant column is part
 * of the replica identity, so the key changed; or as hr_pgtxn_to_batch);
 * and the other returns of hr_pgtxn_to_batch. Details in
 * hr_batch_errmsg(out); on error `out` is cleared.
 */
HR_API int hr_stream_to_batch(const hr_pgtxn *txn,
                              const hr_stream_change *changes, size_t n,
                              size_t first, hr_batch *out, size_t *next);

/*
 * hr_stream_slot_lsn - where the stream's slot starts: its
 * confirmed_flush_lsn when this stream last set up (its consistent point
 * if this stream created it). The slot holds every transaction that ends
 * after this LSN, none that ends at or before it. 0 until setup has seen
 * the slot (and for NULL).
 */
HR_API uint64_t hr_stream_slot_lsn(const hr_stream *stream);

/*
 * hr_stream_tenant_lag_bytes - how far `tenant_id` (NULL in dedicated
 * mode) trails the source: bytes of WAL between its confirmed position
 * (hr_stream_confirmed_lsn) and the furthest WAL end the server reported.
 * In shared mode the slot - and so the WAL the source keeps - waits for
 * the tenant that lags most: one that lags too far is a candidate for
 * hr_stream_move_tenant. 0 before the stream streamed, for a tenant added
 * before the stream started, or when the tenant is level. HR_EINVAL (NULL
 * stream, NULL tenant in shared mode), HR_ENOTFOUND (unknown tenant).
 * May be called from a callback.
 */
HR_API int64_t hr_stream_tenant_lag_bytes(const hr_stream *stream,
                                          const char *tenant_id);

/*
 * hr_stream_move_tenant - move `tenant_id` from the shared stream `from`
 * to the dedicated stream `to` (made for that tenant with hold_start, on
 * the same source database) without loss or duplicate:
 *
 *   1. create `to` and step it (alongside `from`) until its phase is HELD:
 *      its slot exists and starts at C = hr_stream_slot_lsn(to);
 *   2. keep the tenant on `from` - delivering and confirming - and call
 *      this function: it returns HR_EAGAIN until the tenant's confirmed
 *      position on `from` (hr_stream_confirmed_lsn) reaches C, since the
 *      new slot cannot send what ended before C;
 *   3. then it removes the tenant from `from` and releases `to`, which
 *      starts replicating from that confirmed position at its next step and
 *      skips every transaction `from` already handed over (those handed
 *      over but not yet confirmed are confirmed on `to`). The host's
 *      checkpoint stays valid: a restart streams the tenant from `to` with
 *      start_lsn = its checkpoint, which is at or after C.
 *
 * Returns HR_OK (moved), HR_EAGAIN (not yet: keep stepping both streams,
 * confirming the tenant's transactions, and call again), HR_EINVAL (NULL
 * or identical streams, `from` not shared, `to` not dedicated to this
 * tenant), HR_ENOTFOUND (the tenant is not on `from`), HR_ESTATE (`to` was
 * not made with hold_start, already took its tenant, or is closed - its
 * slot vanished; called from a callback). The message is in
 * hr_stream_errmsg(from). Neither stream may be in use by another thread.
 */
HR_API int hr_stream_move_tenant(hr_stream *from, const char *tenant_id,
                                 hr_stream *to);

/* hr_stream_errmsg - the last failure's message; "" if none. */
HR_API const char *hr_stream_errmsg(const hr_stream *stream);

#ifdef __cplusplus
}
#endif

#endif /* HELIOSREPL_STREAM_H */
