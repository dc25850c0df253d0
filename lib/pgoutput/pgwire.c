/* pgwire.c - the protocol error messages of the big-endian message cursor. */
#include <inttypes.h>
#include <stdio.h>

#include "pgoutput_internal.h"

int hr__pg_protofail(hr_pgdecoder *d, size_t pos, const char *fmt, ...)
{
    char what[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    d->failed = 1;
    const char *name = d->msg_name ? d->msg_name : "CopyData";
    if (d->msg_lsn)
        return hr__fail(&d->error, HR_EPROTO,
                        "offset %zu in %s message: %s (WAL %" PRIX32 "/%" PRIX32
                        ")",
                        d->msg_base + pos, name, what,
                        (uint32_t)(d->msg_lsn >> 32), (uint32_t)d->msg_lsn);
    return hr__fail(&d->error, HR_EPROTO, "offset %zu in %s message: %s",
                    d->msg_base + pos, name, what);
}

int hr__pg_short(hr_pgdecoder *d, const hr__pgin *in, size_t need,
                 const char *field)
{
    return hr__pg_protofail(d, in->pos,
                            "truncated: %s needs %zu byte%s, %zu left", field,
                            need, need == 1 ? "" : "s", hr__pgin_left(in));
}

int hr__pgin_str(hr_pgdecoder *d, hr__pgin *in, const char *field,
                 const char **s, size_t *n)
{
    const uint8_t *start = in->p + in->pos;
    *s = NULL;
    *n = 0;
    const uint8_t *nul = memchr(start, 0, hr__pgin_left(in));
    if (!nul)
        return hr__pg_protofail(
            d, in->pos, "truncated: %s string has no terminating NUL", field);
    *s = (const char *)start;
    *n = (size_t)(nul - start);
    in->pos += *n + 1;
    return 0;
}

int hr__pgin_end(hr_pgdecoder *d, const hr__pgin *in)
{
    if (in->pos == in->len)
        return 0;
    return hr__pg_protofail(d, in->pos, "%zu unexpected byte%s after the end",
                            hr__pgin_left(in),
                            hr__pgin_left(in) == 1 ? "" : "s");
}

int hr__pg_nomem(hr_pgdecoder *d, const char *what)
{
    d->failed = 1;
    return hr__fail(&d->error, HR_ENOMEM, "out of memory %s", what);
}
