"""The C prototypes of qos.h (internal; merged into _lib._PROTOTYPES)."""

import ctypes

hr_scheduler_p = ctypes.c_void_p  # opaque hr_scheduler *

_c_int = ctypes.c_int
_c_size = ctypes.c_size_t
_p = ctypes.POINTER


class QosTenantStats(ctypes.Structure):
    """struct hr_qos_tenant_stats (qos.h); `size` is set by the caller."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("tier", ctypes.c_int),
        ("last_phase", ctypes.c_int),
        ("backlog", ctypes.c_uint64),
        ("items", ctypes.c_uint64),
        ("reservation_cost", ctypes.c_int64),
        ("weight_cost", ctypes.c_int64),
        ("decisions", ctypes.c_uint64),
    ]


def prototypes(hr_env_p):
    """name: (restype, argtypes) of every qos.h function."""
    s, u64, i64 = hr_scheduler_p, ctypes.c_uint64, ctypes.c_int64
    dbl = ctypes.c_double
    return {
        "hr_scheduler_new": (_c_int, [hr_env_p, _p(s)]),
        "hr_scheduler_free": (None, [s]),
        "hr_scheduler_set_param": (_c_int, [s, _c_int, i64]),
        "hr_scheduler_get_param": (_c_int, [s, _c_int, _p(i64)]),
        "hr_scheduler_param_bounds": (_c_int, [_c_int, _p(i64), _p(i64)]),
        "hr_scheduler_set_tier": (_c_int, [s, _c_int, _c_int, dbl]),
        "hr_scheduler_get_tier": (_c_int, [s, _c_int, _c_int, _p(dbl)]),
        "hr_scheduler_add": (_c_int, [s, u64, _c_int]),
        "hr_scheduler_remove": (_c_int, [s, u64]),
        "hr_scheduler_set_tenant_tier": (_c_int, [s, u64, _c_int, u64]),
        "hr_scheduler_override": (_c_int, [s, u64, _c_int, dbl, u64]),
        "hr_scheduler_clear_override": (_c_int, [s, u64, _c_int, u64]),
        "hr_scheduler_tenant_setting": (_c_int, [s, u64, _c_int, _p(dbl),
                                                 _p(_c_int)]),
        "hr_scheduler_set_backlog": (_c_int, [s, u64, u64, u64]),
        "hr_scheduler_enqueue": (_c_int, [s, u64, u64, u64]),
        "hr_scheduler_next": (_c_int, [s, u64, _p(u64), _p(u64)]),
        "hr_scheduler_charge": (_c_int, [s, u64, i64, u64, u64]),
        "hr_scheduler_tenant_count": (_c_size, [s]),
        "hr_scheduler_backlogged_count": (_c_size, [s]),
        "hr_scheduler_tenant_stats": (_c_int, [s, u64, _p(QosTenantStats)]),
        "hr_scheduler_errmsg": (ctypes.c_char_p, [s]),
    }
