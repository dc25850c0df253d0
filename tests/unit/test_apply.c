/*
 * test_apply.c - the applier's parts that need no server: option
 * validation, the submit rules before the checkpoints are loaded, batch
 * ownership, numeric's binary form, back-off on an unreachable target,
 * and an allocation sweep. The target side is in
 * tests/integration/test_apply.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <heliosrepl/heliosrepl.h>

#include "apply/apply_internal.h"
#include "check_main.h"
#include "failing_allocator.h"

#define NOWHERE "host=127.0.0.1 port=1 connect_timeout=1 dbname=x"

static hr_env *env;

static void setup(void)
{
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
}

static void teardown(void)
{
    hr_env_free(env);
}

START_TEST(options_are_validated)
{
    hr_applier_opts *o;
    ck_assert_int_eq(hr_applier_opts_new(env, &o), HR_OK);
    ck_assert_int_eq(hr_applier_opts_set_conninfo(o, ""), HR_EINVAL);
    ck_assert_int_eq(hr_applier_opts_set_source_id(o, "bad id"), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_applier_opts_errmsg(o), "source id"));
    ck_assert_int_eq(hr_applier_opts_set_source_id(o, "eu-1.a_b"), HR_OK);
    ck_assert_int_eq(hr_applier_opts_set_group_rows(o, 0), HR_EINVAL);
    ck_assert_int_eq(hr_applier_opts_set_group_bytes(o, 0), HR_EINVAL);
    ck_assert_int_eq(hr_applier_opts_set_group_delay_ms(o, -1), HR_EINVAL);
    ck_assert_int_eq(hr_applier_opts_set_group_delay_ms(o, 0), HR_OK);
    ck_assert_int_eq(hr_applier_opts_set_max_pending_bytes(o, 0), HR_EINVAL);
    char long_name[80];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    ck_assert_int_eq(hr_applier_opts_set_meta_schema(o, long_name), HR_EINVAL);
    ck_assert_int_eq(hr_applier_opts_set_tenant_column(o, "org id"), HR_OK);
    hr_applier *a = NULL;
    /* no conninfo yet */
    ck_assert_int_eq(hr_applier_new(env, o, NULL, &a), HR_EINVAL);
    ck_assert_ptr_null(a);
    ck_assert_int_eq(hr_applier_opts_set_conninfo(o, "not a = = conninfo"), HR_OK);
    ck_assert_int_eq(hr_applier_new(env, o, NULL, &a), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_env_errmsg(env), "conninfo"));
    hr_applier_callbacks cb = {99, NULL, NULL, NULL};
    ck_assert_int_eq(hr_applier_opts_set_conninfo(o, NOWHERE), HR_OK);
    ck_assert_int_eq(hr_applier_new(env, o, &cb, &a), HR_EINVAL);
    hr_applier_opts_free(o);
}
END_TEST

START_TEST(nothing_before_checkpoints_and_backoff)
{
    hr_applier_opts *o;
    ck_assert_int_eq(hr_applier_opts_new(env, &o), HR_OK);
    ck_assert_int_eq(hr_applier_opts_set_conninfo(o, NOWHERE), HR_OK);
    hr_applier *a;
    ck_assert_int_eq(hr_applier_new(env, o, NULL, &a), HR_OK);
    hr_applier_opts_free(o); /* the applier keeps its own copy */
    ck_assert_int_eq(hr_applier_phase(a), HR_APPLIER_PHASE_IDLE);
    ck_assert_int_eq(hr_applier_fd(a), -1);
    uint64_t lsn = 7;
    ck_assert_int_eq(hr_applier_checkpoint(a, "t1", &lsn), HR_EAGAIN);
    ck_assert_uint_eq(lsn, 0);
    ck_assert_int_eq(hr_applier_checkpoint(a, "bad id", &lsn), HR_EINVAL);
    ck_assert_int_eq(hr_applier_begin(a, "t1", 100), HR_ESTATE);
    ck_assert_int_eq(hr_applier_commit(a), HR_ESTATE);
    ck_assert_int_eq(hr_applier_resume(a, "t1"), HR_ENOTFOUND);
    /* A batch refused stays the caller's. */
    hr_batch *b;
    ck_assert_int_eq(hr_batch_new(env, &b), HR_OK);
    ck_assert_int_eq(hr_applier_add_batch(a, b), HR_ESTATE);
    hr_batch_free(b);
    /* The target is unreachable: steps go on without error, backing off. */
    uint64_t now = hr_env_monotonic_ns(env);
    ck_assert_int_eq(hr_applier_timeout_ms(a, now), 0);
    for (int i = 0; i < 200 && hr_applier_phase(a) != HR_APPLIER_PHASE_BACKOFF; i++) {
        ck_assert_int_eq(hr_applier_step(a, hr_env_monotonic_ns(env)), HR_OK);
        if (hr_applier_phase(a) == HR_APPLIER_PHASE_CONNECTING) {
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
        }
    }
    ck_assert_int_eq(hr_applier_phase(a), HR_APPLIER_PHASE_BACKOFF);
    int64_t t = hr_applier_timeout_ms(a, hr_env_monotonic_ns(env));
    ck_assert_int_gt(t, 0);
    ck_assert_int_le(t, 100);
    uint64_t x = 1, y = 1, z = 1, w = 1;
    hr_applier_stats(a, &x, &y, &z, &w);
    ck_assert(x == 0 && y == 0 && z == 0 && w == 0);
    ck_assert_uint_eq(hr_applier_pending_bytes(a), 0);
    hr_applier_free(a);
    hr_applier_free(NULL);
    ck_assert_int_eq(hr_applier_phase(NULL), HR_APPLIER_PHASE_CLOSED);
}
END_TEST

/* numeric text -> binary, checked against PostgreSQL's numeric_send. */
static void expect_numeric(const char *text, const char *hex)
{
    uint8_t out[128];
    int n = hr__numeric_binary((const uint8_t *)text, strlen(text), out);
    char got[260] = "";
    for (int i = 0; i < n; i++)
        snprintf(got + 2 * i, 3, "%02x", out[i]);
    ck_assert_msg(!strcmp(got, hex), "numeric '%s': %s, expected %s", text,
                  got, hex);
}

START_TEST(numeric_binary_form)
{
    /* ndigits, weight, sign, dscale, digits (base 10000), as numeric_send */
    expect_numeric("0", "0000000000000000");
    expect_numeric("0.00", "0000000000000002");
    expect_numeric("1", "0001000000000000" "0001");
    expect_numeric("-12.34", "000200004000" "0002" "000c0d48");
    expect_numeric("10000", "0001000100000000" "0001");
    expect_numeric("123456789.5", "0004000200000001" "000109291a851388");
    expect_numeric("0.0001", "0001ffff00000004" "0001");
    expect_numeric("NaN", "000000" "00c0000000");
    expect_numeric("Infinity", "00000000d0000000");
    expect_numeric("-Infinity", "00000000f0000000");
    uint8_t out[64];
    ck_assert_int_eq(hr__numeric_binary((const uint8_t *)"1e5", 3, out), -1);
    ck_assert_int_eq(hr__numeric_binary((const uint8_t *)"", 0, out), -1);
    ck_assert_int_eq(hr__numeric_binary((const uint8_t *)"-", 1, out), -1);
    ck_assert_int_eq(hr__numeric_binary((const uint8_t *)"1.2.3", 5, out), -1);
}
END_TEST

static int make_applier(hr_env *e, void *state)
{
    hr_applier **out = state;
    hr_applier_opts *o;
    int rc = hr_applier_opts_new(e, &o);
    if (rc != HR_OK)
        return rc;
    rc = hr_applier_opts_set_conninfo(o, NOWHERE);
    if (rc == HR_OK)
        rc = hr_applier_new(e, o, NULL, out);
    hr_applier_opts_free(o);
    return rc;
}

static void free_applier(void *state)
{
    hr_applier **a = state;
    hr_applier_free(*a);
    *a = NULL;
}

START_TEST(allocation_failures)
{
    hr_applier *a = NULL;
    char why[256] = "";
    long points = failing_allocator_sweep(make_applier, free_applier, &a, why,
                                          sizeof why);
    ck_assert_msg(points > 0, "%s", why);
}
END_TEST

static Suite *apply_suite(void)
{
    Suite *s = suite_create("apply");
    TCase *tc = tcase_create("offline");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, options_are_validated);
    tcase_add_test(tc, nothing_before_checkpoints_and_backoff);
    tcase_add_test(tc, numeric_binary_form);
    tcase_add_test(tc, allocation_failures);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(apply_suite());
}
