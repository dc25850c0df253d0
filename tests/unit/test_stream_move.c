/*
 * test_stream_move.c - moving a tenant from a shared stream to a dedicated
 * one, without a server: hold_start validation, the HELD phase and its
 * timeout, hr_stream_move_tenant's checks and the positions it hands over
 * (confirm, what was handed over but not confirmed), the skip on the
 * dedicated stream afterwards, hr_stream_tenant_lag_bytes and
 * hr_stream_slot_lsn. Frames are fed through the internal hr__stream_feed,
 * the dedicated stream's setup state is set by hand.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <heliosrepl/heliosrepl.h>
#include <heliosrepl/stream.h>

#include "check_main.h"
#include "stream/stream_internal.h"

#define NOWHERE "host=/nonexistent-hr-stream-test dbname=x"

static hr_env *env;

static void setup(void)
{
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
}

static void teardown(void)
{
    hr_env_free(env);
}

/* ---- deliveries ---- */

typedef struct got {
    char tenant[16][16];
    uint64_t end[16];
    size_t n;
} got;

static int on_txn(void *ctx, const char *tenant, const hr_pgtxn *txn,
                  const hr_stream_change *changes, size_t n)
{
    got *g = ctx;
    (void)changes;
    (void)n;
    ck_assert_uint_lt(g->n, 16);
    snprintf(g->tenant[g->n], sizeof g->tenant[g->n], "%s", tenant);
    g->end[g->n++] = hr_pgtxn_end_lsn(txn);
    return HR_OK;
}

/* ---- pgoutput frames ---- */

static uint8_t F[512];
static size_t FN;

static void u8(uint8_t v)
{
    ck_assert_uint_lt(FN, sizeof F);
    F[FN++] = v;
}

static void be(uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        u8((uint8_t)(v >> (8 * i)));
}

static void cstr(const char *s)
{
    while (*s)
        u8((uint8_t)*s++);
    u8(0);
}

static void text(const char *s)
{
    u8('t');
    be(strlen(s), 4);
    while (*s)
        u8((uint8_t)*s++);
}

static void w_header(uint64_t lsn)
{
    FN = 0;
    u8('w');
    be(lsn, 8);
    be(lsn, 8);
    be(0, 8);
}

static void feed(hr_stream *s)
{
    int rc = hr__stream_feed(s, F, FN);
    ck_assert_msg(rc == HR_OK, "%s", hr_stream_errmsg(s));
}

static void relation(hr_stream *s)
{
    w_header(1);
    u8('R');
    be(5, 4);
    cstr("public");
    cstr("orders");
    u8('d');
    be(2, 2);
    u8(1), cstr("id"), be(HR_OID_INT8, 4), be(0xffffffffu, 4);
    u8(1), cstr("tenant_id"), be(HR_OID_TEXT, 4), be(0xffffffffu, 4);
    feed(s);
}

/* A transaction ending at `end` with one insert of each listed tenant. */
static void txn(hr_stream *s, uint64_t end, const char *const *tenants, int n)
{
    w_header(end - 16);
    u8('B');
    be(end - 16, 8);
    be(0, 8);
    be((uint32_t)end, 4);
    feed(s);
    for (int i = 0; i < n; i++) {
        w_header(end - 16);
        u8('I');
        be(5, 4);
        u8('N');
        be(2, 2);
        text("1");
        text(tenants[i]);
        feed(s);
    }
    w_header(end - 16);
    u8('C');
    u8(0);
    be(end - 16, 8);
    be(end, 8);
    be(0, 8);
    feed(s);
}

static void keepalive(hr_stream *s, uint64_t wal_end)
{
    FN = 0;
    u8('k');
    be(wal_end, 8);
    be(0, 8);
    u8(0);
    feed(s);
}

/* ---- streams ---- */

static hr_stream *make(hr_stream_opts *o, got *g)
{
    hr_stream_callbacks cb = {HR_STREAM_CALLBACKS_VERSION, g, on_txn, NULL};
    hr_stream *s = NULL;
    int rc = hr_stream_new(env, o, &cb, &s);
    ck_assert_msg(rc == HR_OK, "%s", hr_env_errmsg(env));
    hr_stream_opts_free(o);
    return s;
}

static hr_stream_opts *opts(void)
{
    hr_stream_opts *o;
    ck_assert_int_eq(hr_stream_opts_new(env, &o), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_conninfo(o, NOWHERE), HR_OK);
    return o;
}

static hr_stream *shared(got *g)
{
    hr_stream_opts *o = opts();
    ck_assert_int_eq(hr_stream_opts_set_mode(o, HR_STREAM_SHARED), HR_OK);
    hr_stream *s = make(o, g);
    /* as if replication had started at 0x1000 */
    s->start_lsn_used = s->position = 0x1000;
    relation(s);
    return s;
}

static hr_stream *held(const char *tenant, got *g)
{
    hr_stream_opts *o = opts();
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, tenant), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_hold_start(o, 1), HR_OK);
    return make(o, g);
}

/* What setup does for a held stream once its slot exists at `floor`. */
static void set_up(hr_stream *d, uint64_t floor)
{
    d->slot_seen = d->slot_exists = 1;
    d->slot_floor = floor;
    ck_assert_int_eq(hr__setup_start(d), HR_OK);
    ck_assert_int_eq(d->state, HR__ST_HELD);
}

START_TEST(hold_start_is_validated)
{
    hr_stream_opts *o = opts();
    ck_assert_int_eq(hr_stream_opts_set_hold_start(o, 2), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_set_hold_start(NULL, 1), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_set_hold_start(o, 1), HR_OK);
    hr_stream_callbacks cb = {HR_STREAM_CALLBACKS_VERSION, NULL, on_txn, NULL};
    hr_stream *s = NULL;
    /* shared mode */
    ck_assert_int_eq(hr_stream_opts_set_mode(o, HR_STREAM_SHARED), HR_OK);
    ck_assert_int_eq(hr_stream_new(env, o, &cb, &s), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_env_errmsg(env), "hold_start"));
    /* with a start_lsn, or an exported snapshot */
    ck_assert_int_eq(hr_stream_opts_set_mode(o, HR_STREAM_DEDICATED), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, "a"), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_start_lsn(o, 5), HR_OK);
    ck_assert_int_eq(hr_stream_new(env, o, &cb, &s), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_set_start_lsn(o, 0), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_export_snapshot(o, 1), HR_OK);
    ck_assert_int_eq(hr_stream_new(env, o, &cb, &s), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_set_export_snapshot(o, 0), HR_OK);
    ck_assert_int_eq(hr_stream_new(env, o, &cb, &s), HR_OK);
    ck_assert_int_eq(hr_stream_phase(s), HR_STREAM_PHASE_IDLE);
    ck_assert_uint_eq(hr_stream_slot_lsn(s), 0);
    ck_assert_uint_eq(hr_stream_slot_lsn(NULL), 0);
    /* held: no timer, phase HELD */
    set_up(s, 0x2000);
    ck_assert_int_eq(hr_stream_phase(s), HR_STREAM_PHASE_HELD);
    ck_assert_uint_eq(hr_stream_slot_lsn(s), 0x2000);
    ck_assert_int_eq(hr_stream_timeout_ms(s, 0), -1);
    hr_stream_free(s);
    hr_stream_opts_free(o);
}
END_TEST

START_TEST(move_waits_for_the_confirm_then_hands_over)
{
    got gs = {0}, gd = {0};
    hr_stream *s = shared(&gs);
    ck_assert_int_eq(hr_stream_add_tenant(s, "a", 0), HR_OK);
    ck_assert_int_eq(hr_stream_add_tenant(s, "b", 0), HR_OK);
    hr_stream *d = held("b", &gd);
    static const char *const ab[] = {"a", "b"};
    txn(s, 0x1100, ab, 2);
    txn(s, 0x1200, ab, 2);
    ck_assert_uint_eq(gs.n, 4);
    ck_assert_int_eq(hr_stream_confirm(s, "a", 0x1200), HR_OK);
    ck_assert_int_eq(hr_stream_confirm(s, "b", 0x1100), HR_OK);

    /* argument checks */
    ck_assert_int_eq(hr_stream_move_tenant(NULL, "b", d), HR_EINVAL);
    ck_assert_int_eq(hr_stream_move_tenant(s, "b", NULL), HR_EINVAL);
    ck_assert_int_eq(hr_stream_move_tenant(s, "b", s), HR_EINVAL);
    ck_assert_int_eq(hr_stream_move_tenant(s, NULL, d), HR_EINVAL);
    ck_assert_int_eq(hr_stream_move_tenant(d, "b", s), HR_EINVAL);
    ck_assert_int_eq(hr_stream_move_tenant(s, "a", d), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_stream_errmsg(s), "dedicated to tenant b"));
    /* the slot is not set up yet */
    ck_assert_int_eq(hr_stream_move_tenant(s, "b", d), HR_EAGAIN);
    ck_assert_ptr_nonnull(strstr(hr_stream_errmsg(s), "HELD"));
    set_up(d, 0x1180);
    /* b is confirmed to 0x1100 < 0x1180: its transaction ending at 0x1200
     * is in the new slot, but what came before is not */
    ck_assert_int_eq(hr_stream_move_tenant(s, "b", d), HR_EAGAIN);
    ck_assert_ptr_nonnull(strstr(hr_stream_errmsg(s), "keep streaming"));
    /* lag: b trails the head (the last commit) by 0x100; a is level */
    ck_assert_int_eq(hr_stream_tenant_lag_bytes(s, "b"), 0x100);
    ck_assert_int_eq(hr_stream_tenant_lag_bytes(s, "a"), 0);
    keepalive(s, 0x1400);
    ck_assert_int_eq(hr_stream_tenant_lag_bytes(s, "b"), 0x300);
    ck_assert_int_eq(hr_stream_tenant_lag_bytes(s, "a"), 0); /* quiet */
    ck_assert_int_eq(hr_stream_tenant_lag_bytes(s, "z"), HR_ENOTFOUND);
    ck_assert_int_eq(hr_stream_tenant_lag_bytes(s, NULL), HR_EINVAL);
    ck_assert_int_eq(hr_stream_tenant_lag_bytes(NULL, "a"), HR_EINVAL);

    /* one more for b, not confirmed: handed over on s, must not come again
     * on d */
    txn(s, 0x1500, ab + 1, 1);
    ck_assert_int_eq(hr_stream_confirm(s, "b", 0x1200), HR_OK);
    ck_assert_int_eq(hr_stream_move_tenant(s, "b", d), HR_OK);
    ck_assert_ptr_null(hr__tenants_find(&s->tenants, "b", 1));
    ck_assert_int_eq(hr_stream_confirm(s, "b", 0x1500), HR_ENOTFOUND);
    ck_assert_int_eq(hr_stream_move_tenant(s, "b", d), HR_ENOTFOUND);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(d, NULL), 0x1200);
    ck_assert_uint_eq(d->tenants.v[0]->delivered, 0x1500);
    /* released: step at once, and START from b's confirm */
    ck_assert_int_eq(hr_stream_timeout_ms(d, 0), 0);
    ck_assert_int_eq(hr_stream_phase(d), HR_STREAM_PHASE_SETUP);
    ck_assert_uint_eq(hr__slot_confirm(d), 0x1200);
    /* a second move onto d: it took its tenant */
    ck_assert_int_eq(hr_stream_add_tenant(s, "b", 0x1500), HR_OK);
    ck_assert_int_eq(hr_stream_move_tenant(s, "b", d), HR_ESTATE);
    ck_assert_int_eq(hr_stream_remove_tenant(s, "b"), HR_OK);

    /* d: the server sends from 0x1200 on; 0x1500 was handed over already */
    d->state = HR__ST_STREAMING;
    d->position = 0x1200;
    relation(d);
    txn(d, 0x1500, ab + 1, 1);
    ck_assert_uint_eq(gd.n, 0);
    txn(d, 0x1600, ab + 1, 1);
    ck_assert_uint_eq(gd.n, 1);
    ck_assert_uint_eq(gd.end[0], 0x1600);
    /* s: a alone now, and b's rows go nowhere */
    txn(s, 0x1600, ab, 2);
    ck_assert_uint_eq(gs.n, 6);
    ck_assert_str_eq(gs.tenant[5], "a");

    hr_stream_free(d);
    hr_stream_free(s);
}
END_TEST

START_TEST(a_quiet_tenant_moves_at_the_stream_position)
{
    got gs = {0}, gd = {0};
    hr_stream *s = shared(&gs);
    ck_assert_int_eq(hr_stream_add_tenant(s, "a", 0), HR_OK);
    ck_assert_int_eq(hr_stream_add_tenant(s, "b", 0x1000), HR_OK);
    hr_stream *d = held("b", &gd);
    set_up(d, 0x1300);
    static const char *const a[] = {"a"};
    txn(s, 0x1100, a, 1);
    /* b has nothing pending but the stream has not passed 0x1300 */
    ck_assert_int_eq(hr_stream_move_tenant(s, "b", d), HR_EAGAIN);
    keepalive(s, 0x1340);
    ck_assert_int_eq(hr_stream_move_tenant(s, "b", d), HR_OK);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(d, NULL), 0x1340);
    ck_assert_uint_eq(d->tenants.v[0]->delivered, 0x1340);
    /* the shared slot may pass b's old confirm now */
    ck_assert_int_eq(hr_stream_confirm(s, "a", 0x1100), HR_OK);
    ck_assert_uint_eq(hr__slot_confirm(s), 0x1340);
    hr_stream_free(d);
    hr_stream_free(s);
}
END_TEST

START_TEST(move_from_a_callback_is_refused)
{
    got gs = {0}, gd = {0};
    hr_stream *s = shared(&gs);
    ck_assert_int_eq(hr_stream_add_tenant(s, "b", 0), HR_OK);
    hr_stream *d = held("b", &gd);
    hr_stream *plain = NULL;
    hr_stream_opts *o = opts();
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, "b"), HR_OK);
    plain = make(o, &gd);
    ck_assert_int_eq(hr_stream_move_tenant(s, "b", plain), HR_ESTATE);
    ck_assert_ptr_nonnull(strstr(hr_stream_errmsg(s), "hold_start"));
    s->in_callback = 1;
    ck_assert_int_eq(hr_stream_move_tenant(s, "b", d), HR_ESTATE);
    s->in_callback = 0;
    /* a held stream whose slot vanished is closed: the tenant stays */
    set_up(d, 0x100);
    hr__stream_shut(d, HR_ENOTFOUND, "slot gone");
    ck_assert_int_eq(hr_stream_move_tenant(s, "b", d), HR_ESTATE);
    ck_assert_ptr_nonnull(strstr(hr_stream_errmsg(s), "closed"));
    ck_assert_ptr_nonnull(hr__tenants_find(&s->tenants, "b", 1));
    /* a dedicated stream's lag: NULL or its own tenant */
    ck_assert_int_eq(hr_stream_tenant_lag_bytes(d, NULL), 0);
    ck_assert_int_eq(hr_stream_tenant_lag_bytes(d, "b"), 0);
    ck_assert_int_eq(hr_stream_tenant_lag_bytes(d, "c"), HR_ENOTFOUND);
    hr_stream_free(plain);
    hr_stream_free(d);
    hr_stream_free(s);
}
END_TEST

static Suite *move_suite(void)
{
    Suite *s = suite_create("stream_move");
    TCase *tc = tcase_create("move");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, hold_start_is_validated);
    tcase_add_test(tc, move_waits_for_the_confirm_then_hands_over);
    tcase_add_test(tc, a_quiet_tenant_moves_at_the_stream_position);
    tcase_add_test(tc, move_from_a_callback_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(move_suite());
}
