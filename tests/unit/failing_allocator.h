/*
 * failing_allocator.h - a counting hr_allocator for tests: it fails the Nth
 * allocation on request and tracks live blocks, so a test can sweep every
 * allocation point of an operation and check each failure returns HR_ENOMEM
 * and leaks nothing.
 */
#ifndef HR_TEST_FAILING_ALLOCATOR_H
#define HR_TEST_FAILING_ALLOCATOR_H

#include <stddef.h>

#include <heliosrepl/core.h>

typedef struct failing_allocator {
    long fail_at;      /* allocation number (1-based) that fails; 0 = never */
    long allocations;  /* allocations attempted so far */
    long live_blocks;  /* blocks allocated and not yet freed */
} failing_allocator;

/* Reset counters and fail the `fail_at`-th allocation (0 = never fail). */
void failing_allocator_reset(failing_allocator *fa, long fail_at);

/* An hr_allocator table whose ctx is `fa`. */
hr_allocator failing_allocator_table(failing_allocator *fa);

/*
 * Run `op` once per allocation point: with fail_at = 1, 2, ... until it
 * succeeds without a forced failure. Each forced failure must return
 * HR_ENOMEM and leave no live block after `cleanup`. Returns the number of
 * allocation points, or -1 (with a message in `why`) on the first violation.
 */
typedef int (*failing_op_fn)(hr_env *env, void *state);
typedef void (*failing_cleanup_fn)(void *state);
long failing_allocator_sweep(failing_op_fn op, failing_cleanup_fn cleanup,
                             void *state, char *why, size_t why_size);

#endif
