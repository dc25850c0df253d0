package heliosrepl

// The stream's callbacks, called by the C trampolines in trampoline.c. A
// file with //export may only declare in its preamble.

/*
#include <stdint.h>
#include <heliosrepl/stream.h>
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// streamState is what a stream's callbacks need; the library receives a
// cgo.Handle to it as the C ctx pointer. It must not refer to the Stream.
// The embedded pgState keeps the env and what stopped the last step.
type streamState struct {
	pgState
	scb StreamCallbacks
}

func streamStateOf(ctx C.uintptr_t) *streamState {
	return cgo.Handle(ctx).Value().(*streamState)
}

//export hrgoStreamTxn
func hrgoStreamTxn(ctx C.uintptr_t, tenant *C.char, txn *C.hr_pgtxn, changes *C.hr_stream_change, n C.size_t) (rc C.int) {
	st := streamStateOf(ctx)
	defer st.recoverPanic(&rc)
	list := make([]StreamChange, int(n))
	if n > 0 {
		for k, c := range unsafe.Slice(changes, int(n)) {
			list[k] = StreamChange{Index: int(c.index), Role: StreamRole(c.role)}
		}
	}
	t := newPgTxn(txn, st.env)
	defer t.expire() // the hr_pgtxn is freed when the callback returns
	return st.status(st.scb.OnTxn(C.GoString(tenant), t, list))
}

//export hrgoStreamSchemaChange
func hrgoStreamSchemaChange(ctx C.uintptr_t, rel *C.hr_pgrelation) (rc C.int) {
	st := streamStateOf(ctx)
	defer st.recoverPanic(&rc)
	return st.status(st.scb.OnSchemaChange(newPgRelation(rel)))
}
