/*
 * stream_batch.c - hr_stream_to_batch: a tenant's listed changes, with
 * their roles, as typed column batches. The conversion itself is
 * hr_pgtxn_to_batch's (lib/pgoutput/txn_batch.c), over the list.
 */
#include <heliosrepl/stream.h>

#include "batch/batch_internal.h"
#include "pgoutput/txn_batch.h"

_Static_assert(HR_STREAM_ROLE_AS_IS == HR__PGCONV_AS_IS &&
                   HR_STREAM_ROLE_DELETE == HR__PGCONV_DELETE &&
                   HR_STREAM_ROLE_INSERT == HR__PGCONV_INSERT,
               "stream roles are the conversion's roles");

static size_t listed(const void *list, size_t k, int *role)
{
    const hr_stream_change *c = list;
    *role = c[k].role;
    return c[k].index;
}

HR_API int hr_stream_to_batch(const hr_pgtxn *txn,
                              const hr_stream_change *changes, size_t n,
                              size_t first, hr_batch *out, size_t *next)
{
    if (!out)
        return HR_EINVAL;
    if (!txn || !next || (!changes && n)) {
        hr_batch_clear(out);
        return hr__fail(&out->error, HR_EINVAL,
                        "NULL transaction, changes or next");
    }
    *next = first;
    if (first >= n) {
        hr_batch_clear(out);
        return hr__fail(&out->error, HR_EINVAL,
                        "entry %zu out of range (%zu listed)", first, n);
    }
    return hr__pgtxn_entries_to_batch(txn, listed, changes, n, first, out,
                                      next);
}
