package heliosrepl

/*
#include <stdlib.h>
#include <string.h>
#include <heliosrepl/heliosrepl.h>
*/
import "C"

import (
	"runtime"
	"strconv"
	"strings"
	"unsafe"
)

// TransportKind is what a Transport is (enum hr_transport_kind).
type TransportKind int

// TransportInproc is the in-process transport.
const TransportInproc TransportKind = C.HR_TRANSPORT_INPROC

// TransportParam is a transport parameter (enum hr_transport_param).
type TransportParam int32

// The transport parameters; values pinned.
const (
	TransportMaxMessages TransportParam = C.HR_TRANSPORT_PARAM_MAX_MESSAGES // most messages queued
	TransportMaxBytes    TransportParam = C.HR_TRANSPORT_PARAM_MAX_BYTES    // most payload bytes queued
)

// Message flags (HR_TRANSPORT_*).
const (
	MessageFirst    = uint32(C.HR_TRANSPORT_FIRST)     // first message of its unit
	MessageLast     = uint32(C.HR_TRANSPORT_LAST)      // last message of its unit
	MessageCopy     = uint32(C.HR_TRANSPORT_COPY)      // unit = initial copy of one table
	MessageCopyDone = uint32(C.HR_TRANSPORT_COPY_DONE) // the tenant's initial copy is done
	MessageAbort    = uint32(C.HR_TRANSPORT_ABORT)     // drop the tenant's unfinished unit
)

// MessageMeta is a message's metadata (hr_transport_meta); see
// heliosrepl/transport.h. Seq is set by the transport.
type MessageMeta struct {
	TenantID        string
	Flags           uint32
	LSN             uint64
	CommitTime      int64
	SchemaName      string // with MessageCopy
	TableName       string
	IdempotentUntil uint64 // with MessageCopyDone
	Seq             uint64
}

// Message is a received message: its metadata and a copy of its bytes.
type Message struct {
	Meta MessageMeta
	Data []byte
}

// TransportParamBounds returns the inclusive range of a parameter.
func TransportParamBounds(p TransportParam) (min, max int64, err error) {
	var lo, hi C.int64_t
	if rc := C.hr_transport_param_bounds(C.hr_transport_param(p), &lo, &hi); rc != C.HR_OK {
		return 0, 0, newError(rc, "unknown transport parameter "+strconv.FormatInt(int64(p), 10))
	}
	return int64(lo), int64(hi), nil
}

// Transport is an hr_transport: a bounded FIFO of encoded frames with
// metadata. Close frees it and the messages still queued. One goroutine at
// a time per Transport.
type Transport struct {
	_   noCopy
	ptr *C.hr_transport
	env *Env
}

// NewInprocTransport creates the in-process transport.
func NewInprocTransport(env *Env) (*Transport, error) {
	if env == nil {
		return nil, errInvalid("nil Env")
	}
	cenv, err := env.adopt(false)
	if err != nil {
		return nil, err
	}
	var ptr *C.hr_transport
	if rc := C.hr_transport_new_inproc(cenv, &ptr); rc != C.HR_OK {
		env.disown()
		return nil, newError(rc, "hr_transport_new_inproc failed")
	}
	t := &Transport{ptr: ptr, env: env}
	runtime.SetFinalizer(t, (*Transport).Close)
	return t, nil
}

// Close frees the transport; closing twice is a no-op.
func (t *Transport) Close() {
	if t.ptr == nil {
		return
	}
	C.hr_transport_free(t.ptr)
	t.ptr = nil
	runtime.SetFinalizer(t, nil)
	t.env.disown()
}

func errTransportClosed() error { return newError(C.HR_ECLOSED, "the Transport is closed") }

func (t *Transport) check(rc C.int) error {
	if rc == C.HR_OK {
		return nil
	}
	msg := C.GoString(C.hr_transport_errmsg(t.ptr))
	runtime.KeepAlive(t)
	return newError(rc, msg)
}

// Errmsg returns the message of the last failed call, or "".
func (t *Transport) Errmsg() string {
	if t.ptr == nil {
		panic("heliosrepl: Transport used after Close")
	}
	msg := C.GoString(C.hr_transport_errmsg(t.ptr))
	runtime.KeepAlive(t)
	return msg
}

// Kind returns what the transport is.
func (t *Transport) Kind() TransportKind {
	if t.ptr == nil {
		return 0
	}
	k := TransportKind(C.hr_transport_kind(t.ptr))
	runtime.KeepAlive(t)
	return k
}

// SetParam sets a parameter; EINVAL outside TransportParamBounds.
func (t *Transport) SetParam(p TransportParam, value int64) error {
	if t.ptr == nil {
		return errTransportClosed()
	}
	return t.check(C.hr_transport_set_param(t.ptr, C.hr_transport_param(p), C.int64_t(value)))
}

// Param returns a parameter's value.
func (t *Transport) Param(p TransportParam) (int64, error) {
	if t.ptr == nil {
		return 0, errTransportClosed()
	}
	var v C.int64_t
	rc := C.hr_transport_get_param(t.ptr, C.hr_transport_param(p), &v)
	runtime.KeepAlive(t)
	if rc != C.HR_OK {
		return 0, newError(rc, "unknown transport parameter "+strconv.FormatInt(int64(p), 10))
	}
	return int64(v), nil
}

// Send queues a message (bytes copied) and returns its sequence number.
// EAGAIN when the queue is full (nothing queued), EINVAL for bad metadata.
// meta.Seq is ignored.
func (t *Transport) Send(meta MessageMeta, data []byte) (uint64, error) {
	if t.ptr == nil {
		return 0, errTransportClosed()
	}
	for _, s := range []string{meta.TenantID, meta.SchemaName, meta.TableName} {
		if strings.IndexByte(s, 0) >= 0 {
			return 0, errInvalid("a name in the metadata contains a NUL byte")
		}
	}
	cm := C.hr_transport_meta{size: C.size_t(unsafe.Sizeof(C.hr_transport_meta{}))}
	cm.tenant_id = C.CString(meta.TenantID)
	defer C.free(unsafe.Pointer(cm.tenant_id))
	if meta.SchemaName != "" {
		cm.schema_name = C.CString(meta.SchemaName)
		defer C.free(unsafe.Pointer(cm.schema_name))
	}
	if meta.TableName != "" {
		cm.table_name = C.CString(meta.TableName)
		defer C.free(unsafe.Pointer(cm.table_name))
	}
	cm.flags = C.uint32_t(meta.Flags)
	cm.lsn = C.uint64_t(meta.LSN)
	cm.commit_time = C.int64_t(meta.CommitTime)
	cm.idempotent_until = C.uint64_t(meta.IdempotentUntil)
	p := cBytes(data)
	defer C.free(p)
	if err := t.check(C.hr_transport_send(t.ptr, &cm, (*C.uint8_t)(p), C.size_t(len(data)))); err != nil {
		return 0, err
	}
	return uint64(cm.seq), nil
}

// Writable reports whether a send of n bytes would be accepted now.
func (t *Transport) Writable(n int) bool {
	if t.ptr == nil || n < 0 {
		return false
	}
	ok := C.hr_transport_writable(t.ptr, C.size_t(n)) == 1
	runtime.KeepAlive(t)
	return ok
}

// Recv takes the oldest message; (nil, nil) when nothing is queued.
func (t *Transport) Recv() (*Message, error) {
	if t.ptr == nil {
		return nil, errTransportClosed()
	}
	var m *C.hr_transport_msg
	rc := C.hr_transport_recv(t.ptr, &m)
	if rc == C.HR_EAGAIN {
		return nil, nil
	}
	if err := t.check(rc); err != nil {
		return nil, err
	}
	defer C.hr_transport_msg_free(m)
	cm := C.hr_transport_meta{size: C.size_t(unsafe.Sizeof(C.hr_transport_meta{}))}
	if rc := C.hr_transport_msg_meta(m, &cm); rc != C.HR_OK {
		return nil, newError(rc, "hr_transport_msg_meta failed")
	}
	var n C.size_t
	data := C.hr_transport_msg_data(m, &n)
	out := &Message{Data: C.GoBytes(unsafe.Pointer(data), C.int(n))}
	out.Meta = MessageMeta{
		TenantID:        C.GoString(cm.tenant_id),
		Flags:           uint32(cm.flags),
		LSN:             uint64(cm.lsn),
		CommitTime:      int64(cm.commit_time),
		IdempotentUntil: uint64(cm.idempotent_until),
		Seq:             uint64(cm.seq),
	}
	if cm.schema_name != nil {
		out.Meta.SchemaName = C.GoString(cm.schema_name)
	}
	if cm.table_name != nil {
		out.Meta.TableName = C.GoString(cm.table_name)
	}
	return out, nil
}

// Fd is the socket to wait on (-1: none, as for the in-process transport).
func (t *Transport) Fd() int {
	if t.ptr == nil {
		return -1
	}
	fd := int(C.hr_transport_fd(t.ptr))
	runtime.KeepAlive(t)
	return fd
}

// Interest is what to wait for on Fd (PollIn | PollOut; 0: nothing).
func (t *Transport) Interest() int {
	if t.ptr == nil {
		return 0
	}
	i := int(C.hr_transport_interest(t.ptr))
	runtime.KeepAlive(t)
	return i
}

// TimeoutMs is the milliseconds until Step must run (-1: no timer).
func (t *Transport) TimeoutMs(nowNs uint64) int64 {
	if t.ptr == nil {
		return -1
	}
	v := int64(C.hr_transport_timeout_ms(t.ptr, C.uint64_t(nowNs)))
	runtime.KeepAlive(t)
	return v
}

// Step does the transport's ready I/O (nothing for the in-process one).
func (t *Transport) Step(nowNs uint64) error {
	if t.ptr == nil {
		return errTransportClosed()
	}
	return t.check(C.hr_transport_step(t.ptr, C.uint64_t(nowNs)))
}

// TransportStats are a transport's counters.
type TransportStats struct {
	SentMessages, SentBytes     uint64
	QueuedMessages, QueuedBytes uint64
}

// Stats returns the counters.
func (t *Transport) Stats() TransportStats {
	if t.ptr == nil {
		return TransportStats{}
	}
	var sm, sb C.uint64_t
	var qm, qb C.size_t
	C.hr_transport_stats(t.ptr, &sm, &sb, &qm, &qb)
	runtime.KeepAlive(t)
	return TransportStats{uint64(sm), uint64(sb), uint64(qm), uint64(qb)}
}
