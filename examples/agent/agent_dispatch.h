/*
 * agent_dispatch.h - the agent's dispatcher: which tenant's next unit of work
 * (one source transaction, one copied table, one copy-done mark) goes to the
 * applier next, when several tenants share the worker.
 *
 * What the transport delivers is queued per tenant; when the applier has
 * room, the host asks the dispatcher for the next message. While a unit is
 * being handed over, only that unit's messages come out (a tenant's unit is
 * never interleaved with another unit); between units, hr_scheduler_next
 * picks the tenant, and the whole unit's cost is charged once its last
 * message was handed over. A tenant's units come out in arrival order.
 *
 * Weights: every tenant has a tier (premium / standard / basic: the
 * scheduler's presets). dispatch_set_heat multiplies a predicted-hot
 * tenant's tier weight by a factor in [1, DISPATCH_HOT_MAX]; reservation
 * and limit stay the tier's. dispatch_apply_predictor picks the hot
 * tenants from an hr_predictor's scores and gives them one factor, chosen
 * so that together they weigh DISPATCH_HOT_SET_WEIGHT of all weights (at
 * least DISPATCH_HOT_MIN): a fixed factor would mean a lot with 3 hot
 * tenants among 100 and little with 20. Without heat every tenant of a
 * tier has the same weight: the scheduler then shares the applier by cost,
 * round robin in effect.
 *
 * Pure: no I/O, no clock reads (the host passes `now`, monotonic ns, to the
 * scheduler; the predictor gets its own wall-clock time). Messages are the
 * host's (void *); the dispatcher frees those it drops with free_msg. One
 * thread. Shared by heliosrepl-agent, tests/unit/test_agent_dispatch.c and
 * benchmarks/bench_predict_lag.c.
 */
#ifndef HR_AGENT_DISPATCH_H
#define HR_AGENT_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include <heliosrepl/heliosrepl.h>

/* Message flags (the host maps its own, e.g. HR_TRANSPORT_FIRST/LAST). */
#define DISPATCH_FIRST 0x1u /* first message of a unit */
#define DISPATCH_LAST 0x2u  /* last message of a unit */
#define DISPATCH_ABORT 0x4u /* ends the tenant's open unit (as LAST does) */

/* Weight of a hot tenant: DISPATCH_HOT_MIN .. DISPATCH_HOT_MAX times its
 * tier's weight. */
#define DISPATCH_HOT_MIN 2.0
#define DISPATCH_HOT_MAX 16.0
/* The hot tenants' share of the sum of all weights (when the bounds allow). */
#define DISPATCH_HOT_SET_WEIGHT 0.67
/* Scores below this are never hot. */
#define DISPATCH_HOT_SCORE 0.3
/* dispatch_apply_predictor raises at most this share of the tenants. */
#define DISPATCH_HOT_SHARE 0.2

#define DISPATCH_NONE SIZE_MAX

typedef void (*dispatch_free_fn)(void *msg);

typedef struct dispatch_item {
    struct dispatch_item *next;
    void *msg;
    uint32_t flags;
    int64_t cost;
} dispatch_item;

typedef struct dispatch_tenant {
    char *name;                 /* predictor key of the tenant */
    dispatch_item *head, *tail; /* queued messages, in arrival order */
    size_t units;               /* units queued (the last may be open) */
    int tail_open;              /* the last queued unit has no end yet */
    hr_qos_tier tier;
    double weight; /* as set in the scheduler */
    uint64_t units_done;
} dispatch_tenant;

typedef struct dispatch {
    hr_scheduler *sched;
    dispatch_tenant *t;
    size_t n;
    size_t cur;       /* tenant whose unit is being handed over */
    int64_t cur_cost; /* cost of what of it was handed over */
    size_t peeked;    /* tenant of the last dispatch_peek */
    size_t queued;    /* messages queued, all tenants */
    dispatch_free_fn free_msg;
} dispatch;

/*
 * dispatch_init - n tenants (indexes 0..n-1), all standard tier, for an
 * applier of about `capacity` cost units per second (the scheduler's tier
 * presets scale with it). HR_OK, HR_EINVAL, HR_ENOMEM.
 */
int dispatch_init(dispatch *d, hr_env *env, size_t n, int64_t capacity,
                  dispatch_free_fn free_msg);
/* dispatch_free - frees queued messages too. */
void dispatch_free(dispatch *d);

/* dispatch_set_name - the tenant's predictor key (copied). */
int dispatch_set_name(dispatch *d, size_t i, const char *name);
/* dispatch_set_tier - HR_OK, HR_EINVAL; the weight returns to the tier's. */
int dispatch_set_tier(dispatch *d, size_t i, hr_qos_tier tier, uint64_t now);
/* "premium" / "standard" / "basic" -> tier; 0 when unknown. */
hr_qos_tier dispatch_tier_parse(const char *s);

/*
 * dispatch_push - queue a message of tenant i. A message that neither
 * starts a unit nor continues an open one is a unit by itself (e.g. a
 * copy-done mark). HR_OK, HR_EINVAL, HR_ENOMEM (the message is not taken).
 */
int dispatch_push(dispatch *d, size_t i, void *msg, uint32_t flags,
                  int64_t cost, uint64_t now);

/*
 * dispatch_peek - the next message to hand to the applier, or NULL: none
 * queued, the open unit waits for its next message, or every tenant with
 * work is at its limit (*wait_ns, may be NULL, says for how long; UINT64_MAX
 * when there is no work). *tenant (may be NULL) is set. Asking again
 * without a pop gives the same message.
 */
void *dispatch_peek(dispatch *d, uint64_t now, size_t *tenant,
                    uint64_t *wait_ns);
/*
 * dispatch_pop - the message of the last peek was handed over: it leaves
 * the queue (the host owns it again); at the end of its unit the unit's
 * cost is charged. HR_OK, HR_ESTATE (no peek).
 */
int dispatch_pop(dispatch *d, uint64_t now);

/* dispatch_drop_tenant - free every queued message of tenant i (it failed);
 * an open hand-over of its unit ends. */
void dispatch_drop_tenant(dispatch *d, size_t i, uint64_t now);

/* dispatch_set_heat - weight = tier weight x factor, the factor clamped to
 * [1, DISPATCH_HOT_MAX] (1: the tier's weight back); returns the weight. */
double dispatch_set_heat(dispatch *d, size_t i, double factor, uint64_t now);
/* dispatch_clear_heat - every tenant back to its tier's weight. */
void dispatch_clear_heat(dispatch *d, uint64_t now);
/*
 * dispatch_apply_predictor - dispatch_set_heat for every named tenant from
 * its predictor score at wall-clock now_wall_ns: the tenants scoring
 * DISPATCH_HOT_SCORE or more, at most the best DISPATCH_HOT_SHARE of them
 * (ties: the first indexes), are hot and share one factor: the one that
 * makes their weights DISPATCH_HOT_SET_WEIGHT of the sum of all tenants'
 * weights, clamped to [DISPATCH_HOT_MIN, DISPATCH_HOT_MAX]; the others get
 * their tier's weight. Returns the number of hot tenants, or a negative
 * HR_ code.
 */
int dispatch_apply_predictor(dispatch *d, hr_predictor *p, uint64_t now,
                             uint64_t now_wall_ns);
/*
 * dispatch_observe - report an access of tenant i (and of "tenant/table"
 * when table is not NULL) to the predictor: what makes a tenant hot.
 * dispatch_observe_table reports "tenant/table" only: the writes the agent
 * replicates (every replicated tenant writes all the time, so they would
 * make every tenant hot; they still rank its tables for the copy order).
 * HR_ codes.
 */
int dispatch_observe(dispatch *d, hr_predictor *p, size_t i, const char *table,
                     uint64_t now_wall_ns, hr_predictor_access kind);
int dispatch_observe_table(dispatch *d, hr_predictor *p, size_t i,
                           const char *table, uint64_t now_wall_ns,
                           hr_predictor_access kind);

#endif /* HR_AGENT_DISPATCH_H */
