/*
 * heliosrepl/codec.h - the batch codec: one hr_batch <-> one frame.
 *
 * A frame is self-describing (schema included), checksummed, and optionally
 * sealed with AES-256-GCM. Each column gets the encoding that suits it in
 * this batch (constant, run-length, frame-of-reference bit-packing, delta,
 * delta-of-delta, decimal floats as integers, dictionaries, zstd or snappy),
 * chosen by sampling. The frame format is versioned: a newer library reads
 * every older format version. docs/format.md describes the bytes.
 *
 * A codec keeps state across calls - per-table zstd dictionaries that it
 * trains once enough JSON/text has passed, keys, scratch buffers - so use one
 * codec per stream direction (one encoder, one decoder) and reuse it.
 * One thread at a time per codec.
 */
#ifndef HELIOSREPL_CODEC_H
#define HELIOSREPL_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <heliosrepl/batch.h>
#include <heliosrepl/core.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hr_codec hr_codec;

/* Parameters; values pinned. hr_codec_param_bounds gives each range. */
typedef enum hr_codec_param {
    /* zstd level for columns nothing better fits: 1..19, default 3. */
    HR_CODEC_PARAM_LEVEL = 1,
    /* Rows sampled when choosing an encoding: 16..65536, default 1024. */
    HR_CODEC_PARAM_SAMPLE_ROWS = 2,
    /* Train per-table zstd dictionaries for JSON/text columns: 0/1, default 1. */
    HR_CODEC_PARAM_DICTIONARY = 3,
    /* Bytes of column values collected before a dictionary is trained:
     * 4096..67108864, default 262144. */
    HR_CODEC_PARAM_DICT_MIN_BYTES = 4,
    /* General-purpose compressor: HR_CODEC_ZSTD (default) or HR_CODEC_SNAPPY. */
    HR_CODEC_PARAM_COMPRESSOR = 5,
    /* Decoding: refuse frames of more rows than this: 1..2^31-1, default 2^20. */
    HR_CODEC_PARAM_MAX_ROWS = 6,
    /* Decoding: refuse frames that would decode to more value bytes than
     * this: 4096..2^40, default 1 GiB. */
    HR_CODEC_PARAM_MAX_BYTES = 7,
    /* Decoding: refuse frames that are not encrypted: 0/1, default 0.
     * Set it wherever keys are loaded, or an attacker can strip the seal. */
    HR_CODEC_PARAM_REQUIRE_ENCRYPTION = 8
} hr_codec_param;

#define HR_CODEC_ZSTD 0
#define HR_CODEC_SNAPPY 1

#define HR_CODEC_KEY_SIZE 32 /* AES-256 */

/*
 * hr_codec_new - a codec with default parameters and no keys.
 * HR_OK, HR_EINVAL (NULL argument), HR_ENOMEM.
 */
HR_API int hr_codec_new(hr_env *env, hr_codec **out);

/* hr_codec_free - wipes the keys it holds; NULL is a no-op. */
HR_API void hr_codec_free(hr_codec *codec);

/*
 * hr_codec_set_param / hr_codec_get_param - HR_OK, HR_EINVAL (unknown
 * parameter, value out of bounds, NULL argument).
 */
HR_API int hr_codec_set_param(hr_codec *codec, hr_codec_param param,
                              int64_t value);
HR_API int hr_codec_get_param(const hr_codec *codec, hr_codec_param param,
                              int64_t *value);

/* hr_codec_param_bounds - HR_OK and the inclusive range, or HR_EINVAL. */
HR_API int hr_codec_param_bounds(hr_codec_param param, int64_t *min,
                                 int64_t *max);

/*
 * hr_codec_add_key - load an AES-256 key under `key_id` (1..2^32-1), copied.
 * Several keys may be loaded at once (rotation: decode old frames while
 * encoding with the new key). HR_OK, HR_EINVAL (id 0, NULL key, id already
 * loaded with a different key), HR_ENOMEM.
 */
HR_API int hr_codec_add_key(hr_codec *codec, uint32_t key_id,
                            const uint8_t key[HR_CODEC_KEY_SIZE]);

/* hr_codec_remove_key - forget (and wipe) a key. HR_OK, HR_ENOTFOUND. */
HR_API int hr_codec_remove_key(hr_codec *codec, uint32_t key_id);

/*
 * hr_codec_set_encrypt_key - seal every frame encoded from now on with key
 * `key_id`; 0 encodes plaintext frames. HR_OK, HR_ENOTFOUND (not loaded).
 */
HR_API int hr_codec_set_encrypt_key(hr_codec *codec, uint32_t key_id);

/*
 * hr_codec_encode - encode every complete row of `batch` into one frame for
 * tenant `tenant_id` (1..255 bytes; bound into the frame so it cannot be
 * decoded as another tenant's). *frame points into the codec and stays
 * valid until the next hr_codec_encode or hr_codec_free.
 * HR_OK, HR_EINVAL (NULL argument, bad tenant id, batch without columns or
 * with columns of different lengths), HR_ELIMIT (a size limit of the
 * format), HR_ENOMEM, HR_EINTERNAL (a compressor or cipher failed).
 */
HR_API int hr_codec_encode(hr_codec *codec, const hr_batch *batch,
                           const char *tenant_id, const uint8_t **frame,
                           size_t *frame_len);

/*
 * hr_codec_decode - decode `frame` of tenant `tenant_id` into `out`, which is
 * cleared first. On any error `out` is left empty (cleared): a caller never
 * sees a partly decoded batch.
 * HR_OK; HR_EINVAL (NULL argument); HR_ECORRUPT (truncated, damaged or
 * malformed frame, checksum mismatch); HR_EAUTH (wrong tenant, unknown or
 * wrong key, authentication tag mismatch, plaintext frame while encryption
 * is required); HR_EVERSION (newer format version); HR_ENOTFOUND (the frame
 * uses a dictionary this codec has not seen: see hr_codec_import_dicts);
 * HR_ELIMIT (MAX_ROWS / MAX_BYTES); HR_ENOMEM. hr_codec_errmsg tells which
 * check failed and where.
 */
HR_API int hr_codec_decode(hr_codec *codec, const uint8_t *frame,
                           size_t frame_len, const char *tenant_id,
                           hr_batch *out);

/* What a frame's header says, without decoding it. */
typedef struct hr_frame_info {
    size_t size;                 /* set to sizeof(hr_frame_info) by the caller */
    unsigned format_version;
    unsigned flags;              /* HR_FRAME_FLAG_* */
    uint64_t schema_fingerprint; /* same schema <=> same fingerprint */
    uint32_t rows;
    uint32_t columns;
    uint32_t key_id;             /* 0 when not encrypted */
} hr_frame_info;

#define HR_FRAME_FLAG_ENCRYPTED 0x01u
#define HR_FRAME_FLAG_HAS_DICT 0x02u /* carries a zstd dictionary inline */

/*
 * hr_frame_inspect - parse and check a frame's header and checksum.
 * HR_OK, HR_EINVAL (NULL argument, info->size too small), HR_ECORRUPT,
 * HR_EVERSION. Thread-safe.
 */
HR_API int hr_frame_inspect(const uint8_t *frame, size_t frame_len,
                            hr_frame_info *info);

/*
 * hr_codec_export_dicts - the dictionaries this codec knows, as one blob the
 * host may persist next to its checkpoint (a decoder restarted in the middle
 * of a stream needs the dictionaries of frames it has not applied yet).
 * *blob points into the codec until the next call on it.
 * HR_OK, HR_ENOMEM.
 */
HR_API int hr_codec_export_dicts(hr_codec *codec, const uint8_t **blob,
                                 size_t *blob_len);

/*
 * hr_codec_import_dicts - load dictionaries from an exported blob (merged
 * with what the codec knows). HR_OK, HR_ECORRUPT, HR_ENOMEM.
 */
HR_API int hr_codec_import_dicts(hr_codec *codec, const uint8_t *blob,
                                 size_t blob_len);

/* hr_codec_errmsg - the last failed call's message; "" if none. */
HR_API const char *hr_codec_errmsg(const hr_codec *codec);

#ifdef __cplusplus
}
#endif

#endif /* HELIOSREPL_CODEC_H */
