/*
 * support.c - shared benchmark helpers (see support.h).
 */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <heliosrepl/heliosrepl.h>

static const char *progname = "bench";

void bench_set_progname(const char *name)
{
    progname = name;
}

void bench_die(const char *what, const char *detail)
{
    fprintf(stderr, "%s: %s: %s\n", progname, what, detail ? detail : "");
    exit(1);
}

void *bench_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        bench_die("out of memory", NULL);
    return p;
}

void bench_check(int rc, const char *what)
{
    if (rc != HR_OK)
        bench_die(what, hr_strerror(rc));
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_now_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

double bench_cpu_s(void)
{
    return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

uint64_t bench_rng_next(bench_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Multiply-shift of the high 32 bits: no division, bias below n / 2^32. */
uint32_t bench_rng_below(bench_rng *r, uint32_t n)
{
    return (uint32_t)(((bench_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

int64_t bench_rng_range(bench_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)bench_rng_below(r, (uint32_t)(hi - lo + 1));
}

void bench_buf_reserve(bench_buf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more)
        cap *= 2;
    b->data = bench_xrealloc(b->data, cap);
    b->cap = cap;
}

void bench_buf_put(bench_buf *b, const void *p, size_t n)
{
    bench_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

void bench_buf_put_u8(bench_buf *b, uint8_t v)
{
    bench_buf_put(b, &v, 1);
}

void bench_buf_put_be16(bench_buf *b, uint16_t v)
{
    const uint8_t p[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    bench_buf_put(b, p, 2);
}

void bench_buf_put_be32(bench_buf *b, uint32_t v)
{
    const uint8_t p[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
                          (uint8_t)(v >> 8), (uint8_t)v};
    bench_buf_put(b, p, 4);
}
