/*
 * strtpl_internal.h - what the TEMPLATE encoder's tokenizer
 * (strtpl_tok.c), its column stage (strtpl.c) and its decoder
 * (strtpl_dec.c) share. Not part of any interface.
 */
#ifndef HR_CODEC_STRTPL_INTERNAL_H
#define HR_CODEC_STRTPL_INTERNAL_H

#include "strtpl.h"

/* Cascade depth of every ints(k) of this scheme, as in strcodec.c. */
#define INT_DEPTH HR__STR_INT_DEPTH

/* Column kinds on the wire: TEXT, INT, then DIGITS(w) = KIND_DIGITS + w. */
#define KIND_TEXT 0
#define KIND_INT 1
#define KIND_DIGITS 1
#define MAX_DIGITS 18
#define MAX_KIND (KIND_DIGITS + MAX_DIGITS)

/* Slot kinds of the tokenizer (encoder only; they key the columns). */
#define SLOT_NUM 0
#define SLOT_STR 1
#define SLOT_WORD 2

/* Template lookup table: a power of two above twice the templates. */
#define TPL_TABLE 256

static inline int is_digit(uint8_t c)
{
    return (uint8_t)(c - '0') < 10;
}

/* ------------------------------------------------------------------------ */
/* Encoder: the tokenizer's result                                           */
/* ------------------------------------------------------------------------ */

typedef struct tpl_info {
    uint64_t hash;
    size_t lit_off; /* literal text (pieces end to end) in enc.store */
    size_t lit_len;
    size_t shape_off; /* k slot shapes in enc.shapes */
    uint32_t k;
    uint32_t rows;
    uint32_t first_row;
} tpl_info;

typedef struct tpl_enc {
    const hr_env *env;
    const uint8_t *heap;
    const uint8_t *hend; /* past the last row: reads stay below */
    /* The row being tokenized: its literal bytes and, per slot, the
     * literal length before it << 2 | slot kind. */
    uint8_t *lit;
    size_t lit_cap;
    uint32_t *shape;
    size_t shape_cap;
    /* Per slot of every row: start and length in heap. */
    uint32_t *slots;
    size_t nslots, slots_cap;
    /* Templates: literal text and shapes end to end. */
    uint8_t *store;
    size_t store_len, store_cap;
    uint32_t *shapes;
    size_t shapes_len, shapes_cap;
    tpl_info t[HR__TPL_MAX_TEMPLATES];
    size_t nt, max_templates;
    uint8_t table[TPL_TABLE]; /* template index + 1, 0 = empty */
} tpl_enc;

/*
 * p (holding *cap elements of `elem` bytes) grown to hold `need`: the new
 * block, or NULL when memory ran out (p is still valid then).
 */
void *hr__tpl_grow(const hr_env *env, void *p, size_t *cap, size_t need,
                   size_t elem);

/*
 * Tokenize the row heap[from, to), add its slots to e->slots and return its
 * template index (a new template when none matches); -1 when it does not
 * fit (too many slots or templates), -2 on allocation failure.
 */
int hr__tpl_tokenize_row(tpl_enc *e, const uint8_t *heap, uint32_t from,
                         uint32_t to);

/* Frees the tokenizer's scratch (not e itself). */
void hr__tpl_enc_free(tpl_enc *e);

#endif /* HR_CODEC_STRTPL_INTERNAL_H */
