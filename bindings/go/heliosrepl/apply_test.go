package heliosrepl

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func newTestApplierOpts(t *testing.T, env *Env, conninfo string) *ApplierOpts {
	t.Helper()
	o, err := NewApplierOpts(env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o.Close)
	if conninfo != "" {
		if err := o.SetConninfo(conninfo); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

func newTestApplier(t *testing.T, env *Env, cb ApplierCallbacks) *Applier {
	t.Helper()
	a, err := NewApplier(env, newTestApplierOpts(t, env, unreachable), cb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

func newTestEnv(t *testing.T) *Env {
	t.Helper()
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	return env
}

func TestApplierOptsSetters(t *testing.T) {
	env := newTestEnv(t)
	o := newTestApplierOpts(t, env, "")
	for what, err := range map[string]error{
		"conninfo":    o.SetConninfo("host=localhost dbname=x"),
		"source":      o.SetSourceID("src-1.eu_west"),
		"meta":        o.SetMetaSchema("repl_meta"),
		"column":      o.SetTenantColumn("org_id"),
		"rows":        o.SetGroupRows(1),
		"bytes":       o.SetGroupBytes(1 << 20),
		"delay":       o.SetGroupDelayMs(0),
		"copy":        o.SetCopyMinRows(0),
		"max pending": o.SetMaxPendingBytes(1 << 30),
	} {
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	for what, err := range map[string]error{
		"empty conninfo":   o.SetConninfo(""),
		"empty source":     o.SetSourceID(""),
		"long source":      o.SetSourceID(strings.Repeat("x", 64)),
		"empty meta":       o.SetMetaSchema(""),
		"long column":      o.SetTenantColumn(strings.Repeat("x", 64)),
		"NUL column":       o.SetTenantColumn("a\x00b"),
		"zero rows":        o.SetGroupRows(0),
		"negative rows":    o.SetGroupRows(-1),
		"zero bytes":       o.SetGroupBytes(0),
		"negative delay":   o.SetGroupDelayMs(-1),
		"negative copy":    o.SetCopyMinRows(-5),
		"zero max pending": o.SetMaxPendingBytes(0),
	} {
		wantCode(t, err, EINVAL, what)
	}
	he := wantCode(t, o.SetSourceID("bad id"), EINVAL, "bad source id")
	if !strings.Contains(he.Message, "source id") || he.Message != o.Errmsg() {
		t.Errorf("message %q, Errmsg %q", he.Message, o.Errmsg())
	}
	o.Close()
	o.Close()
	wantCode(t, o.SetConninfo(unreachable), ECLOSED, "closed opts")
	wantCode(t, o.SetGroupRows(1), ECLOSED, "closed opts")
}

func TestApplierCreationErrors(t *testing.T) {
	env := newTestEnv(t)
	_, err := NewApplier(env, newTestApplierOpts(t, env, ""), ApplierCallbacks{})
	he := wantCode(t, err, EINVAL, "missing conninfo")
	if !strings.Contains(he.Message, "conninfo") || he.Message != env.Errmsg() {
		t.Errorf("message %q, env %q", he.Message, env.Errmsg())
	}
	_, err = NewApplier(env, nil, ApplierCallbacks{})
	wantCode(t, err, EINVAL, "nil opts")
	if OpTruncate != 5 || ApplierPhaseBackoff.String() != "BACKOFF" || ApplierPhase(42).String() != "ApplierPhase(42)" {
		t.Error("constants")
	}
}

func TestApplierBeforeReady(t *testing.T) {
	env := newTestEnv(t)
	a := newTestApplier(t, env, ApplierCallbacks{})
	if a.Phase() != ApplierPhaseIdle || a.Fd() != -1 || a.Interest() != 0 || a.TimeoutMs(env.MonotonicNs()) != 0 {
		t.Fatalf("new applier: phase %v fd %d interest %d timeout %d", a.Phase(), a.Fd(), a.Interest(), a.TimeoutMs(env.MonotonicNs()))
	}
	if a.Errmsg() != "" || a.PendingBytes() != 0 || a.Stats() != (ApplierStats{}) {
		t.Errorf("errmsg %q pending %d stats %+v", a.Errmsg(), a.PendingBytes(), a.Stats())
	}
	if _, err := a.Checkpoint("t1"); err == nil {
		t.Fatal("Checkpoint before ready")
	}
	_, err := a.Checkpoint("t1")
	wantCode(t, err, EAGAIN, "Checkpoint before ready")
	_, _, err = a.CopyState("t1")
	wantCode(t, err, EAGAIN, "CopyState before ready")
	_, err = a.Checkpoint("bad id")
	wantCode(t, err, EINVAL, "Checkpoint bad id")
	if a.CopyTableDone("t1", "public", "items") {
		t.Error("CopyTableDone before ready")
	}
	he := wantCode(t, a.Begin("t1", 100), ESTATE, "Begin before ready")
	if !strings.Contains(he.Message, "checkpoints") || a.Errmsg() != he.Message {
		t.Errorf("message %q, Errmsg %q", he.Message, a.Errmsg())
	}
	wantCode(t, a.BeginCopy("t1", "public", "items", 100), ESTATE, "BeginCopy before ready")
	wantCode(t, a.BeginCopy("t1", "", "items", 100), EINVAL, "BeginCopy without schema")
	wantCode(t, a.FinishCopy("t1", 100), ESTATE, "FinishCopy before ready")
	wantCode(t, a.Commit(), ESTATE, "Commit without Begin")
	a.Rollback() // no transaction: a no-op
	if err := a.SetIdempotentUntil("t1", 0x500); err != nil {
		t.Error(err)
	}
	wantCode(t, a.SetIdempotentUntil("bad id", 1), EINVAL, "SetIdempotentUntil bad id")
	wantCode(t, a.Resume("t1"), ENOTFOUND, "Resume not paused")
}

func opBatch(t *testing.T, env *Env, rows [][]any) *Batch {
	t.Helper()
	b, err := BatchFromRows(env, []Column{{Name: "_hr_op", Type: OidInt2}, {Name: "id", Type: OidInt8, Nullable: true}}, rows)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetRelation("public", "items"); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestApplierRefusedBatchStaysWithCaller(t *testing.T) {
	env := newTestEnv(t)
	a := newTestApplier(t, env, ApplierCallbacks{})
	good := opBatch(t, env, [][]any{{int64(OpInsert), int64(1)}, {int64(OpInsert), int64(2)}})
	bare, err := BatchFromRows(env, []Column{{Name: "id", Type: OidInt8}}, [][]any{{int64(1)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []*Batch{good, bare} {
		// No transaction can be open before the checkpoints load.
		wantCode(t, a.AddBatch(b), ESTATE, "AddBatch before Begin")
		if b.Moved() || b.Closed() || b.Len() == 0 {
			t.Fatalf("refused batch: moved %v closed %v", b.Moved(), b.Closed())
		}
		b.Close() // still ours to free
		if b.Moved() {
			t.Error("a closed batch is not moved")
		}
	}
	wantCode(t, a.AddBatch(good), ECLOSED, "AddBatch of a closed batch")
	wantCode(t, a.AddBatch(nil), EINVAL, "AddBatch(nil)")
}

func TestBatchDetach(t *testing.T) {
	// The moved-from state as AddBatch leaves it on success (which needs a
	// server: see tests/integration for the C side).
	env := newTestEnv(t)
	b := opBatch(t, env, [][]any{{int64(OpDelete), int64(7)}})
	cptr := b.ptr
	if got := b.detach(); got != env {
		t.Fatal("detach returned another Env")
	}
	if !b.Moved() || !b.Closed() {
		t.Fatal("detached batch not moved")
	}
	wantCode(t, b.SetRelation("a", "b"), ECLOSED, "SetRelation of a moved batch")
	b.Close() // nothing to free: a no-op
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(string), "AddBatch") {
				t.Errorf("Len of a moved batch: %v", r)
			}
		}()
		b.Len()
	}()
	// The new owner (here the test) hands it back to be freed.
	b.ptr, b.moved = cptr, false
	b.Close()
	if !b.Closed() || b.Moved() {
		t.Error("batch handed back and closed")
	}
}

func TestTruncateBatch(t *testing.T) {
	env := newTestEnv(t)
	b, err := TruncateBatch(env, "app", "tags")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if s, tb := b.Relation(); s != "app" || tb != "tags" {
		t.Errorf("relation %s.%s", s, tb)
	}
	rows := b.Rows()
	if !reflect.DeepEqual(rows, [][]any{{int64(OpTruncate)}}) || b.Columns()[0] != (Column{Name: "_hr_op", Type: OidInt2}) {
		t.Errorf("rows %v columns %v", rows, b.Columns())
	}
	_, err = TruncateBatch(env, "app", "nul\x00")
	wantCode(t, err, EINVAL, "TruncateBatch with a NUL in the name")
}

func TestApplierUnreachableBacksOff(t *testing.T) {
	env := newTestEnv(t)
	calls := 0
	a := newTestApplier(t, env, ApplierCallbacks{
		OnApplied: func(string, uint64) { calls++ },
		OnError:   func(string, uint64, Status, string) { calls++ },
	})
	backoff := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if err := a.Step(0); err != nil {
			t.Fatalf("Step on a refused connection: %v", err)
		}
		p := a.Phase()
		if p != ApplierPhaseConnecting && p != ApplierPhaseBackoff {
			t.Fatalf("phase %v", p)
		}
		if ms := a.TimeoutMs(env.MonotonicNs()); ms < -1 {
			t.Fatalf("TimeoutMs %d", ms)
		}
		if p == ApplierPhaseBackoff {
			backoff = true
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !backoff {
		t.Fatal("never reached BACKOFF")
	}
	if ms := a.TimeoutMs(env.MonotonicNs()); ms <= 0 {
		t.Errorf("TimeoutMs in BACKOFF = %d, want the back-off timer", ms)
	}
	if a.Fd() != -1 {
		t.Errorf("Fd %d in BACKOFF", a.Fd())
	}
	_, err := a.Checkpoint("t1")
	wantCode(t, err, EAGAIN, "Checkpoint in BACKOFF")
	if calls != 0 || a.Stats() != (ApplierStats{}) {
		t.Errorf("callbacks %d, stats %+v", calls, a.Stats())
	}
	a.Close()
	a.Close()
	if a.Phase() != ApplierPhaseClosed {
		t.Error("phase after Close")
	}
	wantCode(t, a.Step(0), ECLOSED, "Step after Close")
	wantCode(t, a.Begin("t1", 1), ECLOSED, "Begin after Close")
	wantCode(t, a.AddBatch(nil), ECLOSED, "AddBatch after Close")
	wantCode(t, a.Commit(), ECLOSED, "Commit after Close")
	_, err = a.Checkpoint("t1")
	wantCode(t, err, ECLOSED, "Checkpoint after Close")
}

func TestApplierCallbackTrampolines(t *testing.T) {
	env := newTestEnv(t)
	var got []any
	a := newTestApplier(t, env, ApplierCallbacks{
		OnApplied: func(tenant string, lsn uint64) { got = append(got, tenant, lsn) },
		OnError: func(tenant string, lsn uint64, status Status, message string) {
			got = append(got, tenant, lsn, status, message)
			panic("from OnError")
		},
	})
	func() {
		defer func() {
			if r := recover(); r != "from OnError" {
				t.Errorf("recovered %v", r)
			}
		}()
		a.applierThroughTrampolines("acme", 0x2000, ESCHEMA, "no column x in t")
	}()
	want := []any{"acme", uint64(0x2000), "acme", uint64(0x2000), ESCHEMA, "no column x in t"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("callbacks saw %v", got)
	}
	if err := a.Step(0); err != nil { // the panic was re-raised once only
		t.Fatal(err)
	}
}

func TestApplierKeepsEnv(t *testing.T) {
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	o, err := NewApplierOpts(env)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.SetConninfo(unreachable); err != nil {
		t.Fatal(err)
	}
	a, err := NewApplier(env, o, ApplierCallbacks{})
	if err != nil {
		t.Fatal(err)
	}
	o.Close() // the applier copied them
	env.Close()
	if err := a.Step(0); err != nil {
		t.Fatal(err)
	}
	a.Close()
}
