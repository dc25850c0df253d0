/*
 * txn_batch.h - the conversion behind hr_pgtxn_to_batch, shared with
 * hr_stream_to_batch (lib/stream): a run of row changes of one relation
 * version, taken from a list of (change, role) entries, into a batch.
 * Not installed.
 */
#ifndef HR_TXN_BATCH_H
#define HR_TXN_BATCH_H

#include <stddef.h>

#include <heliosrepl/pgoutput.h>

/* How an entry's change is converted (the values of enum hr_stream_role). */
#define HR__PGCONV_AS_IS 0  /* as it is */
#define HR__PGCONV_DELETE 1 /* an update as the delete of its old row */
#define HR__PGCONV_INSERT 2 /* an update as the insert of its new row */

/* Entry k of `list`: returns its change index, sets *role. */
typedef size_t (*hr__pgconv_entry_fn)(const void *list, size_t k, int *role);

/*
 * Convert the entries first.. of `list` (n entries) that form one run -
 * row changes of the relation version of entry `first` - into `out`
 * (cleared first); *next gets the entry after the run. Entry `first` must
 * exist (first < n): the caller reports an empty list its own way. Errors
 * and messages as hr_pgtxn_to_batch's, naming the change index; a role
 * out of range or on a change that is not an update is HR_EINVAL, a
 * DELETE role on an update without an old tuple HR_EPROTO.
 */
int hr__pgtxn_entries_to_batch(const hr_pgtxn *txn, hr__pgconv_entry_fn entry,
                               const void *list, size_t n, size_t first,
                               hr_batch *out, size_t *next);

#endif /* HR_TXN_BATCH_H */
