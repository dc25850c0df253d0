/*
 * floatcodec.c - see floatcodec.h for the idea and the wire layout.
 *
 * Bit-exactness rests on one rule: a digit d stands for the value computed
 * by from_digit() below, in the value's own type, and the encoder accepts d
 * only after computing exactly that and comparing the bits. How the encoder
 * finds d (multiply, divide, round) only affects how many values become
 * exceptions, never correctness. Division by an exact power of ten is
 * correctly rounded, so a decimal like 12.34 comes back as the nearest
 * double to 1234/100, which is what a parser produced in the first place
 * (ALP's multiply-by-inverse would miss some of these).
 *
 * (e, f) with e, f > 0 behave like (e - f, 0) as long as d * 10^f is exact,
 * so the search uses f only with e = 0, to strip trailing zeros of integers
 * (1200, 3400 -> 12, 34 with f = 2). The decoder accepts any pair in range.
 *
 * A value can round-trip with a digit far outside the others (2^53 + 2
 * among prices gives a 60-bit digit), which would widen every packed digit.
 * So digits must also fall in a window around the range the sample saw;
 * outliers become exceptions (about 72 bits each) instead.
 */
#include "floatcodec.h"

#include <float.h>
#include <string.h>

#include "bitpack.h"
#include "intcodec.h"

/* Digits must mean the same value on every host: IEEE arithmetic in the
 * declared type. (No expression here can be contracted into an FMA.) */
#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "floatcodec.c needs FLT_EVAL_METHOD == 0 (SSE2-class float math)"
#endif

static const double f64_pow10[HR__F64_MAX_EXP + 1] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
    1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};

static const float f32_pow10[HR__F32_MAX_EXP + 1] = {
    1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f};

/* Values sampled to choose (e, f); the search gives up on a batch when none
 * of the first ALP_EARLY samples is a short decimal. */
#define ALP_SAMPLES 32
#define ALP_EARLY 8

/* The digit window extends the sampled range by its own span on each side,
 * and by at least ALP_MIN_SPAN (so a batch whose sample is one repeated
 * value still admits small digits at no more than ~18 bits each). */
#define ALP_MIN_SPAN ((uint64_t)1 << 16)

#define SIGN_BIT ((uint64_t)1 << 63)

/* Parameters for one batch; the window is in biased (d ^ SIGN_BIT) order. */
typedef struct alp_params {
    unsigned e, f;
    uint64_t lo, hi;
} alp_params;

static inline int in_window(int64_t d, const alp_params *p)
{
    return ((uint64_t)d ^ SIGN_BIT) - p->lo <= p->hi - p->lo;
}

/* ---- per-type kernels ---- */

static inline double f64_from_digit(int64_t d, unsigned e, unsigned f)
{
    return (double)d * f64_pow10[f] / f64_pow10[e];
}

static inline float f32_from_digit(int64_t d, unsigned e, unsigned f)
{
    return (float)d * f32_pow10[f] / f32_pow10[e];
}

static inline int f64_same_bits(double a, double b)
{
    uint64_t x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    return x == y;
}

static inline int f32_same_bits(float a, float b)
{
    uint32_t x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    return x == y;
}

/*
 * The digit of v for (e, f), if v round-trips through it. Rounding adds and
 * subtracts 1.5 * 2^52, which rounds to nearest-even for |x| < 2^51; larger
 * x are integers already (or fail the check). NaN fails every comparison.
 */
static inline int f64_digit(double v, unsigned e, unsigned f, int64_t *d)
{
    const double x = v * f64_pow10[e] / f64_pow10[f];
    double r;
    if (x > -0x1p51 && x < 0x1p51)
        r = (x + 0x1.8p52) - 0x1.8p52;
    else if (x > -0x1p62 && x < 0x1p62)
        r = x;
    else
        return 0;
    const int64_t digit = (int64_t)r;
    if (!f64_same_bits(f64_from_digit(digit, e, f), v))
        return 0;
    *d = digit;
    return 1;
}

/* The same in float: the check must be done at float precision. */
static inline int f32_digit(float v, unsigned e, unsigned f, int64_t *d)
{
    const float x = v * f32_pow10[e] / f32_pow10[f];
    float r;
    if (x > -0x1p22f && x < 0x1p22f)
        r = (x + 0x1.8p23f) - 0x1.8p23f;
    else if (x > -0x1p62f && x < 0x1p62f)
        r = x;
    else
        return 0;
    const int64_t digit = (int64_t)r;
    if (!f32_same_bits(f32_from_digit(digit, e, f), v))
        return 0;
    *d = digit;
    return 1;
}

/*
 * An exception's digit slot copies the previous digit (so DELTA sees a zero
 * step); exceptions before the first good value copy the first good digit.
 * exc[0..x) is sorted.
 */
static void fill_leading(int64_t *d, size_t n, const size_t *exc, size_t x)
{
    size_t k = 0;
    while (k < x && exc[k] == k)
        k++;
    if (k == 0 || k == n)
        return;
    for (size_t i = 0; i < k; i++)
        d[i] = d[k];
}

/*
 * Digits of all values; exception positions into exc[0..max_exc]. Returns
 * the exception count, max_exc + 1 meaning "too many" (d is then partial).
 *
 * f is almost always 0; calling the inlined loop with a literal 0 lets the
 * compiler drop the multiply and divide by 10^0 = 1, which are exact, so the
 * digits are the same either way.
 */
#define HR__ALP_DIGITS_LOOP(T, digit_fn)                                       \
    do {                                                                       \
        const T *const v = values;                                             \
        size_t x = 0;                                                          \
        int64_t last = 0;                                                      \
        for (size_t i = 0; i < n; i++) {                                       \
            if (digit_fn(v[i], p->e, f, &d[i]) && in_window(d[i], p)) {        \
                last = d[i];                                                   \
            } else {                                                           \
                if (x == max_exc)                                              \
                    return max_exc + 1;                                        \
                exc[x++] = i;                                                  \
                d[i] = last;                                                   \
            }                                                                  \
        }                                                                      \
        fill_leading(d, n, exc, x);                                            \
        return x;                                                              \
    } while (0)

static inline size_t f64_digits_f(const void *values, size_t n,
                                  const alp_params *p, const unsigned f,
                                  int64_t *d, size_t *exc, size_t max_exc)
{
    HR__ALP_DIGITS_LOOP(double, f64_digit);
}

static inline size_t f32_digits_f(const void *values, size_t n,
                                  const alp_params *p, const unsigned f,
                                  int64_t *d, size_t *exc, size_t max_exc)
{
    HR__ALP_DIGITS_LOOP(float, f32_digit);
}

#undef HR__ALP_DIGITS_LOOP

static size_t f64_digits(const void *values, size_t n, const alp_params *p,
                         int64_t *d, size_t *exc, size_t max_exc)
{
    return p->f == 0 ? f64_digits_f(values, n, p, 0, d, exc, max_exc)
                     : f64_digits_f(values, n, p, p->f, d, exc, max_exc);
}

static size_t f32_digits(const void *values, size_t n, const alp_params *p,
                         int64_t *d, size_t *exc, size_t max_exc)
{
    return p->f == 0 ? f32_digits_f(values, n, p, 0, d, exc, max_exc)
                     : f32_digits_f(values, n, p, p->f, d, exc, max_exc);
}

static int f64_try(const void *values, size_t i, unsigned e, unsigned f,
                   int64_t *d)
{
    return f64_digit(((const double *)values)[i], e, f, d);
}

static int f32_try(const void *values, size_t i, unsigned e, unsigned f,
                   int64_t *d)
{
    return f32_digit(((const float *)values)[i], e, f, d);
}

/* The decoder's loops, with f = 0 split out as in the digits loops. */
static void f64_from_digits(void *values, const int64_t *d, size_t n,
                            unsigned e, unsigned f)
{
    double *const v = values;
    if (f == 0) {
        for (size_t i = 0; i < n; i++)
            v[i] = f64_from_digit(d[i], e, 0);
    } else {
        for (size_t i = 0; i < n; i++)
            v[i] = f64_from_digit(d[i], e, f);
    }
}

static void f32_from_digits(void *values, const int64_t *d, size_t n,
                            unsigned e, unsigned f)
{
    float *const v = values;
    if (f == 0) {
        for (size_t i = 0; i < n; i++)
            v[i] = f32_from_digit(d[i], e, 0);
    } else {
        for (size_t i = 0; i < n; i++)
            v[i] = f32_from_digit(d[i], e, f);
    }
}

/* What the type-independent ALP code needs to know about a float type. */
typedef struct alp_type {
    unsigned max_exp;
    size_t raw; /* bytes per value */
    int (*try_one)(const void *v, size_t i, unsigned e, unsigned f, int64_t *d);
    size_t (*digits)(const void *v, size_t n, const alp_params *p, int64_t *d,
                     size_t *exc, size_t max_exc);
    void (*from_digits)(void *v, const int64_t *d, size_t n, unsigned e,
                        unsigned f);
} alp_type;

static const alp_type alp_f64 = {HR__F64_MAX_EXP, sizeof(double), f64_try,
                                 f64_digits, f64_from_digits};
static const alp_type alp_f32 = {HR__F32_MAX_EXP, sizeof(float), f32_try,
                                 f32_digits, f32_from_digits};

/* ---- choosing (e, f) ---- */

/*
 * The smallest e that makes value i round-trip (a larger one works too, with
 * larger digits); for integers, the largest f that still does. 0 if none.
 */
static int sample_params(const alp_type *t, const void *v, size_t i,
                         alp_params *p)
{
    int64_t d;
    unsigned e = 0;
    while (e <= t->max_exp && !t->try_one(v, i, e, 0, &d))
        e++;
    if (e > t->max_exp)
        return 0;
    unsigned f = 0;
    if (e == 0 && d != 0) {
        while (f < t->max_exp && t->try_one(v, i, 0, f + 1, &d))
            f++;
    }
    p->e = e;
    p->f = f;
    p->lo = p->hi = 0; /* set by sample_cost */
    return 1;
}

/* Estimated bits for the samples under p: FOR width of the digits, plus the
 * raw value and a gap byte per exception. Sets p's window. */
static uint64_t sample_cost(const alp_type *t, const void *v, const size_t *idx,
                            size_t m, alp_params *p)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    size_t good = 0;
    for (size_t j = 0; j < m; j++) {
        int64_t d;
        if (!t->try_one(v, idx[j], p->e, p->f, &d))
            continue;
        const uint64_t b = (uint64_t)d ^ SIGN_BIT; /* signed order */
        lo = b < lo ? b : lo;
        hi = b > hi ? b : hi;
        good++;
    }
    if (good == 0) {
        p->lo = p->hi = 0;
        return UINT64_MAX;
    }
    const uint64_t range = hi - lo;
    const unsigned width = hr__bit_width(range);
    const uint64_t span = range > ALP_MIN_SPAN ? range : ALP_MIN_SPAN;
    p->lo = lo > span ? lo - span : 0;
    p->hi = hi < UINT64_MAX - span ? hi + span : UINT64_MAX;
    return (uint64_t)m * width + (uint64_t)(m - good) * 8 * (t->raw + 1);
}

/* Pick (e, f) from up to ALP_SAMPLES evenly spaced values; 0 if ALP is
 * hopeless for this batch. */
static int alp_choose(const alp_type *t, const void *v, size_t n,
                      alp_params *best)
{
    const size_t m = n < ALP_SAMPLES ? n : ALP_SAMPLES;
    size_t idx[ALP_SAMPLES];
    alp_params cand[ALP_SAMPLES];
    size_t nc = 0;
    for (size_t j = 0; j < m; j++) {
        idx[j] = j * (n / m) + j * (n % m) / m; /* j * n / m, no overflow */
        if (j == ALP_EARLY && nc == 0)
            return 0;
        alp_params p;
        if (!sample_params(t, v, idx[j], &p))
            continue;
        size_t k = 0;
        while (k < nc && (cand[k].e != p.e || cand[k].f != p.f))
            k++;
        if (k == nc)
            cand[nc++] = p;
    }
    if (nc == 0)
        return 0;
    uint64_t best_cost = UINT64_MAX;
    for (size_t k = 0; k < nc; k++) {
        const uint64_t cost = sample_cost(t, v, idx, m, &cand[k]);
        if (cost < best_cost) {
            best_cost = cost;
            *best = cand[k];
        }
    }
    return 1;
}

/* ---- encoding ---- */

static void put_plain(hr__wbuf *out, const void *v, size_t n, size_t raw)
{
    hr__wbuf_put_u8(out, HR__FLOAT_PLAIN);
    hr__wbuf_put(out, v, n * raw); /* little-endian host: raw bits */
}

static void put_alp(hr__wbuf *out, const alp_type *t, const void *v,
                    const int64_t *d, size_t n, alp_params p, const size_t *exc,
                    size_t x, int depth)
{
    hr__wbuf_put_u8(out, HR__FLOAT_ALP);
    hr__wbuf_put_u8(out, (uint8_t)p.e);
    hr__wbuf_put_u8(out, (uint8_t)p.f);
    hr__wbuf_put_varint(out, x);
    hr__int_encode(out, d, n, depth - 1);
    size_t next = 0; /* first position the next exception may take */
    for (size_t k = 0; k < x; k++) {
        hr__wbuf_put_varint(out, exc[k] - next);
        hr__wbuf_put(out, (const uint8_t *)v + exc[k] * t->raw, t->raw);
        next = exc[k] + 1;
    }
}

static void alp_encode(hr__wbuf *out, const alp_type *t, const void *v,
                       size_t n, int depth)
{
    alp_params p;
    if (depth < 1 || n == 0 || !alp_choose(t, v, n, &p)) {
        put_plain(out, v, n, t->raw);
        return;
    }
    /* Past n/2 exceptions (9+ bytes each for float8) ALP cannot win by
     * enough to be worth its decode cost. */
    const size_t max_exc = n / 2;
    int64_t *d = hr__malloc(out->env, n * sizeof *d);
    size_t *exc = hr__malloc(out->env, (max_exc + 1) * sizeof *exc);
    if (!d || !exc) {
        out->failed = 1;
    } else {
        const size_t x = t->digits(v, n, &p, d, exc, max_exc);
        const size_t start = out->len;
        if (x <= max_exc)
            put_alp(out, t, v, d, n, p, exc, x, depth);
        /* Not smaller than raw: PLAIN is as small and faster to decode. */
        if (!out->failed &&
            (x > max_exc || out->len - start >= 1 + n * t->raw)) {
            out->len = start;
            put_plain(out, v, n, t->raw);
        }
    }
    hr__free(out->env, exc);
    hr__free(out->env, d);
}

void hr__f64_encode(hr__wbuf *out, const double *v, size_t n, int depth)
{
    alp_encode(out, &alp_f64, v, n, depth);
}

void hr__f32_encode(hr__wbuf *out, const float *v, size_t n, int depth)
{
    alp_encode(out, &alp_f32, v, n, depth);
}

/* ---- decoding ---- */

static int get_exceptions(hr__rbuf *in, uint8_t *v, size_t n, size_t x,
                          size_t raw)
{
    size_t next = 0;
    for (size_t k = 0; k < x; k++) {
        uint64_t gap;
        const uint8_t *bits;
        if (hr__rbuf_get_varint(in, &gap) != 0 || gap >= n - next ||
            hr__rbuf_take(in, &bits, raw) != 0)
            return HR_ECORRUPT;
        const size_t pos = next + (size_t)gap;
        memcpy(v + pos * raw, bits, raw); /* bits as stored: NaN payloads */
        next = pos + 1;
    }
    return HR_OK;
}

static int alp_decode(hr__rbuf *in, const alp_type *t, void *v, size_t n,
                      int depth, const hr_env *env)
{
    uint8_t e, f;
    uint64_t x;
    if (depth < 1 || n == 0 || hr__rbuf_get_u8(in, &e) != 0 ||
        hr__rbuf_get_u8(in, &f) != 0 || e > t->max_exp || f > t->max_exp ||
        hr__rbuf_get_varint(in, &x) != 0 || x > n)
        return HR_ECORRUPT;
    int64_t *d = hr__malloc(env, n * sizeof *d);
    if (!d)
        return HR_ENOMEM;
    int rc = hr__int_decode(in, d, n, depth - 1, env);
    if (rc == HR_OK) {
        t->from_digits(v, d, n, e, f);
        rc = get_exceptions(in, v, n, (size_t)x, t->raw);
    }
    hr__free(env, d);
    return rc;
}

static int float_decode(hr__rbuf *in, const alp_type *t, void *v, size_t n,
                        int depth, const hr_env *env)
{
    uint8_t scheme;
    if (hr__rbuf_get_u8(in, &scheme) != 0)
        return HR_ECORRUPT;
    switch (scheme) {
    case HR__FLOAT_PLAIN:
        return hr__rbuf_get(in, v, n * t->raw) == 0 ? HR_OK : HR_ECORRUPT;
    case HR__FLOAT_ALP:
        return alp_decode(in, t, v, n, depth, env);
    default:
        return HR_ECORRUPT;
    }
}

int hr__f64_decode(hr__rbuf *in, double *v, size_t n, int depth,
                   const hr_env *env)
{
    return float_decode(in, &alp_f64, v, n, depth, env);
}

int hr__f32_decode(hr__rbuf *in, float *v, size_t n, int depth,
                   const hr_env *env)
{
    return float_decode(in, &alp_f32, v, n, depth, env);
}
