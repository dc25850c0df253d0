/*
 * agent_qos.c - [qos]: the dispatcher between the transport and the
 * applier, the predictor that makes tenants hot, its access log and its
 * saved state (see agent_qos.h, docs/agent.md "QoS and hot tenants").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

void agent_qos_config_defaults(agent_qos_config *q)
{
    memset(q, 0, sizeof *q);
    q->capacity = 1000000000L; /* bytes/s: presets' limits rarely bind */
    q->predictor = 1;
    q->window_ms = 60000;
    q->train_every = 60;
}

static int set_string(char **dst, const char *v)
{
    char *s = strdup(v);
    if (!s)
        return 0;
    free(*dst);
    *dst = s;
    return 1;
}

static int parse_nonneg(const char *v, long *out, long min)
{
    char *end = NULL;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < min)
        return 0;
    *out = x;
    return 1;
}

int agent_qos_setting(agent_qos_config *q, const char *name, const char *value)
{
    if (!strcmp(name, "capacity_bytes"))
        return parse_nonneg(value, &q->capacity, 1);
    if (!strcmp(name, "tier"))
        return dispatch_tier_parse(value) && set_string(&q->tier, value);
    if (!strncmp(name, "tier.", 5) && name[5]) {
        if (!dispatch_tier_parse(value) || q->n_tier == AGENT_QOS_MAX_TIERS)
            return 0;
        q->tier_tenant[q->n_tier] = strdup(name + 5);
        q->tier_value[q->n_tier] = strdup(value);
        return q->tier_tenant[q->n_tier] && q->tier_value[q->n_tier++];
    }
    int res = !strncmp(name, "reservation.", 12) && name[12];
    if (res || (!strncmp(name, "limit.", 6) && name[6])) {
        long v = 0;
        if (!parse_nonneg(value, &v, 0) || q->n_rate == AGENT_QOS_MAX_TIERS)
            return 0;
        q->rate_tenant[q->n_rate] = strdup(name + (res ? 12 : 6));
        q->rate_setting[q->n_rate] = res ? HR_QOS_RESERVATION : HR_QOS_LIMIT;
        q->rate_value[q->n_rate] = v;
        return q->rate_tenant[q->n_rate++] != NULL;
    }
    if (!strcmp(name, "predictor")) {
        long v = 0;
        if (!strcmp(value, "on") || !strcmp(value, "true"))
            v = 1;
        else if (strcmp(value, "off") && strcmp(value, "false") &&
                 !parse_nonneg(value, &v, 0))
            return 0;
        q->predictor = v != 0;
        return 1;
    }
    if (!strcmp(name, "access_log"))
        return set_string(&q->access_log, value);
    if (!strcmp(name, "state_file"))
        return set_string(&q->state_file, value);
    if (!strcmp(name, "window_ms"))
        return parse_nonneg(value, &q->window_ms, 1000);
    if (!strcmp(name, "train_every"))
        return parse_nonneg(value, &q->train_every, 0);
    return 0;
}

void agent_qos_config_free(agent_qos_config *q)
{
    free(q->tier);
    free(q->access_log);
    free(q->state_file);
    for (size_t i = 0; i < q->n_tier; i++) {
        free(q->tier_tenant[i]);
        free(q->tier_value[i]);
    }
    for (size_t i = 0; i < q->n_rate; i++)
        free(q->rate_tenant[i]);
    memset(q, 0, sizeof *q);
}

static void free_msg(void *p)
{
    agent_qmsg *q = p;
    if (!q)
        return;
    hr_batch_free(q->batch);
    hr_transport_msg_free(q->msg);
    free(q);
}

static void load_state(agent *a, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno != ENOENT)
            agent_log("qos: predictor state %s: %s (starting cold)", path,
                      strerror(errno));
        return;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (!nb)
                break;
            buf = nb;
        }
        size_t k = fread(buf + len, 1, cap - len, f);
        len += k;
        if (k == 0)
            break;
    }
    fclose(f);
    int rc = buf ? hr_predictor_load(a->qos.p, buf, len) : HR_ENOMEM;
    if (rc == HR_OK)
        agent_log("qos: predictor state loaded from %s", path);
    else
        agent_log("qos: predictor state %s not loaded: %s (starting cold)",
                  path, hr_predictor_errmsg(a->qos.p));
    free(buf);
}

/* Written to a temporary file and renamed: a crash keeps the old state. */
static void save_state(agent *a)
{
    const char *path = a->cfg->qos.state_file;
    if (!path || !a->qos.p)
        return;
    const uint8_t *blob = NULL;
    size_t len = 0;
    if (hr_predictor_save(a->qos.p, &blob, &len) != HR_OK)
        return;
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return;
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(blob, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        agent_log("qos: cannot save the predictor state to %s: %s", path,
                  strerror(errno));
        unlink(tmp);
    }
}

int agent_qos_setup(agent *a)
{
    agent_qos *q = &a->qos;
    const agent_qos_config *c = &a->cfg->qos;
    q->log_fd = -1;
    int rc = dispatch_init(&q->d, a->env, a->n_tenants, c->capacity, free_msg);
    if (rc != HR_OK)
        return rc;
    uint64_t now = agent_now_ns(a);
    hr_qos_tier dflt = c->tier ? dispatch_tier_parse(c->tier) : HR_QOS_STANDARD;
    for (size_t i = 0; i < a->n_tenants; i++) {
        hr_qos_tier tier = dflt;
        for (size_t k = 0; k < c->n_tier; k++)
            if (!strcmp(c->tier_tenant[k], a->tenants[i].id))
                tier = dispatch_tier_parse(c->tier_value[k]);
        if ((rc = dispatch_set_name(&q->d, i, a->tenants[i].id)) != HR_OK ||
            (rc = dispatch_set_tier(&q->d, i, tier, now)) != HR_OK)
            return rc;
    }
    for (size_t k = 0; k < c->n_tier; k++)
        if (!agent_tenant(a, c->tier_tenant[k]))
            agent_log("qos: tier.%s: no such tenant", c->tier_tenant[k]);
    /* Rates of a tenant's own; heat changes only weights, never these. */
    for (size_t k = 0; k < c->n_rate; k++) {
        tenant *t = agent_tenant(a, c->rate_tenant[k]);
        if (!t) {
            agent_log("qos: %s.%s: no such tenant",
                      c->rate_setting[k] == HR_QOS_LIMIT ? "limit"
                                                         : "reservation",
                      c->rate_tenant[k]);
            continue;
        }
        rc = hr_scheduler_override(q->d.sched, (uint64_t)(t - a->tenants),
                                   c->rate_setting[k], (double)c->rate_value[k],
                                   now);
        if (rc != HR_OK) {
            agent_log("qos: %s: %s", c->rate_tenant[k],
                      hr_scheduler_errmsg(q->d.sched));
            return rc;
        }
    }
    if (!c->predictor)
        return HR_OK;
    if ((rc = hr_predictor_new(a->env, &q->p)) != HR_OK ||
        (rc = hr_predictor_set_param(q->p, HR_PREDICTOR_PARAM_WINDOW_MS,
                                     c->window_ms)) != HR_OK)
        return rc;
    if (c->state_file)
        load_state(a, c->state_file);
    if (c->access_log) {
        /* O_NONBLOCK: a FIFO opens without a writer, and reads never wait. */
        q->log_fd = open(c->access_log, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (q->log_fd < 0)
            agent_log("qos: access log %s: %s (ignored)", c->access_log,
                      strerror(errno));
    }
    return HR_OK;
}

void agent_qos_teardown(agent *a)
{
    agent_qos *q = &a->qos;
    save_state(a);
    if (q->log_fd >= 0)
        close(q->log_fd);
    q->log_fd = -1;
    dispatch_free(&q->d);
    hr_predictor_free(q->p);
    q->p = NULL;
}

/* "tenant[/table] r|w": unknown tenants and malformed lines are skipped. */
static void access_line(agent *a, char *line, uint64_t wall)
{
    char *sp = strrchr(line, ' ');
    if (!sp || sp == line)
        return;
    *sp = 0;
    hr_predictor_access kind = sp[1] == 'w'   ? HR_PREDICTOR_WRITE
                               : sp[1] == 'r' ? HR_PREDICTOR_READ
                                              : 0;
    if (!kind)
        return;
    char *slash = strchr(line, '/');
    if (slash)
        *slash = 0;
    tenant *t = agent_tenant(a, line);
    if (!t)
        return;
    dispatch_observe(&a->qos.d, a->qos.p, (size_t)(t - a->tenants),
                     slash ? slash + 1 : NULL, wall, kind);
}

static void read_access_log(agent *a, uint64_t wall)
{
    agent_qos *q = &a->qos;
    for (int rounds = 0; rounds < 64; rounds++) { /* bounded per tick */
        char buf[4096];
        ssize_t n = read(q->log_fd, buf, sizeof buf);
        if (n <= 0)
            return; /* EAGAIN, or EOF: a file grows, a FIFO gets a writer */
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                q->line[q->line_len] = 0;
                if (q->line_len)
                    access_line(a, q->line, wall);
                q->line_len = 0;
            } else if (buf[i] != '\r' && q->line_len < sizeof q->line - 1) {
                q->line[q->line_len++] = buf[i];
            }
        }
    }
}

void agent_qos_tick(agent *a, uint64_t now)
{
    agent_qos *q = &a->qos;
    if (!q->p)
        return;
    uint64_t wall = hr_env_wall_ns(a->env);
    if (q->log_fd >= 0)
        read_access_log(a, wall);
    uint64_t window = wall / ((uint64_t)a->cfg->qos.window_ms * 1000000u);
    if (window == q->window)
        return;
    q->window = window;
    q->windows++;
    long every = a->cfg->qos.train_every;
    if (every > 0 && q->windows % (uint64_t)every == 0) {
        /* On the loop's thread, once in `every` windows: a few seconds at
         * most; HR_ESTATE (too few examples yet) is normal early on. */
        int rc = hr_predictor_train(q->p, wall);
        if (rc != HR_OK && rc != HR_ESTATE)
            agent_log("qos: predictor training: %s", hr_predictor_errmsg(q->p));
        save_state(a);
    }
    int hot = dispatch_apply_predictor(&q->d, q->p, now, wall);
    if (hot < 0)
        agent_log("qos: predictor: %s", hr_predictor_errmsg(q->p));
    else
        q->hot_tenants = (uint64_t)hot;
}

/* The open unit's next message is still in the transport. */
static int unit_waits(const agent_qos *q)
{
    return q->d.cur != DISPATCH_NONE && !q->d.t[q->d.cur].head;
}

int agent_qos_pull(agent *a)
{
    agent_qos *q = &a->qos;
    const agent_config *cfg = a->cfg;
    uint64_t now = agent_now_ns(a);
    int moved = 0;
    /* Up to the transport's own limits: together they hold at most twice
     * the configured queue. */
    while (unit_waits(q) || (q->d.queued < (size_t)cfg->queue_messages &&
                             q->queued_bytes < (size_t)cfg->queue_bytes)) {
        hr_transport_msg *msg = NULL;
        if (hr_transport_recv(a->transport, &msg) != HR_OK)
            break;
        hr_transport_meta m;
        memset(&m, 0, sizeof m);
        m.size = sizeof m;
        hr_transport_msg_meta(msg, &m);
        tenant *t = agent_tenant(a, m.tenant_id);
        if (!t) {
            agent_log("message of unknown tenant %s dropped", m.tenant_id);
            hr_transport_msg_free(msg);
            continue;
        }
        agent_qmsg *qm = calloc(1, sizeof *qm);
        if (!qm) {
            tenant_fail(t, HR_ENOMEM, "dispatch", "out of memory");
            hr_transport_msg_free(msg);
            continue;
        }
        qm->msg = msg;
        qm->meta = m;
        qm->tenant = t;
        const uint8_t *data = hr_transport_msg_data(msg, &qm->len);
        if (qm->len && t->state != TS_FAILED) {
            int drc = hr_batch_new(a->env, &qm->batch);
            if (drc == HR_OK)
                drc = hr_codec_decode(a->dec, data, qm->len, t->id, qm->batch);
            if (drc != HR_OK) {
                tenant_fail(t, drc, "decode", hr_codec_errmsg(a->dec));
                hr_batch_free(qm->batch);
                qm->batch = NULL;
            }
        }
        size_t len = qm->len;
        uint32_t f = ((m.flags & HR_TRANSPORT_FIRST) ? DISPATCH_FIRST : 0) |
                     ((m.flags & HR_TRANSPORT_LAST) ? DISPATCH_LAST : 0) |
                     ((m.flags & HR_TRANSPORT_ABORT) ? DISPATCH_ABORT : 0);
        int rc = dispatch_push(&q->d, (size_t)(t - a->tenants), qm, f,
                               (int64_t)len + 64, now);
        if (rc != HR_OK) {
            tenant_fail(t, rc, "dispatch", "cannot queue a message");
            free_msg(qm);
            continue;
        }
        q->queued_bytes += len;
        moved++;
    }
    return moved;
}

agent_qmsg *agent_qos_peek(agent *a)
{
    return dispatch_peek(&a->qos.d, agent_now_ns(a), NULL, &a->qos.wait_ns);
}

void agent_qos_pop(agent *a)
{
    agent_qos *q = &a->qos;
    size_t i = q->d.peeked;
    if (i == DISPATCH_NONE || !q->d.t[i].head)
        return;
    agent_qmsg *qm = q->d.t[i].head->msg;
    q->queued_bytes -= qm->len < q->queued_bytes ? qm->len : q->queued_bytes;
    dispatch_pop(&q->d, agent_now_ns(a));
    free_msg(qm);
}

size_t agent_qos_queued(const agent *a)
{
    return a->qos.d.queued;
}

int64_t agent_qos_timeout_ms(const agent *a)
{
    const agent_qos *q = &a->qos;
    if (!q->d.queued || q->wait_ns == 0 || q->wait_ns == UINT64_MAX)
        return -1;
    return (int64_t)(q->wait_ns / 1000000u) + 1;
}

void agent_qos_observe_write(agent *a, tenant *t, const char *schema,
                             const char *table)
{
    agent_qos *q = &a->qos;
    if (!q->p || !schema || !table)
        return;
    char name[HR_PREDICTOR_KEY_MAX + 1];
    if (snprintf(name, sizeof name, "%s.%s", schema, table) >= (int)sizeof name)
        return;
    dispatch_observe_table(&q->d, q->p, (size_t)(t - a->tenants), name,
                           hr_env_wall_ns(a->env), HR_PREDICTOR_WRITE);
}

int agent_qos_copy_priorities(agent *a, tenant *t, hr_copier_opts *o)
{
    agent_qos *q = &a->qos;
    if (!q->p)
        return HR_OK;
    char **tables = NULL;
    size_t n = 0;
    int rc = agent_sql_tables(a, &tables, &n);
    if (rc != HR_OK)
        return rc;
    uint64_t wall = hr_env_wall_ns(a->env);
    int hot = 0;
    for (size_t i = 0; i < n && rc == HR_OK; i++) {
        char key[HR_PREDICTOR_KEY_MAX + 1];
        double score = 0;
        if (!tables[i] || snprintf(key, sizeof key, "%s/%s", t->id,
                                   tables[i]) >= (int)sizeof key)
            continue;
        if (hr_predictor_score(q->p, key, wall, &score) != HR_OK || score <= 0)
            continue;
        rc = hr_copier_opts_set_table_priority(o, tables[i], score);
        hot++;
    }
    if (hot && rc == HR_OK)
        agent_log("tenant %s: %d of %zu tables have predicted heat: copied "
                  "hottest first",
                  t->id, hot, n);
    for (size_t i = 0; i < n; i++)
        free(tables[i]);
    free(tables);
    return rc;
}
