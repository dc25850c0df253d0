/*
 * bench_codec.c - compression ratio and speed of the batch codec against
 * pgoutput-style row-wise text compressed with zstd / snappy.
 *
 * Usage: bench-codec [--quick] [--breakdown] [--rows N] [DATA[,DATA...]]...
 *
 *   DATA         run only these data sets (int_seq ts_regular ts_jitter
 *                str_lowcard str_uniform20 float_dec json text mixed);
 *                default all. codec_data.h describes each, with the
 *                entropy of the two text columns: str_lowcard, an order
 *                status of 8 values with skewed shares (delivered 46% ...
 *                on_hold 3%), 2.35 bits per row; str_uniform20, 20
 *                countries uniform, log2(20) = 4.32 bits per row
 *   --quick      a short stream and short timings (a smoke run, noisy)
 *   --rows N     only batches of N rows (1024 or 64)
 *   --breakdown  also encode each column of multi-column data sets as its
 *                own single-column stream and print per-column figures
 *
 * Prints one `name value unit` line per figure on stdout (progress on
 * stderr). Exit status 0; 1 when a frame does not decode to its input (or
 * a codec call fails); 2 on bad usage.
 *
 * Method, per data set DATA and batch size ROWS (1024, 64):
 *
 *  - A stream of batches from one deterministic generator that continues
 *    from batch to batch (ids keep counting, clocks keep running): 200
 *    batches of 1024 rows, or 3200 batches of 64 rows (the same 204800
 *    rows, so the codec's per-table dictionaries - trained after
 *    HR_CODEC_PARAM_DICT_MIN_BYTES (256 KiB) of a column's values - are
 *    reached at the same point of the stream). --quick: 40 / 640 batches.
 *  - One encoder codec and one decoder codec per stream, default
 *    parameters, no encryption. Every frame is decoded in stream order and
 *    compared with its input (hr_batch_equal).
 *  - Warm-up: the first 25% of the batches are encoded and decoded but left
 *    out of every size figure, so the sizes are the steady state of a
 *    long-running stream (a frame that ships a newly trained dictionary
 *    after the warm-up is counted, dictionary included).
 *  - Baseline: each batch serialized row-wise as pgoutput tuple data in text
 *    form (per row 'N', int16 column count, per column 't' + int32 length +
 *    the PostgreSQL text output of the value, or 'n' for NULL / 'u' for
 *    unchanged TOAST), compressed per batch with zstd -1, -3, -19 and snappy
 *    (no dictionary, one frame per batch). zstd -19 (about 2 MB/s) runs on
 *    every 3rd steady-state batch only, compared with our frames of the same
 *    batches.
 *  - ratio_raw = sum of hr_batch_raw_size / sum of frame sizes;
 *    ratio_vs_X = sum of X-compressed row-wise sizes / sum of frame sizes
 *    (> 1: our frames are smaller); frame_bytes, raw_bytes, rowwise_bytes:
 *    means per batch. stderr tells in which batches frames carried a newly
 *    trained dictionary (hr_frame_inspect, HR_FRAME_FLAG_HAS_DICT).
 *  - Speeds: MB/s (10^6 bytes) of RAW bytes (hr_batch_raw_size) per second
 *    of one core, CLOCK_MONOTONIC, over the last steady-state batches of the
 *    stream (up to 32768 rows), repeated for at least 0.2 s (--quick:
 *    0.05 s) after one untimed pass. encode = hr_codec_encode on the warmed
 *    encoder; decode = hr_codec_decode into one reused batch;
 *    zstd3_encode / zstd3_decode = ZSTD_compressCCtx level 3 /
 *    ZSTD_decompressDCtx of the row-wise text (serialization not timed).
 *    stderr notes a figure whose wall time exceeds its thread CPU time by
 *    more than 10% (a busy machine): such a figure is understated, and the
 *    note gives MB/s of the thread's CPU time too (closer, still low: a
 *    shared core's caches are shared too).
 *  - --breakdown (multi-column data sets): codec.DATA.ROWS.col.NAME.* per
 *    column, from a separate stream of single-column batches (same relation
 *    and column name, own codecs): raw_bytes, frame_bytes, value_bytes (the
 *    frame less a 0-row frame of that column: what the values cost),
 *    zstd3_bytes (the column alone as row-wise tuples, zstd -3), ratio_raw
 *    (raw / value bytes). Means per batch, steady state.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>
#include <zstd.h>

#include <heliosrepl/heliosrepl.h>

#include "codec_data.h"
#include "pgtext.h"
#include "support.h"

#define TENANT "tenant-0042"
#define MAX_COLS CODEC_DATA_MAX_COLS
#define FULL_BATCHES_1024 200
#define QUICK_BATCHES_1024 40
#define TIMING_ROWS 32768
#define FULL_MIN_TIME 0.2
#define QUICK_MIN_TIME 0.05
#define ZSTD19_EVERY 3 /* zstd -19 runs at ~2 MB/s: every 3rd batch */

/* ------------------------------------------------------------------------ */
/* Baseline compressors                                                      */
/* ------------------------------------------------------------------------ */

typedef struct baseline {
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
    bench_buf out;
} baseline;

static size_t zstd_size(baseline *bl, const bench_buf *in, int level)
{
    const size_t bound = ZSTD_compressBound(in->len);
    bl->out.len = 0;
    bench_buf_reserve(&bl->out, bound);
    const size_t n = ZSTD_compressCCtx(bl->cctx, bl->out.data, bound, in->data,
                                       in->len, level);
    if (ZSTD_isError(n))
        bench_die("zstd", ZSTD_getErrorName(n));
    return n;
}

static size_t snappy_size(baseline *bl, const bench_buf *in)
{
    size_t n = snappy_max_compressed_length(in->len);
    bl->out.len = 0;
    bench_buf_reserve(&bl->out, n);
    if (snappy_compress((const char *)in->data, in->len, (char *)bl->out.data,
                        &n) != SNAPPY_OK)
        bench_die("snappy", "compression failed");
    return n;
}

/* ------------------------------------------------------------------------ */
/* One stream                                                                */
/* ------------------------------------------------------------------------ */

typedef struct options {
    int quick;
    int breakdown;
    size_t only_rows; /* 0: all */
    double min_time;
    const char *filters[32];
    int nfilters;
} options;

/* Sums over the steady-state part of a stream. */
typedef struct totals {
    size_t batches;
    double raw, frame, rowwise, zstd1, zstd3, zstd19, snappy;
    double frame_z19; /* our frames of the batches zstd -19 was run on */
} totals;

/* What the timing passes reuse: the last steady-state batches. */
typedef struct window {
    size_t cap, n, next; /* ring of the last `cap` steady-state batches */
    hr_batch **batches;
    bench_buf *frames;
    bench_buf *rowwise;
    size_t *raw;
} window;

static void window_init(window *w, size_t cap)
{
    memset(w, 0, sizeof *w);
    w->cap = cap;
    w->batches = calloc(cap, sizeof *w->batches);
    w->frames = calloc(cap, sizeof *w->frames);
    w->rowwise = calloc(cap, sizeof *w->rowwise);
    w->raw = calloc(cap, sizeof *w->raw);
    if (!w->batches || !w->frames || !w->rowwise || !w->raw)
        bench_die("out of memory", NULL);
}

static void window_free(window *w)
{
    for (size_t i = 0; i < w->cap; i++) {
        hr_batch_free(w->batches[i]);
        free(w->frames[i].data);
        free(w->rowwise[i].data);
    }
    free(w->batches);
    free(w->frames);
    free(w->rowwise);
    free(w->raw);
}

/* Keep `b` (taken over) with its frame and row-wise form. */
static void window_push(window *w, hr_batch *b, const uint8_t *frame,
                        size_t frame_len, const bench_buf *rowwise, size_t raw)
{
    const size_t i = w->next;
    hr_batch_free(w->batches[i]);
    w->batches[i] = b;
    w->frames[i].len = 0;
    bench_buf_put(&w->frames[i], frame, frame_len);
    w->rowwise[i].len = 0;
    bench_buf_put(&w->rowwise[i], rowwise->data, rowwise->len);
    w->raw[i] = raw;
    w->next = (i + 1) % w->cap;
    if (w->n < w->cap)
        w->n++;
}

static void print_line(const char *ds, size_t rows, const char *figure,
                       double value, const char *unit, int decimals)
{
    printf("codec.%s.%zu.%s %.*f %s\n", ds, rows, figure, decimals, value,
           unit);
    fflush(stdout);
}

static volatile size_t sink;

typedef enum timed_op { OP_ENCODE, OP_DECODE, OP_ZSTD3_C, OP_ZSTD3_D } timed_op;

static const char *const op_names[] = {
    "encode_mb_s", "decode_mb_s", "zstd3_encode_mb_s", "zstd3_decode_mb_s"};

/* MB/s of raw bytes of the window's batches through `op` (wall clock). */
static double time_op(timed_op op, window *w, hr_codec *enc, hr_codec *dec,
                      hr_batch *out, baseline *bl, double min_time,
                      const char *ds_name, size_t rows)
{
    size_t max_rowwise = 0;
    for (size_t i = 0; i < w->n; i++)
        if (w->rowwise[i].len > max_rowwise)
            max_rowwise = w->rowwise[i].len;
    bench_buf tmp = {0};
    bench_buf_reserve(&tmp, ZSTD_compressBound(max_rowwise) + 64);
    /* zstd -3 frames of the row-wise text, for the decode timing. */
    bench_buf *zframes = NULL;
    if (op == OP_ZSTD3_D) {
        zframes = calloc(w->n, sizeof *zframes);
        if (!zframes)
            bench_die("out of memory", NULL);
        for (size_t i = 0; i < w->n; i++) {
            const size_t n = zstd_size(bl, &w->rowwise[i], 3);
            bench_buf_put(&zframes[i], bl->out.data, n);
        }
    }
    double bytes = 0, elapsed = 0, t0 = 0, c0 = 0;
    for (int pass = 0;; pass++) {
        if (pass == 1) {
            t0 = bench_now_s(); /* pass 0 warms caches and allocators */
            c0 = bench_cpu_s();
        }
        for (size_t i = 0; i < w->n; i++) {
            int rc = HR_OK;
            size_t n = 0;
            switch (op) {
            case OP_ENCODE: {
                const uint8_t *frame;
                rc = hr_codec_encode(enc, w->batches[i], TENANT, &frame, &n);
                if (rc != HR_OK)
                    bench_die("hr_codec_encode (timed)", hr_codec_errmsg(enc));
                break;
            }
            case OP_DECODE:
                rc = hr_codec_decode(dec, w->frames[i].data, w->frames[i].len,
                                     TENANT, out);
                if (rc != HR_OK)
                    bench_die("hr_codec_decode (timed)", hr_codec_errmsg(dec));
                n = hr_batch_rows(out);
                break;
            case OP_ZSTD3_C:
                n = ZSTD_compressCCtx(bl->cctx, tmp.data, tmp.cap,
                                      w->rowwise[i].data, w->rowwise[i].len, 3);
                if (ZSTD_isError(n))
                    bench_die("zstd", ZSTD_getErrorName(n));
                break;
            case OP_ZSTD3_D:
                n = ZSTD_decompressDCtx(bl->dctx, tmp.data, tmp.cap,
                                        zframes[i].data, zframes[i].len);
                if (ZSTD_isError(n) || n != w->rowwise[i].len)
                    bench_die("zstd decompress", ZSTD_isError(n)
                                                     ? ZSTD_getErrorName(n)
                                                     : "size mismatch");
                break;
            }
            sink += n;
            if (pass > 0)
                bytes += (double)w->raw[i];
        }
        if (pass > 0) {
            elapsed = bench_now_s() - t0;
            if (elapsed >= min_time)
                break;
        }
    }
    const double cpu = bench_cpu_s() - c0;
    if (elapsed > 1.1 * cpu)
        fprintf(stderr,
                "bench-codec: note: codec.%s.%zu.%s: wall time %.2fx the CPU "
                "time (other processes took the core): understated; %.1f MB/s "
                "of the thread's CPU time\n",
                ds_name, rows, op_names[op], elapsed / cpu, bytes / cpu / 1e6);
    if (op == OP_DECODE) {
        /* The timed decodes must still produce the input. */
        const size_t last = (w->next + w->cap - 1) % w->cap;
        if (!hr_batch_equal(out, w->batches[last]))
            bench_die("timed decode", "decoded batch differs from its input");
    }
    if (zframes) {
        for (size_t i = 0; i < w->n; i++)
            free(zframes[i].data);
        free(zframes);
    }
    free(tmp.data);
    return bytes / elapsed / 1e6;
}

static hr_codec *new_codec(hr_env *env)
{
    hr_codec *c;
    bench_check(hr_codec_new(env, &c), "hr_codec_new");
    return c;
}

/* Encode + decode + verify one batch; returns the frame size. */
static size_t roundtrip(hr_codec *enc, hr_codec *dec, const hr_batch *b,
                        hr_batch *out, const uint8_t **frame, const char *where,
                        size_t index)
{
    size_t len;
    if (hr_codec_encode(enc, b, TENANT, frame, &len) != HR_OK)
        bench_die("hr_codec_encode", hr_codec_errmsg(enc));
    if (hr_codec_decode(dec, *frame, len, TENANT, out) != HR_OK)
        bench_die("hr_codec_decode", hr_codec_errmsg(dec));
    if (!hr_batch_equal(out, b)) {
        fprintf(stderr,
                "bench-codec: %s batch %zu: decoded batch differs from "
                "its input\n",
                where, index);
        exit(1);
    }
    return len;
}

static void run_stream(hr_env *env, const codec_data_set *ds, size_t rows,
                       const options *opt, baseline *bl)
{
    const size_t per_1024 = opt->quick ? QUICK_BATCHES_1024 : FULL_BATCHES_1024;
    const size_t nbatches = per_1024 * 1024 / rows;
    const size_t warm = nbatches / 4;
    size_t wcap = TIMING_ROWS / rows;
    if (wcap > nbatches - warm)
        wcap = nbatches - warm;
    if (wcap == 0)
        wcap = 1;

    hr_codec *enc = new_codec(env), *dec = new_codec(env);
    hr_batch *out;
    bench_check(hr_batch_new(env, &out), "hr_batch_new");
    codec_data_gen *g = codec_data_gen_new(ds);
    window w;
    window_init(&w, wcap);
    totals t = {0};
    bench_buf rowwise = {0};

    /* Per-column single-column streams (--breakdown). */
    const int split = opt->breakdown && ds->ncols > 1;
    hr_codec *col_enc[MAX_COLS] = {0}, *col_dec[MAX_COLS] = {0};
    double col_frame[MAX_COLS] = {0}, col_raw[MAX_COLS] = {0},
           col_zstd3[MAX_COLS] = {0};
    size_t col_empty[MAX_COLS] = {0};
    if (split) {
        for (int c = 0; c < ds->ncols; c++) {
            col_enc[c] = new_codec(env);
            col_dec[c] = new_codec(env);
            /* A frame of no rows: the fixed cost of a one-column frame. */
            hr_batch *empty = codec_data_schema_batch(env, ds);
            hr_batch *one = codec_data_project_column(env, empty, c);
            hr_codec *tmp = new_codec(env);
            const uint8_t *f;
            bench_check(hr_codec_encode(tmp, one, TENANT, &f, &col_empty[c]),
                        "encode empty");
            hr_codec_free(tmp);
            hr_batch_free(one);
            hr_batch_free(empty);
        }
    }

    const double t_start = bench_now_s();
    double t_z19 = 0;
    size_t dict_at[MAX_COLS], ndict_at = 0; /* batches that shipped a dict */
    for (size_t i = 0; i < nbatches; i++) {
        hr_batch *b = codec_data_gen_batch(env, g, rows);
        const uint8_t *frame;
        const size_t frame_len =
            roundtrip(enc, dec, b, out, &frame, ds->name, i);
        hr_frame_info info;
        info.size = sizeof info;
        bench_check(hr_frame_inspect(frame, frame_len, &info),
                    "hr_frame_inspect");
        if ((info.flags & HR_FRAME_FLAG_HAS_DICT) && ndict_at < MAX_COLS)
            dict_at[ndict_at++] = i;
        if (i < warm) {
            if (split)
                for (int c = 0; c < ds->ncols; c++) {
                    hr_batch *one = codec_data_project_column(env, b, c);
                    const uint8_t *f;
                    roundtrip(col_enc[c], col_dec[c], one, out, &f, ds->name,
                              i);
                    hr_batch_free(one);
                }
            hr_batch_free(b);
            continue;
        }
        const size_t raw = hr_batch_raw_size(b);
        pgtext_serialize_rowwise(&rowwise, b);
        t.batches++;
        t.raw += (double)raw;
        t.frame += (double)frame_len;
        t.rowwise += (double)rowwise.len;
        t.zstd1 += (double)zstd_size(bl, &rowwise, 1);
        t.zstd3 += (double)zstd_size(bl, &rowwise, 3);
        if ((i - warm) % ZSTD19_EVERY == 0) {
            const double z0 = bench_now_s();
            t.zstd19 += (double)zstd_size(bl, &rowwise, 19);
            t.frame_z19 += (double)frame_len;
            t_z19 += bench_now_s() - z0;
        }
        t.snappy += (double)snappy_size(bl, &rowwise);
        if (split) {
            bench_buf colrows = {0};
            for (int c = 0; c < ds->ncols; c++) {
                hr_batch *one = codec_data_project_column(env, b, c);
                const uint8_t *f;
                col_frame[c] += (double)roundtrip(col_enc[c], col_dec[c], one,
                                                  out, &f, ds->name, i);
                col_raw[c] += (double)hr_batch_raw_size(one);
                pgtext_serialize_rowwise(&colrows, one);
                col_zstd3[c] += (double)zstd_size(bl, &colrows, 3);
                hr_batch_free(one);
            }
            free(colrows.data);
        }
        if (i >= nbatches - wcap)
            window_push(&w, b, frame, frame_len, &rowwise, raw);
        else
            hr_batch_free(b);
    }
    fprintf(stderr,
            "bench-codec: %s/%zu: %zu batches (%zu warm-up) in %.1f s "
            "(%.1f s of it zstd -19)\n",
            ds->name, rows, nbatches, warm, bench_now_s() - t_start, t_z19);
    if (ndict_at) {
        fprintf(stderr, "bench-codec: %s/%zu: dictionaries shipped in batch",
                ds->name, rows);
        for (size_t k = 0; k < ndict_at; k++)
            fprintf(stderr, " %zu", dict_at[k]);
        fprintf(stderr, "%s\n",
                dict_at[ndict_at - 1] >= warm ? " (after the warm-up)" : "");
    }

    const double n = (double)t.batches;
    print_line(ds->name, rows, "raw_bytes", t.raw / n, "B", 0);
    print_line(ds->name, rows, "frame_bytes", t.frame / n, "B", 1);
    print_line(ds->name, rows, "rowwise_bytes", t.rowwise / n, "B", 0);
    print_line(ds->name, rows, "ratio_raw", t.raw / t.frame, "x", 2);
    print_line(ds->name, rows, "ratio_vs_zstd1", t.zstd1 / t.frame, "x", 2);
    print_line(ds->name, rows, "ratio_vs_zstd3", t.zstd3 / t.frame, "x", 2);
    print_line(ds->name, rows, "ratio_vs_zstd19", t.zstd19 / t.frame_z19, "x",
               2);
    print_line(ds->name, rows, "ratio_vs_snappy", t.snappy / t.frame, "x", 2);
    for (int op = OP_ENCODE; op <= OP_ZSTD3_D; op++)
        print_line(ds->name, rows, op_names[op],
                   time_op((timed_op)op, &w, enc, dec, out, bl, opt->min_time,
                           ds->name, rows),
                   "MB/s", 1);

    if (split) {
        for (int c = 0; c < ds->ncols; c++) {
            char fig[96];
            const char *name = ds->cols[c].name;
            /* Column bytes in a one-column frame, less that frame's fixed
             * cost (header, schema, section length, checksum). */
            const double section = col_frame[c] / n - (double)col_empty[c];
            snprintf(fig, sizeof fig, "col.%s.raw_bytes", name);
            print_line(ds->name, rows, fig, col_raw[c] / n, "B", 0);
            snprintf(fig, sizeof fig, "col.%s.frame_bytes", name);
            print_line(ds->name, rows, fig, col_frame[c] / n, "B", 1);
            snprintf(fig, sizeof fig, "col.%s.value_bytes", name);
            print_line(ds->name, rows, fig, section, "B", 1);
            snprintf(fig, sizeof fig, "col.%s.zstd3_bytes", name);
            print_line(ds->name, rows, fig, col_zstd3[c] / n, "B", 1);
            snprintf(fig, sizeof fig, "col.%s.ratio_raw", name);
            print_line(ds->name, rows, fig, col_raw[c] / n / section, "x", 2);
            hr_codec_free(col_enc[c]);
            hr_codec_free(col_dec[c]);
        }
    }

    free(rowwise.data);
    window_free(&w);
    codec_data_gen_free(g);
    hr_batch_free(out);
    hr_codec_free(enc);
    hr_codec_free(dec);
}

/* ------------------------------------------------------------------------ */
/* Main                                                                      */
/* ------------------------------------------------------------------------ */

static void usage(FILE *to)
{
    fprintf(to, "usage: bench-codec [--quick] [--breakdown] [--rows 1024|64] "
                "[DATA[,DATA...]]...\nDATA:");
    for (int i = 0; i < codec_data_nsets; i++)
        fprintf(to, " %s", codec_data_sets[i].name);
    fprintf(to, "\n");
}

static int selected(const options *opt, const char *name)
{
    if (opt->nfilters == 0)
        return 1;
    for (int i = 0; i < opt->nfilters; i++) {
        const char *f = opt->filters[i];
        const size_t len = strlen(name);
        /* a comma-separated list: match whole items */
        for (const char *p = f; *p;) {
            const char *end = strchr(p, ',');
            const size_t n = end ? (size_t)(end - p) : strlen(p);
            if (n == len && strncmp(p, name, n) == 0)
                return 1;
            p += n + (end != NULL);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    bench_set_progname("bench-codec");
    options opt;
    memset(&opt, 0, sizeof opt);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--quick") == 0) {
            opt.quick = 1;
        } else if (strcmp(a, "--breakdown") == 0) {
            opt.breakdown = 1;
        } else if (strcmp(a, "--rows") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            const unsigned long v = strtoul(argv[++i], &end, 10);
            if (errno || *end || (v != 1024 && v != 64)) {
                usage(stderr);
                return 2;
            }
            opt.only_rows = v;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-' || opt.nfilters == 32) {
            usage(stderr);
            return 2;
        } else {
            opt.filters[opt.nfilters++] = a;
        }
    }
    /* Every filter item must name a data set. */
    for (int i = 0; i < opt.nfilters; i++) {
        for (const char *p = opt.filters[i]; *p;) {
            const char *end = strchr(p, ',');
            const size_t n = end ? (size_t)(end - p) : strlen(p);
            int known = n == 0;
            for (int d = 0; d < codec_data_nsets; d++)
                known |= strlen(codec_data_sets[d].name) == n &&
                         strncmp(p, codec_data_sets[d].name, n) == 0;
            if (!known) {
                fprintf(stderr, "bench-codec: unknown data set '%.*s'\n",
                        (int)n, p);
                usage(stderr);
                return 2;
            }
            p += n + (end != NULL);
        }
    }
    opt.min_time = opt.quick ? QUICK_MIN_TIME : FULL_MIN_TIME;

    hr_env *env;
    bench_check(hr_env_new(&env, NULL), "hr_env_new");
    baseline bl = {ZSTD_createCCtx(), ZSTD_createDCtx(), {0}};
    if (!bl.cctx || !bl.dctx)
        bench_die("out of memory", "zstd contexts");

    static const size_t sizes[] = {1024, 64};
    const double t0 = bench_now_s();
    for (int d = 0; d < codec_data_nsets; d++) {
        if (!selected(&opt, codec_data_sets[d].name))
            continue;
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
            if (!opt.only_rows || opt.only_rows == sizes[s])
                run_stream(env, &codec_data_sets[d], sizes[s], &opt, &bl);
    }
    fprintf(stderr, "bench-codec: done in %.1f s\n", bench_now_s() - t0);

    ZSTD_freeCCtx(bl.cctx);
    ZSTD_freeDCtx(bl.dctx);
    free(bl.out.data);
    hr_env_free(env);
    return 0;
}
