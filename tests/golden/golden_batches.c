/*
 * golden_batches.c - see golden_batches.h. Never change a generator. Every
 * random draw is its own statement: the order in which a compiler evaluates
 * function arguments is unspecified (gcc and clang differ), and the batches
 * must be the same whatever built them.
 */
#include "golden_batches.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const uint8_t golden_key[32] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
                                0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
                                0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f};

enum {
    G_INTS,
    G_FLOATS,
    G_STRINGS,
    G_TEMPLATE,
    G_SNAPPY,
    G_DICT,
    G_SEALED,
    G_EMPTY,
    G_DICT_USE
};

static const char *const names[GOLDEN_COUNT] = {
    "ints", "floats", "strings", "template", "snappy",
    "dict", "sealed", "empty",   "dictuse"};

const char *golden_name(int k)
{
    return k >= 0 && k < GOLDEN_COUNT ? names[k] : NULL;
}

/* A 64-bit LCG: the same numbers on every platform. */
static uint32_t rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

static int add_cols(hr_batch *b, const char *table, const char *const *cols,
                    const uint32_t *oids, int n)
{
    if (hr_batch_set_relation(b, "golden", table) != HR_OK)
        return 0;
    for (int c = 0; c < n; c++)
        if (hr_batch_add_column(b, cols[c], oids[c], 1) != c)
            return 0;
    return 1;
}

static int add_text(hr_batch *b, int col, const char *s)
{
    return hr_batch_append_bytes(b, col, s, strlen(s)) == HR_OK;
}

/* NULL, unchanged TOAST or a value, in a fixed pattern per column. */
static int special(hr_batch *b, int col, size_t r, unsigned every)
{
    if (every == 0 || r % every != every - 1)
        return 0;
    if ((r / every) % 3 == 2)
        return hr_batch_append_unchanged_toast(b, col) == HR_OK ? 1 : -1;
    return hr_batch_append_null(b, col) == HR_OK ? 1 : -1;
}

static int build_ints(hr_batch *b, size_t rows, uint64_t s)
{
    static const char *const cols[] = {"id", "flag",  "level", "small", "day",
                                       "at", "at_tz", "curve", "hash"};
    static const uint32_t oids[] = {
        HR_OID_INT8,        HR_OID_BOOL, HR_OID_INT4,
        HR_OID_INT2,        HR_OID_DATE, HR_OID_TIMESTAMP,
        HR_OID_TIMESTAMPTZ, HR_OID_INT8, HR_OID_INT8};
    if (!add_cols(b, "ints", cols, oids, 9))
        return 0;
    int64_t level = 3;
    for (size_t r = 0; r < rows; r++) {
        if (r % 50 == 0)
            level = (int64_t)(rnd(&s) % 5); /* runs: RLE */
        int sp = 0;
        int ok =
            hr_batch_append_int64(b, 0, 9000000000ll + (int64_t)r) == HR_OK;
        if (ok && !(sp = special(b, 1, r, 11)))
            ok = hr_batch_append_bool(b, 1, rnd(&s) % 3 == 0) == HR_OK;
        else if (sp < 0)
            ok = 0;
        ok = ok && hr_batch_append_int64(b, 2, level) == HR_OK;
        ok = ok && hr_batch_append_int64(
                       b, 3,
                       r % 97 == 5 ? INT16_MIN
                                   : (int64_t)(rnd(&s) % 2000) - 1000) == HR_OK;
        ok = ok &&
             hr_batch_append_int64(b, 4, 8888 + (int64_t)(r / 100)) == HR_OK;
        ok = ok &&
             hr_batch_append_int64(b, 5,
                                   770000000000000ll + (int64_t)r * 1000000 +
                                       (int64_t)(rnd(&s) % 5000)) == HR_OK;
        if (ok && !(sp = special(b, 6, r, 17)))
            ok = hr_batch_append_int64(
                     b, 6, 770000000000000ll + (int64_t)r * 60000000) == HR_OK;
        else if (sp < 0)
            ok = 0;
        /* second differences constant (DOD), then random 64-bit (PLAIN) */
        const int64_t x = (int64_t)r;
        ok = ok && hr_batch_append_int64(b, 7, 5000000 + x * x * 1000) == HR_OK;
        const uint64_t hi = rnd(&s), h = hi << 32 | rnd(&s);
        ok = ok && hr_batch_append_int64(b, 8, (int64_t)h) == HR_OK;
        if (!ok)
            return 0;
    }
    return 1;
}

static int build_floats(hr_batch *b, size_t rows, uint64_t s)
{
    static const char *const cols[] = {"price", "ratio", "odd", "noise"};
    static const uint32_t oids[] = {HR_OID_FLOAT8, HR_OID_FLOAT4, HR_OID_FLOAT8,
                                    HR_OID_FLOAT8};
    static const double odd[] = {-0.0,     NAN,   INFINITY, -INFINITY,
                                 4.9e-324, 1e308, 0.1,      1.0 / 3.0};
    if (!add_cols(b, "floats", cols, oids, 4))
        return 0;
    int64_t cents = 25000;
    for (size_t r = 0; r < rows; r++) {
        cents += (int64_t)(rnd(&s) % 201) - 100;
        int ok = hr_batch_append_float8(b, 0, (double)cents / 100.0) == HR_OK;
        ok = ok && hr_batch_append_float4(
                       b, 1, (float)(rnd(&s) % 1000) / 10.0f) == HR_OK;
        /* mostly decimals, every 7th an exception */
        ok = ok &&
             hr_batch_append_float8(b, 2,
                                    r % 7 == 0 ? odd[r / 7 % 8]
                                               : (double)(rnd(&s) % 10000) /
                                                     1000.0) == HR_OK;
        const uint64_t hi = rnd(&s), bits = hi << 32 | rnd(&s);
        double v = (double)(bits >> 11) / 9007199254740992.0; /* [0, 1) */
        ok = ok && hr_batch_append_float8(b, 3, v * 1e6) == HR_OK;
        if (!ok)
            return 0;
    }
    return 1;
}

/* Order statuses and their share in percent (sum 100): skewed. */
static const char *status(uint64_t *s)
{
    static const struct {
        const char *v;
        unsigned p;
    } st[] = {{"delivered", 46},      {"shipped", 18},  {"processing", 12},
              {"pending_payment", 8}, {"cancelled", 6}, {"returned", 4},
              {"refunded", 3},        {"on_hold", 3}};
    unsigned u = rnd(s) % 100, k = 0;
    while (k < 7 && u >= st[k].p)
        u -= st[k++].p;
    return st[k].v;
}

static const char *const words[] = {
    "the",   "order", "arrived", "late",  "and",    "was",   "broken",
    "great", "price", "quick",   "ship",  "refund", "again", "thanks",
    "team",  "app",   "crash",   "login", "today",  "store"};

static void sentence(char *out, size_t cap, uint64_t *s)
{
    size_t len = 0;
    const unsigned n = 3 + rnd(s) % 12;
    out[0] = '\0';
    for (unsigned w = 0; w < n && len + 16 < cap; w++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", w ? " " : "",
                                words[rnd(s) % 20]);
}

static int build_strings(hr_batch *b, size_t rows, uint64_t s)
{
    static const char *const cols[] = {"status", "region", "note",
                                       "raw",    "uid",    "amount"};
    static const uint32_t oids[] = {HR_OID_TEXT, HR_OID_VARCHAR,
                                    HR_OID_TEXT, HR_OID_BYTEA,
                                    HR_OID_UUID, HR_OID_NUMERIC};
    static const char *const regions[] = {"eu-west", "us-east", "ap-south"};
    if (!add_cols(b, "strings", cols, oids, 6))
        return 0;
    const char *region = regions[0];
    for (size_t r = 0; r < rows; r++) {
        char text[256];
        int sp = 0, ok = add_text(b, 0, status(&s));
        if (r % 64 == 0)
            region = regions[rnd(&s) % 3]; /* runs: int codes */
        if (ok && !(sp = special(b, 1, r, 13)))
            ok = add_text(b, 1, r % 29 == 3 ? "" : region);
        else if (sp < 0)
            ok = 0;
        sentence(text, sizeof text, &s);
        ok = ok && add_text(b, 2, text);
        uint8_t raw[24];
        const size_t rl = rnd(&s) % 24;
        for (size_t i = 0; i < rl; i++)
            raw[i] = (uint8_t)rnd(&s);
        ok = ok && hr_batch_append_bytes(b, 3, raw, rl) == HR_OK;
        uint8_t u[16];
        for (int i = 0; i < 16; i++)
            u[i] = (uint8_t)rnd(&s);
        ok = ok && hr_batch_append_uuid(b, 4, u) == HR_OK;
        const unsigned units = rnd(&s) % 100000, cents = rnd(&s) % 100;
        snprintf(text, sizeof text, "%u.%02u", units, cents);
        ok = ok && add_text(b, 5, text);
        if (!ok)
            return 0;
    }
    return 1;
}

/* A jsonb event: ISO times inside strings, session ids that repeat, ints,
 * decimals, booleans, a few event types with their own fields. */
static void json_event(char *out, size_t cap, size_t r, uint64_t *s)
{
    static const char *const ev[] = {"view", "click", "purchase", "search"};
    static char sids[16][17];
    static uint64_t sid_seed;
    if (sid_seed == 0 || r == 0) {
        sid_seed = 77;
        for (int i = 0; i < 16; i++) {
            for (int j = 0; j < 16; j++)
                sids[i][j] = "0123456789abcdef"[rnd(&sid_seed) % 16];
            sids[i][16] = '\0';
        }
    }
    /* the draws in a fixed order (argument evaluation order is not) */
    uint32_t x[6];
    for (int i = 0; i < 6; i++)
        x[i] = rnd(s);
    const unsigned ms = (unsigned)r * 731 + x[0] % 500;
    const unsigned e = x[1] % 4, sess = x[2] % 16;
    int k = snprintf(out, cap,
                     "{\"at\": \"2024-05-01T%02u:%02u:%02u.%03uZ\", "
                     "\"event\": \"%s\", \"session\": \"%s\", \"user\": %u",
                     ms / 3600000 % 24, ms / 60000 % 60, ms / 1000 % 60,
                     ms % 1000, ev[e], sids[sess], 1000 + sess * 37);
    if (e == 2)
        k += snprintf(out + k, cap - (size_t)k,
                      ", \"total\": %u.%02u, \"items\": %u, \"paid\": %s}",
                      x[3] % 500, x[4] % 100, 1 + x[5] % 5,
                      x[3] % 7 ? "true" : "false");
    else if (e == 3)
        k += snprintf(out + k, cap - (size_t)k,
                      ", \"query\": \"%s %s\", \"hits\": %u}", words[x[3] % 20],
                      words[x[4] % 20], x[5] % 300);
    else
        k += snprintf(out + k, cap - (size_t)k,
                      ", \"page\": \"/p/%u\", \"ms\": %u, \"ref\": null}",
                      x[3] % 80, x[4] % 2000);
    (void)k;
}

static int build_template(hr_batch *b, size_t rows, uint64_t s)
{
    static const char *const cols[] = {"payload", "line"};
    static const uint32_t oids[] = {HR_OID_JSONB, HR_OID_TEXT};
    if (!add_cols(b, "events", cols, oids, 2))
        return 0;
    for (size_t r = 0; r < rows; r++) {
        char text[512];
        json_event(text, sizeof text, r, &s);
        int ok = add_text(b, 0, text);
        uint32_t x[5];
        for (int i = 0; i < 5; i++)
            x[i] = rnd(&s);
        const unsigned t = (unsigned)r * 250 + x[0] % 250;
        snprintf(text, sizeof text,
                 "2024-05-01 10:%02u:%02u.%03u %s [worker-%u] GET /items/%u "
                 "took %ums",
                 t / 60000 % 60, t / 1000 % 60, t % 1000,
                 x[1] % 6 ? "INFO" : "WARN", x[2] % 4, x[3] % 100000,
                 x[4] % 900);
        ok = ok && add_text(b, 1, text);
        if (!ok)
            return 0;
    }
    return 1;
}

static int build_json_only(hr_batch *b, size_t rows, uint64_t s)
{
    static const char *const cols[] = {"payload"};
    static const uint32_t oids[] = {HR_OID_JSONB};
    if (!add_cols(b, "events", cols, oids, 1))
        return 0;
    for (size_t r = 0; r < rows; r++) {
        char text[512];
        json_event(text, sizeof text, r, &s);
        if (!add_text(b, 0, text))
            return 0;
    }
    return 1;
}

hr_batch *golden_batch(hr_env *env, int k, int index)
{
    hr_batch *b;
    if (hr_batch_new(env, &b) != HR_OK)
        return NULL;
    int ok = 0;
    switch (k) {
    case G_INTS:
        ok = build_ints(b, 1024, 1);
        break;
    case G_FLOATS:
        ok = build_floats(b, 1024, 2);
        break;
    case G_STRINGS:
        ok = build_strings(b, 1024, 3);
        break;
    case G_TEMPLATE:
        ok = build_template(b, 512, 4);
        break;
    case G_SNAPPY:
        ok = build_strings(b, 256, 5);
        break;
    case G_DICT:
    case G_DICT_USE:
        /* batch `index` of a stream of 64-row batches (below 128 rows:
         * ZSTD, with the dictionary once trained, not TEMPLATE) */
        ok = build_json_only(b, 64, 100 + (uint64_t)(index < 0 ? 0 : index));
        break;
    case G_SEALED:
        ok = build_ints(b, 64, 7);
        break;
    case G_EMPTY:
        ok = build_strings(b, 0, 8);
        break;
    default:
        break;
    }
    if (!ok) {
        hr_batch_free(b);
        return NULL;
    }
    return b;
}

int golden_setup_codec(hr_codec *codec, int k)
{
    int rc = hr_codec_add_key(codec, GOLDEN_KEY_ID, golden_key);
    if (rc == HR_OK && k == G_SNAPPY)
        rc = hr_codec_set_param(codec, HR_CODEC_PARAM_COMPRESSOR,
                                HR_CODEC_SNAPPY);
    if (rc == HR_OK && (k == G_DICT || k == G_DICT_USE))
        rc = hr_codec_set_param(codec, HR_CODEC_PARAM_DICT_MIN_BYTES, 4096);
    if (rc == HR_OK && k == G_SEALED)
        rc = hr_codec_set_encrypt_key(codec, GOLDEN_KEY_ID);
    return rc;
}
