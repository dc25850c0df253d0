package heliosrepl

/*
#include <stdlib.h>
#include "trampoline.h"
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// SetHoldStart makes a dedicated stream for a tenant moving off a shared
// stream: it sets up publication and slot, then waits (phase HELD) until
// Stream.MoveTenant moves the tenant in (default false). Excludes a start
// LSN and an exported snapshot (NewStream: EINVAL).
func (o *StreamOpts) SetHoldStart(hold bool) error {
	if o.ptr == nil {
		return errStreamOptsClosed()
	}
	return o.check(C.hr_stream_opts_set_hold_start(o.ptr, boolInt(hold)))
}

// SlotLsn returns where the stream's slot starts: its confirmed position at
// the last setup (its consistent point if this stream created it), 0
// before setup saw it. The slot holds every transaction ending after it.
func (s *Stream) SlotLsn() uint64 {
	v := uint64(C.hr_stream_slot_lsn(s.live()))
	runtime.KeepAlive(s)
	return v
}

// TenantLagBytes returns the bytes of WAL between tenant's confirmed
// position ("" in dedicated mode) and the furthest WAL end the server
// reported. Errors: EINVAL ("" in shared mode), ENOTFOUND (unknown tenant).
func (s *Stream) TenantLagBytes(tenant string) (int64, error) {
	if s.Closed() {
		return 0, errStreamClosed()
	}
	ct, err := optTenant(tenant)
	if err != nil {
		return 0, err
	}
	defer C.free(unsafe.Pointer(ct))
	v := int64(C.hr_stream_tenant_lag_bytes(s.ptr, ct))
	runtime.KeepAlive(s)
	if v < 0 {
		return 0, newError(C.int(v), "no lag for tenant "+tenant)
	}
	return v, nil
}

// MoveTenant moves tenant from this shared stream to the dedicated stream
// to (made for it with SetHoldStart) without loss or duplicate
// (hr_stream_move_tenant). It returns true once moved, false while not yet
// possible (to has not set up its slot, or the tenant's confirm has not
// reached to.SlotLsn(): keep stepping both streams and confirming, then
// call again). Errors: EINVAL, ENOTFOUND, ESTATE.
func (s *Stream) MoveTenant(tenant string, to *Stream) (bool, error) {
	if err := s.usable("MoveTenant"); err != nil {
		return false, err
	}
	if to == nil {
		return false, newError(C.HR_EINVAL, "MoveTenant needs a stream to move to")
	}
	if err := to.usable("MoveTenant"); err != nil {
		return false, err
	}
	ct, err := cString(tenant, "tenant")
	if err != nil {
		return false, err
	}
	defer C.free(unsafe.Pointer(ct))
	rc := C.hr_stream_move_tenant(s.ptr, ct, to.ptr)
	runtime.KeepAlive(to)
	if rc == C.HR_EAGAIN {
		runtime.KeepAlive(s)
		return false, nil
	}
	return rc == C.HR_OK, s.check(rc)
}
