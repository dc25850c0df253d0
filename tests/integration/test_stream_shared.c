/*
 * test_stream_shared.c - one shared slot for many tenants, against a real
 * PostgreSQL 15:
 *
 *   - five tenants (and writers nobody registered) share tables and
 *     transactions: each tenant gets exactly its rows, in commit order, and
 *     the slot is confirmed to the minimum of the tenants' confirms;
 *   - tenants are added and removed while the stream runs;
 *   - rows moving between tenants reach the old tenant as deletes and the
 *     new one as inserts, with hr_stream_to_batch, under REPLICA IDENTITY
 *     DEFAULT and FULL (unchanged TOAST values filled from the old row).
 * Throughput figures live in benchmarks/bench_pgoutput.c, not here.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

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

static void make_tables(PGconn *conn)
{
    sql(conn, "CREATE TABLE orders (tenant_id text NOT NULL, id bigint NOT "
              "NULL, note text, PRIMARY KEY (tenant_id, id));"
              "CREATE TABLE items (tenant_id text NOT NULL, id bigint NOT "
              "NULL, note text, PRIMARY KEY (tenant_id, id))");
}

/* What a tenant should see: kind, table (0 orders, 1 items), id. */
typedef struct want {
    int kind, table;
    long id;
} want;

typedef struct expected {
    want *v;
    size_t n, cap;
} expected;

static void want_add(expected *e, int kind, int table, long id)
{
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 256;
        e->v = realloc(e->v, e->cap * sizeof *e->v);
        ck_assert_ptr_nonnull(e->v);
    }
    e->v[e->n++] = (want){kind, table, id};
}

static uint32_t rng = 12345;

static uint32_t next_rand(void)
{
    rng = rng * 1103515245u + 12345u;
    return (rng >> 8) & 0xffffff;
}

#define NT 6 /* t1..t5 registered, t6 never */
static const char *const tenants[NT] = {"t1", "t2", "t3", "t4", "t5", "t6"};
static const char *const tables[2] = {"orders", "items"};

/* A random multi-tenant transaction; expectations for t1..t5. */
static void random_txn(PGconn *conn, expected *exp, long *ids, int *live)
{
    char q[8192];
    size_t o = (size_t)snprintf(q, sizeof q, "BEGIN;");
    int ops = 1 + (int)(next_rand() % 6);
    for (int k = 0; k < ops; k++) {
        int t = (int)(next_rand() % NT), tb = (int)(next_rand() % 2);
        int op = (int)(next_rand() % 3);
        int *lv = &live[t * 2 + tb];
        long *nx = &ids[t * 2 + tb];
        if (op == 0 || *lv == 0) {
            long id = ++*nx;
            o += (size_t)snprintf(q + o, sizeof q - o,
                                  "INSERT INTO %s VALUES ('%s', %ld, 'n');",
                                  tables[tb], tenants[t], id);
            ++*lv;
            if (t < 5)
                want_add(&exp[t], HR_PGCHANGE_INSERT, tb, id);
        } else if (op == 1) {
            long id = *nx; /* the newest row is alive */
            o += (size_t)snprintf(q + o, sizeof q - o,
                                  "UPDATE %s SET note = note || 'u' WHERE "
                                  "tenant_id = '%s' AND id = %ld;",
                                  tables[tb], tenants[t], id);
            if (t < 5)
                want_add(&exp[t], HR_PGCHANGE_UPDATE, tb, id);
        } else {
            long id = *nx;
            o += (size_t)snprintf(q + o, sizeof q - o,
                                  "DELETE FROM %s WHERE tenant_id = '%s' AND "
                                  "id = %ld; INSERT INTO %s VALUES ('%s', %ld, "
                                  "'r');",
                                  tables[tb], tenants[t], id, tables[tb],
                                  tenants[t], id);
            if (t < 5) {
                want_add(&exp[t], HR_PGCHANGE_DELETE, tb, id);
                want_add(&exp[t], HR_PGCHANGE_INSERT, tb, id);
            }
        }
    }
    snprintf(q + o, sizeof q - o, "COMMIT;");
    sql(conn, "%s", q);
}

static void check_tenant(const collector *c, const char *tenant,
                         const expected *e)
{
    size_t k = 0;
    uint64_t last = 0;
    for (size_t i = 0; i < c->n; i++) {
        const got_row *r = &c->rows[i];
        ck_assert_str_ne(r->tenant, "t6");
        if (strcmp(r->tenant, tenant) != 0)
            continue;
        ck_assert_msg(k < e->n, "%s: more rows than expected", tenant);
        const want *w = &e->v[k++];
        ck_assert_msg(
            r->kind == w->kind && strcmp(r->table, tables[w->table]) == 0 &&
                r->id == w->id,
            "%s row %zu: got %d %s %ld, want %d %s %ld", tenant, k - 1, r->kind,
            r->table, r->id, w->kind, tables[w->table], w->id);
        ck_assert_uint_ge(r->end_lsn, last); /* commit order */
        last = r->end_lsn;
    }
    ck_assert_msg(k == e->n, "%s: %zu rows, want %zu", tenant, k, e->n);
}

START_TEST(five_tenants_each_get_their_rows)
{
    char ci[512];
    fresh_db("st_shared", ci, sizeof ci);
    PGconn *conn = db_connect(ci);
    make_tables(conn);

    collector c = {0};
    hr_stream_opts *o = base_opts(env, ci);
    ck_assert_int_eq(hr_stream_opts_set_mode(o, HR_STREAM_SHARED), HR_OK);
    hr_stream *s = make_stream(env, o, &c);
    hr_stream_opts_free(o);
    for (int t = 0; t < 5; t++)
        ck_assert_int_eq(hr_stream_add_tenant(s, tenants[t], 0), HR_OK);
    wait_streaming(s, 30);

    expected exp[5] = {{0}};
    long ids[NT * 2] = {0};
    int live[NT * 2] = {0};
    size_t total = 0;
    for (int i = 0; i < 400; i++) {
        random_txn(conn, exp, ids, live);
        if (i % 50 == 0)
            ck_assert_int_eq(hr_stream_run(s, 10), HR_OK);
    }
    for (int t = 0; t < 5; t++)
        total += exp[t].n;
    rows_goal g = {&c, total};
    run_until(s, goal_reached, &g, 60);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(hr_stream_run(s, 50), HR_OK);
    for (int t = 0; t < 5; t++)
        check_tenant(&c, tenants[t], &exp[t]);
    fprintf(stderr, "  shared: %zu rows of 5 tenants in %zu deliveries\n", c.n,
            c.txns);

    /* Confirms: the slot follows the slowest tenant. */
    uint64_t last[5] = {0};
    for (size_t i = 0; i < c.n; i++)
        for (int t = 0; t < 5; t++)
            if (!strcmp(c.rows[i].tenant, tenants[t]))
                last[t] = c.rows[i].end_lsn;
    uint64_t low = last[2] - 1; /* t3 confirms less than everything */
    for (int t = 0; t < 5; t++)
        ck_assert_int_eq(
            hr_stream_confirm(s, tenants[t], t == 2 ? low : last[t]), HR_OK);
    uint64_t deadline = mono_ns() + 10 * 1000000000ull;
    while (slot_confirmed(conn, "hr_shared") < low && mono_ns() < deadline)
        ck_assert_int_eq(hr_stream_run(s, 50), HR_OK);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, NULL), low);
    ck_assert_uint_eq(slot_confirmed(conn, "hr_shared"), low);

    /* Tenants come and go without a new slot. */
    ck_assert_int_eq(hr_stream_remove_tenant(s, "t1"), HR_OK);
    ck_assert_int_eq(hr_stream_add_tenant(s, "t6", 0), HR_OK);
    size_t before = c.n;
    sql(conn, "INSERT INTO orders VALUES ('t1', 9001, 'gone'), ('t6', 9001, "
              "'new'), ('t2', 9001, 'still')");
    g = (rows_goal){&c, before + 2};
    run_until(s, goal_reached, &g, 30);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(hr_stream_run(s, 50), HR_OK);
    ck_assert_uint_eq(c.n, before + 2);
    ck_assert_str_eq(c.rows[before].tenant, "t6");
    ck_assert_str_eq(c.rows[before + 1].tenant, "t2");
    ck_assert_int_eq(c.rows[before + 1].id, 9001);

    ck_assert_int_eq(hr_stream_drop(s), HR_OK);
    hr_stream_free(s);
    for (int t = 0; t < 5; t++)
        free(exp[t].v);
    collector_free(&c);
    PQfinish(conn);
}
END_TEST

static const got_batch_row *brow_of(const collector *c, const char *tenant,
                                    size_t k)
{
    for (size_t i = 0; i < c->nb; i++)
        if (!strcmp(c->brows[i].tenant, tenant) && k-- == 0)
            return &c->brows[i];
    ck_assert_msg(0, "%s has too few batch rows", tenant);
    return NULL;
}

static size_t brows_of(const collector *c, const char *tenant)
{
    size_t k = 0;
    for (size_t i = 0; i < c->nb; i++)
        k += !strcmp(c->brows[i].tenant, tenant);
    return k;
}

static void expect_brow(const collector *c, const char *tenant, size_t k,
                        const char *table, long op, long id, const char *note)
{
    const got_batch_row *r = brow_of(c, tenant, k);
    ck_assert_msg(!strcmp(r->table, table) && r->op == op && r->id == id &&
                      !strncmp(r->note, note, strlen(note)),
                  "%s batch row %zu: got %s %ld %ld '%s', want %s %ld %ld "
                  "'%s'",
                  tenant, k, r->table, r->op, r->id, r->note, table, op, id,
                  note);
}

START_TEST(rows_move_between_tenants)
{
    char ci[512];
    fresh_db("st_move", ci, sizeof ci);
    PGconn *conn = db_connect(ci);
    /* orders: REPLICA IDENTITY DEFAULT (the key has the tenant), a small
     * note; docs: FULL, a TOASTed note; blobs: DEFAULT, a TOASTed note */
    sql(conn, "CREATE TABLE orders (tenant_id text NOT NULL, id bigint NOT "
              "NULL, note text, PRIMARY KEY (tenant_id, id));"
              "CREATE TABLE docs (tenant_id text NOT NULL, id bigint NOT "
              "NULL, note text, PRIMARY KEY (tenant_id, id));"
              "ALTER TABLE docs REPLICA IDENTITY FULL;"
              "CREATE TABLE blobs (tenant_id text NOT NULL, id bigint NOT "
              "NULL, note text, PRIMARY KEY (tenant_id, id))");

    collector c = {0};
    ck_assert_int_eq(hr_batch_new(env, &c.batch), HR_OK);
    hr_stream_opts *o = base_opts(env, ci);
    ck_assert_int_eq(hr_stream_opts_set_mode(o, HR_STREAM_SHARED), HR_OK);
    hr_stream *s = make_stream(env, o, &c);
    hr_stream_opts_free(o);
    ck_assert_int_eq(hr_stream_add_tenant(s, "t1", 0), HR_OK);
    ck_assert_int_eq(hr_stream_add_tenant(s, "t2", 0), HR_OK);
    wait_streaming(s, 30);

    /* 6400 bytes of md5 hex: stored out of line, never compressed enough */
    const char *big = "(SELECT string_agg(md5(g::text), '') FROM "
                      "generate_series(1, 200) g)";
    const char *big_prefix = "c4ca4238a0b923820dcc509a6f75849b"; /* md5('1') */
    sql(conn,
        "INSERT INTO orders VALUES ('t1', 1, 'n1');"
        "INSERT INTO docs VALUES ('t1', 1, %s);"
        "INSERT INTO blobs VALUES ('t1', 1, %s)",
        big, big);
    sql(conn, "BEGIN;"
              "UPDATE orders SET tenant_id = 't2' WHERE id = 1;"
              "UPDATE docs SET tenant_id = 't2' WHERE id = 1;"
              "UPDATE blobs SET tenant_id = 't2' WHERE id = 1;"
              "COMMIT");
    /* to a tenant nobody registered; and back from one */
    sql(conn, "UPDATE orders SET tenant_id = 't9' WHERE id = 1");
    sql(conn, "UPDATE orders SET tenant_id = 't1', note = 'back' WHERE id = 1");

    rows_goal g = {&c, 3 + 3 + 3 + 1 + 1};
    run_until(s, goal_reached, &g, 30);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(hr_stream_run(s, 50), HR_OK);
    ck_assert_uint_eq(c.n, 11);

    /* t1: three inserts; the moves out as deletes (the key, or the whole
     * old row under FULL); the row coming back as an insert */
    ck_assert_uint_eq(brows_of(&c, "t1"), 7);
    expect_brow(&c, "t1", 0, "orders", 1, 1, "n1");
    expect_brow(&c, "t1", 1, "docs", 1, 1, big_prefix);
    expect_brow(&c, "t1", 2, "blobs", 1, 1, big_prefix);
    expect_brow(&c, "t1", 3, "orders", 3, 1, "<null>");
    expect_brow(&c, "t1", 4, "docs", 3, 1, big_prefix);
    expect_brow(&c, "t1", 5, "blobs", 3, 1, "<null>");
    expect_brow(&c, "t1", 6, "orders", 1, 1, "back");
    /* t2: the moves in as inserts - the unchanged TOASTed note from the
     * whole old row (FULL), the marker where only the key came (DEFAULT) -
     * then the move out to t9 */
    ck_assert_uint_eq(brows_of(&c, "t2"), 4);
    expect_brow(&c, "t2", 0, "orders", 1, 1, "n1");
    expect_brow(&c, "t2", 1, "docs", 1, 1, big_prefix);
    ck_assert_uint_eq(brow_of(&c, "t2", 1)->note_len, 6400);
    expect_brow(&c, "t2", 2, "blobs", 1, 1, "<toast>");
    expect_brow(&c, "t2", 3, "orders", 3, 1, "<null>");
    /* the changes as handed over: their tenants and roles */
    static const struct {
        const char *tenant;
        int role;
    } handed[11] = {
        {"t1", HR_STREAM_ROLE_AS_IS},  {"t1", HR_STREAM_ROLE_AS_IS},
        {"t1", HR_STREAM_ROLE_AS_IS},  {"t1", HR_STREAM_ROLE_DELETE},
        {"t1", HR_STREAM_ROLE_DELETE}, {"t1", HR_STREAM_ROLE_DELETE},
        {"t2", HR_STREAM_ROLE_INSERT}, {"t2", HR_STREAM_ROLE_INSERT},
        {"t2", HR_STREAM_ROLE_INSERT}, {"t2", HR_STREAM_ROLE_DELETE},
        {"t1", HR_STREAM_ROLE_INSERT}};
    for (size_t i = 0; i < 11; i++) {
        ck_assert_str_eq(c.rows[i].tenant, handed[i].tenant);
        ck_assert_int_eq(c.rows[i].role, handed[i].role);
        ck_assert_int_eq(c.rows[i].id, 1);
    }
    ck_assert_int_eq(hr_stream_drop(s), HR_OK);
    hr_stream_free(s);
    hr_batch_free(c.batch);
    collector_free(&c);
    PQfinish(conn);
}
END_TEST

static Suite *shared_suite(void)
{
    Suite *s = suite_create("integration.stream_shared");
    TCase *tc = tcase_create("shared");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, five_tenants_each_get_their_rows);
    tcase_add_test(tc, rows_move_between_tenants);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(shared_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
