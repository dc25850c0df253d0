/* test_transport.c - the in-process transport: FIFO, copies, metadata,
 * backpressure, flags validation, versioned meta struct, allocation
 * failures. */
#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <heliosrepl/heliosrepl.h>

#include "check_main.h"
#include "failing_allocator.h"

static hr_env *env;
static hr_transport *tr;

static void setup(void)
{
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
    ck_assert_int_eq(hr_transport_new_inproc(env, &tr), HR_OK);
}

static void teardown(void)
{
    hr_transport_free(tr);
    hr_env_free(env);
}

static hr_transport_meta meta_of(const char *tenant, uint32_t flags,
                                 uint64_t lsn)
{
    hr_transport_meta m;
    memset(&m, 0, sizeof m);
    m.size = sizeof m;
    m.tenant_id = tenant;
    m.flags = flags;
    m.lsn = lsn;
    return m;
}

static hr_transport_msg *recv_ok(void)
{
    hr_transport_msg *msg = NULL;
    ck_assert_int_eq(hr_transport_recv(tr, &msg), HR_OK);
    ck_assert_ptr_nonnull(msg);
    return msg;
}

START_TEST(fifo_with_metadata_and_copied_bytes)
{
    uint8_t buf[16] = "frame-one";
    hr_transport_meta m =
        meta_of("acme", HR_TRANSPORT_FIRST | HR_TRANSPORT_LAST, 0x1000);
    m.commit_time = 777;
    ck_assert_int_eq(hr_transport_send(tr, &m, buf, 9), HR_OK);
    ck_assert_uint_eq(m.seq, 1);
    memcpy(buf, "CLOBBERED", 9); /* the transport copied the bytes */

    hr_transport_meta c =
        meta_of("globex", HR_TRANSPORT_FIRST | HR_TRANSPORT_COPY, 0x2000);
    c.schema_name = "app";
    c.table_name = "orders";
    ck_assert_int_eq(hr_transport_send(tr, &c, (const uint8_t *)"xy", 2),
                     HR_OK);
    hr_transport_meta d = meta_of("globex", HR_TRANSPORT_COPY_DONE, 0x1800);
    d.idempotent_until = 0x2000;
    ck_assert_int_eq(hr_transport_send(tr, &d, NULL, 0), HR_OK);
    ck_assert_uint_eq(d.seq, 3);

    size_t qm, qb;
    uint64_t sm, sb;
    hr_transport_stats(tr, &sm, &sb, &qm, &qb);
    ck_assert_uint_eq(sm, 3);
    ck_assert_uint_eq(sb, 11);
    ck_assert_uint_eq(qm, 3);
    ck_assert_uint_eq(qb, 11);

    hr_transport_msg *a = recv_ok();
    hr_transport_msg *b = recv_ok();
    hr_transport_msg *e = recv_ok();
    hr_transport_msg *none = (hr_transport_msg *)1;
    ck_assert_int_eq(hr_transport_recv(tr, &none), HR_EAGAIN);
    ck_assert_ptr_null(none);
    /* messages outlive the transport (and the env's host reference) */
    hr_transport_free(tr);
    tr = NULL;

    hr_transport_meta out;
    memset(&out, 0, sizeof out);
    out.size = sizeof out;
    ck_assert_int_eq(hr_transport_msg_meta(a, &out), HR_OK);
    ck_assert_str_eq(out.tenant_id, "acme");
    ck_assert_uint_eq(out.flags, HR_TRANSPORT_FIRST | HR_TRANSPORT_LAST);
    ck_assert_uint_eq(out.lsn, 0x1000);
    ck_assert_int_eq(out.commit_time, 777);
    ck_assert_uint_eq(out.seq, 1);
    ck_assert_ptr_null(out.table_name);
    size_t len = 0;
    const uint8_t *data = hr_transport_msg_data(a, &len);
    ck_assert_uint_eq(len, 9);
    ck_assert_mem_eq(data, "frame-one", 9);

    ck_assert_int_eq(hr_transport_msg_meta(b, &out), HR_OK);
    ck_assert_str_eq(out.tenant_id, "globex");
    ck_assert_str_eq(out.schema_name, "app");
    ck_assert_str_eq(out.table_name, "orders");
    ck_assert_uint_eq(out.seq, 2);
    ck_assert_int_eq(hr_transport_msg_meta(e, &out), HR_OK);
    ck_assert_uint_eq(out.flags, HR_TRANSPORT_COPY_DONE);
    ck_assert_uint_eq(out.lsn, 0x1800);
    ck_assert_uint_eq(out.idempotent_until, 0x2000);
    hr_transport_msg_data(e, &len);
    ck_assert_uint_eq(len, 0);
    hr_transport_msg_free(a);
    hr_transport_msg_free(b);
    hr_transport_msg_free(e);
    hr_transport_msg_free(NULL);
}
END_TEST

START_TEST(backpressure_by_messages_and_bytes)
{
    ck_assert_int_eq(
        hr_transport_set_param(tr, HR_TRANSPORT_PARAM_MAX_MESSAGES, 2), HR_OK);
    ck_assert_int_eq(
        hr_transport_set_param(tr, HR_TRANSPORT_PARAM_MAX_BYTES, 100), HR_OK);
    uint8_t big[300] = {0};
    hr_transport_meta m = meta_of("t1", HR_TRANSPORT_FIRST, 1);
    /* an empty queue takes any one message, even over the byte limit */
    ck_assert_int_eq(hr_transport_writable(tr, sizeof big), 1);
    ck_assert_int_eq(hr_transport_send(tr, &m, big, sizeof big), HR_OK);
    ck_assert_int_eq(hr_transport_writable(tr, 1), 0);
    ck_assert_int_eq(hr_transport_send(tr, &m, big, 1), HR_EAGAIN);
    ck_assert_ptr_nonnull(strstr(hr_transport_errmsg(tr), "queue full"));
    hr_transport_msg_free(recv_ok());

    ck_assert_int_eq(hr_transport_send(tr, &m, big, 60), HR_OK);
    ck_assert_int_eq(hr_transport_writable(tr, 40), 1);
    ck_assert_int_eq(hr_transport_writable(tr, 41), 0);
    ck_assert_int_eq(hr_transport_writable(tr, SIZE_MAX), 0);
    ck_assert_int_eq(hr_transport_send(tr, &m, big, 41), HR_EAGAIN);
    ck_assert_int_eq(hr_transport_send(tr, &m, big, 40), HR_OK);
    /* full by count now */
    ck_assert_int_eq(hr_transport_send(tr, &m, NULL, 0), HR_EAGAIN);
    size_t qm;
    hr_transport_stats(tr, NULL, NULL, &qm, NULL);
    ck_assert_uint_eq(qm, 2);
    /* a refused send queued nothing and took no sequence number */
    hr_transport_msg *x = recv_ok();
    ck_assert_int_eq(hr_transport_send(tr, &m, NULL, 0), HR_OK);
    ck_assert_uint_eq(m.seq, 4);
    hr_transport_msg_free(x);
}
END_TEST

START_TEST(params_and_bounds)
{
    int64_t v, lo, hi;
    ck_assert_int_eq(
        hr_transport_get_param(tr, HR_TRANSPORT_PARAM_MAX_MESSAGES, &v), HR_OK);
    ck_assert_int_eq(v, 4096);
    ck_assert_int_eq(
        hr_transport_get_param(tr, HR_TRANSPORT_PARAM_MAX_BYTES, &v), HR_OK);
    ck_assert_int_eq(v, 64 * 1024 * 1024);
    ck_assert_int_eq(
        hr_transport_param_bounds(HR_TRANSPORT_PARAM_MAX_BYTES, &lo, &hi),
        HR_OK);
    ck_assert_int_eq(lo, 1);
    ck_assert_int_eq(hi, (int64_t)1 << 40);
    ck_assert_int_eq(hr_transport_param_bounds((hr_transport_param)3, &lo, &hi),
                     HR_EINVAL);
    ck_assert_int_eq(
        hr_transport_set_param(tr, HR_TRANSPORT_PARAM_MAX_MESSAGES, 0),
        HR_EINVAL);
    ck_assert_int_eq(hr_transport_set_param(tr, (hr_transport_param)0, 5),
                     HR_EINVAL);
    ck_assert_int_eq(hr_transport_get_param(tr, (hr_transport_param)9, &v),
                     HR_EINVAL);
    ck_assert_int_eq(hr_transport_kind(tr), HR_TRANSPORT_INPROC);
    ck_assert_int_eq(hr_transport_kind(NULL), 0);
    ck_assert_int_eq(hr_transport_fd(tr), -1);
    ck_assert_int_eq(hr_transport_interest(tr), 0);
    ck_assert_int_eq(hr_transport_timeout_ms(tr, 123), -1);
    ck_assert_int_eq(hr_transport_step(tr, 123), HR_OK);
    ck_assert_int_eq(hr_transport_step(NULL, 123), HR_EINVAL);
}
END_TEST

START_TEST(bad_metadata_is_refused)
{
    char long_id[300];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = 0;
    hr_transport_meta m = meta_of("", 0, 1);
    ck_assert_int_eq(hr_transport_send(tr, &m, NULL, 0), HR_EINVAL);
    m.tenant_id = NULL;
    ck_assert_int_eq(hr_transport_send(tr, &m, NULL, 0), HR_EINVAL);
    m.tenant_id = long_id;
    ck_assert_int_eq(hr_transport_send(tr, &m, NULL, 0), HR_EINVAL);
    m.tenant_id = "t";
    m.flags = 0x100;
    ck_assert_int_eq(hr_transport_send(tr, &m, NULL, 0), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_transport_errmsg(tr), "flags"));
    m.flags = HR_TRANSPORT_COPY | HR_TRANSPORT_FIRST; /* no table */
    ck_assert_int_eq(hr_transport_send(tr, &m, NULL, 0), HR_EINVAL);
    m.flags = HR_TRANSPORT_COPY_DONE | HR_TRANSPORT_LAST;
    ck_assert_int_eq(hr_transport_send(tr, &m, NULL, 0), HR_EINVAL);
    m.flags = HR_TRANSPORT_COPY_DONE;
    ck_assert_int_eq(hr_transport_send(tr, &m, (const uint8_t *)"x", 1),
                     HR_EINVAL);
    m.flags = HR_TRANSPORT_ABORT | HR_TRANSPORT_FIRST;
    ck_assert_int_eq(hr_transport_send(tr, &m, NULL, 0), HR_EINVAL);
    m.flags = HR_TRANSPORT_ABORT;
    ck_assert_int_eq(hr_transport_send(tr, &m, (const uint8_t *)"x", 1),
                     HR_EINVAL);
    m.flags = 0;
    ck_assert_int_eq(hr_transport_send(tr, &m, NULL, 3), HR_EINVAL);
    m.size = 4;
    ck_assert_int_eq(hr_transport_send(tr, &m, NULL, 0), HR_EINVAL);
    ck_assert_int_eq(hr_transport_send(tr, NULL, NULL, 0), HR_EINVAL);
    ck_assert_int_eq(hr_transport_send(NULL, &m, NULL, 0), HR_EINVAL);
    ck_assert_int_eq(hr_transport_recv(tr, NULL), HR_EINVAL);
    ck_assert_int_eq(hr_transport_new_inproc(env, NULL), HR_EINVAL);
    hr_transport *t2 = (hr_transport *)1;
    ck_assert_int_eq(hr_transport_new_inproc(NULL, &t2), HR_EINVAL);
    ck_assert_ptr_null(t2);
    size_t qm = 9;
    hr_transport_stats(tr, NULL, NULL, &qm, NULL);
    ck_assert_uint_eq(qm, 0);
    ck_assert_ptr_null(hr_transport_msg_data(NULL, NULL));
    ck_assert_int_eq(hr_transport_msg_meta(NULL, &m), HR_EINVAL);
    ck_assert_str_eq(hr_transport_errmsg(NULL),
                     "no transport (NULL hr_transport)");
}
END_TEST

/* An older caller's struct ends after `lsn`: nothing past it is read or
 * written. */
typedef struct old_meta {
    size_t size;
    const char *tenant_id;
    uint32_t flags;
    uint64_t lsn;
} old_meta;

START_TEST(shorter_meta_struct_of_an_older_caller)
{
    struct {
        old_meta m;
        uint64_t guard[8];
    } s;
    memset(&s, 0xab, sizeof s);
    s.m.size = sizeof s.m;
    s.m.tenant_id = "t";
    s.m.flags = HR_TRANSPORT_FIRST;
    s.m.lsn = 42;
    ck_assert_int_eq(
        hr_transport_send(tr, (hr_transport_meta *)(void *)&s.m, NULL, 0),
        HR_OK);
    for (size_t i = 0; i < 8; i++)
        ck_assert_uint_eq(s.guard[i], 0xabababababababab);
    hr_transport_msg *msg = recv_ok();
    memset(&s.m, 0, sizeof s.m);
    s.m.size = sizeof s.m;
    ck_assert_int_eq(
        hr_transport_msg_meta(msg, (hr_transport_meta *)(void *)&s.m), HR_OK);
    ck_assert_uint_eq(s.m.lsn, 42);
    ck_assert_str_eq(s.m.tenant_id, "t");
    for (size_t i = 0; i < 8; i++)
        ck_assert_uint_eq(s.guard[i], 0xabababababababab);
    hr_transport_msg_free(msg);
}
END_TEST

typedef struct sweep_state {
    hr_transport *t;
    hr_transport_msg *msg;
} sweep_state;

static int sweep_op(hr_env *e, void *state)
{
    sweep_state *s = state;
    int rc = hr_transport_new_inproc(e, &s->t);
    if (rc != HR_OK)
        return rc;
    hr_transport_meta m =
        meta_of("tenant", HR_TRANSPORT_FIRST | HR_TRANSPORT_COPY, 5);
    m.schema_name = "s";
    m.table_name = "t";
    for (int i = 0; i < 5; i++) {
        rc = hr_transport_send(s->t, &m, (const uint8_t *)"abcdef", 6);
        if (rc != HR_OK)
            return rc;
    }
    return hr_transport_recv(s->t, &s->msg);
}

static void sweep_cleanup(void *state)
{
    sweep_state *s = state;
    hr_transport_msg_free(s->msg);
    hr_transport_free(s->t);
    s->msg = NULL;
    s->t = NULL;
}

START_TEST(every_allocation_failure_is_enomem)
{
    sweep_state s = {0};
    char why[160] = "";
    long points =
        failing_allocator_sweep(sweep_op, sweep_cleanup, &s, why, sizeof why);
    ck_assert_msg(points >= 6, "sweep: %ld (%s)", points, why);
}
END_TEST

static Suite *transport_suite(void)
{
    Suite *s = suite_create("transport");
    TCase *tc = tcase_create("inproc");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, fifo_with_metadata_and_copied_bytes);
    tcase_add_test(tc, backpressure_by_messages_and_bytes);
    tcase_add_test(tc, params_and_bounds);
    tcase_add_test(tc, bad_metadata_is_refused);
    tcase_add_test(tc, shorter_meta_struct_of_an_older_caller);
    tcase_add_test(tc, every_allocation_failure_is_enomem);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(transport_suite());
}
