/*
 * pgscale.c - pgoutput.tenants100.*: the source's cost of replicating many
 * tenants, shared mode against a dedicated slot per tenant (see pglive.h).
 *
 * Method. One database, one table; publications and slots for both modes
 * are made first (the shared one, then one per tenant), so every slot holds
 * the whole workload. The workload: tenants x rows_per_tenant inserts in
 * 10-row transactions, each row of another tenant, every tenant's rows
 * spread over the whole WAL. Then, each timed on its own:
 *
 *   shared     one stream with every tenant drains the shared slot;
 *   dedicated  one stream per tenant drains its slot (10 at a time): each
 *              walsender decodes the whole WAL and its row filter drops the
 *              other tenants' rows.
 *
 * Every stream confirms each transaction. The figure is the source
 * server's CPU seconds during the phase: the postmaster and all it forked,
 * read from /proc before and after, once every walsender of the phase has
 * exited and been reaped. Autovacuum is best off on the server (scripts/
 * bench starts it so): it would land in either phase at random.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pglive.h"
#include "support.h"

#define WINDOW 10 /* dedicated streams running at once */

static const char *tenant_name(int k, char out[16])
{
    snprintf(out, 16, "t%03d", k);
    return out;
}

static hr_stream *make(hr_env *env, const char *ci, const char *tenant,
                       live_sink *k)
{
    hr_stream_opts *o;
    bench_check(hr_stream_opts_new(env, &o), "hr_stream_opts_new");
    bench_check(hr_stream_opts_set_conninfo(o, ci), "conninfo");
    bench_check(hr_stream_opts_set_heartbeat_interval_ms(o, 0), "heartbeat");
    if (tenant)
        bench_check(hr_stream_opts_set_tenant(o, tenant), "tenant");
    else
        bench_check(hr_stream_opts_set_mode(o, HR_STREAM_SHARED), "mode");
    hr_stream_callbacks cb = live_callbacks(k);
    hr_stream *s;
    if (hr_stream_new(env, o, &cb, &s) != HR_OK)
        bench_die("hr_stream_new", hr_env_errmsg(env));
    hr_stream_opts_free(o);
    k->stream = s;
    return s;
}

static hr_stream *make_shared(hr_env *env, const char *ci, int tenants,
                              live_sink *k)
{
    hr_stream *s = make(env, ci, NULL, k);
    for (int t = 0; t < tenants; t++) {
        char name[16];
        bench_check(hr_stream_add_tenant(s, tenant_name(t, name), 0),
                    "hr_stream_add_tenant");
    }
    return s;
}

/* ---- a window of dedicated streams ---- */

typedef struct window {
    hr_stream *s[WINDOW];
    live_sink k[WINDOW];
    long target; /* rows each must get; 0: until it streams */
} window;

static int finished(const window *w, int i)
{
    if (!w->s[i])
        return 0;
    if (!w->target)
        return hr_stream_phase(w->s[i]) == HR_STREAM_PHASE_STREAMING;
    return w->k[i].rows >= w->target;
}

static int any_finished(void *arg)
{
    const window *w = arg;
    for (int i = 0; i < WINDOW; i++)
        if (finished(w, i))
            return 1;
    return 0;
}

/* Run a dedicated stream per tenant, WINDOW at a time, until each is
 * set up (target 0) or got `target` rows. */
static void each_dedicated(hr_env *env, const char *ci, int tenants,
                           long target)
{
    window w;
    memset(&w, 0, sizeof w);
    w.target = target;
    int next = 0, active = 0;
    while (next < tenants || active) {
        for (int i = 0; i < WINDOW && next < tenants; i++)
            if (!w.s[i]) {
                char name[16];
                w.k[i] = (live_sink){0};
                w.s[i] = make(env, ci, tenant_name(next++, name), &w.k[i]);
                active++;
            }
        live_drive(w.s, WINDOW, any_finished, &w, 600);
        for (int i = 0; i < WINDOW; i++)
            if (finished(&w, i)) {
                if (target && w.k[i].rows != target)
                    bench_die("dedicated stream", "wrong row count");
                hr_stream_free(w.s[i]);
                w.s[i] = NULL;
                active--;
            }
    }
}

/* ---- the figure ---- */

typedef struct shared_goal {
    const live_sink *k;
    long rows;
} shared_goal;

static int shared_done(void *arg)
{
    const shared_goal *g = arg;
    return g->k->rows >= g->rows;
}

static int is_streaming(void *arg)
{
    return hr_stream_phase(arg) == HR_STREAM_PHASE_STREAMING;
}

void pglive_tenants(hr_env *env, const char *conninfo, int tenants,
                    long rows_per_tenant)
{
    char ci[1024];
    live_fresh_db(conninfo, "bench_scale", ci, sizeof ci);
    PGconn *conn = live_connect(ci);
    live_sql(conn, "CREATE TABLE orders (tenant_id text NOT NULL, id bigint "
                   "NOT NULL, amount numeric(12,2), note text, PRIMARY KEY "
                   "(tenant_id, id))");
    double t0 = bench_now_s();
    live_sink k = {0};
    hr_stream *s = make_shared(env, ci, tenants, &k);
    live_drive(&s, 1, is_streaming, s, 60);
    hr_stream_free(s);
    each_dedicated(env, ci, tenants, 0);
    fprintf(stderr,
            "bench-pgoutput: %d tenants: shared + %d dedicated slots set up "
            "in %.1f s\n",
            tenants, tenants, bench_now_s() - t0);

    const long total = (long)tenants * rows_per_tenant;
    const long per_txn = 10;
    t0 = bench_now_s();
    live_sql(conn,
             "DO $$ BEGIN FOR b IN 0..%ld LOOP "
             "INSERT INTO orders SELECT 't' || lpad(((b * %ld + g) %% %d)"
             "::text, 3, '0'), b * %ld + g, (g * 37 %% 10000) / 100.0, "
             "'note ' || g FROM generate_series(0, %ld) g; COMMIT; "
             "END LOOP; END $$",
             total / per_txn - 1, per_txn, tenants, per_txn, per_txn - 1);
    fprintf(stderr,
            "bench-pgoutput: workload of %ld rows (%ld-row transactions, "
            "each row another tenant's) written in %.1f s\n",
            total, per_txn, bench_now_s() - t0);

    int pm = live_postmaster(conn);
    live_walsenders_gone(pm);

    /* shared: one stream for all */
    double cpu0 = live_src_cpu_s(pm);
    t0 = bench_now_s();
    k = (live_sink){0};
    s = make_shared(env, ci, tenants, &k);
    shared_goal g = {&k, total};
    live_drive(&s, 1, shared_done, &g, 600);
    double shared_wall = bench_now_s() - t0;
    hr_stream_free(s);
    live_walsenders_gone(pm);
    double shared_cpu = live_src_cpu_s(pm) - cpu0;
    if (k.rows != total)
        bench_die("shared stream", "wrong row count");

    /* dedicated: a slot per tenant */
    cpu0 = live_src_cpu_s(pm);
    t0 = bench_now_s();
    each_dedicated(env, ci, tenants, rows_per_tenant);
    double dedicated_wall = bench_now_s() - t0;
    live_walsenders_gone(pm);
    double dedicated_cpu = live_src_cpu_s(pm) - cpu0;

    printf("pgoutput.tenants100.shared_src_cpu_s %.2f s\n", shared_cpu);
    printf("pgoutput.tenants100.dedicated_src_cpu_s %.2f s\n", dedicated_cpu);
    printf("pgoutput.tenants100.dedicated_over_shared %.1f x\n",
           shared_cpu > 0 ? dedicated_cpu / shared_cpu : 0.0);
    printf("pgoutput.tenants100.shared_wall_s %.2f s\n", shared_wall);
    printf("pgoutput.tenants100.dedicated_wall_s %.2f s\n", dedicated_wall);
    fflush(stdout);
    fprintf(stderr,
            "bench-pgoutput: %d tenants x %ld rows: the source spent %.2f s "
            "of CPU for the shared slot, %.2f s for %d dedicated slots\n",
            tenants, rows_per_tenant, shared_cpu, dedicated_cpu, tenants);
    PQfinish(conn);
    live_drop_db(conninfo, "bench_scale");
}
