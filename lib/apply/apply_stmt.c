/*
 * apply_stmt.c - prepared statements per relation, one per (operation,
 * target columns written, parameter types), and their parameters. Columns
 * are named by the target relation, so batches whose columns come in
 * another order, or that lack some (unchanged TOAST), share statements
 * whenever they write the same columns.
 */
#include <stdio.h>
#include <string.h>

#include "apply_internal.h"

/* The declared type of a parameter from a batch column: the batch's OID
 * when we send it in binary (or numeric as text), else unknown (0) so the
 * server takes the column's type and parses our text form. */
static Oid param_type(uint32_t oid)
{
    return hr__param_binary(oid) || oid == HR_OID_NUMERIC ? oid : 0;
}

/* The target columns of the statement's parameters, in order. */
static int param_columns(const hr__rel *r, int op, const uint8_t *mask,
                         int *cols)
{
    int n = 0;
    if (op == 1 || op == 2)
        for (int j = 0; j < r->ncols; j++)
            if (mask[j])
                cols[n++] = j;
    if (op == 2 || op == 3)
        for (int j = 0; j < r->ncols; j++)
            if (r->cols[j].is_key)
                cols[n++] = j;
    return n;
}

static void add_list(hr__sbuf *b, PGconn *c, const hr__rel *r,
                     const uint8_t *mask, const char *sep, int keys,
                     int *param, int assign)
{
    int first = 1;
    for (int j = 0; j < r->ncols; j++) {
        if (keys ? !r->cols[j].is_key : !mask[j])
            continue;
        if (!first)
            hr__sbuf_add(b, sep);
        first = 0;
        hr__sbuf_ident(b, c, r->cols[j].name);
        if (assign)
            hr__sbuf_addf(b, " = $%d", ++*param);
    }
}

static void add_table(hr__sbuf *b, PGconn *c, const hr__rel *r)
{
    hr__sbuf_ident(b, c, r->schema);
    hr__sbuf_add(b, ".");
    hr__sbuf_ident(b, c, r->table);
}

static int build_sql(hr_applier *a, const hr__rel *r, hr__stmt *s)
{
    hr__sbuf b;
    hr__sbuf_init(&b, a->env);
    PGconn *c = a->pgc.conn;
    int p = 0;
    switch (s->op) {
    case 1: {
        hr__sbuf_add(&b, "INSERT INTO ");
        add_table(&b, c, r);
        hr__sbuf_add(&b, " (");
        add_list(&b, c, r, s->mask, ", ", 0, &p, 0);
        hr__sbuf_add(&b, ") VALUES (");
        for (int i = 1; i <= s->nparams; i++)
            hr__sbuf_addf(&b, i > 1 ? ", $%d" : "$%d", i);
        hr__sbuf_add(&b, ")");
        if (s->idempotent) {
            hr__sbuf_add(&b, " ON CONFLICT (");
            add_list(&b, c, r, s->mask, ", ", 1, &p, 0);
            int nonkey = 0;
            for (int j = 0; j < r->ncols; j++)
                nonkey += s->mask[j] && !r->cols[j].is_key;
            if (!nonkey) {
                hr__sbuf_add(&b, ") DO NOTHING");
                break;
            }
            hr__sbuf_add(&b, ") DO UPDATE SET ");
            int first = 1;
            for (int j = 0; j < r->ncols; j++) {
                if (!s->mask[j] || r->cols[j].is_key)
                    continue;
                if (!first)
                    hr__sbuf_add(&b, ", ");
                first = 0;
                hr__sbuf_ident(&b, c, r->cols[j].name);
                hr__sbuf_add(&b, " = EXCLUDED.");
                hr__sbuf_ident(&b, c, r->cols[j].name);
            }
        }
        break;
    }
    case 2:
        hr__sbuf_add(&b, "UPDATE ");
        add_table(&b, c, r);
        hr__sbuf_add(&b, " SET ");
        add_list(&b, c, r, s->mask, ", ", 0, &p, 1);
        hr__sbuf_add(&b, " WHERE ");
        add_list(&b, c, r, s->mask, " AND ", 1, &p, 1);
        break;
    case 3:
        hr__sbuf_add(&b, "DELETE FROM ");
        add_table(&b, c, r);
        hr__sbuf_add(&b, " WHERE ");
        add_list(&b, c, r, s->mask, " AND ", 1, &p, 1);
        break;
    default: /* 5: a truncate of the tenant's rows */
        hr__sbuf_add(&b, "DELETE FROM ");
        add_table(&b, c, r);
        hr__sbuf_add(&b, " WHERE ");
        hr__sbuf_ident(&b, c, a->opts->tenant_column);
        hr__sbuf_add(&b, " = $1");
        break;
    }
    return hr__sbuf_take(&b, &s->sql);
}

int hr__rel_stmt(hr_applier *a, hr__rel *r, const int *inv,
                 const hr_batch *b, int op, int idempotent, size_t row,
                 hr__stmt **out)
{
    *out = NULL;
    if (hr__scratch_reserve(a, (size_t)r->ncols * (1 + sizeof(int) * 2 +
                                                   sizeof(Oid) * 2) + 16) != HR_OK)
        return HR_ENOMEM;
    uint8_t *mask = a->scratch;
    int *cols = (int *)(void *)(a->scratch + ((size_t)r->ncols + 7) / 8 * 8);
    Oid *types = (Oid *)(cols + 2 * r->ncols);
    memset(mask, 0, (size_t)r->ncols);
    if (op == 1 || op == 2)
        for (int j = 0; j < r->ncols; j++)
            mask[j] = inv[j] >= 0 &&
                      b->columns[inv[j]].states[row] != HR_VALUE_UNCHANGED_TOAST;
    if (op != 1 || !r->nkeys)
        idempotent = 0;
    int n;
    if (op == 5) {
        n = 1;
        types[0] = HR_OID_TEXT;
    } else {
        n = param_columns(r, op, mask, cols);
        for (int i = 0; i < n; i++)
            types[i] = param_type(b->columns[inv[cols[i]]].type_oid);
    }
    for (hr__stmt *s = r->stmts; s; s = s->next)
        if (s->op == op && s->idempotent == idempotent && s->nparams == n &&
            !memcmp(s->mask, mask, (size_t)r->ncols) &&
            !memcmp(s->ptypes, types, (size_t)n * sizeof *types)) {
            *out = s;
            return HR_OK;
        }
    hr__stmt *s = hr__calloc(a->env, 1, sizeof *s);
    if (!s)
        return HR_ENOMEM;
    s->mask = hr__malloc(a->env, (size_t)r->ncols + 1);
    s->ptypes = hr__malloc(a->env, ((size_t)n + 1) * sizeof *types);
    if (!s->mask || !s->ptypes) {
        hr__free(a->env, s->mask);
        hr__free(a->env, s->ptypes);
        hr__free(a->env, s);
        return HR_ENOMEM;
    }
    memcpy(s->mask, mask, (size_t)r->ncols);
    memcpy(s->ptypes, types, (size_t)n * sizeof *types);
    s->op = op;
    s->idempotent = idempotent;
    s->nparams = n;
    snprintf(s->name, sizeof s->name, "hr_%u", ++a->stmt_seq);
    int rc = build_sql(a, r, s);
    if (rc != HR_OK) {
        hr__free(a->env, s->mask);
        hr__free(a->env, s->ptypes);
        hr__free(a->env, s);
        return rc;
    }
    s->next = r->stmts;
    r->stmts = s;
    *out = s;
    return HR_OK;
}

void hr__stmt_free(hr_applier *a, hr__stmt *s)
{
    hr__free(a->env, s->mask);
    hr__free(a->env, s->ptypes);
    hr__free(a->env, s->sql);
    hr__free(a->env, s);
}

int hr__stmt_params(hr_applier *a, const hr__rel *r, const hr__stmt *s,
                    const int *inv, const hr_batch *b, size_t row,
                    size_t key_row, const char *tenant,
                    const char *const **values, const int **lengths,
                    const int **formats)
{
    int n = s->nparams;
    int cols[HR_BATCH_MAX_COLUMNS * 2];
    if (s->op != 5)
        param_columns(r, s->op, s->mask, cols);
    size_t data = 0;
    int nset = s->op == 1 || s->op == 2 ? n - (s->op == 2 ? r->nkeys : 0) : 0;
    for (int i = 0; s->op != 5 && i < n; i++) {
        size_t at = i < nset || s->op == 1 ? row : key_row;
        data += hr__value_binary_max(b, inv[cols[i]], at) + 1;
    }
    if (s->op == 5)
        data = strlen(tenant) + 1;
    size_t head = (size_t)n * (sizeof(char *) + 2 * sizeof(int));
    if (hr__scratch_reserve(a, head + data) != HR_OK)
        return HR_ENOMEM;
    const char **v = (const char **)(void *)a->scratch;
    int *len = (int *)(void *)(v + n);
    int *fmt = len + n;
    uint8_t *p = a->scratch + head;
    if (s->op == 5) {
        memcpy(p, tenant, data);
        v[0] = (const char *)p;
        len[0] = 0;
        fmt[0] = 0;
    }
    for (int i = 0; s->op != 5 && i < n; i++) {
        int col = inv[cols[i]];
        size_t at = i < nset || s->op == 1 ? row : key_row;
        const hr__column *c = &b->columns[col];
        if (c->states[at] != HR_VALUE_PRESENT) {
            v[i] = NULL;
            len[i] = 0;
            fmt[i] = 0;
            continue;
        }
        if (hr__param_binary(c->type_oid)) {
            int l;
            hr__value_binary(b, col, at, p, &l);
            v[i] = (const char *)p;
            len[i] = l;
            fmt[i] = 1;
            p += l;
        } else {
            size_t l = c->offsets[at + 1] - c->offsets[at];
            memcpy(p, c->heap + c->offsets[at], l);
            p[l] = '\0';
            v[i] = (const char *)p;
            len[i] = 0;
            fmt[i] = 0;
            p += l + 1;
        }
    }
    *values = v;
    *lengths = len;
    *formats = fmt;
    return HR_OK;
}

int hr__rel_copy_ok(const hr__rel *r, const int *inv, const hr_batch *b)
{
    for (int j = 0; j < r->ncols; j++) {
        if (inv[j] < 0)
            continue;
        const hr__column *c = &b->columns[inv[j]];
        if (c->type_oid != r->cols[j].type_oid || !hr__copy_binary(c->type_oid))
            return 0;
    }
    return 1;
}

int hr__rel_copy_sql(hr_applier *a, const hr__rel *r, const int *inv,
                     char **sql)
{
    hr__sbuf b;
    hr__sbuf_init(&b, a->env);
    PGconn *c = a->pgc.conn;
    hr__sbuf_add(&b, "COPY ");
    add_table(&b, c, r);
    hr__sbuf_add(&b, " (");
    int first = 1;
    for (int j = 0; j < r->ncols; j++) {
        if (inv[j] < 0)
            continue;
        if (!first)
            hr__sbuf_add(&b, ", ");
        first = 0;
        hr__sbuf_ident(&b, c, r->cols[j].name);
    }
    hr__sbuf_add(&b, ") FROM STDIN (FORMAT binary)");
    return hr__sbuf_take(&b, sql);
}
