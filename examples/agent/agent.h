/*
 * agent.h - heliosrepl-agent, the replication agent: shared state of its
 * parts (config, per-tenant pipeline, receiving side, source queries, main
 * loop). One process, one thread, one poll(2) loop over every handle.
 */
#ifndef HR_AGENT_H
#define HR_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include <heliosrepl/apply.h>
#include <heliosrepl/copy.h>
#include <heliosrepl/heliosrepl.h>

#include "agent_qos.h"
#include "agent_unitbuf.h"

/* Exit codes (documented in docs/agent.md and --help). */
#define AGENT_EXIT_OK 0      /* clean shutdown, or caught up */
#define AGENT_EXIT_FAILED 1  /* a tenant failed, or a fatal library error */
#define AGENT_EXIT_USAGE 2   /* bad command line or config file */
#define AGENT_EXIT_TIMEOUT 3 /* --timeout passed before catch-up */

#define AGENT_MAX_LIST 64

typedef struct agent_config {
    char *source;    /* source conninfo */
    char *target;    /* target conninfo */
    char *source_id; /* applier source_id */
    char *tenant_column;
    char *tenants[AGENT_MAX_LIST];
    size_t n_tenants;
    char *schemas[AGENT_MAX_LIST];
    size_t n_schemas;
    char *tables[AGENT_MAX_LIST];
    size_t n_tables;
    char *
        slot_prefix; /* slot = prefix + tenant (folded), publication likewise */
    char *meta_schema;
    int has_key;
    uint8_t key[32];
    long group_rows, group_bytes, group_delay_ms;
    long queue_messages, queue_bytes;
    long copy_rows_per_batch;
    long codec_level;     /* 0: the codec's default */
    int codec_dictionary; /* -1: the codec's default */
    double progress_s;    /* progress line interval; 0 = none */
    long status_interval_ms;
    long heartbeat_interval_ms;
    int binary;
    int until_caught_up; /* exit 0 once caught up */
    double timeout_s;    /* give up after this long (0 = never) */
    int verbose;
    agent_qos_config qos; /* [qos] (agent_qos.c) */
} agent_config;

/* Parse argv (and the config file it names); exit code or -1 to go on. */
int agent_config_load(agent_config *cfg, int argc, char **argv);
void agent_config_free(agent_config *cfg);

/* ---- per tenant ---- */

typedef enum tenant_state {
    TS_INIT = 0, /* waiting for the applier's checkpoints */
    TS_SNAPSHOT, /* stream creating its slot with a snapshot */
    TS_COPY,     /* copier running */
    TS_STREAM,   /* streaming */
    TS_FAILED
} tenant_state;

/* A message the transport refused, kept in order until it has room. */
typedef struct spill_msg {
    struct spill_msg *next;
    hr_transport_meta meta;
    char *schema, *table;
    uint8_t *data;
    size_t len;
} spill_msg;

typedef struct lsn_time {
    uint64_t lsn;
    int64_t commit_time;
} lsn_time;

#define LAG_RING 4096

struct agent;

typedef struct tenant {
    struct agent *agent;
    char *id;
    char slot[64];
    tenant_state state;
    hr_stream *stream;
    hr_copier *copier;
    int copy_own_snapshot; /* copier took its own snapshot (resumed) */
    uint64_t copy_lsn;     /* where streaming starts: the finish_copy LSN */
    int copy_unit_open;    /* a table's COPY unit was started */
    int unit_partial;      /* a FIRST went out, its LAST not yet */
    uint64_t copy_rows, copy_rows_expected;
    double copy_percent;
    /* progress */
    uint64_t rows, raw_bytes, wire_bytes, txns;
    uint64_t applied_lsn;
    int64_t last_applied_commit_time;
    lsn_time ring[LAG_RING]; /* handed-over txns not applied yet */
    size_t ring_head, ring_len;
    uint64_t last_rows;     /* at the last progress line */
    uint64_t retry_at_ns;   /* TS_INIT: start again from here on */
    int lowat_fd;           /* the socket SO_RCVLOWAT was tuned on */
    int lowat_on;           /* ... raised: catching up */
    uint64_t lowat_txns;    /* txns at the last tuning */
    uint64_t lowat_last_ns; /* when the last transaction came */
    int muted;              /* shutting down: refuse transactions */
    unitbuf unit;           /* stream transactions as one unit (agent_unit.c) */
    uint64_t replay_until;  /* replayed idempotently up to here: alone */
} tenant;

typedef struct agent {
    agent_config *cfg;
    hr_env *env;
    hr_codec *enc, *dec;
    hr_transport *transport;
    hr_applier *applier;
    hr_batch *scratch;          /* stream -> batch conversions */
    hr_transport_msg *held;     /* received, refused by the applier for now */
    int unit_open;              /* the receiver has a unit open (begin done) */
    struct tenant *unit_tenant; /* ... of this tenant */
    spill_msg *spill_head, *spill_tail; /* refused by the transport */
    tenant *copy_owner;  /* a table copy in progress holds the units */
    int fatal;           /* the pipeline itself failed */
    size_t last_pending; /* applier pending bytes, and since when */
    uint64_t pending_since_ns;
    tenant tenants[AGENT_MAX_LIST];
    size_t n_tenants;
    int failed;         /* a tenant failed */
    int stopping;       /* SIGINT/SIGTERM: drain and exit */
    int draining;       /* SIGUSR1 / --until-caught-up */
    uint64_t drain_lsn; /* caught up when every tenant is here */
    void *source_conn;  /* PGconn * for queries (agent_sql.c) */
    agent_qos qos;      /* per-tenant queues, scheduler, predictor */
} agent;

/* agent_tenant.c */
int tenant_start(tenant *t); /* from TS_INIT once the applier is ready */
int tenant_step(tenant *t, uint64_t now_ns); /* stream / copier work */
int agent_flush_spill(agent *a);             /* 1 when the spill is empty */
int tenant_may_produce(const tenant *t);
void tenant_fail(tenant *t, int rc, const char *what, const char *msg);
void tenant_free(tenant *t);
int tenant_send(tenant *t, hr_transport_meta *meta, const uint8_t *data,
                size_t len);
/* Encode a batch and send it with meta's flags; fails the tenant on error. */
int tenant_send_batch(tenant *t, const hr_batch *b, hr_transport_meta *meta);

/* agent_unit.c: small source transactions of a step as one unit */
#define UNIT_MAX_ROWS 4096 /* sent once it holds this many rows */
int unit_wants(const tenant *t, const hr_pgtxn *txn,
               const hr_stream_change *changes, size_t n);
int unit_add(tenant *t, const hr_pgtxn *txn, const hr_stream_change *changes,
             size_t n);
int unit_flush(tenant *t); /* send what was collected (end of a step) */

/* agent_receive.c */
int agent_receive(agent *a); /* transport -> applier */
void agent_applier_callbacks(agent *a, hr_applier_callbacks *cb);

/* agent_sql.c: short blocking queries on a normal source connection */
int agent_sql_slot(agent *a, const char *slot, int *exists,
                   uint64_t *confirmed);
int agent_sql_wal_lsn(agent *a, uint64_t *lsn);
int agent_sql_tables(agent *a, char ***names, size_t *n);
void agent_sql_close(agent *a);

/* log helpers */
void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t agent_now_ns(const agent *a);
tenant *agent_tenant(agent *a, const char *id);

#endif /* HR_AGENT_H */
