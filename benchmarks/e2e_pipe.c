/*
 * e2e_pipe.c - see e2e_pipe.h. Dies (bench_die) on any error: a benchmark
 * that silently lost rows would measure nothing.
 */
#include <poll.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <heliosrepl/apply.h>
#include <heliosrepl/heliosrepl.h>

#include "agent_unitbuf.h"
#include "e2e_pipe.h"
#include "support.h"

#define QUEUE_HIGH (32u << 20) /* stop reading the source above this */
#define UNIT_MAX_ROWS 4096     /* a unit of several transactions: at most */

typedef struct pipe_state {
    hr_env *env;
    hr_stream *stream;
    hr_applier *applier;
    hr_transport *tr;
    hr_codec *enc, *dec;
    hr_batch *scratch;
    hr_transport_msg *held;
    const char *tenant;
    const char *slot;
    uint64_t rows_sent, last_lsn, applied_lsn;
    double t0, first_txn_s, all_read_s;
    size_t tail_msgs, tail_bytes; /* queued when all was read */
    size_t tail_pending;          /* in the applier then */
    int coalesce;  /* several transactions a unit, as the agent */
    unitbuf unit;  /* the unit being collected */
    uint64_t tail_rows;           /* applied by then */
    uint64_t rows_wanted;
} pipe_state;

static void check(int rc, const char *what, const char *msg)
{
    if (rc != HR_OK)
        bench_die(what, msg);
}

static hr_stream *new_stream(pipe_state *p, const char *source_ci,
                             const hr_stream_callbacks *cb)
{
    const char *slot = p->slot;
    hr_stream_opts *o;
    bench_check(hr_stream_opts_new(p->env, &o), "stream opts");
    check(hr_stream_opts_set_conninfo(o, source_ci), "conninfo",
          hr_stream_opts_errmsg(o));
    check(hr_stream_opts_set_tenant(o, p->tenant), "tenant",
          hr_stream_opts_errmsg(o));
    check(hr_stream_opts_set_slot(o, slot), "slot", hr_stream_opts_errmsg(o));
    check(hr_stream_opts_set_publication(o, slot), "publication",
          hr_stream_opts_errmsg(o));
    check(hr_stream_opts_add_table(o, "bench.items"), "table",
          hr_stream_opts_errmsg(o));
    const char *binary = getenv("HR_E2E_BINARY");
    check(hr_stream_opts_set_binary(o, binary && *binary == '1'), "binary",
          hr_stream_opts_errmsg(o));
    hr_stream *s;
    check(hr_stream_new(p->env, o, cb, &s), "stream", hr_env_errmsg(p->env));
    hr_stream_opts_free(o);
    return s;
}

/* Send the unit collected so far: its batches, FIRST on the first message
 * and LAST on the last, all with the unit's last transaction's LSN. */
static void flush_unit(pipe_state *p)
{
    unitbuf *u = &p->unit;
    if (!u->txns)
        return;
    hr_transport_meta m;
    memset(&m, 0, sizeof m);
    m.size = sizeof m;
    m.tenant_id = p->tenant;
    m.lsn = u->lsn;
    m.commit_time = u->commit_time;
    for (size_t k = 0; k < u->n; k++) {
        const uint8_t *frame;
        size_t len;
        check(hr_codec_encode(p->enc, u->batch[k], p->tenant, &frame, &len),
              "encode", hr_codec_errmsg(p->enc));
        m.flags = (k == 0 ? HR_TRANSPORT_FIRST : 0) |
                  (k + 1 == u->n ? HR_TRANSPORT_LAST : 0);
        check(hr_transport_send(p->tr, &m, frame, len), "send",
              hr_transport_errmsg(p->tr));
        p->rows_sent += hr_batch_rows(u->batch[k]);
    }
    if (!u->n) {
        m.flags = HR_TRANSPORT_FIRST | HR_TRANSPORT_LAST;
        check(hr_transport_send(p->tr, &m, NULL, 0), "send",
              hr_transport_errmsg(p->tr));
    }
    p->last_lsn = m.lsn;
    unitbuf_clear(u);
    if (!p->all_read_s && p->rows_sent >= p->rows_wanted) {
        p->all_read_s = bench_now_s() - p->t0;
        hr_transport_stats(p->tr, NULL, NULL, &p->tail_msgs, &p->tail_bytes);
        p->tail_pending = hr_applier_pending_bytes(p->applier);
        hr_applier_stats(p->applier, NULL, NULL, &p->tail_rows, NULL);
    }
}

static int on_txn(void *ctx, const char *tenant_id, const hr_pgtxn *txn,
                  const hr_stream_change *changes, size_t n)
{
    pipe_state *p = ctx;
    (void)tenant_id;
    const char *msg = "";
    check(unitbuf_add_txn(&p->unit, p->env, txn, changes, n, p->scratch,
                          &msg),
          "unit", msg);
    if (!p->first_txn_s)
        p->first_txn_s = bench_now_s() - p->t0;
    /* One source transaction a unit, or several of one stream step. */
    if (!p->coalesce || p->unit.rows >= UNIT_MAX_ROWS)
        flush_unit(p);
    return HR_OK;
}

static void on_applied(void *ctx, const char *tenant_id, uint64_t lsn)
{
    pipe_state *p = ctx;
    (void)tenant_id;
    p->applied_lsn = lsn;
    hr_stream_confirm(p->stream, NULL, lsn);
}

static void on_error(void *ctx, const char *tenant_id, uint64_t lsn, int status,
                     const char *message)
{
    (void)ctx;
    (void)tenant_id;
    (void)lsn;
    (void)status;
    bench_die("apply", message);
}

static void receive(pipe_state *p)
{
    while (hr_applier_phase(p->applier) == HR_APPLIER_PHASE_READY) {
        hr_transport_msg *msg = p->held;
        p->held = NULL;
        if (!msg && hr_transport_recv(p->tr, &msg) != HR_OK)
            return;
        hr_transport_meta m;
        memset(&m, 0, sizeof m);
        m.size = sizeof m;
        hr_transport_msg_meta(msg, &m);
        if (m.flags & HR_TRANSPORT_FIRST) {
            int rc = hr_applier_begin(p->applier, m.tenant_id, m.lsn);
            if (rc == HR_EAGAIN) {
                p->held = msg;
                return;
            }
            check(rc, "begin", hr_applier_errmsg(p->applier));
        }
        size_t len;
        const uint8_t *data = hr_transport_msg_data(msg, &len);
        if (len) {
            hr_batch *b;
            bench_check(hr_batch_new(p->env, &b), "batch");
            check(hr_codec_decode(p->dec, data, len, m.tenant_id, b), "decode",
                  hr_codec_errmsg(p->dec));
            check(hr_applier_add_batch(p->applier, b), "add_batch",
                  hr_applier_errmsg(p->applier));
        }
        if (m.flags & HR_TRANSPORT_LAST)
            check(hr_applier_commit(p->applier), "commit",
                  hr_applier_errmsg(p->applier));
        hr_transport_msg_free(msg);
    }
}

static int empty_txn(void *ctx, const char *tenant_id, const hr_pgtxn *txn,
                     const hr_stream_change *changes, size_t n)
{
    (void)ctx;
    (void)tenant_id;
    (void)txn;
    (void)changes;
    (void)n;
    return HR_OK;
}

void e2e_pipe_create_slot(const char *source_ci, const char *tenant,
                          const char *slot)
{
    pipe_state p = {.tenant = tenant, .slot = slot};
    bench_check(hr_env_new(&p.env, NULL), "env");
    hr_stream_callbacks cb = {HR_STREAM_CALLBACKS_VERSION, &p, empty_txn, NULL};
    hr_stream *s = new_stream(&p, source_ci, &cb);
    double t0 = bench_now_s();
    while (hr_stream_phase(s) != HR_STREAM_PHASE_STREAMING) {
        int rc = hr_stream_run(s, 50);
        if (rc != HR_OK)
            bench_die("create slot", hr_stream_errmsg(s));
        if (bench_now_s() - t0 > 30)
            bench_die("create slot", "not streaming after 30 s");
    }
    hr_stream_free(s);
    hr_env_free(p.env);
}

void e2e_pipe_drop_slot(const char *source_ci, const char *tenant,
                        const char *slot)
{
    pipe_state p = {.tenant = tenant, .slot = slot};
    bench_check(hr_env_new(&p.env, NULL), "env");
    hr_stream_callbacks cb = {HR_STREAM_CALLBACKS_VERSION, &p, empty_txn, NULL};
    hr_stream *s = new_stream(&p, source_ci, &cb);
    bench_check(hr_stream_drop(s), "drop slot");
    hr_stream_free(s);
    hr_env_free(p.env);
}

void e2e_pipe_run(const char *source_ci, const char *target_ci,
                  const char *tenant, const char *slot, const char *source_id,
                  uint64_t rows, e2e_result *out)
{
    pipe_state p = {.tenant = tenant, .slot = slot, .rows_wanted = rows};
    double t0 = bench_now_s();
    p.t0 = t0;
    double cpu0 = bench_cpu_s();
    int last_fd = -1, lowat_on = 0;
    double last_txn_s = 0;
    const char *lw = getenv("HR_E2E_LOWAT");
    int lowat = lw ? atoi(lw) : 65536;
    const char *co = getenv("HR_E2E_COALESCE");
    p.coalesce = co ? atoi(co) : 1;
    bench_check(hr_env_new(&p.env, NULL), "env");
    bench_check(hr_codec_new(p.env, &p.enc), "codec");
    bench_check(hr_codec_new(p.env, &p.dec), "codec");
    bench_check(hr_batch_new(p.env, &p.scratch), "batch");
    const char *knob;
    if ((knob = getenv("HR_E2E_LEVEL")))
        bench_check(hr_codec_set_param(p.enc, HR_CODEC_PARAM_LEVEL, atoi(knob)),
                    "level");
    if ((knob = getenv("HR_E2E_DICT")))
        bench_check(
            hr_codec_set_param(p.enc, HR_CODEC_PARAM_DICTIONARY, atoi(knob)),
            "dictionary");
    if ((knob = getenv("HR_E2E_SNAPPY")) && *knob == '1')
        bench_check(hr_codec_set_param(p.enc, HR_CODEC_PARAM_COMPRESSOR,
                                       HR_CODEC_SNAPPY),
                    "compressor");
    bench_check(hr_transport_new_inproc(p.env, &p.tr), "transport");
    /* Room for what one stream step can hand over above QUEUE_HIGH. */
    bench_check(hr_transport_set_param(p.tr, HR_TRANSPORT_PARAM_MAX_MESSAGES,
                                       INT32_MAX),
                "transport param");
    bench_check(hr_transport_set_param(p.tr, HR_TRANSPORT_PARAM_MAX_BYTES,
                                       (int64_t)1 << 34),
                "transport param");
    hr_applier_opts *ao;
    bench_check(hr_applier_opts_new(p.env, &ao), "applier opts");
    check(hr_applier_opts_set_conninfo(ao, target_ci), "conninfo",
          hr_applier_opts_errmsg(ao));
    check(hr_applier_opts_set_source_id(ao, source_id), "source_id",
          hr_applier_opts_errmsg(ao));
    hr_applier_callbacks acb = {HR_APPLIER_CALLBACKS_VERSION, &p, on_applied,
                                on_error};
    check(hr_applier_new(p.env, ao, &acb, &p.applier), "applier",
          hr_env_errmsg(p.env));
    hr_applier_opts_free(ao);
    hr_stream_callbacks scb = {HR_STREAM_CALLBACKS_VERSION, &p, on_txn, NULL};
    p.stream = new_stream(&p, source_ci, &scb);

    while (!(p.rows_sent >= rows && p.applied_lsn >= p.last_lsn && !p.held &&
             hr_applier_pending_bytes(p.applier) == 0)) {
        uint64_t now = hr_env_monotonic_ns(p.env);
        int rc = hr_applier_step(p.applier, now);
        if (rc != HR_OK && rc != HR_EIO)
            bench_die("applier step", hr_applier_errmsg(p.applier));
        receive(&p);
        size_t queued;
        hr_transport_stats(p.tr, NULL, NULL, NULL, &queued);
        int read_source = queued < QUEUE_HIGH;
        uint64_t before = p.rows_sent;
        if (read_source) {
            rc = hr_stream_step(p.stream, now);
            if (rc != HR_OK)
                bench_die("stream step", hr_stream_errmsg(p.stream));
            flush_unit(&p); /* what the step collected */
            receive(&p);
            /* As heliosrepl-agent: while transactions come, wake only for
             * 64 KiB (or every 5 ms); see agent_main.c tune_lowat. */
            int fd = hr_stream_fd(p.stream);
            double tnow = bench_now_s();
            if (p.rows_sent != before)
                last_txn_s = tnow;
            int busy = tnow - last_txn_s < 0.05;
            if (fd >= 0 && lowat > 1 &&
                hr_stream_phase(p.stream) == HR_STREAM_PHASE_STREAMING &&
                (fd != last_fd || busy != lowat_on)) {
                int v = busy ? lowat : 1;
                setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v);
                last_fd = fd;
                lowat_on = busy;
            }
        }
        struct pollfd fds[HR_STREAM_FDS_MAX + 1];
        int nf = 0;
        int64_t timeout = 100;
        if (hr_applier_fd(p.applier) >= 0 && hr_applier_interest(p.applier)) {
            fds[nf].fd = hr_applier_fd(p.applier);
            fds[nf].events =
                (short)(((hr_applier_interest(p.applier) & HR_POLL_IN) ? POLLIN
                                                                       : 0) |
                        ((hr_applier_interest(p.applier) & HR_POLL_OUT)
                             ? POLLOUT
                             : 0));
            nf++;
        }
        int64_t at = hr_applier_timeout_ms(p.applier, now);
        if (at >= 0 && at < timeout)
            timeout = at;
        if (read_source) {
            int sf[HR_STREAM_FDS_MAX], si[HR_STREAM_FDS_MAX];
            int k = hr_stream_fds(p.stream, sf, si, HR_STREAM_FDS_MAX);
            for (int j = 0; j < k && j < HR_STREAM_FDS_MAX; j++) {
                fds[nf].fd = sf[j];
                fds[nf].events = (short)(((si[j] & HR_POLL_IN) ? POLLIN : 0) |
                                         ((si[j] & HR_POLL_OUT) ? POLLOUT : 0));
                nf++;
            }
            int64_t st = hr_stream_timeout_ms(p.stream, now);
            if (st >= 0 && st < timeout)
                timeout = st;
        }
        if (lowat_on && timeout > 5)
            timeout = 5;
        hr_transport_stats(p.tr, NULL, NULL, &queued, NULL);
        if (queued && !p.held &&
            hr_applier_phase(p.applier) == HR_APPLIER_PHASE_READY)
            timeout = 0;
        poll(fds, (nfds_t)nf, (int)timeout);
        if (bench_now_s() - t0 > 600)
            bench_die("ours", "no catch-up within 600 s");
    }
    out->seconds = bench_now_s() - t0;
    uint64_t tgt_txns = 0;
    hr_applier_stats(p.applier, &tgt_txns, NULL, NULL, NULL);
    fprintf(stderr,
            "bench-e2e: ours: first transaction after %.2f s, all read "
            "after %.2f s (%zu messages, %zu bytes queued, %zu pending in "
            "the applier, %llu rows applied), all applied after %.2f s, "
            "%.2f s of CPU, %llu target transactions\n",
            p.first_txn_s, p.all_read_s, p.tail_msgs, p.tail_bytes,
            p.tail_pending, (unsigned long long)p.tail_rows, out->seconds,
            bench_cpu_s() - cpu0, (unsigned long long)tgt_txns);
    out->rows = p.rows_sent;
    hr_transport_stats(p.tr, NULL, &out->wire_bytes, NULL, NULL);
    hr_stream_free(p.stream);
    hr_applier_free(p.applier);
    hr_transport_msg_free(p.held);
    hr_transport_free(p.tr);
    hr_batch_free(p.scratch);
    unitbuf_free(&p.unit);
    hr_codec_free(p.enc);
    hr_codec_free(p.dec);
    hr_env_free(p.env);
}
