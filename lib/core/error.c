/* error.c - per-handle error records and logging. */
#include <stdio.h>

#include "core_internal.h"

int hr__vfail(hr__error *err, int code, const char *fmt, va_list ap)
{
    err->code = code;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    return code;
}

int hr__fail(hr__error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hr__vfail(err, code, fmt, ap);
    va_end(ap);
    return code;
}

void hr__error_clear(hr__error *err)
{
    err->code = HR_OK;
    err->message[0] = '\0';
}

void hr__log(const hr_env *env, hr_log_level level, const char *fmt, ...)
{
    if (!env->log_fn || level > env->log_min_level)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    env->log_fn(env->log_ctx, level, line);
}
