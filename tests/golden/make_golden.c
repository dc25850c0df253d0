/*
 * make_golden.c - writes the golden frames tests/golden/v1-NAME.frame (see
 * golden_batches.h). Run by hand, once per new frame: frames already
 * committed are never rewritten (an existing file is left alone), since
 * their whole point is that old bytes keep decoding.
 *
 *   make_golden DIR        writes the missing frames into DIR and prints,
 *                          per frame, its size and encoding ids (the table
 *                          in test_codec_golden.c)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden_batches.h"

static int encode_one(hr_env *env, int k, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/v1-%s.frame", dir, golden_name(k));
    hr_codec *codec = NULL;
    if (hr_codec_new(env, &codec) != HR_OK ||
        golden_setup_codec(codec, k) != HR_OK)
        return 1;
    const uint8_t *frame = NULL;
    size_t len = 0;
    int index = 0, shipped = 0;
    for (;; index++) {
        hr_batch *b = golden_batch(env, k, index);
        if (!b ||
            hr_codec_encode(codec, b, GOLDEN_TENANT, &frame, &len) != HR_OK) {
            fprintf(stderr, "%s: %s\n", golden_name(k), hr_codec_errmsg(codec));
            return 1;
        }
        hr_batch_free(b);
        hr_frame_info info = {.size = sizeof info};
        if (hr_frame_inspect(frame, len, &info) != HR_OK)
            return 1;
        /* "dict": the first frame shipping a dictionary; "dictuse": the
         * frame after it */
        if (k == GOLDEN_DICT_USE && shipped)
            break;
        shipped = (info.flags & HR_FRAME_FLAG_HAS_DICT) != 0;
        if (k != GOLDEN_DICT_USE && (k != GOLDEN_DICT || shipped))
            break;
        if (index == 1000)
            return 1;
    }
    const size_t ids_at = 32 + (frame[5] & HR_FRAME_FLAG_ENCRYPTED ? 12 : 0);
    const unsigned columns = (unsigned)(frame[6] | frame[7] << 8);
    printf("%-9s %6zu bytes, batch index %d, encoding ids", golden_name(k), len,
           index);
    for (unsigned c = 0; c < columns; c++)
        printf(" 0x%02x", frame[ids_at + c]);
    printf("\n");
    FILE *f = fopen(path, "rb");
    if (f) {
        fclose(f);
        printf("          %s exists: left as it is\n", path);
    } else if (!(f = fopen(path, "wb")) || fwrite(frame, 1, len, f) != len ||
               fclose(f) != 0) {
        perror(path);
        return 1;
    }
    hr_codec_free(codec);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_golden DIR\n");
        return 2;
    }
    hr_env *env;
    if (hr_env_new(&env, NULL) != HR_OK)
        return 1;
    int rc = 0;
    for (int k = 0; k < GOLDEN_COUNT && rc == 0; k++)
        rc = encode_one(env, k, argv[1]);
    hr_env_free(env);
    return rc;
}
