/* failing_allocator.c - see failing_allocator.h. */
#include "failing_allocator.h"

#include <stdio.h>
#include <stdlib.h>

/* A header before each block records that it is ours, for the live count. */
typedef union block_header {
    size_t size;
    max_align_t align;
} block_header;

static int should_fail(failing_allocator *fa)
{
    fa->allocations++;
    return fa->fail_at != 0 && fa->allocations == fa->fail_at;
}

static void *fa_malloc(void *ctx, size_t size)
{
    failing_allocator *fa = ctx;
    if (should_fail(fa))
        return NULL;
    block_header *h = malloc(sizeof *h + size);
    if (!h)
        return NULL;
    h->size = size;
    fa->live_blocks++;
    return h + 1;
}

static void *fa_realloc(void *ctx, void *ptr, size_t size)
{
    failing_allocator *fa = ctx;
    if (!ptr)
        return fa_malloc(ctx, size);
    if (should_fail(fa))
        return NULL;
    block_header *h = realloc((block_header *)ptr - 1, sizeof *h + size);
    if (!h)
        return NULL;
    h->size = size;
    return h + 1;
}

static void fa_free(void *ctx, void *ptr)
{
    failing_allocator *fa = ctx;
    if (!ptr)
        return;
    fa->live_blocks--;
    free((block_header *)ptr - 1);
}

void failing_allocator_reset(failing_allocator *fa, long fail_at)
{
    fa->fail_at = fail_at;
    fa->allocations = 0;
    fa->live_blocks = 0;
}

hr_allocator failing_allocator_table(failing_allocator *fa)
{
    hr_allocator table = {HR_ALLOCATOR_VERSION, fa, fa_malloc, fa_realloc,
                          fa_free};
    return table;
}

long failing_allocator_sweep(failing_op_fn op, failing_cleanup_fn cleanup,
                             void *state, char *why, size_t why_size)
{
    for (long fail_at = 1;; fail_at++) {
        failing_allocator fa;
        failing_allocator_reset(&fa, 0);
        hr_allocator table = failing_allocator_table(&fa);
        hr_env *env = NULL;
        if (hr_env_new(&env, &table) != HR_OK) {
            snprintf(why, why_size, "hr_env_new failed without injection");
            return -1;
        }
        /* Count from here: the env's own allocation is not under test. */
        fa.allocations = 0;
        fa.fail_at = fail_at;
        int rc = op(env, state);
        if (cleanup)
            cleanup(state);
        hr_env_free(env);
        int injected = fa.allocations >= fail_at;
        if (fa.live_blocks != 0) {
            snprintf(why, why_size, "%ld block(s) leaked, failing allocation %ld",
                     fa.live_blocks, fail_at);
            return -1;
        }
        if (!injected) {
            if (rc != HR_OK) {
                snprintf(why, why_size, "op failed (%d) without injection", rc);
                return -1;
            }
            return fail_at - 1;
        }
        if (rc != HR_ENOMEM) {
            snprintf(why, why_size, "allocation %ld failed but op returned %d",
                     fail_at, rc);
            return -1;
        }
    }
}
