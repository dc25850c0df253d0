"""The tenant QoS scheduler (hr_scheduler): whose work runs next.

Tenants (host-chosen ints, 0..2^64-1) have a reservation (cost units per
second guaranteed while they have work), a weight (their share of what is
left) and a limit (a ceiling), from a tier preset (:class:`Tier`) or their
own overrides. The scheduler is pure: time is the host's ``now`` in
nanoseconds of a monotonic clock, passed to every call that needs it.

The host loop::

    sched.enqueue(tenant, 1, now)              # work arrived
    tenant, wait_ns = sched.next(now)
    if tenant is not None:                     # serve one item, then
        sched.charge(tenant, cost, 1, now)     # charge what it cost
    elif wait_ns is not None:                  # all at their limit
        ...                                    # wait at most wait_ns
    else:                                      # nobody has work
        ...

Errors raise :class:`HeliosReplError` with the scheduler's message; integers
outside their C type raise it with ``EINVAL`` before any call.
"""

import ctypes
import dataclasses
import enum
import operator

from . import _lib
from ._handle import _Handle
from .errors import HeliosReplError, Status

_L = _lib.lib

_UINT64_MAX = (1 << 64) - 1
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_INT_MIN, _INT_MAX = -(1 << 31), (1 << 31) - 1


class Tier(enum.IntEnum):
    """Tiers (enum hr_qos_tier). Default presets, reservation and limit as
    fractions of the capacity: premium 0.01 / 4 / none, standard 0.001 / 2 /
    0.10, basic none / 1 / 0.02."""

    PREMIUM = 1
    STANDARD = 2
    BASIC = 3


class Setting(enum.IntEnum):
    """A tenant's or a tier's settings (enum hr_qos_setting)."""

    RESERVATION = 1  # guaranteed rate; 0 = none
    WEIGHT = 2       # share of the leftover, 0.001..1000000
    LIMIT = 3        # ceiling rate; 0 = none


class Phase(enum.IntEnum):
    """Which rule picked a tenant (enum hr_qos_phase)."""

    NONE = 0
    RESERVATION = 1
    WEIGHT = 2


class SchedulerParam(enum.IntEnum):
    """Scheduler parameters (enum hr_scheduler_param)."""

    CAPACITY = 1     # cost units per second the host can serve
    ADMISSION = 2    # 0/1: refuse reservations beyond the capacity
    MAX_TENANTS = 3  # most tenants held


@dataclasses.dataclass(frozen=True)
class TenantStats:
    """A tenant's counters (hr_qos_tenant_stats)."""

    tier: Tier
    last_phase: Phase
    backlog: int           # items waiting
    items: int             # items charged
    reservation_cost: int  # cost charged in the reservation phase
    weight_cost: int       # cost charged in the weight phase
    decisions: int         # times next() picked it


def _einval(message):
    return HeliosReplError(Status.EINVAL, message)


def _int(value, what, lo, hi):
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be an int, not "
                        f"{type(value).__name__}") from None
    if not lo <= value <= hi:
        raise _einval(f"{what} {value} outside {lo}..{hi}")
    return value


def _u64(value, what):
    return _int(value, what, 0, _UINT64_MAX)


def _enum(value, what):
    return _int(value, what, _INT_MIN, _INT_MAX)


def _float(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number, not "
                        f"{type(value).__name__}")
    return float(value)


def scheduler_param_bounds(param):
    """The inclusive range (min, max) of a :class:`SchedulerParam`."""
    param = _enum(param, "scheduler parameter")
    lo, hi = ctypes.c_int64(), ctypes.c_int64()
    status = _L.hr_scheduler_param_bounds(param, ctypes.byref(lo),
                                          ctypes.byref(hi))
    if status != Status.OK:
        raise HeliosReplError(status, f"unknown scheduler parameter {param}")
    return lo.value, hi.value


class Scheduler(_Handle):
    """An hr_scheduler. ``Scheduler(env)`` is empty, with default parameters
    and tier presets; it keeps a reference to its Env. Use it as a context
    manager or call :meth:`close`; calls on a closed scheduler raise
    HeliosReplError (``Status.ECLOSED``). One thread at a time.
    """

    _free_fn, _errmsg_fn = "hr_scheduler_free", "hr_scheduler_errmsg"
    _name = "Scheduler"
    param_bounds = staticmethod(scheduler_param_bounds)

    def __init__(self, env):
        self._handle = None
        self._env = env
        self._handle = env._adopt(self, _L.hr_scheduler_new)

    # -- lifetime ----------------------------------------------------------

    @property
    def env(self):
        return self._env

    def __repr__(self):
        state = "closed" if self.closed else f"{len(self)} tenants"
        return f"<heliosrepl.Scheduler {state}>"

    def _check(self, status):
        if status != Status.OK:
            raise HeliosReplError(status, self.errmsg)

    # -- parameters and tiers ------------------------------------------------

    def set_param(self, param, value):
        ptr = self._ptr
        param = _enum(param, "scheduler parameter")
        value = _int(value, "parameter value", _INT64_MIN, _INT64_MAX)
        self._check(_L.hr_scheduler_set_param(ptr, param, value))

    def get_param(self, param):
        ptr = self._ptr
        param = _enum(param, "scheduler parameter")
        value = ctypes.c_int64()
        status = _L.hr_scheduler_get_param(ptr, param, ctypes.byref(value))
        if status != Status.OK:
            raise HeliosReplError(status, f"unknown scheduler parameter "
                                          f"{param}")
        return value.value

    def set_tier(self, tier, setting, value):
        """Change a tier's preset: reservation and limit as fractions of the
        capacity (0..1), weight 0.001..1000000."""
        ptr = self._ptr
        self._check(_L.hr_scheduler_set_tier(
            ptr, _enum(tier, "tier"), _enum(setting, "setting"),
            _float(value, "value")))

    def get_tier(self, tier, setting):
        ptr = self._ptr
        value = ctypes.c_double()
        status = _L.hr_scheduler_get_tier(ptr, _enum(tier, "tier"),
                                          _enum(setting, "setting"),
                                          ctypes.byref(value))
        if status != Status.OK:
            raise HeliosReplError(status, f"unknown tier {tier} or setting "
                                          f"{setting}")
        return value.value

    # -- tenants -------------------------------------------------------------

    def add(self, tenant, tier=Tier.STANDARD):
        """Add a tenant following `tier`'s presets, with no backlog.
        ECONFLICT when already added, ELIMIT (MAX_TENANTS, admission)."""
        ptr = self._ptr
        self._check(_L.hr_scheduler_add(ptr, _u64(tenant, "tenant"),
                                        _enum(tier, "tier")))

    def remove(self, tenant):
        """Forget a tenant and its backlog; ENOTFOUND when unknown."""
        self._check(_L.hr_scheduler_remove(self._ptr, _u64(tenant, "tenant")))

    def set_tenant_tier(self, tenant, tier, now):
        ptr = self._ptr
        self._check(_L.hr_scheduler_set_tenant_tier(
            ptr, _u64(tenant, "tenant"), _enum(tier, "tier"),
            _u64(now, "now")))

    def override(self, tenant, setting, value, now):
        """Give a tenant its own setting (reservation and limit in cost
        units per second, 0 = none)."""
        ptr = self._ptr
        self._check(_L.hr_scheduler_override(
            ptr, _u64(tenant, "tenant"), _enum(setting, "setting"),
            _float(value, "value"), _u64(now, "now")))

    def clear_override(self, tenant, setting, now):
        """Return a setting to the tier's preset."""
        ptr = self._ptr
        self._check(_L.hr_scheduler_clear_override(
            ptr, _u64(tenant, "tenant"), _enum(setting, "setting"),
            _u64(now, "now")))

    def tenant_setting(self, tenant, setting):
        """(effective value, overridden) of a tenant's setting."""
        ptr = self._ptr
        value, overridden = ctypes.c_double(), ctypes.c_int()
        status = _L.hr_scheduler_tenant_setting(
            ptr, _u64(tenant, "tenant"), _enum(setting, "setting"),
            ctypes.byref(value), ctypes.byref(overridden))
        if status != Status.OK:
            raise HeliosReplError(status, f"tenant {tenant}, setting "
                                          f"{setting}: not found or invalid")
        return value.value, bool(overridden.value)

    def stats(self, tenant):
        """The tenant's :class:`TenantStats`; ENOTFOUND when unknown."""
        ptr = self._ptr
        st = _lib.QosTenantStats(size=ctypes.sizeof(_lib.QosTenantStats))
        status = _L.hr_scheduler_tenant_stats(ptr, _u64(tenant, "tenant"),
                                              ctypes.byref(st))
        if status != Status.OK:
            raise HeliosReplError(status, f"no tenant {tenant}")
        return TenantStats(Tier(st.tier), Phase(st.last_phase), st.backlog,
                           st.items, st.reservation_cost, st.weight_cost,
                           st.decisions)

    def __len__(self):
        return _L.hr_scheduler_tenant_count(self._ptr)

    @property
    def backlogged(self):
        """How many tenants have work waiting."""
        return _L.hr_scheduler_backlogged_count(self._ptr)

    # -- decisions -----------------------------------------------------------

    def set_backlog(self, tenant, items, now):
        """Set how many work items `tenant` has waiting (0: idle)."""
        ptr = self._ptr
        self._check(_L.hr_scheduler_set_backlog(
            ptr, _u64(tenant, "tenant"), _u64(items, "items"),
            _u64(now, "now")))

    def enqueue(self, tenant, items, now):
        """Add `items` work items to a tenant's backlog."""
        ptr = self._ptr
        self._check(_L.hr_scheduler_enqueue(
            ptr, _u64(tenant, "tenant"), _u64(items, "items"),
            _u64(now, "now")))

    def next(self, now):
        """The tenant to serve at `now`: ``(tenant, 0)``; ``(None, wait_ns)``
        when every tenant with work is at its limit; ``(None, None)`` when no
        tenant has work."""
        ptr = self._ptr
        tenant, wait = ctypes.c_uint64(), ctypes.c_uint64()
        status = _L.hr_scheduler_next(ptr, _u64(now, "now"),
                                      ctypes.byref(tenant), ctypes.byref(wait))
        if status == Status.OK:
            return tenant.value, 0
        if status == Status.EAGAIN:
            return None, wait.value
        if status == Status.ENOTFOUND:
            return None, None
        raise HeliosReplError(status, self.errmsg)

    def charge(self, tenant, cost, items, now):
        """`items` items of `tenant` costing `cost` in total were served
        (items may be 0 for a correction; cost may be negative to refund)."""
        ptr = self._ptr
        self._check(_L.hr_scheduler_charge(
            ptr, _u64(tenant, "tenant"),
            _int(cost, "cost", _INT64_MIN, _INT64_MAX),
            _u64(items, "items"), _u64(now, "now")))
