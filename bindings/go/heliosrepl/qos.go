package heliosrepl

/*
#include <heliosrepl/heliosrepl.h>
*/
import "C"

import (
	"runtime"
	"strconv"
	"unsafe"
)

// Tier is a tenant tier (enum hr_qos_tier). Default presets, reservation
// and limit as fractions of the capacity: premium 0.01 / 4 / none,
// standard 0.001 / 2 / 0.10, basic none / 1 / 0.02.
type Tier int32

// The tiers; values pinned.
const (
	TierPremium  Tier = C.HR_QOS_PREMIUM
	TierStandard Tier = C.HR_QOS_STANDARD
	TierBasic    Tier = C.HR_QOS_BASIC
)

// QosSetting is a tenant's or a tier's setting (enum hr_qos_setting).
type QosSetting int32

// The settings; values pinned.
const (
	QosReservation QosSetting = C.HR_QOS_RESERVATION // guaranteed rate; 0 = none
	QosWeight      QosSetting = C.HR_QOS_WEIGHT      // share of the leftover
	QosLimit       QosSetting = C.HR_QOS_LIMIT       // ceiling rate; 0 = none
)

// QosPhase tells which rule picked a tenant (enum hr_qos_phase).
type QosPhase int32

// The phases.
const (
	QosPhaseNone        QosPhase = C.HR_QOS_PHASE_NONE
	QosPhaseReservation QosPhase = C.HR_QOS_PHASE_RESERVATION
	QosPhaseWeight      QosPhase = C.HR_QOS_PHASE_WEIGHT
)

// SchedulerParam is a scheduler parameter (enum hr_scheduler_param).
type SchedulerParam int32

// The scheduler parameters; values pinned.
const (
	SchedParamCapacity   SchedulerParam = C.HR_SCHED_PARAM_CAPACITY    // cost units/s the host can serve
	SchedParamAdmission  SchedulerParam = C.HR_SCHED_PARAM_ADMISSION   // 0/1: refuse reservations beyond it
	SchedParamMaxTenants SchedulerParam = C.HR_SCHED_PARAM_MAX_TENANTS // most tenants held
)

// QosTenantStats are a tenant's counters (hr_qos_tenant_stats).
type QosTenantStats struct {
	Tier            Tier
	LastPhase       QosPhase
	Backlog         uint64 // items waiting
	Items           uint64 // items charged
	ReservationCost int64  // cost charged in the reservation phase
	WeightCost      int64  // cost charged in the weight phase
	Decisions       uint64 // times Next picked it
}

// SchedulerParamBounds returns the inclusive range of a parameter; EINVAL
// for an unknown one.
func SchedulerParamBounds(p SchedulerParam) (min, max int64, err error) {
	var lo, hi C.int64_t
	if rc := C.hr_scheduler_param_bounds(C.hr_scheduler_param(p), &lo, &hi); rc != C.HR_OK {
		return 0, 0, newError(rc, "unknown scheduler parameter "+strconv.FormatInt(int64(p), 10))
	}
	return int64(lo), int64(hi), nil
}

// Scheduler is an hr_scheduler: it decides which tenant's work runs next,
// mClock style (reservation, weight, limit). Tenants are host-chosen
// uint64 values; `now` is nanoseconds of the host's monotonic clock. It
// holds a reference to its Env. Close frees it (the finalizer does too);
// methods return ECLOSED after Close. One goroutine at a time.
type Scheduler struct {
	_   noCopy
	ptr *C.hr_scheduler
	env *Env
}

// NewScheduler creates an empty scheduler with default parameters and
// tier presets.
func NewScheduler(env *Env) (*Scheduler, error) {
	if env == nil {
		return nil, errInvalid("nil Env")
	}
	cenv, err := env.adopt(false)
	if err != nil {
		return nil, err
	}
	var ptr *C.hr_scheduler
	if rc := C.hr_scheduler_new(cenv, &ptr); rc != C.HR_OK {
		env.disown()
		return nil, newError(rc, "hr_scheduler_new failed")
	}
	s := &Scheduler{ptr: ptr, env: env}
	runtime.SetFinalizer(s, (*Scheduler).Close)
	return s, nil
}

// Close frees the scheduler. Closing twice is a no-op.
func (s *Scheduler) Close() {
	if s.ptr == nil {
		return
	}
	C.hr_scheduler_free(s.ptr)
	s.ptr = nil
	runtime.SetFinalizer(s, nil)
	s.env.disown()
}

// Closed reports whether Close was called.
func (s *Scheduler) Closed() bool { return s.ptr == nil }

func errSchedulerClosed() error { return newError(C.HR_ECLOSED, "the Scheduler is closed") }

func (s *Scheduler) check(rc C.int) error {
	if rc == C.HR_OK {
		return nil
	}
	msg := C.GoString(C.hr_scheduler_errmsg(s.ptr))
	runtime.KeepAlive(s)
	return newError(rc, msg)
}

// Errmsg returns the message of the last failed call, or "". It panics
// after Close.
func (s *Scheduler) Errmsg() string {
	if s.ptr == nil {
		panic("heliosrepl: Scheduler used after Close")
	}
	msg := C.GoString(C.hr_scheduler_errmsg(s.ptr))
	runtime.KeepAlive(s)
	return msg
}

// SetParam sets a parameter; EINVAL outside its bounds, ELIMIT when
// admission or MAX_TENANTS refuses it.
func (s *Scheduler) SetParam(p SchedulerParam, value int64) error {
	if s.ptr == nil {
		return errSchedulerClosed()
	}
	return s.check(C.hr_scheduler_set_param(s.ptr, C.hr_scheduler_param(p), C.int64_t(value)))
}

// Param returns a parameter's value.
func (s *Scheduler) Param(p SchedulerParam) (int64, error) {
	if s.ptr == nil {
		return 0, errSchedulerClosed()
	}
	var v C.int64_t
	rc := C.hr_scheduler_get_param(s.ptr, C.hr_scheduler_param(p), &v)
	runtime.KeepAlive(s)
	if rc != C.HR_OK {
		return 0, newError(rc, "unknown scheduler parameter "+strconv.FormatInt(int64(p), 10))
	}
	return int64(v), nil
}

// SetTier changes a tier's preset: reservation and limit as fractions of
// the capacity (0..1), weight 0.001..1000000.
func (s *Scheduler) SetTier(t Tier, setting QosSetting, value float64) error {
	if s.ptr == nil {
		return errSchedulerClosed()
	}
	return s.check(C.hr_scheduler_set_tier(s.ptr, C.hr_qos_tier(t), C.hr_qos_setting(setting), C.double(value)))
}

// Tier returns a tier's preset as set.
func (s *Scheduler) Tier(t Tier, setting QosSetting) (float64, error) {
	if s.ptr == nil {
		return 0, errSchedulerClosed()
	}
	var v C.double
	rc := C.hr_scheduler_get_tier(s.ptr, C.hr_qos_tier(t), C.hr_qos_setting(setting), &v)
	runtime.KeepAlive(s)
	if rc != C.HR_OK {
		return 0, newError(rc, "unknown tier or setting")
	}
	return float64(v), nil
}

// Add adds a tenant following tier's presets, with no backlog. ECONFLICT
// when already added, ELIMIT (MAX_TENANTS, admission).
func (s *Scheduler) Add(tenant uint64, tier Tier) error {
	if s.ptr == nil {
		return errSchedulerClosed()
	}
	return s.check(C.hr_scheduler_add(s.ptr, C.uint64_t(tenant), C.hr_qos_tier(tier)))
}

// Remove forgets a tenant and its backlog; ENOTFOUND when unknown.
func (s *Scheduler) Remove(tenant uint64) error {
	if s.ptr == nil {
		return errSchedulerClosed()
	}
	return s.check(C.hr_scheduler_remove(s.ptr, C.uint64_t(tenant)))
}

// SetTenantTier moves a tenant to another tier; its overrides stay.
func (s *Scheduler) SetTenantTier(tenant uint64, tier Tier, now uint64) error {
	if s.ptr == nil {
		return errSchedulerClosed()
	}
	return s.check(C.hr_scheduler_set_tenant_tier(s.ptr, C.uint64_t(tenant), C.hr_qos_tier(tier), C.uint64_t(now)))
}

// Override gives a tenant its own setting (reservation and limit in cost
// units per second, 0 = none).
func (s *Scheduler) Override(tenant uint64, setting QosSetting, value float64, now uint64) error {
	if s.ptr == nil {
		return errSchedulerClosed()
	}
	return s.check(C.hr_scheduler_override(s.ptr, C.uint64_t(tenant), C.hr_qos_setting(setting), C.double(value), C.uint64_t(now)))
}

// ClearOverride returns a setting to the tier's preset.
func (s *Scheduler) ClearOverride(tenant uint64, setting QosSetting, now uint64) error {
	if s.ptr == nil {
		return errSchedulerClosed()
	}
	return s.check(C.hr_scheduler_clear_override(s.ptr, C.uint64_t(tenant), C.hr_qos_setting(setting), C.uint64_t(now)))
}

// TenantSetting returns a tenant's effective setting and whether it is an
// override.
func (s *Scheduler) TenantSetting(tenant uint64, setting QosSetting) (value float64, overridden bool, err error) {
	if s.ptr == nil {
		return 0, false, errSchedulerClosed()
	}
	var v C.double
	var o C.int
	rc := C.hr_scheduler_tenant_setting(s.ptr, C.uint64_t(tenant), C.hr_qos_setting(setting), &v, &o)
	runtime.KeepAlive(s)
	if rc != C.HR_OK {
		return 0, false, newError(rc, "tenant "+strconv.FormatUint(tenant, 10)+": not found or bad setting")
	}
	return float64(v), o != 0, nil
}

// SetBacklog sets how many work items tenant has waiting (0: idle).
func (s *Scheduler) SetBacklog(tenant, items, now uint64) error {
	if s.ptr == nil {
		return errSchedulerClosed()
	}
	return s.check(C.hr_scheduler_set_backlog(s.ptr, C.uint64_t(tenant), C.uint64_t(items), C.uint64_t(now)))
}

// Enqueue adds items work items to tenant's backlog.
func (s *Scheduler) Enqueue(tenant, items, now uint64) error {
	if s.ptr == nil {
		return errSchedulerClosed()
	}
	return s.check(C.hr_scheduler_enqueue(s.ptr, C.uint64_t(tenant), C.uint64_t(items), C.uint64_t(now)))
}

// Next returns the tenant to serve at now (ok true). Otherwise ok is false
// and wait is the nanoseconds until a tenant held at its limit becomes
// eligible, or ^uint64(0) when no tenant has work.
func (s *Scheduler) Next(now uint64) (tenant uint64, wait uint64, ok bool, err error) {
	if s.ptr == nil {
		return 0, 0, false, errSchedulerClosed()
	}
	var t, w C.uint64_t
	rc := C.hr_scheduler_next(s.ptr, C.uint64_t(now), &t, &w)
	runtime.KeepAlive(s)
	switch rc {
	case C.HR_OK:
		return uint64(t), 0, true, nil
	case C.HR_EAGAIN, C.HR_ENOTFOUND:
		return 0, uint64(w), false, nil
	}
	return 0, 0, false, s.check(rc)
}

// Charge records that items work items of tenant costing cost in total
// were served (items may be 0 for a correction; cost may be negative to
// refund an over-estimate).
func (s *Scheduler) Charge(tenant uint64, cost int64, items, now uint64) error {
	if s.ptr == nil {
		return errSchedulerClosed()
	}
	return s.check(C.hr_scheduler_charge(s.ptr, C.uint64_t(tenant), C.int64_t(cost), C.uint64_t(items), C.uint64_t(now)))
}

// TenantCount returns how many tenants were added (0 after Close).
func (s *Scheduler) TenantCount() int {
	if s.ptr == nil {
		return 0
	}
	n := C.hr_scheduler_tenant_count(s.ptr)
	runtime.KeepAlive(s)
	return int(n)
}

// BackloggedCount returns how many tenants have work (0 after Close).
func (s *Scheduler) BackloggedCount() int {
	if s.ptr == nil {
		return 0
	}
	n := C.hr_scheduler_backlogged_count(s.ptr)
	runtime.KeepAlive(s)
	return int(n)
}

// Stats returns a tenant's counters; ENOTFOUND when unknown.
func (s *Scheduler) Stats(tenant uint64) (QosTenantStats, error) {
	if s.ptr == nil {
		return QosTenantStats{}, errSchedulerClosed()
	}
	st := C.hr_qos_tenant_stats{size: C.size_t(unsafe.Sizeof(C.hr_qos_tenant_stats{}))}
	rc := C.hr_scheduler_tenant_stats(s.ptr, C.uint64_t(tenant), &st)
	runtime.KeepAlive(s)
	if rc != C.HR_OK {
		return QosTenantStats{}, newError(rc, "no tenant "+strconv.FormatUint(tenant, 10))
	}
	return QosTenantStats{
		Tier:            Tier(st.tier),
		LastPhase:       QosPhase(st.last_phase),
		Backlog:         uint64(st.backlog),
		Items:           uint64(st.items),
		ReservationCost: int64(st.reservation_cost),
		WeightCost:      int64(st.weight_cost),
		Decisions:       uint64(st.decisions),
	}, nil
}
