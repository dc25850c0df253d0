/*
 * apply_internal.h - the applier's state, shared by its files:
 *   apply_opts.c     options
 *   applier.c        handle, tenants, the queue of submitted transactions
 *   apply_session.c  connection, set-up, checkpoints, step
 *   apply_group.c    a group: ops, pipeline and COPY segments, results
 *   apply_relmeta.c  target relations: columns, key, compatibility, SQL
 *   apply_values.c   values as binary parameters and binary COPY rows
 */
#ifndef HR_APPLY_INTERNAL_H
#define HR_APPLY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include <heliosrepl/apply.h>

#include "batch/batch_internal.h"
#include "core/core_internal.h"
#include "stream/stream_internal.h"

#define HR__APPLY_NAME_MAX 63

struct hr_applier_opts {
    hr_env *env;
    char *conninfo;
    char source_id[HR__APPLY_NAME_MAX + 1];
    char meta_schema[HR__APPLY_NAME_MAX + 1];
    char tenant_column[HR__APPLY_NAME_MAX + 1];
    size_t group_rows, group_bytes, copy_min_rows, max_pending_bytes;
    int64_t group_delay_ms;
    hr__error error;
};

/* ---- tenants ---- */
typedef struct hr__atenant {
    char id[HR__APPLY_NAME_MAX + 1];
    uint64_t checkpoint;      /* committed on the target */
    uint64_t last_submitted;  /* end LSN of the last transaction taken */
    uint64_t idempotent_until;
    int has_checkpoint;
    int paused;
    size_t tables_done;       /* initial copy: tables recorded */
    /* index of the tenant's last (non-copy) transaction in the group being
     * planned or finished; stale for tenants not in it, never read then */
    size_t group_last, group_last_checkpoint;
    char **done_tables;       /* "schema.table" of those */
    size_t done_cap;
} hr__atenant;

/* ---- submitted transactions ---- */
typedef enum hr__txkind {
    HR__TX_STREAM = 0, /* a source transaction */
    HR__TX_COPY = 1,   /* a table of the initial copy */
    HR__TX_FINISH = 2  /* the initial copy is complete: checkpoint */
} hr__txkind;

typedef struct hr__atxn {
    struct hr__atxn *next;
    size_t tenant;     /* index into applier->tenants */
    hr__txkind kind;
    uint64_t lsn;      /* end LSN; copy: snapshot LSN; finish: checkpoint */
    char *copy_schema, *copy_table;
    hr_batch **batches;
    size_t nbatches, cap;
    size_t rows, bytes;
} hr__atxn;

/* ---- target relations ---- */
typedef struct hr__tcol {
    char *name;
    uint32_t type_oid;
    int is_key;
} hr__tcol;

typedef struct hr__stmt {
    struct hr__stmt *next;
    int op;               /* 1 insert, 2 update, 3 delete, 5 truncate */
    int idempotent;
    uint8_t *mask;        /* target columns written (rel->ncols bytes) */
    Oid *ptypes;          /* parameter types */
    int nparams;
    char name[24];
    char *sql;
    int prepared;         /* 1 confirmed, 2 sent in the current pipeline */
} hr__stmt;

typedef struct hr__rel {
    struct hr__rel *next;
    char *schema, *table;
    int loaded;           /* metadata fetched */
    int exists;
    hr__tcol *cols;
    int ncols;
    int nkeys;
    hr__stmt *stmts;
} hr__rel;

/* ---- one target transaction in flight ---- */
typedef enum hr__opkind {
    HR__OP_SQL = 0,  /* a fixed statement: BEGIN, COMMIT */
    HR__OP_ROW = 1,  /* one row of a batch through a prepared statement */
    HR__OP_COPY = 2, /* rows [row, row_end) of a batch as binary COPY */
    HR__OP_META = 3  /* a statement with text parameters (checkpoint, ...) */
} hr__opkind;

#define HR__META_PARAMS 5

typedef struct hr__op {
    hr__opkind kind;
    size_t txn;       /* index into group.txns (SQL: SIZE_MAX) */
    hr_batch *batch;
    const int *inv;   /* target column -> batch column */
    size_t row, row_end, key_row;
    hr__rel *rel;
    hr__stmt *stmt;
    const char *sql;  /* SQL, META: the group's arena or a literal */
    int nparams;
    const char *params[HR__META_PARAMS];
} hr__op;

typedef enum hr__gstate {
    HR__G_NONE = 0,
    HR__G_META,       /* fetching relation metadata */
    HR__G_PIPE,       /* a pipeline segment sent: reading its results */
    HR__G_COPY_START, /* COPY sent: waiting for COPY IN */
    HR__G_COPY_DATA,  /* sending COPY data */
    HR__G_COPY_END,   /* waiting for the COPY's result */
    HR__G_ROLLBACK,   /* rolling back a failed group */
    HR__G_ERRLOG      /* recording an apply error */
} hr__gstate;

/* What a result in a pipeline answers: op index, + flag for a Prepare. */
#define HR__EXPECT_PREPARE ((size_t)1 << (sizeof(size_t) * 8 - 1))

typedef struct hr__group {
    hr__gstate state;
    hr__atxn **txns;  /* taken out of the queue, in order */
    size_t ntxns, txns_cap;
    hr__op *ops;
    size_t nops, ops_cap;
    size_t next_op;   /* first op not sent */
    size_t *expect;   /* ring of results still expected */
    size_t nexpect, expect_head, expect_cap;
    int in_pipeline;
    int failed;       /* an error was seen in this group */
    size_t failed_op;
    char fail_state[6];
    char fail_msg[HR__ERRMSG_MAX];
    /* memory that lives as long as the group: inv maps, SQL, params */
    void **arena;
    size_t narena, arena_cap;
    /* COPY in progress */
    uint8_t *copybuf;
    size_t copy_len, copy_cap, copy_sent;
    const char *copy_sql;
    size_t rows, bytes;
} hr__group;

struct hr_applier {
    hr_env *env;
    hr_applier_opts *opts;
    hr_applier_callbacks cb;
    hr__error error;
    int phase;
    int in_callback;
    hr__pgc pgc;
    const char **keys, **vals;
    void *params_storage;
    uint64_t retry_at_ns;
    uint64_t backoff_ns;
    int setup_step;
    /* tenants */
    hr__atenant *tenants;
    size_t ntenants, tenants_cap;
    /* queue */
    hr__atxn *head, *tail;
    hr__atxn *open;       /* being submitted */
    size_t pending_bytes, pending_rows;
    int nothing_ready;    /* only paused tenants queued */
    int isolate;          /* next groups: one tenant each */
    int invalidate_pending; /* relations to fetch again before a group */
    uint64_t oldest_ns;   /* when the queue's head became ready */
    /* relations */
    hr__rel *rels;
    unsigned stmt_seq;
    hr__group g;
    /* scratch for parameters */
    uint8_t *scratch;
    size_t scratch_cap;
    /* stats */
    uint64_t st_target_txns, st_source_txns, st_rows, st_bytes;
};

/* applier.c */
int hr__applier_tenant(hr_applier *a, const char *id, int create, size_t *out);
void hr__atxn_free(hr_applier *a, hr__atxn *t);
int hr__tenant_mark_done(hr_applier *a, hr__atenant *t, const char *qualified);

/* apply_session.c */
void hr__applier_lost(hr_applier *a, const char *why);
int hr__applier_send_simple(hr_applier *a, const char *sql);

/* apply_group.c: build a group from the queue, finish or fail it */
int hr__group_step(hr_applier *a, uint64_t now_ns);
void hr__group_reset(hr_applier *a, int requeue);
int hr__group_wants_timer(const hr_applier *a, uint64_t now_ns, int64_t *ms);
void *hr__group_alloc(hr_applier *a, size_t size);
char *hr__group_strdup(hr_applier *a, const char *s);

/* apply_plan.c: the ops of the group's transactions */
int hr__group_plan(hr_applier *a);
/* The "_hr_op" of a batch row. */
int64_t hr__op_code(const hr_batch *b, size_t row);
int hr__group_done(hr_applier *a);
int hr__group_failed(hr_applier *a);

/* apply_exec.c: send the ops (pipeline and COPY segments), read results.
 * HR_OK progress, HR_EAGAIN wait, HR_EIO connection lost. */
int hr__exec_start(hr_applier *a);
int hr__exec_step(hr_applier *a);

/* apply_relmeta.c */
hr__rel *hr__rel_get(hr_applier *a, const char *schema, const char *table,
                     int create);
void hr__rels_free(hr_applier *a);
void hr__rels_forget_prepared(hr_applier *a);
void hr__rels_invalidate(hr_applier *a);
/* SQL that fetches the metadata of every relation not loaded yet (NULL
 * when none): rows (schema, table, attname, atttypid, is_key). */
int hr__rel_meta_sql(hr_applier *a, char **sql);
int hr__rel_meta_load(hr_applier *a, PGresult *res);
/* Check a batch against its target relation: HR_OK or HR_ESCHEMA with a
 * message in msg. */
int hr__rel_check(const hr__rel *r, const hr_batch *b, int need_key,
                  const char *tenant_column, char *msg, size_t cap);
/* apply_stmt.c: the statement for row `row` of b (op, the target columns
 * it writes), created on demand; `inv` maps target column -> batch column
 * (-1: not in the batch). */
int hr__rel_stmt(hr_applier *a, hr__rel *r, const int *inv,
                 const hr_batch *b, int op, int idempotent, size_t row,
                 hr__stmt **out);
/* The parameters of an op's statement into the scratch: values, lengths,
 * formats. */
int hr__stmt_params(hr_applier *a, const hr__rel *r, const hr__stmt *s,
                    const int *inv, const hr_batch *b, size_t row,
                    size_t key_row, const char *tenant,
                    const char *const **values, const int **lengths,
                    const int **formats);
/* COPY ... FROM STDIN (FORMAT binary) for the target columns in the batch;
 * 1 from copy_ok when the batch's types allow a binary COPY. */
int hr__rel_copy_sql(hr_applier *a, const hr__rel *r, const int *inv,
                     char **sql);
int hr__rel_copy_ok(const hr__rel *r, const int *inv, const hr_batch *b);
const hr__tcol *hr__rel_col(const hr__rel *r, const char *name);

/* apply_stmt.c */
void hr__stmt_free(hr_applier *a, hr__stmt *s);

/* apply_values.c */
/* 1 when a value of this batch type goes as a binary parameter / in a
 * binary COPY. */
int hr__param_binary(uint32_t oid);
int hr__copy_binary(uint32_t oid);
/* numeric's text form as its binary form (room: len + 16 bytes): the
 * length, or -1 for text that is not a numeric. */
int hr__numeric_binary(const uint8_t *s, size_t len, uint8_t *out);
/* Cell (col, row) of b in binary send format at dst (room:
 * hr__value_binary_max): HR_OK with *len (-1 for NULL / unchanged TOAST),
 * HR_EINVAL (a numeric that is no number). */
int hr__value_binary(const hr_batch *b, int col, size_t row, uint8_t *dst,
                     int *len);
size_t hr__value_binary_max(const hr_batch *b, int col, size_t row);
/* The group's COPY buffer: header, rows [from, to) of b (target columns
 * in order, through inv), trailer. */
int hr__copy_header(hr_applier *a);
int hr__copy_rows(hr_applier *a, const int *inv, int ntcols,
                  const hr_batch *b, size_t from, size_t to);
int hr__copy_trailer(hr_applier *a);
int hr__copy_reserve(hr_applier *a, size_t more);
int hr__scratch_reserve(hr_applier *a, size_t n);

#endif /* HR_APPLY_INTERNAL_H */
