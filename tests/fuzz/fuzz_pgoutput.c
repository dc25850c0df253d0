/*
 * fuzz_pgoutput.c - libFuzzer target for hr_pgdecoder_feed and
 * hr_pgdecoder_feed_message: everything a replication connection can send.
 *
 * The input is a run of records, each a 2-byte big-endian length and a
 * payload: a CopyData payload (XLogData / keepalive), or with the length's
 * top bit set a bare pgoutput message for feed_message. After a decoder error
 * the target resets, as a host does after reconnecting. on_txn walks every
 * accessor of every change, and indices just past the ends, so ASan checks
 * the accessors' bounds; some callbacks fail on purpose, to fuzz the path
 * where the decoder stays usable after a callback's status.
 * Seeds (tests/fuzz/corpus/pgoutput) come from `test_pgoutput
 * --write-corpus DIR`: the unit tests' scenarios.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <heliosrepl/heliosrepl.h>
#include <heliosrepl/pgoutput.h>

static hr_env *env;
static hr_pgdecoder *decoder;
static volatile unsigned sink;

static void touch(const void *p, size_t n)
{
    const uint8_t *b = p;
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += b[i];
    sink += sum;
}

static void walk_relation(const hr_pgrelation *rel)
{
    if (!rel)
        abort();
    touch(hr_pgrelation_schema(rel), strlen(hr_pgrelation_schema(rel)));
    touch(hr_pgrelation_name(rel), strlen(hr_pgrelation_name(rel)));
    char ri = hr_pgrelation_replica_identity(rel);
    if (ri != 'd' && ri != 'n' && ri != 'f' && ri != 'i')
        abort();
    const int n = hr_pgrelation_columns(rel);
    for (int c = -1; c <= n; c++) {
        const char *name = hr_pgrelation_column_name(rel, c);
        if ((name != NULL) != (c >= 0 && c < n))
            abort();
        if (name)
            touch(name, strlen(name));
        sink += hr_pgrelation_column_type(rel, c) +
                (unsigned)hr_pgrelation_column_typmod(rel, c) +
                (unsigned)hr_pgrelation_column_is_key(rel, c);
    }
}

static void walk_tuple(const hr_pgtxn *t, size_t i, hr_pgtuple which, int ncols)
{
    for (int c = -1; c <= ncols; c++) {
        const uint8_t *p = NULL;
        size_t n = 0;
        int form = hr_pgtxn_change_value(t, i, which, c, &p, &n);
        if (c < 0 || c == ncols) {
            if (form != HR_EINVAL)
                abort();
            continue;
        }
        switch (form) {
        case HR_PGVALUE_TEXT:
        case HR_PGVALUE_BINARY:
            if (!p)
                abort();
            touch(p, n);
            break;
        case HR_PGVALUE_NULL:
        case HR_PGVALUE_UNCHANGED_TOAST:
            if (p || n)
                abort();
            break;
        default:
            abort();
        }
    }
}

static int on_txn(void *ctx, const hr_pgtxn *t)
{
    (void)ctx;
    const size_t changes = hr_pgtxn_changes(t);
    if (hr_pgtxn_origin(t))
        touch(hr_pgtxn_origin(t), strlen(hr_pgtxn_origin(t)));
    sink +=
        (unsigned)(hr_pgtxn_commit_lsn(t) + hr_pgtxn_end_lsn(t) +
                   (uint64_t)hr_pgtxn_commit_time(t) + hr_pgtxn_origin_lsn(t)) +
        (unsigned)hr_pgtxn_streamed(t);
    for (size_t i = 0; i <= changes; i++) {
        const int kind = hr_pgtxn_change_kind(t, i);
        const hr_pgrelation *rel = hr_pgtxn_change_relation(t, i);
        const int old = hr_pgtxn_change_old_form(t, i);
        size_t nrel = 0;
        int options = 0;
        const int is_truncate =
            hr_pgtxn_change_truncate(t, i, &nrel, &options) == HR_OK;
        const char *prefix = NULL;
        const uint8_t *content = NULL;
        size_t content_len = 0;
        const int is_message = hr_pgtxn_change_message(t, i, &prefix, &content,
                                                       &content_len) == HR_OK;
        if (i == changes) {
            if (kind != HR_EINVAL || rel || old != HR_EINVAL || is_truncate ||
                is_message)
                abort();
            break;
        }
        switch (kind) {
        case HR_PGCHANGE_INSERT:
        case HR_PGCHANGE_UPDATE:
        case HR_PGCHANGE_DELETE: {
            walk_relation(rel);
            const int ncols = hr_pgrelation_columns(rel);
            if (kind != HR_PGCHANGE_DELETE)
                walk_tuple(t, i, HR_PGTUPLE_NEW, ncols);
            if (old == 'K' || old == 'O')
                walk_tuple(t, i, HR_PGTUPLE_OLD, ncols);
            else if (old != 0 || kind == HR_PGCHANGE_DELETE)
                abort();
            break;
        }
        case HR_PGCHANGE_TRUNCATE:
            if (!is_truncate || rel || (options & ~3))
                abort();
            for (size_t k = 0; k <= nrel; k++)
                if ((hr_pgtxn_change_truncate_oid(t, i, k) == 0) != (k == nrel))
                    abort();
            break;
        case HR_PGCHANGE_MESSAGE:
            if (!is_message || !prefix || !content)
                abort();
            touch(prefix, strlen(prefix));
            touch(content, content_len);
            break;
        default:
            abort();
        }
    }
    /* Fail now and then: the decoder must stay usable afterwards. */
    return hr_pgtxn_xid(t) % 13 == 7 ? HR_EIO : HR_OK;
}

static int on_relation(void *ctx, const hr_pgrelation *rel, int changed)
{
    (void)ctx;
    walk_relation(rel);
    return changed && hr_pgrelation_oid(rel) % 11 == 5 ? HR_ECONFLICT : HR_OK;
}

static int on_keepalive(void *ctx, uint64_t wal_end, int64_t time, int reply)
{
    (void)ctx;
    if (reply != 0 && reply != 1)
        abort();
    sink += (unsigned)(wal_end + (uint64_t)time);
    return HR_OK;
}

static int on_message(void *ctx, uint64_t lsn, const char *prefix,
                      const uint8_t *content, size_t n)
{
    (void)ctx;
    (void)lsn;
    touch(prefix, strlen(prefix));
    touch(content, n);
    return HR_OK;
}

static void init_once(void)
{
    static const hr_pgdecoder_callbacks cb = {HR_PGDECODER_CALLBACKS_VERSION,
                                              NULL,
                                              on_txn,
                                              on_relation,
                                              on_keepalive,
                                              on_message};
    if (decoder)
        return;
    if (hr_env_new(&env, NULL) != HR_OK ||
        hr_pgdecoder_new(env, &cb, &decoder) != HR_OK ||
        hr_pgdecoder_set_param(decoder, HR_PGDECODER_PARAM_MAX_TXN_BYTES,
                               1 << 20) != HR_OK)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    hr_pgdecoder_reset(decoder, 0);
    size_t pos = 0;
    uint64_t record = 0;
    while (size - pos >= 2) {
        size_t len = (size_t)data[pos] << 8 | data[pos + 1];
        const int bare = (len & 0x8000) != 0;
        len &= 0x7fff;
        pos += 2;
        if (len > size - pos)
            len = size - pos;
        /* A copy of exactly the payload, so ASan catches any overread. */
        uint8_t *payload = malloc(len ? len : 1);
        if (!payload)
            abort();
        memcpy(payload, data + pos, len);
        pos += len;
        int rc =
            bare ? hr_pgdecoder_feed_message(decoder, ++record, payload, len)
                 : hr_pgdecoder_feed(decoder, payload, len);
        free(payload);
        switch (rc) {
        case HR_OK:
        case HR_EIO:       /* on_txn's own status */
        case HR_ECONFLICT: /* on_relation's */
            break;
        case HR_EPROTO:
            if (strncmp(hr_pgdecoder_errmsg(decoder), "offset ", 7) != 0)
                abort();
            /* fall through */
        case HR_ELIMIT:
            if (hr_pgdecoder_feed(decoder, (const uint8_t *)"k", 1) !=
                HR_ESTATE)
                abort();
            hr_pgdecoder_reset(decoder, record & 1);
            break;
        default:
            abort();
        }
    }
    return 0;
}
