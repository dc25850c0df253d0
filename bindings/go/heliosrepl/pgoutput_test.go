package heliosrepl

// Tests of PgDecoder fed hand-built pgoutput messages (the layouts of
// tests/unit/test_pgoutput.c).

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

const (
	itemsOID = 16384
	tagsOID  = 16390
)

// --- a big-endian pgoutput builder ---------------------------------------------

type pgb struct{ bytes.Buffer }

func (b *pgb) u8(v byte) *pgb    { b.WriteByte(v); return b }
func (b *pgb) u16(v uint16) *pgb { binary.Write(b, binary.BigEndian, v); return b }
func (b *pgb) u32(v uint32) *pgb { binary.Write(b, binary.BigEndian, v); return b }
func (b *pgb) u64(v uint64) *pgb { binary.Write(b, binary.BigEndian, v); return b }
func (b *pgb) str(s string) *pgb { b.WriteString(s); return b.u8(0) }
func (b *pgb) raw(p []byte) *pgb { b.Write(p); return b }
func (b *pgb) sxid(x uint32) *pgb {
	if x != 0 {
		b.u32(x)
	}
	return b
}

func msg(kind byte) *pgb { b := &pgb{}; return b.u8(kind) }

// wv is a builder value: kind 't', 'b', 'n' (NULL) or 'u' (unchanged TOAST).
type wv struct {
	kind byte
	data string
}

func tv(s string) wv { return wv{'t', s} }
func bv(s string) wv { return wv{'b', s} }

var (
	nullV  = wv{kind: 'n'}
	toastV = wv{kind: 'u'}
)

func (b *pgb) tuple(vals []wv) *pgb {
	b.u16(uint16(len(vals)))
	for _, v := range vals {
		b.u8(v.kind)
		if v.kind == 't' || v.kind == 'b' {
			b.u32(uint32(len(v.data))).raw([]byte(v.data))
		}
	}
	return b
}

// wire is what the decoder gives for builder values.
func wire(vals []wv) []PgValue {
	out := make([]PgValue, len(vals))
	for i, v := range vals {
		out[i].Form = PgValueForm(v.kind)
		if v.kind == 't' || v.kind == 'b' {
			out[i].Data = []byte(v.data)
		}
	}
	return out
}

type pcol struct {
	key    byte
	name   string
	typ    Oid
	typmod int32
}

var (
	itemsCols = []pcol{{1, "id", OidInt8, -1}, {0, "name", OidText, -1}, {0, "data", OidBytea, -1}, {0, "note", OidVarchar, 68}}
	itemsV2   = append(append([]pcol{}, itemsCols...), pcol{0, "price", OidNumeric, 655366})
	tagsCols  = []pcol{{1, "tag", OidText, -1}, {0, "n", OidInt4, -1}}
	row1      = []wv{tv("1"), tv("apple"), bv("\x00\x01\xff"), nullV}
	key1      = []wv{tv("1"), nullV, nullV, nullV}
	row2      = []wv{tv("2"), tv(""), toastV, tv("x")}
)

func mRelation(sxid, oid uint32, schema, name string, ident byte, cols []pcol) []byte {
	b := msg('R').sxid(sxid).u32(oid).str(schema).str(name).u8(ident).u16(uint16(len(cols)))
	for _, c := range cols {
		b.u8(c.key).str(c.name).u32(uint32(c.typ)).u32(uint32(c.typmod))
	}
	return b.Bytes()
}

func mBegin(finalLSN uint64, time int64, xid uint32) []byte {
	return msg('B').u64(finalLSN).u64(uint64(time)).u32(xid).Bytes()
}

func mCommit(lsn, end uint64, time int64) []byte {
	return msg('C').u8(0).u64(lsn).u64(end).u64(uint64(time)).Bytes()
}

func mOrigin(lsn uint64, name string) []byte { return msg('O').u64(lsn).str(name).Bytes() }

func mInsert(sxid, oid uint32, vals []wv) []byte {
	return msg('I').sxid(sxid).u32(oid).u8('N').tuple(vals).Bytes()
}

func mUpdate(oid uint32, oldTag byte, old, vals []wv) []byte {
	b := msg('U').u32(oid)
	if oldTag != 0 {
		b.u8(oldTag).tuple(old)
	}
	return b.u8('N').tuple(vals).Bytes()
}

func mDelete(oid uint32, tag byte, vals []wv) []byte {
	return msg('D').u32(oid).u8(tag).tuple(vals).Bytes()
}

func mTruncate(options byte, oids ...uint32) []byte {
	b := msg('T').u32(uint32(len(oids))).u8(options)
	for _, o := range oids {
		b.u32(o)
	}
	return b.Bytes()
}

func mMessage(transactional bool, lsn uint64, prefix string, content []byte) []byte {
	flag := byte(0)
	if transactional {
		flag = 1
	}
	return msg('M').u8(flag).u64(lsn).str(prefix).u32(uint32(len(content))).raw(content).Bytes()
}

func mStreamStart(xid uint32, first bool) []byte {
	f := byte(0)
	if first {
		f = 1
	}
	return msg('S').u32(xid).u8(f).Bytes()
}

func mStreamCommit(xid uint32, lsn, end uint64, time int64) []byte {
	return msg('c').u32(xid).u8(0).u64(lsn).u64(end).u64(uint64(time)).Bytes()
}

func keepaliveFrame(walEnd uint64, time int64, reply byte) []byte {
	return msg('k').u64(walEnd).u64(uint64(time)).u8(reply).Bytes()
}

// stream wraps messages in XLogData frames at increasing WAL positions.
type stream struct{ lsn uint64 }

func (s *stream) frame(m []byte) []byte {
	if s.lsn == 0 {
		s.lsn = 0x1000
	}
	b := msg('w').u64(s.lsn).u64(s.lsn + 0x80).u64(0x2000000 + s.lsn).raw(m)
	s.lsn += 0x100
	return b.Bytes()
}

func (s *stream) walEnd() uint64 { return s.lsn - 0x100 + 0x80 }

// recorder's callbacks record what they get; hooks may fail.
type recorder struct {
	txns       []*PgTxn
	relations  []*PgRelation
	changed    []bool
	keepalives [][3]any
	messages   [][3]any
	txnHook    func(*PgTxn) error
}

func (r *recorder) callbacks() PgCallbacks {
	return PgCallbacks{
		OnTxn: func(t *PgTxn) error {
			r.txns = append(r.txns, t)
			if r.txnHook != nil {
				return r.txnHook(t)
			}
			return nil
		},
		OnRelation: func(rel *PgRelation, changed bool) error {
			r.relations = append(r.relations, rel)
			r.changed = append(r.changed, changed)
			return nil
		},
		OnKeepalive: func(walEnd uint64, serverTime int64, reply bool) error {
			r.keepalives = append(r.keepalives, [3]any{walEnd, serverTime, reply})
			return nil
		},
		OnMessage: func(lsn uint64, prefix string, content []byte) error {
			r.messages = append(r.messages, [3]any{lsn, prefix, string(content)})
			return nil
		},
	}
}

type pgFixture struct {
	t   *testing.T
	env *Env
	rec *recorder
	dec *PgDecoder
	s   stream
}

func newPgFixture(t *testing.T) *pgFixture {
	f := &pgFixture{t: t, env: newEnv(t), rec: &recorder{}}
	f.dec = f.decoder(f.rec.callbacks())
	return f
}

func (f *pgFixture) decoder(cb PgCallbacks) *PgDecoder {
	f.t.Helper()
	d, err := NewPgDecoder(f.env, cb)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(d.Close)
	return d
}

// feed feeds messages in XLogData frames to d, stopping at the first error.
func (f *pgFixture) feedTo(d *PgDecoder, msgs ...[]byte) error {
	for _, m := range msgs {
		if err := d.Feed(f.s.frame(m)); err != nil {
			return err
		}
	}
	return nil
}

func (f *pgFixture) feed(msgs ...[]byte) {
	f.t.Helper()
	if err := f.feedTo(f.dec, msgs...); err != nil {
		f.t.Fatal(err)
	}
}

func itemsRel() *PgRelation {
	return &PgRelation{OID: itemsOID, Schema: "public", Name: "items", ReplicaIdentity: 'd', Columns: []PgColumn{
		{"id", OidInt8, -1, true}, {"name", OidText, -1, false}, {"data", OidBytea, -1, false}, {"note", OidVarchar, 68, false}}}
}

func TestPgRowsOfEveryForm(t *testing.T) {
	f := newPgFixture(t)
	f.feed(mRelation(0, itemsOID, "public", "items", 'd', itemsCols),
		mBegin(0xA000, 777, 501),
		mInsert(0, itemsOID, row1),
		mUpdate(itemsOID, 'K', key1, row2),
		mUpdate(itemsOID, 0, nil, row2),
		mUpdate(itemsOID, 'O', row1, row2),
		mDelete(itemsOID, 'K', key1),
		mDelete(itemsOID, 'O', row2),
		mCommit(0xA000, 0xA100, 778))
	rel := itemsRel()
	if len(f.rec.relations) != 1 || !reflect.DeepEqual(f.rec.relations[0], rel) || f.rec.changed[0] {
		t.Fatalf("relations %+v, changed %v", f.rec.relations, f.rec.changed)
	}
	if got := rel.KeyColumns(); !reflect.DeepEqual(got, []string{"id"}) {
		t.Errorf("KeyColumns() = %v", got)
	}
	if len(f.rec.txns) != 1 {
		t.Fatalf("%d transactions", len(f.rec.txns))
	}
	txn := f.rec.txns[0]
	if txn.Xid != 501 || txn.CommitLSN != 0xA000 || txn.EndLSN != 0xA100 || txn.CommitTime != 778 ||
		txn.HasOrigin || txn.Origin != "" || txn.OriginLSN != 0 || txn.Streamed || txn.Live() {
		t.Errorf("txn %+v", txn)
	}
	if got := txn.CommitTimeUTC().Format("2006-01-02T15:04:05.000000Z07:00"); got != "2000-01-01T00:00:00.000778Z" {
		t.Errorf("CommitTimeUTC() = %s", got)
	}
	want := []PgChange{
		{Kind: PgChangeInsert, Relation: rel, New: wire(row1)},
		{Kind: PgChangeUpdate, Relation: rel, OldForm: 'K', New: wire(row2), Old: wire(key1)},
		{Kind: PgChangeUpdate, Relation: rel, New: wire(row2)},
		{Kind: PgChangeUpdate, Relation: rel, OldForm: 'O', New: wire(row2), Old: wire(row1)},
		{Kind: PgChangeDelete, Relation: rel, OldForm: 'K', Old: wire(key1)},
		{Kind: PgChangeDelete, Relation: rel, OldForm: 'O', Old: wire(row2)},
	}
	if !reflect.DeepEqual(txn.Changes, want) {
		t.Errorf("changes\n got %+v\nwant %+v", txn.Changes, want)
	}
	for i := range txn.Changes { // one snapshot per relation version
		if txn.Changes[i].Relation != txn.Changes[0].Relation {
			t.Errorf("change %d has its own relation snapshot", i)
		}
	}
	if txn.Changes[0].New[2].Form.String() != "b" || PgChangeDelete.String() != "DELETE" {
		t.Errorf("String(): %s %s", txn.Changes[0].New[2].Form, PgChangeDelete)
	}
	if f.dec.WalEnd() != f.s.walEnd() || f.dec.Errmsg() != "" {
		t.Errorf("WalEnd() = %#x, Errmsg() = %q", f.dec.WalEnd(), f.dec.Errmsg())
	}
}

func TestPgBareMessages(t *testing.T) {
	f := newPgFixture(t)
	for _, m := range [][]byte{mRelation(0, itemsOID, "public", "items", 'd', itemsCols),
		mBegin(0xA000, 777, 501), mInsert(0, itemsOID, row1), mCommit(0xA000, 0xA100, 778)} {
		if err := f.dec.FeedMessage(0, m); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.rec.txns) != 1 || !reflect.DeepEqual(f.rec.txns[0].Changes[0].New, wire(row1)) || f.dec.WalEnd() != 0 {
		t.Errorf("txns %+v, WalEnd %d", f.rec.txns, f.dec.WalEnd())
	}
}

func TestPgOriginTruncateMessages(t *testing.T) {
	f := newPgFixture(t)
	f.feed(mRelation(0, itemsOID, "public", "items", 'd', itemsCols),
		mRelation(0, tagsOID, "app", "tags", 'f', tagsCols),
		mMessage(false, 0x5000, "audit", []byte("hello\x00\xff")),
		mBegin(0xC000, 5, 700),
		mOrigin(0xDEAD, "node_b"),
		mInsert(0, tagsOID, []wv{tv("red"), tv("3")}),
		mMessage(true, 0xC010, "app.note", []byte("in txn")),
		mTruncate(3, itemsOID, tagsOID),
		mTruncate(0, itemsOID),
		mCommit(0xC000, 0xC100, 6),
		mBegin(0xD000, 7, 701),
		mCommit(0xD000, 0xD100, 8))
	if want := [][3]any{{uint64(0x5000), "audit", "hello\x00\xff"}}; !reflect.DeepEqual(f.rec.messages, want) {
		t.Errorf("messages %v", f.rec.messages)
	}
	if len(f.rec.txns) != 2 {
		t.Fatalf("%d transactions", len(f.rec.txns))
	}
	txn := f.rec.txns[0]
	if !txn.HasOrigin || txn.Origin != "node_b" || txn.OriginLSN != 0xDEAD {
		t.Errorf("origin %q %v %#x", txn.Origin, txn.HasOrigin, txn.OriginLSN)
	}
	c := txn.Changes
	if len(c) != 4 || c[0].Kind != PgChangeInsert || c[0].Relation.ReplicaIdentity != 'f' {
		t.Fatalf("changes %+v", c)
	}
	if !reflect.DeepEqual(c[1], PgChange{Kind: PgChangeMessage, Message: &PgMessage{"app.note", []byte("in txn")}}) {
		t.Errorf("message change %+v", c[1])
	}
	// hr_pgtxn_change_truncate_relation names every relation: one snapshot
	// per relation version of the transaction.
	if tr := c[2].Truncate; tr == nil || len(tr.Tables) != 2 || tr.Tables[0] == nil || tr.Tables[1] != c[0].Relation ||
		tr.Tables[0].OID != itemsOID || tr.Tables[0].Schema != "public" || tr.Tables[0].Name != "items" ||
		len(tr.Tables[0].Columns) != len(itemsCols) || tr.Tables[1].Name != "tags" {
		t.Fatalf("truncate tables %+v", c[2].Truncate)
	}
	items := c[2].Truncate.Tables[0]
	if !reflect.DeepEqual(c[2], PgChange{Kind: PgChangeTruncate,
		Truncate: &PgTruncate{[]uint32{itemsOID, tagsOID}, PgTruncateCascade | PgTruncateRestartIdentity,
			[]*PgRelation{items, c[0].Relation}}}) {
		t.Errorf("truncate change %+v", c[2])
	}
	if !reflect.DeepEqual(c[3].Truncate, &PgTruncate{[]uint32{itemsOID}, 0, []*PgRelation{items}}) || c[3].Relation != nil {
		t.Errorf("truncate change %+v", c[3])
	}
	if e := f.rec.txns[1]; e.Xid != 701 || e.EndLSN != 0xD100 || len(e.Changes) != 0 {
		t.Errorf("empty transaction %+v", e)
	}
}

func TestPgKeepalive(t *testing.T) {
	f := newPgFixture(t)
	for _, k := range [][]byte{keepaliveFrame(0xC200, 99, 1), keepaliveFrame(0x10, -5, 0)} {
		if err := f.dec.Feed(k); err != nil {
			t.Fatal(err)
		}
	}
	want := [][3]any{{uint64(0xC200), int64(99), true}, {uint64(0x10), int64(-5), false}}
	if !reflect.DeepEqual(f.rec.keepalives, want) || f.dec.WalEnd() != 0xC200 {
		t.Errorf("keepalives %v, WalEnd %#x", f.rec.keepalives, f.dec.WalEnd())
	}
	he := asError(t, f.dec.Feed(keepaliveFrame(1, 1, 2)), EPROTO)
	if !strings.Contains(he.Message, "offset 17 in keepalive message: reply flag 0x02") {
		t.Errorf("message %q", he.Message)
	}
}

func TestPgSchemaChange(t *testing.T) {
	f := newPgFixture(t)
	f.feed(mRelation(0, itemsOID, "public", "items", 'd', itemsCols),
		mRelation(0, itemsOID, "public", "items", 'd', itemsCols),
		mBegin(0xB000, 1, 600),
		mInsert(0, itemsOID, []wv{tv("10"), tv("pear"), nullV, nullV}),
		mRelation(0, itemsOID, "public", "items", 'd', itemsV2),
		mInsert(0, itemsOID, []wv{tv("11"), tv("pear"), nullV, nullV, tv("9.50")}),
		mCommit(0xB000, 0xB100, 2))
	if !reflect.DeepEqual(f.rec.changed, []bool{false, false, true}) {
		t.Errorf("schema_changed %v", f.rec.changed)
	}
	v2 := f.rec.relations[2]
	if v2.Columns[4] != (PgColumn{"price", OidNumeric, 655366, false}) {
		t.Errorf("new column %+v", v2.Columns[4])
	}
	c := f.rec.txns[0].Changes
	if len(c[0].Relation.Columns) != 4 || !reflect.DeepEqual(c[1].Relation, v2) || !reflect.DeepEqual(f.dec.Relation(itemsOID), v2) {
		t.Errorf("relation versions %+v / %+v", c[0].Relation, c[1].Relation)
	}
}

func TestPgStreamedTransaction(t *testing.T) {
	f := newPgFixture(t)
	f.feed(mStreamStart(900, true),
		mRelation(900, itemsOID, "public", "items", 'd', itemsCols),
		mInsert(900, itemsOID, []wv{tv("7"), tv("s"), nullV, nullV}),
		[]byte{'E'},
		mStreamCommit(900, 0xF000, 0xF100, 12))
	if len(f.rec.txns) != 1 || !f.rec.txns[0].Streamed || f.rec.txns[0].Xid != 900 || f.rec.txns[0].EndLSN != 0xF100 {
		t.Errorf("txns %+v", f.rec.txns)
	}
}

func TestPgRelationLookupAndReset(t *testing.T) {
	f := newPgFixture(t)
	if f.dec.Relation(itemsOID) != nil {
		t.Error("relation before any Relation message")
	}
	f.feed(mRelation(0, itemsOID, "public", "items", 'd', itemsCols))
	if !reflect.DeepEqual(f.dec.Relation(itemsOID), itemsRel()) || f.dec.Relation(tagsOID) != nil {
		t.Errorf("Relation() = %+v", f.dec.Relation(itemsOID))
	}
	f.dec.Reset(true)
	if f.dec.Relation(itemsOID) == nil {
		t.Error("Reset(true) dropped the relation")
	}
	f.dec.Reset(false)
	if f.dec.Relation(itemsOID) != nil {
		t.Error("Reset(false) kept the relation")
	}
}

func TestPgBatchesAreTyped(t *testing.T) {
	f := newPgFixture(t)
	var batches []*Batch
	f.rec.txnHook = func(txn *PgTxn) error {
		if !txn.Live() {
			t.Error("not Live() inside OnTxn")
		}
		var err error
		batches, err = txn.Batches()
		return err
	}
	cols := []pcol{{1, "id", OidInt8, -1}, {0, "name", OidText, -1}, {0, "ok", OidBool, -1}}
	bin := make([]byte, 8)
	binary.BigEndian.PutUint64(bin, uint64(0xFFFFFFFFFFFFFFF9)) // -7
	f.feed(mRelation(0, itemsOID, "public", "items", 'd', cols),
		mRelation(0, tagsOID, "app", "tags", 'f', tagsCols),
		mBegin(0x100, 1, 1),
		mInsert(0, itemsOID, []wv{tv("42"), tv("x"), tv("t")}),
		mUpdate(itemsOID, 'K', []wv{tv("42"), nullV, nullV}, []wv{tv("43"), tv("y"), toastV}),
		mDelete(itemsOID, 'K', []wv{tv("43"), nullV, nullV}),
		mTruncate(0, tagsOID),
		mInsert(0, tagsOID, []wv{tv("red"), tv("3")}),
		mMessage(true, 0x180, "p", []byte("c")),
		mInsert(0, itemsOID, []wv{bv(string(bin)), nullV, tv("f")}),
		mCommit(0x100, 0x200, 2))
	for _, b := range batches {
		t.Cleanup(b.Close)
	}
	if len(batches) != 3 {
		t.Fatalf("%d batches", len(batches))
	}
	items, tags, again := batches[0], batches[1], batches[2]
	if s, n := items.Relation(); s != "public" || n != "items" {
		t.Errorf("relation %s.%s", s, n)
	}
	wantCols := []Column{{"_hr_op", OidInt2, false}, {"id", OidInt8, true}, {"name", OidText, true}, {"ok", OidBool, true}}
	if !reflect.DeepEqual(items.Columns(), wantCols) {
		t.Errorf("columns %+v", items.Columns())
	}
	want := [][]any{
		{int64(1), int64(42), "x", true},
		{int64(4), int64(42), nil, nil},
		{int64(2), int64(43), "y", UnchangedToast},
		{int64(3), int64(43), nil, nil},
	}
	if got := items.Rows(); !reflect.DeepEqual(got, want) {
		t.Errorf("items rows %v", got)
	}
	if got := tags.Rows(); !reflect.DeepEqual(got, [][]any{{int64(1), "red", int64(3)}}) {
		t.Errorf("tags rows %v", got)
	}
	if got := again.Rows(); !reflect.DeepEqual(got, [][]any{{int64(1), int64(-7), nil, false}}) {
		t.Errorf("binary rows %v", got)
	}
	// The snapshot outlives the callback; the conversion does not.
	txn := f.rec.txns[0]
	if len(txn.Changes) != 7 || txn.Live() {
		t.Errorf("%d changes, Live() %v", len(txn.Changes), txn.Live())
	}
	_, err := txn.Batches()
	asError(t, err, ESTATE)
	_, _, err = txn.ToBatch(0, nil)
	asError(t, err, ESTATE)
}

func TestPgTxnCopiesExpireTogether(t *testing.T) {
	f := newPgFixture(t)
	var copied PgTxn
	f.rec.txnHook = func(txn *PgTxn) error {
		copied = *txn
		bs, err := copied.Batches() // a copy converts alike
		for _, b := range bs {
			b.Close()
		}
		if err != nil || len(bs) != 1 {
			t.Errorf("Batches() of a copy: %d, %v", len(bs), err)
		}
		return nil
	}
	f.feed(mRelation(0, tagsOID, "app", "tags", 'f', tagsCols), mBegin(0x100, 1, 1),
		mInsert(0, tagsOID, []wv{tv("t"), tv("9")}), mCommit(0x100, 0x200, 2))
	if copied.Live() {
		t.Error("a copy is still Live() after OnTxn")
	}
	_, err := copied.Batches()
	asError(t, err, ESTATE)
	var zero PgTxn
	_, _, err = zero.ToBatch(0, nil)
	asError(t, err, ESTATE)
}

func TestPgToBatchRunsAndReuse(t *testing.T) {
	f := newPgFixture(t)
	var got []any
	f.rec.txnHook = func(txn *PgTxn) error {
		b, next, err := txn.ToBatch(0, nil)
		if err != nil {
			return err
		}
		t.Cleanup(b.Close)
		got = append(got, b.Rows(), next)
		again, next, err := txn.ToBatch(next, b)
		if err != nil {
			return err
		}
		got = append(got, again == b, b.Rows(), next)
		for _, bad := range []int{2, 3, -1} { // a truncate, out of range
			if _, _, err := txn.ToBatch(bad, nil); !errors.Is(err, EINVAL) {
				t.Errorf("ToBatch(%d) = %v", bad, err)
			}
		}
		return nil
	}
	f.feed(mRelation(0, tagsOID, "app", "tags", 'f', tagsCols),
		mBegin(0x100, 1, 1),
		mInsert(0, tagsOID, []wv{tv("a"), tv("1")}),
		mRelation(0, tagsOID, "app", "tags", 'f', tagsCols[:1]),
		mInsert(0, tagsOID, []wv{tv("b")}),
		mTruncate(1, tagsOID),
		mCommit(0x100, 0x200, 2))
	want := []any{[][]any{{int64(1), "a", int64(1)}}, 1, true, [][]any{{int64(1), "b"}}, 2}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestPgConversionErrorStopsFeed(t *testing.T) {
	f := newPgFixture(t)
	f.rec.txnHook = func(txn *PgTxn) error {
		_, err := txn.Batches()
		return err
	}
	f.feed(mRelation(0, itemsOID, "public", "items", 'd', []pcol{{1, "id", OidInt8, -1}}),
		mBegin(0x100, 1, 1), mInsert(0, itemsOID, []wv{tv("abc")}))
	he := asError(t, f.feedTo(f.dec, mCommit(0x100, 0x200, 2)), EPROTO)
	if !strings.Contains(he.Message, `column "id"`) || !strings.Contains(he.Message, "abc") {
		t.Errorf("message %q", he.Message)
	}
	if f.dec.Errmsg() != "on_txn returned -4" {
		t.Errorf("Errmsg() = %q", f.dec.Errmsg())
	}
}

func TestPgTruncatedMessageIsEPROTO(t *testing.T) {
	f := newPgFixture(t)
	he := asError(t, f.dec.FeedMessage(0x1234ABCD, []byte{'B', 0, 0, 0, 0, 0}), EPROTO)
	want := "offset 1 in Begin message: truncated: final LSN needs 8 bytes, 5 left (WAL 0/1234ABCD)"
	if he.Message != want || f.dec.Errmsg() != want {
		t.Errorf("message %q, Errmsg %q", he.Message, f.dec.Errmsg())
	}
	f.dec.Reset(false)
	he = asError(t, f.feedTo(f.dec, mBegin(0x100, 1, 1)[:6]), EPROTO)
	if !strings.Contains(he.Message, "offset 26 in Begin message: truncated") {
		t.Errorf("message %q", he.Message)
	}
}

func TestPgErrorStateUntilReset(t *testing.T) {
	f := newPgFixture(t)
	f.feed(mRelation(0, itemsOID, "public", "items", 'd', itemsCols),
		mBegin(0x100, 1, 1), mInsert(0, itemsOID, []wv{tv("before"), tv("n"), nullV, nullV}))
	asError(t, f.feedTo(f.dec, nil), EPROTO) // an XLogData frame without a message
	he := asError(t, f.feedTo(f.dec, mCommit(0x100, 0x200, 2)), ESTATE)
	if !strings.Contains(he.Message, "hr_pgdecoder_reset") || !strings.Contains(he.Message, "no pgoutput message") {
		t.Errorf("message %q", he.Message)
	}
	asError(t, f.dec.FeedMessage(0, []byte{'E'}), ESTATE)
	asError(t, f.dec.Feed(keepaliveFrame(1, 1, 0)), ESTATE)
	if len(f.rec.txns) != 0 {
		t.Fatal("a transaction was delivered")
	}
	f.dec.Reset(true)
	if f.dec.Errmsg() != "" {
		t.Errorf("Errmsg() after Reset = %q", f.dec.Errmsg())
	}
	f.feed(mBegin(0x200, 1, 2), mInsert(0, itemsOID, []wv{tv("after"), tv("n"), nullV, nullV}), mCommit(0x200, 0x300, 3))
	if len(f.rec.txns) != 1 || string(f.rec.txns[0].Changes[0].New[0].Data) != "after" {
		t.Errorf("txns %+v", f.rec.txns)
	}
}

type targetError struct{}

func (targetError) Error() string { return "target down" }

func TestPgCallbackErrorStopsFeed(t *testing.T) {
	f := newPgFixture(t)
	f.feed(mRelation(0, itemsOID, "public", "items", 'd', itemsCols))
	txn := [][]byte{mBegin(0x100, 1, 1), mInsert(0, itemsOID, []wv{tv("1"), tv("n"), nullV, nullV}), mCommit(0x100, 0x200, 2)}

	f.rec.txnHook = func(*PgTxn) error { return targetError{} }
	if err := f.feedTo(f.dec, txn...); err != (targetError{}) {
		t.Fatalf("Feed = %v, want the callback's error", err)
	}
	if f.dec.Errmsg() != "on_txn returned -3" {
		t.Errorf("Errmsg() = %q", f.dec.Errmsg())
	}
	// The decoder stays usable; the code of an *Error or Status reaches C.
	f.rec.txnHook = nil
	if err := f.feedTo(f.dec, txn...); err != nil || len(f.rec.txns) != 2 {
		t.Fatalf("Feed = %v after a callback error, %d txns", err, len(f.rec.txns))
	}
	conflict := &Error{Code: ECONFLICT, Name: "HR_ECONFLICT", Message: "target refused"}
	f.rec.txnHook = func(*PgTxn) error { return conflict }
	if err := f.feedTo(f.dec, txn...); err != conflict {
		t.Fatalf("Feed = %v", err)
	}
	if f.dec.Errmsg() != "on_txn returned -9" {
		t.Errorf("Errmsg() = %q", f.dec.Errmsg())
	}
	f.rec.txnHook = func(*PgTxn) error { return EAGAIN }
	if err := f.feedTo(f.dec, txn...); err != EAGAIN || f.dec.Errmsg() != "on_txn returned -7" {
		t.Fatalf("Feed = %v, Errmsg %q", err, f.dec.Errmsg())
	}
}

func TestPgEveryCallbackStopsFeed(t *testing.T) {
	f := newPgFixture(t)
	stop := errors.New("stop")
	d := f.decoder(PgCallbacks{
		OnRelation:  func(*PgRelation, bool) error { return stop },
		OnKeepalive: func(uint64, int64, bool) error { return stop },
		OnMessage:   func(uint64, string, []byte) error { return stop },
	})
	if err := f.feedTo(d, mRelation(0, itemsOID, "public", "items", 'd', itemsCols)); err != stop {
		t.Errorf("on_relation: %v", err)
	}
	if d.Relation(itemsOID) == nil || !strings.Contains(d.Errmsg(), "on_relation") {
		t.Errorf("relation not cached, or Errmsg %q", d.Errmsg())
	}
	if err := d.Feed(keepaliveFrame(5, 5, 0)); err != stop || !strings.Contains(d.Errmsg(), "on_keepalive") {
		t.Errorf("on_keepalive: %v, %q", err, d.Errmsg())
	}
	if err := f.feedTo(d, mMessage(false, 1, "p", []byte("c"))); err != stop || !strings.Contains(d.Errmsg(), "on_message") {
		t.Errorf("on_message: %v, %q", err, d.Errmsg())
	}
}

func TestPgCallbackPanicIsReraised(t *testing.T) {
	f := newPgFixture(t)
	f.rec.txnHook = func(*PgTxn) error { panic("boom") }
	f.feed(mRelation(0, itemsOID, "public", "items", 'd', itemsCols), mBegin(0x100, 1, 1))
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v", r)
			}
		}()
		f.dec.Feed(f.s.frame(mCommit(0x100, 0x200, 2)))
		t.Error("Feed did not panic")
	}()
	if f.dec.Errmsg() != "on_txn returned -3" {
		t.Errorf("Errmsg() = %q", f.dec.Errmsg())
	}
	f.rec.txnHook = nil
	f.feed(mBegin(0x300, 1, 3), mCommit(0x300, 0x400, 4)) // still usable
}

func TestPgCallbacksCannotReenter(t *testing.T) {
	f := newPgFixture(t)
	var got []any
	f.rec.txnHook = func(*PgTxn) error {
		d := f.dec
		for _, err := range []error{d.Feed(keepaliveFrame(1, 1, 0)), d.FeedMessage(0, []byte{'E'}),
			d.SetParam(PgParamMaxTxnBytes, 1<<20)} {
			got = append(got, errors.Is(err, ESTATE))
		}
		func() {
			defer func() { got = append(got, recover() != nil) }()
			d.Reset(false)
		}()
		got = append(got, d.Relation(itemsOID).OID, d.WalEnd() > 0, d.Errmsg())
		d.Close() // takes effect when the feed returns
		got = append(got, d.Closed())
		return nil
	}
	f.feed(mRelation(0, itemsOID, "public", "items", 'd', itemsCols), mBegin(0x100, 1, 1), mCommit(0x100, 0x200, 2))
	if want := []any{true, true, true, true, uint32(itemsOID), true, "", true}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if !f.dec.Closed() {
		t.Error("not closed after the feed")
	}
	asError(t, f.dec.Feed(keepaliveFrame(1, 1, 0)), ECLOSED)
}

func TestPgSetParamAndLimit(t *testing.T) {
	f := newPgFixture(t)
	for _, bad := range []int64{65535, 1 << 41, -1} {
		he := asError(t, f.dec.SetParam(PgParamMaxTxnBytes, bad), EINVAL)
		if !strings.Contains(he.Message, "MAX_TXN_BYTES") {
			t.Errorf("message %q", he.Message)
		}
	}
	asError(t, f.dec.SetParam(99, 1), EINVAL)
	if err := f.dec.SetParam(PgParamMaxTxnBytes, 65536); err != nil {
		t.Fatal(err)
	}
	f.feed(mRelation(0, itemsOID, "public", "items", 'd', itemsCols), mBegin(0x100, 1, 1))
	big := strings.Repeat("x", 20000)
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = f.feedTo(f.dec, mInsert(0, itemsOID, []wv{tv("1"), tv(big), nullV, nullV}))
	}
	he := asError(t, err, ELIMIT)
	if !strings.Contains(he.Message, "MAX_TXN_BYTES") {
		t.Errorf("message %q", he.Message)
	}
	asError(t, f.dec.Feed(keepaliveFrame(1, 1, 0)), ESTATE)
}

func TestPgDecoderLifetime(t *testing.T) {
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	var batches []*Batch
	d, err := NewPgDecoder(env, PgCallbacks{OnTxn: func(txn *PgTxn) error {
		var err error
		batches, err = txn.Batches()
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Env() != env {
		t.Error("Env()")
	}
	env.Close() // the decoder keeps the C env
	if _, err := NewPgDecoder(env, PgCallbacks{}); !errors.Is(err, ECLOSED) {
		t.Errorf("NewPgDecoder on a closed Env: %v", err)
	}
	var s stream
	for _, m := range [][]byte{mRelation(0, tagsOID, "app", "tags", 'f', tagsCols), mBegin(0x100, 1, 1),
		mInsert(0, tagsOID, []wv{tv("t"), tv("9")}), mCommit(0x100, 0x200, 2)} {
		if err := d.Feed(s.frame(m)); err != nil {
			t.Fatal(err)
		}
	}
	if len(batches) != 1 || !reflect.DeepEqual(batches[0].Rows(), [][]any{{int64(1), "t", int64(9)}}) {
		t.Fatalf("batches %v", batches)
	}
	d.Close()
	d.Close()
	if !d.Closed() || env.ptr == nil {
		t.Error("the batch should still hold the env")
	}
	batches[0].Close()
	if env.ptr != nil {
		t.Error("env not released after its last handle")
	}
	asError(t, d.Feed(nil), ECLOSED)
	asError(t, d.FeedMessage(0, nil), ECLOSED)
	asError(t, d.SetParam(PgParamMaxTxnBytes, 65536), ECLOSED)
	for name, call := range map[string]func(){
		"WalEnd": func() { d.WalEnd() }, "Errmsg": func() { d.Errmsg() },
		"Relation": func() { d.Relation(1) }, "Reset": func() { d.Reset(true) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s after Close did not panic", name)
				}
			}()
			call()
		}()
	}
	if _, err := NewPgDecoder(nil, PgCallbacks{}); !errors.Is(err, EINVAL) {
		t.Errorf("NewPgDecoder(nil) = %v", err)
	}
}

func TestPgDecodersAreFinalized(t *testing.T) {
	env := newEnv(t)
	for i := 0; i < 200; i++ {
		d, err := NewPgDecoder(env, PgCallbacks{OnKeepalive: func(uint64, int64, bool) error { return nil }})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Feed(keepaliveFrame(1, 1, 0)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 20; i++ {
		runtime.GC()
		env.mu.Lock()
		n := env.children
		env.mu.Unlock()
		if n == 0 {
			return
		}
	}
	t.Error("unreferenced decoders were not finalized")
}
