/*
 * strtpl_tok.c - the TEMPLATE encoder's tokenizer (see strtpl.h for what
 * it recognizes): one pass per row writes the row's literal text and slot
 * positions to scratch and finds its template by a hash of the literal
 * text and the slot shapes.
 */
#include <string.h>

#define XXH_INLINE_ALL /* short keys: the hash inlined, no call */
#include <xxhash.h>

#include "strtpl_internal.h"

/* Bytes that glue to a number or a word: it is not a token then. */
static inline int is_word(uint8_t c)
{
    return is_digit(c) || (uint8_t)((c | 0x20) - 'a') < 26 || c == '_' ||
           c == '.' || c >= 0x80;
}

static inline int is_blank(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * p (holding *cap elements of `elem` bytes) grown to hold `need`: the new
 * block, or NULL when memory ran out (p is still valid then).
 */
void *hr__tpl_grow(const hr_env *env, void *p, size_t *cap, size_t need,
                   size_t elem)
{
    if (need <= *cap)
        return p;
    size_t cap2 = *cap ? *cap : 64;
    while (cap2 < need)
        cap2 *= 2;
    if (cap2 > SIZE_MAX / elem)
        return NULL;
    void *q = hr__realloc(env, p, cap2 * elem);
    if (q)
        *cap = cap2;
    return q;
}

/* Tokenizer cursor over one row. */
typedef struct row_tok {
    tpl_enc *e;
    const uint8_t *row;  /* first byte of the row */
    const uint8_t *lit0; /* start of the pending literal run */
    uint8_t *w;          /* literal bytes written */
    uint32_t k;          /* slots so far */
    uint32_t max;        /* room for this many slots */
    uint32_t *slot;      /* next slot record */
} row_tok;

/* Record a slot [a, b) of `kind`; the literal run before it is flushed. */
static inline int emit(row_tok *r, const uint8_t *a, const uint8_t *b,
                       unsigned kind)
{
    if (r->k == r->max)
        return -1;
    const size_t len = (size_t)(a - r->lit0);
    if (len <= 16 && r->e->hend - r->lit0 >= 16)
        memcpy(r->w, r->lit0, 16); /* one fixed-size copy (room for it) */
    else
        memcpy(r->w, r->lit0, len);
    r->w += len;
    r->e->shape[r->k] = (uint32_t)((size_t)(r->w - r->e->lit) << 2 | kind);
    r->slot[0] = (uint32_t)(a - r->e->heap);
    r->slot[1] = (uint32_t)(b - a);
    r->slot += 2;
    r->k++;
    r->lit0 = b;
    return 0;
}

/* The first '"' or '\\' in [p, end), or end: 8 bytes at a time. */
static inline const uint8_t *find_quote(const uint8_t *p, const uint8_t *end)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    while (end - p >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        const uint64_t x = v ^ (ones * '"'), y = v ^ (ones * '\\');
        /* a zero byte of x or y: exact for the lowest one */
        const uint64_t m =
            ((x - ones) & ~x & highs) | ((y - ones) & ~y & highs);
        if (m)
            return p + (__builtin_ctzll(m) >> 3);
        p += 8;
    }
    while (p < end && *p != '"' && *p != '\\')
        p++;
    return p;
}

/* Bytes where a JSON token may start: 1 quote, 2 number, 3 word. */
static const uint8_t json_class[256] = {
    ['"'] = 1, ['-'] = 2, ['0'] = 2, ['1'] = 2, ['2'] = 2,
    ['3'] = 2, ['4'] = 2, ['5'] = 2, ['6'] = 2, ['7'] = 2,
    ['8'] = 2, ['9'] = 2, ['t'] = 3, ['f'] = 3, ['n'] = 3};

/* JSON-ish: strings, numbers, true/false/null. */
static int tokenize_json(row_tok *r, const uint8_t *p, const uint8_t *end)
{
    while (p < end) {
        const uint8_t c = *p;
        const unsigned cls = json_class[c];
        if (cls == 0) {
            p++;
        } else if (cls == 1) {
            const uint8_t *q = p + 1;
            for (;;) {
                q = find_quote(q, end);
                if (q >= end)
                    return 0; /* unterminated: the rest is literal */
                if (*q == '"')
                    break;
                q += 2; /* an escape: skip the escaped byte */
            }
            const uint8_t *after = q + 1;
            while (after < end && is_blank(*after))
                after++;
            if (!(after < end && *after == ':') &&
                emit(r, p + 1, q, SLOT_STR) != 0)
                return -1;
            p = q + 1;
        } else if (cls == 2) {
            if (p > r->row && is_word(p[-1])) {
                p++;
                continue;
            }
            const uint8_t *q = p + (c == '-');
            if (q >= end || !is_digit(*q)) {
                p++;
                continue;
            }
            while (q < end && is_digit(*q))
                q++;
            if (q + 1 < end && *q == '.' && is_digit(q[1])) {
                q += 2;
                while (q < end && is_digit(*q))
                    q++;
            }
            if (q < end && (*q == 'e' || *q == 'E')) {
                const uint8_t *x = q + 1;
                if (x < end && (*x == '+' || *x == '-'))
                    x++;
                if (x < end && is_digit(*x)) {
                    q = x;
                    while (q < end && is_digit(*q))
                        q++;
                }
            }
            if (q < end && is_word(*q)) {
                p = q; /* glued to a word: literal */
                continue;
            }
            if (emit(r, p, q, SLOT_NUM) != 0)
                return -1;
            p = q;
        } else if (!(p > r->row && is_word(p[-1]))) {
            const size_t left = (size_t)(end - p);
            size_t wl = 0;
            if (c == 't' && left >= 4 && memcmp(p, "true", 4) == 0)
                wl = 4;
            else if (c == 'f' && left >= 5 && memcmp(p, "false", 5) == 0)
                wl = 5;
            else if (c == 'n' && left >= 4 && memcmp(p, "null", 4) == 0)
                wl = 4;
            if (wl && (left == wl || !is_word(p[wl]))) {
                if (emit(r, p, p + wl, SLOT_WORD) != 0)
                    return -1;
                p += wl;
            } else {
                p++;
            }
        } else {
            p++;
        }
    }
    return 0;
}

/* Per byte of v, 0x80 where it is an ASCII digit: high nibble 3 (an exact
 * zero-byte test, the nibble values being multiples of 16) and low nibble
 * below 10 (adding 0x76 sets the top bit from 10 on, without carries). */
static inline uint64_t digit_bytes(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    const uint64_t x = (v & 0xF0F0F0F0F0F0F0F0ull) ^ (ones * 0x30);
    const uint64_t lo = v & 0x0F0F0F0F0F0F0F0Full;
    return ((x - ones) & ~x & highs) & ~(lo + ones * 0x76) & highs;
}

/* The first digit in [p, end), or end: 8 bytes at a time. */
static inline const uint8_t *find_digit(const uint8_t *p, const uint8_t *end)
{
    while (end - p >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        const uint64_t m = digit_bytes(v);
        if (m)
            return p + (__builtin_ctzll(m) >> 3);
        p += 8;
    }
    while (p < end && !is_digit(*p))
        p++;
    return p;
}

/* The first non-digit in [p, end), or end. */
static inline const uint8_t *skip_digits(const uint8_t *p, const uint8_t *end)
{
    const uint64_t highs = 0x8080808080808080ull;
    while (end - p >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        const uint64_t m = ~digit_bytes(v) & highs;
        if (m)
            return p + (__builtin_ctzll(m) >> 3);
        p += 8;
    }
    while (p < end && is_digit(*p))
        p++;
    return p;
}

/* Log lines: every run of digits. */
static int tokenize_log(row_tok *r, const uint8_t *p, const uint8_t *end)
{
    for (;;) {
        p = find_digit(p, end);
        if (p == end)
            return 0;
        const uint8_t *q = skip_digits(p + 1, end);
        if (emit(r, p, q, SLOT_NUM) != 0)
            return -1;
        p = q;
    }
}

int hr__tpl_tokenize_row(tpl_enc *e, const uint8_t *heap, uint32_t from,
                         uint32_t to)
{
    const size_t len = to - from;
    if (len > (UINT32_MAX >> 2) - 16)
        return -1; /* a slot's shape holds the literal length in 30 bits */
    size_t max_slots = len + 1;
    if (max_slots > HR__TPL_MAX_SLOTS)
        max_slots = HR__TPL_MAX_SLOTS;
    /* lit: the literal bytes (16 spare for fixed-size copies), then the
     * shapes, so that one hash and one compare find the template. */
    uint8_t *lit = hr__tpl_grow(e->env, e->lit, &e->lit_cap,
                                len + 16 + max_slots * sizeof *e->shape, 1);
    if (!lit)
        return -2;
    e->lit = lit;
    uint32_t *shape = hr__tpl_grow(e->env, e->shape, &e->shape_cap,
                                   max_slots + 1, sizeof *shape);
    if (!shape)
        return -2;
    e->shape = shape;
    uint32_t *slots =
        hr__tpl_grow(e->env, e->slots, &e->slots_cap,
                     2 * (e->nslots + max_slots + 1), sizeof *slots);
    if (!slots)
        return -2;
    e->slots = slots;
    row_tok r = {e,
                 heap + from,
                 heap + from,
                 e->lit,
                 0,
                 (uint32_t)max_slots,
                 e->slots + 2 * e->nslots};
    const uint8_t *p = heap + from, *end = heap + to;
    const uint8_t *q = p;
    while (q < end && is_blank(*q))
        q++;
    const int json = q < end && (*q == '{' || *q == '[');
    if ((json ? tokenize_json(&r, p, end) : tokenize_log(&r, p, end)) != 0)
        return -1;
    const size_t tail = (size_t)(end - r.lit0);
    memcpy(r.w, r.lit0, tail);
    r.w += tail;
    const size_t lit_len = (size_t)(r.w - e->lit);
    if (r.k)
        memcpy(r.w, e->shape, r.k * sizeof *e->shape);
    const size_t blob = lit_len + r.k * sizeof *e->shape;
    const uint64_t h = XXH3_64bits(e->lit, blob);
    /* Find or add the template. */
    size_t at = (size_t)h & (TPL_TABLE - 1);
    for (;;) {
        const unsigned idx = e->table[at];
        if (idx == 0)
            break;
        const tpl_info *t = &e->t[idx - 1];
        if (t->hash == h && t->k == r.k && t->lit_len == lit_len &&
            memcmp(e->store + t->lit_off, e->lit, blob) == 0) {
            e->nslots += r.k;
            return (int)idx - 1;
        }
        at = (at + 1) & (TPL_TABLE - 1);
    }
    if (e->nt == e->max_templates)
        return -1;
    uint8_t *store = hr__tpl_grow(e->env, e->store, &e->store_cap,
                                  e->store_len + blob + 1, 1);
    if (!store)
        return -2;
    e->store = store;
    uint32_t *shapes = hr__tpl_grow(e->env, e->shapes, &e->shapes_cap,
                                    e->shapes_len + r.k + 1, sizeof *shapes);
    if (!shapes)
        return -2;
    e->shapes = shapes;
    tpl_info *t = &e->t[e->nt];
    t->hash = h;
    t->lit_off = e->store_len;
    t->lit_len = lit_len;
    t->shape_off = e->shapes_len;
    t->k = r.k;
    t->rows = 0;
    t->first_row = 0;
    if (blob)
        memcpy(e->store + e->store_len, e->lit, blob);
    if (r.k)
        memcpy(e->shapes + e->shapes_len, e->shape, r.k * sizeof *e->shapes);
    e->store_len += blob;
    e->shapes_len += r.k;
    e->table[at] = (uint8_t)(++e->nt);
    e->nslots += r.k;
    return (int)e->nt - 1;
}

void hr__tpl_enc_free(tpl_enc *e)
{
    hr__free(e->env, e->lit);
    hr__free(e->env, e->shape);
    hr__free(e->env, e->slots);
    hr__free(e->env, e->store);
    hr__free(e->env, e->shapes);
}
