/*
 * scheduler_run.c - decisions: backlog changes, hr_scheduler_next and
 * hr_scheduler_charge.
 *
 * Where a tenant sits:
 *   no backlog                    in no heap
 *   held at its limit             in L only, keyed by its L tag
 *   otherwise                     in P, and in R if it has a reservation
 * Every operation changes a tenant's state and then re-places it
 * (hr__sched_place): a few heap operations, O(log n) each.
 *
 * Limits are applied lazily. Right after a charge a tenant with a limit is
 * nearly always over it for a moment (its L tag is now + cost / limit), but
 * by the time its R or P tag comes to the top of its heap the moment has
 * usually passed. So a charge leaves the tenant in P/R, and only when
 * hr_scheduler_next finds a tenant over its limit at the top does it move
 * it to L ("hold"); it moves tenants whose L tag has passed back first.
 * Each hold follows a charge and each release follows a hold, so these
 * moves are paid for by the charges: O(log n) amortized per decision, and a
 * tenant over its limit is never picked.
 */
#include "qos_internal.h"

#define COST_MAX ((int64_t)1 << 50)

double hr__sched_time(hr_scheduler *s, uint64_t now)
{
    if (!s->time_set) {
        s->time_set = 1;
        s->origin = s->latest = now;
    } else if (now > s->latest) {
        s->latest = now;
    }
    return (double)(s->latest - s->origin);
}

static void want(hr_scheduler *s, uint32_t slot, int which, int in, double key)
{
    hr__qheap *h = &s->heaps[which];
    const uint32_t pos = h->pos[slot];
    if (!in) {
        if (pos != HR__QNONE)
            hr__qheap_remove(h, pos);
    } else if (pos == HR__QNONE) {
        hr__qheap_insert(h, slot, key);
    } else if (h->e[pos].key != key) {
        hr__qheap_update(h, pos, key);
    }
}

void hr__sched_place(hr_scheduler *s, uint32_t slot, double t)
{
    hr__qtenant *tn = &s->tenants[slot];
    const int active = tn->backlog > 0;
    const int was_held = s->heaps[HR__QHEAP_L].pos[slot] != HR__QNONE;
    const int held = active && was_held && tn->l_step > 0 && tn->l_tag > t;
    /* A stay at the limit is idleness for the P tag: no catching up on
     * the share afterwards. */
    if (was_held && !held && tn->p_tag < s->vtime)
        tn->p_tag = s->vtime;
    want(s, slot, HR__QHEAP_L, held, tn->l_tag);
    want(s, slot, HR__QHEAP_P, active && !held, tn->p_tag);
    want(s, slot, HR__QHEAP_R, active && !held && tn->r_step > 0, tn->r_tag);
}

/* Move a tenant found over its limit from P/R to L. */
static void hold(hr_scheduler *s, uint32_t slot)
{
    const hr__qtenant *tn = &s->tenants[slot];
    want(s, slot, HR__QHEAP_R, 0, 0);
    want(s, slot, HR__QHEAP_P, 0, 0);
    want(s, slot, HR__QHEAP_L, 1, tn->l_tag);
    s->limit_moves++;
}

static inline int over_limit(const hr__qtenant *tn, double t)
{
    return tn->l_step > 0 && tn->l_tag > t;
}

void hr__sched_unplace(hr_scheduler *s, uint32_t slot)
{
    for (int h = 0; h < HR__QHEAPS; h++)
        want(s, slot, h, 0, 0);
}

/* Idle time earns nothing: the tags restart where the tenants that kept
 * working are. For R that is now, or the oldest R tag still due if that is
 * older: on an over-committed server every R tag falls behind now, and a
 * tenant waking at now would wait for all of them to catch up. */
static void wake(hr_scheduler *s, hr__qtenant *tn, double t)
{
    const hr__qheap *rh = &s->heaps[HR__QHEAP_R];
    const double start = rh->n && rh->e[0].key < t ? rh->e[0].key : t;
    if (tn->r_tag < start)
        tn->r_tag = start;
    if (tn->p_tag < s->vtime)
        tn->p_tag = s->vtime;
}

static int set_backlog(hr_scheduler *s, uint64_t key, uint64_t items, int add,
                       uint64_t now)
{
    if (!s)
        return HR_EINVAL;
    const uint32_t slot = hr__qmap_find(&s->map, key);
    if (slot == HR__QNONE)
        return hr__fail(&s->error, HR_ENOTFOUND, "no tenant %llu",
                        (unsigned long long)key);
    hr__qtenant *tn = &s->tenants[slot];
    const double t = hr__sched_time(s, now);
    if (add)
        items = tn->backlog + items < tn->backlog ? UINT64_MAX
                                                  : tn->backlog + items;
    if (items == tn->backlog)
        return HR_OK;
    if (tn->backlog == 0) {
        wake(s, tn, t);
        s->backlogged++;
    } else if (items == 0) {
        s->backlogged--;
    }
    tn->backlog = items;
    hr__sched_place(s, slot, t);
    return HR_OK;
}

HR_API int hr_scheduler_set_backlog(hr_scheduler *s, uint64_t key,
                                    uint64_t items, uint64_t now)
{
    return set_backlog(s, key, items, 0, now);
}

HR_API int hr_scheduler_enqueue(hr_scheduler *s, uint64_t key, uint64_t items,
                                uint64_t now)
{
    return set_backlog(s, key, items, 1, now);
}

HR_API int hr_scheduler_next(hr_scheduler *s, uint64_t now, uint64_t *tenant,
                             uint64_t *wait_ns)
{
    if (!s)
        return HR_EINVAL;
    const double t = hr__sched_time(s, now);
    hr__qheap *lh = &s->heaps[HR__QHEAP_L];
    while (lh->n && lh->e[0].key <= t) {
        hr__sched_place(s, lh->e[0].slot, t);
        s->limit_moves++;
    }
    const hr__qheap *rh = &s->heaps[HR__QHEAP_R];
    const hr__qheap *ph = &s->heaps[HR__QHEAP_P];
    uint32_t slot;
    uint8_t phase;
    for (;;) {
        if (rh->n && rh->e[0].key <= t) {
            slot = rh->e[0].slot;
            phase = HR_QOS_PHASE_RESERVATION;
        } else if (ph->n) {
            slot = ph->e[0].slot;
            phase = HR_QOS_PHASE_WEIGHT;
        } else {
            uint64_t wait = UINT64_MAX;
            if (lh->n) {
                /* Rounded up: waking at now + wait finds the tenant due. */
                const double w = lh->e[0].key - t;
                wait = w >= 1.8e19 ? UINT64_MAX : (uint64_t)w;
                if (wait < UINT64_MAX && (double)wait < w)
                    wait++;
                if (wait == 0)
                    wait = 1;
            }
            if (wait_ns)
                *wait_ns = wait;
            s->pick_slot = HR__QNONE;
            return lh->n ? HR_EAGAIN : HR_ENOTFOUND;
        }
        if (!over_limit(&s->tenants[slot], t))
            break;
        hold(s, slot);
    }
    s->pick_slot = slot;
    s->pick_phase = phase;
    s->tenants[slot].decisions++;
    if (tenant)
        *tenant = s->tenants[slot].key;
    if (wait_ns)
        *wait_ns = 0;
    return HR_OK;
}

HR_API int hr_scheduler_charge(hr_scheduler *s, uint64_t key, int64_t cost,
                               uint64_t items, uint64_t now)
{
    if (!s)
        return HR_EINVAL;
    if (cost > COST_MAX || cost < -COST_MAX)
        return hr__fail(&s->error, HR_EINVAL, "cost %lld outside +-2^50",
                        (long long)cost);
    /* The usual charge is for the tenant just picked: skip the map. */
    uint32_t slot = s->pick_slot;
    if (slot == HR__QNONE || s->tenants[slot].key != key)
        slot = hr__qmap_find(&s->map, key);
    if (slot == HR__QNONE)
        return hr__fail(&s->error, HR_ENOTFOUND, "no tenant %llu",
                        (unsigned long long)key);
    hr__qtenant *tn = &s->tenants[slot];
    const double t = hr__sched_time(s, now);
    uint8_t phase = HR_QOS_PHASE_WEIGHT;
    const int picked = s->pick_slot == slot;
    if (picked) {
        phase = s->pick_phase;
        s->pick_slot = HR__QNONE;
    } else if (items == 0 && tn->last_phase != HR_QOS_PHASE_NONE) {
        phase = tn->last_phase; /* a correction of the previous charge */
    }
    if (phase == HR_QOS_PHASE_RESERVATION && tn->r_step == 0)
        phase = HR_QOS_PHASE_WEIGHT; /* the reservation was removed since */
    const double c = (double)cost;
    if (phase == HR_QOS_PHASE_RESERVATION) {
        tn->r_tag += c * tn->r_step;
        tn->reservation_cost += cost;
    } else {
        /* The virtual time is the P tag the last weight-phase decision was
         * made at (the smallest among eligible tenants then): tenants
         * waking up later start from it. */
        if (picked && s->vtime < tn->p_tag)
            s->vtime = tn->p_tag;
        tn->p_tag += c * tn->p_step;
        tn->weight_cost += cost;
    }
    if (tn->l_step > 0) {
        /* No burst for time spent under the limit: pace from now. */
        if (c > 0 && tn->l_tag < t)
            tn->l_tag = t;
        tn->l_tag += c * tn->l_step;
    }
    tn->last_phase = phase;
    tn->items += items;
    if (tn->backlog) {
        tn->backlog = items >= tn->backlog ? 0 : tn->backlog - items;
        if (tn->backlog == 0)
            s->backlogged--;
    }
    /* The usual case: a picked tenant still has work, so only the tag of
     * the phase that served it moved (its limit is looked at lazily). */
    if (picked && tn->backlog) {
        const int which =
            phase == HR_QOS_PHASE_RESERVATION ? HR__QHEAP_R : HR__QHEAP_P;
        hr__qheap *h = &s->heaps[which];
        const uint32_t pos = h->pos[slot];
        if (pos != HR__QNONE) {
            hr__qheap_update(h, pos,
                             which == HR__QHEAP_R ? tn->r_tag : tn->p_tag);
            return HR_OK;
        }
    }
    hr__sched_place(s, slot, t);
    return HR_OK;
}

int hr__sched_check(const hr_scheduler *s)
{
    uint32_t in_use = 0, backlogged = 0;
    for (int h = 0; h < HR__QHEAPS; h++)
        if (hr__qheap_check(&s->heaps[h]) != HR_OK)
            return HR_EINTERNAL;
    for (uint32_t i = 0; i < s->used; i++) {
        const hr__qtenant *tn = &s->tenants[i];
        if (!tn->in_use)
            continue;
        in_use++;
        backlogged += tn->backlog > 0;
        if (hr__qmap_find(&s->map, tn->key) != i)
            return HR_EINTERNAL;
        const int in_l = s->heaps[HR__QHEAP_L].pos[i] != HR__QNONE;
        const int in_p = s->heaps[HR__QHEAP_P].pos[i] != HR__QNONE;
        const int in_r = s->heaps[HR__QHEAP_R].pos[i] != HR__QNONE;
        if (!tn->backlog && (in_l || in_p || in_r))
            return HR_EINTERNAL;
        if (tn->backlog && in_l == in_p)
            return HR_EINTERNAL;
        if (in_l && tn->l_step == 0)
            return HR_EINTERNAL;
        if (in_r != (in_p && tn->r_step > 0))
            return HR_EINTERNAL;
        for (int h = 0; h < HR__QHEAPS; h++) {
            const double key = h == HR__QHEAP_R   ? tn->r_tag
                               : h == HR__QHEAP_P ? tn->p_tag
                                                  : tn->l_tag;
            const uint32_t pos = s->heaps[h].pos[i];
            if (pos != HR__QNONE && s->heaps[h].e[pos].key != key)
                return HR_EINTERNAL;
        }
    }
    if (in_use != s->count || backlogged != s->backlogged ||
        s->map.n != s->count)
        return HR_EINTERNAL;
    return HR_OK;
}
