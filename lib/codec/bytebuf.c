/* bytebuf.c - see bytebuf.h. */
#include "bytebuf.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the codec's wire format helpers assume a little-endian host"
#endif

void hr__wbuf_init(hr__wbuf *w, const hr_env *env)
{
    w->env = env;
    w->data = NULL;
    w->len = 0;
    w->cap = 0;
    w->failed = 0;
}

void hr__wbuf_free(hr__wbuf *w)
{
    hr__free(w->env, w->data);
    w->data = NULL;
    w->len = w->cap = 0;
}

int hr__wbuf_reserve(hr__wbuf *w, size_t extra)
{
    if (w->failed)
        return -1;
    if (extra <= w->cap - w->len)
        return 0;
    if (extra > SIZE_MAX / 2 - w->len) {
        w->failed = 1;
        return -1;
    }
    size_t need = w->len + extra;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < need)
        cap *= 2;
    uint8_t *grown = hr__realloc(w->env, w->data, cap);
    if (!grown) {
        w->failed = 1;
        return -1;
    }
    w->data = grown;
    w->cap = cap;
    return 0;
}

void hr__wbuf_put(hr__wbuf *w, const void *src, size_t n)
{
    if (n == 0 || hr__wbuf_reserve(w, n) != 0)
        return;
    memcpy(w->data + w->len, src, n);
    w->len += n;
}

void hr__wbuf_put_u8(hr__wbuf *w, uint8_t v)
{
    hr__wbuf_put(w, &v, 1);
}

void hr__wbuf_put_u16(hr__wbuf *w, uint16_t v)
{
    hr__wbuf_put(w, &v, 2);
}

void hr__wbuf_put_u32(hr__wbuf *w, uint32_t v)
{
    hr__wbuf_put(w, &v, 4);
}

void hr__wbuf_put_u64(hr__wbuf *w, uint64_t v)
{
    hr__wbuf_put(w, &v, 8);
}

void hr__wbuf_put_varint(hr__wbuf *w, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    hr__wbuf_put(w, tmp, n);
}

void hr__wbuf_patch_u32(hr__wbuf *w, size_t offset, uint32_t v)
{
    if (!w->failed && offset + 4 <= w->len)
        hr__store_u32(w->data + offset, v);
}

int hr__rbuf_get(hr__rbuf *r, void *dst, size_t n)
{
    if (n > hr__rbuf_left(r))
        return -1;
    if (n)
        memcpy(dst, r->data + r->pos, n);
    r->pos += n;
    return 0;
}

int hr__rbuf_take(hr__rbuf *r, const uint8_t **p, size_t n)
{
    if (n > hr__rbuf_left(r))
        return -1;
    *p = r->data + r->pos;
    r->pos += n;
    return 0;
}

int hr__rbuf_get_u8(hr__rbuf *r, uint8_t *v)
{
    return hr__rbuf_get(r, v, 1);
}

int hr__rbuf_get_u16(hr__rbuf *r, uint16_t *v)
{
    return hr__rbuf_get(r, v, 2);
}

int hr__rbuf_get_u32(hr__rbuf *r, uint32_t *v)
{
    return hr__rbuf_get(r, v, 4);
}

int hr__rbuf_get_u64(hr__rbuf *r, uint64_t *v)
{
    return hr__rbuf_get(r, v, 8);
}

int hr__rbuf_get_varint(hr__rbuf *r, uint64_t *v)
{
    uint64_t result = 0;
    size_t pos = r->pos;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (pos >= r->len)
            return -1;
        uint8_t byte = r->data[pos++];
        if (shift == 63 && byte > 1)
            return -1; /* bits beyond 64 */
        result |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            r->pos = pos;
            *v = result;
            return 0;
        }
    }
    return -1;
}
