/*
 * strtpl.c - the TEMPLATE string scheme's encoder (strtpl.h has the
 * tokenizer and the wire layout; strtpl_tok.c tokenizes, strtpl_dec.c
 * decodes).
 *
 * Encoder: one tokenizing pass writes each row's literal text and slot
 * positions to scratch and finds its template (hashed); then constant
 * slots are folded, slots are mapped to columns, and the columns are
 * gathered and encoded (numbers through the int codec, the rest as nested
 * string blocks).
 */
#include <assert.h>
#include <string.h>

#define XXH_INLINE_ALL /* short keys: the hash inlined, no call */
#include <xxhash.h>

#include "intcodec.h"
#include "strtpl_internal.h"

/* Literal bytes before a slot that name its column, and the earlier slots
 * of its template that its rank counts (a bound on the work, no more). */
#define KEY_BYTES 32
#define RANK_WINDOW 32

static inline int same_bytes(const uint8_t *a, const uint8_t *b, size_t len)
{
    if (len > 16)
        return memcmp(a, b, len) == 0;
    for (size_t i = 0; i < len; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* Whether a sample of 128 of the m values has at most 96 distinct ones
 * (as hr__str_low_card for strings). */
static int ints_low_card(const int64_t *v, size_t m)
{
    enum { ROWS = 128, SLOTS = 256, MAX_DISTINCT = ROWS * 3 / 4 };
    if (m <= ROWS)
        return 1;
    uint64_t seen[SLOTS];
    uint8_t used[SLOTS] = {0};
    unsigned distinct = 0;
    for (size_t k = 0; k < ROWS; k++) {
        const uint64_t x = (uint64_t)v[k * (m / ROWS)];
        size_t slot = (size_t)((x * 0x9E3779B97F4A7C15ull) >> 56);
        while (used[slot] && seen[slot] != x)
            slot = (slot + 1) & (SLOTS - 1);
        if (!used[slot]) {
            used[slot] = 1;
            seen[slot] = x;
            if (++distinct > MAX_DISTINCT)
                return 0;
        }
    }
    return 1;
}

/* The canonical decimal text of an int64 (as printf "%lld" writes it)? */
static int parse_canonical(const uint8_t *p, size_t len, int64_t *v)
{
    const int neg = len > 0 && p[0] == '-';
    const uint8_t *d = p + neg;
    const size_t nd = len - (size_t)neg;
    if (nd == 0 || nd > 19 || (d[0] == '0' && (nd > 1 || neg)))
        return 0;
    uint64_t m = 0;
    for (size_t i = 0; i < nd; i++) {
        if (!is_digit(d[i]))
            return 0;
        const uint64_t dig = (uint64_t)(d[i] - '0');
        if (m > (UINT64_MAX - dig) / 10)
            return 0;
        m = m * 10 + dig;
    }
    if (neg ? m > (uint64_t)1 << 63 : m > (uint64_t)INT64_MAX)
        return 0;
    *v = neg ? (int64_t)(0 - m) : (int64_t)m;
    return 1;
}

/* A run of exactly len <= MAX_DIGITS digits? */
static int parse_digits(const uint8_t *p, size_t len, int64_t *v)
{
    if (len == 0 || len > MAX_DIGITS)
        return 0;
    uint64_t m = 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(p[i]))
            return 0;
        m = m * 10 + (uint64_t)(p[i] - '0');
    }
    *v = (int64_t)m;
    return 1;
}

/*
 * The kind of a number column, its values parsed into v: INT when every
 * value is canonical, DIGITS(w) when every value is w digits, else TEXT.
 */
static unsigned number_kind(const uint8_t *heap, const uint32_t *refs, size_t m,
                            int64_t *v)
{
    size_t i = 0;
    for (; i < m; i++)
        if (!parse_canonical(heap + refs[2 * i], refs[2 * i + 1], &v[i]))
            break;
    if (i == m)
        return KIND_INT;
    const uint32_t w = refs[1];
    for (i = 0; i < m; i++)
        if (refs[2 * i + 1] != w ||
            !parse_digits(heap + refs[2 * i], refs[2 * i + 1], &v[i]))
            return KIND_TEXT;
    return KIND_DIGITS + w;
}

/* Per final slot of a template: column and source slot. */
typedef struct fslot {
    uint32_t col;
    uint32_t src; /* slot index in the row's tokenization */
} fslot;

typedef struct col_info {
    uint64_t key;
    size_t m;     /* values */
    size_t start; /* first value in refs */
    uint8_t slot_kind;
} col_info;

/* The column key of a slot: kind, the literal bytes before it back to the
 * last delimiter (at most KEY_BYTES), and its rank among equal keys. */
static uint64_t slot_key(unsigned kind, const uint8_t *piece, size_t len)
{
    size_t from = len > KEY_BYTES ? len - KEY_BYTES : 0;
    for (size_t i = len; i > from; i--) {
        const uint8_t c = piece[i - 1];
        if (c == ',' || c == '{' || c == '[' || c == '(' || c == ';' ||
            c == '\n') {
            from = i;
            break;
        }
    }
    return XXH3_64bits_withSeed(piece + from, len - from, kind + 1);
}

/*
 * A number column as a TEXT column in DICT form (a string block: DICT, the
 * distinct values' text, the codes), built on the parsed values. Returns 0
 * (writing nothing) past m / 2 distinct values.
 */
static int encode_int_dict(hr__wbuf *out, const uint8_t *heap,
                           const uint32_t *refs, const int64_t *v, size_t m,
                           const hr__str_opts *opts)
{
    const size_t max_d = m / 2;
    size_t cap = 16;
    while (cap < 2 * max_d)
        cap *= 2;
    unsigned shift = 64;
    for (size_t c = cap; c > 1; c >>= 1)
        shift--;
    uint8_t *mem =
        hr__malloc(out->env, m * (sizeof(int64_t) + 1) +
                                 (cap + 2 * max_d + 1) * sizeof(uint32_t));
    if (!mem) {
        out->failed = 1;
        return 1;
    }
    int64_t *codes = (int64_t *)(void *)mem;
    uint32_t *slots = (uint32_t *)(void *)(codes + m);
    uint32_t *first = slots + cap;
    uint32_t *doff = first + max_d;
    uint8_t *small = (uint8_t *)(doff + max_d + 1);
    memset(slots, 0, cap * sizeof *slots);
    size_t d = 0, bytes = 0;
    for (size_t i = 0; i < m; i++) {
        const uint64_t x = (uint64_t)v[i];
        size_t at = (size_t)((x * 0x9E3779B97F4A7C15ull) >> shift);
        for (;;) {
            const uint32_t e = slots[at];
            if (e == 0) {
                if (d == max_d) {
                    hr__free(out->env, mem);
                    return 0;
                }
                slots[at] = (uint32_t)(d + 1);
                first[d] = (uint32_t)i;
                bytes += refs[2 * i + 1];
                codes[i] = (int64_t)d++;
                break;
            }
            if (v[first[e - 1]] == v[i]) {
                codes[i] = e - 1;
                break;
            }
            at = (at + 1) & (cap - 1);
        }
    }
    hr__wbuf values;
    hr__wbuf_init(&values, out->env);
    if (hr__wbuf_reserve(&values, bytes + 1) == 0) {
        doff[0] = 0;
        for (size_t k = 0; k < d; k++) {
            const uint32_t *r = refs + 2 * (size_t)first[k];
            memcpy(values.data + doff[k], heap + r[0], r[1]);
            doff[k + 1] = doff[k] + r[1];
        }
        values.len = bytes;
        hr__wbuf_put_u8(out, HR__STR_DICT);
        hr__wbuf_put_varint(out, d);
        hr__str_encode_block(out, values.data, doff, d, opts, 0, 0);
        hr__str_encode_codes(out, codes, small, m, d, opts);
    } else {
        out->failed = 1;
    }
    hr__wbuf_free(&values);
    hr__free(out->env, mem);
    return 1;
}

/* Encode one column's values into `out` (kind chosen here). */
static unsigned encode_column(hr__wbuf *out, const uint8_t *heap,
                              const uint32_t *refs, size_t m,
                              unsigned slot_kind, int64_t *ivals,
                              hr__wbuf *gather, uint32_t *goff,
                              const hr__str_opts *opts, int depth)
{
    unsigned kind = KIND_TEXT;
    if (slot_kind == SLOT_NUM)
        kind = number_kind(heap, refs, m, ivals);
    const size_t start = out->len;
    if (kind != KIND_TEXT) {
        hr__int_encode(out, ivals, m, INT_DEPTH);
        /* Few distinct values (ids of a session, codes): a dictionary of
         * their text may beat the integers' bits. */
        if (m < 64 || out->len - start <= m / 2 || !ints_low_card(ivals, m))
            return kind;
    }
    if (kind != KIND_TEXT) {
        hr__wbuf alt;
        hr__wbuf_init(&alt, out->env);
        if (encode_int_dict(&alt, heap, refs, ivals, m, opts) &&
            (alt.failed || alt.len < out->len - start)) {
            out->len = start;
            hr__wbuf_put(out, alt.data, alt.len);
            out->failed |= alt.failed;
            kind = KIND_TEXT;
        }
        hr__wbuf_free(&alt);
        return kind;
    }
    size_t bytes = 0;
    for (size_t i = 0; i < m; i++)
        bytes += refs[2 * i + 1];
    gather->len = 0;
    if (hr__wbuf_reserve(gather, bytes + 1) != 0) {
        out->failed = 1;
        return kind;
    }
    goff[0] = 0;
    for (size_t i = 0, at = 0; i < m; i++) {
        memcpy(gather->data + at, heap + refs[2 * i], refs[2 * i + 1]);
        at += refs[2 * i + 1];
        goff[i + 1] = (uint32_t)at;
    }
    gather->len = bytes;
    hr__str_encode_block(out, gather->data, goff, m, opts, 1, depth - 1);
    return KIND_TEXT;
}

/* Scratch of the column stage, one allocation. */
typedef struct col_stage {
    uint32_t *row_base; /* [n + 1]: first slot record of each row */
    uint8_t *tid;       /* [n] */
    int64_t *codes;     /* [n] */
    uint8_t *small;     /* [n] */
} col_stage;

int hr__tpl_encode(hr__wbuf *out, const uint8_t *heap, const uint32_t *offsets,
                   size_t n, const hr__str_opts *opts, int depth,
                   size_t max_templates)
{
    assert(depth > 0 && n > 0);
    const hr_env *env = out->env;
    if (max_templates > HR__TPL_MAX_TEMPLATES)
        max_templates = HR__TPL_MAX_TEMPLATES;
    if (max_templates > n / 4)
        max_templates = n / 4 ? n / 4 : 1; /* a template per few rows at most */
    tpl_enc e;
    memset(&e, 0, sizeof e);
    e.env = env;
    e.heap = heap;
    e.hend = heap + offsets[n];
    e.max_templates = max_templates;
    int written = 0;
    /* The trained dictionary is for whole values: it helps the literal
     * pieces (keys, punctuation), not the columns of values, and a zstd
     * call with a dictionary first clears tables the size of the
     * dictionary's window - most of the time on a block of 1 KB. */
    hr__str_opts plain = *opts;
    plain.dict = NULL;
    /* Everything below is freed at `done`. */
    uint8_t *mem = hr__malloc(env, (n + 1) * sizeof(uint32_t) + n +
                                       n * sizeof(int64_t) + n);
    uint8_t *fold = NULL;
    uint32_t *live = NULL;
    fslot *fs = NULL;
    col_info *cols = NULL;
    uint32_t *refs = NULL, *goff = NULL, *ctab = NULL;
    size_t *cursor = NULL;
    uint64_t *bkeys = NULL;
    int64_t *ivals = NULL, *kinds = NULL, *scol = NULL;
    hr__wbuf lits, colbuf, gather;
    uint32_t *loff = NULL;
    hr__wbuf_init(&lits, env);
    hr__wbuf_init(&colbuf, env);
    hr__wbuf_init(&gather, env);
    if (!mem)
        goto nomem;
    col_stage st;
    st.codes = (int64_t *)(void *)mem;
    st.row_base = (uint32_t *)(void *)(st.codes + n);
    st.tid = (uint8_t *)(st.row_base + n + 1);
    st.small = st.tid + n;
    /* 1. Tokenize every row. */
    for (size_t i = 0; i < n; i++) {
        st.row_base[i] = (uint32_t)e.nslots;
        const int t =
            hr__tpl_tokenize_row(&e, heap, offsets[i], offsets[i + 1]);
        if (t == -2)
            goto nomem;
        if (t < 0 || e.nslots > UINT32_MAX / 2)
            goto done; /* does not fit: nothing written */
        st.tid[i] = (uint8_t)t;
        if (e.t[t].rows++ == 0)
            e.t[t].first_row = (uint32_t)i;
        if (i == 0 && e.nslots > 0) {
            /* room for as many slots in every row as in the first (one
             * allocation instead of a dozen doublings), but no more than
             * the bytes can hold: slots are separated by literal bytes */
            size_t want = (n + 1) * (e.nslots + 1);
            const size_t most = (size_t)(offsets[n] - offsets[0]) + n + 1;
            if (want > most)
                want = most;
            uint32_t *slots = hr__tpl_grow(env, e.slots, &e.slots_cap, 2 * want,
                                           sizeof *slots);
            if (!slots)
                goto nomem;
            e.slots = slots;
        }
    }
    st.row_base[n] = (uint32_t)e.nslots;
    /* 2. Fold the slots that hold one value in all rows (2+) of their
     * template: fold[shape index] stays 1 while the values agree. Each
     * template keeps the list of its slots still candidates (live[] from
     * its shape index, nlive of them), so rows check those only. */
    fold = hr__malloc(env, e.shapes_len + 1);
    live = hr__malloc(env, (e.shapes_len + 1) * sizeof *live);
    if (!fold || !live)
        goto nomem;
    uint32_t nlive[HR__TPL_MAX_TEMPLATES];
    for (size_t j = 0; j < e.nt; j++) {
        const tpl_info *t = &e.t[j];
        memset(fold + t->shape_off, t->rows >= 2, t->k);
        nlive[j] = t->rows >= 2 ? t->k : 0;
        for (uint32_t s = 0; s < nlive[j]; s++)
            live[t->shape_off + s] = s;
    }
    for (size_t i = 0; i < n; i++) {
        const unsigned j = st.tid[i];
        const tpl_info *t = &e.t[j];
        if (nlive[j] == 0 || t->first_row == i)
            continue;
        uint32_t *l = live + t->shape_off;
        const uint32_t *a = e.slots + 2 * (size_t)st.row_base[t->first_row];
        const uint32_t *b = e.slots + 2 * (size_t)st.row_base[i];
        for (uint32_t q = 0; q < nlive[j];) {
            const uint32_t s = l[q];
            if (a[2 * s + 1] == b[2 * s + 1] &&
                same_bytes(heap + a[2 * s], heap + b[2 * s], a[2 * s + 1])) {
                q++;
                continue;
            }
            fold[t->shape_off + s] = 0;
            l[q] = l[--nlive[j]]; /* no longer a candidate */
        }
    }
    /* 3. The final pieces of each template (folded values inside) and the
     * column of each remaining slot. */
    size_t total_slots = 0;
    for (size_t j = 0; j < e.nt; j++)
        total_slots += e.t[j].k;
    size_t ctab_size = 16;
    while (ctab_size < 2 * total_slots)
        ctab_size *= 2;
    fs = hr__malloc(env, (total_slots + 1) * sizeof *fs);
    loff = hr__malloc(env, (total_slots + e.nt + 1) * sizeof *loff);
    cols = hr__malloc(env, (total_slots + 1) * sizeof *cols);
    bkeys = hr__malloc(env, (total_slots + 1) * sizeof *bkeys);
    ctab = hr__calloc(env, ctab_size, sizeof *ctab);
    if (!fs || !loff || !cols || !bkeys || !ctab ||
        hr__wbuf_reserve(&lits, e.store_len + 1) != 0)
        goto nomem; /* lits.data is not NULL from here on */
    uint32_t kfinal[HR__TPL_MAX_TEMPLATES];
    size_t npieces = 0, nfs = 0, ncols = 0;
    loff[0] = 0;
    for (size_t j = 0; j < e.nt; j++) {
        const tpl_info *t = &e.t[j];
        const uint8_t *lit = e.store + t->lit_off;
        const uint32_t *shape = e.shapes + t->shape_off;
        const uint8_t *f = fold + t->shape_off;
        const uint32_t *first = e.slots + 2 * (size_t)st.row_base[t->first_row];
        const size_t fs0 = nfs;
        size_t at = 0; /* literal bytes of the template consumed */
        size_t piece_start = lits.len;
        for (uint32_t s = 0; s < t->k; s++) {
            const size_t upto = shape[s] >> 2;
            hr__wbuf_put(&lits, lit + at, upto - at);
            at = upto;
            if (f[s]) {
                hr__wbuf_put(&lits, heap + first[2 * s], first[2 * s + 1]);
                continue;
            }
            if (lits.failed)
                goto nomem;
            /* The piece ends here: this slot's column by its key and its
             * rank among the earlier slots of the template with that key. */
            const unsigned kind = shape[s] & 3;
            const uint64_t key =
                slot_key(kind, lits.data + piece_start, lits.len - piece_start);
            uint64_t rank = 0; /* among the last RANK_WINDOW slots */
            for (size_t q = nfs - fs0 > RANK_WINDOW ? nfs - RANK_WINDOW : fs0;
                 q < nfs; q++)
                rank += bkeys[q] == key;
            bkeys[nfs] = key;
            const uint64_t ckey = key + 0x9E3779B97F4A7C15ull * rank;
            size_t h = (size_t)(ckey ^ ckey >> 29) & (ctab_size - 1);
            while (ctab[h] && cols[ctab[h] - 1].key != ckey)
                h = (h + 1) & (ctab_size - 1);
            if (!ctab[h]) {
                cols[ncols].key = ckey;
                cols[ncols].m = 0;
                cols[ncols].slot_kind = (uint8_t)kind;
                ctab[h] = (uint32_t)++ncols;
            }
            const size_t c = ctab[h] - 1;
            cols[c].m += t->rows;
            fs[nfs].col = (uint32_t)c;
            fs[nfs].src = s;
            nfs++;
            loff[++npieces] = (uint32_t)lits.len;
            piece_start = lits.len;
        }
        hr__wbuf_put(&lits, lit + at, t->lit_len - at);
        if (lits.failed)
            goto nomem;
        loff[++npieces] = (uint32_t)lits.len;
        kfinal[j] = (uint32_t)(nfs - fs0);
    }
    /* 4. Gather each column's values (start, length) in row order. */
    size_t nrefs = 0;
    for (size_t c = 0; c < ncols; c++) {
        cols[c].start = nrefs;
        nrefs += cols[c].m;
    }
    size_t fs_base[HR__TPL_MAX_TEMPLATES];
    for (size_t j = 0, b = 0; j < e.nt; j++) {
        fs_base[j] = b;
        b += kfinal[j];
    }
    size_t max_m = 1;
    for (size_t c = 0; c < ncols; c++)
        max_m = cols[c].m > max_m ? cols[c].m : max_m;
    refs = hr__malloc(env, (2 * nrefs + 1) * sizeof *refs);
    cursor = hr__malloc(env, (ncols + 1) * sizeof *cursor);
    ivals = hr__malloc(env, max_m * sizeof *ivals);
    goff = hr__malloc(env, (max_m + 1) * sizeof *goff);
    if (!refs || !cursor || !ivals || !goff)
        goto nomem;
    for (size_t c = 0; c < ncols; c++)
        cursor[c] = cols[c].start;
    for (size_t i = 0; i < n; i++) {
        const unsigned j = st.tid[i];
        const fslot *f = fs + fs_base[j];
        const uint32_t *row = e.slots + 2 * (size_t)st.row_base[i];
        for (uint32_t s = 0; s < kfinal[j]; s++) {
            uint32_t *r = refs + 2 * cursor[f[s].col]++;
            r[0] = row[2 * f[s].src];
            r[1] = row[2 * f[s].src + 1];
        }
    }
    /* 5. The columns, each with its kind. */
    kinds = hr__malloc(env, (ncols + 1) * sizeof *kinds);
    scol = hr__malloc(env, (nfs + 1) * sizeof *scol);
    if (!kinds || !scol)
        goto nomem;
    for (size_t c = 0; c < ncols && !colbuf.failed; c++)
        kinds[c] = encode_column(&colbuf, heap, refs + 2 * cols[c].start,
                                 cols[c].m, cols[c].slot_kind, ivals, &gather,
                                 goff, &plain, depth);
    if (colbuf.failed)
        goto nomem;
    /* 6. Write. */
    int64_t kcounts[HR__TPL_MAX_TEMPLATES];
    for (size_t j = 0; j < e.nt; j++)
        kcounts[j] = kfinal[j];
    hr__wbuf_put_u8(out, HR__STR_TEMPLATE);
    hr__wbuf_put_varint(out, e.nt);
    hr__wbuf_put_varint(out, ncols);
    hr__int_encode(out, kcounts, e.nt, INT_DEPTH);
    for (size_t q = 0; q < nfs; q++)
        scol[q] = fs[q].col;
    hr__int_encode(out, scol, nfs, INT_DEPTH);
    hr__int_encode(out, kinds, ncols, INT_DEPTH);
    hr__str_encode_block(out, lits.data, loff, npieces, opts, 1, 0);
    if (e.nt > 1) {
        for (size_t i = 0; i < n; i++)
            st.codes[i] = st.tid[i];
        hr__str_encode_codes(out, st.codes, st.small, n, e.nt, opts);
    }
    hr__wbuf_put(out, colbuf.data, colbuf.len);
    written = 1;
    goto done;
nomem:
    out->failed = 1;
    written = 1;
done:
    hr__free(env, scol);
    hr__free(env, kinds);
    hr__free(env, ctab);
    hr__free(env, bkeys);
    hr__free(env, goff);
    hr__free(env, ivals);
    hr__free(env, cursor);
    hr__free(env, refs);
    hr__free(env, cols);
    hr__free(env, loff);
    hr__free(env, fs);
    hr__free(env, live);
    hr__free(env, fold);
    hr__free(env, mem);
    hr__wbuf_free(&gather);
    hr__wbuf_free(&colbuf);
    hr__wbuf_free(&lits);
    hr__tpl_enc_free(&e);
    return written;
}
