/*
 * test_stream.c - the tenant change stream's pure parts, without a server:
 * option validation, tenant ids and default names, SQL generation with
 * libpq's escaping, LSN text, status-update encoding, timeouts and back-off
 * with an injected clock, the fds to wait on and the phase, and the
 * demultiplexer fed with hand-made pgoutput frames (shared and dedicated
 * routing, rows moving between tenants and their batches, skips after a
 * reconnect, heartbeat, keepalive and confirm positions, bad tenant
 * values), error classification, plus an allocation sweep.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <heliosrepl/heliosrepl.h>
#include <heliosrepl/stream.h>

#include "check_main.h"
#include "failing_allocator.h"
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

/* ---- delivery recorder ---- */

/* One row of a delivery's batches: its "_hr_op", id, tenant and note
 * (the note's state when it is no present value: "<null>", "<toast>"). */
typedef struct batch_row {
    int64_t op;
    char id[16], tenant[64], note[64];
} batch_row;

typedef struct delivery {
    char tenant[64];
    uint64_t end_lsn;
    size_t n;
    size_t changes[16];
    int roles[16];
    int kinds[16];
    size_t nrows; /* with recorder.convert: the batches' rows */
    batch_row rows[16];
    int batches;
} delivery;

typedef struct recorder {
    delivery d[64];
    size_t n;
    int fail_tenant_b; /* on_txn fails for tenant "b" */
    int confirm;       /* confirm each transaction from on_txn */
    hr_batch *convert; /* convert each delivery with hr_stream_to_batch */
    hr_stream *stream;
    int schema_changes;
} recorder;

static void cell_text(const hr_batch *b, int col, size_t row, char *out,
                      size_t outlen)
{
    const uint8_t *data;
    size_t len;
    int64_t v;
    int st = hr_batch_value_state(b, col, row);
    if (st == HR_VALUE_NULL)
        snprintf(out, outlen, "<null>");
    else if (st == HR_VALUE_UNCHANGED_TOAST)
        snprintf(out, outlen, "<toast>");
    else if (hr_batch_get_int64(b, col, row, &v) == HR_OK)
        snprintf(out, outlen, "%lld", (long long)v);
    else if (hr_batch_get_bytes(b, col, row, &data, &len) == HR_OK)
        snprintf(out, outlen, "%.*s", (int)len, (const char *)data);
    else
        snprintf(out, outlen, "<?>");
}

/* Convert a delivery: columns _hr_op, id, tenant_id, note. */
static void convert_delivery(delivery *d, const hr_pgtxn *txn,
                             const hr_stream_change *changes, size_t n,
                             hr_batch *b)
{
    for (size_t k = 0; k < n;) {
        size_t next = 0;
        int rc = hr_stream_to_batch(txn, changes, n, k, b, &next);
        if (rc == HR_EINVAL && hr_pgtxn_change_kind(txn, changes[k].index) >=
                                   HR_PGCHANGE_TRUNCATE) {
            k++; /* not a row change */
            continue;
        }
        ck_assert_msg(rc == HR_OK, "hr_stream_to_batch: %s: %s",
                      hr_status_name(rc), hr_batch_errmsg(b));
        ck_assert_uint_gt(next, k);
        d->batches++;
        for (size_t row = 0; row < hr_batch_rows(b); row++) {
            ck_assert_uint_lt(d->nrows, 16);
            batch_row *r = &d->rows[d->nrows++];
            ck_assert_int_eq(hr_batch_get_int64(b, 0, row, &r->op), HR_OK);
            cell_text(b, 1, row, r->id, sizeof r->id);
            cell_text(b, 2, row, r->tenant, sizeof r->tenant);
            cell_text(b, 3, row, r->note, sizeof r->note);
        }
        k = next;
    }
}

static int rec_txn(void *ctx, const char *tenant_id, const hr_pgtxn *txn,
                   const hr_stream_change *changes, size_t n)
{
    recorder *r = ctx;
    if (r->fail_tenant_b && strcmp(tenant_id, "b") == 0)
        return HR_EIO;
    ck_assert_uint_lt(r->n, 64);
    delivery *d = &r->d[r->n++];
    memset(d, 0, sizeof *d);
    snprintf(d->tenant, sizeof d->tenant, "%s", tenant_id);
    d->end_lsn = hr_pgtxn_end_lsn(txn);
    d->n = n;
    for (size_t i = 0; i < n && i < 16; i++) {
        d->changes[i] = changes[i].index;
        d->roles[i] = changes[i].role;
        d->kinds[i] = hr_pgtxn_change_kind(txn, changes[i].index);
    }
    if (r->convert)
        convert_delivery(d, txn, changes, n, r->convert);
    if (r->confirm)
        ck_assert_int_eq(
            hr_stream_confirm(r->stream,
                              strcmp(tenant_id, "solo") ? tenant_id : NULL,
                              d->end_lsn),
            HR_OK);
    return HR_OK;
}

static int rec_schema(void *ctx, const hr_pgrelation *rel)
{
    recorder *r = ctx;
    (void)rel;
    r->schema_changes++;
    return HR_OK;
}

static hr_stream *new_stream(hr_env *e, recorder *r, hr_stream_mode mode,
                             const char *tenant)
{
    hr_stream_opts *o;
    ck_assert_int_eq(hr_stream_opts_new(e, &o), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_conninfo(o, NOWHERE), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_mode(o, mode), HR_OK);
    if (tenant)
        ck_assert_int_eq(hr_stream_opts_set_tenant(o, tenant), HR_OK);
    hr_stream_callbacks cb = {HR_STREAM_CALLBACKS_VERSION, r, rec_txn,
                              rec_schema};
    hr_stream *s = NULL;
    ck_assert_int_eq(hr_stream_new(e, o, &cb, &s), HR_OK);
    hr_stream_opts_free(o);
    r->stream = s;
    return s;
}

/* ---- pgoutput frames ---- */

typedef struct frame {
    uint8_t b[2048];
    size_t n;
} frame;

static frame F;

static void u8(uint8_t v)
{
    ck_assert_uint_lt(F.n, sizeof F.b);
    F.b[F.n++] = v;
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

static void w_header(uint64_t lsn)
{
    F.n = 0;
    u8('w');
    be(lsn, 8);
    be(lsn, 8);
    be(0, 8);
}

static int feed(hr_stream *s)
{
    return hr__stream_feed(s, F.b, F.n);
}

static int send_begin(hr_stream *s, uint64_t final_lsn, uint32_t xid)
{
    w_header(final_lsn);
    u8('B');
    be(final_lsn, 8);
    be(0, 8);
    be(xid, 4);
    return feed(s);
}

static int send_commit(hr_stream *s, uint64_t commit_lsn, uint64_t end_lsn)
{
    w_header(commit_lsn);
    u8('C');
    u8(0);
    be(commit_lsn, 8);
    be(end_lsn, 8);
    be(0, 8);
    return feed(s);
}

/* Relation oid with columns id int8 (key), tenant_id (key) of `ttype`,
 * note text. */
static int send_relation(hr_stream *s, uint32_t oid, const char *name,
                         uint32_t ttype)
{
    w_header(1);
    u8('R');
    be(oid, 4);
    cstr("public");
    cstr(name);
    u8('d');
    be(3, 2);
    u8(1), cstr("id"), be(HR_OID_INT8, 4), be(0xffffffffu, 4);
    u8(1), cstr("tenant_id"), be(ttype, 4), be(0xffffffffu, 4);
    u8(0), cstr("note"), be(HR_OID_TEXT, 4), be(0xffffffffu, 4);
    return feed(s);
}

/* A tuple (id, tenant, note); tenant NULL = SQL NULL; note NULL = 'u'
 * when `toast`, else NULL. */
static void tuple(const char *id, const char *tenant, const char *note)
{
    be(3, 2);
    u8('t'), be(strlen(id), 4);
    for (const char *p = id; *p; p++)
        u8((uint8_t)*p);
    if (tenant) {
        u8('t'), be(strlen(tenant), 4);
        for (const char *p = tenant; *p; p++)
            u8((uint8_t)*p);
    } else {
        u8('n');
    }
    if (note) {
        u8('t'), be(strlen(note), 4);
        for (const char *p = note; *p; p++)
            u8((uint8_t)*p);
    } else {
        u8('n');
    }
}

static int send_insert(hr_stream *s, uint32_t oid, const char *id,
                       const char *tenant)
{
    w_header(2);
    u8('I');
    be(oid, 4);
    u8('N');
    tuple(id, tenant, "x");
    return feed(s);
}

static int send_update(hr_stream *s, uint32_t oid, const char *id,
                       const char *old_tenant, const char *tenant)
{
    w_header(2);
    u8('U');
    be(oid, 4);
    if (old_tenant) {
        u8('K');
        tuple(id, old_tenant, NULL);
    }
    u8('N');
    tuple(id, tenant, "y");
    return feed(s);
}

static void text_value(const char *v)
{
    u8('t');
    be(strlen(v), 4);
    while (*v)
        u8((uint8_t)*v++);
}

/* An update of row `id`: old tuple of form `old_form` ('K' key, note NULL;
 * 'O' the whole row with note `old_note`; 0 none), new row with tenant
 * `tenant` and note `note` (NULL: unchanged TOAST). */
static int send_update_ex(hr_stream *s, uint32_t oid, const char *id,
                          int old_form, const char *old_tenant,
                          const char *old_note, const char *tenant,
                          const char *note)
{
    w_header(2);
    u8('U');
    be(oid, 4);
    if (old_form) {
        u8((uint8_t)old_form);
        tuple(id, old_tenant, old_form == 'O' ? old_note : NULL);
    }
    u8('N');
    be(3, 2);
    text_value(id);
    text_value(tenant);
    if (note)
        text_value(note);
    else
        u8('u');
    return feed(s);
}

static int send_delete(hr_stream *s, uint32_t oid, const char *id,
                       const char *tenant)
{
    w_header(2);
    u8('D');
    be(oid, 4);
    u8('K');
    tuple(id, tenant, NULL);
    return feed(s);
}

static int send_truncate(hr_stream *s, uint32_t oid)
{
    w_header(2);
    u8('T');
    be(1, 4);
    u8(0);
    be(oid, 4);
    return feed(s);
}

static int send_message(hr_stream *s, uint64_t lsn, int transactional,
                        const char *prefix)
{
    w_header(lsn);
    u8('M');
    u8(transactional ? 1 : 0);
    be(lsn, 8);
    cstr(prefix);
    be(0, 4);
    return feed(s);
}

static int send_keepalive(hr_stream *s, uint64_t wal_end, int reply)
{
    F.n = 0;
    u8('k');
    be(wal_end, 8);
    be(0, 8);
    u8(reply ? 1 : 0);
    return feed(s);
}

/* ---- options ---- */

START_TEST(options_are_validated)
{
    hr_stream_opts *o;
    ck_assert_int_eq(hr_stream_opts_new(NULL, &o), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_new(env, NULL), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_new(env, &o), HR_OK);
    ck_assert_str_eq(hr_stream_opts_errmsg(o), "");

    ck_assert_int_eq(hr_stream_opts_set_conninfo(o, ""), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_set_conninfo(o, "no equals sign"),
                     HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_stream_opts_errmsg(o), "conninfo"));
    ck_assert_int_eq(hr_stream_opts_set_conninfo(o, "postgresql://u@h/db"),
                     HR_OK);
    ck_assert_str_eq(hr_stream_opts_errmsg(o), "");

    ck_assert_int_eq(hr_stream_opts_set_mode(o, (hr_stream_mode)3), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, NULL), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, ""), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, "a b"), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, "a'b"), HR_EINVAL);
    char id[65];
    memset(id, 'x', 64);
    id[64] = 0;
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, id), HR_EINVAL);
    id[63] = 0;
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, id), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, "Acme-1.eu_west"), HR_OK);

    ck_assert_int_eq(hr_stream_opts_set_tenant_column(o, ""), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_set_tenant_column(o, "org \"id\""), HR_OK);
    ck_assert_int_eq(hr_stream_opts_add_table(o, ""), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_add_table(o, ".t"), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_add_table(o, "s."), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_add_table(o, "s.t"), HR_OK);
    ck_assert_int_eq(hr_stream_opts_add_table(o, "orders"), HR_OK);
    ck_assert_str_eq(o->table_schemas.items[1], "public");
    ck_assert_str_eq(o->table_names.items[1], "orders");
    ck_assert_int_eq(hr_stream_opts_add_schema(o, ""), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_set_slot(o, "Upper"), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_set_slot(o, "a-b"), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_set_slot(o, "hr_ok_1"), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_publication(o, "a\\b"), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_set_publication(o, "Pub \"x\""), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_binary(o, 2), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_set_proto_version(o, 3), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_set_proto_version(o, 1), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_status_interval_ms(o, 0), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_set_status_interval_ms(o, 50), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_heartbeat_interval_ms(o, -1),
                     HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_set_heartbeat_interval_ms(o, 0), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_export_snapshot(o, -1), HR_EINVAL);
    ck_assert_int_eq(hr_stream_opts_set_conninfo(NULL, "x=y"), HR_EINVAL);
    hr_stream_opts_free(o);
    hr_stream_opts_free(NULL);
}
END_TEST

static int noop_txn(void *ctx, const char *t, const hr_pgtxn *txn,
                    const hr_stream_change *c, size_t n)
{
    (void)ctx, (void)t, (void)txn, (void)c, (void)n;
    return HR_OK;
}

START_TEST(new_checks_the_whole)
{
    hr_stream_opts *o;
    hr_stream *s = (hr_stream *)1;
    hr_stream_callbacks cb = {HR_STREAM_CALLBACKS_VERSION, NULL, noop_txn,
                              NULL};
    ck_assert_int_eq(hr_stream_opts_new(env, &o), HR_OK);

    /* Failures are reported through the env; the options stay untouched. */
    ck_assert_int_eq(hr_stream_new(env, o, &cb, &s), HR_EINVAL);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(hr_env_errmsg(env), "conninfo"));
    ck_assert_str_eq(hr_stream_opts_errmsg(o), "");
    ck_assert_int_eq(hr_stream_opts_set_conninfo(o, NOWHERE), HR_OK);
    ck_assert_int_eq(hr_stream_new(env, o, &cb, &s), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_env_errmsg(env), "tenant"));
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, "acme"), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_mode(o, HR_STREAM_SHARED), HR_OK);
    ck_assert_int_eq(hr_stream_new(env, o, &cb, &s), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_env_errmsg(env), "add_tenant"));
    ck_assert_str_eq(hr_stream_opts_errmsg(o), "");
    ck_assert_int_eq(hr_stream_opts_set_mode(o, HR_STREAM_DEDICATED), HR_OK);

    hr_stream_callbacks bad = cb;
    bad.version = 99;
    ck_assert_int_eq(hr_stream_new(env, o, &bad, &s), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_env_errmsg(env), "version 99"));
    bad = cb;
    bad.on_txn = NULL;
    ck_assert_int_eq(hr_stream_new(env, o, &bad, &s), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_env_errmsg(env), "on_txn"));
    ck_assert_int_eq(hr_stream_new(env, NULL, &cb, &s), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_env_errmsg(env), "NULL options"));
    ck_assert_int_eq(hr_stream_new(env, o, NULL, &s), HR_EINVAL);
    ck_assert_int_eq(hr_stream_new(NULL, o, &cb, &s), HR_EINVAL);
    ck_assert_int_eq(hr_stream_new(env, o, &cb, NULL), HR_EINVAL);

    ck_assert_int_eq(hr_stream_new(env, o, &cb, &s), HR_OK);
    ck_assert_str_eq(hr_stream_opts_errmsg(o), "");
    /* defaults resolved in the stream's own copy */
    ck_assert_str_eq(s->cfg->slot, "hr_acme");
    ck_assert_str_eq(s->cfg->publication, "hr_acme");
    ck_assert_str_eq(s->cfg->tenant_column, "tenant_id");
    ck_assert_uint_eq(s->cfg->schemas.n, 1);
    ck_assert_str_eq(s->cfg->schemas.items[0], "public");
    ck_assert_int_eq(s->cfg->proto_version, 2);
    ck_assert_int_eq(s->cfg->status_interval_ms, 10000);
    ck_assert_int_eq(s->cfg->heartbeat_interval_ms, 30000);
    hr_stream_opts_free(o); /* the stream keeps its copy */
    ck_assert_str_eq(s->cfg->conninfo, NOWHERE);

    ck_assert_int_eq(hr_stream_fd(s), -1);
    ck_assert_int_eq(hr_stream_interest(s), 0);
    ck_assert_int_eq(hr_stream_phase(s), HR_STREAM_PHASE_IDLE);
    int fds[2], ins[2];
    ck_assert_int_eq(hr_stream_fds(s, fds, ins, 2), 0);
    ck_assert_int_eq(hr_stream_fds(s, NULL, NULL, 0), 0);
    ck_assert_int_eq(hr_stream_fds(s, NULL, ins, 1), HR_EINVAL);
    ck_assert_int_eq(hr_stream_fds(s, fds, ins, -1), HR_EINVAL);
    ck_assert_int_eq(hr_stream_fds(NULL, fds, ins, 2), HR_EINVAL);
    ck_assert_ptr_null(hr_stream_snapshot_name(s));
    ck_assert_uint_eq(hr_stream_consistent_lsn(s), 0);
    ck_assert_int_eq(hr_stream_release_snapshot(s), HR_ESTATE);
    ck_assert_int_eq(hr_stream_add_tenant(s, "x", 0), HR_EINVAL);
    ck_assert_int_eq(hr_stream_remove_tenant(s, "acme"), HR_EINVAL);
    ck_assert_int_eq(hr_stream_confirm(s, "other", 5), HR_ENOTFOUND);
    ck_assert_int_eq(hr_stream_confirm(s, NULL, 5), HR_OK);
    ck_assert_int_eq(hr_stream_confirm(s, "acme", 9), HR_OK);
    ck_assert_int_eq(hr_stream_confirm(s, NULL, 7), HR_OK); /* backwards */
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, "acme"), 9);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, NULL), 9);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, "other"), 0);
    hr_stream_free(s);
    hr_stream_free(NULL);
    ck_assert_int_eq(hr_stream_step(NULL, 0), HR_EINVAL);
    ck_assert_int_eq(hr_stream_fd(NULL), -1);
    ck_assert_int_eq(hr_stream_phase(NULL), HR_STREAM_PHASE_CLOSED);
    /* the phases are pinned */
    ck_assert_int_eq(HR_STREAM_PHASE_IDLE, 0);
    ck_assert_int_eq(HR_STREAM_PHASE_CONNECTING, 1);
    ck_assert_int_eq(HR_STREAM_PHASE_SETUP, 2);
    ck_assert_int_eq(HR_STREAM_PHASE_SNAPSHOT_HELD, 3);
    ck_assert_int_eq(HR_STREAM_PHASE_STREAMING, 4);
    ck_assert_int_eq(HR_STREAM_PHASE_BACKOFF, 5);
    ck_assert_int_eq(HR_STREAM_PHASE_CLOSED, 6);
    ck_assert_int_eq(HR_STREAM_ROLE_AS_IS, 0);
    ck_assert_int_eq(HR_STREAM_ROLE_DELETE, 1);
    ck_assert_int_eq(HR_STREAM_ROLE_INSERT, 2);
}
END_TEST

START_TEST(tenant_ids_and_default_names)
{
    ck_assert(hr__tenant_id_valid("a", 1));
    ck_assert(hr__tenant_id_valid("A.b-c_9", 7));
    ck_assert(!hr__tenant_id_valid("", 0));
    ck_assert(!hr__tenant_id_valid("a/b", 3));
    ck_assert(!hr__tenant_id_valid("a\0b", 3));
    ck_assert(!hr__tenant_id_valid("é", strlen("é")));

    char a[64], b[64], c[64], d[64];
    hr__default_name("acme_1", a);
    ck_assert_str_eq(a, "hr_acme_1");
    /* distinct ids, distinct slots, even where folding would merge them */
    hr__default_name("a.b", a);
    hr__default_name("a-b", b);
    hr__default_name("a_b", c);
    hr__default_name("A_b", d);
    ck_assert_str_eq(c, "hr_a_b");
    ck_assert_str_ne(a, b);
    ck_assert_str_ne(a, c);
    ck_assert_str_ne(b, c);
    ck_assert_str_ne(d, c);
    ck_assert_int_eq(strncmp(a, "hrx_a_b_", 8), 0);
    ck_assert(hr__slot_name_valid(a) && hr__slot_name_valid(b) &&
              hr__slot_name_valid(d));
    /* long ids stay within NAMEDATALEN */
    char id[64];
    memset(id, 'q', 63);
    id[63] = 0;
    hr__default_name(id, a);
    ck_assert_uint_le(strlen(a), 63);
    ck_assert(hr__slot_name_valid(a));
    id[60] = 0; /* 60 plain characters still fit "hr_" + id */
    hr__default_name(id, b);
    ck_assert_uint_eq(strlen(b), 63);
    ck_assert_int_eq(strncmp(b, "hr_", 3), 0);
    id[60] = 'q';
    id[61] = 0;
    hr__default_name(id, c);
    ck_assert_int_eq(strncmp(c, "hrx_", 4), 0);
}
END_TEST

/* ---- SQL ---- */

static PGconn *offline_conn(void)
{
    /* A connection object that never connected: enough for escaping. */
    PGconn *conn = PQconnectdb(NOWHERE);
    ck_assert_ptr_nonnull(conn);
    return conn;
}

static char *take(hr__sbuf *b)
{
    char *sql = NULL;
    ck_assert_int_eq(hr__sbuf_take(b, &sql), HR_OK);
    return sql;
}

START_TEST(sql_quotes_every_name)
{
    PGconn *conn = offline_conn();
    hr_stream_opts *o, *cfg;
    hr__error err;
    ck_assert_int_eq(hr_stream_opts_new(env, &o), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_conninfo(o, NOWHERE), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_tenant(o, "acme"), HR_OK);
    ck_assert_int_eq(hr_stream_opts_add_table(o, "public.orders"), HR_OK);
    ck_assert_int_eq(hr_stream_opts_add_table(o, "we\"ird.ta'ble"), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_tenant_column(o, "org\"id"), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_publication(o, "pub 'x\""), HR_OK);
    ck_assert_int_eq(hr__stream_opts_resolve(o, &cfg, &err), HR_OK);
    ck_assert_uint_eq(cfg->schemas.n, 0); /* explicit tables only */

    hr__sbuf b;
    hr__sbuf_init(&b, env);
    hr__table tables[] = {{"public", "orders", 0},
                          {"we\"ird", "ta'ble", 0},
                          {"public", "already", 1}};
    hr__sql_publication(&b, conn, cfg, tables, 3, 1);
    char *sql = take(&b);
    ck_assert_str_eq(sql, "CREATE PUBLICATION \"pub 'x\"\"\" FOR TABLE "
                          "\"public\".\"orders\" WHERE (\"org\"\"id\" = "
                          "'acme'), \"we\"\"ird\".\"ta'ble\" WHERE "
                          "(\"org\"\"id\" = 'acme')");
    hr__free(env, sql);
    hr__sql_publication(&b, conn, cfg, tables + 1, 1, 0);
    sql = take(&b);
    ck_assert_str_eq(sql, "ALTER PUBLICATION \"pub 'x\"\"\" ADD TABLE "
                          "\"we\"\"ird\".\"ta'ble\" WHERE (\"org\"\"id\" = "
                          "'acme')");
    hr__free(env, sql);

    hr__sql_tables(&b, conn, cfg);
    sql = take(&b);
    ck_assert_ptr_nonnull(strstr(sql, "VALUES ('public'::pg_catalog.name, "
                                      "'orders'::pg_catalog.name), "
                                      "('we\"ird'::pg_catalog.name, "
                                      "'ta''ble'::pg_catalog.name)"));
    ck_assert_ptr_nonnull(strstr(sql, "a.attname = 'org\"id'"));
    ck_assert_ptr_nonnull(strstr(sql, "pt.pubname = 'pub ''x\"'"));
    ck_assert_ptr_null(strstr(sql, "nspname IN")); /* no schemas */
    hr__free(env, sql);

    hr__sql_probe(&b, conn, cfg);
    sql = take(&b);
    ck_assert_ptr_nonnull(strstr(sql, "WHERE pubname = 'pub ''x\"'"));
    ck_assert_ptr_nonnull(strstr(sql, "ON s.slot_name = 'hr_acme'"));
    hr__free(env, sql);

    hr__sql_create_slot(&b, conn, cfg);
    sql = take(&b);
    ck_assert_str_eq(sql, "CREATE_REPLICATION_SLOT \"hr_acme\" LOGICAL "
                          "pgoutput NOEXPORT_SNAPSHOT");
    hr__free(env, sql);
    cfg->export_snapshot = 1;
    hr__sql_create_slot(&b, conn, cfg);
    sql = take(&b);
    ck_assert_str_eq(sql, "CREATE_REPLICATION_SLOT \"hr_acme\" LOGICAL "
                          "pgoutput EXPORT_SNAPSHOT");
    hr__free(env, sql);

    hr__sql_start(&b, conn, cfg, 0x16B374D848ull);
    sql = take(&b);
    ck_assert_str_eq(sql, "START_REPLICATION SLOT \"hr_acme\" LOGICAL "
                          "16/B374D848 (proto_version '2', publication_names "
                          "'\"pub ''x\"\"\"', binary 'false', messages "
                          "'true', streaming 'on')");
    hr__free(env, sql);
    cfg->proto_version = 1;
    cfg->binary = 1;
    hr__sql_start(&b, conn, cfg, 0);
    sql = take(&b);
    ck_assert_str_eq(sql, "START_REPLICATION SLOT \"hr_acme\" LOGICAL 0/0 "
                          "(proto_version '1', publication_names "
                          "'\"pub ''x\"\"\"', binary 'true', messages "
                          "'true')");
    hr__free(env, sql);

    hr__sql_drop_slot(&b, conn, cfg);
    sql = take(&b);
    ck_assert_ptr_nonnull(strstr(sql, "WHERE slot_name = 'hr_acme'"));
    hr__free(env, sql);
    hr__sql_drop_publication(&b, conn, cfg);
    sql = take(&b);
    ck_assert_str_eq(sql, "DROP PUBLICATION IF EXISTS \"pub 'x\"\"\"");
    hr__free(env, sql);

    /* shared mode: no row filter; schemas discovered by the column */
    hr_stream_opts_free(cfg);
    hr_stream_opts_free(o);
    ck_assert_int_eq(hr_stream_opts_new(env, &o), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_conninfo(o, NOWHERE), HR_OK);
    ck_assert_int_eq(hr_stream_opts_set_mode(o, HR_STREAM_SHARED), HR_OK);
    ck_assert_int_eq(hr_stream_opts_add_schema(o, "app"), HR_OK);
    ck_assert_int_eq(hr_stream_opts_add_schema(o, "b'i"), HR_OK);
    ck_assert_int_eq(hr__stream_opts_resolve(o, &cfg, &err), HR_OK);
    ck_assert_str_eq(cfg->slot, "hr_shared");
    hr__sql_publication(&b, conn, cfg, tables, 2, 1);
    sql = take(&b);
    ck_assert_str_eq(sql, "CREATE PUBLICATION \"hr_shared\" FOR TABLE "
                          "\"public\".\"orders\", \"we\"\"ird\".\"ta'ble\"");
    hr__free(env, sql);
    hr__sql_tables(&b, conn, cfg);
    sql = take(&b);
    ck_assert_ptr_nonnull(strstr(sql, "n.nspname IN ('app', 'b''i')"));
    ck_assert_ptr_null(strstr(sql, "VALUES"));
    hr__free(env, sql);
    hr_stream_opts_free(cfg);
    hr_stream_opts_free(o);
    PQfinish(conn);
}
END_TEST

START_TEST(lsn_text)
{
    uint64_t v;
    char buf[24];
    ck_assert_int_eq(hr__lsn_parse("16/B374D848", &v), HR_OK);
    ck_assert_uint_eq(v, 0x16B374D848ull);
    hr__lsn_format(v, buf);
    ck_assert_str_eq(buf, "16/B374D848");
    ck_assert_int_eq(hr__lsn_parse("0/0", &v), HR_OK);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(hr__lsn_parse("FFFFFFFF/ffffffff", &v), HR_OK);
    ck_assert_uint_eq(v, UINT64_MAX);
    const char *bad[] = {"",      "1",    "/1", "1/", "G/1", "123456789/0",
                         "1/2/3", "1 /2", NULL};
    for (int i = 0; bad[i]; i++)
        ck_assert_msg(hr__lsn_parse(bad[i], &v) == HR_EINVAL, "%s", bad[i]);
    ck_assert_int_eq(hr__lsn_parse(NULL, &v), HR_EINVAL);
}
END_TEST

/* ---- feedback and time ---- */

START_TEST(status_update_encoding)
{
    uint8_t m[HR__STATUS_UPDATE_LEN];
    hr__status_encode(m, 0x0102030405060708ull, 0x1112131415161718ull,
                      0x2122232425262728ull, -2, 1);
    static const uint8_t want[34] = {
        'r',  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x11, 0x12, 0x13,
        0x14, 0x15, 0x16, 0x17, 0x18, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
        0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x01};
    ck_assert_mem_eq(m, want, sizeof want);
    hr__status_encode(m, 0, 0, 0, 0, 0);
    ck_assert_int_eq(m[0], 'r');
    ck_assert_int_eq(m[33], 0);
    /* 2000-01-01 is PostgreSQL's epoch */
    ck_assert_int_eq(HR__PG_EPOCH_OFFSET_US, 946684800ll * 1000000);
}
END_TEST

START_TEST(timeout_arithmetic)
{
    ck_assert_int_eq(hr__ms_until(0, 5), 0);
    ck_assert_int_eq(hr__ms_until(5, 5), 0);
    ck_assert_int_eq(hr__ms_until(6, 5), 1); /* rounds up: never early */
    ck_assert_int_eq(hr__ms_until(2000000, 0), 2);
    ck_assert_int_eq(hr__ms_until(2000001, 0), 3);
    ck_assert_int_eq(hr__ms_until(UINT64_MAX, 0),
                     (int64_t)(UINT64_MAX / 1000000 + 1));
    ck_assert_uint_eq(hr__deadline_min(0, 7), 7);
    ck_assert_uint_eq(hr__deadline_min(7, 0), 7);
    ck_assert_uint_eq(hr__deadline_min(9, 7), 7);
    ck_assert_uint_eq(hr__deadline_min(0, 0), 0);
}
END_TEST

#define SEC 1000000000ull
#define MS 1000000ull

START_TEST(reconnect_backs_off)
{
    recorder r = {0};
    hr_stream *s = new_stream(env, &r, HR_STREAM_DEDICATED, "acme");
    uint64_t now = 100 * SEC;
    ck_assert_int_eq(hr_stream_timeout_ms(s, now), 0); /* connect now */
    /* The server cannot be reached: not an error of step, a retry. */
    ck_assert_int_eq(hr_stream_step(s, now), HR_OK);
    ck_assert_ptr_nonnull(strstr(hr_stream_errmsg(s), "cannot connect"));
    ck_assert_int_eq(hr_stream_fd(s), -1);
    ck_assert_int_eq(hr_stream_phase(s), HR_STREAM_PHASE_BACKOFF);
    ck_assert_int_eq(hr_stream_timeout_ms(s, now), 100);
    ck_assert_int_eq(hr_stream_timeout_ms(s, now + 30 * MS), 70);
    ck_assert_int_eq(hr_stream_timeout_ms(s, now + 30 * MS + 1), 70);
    ck_assert_int_eq(hr_stream_step(s, now + 50 * MS), HR_OK);
    ck_assert_uint_eq(s->reconnects, 1); /* not due: no attempt */
    now += 100 * MS;
    ck_assert_int_eq(hr_stream_step(s, now), HR_OK);
    ck_assert_uint_eq(s->reconnects, 2);
    ck_assert_int_eq(hr_stream_timeout_ms(s, now), 200);
    int64_t last = 200;
    for (int i = 0; i < 12; i++) {
        now += (uint64_t)last * MS;
        ck_assert_int_eq(hr_stream_step(s, now), HR_OK);
        last = hr_stream_timeout_ms(s, now);
    }
    ck_assert_int_eq(last, 30000); /* capped */
    hr_stream_free(s);
}
END_TEST

START_TEST(streaming_deadlines)
{
    recorder r = {0};
    hr_stream *s = new_stream(env, &r, HR_STREAM_DEDICATED, "acme");
    uint64_t now = 100 * SEC;
    /* Pretend to stream: the deadlines come from feedback and heartbeats. */
    s->state = HR__ST_STREAMING;
    s->now = now;
    s->next_status_at = now + 10 * SEC;
    s->next_hb_at = now + 30 * SEC;
    ck_assert_int_eq(hr_stream_timeout_ms(s, now), 10000);
    ck_assert_int_eq(hr_stream_timeout_ms(s, now + 4 * SEC), 6000);
    s->next_hb_at = now + 2 * SEC;
    ck_assert_int_eq(hr_stream_timeout_ms(s, now), 2000);
    s->status_now = 1; /* the server asked */
    ck_assert_int_eq(hr_stream_timeout_ms(s, now), 0);
    s->status_now = 0;
    s->more_pending = 1; /* read budget used up */
    ck_assert_int_eq(hr_stream_timeout_ms(s, now), 0);
    s->more_pending = 0;
    s->cfg->heartbeat_interval_ms = 0; /* no heartbeats */
    ck_assert_int_eq(hr_stream_timeout_ms(s, now), 10000);
    s->cfg->heartbeat_interval_ms = 30000;
    ck_assert_int_eq(hr_stream_phase(s), HR_STREAM_PHASE_STREAMING);
    /* A heartbeat out: a host that watches hr_stream_fd alone cannot see
     * its socket and is asked to step every 10 ms ... */
    s->hb.state = HR__PGC_BUSY;
    s->hb_started = now;
    ck_assert_int_eq(hr_stream_timeout_ms(s, now), 10);
    /* ... one that asked for hr_stream_fds sees it, and is not polled: only
     * the heartbeat's time limit (30 s) stays, under the status update */
    ck_assert_int_eq(hr_stream_fds(s, NULL, NULL, 0), 0); /* no sockets */
    ck_assert_int_eq(hr_stream_timeout_ms(s, now), 10000);
    s->next_status_at = now + 60 * SEC;
    ck_assert_int_eq(hr_stream_timeout_ms(s, now), 30001);
    s->fds_watched = 0;
    s->next_status_at = now + 10 * SEC;
    s->hb.state = HR__PGC_NONE;
    s->state = HR__ST_SNAPSHOT; /* holding a snapshot: nothing to time */
    s->snap = HR__SNAP_HELD;
    ck_assert_int_eq(hr_stream_timeout_ms(s, now), -1);
    ck_assert_int_eq(hr_stream_phase(s), HR_STREAM_PHASE_SNAPSHOT_HELD);
    s->snap = HR__SNAP_RELEASED;
    ck_assert_int_eq(hr_stream_timeout_ms(s, now), 0);
    ck_assert_int_eq(hr_stream_phase(s), HR_STREAM_PHASE_SETUP);
    s->state = HR__ST_IDLE; /* the snapshot's connection broke */
    s->snap = HR__SNAP_LOST;
    ck_assert_int_eq(hr_stream_phase(s), HR_STREAM_PHASE_SNAPSHOT_HELD);
    ck_assert_ptr_null(hr_stream_snapshot_name(s));
    ck_assert_int_eq(hr_stream_timeout_ms(s, now), -1); /* waits for it */
    s->snap = HR__SNAP_NONE;
    s->state = HR__ST_PROBE;
    ck_assert_int_eq(hr_stream_phase(s), HR_STREAM_PHASE_SETUP);
    s->state = HR__ST_CONNECTING;
    ck_assert_int_eq(hr_stream_phase(s), HR_STREAM_PHASE_CONNECTING);
    s->state = HR__ST_IDLE;
    hr_stream_free(s);
}
END_TEST

/* ---- demultiplexing ---- */

START_TEST(shared_splits_by_tenant_in_order)
{
    recorder r = {0};
    hr_stream *s = new_stream(env, &r, HR_STREAM_SHARED, NULL);
    ck_assert_int_eq(hr_stream_add_tenant(s, "a", 0), HR_OK);
    ck_assert_int_eq(hr_stream_add_tenant(s, "b", 0), HR_OK);
    ck_assert_int_eq(hr_stream_add_tenant(s, "b", 0), HR_EINVAL);
    ck_assert_int_eq(hr_stream_add_tenant(s, "bad id", 0), HR_EINVAL);
    ck_assert_int_eq(send_relation(s, 16400, "orders", HR_OID_TEXT), HR_OK);
    ck_assert_int_eq(send_begin(s, 0x1000, 700), HR_OK);
    ck_assert_int_eq(send_insert(s, 16400, "1", "a"), HR_OK);       /* 0 a */
    ck_assert_int_eq(send_insert(s, 16400, "2", "b"), HR_OK);       /* 1 b */
    ck_assert_int_eq(send_insert(s, 16400, "3", "c"), HR_OK);       /* 2 -  */
    ck_assert_int_eq(send_update(s, 16400, "1", NULL, "a"), HR_OK); /* 3 a */
    ck_assert_int_eq(send_delete(s, 16400, "2", "b"), HR_OK);       /* 4 b */
    ck_assert_int_eq(send_message(s, 0x0f00, 1, "app"), HR_OK);     /* 5 - */
    ck_assert_int_eq(send_insert(s, 16400, "4", "a"), HR_OK);       /* 6 a */
    ck_assert_int_eq(send_commit(s, 0x1000, 0x1010), HR_OK);
    ck_assert_uint_eq(r.n, 2);
    ck_assert_str_eq(r.d[0].tenant, "a");
    ck_assert_uint_eq(r.d[0].n, 3);
    ck_assert_uint_eq(r.d[0].changes[0], 0);
    ck_assert_uint_eq(r.d[0].changes[1], 3);
    ck_assert_uint_eq(r.d[0].changes[2], 6);
    ck_assert_int_eq(r.d[0].kinds[1], HR_PGCHANGE_UPDATE);
    ck_assert_str_eq(r.d[1].tenant, "b");
    ck_assert_uint_eq(r.d[1].n, 2);
    ck_assert_uint_eq(r.d[1].changes[0], 1);
    ck_assert_uint_eq(r.d[1].changes[1], 4);
    ck_assert_int_eq(r.d[1].kinds[1], HR_PGCHANGE_DELETE);
    ck_assert_uint_eq(r.d[0].end_lsn, 0x1010);

    /* a transaction of nobody registered: nothing handed over */
    ck_assert_int_eq(send_begin(s, 0x2000, 701), HR_OK);
    ck_assert_int_eq(send_insert(s, 16400, "5", "c"), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x2000, 0x2010), HR_OK);
    ck_assert_uint_eq(r.n, 2);

    /* a TRUNCATE concerns every registered tenant */
    ck_assert_int_eq(send_begin(s, 0x3000, 702), HR_OK);
    ck_assert_int_eq(send_insert(s, 16400, "6", "b"), HR_OK);
    ck_assert_int_eq(send_truncate(s, 16400), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x3000, 0x3010), HR_OK);
    ck_assert_uint_eq(r.n, 4);
    ck_assert_str_eq(r.d[2].tenant, "b");
    ck_assert_uint_eq(r.d[2].n, 2);
    ck_assert_int_eq(r.d[2].kinds[1], HR_PGCHANGE_TRUNCATE);
    ck_assert_str_eq(r.d[3].tenant, "a");
    ck_assert_uint_eq(r.d[3].n, 1);
    ck_assert_int_eq(r.d[3].kinds[0], HR_PGCHANGE_TRUNCATE);

    /* removing a tenant stops its deliveries */
    ck_assert_int_eq(hr_stream_remove_tenant(s, "a"), HR_OK);
    ck_assert_int_eq(hr_stream_remove_tenant(s, "a"), HR_ENOTFOUND);
    ck_assert_int_eq(send_begin(s, 0x4000, 703), HR_OK);
    ck_assert_int_eq(send_insert(s, 16400, "7", "a"), HR_OK);
    ck_assert_int_eq(send_insert(s, 16400, "8", "b"), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x4000, 0x4010), HR_OK);
    ck_assert_uint_eq(r.n, 5);
    ck_assert_str_eq(r.d[4].tenant, "b");
    hr_stream_free(s);
}
END_TEST

START_TEST(many_tenants_find_their_rows)
{
    recorder r = {0};
    hr_stream *s = new_stream(env, &r, HR_STREAM_SHARED, NULL);
    char id[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(id, sizeof id, "t%d", i);
        ck_assert_int_eq(hr_stream_add_tenant(s, id, 0), HR_OK);
    }
    for (int i = 0; i < 1000; i += 3) {
        snprintf(id, sizeof id, "t%d", i);
        ck_assert_int_eq(hr_stream_remove_tenant(s, id), HR_OK);
    }
    ck_assert_int_eq(send_relation(s, 1, "orders", HR_OID_TEXT), HR_OK);
    ck_assert_int_eq(send_begin(s, 0x100, 1), HR_OK);
    const int pick[] = {0, 1, 2, 998, 999, 500, 501};
    for (size_t k = 0; k < 7; k++) {
        snprintf(id, sizeof id, "t%d", pick[k]);
        ck_assert_int_eq(send_insert(s, 1, "1", id), HR_OK);
    }
    ck_assert_int_eq(send_commit(s, 0x100, 0x110), HR_OK);
    /* removed: 0, 999 (999 % 3 == 0) and 501 */
    ck_assert_uint_eq(r.n, 4);
    ck_assert_str_eq(r.d[0].tenant, "t1");
    ck_assert_str_eq(r.d[1].tenant, "t2");
    ck_assert_str_eq(r.d[2].tenant, "t998");
    ck_assert_str_eq(r.d[3].tenant, "t500");
    hr_stream_free(s);
}
END_TEST

START_TEST(dedicated_rejects_foreign_rows)
{
    recorder r = {0};
    hr_stream *s = new_stream(env, &r, HR_STREAM_DEDICATED, "solo");
    ck_assert_int_eq(send_relation(s, 9, "orders", HR_OID_TEXT), HR_OK);
    ck_assert_int_eq(send_begin(s, 0x100, 1), HR_OK);
    ck_assert_int_eq(send_insert(s, 9, "1", "solo"), HR_OK);
    ck_assert_int_eq(send_truncate(s, 9), HR_OK);
    ck_assert_int_eq(send_message(s, 0x90, 1, "app"), HR_OK);
    ck_assert_int_eq(send_delete(s, 9, "1", "solo"), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x100, 0x110), HR_OK);
    ck_assert_uint_eq(r.n, 1);
    ck_assert_uint_eq(r.d[0].n, 4); /* every change, messages too */
    ck_assert_int_eq(r.d[0].kinds[2], HR_PGCHANGE_MESSAGE);
    for (size_t k = 0; k < 4; k++) {
        ck_assert_uint_eq(r.d[0].changes[k], k);
        ck_assert_int_eq(r.d[0].roles[k], HR_STREAM_ROLE_AS_IS);
    }

    ck_assert_int_eq(send_begin(s, 0x200, 2), HR_OK);
    ck_assert_int_eq(send_insert(s, 9, "2", "solo"), HR_OK);
    ck_assert_int_eq(send_insert(s, 9, "3", "intruder"), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x200, 0x210), HR_EPROTO);
    ck_assert_ptr_nonnull(strstr(hr_stream_errmsg(s), "intruder"));
    ck_assert_ptr_nonnull(strstr(hr_stream_errmsg(s), "row filter"));
    ck_assert_uint_eq(r.n, 1); /* nothing of it handed over */
    hr_stream_free(s);
}
END_TEST

START_TEST(reconnect_repeats_nothing)
{
    recorder r = {0};
    hr_stream *s = new_stream(env, &r, HR_STREAM_SHARED, NULL);
    ck_assert_int_eq(hr_stream_add_tenant(s, "a", 0), HR_OK);
    ck_assert_int_eq(hr_stream_add_tenant(s, "b", 0), HR_OK);
    ck_assert_int_eq(send_relation(s, 5, "orders", HR_OID_TEXT), HR_OK);
    r.fail_tenant_b = 1;
    ck_assert_int_eq(send_begin(s, 0x100, 1), HR_OK);
    ck_assert_int_eq(send_insert(s, 5, "1", "a"), HR_OK);
    ck_assert_int_eq(send_insert(s, 5, "2", "b"), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x100, 0x110), HR_EIO); /* b's callback */
    ck_assert_ptr_nonnull(strstr(hr_stream_errmsg(s), "on_txn for tenant b"));
    ck_assert_uint_eq(r.n, 1);
    ck_assert_uint_eq(s->position, 0); /* not fully handed over */

    /* The server sends it again after a reconnect: only b gets it now. */
    hr_pgdecoder_reset(s->dec, 1);
    r.fail_tenant_b = 0;
    ck_assert_int_eq(send_begin(s, 0x100, 1), HR_OK);
    ck_assert_int_eq(send_insert(s, 5, "1", "a"), HR_OK);
    ck_assert_int_eq(send_insert(s, 5, "2", "b"), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x100, 0x110), HR_OK);
    ck_assert_uint_eq(r.n, 2);
    ck_assert_str_eq(r.d[1].tenant, "b");

    /* Once more: nobody gets it a third time. */
    ck_assert_int_eq(send_begin(s, 0x100, 1), HR_OK);
    ck_assert_int_eq(send_insert(s, 5, "1", "a"), HR_OK);
    ck_assert_int_eq(send_insert(s, 5, "2", "b"), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x100, 0x110), HR_OK);
    ck_assert_uint_eq(r.n, 2);

    /* A tenant added later with a checkpoint skips what it confirmed. */
    ck_assert_int_eq(hr_stream_add_tenant(s, "c", 0x300), HR_OK);
    ck_assert_int_eq(send_begin(s, 0x200, 2), HR_OK);
    ck_assert_int_eq(send_insert(s, 5, "3", "c"), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x200, 0x210), HR_OK);
    ck_assert_uint_eq(r.n, 2);
    ck_assert_int_eq(send_begin(s, 0x300, 3), HR_OK);
    ck_assert_int_eq(send_insert(s, 5, "4", "c"), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x300, 0x310), HR_OK);
    ck_assert_uint_eq(r.n, 3);
    ck_assert_str_eq(r.d[2].tenant, "c");
    hr_stream_free(s);
}
END_TEST

START_TEST(confirms_heartbeats_and_the_slot_minimum)
{
    recorder r = {0};
    hr_stream *s = new_stream(env, &r, HR_STREAM_SHARED, NULL);
    ck_assert_int_eq(hr_stream_add_tenant(s, "a", 0x50), HR_OK);
    ck_assert_int_eq(hr_stream_add_tenant(s, "b", 0x60), HR_OK);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, NULL), 0x50);
    ck_assert_int_eq(hr_stream_confirm(s, NULL, 0x70), HR_EINVAL);
    ck_assert_int_eq(hr_stream_confirm(s, "zz", 0x70), HR_ENOTFOUND);

    ck_assert_int_eq(send_relation(s, 5, "orders", HR_OID_TEXT), HR_OK);
    ck_assert_int_eq(send_begin(s, 0x100, 1), HR_OK);
    ck_assert_int_eq(send_insert(s, 5, "1", "a"), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x100, 0x110), HR_OK);
    /* a has 0x110 pending; b had nothing in it: its confirm moves along */
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, "a"), 0x50);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, "b"), 0x110);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, NULL), 0x50);

    /* a heartbeat moves quiet tenants only */
    ck_assert_int_eq(send_message(s, 0x200, 0, HR__HEARTBEAT_PREFIX), HR_OK);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, "b"), 0x200);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, "a"), 0x50);
    ck_assert_int_eq(send_message(s, 0x210, 0, "other.prefix"), HR_OK);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, "b"), 0x200);

    ck_assert_int_eq(hr_stream_confirm(s, "a", 0x110), HR_OK);
    /* nothing pending for a now: it is quiet, at the position */
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, "a"), 0x200);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, NULL), 0x200);

    /* b gets a transaction: its confirm holds where it was, the slot too */
    ck_assert_int_eq(send_begin(s, 0x300, 2), HR_OK);
    ck_assert_int_eq(send_insert(s, 5, "2", "b"), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x300, 0x310), HR_OK);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, "b"), 0x200);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, "a"), 0x310);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, NULL), 0x200);
    ck_assert_int_eq(hr_stream_confirm(s, "b", 0x310), HR_OK);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, NULL), 0x310);
    /* the slot floor (the server's confirmed_flush_lsn) is a minimum */
    s->slot_floor = 0x400;
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, NULL), 0x400);
    s->slot_floor = 0;

    /* A keepalive behind the position changes nothing; one beyond it moves
     * the quiet tenants (here: all) and makes a status update due at once;
     * one asking for a reply makes it due anyway. */
    s->flush_sent = 0x310;
    ck_assert_int_eq(s->status_now, 0);
    ck_assert_int_eq(send_keepalive(s, 0x300, 0), HR_OK);
    ck_assert_int_eq(s->status_now, 0);
    ck_assert_int_eq(send_keepalive(s, 0x500, 0), HR_OK);
    ck_assert_int_eq(s->status_now, 1);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, NULL), 0x500);
    s->status_now = 0;
    s->flush_sent = 0x500;
    ck_assert_int_eq(send_keepalive(s, 0x500, 0), HR_OK);
    ck_assert_int_eq(s->status_now, 0);
    ck_assert_int_eq(send_keepalive(s, 0x500, 1), HR_OK);
    ck_assert_int_eq(s->status_now, 1);

    /* a tenant added without a checkpoint starts at the position */
    ck_assert_int_eq(hr_stream_add_tenant(s, "late", 0), HR_OK);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, "late"), 0x500);
    ck_assert_int_eq(send_begin(s, 0x250, 3), HR_OK); /* an old one again */
    ck_assert_int_eq(send_insert(s, 5, "3", "late"), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x250, 0x260), HR_OK);
    ck_assert_uint_eq(r.n, 2);
    hr_stream_free(s);
}
END_TEST

START_TEST(dedicated_confirm_from_callback)
{
    recorder r = {0};
    r.confirm = 1;
    hr_stream *s = new_stream(env, &r, HR_STREAM_DEDICATED, "solo");
    ck_assert_int_eq(send_relation(s, 9, "orders", HR_OID_TEXT), HR_OK);
    for (uint64_t k = 1; k <= 3; k++) {
        ck_assert_int_eq(send_begin(s, k * 0x100, (uint32_t)k), HR_OK);
        ck_assert_int_eq(send_insert(s, 9, "1", "solo"), HR_OK);
        ck_assert_int_eq(send_commit(s, k * 0x100, k * 0x100 + 8), HR_OK);
    }
    ck_assert_uint_eq(r.n, 3);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, NULL), 0x308);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, "solo"), 0x308);
    hr_stream_free(s);
}
END_TEST

START_TEST(bad_tenant_values)
{
    recorder r = {0};
    hr_stream *s = new_stream(env, &r, HR_STREAM_SHARED, NULL);
    ck_assert_int_eq(hr_stream_add_tenant(s, "a", 0), HR_OK);
    ck_assert_int_eq(hr_stream_add_tenant(s, "b", 0), HR_OK);
    ck_assert_int_eq(send_relation(s, 5, "orders", HR_OID_TEXT), HR_OK);

    ck_assert_int_eq(send_begin(s, 0x100, 1), HR_OK);
    ck_assert_int_eq(send_insert(s, 5, "1", NULL), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x100, 0x110), HR_EPROTO);
    ck_assert_ptr_nonnull(strstr(hr_stream_errmsg(s), "NULL"));
    hr_pgdecoder_reset(s->dec, 1);

    /* a move between tenants nobody registered is nobody's business */
    ck_assert_int_eq(send_begin(s, 0x300, 3), HR_OK);
    ck_assert_int_eq(send_update(s, 5, "1", "x", "y"), HR_OK);
    ck_assert_int_eq(send_update(s, 5, "2", "a", "a"), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x300, 0x310), HR_OK);
    ck_assert_uint_eq(r.n, 1);
    ck_assert_str_eq(r.d[0].tenant, "a");

    /* a relation without the tenant column */
    w_header(1);
    u8('R');
    be(6, 4);
    cstr("public");
    cstr("plain");
    u8('d');
    be(1, 2);
    u8(1), cstr("id"), be(HR_OID_INT8, 4), be(0xffffffffu, 4);
    ck_assert_int_eq(feed(s), HR_OK);
    ck_assert_int_eq(send_begin(s, 0x400, 4), HR_OK);
    w_header(2);
    u8('I');
    be(6, 4);
    u8('N');
    be(1, 2);
    u8('t'), be(1, 4), u8('1');
    ck_assert_int_eq(feed(s), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x400, 0x410), HR_EPROTO);
    ck_assert_ptr_nonnull(strstr(hr_stream_errmsg(s), "public.plain has no "
                                                      "tenant column"));
    hr_stream_free(s);
}
END_TEST

START_TEST(binary_and_padded_tenant_values)
{
    recorder r = {0};
    hr_stream *s = new_stream(env, &r, HR_STREAM_SHARED, NULL);
    ck_assert_int_eq(hr_stream_add_tenant(s, "-42", 0), HR_OK);
    ck_assert_int_eq(hr_stream_add_tenant(s, "pad", 0), HR_OK);
    ck_assert_int_eq(
        hr_stream_add_tenant(s, "00112233-4455-6677-8899-aabbccddeeff", 0),
        HR_OK);
    ck_assert_int_eq(send_relation(s, 7, "ints", HR_OID_INT4), HR_OK);
    ck_assert_int_eq(send_relation(s, 8, "chars", HR_OID_BPCHAR), HR_OK);
    ck_assert_int_eq(send_relation(s, 10, "uuids", HR_OID_UUID), HR_OK);
    ck_assert_int_eq(send_begin(s, 0x100, 1), HR_OK);
    w_header(2); /* int4 -42 in binary */
    u8('I'), be(7, 4), u8('N'), be(3, 2);
    u8('t'), be(1, 4), u8('1');
    u8('b'), be(4, 4), be((uint32_t)-42, 4);
    u8('n');
    ck_assert_int_eq(feed(s), HR_OK);
    ck_assert_int_eq(send_insert(s, 8, "2", "pad     "), HR_OK);
    w_header(2); /* uuid in binary */
    u8('I'), be(10, 4), u8('N'), be(3, 2);
    u8('t'), be(1, 4), u8('3');
    u8('b'), be(16, 4);
    for (int i = 0; i < 16; i++)
        u8((uint8_t)(i * 0x11));
    u8('n');
    ck_assert_int_eq(feed(s), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x100, 0x110), HR_OK);
    ck_assert_uint_eq(r.n, 3);
    ck_assert_str_eq(r.d[0].tenant, "-42");
    ck_assert_str_eq(r.d[1].tenant, "pad");
    ck_assert_str_eq(r.d[2].tenant, "00112233-4455-6677-8899-aabbccddeeff");
    hr_stream_free(s);
}
END_TEST

START_TEST(schema_changes_reach_the_host)
{
    recorder r = {0};
    hr_stream *s = new_stream(env, &r, HR_STREAM_DEDICATED, "solo");
    ck_assert_int_eq(send_relation(s, 9, "orders", HR_OID_TEXT), HR_OK);
    ck_assert_int_eq(r.schema_changes, 0);
    ck_assert_int_eq(send_relation(s, 9, "orders", HR_OID_TEXT), HR_OK);
    ck_assert_int_eq(r.schema_changes, 0); /* same definition */
    ck_assert_int_eq(send_relation(s, 9, "orders", HR_OID_VARCHAR), HR_OK);
    ck_assert_int_eq(r.schema_changes, 1);
    /* the cached tenant column follows the new definition */
    ck_assert_int_eq(send_begin(s, 0x100, 1), HR_OK);
    ck_assert_int_eq(send_insert(s, 9, "1", "solo"), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x100, 0x110), HR_OK);
    ck_assert_uint_eq(r.n, 1);
    hr_stream_free(s);
}
END_TEST

static int reentry_rc[4];

static int reentering_txn(void *ctx, const char *tenant_id, const hr_pgtxn *txn,
                          const hr_stream_change *changes, size_t n)
{
    hr_stream *s = ((recorder *)ctx)->stream;
    (void)changes, (void)n;
    reentry_rc[0] = hr_stream_add_tenant(s, "new", 0);
    reentry_rc[1] = hr_stream_step(s, 1);
    reentry_rc[2] = hr_stream_remove_tenant(s, tenant_id);
    reentry_rc[3] = hr_stream_confirm(s, tenant_id, hr_pgtxn_end_lsn(txn));
    return HR_OK;
}

START_TEST(callbacks_may_only_confirm)
{
    recorder r = {0};
    hr_stream *s = new_stream(env, &r, HR_STREAM_SHARED, NULL);
    s->cb.on_txn = reentering_txn;
    ck_assert_int_eq(hr_stream_add_tenant(s, "a", 0), HR_OK);
    ck_assert_int_eq(send_relation(s, 5, "orders", HR_OID_TEXT), HR_OK);
    ck_assert_int_eq(send_begin(s, 0x100, 1), HR_OK);
    ck_assert_int_eq(send_insert(s, 5, "1", "a"), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x100, 0x110), HR_OK);
    ck_assert_int_eq(reentry_rc[0], HR_ESTATE);
    ck_assert_int_eq(reentry_rc[1], HR_ESTATE);
    ck_assert_int_eq(reentry_rc[2], HR_ESTATE);
    ck_assert_int_eq(reentry_rc[3], HR_OK);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, "a"), 0x110);
    ck_assert_int_eq(hr_stream_add_tenant(s, "new", 0), HR_OK); /* outside */
    hr_stream_free(s);
}
END_TEST

static void expect_row(const delivery *d, size_t k, int64_t op, const char *id,
                       const char *tenant, const char *note)
{
    ck_assert_msg(k < d->nrows, "%s: row %zu of %zu", d->tenant, k, d->nrows);
    const batch_row *r = &d->rows[k];
    ck_assert_msg(r->op == op && !strcmp(r->id, id) &&
                      !strcmp(r->tenant, tenant) && !strcmp(r->note, note),
                  "%s row %zu: got %lld %s %s %s, want %lld %s %s %s",
                  d->tenant, k, (long long)r->op, r->id, r->tenant, r->note,
                  (long long)op, id, tenant, note);
}

START_TEST(rows_moving_between_tenants)
{
    recorder r = {0};
    ck_assert_int_eq(hr_batch_new(env, &r.convert), HR_OK);
    hr_stream *s = new_stream(env, &r, HR_STREAM_SHARED, NULL);
    ck_assert_int_eq(hr_stream_add_tenant(s, "a", 0), HR_OK);
    ck_assert_int_eq(hr_stream_add_tenant(s, "b", 0), HR_OK);
    ck_assert_int_eq(hr_stream_add_tenant(s, "c", 0), HR_OK);
    ck_assert_int_eq(send_relation(s, 5, "orders", HR_OID_TEXT), HR_OK);
    ck_assert_int_eq(send_begin(s, 0x100, 1), HR_OK);
    ck_assert_int_eq(send_insert(s, 5, "1", "a"), HR_OK);       /* 0 */
    ck_assert_int_eq(send_update(s, 5, "1", "a", "b"), HR_OK);  /* 1 */
    ck_assert_int_eq(send_update(s, 5, "2", "x", "c"), HR_OK);  /* 2 */
    ck_assert_int_eq(send_update(s, 5, "3", "b", "y"), HR_OK);  /* 3 */
    ck_assert_int_eq(send_update(s, 5, "4", "a", "a"), HR_OK);  /* 4 */
    ck_assert_int_eq(send_update(s, 5, "5", NULL, "c"), HR_OK); /* 5 */
    ck_assert_int_eq(send_update(s, 5, "6", "x", "y"), HR_OK);  /* 6 */
    ck_assert_int_eq(send_commit(s, 0x100, 0x110), HR_OK);
    ck_assert_uint_eq(r.n, 3);

    /* a: its insert, the move out of it (a delete of the old key), an
     * update that kept the tenant although the key tuple came along */
    const delivery *d = &r.d[0];
    ck_assert_str_eq(d->tenant, "a");
    ck_assert_uint_eq(d->n, 3);
    ck_assert_uint_eq(d->changes[0], 0);
    ck_assert_int_eq(d->roles[0], HR_STREAM_ROLE_AS_IS);
    ck_assert_uint_eq(d->changes[1], 1);
    ck_assert_int_eq(d->roles[1], HR_STREAM_ROLE_DELETE);
    ck_assert_uint_eq(d->changes[2], 4);
    ck_assert_int_eq(d->roles[2], HR_STREAM_ROLE_AS_IS);
    ck_assert_int_eq(d->batches, 1); /* one relation: one run */
    ck_assert_uint_eq(d->nrows, 4);
    expect_row(d, 0, 1, "1", "a", "x");
    expect_row(d, 1, 3, "1", "a", "<null>");
    expect_row(d, 2, 4, "4", "a", "<null>");
    expect_row(d, 3, 2, "4", "a", "y");

    /* b: the row moving in (an insert of the new row), one moving out to a
     * tenant nobody registered */
    d = &r.d[1];
    ck_assert_str_eq(d->tenant, "b");
    ck_assert_uint_eq(d->n, 2);
    ck_assert_uint_eq(d->changes[0], 1);
    ck_assert_int_eq(d->roles[0], HR_STREAM_ROLE_INSERT);
    ck_assert_uint_eq(d->changes[1], 3);
    ck_assert_int_eq(d->roles[1], HR_STREAM_ROLE_DELETE);
    ck_assert_uint_eq(d->nrows, 2);
    expect_row(d, 0, 1, "1", "b", "y");
    expect_row(d, 1, 3, "3", "b", "<null>");

    /* c: a row from a tenant nobody registered; an update without an old
     * tuple kept its key - and so its tenant */
    d = &r.d[2];
    ck_assert_str_eq(d->tenant, "c");
    ck_assert_uint_eq(d->n, 2);
    ck_assert_int_eq(d->roles[0], HR_STREAM_ROLE_INSERT);
    ck_assert_int_eq(d->roles[1], HR_STREAM_ROLE_AS_IS);
    ck_assert_uint_eq(d->nrows, 2);
    expect_row(d, 0, 1, "2", "c", "y");
    expect_row(d, 1, 2, "5", "c", "y");

    /* Unchanged TOAST in a row moving in: filled from the old row when it
     * is whole (REPLICA IDENTITY FULL), the marker otherwise. */
    r.n = 0;
    ck_assert_int_eq(send_begin(s, 0x200, 2), HR_OK);
    ck_assert_int_eq(send_update_ex(s, 5, "7", 'O', "a", "big old", "b", NULL),
                     HR_OK);
    ck_assert_int_eq(send_update_ex(s, 5, "8", 'K', "a", NULL, "b", NULL),
                     HR_OK);
    ck_assert_int_eq(send_update_ex(s, 5, "9", 'O', "b", "kept", "b", NULL),
                     HR_OK);
    ck_assert_int_eq(send_commit(s, 0x200, 0x210), HR_OK);
    ck_assert_uint_eq(r.n, 2);
    d = &r.d[0];
    ck_assert_str_eq(d->tenant, "a");
    ck_assert_uint_eq(d->nrows, 2);
    expect_row(d, 0, 3, "7", "a", "big old");
    expect_row(d, 1, 3, "8", "a", "<null>");
    d = &r.d[1];
    ck_assert_str_eq(d->tenant, "b");
    ck_assert_uint_eq(d->nrows, 4);
    expect_row(d, 0, 1, "7", "b", "big old");
    expect_row(d, 1, 1, "8", "b", "<toast>");
    expect_row(d, 2, 4, "9", "b", "kept"); /* as is: like hr_pgtxn_to_batch */
    expect_row(d, 3, 2, "9", "b", "<toast>");
    hr_stream_free(s);
    hr_batch_free(r.convert);
}
END_TEST

static int probe_rc[10];
static size_t probe_next[10];
static char probe_msg[10][256];
static int probe_equal;

static void probe(int k, const hr_pgtxn *txn, const hr_stream_change *l,
                  size_t n, size_t first, hr_batch *b)
{
    probe_next[k] = 777;
    probe_rc[k] = hr_stream_to_batch(txn, l, n, first, b, &probe_next[k]);
    snprintf(probe_msg[k], sizeof probe_msg[k], "%s", hr_batch_errmsg(b));
}

/* change 0 insert, 1 update moving a -> b (old key), 2 update without an
 * old tuple, 3 truncate */
static int probing_txn(void *ctx, const char *tenant_id, const hr_pgtxn *txn,
                       const hr_stream_change *changes, size_t n)
{
    recorder *r = ctx;
    hr_batch *b = r->convert;
    (void)tenant_id, (void)changes, (void)n;
    hr_stream_change l[3];
    l[0] = (hr_stream_change){2, HR_STREAM_ROLE_DELETE};
    probe(0, txn, l, 1, 0, b);
    l[0] = (hr_stream_change){0, HR_STREAM_ROLE_INSERT};
    probe(1, txn, l, 1, 0, b);
    l[0] = (hr_stream_change){1, 7};
    probe(2, txn, l, 1, 0, b);
    l[0] = (hr_stream_change){3, HR_STREAM_ROLE_AS_IS};
    probe(3, txn, l, 1, 0, b);
    l[0] = (hr_stream_change){99, HR_STREAM_ROLE_AS_IS};
    probe(4, txn, l, 1, 0, b);
    probe(5, txn, l, 1, 1, b);
    probe(6, txn, NULL, 1, 0, b);
    /* a list may skip changes; the run ends where the relation's row
     * changes do (a truncate) */
    l[0] = (hr_stream_change){0, HR_STREAM_ROLE_AS_IS};
    l[1] = (hr_stream_change){2, HR_STREAM_ROLE_AS_IS};
    l[2] = (hr_stream_change){3, HR_STREAM_ROLE_AS_IS};
    probe(7, txn, l, 3, 0, b);
    probe_rc[8] = (int)hr_batch_rows(b);
    /* every change as it is: exactly hr_pgtxn_to_batch */
    hr_stream_change all[3] = {{0, HR_STREAM_ROLE_AS_IS},
                               {1, HR_STREAM_ROLE_AS_IS},
                               {2, HR_STREAM_ROLE_AS_IS}};
    hr_batch *b2 = NULL;
    ck_assert_int_eq(hr_batch_new(env, &b2), HR_OK);
    size_t next = 0, next2 = 0;
    ck_assert_int_eq(hr_stream_to_batch(txn, all, 3, 0, b, &next), HR_OK);
    ck_assert_int_eq(hr_pgtxn_to_batch(txn, 0, b2, &next2), HR_OK);
    probe_equal = hr_batch_equal(b, b2) && next == 3 && next2 == 3 &&
                  hr_batch_rows(b) == 4;
    hr_batch_free(b2);
    return HR_OK;
}

START_TEST(to_batch_checks_its_list)
{
    recorder r = {0};
    ck_assert_int_eq(hr_batch_new(env, &r.convert), HR_OK);
    hr_stream *s = new_stream(env, &r, HR_STREAM_DEDICATED, "a");
    s->cb.on_txn = probing_txn;
    ck_assert_int_eq(send_relation(s, 5, "orders", HR_OID_TEXT), HR_OK);
    ck_assert_int_eq(send_begin(s, 0x100, 1), HR_OK);
    ck_assert_int_eq(send_insert(s, 5, "1", "a"), HR_OK);
    ck_assert_int_eq(send_update(s, 5, "1", "b", "a"), HR_OK);
    ck_assert_int_eq(send_update(s, 5, "2", NULL, "a"), HR_OK);
    ck_assert_int_eq(send_truncate(s, 5), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x100, 0x110), HR_OK);

    ck_assert_int_eq(probe_rc[0], HR_EPROTO); /* a move needs the old key */
    ck_assert_ptr_nonnull(strstr(probe_msg[0], "change 2"));
    ck_assert_ptr_nonnull(strstr(probe_msg[0], "no old tuple"));
    ck_assert_int_eq(probe_rc[1], HR_EINVAL); /* roles are for updates */
    ck_assert_ptr_nonnull(strstr(probe_msg[1], "not an update"));
    ck_assert_int_eq(probe_rc[2], HR_EINVAL); /* no such role */
    ck_assert_ptr_nonnull(strstr(probe_msg[2], "role 7"));
    ck_assert_int_eq(probe_rc[3], HR_EINVAL); /* a truncate */
    ck_assert_ptr_nonnull(strstr(probe_msg[3], "not an insert"));
    ck_assert_int_eq(probe_rc[4], HR_EINVAL); /* outside the transaction */
    ck_assert_ptr_nonnull(strstr(probe_msg[4], "change 99 out of range"));
    ck_assert_int_eq(probe_rc[5], HR_EINVAL); /* first past the list */
    ck_assert_ptr_nonnull(strstr(probe_msg[5], "entry 1 out of range"));
    ck_assert_uint_eq(probe_next[5], 1);
    ck_assert_int_eq(probe_rc[6], HR_EINVAL); /* NULL list */
    ck_assert_int_eq(probe_rc[7], HR_OK);
    ck_assert_uint_eq(probe_next[7], 2);
    ck_assert_int_eq(probe_rc[8], 2); /* the insert; the update's new row */
    ck_assert(probe_equal);
    size_t next;
    ck_assert_int_eq(hr_stream_to_batch(NULL, NULL, 0, 0, r.convert, &next),
                     HR_EINVAL);
    ck_assert_int_eq(hr_stream_to_batch(NULL, NULL, 0, 0, NULL, &next),
                     HR_EINVAL);
    hr_stream_free(s);
    hr_batch_free(r.convert);
}
END_TEST

START_TEST(keepalives_move_quiet_tenants)
{
    recorder r = {0};
    hr_stream *s = new_stream(env, &r, HR_STREAM_SHARED, NULL);
    ck_assert_int_eq(hr_stream_add_tenant(s, "a", 0x50), HR_OK);
    ck_assert_int_eq(hr_stream_add_tenant(s, "b", 0x50), HR_OK);
    ck_assert_int_eq(send_relation(s, 5, "orders", HR_OID_TEXT), HR_OK);
    ck_assert_int_eq(send_begin(s, 0x100, 1), HR_OK);
    ck_assert_int_eq(send_insert(s, 5, "1", "a"), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x100, 0x110), HR_OK);

    /* a has a transaction pending: a keepalive moves b only */
    ck_assert_int_eq(send_keepalive(s, 0x200, 0), HR_OK);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, "b"), 0x200);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, "a"), 0x50);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, NULL), 0x50);
    /* once a confirmed what it got, it is quiet: at the keepalive's point */
    ck_assert_int_eq(hr_stream_confirm(s, "a", 0x110), HR_OK);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, "a"), 0x200);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, NULL), 0x200);

    /* A keepalive in the middle of a transaction reports a point before
     * its commit: the tenant that gets the transaction stops there until
     * it confirms. */
    ck_assert_int_eq(send_begin(s, 0x300, 2), HR_OK);
    ck_assert_int_eq(send_insert(s, 5, "2", "b"), HR_OK);
    ck_assert_int_eq(send_keepalive(s, 0x2f0, 0), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x300, 0x310), HR_OK);
    ck_assert_uint_eq(r.n, 2);
    ck_assert_str_eq(r.d[1].tenant, "b");
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, "b"), 0x2f0);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, "a"), 0x310);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, NULL), 0x2f0);
    ck_assert_int_eq(hr_stream_confirm(s, "b", 0x310), HR_OK);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, NULL), 0x310);
    hr_stream_free(s);

    /* dedicated: the same for its one tenant */
    memset(&r, 0, sizeof r);
    s = new_stream(env, &r, HR_STREAM_DEDICATED, "solo");
    ck_assert_int_eq(send_keepalive(s, 0x400, 0), HR_OK);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, NULL), 0x400);
    ck_assert_int_eq(send_relation(s, 9, "orders", HR_OID_TEXT), HR_OK);
    ck_assert_int_eq(send_begin(s, 0x500, 1), HR_OK);
    ck_assert_int_eq(send_insert(s, 9, "1", "solo"), HR_OK);
    ck_assert_int_eq(send_commit(s, 0x500, 0x510), HR_OK);
    ck_assert_int_eq(send_keepalive(s, 0x600, 0), HR_OK);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, NULL), 0x400); /* pending */
    ck_assert_int_eq(hr_stream_confirm(s, NULL, 0x510), HR_OK);
    ck_assert_uint_eq(hr_stream_confirmed_lsn(s, NULL), 0x600);
    hr_stream_free(s);
}
END_TEST

START_TEST(heartbeats_only_when_nothing_moves)
{
    char sql[HR__HEARTBEAT_SQL_MAX];
    hr__heartbeat_sql(0x16B374D848ull, sql);
    ck_assert_str_eq(sql, "SELECT pg_catalog.pg_logical_emit_message(false, "
                          "'heliosrepl.heartbeat', '') WHERE "
                          "pg_catalog.pg_current_wal_insert_lsn() > "
                          "'16/B374D848'::pg_catalog.pg_lsn");

    recorder r = {0};
    hr_stream *s = new_stream(env, &r, HR_STREAM_DEDICATED, "acme");
    uint64_t now = 100 * SEC;
    s->state = HR__ST_STREAMING; /* pretend */
    s->now = now;
    hr__heartbeat_step(s);
    ck_assert_uint_eq(s->next_hb_at, now + 30 * SEC);
    /* due, but a keepalive moved the position meanwhile: not needed */
    s->now = now + 30 * SEC;
    s->position = 0x500;
    hr__heartbeat_step(s);
    ck_assert_int_eq(s->hb.state, HR__PGC_NONE);
    ck_assert_uint_eq(s->next_hb_at, now + 60 * SEC);
    /* due, nothing moved: the heartbeat connection is started (here it
     * cannot connect: retried at the next interval) */
    s->now = now + 60 * SEC;
    hr__heartbeat_step(s);
    ck_assert(s->hb.state != HR__PGC_NONE || s->hb_retry_at > s->now);
    /* its arrival moves the position, and is no reason to skip the next */
    hr__heartbeat_arrived(s, 0x600);
    ck_assert_uint_eq(s->position, 0x600);
    ck_assert_uint_eq(s->hb_position, 0x600);
    hr__pgc_close(&s->hb);
    s->state = HR__ST_IDLE;
    hr_stream_free(s);
}
END_TEST

START_TEST(server_errors_are_classified)
{
    static const struct {
        const char *sqlstate;
        int code;
    } cases[] = {
        {"", HR_EAGAIN},       {"08006", HR_EAGAIN}, {"57P01", HR_EAGAIN},
        {"55006", HR_EAGAIN},  {"55P03", HR_EAGAIN}, {"53300", HR_EAGAIN},
        {"53100", HR_EAGAIN},  {"40001", HR_EAGAIN}, {"53400", HR_ELIMIT},
        {"28P01", HR_EAUTH},   {"42501", HR_EAUTH},  {"42704", HR_ESCHEMA},
        {"42P01", HR_ESCHEMA}, {"55000", HR_ESTATE}, {"0A000", HR_EUNSUPPORTED},
        {"XX000", HR_EIO},     {"22023", HR_EIO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(hr__classify_sqlstate(cases[i].sqlstate) == cases[i].code,
                      "%s: %s", cases[i].sqlstate,
                      hr_status_name(hr__classify_sqlstate(cases[i].sqlstate)));
    ck_assert_int_eq(hr__classify_sqlstate(NULL), HR_EAGAIN);
}
END_TEST

START_TEST(a_vanished_slot_closes_for_good)
{
    recorder r = {0};
    hr_stream *s = new_stream(env, &r, HR_STREAM_DEDICATED, "acme");
    ck_assert_int_eq(
        hr__stream_shut(s, HR_ENOTFOUND, "slot %s vanished", "hr_acme"),
        HR_ENOTFOUND);
    ck_assert_int_eq(hr_stream_phase(s), HR_STREAM_PHASE_CLOSED);
    ck_assert(hr_is_fatal(HR_ENOTFOUND));
    for (int i = 1; i <= 3; i++) {
        ck_assert_int_eq(hr_stream_step(s, (uint64_t)i * SEC), HR_ENOTFOUND);
        ck_assert_str_eq(hr_stream_errmsg(s), "slot hr_acme vanished");
        ck_assert_int_eq(hr_stream_timeout_ms(s, (uint64_t)i * SEC), -1);
        ck_assert_int_eq(hr_stream_fd(s), -1);
    }
    ck_assert_uint_eq(s->reconnects, 0); /* never tried again */
    ck_assert_int_eq(hr_stream_confirm(s, "zz", 1), HR_ENOTFOUND);
    ck_assert_int_eq(hr_stream_step(s, 5 * SEC), HR_ENOTFOUND);
    ck_assert_str_eq(hr_stream_errmsg(s), "slot hr_acme vanished");
    hr_stream_free(s);
}
END_TEST

/* ---- allocation failures ---- */

typedef struct sweep_state {
    hr_stream *s;
    hr_stream_opts *o;
    recorder r;
} sweep_state;

static int sweep_op(hr_env *e, void *p)
{
    sweep_state *st = p;
    memset(&st->r, 0, sizeof st->r);
    int rc = hr_stream_opts_new(e, &st->o);
    if (rc == HR_OK)
        rc = hr_stream_opts_set_conninfo(st->o, NOWHERE);
    if (rc == HR_OK)
        rc = hr_stream_opts_set_mode(st->o, HR_STREAM_SHARED);
    if (rc == HR_OK)
        rc = hr_stream_opts_add_table(st->o, "public.orders");
    if (rc == HR_OK)
        rc = hr_stream_opts_add_schema(st->o, "app");
    if (rc == HR_OK)
        rc = hr_stream_opts_set_slot(st->o, "hr_sweep");
    if (rc != HR_OK)
        return rc;
    hr_stream_callbacks cb = {HR_STREAM_CALLBACKS_VERSION, &st->r, rec_txn,
                              NULL};
    rc = hr_stream_new(e, st->o, &cb, &st->s);
    if (rc != HR_OK)
        return rc;
    for (int i = 0; i < 20 && rc == HR_OK; i++) {
        char id[8];
        snprintf(id, sizeof id, "t%d", i);
        rc = hr_stream_add_tenant(st->s, id, 0);
    }
    if (rc == HR_OK)
        rc = send_relation(st->s, 5, "orders", HR_OID_TEXT);
    if (rc == HR_OK)
        rc = send_begin(st->s, 0x100, 1);
    for (int i = 0; i < 20 && rc == HR_OK; i++) {
        char id[8];
        snprintf(id, sizeof id, "t%d", i);
        rc = send_insert(st->s, 5, "1", id);
    }
    if (rc == HR_OK)
        rc = send_commit(st->s, 0x100, 0x110);
    if (rc == HR_OK && st->r.n != 20)
        rc = HR_EINTERNAL;
    return rc;
}

static void sweep_cleanup(void *p)
{
    sweep_state *st = p;
    hr_stream_free(st->s);
    hr_stream_opts_free(st->o);
    st->s = NULL;
    st->o = NULL;
}

START_TEST(every_allocation_failure_is_clean)
{
    sweep_state st = {0};
    char why[256];
    long points =
        failing_allocator_sweep(sweep_op, sweep_cleanup, &st, why, sizeof why);
    ck_assert_msg(points > 0, "%s", why);
}
END_TEST

static Suite *stream_suite(void)
{
    Suite *s = suite_create("stream");
    TCase *tc = tcase_create("pure");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, options_are_validated);
    tcase_add_test(tc, new_checks_the_whole);
    tcase_add_test(tc, tenant_ids_and_default_names);
    tcase_add_test(tc, sql_quotes_every_name);
    tcase_add_test(tc, lsn_text);
    tcase_add_test(tc, status_update_encoding);
    tcase_add_test(tc, timeout_arithmetic);
    tcase_add_test(tc, reconnect_backs_off);
    tcase_add_test(tc, streaming_deadlines);
    suite_add_tcase(s, tc);

    TCase *dm = tcase_create("demux");
    tcase_add_checked_fixture(dm, setup, teardown);
    tcase_add_test(dm, shared_splits_by_tenant_in_order);
    tcase_add_test(dm, many_tenants_find_their_rows);
    tcase_add_test(dm, dedicated_rejects_foreign_rows);
    tcase_add_test(dm, reconnect_repeats_nothing);
    tcase_add_test(dm, confirms_heartbeats_and_the_slot_minimum);
    tcase_add_test(dm, dedicated_confirm_from_callback);
    tcase_add_test(dm, bad_tenant_values);
    tcase_add_test(dm, binary_and_padded_tenant_values);
    tcase_add_test(dm, schema_changes_reach_the_host);
    tcase_add_test(dm, callbacks_may_only_confirm);
    tcase_add_test(dm, rows_moving_between_tenants);
    tcase_add_test(dm, to_batch_checks_its_list);
    tcase_add_test(dm, keepalives_move_quiet_tenants);
    tcase_add_test(dm, heartbeats_only_when_nothing_moves);
    tcase_add_test(dm, server_errors_are_classified);
    tcase_add_test(dm, a_vanished_slot_closes_for_good);
    tcase_add_test(dm, every_allocation_failure_is_clean);
    suite_add_tcase(s, dm);
    return s;
}

int main(void)
{
    return run_suite(stream_suite());
}
