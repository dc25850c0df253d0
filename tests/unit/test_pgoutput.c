/*
 * test_pgoutput.c - hr_pgdecoder: every pgoutput message type, values of every
 * form, schema changes, origins, truncates, messages, keepalives, streamed
 * transactions with interleaved segments and aborts, every truncation of
 * every message, out-of-sequence messages, error state and reset, callback
 * statuses, the buffer limit and allocation failures.
 *
 * Messages are built with a small big-endian builder into "scripts": records
 * of a 2-byte big-endian length and one CopyData payload (or, with the length's
 * top bit set, one bare pgoutput message for hr_pgdecoder_feed_message at
 * LSN 0). That is also fuzz_pgoutput's input format, and
 * `test_pgoutput --write-corpus DIR` writes its seed corpus from the same
 * scenarios.
 */
#include <check.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <heliosrepl/heliosrepl.h>
#include <heliosrepl/pgoutput.h>

#include "check_main.h"
#include "failing_allocator.h"

/* ------------------------------------------------------------------------ */
/* Big-endian message builder                                                */
/* ------------------------------------------------------------------------ */

typedef struct mb {
    uint8_t *p;
    size_t len, cap;
} mb;

static void mb_reserve(mb *b, size_t n)
{
    if (b->len + n <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        abort();
    b->p = p;
    b->cap = cap;
}

static void mb_free(mb *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static void mb_raw(mb *b, const void *p, size_t n)
{
    mb_reserve(b, n);
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void mb_u8(mb *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    mb_raw(b, &x, 1);
}

static void mb_u16(mb *b, unsigned v)
{
    mb_u8(b, v >> 8);
    mb_u8(b, v);
}

static void mb_u32(mb *b, uint32_t v)
{
    mb_u16(b, v >> 16);
    mb_u16(b, v & 0xffff);
}

static void mb_u64(mb *b, uint64_t v)
{
    mb_u32(b, (uint32_t)(v >> 32));
    mb_u32(b, (uint32_t)v);
}

static void mb_str(mb *b, const char *s)
{
    mb_raw(b, s, strlen(s) + 1);
}

/* One value of a tuple: 't' text, 'b' binary, 'n' NULL, 'u' unchanged. */
typedef struct pv {
    char kind;
    const char *s;
    size_t n;
} pv;
#define PV_T(lit)                                                              \
    {                                                                          \
        't', lit, sizeof(lit) - 1                                              \
    }
#define PV_B(lit)                                                              \
    {                                                                          \
        'b', lit, sizeof(lit) - 1                                              \
    }
#define PV_NULL                                                                \
    {                                                                          \
        'n', NULL, 0                                                           \
    }
#define PV_TOAST                                                               \
    {                                                                          \
        'u', NULL, 0                                                           \
    }

static void mb_tuple(mb *b, int n, const pv *v)
{
    mb_u16(b, (unsigned)n);
    for (int i = 0; i < n; i++) {
        mb_u8(b, (unsigned char)v[i].kind);
        if (v[i].kind == 't' || v[i].kind == 'b') {
            mb_u32(b, (uint32_t)v[i].n);
            mb_raw(b, v[i].s, v[i].n);
        }
    }
}

typedef struct pcol {
    int key;
    const char *name;
    uint32_t type;
    int32_t typmod;
} pcol;

/* A script: records of [u16 length][payload]; see the file comment. */
typedef struct script {
    mb b;
    uint64_t lsn; /* WAL start of the next XLogData frame */
    int bare;     /* records are bare messages for feed_message */
} script;

static void script_free(script *s)
{
    mb_free(&s->b);
}

static void script_record(script *s, const uint8_t *p, size_t n, int bare)
{
    if (n >= 0x8000) /* not ck_assert: the corpus writer runs outside Check */
        abort();
    mb_u16(&s->b, (unsigned)n | (bare ? 0x8000u : 0));
    mb_raw(&s->b, p, n);
}

/* Append message `m` in an XLogData frame (or bare). */
static void script_msg(script *s, const mb *m)
{
    if (!s->lsn)
        s->lsn = 0x1000;
    if (s->bare) {
        script_record(s, m->p, m->len, 1);
        return;
    }
    mb f = {0};
    mb_u8(&f, 'w');
    mb_u64(&f, s->lsn);
    mb_u64(&f, s->lsn + 0x80);
    mb_u64(&f, 0x2000000 + s->lsn);
    mb_raw(&f, m->p, m->len);
    script_record(s, f.p, f.len, 0);
    mb_free(&f);
    s->lsn += 0x100;
}

static int script_next(const script *s, size_t *pos, const uint8_t **p,
                       size_t *n, int *bare)
{
    if (*pos + 2 > s->b.len)
        return 0;
    unsigned len = (unsigned)s->b.p[*pos] << 8 | s->b.p[*pos + 1];
    *bare = (len & 0x8000) != 0;
    *n = len & 0x7fff;
    *p = s->b.p + *pos + 2;
    *pos += 2 + *n;
    return 1;
}

static int feed_record(hr_pgdecoder *d, const uint8_t *p, size_t n, int bare)
{
    return bare ? hr_pgdecoder_feed_message(d, 0, p, n)
                : hr_pgdecoder_feed(d, p, n);
}

static int script_run(hr_pgdecoder *d, const script *s)
{
    size_t pos = 0, n;
    const uint8_t *p;
    int bare;
    while (script_next(s, &pos, &p, &n, &bare)) {
        int rc = feed_record(d, p, n, bare);
        if (rc != HR_OK)
            return rc;
    }
    return HR_OK;
}

/* The single record of a one-message script. */
static void script_only(const script *s, const uint8_t **p, size_t *n)
{
    size_t pos = 0;
    int bare;
    ck_assert(script_next(s, &pos, p, n, &bare));
    ck_assert_uint_eq(pos, s->b.len);
}

/* ---- messages (sxid: the xid inside a stream block, 0 outside) ---- */

static void put_sxid(mb *m, uint32_t sxid)
{
    if (sxid)
        mb_u32(m, sxid);
}

static void pg_begin(script *s, uint64_t final_lsn, int64_t time, uint32_t xid)
{
    mb m = {0};
    mb_u8(&m, 'B');
    mb_u64(&m, final_lsn);
    mb_u64(&m, (uint64_t)time);
    mb_u32(&m, xid);
    script_msg(s, &m);
    mb_free(&m);
}

static void pg_commit(script *s, uint64_t lsn, uint64_t end, int64_t time)
{
    mb m = {0};
    mb_u8(&m, 'C');
    mb_u8(&m, 0);
    mb_u64(&m, lsn);
    mb_u64(&m, end);
    mb_u64(&m, (uint64_t)time);
    script_msg(s, &m);
    mb_free(&m);
}

static void pg_origin(script *s, uint64_t lsn, const char *name)
{
    mb m = {0};
    mb_u8(&m, 'O');
    mb_u64(&m, lsn);
    mb_str(&m, name);
    script_msg(s, &m);
    mb_free(&m);
}

static void pg_relation(script *s, uint32_t sxid, uint32_t oid, const char *ns,
                        const char *name, char replident, int ncols,
                        const pcol *cols)
{
    mb m = {0};
    mb_u8(&m, 'R');
    put_sxid(&m, sxid);
    mb_u32(&m, oid);
    mb_str(&m, ns);
    mb_str(&m, name);
    mb_u8(&m, (unsigned char)replident);
    mb_u16(&m, (unsigned)ncols);
    for (int i = 0; i < ncols; i++) {
        mb_u8(&m, (unsigned)cols[i].key);
        mb_str(&m, cols[i].name);
        mb_u32(&m, cols[i].type);
        mb_u32(&m, (uint32_t)cols[i].typmod);
    }
    script_msg(s, &m);
    mb_free(&m);
}

static void pg_type(script *s, uint32_t sxid, uint32_t oid, const char *ns,
                    const char *name)
{
    mb m = {0};
    mb_u8(&m, 'Y');
    put_sxid(&m, sxid);
    mb_u32(&m, oid);
    mb_str(&m, ns);
    mb_str(&m, name);
    script_msg(s, &m);
    mb_free(&m);
}

static void pg_insert(script *s, uint32_t sxid, uint32_t oid, int n,
                      const pv *v)
{
    mb m = {0};
    mb_u8(&m, 'I');
    put_sxid(&m, sxid);
    mb_u32(&m, oid);
    mb_u8(&m, 'N');
    mb_tuple(&m, n, v);
    script_msg(s, &m);
    mb_free(&m);
}

static void pg_update(script *s, uint32_t sxid, uint32_t oid, char old_tag,
                      int on, const pv *ov, int n, const pv *v)
{
    mb m = {0};
    mb_u8(&m, 'U');
    put_sxid(&m, sxid);
    mb_u32(&m, oid);
    if (old_tag) {
        mb_u8(&m, (unsigned char)old_tag);
        mb_tuple(&m, on, ov);
    }
    mb_u8(&m, 'N');
    mb_tuple(&m, n, v);
    script_msg(s, &m);
    mb_free(&m);
}

static void pg_delete(script *s, uint32_t sxid, uint32_t oid, char tag, int n,
                      const pv *v)
{
    mb m = {0};
    mb_u8(&m, 'D');
    put_sxid(&m, sxid);
    mb_u32(&m, oid);
    mb_u8(&m, (unsigned char)tag);
    mb_tuple(&m, n, v);
    script_msg(s, &m);
    mb_free(&m);
}

static void pg_truncate(script *s, uint32_t sxid, int n, int options,
                        const uint32_t *oids)
{
    mb m = {0};
    mb_u8(&m, 'T');
    put_sxid(&m, sxid);
    mb_u32(&m, (uint32_t)n);
    mb_u8(&m, (unsigned)options);
    for (int i = 0; i < n; i++)
        mb_u32(&m, oids[i]);
    script_msg(s, &m);
    mb_free(&m);
}

static void pg_message(script *s, uint32_t sxid, int transactional,
                       uint64_t lsn, const char *prefix, const void *content,
                       size_t n)
{
    mb m = {0};
    mb_u8(&m, 'M');
    put_sxid(&m, sxid);
    mb_u8(&m, transactional ? 1 : 0);
    mb_u64(&m, lsn);
    mb_str(&m, prefix);
    mb_u32(&m, (uint32_t)n);
    mb_raw(&m, content, n);
    script_msg(s, &m);
    mb_free(&m);
}

static void pg_stream_start(script *s, uint32_t xid, int first)
{
    mb m = {0};
    mb_u8(&m, 'S');
    mb_u32(&m, xid);
    mb_u8(&m, first ? 1 : 0);
    script_msg(s, &m);
    mb_free(&m);
}

static void pg_stream_stop(script *s)
{
    mb m = {0};
    mb_u8(&m, 'E');
    script_msg(s, &m);
    mb_free(&m);
}

static void pg_stream_commit(script *s, uint32_t xid, uint64_t lsn,
                             uint64_t end, int64_t time)
{
    mb m = {0};
    mb_u8(&m, 'c');
    mb_u32(&m, xid);
    mb_u8(&m, 0);
    mb_u64(&m, lsn);
    mb_u64(&m, end);
    mb_u64(&m, (uint64_t)time);
    script_msg(s, &m);
    mb_free(&m);
}

static void pg_stream_abort(script *s, uint32_t xid, uint32_t subxid)
{
    mb m = {0};
    mb_u8(&m, 'A');
    mb_u32(&m, xid);
    mb_u32(&m, subxid);
    script_msg(s, &m);
    mb_free(&m);
}

static void pg_keepalive(script *s, uint64_t wal_end, int64_t time, int reply)
{
    mb f = {0};
    mb_u8(&f, 'k');
    mb_u64(&f, wal_end);
    mb_u64(&f, (uint64_t)time);
    mb_u8(&f, (unsigned)reply);
    script_record(s, f.p, f.len, 0);
    mb_free(&f);
}

/* ------------------------------------------------------------------------ */
/* Recorder: the callbacks write what they get as text                       */
/* ------------------------------------------------------------------------ */

typedef struct rec rec;
struct rec {
    char *log;
    size_t len, cap;
    int txns, relations, changed, keepalives, messages;
    uint64_t ka_end;
    int64_t ka_time;
    int ka_reply;
    int txn_rc, rel_rc, ka_rc, msg_rc; /* what the callbacks return */
    const hr_pgrelation *last_rel;
    int last_changed;
    void (*hook)(rec *r, const hr_pgtxn *t);
    void *hook_ctx;
};

static void rec_printf(rec *r, const char *fmt, ...) HR_PRINTF_LIKE(2, 3);

static void rec_printf(rec *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (r->len + (size_t)n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 1024;
        while (cap < r->len + (size_t)n + 1)
            cap *= 2;
        char *p = realloc(r->log, cap);
        if (!p)
            abort();
        r->log = p;
        r->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(r->log + r->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    r->len += (size_t)n;
}

static const char *rec_log(rec *r)
{
    return r->log ? r->log : "";
}

static void rec_free(rec *r)
{
    free(r->log);
    memset(r, 0, sizeof *r);
}

static void dump_tuple(rec *r, const hr_pgtxn *t, size_t i, hr_pgtuple which)
{
    const hr_pgrelation *rel = hr_pgtxn_change_relation(t, i);
    rec_printf(r, "[");
    for (int c = 0; c < hr_pgrelation_columns(rel); c++) {
        const uint8_t *p = (const uint8_t *)"?";
        size_t n = 99;
        int form = hr_pgtxn_change_value(t, i, which, c, &p, &n);
        if (c)
            rec_printf(r, ",");
        switch (form) {
        case HR_PGVALUE_NULL:
        case HR_PGVALUE_UNCHANGED_TOAST:
            ck_assert_ptr_null(p);
            ck_assert_uint_eq(n, 0);
            rec_printf(r, "%c", form);
            break;
        case HR_PGVALUE_TEXT:
            ck_assert_ptr_nonnull(p);
            rec_printf(r, "'%.*s'", (int)n, (const char *)p);
            break;
        case HR_PGVALUE_BINARY:
            ck_assert_ptr_nonnull(p);
            rec_printf(r, "x");
            for (size_t k = 0; k < n; k++)
                rec_printf(r, "%02x", p[k]);
            break;
        default:
            ck_abort_msg("value form %d", form);
        }
    }
    rec_printf(r, "]");
}

static void dump_txn(rec *r, const hr_pgtxn *t)
{
    rec_printf(
        r,
        "txn %" PRIu32 " commit %" PRIx64 " end %" PRIx64 " time %" PRId64 "%s",
        hr_pgtxn_xid(t), hr_pgtxn_commit_lsn(t), hr_pgtxn_end_lsn(t),
        hr_pgtxn_commit_time(t), hr_pgtxn_streamed(t) ? " streamed" : "");
    if (hr_pgtxn_origin(t))
        rec_printf(r, " origin %s@%" PRIx64, hr_pgtxn_origin(t),
                   hr_pgtxn_origin_lsn(t));
    rec_printf(r, "\n");
    for (size_t i = 0; i < hr_pgtxn_changes(t); i++) {
        const hr_pgrelation *rel = hr_pgtxn_change_relation(t, i);
        int kind = hr_pgtxn_change_kind(t, i);
        int old = hr_pgtxn_change_old_form(t, i);
        switch (kind) {
        case HR_PGCHANGE_INSERT:
        case HR_PGCHANGE_UPDATE:
        case HR_PGCHANGE_DELETE:
            rec_printf(r, "%c %s.%s", "?IUD"[kind], hr_pgrelation_schema(rel),
                       hr_pgrelation_name(rel));
            if (old) {
                rec_printf(r, " %c", old);
                dump_tuple(r, t, i, HR_PGTUPLE_OLD);
            } else {
                ck_assert_int_eq(
                    hr_pgtxn_change_value(t, i, HR_PGTUPLE_OLD, 0, NULL, NULL),
                    HR_EINVAL);
            }
            if (kind != HR_PGCHANGE_DELETE) {
                rec_printf(r, " N");
                dump_tuple(r, t, i, HR_PGTUPLE_NEW);
            } else {
                ck_assert_int_eq(
                    hr_pgtxn_change_value(t, i, HR_PGTUPLE_NEW, 0, NULL, NULL),
                    HR_EINVAL);
            }
            break;
        case HR_PGCHANGE_TRUNCATE: {
            size_t n;
            int options;
            ck_assert_int_eq(hr_pgtxn_change_truncate(t, i, &n, &options),
                             HR_OK);
            rec_printf(r, "T opts %d:", options);
            for (size_t k = 0; k < n; k++)
                rec_printf(r, " %" PRIu32,
                           hr_pgtxn_change_truncate_oid(t, i, k));
            ck_assert_uint_eq(hr_pgtxn_change_truncate_oid(t, i, n), 0);
            break;
        }
        case HR_PGCHANGE_MESSAGE: {
            const char *prefix;
            const uint8_t *content;
            size_t n;
            ck_assert_int_eq(
                hr_pgtxn_change_message(t, i, &prefix, &content, &n), HR_OK);
            rec_printf(r, "M %s '%.*s'", prefix, (int)n, (const char *)content);
            break;
        }
        default:
            ck_abort_msg("change kind %d", kind);
        }
        rec_printf(r, "\n");
    }
}

static int on_txn(void *ctx, const hr_pgtxn *t)
{
    rec *r = ctx;
    r->txns++;
    dump_txn(r, t);
    if (r->hook)
        r->hook(r, t);
    return r->txn_rc;
}

static int on_relation(void *ctx, const hr_pgrelation *rel, int changed)
{
    rec *r = ctx;
    r->relations++;
    r->changed += changed;
    r->last_rel = rel;
    r->last_changed = changed;
    return r->rel_rc;
}

static int on_keepalive(void *ctx, uint64_t wal_end, int64_t time, int reply)
{
    rec *r = ctx;
    r->keepalives++;
    r->ka_end = wal_end;
    r->ka_time = time;
    r->ka_reply = reply;
    return r->ka_rc;
}

static int on_message(void *ctx, uint64_t lsn, const char *prefix,
                      const uint8_t *content, size_t n)
{
    rec *r = ctx;
    r->messages++;
    rec_printf(r, "message %" PRIx64 " %s '%.*s'\n", lsn, prefix, (int)n,
               (const char *)content);
    return r->msg_rc;
}

static hr_pgdecoder_callbacks callbacks_of(rec *r)
{
    hr_pgdecoder_callbacks cb = {HR_PGDECODER_CALLBACKS_VERSION,
                                 r,
                                 on_txn,
                                 on_relation,
                                 on_keepalive,
                                 on_message};
    return cb;
}

static hr_env *env;

static hr_pgdecoder *new_decoder(hr_env *e, rec *r)
{
    hr_pgdecoder_callbacks cb = callbacks_of(r);
    hr_pgdecoder *d = NULL;
    ck_assert_int_eq(hr_pgdecoder_new(e, &cb, &d), HR_OK);
    return d;
}

static void setup(void)
{
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
}

static void teardown(void)
{
    hr_env_free(env);
}

/* ------------------------------------------------------------------------ */
/* Shared fixtures                                                           */
/* ------------------------------------------------------------------------ */

#define ITEMS 16384u
#define TAGS 16390u

static const pcol items_cols[] = {{1, "id", HR_OID_INT8, -1},
                                  {0, "name", HR_OID_TEXT, -1},
                                  {0, "data", HR_OID_BYTEA, -1},
                                  {0, "note", HR_OID_VARCHAR, 68}};
static const pcol tags_cols[] = {{1, "tag", HR_OID_TEXT, -1},
                                 {0, "n", HR_OID_INT4, -1}};

static void rel_items(script *s, uint32_t sxid)
{
    pg_relation(s, sxid, ITEMS, "public", "items", 'd', 4, items_cols);
}

static void rel_tags(script *s, uint32_t sxid)
{
    pg_relation(s, sxid, TAGS, "app", "tags", 'f', 2, tags_cols);
}

static void insert_item(script *s, uint32_t sxid, const char *id)
{
    pv v[] = {{'t', id, strlen(id)}, PV_T("name"), PV_NULL, PV_T("n")};
    pg_insert(s, sxid, ITEMS, 4, v);
}

/* ------------------------------------------------------------------------ */
/* Scenarios, shared with the corpus writer                                  */
/* ------------------------------------------------------------------------ */

static const pv row1[] = {PV_T("1"), PV_T("apple"), PV_B("\x00\x01\xff"),
                          PV_NULL};
static const pv key1[] = {PV_T("1"), PV_NULL, PV_NULL, PV_NULL};
static const pv row2[] = {PV_T("2"), PV_T(""), PV_TOAST, PV_T("x")};

static void scenario_rows(script *s)
{
    rel_items(s, 0);
    pg_type(s, 0, 70001, "public", "mood");
    pg_begin(s, 0xA000, 777, 501);
    pg_insert(s, 0, ITEMS, 4, row1);
    pg_update(s, 0, ITEMS, 'K', 4, key1, 4, row2);
    pg_update(s, 0, ITEMS, 0, 0, NULL, 4, row2);
    pg_update(s, 0, ITEMS, 'O', 4, row1, 4, row2);
    pg_delete(s, 0, ITEMS, 'K', 4, key1);
    pg_delete(s, 0, ITEMS, 'O', 4, row2);
    pg_commit(s, 0xA000, 0xA100, 778);
}

static const char rows_log[] =
    "txn 501 commit a000 end a100 time 778\n"
    "I public.items N['1','apple',x0001ff,n]\n"
    "U public.items K['1',n,n,n] N['2','',u,'x']\n"
    "U public.items N['2','',u,'x']\n"
    "U public.items O['1','apple',x0001ff,n] N['2','',u,'x']\n"
    "D public.items K['1',n,n,n]\n"
    "D public.items O['2','',u,'x']\n";

static const pcol items_v2_cols[] = {{1, "id", HR_OID_INT8, -1},
                                     {0, "name", HR_OID_TEXT, -1},
                                     {0, "data", HR_OID_BYTEA, -1},
                                     {0, "note", HR_OID_VARCHAR, 68},
                                     {0, "price", HR_OID_NUMERIC, 655366}};

static void scenario_schema_change(script *s)
{
    rel_items(s, 0);
    pg_begin(s, 0xB000, 1, 600);
    insert_item(s, 0, "10");
    pg_relation(s, 0, ITEMS, "public", "items", 'd', 5, items_v2_cols);
    pv v[] = {PV_T("11"), PV_T("pear"), PV_NULL, PV_NULL, PV_T("9.50")};
    pg_insert(s, 0, ITEMS, 5, v);
    pg_commit(s, 0xB000, 0xB100, 2);
}

static void scenario_misc(script *s)
{
    static const uint32_t both[] = {ITEMS, TAGS};
    rel_items(s, 0);
    rel_tags(s, 0);
    pg_message(s, 0, 0, 0x5000, "audit", "hello", 5);
    pg_begin(s, 0xC000, 5, 700);
    pg_origin(s, 0xDEAD, "node_b");
    pv t[] = {PV_T("red"), PV_T("3")};
    pg_insert(s, 0, TAGS, 2, t);
    pg_message(s, 0, 1, 0xC010, "app.note", "in txn", 6);
    pg_truncate(s, 0, 2, 3, both);
    pg_truncate(s, 0, 1, 0, both);
    pg_commit(s, 0xC000, 0xC100, 6);
    pg_keepalive(s, 0xC200, 99, 1);
    pg_begin(s, 0xD000, 7, 701);
    pg_commit(s, 0xD000, 0xD100, 8);
}

static const char misc_log[] =
    "message 5000 audit 'hello'\n"
    "txn 700 commit c000 end c100 time 6 origin node_b@dead\n"
    "I app.tags N['red','3']\n"
    "M app.note 'in txn'\n"
    "T opts 3: 16384 16390\n"
    "T opts 0: 16384\n"
    "txn 701 commit d000 end d100 time 8\n";

/*
 * Two streamed transactions in interleaved segments with a small one between
 * them; subtransaction aborts (one nested, one unknown), and a whole abort.
 */
static void scenario_streams(script *s)
{
    pg_stream_start(s, 900, 1);
    rel_items(s, 900);
    insert_item(s, 900, "a");
    insert_item(s, 901, "b");
    pg_stream_stop(s);

    rel_items(s, 0);
    pg_begin(s, 0xE000, 10, 950);
    insert_item(s, 0, "small");
    pg_commit(s, 0xE000, 0xE100, 11);

    pg_stream_start(s, 910, 1);
    pg_origin(s, 0, "far");
    rel_tags(s, 910);
    pv t[] = {PV_T("x"), PV_NULL};
    pg_insert(s, 910, TAGS, 2, t);
    pg_stream_stop(s);

    pg_stream_start(s, 900, 0);
    insert_item(s, 902, "c");
    pg_message(s, 902, 1, 0xE500, "sub", "gone", 4);
    pg_message(s, 902, 0, 0xE510, "now", "kept", 4);
    pg_stream_stop(s);
    pg_stream_abort(s, 900, 902);

    pg_stream_commit(s, 910, 0xF000, 0xF100, 12);

    pg_stream_start(s, 900, 0);
    insert_item(s, 900, "d");
    insert_item(s, 903, "e");
    insert_item(s, 904, "f");
    static const uint32_t items[] = {ITEMS};
    pg_truncate(s, 904, 1, 1, items);
    pg_stream_stop(s);
    pg_stream_abort(s, 900, 903); /* e and its child f */
    pg_stream_abort(s, 900, 999); /* never had a change: nothing */

    pg_stream_start(s, 920, 1);
    insert_item(s, 920, "never");
    pg_stream_stop(s);
    pg_stream_abort(s, 920, 920);

    pg_stream_start(s, 900, 0);
    insert_item(s, 905, "g");
    pg_stream_stop(s);
    pg_stream_commit(s, 900, 0xF200, 0xF300, 13);
}

static const char streams_log[] =
    "txn 950 commit e000 end e100 time 11\n"
    "I public.items N['small','name',n,'n']\n"
    "message e510 now 'kept'\n"
    "txn 910 commit f000 end f100 time 12 streamed origin far@0\n"
    "I app.tags N['x',n]\n"
    "txn 900 commit f200 end f300 time 13 streamed\n"
    "I public.items N['a','name',n,'n']\n"
    "I public.items N['b','name',n,'n']\n"
    "I public.items N['d','name',n,'n']\n"
    "I public.items N['g','name',n,'n']\n";

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */
/* ------------------------------------------------------------------------ */

START_TEST(rows_of_every_form)
{
    rec r = {0};
    hr_pgdecoder *d = new_decoder(env, &r);
    script s = {0};
    scenario_rows(&s);
    ck_assert_int_eq(script_run(d, &s), HR_OK);
    ck_assert_str_eq(rec_log(&r), rows_log);
    ck_assert_int_eq(r.txns, 1);
    ck_assert_int_eq(r.relations, 1);
    ck_assert_int_eq(r.changed, 0);
    ck_assert_uint_eq(hr_pgdecoder_wal_end(d), s.lsn - 0x100 + 0x80);
    ck_assert_str_eq(hr_pgdecoder_errmsg(d), "");
    script_free(&s);
    hr_pgdecoder_free(d);
    rec_free(&r);
}
END_TEST

START_TEST(bare_messages_decode_alike)
{
    rec r = {0};
    hr_pgdecoder *d = new_decoder(env, &r);
    script s = {.bare = 1};
    scenario_rows(&s);
    ck_assert_int_eq(script_run(d, &s), HR_OK);
    ck_assert_str_eq(rec_log(&r), rows_log);
    ck_assert_uint_eq(hr_pgdecoder_wal_end(d), 0); /* no server report */

    /* A bad message: the offset counts from the message, with its LSN. */
    static const uint8_t begin[] = {'B', 0, 0, 0, 0, 0};
    ck_assert_int_eq(
        hr_pgdecoder_feed_message(d, 0x1234ABCDull, begin, sizeof begin),
        HR_EPROTO);
    ck_assert_str_eq(hr_pgdecoder_errmsg(d),
                     "offset 1 in Begin message: truncated: final LSN needs 8 "
                     "bytes, 5 left (WAL 0/1234ABCD)");
    script_free(&s);
    hr_pgdecoder_free(d);
    rec_free(&r);
}
END_TEST

START_TEST(relation_metadata_and_redefinition)
{
    rec r = {0};
    hr_pgdecoder *d = new_decoder(env, &r);
    script s = {0};
    rel_items(&s, 0);
    ck_assert_int_eq(script_run(d, &s), HR_OK);
    const hr_pgrelation *rel = hr_pgdecoder_relation(d, ITEMS);
    ck_assert_ptr_eq(rel, r.last_rel);
    ck_assert_int_eq(r.last_changed, 0);
    ck_assert_uint_eq(hr_pgrelation_oid(rel), ITEMS);
    ck_assert_str_eq(hr_pgrelation_schema(rel), "public");
    ck_assert_str_eq(hr_pgrelation_name(rel), "items");
    ck_assert_int_eq(hr_pgrelation_replica_identity(rel), 'd');
    ck_assert_int_eq(hr_pgrelation_columns(rel), 4);
    ck_assert_str_eq(hr_pgrelation_column_name(rel, 3), "note");
    ck_assert_uint_eq(hr_pgrelation_column_type(rel, 3), HR_OID_VARCHAR);
    ck_assert_int_eq(hr_pgrelation_column_typmod(rel, 3), 68);
    ck_assert_int_eq(hr_pgrelation_column_typmod(rel, 0), -1);
    ck_assert_int_eq(hr_pgrelation_column_is_key(rel, 0), 1);
    ck_assert_int_eq(hr_pgrelation_column_is_key(rel, 1), 0);
    ck_assert_ptr_null(hr_pgrelation_column_name(rel, 4));
    ck_assert_ptr_null(hr_pgrelation_column_name(rel, -1));
    ck_assert_uint_eq(hr_pgrelation_column_type(rel, 4), 0);
    ck_assert_int_eq(hr_pgrelation_column_is_key(rel, 9), 0);
    ck_assert_ptr_null(hr_pgdecoder_relation(d, 1));
    ck_assert_ptr_null(hr_pgrelation_name(NULL));
    ck_assert_int_eq(hr_pgrelation_columns(NULL), 0);

    /* The same definition again: no schema change, the same version. */
    ck_assert_int_eq(script_run(d, &s), HR_OK);
    ck_assert_ptr_eq(hr_pgdecoder_relation(d, ITEMS), rel);
    ck_assert_int_eq(r.relations, 2);
    ck_assert_int_eq(r.changed, 0);

    /* A different one (replica identity FULL): a schema change. */
    script s2 = {0};
    pg_relation(&s2, 0, ITEMS, "public", "items", 'f', 4, items_cols);
    ck_assert_int_eq(script_run(d, &s2), HR_OK);
    ck_assert_int_eq(r.changed, 1);
    ck_assert_int_eq(r.last_changed, 1);
    ck_assert_int_eq(
        hr_pgrelation_replica_identity(hr_pgdecoder_relation(d, ITEMS)), 'f');

    /* Zero columns is a valid table; the cache grows past its first size. */
    script s3 = {0};
    for (uint32_t oid = 20000; oid < 20100; oid++)
        pg_relation(&s3, 0, oid, "", "empty", 'n', 0, NULL);
    ck_assert_int_eq(script_run(d, &s3), HR_OK);
    for (uint32_t oid = 20000; oid < 20100; oid++)
        ck_assert_int_eq(hr_pgrelation_oid(hr_pgdecoder_relation(d, oid)), oid);
    ck_assert_str_eq(hr_pgrelation_schema(hr_pgdecoder_relation(d, 20000)), "");
    script s4 = {0};
    pg_begin(&s4, 0x100, 1, 1);
    pg_insert(&s4, 0, 20000, 0, NULL);
    pg_update(&s4, 0, 20001, 'O', 0, NULL, 0, NULL);
    pg_delete(&s4, 0, 20002, 'O', 0, NULL);
    pg_commit(&s4, 0x100, 0x200, 1);
    ck_assert_int_eq(script_run(d, &s4), HR_OK);
    ck_assert_ptr_nonnull(strstr(rec_log(&r), "I .empty N[]\n"
                                              "U .empty O[] N[]\n"
                                              "D .empty O[]\n"));
    script_free(&s4);
    ck_assert_ptr_nonnull(hr_pgdecoder_relation(d, ITEMS));
    script_free(&s);
    script_free(&s2);
    script_free(&s3);
    hr_pgdecoder_free(d);
    rec_free(&r);
}
END_TEST

typedef struct schema_check {
    hr_pgdecoder *d;
    failing_allocator *fa;
    long live_in_txn;
} schema_check;

static void schema_hook(rec *r, const hr_pgtxn *t)
{
    schema_check *c = r->hook_ctx;
    ck_assert_uint_eq(hr_pgtxn_changes(t), 2);
    const hr_pgrelation *v1 = hr_pgtxn_change_relation(t, 0);
    const hr_pgrelation *v2 = hr_pgtxn_change_relation(t, 1);
    ck_assert_ptr_ne(v1, v2);
    ck_assert_int_eq(hr_pgrelation_columns(v1), 4);
    ck_assert_int_eq(hr_pgrelation_columns(v2), 5);
    ck_assert_uint_eq(hr_pgrelation_oid(v1), hr_pgrelation_oid(v2));
    ck_assert_ptr_eq(hr_pgdecoder_relation(c->d, ITEMS), v2);
    ck_assert_str_eq(hr_pgrelation_column_name(v2, 4), "price");
    ck_assert_int_eq(hr_pgrelation_column_typmod(v2, 4), 655366);
    c->live_in_txn = c->fa->live_blocks;
}

START_TEST(schema_change_mid_transaction)
{
    failing_allocator fa;
    failing_allocator_reset(&fa, 0);
    hr_allocator table = failing_allocator_table(&fa);
    hr_env *e;
    ck_assert_int_eq(hr_env_new(&e, &table), HR_OK);
    rec r = {0};
    hr_pgdecoder *d = new_decoder(e, &r);
    schema_check c = {d, &fa, 0};
    r.hook = schema_hook;
    r.hook_ctx = &c;
    script s = {0};
    scenario_schema_change(&s);
    ck_assert_int_eq(script_run(d, &s), HR_OK);
    ck_assert_int_eq(r.txns, 1);
    ck_assert_int_eq(r.changed, 1);
    ck_assert_str_eq(rec_log(&r), "txn 600 commit b000 end b100 time 2\n"
                                  "I public.items N['10','name',n,'n']\n"
                                  "I public.items N['11','pear',n,n,'9.50']\n");
    /* The version the first change used was freed after delivery. */
    ck_assert_int_eq(fa.live_blocks, c.live_in_txn - 1);
    hr_pgdecoder_free(d);
    ck_assert_int_eq(fa.live_blocks, 1); /* the env */
    hr_env_free(e);
    ck_assert_int_eq(fa.live_blocks, 0);
    script_free(&s);
    rec_free(&r);
}
END_TEST

START_TEST(origin_truncate_messages_keepalive)
{
    rec r = {0};
    hr_pgdecoder *d = new_decoder(env, &r);
    script s = {0};
    scenario_misc(&s);
    ck_assert_int_eq(script_run(d, &s), HR_OK);
    ck_assert_str_eq(rec_log(&r), misc_log);
    ck_assert_int_eq(r.messages, 1);
    ck_assert_int_eq(r.keepalives, 1);
    ck_assert_uint_eq(r.ka_end, 0xC200);
    ck_assert_int_eq(r.ka_time, 99);
    ck_assert_int_eq(r.ka_reply, 1);
    script_free(&s);

    /* Keepalives: reply flag 0, wal_end only moves forward. */
    script k = {0};
    pg_keepalive(&k, 0x10, 5, 0);
    ck_assert_int_eq(script_run(d, &k), HR_OK);
    ck_assert_int_eq(r.ka_reply, 0);
    ck_assert_uint_eq(r.ka_end, 0x10);
    ck_assert_uint_eq(hr_pgdecoder_wal_end(d), 0xC200);
    pg_keepalive(&k, 0xFFFFFFFF00ull, -1, 1);
    ck_assert_int_eq(script_run(d, &k), HR_OK);
    ck_assert_uint_eq(hr_pgdecoder_wal_end(d), 0xFFFFFFFF00ull);
    ck_assert_int_eq(r.ka_time, -1);
    script_free(&k);
    hr_pgdecoder_free(d);
    rec_free(&r);
}
END_TEST

START_TEST(streamed_transactions)
{
    rec r = {0};
    hr_pgdecoder *d = new_decoder(env, &r);
    script s = {0};
    scenario_streams(&s);
    ck_assert_int_eq(script_run(d, &s), HR_OK);
    ck_assert_str_eq(rec_log(&r), streams_log);

    /* 920 was aborted whole: it is gone. */
    script s2 = {0};
    pg_stream_commit(&s2, 920, 0xF400, 0xF500, 14);
    ck_assert_int_eq(script_run(d, &s2), HR_EPROTO);
    ck_assert_ptr_nonnull(strstr(hr_pgdecoder_errmsg(d),
                                 "in Stream Commit message: transaction 920 "
                                 "was never started"));
    script_free(&s);
    script_free(&s2);
    hr_pgdecoder_free(d);
    rec_free(&r);
}
END_TEST

START_TEST(empty_transaction_and_type_messages)
{
    rec r = {0};
    hr_pgdecoder *d = new_decoder(env, &r);
    script s = {0};
    pg_type(&s, 0, 90000, "public", "color");
    pg_begin(&s, 0x100, 3, 42);
    pg_type(&s, 0, 90001, "public", "shape");
    pg_commit(&s, 0x100, 0x180, 4);
    pg_stream_start(&s, 43, 1);
    pg_type(&s, 43, 90002, "x", "y");
    pg_stream_stop(&s);
    pg_stream_commit(&s, 43, 0x200, 0x280, 5);
    ck_assert_int_eq(script_run(d, &s), HR_OK);
    ck_assert_str_eq(rec_log(&r),
                     "txn 42 commit 100 end 180 time 4\n"
                     "txn 43 commit 200 end 280 time 5 streamed\n");
    script_free(&s);
    hr_pgdecoder_free(d);
    rec_free(&r);
}
END_TEST

static void bounds_hook(rec *r, const hr_pgtxn *t)
{
    (void)r;
    const size_t n = hr_pgtxn_changes(t);
    ck_assert_uint_eq(n, 4);
    const uint8_t *p;
    size_t len;
    ck_assert_int_eq(hr_pgtxn_change_kind(t, n), HR_EINVAL);
    ck_assert_ptr_null(hr_pgtxn_change_relation(t, n));
    ck_assert_int_eq(hr_pgtxn_change_old_form(t, n), HR_EINVAL);
    ck_assert_int_eq(hr_pgtxn_change_value(t, n, HR_PGTUPLE_NEW, 0, &p, &len),
                     HR_EINVAL);
    /* change 0: insert */
    ck_assert_int_eq(hr_pgtxn_change_old_form(t, 0), 0);
    ck_assert_int_eq(hr_pgtxn_change_value(t, 0, HR_PGTUPLE_NEW, 4, &p, &len),
                     HR_EINVAL);
    ck_assert_int_eq(hr_pgtxn_change_value(t, 0, HR_PGTUPLE_NEW, -1, &p, &len),
                     HR_EINVAL);
    ck_assert_int_eq(hr_pgtxn_change_value(t, 0, (hr_pgtuple)3, 0, &p, &len),
                     HR_EINVAL);
    ck_assert_int_eq(hr_pgtxn_change_value(t, 0, HR_PGTUPLE_OLD, 0, &p, &len),
                     HR_EINVAL);
    ck_assert_int_eq(hr_pgtxn_change_value(t, 0, HR_PGTUPLE_NEW, 0, NULL, NULL),
                     HR_PGVALUE_TEXT);
    ck_assert_int_eq(hr_pgtxn_change_truncate(t, 0, NULL, NULL), HR_EINVAL);
    ck_assert_uint_eq(hr_pgtxn_change_truncate_oid(t, 0, 0), 0);
    ck_assert_int_eq(hr_pgtxn_change_message(t, 0, NULL, NULL, NULL),
                     HR_EINVAL);
    /* change 1: delete 'K' */
    ck_assert_int_eq(hr_pgtxn_change_old_form(t, 1), 'K');
    ck_assert_int_eq(hr_pgtxn_change_value(t, 1, HR_PGTUPLE_NEW, 0, &p, &len),
                     HR_EINVAL);
    /* change 2: truncate; change 3: an empty message */
    ck_assert_ptr_null(hr_pgtxn_change_relation(t, 2));
    ck_assert_int_eq(hr_pgtxn_change_value(t, 2, HR_PGTUPLE_NEW, 0, &p, &len),
                     HR_EINVAL);
    ck_assert_int_eq(hr_pgtxn_change_truncate(t, 2, NULL, NULL), HR_OK);
    ck_assert_uint_eq(hr_pgtxn_change_truncate_oid(t, 2, 1), 0);
    const char *prefix = NULL;
    const uint8_t *content = NULL;
    len = 7;
    ck_assert_int_eq(hr_pgtxn_change_message(t, 3, &prefix, &content, &len),
                     HR_OK);
    ck_assert_str_eq(prefix, "");
    ck_assert_ptr_nonnull(content);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(hr_pgtxn_change_kind(NULL, 0), HR_EINVAL);
    ck_assert_uint_eq(hr_pgtxn_changes(NULL), 0);
    ck_assert_ptr_null(hr_pgtxn_origin(t));
    ck_assert_uint_eq(hr_pgtxn_origin_lsn(t), 0);
}

START_TEST(accessors_check_every_index)
{
    rec r = {0};
    hr_pgdecoder *d = new_decoder(env, &r);
    r.hook = bounds_hook;
    script s = {0};
    rel_items(&s, 0);
    static const uint32_t items[] = {ITEMS};
    pg_begin(&s, 0x100, 1, 1);
    insert_item(&s, 0, "1");
    pg_delete(&s, 0, ITEMS, 'K', 4, key1);
    pg_truncate(&s, 0, 1, 2, items);
    pg_message(&s, 0, 1, 0x100, "", "", 0);
    pg_commit(&s, 0x100, 0x200, 2);
    ck_assert_int_eq(script_run(d, &s), HR_OK);
    ck_assert_int_eq(r.txns, 1);
    script_free(&s);
    hr_pgdecoder_free(d);
    rec_free(&r);
}
END_TEST

START_TEST(handle_arguments)
{
    rec r = {0};
    hr_pgdecoder_callbacks cb = callbacks_of(&r);
    hr_pgdecoder *d = (hr_pgdecoder *)&r;
    ck_assert_int_eq(hr_pgdecoder_new(NULL, &cb, &d), HR_EINVAL);
    ck_assert_ptr_null(d);
    ck_assert_int_eq(hr_pgdecoder_new(env, NULL, &d), HR_EINVAL);
    ck_assert_int_eq(hr_pgdecoder_new(env, &cb, NULL), HR_EINVAL);
    cb.version = 2;
    ck_assert_int_eq(hr_pgdecoder_new(env, &cb, &d), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_env_errmsg(env), "version"));
    hr_pgdecoder_callbacks none = {
        HR_PGDECODER_CALLBACKS_VERSION, NULL, NULL, NULL, NULL, NULL};
    ck_assert_int_eq(hr_pgdecoder_new(env, &none, &d), HR_OK);
    script s = {0};
    scenario_misc(&s);
    scenario_streams(&s);
    ck_assert_int_eq(script_run(d, &s), HR_OK); /* no callbacks: fine */
    ck_assert_int_eq(hr_pgdecoder_feed(d, NULL, 3), HR_EINVAL);
    ck_assert_int_eq(hr_pgdecoder_feed_message(d, 0, NULL, 3), HR_EINVAL);
    ck_assert_int_eq(
        hr_pgdecoder_set_param(d, HR_PGDECODER_PARAM_MAX_TXN_BYTES, 65535),
        HR_EINVAL);
    ck_assert_int_eq(hr_pgdecoder_set_param(d, HR_PGDECODER_PARAM_MAX_TXN_BYTES,
                                            ((int64_t)1 << 40) + 1),
                     HR_EINVAL);
    ck_assert_int_eq(hr_pgdecoder_set_param(d, HR_PGDECODER_PARAM_MAX_TXN_BYTES,
                                            (int64_t)1 << 40),
                     HR_OK);
    ck_assert_int_eq(hr_pgdecoder_set_param(d, (hr_pgdecoder_param)99, 1),
                     HR_EINVAL);
    ck_assert_int_eq(hr_pgdecoder_set_param(NULL, 1, 65536), HR_EINVAL);
    ck_assert_int_eq(hr_pgdecoder_feed(NULL, NULL, 0), HR_EINVAL);
    ck_assert_uint_eq(hr_pgdecoder_wal_end(NULL), 0);
    ck_assert_ptr_null(hr_pgdecoder_relation(NULL, ITEMS));
    ck_assert_ptr_nonnull(hr_pgdecoder_errmsg(NULL));
    hr_pgdecoder_reset(NULL, 0);
    hr_pgdecoder_free(NULL);
    script_free(&s);
    hr_pgdecoder_free(d);
}
END_TEST

/* ---- out-of-sequence and malformed messages ---- */

typedef struct bad_case {
    const char *name;
    void (*build)(script *s);
    const char *expect; /* a substring of the error message */
} bad_case;

static void b_insert_outside(script *s)
{
    rel_items(s, 0);
    insert_item(s, 0, "1");
}
static void b_commit_without_begin(script *s)
{
    pg_commit(s, 1, 2, 3);
}
static void b_stop_without_start(script *s)
{
    pg_stream_stop(s);
}
static void b_begin_in_begin(script *s)
{
    pg_begin(s, 1, 1, 1);
    pg_begin(s, 2, 2, 2);
}
static void b_start_in_begin(script *s)
{
    pg_begin(s, 1, 1, 1);
    pg_stream_start(s, 5, 1);
}
static void b_begin_in_stream(script *s)
{
    pg_stream_start(s, 5, 1);
    pg_begin(s, 1, 1, 1);
}
static void b_commit_in_stream(script *s)
{
    pg_stream_start(s, 5, 1);
    pg_commit(s, 1, 1, 1);
}
static void b_stream_commit_in_stream(script *s)
{
    pg_stream_start(s, 5, 1);
    pg_stream_commit(s, 5, 1, 1, 1);
}
static void b_stream_abort_in_stream(script *s)
{
    pg_stream_start(s, 5, 1);
    pg_stream_abort(s, 5, 5);
}
static void b_start_in_stream(script *s)
{
    pg_stream_start(s, 5, 1);
    pg_stream_start(s, 6, 1);
}
static void b_abort_unknown(script *s)
{
    pg_stream_abort(s, 5, 6);
}
static void b_next_segment_unknown(script *s)
{
    pg_stream_start(s, 5, 0);
}
static void b_first_segment_twice(script *s)
{
    pg_stream_start(s, 5, 1);
    pg_stream_stop(s);
    pg_stream_start(s, 5, 1);
}
static void b_origin_outside(script *s)
{
    pg_origin(s, 1, "o");
}
static void b_unknown_relation(script *s)
{
    pg_begin(s, 1, 1, 1);
    insert_item(s, 0, "1");
}
static void b_unknown_truncate_relation(script *s)
{
    static const uint32_t oids[] = {ITEMS, 777};
    rel_items(s, 0);
    pg_begin(s, 1, 1, 1);
    pg_truncate(s, 0, 2, 0, oids);
}
static void b_commit_lsn_differs(script *s)
{
    pg_begin(s, 0x100, 1, 1);
    pg_commit(s, 0x101, 0x200, 1);
}
static void b_tuple_width(script *s)
{
    rel_items(s, 0);
    pg_begin(s, 1, 1, 1);
    pg_insert(s, 0, ITEMS, 2, key1);
}
static void b_transactional_message_outside(script *s)
{
    pg_message(s, 0, 1, 1, "p", "c", 1);
}
static void b_stream_change_xid_zero(script *s)
{
    rel_items(s, 0);
    pg_stream_start(s, 5, 1);
    mb m = {0};
    mb_u8(&m, 'I');
    mb_u32(&m, 0);
    mb_u32(&m, ITEMS);
    mb_u8(&m, 'N');
    mb_tuple(&m, 4, row1);
    script_msg(s, &m);
    mb_free(&m);
}
static void b_truncate_options(script *s)
{
    static const uint32_t oids[] = {ITEMS};
    rel_items(s, 0);
    pg_begin(s, 1, 1, 1);
    pg_truncate(s, 0, 1, 4, oids);
}
static void b_truncate_none(script *s)
{
    pg_begin(s, 1, 1, 1);
    pg_truncate(s, 0, 0, 0, NULL);
}
static void b_keepalive_reply(script *s)
{
    pg_keepalive(s, 1, 1, 2);
}
static void raw_msg(script *s, const char *bytes, size_t n)
{
    mb m = {0};
    mb_raw(&m, bytes, n);
    script_msg(s, &m);
    mb_free(&m);
}
static void b_unknown_message(script *s)
{
    raw_msg(s, "b\0\0\0", 4); /* Begin Prepare: protocol 3 */
}
static void b_no_message(script *s)
{
    raw_msg(s, "", 0);
}
static void b_unknown_frame(script *s)
{
    script_record(s, (const uint8_t *)"r", 1, 0);
}
static void b_empty_frame(script *s)
{
    script_record(s, (const uint8_t *)"", 0, 0);
}
static void b_trailing_bytes(script *s)
{
    pg_stream_start(s, 5, 1);
    raw_msg(s, "E\0", 2);
}
static void b_commit_flags(script *s)
{
    pg_begin(s, 0, 1, 1);
    raw_msg(s, "C\1", 2);
}
static void b_relation_oid_zero(script *s)
{
    pg_relation(s, 0, 0, "a", "b", 'd', 0, NULL);
}
static void b_relation_identity(script *s)
{
    pg_relation(s, 0, 5, "a", "b", 'x', 0, NULL);
}
static void b_relation_flags(script *s)
{
    static const pcol c[] = {{2, "a", 23, -1}};
    pg_relation(s, 0, 5, "a", "b", 'd', 1, c);
}
static void b_relation_negative(script *s)
{
    raw_msg(s, "R\0\0\0\5a\0b\0d\x80\0", 12);
}
static void b_type_oid_zero(script *s)
{
    pg_type(s, 0, 0, "a", "b");
}
static void b_value_kind(script *s)
{
    static const pv v[] = {{'x', NULL, 0}, PV_NULL, PV_NULL, PV_NULL};
    rel_items(s, 0);
    pg_begin(s, 1, 1, 1);
    pg_insert(s, 0, ITEMS, 4, v);
}
static void b_value_negative(script *s)
{
    rel_items(s, 0);
    pg_begin(s, 1, 1, 1);
    mb m = {0};
    mb_u8(&m, 'I');
    mb_u32(&m, ITEMS);
    mb_u8(&m, 'N');
    mb_u16(&m, 4);
    mb_u8(&m, 't');
    mb_u32(&m, 0xFFFFFFFF);
    script_msg(s, &m);
    mb_free(&m);
}
static void b_update_tag(script *s)
{
    rel_items(s, 0);
    pg_begin(s, 1, 1, 1);
    pg_update(s, 0, ITEMS, 'X', 4, key1, 4, key1);
}
static void b_delete_tag(script *s)
{
    rel_items(s, 0);
    pg_begin(s, 1, 1, 1);
    pg_delete(s, 0, ITEMS, 'N', 4, key1);
}
static void b_message_flags(script *s)
{
    raw_msg(s, "M\2", 2);
}

static const bad_case bad_cases[] = {
    {"insert outside", b_insert_outside,
     "offset 25 in Insert message: outside a transaction"},
    {"commit without begin", b_commit_without_begin,
     "offset 25 in Commit message: no transaction is open"},
    {"stop without start", b_stop_without_start,
     "in Stream Stop message: no stream block is open"},
    {"begin in begin", b_begin_in_begin, "transaction 1 has not committed"},
    {"start in begin", b_start_in_begin,
     "in Stream Start message: transaction 1 has not committed"},
    {"begin in stream", b_begin_in_stream,
     "in Begin message: inside the stream block of transaction 5"},
    {"commit in stream", b_commit_in_stream,
     "in Commit message: inside the stream block"},
    {"stream commit in stream", b_stream_commit_in_stream,
     "in Stream Commit message: inside the stream block"},
    {"stream abort in stream", b_stream_abort_in_stream,
     "in Stream Abort message: inside the stream block"},
    {"start in stream", b_start_in_stream,
     "in Stream Start message: inside the stream block"},
    {"abort unknown", b_abort_unknown,
     "offset 26 in Stream Abort message: transaction 5 was never started"},
    {"next segment unknown", b_next_segment_unknown,
     "transaction 5 has had no first segment"},
    {"first segment twice", b_first_segment_twice, "already open"},
    {"origin outside", b_origin_outside,
     "in Origin message: outside a transaction"},
    {"unknown relation", b_unknown_relation,
     "offset 26 in Insert message: relation OID 16384 has had no Relation"},
    {"unknown truncate relation", b_unknown_truncate_relation,
     "offset 35 in Truncate message: relation OID 777"},
    {"commit lsn", b_commit_lsn_differs,
     "offset 27 in Commit message: commit LSN 0/101 is not Begin's final LSN "
     "0/100"},
    {"tuple width", b_tuple_width,
     "offset 31 in Insert message: tuple has 2 columns, relation "
     "\"public\".\"items\" (OID 16384) has 4"},
    {"transactional message outside", b_transactional_message_outside,
     "transactional message outside a transaction"},
    {"stream xid 0", b_stream_change_xid_zero,
     "offset 26 in Insert message: invalid transaction ID 0"},
    {"truncate options", b_truncate_options, "unknown options 0x04"},
    {"truncate nothing", b_truncate_none, "relation count 0"},
    {"keepalive reply", b_keepalive_reply,
     "offset 17 in keepalive message: reply flag 0x02"},
    {"unknown message", b_unknown_message,
     "offset 25 in XLogData message: unknown pgoutput message type 0x62"},
    {"no message", b_no_message,
     "offset 25 in XLogData message: no pgoutput message"},
    {"unknown frame", b_unknown_frame,
     "offset 0 in CopyData message: unknown type 0x72"},
    {"empty frame", b_empty_frame, "offset 0 in CopyData message: empty"},
    {"trailing bytes", b_trailing_bytes,
     "offset 26 in Stream Stop message: 1 unexpected byte after the end"},
    {"commit flags", b_commit_flags, "in Commit message: flags 0x01"},
    {"relation oid 0", b_relation_oid_zero, "invalid relation OID 0"},
    {"relation identity", b_relation_identity, "unknown replica identity 0x78"},
    {"relation flags", b_relation_flags, "column 0 flags 0x02"},
    {"relation negative", b_relation_negative, "negative column count"},
    {"type oid 0", b_type_oid_zero, "in Type message: invalid type OID 0"},
    {"value kind", b_value_kind,
     "offset 33 in Insert message: column 0 has unknown kind 0x78"},
    {"value negative", b_value_negative,
     "offset 34 in Insert message: column 0 length -1 is negative"},
    {"update tag", b_update_tag, "expected 'K', 'O' or 'N'"},
    {"delete tag", b_delete_tag, "expected 'K' or 'O'"},
    {"message flags", b_message_flags, "in Message message: flags 0x02"},
};

START_TEST(malformed_and_out_of_sequence)
{
    const bad_case *c = &bad_cases[_i];
    rec r = {0};
    hr_pgdecoder *d = new_decoder(env, &r);
    script s = {0};
    c->build(&s);
    int rc = script_run(d, &s);
    ck_assert_msg(rc == HR_EPROTO, "%s: %d (%s)", c->name, rc,
                  hr_pgdecoder_errmsg(d));
    ck_assert_msg(strstr(hr_pgdecoder_errmsg(d), c->expect), "%s: \"%s\"",
                  c->name, hr_pgdecoder_errmsg(d));
    ck_assert_int_eq(r.txns, 0);
    script_free(&s);
    hr_pgdecoder_free(d);
    rec_free(&r);
}
END_TEST

/* ---- every truncation of every message ---- */

typedef struct cut_case {
    const char *name; /* the message name in the error */
    void (*setup)(script *s);
    void (*target)(script *s); /* exactly one record */
    void (*finish)(script *s); /* would deliver a transaction */
} cut_case;

static void c_rel(script *s)
{
    rel_items(s, 0);
    rel_tags(s, 0);
}
static void c_rel_begin(script *s)
{
    c_rel(s);
    pg_begin(s, 0x100, 1, 1);
}
static void c_begin_only(script *s)
{
    pg_begin(s, 0x100, 1, 1);
}
static void c_commit(script *s)
{
    pg_commit(s, 0x100, 0x200, 1);
}
static void c_begin(script *s)
{
    pg_begin(s, 0x100, 1, 1);
}
static void c_commit_setup(script *s)
{
    c_rel_begin(s);
    insert_item(s, 0, "1");
}
static void c_origin(script *s)
{
    pg_origin(s, 0x55, "upstream");
}
static void c_relation(script *s)
{
    pg_relation(s, 0, ITEMS, "public", "items", 'd', 5, items_v2_cols);
}
static void c_type(script *s)
{
    pg_type(s, 0, 70001, "public", "mood");
}
static void c_insert(script *s)
{
    pg_insert(s, 0, ITEMS, 4, row1);
}
static void c_update_k(script *s)
{
    pg_update(s, 0, ITEMS, 'K', 4, key1, 4, row2);
}
static void c_update_o(script *s)
{
    pg_update(s, 0, ITEMS, 'O', 4, row1, 4, row1);
}
static void c_update(script *s)
{
    pg_update(s, 0, ITEMS, 0, 0, NULL, 4, row2);
}
static void c_delete_k(script *s)
{
    pg_delete(s, 0, ITEMS, 'K', 4, key1);
}
static void c_delete_o(script *s)
{
    pg_delete(s, 0, ITEMS, 'O', 4, row1);
}
static void c_truncate(script *s)
{
    static const uint32_t oids[] = {ITEMS, TAGS};
    pg_truncate(s, 0, 2, 1, oids);
}
static void c_message_t(script *s)
{
    pg_message(s, 0, 1, 0x300, "pfx", "body", 4);
}
static void c_message_n(script *s)
{
    pg_message(s, 0, 0, 0x300, "pfx", "body", 4);
}
static void c_stream_start(script *s)
{
    pg_stream_start(s, 77, 1);
}
static void c_stream_setup(script *s)
{
    c_rel(s);
    pg_stream_start(s, 77, 1);
}
static void c_stream_stop(script *s)
{
    pg_stream_stop(s);
}
static void c_stream_finish(script *s)
{
    pg_stream_stop(s);
    pg_stream_commit(s, 77, 0x900, 0x980, 1);
}
static void c_stream_insert(script *s)
{
    pg_insert(s, 78, ITEMS, 4, row2);
}
static void c_stream_relation(script *s)
{
    rel_tags(s, 77);
}
static void c_stream_message(script *s)
{
    pg_message(s, 78, 1, 0x300, "p", "c", 1);
}
static void c_stream_truncate(script *s)
{
    static const uint32_t oids[] = {TAGS};
    pg_truncate(s, 78, 1, 2, oids);
}
static void c_streamed(script *s)
{
    c_stream_setup(s);
    insert_item(s, 78, "1");
    pg_stream_stop(s);
}
static void c_stream_commit(script *s)
{
    pg_stream_commit(s, 77, 0x900, 0x980, 1);
}
static void c_stream_abort(script *s)
{
    pg_stream_abort(s, 77, 78);
}
static void c_keepalive(script *s)
{
    pg_keepalive(s, 0x500, 1, 1);
}

static const cut_case cut_cases[] = {
    {"Begin", c_rel, c_begin, c_commit},
    {"Commit", c_commit_setup, c_commit, c_commit},
    {"Origin", c_rel_begin, c_origin, c_commit},
    {"Relation", c_rel_begin, c_relation, c_commit},
    {"Type", c_rel_begin, c_type, c_commit},
    {"Insert", c_rel_begin, c_insert, c_commit},
    {"Update", c_rel_begin, c_update_k, c_commit},
    {"Update", c_rel_begin, c_update_o, c_commit},
    {"Update", c_rel_begin, c_update, c_commit},
    {"Delete", c_rel_begin, c_delete_k, c_commit},
    {"Delete", c_rel_begin, c_delete_o, c_commit},
    {"Truncate", c_rel_begin, c_truncate, c_commit},
    {"Message", c_rel_begin, c_message_t, c_commit},
    {"Message", c_begin_only, c_message_n, c_commit},
    {"Stream Start", c_rel, c_stream_start, c_stream_finish},
    {"Stream Stop", c_stream_setup, c_stream_stop, c_stream_commit},
    {"Insert", c_stream_setup, c_stream_insert, c_stream_finish},
    {"Relation", c_stream_setup, c_stream_relation, c_stream_finish},
    {"Message", c_stream_setup, c_stream_message, c_stream_finish},
    {"Truncate", c_stream_setup, c_stream_truncate, c_stream_finish},
    {"Stream Commit", c_streamed, c_stream_commit, c_stream_commit},
    {"Stream Abort", c_streamed, c_stream_abort, c_stream_commit},
    {"keepalive", c_rel_begin, c_keepalive, c_commit},
};

START_TEST(every_truncation_is_eproto)
{
    const cut_case *c = &cut_cases[_i];
    rec r = {0};
    hr_pgdecoder *d = new_decoder(env, &r);
    script setup = {0}, target = {0}, finish = {0};
    c->setup(&setup);
    target.lsn = finish.lsn = setup.lsn ? setup.lsn : 0x1000;
    c->target(&target);
    c->finish(&finish);
    const uint8_t *p;
    size_t n;
    script_only(&target, &p, &n);
    const int is_keepalive = p[0] == 'k';

    /* Whole, it decodes. */
    ck_assert_int_eq(script_run(d, &setup), HR_OK);
    ck_assert_int_eq(hr_pgdecoder_feed(d, p, n), HR_OK);
    for (size_t cut = 0; cut < n; cut++) {
        hr_pgdecoder_reset(d, 0);
        r.txns = 0;
        ck_assert_int_eq(script_run(d, &setup), HR_OK);
        uint8_t *copy = malloc(cut ? cut : 1); /* ASan sees the exact end */
        memcpy(copy, p, cut);
        int rc = hr_pgdecoder_feed(d, copy, cut);
        free(copy);
        const char *msg = hr_pgdecoder_errmsg(d);
        ck_assert_msg(rc == HR_EPROTO, "%s cut at %zu: %d (%s)", c->name, cut,
                      rc, msg);
        size_t offset = 0;
        ck_assert_msg(sscanf(msg, "offset %zu in ", &offset) == 1,
                      "%s cut at %zu: \"%s\"", c->name, cut, msg);
        ck_assert_msg(offset <= cut, "%s cut at %zu: \"%s\"", c->name, cut,
                      msg);
        char in_name[64];
        if (cut == 0)
            snprintf(in_name, sizeof in_name, "in CopyData message");
        else if (is_keepalive || cut < 25)
            snprintf(in_name, sizeof in_name, "in %s message",
                     is_keepalive ? "keepalive" : "XLogData");
        else if (cut == 25)
            snprintf(in_name, sizeof in_name, "in XLogData message");
        else
            snprintf(in_name, sizeof in_name, "in %s message", c->name);
        ck_assert_msg(strstr(msg, in_name), "%s cut at %zu: \"%s\"", c->name,
                      cut, msg);
        /* Nothing of the transaction reaches the host afterwards. */
        ck_assert_int_eq(script_run(d, &finish), HR_ESTATE);
        ck_assert_int_eq(r.txns, 0);
    }
    /* After a reset the decoder works again. */
    hr_pgdecoder_reset(d, 0);
    r.txns = 0;
    ck_assert_int_eq(script_run(d, &setup), HR_OK);
    ck_assert_int_eq(hr_pgdecoder_feed(d, p, n), HR_OK);
    if (r.txns == 0) /* unless the target itself committed */
        ck_assert_int_eq(script_run(d, &finish), HR_OK);
    ck_assert_int_eq(r.txns, 1);
    script_free(&setup);
    script_free(&target);
    script_free(&finish);
    hr_pgdecoder_free(d);
    rec_free(&r);
}
END_TEST

START_TEST(error_state_until_reset)
{
    rec r = {0};
    hr_pgdecoder *d = new_decoder(env, &r);
    script s = {0}, bad = {0}, txn = {0};
    rel_items(&s, 0);
    pg_begin(&s, 0x100, 1, 1);
    insert_item(&s, 0, "before");
    ck_assert_int_eq(script_run(d, &s), HR_OK);
    b_no_message(&bad);
    ck_assert_int_eq(script_run(d, &bad), HR_EPROTO);
    ck_assert_int_eq(script_run(d, &s), HR_ESTATE);
    ck_assert_ptr_nonnull(strstr(hr_pgdecoder_errmsg(d), "hr_pgdecoder_reset"));
    ck_assert_ptr_nonnull(
        strstr(hr_pgdecoder_errmsg(d), "no pgoutput message"));
    static const uint8_t stop[] = {'E'};
    ck_assert_int_eq(hr_pgdecoder_feed_message(d, 0, stop, 1), HR_ESTATE);
    ck_assert_int_eq(r.txns, 0);

    /* Reset keeping relations: the open transaction is gone, rows decode. */
    hr_pgdecoder_reset(d, 1);
    ck_assert_str_eq(hr_pgdecoder_errmsg(d), "");
    pg_begin(&txn, 0x200, 1, 2);
    insert_item(&txn, 0, "after");
    pg_commit(&txn, 0x200, 0x300, 3);
    ck_assert_int_eq(script_run(d, &txn), HR_OK);
    ck_assert_str_eq(rec_log(&r), "txn 2 commit 200 end 300 time 3\n"
                                  "I public.items N['after','name',n,'n']\n");
    /* Without them the OID is unknown. */
    hr_pgdecoder_reset(d, 0);
    ck_assert_ptr_null(hr_pgdecoder_relation(d, ITEMS));
    ck_assert_int_eq(script_run(d, &txn), HR_EPROTO);
    ck_assert_ptr_nonnull(strstr(hr_pgdecoder_errmsg(d), "relation OID 16384"));
    /* Reset drops open streamed transactions too. */
    hr_pgdecoder_reset(d, 0);
    script st = {0};
    pg_stream_start(&st, 50, 1);
    rel_items(&st, 50);
    insert_item(&st, 50, "x");
    ck_assert_int_eq(script_run(d, &st), HR_OK);
    hr_pgdecoder_reset(d, 1);
    script sc = {0};
    pg_stream_commit(&sc, 50, 1, 2, 3);
    ck_assert_int_eq(script_run(d, &sc), HR_EPROTO);
    script_free(&s);
    script_free(&bad);
    script_free(&txn);
    script_free(&st);
    script_free(&sc);
    hr_pgdecoder_free(d);
    rec_free(&r);
}
END_TEST

START_TEST(callback_status_stops_feed)
{
    rec r = {0};
    hr_pgdecoder *d = new_decoder(env, &r);
    script s = {0};
    r.rel_rc = HR_EIO;
    rel_items(&s, 0);
    ck_assert_int_eq(script_run(d, &s), HR_EIO);
    ck_assert_ptr_nonnull(strstr(hr_pgdecoder_errmsg(d), "on_relation"));
    ck_assert_ptr_nonnull(hr_pgdecoder_relation(d, ITEMS)); /* cached */
    r.rel_rc = HR_OK;

    script t = {0};
    pg_begin(&t, 0x100, 1, 1);
    insert_item(&t, 0, "1");
    pg_commit(&t, 0x100, 0x200, 1);
    r.txn_rc = HR_ECONFLICT;
    ck_assert_int_eq(script_run(d, &t), HR_ECONFLICT);
    ck_assert_int_eq(r.txns, 1);
    r.txn_rc = HR_OK;
    ck_assert_int_eq(script_run(d, &t), HR_OK); /* still usable */
    ck_assert_int_eq(r.txns, 2);

    script k = {0};
    pg_keepalive(&k, 5, 5, 0);
    r.ka_rc = -1000;
    ck_assert_int_eq(script_run(d, &k), -1000);
    r.ka_rc = HR_OK;
    ck_assert_int_eq(script_run(d, &k), HR_OK);

    script m = {0};
    pg_message(&m, 0, 0, 1, "p", "c", 1);
    r.msg_rc = HR_EAGAIN;
    ck_assert_int_eq(script_run(d, &m), HR_EAGAIN);
    r.msg_rc = HR_OK;

    /* A streamed commit whose callback fails still ends the transaction. */
    script st = {0};
    pg_stream_start(&st, 60, 1);
    insert_item(&st, 60, "s");
    pg_stream_stop(&st);
    pg_stream_commit(&st, 60, 0x300, 0x400, 1);
    r.txn_rc = HR_EIO;
    ck_assert_int_eq(script_run(d, &st), HR_EIO);
    r.txn_rc = HR_OK;
    script sc = {0};
    pg_stream_commit(&sc, 60, 0x300, 0x400, 1);
    ck_assert_int_eq(script_run(d, &sc), HR_EPROTO);
    script_free(&s);
    script_free(&t);
    script_free(&k);
    script_free(&m);
    script_free(&st);
    script_free(&sc);
    hr_pgdecoder_free(d);
    rec_free(&r);
}
END_TEST

static void big_rows(script *s, uint32_t sxid, int rows)
{
    static char blob[1000];
    memset(blob, 'z', sizeof blob);
    for (int i = 0; i < rows; i++) {
        pv v[] = {PV_T("1"), {'t', blob, sizeof blob}, PV_NULL, PV_NULL};
        pg_insert(s, sxid, ITEMS, 4, v);
    }
}

START_TEST(max_txn_bytes_is_elimit)
{
    rec r = {0};
    hr_pgdecoder *d = new_decoder(env, &r);
    ck_assert_int_eq(
        hr_pgdecoder_set_param(d, HR_PGDECODER_PARAM_MAX_TXN_BYTES, 65536),
        HR_OK);
    script ok = {0}, over = {0}, stream = {0};
    rel_items(&ok, 0);
    pg_begin(&ok, 0x100, 1, 1);
    big_rows(&ok, 0, 50); /* ~50 KiB */
    pg_commit(&ok, 0x100, 0x200, 1);
    ck_assert_int_eq(script_run(d, &ok), HR_OK);
    ck_assert_int_eq(r.txns, 1);

    pg_begin(&over, 0x300, 1, 2);
    big_rows(&over, 0, 70);
    pg_commit(&over, 0x300, 0x400, 1);
    ck_assert_int_eq(script_run(d, &over), HR_ELIMIT);
    ck_assert_ptr_nonnull(strstr(hr_pgdecoder_errmsg(d), "MAX_TXN_BYTES"));
    ck_assert_int_eq(script_run(d, &ok), HR_ESTATE);
    ck_assert_int_eq(r.txns, 1);
    hr_pgdecoder_reset(d, 1);

    /* Streamed: the segments add up. */
    pg_stream_start(&stream, 70, 1);
    big_rows(&stream, 70, 40);
    pg_stream_stop(&stream);
    pg_stream_start(&stream, 70, 0);
    big_rows(&stream, 71, 40);
    pg_stream_stop(&stream);
    ck_assert_int_eq(script_run(d, &stream), HR_ELIMIT);
    hr_pgdecoder_reset(d, 1);
    /* An aborted subtransaction gives its bytes back. */
    script again = {0};
    pg_stream_start(&again, 70, 1);
    big_rows(&again, 70, 25);
    big_rows(&again, 71, 25);
    pg_stream_stop(&again);
    pg_stream_abort(&again, 70, 71);
    pg_stream_start(&again, 70, 0);
    big_rows(&again, 72, 25);
    pg_stream_stop(&again);
    pg_stream_commit(&again, 70, 0x500, 0x600, 1);
    ck_assert_int_eq(script_run(d, &again), HR_OK);
    ck_assert_int_eq(r.txns, 2);
    script_free(&ok);
    script_free(&over);
    script_free(&stream);
    script_free(&again);
    hr_pgdecoder_free(d);
    rec_free(&r);
}
END_TEST

static void thousand_rows(script *s, uint64_t lsn, uint32_t xid)
{
    pg_begin(s, lsn, 1, xid);
    for (int i = 0; i < 1000; i++)
        insert_item(s, 0, "row");
    pg_commit(s, lsn, lsn + 0x100, 1);
}

START_TEST(buffers_are_reused)
{
    failing_allocator fa;
    failing_allocator_reset(&fa, 0);
    hr_allocator table = failing_allocator_table(&fa);
    hr_env *e;
    ck_assert_int_eq(hr_env_new(&e, &table), HR_OK);
    rec r = {0};
    hr_pgdecoder *d = new_decoder(e, &r);
    script s = {0};
    rel_items(&s, 0);
    thousand_rows(&s, 0x100, 1);
    ck_assert_int_eq(script_run(d, &s), HR_OK);
    /* A second transaction of the same size allocates nothing. */
    const long before = fa.allocations;
    script s2 = {0};
    thousand_rows(&s2, 0x200, 2);
    ck_assert_int_eq(script_run(d, &s2), HR_OK);
    ck_assert_int_eq(fa.allocations, before);
    ck_assert_int_eq(r.txns, 2);
    hr_pgdecoder_free(d);
    hr_env_free(e);
    ck_assert_int_eq(fa.live_blocks, 0);
    script_free(&s);
    script_free(&s2);
    rec_free(&r);
}
END_TEST

/*
 * A bulk load into 2000 partitions (pgoutput sends each as a relation),
 * taking turns with a streamed transaction on the same relations, and one
 * partition redefined mid-way: every relation version is freed exactly when
 * no open transaction needs it.
 */
START_TEST(many_relations_and_turns)
{
    failing_allocator fa;
    failing_allocator_reset(&fa, 0);
    hr_allocator table = failing_allocator_table(&fa);
    hr_env *e;
    ck_assert_int_eq(hr_env_new(&e, &table), HR_OK);
    rec r = {0};
    hr_pgdecoder *d = new_decoder(e, &r);
    script s = {0};
    static const pv row[] = {PV_T("1"), PV_T("2")};
    for (uint32_t p = 0; p < 2000; p++)
        pg_relation(&s, 0, 50000 + p, "public", "part", 'd', 2, tags_cols);
    ck_assert_int_eq(script_run(d, &s), HR_OK);
    const long live_cached = fa.live_blocks;
    script t = {0};
    for (int seg = 0; seg < 3; seg++) {
        pg_stream_start(&t, 77, seg == 0);
        for (uint32_t p = 0; p < 2000; p += 7)
            pg_insert(&t, 77, 50000 + p, 2, row);
        pg_stream_stop(&t);
        pg_begin(&t, 0x1000 + (uint64_t)seg, 1, 100 + (uint32_t)seg);
        for (int k = 0; k < 3; k++)
            for (uint32_t p = 0; p < 2000; p++)
                pg_insert(&t, 0, 50000 + p, 2, row);
        if (seg == 1)
            pg_relation(&t, 0, 50000, "public", "part", 'f', 2, tags_cols);
        pg_insert(&t, 0, 50000, 2, row);
        pg_commit(&t, 0x1000 + (uint64_t)seg, 0x2000, 1);
    }
    pg_stream_commit(&t, 77, 0x3000, 0x3100, 1);
    ck_assert_int_eq(script_run(d, &t), HR_OK);
    ck_assert_int_eq(r.txns, 4);
    ck_assert_int_eq(r.changed, 1);
    /* The replaced version of 50000 is gone; spares keep their buffers. */
    script_free(&s);
    script_free(&t);
    hr_pgdecoder_reset(d, 1);
    hr_pgdecoder_free(d);
    hr_env_free(e);
    ck_assert_int_eq(fa.live_blocks, 0);
    ck_assert_int_gt(live_cached, 2000);
    rec_free(&r);
}
END_TEST

static void count_hook(rec *r, const hr_pgtxn *t)
{
    *(size_t *)r->hook_ctx = hr_pgtxn_changes(t);
    r->len = 0; /* keep the log small */
}

/* A PL/pgSQL loop with an EXCEPTION block: one subxact per row. */
START_TEST(thousands_of_subtransactions)
{
    rec r = {0};
    size_t changes = 0;
    r.hook = count_hook;
    r.hook_ctx = &changes;
    hr_pgdecoder *d = new_decoder(env, &r);
    script s = {0};
    rel_items(&s, 0);
    ck_assert_int_eq(script_run(d, &s), HR_OK);
    script_free(&s);
    const uint32_t top = 1000, subs = 40000;
    uint32_t sub = top + 1;
    for (int seg = 0; seg < 4; seg++) {
        script g = {0};
        g.lsn = 0x100000 * (uint64_t)(seg + 1);
        pg_stream_start(&g, top, seg == 0);
        for (uint32_t k = 0; k < subs / 4; k++, sub++) {
            insert_item(&g, sub, "r");
            if (k % 100 == 0)
                insert_item(&g, top, "top");
        }
        pg_stream_stop(&g);
        /* a subxact of this segment rolled back: it and the later ones go */
        pg_stream_abort(&g, top, sub - 10);
        ck_assert_int_eq(script_run(d, &g), HR_OK);
        script_free(&g);
    }
    script c = {0};
    c.lsn = 0x900000;
    pg_stream_commit(&c, top, 0x900000, 0x900100, 1);
    ck_assert_int_eq(script_run(d, &c), HR_OK);
    ck_assert_int_eq(r.txns, 1);
    ck_assert_uint_eq(changes, subs - 4 * 10 + 4 * 100);
    script_free(&c);
    hr_pgdecoder_free(d);
    rec_free(&r);
}
END_TEST

typedef struct reentry {
    hr_pgdecoder *d;
    int rc;
} reentry;

static void reentry_hook(rec *r, const hr_pgtxn *t)
{
    (void)t;
    reentry *x = r->hook_ctx;
    static const uint8_t stop[] = {'E'};
    x->rc = hr_pgdecoder_feed_message(x->d, 0, stop, 1);
}

START_TEST(feeding_from_a_callback_is_refused)
{
    rec r = {0};
    hr_pgdecoder *d = new_decoder(env, &r);
    reentry x = {d, 0};
    r.hook = reentry_hook;
    r.hook_ctx = &x;
    script s = {0};
    pg_begin(&s, 0x100, 1, 1);
    pg_commit(&s, 0x100, 0x200, 1);
    ck_assert_int_eq(script_run(d, &s), HR_OK);
    ck_assert_int_eq(x.rc, HR_ESTATE);
    ck_assert_int_eq(r.txns, 1);
    ck_assert_int_eq(script_run(d, &s), HR_OK); /* not a decoder failure */
    ck_assert_int_eq(r.txns, 2);
    script_free(&s);
    hr_pgdecoder_free(d);
    rec_free(&r);
}
END_TEST

/* ---- allocation failures ---- */

typedef struct sweep_state {
    script s;
    rec r;
    hr_pgdecoder *d;
} sweep_state;

/* Twelve streamed transactions open at once, ten subtransactions each. */
static void scenario_many_streams(script *s)
{
    for (uint32_t x = 4000; x < 4012; x++) {
        pg_stream_start(s, x, 1);
        rel_items(s, x);
        for (uint32_t sub = 1; sub <= 10; sub++)
            insert_item(s, x + sub * 100, "sub");
        pg_stream_stop(s);
    }
    pg_stream_abort(s, 4003, 4003 + 500);
    for (uint32_t x = 4000; x < 4012; x++)
        pg_stream_commit(s, x, 0x8000 + x, 0x9000 + x, 1);
}

static void sweep_script(script *s)
{
    scenario_rows(s);
    scenario_schema_change(s);
    scenario_misc(s);
    scenario_streams(s);
    for (uint32_t oid = 30000; oid < 30020; oid++)
        pg_relation(s, 0, oid, "s", "t", 'd', 4, items_cols);
    pg_begin(s, 0x7000, 1, 3000);
    for (int i = 0; i < 300; i++)
        insert_item(s, 0, "grow");
    pg_commit(s, 0x7000, 0x7100, 1);
    scenario_many_streams(s);
}

static int sweep_op(hr_env *e, void *state)
{
    sweep_state *st = state;
    hr_pgdecoder_callbacks cb = callbacks_of(&st->r);
    int rc = hr_pgdecoder_new(e, &cb, &st->d);
    if (rc != HR_OK)
        return rc;
    return script_run(st->d, &st->s);
}

static void sweep_cleanup(void *state)
{
    sweep_state *st = state;
    hr_pgdecoder_free(st->d);
    st->d = NULL;
    rec_free(&st->r);
}

START_TEST(every_allocation_failure_is_enomem)
{
    sweep_state st = {0};
    sweep_script(&st.s);
    char why[160] = "";
    long points =
        failing_allocator_sweep(sweep_op, sweep_cleanup, &st, why, sizeof why);
    ck_assert_msg(points > 100, "sweep: %ld (%s)", points, why);
    script_free(&st.s);
}
END_TEST

static Suite *pgoutput_suite(void)
{
    Suite *s = suite_create("pgoutput");
    TCase *tc = tcase_create("pgoutput");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, rows_of_every_form);
    tcase_add_test(tc, bare_messages_decode_alike);
    tcase_add_test(tc, relation_metadata_and_redefinition);
    tcase_add_test(tc, schema_change_mid_transaction);
    tcase_add_test(tc, origin_truncate_messages_keepalive);
    tcase_add_test(tc, streamed_transactions);
    tcase_add_test(tc, empty_transaction_and_type_messages);
    tcase_add_test(tc, accessors_check_every_index);
    tcase_add_test(tc, handle_arguments);
    tcase_add_loop_test(tc, malformed_and_out_of_sequence, 0,
                        (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_loop_test(tc, every_truncation_is_eproto, 0,
                        (int)(sizeof cut_cases / sizeof cut_cases[0]));
    tcase_add_test(tc, error_state_until_reset);
    tcase_add_test(tc, callback_status_stops_feed);
    tcase_add_test(tc, max_txn_bytes_is_elimit);
    tcase_add_test(tc, buffers_are_reused);
    tcase_add_test(tc, feeding_from_a_callback_is_refused);
    tcase_add_test(tc, many_relations_and_turns);
    tcase_add_test(tc, thousands_of_subtransactions);
    tcase_add_test(tc, every_allocation_failure_is_enomem);
    suite_add_tcase(s, tc);
    return s;
}

/* ------------------------------------------------------------------------ */
/* Seed corpus of fuzz_pgoutput                                              */
/* ------------------------------------------------------------------------ */

static int write_seed(const char *dir, const char *name, const script *s)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(s->b.p, 1, s->b.len, f) != s->b.len) {
        perror(path);
        if (f)
            fclose(f);
        return 1;
    }
    return fclose(f) != 0;
}

static int write_corpus(const char *dir)
{
    static const struct {
        const char *name;
        void (*build)(script *s);
        int bare;
    } seeds[] = {
        {"rows", scenario_rows, 0},
        {"rows-bare", scenario_rows, 1},
        {"schema-change", scenario_schema_change, 0},
        {"misc", scenario_misc, 0},
        {"streams", scenario_streams, 0},
        {"many-streams", scenario_many_streams, 0},
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        script s = {.bare = seeds[i].bare};
        seeds[i].build(&s);
        failed |= write_seed(dir, seeds[i].name, &s);
        script_free(&s);
    }
    return failed;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
        return write_corpus(argv[2]) ? EXIT_FAILURE : EXIT_SUCCESS;
    return run_suite(pgoutput_suite());
}
