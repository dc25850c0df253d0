/*
 * pgwire.h - a bounds-checked big-endian (network order) cursor over one
 * pgoutput message. PostgreSQL's replication protocol is big-endian, unlike
 * the codec's little-endian bytebuf, so it has its own small reader.
 *
 * Every getter returns 0, or a negative status after recording "offset N in
 * <message> message: <what>" in the decoder's error (N = the offset of the
 * field inside the CopyData payload). On failure the cursor stays put.
 */
#ifndef HR_PGOUTPUT_PGWIRE_H
#define HR_PGOUTPUT_PGWIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <heliosrepl/pgoutput.h>

#include "core/core_internal.h"

typedef struct hr__pgin {
    const uint8_t *p;
    size_t len;
    size_t pos;
} hr__pgin;

/* Record "offset <base+pos> in <message> message: <what>", HR_EPROTO. */
int hr__pg_protofail(hr_pgdecoder *d, size_t pos, const char *fmt, ...)
    HR_PRINTF_LIKE(3, 4);
/* The "truncated" error of a field that needs `need` bytes. */
int hr__pg_short(hr_pgdecoder *d, const hr__pgin *in, size_t need,
                 const char *field);

static inline uint16_t hr__be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t hr__be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static inline uint64_t hr__be64(const uint8_t *p)
{
    return (uint64_t)hr__be32(p) << 32 | hr__be32(p + 4);
}

static inline size_t hr__pgin_left(const hr__pgin *in)
{
    return in->len - in->pos;
}

static inline int hr__pgin_u8(hr_pgdecoder *d, hr__pgin *in, const char *field,
                              uint8_t *v)
{
    if (in->pos >= in->len) {
        *v = 0; /* defined even on failure: keeps -O3 warnings quiet */
        return hr__pg_short(d, in, 1, field);
    }
    *v = in->p[in->pos++];
    return 0;
}

static inline int hr__pgin_u16(hr_pgdecoder *d, hr__pgin *in, const char *field,
                               uint16_t *v)
{
    if (hr__pgin_left(in) < 2) {
        *v = 0;
        return hr__pg_short(d, in, 2, field);
    }
    *v = hr__be16(in->p + in->pos);
    in->pos += 2;
    return 0;
}

static inline int hr__pgin_u32(hr_pgdecoder *d, hr__pgin *in, const char *field,
                               uint32_t *v)
{
    if (hr__pgin_left(in) < 4) {
        *v = 0;
        return hr__pg_short(d, in, 4, field);
    }
    *v = hr__be32(in->p + in->pos);
    in->pos += 4;
    return 0;
}

static inline int hr__pgin_u64(hr_pgdecoder *d, hr__pgin *in, const char *field,
                               uint64_t *v)
{
    if (hr__pgin_left(in) < 8) {
        *v = 0;
        return hr__pg_short(d, in, 8, field);
    }
    *v = hr__be64(in->p + in->pos);
    in->pos += 8;
    return 0;
}

/* A NUL-terminated String: *s points into the message, *n excludes the NUL. */
int hr__pgin_str(hr_pgdecoder *d, hr__pgin *in, const char *field,
                 const char **s, size_t *n);

/* The message must end here: trailing bytes are an error. */
int hr__pgin_end(hr_pgdecoder *d, const hr__pgin *in);

#endif /* HR_PGOUTPUT_PGWIRE_H */
