/*
 * copy_opts.c - the copier options builder. Connection, tenant and table
 * options go into an hr_stream_opts and are checked by the stream's own
 * setters, so both take the same ids and table names by the same rules.
 */
#include <math.h>
#include <string.h>

#include "copy_internal.h"

HR_API int hr_copier_opts_new(hr_env *env, hr_copier_opts **out)
{
    if (!out)
        return HR_EINVAL;
    *out = NULL;
    if (!env)
        return HR_EINVAL;
    hr_copier_opts *o = hr__calloc(env, 1, sizeof *o);
    if (!o)
        return HR_ENOMEM;
    o->env = hr__env_ref(env);
    o->rows_per_batch = HR__COPY_ROWS_DEFAULT;
    int rc = hr_stream_opts_new(env, &o->source);
    if (rc == HR_OK)
        rc = hr_stream_opts_new(env, &o->skip);
    if (rc == HR_OK)
        rc = hr_stream_opts_new(env, &o->prio);
    if (rc != HR_OK) {
        hr_copier_opts_free(o);
        return rc;
    }
    *out = o;
    return HR_OK;
}

HR_API void hr_copier_opts_free(hr_copier_opts *o)
{
    if (!o)
        return;
    hr_env *env = o->env;
    hr_stream_opts_free(o->source);
    hr_stream_opts_free(o->skip);
    hr_stream_opts_free(o->prio);
    hr__free(env, o->prio_values);
    hr__free(env, o->snapshot);
    hr__free(env, o);
    hr__env_unref(env);
}

/* The status of a stream setter, its message copied to the copier's. */
static int relay(hr_copier_opts *o, const hr_stream_opts *from, int rc)
{
    if (rc == HR_OK) {
        hr__error_clear(&o->error);
        return HR_OK;
    }
    return hr__fail(&o->error, rc, "%s", hr_stream_opts_errmsg(from));
}

HR_API int hr_copier_opts_set_conninfo(hr_copier_opts *o, const char *conninfo)
{
    if (!o)
        return HR_EINVAL;
    return relay(o, o->source,
                 hr_stream_opts_set_conninfo(o->source, conninfo));
}

HR_API int hr_copier_opts_set_tenant(hr_copier_opts *o, const char *tenant_id)
{
    if (!o)
        return HR_EINVAL;
    return relay(o, o->source, hr_stream_opts_set_tenant(o->source, tenant_id));
}

HR_API int hr_copier_opts_set_tenant_column(hr_copier_opts *o,
                                            const char *column)
{
    if (!o)
        return HR_EINVAL;
    return relay(o, o->source,
                 hr_stream_opts_set_tenant_column(o->source, column));
}

HR_API int hr_copier_opts_add_table(hr_copier_opts *o, const char *table)
{
    if (!o)
        return HR_EINVAL;
    return relay(o, o->source, hr_stream_opts_add_table(o->source, table));
}

HR_API int hr_copier_opts_add_schema(hr_copier_opts *o, const char *schema)
{
    if (!o)
        return HR_EINVAL;
    return relay(o, o->source, hr_stream_opts_add_schema(o->source, schema));
}

HR_API int hr_copier_opts_add_skip_table(hr_copier_opts *o, const char *table)
{
    if (!o)
        return HR_EINVAL;
    return relay(o, o->skip, hr_stream_opts_add_table(o->skip, table));
}

HR_API int hr_copier_opts_set_snapshot(hr_copier_opts *o, const char *name)
{
    if (!o)
        return HR_EINVAL;
    char *copy = NULL;
    if (name && *name) {
        if (strlen(name) > HR__PG_NAME_MAX)
            return hr__fail(&o->error, HR_EINVAL,
                            "snapshot name must be 1..%d bytes",
                            HR__PG_NAME_MAX);
        copy = hr__strdup(o->env, name);
        if (!copy)
            return hr__fail(&o->error, HR_ENOMEM, "out of memory");
    }
    hr__free(o->env, o->snapshot);
    o->snapshot = copy;
    hr__error_clear(&o->error);
    return HR_OK;
}

HR_API int hr_copier_opts_set_rows_per_batch(hr_copier_opts *o, size_t rows)
{
    if (!o)
        return HR_EINVAL;
    if (rows < 1 || rows > HR__COPY_ROWS_MAX)
        return hr__fail(&o->error, HR_EINVAL, "rows per batch must be 1..%d",
                        HR__COPY_ROWS_MAX);
    o->rows_per_batch = rows;
    hr__error_clear(&o->error);
    return HR_OK;
}

HR_API int hr_copier_opts_set_table_priority(hr_copier_opts *o,
                                             const char *table, double priority)
{
    if (!o)
        return HR_EINVAL;
    if (!isfinite(priority))
        return hr__fail(&o->error, HR_EINVAL, "priority must be finite");
    size_t n = o->prio->table_names.n;
    if (n == o->prio_cap) { /* room first: a failure leaves no half entry */
        size_t cap = o->prio_cap ? o->prio_cap * 2 : 8;
        double *v = hr__realloc(o->env, o->prio_values, cap * sizeof *v);
        if (!v)
            return hr__fail(&o->error, HR_ENOMEM, "out of memory");
        o->prio_values = v;
        o->prio_cap = cap;
    }
    int rc = relay(o, o->prio, hr_stream_opts_add_table(o->prio, table));
    if (rc == HR_OK)
        o->prio_values[n] = priority;
    return rc;
}

HR_API const char *hr_copier_opts_errmsg(const hr_copier_opts *o)
{
    return o ? o->error.message : "no options (NULL)";
}

int hr__copier_opts_apply(const hr_copier_opts *o, hr_copier *c, hr__error *err)
{
    int rc = hr__stream_opts_resolve(o->source, &c->cfg, err);
    if (rc != HR_OK)
        return rc;
    rc = hr__strlist_copy(c->env, &c->skip_schemas, &o->skip->table_schemas);
    if (rc == HR_OK)
        rc = hr__strlist_copy(c->env, &c->skip_names, &o->skip->table_names);
    if (rc == HR_OK)
        rc =
            hr__strlist_copy(c->env, &c->prio_schemas, &o->prio->table_schemas);
    if (rc == HR_OK)
        rc = hr__strlist_copy(c->env, &c->prio_names, &o->prio->table_names);
    if (rc == HR_OK && c->prio_names.n) {
        c->prio = hr__malloc(c->env, c->prio_names.n * sizeof *c->prio);
        if (!c->prio)
            rc = HR_ENOMEM;
        else
            memcpy(c->prio, o->prio_values, c->prio_names.n * sizeof *c->prio);
    }
    if (rc == HR_OK && o->snapshot) {
        c->snapshot = hr__strdup(c->env, o->snapshot);
        if (!c->snapshot)
            rc = HR_ENOMEM;
    }
    c->rows_per_batch = o->rows_per_batch;
    return rc == HR_OK ? HR_OK : hr__fail(err, rc, "out of memory");
}
