/* codec_fixtures.h - batches for the codec tests, benchmark and fuzz seeds. */
#ifndef HR_TEST_CODEC_FIXTURES_H
#define HR_TEST_CODEC_FIXTURES_H

#include <heliosrepl/heliosrepl.h>

/*
 * A batch of `rows` rows over every covered type, with NULLs, unchanged TOAST
 * markers, -0.0, NaN, infinities and empty strings sprinkled in (seeded by
 * `seed`). Returns NULL on failure.
 */
hr_batch *fixture_all_types(hr_env *env, size_t rows, unsigned seed);

/* A batch of JSON events (one jsonb column + an id), `rows` rows. */
hr_batch *fixture_json_events(hr_env *env, size_t rows, unsigned seed);

#endif
