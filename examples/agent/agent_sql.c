/*
 * agent_sql.c - the few plain queries the agent itself runs on the source
 * (not the library's replication connections): does a tenant's slot exist
 * and where is it confirmed, which tables a copy covers, the source's WAL
 * position for lag and catch-up. They are short and local, so they block;
 * a lost connection is reopened on the next query.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "agent.h"

static PGconn *conn_of(agent *a)
{
    PGconn *c = a->source_conn;
    if (c && PQstatus(c) == CONNECTION_OK)
        return c;
    if (c)
        PQfinish(c);
    a->source_conn = NULL;
    char ci[4096];
    snprintf(ci, sizeof ci, "%s connect_timeout=5", a->cfg->source);
    c = PQconnectdb(ci);
    if (PQstatus(c) != CONNECTION_OK) {
        agent_log("source query connection failed: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    a->source_conn = c;
    return c;
}

static PGresult *query(agent *a, const char *sql, int n, const char *const *p)
{
    PGconn *c = conn_of(a);
    if (!c)
        return NULL;
    PGresult *r = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        agent_log("source query failed: %s", PQerrorMessage(c));
        PQclear(r);
        return NULL;
    }
    return r;
}

static uint64_t parse_lsn(const char *s)
{
    unsigned hi = 0, lo = 0;
    if (!s || sscanf(s, "%X/%X", &hi, &lo) != 2)
        return 0;
    return ((uint64_t)hi << 32) | lo;
}

int agent_sql_slot(agent *a, const char *slot, int *exists, uint64_t *confirmed)
{
    const char *p[1] = {slot};
    PGresult *r = query(a,
                        "SELECT confirmed_flush_lsn FROM pg_replication_slots "
                        "WHERE slot_name = $1",
                        1, p);
    if (!r)
        return HR_EIO;
    *exists = PQntuples(r) > 0;
    *confirmed = *exists ? parse_lsn(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    return HR_OK;
}

int agent_sql_wal_lsn(agent *a, uint64_t *lsn)
{
    PGresult *r = query(a, "SELECT pg_current_wal_lsn()", 0, NULL);
    if (!r)
        return HR_EIO;
    *lsn = parse_lsn(PQgetvalue(r, 0, 0));
    PQclear(r);
    return HR_OK;
}

/* The tables a tenant's copy covers, as "schema.table": the explicit ones
 * plus every table of the schemas that has the tenant column (the rule of
 * hr_stream_opts_add_schema / hr_copier_opts_add_schema). */
int agent_sql_tables(agent *a, char ***names, size_t *n)
{
    const agent_config *cfg = a->cfg;
    char schemas[4096] = "{", *w = schemas + 1;
    const char *const *list = (const char *const *)cfg->schemas;
    size_t count = cfg->n_schemas;
    static const char *const dflt[] = {"public"};
    if (count == 0 && cfg->n_tables == 0) {
        list = dflt;
        count = 1;
    }
    for (size_t i = 0; i < count; i++) {
        size_t room = sizeof schemas - (size_t)(w - schemas) - 2;
        int k = snprintf(w, room, "%s\"%s\"", i ? "," : "", list[i]);
        if (k < 0 || (size_t)k >= room)
            return HR_EINVAL;
        w += k;
    }
    strcpy(w, "}");
    const char *col = cfg->tenant_column ? cfg->tenant_column : "tenant_id";
    const char *p[2] = {schemas, col};
    PGresult *r =
        query(a,
              "SELECT n.nspname || '.' || c.relname FROM pg_class c "
              "JOIN pg_namespace n ON n.oid = c.relnamespace "
              "JOIN pg_attribute at ON at.attrelid = c.oid AND at.attname = $2 "
              "AND NOT at.attisdropped "
              "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
              "AND n.nspname = ANY ($1::text[]) ORDER BY 1",
              2, p);
    if (!r)
        return HR_EIO;
    size_t rows = (size_t)PQntuples(r);
    char **out = calloc(rows + cfg->n_tables + 1, sizeof *out);
    if (!out) {
        PQclear(r);
        return HR_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < rows; i++)
        out[k++] = strdup(PQgetvalue(r, (int)i, 0));
    for (size_t i = 0; i < cfg->n_tables; i++) {
        /* "table" alone is public.table, as for the stream and copier */
        const char *name = cfg->tables[i];
        size_t len = strlen(name) + sizeof "public.";
        out[k] = malloc(len);
        if (out[k])
            snprintf(out[k], len, "%s%s", strchr(name, '.') ? "" : "public.",
                     name);
        k++;
    }
    PQclear(r);
    for (size_t i = 0; i < k; i++)
        if (!out[i]) {
            for (size_t j = 0; j < k; j++)
                free(out[j]);
            free(out);
            return HR_ENOMEM;
        }
    *names = out;
    *n = k;
    return HR_OK;
}

void agent_sql_close(agent *a)
{
    if (a->source_conn)
        PQfinish(a->source_conn);
    a->source_conn = NULL;
}
