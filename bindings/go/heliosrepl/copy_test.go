package heliosrepl

import (
	"math"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

func newCopierOpts(t *testing.T, env *Env) *CopierOpts {
	t.Helper()
	o, err := NewCopierOpts(env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o.Close)
	return o
}

func takeBatch(_, _ string, b *Batch) error { b.Close(); return nil }

func TestCopierOptsSetters(t *testing.T) {
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	o := newCopierOpts(t, env)
	for what, err := range map[string]error{
		"conninfo":   o.SetConninfo("dbname=x"),
		"tenant":     o.SetTenant("acme-1.prod_x"),
		"column":     o.SetTenantColumn("org_id"),
		"table":      o.AddTable("public.items"),
		"schema":     o.AddSchema("app"),
		"snapshot":   o.SetSnapshot("00000003-00000002-1"),
		"no snap":    o.SetSnapshot(""),
		"skip":       o.AddSkipTable("public.done"),
		"batch rows": o.SetRowsPerBatch(10),
		"priority":   o.SetTablePriority("public.items", 2.5),
	} {
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	for what, err := range map[string]error{
		"tenant": o.SetTenant("no spaces"),
		"rows":   o.SetRowsPerBatch(0),
		"neg":    o.SetRowsPerBatch(-1),
		"table":  o.AddTable(".t"),
		"nul":    o.SetTenant("a\x00b"),
		"nan":    o.SetTablePriority("t", math.NaN()),
	} {
		wantCode(t, err, EINVAL, what)
	}
	if o.Errmsg() == "" {
		t.Error("no message after a failed setter")
	}
	o.Close()
	wantCode(t, o.SetTenant("a"), ECLOSED, "closed")
}

func TestCopierUnreachable(t *testing.T) {
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	o := newCopierOpts(t, env)
	if _, err := NewCopier(env, o, CopierCallbacks{}); err == nil {
		t.Fatal("no OnBatch accepted")
	}
	if err := o.SetConninfo("host=/nonexistent/hr port=1 dbname=x"); err != nil {
		t.Fatal(err)
	}
	_, err = NewCopier(env, o, CopierCallbacks{OnBatch: takeBatch})
	he := wantCode(t, err, EINVAL, "no tenant")
	if !strings.Contains(he.Message, "tenant") {
		t.Errorf("message %q", he.Message)
	}
	if err := o.SetTenant("a"); err != nil {
		t.Fatal(err)
	}
	c, err := NewCopier(env, o, CopierCallbacks{OnBatch: takeBatch})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Fd() != -1 || c.Interest() != 0 || c.TimeoutMs(env.MonotonicNs()) != 0 || c.Done() {
		t.Error("a new copier waits for something")
	}
	if p := c.Progress(); p != (CopyProgress{}) || c.SnapshotLSN() != 0 {
		t.Errorf("progress %+v", p)
	}
	wantCode(t, c.Run(5000), EIO, "run")
	if !strings.Contains(c.Errmsg(), "connect") {
		t.Errorf("errmsg %q", c.Errmsg())
	}
	wantCode(t, c.Step(0), EIO, "step again")
	c.Close()
	wantCode(t, c.Step(0), ECLOSED, "closed")
}

// With HR_TEST_PG_SOURCE (tests/support/with-servers --pg source): a real
// copy with backpressure once.
func TestCopierRealSource(t *testing.T) {
	conninfo := os.Getenv("HR_TEST_PG_SOURCE")
	if conninfo == "" {
		t.Skip("HR_TEST_PG_SOURCE not set")
	}
	setup := "DROP TABLE IF EXISTS gocopy; CREATE TABLE gocopy (tenant_id text, id int, t text); " +
		"INSERT INTO gocopy SELECT v, g, 'x' || g FROM generate_series(1, 25) g, (VALUES ('A'), ('B')) x(v)"
	if out, err := exec.Command("psql", conninfo, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", setup).CombinedOutput(); err != nil {
		t.Fatalf("psql: %v: %s", err, out)
	}
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	o := newCopierOpts(t, env)
	for _, err := range []error{o.SetConninfo(conninfo), o.SetTenant("A"), o.AddTable("gocopy"), o.SetRowsPerBatch(10)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	var sizes, ids []int
	pushed := false
	var ended uint64
	c, err := NewCopier(env, o, CopierCallbacks{
		OnBatch: func(schema, table string, b *Batch) error {
			if !pushed {
				pushed = true
				return EAGAIN
			}
			defer b.Close()
			sizes = append(sizes, b.Len())
			for _, row := range b.Rows() {
				if row[0] != int64(1) || row[1] != "A" {
					t.Errorf("row %v", row)
				}
				ids = append(ids, int(row[2].(int64)))
			}
			return nil
		},
		OnTableEnd: func(_, _ string, rows, _ uint64) error { ended = rows; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Run(30000); err != nil || !c.Done() {
		t.Fatalf("run: %v (done %v)", err, c.Done())
	}
	sort.Ints(ids)
	if len(ids) != 25 || ids[0] != 1 || ids[24] != 25 || ended != 25 || len(sizes) != 3 {
		t.Errorf("sizes %v ids %v ended %d", sizes, ids, ended)
	}
	if p := c.Progress(); p.RowsDone != 25 || p.RowsExpected != 25 || p.Percent != 100 || c.SnapshotLSN() == 0 {
		t.Errorf("progress %+v lsn %d", p, c.SnapshotLSN())
	}
}
