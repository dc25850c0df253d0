/*
 * copytext.c - COPY text rows into a batch (see copytext.h). The fields are
 * decoded in place: an escape is never shorter than what it stands for, so
 * the write position never passes the read position.
 */
#include <stdio.h>
#include <string.h>

#include "copytext.h"
#include "pgoutput/pgvalue.h"

static int octal(uint8_t c)
{
    return c >= '0' && c <= '7';
}

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Printable, for messages: at most 32 bytes of a field, others as '?'. */
static void excerpt(const uint8_t *s, size_t len, char out[40])
{
    size_t n = len < 32 ? len : 32, o = 0;
    for (size_t i = 0; i < n; i++)
        out[o++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
    if (len > n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static int fail(hr__copytext_err *err, int field, const char *why)
{
    err->field = field;
    snprintf(err->why, sizeof err->why, "%s", why);
    return HR_EPROTO;
}

/*
 * Decode the field starting at row[*pos] up to the next tab or the final
 * newline (end = index of that newline), writing it to row + start.
 * Sets *out_len, *is_null, and *pos to the delimiter. 0 or HR_EPROTO.
 */
static int decode_field(uint8_t *row, size_t end, size_t *pos, size_t *out_len,
                        int *is_null, hr__copytext_err *err, int field)
{
    size_t r = *pos, w = *pos;
    const size_t start = *pos;
    while (r < end && row[r] != '\t') {
        uint8_t c = row[r++];
        if (c == '\r' || c == '\n')
            return fail(err, field, "a raw line break inside the row");
        if (c != '\\') {
            row[w++] = c;
            continue;
        }
        if (r >= end || row[r] == '\t')
            return fail(err, field, "a backslash at the end of the field");
        c = row[r++];
        switch (c) {
        case 'b':
            c = '\b';
            break;
        case 'f':
            c = '\f';
            break;
        case 'n':
            c = '\n';
            break;
        case 'r':
            c = '\r';
            break;
        case 't':
            c = '\t';
            break;
        case 'v':
            c = '\v';
            break;
        case 'N':
            /* "\N" alone is NULL; inside a longer field, PostgreSQL's
             * COPY FROM reads it as "N" too, but COPY TO never writes it */
            if (r - start == 2 && (r == end || row[r] == '\t')) {
                *pos = r;
                *out_len = 0;
                *is_null = 1;
                return 0;
            }
            break;
        case 'x':
            if (r < end && hex_value(row[r]) >= 0) {
                int v = hex_value(row[r++]);
                if (r < end && hex_value(row[r]) >= 0)
                    v = v * 16 + hex_value(row[r++]);
                c = (uint8_t)v;
            }
            /* "\x" without a hex digit is an 'x', as in PostgreSQL */
            break;
        default:
            if (octal(c)) {
                int v = c - '0';
                for (int k = 0; k < 2 && r < end && octal(row[r]); k++)
                    v = v * 8 + (row[r++] - '0');
                c = (uint8_t)(v & 0xff);
            }
            /* any other character stands for itself */
            break;
        }
        row[w++] = c;
    }
    *pos = r;
    *out_len = w - start;
    *is_null = 0;
    return 0;
}

int hr__copytext_row(hr_batch *b, uint8_t *row, size_t len,
                     hr__copytext_err *err)
{
    err->field = -1;
    err->why[0] = '\0';
    const int ncols = hr_batch_columns(b);
    if (ncols < 1)
        return HR_EINVAL;
    if (len == 0 || row[len - 1] != '\n')
        return fail(err, -1, "the row does not end with a newline");
    const size_t before = hr_batch_rows(b);
    const size_t end = len - 1;
    int rc = hr_batch_append_int64(b, 0, 1);
    size_t pos = 0;
    int field = 0;
    for (; rc == HR_OK; field++) {
        if (field + 1 >= ncols) {
            rc = fail(err, -1, "more fields than the table has columns");
            break;
        }
        size_t flen = 0;
        int is_null = 0;
        const size_t start = pos;
        rc = decode_field(row, end, &pos, &flen, &is_null, err, field);
        if (rc != 0)
            break;
        if (is_null) {
            rc = hr_batch_append_null(b, field + 1);
        } else {
            rc = hr__pgvalue_append(b, field + 1, 't', row + start, flen);
            if (rc == HR_EPROTO) {
                char ex[40];
                excerpt(row + start, flen, ex);
                err->field = field;
                snprintf(err->why, sizeof err->why,
                         "\"%s\" is no value of type %u (%.120s)", ex,
                         hr_batch_column_type(b, field + 1),
                         hr_batch_errmsg(b));
            }
        }
        if (rc != HR_OK)
            break;
        if (pos == end) {
            if (field + 2 != ncols)
                rc = fail(err, -1, "fewer fields than the table has columns");
            break;
        }
        pos++; /* the tab */
    }
    if (rc != HR_OK)
        hr_batch_truncate(b, before);
    return rc;
}
