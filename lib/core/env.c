/* env.c - the environment handle: allocator, log sink, clock. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core_internal.h"

static void *system_malloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size);
}

static void *system_realloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    return realloc(ptr, size);
}

static void system_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

static uint64_t read_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t system_monotonic_ns(void *ctx)
{
    (void)ctx;
    return read_clock(CLOCK_MONOTONIC);
}

static uint64_t system_wall_ns(void *ctx)
{
    (void)ctx;
    return read_clock(CLOCK_REALTIME);
}

static const hr_allocator system_allocator = {
    HR_ALLOCATOR_VERSION, NULL, system_malloc, system_realloc, system_free};

static const hr_clock system_clock = {HR_CLOCK_VERSION, NULL,
                                      system_monotonic_ns, system_wall_ns};

static int allocator_is_valid(const hr_allocator *a)
{
    return a->version == HR_ALLOCATOR_VERSION && a->malloc && a->realloc &&
           a->free;
}

HR_API int hr_env_new(hr_env **out, const hr_allocator *allocator)
{
    if (!out)
        return HR_EINVAL;
    *out = NULL;
    if (!allocator)
        allocator = &system_allocator;
    if (!allocator_is_valid(allocator))
        return HR_EINVAL;

    hr_env *env = allocator->malloc(allocator->ctx, sizeof *env);
    if (!env)
        return HR_ENOMEM;
    memset(env, 0, sizeof *env);
    atomic_init(&env->refcount, 1);
    env->allocator = *allocator;
    env->log_min_level = HR_LOG_INFO;
    env->clock = system_clock;
    *out = env;
    return HR_OK;
}

hr_env *hr__env_ref(hr_env *env)
{
    atomic_fetch_add_explicit(&env->refcount, 1, memory_order_relaxed);
    return env;
}

void hr__env_unref(hr_env *env)
{
    if (!env)
        return;
    if (atomic_fetch_sub_explicit(&env->refcount, 1, memory_order_acq_rel) == 1)
        env->allocator.free(env->allocator.ctx, env);
}

HR_API void hr_env_free(hr_env *env)
{
    hr__env_unref(env);
}

HR_API int hr_env_set_log(hr_env *env, hr_log_fn fn, void *ctx,
                          hr_log_level min_level)
{
    if (!env)
        return HR_EINVAL;
    if (min_level < HR_LOG_ERROR || min_level > HR_LOG_TRACE)
        return hr__fail(&env->error, HR_EINVAL, "log level %d out of range 1..5",
                        (int)min_level);
    env->log_fn = fn;
    env->log_ctx = ctx;
    env->log_min_level = min_level;
    hr__error_clear(&env->error);
    return HR_OK;
}

HR_API int hr_env_set_clock(hr_env *env, const hr_clock *clock)
{
    if (!env)
        return HR_EINVAL;
    if (!clock) {
        env->clock = system_clock;
        hr__error_clear(&env->error);
        return HR_OK;
    }
    if (clock->version != HR_CLOCK_VERSION)
        return hr__fail(&env->error, HR_EINVAL,
                        "clock table version %u, this library knows %u",
                        clock->version, (unsigned)HR_CLOCK_VERSION);
    if (!clock->monotonic_ns || !clock->wall_ns)
        return hr__fail(&env->error, HR_EINVAL,
                        "clock table needs both monotonic_ns and wall_ns");
    env->clock = *clock;
    hr__error_clear(&env->error);
    return HR_OK;
}

HR_API uint64_t hr_env_monotonic_ns(const hr_env *env)
{
    const hr_clock *c = env ? &env->clock : &system_clock;
    return c->monotonic_ns(c->ctx);
}

HR_API uint64_t hr_env_wall_ns(const hr_env *env)
{
    const hr_clock *c = env ? &env->clock : &system_clock;
    return c->wall_ns(c->ctx);
}

HR_API const char *hr_env_errmsg(const hr_env *env)
{
    if (!env)
        return "no environment (NULL hr_env)";
    return env->error.message;
}
