/*
 * core_internal.h - what every module shares: the env's allocator, log and
 * clock, and the per-handle error record. Not installed.
 */
#ifndef HR_CORE_INTERNAL_H
#define HR_CORE_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>

#include <heliosrepl/core.h>

#define HR__ERRMSG_MAX 512

/* The last error of a handle: its code and a formatted message. */
typedef struct hr__error {
    int code;
    char message[HR__ERRMSG_MAX];
} hr__error;

struct hr_env {
    atomic_uint refcount; /* the host's reference + one per live handle */
    hr_allocator allocator;
    hr_log_fn log_fn;
    void *log_ctx;
    hr_log_level log_min_level;
    hr_clock clock;
    hr__error error;
};

/* Allocation through the env's allocator. calloc checks n*size overflow. */
void *hr__malloc(const hr_env *env, size_t size);
void *hr__calloc(const hr_env *env, size_t n, size_t size);
void *hr__realloc(const hr_env *env, void *ptr, size_t size);
void hr__free(const hr_env *env, void *ptr);
char *hr__strdup(const hr_env *env, const char *s);

/* A handle takes a reference on its env when created, drops it when freed. */
hr_env *hr__env_ref(hr_env *env);
void hr__env_unref(hr_env *env);

/*
 * Record `code` with a printf-style message in `err` and return `code`, so an
 * exit point reads `return hr__fail(&h->error, HR_EINVAL, "...", ...);`.
 */
int hr__fail(hr__error *err, int code, const char *fmt, ...)
    HR_PRINTF_LIKE(3, 4);
int hr__vfail(hr__error *err, int code, const char *fmt, va_list ap)
    HR_PRINTF_LIKE(3, 0);
void hr__error_clear(hr__error *err);

/* Log through the env's sink when `level` passes its threshold. */
void hr__log(const hr_env *env, hr_log_level level, const char *fmt, ...)
    HR_PRINTF_LIKE(3, 4);

#endif /* HR_CORE_INTERNAL_H */
