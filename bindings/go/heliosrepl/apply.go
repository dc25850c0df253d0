package heliosrepl

/*
#include <stdlib.h>
#include "trampoline.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// ApplyOp is a value of a batch's "_hr_op" column (pgoutput.h, apply.h).
type ApplyOp int16

// The ops; values pinned.
const (
	OpInsert    ApplyOp = 1
	OpUpdate    ApplyOp = 2
	OpDelete    ApplyOp = 3
	OpUpdateOld ApplyOp = 4                // an update's old row, right before its new row
	OpTruncate  ApplyOp = C.HR_OP_TRUNCATE // every row of the tenant in the relation
)

// ApplierPhase is what an applier is doing (enum hr_applier_phase).
type ApplierPhase int

// The phases; values pinned.
const (
	ApplierPhaseIdle       ApplierPhase = C.HR_APPLIER_PHASE_IDLE
	ApplierPhaseConnecting ApplierPhase = C.HR_APPLIER_PHASE_CONNECTING
	ApplierPhaseSetup      ApplierPhase = C.HR_APPLIER_PHASE_SETUP
	ApplierPhaseReady      ApplierPhase = C.HR_APPLIER_PHASE_READY
	ApplierPhaseBackoff    ApplierPhase = C.HR_APPLIER_PHASE_BACKOFF
	ApplierPhaseClosed     ApplierPhase = C.HR_APPLIER_PHASE_CLOSED
)

var applierPhaseNames = map[ApplierPhase]string{
	ApplierPhaseIdle: "IDLE", ApplierPhaseConnecting: "CONNECTING", ApplierPhaseSetup: "SETUP",
	ApplierPhaseReady: "READY", ApplierPhaseBackoff: "BACKOFF", ApplierPhaseClosed: "CLOSED",
}

// String returns "IDLE", "CONNECTING", ... or the number of an unknown phase.
func (p ApplierPhase) String() string {
	if name, ok := applierPhaseNames[p]; ok {
		return name
	}
	return fmt.Sprintf("ApplierPhase(%d)", int(p))
}

// ApplierStats are an applier's totals since NewApplier.
type ApplierStats struct {
	TargetTxns, SourceTxns, Rows, Bytes uint64
}

// TruncateBatch returns a one-row truncate batch of relation schema.table:
// applied, it deletes every row of the tenant from that table.
func TruncateBatch(env *Env, schema, table string) (*Batch, error) {
	b, err := BatchFromRows(env, []Column{{Name: "_hr_op", Type: OidInt2}}, [][]any{{int64(OpTruncate)}})
	if err != nil {
		return nil, err
	}
	if err := b.SetRelation(schema, table); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// ---- the applier ----

// ApplierCallbacks are an Applier's callbacks, both optional. They run
// inside Step, on its goroutine, and may call Checkpoint and the submit
// methods (Begin, AddBatch, Commit, Rollback, BeginCopy, FinishCopy,
// SetIdempotentUntil); Step and Resume return ESTATE there, Close takes
// effect when the step returns. The library's callbacks return nothing: a
// panic is recovered, the step carries on, and the panic is re-raised when
// Step returns.
type ApplierCallbacks struct {
	// OnApplied: a target transaction committed; tenant is durably applied
	// up to lsn (confirm it to the stream).
	OnApplied func(tenant string, lsn uint64)
	// OnError: the tenant paused (status ESCHEMA, ECONFLICT, ...); its
	// transaction from lsn on stays queued until Resume.
	OnError func(tenant string, lsn uint64, status Status, message string)
}

// Applier is an hr_applier: it applies tenants' source transactions
// exactly once to a target PostgreSQL. The host waits on Fd / Interest for
// at most TimeoutMs, then calls Step. A lost target connection is not an
// error: the applier reconnects after a back-off (phase BACKOFF).
//
// Submitting a source transaction: Begin(tenant, endLsn), AddBatch for
// each batch ("_hr_op" int2 first), Commit. AddBatch takes the batch over on
// success (see Batch.Moved); on error it stays with the caller.
//
// An Applier holds a reference to its Env. Close frees it (the finalizer
// does too). After Close, methods that return an error return ECLOSED,
// Phase returns ApplierPhaseClosed, the others panic. One goroutine at a
// time.
type Applier struct {
	_      noCopy
	ptr    *C.hr_applier
	env    *Env
	st     *applierState
	handle cgo.Handle

	// Envs of batches taken over from another Env, each adopted once per
	// batch: the library frees those batches through them (see AddBatch).
	batchEnvs map[*Env]int

	stepping       bool // a Step is running: callbacks may be on the stack
	closeRequested bool // Close was called from a callback
}

// NewApplier creates an applier from opts (copied). Nothing is connected
// before the first Step. Errors: EINVAL (no conninfo) with the env's
// message, ENOMEM.
func NewApplier(env *Env, opts *ApplierOpts, callbacks ApplierCallbacks) (*Applier, error) {
	if env == nil {
		return nil, errInvalid("nil Env")
	}
	if opts == nil {
		return nil, errInvalid("nil ApplierOpts")
	}
	if opts.ptr == nil {
		return nil, errApplierOptsClosed()
	}
	cenv, err := env.adopt(false)
	if err != nil {
		return nil, err
	}
	var which C.uint
	if callbacks.OnApplied != nil {
		which |= C.HRGO_APPLIER_ON_APPLIED
	}
	if callbacks.OnError != nil {
		which |= C.HRGO_APPLIER_ON_ERROR
	}
	st := &applierState{cb: callbacks}
	handle := cgo.NewHandle(st)
	var ptr *C.hr_applier
	if rc := C.hrgo_applier_new(cenv, opts.ptr, C.uintptr_t(handle), which, &ptr); rc != C.HR_OK {
		msg := C.GoString(C.hr_env_errmsg(cenv))
		runtime.KeepAlive(opts)
		handle.Delete()
		env.disown()
		if msg == "" {
			msg = "hr_applier_new failed"
		}
		return nil, newError(rc, msg)
	}
	runtime.KeepAlive(opts)
	a := &Applier{ptr: ptr, env: env, st: st, handle: handle}
	runtime.SetFinalizer(a, (*Applier).Close)
	return a, nil
}

// Close frees the applier (hr_applier_free, which frees the batches it
// took); what was not committed on the target is not applied. Closing
// twice is a no-op; from a callback it takes effect when the step returns.
func (a *Applier) Close() {
	if a.stepping {
		a.closeRequested = true
		return
	}
	if a.ptr == nil {
		return
	}
	C.hr_applier_free(a.ptr)
	a.ptr = nil
	a.handle.Delete()
	runtime.SetFinalizer(a, nil)
	for env, n := range a.batchEnvs {
		for ; n > 0; n-- {
			env.disown()
		}
	}
	a.batchEnvs = nil
	a.env.disown()
}

// Closed reports whether Close was called.
func (a *Applier) Closed() bool { return a.ptr == nil || a.closeRequested }

// Env returns the Env the applier was created from.
func (a *Applier) Env() *Env { return a.env }

func errApplierClosed() error { return newError(C.HR_ECLOSED, "the Applier is closed") }

func (a *Applier) live() *C.hr_applier {
	if a.Closed() {
		panic("heliosrepl: Applier used after Close")
	}
	return a.ptr
}

// usable returns nil when a call that must not run from a callback may run.
func (a *Applier) usable(what string) error {
	if a.Closed() {
		return errApplierClosed()
	}
	if a.stepping {
		return newError(C.HR_ESTATE, "Applier."+what+" called from an applier callback")
	}
	return nil
}

func (a *Applier) check(rc C.int) error {
	a.env.cb.repanic()
	if rc == C.HR_OK {
		runtime.KeepAlive(a)
		return nil
	}
	msg := C.GoString(C.hr_applier_errmsg(a.ptr))
	runtime.KeepAlive(a)
	return newError(rc, msg)
}

// Errmsg returns the last failure's message, or "".
func (a *Applier) Errmsg() string {
	msg := C.GoString(C.hr_applier_errmsg(a.live()))
	runtime.KeepAlive(a)
	return msg
}

// Fd returns the target connection's socket, -1 while none.
func (a *Applier) Fd() int {
	v := int(C.hr_applier_fd(a.live()))
	runtime.KeepAlive(a)
	return v
}

// Interest returns what to wait for on Fd.
func (a *Applier) Interest() PollInterest {
	v := PollInterest(C.hr_applier_interest(a.live()))
	runtime.KeepAlive(a)
	return v
}

// TimeoutMs returns the milliseconds until Step must run anyway, from the
// env clock's nowNs (Env.MonotonicNs): 0 means now, -1 no timer.
func (a *Applier) TimeoutMs(nowNs uint64) int64 {
	v := int64(C.hr_applier_timeout_ms(a.live(), C.uint64_t(nowNs)))
	runtime.KeepAlive(a)
	return v
}

// Phase returns what the applier is doing (ApplierPhaseClosed after Close).
func (a *Applier) Phase() ApplierPhase {
	if a.Closed() {
		return ApplierPhaseClosed
	}
	v := ApplierPhase(C.hr_applier_phase(a.ptr))
	runtime.KeepAlive(a)
	return v
}

// Step does the ready work without blocking (hr_applier_step) at the env
// clock's nowNs; 0 means Env.MonotonicNs now. A lost connection is not an
// error; per-tenant failures go to OnError. Errors: EAUTH, EIO (the
// applier retries after a back-off), ENOMEM, ESTATE (from a callback),
// ECLOSED.
func (a *Applier) Step(nowNs uint64) error {
	if err := a.usable("Step"); err != nil {
		return err
	}
	if nowNs == 0 {
		nowNs = uint64(C.hr_env_monotonic_ns(a.env.ptr))
		a.env.cb.repanic()
	}
	a.stepping = true
	rc := C.hr_applier_step(a.ptr, C.uint64_t(nowNs))
	msg := ""
	if rc != C.HR_OK {
		msg = C.GoString(C.hr_applier_errmsg(a.ptr))
	}
	a.stepping = false
	if a.closeRequested {
		a.closeRequested = false
		a.Close()
	}
	runtime.KeepAlive(a)
	a.env.cb.repanic()
	a.st.repanic()
	if rc != C.HR_OK {
		return newError(rc, msg)
	}
	return nil
}

// withTenant calls fn with tenant in C memory.
func (a *Applier) withTenant(tenant string, fn func(*C.char) C.int) error {
	if a.Closed() {
		return errApplierClosed()
	}
	ct, err := cString(tenant, "tenant")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(ct))
	return a.check(fn(ct))
}

// Checkpoint returns the end LSN of the tenant's last applied source
// transaction (0: none). Errors: EAGAIN before the checkpoints are loaded
// (phase READY), EINVAL (bad tenant id).
func (a *Applier) Checkpoint(tenant string) (uint64, error) {
	var lsn C.uint64_t
	err := a.withTenant(tenant, func(ct *C.char) C.int {
		return C.hr_applier_checkpoint(a.ptr, ct, &lsn)
	})
	return uint64(lsn), err
}

// CopyState tells the tenant's initial copy: done when every table was
// copied, else the number of tables already copied. Errors as Checkpoint.
func (a *Applier) CopyState(tenant string) (done bool, tablesDone int, err error) {
	var cdone C.int
	var tables C.size_t
	err = a.withTenant(tenant, func(ct *C.char) C.int {
		return C.hr_applier_copy_state(a.ptr, ct, &cdone, &tables)
	})
	return cdone != 0, int(tables), err
}

// CopyTableDone reports whether the tenant's initial copy of schema.table
// is done (false also before the checkpoints are loaded).
func (a *Applier) CopyTableDone(tenant, schema, table string) bool {
	ptr := a.live()
	strs := [3]*C.char{}
	for k, s := range [3]string{tenant, schema, table} {
		cs, err := cString(s, "name")
		if err != nil {
			for _, done := range strs[:k] {
				C.free(unsafe.Pointer(done))
			}
			return false
		}
		strs[k] = cs
	}
	v := C.hr_applier_copy_table_done(ptr, strs[0], strs[1], strs[2]) != 0
	for _, cs := range strs {
		C.free(unsafe.Pointer(cs))
	}
	runtime.KeepAlive(a)
	return v
}

// Begin opens a source transaction of tenant ending at endLsn. Errors:
// EAGAIN (backpressure: Step, then retry), ESTATE (a transaction is open,
// the tenant is paused, the checkpoints are not loaded, endLsn not above
// the tenant's last), EINVAL (bad tenant id).
func (a *Applier) Begin(tenant string, endLsn uint64) error {
	return a.withTenant(tenant, func(ct *C.char) C.int {
		return C.hr_applier_begin(a.ptr, ct, C.uint64_t(endLsn))
	})
}

// AddBatch adds b to the open transaction. On success the applier owns the
// C batch: b is moved (b.Moved() and b.Closed() are true, b.Close does
// nothing). On error b stays with the caller, unchanged. Errors: EINVAL
// (no "_hr_op" int2 first column, no relation name), ESTATE (no
// transaction open), ECLOSED (a closed or moved batch).
func (a *Applier) AddBatch(b *Batch) error {
	if a.Closed() {
		return errApplierClosed()
	}
	if b == nil {
		return errInvalid("nil Batch")
	}
	if b.ptr == nil {
		return errBatchClosed()
	}
	if err := a.check(C.hr_applier_add_batch(a.ptr, b.ptr)); err != nil {
		return err
	}
	env := b.detach()
	if env == a.env {
		env.disown() // a.env stays adopted by the applier itself
	} else {
		// The library frees the batch through its env, whose callbacks
		// must outlive it: its adoption moves to the applier.
		if a.batchEnvs == nil {
			a.batchEnvs = map[*Env]int{}
		}
		a.batchEnvs[env]++
	}
	return nil
}

// detach hands the C batch over to the applier that took it: b forgets
// the pointer and never frees it. The caller takes over b's adoption of
// its Env, which it returns.
func (b *Batch) detach() *Env {
	b.ptr = nil
	b.moved = true
	b.cols = nil
	if b.scratch != nil {
		C.free(b.scratch)
		b.scratch, b.scratchCap = nil, 0
	}
	runtime.SetFinalizer(b, nil)
	return b.env
}

// Commit closes the open transaction (queued for the target); ESTATE
// without one.
func (a *Applier) Commit() error {
	if a.Closed() {
		return errApplierClosed()
	}
	return a.check(C.hr_applier_commit(a.ptr))
}

// Rollback drops the open transaction and its batches (no-op without one).
func (a *Applier) Rollback() {
	C.hr_applier_rollback(a.live())
	runtime.KeepAlive(a)
}

// BeginCopy opens the initial copy of one table of tenant (AddBatch
// inserts, then Commit). Errors as Begin, and EINVAL for an empty name.
func (a *Applier) BeginCopy(tenant, schema, table string, snapshotLsn uint64) error {
	if a.Closed() {
		return errApplierClosed()
	}
	cs, err := cString(schema, "schema name")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cs))
	ctab, err := cString(table, "table name")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(ctab))
	return a.withTenant(tenant, func(ct *C.char) C.int {
		return C.hr_applier_begin_copy(a.ptr, ct, cs, ctab, C.uint64_t(snapshotLsn))
	})
}

// FinishCopy records the tenant's whole copy as done, its checkpoint lsn.
// Errors as Begin.
func (a *Applier) FinishCopy(tenant string, lsn uint64) error {
	return a.withTenant(tenant, func(ct *C.char) C.int {
		return C.hr_applier_finish_copy(a.ptr, ct, C.uint64_t(lsn))
	})
}

// SetIdempotentUntil applies the tenant's changes up to lsn idempotently
// (a copy resumed with a later snapshot). EINVAL for a bad tenant id.
func (a *Applier) SetIdempotentUntil(tenant string, lsn uint64) error {
	return a.withTenant(tenant, func(ct *C.char) C.int {
		return C.hr_applier_set_idempotent_until(a.ptr, ct, C.uint64_t(lsn))
	})
}

// Resume lets a paused tenant try its queued transaction again; ENOTFOUND
// when it is not paused.
func (a *Applier) Resume(tenant string) error {
	if err := a.usable("Resume"); err != nil {
		return err
	}
	return a.withTenant(tenant, func(ct *C.char) C.int {
		return C.hr_applier_resume(a.ptr, ct)
	})
}

// PendingBytes returns the bytes of submitted changes not yet committed on
// the target.
func (a *Applier) PendingBytes() int {
	v := int(C.hr_applier_pending_bytes(a.live()))
	runtime.KeepAlive(a)
	return v
}

// Stats returns the totals since NewApplier.
func (a *Applier) Stats() ApplierStats {
	var t, s, r, b C.uint64_t
	C.hr_applier_stats(a.live(), &t, &s, &r, &b)
	runtime.KeepAlive(a)
	return ApplierStats{uint64(t), uint64(s), uint64(r), uint64(b)}
}

// applierThroughTrampolines calls OnApplied then OnError through the C
// trampolines, as the library would (the tests use it), then re-raises a
// panic they recovered.
func (a *Applier) applierThroughTrampolines(tenant string, lsn uint64, status Status, message string) {
	ct, cm := C.CString(tenant), C.CString(message)
	defer C.free(unsafe.Pointer(ct))
	defer C.free(unsafe.Pointer(cm))
	C.hrgo_applier_through_trampolines(C.uintptr_t(a.handle), ct, C.uint64_t(lsn), C.int(status), cm)
	a.st.repanic()
}
