package heliosrepl

// The applier's options (hr_applier_opts of apply.h).

/*
#include <stdlib.h>
#include <heliosrepl/apply.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// ApplierOpts is an hr_applier_opts builder. Every setter copies its
// argument and returns nil, or an *Error (EINVAL with the library's message
// in Errmsg, ENOMEM, ECLOSED after Close). It holds a reference to its Env;
// Close frees it (the finalizer does too).
type ApplierOpts struct {
	_   noCopy
	ptr *C.hr_applier_opts
	env *Env
}

// NewApplierOpts creates options with the defaults.
func NewApplierOpts(env *Env) (*ApplierOpts, error) {
	if env == nil {
		return nil, errInvalid("nil Env")
	}
	cenv, err := env.adopt(false)
	if err != nil {
		return nil, err
	}
	var ptr *C.hr_applier_opts
	if rc := C.hr_applier_opts_new(cenv, &ptr); rc != C.HR_OK {
		env.disown()
		return nil, newError(rc, "hr_applier_opts_new failed")
	}
	o := &ApplierOpts{ptr: ptr, env: env}
	runtime.SetFinalizer(o, (*ApplierOpts).Close)
	return o, nil
}

// Close frees the options. Closing twice is a no-op.
func (o *ApplierOpts) Close() {
	if o.ptr == nil {
		return
	}
	C.hr_applier_opts_free(o.ptr)
	o.ptr = nil
	runtime.SetFinalizer(o, nil)
	o.env.disown()
}

// Errmsg returns the message of the last failed setter, or "".
func (o *ApplierOpts) Errmsg() string {
	if o.ptr == nil {
		return ""
	}
	msg := C.GoString(C.hr_applier_opts_errmsg(o.ptr))
	runtime.KeepAlive(o)
	return msg
}

func errApplierOptsClosed() error { return newError(C.HR_ECLOSED, "the ApplierOpts is closed") }

func (o *ApplierOpts) check(rc C.int) error {
	runtime.KeepAlive(o)
	if rc == C.HR_OK {
		return nil
	}
	return newError(rc, o.Errmsg())
}

func (o *ApplierOpts) setString(what, value string, fn func(*C.hr_applier_opts, *C.char) C.int) error {
	if o.ptr == nil {
		return errApplierOptsClosed()
	}
	cs, err := cString(value, what)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cs))
	return o.check(fn(o.ptr, cs))
}

func (o *ApplierOpts) setSize(what string, value int, fn func(*C.hr_applier_opts, C.size_t) C.int) error {
	if o.ptr == nil {
		return errApplierOptsClosed()
	}
	if value < 0 {
		return errInvalid("%s %d is negative", what, value)
	}
	return o.check(fn(o.ptr, C.size_t(value)))
}

// SetConninfo sets the libpq connection string of the target (required).
func (o *ApplierOpts) SetConninfo(conninfo string) error {
	return o.setString("conninfo", conninfo, func(p *C.hr_applier_opts, s *C.char) C.int {
		return C.hr_applier_opts_set_conninfo(p, s)
	})
}

// SetSourceID names the source in the checkpoints: 1..63 of [A-Za-z0-9_.-]
// (default "default").
func (o *ApplierOpts) SetSourceID(id string) error {
	return o.setString("source id", id, func(p *C.hr_applier_opts, s *C.char) C.int {
		return C.hr_applier_opts_set_source_id(p, s)
	})
}

// SetMetaSchema sets the schema of the applier's own tables (default
// "heliosrepl").
func (o *ApplierOpts) SetMetaSchema(schema string) error {
	return o.setString("meta schema", schema, func(p *C.hr_applier_opts, s *C.char) C.int {
		return C.hr_applier_opts_set_meta_schema(p, s)
	})
}

// SetTenantColumn sets the tenant column, for truncates (default
// "tenant_id").
func (o *ApplierOpts) SetTenantColumn(column string) error {
	return o.setString("tenant column", column, func(p *C.hr_applier_opts, s *C.char) C.int {
		return C.hr_applier_opts_set_tenant_column(p, s)
	})
}

// SetGroupRows closes a target transaction after this many rows (default
// 20000; 1 = one source transaction per target transaction).
func (o *ApplierOpts) SetGroupRows(rows int) error {
	return o.setSize("group rows", rows, func(p *C.hr_applier_opts, n C.size_t) C.int {
		return C.hr_applier_opts_set_group_rows(p, n)
	})
}

// SetGroupBytes closes a target transaction after this many bytes of
// values (default 16 MiB).
func (o *ApplierOpts) SetGroupBytes(bytes int) error {
	return o.setSize("group bytes", bytes, func(p *C.hr_applier_opts, n C.size_t) C.int {
		return C.hr_applier_opts_set_group_bytes(p, n)
	})
}

// SetGroupDelayMs sets how long to wait for more source transactions before
// committing a group that is not full (default 20; 0 = at once).
func (o *ApplierOpts) SetGroupDelayMs(ms int64) error {
	if o.ptr == nil {
		return errApplierOptsClosed()
	}
	return o.check(C.hr_applier_opts_set_group_delay_ms(o.ptr, C.int64_t(ms)))
}

// SetCopyMinRows sends runs of at least this many inserts of one relation
// through COPY (default 64; 0 = never).
func (o *ApplierOpts) SetCopyMinRows(rows int) error {
	return o.setSize("copy min rows", rows, func(p *C.hr_applier_opts, n C.size_t) C.int {
		return C.hr_applier_opts_set_copy_min_rows(p, n)
	})
}

// SetMaxPendingBytes makes Begin return EAGAIN while more than this many
// bytes of submitted changes wait (default 64 MiB).
func (o *ApplierOpts) SetMaxPendingBytes(bytes int) error {
	return o.setSize("max pending bytes", bytes, func(p *C.hr_applier_opts, n C.size_t) C.int {
		return C.hr_applier_opts_set_max_pending_bytes(p, n)
	})
}
