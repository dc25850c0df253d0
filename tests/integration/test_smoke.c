/* test_smoke.c - the integration harness works: two PostgreSQL servers set
 * up for logical replication and a NATS server with JetStream.
 *
 * Run through tests/support/with-servers --pg source --pg target --nats,
 * which sets HR_TEST_PG_SOURCE, HR_TEST_PG_TARGET and HR_TEST_NATS_URL.
 * Without them every test fails: a missing server is a broken harness,
 * never a reason to skip. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <nats/nats.h>

#include <heliosrepl/heliosrepl.h>

#define SMOKE_STREAM "HR_SMOKE"
#define SMOKE_SUBJECTS "hr.smoke.>"
#define SMOKE_SUBJECT "hr.smoke.hello"

/* ---- helpers ------------------------------------------------------------ */

static const char *require_env(const char *name)
{
    const char *value = getenv(name);

    ck_assert_msg(value != NULL && value[0] != '\0',
                  "%s is not set: run this test through "
                  "tests/support/with-servers --pg source --pg target --nats",
                  name);
    return value;
}

/* Connects to the server named by env var `name`, appending `extra` (may be
 * NULL) to its conninfo; fails the test unless the connection is up. */
static PGconn *pg_connect(const char *name, const char *extra)
{
    const char *conninfo = require_env(name);
    char buf[1024];
    PGconn *conn;

    ck_assert_msg(snprintf(buf, sizeof buf, "%s%s", conninfo,
                           extra ? extra : "") < (int)sizeof buf,
                  "%s is too long", name);
    conn = PQconnectdb(buf);
    ck_assert_msg(conn != NULL, "%s: PQconnectdb returned NULL", name);
    ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "%s: cannot connect to '%s': %s",
                  name, buf, PQerrorMessage(conn));
    return conn;
}

/* Runs a query that must return exactly one row and one column and copies
 * that value into out. */
static void pg_query_value(PGconn *conn, const char *what, const char *sql,
                           char *out, size_t outlen)
{
    PGresult *res = PQexec(conn, sql);

    ck_assert_msg(res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK,
                  "%s: '%s' failed: %s", what, sql, PQerrorMessage(conn));
    ck_assert_msg(PQntuples(res) == 1 && PQnfields(res) == 1,
                  "%s: '%s' returned %d rows x %d columns, expected 1 x 1", what,
                  sql, PQntuples(res), PQnfields(res));
    ck_assert_msg(snprintf(out, outlen, "%s", PQgetvalue(res, 0, 0)) < (int)outlen,
                  "%s: value of '%s' too long", what, sql);
    PQclear(res);
}

/* Fails the test with nats.c's own description of what went wrong. */
static void nats_check(natsStatus s, jsErrCode jerr, const char *what)
{
    if (s != NATS_OK) {
        natsStatus last = NATS_OK;
        const char *detail = nats_GetLastError(&last);

        if (detail == NULL)
            detail = "";
        ck_abort_msg("%s failed: %s (status %d, JetStream error %d)%s%s", what,
                     natsStatus_GetText(s), (int)s, (int)jerr,
                     detail[0] ? ": " : "", detail);
    }
}

/* ---- environment ---------------------------------------------------------- */

START_TEST(environment_is_set)
{
    require_env("HR_TEST_PG_SOURCE");
    require_env("HR_TEST_PG_TARGET");
    require_env("HR_TEST_NATS_URL");
}
END_TEST

/* ---- PostgreSQL ------------------------------------------------------------- */

START_TEST(source_and_target_are_different_servers)
{
    PGconn *src = pg_connect("HR_TEST_PG_SOURCE", NULL);
    PGconn *dst = pg_connect("HR_TEST_PG_TARGET", NULL);
    char src_port[32], dst_port[32], src_sysid[64], dst_sysid[64];
    const char *sysid_sql = "SELECT system_identifier FROM pg_control_system()";

    pg_query_value(src, "source", "SELECT inet_server_port()", src_port,
                   sizeof src_port);
    pg_query_value(dst, "target", "SELECT inet_server_port()", dst_port,
                   sizeof dst_port);
    ck_assert_msg(strcmp(src_port, dst_port) != 0,
                  "source and target are the same server (port %s)", src_port);

    /* Different ports could still be one cluster behind a proxy: separate
     * initdb runs have different system identifiers. */
    pg_query_value(src, "source", sysid_sql, src_sysid, sizeof src_sysid);
    pg_query_value(dst, "target", sysid_sql, dst_sysid, sizeof dst_sysid);
    ck_assert_msg(strcmp(src_sysid, dst_sysid) != 0,
                  "source and target are the same cluster (system id %s)",
                  src_sysid);

    PQfinish(src);
    PQfinish(dst);
}
END_TEST

START_TEST(wal_level_is_logical)
{
    const char *names[] = {"HR_TEST_PG_SOURCE", "HR_TEST_PG_TARGET"};

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        PGconn *conn = pg_connect(names[i], NULL);
        char level[32];

        pg_query_value(conn, names[i], "SHOW wal_level", level, sizeof level);
        ck_assert_msg(strcmp(level, "logical") == 0,
                      "%s: wal_level is '%s', expected 'logical'", names[i], level);
        PQfinish(conn);
    }
}
END_TEST

START_TEST(replication_connection_identifies_system)
{
    const char *names[] = {"HR_TEST_PG_SOURCE", "HR_TEST_PG_TARGET"};

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        PGconn *conn = pg_connect(names[i], " replication=database");
        PGresult *res = PQexec(conn, "IDENTIFY_SYSTEM");

        ck_assert_msg(res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK,
                      "%s: IDENTIFY_SYSTEM failed: %s", names[i],
                      PQerrorMessage(conn));
        ck_assert_msg(PQntuples(res) == 1,
                      "%s: IDENTIFY_SYSTEM returned %d rows, expected 1", names[i],
                      PQntuples(res));
        /* systemid, timeline, xlogpos, dbname: a database-bound connection
         * names its database. */
        ck_assert_msg(PQnfields(res) == 4,
                      "%s: IDENTIFY_SYSTEM returned %d columns, expected 4",
                      names[i], PQnfields(res));
        ck_assert_msg(strcmp(PQgetvalue(res, 0, 3), "postgres") == 0,
                      "%s: IDENTIFY_SYSTEM dbname is '%s', expected 'postgres'",
                      names[i], PQgetvalue(res, 0, 3));
        PQclear(res);
        PQfinish(conn);
    }
}
END_TEST

/* ---- NATS JetStream --------------------------------------------------------- */

/* Connection and JetStream context, torn down by nats_teardown(). */
static natsConnection *nc;
static jsCtx *js;

static void nats_setup(void)
{
    const char *url = require_env("HR_TEST_NATS_URL");
    natsStatus s;

    s = natsConnection_ConnectTo(&nc, url);
    if (s != NATS_OK)
        ck_abort_msg("cannot connect to NATS at %s: %s", url, natsStatus_GetText(s));
    nats_check(natsConnection_JetStream(&js, nc, NULL), 0, "natsConnection_JetStream");
}

static void nats_teardown(void)
{
    jsCtx_Destroy(js);
    js = NULL;
    natsConnection_Destroy(nc);
    nc = NULL;
    /* Frees the library's threads and globals; without it LeakSanitizer
     * reports them. */
    nats_CloseAndWait(0);
}

START_TEST(jetstream_account_info)
{
    jsAccountInfo *ai = NULL;
    jsErrCode jerr = 0;

    nats_setup();
    nats_check(js_GetAccountInfo(&ai, js, NULL, &jerr), jerr,
               "js_GetAccountInfo (is JetStream enabled?)");
    ck_assert_ptr_nonnull(ai);
    jsAccountInfo_Destroy(ai);
    nats_teardown();
}
END_TEST

START_TEST(jetstream_stream_holds_published_message)
{
    const char *subjects[] = {SMOKE_SUBJECTS};
    const char payload[] = "hello from test_smoke";
    jsStreamConfig cfg;
    jsStreamInfo *si = NULL;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;

    nats_setup();

    jsStreamConfig_Init(&cfg);
    cfg.Name = SMOKE_STREAM;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    nats_check(js_AddStream(&si, js, &cfg, NULL, &jerr), jerr,
               "js_AddStream " SMOKE_STREAM);
    ck_assert_msg(si->State.Msgs == 0, "new stream already holds %llu messages",
                  (unsigned long long)si->State.Msgs);
    jsStreamInfo_Destroy(si);
    si = NULL;

    nats_check(js_Publish(&pa, js, SMOKE_SUBJECT, payload, (int)strlen(payload),
                          NULL, &jerr),
               jerr, "js_Publish " SMOKE_SUBJECT);
    ck_assert_str_eq(pa->Stream, SMOKE_STREAM);
    ck_assert_uint_eq(pa->Sequence, 1);
    jsPubAck_Destroy(pa);

    nats_check(js_GetStreamInfo(&si, js, SMOKE_STREAM, NULL, &jerr), jerr,
               "js_GetStreamInfo " SMOKE_STREAM);
    ck_assert_msg(si->State.Msgs == 1, "stream holds %llu messages, expected 1",
                  (unsigned long long)si->State.Msgs);
    ck_assert_msg(si->State.Bytes > 0, "stream holds 0 bytes");
    jsStreamInfo_Destroy(si);

    nats_check(js_DeleteStream(js, SMOKE_STREAM, NULL, &jerr), jerr,
               "js_DeleteStream " SMOKE_STREAM);
    nats_teardown();
}
END_TEST

/* ---- main ------------------------------------------------------------------ */

static Suite *smoke_suite(void)
{
    Suite *s = suite_create("integration.smoke");
    TCase *env = tcase_create("environment");
    TCase *pg = tcase_create("postgresql");
    TCase *nats = tcase_create("nats");

    tcase_add_test(env, environment_is_set);
    suite_add_tcase(s, env);

    tcase_add_test(pg, source_and_target_are_different_servers);
    tcase_add_test(pg, wal_level_is_logical);
    tcase_add_test(pg, replication_connection_identifies_system);
    suite_add_tcase(s, pg);

    tcase_add_test(nats, jetstream_account_info);
    tcase_add_test(nats, jetstream_stream_holds_published_message);
    suite_add_tcase(s, nats);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(smoke_suite());
    int failed;

    /* The library links; print what we test against. */
    fprintf(stderr, "test_smoke: libheliosrepl %s\n", hr_version_string());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
