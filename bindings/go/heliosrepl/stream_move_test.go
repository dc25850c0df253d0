package heliosrepl

import (
	"strings"
	"testing"
)

func newMoveTestStream(t *testing.T, env *Env, mode StreamMode, tenant string, hold bool) *Stream {
	t.Helper()
	o := newTestOpts(t, env)
	if err := o.SetConninfo(unreachable); err != nil {
		t.Fatal(err)
	}
	if err := o.SetMode(mode); err != nil {
		t.Fatal(err)
	}
	if tenant != "" {
		if err := o.SetTenant(tenant); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.SetHoldStart(hold); err != nil {
		t.Fatal(err)
	}
	s, err := NewStream(env, o, StreamCallbacks{OnTxn: ignoreTxn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestStreamMoveTenantBeforeSetup(t *testing.T) {
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	shared := newMoveTestStream(t, env, StreamShared, "", false)
	held := newMoveTestStream(t, env, StreamDedicated, "t1", true)
	plain := newMoveTestStream(t, env, StreamDedicated, "t1", false)
	if err := shared.AddTenant("t1", 0x500); err != nil {
		t.Fatal(err)
	}
	if lag, err := shared.TenantLagBytes("t1"); err != nil || lag != 0 {
		t.Errorf("TenantLagBytes(t1) = %d, %v", lag, err)
	}
	if lag, err := held.TenantLagBytes(""); err != nil || lag != 0 {
		t.Errorf("TenantLagBytes() = %d, %v", lag, err)
	}
	_, err = shared.TenantLagBytes("zz")
	wantCode(t, err, ENOTFOUND, "lag of an unknown tenant")
	_, err = shared.TenantLagBytes("")
	wantCode(t, err, EINVAL, "shared lag without tenant")
	if v := held.SlotLsn(); v != 0 {
		t.Errorf("SlotLsn = %#x before setup", v)
	}
	// not set up: not yet
	moved, err := shared.MoveTenant("t1", held)
	if moved || err != nil {
		t.Fatalf("MoveTenant before setup = %v, %v", moved, err)
	}
	if !strings.Contains(shared.Errmsg(), "HELD") {
		t.Errorf("Errmsg = %q", shared.Errmsg())
	}
	_, err = shared.MoveTenant("zz", held)
	wantCode(t, err, EINVAL, "move of another tenant than held's")
	_, err = shared.MoveTenant("t1", plain)
	wantCode(t, err, ESTATE, "move to a stream without hold_start")
	_, err = held.MoveTenant("t1", shared)
	wantCode(t, err, EINVAL, "move from a dedicated stream")
	_, err = shared.MoveTenant("t1", nil)
	wantCode(t, err, EINVAL, "move to nil")
	if err := shared.RemoveTenant("t1"); err != nil {
		t.Fatal(err)
	}
	_, err = shared.MoveTenant("t1", held)
	wantCode(t, err, ENOTFOUND, "move of a tenant not on the shared stream")
	if StreamPhaseHeld.String() != "HELD" || int(StreamPhaseHeld) != 7 {
		t.Errorf("StreamPhaseHeld = %d %s", int(StreamPhaseHeld), StreamPhaseHeld)
	}

	o := newTestOpts(t, env)
	if err := o.SetConninfo(unreachable); err != nil {
		t.Fatal(err)
	}
	if err := o.SetMode(StreamShared); err != nil {
		t.Fatal(err)
	}
	if err := o.SetHoldStart(true); err != nil {
		t.Fatal(err)
	}
	_, err = NewStream(env, o, StreamCallbacks{OnTxn: ignoreTxn})
	wantCode(t, err, EINVAL, "hold_start in shared mode")
}
