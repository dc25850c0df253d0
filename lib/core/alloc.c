/* alloc.c - allocation through the env's allocator table. */
#include <stdint.h>
#include <string.h>

#include "core_internal.h"

void *hr__malloc(const hr_env *env, size_t size)
{
    /* malloc(0) may return NULL; callers treat NULL as failure, so never ask. */
    return env->allocator.malloc(env->allocator.ctx, size ? size : 1);
}

void *hr__calloc(const hr_env *env, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = hr__malloc(env, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *hr__realloc(const hr_env *env, void *ptr, size_t size)
{
    return env->allocator.realloc(env->allocator.ctx, ptr, size ? size : 1);
}

void hr__free(const hr_env *env, void *ptr)
{
    if (ptr)
        env->allocator.free(env->allocator.ctx, ptr);
}

char *hr__strdup(const hr_env *env, const char *s)
{
    size_t len = strlen(s);
    char *copy = hr__malloc(env, len + 1);
    if (copy)
        memcpy(copy, s, len + 1);
    return copy;
}
