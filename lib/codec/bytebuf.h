/*
 * bytebuf.h - growable output buffer and bounds-checked input cursor for the
 * codec's wire format. All multi-byte integers are little-endian.
 *
 * The writer records the first allocation failure in `failed` and ignores
 * later writes, so an encoder checks once at the end instead of after every
 * put. The reader never reads past `len`: every getter returns 0 on success
 * and -1 when the input is too short, leaving the cursor where it was.
 */
#ifndef HR_CODEC_BYTEBUF_H
#define HR_CODEC_BYTEBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/core_internal.h"

typedef struct hr__wbuf {
    const hr_env *env;
    uint8_t *data;
    size_t len;
    size_t cap;
    int failed; /* an allocation failed: contents are incomplete */
} hr__wbuf;

void hr__wbuf_init(hr__wbuf *w, const hr_env *env);
void hr__wbuf_free(hr__wbuf *w);
/* Make room for `extra` more bytes; 0 on success, -1 (and failed=1) if not. */
int hr__wbuf_reserve(hr__wbuf *w, size_t extra);
void hr__wbuf_put(hr__wbuf *w, const void *src, size_t n);
void hr__wbuf_put_u8(hr__wbuf *w, uint8_t v);
void hr__wbuf_put_u16(hr__wbuf *w, uint16_t v);
void hr__wbuf_put_u32(hr__wbuf *w, uint32_t v);
void hr__wbuf_put_u64(hr__wbuf *w, uint64_t v);
/* LEB128 unsigned varint, at most 10 bytes. */
void hr__wbuf_put_varint(hr__wbuf *w, uint64_t v);
/* Overwrite 4 bytes at `offset` (a length placeholder written earlier). */
void hr__wbuf_patch_u32(hr__wbuf *w, size_t offset, uint32_t v);

typedef struct hr__rbuf {
    const uint8_t *data;
    size_t len;
    size_t pos;
} hr__rbuf;

static inline void hr__rbuf_init(hr__rbuf *r, const void *data, size_t len)
{
    r->data = data;
    r->len = len;
    r->pos = 0;
}

static inline size_t hr__rbuf_left(const hr__rbuf *r)
{
    return r->len - r->pos;
}

int hr__rbuf_get(hr__rbuf *r, void *dst, size_t n);
/* Point *p at the next n bytes (no copy) and skip them. */
int hr__rbuf_take(hr__rbuf *r, const uint8_t **p, size_t n);
int hr__rbuf_get_u8(hr__rbuf *r, uint8_t *v);
int hr__rbuf_get_u16(hr__rbuf *r, uint16_t *v);
int hr__rbuf_get_u32(hr__rbuf *r, uint32_t *v);
int hr__rbuf_get_u64(hr__rbuf *r, uint64_t *v);
/* Rejects overlong encodings (more than 10 bytes or bits beyond 64). */
int hr__rbuf_get_varint(hr__rbuf *r, uint64_t *v);

static inline uint32_t hr__load_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v; /* little-endian hosts only: checked in bytebuf.c */
}

static inline uint64_t hr__load_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline void hr__store_u32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static inline void hr__store_u64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

#endif /* HR_CODEC_BYTEBUF_H */
