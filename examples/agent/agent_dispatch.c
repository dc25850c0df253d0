/*
 * agent_dispatch.c - per-tenant queues in front of the applier, served by
 * the QoS scheduler (see agent_dispatch.h).
 */
#include "agent_dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dispatch_init(dispatch *d, hr_env *env, size_t n, int64_t capacity,
                  dispatch_free_fn free_msg)
{
    if (!d || !n)
        return HR_EINVAL;
    memset(d, 0, sizeof *d);
    d->cur = d->peeked = DISPATCH_NONE;
    d->free_msg = free_msg;
    int rc = hr_scheduler_new(env, &d->sched);
    if (rc != HR_OK)
        return rc;
    if (capacity > 0 &&
        (rc = hr_scheduler_set_param(d->sched, HR_SCHED_PARAM_CAPACITY,
                                     capacity)) != HR_OK)
        goto fail;
    d->t = calloc(n, sizeof *d->t);
    if (!d->t) {
        rc = HR_ENOMEM;
        goto fail;
    }
    d->n = n;
    for (size_t i = 0; i < n; i++) {
        d->t[i].tier = HR_QOS_STANDARD;
        if ((rc = hr_scheduler_add(d->sched, i, HR_QOS_STANDARD)) != HR_OK)
            goto fail;
        hr_scheduler_get_tier(d->sched, HR_QOS_STANDARD, HR_QOS_WEIGHT,
                              &d->t[i].weight);
    }
    return HR_OK;
fail:
    dispatch_free(d);
    return rc;
}

static void free_items(dispatch *d, dispatch_item *it)
{
    while (it) {
        dispatch_item *next = it->next;
        if (d->free_msg)
            d->free_msg(it->msg);
        free(it);
        d->queued--;
        it = next;
    }
}

void dispatch_free(dispatch *d)
{
    if (!d)
        return;
    for (size_t i = 0; d->t && i < d->n; i++) {
        free_items(d, d->t[i].head);
        free(d->t[i].name);
    }
    free(d->t);
    hr_scheduler_free(d->sched);
    memset(d, 0, sizeof *d);
}

int dispatch_set_name(dispatch *d, size_t i, const char *name)
{
    if (!d || i >= d->n || !name)
        return HR_EINVAL;
    char *copy = strdup(name);
    if (!copy)
        return HR_ENOMEM;
    free(d->t[i].name);
    d->t[i].name = copy;
    return HR_OK;
}

hr_qos_tier dispatch_tier_parse(const char *s)
{
    if (!s)
        return 0;
    if (!strcmp(s, "premium"))
        return HR_QOS_PREMIUM;
    if (!strcmp(s, "standard"))
        return HR_QOS_STANDARD;
    if (!strcmp(s, "basic"))
        return HR_QOS_BASIC;
    return 0;
}

int dispatch_set_tier(dispatch *d, size_t i, hr_qos_tier tier, uint64_t now)
{
    if (!d || i >= d->n)
        return HR_EINVAL;
    int rc = hr_scheduler_set_tenant_tier(d->sched, i, tier, now);
    if (rc != HR_OK)
        return rc;
    d->t[i].tier = tier;
    hr_scheduler_clear_override(d->sched, i, HR_QOS_WEIGHT, now);
    hr_scheduler_get_tier(d->sched, tier, HR_QOS_WEIGHT, &d->t[i].weight);
    return HR_OK;
}

int dispatch_push(dispatch *d, size_t i, void *msg, uint32_t flags,
                  int64_t cost, uint64_t now)
{
    if (!d || i >= d->n)
        return HR_EINVAL;
    dispatch_tenant *t = &d->t[i];
    dispatch_item *it = malloc(sizeof *it);
    if (!it)
        return HR_ENOMEM;
    /* A unit starts with FIRST, or with anything that does not continue an
     * open unit (then it is a unit of one message). */
    if (!t->tail_open || (flags & DISPATCH_FIRST)) {
        int rc = hr_scheduler_enqueue(d->sched, i, 1, now);
        if (rc != HR_OK) {
            free(it);
            return rc;
        }
        if (t->tail_open && t->tail) /* a unit that never ended: ends here */
            t->tail->flags |= DISPATCH_LAST;
        t->units++;
        t->tail_open = (flags & DISPATCH_FIRST) &&
                       !(flags & (DISPATCH_LAST | DISPATCH_ABORT));
        if (!(flags & DISPATCH_FIRST))
            flags |= DISPATCH_LAST;
        flags |= DISPATCH_FIRST;
    } else if (flags & (DISPATCH_LAST | DISPATCH_ABORT)) {
        t->tail_open = 0;
    }
    it->next = NULL;
    it->msg = msg;
    it->flags = flags;
    it->cost = cost;
    if (t->tail)
        t->tail->next = it;
    else
        t->head = it;
    t->tail = it;
    d->queued++;
    return HR_OK;
}

void *dispatch_peek(dispatch *d, uint64_t now, size_t *tenant,
                    uint64_t *wait_ns)
{
    size_t i = d->cur;
    uint64_t wait = 0;
    if (i == DISPATCH_NONE) {
        uint64_t pick = 0;
        int rc = hr_scheduler_next(d->sched, now, &pick, &wait);
        if (rc != HR_OK || pick >= d->n || !d->t[pick].head) {
            if (wait_ns)
                *wait_ns = rc == HR_OK ? UINT64_MAX : wait;
            d->peeked = DISPATCH_NONE;
            return NULL;
        }
        i = (size_t)pick;
    } else if (!d->t[i].head) { /* the rest of the unit is on its way */
        if (wait_ns)
            *wait_ns = UINT64_MAX;
        d->peeked = DISPATCH_NONE;
        return NULL;
    }
    d->peeked = i;
    if (tenant)
        *tenant = i;
    if (wait_ns)
        *wait_ns = 0;
    return d->t[i].head->msg;
}

int dispatch_pop(dispatch *d, uint64_t now)
{
    if (!d || d->peeked == DISPATCH_NONE || !d->t[d->peeked].head)
        return HR_ESTATE;
    size_t i = d->peeked;
    dispatch_tenant *t = &d->t[i];
    dispatch_item *it = t->head;
    t->head = it->next;
    if (!t->head)
        t->tail = NULL;
    d->queued--;
    d->peeked = DISPATCH_NONE;
    if (d->cur == DISPATCH_NONE) {
        d->cur = i;
        d->cur_cost = 0;
    }
    d->cur_cost += it->cost;
    if (it->flags & (DISPATCH_LAST | DISPATCH_ABORT)) {
        /* Charged after the hand-over: the next decision sees the cost. */
        hr_scheduler_charge(d->sched, i, d->cur_cost, 1, now);
        t->units--;
        t->units_done++;
        d->cur = DISPATCH_NONE;
    }
    free(it);
    return HR_OK;
}

void dispatch_drop_tenant(dispatch *d, size_t i, uint64_t now)
{
    if (!d || i >= d->n)
        return;
    dispatch_tenant *t = &d->t[i];
    free_items(d, t->head);
    t->head = t->tail = NULL;
    t->units = 0;
    t->tail_open = 0;
    if (d->cur == i)
        d->cur = DISPATCH_NONE;
    if (d->peeked == i)
        d->peeked = DISPATCH_NONE;
    hr_scheduler_set_backlog(d->sched, i, 0, now);
}

static double tier_weight(const dispatch *d, size_t i)
{
    double base = 1;
    hr_scheduler_get_tier(d->sched, d->t[i].tier, HR_QOS_WEIGHT, &base);
    return base;
}

double dispatch_set_heat(dispatch *d, size_t i, double factor, uint64_t now)
{
    if (!d || i >= d->n)
        return 0;
    dispatch_tenant *t = &d->t[i];
    if (!(factor > 1)) /* also NaN */
        factor = 1;
    if (factor > DISPATCH_HOT_MAX)
        factor = DISPATCH_HOT_MAX;
    double w = tier_weight(d, i) * factor;
    if (w == t->weight)
        return w;
    int rc = factor == 1
                 ? hr_scheduler_clear_override(d->sched, i, HR_QOS_WEIGHT, now)
                 : hr_scheduler_override(d->sched, i, HR_QOS_WEIGHT, w, now);
    if (rc == HR_OK)
        t->weight = w;
    return t->weight;
}

void dispatch_clear_heat(dispatch *d, uint64_t now)
{
    for (size_t i = 0; d && i < d->n; i++)
        dispatch_set_heat(d, i, 1, now);
}

static int score_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x > y ? -1 : x < y;
}

int dispatch_apply_predictor(dispatch *d, hr_predictor *p, uint64_t now,
                             uint64_t now_wall_ns)
{
    if (!d || !p)
        return HR_EINVAL;
    double *score = calloc(d->n, sizeof *score);
    double *sorted = calloc(d->n, sizeof *sorted);
    if (!score || !sorted) {
        free(score);
        free(sorted);
        return HR_ENOMEM;
    }
    for (size_t i = 0; i < d->n; i++) {
        int rc = d->t[i].name ? hr_predictor_score(p, d->t[i].name, now_wall_ns,
                                                   &score[i])
                              : HR_OK;
        if (rc != HR_OK) {
            free(score);
            free(sorted);
            return rc;
        }
        sorted[i] = score[i];
    }
    /* Hot: a score of DISPATCH_HOT_SCORE or more, and among the best
     * DISPATCH_HOT_SHARE of the tenants (a raised weight raises nobody
     * when everybody has it). */
    qsort(sorted, d->n, sizeof *sorted, score_desc);
    size_t k = (size_t)((double)d->n * DISPATCH_HOT_SHARE + 0.999);
    double cut = k ? sorted[k - 1] : 2.0;
    if (cut < DISPATCH_HOT_SCORE)
        cut = DISPATCH_HOT_SCORE;
    /* score[] becomes 1 for the hot, 0 for the others. */
    int hot = 0;
    double hot_weight = 0, cold_weight = 0;
    for (size_t i = 0; i < d->n; i++) {
        int is_hot = score[i] >= cut && (size_t)hot < k;
        hot += is_hot;
        *(is_hot ? &hot_weight : &cold_weight) += tier_weight(d, i);
        score[i] = is_hot;
    }
    double factor = DISPATCH_HOT_MAX;
    if (hot_weight > 0 && cold_weight > 0) {
        factor = DISPATCH_HOT_SET_WEIGHT * cold_weight /
                 ((1 - DISPATCH_HOT_SET_WEIGHT) * hot_weight);
        if (factor < DISPATCH_HOT_MIN)
            factor = DISPATCH_HOT_MIN;
    }
    for (size_t i = 0; i < d->n; i++)
        dispatch_set_heat(d, i, score[i] ? factor : 1, now);
    free(score);
    free(sorted);
    return hot;
}

static int observe_table(dispatch *d, hr_predictor *p, size_t i,
                         const char *table, uint64_t now_wall_ns,
                         hr_predictor_access kind)
{
    char key[HR_PREDICTOR_KEY_MAX + 1];
    int len = snprintf(key, sizeof key, "%s/%s", d->t[i].name, table);
    if (len < 0 || (size_t)len >= sizeof key)
        return HR_EINVAL;
    return hr_predictor_observe(p, key, now_wall_ns, kind, 1);
}

int dispatch_observe(dispatch *d, hr_predictor *p, size_t i, const char *table,
                     uint64_t now_wall_ns, hr_predictor_access kind)
{
    if (!d || !p || i >= d->n || !d->t[i].name)
        return HR_EINVAL;
    int rc = hr_predictor_observe(p, d->t[i].name, now_wall_ns, kind, 1);
    if (rc != HR_OK || !table)
        return rc;
    return observe_table(d, p, i, table, now_wall_ns, kind);
}

int dispatch_observe_table(dispatch *d, hr_predictor *p, size_t i,
                           const char *table, uint64_t now_wall_ns,
                           hr_predictor_access kind)
{
    if (!d || !p || i >= d->n || !d->t[i].name || !table)
        return HR_EINVAL;
    return observe_table(d, p, i, table, now_wall_ns, kind);
}
