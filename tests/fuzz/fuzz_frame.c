/*
 * fuzz_frame.c - libFuzzer target for hr_codec_decode, hr_frame_inspect and
 * hr_codec_import_dicts: every decoder of frame bytes a peer can send.
 *
 * The first input byte chooses the mode. Random bytes rarely survive the
 * XXH3 checksum, so mode 1 appends a correct checksum to the rest of the
 * input: the mutations then reach the header, schema and column decoders.
 * Seeds (tests/fuzz/corpus/frame) are real frames of tenant "t".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include <heliosrepl/heliosrepl.h>

static hr_env *env;
static hr_codec *codec;
static hr_batch *batch;

static void init_once(void)
{
    static const uint8_t key[32] = {7, 7, 7};
    if (codec)
        return;
    if (hr_env_new(&env, NULL) != HR_OK || hr_codec_new(env, &codec) != HR_OK ||
        hr_batch_new(env, &batch) != HR_OK)
        abort();
    hr_codec_add_key(codec, 1, key);
    hr_codec_set_param(codec, HR_CODEC_PARAM_MAX_ROWS, 1 << 16);
    hr_codec_set_param(codec, HR_CODEC_PARAM_MAX_BYTES, 64 << 20);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    if (size < 1)
        return 0;
    uint8_t mode = data[0] % 3;
    data++;
    size--;
    if (mode == 2) {
        hr_codec_import_dicts(codec, data, size);
        return 0;
    }
    uint8_t *frame = malloc(size + 8);
    if (!frame)
        return 0;
    memcpy(frame, data, size);
    size_t len = size;
    if (mode == 1) {
        uint64_t sum = XXH3_64bits(frame, size);
        memcpy(frame + size, &sum, 8);
        len += 8;
    }
    hr_frame_info info = {.size = sizeof info};
    hr_frame_inspect(frame, len, &info);
    int rc = hr_codec_decode(codec, frame, len, "t", batch);
    /* A failed decode must never hand out a partial batch. */
    if (rc != HR_OK && (hr_batch_columns(batch) != 0 || hr_batch_rows(batch) != 0))
        abort();
    if (rc == HR_OK) {
        /* Whatever decodes must re-encode and decode to the same batch. */
        const uint8_t *again;
        size_t again_len;
        hr_batch *copy = NULL;
        if (hr_codec_encode(codec, batch, "t", &again, &again_len) != HR_OK ||
            hr_batch_new(env, &copy) != HR_OK ||
            hr_codec_decode(codec, again, again_len, "t", copy) != HR_OK ||
            !hr_batch_equal(batch, copy))
            abort();
        hr_batch_free(copy);
    }
    free(frame);
    return 0;
}
