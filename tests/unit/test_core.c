/* test_core.c - status codes, version, env: allocator, log, clock. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <heliosrepl/heliosrepl.h>

#include "check_main.h"
#include "core/core_internal.h"
#include "failing_allocator.h"

START_TEST(status_codes_are_pinned)
{
    /* Values are ABI: a renumbering must fail here. */
    ck_assert_int_eq(HR_OK, 0);
    ck_assert_int_eq(HR_EINVAL, -1);
    ck_assert_int_eq(HR_ENOMEM, -2);
    ck_assert_int_eq(HR_EIO, -3);
    ck_assert_int_eq(HR_EPROTO, -4);
    ck_assert_int_eq(HR_ECORRUPT, -5);
    ck_assert_int_eq(HR_EAUTH, -6);
    ck_assert_int_eq(HR_EAGAIN, -7);
    ck_assert_int_eq(HR_ESTATE, -8);
    ck_assert_int_eq(HR_ECONFLICT, -9);
    ck_assert_int_eq(HR_ESCHEMA, -10);
    ck_assert_int_eq(HR_ETIMEDOUT, -11);
    ck_assert_int_eq(HR_EUNSUPPORTED, -12);
    ck_assert_int_eq(HR_ENOTFOUND, -13);
    ck_assert_int_eq(HR_ECLOSED, -14);
    ck_assert_int_eq(HR_EVERSION, -15);
    ck_assert_int_eq(HR_ELIMIT, -16);
    ck_assert_int_eq(HR_EINTERNAL, -17);
}
END_TEST

START_TEST(strerror_and_names_cover_every_code)
{
    for (int code = 0; code >= HR_STATUS_MIN; code--) {
        ck_assert_str_ne(hr_strerror(code), "unknown error");
        ck_assert_str_ne(hr_status_name(code), "HR_UNKNOWN");
        /* Distinct names: a copy-paste slip in the table shows up here. */
        for (int other = code - 1; other >= HR_STATUS_MIN; other--)
            ck_assert_str_ne(hr_status_name(code), hr_status_name(other));
    }
    ck_assert_str_eq(hr_status_name(HR_ESCHEMA), "HR_ESCHEMA");
    ck_assert_str_eq(hr_strerror(HR_ENOMEM), "out of memory");
    ck_assert_str_eq(hr_strerror(1), "unknown error");
    ck_assert_str_eq(hr_strerror(HR_STATUS_MIN - 1), "unknown error");
    ck_assert_str_eq(hr_status_name(-1000), "HR_UNKNOWN");
}
END_TEST

START_TEST(fatal_classification)
{
    ck_assert_int_eq(hr_is_fatal(HR_OK), 0);
    ck_assert_int_eq(hr_is_fatal(HR_EAGAIN), 0);
    ck_assert_int_eq(hr_is_fatal(HR_ETIMEDOUT), 0);
    ck_assert_int_eq(hr_is_fatal(HR_EIO), 0);
    ck_assert_int_eq(hr_is_fatal(HR_ENOMEM), 0);
    ck_assert_int_eq(hr_is_fatal(HR_ECLOSED), 0);
    ck_assert_int_eq(hr_is_fatal(HR_EINVAL), 1);
    ck_assert_int_eq(hr_is_fatal(HR_ECORRUPT), 1);
    ck_assert_int_eq(hr_is_fatal(HR_EAUTH), 1);
    ck_assert_int_eq(hr_is_fatal(HR_ESCHEMA), 1);
    ck_assert_int_eq(hr_is_fatal(-999), 1);
}
END_TEST

START_TEST(version_queries_agree_with_headers)
{
    ck_assert_uint_eq(hr_version(), HR_VERSION_NUM);
    ck_assert_str_eq(hr_version_string(), HR_VERSION_STRING);
    ck_assert_int_eq(hr_check_version(HR_VERSION_MAJOR, HR_VERSION_MINOR), HR_OK);
    ck_assert_int_eq(hr_check_version(HR_VERSION_MAJOR, 0), HR_OK);
    ck_assert_int_eq(hr_check_version(HR_VERSION_MAJOR, HR_VERSION_MINOR + 1),
                     HR_EVERSION);
    ck_assert_int_eq(hr_check_version(HR_VERSION_MAJOR + 1, 0), HR_EVERSION);
    ck_assert_int_eq(hr_check_version(HR_VERSION_MAJOR - 1, 0), HR_EVERSION);
    ck_assert_int_eq(hr_check_version(HR_VERSION_MAJOR, -1), HR_EVERSION);
}
END_TEST

START_TEST(env_rejects_bad_arguments)
{
    ck_assert_int_eq(hr_env_new(NULL, NULL), HR_EINVAL);
    hr_env *env = (hr_env *)0x1;
    hr_allocator bad = {HR_ALLOCATOR_VERSION + 1, NULL, NULL, NULL, NULL};
    ck_assert_int_eq(hr_env_new(&env, &bad), HR_EINVAL);
    ck_assert_ptr_null(env);
    ck_assert_int_eq(hr_env_set_log(NULL, NULL, NULL, HR_LOG_INFO), HR_EINVAL);
    ck_assert_int_eq(hr_env_set_clock(NULL, NULL), HR_EINVAL);
    ck_assert_str_ne(hr_env_errmsg(NULL), "");
    hr_env_free(NULL);
}
END_TEST

typedef struct fake_clock {
    uint64_t mono;
    uint64_t wall;
} fake_clock;

static uint64_t fake_mono(void *ctx)
{
    return ((fake_clock *)ctx)->mono;
}

static uint64_t fake_wall(void *ctx)
{
    return ((fake_clock *)ctx)->wall;
}

START_TEST(env_uses_injected_clock)
{
    hr_env *env;
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
    uint64_t a = hr_env_monotonic_ns(env), b = hr_env_monotonic_ns(env);
    ck_assert_uint_ge(b, a);
    /* The system wall clock is after 2020-01-01. */
    ck_assert_uint_gt(hr_env_wall_ns(env), 1577836800ull * 1000000000ull);

    fake_clock fc = {42, 7};
    hr_clock clock = {HR_CLOCK_VERSION, &fc, fake_mono, fake_wall};
    ck_assert_int_eq(hr_env_set_clock(env, &clock), HR_OK);
    ck_assert_uint_eq(hr_env_monotonic_ns(env), 42);
    ck_assert_uint_eq(hr_env_wall_ns(env), 7);
    fc.mono = 1000;
    ck_assert_uint_eq(hr_env_monotonic_ns(env), 1000);

    hr_clock half = {HR_CLOCK_VERSION, &fc, fake_mono, NULL};
    ck_assert_int_eq(hr_env_set_clock(env, &half), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_env_errmsg(env), "wall_ns"));
    ck_assert_uint_eq(hr_env_monotonic_ns(env), 1000); /* unchanged */

    hr_clock future = {HR_CLOCK_VERSION + 1, &fc, fake_mono, fake_wall};
    ck_assert_int_eq(hr_env_set_clock(env, &future), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_env_errmsg(env), "version"));

    ck_assert_int_eq(hr_env_set_clock(env, NULL), HR_OK);
    ck_assert_str_eq(hr_env_errmsg(env), "");
    ck_assert_uint_gt(hr_env_wall_ns(env), 1577836800ull * 1000000000ull);
    hr_env_free(env);
}
END_TEST

typedef struct log_capture {
    int calls;
    hr_log_level last_level;
    char last[128];
} log_capture;

static void capture_log(void *ctx, hr_log_level level, const char *message)
{
    log_capture *cap = ctx;
    cap->calls++;
    cap->last_level = level;
    strncpy(cap->last, message, sizeof cap->last - 1);
}

START_TEST(env_log_respects_threshold)
{
    hr_env *env;
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
    hr__log(env, HR_LOG_ERROR, "nobody listens"); /* no sink: no crash */

    log_capture cap = {0};
    ck_assert_int_eq(hr_env_set_log(env, capture_log, &cap, HR_LOG_WARN), HR_OK);
    hr__log(env, HR_LOG_INFO, "too chatty");
    ck_assert_int_eq(cap.calls, 0);
    hr__log(env, HR_LOG_WARN, "tenant %s lagging by %d s", "acme", 12);
    ck_assert_int_eq(cap.calls, 1);
    ck_assert_int_eq(cap.last_level, HR_LOG_WARN);
    ck_assert_str_eq(cap.last, "tenant acme lagging by 12 s");
    hr__log(env, HR_LOG_ERROR, "bad");
    ck_assert_int_eq(cap.calls, 2);

    ck_assert_int_eq(hr_env_set_log(env, capture_log, &cap, 0), HR_EINVAL);
    ck_assert_int_eq(hr_env_set_log(env, capture_log, &cap, 6), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_env_errmsg(env), "level"));
    hr_env_free(env);
}
END_TEST

START_TEST(env_allocates_through_host_allocator)
{
    failing_allocator fa;
    failing_allocator_reset(&fa, 0);
    hr_allocator table = failing_allocator_table(&fa);
    hr_env *env;
    ck_assert_int_eq(hr_env_new(&env, &table), HR_OK);
    ck_assert_int_eq(fa.live_blocks, 1); /* the env itself */

    char *copy = hr__strdup(env, "tenant-42");
    ck_assert_str_eq(copy, "tenant-42");
    ck_assert_int_eq(fa.live_blocks, 2);
    hr__free(env, copy);
    ck_assert_ptr_null(hr__calloc(env, SIZE_MAX / 2, 4)); /* overflow */
    hr_env_free(env);
    ck_assert_int_eq(fa.live_blocks, 0);

    failing_allocator_reset(&fa, 1);
    env = (hr_env *)0x1;
    ck_assert_int_eq(hr_env_new(&env, &table), HR_ENOMEM);
    ck_assert_ptr_null(env);
    ck_assert_int_eq(fa.live_blocks, 0);
}
END_TEST

START_TEST(env_outlives_host_reference_while_handles_hold_it)
{
    failing_allocator fa;
    failing_allocator_reset(&fa, 0);
    hr_allocator table = failing_allocator_table(&fa);
    hr_env *env;
    ck_assert_int_eq(hr_env_new(&env, &table), HR_OK);
    hr_env *held = hr__env_ref(env); /* what a handle does on creation */
    hr_env_free(env);
    ck_assert_int_eq(fa.live_blocks, 1);
    ck_assert_uint_gt(hr_env_monotonic_ns(held), 0);
    hr__env_unref(held);
    ck_assert_int_eq(fa.live_blocks, 0);
}
END_TEST

typedef struct strdup_state {
    hr_env *env;
    char *copy;
} strdup_state;

static int strdup_op(hr_env *env, void *state)
{
    strdup_state *s = state;
    s->env = env;
    s->copy = hr__strdup(env, "x");
    return s->copy ? HR_OK : HR_ENOMEM;
}

static void strdup_cleanup(void *state)
{
    strdup_state *s = state;
    hr__free(s->env, s->copy);
    s->copy = NULL;
}

START_TEST(failing_allocator_sweep_finds_every_point)
{
    strdup_state s = {0};
    char why[128] = "";
    long points = failing_allocator_sweep(strdup_op, strdup_cleanup, &s, why,
                                          sizeof why);
    ck_assert_msg(points == 1, "sweep: %ld (%s)", points, why);
}
END_TEST

static Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, status_codes_are_pinned);
    tcase_add_test(tc, strerror_and_names_cover_every_code);
    tcase_add_test(tc, fatal_classification);
    tcase_add_test(tc, version_queries_agree_with_headers);
    tcase_add_test(tc, env_rejects_bad_arguments);
    tcase_add_test(tc, env_uses_injected_clock);
    tcase_add_test(tc, env_log_respects_threshold);
    tcase_add_test(tc, env_allocates_through_host_allocator);
    tcase_add_test(tc, env_outlives_host_reference_while_handles_hold_it);
    tcase_add_test(tc, failing_allocator_sweep_finds_every_point);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(core_suite());
}
