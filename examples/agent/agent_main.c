/*
 * heliosrepl-agent - replicates tenants from a source PostgreSQL to a target
 * PostgreSQL through libheliosrepl, in one thread and one poll(2) loop:
 *
 *   stream on_txn -> hr_stream_to_batch -> hr_codec_encode -> transport
 *   transport -> hr_codec_decode -> per-tenant queues (agent_qos.c)
 *     -> the dispatcher's pick (hr_scheduler) -> hr_applier begin /
 *     add_batch / commit
 *   applier on_applied -> hr_stream_confirm
 *
 * plus the initial copy (hr_copier) for a tenant without a checkpoint. See
 * docs/agent.md for the configuration, the progress line and exit codes.
 */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define MAX_POLL (AGENT_MAX_LIST * 4 + 4)
#define PG_EPOCH_US 946684800000000LL /* 2000-01-01 in Unix microseconds */

void agent_log(const char *fmt, ...)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ld heliosrepl-agent: ", when, ts.tv_nsec / 1000000);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void lib_log(void *ctx, hr_log_level level, const char *message)
{
    (void)ctx;
    agent_log("[lib %d] %s", (int)level, message);
}

uint64_t agent_now_ns(const agent *a)
{
    return hr_env_monotonic_ns(a->env);
}

tenant *agent_tenant(agent *a, const char *id)
{
    for (size_t i = 0; i < a->n_tenants; i++)
        if (!strcmp(a->tenants[i].id, id))
            return &a->tenants[i];
    return NULL;
}

/* Slot and publication name: prefix + the id folded to [a-z0-9_]. */
static int slot_name(const char *prefix, const char *id, char *out, size_t n)
{
    int k = snprintf(out, n, "%s%s", prefix, id);
    if (k < 0 || (size_t)k >= n || k > 63)
        return 0;
    for (char *p = out; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
        else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
            *p = '_';
    }
    return 1;
}

static int setup(agent *a, agent_config *cfg)
{
    memset(a, 0, sizeof *a);
    a->cfg = cfg;
    int rc;
    if ((rc = hr_env_new(&a->env, NULL)) != HR_OK)
        return rc;
    if (cfg->verbose)
        hr_env_set_log(a->env, lib_log, NULL,
                       cfg->verbose > 1 ? HR_LOG_DEBUG : HR_LOG_INFO);
    if ((rc = hr_codec_new(a->env, &a->enc)) != HR_OK ||
        (rc = hr_codec_new(a->env, &a->dec)) != HR_OK ||
        (rc = hr_batch_new(a->env, &a->scratch)) != HR_OK ||
        (rc = hr_transport_new_inproc(a->env, &a->transport)) != HR_OK)
        return rc;
    if (cfg->codec_level &&
        (rc = hr_codec_set_param(a->enc, HR_CODEC_PARAM_LEVEL,
                                 cfg->codec_level)) != HR_OK) {
        agent_log("codec level: %s", hr_codec_errmsg(a->enc));
        return rc;
    }
    if (cfg->codec_dictionary >= 0 &&
        (rc = hr_codec_set_param(a->enc, HR_CODEC_PARAM_DICTIONARY,
                                 cfg->codec_dictionary)) != HR_OK)
        return rc;
    if (cfg->has_key) {
        if ((rc = hr_codec_add_key(a->enc, 1, cfg->key)) != HR_OK ||
            (rc = hr_codec_set_encrypt_key(a->enc, 1)) != HR_OK ||
            (rc = hr_codec_add_key(a->dec, 1, cfg->key)) != HR_OK ||
            (rc = hr_codec_set_param(a->dec, HR_CODEC_PARAM_REQUIRE_ENCRYPTION,
                                     1)) != HR_OK)
            return rc;
    }
    if ((rc = hr_transport_set_param(a->transport,
                                     HR_TRANSPORT_PARAM_MAX_MESSAGES,
                                     cfg->queue_messages)) != HR_OK ||
        (rc = hr_transport_set_param(a->transport, HR_TRANSPORT_PARAM_MAX_BYTES,
                                     cfg->queue_bytes)) != HR_OK) {
        agent_log("transport: %s", hr_transport_errmsg(a->transport));
        return rc;
    }

    hr_applier_opts *o = NULL;
    if ((rc = hr_applier_opts_new(a->env, &o)) != HR_OK)
        return rc;
    rc = hr_applier_opts_set_conninfo(o, cfg->target);
    if (rc == HR_OK && cfg->source_id)
        rc = hr_applier_opts_set_source_id(o, cfg->source_id);
    if (rc == HR_OK && cfg->meta_schema)
        rc = hr_applier_opts_set_meta_schema(o, cfg->meta_schema);
    if (rc == HR_OK && cfg->tenant_column)
        rc = hr_applier_opts_set_tenant_column(o, cfg->tenant_column);
    if (rc == HR_OK && cfg->group_rows)
        rc = hr_applier_opts_set_group_rows(o, (size_t)cfg->group_rows);
    if (rc == HR_OK && cfg->group_bytes)
        rc = hr_applier_opts_set_group_bytes(o, (size_t)cfg->group_bytes);
    if (rc == HR_OK && cfg->group_delay_ms)
        rc = hr_applier_opts_set_group_delay_ms(o, cfg->group_delay_ms);
    if (rc != HR_OK) {
        agent_log("applier options: %s", hr_applier_opts_errmsg(o));
        hr_applier_opts_free(o);
        return rc;
    }
    hr_applier_callbacks cb;
    agent_applier_callbacks(a, &cb);
    rc = hr_applier_new(a->env, o, &cb, &a->applier);
    hr_applier_opts_free(o);
    if (rc != HR_OK) {
        agent_log("applier: %s", hr_env_errmsg(a->env));
        return rc;
    }

    for (size_t i = 0; i < cfg->n_tenants; i++) {
        tenant *t = &a->tenants[i];
        t->agent = a;
        t->id = cfg->tenants[i];
        if (!slot_name(cfg->slot_prefix, t->id, t->slot, sizeof t->slot)) {
            agent_log("tenant %s: slot name too long", t->id);
            return HR_EINVAL;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(a->tenants[j].slot, t->slot)) {
                agent_log("tenants %s and %s fold to the same slot %s",
                          a->tenants[j].id, t->id, t->slot);
                return HR_EINVAL;
            }
    }
    a->n_tenants = cfg->n_tenants;
    return agent_qos_setup(a);
}

static void teardown(agent *a)
{
    for (size_t i = 0; i < a->n_tenants; i++)
        tenant_free(&a->tenants[i]);
    hr_transport_msg_free(a->held);
    agent_qos_teardown(a);
    while (a->spill_head) {
        spill_msg *m = a->spill_head;
        a->spill_head = m->next;
        free(m->schema);
        free(m->table);
        free(m->data);
        free(m);
    }
    hr_applier_free(a->applier);
    hr_transport_free(a->transport);
    hr_batch_free(a->scratch);
    hr_codec_free(a->enc);
    hr_codec_free(a->dec);
    agent_sql_close(a);
    hr_env_free(a->env);
}

/* ---- progress ---- */

static void progress(agent *a, double dt)
{
    uint64_t wal = 0;
    agent_sql_wal_lsn(a, &wal);
    int64_t now_us = (int64_t)(hr_env_wall_ns(a->env) / 1000) - PG_EPOCH_US;
    static const char *const names[] = {"init", "snapshot", "copy", "stream",
                                        "failed"};
    for (size_t i = 0; i < a->n_tenants; i++) {
        tenant *t = &a->tenants[i];
        uint64_t confirmed =
            t->stream ? hr_stream_confirmed_lsn(t->stream, NULL) : 0;
        if (confirmed < t->applied_lsn)
            confirmed = t->applied_lsn;
        uint64_t lag_bytes =
            wal > confirmed && t->state == TS_STREAM ? wal - confirmed : 0;
        double lag_s = 0;
        if (t->ring_len) {
            int64_t oldest = t->ring[t->ring_head].commit_time;
            lag_s = (double)(now_us - oldest) / 1e6;
            if (lag_s < 0)
                lag_s = 0;
        }
        double rows_s = dt > 0 ? (double)(t->rows - t->last_rows) / dt : 0;
        t->last_rows = t->rows;
        printf("progress tenant=%s state=%s rows=%llu rows_s=%.0f "
               "lag_bytes=%llu lag_s=%.2f wire_bytes=%llu ratio=%.2f "
               "copy=%.0f%% applied=%X/%X\n",
               t->id, names[t->state], (unsigned long long)t->rows, rows_s,
               (unsigned long long)lag_bytes, lag_s,
               (unsigned long long)t->wire_bytes,
               t->wire_bytes ? (double)t->raw_bytes / (double)t->wire_bytes : 0,
               t->copy_percent, (unsigned)(t->applied_lsn >> 32),
               (unsigned)t->applied_lsn);
    }
    fflush(stdout);
}

/* ---- catch-up and shutdown ---- */

/* Nothing queued, nothing half-submitted, nothing waiting on the target.
 * A paused (failed) tenant's transaction stays in the applier for good, so
 * once a tenant failed, pending bytes that have not moved for a second
 * count as drained. */
static int pipeline_empty(agent *a)
{
    size_t queued = 0;
    hr_transport_stats(a->transport, NULL, NULL, &queued, NULL);
    if (a->spill_head || queued || a->held || a->unit_open ||
        agent_qos_queued(a))
        return 0;
    size_t pending = hr_applier_pending_bytes(a->applier);
    if (pending == 0)
        return 1;
    uint64_t now = agent_now_ns(a);
    if (pending != a->last_pending) {
        a->last_pending = pending;
        a->pending_since_ns = now;
        return 0;
    }
    return a->failed && now - a->pending_since_ns > 1000000000ull;
}

/* 1 when every tenant streams and has applied everything up to the
 * source's WAL position sampled when the drain began. */
static int caught_up(agent *a)
{
    for (size_t i = 0; i < a->n_tenants; i++)
        if (a->tenants[i].state != TS_STREAM)
            return 0;
    if (!a->drain_lsn && agent_sql_wal_lsn(a, &a->drain_lsn) != HR_OK)
        return 0;
    if (!pipeline_empty(a))
        return 0;
    for (size_t i = 0; i < a->n_tenants; i++) {
        tenant *t = &a->tenants[i];
        if (t->ring_len ||
            hr_stream_confirmed_lsn(t->stream, NULL) < a->drain_lsn)
            return 0;
    }
    return 1;
}

/*
 * While a stream catches up, its data arrives in many small TCP segments;
 * waking for each one costs the walsender its core on a small machine
 * (measured by bench-e2e: about +15% rows/s). So while transactions came in
 * the last 50 ms, the socket reports readable only from 64 KiB on
 * (SO_RCVLOWAT) and the loop steps the stream at least every 5 ms; after
 * that the socket wakes for every byte again, so a lone transaction is held
 * back 5 ms at most.
 */
#define CATCH_UP_LOWAT 65536
#define CATCH_UP_POLL_MS 5
#define CATCH_UP_IDLE_NS 50000000ull

static void tune_lowat(tenant *t, uint64_t now)
{
    int fd = t->stream && t->state == TS_STREAM &&
                     hr_stream_phase(t->stream) == HR_STREAM_PHASE_STREAMING
                 ? hr_stream_fd(t->stream)
                 : -1;
    /* A 1000-row transaction spans several 64 KiB reads: stay raised until
     * 50 ms pass without one. */
    if (t->txns != t->lowat_txns)
        t->lowat_last_ns = now;
    t->lowat_txns = t->txns;
    int busy = now - t->lowat_last_ns < CATCH_UP_IDLE_NS;
    if (fd < 0) {
        t->lowat_fd = -1;
        t->lowat_on = 0;
        return;
    }
    if (fd != t->lowat_fd) { /* a new socket starts at 1 */
        t->lowat_fd = fd;
        t->lowat_on = 0;
    }
    if (busy != t->lowat_on) {
        int v = busy ? CATCH_UP_LOWAT : 1;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v) == 0)
            t->lowat_on = busy;
    }
}

/* ---- the loop ---- */

typedef struct poll_set {
    struct pollfd fds[MAX_POLL];
    int n;
    int64_t timeout;
} poll_set;

static void want_fd(poll_set *p, int fd, int interest)
{
    if (fd < 0 || !interest || p->n >= MAX_POLL)
        return;
    short ev = 0;
    if (interest & HR_POLL_IN)
        ev |= POLLIN;
    if (interest & HR_POLL_OUT)
        ev |= POLLOUT;
    p->fds[p->n].fd = fd;
    p->fds[p->n].events = ev;
    p->fds[p->n].revents = 0;
    p->n++;
}

static void want_timeout(poll_set *p, int64_t ms)
{
    if (ms >= 0 && (p->timeout < 0 || ms < p->timeout))
        p->timeout = ms;
}

static int tenant_stream_watched(const tenant *t)
{
    return t->stream &&
           (t->state != TS_STREAM || tenant_may_produce(t) || t->muted);
}

static void build_poll(agent *a, poll_set *p, int sigfd, uint64_t now)
{
    p->n = 0;
    p->timeout = 1000;
    want_fd(p, sigfd, HR_POLL_IN);
    want_fd(p, hr_applier_fd(a->applier), hr_applier_interest(a->applier));
    want_timeout(p, hr_applier_timeout_ms(a->applier, now));
    want_fd(p, hr_transport_fd(a->transport),
            hr_transport_interest(a->transport));
    want_timeout(p, hr_transport_timeout_ms(a->transport, now));
    want_timeout(p, agent_qos_timeout_ms(a));
    for (size_t i = 0; i < a->n_tenants; i++) {
        tenant *t = &a->tenants[i];
        if (tenant_stream_watched(t)) {
            int fds[HR_STREAM_FDS_MAX], in[HR_STREAM_FDS_MAX];
            int n = hr_stream_fds(t->stream, fds, in, HR_STREAM_FDS_MAX);
            for (int k = 0; k < n && k < HR_STREAM_FDS_MAX; k++)
                want_fd(p, fds[k], in[k]);
            want_timeout(p, hr_stream_timeout_ms(t->stream, now));
            if (t->lowat_on)
                want_timeout(p, CATCH_UP_POLL_MS);
        }
        if (t->copier && !a->stopping &&
            (!a->copy_owner || a->copy_owner == t)) {
            want_fd(p, hr_copier_fd(t->copier), hr_copier_interest(t->copier));
            want_timeout(p, hr_copier_timeout_ms(t->copier, now));
        }
        if (t->state == TS_INIT && !a->stopping) {
            int64_t ms = t->retry_at_ns > now
                             ? (int64_t)((t->retry_at_ns - now) / 1000000)
                             : 100;
            want_timeout(p, ms);
        }
    }
    if (a->spill_head && hr_transport_writable(a->transport, 0))
        want_timeout(p, 0);
    if (a->draining)
        want_timeout(p, 100);
}

static int handle_signals(agent *a, int sigfd)
{
    struct signalfd_siginfo si;
    while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGUSR1) {
            agent_log("SIGUSR1: exiting once caught up");
            a->draining = 1;
            a->drain_lsn = 0;
        } else if (a->stopping) {
            agent_log("second signal: exiting now");
            return 1;
        } else {
            agent_log("signal %u: finishing what is in flight", si.ssi_signo);
            a->stopping = 1;
        }
    }
    return 0;
}

static int run(agent *a, int sigfd)
{
    const agent_config *cfg = a->cfg;
    uint64_t start = agent_now_ns(a);
    uint64_t next_progress = start + (uint64_t)(cfg->progress_s * 1e9);
    uint64_t last_progress = start;
    uint64_t mute_until = 0;
    int exit_code = AGENT_EXIT_OK;

    for (;;) {
        uint64_t now = agent_now_ns(a);
        int rc = hr_applier_step(a->applier, now);
        if (rc != HR_OK && rc != HR_EIO && rc != HR_EAUTH && cfg->verbose)
            agent_log("applier: %s (%s)", hr_applier_errmsg(a->applier),
                      hr_status_name(rc));
        if (rc == HR_EIO || rc == HR_EAUTH)
            agent_log("applier: %s (retrying)", hr_applier_errmsg(a->applier));
        int ready = hr_applier_phase(a->applier) == HR_APPLIER_PHASE_READY;
        agent_qos_tick(a, now);

        agent_flush_spill(a);
        agent_receive(a);
        for (size_t i = 0; i < a->n_tenants && !a->stopping; i++) {
            tenant *t = &a->tenants[i];
            if (t->state == TS_INIT && ready && now >= t->retry_at_ns) {
                rc = tenant_start(t);
                if (rc == HR_EAGAIN)
                    t->retry_at_ns = now + 1000000000ull;
                else if (rc != HR_OK && t->state != TS_FAILED)
                    tenant_fail(t, rc, "start", "could not start");
            }
            tenant_step(t, now);
            tune_lowat(t, now);
        }
        for (size_t i = 0; i < a->n_tenants && a->stopping; i++)
            if (a->tenants[i].muted && a->tenants[i].stream)
                hr_stream_step(a->tenants[i].stream, now);
        agent_flush_spill(a);
        agent_receive(a);
        if (a->fatal)
            return AGENT_EXIT_FAILED;

        now = agent_now_ns(a);
        if (cfg->progress_s > 0 && now >= next_progress) {
            progress(a, (double)(now - last_progress) / 1e9);
            last_progress = now;
            next_progress = now + (uint64_t)(cfg->progress_s * 1e9);
        }
        if (cfg->timeout_s > 0 &&
            now - start > (uint64_t)(cfg->timeout_s * 1e9)) {
            agent_log("--timeout passed");
            return AGENT_EXIT_TIMEOUT;
        }
        if (cfg->until_caught_up && !a->draining) {
            int streaming = 1;
            for (size_t i = 0; i < a->n_tenants; i++)
                streaming &= a->tenants[i].state == TS_STREAM;
            if (streaming)
                a->draining = 1;
        }
        if (a->failed && !a->stopping &&
            (a->draining || cfg->until_caught_up)) {
            agent_log("a tenant failed: stopping");
            a->stopping = 1;
            exit_code = AGENT_EXIT_FAILED;
        }
        if (a->draining && !a->stopping && caught_up(a)) {
            agent_log("caught up with the source at %X/%X",
                      (unsigned)(a->drain_lsn >> 32), (unsigned)a->drain_lsn);
            a->stopping = 1;
        }
        if (a->stopping) {
            /* A table copy cut short is dropped on the target. */
            if (a->copy_owner && a->copy_owner->copy_unit_open) {
                hr_transport_meta m;
                memset(&m, 0, sizeof m);
                m.flags = HR_TRANSPORT_ABORT;
                if (tenant_send(a->copy_owner, &m, NULL, 0) == HR_OK) {
                    a->copy_owner->copy_unit_open = 0;
                    a->copy_owner = NULL;
                }
            }
            if (!mute_until && pipeline_empty(a)) {
                /* Everything is applied and confirmed: let the streams send
                 * one more status update, then go. */
                for (size_t i = 0; i < a->n_tenants; i++)
                    a->tenants[i].muted = 1;
                mute_until = now + (uint64_t)cfg->status_interval_ms * 1000000 +
                             200000000;
            }
            if (mute_until && now >= mute_until)
                break;
        }

        poll_set p;
        build_poll(a, &p, sigfd, now);
        if (mute_until)
            want_timeout(&p, (int64_t)((mute_until - now) / 1000000) + 1);
        int n = poll(p.fds, (nfds_t)p.n, (int)p.timeout);
        if (n < 0 && errno != EINTR) {
            agent_log("poll: %s", strerror(errno));
            return AGENT_EXIT_FAILED;
        }
        if (n > 0 && (p.fds[0].revents & POLLIN) && handle_signals(a, sigfd))
            return AGENT_EXIT_FAILED;
    }
    if (cfg->progress_s > 0)
        progress(a, (double)(agent_now_ns(a) - last_progress) / 1e9);
    if (a->failed)
        exit_code = AGENT_EXIT_FAILED;
    return exit_code;
}

int main(int argc, char **argv)
{
    agent_config cfg;
    int code = agent_config_load(&cfg, argc, argv);
    if (code >= 0) {
        agent_config_free(&cfg);
        return code;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    int sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sigfd < 0) {
        perror("heliosrepl-agent: signalfd");
        agent_config_free(&cfg);
        return AGENT_EXIT_FAILED;
    }
    agent *a = calloc(1, sizeof *a);
    if (!a) {
        close(sigfd);
        agent_config_free(&cfg);
        return AGENT_EXIT_FAILED;
    }
    int rc = setup(a, &cfg);
    if (rc != HR_OK) {
        agent_log("setup failed: %s", hr_strerror(rc));
        code = rc == HR_EINVAL ? AGENT_EXIT_USAGE : AGENT_EXIT_FAILED;
    } else {
        agent_log("replicating %zu tenant(s)%s", a->n_tenants,
                  cfg.has_key ? ", frames sealed with AES-256-GCM" : "");
        code = run(a, sigfd);
    }
    teardown(a);
    free(a);
    close(sigfd);
    agent_config_free(&cfg);
    return code;
}
