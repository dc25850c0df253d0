/*
 * golden_batches.h - the batches behind the committed golden frames
 * (tests/golden/v1-*.frame): make_golden.c encodes them once, and
 * test_codec_golden.c decodes the committed frames and compares them with
 * these batches. The generators must never change: a frame's expected
 * content is whatever they built when it was written.
 */
#ifndef HR_TEST_GOLDEN_BATCHES_H
#define HR_TEST_GOLDEN_BATCHES_H

#include <heliosrepl/heliosrepl.h>

/* Golden frame k (0 <= k < GOLDEN_COUNT): its file name (v1-NAME.frame). */
#define GOLDEN_COUNT 9
const char *golden_name(int k);

/*
 * The batch of golden frame k, or NULL when out of memory. `index` matters
 * for the "dict" frame only: the writer encodes batches 0, 1, 2, ... of a
 * stream until one ships the dictionary trained on the earlier ones; that
 * frame, batch GOLDEN_DICT_INDEX, is the golden one.
 */
hr_batch *golden_batch(hr_env *env, int k, int index);

/*
 * The "dict" frame ships the dictionary trained on its own batch (a codec
 * uses a dictionary from the frame after the one that trained it); the
 * "dictuse" frame, the next batch of the same stream, uses it, so a reader
 * decodes "dict" first (or imports the dictionary). Their positions k, and
 * their batches' indices in the stream (from make_golden's output).
 */
#define GOLDEN_DICT 5
#define GOLDEN_DICT_INDEX 0
#define GOLDEN_DICT_USE 8
#define GOLDEN_DICT_USE_INDEX 1

/* Codec settings of frame k (compressor, dictionary threshold, key). */
int golden_setup_codec(hr_codec *codec, int k);

/* Key id and key of the sealed frame. */
#define GOLDEN_KEY_ID 7u
extern const uint8_t golden_key[32];

/* The tenant every golden frame belongs to. */
#define GOLDEN_TENANT "t"

#endif
