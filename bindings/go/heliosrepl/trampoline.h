/*
 * trampoline.h - C side of the Go callbacks (see callbacks.go).
 *
 * The library calls these static C functions, which forward to the
 * //export'ed Go functions with a cgo.Handle (the env's, or a pgoutput
 * decoder's) as a uintptr_t.
 */
#ifndef HELIOSREPL_GO_TRAMPOLINE_H
#define HELIOSREPL_GO_TRAMPOLINE_H

#include <stdint.h>

#include <heliosrepl/heliosrepl.h>

/*
 * hr_env_set_clock with the Go clock of handle `ctx`. A zero `monotonic` or
 * `wall` leaves that function NULL, which the library rejects (HR_EINVAL).
 */
int hrgo_env_set_clock(hr_env *env, uintptr_t ctx, int monotonic, int wall);

/* hr_env_set_log with the Go log sink of `ctx`, or NULL when !enabled. */
int hrgo_env_set_log(hr_env *env, uintptr_t ctx, int enabled, int min_level);

/* Calls the log trampoline directly; the tests use it (no core call logs). */
void hrgo_log_through_trampoline(uintptr_t ctx, int level, const char *message);

/* Which pgoutput callbacks hrgo_pgdecoder_new installs (the others NULL). */
enum {
    HRGO_PG_ON_TXN = 1,
    HRGO_PG_ON_RELATION = 2,
    HRGO_PG_ON_KEEPALIVE = 4,
    HRGO_PG_ON_MESSAGE = 8
};

/*
 * hr_pgdecoder_new with the Go callbacks of handle `ctx` (see
 * pgcallbacks.go) selected by the HRGO_PG_* bits of `which`.
 */
int hrgo_pgdecoder_new(hr_env *env, uintptr_t ctx, unsigned which,
                       hr_pgdecoder **out);

/* Which stream callbacks hrgo_stream_new installs (the others NULL). */
enum {
    HRGO_STREAM_ON_TXN = 1,
    HRGO_STREAM_ON_SCHEMA_CHANGE = 2
};

/*
 * hr_stream_new with the Go callbacks of handle `ctx` (see
 * streamcallbacks.go) selected by the HRGO_STREAM_* bits of `which`.
 */
int hrgo_stream_new(hr_env *env, const hr_stream_opts *opts, uintptr_t ctx,
                    unsigned which, hr_stream **out);

/* Which applier callbacks hrgo_applier_new installs (the others NULL). */
enum {
    HRGO_APPLIER_ON_APPLIED = 1,
    HRGO_APPLIER_ON_ERROR = 2
};

/*
 * hr_applier_new with the Go callbacks of handle `ctx` (see
 * applycallbacks.go) selected by the HRGO_APPLIER_* bits of `which`.
 */
int hrgo_applier_new(hr_env *env, const hr_applier_opts *opts, uintptr_t ctx,
                     unsigned which, hr_applier **out);

/* Calls the applier trampolines directly, as the library would; the tests
 * use it (only a target server makes the library call them). */
void hrgo_applier_through_trampolines(uintptr_t ctx, const char *tenant_id,
                                      uint64_t lsn, int status,
                                      const char *message);
/* Which copier callbacks hrgo_copier_new installs (on_batch always). */
enum {
    HRGO_COPIER_ON_TABLE_BEGIN = 1,
    HRGO_COPIER_ON_TABLE_END = 2
};

/*
 * hr_copier_new with the Go callbacks of handle `ctx` (see
 * copycallbacks.go): on_batch, and those selected by the HRGO_COPIER_*
 * bits of `which`.
 */
int hrgo_copier_new(hr_env *env, const hr_copier_opts *opts, uintptr_t ctx,
                    unsigned which, hr_copier **out);

#endif
