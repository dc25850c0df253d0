/*
 * strtpl_dec.c - the TEMPLATE string scheme's decoder (strtpl.h has the
 * wire layout): reads the templates, the row ids and the columns, checks
 * every count against the others and the output size against the limit
 * before the output is allocated, then writes each row in one pass.
 */
#include <assert.h>
#include <string.h>

#include "intcodec.h"
#include "strtpl_internal.h"

static const uint64_t pow10_table[MAX_DIGITS + 1] = {1ull,
                                                     10ull,
                                                     100ull,
                                                     1000ull,
                                                     10000ull,
                                                     100000ull,
                                                     1000000ull,
                                                     10000000ull,
                                                     100000000ull,
                                                     1000000000ull,
                                                     10000000000ull,
                                                     100000000000ull,
                                                     1000000000000ull,
                                                     10000000000000ull,
                                                     100000000000000ull,
                                                     1000000000000000ull,
                                                     10000000000000000ull,
                                                     100000000000000000ull,
                                                     1000000000000000000ull};

static int get_ints(hr__rbuf *in, int64_t *v, size_t n, const hr_env *env)
{
    const int rc = hr__int_decode(in, v, n, INT_DEPTH, env);
    return rc == HR_OK || rc == HR_ENOMEM ? rc : HR_ECORRUPT;
}

/* Decimal digits of m <= 2^63 (1..19). */
static inline unsigned digits_of(uint64_t m)
{
    unsigned d = 1;
    while (d <= MAX_DIGITS && m >= pow10_table[d])
        d++;
    return d;
}

/* The text length of value v of a column of `kind` (KIND_INT or DIGITS). */
static inline size_t rendered_len(int64_t v, unsigned kind)
{
    if (kind != KIND_INT)
        return kind - KIND_DIGITS;
    const uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    return digits_of(m) + (v < 0);
}

/* Write v at dst as `len` digits (len from rendered_len). */
static inline void render(uint8_t *dst, size_t len, int64_t v, unsigned kind)
{
    uint64_t m = (uint64_t)v;
    if (kind == KIND_INT && v < 0) {
        dst[0] = '-';
        m = 0 - (uint64_t)v;
    }
    uint8_t *p = dst + len;
    const uint8_t *stop = dst + (kind == KIND_INT && v < 0);
    while (p > stop) {
        *--p = (uint8_t)('0' + m % 10);
        m /= 10;
    }
}

/* Spare bytes behind the decoder's buffers, for fixed-size copies. */
#define COPY_SLACK 16

static inline void copy_short(uint8_t *dst, const uint8_t *src, size_t len)
{
    if (len <= COPY_SLACK)
        memcpy(dst, src, COPY_SLACK); /* one fixed-size copy */
    else
        memcpy(dst, src, len);
}

/* Scratch of the decoder, freed together. */
typedef struct tpl_dec {
    int64_t *refs;  /* [s] column of each slot */
    int64_t *kinds; /* [c] */
    uint32_t *poff; /* [s + t + 1] literal pieces */
    int64_t *ids;   /* [n] template of each row */
    uint8_t *small; /* [n] */
    size_t *cstart; /* [c + 1] first value of each column (own space) */
    size_t *cursor; /* [c] */
    int64_t *ivals; /* values of the number columns */
    uint32_t *toff; /* offsets of the text columns' values */
    uint8_t *used;  /* [c] */
    hr__wbuf lits, text;
} tpl_dec;

int hr__tpl_decode(hr__rbuf *in, size_t n, uint32_t *offsets, hr__wbuf *heap,
                   const hr__str_dec *dec, size_t limit, int depth,
                   const hr_env *env)
{
    uint64_t t64, c64;
    if (depth <= 0 || hr__rbuf_get_varint(in, &t64) != 0 || t64 == 0 ||
        t64 > HR__TPL_MAX_TEMPLATES || t64 > n ||
        hr__rbuf_get_varint(in, &c64) != 0 ||
        c64 > (uint64_t)HR__TPL_MAX_TEMPLATES * HR__TPL_MAX_SLOTS)
        return HR_ECORRUPT;
    const size_t t = (size_t)t64, c = (size_t)c64;
    if (limit > UINT32_MAX)
        limit = UINT32_MAX; /* offsets are 32-bit: so is the output */
    int64_t k[HR__TPL_MAX_TEMPLATES];
    size_t sbase[HR__TPL_MAX_TEMPLATES + 1], pbase[HR__TPL_MAX_TEMPLATES];
    uint64_t rows[HR__TPL_MAX_TEMPLATES], lit_len[HR__TPL_MAX_TEMPLATES];
    int rc = get_ints(in, k, t, env);
    if (rc != HR_OK)
        return rc;
    size_t s = 0;
    for (size_t j = 0; j < t; j++) {
        if (k[j] < 0 || k[j] > HR__TPL_MAX_SLOTS)
            return HR_ECORRUPT;
        sbase[j] = s;
        pbase[j] = s + j;
        s += (size_t)k[j];
    }
    sbase[t] = s;
    if (c > s)
        return HR_ECORRUPT;
    tpl_dec d;
    memset(&d, 0, sizeof d);
    hr__wbuf_init(&d.lits, env);
    hr__wbuf_init(&d.text, env);
    d.refs = hr__malloc(env, (s + 1) * sizeof *d.refs);
    d.kinds = hr__malloc(env, (c + 1) * sizeof *d.kinds);
    d.poff = hr__malloc(env, (s + t + 1) * sizeof *d.poff);
    d.ids = hr__malloc(env, n * sizeof *d.ids);
    d.small = hr__malloc(env, n);
    d.cstart = hr__malloc(env, (c + 1) * sizeof *d.cstart);
    d.cursor = hr__malloc(env, (c + 1) * sizeof *d.cursor);
    d.used = hr__calloc(env, c + 1, 1);
    if (!d.refs || !d.kinds || !d.poff || !d.ids || !d.small || !d.cstart ||
        !d.cursor || !d.used) {
        rc = HR_ENOMEM;
        goto out;
    }
    /* Slot columns and column kinds. */
    if ((rc = get_ints(in, d.refs, s, env)) != HR_OK ||
        (rc = get_ints(in, d.kinds, c, env)) != HR_OK)
        goto out;
    rc = HR_ECORRUPT;
    for (size_t q = 0; q < s; q++) {
        if (d.refs[q] < 0 || (uint64_t)d.refs[q] >= c)
            goto out;
        d.used[d.refs[q]] = 1;
    }
    for (size_t q = 0; q < c; q++)
        if (!d.used[q] || d.kinds[q] < 0 || d.kinds[q] > MAX_KIND)
            goto out;
    /* Literal pieces: no more bytes than the output (every template is
     * used by a row, checked below). */
    rc =
        hr__str_decode_block(in, s + t, d.poff, &d.lits, dec, limit, 1, 0, env);
    if (rc != HR_OK)
        goto out;
    for (size_t j = 0; j < t; j++) {
        lit_len[j] = d.poff[pbase[j] + (size_t)k[j] + 1] - d.poff[pbase[j]];
        if (lit_len[j] + 1 < (uint64_t)k[j]) {
            rc = HR_ECORRUPT; /* more slots than the literal can separate */
            goto out;
        }
        rows[j] = 0;
    }
    /* Template of each row. */
    if (t > 1) {
        rc = hr__str_decode_codes(in, n, t, d.ids, d.small, dec, env);
        if (rc != HR_OK)
            goto out;
    } else {
        memset(d.ids, 0, n * sizeof *d.ids);
    }
    for (size_t i = 0; i < n; i++)
        rows[d.ids[i]]++;
    uint64_t lit_total = 0;
    rc = HR_ECORRUPT;
    for (size_t j = 0; j < t; j++) {
        if (rows[j] == 0)
            goto out;
        if (lit_len[j] && rows[j] > (limit - lit_total) / lit_len[j]) {
            rc = HR_ELIMIT;
            goto out;
        }
        lit_total += rows[j] * lit_len[j];
    }
    /* Values per column; at most lit_total + n in all (k_j <= lit + 1). */
    for (size_t q = 0; q < c; q++)
        d.cstart[q] = 0;
    for (size_t j = 0; j < t; j++)
        for (size_t q = sbase[j]; q < sbase[j + 1]; q++)
            d.cstart[d.refs[q]] += (size_t)rows[j];
    /* Every number value is written as 1+ bytes (DIGITS(w): w): the
     * output's lower bound must fit before the values are decoded. */
    size_t nint = 0, ntext = 0;
    uint64_t least = lit_total;
    for (size_t q = 0; q < c; q++) {
        const size_t m = d.cstart[q];
        if (d.kinds[q] == KIND_TEXT) {
            d.cstart[q] = ntext;
            ntext += m + 1;
        } else {
            d.cstart[q] = nint;
            nint += m;
            least += (uint64_t)m * (d.kinds[q] == KIND_INT
                                        ? 1
                                        : (uint64_t)d.kinds[q] - KIND_DIGITS);
        }
        d.cursor[q] = m; /* the count, for the decoding below */
    }
    if (least > limit) {
        rc = HR_ELIMIT;
        goto out;
    }
    d.ivals = hr__malloc(env, (nint + 1) * sizeof *d.ivals);
    d.toff = hr__malloc(env, (ntext + 1) * sizeof *d.toff);
    if (!d.ivals || !d.toff) {
        rc = HR_ENOMEM;
        goto out;
    }
    /* Columns, against what is left of the limit. */
    size_t left = limit - (size_t)lit_total;
    for (size_t q = 0; q < c; q++) {
        const size_t m = d.cursor[q];
        const unsigned kind = (unsigned)d.kinds[q];
        if (kind == KIND_TEXT) {
            const size_t before = d.text.len;
            rc = hr__str_decode_block(in, m, d.toff + d.cstart[q], &d.text, dec,
                                      left, 1, depth - 1, env);
            if (rc != HR_OK)
                goto out;
            left -= d.text.len - before;
            continue;
        }
        int64_t *v = d.ivals + d.cstart[q];
        if ((rc = get_ints(in, v, m, env)) != HR_OK)
            goto out;
        size_t bytes = 0;
        for (size_t i = 0; i < m; i++) {
            if (kind != KIND_INT &&
                (v[i] < 0 ||
                 (uint64_t)v[i] >= pow10_table[kind - KIND_DIGITS])) {
                rc = HR_ECORRUPT;
                goto out;
            }
            bytes += rendered_len(v[i], kind);
            if (bytes > left) {
                rc = HR_ELIMIT;
                goto out;
            }
        }
        left -= bytes;
    }
    /* The output: exactly what the limit allowed minus what is left. */
    const size_t total = limit - left;
    const size_t base = heap->len;
    if ((uint64_t)total > UINT32_MAX - (uint64_t)base) {
        rc = HR_ELIMIT;
        goto out;
    }
    /* COPY_SLACK spare bytes behind the output and the sources let short
     * pieces move as one fixed-size copy (the spare bytes are overwritten
     * or past len). */
    if (hr__wbuf_reserve(heap, total + COPY_SLACK) != 0 ||
        hr__wbuf_reserve(&d.lits, COPY_SLACK) != 0 ||
        hr__wbuf_reserve(&d.text, COPY_SLACK) != 0) {
        rc = HR_ENOMEM;
        goto out;
    }
    memset(d.lits.data + d.lits.len, 0, COPY_SLACK);
    memset(d.text.data + d.text.len, 0, COPY_SLACK);
    for (size_t q = 0; q < c; q++)
        d.cursor[q] = d.cstart[q];
    if (total == 0) { /* an empty heap may have no buffer: NULL + 0 is UB */
        for (size_t i = 0; i <= n; i++)
            offsets[i] = (uint32_t)base;
    } else {
        uint8_t *const dst0 = heap->data + base;
        uint8_t *dst = dst0;
        const uint8_t *lits = d.lits.data, *text = d.text.data;
        for (size_t i = 0; i < n; i++) {
            offsets[i] = (uint32_t)(base + (size_t)(dst - dst0));
            const size_t j = (size_t)d.ids[i];
            const uint32_t *pp = d.poff + pbase[j];
            const int64_t *rr = d.refs + sbase[j];
            const size_t kj = (size_t)k[j];
            size_t len = pp[1] - pp[0];
            copy_short(dst, lits + pp[0], len);
            dst += len;
            for (size_t q = 0; q < kj; q++) {
                const size_t col = (size_t)rr[q];
                const unsigned kind = (unsigned)d.kinds[col];
                const size_t at = d.cursor[col]++;
                if (kind == KIND_TEXT) {
                    len = d.toff[at + 1] - d.toff[at];
                    copy_short(dst, text + d.toff[at], len);
                } else {
                    len = rendered_len(d.ivals[at], kind);
                    render(dst, len, d.ivals[at], kind);
                }
                dst += len;
                len = pp[q + 2] - pp[q + 1];
                copy_short(dst, lits + pp[q + 1], len);
                dst += len;
            }
        }
        offsets[n] = (uint32_t)(base + (size_t)(dst - dst0));
        assert((size_t)(dst - dst0) == total);
        heap->len = base + total;
    }
    rc = HR_OK;
out:
    hr__free(env, d.refs);
    hr__free(env, d.kinds);
    hr__free(env, d.poff);
    hr__free(env, d.ids);
    hr__free(env, d.small);
    hr__free(env, d.cstart);
    hr__free(env, d.cursor);
    hr__free(env, d.used);
    hr__free(env, d.ivals);
    hr__free(env, d.toff);
    hr__wbuf_free(&d.lits);
    hr__wbuf_free(&d.text);
    return rc;
}
