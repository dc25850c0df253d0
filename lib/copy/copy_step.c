/*
 * copy_step.c - the copier's state machine, driven by hr_copier_step:
 * connect, open the snapshot, find the tables, read each one's columns and
 * count, COPY it out, parse rows into batches and hand them over.
 *
 * Every function of a state returns HR_OK when it moved on (the loop runs
 * the next state at once), HR_EAGAIN to wait for the socket or a timer, or
 * a failure, which hr_copier_step makes final.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "copy_internal.h"

static const char op_column[] = "_hr_op";

/* ---- helpers ---- */

void hr__copier_close(hr_copier *c)
{
    hr__pgc_close(&c->pg);
    for (size_t i = 0; i < c->ntables; i++) {
        hr__ctable *t = &c->tables[i];
        for (int k = 0; k < t->ncols; k++)
            hr__free(c->env, t->colnames[k]);
        hr__free(c->env, t->colnames);
        hr__free(c->env, t->coltypes);
        hr__free(c->env, t->schema);
        hr__free(c->env, t->name);
    }
    hr__free(c->env, c->tables);
    c->tables = NULL;
    c->ntables = 0;
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A failed result: its class for the copier, with the server's message
 * (first line) and SQLSTATE. */
static int server_error(hr_copier *c, const PGresult *res, const char *what)
{
    const char *st = "";
    int rc = hr__classify_error(res, &st);
    const char *m = PQresultErrorMessage(res);
    if (!m || !*m)
        m = "unknown error";
    const int snapshot_step = c->state == HR__CST_BEGIN && c->snapshot;
    /* SET TRANSACTION SNAPSHOT: a malformed name is 22023, an unknown one
     * 42704, one whose exporting transaction ended 55000 / 22023 */
    if (snapshot_step &&
        (!strcmp(st, "22023") || !strcmp(st, "42704") || starts(st, "55")))
        rc = HR_ESTATE;
    else if (rc != HR_EAUTH && rc != HR_ESCHEMA)
        rc = HR_EIO; /* the copy cannot go on: transient or not */
    return hr__fail(&c->error, rc, "%s: %.*s (SQLSTATE %s)", what,
                    (int)strcspn(m, "\n"), m, *st ? st : "none");
}

static int lost(hr_copier *c, const char *what)
{
    return hr__fail(&c->error, HR_EIO, "%s: %s", what, c->pg.errbuf);
}

static int send_sql(hr_copier *c, hr__sbuf *b, hr__cst next, const char *what)
{
    char *q = NULL;
    int rc = hr__sbuf_take(b, &q);
    if (rc != HR_OK)
        return hr__fail(&c->error, rc, "%s: %s", what,
                        rc == HR_ENOMEM ? "out of memory"
                                        : "a name is not valid in the "
                                          "connection's encoding");
    rc = hr__pgc_send(&c->pg, q);
    hr__free(c->env, q);
    if (rc != HR_OK)
        return lost(c, what);
    c->state = next;
    return HR_OK;
}

static int callback_failed(hr_copier *c, const char *name, int rc)
{
    if (rc >= 0 || rc < HR_STATUS_MIN)
        rc = HR_EINVAL;
    return hr__fail(&c->error, rc, "%s returned %d (%s)", name, rc,
                    hr_strerror(rc));
}

/* ---- batches ---- */

static int new_batch(hr_copier *c, const hr__ctable *t)
{
    hr_batch *b = NULL;
    int rc = hr_batch_new(c->env, &b);
    if (rc == HR_OK)
        rc = hr_batch_set_relation(b, t->schema, t->name);
    if (rc == HR_OK)
        rc = hr_batch_add_column(b, op_column, HR_OID_INT2, 0);
    for (int k = 0; k < t->ncols && rc >= 0; k++)
        rc = hr_batch_add_column(b, t->colnames[k], t->coltypes[k], 1);
    if (rc < 0) {
        int code = rc;
        hr__fail(&c->error, code, "table \"%s\".\"%s\": %s", t->schema, t->name,
                 b ? hr_batch_errmsg(b) : "out of memory");
        hr_batch_free(b);
        return code == HR_EINVAL ? HR_ESCHEMA : code;
    }
    c->batch = b;
    return HR_OK;
}

/* Offer the ready batch: HR_OK taken, HR_EAGAIN held back, or a failure. */
static int offer(hr_copier *c)
{
    const hr__ctable *t = &c->tables[c->cur];
    const size_t rows = hr_batch_rows(c->batch);
    c->in_callback = 1;
    int rc = c->cb.on_batch(c->cb.ctx, t->schema, t->name, c->batch);
    c->in_callback = 0;
    if (rc == HR_OK) {
        c->batch = NULL; /* the host's now */
        c->batch_bytes = 0;
        c->ready = 0;
        c->rows_done += rows;
        c->table_rows += rows;
        return HR_OK;
    }
    if (rc == HR_EAGAIN) {
        c->retry_at = c->now + HR__COPY_RETRY_NS;
        return HR_EAGAIN;
    }
    return callback_failed(c, "on_batch", rc);
}

/* ---- states ---- */

static int start_connect(hr_copier *c)
{
    const char **keys, **vals;
    void *storage;
    int rc = hr__conn_params(c->env, c->cfg->conninfo, 0, "heliosrepl-copy",
                             &keys, &vals, &storage, &c->error);
    if (rc != HR_OK)
        return rc;
    rc = hr__pgc_start(&c->pg, c->env, keys, vals);
    hr__free(c->env, storage); /* libpq copied what it needs */
    if (rc != HR_OK)
        return hr__fail(&c->error, rc, "connect: %s", c->pg.errbuf);
    c->connect_started = c->now;
    c->state = HR__CST_CONNECTING;
    return HR_OK;
}

static int poll_connect(hr_copier *c)
{
    int rc = hr__pgc_connect_poll(&c->pg);
    if (rc == HR_EAGAIN) {
        if (c->now >= c->connect_started + HR__CONNECT_TIMEOUT_NS)
            return hr__fail(&c->error, HR_EIO, "connect: timed out");
        return HR_EAGAIN;
    }
    if (rc != HR_OK)
        return hr__fail(&c->error, rc, "connect: %s", c->pg.errbuf);
    hr__sbuf b;
    hr__sbuf_init(&b, c->env);
    hr__sql_copy_begin(&b, c->pg.conn, c->snapshot);
    return send_sql(c, &b, HR__CST_BEGIN, "open the snapshot");
}

static int on_begin(hr_copier *c, PGresult *res)
{
    if (!c->snapshot) {
        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
            hr__lsn_parse(PQgetvalue(res, 0, 0), &c->snapshot_lsn) != HR_OK)
            return hr__fail(&c->error, HR_EIO,
                            "open the snapshot: no WAL position came back");
    }
    hr__sbuf b;
    hr__sbuf_init(&b, c->env);
    hr__sql_tables(&b, c->pg.conn, c->cfg);
    return send_sql(c, &b, HR__CST_TABLES, "find the tables");
}

static int skipped(const hr_copier *c, const char *schema, const char *name)
{
    for (size_t i = 0; i < c->skip_names.n; i++)
        if (!strcmp(c->skip_schemas.items[i], schema) &&
            !strcmp(c->skip_names.items[i], name))
            return 1;
    return 0;
}

/* The table's priority: the last one set for it, 0 if none. */
static double priority(const hr_copier *c, const char *schema, const char *name)
{
    for (size_t i = c->prio_names.n; i-- > 0;)
        if (!strcmp(c->prio_schemas.items[i], schema) &&
            !strcmp(c->prio_names.items[i], name))
            return c->prio[i];
    return 0;
}

/* Highest priority first; a stable insertion sort keeps equal priorities
 * in discovery order (schema, name). Tables number in the hundreds. */
static int order_tables(hr_copier *c)
{
    if (!c->prio_names.n)
        return HR_OK;
    double *p = hr__malloc(c->env, c->ntables * sizeof *p);
    if (!p)
        return hr__fail(&c->error, HR_ENOMEM, "out of memory");
    for (size_t i = 0; i < c->ntables; i++)
        p[i] = priority(c, c->tables[i].schema, c->tables[i].name);
    for (size_t i = 1; i < c->ntables; i++) {
        hr__ctable t = c->tables[i];
        double v = p[i];
        size_t j = i;
        for (; j > 0 && p[j - 1] < v; j--) {
            c->tables[j] = c->tables[j - 1];
            p[j] = p[j - 1];
        }
        c->tables[j] = t;
        p[j] = v;
    }
    hr__free(c->env, p);
    return HR_OK;
}

static int send_meta(hr_copier *c)
{
    hr__sbuf b;
    hr__sbuf_init(&b, c->env);
    hr__sql_copy_meta(&b, c->pg.conn, c->cfg, &c->tables[c->cur]);
    return send_sql(c, &b, HR__CST_META, "count the rows");
}

static int finish(hr_copier *c)
{
    hr__copier_close(c); /* ends the transaction: the snapshot goes */
    c->more_pending = 0;
    c->state = HR__CST_DONE;
    return HR_OK;
}

/* Rows of hr__sql_tables: 0 schema, 1 name, 2 exists, 4 has the column. */
static int on_tables(hr_copier *c, PGresult *res)
{
    const int n = PQntuples(res);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) < 5)
        return hr__fail(&c->error, HR_EIO, "find the tables: bad result");
    c->tables = hr__calloc(c->env, n ? (size_t)n : 1, sizeof *c->tables);
    if (!c->tables)
        return hr__fail(&c->error, HR_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        const char *schema = PQgetvalue(res, i, 0);
        const char *name = PQgetvalue(res, i, 1);
        if (strcmp(PQgetvalue(res, i, 2), "t") != 0)
            return hr__fail(&c->error, HR_ESCHEMA,
                            "table \"%s\".\"%s\" does not exist", schema, name);
        if (strcmp(PQgetvalue(res, i, 4), "t") != 0)
            return hr__fail(&c->error, HR_ESCHEMA,
                            "table \"%s\".\"%s\" has no column \"%s\"", schema,
                            name, c->cfg->tenant_column);
        if (skipped(c, schema, name))
            continue;
        if (c->ntables) { /* an explicit table listed twice */
            const hr__ctable *p = &c->tables[c->ntables - 1];
            if (!strcmp(p->schema, schema) && !strcmp(p->name, name))
                continue;
        }
        hr__ctable *t = &c->tables[c->ntables++];
        t->schema = hr__strdup(c->env, schema);
        t->name = hr__strdup(c->env, name);
        if (!t->schema || !t->name)
            return hr__fail(&c->error, HR_ENOMEM, "out of memory");
    }
    if (c->ntables == 0)
        return finish(c);
    int rc = order_tables(c);
    if (rc != HR_OK)
        return rc;
    c->cur = 0;
    return send_meta(c);
}

static int start_table(hr_copier *c)
{
    const hr__ctable *t = &c->tables[c->cur];
    c->table_rows = c->table_bytes = c->table_parsed = 0;
    if (c->cb.on_table_begin) {
        c->in_callback = 1;
        int rc =
            c->cb.on_table_begin(c->cb.ctx, t->schema, t->name, t->expected);
        c->in_callback = 0;
        if (rc != HR_OK)
            return callback_failed(c, "on_table_begin", rc);
    }
    hr__sbuf b;
    hr__sbuf_init(&b, c->env);
    hr__sql_copy_out(&b, c->pg.conn, c->cfg, t);
    return send_sql(c, &b, HR__CST_COPY_START, "start the COPY");
}

/* Rows of hr__sql_copy_meta: 0 column name, 1 type OID, 2 row count. */
static int on_meta(hr_copier *c, PGresult *res)
{
    hr__ctable *t = &c->tables[c->cur];
    const int n = PQntuples(res);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != 3)
        return hr__fail(&c->error, HR_EIO, "count the rows: bad result");
    if (n == 0)
        return hr__fail(&c->error, HR_ESCHEMA,
                        "table \"%s\".\"%s\" has no columns any more",
                        t->schema, t->name);
    t->colnames = hr__calloc(c->env, (size_t)n, sizeof *t->colnames);
    t->coltypes = hr__calloc(c->env, (size_t)n, sizeof *t->coltypes);
    if (!t->colnames || !t->coltypes)
        return hr__fail(&c->error, HR_ENOMEM, "out of memory");
    for (int k = 0; k < n; k++) {
        t->colnames[k] = hr__strdup(c->env, PQgetvalue(res, k, 0));
        if (!t->colnames[k])
            return hr__fail(&c->error, HR_ENOMEM, "out of memory");
        t->ncols = k + 1;
        t->coltypes[k] = (uint32_t)strtoul(PQgetvalue(res, k, 1), NULL, 10);
    }
    t->expected = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
    c->rows_expected += t->expected;
    if (++c->cur < c->ntables)
        return send_meta(c);
    c->cur = 0;
    return start_table(c);
}

static int on_copy_start(hr_copier *c, PGresult *res)
{
    if (PQresultStatus(res) != PGRES_COPY_OUT)
        return hr__fail(&c->error, HR_EIO, "start the COPY: no COPY began");
    c->state = HR__CST_COPYING;
    return HR_OK;
}

static int take_row(hr_copier *c, char *buf, int n)
{
    const hr__ctable *t = &c->tables[c->cur];
    c->bytes += (uint64_t)n;
    c->table_bytes += (uint64_t)n;
    if (!c->batch) {
        int rc = new_batch(c, t);
        if (rc != HR_OK)
            return rc;
    }
    hr__copytext_err err;
    int rc = hr__copytext_row(c->batch, (uint8_t *)buf, (size_t)n, &err);
    c->table_parsed++;
    if (rc == HR_EPROTO)
        return hr__fail(
            &c->error, HR_EPROTO,
            "table \"%s\".\"%s\" row %" PRIu64 " column %d%s%s%s: %s",
            t->schema, t->name, c->table_parsed, err.field + 1,
            err.field >= 0 ? " (\"" : "",
            err.field >= 0 && err.field < t->ncols ? t->colnames[err.field]
                                                   : "",
            err.field >= 0 ? "\")" : "", err.why);
    if (rc != HR_OK)
        return hr__fail(&c->error, rc,
                        "table \"%s\".\"%s\" row %" PRIu64 ": %s", t->schema,
                        t->name, c->table_parsed, hr_batch_errmsg(c->batch));
    c->batch_bytes += (uint64_t)n;
    if (hr_batch_rows(c->batch) >= c->rows_per_batch ||
        c->batch_bytes >= HR__COPY_BATCH_BYTES)
        c->ready = 1;
    return HR_OK;
}

static int read_copy(hr_copier *c)
{
    int consumed = 0;
    for (int rows = 0;;) {
        if (c->ready) {
            int rc = offer(c);
            if (rc != HR_OK)
                return rc;
        }
        if (rows >= HR__COPY_STEP_ROWS) {
            c->more_pending = 1;
            return HR_EAGAIN;
        }
        char *buf = NULL;
        int n = PQgetCopyData(c->pg.conn, &buf, 1);
        if (n > 0) {
            int rc = take_row(c, buf, n);
            PQfreemem(buf);
            if (rc != HR_OK)
                return rc;
            rows++;
            consumed = 0;
            continue;
        }
        if (n == 0) {
            if (consumed) {
                c->more_pending = 0;
                return HR_EAGAIN;
            }
            if (!PQconsumeInput(c->pg.conn))
                return hr__fail(&c->error, HR_EIO, "COPY: %s",
                                hr__pgc_note(&c->pg, "connection lost"));
            consumed = 1;
            continue;
        }
        if (n == -1) {
            /* the COPY ended: its final result follows */
            c->more_pending = 0;
            c->pg.state = HR__PGC_BUSY;
            c->state = HR__CST_COPY_END;
            return HR_OK;
        }
        return hr__fail(&c->error, HR_EIO, "COPY: %s",
                        hr__pgc_note(&c->pg, "reading failed"));
    }
}

static int on_copy_end(hr_copier *c, PGresult *res)
{
    const hr__ctable *t = &c->tables[c->cur];
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return hr__fail(&c->error, HR_EIO, "COPY of \"%s\".\"%s\" ended oddly",
                        t->schema, t->name);
    const char *tuples = PQcmdTuples(res);
    if (*tuples && strtoull(tuples, NULL, 10) != c->table_parsed)
        return hr__fail(&c->error, HR_EPROTO,
                        "COPY of \"%s\".\"%s\" says %s rows, %" PRIu64 " came",
                        t->schema, t->name, tuples, c->table_parsed);
    if (c->table_parsed != t->expected)
        hr__log(c->env, HR_LOG_WARN,
                "copy of \"%s\".\"%s\": %" PRIu64 " rows, %" PRIu64 " counted",
                t->schema, t->name, c->table_parsed, t->expected);
    if (c->batch && hr_batch_rows(c->batch) > 0)
        c->ready = 1;
    c->state = HR__CST_TABLE_END;
    return HR_OK;
}

static int end_table(hr_copier *c)
{
    const hr__ctable *t = &c->tables[c->cur];
    if (c->cb.on_table_end) {
        c->in_callback = 1;
        int rc = c->cb.on_table_end(c->cb.ctx, t->schema, t->name,
                                    c->table_rows, c->table_bytes);
        c->in_callback = 0;
        if (rc != HR_OK)
            return callback_failed(c, "on_table_end", rc);
    }
    if (++c->cur < c->ntables)
        return start_table(c);
    return finish(c);
}

/* A query's answer has come (or is coming): hand it to its state. */
static int await_result(hr_copier *c)
{
    static const char *const what[] = {[HR__CST_BEGIN] = "open the snapshot",
                                       [HR__CST_TABLES] = "find the tables",
                                       [HR__CST_META] = "count the rows",
                                       [HR__CST_COPY_START] = "COPY",
                                       [HR__CST_COPY_END] = "COPY"};
    PGresult *res = NULL;
    int rc = hr__pgc_collect(&c->pg, &res);
    if (rc == HR_EAGAIN)
        return HR_EAGAIN;
    if (rc != HR_OK)
        return lost(c, what[c->state]);
    if (PQresultStatus(res) == PGRES_FATAL_ERROR) {
        rc = server_error(c, res, what[c->state]);
        if (c->state == HR__CST_META || c->state == HR__CST_COPY_START ||
            c->state == HR__CST_COPY_END) {
            const hr__ctable *t = &c->tables[c->cur];
            char m[HR__ERRMSG_MAX];
            memcpy(m, c->error.message, sizeof m);
            hr__fail(&c->error, rc, "table \"%.64s\".\"%.64s\": %.400s",
                     t->schema, t->name, m);
        }
        PQclear(res);
        return rc;
    }
    switch (c->state) {
    case HR__CST_BEGIN:
        rc = on_begin(c, res);
        break;
    case HR__CST_TABLES:
        rc = on_tables(c, res);
        break;
    case HR__CST_META:
        rc = on_meta(c, res);
        break;
    case HR__CST_COPY_START:
        rc = on_copy_start(c, res);
        break;
    default:
        rc = on_copy_end(c, res);
        break;
    }
    PQclear(res);
    return rc;
}

int hr__copier_advance(hr_copier *c)
{
    for (;;) {
        if (c->ready) {
            int rc = offer(c);
            if (rc != HR_OK)
                return rc;
        }
        int rc;
        switch (c->state) {
        case HR__CST_NEW:
            rc = start_connect(c);
            break;
        case HR__CST_CONNECTING:
            rc = poll_connect(c);
            break;
        case HR__CST_BEGIN:
        case HR__CST_TABLES:
        case HR__CST_META:
        case HR__CST_COPY_START:
        case HR__CST_COPY_END:
            rc = await_result(c);
            break;
        case HR__CST_COPYING:
            rc = read_copy(c);
            break;
        case HR__CST_TABLE_END:
            rc = end_table(c);
            break;
        case HR__CST_DONE:
            return HR_OK;
        default:
            return hr__fail(&c->error, HR_EINTERNAL, "copier state %d",
                            (int)c->state);
        }
        if (rc != HR_OK)
            return rc;
    }
}
