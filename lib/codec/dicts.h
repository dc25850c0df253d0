/*
 * dicts.h - the codec's per-table zstd dictionaries.
 *
 * Small batches of JSON or text compress poorly on their own: zstd has no
 * history to match against. So the encoder collects samples of each
 * (table, column) of such a type and, once enough bytes have passed, trains a
 * dictionary for it. A dictionary's id is a hash of its bytes, so the same
 * dictionary has the same id everywhere. The first frame that uses it carries
 * it inline; a decoder learns it from there (or from an exported blob).
 */
#ifndef HR_CODEC_DICTS_H
#define HR_CODEC_DICTS_H

#include <stddef.h>
#include <stdint.h>

#include <zstd.h>

#include "bytebuf.h"
#include "strcodec.h"

#define HR__DICT_MAX_BYTES (1u << 20) /* a dictionary we accept from a frame */
#define HR__DICT_CAPACITY (32u << 10) /* what we train */

typedef struct hr__dict {
    hr__str_dict handle; /* id + CDict (encoder) + DDict */
    uint8_t *bytes;
    size_t len;
    int shipped;         /* carried inline in a frame this codec encoded */
} hr__dict;

/* Samples of one (table, column) until its dictionary is trained. */
typedef struct hr__dict_pool {
    uint64_t key;        /* XXH3 of schema, table and column names */
    uint32_t dict_id;    /* 0 until trained */
    int gave_up;         /* training failed: never try again for this key */
    uint8_t *samples;
    size_t samples_len;
    size_t *sizes;
    unsigned count;
} hr__dict_pool;

typedef struct hr__dicts {
    hr__dict *dicts;
    size_t ndicts, dicts_cap;
    hr__dict_pool *pools;
    size_t npools, pools_cap;
} hr__dicts;

void hr__dicts_init(hr__dicts *d);
void hr__dicts_free(const hr_env *env, hr__dicts *d);

/* The dictionary with this id, or NULL. */
hr__dict *hr__dicts_find(hr__dicts *d, uint32_t id);

/* A lookup for hr__str_dec: ctx is the hr__dicts. */
const ZSTD_DDict *hr__dicts_lookup(void *ctx, uint32_t id);

/*
 * Find the dictionary to compress column `key` with, after feeding it the
 * column's values as samples (training when `min_bytes` have been collected
 * at zstd `level`). *dict is NULL when none is ready. HR_OK or HR_ENOMEM; a
 * training failure is not an error: the column is encoded without one.
 */
int hr__dicts_for_column(const hr_env *env, hr__dicts *d, uint64_t key,
                         const uint8_t *heap, const uint32_t *offsets, size_t n,
                         size_t min_bytes, int level, hr__dict **dict);

/*
 * Learn a dictionary from its bytes (inline in a frame, or imported). Checks
 * the id is the hash of the bytes. HR_OK (also when already known),
 * HR_ECORRUPT (id mismatch, zstd refuses it), HR_ENOMEM.
 */
int hr__dicts_add(const hr_env *env, hr__dicts *d, uint32_t id,
                  const uint8_t *bytes, size_t len);

/* The id a dictionary of these bytes gets: never 0. */
uint32_t hr__dict_id_of(const uint8_t *bytes, size_t len);

/* Export: varint count, then per dict: u32 id, varint len, bytes. */
void hr__dicts_export(const hr__dicts *d, hr__wbuf *out);
/* HR_OK, HR_ECORRUPT, HR_ENOMEM. */
int hr__dicts_import(const hr_env *env, hr__dicts *d, hr__rbuf *in);

#endif /* HR_CODEC_DICTS_H */
