/*
 * codec_data.c - the codec benchmark's data sets and generators (see
 * codec_data.h, which describes each data set).
 */
#include "codec_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgtext.h"
#include "support.h"

/* `seed` is each data set's index in the list before str_uniform20 came,
 * and str_uniform20 took the seed of the country column it was (as
 * str_lowcard): adding data sets changed no other's values. */
/* clang-format off */
const codec_data_set codec_data_sets[] = {
    {"int_seq", "orders", 0, 1,
     {{"id", HR_OID_INT8, CODEC_DATA_ID, 0}}},
    {"ts_regular", "metrics", 1, 1,
     {{"sampled_at", HR_OID_TIMESTAMPTZ, CODEC_DATA_TS_REG, 0}}},
    {"ts_jitter", "readings", 2, 1,
     {{"created_at", HR_OID_TIMESTAMPTZ, CODEC_DATA_TS_JIT, 0}}},
    {"str_lowcard", "orders", 8, 1,
     {{"status", HR_OID_TEXT, CODEC_DATA_STATUS, 0}}},
    {"str_uniform20", "customers", 3, 1,
     {{"country", HR_OID_TEXT, CODEC_DATA_COUNTRY, 0}}},
    {"float_dec", "ticks", 4, 1,
     {{"price", HR_OID_FLOAT8, CODEC_DATA_PRICE, 0}}},
    {"json", "events", 5, 1,
     {{"payload", HR_OID_JSONB, CODEC_DATA_JSON, 0}}},
    {"text", "comments", 6, 1,
     {{"body", HR_OID_TEXT, CODEC_DATA_TEXT, 0}}},
    /* The "events" table: one column of each seed type. */
    {"mixed", "events", 7, 7,
     {{"id", HR_OID_INT8, CODEC_DATA_ID, 0},
      {"created_at", HR_OID_TIMESTAMPTZ, CODEC_DATA_TS_JIT, 0},
      {"ingested_at", HR_OID_TIMESTAMPTZ, CODEC_DATA_TS_REG, 0},
      {"status", HR_OID_TEXT, CODEC_DATA_STATUS, 20},
      {"amount", HR_OID_FLOAT8, CODEC_DATA_PRICE, 200},
      {"payload", HR_OID_JSONB, CODEC_DATA_JSON, 0},
      {"note", HR_OID_TEXT, CODEC_DATA_TEXT, 400}}},
};
/* clang-format on */

const int codec_data_nsets =
    (int)(sizeof codec_data_sets / sizeof codec_data_sets[0]);

/* Order statuses and their share in percent (sum 100). */
static const struct {
    const char *value;
    unsigned percent;
} statuses[] = {{"delivered", 46},      {"shipped", 18},  {"processing", 12},
                {"pending_payment", 8}, {"cancelled", 6}, {"returned", 4},
                {"refunded", 3},        {"on_hold", 3}};
#define NSTATUSES (sizeof statuses / sizeof statuses[0])

/* Hand-aligned tables. */
/* clang-format off */
static const char *const countries[] = {
    "United States", "Germany",     "United Kingdom", "France",  "Netherlands",
    "Canada",        "Brazil",      "India",          "Japan",   "Spain",
    "Italy",         "Australia",   "Mexico",         "Sweden",  "Poland",
    "Switzerland",   "South Korea", "Belgium",        "Austria", "Ireland"};
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
/* clang-format on */
#define NWORDS (sizeof words / sizeof words[0])

typedef struct session {
    char sid[17];
    uint32_t user;
    uint8_t device;
} session;

#define NSESSIONS 48

typedef struct col_state {
    bench_rng r;
    int64_t next;  /* ID: next id; TS_*: next grid time; JSON: clock */
    int64_t cents; /* PRICE */
    session sessions[NSESSIONS];
} col_state;

static void new_session(col_state *s, session *out)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++)
        out->sid[i] = hex[bench_rng_below(&s->r, 16)];
    out->sid[16] = '\0';
    out->user = 1 + bench_rng_below(&s->r, 500000);
    uint32_t d = bench_rng_below(&s->r, 100);
    out->device = d < 55 ? 0 : d < 90 ? 1 : 2;
}

static void col_state_init(col_state *s, codec_data_kind kind, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->r.s = seed;
    const int64_t may1 = pgtext_us(2024, 5, 1, 0, 0, 0);
    switch (kind) {
    case CODEC_DATA_ID:
        s->next = 9000000000ll + 1;
        break;
    case CODEC_DATA_TS_REG:
        s->next = may1;
        break;
    case CODEC_DATA_TS_JIT:
        s->next = may1 + 3600 * 1000000ll;
        break;
    case CODEC_DATA_PRICE:
        s->cents = 25000; /* 250.00 */
        break;
    case CODEC_DATA_JSON:
        s->next = may1 + 7200 * 1000000ll;
        for (int i = 0; i < NSESSIONS; i++)
            new_session(s, &s->sessions[i]);
        break;
    default:
        break;
    }
}

/* A jsonb event in PostgreSQL's jsonb output form: keys ordered by length
 * then bytes, ", " and ": " separators. Each random draw is a statement of
 * its own: two draws in one call's arguments come in an unspecified order
 * (gcc and clang differ). The order here is the one gcc 12 used when they
 * were arguments (last argument first), so gcc's data did not change. */
static size_t gen_json(col_state *s, char *out, size_t cap)
{
    /* clang-format off */
    static const char *const devices[] = {"mobile", "desktop", "tablet"};
    static const struct {
        const char *prefix;
        uint32_t ids; /* > 0: followed by an id in 1..ids */
    } paths[] = {{"/", 0}, {"/cart", 0}, {"/checkout", 0},
                 {"/search", 0}, {"/account", 0}, {"/products/", 5000},
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
    /* clang-format on */

    s->next += bench_rng_range(&s->r, 0, 400000); /* ~5 events per second */
    if (bench_rng_below(&s->r, 100) < 3)          /* sessions end and begin */
        new_session(s, &s->sessions[bench_rng_below(&s->r, NSESSIONS)]);
    const session *ses = &s->sessions[bench_rng_below(&s->r, NSESSIONS)];
    const pgtext_civil c = pgtext_civil_of_us(s->next);
    char ts[40];
    snprintf(ts, sizeof ts, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ",
             (long long)c.y, c.mo, c.d, c.h, c.mi, c.s,
             (unsigned)(c.us / 1000));

    char props[256];
    const char *event;
    const uint32_t pick = bench_rng_below(&s->r, 100);
    if (pick < 50) {
        event = "page_view";
        char path[48];
        const uint32_t k = bench_rng_below(&s->r, sizeof paths / sizeof *paths);
        if (paths[k].ids)
            snprintf(path, sizeof path, "%s%u", paths[k].prefix,
                     1 + bench_rng_below(&s->r, paths[k].ids));
        else
            snprintf(path, sizeof path, "%s", paths[k].prefix);
        snprintf(props, sizeof props,
                 "{\"path\": \"%s\", \"referrer\": \"%s\"}", path,
                 referrers[bench_rng_below(&s->r, sizeof referrers /
                                                      sizeof *referrers)]);
    } else if (pick < 75) {
        event = "click";
        const uint32_t x = bench_rng_below(&s->r, 1920),
                       y = bench_rng_below(&s->r, 1080);
        snprintf(props, sizeof props,
                 "{\"x\": %u, \"y\": %u, \"element\": \"%s\"}", x, y,
                 elements[bench_rng_below(&s->r,
                                          sizeof elements / sizeof *elements)]);
    } else if (pick < 85) {
        event = "search";
        const uint32_t results = bench_rng_below(&s->r, 500);
        const char *query =
            queries[bench_rng_below(&s->r, sizeof queries / sizeof *queries)];
        snprintf(props, sizeof props, "{\"query\": \"%s\", \"results\": %u}",
                 query, results);
    } else if (pick < 93) {
        event = "add_to_cart";
        const uint32_t qty = 1 + bench_rng_below(&s->r, 3);
        const uint32_t sku = 1 + bench_rng_below(&s->r, 5000);
        const uint32_t cents = 199 + bench_rng_below(&s->r, 20000);
        snprintf(props, sizeof props,
                 "{\"qty\": %u, \"sku\": \"SKU-%06u\", \"price\": %u.%02u}",
                 qty, sku, cents / 100, cents % 100);
    } else if (pick < 97) {
        event = "purchase";
        const uint32_t items = 1 + bench_rng_below(&s->r, 6);
        const uint32_t cents = 999 + bench_rng_below(&s->r, 50000);
        const uint32_t order_id = 880000 + bench_rng_below(&s->r, 100000);
        const char *currency = currencies[bench_rng_below(&s->r, 3)];
        snprintf(props, sizeof props,
                 "{\"items\": %u, \"total\": %u.%02u, \"currency\": \"%s\", "
                 "\"order_id\": %u}",
                 items, cents / 100, cents % 100, currency, order_id);
    } else {
        event = "signup";
        const char *source = sources[bench_rng_below(&s->r, 4)];
        const char *plan = plans[bench_rng_below(&s->r, 3)];
        snprintf(props, sizeof props, "{\"plan\": \"%s\", \"source\": \"%s\"}",
                 plan, source);
    }
    int n =
        snprintf(out, cap,
                 "{\"ts\": \"%s\", \"event\": \"%s\", \"props\": %s, "
                 "\"device\": \"%s\", \"session\": \"%s\", \"user_id\": %u}",
                 ts, event, props, devices[ses->device], ses->sid, ses->user);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Sentences of random words (skewed to the frequent ones), 30-200 chars. */
static size_t gen_text(col_state *s, char *out, size_t cap)
{
    const size_t target = (size_t)bench_rng_range(&s->r, 30, 200);
    size_t len = 0;
    int start = 1, in_sentence = 0;
    while (len < target) {
        const double u = (double)(bench_rng_next(&s->r) >> 11) * 0x1p-53;
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
        if (in_sentence >= 4 && bench_rng_below(&s->r, 8) == 0) {
            out[len++] = bench_rng_below(&s->r, 6) == 0 ? '!' : '.';
            start = 1;
            in_sentence = 0;
        } else if (in_sentence >= 3 && bench_rng_below(&s->r, 12) == 0) {
            out[len++] = ',';
        }
    }
    if (!start && len + 1 < cap)
        out[len++] = '.';
    return len;
}

/* Append one generated value (or a NULL) to column `col`. */
static void append_generated(hr_batch *b, int col, const codec_data_col *spec,
                             col_state *s)
{
    int rc;
    /* NULL or not is drawn first, but the value is always generated, so a
     * NULL does not stop a clock. */
    const int is_null = spec->null_permille &&
                        bench_rng_below(&s->r, 1000) < spec->null_permille;
    char text[512];
    switch (spec->kind) {
    case CODEC_DATA_ID:
        rc = is_null ? hr_batch_append_null(b, col)
                     : hr_batch_append_int64(b, col, s->next);
        s->next++;
        break;
    case CODEC_DATA_TS_REG:
        rc = is_null ? hr_batch_append_null(b, col)
                     : hr_batch_append_int64(b, col, s->next);
        s->next += 1000000;
        break;
    case CODEC_DATA_TS_JIT: {
        const int64_t t = s->next + bench_rng_range(&s->r, -4000, 4000);
        rc = is_null ? hr_batch_append_null(b, col)
                     : hr_batch_append_int64(b, col, t);
        s->next += 1000000;
        break;
    }
    case CODEC_DATA_STATUS: {
        /* One draw in 0..99 against the cumulative shares. */
        uint32_t u = bench_rng_below(&s->r, 100);
        size_t k = 0;
        while (k + 1 < NSTATUSES && u >= statuses[k].percent)
            u -= statuses[k++].percent;
        const char *v = statuses[k].value;
        rc = is_null ? hr_batch_append_null(b, col)
                     : hr_batch_append_bytes(b, col, v, strlen(v));
        break;
    }
    case CODEC_DATA_COUNTRY: {
        const char *c = countries[bench_rng_below(&s->r, NCOUNTRIES)];
        rc = is_null ? hr_batch_append_null(b, col)
                     : hr_batch_append_bytes(b, col, c, strlen(c));
        break;
    }
    case CODEC_DATA_PRICE: {
        s->cents += bench_rng_range(&s->r, -50, 50);
        if (s->cents < 100)
            s->cents = 100 + (100 - s->cents);
        rc = is_null ? hr_batch_append_null(b, col)
                     : hr_batch_append_float8(b, col, (double)s->cents / 100.0);
        break;
    }
    case CODEC_DATA_JSON: {
        const size_t n = gen_json(s, text, sizeof text);
        rc = is_null ? hr_batch_append_null(b, col)
                     : hr_batch_append_bytes(b, col, text, n);
        break;
    }
    case CODEC_DATA_TEXT: {
        const size_t n = gen_text(s, text, sizeof text);
        rc = is_null ? hr_batch_append_null(b, col)
                     : hr_batch_append_bytes(b, col, text, n);
        break;
    }
    case CODEC_DATA_UUID: {
        uint8_t u[16];
        const uint64_t a = bench_rng_next(&s->r), z = bench_rng_next(&s->r);
        memcpy(u, &a, 8);
        memcpy(u + 8, &z, 8);
        u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
        u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
        rc = is_null ? hr_batch_append_null(b, col)
                     : hr_batch_append_uuid(b, col, u);
        break;
    }
    case CODEC_DATA_BOOL:
    default:
        rc = is_null ? hr_batch_append_null(b, col)
                     : hr_batch_append_bool(b, col,
                                            bench_rng_below(&s->r, 100) < 3);
        break;
    }
    if (rc != HR_OK)
        bench_die("appending a generated value", hr_batch_errmsg(b));
}

struct codec_data_gen {
    const codec_data_set *ds;
    col_state state[CODEC_DATA_MAX_COLS];
};

codec_data_gen *codec_data_gen_new(const codec_data_set *ds)
{
    codec_data_gen *g = bench_xrealloc(NULL, sizeof *g);
    const uint64_t seed = 0xC0DEC000u + (uint64_t)ds->seed;
    g->ds = ds;
    for (int c = 0; c < ds->ncols; c++)
        col_state_init(&g->state[c], ds->cols[c].kind,
                       seed * 0x100000001B3ull + (uint64_t)c * 7919u + 1);
    return g;
}

void codec_data_gen_free(codec_data_gen *g)
{
    free(g);
}

hr_batch *codec_data_schema_batch(hr_env *env, const codec_data_set *ds)
{
    hr_batch *b;
    bench_check(hr_batch_new(env, &b), "hr_batch_new");
    bench_check(hr_batch_set_relation(b, "public", ds->table), "set relation");
    for (int c = 0; c < ds->ncols; c++)
        if (hr_batch_add_column(b, ds->cols[c].name, ds->cols[c].oid,
                                ds->cols[c].null_permille > 0) != c)
            bench_die("adding a column", hr_batch_errmsg(b));
    return b;
}

/* Row by row, as a replication stream fills a batch. */
hr_batch *codec_data_gen_batch(hr_env *env, codec_data_gen *g, size_t rows)
{
    hr_batch *b = codec_data_schema_batch(env, g->ds);
    for (size_t r = 0; r < rows; r++)
        for (int c = 0; c < g->ds->ncols; c++)
            append_generated(b, c, &g->ds->cols[c], &g->state[c]);
    return b;
}

hr_batch *codec_data_project_column(hr_env *env, const hr_batch *src, int col)
{
    hr_batch *b;
    bench_check(hr_batch_new(env, &b), "hr_batch_new");
    bench_check(hr_batch_set_relation(b, hr_batch_schema_name(src),
                                      hr_batch_table_name(src)),
                "set relation");
    const uint32_t oid = hr_batch_column_type(src, col);
    if (hr_batch_add_column(b, hr_batch_column_name(src, col), oid,
                            hr_batch_column_nullable(src, col)) != 0)
        bench_die("adding a column", hr_batch_errmsg(b));
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
            bench_check(hr_batch_get_bool(src, col, r, &v), "get bool");
            rc = hr_batch_append_bool(b, 0, v);
        } else if (oid == HR_OID_INT2 || oid == HR_OID_INT4 ||
                   oid == HR_OID_INT8 || oid == HR_OID_DATE ||
                   oid == HR_OID_TIMESTAMP || oid == HR_OID_TIMESTAMPTZ) {
            int64_t v;
            bench_check(hr_batch_get_int64(src, col, r, &v), "get int");
            rc = hr_batch_append_int64(b, 0, v);
        } else if (oid == HR_OID_FLOAT4) {
            float v;
            bench_check(hr_batch_get_float4(src, col, r, &v), "get float4");
            rc = hr_batch_append_float4(b, 0, v);
        } else if (oid == HR_OID_FLOAT8) {
            double v;
            bench_check(hr_batch_get_float8(src, col, r, &v), "get float8");
            rc = hr_batch_append_float8(b, 0, v);
        } else if (oid == HR_OID_UUID) {
            uint8_t v[16];
            bench_check(hr_batch_get_uuid(src, col, r, v), "get uuid");
            rc = hr_batch_append_uuid(b, 0, v);
        } else {
            const uint8_t *p;
            size_t len;
            bench_check(hr_batch_get_bytes(src, col, r, &p, &len), "get bytes");
            rc = hr_batch_append_bytes(b, 0, p, len);
        }
        bench_check(rc, "projecting a column");
    }
    return b;
}
