/*
 * pgrelcache.c - the relation cache: Relation messages parsed into immutable
 * versions, found by OID; Type messages checked and dropped.
 */
#include <string.h>

#include "pgoutput_internal.h"

static size_t slot_of(uint32_t oid, size_t cap)
{
    return (size_t)(oid * 2654435761u) & (cap - 1);
}

hr_pgrelation *hr__pgrel_find(const hr__pgrelcache *c, uint32_t oid)
{
    if (!c->cap || !oid)
        return NULL;
    for (size_t i = slot_of(oid, c->cap);; i = (i + 1) & (c->cap - 1)) {
        hr_pgrelation *r = c->slots[i];
        if (!r || r->oid == oid)
            return r;
    }
}

int hr__pgrel_need(hr_pgdecoder *d, size_t pos, uint32_t oid,
                   hr_pgrelation **out)
{
    hr_pgrelation *r = d->last_rel;
    if (!r || r->oid != oid) {
        r = hr__pgrel_find(&d->rels, oid);
        if (!r)
            return hr__pg_protofail(
                d, pos, "relation OID %u has had no Relation message", oid);
        d->last_rel = r;
    }
    *out = r;
    return HR_OK;
}

static void rel_free(hr_pgdecoder *d, hr_pgrelation *r)
{
    if (d->last_rel == r)
        d->last_rel = NULL;
    hr__free(d->env, r);
}

void hr__pgrel_unpin(hr_pgdecoder *d, hr_pgrelation *r)
{
    assert(r->pins > 0);
    if (--r->pins == 0 && !r->current)
        rel_free(d, r);
}

void hr__pgrel_clear(hr_pgdecoder *d)
{
    hr__pgrelcache *c = &d->rels;
    for (size_t i = 0; i < c->cap; i++) {
        hr_pgrelation *r = c->slots[i];
        if (!r)
            continue;
        c->slots[i] = NULL;
        r->current = 0;
        if (!r->pins)
            rel_free(d, r);
    }
    c->count = 0;
    d->last_rel = NULL;
}

/* Put `r` in the slot of its OID; the old version there is returned. */
static int cache_put(hr_pgdecoder *d, hr_pgrelation *r, hr_pgrelation **old)
{
    hr__pgrelcache *c = &d->rels;
    *old = NULL;
    if ((c->count + 1) * 2 > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        hr_pgrelation **slots = hr__calloc(d->env, cap, sizeof *slots);
        if (!slots)
            return hr__pg_nomem(d, "growing the relation cache");
        for (size_t i = 0; i < c->cap; i++) {
            hr_pgrelation *e = c->slots[i];
            if (!e)
                continue;
            size_t j = slot_of(e->oid, cap);
            while (slots[j])
                j = (j + 1) & (cap - 1);
            slots[j] = e;
        }
        hr__free(d->env, c->slots);
        c->slots = slots;
        c->cap = cap;
    }
    size_t i = slot_of(r->oid, c->cap);
    while (c->slots[i] && c->slots[i]->oid != r->oid)
        i = (i + 1) & (c->cap - 1);
    *old = c->slots[i];
    if (!*old)
        c->count++;
    c->slots[i] = r;
    return HR_OK;
}

typedef struct rel_shape {
    uint32_t oid;
    const char *schema, *name;
    size_t schema_len, name_len;
    char replident;
    int ncols;
    size_t names_len; /* column names with their NULs */
} rel_shape;

/*
 * Parse a Relation message's body. With `r` NULL it checks everything and
 * fills `s`; with `r` (room for s->ncols columns and every string at `text`)
 * it copies the columns, from a cursor the first pass accepted.
 */
static int parse_relation(hr_pgdecoder *d, hr__pgin *in, rel_shape *s,
                          hr_pgrelation *r, char *text)
{
    uint8_t ri, flags;
    uint16_t ncols;
    size_t at = in->pos;
    int rc;
    if ((rc = hr__pgin_u32(d, in, "relation OID", &s->oid)) != 0)
        return rc;
    if (s->oid == 0)
        return hr__pg_protofail(d, at, "invalid relation OID 0");
    if ((rc = hr__pgin_str(d, in, "namespace", &s->schema, &s->schema_len)) ||
        (rc = hr__pgin_str(d, in, "relation name", &s->name, &s->name_len)))
        return rc;
    at = in->pos;
    if ((rc = hr__pgin_u8(d, in, "replica identity", &ri)) != 0)
        return rc;
    if (ri != 'd' && ri != 'n' && ri != 'f' && ri != 'i')
        return hr__pg_protofail(d, at, "unknown replica identity 0x%02x", ri);
    s->replident = (char)ri;
    at = in->pos;
    if ((rc = hr__pgin_u16(d, in, "column count", &ncols)) != 0)
        return rc;
    if (ncols > INT16_MAX)
        return hr__pg_protofail(d, at, "negative column count %d",
                                (int)(int16_t)ncols);
    s->ncols = ncols;
    s->names_len = 0;
    for (int i = 0; i < s->ncols; i++) {
        const char *cname;
        size_t clen;
        uint32_t type, typmod;
        at = in->pos;
        if ((rc = hr__pgin_u8(d, in, "column flags", &flags)) != 0)
            return rc;
        if (flags > 1)
            return hr__pg_protofail(d, at, "column %d flags 0x%02x", i, flags);
        if ((rc = hr__pgin_str(d, in, "column name", &cname, &clen)) ||
            (rc = hr__pgin_u32(d, in, "column type OID", &type)) ||
            (rc = hr__pgin_u32(d, in, "column type modifier", &typmod)))
            return rc;
        if (r) {
            memcpy(text, cname, clen + 1);
            r->cols[i].name = text;
            r->cols[i].type = type;
            r->cols[i].typmod = (int32_t)typmod;
            r->cols[i].key = flags;
            text += clen + 1;
        }
        s->names_len += clen + 1;
    }
    return hr__pgin_end(d, in);
}

static int same_relation(const hr_pgrelation *a, const hr_pgrelation *b)
{
    if (a->replident != b->replident || a->ncols != b->ncols ||
        strcmp(a->schema, b->schema) != 0 || strcmp(a->name, b->name) != 0)
        return 0;
    for (int i = 0; i < a->ncols; i++) {
        const hr__pgcol *x = &a->cols[i], *y = &b->cols[i];
        if (x->type != y->type || x->typmod != y->typmod || x->key != y->key ||
            strcmp(x->name, y->name) != 0)
            return 0;
    }
    return 1;
}

int hr__pg_relation_msg(hr_pgdecoder *d, hr__pgin *in)
{
    hr__pgin again = *in;
    rel_shape s;
    int rc = parse_relation(d, in, &s, NULL, NULL);
    if (rc != HR_OK)
        return rc;
    size_t cols_size = (size_t)s.ncols * sizeof(hr__pgcol);
    hr_pgrelation *r = hr__malloc(d->env, sizeof *r + cols_size + s.schema_len +
                                              s.name_len + 2 + s.names_len);
    if (!r)
        return hr__pg_nomem(d, "caching a relation");
    memset(r, 0, sizeof *r);
    r->cols = (hr__pgcol *)(r + 1);
    char *text = (char *)r->cols + cols_size;
    memcpy(text, s.schema, s.schema_len + 1);
    r->schema = text;
    text += s.schema_len + 1;
    memcpy(text, s.name, s.name_len + 1);
    r->name = text;
    text += s.name_len + 1;
    rel_shape again_shape;
    rc = parse_relation(d, &again, &again_shape, r, text);
    assert(rc == HR_OK);
    (void)rc;
    r->oid = s.oid;
    r->replident = s.replident;
    r->ncols = s.ncols;

    hr_pgrelation *old = hr__pgrel_find(&d->rels, s.oid);
    int changed = old != NULL;
    if (old && same_relation(old, r)) {
        hr__free(d->env, r); /* a re-sent definition: keep the version */
        r = old;
        changed = 0;
    } else {
        if ((rc = cache_put(d, r, &old)) != HR_OK) {
            hr__free(d->env, r);
            return rc;
        }
        r->current = 1;
        if (old) {
            old->current = 0;
            if (!old->pins)
                rel_free(d, old);
            else if (d->last_rel == old)
                d->last_rel = NULL;
        }
    }
    if (d->cb.on_relation) {
        d->in_callback = 1;
        rc = d->cb.on_relation(d->cb.ctx, r, changed);
        d->in_callback = 0;
        if (rc != HR_OK)
            return hr__fail(&d->error, rc, "on_relation returned %d", rc);
    }
    return HR_OK;
}

int hr__pg_type_msg(hr_pgdecoder *d, hr__pgin *in)
{
    uint32_t oid;
    const char *s;
    size_t n;
    size_t at = in->pos;
    int rc;
    if ((rc = hr__pgin_u32(d, in, "type OID", &oid)) != 0)
        return rc;
    if (oid == 0)
        return hr__pg_protofail(d, at, "invalid type OID 0");
    if ((rc = hr__pgin_str(d, in, "namespace", &s, &n)) ||
        (rc = hr__pgin_str(d, in, "type name", &s, &n)))
        return rc;
    /* Values carry their column's type OID; the name adds nothing we use. */
    return hr__pgin_end(d, in);
}
