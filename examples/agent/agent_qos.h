/*
 * agent_qos.h - the agent's [qos] part: received units wait in per-tenant
 * queues and the dispatcher (agent_dispatch.h) picks, with the QoS
 * scheduler, whose unit the applier gets next; an hr_predictor fed from an
 * access log (and the writes replicated) raises the weight of the tenants
 * predicted hot, and orders each tenant's initial copy hottest table first.
 * docs/agent.md, "QoS and hot tenants".
 */
#ifndef HR_AGENT_QOS_H
#define HR_AGENT_QOS_H

#include <stddef.h>
#include <stdint.h>

#include <heliosrepl/heliosrepl.h>

#include "agent_dispatch.h"

#define AGENT_QOS_MAX_TIERS 64

typedef struct agent_qos_config {
    long capacity; /* bytes per second the applier serves (presets) */
    char *tier;    /* every tenant's tier (default standard) */
    char *tier_tenant[AGENT_QOS_MAX_TIERS]; /* tier.<tenant> = ... */
    char *tier_value[AGENT_QOS_MAX_TIERS];
    size_t n_tier;
    /* reservation.<tenant> / limit.<tenant> = bytes per second (0: none) */
    char *rate_tenant[AGENT_QOS_MAX_TIERS];
    hr_qos_setting rate_setting[AGENT_QOS_MAX_TIERS];
    long rate_value[AGENT_QOS_MAX_TIERS];
    size_t n_rate;
    int predictor;    /* 0: no predictor (round robin by cost) */
    char *access_log; /* file or FIFO of "tenant[/table] r|w" lines */
    char *state_file; /* predictor heat kept across restarts */
    long window_ms;   /* predictor window */
    long train_every; /* windows between trainings (0: never) */
} agent_qos_config;

void agent_qos_config_defaults(agent_qos_config *q);
/* A [qos] setting; 1 when taken, 0 on a bad name or value (inih style). */
int agent_qos_setting(agent_qos_config *q, const char *name, const char *value);
void agent_qos_config_free(agent_qos_config *q);

struct agent;
struct tenant;

/* A queued message and its frame, decoded when it left the transport:
 * the codec's dictionaries travel in frames, so frames are decoded in the
 * order they were encoded, whatever order the dispatcher applies them in. */
typedef struct agent_qmsg {
    hr_transport_msg *msg;
    hr_transport_meta meta; /* msg's; its strings live as long as msg */
    struct tenant *tenant;  /* meta.tenant_id's, found when it was queued */
    hr_batch *batch; /* NULL: no data, or not decoded (the tenant failed) */
    size_t len;      /* frame bytes */
} agent_qmsg;

typedef struct agent_qos {
    dispatch d;
    hr_predictor *p;
    int log_fd;
    char line[1024];
    size_t line_len;
    uint64_t window;      /* current predictor window number */
    uint64_t windows;     /* windows begun since the start */
    size_t queued_bytes;  /* data bytes in the dispatcher's queues */
    uint64_t wait_ns;     /* all limited: the scheduler's wait */
    uint64_t hot_tenants; /* at the last window */
} agent_qos;

/* After the tenants are set up: scheduler, tiers, predictor, access log. */
int agent_qos_setup(struct agent *a);
/* Save the heat (state_file) and free everything. */
void agent_qos_teardown(struct agent *a);
/* Read the access log; at a window boundary weights, training, saving. */
void agent_qos_tick(struct agent *a, uint64_t now);
/* transport -> per-tenant queues, within the transport's size limits. */
int agent_qos_pull(struct agent *a);
/* The next message for the applier (owned by the queue), or NULL. */
agent_qmsg *agent_qos_peek(struct agent *a);
/* The peeked message was consumed: it leaves the queue and is freed (its
 * batch too, unless the caller took it and set it to NULL). */
void agent_qos_pop(struct agent *a);
/* Messages waiting in the queues. */
size_t agent_qos_queued(const struct agent *a);
/* Poll timeout while every tenant with work is at its limit; -1 none. */
int64_t agent_qos_timeout_ms(const struct agent *a);
/* A replicated write of schema.table (observed for the copy order). */
void agent_qos_observe_write(struct agent *a, struct tenant *t,
                             const char *schema, const char *table);
/* Copy priorities: every table of the tenant's copy gets its predicted
 * heat (a short query on the source lists them). HR_ codes. */
int agent_qos_copy_priorities(struct agent *a, struct tenant *t,
                              hr_copier_opts *o);

#endif /* HR_AGENT_QOS_H */
