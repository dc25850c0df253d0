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

/* Create the tenant's slot and row-filtered publication ("hr_" + tenant)
 * on the source, so a backlog written afterwards is behind it. */
void e2e_pipe_create_slot(const char *source_ci, const char *tenant);
void e2e_pipe_drop_slot(const char *source_ci, const char *tenant);

/* Replicate table bench.items of `tenant` until `rows` rows are applied. */
void e2e_pipe_run(const char *source_ci, const char *target_ci,
                  const char *tenant, uint64_t rows, e2e_result *out);

#endif
