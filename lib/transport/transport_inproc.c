/*
 * transport_inproc.c - the in-process transport: the shared queue is the
 * whole of it, so there is no socket, no timer and nothing to step.
 */
#include "transport_internal.h"

static int inproc_fd(const hr_transport *t)
{
    (void)t;
    return -1;
}

static int inproc_interest(const hr_transport *t)
{
    (void)t;
    return 0;
}

static int64_t inproc_timeout_ms(const hr_transport *t, uint64_t now_ns)
{
    (void)t;
    (void)now_ns;
    return -1;
}

static int inproc_step(hr_transport *t, uint64_t now_ns)
{
    (void)t;
    (void)now_ns;
    return HR_OK;
}

static const hr__transport_ops inproc_ops = {
    .kind = HR_TRANSPORT_INPROC,
    .fd = inproc_fd,
    .interest = inproc_interest,
    .timeout_ms = inproc_timeout_ms,
    .step = inproc_step,
    .destroy = NULL,
};

HR_API int hr_transport_new_inproc(hr_env *env, hr_transport **out)
{
    return hr__transport_create(env, &inproc_ops, out);
}
