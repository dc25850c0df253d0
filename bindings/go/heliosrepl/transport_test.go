package heliosrepl

import (
	"bytes"
	"errors"
	"testing"
)

func TestTransportInproc(t *testing.T) {
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	tr, err := NewInprocTransport(env)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if tr.Kind() != TransportInproc || tr.Fd() != -1 || tr.Interest() != 0 || tr.TimeoutMs(0) != -1 {
		t.Fatal("in-process transport has I/O")
	}
	if err := tr.Step(0); err != nil {
		t.Fatal(err)
	}
	if lo, hi, err := TransportParamBounds(TransportMaxBytes); err != nil || lo != 1 || hi != 1<<40 {
		t.Fatalf("bounds %d %d %v", lo, hi, err)
	}
	if err := tr.SetParam(TransportMaxMessages, 2); err != nil {
		t.Fatal(err)
	}
	if v, _ := tr.Param(TransportMaxMessages); v != 2 {
		t.Fatalf("param %d", v)
	}
	data := []byte("frame")
	seq, err := tr.Send(MessageMeta{TenantID: "acme", Flags: MessageFirst | MessageLast, LSN: 42, CommitTime: 7}, data)
	if err != nil || seq != 1 {
		t.Fatalf("send: %d %v", seq, err)
	}
	data[0] = 'X' // copied on send
	if _, err := tr.Send(MessageMeta{TenantID: "acme", Flags: MessageFirst | MessageCopy,
		SchemaName: "public", TableName: "t", LSN: 9}, nil); err != nil {
		t.Fatal(err)
	}
	if tr.Writable(0) {
		t.Fatal("full queue writable")
	}
	_, err = tr.Send(MessageMeta{TenantID: "acme"}, nil)
	var he *Error
	if !errors.As(err, &he) || he.Code != EAGAIN {
		t.Fatalf("want EAGAIN, got %v", err)
	}
	if _, err := tr.Send(MessageMeta{TenantID: "", Flags: MessageFirst}, nil); err == nil {
		t.Fatal("empty tenant accepted")
	}
	if st := tr.Stats(); st.SentMessages != 2 || st.QueuedMessages != 2 || st.SentBytes != 5 {
		t.Fatalf("stats %+v", st)
	}
	m, err := tr.Recv()
	if err != nil || m == nil {
		t.Fatal(err)
	}
	if m.Meta.TenantID != "acme" || m.Meta.LSN != 42 || m.Meta.CommitTime != 7 || m.Meta.Seq != 1 ||
		!bytes.Equal(m.Data, []byte("frame")) || m.Meta.Flags != MessageFirst|MessageLast {
		t.Fatalf("message %+v", m)
	}
	m, _ = tr.Recv()
	if m.Meta.TableName != "t" || m.Meta.SchemaName != "public" || len(m.Data) != 0 {
		t.Fatalf("copy message %+v", m)
	}
	if m, err := tr.Recv(); m != nil || err != nil {
		t.Fatal("empty queue gave a message")
	}
	tr.Close()
	if _, err := tr.Recv(); err == nil {
		t.Fatal("closed transport worked")
	}
}
