package heliosrepl

// The copier's callbacks, called by the C trampolines in trampoline.c. A
// file with //export may only declare in its preamble.

/*
#include <stdint.h>
#include <heliosrepl/copy.h>
*/
import "C"

import (
	"errors"
	"runtime"
	"runtime/cgo"
)

// copierState is what a copier's callbacks need; the library receives a
// cgo.Handle to it as the C ctx pointer. It must not refer to the Copier.
// The embedded pgState keeps the env and what stopped the last step.
type copierState struct {
	pgState
	ccb CopierCallbacks
}

func copierStateOf(ctx C.uintptr_t) *copierState {
	return cgo.Handle(ctx).Value().(*copierState)
}

//export hrgoCopierTableBegin
func hrgoCopierTableBegin(ctx C.uintptr_t, schema, table *C.char, rows C.uint64_t) (rc C.int) {
	st := copierStateOf(ctx)
	defer st.recoverPanic(&rc)
	return st.status(st.ccb.OnTableBegin(C.GoString(schema), C.GoString(table), uint64(rows)))
}

// isAgain reports whether a callback's error asks for backpressure.
func isAgain(err error) bool {
	var s Status
	if errors.As(err, &s) && s == EAGAIN {
		return true
	}
	var he *Error
	return errors.As(err, &he) && Status(he.Code) == EAGAIN
}

//export hrgoCopierBatch
func hrgoCopierBatch(ctx C.uintptr_t, schema, table *C.char, batch *C.hr_batch) (rc C.int) {
	st := copierStateOf(ctx)
	defer st.recoverPanic(&rc)
	if _, err := st.env.adopt(true); err != nil {
		return st.status(err)
	}
	b := &Batch{ptr: batch, env: st.env}
	runtime.SetFinalizer(b, (*Batch).Close)
	// Not taken (backpressure or a failure): the library keeps the batch.
	release := func() {
		b.ptr = nil
		runtime.SetFinalizer(b, nil)
		st.env.disown()
	}
	taken := false
	defer func() {
		if !taken {
			release()
		}
	}()
	err := st.ccb.OnBatch(C.GoString(schema), C.GoString(table), b)
	if err == nil {
		taken = true
		return C.HR_OK
	}
	if isAgain(err) {
		return C.HR_EAGAIN
	}
	return st.status(err)
}

//export hrgoCopierTableEnd
func hrgoCopierTableEnd(ctx C.uintptr_t, schema, table *C.char, rows, bytes C.uint64_t) (rc C.int) {
	st := copierStateOf(ctx)
	defer st.recoverPanic(&rc)
	return st.status(st.ccb.OnTableEnd(C.GoString(schema), C.GoString(table), uint64(rows), uint64(bytes)))
}
