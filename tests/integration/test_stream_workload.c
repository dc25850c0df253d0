/* test_stream_workload.c - see test_stream_workload.h. */
#include "test_stream_workload.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_stream_common.h"

static const char *const table_names[WL_TABLES] = {"orders", "items", "events"};

const char *wl_name(int k)
{
    static char names[WL_TENANTS_MAX + WL_EXTRA][8];
    ck_assert(k >= 0 && k < WL_TENANTS_MAX + WL_EXTRA);
    if (!names[k][0]) {
        if (k < WL_TENANTS_MAX)
            snprintf(names[k], sizeof names[k], "t%02d", k);
        else
            snprintf(names[k], sizeof names[k], "x%02d", k - WL_TENANTS_MAX);
    }
    return names[k];
}

int wl_index(const char *name)
{
    if (name[0] != 't' || strlen(name) != 3)
        return -1;
    int k = atoi(name + 1);
    return k >= 0 && k < WL_TENANTS_MAX ? k : -1;
}

void wl_make_tables(PGconn *conn)
{
    for (int t = 0; t < WL_TABLES; t++)
        sql(conn,
            "CREATE TABLE %s (tenant_id text NOT NULL, id bigint NOT NULL, "
            "note text, PRIMARY KEY (tenant_id, id))",
            table_names[t]);
}

static void txns_add_row(wl_txns *x, int kind, int table, long id)
{
    if (x->nrows == x->rcap) {
        x->rcap = x->rcap ? x->rcap * 2 : 256;
        x->rows = realloc(x->rows, x->rcap * sizeof *x->rows);
        ck_assert_ptr_nonnull(x->rows);
    }
    x->rows[x->nrows++] = (wl_row){kind, table, id};
}

/* Close the transaction whose rows are rows[first[ntx]..nrows). */
static void txns_open(wl_txns *x, uint64_t end)
{
    if (x->ntx + 2 > x->tcap) {
        x->tcap = x->tcap ? x->tcap * 2 : 64;
        x->first = realloc(x->first, x->tcap * sizeof *x->first);
        x->end = realloc(x->end, x->tcap * sizeof *x->end);
        ck_assert(x->first && x->end);
    }
    x->first[x->ntx] = x->nrows;
    x->end[x->ntx] = end;
}

static void txns_close(wl_txns *x)
{
    x->ntx++;
    x->first[x->ntx] = x->nrows;
}

static void txns_free(wl_txns *x)
{
    free(x->rows);
    free(x->first);
    free(x->end);
    memset(x, 0, sizeof *x);
}

void wl_init(workload *w, int ntenants, uint32_t seed)
{
    ck_assert(ntenants > 0 && ntenants <= WL_TENANTS_MAX);
    memset(w, 0, sizeof *w);
    w->ntenants = ntenants;
    w->rng = seed;
}

static uint32_t next_rand(workload *w)
{
    w->rng = w->rng * 1103515245u + 12345u;
    return (w->rng >> 8) & 0xffffff;
}

/* Writer k of the workload: registered k < ntenants, else extra. */
static int writer_slot(const workload *w, int k)
{
    return k < w->ntenants ? k : WL_TENANTS_MAX + (k - w->ntenants);
}

int wl_txn(workload *w, PGconn *conn, int max_ops)
{
    char q[16384];
    size_t o = (size_t)snprintf(q, sizeof q, "BEGIN;");
    int ops = 1 + (int)(next_rand(w) % (unsigned)max_ops);
    int touched[WL_TENANTS_MAX] = {0}, ntouched = 0;
    const int writers = w->ntenants + WL_EXTRA;
    for (int k = 0; k < ops; k++) {
        int slot = writer_slot(w, (int)(next_rand(w) % (unsigned)writers));
        int tb = (int)(next_rand(w) % WL_TABLES);
        int op = (int)(next_rand(w) % 3);
        const char *name = wl_name(slot);
        const char *table = table_names[tb];
        int *live = &w->live[slot][tb];
        long *nx = &w->next_id[slot][tb];
        wl_txns *e = slot < WL_TENANTS_MAX ? &w->exp[slot] : NULL;
        if (e && !touched[slot]) {
            touched[slot] = 1;
            ntouched++;
            txns_open(e, 0);
        }
        if (op == 0 || *live == 0) {
            long id = ++*nx;
            o += (size_t)snprintf(q + o, sizeof q - o,
                                  "INSERT INTO %s VALUES ('%s', %ld, 'n');",
                                  table, name, id);
            *live = 1;
            if (e)
                txns_add_row(e, HR_PGCHANGE_INSERT, tb, id);
        } else if (op == 1) { /* the newest row is always alive */
            o += (size_t)snprintf(q + o, sizeof q - o,
                                  "UPDATE %s SET note = note || 'u' WHERE "
                                  "tenant_id = '%s' AND id = %ld;",
                                  table, name, *nx);
            if (e)
                txns_add_row(e, HR_PGCHANGE_UPDATE, tb, *nx);
        } else {
            o += (size_t)snprintf(q + o, sizeof q - o,
                                  "DELETE FROM %s WHERE tenant_id = '%s' AND "
                                  "id = %ld; INSERT INTO %s VALUES ('%s', "
                                  "%ld, 'r');",
                                  table, name, *nx, table, name, *nx);
            if (e) {
                txns_add_row(e, HR_PGCHANGE_DELETE, tb, *nx);
                txns_add_row(e, HR_PGCHANGE_INSERT, tb, *nx);
            }
        }
        ck_assert_uint_lt(o, sizeof q - 512);
    }
    snprintf(q + o, sizeof q - o, "COMMIT;");
    sql(conn, "%s", q);
    /* The rows were added tenant by tenant as the operations came: one
     * open transaction per touched tenant, closed together at commit. */
    for (int t = 0; t < w->ntenants; t++)
        if (touched[t])
            txns_close(&w->exp[t]);
    return ntouched;
}

void wl_free(workload *w)
{
    for (int t = 0; t < WL_TENANTS_MAX; t++)
        txns_free(&w->exp[t]);
}

size_t wl_rows(const workload *w, int n)
{
    size_t k = 0;
    for (int t = 0; t < n; t++)
        k += w->exp[t].nrows;
    return k;
}

/* ---- recorder ---- */

static int column(const hr_pgrelation *rel, const char *name)
{
    for (int c = 0; c < hr_pgrelation_columns(rel); c++)
        if (strcmp(hr_pgrelation_column_name(rel, c), name) == 0)
            return c;
    return -1;
}

static void text_of(const hr_pgtxn *txn, size_t i, hr_pgtuple which, int col,
                    char *out, size_t outlen)
{
    const uint8_t *data;
    size_t len;
    ck_assert_int_ge(col, 0);
    int form = hr_pgtxn_change_value(txn, i, which, col, &data, &len);
    ck_assert_int_eq(form, HR_PGVALUE_TEXT);
    snprintf(out, outlen, "%.*s", (int)len, (const char *)data);
}

static int rec_on_txn(void *ctx, const char *tenant, const hr_pgtxn *txn,
                      const hr_stream_change *changes, size_t n)
{
    recorder *r = ctx;
    int k = wl_index(tenant);
    ck_assert_msg(k >= 0, "delivered to unregistered tenant %s", tenant);
    wl_txns *g = &r->got[k];
    uint64_t end = hr_pgtxn_end_lsn(txn);
    ck_assert_msg(g->ntx == 0 || end > g->end[g->ntx - 1],
                  "%s: end LSN %llx after %llx (out of order or repeated)",
                  tenant, (unsigned long long)end,
                  (unsigned long long)g->end[g->ntx - 1]);
    txns_open(g, end);
    for (size_t c = 0; c < n; c++) {
        size_t i = changes[c].index;
        ck_assert_int_eq(changes[c].role, HR_STREAM_ROLE_AS_IS);
        int kind = hr_pgtxn_change_kind(txn, i);
        const hr_pgrelation *rel = hr_pgtxn_change_relation(txn, i);
        ck_assert_ptr_nonnull(rel);
        int tb = -1;
        for (int t = 0; t < WL_TABLES; t++)
            if (!strcmp(hr_pgrelation_name(rel), table_names[t]))
                tb = t;
        ck_assert_int_ge(tb, 0);
        hr_pgtuple which =
            kind == HR_PGCHANGE_DELETE ? HR_PGTUPLE_OLD : HR_PGTUPLE_NEW;
        char v[64];
        text_of(txn, i, which, column(rel, "tenant_id"), v, sizeof v);
        ck_assert_msg(!strcmp(v, tenant), "tenant %s was handed a row of %s",
                      tenant, v);
        text_of(txn, i, which, column(rel, "id"), v, sizeof v);
        txns_add_row(g, kind, tb, strtol(v, NULL, 10));
    }
    txns_close(g);
    r->deliveries++;
    uint64_t confirm = 0;
    if (r->policy[k] == REC_CONFIRM_EACH)
        confirm = end;
    else if (r->policy[k] == REC_CONFIRM_LAG && g->ntx > r->lag[k])
        confirm = g->end[g->ntx - 1 - r->lag[k]];
    if (confirm) {
        ck_assert_ptr_nonnull(r->stream[k]);
        ck_assert_int_eq(hr_stream_confirm(r->stream[k], tenant, confirm),
                         HR_OK);
    }
    return HR_OK;
}

hr_stream_callbacks rec_callbacks(recorder *r)
{
    hr_stream_callbacks cb = {HR_STREAM_CALLBACKS_VERSION, r, rec_on_txn, NULL};
    return cb;
}

void rec_set_stream(recorder *r, hr_stream *s)
{
    for (int k = 0; k < WL_TENANTS_MAX; k++)
        r->stream[k] = s;
}

void rec_free(recorder *r)
{
    for (int k = 0; k < WL_TENANTS_MAX; k++)
        txns_free(&r->got[k]);
}

size_t rec_rows(const recorder *r, int n)
{
    size_t k = 0;
    for (int t = 0; t < n; t++)
        k += r->got[t].nrows;
    return k;
}

void check_txns(const char *name, const wl_txns *got, size_t got_from,
                const wl_txns *exp, size_t exp_from, size_t count)
{
    ck_assert_uint_le(got_from, got->ntx);
    ck_assert_uint_le(exp_from, exp->ntx);
    if (count == WL_ALL) {
        ck_assert_msg(got->ntx - got_from == exp->ntx - exp_from,
                      "%s: %zu transactions delivered, want %zu", name,
                      got->ntx - got_from, exp->ntx - exp_from);
        count = got->ntx - got_from;
    }
    ck_assert_msg(got_from + count <= got->ntx && exp_from + count <= exp->ntx,
                  "%s: fewer transactions than %zu", name, count);
    for (size_t k = 0; k < count; k++) {
        size_t g = got_from + k, e = exp_from + k;
        size_t gn = got->first[g + 1] - got->first[g];
        size_t en = exp->first[e + 1] - exp->first[e];
        ck_assert_msg(gn == en, "%s: transaction %zu has %zu changes, want %zu",
                      name, e, gn, en);
        for (size_t i = 0; i < gn; i++) {
            const wl_row *a = &got->rows[got->first[g] + i];
            const wl_row *b = &exp->rows[exp->first[e] + i];
            ck_assert_msg(a->kind == b->kind && a->table == b->table &&
                              a->id == b->id,
                          "%s: transaction %zu change %zu: got %d %s %ld, "
                          "want %d %s %ld",
                          name, e, i, a->kind, table_names[a->table], a->id,
                          b->kind, table_names[b->table], b->id);
        }
    }
}
