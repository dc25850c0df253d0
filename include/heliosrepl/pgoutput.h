/*
 * heliosrepl/pgoutput.h - a sans-I/O decoder of PostgreSQL's logical
 * replication stream (the pgoutput plugin, protocol versions 1 and 2).
 *
 * Feed it the payload of every CopyData message a replication connection
 * receives after START_REPLICATION: XLogData ('w') and primary keepalive
 * ('k') frames. It decodes the pgoutput messages inside XLogData - Begin,
 * Commit, Origin, Relation, Type, Insert, Update, Delete, Truncate, logical
 * decoding Message, and the protocol-2 Stream Start / Stop / Commit / Abort
 * of large in-progress transactions - and hands the host each transaction
 * once it has committed, with all its changes in order, through a callback.
 * Streamed transactions are assembled from their segments (aborted
 * subtransactions dropped) and delivered at their Stream Commit, so the host
 * always sees complete, committed transactions exactly like small ones.
 *
 * Relations: every Relation message is cached by OID. A Relation message for
 * a known OID with a different definition is a schema change, reported to the
 * host (on_relation with schema_changed = 1) before the changes that use it.
 * Each change keeps the relation version in force when it arrived, even if a
 * later Relation message redefines the OID before the commit. Relation
 * messages take effect as they arrive, also inside streamed transactions
 * (the server re-sends a definition after an abort that changed it).
 *
 * Values stay in the wire form (text or binary, as the publication sends
 * them); NULL and the unchanged-TOAST marker are explicit states, never
 * confused. hr_pgtxn_to_batch turns a transaction's changes into hr_batch
 * column batches with typed values, ready for the codec.
 *
 * Errors: a malformed message gives HR_EPROTO; hr_pgdecoder_errmsg names the
 * message type and the byte offset inside the CopyData payload. After an
 * error the decoder must be reset (hr_pgdecoder_reset) before it is fed again.
 *
 * Thread rules: one thread at a time per decoder. Callbacks run inside
 * hr_pgdecoder_feed and must not call back into the same decoder, except for
 * the read-only hr_pgdecoder_relation, hr_pgdecoder_wal_end and
 * hr_pgdecoder_errmsg (a feed from a callback returns HR_ESTATE).
 */
#ifndef HELIOSREPL_PGOUTPUT_H
#define HELIOSREPL_PGOUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include <heliosrepl/batch.h>
#include <heliosrepl/core.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hr_pgdecoder hr_pgdecoder;
typedef struct hr_pgtxn hr_pgtxn;           /* valid during on_txn only */
typedef struct hr_pgrelation hr_pgrelation; /* owned by the decoder */

/* What a change does. Values pinned. */
typedef enum hr_pgchange_kind {
    HR_PGCHANGE_INSERT = 1,
    HR_PGCHANGE_UPDATE = 2,
    HR_PGCHANGE_DELETE = 3,
    HR_PGCHANGE_TRUNCATE = 4,
    HR_PGCHANGE_MESSAGE = 5  /* a transactional logical decoding message */
} hr_pgchange_kind;

/* Which tuple of a change. */
typedef enum hr_pgtuple {
    HR_PGTUPLE_NEW = 1, /* insert, update */
    HR_PGTUPLE_OLD = 2  /* update (when sent), delete */
} hr_pgtuple;

/* The form of one value in a tuple. Values pinned. */
typedef enum hr_pgvalue_form {
    HR_PGVALUE_NULL = 'n',
    HR_PGVALUE_UNCHANGED_TOAST = 'u',
    HR_PGVALUE_TEXT = 't',
    HR_PGVALUE_BINARY = 'b'
} hr_pgvalue_form;

#define HR_PGDECODER_CALLBACKS_VERSION 1

/*
 * The host's callbacks; `version` must be HR_PGDECODER_CALLBACKS_VERSION.
 * Any may be NULL. A callback returns HR_OK to go on, or a negative status
 * to stop: hr_pgdecoder_feed then returns that status at once (the rest of
 * the payload is not decoded; the decoder stays usable, the host decides).
 */
typedef struct hr_pgdecoder_callbacks {
    unsigned version;
    void *ctx;
    /* A committed transaction with every change, in commit order; also one
     * without changes (its end LSN is still progress to confirm). */
    int (*on_txn)(void *ctx, const hr_pgtxn *txn);
    /* A Relation message; schema_changed = 1 when it redefines a cached OID. */
    int (*on_relation)(void *ctx, const hr_pgrelation *relation,
                       int schema_changed);
    /* A primary keepalive: the server's WAL end, its clock (microseconds
     * since 2000-01-01 UTC), and whether it asks for a status update now. */
    int (*on_keepalive)(void *ctx, uint64_t wal_end, int64_t server_time,
                        int reply_requested);
    /* A non-transactional logical decoding message (pg_logical_emit_message
     * with transactional = false), delivered as it arrives. */
    int (*on_message)(void *ctx, uint64_t lsn, const char *prefix,
                      const uint8_t *content, size_t content_len);
} hr_pgdecoder_callbacks;

/* Parameters; values pinned. */
typedef enum hr_pgdecoder_param {
    /* Bytes of changes buffered for one open transaction (streamed ones are
     * kept until their commit): 65536..2^40, default 1 GiB. Beyond it
     * hr_pgdecoder_feed fails with HR_ELIMIT. */
    HR_PGDECODER_PARAM_MAX_TXN_BYTES = 1
} hr_pgdecoder_param;

/*
 * hr_pgdecoder_new - a decoder with no relations cached. `callbacks` is
 * copied. HR_OK, HR_EINVAL (NULL argument, wrong callbacks version),
 * HR_ENOMEM.
 */
HR_API int hr_pgdecoder_new(hr_env *env, const hr_pgdecoder_callbacks *callbacks,
                            hr_pgdecoder **out);

/* hr_pgdecoder_free - NULL is a no-op. */
HR_API void hr_pgdecoder_free(hr_pgdecoder *decoder);

/*
 * hr_pgdecoder_reset - drop open transactions (after a reconnect the server
 * sends them again from their start) and clear the error state. The relation
 * cache is kept only if `keep_relations` (the server re-sends Relation
 * messages on a new connection anyway).
 */
HR_API void hr_pgdecoder_reset(hr_pgdecoder *decoder, int keep_relations);

/* hr_pgdecoder_set_param - HR_OK, HR_EINVAL (unknown, out of bounds). */
HR_API int hr_pgdecoder_set_param(hr_pgdecoder *decoder,
                                  hr_pgdecoder_param param, int64_t value);

/*
 * hr_pgdecoder_feed - decode one CopyData payload ('w' XLogData or 'k'
 * keepalive). Callbacks run from inside. Returns HR_OK; HR_EPROTO (malformed
 * or out-of-sequence message: offset and type in hr_pgdecoder_errmsg);
 * HR_ESTATE (fed after an error without a reset); HR_ELIMIT (an open
 * transaction outgrew MAX_TXN_BYTES); HR_ENOMEM; or a callback's status.
 */
HR_API int hr_pgdecoder_feed(hr_pgdecoder *decoder, const uint8_t *payload,
                             size_t len);

/*
 * hr_pgdecoder_feed_message - decode one bare pgoutput message (the data of
 * an XLogData frame) that was written at WAL position `lsn`; for hosts that
 * read changes with pg_logical_slot_get_binary_changes(). Same returns as
 * hr_pgdecoder_feed.
 */
HR_API int hr_pgdecoder_feed_message(hr_pgdecoder *decoder, uint64_t lsn,
                                     const uint8_t *message, size_t len);

/*
 * hr_pgdecoder_wal_end - the highest WAL end the server reported (XLogData
 * or keepalive); 0 before any. What a standby status update reports as
 * received (never as flushed: only the host knows what it applied).
 */
HR_API uint64_t hr_pgdecoder_wal_end(const hr_pgdecoder *decoder);

/* hr_pgdecoder_relation - the cached relation with this OID, or NULL. */
HR_API const hr_pgrelation *hr_pgdecoder_relation(const hr_pgdecoder *decoder,
                                                  uint32_t oid);

/* hr_pgdecoder_errmsg - the last failure's message; "" if none. */
HR_API const char *hr_pgdecoder_errmsg(const hr_pgdecoder *decoder);

/* ---- relations: owned by the decoder; valid until it is reset or freed,
 * or until a Relation message replaces that OID ---- */
HR_API uint32_t hr_pgrelation_oid(const hr_pgrelation *relation);
HR_API const char *hr_pgrelation_schema(const hr_pgrelation *relation);
HR_API const char *hr_pgrelation_name(const hr_pgrelation *relation);
/* 'd' default, 'n' nothing, 'f' full, 'i' index. */
HR_API char hr_pgrelation_replica_identity(const hr_pgrelation *relation);
HR_API int hr_pgrelation_columns(const hr_pgrelation *relation);
/* Column metadata; NULL / 0 for a bad index. */
HR_API const char *hr_pgrelation_column_name(const hr_pgrelation *relation,
                                             int col);
HR_API uint32_t hr_pgrelation_column_type(const hr_pgrelation *relation,
                                          int col);
HR_API int32_t hr_pgrelation_column_typmod(const hr_pgrelation *relation,
                                           int col);
/* 1 when the column is part of the replica identity key. */
HR_API int hr_pgrelation_column_is_key(const hr_pgrelation *relation, int col);

/* ---- transactions: valid only during the on_txn callback ---- */
HR_API uint32_t hr_pgtxn_xid(const hr_pgtxn *txn);
/* The commit record's LSN, and the end of it (what a confirm reports). */
HR_API uint64_t hr_pgtxn_commit_lsn(const hr_pgtxn *txn);
HR_API uint64_t hr_pgtxn_end_lsn(const hr_pgtxn *txn);
/* Commit time, microseconds since 2000-01-01 UTC. */
HR_API int64_t hr_pgtxn_commit_time(const hr_pgtxn *txn);
/* The replication origin, or NULL when the transaction has none. */
HR_API const char *hr_pgtxn_origin(const hr_pgtxn *txn);
HR_API uint64_t hr_pgtxn_origin_lsn(const hr_pgtxn *txn);
/* 1 when the transaction arrived in streamed segments. */
HR_API int hr_pgtxn_streamed(const hr_pgtxn *txn);
HR_API size_t hr_pgtxn_changes(const hr_pgtxn *txn);

/* The kind of change `i`, or HR_EINVAL for a bad index. */
HR_API int hr_pgtxn_change_kind(const hr_pgtxn *txn, size_t i);
/* The relation of an insert, update or delete (the version in force when
 * the change arrived); NULL otherwise. */
HR_API const hr_pgrelation *hr_pgtxn_change_relation(const hr_pgtxn *txn,
                                                     size_t i);
/*
 * Which old tuple an update or delete carries: 'K' (replica identity key
 * columns), 'O' (the whole old row: REPLICA IDENTITY FULL), or 0 (none: an
 * update that did not change the key, and every other kind), or HR_EINVAL
 * for a bad index.
 */
HR_API int hr_pgtxn_change_old_form(const hr_pgtxn *txn, size_t i);

/*
 * hr_pgtxn_change_value - one value of a change's tuple. Returns its
 * hr_pgvalue_form (and for text / binary points *data, *len at the bytes,
 * valid during on_txn), or HR_EINVAL (bad index, or the change has no such
 * tuple).
 */
HR_API int hr_pgtxn_change_value(const hr_pgtxn *txn, size_t i,
                                 hr_pgtuple which, int col,
                                 const uint8_t **data, size_t *len);

/*
 * hr_pgtxn_change_truncate - the relations of a TRUNCATE change: their count,
 * and the OID of the `k`th through hr_pgtxn_change_truncate_oid. *options has
 * bit 1 CASCADE and bit 2 RESTART IDENTITY. HR_OK or HR_EINVAL.
 */
HR_API int hr_pgtxn_change_truncate(const hr_pgtxn *txn, size_t i,
                                    size_t *relations, int *options);
HR_API uint32_t hr_pgtxn_change_truncate_oid(const hr_pgtxn *txn, size_t i,
                                             size_t k);
/* The `k`th relation of a TRUNCATE change (its name, for a host that
 * applies it: see HR_OP_TRUNCATE in apply.h), valid during on_txn; NULL for
 * a bad index. */
HR_API const hr_pgrelation *
hr_pgtxn_change_truncate_relation(const hr_pgtxn *txn, size_t i, size_t k);

/*
 * hr_pgtxn_change_message - prefix and content of a MESSAGE change (valid
 * during on_txn). HR_OK or HR_EINVAL.
 */
HR_API int hr_pgtxn_change_message(const hr_pgtxn *txn, size_t i,
                                   const char **prefix, const uint8_t **content,
                                   size_t *content_len);

/*
 * hr_pgtxn_to_batch - convert the run of row changes that starts at change
 * `first` and shares its relation into `out` (cleared first), and set *next
 * to the change after the run. The batch's relation is the change's
 * relation; its first column is "_hr_op" (int2, NOT NULL):
 *
 *   1  insert: the new row
 *   2  update: the new row (after a row with op 4 when the old one was sent)
 *   3  delete: the old row (key columns only unless REPLICA IDENTITY FULL;
 *      the others are NULL)
 *   4  update: the old row, right before its new row
 *
 * followed by the relation's columns with their type OIDs, all nullable.
 * Text and binary wire values become typed values (see batch.h); types the
 * batch does not know keep their text form. Unchanged TOAST stays the
 * marker. `first` must be an insert, update or delete.
 * HR_OK; HR_EINVAL (bad index, not a row change); HR_EPROTO (a value that
 * does not parse as its type, or a relation too large for a batch: detail
 * in hr_batch_errmsg(out)); HR_EUNSUPPORTED (a binary value of a type
 * without a binary decoder); HR_ELIMIT (a column passed 4 GiB); HR_ENOMEM.
 * On error `out` is cleared.
 */
HR_API int hr_pgtxn_to_batch(const hr_pgtxn *txn, size_t first, hr_batch *out,
                             size_t *next);

#ifdef __cplusplus
}
#endif

#endif /* HELIOSREPL_PGOUTPUT_H */
