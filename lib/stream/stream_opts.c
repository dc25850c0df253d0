/* stream_opts.c - the stream options builder, validation, default names. */
#include <string.h>

#include <xxhash.h>

#include "stream_internal.h"

#define STATUS_INTERVAL_DEFAULT_MS 10000
#define HEARTBEAT_INTERVAL_DEFAULT_MS 30000
#define INTERVAL_MAX_MS ((int64_t)86400000) /* a day */

/* ---- string lists ---- */

int hr__strlist_add(const hr_env *env, hr__strlist *l, const char *s,
                    size_t len)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        char **items = hr__realloc(env, l->items, cap * sizeof *items);
        if (!items)
            return HR_ENOMEM;
        l->items = items;
        l->cap = cap;
    }
    char *copy = hr__malloc(env, len + 1);
    if (!copy)
        return HR_ENOMEM;
    memcpy(copy, s, len);
    copy[len] = '\0';
    l->items[l->n++] = copy;
    return HR_OK;
}

int hr__strlist_copy(const hr_env *env, hr__strlist *dst,
                     const hr__strlist *src)
{
    for (size_t i = 0; i < src->n; i++) {
        int rc =
            hr__strlist_add(env, dst, src->items[i], strlen(src->items[i]));
        if (rc != HR_OK)
            return rc;
    }
    return HR_OK;
}

void hr__strlist_free(const hr_env *env, hr__strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        hr__free(env, l->items[i]);
    hr__free(env, l->items);
    memset(l, 0, sizeof *l);
}

/* ---- validation ---- */

static int tenant_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static int slot_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

int hr__tenant_id_valid(const char *id, size_t len)
{
    if (!id || len == 0 || len > HR__TENANT_ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!tenant_char(id[i]))
            return 0;
    return 1;
}

int hr__slot_name_valid(const char *name)
{
    if (!name)
        return 0;
    size_t len = strlen(name);
    if (len == 0 || len > HR__PG_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!slot_char(name[i]))
            return 0;
    return 1;
}

void hr__default_name(const char *tenant_id, char out[HR__PG_NAME_MAX + 1])
{
    size_t len = strlen(tenant_id);
    int plain = len > 0 && len <= HR__PG_NAME_MAX - 3;
    for (size_t i = 0; plain && i < len; i++)
        plain = slot_char(tenant_id[i]);
    if (plain) {
        memcpy(out, "hr_", 3);
        memcpy(out + 3, tenant_id, len + 1);
        return;
    }
    /* "hrx_" (4) + folded (<= 42) + "_" (1) + hash (16) = 63 at most. The
     * "hrx_" prefix can never come out of the plain form, which would need
     * a tenant id starting with "x_" under "hr_": "hr_x_..." differs. */
    static const char hex[] = "0123456789abcdef";
    uint64_t h = XXH64(tenant_id, len, 0);
    size_t o = 0, fold = len < 42 ? len : 42;
    memcpy(out, "hrx_", 4);
    o = 4;
    for (size_t i = 0; i < fold; i++) {
        char c = tenant_id[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        out[o++] = slot_char(c) ? c : '_';
    }
    out[o++] = '_';
    for (int i = 15; i >= 0; i--)
        out[o++] = hex[(h >> (4 * i)) & 0xf];
    out[o] = '\0';
}

/* A name PostgreSQL keeps whole: 1..63 bytes. */
static int name_ok(const char *s)
{
    if (!s)
        return 0;
    size_t len = strlen(s);
    return len > 0 && len <= HR__PG_NAME_MAX;
}

/* ---- the builder ---- */

HR_API int hr_stream_opts_new(hr_env *env, hr_stream_opts **out)
{
    if (!out)
        return HR_EINVAL;
    *out = NULL;
    if (!env)
        return HR_EINVAL;
    hr_stream_opts *o = hr__calloc(env, 1, sizeof *o);
    if (!o)
        return HR_ENOMEM;
    o->env = hr__env_ref(env);
    o->mode = HR_STREAM_DEDICATED;
    o->proto_version = 2;
    o->status_interval_ms = STATUS_INTERVAL_DEFAULT_MS;
    o->heartbeat_interval_ms = HEARTBEAT_INTERVAL_DEFAULT_MS;
    *out = o;
    return HR_OK;
}

static void opts_clear(hr_stream_opts *o)
{
    const hr_env *env = o->env;
    hr__free(env, o->conninfo);
    hr__free(env, o->tenant);
    hr__free(env, o->tenant_column);
    hr__free(env, o->slot);
    hr__free(env, o->publication);
    hr__strlist_free(env, &o->table_schemas);
    hr__strlist_free(env, &o->table_names);
    hr__strlist_free(env, &o->schemas);
}

HR_API void hr_stream_opts_free(hr_stream_opts *o)
{
    if (!o)
        return;
    hr_env *env = o->env;
    opts_clear(o);
    hr__free(env, o);
    hr__env_unref(env);
}

/* Replace *field with a copy of s. */
static int set_string(hr_stream_opts *o, char **field, const char *s)
{
    char *copy = hr__strdup(o->env, s);
    if (!copy)
        return hr__fail(&o->error, HR_ENOMEM, "out of memory");
    hr__free(o->env, *field);
    *field = copy;
    hr__error_clear(&o->error);
    return HR_OK;
}

HR_API int hr_stream_opts_set_conninfo(hr_stream_opts *o, const char *conninfo)
{
    if (!o)
        return HR_EINVAL;
    if (!conninfo || !*conninfo)
        return hr__fail(&o->error, HR_EINVAL, "conninfo is empty");
    char *why = NULL;
    PQconninfoOption *parsed = PQconninfoParse(conninfo, &why);
    if (!parsed) {
        int rc = why ? hr__fail(&o->error, HR_EINVAL, "conninfo: %s", why)
                     : hr__fail(&o->error, HR_ENOMEM, "out of memory");
        PQfreemem(why);
        return rc;
    }
    PQconninfoFree(parsed);
    return set_string(o, &o->conninfo, conninfo);
}

HR_API int hr_stream_opts_set_mode(hr_stream_opts *o, hr_stream_mode mode)
{
    if (!o)
        return HR_EINVAL;
    if (mode != HR_STREAM_DEDICATED && mode != HR_STREAM_SHARED)
        return hr__fail(&o->error, HR_EINVAL,
                        "mode %d is neither "
                        "HR_STREAM_DEDICATED (1) nor HR_STREAM_SHARED (2)",
                        (int)mode);
    o->mode = mode;
    hr__error_clear(&o->error);
    return HR_OK;
}

HR_API int hr_stream_opts_set_tenant(hr_stream_opts *o, const char *tenant_id)
{
    if (!o)
        return HR_EINVAL;
    if (!tenant_id || !hr__tenant_id_valid(tenant_id, strlen(tenant_id)))
        return hr__fail(&o->error, HR_EINVAL,
                        "tenant id must be 1..%d bytes of [A-Za-z0-9_.-]",
                        HR__TENANT_ID_MAX);
    return set_string(o, &o->tenant, tenant_id);
}

HR_API int hr_stream_opts_set_tenant_column(hr_stream_opts *o,
                                            const char *column)
{
    if (!o)
        return HR_EINVAL;
    if (!name_ok(column))
        return hr__fail(&o->error, HR_EINVAL,
                        "tenant column name must be 1..%d bytes",
                        HR__PG_NAME_MAX);
    return set_string(o, &o->tenant_column, column);
}

HR_API int hr_stream_opts_add_table(hr_stream_opts *o, const char *table)
{
    if (!o)
        return HR_EINVAL;
    if (!table)
        return hr__fail(&o->error, HR_EINVAL, "table is NULL");
    const char *dot = strchr(table, '.');
    const char *schema = HR__DEFAULT_SCHEMA, *name = table;
    size_t slen = strlen(HR__DEFAULT_SCHEMA), nlen = strlen(table);
    if (dot) {
        schema = table;
        slen = (size_t)(dot - table);
        name = dot + 1;
        nlen = strlen(name);
    }
    if (slen == 0 || slen > HR__PG_NAME_MAX || nlen == 0 ||
        nlen > HR__PG_NAME_MAX)
        return hr__fail(&o->error, HR_EINVAL,
                        "table '%s': expected \"schema.table\" or \"table\", "
                        "each part 1..%d bytes",
                        table, HR__PG_NAME_MAX);
    int rc = hr__strlist_add(o->env, &o->table_schemas, schema, slen);
    if (rc == HR_OK) {
        rc = hr__strlist_add(o->env, &o->table_names, name, nlen);
        if (rc != HR_OK) /* keep the lists parallel */
            hr__free(o->env, o->table_schemas.items[--o->table_schemas.n]);
    }
    if (rc != HR_OK)
        return hr__fail(&o->error, rc, "out of memory");
    hr__error_clear(&o->error);
    return HR_OK;
}

HR_API int hr_stream_opts_add_schema(hr_stream_opts *o, const char *schema)
{
    if (!o)
        return HR_EINVAL;
    if (!name_ok(schema))
        return hr__fail(&o->error, HR_EINVAL, "schema name must be 1..%d bytes",
                        HR__PG_NAME_MAX);
    if (hr__strlist_add(o->env, &o->schemas, schema, strlen(schema)) != HR_OK)
        return hr__fail(&o->error, HR_ENOMEM, "out of memory");
    hr__error_clear(&o->error);
    return HR_OK;
}

HR_API int hr_stream_opts_set_slot(hr_stream_opts *o, const char *slot)
{
    if (!o)
        return HR_EINVAL;
    if (!hr__slot_name_valid(slot))
        return hr__fail(&o->error, HR_EINVAL,
                        "slot name must be 1..%d bytes of [a-z0-9_]",
                        HR__PG_NAME_MAX);
    return set_string(o, &o->slot, slot);
}

HR_API int hr_stream_opts_set_publication(hr_stream_opts *o,
                                          const char *publication)
{
    if (!o)
        return HR_EINVAL;
    /* No backslash: START_REPLICATION's option values cannot hold the
     * E'' string PQescapeLiteral would make of one. */
    if (!name_ok(publication) || strchr(publication, '\\'))
        return hr__fail(&o->error, HR_EINVAL,
                        "publication name must be 1..%d bytes, no backslash",
                        HR__PG_NAME_MAX);
    return set_string(o, &o->publication, publication);
}

HR_API int hr_stream_opts_set_start_lsn(hr_stream_opts *o, uint64_t lsn)
{
    if (!o)
        return HR_EINVAL;
    o->start_lsn = lsn;
    hr__error_clear(&o->error);
    return HR_OK;
}

static int set_flag(hr_stream_opts *o, int *field, int value, const char *what)
{
    if (value != 0 && value != 1)
        return hr__fail(&o->error, HR_EINVAL, "%s must be 0 or 1, not %d", what,
                        value);
    *field = value;
    hr__error_clear(&o->error);
    return HR_OK;
}

HR_API int hr_stream_opts_set_binary(hr_stream_opts *o, int binary)
{
    if (!o)
        return HR_EINVAL;
    return set_flag(o, &o->binary, binary, "binary");
}

HR_API int hr_stream_opts_set_proto_version(hr_stream_opts *o, int version)
{
    if (!o)
        return HR_EINVAL;
    if (version != 1 && version != 2)
        return hr__fail(&o->error, HR_EINVAL,
                        "proto_version must be 1 or 2, not %d", version);
    o->proto_version = version;
    hr__error_clear(&o->error);
    return HR_OK;
}

static int set_interval(hr_stream_opts *o, int64_t *field, int64_t ms,
                        int64_t min, const char *what)
{
    if (ms < min || ms > INTERVAL_MAX_MS)
        return hr__fail(
            &o->error, HR_EINVAL, "%s must be %lld..%lld ms, not %lld", what,
            (long long)min, (long long)INTERVAL_MAX_MS, (long long)ms);
    *field = ms;
    hr__error_clear(&o->error);
    return HR_OK;
}

HR_API int hr_stream_opts_set_status_interval_ms(hr_stream_opts *o, int64_t ms)
{
    if (!o)
        return HR_EINVAL;
    return set_interval(o, &o->status_interval_ms, ms, 1, "status_interval_ms");
}

HR_API int hr_stream_opts_set_heartbeat_interval_ms(hr_stream_opts *o,
                                                    int64_t ms)
{
    if (!o)
        return HR_EINVAL;
    return set_interval(o, &o->heartbeat_interval_ms, ms, 0,
                        "heartbeat_interval_ms");
}

HR_API int hr_stream_opts_set_export_snapshot(hr_stream_opts *o, int hold)
{
    if (!o)
        return HR_EINVAL;
    return set_flag(o, &o->export_snapshot, hold, "export_snapshot");
}

HR_API int hr_stream_opts_set_hold_start(hr_stream_opts *o, int hold)
{
    if (!o)
        return HR_EINVAL;
    return set_flag(o, &o->hold_start, hold, "hold_start");
}

HR_API const char *hr_stream_opts_errmsg(const hr_stream_opts *o)
{
    return o ? o->error.message : "no options (NULL)";
}

/* ---- resolution ---- */

static int dup_opt(const hr_env *env, char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return HR_OK;
    *dst = hr__strdup(env, src);
    return *dst ? HR_OK : HR_ENOMEM;
}

int hr__stream_opts_resolve(const hr_stream_opts *src, hr_stream_opts **out,
                            hr__error *err)
{
    *out = NULL;
    if (!src->conninfo)
        return hr__fail(err, HR_EINVAL, "conninfo is required");
    if (src->mode == HR_STREAM_DEDICATED && !src->tenant)
        return hr__fail(err, HR_EINVAL,
                        "dedicated mode needs a tenant (set_tenant)");
    if (src->mode == HR_STREAM_SHARED && src->tenant)
        return hr__fail(err, HR_EINVAL,
                        "shared mode takes its tenants from "
                        "hr_stream_add_tenant, not set_tenant");
    /* A held stream takes its tenant's start from the move, and the move
     * needs no snapshot: the tenant's rows are on the target already. */
    if (src->hold_start && (src->mode != HR_STREAM_DEDICATED ||
                            src->start_lsn || src->export_snapshot))
        return hr__fail(err, HR_EINVAL,
                        "hold_start is for the dedicated stream a tenant "
                        "moves to: dedicated mode, without start_lsn (the "
                        "move sets it) or export_snapshot");

    hr_stream_opts *o = NULL;
    int rc = hr_stream_opts_new(src->env, &o);
    if (rc != HR_OK)
        return hr__fail(err, rc, "out of memory");
    const hr_env *env = src->env;
    o->mode = src->mode;
    o->start_lsn = src->start_lsn;
    o->binary = src->binary;
    o->proto_version = src->proto_version;
    o->status_interval_ms = src->status_interval_ms;
    o->heartbeat_interval_ms = src->heartbeat_interval_ms;
    o->export_snapshot = src->export_snapshot;
    o->hold_start = src->hold_start;

    char name[HR__PG_NAME_MAX + 1];
    if (src->mode == HR_STREAM_DEDICATED)
        hr__default_name(src->tenant, name);
    else
        memcpy(name, HR__SHARED_NAME, sizeof HR__SHARED_NAME);

    rc = dup_opt(env, &o->conninfo, src->conninfo);
    if (rc == HR_OK)
        rc = dup_opt(env, &o->tenant, src->tenant);
    if (rc == HR_OK)
        rc = dup_opt(env, &o->tenant_column,
                     src->tenant_column ? src->tenant_column
                                        : HR__DEFAULT_TENANT_COLUMN);
    if (rc == HR_OK)
        rc = dup_opt(env, &o->slot, src->slot ? src->slot : name);
    if (rc == HR_OK)
        rc = dup_opt(env, &o->publication,
                     src->publication ? src->publication : name);
    if (rc == HR_OK)
        rc = hr__strlist_copy(env, &o->table_schemas, &src->table_schemas);
    if (rc == HR_OK)
        rc = hr__strlist_copy(env, &o->table_names, &src->table_names);
    if (rc == HR_OK)
        rc = hr__strlist_copy(env, &o->schemas, &src->schemas);
    if (rc == HR_OK && o->table_names.n == 0 && o->schemas.n == 0)
        rc = hr__strlist_add(env, &o->schemas, HR__DEFAULT_SCHEMA,
                             strlen(HR__DEFAULT_SCHEMA));
    if (rc != HR_OK) {
        hr_stream_opts_free(o);
        return hr__fail(err, rc, "out of memory");
    }
    *out = o;
    return HR_OK;
}
