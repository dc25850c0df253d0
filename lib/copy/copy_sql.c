/*
 * copy_sql.c - the statements the copier sends. Identifiers go through
 * PQescapeIdentifier and literals through PQescapeLiteral (hr__sbuf_ident /
 * hr__sbuf_literal), with the connection's encoding.
 */
#include "copy_internal.h"

/*
 * The snapshot. An exported one must be set before any query of the
 * transaction. An own one is taken by the first statement, which reads the
 * WAL insert position after taking it: every transaction the snapshot sees
 * committed (its commit record was inserted) before that position. The
 * insert position rather than pg_current_wal_lsn (the write position): an
 * asynchronous commit is visible before its record is written out.
 */
void hr__sql_copy_begin(hr__sbuf *b, PGconn *conn, const char *snapshot)
{
    hr__sbuf_add(b, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; ");
    if (snapshot) {
        hr__sbuf_add(b, "SET TRANSACTION SNAPSHOT ");
        hr__sbuf_literal(b, conn, snapshot);
    } else {
        hr__sbuf_add(b, "SELECT pg_catalog.pg_current_wal_insert_lsn()");
    }
}

static void qualified(hr__sbuf *b, PGconn *conn, const hr__ctable *t)
{
    hr__sbuf_ident(b, conn, t->schema);
    hr__sbuf_add(b, ".");
    hr__sbuf_ident(b, conn, t->name);
}

static void tenant_filter(hr__sbuf *b, PGconn *conn, const hr_stream_opts *cfg)
{
    hr__sbuf_add(b, " WHERE ");
    hr__sbuf_ident(b, conn, cfg->tenant_column);
    hr__sbuf_add(b, " = ");
    hr__sbuf_literal(b, conn, cfg->tenant);
}

/*
 * One row per column of table t, in attribute order, as pgoutput lists
 * them (no dropped or generated columns): 0 name, 1 type OID, 2 the
 * tenant's row count (the same in every row; counted once).
 */
void hr__sql_copy_meta(hr__sbuf *b, PGconn *conn, const hr_stream_opts *cfg,
                       const hr__ctable *t)
{
    hr__sbuf_add(b, "SELECT a.attname, a.atttypid::pg_catalog.int8, "
                    "(SELECT pg_catalog.count(*) FROM ");
    qualified(b, conn, t);
    tenant_filter(b, conn, cfg);
    hr__sbuf_add(b, ") FROM pg_catalog.pg_attribute a "
                    "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
                    "JOIN pg_catalog.pg_namespace n "
                    "ON n.oid = c.relnamespace "
                    "WHERE n.nspname = ");
    hr__sbuf_literal(b, conn, t->schema);
    hr__sbuf_add(b, " AND c.relname = ");
    hr__sbuf_literal(b, conn, t->name);
    hr__sbuf_add(b, " AND a.attnum > 0 AND NOT a.attisdropped "
                    "AND a.attgenerated = '' ORDER BY a.attnum");
}

void hr__sql_copy_out(hr__sbuf *b, PGconn *conn, const hr_stream_opts *cfg,
                      const hr__ctable *t)
{
    hr__sbuf_add(b, "COPY (SELECT ");
    for (int k = 0; k < t->ncols; k++) {
        if (k)
            hr__sbuf_add(b, ", ");
        hr__sbuf_ident(b, conn, t->colnames[k]);
    }
    hr__sbuf_add(b, " FROM ");
    qualified(b, conn, t);
    tenant_filter(b, conn, cfg);
    hr__sbuf_add(b, ") TO STDOUT");
}
