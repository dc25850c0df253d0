/*
 * stream_setup.c - setting up publication and slot, idempotently, over the
 * replication connection (a replication=database walsender runs SQL too):
 *
 *   PROBE        wal_level, whether the publication exists, the slot's
 *                type / plugin / database / confirmed_flush_lsn
 *   TABLES       the candidate tables: existence, tenant column, replica
 *                identity, publication membership. A table whose replica
 *                identity lacks the tenant column fails with HR_ESCHEMA:
 *                the row filter (dedicated) and the tenant of a delete
 *                (shared) need it in the old key tuple.
 *   PUBLICATION  CREATE PUBLICATION ... FOR TABLE, or ALTER PUBLICATION ...
 *                ADD TABLE for tables found since it was made
 *   SLOT         CREATE_REPLICATION_SLOT ... LOGICAL pgoutput
 *                [NO]EXPORT_SNAPSHOT, when the slot is missing
 *   (SNAPSHOT)   the exported snapshot is held: the connection stays idle
 *                until hr_stream_release_snapshot
 *   (HELD)       hold_start: publication and slot exist; the connection
 *                stays idle until hr_stream_move_tenant moves the tenant in
 *   START        START_REPLICATION from the confirmed position
 *
 * A concurrent creator (duplicate_object, 42710) sends setup back to the
 * probe. A slot that existed once and is gone now is not re-created:
 * that would skip the changes in between (HR_ENOTFOUND, and the stream is
 * closed for good).
 */
#include <stdlib.h>
#include <string.h>

#include "stream_internal.h"

static const char *step_name(hr__st st)
{
    switch (st) {
    case HR__ST_PROBE:
        return "probing the source";
    case HR__ST_TABLES:
        return "reading the tables";
    case HR__ST_PUBLICATION:
        return "creating the publication";
    case HR__ST_SLOT:
        return "creating the replication slot";
    case HR__ST_START:
        return "starting replication";
    default:
        return "setup";
    }
}

void hr__setup_clear_tables(hr_stream *s)
{
    for (size_t i = 0; i < s->ntables; i++) {
        hr__free(s->env, s->tables[i].schema);
        hr__free(s->env, s->tables[i].name);
    }
    hr__free(s->env, s->tables);
    s->tables = NULL;
    s->ntables = 0;
}

typedef void (*sql_fn)(hr__sbuf *, PGconn *, const hr_stream_opts *);

/* Send what `b` holds and move to `next`. */
static int send_built(hr_stream *s, hr__sbuf *b, hr__st next)
{
    char *sql = NULL;
    int rc = hr__sbuf_take(b, &sql);
    if (rc != HR_OK)
        return hr__stream_lost(s, rc, "%s: cannot build the statement (%s)",
                               step_name(next), hr_strerror(rc));
    hr__log(s->env, HR_LOG_DEBUG, "stream %s: %s", s->cfg->slot, sql);
    rc = hr__pgc_send(&s->repl, sql);
    hr__free(s->env, sql);
    if (rc != HR_OK)
        return hr__stream_lost(s, HR_EAGAIN, "%s: %s", step_name(next),
                               s->repl.errbuf);
    s->state = next;
    return HR_OK;
}

static int send_sql(hr_stream *s, sql_fn fn, hr__st next)
{
    hr__sbuf b;
    hr__sbuf_init(&b, s->env);
    fn(&b, s->repl.conn, s->cfg);
    return send_built(s, &b, next);
}

int hr__setup_begin(hr_stream *s)
{
    s->server_version = PQserverVersion(s->repl.conn);
    int need = s->cfg->mode == HR_STREAM_DEDICATED ? 150000 : 140000;
    if (s->server_version < need)
        return hr__stream_lost(
            s, HR_EUNSUPPORTED,
            "the source runs PostgreSQL %d.%d; %s mode needs %d or later",
            s->server_version / 10000, s->server_version % 10000 / 100,
            s->cfg->mode == HR_STREAM_DEDICATED
                ? "dedicated (publication row filters)"
                : "shared (pgoutput messages, streaming)",
            need / 10000);
    return send_sql(s, hr__sql_probe, HR__ST_PROBE);
}

static int is_true(const PGresult *res, int row, int col)
{
    return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't';
}

static int probe_done(hr_stream *s, PGresult *res)
{
    if (PQntuples(res) != 1 || PQnfields(res) < 8) {
        PQclear(res);
        return hr__stream_lost(s, HR_EPROTO, "probe: unexpected result shape");
    }
    const char *wal_level = PQgetvalue(res, 0, 0);
    if (strcmp(wal_level, "logical") != 0) {
        int rc = hr__stream_lost(s, HR_ESTATE,
                                 "the source's wal_level is '%s'; logical "
                                 "replication needs 'logical'",
                                 wal_level);
        PQclear(res);
        return rc;
    }
    s->pub_exists = is_true(res, 0, 2);
    s->slot_exists = !PQgetisnull(res, 0, 3);
    if (s->slot_exists) {
        const char *type = PQgetvalue(res, 0, 3),
                   *plugin = PQgetvalue(res, 0, 4);
        const char *db = PQgetvalue(res, 0, 5), *cur = PQgetvalue(res, 0, 1);
        if (strcmp(type, "logical") != 0 || strcmp(plugin, "pgoutput") != 0 ||
            strcmp(db, cur) != 0) {
            int rc = hr__stream_lost(
                s, HR_ESTATE,
                "replication slot %s exists but is a %s slot (plugin '%s', "
                "database '%s'); this stream needs a logical pgoutput slot "
                "on database '%s'",
                s->cfg->slot, type, plugin, db, cur);
            PQclear(res);
            return rc;
        }
        uint64_t lsn = 0;
        if (!PQgetisnull(res, 0, 6) &&
            hr__lsn_parse(PQgetvalue(res, 0, 6), &lsn) != HR_OK) {
            PQclear(res);
            return hr__stream_lost(s, HR_EPROTO,
                                   "probe: bad confirmed_flush_lsn");
        }
        s->slot_floor = lsn;
    }
    PQclear(res);

    if (!s->slot_exists && s->slot_seen)
        return hr__stream_shut(
            s, HR_ENOTFOUND,
            "replication slot %s vanished from the source (someone dropped "
            "it) after this stream used it; creating it again would silently "
            "skip the changes in between, so the stream stops: drop it and "
            "start over with a new initial copy of its tenants",
            s->cfg->slot);
    if (s->slot_exists && s->slot_create_sent) {
        /* The connection broke while the slot was being created: it was
         * made, but its exported snapshot died with that connection. */
        s->slot_create_sent = 0;
        s->slot_seen = 1;
        if (s->cfg->export_snapshot && s->snap == HR__SNAP_NONE) {
            s->snap = HR__SNAP_LOST;
            return hr__stream_lost(
                s, HR_ESTATE,
                "the connection that created slot %s broke before it "
                "returned the exported snapshot: the snapshot is gone; "
                "release it (hr_stream_release_snapshot) to stream from the "
                "slot, or drop the stream and start over",
                s->cfg->slot);
        }
    }
    s->slot_create_sent = 0;
    if (s->slot_exists)
        s->slot_seen = 1;
    return send_sql(s, hr__sql_tables, HR__ST_TABLES);
}

static int table_failure(hr_stream *s, const PGresult *res, int r)
{
    const char *nsp = PQgetvalue(res, r, 0), *rel = PQgetvalue(res, r, 1);
    const char *col = s->cfg->tenant_column;
    if (!is_true(res, r, 2))
        return hr__stream_lost(s, HR_ESCHEMA, "table %s.%s does not exist", nsp,
                               rel);
    if (!is_true(res, r, 4))
        return hr__stream_lost(s, HR_ESCHEMA,
                               "table %s.%s has no tenant column %s", nsp, rel,
                               col);
    const char *ri = PQgetvalue(res, r, 3);
    const char *why = ri[0] == 'n'   ? "is NOTHING"
                      : ri[0] == 'd' ? "is the primary key (DEFAULT), which is "
                                       "missing or lacks the tenant column"
                                     : "is an index without the tenant column";
    return hr__stream_lost(s, HR_ESCHEMA,
                           "table %s.%s: its replica identity %s; the tenant "
                           "column %s must be part of it (ALTER TABLE ... "
                           "REPLICA IDENTITY USING INDEX / FULL)",
                           nsp, rel, why, col);
}

static char *dup_value(hr_stream *s, const PGresult *res, int r, int c)
{
    return hr__strdup(s->env, PQgetvalue(res, r, c));
}

static int after_publication(hr_stream *s);

static int tables_done(hr_stream *s, PGresult *res)
{
    int rows = PQntuples(res);
    if (PQnfields(res) < 7) {
        PQclear(res);
        return hr__stream_lost(s, HR_EPROTO, "tables: unexpected result shape");
    }
    for (int r = 0; r < rows; r++)
        if (!is_true(res, r, 2) || !is_true(res, r, 4) || !is_true(res, r, 5)) {
            int rc = table_failure(s, res, r);
            PQclear(res);
            return rc;
        }
    if (rows == 0) {
        PQclear(res);
        return hr__stream_lost(s, HR_ESCHEMA,
                               "no table to replicate: no table of the given "
                               "schemas has the tenant column %s",
                               s->cfg->tenant_column);
    }
    hr__setup_clear_tables(s);
    s->tables = hr__calloc(s->env, (size_t)rows, sizeof *s->tables);
    if (!s->tables) {
        PQclear(res);
        return hr__stream_lost(s, HR_ENOMEM, "out of memory");
    }
    s->ntables = (size_t)rows;
    size_t missing = 0;
    for (int r = 0; r < rows; r++) {
        hr__table *t = &s->tables[r];
        t->schema = dup_value(s, res, r, 0);
        t->name = dup_value(s, res, r, 1);
        t->in_publication = is_true(res, r, 6);
        missing += !t->in_publication;
        if (!t->schema || !t->name) {
            PQclear(res);
            return hr__stream_lost(s, HR_ENOMEM, "out of memory");
        }
    }
    PQclear(res);
    if (!s->pub_exists || missing) {
        hr__sbuf b;
        hr__sbuf_init(&b, s->env);
        hr__sql_publication(&b, s->repl.conn, s->cfg, s->tables, s->ntables,
                            !s->pub_exists);
        hr__log(s->env, HR_LOG_INFO,
                "stream %s: %s publication %s (%zu tables)", s->cfg->slot,
                s->pub_exists ? "extending" : "creating", s->cfg->publication,
                missing);
        return send_built(s, &b, HR__ST_PUBLICATION);
    }
    return after_publication(s);
}

static int after_publication(hr_stream *s)
{
    hr__setup_clear_tables(s);
    if (s->slot_exists)
        return hr__setup_start(s);
    hr__log(s->env, HR_LOG_INFO, "stream %s: creating the replication slot",
            s->cfg->slot);
    int rc = send_sql(s, hr__sql_create_slot, HR__ST_SLOT);
    if (s->state == HR__ST_SLOT)
        s->slot_create_sent = 1;
    return rc;
}

static int slot_done(hr_stream *s, PGresult *res)
{
    uint64_t lsn = 0;
    if (PQntuples(res) != 1 || PQnfields(res) < 3 ||
        hr__lsn_parse(PQgetvalue(res, 0, 1), &lsn) != HR_OK) {
        PQclear(res);
        return hr__stream_lost(s, HR_EPROTO,
                               "CREATE_REPLICATION_SLOT: unexpected result");
    }
    s->slot_create_sent = 0;
    s->slot_seen = 1;
    s->slot_exists = 1;
    s->slot_floor = lsn;
    s->consistent_lsn = lsn;
    char at[24];
    hr__lsn_format(lsn, at);
    if (s->cfg->start_lsn && s->cfg->start_lsn < lsn) {
        char from[24];
        hr__lsn_format(s->cfg->start_lsn, from);
        hr__log(s->env, HR_LOG_WARN,
                "stream %s: the slot was created at %s, after the host's "
                "checkpoint %s: changes in between are not in the slot",
                s->cfg->slot, at, from);
    }
    if (s->cfg->export_snapshot && !PQgetisnull(res, 0, 2)) {
        char *name = dup_value(s, res, 0, 2);
        PQclear(res);
        if (!name)
            return hr__stream_lost(s, HR_ENOMEM, "out of memory");
        hr__free(s->env, s->snapshot_name);
        s->snapshot_name = name;
        s->snap = HR__SNAP_HELD;
        s->state = HR__ST_SNAPSHOT;
        hr__log(s->env, HR_LOG_INFO,
                "stream %s: slot created at %s, holding snapshot %s",
                s->cfg->slot, at, name);
        return HR_OK;
    }
    PQclear(res);
    hr__log(s->env, HR_LOG_INFO, "stream %s: slot created at %s", s->cfg->slot,
            at);
    return hr__setup_start(s);
}

int hr__setup_start(hr_stream *s)
{
    if (s->held) {
        /* hold_start: the slot exists and slot_floor is its start; wait for
         * hr_stream_move_tenant (the connection stays up, idle). */
        if (s->state != HR__ST_HELD) {
            char at[24];
            hr__lsn_format(s->slot_floor, at);
            hr__log(s->env, HR_LOG_INFO,
                    "stream %s: slot ready at %s, holding until tenant %s "
                    "moves in",
                    s->cfg->slot, at, s->cfg->tenant);
        }
        s->state = HR__ST_HELD;
        return HR_OK;
    }
    hr__tenants *ts = &s->tenants;
    if (s->cfg->mode == HR_STREAM_DEDICATED) {
        /* The slot is the tenant's: what it confirmed, the tenant did. */
        hr__tenant *t = ts->v[0];
        if (t->confirmed < s->slot_floor)
            t->confirmed = s->slot_floor;
        if (t->delivered < t->confirmed)
            t->delivered = t->confirmed;
    }
    uint64_t lsn = hr__slot_confirm(s);
    if (lsn < s->cfg->start_lsn)
        lsn = s->cfg->start_lsn;
    for (size_t i = 0; i < ts->n; i++) {
        hr__tenant *t = ts->v[i];
        if (t->fresh) {
            t->fresh = 0;
            t->confirmed = t->delivered = lsn;
        }
    }
    s->start_lsn_used = lsn;
    hr__sbuf b;
    hr__sbuf_init(&b, s->env);
    hr__sql_start(&b, s->repl.conn, s->cfg, lsn);
    char at[24];
    hr__lsn_format(lsn, at);
    hr__log(s->env, HR_LOG_INFO, "stream %s: starting replication at %s",
            s->cfg->slot, at);
    return send_built(s, &b, HR__ST_START);
}

static int start_done(hr_stream *s, PGresult *res)
{
    int st = PQresultStatus(res);
    PQclear(res);
    if (st != PGRES_COPY_BOTH)
        return hr__stream_lost(s, HR_EPROTO,
                               "START_REPLICATION did not start a copy");
    s->state = HR__ST_STREAMING;
    s->setup_restarts = 0;
    s->status_now = 0;
    s->status_blocked = 0;
    s->next_status_at =
        s->now + (uint64_t)s->cfg->status_interval_ms * HR__NS_PER_MS;
    if (s->snap == HR__SNAP_RELEASED) {
        s->snap = HR__SNAP_NONE;
        hr__free(s->env, s->snapshot_name);
        s->snapshot_name = NULL;
    }
    if (s->flush_sent < s->start_lsn_used)
        s->flush_sent = s->start_lsn_used;
    if (s->position < s->start_lsn_used)
        s->position = s->start_lsn_used;
    return HR_OK;
}

int hr__setup_result(hr_stream *s, PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK &&
        st != PGRES_COPY_BOTH) {
        const char *sqlstate;
        int code = hr__classify_error(res, &sqlstate);
        const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        if (!msg)
            msg = PQresultErrorMessage(res);
        if (!strcmp(sqlstate, "42710") &&
            (s->state == HR__ST_PUBLICATION || s->state == HR__ST_SLOT) &&
            s->setup_restarts < HR__SETUP_RESTARTS_MAX) {
            /* Someone else created it meanwhile: look again. */
            s->setup_restarts++;
            s->slot_create_sent = 0;
            PQclear(res);
            return send_sql(s, hr__sql_probe, HR__ST_PROBE);
        }
        int rc = hr__stream_lost(s, code, "%s: %s (SQLSTATE %s)",
                                 step_name(s->state), msg,
                                 *sqlstate ? sqlstate : "none");
        PQclear(res);
        return rc;
    }
    switch (s->state) {
    case HR__ST_PROBE:
        return probe_done(s, res);
    case HR__ST_TABLES:
        return tables_done(s, res);
    case HR__ST_PUBLICATION:
        PQclear(res);
        return after_publication(s);
    case HR__ST_SLOT:
        return slot_done(s, res);
    case HR__ST_START:
        return start_done(s, res);
    default:
        PQclear(res);
        return hr__stream_lost(s, HR_EINTERNAL, "setup result in state %d",
                               (int)s->state);
    }
}
