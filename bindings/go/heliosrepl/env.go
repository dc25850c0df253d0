package heliosrepl

/*
#include <stdlib.h>
#include "trampoline.h"
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// LogLevel is a log severity (enum hr_log_level); lower is more severe.
type LogLevel int

// The log levels.
const (
	LogError LogLevel = C.HR_LOG_ERROR
	LogWarn  LogLevel = C.HR_LOG_WARN
	LogInfo  LogLevel = C.HR_LOG_INFO
	LogDebug LogLevel = C.HR_LOG_DEBUG
	LogTrace LogLevel = C.HR_LOG_TRACE
)

// Env is an hr_env: the allocator, log sink and clock shared by the
// handles created from it. It uses the C library's allocator.
//
// An Env is used by one goroutine at a time. Methods that return an error
// return an *Error with code ECLOSED after Close; MonotonicNs, WallNs and
// Errmsg panic after Close. A panic inside a clock or log callback is
// re-raised by the Env method during which the library called it (or by
// the method of the Batch or Codec whose call it was).
//
// The handles created from an Env (Batch, Codec) hold a reference to it:
// Close may be called while they are still open. It takes effect at once for
// the Env's own methods and for creating new handles, but the C env and the
// Go callbacks it calls are released only when the last of those handles is
// closed (or finalized).
type Env struct {
	ptr    *C.hr_env
	cb     *callbacks
	handle cgo.Handle // refers to cb; the C ctx of every callback

	mu       sync.Mutex // guards the fields below and ptr's release
	closed   bool       // Close was called
	children int        // open handles created from this Env
}

// NewEnv creates an Env with the system clock and no log sink. It fails
// with EVERSION when the library cannot serve this package (CheckVersion).
func NewEnv() (*Env, error) {
	if err := CheckVersion(); err != nil {
		return nil, err
	}
	var ptr *C.hr_env
	if rc := C.hr_env_new(&ptr, nil); rc != C.HR_OK {
		return nil, newError(rc, "hr_env_new failed")
	}
	cb := &callbacks{}
	e := &Env{ptr: ptr, cb: cb, handle: cgo.NewHandle(cb)}
	runtime.SetFinalizer(e, (*Env).Close)
	return e, nil
}

// Close releases the Env (hr_env_free) and its callbacks - at once, or when
// the last Batch or Codec created from it is closed. Closing twice is a
// no-op.
func (e *Env) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	e.closed = true
	runtime.SetFinalizer(e, nil)
	if e.children == 0 {
		e.releaseLocked()
	}
}

// releaseLocked frees the C env and the callbacks' handle; e.mu is held.
func (e *Env) releaseLocked() {
	if e.ptr == nil {
		return
	}
	C.hr_env_free(e.ptr)
	e.ptr = nil
	e.handle.Delete()
}

// Closed reports whether Close was called.
func (e *Env) Closed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

// cptr returns the C env, or nil after Close.
func (e *Env) cptr() *C.hr_env {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	return e.ptr
}

// live returns the C env, panicking after Close.
func (e *Env) live() *C.hr_env {
	ptr := e.cptr()
	if ptr == nil {
		panic("heliosrepl: Env used after Close")
	}
	return ptr
}

// adopt registers a new child handle and returns the C env to create it
// from. An internal child (a batch a Codec decodes into) may be created
// after Close while the C env is kept for other children. The caller must
// call disown when the child's C handle is freed, or right away if creating
// it failed.
func (e *Env) adopt(internal bool) (*C.hr_env, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ptr == nil || (e.closed && !internal) {
		return nil, errClosed()
	}
	e.children++
	return e.ptr, nil
}

// disown unregisters a child; a closed Env is released after its last.
func (e *Env) disown() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.children--
	if e.closed && e.children == 0 {
		e.releaseLocked()
	}
}

// check turns the result of a C call on e into an error, re-raising first
// any panic of a callback that ran during the call.
func (e *Env) check(rc C.int) error {
	e.cb.repanic()
	if rc == C.HR_OK {
		return nil
	}
	return newError(rc, e.Errmsg())
}

func errClosed() error {
	return newError(C.HR_ECLOSED, "the Env is closed")
}

// Errmsg returns the message of the last failed call on e, or "".
func (e *Env) Errmsg() string {
	msg := C.GoString(C.hr_env_errmsg(e.live()))
	runtime.KeepAlive(e)
	return msg
}

// SetLog sends library log messages at minLevel or more severe to fn; a nil
// fn disables logging. fn runs on the goroutine of the library call that
// logs and must not call back into the handle that is logging. An out of
// range level gives EINVAL.
func (e *Env) SetLog(fn func(level LogLevel, message string), minLevel LogLevel) error {
	ptr := e.cptr()
	if ptr == nil {
		return errClosed()
	}
	enabled := C.int(0)
	if fn != nil {
		enabled = 1
	}
	rc := C.hrgo_env_set_log(ptr, C.uintptr_t(e.handle), enabled, C.int(minLevel))
	runtime.KeepAlive(e)
	if rc == C.HR_OK {
		e.cb.log = fn
	}
	return e.check(rc)
}

// SetClock makes the library read time from the host: monotonic and wall
// return nanoseconds (monotonic never goes backwards; wall counts from the
// Unix epoch, UTC). SetClock(nil, nil) restores the system clock; giving
// only one function gives EINVAL from the library.
func (e *Env) SetClock(monotonic, wall func() uint64) error {
	ptr := e.cptr()
	if ptr == nil {
		return errClosed()
	}
	var rc C.int
	if monotonic == nil && wall == nil {
		rc = C.hr_env_set_clock(ptr, nil)
	} else {
		rc = C.hrgo_env_set_clock(ptr, C.uintptr_t(e.handle),
			boolInt(monotonic != nil), boolInt(wall != nil))
	}
	runtime.KeepAlive(e)
	if rc == C.HR_OK {
		e.cb.monotonic, e.cb.wall = monotonic, wall
	}
	return e.check(rc)
}

// MonotonicNs reads the Env clock's monotonic time in nanoseconds.
func (e *Env) MonotonicNs() uint64 {
	v := C.hr_env_monotonic_ns(e.live())
	runtime.KeepAlive(e)
	e.cb.repanic()
	return uint64(v)
}

// WallNs reads the Env clock's wall time in nanoseconds since the epoch.
func (e *Env) WallNs() uint64 {
	v := C.hr_env_wall_ns(e.live())
	runtime.KeepAlive(e)
	e.cb.repanic()
	return uint64(v)
}

func boolInt(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// logThroughTrampoline delivers a message to e's log sink through the C
// trampoline, as the library would. For the tests: no core call logs yet.
func (e *Env) logThroughTrampoline(level LogLevel, message string) {
	cmsg := C.CString(message)
	defer C.free(unsafe.Pointer(cmsg))
	C.hrgo_log_through_trampoline(C.uintptr_t(e.handle), C.int(level), cmsg)
	e.cb.repanic()
}
