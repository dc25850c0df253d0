package heliosrepl

// The applier's callbacks, called by the C trampolines in trampoline.c. A
// file with //export may only declare in its preamble.

/*
#include <stdint.h>
#include <heliosrepl/apply.h>
*/
import "C"

import "runtime/cgo"

// applierState is what an applier's callbacks need; the library receives a
// cgo.Handle to it as the C ctx pointer. It must not refer to the Applier,
// so that an unreachable Applier can still be finalized.
type applierState struct {
	cb ApplierCallbacks

	// A panic recovered inside a callback: a panic must not unwind through
	// the library's C frames, and the C callbacks return nothing, so it is
	// re-raised when the step returns.
	panicked bool
	panicVal interface{}
}

func applierStateOf(ctx C.uintptr_t) *applierState {
	return cgo.Handle(ctx).Value().(*applierState)
}

// recoverPanic is deferred by every exported callback.
func (st *applierState) recoverPanic() {
	if r := recover(); r != nil && !st.panicked {
		st.panicked, st.panicVal = true, r
	}
}

// repanic re-raises (and forgets) a panic of the last step's callbacks.
func (st *applierState) repanic() {
	if st.panicked {
		v := st.panicVal
		st.panicked, st.panicVal = false, nil
		panic(v)
	}
}

//export hrgoApplierApplied
func hrgoApplierApplied(ctx C.uintptr_t, tenant *C.char, lsn C.uint64_t) {
	st := applierStateOf(ctx)
	defer st.recoverPanic()
	if st.cb.OnApplied != nil {
		st.cb.OnApplied(C.GoString(tenant), uint64(lsn))
	}
}

//export hrgoApplierError
func hrgoApplierError(ctx C.uintptr_t, tenant *C.char, lsn C.uint64_t, status C.int, message *C.char) {
	st := applierStateOf(ctx)
	defer st.recoverPanic()
	if st.cb.OnError != nil {
		st.cb.OnError(C.GoString(tenant), uint64(lsn), Status(status), C.GoString(message))
	}
}
