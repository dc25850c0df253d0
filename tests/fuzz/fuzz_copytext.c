/*
 * fuzz_copytext.c - libFuzzer target for the COPY text row parser
 * (lib/copy/copytext.c) and the typed value conversion behind it.
 *
 * Input: one byte n (1 + n % 16 columns), n type bytes (each modulo 16
 * picks a type of the table below), then COPY text: rows ending in '\n'
 * (what follows the last newline is a row without one). The parser must
 * return HR_OK (one more row), HR_EPROTO or HR_ELIMIT (no row appended,
 * the failing field within the row's), and stay in bounds (the sanitizers
 * check). When every column is text, a parsed row escaped again the way
 * COPY TO escapes must parse back to the same values. Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <heliosrepl/heliosrepl.h>

#include "copy/copytext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t types[16] = {
    HR_OID_BOOL,   HR_OID_INT2,   HR_OID_INT4,      HR_OID_INT8,
    HR_OID_FLOAT4, HR_OID_FLOAT8, HR_OID_NUMERIC,   HR_OID_TEXT,
    HR_OID_BYTEA,  HR_OID_DATE,   HR_OID_TIMESTAMP, HR_OID_TIMESTAMPTZ,
    HR_OID_UUID,   HR_OID_JSON,   HR_OID_JSONB,     HR_OID_VARCHAR};

static hr_env *fuzz_env(void)
{
    static hr_env *env;
    if (!env && hr_env_new(&env, NULL) != HR_OK)
        abort();
    return env;
}

static hr_batch *make_batch(const uint32_t *oids, int n)
{
    hr_batch *b = NULL;
    if (hr_batch_new(fuzz_env(), &b) != HR_OK ||
        hr_batch_add_column(b, "_hr_op", HR_OID_INT2, 0) != 0)
        abort();
    for (int k = 0; k < n; k++) {
        char name[8] = {'c', (char)('a' + k), 0};
        if (hr_batch_add_column(b, name, oids[k], 1) != k + 1)
            abort();
    }
    return b;
}

/* Escape row `r` of an all-text batch as COPY TO does. */
static size_t escape_row(const hr_batch *b, size_t r, uint8_t *out)
{
    size_t o = 0;
    for (int k = 1; k < hr_batch_columns(b); k++) {
        if (k > 1)
            out[o++] = '\t';
        if (hr_batch_value_state(b, k, r) == HR_VALUE_NULL) {
            out[o++] = '\\';
            out[o++] = 'N';
            continue;
        }
        const uint8_t *v;
        size_t len;
        if (hr_batch_get_bytes(b, k, r, &v, &len) != HR_OK)
            abort();
        for (size_t i = 0; i < len; i++) {
            static const char from[] = "\\\b\f\n\r\t\v";
            static const char to[] = "\\bfnrtv";
            const char *p = v[i] ? strchr(from, v[i]) : NULL;
            if (p) {
                out[o++] = '\\';
                out[o++] = (uint8_t)to[p - from];
            } else {
                out[o++] = v[i];
            }
        }
    }
    out[o++] = '\n';
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const int n = 1 + data[0] % 16;
    if (size < 1 + (size_t)n)
        return 0;
    uint32_t oids[16];
    int all_text = 1;
    for (int k = 0; k < n; k++) {
        oids[k] = types[data[1 + k] % 16];
        all_text &= oids[k] == HR_OID_TEXT;
    }
    data += 1 + n;
    size -= 1 + (size_t)n;

    hr_batch *b = make_batch(oids, n);
    uint8_t *row = malloc(size ? size : 1);
    if (!row)
        abort();
    size_t pos = 0;
    while (pos < size) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        const size_t len = nl ? (size_t)(nl - (data + pos)) + 1 : size - pos;
        memcpy(row, data + pos, len);
        const size_t before = hr_batch_rows(b);
        hr__copytext_err err;
        int rc = hr__copytext_row(b, row, len, &err);
        if (rc == HR_OK) {
            if (hr_batch_rows(b) != before + 1)
                abort();
            int64_t op = 0;
            if (hr_batch_get_int64(b, 0, before, &op) != HR_OK || op != 1)
                abort();
        } else if (rc == HR_EPROTO || rc == HR_ELIMIT) {
            if (hr_batch_rows(b) != before || err.field < -1 ||
                err.field >= n || !err.why[0])
                abort();
            for (int k = 0; k <= n; k++)
                if (hr_batch_value_state(b, k, before) != HR_EINVAL)
                    abort();
        } else {
            abort();
        }
        pos += len;
    }

    /* round trip of the text rows */
    if (all_text && hr_batch_rows(b) > 0) {
        hr_batch *again = make_batch(oids, n);
        for (size_t r = 0; r < hr_batch_rows(b); r++) {
            uint8_t *esc = malloc(2 * size + 2 * (size_t)n + 2);
            if (!esc)
                abort();
            size_t len = escape_row(b, r, esc);
            hr__copytext_err err;
            if (hr__copytext_row(again, esc, len, &err) != HR_OK)
                abort();
            free(esc);
        }
        if (!hr_batch_equal(b, again))
            abort();
        hr_batch_free(again);
    }
    free(row);
    hr_batch_free(b);
    return 0;
}
