package heliosrepl

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

const predSec = uint64(1000000000)
const predT0 = uint64(1704067200) * predSec // Monday 2024-01-01 00:00 UTC

func newTestPredictor(t *testing.T) (*Env, *Predictor) {
	t.Helper()
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPredictor(env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(); env.Close() })
	return env, p
}

func TestPredictorTopKAndParams(t *testing.T) {
	_, p := newTestPredictor(t)
	if lo, hi, err := PredictorParamBounds(PredictorParamWindowMS); err != nil || lo != 1000 || hi != 604800000 {
		t.Fatalf("bounds %d %d %v", lo, hi, err)
	}
	for i, key := range []string{"a", "b/orders", "c"} {
		if err := p.Observe(key, predT0+uint64(i)*predSec, AccessWrite, uint32(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.SetParam(PredictorParamWindowMS, 5000); !errors.Is(err, ESTATE) {
		t.Fatalf("layout param after first event: %v", err)
	}
	top, err := p.TopK(predT0+5*predSec, 10)
	if err != nil || len(top) != 3 || top[0].Key != "c" || top[2].Key != "a" {
		t.Fatalf("top %v %v", top, err)
	}
	s, err := p.Score("c", predT0+5*predSec)
	if err != nil || s != top[0].Score {
		t.Fatalf("score %v %v", s, err)
	}
	if err := p.Observe("", predT0, AccessRead, 1); !errors.Is(err, EINVAL) {
		t.Fatalf("empty key: %v", err)
	}
	if err := p.SetParam(PredictorParamScorer, int64(ScorerLearned)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Score("c", predT0+5*predSec); !errors.Is(err, ESTATE) {
		t.Fatalf("learned without a model: %v", err)
	}
	if v, _ := p.Param(PredictorParamScorer); v != int64(ScorerLearned) {
		t.Fatalf("scorer %d", v)
	}
	info, err := p.Info()
	if err != nil || info.Keys != 3 || info.Events != 6 || info.LearnedActive || info.LearnedAUC != -1 {
		t.Fatalf("info %+v %v", info, err)
	}
}

func TestPredictorTrainSaveLoad(t *testing.T) {
	env, p := newTestPredictor(t)
	if err := p.SetParam(PredictorParamWindowMS, 1000); err != nil {
		t.Fatal(err)
	}
	for w := 0; w < 200; w++ {
		for k := 0; k < 10; k++ {
			if (k+w)%2 == 0 {
				if err := p.Observe(fmt.Sprintf("t%d", k), predT0+uint64(w)*predSec, AccessRead, 3); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	now := predT0 + 200*predSec
	if err := p.Train(now); err != nil {
		t.Fatal(err)
	}
	blob, err := p.Save()
	if err != nil {
		t.Fatal(err)
	}
	q, err := NewPredictor(env)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if err := q.Load(blob); err != nil {
		t.Fatal(err)
	}
	again, _ := q.Save()
	if !bytes.Equal(again, blob) {
		t.Fatal("save after load differs")
	}
	for k := 0; k < 10; k++ {
		a, _ := p.Score(fmt.Sprintf("t%d", k), now)
		b, _ := q.Score(fmt.Sprintf("t%d", k), now)
		if a != b {
			t.Fatalf("key t%d: %v vs %v", k, a, b)
		}
	}
	bad := append([]byte(nil), blob...)
	bad[len(bad)/2] ^= 1
	if err := q.Load(bad); !errors.Is(err, ECORRUPT) {
		t.Fatalf("corrupt blob: %v", err)
	}
	q.Close()
	if err := q.Advance(now); !errors.Is(err, ECLOSED) {
		t.Fatalf("closed: %v", err)
	}
}
