/*
 * fuzz_predictor_state.c - libFuzzer target for hr_predictor_load, the
 * decoder of a saved predictor state (outside bytes: a file or a peer).
 *
 * The first input byte chooses the mode. Random bytes rarely survive the
 * XXH3 checksum, so modes 1 and 2 append a correct checksum to the rest of
 * the input: the mutations then reach every field check and XGBoost's model
 * loader. Mode 2 also uses a loaded state - scores, the top k, a later
 * window, training - and checks that saving it gives a blob that loads
 * again. Seeds (tests/fuzz/corpus/predictor_state) are saved states written
 * by make_predictor_corpus.
 */
#define HR_EXPERIMENTAL
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include <heliosrepl/heliosrepl.h>

static hr_env *env;
static hr_predictor *p, *q;

static void init_once(void)
{
    if (p)
        return;
    if (hr_env_new(&env, NULL) != HR_OK || hr_predictor_new(env, &p) != HR_OK ||
        hr_predictor_new(env, &q) != HR_OK)
        abort();
}

static void exercise(hr_predictor *h)
{
    hr_predictor_info info = {.size = sizeof info};
    if (hr_predictor_get_info(h, &info) != HR_OK)
        abort();
    const char *keys[8];
    double scores[8], s;
    size_t n;
    uint64_t now = 1704067200ull * 1000000000ull;
    for (int step = 0; step < 3; step++) {
        now += (uint64_t)step * 3600ull * 1000000000ull;
        int rc = hr_predictor_top_k(h, now, keys, scores, 8, &n);
        if (rc == HR_OK) {
            for (size_t i = 0; i < n; i++) {
                if (!(scores[i] >= 0 && scores[i] <= 1) ||
                    hr_predictor_score(h, keys[i], now, &s) != HR_OK ||
                    s != scores[i])
                    abort();
            }
            if (n > 0 && hr_predictor_observe(h, keys[0], now,
                                              HR_PREDICTOR_WRITE, 2) != HR_OK)
                abort();
        }
        hr_predictor_observe(h, "fuzz/key", now, HR_PREDICTOR_READ, 1);
    }
    hr_predictor_train(h, now);
    const uint8_t *blob;
    size_t len;
    if (hr_predictor_save(h, &blob, &len) != HR_OK)
        abort();
    if (hr_predictor_load(q, blob, len) != HR_OK)
        abort(); /* a state we wrote must load */
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
    uint8_t *blob = malloc(size + 8);
    if (!blob)
        return 0;
    memcpy(blob, data, size);
    size_t len = size;
    if (mode != 0) {
        uint64_t sum = XXH3_64bits(blob, size);
        for (int i = 0; i < 8; i++)
            blob[size + i] = (uint8_t)(sum >> (8 * i));
        len += 8;
    }
    int rc = hr_predictor_load(p, blob, len);
    if (rc != HR_OK && rc != HR_ECORRUPT && rc != HR_EVERSION &&
        rc != HR_ENOMEM)
        abort();
    if (rc == HR_OK && mode == 2)
        exercise(p);
    free(blob);
    return 0;
}
