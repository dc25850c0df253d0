/*
 * intcodec.c - see intcodec.h for the wire layout.
 *
 * Values are handled as uint64_t throughout (int64_t and uint64_t may alias
 * each other): wrapping arithmetic is defined there, and a signed order is
 * recovered by flipping the sign bit ("biased" values) where min/max need it.
 *
 * Encoding is one statistics pass (min/max of values, deltas and
 * delta-of-deltas, run count) that gives the exact size of every scheme but
 * RLE; RLE is measured by building the runs and planning them one level
 * deeper, and only when there are few enough runs to make it plausible.
 */
#include "intcodec.h"

#include <assert.h>

#include "bitpack.h"

#define SIGN_BIT ((uint64_t)1 << 63)

/* Values packed per hr__bitpack_put call; a multiple of 8 keeps every call
 * but the last on a byte boundary, so the chunks form one stream. */
#define PACK_CHUNK 256

static inline uint64_t zigzag(uint64_t x)
{
    return (x << 1) ^ (0 - (x >> 63));
}

static inline uint64_t unzigzag(uint64_t z)
{
    return (z >> 1) ^ (0 - (z & 1));
}

static size_t varint_size(uint64_t x)
{
    size_t n = 1;
    while (x >= 0x80) {
        x >>= 7;
        n++;
    }
    return n;
}

/* ---- statistics and planning ---- */

/* Ranges are kept as biased minimum/maximum (x ^ SIGN_BIT), unsigned order
 * then equals signed order. */
typedef struct int_range {
    uint64_t lo, hi;
} int_range;

typedef struct int_stats {
    int_range val;   /* v[i] */
    int_range delta; /* v[i] - v[i-1], i >= 1 */
    int_range dod;   /* delta[i] - delta[i-1], i >= 2 */
    size_t runs;     /* maximal runs of equal values */
} int_stats;

static inline void range_init(int_range *r)
{
    r->lo = UINT64_MAX;
    r->hi = 0;
}

static inline void range_add(int_range *r, uint64_t x)
{
    const uint64_t b = x ^ SIGN_BIT;
    r->lo = b < r->lo ? b : r->lo;
    r->hi = b > r->hi ? b : r->hi;
}

/* The base (minimum) as a value, and the width of the range above it. */
static inline uint64_t range_base(const int_range *r)
{
    return r->lo ^ SIGN_BIT;
}

static inline unsigned range_width(const int_range *r)
{
    return hr__bit_width(r->hi - r->lo);
}

static void stats_compute(const uint64_t *v, size_t n, int_stats *s)
{
    range_init(&s->val);
    range_init(&s->delta);
    range_init(&s->dod);
    s->runs = n > 0;
    if (n == 0)
        return;
    range_add(&s->val, v[0]);
    uint64_t prev_delta = 0;
    for (size_t i = 1; i < n; i++) {
        const uint64_t delta = v[i] - v[i - 1];
        range_add(&s->val, v[i]);
        range_add(&s->delta, delta);
        if (i >= 2)
            range_add(&s->dod, delta - prev_delta);
        s->runs += delta != 0;
        prev_delta = delta;
    }
}

typedef struct int_plan {
    hr__int_scheme scheme;
    size_t size; /* payload bytes, after the scheme byte */
    int_stats stats;
    uint64_t *runs; /* RLE: values[0..nruns) then lengths; owned */
    size_t nruns;
} int_plan;

/* Payload size of a FOR block: zz(base) | u8 width | bits. */
static size_t for_size(const int_range *r, size_t count)
{
    return varint_size(zigzag(range_base(r))) + 1 +
           hr__bitpack_bytes(count, range_width(r));
}

/* Keep `scheme` if it is strictly smaller: ties favour earlier schemes,
 * which the callers order from cheapest to decode. */
static inline void consider(int_plan *p, hr__int_scheme scheme, size_t size)
{
    if (size < p->size) {
        p->scheme = scheme;
        p->size = size;
    }
}

static size_t plan_int(hr__wbuf *out, const uint64_t *v, size_t n, int depth,
                       int_plan *p);

static void plan_release(hr__wbuf *out, int_plan *p)
{
    hr__free(out->env, p->runs);
    p->runs = NULL;
}

/* Size of the best encoding of v[0..n) including its scheme byte. */
static size_t best_size(hr__wbuf *out, const uint64_t *v, size_t n, int depth)
{
    int_plan sub;
    const size_t size = plan_int(out, v, n, depth, &sub);
    plan_release(out, &sub);
    return 1 + size;
}

/* Split v into runs: values[0..r) and lengths[0..r) in one block. */
static uint64_t *build_runs(hr__wbuf *out, const uint64_t *v, size_t n,
                            size_t r)
{
    uint64_t *runs = hr__malloc(out->env, 2 * r * sizeof *runs);
    if (!runs) {
        out->failed = 1;
        return NULL;
    }
    size_t k = 0;
    runs[0] = v[0];
    runs[r] = 1;
    for (size_t i = 1; i < n; i++) {
        if (v[i] == v[i - 1]) {
            runs[r + k]++;
        } else {
            k++;
            runs[k] = v[i];
            runs[r + k] = 1;
        }
    }
    assert(k + 1 == r);
    return runs;
}

/*
 * RLE pays only with long runs: with r runs it stores 2r values instead of
 * n, so it is measured only when r <= n/2, and only when even its smallest
 * form (a varint and two one-byte CONST blocks) could beat the best so far.
 */
static void consider_rle(hr__wbuf *out, const uint64_t *v, size_t n, int depth,
                         int_plan *p)
{
    const size_t r = p->stats.runs;
    if (depth <= 0 || n < 2 || r > n / 2 || out->failed)
        return;
    if (varint_size(r) + 4 >= p->size)
        return;
    uint64_t *runs = build_runs(out, v, n, r);
    if (!runs)
        return;
    const size_t size = varint_size(r) + best_size(out, runs, r, depth - 1) +
                        best_size(out, runs + r, r, depth - 1);
    if (size < p->size && !out->failed) {
        p->scheme = HR__INT_RLE;
        p->size = size;
        p->runs = runs;
        p->nruns = r;
    } else {
        hr__free(out->env, runs);
    }
}

/* Fill *p with the smallest scheme for v[0..n); returns its payload size. */
static size_t plan_int(hr__wbuf *out, const uint64_t *v, size_t n, int depth,
                       int_plan *p)
{
    int_stats *const s = &p->stats;
    stats_compute(v, n, s);
    p->runs = NULL;
    p->nruns = 0;
    p->scheme = HR__INT_PLAIN;
    p->size = n * sizeof(uint64_t);
    if (n == 0)
        return p->size;
    if (s->runs == 1)
        consider(p, HR__INT_CONST, varint_size(zigzag(v[0])));
    consider(p, HR__INT_FOR, for_size(&s->val, n));
    if (n >= 2)
        consider(p, HR__INT_DELTA,
                 varint_size(zigzag(v[0])) + for_size(&s->delta, n - 1));
    if (n >= 3)
        consider(p, HR__INT_DOD,
                 varint_size(zigzag(v[0])) + varint_size(zigzag(v[1] - v[0])) +
                     for_size(&s->dod, n - 2));
    consider_rle(out, v, n, depth, p);
    return p->size;
}

/* ---- encoding ---- */

static void put_zz(hr__wbuf *out, uint64_t x)
{
    hr__wbuf_put_varint(out, zigzag(x));
}

/* FOR header, then v[i] - base packed. `order` 0: v[i]; 1: deltas (from
 * i = 1); 2: delta-of-deltas (from i = 2). */
static void put_residuals(hr__wbuf *out, const uint64_t *v, size_t n, int order,
                          const int_range *r)
{
    const uint64_t base = range_base(r);
    const unsigned w = range_width(r);
    uint64_t chunk[PACK_CHUNK];
    put_zz(out, base);
    hr__wbuf_put_u8(out, (uint8_t)w);
    for (size_t i = (size_t)order; i < n;) {
        const size_t k = n - i < PACK_CHUNK ? n - i : PACK_CHUNK;
        if (order == 0) {
            for (size_t j = 0; j < k; j++)
                chunk[j] = v[i + j] - base;
        } else if (order == 1) {
            for (size_t j = 0; j < k; j++)
                chunk[j] = v[i + j] - v[i + j - 1] - base;
        } else {
            for (size_t j = 0; j < k; j++)
                chunk[j] = v[i + j] - 2 * v[i + j - 1] + v[i + j - 2] - base;
        }
        hr__bitpack_put(out, chunk, k, w);
        i += k;
    }
}

static void encode_planned(hr__wbuf *out, const uint64_t *v, size_t n,
                           int depth, const int_plan *p)
{
    hr__wbuf_put_u8(out, (uint8_t)p->scheme);
    switch (p->scheme) {
    case HR__INT_PLAIN:
        hr__wbuf_put(out, v, n * sizeof *v); /* little-endian host */
        break;
    case HR__INT_CONST:
        put_zz(out, v[0]);
        break;
    case HR__INT_FOR:
        put_residuals(out, v, n, 0, &p->stats.val);
        break;
    case HR__INT_DELTA:
        put_zz(out, v[0]);
        put_residuals(out, v, n, 1, &p->stats.delta);
        break;
    case HR__INT_DOD:
        put_zz(out, v[0]);
        put_zz(out, v[1] - v[0]);
        put_residuals(out, v, n, 2, &p->stats.dod);
        break;
    case HR__INT_RLE:
        hr__wbuf_put_varint(out, p->nruns);
        hr__int_encode(out, (const int64_t *)p->runs, p->nruns, depth - 1);
        hr__int_encode(out, (const int64_t *)(p->runs + p->nruns), p->nruns,
                       depth - 1);
        break;
    }
}

void hr__int_encode(hr__wbuf *out, const int64_t *v, size_t n, int depth)
{
    const uint64_t *const u = (const uint64_t *)v;
    int_plan plan;
    plan_int(out, u, n, depth, &plan);
    const size_t start = out->len;
    encode_planned(out, u, n, depth, &plan);
    /* The plan's sizes are exact: a mismatch is a bug in one of them. */
    assert(out->failed || out->len - start == 1 + plan.size);
    (void)start;
    plan_release(out, &plan);
}

/* ---- decoding ---- */

static int get_zz(hr__rbuf *in, uint64_t *x)
{
    uint64_t z;
    if (hr__rbuf_get_varint(in, &z) != 0)
        return -1;
    *x = unzigzag(z);
    return 0;
}

/* Read a FOR block's header and its k residuals into u[0..k) (base not yet
 * added). */
static int get_residuals(hr__rbuf *in, uint64_t *u, size_t k, uint64_t *base,
                         unsigned *width)
{
    uint8_t w;
    if (get_zz(in, base) != 0 || hr__rbuf_get_u8(in, &w) != 0)
        return -1;
    *width = w;
    return hr__bitpack_get(in, u, k, w);
}

static int decode_plain(hr__rbuf *in, uint64_t *u, size_t n)
{
    return hr__rbuf_get(in, u, n * sizeof *u) == 0 ? HR_OK : HR_ECORRUPT;
}

static int decode_const(hr__rbuf *in, uint64_t *u, size_t n)
{
    uint64_t x;
    if (n == 0 || get_zz(in, &x) != 0)
        return HR_ECORRUPT;
    for (size_t i = 0; i < n; i++)
        u[i] = x;
    return HR_OK;
}

static int decode_for(hr__rbuf *in, uint64_t *u, size_t n)
{
    uint64_t base;
    unsigned w;
    if (get_residuals(in, u, n, &base, &w) != 0)
        return HR_ECORRUPT;
    for (size_t i = 0; i < n; i++)
        u[i] += base;
    return HR_OK;
}

static int decode_delta(hr__rbuf *in, uint64_t *u, size_t n)
{
    uint64_t first, base;
    unsigned w;
    if (n < 2 || get_zz(in, &first) != 0 ||
        get_residuals(in, u + 1, n - 1, &base, &w) != 0)
        return HR_ECORRUPT;
    u[0] = first;
    if (w == 0) {
        /* Constant step: independent products vectorise, a sum would not. */
        for (size_t i = 1; i < n; i++)
            u[i] = first + (uint64_t)i * base;
    } else {
        for (size_t i = 1; i < n; i++)
            u[i] = u[i - 1] + u[i] + base;
    }
    return HR_OK;
}

static int decode_dod(hr__rbuf *in, uint64_t *u, size_t n)
{
    uint64_t first, delta, base;
    unsigned w;
    if (n < 3 || get_zz(in, &first) != 0 || get_zz(in, &delta) != 0 ||
        get_residuals(in, u + 2, n - 2, &base, &w) != 0)
        return HR_ECORRUPT;
    u[0] = first;
    u[1] = first + delta;
    if (w == 0 && base == 0) {
        for (size_t i = 2; i < n; i++)
            u[i] = first + (uint64_t)i * delta;
    } else {
        for (size_t i = 2; i < n; i++) {
            delta += u[i] + base;
            u[i] = u[i - 1] + delta;
        }
    }
    return HR_OK;
}

/*
 * RLE decodes the r run values straight into the last r slots of the output
 * and expands them front to back. Expanding run k writes at most up to slot
 * n - r + k (each later run needs at least one slot), which is run k's own
 * value, already read; so only the lengths need scratch.
 */
static int expand_runs(uint64_t *u, size_t n, const uint64_t *len, size_t r)
{
    size_t pos = 0;
    for (size_t k = 0; k < r; k++) {
        const uint64_t room = n - pos - (r - 1 - k); /* >= 1, see below */
        if (len[k] == 0 || len[k] > room)
            return HR_ECORRUPT;
        const uint64_t x = u[n - r + k];
        for (size_t i = 0; i < len[k]; i++)
            u[pos + i] = x;
        pos += (size_t)len[k];
    }
    /* Each run left at least one slot per later run, so pos <= n. */
    return pos == n ? HR_OK : HR_ECORRUPT;
}

static int decode_rle(hr__rbuf *in, uint64_t *u, size_t n, int depth,
                      const hr_env *env)
{
    uint64_t r;
    if (depth <= 0 || hr__rbuf_get_varint(in, &r) != 0 || r == 0 || r > n)
        return HR_ECORRUPT;
    int rc = hr__int_decode(in, (int64_t *)(u + (n - r)), r, depth - 1, env);
    if (rc != HR_OK)
        return rc;
    uint64_t *len = hr__malloc(env, r * sizeof *len);
    if (!len)
        return HR_ENOMEM;
    rc = hr__int_decode(in, (int64_t *)len, r, depth - 1, env);
    if (rc == HR_OK)
        rc = expand_runs(u, n, len, r);
    hr__free(env, len);
    return rc;
}

int hr__int_decode(hr__rbuf *in, int64_t *v, size_t n, int depth,
                   const hr_env *env)
{
    uint64_t *const u = (uint64_t *)v;
    uint8_t scheme;
    if (hr__rbuf_get_u8(in, &scheme) != 0)
        return HR_ECORRUPT;
    switch (scheme) {
    case HR__INT_PLAIN:
        return decode_plain(in, u, n);
    case HR__INT_CONST:
        return decode_const(in, u, n);
    case HR__INT_FOR:
        return decode_for(in, u, n);
    case HR__INT_DELTA:
        return decode_delta(in, u, n);
    case HR__INT_DOD:
        return decode_dod(in, u, n);
    case HR__INT_RLE:
        return decode_rle(in, u, n, depth, env);
    default:
        return HR_ECORRUPT;
    }
}
