package heliosrepl

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

const inetOid Oid = 869 // a type the batch does not know: stored as text

var nanPayload = math.Float64frombits(0x7FF8_0000_DEAD_BEEF)

var allColumns = []Column{
	{"id", OidInt8, false},
	{"flag", OidBool, true},
	{"small", OidInt2, true},
	{"medium", OidInt4, true},
	{"big", OidInt8, true},
	{"real", OidFloat4, true},
	{"double", OidFloat8, true},
	{"day", OidDate, true},
	{"at", OidTimestamp, true},
	{"at_tz", OidTimestamptz, true},
	{"key", OidUUID, true},
	{"body", OidText, true},
	{"name", OidVarchar, true},
	{"code", OidBpchar, true},
	{"doc", OidJSON, true},
	{"docb", OidJSONB, true},
	{"amount", OidNumeric, true},
	{"blob", OidBytea, true},
	{"addr", inetOid, true},
}

type namedUUID [16]byte // like github.com/google/uuid.UUID
type rawJSON []byte     // like encoding/json.RawMessage
type myInt int16

var (
	u1     = [16]byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0}
	uOnes  = [16]byte{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	uFFs   = [16]byte{255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255}
	plus1  = time.FixedZone("+01", 3600)
	leap   = time.Date(2024, 2, 29, 12, 30, 45, 123456789, time.UTC)
	all256 = func() []byte {
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(i)
		}
		return b
	}()
)

const (
	day20240229 = 8825
	us20240229  = (day20240229*86400+12*3600+30*60+45)*1_000_000 + 123456
)

func repeat(v any, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// allRows are the rows given to AppendRow; allRowsRead what Rows returns.
var allRows = [][]any{
	{int64(1), true, int16(math.MinInt16), int32(math.MinInt32), int64(math.MinInt64), float32(math.Copysign(0, -1)),
		math.Copysign(0, -1), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 1, 1, 1, 0, 0, 0, plus1), u1, "", "", "", "{}", "{}", "0", []byte{}, ""},
	{2, false, math.MaxInt16, math.MaxInt32, int64(math.MaxInt64), float32(math.NaN()), nanPayload,
		-1, -1, -1, uOnes[:], "héllo ☃ 😀", "a\x00b", "x ", `{"a": [1, 2]}`, `{"b": null}`, "-12345.678900",
		[]byte{0, 0xff, 0}, "192.168.0.1/24"},
	append([]any{3}, repeat(nil, 18)...),
	append([]any{4}, repeat(UnchangedToast, 18)...),
	{uint64(math.MaxInt64), true, myInt(0), uint8(0), uint(0), 0.0, 1e300, leap, leap, leap.In(plus1),
		namedUUID(uFFs), "text", "varchar", "bpchar", rawJSON("[]"), "[]", "1e10", all256, "::1"},
	{-1, false, int8(1), uint16(1), uint32(1), 1.5, math.Inf(-1), math.MaxInt32, int64(math.MaxInt64), int64(math.MinInt64),
		uOnes, []byte("raw \xff bytes"), "\xff", "", "null", "null", "NaN", []byte("ba"), []byte("mv")},
}

var allRowsRead = [][]any{
	{int64(1), true, int64(math.MinInt16), int64(math.MinInt32), int64(math.MinInt64), float32(math.Copysign(0, -1)),
		math.Copysign(0, -1), int64(0), int64(0), int64(0), u1, "", "", "", "{}", "{}", "0", []byte{}, ""},
	{int64(2), false, int64(math.MaxInt16), int64(math.MaxInt32), int64(math.MaxInt64), float32(math.NaN()), nanPayload,
		int64(-1), int64(-1), int64(-1), uOnes, "héllo ☃ 😀", "a\x00b", "x ", `{"a": [1, 2]}`, `{"b": null}`,
		"-12345.678900", []byte{0, 0xff, 0}, "192.168.0.1/24"},
	append([]any{int64(3)}, repeat(nil, 18)...),
	append([]any{int64(4)}, repeat(UnchangedToast, 18)...),
	{int64(math.MaxInt64), true, int64(0), int64(0), int64(0), float32(0), 1e300, int64(day20240229),
		int64(us20240229), int64(us20240229), uFFs, "text", "varchar", "bpchar", "[]", "[]", "1e10", all256, "::1"},
	{int64(-1), false, int64(1), int64(1), int64(1), float32(1.5), math.Inf(-1), int64(math.MaxInt32),
		int64(math.MaxInt64), int64(math.MinInt64), uOnes, "raw \xff bytes", "\xff", "", "null", "null", "NaN",
		[]byte("ba"), "mv"},
}

// sameValue compares read values, floats by their bits.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case float32:
		y, ok := b.(float32)
		return ok && math.Float32bits(x) == math.Float32bits(y)
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	}
	return a == b
}

func sameRows(t *testing.T, got, want [][]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for r := range want {
		if len(got[r]) != len(want[r]) {
			t.Fatalf("row %d: %d values, want %d", r, len(got[r]), len(want[r]))
		}
		for c := range want[r] {
			if !sameValue(got[r][c], want[r][c]) {
				t.Errorf("row %d column %d: got %#v (%T), want %#v (%T)", r, c, got[r][c], got[r][c], want[r][c], want[r][c])
			}
		}
	}
}

func newBatchOf(t *testing.T, env *Env, columns []Column, rows [][]any) *Batch {
	t.Helper()
	b, err := BatchFromRows(env, columns, rows)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func allTypesBatch(t *testing.T, env *Env) *Batch {
	t.Helper()
	b := newBatchOf(t, env, allColumns, allRows)
	if err := b.SetRelation("public", "all_types"); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBatchEveryTypeRoundTrips(t *testing.T) {
	env := newEnv(t)
	b := allTypesBatch(t, env)
	if b.Len() != len(allRows) || b.NumColumns() != len(allColumns) {
		t.Fatalf("Len %d, NumColumns %d", b.Len(), b.NumColumns())
	}
	sameRows(t, b.Rows(), allRowsRead)
	sameRows(t, [][]any{b.Row(1)}, allRowsRead[1:2])
	if !reflect.DeepEqual(b.Columns(), allColumns) {
		t.Errorf("Columns() = %v", b.Columns())
	}
	if s, tb := b.Relation(); s != "public" || tb != "all_types" {
		t.Errorf("Relation() = %q, %q", s, tb)
	}
	if b.Env() != env {
		t.Error("Env() is not the creating Env")
	}
}

func TestBatchFromColumnsEqualsFromRows(t *testing.T) {
	env := newEnv(t)
	byRows := newBatchOf(t, env, allColumns, allRows)
	data := map[string][]any{}
	for c, col := range allColumns {
		for _, row := range allRows {
			data[col.Name] = append(data[col.Name], row[c])
		}
	}
	byCols, err := BatchFromColumns(env, allColumns, data)
	if err != nil {
		t.Fatal(err)
	}
	defer byCols.Close()
	if !byCols.Equal(byRows) || !byRows.Equal(byCols) {
		t.Error("BatchFromColumns != BatchFromRows")
	}
	cols := []Column{{"a", OidInt4, true}, {"b", OidInt4, true}}
	for _, bad := range []map[string][]any{
		{"a": {1}},
		{"a": {1}, "b": {2}, "c": {3}},
		{"a": {1, 2}, "b": {2}},
	} {
		_, err := BatchFromColumns(env, cols, bad)
		asError(t, err, EINVAL)
	}
	_, err = BatchFromColumns(env, []Column{{"a", OidInt4, true}, {"a", OidInt8, true}}, map[string][]any{"a": {1}})
	asError(t, err, EINVAL)
	_, err = BatchFromColumns(env, []Column{{"a", OidInt2, false}}, map[string][]any{"a": {nil}})
	asError(t, err, EINVAL)
}

func TestBatchEqualityIsBitwise(t *testing.T) {
	env := newEnv(t)
	cols := []Column{{"f", OidFloat8, true}}
	one := func(v any) *Batch { return newBatchOf(t, env, cols, [][]any{{v}}) }
	cases := []struct {
		a, b any
		eq   bool
	}{
		{0.0, 0.0, true},
		{0.0, math.Copysign(0, -1), false},
		{nanPayload, nanPayload, true},
		{math.NaN(), nanPayload, false},
		{nil, UnchangedToast, false},
		{nil, nil, true},
	}
	for _, c := range cases {
		if got := one(c.a).Equal(one(c.b)); got != c.eq {
			t.Errorf("Equal(%v, %v) = %v", c.a, c.b, got)
		}
	}
	x, y := one(1.0), one(1.0)
	if err := y.SetRelation("s", "t"); err != nil {
		t.Fatal(err)
	}
	if x.Equal(y) || x.Equal(nil) {
		t.Error("batches of different relations are equal")
	}
}

func TestBatchFloat4(t *testing.T) {
	env := newEnv(t)
	b := newBatchOf(t, env, []Column{{"r", OidFloat4, true}}, [][]any{{0.1}, {3}, {float32(math.NaN())}, {math.Inf(1)}})
	want := []float32{float32(0.1), 3, float32(math.NaN()), float32(math.Inf(1))}
	for i, row := range b.Rows() {
		if math.Float32bits(row[0].(float32)) != math.Float32bits(want[i]) {
			t.Errorf("row %d: %v", i, row[0])
		}
	}
	err := b.AppendRow([]any{1e39})
	he := asError(t, err, EINVAL)
	if !strings.Contains(he.Message, "out of range") || b.Len() != 4 {
		t.Errorf("%v, Len %d", he, b.Len())
	}
}

func TestBatchRawSize(t *testing.T) {
	env := newEnv(t)
	b := newBatchOf(t, env, []Column{{"a", OidInt2, true}, {"b", OidInt4, true}, {"c", OidInt8, true},
		{"d", OidBool, true}, {"e", OidText, true}, {"f", OidUUID, true}, {"g", OidDate, true}, {"h", OidFloat4, true}},
		[][]any{{1, 2, 3, true, "abc", u1, 5, 1.0}, {nil, UnchangedToast, nil, nil, nil, nil, nil, nil}})
	// Row 1: 2 + 4 + 8 + 1 + 3 + 16 + 4 + 4; row 2: one byte a cell.
	if got := b.RawSize(); got != 42+8 {
		t.Errorf("RawSize() = %d", got)
	}
}

func TestBatchStates(t *testing.T) {
	env := newEnv(t)
	b := newBatchOf(t, env, []Column{{"a", OidInt4, true}}, [][]any{{1}, {nil}, {UnchangedToast}})
	for row, want := range []ValueState{ValuePresent, ValueNull, ValueUnchangedToast} {
		if got, err := b.State(0, row); err != nil || got != want {
			t.Errorf("State(0, %d) = %v, %v", row, got, err)
		}
	}
	for _, cell := range [][2]int{{0, 3}, {1, 0}, {-1, 0}, {0, -1}} {
		_, err := b.State(cell[0], cell[1])
		asError(t, err, EINVAL)
	}
	if fmt.Sprint(UnchangedToast) != "UNCHANGED_TOAST" {
		t.Errorf("UnchangedToast prints as %v", UnchangedToast)
	}
}

func TestBatchDates(t *testing.T) {
	env := newEnv(t)
	cols := []Column{{"d", OidDate, true}, {"ts", OidTimestamp, true}, {"tz", OidTimestamptz, true}}
	plus2 := time.FixedZone("+02", 7200)
	b := newBatchOf(t, env, cols, [][]any{
		{time.Date(1999, 12, 31, 23, 0, 0, 0, plus2), time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC),
			time.Date(2000, 1, 1, 2, 0, 0, 1000, plus2)},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), nil},
	})
	want := [][]any{{int64(-1), int64(-1), int64(1)}, {int64(-730119), int64(2921939 * 86400 * 1_000_000), nil}}
	sameRows(t, b.Rows(), want)
	if d := DaysToDate(-730119); !d.Equal(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("DaysToDate = %v", d)
	}
	for _, us := range []int64{-1, 0, 1, us20240229, -us20240229} {
		if got, ok := TimeToMicros(MicrosToTime(us)); !ok || got != us {
			t.Errorf("TimeToMicros(MicrosToTime(%d)) = %d, %v", us, got, ok)
		}
	}
	if got := MicrosToTime(us20240229); !got.Equal(leap.Truncate(time.Microsecond)) || got.Location() != time.UTC {
		t.Errorf("MicrosToTime = %v", got)
	}
	far := time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, ok := TimeToMicros(far); ok {
		t.Error("TimeToMicros accepted year 300000")
	}
	asError(t, b.AppendRow([]any{nil, far, nil}), EINVAL)
	asError(t, b.AppendRow([]any{time.Date(6000000, 1, 1, 0, 0, 0, 0, time.UTC), nil, nil}), EINVAL)
	asError(t, b.AppendRow([]any{"2000-01-01", nil, nil}), EINVAL)
	if b.Len() != 2 {
		t.Errorf("Len %d after refused rows", b.Len())
	}
}

func TestBatchRefusedRowsLeaveItUnchanged(t *testing.T) {
	env := newEnv(t)
	b := newBatchOf(t, env, []Column{{"id", OidInt8, false}, {"s", OidInt2, true}, {"t", OidText, false}},
		[][]any{{1, 1, "a"}})
	cases := []struct {
		row []any
		msg string
	}{
		{[]any{2, 2, nil}, `NULL in column "t", which is NOT NULL`},
		{[]any{2, 40000, "b"}, `40000 out of range for column "s" (type oid 21)`},
		{[]any{2, 2}, "row of 2 values for 3 columns"},
		{[]any{2, 2, "b", 4}, "row of 4 values for 3 columns"},
		{[]any{uint64(1) << 63, 2, "b"}, ""},
		{[]any{2, "2", "b"}, ""},
		{[]any{2, 2, 3}, ""},
		{[]any{true, 2, "b"}, ""},
		{[]any{2.0, 2, "b"}, ""},
	}
	for _, c := range cases {
		he := asError(t, b.AppendRow(c.row), EINVAL)
		if c.msg != "" && he.Message != c.msg {
			t.Errorf("%v: message %q, want %q", c.row, he.Message, c.msg)
		}
		if b.Len() != 1 {
			t.Fatalf("%v: Len %d", c.row, b.Len())
		}
	}
	if err := b.AppendRow([]any{2, 2, "b"}); err != nil {
		t.Fatal(err)
	}
	sameRows(t, b.Rows(), [][]any{{int64(1), int64(1), "a"}, {int64(2), int64(2), "b"}})
}

func TestBatchValueChecks(t *testing.T) {
	env := newEnv(t)
	cases := []struct {
		oid Oid
		v   any
	}{
		{OidInt4, int64(math.MaxInt32) + 1}, {OidInt4, int64(math.MinInt32) - 1}, {OidDate, int64(math.MaxInt32) + 1},
		{OidInt8, uint64(math.MaxUint64)}, {OidFloat4, "1.0"}, {OidFloat8, true}, {OidBool, 1},
		{OidUUID, []byte("short")}, {OidUUID, "00112233-4455-6677-8899-aabbccddeeff"}, {OidUUID, [15]byte{}},
		{OidBytea, "text"}, {OidText, 5}, {OidInt8, 1.0}, {OidText, struct{}{}},
	}
	for _, c := range cases {
		b := newBatchOf(t, env, []Column{{"c", c.oid, true}}, nil)
		asError(t, b.AppendRow([]any{c.v}), EINVAL)
		if b.Len() != 0 {
			t.Errorf("oid %d value %#v appended", c.oid, c.v)
		}
	}
}

func TestBatchLibraryErrors(t *testing.T) {
	env := newEnv(t)
	b := newBatchOf(t, env, []Column{{"a", OidInt4, true}}, [][]any{{1}})
	_, err := b.AddColumn(Column{"b", OidInt4, true})
	he := asError(t, err, ESTATE)
	if he.Message != "columns must be declared before values are appended" || b.Errmsg() != he.Message || !he.Fatal() {
		t.Errorf("%+v, Errmsg %q", he, b.Errmsg())
	}
	b.Clear()
	if b.NumColumns() != 0 || b.Len() != 0 {
		t.Error("Clear kept columns")
	}
	_, err = b.AddColumn(Column{"", OidInt4, true})
	if he := asError(t, err, EINVAL); he.Message != "column name must be 1..255 bytes" {
		t.Errorf("message %q", he.Message)
	}
	_, err = b.AddColumn(Column{strings.Repeat("x", 256), OidInt4, true})
	asError(t, err, EINVAL)
	_, err = b.AddColumn(Column{"a\x00b", OidInt4, true})
	asError(t, err, EINVAL)
	asError(t, b.SetRelation(strings.Repeat("s", 256), "t"), EINVAL)
	asError(t, b.SetRelation("a\x00b", "t"), EINVAL)
	if i, err := b.AddColumn(Column{"z", OidText, true}); err != nil || i != 0 {
		t.Fatalf("AddColumn = %d, %v", i, err)
	}
	if err := b.AppendRow([]any{"again"}); err != nil {
		t.Fatal(err)
	}
	b.ClearRows()
	if b.Len() != 0 || b.NumColumns() != 1 {
		t.Error("ClearRows")
	}
	many := make([]Column, MaxColumns)
	for i := range many {
		many[i] = Column{fmt.Sprintf("c%d", i), OidBool, true}
	}
	wide := newBatchOf(t, env, many, nil)
	_, err = wide.AddColumn(Column{"one_more", OidBool, true})
	asError(t, err, EINVAL)
}

func TestBatchCloseAndUseAfterClose(t *testing.T) {
	env := newEnv(t)
	b, err := NewBatch(env, []Column{{"a", OidInt4, true}})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	b.Close()
	if !b.Closed() {
		t.Error("Closed() = false")
	}
	asError(t, b.AppendRow([]any{1}), ECLOSED)
	asError(t, b.SetRelation("a", "b"), ECLOSED)
	_, err = b.AddColumn(Column{"b", OidInt4, true})
	asError(t, err, ECLOSED)
	_, err = b.State(0, 0)
	asError(t, err, ECLOSED)
	defer func() {
		if recover() == nil {
			t.Error("Len after Close did not panic")
		}
	}()
	b.Len()
}

func TestBatchOutlivesClosedEnv(t *testing.T) {
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	b, err := BatchFromRows(env, []Column{{"a", OidText, true}}, [][]any{{"kept"}})
	if err != nil {
		t.Fatal(err)
	}
	env.Close()
	if !env.Closed() {
		t.Error("Closed() = false")
	}
	_, err = NewBatch(env, nil)
	asError(t, err, ECLOSED)
	if err := b.AppendRow([]any{"alive"}); err != nil {
		t.Fatal(err)
	}
	sameRows(t, b.Rows(), [][]any{{"kept"}, {"alive"}})
	if env.ptr == nil {
		t.Error("the C env was released while a batch uses it")
	}
	b.Close()
	if env.ptr != nil {
		t.Error("the C env was not released with the last batch")
	}
}

func TestBatchesAreFinalized(t *testing.T) {
	env := newEnv(t)
	for i := 0; i < 500; i++ {
		if _, err := BatchFromRows(env, []Column{{"a", OidInt8, true}}, [][]any{{i}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 10; i++ {
		runtime.GC()
		env.mu.Lock()
		n := env.children
		env.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Error("unreferenced batches were not finalized")
}

// publicFunctions reads the HR_API function names of the public headers.
func publicFunctions(t *testing.T) map[string]string {
	t.Helper()
	dir := os.Getenv("HELIOSREPL_INCLUDE_DIR")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(wd, "..", "..", "..", "include", "heliosrepl")
	}
	headers, err := filepath.Glob(filepath.Join(dir, "*.h"))
	if err != nil || len(headers) == 0 {
		t.Skipf("no public headers in %s", dir)
	}
	comments := regexp.MustCompile(`(?s)/\*.*?\*/`)
	preprocessor := regexp.MustCompile(`(?m)^\s*#.*$`)
	decl := regexp.MustCompile(`\bHR_API\s[^;(]*?\b(hr_\w+)\s*\(`)
	out := map[string]string{}
	for _, h := range headers {
		data, err := os.ReadFile(h)
		if err != nil {
			t.Fatal(err)
		}
		text := preprocessor.ReplaceAllString(comments.ReplaceAllString(string(data), " "), " ")
		for _, m := range decl.FindAllStringSubmatch(text, -1) {
			out[m[1]] = filepath.Base(h)
		}
	}
	return out
}

// TestEveryPublicFunctionIsBound checks that the package calls every
// function of the public headers (cgo checks the signatures).
func TestEveryPublicFunctionIsBound(t *testing.T) {
	declared := publicFunctions(t)
	perHeader := map[string]int{}
	for _, h := range declared {
		perHeader[h]++
	}
	if perHeader["core.h"] < 10 || perHeader["batch.h"] < 25 || perHeader["codec.h"] < 12 ||
		perHeader["pgoutput.h"] < 30 || perHeader["stream.h"] < 30 || perHeader["apply.h"] < 30 ||
		perHeader["qos.h"] < 15 || perHeader["predict.h"] < 12 {
		t.Fatalf("too few functions found: %v", perHeader)
	}
	sources, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var code strings.Builder
	for _, src := range sources {
		if strings.HasSuffix(src, "_test.go") {
			continue
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		code.Write(data)
	}
	trampolines, err := os.ReadFile("trampoline.c")
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for fn, h := range declared {
		if !strings.Contains(code.String(), "C."+fn+"(") && !bytes.Contains(trampolines, []byte(fn+"(")) {
			missing = append(missing, h+": "+fn)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("public functions the Go package never calls:\n%s", strings.Join(missing, "\n"))
	}
}

func TestBatchTruncate(t *testing.T) {
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	b, err := BatchFromRows(env, []Column{{Name: "id", Type: OidInt8}}, [][]any{{int64(1)}, {int64(2)}, {int64(3)}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.Truncate(2)
	if b.Len() != 2 {
		t.Fatalf("Len after Truncate(2) = %d", b.Len())
	}
}

func TestBatchAppendRows(t *testing.T) {
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	cols := []Column{{Name: "id", Type: OidInt8}, {Name: "t", Type: OidText, Nullable: true}}
	a, err := BatchFromRows(env, cols, [][]any{{int64(1), "a"}, {int64(2), nil}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := BatchFromRows(env, cols, [][]any{{int64(3), "c"}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	whole, err := BatchFromRows(env, cols, [][]any{{int64(1), "a"}, {int64(2), nil}, {int64(3), "c"}})
	if err != nil {
		t.Fatal(err)
	}
	defer whole.Close()
	dst, err := NewBatch(env, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if err := dst.AppendRows(a); err != nil {
		t.Fatal(err)
	}
	if err := dst.AppendRows(b); err != nil {
		t.Fatal(err)
	}
	if !dst.Equal(whole) || b.Len() != 1 {
		t.Fatalf("AppendRows: %d rows, equal %v", dst.Len(), dst.Equal(whole))
	}
	other, err := BatchFromRows(env, []Column{{Name: "id", Type: OidInt4}}, [][]any{{int32(1)}})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := dst.AppendRows(other); !errors.Is(err, EINVAL) {
		t.Fatalf("another shape: %v", err)
	}
	if err := dst.AppendRows(nil); !errors.Is(err, EINVAL) {
		t.Fatalf("nil: %v", err)
	}
}
