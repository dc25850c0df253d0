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
	"time"
	"unsafe"
)

// PgChangeKind is what a change does (enum hr_pgchange_kind).
type PgChangeKind int

// The change kinds.
const (
	PgChangeInsert   PgChangeKind = C.HR_PGCHANGE_INSERT
	PgChangeUpdate   PgChangeKind = C.HR_PGCHANGE_UPDATE
	PgChangeDelete   PgChangeKind = C.HR_PGCHANGE_DELETE
	PgChangeTruncate PgChangeKind = C.HR_PGCHANGE_TRUNCATE
	PgChangeMessage  PgChangeKind = C.HR_PGCHANGE_MESSAGE // a transactional logical decoding message
)

var pgChangeKindNames = map[PgChangeKind]string{
	PgChangeInsert: "INSERT", PgChangeUpdate: "UPDATE", PgChangeDelete: "DELETE",
	PgChangeTruncate: "TRUNCATE", PgChangeMessage: "MESSAGE",
}

// String returns "INSERT", "UPDATE", ... or the number of an unknown kind.
func (k PgChangeKind) String() string {
	if name, ok := pgChangeKindNames[k]; ok {
		return name
	}
	return fmt.Sprintf("PgChangeKind(%d)", int(k))
}

// IsRow reports whether k is an insert, update or delete.
func (k PgChangeKind) IsRow() bool {
	return k == PgChangeInsert || k == PgChangeUpdate || k == PgChangeDelete
}

// PgValueForm is the form of one wire value (enum hr_pgvalue_form).
type PgValueForm byte

// The value forms.
const (
	PgValueNull           PgValueForm = C.HR_PGVALUE_NULL
	PgValueUnchangedToast PgValueForm = C.HR_PGVALUE_UNCHANGED_TOAST
	PgValueText           PgValueForm = C.HR_PGVALUE_TEXT
	PgValueBinary         PgValueForm = C.HR_PGVALUE_BINARY
)

// String returns the form's letter: "n", "u", "t" or "b".
func (f PgValueForm) String() string { return string(rune(f)) }

// PgTruncateOption holds the option bits of a TRUNCATE change.
type PgTruncateOption int

// The TRUNCATE options.
const (
	PgTruncateCascade         PgTruncateOption = 1
	PgTruncateRestartIdentity PgTruncateOption = 2
)

// PgDecoderParam is a decoder parameter (enum hr_pgdecoder_param).
type PgDecoderParam int32

// The decoder parameters; values pinned.
const (
	// PgParamMaxTxnBytes: bytes of changes buffered for one open
	// transaction, 65536..2^40, default 1 GiB; beyond it Feed fails with
	// ELIMIT.
	PgParamMaxTxnBytes PgDecoderParam = C.HR_PGDECODER_PARAM_MAX_TXN_BYTES
)

// PgColumn is a column of a relation. Typmod is -1 when the type has none;
// IsKey reports whether the column is part of the replica identity key.
type PgColumn struct {
	Name   string
	Type   Oid
	Typmod int32
	IsKey  bool
}

// PgRelation is a snapshot of a relation version (hr_pgrelation).
// ReplicaIdentity is 'd' (default), 'n' (nothing), 'f' (full) or 'i'
// (index).
type PgRelation struct {
	OID             uint32
	Schema, Name    string
	ReplicaIdentity byte
	Columns         []PgColumn
}

// KeyColumns returns the names of the replica identity key columns.
func (r *PgRelation) KeyColumns() []string {
	var out []string
	for _, c := range r.Columns {
		if c.IsKey {
			out = append(out, c.Name)
		}
	}
	return out
}

// PgValue is one value of a tuple in its wire form: Data holds the text or
// binary bytes, and is nil for NULL and unchanged TOAST.
type PgValue struct {
	Form PgValueForm
	Data []byte
}

// PgTruncate is a TRUNCATE change: the OIDs of its relations, its options,
// and Tables, the snapshot of each relation (its name, to apply the
// truncate; nil for one the library could not name).
type PgTruncate struct {
	Relations []uint32
	Options   PgTruncateOption
	Tables    []*PgRelation
}

// PgMessage is a transactional logical decoding message.
type PgMessage struct {
	Prefix  string
	Content []byte
}

// PgChange is a snapshot of one change of a transaction.
//
// Row changes (insert, update, delete) have Relation (the version in force
// when the change arrived) and their tuples, one PgValue per column: New
// (insert, update) and Old (a delete; an update that sent its old row),
// nil when the change has no such tuple. OldForm says which old tuple: 'K'
// (the replica identity key columns, the others NULL), 'O' (the whole old
// row, REPLICA IDENTITY FULL) or 0. A TRUNCATE has Truncate, a message
// Message.
type PgChange struct {
	Kind     PgChangeKind
	Relation *PgRelation
	OldForm  byte
	New, Old []PgValue
	Truncate *PgTruncate
	Message  *PgMessage
}

// PgTxn is a snapshot of a committed transaction (hr_pgtxn), built during
// the OnTxn callback: every field is a Go copy and stays valid after it.
//
// CommitLSN is the commit record, EndLSN its end: what a standby status
// update confirms once the target applied the transaction. CommitTime
// counts microseconds since 2000-01-01 UTC (see CommitTimeUTC). Origin is
// the replication origin's name when HasOrigin. Streamed reports that the
// transaction arrived in streamed segments. Changes are in commit order.
//
// ToBatch and Batches read the live C transaction, which the library frees
// when OnTxn returns: call them inside OnTxn (afterwards they return
// ESTATE).
type PgTxn struct {
	Xid        uint32
	CommitLSN  uint64
	EndLSN     uint64
	CommitTime int64
	Origin     string
	HasOrigin  bool
	OriginLSN  uint64
	Streamed   bool
	Changes    []PgChange

	live *pgTxnLive // shared by copies of the struct: one expiry for all
	env  *Env
}

// pgTxnLive holds the C transaction while OnTxn runs.
type pgTxnLive struct{ c *C.hr_pgtxn }

// relSnapshots builds one PgRelation per relation version of a callback.
type relSnapshots map[*C.hr_pgrelation]*PgRelation

func (m relSnapshots) get(r *C.hr_pgrelation) *PgRelation {
	rel, ok := m[r]
	if !ok {
		rel = newPgRelation(r)
		m[r] = rel
	}
	return rel
}

// newPgRelation snapshots a live hr_pgrelation.
func newPgRelation(r *C.hr_pgrelation) *PgRelation {
	n := int(C.hr_pgrelation_columns(r))
	rel := &PgRelation{
		OID:             uint32(C.hr_pgrelation_oid(r)),
		Schema:          C.GoString(C.hr_pgrelation_schema(r)),
		Name:            C.GoString(C.hr_pgrelation_name(r)),
		ReplicaIdentity: byte(C.hr_pgrelation_replica_identity(r)),
		Columns:         make([]PgColumn, n),
	}
	for i := 0; i < n; i++ {
		col := C.int(i)
		rel.Columns[i] = PgColumn{
			Name:   C.GoString(C.hr_pgrelation_column_name(r, col)),
			Type:   Oid(C.hr_pgrelation_column_type(r, col)),
			Typmod: int32(C.hr_pgrelation_column_typmod(r, col)),
			IsKey:  C.hr_pgrelation_column_is_key(r, col) != 0,
		}
	}
	return rel
}

// newPgTxn snapshots a live hr_pgtxn (inside the OnTxn callback).
func newPgTxn(c *C.hr_pgtxn, env *Env) *PgTxn {
	t := &PgTxn{
		Xid:        uint32(C.hr_pgtxn_xid(c)),
		CommitLSN:  uint64(C.hr_pgtxn_commit_lsn(c)),
		EndLSN:     uint64(C.hr_pgtxn_end_lsn(c)),
		CommitTime: int64(C.hr_pgtxn_commit_time(c)),
		OriginLSN:  uint64(C.hr_pgtxn_origin_lsn(c)),
		Streamed:   C.hr_pgtxn_streamed(c) != 0,
		live:       &pgTxnLive{c},
		env:        env,
	}
	if origin := C.hr_pgtxn_origin(c); origin != nil {
		t.Origin, t.HasOrigin = C.GoString(origin), true
	}
	n := int(C.hr_pgtxn_changes(c))
	t.Changes = make([]PgChange, n)
	rels := relSnapshots{}
	for i := range t.Changes {
		t.Changes[i] = pgChange(c, C.size_t(i), rels)
	}
	return t
}

// pgTuple reads the values of one tuple of change i.
func pgTuple(c *C.hr_pgtxn, i C.size_t, which C.hr_pgtuple, ncols int) []PgValue {
	out := make([]PgValue, ncols)
	for col := range out {
		var data *C.uint8_t
		var n C.size_t
		form := C.hr_pgtxn_change_value(c, i, which, C.int(col), &data, &n)
		if form < 0 {
			panic(newError(form, fmt.Sprintf("heliosrepl: hr_pgtxn_change_value of change %d column %d", i, col)))
		}
		out[col].Form = PgValueForm(form)
		if out[col].Form == PgValueText || out[col].Form == PgValueBinary {
			out[col].Data = goBytes(unsafe.Pointer(data), n)
		}
	}
	return out
}

func pgChange(c *C.hr_pgtxn, i C.size_t, rels relSnapshots) PgChange {
	ch := PgChange{Kind: PgChangeKind(C.hr_pgtxn_change_kind(c, i))}
	switch {
	case ch.Kind.IsRow():
		ch.Relation = rels.get(C.hr_pgtxn_change_relation(c, i))
		ncols := len(ch.Relation.Columns)
		if form := C.hr_pgtxn_change_old_form(c, i); form > 0 {
			ch.OldForm = byte(form)
			ch.Old = pgTuple(c, i, C.HR_PGTUPLE_OLD, ncols)
		}
		if ch.Kind != PgChangeDelete {
			ch.New = pgTuple(c, i, C.HR_PGTUPLE_NEW, ncols)
		}
	case ch.Kind == PgChangeTruncate:
		var n C.size_t
		var options C.int
		if rc := C.hr_pgtxn_change_truncate(c, i, &n, &options); rc != C.HR_OK {
			panic(newError(rc, fmt.Sprintf("heliosrepl: hr_pgtxn_change_truncate of change %d", i)))
		}
		tr := &PgTruncate{Relations: make([]uint32, int(n)), Options: PgTruncateOption(options),
			Tables: make([]*PgRelation, int(n))}
		for k := range tr.Relations {
			tr.Relations[k] = uint32(C.hr_pgtxn_change_truncate_oid(c, i, C.size_t(k)))
			if rel := C.hr_pgtxn_change_truncate_relation(c, i, C.size_t(k)); rel != nil {
				tr.Tables[k] = rels.get(rel)
			}
		}
		ch.Truncate = tr
	case ch.Kind == PgChangeMessage:
		var prefix *C.char
		var content *C.uint8_t
		var n C.size_t
		if rc := C.hr_pgtxn_change_message(c, i, &prefix, &content, &n); rc != C.HR_OK {
			panic(newError(rc, fmt.Sprintf("heliosrepl: hr_pgtxn_change_message of change %d", i)))
		}
		ch.Message = &PgMessage{Prefix: C.GoString(prefix), Content: goBytes(unsafe.Pointer(content), n)}
	}
	return ch
}

// expire forgets the C transaction when OnTxn returns.
func (t *PgTxn) expire() { t.live.c = nil }

// cptr returns the C transaction, or nil once OnTxn returned (or for a
// PgTxn the decoder did not make).
func (t *PgTxn) cptr() *C.hr_pgtxn {
	if t.live == nil {
		return nil
	}
	return t.live.c
}

// Live reports whether OnTxn is still running: ToBatch and Batches work.
func (t *PgTxn) Live() bool { return t.cptr() != nil }

// CommitTimeUTC returns CommitTime as a time.Time in UTC.
func (t *PgTxn) CommitTimeUTC() time.Time { return MicrosToTime(t.CommitTime) }

func errTxnGone() error {
	return newError(C.HR_ESTATE, "the hr_pgtxn of this PgTxn is gone: call ToBatch / Batches inside OnTxn")
}

// ToBatch converts the run of row changes that starts at change first and
// shares its relation version (hr_pgtxn_to_batch) and returns the batch
// and the index of the change after the run. Only inside OnTxn.
//
// The batch is named after the relation; column 0 is "_hr_op" (int2, NOT
// NULL: 1 insert, 2 update, 3 delete, 4 the old row of an update, right
// before its new row), then the relation's columns with their type OIDs,
// values typed (see Batch; types the batch does not know keep their text
// form). A non-nil into is reused (cleared first) instead of a new Batch.
//
// Errors: EINVAL (first out of range, or not a row change), EPROTO (a value
// that does not parse as its type: the message names the change, row,
// column and value), EUNSUPPORTED (a binary value of a type without a
// binary decoder), ESTATE (after OnTxn returned). On error no new batch is
// returned; into is left empty.
func (t *PgTxn) ToBatch(first int, into *Batch) (b *Batch, next int, err error) {
	c := t.cptr()
	if c == nil {
		return nil, first, errTxnGone()
	}
	if first < 0 || first >= len(t.Changes) {
		return nil, first, errInvalid("change %d outside a transaction of %d changes", first, len(t.Changes))
	}
	if kind := t.Changes[first].Kind; !kind.IsRow() {
		return nil, first, errInvalid("change %d is a %s, not an insert, update or delete", first, kind)
	}
	out := into
	if out == nil {
		if out, err = newBatch(t.env, true); err != nil {
			return nil, first, err
		}
	} else if out.ptr == nil {
		return nil, first, errBatchClosed()
	}
	out.cols, out.partial = nil, false // the conversion replaces the schema
	var after C.size_t
	if err := out.check(C.hr_pgtxn_to_batch(c, C.size_t(first), out.ptr, &after)); err != nil {
		if into == nil {
			out.Close()
		}
		return nil, first, err
	}
	return out, int(after), nil
}

// Batches converts every run of row changes into a typed Batch (see
// ToBatch), in commit order; TRUNCATE and message changes are skipped
// (read them from Changes). Only inside OnTxn. The caller owns the
// batches. On error none is returned.
func (t *PgTxn) Batches() ([]*Batch, error) {
	if t.cptr() == nil {
		return nil, errTxnGone()
	}
	var out []*Batch
	for i := 0; i < len(t.Changes); {
		if !t.Changes[i].Kind.IsRow() {
			i++
			continue
		}
		b, next, err := t.ToBatch(i, nil)
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

// PgCallbacks are a PgDecoder's callbacks; any may be nil. They run inside
// Feed / FeedMessage, on its goroutine.
//
// A callback returns nil to go on, or an error to stop: the feed stops at
// once (the rest of the payload is not decoded) and returns that very
// error; the decoder stays usable. The library is handed the error's code
// when it is an *Error or a Status (see Errmsg: "on_txn returned -9"),
// HR_EIO otherwise. A panic in a callback stops the feed the same way and
// is re-raised by Feed once the library returned.
//
// Callbacks must not call back into their decoder except for Relation,
// WalEnd and Errmsg: Feed, FeedMessage and SetParam return ESTATE there,
// Reset panics, and Close takes effect when the feed returns.
type PgCallbacks struct {
	// OnTxn receives a committed transaction with every change (also one
	// without changes: its EndLSN is still progress to confirm). Streamed
	// transactions arrive whole, at their commit.
	OnTxn func(txn *PgTxn) error
	// OnRelation receives a Relation message; schemaChanged is true when it
	// redefines a cached OID.
	OnRelation func(rel *PgRelation, schemaChanged bool) error
	// OnKeepalive receives a primary keepalive: the server's WAL end, its
	// clock (microseconds since 2000-01-01 UTC), and whether it asks for a
	// standby status update now.
	OnKeepalive func(walEnd uint64, serverTime int64, replyRequested bool) error
	// OnMessage receives a non-transactional logical decoding message.
	OnMessage func(lsn uint64, prefix string, content []byte) error
}

// PgDecoder is an hr_pgdecoder: a sans-I/O decoder of PostgreSQL's logical
// replication stream (the pgoutput plugin, protocol versions 1 and 2).
//
// Feed it the payload of every CopyData message a replication connection
// receives after START_REPLICATION (XLogData 'w' and keepalive 'k'
// frames), or FeedMessage the bare messages of
// pg_logical_slot_get_binary_changes(); it calls back with committed
// transactions, relations, keepalives and messages (PgCallbacks).
//
// What the callbacks receive are snapshots built during the C callback
// (the C transaction is valid only while OnTxn runs): Go copies that stay
// valid afterwards. Converting a transaction's rows into typed batches
// needs the live transaction: PgTxn.ToBatch and PgTxn.Batches work inside
// OnTxn only.
//
// Errors are *Error with the decoder's message: EPROTO names the message
// type and the byte offset in the payload. After EPROTO, ELIMIT or ENOMEM
// the decoder returns ESTATE until Reset.
//
// A PgDecoder holds a reference to its Env. Close frees it (the finalizer
// does too, but do not rely on it). After Close, methods that return an
// error return ECLOSED; the others panic. One goroutine at a time per
// decoder; it must not be copied (use the *PgDecoder).
type PgDecoder struct {
	_      noCopy
	ptr    *C.hr_pgdecoder
	env    *Env
	st     *pgState
	handle cgo.Handle // refers to st; the C ctx of the callbacks

	feeding        bool // a Feed is running: callbacks may be on the stack
	closeRequested bool // Close was called from a callback

	// C memory payloads are copied to before they are passed to the
	// library: no Go pointer is handed to C.
	scratch    unsafe.Pointer
	scratchCap int
}

// NewPgDecoder creates a decoder with no relations cached.
func NewPgDecoder(env *Env, callbacks PgCallbacks) (*PgDecoder, error) {
	if env == nil {
		return nil, errInvalid("nil Env")
	}
	cenv, err := env.adopt(false)
	if err != nil {
		return nil, err
	}
	var which C.uint
	if callbacks.OnTxn != nil {
		which |= C.HRGO_PG_ON_TXN
	}
	if callbacks.OnRelation != nil {
		which |= C.HRGO_PG_ON_RELATION
	}
	if callbacks.OnKeepalive != nil {
		which |= C.HRGO_PG_ON_KEEPALIVE
	}
	if callbacks.OnMessage != nil {
		which |= C.HRGO_PG_ON_MESSAGE
	}
	st := &pgState{env: env, cb: callbacks}
	handle := cgo.NewHandle(st)
	var ptr *C.hr_pgdecoder
	if rc := C.hrgo_pgdecoder_new(cenv, C.uintptr_t(handle), which, &ptr); rc != C.HR_OK {
		handle.Delete()
		env.disown()
		return nil, newError(rc, "hr_pgdecoder_new failed")
	}
	d := &PgDecoder{ptr: ptr, env: env, st: st, handle: handle}
	runtime.SetFinalizer(d, (*PgDecoder).Close)
	return d, nil
}

// Close frees the decoder (hr_pgdecoder_free). Closing twice is a no-op.
// Called from a callback, it takes effect when the feed returns (the
// decoder counts as closed at once).
func (d *PgDecoder) Close() {
	if d.feeding {
		d.closeRequested = true
		return
	}
	if d.ptr == nil {
		return
	}
	C.hr_pgdecoder_free(d.ptr)
	d.ptr = nil
	d.handle.Delete()
	if d.scratch != nil {
		C.free(d.scratch)
		d.scratch, d.scratchCap = nil, 0
	}
	runtime.SetFinalizer(d, nil)
	d.env.disown()
}

// Closed reports whether Close was called.
func (d *PgDecoder) Closed() bool { return d.ptr == nil || d.closeRequested }

// Env returns the Env the decoder was created from.
func (d *PgDecoder) Env() *Env { return d.env }

func errPgDecoderClosed() error { return newError(C.HR_ECLOSED, "the PgDecoder is closed") }

func errInCallback(what string) error {
	return newError(C.HR_ESTATE, "PgDecoder."+what+" called from a decoder callback")
}

func (d *PgDecoder) live() *C.hr_pgdecoder {
	if d.Closed() {
		panic("heliosrepl: PgDecoder used after Close")
	}
	return d.ptr
}

// usable returns nil when a feeding call may run now.
func (d *PgDecoder) usable(what string) error {
	if d.Closed() {
		return errPgDecoderClosed()
	}
	if d.feeding {
		return errInCallback(what)
	}
	return nil
}

// stage copies b into the C scratch memory (at least one byte, never NULL).
func (d *PgDecoder) stage(b []byte) *C.uint8_t {
	n := len(b)
	if n < 256 {
		n = 256
	}
	if d.scratch == nil || d.scratchCap < n {
		if d.scratch != nil {
			C.free(d.scratch)
		}
		d.scratch = C.malloc(C.size_t(n)) // cgo's malloc never returns NULL
		d.scratchCap = n
	}
	copy(unsafe.Slice((*byte)(d.scratch), len(b)), b)
	return (*C.uint8_t)(d.scratch)
}

// finish ends a feeding call: it runs a Close requested by a callback and
// returns what the call gave - re-raising a callback's panic, then the
// error a callback returned, then the library's error.
func (d *PgDecoder) finish(rc C.int) error {
	msg := ""
	if rc != C.HR_OK {
		msg = C.GoString(C.hr_pgdecoder_errmsg(d.ptr))
	}
	d.feeding = false
	if d.closeRequested {
		d.closeRequested = false
		d.Close()
	}
	runtime.KeepAlive(d)
	d.env.cb.repanic()
	if err := d.st.outcome(); err != nil {
		return err
	}
	if rc != C.HR_OK {
		return newError(rc, msg)
	}
	return nil
}

// Feed decodes one CopyData payload: an XLogData ('w') or keepalive ('k')
// frame. Callbacks run from inside. Errors: EPROTO (a malformed or
// out-of-sequence message: type and offset in the message), ESTATE (fed
// after an error without Reset, or from a callback), ELIMIT
// (PgParamMaxTxnBytes), ENOMEM - or the error a callback returned.
func (d *PgDecoder) Feed(payload []byte) error {
	if err := d.usable("Feed"); err != nil {
		return err
	}
	p := d.stage(payload)
	d.feeding = true
	return d.finish(C.hr_pgdecoder_feed(d.ptr, p, C.size_t(len(payload))))
}

// FeedMessage decodes one bare pgoutput message written at WAL position
// lsn (as pg_logical_slot_get_binary_changes() returns them); errors as
// Feed.
func (d *PgDecoder) FeedMessage(lsn uint64, message []byte) error {
	if err := d.usable("FeedMessage"); err != nil {
		return err
	}
	p := d.stage(message)
	d.feeding = true
	return d.finish(C.hr_pgdecoder_feed_message(d.ptr, C.uint64_t(lsn), p, C.size_t(len(message))))
}

// Reset drops open transactions and clears the error state (after a
// reconnect the server sends open transactions again from their start);
// the relation cache is kept only if keepRelations. It panics after Close
// or from a callback.
func (d *PgDecoder) Reset(keepRelations bool) {
	ptr := d.live()
	if d.feeding {
		panic(errInCallback("Reset"))
	}
	C.hr_pgdecoder_reset(ptr, boolInt(keepRelations))
	runtime.KeepAlive(d)
}

// SetParam sets a parameter; EINVAL for an unknown one or a value out of
// range.
func (d *PgDecoder) SetParam(p PgDecoderParam, value int64) error {
	if err := d.usable("SetParam"); err != nil {
		return err
	}
	rc := C.hr_pgdecoder_set_param(d.ptr, C.hr_pgdecoder_param(p), C.int64_t(value))
	d.env.cb.repanic()
	if rc != C.HR_OK {
		msg := C.GoString(C.hr_pgdecoder_errmsg(d.ptr))
		runtime.KeepAlive(d)
		return newError(rc, msg)
	}
	return nil
}

// WalEnd returns the highest WAL end the server reported (XLogData or
// keepalive), 0 before any: what a standby status update reports as
// received.
func (d *PgDecoder) WalEnd() uint64 {
	v := uint64(C.hr_pgdecoder_wal_end(d.live()))
	runtime.KeepAlive(d)
	return v
}

// Relation returns a snapshot of the cached relation with this OID, or nil.
func (d *PgDecoder) Relation(oid uint32) *PgRelation {
	r := C.hr_pgdecoder_relation(d.live(), C.uint32_t(oid))
	var rel *PgRelation
	if r != nil {
		rel = newPgRelation(r)
	}
	runtime.KeepAlive(d)
	return rel
}

// Errmsg returns the message of the last failure, or "" (Reset clears it).
func (d *PgDecoder) Errmsg() string {
	msg := C.GoString(C.hr_pgdecoder_errmsg(d.live()))
	runtime.KeepAlive(d)
	return msg
}
