/*
 * bench_codec.c - compression ratio and speed of the batch codec against
 * pgoutput-style row-wise text compressed with zstd / snappy.
 *
 * Usage: bench-codec [--quick] [--breakdown] [--rows N] [DATA[,DATA...]]...
 *
 *   DATA         run only these data sets (int_seq ts_regular ts_jitter
 *                str_lowcard float_dec json text mixed); default all
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
 *    more than 10% (a busy machine): such a figure is understated.
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
#include <time.h>

#include <snappy-c.h>
#include <zstd.h>

#include <heliosrepl/heliosrepl.h>

#define TENANT "tenant-0042"
#define MAX_COLS 12
#define FULL_BATCHES_1024 200
#define QUICK_BATCHES_1024 40
#define TIMING_ROWS 32768
#define FULL_MIN_TIME 0.2
#define QUICK_MIN_TIME 0.05
#define ZSTD19_EVERY 3 /* zstd -19 runs at ~2 MB/s: every 3rd batch */

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench-codec: %s: %s\n", what, detail ? detail : "");
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        die("out of memory", NULL);
    return p;
}

static void check(int rc, const char *what)
{
    if (rc != HR_OK)
        die(what, hr_strerror(rc));
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this thread: tells whether other processes took the core. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* splitmix64: small, fast, good enough for synthetic data. */
typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static uint32_t rng_below(rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi]. */
static int64_t rng_range(rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)rng_below(r, (uint32_t)(hi - lo + 1));
}

/* A growable byte buffer. */
typedef struct buf {
    uint8_t *data;
    size_t len, cap;
} buf;

static void buf_reserve(buf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

static void buf_put(buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void buf_put_u8(buf *b, uint8_t v)
{
    buf_put(b, &v, 1);
}

static void buf_put_be16(buf *b, uint16_t v)
{
    uint8_t p[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    buf_put(b, p, 2);
}

static void buf_put_be32(buf *b, uint32_t v)
{
    uint8_t p[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                    (uint8_t)v};
    buf_put(b, p, 4);
}

/* ------------------------------------------------------------------------ */
/* Calendar (proleptic Gregorian, days relative to 1970-01-01)               */
/* ------------------------------------------------------------------------ */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* PostgreSQL's epoch (2000-01-01) in days since 1970-01-01. */
#define PG_EPOCH_DAYS 10957

/* Microseconds since 2000-01-01 00:00 UTC of a UTC civil time. */
static int64_t pg_us(int64_t y, unsigned mo, unsigned d, unsigned h,
                     unsigned mi, unsigned s)
{
    const int64_t days = days_from_civil(y, mo, d) - PG_EPOCH_DAYS;
    return ((days * 24 + h) * 60 + mi) * 60000000ll + (int64_t)s * 1000000ll;
}

typedef struct civil {
    int64_t y;
    unsigned mo, d, h, mi, s;
    int64_t us; /* 0..999999 */
} civil;

static civil civil_of_pg_us(int64_t t)
{
    civil c;
    const int64_t secs = floor_div(t, 1000000);
    c.us = t - secs * 1000000;
    const int64_t days = floor_div(secs, 86400);
    const int64_t sod = secs - days * 86400;
    civil_from_days(days + PG_EPOCH_DAYS, &c.y, &c.mo, &c.d);
    c.h = (unsigned)(sod / 3600);
    c.mi = (unsigned)(sod / 60 % 60);
    c.s = (unsigned)(sod % 60);
    return c;
}

/* ------------------------------------------------------------------------ */
/* PostgreSQL text output of one value, and the pgoutput row-wise baseline   */
/* ------------------------------------------------------------------------ */

/* Shortest "%.Ng" that reads back to the same double (PostgreSQL 12+). */
static int fmt_float8(char *out, size_t cap, double v)
{
    if (v != v)
        return snprintf(out, cap, "NaN");
    if (v > 1.7976931348623157e308)
        return snprintf(out, cap, "Infinity");
    if (v < -1.7976931348623157e308)
        return snprintf(out, cap, "-Infinity");
    int n = 0;
    for (int p = 1; p <= 17; p++) {
        n = snprintf(out, cap, "%.*g", p, v);
        double back = strtod(out, NULL);
        if (memcmp(&back, &v, sizeof v) == 0)
            break;
    }
    return n;
}

static int fmt_float4(char *out, size_t cap, float v)
{
    if (v != v)
        return snprintf(out, cap, "NaN");
    int n = 0;
    for (int p = 1; p <= 9; p++) {
        n = snprintf(out, cap, "%.*g", p, (double)v);
        float back = strtof(out, NULL);
        if (memcmp(&back, &v, sizeof v) == 0)
            break;
    }
    return n;
}

/* `2024-05-01 12:34:56.123456+00` (trailing zeros of the fraction cut). */
static int fmt_timestamp(char *out, size_t cap, int64_t t, int with_tz)
{
    const civil c = civil_of_pg_us(t);
    int n = snprintf(out, cap, "%04lld-%02u-%02u %02u:%02u:%02u", (long long)c.y,
                     c.mo, c.d, c.h, c.mi, c.s);
    if (c.us) {
        char frac[16];
        snprintf(frac, sizeof frac, "%06lld", (long long)c.us);
        size_t k = strlen(frac);
        while (k > 0 && frac[k - 1] == '0')
            frac[--k] = '\0';
        n += snprintf(out + n, cap - (size_t)n, ".%s", frac);
    }
    if (with_tz)
        n += snprintf(out + n, cap - (size_t)n, "+00");
    return n;
}

static int fmt_date(char *out, size_t cap, int64_t days)
{
    int64_t y;
    unsigned m, d;
    civil_from_days(days + PG_EPOCH_DAYS, &y, &m, &d);
    return snprintf(out, cap, "%04lld-%02u-%02u", (long long)y, m, d);
}

static int fmt_uuid(char *out, size_t cap, const uint8_t u[16])
{
    static const char hex[] = "0123456789abcdef";
    if (cap < 37)
        return 0;
    int n = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[n++] = '-';
        out[n++] = hex[u[i] >> 4];
        out[n++] = hex[u[i] & 15];
    }
    out[n] = '\0';
    return n;
}

/* One cell as pgoutput sends it: 'n', 'u', or 't' int32 len + text. */
static void put_cell_text(buf *out, const hr_batch *b, int col, size_t row)
{
    const int state = hr_batch_value_state(b, col, row);
    if (state == HR_VALUE_NULL) {
        buf_put_u8(out, 'n');
        return;
    }
    if (state == HR_VALUE_UNCHANGED_TOAST) {
        buf_put_u8(out, 'u');
        return;
    }
    char text[128];
    int n = 0;
    int64_t i64;
    double f8;
    float f4;
    int flag;
    uint8_t uuid[16];
    const uint8_t *bytes;
    size_t len;
    const uint32_t oid = hr_batch_column_type(b, col);
    switch (oid) {
    case HR_OID_BOOL:
        check(hr_batch_get_bool(b, col, row, &flag), "get bool");
        n = snprintf(text, sizeof text, "%s", flag ? "t" : "f");
        break;
    case HR_OID_INT2:
    case HR_OID_INT4:
    case HR_OID_INT8:
        check(hr_batch_get_int64(b, col, row, &i64), "get int");
        n = snprintf(text, sizeof text, "%lld", (long long)i64);
        break;
    case HR_OID_DATE:
        check(hr_batch_get_int64(b, col, row, &i64), "get date");
        n = fmt_date(text, sizeof text, i64);
        break;
    case HR_OID_TIMESTAMP:
    case HR_OID_TIMESTAMPTZ:
        check(hr_batch_get_int64(b, col, row, &i64), "get timestamp");
        n = fmt_timestamp(text, sizeof text, i64, oid == HR_OID_TIMESTAMPTZ);
        break;
    case HR_OID_FLOAT4:
        check(hr_batch_get_float4(b, col, row, &f4), "get float4");
        n = fmt_float4(text, sizeof text, f4);
        break;
    case HR_OID_FLOAT8:
        check(hr_batch_get_float8(b, col, row, &f8), "get float8");
        n = fmt_float8(text, sizeof text, f8);
        break;
    case HR_OID_UUID:
        check(hr_batch_get_uuid(b, col, row, uuid), "get uuid");
        n = fmt_uuid(text, sizeof text, uuid);
        break;
    case HR_OID_BYTEA: { /* \x + hex */
        static const char hex[] = "0123456789abcdef";
        check(hr_batch_get_bytes(b, col, row, &bytes, &len), "get bytea");
        buf_put_u8(out, 't');
        buf_put_be32(out, (uint32_t)(2 + 2 * len));
        buf_put(out, "\\x", 2);
        for (size_t k = 0; k < len; k++) {
            const char h[2] = {hex[bytes[k] >> 4], hex[bytes[k] & 15]};
            buf_put(out, h, 2);
        }
        return;
    }
    default: /* text-like: the bytes are the text form */
        check(hr_batch_get_bytes(b, col, row, &bytes, &len), "get bytes");
        buf_put_u8(out, 't');
        buf_put_be32(out, (uint32_t)len);
        buf_put(out, bytes, len);
        return;
    }
    buf_put_u8(out, 't');
    buf_put_be32(out, (uint32_t)n);
    buf_put(out, text, (size_t)n);
}

/* The batch as pgoutput INSERT tuples ('N' + TupleData per row). */
static void serialize_rowwise(buf *out, const hr_batch *b)
{
    out->len = 0;
    const int ncols = hr_batch_columns(b);
    const size_t rows = hr_batch_rows(b);
    for (size_t r = 0; r < rows; r++) {
        buf_put_u8(out, 'N');
        buf_put_be16(out, (uint16_t)ncols);
        for (int c = 0; c < ncols; c++)
            put_cell_text(out, b, c, r);
    }
}

/* ------------------------------------------------------------------------ */
/* Data generators                                                           */
/* ------------------------------------------------------------------------ */

typedef enum col_kind {
    K_ID,       /* int8 sequence */
    K_TS_REG,   /* timestamptz, 1 s step */
    K_TS_JIT,   /* timestamptz, 1 s step +- a few ms */
    K_COUNTRY,  /* text, 20 values */
    K_PRICE,    /* float8, 2 decimals, random walk */
    K_JSON,     /* jsonb event document */
    K_TEXT,     /* free text */
    K_UUID,     /* random v4 */
    K_BOOL      /* mostly false */
} col_kind;

typedef struct col_spec {
    const char *name;
    uint32_t oid;
    col_kind kind;
    unsigned null_permille; /* > 0: nullable, that share NULL */
} col_spec;

typedef struct dataset {
    const char *name;
    const char *table;
    int ncols;
    col_spec cols[MAX_COLS];
} dataset;

static const dataset datasets[] = {
    {"int_seq", "orders", 1, {{"id", HR_OID_INT8, K_ID, 0}}},
    {"ts_regular", "metrics", 1, {{"sampled_at", HR_OID_TIMESTAMPTZ, K_TS_REG, 0}}},
    {"ts_jitter", "readings", 1, {{"created_at", HR_OID_TIMESTAMPTZ, K_TS_JIT, 0}}},
    {"str_lowcard", "customers", 1, {{"country", HR_OID_TEXT, K_COUNTRY, 0}}},
    {"float_dec", "ticks", 1, {{"price", HR_OID_FLOAT8, K_PRICE, 0}}},
    {"json", "events", 1, {{"payload", HR_OID_JSONB, K_JSON, 0}}},
    {"text", "comments", 1, {{"body", HR_OID_TEXT, K_TEXT, 0}}},
    /* The "events" table: one column of each seed type. */
    {"mixed",
     "events",
     7,
     {{"id", HR_OID_INT8, K_ID, 0},
      {"created_at", HR_OID_TIMESTAMPTZ, K_TS_JIT, 0},
      {"ingested_at", HR_OID_TIMESTAMPTZ, K_TS_REG, 0},
      {"country", HR_OID_TEXT, K_COUNTRY, 20},
      {"amount", HR_OID_FLOAT8, K_PRICE, 200},
      {"payload", HR_OID_JSONB, K_JSON, 0},
      {"note", HR_OID_TEXT, K_TEXT, 400}}},
};

#define NDATASETS (int)(sizeof datasets / sizeof datasets[0])

static const char *const countries[] = {
    "United States", "Germany",   "United Kingdom", "France",      "Netherlands",
    "Canada",        "Brazil",    "India",          "Japan",       "Spain",
    "Italy",         "Australia", "Mexico",         "Sweden",      "Poland",
    "Switzerland",   "South Korea", "Belgium",      "Austria",     "Ireland"};
#define NCOUNTRIES (sizeof countries / sizeof countries[0])

static const char *const words[] = {
    "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "was",
    "for", "on", "are", "with", "as", "this", "be", "at", "have", "from", "or",
    "by", "not", "but", "what", "all", "were", "when", "we", "there", "can",
    "an", "your", "which", "their", "said", "if", "do", "will", "each",
    "about", "how", "up", "out", "them", "then", "she", "many", "some", "so",
    "these", "would", "other", "into", "has", "more", "her", "two", "like",
    "him", "see", "time", "could", "no", "make", "than", "first", "been",
    "its", "who", "now", "people", "my", "made", "over", "did", "down", "only",
    "way", "find", "use", "may", "water", "long", "little", "very", "after",
    "words", "called", "just", "where", "most", "know", "order", "delivery",
    "package", "arrived", "quickly", "product", "quality", "great", "price",
    "customer", "service", "support", "refund", "broken", "excellent",
    "recommend", "again", "shipping", "tracking", "number", "received",
    "working", "perfectly", "disappointed", "size", "colour", "return",
    "thanks", "helpful", "team", "problem", "solved", "account", "password",
    "email", "invoice", "payment", "card", "discount", "week", "yesterday",
    "today", "morning", "store", "app", "update", "crash", "login", "screen"};
#define NWORDS (sizeof words / sizeof words[0])

typedef struct session {
    char sid[17];
    uint32_t user;
    uint8_t device;
} session;

#define NSESSIONS 48

typedef struct col_state {
    rng r;
    int64_t next;   /* K_ID: next id; K_TS_*: next grid time; K_JSON: clock */
    int64_t cents;  /* K_PRICE */
    session sessions[NSESSIONS];
} col_state;

static void new_session(col_state *s, session *out)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++)
        out->sid[i] = hex[rng_below(&s->r, 16)];
    out->sid[16] = '\0';
    out->user = 1 + rng_below(&s->r, 500000);
    uint32_t d = rng_below(&s->r, 100);
    out->device = d < 55 ? 0 : d < 90 ? 1 : 2;
}

static void col_state_init(col_state *s, col_kind kind, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->r.s = seed;
    const int64_t may1 = pg_us(2024, 5, 1, 0, 0, 0);
    switch (kind) {
    case K_ID:
        s->next = 9000000000ll + 1;
        break;
    case K_TS_REG:
        s->next = may1;
        break;
    case K_TS_JIT:
        s->next = may1 + 3600 * 1000000ll;
        break;
    case K_PRICE:
        s->cents = 25000; /* 250.00 */
        break;
    case K_JSON:
        s->next = may1 + 7200 * 1000000ll;
        for (int i = 0; i < NSESSIONS; i++)
            new_session(s, &s->sessions[i]);
        break;
    default:
        break;
    }
}

/* A jsonb event in PostgreSQL's jsonb output form: keys ordered by length
 * then bytes, ", " and ": " separators. */
static size_t gen_json(col_state *s, char *out, size_t cap)
{
    static const char *const devices[] = {"mobile", "desktop", "tablet"};
    static const struct {
        const char *prefix;
        uint32_t ids; /* > 0: followed by an id in 1..ids */
    } paths[] = {{"/", 0},           {"/cart", 0},          {"/checkout", 0},
                 {"/search", 0},     {"/account", 0},       {"/products/", 5000},
                 {"/products/", 5000}, {"/products/", 5000}, {"/category/", 60},
                 {"/blog/", 60}};
    static const char *const referrers[] = {
        "https://www.google.com/", "https://www.bing.com/", "",
        "https://t.co/", "https://news.ycombinator.com/",
        "https://www.facebook.com/", ""};
    static const char *const elements[] = {
        "button#add-to-cart", "a.nav-link", "button#checkout", "img.product",
        "a.footer-link", "button.close", "input#search"};
    static const char *const queries[] = {
        "wireless headphones", "running shoes", "usb-c cable", "coffee maker",
        "desk lamp", "phone case", "backpack", "water bottle", "gaming mouse",
        "yoga mat"};
    static const char *const plans[] = {"free", "pro", "team"};
    static const char *const sources[] = {"newsletter", "organic", "ads",
                                          "referral"};
    static const char *const currencies[] = {"EUR", "USD", "GBP"};

    s->next += rng_range(&s->r, 0, 400000); /* ~5 events per second */
    if (rng_below(&s->r, 100) < 3) /* sessions end and begin */
        new_session(s, &s->sessions[rng_below(&s->r, NSESSIONS)]);
    const session *ses = &s->sessions[rng_below(&s->r, NSESSIONS)];
    const civil c = civil_of_pg_us(s->next);
    char ts[40];
    snprintf(ts, sizeof ts, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ",
             (long long)c.y, c.mo, c.d, c.h, c.mi, c.s,
             (unsigned)(c.us / 1000));

    char props[256];
    const char *event;
    const uint32_t pick = rng_below(&s->r, 100);
    if (pick < 50) {
        event = "page_view";
        char path[48];
        const uint32_t k = rng_below(&s->r, sizeof paths / sizeof *paths);
        if (paths[k].ids)
            snprintf(path, sizeof path, "%s%u", paths[k].prefix,
                     1 + rng_below(&s->r, paths[k].ids));
        else
            snprintf(path, sizeof path, "%s", paths[k].prefix);
        snprintf(props, sizeof props, "{\"path\": \"%s\", \"referrer\": \"%s\"}",
                 path, referrers[rng_below(&s->r, sizeof referrers / sizeof *referrers)]);
    } else if (pick < 75) {
        event = "click";
        const uint32_t x = rng_below(&s->r, 1920), y = rng_below(&s->r, 1080);
        snprintf(props, sizeof props, "{\"x\": %u, \"y\": %u, \"element\": \"%s\"}",
                 x, y, elements[rng_below(&s->r, sizeof elements / sizeof *elements)]);
    } else if (pick < 85) {
        event = "search";
        snprintf(props, sizeof props, "{\"query\": \"%s\", \"results\": %u}",
                 queries[rng_below(&s->r, sizeof queries / sizeof *queries)],
                 rng_below(&s->r, 500));
    } else if (pick < 93) {
        event = "add_to_cart";
        const uint32_t qty = 1 + rng_below(&s->r, 3);
        const uint32_t sku = 1 + rng_below(&s->r, 5000);
        const uint32_t cents = 199 + rng_below(&s->r, 20000);
        snprintf(props, sizeof props,
                 "{\"qty\": %u, \"sku\": \"SKU-%06u\", \"price\": %u.%02u}", qty,
                 sku, cents / 100, cents % 100);
    } else if (pick < 97) {
        event = "purchase";
        const uint32_t items = 1 + rng_below(&s->r, 6);
        const uint32_t cents = 999 + rng_below(&s->r, 50000);
        snprintf(props, sizeof props,
                 "{\"items\": %u, \"total\": %u.%02u, \"currency\": \"%s\", "
                 "\"order_id\": %u}",
                 items, cents / 100, cents % 100, currencies[rng_below(&s->r, 3)],
                 880000 + rng_below(&s->r, 100000));
    } else {
        event = "signup";
        snprintf(props, sizeof props, "{\"plan\": \"%s\", \"source\": \"%s\"}",
                 plans[rng_below(&s->r, 3)], sources[rng_below(&s->r, 4)]);
    }
    int n = snprintf(out, cap,
                     "{\"ts\": \"%s\", \"event\": \"%s\", \"props\": %s, "
                     "\"device\": \"%s\", \"session\": \"%s\", \"user_id\": %u}",
                     ts, event, props, devices[ses->device], ses->sid, ses->user);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Sentences of random words (skewed to the frequent ones), 30-200 chars. */
static size_t gen_text(col_state *s, char *out, size_t cap)
{
    const size_t target = (size_t)rng_range(&s->r, 30, 200);
    size_t len = 0;
    int start = 1, in_sentence = 0;
    while (len < target) {
        const double u = (double)(rng_next(&s->r) >> 11) * 0x1p-53;
        const char *w = words[(size_t)(u * u * (double)NWORDS)];
        const size_t wl = strlen(w);
        if (len + wl + 2 > target && len >= 30)
            break;
        if (len + wl + 2 >= cap)
            break;
        if (len)
            out[len++] = ' ';
        memcpy(out + len, w, wl);
        if (start && out[len] >= 'a' && out[len] <= 'z')
            out[len] = (char)(out[len] - 'a' + 'A');
        len += wl;
        start = 0;
        in_sentence++;
        if (in_sentence >= 4 && rng_below(&s->r, 8) == 0) {
            out[len++] = rng_below(&s->r, 6) == 0 ? '!' : '.';
            start = 1;
            in_sentence = 0;
        } else if (in_sentence >= 3 && rng_below(&s->r, 12) == 0) {
            out[len++] = ',';
        }
    }
    if (!start && len + 1 < cap)
        out[len++] = '.';
    return len;
}

/* Append one generated value (or a NULL) to column `col`. */
static void append_generated(hr_batch *b, int col, const col_spec *spec,
                             col_state *s)
{
    int rc;
    /* Decide NULL first but always generate, so a NULL does not stop a clock. */
    const int is_null = spec->null_permille &&
                        rng_below(&s->r, 1000) < spec->null_permille;
    char text[512];
    switch (spec->kind) {
    case K_ID:
        rc = is_null ? hr_batch_append_null(b, col)
                     : hr_batch_append_int64(b, col, s->next);
        s->next++;
        break;
    case K_TS_REG:
        rc = is_null ? hr_batch_append_null(b, col)
                     : hr_batch_append_int64(b, col, s->next);
        s->next += 1000000;
        break;
    case K_TS_JIT: {
        const int64_t t = s->next + rng_range(&s->r, -4000, 4000);
        rc = is_null ? hr_batch_append_null(b, col)
                     : hr_batch_append_int64(b, col, t);
        s->next += 1000000;
        break;
    }
    case K_COUNTRY: {
        const char *c = countries[rng_below(&s->r, NCOUNTRIES)];
        rc = is_null ? hr_batch_append_null(b, col)
                     : hr_batch_append_bytes(b, col, c, strlen(c));
        break;
    }
    case K_PRICE: {
        s->cents += rng_range(&s->r, -50, 50);
        if (s->cents < 100)
            s->cents = 100 + (100 - s->cents);
        rc = is_null ? hr_batch_append_null(b, col)
                     : hr_batch_append_float8(b, col, (double)s->cents / 100.0);
        break;
    }
    case K_JSON: {
        const size_t n = gen_json(s, text, sizeof text);
        rc = is_null ? hr_batch_append_null(b, col)
                     : hr_batch_append_bytes(b, col, text, n);
        break;
    }
    case K_TEXT: {
        const size_t n = gen_text(s, text, sizeof text);
        rc = is_null ? hr_batch_append_null(b, col)
                     : hr_batch_append_bytes(b, col, text, n);
        break;
    }
    case K_UUID: {
        uint8_t u[16];
        const uint64_t a = rng_next(&s->r), z = rng_next(&s->r);
        memcpy(u, &a, 8);
        memcpy(u + 8, &z, 8);
        u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
        u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
        rc = is_null ? hr_batch_append_null(b, col) : hr_batch_append_uuid(b, col, u);
        break;
    }
    case K_BOOL:
    default:
        rc = is_null ? hr_batch_append_null(b, col)
                     : hr_batch_append_bool(b, col, rng_below(&s->r, 100) < 3);
        break;
    }
    if (rc != HR_OK)
        die("appending a generated value", hr_batch_errmsg(b));
}

typedef struct generator {
    const dataset *ds;
    col_state state[MAX_COLS];
} generator;

static void generator_init(generator *g, const dataset *ds, uint64_t seed)
{
    g->ds = ds;
    for (int c = 0; c < ds->ncols; c++)
        col_state_init(&g->state[c], ds->cols[c].kind,
                       seed * 0x100000001B3ull + (uint64_t)c * 7919u + 1);
}

static hr_batch *new_schema_batch(hr_env *env, const dataset *ds)
{
    hr_batch *b;
    check(hr_batch_new(env, &b), "hr_batch_new");
    check(hr_batch_set_relation(b, "public", ds->table), "set relation");
    for (int c = 0; c < ds->ncols; c++)
        if (hr_batch_add_column(b, ds->cols[c].name, ds->cols[c].oid,
                                ds->cols[c].null_permille > 0) != c)
            die("adding a column", hr_batch_errmsg(b));
    return b;
}

/* The next batch of `rows` rows from the generator (row by row). */
static hr_batch *generate_batch(hr_env *env, generator *g, size_t rows)
{
    hr_batch *b = new_schema_batch(env, g->ds);
    for (size_t r = 0; r < rows; r++)
        for (int c = 0; c < g->ds->ncols; c++)
            append_generated(b, c, &g->ds->cols[c], &g->state[c]);
    return b;
}

/* Column `col` of `src` as a single-column batch (same relation, name). */
static hr_batch *project_column(hr_env *env, const hr_batch *src, int col)
{
    hr_batch *b;
    check(hr_batch_new(env, &b), "hr_batch_new");
    check(hr_batch_set_relation(b, hr_batch_schema_name(src),
                                hr_batch_table_name(src)),
          "set relation");
    const uint32_t oid = hr_batch_column_type(src, col);
    if (hr_batch_add_column(b, hr_batch_column_name(src, col), oid,
                            hr_batch_column_nullable(src, col)) != 0)
        die("adding a column", hr_batch_errmsg(b));
    const size_t rows = hr_batch_rows(src);
    for (size_t r = 0; r < rows; r++) {
        const int st = hr_batch_value_state(src, col, r);
        int rc;
        if (st == HR_VALUE_NULL) {
            rc = hr_batch_append_null(b, 0);
        } else if (st == HR_VALUE_UNCHANGED_TOAST) {
            rc = hr_batch_append_unchanged_toast(b, 0);
        } else if (oid == HR_OID_BOOL) {
            int v;
            check(hr_batch_get_bool(src, col, r, &v), "get bool");
            rc = hr_batch_append_bool(b, 0, v);
        } else if (oid == HR_OID_INT2 || oid == HR_OID_INT4 || oid == HR_OID_INT8 ||
                   oid == HR_OID_DATE || oid == HR_OID_TIMESTAMP ||
                   oid == HR_OID_TIMESTAMPTZ) {
            int64_t v;
            check(hr_batch_get_int64(src, col, r, &v), "get int");
            rc = hr_batch_append_int64(b, 0, v);
        } else if (oid == HR_OID_FLOAT4) {
            float v;
            check(hr_batch_get_float4(src, col, r, &v), "get float4");
            rc = hr_batch_append_float4(b, 0, v);
        } else if (oid == HR_OID_FLOAT8) {
            double v;
            check(hr_batch_get_float8(src, col, r, &v), "get float8");
            rc = hr_batch_append_float8(b, 0, v);
        } else if (oid == HR_OID_UUID) {
            uint8_t v[16];
            check(hr_batch_get_uuid(src, col, r, v), "get uuid");
            rc = hr_batch_append_uuid(b, 0, v);
        } else {
            const uint8_t *p;
            size_t len;
            check(hr_batch_get_bytes(src, col, r, &p, &len), "get bytes");
            rc = hr_batch_append_bytes(b, 0, p, len);
        }
        check(rc, "projecting a column");
    }
    return b;
}

/* ------------------------------------------------------------------------ */
/* Baseline compressors                                                      */
/* ------------------------------------------------------------------------ */

typedef struct baseline {
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
    buf out;
} baseline;

static size_t zstd_size(baseline *bl, const buf *in, int level)
{
    const size_t bound = ZSTD_compressBound(in->len);
    bl->out.len = 0;
    buf_reserve(&bl->out, bound);
    const size_t n = ZSTD_compressCCtx(bl->cctx, bl->out.data, bound, in->data,
                                       in->len, level);
    if (ZSTD_isError(n))
        die("zstd", ZSTD_getErrorName(n));
    return n;
}

static size_t snappy_size(baseline *bl, const buf *in)
{
    size_t n = snappy_max_compressed_length(in->len);
    bl->out.len = 0;
    buf_reserve(&bl->out, n);
    if (snappy_compress((const char *)in->data, in->len, (char *)bl->out.data,
                        &n) != SNAPPY_OK)
        die("snappy", "compression failed");
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
    buf *frames;
    buf *rowwise;
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
        die("out of memory", NULL);
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
                        size_t frame_len, const buf *rowwise, size_t raw)
{
    const size_t i = w->next;
    hr_batch_free(w->batches[i]);
    w->batches[i] = b;
    w->frames[i].len = 0;
    buf_put(&w->frames[i], frame, frame_len);
    w->rowwise[i].len = 0;
    buf_put(&w->rowwise[i], rowwise->data, rowwise->len);
    w->raw[i] = raw;
    w->next = (i + 1) % w->cap;
    if (w->n < w->cap)
        w->n++;
}

static void print_line(const char *ds, size_t rows, const char *figure,
                       double value, const char *unit, int decimals)
{
    printf("codec.%s.%zu.%s %.*f %s\n", ds, rows, figure, decimals, value, unit);
    fflush(stdout);
}

static volatile size_t sink;

typedef enum timed_op { OP_ENCODE, OP_DECODE, OP_ZSTD3_C, OP_ZSTD3_D } timed_op;

static const char *const op_names[] = {"encode_mb_s", "decode_mb_s",
                                       "zstd3_encode_mb_s", "zstd3_decode_mb_s"};

/* MB/s of raw bytes of the window's batches through `op` (wall clock). */
static double time_op(timed_op op, window *w, hr_codec *enc, hr_codec *dec,
                      hr_batch *out, baseline *bl, double min_time,
                      const char *ds_name, size_t rows)
{
    size_t max_rowwise = 0;
    for (size_t i = 0; i < w->n; i++)
        if (w->rowwise[i].len > max_rowwise)
            max_rowwise = w->rowwise[i].len;
    buf tmp = {0};
    buf_reserve(&tmp, ZSTD_compressBound(max_rowwise) + 64);
    /* zstd -3 frames of the row-wise text, for the decode timing. */
    buf *zframes = NULL;
    if (op == OP_ZSTD3_D) {
        zframes = calloc(w->n, sizeof *zframes);
        if (!zframes)
            die("out of memory", NULL);
        for (size_t i = 0; i < w->n; i++) {
            const size_t n = zstd_size(bl, &w->rowwise[i], 3);
            buf_put(&zframes[i], bl->out.data, n);
        }
    }
    double bytes = 0, elapsed = 0, t0 = 0, c0 = 0;
    for (int pass = 0;; pass++) {
        if (pass == 1) {
            t0 = now_s(); /* pass 0 warms caches and allocators */
            c0 = cpu_s();
        }
        for (size_t i = 0; i < w->n; i++) {
            int rc = HR_OK;
            size_t n = 0;
            switch (op) {
            case OP_ENCODE: {
                const uint8_t *frame;
                rc = hr_codec_encode(enc, w->batches[i], TENANT, &frame, &n);
                if (rc != HR_OK)
                    die("hr_codec_encode (timed)", hr_codec_errmsg(enc));
                break;
            }
            case OP_DECODE:
                rc = hr_codec_decode(dec, w->frames[i].data, w->frames[i].len,
                                     TENANT, out);
                if (rc != HR_OK)
                    die("hr_codec_decode (timed)", hr_codec_errmsg(dec));
                n = hr_batch_rows(out);
                break;
            case OP_ZSTD3_C:
                n = ZSTD_compressCCtx(bl->cctx, tmp.data, tmp.cap,
                                      w->rowwise[i].data, w->rowwise[i].len, 3);
                if (ZSTD_isError(n))
                    die("zstd", ZSTD_getErrorName(n));
                break;
            case OP_ZSTD3_D:
                n = ZSTD_decompressDCtx(bl->dctx, tmp.data, tmp.cap,
                                        zframes[i].data, zframes[i].len);
                if (ZSTD_isError(n) || n != w->rowwise[i].len)
                    die("zstd decompress", ZSTD_isError(n) ? ZSTD_getErrorName(n)
                                                           : "size mismatch");
                break;
            }
            sink += n;
            if (pass > 0)
                bytes += (double)w->raw[i];
        }
        if (pass > 0) {
            elapsed = now_s() - t0;
            if (elapsed >= min_time)
                break;
        }
    }
    const double cpu = cpu_s() - c0;
    if (elapsed > 1.1 * cpu)
        fprintf(stderr,
                "bench-codec: note: codec.%s.%zu.%s: wall time %.2fx the CPU "
                "time (other processes took the core): understated\n",
                ds_name, rows, op_names[op], elapsed / cpu);
    if (op == OP_DECODE) {
        /* The timed decodes must still produce the input. */
        const size_t last = (w->next + w->cap - 1) % w->cap;
        if (!hr_batch_equal(out, w->batches[last]))
            die("timed decode", "decoded batch differs from its input");
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
    check(hr_codec_new(env, &c), "hr_codec_new");
    return c;
}

/* Encode + decode + verify one batch; returns the frame size. */
static size_t roundtrip(hr_codec *enc, hr_codec *dec, const hr_batch *b,
                        hr_batch *out, const uint8_t **frame,
                        const char *where, size_t index)
{
    size_t len;
    if (hr_codec_encode(enc, b, TENANT, frame, &len) != HR_OK)
        die("hr_codec_encode", hr_codec_errmsg(enc));
    if (hr_codec_decode(dec, *frame, len, TENANT, out) != HR_OK)
        die("hr_codec_decode", hr_codec_errmsg(dec));
    if (!hr_batch_equal(out, b)) {
        fprintf(stderr, "bench-codec: %s batch %zu: decoded batch differs from "
                        "its input\n", where, index);
        exit(1);
    }
    return len;
}

static void run_stream(hr_env *env, const dataset *ds, size_t rows,
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
    check(hr_batch_new(env, &out), "hr_batch_new");
    generator g;
    generator_init(&g, ds, 0xC0DEC000u + (uint64_t)(ds - datasets));
    window w;
    window_init(&w, wcap);
    totals t = {0};
    buf rowwise = {0};

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
            hr_batch *empty = new_schema_batch(env, ds);
            hr_batch *one = project_column(env, empty, c);
            hr_codec *tmp = new_codec(env);
            const uint8_t *f;
            check(hr_codec_encode(tmp, one, TENANT, &f, &col_empty[c]),
                  "encode empty");
            hr_codec_free(tmp);
            hr_batch_free(one);
            hr_batch_free(empty);
        }
    }

    const double t_start = now_s();
    double t_z19 = 0;
    size_t dict_at[MAX_COLS], ndict_at = 0; /* batches that shipped a dict */
    for (size_t i = 0; i < nbatches; i++) {
        hr_batch *b = generate_batch(env, &g, rows);
        const uint8_t *frame;
        const size_t frame_len = roundtrip(enc, dec, b, out, &frame, ds->name, i);
        hr_frame_info info;
        info.size = sizeof info;
        check(hr_frame_inspect(frame, frame_len, &info), "hr_frame_inspect");
        if ((info.flags & HR_FRAME_FLAG_HAS_DICT) && ndict_at < MAX_COLS)
            dict_at[ndict_at++] = i;
        if (i < warm) {
            if (split)
                for (int c = 0; c < ds->ncols; c++) {
                    hr_batch *one = project_column(env, b, c);
                    const uint8_t *f;
                    roundtrip(col_enc[c], col_dec[c], one, out, &f, ds->name, i);
                    hr_batch_free(one);
                }
            hr_batch_free(b);
            continue;
        }
        const size_t raw = hr_batch_raw_size(b);
        serialize_rowwise(&rowwise, b);
        t.batches++;
        t.raw += (double)raw;
        t.frame += (double)frame_len;
        t.rowwise += (double)rowwise.len;
        t.zstd1 += (double)zstd_size(bl, &rowwise, 1);
        t.zstd3 += (double)zstd_size(bl, &rowwise, 3);
        if ((i - warm) % ZSTD19_EVERY == 0) {
            const double z0 = now_s();
            t.zstd19 += (double)zstd_size(bl, &rowwise, 19);
            t.frame_z19 += (double)frame_len;
            t_z19 += now_s() - z0;
        }
        t.snappy += (double)snappy_size(bl, &rowwise);
        if (split) {
            buf colrows = {0};
            for (int c = 0; c < ds->ncols; c++) {
                hr_batch *one = project_column(env, b, c);
                const uint8_t *f;
                col_frame[c] += (double)roundtrip(col_enc[c], col_dec[c], one,
                                                  out, &f, ds->name, i);
                col_raw[c] += (double)hr_batch_raw_size(one);
                serialize_rowwise(&colrows, one);
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
            ds->name, rows, nbatches, warm, now_s() - t_start, t_z19);
    if (ndict_at) {
        fprintf(stderr, "bench-codec: %s/%zu: dictionaries shipped in batch", ds->name,
                rows);
        for (size_t k = 0; k < ndict_at; k++)
            fprintf(stderr, " %zu", dict_at[k]);
        fprintf(stderr, "%s\n", dict_at[ndict_at - 1] >= warm ? " (after the warm-up)" : "");
    }

    const double n = (double)t.batches;
    print_line(ds->name, rows, "raw_bytes", t.raw / n, "B", 0);
    print_line(ds->name, rows, "frame_bytes", t.frame / n, "B", 1);
    print_line(ds->name, rows, "rowwise_bytes", t.rowwise / n, "B", 0);
    print_line(ds->name, rows, "ratio_raw", t.raw / t.frame, "x", 2);
    print_line(ds->name, rows, "ratio_vs_zstd1", t.zstd1 / t.frame, "x", 2);
    print_line(ds->name, rows, "ratio_vs_zstd3", t.zstd3 / t.frame, "x", 2);
    print_line(ds->name, rows, "ratio_vs_zstd19", t.zstd19 / t.frame_z19, "x", 2);
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
    for (int i = 0; i < NDATASETS; i++)
        fprintf(to, " %s", datasets[i].name);
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
            for (int d = 0; d < NDATASETS; d++)
                known |= strlen(datasets[d].name) == n &&
                         strncmp(p, datasets[d].name, n) == 0;
            if (!known) {
                fprintf(stderr, "bench-codec: unknown data set '%.*s'\n", (int)n, p);
                usage(stderr);
                return 2;
            }
            p += n + (end != NULL);
        }
    }
    opt.min_time = opt.quick ? QUICK_MIN_TIME : FULL_MIN_TIME;

    hr_env *env;
    check(hr_env_new(&env, NULL), "hr_env_new");
    baseline bl = {ZSTD_createCCtx(), ZSTD_createDCtx(), {0}};
    if (!bl.cctx || !bl.dctx)
        die("out of memory", "zstd contexts");

    static const size_t sizes[] = {1024, 64};
    const double t0 = now_s();
    for (int d = 0; d < NDATASETS; d++) {
        if (!selected(&opt, datasets[d].name))
            continue;
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
            if (!opt.only_rows || opt.only_rows == sizes[s])
                run_stream(env, &datasets[d], sizes[s], &opt, &bl);
    }
    fprintf(stderr, "bench-codec: done in %.1f s\n", now_s() - t0);

    ZSTD_freeCCtx(bl.cctx);
    ZSTD_freeDCtx(bl.dctx);
    free(bl.out.data);
    hr_env_free(env);
    return 0;
}
