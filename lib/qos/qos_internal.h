/*
 * qos_internal.h - the scheduler's state: tenants in a slot array, a hash
 * map from the host's tenant key to a slot, and three indexed 4-ary heaps
 * (reservation tags, proportional tags, limit tags). Not installed.
 */
#ifndef HR_QOS_INTERNAL_H
#define HR_QOS_INTERNAL_H

#include <stdint.h>

#include <heliosrepl/qos.h>

#include "core/core_internal.h"

#define HR__QNONE UINT32_MAX

/* The heaps a tenant can sit in. */
enum {
    HR__QHEAP_R = 0, /* eligible, reservation > 0: keyed by the R tag */
    HR__QHEAP_P = 1, /* eligible (under its limit): keyed by the P tag */
    HR__QHEAP_L = 2, /* backlogged but over its limit: keyed by the L tag */
    HR__QHEAPS = 3
};

#define HR__QARITY 4    /* children per heap node (qos_heap.c) */
#define HR__QSETTINGS 4 /* hr_qos_setting 1..3; index 0 unused */
#define HR__QTIERS 4    /* hr_qos_tier 1..3; index 0 unused */

typedef struct hr__qtenant {
    /* What a decision and a charge touch comes first (one cache line). */
    /* Tags: R and L in nanoseconds since the scheduler's time origin, P in
     * cost units per unit of weight (virtual time). */
    double r_tag, p_tag, l_tag;
    /* Tag advance per cost unit: 1e9/rate ns for R and L, 1/weight for P;
     * 0 when the tenant has no reservation / no limit. */
    double r_step, p_step, l_step;
    uint64_t key;
    uint64_t backlog;
    /* Counters (hr_scheduler_tenant_stats). */
    uint64_t items, decisions;
    int64_t reservation_cost, weight_cost;
    uint8_t last_phase;
    uint8_t tier;
    uint8_t override_mask; /* bit s: setting s is overridden */
    uint8_t in_use;
    uint32_t next_free; /* free-list link while !in_use */
    double reservation; /* effective, cost units per second */
    double overrides[HR__QSETTINGS];
} hr__qtenant;

typedef struct hr__qentry {
    double key;
    uint32_t slot;
} hr__qentry;

typedef struct hr__qheap {
    hr__qentry *e;
    uint32_t *pos; /* by slot: index in e[], or HR__QNONE */
    uint32_t n;
    uint64_t steps; /* levels moved by sifts: the structure test reads it */
} hr__qheap;

/* Open addressing, linear probing, backward-shift deletion. */
typedef struct hr__qmap_entry {
    uint64_t key;
    uint32_t slot; /* HR__QNONE: empty */
} hr__qmap_entry;

typedef struct hr__qmap {
    hr__qmap_entry *e;
    uint32_t mask; /* capacity - 1; capacity is a power of two or 0 */
    uint32_t n;
} hr__qmap;

struct hr_scheduler {
    hr_env *env;
    hr__error error;
    int64_t capacity;
    int64_t admission;
    int64_t max_tenants;
    double presets[HR__QTIERS][HR__QSETTINGS];

    hr__qtenant *tenants;
    uint32_t cap;       /* slots allocated (also each heap's capacity) */
    uint32_t used;      /* slots ever handed out (high-water mark) */
    uint32_t count;     /* tenants in use */
    uint32_t free_head; /* free-list of slots below `used` */
    uint32_t backlogged;
    hr__qheap heaps[HR__QHEAPS];
    hr__qmap map;
    double reservation_sum; /* effective reservations, for admission */

    /* Time: tags are relative to the first `now` seen. */
    int time_set;
    uint64_t origin, latest;
    double vtime;         /* P tag of the last weight-phase decision */
    uint64_t limit_moves; /* holds and releases (the structure test) */

    /* The last decision, until charged: slot and phase. */
    uint32_t pick_slot;
    uint8_t pick_phase;
};

/* ---- heaps (qos_heap.c) ---- */
void hr__qheap_insert(hr__qheap *h, uint32_t slot, double key);
void hr__qheap_remove(hr__qheap *h, uint32_t pos);
void hr__qheap_update(hr__qheap *h, uint32_t pos, double key);
/* HR_OK when the heap order and the position index hold, else
 * HR_EINTERNAL. */
int hr__qheap_check(const hr__qheap *h);

/* ---- map (qos_heap.c) ---- */
uint32_t hr__qmap_find(const hr__qmap *m, uint64_t key);
/* Make room for one more key; HR_OK or HR_ENOMEM (map unchanged). */
int hr__qmap_reserve(hr__qmap *m, const hr_env *env);
void hr__qmap_put(hr__qmap *m, uint64_t key, uint32_t slot);
void hr__qmap_del(hr__qmap *m, uint64_t key);
void hr__qmap_free(hr__qmap *m, const hr_env *env);

/* ---- scheduling (scheduler_run.c) ---- */
/* `now` as nanoseconds since the origin (never going backwards). */
double hr__sched_time(hr_scheduler *s, uint64_t now);
/* Put a tenant in the heaps its backlog, tags and limit call for. */
void hr__sched_place(hr_scheduler *s, uint32_t slot, double t);
/* Take a tenant out of every heap (removal). */
void hr__sched_unplace(hr_scheduler *s, uint32_t slot);

/* ---- settings (scheduler.c) ---- */
double hr__sched_effective(const hr_scheduler *s, const hr__qtenant *t,
                           int setting);

/* Every heap and the map agree with the tenants: HR_OK or HR_EINTERNAL
 * (the unit tests call it after random operations). */
int hr__sched_check(const hr_scheduler *s);

#endif /* HR_QOS_INTERNAL_H */
