/*
 * scheduler.c - the scheduler handle: parameters, tier presets, tenants and
 * their settings. The decisions are in scheduler_run.c.
 */
#include <math.h>
#include <string.h>

#include "qos_internal.h"

#define RATE_MAX 1125899906842624.0 /* 2^50 cost units per second */
#define WEIGHT_MIN 0.001
#define WEIGHT_MAX 1000000.0

typedef struct param_spec {
    int64_t min, max, initial;
} param_spec;

/* Indexed by hr_scheduler_param; entry 0 is unused. */
static const param_spec param_specs[] = {
    [HR_SCHED_PARAM_CAPACITY] = {1, (int64_t)1 << 50, 1000000},
    [HR_SCHED_PARAM_ADMISSION] = {0, 1, 0},
    [HR_SCHED_PARAM_MAX_TENANTS] = {1, 1 << 24, 1 << 20},
};

#define PARAM_COUNT ((int)(sizeof param_specs / sizeof param_specs[0]))

/* Default tier presets: reservation and limit as fractions of capacity. */
static const double default_presets[HR__QTIERS][HR__QSETTINGS] = {
    [HR_QOS_PREMIUM] = {0, 0.01, 4, 0},
    [HR_QOS_STANDARD] = {0, 0.001, 2, 0.10},
    [HR_QOS_BASIC] = {0, 0, 1, 0.02},
};

static const param_spec *spec_of(int param)
{
    return param >= 1 && param < PARAM_COUNT ? &param_specs[param] : NULL;
}

static int tier_ok(int tier)
{
    return tier >= HR_QOS_PREMIUM && tier <= HR_QOS_BASIC;
}

static int setting_ok(int setting)
{
    return setting >= HR_QOS_RESERVATION && setting <= HR_QOS_LIMIT;
}

static hr__qtenant *find(const hr_scheduler *s, uint64_t key)
{
    const uint32_t slot = hr__qmap_find(&s->map, key);
    return slot == HR__QNONE ? NULL : &s->tenants[slot];
}

static int not_found(hr_scheduler *s, uint64_t key)
{
    return hr__fail(&s->error, HR_ENOTFOUND, "no tenant %llu",
                    (unsigned long long)key);
}

double hr__sched_effective(const hr_scheduler *s, const hr__qtenant *t,
                           int setting)
{
    if (t->override_mask & (1u << setting))
        return t->overrides[setting];
    const double preset = s->presets[t->tier][setting];
    return setting == HR_QOS_WEIGHT ? preset : preset * (double)s->capacity;
}

/* Derive a tenant's tag steps from its effective settings and put it where
 * they send it. A changed limit releases a tenant held by the old one: its
 * L tag is pulled back to `t`, so the new pace starts now. */
static void refresh(hr_scheduler *s, uint32_t slot, double t)
{
    hr__qtenant *tn = &s->tenants[slot];
    const double res = hr__sched_effective(s, tn, HR_QOS_RESERVATION);
    const double weight = hr__sched_effective(s, tn, HR_QOS_WEIGHT);
    const double limit = hr__sched_effective(s, tn, HR_QOS_LIMIT);
    const double r_step = res > 0 ? 1e9 / res : 0;
    const double l_step = limit > 0 ? 1e9 / limit : 0;
    if (r_step > 0 && tn->r_step == 0 && tn->r_tag < t)
        tn->r_tag = t; /* a new reservation brings no back pay */
    if (l_step != tn->l_step && tn->l_tag > t)
        tn->l_tag = t;
    s->reservation_sum += res - tn->reservation;
    tn->reservation = res;
    tn->r_step = r_step;
    tn->p_step = 1.0 / weight;
    tn->l_step = l_step;
    hr__sched_place(s, slot, t);
}

/* Admission: the reservation sum if tenant `tn` had reservation `res`. */
static int admit(hr_scheduler *s, double sum)
{
    if (!s->admission || sum <= (double)s->capacity * (1 + 1e-12))
        return HR_OK;
    return hr__fail(&s->error, HR_ELIMIT,
                    "admission: reservations would total %.0f/s, capacity "
                    "is %lld/s",
                    sum, (long long)s->capacity);
}

/* Re-derive every tenant (a preset or the capacity changed). */
static void refresh_all(hr_scheduler *s)
{
    const double t = s->time_set ? (double)(s->latest - s->origin) : 0;
    s->reservation_sum = 0;
    for (uint32_t i = 0; i < s->used; i++)
        if (s->tenants[i].in_use) {
            s->tenants[i].reservation = 0;
            refresh(s, i, t);
        }
}

/* The reservation sum under other presets / capacity, for admission. */
static double sum_with(const hr_scheduler *s, int tier, double res_fraction,
                       int64_t capacity)
{
    double sum = 0;
    for (uint32_t i = 0; i < s->used; i++) {
        const hr__qtenant *tn = &s->tenants[i];
        if (!tn->in_use)
            continue;
        if (tn->override_mask & (1u << HR_QOS_RESERVATION))
            sum += tn->overrides[HR_QOS_RESERVATION];
        else
            sum +=
                (tn->tier == tier ? res_fraction
                                  : s->presets[tn->tier][HR_QOS_RESERVATION]) *
                (double)capacity;
    }
    return sum;
}

HR_API int hr_scheduler_param_bounds(hr_scheduler_param param, int64_t *min,
                                     int64_t *max)
{
    const param_spec *spec = spec_of((int)param);
    if (!spec || !min || !max)
        return HR_EINVAL;
    *min = spec->min;
    *max = spec->max;
    return HR_OK;
}

HR_API int hr_scheduler_new(hr_env *env, hr_scheduler **out)
{
    if (!out)
        return HR_EINVAL;
    *out = NULL;
    if (!env)
        return HR_EINVAL;
    hr_scheduler *s = hr__calloc(env, 1, sizeof *s);
    if (!s)
        return HR_ENOMEM;
    s->env = hr__env_ref(env);
    s->capacity = param_specs[HR_SCHED_PARAM_CAPACITY].initial;
    s->admission = param_specs[HR_SCHED_PARAM_ADMISSION].initial;
    s->max_tenants = param_specs[HR_SCHED_PARAM_MAX_TENANTS].initial;
    memcpy(s->presets, default_presets, sizeof s->presets);
    s->free_head = HR__QNONE;
    s->pick_slot = HR__QNONE;
    *out = s;
    return HR_OK;
}

HR_API void hr_scheduler_free(hr_scheduler *s)
{
    if (!s)
        return;
    hr_env *env = s->env;
    for (int h = 0; h < HR__QHEAPS; h++) {
        hr__free(env, s->heaps[h].e);
        hr__free(env, s->heaps[h].pos);
    }
    hr__free(env, s->tenants);
    hr__qmap_free(&s->map, env);
    hr__free(env, s);
    hr__env_unref(env);
}

HR_API int hr_scheduler_set_param(hr_scheduler *s, hr_scheduler_param param,
                                  int64_t value)
{
    if (!s)
        return HR_EINVAL;
    const param_spec *spec = spec_of((int)param);
    if (!spec)
        return hr__fail(&s->error, HR_EINVAL, "unknown scheduler parameter %d",
                        (int)param);
    if (value < spec->min || value > spec->max)
        return hr__fail(&s->error, HR_EINVAL,
                        "scheduler parameter %d: %lld outside %lld..%lld",
                        (int)param, (long long)value, (long long)spec->min,
                        (long long)spec->max);
    switch (param) {
    case HR_SCHED_PARAM_CAPACITY: {
        const int64_t old = s->capacity;
        s->capacity = value; /* admit() compares with the new capacity */
        const int rc = admit(s, sum_with(s, 0, 0, value));
        if (rc != HR_OK) {
            s->capacity = old;
            return rc;
        }
        refresh_all(s);
        return HR_OK;
    }
    case HR_SCHED_PARAM_ADMISSION:
        if (value) {
            const int64_t old = s->admission;
            s->admission = 1;
            const int rc = admit(s, s->reservation_sum);
            if (rc != HR_OK) {
                s->admission = old;
                return rc;
            }
        }
        s->admission = value;
        return HR_OK;
    case HR_SCHED_PARAM_MAX_TENANTS:
        if ((uint64_t)value < s->count)
            return hr__fail(&s->error, HR_ELIMIT,
                            "max tenants %lld below the %u tenants held",
                            (long long)value, s->count);
        s->max_tenants = value;
        return HR_OK;
    }
    return HR_EINVAL;
}

HR_API int hr_scheduler_get_param(const hr_scheduler *s,
                                  hr_scheduler_param param, int64_t *value)
{
    if (!s || !value || !spec_of((int)param))
        return HR_EINVAL;
    switch (param) {
    case HR_SCHED_PARAM_CAPACITY:
        *value = s->capacity;
        break;
    case HR_SCHED_PARAM_ADMISSION:
        *value = s->admission;
        break;
    case HR_SCHED_PARAM_MAX_TENANTS:
        *value = s->max_tenants;
        break;
    }
    return HR_OK;
}

/* A setting's value check; `preset` for tier presets (fractions). */
static int check_value(hr_scheduler *s, int setting, double value, int preset)
{
    if (!setting_ok(setting))
        return hr__fail(&s->error, HR_EINVAL, "unknown QoS setting %d",
                        setting);
    const double lo = setting == HR_QOS_WEIGHT ? WEIGHT_MIN : 0;
    const double hi = setting == HR_QOS_WEIGHT ? WEIGHT_MAX
                      : preset                 ? 1.0
                                               : RATE_MAX;
    if (!isfinite(value) || value < lo || value > hi)
        return hr__fail(&s->error, HR_EINVAL,
                        "QoS setting %d: %g outside %g..%g", setting, value, lo,
                        hi);
    return HR_OK;
}

HR_API int hr_scheduler_set_tier(hr_scheduler *s, hr_qos_tier tier,
                                 hr_qos_setting setting, double value)
{
    if (!s)
        return HR_EINVAL;
    if (!tier_ok((int)tier))
        return hr__fail(&s->error, HR_EINVAL, "unknown tier %d", (int)tier);
    int rc = check_value(s, (int)setting, value, 1);
    if (rc != HR_OK)
        return rc;
    if (setting == HR_QOS_RESERVATION) {
        rc = admit(s, sum_with(s, (int)tier, value, s->capacity));
        if (rc != HR_OK)
            return rc;
    }
    s->presets[tier][setting] = value;
    refresh_all(s);
    return HR_OK;
}

HR_API int hr_scheduler_get_tier(const hr_scheduler *s, hr_qos_tier tier,
                                 hr_qos_setting setting, double *value)
{
    if (!s || !value || !tier_ok((int)tier) || !setting_ok((int)setting))
        return HR_EINVAL;
    *value = s->presets[tier][setting];
    return HR_OK;
}

/* Room for one more slot in the tenant array and every heap. */
static int reserve_slot(hr_scheduler *s)
{
    if (s->free_head != HR__QNONE || s->used < s->cap)
        return HR_OK;
    const uint64_t grown = s->cap ? (uint64_t)s->cap * 2 : 16;
    if (grown > ((uint64_t)1 << 25))
        return HR_ENOMEM;
    /* Each array grows on its own; one that grew before a later failure is
     * merely larger than `cap` says, which nothing minds. */
    for (int h = 0; h < HR__QHEAPS; h++) {
        hr__qentry *e =
            hr__realloc(s->env, s->heaps[h].e, (size_t)grown * sizeof *e);
        if (!e)
            return HR_ENOMEM;
        s->heaps[h].e = e;
        uint32_t *pos =
            hr__realloc(s->env, s->heaps[h].pos, (size_t)grown * sizeof *pos);
        if (!pos)
            return HR_ENOMEM;
        s->heaps[h].pos = pos;
    }
    hr__qtenant *t = hr__realloc(s->env, s->tenants, (size_t)grown * sizeof *t);
    if (!t)
        return HR_ENOMEM;
    s->tenants = t;
    s->cap = (uint32_t)grown;
    return HR_OK;
}

HR_API int hr_scheduler_add(hr_scheduler *s, uint64_t key, hr_qos_tier tier)
{
    if (!s)
        return HR_EINVAL;
    if (!tier_ok((int)tier))
        return hr__fail(&s->error, HR_EINVAL, "unknown tier %d", (int)tier);
    if (find(s, key))
        return hr__fail(&s->error, HR_ECONFLICT, "tenant %llu already added",
                        (unsigned long long)key);
    if ((int64_t)s->count >= s->max_tenants)
        return hr__fail(&s->error, HR_ELIMIT,
                        "tenant %llu: %lld tenants "
                        "already (HR_SCHED_PARAM_MAX_TENANTS)",
                        (unsigned long long)key, (long long)s->max_tenants);
    int rc =
        admit(s, s->reservation_sum + s->presets[tier][HR_QOS_RESERVATION] *
                                          (double)s->capacity);
    if (rc != HR_OK)
        return rc;
    if (hr__qmap_reserve(&s->map, s->env) != HR_OK || reserve_slot(s) != HR_OK)
        return hr__fail(&s->error, HR_ENOMEM, "tenant %llu: out of memory",
                        (unsigned long long)key);
    uint32_t slot;
    if (s->free_head != HR__QNONE) {
        slot = s->free_head;
        s->free_head = s->tenants[slot].next_free;
    } else {
        slot = s->used++;
    }
    hr__qtenant *tn = &s->tenants[slot];
    memset(tn, 0, sizeof *tn);
    for (int h = 0; h < HR__QHEAPS; h++)
        s->heaps[h].pos[slot] = HR__QNONE;
    tn->key = key;
    tn->tier = (uint8_t)tier;
    tn->in_use = 1;
    tn->next_free = HR__QNONE;
    hr__qmap_put(&s->map, key, slot);
    s->count++;
    refresh(s, slot, s->time_set ? (double)(s->latest - s->origin) : 0);
    return HR_OK;
}

HR_API int hr_scheduler_remove(hr_scheduler *s, uint64_t key)
{
    if (!s)
        return HR_EINVAL;
    const uint32_t slot = hr__qmap_find(&s->map, key);
    if (slot == HR__QNONE)
        return not_found(s, key);
    hr__qtenant *tn = &s->tenants[slot];
    hr__sched_unplace(s, slot);
    if (tn->backlog)
        s->backlogged--;
    s->reservation_sum -= tn->reservation;
    if (s->pick_slot == slot)
        s->pick_slot = HR__QNONE;
    hr__qmap_del(&s->map, key);
    tn->in_use = 0;
    tn->next_free = s->free_head;
    s->free_head = slot;
    s->count--;
    return HR_OK;
}

/* Apply a change to a copy first, so admission can refuse it whole. */
static int change(hr_scheduler *s, uint32_t slot, const hr__qtenant *next,
                  uint64_t now)
{
    hr__qtenant *tn = &s->tenants[slot];
    const double res = hr__sched_effective(s, next, HR_QOS_RESERVATION);
    const int rc = admit(s, s->reservation_sum - tn->reservation + res);
    if (rc != HR_OK)
        return rc;
    tn->tier = next->tier;
    tn->override_mask = next->override_mask;
    memcpy(tn->overrides, next->overrides, sizeof tn->overrides);
    refresh(s, slot, hr__sched_time(s, now));
    return HR_OK;
}

HR_API int hr_scheduler_set_tenant_tier(hr_scheduler *s, uint64_t key,
                                        hr_qos_tier tier, uint64_t now)
{
    if (!s)
        return HR_EINVAL;
    if (!tier_ok((int)tier))
        return hr__fail(&s->error, HR_EINVAL, "unknown tier %d", (int)tier);
    const uint32_t slot = hr__qmap_find(&s->map, key);
    if (slot == HR__QNONE)
        return not_found(s, key);
    hr__qtenant next = s->tenants[slot];
    next.tier = (uint8_t)tier;
    return change(s, slot, &next, now);
}

HR_API int hr_scheduler_override(hr_scheduler *s, uint64_t key,
                                 hr_qos_setting setting, double value,
                                 uint64_t now)
{
    if (!s)
        return HR_EINVAL;
    const int rc = check_value(s, (int)setting, value, 0);
    if (rc != HR_OK)
        return rc;
    const uint32_t slot = hr__qmap_find(&s->map, key);
    if (slot == HR__QNONE)
        return not_found(s, key);
    hr__qtenant next = s->tenants[slot];
    next.overrides[setting] = value;
    next.override_mask |= (uint8_t)(1u << setting);
    return change(s, slot, &next, now);
}

HR_API int hr_scheduler_clear_override(hr_scheduler *s, uint64_t key,
                                       hr_qos_setting setting, uint64_t now)
{
    if (!s)
        return HR_EINVAL;
    if (!setting_ok((int)setting))
        return hr__fail(&s->error, HR_EINVAL, "unknown QoS setting %d",
                        (int)setting);
    const uint32_t slot = hr__qmap_find(&s->map, key);
    if (slot == HR__QNONE)
        return not_found(s, key);
    hr__qtenant next = s->tenants[slot];
    next.override_mask &= (uint8_t) ~(1u << setting);
    return change(s, slot, &next, now);
}

HR_API int hr_scheduler_tenant_setting(const hr_scheduler *s, uint64_t key,
                                       hr_qos_setting setting, double *value,
                                       int *overridden)
{
    if (!s || !value || !setting_ok((int)setting))
        return HR_EINVAL;
    const hr__qtenant *tn = find(s, key);
    if (!tn)
        return HR_ENOTFOUND;
    *value = hr__sched_effective(s, tn, (int)setting);
    if (overridden)
        *overridden = (tn->override_mask >> setting) & 1;
    return HR_OK;
}

HR_API size_t hr_scheduler_tenant_count(const hr_scheduler *s)
{
    return s ? s->count : 0;
}

HR_API size_t hr_scheduler_backlogged_count(const hr_scheduler *s)
{
    return s ? s->backlogged : 0;
}

HR_API int hr_scheduler_tenant_stats(const hr_scheduler *s, uint64_t key,
                                     hr_qos_tenant_stats *stats)
{
    if (!s || !stats || stats->size < sizeof *stats)
        return HR_EINVAL;
    const hr__qtenant *tn = find(s, key);
    if (!tn)
        return HR_ENOTFOUND;
    const size_t size = stats->size;
    memset(stats, 0, sizeof *stats);
    stats->size = size;
    stats->tier = tn->tier;
    stats->last_phase = tn->last_phase;
    stats->backlog = tn->backlog;
    stats->items = tn->items;
    stats->reservation_cost = tn->reservation_cost;
    stats->weight_cost = tn->weight_cost;
    stats->decisions = tn->decisions;
    return HR_OK;
}

HR_API const char *hr_scheduler_errmsg(const hr_scheduler *s)
{
    return s ? s->error.message : "no scheduler";
}
