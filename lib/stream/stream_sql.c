/*
 * stream_sql.c - every SQL statement and replication command the stream
 * sends. Identifiers go through PQescapeIdentifier and literals through
 * PQescapeLiteral, with the connection's encoding; nothing from the host is
 * pasted into SQL unquoted.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "stream_internal.h"

/* ---- growable string ---- */

void hr__sbuf_init(hr__sbuf *b, const hr_env *env)
{
    memset(b, 0, sizeof *b);
    b->env = env;
}

void hr__sbuf_free(hr__sbuf *b)
{
    hr__free(b->env, b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

static int sbuf_reserve(hr__sbuf *b, size_t n)
{
    if (b->failed)
        return 0;
    if (b->len + n + 1 <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *p = hr__realloc(b->env, b->p, cap);
    if (!p) {
        b->failed = HR_ENOMEM;
        return 0;
    }
    b->p = p;
    b->cap = cap;
    return 1;
}

void hr__sbuf_addn(hr__sbuf *b, const char *s, size_t n)
{
    if (!sbuf_reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void hr__sbuf_add(hr__sbuf *b, const char *s)
{
    hr__sbuf_addn(b, s, strlen(s));
}

void hr__sbuf_addf(hr__sbuf *b, const char *fmt, ...)
{
    char small[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = HR_EINVAL;
        return;
    }
    if ((size_t)n < sizeof small) {
        hr__sbuf_addn(b, small, (size_t)n);
        return;
    }
    if (!sbuf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* libpq returns NULL for an out-of-memory and for input that is not valid
 * in the connection's encoding; an empty PQerrorMessage tells them apart
 * only loosely, so a non-empty message counts as bad input. */
static void add_escaped(hr__sbuf *b, PGconn *conn, const char *s, int ident)
{
    if (b->failed)
        return;
    size_t len = strlen(s);
    char *q = ident ? PQescapeIdentifier(conn, s, len)
                    : PQescapeLiteral(conn, s, len);
    if (!q) {
        const char *m = PQerrorMessage(conn);
        b->failed =
            m && *m && !strstr(m, "out of memory") ? HR_EINVAL : HR_ENOMEM;
        return;
    }
    hr__sbuf_add(b, q);
    PQfreemem(q);
}

void hr__sbuf_ident(hr__sbuf *b, PGconn *conn, const char *s)
{
    add_escaped(b, conn, s, 1);
}

void hr__sbuf_literal(hr__sbuf *b, PGconn *conn, const char *s)
{
    add_escaped(b, conn, s, 0);
}

int hr__sbuf_take(hr__sbuf *b, char **out)
{
    *out = NULL;
    int rc = b->failed;
    if (!rc && !b->p)
        hr__sbuf_add(b, "");
    rc = b->failed;
    if (rc) {
        hr__sbuf_free(b);
        return rc;
    }
    *out = b->p;
    b->p = NULL;
    b->len = b->cap = 0;
    return HR_OK;
}

/* ---- LSNs ---- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parse 1..8 hex digits up to `stop`; advance *s past them. */
static int parse_hex32(const char **s, char stop, uint32_t *out)
{
    uint32_t v = 0;
    int n = 0;
    const char *p = *s;
    for (; *p && *p != stop; p++, n++) {
        int d = hex_digit(*p);
        if (d < 0 || n == 8)
            return 0;
        v = (v << 4) | (uint32_t)d;
    }
    if (n == 0)
        return 0;
    *s = p;
    *out = v;
    return 1;
}

int hr__lsn_parse(const char *s, uint64_t *out)
{
    uint32_t hi, lo;
    if (!s || !parse_hex32(&s, '/', &hi) || *s != '/')
        return HR_EINVAL;
    s++;
    if (!parse_hex32(&s, '\0', &lo) || *s != '\0')
        return HR_EINVAL;
    *out = ((uint64_t)hi << 32) | lo;
    return HR_OK;
}

void hr__lsn_format(uint64_t lsn, char out[24])
{
    snprintf(out, 24, "%" PRIX32 "/%" PRIX32, (uint32_t)(lsn >> 32),
             (uint32_t)lsn);
}

/* ---- statements ---- */

void hr__sql_probe(hr__sbuf *b, PGconn *conn, const hr_stream_opts *cfg)
{
    hr__sbuf_add(b, "SELECT pg_catalog.current_setting('wal_level'), "
                    "pg_catalog.current_database(), "
                    "EXISTS (SELECT 1 FROM pg_catalog.pg_publication "
                    "WHERE pubname = ");
    hr__sbuf_literal(b, conn, cfg->publication);
    hr__sbuf_add(b, "), s.slot_type, s.plugin, s.database, "
                    "s.confirmed_flush_lsn, s.active_pid "
                    "FROM (VALUES (1)) AS one(x) "
                    "LEFT JOIN pg_catalog.pg_replication_slots s "
                    "ON s.slot_name = ");
    hr__sbuf_literal(b, conn, cfg->slot);
}

/* A comma-separated list of literals. */
static void literal_list(hr__sbuf *b, PGconn *conn, const hr__strlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            hr__sbuf_add(b, ", ");
        hr__sbuf_literal(b, conn, l->items[i]);
    }
}

/*
 * One row per candidate table, ordered by schema and name:
 *   0 schema, 1 name, 2 exists, 3 relreplident, 4 has the tenant column,
 *   5 the tenant column is in the replica identity, 6 in the publication.
 * Candidates are the explicit tables (present or not, so a missing one can
 * be named) and every ordinary or partitioned table (not a partition) of
 * the schemas that has the tenant column.
 */
void hr__sql_tables(hr__sbuf *b, PGconn *conn, const hr_stream_opts *cfg)
{
    const char *col = cfg->tenant_column;
    hr__sbuf_add(b, "WITH cand(nsp, rel) AS (");
    int any = 0;
    if (cfg->table_names.n) {
        hr__sbuf_add(b, "VALUES ");
        for (size_t i = 0; i < cfg->table_names.n; i++) {
            hr__sbuf_add(b, i ? ", (" : "(");
            hr__sbuf_literal(b, conn, cfg->table_schemas.items[i]);
            hr__sbuf_add(b, "::pg_catalog.name, ");
            hr__sbuf_literal(b, conn, cfg->table_names.items[i]);
            hr__sbuf_add(b, "::pg_catalog.name)");
        }
        any = 1;
    }
    if (cfg->schemas.n) {
        if (any)
            hr__sbuf_add(b, " UNION ");
        hr__sbuf_add(b, "SELECT n.nspname, c.relname "
                        "FROM pg_catalog.pg_class c "
                        "JOIN pg_catalog.pg_namespace n "
                        "ON n.oid = c.relnamespace "
                        "WHERE c.relkind IN ('r', 'p') "
                        "AND NOT c.relispartition AND n.nspname IN (");
        literal_list(b, conn, &cfg->schemas);
        hr__sbuf_add(b, ") AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a "
                        "WHERE a.attrelid = c.oid AND a.attnum > 0 "
                        "AND NOT a.attisdropped AND a.attname = ");
        hr__sbuf_literal(b, conn, col);
        hr__sbuf_add(b, ")");
    }
    hr__sbuf_add(
        b, ") SELECT cand.nsp, cand.rel, c.oid IS NOT NULL, c.relreplident, "
           "a.attnum IS NOT NULL, "
           "CASE WHEN c.oid IS NULL OR a.attnum IS NULL THEN false "
           "WHEN c.relreplident = 'f' THEN true "
           "WHEN c.relreplident = 'd' THEN EXISTS (SELECT 1 "
           "FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid "
           "AND i.indisprimary AND a.attnum = ANY (i.indkey)) "
           "WHEN c.relreplident = 'i' THEN EXISTS (SELECT 1 "
           "FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid "
           "AND i.indisreplident AND a.attnum = ANY (i.indkey)) "
           "ELSE false END, "
           "EXISTS (SELECT 1 FROM pg_catalog.pg_publication_tables pt "
           "WHERE pt.pubname = ");
    hr__sbuf_literal(b, conn, cfg->publication);
    hr__sbuf_add(b, " AND pt.schemaname = cand.nsp "
                    "AND pt.tablename = cand.rel) "
                    "FROM cand "
                    "LEFT JOIN pg_catalog.pg_namespace n "
                    "ON n.nspname = cand.nsp "
                    "LEFT JOIN pg_catalog.pg_class c "
                    "ON c.relnamespace = n.oid AND c.relname = cand.rel "
                    "AND c.relkind IN ('r', 'p') "
                    "LEFT JOIN pg_catalog.pg_attribute a "
                    "ON a.attrelid = c.oid AND a.attnum > 0 "
                    "AND NOT a.attisdropped AND a.attname = ");
    hr__sbuf_literal(b, conn, col);
    hr__sbuf_add(b, " ORDER BY 1, 2");
}

void hr__sql_publication(hr__sbuf *b, PGconn *conn, const hr_stream_opts *cfg,
                         const hr__table *tables, size_t n, int create)
{
    hr__sbuf_add(b, create ? "CREATE PUBLICATION " : "ALTER PUBLICATION ");
    hr__sbuf_ident(b, conn, cfg->publication);
    hr__sbuf_add(b, create ? " FOR TABLE " : " ADD TABLE ");
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        if (tables[i].in_publication)
            continue;
        if (!first)
            hr__sbuf_add(b, ", ");
        first = 0;
        hr__sbuf_ident(b, conn, tables[i].schema);
        hr__sbuf_add(b, ".");
        hr__sbuf_ident(b, conn, tables[i].name);
        if (cfg->mode == HR_STREAM_DEDICATED) {
            hr__sbuf_add(b, " WHERE (");
            hr__sbuf_ident(b, conn, cfg->tenant_column);
            hr__sbuf_add(b, " = ");
            hr__sbuf_literal(b, conn, cfg->tenant);
            hr__sbuf_add(b, ")");
        }
    }
}

void hr__sql_create_slot(hr__sbuf *b, PGconn *conn, const hr_stream_opts *cfg)
{
    hr__sbuf_add(b, "CREATE_REPLICATION_SLOT ");
    hr__sbuf_ident(b, conn, cfg->slot);
    hr__sbuf_add(b, cfg->export_snapshot
                        ? " LOGICAL pgoutput EXPORT_SNAPSHOT"
                        : " LOGICAL pgoutput NOEXPORT_SNAPSHOT");
}

void hr__sql_start(hr__sbuf *b, PGconn *conn, const hr_stream_opts *cfg,
                   uint64_t lsn)
{
    char at[24];
    hr__lsn_format(lsn, at);
    hr__sbuf_add(b, "START_REPLICATION SLOT ");
    hr__sbuf_ident(b, conn, cfg->slot);
    hr__sbuf_addf(b, " LOGICAL %s (proto_version '%d', publication_names ", at,
                  cfg->proto_version);
    /* The option value is a list of identifiers (SplitIdentifierString),
     * so the name is quoted as an identifier, then as a literal. The
     * replication scanner knows no E'' strings; PQescapeLiteral makes one
     * only for a backslash, which hr_stream_opts_set_publication refuses. */
    if (!b->failed) {
        hr__sbuf quoted;
        hr__sbuf_init(&quoted, b->env);
        hr__sbuf_ident(&quoted, conn, cfg->publication);
        char *name = NULL;
        int rc = hr__sbuf_take(&quoted, &name);
        if (rc != HR_OK)
            b->failed = rc;
        else
            hr__sbuf_literal(b, conn, name);
        hr__free(b->env, name);
    }
    hr__sbuf_addf(b, ", binary '%s', messages 'true'",
                  cfg->binary ? "true" : "false");
    if (cfg->proto_version >= 2)
        hr__sbuf_add(b, ", streaming 'on'");
    hr__sbuf_add(b, ")");
}

void hr__sql_drop_slot(hr__sbuf *b, PGconn *conn, const hr_stream_opts *cfg)
{
    hr__sbuf_add(b, "SELECT pg_catalog.pg_drop_replication_slot(slot_name) "
                    "FROM pg_catalog.pg_replication_slots WHERE slot_name = ");
    hr__sbuf_literal(b, conn, cfg->slot);
}

void hr__sql_drop_publication(hr__sbuf *b, PGconn *conn,
                              const hr_stream_opts *cfg)
{
    hr__sbuf_add(b, "DROP PUBLICATION IF EXISTS ");
    hr__sbuf_ident(b, conn, cfg->publication);
}
