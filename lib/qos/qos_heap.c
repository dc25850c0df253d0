/*
 * qos_heap.c - indexed binary min-heaps of tenant tags, and the map from the
 * host's tenant key to a slot.
 *
 * Each heap entry carries its key next to the slot, so sifting touches only
 * the heap array; each tenant records its position in every heap, so any
 * tenant's key can change or the tenant can leave in O(log n). Heaps never
 * allocate: the scheduler sizes them with the slot array.
 */
#include <string.h>

#include "qos_internal.h"

/* Ties go to the lower slot, so decisions never depend on heap history. */
static inline int before(const hr__qentry *a, const hr__qentry *b)
{
    return a->key < b->key || (a->key == b->key && a->slot < b->slot);
}

static inline void set_at(hr__qheap *h, hr__qtenant *ts, int which,
                          uint32_t pos, hr__qentry e)
{
    h->e[pos] = e;
    ts[e.slot].pos[which] = pos;
}

static void sift_up(hr__qheap *h, hr__qtenant *ts, int which, uint32_t pos)
{
    const hr__qentry e = h->e[pos];
    while (pos > 0) {
        const uint32_t parent = (pos - 1) / 2;
        if (!before(&e, &h->e[parent]))
            break;
        set_at(h, ts, which, pos, h->e[parent]);
        pos = parent;
        h->steps++;
    }
    set_at(h, ts, which, pos, e);
}

static void sift_down(hr__qheap *h, hr__qtenant *ts, int which, uint32_t pos)
{
    const hr__qentry e = h->e[pos];
    const uint32_t n = h->n;
    for (;;) {
        uint32_t child = 2 * pos + 1;
        if (child >= n)
            break;
        if (child + 1 < n && before(&h->e[child + 1], &h->e[child]))
            child++;
        if (!before(&h->e[child], &e))
            break;
        set_at(h, ts, which, pos, h->e[child]);
        pos = child;
        h->steps++;
    }
    set_at(h, ts, which, pos, e);
}

void hr__qheap_insert(hr__qheap *h, hr__qtenant *ts, int which, uint32_t slot,
                      double key)
{
    const uint32_t pos = h->n++;
    h->e[pos] = (hr__qentry){key, slot};
    ts[slot].pos[which] = pos;
    sift_up(h, ts, which, pos);
}

void hr__qheap_remove(hr__qheap *h, hr__qtenant *ts, int which, uint32_t pos)
{
    const uint32_t slot = h->e[pos].slot;
    const uint32_t last = --h->n;
    ts[slot].pos[which] = HR__QNONE;
    if (pos == last)
        return;
    const hr__qentry moved = h->e[last];
    set_at(h, ts, which, pos, moved);
    /* The entry from the bottom may belong above or below its new place. */
    if (pos > 0 && before(&moved, &h->e[(pos - 1) / 2]))
        sift_up(h, ts, which, pos);
    else
        sift_down(h, ts, which, pos);
}

void hr__qheap_update(hr__qheap *h, hr__qtenant *ts, int which, uint32_t pos,
                      double key)
{
    const double old = h->e[pos].key;
    h->e[pos].key = key;
    if (key < old)
        sift_up(h, ts, which, pos);
    else if (key > old)
        sift_down(h, ts, which, pos);
}

int hr__qheap_check(const hr__qheap *h, const hr__qtenant *ts, int which)
{
    for (uint32_t i = 0; i < h->n; i++) {
        if (ts[h->e[i].slot].pos[which] != i)
            return HR_EINTERNAL;
        if (i > 0 && before(&h->e[i], &h->e[(i - 1) / 2]))
            return HR_EINTERNAL;
    }
    return HR_OK;
}

/* ---- map ------------------------------------------------------------ */

/* splitmix64's finalizer: host keys are often small consecutive numbers. */
static inline uint32_t hash_key(uint64_t k)
{
    k ^= k >> 30;
    k *= UINT64_C(0xbf58476d1ce4e5b9);
    k ^= k >> 27;
    k *= UINT64_C(0x94d049bb133111eb);
    k ^= k >> 31;
    return (uint32_t)k;
}

uint32_t hr__qmap_find(const hr__qmap *m, uint64_t key)
{
    if (!m->e)
        return HR__QNONE;
    for (uint32_t i = hash_key(key) & m->mask;; i = (i + 1) & m->mask) {
        const hr__qmap_entry *e = &m->e[i];
        if (e->slot == HR__QNONE)
            return HR__QNONE;
        if (e->key == key)
            return e->slot;
    }
}

static void put_raw(hr__qmap_entry *e, uint32_t mask, uint64_t key,
                    uint32_t slot)
{
    uint32_t i = hash_key(key) & mask;
    while (e[i].slot != HR__QNONE)
        i = (i + 1) & mask;
    e[i].key = key;
    e[i].slot = slot;
}

int hr__qmap_reserve(hr__qmap *m, const hr_env *env)
{
    const uint64_t capacity = m->e ? (uint64_t)m->mask + 1 : 0;
    /* Keep the load at most 1/2: probes stay short. */
    if ((uint64_t)(m->n + 1) * 2 <= capacity)
        return HR_OK;
    const uint64_t grown = capacity ? capacity * 2 : 64;
    if (grown > ((uint64_t)1 << 31))
        return HR_ENOMEM;
    hr__qmap_entry *e = hr__malloc(env, (size_t)grown * sizeof *e);
    if (!e)
        return HR_ENOMEM;
    for (uint64_t i = 0; i < grown; i++)
        e[i].slot = HR__QNONE;
    const uint32_t mask = (uint32_t)(grown - 1);
    for (uint64_t i = 0; i < capacity; i++)
        if (m->e[i].slot != HR__QNONE)
            put_raw(e, mask, m->e[i].key, m->e[i].slot);
    hr__free(env, m->e);
    m->e = e;
    m->mask = mask;
    return HR_OK;
}

void hr__qmap_put(hr__qmap *m, uint64_t key, uint32_t slot)
{
    put_raw(m->e, m->mask, key, slot);
    m->n++;
}

void hr__qmap_del(hr__qmap *m, uint64_t key)
{
    uint32_t i = hash_key(key) & m->mask;
    while (m->e[i].key != key || m->e[i].slot == HR__QNONE)
        i = (i + 1) & m->mask;
    /* Backward shift: pull later entries of the probe run into the hole, so
     * lookups never need tombstones. */
    for (uint32_t j = (i + 1) & m->mask;; j = (j + 1) & m->mask) {
        if (m->e[j].slot == HR__QNONE)
            break;
        const uint32_t home = hash_key(m->e[j].key) & m->mask;
        /* Move e[j] into the hole at i unless its home lies in (i, j]. */
        const int home_after_hole = i <= j ? (home > i && home <= j)
                                           : (home > i || home <= j);
        if (home_after_hole)
            continue;
        m->e[i] = m->e[j];
        i = j;
    }
    m->e[i].slot = HR__QNONE;
    m->n--;
}

void hr__qmap_free(hr__qmap *m, const hr_env *env)
{
    hr__free(env, m->e);
    memset(m, 0, sizeof *m);
}
