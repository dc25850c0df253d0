/*
 * make_frame_corpus.c - writes the seed corpus of fuzz_frame: real frames of
 * tenant "t" (plaintext, sealed with fuzz_frame's key 1, with an inline
 * dictionary), each prefixed with fuzz_frame's mode byte.
 * Usage: make_frame_corpus DIR
 */
#include <stdio.h>
#include <stdlib.h>

#include <heliosrepl/heliosrepl.h>

#include "codec_fixtures.h"

static void write_seed(const char *dir, const char *name, uint8_t mode,
                       const uint8_t *bytes, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(&mode, 1, 1, f) != 1 || fwrite(bytes, 1, len, f) != len) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

int main(int argc, char **argv)
{
    static const uint8_t key[32] = {7, 7, 7};
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    hr_env *env;
    hr_codec *codec;
    if (hr_env_new(&env, NULL) != HR_OK || hr_codec_new(env, &codec) != HR_OK)
        return 1;
    hr_codec_add_key(codec, 1, key);
    hr_codec_set_param(codec, HR_CODEC_PARAM_DICT_MIN_BYTES, 16384);
    static const size_t sizes[] = {1, 3, 20, 64, 200};
    char name[64];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        hr_batch *b = fixture_all_types(env, sizes[i], (unsigned)i + 1);
        const uint8_t *frame;
        size_t len;
        if (!b || hr_codec_encode(codec, b, "t", &frame, &len) != HR_OK)
            return 1;
        snprintf(name, sizeof name, "plain-%zu", sizes[i]);
        write_seed(argv[1], name, 0, frame, len);
        /* mode 1: the target appends the checksum itself */
        snprintf(name, sizeof name, "fixsum-%zu", sizes[i]);
        write_seed(argv[1], name, 1, frame, len - 8);
        hr_codec_set_encrypt_key(codec, 1);
        if (hr_codec_encode(codec, b, "t", &frame, &len) != HR_OK)
            return 1;
        snprintf(name, sizeof name, "sealed-%zu", sizes[i]);
        write_seed(argv[1], name, 0, frame, len);
        hr_codec_set_encrypt_key(codec, 0);
        hr_batch_free(b);
    }
    for (unsigned i = 0; i < 12; i++) {
        hr_batch *b = fixture_json_events(env, 64, i);
        const uint8_t *frame;
        size_t len;
        hr_frame_info info = {.size = sizeof info};
        if (!b || hr_codec_encode(codec, b, "t", &frame, &len) != HR_OK ||
            hr_frame_inspect(frame, len, &info) != HR_OK)
            return 1;
        if (info.flags & HR_FRAME_FLAG_HAS_DICT || i == 0) {
            snprintf(name, sizeof name, "json-%u", i);
            write_seed(argv[1], name, 1, frame, len - 8);
        }
        hr_batch_free(b);
    }
    const uint8_t *blob;
    size_t blob_len;
    if (hr_codec_export_dicts(codec, &blob, &blob_len) != HR_OK)
        return 1;
    write_seed(argv[1], "dicts", 2, blob, blob_len);
    hr_codec_free(codec);
    hr_env_free(env);
    return 0;
}
