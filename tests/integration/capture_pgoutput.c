/*
 * capture_pgoutput.c - record a real pgoutput replication stream to a file.
 *
 *   capture_pgoutput [--workload NAME] [--binary] [--format fuzz|dump]
 *                    [--thin N] [--rows N] [--txn-rows N] CONNINFO OUTFILE
 *
 * Makes a fresh database (hr_capture_NAME) on the server CONNINFO names, a
 * publication and a pgoutput slot, runs the workload, then streams the slot
 * (proto_version 2, streaming on, messages on, binary on with --binary)
 * with the session settings the library's stream uses (DateStyle ISO,
 * TimeZone UTC, extra_float_digits 3, logical_decoding_work_mem 64kB) and
 * writes every CopyData payload (XLogData and keepalive frames) to OUTFILE
 * until the workload's end marker (a non-transactional logical message) has
 * been decoded by hr_pgdecoder, which also checks the stream as it goes.
 *
 * Formats:
 *   dump  each payload as a 4-byte big-endian length, then the bytes
 *   fuzz  tests/fuzz/fuzz_pgoutput's input: a 2-byte big-endian length (top
 *         bit clear: a CopyData payload) then the bytes; payloads longer than
 *         32767 bytes cannot be written and are left out (counted)
 * --thin N keeps at most N row changes (Insert / Update / Delete) of each
 * transaction or streamed segment, and drops keepalives: a small seed with
 * every kind of message.
 *
 * Workloads: types (every converted type, edge values), toast (unchanged
 * TOAST, REPLICA IDENTITY FULL), ddl (TRUNCATE, ALTER inside a transaction,
 * messages), stream (a streamed transaction with a rolled back
 * subtransaction, and a streamed one rolled back), bench (--rows rows of a
 * 10-column table in transactions of --txn-rows; what bench-pgoutput reads).
 *
 * The committed seeds in tests/fuzz/corpus/pgoutput_real/ came from:
 *   tests/support/with-servers --pg src -- sh -c \
 *     'capture_pgoutput --workload W [--binary] --format fuzz --thin 4 \
 *        "$HR_TEST_PG_SRC" OUT'
 */
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
#define END_PREFIX "hr-capture-end"

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "capture_pgoutput: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static PGconn *connect_to(const char *conninfo, const char *db, int repl)
{
    char info[2048];
    snprintf(info, sizeof info, "%s dbname=%s options='" SESSION_OPTIONS "'%s",
             conninfo, db, repl ? " replication=database" : "");
    PGconn *conn = PQconnectdb(info);
    if (PQstatus(conn) != CONNECTION_OK)
        die("cannot connect (%s): %s", info, PQerrorMessage(conn));
    return conn;
}

static void exec_ok(PGconn *conn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void exec_ok(PGconn *conn, const char *fmt, ...)
{
    char sql[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    PGresult *res = PQexec(conn, sql);
    const ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
        st != PGRES_COPY_BOTH)
        die("'%.200s': %s", sql, PQerrorMessage(conn));
    PQclear(res);
}

/* ---- workloads --------------------------------------------------------- */

static const char types_schema[] =
    "CREATE TABLE t_types (id int4 PRIMARY KEY, b bool, i2 int2, i4 int4,"
    " i8 int8, f4 float4, f8 float8, d date, ts timestamp, tstz timestamptz,"
    " u uuid, ba bytea, n numeric, t text, vc varchar(20), bc char(5),"
    " j json, jb jsonb)";

static void workload_types(PGconn *c)
{
    exec_ok(c, "%s", types_schema);
    exec_ok(c, "CREATE PUBLICATION p FOR ALL TABLES");
}

static void run_types(PGconn *c, int rows, int txn_rows)
{
    (void)rows;
    (void)txn_rows;
    exec_ok(c,
            "INSERT INTO t_types VALUES "
            "(1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
            " NULL, NULL, NULL, NULL, NULL, NULL, NULL),"
            "(2, true, -32768, -2147483648, -9223372036854775808, '-Infinity',"
            " '-Infinity', '-infinity', '-infinity', '-infinity',"
            " '00000000-0000-0000-0000-000000000000', '\\x', 'NaN', '', '',"
            " '', '{}', '{}'),"
            "(3, false, 32767, 2147483647, 9223372036854775807, 'Infinity',"
            " 'Infinity', 'infinity', 'infinity', 'infinity',"
            " 'ffffffff-ffff-ffff-ffff-ffffffffffff', '\\x00ff5c78',"
            " 'Infinity', E'line\\nbreak \\\\ \u00e9', 'varchar', 'ab',"
            " '{\"a\": [1, 2.50]}', '{\"b\": 1e100}'),"
            "(4, true, 0, 0, 0, 'NaN', '-0', '0044-03-15 BC',"
            " '0044-03-15 12:00:00.5 BC', '0044-03-15 12:00:00.5+01:30 BC',"
            " 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x00',"
            " '-1.5e-20', 'x', 'y', 'z', 'null', 'null'),"
            "(5, false, -1, -1, -1, 1.4e-45, 5e-324, '4714-11-24 BC',"
            " '294276-12-31 23:59:59.999999',"
            " '2024-02-29 23:59:59.999999+14',"
            " '12345678-1234-5678-1234-567812345678', '\\xdeadbeef',"
            " '123456789012345678901234567890.123456789000', '0', '0', '0',"
            " '[]', '[1, \"x\"]')");
    exec_ok(c, "BEGIN");
    exec_ok(c, "UPDATE t_types SET i4 = 7, t = 'updated' WHERE id = 2");
    exec_ok(c, "UPDATE t_types SET id = 100 WHERE id = 3");
    exec_ok(c, "DELETE FROM t_types WHERE id = 4");
    exec_ok(c, "COMMIT");
}

static void workload_toast(PGconn *c)
{
    exec_ok(c, "CREATE TABLE t_toast (id int4 PRIMARY KEY, small int4, big "
               "text)");
    exec_ok(c, "ALTER TABLE t_toast ALTER big SET STORAGE EXTERNAL");
    exec_ok(c, "CREATE TABLE t_full (id int4, v text, big text)");
    exec_ok(c, "ALTER TABLE t_full ALTER big SET STORAGE EXTERNAL");
    exec_ok(c, "ALTER TABLE t_full REPLICA IDENTITY FULL");
    exec_ok(c, "CREATE PUBLICATION p FOR ALL TABLES");
}

static void run_toast(PGconn *c, int rows, int txn_rows)
{
    (void)rows;
    (void)txn_rows;
    exec_ok(c, "INSERT INTO t_toast VALUES (1, 1, repeat('toast', 500)),"
               " (2, 2, 'short')");
    exec_ok(c, "UPDATE t_toast SET small = 10 WHERE id = 1");
    exec_ok(c, "INSERT INTO t_full VALUES (1, 'one', repeat('full', 600)),"
               " (2, NULL, NULL)");
    exec_ok(c, "UPDATE t_full SET v = 'uno' WHERE id = 1");
    exec_ok(c, "DELETE FROM t_full WHERE id = 2");
}

static void workload_ddl(PGconn *c)
{
    exec_ok(c, "CREATE TABLE t_a (id int4 PRIMARY KEY, a text)");
    exec_ok(c, "CREATE TABLE t_b (id int8 PRIMARY KEY, iv interval)");
    exec_ok(c, "CREATE PUBLICATION p FOR ALL TABLES");
}

static void run_ddl(PGconn *c, int rows, int txn_rows)
{
    (void)rows;
    (void)txn_rows;
    exec_ok(c, "SELECT pg_logical_emit_message(false, 'hr', 'outside')");
    exec_ok(c, "BEGIN");
    exec_ok(c, "INSERT INTO t_a VALUES (1, 'old shape')");
    exec_ok(c, "SELECT pg_logical_emit_message(true, 'hr', 'inside')");
    exec_ok(c, "ALTER TABLE t_a ADD COLUMN extra float8 DEFAULT 7");
    exec_ok(c, "INSERT INTO t_a VALUES (2, 'new shape', 0.25)");
    exec_ok(c, "INSERT INTO t_b VALUES (1, '1 day 02:00:00')");
    exec_ok(c, "COMMIT");
    exec_ok(c, "TRUNCATE t_a, t_b RESTART IDENTITY CASCADE");
}

static void workload_stream(PGconn *c)
{
    exec_ok(c, "CREATE TABLE t_big (id int4 PRIMARY KEY, payload text, n "
               "numeric)");
    exec_ok(c, "CREATE PUBLICATION p FOR ALL TABLES");
}

static void run_stream(PGconn *c, int rows, int txn_rows)
{
    (void)rows;
    (void)txn_rows;
    exec_ok(c, "BEGIN");
    exec_ok(c, "INSERT INTO t_big SELECT g, repeat(md5(g::text), 4), g / 7.0"
               " FROM generate_series(1, 1500) g");
    exec_ok(c, "SAVEPOINT s1");
    exec_ok(c, "INSERT INTO t_big SELECT g, 'rolled back', 0"
               " FROM generate_series(2001, 3000) g");
    exec_ok(c, "ROLLBACK TO SAVEPOINT s1");
    exec_ok(c, "INSERT INTO t_big SELECT g, repeat(md5(g::text), 4), g / 7.0"
               " FROM generate_series(3001, 4000) g");
    exec_ok(c, "SELECT pg_logical_emit_message(true, 'hr', 'streamed')");
    exec_ok(c, "UPDATE t_big SET n = n + 1 WHERE id <= 3");
    exec_ok(c, "DELETE FROM t_big WHERE id = 4");
    exec_ok(c, "COMMIT");
    exec_ok(c, "BEGIN");
    exec_ok(c, "INSERT INTO t_big SELECT g, repeat('x', 200), 0"
               " FROM generate_series(100001, 102000) g");
    exec_ok(c, "ROLLBACK");
    exec_ok(c, "INSERT INTO t_big VALUES (9999, 'after', 5)");
}

/* A realistic 10-column row: what a multi-tenant application writes. */
static const char bench_schema[] =
    "CREATE TABLE orders (id int8 PRIMARY KEY, tenant_id int4 NOT NULL,"
    " created_at timestamptz NOT NULL, amount numeric(12,2), quantity int4,"
    " unit_price float8, status text, sku varchar(32), paid bool,"
    " note text)";

static void workload_bench(PGconn *c)
{
    exec_ok(c, "%s", bench_schema);
    exec_ok(c, "CREATE PUBLICATION p FOR ALL TABLES");
}

static void run_bench(PGconn *c, int rows, int txn_rows)
{
    for (int first = 1; first <= rows; first += txn_rows) {
        int last = first + txn_rows - 1;
        if (last > rows)
            last = rows;
        exec_ok(c,
                "INSERT INTO orders SELECT g, 1 + g %% 100,"
                " '2024-01-01 00:00:00+00'::timestamptz"
                "   + g * interval '1.234567 second',"
                " round((random() * 10000)::numeric, 2), 1 + g %% 20,"
                " round((random() * 500)::numeric, 2)::float8,"
                " (ARRAY['new','paid','shipped','cancelled'])[1 + g %% 4],"
                " 'SKU-' || lpad((g %% 100000)::text, 6, '0'), g %% 3 <> 0,"
                " CASE WHEN g %% 5 = 0 THEN NULL ELSE 'order note ' || g END"
                " FROM generate_series(%d, %d) g",
                first, last);
    }
}

static const struct {
    const char *name;
    void (*setup)(PGconn *);
    void (*run)(PGconn *, int rows, int txn_rows);
} workloads[] = {
    {"types", workload_types, run_types},
    {"toast", workload_toast, run_toast},
    {"ddl", workload_ddl, run_ddl},
    {"stream", workload_stream, run_stream},
    {"bench", workload_bench, run_bench},
};

/* ---- capture ----------------------------------------------------------- */

typedef struct capture {
    FILE *out;
    int fuzz;
    int thin;      /* 0: keep everything */
    int kept_rows; /* row changes kept in the current txn / segment */
    size_t payloads, written, skipped_long, thinned, bytes;
    size_t txns, changes, keepalives;
    int done;
    int reply_requested;
    uint64_t confirmed;
} capture;

static int on_txn(void *ctx, const hr_pgtxn *txn)
{
    capture *c = ctx;
    c->txns++;
    c->changes += hr_pgtxn_changes(txn);
    c->confirmed = hr_pgtxn_end_lsn(txn);
    return HR_OK;
}

static int on_keepalive(void *ctx, uint64_t wal_end, int64_t t, int reply)
{
    capture *c = ctx;
    (void)wal_end;
    (void)t;
    c->keepalives++;
    c->reply_requested |= reply;
    return HR_OK;
}

static int on_message(void *ctx, uint64_t lsn, const char *prefix,
                      const uint8_t *content, size_t len)
{
    capture *c = ctx;
    (void)lsn;
    (void)content;
    (void)len;
    if (strcmp(prefix, END_PREFIX) == 0)
        c->done = 1;
    return HR_OK;
}

/* Whether --thin keeps this payload. */
static int keep(capture *c, const uint8_t *p, size_t n)
{
    if (!c->thin)
        return 1;
    if (n >= 1 && p[0] == 'k')
        return 0;
    if (n < 26 || p[0] != 'w')
        return 1;
    switch (p[25]) {
    case 'B': /* Begin, Stream Start: a new count */
    case 'S':
        c->kept_rows = 0;
        return 1;
    case 'I':
    case 'U':
    case 'D':
        return c->kept_rows++ < c->thin;
    default:
        return 1;
    }
}

static void write_payload(capture *c, const uint8_t *p, size_t n)
{
    if (!keep(c, p, n)) {
        c->thinned++;
        return;
    }
    uint8_t head[4];
    size_t hlen;
    if (c->fuzz) {
        if (n > 0x7fff) {
            c->skipped_long++;
            return;
        }
        head[0] = (uint8_t)(n >> 8);
        head[1] = (uint8_t)n;
        hlen = 2;
    } else {
        head[0] = (uint8_t)(n >> 24);
        head[1] = (uint8_t)(n >> 16);
        head[2] = (uint8_t)(n >> 8);
        head[3] = (uint8_t)n;
        hlen = 4;
    }
    if (fwrite(head, 1, hlen, c->out) != hlen || fwrite(p, 1, n, c->out) != n)
        die("write failed");
    c->written++;
    c->bytes += hlen + n;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (uint8_t)(v >> (56 - 8 * k));
}

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
    if (PQputCopyData(conn, (const char *)msg, sizeof msg) != 1 ||
        PQflush(conn) < 0)
        die("status update: %s", PQerrorMessage(conn));
}

static void usage(void)
{
    fprintf(stderr,
            "usage: capture_pgoutput [--workload types|toast|ddl|stream|bench]"
            " [--binary] [--format fuzz|dump] [--thin N] [--rows N]"
            " [--txn-rows N] CONNINFO OUTFILE\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *workload = "types", *format = "dump";
    int binary = 0, thin = 0, rows = 100000, txn_rows = 1000;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--binary") == 0)
            binary = 1;
        else if (i + 1 >= argc)
            usage();
        else if (strcmp(argv[i], "--workload") == 0)
            workload = argv[++i];
        else if (strcmp(argv[i], "--format") == 0)
            format = argv[++i];
        else if (strcmp(argv[i], "--thin") == 0)
            thin = atoi(argv[++i]);
        else if (strcmp(argv[i], "--rows") == 0)
            rows = atoi(argv[++i]);
        else if (strcmp(argv[i], "--txn-rows") == 0)
            txn_rows = atoi(argv[++i]);
        else
            usage();
    }
    if (argc - i != 2 || rows < 1 || txn_rows < 1 || thin < 0 ||
        (strcmp(format, "fuzz") != 0 && strcmp(format, "dump") != 0))
        usage();
    const char *conninfo = argv[i], *outfile = argv[i + 1];
    size_t w = 0;
    while (w < sizeof workloads / sizeof workloads[0] &&
           strcmp(workloads[w].name, workload) != 0)
        w++;
    if (w == sizeof workloads / sizeof workloads[0])
        usage();

    /* A fresh database, the workload's tables, a slot, the workload. */
    char db[64];
    snprintf(db, sizeof db, "hr_capture_%s", workload);
    PGconn *admin = connect_to(conninfo, "postgres", 0);
    exec_ok(admin, "DROP DATABASE IF EXISTS %s", db);
    exec_ok(admin, "CREATE DATABASE %s", db);
    PQfinish(admin);
    PGconn *sql = connect_to(conninfo, db, 0);
    workloads[w].setup(sql);
    PGconn *repl = connect_to(conninfo, db, 1);
    exec_ok(repl, "CREATE_REPLICATION_SLOT hr_capture LOGICAL pgoutput "
                  "(SNAPSHOT 'nothing')");
    workloads[w].run(sql, rows, txn_rows);
    exec_ok(sql, "SELECT pg_logical_emit_message(false, '" END_PREFIX "', '')");
    PQfinish(sql);

    capture c;
    memset(&c, 0, sizeof c);
    c.fuzz = strcmp(format, "fuzz") == 0;
    c.thin = thin;
    c.out = fopen(outfile, "wb");
    if (!c.out)
        die("cannot open %s", outfile);
    hr_env *env;
    hr_pgdecoder *dec;
    const hr_pgdecoder_callbacks cb = {HR_PGDECODER_CALLBACKS_VERSION,
                                       &c,
                                       on_txn,
                                       NULL,
                                       on_keepalive,
                                       on_message};
    if (hr_env_new(&env, NULL) != HR_OK ||
        hr_pgdecoder_new(env, &cb, &dec) != HR_OK)
        die("cannot make a decoder");

    exec_ok(repl,
            "START_REPLICATION SLOT hr_capture LOGICAL 0/0 (proto_version '2',"
            " publication_names 'p', streaming 'on', binary '%s', messages "
            "'true')",
            binary ? "true" : "false");
    const time_t deadline = time(NULL) + 600;
    while (!c.done) {
        if (time(NULL) > deadline)
            die("no end marker after 600 s");
        char *buf = NULL;
        const int n = PQgetCopyData(repl, &buf, 1);
        if (n > 0) {
            c.payloads++;
            write_payload(&c, (const uint8_t *)buf, (size_t)n);
            const int rc =
                hr_pgdecoder_feed(dec, (const uint8_t *)buf, (size_t)n);
            PQfreemem(buf);
            if (rc != HR_OK)
                die("the decoder refused payload %zu: %s: %s", c.payloads,
                    hr_strerror(rc), hr_pgdecoder_errmsg(dec));
            if (c.reply_requested || c.payloads % 1024 == 0) {
                send_status(repl, hr_pgdecoder_wal_end(dec), c.confirmed);
                c.reply_requested = 0;
            }
            continue;
        }
        if (n < 0)
            die("PQgetCopyData: %s", PQerrorMessage(repl));
        struct pollfd pfd = {.fd = PQsocket(repl), .events = POLLIN};
        poll(&pfd, 1, 1000);
        if (!PQconsumeInput(repl))
            die("%s", PQerrorMessage(repl));
    }
    send_status(repl, hr_pgdecoder_wal_end(dec), c.confirmed);
    PQfinish(repl);
    if (fclose(c.out) != 0)
        die("cannot write %s", outfile);
    hr_pgdecoder_free(dec);
    hr_env_free(env);

    /* The slot is gone with the walsender; drop it so the database can go. */
    repl = connect_to(conninfo, db, 1);
    exec_ok(repl, "DROP_REPLICATION_SLOT hr_capture WAIT");
    PQfinish(repl);

    printf("%s: %zu payloads received, %zu written (%zu bytes), %zu thinned,"
           " %zu too long for the fuzz format; %zu transactions, %zu changes,"
           " %zu keepalives\n",
           outfile, c.payloads, c.written, c.bytes, c.thinned, c.skipped_long,
           c.txns, c.changes, c.keepalives);
    return 0;
}
