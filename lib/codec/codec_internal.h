/*
 * codec_internal.h - the codec handle and the frame layout shared by the
 * encoder (frame_encode.c) and the decoder (frame_decode.c).
 *
 * Frame, format version 1 (docs/format.md has the full description):
 *
 *   header (cleartext; authenticated as AAD when sealed)
 *     0   4  magic "HRBF"
 *     4   1  format version
 *     5   1  flags                 HR_FRAME_FLAG_*
 *     6   2  column count          u16
 *     8   4  row count             u32
 *    12   8  schema fingerprint    XXH3-64 of the schema section
 *    20   8  tenant tag            XXH3-64 of the tenant id
 *    28   4  key id                0 = not sealed
 *    32  12  nonce                 only when sealed
 *     .   n  column encoding ids   one byte per column: storage << 4 | scheme
 *     .   4  body length           u32
 *   body (AES-256-GCM ciphertext + 16-byte tag when sealed)
 *     schema section, one section per column, dictionary section
 *   trailer
 *         8  checksum              XXH3-64 of every byte before it
 */
#ifndef HR_CODEC_INTERNAL_H
#define HR_CODEC_INTERNAL_H

#include <zstd.h>

#include <heliosrepl/codec.h>

#include "batch/batch_internal.h"
#include "bytebuf.h"
#include "dicts.h"
#include "seal.h"

#define HR__FRAME_MAGIC "HRBF"
#define HR__FRAME_VERSION 1
#define HR__FRAME_FIXED_HEADER 32
#define HR__FRAME_CHECKSUM_SIZE 8
#define HR__TENANT_MAX 255

struct hr_codec {
    hr_env *env;
    int64_t params[HR_CODEC_PARAM_REQUIRE_ENCRYPTION + 1];
    uint32_t encrypt_key_id;
    hr__keyring keys;
    hr__dicts dicts;
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
    hr__wbuf frame;   /* the last encoded frame */
    hr__wbuf body;    /* scratch: plaintext body */
    hr__wbuf scratch; /* scratch: per-column values, export blob */
    hr__error error;
};

/* Column sections. `depth` of cascades is fixed by the format version. */
#define HR__CASCADE_DEPTH 3
/* Encoding id low nibble of a column without a present cell. */
#define HR__NO_VALUES 0x0F

/*
 * The codec's scratch buffer, emptied and grown to `bytes`; valid until the
 * next call. NULL when memory runs out.
 */
void *hr__codec_scratch(hr_codec *codec, size_t bytes);

/*
 * Encode column `c` (its first `rows` cells) into `out`: states then values.
 * Sets *encoding_id (storage << 4 | value scheme). HR_OK, HR_ENOMEM.
 */
int hr__column_encode(hr_codec *codec, const hr_batch *batch, int col,
                      size_t rows, hr__wbuf *out, uint8_t *encoding_id);

/*
 * Decode one column section (exactly `section`) into `c`, which is empty and
 * declared. HR_OK, HR_ECORRUPT, HR_ENOMEM, HR_ENOTFOUND, HR_ELIMIT; detail in
 * codec->error.
 */
int hr__column_decode(hr_codec *codec, hr__rbuf *section, hr__column *c,
                      size_t rows, uint8_t encoding_id, size_t *bytes_budget);

#endif /* HR_CODEC_INTERNAL_H */
