/*
 * bench_pgoutput.c - rows/s of the pgoutput decoder on one core, alone and
 * with hr_pgtxn_to_batch turning every transaction into typed batches.
 *
 * Usage: bench-pgoutput [--quick] [--no-live | --live-only] [--capture FILE]...
 *
 *   --quick         shorter streams and timings (a smoke run, noisy)
 *   --capture FILE  also decode a stream recorded from a real server by
 *                   tests/integration/capture_pgoutput (dump format: each
 *                   CopyData payload as a 4-byte big-endian length + bytes)
 *   --no-live       skip the live figures; --live-only: only those
 *
 * The live figures need a source PostgreSQL 15 on this machine (its CPU is
 * read from /proc): HR_TEST_PG_SOURCE is its conninfo. ./scripts/bench
 * starts a throwaway one through tests/support/with-servers with the
 * options of these lines (autovacuum off: it would land in a CPU figure):
 *
 * bench-servers: --pg source --pg-conf autovacuum=off
 * bench-servers: --pg-conf max_replication_slots=128
 * bench-servers: --pg-conf max_wal_senders=32
 *
 * Without HR_TEST_PG_SOURCE they are skipped (a note on stderr).
 *
 * Prints one `name value unit` line per figure on stdout:
 *
 *   pgoutput.decode.txn1000.rows_s        decoder only, 1000-row transactions
 *   pgoutput.decode.txn10.rows_s          decoder only, 10-row transactions
 *   pgoutput.decode_batch.txn1000.rows_s  decoder + hr_pgtxn_to_batch
 *   pgoutput.decode_batch.txn10.rows_s
 *   ....binary.*                          the same in binary mode (the
 *                                         publication's binary 'true')
 *   ....mb_s                              MB/s (10^6) of CopyData payload
 *   ....capture.rows_s                    for --capture (label: the file's
 *                                         base name)
 *   pgoutput.live.rows_s                  a dedicated hr_stream draining a
 *                                         backlog of 1M rows (--quick: 100k)
 *                                         from the live server, confirming
 *                                         every transaction (+ .client_cpu_s,
 *                                         .src_cpu_s: the server's CPU)
 *   pgoutput.tenants100.shared_src_cpu_s  the source's CPU seconds to send
 *   pgoutput.tenants100.dedicated_src_cpu_s  100 tenants x 1000 rows (--quick:
 *                                         100) through one shared slot, and
 *                                         through 100 dedicated slots (+ the
 *                                         ratio and wall times); method in
 *                                         pgscale.c
 *
 * The stream is made here, byte for byte as PostgreSQL 15's walsender sends
 * it (each pgoutput message in its own XLogData CopyData payload: Relation
 * once, then Begin, Insert..., Commit per transaction), of a realistic
 * 10-column table - the `orders` table of capture_pgoutput's bench workload:
 *
 *   id int8, tenant_id int4, created_at timestamptz, amount numeric(12,2),
 *   quantity int4, unit_price float8, status text, sku varchar(32),
 *   paid bool, note text (NULL in 1 row of 5)
 *
 * about 130 bytes of payload per row in text mode. 200,000 rows per stream
 * (--quick: 20,000). Method: one untimed pass, then passes over the whole
 * stream until 1 s has gone (--quick: 0.2 s), the decoder reset (relations
 * dropped) before each pass; rows/s = rows delivered through on_txn per
 * second of CLOCK_MONOTONIC. "decode" counts hr_pgtxn_changes; "decode_batch"
 * converts every run of changes with hr_pgtxn_to_batch into one reused batch
 * (every value parsed into its typed form) and counts the batch rows.
 * stderr notes a figure whose wall time exceeds its thread CPU time by more
 * than 10% (another process took the core): such a figure is understated;
 * the note gives rows per second of the thread's CPU time too.
 *
 * Exit status 0; 1 when a decoder or conversion call fails; 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <heliosrepl/heliosrepl.h>
#include <heliosrepl/pgoutput.h>

#include "pglive.h"
#include "pgtext.h"
#include "support.h"

#define REL_OID 16384u
#define PG_2024_US INT64_C(757382400000000) /* 2024-01-01 00:00 UTC */

/* ---- the stream -------------------------------------------------------- */

typedef struct stream {
    bench_buf bytes;
    size_t *off; /* payload i is bytes.data[off[i] .. off[i + 1]) */
    size_t n, cap;
    size_t rows;
} stream;

static void stream_end_payload(stream *s)
{
    if (s->n + 2 > s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        s->off = bench_xrealloc(s->off, s->cap * sizeof *s->off);
    }
    if (s->n == 0)
        s->off[0] = 0;
    s->off[++s->n] = s->bytes.len;
}

static void put_be64(bench_buf *b, uint64_t v)
{
    bench_buf_put_be32(b, (uint32_t)(v >> 32));
    bench_buf_put_be32(b, (uint32_t)v);
}

static void put_cstr(bench_buf *b, const char *s)
{
    bench_buf_put(b, s, strlen(s) + 1);
}

/* An XLogData header for a message at `lsn`. */
static void xlogdata(stream *s, uint64_t lsn)
{
    bench_buf_put_u8(&s->bytes, 'w');
    put_be64(&s->bytes, lsn);
    put_be64(&s->bytes, lsn + 64);
    put_be64(&s->bytes, (uint64_t)PG_2024_US);
}

static const struct {
    const char *name;
    uint32_t oid;
    int32_t typmod;
} orders_cols[10] = {
    {"id", HR_OID_INT8, -1},
    {"tenant_id", HR_OID_INT4, -1},
    {"created_at", HR_OID_TIMESTAMPTZ, -1},
    {"amount", HR_OID_NUMERIC, (12 << 16 | 2) + 4},
    {"quantity", HR_OID_INT4, -1},
    {"unit_price", HR_OID_FLOAT8, -1},
    {"status", HR_OID_TEXT, -1},
    {"sku", HR_OID_VARCHAR, 32 + 4},
    {"paid", HR_OID_BOOL, -1},
    {"note", HR_OID_TEXT, -1},
};

static void relation_msg(stream *s, uint64_t lsn)
{
    xlogdata(s, lsn);
    bench_buf *b = &s->bytes;
    bench_buf_put_u8(b, 'R');
    bench_buf_put_be32(b, REL_OID);
    put_cstr(b, "public");
    put_cstr(b, "orders");
    bench_buf_put_u8(b, 'd');
    bench_buf_put_be16(b, 10);
    for (int k = 0; k < 10; k++) {
        bench_buf_put_u8(b, k == 0); /* flags: part of the key */
        put_cstr(b, orders_cols[k].name);
        bench_buf_put_be32(b, orders_cols[k].oid);
        bench_buf_put_be32(b, (uint32_t)orders_cols[k].typmod);
    }
    stream_end_payload(s);
}

static void put_value(bench_buf *b, int binary, const void *p, size_t n)
{
    bench_buf_put_u8(b, binary ? 'b' : 't');
    bench_buf_put_be32(b, (uint32_t)n);
    bench_buf_put(b, p, n);
}

/* NUMERIC's send form of cents / 100 with dscale 2 (cents >= 0). */
static size_t numeric_send_cents(uint8_t *out, int64_t cents)
{
    uint16_t digits[8];
    int nd = 0;
    int64_t ip = cents / 100;
    const int frac = (int)(cents % 100) * 100;
    uint16_t intd[6];
    int ni = 0;
    while (ip > 0) {
        intd[ni++] = (uint16_t)(ip % 10000);
        ip /= 10000;
    }
    for (int k = ni - 1; k >= 0; k--)
        digits[nd++] = intd[k];
    int weight = ni - 1;
    if (frac)
        digits[nd++] = (uint16_t)frac;
    while (nd > 0 && digits[nd - 1] == 0) /* make_result strips these */
        nd--;
    int lead = 0;
    while (lead < nd && digits[lead] == 0) {
        lead++;
        weight--;
    }
    if (nd == lead)
        weight = 0;
    const int count = nd - lead;
    const uint16_t head[4] = {(uint16_t)count, (uint16_t)weight, 0, 2};
    size_t o = 0;
    for (int k = 0; k < 4; k++) {
        out[o++] = (uint8_t)(head[k] >> 8);
        out[o++] = (uint8_t)head[k];
    }
    for (int k = lead; k < nd; k++) {
        out[o++] = (uint8_t)(digits[k] >> 8);
        out[o++] = (uint8_t)digits[k];
    }
    return o;
}

static void be_bytes(uint8_t *out, uint64_t v, int n)
{
    for (int k = 0; k < n; k++)
        out[k] = (uint8_t)(v >> (8 * (n - 1 - k)));
}

static const char *const statuses[] = {"new", "paid", "shipped", "cancelled"};

static void insert_msg(stream *s, uint64_t lsn, int64_t g, int binary,
                       bench_rng *rng)
{
    xlogdata(s, lsn);
    bench_buf *b = &s->bytes;
    char text[64];
    uint8_t raw[32];
    int n;
    bench_buf_put_u8(b, 'I');
    bench_buf_put_be32(b, REL_OID);
    bench_buf_put_u8(b, 'N');
    bench_buf_put_be16(b, 10);
    /* id, tenant_id */
    if (binary) {
        be_bytes(raw, (uint64_t)g, 8);
        put_value(b, 1, raw, 8);
        be_bytes(raw, (uint64_t)(1 + g % 100), 4);
        put_value(b, 1, raw, 4);
    } else {
        n = snprintf(text, sizeof text, "%lld", (long long)g);
        put_value(b, 0, text, (size_t)n);
        n = snprintf(text, sizeof text, "%lld", (long long)(1 + g % 100));
        put_value(b, 0, text, (size_t)n);
    }
    /* created_at: a second and a bit apart */
    const int64_t ts = PG_2024_US + g * 1234567;
    if (binary) {
        be_bytes(raw, (uint64_t)ts, 8);
        put_value(b, 1, raw, 8);
    } else {
        n = pgtext_timestamp(text, sizeof text, ts, 1);
        put_value(b, 0, text, (size_t)n);
    }
    /* amount numeric(12,2) */
    const int64_t cents = bench_rng_range(rng, 0, 1000000);
    if (binary) {
        put_value(b, 1, raw, numeric_send_cents(raw, cents));
    } else {
        n = snprintf(text, sizeof text, "%lld.%02lld", (long long)(cents / 100),
                     (long long)(cents % 100));
        put_value(b, 0, text, (size_t)n);
    }
    /* quantity */
    if (binary) {
        be_bytes(raw, (uint64_t)(1 + g % 20), 4);
        put_value(b, 1, raw, 4);
    } else {
        n = snprintf(text, sizeof text, "%lld", (long long)(1 + g % 20));
        put_value(b, 0, text, (size_t)n);
    }
    /* unit_price float8: prices with two decimals */
    const double price = (double)bench_rng_range(rng, 0, 50000) / 100.0;
    if (binary) {
        uint64_t bits;
        memcpy(&bits, &price, 8);
        be_bytes(raw, bits, 8);
        put_value(b, 1, raw, 8);
    } else {
        n = pgtext_float8(text, sizeof text, price);
        put_value(b, 0, text, (size_t)n);
    }
    /* status, sku: text in both modes (textsend is the bytes) */
    const char *st = statuses[g % 4];
    put_value(b, binary, st, strlen(st));
    n = snprintf(text, sizeof text, "SKU-%06lld", (long long)(g % 100000));
    put_value(b, binary, text, (size_t)n);
    /* paid */
    if (binary) {
        raw[0] = g % 3 != 0;
        put_value(b, 1, raw, 1);
    } else {
        put_value(b, 0, g % 3 != 0 ? "t" : "f", 1);
    }
    /* note */
    if (g % 5 == 0) {
        bench_buf_put_u8(b, 'n');
    } else {
        n = snprintf(text, sizeof text, "order note %lld", (long long)g);
        put_value(b, binary, text, (size_t)n);
    }
    stream_end_payload(s);
}

/* `rows` rows in transactions of `txn_rows`, as one walsender session. */
static void make_stream(stream *s, size_t rows, size_t txn_rows, int binary)
{
    memset(s, 0, sizeof *s);
    bench_rng rng = {0x5eed};
    uint64_t lsn = 0x1000000;
    uint32_t xid = 1000;
    relation_msg(s, lsn);
    for (size_t first = 0; first < rows; first += txn_rows) {
        const size_t n = rows - first < txn_rows ? rows - first : txn_rows;
        const uint64_t commit_lsn = lsn + 200 * (n + 2);
        const int64_t commit_time = PG_2024_US + (int64_t)first * 1000;
        xlogdata(s, lsn);
        bench_buf_put_u8(&s->bytes, 'B');
        put_be64(&s->bytes, commit_lsn);
        put_be64(&s->bytes, (uint64_t)commit_time);
        bench_buf_put_be32(&s->bytes, xid);
        stream_end_payload(s);
        for (size_t r = 0; r < n; r++) {
            lsn += 200;
            insert_msg(s, lsn, (int64_t)(first + r + 1), binary, &rng);
        }
        xlogdata(s, commit_lsn);
        bench_buf_put_u8(&s->bytes, 'C');
        bench_buf_put_u8(&s->bytes, 0);
        put_be64(&s->bytes, commit_lsn);
        put_be64(&s->bytes, commit_lsn + 48);
        put_be64(&s->bytes, (uint64_t)commit_time);
        stream_end_payload(s);
        lsn = commit_lsn + 200;
        xid++;
    }
    s->rows = rows;
}

static void load_capture(stream *s, const char *path)
{
    memset(s, 0, sizeof *s);
    FILE *f = fopen(path, "rb");
    if (!f)
        bench_die("cannot open", path);
    uint8_t head[4];
    while (fread(head, 1, 4, f) == 4) {
        const size_t n = (size_t)head[0] << 24 | (size_t)head[1] << 16 |
                         (size_t)head[2] << 8 | head[3];
        bench_buf_reserve(&s->bytes, n);
        if (fread(s->bytes.data + s->bytes.len, 1, n, f) != n)
            bench_die("truncated capture", path);
        s->bytes.len += n;
        stream_end_payload(s);
    }
    fclose(f);
    if (s->n == 0)
        bench_die("empty capture", path);
}

/* ---- decoding ---------------------------------------------------------- */

typedef struct sink {
    hr_batch *batch; /* NULL: decode only */
    size_t rows;
    int rc;
} sink;

static int on_txn(void *ctx, const hr_pgtxn *txn)
{
    sink *k = ctx;
    const size_t n = hr_pgtxn_changes(txn);
    if (!k->batch) {
        for (size_t i = 0; i < n; i++) {
            const int kind = hr_pgtxn_change_kind(txn, i);
            k->rows += kind >= HR_PGCHANGE_INSERT && kind <= HR_PGCHANGE_DELETE;
        }
        return HR_OK;
    }
    for (size_t i = 0; i < n;) {
        const int kind = hr_pgtxn_change_kind(txn, i);
        if (kind < HR_PGCHANGE_INSERT || kind > HR_PGCHANGE_DELETE) {
            i++;
            continue;
        }
        size_t next;
        const int rc = hr_pgtxn_to_batch(txn, i, k->batch, &next);
        if (rc != HR_OK) {
            fprintf(stderr, "bench-pgoutput: hr_pgtxn_to_batch: %s\n",
                    hr_batch_errmsg(k->batch));
            k->rc = rc;
            return rc;
        }
        k->rows += hr_batch_rows(k->batch);
        i = next;
    }
    return HR_OK;
}

/* One pass over the stream; returns the rows delivered. */
static size_t pass(hr_pgdecoder *dec, sink *k, const stream *s)
{
    hr_pgdecoder_reset(dec, 0);
    k->rows = 0;
    for (size_t i = 0; i < s->n; i++) {
        const int rc = hr_pgdecoder_feed(dec, s->bytes.data + s->off[i],
                                         s->off[i + 1] - s->off[i]);
        if (rc != HR_OK) {
            fprintf(stderr, "bench-pgoutput: payload %zu: %s: %s\n", i,
                    hr_strerror(rc), hr_pgdecoder_errmsg(dec));
            exit(1);
        }
    }
    return k->rows;
}

static void measure(const char *label, const stream *s, int with_batch,
                    double min_s)
{
    hr_env *env;
    bench_check(hr_env_new(&env, NULL), "hr_env_new");
    sink k = {NULL, 0, HR_OK};
    if (with_batch)
        bench_check(hr_batch_new(env, &k.batch), "hr_batch_new");
    const hr_pgdecoder_callbacks cb = {
        HR_PGDECODER_CALLBACKS_VERSION, &k, on_txn, NULL, NULL, NULL};
    hr_pgdecoder *dec;
    bench_check(hr_pgdecoder_new(env, &cb, &dec), "hr_pgdecoder_new");
    const size_t per_pass = pass(dec, &k, s); /* warm-up */
    if (per_pass == 0)
        bench_die("no rows decoded in", label);
    size_t rows = 0, passes = 0;
    const double t0 = bench_now_s(), c0 = bench_cpu_s();
    double t1;
    do {
        rows += pass(dec, &k, s);
        passes++;
        t1 = bench_now_s();
    } while (t1 - t0 < min_s);
    const double cpu = bench_cpu_s() - c0, wall = t1 - t0;
    if (wall > cpu * 1.1)
        fprintf(stderr,
                "bench-pgoutput: %s: wall %.3f s > cpu %.3f s: the core "
                "was shared, the figure is understated (%.0f rows per CPU "
                "second)\n",
                label, wall, cpu, (double)rows / cpu);
    printf("pgoutput.%s.rows_s %.0f rows/s\n", label, (double)rows / wall);
    printf("pgoutput.%s.mb_s %.1f MB/s\n", label,
           (double)s->bytes.len * (double)passes / wall / 1e6);
    fflush(stdout);
    hr_pgdecoder_free(dec);
    hr_batch_free(k.batch);
    hr_env_free(env);
}

static void run_live(int quick)
{
    const char *ci = getenv("HR_TEST_PG_SOURCE");
    if (!ci || !*ci) {
        fprintf(stderr, "bench-pgoutput: HR_TEST_PG_SOURCE is not set: live "
                        "figures skipped (./scripts/bench pgoutput starts a "
                        "server for them)\n");
        return;
    }
    fflush(stdout);
    hr_env *env;
    bench_check(hr_env_new(&env, NULL), "hr_env_new");
    pglive_rows(env, ci, quick ? 100000 : 1000000);
    pglive_tenants(env, ci, 100, quick ? 100 : 1000);
    hr_env_free(env);
}

static void free_stream(stream *s)
{
    free(s->bytes.data);
    free(s->off);
}

int main(int argc, char **argv)
{
    bench_set_progname("bench-pgoutput");
    int quick = 0, decode = 1, live = 1;
    const char *captures[16];
    int ncaptures = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
        } else if (strcmp(argv[i], "--no-live") == 0) {
            live = 0;
        } else if (strcmp(argv[i], "--live-only") == 0) {
            decode = 0;
        } else if (strcmp(argv[i], "--capture") == 0 && i + 1 < argc &&
                   ncaptures < 16) {
            captures[ncaptures++] = argv[++i];
        } else {
            fprintf(stderr, "usage: bench-pgoutput [--quick] [--no-live | "
                            "--live-only] [--capture FILE]...\n");
            return 2;
        }
    }
    const size_t rows = quick ? 20000 : 200000;
    const double min_s = quick ? 0.2 : 1.0;
    static const size_t txn_sizes[] = {1000, 10};
    for (int binary = 0; binary <= 1 && decode; binary++) {
        for (int t = 0; t < 2; t++) {
            stream s;
            make_stream(&s, rows, txn_sizes[t], binary);
            fprintf(stderr,
                    "bench-pgoutput: %s stream, %zu-row transactions: %zu "
                    "payloads, %.1f bytes per row\n",
                    binary ? "binary" : "text", txn_sizes[t], s.n,
                    (double)s.bytes.len / (double)rows);
            for (int with_batch = 0; with_batch <= 1; with_batch++) {
                char label[96];
                snprintf(label, sizeof label, "%s.%stxn%zu",
                         with_batch ? "decode_batch" : "decode",
                         binary ? "binary." : "", txn_sizes[t]);
                measure(label, &s, with_batch, min_s);
            }
            free_stream(&s);
        }
    }
    for (int c = 0; c < ncaptures; c++) {
        stream s;
        load_capture(&s, captures[c]);
        const char *base = strrchr(captures[c], '/');
        base = base ? base + 1 : captures[c];
        char name[64];
        snprintf(name, sizeof name, "%s", base);
        for (char *p = name; *p; p++)
            if (*p == '.' || *p == ' ')
                *p = '_';
        for (int with_batch = 0; with_batch <= 1; with_batch++) {
            char label[128];
            snprintf(label, sizeof label, "%s.capture.%s",
                     with_batch ? "decode_batch" : "decode", name);
            measure(label, &s, with_batch, min_s);
        }
        free_stream(&s);
    }
    if (live)
        run_live(quick);
    return 0;
}
