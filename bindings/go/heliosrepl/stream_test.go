package heliosrepl

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const unreachable = "host=127.0.0.1 port=1 connect_timeout=1"

func ignoreTxn(string, *PgTxn, []StreamChange) error { return nil }

func wantCode(t *testing.T, err error, code Status, what string) *Error {
	t.Helper()
	var he *Error
	if !errors.As(err, &he) || he.Code != code {
		t.Fatalf("%s: got %v, want %v", what, err, code)
	}
	return he
}

func newTestOpts(t *testing.T, env *Env) *StreamOpts {
	t.Helper()
	o, err := NewStreamOpts(env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o.Close)
	return o
}

func TestStreamOptsSetters(t *testing.T) {
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	o := newTestOpts(t, env)
	for what, err := range map[string]error{
		"conninfo":  o.SetConninfo("host=localhost dbname=x"),
		"mode":      o.SetMode(StreamDedicated),
		"tenant":    o.SetTenant("acme-1.prod_x"),
		"column":    o.SetTenantColumn("org_id"),
		"table":     o.AddTable("public.items"),
		"schema":    o.AddSchema("app"),
		"slot":      o.SetSlot("my_slot_1"),
		"pub":       o.SetPublication("my_pub"),
		"lsn":       o.SetStartLSN(0x16B3748),
		"binary":    o.SetBinary(true),
		"proto":     o.SetProtoVersion(1),
		"status":    o.SetStatusIntervalMs(5000),
		"heartbeat": o.SetHeartbeatIntervalMs(0),
		"export":    o.SetExportSnapshot(true),
	} {
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	for _, bad := range []string{"", "has space", strings.Repeat("x", 64), "quote'"} {
		he := wantCode(t, o.SetTenant(bad), EINVAL, "SetTenant("+bad+")")
		if !strings.Contains(he.Message, "tenant") || he.Message != o.Errmsg() {
			t.Errorf("SetTenant(%q) message %q, Errmsg %q", bad, he.Message, o.Errmsg())
		}
	}
	wantCode(t, o.SetTenant("nul\x00"), EINVAL, "NUL tenant")
	wantCode(t, o.SetSlot("Upper"), EINVAL, "SetSlot")
	wantCode(t, o.SetPublication(`back\slash`), EINVAL, "SetPublication")
	wantCode(t, o.SetMode(StreamMode(7)), EINVAL, "SetMode")
	wantCode(t, o.SetProtoVersion(3), EINVAL, "SetProtoVersion")
	if err := o.SetTenant(strings.Repeat("x", 63)); err != nil {
		t.Error(err)
	}
	o.Close()
	o.Close()
	wantCode(t, o.SetTenant("t"), ECLOSED, "closed opts")
}

func TestStreamCreationErrors(t *testing.T) {
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	o := newTestOpts(t, env)
	if err := o.SetTenant("t1"); err != nil {
		t.Fatal(err)
	}
	_, err = NewStream(env, o, StreamCallbacks{OnTxn: ignoreTxn})
	he := wantCode(t, err, EINVAL, "missing conninfo")
	if !strings.Contains(he.Message, "conninfo") || he.Message != env.Errmsg() {
		t.Errorf("message %q, env %q", he.Message, env.Errmsg())
	}
	if err := o.SetConninfo(unreachable); err != nil {
		t.Fatal(err)
	}
	_, err = NewStream(env, o, StreamCallbacks{})
	wantCode(t, err, EINVAL, "no OnTxn")
	_, err = NewStream(env, nil, StreamCallbacks{OnTxn: ignoreTxn})
	wantCode(t, err, EINVAL, "nil opts")
}

func newDedicated(t *testing.T, env *Env) *Stream {
	t.Helper()
	o := newTestOpts(t, env)
	if err := o.SetConninfo(unreachable); err != nil {
		t.Fatal(err)
	}
	if err := o.SetTenant("t1"); err != nil {
		t.Fatal(err)
	}
	s, err := NewStream(env, o, StreamCallbacks{OnTxn: ignoreTxn})
	if err != nil {
		t.Fatal(err)
	}
	o.Close() // the stream copied them
	return s
}

func TestStreamUnreachableBacksOff(t *testing.T) {
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	s := newDedicated(t, env)
	defer s.Close()
	if p := s.Phase(); p != StreamPhaseIdle {
		t.Fatalf("phase %v before the first step", p)
	}
	if fds, err := s.Fds(); err != nil || len(fds) != 0 || s.Fd() != -1 {
		t.Fatalf("Fds %v %v, Fd %d", fds, err, s.Fd())
	}
	if ms := s.TimeoutMs(env.MonotonicNs()); ms < -1 {
		t.Fatalf("TimeoutMs %d", ms)
	}
	backoff := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if err := s.Step(0); err != nil {
			t.Fatalf("Step on a refused connection: %v", err)
		}
		p := s.Phase()
		if p != StreamPhaseConnecting && p != StreamPhaseBackoff {
			t.Fatalf("phase %v", p)
		}
		fds, err := s.Fds()
		if err != nil || len(fds) > 2 {
			t.Fatalf("Fds %v %v", fds, err)
		}
		for _, f := range fds {
			if f.Fd < 0 || f.Interest&^(PollIn|PollOut) != 0 {
				t.Fatalf("fd %+v", f)
			}
		}
		if ms := s.TimeoutMs(env.MonotonicNs()); ms < -1 {
			t.Fatalf("TimeoutMs %d", ms)
		}
		if p == StreamPhaseBackoff {
			backoff = true
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !backoff {
		t.Fatal("never reached BACKOFF")
	}
	if !strings.Contains(s.Errmsg(), "connect") {
		t.Errorf("Errmsg %q", s.Errmsg())
	}
	if err := s.Run(150); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if p := s.Phase(); p != StreamPhaseConnecting && p != StreamPhaseBackoff {
		t.Fatalf("phase %v after Run", p)
	}
	if s.SnapshotName() != "" || s.ConsistentLsn() != 0 {
		t.Errorf("snapshot %q %d", s.SnapshotName(), s.ConsistentLsn())
	}
	wantCode(t, s.ReleaseSnapshot(), ESTATE, "ReleaseSnapshot")
	wantCode(t, s.AddTenant("t2", 0), EINVAL, "dedicated AddTenant")
	if err := s.Confirm("", 200); err != nil {
		t.Error(err)
	}
	s.Close()
	s.Close()
	if s.Phase() != StreamPhaseClosed {
		t.Error("phase after Close")
	}
	wantCode(t, s.Step(0), ECLOSED, "Step after Close")
	wantCode(t, s.Run(0), ECLOSED, "Run after Close")
	wantCode(t, s.Drop(), ECLOSED, "Drop after Close")
	if _, err := s.Fds(); err == nil {
		t.Error("Fds after Close")
	}
}

func TestStreamSharedTenants(t *testing.T) {
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	o := newTestOpts(t, env)
	if err := o.SetConninfo(unreachable); err != nil {
		t.Fatal(err)
	}
	if err := o.SetMode(StreamShared); err != nil {
		t.Fatal(err)
	}
	s, err := NewStream(env, o, StreamCallbacks{OnTxn: ignoreTxn, OnSchemaChange: func(*PgRelation) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.AddTenant("a", 0); err != nil {
		t.Fatal(err)
	}
	if err := s.AddTenant("b", 0x500); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.AddTenant("a", 0), EINVAL, "duplicate tenant")
	wantCode(t, s.AddTenant("bad id", 0), EINVAL, "bad tenant id")
	if got := s.ConfirmedLsn("b"); got != 0x500 {
		t.Errorf("ConfirmedLsn(b) = %#x", got)
	}
	if err := s.Confirm("b", 0x600); err != nil {
		t.Fatal(err)
	}
	if got := s.ConfirmedLsn("b"); got != 0x600 {
		t.Errorf("ConfirmedLsn(b) = %#x", got)
	}
	wantCode(t, s.Confirm("", 1), EINVAL, "shared Confirm without tenant")
	wantCode(t, s.Confirm("zz", 1), ENOTFOUND, "Confirm unknown")
	if err := s.RemoveTenant("a"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.RemoveTenant("a"), ENOTFOUND, "RemoveTenant twice")
	wantCode(t, s.RemoveTenant("unknown"), ENOTFOUND, "RemoveTenant unknown")
}

func TestStreamToBatchNeedsLiveTxn(t *testing.T) {
	txn := &PgTxn{}
	_, _, err := StreamToBatch(txn, []StreamChange{{0, StreamRoleAsIs}}, 0, nil)
	wantCode(t, err, ESTATE, "StreamToBatch")
	_, err = StreamBatches(txn, nil)
	wantCode(t, err, ESTATE, "StreamBatches")
	if StreamPhaseBackoff.String() != "BACKOFF" || StreamPhase(42).String() != "StreamPhase(42)" {
		t.Error("StreamPhase.String")
	}
}
