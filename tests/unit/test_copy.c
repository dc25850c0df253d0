/*
 * test_copy.c - the initial copy's source side (lib/copy): the COPY text
 * row parser (every escape, every covered type - converted exactly as
 * pgoutput's text values are -, malformed rows, allocation failures), the
 * options builder, and the copier's handle without a server.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <heliosrepl/heliosrepl.h>

#include "check_main.h"
#include "copy/copytext.h"
#include "failing_allocator.h"
#include "pgoutput/pgvalue.h"

static hr_env *env;

static void setup(void)
{
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
}

static void teardown(void)
{
    hr_env_free(env);
}

/* A batch shaped like the copier's: "_hr_op" then nullable columns. */
static hr_batch *batch_of(const uint32_t *oids, int n)
{
    hr_batch *b;
    ck_assert_int_eq(hr_batch_new(env, &b), HR_OK);
    ck_assert_int_eq(hr_batch_set_relation(b, "s", "t"), HR_OK);
    ck_assert_int_eq(hr_batch_add_column(b, "_hr_op", HR_OID_INT2, 0), 0);
    for (int k = 0; k < n; k++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", k);
        ck_assert_int_eq(hr_batch_add_column(b, name, oids[k], 1), k + 1);
    }
    return b;
}

/* Parse a row given as a C string (copied: the parser writes in place). */
static int parse(hr_batch *b, const char *row, hr__copytext_err *err)
{
    size_t len = strlen(row);
    uint8_t *buf = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, row, len);
    int rc = hr__copytext_row(b, buf, len, err);
    free(buf);
    return rc;
}

static void expect_bytes(const hr_batch *b, int col, size_t row,
                         const void *want, size_t want_len)
{
    const uint8_t *data;
    size_t len;
    ck_assert_int_eq(hr_batch_get_bytes(b, col, row, &data, &len), HR_OK);
    ck_assert_uint_eq(len, want_len);
    ck_assert_int_eq(memcmp(data, want, len), 0);
}

START_TEST(every_escape)
{
    const uint32_t oids[] = {HR_OID_TEXT, HR_OID_TEXT, HR_OID_TEXT};
    hr_batch *b = batch_of(oids, 3);
    hr__copytext_err err;
    ck_assert_int_eq(
        parse(b,
              "a\\tb\\nc\\\\d\\be\\ff\\rg\\vh\tx\\101\\0y\\x41\\x4z\\xZ\\q"
              "\\7777\t\\N\n",
              &err),
        HR_OK);
    ck_assert_uint_eq(hr_batch_rows(b), 1);
    int64_t op;
    ck_assert_int_eq(hr_batch_get_int64(b, 0, 0, &op), HR_OK);
    ck_assert_int_eq(op, 1);
    expect_bytes(b, 1, 0, "a\tb\nc\\d\be\ff\rg\vh", 15);
    /* \101 'A', \0 NUL, \x41 'A', \x4 0x04, \xZ "xZ", \q 'q', \777 keeps
     * its low 8 bits (0xff) and the next '7' is plain */
    expect_bytes(b, 2, 0,
                 "xA\0yA\x04zxZq\xff"
                 "7",
                 12);
    ck_assert_int_eq(hr_batch_value_state(b, 3, 0), HR_VALUE_NULL);

    /* "\N" only alone is NULL; empty fields are empty strings */
    ck_assert_int_eq(parse(b, "a\\Nb\t\t\\\\N\n", &err), HR_OK);
    expect_bytes(b, 1, 1, "aNb", 3);
    expect_bytes(b, 2, 1, "", 0);
    expect_bytes(b, 3, 1, "\\N", 2);
    hr_batch_free(b);
}
END_TEST

/* Each covered type: COPY's text (as PostgreSQL 15 prints it with
 * DateStyle ISO, TimeZone UTC, extra_float_digits 3) and the text value
 * pgoutput would send for the same datum. */
typedef struct tcase_row {
    uint32_t oid;
    const char *copy; /* the field as COPY writes it */
    const char *text; /* the value itself */
} tcase_row;

static const tcase_row typed[] = {
    {HR_OID_BOOL, "t", "t"},
    {HR_OID_BOOL, "f", "f"},
    {HR_OID_INT2, "-32768", "-32768"},
    {HR_OID_INT4, "2147483647", "2147483647"},
    {HR_OID_INT8, "-9223372036854775808", "-9223372036854775808"},
    {HR_OID_FLOAT4, "NaN", "NaN"},
    {HR_OID_FLOAT4, "-0", "-0"},
    {HR_OID_FLOAT4, "1.17549435e-38", "1.17549435e-38"},
    {HR_OID_FLOAT8, "Infinity", "Infinity"},
    {HR_OID_FLOAT8, "-Infinity", "-Infinity"},
    {HR_OID_FLOAT8, "-0", "-0"},
    {HR_OID_FLOAT8, "0.1", "0.1"},
    {HR_OID_FLOAT8, "NaN", "NaN"},
    {HR_OID_NUMERIC, "-123456789.000000001", "-123456789.000000001"},
    {HR_OID_NUMERIC, "NaN", "NaN"},
    {HR_OID_TEXT, "tab\\there\\nnew\\\\line", "tab\there\nnew\\line"},
    {HR_OID_VARCHAR, "caf\xc3\xa9", "caf\xc3\xa9"},
    {HR_OID_BYTEA, "\\\\x00ff5c0a", "\\x00ff5c0a"},
    {HR_OID_DATE, "2024-02-29", "2024-02-29"},
    {HR_OID_DATE, "0044-03-15 BC", "0044-03-15 BC"},
    {HR_OID_DATE, "infinity", "infinity"},
    {HR_OID_TIMESTAMP, "2024-01-02 03:04:05.123456",
     "2024-01-02 03:04:05.123456"},
    {HR_OID_TIMESTAMP, "-infinity", "-infinity"},
    {HR_OID_TIMESTAMPTZ, "1999-12-31 23:59:59.5+00",
     "1999-12-31 23:59:59.5+00"},
    {HR_OID_TIMESTAMPTZ, "infinity", "infinity"},
    {HR_OID_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
     "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
    {HR_OID_JSON, "{\"a\": \"x\\\\ty\"}", "{\"a\": \"x\\ty\"}"},
    {HR_OID_JSONB, "{\"k\": [1, 2, null]}", "{\"k\": [1, 2, null]}"},
    {4242u, "(1,2)", "(1,2)"}, /* a type the batch does not know: text */
};
#define NTYPED (sizeof typed / sizeof typed[0])

START_TEST(every_type_as_pgoutput_converts_it)
{
    uint32_t oids[NTYPED];
    for (size_t i = 0; i < NTYPED; i++)
        oids[i] = typed[i].oid;
    hr_batch *got = batch_of(oids, (int)NTYPED);
    hr_batch *want = batch_of(oids, (int)NTYPED);

    /* row 1: every value; row 2: every value NULL */
    char row[4096] = "";
    char nulls[4096] = "";
    for (size_t i = 0; i < NTYPED; i++) {
        strcat(row, typed[i].copy);
        strcat(row, i + 1 < NTYPED ? "\t" : "\n");
        strcat(nulls, i + 1 < NTYPED ? "\\N\t" : "\\N\n");
    }
    hr__copytext_err err;
    int rc = parse(got, row, &err);
    ck_assert_msg(rc == HR_OK, "field %d: %s", err.field, err.why);
    ck_assert_int_eq(parse(got, nulls, &err), HR_OK);

    ck_assert_int_eq(hr_batch_append_int64(want, 0, 1), HR_OK);
    for (size_t i = 0; i < NTYPED; i++)
        ck_assert_int_eq(hr__pgvalue_append(want, (int)i + 1, 't',
                                            (const uint8_t *)typed[i].text,
                                            strlen(typed[i].text)),
                         HR_OK);
    ck_assert_int_eq(hr_batch_append_int64(want, 0, 1), HR_OK);
    for (size_t i = 0; i < NTYPED; i++)
        ck_assert_int_eq(hr_batch_append_null(want, (int)i + 1), HR_OK);
    ck_assert(hr_batch_equal(got, want));

    /* spot checks of the typed values themselves */
    int v;
    ck_assert_int_eq(hr_batch_get_bool(got, 1, 0, &v), HR_OK);
    ck_assert_int_eq(v, 1);
    float f;
    ck_assert_int_eq(hr_batch_get_float4(got, 6, 0, &f), HR_OK);
    ck_assert(isnan(f));
    double d;
    ck_assert_int_eq(hr_batch_get_float8(got, 11, 0, &d), HR_OK);
    ck_assert(d == 0.0 && signbit(d));
    expect_bytes(got, 18, 0, "\x00\xff\x5c\x0a", 4);
    int64_t day;
    ck_assert_int_eq(hr_batch_get_int64(got, 21, 0, &day), HR_OK);
    ck_assert_int_eq(day, HR__PG_DATE_NOEND);
    ck_assert_int_eq(hr_batch_value_state(got, 3, 1), HR_VALUE_NULL);
    hr_batch_free(got);
    hr_batch_free(want);
}
END_TEST

START_TEST(malformed_rows_are_eproto)
{
    const uint32_t oids[] = {HR_OID_INT4, HR_OID_TEXT};
    hr_batch *b = batch_of(oids, 2);
    hr__copytext_err err;
    ck_assert_int_eq(parse(b, "1\tok\n", &err), HR_OK);
    static const struct {
        const char *row;
        int field;
    } bad[] = {
        {"1\tok", -1},            /* no newline */
        {"", -1},                 /* nothing */
        {"1\n", -1},              /* a field short */
        {"1\ta\tb\n", -1},        /* a field too many */
        {"1\ta\\\n", 1},          /* a backslash at the field's end */
        {"1\\\tb\n", 0},          /* a backslash before the tab */
        {"1\ta\rb\n", 1},         /* a raw carriage return */
        {"1\ta\nb\n", 1},         /* a raw newline inside */
        {"x\tok\n", 0},           /* not an int4 */
        {"99999999999\tok\n", 0}, /* out of range */
        {"\\N\\N\tok\n", 0},      /* "\N\N" is the text "NN" */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(parse(b, bad[i].row, &err) == HR_EPROTO, "row %zu", i);
        ck_assert_msg(err.field == bad[i].field, "row %zu: field %d", i,
                      err.field);
        ck_assert(err.why[0] != '\0');
        ck_assert_uint_eq(hr_batch_rows(b), 1);
        for (int k = 0; k < 3; k++) /* nothing of the row stays */
            ck_assert_int_eq(hr_batch_value_state(b, k, 1), HR_EINVAL);
    }
    ck_assert_int_eq(parse(b, "\\N\t\\N\n", &err), HR_OK);
    ck_assert_uint_eq(hr_batch_rows(b), 2);
    hr_batch_free(b);

    hr_batch *empty;
    ck_assert_int_eq(hr_batch_new(env, &empty), HR_OK);
    ck_assert_int_eq(parse(empty, "\n", &err), HR_EINVAL);
    hr_batch_free(empty);
}
END_TEST

/* ---- every allocation failure ---- */

typedef struct sweep_state {
    hr_batch *b;
    hr_copier_opts *o;
    hr_copier *c;
} sweep_state;

static int noop_batch(void *ctx, const char *s, const char *t, hr_batch *b)
{
    (void)ctx, (void)s, (void)t;
    hr_batch_free(b);
    return HR_OK;
}

static int sweep_op(hr_env *e, void *p)
{
    sweep_state *st = p;
    int rc = hr_batch_new(e, &st->b);
    if (rc == HR_OK)
        rc = hr_batch_add_column(st->b, "_hr_op", HR_OID_INT2, 0);
    const uint32_t oids[] = {HR_OID_TEXT, HR_OID_BYTEA, HR_OID_NUMERIC,
                             HR_OID_FLOAT8};
    for (int k = 0; k < 4 && rc >= 0; k++)
        rc = hr_batch_add_column(st->b,
                                 k == 0   ? "a"
                                 : k == 1 ? "b"
                                 : k == 2 ? "c"
                                          : "d",
                                 oids[k], 1);
    hr__copytext_err err;
    for (int i = 0; i < 40 && rc >= 0; i++) {
        char row[] = "some\\ttext\t\\\\x0102\t-1.5\tNaN\n";
        rc = hr__copytext_row(st->b, (uint8_t *)row, strlen(row), &err);
    }
    if (rc >= 0)
        rc = hr_copier_opts_new(e, &st->o);
    if (rc == HR_OK)
        rc = hr_copier_opts_set_conninfo(st->o, "host=/nonexistent port=1");
    if (rc == HR_OK)
        rc = hr_copier_opts_set_tenant(st->o, "acme");
    if (rc == HR_OK)
        rc = hr_copier_opts_add_table(st->o, "s.t");
    if (rc == HR_OK)
        rc = hr_copier_opts_add_skip_table(st->o, "s.u");
    if (rc == HR_OK)
        rc = hr_copier_opts_set_table_priority(st->o, "s.t", 2.5);
    if (rc == HR_OK)
        rc = hr_copier_opts_set_snapshot(st->o, "00000003-00000002-1");
    hr_copier_callbacks cb = {HR_COPIER_CALLBACKS_VERSION, NULL, NULL,
                              noop_batch, NULL};
    if (rc == HR_OK)
        rc = hr_copier_new(e, st->o, &cb, &st->c);
    return rc < 0 ? rc : HR_OK;
}

static void sweep_cleanup(void *p)
{
    sweep_state *st = p;
    hr_batch_free(st->b);
    hr_copier_free(st->c);
    hr_copier_opts_free(st->o);
    memset(st, 0, sizeof *st);
}

START_TEST(every_allocation_failure_is_clean)
{
    sweep_state st = {0};
    char why[256];
    long points =
        failing_allocator_sweep(sweep_op, sweep_cleanup, &st, why, sizeof why);
    ck_assert_msg(points > 10, "%s", why);
}
END_TEST

/* ---- options and the handle ---- */

START_TEST(options_are_checked)
{
    hr_copier_opts *o;
    ck_assert_int_eq(hr_copier_opts_new(NULL, &o), HR_EINVAL);
    ck_assert_int_eq(hr_copier_opts_new(env, NULL), HR_EINVAL);
    ck_assert_int_eq(hr_copier_opts_new(env, &o), HR_OK);
    ck_assert_int_eq(hr_copier_opts_set_tenant(o, "bad id"), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_copier_opts_errmsg(o), "tenant id"));
    ck_assert_int_eq(hr_copier_opts_set_tenant(o, ""), HR_EINVAL);
    char long_id[80];
    memset(long_id, 'a', 64);
    long_id[64] = '\0';
    ck_assert_int_eq(hr_copier_opts_set_tenant(o, long_id), HR_EINVAL);
    long_id[63] = '\0';
    ck_assert_int_eq(hr_copier_opts_set_tenant(o, long_id), HR_OK);
    ck_assert_str_eq(hr_copier_opts_errmsg(o), "");
    ck_assert_int_eq(hr_copier_opts_set_tenant(o, "Acme-1.eu_x"), HR_OK);
    ck_assert_int_eq(hr_copier_opts_set_conninfo(o, "nonsense=1"), HR_EINVAL);
    ck_assert_int_eq(hr_copier_opts_set_tenant_column(o, ""), HR_EINVAL);
    ck_assert_int_eq(hr_copier_opts_add_table(o, ".t"), HR_EINVAL);
    ck_assert_int_eq(hr_copier_opts_add_skip_table(o, "s."), HR_EINVAL);
    ck_assert_int_eq(hr_copier_opts_add_schema(o, ""), HR_EINVAL);
    ck_assert_int_eq(hr_copier_opts_set_table_priority(o, ".t", 1), HR_EINVAL);
    ck_assert_int_eq(hr_copier_opts_set_table_priority(o, "t", NAN), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_copier_opts_errmsg(o), "finite"));
    ck_assert_int_eq(hr_copier_opts_set_table_priority(o, NULL, 1), HR_EINVAL);
    ck_assert_int_eq(hr_copier_opts_set_table_priority(NULL, "t", 1),
                     HR_EINVAL);
    for (int i = 0; i < 20; i++) /* the values' array grows */
        ck_assert_int_eq(hr_copier_opts_set_table_priority(o, "s.t", i), HR_OK);
    ck_assert_str_eq(hr_copier_opts_errmsg(o), "");
    ck_assert_int_eq(hr_copier_opts_set_rows_per_batch(o, 0), HR_EINVAL);
    ck_assert_int_eq(hr_copier_opts_set_rows_per_batch(o, 1048577), HR_EINVAL);
    ck_assert_int_eq(hr_copier_opts_set_rows_per_batch(o, 1), HR_OK);
    ck_assert_int_eq(hr_copier_opts_set_snapshot(o, long_id), HR_OK);
    memset(long_id, 'a', 64);
    ck_assert_int_eq(hr_copier_opts_set_snapshot(o, long_id), HR_EINVAL);
    ck_assert_int_eq(hr_copier_opts_set_snapshot(o, ""), HR_OK);
    ck_assert_int_eq(hr_copier_opts_set_snapshot(o, NULL), HR_OK);

    hr_copier_callbacks cb = {HR_COPIER_CALLBACKS_VERSION, NULL, NULL,
                              noop_batch, NULL};
    hr_copier *c = NULL;
    /* no conninfo yet */
    ck_assert_int_eq(hr_copier_new(env, o, &cb, &c), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_env_errmsg(env), "conninfo"));
    ck_assert_int_eq(hr_copier_opts_set_conninfo(o, "dbname=x"), HR_OK);
    cb.version = 99;
    ck_assert_int_eq(hr_copier_new(env, o, &cb, &c), HR_EINVAL);
    cb.version = HR_COPIER_CALLBACKS_VERSION;
    cb.on_batch = NULL;
    ck_assert_int_eq(hr_copier_new(env, o, &cb, &c), HR_EINVAL);
    ck_assert_ptr_null(c);
    hr_copier_opts_free(o);
    ck_assert_int_eq(hr_copier_opts_new(env, &o), HR_OK);
    ck_assert_int_eq(hr_copier_opts_set_conninfo(o, "dbname=x"), HR_OK);
    cb.on_batch = noop_batch;
    /* no tenant */
    ck_assert_int_eq(hr_copier_new(env, o, &cb, &c), HR_EINVAL);
    hr_copier_opts_free(o);
    hr_copier_opts_free(NULL);
}
END_TEST

START_TEST(handle_without_a_server)
{
    hr_copier_opts *o;
    ck_assert_int_eq(hr_copier_opts_new(env, &o), HR_OK);
    /* a Unix socket directory that does not exist: fails at once */
    ck_assert_int_eq(
        hr_copier_opts_set_conninfo(o, "host=/nonexistent/hr port=1 dbname=x"),
        HR_OK);
    ck_assert_int_eq(hr_copier_opts_set_tenant(o, "acme"), HR_OK);
    hr_copier_callbacks cb = {HR_COPIER_CALLBACKS_VERSION, NULL, NULL,
                              noop_batch, NULL};
    hr_copier *c;
    ck_assert_int_eq(hr_copier_new(env, o, &cb, &c), HR_OK);
    hr_copier_opts_free(o); /* the copier keeps its own copy */

    ck_assert_int_eq(hr_copier_fd(c), -1);
    ck_assert_int_eq(hr_copier_interest(c), 0);
    ck_assert_int_eq(hr_copier_timeout_ms(c, 0), 0);
    ck_assert_int_eq(hr_copier_done(c), 0);
    ck_assert_uint_eq(hr_copier_snapshot_lsn(c), 0);
    uint64_t done = 9, expected = 9, bytes = 9;
    double pct = 9;
    ck_assert_int_eq(hr_copier_progress(c, &done, &expected, &bytes, &pct),
                     HR_OK);
    ck_assert(done == 0 && expected == 0 && bytes == 0 && pct == 0.0);
    ck_assert_int_eq(hr_copier_progress(c, NULL, NULL, NULL, NULL), HR_OK);

    int rc = hr_copier_run(c, 5000);
    ck_assert_int_eq(rc, HR_EIO);
    ck_assert_ptr_nonnull(strstr(hr_copier_errmsg(c), "connect"));
    /* final: the same again, no fd, no timer */
    ck_assert_int_eq(hr_copier_step(c, 0), HR_EIO);
    ck_assert_int_eq(hr_copier_fd(c), -1);
    ck_assert_int_eq(hr_copier_timeout_ms(c, 0), -1);
    hr_copier_free(c);

    ck_assert_int_eq(hr_copier_step(NULL, 0), HR_EINVAL);
    ck_assert_int_eq(hr_copier_run(NULL, 0), HR_EINVAL);
    ck_assert_int_eq(hr_copier_progress(NULL, NULL, NULL, NULL, NULL),
                     HR_EINVAL);
    ck_assert_int_eq(hr_copier_fd(NULL), -1);
    ck_assert_int_eq(hr_copier_done(NULL), 0);
    ck_assert_str_ne(hr_copier_errmsg(NULL), "");
    hr_copier_free(NULL);
}
END_TEST

static Suite *copy_suite(void)
{
    Suite *s = suite_create("copy");
    TCase *tc = tcase_create("copytext");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, every_escape);
    tcase_add_test(tc, every_type_as_pgoutput_converts_it);
    tcase_add_test(tc, malformed_rows_are_eproto);
    tcase_add_test(tc, every_allocation_failure_is_clean);
    suite_add_tcase(s, tc);
    TCase *h = tcase_create("handle");
    tcase_add_checked_fixture(h, setup, teardown);
    tcase_add_test(h, options_are_checked);
    tcase_add_test(h, handle_without_a_server);
    suite_add_tcase(s, h);
    return s;
}

int main(void)
{
    return run_suite(copy_suite());
}
