/*
 * qos_heap.c - indexed 4-ary min-heaps of tenant tags, and the map from the
 * host's tenant key to a slot.
 *
 * Four children per node: half the levels of a binary heap, and a node's
 * children (4 x 16 bytes) share one or two cache lines. A served tenant's
 * tag usually sinks from the root to the bottom, so the depth is what a
 * decision pays for.
 *
 * Each heap entry carries its key next to the slot, and each heap keeps the
 * position of every slot in a small array of its own, so sifting touches
 * only those two arrays (not the tenants, whose records would not stay in
 * cache with thousands of tenants), and any tenant's key can change or the
 * tenant can leave in O(log n). Heaps never allocate: the scheduler sizes
 * them with the slot array.
 */
#include <string.h>

#include "qos_internal.h"

/* Keys alone decide. Equal keys are ordered by the operations that made
 * them, which are deterministic, so decisions are reproducible. */
static inline int before(const hr__qentry *a, const hr__qentry *b)
{
    return a->key < b->key;
}

/* Written so the compiler picks a child with conditional moves: the
 * comparison is a coin flip, which a branch would mispredict half the
 * time. */
static inline uint32_t min_of(const hr__qentry *e, uint32_t a, uint32_t b)
{
    return e[b].key < e[a].key ? b : a;
}

static inline void set_at(hr__qheap *h, uint32_t pos, hr__qentry e)
{
    h->e[pos] = e;
    h->pos[e.slot] = pos;
}

static void sift_up(hr__qheap *h, uint32_t pos)
{
    const hr__qentry e = h->e[pos];
    uint64_t steps = 0;
    while (pos > 0) {
        const uint32_t parent = (pos - 1) / HR__QARITY;
        if (!before(&e, &h->e[parent]))
            break;
        set_at(h, pos, h->e[parent]);
        pos = parent;
        steps++;
    }
    set_at(h, pos, e);
    h->steps += steps;
}

/*
 * Bottom-up: a tag that grew (a served tenant's) nearly always belongs near
 * the bottom, so first move the hole down to a leaf along the smallest
 * children without comparing them with the entry, then let the entry rise
 * from there (rarely more than a level). That saves a comparison per level.
 */
static void sift_down(hr__qheap *h, uint32_t pos)
{
    hr__qentry *const a = h->e;
    uint32_t *const where = h->pos;
    const hr__qentry e = a[pos];
    const uint32_t n = h->n, top = pos;
    uint64_t steps = 0;
    for (;;) {
        const uint32_t first = HR__QARITY * pos + 1;
        if (first >= n)
            break;
        uint32_t child;
        if (n - first >= 4) {
            /* A tournament carrying the keys along, the winners chosen by
             * arithmetic on the comparisons: they are coin flips, and
             * compilers otherwise emit branches that mispredict half the
             * time. */
            const double k0 = a[first].key, k1 = a[first + 1].key;
            const double k2 = a[first + 2].key, k3 = a[first + 3].key;
            const uint32_t b01 = k1 < k0, b23 = k3 < k2;
            const uint32_t i01 = first + b01, i23 = first + 2 + b23;
            const double m01 = b01 ? k1 : k0, m23 = b23 ? k3 : k2;
            const uint32_t mask = 0u - (uint32_t)(m23 < m01);
            child = i01 ^ ((i01 ^ i23) & mask);
        } else {
            child = first;
            for (uint32_t k = first + 1; k < n; k++)
                child = min_of(a, child, k);
        }
        a[pos] = a[child];
        where[a[pos].slot] = pos;
        pos = child;
        steps++;
    }
    while (pos > top) {
        const uint32_t parent = (pos - 1) / HR__QARITY;
        if (!before(&e, &a[parent]))
            break;
        a[pos] = a[parent];
        where[a[pos].slot] = pos;
        pos = parent;
        steps++;
    }
    a[pos] = e;
    where[e.slot] = pos;
    h->steps += steps;
}

void hr__qheap_insert(hr__qheap *h, uint32_t slot, double key)
{
    const uint32_t pos = h->n++;
    h->e[pos] = (hr__qentry){key, slot};
    h->pos[slot] = pos;
    sift_up(h, pos);
}

void hr__qheap_remove(hr__qheap *h, uint32_t pos)
{
    const uint32_t slot = h->e[pos].slot;
    const uint32_t last = --h->n;
    h->pos[slot] = HR__QNONE;
    if (pos == last)
        return;
    const hr__qentry moved = h->e[last];
    set_at(h, pos, moved);
    /* The entry from the bottom may belong above or below its new place. */
    if (pos > 0 && before(&moved, &h->e[(pos - 1) / HR__QARITY]))
        sift_up(h, pos);
    else
        sift_down(h, pos);
}

void hr__qheap_update(hr__qheap *h, uint32_t pos, double key)
{
    const double old = h->e[pos].key;
    h->e[pos].key = key;
    if (key < old)
        sift_up(h, pos);
    else if (key > old)
        sift_down(h, pos);
}

int hr__qheap_check(const hr__qheap *h)
{
    for (uint32_t i = 0; i < h->n; i++) {
        if (h->pos[h->e[i].slot] != i)
            return HR_EINTERNAL;
        if (i > 0 && before(&h->e[i], &h->e[(i - 1) / HR__QARITY]))
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
        const int home_after_hole =
            i <= j ? (home > i && home <= j) : (home > i || home <= j);
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
