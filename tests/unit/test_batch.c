/* test_batch.c - hr_batch: schema, appends, getters, equality, raw size. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <heliosrepl/heliosrepl.h>

#include "check_main.h"
#include "failing_allocator.h"

static hr_env *env;

static void setup(void)
{
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
}

static void teardown(void)
{
    hr_env_free(env);
}

START_TEST(columns_then_values)
{
    hr_batch *b;
    ck_assert_int_eq(hr_batch_new(env, &b), HR_OK);
    ck_assert_int_eq(hr_batch_set_relation(b, "public", "orders"), HR_OK);
    ck_assert_int_eq(hr_batch_add_column(b, "", HR_OID_TEXT, 1), HR_EINVAL);
    ck_assert_int_eq(hr_batch_add_column(b, "id", HR_OID_INT8, 0), 0);
    ck_assert_int_eq(hr_batch_add_column(b, "note", HR_OID_TEXT, 1), 1);
    ck_assert_int_eq(hr_batch_add_column(b, "price", HR_OID_FLOAT8, 1), 2);
    ck_assert_int_eq(hr_batch_append_int64(b, 0, 7), HR_OK);
    ck_assert_int_eq(hr_batch_rows(b), 0); /* row incomplete */
    ck_assert_int_eq(hr_batch_append_bytes(b, 1, "hi", 2), HR_OK);
    ck_assert_int_eq(hr_batch_append_float8(b, 2, -0.0), HR_OK);
    ck_assert_int_eq(hr_batch_rows(b), 1);
    ck_assert_int_eq(hr_batch_add_column(b, "late", HR_OID_INT4, 0), HR_ESTATE);
    ck_assert_int_eq(hr_batch_append_int64(b, 0, 8), HR_OK);
    ck_assert_int_eq(hr_batch_append_null(b, 1), HR_OK);
    ck_assert_int_eq(hr_batch_append_unchanged_toast(b, 2), HR_OK);
    ck_assert_int_eq(hr_batch_rows(b), 2);

    ck_assert_str_eq(hr_batch_schema_name(b), "public");
    ck_assert_str_eq(hr_batch_table_name(b), "orders");
    ck_assert_str_eq(hr_batch_column_name(b, 1), "note");
    ck_assert_uint_eq(hr_batch_column_type(b, 2), HR_OID_FLOAT8);
    ck_assert_int_eq(hr_batch_column_nullable(b, 0), 0);
    ck_assert_ptr_null(hr_batch_column_name(b, 3));

    int64_t i;
    const uint8_t *p;
    size_t len;
    double d;
    ck_assert_int_eq(hr_batch_get_int64(b, 0, 1, &i), HR_OK);
    ck_assert_int_eq(i, 8);
    ck_assert_int_eq(hr_batch_get_bytes(b, 1, 0, &p, &len), HR_OK);
    ck_assert_int_eq(len, 2);
    ck_assert_int_eq(memcmp(p, "hi", 2), 0);
    ck_assert_int_eq(hr_batch_get_float8(b, 2, 0, &d), HR_OK);
    ck_assert(signbit(d) && d == 0.0);
    ck_assert_int_eq(hr_batch_value_state(b, 1, 1), HR_VALUE_NULL);
    ck_assert_int_eq(hr_batch_value_state(b, 2, 1), HR_VALUE_UNCHANGED_TOAST);
    ck_assert_int_eq(hr_batch_get_bytes(b, 1, 1, &p, &len), HR_ENOTFOUND);
    ck_assert_int_eq(hr_batch_get_float8(b, 2, 1, &d), HR_ENOTFOUND);
    ck_assert_int_eq(hr_batch_value_state(b, 0, 2), HR_EINVAL);
    hr_batch_free(b);
}
END_TEST

START_TEST(type_and_range_checks)
{
    hr_batch *b;
    ck_assert_int_eq(hr_batch_new(env, &b), HR_OK);
    ck_assert_int_eq(hr_batch_add_column(b, "small", HR_OID_INT2, 0), 0);
    ck_assert_int_eq(hr_batch_add_column(b, "flag", HR_OID_BOOL, 0), 1);
    ck_assert_int_eq(hr_batch_add_column(b, "day", HR_OID_DATE, 1), 2);
    ck_assert_int_eq(hr_batch_append_int64(b, 0, 40000), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_batch_errmsg(b), "out of range"));
    ck_assert_int_eq(hr_batch_append_int64(b, 0, -32768), HR_OK);
    ck_assert_int_eq(hr_batch_append_bytes(b, 0, "x", 1), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_batch_errmsg(b), "\"small\""));
    ck_assert_int_eq(hr_batch_append_null(b, 1), HR_EINVAL); /* NOT NULL */
    ck_assert_int_eq(hr_batch_append_bool(b, 1, 5), HR_OK);
    ck_assert_int_eq(hr_batch_append_int64(b, 2, (int64_t)INT32_MAX + 1), HR_EINVAL);
    ck_assert_int_eq(hr_batch_append_int64(b, 9, 1), HR_EINVAL);
    ck_assert_int_eq(hr_batch_append_bytes(b, 9, NULL, 0), HR_EINVAL);
    int v;
    ck_assert_int_eq(hr_batch_get_bool(b, 1, 0, &v), HR_OK);
    ck_assert_int_eq(v, 1);
    int64_t i;
    ck_assert_int_eq(hr_batch_get_int64(b, 1, 0, &i), HR_EINVAL); /* bool col */
    hr_batch_free(b);
}
END_TEST

START_TEST(unknown_types_hold_text)
{
    hr_batch *b;
    ck_assert_int_eq(hr_batch_new(env, &b), HR_OK);
    ck_assert_int_eq(hr_batch_add_column(b, "range", 3904 /* int4range */, 0), 0);
    ck_assert_int_eq(hr_batch_append_bytes(b, 0, "[1,5)", 5), HR_OK);
    ck_assert_int_eq(hr_batch_append_int64(b, 0, 1), HR_EINVAL);
    hr_batch_free(b);
}
END_TEST

START_TEST(equality_is_bitwise)
{
    hr_batch *a, *b;
    ck_assert_int_eq(hr_batch_new(env, &a), HR_OK);
    ck_assert_int_eq(hr_batch_new(env, &b), HR_OK);
    hr_batch *both[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(hr_batch_add_column(both[k], "f", HR_OID_FLOAT8, 1), 0);
        ck_assert_int_eq(hr_batch_append_float8(both[k], 0, NAN), HR_OK);
    }
    ck_assert(hr_batch_equal(a, b));
    ck_assert_int_eq(hr_batch_append_float8(a, 0, 0.0), HR_OK);
    ck_assert_int_eq(hr_batch_append_float8(b, 0, -0.0), HR_OK);
    ck_assert(!hr_batch_equal(a, b));
    hr_batch_clear_rows(a);
    hr_batch_clear_rows(b);
    ck_assert(hr_batch_equal(a, b));
    ck_assert_int_eq(hr_batch_append_null(a, 0), HR_OK);
    ck_assert_int_eq(hr_batch_append_unchanged_toast(b, 0), HR_OK);
    ck_assert(!hr_batch_equal(a, b)); /* TOAST marker is not NULL */
    ck_assert(!hr_batch_equal(a, NULL));
    hr_batch_free(a);
    hr_batch_free(b);
}
END_TEST

START_TEST(raw_size_counts_type_widths)
{
    hr_batch *b;
    ck_assert_int_eq(hr_batch_new(env, &b), HR_OK);
    hr_batch_add_column(b, "a", HR_OID_INT4, 1);
    hr_batch_add_column(b, "t", HR_OID_TEXT, 1);
    hr_batch_add_column(b, "u", HR_OID_UUID, 0);
    static const uint8_t uuid[16] = {1};
    for (int r = 0; r < 3; r++) {
        ck_assert_int_eq(hr_batch_append_int64(b, 0, r), HR_OK);
        ck_assert_int_eq(hr_batch_append_bytes(b, 1, "abcd", 4), HR_OK);
        ck_assert_int_eq(hr_batch_append_uuid(b, 2, uuid), HR_OK);
    }
    hr_batch_append_null(b, 0);
    hr_batch_append_null(b, 1);
    hr_batch_append_uuid(b, 2, uuid);
    /* 3*4 + 1 | 3*4 + 1 | 4*16 */
    ck_assert_uint_eq(hr_batch_raw_size(b), 13 + 13 + 64);
    hr_batch_free(b);
}
END_TEST

START_TEST(truncate_drops_a_half_row)
{
    hr_batch *b;
    ck_assert_int_eq(hr_batch_new(env, &b), HR_OK);
    hr_batch_add_column(b, "id", HR_OID_INT8, 0);
    hr_batch_add_column(b, "t", HR_OID_TEXT, 1);
    for (int r = 0; r < 3; r++) {
        hr_batch_append_int64(b, 0, r);
        hr_batch_append_bytes(b, 1, "abc", 3);
    }
    hr_batch_append_int64(b, 0, 3);           /* half a row */
    ck_assert_int_eq(hr_batch_append_bytes(b, 1, NULL, 5), HR_EINVAL);
    hr_batch_truncate(b, hr_batch_rows(b));
    hr_batch_append_int64(b, 0, 3);
    hr_batch_append_bytes(b, 1, "xy", 2);
    ck_assert_uint_eq(hr_batch_rows(b), 4);
    const uint8_t *p;
    size_t len;
    ck_assert_int_eq(hr_batch_get_bytes(b, 1, 3, &p, &len), HR_OK);
    ck_assert_int_eq(len, 2);
    ck_assert_int_eq(memcmp(p, "xy", 2), 0);
    hr_batch_truncate(b, 1);
    ck_assert_uint_eq(hr_batch_rows(b), 1);
    ck_assert_uint_eq(hr_batch_raw_size(b), 8 + 3);
    hr_batch_truncate(b, 10); /* longer than the batch: no change */
    ck_assert_uint_eq(hr_batch_rows(b), 1);
    hr_batch_free(b);
}
END_TEST

typedef struct build_state {
    hr_batch *b;
} build_state;

static int build_op(hr_env *e, void *state)
{
    build_state *s = state;
    int rc = hr_batch_new(e, &s->b);
    if (rc != HR_OK)
        return rc;
    if ((rc = hr_batch_set_relation(s->b, "s", "t")) != HR_OK)
        return rc;
    if ((rc = hr_batch_add_column(s->b, "id", HR_OID_INT8, 0)) < 0)
        return rc;
    if ((rc = hr_batch_add_column(s->b, "body", HR_OID_JSONB, 1)) < 0)
        return rc;
    for (int r = 0; r < 300; r++) {
        if ((rc = hr_batch_append_int64(s->b, 0, r)) != HR_OK)
            return rc;
        if ((rc = hr_batch_append_bytes(s->b, 1, "{\"k\": 1}", 8)) != HR_OK)
            return rc;
    }
    return HR_OK;
}

static void build_cleanup(void *state)
{
    build_state *s = state;
    hr_batch_free(s->b);
    s->b = NULL;
}

START_TEST(every_allocation_failure_is_enomem)
{
    build_state s = {0};
    char why[160] = "";
    long points = failing_allocator_sweep(build_op, build_cleanup, &s, why,
                                          sizeof why);
    ck_assert_msg(points > 5, "sweep: %ld (%s)", points, why);
}
END_TEST

/* Rows of every storage, NULLs and unchanged TOAST, appended column-wise
 * equal the same rows appended value by value. */
static hr_batch *mixed_rows(int from, int n)
{
    hr_batch *b;
    ck_assert_int_eq(hr_batch_new(env, &b), HR_OK);
    ck_assert_int_eq(hr_batch_set_relation(b, "s", "t"), HR_OK);
    ck_assert_int_eq(hr_batch_add_column(b, "id", HR_OID_INT8, 0), 0);
    ck_assert_int_eq(hr_batch_add_column(b, "ok", HR_OID_BOOL, 1), 1);
    ck_assert_int_eq(hr_batch_add_column(b, "f", HR_OID_FLOAT4, 1), 2);
    ck_assert_int_eq(hr_batch_add_column(b, "d", HR_OID_FLOAT8, 1), 3);
    ck_assert_int_eq(hr_batch_add_column(b, "u", HR_OID_UUID, 1), 4);
    ck_assert_int_eq(hr_batch_add_column(b, "body", HR_OID_TEXT, 1), 5);
    for (int r = from; r < from + n; r++) {
        uint8_t uuid[16] = {(uint8_t)r, 1, 2};
        char text[32];
        int len = snprintf(text, sizeof text, "row %d", r);
        ck_assert_int_eq(hr_batch_append_int64(b, 0, r), HR_OK);
        ck_assert_int_eq(r % 3 ? hr_batch_append_bool(b, 1, r & 1)
                               : hr_batch_append_null(b, 1),
                         HR_OK);
        ck_assert_int_eq(hr_batch_append_float4(b, 2, (float)r / 4), HR_OK);
        ck_assert_int_eq(hr_batch_append_float8(b, 3, -(double)r), HR_OK);
        ck_assert_int_eq(hr_batch_append_uuid(b, 4, uuid), HR_OK);
        ck_assert_int_eq(r % 4 == 1 ? hr_batch_append_unchanged_toast(b, 5)
                                    : hr_batch_append_bytes(b, 5, text,
                                                            (size_t)len),
                         HR_OK);
    }
    return b;
}

START_TEST(append_rows_equals_appending_values)
{
    hr_batch *whole = mixed_rows(0, 30);
    hr_batch *dst, *second = mixed_rows(10, 20);
    ck_assert_int_eq(hr_batch_new(env, &dst), HR_OK);
    /* An empty batch takes the shape; empty sources change nothing. */
    hr_batch *empty;
    ck_assert_int_eq(hr_batch_new(env, &empty), HR_OK);
    ck_assert_int_eq(hr_batch_append_rows(dst, empty), HR_OK);
    ck_assert_int_eq(hr_batch_columns(dst), 0);
    hr_batch *first = mixed_rows(0, 10);
    ck_assert_int_eq(hr_batch_append_rows(dst, first), HR_OK);
    ck_assert_int_eq(hr_batch_append_rows(dst, empty), HR_OK);
    ck_assert_int_eq(hr_batch_append_rows(dst, second), HR_OK);
    ck_assert_uint_eq(hr_batch_rows(dst), 30);
    ck_assert_str_eq(hr_batch_table_name(dst), "t");
    ck_assert(hr_batch_equal(dst, whole));
    ck_assert_uint_eq(hr_batch_raw_size(dst), hr_batch_raw_size(whole));
    /* The source is left as it was. */
    hr_batch *again = mixed_rows(10, 20);
    ck_assert(hr_batch_equal(second, again));
    /* Appending after more single values still lines up. */
    ck_assert_int_eq(hr_batch_append_rows(dst, dst), HR_EINVAL);
    hr_batch_clear_rows(first);
    ck_assert_int_eq(hr_batch_append_rows(dst, first), HR_OK);
    ck_assert_uint_eq(hr_batch_rows(dst), 30);
    hr_batch_free(again);
    hr_batch_free(first);
    hr_batch_free(empty);
    hr_batch_free(second);
    hr_batch_free(whole);
    hr_batch_free(dst);
}
END_TEST

START_TEST(append_rows_refuses_another_shape)
{
    hr_batch *dst = mixed_rows(0, 2), *src;
    ck_assert_int_eq(hr_batch_new(env, &src), HR_OK);
    ck_assert_int_eq(hr_batch_set_relation(src, "s", "t"), HR_OK);
    ck_assert_int_eq(hr_batch_add_column(src, "id", HR_OID_INT8, 0), 0);
    ck_assert_int_eq(hr_batch_append_rows(dst, src), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_batch_errmsg(dst), "columns"));
    hr_batch_free(src);
    src = mixed_rows(5, 1);
    ck_assert_int_eq(hr_batch_set_relation(src, "s", "other"), HR_OK);
    ck_assert_int_eq(hr_batch_append_rows(dst, src), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_batch_errmsg(dst), "other"));
    hr_batch_free(src);
    /* Same names, another type. */
    ck_assert_int_eq(hr_batch_new(env, &src), HR_OK);
    ck_assert_int_eq(hr_batch_set_relation(src, "s", "t"), HR_OK);
    static const uint32_t types[] = {HR_OID_INT8, HR_OID_BOOL, HR_OID_FLOAT4,
                                     HR_OID_FLOAT8, HR_OID_UUID, HR_OID_VARCHAR};
    static const char *const names[] = {"id", "ok", "f", "d", "u", "body"};
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(hr_batch_add_column(src, names[i], types[i], i > 0),
                         i);
    ck_assert_int_eq(hr_batch_append_rows(dst, src), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_batch_errmsg(dst), "body"));
    /* A partial last row in dst. */
    hr_batch *ok = mixed_rows(9, 1);
    ck_assert_int_eq(hr_batch_append_int64(dst, 0, 99), HR_OK);
    ck_assert_int_eq(hr_batch_append_rows(dst, ok), HR_ESTATE);
    hr_batch_truncate(dst, 2);
    ck_assert_int_eq(hr_batch_append_rows(dst, ok), HR_OK);
    ck_assert_uint_eq(hr_batch_rows(dst), 3);
    ck_assert_int_eq(hr_batch_append_rows(NULL, ok), HR_EINVAL);
    ck_assert_int_eq(hr_batch_append_rows(dst, NULL), HR_EINVAL);
    hr_batch_free(ok);
    hr_batch_free(src);
    hr_batch_free(dst);
}
END_TEST

typedef struct append_state {
    hr_batch *src, *dst;
} append_state;

static int append_op(hr_env *e, void *state)
{
    append_state *s = state;
    int rc = hr_batch_new(e, &s->dst);
    if (rc != HR_OK)
        return rc;
    if ((rc = hr_batch_append_rows(s->dst, s->src)) != HR_OK) {
        /* Nothing half done: a failed adoption leaves no columns. */
        ck_assert_int_eq(hr_batch_columns(s->dst), 0);
        return rc;
    }
    size_t before = hr_batch_rows(s->dst);
    if ((rc = hr_batch_append_rows(s->dst, s->src)) != HR_OK) {
        ck_assert_uint_eq(hr_batch_rows(s->dst), before);
        return rc;
    }
    return HR_OK;
}

static void append_cleanup(void *state)
{
    append_state *s = state;
    hr_batch_free(s->dst);
    s->dst = NULL;
}

START_TEST(append_rows_allocation_failures)
{
    append_state s = {mixed_rows(0, 200), NULL};
    char why[160] = "";
    long points = failing_allocator_sweep(append_op, append_cleanup, &s, why,
                                          sizeof why);
    ck_assert_msg(points > 3, "sweep: %ld (%s)", points, why);
    hr_batch_free(s.src);
}
END_TEST

static Suite *batch_suite(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("batch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, columns_then_values);
    tcase_add_test(tc, type_and_range_checks);
    tcase_add_test(tc, unknown_types_hold_text);
    tcase_add_test(tc, equality_is_bitwise);
    tcase_add_test(tc, raw_size_counts_type_widths);
    tcase_add_test(tc, truncate_drops_a_half_row);
    tcase_add_test(tc, every_allocation_failure_is_enomem);
    tcase_add_test(tc, append_rows_equals_appending_values);
    tcase_add_test(tc, append_rows_refuses_another_shape);
    tcase_add_test(tc, append_rows_allocation_failures);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(batch_suite());
}
