/*
 * hr_codec_demo.c - build a batch of orders, seal it into one frame for a
 * tenant, and decode it back: the path every batch takes between the source
 * and the target. Prints the sizes and what the decoder does with a frame
 * meant for another tenant.
 */
#include <stdio.h>
#include <string.h>

#include <heliosrepl/heliosrepl.h>

#define CHECK(call)                                                          \
    do {                                                                     \
        int rc_ = (call);                                                    \
        if (rc_ < 0) {                                                       \
            fprintf(stderr, "%s: %s\n", #call, hr_strerror(rc_));            \
            return 1;                                                        \
        }                                                                    \
    } while (0)

static int build_orders(hr_batch *b, int rows)
{
    static const char *const states[] = {"new", "paid", "shipped", "returned"};
    CHECK(hr_batch_set_relation(b, "shop", "orders"));
    CHECK(hr_batch_add_column(b, "id", HR_OID_INT8, 0));
    CHECK(hr_batch_add_column(b, "created_at", HR_OID_TIMESTAMPTZ, 0));
    CHECK(hr_batch_add_column(b, "status", HR_OID_TEXT, 0));
    CHECK(hr_batch_add_column(b, "amount", HR_OID_FLOAT8, 1));
    long long cents = 1999; /* amounts are decimals, as a shop keeps them */
    for (int r = 0; r < rows; r++) {
        CHECK(hr_batch_append_int64(b, 0, 100000 + r));
        /* 2024-05-01 00:00 UTC in microseconds since 2000-01-01, 1 s apart */
        CHECK(hr_batch_append_int64(b, 1, 767750400000000 + r * 1000000LL));
        CHECK(hr_batch_append_bytes(b, 2, states[r % 4], strlen(states[r % 4])));
        cents += (r % 7) * 25 - 75;
        if (r % 10 == 9)
            CHECK(hr_batch_append_null(b, 3));
        else
            CHECK(hr_batch_append_float8(b, 3, (double)cents / 100.0));
    }
    return 0;
}

int main(void)
{
    static const uint8_t key[HR_CODEC_KEY_SIZE] = "0123456789abcdef0123456789abcde";
    hr_env *env;
    hr_batch *orders, *decoded;
    hr_codec *encoder, *decoder;
    CHECK(hr_env_new(&env, NULL));
    CHECK(hr_batch_new(env, &orders));
    CHECK(hr_batch_new(env, &decoded));
    CHECK(hr_codec_new(env, &encoder));
    CHECK(hr_codec_new(env, &decoder));
    if (build_orders(orders, 1024) != 0)
        return 1;

    /* Both sides load the key; the decoder refuses anything unsealed. */
    CHECK(hr_codec_add_key(encoder, 1, key));
    CHECK(hr_codec_set_encrypt_key(encoder, 1));
    CHECK(hr_codec_add_key(decoder, 1, key));
    CHECK(hr_codec_set_param(decoder, HR_CODEC_PARAM_REQUIRE_ENCRYPTION, 1));

    const uint8_t *frame;
    size_t frame_len;
    CHECK(hr_codec_encode(encoder, orders, "acme", &frame, &frame_len));
    size_t raw = hr_batch_raw_size(orders);
    printf("%zu rows, %zu bytes raw -> %zu bytes sealed frame (%.1fx)\n",
           hr_batch_rows(orders), raw, frame_len, (double)raw / (double)frame_len);

    CHECK(hr_codec_decode(decoder, frame, frame_len, "acme", decoded));
    printf("decoded for acme: %s\n",
           hr_batch_equal(orders, decoded) ? "identical" : "DIFFERENT");

    int rc = hr_codec_decode(decoder, frame, frame_len, "globex", decoded);
    printf("decoded for globex: %s (%s)\n", hr_status_name(rc),
           hr_codec_errmsg(decoder));

    hr_codec_free(encoder);
    hr_codec_free(decoder);
    hr_batch_free(orders);
    hr_batch_free(decoded);
    hr_env_free(env);
    return rc == HR_EAUTH ? 0 : 1;
}
