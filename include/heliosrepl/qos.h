/*
 * heliosrepl/qos.h - the tenant QoS scheduler: which tenant's work runs next.
 *
 * An hr_scheduler decides, between tenants that have work waiting, whose
 * work item the host serves next, in the mClock style. Each tenant has
 *
 *   reservation  cost units per second it is guaranteed while it has work
 *                (0: none);
 *   weight       its share of the capacity left over once reservations are
 *                served (> 0);
 *   limit        a ceiling in cost units per second (0: none).
 *
 * A "cost unit" is whatever the host charges: rows, bytes, microseconds of
 * apply time. Reservations and limits are in cost units per second of the
 * host's `now`; weights have no unit.
 *
 * Tenants get their settings from a tier preset (premium / standard / basic),
 * which any tenant may override setting by setting. Tier presets express
 * reservations and limits as fractions of the capacity the host configured
 * (HR_SCHED_PARAM_CAPACITY, cost units per second), so one capacity estimate
 * scales a whole fleet; a tenant override is an absolute rate.
 *
 * How it decides (docs/qos.md has the detail): each tenant carries three
 * tags. Its reservation tag R advances by cost/reservation for the work
 * served under its reservation, its proportional tag P by cost/weight for
 * the work served from the leftover, its limit tag L by cost/limit for all
 * work. A decision at `now`:
 *   1. a tenant whose L tag is after `now` is not eligible at all;
 *   2. among eligible tenants with a reservation, the smallest R tag wins if
 *      it is not after `now` (reservation phase);
 *   3. otherwise the eligible tenant with the smallest P tag wins (weight
 *      phase: work-conserving);
 *   4. with no eligible tenant, the caller learns how long until the first
 *      L tag comes due.
 * Tags live in indexed heaps, so a decision, a charge, a backlog change,
 * adding, updating and removing a tenant are O(log n) (changing a tier
 * preset or the capacity re-derives every tenant: O(n log n)).
 *
 * Idle tenants earn no credit: a tenant whose backlog goes from 0 to more
 * restarts its R tag at max(R, now) (or at the oldest R tag still due, if
 * an over-committed server left every R tag behind now) and its P tag at
 * max(P, the P tag last served), and L never lets work through faster than
 * the limit, whatever happened before.
 *
 * A reservation the server cannot honour (reservations summing to more
 * than it really serves) degrades in proportion: each backlogged tenant
 * gets its reservation scaled by real capacity / sum of reservations.
 *
 * The scheduler is pure: no threads, no I/O, no clock reads. Time is the
 * host's `now` (nanoseconds of a monotonic clock, any origin); a `now` older
 * than one already passed is taken as the newest seen. Tenants are named by
 * a host-chosen uint64_t (the host maps its tenant ids, e.g. to its own
 * table index). One thread at a time per scheduler.
 *
 * The host loop:
 *
 *     hr_scheduler_enqueue(s, tenant, 1, now);            work arrives
 *     ...
 *     rc = hr_scheduler_next(s, now, &tenant, &wait_ns);
 *     if (rc == HR_OK) {                                   serve one item
 *         cost = serve_one_item_of(tenant);
 *         hr_scheduler_charge(s, tenant, cost, 1, now);
 *     } else if (rc == HR_EAGAIN) {                        all limited
 *         sleep at most wait_ns, or until new work arrives
 *     } else if (rc == HR_ENOTFOUND) {                     no work at all
 *         wait for work
 *     }
 */
#ifndef HELIOSREPL_QOS_H
#define HELIOSREPL_QOS_H

#include <stddef.h>
#include <stdint.h>

#include <heliosrepl/core.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hr_scheduler hr_scheduler;

/*
 * Tiers; values pinned. Default presets (change them with
 * hr_scheduler_set_tier; reservation and limit are fractions of the
 * configured capacity, 0 meaning none):
 *
 *   tier       reservation  weight  limit
 *   premium    0.01         4       0 (none)
 *   standard   0.001        2       0.10
 *   basic      0 (none)     1       0.02
 */
typedef enum hr_qos_tier {
    HR_QOS_PREMIUM = 1,
    HR_QOS_STANDARD = 2,
    HR_QOS_BASIC = 3
} hr_qos_tier;

/* A tenant's or a tier's settings; values pinned. */
typedef enum hr_qos_setting {
    HR_QOS_RESERVATION = 1, /* guaranteed rate; 0 = none */
    HR_QOS_WEIGHT = 2,      /* share of the leftover, 0.001..1000000 */
    HR_QOS_LIMIT = 3        /* ceiling rate; 0 = none */
} hr_qos_setting;

/* Which rule picked a tenant (hr_qos_tenant_stats.last_phase). */
typedef enum hr_qos_phase {
    HR_QOS_PHASE_NONE = 0,
    HR_QOS_PHASE_RESERVATION = 1,
    HR_QOS_PHASE_WEIGHT = 2
} hr_qos_phase;

/* Parameters; values pinned. hr_scheduler_param_bounds gives each range. */
typedef enum hr_scheduler_param {
    /* The host's estimate of what it can serve, cost units per second:
     * 1..2^50, default 1000000. Tier presets scale with it; admission
     * compares reservations with it. The decisions themselves never use
     * it, so a wrong estimate changes no tenant's treatment except through
     * the presets (docs/qos.md, "Capacity"). */
    HR_SCHED_PARAM_CAPACITY = 1,
    /* Admission control: 0/1, default 0. When 1, a change that would make
     * the sum of all tenants' reservations exceed the capacity fails with
     * HR_ELIMIT and changes nothing. */
    HR_SCHED_PARAM_ADMISSION = 2,
    /* Most tenants the scheduler holds: 1..16777216, default 1048576.
     * hr_scheduler_add beyond it fails with HR_ELIMIT. */
    HR_SCHED_PARAM_MAX_TENANTS = 3
} hr_scheduler_param;

/*
 * hr_scheduler_new - an empty scheduler with default parameters and tier
 * presets. HR_OK, HR_EINVAL (NULL argument; *out is set to NULL),
 * HR_ENOMEM.
 */
HR_API int hr_scheduler_new(hr_env *env, hr_scheduler **out);

/* hr_scheduler_free - NULL is a no-op. */
HR_API void hr_scheduler_free(hr_scheduler *sched);

/*
 * hr_scheduler_set_param / hr_scheduler_get_param - HR_OK, HR_EINVAL
 * (unknown parameter, value out of bounds, NULL argument). Setting the
 * capacity re-derives every tenant that follows a preset, and with
 * admission on fails with HR_ELIMIT when the reservations would no longer
 * fit; setting MAX_TENANTS below the current count fails with HR_ELIMIT.
 */
HR_API int hr_scheduler_set_param(hr_scheduler *sched, hr_scheduler_param param,
                                  int64_t value);
HR_API int hr_scheduler_get_param(const hr_scheduler *sched,
                                  hr_scheduler_param param, int64_t *value);

/* hr_scheduler_param_bounds - HR_OK and the inclusive range, or HR_EINVAL. */
HR_API int hr_scheduler_param_bounds(hr_scheduler_param param, int64_t *min,
                                     int64_t *max);

/*
 * hr_scheduler_set_tier - change a tier's preset. RESERVATION and LIMIT are
 * fractions of the capacity, 0..1 (0: none); WEIGHT is 0.001..1000000.
 * Every tenant of the tier that does not override the setting follows, at
 * once (O(n log n)). HR_OK, HR_EINVAL (NULL, unknown tier or setting, value
 * out of range or not finite), HR_ELIMIT (admission: reservations would
 * exceed the capacity).
 */
HR_API int hr_scheduler_set_tier(hr_scheduler *sched, hr_qos_tier tier,
                                 hr_qos_setting setting, double value);

/*
 * hr_scheduler_get_tier - a tier's preset as set (a fraction for
 * RESERVATION and LIMIT). HR_OK, HR_EINVAL.
 */
HR_API int hr_scheduler_get_tier(const hr_scheduler *sched, hr_qos_tier tier,
                                 hr_qos_setting setting, double *value);

/*
 * hr_scheduler_add - add tenant `tenant` (any value) of `tier`, following
 * the tier's presets, with no backlog. O(log n) amortized (tables grow).
 * HR_OK, HR_EINVAL (NULL, unknown tier), HR_ECONFLICT (already added),
 * HR_ELIMIT (MAX_TENANTS, or admission), HR_ENOMEM.
 */
HR_API int hr_scheduler_add(hr_scheduler *sched, uint64_t tenant,
                            hr_qos_tier tier);

/*
 * hr_scheduler_remove - forget a tenant and its backlog, at any time
 * (also between hr_scheduler_next and the charge). O(log n).
 * HR_OK, HR_EINVAL (NULL), HR_ENOTFOUND.
 */
HR_API int hr_scheduler_remove(hr_scheduler *sched, uint64_t tenant);

/*
 * hr_scheduler_set_tenant_tier - move a tenant to another tier; its
 * overrides stay. HR_OK, HR_EINVAL, HR_ENOTFOUND, HR_ELIMIT (admission).
 */
HR_API int hr_scheduler_set_tenant_tier(hr_scheduler *sched, uint64_t tenant,
                                        hr_qos_tier tier, uint64_t now);

/*
 * hr_scheduler_override - give a tenant its own setting: RESERVATION and
 * LIMIT in cost units per second (0..2^50, 0: none), WEIGHT 0.001..1000000.
 * Takes effect for the tenant's next decision; a tenant held back by its old
 * limit is let through at once and then paced by the new one. O(log n).
 * HR_OK, HR_EINVAL (NULL, unknown setting, value out of range or not
 * finite), HR_ENOTFOUND, HR_ELIMIT (admission).
 */
HR_API int hr_scheduler_override(hr_scheduler *sched, uint64_t tenant,
                                 hr_qos_setting setting, double value,
                                 uint64_t now);

/*
 * hr_scheduler_clear_override - return a setting to the tier's preset.
 * HR_OK (also when it was not overridden), HR_EINVAL, HR_ENOTFOUND,
 * HR_ELIMIT (admission).
 */
HR_API int hr_scheduler_clear_override(hr_scheduler *sched, uint64_t tenant,
                                       hr_qos_setting setting, uint64_t now);

/*
 * hr_scheduler_tenant_setting - a tenant's effective setting (its override,
 * or its tier's preset scaled by the capacity), in cost units per second for
 * RESERVATION and LIMIT. *overridden (may be NULL) is 1 for an override.
 * HR_OK, HR_EINVAL, HR_ENOTFOUND.
 */
HR_API int hr_scheduler_tenant_setting(const hr_scheduler *sched,
                                       uint64_t tenant, hr_qos_setting setting,
                                       double *value, int *overridden);

/*
 * hr_scheduler_set_backlog - the number of work items `tenant` has waiting
 * (0: idle). Going from 0 to more activates the tenant without credit for
 * its idle time. O(log n). HR_OK, HR_EINVAL, HR_ENOTFOUND.
 */
HR_API int hr_scheduler_set_backlog(hr_scheduler *sched, uint64_t tenant,
                                    uint64_t items, uint64_t now);

/*
 * hr_scheduler_enqueue - add `items` work items to a tenant's backlog
 * (saturating). HR_OK, HR_EINVAL, HR_ENOTFOUND.
 */
HR_API int hr_scheduler_enqueue(hr_scheduler *sched, uint64_t tenant,
                                uint64_t items, uint64_t now);

/*
 * hr_scheduler_next - the tenant to serve at `now`.
 *   HR_OK         *tenant is set: serve one of its items, then charge it.
 *   HR_EAGAIN     tenants have work but all are at their limit; *wait_ns is
 *                 how long until the first becomes eligible.
 *   HR_ENOTFOUND  no tenant has work; *wait_ns is UINT64_MAX.
 *   HR_EINVAL     NULL argument.
 * The decision itself changes no tag: until the host charges it, asking
 * again gives the same tenant. O(log n) (amortized over the charges that
 * put tenants at their limit). `tenant` and `wait_ns` may each be NULL.
 */
HR_API int hr_scheduler_next(hr_scheduler *sched, uint64_t now,
                             uint64_t *tenant, uint64_t *wait_ns);

/*
 * hr_scheduler_charge - `items` work items of `tenant` with a total of
 * `cost` units were served at `now`: the backlog shrinks by `items`
 * (stopping at 0) and the tags advance by `cost`, under the phase of the
 * last decision if it named this tenant and has not been charged yet, in
 * the weight phase otherwise (work the host did on its own counts against
 * the limit and the tenant's share). `items` may be 0 to charge more cost
 * for items already charged (an estimate that proved low); `cost` may be
 * negative to refund an over-estimate. |cost| at most 2^50. O(log n).
 * HR_OK, HR_EINVAL (NULL, cost out of range), HR_ENOTFOUND.
 */
HR_API int hr_scheduler_charge(hr_scheduler *sched, uint64_t tenant,
                               int64_t cost, uint64_t items, uint64_t now);

/* hr_scheduler_tenant_count - tenants added; 0 for NULL. */
HR_API size_t hr_scheduler_tenant_count(const hr_scheduler *sched);

/* hr_scheduler_backlogged_count - tenants with a backlog; 0 for NULL. */
HR_API size_t hr_scheduler_backlogged_count(const hr_scheduler *sched);

/* A tenant's counters (hr_scheduler_tenant_stats). */
typedef struct hr_qos_tenant_stats {
    size_t size;              /* set to sizeof(hr_qos_tenant_stats) */
    int tier;                 /* hr_qos_tier */
    int last_phase;           /* hr_qos_phase of the last charge */
    uint64_t backlog;         /* items waiting */
    uint64_t items;           /* items charged */
    int64_t reservation_cost; /* cost charged in the reservation phase */
    int64_t weight_cost;      /* cost charged in the weight phase */
    uint64_t decisions;       /* times hr_scheduler_next picked it */
} hr_qos_tenant_stats;

/*
 * hr_scheduler_tenant_stats - a tenant's counters since it was added.
 * HR_OK, HR_EINVAL (NULL, stats->size too small), HR_ENOTFOUND.
 */
HR_API int hr_scheduler_tenant_stats(const hr_scheduler *sched, uint64_t tenant,
                                     hr_qos_tenant_stats *stats);

/*
 * hr_scheduler_errmsg - the last failed call's message, or "" if none.
 * Owned by the scheduler; valid until the next call on it. Success does
 * not clear it. NULL gives a static message.
 */
HR_API const char *hr_scheduler_errmsg(const hr_scheduler *sched);

#ifdef __cplusplus
}
#endif

#endif /* HELIOSREPL_QOS_H */
