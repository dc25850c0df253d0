/*
 * copy_internal.h - the copier's data structures, shared by the files of
 * lib/copy. Not installed.
 *
 *   copytext.c    COPY text rows into a batch (sans-I/O, fuzzed)
 *   copy_opts.c   the options builder
 *   copy_sql.c    the statements the copier sends
 *   copier.c      the handle: new / free / fd / interest / timeout /
 *                 progress / run
 *   copy_step.c   the state machine driven by hr_copier_step
 *
 * The source side shares lib/stream's internals rather than repeating
 * them: the option rules and table discovery (an hr_stream_opts inside the
 * copier's options, hr__sql_tables), the non-blocking libpq connection
 * (hr__pgc_*), connection parameters, SQL buffers and error classes.
 */
#ifndef HR_COPY_INTERNAL_H
#define HR_COPY_INTERNAL_H

#include <heliosrepl/copy.h>

#include "copytext.h"
#include "stream/stream_internal.h"

#define HR__COPY_ROWS_DEFAULT 1024
#define HR__COPY_ROWS_MAX 1048576
/* A batch held back by on_batch's HR_EAGAIN is offered again this often. */
#define HR__COPY_RETRY_NS (10 * HR__NS_PER_MS)
/* A batch goes out early once its rows took this much COPY text, so wide
 * rows (TOASTed values) do not make batches of gigabytes. */
#define HR__COPY_BATCH_BYTES ((uint64_t)16 << 20)
/* Rows read in one step before yielding (timeout 0). */
#define HR__COPY_STEP_ROWS 16384

struct hr_copier_opts {
    hr_env *env;
    /* conninfo, tenant, tenant column, tables and schemas: the stream's
     * rules, the stream's validation */
    hr_stream_opts *source;
    /* the skip list, parsed by the stream's table rule */
    hr_stream_opts *skip;
    /* priorities: tables parsed by the stream's rule, values parallel */
    hr_stream_opts *prio;
    double *prio_values;
    size_t prio_cap;
    char *snapshot; /* NULL: a snapshot of the copier's own */
    size_t rows_per_batch;
    hr__error error;
};

typedef enum hr__cst {
    HR__CST_NEW = 0, /* nothing done yet: the first step connects */
    HR__CST_CONNECTING,
    HR__CST_BEGIN,      /* BEGIN ... snapshot (+ WAL position) in flight */
    HR__CST_TABLES,     /* table discovery in flight */
    HR__CST_META,       /* columns + count of table `cur` in flight */
    HR__CST_COPY_START, /* COPY of table `cur` sent, no answer yet */
    HR__CST_COPYING,    /* reading COPY data */
    HR__CST_COPY_END,   /* COPY data ended: its final result in flight */
    HR__CST_TABLE_END,  /* last batch offered: on_table_end, next table */
    HR__CST_DONE,
    HR__CST_FAILED
} hr__cst;

typedef struct hr__ctable {
    char *schema;
    char *name;
    char **colnames;
    uint32_t *coltypes;
    int ncols;
    uint64_t expected;
} hr__ctable;

struct hr_copier {
    hr_env *env;
    hr_stream_opts *cfg; /* resolved copy of opts->source */
    hr__strlist skip_schemas, skip_names;
    hr__strlist prio_schemas, prio_names;
    double *prio; /* parallel to prio_names */
    char *snapshot;
    size_t rows_per_batch;
    hr_copier_callbacks cb;
    hr__error error;
    int failed; /* FAILED: the status every later step returns */
    int in_callback;

    hr__cst state;
    hr__pgc pg;
    uint64_t now;
    uint64_t connect_started;
    int more_pending;  /* stopped reading with rows left in libpq's buffer */
    uint64_t retry_at; /* a held-back batch is offered again at */
    uint64_t snapshot_lsn;

    hr__ctable *tables;
    size_t ntables;
    size_t cur;

    hr_batch *batch; /* being filled, or offered (ready) */
    int ready;
    uint64_t rows_done, rows_expected, bytes;
    uint64_t table_rows, table_bytes, table_parsed;
    uint64_t batch_bytes; /* COPY text of the rows in `batch` */
};

/* A deep copy of the copier options' fields into `c` (cfg resolved).
 * HR_OK, HR_EINVAL (message in err), HR_ENOMEM. */
int hr__copier_opts_apply(const hr_copier_opts *opts, hr_copier *c,
                          hr__error *err);

/* The statements (copy_sql.c); failures in b->failed. */
void hr__sql_copy_begin(hr__sbuf *b, PGconn *conn, const char *snapshot);
void hr__sql_copy_meta(hr__sbuf *b, PGconn *conn, const hr_stream_opts *cfg,
                       const hr__ctable *t);
void hr__sql_copy_out(hr__sbuf *b, PGconn *conn, const hr_stream_opts *cfg,
                      const hr__ctable *t);

/* Drive the state machine (copy_step.c): HR_OK (or HR_EAGAIN: wait), or a
 * failure the caller makes final. */
int hr__copier_advance(hr_copier *c);
/* Close the connection; free the tables' scratch. */
void hr__copier_close(hr_copier *c);

#endif /* HR_COPY_INTERNAL_H */
