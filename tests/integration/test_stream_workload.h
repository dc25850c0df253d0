/*
 * test_stream_workload.h - a multi-tenant workload with exact per-tenant
 * expectations, and a recorder of per-tenant deliveries, for the shared
 * mode integration tests (restart of 20 tenants, a tenant moving to a
 * dedicated slot).
 *
 * The workload writes random transactions over three tables (orders, items,
 * events; key (tenant_id, id)), each touching several tenants - registered
 * ones "t00".."tNN" and unregistered ones "x00".. - with inserts, updates
 * and deletes of live rows. For each registered tenant it keeps the
 * expected transactions: the tenant's changes of each workload transaction
 * that touched it, in order.
 *
 * The recorder is an on_txn callback that keeps each tenant's deliveries
 * (end LSN and changes), checks on the spot that every change carries the
 * tenant it was handed to in its tenant column and that a tenant's end
 * LSNs only grow, and confirms as its per-tenant policy says.
 */
#ifndef HR_TEST_STREAM_WORKLOAD_H
#define HR_TEST_STREAM_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include <heliosrepl/stream.h>

#define WL_TENANTS_MAX 32
#define WL_EXTRA 3 /* unregistered writers */
#define WL_TABLES 3

typedef struct wl_row {
    int kind; /* hr_pgchange_kind */
    int table;
    long id;
} wl_row;

/* A tenant's transactions: rows[txn_first[k] .. txn_first[k + 1]). */
typedef struct wl_txns {
    wl_row *rows;
    size_t nrows, rcap;
    size_t *first; /* ntx + 1 entries once ntx > 0 */
    uint64_t *end; /* end LSN of each (recorder only) */
    size_t ntx, tcap;
} wl_txns;

typedef struct workload {
    int ntenants;
    uint32_t rng;
    long next_id[WL_TENANTS_MAX + WL_EXTRA][WL_TABLES];
    int live[WL_TENANTS_MAX + WL_EXTRA][WL_TABLES];
    wl_txns exp[WL_TENANTS_MAX];
} workload;

/* "t00".."t31" for k < WL_TENANTS_MAX, "x00".. after. */
const char *wl_name(int k);
/* Tenant index of a registered tenant's name, -1 otherwise. */
int wl_index(const char *name);
void wl_make_tables(PGconn *conn);
void wl_init(workload *w, int ntenants, uint32_t seed);
/* One random committed transaction of 1..max_ops operations; returns how
 * many registered tenants it touched. */
int wl_txn(workload *w, PGconn *conn, int max_ops);
void wl_free(workload *w);

/* Per-tenant confirm policy of the recorder. */
enum {
    REC_CONFIRM_EACH = 0, /* confirm every transaction as it arrives */
    REC_CONFIRM_NONE = 1, /* never (the test confirms by hand) */
    REC_CONFIRM_LAG = 2   /* confirm the transaction `lag` deliveries back */
};

typedef struct recorder {
    wl_txns got[WL_TENANTS_MAX];
    int policy[WL_TENANTS_MAX];
    size_t lag[WL_TENANTS_MAX];
    /* where each tenant's confirms go (the stream it currently lives on) */
    hr_stream *stream[WL_TENANTS_MAX];
    size_t deliveries;
} recorder;

hr_stream_callbacks rec_callbacks(recorder *r);
/* Route every tenant's confirms to `s`. */
void rec_set_stream(recorder *r, hr_stream *s);
void rec_free(recorder *r);
/* Rows delivered to tenants [0, n). */
size_t rec_rows(const recorder *r, int n);
size_t wl_rows(const workload *w, int n);

/*
 * Tenant `name`'s deliveries got->[got_from, got_from + count) must be
 * exactly the expected transactions exp->[exp_from, exp_from + count): the
 * same changes with the same boundaries. count WL_ALL: every delivery from
 * got_from on, and they must end where the expected ones end.
 */
#define WL_ALL ((size_t)-1)
void check_txns(const char *name, const wl_txns *got, size_t got_from,
                const wl_txns *exp, size_t exp_from, size_t count);

#endif
