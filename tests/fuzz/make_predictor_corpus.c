/*
 * make_predictor_corpus.c - writes the seed corpus of fuzz_predictor_state:
 * saved predictor states (never started; a few keys; no daily profile; a
 * trained model), each as fuzz_predictor_state's mode byte 2 + the blob
 * without its checksum (the target appends it), and one whole blob as mode 0.
 * Usage: make_predictor_corpus DIR
 */
#define HR_EXPERIMENTAL
#include <stdio.h>
#include <stdlib.h>

#include <heliosrepl/heliosrepl.h>

#define SEC 1000000000ull
#define T0 (1704067200ull * SEC)

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

static void check(int rc, const char *what)
{
    if (rc != HR_OK) {
        fprintf(stderr, "%s: %s\n", what, hr_strerror(rc));
        exit(1);
    }
}

static void save(hr_predictor *p, const char *dir, const char *name)
{
    const uint8_t *blob;
    size_t len;
    check(hr_predictor_save(p, &blob, &len), "save");
    write_seed(dir, name, 2, blob, len - 8);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    hr_env *env;
    hr_predictor *p;
    char key[32];
    check(hr_env_new(&env, NULL), "env");

    check(hr_predictor_new(env, &p), "new");
    save(p, argv[1], "empty");
    hr_predictor_free(p);

    check(hr_predictor_new(env, &p), "new");
    check(hr_predictor_exp_set(p, HR_PREDICTOR_EXP_SKETCH_WIDTH, 64), "width");
    check(hr_predictor_exp_set(p, HR_PREDICTOR_EXP_DAY_SLOTS, 0), "slots");
    check(hr_predictor_set_param(p, HR_PREDICTOR_PARAM_TRAIN_ROWS, 64), "rows");
    for (int i = 0; i < 5; i++) {
        snprintf(key, sizeof key, i % 2 ? "t%d" : "t%d/orders", i);
        check(hr_predictor_observe(p, key, T0 + (uint64_t)i * 70 * SEC,
                                   HR_PREDICTOR_READ, 1 + (uint32_t)i),
              "observe");
    }
    save(p, argv[1], "keys-no-profile");
    hr_predictor_free(p);

    check(hr_predictor_new(env, &p), "new");
    check(hr_predictor_set_param(p, HR_PREDICTOR_PARAM_WINDOW_MS, 1000), "win");
    check(hr_predictor_set_param(p, HR_PREDICTOR_PARAM_TRAIN_ROWS, 2000),
          "rows");
    check(hr_predictor_exp_set(p, HR_PREDICTOR_EXP_SKETCH_WIDTH, 256), "width");
    check(hr_predictor_exp_set(p, HR_PREDICTOR_EXP_DAY_SLOTS, 4), "slots");
    check(hr_predictor_exp_set(p, HR_PREDICTOR_EXP_TREE_ROUNDS, 3), "rounds");
    check(hr_predictor_exp_set(p, HR_PREDICTOR_EXP_TREE_DEPTH, 3), "depth");
    static const uint32_t horizons[] = {1, 8};
    check(hr_predictor_exp_set_horizons(p, horizons, 2), "horizons");
    for (int w = 0; w < 60; w++)
        for (int k = 0; k < 8; k++)
            if ((k + w) % 2 == 0) {
                snprintf(key, sizeof key, "tenant%d", k);
                check(hr_predictor_observe(
                          p, key, T0 + (uint64_t)w * SEC,
                          k % 3 ? HR_PREDICTOR_READ : HR_PREDICTOR_WRITE, 2),
                      "observe");
            }
    save(p, argv[1], "keys");
    check(hr_predictor_train(p, T0 + 60 * SEC), "train");
    save(p, argv[1], "model");
    const uint8_t *blob;
    size_t len;
    check(hr_predictor_save(p, &blob, &len), "save");
    write_seed(argv[1], "model-whole", 0, blob, len);
    hr_predictor_free(p);
    hr_env_free(env);
    return 0;
}
