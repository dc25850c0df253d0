/*
 * test_pgoutput_stream.c - the pgoutput decoder and hr_pgtxn_to_batch
 * against a real PostgreSQL 15 walsender, in text and in binary mode.
 *
 * Each test makes its own database with tables of every type the batch
 * converts (and of interval, int4[] and an enum, which it keeps as text), a
 * TOASTed column, a REPLICA IDENTITY FULL table and a table altered inside a
 * transaction; a replication slot; then a workload: inserts of fixed edge
 * values and of 400 random rows (a transaction big enough to be streamed),
 * updates (with and without a key change), deletes, TRUNCATE, NULLs,
 * unchanged TOAST, logical decoding messages (transactional and not), a
 * transaction larger than logical_decoding_work_mem (64kB) with a rolled
 * back subtransaction and a concurrent small transaction committed in the
 * middle, a large transaction that is rolled back, an enum column (a Type
 * message), and a transaction with a replication origin.
 *
 * While it writes, the test records what each committed transaction must
 * look like, with every value as the server itself renders it: the
 * type's send function (hex) for the types the batch stores natively (so
 * floats, dates and timestamps are compared bit for bit), the output
 * function's text for the others (numeric as numeric_out prints it). Then
 * it streams the slot with libpq (START_REPLICATION, proto_version 2,
 * streaming on, messages on, binary on or off), feeds every CopyData payload
 * to hr_pgdecoder, and checks every transaction's changes and the batches
 * hr_pgtxn_to_batch makes of them.
 *
 * Run through tests/support/with-servers --pg source (HR_TEST_PG_SOURCE).
 */
#include <check.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include <heliosrepl/heliosrepl.h>
#include <heliosrepl/pgoutput.h>

#define SESSION_OPTIONS                                                        \
    "-c datestyle=ISO -c timezone=UTC -c extra_float_digits=3 "                \
    "-c logical_decoding_work_mem=64kB"
#define END_PREFIX "hr-test-end"

/* ---- small helpers ----------------------------------------------------- */

static const char *require_env(const char *name)
{
    const char *value = getenv(name);
    ck_assert_msg(value && *value,
                  "%s is not set: run this test through "
                  "tests/support/with-servers --pg source",
                  name);
    return value;
}

static PGconn *connect_to(const char *dbname, int replication)
{
    char info[1024];
    ck_assert_int_lt(snprintf(info, sizeof info,
                              "%s dbname=%s options='" SESSION_OPTIONS "'%s",
                              require_env("HR_TEST_PG_SOURCE"), dbname,
                              replication ? " replication=database" : ""),
                     (int)sizeof info);
    PGconn *conn = PQconnectdb(info);
    ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "connect %s: %s", info,
                  PQerrorMessage(conn));
    return conn;
}

static void exec_ok(PGconn *conn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void exec_ok(PGconn *conn, const char *fmt, ...)
{
    char *sql;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    sql = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(sql);
    va_start(ap, fmt);
    vsnprintf(sql, (size_t)n + 1, fmt, ap);
    va_end(ap);
    PGresult *res = PQexec(conn, sql);
    const ExecStatusType st = PQresultStatus(res);
    ck_assert_msg(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK,
                  "'%.300s' failed: %s", sql, PQerrorMessage(conn));
    PQclear(res);
    free(sql);
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    ck_assert_ptr_nonnull(d);
    return d;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* ---- the tables -------------------------------------------------------- */

enum { T_TYPES, T_TOAST, T_FULL, T_OTHER, T_BIG, T_ALTER, NTABLES };
static const char *const table_name[NTABLES] = {
    "t_types", "t_toast", "t_full", "t_other", "t_big", "t_alter"};

static const char schema_sql[] =
    "CREATE SCHEMA hrt;"
    "CREATE TABLE hrt.t_types (id int4 PRIMARY KEY, b bool, i2 int2, i4 int4,"
    " i8 int8, f4 float4, f8 float8, d date, ts timestamp, tstz timestamptz,"
    " u uuid, ba bytea, n numeric, t text, vc varchar(20), bc char(5),"
    " j json, jb jsonb);"
    "CREATE TABLE hrt.t_toast (id int4 PRIMARY KEY, small int4, big text);"
    "ALTER TABLE hrt.t_toast ALTER big SET STORAGE EXTERNAL;"
    "CREATE TABLE hrt.t_full (id int4, v text, f float8, big text);"
    "ALTER TABLE hrt.t_full ALTER big SET STORAGE EXTERNAL;"
    "ALTER TABLE hrt.t_full REPLICA IDENTITY FULL;"
    "CREATE TYPE hrt.mood AS ENUM ('sad', 'ok', 'happy');"
    "CREATE TABLE hrt.t_other (id int4 PRIMARY KEY, iv interval, arr int4[],"
    " m hrt.mood);"
    "CREATE TABLE hrt.t_big (id int4 PRIMARY KEY, payload text, n numeric);"
    "CREATE TABLE hrt.t_alter (id int4 PRIMARY KEY, a text);"
    "CREATE PUBLICATION p FOR TABLES IN SCHEMA hrt;";

/* ---- what the stream must carry ---------------------------------------- */

/* A cell: NULL pointer for SQL NULL, toast_mark for unchanged TOAST, else
 * the canonical form (see canon_sql / batch_canon). */
static char toast_mark[] = "<unchanged toast>";

typedef struct xrow {
    int ncells;
    char **cells;
} xrow;

typedef struct xitem {
    int kind;     /* hr_pgchange_kind */
    int table;    /* row changes */
    int old_form; /* 'K', 'O' or 0 */
    xrow old_row, new_row;
    int ntrunc, trunc_table[4], trunc_options;
    char *prefix, *content;
} xitem;

typedef struct xtxn {
    xitem *items;
    size_t n, cap;
    int streamed;
    int origin; /* from the workload's origin, at 0/12345 */
} xtxn;

typedef struct xmsg {
    char *prefix, *content;
} xmsg;

typedef struct workload {
    xtxn **txns; /* in commit order */
    size_t ntxns, cap;
    xmsg msgs[8]; /* non-transactional messages, in order */
    int nmsgs;
    char origin[64]; /* the replication origin's name */
} workload;

static xitem *add_item(xtxn *t, int kind)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 64;
        t->items = realloc(t->items, t->cap * sizeof *t->items);
        ck_assert_ptr_nonnull(t->items);
    }
    xitem *it = &t->items[t->n++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    return it;
}

static void free_row(xrow *r)
{
    for (int k = 0; k < r->ncells; k++)
        if (r->cells[k] != toast_mark)
            free(r->cells[k]);
    free(r->cells);
}

static void free_workload(workload *w)
{
    for (size_t i = 0; i < w->ntxns; i++) {
        xtxn *t = w->txns[i];
        for (size_t k = 0; k < t->n; k++) {
            free_row(&t->items[k].old_row);
            free_row(&t->items[k].new_row);
            free(t->items[k].prefix);
            free(t->items[k].content);
        }
        free(t->items);
        free(t);
    }
    free(w->txns);
    for (int i = 0; i < w->nmsgs; i++) {
        free(w->msgs[i].prefix);
        free(w->msgs[i].content);
    }
}

static xtxn *x_begin(PGconn *conn)
{
    exec_ok(conn, "BEGIN");
    return xcalloc(1, sizeof(xtxn));
}

static void x_commit(workload *w, PGconn *conn, xtxn *t, int streamed)
{
    exec_ok(conn, "COMMIT");
    t->streamed = streamed;
    if (w->ntxns == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 16;
        w->txns = realloc(w->txns, w->cap * sizeof *w->txns);
        ck_assert_ptr_nonnull(w->txns);
    }
    w->txns[w->ntxns++] = t;
}

/* The server's canonical form of a column of type `oid`: its send function
 * in hex for the types a batch stores natively, bytea's bytes in hex, and
 * the output function's text for the rest. */
static void canon_sql(char *buf, size_t cap, const char *col, uint32_t oid)
{
    const char *send = NULL;
    switch (oid) {
    case HR_OID_BOOL:
        send = "boolsend";
        break;
    case HR_OID_INT2:
        send = "int2send";
        break;
    case HR_OID_INT4:
        send = "int4send";
        break;
    case HR_OID_INT8:
        send = "int8send";
        break;
    case HR_OID_FLOAT4:
        send = "float4send";
        break;
    case HR_OID_FLOAT8:
        send = "float8send";
        break;
    case HR_OID_DATE:
        send = "date_send";
        break;
    case HR_OID_TIMESTAMP:
        send = "timestamp_send";
        break;
    case HR_OID_TIMESTAMPTZ:
        send = "timestamptz_send";
        break;
    case HR_OID_UUID:
        send = "uuid_send";
        break;
    default:
        break;
    }
    if (send)
        snprintf(buf, cap, "encode(%s(\"%s\"), 'hex')", send, col);
    else if (oid == HR_OID_BYTEA)
        snprintf(buf, cap, "encode(\"%s\", 'hex')", col);
    else
        snprintf(buf, cap, "\"%s\"", col);
}

/* The current rows of `table` that match `where`, ordered by id, in
 * canonical form; *nrows gets their count. */
static xrow *snapshot(PGconn *conn, int table, const char *where, int *nrows)
{
    char sql[8192];
    snprintf(sql, sizeof sql,
             "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = "
             "'hrt.%s'::regclass AND attnum > 0 AND NOT attisdropped ORDER "
             "BY attnum",
             table_name[table]);
    PGresult *cols = PQexec(conn, sql);
    ck_assert_int_eq(PQresultStatus(cols), PGRES_TUPLES_OK);
    size_t o = (size_t)snprintf(sql, sizeof sql, "SELECT ");
    for (int k = 0; k < PQntuples(cols); k++) {
        char expr[256];
        canon_sql(expr, sizeof expr, PQgetvalue(cols, k, 0),
                  (uint32_t)strtoul(PQgetvalue(cols, k, 1), NULL, 10));
        o += (size_t)snprintf(sql + o, sizeof sql - o, "%s%s", k ? ", " : "",
                              expr);
    }
    snprintf(sql + o, sizeof sql - o, " FROM hrt.%s WHERE %s ORDER BY id",
             table_name[table], where);
    PQclear(cols);
    PGresult *res = PQexec(conn, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
                  PQerrorMessage(conn));
    *nrows = PQntuples(res);
    xrow *rows = xcalloc((size_t)*nrows, sizeof *rows);
    for (int r = 0; r < *nrows; r++) {
        rows[r].ncells = PQnfields(res);
        rows[r].cells = xcalloc((size_t)rows[r].ncells, sizeof(char *));
        for (int k = 0; k < rows[r].ncells; k++)
            rows[r].cells[k] =
                PQgetisnull(res, r, k) ? NULL : xstrdup(PQgetvalue(res, r, k));
    }
    PQclear(res);
    return rows;
}

/* Inserts: the rows matching `where` are new rows of `t`, in id order. */
static void expect_inserts(xtxn *t, PGconn *conn, int table, const char *where)
{
    int n;
    xrow *rows = snapshot(conn, table, where, &n);
    ck_assert_int_gt(n, 0);
    for (int r = 0; r < n; r++) {
        xitem *it = add_item(t, HR_PGCHANGE_INSERT);
        it->table = table;
        it->new_row = rows[r];
    }
    free(rows);
}

/* Keep only the key column (id, the first) of an old row, as 'K' sends it. */
static void key_only(xrow *r)
{
    for (int k = 1; k < r->ncells; k++) {
        free(r->cells[k]);
        r->cells[k] = NULL;
    }
}

/* Mark column `col` of a new row as unchanged TOAST. */
static void unchanged(xrow *r, int col)
{
    free(r->cells[col]);
    r->cells[col] = toast_mark;
}

/* An UPDATE of the rows matching `where`: old rows (as `old_form` sends
 * them: 'K' key only, 'O' whole, 0 none), new rows matching `new_where`
 * after it. `toast_col` >= 0 is a column left unchanged (TOAST). */
static void update(xtxn *t, PGconn *conn, int table, const char *set,
                   const char *where, const char *new_where, int old_form,
                   int toast_col)
{
    int nold, nnew;
    xrow *old = snapshot(conn, table, where, &nold);
    exec_ok(conn, "UPDATE hrt.%s SET %s WHERE %s", table_name[table], set,
            where);
    xrow *new = snapshot(conn, table, new_where, &nnew);
    ck_assert_int_eq(nold, nnew);
    for (int r = 0; r < nnew; r++) {
        xitem *it = add_item(t, HR_PGCHANGE_UPDATE);
        it->table = table;
        it->old_form = old_form;
        if (old_form == 'K')
            key_only(&old[r]);
        if (old_form)
            it->old_row = old[r];
        else
            free_row(&old[r]);
        if (toast_col >= 0)
            unchanged(&new[r], toast_col);
        it->new_row = new[r];
    }
    free(old);
    free(new);
}

static void delete (xtxn *t, PGconn *conn, int table, const char *where,
                    int old_form)
{
    int n;
    xrow *old = snapshot(conn, table, where, &n);
    exec_ok(conn, "DELETE FROM hrt.%s WHERE %s", table_name[table], where);
    for (int r = 0; r < n; r++) {
        xitem *it = add_item(t, HR_PGCHANGE_DELETE);
        it->table = table;
        it->old_form = old_form;
        if (old_form == 'K')
            key_only(&old[r]);
        it->old_row = old[r];
    }
    free(old);
}

static void message(xtxn *t, PGconn *conn, const char *prefix,
                    const char *content)
{
    exec_ok(conn, "SELECT pg_logical_emit_message(true, '%s', '%s')", prefix,
            content);
    xitem *it = add_item(t, HR_PGCHANGE_MESSAGE);
    it->prefix = xstrdup(prefix);
    it->content = xstrdup(content);
}

static void nontx_message(workload *w, PGconn *conn, const char *prefix,
                          const char *content)
{
    exec_ok(conn, "SELECT pg_logical_emit_message(false, '%s', '%s')", prefix,
            content);
    ck_assert_int_lt(w->nmsgs, 8);
    w->msgs[w->nmsgs].prefix = xstrdup(prefix);
    w->msgs[w->nmsgs].content = xstrdup(content);
    w->nmsgs++;
}

/* ---- the workload ------------------------------------------------------ */

/* Fixed rows of every edge the conversions have. */
static const char edge_rows_sql[] =
    "INSERT INTO hrt.t_types VALUES "
    "(1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " NULL, NULL, NULL, NULL, NULL, NULL),"
    "(2, true, -32768, -2147483648, -9223372036854775808, '-Infinity',"
    " '-Infinity', '-infinity', '-infinity', '-infinity',"
    " '00000000-0000-0000-0000-000000000000', '\\x', 'NaN', '', '', '',"
    " '{}', '{}'),"
    "(3, false, 32767, 2147483647, 9223372036854775807, 'Infinity',"
    " 'Infinity', 'infinity', 'infinity', 'infinity',"
    " 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', '\\x00ff5c78', 'Infinity',"
    " E'line\\nbreak \\\\ tab\\t \"q\" \u00e9\u4e2d', 'varchar', 'ab',"
    " '{\"a\": [1, 2.50, null]}', '{\"b\": {\"c\": 1e100}, \"a\": "
    "\"\u00e9\"}'),"
    "(4, true, 0, 0, 0, 'NaN', '-0', '0044-03-15 BC', "
    " '0044-03-15 12:00:00.5 BC', '0044-03-15 12:00:00.5+01:30 BC',"
    " 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x00', '-Infinity',"
    " 'x', 'y', 'z', 'null', 'null'),"
    "(5, false, -1, -1, -1, 1.4e-45, 5e-324, '4714-11-24 BC',"
    " '4714-11-24 00:00:00 BC', '4714-11-24 00:00:00+00 BC',"
    " '12345678-1234-5678-1234-567812345678', '\\xdeadbeef',"
    " '-0.000000000001', '\u00e9', '', 'abcde', '[]', '[1, \"x\"]'),"
    "(6, true, 1, 1, 1, 3.4028235e38, 1.7976931348623157e308,"
    " '5874897-12-31', '294276-12-31 23:59:59.999999',"
    " '294276-12-31 23:59:59.999999+00', gen_random_uuid(), '\\x01',"
    " '123456789012345678901234567890.123456789000', '0', '0', '0', '0', '0'),"
    "(7, false, 2, 2, 2, -1.17549435e-38, 2.2250738585072014e-308,"
    " '2000-01-01', '2000-01-01 00:00:00', '1999-12-31 19:00:00-05',"
    " gen_random_uuid(), '\\x02', '0.00', 'a', 'b', 'c', '1', '1'),"
    "(8, true, 3, 3, 3, 0.1, 0.1, '1970-01-01', '1970-01-01 00:00:00.000001',"
    " '2024-02-29 23:59:59.999999+14', gen_random_uuid(), '\\x03',"
    " '1e-100', 'd', 'e', 'f', '2', '2.0')";

/* A few hundred random rows: floats over their whole range, dates and
 * timestamps from 4713 BC on, numerics of every scale. */
static const char random_rows_sql[] =
    "INSERT INTO hrt.t_types SELECT g, random() < 0.5,"
    " (random() * 65535 - 32768)::int2,"
    " (random() * 4294967295 - 2147483648)::int4,"
    " ((random() - 0.5) * 1.8e19)::int8,"
    " ((random() - 0.5) * 10 ^ (random() * 72 - 36))::float4,"
    " (random() - 0.5) * 10 ^ (random() * 600 - 300),"
    " '4713-01-01 BC'::date + (random() * 2000000000)::int4,"
    " '4713-01-01 00:00:00 BC'::timestamp"
    "   + make_interval(secs => random() * 9.2e12),"
    " '4713-01-01 00:00:00+00 BC'::timestamptz"
    "   + make_interval(secs => random() * 9.2e12),"
    " gen_random_uuid(), decode(md5(random()::text), 'hex'),"
    " CASE WHEN g % 50 = 0 THEN 'NaN'::numeric"
    "   ELSE round(((random() - 0.5) * 10 ^ (random() * 60 - 30))::numeric,"
    "              (random() * 40)::int4) END,"
    " md5(random()::text) || E'\u00e9', left(md5(random()::text), 20),"
    " left(md5(random()::text), (random() * 5)::int4),"
    " json_build_object('g', g, 'r', random()),"
    " jsonb_build_object('g', g, 'r', random(), 'n', NULL)"
    " FROM generate_series(10, 409) g";

static const char big_text_sql[] =
    "(SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 200))";

static void run_workload(const char *db, workload *w)
{
    PGconn *a = connect_to(db, 0), *bconn = connect_to(db, 0);
    xtxn *t;

    /* 1: edge rows; then random rows, more than logical_decoding_work_mem
     * holds: streamed. */
    t = x_begin(a);
    exec_ok(a, "%s", edge_rows_sql);
    expect_inserts(t, a, T_TYPES, "true");
    x_commit(w, a, t, 0);
    t = x_begin(a);
    exec_ok(a, "%s", random_rows_sql);
    expect_inserts(t, a, T_TYPES, "id >= 10");
    x_commit(w, a, t, 1);

    /* 2: update without a key change (no old tuple), with one, a delete. */
    t = x_begin(a);
    update(t, a, T_TYPES, "i4 = 5, t = 'updated'", "id = 10", "id = 10", 0, -1);
    update(t, a, T_TYPES, "id = 1000", "id = 11", "id = 1000", 'K', -1);
    delete (t, a, T_TYPES, "id = 12", 'K');
    delete (t, a, T_TYPES, "id = 1", 'K');
    x_commit(w, a, t, 0);

    /* 3: TOAST: a big value, an update that leaves it alone, one that
     * replaces it. */
    t = x_begin(a);
    exec_ok(a, "INSERT INTO hrt.t_toast VALUES (1, 1, %s), (2, 2, 'short')",
            big_text_sql);
    expect_inserts(t, a, T_TOAST, "true");
    x_commit(w, a, t, 0);
    t = x_begin(a);
    update(t, a, T_TOAST, "small = 10", "id = 1", "id = 1", 0, 2);
    update(t, a, T_TOAST, "small = 20", "id = 2", "id = 2", 0, -1);
    x_commit(w, a, t, 0);
    t = x_begin(a);
    char set[512];
    snprintf(set, sizeof set, "big = %s", big_text_sql);
    update(t, a, T_TOAST, set, "id = 1", "id = 1", 0, -1);
    x_commit(w, a, t, 0);

    /* 4: REPLICA IDENTITY FULL: whole old rows (the TOASTed value too). */
    t = x_begin(a);
    exec_ok(a,
            "INSERT INTO hrt.t_full VALUES (1, 'one', 1.5, %s),"
            " (2, 'two', -0.0, NULL), (3, NULL, 'NaN', 'small')",
            big_text_sql);
    expect_inserts(t, a, T_FULL, "true");
    x_commit(w, a, t, 0);
    t = x_begin(a);
    update(t, a, T_FULL, "v = 'uno'", "id = 1", "id = 1", 'O', 3);
    update(t, a, T_FULL, "f = 2.5", "id = 2", "id = 2", 'O', -1);
    delete (t, a, T_FULL, "id = 3", 'O');
    delete (t, a, T_FULL, "id = 1", 'O');
    x_commit(w, a, t, 0);

    /* 5: types without a binary decoder; a TRUNCATE. */
    t = x_begin(a);
    exec_ok(a, "INSERT INTO hrt.t_other VALUES (1, '1 day 02:00:00', "
               "'{1,2,3}', 'happy'), (2, '-3 years 00:00:00.5', NULL, NULL)");
    expect_inserts(t, a, T_OTHER, "true");
    x_commit(w, a, t, 0);
    t = x_begin(a);
    exec_ok(a, "TRUNCATE hrt.t_other, hrt.t_toast RESTART IDENTITY");
    xitem *it = add_item(t, HR_PGCHANGE_TRUNCATE);
    it->ntrunc = 2;
    it->trunc_table[0] = T_OTHER;
    it->trunc_table[1] = T_TOAST;
    it->trunc_options = 2;
    x_commit(w, a, t, 0);

    /* 6: messages, transactional and not. */
    nontx_message(w, a, "hr-test", "not in a transaction");
    t = x_begin(a);
    exec_ok(a, "INSERT INTO hrt.t_alter VALUES (1, 'before')");
    expect_inserts(t, a, T_ALTER, "id = 1");
    message(t, a, "hr-test", "in a transaction");
    x_commit(w, a, t, 0);

    /* 7: a schema change inside a transaction: two relation versions. */
    t = x_begin(a);
    exec_ok(a, "INSERT INTO hrt.t_alter VALUES (2, 'old shape')");
    expect_inserts(t, a, T_ALTER, "id = 2");
    exec_ok(a, "ALTER TABLE hrt.t_alter ADD COLUMN extra float8 DEFAULT 7");
    exec_ok(a, "INSERT INTO hrt.t_alter VALUES (3, 'new shape', 0.25)");
    expect_inserts(t, a, T_ALTER, "id = 3");
    x_commit(w, a, t, 0);

    /* 8: a transaction past logical_decoding_work_mem, streamed: rows, a
     * rolled back subtransaction, a small transaction committed by another
     * session in the middle, an update, a message. */
    t = x_begin(a);
    exec_ok(a, "INSERT INTO hrt.t_big SELECT g, repeat(md5(g::text), 4),"
               " g / 7.0 FROM generate_series(1, 2000) g");
    exec_ok(a, "SAVEPOINT s1");
    exec_ok(a, "INSERT INTO hrt.t_big SELECT g, 'rolled back', 0"
               " FROM generate_series(2001, 3000) g");
    exec_ok(a, "ROLLBACK TO SAVEPOINT s1");
    xtxn *other = x_begin(bconn);
    exec_ok(bconn, "INSERT INTO hrt.t_alter VALUES (4, 'concurrent', -1)");
    expect_inserts(other, bconn, T_ALTER, "id = 4");
    x_commit(w, bconn, other, 0);
    exec_ok(a, "SAVEPOINT s2");
    exec_ok(a, "INSERT INTO hrt.t_big SELECT g, repeat(md5(g::text), 4),"
               " g / 7.0 FROM generate_series(3001, 5000) g");
    exec_ok(a, "RELEASE SAVEPOINT s2");
    expect_inserts(t, a, T_BIG, "true");
    message(t, a, "hr-test", "streamed");
    update(t, a, T_BIG, "n = n + 1", "id <= 5", "id <= 5", 0, -1);
    x_commit(w, a, t, 1);

    /* 9: a large transaction that is rolled back: streamed, then aborted,
     * never delivered. */
    exec_ok(a, "BEGIN");
    exec_ok(a, "INSERT INTO hrt.t_big SELECT g, repeat('x', 200), 0"
               " FROM generate_series(100001, 103000) g");
    exec_ok(a, "ROLLBACK");

    /* 10: a transaction with a replication origin, then the end marker. */
    /* (Origins are per cluster: one for each database.) */
    snprintf(w->origin, sizeof w->origin, "%s_origin", db);
    exec_ok(a, "SELECT pg_replication_origin_create('%s')", w->origin);
    exec_ok(a, "SELECT pg_replication_origin_session_setup('%s')", w->origin);
    t = x_begin(a);
    exec_ok(a, "SELECT pg_replication_origin_xact_setup('0/12345', now())");
    t->origin = 1;
    update(t, a, T_ALTER, "extra = 'Infinity'", "id = 1", "id = 1", 0, -1);
    x_commit(w, a, t, 0);
    exec_ok(a, "SELECT pg_replication_origin_session_reset()");
    nontx_message(w, a, END_PREFIX, db);

    PQfinish(a);
    PQfinish(bconn);
}

/* ---- checking the batch against the expectations ----------------------- */

static void hex_of(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* A present batch cell in the canonical form of canon_sql (malloc'd). */
static char *batch_canon(const hr_batch *b, int col, size_t row)
{
    const uint32_t oid = hr_batch_column_type(b, col);
    uint8_t raw[16];
    int width = 0;
    int64_t iv;
    switch (oid) {
    case HR_OID_BOOL: {
        int v;
        ck_assert_int_eq(hr_batch_get_bool(b, col, row, &v), HR_OK);
        raw[0] = (uint8_t)v;
        width = 1;
        break;
    }
    case HR_OID_INT2:
    case HR_OID_INT4:
    case HR_OID_INT8:
    case HR_OID_DATE:
    case HR_OID_TIMESTAMP:
    case HR_OID_TIMESTAMPTZ:
        ck_assert_int_eq(hr_batch_get_int64(b, col, row, &iv), HR_OK);
        width = oid == HR_OID_INT2                           ? 2
                : (oid == HR_OID_INT4 || oid == HR_OID_DATE) ? 4
                                                             : 8;
        for (int k = 0; k < width; k++)
            raw[k] = (uint8_t)((uint64_t)iv >> (8 * (width - 1 - k)));
        break;
    case HR_OID_FLOAT4: {
        float f;
        uint32_t bits;
        ck_assert_int_eq(hr_batch_get_float4(b, col, row, &f), HR_OK);
        memcpy(&bits, &f, 4);
        for (int k = 0; k < 4; k++)
            raw[k] = (uint8_t)(bits >> (8 * (3 - k)));
        width = 4;
        break;
    }
    case HR_OID_FLOAT8: {
        double f;
        uint64_t bits;
        ck_assert_int_eq(hr_batch_get_float8(b, col, row, &f), HR_OK);
        memcpy(&bits, &f, 8);
        for (int k = 0; k < 8; k++)
            raw[k] = (uint8_t)(bits >> (8 * (7 - k)));
        width = 8;
        break;
    }
    case HR_OID_UUID:
        ck_assert_int_eq(hr_batch_get_uuid(b, col, row, raw), HR_OK);
        width = 16;
        break;
    default:
        break;
    }
    if (width) {
        char *s = xcalloc(2 * (size_t)width + 1, 1);
        hex_of(raw, (size_t)width, s);
        return s;
    }
    const uint8_t *p;
    size_t len;
    ck_assert_int_eq(hr_batch_get_bytes(b, col, row, &p, &len), HR_OK);
    if (oid == HR_OID_BYTEA) {
        char *s = xcalloc(2 * len + 1, 1);
        hex_of(p, len, s);
        return s;
    }
    char *s = xcalloc(len + 1, 1);
    memcpy(s, p, len);
    return s;
}

static void check_batch_row(const hr_batch *b, size_t row, int op,
                            const xrow *want, const char *where)
{
    int64_t got_op;
    ck_assert_int_eq(hr_batch_get_int64(b, 0, row, &got_op), HR_OK);
    ck_assert_msg(got_op == op, "%s: _hr_op %" PRId64 ", expected %d", where,
                  got_op, op);
    ck_assert_msg(hr_batch_columns(b) == want->ncells + 1,
                  "%s: %d columns, expected %d + _hr_op", where,
                  hr_batch_columns(b), want->ncells);
    for (int k = 0; k < want->ncells; k++) {
        const int state = hr_batch_value_state(b, k + 1, row);
        const char *name = hr_batch_column_name(b, k + 1);
        if (!want->cells[k]) {
            ck_assert_msg(state == HR_VALUE_NULL, "%s: %s should be NULL",
                          where, name);
        } else if (want->cells[k] == toast_mark) {
            ck_assert_msg(state == HR_VALUE_UNCHANGED_TOAST,
                          "%s: %s should be unchanged TOAST (state %d)", where,
                          name, state);
        } else {
            ck_assert_msg(state == HR_VALUE_PRESENT, "%s: %s state %d", where,
                          name, state);
            char *got = batch_canon(b, k + 1, row);
            ck_assert_msg(strcmp(got, want->cells[k]) == 0,
                          "%s: column %s (oid %u): got '%.200s', the server "
                          "has '%.200s'",
                          where, name, hr_batch_column_type(b, k + 1), got,
                          want->cells[k]);
            free(got);
        }
    }
}

/* ---- the stream -------------------------------------------------------- */

typedef struct run {
    const workload *w;
    int binary;
    hr_pgdecoder *dec;
    hr_batch *batch;
    size_t next_txn;
    int next_msg;
    int done;
    int reply_requested;
    uint64_t confirmed; /* end LSN of the last transaction delivered */
    uint64_t last_commit_lsn;
    size_t relations, schema_changes, streamed, payloads, batches;
    size_t max_payload;
    uint32_t rel_oid[NTABLES];
} run;

static int table_of(const hr_pgrelation *rel)
{
    ck_assert_ptr_nonnull(rel);
    ck_assert_str_eq(hr_pgrelation_schema(rel), "hrt");
    for (int k = 0; k < NTABLES; k++)
        if (strcmp(hr_pgrelation_name(rel), table_name[k]) == 0)
            return k;
    ck_abort_msg("unexpected relation %s", hr_pgrelation_name(rel));
    return -1;
}

/* The change's values: every present one in the form the mode sends. */
static void check_forms(const run *r, const hr_pgtxn *txn, size_t i,
                        hr_pgtuple which, const xrow *want)
{
    const hr_pgrelation *rel = hr_pgtxn_change_relation(txn, i);
    ck_assert_int_eq(hr_pgrelation_columns(rel), want->ncells);
    for (int k = 0; k < want->ncells; k++) {
        const uint8_t *data = NULL;
        size_t len = 0;
        const int form = hr_pgtxn_change_value(txn, i, which, k, &data, &len);
        const int expect = !want->cells[k] ? HR_PGVALUE_NULL
                           : want->cells[k] == toast_mark
                               ? HR_PGVALUE_UNCHANGED_TOAST
                           : r->binary ? HR_PGVALUE_BINARY
                                       : HR_PGVALUE_TEXT;
        ck_assert_msg(form == expect,
                      "change %zu column %s: form %c (%d), expected %c", i,
                      hr_pgrelation_column_name(rel, k), form, form, expect);
    }
    const uint8_t *data = NULL;
    size_t len = 0;
    ck_assert_int_eq(
        hr_pgtxn_change_value(txn, i, which, want->ncells, &data, &len),
        HR_EINVAL);
}

static int on_txn(void *ctx, const hr_pgtxn *txn)
{
    run *r = ctx;
    ck_assert_msg(r->next_txn < r->w->ntxns, "more transactions than written");
    const xtxn *want = r->w->txns[r->next_txn];
    char where[128];
    snprintf(where, sizeof where, "%s txn %zu (xid %u)",
             r->binary ? "binary" : "text", r->next_txn, hr_pgtxn_xid(txn));
    r->next_txn++;

    ck_assert_msg(hr_pgtxn_streamed(txn) == want->streamed, "%s: streamed %d",
                  where, hr_pgtxn_streamed(txn));
    r->streamed += (size_t)hr_pgtxn_streamed(txn);
    ck_assert_uint_gt(hr_pgtxn_commit_lsn(txn), r->last_commit_lsn);
    ck_assert_uint_gt(hr_pgtxn_end_lsn(txn), hr_pgtxn_commit_lsn(txn));
    r->last_commit_lsn = hr_pgtxn_commit_lsn(txn);
    r->confirmed = hr_pgtxn_end_lsn(txn);
    /* Committed within the last hour, on the server's clock. */
    const int64_t now_pg =
        ((int64_t)time(NULL) - INT64_C(946684800)) * INT64_C(1000000);
    ck_assert_int_lt(llabs(hr_pgtxn_commit_time(txn) - now_pg),
                     INT64_C(3600000000));
    if (want->origin) {
        ck_assert_ptr_nonnull(hr_pgtxn_origin(txn));
        ck_assert_str_eq(hr_pgtxn_origin(txn), r->w->origin);
        ck_assert_uint_eq(hr_pgtxn_origin_lsn(txn), 0x12345);
    } else {
        ck_assert_ptr_null(hr_pgtxn_origin(txn));
        ck_assert_uint_eq(hr_pgtxn_origin_lsn(txn), 0);
    }
    ck_assert_msg(hr_pgtxn_changes(txn) == want->n,
                  "%s: %zu changes, %zu written", where, hr_pgtxn_changes(txn),
                  want->n);
    ck_assert_int_eq(hr_pgtxn_change_kind(txn, want->n), HR_EINVAL);

    size_t i = 0;
    while (i < want->n) {
        const xitem *it = &want->items[i];
        const int kind = hr_pgtxn_change_kind(txn, i);
        ck_assert_msg(kind == it->kind, "%s change %zu: kind %d, expected %d",
                      where, i, kind, it->kind);
        if (kind == HR_PGCHANGE_TRUNCATE) {
            size_t nrel = 0;
            int options = -1;
            ck_assert_int_eq(hr_pgtxn_change_truncate(txn, i, &nrel, &options),
                             HR_OK);
            ck_assert_uint_eq(nrel, (size_t)it->ntrunc);
            ck_assert_int_eq(options, it->trunc_options);
            for (size_t k = 0; k < nrel; k++) {
                const uint32_t oid = hr_pgtxn_change_truncate_oid(txn, i, k);
                ck_assert_uint_eq(oid, r->rel_oid[it->trunc_table[k]]);
                ck_assert_ptr_nonnull(hr_pgdecoder_relation(r->dec, oid));
            }
            size_t next = 99;
            ck_assert_int_eq(hr_pgtxn_to_batch(txn, i, r->batch, &next),
                             HR_EINVAL);
            i++;
            continue;
        }
        if (kind == HR_PGCHANGE_MESSAGE) {
            const char *prefix;
            const uint8_t *content;
            size_t clen;
            ck_assert_int_eq(
                hr_pgtxn_change_message(txn, i, &prefix, &content, &clen),
                HR_OK);
            ck_assert_str_eq(prefix, it->prefix);
            ck_assert_uint_eq(clen, strlen(it->content));
            ck_assert_int_eq(memcmp(content, it->content, clen), 0);
            ck_assert_ptr_null(hr_pgtxn_change_relation(txn, i));
            i++;
            continue;
        }
        /* A run of row changes: check each change, then its batch. */
        const hr_pgrelation *rel = hr_pgtxn_change_relation(txn, i);
        const int table = table_of(rel);
        size_t end = i;
        while (end < want->n && want->items[end].kind != HR_PGCHANGE_TRUNCATE &&
               want->items[end].kind != HR_PGCHANGE_MESSAGE &&
               hr_pgtxn_change_relation(txn, end) == rel)
            end++;
        for (size_t c = i; c < end; c++) {
            const xitem *ci = &want->items[c];
            ck_assert_int_eq(hr_pgtxn_change_kind(txn, c), ci->kind);
            ck_assert_int_eq(table_of(hr_pgtxn_change_relation(txn, c)),
                             ci->table);
            ck_assert_msg(hr_pgtxn_change_old_form(txn, c) == ci->old_form,
                          "%s change %zu: old form %d, expected %d", where, c,
                          hr_pgtxn_change_old_form(txn, c), ci->old_form);
            if (ci->kind != HR_PGCHANGE_DELETE)
                check_forms(r, txn, c, HR_PGTUPLE_NEW, &ci->new_row);
            if (ci->old_form)
                check_forms(r, txn, c, HR_PGTUPLE_OLD, &ci->old_row);
            else {
                const uint8_t *data = NULL;
                size_t len = 0;
                ck_assert_int_eq(hr_pgtxn_change_value(txn, c, HR_PGTUPLE_OLD,
                                                       0, &data, &len),
                                 HR_EINVAL);
            }
        }
        size_t next = 0;
        const int rc = hr_pgtxn_to_batch(txn, i, r->batch, &next);
        if (r->binary && table == T_OTHER) {
            /* interval and int4[] have no binary decoder. */
            ck_assert_msg(rc == HR_EUNSUPPORTED, "%s: %d %s", where, rc,
                          hr_batch_errmsg(r->batch));
            ck_assert_ptr_nonnull(strstr(hr_batch_errmsg(r->batch), "iv"));
            ck_assert_int_eq(hr_batch_columns(r->batch), 0);
            i = end;
            continue;
        }
        ck_assert_msg(rc == HR_OK, "%s change %zu: %s (%s)", where, i,
                      hr_strerror(rc), hr_batch_errmsg(r->batch));
        ck_assert_msg(next == end, "%s: the run from %zu ends at %zu, not %zu",
                      where, i, next, end);
        r->batches++;
        ck_assert_str_eq(hr_batch_schema_name(r->batch), "hrt");
        ck_assert_str_eq(hr_batch_table_name(r->batch), table_name[table]);
        ck_assert_str_eq(hr_batch_column_name(r->batch, 0), "_hr_op");
        ck_assert_int_eq(hr_batch_column_nullable(r->batch, 0), 0);
        for (int k = 0; k < hr_pgrelation_columns(rel); k++) {
            ck_assert_str_eq(hr_batch_column_name(r->batch, k + 1),
                             hr_pgrelation_column_name(rel, k));
            ck_assert_uint_eq(hr_batch_column_type(r->batch, k + 1),
                              hr_pgrelation_column_type(rel, k));
        }
        size_t row = 0;
        for (size_t c = i; c < end; c++) {
            const xitem *ci = &want->items[c];
            char at[192];
            snprintf(at, sizeof at, "%s change %zu (%s)", where, c,
                     table_name[table]);
            switch (ci->kind) {
            case HR_PGCHANGE_INSERT:
                check_batch_row(r->batch, row++, 1, &ci->new_row, at);
                break;
            case HR_PGCHANGE_UPDATE:
                if (ci->old_form)
                    check_batch_row(r->batch, row++, 4, &ci->old_row, at);
                check_batch_row(r->batch, row++, 2, &ci->new_row, at);
                break;
            case HR_PGCHANGE_DELETE:
                check_batch_row(r->batch, row++, 3, &ci->old_row, at);
                break;
            }
        }
        ck_assert_uint_eq(hr_batch_rows(r->batch), row);
        i = end;
    }
    return HR_OK;
}

static int on_relation(void *ctx, const hr_pgrelation *rel, int schema_changed)
{
    run *r = ctx;
    const int table = table_of(rel);
    r->relations++;
    r->schema_changes += (size_t)schema_changed;
    if (schema_changed)
        ck_assert_int_eq(table, T_ALTER);
    r->rel_oid[table] = hr_pgrelation_oid(rel);
    ck_assert_ptr_eq(hr_pgdecoder_relation(r->dec, hr_pgrelation_oid(rel)),
                     rel);
    const char want_ident = table == T_FULL ? 'f' : 'd';
    ck_assert_int_eq(hr_pgrelation_replica_identity(rel), want_ident);
    for (int k = 0; k < hr_pgrelation_columns(rel); k++) {
        const char *name = hr_pgrelation_column_name(rel, k);
        ck_assert_int_eq(hr_pgrelation_column_is_key(rel, k),
                         table == T_FULL || strcmp(name, "id") == 0);
        if (table == T_TYPES && strcmp(name, "vc") == 0)
            ck_assert_int_eq(hr_pgrelation_column_typmod(rel, k), 20 + 4);
    }
    ck_assert_ptr_null(
        hr_pgrelation_column_name(rel, hr_pgrelation_columns(rel)));
    return HR_OK;
}

static int on_keepalive(void *ctx, uint64_t wal_end, int64_t server_time,
                        int reply_requested)
{
    run *r = ctx;
    (void)server_time;
    ck_assert_uint_gt(wal_end, 0);
    r->reply_requested |= reply_requested;
    return HR_OK;
}

static int on_message(void *ctx, uint64_t lsn, const char *prefix,
                      const uint8_t *content, size_t len)
{
    run *r = ctx;
    ck_assert_uint_gt(lsn, 0);
    ck_assert_msg(r->next_msg < r->w->nmsgs, "unexpected message %s", prefix);
    const xmsg *m = &r->w->msgs[r->next_msg++];
    ck_assert_str_eq(prefix, m->prefix);
    ck_assert_uint_eq(len, strlen(m->content));
    ck_assert_int_eq(memcmp(content, m->content, len), 0);
    if (strcmp(prefix, END_PREFIX) == 0)
        r->done = 1;
    return HR_OK;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (uint8_t)(v >> (56 - 8 * k));
}

/* A standby status update: received up to the decoder's WAL end, flushed
 * and applied up to the last delivered transaction. */
static void send_status(PGconn *conn, uint64_t received, uint64_t flushed)
{
    uint8_t msg[34];
    msg[0] = 'r';
    put_be64(msg + 1, received);
    put_be64(msg + 9, flushed);
    put_be64(msg + 17, flushed);
    put_be64(msg + 25,
             ((uint64_t)time(NULL) - UINT64_C(946684800)) * UINT64_C(1000000));
    msg[33] = 0;
    ck_assert_int_eq(PQputCopyData(conn, (const char *)msg, sizeof msg), 1);
    ck_assert_int_ge(PQflush(conn), 0);
}

static void stream_slot(const char *db, const char *slot, run *r)
{
    PGconn *conn = connect_to(db, 1);
    char sql[512];
    snprintf(sql, sizeof sql,
             "START_REPLICATION SLOT %s LOGICAL 0/0 (proto_version '2', "
             "publication_names 'p', streaming 'on', binary '%s', messages "
             "'true')",
             slot, r->binary ? "true" : "false");
    PGresult *res = PQexec(conn, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_COPY_BOTH, "%s: %s", sql,
                  PQerrorMessage(conn));
    PQclear(res);

    const time_t deadline = time(NULL) + 120;
    while (!r->done) {
        ck_assert_msg(time(NULL) < deadline,
                      "no end marker after 120 s (%zu of %zu transactions)",
                      r->next_txn, r->w->ntxns);
        char *buf = NULL;
        const int n = PQgetCopyData(conn, &buf, 1);
        if (n > 0) {
            r->payloads++;
            if ((size_t)n > r->max_payload)
                r->max_payload = (size_t)n;
            const int rc =
                hr_pgdecoder_feed(r->dec, (const uint8_t *)buf, (size_t)n);
            ck_assert_msg(rc == HR_OK, "feed: %s: %s", hr_strerror(rc),
                          hr_pgdecoder_errmsg(r->dec));
            PQfreemem(buf);
            if (r->reply_requested || r->payloads % 512 == 0) {
                send_status(conn, hr_pgdecoder_wal_end(r->dec), r->confirmed);
                r->reply_requested = 0;
            }
            continue;
        }
        ck_assert_msg(n == 0, "PQgetCopyData: %d: %s", n, PQerrorMessage(conn));
        struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
        ck_assert_int_ge(poll(&pfd, 1, 1000), 0);
        ck_assert_msg(PQconsumeInput(conn), "%s", PQerrorMessage(conn));
    }
    send_status(conn, hr_pgdecoder_wal_end(r->dec), r->confirmed);
    PQfinish(conn);
}

/* ---- the tests --------------------------------------------------------- */

static void create_database(const char *db)
{
    PGconn *admin = connect_to("postgres", 0);
    exec_ok(admin, "DROP DATABASE IF EXISTS %s", db);
    exec_ok(admin, "CREATE DATABASE %s", db);
    PQfinish(admin);
    PGconn *conn = connect_to(db, 0);
    exec_ok(conn, "%s", schema_sql);
    PQfinish(conn);
}

static void create_slot(const char *db, const char *slot)
{
    PGconn *repl = connect_to(db, 1);
    char sql[256];
    snprintf(sql, sizeof sql,
             "CREATE_REPLICATION_SLOT %s LOGICAL pgoutput (SNAPSHOT 'nothing')",
             slot);
    PGresult *res = PQexec(repl, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
                  PQerrorMessage(repl));
    PQclear(res);
    PQfinish(repl);
}

static void decode_workload(int binary)
{
    const char *db = binary ? "hr_pgoutput_binary" : "hr_pgoutput_text";
    const char *slot = binary ? "hr_binary" : "hr_text";
    create_database(db);
    create_slot(db, slot);
    workload w;
    memset(&w, 0, sizeof w);
    run_workload(db, &w);

    hr_env *env;
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
    run r;
    memset(&r, 0, sizeof r);
    r.w = &w;
    r.binary = binary;
    const hr_pgdecoder_callbacks cb = {HR_PGDECODER_CALLBACKS_VERSION,
                                       &r,
                                       on_txn,
                                       on_relation,
                                       on_keepalive,
                                       on_message};
    ck_assert_int_eq(hr_pgdecoder_new(env, &cb, &r.dec), HR_OK);
    ck_assert_int_eq(hr_batch_new(env, &r.batch), HR_OK);

    stream_slot(db, slot, &r);

    ck_assert_uint_eq(r.next_txn, w.ntxns);
    ck_assert_int_eq(r.next_msg, w.nmsgs);
    ck_assert_uint_eq(r.streamed, 2);
    ck_assert_uint_eq(r.schema_changes, 1);
    ck_assert_uint_ge(r.relations, NTABLES);
    ck_assert_uint_ge(hr_pgdecoder_wal_end(r.dec), r.confirmed);
    fprintf(stderr,
            "pgoutput_stream (%s): %zu payloads (largest %zu bytes), %zu "
            "transactions, %zu batches, %zu relation messages\n",
            binary ? "binary" : "text", r.payloads, r.max_payload, r.next_txn,
            r.batches, r.relations);

    hr_batch_free(r.batch);
    hr_pgdecoder_free(r.dec);
    hr_env_free(env);
    free_workload(&w);

    /* Drop the slot (once its walsender is gone). */
    PGconn *repl = connect_to(db, 1);
    exec_ok(repl, "DROP_REPLICATION_SLOT %s WAIT", slot);
    PQfinish(repl);
}

START_TEST(text_mode)
{
    decode_workload(0);
}
END_TEST

START_TEST(binary_mode)
{
    decode_workload(1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("integration.pgoutput_stream");
    TCase *tc = tcase_create("stream");
    tcase_set_timeout(tc, 280);
    tcase_add_test(tc, text_mode);
    tcase_add_test(tc, binary_mode);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
