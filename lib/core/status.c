/* status.c - status code names and descriptions. */
#include <heliosrepl/core.h>

typedef struct status_info {
    const char *name;
    const char *text;
    int fatal;
} status_info;

/* Indexed by -status; order must match hr_status. */
static const status_info status_table[] = {
    {"HR_OK", "success", 0},
    {"HR_EINVAL", "invalid argument", 1},
    {"HR_ENOMEM", "out of memory", 0},
    {"HR_EIO", "I/O error", 0},
    {"HR_EPROTO", "protocol error", 1},
    {"HR_ECORRUPT", "corrupt data", 1},
    {"HR_EAUTH", "authentication failed", 1},
    {"HR_EAGAIN", "operation would block", 0},
    {"HR_ESTATE", "invalid state for this call", 1},
    {"HR_ECONFLICT", "conflict", 0},
    {"HR_ESCHEMA", "schema mismatch", 1},
    {"HR_ETIMEDOUT", "timed out", 0},
    {"HR_EUNSUPPORTED", "not supported", 1},
    {"HR_ENOTFOUND", "not found", 1},
    {"HR_ECLOSED", "closed", 0},
    {"HR_EVERSION", "incompatible version", 1},
    {"HR_ELIMIT", "limit exceeded", 1},
    {"HR_EINTERNAL", "internal error", 1},
};

static const status_info *status_lookup(int status)
{
    if (status > 0 || status < HR_STATUS_MIN)
        return NULL;
    return &status_table[-status];
}

HR_API const char *hr_strerror(int status)
{
    const status_info *info = status_lookup(status);
    return info ? info->text : "unknown error";
}

HR_API const char *hr_status_name(int status)
{
    const status_info *info = status_lookup(status);
    return info ? info->name : "HR_UNKNOWN";
}

HR_API int hr_is_fatal(int status)
{
    const status_info *info = status_lookup(status);
    /* A code this version does not know cannot be retried meaningfully. */
    return info ? info->fatal : 1;
}

_Static_assert(sizeof status_table / sizeof status_table[0] ==
                   (unsigned)-HR_STATUS_MIN + 1,
               "status_table must list every hr_status");
