package heliosrepl

// The pgoutput decoder's callbacks, called by the C trampolines in
// trampoline.c. A file with //export may only declare in its preamble.

/*
#include <stdint.h>
#include <heliosrepl/pgoutput.h>
*/
import "C"

import (
	"errors"
	"runtime/cgo"
	"unsafe"
)

// pgState is what a decoder's callbacks need; the library receives a
// cgo.Handle to it as the C ctx pointer. It must not refer to the
// PgDecoder, so that an unreachable decoder can still be finalized.
type pgState struct {
	env *Env // batches made by PgTxn.ToBatch / Batches are created from it
	cb  PgCallbacks

	// What stopped the last feed: the error a callback returned, or a
	// panic recovered inside a callback (a panic must not unwind through
	// the library's C frames). Both are handed to the host when the C call
	// returns.
	err      error
	panicked bool
	panicVal interface{}
}

func pgStateOf(ctx C.uintptr_t) *pgState {
	return cgo.Handle(ctx).Value().(*pgState)
}

// stopStatus is the status a callback that failed with err returns to the
// library: the code of an *Error or Status, HR_EIO for any other error.
func stopStatus(err error) C.int {
	var he *Error
	if errors.As(err, &he) && he.Code < 0 {
		return C.int(he.Code)
	}
	var s Status
	if errors.As(err, &s) && s < 0 {
		return C.int(s)
	}
	return C.HR_EIO
}

// status records a callback's result and returns its C status.
func (st *pgState) status(err error) C.int {
	if err == nil {
		return C.HR_OK
	}
	if st.err == nil {
		st.err = err
	}
	return stopStatus(err)
}

// recoverPanic is deferred by every exported callback: it turns a panic
// into a stop status, kept to be re-raised after the C call.
func (st *pgState) recoverPanic(rc *C.int) {
	if r := recover(); r != nil {
		if !st.panicked {
			st.panicked, st.panicVal = true, r
		}
		*rc = C.HR_EIO
	}
}

// outcome returns (and forgets) what the callbacks of the last C call
// left: it re-raises a panic, or returns the error a callback returned.
func (st *pgState) outcome() error {
	if st.panicked {
		v := st.panicVal
		st.panicked, st.panicVal, st.err = false, nil, nil
		panic(v)
	}
	err := st.err
	st.err = nil
	return err
}

//export hrgoPgTxn
func hrgoPgTxn(ctx C.uintptr_t, txn *C.hr_pgtxn) (rc C.int) {
	st := pgStateOf(ctx)
	defer st.recoverPanic(&rc)
	t := newPgTxn(txn, st.env)
	defer t.expire() // the hr_pgtxn is freed when the callback returns
	return st.status(st.cb.OnTxn(t))
}

//export hrgoPgRelation
func hrgoPgRelation(ctx C.uintptr_t, rel *C.hr_pgrelation, changed C.int) (rc C.int) {
	st := pgStateOf(ctx)
	defer st.recoverPanic(&rc)
	return st.status(st.cb.OnRelation(newPgRelation(rel), changed != 0))
}

//export hrgoPgKeepalive
func hrgoPgKeepalive(ctx C.uintptr_t, walEnd C.uint64_t, serverTime C.int64_t, reply C.int) (rc C.int) {
	st := pgStateOf(ctx)
	defer st.recoverPanic(&rc)
	return st.status(st.cb.OnKeepalive(uint64(walEnd), int64(serverTime), reply != 0))
}

//export hrgoPgMessage
func hrgoPgMessage(ctx C.uintptr_t, lsn C.uint64_t, prefix *C.char, content *C.uint8_t, n C.size_t) (rc C.int) {
	st := pgStateOf(ctx)
	defer st.recoverPanic(&rc)
	return st.status(st.cb.OnMessage(uint64(lsn), C.GoString(prefix), goBytes(unsafe.Pointer(content), n)))
}
