/*
 * strtpl.h - the TEMPLATE string scheme (strcodec.h, scheme 4): values split
 * into a template (literal text with value slots) and the slot values,
 * which go to per-slot columns of their own encodings. Meant for JSON and
 * log lines; round-trips any bytes exactly (a template stores every
 * literal byte).
 *
 * Tokenizer (encoder only; the decoder needs none of it). A value whose
 * first byte after blanks is `{` or `[` is read as JSON: a quoted string
 * followed by `:` (a key) is literal, any other quoted string's contents
 * (escapes verbatim) is a string slot, a number (-?digits, fraction,
 * exponent) a number slot, true/false/null a literal-word slot. Any other
 * value is read as a log line: every run of ASCII digits is a number slot.
 * Whatever does not fit (an unterminated string, ...) stays literal.
 *
 * Templates: at most HR__TPL_MAX_TEMPLATES per block and one per 4 rows,
 * HR__TPL_MAX_SLOTS slots each; past that the encoder gives up (free text
 * gives up after n / 4 + 1 rows). A slot whose value is the
 * same in every row (2+) of its template is folded into the literal text.
 * The other slots map to columns; slots of different templates share a
 * column when they have the same kind, the same literal text before them
 * (after the last `,` `{` `[` `(` `;` or newline, at most 32 bytes) and the
 * same rank among such slots of their template (counted over the 32 slots
 * before; "user_id": in every event type). A column's values are those of its
 * slots in row order (and slot order within a row). Column kinds:
 *
 *   0 TEXT       a nested string block (any scheme; TEMPLATE again only
 *                while the depth allows)
 *   1 INT        ints(m): each value is the canonical decimal text of an
 *                int64 (no '+', no leading zeros, no "-0")
 *   1 + w        DIGITS(w), 1 <= w <= 18: ints(m) of values in
 *                [0, 10^w), each written as exactly w digits (zero-padded)
 *
 * The encoder makes a number column INT when every value is canonical,
 * DIGITS(w) when every value is w digits (times of day, zero-padded ids),
 * else TEXT; an INT or DIGITS column with few distinct values (a sample of
 * 128 has at most 96) is written as TEXT in DICT form instead when that is
 * smaller (ids that repeat within a batch: sessions, users).
 *
 * Wire layout (after the scheme byte; ints(k) as in strcodec.h, strings(k)
 * a nested string block of k strings):
 *
 *   varint t               templates, 1 <= t <= min(n, 64)
 *   varint c               columns, c <= s
 *   ints(t)                slot count k_j of each template, <= 1024
 *   ints(s)                column of each slot, template by template
 *                          (s = sum k_j, each < c, every column used)
 *   ints(c)                kind of each column
 *   strings(s + t)         literal pieces: template j's k_j + 1 pieces in
 *                          order, template by template (depth 0)
 *   [template ids]         when t > 1: u8 form + codes as DICT's (each < t,
 *                          every template used by some row)
 *   per column             ints(m_c) or strings(m_c) (depth - 1), where
 *                          m_c counts the slots of the rows' templates that
 *                          name column c
 *
 * Row i is template j = id[i]: piece 0, value of slot 0 (the next value of
 * its column), piece 1, ..., piece k_j. Every template's pieces hold at
 * least k_j - 1 bytes (true of any tokenization: slots are separated by
 * literal bytes), so the slot count is bounded by the output size plus n.
 */
#ifndef HR_CODEC_STRTPL_H
#define HR_CODEC_STRTPL_H

#include "strcodec.h"

#define HR__TPL_MAX_TEMPLATES 64
#define HR__TPL_MAX_SLOTS 1024

/*
 * Append the TEMPLATE encoding (scheme byte included) of n strings, nested
 * blocks at `depth` - 1. Returns 1 when written, 0 when the strings do not
 * fit a template (more than max_templates templates, or a template with too
 * many slots): nothing is written then. Allocation failure sets
 * out->failed (and returns 1).
 */
int hr__tpl_encode(hr__wbuf *out, const uint8_t *heap, const uint32_t *offsets,
                   size_t n, const hr__str_opts *opts, int depth,
                   size_t max_templates);

/* The TEMPLATE payload after its scheme byte (see hr__str_decode). */
int hr__tpl_decode(hr__rbuf *in, size_t n, uint32_t *offsets, hr__wbuf *heap,
                   const hr__str_dec *dec, size_t limit, int depth,
                   const hr_env *env);

#endif /* HR_CODEC_STRTPL_H */
