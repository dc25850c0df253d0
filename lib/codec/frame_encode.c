/* frame_encode.c - hr_batch -> frame (see codec_internal.h for the layout). */
#include <xxhash.h>

#include "codec_internal.h"

static int check_tenant(hr_codec *codec, const char *tenant_id, size_t *len)
{
    if (!tenant_id)
        return hr__fail(&codec->error, HR_EINVAL, "NULL tenant id");
    *len = strlen(tenant_id);
    if (*len == 0 || *len > HR__TENANT_MAX)
        return hr__fail(&codec->error, HR_EINVAL,
                        "tenant id must be 1..%d bytes", HR__TENANT_MAX);
    return HR_OK;
}

static void put_name(hr__wbuf *w, const char *name)
{
    size_t len = strlen(name);
    hr__wbuf_put_varint(w, len);
    hr__wbuf_put(w, name, len);
}

/* Schema section: relation names, then name, type oid, nullable a column. */
static void put_schema(hr__wbuf *w, const hr_batch *b)
{
    put_name(w, b->schema_name);
    put_name(w, b->table_name);
    for (int i = 0; i < b->ncolumns; i++) {
        put_name(w, b->columns[i].name);
        hr__wbuf_put_u32(w, b->columns[i].type_oid);
        hr__wbuf_put_u8(w, b->columns[i].nullable);
    }
}

/* Dictionaries used by this frame that no earlier frame of ours carried. */
static void put_new_dicts(hr_codec *codec, hr__wbuf *w, int *any)
{
    size_t count = 0;
    for (size_t i = 0; i < codec->dicts.ndicts; i++)
        count += codec->dicts.dicts[i].handle.cdict && !codec->dicts.dicts[i].shipped;
    hr__wbuf_put_varint(w, count);
    for (size_t i = 0; i < codec->dicts.ndicts; i++) {
        hr__dict *d = &codec->dicts.dicts[i];
        if (!d->handle.cdict || d->shipped)
            continue;
        hr__wbuf_put_u32(w, d->handle.id);
        hr__wbuf_put_varint(w, d->len);
        hr__wbuf_put(w, d->bytes, d->len);
    }
    *any = count > 0;
}

static void mark_dicts_shipped(hr_codec *codec)
{
    for (size_t i = 0; i < codec->dicts.ndicts; i++)
        if (codec->dicts.dicts[i].handle.cdict)
            codec->dicts.dicts[i].shipped = 1;
}

static int encode_body(hr_codec *codec, const hr_batch *b, size_t rows,
                       uint8_t *encoding_ids, uint64_t *fingerprint,
                       int *has_dicts)
{
    hr__wbuf *body = &codec->body;
    body->len = 0;
    body->failed = 0;
    put_schema(body, b);
    if (body->failed)
        return HR_ENOMEM;
    *fingerprint = XXH3_64bits(body->data, body->len);
    for (int i = 0; i < b->ncolumns; i++) {
        size_t at = body->len;
        hr__wbuf_put_u32(body, 0); /* section length, patched below */
        int rc = hr__column_encode(codec, b, i, rows, body, &encoding_ids[i]);
        if (rc != HR_OK)
            return rc;
        size_t section = body->len - at - 4;
        if (section > UINT32_MAX)
            return HR_ELIMIT;
        hr__wbuf_patch_u32(body, at, (uint32_t)section);
    }
    put_new_dicts(codec, body, has_dicts);
    return body->failed ? HR_ENOMEM : HR_OK;
}

static int check_batch(hr_codec *codec, const hr_batch *b, size_t *rows)
{
    if (b->ncolumns == 0)
        return hr__fail(&codec->error, HR_EINVAL, "batch has no columns");
    *rows = b->columns[0].len;
    for (int i = 1; i < b->ncolumns; i++)
        if (b->columns[i].len != *rows)
            return hr__fail(&codec->error, HR_EINVAL,
                            "column \"%s\" has %zu values, column \"%s\" %zu",
                            b->columns[i].name, b->columns[i].len,
                            b->columns[0].name, *rows);
    if (*rows > UINT32_MAX)
        return hr__fail(&codec->error, HR_ELIMIT, "%zu rows: a frame holds at most 2^32-1",
                        *rows);
    return HR_OK;
}

HR_API int hr_codec_encode(hr_codec *codec, const hr_batch *b,
                           const char *tenant_id, const uint8_t **frame,
                           size_t *frame_len)
{
    if (!codec)
        return HR_EINVAL;
    if (!b || !frame || !frame_len)
        return hr__fail(&codec->error, HR_EINVAL, "NULL batch or output pointer");
    size_t tenant_len = 0, rows = 0;
    int rc = check_tenant(codec, tenant_id, &tenant_len);
    if (rc == HR_OK)
        rc = check_batch(codec, b, &rows);
    if (rc != HR_OK)
        return rc;

    uint8_t encoding_ids[HR_BATCH_MAX_COLUMNS];
    uint64_t fingerprint = 0;
    int has_dicts = 0;
    rc = encode_body(codec, b, rows, encoding_ids, &fingerprint, &has_dicts);
    if (rc != HR_OK)
        return hr__fail(&codec->error, rc, "%s encoding the batch",
                        rc == HR_ENOMEM ? "out of memory" : "size limit reached");
    if (codec->body.len > UINT32_MAX - HR__TAG_SIZE)
        return hr__fail(&codec->error, HR_ELIMIT, "frame body over 4 GiB");

    const hr__key *key = NULL;
    if (codec->encrypt_key_id)
        key = hr__keyring_find(&codec->keys, codec->encrypt_key_id);
    uint8_t nonce[HR__NONCE_SIZE];
    if (key && hr__keyring_next_nonce(&codec->keys, nonce) != HR_OK)
        return hr__fail(&codec->error, HR_EINTERNAL, "no randomness for a nonce");

    hr__wbuf *out = &codec->frame;
    out->len = 0;
    out->failed = 0;
    unsigned flags = (key ? HR_FRAME_FLAG_ENCRYPTED : 0) |
                     (has_dicts ? HR_FRAME_FLAG_HAS_DICT : 0);
    hr__wbuf_put(out, HR__FRAME_MAGIC, 4);
    hr__wbuf_put_u8(out, HR__FRAME_VERSION);
    hr__wbuf_put_u8(out, (uint8_t)flags);
    hr__wbuf_put_u16(out, (uint16_t)b->ncolumns);
    hr__wbuf_put_u32(out, (uint32_t)rows);
    hr__wbuf_put_u64(out, fingerprint);
    hr__wbuf_put_u64(out, XXH3_64bits(tenant_id, tenant_len));
    hr__wbuf_put_u32(out, key ? key->id : 0);
    if (key)
        hr__wbuf_put(out, nonce, sizeof nonce);
    hr__wbuf_put(out, encoding_ids, (size_t)b->ncolumns);
    size_t body_len = codec->body.len + (key ? HR__TAG_SIZE : 0);
    hr__wbuf_put_u32(out, (uint32_t)body_len);
    if (out->failed)
        return hr__fail(&codec->error, HR_ENOMEM, "out of memory writing a frame");
    size_t header_len = out->len;
    /* Room for body, tag and checksum now: the header is the AAD, and a
     * later reallocation would move it under the cipher's feet. */
    if (hr__wbuf_reserve(out, body_len + HR__FRAME_CHECKSUM_SIZE) != 0)
        return hr__fail(&codec->error, HR_ENOMEM, "out of memory writing a frame");
    if (key) {
        rc = hr__seal(&codec->keys, key, nonce, out->data, header_len,
                      (const uint8_t *)tenant_id, tenant_len, codec->body.data,
                      codec->body.len, out);
        if (rc != HR_OK)
            return hr__fail(&codec->error, rc, "sealing the frame failed");
    } else {
        hr__wbuf_put(out, codec->body.data, codec->body.len);
    }
    hr__wbuf_put_u64(out, XXH3_64bits(out->data, out->len));
    if (out->failed)
        return hr__fail(&codec->error, HR_ENOMEM, "out of memory writing a frame");
    if (has_dicts)
        mark_dicts_shipped(codec);
    *frame = out->data;
    *frame_len = out->len;
    return HR_OK;
}
