/*
 * heliosrepl/transport.h - moves encoded frames from the source side to the
 * applying side.
 *
 * A transport carries messages: one frame of hr_codec_encode (or no bytes
 * at all, for a marker) plus a small set of metadata the receiver needs to
 * drive hr_applier without decoding anything first - the tenant, the source
 * LSN, the commit time, and where the message sits in its unit of work
 * (first / last frame of a source transaction, or of one table's initial
 * copy, or the end of a tenant's initial copy). The metadata is exactly
 * what a networked transport (NATS JetStream: subject per tenant, headers,
 * a dedup id from `seq`) carries next to the payload, so a host written
 * against this interface moves to another transport by changing the
 * constructor.
 *
 * This version has the in-process transport (hr_transport_new_inproc): a
 * bounded FIFO queue inside the host process, the embedded default. It
 * copies the bytes on send, so the sender's buffer (the codec's frame) is
 * free again at once. It has no socket: hr_transport_fd returns -1,
 * hr_transport_interest 0, hr_transport_timeout_ms -1 and hr_transport_step
 * does nothing - a host loop written for any transport works unchanged.
 *
 * Receiving, per message (see hr_transport_meta.flags):
 *   FIRST                 hr_applier_begin (COPY: hr_applier_begin_copy)
 *   bytes (len > 0)       hr_codec_decode, then hr_applier_add_batch
 *   LAST                  hr_applier_commit
 *   COPY_DONE             hr_applier_set_idempotent_until (if set), then
 *                         hr_applier_finish_copy(lsn)
 *   ABORT                 hr_applier_rollback: the producer failed in the
 *                         middle of a unit (a copier that lost its
 *                         connection); the unit comes again later
 * A message may be both FIRST and LAST (a one-frame transaction, or an
 * empty one that only moves the checkpoint).
 *
 * Backpressure: the queue holds at most HR_TRANSPORT_PARAM_MAX_MESSAGES
 * messages and HR_TRANSPORT_PARAM_MAX_BYTES bytes of payload; a send beyond
 * either returns HR_EAGAIN and queues nothing (an empty queue takes any one
 * message, so a frame larger than the byte limit still gets through).
 * Order: global FIFO, hence FIFO per tenant. An applier has one unit open
 * at a time, so a host feeding one applier from one in-process transport
 * sends each unit whole before another tenant's unit starts (the agent
 * does); messages of different tenants' units never need reordering.
 *
 * Thread rules: one thread at a time per transport (both ends included).
 * Messages received are independent of the transport: a host may free them
 * on any thread, also after hr_transport_free.
 */
#ifndef HELIOSREPL_TRANSPORT_H
#define HELIOSREPL_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include <heliosrepl/core.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hr_transport hr_transport;
typedef struct hr_transport_msg hr_transport_msg;

/* What a transport is (hr_transport_kind). Values pinned. */
enum hr_transport_kind { HR_TRANSPORT_INPROC = 1 };

/* Parameters; values pinned. hr_transport_param_bounds gives each range. */
typedef enum hr_transport_param {
    /* Most messages queued: 1..2^31-1, default 4096. */
    HR_TRANSPORT_PARAM_MAX_MESSAGES = 1,
    /* Most payload bytes queued: 1..2^40, default 64 MiB. */
    HR_TRANSPORT_PARAM_MAX_BYTES = 2
} hr_transport_param;

/* Message flags (hr_transport_meta.flags). Values pinned. */
#define HR_TRANSPORT_FIRST 0x01u     /* first message of its unit */
#define HR_TRANSPORT_LAST 0x02u      /* last message of its unit */
#define HR_TRANSPORT_COPY 0x04u      /* unit = initial copy of one table */
#define HR_TRANSPORT_COPY_DONE 0x08u /* the tenant's initial copy is done */
#define HR_TRANSPORT_ABORT 0x10u     /* drop the tenant's unfinished unit */
#define HR_TRANSPORT_FLAGS_ALL 0x1fu

/*
 * A message's metadata. `size` is sizeof(hr_transport_meta) as the caller
 * knows it: the library reads (send) and writes (hr_transport_msg_meta)
 * only the fields that fit, so an older caller keeps working when fields
 * are added at the end.
 *
 * tenant_id     the tenant, 1..255 bytes, no NUL (required)
 * flags         HR_TRANSPORT_* above; COPY_DONE and ABORT each stand
 *               alone (no other flag) and carry no bytes
 * lsn           a source transaction: its end LSN; a copy: the snapshot's
 *               LSN; COPY_DONE: the LSN to finish the copy at
 * commit_time   the source commit time, microseconds since 2000-01-01 UTC
 *               (hr_pgtxn_commit_time); 0 when unknown (copies)
 * schema_name   COPY: the copied table (required with COPY, else ignored;
 * table_name    1..255 bytes each)
 * idempotent_until  COPY_DONE: apply the tenant's changes idempotently up
 *               to this LSN (hr_applier_set_idempotent_until); 0 = none
 * seq           set by the transport on send (ignored on input): 1, 2, ...
 *               in send order; a networked transport's dedup id
 */
typedef struct hr_transport_meta {
    size_t size;
    const char *tenant_id;
    uint32_t flags;
    uint64_t lsn;
    int64_t commit_time;
    const char *schema_name;
    const char *table_name;
    uint64_t idempotent_until;
    uint64_t seq;
} hr_transport_meta;

/*
 * hr_transport_new_inproc - an empty in-process transport with default
 * parameters. HR_OK, HR_EINVAL (NULL argument), HR_ENOMEM.
 */
HR_API int hr_transport_new_inproc(hr_env *env, hr_transport **out);

/* hr_transport_free - drops (frees) every queued message. NULL: no-op. */
HR_API void hr_transport_free(hr_transport *transport);

/* An enum hr_transport_kind value; 0 for NULL. */
HR_API int hr_transport_kind(const hr_transport *transport);

/*
 * hr_transport_set_param / hr_transport_get_param - HR_OK, HR_EINVAL
 * (unknown parameter, value out of bounds, NULL argument). Lowering a
 * limit below what is queued drops nothing: sends wait until the queue
 * drained below it.
 */
HR_API int hr_transport_set_param(hr_transport *transport,
                                  hr_transport_param param, int64_t value);
HR_API int hr_transport_get_param(const hr_transport *transport,
                                  hr_transport_param param, int64_t *value);
/* HR_OK and the inclusive range, or HR_EINVAL. Thread-safe. */
HR_API int hr_transport_param_bounds(hr_transport_param param, int64_t *min,
                                     int64_t *max);

/*
 * hr_transport_send - queue one message: `meta` (strings copied) and
 * data[0..len) (copied; `data` may be NULL when len is 0). On HR_OK,
 * meta->seq is set to the message's sequence number when it fits in
 * meta->size. HR_OK; HR_EAGAIN (queue full: receive, then send again;
 * nothing queued); HR_EINVAL (NULL argument, meta->size too small for
 * `flags`, bad tenant id, unknown flags, COPY without a table, COPY_DONE
 * or ABORT with other flags or bytes); HR_ENOMEM.
 */
HR_API int hr_transport_send(hr_transport *transport, hr_transport_meta *meta,
                             const uint8_t *data, size_t len);

/*
 * hr_transport_writable - 1 when a send of `len` bytes would be accepted
 * now, 0 when it would give HR_EAGAIN (or for NULL). A host checks it
 * before producing, e.g. before stepping a stream.
 */
HR_API int hr_transport_writable(const hr_transport *transport, size_t len);

/*
 * hr_transport_recv - take the oldest message. *out is the host's: free
 * it with hr_transport_msg_free. HR_OK; HR_EAGAIN (nothing queued; *out =
 * NULL); HR_EINVAL (NULL argument).
 */
HR_API int hr_transport_recv(hr_transport *transport, hr_transport_msg **out);

/* hr_transport_msg_free - NULL is a no-op. Any thread. */
HR_API void hr_transport_msg_free(hr_transport_msg *msg);

/*
 * hr_transport_msg_meta - fill *meta (the fields that fit in meta->size,
 * which the caller sets); its strings point into `msg` and live as long as
 * it. HR_OK, HR_EINVAL (NULL argument, meta->size smaller than the fields
 * up to `flags`).
 */
HR_API int hr_transport_msg_meta(const hr_transport_msg *msg,
                                 hr_transport_meta *meta);

/* The payload: *len bytes (0 for a marker) owned by `msg`; NULL for a NULL
 * msg (with *len = 0). `len` may be NULL. */
HR_API const uint8_t *hr_transport_msg_data(const hr_transport_msg *msg,
                                            size_t *len);

/*
 * Host-owned I/O, as for every handle: the socket (-1: none), its interest
 * (HR_POLL_IN | HR_POLL_OUT; 0: none), the milliseconds until
 * hr_transport_step must run (-1: no timer) from the env clock's monotonic
 * `now_ns`, and the step (HR_OK; a networked transport also HR_EIO and
 * HR_EAUTH). The in-process transport has no I/O: -1, 0, -1, HR_OK.
 */
HR_API int hr_transport_fd(const hr_transport *transport);
HR_API int hr_transport_interest(const hr_transport *transport);
HR_API int64_t hr_transport_timeout_ms(const hr_transport *transport,
                                       uint64_t now_ns);
HR_API int hr_transport_step(hr_transport *transport, uint64_t now_ns);

/*
 * hr_transport_stats - messages and payload bytes sent since creation,
 * and what is queued now. Any pointer may be NULL.
 */
HR_API void hr_transport_stats(const hr_transport *transport,
                               uint64_t *sent_messages, uint64_t *sent_bytes,
                               size_t *queued_messages, size_t *queued_bytes);

/* hr_transport_errmsg - the last failure's message; "" if none. */
HR_API const char *hr_transport_errmsg(const hr_transport *transport);

#ifdef __cplusplus
}
#endif

#endif /* HELIOSREPL_TRANSPORT_H */
