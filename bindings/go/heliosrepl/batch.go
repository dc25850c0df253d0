package heliosrepl

/*
#include <stdlib.h>
#include <string.h>
#include <heliosrepl/heliosrepl.h>
*/
import "C"

import (
	"fmt"
	"math"
	"reflect"
	"runtime"
	"strings"
	"time"
	"unsafe"
)

// Oid is a PostgreSQL type OID. A column may have any OID; the ones below
// have native encodings, every other one holds bytes (text form).
type Oid uint32

// The type OIDs of batch.h (HR_OID_*).
const (
	OidBool        Oid = C.HR_OID_BOOL
	OidBytea       Oid = C.HR_OID_BYTEA
	OidInt8        Oid = C.HR_OID_INT8
	OidInt2        Oid = C.HR_OID_INT2
	OidInt4        Oid = C.HR_OID_INT4
	OidText        Oid = C.HR_OID_TEXT
	OidJSON        Oid = C.HR_OID_JSON
	OidFloat4      Oid = C.HR_OID_FLOAT4
	OidFloat8      Oid = C.HR_OID_FLOAT8
	OidBpchar      Oid = C.HR_OID_BPCHAR
	OidVarchar     Oid = C.HR_OID_VARCHAR
	OidDate        Oid = C.HR_OID_DATE
	OidTimestamp   Oid = C.HR_OID_TIMESTAMP
	OidTimestamptz Oid = C.HR_OID_TIMESTAMPTZ
	OidNumeric     Oid = C.HR_OID_NUMERIC
	OidUUID        Oid = C.HR_OID_UUID
	OidJSONB       Oid = C.HR_OID_JSONB
)

// Limits a batch enforces.
const (
	MaxColumns = C.HR_BATCH_MAX_COLUMNS // columns in a batch
	MaxName    = C.HR_BATCH_MAX_NAME    // bytes in a column or relation name
)

// ValueState is the state of a cell (enum hr_value_state).
type ValueState int

// The cell states.
const (
	ValuePresent        ValueState = C.HR_VALUE_PRESENT
	ValueNull           ValueState = C.HR_VALUE_NULL
	ValueUnchangedToast ValueState = C.HR_VALUE_UNCHANGED_TOAST
)

// UnchangedToastMarker is the type of UnchangedToast.
type UnchangedToastMarker struct{}

// String returns "UNCHANGED_TOAST".
func (UnchangedToastMarker) String() string { return "UNCHANGED_TOAST" }

// UnchangedToast is pgoutput's "unchanged TOAST value" marker: the old value
// was not sent and must be left as it is on the target. Append it like a
// value; Rows returns it for such cells. It is never the same as nil (NULL).
var UnchangedToast = UnchangedToastMarker{}

// Column declares a column: its name, type OID and whether NULL is allowed.
type Column struct {
	Name     string
	Type     Oid
	Nullable bool
}

// Times are counted from PostgreSQL's epoch, 2000-01-01 00:00 UTC.
const pgEpochUnix = 946684800

// DateToDays returns the days from 2000-01-01 to t's calendar date (in t's
// own location): the value of a date column.
func DateToDays(t time.Time) int64 {
	y, m, d := t.Date()
	return (time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() - pgEpochUnix) / 86400
}

// DaysToDate is the inverse of DateToDays: midnight UTC of that date.
func DaysToDate(days int64) time.Time {
	return time.Unix(pgEpochUnix, 0).UTC().AddDate(0, 0, int(days))
}

// TimeToMicros returns the microseconds from 2000-01-01 00:00 UTC to t
// (rounded down): the value of a timestamp or timestamptz column. ok is
// false when that does not fit an int64.
func TimeToMicros(t time.Time) (micros int64, ok bool) {
	const limit = math.MaxInt64/1_000_000 - 1
	secs := t.Unix() - pgEpochUnix
	if secs > limit || secs < -limit {
		return 0, false
	}
	return secs*1_000_000 + int64(t.Nanosecond()/1000), true
}

// MicrosToTime is the inverse of TimeToMicros, in UTC.
func MicrosToTime(micros int64) time.Time {
	secs, rem := micros/1_000_000, micros%1_000_000
	if rem < 0 {
		secs, rem = secs-1, rem+1_000_000
	}
	return time.Unix(pgEpochUnix+secs, rem*1000).UTC()
}

// storage classes, as the library stores values.
const (
	storeBool = iota
	storeInt
	storeFloat4
	storeFloat8
	storeUUID
	storeBytes
)

func storageOf(oid Oid) int {
	switch oid {
	case OidBool:
		return storeBool
	case OidInt2, OidInt4, OidInt8, OidDate, OidTimestamp, OidTimestamptz:
		return storeInt
	case OidFloat4:
		return storeFloat4
	case OidFloat8:
		return storeFloat8
	case OidUUID:
		return storeUUID
	}
	return storeBytes
}

type colInfo struct {
	Column
	index   int
	storage int
	lo, hi  int64
}

func (c *colInfo) where() string {
	return fmt.Sprintf("column %q (type oid %d)", c.Name, c.Type)
}

func newColInfo(index int, col Column) colInfo {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	switch col.Type {
	case OidInt2:
		lo, hi = math.MinInt16, math.MaxInt16
	case OidInt4, OidDate:
		lo, hi = math.MinInt32, math.MaxInt32
	}
	return colInfo{Column: col, index: index, storage: storageOf(col.Type), lo: lo, hi: hi}
}

func errInvalid(format string, args ...interface{}) error {
	return newError(C.HR_EINVAL, fmt.Sprintf(format, args...))
}

// noCopy makes go vet report copies of the handle types, which would free
// their C handle twice.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// Batch is an hr_batch: a relation's schema (columns) plus rows of values.
//
// Values map to column types as follows (AppendRow, BatchFromRows,
// BatchFromColumns):
//
//	bool                    bool
//	int2, int4, int8        int, int8..int64, uint..uint64 (range-checked)
//	date                    an integer (days since 2000-01-01) or time.Time
//	                        (its calendar date, see DateToDays)
//	timestamp, timestamptz  an integer (microseconds since 2000-01-01 00:00)
//	                        or time.Time (converted to UTC, see TimeToMicros)
//	float4, float8          float32, float64 or an integer; a finite value
//	                        too large for float4 is refused, not made
//	                        infinite; -0.0 and NaN are kept bit for bit
//	uuid                    [16]byte (or a named [16]byte type) or a 16-byte
//	                        []byte
//	bytea                   []byte
//	text, varchar, bpchar,  string or []byte (as is)
//	json, jsonb, numeric
//	and every other OID
//
// Named types are accepted by their kind. Any column also takes nil (NULL,
// nullable columns only) and UnchangedToast. Rows returns bool, int64 (also
// for date and timestamps), float32, float64, [16]byte, []byte (bytea),
// string (other byte types), nil and UnchangedToast.
//
// A Batch holds a reference to its Env. Close frees it (the finalizer does
// too, but do not rely on it). After Close, methods that return an error
// return ECLOSED; the others panic. One goroutine at a time per Batch; a
// Batch must not be copied (use the *Batch).
type Batch struct {
	_       noCopy
	ptr     *C.hr_batch
	env     *Env
	cols    []colInfo // cache of the schema; nil after it changes
	partial bool      // an AppendRow failed part-way
	moved   bool      // an Applier took the C batch over (Applier.AddBatch)

	// C memory the values of a row are copied to before they are passed to
	// the library: no Go pointer is handed to C.
	scratch    unsafe.Pointer
	scratchCap int
}

func newBatch(env *Env, internal bool) (*Batch, error) {
	if env == nil {
		return nil, errInvalid("nil Env")
	}
	cenv, err := env.adopt(internal)
	if err != nil {
		return nil, err
	}
	var ptr *C.hr_batch
	if rc := C.hr_batch_new(cenv, &ptr); rc != C.HR_OK {
		env.disown()
		return nil, newError(rc, "hr_batch_new failed")
	}
	b := &Batch{ptr: ptr, env: env}
	runtime.SetFinalizer(b, (*Batch).Close)
	return b, nil
}

// NewBatch creates a batch with the given columns (see AddColumn) and no
// relation (see SetRelation).
func NewBatch(env *Env, columns []Column) (*Batch, error) {
	b, err := newBatch(env, false)
	if err != nil {
		return nil, err
	}
	for _, col := range columns {
		if _, err := b.AddColumn(col); err != nil {
			b.Close()
			return nil, err
		}
	}
	return b, nil
}

// BatchFromRows creates a batch of columns holding rows.
func BatchFromRows(env *Env, columns []Column, rows [][]any) (*Batch, error) {
	b, err := NewBatch(env, columns)
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		if err := b.AppendRow(row); err != nil {
			b.Close()
			return nil, err
		}
	}
	return b, nil
}

// BatchFromColumns creates a batch of columns from data, which maps each
// column name to its values; all of one length, one entry per column.
func BatchFromColumns(env *Env, columns []Column, data map[string][]any) (*Batch, error) {
	seen := map[string]bool{}
	n := -1
	for _, col := range columns {
		if seen[col.Name] {
			return nil, errInvalid("BatchFromColumns needs distinct column names; %q repeats", col.Name)
		}
		seen[col.Name] = true
		values, ok := data[col.Name]
		if !ok {
			return nil, errInvalid("BatchFromColumns: no values for column %q", col.Name)
		}
		if n >= 0 && len(values) != n {
			return nil, errInvalid("BatchFromColumns: column %q has %d values, not %d", col.Name, len(values), n)
		}
		n = len(values)
	}
	for name := range data {
		if !seen[name] {
			return nil, errInvalid("BatchFromColumns: unknown column %q", name)
		}
	}
	b, err := NewBatch(env, columns)
	if err != nil {
		return nil, err
	}
	cols := b.columns()
	for i := range cols {
		c := &cols[i]
		for _, v := range data[c.Name] {
			if err := b.appendCell(c, v); err != nil {
				b.Close()
				return nil, err
			}
		}
	}
	return b, nil
}

// Close frees the batch (hr_batch_free). Closing twice is a no-op.
func (b *Batch) Close() {
	if b.ptr == nil {
		return
	}
	C.hr_batch_free(b.ptr)
	b.ptr = nil
	if b.scratch != nil {
		C.free(b.scratch)
		b.scratch, b.scratchCap = nil, 0
	}
	runtime.SetFinalizer(b, nil)
	b.env.disown()
}

// Closed reports whether Close was called, or an Applier took the batch.
func (b *Batch) Closed() bool { return b.ptr == nil }

// Moved reports whether Applier.AddBatch took the batch over: the Batch is
// then closed (ECLOSED from its methods that return errors, a panic from
// the others) and Close does nothing; the applier frees the C batch.
func (b *Batch) Moved() bool { return b.moved }

// Env returns the Env the batch was created from.
func (b *Batch) Env() *Env { return b.env }

func (b *Batch) live() *C.hr_batch {
	if b.ptr == nil {
		if b.moved {
			panic("heliosrepl: Batch used after Applier.AddBatch took it")
		}
		panic("heliosrepl: Batch used after Close")
	}
	return b.ptr
}

func errBatchClosed() error { return newError(C.HR_ECLOSED, "the Batch is closed") }

// check turns the result of a C call on b into an error with b's message.
func (b *Batch) check(rc C.int) error {
	b.env.cb.repanic()
	if rc == C.HR_OK {
		return nil
	}
	msg := C.GoString(C.hr_batch_errmsg(b.ptr))
	runtime.KeepAlive(b)
	return newError(rc, msg)
}

// Errmsg returns the message of the last failed call on b, or "". The
// library does not clear it on success: read it right after a failure.
func (b *Batch) Errmsg() string {
	msg := C.GoString(C.hr_batch_errmsg(b.live()))
	runtime.KeepAlive(b)
	return msg
}

// cName copies a name to C memory (free it with C.free).
func cName(name, what string) (*C.char, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return nil, errInvalid("%s contains a NUL byte", what)
	}
	return C.CString(name), nil
}

// SetRelation names the relation the rows belong to ("" for none); at most
// MaxName bytes each.
func (b *Batch) SetRelation(schema, table string) error {
	if b.ptr == nil {
		return errBatchClosed()
	}
	cs, err := cName(schema, "schema name")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cs))
	ct, err := cName(table, "table name")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(ct))
	return b.check(C.hr_batch_set_relation(b.ptr, cs, ct))
}

// Relation returns the schema and table names ("" when unset).
func (b *Batch) Relation() (schema, table string) {
	ptr := b.live()
	schema = C.GoString(C.hr_batch_schema_name(ptr))
	table = C.GoString(C.hr_batch_table_name(ptr))
	runtime.KeepAlive(b)
	return schema, table
}

// AddColumn declares the next column, only before any value is appended,
// and returns its index. ESTATE once values were appended; EINVAL for an
// empty or too long name or too many columns.
func (b *Batch) AddColumn(col Column) (int, error) {
	if b.ptr == nil {
		return -1, errBatchClosed()
	}
	cn, err := cName(col.Name, "column name")
	if err != nil {
		return -1, err
	}
	defer C.free(unsafe.Pointer(cn))
	b.cols = nil
	rc := C.hr_batch_add_column(b.ptr, cn, C.uint32_t(col.Type), boolInt(col.Nullable))
	if rc < 0 {
		return -1, b.check(rc)
	}
	b.env.cb.repanic()
	return int(rc), nil
}

func (b *Batch) columns() []colInfo {
	if b.cols == nil {
		ptr := b.live()
		n := int(C.hr_batch_columns(ptr))
		cols := make([]colInfo, n)
		for i := 0; i < n; i++ {
			cols[i] = newColInfo(i, Column{
				Name:     C.GoString(C.hr_batch_column_name(ptr, C.int(i))),
				Type:     Oid(C.hr_batch_column_type(ptr, C.int(i))),
				Nullable: C.hr_batch_column_nullable(ptr, C.int(i)) != 0,
			})
		}
		runtime.KeepAlive(b)
		b.cols = cols
	}
	return b.cols
}

// Columns returns the columns.
func (b *Batch) Columns() []Column {
	cols := b.columns()
	out := make([]Column, len(cols))
	for i := range cols {
		out[i] = cols[i].Column
	}
	return out
}

// NumColumns returns the number of columns.
func (b *Batch) NumColumns() int {
	n := int(C.hr_batch_columns(b.live()))
	runtime.KeepAlive(b)
	return n
}

// Len returns the number of (complete) rows.
func (b *Batch) Len() int {
	n := int(C.hr_batch_rows(b.live()))
	runtime.KeepAlive(b)
	return n
}

// RawSize returns the plain binary size of the rows (hr_batch_raw_size):
// the yardstick codec compression ratios are quoted against.
func (b *Batch) RawSize() int {
	n := int(C.hr_batch_raw_size(b.live()))
	runtime.KeepAlive(b)
	return n
}

// Equal reports whether b and o have the same relation, columns and values,
// compared bit for bit (-0.0 != 0.0; a NaN equals the same NaN).
func (b *Batch) Equal(o *Batch) bool {
	if o == nil {
		return false
	}
	eq := C.hr_batch_equal(b.live(), o.live()) != 0
	runtime.KeepAlive(b)
	runtime.KeepAlive(o)
	return eq
}

// AppendRows appends the rows of o, which must have the same relation and
// columns (a b without columns takes o's first). o is not changed.
func (b *Batch) AppendRows(o *Batch) error {
	if o == nil {
		return newError(C.HR_EINVAL, "AppendRows: nil Batch")
	}
	rc := C.hr_batch_append_rows(b.live(), o.live())
	runtime.KeepAlive(o)
	b.cols = nil
	return b.check(rc)
}

// ClearRows drops the rows and keeps the columns and relation.
func (b *Batch) ClearRows() {
	C.hr_batch_clear_rows(b.live())
	b.partial = false
}

// Truncate keeps the first rows cells of every column and drops the rest.
func (b *Batch) Truncate(rows int) {
	if rows < 0 {
		rows = 0
	}
	C.hr_batch_truncate(b.live(), C.size_t(rows))
	b.partial = false
}

// Clear drops rows, columns and relation.
func (b *Batch) Clear() {
	C.hr_batch_clear(b.live())
	b.cols = nil
	b.partial = false
}

// --- appending ------------------------------------------------------------

// cell is one checked value, ready to append.
type cell struct {
	state ValueState
	kind  int // storage class of a present value
	i     int64
	f     float64
	bytes []byte // storeBytes / storeUUID (a view; copied to C memory)
	str   string // storeBytes when the value is a string
	isStr bool
}

func (c *cell) size() int {
	if c.state != ValuePresent {
		return 0
	}
	switch c.kind {
	case storeBytes:
		if c.isStr {
			return len(c.str)
		}
		return len(c.bytes)
	case storeUUID:
		return 16
	}
	return 0
}

func typeError(c *colInfo, v any, wanted string) error {
	return errInvalid("%s takes %s, not %T", c.where(), wanted, v)
}

// convert checks v for column c; nothing is appended.
func convert(c *colInfo, v any) (cell, error) {
	switch v.(type) {
	case nil:
		if !c.Nullable {
			return cell{}, errInvalid("NULL in column %q, which is NOT NULL", c.Name)
		}
		return cell{state: ValueNull}, nil
	case UnchangedToastMarker:
		return cell{state: ValueUnchangedToast}, nil
	}
	out := cell{kind: c.storage}
	rv := reflect.ValueOf(v)
	kind := rv.Kind()
	switch c.storage {
	case storeBool:
		if kind != reflect.Bool {
			return out, typeError(c, v, "a bool")
		}
		if rv.Bool() {
			out.i = 1
		}
	case storeInt:
		switch {
		case isInt(kind):
			out.i = rv.Int()
		case isUint(kind):
			if rv.Uint() > math.MaxInt64 {
				return out, errInvalid("%d out of range for %s", rv.Uint(), c.where())
			}
			out.i = int64(rv.Uint())
		default:
			t, ok := v.(time.Time)
			switch {
			case ok && c.Type == OidDate:
				out.i = DateToDays(t)
			case ok && (c.Type == OidTimestamp || c.Type == OidTimestamptz):
				if out.i, ok = TimeToMicros(t); !ok {
					return out, errInvalid("%s out of range for %s", t, c.where())
				}
			case c.Type == OidDate || c.Type == OidTimestamp || c.Type == OidTimestamptz:
				return out, typeError(c, v, "an integer or time.Time")
			default:
				return out, typeError(c, v, "an integer")
			}
		}
		if out.i < c.lo || out.i > c.hi {
			return out, errInvalid("%d out of range for %s", out.i, c.where())
		}
	case storeFloat4, storeFloat8:
		switch {
		case kind == reflect.Float32 || kind == reflect.Float64:
			out.f = rv.Float()
		case isInt(kind):
			out.f = float64(rv.Int())
		case isUint(kind):
			out.f = float64(rv.Uint())
		default:
			return out, typeError(c, v, "a float")
		}
		if c.storage == storeFloat4 && !math.IsInf(out.f, 0) && math.IsInf(float64(float32(out.f)), 0) {
			return out, errInvalid("%g out of range for %s", out.f, c.where())
		}
	case storeUUID:
		switch {
		case kind == reflect.Array && rv.Len() == 16 && rv.Type().Elem().Kind() == reflect.Uint8:
			buf := make([]byte, 16)
			for i := range buf {
				buf[i] = byte(rv.Index(i).Uint())
			}
			out.bytes = buf
		case isByteSlice(rv):
			if rv.Len() != 16 {
				return out, errInvalid("%s takes 16 bytes, not %d", c.where(), rv.Len())
			}
			out.bytes = rv.Bytes()
		default:
			return out, typeError(c, v, "[16]byte")
		}
	default: // storeBytes
		switch {
		case isByteSlice(rv):
			out.bytes = rv.Bytes()
		case kind == reflect.String && c.Type != OidBytea:
			out.str, out.isStr = rv.String(), true
		case c.Type == OidBytea:
			return out, typeError(c, v, "[]byte")
		default:
			return out, typeError(c, v, "a string or []byte")
		}
	}
	return out, nil
}

func isInt(k reflect.Kind) bool {
	return k == reflect.Int || k == reflect.Int8 || k == reflect.Int16 || k == reflect.Int32 || k == reflect.Int64
}

func isUint(k reflect.Kind) bool {
	return k == reflect.Uint || k == reflect.Uint8 || k == reflect.Uint16 || k == reflect.Uint32 ||
		k == reflect.Uint64 || k == reflect.Uintptr
}

func isByteSlice(rv reflect.Value) bool {
	return rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8
}

// reserve makes the C scratch buffer at least n bytes (and non-NULL).
func (b *Batch) reserve(n int) unsafe.Pointer {
	if n < 64 {
		n = 64
	}
	if b.scratch == nil || b.scratchCap < n {
		if b.scratch != nil {
			C.free(b.scratch)
		}
		b.scratch = C.malloc(C.size_t(n)) // cgo's malloc never returns NULL
		b.scratchCap = n
	}
	return b.scratch
}

// push appends a checked cell to column col; byte values are taken from the
// C scratch memory at `at`.
func (b *Batch) push(col int, c *cell, at unsafe.Pointer) C.int {
	ccol := C.int(col)
	switch c.state {
	case ValueNull:
		return C.hr_batch_append_null(b.ptr, ccol)
	case ValueUnchangedToast:
		return C.hr_batch_append_unchanged_toast(b.ptr, ccol)
	}
	switch c.kind {
	case storeBool:
		return C.hr_batch_append_bool(b.ptr, ccol, C.int(c.i))
	case storeInt:
		return C.hr_batch_append_int64(b.ptr, ccol, C.int64_t(c.i))
	case storeFloat4:
		return C.hr_batch_append_float4(b.ptr, ccol, C.float(float32(c.f)))
	case storeFloat8:
		return C.hr_batch_append_float8(b.ptr, ccol, C.double(c.f))
	case storeUUID:
		return C.hr_batch_append_uuid(b.ptr, ccol, (*C.uint8_t)(at))
	}
	return C.hr_batch_append_bytes(b.ptr, ccol, at, C.size_t(c.size()))
}

// stage copies the byte values of cells into C scratch memory and returns
// where each one starts.
func (b *Batch) stage(cells []cell) []unsafe.Pointer {
	total := 0
	for i := range cells {
		total += cells[i].size()
	}
	base := b.reserve(total)
	mem := unsafe.Slice((*byte)(base), total)
	at := make([]unsafe.Pointer, len(cells))
	off := 0
	for i := range cells {
		c := &cells[i]
		at[i] = unsafe.Add(base, off)
		n := c.size()
		if n == 0 {
			continue
		}
		if c.isStr {
			copy(mem[off:off+n], c.str)
		} else {
			copy(mem[off:off+n], c.bytes)
		}
		off += n
	}
	return at
}

func (b *Batch) appendCell(c *colInfo, v any) error {
	cl, err := convert(c, v)
	if err != nil {
		return err
	}
	cells := []cell{cl}
	at := b.stage(cells)
	return b.check(b.push(c.index, &cells[0], at[0]))
}

// AppendRow appends one row: one value per column, in column order.
//
// Every value is checked before any is appended, so a refused row (EINVAL:
// a value of the wrong type, out of range, nil in a NOT NULL column, the
// wrong number of values) leaves the batch unchanged. Only an allocation
// failure part-way (ENOMEM, ELIMIT) can leave a partial row; the batch then
// refuses rows (ESTATE) until ClearRows.
func (b *Batch) AppendRow(values []any) error {
	if b.ptr == nil {
		return errBatchClosed()
	}
	if b.partial {
		return newError(C.HR_ESTATE, "an earlier AppendRow failed part-way; call ClearRows before appending again")
	}
	cols := b.columns()
	if len(values) != len(cols) {
		return errInvalid("row of %d values for %d columns", len(values), len(cols))
	}
	cells := make([]cell, len(values))
	for i, v := range values {
		var err error
		if cells[i], err = convert(&cols[i], v); err != nil {
			return err
		}
	}
	at := b.stage(cells)
	for i := range cells {
		if rc := b.push(i, &cells[i], at[i]); rc != C.HR_OK {
			b.partial = i > 0
			return b.check(rc)
		}
	}
	b.env.cb.repanic()
	return nil
}

// --- reading ----------------------------------------------------------------

// State returns the state of a cell; EINVAL for a cell outside the batch.
func (b *Batch) State(col, row int) (ValueState, error) {
	if b.ptr == nil {
		return 0, errBatchClosed()
	}
	if col < 0 || row < 0 {
		return 0, errInvalid("no cell (%d, %d)", col, row)
	}
	rc := C.hr_batch_value_state(b.ptr, C.int(col), C.size_t(row))
	runtime.KeepAlive(b)
	if rc < 0 {
		return 0, newError(rc, fmt.Sprintf("no cell (%d, %d)", col, row))
	}
	return ValueState(rc), nil
}

// value reads one cell; it panics on a library error, which would be a bug
// (the schema is cached and the row is in range).
func (b *Batch) value(c *colInfo, row int) any {
	ptr, col, r := b.ptr, C.int(c.index), C.size_t(row)
	switch ValueState(C.hr_batch_value_state(ptr, col, r)) {
	case ValueNull:
		return nil
	case ValueUnchangedToast:
		return UnchangedToast
	}
	var rc C.int
	var v any
	switch c.storage {
	case storeBool:
		var x C.int
		rc = C.hr_batch_get_bool(ptr, col, r, &x)
		v = x != 0
	case storeInt:
		var x C.int64_t
		rc = C.hr_batch_get_int64(ptr, col, r, &x)
		v = int64(x)
	case storeFloat4:
		var x C.float
		rc = C.hr_batch_get_float4(ptr, col, r, &x)
		v = float32(x)
	case storeFloat8:
		var x C.double
		rc = C.hr_batch_get_float8(ptr, col, r, &x)
		v = float64(x)
	case storeUUID:
		var x [16]C.uint8_t
		rc = C.hr_batch_get_uuid(ptr, col, r, &x[0])
		var u [16]byte
		for i := range x {
			u[i] = byte(x[i])
		}
		v = u
	default:
		var data *C.uint8_t
		var n C.size_t
		rc = C.hr_batch_get_bytes(ptr, col, r, &data, &n)
		raw := goBytes(unsafe.Pointer(data), n)
		if c.Type == OidBytea {
			v = raw
		} else {
			v = string(raw)
		}
	}
	if rc != C.HR_OK {
		panic(newError(rc, fmt.Sprintf("heliosrepl: reading %s row %d", c.where(), row)))
	}
	return v
}

// goBytes copies n bytes of C memory into a new Go slice.
func goBytes(p unsafe.Pointer, n C.size_t) []byte {
	out := make([]byte, int(n))
	if n > 0 {
		copy(out, unsafe.Slice((*byte)(p), int(n)))
	}
	return out
}

// Row returns row i (0 <= i < Len()); it panics for a row out of range.
func (b *Batch) Row(i int) []any {
	b.live()
	if i < 0 || i >= b.Len() {
		panic(fmt.Sprintf("heliosrepl: row %d outside a batch of %d rows", i, b.Len()))
	}
	cols := b.columns()
	row := make([]any, len(cols))
	for j := range cols {
		row[j] = b.value(&cols[j], i)
	}
	runtime.KeepAlive(b)
	return row
}

// Rows returns every row, each with one value per column (see Batch for
// the Go type of each column type).
func (b *Batch) Rows() [][]any {
	n := b.Len()
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = b.Row(i)
	}
	return rows
}
