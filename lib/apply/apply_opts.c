/* apply_opts.c - the applier options builder and its defaults. */
#include <string.h>

#include "apply_internal.h"

#define GROUP_ROWS_DEFAULT 20000
#define GROUP_BYTES_DEFAULT ((size_t)16 << 20)
#define GROUP_DELAY_DEFAULT_MS 20
#define COPY_MIN_ROWS_DEFAULT 64
#define MAX_PENDING_DEFAULT ((size_t)64 << 20)
#define DELAY_MAX_MS ((int64_t)60000)

int hr_applier_opts_new(hr_env *env, hr_applier_opts **out)
{
    if (!out)
        return HR_EINVAL;
    *out = NULL;
    if (!env)
        return HR_EINVAL;
    hr_applier_opts *o = hr__calloc(env, 1, sizeof *o);
    if (!o)
        return HR_ENOMEM;
    o->env = hr__env_ref(env);
    strcpy(o->source_id, "default");
    strcpy(o->meta_schema, "heliosrepl");
    strcpy(o->tenant_column, "tenant_id");
    o->group_rows = GROUP_ROWS_DEFAULT;
    o->group_bytes = GROUP_BYTES_DEFAULT;
    o->group_delay_ms = GROUP_DELAY_DEFAULT_MS;
    o->copy_min_rows = COPY_MIN_ROWS_DEFAULT;
    o->max_pending_bytes = MAX_PENDING_DEFAULT;
    *out = o;
    return HR_OK;
}

void hr_applier_opts_free(hr_applier_opts *o)
{
    if (!o)
        return;
    hr_env *env = o->env;
    hr__free(env, o->conninfo);
    hr__free(env, o);
    hr__env_unref(env);
}

const char *hr_applier_opts_errmsg(const hr_applier_opts *o)
{
    return o ? o->error.message : "";
}

int hr_applier_opts_set_conninfo(hr_applier_opts *o, const char *conninfo)
{
    if (!o)
        return HR_EINVAL;
    if (!conninfo || !*conninfo)
        return hr__fail(&o->error, HR_EINVAL, "conninfo is empty");
    char *copy = hr__strdup(o->env, conninfo);
    if (!copy)
        return hr__fail(&o->error, HR_ENOMEM, "out of memory");
    hr__free(o->env, o->conninfo);
    o->conninfo = copy;
    return HR_OK;
}

int hr_applier_opts_set_source_id(hr_applier_opts *o, const char *id)
{
    if (!o)
        return HR_EINVAL;
    if (!id || !hr__tenant_id_valid(id, strlen(id)))
        return hr__fail(&o->error, HR_EINVAL,
                        "source id must be 1..%d bytes of [A-Za-z0-9_.-]",
                        HR__APPLY_NAME_MAX);
    strcpy(o->source_id, id);
    return HR_OK;
}

/* A name quoted by libpq later: any bytes but NUL, 1..63 of them. */
static int set_name(hr_applier_opts *o, char dst[HR__APPLY_NAME_MAX + 1],
                    const char *what, const char *name)
{
    if (!o)
        return HR_EINVAL;
    if (!name || !*name || strlen(name) > HR__APPLY_NAME_MAX)
        return hr__fail(&o->error, HR_EINVAL, "%s must be 1..%d bytes", what,
                        HR__APPLY_NAME_MAX);
    strcpy(dst, name);
    return HR_OK;
}

int hr_applier_opts_set_meta_schema(hr_applier_opts *o, const char *schema)
{
    return set_name(o, o ? o->meta_schema : NULL, "meta schema", schema);
}

int hr_applier_opts_set_tenant_column(hr_applier_opts *o, const char *column)
{
    return set_name(o, o ? o->tenant_column : NULL, "tenant column", column);
}

int hr_applier_opts_set_group_rows(hr_applier_opts *o, size_t rows)
{
    if (!o)
        return HR_EINVAL;
    if (rows == 0)
        return hr__fail(&o->error, HR_EINVAL, "group_rows must be >= 1");
    o->group_rows = rows;
    return HR_OK;
}

int hr_applier_opts_set_group_bytes(hr_applier_opts *o, size_t bytes)
{
    if (!o)
        return HR_EINVAL;
    if (bytes == 0)
        return hr__fail(&o->error, HR_EINVAL, "group_bytes must be >= 1");
    o->group_bytes = bytes;
    return HR_OK;
}

int hr_applier_opts_set_group_delay_ms(hr_applier_opts *o, int64_t ms)
{
    if (!o)
        return HR_EINVAL;
    if (ms < 0 || ms > DELAY_MAX_MS)
        return hr__fail(&o->error, HR_EINVAL,
                        "group_delay_ms must be 0..%lld", (long long)DELAY_MAX_MS);
    o->group_delay_ms = ms;
    return HR_OK;
}

int hr_applier_opts_set_copy_min_rows(hr_applier_opts *o, size_t rows)
{
    if (!o)
        return HR_EINVAL;
    o->copy_min_rows = rows;
    return HR_OK;
}

int hr_applier_opts_set_max_pending_bytes(hr_applier_opts *o, size_t bytes)
{
    if (!o)
        return HR_EINVAL;
    if (bytes == 0)
        return hr__fail(&o->error, HR_EINVAL, "max_pending_bytes must be >= 1");
    o->max_pending_bytes = bytes;
    return HR_OK;
}
