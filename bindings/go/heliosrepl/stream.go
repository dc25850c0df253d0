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
	"strings"
	"unsafe"
)

// StreamMode is hr_stream_mode.
type StreamMode int

// The stream modes.
const (
	StreamDedicated StreamMode = C.HR_STREAM_DEDICATED // one tenant, a slot of its own
	StreamShared    StreamMode = C.HR_STREAM_SHARED    // many tenants on one slot
)

// StreamPhase is what a stream is doing (enum hr_stream_phase).
type StreamPhase int

// The phases; values pinned.
const (
	StreamPhaseIdle         StreamPhase = C.HR_STREAM_PHASE_IDLE
	StreamPhaseConnecting   StreamPhase = C.HR_STREAM_PHASE_CONNECTING
	StreamPhaseSetup        StreamPhase = C.HR_STREAM_PHASE_SETUP
	StreamPhaseSnapshotHeld StreamPhase = C.HR_STREAM_PHASE_SNAPSHOT_HELD
	StreamPhaseStreaming    StreamPhase = C.HR_STREAM_PHASE_STREAMING
	StreamPhaseBackoff      StreamPhase = C.HR_STREAM_PHASE_BACKOFF
	StreamPhaseClosed       StreamPhase = C.HR_STREAM_PHASE_CLOSED
	StreamPhaseHeld         StreamPhase = C.HR_STREAM_PHASE_HELD // hold_start: waits for its tenant to move in
)

var streamPhaseNames = map[StreamPhase]string{
	StreamPhaseIdle: "IDLE", StreamPhaseConnecting: "CONNECTING", StreamPhaseSetup: "SETUP",
	StreamPhaseSnapshotHeld: "SNAPSHOT_HELD", StreamPhaseStreaming: "STREAMING",
	StreamPhaseBackoff: "BACKOFF", StreamPhaseClosed: "CLOSED", StreamPhaseHeld: "HELD",
}

// String returns "IDLE", "CONNECTING", ... or the number of an unknown phase.
func (p StreamPhase) String() string {
	if name, ok := streamPhaseNames[p]; ok {
		return name
	}
	return fmt.Sprintf("StreamPhase(%d)", int(p))
}

// StreamRole says how to apply one change of a tenant's transaction
// (enum hr_stream_role).
type StreamRole int

// The roles; values pinned.
const (
	StreamRoleAsIs   StreamRole = C.HR_STREAM_ROLE_AS_IS
	StreamRoleDelete StreamRole = C.HR_STREAM_ROLE_DELETE // an update that moved the row out of the tenant
	StreamRoleInsert StreamRole = C.HR_STREAM_ROLE_INSERT // an update that moved the row into the tenant
)

// PollInterest holds the interest bits of an fd (HR_POLL_IN, HR_POLL_OUT).
type PollInterest int

// The interest bits.
const (
	PollIn  PollInterest = C.HR_POLL_IN
	PollOut PollInterest = C.HR_POLL_OUT
)

// StreamChange is one change of a tenant's transaction: its index in the
// PgTxn and the role to apply it with.
type StreamChange struct {
	Index int
	Role  StreamRole
}

// StreamFd is a socket a stream waits on and what to wait for.
type StreamFd struct {
	Fd       int
	Interest PollInterest
}

// cString copies s to C memory (free it), rejecting embedded NULs.
func cString(s, what string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, errInvalid("%s contains a NUL character", what)
	}
	return C.CString(s), nil
}

// ---- options ----

// StreamOpts is an hr_stream_opts builder. Every setter copies its argument
// and returns nil, or an *Error (EINVAL with the library's message in
// Errmsg, ENOMEM, ECLOSED after Close). A StreamOpts holds a reference to
// its Env; Close frees it (the finalizer does too).
type StreamOpts struct {
	_   noCopy
	ptr *C.hr_stream_opts
	env *Env
}

// NewStreamOpts creates options with the defaults.
func NewStreamOpts(env *Env) (*StreamOpts, error) {
	if env == nil {
		return nil, errInvalid("nil Env")
	}
	cenv, err := env.adopt(false)
	if err != nil {
		return nil, err
	}
	var ptr *C.hr_stream_opts
	if rc := C.hr_stream_opts_new(cenv, &ptr); rc != C.HR_OK {
		env.disown()
		return nil, newError(rc, "hr_stream_opts_new failed")
	}
	o := &StreamOpts{ptr: ptr, env: env}
	runtime.SetFinalizer(o, (*StreamOpts).Close)
	return o, nil
}

// Close frees the options. Closing twice is a no-op.
func (o *StreamOpts) Close() {
	if o.ptr == nil {
		return
	}
	C.hr_stream_opts_free(o.ptr)
	o.ptr = nil
	runtime.SetFinalizer(o, nil)
	o.env.disown()
}

// Errmsg returns the message of the last failed setter, or "".
func (o *StreamOpts) Errmsg() string {
	if o.ptr == nil {
		return ""
	}
	msg := C.GoString(C.hr_stream_opts_errmsg(o.ptr))
	runtime.KeepAlive(o)
	return msg
}

func errStreamOptsClosed() error { return newError(C.HR_ECLOSED, "the StreamOpts is closed") }

func (o *StreamOpts) check(rc C.int) error {
	runtime.KeepAlive(o)
	if rc == C.HR_OK {
		return nil
	}
	return newError(rc, o.Errmsg())
}

func (o *StreamOpts) setString(what, value string, fn func(*C.hr_stream_opts, *C.char) C.int) error {
	if o.ptr == nil {
		return errStreamOptsClosed()
	}
	cs, err := cString(value, what)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cs))
	return o.check(fn(o.ptr, cs))
}

// SetConninfo sets the libpq connection string of the source (required).
func (o *StreamOpts) SetConninfo(conninfo string) error {
	return o.setString("conninfo", conninfo, func(p *C.hr_stream_opts, s *C.char) C.int {
		return C.hr_stream_opts_set_conninfo(p, s)
	})
}

// SetTenant sets the tenant id of a dedicated stream: 1..63 bytes of
// [A-Za-z0-9_.-].
func (o *StreamOpts) SetTenant(tenant string) error {
	return o.setString("tenant", tenant, func(p *C.hr_stream_opts, s *C.char) C.int {
		return C.hr_stream_opts_set_tenant(p, s)
	})
}

// SetTenantColumn sets the tenant column name (default "tenant_id").
func (o *StreamOpts) SetTenantColumn(column string) error {
	return o.setString("tenant column", column, func(p *C.hr_stream_opts, s *C.char) C.int {
		return C.hr_stream_opts_set_tenant_column(p, s)
	})
}

// AddTable adds "schema.table" to the explicit table list.
func (o *StreamOpts) AddTable(table string) error {
	return o.setString("table", table, func(p *C.hr_stream_opts, s *C.char) C.int {
		return C.hr_stream_opts_add_table(p, s)
	})
}

// AddSchema adds every table of schema that has the tenant column.
func (o *StreamOpts) AddSchema(schema string) error {
	return o.setString("schema", schema, func(p *C.hr_stream_opts, s *C.char) C.int {
		return C.hr_stream_opts_add_schema(p, s)
	})
}

// SetSlot sets the slot name, 1..63 of [a-z0-9_].
func (o *StreamOpts) SetSlot(slot string) error {
	return o.setString("slot", slot, func(p *C.hr_stream_opts, s *C.char) C.int {
		return C.hr_stream_opts_set_slot(p, s)
	})
}

// SetPublication sets the publication name (1..63 bytes, no backslash).
func (o *StreamOpts) SetPublication(publication string) error {
	return o.setString("publication", publication, func(p *C.hr_stream_opts, s *C.char) C.int {
		return C.hr_stream_opts_set_publication(p, s)
	})
}

// SetMode sets StreamDedicated (default) or StreamShared.
func (o *StreamOpts) SetMode(mode StreamMode) error {
	if o.ptr == nil {
		return errStreamOptsClosed()
	}
	return o.check(C.hr_stream_opts_set_mode(o.ptr, C.hr_stream_mode(mode)))
}

// SetStartLSN sets the host's checkpoint (dedicated mode; default 0).
func (o *StreamOpts) SetStartLSN(lsn uint64) error {
	if o.ptr == nil {
		return errStreamOptsClosed()
	}
	return o.check(C.hr_stream_opts_set_start_lsn(o.ptr, C.uint64_t(lsn)))
}

// SetBinary asks pgoutput for binary values (default false: text).
func (o *StreamOpts) SetBinary(binary bool) error {
	if o.ptr == nil {
		return errStreamOptsClosed()
	}
	return o.check(C.hr_stream_opts_set_binary(o.ptr, boolInt(binary)))
}

// SetProtoVersion sets the pgoutput protocol, 1 or 2 (default 2).
func (o *StreamOpts) SetProtoVersion(version int) error {
	if o.ptr == nil {
		return errStreamOptsClosed()
	}
	if version < -1<<31 || version > 1<<31-1 {
		return errInvalid("proto version %d out of range", version)
	}
	return o.check(C.hr_stream_opts_set_proto_version(o.ptr, C.int(version)))
}

// SetStatusIntervalMs sets how often standby status updates are sent at
// least (default 10000).
func (o *StreamOpts) SetStatusIntervalMs(ms int64) error {
	if o.ptr == nil {
		return errStreamOptsClosed()
	}
	return o.check(C.hr_stream_opts_set_status_interval_ms(o.ptr, C.int64_t(ms)))
}

// SetHeartbeatIntervalMs sets the heartbeat interval (default 30000; 0
// disables).
func (o *StreamOpts) SetHeartbeatIntervalMs(ms int64) error {
	if o.ptr == nil {
		return errStreamOptsClosed()
	}
	return o.check(C.hr_stream_opts_set_heartbeat_interval_ms(o.ptr, C.int64_t(ms)))
}

// SetExportSnapshot holds the exported snapshot of a slot this stream
// creates until ReleaseSnapshot (default false).
func (o *StreamOpts) SetExportSnapshot(hold bool) error {
	if o.ptr == nil {
		return errStreamOptsClosed()
	}
	return o.check(C.hr_stream_opts_set_export_snapshot(o.ptr, boolInt(hold)))
}

// ---- converting a tenant's changes ----

// StreamToBatch converts the run of changes that starts at changes[first]
// into a typed Batch with the roles applied (hr_stream_to_batch) and
// returns it with the index of the entry after the run. Only inside
// OnTxn (ESTATE afterwards). A non-nil into is reused (cleared first).
//
// Errors: EINVAL (first out of range, an entry that is no row change, a
// role out of range or on a change that is not an update), EPROTO (a
// DELETE-role update without an old tuple, a value that does not parse),
// and those of PgTxn.ToBatch.
func StreamToBatch(txn *PgTxn, changes []StreamChange, first int, into *Batch) (b *Batch, next int, err error) {
	if txn == nil {
		return nil, first, errInvalid("nil PgTxn")
	}
	c := txn.cptr()
	if c == nil {
		return nil, first, errTxnGone()
	}
	if first < 0 || first >= len(changes) {
		return nil, first, errInvalid("entry %d outside a list of %d changes", first, len(changes))
	}
	var entry C.hr_stream_change
	size := C.size_t(unsafe.Sizeof(entry))
	array := (*C.hr_stream_change)(C.malloc(size * C.size_t(len(changes))))
	defer C.free(unsafe.Pointer(array))
	entries := unsafe.Slice(array, len(changes))
	for k, ch := range changes {
		if ch.Index < 0 {
			return nil, first, errInvalid("entry %d: change index %d", k, ch.Index)
		}
		entries[k].index = C.size_t(ch.Index)
		entries[k].role = C.int(ch.Role)
	}
	out := into
	if out == nil {
		if out, err = newBatch(txn.env, true); err != nil {
			return nil, first, err
		}
	} else if out.ptr == nil {
		return nil, first, errBatchClosed()
	}
	out.cols, out.partial = nil, false // the conversion replaces the schema
	var after C.size_t
	if err := out.check(C.hr_stream_to_batch(c, array, C.size_t(len(changes)), C.size_t(first), out.ptr, &after)); err != nil {
		if into == nil {
			out.Close()
		}
		return nil, first, err
	}
	return out, int(after), nil
}

// StreamBatches converts every run of changes into a typed Batch (see
// StreamToBatch), in order; entries that are not row changes (TRUNCATE)
// are skipped. Only inside OnTxn. The caller owns the batches; on error
// none is returned.
func StreamBatches(txn *PgTxn, changes []StreamChange) ([]*Batch, error) {
	if txn == nil {
		return nil, errInvalid("nil PgTxn")
	}
	if txn.cptr() == nil {
		return nil, errTxnGone()
	}
	var out []*Batch
	for i := 0; i < len(changes); {
		idx := changes[i].Index
		if idx < 0 || idx >= len(txn.Changes) || !txn.Changes[idx].Kind.IsRow() {
			i++
			continue
		}
		b, next, err := StreamToBatch(txn, changes, i, nil)
		if err != nil {
			for _, done := range out {
				done.Close()
			}
			return nil, err
		}
		out = append(out, b)
		i = next
	}
	return out, nil
}

// ---- the stream ----

// StreamCallbacks are a Stream's callbacks; OnTxn is required (the library
// refuses a stream without it), OnSchemaChange may be nil. They run inside
// Step / Run, on its goroutine.
//
// A callback returns nil to go on, or an error: Step returns that very
// error (a panic is re-raised once the library returned); the library is
// handed its code when it is an *Error or a Status, HR_EIO otherwise. The
// stream stays usable; the transaction is handed over again after a
// reconnect unless it was confirmed. Callbacks may call Confirm; Step, Run,
// AddTenant, RemoveTenant, ReleaseSnapshot and Drop return ESTATE there.
type StreamCallbacks struct {
	// OnTxn receives a committed transaction of tenant: txn is a snapshot
	// (see PgTxn), changes the entries of txn that belong to the tenant.
	// Convert them with StreamBatches / StreamToBatch inside the callback.
	OnTxn func(tenant string, txn *PgTxn, changes []StreamChange) error
	// OnSchemaChange receives a relation whose definition changed on the
	// source (before its changes).
	OnSchemaChange func(rel *PgRelation) error
}

// Stream is an hr_stream: one non-blocking logical replication connection
// to a source PostgreSQL, handing over each committed transaction of its
// tenants. The host waits on Fds (or Fd / Interest) for at most TimeoutMs,
// then calls Step; Run is the blocking convenience.
//
// A lost connection, a restarting server and the like are not errors: Step
// returns nil and the stream reconnects after a back-off (phase BACKOFF).
// Other failures are *Error with Errmsg's message.
//
// A Stream holds a reference to its Env. Close frees it (the finalizer does
// too). After Close, methods that return an error return ECLOSED, Phase
// returns StreamPhaseClosed, the others panic. One goroutine at a time.
type Stream struct {
	_      noCopy
	ptr    *C.hr_stream
	env    *Env
	st     *streamState
	handle cgo.Handle

	stepping       bool // a Step or Run is running: callbacks may be on the stack
	closeRequested bool // Close was called from a callback
}

// NewStream creates a stream from opts (copied). Nothing is connected yet:
// the first Step starts. Errors: EINVAL (missing or conflicting options,
// no OnTxn) with the env's message, ENOMEM.
func NewStream(env *Env, opts *StreamOpts, callbacks StreamCallbacks) (*Stream, error) {
	if env == nil {
		return nil, errInvalid("nil Env")
	}
	if opts == nil {
		return nil, errInvalid("nil StreamOpts")
	}
	if opts.ptr == nil {
		return nil, errStreamOptsClosed()
	}
	cenv, err := env.adopt(false)
	if err != nil {
		return nil, err
	}
	var which C.uint
	if callbacks.OnTxn != nil {
		which |= C.HRGO_STREAM_ON_TXN
	}
	if callbacks.OnSchemaChange != nil {
		which |= C.HRGO_STREAM_ON_SCHEMA_CHANGE
	}
	st := &streamState{pgState: pgState{env: env}, scb: callbacks}
	handle := cgo.NewHandle(st)
	var ptr *C.hr_stream
	if rc := C.hrgo_stream_new(cenv, opts.ptr, C.uintptr_t(handle), which, &ptr); rc != C.HR_OK {
		msg := C.GoString(C.hr_env_errmsg(cenv))
		runtime.KeepAlive(opts)
		handle.Delete()
		env.disown()
		if msg == "" {
			msg = "hr_stream_new failed"
		}
		return nil, newError(rc, msg)
	}
	runtime.KeepAlive(opts)
	s := &Stream{ptr: ptr, env: env, st: st, handle: handle}
	runtime.SetFinalizer(s, (*Stream).Close)
	return s, nil
}

// Close frees the stream (hr_stream_free: closes the connection, drops
// nothing). Closing twice is a no-op; from a callback it takes effect when
// the step returns.
func (s *Stream) Close() {
	if s.stepping {
		s.closeRequested = true
		return
	}
	if s.ptr == nil {
		return
	}
	C.hr_stream_free(s.ptr)
	s.ptr = nil
	s.handle.Delete()
	runtime.SetFinalizer(s, nil)
	s.env.disown()
}

// Closed reports whether Close was called.
func (s *Stream) Closed() bool { return s.ptr == nil || s.closeRequested }

// Env returns the Env the stream was created from.
func (s *Stream) Env() *Env { return s.env }

func errStreamClosed() error { return newError(C.HR_ECLOSED, "the Stream is closed") }

func (s *Stream) live() *C.hr_stream {
	if s.Closed() {
		panic("heliosrepl: Stream used after Close")
	}
	return s.ptr
}

// usable returns nil when a call that must not run from a callback may run.
func (s *Stream) usable(what string) error {
	if s.Closed() {
		return errStreamClosed()
	}
	if s.stepping {
		return newError(C.HR_ESTATE, "Stream."+what+" called from a stream callback")
	}
	return nil
}

// check turns a status of a non-stepping call into an error.
func (s *Stream) check(rc C.int) error {
	s.env.cb.repanic()
	if rc >= 0 {
		runtime.KeepAlive(s)
		return nil
	}
	msg := C.GoString(C.hr_stream_errmsg(s.ptr))
	runtime.KeepAlive(s)
	return newError(rc, msg)
}

// finish ends a stepping call, as PgDecoder's feeding calls do.
func (s *Stream) finish(rc C.int) error {
	msg := ""
	if rc < 0 {
		msg = C.GoString(C.hr_stream_errmsg(s.ptr))
	}
	s.stepping = false
	if s.closeRequested {
		s.closeRequested = false
		s.Close()
	}
	runtime.KeepAlive(s)
	s.env.cb.repanic()
	if err := s.st.outcome(); err != nil {
		return err
	}
	if rc < 0 {
		return newError(rc, msg)
	}
	return nil
}

// Errmsg returns the last failure's message, or "".
func (s *Stream) Errmsg() string {
	msg := C.GoString(C.hr_stream_errmsg(s.live()))
	runtime.KeepAlive(s)
	return msg
}

// Fd returns the replication connection's socket, -1 while none.
func (s *Stream) Fd() int {
	v := int(C.hr_stream_fd(s.live()))
	runtime.KeepAlive(s)
	return v
}

// Interest returns what to wait for on Fd.
func (s *Stream) Interest() PollInterest {
	v := PollInterest(C.hr_stream_interest(s.live()))
	runtime.KeepAlive(s)
	return v
}

// Fds returns every socket the stream waits on now, the replication
// connection's first. Ask again after every step.
func (s *Stream) Fds() ([]StreamFd, error) {
	if s.Closed() {
		return nil, errStreamClosed()
	}
	room := int(C.HR_STREAM_FDS_MAX)
	for {
		mem := C.malloc(C.size_t(2*room) * C.size_t(unsafe.Sizeof(C.int(0))))
		fds := (*C.int)(mem)
		interests := &unsafe.Slice(fds, 2*room)[room]
		n := int(C.hr_stream_fds(s.ptr, fds, interests, C.int(room)))
		if n < 0 {
			C.free(mem)
			return nil, s.check(C.int(n))
		}
		if n <= room {
			all := unsafe.Slice(fds, 2*room)
			out := make([]StreamFd, n)
			for k := range out {
				out[k] = StreamFd{Fd: int(all[k]), Interest: PollInterest(all[room+k])}
			}
			C.free(mem)
			runtime.KeepAlive(s)
			return out, nil
		}
		C.free(mem)
		room = n
	}
}

// TimeoutMs returns the milliseconds until Step must run even if the fds
// stay quiet, from the env clock's nowNs (Env.MonotonicNs): 0 means now,
// -1 no timer.
func (s *Stream) TimeoutMs(nowNs uint64) int64 {
	v := int64(C.hr_stream_timeout_ms(s.live(), C.uint64_t(nowNs)))
	runtime.KeepAlive(s)
	return v
}

// Phase returns what the stream is doing (StreamPhaseClosed after Close).
func (s *Stream) Phase() StreamPhase {
	if s.Closed() {
		return StreamPhaseClosed
	}
	v := StreamPhase(C.hr_stream_phase(s.ptr))
	runtime.KeepAlive(s)
	return v
}

func (s *Stream) now() uint64 {
	v := uint64(C.hr_env_monotonic_ns(s.env.ptr))
	s.env.cb.repanic()
	return v
}

// Step does the work that is ready without blocking (hr_stream_step), at
// the env clock's nowNs; 0 means Env.MonotonicNs now. A lost connection is
// not an error. Errors: ESCHEMA, EAUTH, ESTATE, ENOTFOUND, EUNSUPPORTED,
// ELIMIT, EPROTO, EIO, ENOMEM, ECLOSED - or a callback's error.
func (s *Stream) Step(nowNs uint64) error {
	if err := s.usable("Step"); err != nil {
		return err
	}
	if nowNs == 0 {
		nowNs = s.now()
	}
	s.stepping = true
	return s.finish(C.hr_stream_step(s.ptr, C.uint64_t(nowNs)))
}

// Run steps until timeoutMs passes, polling the fds (negative: until an
// error); errors as Step, and EIO if poll(2) fails.
func (s *Stream) Run(timeoutMs int64) error {
	if err := s.usable("Run"); err != nil {
		return err
	}
	s.stepping = true
	return s.finish(C.hr_stream_run(s.ptr, C.int64_t(timeoutMs)))
}

// optTenant returns tenant in C memory, nil for "" (free it).
func optTenant(tenant string) (*C.char, error) {
	if tenant == "" {
		return nil, nil
	}
	return cString(tenant, "tenant")
}

// Confirm says the host durably applied everything of tenant ("" in
// dedicated mode) up to lsn. May be called from OnTxn. Errors: EINVAL (no
// tenant in shared mode), ENOTFOUND (unknown tenant).
func (s *Stream) Confirm(tenant string, lsn uint64) error {
	if s.Closed() {
		return errStreamClosed()
	}
	ct, err := optTenant(tenant)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(ct))
	return s.check(C.hr_stream_confirm(s.ptr, ct, C.uint64_t(lsn)))
}

// ConfirmedLsn returns the confirmed position of tenant ("" : the slot's),
// 0 if none.
func (s *Stream) ConfirmedLsn(tenant string) uint64 {
	ptr := s.live()
	ct, err := optTenant(tenant)
	if err != nil {
		return 0
	}
	defer C.free(unsafe.Pointer(ct))
	v := uint64(C.hr_stream_confirmed_lsn(ptr, ct))
	runtime.KeepAlive(s)
	return v
}

// AddTenant adds a tenant to a shared stream with its checkpoint. Errors:
// EINVAL (bad id, already added, dedicated mode), ENOMEM.
func (s *Stream) AddTenant(tenant string, confirmedLsn uint64) error {
	if err := s.usable("AddTenant"); err != nil {
		return err
	}
	ct, err := cString(tenant, "tenant")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(ct))
	return s.check(C.hr_stream_add_tenant(s.ptr, ct, C.uint64_t(confirmedLsn)))
}

// RemoveTenant removes a tenant from a shared stream; ENOTFOUND for an
// unknown one.
func (s *Stream) RemoveTenant(tenant string) error {
	if err := s.usable("RemoveTenant"); err != nil {
		return err
	}
	ct, err := cString(tenant, "tenant")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(ct))
	return s.check(C.hr_stream_remove_tenant(s.ptr, ct))
}

// SnapshotName returns the exported snapshot's name while one is held, ""
// otherwise.
func (s *Stream) SnapshotName() string {
	v := C.hr_stream_snapshot_name(s.live())
	name := ""
	if v != nil {
		name = C.GoString(v)
	}
	runtime.KeepAlive(s)
	return name
}

// ConsistentLsn returns the consistent LSN of a slot this stream created,
// 0 otherwise.
func (s *Stream) ConsistentLsn() uint64 {
	v := uint64(C.hr_stream_consistent_lsn(s.live()))
	runtime.KeepAlive(s)
	return v
}

// ReleaseSnapshot lets the held snapshot go and starts replicating;
// ESTATE when none is held.
func (s *Stream) ReleaseSnapshot() error {
	if err := s.usable("ReleaseSnapshot"); err != nil {
		return err
	}
	return s.check(C.hr_stream_release_snapshot(s.ptr))
}

// Drop removes the slot and the publication from the source (blocking);
// the stream is closed for good afterwards (phase CLOSED). Errors: EIO,
// ESTATE (the slot is in use).
func (s *Stream) Drop() error {
	if err := s.usable("Drop"); err != nil {
		return err
	}
	return s.check(C.hr_stream_drop(s.ptr))
}
