/* codec_fixtures.c - see codec_fixtures.h. */
#include "codec_fixtures.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static unsigned next_rand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

static const struct {
    const char *name;
    uint32_t oid;
} all_columns[] = {
    {"flag", HR_OID_BOOL},       {"small", HR_OID_INT2},
    {"mid", HR_OID_INT4},        {"id", HR_OID_INT8},
    {"ratio", HR_OID_FLOAT4},    {"price", HR_OID_FLOAT8},
    {"amount", HR_OID_NUMERIC},  {"note", HR_OID_TEXT},
    {"code", HR_OID_VARCHAR},    {"blob", HR_OID_BYTEA},
    {"day", HR_OID_DATE},        {"at", HR_OID_TIMESTAMP},
    {"at_tz", HR_OID_TIMESTAMPTZ}, {"uid", HR_OID_UUID},
    {"doc", HR_OID_JSON},        {"docb", HR_OID_JSONB},
    {"fixed", HR_OID_BPCHAR},
};

#define NCOLS (int)(sizeof all_columns / sizeof all_columns[0])

static int append_value(hr_batch *b, int col, size_t row, unsigned *s)
{
    char text[96];
    unsigned r = next_rand(s);
    switch (all_columns[col].oid) {
    case HR_OID_BOOL:
        return hr_batch_append_bool(b, col, r & 1);
    case HR_OID_INT2:
        return hr_batch_append_int64(b, col, (int64_t)(r % 65536) - 32768);
    case HR_OID_INT4:
        return hr_batch_append_int64(b, col, row % 7 == 3 ? INT32_MIN : (int64_t)r * 1000);
    case HR_OID_INT8:
        return hr_batch_append_int64(b, col, row == 1 ? INT64_MAX : (int64_t)row + 1000000);
    case HR_OID_FLOAT4: {
        static const float specials[] = {-0.0f, NAN, INFINITY, 1.5f};
        return hr_batch_append_float4(b, col, row % 5 == 0 ? specials[row / 5 % 4]
                                                           : (float)r / 7.0f);
    }
    case HR_OID_FLOAT8: {
        static const double specials[] = {-0.0, NAN, -INFINITY, 1e308, 4.9e-324};
        return hr_batch_append_float8(b, col, row % 6 == 0 ? specials[row / 6 % 5]
                                                           : (double)(r % 10000) / 100.0);
    }
    case HR_OID_DATE:
        return hr_batch_append_int64(b, col, 9000 + (int64_t)row);
    case HR_OID_TIMESTAMP:
    case HR_OID_TIMESTAMPTZ:
        return hr_batch_append_int64(b, col, 780000000000000 + (int64_t)row * 1000000 +
                                                 (int64_t)(r % 1000));
    case HR_OID_UUID: {
        uint8_t u[16];
        for (int i = 0; i < 16; i++)
            u[i] = (uint8_t)next_rand(s);
        return hr_batch_append_uuid(b, col, u);
    }
    case HR_OID_BYTEA: {
        uint8_t bytes[8] = {0, (uint8_t)r, 0xff, 0, 1, 2, 3, (uint8_t)row};
        return hr_batch_append_bytes(b, col, bytes, r % 9);
    }
    case HR_OID_JSON:
    case HR_OID_JSONB:
        snprintf(text, sizeof text, "{\"user\": \"u%u\", \"n\": %zu}", r % 50, row);
        return hr_batch_append_bytes(b, col, text, strlen(text));
    case HR_OID_NUMERIC:
        snprintf(text, sizeof text, "%u.%02u", r, r % 100);
        return hr_batch_append_bytes(b, col, text, strlen(text));
    default:
        if (row % 9 == 4)
            return hr_batch_append_bytes(b, col, "", 0); /* empty, not NULL */
        snprintf(text, sizeof text, "status-%u", r % 5);
        return hr_batch_append_bytes(b, col, text, strlen(text));
    }
}

hr_batch *fixture_all_types(hr_env *env, size_t rows, unsigned seed)
{
    hr_batch *b;
    if (hr_batch_new(env, &b) != HR_OK)
        return NULL;
    unsigned s = seed;
    int ok = hr_batch_set_relation(b, "shop", "everything") == HR_OK;
    for (int c = 0; ok && c < NCOLS; c++)
        ok = hr_batch_add_column(b, all_columns[c].name, all_columns[c].oid,
                                 c != 3) == c;
    for (size_t r = 0; ok && r < rows; r++) {
        for (int c = 0; ok && c < NCOLS; c++) {
            unsigned pick = next_rand(&s) % 13;
            if (c != 3 && pick == 0)
                ok = hr_batch_append_null(b, c) == HR_OK;
            else if (c != 3 && pick == 1)
                ok = hr_batch_append_unchanged_toast(b, c) == HR_OK;
            else
                ok = append_value(b, c, r, &s) == HR_OK;
        }
    }
    if (!ok) {
        hr_batch_free(b);
        return NULL;
    }
    return b;
}

hr_batch *fixture_json_events(hr_env *env, size_t rows, unsigned seed)
{
    static const char *const events[] = {"click", "view", "purchase", "signup",
                                         "logout"};
    hr_batch *b;
    if (hr_batch_new(env, &b) != HR_OK)
        return NULL;
    unsigned s = seed;
    int ok = hr_batch_set_relation(b, "app", "events") == HR_OK &&
             hr_batch_add_column(b, "id", HR_OID_INT8, 0) == 0 &&
             hr_batch_add_column(b, "payload", HR_OID_JSONB, 1) == 1;
    for (size_t r = 0; ok && r < rows; r++) {
        char json[256];
        unsigned a = next_rand(&s), c = next_rand(&s);
        snprintf(json, sizeof json,
                 "{\"ts\": %llu, \"user\": \"u%u\", \"event\": \"%s\", "
                 "\"props\": {\"page\": \"/p/%u\", \"ms\": %u, \"ok\": %s}}",
                 1700000000000ull + seed * 100000ull + r * 37, a % 500,
                 events[c % 5], c % 40, a % 3000, (a & 1) ? "true" : "false");
        ok = hr_batch_append_int64(b, 0, (int64_t)(seed * 100000 + r)) == HR_OK &&
             hr_batch_append_bytes(b, 1, json, strlen(json)) == HR_OK;
    }
    if (!ok) {
        hr_batch_free(b);
        return NULL;
    }
    return b;
}
