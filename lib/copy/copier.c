/*
 * copier.c - the copier handle: lifetime, what to wait for, step and run,
 * progress. The state machine itself is copy_step.c.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>

#include "copy_internal.h"

HR_API int hr_copier_new(hr_env *env, const hr_copier_opts *opts,
                         const hr_copier_callbacks *callbacks, hr_copier **out)
{
    if (!out)
        return HR_EINVAL;
    *out = NULL;
    if (!env)
        return HR_EINVAL;
    /* Failures are the env's to report: the options stay untouched. */
    hr__error *err = &env->error;
    if (!opts || !callbacks)
        return hr__fail(err, HR_EINVAL, "NULL %s",
                        !opts ? "options" : "callbacks");
    if (callbacks->version != HR_COPIER_CALLBACKS_VERSION)
        return hr__fail(err, HR_EINVAL,
                        "copier callbacks version %u, this library knows %u",
                        callbacks->version,
                        (unsigned)HR_COPIER_CALLBACKS_VERSION);
    if (!callbacks->on_batch)
        return hr__fail(err, HR_EINVAL, "copier callbacks need on_batch");
    hr_copier *c = hr__calloc(env, 1, sizeof *c);
    if (!c)
        return hr__fail(err, HR_ENOMEM, "out of memory");
    c->env = hr__env_ref(env);
    c->cb = *callbacks;
    c->state = HR__CST_NEW;
    int rc = hr__copier_opts_apply(opts, c, err);
    if (rc != HR_OK) {
        hr_copier_free(c);
        return rc;
    }
    *out = c;
    return HR_OK;
}

HR_API void hr_copier_free(hr_copier *c)
{
    if (!c)
        return;
    hr_env *env = c->env;
    hr__copier_close(c);
    hr_batch_free(c->batch);
    hr_stream_opts_free(c->cfg);
    hr__strlist_free(env, &c->skip_schemas);
    hr__strlist_free(env, &c->skip_names);
    hr__strlist_free(env, &c->prio_schemas);
    hr__strlist_free(env, &c->prio_names);
    hr__free(env, c->prio);
    hr__free(env, c->snapshot);
    hr__free(env, c);
    hr__env_unref(env);
}

HR_API int hr_copier_fd(const hr_copier *c)
{
    return c ? hr__pgc_fd(&c->pg) : -1;
}

HR_API int hr_copier_interest(const hr_copier *c)
{
    if (!c || c->ready)
        return 0;
    return hr__pgc_interest(&c->pg);
}

HR_API int64_t hr_copier_timeout_ms(const hr_copier *c, uint64_t now)
{
    if (!c)
        return -1;
    switch (c->state) {
    case HR__CST_NEW:
        return 0;
    case HR__CST_DONE:
    case HR__CST_FAILED:
        return -1;
    case HR__CST_CONNECTING:
        return hr__ms_until(c->connect_started + HR__CONNECT_TIMEOUT_NS, now);
    default:
        break;
    }
    if (c->ready)
        return hr__ms_until(c->retry_at, now);
    return c->more_pending ? 0 : -1;
}

HR_API int hr_copier_step(hr_copier *c, uint64_t now)
{
    if (!c)
        return HR_EINVAL;
    if (c->in_callback)
        return hr__fail(&c->error, HR_ESTATE,
                        "hr_copier_step called from inside a copier callback");
    if (c->state == HR__CST_FAILED)
        return c->failed;
    if (c->state == HR__CST_DONE)
        return HR_OK;
    c->now = now;
    int rc = hr__copier_advance(c);
    if (rc == HR_OK || rc == HR_EAGAIN)
        return HR_OK;
    /* Final: the message stays, every later step returns the same. */
    hr__copier_close(c);
    hr_batch_free(c->batch);
    c->batch = NULL;
    c->ready = 0;
    c->more_pending = 0;
    c->state = HR__CST_FAILED;
    c->failed = rc;
    return rc;
}

static short poll_events(int interest)
{
    return (short)(((interest & HR_POLL_IN) ? POLLIN : 0) |
                   ((interest & HR_POLL_OUT) ? POLLOUT : 0));
}

HR_API int hr_copier_run(hr_copier *c, int64_t timeout_ms)
{
    if (!c)
        return HR_EINVAL;
    if (c->in_callback)
        return hr__fail(&c->error, HR_ESTATE,
                        "hr_copier_run called from inside a copier callback");
    uint64_t start = hr_env_monotonic_ns(c->env);
    uint64_t deadline = timeout_ms < 0
                            ? UINT64_MAX
                            : start + (uint64_t)timeout_ms * HR__NS_PER_MS;
    for (;;) {
        uint64_t now = hr_env_monotonic_ns(c->env);
        int rc = hr_copier_step(c, now);
        if (rc != HR_OK || c->state == HR__CST_DONE)
            return rc;
        now = hr_env_monotonic_ns(c->env);
        if (now >= deadline)
            return HR_OK;
        int64_t wait = hr_copier_timeout_ms(c, now);
        int64_t left =
            deadline == UINT64_MAX ? INT_MAX : hr__ms_until(deadline, now);
        if (wait < 0 || wait > left)
            wait = left;
        if (wait > INT_MAX)
            wait = INT_MAX;
        struct pollfd p = {.fd = hr_copier_fd(c),
                           .events = poll_events(hr_copier_interest(c)),
                           .revents = 0};
        if (p.events == 0)
            p.fd = -1; /* poll ignores it: a pure wait */
        if (poll(&p, 1, (int)wait) < 0 && errno != EINTR)
            return hr__fail(&c->error, HR_EIO, "poll: %s", strerror(errno));
    }
}

HR_API int hr_copier_done(const hr_copier *c)
{
    return c && c->state == HR__CST_DONE;
}

HR_API int hr_copier_progress(const hr_copier *c, uint64_t *rows_done,
                              uint64_t *rows_expected, uint64_t *bytes,
                              double *percent)
{
    if (!c)
        return HR_EINVAL;
    if (rows_done)
        *rows_done = c->rows_done;
    if (rows_expected)
        *rows_expected = c->rows_expected;
    if (bytes)
        *bytes = c->bytes;
    if (percent) {
        double p = 0.0;
        if (c->state == HR__CST_DONE)
            p = 100.0;
        else if (c->rows_expected)
            p = 100.0 * (double)c->rows_done / (double)c->rows_expected;
        *percent = p > 100.0 ? 100.0 : p;
    }
    return HR_OK;
}

HR_API uint64_t hr_copier_snapshot_lsn(const hr_copier *c)
{
    return c ? c->snapshot_lsn : 0;
}

HR_API const char *hr_copier_errmsg(const hr_copier *c)
{
    return c ? c->error.message : "no copier (NULL)";
}
