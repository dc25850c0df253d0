/*
 * e2e_pipe.h - the in-process pipeline of bench-e2e: one tenant's stream ->
 * codec -> in-process transport -> codec -> applier, driven by one poll(2)
 * loop as heliosrepl-agent drives it (without the initial copy).
 */
#ifndef HR_BENCH_E2E_PIPE_H
#define HR_BENCH_E2E_PIPE_H

#include <stdint.h>

typedef struct e2e_result {
    double seconds;      /* from connecting to the last row committed */
    uint64_t rows;       /* rows applied */
    uint64_t wire_bytes; /* frame bytes through the transport */
} e2e_result;

/* Create a slot and its row-filtered publication (both named `slot`) for
 * `tenant` on the source, so a backlog written afterwards is behind it. */
void e2e_pipe_create_slot(const char *source_ci, const char *tenant,
                          const char *slot);
void e2e_pipe_drop_slot(const char *source_ci, const char *tenant,
                        const char *slot);

/* Replicate table bench.items of `tenant` from `slot` until `rows` rows are
 * applied; the target's checkpoints name the source `source_id`. */
void e2e_pipe_run(const char *source_ci, const char *target_ci,
                  const char *tenant, const char *slot, const char *source_id,
                  uint64_t rows, e2e_result *out);

#endif
