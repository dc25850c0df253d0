/* test_stream_common.c - see test_stream_common.h. */
#include "test_stream_common.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "stream/stream_internal.h"

const char *src_conninfo(void)
{
    const char *v = getenv("HR_TEST_PG_SOURCE");
    ck_assert_msg(v && *v, "HR_TEST_PG_SOURCE is not set: run this test "
                           "through tests/support/with-servers --pg source");
    return v;
}

PGconn *db_connect(const char *conninfo)
{
    PGconn *conn = PQconnectdb(conninfo);
    ck_assert_ptr_nonnull(conn);
    ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "cannot connect to '%s': %s",
                  conninfo, PQerrorMessage(conn));
    return conn;
}

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt,
                                                           va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    ck_assert_int_ge(n, 0);
    char *s = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(s);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

void sql(PGconn *conn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *q = vformat(fmt, ap);
    va_end(ap);
    PGresult *res = PQexec(conn, q);
    ExecStatusType st = PQresultStatus(res);
    ck_assert_msg(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK,
                  "'%.200s' failed: %s", q, PQerrorMessage(conn));
    PQclear(res);
    free(q);
}

void sql_value(PGconn *conn, char *out, size_t outlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *q = vformat(fmt, ap);
    va_end(ap);
    PGresult *res = PQexec(conn, q);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "'%.200s' failed: %s",
                  q, PQerrorMessage(conn));
    ck_assert_msg(PQntuples(res) == 1, "'%.200s' returned %d rows", q,
                  PQntuples(res));
    snprintf(out, outlen, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    free(q);
}

void fresh_db(const char *name, char *out, size_t outlen)
{
    PGconn *conn = db_connect(src_conninfo());
    /* Leftover slots of an earlier run would pin the database. */
    sql(conn,
        "SELECT pg_drop_replication_slot(slot_name) FROM "
        "pg_replication_slots WHERE database = '%s' AND active_pid IS "
        "NULL",
        name);
    sql(conn, "DROP DATABASE IF EXISTS %s", name);
    sql(conn, "CREATE DATABASE %s", name);
    PQfinish(conn);
    snprintf(out, outlen, "%s dbname=%s", src_conninfo(), name);
}

uint64_t parse_lsn(const char *s)
{
    unsigned hi = 0, lo = 0;
    if (!s || sscanf(s, "%X/%X", &hi, &lo) != 2)
        return 0;
    return ((uint64_t)hi << 32) | lo;
}

uint64_t slot_confirmed(PGconn *conn, const char *slot)
{
    char v[64];
    PGresult *res = PQexecParams(conn,
                                 "SELECT confirmed_flush_lsn FROM "
                                 "pg_replication_slots WHERE slot_name = $1",
                                 1, NULL, &slot, NULL, NULL, 0);
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    v[0] = 0;
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        snprintf(v, sizeof v, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return parse_lsn(v);
}

uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- collector ---- */

static int column(const hr_pgrelation *rel, const char *name)
{
    for (int c = 0; c < hr_pgrelation_columns(rel); c++)
        if (strcmp(hr_pgrelation_column_name(rel, c), name) == 0)
            return c;
    return -1;
}

static void text_of(const hr_pgtxn *txn, size_t i, hr_pgtuple which, int col,
                    char *out, size_t outlen)
{
    const uint8_t *data;
    size_t len;
    out[0] = 0;
    if (col < 0)
        return;
    int form = hr_pgtxn_change_value(txn, i, which, col, &data, &len);
    if (form == HR_PGVALUE_TEXT)
        snprintf(out, outlen, "%.*s", (int)len, (const char *)data);
}

static void batch_rows(collector *c, const char *tenant)
{
    const hr_batch *b = c->batch;
    int id_col = -1, note_col = -1;
    for (int k = 1; k < hr_batch_columns(b); k++) {
        if (!strcmp(hr_batch_column_name(b, k), "id"))
            id_col = k;
        if (!strcmp(hr_batch_column_name(b, k), "note"))
            note_col = k;
    }
    for (size_t row = 0; row < hr_batch_rows(b); row++) {
        if (c->nb == c->bcap) {
            c->bcap = c->bcap ? c->bcap * 2 : 256;
            c->brows = realloc(c->brows, c->bcap * sizeof *c->brows);
            ck_assert_ptr_nonnull(c->brows);
        }
        got_batch_row *r = &c->brows[c->nb++];
        memset(r, 0, sizeof *r);
        snprintf(r->tenant, sizeof r->tenant, "%s", tenant);
        snprintf(r->table, sizeof r->table, "%s", hr_batch_table_name(b));
        int64_t v = 0;
        ck_assert_int_eq(hr_batch_get_int64(b, 0, row, &v), HR_OK);
        r->op = (long)v;
        if (id_col > 0 && hr_batch_get_int64(b, id_col, row, &v) == HR_OK)
            r->id = (long)v;
        int st = note_col > 0 ? hr_batch_value_state(b, note_col, row)
                              : HR_VALUE_NULL;
        const uint8_t *data;
        size_t len;
        if (st == HR_VALUE_NULL) {
            snprintf(r->note, sizeof r->note, "<null>");
        } else if (st == HR_VALUE_UNCHANGED_TOAST) {
            snprintf(r->note, sizeof r->note, "<toast>");
        } else {
            ck_assert_int_eq(hr_batch_get_bytes(b, note_col, row, &data, &len),
                             HR_OK);
            snprintf(r->note, sizeof r->note, "%.*s", (int)len,
                     (const char *)data);
            r->note_len = len;
        }
    }
}

static void convert(collector *c, const char *tenant, const hr_pgtxn *txn,
                    const hr_stream_change *changes, size_t n)
{
    for (size_t k = 0; k < n;) {
        int kind = hr_pgtxn_change_kind(txn, changes[k].index);
        if (kind != HR_PGCHANGE_INSERT && kind != HR_PGCHANGE_UPDATE &&
            kind != HR_PGCHANGE_DELETE) {
            k++;
            continue;
        }
        size_t next = k;
        int rc = hr_stream_to_batch(txn, changes, n, k, c->batch, &next);
        ck_assert_msg(rc == HR_OK, "hr_stream_to_batch: %s: %s",
                      hr_status_name(rc), hr_batch_errmsg(c->batch));
        ck_assert_uint_gt(next, k);
        batch_rows(c, tenant);
        k = next;
    }
}

static int on_txn(void *ctx, const char *tenant, const hr_pgtxn *txn,
                  const hr_stream_change *changes, size_t n)
{
    collector *c = ctx;
    if (c->fail_next) {
        c->fail_next = 0;
        return HR_EIO;
    }
    uint64_t end = hr_pgtxn_end_lsn(txn);
    ck_assert_msg(end > 0, "transaction without an end LSN");
    if (c->batch)
        convert(c, tenant, txn, changes, n);
    for (size_t k = 0; k < n; k++) {
        size_t i = changes[k].index;
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 1024;
            c->rows = realloc(c->rows, c->cap * sizeof *c->rows);
            ck_assert_ptr_nonnull(c->rows);
        }
        got_row *r = &c->rows[c->n++];
        memset(r, 0, sizeof *r);
        snprintf(r->tenant, sizeof r->tenant, "%s", tenant);
        r->kind = hr_pgtxn_change_kind(txn, i);
        r->role = changes[k].role;
        r->end_lsn = end;
        r->xid = hr_pgtxn_xid(txn);
        const hr_pgrelation *rel = hr_pgtxn_change_relation(txn, i);
        if (!rel) {
            snprintf(r->table, sizeof r->table, "-");
            continue;
        }
        snprintf(r->table, sizeof r->table, "%s", hr_pgrelation_name(rel));
        char v[48];
        hr_pgtuple which =
            r->kind == HR_PGCHANGE_DELETE || r->role == HR_STREAM_ROLE_DELETE
                ? HR_PGTUPLE_OLD
                : HR_PGTUPLE_NEW;
        text_of(txn, i, which, column(rel, "id"), v, sizeof v);
        r->id = strtol(v, NULL, 10);
        if (which == HR_PGTUPLE_NEW)
            text_of(txn, i, which, column(rel, "note"), r->note,
                    sizeof r->note);
    }
    c->txns++;
    c->last_end = end;
    if (c->confirm_each)
        ck_assert_int_eq(hr_stream_confirm(c->stream, tenant, end), HR_OK);
    return HR_OK;
}

static int on_schema(void *ctx, const hr_pgrelation *rel)
{
    collector *c = ctx;
    (void)rel;
    c->schema_changes++;
    return HR_OK;
}

hr_stream_callbacks collector_callbacks(collector *c)
{
    hr_stream_callbacks cb = {HR_STREAM_CALLBACKS_VERSION, c, on_txn,
                              on_schema};
    return cb;
}

void collector_free(collector *c)
{
    free(c->rows);
    free(c->brows);
    memset(c, 0, sizeof *c);
}

size_t collector_count(const collector *c, const char *tenant)
{
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++)
        k += !tenant || strcmp(c->rows[i].tenant, tenant) == 0;
    return k;
}

/* ---- streams ---- */

static void log_sink(void *ctx, hr_log_level level, const char *message)
{
    (void)ctx;
    fprintf(stderr, "  [hr %d] %s\n", (int)level, message);
}

void log_to_stderr(hr_env *env)
{
    const char *l = getenv("HR_TEST_LOG");
    hr_log_level level =
        l && !strcasecmp(l, "debug") ? HR_LOG_DEBUG : HR_LOG_INFO;
    ck_assert_int_eq(hr_env_set_log(env, log_sink, NULL, level), HR_OK);
}

hr_stream_opts *base_opts(hr_env *env, const char *conninfo)
{
    hr_stream_opts *o;
    ck_assert_int_eq(hr_stream_opts_new(env, &o), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_conninfo(o, conninfo), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_status_interval_ms(o, 200), HR_OK);
    return o;
}

hr_stream *make_stream(hr_env *env, hr_stream_opts *opts, collector *c)
{
    hr_stream_callbacks cb = collector_callbacks(c);
    hr_stream *s = NULL;
    int rc = hr_stream_new(env, opts, &cb, &s);
    ck_assert_msg(rc == HR_OK, "hr_stream_new: %s: %s", hr_status_name(rc),
                  hr_env_errmsg(env));
    c->stream = s;
    return s;
}

void run_until(hr_stream *s, cond_fn cond, void *arg, double seconds)
{
    uint64_t deadline = mono_ns() + (uint64_t)(seconds * 1e9);
    while (!cond(arg)) {
        ck_assert_msg(mono_ns() < deadline, "timed out after %.1f s (%s)",
                      seconds, hr_stream_errmsg(s));
        int rc = hr_stream_run(s, 50);
        ck_assert_msg(rc == HR_OK, "hr_stream_run: %s: %s", hr_status_name(rc),
                      hr_stream_errmsg(s));
    }
}

int goal_reached(void *arg)
{
    rows_goal *g = arg;
    return g->c->n >= g->rows;
}

uint64_t stream_reconnects(const hr_stream *s)
{
    return s->reconnects;
}

uint64_t stream_heartbeats(const hr_stream *s)
{
    return s->heartbeats_emitted;
}

static int is_streaming(void *arg)
{
    return hr_stream_phase(arg) == HR_STREAM_PHASE_STREAMING;
}

void wait_streaming(hr_stream *s, double seconds)
{
    run_until(s, is_streaming, s, seconds);
}

int kill_walsender(PGconn *conn, const char *slot)
{
    PGresult *res = PQexecParams(
        conn,
        "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
        "WHERE slot_name = $1 AND active_pid IS NOT NULL",
        1, NULL, &slot, NULL, NULL, 0);
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    int n = PQntuples(res);
    PQclear(res);
    return n;
}
