/*
 * codec_data.h - the data sets of the codec benchmark and their
 * deterministic generators.
 *
 * A data set is a table (schema "public") and its columns; a generator
 * yields the table's rows batch after batch, continuing from one batch to
 * the next (ids keep counting, clocks keep running). Each column draws
 * from its own random stream, seeded from the data set's `seed`, so the
 * same data set always yields the same rows, and changing one column does
 * not change the values of the others.
 *
 *   int_seq        orders.id int8: 9000000001, 9000000002, ...
 *   ts_regular     metrics.sampled_at timestamptz: every second exactly,
 *                  from 2024-05-01 00:00:00+00
 *   ts_jitter      readings.created_at timestamptz: every second +- up to
 *                  4 ms (uniform, microseconds)
 *   str_lowcard    orders.status text: an order status, 8 values drawn
 *                  independently with a skewed distribution:
 *                    delivered 46%, shipped 18%, processing 12%,
 *                    pending_payment 8%, cancelled 6%, returned 4%,
 *                    refunded 3%, on_hold 3%
 *                  Shannon entropy 2.35 bits per row (301 bytes per batch
 *                  of 1024 rows, 19 per 64): no encoding of these values
 *                  can be smaller on average. The text is 9.11 bytes per
 *                  row on average.
 *   str_uniform20  customers.country text: 20 country names, uniform,
 *                  independent ("United States" ... "Ireland"); entropy
 *                  log2(20) = 4.32 bits per row (553 bytes per batch of
 *                  1024 rows, 35 per 64). Not in `mixed`. (Named
 *                  str_lowcard before the status column replaced it: its
 *                  seed is kept, so its figures compare with older runs.)
 *   float_dec      ticks.price float8: a random walk of cents (+-0.50 per
 *                  row) from 250.00, 2 decimals
 *   json           events.payload jsonb: web analytics events (page_view,
 *                  click, search, add_to_cart, purchase, signup) of 48
 *                  concurrent sessions, in PostgreSQL's jsonb output form
 *   text           comments.body text: 30-200 characters of sentences of
 *                  English words, skewed to the frequent ones
 *   mixed          events: id (int_seq), created_at (ts_jitter),
 *                  ingested_at (ts_regular), status (str_lowcard, 2% NULL:
 *                  2.45 bits per row with the NULLs), amount (float_dec,
 *                  20% NULL), payload (json), note (text, 40% NULL)
 */
#ifndef HR_BENCH_CODEC_DATA_H
#define HR_BENCH_CODEC_DATA_H

#include <stddef.h>
#include <stdint.h>

#include <heliosrepl/heliosrepl.h>

#define CODEC_DATA_MAX_COLS 12

/* What a column's generator produces. */
typedef enum codec_data_kind {
    CODEC_DATA_ID,      /* int8 sequence */
    CODEC_DATA_TS_REG,  /* timestamptz, 1 s step */
    CODEC_DATA_TS_JIT,  /* timestamptz, 1 s step +- a few ms */
    CODEC_DATA_STATUS,  /* text, 8 order statuses, skewed */
    CODEC_DATA_COUNTRY, /* text, 20 countries, uniform */
    CODEC_DATA_PRICE,   /* float8, 2 decimals, random walk */
    CODEC_DATA_JSON,    /* jsonb event document */
    CODEC_DATA_TEXT,    /* free text */
    CODEC_DATA_UUID,    /* random v4 */
    CODEC_DATA_BOOL     /* mostly false */
} codec_data_kind;

typedef struct codec_data_col {
    const char *name;
    uint32_t oid;
    codec_data_kind kind;
    unsigned null_permille; /* > 0: nullable, that share NULL */
} codec_data_col;

typedef struct codec_data_set {
    const char *name;  /* what the benchmark calls it */
    const char *table; /* in schema "public" */
    unsigned seed;     /* fixed per data set: adding one changes no other */
    int ncols;
    codec_data_col cols[CODEC_DATA_MAX_COLS];
} codec_data_set;

/* All data sets, in the order the benchmark runs them. */
extern const codec_data_set codec_data_sets[];
extern const int codec_data_nsets;

/* A generator of one data set's rows. */
typedef struct codec_data_gen codec_data_gen;

/* A generator at the start of `ds`'s stream (dies when out of memory). */
codec_data_gen *codec_data_gen_new(const codec_data_set *ds);
void codec_data_gen_free(codec_data_gen *g); /* accepts NULL */

/* The next `rows` rows of the stream, as a new batch the caller frees. */
hr_batch *codec_data_gen_batch(hr_env *env, codec_data_gen *g, size_t rows);

/* An empty batch with `ds`'s relation and columns. */
hr_batch *codec_data_schema_batch(hr_env *env, const codec_data_set *ds);

/* Column `col` of `src` as a new single-column batch (same relation,
 * column name, type, nullability, values). */
hr_batch *codec_data_project_column(hr_env *env, const hr_batch *src, int col);

#endif /* HR_BENCH_CODEC_DATA_H */
