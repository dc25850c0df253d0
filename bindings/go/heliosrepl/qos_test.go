package heliosrepl

import (
	"strings"
	"testing"
)

func newScheduler(t *testing.T) *Scheduler {
	t.Helper()
	s, err := NewScheduler(newEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestSchedulerParamsAndPresets(t *testing.T) {
	s := newScheduler(t)
	if lo, hi, err := SchedulerParamBounds(SchedParamAdmission); err != nil || lo != 0 || hi != 1 {
		t.Fatalf("bounds %d %d %v", lo, hi, err)
	}
	if _, _, err := SchedulerParamBounds(9); err == nil {
		t.Fatal("unknown parameter accepted")
	}
	if v, err := s.Param(SchedParamCapacity); err != nil || v != 1000000 {
		t.Fatalf("capacity %d %v", v, err)
	}
	asError(t, s.SetParam(SchedParamCapacity, 0), EINVAL)
	if err := s.SetParam(SchedParamCapacity, 2000000); err != nil {
		t.Fatal(err)
	}
	if w, err := s.Tier(TierPremium, QosWeight); err != nil || w != 4 {
		t.Fatalf("premium weight %v %v", w, err)
	}
	if err := s.Add(1, TierPremium); err != nil {
		t.Fatal(err)
	}
	if v, o, err := s.TenantSetting(1, QosReservation); err != nil || v != 20000 || o {
		t.Fatalf("reservation %v %v %v", v, o, err)
	}
	if err := s.Override(1, QosReservation, 5, 0); err != nil {
		t.Fatal(err)
	}
	if v, o, _ := s.TenantSetting(1, QosReservation); v != 5 || !o {
		t.Fatalf("override %v %v", v, o)
	}
	if err := s.ClearOverride(1, QosReservation, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTenantTier(1, TierBasic, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTier(TierBasic, QosLimit, 0.5); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := s.TenantSetting(1, QosLimit); v != 1000000 {
		t.Fatalf("limit %v", v)
	}
	he := asError(t, s.SetTier(TierBasic, QosLimit, 2), EINVAL)
	if !strings.Contains(he.Message, "outside") {
		t.Errorf("message %q", he.Message)
	}
}

func TestSchedulerDecisions(t *testing.T) {
	s := newScheduler(t)
	if _, wait, ok, err := s.Next(0); ok || err != nil || wait != ^uint64(0) {
		t.Fatalf("empty: %d %v %v", wait, ok, err)
	}
	for _, id := range []uint64{10, 20} {
		if err := s.Add(id, TierBasic); err != nil {
			t.Fatal(err)
		}
	}
	asError(t, s.Add(10, TierBasic), ECONFLICT)
	if err := s.Override(10, QosLimit, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Override(20, QosLimit, 10, 0); err != nil { // 10 units/s
		t.Fatal(err)
	}
	if err := s.SetBacklog(10, 100, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(20, 100, 0); err != nil {
		t.Fatal(err)
	}
	if s.TenantCount() != 2 || s.BackloggedCount() != 2 {
		t.Fatalf("counts %d %d", s.TenantCount(), s.BackloggedCount())
	}
	served := map[uint64]int{}
	for i := 0; i < 40; i++ {
		tenant, _, ok, err := s.Next(0)
		if !ok || err != nil {
			t.Fatalf("next: %v %v", ok, err)
		}
		if err := s.Charge(tenant, 1, 1, 0); err != nil {
			t.Fatal(err)
		}
		served[tenant]++
	}
	if served[10] != 39 || served[20] != 1 {
		t.Fatalf("served %v", served)
	}
	st, err := s.Stats(20)
	if err != nil {
		t.Fatal(err)
	}
	if st.Tier != TierBasic || st.LastPhase != QosPhaseWeight || st.Backlog != 99 || st.Items != 1 || st.WeightCost != 1 || st.Decisions != 1 {
		t.Fatalf("stats %+v", st)
	}
	if err := s.Remove(10); err != nil {
		t.Fatal(err)
	}
	if _, wait, ok, err := s.Next(50_000_000); ok || err != nil || wait != 50_000_000 {
		t.Fatalf("held: %d %v %v", wait, ok, err)
	}
	if tenant, _, ok, _ := s.Next(100_000_000); !ok || tenant != 20 {
		t.Fatalf("released: %d %v", tenant, ok)
	}
	asError(t, s.Charge(10, 1, 1, 0), ENOTFOUND)
	asError(t, s.Remove(10), ENOTFOUND)
	asError(t, s.Charge(20, 1<<51, 1, 0), EINVAL)
	if !strings.Contains(s.Errmsg(), "outside") {
		t.Errorf("errmsg %q", s.Errmsg())
	}
	s.Close()
	s.Close()
	if !s.Closed() {
		t.Fatal("not closed")
	}
	asError(t, s.Add(1, TierBasic), ECLOSED)
}
