/*
 * transport_internal.h - the transport handle and the operations a
 * transport kind plugs in. The queue, the limits, the messages and the
 * validation of metadata are shared by every kind; a kind supplies its I/O
 * (a networked one publishes what is queued and queues what it receives).
 */
#ifndef HR_TRANSPORT_INTERNAL_H
#define HR_TRANSPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <heliosrepl/transport.h>

#include "core/core_internal.h"

struct hr_transport_msg {
    hr_env *env; /* a reference: messages outlive their transport */
    hr_transport_msg *next;
    uint32_t flags;
    uint64_t lsn;
    int64_t commit_time;
    uint64_t idempotent_until;
    uint64_t seq;
    const char *tenant_id; /* these point into the same allocation */
    const char *schema_name;
    const char *table_name;
    const uint8_t *data;
    size_t len;
};

typedef struct hr__transport_ops {
    int kind;
    int (*fd)(const hr_transport *t);
    int (*interest)(const hr_transport *t);
    int64_t (*timeout_ms)(const hr_transport *t, uint64_t now_ns);
    int (*step)(hr_transport *t, uint64_t now_ns);
    void (*destroy)(hr_transport *t); /* the kind's own state; may be NULL */
} hr__transport_ops;

struct hr_transport {
    hr_env *env;
    const hr__transport_ops *ops;
    void *impl; /* the kind's state */
    hr__error error;
    int64_t max_messages;
    int64_t max_bytes;
    hr_transport_msg *head, *tail;
    size_t queued_messages, queued_bytes;
    uint64_t next_seq;
    uint64_t sent_messages, sent_bytes;
};

/* A transport of kind `ops` with an empty queue and default limits. */
int hr__transport_create(hr_env *env, const hr__transport_ops *ops,
                         hr_transport **out);

#endif /* HR_TRANSPORT_INTERNAL_H */
