/*
 * agent_unitbuf.h - several source transactions of one tenant collected as
 * one unit: their rows appended, per run of one relation, to reused
 * batches (hr_batch_append_rows), with the last transaction's end LSN and
 * commit time. Pure: no I/O; the host encodes and sends the batches.
 * Shared by heliosrepl-agent (agent_unit.c) and bench-e2e (e2e_pipe.c).
 * A zero-initialized unitbuf is empty and ready. One thread.
 */
#ifndef HR_AGENT_UNITBUF_H
#define HR_AGENT_UNITBUF_H

#include <stddef.h>
#include <stdint.h>

#include <heliosrepl/heliosrepl.h>

typedef struct unitbuf {
    hr_batch **batch; /* n in use, cap allocated (kept for reuse) */
    size_t n, cap;
    size_t rows, txns;
    uint64_t lsn;        /* the last transaction's end */
    int64_t commit_time; /* ... and commit time */
} unitbuf;

/*
 * unitbuf_add_txn - append the row changes of `txn` (changes[0..n);
 * logical decoding messages skipped) through `scratch` (hr_stream_to_batch)
 * and count the transaction. HR_OK, or the code of the failing call with
 * its message in *errmsg (the unit then holds part of the transaction:
 * unitbuf_clear it).
 */
int unitbuf_add_txn(unitbuf *u, hr_env *env, const hr_pgtxn *txn,
                    const hr_stream_change *changes, size_t n,
                    hr_batch *scratch, const char **errmsg);
/* unitbuf_clear - empty the unit; the batches stay for reuse. */
void unitbuf_clear(unitbuf *u);
void unitbuf_free(unitbuf *u);

#endif
