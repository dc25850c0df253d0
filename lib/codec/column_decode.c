/* column_decode.c - one column section back into batch storage (column.c). */
#include "codec_internal.h"
#include "floatcodec.h"
#include "intcodec.h"
#include "strcodec.h"

static int corrupt(hr_codec *codec, const hr__column *c, const char *what)
{
    return hr__fail(&codec->error, HR_ECORRUPT, "column \"%s\": %s", c->name,
                    what);
}

/* Read the state form; fill c->states; count the present cells. */
static int read_states(hr_codec *codec, hr__rbuf *in, hr__column *c,
                       size_t rows, size_t *present)
{
    uint8_t form;
    if (hr__rbuf_get_u8(in, &form) != 0 || form > 1)
        return corrupt(codec, c, "bad state form");
    if (form == 0) {
        memset(c->states, HR_VALUE_PRESENT, rows);
        *present = rows;
        return HR_OK;
    }
    int64_t *states = hr__codec_scratch(codec, rows * sizeof *states);
    if (!states)
        return HR_ENOMEM;
    int rc = hr__int_decode(in, states, rows, HR__CASCADE_DEPTH, codec->env);
    if (rc != HR_OK)
        return rc == HR_ENOMEM ? rc : corrupt(codec, c, "bad cell states");
    size_t special = 0;
    for (size_t r = 0; r < rows; r++) {
        int64_t s = states[r];
        if (s < HR_VALUE_PRESENT || s > HR_VALUE_UNCHANGED_TOAST ||
            (s == HR_VALUE_NULL && !c->nullable))
            return corrupt(codec, c, "bad cell state");
        c->states[r] = (uint8_t)s;
        special += s != HR_VALUE_PRESENT;
    }
    c->special = special;
    *present = rows - special;
    return HR_OK;
}

/* Spread k dense fixed-width values over the present cells. */
static void scatter_fixed(hr__column *c, size_t rows, const uint8_t *dense)
{
    for (size_t r = 0, j = 0; r < rows; r++) {
        uint8_t *cell = c->values + (size_t)c->width * r;
        if (c->states[r] == HR_VALUE_PRESENT)
            memcpy(cell, dense + (size_t)c->width * j++, c->width);
        else
            memset(cell, 0, c->width);
    }
}

static int decode_numbers(hr_codec *codec, hr__rbuf *in, hr__column *c,
                          size_t rows, size_t k)
{
    const int direct = k == rows && c->storage != HR__STORE_BOOL;
    size_t elem = c->storage == HR__STORE_FLOAT4 ? 4 : 8;
    uint8_t *dst = direct ? c->values : hr__codec_scratch(codec, k * elem);
    if (!dst)
        return HR_ENOMEM;
    int rc;
    if (c->storage == HR__STORE_FLOAT4)
        rc = hr__f32_decode(in, (float *)(void *)dst, k, HR__CASCADE_DEPTH,
                            codec->env);
    else if (c->storage == HR__STORE_FLOAT8)
        rc = hr__f64_decode(in, (double *)(void *)dst, k, HR__CASCADE_DEPTH,
                            codec->env);
    else
        rc = hr__int_decode(in, (int64_t *)(void *)dst, k, HR__CASCADE_DEPTH,
                            codec->env);
    if (rc != HR_OK)
        return rc == HR_ENOMEM ? rc : corrupt(codec, c, "bad values");
    if (c->storage == HR__STORE_INT) {
        const int64_t *v = (const int64_t *)(void *)dst;
        for (size_t j = 0; j < k; j++)
            if (v[j] < c->min_value || v[j] > c->max_value)
                return corrupt(codec, c, "value out of its type's range");
    }
    if (c->storage == HR__STORE_BOOL) {
        const int64_t *v = (const int64_t *)(void *)dst;
        for (size_t r = 0, j = 0; r < rows; r++) {
            if (c->states[r] != HR_VALUE_PRESENT) {
                c->values[r] = 0;
                continue;
            }
            if ((uint64_t)v[j] > 1)
                return corrupt(codec, c, "bool value other than 0 or 1");
            c->values[r] = (uint8_t)v[j++];
        }
    } else if (!direct) {
        scatter_fixed(c, rows, dst);
    }
    return HR_OK;
}

static int decode_strings(hr_codec *codec, hr__rbuf *in, hr__column *c,
                          size_t rows, size_t k, size_t *budget)
{
    if (!codec->dctx && !(codec->dctx = ZSTD_createDCtx()))
        return HR_ENOMEM;
    uint32_t *offsets = hr__codec_scratch(codec, (k + 1) * sizeof *offsets);
    if (!offsets)
        return HR_ENOMEM;
    /* Text-like values land in the column heap; UUIDs in a temporary heap. */
    hr__wbuf heap;
    hr__wbuf_init(&heap, codec->env);
    if (c->storage == HR__STORE_BYTES) {
        heap.data = c->heap;
        heap.cap = c->heap_cap;
    }
    hr__str_dec dec = {codec->dctx, hr__dicts_lookup, &codec->dicts, *budget};
    int rc = hr__str_decode(in, k, offsets, &heap, &dec, codec->env);
    if (c->storage == HR__STORE_BYTES) {
        c->heap = heap.data;
        c->heap_cap = heap.cap;
        c->heap_len = heap.len;
    }
    if (rc != HR_OK) {
        if (c->storage != HR__STORE_BYTES)
            hr__wbuf_free(&heap);
        if (rc == HR_ENOTFOUND)
            return hr__fail(&codec->error, rc,
                            "column \"%s\": frame uses a dictionary this codec "
                            "has not seen (import it with hr_codec_import_dicts)",
                            c->name);
        if (rc == HR_ELIMIT)
            return hr__fail(&codec->error, rc,
                            "column \"%s\": values exceed the decode byte limit",
                            c->name);
        return rc == HR_ENOMEM ? rc : corrupt(codec, c, "bad string values");
    }
    *budget -= heap.len < *budget ? heap.len : *budget;
    if (c->storage == HR__STORE_UUID) {
        for (size_t j = 0; j < k; j++)
            if (offsets[j + 1] - offsets[j] != 16) {
                hr__wbuf_free(&heap);
                return corrupt(codec, c, "uuid value not 16 bytes");
            }
        scatter_fixed(c, rows, heap.data + offsets[0]);
        hr__wbuf_free(&heap);
        return HR_OK;
    }
    /* Present cells take their ranges in order; NULL / TOAST cells are empty. */
    for (size_t r = 0, j = 0; r < rows; r++) {
        if (c->states[r] == HR_VALUE_PRESENT)
            j++;
        c->offsets[r + 1] = offsets[j];
    }
    c->offsets[0] = 0;
    return HR_OK;
}

int hr__column_decode(hr_codec *codec, hr__rbuf *in, hr__column *c, size_t rows,
                      uint8_t encoding_id, size_t *budget)
{
    if (hr__column_reserve(codec->env, c, rows ? rows : 1) != HR_OK)
        return hr__fail(&codec->error, HR_ENOMEM, "out of memory decoding a frame");
    size_t k = 0;
    int rc = read_states(codec, in, c, rows, &k);
    if (rc != HR_OK)
        return rc == HR_ENOMEM ? hr__fail(&codec->error, rc, "out of memory decoding a frame") : rc;
    if ((k == 0) != ((encoding_id & 0x0F) == HR__NO_VALUES) ||
        (k && hr__rbuf_left(in) && (in->data[in->pos] & 0x0F) != (encoding_id & 0x0F)))
        return corrupt(codec, c, "encoding id disagrees with the section");
    if (k == 0) {
        if (c->storage == HR__STORE_BYTES)
            memset(c->offsets, 0, (rows + 1) * sizeof *c->offsets);
        else if (rows)
            memset(c->values, 0, rows * (size_t)c->width);
    } else if (c->storage == HR__STORE_BYTES || c->storage == HR__STORE_UUID) {
        rc = decode_strings(codec, in, c, rows, k, budget);
    } else {
        rc = decode_numbers(codec, in, c, rows, k);
    }
    if (rc == HR_ENOMEM)
        return hr__fail(&codec->error, rc, "out of memory decoding a frame");
    if (rc != HR_OK)
        return rc;
    if (hr__rbuf_left(in) != 0)
        return corrupt(codec, c, "trailing bytes in the section");
    c->len = rows;
    return HR_OK;
}
