/*
 * pgaccess.c - the public accessors of relations and of the transaction
 * handed to on_txn. Every index is checked: a bad one gives NULL, 0 or
 * HR_EINVAL, never a read out of bounds.
 */
#include "pgoutput_internal.h"

/* ---- relations ---- */

static const hr__pgcol *column_at(const hr_pgrelation *r, int col)
{
    if (!r || col < 0 || col >= r->ncols)
        return NULL;
    return &r->cols[col];
}

HR_API uint32_t hr_pgrelation_oid(const hr_pgrelation *r)
{
    return r ? r->oid : 0;
}

HR_API const char *hr_pgrelation_schema(const hr_pgrelation *r)
{
    return r ? r->schema : NULL;
}

HR_API const char *hr_pgrelation_name(const hr_pgrelation *r)
{
    return r ? r->name : NULL;
}

HR_API char hr_pgrelation_replica_identity(const hr_pgrelation *r)
{
    return r ? r->replident : 0;
}

HR_API int hr_pgrelation_columns(const hr_pgrelation *r)
{
    return r ? r->ncols : 0;
}

HR_API const char *hr_pgrelation_column_name(const hr_pgrelation *r, int col)
{
    const hr__pgcol *c = column_at(r, col);
    return c ? c->name : NULL;
}

HR_API uint32_t hr_pgrelation_column_type(const hr_pgrelation *r, int col)
{
    const hr__pgcol *c = column_at(r, col);
    return c ? c->type : 0;
}

HR_API int32_t hr_pgrelation_column_typmod(const hr_pgrelation *r, int col)
{
    const hr__pgcol *c = column_at(r, col);
    return c ? c->typmod : 0;
}

HR_API int hr_pgrelation_column_is_key(const hr_pgrelation *r, int col)
{
    const hr__pgcol *c = column_at(r, col);
    return c ? c->key : 0;
}

/* ---- transactions ---- */

HR_API uint32_t hr_pgtxn_xid(const hr_pgtxn *t)
{
    return t ? t->xid : 0;
}

HR_API uint64_t hr_pgtxn_commit_lsn(const hr_pgtxn *t)
{
    return t ? t->commit_lsn : 0;
}

HR_API uint64_t hr_pgtxn_end_lsn(const hr_pgtxn *t)
{
    return t ? t->end_lsn : 0;
}

HR_API int64_t hr_pgtxn_commit_time(const hr_pgtxn *t)
{
    return t ? t->commit_time : 0;
}

HR_API const char *hr_pgtxn_origin(const hr_pgtxn *t)
{
    return t && t->has_origin ? t->origin : NULL;
}

HR_API uint64_t hr_pgtxn_origin_lsn(const hr_pgtxn *t)
{
    return t && t->has_origin ? t->origin_lsn : 0;
}

HR_API int hr_pgtxn_streamed(const hr_pgtxn *t)
{
    return t ? t->streamed : 0;
}

HR_API size_t hr_pgtxn_changes(const hr_pgtxn *t)
{
    return t ? t->nchanges : 0;
}

static const hr__pgchange *change_at(const hr_pgtxn *t, size_t i)
{
    if (!t || i >= t->nchanges)
        return NULL;
    return &t->changes[i];
}

static int is_row(const hr__pgchange *c)
{
    return c->kind == HR_PGCHANGE_INSERT || c->kind == HR_PGCHANGE_UPDATE ||
           c->kind == HR_PGCHANGE_DELETE;
}

HR_API int hr_pgtxn_change_kind(const hr_pgtxn *t, size_t i)
{
    const hr__pgchange *c = change_at(t, i);
    return c ? c->kind : HR_EINVAL;
}

HR_API const hr_pgrelation *hr_pgtxn_change_relation(const hr_pgtxn *t,
                                                     size_t i)
{
    const hr__pgchange *c = change_at(t, i);
    return c && is_row(c) ? c->rel : NULL;
}

HR_API int hr_pgtxn_change_old_form(const hr_pgtxn *t, size_t i)
{
    const hr__pgchange *c = change_at(t, i);
    if (!c)
        return HR_EINVAL;
    return c->old_form;
}

static const uint8_t no_bytes[1];

static const uint8_t *arena_at(const hr_pgtxn *t, size_t off)
{
    return t->arena ? t->arena + off : no_bytes;
}

HR_API int hr_pgtxn_change_value(const hr_pgtxn *t, size_t i, hr_pgtuple which,
                                 int col, const uint8_t **data, size_t *len)
{
    const hr__pgchange *c = change_at(t, i);
    if (!c || !is_row(c) || col < 0 || col >= c->rel->ncols)
        return HR_EINVAL;
    size_t first;
    if (which == HR_PGTUPLE_NEW)
        first = c->u.row.new_vals;
    else if (which == HR_PGTUPLE_OLD)
        first = c->u.row.old_vals;
    else
        return HR_EINVAL;
    if (first == HR__PG_NONE)
        return HR_EINVAL;
    const hr__pgval *v = &t->vals[first + (size_t)col];
    const int present =
        v->form == HR_PGVALUE_TEXT || v->form == HR_PGVALUE_BINARY;
    if (data)
        *data = present ? arena_at(t, v->off) : NULL;
    if (len)
        *len = present ? v->len : 0;
    return v->form;
}

HR_API int hr_pgtxn_change_truncate(const hr_pgtxn *t, size_t i,
                                    size_t *relations, int *options)
{
    const hr__pgchange *c = change_at(t, i);
    if (!c || c->kind != HR_PGCHANGE_TRUNCATE)
        return HR_EINVAL;
    if (relations)
        *relations = c->u.trunc.count;
    if (options)
        *options = c->options;
    return HR_OK;
}

HR_API uint32_t hr_pgtxn_change_truncate_oid(const hr_pgtxn *t, size_t i,
                                             size_t k)
{
    const hr__pgchange *c = change_at(t, i);
    if (!c || c->kind != HR_PGCHANGE_TRUNCATE || k >= c->u.trunc.count)
        return 0;
    return t->trels[c->u.trunc.first + k]->oid;
}

HR_API const hr_pgrelation *
hr_pgtxn_change_truncate_relation(const hr_pgtxn *t, size_t i, size_t k)
{
    const hr__pgchange *c = change_at(t, i);
    if (!c || c->kind != HR_PGCHANGE_TRUNCATE || k >= c->u.trunc.count)
        return NULL;
    return t->trels[c->u.trunc.first + k];
}

HR_API int hr_pgtxn_change_message(const hr_pgtxn *t, size_t i,
                                   const char **prefix, const uint8_t **content,
                                   size_t *content_len)
{
    const hr__pgchange *c = change_at(t, i);
    if (!c || c->kind != HR_PGCHANGE_MESSAGE)
        return HR_EINVAL;
    if (prefix)
        *prefix = (const char *)arena_at(t, c->u.msg.prefix);
    if (content)
        *content = arena_at(t, c->u.msg.content);
    if (content_len)
        *content_len = c->u.msg.len;
    return HR_OK;
}
