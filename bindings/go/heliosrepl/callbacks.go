package heliosrepl

// A file with //export may only declare in its preamble; the C trampolines
// that call these functions are in trampoline.c.

/*
#include <stdint.h>
*/
import "C"

import "runtime/cgo"

// callbacks holds an Env's Go callbacks. The library receives a cgo.Handle
// to it as the C ctx pointer. It must not refer to the Env, so that an
// unreachable Env can still be finalized.
type callbacks struct {
	monotonic func() uint64
	wall      func() uint64
	log       func(level LogLevel, message string)

	// A panic recovered inside a callback: a panic must not unwind through
	// the library's C frames, so it is re-raised when the C call returns.
	panicked bool
	panicVal interface{}
}

// recoverPanic is deferred by every exported callback.
func (cb *callbacks) recoverPanic() {
	if r := recover(); r != nil && !cb.panicked {
		cb.panicked, cb.panicVal = true, r
	}
}

// repanic re-raises a panic recovered during the last C call, if any.
func (cb *callbacks) repanic() {
	if cb.panicked {
		v := cb.panicVal
		cb.panicked, cb.panicVal = false, nil
		panic(v)
	}
}

func callbacksOf(ctx C.uintptr_t) *callbacks {
	return cgo.Handle(ctx).Value().(*callbacks)
}

//export hrgoMonotonicNs
func hrgoMonotonicNs(ctx C.uintptr_t) C.uint64_t {
	cb := callbacksOf(ctx)
	defer cb.recoverPanic()
	return C.uint64_t(cb.monotonic())
}

//export hrgoWallNs
func hrgoWallNs(ctx C.uintptr_t) C.uint64_t {
	cb := callbacksOf(ctx)
	defer cb.recoverPanic()
	return C.uint64_t(cb.wall())
}

//export hrgoLog
func hrgoLog(ctx C.uintptr_t, level C.int, message *C.char) {
	cb := callbacksOf(ctx)
	defer cb.recoverPanic()
	if cb.log != nil {
		cb.log(LogLevel(level), C.GoString(message))
	}
}
