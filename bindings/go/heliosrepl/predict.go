package heliosrepl

/*
#include <stdlib.h>
#include <heliosrepl/heliosrepl.h>
*/
import "C"

import (
	"runtime"
	"strconv"
	"strings"
	"unsafe"
)

// Access is the kind of an access event (hr_predictor_access).
type Access int32

// The access kinds; values pinned.
const (
	AccessRead  Access = C.HR_PREDICTOR_READ
	AccessWrite Access = C.HR_PREDICTOR_WRITE
)

// Scorer chooses which scorer answers Score and TopK (hr_predictor_scorer).
type Scorer int64

// The scorers; values pinned.
const (
	ScorerAuto      Scorer = C.HR_PREDICTOR_SCORER_AUTO      // learned model when in use, else heuristic
	ScorerHeuristic Scorer = C.HR_PREDICTOR_SCORER_HEURISTIC // count-min sketch with aging + recency
	ScorerRecency   Scorer = C.HR_PREDICTOR_SCORER_RECENCY   // most recently accessed first
	ScorerLearned   Scorer = C.HR_PREDICTOR_SCORER_LEARNED   // learned model only (ESTATE without one)
)

// PredictorParam is a predictor parameter (enum hr_predictor_param).
type PredictorParam int32

// The predictor parameters; values pinned. "Layout" ones can only be set
// before the first event (ESTATE afterwards).
const (
	PredictorParamWindowMS  PredictorParam = C.HR_PREDICTOR_PARAM_WINDOW_MS  // window length, ms (layout)
	PredictorParamMaxKeys   PredictorParam = C.HR_PREDICTOR_PARAM_MAX_KEYS   // keys tracked at most (layout)
	PredictorParamTrainRows PredictorParam = C.HR_PREDICTOR_PARAM_TRAIN_ROWS // training examples kept (layout)
	PredictorParamScorer    PredictorParam = C.HR_PREDICTOR_PARAM_SCORER     // a Scorer
	PredictorParamSeed      PredictorParam = C.HR_PREDICTOR_PARAM_SEED       // sampling and XGBoost seed
)

// PredictorKeyMax is the longest key in bytes.
const PredictorKeyMax = C.HR_PREDICTOR_KEY_MAX

// PredictorInfo is what Predictor.Info reports (hr_predictor_info).
type PredictorInfo struct {
	Keys          uint64
	Windows       uint64
	Examples      uint64
	Events        uint64
	LearnedActive bool
	Trainings     int
	LearnedAUC    float64 // -1 before any training
	HeuristicAUC  float64
	ModelFailures uint64
}

// KeyScore is one entry of Predictor.TopK.
type KeyScore struct {
	Key   string
	Score float64
}

// PredictorParamBounds returns the inclusive range of a parameter; EINVAL
// for an unknown one.
func PredictorParamBounds(p PredictorParam) (min, max int64, err error) {
	var lo, hi C.int64_t
	if rc := C.hr_predictor_param_bounds(C.hr_predictor_param(p), &lo, &hi); rc != C.HR_OK {
		return 0, 0, newError(rc, "unknown predictor parameter "+strconv.FormatInt(int64(p), 10))
	}
	return int64(lo), int64(hi), nil
}

// Predictor is an hr_predictor: it predicts which tenants / tables will be
// accessed in the coming window from the access events the host reports.
// Times are wall-clock nanoseconds since the Unix epoch (> 0). Train runs
// on the calling goroutine's thread. Close frees it (the finalizer does
// too); methods return ECLOSED after Close. One goroutine at a time per
// Predictor.
type Predictor struct {
	_   noCopy
	ptr *C.hr_predictor
	env *Env
}

// NewPredictor creates a predictor with default parameters and no model.
func NewPredictor(env *Env) (*Predictor, error) {
	if env == nil {
		return nil, errInvalid("nil Env")
	}
	cenv, err := env.adopt(false)
	if err != nil {
		return nil, err
	}
	var ptr *C.hr_predictor
	if rc := C.hr_predictor_new(cenv, &ptr); rc != C.HR_OK {
		env.disown()
		return nil, newError(rc, "hr_predictor_new failed")
	}
	p := &Predictor{ptr: ptr, env: env}
	runtime.SetFinalizer(p, (*Predictor).Close)
	return p, nil
}

// Close frees the predictor. Closing twice is a no-op.
func (p *Predictor) Close() {
	if p.ptr == nil {
		return
	}
	C.hr_predictor_free(p.ptr)
	p.ptr = nil
	runtime.SetFinalizer(p, nil)
	p.env.disown()
}

// Closed reports whether Close was called.
func (p *Predictor) Closed() bool { return p.ptr == nil }

func errPredictorClosed() error { return newError(C.HR_ECLOSED, "the Predictor is closed") }

func (p *Predictor) check(rc C.int) error {
	if rc == C.HR_OK {
		return nil
	}
	msg := C.GoString(C.hr_predictor_errmsg(p.ptr))
	runtime.KeepAlive(p)
	return newError(rc, msg)
}

// Errmsg returns the message of the last failed call, or "". It panics
// after Close.
func (p *Predictor) Errmsg() string {
	if p.ptr == nil {
		panic("heliosrepl: Predictor used after Close")
	}
	msg := C.GoString(C.hr_predictor_errmsg(p.ptr))
	runtime.KeepAlive(p)
	return msg
}

// SetParam sets a parameter (EINVAL out of bounds, ESTATE for a layout
// parameter after the first event).
func (p *Predictor) SetParam(param PredictorParam, value int64) error {
	if p.ptr == nil {
		return errPredictorClosed()
	}
	return p.check(C.hr_predictor_set_param(p.ptr, C.hr_predictor_param(param), C.int64_t(value)))
}

// Param returns the current value of a parameter.
func (p *Predictor) Param(param PredictorParam) (int64, error) {
	if p.ptr == nil {
		return 0, errPredictorClosed()
	}
	var v C.int64_t
	rc := C.hr_predictor_get_param(p.ptr, C.hr_predictor_param(param), &v)
	runtime.KeepAlive(p)
	if rc != C.HR_OK {
		return 0, newError(rc, "unknown predictor parameter "+strconv.FormatInt(int64(param), 10))
	}
	return int64(v), nil
}

// cKey copies a key to C memory; EINVAL if it holds a NUL byte.
func cKey(key string) (*C.char, error) {
	if strings.IndexByte(key, 0) >= 0 {
		return nil, errInvalid("key contains a NUL byte")
	}
	return C.CString(key), nil
}

// Observe reports count (>= 1) accesses of kind to key at nowNs.
func (p *Predictor) Observe(key string, nowNs uint64, kind Access, count uint32) error {
	if p.ptr == nil {
		return errPredictorClosed()
	}
	ck, err := cKey(key)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(ck))
	return p.check(C.hr_predictor_observe(p.ptr, ck, C.uint64_t(nowNs), C.hr_predictor_access(kind), C.uint32_t(count)))
}

// Advance moves the predictor's time to nowNs, closing the ended windows.
func (p *Predictor) Advance(nowNs uint64) error {
	if p.ptr == nil {
		return errPredictorClosed()
	}
	return p.check(C.hr_predictor_advance(p.ptr, C.uint64_t(nowNs)))
}

// Score returns the probability in [0, 1] that key is accessed in the
// window of nowNs.
func (p *Predictor) Score(key string, nowNs uint64) (float64, error) {
	if p.ptr == nil {
		return 0, errPredictorClosed()
	}
	ck, err := cKey(key)
	if err != nil {
		return 0, err
	}
	defer C.free(unsafe.Pointer(ck))
	var s C.double
	if err := p.check(C.hr_predictor_score(p.ptr, ck, C.uint64_t(nowNs), &s)); err != nil {
		return 0, err
	}
	return float64(s), nil
}

// TopK returns the k best keys for the window of nowNs, best first.
func (p *Predictor) TopK(nowNs uint64, k int) ([]KeyScore, error) {
	if p.ptr == nil {
		return nil, errPredictorClosed()
	}
	if k < 0 {
		return nil, errInvalid("k %d < 0", k)
	}
	m := k
	if m == 0 {
		m = 1
	}
	keys := (**C.char)(C.calloc(C.size_t(m), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	scores := (*C.double)(C.calloc(C.size_t(m), C.size_t(unsafe.Sizeof(C.double(0)))))
	defer C.free(unsafe.Pointer(keys))
	defer C.free(unsafe.Pointer(scores))
	var n C.size_t
	if err := p.check(C.hr_predictor_top_k(p.ptr, C.uint64_t(nowNs), keys, scores, C.size_t(k), &n)); err != nil {
		return nil, err
	}
	ks := unsafe.Slice(keys, m)
	ss := unsafe.Slice(scores, m)
	out := make([]KeyScore, int(n))
	for i := range out {
		out[i] = KeyScore{Key: C.GoString(ks[i]), Score: float64(ss[i])}
	}
	runtime.KeepAlive(p)
	return out, nil
}

// Train trains the learned model on the examples collected so far, on the
// calling thread. ESTATE: too few examples yet.
func (p *Predictor) Train(nowNs uint64) error {
	if p.ptr == nil {
		return errPredictorClosed()
	}
	return p.check(C.hr_predictor_train(p.ptr, C.uint64_t(nowNs)))
}

// Info reports the predictor's counters and model state.
func (p *Predictor) Info() (PredictorInfo, error) {
	if p.ptr == nil {
		return PredictorInfo{}, errPredictorClosed()
	}
	info := C.hr_predictor_info{size: C.size_t(unsafe.Sizeof(C.hr_predictor_info{}))}
	if err := p.check(C.hr_predictor_get_info(p.ptr, &info)); err != nil {
		return PredictorInfo{}, err
	}
	return PredictorInfo{
		Keys:          uint64(info.keys),
		Windows:       uint64(info.windows),
		Examples:      uint64(info.examples),
		Events:        uint64(info.events),
		LearnedActive: info.learned_active != 0,
		Trainings:     int(info.trainings),
		LearnedAUC:    float64(info.learned_auc),
		HeuristicAUC:  float64(info.heuristic_auc),
		ModelFailures: uint64(info.model_failures),
	}, nil
}

// Save returns the heat state as bytes (a copy).
func (p *Predictor) Save() ([]byte, error) {
	if p.ptr == nil {
		return nil, errPredictorClosed()
	}
	var blob *C.uint8_t
	var n C.size_t
	if err := p.check(C.hr_predictor_save(p.ptr, &blob, &n)); err != nil {
		return nil, err
	}
	out := C.GoBytes(unsafe.Pointer(blob), C.int(n))
	runtime.KeepAlive(p)
	return out, nil
}

// Load replaces the whole state with saved bytes; on error the predictor is
// unchanged (ECORRUPT, EVERSION).
func (p *Predictor) Load(blob []byte) error {
	if p.ptr == nil {
		return errPredictorClosed()
	}
	c := cBytes(blob)
	defer C.free(c)
	return p.check(C.hr_predictor_load(p.ptr, (*C.uint8_t)(c), C.size_t(len(blob))))
}
