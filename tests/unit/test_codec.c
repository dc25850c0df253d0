/* test_codec.c - hr_codec: round trips, frames, sealing, bad input, limits. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <heliosrepl/heliosrepl.h>

#include "check_main.h"
#include "codec_fixtures.h"
#include "failing_allocator.h"

static hr_env *env;
static hr_codec *enc, *dec;
static hr_batch *out;

static const uint8_t key_a[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
static const uint8_t key_b[32] = {42, 42, 42};

static void setup(void)
{
    ck_assert_int_eq(hr_env_new(&env, NULL), HR_OK);
    ck_assert_int_eq(hr_codec_new(env, &enc), HR_OK);
    ck_assert_int_eq(hr_codec_new(env, &dec), HR_OK);
    ck_assert_int_eq(hr_batch_new(env, &out), HR_OK);
}

static void teardown(void)
{
    hr_batch_free(out);
    hr_codec_free(enc);
    hr_codec_free(dec);
    hr_env_free(env);
}

/* Encode `b` for `tenant`; copy the frame (the codec reuses its buffer). */
static uint8_t *encode_copy(hr_codec *c, const hr_batch *b, const char *tenant,
                            size_t *len)
{
    const uint8_t *frame;
    int rc = hr_codec_encode(c, b, tenant, &frame, len);
    ck_assert_msg(rc == HR_OK, "encode: %s", hr_codec_errmsg(c));
    uint8_t *copy = malloc(*len);
    memcpy(copy, frame, *len);
    return copy;
}

START_TEST(round_trip_every_type)
{
    static const size_t sizes[] = {1, 2, 17, 64, 1024, 5000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        hr_batch *b = fixture_all_types(env, sizes[i], (unsigned)i + 1);
        ck_assert_ptr_nonnull(b);
        size_t len;
        uint8_t *frame = encode_copy(enc, b, "tenant-1", &len);
        int rc = hr_codec_decode(dec, frame, len, "tenant-1", out);
        ck_assert_msg(rc == HR_OK, "decode %zu rows: %s", sizes[i],
                      hr_codec_errmsg(dec));
        ck_assert_msg(hr_batch_equal(b, out), "%zu rows differ", sizes[i]);
        ck_assert_uint_eq(hr_batch_rows(out), sizes[i]);
        free(frame);
        hr_batch_free(b);
    }
}
END_TEST

START_TEST(round_trip_zero_rows_and_all_special)
{
    hr_batch *b;
    ck_assert_int_eq(hr_batch_new(env, &b), HR_OK);
    hr_batch_add_column(b, "t", HR_OID_TEXT, 1);
    hr_batch_add_column(b, "i", HR_OID_INT8, 1);
    size_t len;
    uint8_t *frame = encode_copy(enc, b, "t", &len);
    ck_assert_int_eq(hr_codec_decode(dec, frame, len, "t", out), HR_OK);
    ck_assert(hr_batch_equal(b, out));
    free(frame);
    for (int r = 0; r < 100; r++) {
        hr_batch_append_null(b, 0);
        hr_batch_append_unchanged_toast(b, 1);
    }
    frame = encode_copy(enc, b, "t", &len);
    ck_assert_int_eq(hr_codec_decode(dec, frame, len, "t", out), HR_OK);
    ck_assert(hr_batch_equal(b, out));
    free(frame);
    hr_batch_free(b);
}
END_TEST

START_TEST(sequences_compress)
{
    hr_batch *b;
    ck_assert_int_eq(hr_batch_new(env, &b), HR_OK);
    hr_batch_add_column(b, "id", HR_OID_INT8, 0);
    hr_batch_add_column(b, "at", HR_OID_TIMESTAMPTZ, 0);
    for (int r = 0; r < 1024; r++) {
        hr_batch_append_int64(b, 0, 5000000 + r);
        hr_batch_append_int64(b, 1, 780000000000000 + (int64_t)r * 1000000);
    }
    size_t len;
    uint8_t *frame = encode_copy(enc, b, "t", &len);
    /* 16 KiB raw; header + schema + two tiny columns */
    ck_assert_msg(len * 50 < hr_batch_raw_size(b), "frame %zu bytes", len);
    free(frame);
    hr_batch_free(b);
}
END_TEST

START_TEST(inspect_reads_the_header)
{
    hr_batch *b = fixture_all_types(env, 10, 3);
    size_t len;
    uint8_t *frame = encode_copy(enc, b, "acme", &len);
    hr_frame_info info = {.size = sizeof info};
    ck_assert_int_eq(hr_frame_inspect(frame, len, &info), HR_OK);
    ck_assert_uint_eq(info.format_version, 1);
    ck_assert_uint_eq(info.rows, 10);
    ck_assert_uint_eq(info.columns, (unsigned)hr_batch_columns(b));
    ck_assert_uint_eq(info.key_id, 0);
    ck_assert_uint_eq(info.flags & HR_FRAME_FLAG_ENCRYPTED, 0);
    hr_frame_info small = {.size = sizeof small - 1};
    ck_assert_int_eq(hr_frame_inspect(frame, len, &small), HR_EINVAL);
    /* Same schema, other rows: same fingerprint. */
    hr_batch *b2 = fixture_all_types(env, 20, 4);
    size_t len2;
    uint8_t *frame2 = encode_copy(enc, b2, "acme", &len2);
    hr_frame_info info2 = {.size = sizeof info2};
    ck_assert_int_eq(hr_frame_inspect(frame2, len2, &info2), HR_OK);
    ck_assert_uint_eq(info.schema_fingerprint, info2.schema_fingerprint);
    free(frame);
    free(frame2);
    hr_batch_free(b);
    hr_batch_free(b2);
}
END_TEST

START_TEST(wrong_tenant_is_refused)
{
    hr_batch *b = fixture_all_types(env, 8, 5);
    size_t len;
    uint8_t *frame = encode_copy(enc, b, "tenant-a", &len);
    ck_assert_int_eq(hr_codec_decode(dec, frame, len, "tenant-b", out), HR_EAUTH);
    ck_assert_ptr_nonnull(strstr(hr_codec_errmsg(dec), "another tenant"));
    ck_assert_int_eq(hr_batch_columns(out), 0);
    ck_assert_int_eq(hr_codec_decode(dec, frame, len, "", out), HR_EINVAL);
    free(frame);
    hr_batch_free(b);
}
END_TEST

START_TEST(sealed_frames_and_key_rotation)
{
    hr_batch *b = fixture_all_types(env, 50, 6);
    ck_assert_int_eq(hr_codec_set_encrypt_key(enc, 1), HR_ENOTFOUND);
    ck_assert_int_eq(hr_codec_add_key(enc, 1, key_a), HR_OK);
    ck_assert_int_eq(hr_codec_add_key(enc, 1, key_b), HR_EINVAL);
    ck_assert_int_eq(hr_codec_add_key(enc, 0, key_b), HR_EINVAL);
    ck_assert_int_eq(hr_codec_add_key(enc, 2, key_b), HR_OK);
    ck_assert_int_eq(hr_codec_set_encrypt_key(enc, 1), HR_OK);
    size_t len1, len2;
    uint8_t *f1 = encode_copy(enc, b, "t", &len1);
    ck_assert_int_eq(hr_codec_set_encrypt_key(enc, 2), HR_OK);
    uint8_t *f2 = encode_copy(enc, b, "t", &len2);

    hr_frame_info info = {.size = sizeof info};
    ck_assert_int_eq(hr_frame_inspect(f1, len1, &info), HR_OK);
    ck_assert_uint_eq(info.key_id, 1);
    ck_assert(info.flags & HR_FRAME_FLAG_ENCRYPTED);

    /* No key: refused. */
    ck_assert_int_eq(hr_codec_decode(dec, f1, len1, "t", out), HR_EAUTH);
    /* Wrong bytes under the right id: refused by the tag. */
    ck_assert_int_eq(hr_codec_add_key(dec, 1, key_b), HR_OK);
    ck_assert_int_eq(hr_codec_decode(dec, f1, len1, "t", out), HR_EAUTH);
    ck_assert_int_eq(hr_codec_remove_key(dec, 1), HR_OK);
    ck_assert_int_eq(hr_codec_remove_key(dec, 1), HR_ENOTFOUND);
    ck_assert_int_eq(hr_codec_add_key(dec, 1, key_a), HR_OK);
    ck_assert_int_eq(hr_codec_add_key(dec, 2, key_b), HR_OK);
    ck_assert_int_eq(hr_codec_decode(dec, f1, len1, "t", out), HR_OK);
    ck_assert(hr_batch_equal(b, out));
    ck_assert_int_eq(hr_codec_decode(dec, f2, len2, "t", out), HR_OK);
    ck_assert(hr_batch_equal(b, out));
    /* Tenant is bound: another tenant's id fails even with the key. */
    ck_assert_int_eq(hr_codec_decode(dec, f2, len2, "u", out), HR_EAUTH);
    /* Two frames of the same batch never share a nonce. */
    size_t len3;
    uint8_t *f3 = encode_copy(enc, b, "t", &len3);
    ck_assert(memcmp(f2 + 32, f3 + 32, 12) != 0);

    /* Plaintext refused once encryption is required. */
    ck_assert_int_eq(hr_codec_set_encrypt_key(enc, 0), HR_OK);
    size_t len4;
    uint8_t *f4 = encode_copy(enc, b, "t", &len4);
    ck_assert_int_eq(hr_codec_decode(dec, f4, len4, "t", out), HR_OK);
    ck_assert_int_eq(hr_codec_set_param(dec, HR_CODEC_PARAM_REQUIRE_ENCRYPTION, 1),
                     HR_OK);
    ck_assert_int_eq(hr_codec_decode(dec, f4, len4, "t", out), HR_EAUTH);
    ck_assert_int_eq(hr_batch_columns(out), 0);
    free(f1);
    free(f2);
    free(f3);
    free(f4);
    hr_batch_free(b);
}
END_TEST

/* Flip each byte of the frame: every flip must be refused, nothing handed out. */
static void check_every_flip(const uint8_t *frame, size_t len, const char *tenant)
{
    uint8_t *copy = malloc(len);
    for (size_t i = 0; i < len; i++) {
        memcpy(copy, frame, len);
        copy[i] ^= (uint8_t)(1u << (i % 8));
        int rc = hr_codec_decode(dec, copy, len, tenant, out);
        ck_assert_msg(rc == HR_ECORRUPT || rc == HR_EAUTH || rc == HR_EVERSION,
                      "flip at %zu of %zu: %d (%s)", i, len, rc,
                      hr_codec_errmsg(dec));
        ck_assert_int_eq(hr_batch_columns(out), 0);
    }
    for (size_t cut = 0; cut < len; cut++) {
        int rc = hr_codec_decode(dec, frame, cut, tenant, out);
        ck_assert_msg(rc == HR_ECORRUPT, "truncated to %zu: %d", cut, rc);
    }
    free(copy);
}

START_TEST(every_byte_flip_is_rejected)
{
    hr_batch *b = fixture_all_types(env, 40, 7);
    size_t len;
    uint8_t *plain = encode_copy(enc, b, "t", &len);
    check_every_flip(plain, len, "t");
    free(plain);
    ck_assert_int_eq(hr_codec_add_key(enc, 9, key_a), HR_OK);
    ck_assert_int_eq(hr_codec_add_key(dec, 9, key_a), HR_OK);
    ck_assert_int_eq(hr_codec_set_encrypt_key(enc, 9), HR_OK);
    uint8_t *sealed = encode_copy(enc, b, "t", &len);
    check_every_flip(sealed, len, "t");
    ck_assert_int_eq(hr_codec_decode(dec, sealed, len, "t", out), HR_OK);
    ck_assert(hr_batch_equal(b, out));
    free(sealed);
    hr_batch_free(b);
}
END_TEST

START_TEST(limits_are_enforced)
{
    hr_batch *b = fixture_all_types(env, 300, 8);
    size_t len;
    uint8_t *frame = encode_copy(enc, b, "t", &len);
    ck_assert_int_eq(hr_codec_set_param(dec, HR_CODEC_PARAM_MAX_ROWS, 299), HR_OK);
    ck_assert_int_eq(hr_codec_decode(dec, frame, len, "t", out), HR_ELIMIT);
    ck_assert_int_eq(hr_codec_set_param(dec, HR_CODEC_PARAM_MAX_ROWS, 300), HR_OK);
    ck_assert_int_eq(hr_codec_set_param(dec, HR_CODEC_PARAM_MAX_BYTES, 4096), HR_OK);
    ck_assert_int_eq(hr_codec_decode(dec, frame, len, "t", out), HR_ELIMIT);
    ck_assert_int_eq(hr_codec_set_param(dec, HR_CODEC_PARAM_MAX_BYTES, 1 << 20), HR_OK);
    ck_assert_int_eq(hr_codec_decode(dec, frame, len, "t", out), HR_OK);
    free(frame);
    hr_batch_free(b);
}
END_TEST

START_TEST(params_have_bounds)
{
    int64_t lo, hi, v;
    ck_assert_int_eq(hr_codec_param_bounds(HR_CODEC_PARAM_LEVEL, &lo, &hi), HR_OK);
    ck_assert_int_eq(lo, 1);
    ck_assert_int_eq(hi, 19);
    ck_assert_int_eq(hr_codec_param_bounds((hr_codec_param)99, &lo, &hi), HR_EINVAL);
    ck_assert_int_eq(hr_codec_set_param(enc, HR_CODEC_PARAM_LEVEL, 20), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_codec_errmsg(enc), "outside"));
    ck_assert_int_eq(hr_codec_set_param(enc, HR_CODEC_PARAM_LEVEL, 19), HR_OK);
    ck_assert_int_eq(hr_codec_get_param(enc, HR_CODEC_PARAM_LEVEL, &v), HR_OK);
    ck_assert_int_eq(v, 19);
    ck_assert_int_eq(hr_codec_set_param(enc, HR_CODEC_PARAM_COMPRESSOR,
                                        HR_CODEC_SNAPPY), HR_OK);
    hr_batch *b = fixture_all_types(env, 100, 9);
    size_t len;
    uint8_t *frame = encode_copy(enc, b, "t", &len);
    ck_assert_int_eq(hr_codec_decode(dec, frame, len, "t", out), HR_OK);
    ck_assert(hr_batch_equal(b, out));
    free(frame);
    hr_batch_free(b);
}
END_TEST

START_TEST(encode_rejects_ragged_batches)
{
    hr_batch *b;
    ck_assert_int_eq(hr_batch_new(env, &b), HR_OK);
    const uint8_t *frame;
    size_t len;
    ck_assert_int_eq(hr_codec_encode(enc, b, "t", &frame, &len), HR_EINVAL);
    hr_batch_add_column(b, "a", HR_OID_INT4, 0);
    hr_batch_add_column(b, "b", HR_OID_INT4, 0);
    hr_batch_append_int64(b, 0, 1);
    ck_assert_int_eq(hr_codec_encode(enc, b, "t", &frame, &len), HR_EINVAL);
    ck_assert_ptr_nonnull(strstr(hr_codec_errmsg(enc), "\"b\""));
    hr_batch_append_int64(b, 1, 1);
    char long_tenant[300];
    memset(long_tenant, 'x', sizeof long_tenant - 1);
    long_tenant[sizeof long_tenant - 1] = 0;
    ck_assert_int_eq(hr_codec_encode(enc, b, long_tenant, &frame, &len), HR_EINVAL);
    ck_assert_int_eq(hr_codec_encode(enc, b, "t", &frame, &len), HR_OK);
    hr_batch_free(b);
}
END_TEST

START_TEST(dictionaries_travel_inline_and_by_export)
{
    ck_assert_int_eq(hr_codec_set_param(enc, HR_CODEC_PARAM_DICT_MIN_BYTES, 65536),
                     HR_OK);
    hr_codec *late;
    ck_assert_int_eq(hr_codec_new(env, &late), HR_OK);
    int saw_dict = 0;
    uint8_t *after = NULL;
    size_t after_len = 0;
    for (unsigned i = 0; i < 40 && !after; i++) {
        hr_batch *b = fixture_json_events(env, 256, i);
        size_t len;
        uint8_t *frame = encode_copy(enc, b, "t", &len);
        hr_frame_info info = {.size = sizeof info};
        ck_assert_int_eq(hr_frame_inspect(frame, len, &info), HR_OK);
        ck_assert_int_eq(hr_codec_decode(dec, frame, len, "t", out), HR_OK);
        ck_assert(hr_batch_equal(b, out));
        if (saw_dict)
            after = frame, after_len = len;
        else
            free(frame);
        saw_dict |= (info.flags & HR_FRAME_FLAG_HAS_DICT) != 0;
        hr_batch_free(b);
    }
    ck_assert_msg(after, "no dictionary was trained");
    /* A decoder that missed the frame carrying the dictionary. */
    ck_assert_int_eq(hr_codec_decode(late, after, after_len, "t", out), HR_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(hr_codec_errmsg(late), "dictionary"));
    const uint8_t *blob;
    size_t blob_len;
    ck_assert_int_eq(hr_codec_export_dicts(dec, &blob, &blob_len), HR_OK);
    ck_assert_int_eq(hr_codec_import_dicts(late, blob, blob_len - 1), HR_ECORRUPT);
    ck_assert_int_eq(hr_codec_import_dicts(late, blob, blob_len), HR_OK);
    ck_assert_int_eq(hr_codec_decode(late, after, after_len, "t", out), HR_OK);
    free(after);
    hr_codec_free(late);
}
END_TEST

typedef struct codec_state {
    hr_codec *enc, *dec;
    hr_batch *in, *out;
} codec_state;

static int codec_op(hr_env *e, void *state)
{
    codec_state *s = state;
    int rc;
    s->in = fixture_all_types(e, 200, 11);
    if (!s->in)
        return HR_ENOMEM;
    if ((rc = hr_codec_new(e, &s->enc)) != HR_OK ||
        (rc = hr_codec_new(e, &s->dec)) != HR_OK ||
        (rc = hr_batch_new(e, &s->out)) != HR_OK ||
        (rc = hr_codec_add_key(s->enc, 3, key_a)) != HR_OK ||
        (rc = hr_codec_add_key(s->dec, 3, key_a)) != HR_OK ||
        (rc = hr_codec_set_encrypt_key(s->enc, 3)) != HR_OK)
        return rc;
    const uint8_t *frame;
    size_t len;
    if ((rc = hr_codec_encode(s->enc, s->in, "t", &frame, &len)) != HR_OK)
        return rc;
    if ((rc = hr_codec_decode(s->dec, frame, len, "t", s->out)) != HR_OK)
        return rc;
    return hr_batch_equal(s->in, s->out) ? HR_OK : HR_EINTERNAL;
}

static void codec_cleanup(void *state)
{
    codec_state *s = state;
    hr_batch_free(s->in);
    hr_batch_free(s->out);
    hr_codec_free(s->enc);
    hr_codec_free(s->dec);
    memset(s, 0, sizeof *s);
}

START_TEST(every_allocation_failure_is_enomem)
{
    codec_state s = {0};
    char why[160] = "";
    long points = failing_allocator_sweep(codec_op, codec_cleanup, &s, why,
                                          sizeof why);
    ck_assert_msg(points > 10, "sweep: %ld (%s)", points, why);
}
END_TEST

static Suite *codec_suite(void)
{
    Suite *s = suite_create("codec");
    TCase *tc = tcase_create("codec");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, round_trip_every_type);
    tcase_add_test(tc, round_trip_zero_rows_and_all_special);
    tcase_add_test(tc, sequences_compress);
    tcase_add_test(tc, inspect_reads_the_header);
    tcase_add_test(tc, wrong_tenant_is_refused);
    tcase_add_test(tc, sealed_frames_and_key_rotation);
    tcase_add_test(tc, every_byte_flip_is_rejected);
    tcase_add_test(tc, limits_are_enforced);
    tcase_add_test(tc, params_have_bounds);
    tcase_add_test(tc, encode_rejects_ragged_batches);
    tcase_add_test(tc, dictionaries_travel_inline_and_by_export);
    tcase_add_test(tc, every_allocation_failure_is_enomem);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(codec_suite());
}
