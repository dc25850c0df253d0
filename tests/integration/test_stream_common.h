/*
 * test_stream_common.h - helpers of the hr_stream integration tests: SQL on
 * the source, a fresh database per test, a collector of delivered rows, and
 * a loop that runs a stream until a condition holds.
 */
#ifndef HR_TEST_STREAM_COMMON_H
#define HR_TEST_STREAM_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include <heliosrepl/heliosrepl.h>
#include <heliosrepl/stream.h>

/* The source server's conninfo (HR_TEST_PG_SOURCE); fails the test if unset. */
const char *src_conninfo(void);
/* A fresh database `name` on the source (dropped first if it exists); its
 * conninfo goes to out. */
void fresh_db(const char *name, char *out, size_t outlen);
PGconn *db_connect(const char *conninfo);
/* Run SQL that must succeed (any number of statements). */
void sql(PGconn *conn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* One value of a one-row result, copied to out. */
void sql_value(PGconn *conn, char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* confirmed_flush_lsn of slot `slot` (0 if NULL / missing). */
uint64_t slot_confirmed(PGconn *conn, const char *slot);
uint64_t parse_lsn(const char *s);
uint64_t mono_ns(void);

/* One delivered row change. */
typedef struct got_row {
    char tenant[64];
    char table[64];
    int kind;      /* hr_pgchange_kind */
    int role;      /* hr_stream_role */
    long id;       /* the "id" column (new tuple; old for a delete or a
                      DELETE-role update) */
    char note[48]; /* the "note" column of the new tuple, "" if none */
    uint64_t end_lsn;
    uint32_t xid;
} got_row;

/* One row of the batches hr_stream_to_batch made of a delivery. */
typedef struct got_batch_row {
    char tenant[64];
    char table[64];
    long op; /* "_hr_op" */
    long id;
    char note[48]; /* "<null>" / "<toast>" when not a present value */
    size_t note_len;
} got_batch_row;

typedef struct collector {
    got_row *rows;
    size_t n, cap;
    hr_batch *batch; /* set: convert each delivery with hr_stream_to_batch */
    got_batch_row *brows;
    size_t nb, bcap;
    size_t txns;
    hr_stream *stream; /* for confirms */
    int confirm_each;  /* confirm every transaction from on_txn */
    int fail_next;     /* make the next on_txn fail with HR_EIO */
    uint64_t last_end; /* end LSN of the last transaction */
    int schema_changes;
} collector;

void collector_free(collector *c);
hr_stream_callbacks collector_callbacks(collector *c);
/* How many rows of `tenant` (NULL: all) were delivered. */
size_t collector_count(const collector *c, const char *tenant);

/* A stream with the common options; extra settings by the caller first. */
hr_stream_opts *base_opts(hr_env *env, const char *conninfo);
hr_stream *make_stream(hr_env *env, hr_stream_opts *opts, collector *c);

/* Run `s` until cond(arg) is true or `seconds` pass; fails the test on a
 * step error or on the timeout. */
typedef int (*cond_fn)(void *arg);
void run_until(hr_stream *s, cond_fn cond, void *arg, double seconds);
/* Condition: the collector holds at least `rows` rows. */
typedef struct rows_goal {
    collector *c;
    size_t rows;
} rows_goal;
int goal_reached(void *arg);

/* Run until the stream has started replication (setup done). */
void wait_streaming(hr_stream *s, double seconds);
/* Internal counters (tests link the static library). */
uint64_t stream_reconnects(const hr_stream *s);
uint64_t stream_heartbeats(const hr_stream *s); /* messages emitted */
/* Terminate the walsender of `slot`; returns how many were terminated. */
int kill_walsender(PGconn *conn, const char *slot);

/* Let the library log to stderr at INFO (HR_TEST_LOG=debug for DEBUG). */
void log_to_stderr(hr_env *env);

#endif
