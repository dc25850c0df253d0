/*
 * pgvalue.c - pgoutput wire values into typed batch cells.
 *
 * Hot path: one value at a time, straight into the column's arrays (the
 * batch's storage is shared through batch_internal.h), no allocation beyond
 * the column's own growth, no sscanf. This file holds the dispatch by type
 * OID, the messages and the cell writers; the text parsers live in
 * pgvalue_float.c (float4 / float8), pgvalue_time.c (date, timestamp(tz)),
 * pgvalue_bytes.c (uuid, bytea), and pgvalue_numeric.c prints the binary
 * NUMERIC form.
 */
#include "pgvalue.h"

#include <stdio.h>
#include <string.h>

#include "pgwire.h"

/* ---- messages ---------------------------------------------------------- */

static const char *type_name(uint32_t oid)
{
    switch (oid) {
    case HR_OID_BOOL:
        return "bool";
    case HR_OID_BYTEA:
        return "bytea";
    case HR_OID_INT8:
        return "int8";
    case HR_OID_INT2:
        return "int2";
    case HR_OID_INT4:
        return "int4";
    case HR_OID_TEXT:
        return "text";
    case HR_OID_JSON:
        return "json";
    case HR_OID_FLOAT4:
        return "float4";
    case HR_OID_FLOAT8:
        return "float8";
    case HR_OID_BPCHAR:
        return "bpchar";
    case HR_OID_VARCHAR:
        return "varchar";
    case HR_OID_DATE:
        return "date";
    case HR_OID_TIMESTAMP:
        return "timestamp";
    case HR_OID_TIMESTAMPTZ:
        return "timestamptz";
    case HR_OID_NUMERIC:
        return "numeric";
    case HR_OID_UUID:
        return "uuid";
    case HR_OID_JSONB:
        return "jsonb";
    default:
        return NULL;
    }
}

/* "int4", or "type oid 869" for a type without a name here. */
static const char *type_label(uint32_t oid, char *buf, size_t cap)
{
    const char *name = type_name(oid);
    if (name)
        return name;
    snprintf(buf, cap, "type oid %u", oid);
    return buf;
}

/* Up to 48 bytes of a value for a message: printable ASCII as is (quotes and
 * backslashes escaped), other bytes as \xNN, "..." when cut. */
static void quote_value(char *dst, size_t cap, const uint8_t *data, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, i;
    for (i = 0; i < len && i < 48 && o + 5 < cap; i++) {
        const uint8_t ch = data[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
            dst[o++] = (char)ch;
        } else {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[ch >> 4];
            dst[o++] = hex[ch & 15];
        }
    }
    if (i < len && o + 4 <= cap) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
}

static int bad_text(hr_batch *b, const hr__column *c, const uint8_t *data,
                    size_t len)
{
    char q[256], tbuf[32];
    quote_value(q, sizeof q, data, len);
    return hr__fail(&b->error, HR_EPROTO,
                    "column \"%s\": invalid %s value \"%s\" (text form)",
                    c->name, type_label(c->type_oid, tbuf, sizeof tbuf), q);
}

static int bad_binary(hr_batch *b, const hr__column *c, const uint8_t *data,
                      size_t len, const char *why)
{
    char q[256], tbuf[32];
    quote_value(q, sizeof q, data, len);
    return hr__fail(&b->error, HR_EPROTO,
                    "column \"%s\": invalid %s value \"%s\" (binary form, %zu "
                    "bytes: %s)",
                    c->name, type_label(c->type_oid, tbuf, sizeof tbuf), q, len,
                    why);
}

/* ---- appending straight into the column -------------------------------- */

static int grow_failed(hr_batch *b, const hr__column *c, int rc)
{
    return hr__fail(&b->error, rc, "%s appending to column \"%s\"",
                    rc == HR_ELIMIT ? "4 GiB column limit reached"
                                    : "out of memory",
                    c->name);
}

/*
 * Copies of a few bytes. A memcpy of a length the compiler does not know may
 * become `rep movs`, whose start-up costs more than copying a short value:
 * values are mostly short, so copy them with word moves.
 */
static inline void copy_short(uint8_t *dst, const uint8_t *src, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t head, tail;
        memcpy(&head, src, 8);
        memcpy(&tail, src + n - 8, 8);
        memcpy(dst, &head, 8);
        memcpy(dst + n - 8, &tail, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t head, tail;
        memcpy(&head, src, 4);
        memcpy(&tail, src + n - 4, 4);
        memcpy(dst, &head, 4);
        memcpy(dst + n - 4, &tail, 4);
    } else if (n < 4) {
        for (size_t i = 0; i < n; i++)
            dst[i] = src[i];
    } else if (n <= 32) {
        copy_short(dst, src, 16);
        copy_short(dst + n - 16, src + n - 16, 16);
    } else {
        memcpy(dst, src, n);
    }
}

/* A present fixed-width cell holding the `c->width` bytes at `value`. */
static int push_fixed(hr_batch *b, hr__column *c, const void *value)
{
    if (c->len == c->cap) {
        const int rc = hr__column_reserve(b->env, c, 1);
        if (rc != HR_OK)
            return grow_failed(b, c, rc);
    }
    const size_t cell = c->len++;
    c->states[cell] = HR_VALUE_PRESENT;
    uint8_t *dst = c->values + cell * c->width;
    switch (c->width) { /* constant sizes: plain moves */
    case 1:
        memcpy(dst, value, 1);
        break;
    case 4:
        memcpy(dst, value, 4);
        break;
    case 8:
        memcpy(dst, value, 8);
        break;
    case 16:
        memcpy(dst, value, 16);
        break;
    default:
        memcpy(dst, value, c->width);
        break;
    }
    return HR_OK;
}

static int push_int(hr_batch *b, hr__column *c, int64_t v)
{
    /* The parsers check PostgreSQL's ranges; the batch's are as wide. */
    if (v < c->min_value || v > c->max_value)
        return hr__fail(&b->error, HR_EPROTO,
                        "column \"%s\": %lld out of range for type oid %u",
                        c->name, (long long)v, c->type_oid);
    return push_fixed(b, c, &v);
}

/* Room for one BYTES cell of at most `max` (> 0) bytes, written at *dst and
 * then committed with bytes_commit(c, actual length). */
static int bytes_reserve(hr_batch *b, hr__column *c, size_t max, uint8_t **dst)
{
    int rc = hr__column_reserve(b->env, c, 1);
    if (rc == HR_OK)
        rc = hr__column_reserve_heap(b->env, c, max);
    if (rc != HR_OK)
        return grow_failed(b, c, rc);
    *dst = c->heap + c->heap_len;
    return HR_OK;
}

static void bytes_commit(hr__column *c, size_t n)
{
    const size_t cell = c->len++;
    c->states[cell] = HR_VALUE_PRESENT;
    c->heap_len += n;
    c->offsets[cell + 1] = (uint32_t)c->heap_len;
}

static int push_bytes(hr_batch *b, hr__column *c, const uint8_t *data,
                      size_t len)
{
    int rc = hr__column_reserve(b->env, c, 1);
    if (rc == HR_OK && len)
        rc = hr__column_reserve_heap(b->env, c, len);
    if (rc != HR_OK)
        return grow_failed(b, c, rc);
    if (len)
        copy_short(c->heap + c->heap_len, data, len);
    bytes_commit(c, len);
    return HR_OK;
}

/* ---- integers ---------------------------------------------------------- */

/* An optionally signed decimal in [min, max] (min < 0 < max). */
static int parse_int(const uint8_t *s, size_t len, int64_t min, int64_t max,
                     int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (len && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == len)
        return -1;
    while (i + 1 < len && s[i] == '0') /* leading zeros (int4in allows them) */
        i++;
    /* 19 digits always fit in a uint64: no overflow check per digit (and no
     * division), one range check at the end. */
    if (len - i > 19)
        return -1;
    uint64_t v = 0;
    for (; i < len; i++) {
        const unsigned d = (unsigned)s[i] - '0';
        if (d > 9)
            return -1;
        v = v * 10 + d;
    }
    const uint64_t limit = neg ? (uint64_t)(-(min + 1)) + 1 : (uint64_t)max;
    if (v > limit)
        return -1;
    /* -(v - 1) - 1 avoids negating INT64_MIN's magnitude as an int64. */
    *out = neg ? (v ? -(int64_t)(v - 1) - 1 : 0) : (int64_t)v;
    return 0;
}

/* ---- bytea ------------------------------------------------------------ */

static int append_bytea_text(hr_batch *b, hr__column *c, const uint8_t *s,
                             size_t len)
{
    const int hex = len >= 2 && s[0] == '\\' && s[1] == 'x';
    if (len == (hex ? 2u : 0u))
        return push_bytes(b, c, NULL, 0);
    /* At most a byte per two hex digits (one for an odd, bad, count). */
    const size_t max = hex ? (len - 1) / 2 : len;
    uint8_t *dst = NULL;
    const int rc = bytes_reserve(b, c, max, &dst);
    if (rc != HR_OK)
        return rc;
    const long n =
        hex ? hr__pg_bytea_hex(s, len, dst) : hr__pg_bytea_escape(s, len, dst);
    if (n < 0)
        return bad_text(b, c, s, len);
    bytes_commit(c, (size_t)n);
    return HR_OK;
}

/* ---- numeric ---------------------------------------------------------- */

static int append_numeric_binary(hr_batch *b, hr__column *c,
                                 const uint8_t *data, size_t len)
{
    uint8_t *dst = NULL;
    const int rc =
        bytes_reserve(b, c, hr__pg_numeric_text_max(data, len), &dst);
    if (rc != HR_OK)
        return rc;
    const long n = hr__pg_numeric_to_text(data, len, (char *)dst);
    if (n < 0)
        return bad_binary(b, c, data, len, "not a NUMERIC send form");
    bytes_commit(c, (size_t)n);
    return HR_OK;
}

/* ---- dispatch ---------------------------------------------------------- */

static int append_text(hr_batch *b, hr__column *c, const uint8_t *s, size_t len)
{
    int64_t iv;
    switch (c->type_oid) {
    case HR_OID_BOOL:
        if (len == 1 && (s[0] == 't' || s[0] == 'f')) {
            const uint8_t v = s[0] == 't';
            return push_fixed(b, c, &v);
        } else {
            /* boolin's other spellings. */
            static const char *const yes[] = {"true", "yes", "on", "1"};
            static const char *const no[] = {"false", "no", "off", "0"};
            for (int k = 0; k < 4; k++) {
                uint8_t v = 2;
                if (hr__pg_equals_ci((const char *)s, len, yes[k]))
                    v = 1;
                else if (hr__pg_equals_ci((const char *)s, len, no[k]))
                    v = 0;
                if (v != 2)
                    return push_fixed(b, c, &v);
            }
            if (len == 1 && (s[0] == 'T' || s[0] == 'F' || s[0] == 'y' ||
                             s[0] == 'Y' || s[0] == 'n' || s[0] == 'N')) {
                const uint8_t v = (s[0] | 0x20) == 't' || (s[0] | 0x20) == 'y';
                return push_fixed(b, c, &v);
            }
            return bad_text(b, c, s, len);
        }
    case HR_OID_INT2:
        if (parse_int(s, len, INT16_MIN, INT16_MAX, &iv))
            return bad_text(b, c, s, len);
        return push_fixed(b, c, &iv);
    case HR_OID_INT4:
        if (parse_int(s, len, INT32_MIN, INT32_MAX, &iv))
            return bad_text(b, c, s, len);
        return push_fixed(b, c, &iv);
    case HR_OID_INT8:
        if (parse_int(s, len, INT64_MIN, INT64_MAX, &iv))
            return bad_text(b, c, s, len);
        return push_fixed(b, c, &iv);
    case HR_OID_FLOAT4: {
        float v;
        const int rc = hr__pg_parse_float4(s, len, &v);
        if (rc == HR_ENOMEM)
            return hr__fail(&b->error, rc, "out of memory making a C locale");
        if (rc)
            return bad_text(b, c, s, len);
        return push_fixed(b, c, &v);
    }
    case HR_OID_FLOAT8: {
        double v;
        const int rc = hr__pg_parse_float8(s, len, &v);
        if (rc == HR_ENOMEM)
            return hr__fail(&b->error, rc, "out of memory making a C locale");
        if (rc)
            return bad_text(b, c, s, len);
        return push_fixed(b, c, &v);
    }
    case HR_OID_DATE: {
        int32_t v;
        if (hr__pg_parse_date((const char *)s, len, &v))
            return bad_text(b, c, s, len);
        return push_int(b, c, v);
    }
    case HR_OID_TIMESTAMP:
    case HR_OID_TIMESTAMPTZ:
        if (hr__pg_parse_timestamp((const char *)s, len,
                                   c->type_oid == HR_OID_TIMESTAMPTZ, &iv))
            return bad_text(b, c, s, len);
        return push_fixed(b, c, &iv);
    case HR_OID_UUID: {
        uint8_t u[16];
        if (hr__pg_parse_uuid(s, len, u))
            return bad_text(b, c, s, len);
        return push_fixed(b, c, u);
    }
    case HR_OID_BYTEA:
        return append_bytea_text(b, c, s, len);
    default:
        /* text, varchar, bpchar, json, jsonb, numeric and every other type:
         * the text form is the value. */
        return push_bytes(b, c, s, len);
    }
}

static int append_binary(hr_batch *b, hr__column *c, const uint8_t *s,
                         size_t len)
{
    static const char wrong_size[] = "wrong size";
    switch (c->type_oid) {
    case HR_OID_BOOL: {
        if (len != 1)
            return bad_binary(b, c, s, len, wrong_size);
        const uint8_t v = s[0] != 0; /* boolrecv */
        return push_fixed(b, c, &v);
    }
    case HR_OID_INT2: {
        if (len != 2)
            return bad_binary(b, c, s, len, wrong_size);
        const int64_t v = (int16_t)hr__be16(s);
        return push_fixed(b, c, &v);
    }
    case HR_OID_INT4: {
        if (len != 4)
            return bad_binary(b, c, s, len, wrong_size);
        const int64_t v = (int32_t)hr__be32(s);
        return push_fixed(b, c, &v);
    }
    case HR_OID_INT8:
    case HR_OID_TIMESTAMP:
    case HR_OID_TIMESTAMPTZ: {
        if (len != 8)
            return bad_binary(b, c, s, len, wrong_size);
        const int64_t v = (int64_t)hr__be64(s);
        if (c->type_oid != HR_OID_INT8 && v != HR__PG_TIMESTAMP_NOBEGIN &&
            v != HR__PG_TIMESTAMP_NOEND &&
            (v < HR__PG_MIN_TIMESTAMP || v >= HR__PG_END_TIMESTAMP))
            return bad_binary(b, c, s, len, "timestamp out of range");
        return push_fixed(b, c, &v);
    }
    case HR_OID_DATE: {
        if (len != 4)
            return bad_binary(b, c, s, len, wrong_size);
        const int32_t v = (int32_t)hr__be32(s);
        if (v != HR__PG_DATE_NOBEGIN && v != HR__PG_DATE_NOEND &&
            (v < -HR__PG_EPOCH_JDATE ||
             v >= HR__PG_DATE_END_JULIAN - HR__PG_EPOCH_JDATE))
            return bad_binary(b, c, s, len, "date out of range");
        return push_int(b, c, v);
    }
    case HR_OID_FLOAT4: {
        if (len != 4)
            return bad_binary(b, c, s, len, wrong_size);
        const uint32_t bits = hr__be32(s);
        float v;
        memcpy(&v, &bits, sizeof v);
        return push_fixed(b, c, &v);
    }
    case HR_OID_FLOAT8: {
        if (len != 8)
            return bad_binary(b, c, s, len, wrong_size);
        const uint64_t bits = hr__be64(s);
        double v;
        memcpy(&v, &bits, sizeof v);
        return push_fixed(b, c, &v);
    }
    case HR_OID_UUID:
        if (len != 16)
            return bad_binary(b, c, s, len, wrong_size);
        return push_fixed(b, c, s);
    case HR_OID_NUMERIC:
        return append_numeric_binary(b, c, s, len);
    case HR_OID_JSONB:
        /* jsonb_send: a version byte (1), then the text. */
        if (len < 1)
            return bad_binary(b, c, s, len, "no version byte");
        if (s[0] != 1)
            return hr__fail(&b->error, HR_EUNSUPPORTED,
                            "column \"%s\": jsonb binary version %u is not "
                            "supported (only 1)",
                            c->name, s[0]);
        return push_bytes(b, c, s + 1, len - 1);
    case HR_OID_BYTEA:
    case HR_OID_TEXT:
    case HR_OID_VARCHAR:
    case HR_OID_BPCHAR:
    case HR_OID_JSON:
        /* textsend / byteasend: the bytes themselves. */
        return push_bytes(b, c, s, len);
    default: {
        char tbuf[32];
        return hr__fail(&b->error, HR_EUNSUPPORTED,
                        "column \"%s\": no binary decoder for %s (publish it "
                        "in text form)",
                        c->name, type_label(c->type_oid, tbuf, sizeof tbuf));
    }
    }
}

int hr__pgvalue_append(hr_batch *b, int col, int form, const uint8_t *data,
                       size_t len)
{
    if (!b)
        return HR_EINVAL;
    if (col < 0 || col >= b->ncolumns)
        return hr__fail(&b->error, HR_EINVAL, "column %d out of range (0..%d)",
                        col, b->ncolumns - 1);
    if (len && !data)
        return hr__fail(&b->error, HR_EINVAL, "NULL data with length %zu", len);
    hr__column *c = &b->columns[col];
    if (form == 't')
        return append_text(b, c, data, len);
    if (form == 'b')
        return append_binary(b, c, data, len);
    return hr__fail(&b->error, HR_EINVAL,
                    "column \"%s\": value form %d is neither text nor binary",
                    c->name, form);
}
