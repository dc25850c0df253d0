/*
 * pgoutput_internal.h - the decoder's data structures, shared by the files
 * of lib/pgoutput. Not installed.
 *
 * Relations are immutable versions: a Relation message that redefines an OID
 * makes a new version and retires the old one, which lives on while an open
 * transaction has a change that points at it (its `pins`).
 *
 * A buffered transaction keeps its changes in arrays it reuses from one
 * transaction to the next (spare transactions are recycled): changes, value
 * descriptors, and one byte arena with every text/binary value, prefix and
 * message content, referenced by offset so the arena may move when it grows.
 */
#ifndef HR_PGOUTPUT_INTERNAL_H
#define HR_PGOUTPUT_INTERNAL_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include <heliosrepl/pgoutput.h>

#include "core/core_internal.h"
#include "pgwire.h"

#define HR__PG_NONE SIZE_MAX /* no such tuple, no such stream */

/* One value of a tuple: its form and, for text/binary, its arena bytes. */
typedef struct hr__pgval {
    uint64_t off; /* into the transaction's arena */
    uint32_t len;
    uint8_t form; /* hr_pgvalue_form */
} hr__pgval;

typedef struct hr__pgcol {
    const char *name;
    uint32_t type;
    int32_t typmod;
    uint8_t key;
} hr__pgcol;

/* One version of a relation; one allocation holds it, its columns and names. */
struct hr_pgrelation {
    uint32_t oid;
    char replident;
    uint8_t current; /* the version the cache hands out for its OID */
    int ncols;
    size_t pins;      /* pins held by open transactions' changes */
    uint64_t pin_txn; /* id of the transaction that pinned it last */
    const char *schema;
    const char *name;
    hr__pgcol *cols;
};

typedef struct hr__pgchange {
    uint8_t kind;       /* hr_pgchange_kind */
    uint8_t old_form;   /* 'K', 'O' or 0 */
    uint8_t options;    /* truncate: bit 1 CASCADE, bit 2 RESTART IDENTITY */
    hr_pgrelation *rel; /* insert, update, delete */
    union {
        struct {
            size_t new_vals; /* first value in txn->vals, or HR__PG_NONE */
            size_t old_vals;
        } row;
        struct {
            size_t first; /* into txn->trels */
            size_t count;
        } trunc;
        struct {
            size_t prefix; /* arena offsets; the prefix is NUL-terminated */
            size_t content;
            size_t len;
        } msg;
    } u;
} hr__pgchange;

/* Where a subtransaction's first change went: Stream Abort truncates there. */
typedef struct hr__pgsub {
    uint32_t xid;
    size_t nchanges, nvals, arena_len, ntrels;
} hr__pgsub;

struct hr_pgtxn {
    uint64_t id; /* unique in the decoder's life: relations' pin stamps */
    uint32_t xid;
    uint8_t streamed;
    uint64_t final_lsn; /* Begin's; Commit must agree */
    uint64_t commit_lsn;
    uint64_t end_lsn;
    int64_t commit_time;
    char *origin; /* NULL until an Origin message; own allocation */
    size_t origin_cap;
    uint8_t has_origin;
    uint64_t origin_lsn;

    hr__pgchange *changes;
    size_t nchanges, changes_cap;
    hr__pgval *vals;
    size_t nvals, vals_cap;
    uint8_t *arena;
    size_t arena_len, arena_cap;
    hr_pgrelation **trels; /* relations of truncate changes */
    size_t ntrels, trels_cap;
    hr_pgrelation **pins; /* relation versions this txn pins (see pin) */
    size_t npins, pins_cap;
    hr__pgsub *subs;
    size_t nsubs, subs_cap;
    uint32_t last_subxid;
    uint32_t max_subxid; /* the highest in subs */

    uint64_t bytes; /* buffered: counted against MAX_TXN_BYTES */
    hr_pgtxn *next_spare;
};

/* The relation cache: open addressing on the OID (0 is never a valid OID). */
typedef struct hr__pgrelcache {
    hr_pgrelation **slots;
    size_t cap; /* 0 or a power of two */
    size_t count;
} hr__pgrelcache;

struct hr_pgdecoder {
    hr_env *env;
    hr_pgdecoder_callbacks cb;
    hr__error error;
    uint8_t failed;      /* a feed failed: HR_ESTATE until reset */
    uint8_t in_callback; /* feeding from a callback is refused */
    uint64_t max_txn_bytes;
    uint64_t wal_end;

    hr__pgrelcache rels;
    hr_pgrelation *last_rel; /* the last looked up: rows come in runs */

    hr_pgtxn *txn;      /* the open Begin .. Commit transaction */
    hr_pgtxn *stream;   /* the transaction of the open stream block */
    hr_pgtxn **streams; /* streamed transactions not yet committed/aborted */
    size_t nstreams, streams_cap;
    hr_pgtxn *spares;
    size_t nspares;
    uint64_t txn_ids; /* the last hr_pgtxn.id handed out */

    /* The message being decoded, for error messages. */
    const char *msg_name;
    size_t msg_base; /* its offset inside the CopyData payload */
    uint64_t msg_lsn;
};

/* ---- errors (pgdecoder.c) ---- */
int hr__pg_nomem(hr_pgdecoder *d, const char *what);

/* ---- relation cache (pgrelcache.c) ---- */
hr_pgrelation *hr__pgrel_find(const hr__pgrelcache *c, uint32_t oid);
/* An insert/update/delete/truncate's relation: HR_EPROTO if unknown. */
int hr__pgrel_need(hr_pgdecoder *d, size_t pos, uint32_t oid,
                   hr_pgrelation **out);
/* Drop the cache's reference to every version (freed unless pinned). */
void hr__pgrel_clear(hr_pgdecoder *d);
void hr__pgrel_unpin(hr_pgdecoder *d, hr_pgrelation *rel);
/* 'R' and 'Y' messages, after the optional streamed xid. */
int hr__pg_relation_msg(hr_pgdecoder *d, hr__pgin *in);
int hr__pg_type_msg(hr_pgdecoder *d, hr__pgin *in);

/* ---- transaction buffers (pgtxnbuf.c) ---- */
hr_pgtxn *hr__pgtxn_acquire(hr_pgdecoder *d, uint32_t xid, int streamed);
/* Unpin, empty and keep for reuse (or free). */
void hr__pgtxn_release(hr_pgdecoder *d, hr_pgtxn *t);
void hr__pgtxn_destroy(hr_pgdecoder *d, hr_pgtxn *t);
/* Count `n` more buffered bytes: HR_ELIMIT past MAX_TXN_BYTES. */
int hr__pgtxn_account(hr_pgdecoder *d, hr_pgtxn *t, uint64_t n);
hr__pgchange *hr__pgtxn_add_change(hr_pgdecoder *d, hr_pgtxn *t, int *rc);
int hr__pgtxn_pin(hr_pgdecoder *d, hr_pgtxn *t, hr_pgrelation *rel);
/* Room for `n` more values / arena bytes (not yet counted as used). */
int hr__pgtxn_reserve_vals(hr_pgdecoder *d, hr_pgtxn *t, size_t n);
int hr__pgtxn_reserve_arena(hr_pgdecoder *d, hr_pgtxn *t, size_t n);
int hr__pgtxn_reserve_trels(hr_pgdecoder *d, hr_pgtxn *t, size_t n);
/* Copy n bytes (+ a NUL when `nul`) into the arena; *off gets their offset. */
int hr__pgtxn_put(hr_pgdecoder *d, hr_pgtxn *t, const void *src, size_t n,
                  int nul, size_t *off);
int hr__pgtxn_set_origin(hr_pgdecoder *d, hr_pgtxn *t, const char *name,
                         size_t n, uint64_t lsn);
/* Streamed: remember where subtransaction `xid`'s first change goes. */
int hr__pgtxn_mark_sub(hr_pgdecoder *d, hr_pgtxn *t, uint32_t xid);
/* Streamed: drop subtransaction `xid`'s changes and everything after. */
void hr__pgtxn_abort_sub(hr_pgtxn *t, uint32_t xid);

/* ---- change messages (pgchange.c) ---- */
int hr__pg_insert_msg(hr_pgdecoder *d, hr__pgin *in, hr_pgtxn *t);
int hr__pg_update_msg(hr_pgdecoder *d, hr__pgin *in, hr_pgtxn *t);
int hr__pg_delete_msg(hr_pgdecoder *d, hr__pgin *in, hr_pgtxn *t);
int hr__pg_truncate_msg(hr_pgdecoder *d, hr__pgin *in, hr_pgtxn *t);
/* 'M' after the optional xid (`xid`, 0 when absent); `t` is NULL outside
 * a transaction. */
int hr__pg_message_msg(hr_pgdecoder *d, hr__pgin *in, hr_pgtxn *t,
                       uint32_t xid);

/* ---- streamed transactions (pgstream.c) ---- */
int hr__pg_stream_start(hr_pgdecoder *d, hr__pgin *in);
int hr__pg_stream_stop(hr_pgdecoder *d, hr__pgin *in);
int hr__pg_stream_commit(hr_pgdecoder *d, hr__pgin *in);
int hr__pg_stream_abort(hr_pgdecoder *d, hr__pgin *in);
/* Drop every open streamed transaction. */
void hr__pg_streams_drop(hr_pgdecoder *d);

/* ---- messages (pgmessage.c) ---- */
/* Decode one pgoutput message that starts at payload offset `base`. */
int hr__pg_message(hr_pgdecoder *d, const uint8_t *msg, size_t len, size_t base,
                   uint64_t lsn);
/* Hand a committed transaction to on_txn, then release it. */
int hr__pg_deliver(hr_pgdecoder *d, hr_pgtxn *t);

#endif /* HR_PGOUTPUT_INTERNAL_H */
