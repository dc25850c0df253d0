/*
 * stream_internal.h - the tenant change stream's data structures, shared by
 * the files of lib/stream. Not installed.
 *
 * Files and their jobs:
 *   stream_opts.c      the options builder; tenant id / name validation;
 *                      default slot and publication names
 *   stream_sql.c       every SQL / replication command the stream sends,
 *                      built with libpq's escaping (pure but for the PGconn
 *                      that escaping needs)
 *   stream_pgconn.c    a non-blocking libpq connection: connect, one query
 *                      at a time, result collection, flush, fd / interest
 *   stream_setup.c     setup over the replication connection: probe, table
 *                      discovery and replica identity check, publication,
 *                      slot, START_REPLICATION
 *   stream_conn.c      the connection state machine driven by step:
 *                      connect, setup, stream, lose, back off, reconnect
 *   stream_feedback.c  standby status updates, timers, timeout arithmetic
 *   stream_heartbeat.c heartbeat messages over a second, normal connection
 *   stream_tenants.c   the tenant table (hash by id) and confirm positions
 *   stream_demux.c     decoder callbacks: tenant of a change, per-tenant
 *                      transactions (rows moving between tenants as a
 *                      delete and an insert), skip of what was handed over
 *                      already, keepalive positions
 *   stream_batch.c     hr_stream_to_batch (over lib/pgoutput/txn_batch.c)
 *   stream.c           the public handle: new / free / fds / phase /
 *                      confirm / ...
 *   stream_run.c       hr_stream_run (poll loop) and hr_stream_drop (blocking)
 *   stream_move.c      a tenant's move from a shared stream to a dedicated
 *                      one (hr_stream_move_tenant), lag, the slot's start
 *
 * Positions. Each tenant has `confirmed` (what the host said it applied, or
 * what the stream advanced for it while it had nothing pending) and
 * `delivered` (the end LSN of the last transaction handed over). A tenant is
 * quiet when delivered <= confirmed. The stream's `position` is the end of
 * the last transaction it decoded completely (for any tenant or none), the
 * LSN of the last heartbeat, or the WAL end of the last keepalive: every
 * transaction that committed before it was handed over already, so a quiet
 * tenant has nothing up to `position`, and its effective confirm is
 * max(confirmed, position). The slot is confirmed to the minimum effective
 * confirm over the tenants, never below the slot's own confirmed_flush_lsn
 * seen at connect.
 */
#ifndef HR_STREAM_INTERNAL_H
#define HR_STREAM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include <heliosrepl/stream.h>

#include "core/core_internal.h"

#define HR__PG_NAME_MAX 63 /* NAMEDATALEN - 1 */
#define HR__TENANT_ID_MAX 63

#define HR__DEFAULT_TENANT_COLUMN "tenant_id"
#define HR__DEFAULT_SCHEMA "public"
#define HR__SHARED_NAME "hr_shared"
#define HR__HEARTBEAT_PREFIX "heliosrepl.heartbeat"
/* Settings of every connection, so text values read back unambiguously. */
#define HR__SESSION_OPTIONS                                                    \
    "-c datestyle=ISO -c timezone=UTC -c extra_float_digits=3"

#define HR__NS_PER_MS 1000000ull
/* Reconnect back-off: doubles from the first to the last. */
#define HR__BACKOFF_FIRST_NS (100 * HR__NS_PER_MS)
#define HR__BACKOFF_MAX_NS (30000 * HR__NS_PER_MS)
/* While a heartbeat is out and the host watches hr_stream_fd alone (it never
 * called hr_stream_fds), step is asked to run this often. */
#define HR__HEARTBEAT_POLL_NS (10 * HR__NS_PER_MS)
/* A heartbeat still connecting or waiting for its answer after this long
 * is given up (and tried again at the next interval). */
#define HR__HEARTBEAT_TIMEOUT_NS (30000 * HR__NS_PER_MS)
/* CopyData messages read in one step before yielding (timeout 0). */
#define HR__READ_BUDGET 4096
/* A deadline meaning "step now" (0 means no deadline). */
#define HR__DEADLINE_NOW 1
/* A connection attempt that has not finished after this long is given up
 * (libpq's connect_timeout is enforced only by its blocking calls). */
#define HR__CONNECT_TIMEOUT_NS (30000 * HR__NS_PER_MS)
/* Setup restarts (a concurrent creator won a race) before giving up. */
#define HR__SETUP_RESTARTS_MAX 5

/* ---- a list of owned strings ---- */
typedef struct hr__strlist {
    char **items;
    size_t n, cap;
} hr__strlist;

int hr__strlist_add(const hr_env *env, hr__strlist *l, const char *s,
                    size_t len);
int hr__strlist_copy(const hr_env *env, hr__strlist *dst,
                     const hr__strlist *src);
void hr__strlist_free(const hr_env *env, hr__strlist *l);

/* ---- options (stream_opts.c) ---- */
struct hr_stream_opts {
    hr_env *env;
    char *conninfo;
    hr_stream_mode mode;
    char *tenant;              /* dedicated mode */
    char *tenant_column;       /* NULL: HR__DEFAULT_TENANT_COLUMN */
    hr__strlist table_schemas; /* explicit tables, parallel lists */
    hr__strlist table_names;
    hr__strlist schemas;
    char *slot;        /* NULL: derived */
    char *publication; /* NULL: derived */
    uint64_t start_lsn;
    int binary;
    int proto_version;
    int64_t status_interval_ms;
    int64_t heartbeat_interval_ms;
    int export_snapshot;
    int hold_start;
    hr__error error;
};

/* 1 when `id` (len bytes) is a valid tenant id: 1..63 of [A-Za-z0-9_.-]. */
int hr__tenant_id_valid(const char *id, size_t len);
/* 1 when `name` is a valid replication slot name: 1..63 of [a-z0-9_]. */
int hr__slot_name_valid(const char *name);
/*
 * The default slot / publication name of a dedicated tenant, into out[64]:
 * "hr_" + id when the id is already 1..60 of [a-z0-9_]; otherwise
 * "hrx_" + the id folded to [a-z0-9_] (at most 42 bytes) + "_" + 16 hex
 * digits of a 64-bit hash of the exact id, so distinct ids never share a
 * slot (slot names allow neither upper case, '.' nor '-').
 */
void hr__default_name(const char *tenant_id, char out[HR__PG_NAME_MAX + 1]);
/* A deep copy with defaults resolved (tenant column, slot, publication,
 * schema "public" when neither tables nor schemas were given), validated
 * as a whole: HR_OK, HR_EINVAL (message in err), HR_ENOMEM. */
int hr__stream_opts_resolve(const hr_stream_opts *src, hr_stream_opts **out,
                            hr__error *err);

/* ---- growable string and SQL (stream_sql.c) ---- */
typedef struct hr__sbuf {
    const hr_env *env;
    char *p;
    size_t len, cap;
    int failed; /* HR_ENOMEM or HR_EINVAL (escaping refused the input) */
} hr__sbuf;

void hr__sbuf_init(hr__sbuf *b, const hr_env *env);
void hr__sbuf_free(hr__sbuf *b);
void hr__sbuf_add(hr__sbuf *b, const char *s);
void hr__sbuf_addn(hr__sbuf *b, const char *s, size_t n);
void hr__sbuf_addf(hr__sbuf *b, const char *fmt, ...) HR_PRINTF_LIKE(2, 3);
/* Append `s` quoted as an identifier / literal by libpq for `conn`. */
void hr__sbuf_ident(hr__sbuf *b, PGconn *conn, const char *s);
void hr__sbuf_literal(hr__sbuf *b, PGconn *conn, const char *s);
/* HR_OK with the string in *out (caller frees with hr__free), or the
 * failure (HR_ENOMEM, HR_EINVAL); the buffer is emptied either way. */
int hr__sbuf_take(hr__sbuf *b, char **out);

/* "X/Y" <-> LSN. parse: HR_OK or HR_EINVAL. format: out[24]. */
int hr__lsn_parse(const char *s, uint64_t *out);
void hr__lsn_format(uint64_t lsn, char out[24]);

/* A table the setup found: its schema and name, and whether the
 * publication already has it. */
typedef struct hr__table {
    char *schema;
    char *name;
    int in_publication;
} hr__table;

void hr__sql_probe(hr__sbuf *b, PGconn *conn, const hr_stream_opts *cfg);
void hr__sql_tables(hr__sbuf *b, PGconn *conn, const hr_stream_opts *cfg);
/* CREATE PUBLICATION (create = 1) or ALTER PUBLICATION ... ADD TABLE for
 * the tables with in_publication == 0; dedicated mode adds each table with
 * the row filter WHERE (tenant_col = 'tenant'). */
void hr__sql_publication(hr__sbuf *b, PGconn *conn, const hr_stream_opts *cfg,
                         const hr__table *tables, size_t n, int create);
void hr__sql_create_slot(hr__sbuf *b, PGconn *conn, const hr_stream_opts *cfg);
void hr__sql_start(hr__sbuf *b, PGconn *conn, const hr_stream_opts *cfg,
                   uint64_t lsn);
void hr__sql_drop_slot(hr__sbuf *b, PGconn *conn, const hr_stream_opts *cfg);
void hr__sql_drop_publication(hr__sbuf *b, PGconn *conn,
                              const hr_stream_opts *cfg);

/* ---- a non-blocking libpq connection (stream_pgconn.c) ---- */
typedef enum hr__pgc_state {
    HR__PGC_NONE = 0,   /* no connection */
    HR__PGC_CONNECTING, /* PQconnectPoll in progress */
    HR__PGC_IDLE,       /* connected, no query in flight */
    HR__PGC_BUSY,       /* a query in flight */
    HR__PGC_COPY        /* COPY BOTH (replication streaming) */
} hr__pgc_state;

typedef struct hr__pgc {
    PGconn *conn;
    hr__pgc_state state;
    int poll_write;    /* connecting: PQconnectPoll wants the socket writable */
    int flush_pending; /* output queued in libpq: wait for writable */
    PGresult *result;  /* busy: the result kept so far */
    char errbuf[256];  /* the last libpq failure, one line */
} hr__pgc;

/*
 * The libpq keywords/values of a connection to `conninfo` (parsed with
 * PQconninfoParse, so URIs work), with our session options appended to any
 * `options` given, application_name defaulted, and replication=database
 * when `replication`. Arrays and strings live in *storage (hr__free).
 */
int hr__conn_params(const hr_env *env, const char *conninfo, int replication,
                    const char *application_name, const char ***keys,
                    const char ***vals, void **storage, hr__error *err);

/* Start connecting; server notices go to the env's log (DEBUG), never to
 * stderr as libpq's default would. */
int hr__pgc_start(hr__pgc *c, const hr_env *env, const char *const *keys,
                  const char *const *vals);
/* Route a connection's notices to the env's log. */
void hr__pg_route_notices(PGconn *conn, const hr_env *env);
/* HR_OK connected (non-blocking mode set), HR_EAGAIN, or HR_EIO / HR_EAUTH. */
int hr__pgc_connect_poll(hr__pgc *c);
/* Send one query (flushing what fits): HR_OK or HR_EIO. */
int hr__pgc_send(hr__pgc *c, const char *sql);
/* HR_OK when the query finished (*out: its result, the first error if any,
 * caller clears; for COPY the copy-start result and state COPY), HR_EAGAIN,
 * or HR_EIO (connection broke: message in errbuf). */
int hr__pgc_collect(hr__pgc *c, PGresult **out);
/* Flush queued output: HR_OK (maybe still pending) or HR_EIO. */
int hr__pgc_flush(hr__pgc *c);
void hr__pgc_close(hr__pgc *c);
int hr__pgc_fd(const hr__pgc *c);
int hr__pgc_interest(const hr__pgc *c);
/* Record libpq's message for `c->conn` (or `fallback`) in errbuf. */
const char *hr__pgc_note(hr__pgc *c, const char *fallback);

/*
 * How a failed result (or a broken connection when res is NULL) should be
 * handled: HR_EAGAIN (transient: reconnect with back-off, step says HR_OK),
 * or the status step returns (HR_EAUTH, HR_ESCHEMA, HR_ESTATE, ...), after
 * which the stream also reconnects with back-off. *sqlstate is set to the
 * result's SQLSTATE ("" if none).
 */
int hr__classify_error(const PGresult *res, const char **sqlstate);
/* The same from the SQLSTATE alone ("" or NULL: a lost connection). */
int hr__classify_sqlstate(const char *sqlstate);
/* 1 while `c` is connecting or has a query out: its socket matters. */
int hr__pgc_in_flight(const hr__pgc *c);

/* ---- tenants (stream_tenants.c) ---- */
typedef struct hr__tenant {
    char *id;
    size_t len;
    uint64_t confirmed; /* see the comment at the top */
    uint64_t delivered;
    int fresh; /* added with no checkpoint: starts at the position */
    /* demux scratch for the transaction being split */
    uint32_t stamp;
    size_t count, fill;
} hr__tenant;

typedef struct hr__tenants {
    hr__tenant **v;
    size_t n, cap;
    uint32_t *index;  /* open addressing: 0 empty, else v index + 1 */
    size_t index_cap; /* a power of two, > 2n */
} hr__tenants;

int hr__tenants_add(const hr_env *env, hr__tenants *t, const char *id,
                    size_t len, hr__tenant **out);
hr__tenant *hr__tenants_find(const hr__tenants *t, const char *id, size_t len);
/* HR_OK or HR_ENOTFOUND. */
int hr__tenants_remove(const hr_env *env, hr__tenants *t, const char *id);
void hr__tenants_free(const hr_env *env, hr__tenants *t);

/* ---- the stream ---- */
typedef enum hr__st {
    HR__ST_IDLE = 0, /* no connection: (re)connect at reconnect_at */
    HR__ST_CONNECTING,
    HR__ST_PROBE,       /* wal_level, publication and slot query in flight */
    HR__ST_TABLES,      /* table discovery in flight */
    HR__ST_PUBLICATION, /* CREATE / ALTER PUBLICATION in flight */
    HR__ST_SLOT,        /* CREATE_REPLICATION_SLOT in flight */
    HR__ST_SNAPSHOT,    /* slot created, its snapshot held for the host */
    HR__ST_HELD,        /* hold_start: set up, waits for a tenant's move */
    HR__ST_START,       /* START_REPLICATION in flight */
    HR__ST_STREAMING,
    HR__ST_CLOSED /* for good: hr_stream_drop, or the slot vanished */
} hr__st;

typedef enum hr__snap {
    HR__SNAP_NONE = 0,
    HR__SNAP_HELD, /* exported, waiting for hr_stream_release_snapshot */
    HR__SNAP_LOST, /* the holding connection died: waits for release */
    HR__SNAP_RELEASED
} hr__snap;

/* Who gets row change i of the transaction being split (shared mode):
 * `to` the tenant of its (new) row, `from` the tenant its row left (an
 * update that moved it; `moved` is set even if that tenant is not
 * registered). `to` may be &all_tenants (a TRUNCATE). */
typedef struct hr__owner {
    hr__tenant *to;
    hr__tenant *from;
    int moved;
} hr__owner;

/* The tenant column of one relation version, cached by OID. */
typedef struct hr__relcol {
    uint32_t oid;
    int col; /* -1: the relation has no tenant column */
} hr__relcol;

struct hr_stream {
    hr_env *env;
    hr_stream_opts *cfg; /* resolved copy */
    hr_stream_callbacks cb;
    hr__error error;
    hr__tenants tenants;
    hr_pgdecoder *dec;
    uint64_t now;    /* the current step's clock */
    int in_callback; /* a host callback is running: no re-entry */
    /* The host called hr_stream_fds: it watches every socket reported
     * there, so no polling steps are asked for. The one field a const
     * query writes (a stream is always a heap object of hr_stream_new). */
    int fds_watched;
    /* CLOSED: what every later step returns (code and message). */
    hr__error closed;

    /* replication connection */
    hr__st state;
    hr__pgc repl;
    int backend_pid; /* of the last walsender, for hr_stream_drop */
    uint64_t reconnect_at;
    uint64_t backoff_ns;
    int setup_restarts;
    int server_version;
    int more_pending; /* stopped reading with messages left: step again */
    uint64_t connect_started;

    /* setup */
    int pub_exists;
    int slot_exists;
    int slot_seen;        /* the slot existed at some connect: it must stay */
    int slot_create_sent; /* CREATE_REPLICATION_SLOT went out, no answer yet */
    hr__table *tables;
    size_t ntables;
    uint64_t slot_floor; /* the slot's confirmed_flush_lsn at connect */
    uint64_t start_lsn_used;

    /* hold_start: 1 until hr_stream_move_tenant moved the tenant here */
    int held;

    /* snapshot */
    hr__snap snap;
    char *snapshot_name;
    uint64_t consistent_lsn;

    /* positions */
    uint64_t position;
    uint64_t flush_sent; /* the last flush position reported */

    /* feedback */
    uint64_t next_status_at;
    int status_now;     /* the server asked, or a confirm must go out */
    int status_blocked; /* libpq could not queue it: wait for writable */

    /* heartbeats */
    hr__pgc hb;
    uint64_t next_hb_at;
    uint64_t hb_retry_at;
    uint64_t hb_started;  /* when the one in flight was connected / sent */
    uint64_t hb_position; /* the position when the last one was due */
    uint64_t heartbeats_emitted;

    /* demux */
    hr__relcol *relcols;
    size_t nrelcols, relcols_cap;
    hr_stream_change *chg; /* the tenants' change lists, one after another */
    size_t chg_cap;
    hr__owner *owner;
    size_t owner_cap;
    hr__tenant **touched;
    size_t touched_cap;
    uint32_t stamp;

    /* figures for tests and logs */
    uint64_t txns_delivered;
    uint64_t reconnects;
};

/* ---- stream_conn.c ---- */
/* One pass of the state machine; *progressed when the state moved on. */
int hr__stream_advance(hr_stream *s, int *progressed);
/*
 * The replication connection is gone or must go: close it, reset the
 * decoder, back off. `code` is what the caller returns; HR_EAGAIN means a
 * transient loss (logged, step returns HR_OK). Returns the status for step.
 */
int hr__stream_lost(hr_stream *s, int code, const char *fmt, ...)
    HR_PRINTF_LIKE(3, 4);
/* Close the connections without backing off (free, drop). */
void hr__stream_close(hr_stream *s);
/* Close for good (phase CLOSED): every later step returns `code` with this
 * message. Returns `code`. */
int hr__stream_shut(hr_stream *s, int code, const char *fmt, ...)
    HR_PRINTF_LIKE(3, 4);
/* Start the connection attempt now (state IDLE -> CONNECTING). */
int hr__stream_connect(hr_stream *s);

/* ---- stream_setup.c ---- */
/* After connecting: check the server, send the probe. */
int hr__setup_begin(hr_stream *s);
/* A setup query finished with `res` (owned here): next state or error. */
int hr__setup_result(hr_stream *s, PGresult *res);
/* Send START_REPLICATION. */
int hr__setup_start(hr_stream *s);
void hr__setup_clear_tables(hr_stream *s);

/* ---- stream_feedback.c ---- */
#define HR__STATUS_UPDATE_LEN 34
/* Microseconds between 1970-01-01 and 2000-01-01 (PostgreSQL's epoch). */
#define HR__PG_EPOCH_OFFSET_US 946684800000000ll
/* Encode a standby status update ('r'): out gets 34 bytes. */
void hr__status_encode(uint8_t out[HR__STATUS_UPDATE_LEN], uint64_t write,
                       uint64_t flush, uint64_t apply, int64_t pg_time_us,
                       int reply);
/* Milliseconds from now_ns until deadline_ns, rounded up (0 if passed). */
int64_t hr__ms_until(uint64_t deadline_ns, uint64_t now_ns);
/* The earlier of two deadlines; 0 means none. */
uint64_t hr__deadline_min(uint64_t a, uint64_t b);
/* The effective confirm of a tenant (see the comment at the top). */
uint64_t hr__tenant_effective(const hr_stream *s, const hr__tenant *t);
/* What the slot may be confirmed to: max(slot_floor, min effective). */
uint64_t hr__slot_confirm(const hr_stream *s);
/* Send a status update if one is due (or forced): HR_OK or HR_EIO. */
int hr__feedback_step(hr_stream *s);
/* The next time step must run for feedback / reading; 0 = none. */
uint64_t hr__feedback_deadline(const hr_stream *s);

/* ---- stream_heartbeat.c ---- */
/* Drive the heartbeat connection and timer (never fails the stream). */
void hr__heartbeat_step(hr_stream *s);
/* A heartbeat message at `lsn` arrived on the replication stream. */
void hr__heartbeat_arrived(hr_stream *s, uint64_t lsn);
uint64_t hr__heartbeat_deadline(const hr_stream *s);
/* The heartbeat statement: emits the message only if WAL was written after
 * `position` (an idle server stays idle). out[HR__HEARTBEAT_SQL_MAX]. */
#define HR__HEARTBEAT_SQL_MAX 256
void hr__heartbeat_sql(uint64_t position, char out[HR__HEARTBEAT_SQL_MAX]);
/* 1 when some tenant has nothing pending (a heartbeat would move it). */
int hr__any_quiet(const hr_stream *s);

/* ---- stream_demux.c ---- */
/* The decoder callbacks of a stream (ctx = the stream). */
hr_pgdecoder_callbacks hr__demux_callbacks(hr_stream *s);
/* Feed one CopyData payload (tests call it without a connection). */
int hr__stream_feed(hr_stream *s, const uint8_t *payload, size_t len);
/* Forget the cached tenant columns (the decoder was reset). */
void hr__demux_forget(hr_stream *s);

#endif /* HR_STREAM_INTERNAL_H */
