/*
 * apply_relmeta.c - what the applier knows of the target's relations:
 * their columns, types and key (primary key, else replica identity index),
 * fetched once per relation and again after a schema error or a resume;
 * the compatibility check of a batch against them; and the prepared
 * statements per (operation, columns used).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_internal.h"

hr__rel *hr__rel_get(hr_applier *a, const char *schema, const char *table,
                     int create)
{
    for (hr__rel *r = a->rels; r; r = r->next)
        if (!strcmp(r->schema, schema) && !strcmp(r->table, table))
            return r;
    if (!create)
        return NULL;
    hr__rel *r = hr__calloc(a->env, 1, sizeof *r);
    if (!r)
        return NULL;
    r->schema = hr__strdup(a->env, schema);
    r->table = hr__strdup(a->env, table);
    if (!r->schema || !r->table) {
        hr__free(a->env, r->schema);
        hr__free(a->env, r->table);
        hr__free(a->env, r);
        return NULL;
    }
    r->next = a->rels;
    a->rels = r;
    return r;
}

static void stmts_free(hr_applier *a, hr__rel *r)
{
    for (hr__stmt *s = r->stmts; s;) {
        hr__stmt *next = s->next;
        hr__stmt_free(a, s);
        s = next;
    }
    r->stmts = NULL;
}

static void cols_free(hr_applier *a, hr__rel *r)
{
    for (int i = 0; i < r->ncols; i++)
        hr__free(a->env, r->cols[i].name);
    hr__free(a->env, r->cols);
    r->cols = NULL;
    r->ncols = r->nkeys = 0;
    r->loaded = r->exists = 0;
}

void hr__rels_free(hr_applier *a)
{
    for (hr__rel *r = a->rels; r;) {
        hr__rel *next = r->next;
        stmts_free(a, r);
        cols_free(a, r);
        hr__free(a->env, r->schema);
        hr__free(a->env, r->table);
        hr__free(a->env, r);
        r = next;
    }
    a->rels = NULL;
}

/* Statements are per connection: after a reconnect none is prepared. The
 * names are never reused, so a stale one can never run the wrong SQL. */
void hr__rels_forget_prepared(hr_applier *a)
{
    for (hr__rel *r = a->rels; r; r = r->next)
        for (hr__stmt *s = r->stmts; s; s = s->next)
            s->prepared = 0;
}

/* Columns may have changed: fetch again. Prepared statements of the old
 * shape are dropped from the cache (their server side stays until the
 * connection ends: harmless, and never executed again). */
void hr__rels_invalidate(hr_applier *a)
{
    if (a->g.state != HR__G_NONE) {
        a->invalidate_pending = 1; /* a group uses them: done at its end */
        return;
    }
    a->invalidate_pending = 0;
    for (hr__rel *r = a->rels; r; r = r->next) {
        stmts_free(a, r);
        cols_free(a, r);
    }
}

const hr__tcol *hr__rel_col(const hr__rel *r, const char *name)
{
    for (int i = 0; i < r->ncols; i++)
        if (!strcmp(r->cols[i].name, name))
            return &r->cols[i];
    return NULL;
}

int hr__rel_meta_sql(hr_applier *a, char **sql)
{
    *sql = NULL;
    hr__sbuf b;
    hr__sbuf_init(&b, a->env);
    int n = 0;
    PGconn *c = a->pgc.conn;
    for (hr__rel *r = a->rels; r; r = r->next) {
        if (r->loaded)
            continue;
        hr__sbuf_add(&b, n++ ? ", (" : "SELECT v.s, v.t, a.attname, "
                     "a.atttypid::int8, coalesce(a.attnum = ANY "
                     "(i.indkey::int2[]), false) FROM (VALUES (");
        hr__sbuf_literal(&b, c, r->schema);
        hr__sbuf_add(&b, ", ");
        hr__sbuf_literal(&b, c, r->table);
        hr__sbuf_add(&b, ")");
    }
    if (!n) {
        hr__sbuf_free(&b);
        return HR_OK;
    }
    hr__sbuf_add(&b,
                 ") v(s, t) LEFT JOIN pg_namespace n ON n.nspname = v.s "
                 "LEFT JOIN pg_class c ON c.relnamespace = n.oid AND "
                 "c.relname = v.t AND c.relkind IN ('r', 'p') LEFT JOIN "
                 "pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND "
                 "NOT a.attisdropped LEFT JOIN LATERAL (SELECT x.indkey FROM "
                 "pg_index x WHERE x.indrelid = c.oid AND (x.indisprimary OR "
                 "x.indisreplident) ORDER BY x.indisprimary DESC LIMIT 1) i "
                 "ON true ORDER BY 1, 2, a.attnum");
    return hr__sbuf_take(&b, sql);
}

int hr__rel_meta_load(hr_applier *a, PGresult *res)
{
    int rows = PQntuples(res);
    for (hr__rel *r = a->rels; r; r = r->next) {
        if (r->loaded)
            continue;
        /* Marked for a refetch: the old shape and its statements go. */
        stmts_free(a, r);
        cols_free(a, r);
        int n = 0;
        for (int i = 0; i < rows; i++)
            if (!PQgetisnull(res, i, 2) && !strcmp(PQgetvalue(res, i, 0), r->schema) &&
                !strcmp(PQgetvalue(res, i, 1), r->table))
                n++;
        r->cols = n ? hr__calloc(a->env, (size_t)n, sizeof *r->cols) : NULL;
        if (n && !r->cols)
            return HR_ENOMEM;
        for (int i = 0; i < rows; i++) {
            if (PQgetisnull(res, i, 2) || strcmp(PQgetvalue(res, i, 0), r->schema) ||
                strcmp(PQgetvalue(res, i, 1), r->table))
                continue;
            hr__tcol *col = &r->cols[r->ncols];
            col->name = hr__strdup(a->env, PQgetvalue(res, i, 2));
            if (!col->name)
                return HR_ENOMEM;
            col->type_oid = (uint32_t)strtoul(PQgetvalue(res, i, 3), NULL, 10);
            col->is_key = PQgetvalue(res, i, 4)[0] == 't';
            r->nkeys += col->is_key;
            r->ncols++;
        }
        r->exists = n > 0;
        r->loaded = 1;
    }
    return HR_OK;
}

/* ---- compatibility ---- */

enum family { F_OTHER, F_INT, F_FLOAT, F_NUMERIC, F_TEXT, F_TIME };

static enum family family_of(uint32_t oid)
{
    switch (oid) {
    case HR_OID_INT2:
    case HR_OID_INT4:
    case HR_OID_INT8:
        return F_INT;
    case HR_OID_FLOAT4:
    case HR_OID_FLOAT8:
        return F_FLOAT;
    case HR_OID_NUMERIC:
        return F_NUMERIC;
    case HR_OID_TEXT:
    case HR_OID_VARCHAR:
    case HR_OID_BPCHAR:
    case 19: /* name */
        return F_TEXT;
    case HR_OID_TIMESTAMP:
    case HR_OID_TIMESTAMPTZ:
        return F_TIME;
    default:
        return F_OTHER;
    }
}

/* Whether a value of type `from` can be written into a column of type
 * `to` by PostgreSQL's assignment casts without loss of meaning. */
static int compatible(uint32_t from, uint32_t to)
{
    if (from == to)
        return 1;
    enum family f = family_of(from), t = family_of(to);
    if (t == F_TEXT)
        return 1; /* everything has a text form */
    if (f == F_OTHER || t == F_OTHER)
        return 0;
    if (f == t)
        return 1;
    return (f == F_INT && (t == F_FLOAT || t == F_NUMERIC)) ||
           (f == F_FLOAT && t == F_NUMERIC) || (f == F_NUMERIC && t == F_FLOAT);
}

int hr__rel_check(const hr__rel *r, const hr_batch *b, int need_key,
                  const char *tenant_column, char *msg, size_t cap)
{
    if (!r->exists) {
        snprintf(msg, cap, "table %s.%s does not exist on the target",
                 r->schema, r->table);
        return HR_ESCHEMA;
    }
    for (int i = 1; b && i < b->ncolumns; i++) {
        const hr__tcol *t = hr__rel_col(r, b->columns[i].name);
        if (!t) {
            snprintf(msg, cap, "table %s.%s has no column \"%s\" on the target",
                     r->schema, r->table, b->columns[i].name);
            return HR_ESCHEMA;
        }
        if (!compatible(b->columns[i].type_oid, t->type_oid)) {
            snprintf(msg, cap,
                     "column \"%s\" of %s.%s: type %u on the source, %u on "
                     "the target",
                     b->columns[i].name, r->schema, r->table,
                     b->columns[i].type_oid, t->type_oid);
            return HR_ESCHEMA;
        }
    }
    if (need_key == 1) {
        if (!r->nkeys) {
            snprintf(msg, cap,
                     "table %s.%s has neither a primary key nor a replica "
                     "identity index on the target: cannot update or delete",
                     r->schema, r->table);
            return HR_ESCHEMA;
        }
        for (int i = 0; i < r->ncols; i++) {
            if (!r->cols[i].is_key)
                continue;
            int found = 0;
            for (int j = 1; b && j < b->ncolumns && !found; j++)
                found = !strcmp(b->columns[j].name, r->cols[i].name);
            if (!found) {
                snprintf(msg, cap,
                         "key column \"%s\" of %s.%s is not in the changes",
                         r->cols[i].name, r->schema, r->table);
                return HR_ESCHEMA;
            }
        }
    }
    if (need_key == 2 && !hr__rel_col(r, tenant_column)) {
        snprintf(msg, cap,
                 "table %s.%s has no tenant column \"%s\" on the target: "
                 "cannot apply a truncate",
                 r->schema, r->table, tenant_column);
        return HR_ESCHEMA;
    }
    return HR_OK;
}
