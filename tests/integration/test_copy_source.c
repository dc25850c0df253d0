/*
 * test_copy_source.c - the initial copy's source side (hr_copier) against a
 * real PostgreSQL 15 (tests/support/with-servers --pg source):
 *
 *   - a copier of tenant A yields exactly A's rows of every table that has
 *     the tenant column (two tenants in the same tables; every covered
 *     type, NULLs, a large TOASTed value), each value as the direct query's
 *     text converted the way pgoutput values are; table begin / end with
 *     the right counts, batches of at most rows_per_batch, progress 100 %;
 *     backpressure (on_batch's HR_EAGAIN) loses and doubles nothing;
 *   - without a snapshot name the reported LSN is sane: at least a commit
 *     made before, below one made after, whose row is not copied;
 *   - with the exported snapshot of a real hr_stream (export_snapshot) the
 *     rows inserted after the slot's creation are not copied, the stream
 *     delivers them, and its batches (hr_stream_to_batch, i.e.
 *     hr_pgtxn_to_batch) equal the copy's rows of the same ids;
 *   - an invalid or unknown snapshot name is HR_ESTATE; the skip list is
 *     honoured; a missing table and one without the tenant column are
 *     HR_ESCHEMA naming them.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch_internal.h"
#include "pgoutput/pgvalue.h"
#include "test_stream_common.h"

static hr_env *env;

static void setup(void)
{
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
    log_to_stderr(env);
}

static void teardown(void)
{
    hr_env_free(env);
}

/* ---- the source data ---- */

static const char typed_columns[] =
    "tenant_id, id, b, i2, i4, i8, f4, f8, n, t, by, d, ts, tstz, u, j, jb, "
    "big";

static void make_tables(PGconn *conn)
{
    sql(conn, "%s",
        "CREATE TABLE typed (tenant_id text NOT NULL, id int NOT NULL, "
        "b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, "
        "n numeric, t text, by bytea, d date, ts timestamp, "
        "tstz timestamptz, u uuid, j json, jb jsonb, big text, "
        "gen int GENERATED ALWAYS AS (id * 2) STORED, "
        "PRIMARY KEY (tenant_id, id));"
        "CREATE TABLE plain (tenant_id text NOT NULL, id int NOT NULL, "
        "note text, PRIMARY KEY (tenant_id, id));"
        "CREATE TABLE other (id int PRIMARY KEY, note text);"
        /* rows lo..hi of tenant ten: every type, special values in turn */
        "CREATE FUNCTION fill(ten text, lo int, hi int) RETURNS void "
        "LANGUAGE sql AS $$ INSERT INTO typed (tenant_id, id, b, i2, i4, i8, "
        "f4, f8, n, t, by, d, ts, tstz, u, j, jb, big) SELECT ten, g, "
        "g % 2 = 0, (g * 7 % 32767)::int2, g * 100003, "
        "g::int8 * 10000000019, "
        "CASE g % 4 WHEN 0 THEN 'NaN'::float4 WHEN 1 THEN '-0'::float4 "
        "WHEN 2 THEN 'Infinity'::float4 ELSE g / 3.0 END, "
        "CASE g % 4 WHEN 0 THEN '-Infinity'::float8 WHEN 1 THEN "
        "'-0'::float8 WHEN 2 THEN 'NaN'::float8 ELSE g / 7.0 END, "
        "CASE g % 3 WHEN 0 THEN 'NaN'::numeric ELSE g * 1.000000001 - "
        "1e20 END, "
        "E'tab\\there\\nline\\\\back\\r' || ten || g, "
        "decode(md5(g::text), 'hex') || '\\x005c0a09'::bytea, "
        "CASE g % 5 WHEN 0 THEN '0044-03-15 BC'::date WHEN 1 THEN "
        "'infinity'::date ELSE '2024-01-01'::date + g END, "
        "CASE g % 5 WHEN 0 THEN '-infinity'::timestamp ELSE "
        "'2024-01-01 12:34:56.789'::timestamp + g * interval '1 hour 1 s' "
        "END, "
        "CASE g % 5 WHEN 1 THEN 'infinity'::timestamptz WHEN 2 THEN "
        "'0100-02-03 04:05:06+02 BC'::timestamptz ELSE "
        "'2024-06-01 00:00:00.5+05'::timestamptz + g * interval '1 min' END, "
        "md5(ten || g)::uuid, json_build_object('g', g, 's', E'a\\tb'), "
        "jsonb_build_object('k', g, 'v', ARRAY[1, 2]), "
        "CASE WHEN g = lo THEN (SELECT string_agg(md5(ten || x), '') FROM "
        "generate_series(1, 10000) x) END "
        "FROM generate_series(lo, hi) g $$");
}

/* Both tenants: 1..40 and an all-NULL row 1000, and plain rows. */
static void fill_both(PGconn *conn)
{
    sql(conn, "SELECT fill('A', 1, 40); SELECT fill('B', 1, 40);"
              "INSERT INTO typed (tenant_id, id) VALUES ('A', 1000), "
              "('B', 1000);"
              "INSERT INTO plain SELECT t, g, 'p' || g FROM "
              "generate_series(1, 25) g, (VALUES ('A'), ('B')) v(t);"
              "INSERT INTO other VALUES (1, 'x')");
}

/* ---- comparing rows ---- */

/* Cell (col, ra) of a equals cell (col, rb) of b, state and value. */
static int cell_equal(const hr_batch *a, size_t ra, const hr_batch *b,
                      size_t rb, int col)
{
    int sa = hr_batch_value_state(a, col, ra);
    if (sa != hr_batch_value_state(b, col, rb))
        return 0;
    if (sa != HR_VALUE_PRESENT)
        return 1;
    switch (hr__storage_of_type(hr_batch_column_type(a, col))) {
    case HR__STORE_BOOL: {
        int x, y;
        hr_batch_get_bool(a, col, ra, &x);
        hr_batch_get_bool(b, col, rb, &y);
        return x == y;
    }
    case HR__STORE_INT: {
        int64_t x, y;
        hr_batch_get_int64(a, col, ra, &x);
        hr_batch_get_int64(b, col, rb, &y);
        return x == y;
    }
    case HR__STORE_FLOAT4: {
        float x, y;
        hr_batch_get_float4(a, col, ra, &x);
        hr_batch_get_float4(b, col, rb, &y);
        return memcmp(&x, &y, sizeof x) == 0;
    }
    case HR__STORE_FLOAT8: {
        double x, y;
        hr_batch_get_float8(a, col, ra, &x);
        hr_batch_get_float8(b, col, rb, &y);
        return memcmp(&x, &y, sizeof x) == 0;
    }
    case HR__STORE_UUID: {
        uint8_t x[16], y[16];
        hr_batch_get_uuid(a, col, ra, x);
        hr_batch_get_uuid(b, col, rb, y);
        return memcmp(x, y, 16) == 0;
    }
    default: {
        const uint8_t *x, *y;
        size_t xl, yl;
        hr_batch_get_bytes(a, col, ra, &x, &xl);
        hr_batch_get_bytes(b, col, rb, &y, &yl);
        return xl == yl && memcmp(x, y, xl) == 0;
    }
    }
}

static void same_columns(const hr_batch *a, const hr_batch *b)
{
    ck_assert_int_eq(hr_batch_columns(a), hr_batch_columns(b));
    for (int k = 0; k < hr_batch_columns(a); k++) {
        ck_assert_str_eq(hr_batch_column_name(a, k),
                         hr_batch_column_name(b, k));
        ck_assert_uint_eq(hr_batch_column_type(a, k),
                          hr_batch_column_type(b, k));
        ck_assert_int_eq(hr_batch_column_nullable(a, k),
                         hr_batch_column_nullable(b, k));
    }
    ck_assert_str_eq(hr_batch_schema_name(a), hr_batch_schema_name(b));
    ck_assert_str_eq(hr_batch_table_name(a), hr_batch_table_name(b));
}

static int64_t id_of(const hr_batch *b, size_t row)
{
    int64_t id = -1;
    ck_assert_str_eq(hr_batch_column_name(b, 2), "id");
    ck_assert_int_eq(hr_batch_get_int64(b, 2, row, &id), HR_OK);
    return id;
}

/* ---- a recording host ---- */

typedef struct got_table {
    char name[64];
    uint64_t expected, rows, bytes;
    int ended;
    hr_batch **batches;
    size_t nb;
} got_table;

typedef struct host {
    got_table t[8];
    int nt;
    size_t max_batch_rows;
    int push_back; /* on_batch says HR_EAGAIN every other offer */
    int offers;
    PGconn *writer;     /* commit a row of tenant A when the first table
                           begins (after the snapshot was taken) */
    char after_lsn[32]; /* pg_current_wal_lsn() after that commit */
} host;

static int on_begin(void *ctx, const char *schema, const char *table,
                    uint64_t expected)
{
    host *h = ctx;
    ck_assert_str_eq(schema, "public");
    ck_assert_int_lt(h->nt, 8);
    got_table *t = &h->t[h->nt++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", table);
    t->expected = expected;
    if (h->writer && h->nt == 1) {
        sql(h->writer, "INSERT INTO plain VALUES ('A', 9999, 'late'); "
                       "INSERT INTO typed (tenant_id, id) VALUES ('A', 9999)");
        sql_value(h->writer, h->after_lsn, sizeof h->after_lsn,
                  "SELECT pg_current_wal_lsn()");
    }
    return HR_OK;
}

static int on_batch(void *ctx, const char *schema, const char *table,
                    hr_batch *b)
{
    host *h = ctx;
    if (h->push_back && h->offers++ % 2 == 0)
        return HR_EAGAIN;
    got_table *t = &h->t[h->nt - 1];
    ck_assert_str_eq(schema, "public");
    ck_assert_str_eq(table, t->name);
    ck_assert_int_eq(t->ended, 0);
    ck_assert_str_eq(hr_batch_table_name(b), table);
    ck_assert_str_eq(hr_batch_schema_name(b), schema);
    ck_assert_str_eq(hr_batch_column_name(b, 0), "_hr_op");
    ck_assert_uint_ge(hr_batch_rows(b), 1);
    ck_assert_uint_le(hr_batch_rows(b), h->max_batch_rows);
    for (size_t r = 0; r < hr_batch_rows(b); r++) {
        int64_t op;
        ck_assert_int_eq(hr_batch_get_int64(b, 0, r, &op), HR_OK);
        ck_assert_int_eq(op, 1);
    }
    t->batches = realloc(t->batches, (t->nb + 1) * sizeof *t->batches);
    t->batches[t->nb++] = b; /* ours now */
    return HR_OK;
}

static int on_end(void *ctx, const char *schema, const char *table,
                  uint64_t rows, uint64_t bytes)
{
    host *h = ctx;
    (void)schema;
    got_table *t = &h->t[h->nt - 1];
    ck_assert_str_eq(table, t->name);
    t->rows = rows;
    t->bytes = bytes;
    t->ended = 1;
    return HR_OK;
}

static void host_free(host *h)
{
    for (int i = 0; i < h->nt; i++) {
        for (size_t k = 0; k < h->t[i].nb; k++)
            hr_batch_free(h->t[i].batches[k]);
        free(h->t[i].batches);
    }
}

static const got_table *table_of(const host *h, const char *name)
{
    for (int i = 0; i < h->nt; i++)
        if (!strcmp(h->t[i].name, name))
            return &h->t[i];
    return NULL;
}

/* Find the row with `id` among a table's batches. */
static int find_id(const got_table *t, int64_t id, const hr_batch **b,
                   size_t *row)
{
    for (size_t k = 0; k < t->nb; k++)
        for (size_t r = 0; r < hr_batch_rows(t->batches[k]); r++)
            if (id_of(t->batches[k], r) == id) {
                *b = t->batches[k];
                *row = r;
                return 1;
            }
    return 0;
}

static size_t total_rows(const got_table *t)
{
    size_t n = 0;
    for (size_t k = 0; k < t->nb; k++)
        n += hr_batch_rows(t->batches[k]);
    return n;
}

static hr_copier_opts *copier_opts(const char *ci, const char *tenant,
                                   size_t rows)
{
    hr_copier_opts *o;
    ck_assert_int_eq(hr_copier_opts_new(env, &o), HR_OK);
    ck_assert_int_eq(hr_copier_opts_set_conninfo(o, ci), HR_OK);
    ck_assert_int_eq(hr_copier_opts_set_tenant(o, tenant), HR_OK);
    ck_assert_int_eq(hr_copier_opts_set_rows_per_batch(o, rows), HR_OK);
    return o;
}

static hr_copier *copier_for(hr_copier_opts *o, host *h)
{
    hr_copier_callbacks cb = {HR_COPIER_CALLBACKS_VERSION, h, on_begin,
                              on_batch, on_end};
    hr_copier *c = NULL;
    int rc = hr_copier_new(env, o, &cb, &c);
    ck_assert_msg(rc == HR_OK, "hr_copier_new: %s", hr_env_errmsg(env));
    hr_copier_opts_free(o);
    return c;
}

static void run_copier(hr_copier *c)
{
    int rc = hr_copier_run(c, 60000);
    ck_assert_msg(rc == HR_OK, "hr_copier_run: %s: %s", hr_status_name(rc),
                  hr_copier_errmsg(c));
    ck_assert_msg(hr_copier_done(c), "not done after 60 s");
}

/*
 * Every row of tenant `tenant` of `table` as the direct query gives it
 * (text values, the session settings the library uses), compared with the
 * copy's row of the same id, converted like pgoutput's values.
 */
static void matches_direct_query(PGconn *conn, const got_table *t,
                                 const char *table, const char *columns,
                                 const char *tenant)
{
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_ge(t->nb, 1);
    sql(conn, "SET datestyle = ISO; SET timezone = UTC; "
              "SET extra_float_digits = 3");
    char q[512];
    snprintf(q, sizeof q, "SELECT %s FROM %s WHERE tenant_id = '%s'", columns,
             table, tenant);
    PGresult *res = PQexec(conn, q);
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    const int n = PQntuples(res);
    ck_assert_uint_eq(total_rows(t), (size_t)n);
    ck_assert_uint_eq(t->rows, (uint64_t)n);
    ck_assert_uint_eq(t->expected, (uint64_t)n);

    const hr_batch *first = t->batches[0];
    ck_assert_int_eq(hr_batch_columns(first), PQnfields(res) + 1);
    hr_batch *want;
    ck_assert_int_eq(hr_batch_new(env, &want), HR_OK);
    ck_assert_int_eq(hr_batch_set_relation(want, "public", table), HR_OK);
    ck_assert_int_eq(hr_batch_add_column(want, "_hr_op", HR_OID_INT2, 0), 0);
    for (int k = 0; k < PQnfields(res); k++) {
        ck_assert_int_eq(
            hr_batch_add_column(want, PQfname(res, k), PQftype(res, k), 1),
            k + 1);
    }
    same_columns(first, want);
    for (int r = 0; r < n; r++) {
        ck_assert_int_eq(hr_batch_append_int64(want, 0, 1), HR_OK);
        for (int k = 0; k < PQnfields(res); k++) {
            int rc =
                PQgetisnull(res, r, k)
                    ? hr_batch_append_null(want, k + 1)
                    : hr__pgvalue_append(want, k + 1, 't',
                                         (const uint8_t *)PQgetvalue(res, r, k),
                                         (size_t)PQgetlength(res, r, k));
            ck_assert_msg(rc == HR_OK, "%s", hr_batch_errmsg(want));
        }
        const hr_batch *b;
        size_t row;
        ck_assert_msg(find_id(t, id_of(want, (size_t)r), &b, &row),
                      "id %" PRId64 " not copied", id_of(want, (size_t)r));
        for (int k = 0; k < hr_batch_columns(want); k++)
            ck_assert_msg(cell_equal(b, row, want, (size_t)r, k),
                          "%s id %" PRId64 " column %s differs", table,
                          id_of(want, (size_t)r),
                          hr_batch_column_name(want, k));
    }
    hr_batch_free(want);
    PQclear(res);
}

START_TEST(copies_exactly_the_tenant_in_its_own_snapshot)
{
    char ci[512];
    fresh_db("cp_own", ci, sizeof ci);
    PGconn *conn = db_connect(ci);
    make_tables(conn);
    fill_both(conn);
    char before[32];
    sql_value(conn, before, sizeof before, "SELECT pg_current_wal_lsn()");

    host h = {.max_batch_rows = 7, .push_back = 1, .writer = conn};
    hr_copier *c = copier_for(copier_opts(ci, "A", 7), &h);
    run_copier(c);

    /* tables in name order; "other" has no tenant column */
    ck_assert_int_eq(h.nt, 2);
    ck_assert_str_eq(h.t[0].name, "plain");
    ck_assert_str_eq(h.t[1].name, "typed");
    ck_assert(h.t[0].ended && h.t[1].ended);
    ck_assert_uint_gt(h.offers, 10); /* pushed back, offered again */

    /* the snapshot LSN: after the commit before, before the one after */
    uint64_t lsn = hr_copier_snapshot_lsn(c);
    ck_assert_uint_ge(lsn, parse_lsn(before));
    ck_assert_uint_lt(lsn, parse_lsn(h.after_lsn));
    const hr_batch *b;
    size_t row;
    ck_assert(!find_id(table_of(&h, "plain"), 9999, &b, &row));
    ck_assert(!find_id(table_of(&h, "typed"), 9999, &b, &row));

    /* exactly A's rows (A's late rows are excluded by the same query) */
    sql(conn, "DELETE FROM plain WHERE id = 9999; "
              "DELETE FROM typed WHERE id = 9999");
    matches_direct_query(conn, table_of(&h, "plain"), "plain",
                         "tenant_id, id, note", "A");
    matches_direct_query(conn, table_of(&h, "typed"), "typed", typed_columns,
                         "A");
    /* the TOASTed value came whole */
    ck_assert(find_id(table_of(&h, "typed"), 1, &b, &row));
    const uint8_t *big;
    size_t big_len;
    ck_assert_int_eq(hr_batch_get_bytes(b, 18, row, &big, &big_len), HR_OK);
    ck_assert_uint_eq(big_len, 320000);

    uint64_t done, expected, bytes;
    double pct;
    ck_assert_int_eq(hr_copier_progress(c, &done, &expected, &bytes, &pct),
                     HR_OK);
    ck_assert_uint_eq(done, 25 + 41);
    ck_assert_uint_eq(expected, 25 + 41);
    ck_assert_uint_eq(bytes, h.t[0].bytes + h.t[1].bytes);
    ck_assert_uint_gt(bytes, 320000);
    ck_assert(pct == 100.0);
    ck_assert_int_eq(hr_copier_fd(c), -1);
    ck_assert_int_eq(hr_copier_timeout_ms(c, mono_ns()), -1);
    ck_assert_int_eq(hr_copier_step(c, mono_ns()), HR_OK);
    hr_copier_free(c);
    host_free(&h);

    /* tenant B, one table skipped, an explicit table list */
    host hb = {.max_batch_rows = 1000};
    hr_copier_opts *o = copier_opts(ci, "B", 1000);
    ck_assert_int_eq(hr_copier_opts_add_table(o, "public.plain"), HR_OK);
    ck_assert_int_eq(hr_copier_opts_add_table(o, "typed"), HR_OK);
    ck_assert_int_eq(hr_copier_opts_add_skip_table(o, "plain"), HR_OK);
    ck_assert_int_eq(hr_copier_opts_add_skip_table(o, "public.nothing"), HR_OK);
    c = copier_for(o, &hb);
    run_copier(c);
    ck_assert_int_eq(hb.nt, 1);
    ck_assert_str_eq(hb.t[0].name, "typed");
    ck_assert_uint_eq(hb.t[0].nb, 1);
    matches_direct_query(conn, table_of(&hb, "typed"), "typed", typed_columns,
                         "B");
    hr_copier_free(c);
    host_free(&hb);

    /* priorities: "typed" first; the last priority set for a table wins */
    host hp = {.max_batch_rows = 1000};
    o = copier_opts(ci, "B", 1000);
    ck_assert_int_eq(hr_copier_opts_set_table_priority(o, "plain", 5), HR_OK);
    ck_assert_int_eq(hr_copier_opts_set_table_priority(o, "public.typed", 2),
                     HR_OK);
    ck_assert_int_eq(hr_copier_opts_set_table_priority(o, "public.plain", -1),
                     HR_OK);
    ck_assert_int_eq(hr_copier_opts_set_table_priority(o, "public.nothing", 9),
                     HR_OK);
    c = copier_for(o, &hp);
    run_copier(c);
    ck_assert_int_eq(hp.nt, 2);
    ck_assert_str_eq(hp.t[0].name, "typed");
    ck_assert_str_eq(hp.t[1].name, "plain");
    ck_assert(hp.t[0].ended && hp.t[1].ended);
    hr_copier_free(c);
    host_free(&hp);
    PQfinish(conn);
}
END_TEST

START_TEST(schema_errors_name_the_table)
{
    char ci[512];
    fresh_db("cp_schema", ci, sizeof ci);
    PGconn *conn = db_connect(ci);
    make_tables(conn);
    static const struct {
        const char *table;
        const char *needle;
    } cases[] = {{"public.missing", "\"missing\" does not exist"},
                 {"nosuch.plain", "\"nosuch\".\"plain\" does not exist"},
                 {"other", "\"other\" has no column \"tenant_id\""}};
    for (size_t i = 0; i < 3; i++) {
        host h = {.max_batch_rows = 10};
        hr_copier_opts *o = copier_opts(ci, "A", 10);
        ck_assert_int_eq(hr_copier_opts_add_table(o, "plain"), HR_OK);
        ck_assert_int_eq(hr_copier_opts_add_table(o, cases[i].table), HR_OK);
        hr_copier *c = copier_for(o, &h);
        int rc = hr_copier_run(c, 30000);
        ck_assert_int_eq(rc, HR_ESCHEMA);
        ck_assert_msg(strstr(hr_copier_errmsg(c), cases[i].needle), "%s",
                      hr_copier_errmsg(c));
        ck_assert_int_eq(h.nt, 0); /* found before any table began */
        ck_assert_int_eq(hr_copier_step(c, mono_ns()), HR_ESCHEMA);
        ck_assert_int_eq(hr_copier_done(c), 0);
        hr_copier_free(c);
    }
    /* a tenant column of another name */
    host h = {.max_batch_rows = 10};
    hr_copier_opts *o = copier_opts(ci, "A", 10);
    ck_assert_int_eq(hr_copier_opts_set_tenant_column(o, "org"), HR_OK);
    ck_assert_int_eq(hr_copier_opts_add_table(o, "plain"), HR_OK);
    hr_copier *c = copier_for(o, &h);
    ck_assert_int_eq(hr_copier_run(c, 30000), HR_ESCHEMA);
    ck_assert_ptr_nonnull(strstr(hr_copier_errmsg(c), "no column \"org\""));
    hr_copier_free(c);
    /* no privilege on the table; a role that does not exist */
    sql(conn, "DROP ROLE IF EXISTS hr_nopriv; CREATE ROLE hr_nopriv LOGIN");
    static const char *const users[] = {"hr_nopriv", "hr_nosuchrole"};
    for (int i = 0; i < 2; i++) {
        char uci[600];
        snprintf(uci, sizeof uci, "%s user=%s", ci, users[i]);
        o = copier_opts(uci, "A", 10);
        ck_assert_int_eq(hr_copier_opts_add_table(o, "plain"), HR_OK);
        c = copier_for(o, &h);
        int rc = hr_copier_run(c, 30000);
        ck_assert_msg(rc == HR_EAUTH, "%s: %s: %s", users[i],
                      hr_status_name(rc), hr_copier_errmsg(c));
        hr_copier_free(c);
    }
    /* a schema without tables: done at once, nothing copied */
    sql(conn, "CREATE SCHEMA empty");
    o = copier_opts(ci, "A", 10);
    ck_assert_int_eq(hr_copier_opts_add_schema(o, "empty"), HR_OK);
    c = copier_for(o, &h);
    run_copier(c);
    ck_assert_int_eq(h.nt, 0);
    hr_copier_free(c);
    PQfinish(conn);
}
END_TEST

/* ---- against a real stream's exported snapshot ---- */

typedef struct streamed {
    hr_batch *batch; /* the last transaction's first run */
    size_t txns;
} streamed;

static int on_txn(void *ctx, const char *tenant, const hr_pgtxn *txn,
                  const hr_stream_change *changes, size_t n)
{
    streamed *st = ctx;
    ck_assert_str_eq(tenant, "A");
    size_t next = 0;
    ck_assert_int_eq(hr_stream_to_batch(txn, changes, n, 0, st->batch, &next),
                     HR_OK);
    ck_assert_uint_eq(next, n); /* one run: the inserts into typed */
    st->txns++;
    return HR_OK;
}

static int has_snapshot(void *arg)
{
    return hr_stream_snapshot_name(arg) != NULL;
}

static int one_txn(void *arg)
{
    return ((streamed *)arg)->txns >= 1;
}

static void expect_estate(const char *ci, const char *name)
{
    host h = {.max_batch_rows = 10};
    hr_copier_opts *o = copier_opts(ci, "A", 10);
    ck_assert_int_eq(hr_copier_opts_set_snapshot(o, name), HR_OK);
    hr_copier *c = copier_for(o, &h);
    int rc = hr_copier_run(c, 30000);
    ck_assert_msg(rc == HR_ESTATE, "%s: %s", hr_status_name(rc),
                  hr_copier_errmsg(c));
    ck_assert_ptr_nonnull(strstr(hr_copier_errmsg(c), "SQLSTATE"));
    hr_copier_free(c);
}

START_TEST(exported_snapshot_of_a_stream)
{
    char ci[512];
    fresh_db("cp_snap", ci, sizeof ci);
    PGconn *conn = db_connect(ci);
    make_tables(conn);
    fill_both(conn);

    streamed st = {0};
    ck_assert_int_eq(hr_batch_new(env, &st.batch), HR_OK);
    hr_stream_opts *so = base_opts(env, ci);
    ck_assert_int_eq(hr_stream_opts_set_tenant(so, "A"), HR_OK);
    ck_assert_int_eq(hr_stream_opts_add_table(so, "typed"), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_export_snapshot(so, 1), HR_OK);
    hr_stream_callbacks scb = {HR_STREAM_CALLBACKS_VERSION, &st, on_txn, NULL};
    hr_stream *s = NULL;
    ck_assert_int_eq(hr_stream_new(env, so, &scb, &s), HR_OK);
    hr_stream_opts_free(so);
    run_until(s, has_snapshot, s, 30);

    /* after the slot: one transaction of both tenants */
    sql(conn, "BEGIN; SELECT fill('A', 41, 60); SELECT fill('B', 41, 60); "
              "COMMIT");

    host h = {.max_batch_rows = 16};
    hr_copier_opts *o = copier_opts(ci, "A", 16);
    ck_assert_int_eq(hr_copier_opts_add_table(o, "typed"), HR_OK);
    ck_assert_int_eq(hr_copier_opts_set_snapshot(o, hr_stream_snapshot_name(s)),
                     HR_OK);
    hr_copier *c = copier_for(o, &h);
    run_copier(c);
    ck_assert_uint_eq(hr_copier_snapshot_lsn(c), 0);
    const got_table *t = table_of(&h, "typed");
    ck_assert_uint_eq(total_rows(t), 41); /* 1..40 and 1000, not 41..60 */
    ck_assert_uint_eq(t->expected, 41);
    for (size_t k = 0; k < t->nb; k++)
        for (size_t r = 0; r < hr_batch_rows(t->batches[k]); r++) {
            int64_t id = id_of(t->batches[k], r);
            ck_assert(id <= 40 || id == 1000);
        }
    hr_copier_free(c);
    host_free(&h);

    /* the stream delivers what the copy left out */
    ck_assert_int_eq(hr_stream_release_snapshot(s), HR_OK);
    run_until(s, one_txn, &st, 30);
    ck_assert_uint_eq(hr_batch_rows(st.batch), 20);

    /* a fresh copy (own snapshot) of the same rows: identical batches */
    host h2 = {.max_batch_rows = 1000};
    o = copier_opts(ci, "A", 1000);
    ck_assert_int_eq(hr_copier_opts_add_table(o, "typed"), HR_OK);
    c = copier_for(o, &h2);
    run_copier(c);
    t = table_of(&h2, "typed");
    ck_assert_uint_eq(total_rows(t), 61);
    same_columns(t->batches[0], st.batch);
    for (size_t r = 0; r < 20; r++) {
        const hr_batch *b;
        size_t row;
        int64_t id = id_of(st.batch, r);
        ck_assert(find_id(t, id, &b, &row));
        for (int k = 0; k < hr_batch_columns(b); k++)
            ck_assert_msg(cell_equal(b, row, st.batch, r, k),
                          "id %" PRId64 " column %s differs from the stream",
                          id, hr_batch_column_name(b, k));
    }
    hr_copier_free(c);
    host_free(&h2);

    /* snapshots that are not there */
    expect_estate(ci, "nonsense");
    expect_estate(ci, "00000003-000000FF-1");

    ck_assert_int_eq(hr_stream_drop(s), HR_OK);
    hr_stream_free(s);
    hr_batch_free(st.batch);
    PQfinish(conn);
}
END_TEST

static Suite *copy_source_suite(void)
{
    Suite *s = suite_create("copy_source");
    TCase *tc = tcase_create("copy_source");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, copies_exactly_the_tenant_in_its_own_snapshot);
    tcase_add_test(tc, schema_errors_name_the_table);
    tcase_add_test(tc, exported_snapshot_of_a_stream);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(copy_source_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
