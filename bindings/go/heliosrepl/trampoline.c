/* trampoline.c - C functions handed to the library for Go callbacks. */
#include "trampoline.h"

#include "_cgo_export.h"

static uint64_t monotonic_ns(void *ctx)
{
    return hrgoMonotonicNs((uintptr_t)ctx);
}

static uint64_t wall_ns(void *ctx)
{
    return hrgoWallNs((uintptr_t)ctx);
}

static void log_message(void *ctx, hr_log_level level, const char *message)
{
    /* cgo's export header drops const; Go only reads the message. */
    hrgoLog((uintptr_t)ctx, (int)level, (char *)message);
}

int hrgo_env_set_clock(hr_env *env, uintptr_t ctx, int monotonic, int wall)
{
    const hr_clock clock = {HR_CLOCK_VERSION, (void *)ctx,
                            monotonic ? monotonic_ns : NULL,
                            wall ? wall_ns : NULL};
    return hr_env_set_clock(env, &clock);
}

int hrgo_env_set_log(hr_env *env, uintptr_t ctx, int enabled, int min_level)
{
    return hr_env_set_log(env, enabled ? log_message : NULL, (void *)ctx,
                          (hr_log_level)min_level);
}

void hrgo_log_through_trampoline(uintptr_t ctx, int level, const char *message)
{
    log_message((void *)ctx, (hr_log_level)level, message);
}
