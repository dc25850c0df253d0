package heliosrepl

/*
#include <stdlib.h>
#include "trampoline.h"
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// ---- options ----

// CopierOpts is an hr_copier_opts builder (the source side of a tenant's
// initial copy). Every setter copies its argument and returns nil, or an
// *Error (EINVAL with the library's message in Errmsg, ENOMEM, ECLOSED
// after Close). A CopierOpts holds a reference to its Env; Close frees it
// (the finalizer does too).
type CopierOpts struct {
	_   noCopy
	ptr *C.hr_copier_opts
	env *Env
}

// NewCopierOpts creates options with the defaults.
func NewCopierOpts(env *Env) (*CopierOpts, error) {
	if env == nil {
		return nil, errInvalid("nil Env")
	}
	cenv, err := env.adopt(false)
	if err != nil {
		return nil, err
	}
	var ptr *C.hr_copier_opts
	if rc := C.hr_copier_opts_new(cenv, &ptr); rc != C.HR_OK {
		env.disown()
		return nil, newError(rc, "hr_copier_opts_new failed")
	}
	o := &CopierOpts{ptr: ptr, env: env}
	runtime.SetFinalizer(o, (*CopierOpts).Close)
	return o, nil
}

// Close frees the options. Closing twice is a no-op.
func (o *CopierOpts) Close() {
	if o.ptr == nil {
		return
	}
	C.hr_copier_opts_free(o.ptr)
	o.ptr = nil
	runtime.SetFinalizer(o, nil)
	o.env.disown()
}

// Errmsg returns the message of the last failed setter, or "".
func (o *CopierOpts) Errmsg() string {
	if o.ptr == nil {
		return ""
	}
	msg := C.GoString(C.hr_copier_opts_errmsg(o.ptr))
	runtime.KeepAlive(o)
	return msg
}

func errCopierOptsClosed() error { return newError(C.HR_ECLOSED, "the CopierOpts is closed") }

func (o *CopierOpts) check(rc C.int) error {
	runtime.KeepAlive(o)
	if rc == C.HR_OK {
		return nil
	}
	return newError(rc, o.Errmsg())
}

func (o *CopierOpts) setString(what, value string, fn func(*C.hr_copier_opts, *C.char) C.int) error {
	if o.ptr == nil {
		return errCopierOptsClosed()
	}
	cs, err := cString(value, what)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cs))
	return o.check(fn(o.ptr, cs))
}

// SetConninfo sets the libpq connection string of the source (required).
func (o *CopierOpts) SetConninfo(conninfo string) error {
	return o.setString("conninfo", conninfo, func(p *C.hr_copier_opts, s *C.char) C.int {
		return C.hr_copier_opts_set_conninfo(p, s)
	})
}

// SetTenant sets the tenant id (required): 1..63 bytes of [A-Za-z0-9_.-].
func (o *CopierOpts) SetTenant(tenant string) error {
	return o.setString("tenant", tenant, func(p *C.hr_copier_opts, s *C.char) C.int {
		return C.hr_copier_opts_set_tenant(p, s)
	})
}

// SetTenantColumn sets the tenant column name (default "tenant_id").
func (o *CopierOpts) SetTenantColumn(column string) error {
	return o.setString("column", column, func(p *C.hr_copier_opts, s *C.char) C.int {
		return C.hr_copier_opts_set_tenant_column(p, s)
	})
}

// AddTable adds "schema.table" (or "table": schema public) to copy.
func (o *CopierOpts) AddTable(table string) error {
	return o.setString("table", table, func(p *C.hr_copier_opts, s *C.char) C.int {
		return C.hr_copier_opts_add_table(p, s)
	})
}

// AddSchema copies every table of schema that has the tenant column.
func (o *CopierOpts) AddSchema(schema string) error {
	return o.setString("schema", schema, func(p *C.hr_copier_opts, s *C.char) C.int {
		return C.hr_copier_opts_add_schema(p, s)
	})
}

// SetSnapshot copies in the exported snapshot name (Stream.SnapshotName);
// "" for a snapshot of the copier's own.
func (o *CopierOpts) SetSnapshot(name string) error {
	return o.setString("snapshot", name, func(p *C.hr_copier_opts, s *C.char) C.int {
		return C.hr_copier_opts_set_snapshot(p, s)
	})
}

// AddSkipTable adds "schema.table" (or "table") to the tables not to copy.
func (o *CopierOpts) AddSkipTable(table string) error {
	return o.setString("table", table, func(p *C.hr_copier_opts, s *C.char) C.int {
		return C.hr_copier_opts_add_skip_table(p, s)
	})
}

// SetTablePriority copies "schema.table" (or "table") before the tables of
// a lower priority (default 0; equal priorities in schema, name order).
// priority must be finite.
func (o *CopierOpts) SetTablePriority(table string, priority float64) error {
	return o.setString("table", table, func(p *C.hr_copier_opts, s *C.char) C.int {
		return C.hr_copier_opts_set_table_priority(p, s, C.double(priority))
	})
}

// SetRowsPerBatch sets the rows of one batch, 1..1048576 (default 1024).
func (o *CopierOpts) SetRowsPerBatch(rows int) error {
	if o.ptr == nil {
		return errCopierOptsClosed()
	}
	if rows < 0 {
		rows = 0 // refused by the library, with its message
	}
	return o.check(C.hr_copier_opts_set_rows_per_batch(o.ptr, C.size_t(rows)))
}

// ---- the copier ----

// CopierCallbacks are the host's functions a Copier calls inside Step /
// Run. OnBatch is required; the others may be nil.
//
// OnBatch receives the next batch of a table and owns it when it returns
// nil (close it, or hand it on). Returning EAGAIN (the Status, or an
// *Error with that code) is backpressure: the batch is not taken (do not
// keep it) and the same rows come again at the next step. Any other error
// ends the copy: Step returns that very error (a panic is re-raised once
// the library returned).
type CopierCallbacks struct {
	OnTableBegin func(schema, table string, rowsExpected uint64) error
	OnBatch      func(schema, table string, batch *Batch) error
	OnTableEnd   func(schema, table string, rows, bytes uint64) error
}

// Copier is an hr_copier: it reads a tenant's existing rows from a source
// PostgreSQL inside one snapshot and hands them over as batches ("_hr_op"
// = 1 first, typed as pgoutput's values). The host waits on Fd for
// Interest for at most TimeoutMs, then calls Step; Run is the blocking
// convenience. Every error is final: close the copier and start a new one
// with the completed tables as skip tables.
//
// A Copier holds a reference to its Env. Close frees it (the finalizer
// does too). After Close, methods that return an error return ECLOSED, the
// others panic. One goroutine at a time.
type Copier struct {
	_        noCopy
	ptr      *C.hr_copier
	env      *Env
	st       *copierState
	handle   cgo.Handle
	stepping bool
}

// NewCopier creates a copier from opts (copied). Nothing is connected yet:
// the first Step starts. Errors: EINVAL (missing conninfo or tenant, no
// OnBatch) with the env's message, ENOMEM.
func NewCopier(env *Env, opts *CopierOpts, callbacks CopierCallbacks) (*Copier, error) {
	if env == nil {
		return nil, errInvalid("nil Env")
	}
	if opts == nil {
		return nil, errInvalid("nil CopierOpts")
	}
	if opts.ptr == nil {
		return nil, errCopierOptsClosed()
	}
	if callbacks.OnBatch == nil {
		return nil, errInvalid("CopierCallbacks need OnBatch")
	}
	cenv, err := env.adopt(false)
	if err != nil {
		return nil, err
	}
	var which C.uint
	if callbacks.OnTableBegin != nil {
		which |= C.HRGO_COPIER_ON_TABLE_BEGIN
	}
	if callbacks.OnTableEnd != nil {
		which |= C.HRGO_COPIER_ON_TABLE_END
	}
	st := &copierState{pgState: pgState{env: env}, ccb: callbacks}
	handle := cgo.NewHandle(st)
	var ptr *C.hr_copier
	if rc := C.hrgo_copier_new(cenv, opts.ptr, C.uintptr_t(handle), which, &ptr); rc != C.HR_OK {
		msg := C.GoString(C.hr_env_errmsg(cenv))
		runtime.KeepAlive(opts)
		handle.Delete()
		env.disown()
		if msg == "" {
			msg = "hr_copier_new failed"
		}
		return nil, newError(rc, msg)
	}
	runtime.KeepAlive(opts)
	c := &Copier{ptr: ptr, env: env, st: st, handle: handle}
	runtime.SetFinalizer(c, (*Copier).Close)
	return c, nil
}

// Close frees the copier (closes its connection). Closing twice is a
// no-op; from a callback it does nothing.
func (c *Copier) Close() {
	if c.ptr == nil || c.stepping {
		return
	}
	C.hr_copier_free(c.ptr)
	c.ptr = nil
	c.handle.Delete()
	runtime.SetFinalizer(c, nil)
	c.env.disown()
}

// Closed reports whether Close was called.
func (c *Copier) Closed() bool { return c.ptr == nil }

func (c *Copier) live() *C.hr_copier {
	if c.ptr == nil {
		panic("heliosrepl: Copier used after Close")
	}
	return c.ptr
}

func (c *Copier) usable(what string) error {
	if c.ptr == nil {
		return newError(C.HR_ECLOSED, "the Copier is closed")
	}
	if c.stepping {
		return newError(C.HR_ESTATE, "Copier."+what+" called from a copier callback")
	}
	return nil
}

func (c *Copier) finish(rc C.int) error {
	msg := ""
	if rc < 0 {
		msg = C.GoString(C.hr_copier_errmsg(c.ptr))
	}
	c.stepping = false
	runtime.KeepAlive(c)
	c.env.cb.repanic()
	if err := c.st.outcome(); err != nil {
		return err
	}
	if rc < 0 {
		return newError(rc, msg)
	}
	return nil
}

// Errmsg returns the last failure's message, or "".
func (c *Copier) Errmsg() string {
	msg := C.GoString(C.hr_copier_errmsg(c.live()))
	runtime.KeepAlive(c)
	return msg
}

// Fd returns the socket to wait on, -1 while there is none.
func (c *Copier) Fd() int {
	v := int(C.hr_copier_fd(c.live()))
	runtime.KeepAlive(c)
	return v
}

// Interest returns what to wait for on Fd (0 while a batch is held back).
func (c *Copier) Interest() PollInterest {
	v := PollInterest(C.hr_copier_interest(c.live()))
	runtime.KeepAlive(c)
	return v
}

// TimeoutMs returns the milliseconds until Step must run anyway, from the
// env clock's nowNs: 0 now, -1 no timer.
func (c *Copier) TimeoutMs(nowNs uint64) int64 {
	v := int64(C.hr_copier_timeout_ms(c.live(), C.uint64_t(nowNs)))
	runtime.KeepAlive(c)
	return v
}

// Step does the work that is ready without blocking, at the env clock's
// nowNs (0: Env.MonotonicNs now). Errors: ESCHEMA, EAUTH, ESTATE, EPROTO,
// EIO, ENOMEM, ECLOSED - or a callback's error.
func (c *Copier) Step(nowNs uint64) error {
	if err := c.usable("Step"); err != nil {
		return err
	}
	if nowNs == 0 {
		nowNs = uint64(C.hr_env_monotonic_ns(c.env.ptr))
		c.env.cb.repanic()
	}
	c.stepping = true
	return c.finish(C.hr_copier_step(c.ptr, C.uint64_t(nowNs)))
}

// Run steps until done, an error, or timeoutMs (negative: no limit);
// errors as Step. Done tells whether the copy finished.
func (c *Copier) Run(timeoutMs int64) error {
	if err := c.usable("Run"); err != nil {
		return err
	}
	c.stepping = true
	return c.finish(C.hr_copier_run(c.ptr, C.int64_t(timeoutMs)))
}

// Done reports whether every table is copied.
func (c *Copier) Done() bool {
	v := C.hr_copier_done(c.live()) != 0
	runtime.KeepAlive(c)
	return v
}

// CopyProgress is what hr_copier_progress reports.
type CopyProgress struct {
	RowsDone, RowsExpected, Bytes uint64
	Percent                       float64
}

// Progress returns the rows handed over, the rows expected, the COPY bytes
// read and the percent done.
func (c *Copier) Progress() CopyProgress {
	var done, expected, bytes C.uint64_t
	var pct C.double
	C.hr_copier_progress(c.live(), &done, &expected, &bytes, &pct)
	runtime.KeepAlive(c)
	return CopyProgress{uint64(done), uint64(expected), uint64(bytes), float64(pct)}
}

// SnapshotLSN returns the WAL position of the copier's own snapshot (0
// before it is open and with an exported snapshot).
func (c *Copier) SnapshotLSN() uint64 {
	v := uint64(C.hr_copier_snapshot_lsn(c.live()))
	runtime.KeepAlive(c)
	return v
}
