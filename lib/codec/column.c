/*
 * column.c - one column section of a frame:
 *
 *   u8 state form      0: every cell present
 *                      1: ints(rows) of hr_value_state follow
 *   values             the present cells only, by storage class:
 *                        bool, integers  ints(k)      (intcodec.h)
 *                        float4/float8   floats(k)    (floatcodec.h)
 *                        uuid, bytes     strings(k)   (strcodec.h)
 *                      absent when k = 0
 *
 * NULL and unchanged-TOAST cells are left out of the values, so a sequence
 * with holes still encodes as a sequence.
 */
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#include "codec_internal.h"
#include "floatcodec.h"
#include "intcodec.h"
#include "strcodec.h"

static int uses_dictionary(const hr_codec *codec, const hr__column *c)
{
    return codec->params[HR_CODEC_PARAM_DICTIONARY] &&
           codec->params[HR_CODEC_PARAM_COMPRESSOR] == HR_CODEC_ZSTD &&
           c->type_oid != HR_OID_BYTEA;
}

static uint64_t dict_key(const hr_batch *b, const hr__column *c)
{
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, b->schema_name, strlen(b->schema_name) + 1);
    XXH3_64bits_update(&st, b->table_name, strlen(b->table_name) + 1);
    XXH3_64bits_update(&st, c->name, strlen(c->name) + 1);
    return XXH3_64bits_digest(&st);
}

static int ensure_zstd(hr_codec *codec)
{
    if (!codec->cctx)
        codec->cctx = ZSTD_createCCtx();
    if (!codec->dctx)
        codec->dctx = ZSTD_createDCtx();
    return codec->cctx && codec->dctx ? HR_OK : HR_ENOMEM;
}

static int encode_strings(hr_codec *codec, const hr_batch *b,
                          const hr__column *c, const uint8_t *heap,
                          const uint32_t *offsets, size_t k, hr__wbuf *out)
{
    hr__str_opts opts = {
        .zstd_level = (int)codec->params[HR_CODEC_PARAM_LEVEL],
        .prefer_snappy =
            codec->params[HR_CODEC_PARAM_COMPRESSOR] == HR_CODEC_SNAPPY,
        .dict = NULL,
        .cctx = codec->cctx,
    };
    if (c->storage == HR__STORE_BYTES && uses_dictionary(codec, c)) {
        hr__dict *dict = NULL;
        int rc = hr__dicts_for_column(
            codec->env, &codec->dicts, dict_key(b, c), heap, offsets, k,
            (size_t)codec->params[HR_CODEC_PARAM_DICT_MIN_BYTES],
            (int)codec->params[HR_CODEC_PARAM_LEVEL], &dict);
        if (rc != HR_OK)
            return rc;
        if (dict)
            opts.dict = &dict->handle;
    }
    hr__str_encode(out, heap, offsets, k, &opts);
    return HR_OK;
}

/* Encode the k present values; the column has no special cells if k = len. */
static int encode_values(hr_codec *codec, const hr_batch *b,
                         const hr__column *c, size_t rows, size_t k,
                         hr__wbuf *out)
{
    const int all = k == rows;
    const uint8_t *st = c->states;
    switch ((hr__storage)c->storage) {
    case HR__STORE_BOOL:
    case HR__STORE_INT: {
        const int64_t *v = (const int64_t *)c->values;
        if (!all || c->storage == HR__STORE_BOOL) {
            int64_t *dense = hr__codec_scratch(codec, k * sizeof *dense);
            if (!dense)
                return HR_ENOMEM;
            for (size_t r = 0, j = 0; r < rows; r++)
                if (st[r] == HR_VALUE_PRESENT)
                    dense[j++] = c->storage == HR__STORE_BOOL
                                     ? c->values[r]
                                     : ((const int64_t *)c->values)[r];
            v = dense;
        }
        hr__int_encode(out, v, k, HR__CASCADE_DEPTH);
        return HR_OK;
    }
    case HR__STORE_FLOAT4:
    case HR__STORE_FLOAT8: {
        const uint8_t *v = c->values;
        if (!all) {
            uint8_t *dense = hr__codec_scratch(codec, k * c->width);
            if (!dense)
                return HR_ENOMEM;
            for (size_t r = 0, j = 0; r < rows; r++)
                if (st[r] == HR_VALUE_PRESENT)
                    memcpy(dense + c->width * j++, c->values + c->width * r,
                           c->width);
            v = dense;
        }
        if (c->storage == HR__STORE_FLOAT4)
            hr__f32_encode(out, (const float *)(const void *)v, k,
                           HR__CASCADE_DEPTH);
        else
            hr__f64_encode(out, (const double *)(const void *)v, k,
                           HR__CASCADE_DEPTH);
        return HR_OK;
    }
    case HR__STORE_UUID:
    case HR__STORE_BYTES:
        break;
    }
    if (ensure_zstd(codec) != HR_OK)
        return HR_ENOMEM;
    /* Present strings, as (heap, offsets) of k values. */
    uint32_t *offsets = hr__codec_scratch(codec, (k + 1) * sizeof *offsets +
                                           (c->storage == HR__STORE_UUID ? k * 16 : 0));
    if (!offsets)
        return HR_ENOMEM;
    const uint8_t *heap = c->heap;
    if (c->storage == HR__STORE_UUID) {
        uint8_t *packed = (uint8_t *)(offsets + k + 1);
        for (size_t r = 0, j = 0; r < rows; r++)
            if (st[r] == HR_VALUE_PRESENT)
                memcpy(packed + 16 * j++, c->values + 16 * r, 16);
        for (size_t j = 0; j <= k; j++)
            offsets[j] = (uint32_t)(16 * j);
        heap = packed;
    } else {
        /* NULL / TOAST cells hold no bytes, so present values are contiguous. */
        size_t j = 0;
        for (size_t r = 0; r < rows; r++)
            if (st[r] == HR_VALUE_PRESENT)
                offsets[j++] = c->offsets[r];
        offsets[k] = c->offsets[rows];
    }
    return encode_strings(codec, b, c, heap, offsets, k, out);
}

int hr__column_encode(hr_codec *codec, const hr_batch *b, int col, size_t rows,
                      hr__wbuf *out, uint8_t *encoding_id)
{
    const hr__column *c = &b->columns[col];
    size_t special = 0;
    for (size_t r = 0; r < rows; r++)
        special += c->states[r] != HR_VALUE_PRESENT;
    if (special == 0) {
        hr__wbuf_put_u8(out, 0);
    } else {
        hr__wbuf_put_u8(out, 1);
        int64_t *states = hr__codec_scratch(codec, rows * sizeof *states);
        if (!states)
            return HR_ENOMEM;
        for (size_t r = 0; r < rows; r++)
            states[r] = c->states[r];
        hr__int_encode(out, states, rows, HR__CASCADE_DEPTH);
    }
    size_t k = rows - special;
    size_t scheme_at = out->len;
    if (k) {
        int rc = encode_values(codec, b, c, rows, k, out);
        if (rc != HR_OK)
            return rc;
    }
    if (out->failed)
        return HR_ENOMEM;
    uint8_t scheme = k ? (out->data[scheme_at] & 0x0F) : HR__NO_VALUES;
    *encoding_id = (uint8_t)(c->storage << 4 | scheme);
    return HR_OK;
}
