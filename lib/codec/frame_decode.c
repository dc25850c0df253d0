/* frame_decode.c - frame -> hr_batch, and hr_frame_inspect. */
#include <xxhash.h>

#include "codec_internal.h"

typedef struct frame_header {
    unsigned version;
    unsigned flags;
    uint32_t columns;
    uint32_t rows;
    uint64_t fingerprint;
    uint64_t tenant_tag;
    uint32_t key_id;
    const uint8_t *nonce;
    const uint8_t *encoding_ids;
    size_t header_len; /* bytes before the body */
    const uint8_t *body;
    size_t body_len;
} frame_header;

#define KNOWN_FLAGS (HR_FRAME_FLAG_ENCRYPTED | HR_FRAME_FLAG_HAS_DICT)

/* Parse and verify framing + checksum. Message in `why` on failure. */
static int parse_header(const uint8_t *frame, size_t len, frame_header *h,
                        const char **why)
{
    if (len < HR__FRAME_FIXED_HEADER + 4 + HR__FRAME_CHECKSUM_SIZE) {
        *why = "frame shorter than its fixed header";
        return HR_ECORRUPT;
    }
    if (memcmp(frame, HR__FRAME_MAGIC, 4) != 0) {
        *why = "bad magic: not a heliosrepl frame";
        return HR_ECORRUPT;
    }
    size_t covered = len - HR__FRAME_CHECKSUM_SIZE;
    if (XXH3_64bits(frame, covered) != hr__load_u64(frame + covered)) {
        *why = "checksum mismatch";
        return HR_ECORRUPT;
    }
    hr__rbuf r;
    hr__rbuf_init(&r, frame, covered);
    r.pos = 4;
    uint8_t version, flags;
    uint16_t columns;
    hr__rbuf_get_u8(&r, &version);
    hr__rbuf_get_u8(&r, &flags);
    hr__rbuf_get_u16(&r, &columns);
    hr__rbuf_get_u32(&r, &h->rows);
    hr__rbuf_get_u64(&r, &h->fingerprint);
    hr__rbuf_get_u64(&r, &h->tenant_tag);
    hr__rbuf_get_u32(&r, &h->key_id);
    h->version = version;
    h->flags = flags;
    h->columns = columns;
    if (version > HR__FRAME_VERSION) {
        *why = "frame format version newer than this library reads";
        return HR_EVERSION;
    }
    if (version == 0 || (flags & ~KNOWN_FLAGS) || columns == 0 ||
        columns > HR_BATCH_MAX_COLUMNS) {
        *why = "bad version, flags or column count";
        return HR_ECORRUPT;
    }
    int sealed = (flags & HR_FRAME_FLAG_ENCRYPTED) != 0;
    if (sealed != (h->key_id != 0)) {
        *why = "key id does not match the encrypted flag";
        return HR_ECORRUPT;
    }
    uint32_t body_len;
    if ((sealed && hr__rbuf_take(&r, &h->nonce, HR__NONCE_SIZE) != 0) ||
        hr__rbuf_take(&r, &h->encoding_ids, columns) != 0 ||
        hr__rbuf_get_u32(&r, &body_len) != 0 || body_len != hr__rbuf_left(&r)) {
        *why = "header or body length does not match the frame size";
        return HR_ECORRUPT;
    }
    h->header_len = r.pos;
    h->body = frame + r.pos;
    h->body_len = body_len;
    return HR_OK;
}

HR_API int hr_frame_inspect(const uint8_t *frame, size_t len, hr_frame_info *info)
{
    if (!frame || !info || info->size < sizeof *info)
        return HR_EINVAL;
    frame_header h;
    const char *why;
    int rc = parse_header(frame, len, &h, &why);
    if (rc != HR_OK)
        return rc;
    info->format_version = h.version;
    info->flags = h.flags;
    info->schema_fingerprint = h.fingerprint;
    info->rows = h.rows;
    info->columns = h.columns;
    info->key_id = h.key_id;
    return HR_OK;
}

static int get_name(hr__rbuf *r, char *buf, int allow_empty)
{
    uint64_t len;
    const uint8_t *p;
    if (hr__rbuf_get_varint(r, &len) != 0 || len > HR_BATCH_MAX_NAME ||
        (!allow_empty && len == 0) || hr__rbuf_take(r, &p, (size_t)len) != 0 ||
        memchr(p, 0, (size_t)len))
        return -1;
    memcpy(buf, p, (size_t)len);
    buf[len] = '\0';
    return 0;
}

/* Declare the frame's relation and columns in `out`; check the fingerprint. */
static int read_schema(hr_codec *codec, hr__rbuf *r, const frame_header *h,
                       hr_batch *out)
{
    char schema[HR_BATCH_MAX_NAME + 1], table[HR_BATCH_MAX_NAME + 1];
    if (get_name(r, schema, 1) != 0 || get_name(r, table, 1) != 0)
        return hr__fail(&codec->error, HR_ECORRUPT, "bad relation name in schema");
    int rc = hr_batch_set_relation(out, schema, table);
    if (rc != HR_OK)
        return hr__fail(&codec->error, rc, "out of memory decoding a frame");
    for (uint32_t i = 0; i < h->columns; i++) {
        char name[HR_BATCH_MAX_NAME + 1];
        uint32_t type_oid;
        uint8_t nullable;
        if (get_name(r, name, 0) != 0 || hr__rbuf_get_u32(r, &type_oid) != 0 ||
            hr__rbuf_get_u8(r, &nullable) != 0 || nullable > 1)
            return hr__fail(&codec->error, HR_ECORRUPT,
                            "bad schema entry for column %u", i);
        rc = hr_batch_add_column(out, name, type_oid, nullable);
        if (rc < 0)
            return hr__fail(&codec->error, rc, "out of memory decoding a frame");
        if ((out->columns[i].storage << 4) != (h->encoding_ids[i] & 0xF0))
            return hr__fail(&codec->error, HR_ECORRUPT,
                            "column \"%s\": encoding id does not fit its type", name);
    }
    if (XXH3_64bits(r->data, r->pos) != h->fingerprint)
        return hr__fail(&codec->error, HR_ECORRUPT, "schema fingerprint mismatch");
    return HR_OK;
}

/* Skip the column sections to reach the dictionary section; learn it. */
static int read_dicts(hr_codec *codec, hr__rbuf sections, uint32_t columns,
                      int has_dicts)
{
    for (uint32_t i = 0; i < columns; i++) {
        uint32_t len;
        const uint8_t *skip;
        if (hr__rbuf_get_u32(&sections, &len) != 0 ||
            hr__rbuf_take(&sections, &skip, len) != 0)
            return hr__fail(&codec->error, HR_ECORRUPT,
                            "column section %u overruns the body", i);
    }
    size_t at = sections.pos;
    uint64_t count;
    if (hr__rbuf_get_varint(&sections, &count) != 0 || (count != 0) != has_dicts)
        return hr__fail(&codec->error, HR_ECORRUPT,
                        "dictionary section disagrees with the header flags");
    sections.pos = at;
    int rc = hr__dicts_import(codec->env, &codec->dicts, &sections);
    if (rc != HR_OK)
        return hr__fail(&codec->error, rc, "%s in an inline dictionary",
                        rc == HR_ENOMEM ? "out of memory" : "corruption");
    if (hr__rbuf_left(&sections) != 0)
        return hr__fail(&codec->error, HR_ECORRUPT, "trailing bytes after the body");
    return HR_OK;
}

/* Bytes the declared cells need before any value bytes: checked up front. */
static int check_budget(hr_codec *codec, const hr_batch *out, size_t rows,
                        size_t *budget)
{
    *budget = (size_t)codec->params[HR_CODEC_PARAM_MAX_BYTES];
    for (int i = 0; i < out->ncolumns; i++) {
        const hr__column *c = &out->columns[i];
        size_t per_cell = 1 + (c->width ? c->width : 4);
        if (rows > *budget / per_cell)
            return hr__fail(&codec->error, HR_ELIMIT,
                            "%zu rows x %d columns exceed the decode byte limit",
                            rows, out->ncolumns);
        *budget -= rows * per_cell;
    }
    return HR_OK;
}

static int decode_body(hr_codec *codec, const frame_header *h,
                       const uint8_t *body, size_t body_len, hr_batch *out)
{
    hr__rbuf r;
    hr__rbuf_init(&r, body, body_len);
    int rc = read_schema(codec, &r, h, out);
    if (rc == HR_OK)
        rc = read_dicts(codec, r, h->columns,
                        (h->flags & HR_FRAME_FLAG_HAS_DICT) != 0);
    size_t budget;
    if (rc == HR_OK)
        rc = check_budget(codec, out, h->rows, &budget);
    for (uint32_t i = 0; rc == HR_OK && i < h->columns; i++) {
        uint32_t len;
        const uint8_t *p;
        hr__rbuf_get_u32(&r, &len); /* bounds proven by read_dicts */
        hr__rbuf_take(&r, &p, len);
        hr__rbuf section;
        hr__rbuf_init(&section, p, len);
        rc = hr__column_decode(codec, &section, &out->columns[i], h->rows,
                               h->encoding_ids[i], &budget);
    }
    return rc;
}

static int open_frame(hr_codec *codec, const frame_header *h,
                      const uint8_t *frame, const char *tenant_id,
                      size_t tenant_len, const uint8_t **body, size_t *body_len)
{
    *body = h->body;
    *body_len = h->body_len;
    if (!(h->flags & HR_FRAME_FLAG_ENCRYPTED)) {
        if (codec->params[HR_CODEC_PARAM_REQUIRE_ENCRYPTION])
            return hr__fail(&codec->error, HR_EAUTH,
                            "plaintext frame refused: encryption is required");
        return HR_OK;
    }
    const hr__key *key = hr__keyring_find(&codec->keys, h->key_id);
    if (!key)
        return hr__fail(&codec->error, HR_EAUTH, "frame sealed with unknown key id %u",
                        h->key_id);
    int rc = hr__open(&codec->keys, key, h->nonce, frame, h->header_len,
                      (const uint8_t *)tenant_id, tenant_len, h->body, h->body_len,
                      &codec->body);
    if (rc == HR_EAUTH)
        return hr__fail(&codec->error, rc,
                        "authentication failed (wrong key %u, tenant or tampered frame)",
                        h->key_id);
    if (rc != HR_OK)
        return hr__fail(&codec->error, rc, "opening the sealed body failed");
    *body = codec->body.data;
    *body_len = codec->body.len;
    return HR_OK;
}

HR_API int hr_codec_decode(hr_codec *codec, const uint8_t *frame, size_t len,
                           const char *tenant_id, hr_batch *out)
{
    if (!codec)
        return HR_EINVAL;
    if (!out || (!frame && len) || !tenant_id)
        return hr__fail(&codec->error, HR_EINVAL, "NULL frame, tenant or batch");
    hr_batch_clear(out);
    size_t tenant_len = strlen(tenant_id);
    if (tenant_len == 0 || tenant_len > HR__TENANT_MAX)
        return hr__fail(&codec->error, HR_EINVAL, "tenant id must be 1..%d bytes",
                        HR__TENANT_MAX);
    frame_header h;
    const char *why = NULL;
    int rc = parse_header(frame ? frame : (const uint8_t *)"", len, &h, &why);
    if (rc != HR_OK)
        return hr__fail(&codec->error, rc, "%s", why);
    if (h.tenant_tag != XXH3_64bits(tenant_id, tenant_len))
        return hr__fail(&codec->error, HR_EAUTH,
                        "frame belongs to another tenant than \"%s\"", tenant_id);
    if (h.rows > (uint64_t)codec->params[HR_CODEC_PARAM_MAX_ROWS])
        return hr__fail(&codec->error, HR_ELIMIT, "frame of %u rows exceeds the limit of %lld",
                        h.rows, (long long)codec->params[HR_CODEC_PARAM_MAX_ROWS]);
    const uint8_t *body;
    size_t body_len;
    rc = open_frame(codec, &h, frame, tenant_id, tenant_len, &body, &body_len);
    if (rc == HR_OK)
        rc = decode_body(codec, &h, body, body_len, out);
    if (rc != HR_OK)
        hr_batch_clear(out);
    return rc;
}
