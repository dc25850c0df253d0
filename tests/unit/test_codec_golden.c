/*
 * test_codec_golden.c - frames of format version 1 stay decodable forever.
 *
 * tests/golden/v1-*.frame were written once by tests/golden/make_golden.c
 * and are committed; they are never regenerated. Each must decode (with a
 * fresh codec, as a reader that never saw the writer's stream) to exactly
 * the batch golden_batches.c builds, and its header must hold the encoding
 * ids below: together the frames use every scheme of docs/format.md. A
 * change that fails here would break frames already stored or in flight.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "golden_batches.h"

/* Encoding ids (storage << 4 | scheme) per column, as written. */
static const struct {
    const char *name;
    unsigned columns;
    uint8_t ids[9];
} expected[GOLDEN_COUNT] = {
    /* int8 DELTA, bool FOR, int4 RLE, int2 FOR, date RLE, timestamp
     * DELTA, timestamptz DELTA (NULL/TOAST states), int8 DOD, int8 FOR */
    {"ints", 9, {0x13, 0x02, 0x15, 0x12, 0x15, 0x13, 0x13, 0x14, 0x12}},
    /* float8 ALP, float4 ALP, float8 ALP with exceptions, float8 PLAIN */
    {"floats", 4, {0x31, 0x21, 0x31, 0x30}},
    /* DICT (zstd codes), DICT (int codes, empty strings, NULL/TOAST),
     * ZSTD, PLAIN (bytea), uuid PLAIN, TEMPLATE (numeric text) */
    {"strings", 6, {0x51, 0x51, 0x52, 0x50, 0x40, 0x54}},
    /* jsonb TEMPLATE (nested TEMPLATE and DICT columns), log lines */
    {"template", 2, {0x54, 0x54}},
    {"snappy", 6, {0x51, 0x51, 0x53, 0x50, 0x40, 0x54}},
    /* ZSTD, and the dictionary trained on it (used from the next frame) */
    {"dict", 1, {0x52}},
    /* sealed: int PLAIN and CONST among them */
    {"sealed", 9, {0x13, 0x02, 0x15, 0x12, 0x11, 0x13, 0x13, 0x14, 0x10}},
    /* 0 rows: no values in any column */
    {"empty", 6, {0x5f, 0x5f, 0x5f, 0x5f, 0x4f, 0x5f}},
    /* ZSTD using the dictionary "dict" shipped */
    {"dictuse", 1, {0x52}},
};

static uint8_t *read_frame(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/golden/v1-%s.frame", HR_SOURCE_DIR,
             name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "missing golden frame %s", path);
    uint8_t *buf = malloc(1 << 20);
    ck_assert_ptr_nonnull(buf);
    *len = fread(buf, 1, 1 << 20, f);
    ck_assert_int_eq(ferror(f), 0);
    ck_assert_msg(feof(f), "%s: larger than 1 MiB", path);
    fclose(f);
    return buf;
}

START_TEST(golden_frame_decodes)
{
    const int k = _i;
    const char *name = golden_name(k);
    ck_assert_str_eq(name, expected[k].name);
    size_t len;
    uint8_t *frame = read_frame(name, &len);

    hr_frame_info info = {.size = sizeof info};
    ck_assert_int_eq(hr_frame_inspect(frame, len, &info), HR_OK);
    ck_assert_uint_eq(info.format_version, 1);
    ck_assert_uint_eq(info.columns, expected[k].columns);
    const int sealed = (info.flags & HR_FRAME_FLAG_ENCRYPTED) != 0;
    ck_assert_int_eq(sealed, strcmp(name, "sealed") == 0);
    ck_assert_uint_eq(info.key_id, sealed ? GOLDEN_KEY_ID : 0);
    ck_assert_int_eq((info.flags & HR_FRAME_FLAG_HAS_DICT) != 0,
                     k == GOLDEN_DICT);
    /* The encoding ids, read where docs/format.md puts them. */
    ck_assert_int_eq(memcmp(frame, "HRBF", 4), 0);
    const size_t ids_at = 32 + (sealed ? 12 : 0);
    for (unsigned c = 0; c < expected[k].columns; c++)
        ck_assert_msg(frame[ids_at + c] == expected[k].ids[c],
                      "%s column %u: encoding id 0x%02x, expected 0x%02x", name,
                      c, frame[ids_at + c], expected[k].ids[c]);

    hr_env *env;
    hr_codec *codec;
    hr_batch *got, *want;
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
    ck_assert_int_eq(hr_codec_new(env, &codec), HR_OK);
    ck_assert_int_eq(hr_codec_add_key(codec, GOLDEN_KEY_ID, golden_key), HR_OK);
    ck_assert_int_eq(hr_batch_new(env, &got), HR_OK);
    if (k == GOLDEN_DICT_USE) {
        /* Without the dictionary it names: HR_ENOTFOUND, not a wrong
         * batch; after the frame that shipped it: decodes. */
        ck_assert_int_eq(hr_codec_decode(codec, frame, len, GOLDEN_TENANT, got),
                         HR_ENOTFOUND);
        size_t ship_len;
        uint8_t *ship = read_frame(golden_name(GOLDEN_DICT), &ship_len);
        ck_assert_int_eq(
            hr_codec_decode(codec, ship, ship_len, GOLDEN_TENANT, got), HR_OK);
        free(ship);
    }
    int rc = hr_codec_decode(codec, frame, len, GOLDEN_TENANT, got);
    ck_assert_msg(rc == HR_OK, "%s: %d %s", name, rc, hr_codec_errmsg(codec));
    want = golden_batch(env, k,
                        k == GOLDEN_DICT       ? GOLDEN_DICT_INDEX
                        : k == GOLDEN_DICT_USE ? GOLDEN_DICT_USE_INDEX
                                               : 0);
    ck_assert_ptr_nonnull(want);
    ck_assert_uint_eq(hr_batch_rows(got), info.rows);
    ck_assert_msg(hr_batch_equal(got, want), "%s: decoded batch differs", name);
    if (k == GOLDEN_DICT) { /* the dictionary came with the frame */
        const uint8_t *blob;
        size_t blob_len;
        ck_assert_int_eq(hr_codec_export_dicts(codec, &blob, &blob_len), HR_OK);
        ck_assert_uint_gt(blob_len, 1000);
    }
    /* Another tenant, or a sealed frame without its key: refused. */
    ck_assert_int_eq(hr_codec_decode(codec, frame, len, "u", got), HR_EAUTH);
    if (sealed) {
        ck_assert_int_eq(hr_codec_remove_key(codec, GOLDEN_KEY_ID), HR_OK);
        ck_assert_int_eq(hr_codec_decode(codec, frame, len, GOLDEN_TENANT, got),
                         HR_EAUTH);
    }
    hr_batch_free(want);
    hr_batch_free(got);
    hr_codec_free(codec);
    hr_env_free(env);
    free(frame);
}
END_TEST

static Suite *codec_golden_suite(void)
{
    Suite *s = suite_create("codec_golden");
    TCase *tc = tcase_create("golden");
    tcase_add_loop_test(tc, golden_frame_decodes, 0, GOLDEN_COUNT);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(codec_golden_suite());
}
