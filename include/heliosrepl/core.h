/*
 * heliosrepl/core.h - status codes, version, and the environment handle.
 *
 * Every other handle of the library is created from an hr_env, which carries
 * the host's allocator, log sink and clock. Tests inject a failing allocator
 * or a simulated clock through it; production hosts usually keep the defaults.
 *
 * Thread rules (apply to the whole library unless a function says otherwise):
 * a handle is used by one thread at a time; different handles may be used on
 * different threads at once. The library never starts a thread.
 */
#ifndef HELIOSREPL_CORE_H
#define HELIOSREPL_CORE_H

#include <stddef.h>
#include <stdint.h>

#include <heliosrepl/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Status codes                                                              */
/* ------------------------------------------------------------------------ */

/*
 * Every function that can fail returns an int: HR_OK (0) or one of these
 * negative codes. Values are pinned and never renumbered; a retired code
 * stays reserved. Detail is in the per-handle message (hr_env_errmsg, ...).
 */
typedef enum hr_status {
    HR_OK = 0,
    HR_EINVAL = -1,       /* invalid argument or option value */
    HR_ENOMEM = -2,       /* an allocation failed */
    HR_EIO = -3,          /* I/O or connection failure */
    HR_EPROTO = -4,       /* malformed protocol message */
    HR_ECORRUPT = -5,     /* corrupt or truncated data (checksum, framing) */
    HR_EAUTH = -6,        /* authentication failed: credentials, key, tag */
    HR_EAGAIN = -7,       /* would block: call again when the fd is ready */
    HR_ESTATE = -8,       /* call not valid in the handle's current state */
    HR_ECONFLICT = -9,    /* a conflicting change was detected */
    HR_ESCHEMA = -10,     /* schema mismatch (missing table/column, type) */
    HR_ETIMEDOUT = -11,   /* a deadline passed */
    HR_EUNSUPPORTED = -12, /* feature, format version or type not supported */
    HR_ENOTFOUND = -13,   /* the named object does not exist */
    HR_ECLOSED = -14,     /* the peer or the handle is closed */
    HR_EVERSION = -15,    /* incompatible library or format version */
    HR_ELIMIT = -16,      /* a configured size or count limit was exceeded */
    HR_EINTERNAL = -17    /* a library invariant failed: please report it */
} hr_status;

/* The lowest status code this version of the library can return. */
#define HR_STATUS_MIN HR_EINTERNAL

/* Interest bits of the library's I/O handles (what to wait for on an fd). */
#define HR_POLL_IN 0x1
#define HR_POLL_OUT 0x2

/*
 * hr_strerror - a short, static, English description of a status code.
 * Never returns NULL: an unknown code gives "unknown error".
 * Thread-safe; may be called from callbacks.
 */
HR_API const char *hr_strerror(int status);

/*
 * hr_status_name - the enum name of a status code ("HR_EINVAL"), or
 * "HR_UNKNOWN". Static string; thread-safe.
 */
HR_API const char *hr_status_name(int status);

/*
 * hr_is_fatal - 1 when retrying the same call on the same handle cannot
 * succeed without a change by the host (new options, a new handle, a fixed
 * schema), 0 for transient conditions (HR_EAGAIN, HR_ETIMEDOUT, HR_EIO,
 * HR_ENOMEM, HR_ECONFLICT, HR_ECLOSED) and for HR_OK. Thread-safe.
 */
HR_API int hr_is_fatal(int status);

/* ------------------------------------------------------------------------ */
/* Version                                                                   */
/* ------------------------------------------------------------------------ */

/* hr_version - the run-time library version as 0xMMmmpp (see HR_VERSION_NUM). */
HR_API uint32_t hr_version(void);

/* hr_version_string - the run-time version, e.g. "1.0.0". Static string. */
HR_API const char *hr_version_string(void);

/*
 * hr_check_version - whether this library can serve a caller written for
 * version major.minor: HR_OK when the major versions are equal and the
 * library's minor is at least `minor`, HR_EVERSION otherwise. Bindings call it
 * once at load. Thread-safe.
 */
HR_API int hr_check_version(int major, int minor);

/* ------------------------------------------------------------------------ */
/* Environment: allocator, log, clock                                        */
/* ------------------------------------------------------------------------ */

typedef struct hr_env hr_env;

#define HR_ALLOCATOR_VERSION 1

/*
 * A host allocator. `version` must be HR_ALLOCATOR_VERSION. The functions have
 * the contracts of malloc/realloc/free (realloc(ctx, NULL, n) allocates;
 * free(ctx, NULL) does nothing) and receive `ctx` first. When handles of one
 * env are used on several threads the functions must be thread-safe.
 * hr_env_new copies the table; `ctx` must stay valid for the env's lifetime.
 */
typedef struct hr_allocator {
    unsigned version;
    void *ctx;
    void *(*malloc)(void *ctx, size_t size);
    void *(*realloc)(void *ctx, void *ptr, size_t size);
    void (*free)(void *ctx, void *ptr);
} hr_allocator;

typedef enum hr_log_level {
    HR_LOG_ERROR = 1,
    HR_LOG_WARN = 2,
    HR_LOG_INFO = 3,
    HR_LOG_DEBUG = 4,
    HR_LOG_TRACE = 5
} hr_log_level;

/*
 * A log sink. Called on the thread that made the library call that logs;
 * `message` is valid only during the call and has no trailing newline.
 * The sink must not call back into the handle that is logging.
 */
typedef void (*hr_log_fn)(void *ctx, hr_log_level level, const char *message);

#define HR_CLOCK_VERSION 1

/*
 * A host clock. `version` must be HR_CLOCK_VERSION. `monotonic_ns` never goes
 * backwards (any origin); `wall_ns` is nanoseconds since the Unix epoch, UTC.
 * Both must be cheap: the library calls them on hot paths.
 */
typedef struct hr_clock {
    unsigned version;
    void *ctx;
    uint64_t (*monotonic_ns)(void *ctx);
    uint64_t (*wall_ns)(void *ctx);
} hr_clock;

/*
 * hr_env_new - create an environment.
 * `allocator` may be NULL for the C library's malloc/realloc/free; otherwise
 * it is copied and also used to allocate the env itself. The new env logs
 * nothing and uses CLOCK_MONOTONIC / CLOCK_REALTIME.
 * Returns HR_OK and sets *out, HR_EINVAL (NULL out, bad allocator table; *out
 * is set to NULL), or HR_ENOMEM.
 */
HR_API int hr_env_new(hr_env **out, const hr_allocator *allocator);

/*
 * hr_env_free - release the host's reference. Handles created from the env
 * hold their own reference, so the env may be freed before them; it is
 * destroyed with its last handle. NULL is a no-op. Not thread-safe with any
 * other call on the same env.
 */
HR_API void hr_env_free(hr_env *env);

/*
 * hr_env_set_log - route library log messages at `min_level` and more severe
 * to `fn` (NULL disables logging). Call before creating handles from the env.
 * Returns HR_OK, or HR_EINVAL for a NULL env or an out-of-range level.
 */
HR_API int hr_env_set_log(hr_env *env, hr_log_fn fn, void *ctx,
                          hr_log_level min_level);

/*
 * hr_env_set_clock - use the host clock `clock` (copied; NULL restores the
 * system clock). Call before creating handles from the env.
 * Returns HR_OK, or HR_EINVAL (NULL env, wrong version, NULL function).
 */
HR_API int hr_env_set_clock(hr_env *env, const hr_clock *clock);

/* hr_env_monotonic_ns / hr_env_wall_ns - read the env's clock. */
HR_API uint64_t hr_env_monotonic_ns(const hr_env *env);
HR_API uint64_t hr_env_wall_ns(const hr_env *env);

/*
 * hr_env_errmsg - the message of the last failed call on `env`, or "" if none.
 * Owned by the env; valid until the next call on it. NULL env gives a static
 * message.
 */
HR_API const char *hr_env_errmsg(const hr_env *env);

#ifdef __cplusplus
}
#endif

#endif /* HELIOSREPL_CORE_H */
