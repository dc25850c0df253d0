package heliosrepl

// Applier tests against a real target PostgreSQL: they run when
// HR_TEST_PG_TARGET is set (tests/support/with-servers --pg target) and
// are skipped otherwise.

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func targetOrSkip(t *testing.T) string {
	t.Helper()
	target := os.Getenv("HR_TEST_PG_TARGET")
	if target == "" {
		t.Skip("HR_TEST_PG_TARGET not set (run under tests/support/with-servers --pg target)")
	}
	return target
}

func psql(t *testing.T, target, sql string) string {
	t.Helper()
	out, err := exec.Command("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", target, "-c", sql).CombinedOutput()
	if err != nil {
		t.Fatalf("psql %q: %v: %s", sql, err, out)
	}
	return strings.TrimSpace(string(out))
}

type serverApplier struct {
	t       *testing.T
	env     *Env
	a       *Applier
	target  string
	applied []string
	errors  []string
}

func newServerApplier(t *testing.T) *serverApplier {
	target := targetOrSkip(t)
	psql(t, target, "DROP SCHEMA IF EXISTS heliosrepl CASCADE; DROP TABLE IF EXISTS public.items; "+
		"CREATE TABLE public.items (tenant_id text NOT NULL, id int8 NOT NULL, name text, PRIMARY KEY (tenant_id, id))")
	s := &serverApplier{t: t, env: newTestEnv(t), target: target}
	o := newTestApplierOpts(t, s.env, target)
	if err := o.SetGroupDelayMs(0); err != nil {
		t.Fatal(err)
	}
	a, err := NewApplier(s.env, o, ApplierCallbacks{
		OnApplied: func(tenant string, lsn uint64) {
			s.applied = append(s.applied, tenant+"@"+strconv.FormatUint(lsn, 16))
		},
		OnError: func(tenant string, lsn uint64, status Status, message string) {
			s.errors = append(s.errors, tenant+": "+status.String()+": "+message)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	s.a = a
	s.stepUntil(func() bool { return a.Phase() == ApplierPhaseReady })
	return s
}

func (s *serverApplier) stepUntil(done func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out: phase %v, %q", s.a.Phase(), s.a.Errmsg())
		}
		if err := s.a.Step(0); err != nil {
			s.t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (s *serverApplier) rows(env *Env, rows [][]any) *Batch {
	s.t.Helper()
	b, err := BatchFromRows(env, []Column{{Name: "_hr_op", Type: OidInt2}, {Name: "tenant_id", Type: OidText, Nullable: true},
		{Name: "id", Type: OidInt8, Nullable: true}, {Name: "name", Type: OidText, Nullable: true}}, rows)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := b.SetRelation("public", "items"); err != nil {
		s.t.Fatal(err)
	}
	return b
}

func (s *serverApplier) add(b *Batch) {
	s.t.Helper()
	if err := s.a.AddBatch(b); err != nil {
		s.t.Fatal(err)
	}
	if !b.Moved() || !b.Closed() {
		s.t.Fatal("AddBatch did not take the batch")
	}
	wantCode(s.t, s.a.AddBatch(b), ECLOSED, "AddBatch of a moved batch")
	b.Close() // a no-op
}

func TestApplierServerTakesBatchesOver(t *testing.T) {
	s := newServerApplier(t)
	a := s.a
	if lsn, err := a.Checkpoint("t1"); err != nil || lsn != 0 {
		t.Fatalf("Checkpoint %d %v", lsn, err)
	}
	if done, n, err := a.CopyState("t1"); err != nil || done || n != 0 {
		t.Fatalf("CopyState %v %d %v", done, n, err)
	}
	if err := a.Begin("t1", 0x100); err != nil {
		t.Fatal(err)
	}
	bare, err := BatchFromRows(s.env, []Column{{Name: "id", Type: OidInt8}}, [][]any{{int64(1)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := bare.SetRelation("public", "items"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, a.AddBatch(bare), EINVAL, "AddBatch without _hr_op")
	if bare.Moved() || bare.Len() != 1 {
		t.Fatal("a refused batch left the caller")
	}
	bare.Close()
	otherEnv, err := NewEnv() // a batch of another Env, closed meanwhile
	if err != nil {
		t.Fatal(err)
	}
	first := s.rows(s.env, [][]any{{int64(OpInsert), "t1", int64(1), "one"}, {int64(OpInsert), "t1", int64(2), "two"}})
	second := s.rows(otherEnv, [][]any{{int64(OpUpdate), "t1", int64(2), "deux"}})
	otherEnv.Close()
	s.add(first)
	s.add(second)
	wantCode(t, a.Begin("t1", 0x200), ESTATE, "Begin with a transaction open")
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if a.PendingBytes() == 0 {
		t.Error("nothing pending after Commit")
	}
	// A rolled-back transaction's batches are freed by the library.
	if err := a.Begin("t1", 0x180); err != nil {
		t.Fatal(err)
	}
	s.add(s.rows(s.env, [][]any{{int64(OpInsert), "t1", int64(9), "never"}}))
	a.Rollback()
	s.stepUntil(func() bool { return len(s.applied) > 0 })
	if strings.Join(s.applied, ",") != "t1@100" || len(s.errors) != 0 {
		t.Fatalf("applied %v errors %v", s.applied, s.errors)
	}
	if lsn, err := a.Checkpoint("t1"); err != nil || lsn != 0x100 {
		t.Fatalf("Checkpoint %#x %v", lsn, err)
	}
	if st := a.Stats(); st.TargetTxns != 1 || st.SourceTxns != 1 || st.Rows != 3 || a.PendingBytes() != 0 {
		t.Errorf("stats %+v, pending %d", st, a.PendingBytes())
	}
	if got := psql(t, s.target, "SELECT string_agg(id || '=' || name, ',' ORDER BY id) FROM items"); got != "1=one,2=deux" {
		t.Errorf("target rows %q", got)
	}
	// A truncate batch deletes the tenant's rows only.
	psql(t, s.target, "INSERT INTO items VALUES ('t2', 1, 'other')")
	if err := a.Begin("t1", 0x300); err != nil {
		t.Fatal(err)
	}
	tb, err := TruncateBatch(s.env, "public", "items")
	if err != nil {
		t.Fatal(err)
	}
	s.add(tb)
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	s.stepUntil(func() bool { return len(s.applied) == 2 })
	if s.applied[1] != "t1@300" {
		t.Errorf("applied %v", s.applied)
	}
	if got := psql(t, s.target, "SELECT string_agg(tenant_id, ',') FROM items"); got != "t2" {
		t.Errorf("after truncate %q", got)
	}
}

func TestApplierServerCloseFreesQueuedBatches(t *testing.T) {
	s := newServerApplier(t)
	a := s.a
	if err := a.Begin("t1", 0x100); err != nil {
		t.Fatal(err)
	}
	s.add(s.rows(s.env, [][]any{{int64(OpInsert), "t1", int64(1), "one"}}))
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := a.Begin("t1", 0x200); err != nil {
		t.Fatal(err)
	}
	s.add(s.rows(s.env, [][]any{{int64(OpInsert), "t1", int64(2), "two"}}))
	a.Close() // frees the queued and the open transaction's batches
	if got := psql(t, s.target, "SELECT count(*) FROM items"); got != "0" {
		t.Errorf("%s rows applied", got)
	}
}
