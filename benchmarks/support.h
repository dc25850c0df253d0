/*
 * support.h - helpers every benchmark program may share: fatal errors,
 * clocks, a small deterministic random number generator and a growable
 * byte buffer. Built into the static library hr_bench_support, which is
 * linked into every bench-<name> (see CMakeLists.txt).
 *
 * Fatal errors print `PROGRAM: what: detail` on stderr and exit with
 * status 1; PROGRAM is set once by bench_set_progname(). Single-threaded.
 */
#ifndef HR_BENCH_SUPPORT_H
#define HR_BENCH_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* The program name fatal errors start with (default "bench"). `name` must
 * outlive every later call (a string literal or argv[0]). */
void bench_set_progname(const char *name);

/* Print `PROGRAM: what: detail` on stderr and exit(1). `detail` may be
 * NULL. */
void bench_die(const char *what, const char *detail);

/* realloc that dies on failure (and never returns NULL for n == 0). */
void *bench_xrealloc(void *p, size_t n);

/* Die with hr_strerror(rc) unless rc is HR_OK. */
void bench_check(int rc, const char *what);

/* Seconds of CLOCK_MONOTONIC (wall time). */
double bench_now_s(void);

/* Seconds of CPU time of the calling thread: against the wall time, tells
 * whether other processes took the core. */
double bench_cpu_s(void);

/* splitmix64: small, fast, good enough for synthetic data. Seed by setting
 * `s`; the same seed gives the same sequence on every platform. */
typedef struct bench_rng {
    uint64_t s;
} bench_rng;

uint64_t bench_rng_next(bench_rng *r);

/* Uniform in [0, n), n > 0. */
uint32_t bench_rng_below(bench_rng *r, uint32_t n);

/* Uniform in [lo, hi], hi - lo < 2^32. */
int64_t bench_rng_range(bench_rng *r, int64_t lo, int64_t hi);

/* A growable byte buffer. Zero-initialize it ({0}); release with
 * free(b.data). `len` may be reset to 0 to reuse the storage. */
typedef struct bench_buf {
    uint8_t *data;
    size_t len, cap;
} bench_buf;

/* Make room for `more` bytes after `len` (cap >= len + more). */
void bench_buf_reserve(bench_buf *b, size_t more);

void bench_buf_put(bench_buf *b, const void *p, size_t n);
void bench_buf_put_u8(bench_buf *b, uint8_t v);
void bench_buf_put_be16(bench_buf *b, uint16_t v); /* big-endian */
void bench_buf_put_be32(bench_buf *b, uint32_t v); /* big-endian */

#endif /* HR_BENCH_SUPPORT_H */
