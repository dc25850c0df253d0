/*
 * copytext.h - one row of PostgreSQL's COPY ... TO STDOUT text format into a
 * batch, the way the copier reads a table. Sans-I/O; internal (lib/copy).
 *
 * The format (PostgreSQL's COPY documentation, "Text Format"): fields
 * separated by a tab, the row ended by a newline; "\N" alone is NULL;
 * inside a field a backslash escapes: \b \f \n \r \t \v, \\, \ddd (1..3
 * octal digits, the low 8 bits kept), \xh or \xhh (1..2 hex digits), and a
 * backslash before any other character stands for that character. Each
 * decoded field is a text value, converted into the batch by its column's
 * type OID exactly as pgoutput's text values are (pgvalue.h).
 */
#ifndef HR_COPYTEXT_H
#define HR_COPYTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "batch/batch_internal.h"

/* Where and why the last row failed (HR_EPROTO). */
typedef struct hr__copytext_err {
    int field; /* 0-based field of the row; -1 for the row as a whole */
    char why[200];
} hr__copytext_err;

/*
 * hr__copytext_row - decode `row` (`len` bytes: one whole row, its newline
 * included) in place - the buffer is overwritten with the decoded fields -
 * and append it to `b`: 1 (insert) to column 0, which must be an int2
 * column, then field k to column k + 1 (a NULL field as NULL). The row must
 * have exactly hr_batch_columns(b) - 1 fields.
 *
 * HR_OK; HR_EPROTO (a missing or extra field, no final newline, a
 * newline or carriage return inside the row, a backslash at a field's end,
 * a value that does not parse as its column's type: details in *err);
 * HR_ENOMEM; HR_ELIMIT (a column's heap is full); HR_EINVAL (a batch
 * without columns). On error nothing of the row stays in the batch.
 */
int hr__copytext_row(hr_batch *b, uint8_t *row, size_t len,
                     hr__copytext_err *err);

#endif /* HR_COPYTEXT_H */
