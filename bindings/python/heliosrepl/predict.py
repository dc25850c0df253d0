"""The hot-data predictor (hr_predictor): which tenants / tables will be
accessed in the coming window.

Report accesses with :meth:`Predictor.observe` (a key - a tenant id or
``"tenant/table"`` -, the time as wall-clock nanoseconds since the Unix
epoch, read or write), ask :meth:`Predictor.score` or
:meth:`Predictor.top_k`, and train the learned model with
:meth:`Predictor.train` when the host chooses (it runs on the calling
thread). :meth:`Predictor.save` / :meth:`Predictor.load` carry the heat state
across a restart or a failover. See ``include/heliosrepl/predict.h`` and
``docs/predict.md``.

Errors raise :class:`HeliosReplError` with the predictor's message:
``EINVAL`` (bad argument), ``ESTATE`` (a layout parameter after the first
event; training with too few examples; the LEARNED scorer with no model),
``ECORRUPT`` / ``EVERSION`` (a saved state that is damaged or newer).
"""

import ctypes
import dataclasses
import enum
import operator

from . import _lib
from ._handle import _Handle
from .batch import c_name
from .errors import HeliosReplError, Status

_L = _lib.lib

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_UINT32_MAX = (1 << 32) - 1
_UINT64_MAX = (1 << 64) - 1
_INT_MIN, _INT_MAX = -(1 << 31), (1 << 31) - 1

#: HR_PREDICTOR_KEY_MAX: the longest key in bytes.
KEY_MAX = 511


class Access(enum.IntEnum):
    """The kind of an access event (hr_predictor_access)."""

    READ = 1
    WRITE = 2


class Scorer(enum.IntEnum):
    """Which scorer answers (hr_predictor_scorer)."""

    AUTO = 0       # the learned model when in use, else the heuristic
    HEURISTIC = 1  # count-min sketch with aging + recency
    RECENCY = 2    # most recently accessed first (a baseline)
    LEARNED = 3    # the learned model only (ESTATE while none is in use)


class PredictorParam(enum.IntEnum):
    """Predictor parameters (hr_predictor_param)."""

    WINDOW_MS = 1    # window length, ms (layout)
    MAX_KEYS = 2     # keys tracked at most (layout)
    TRAIN_ROWS = 3   # training examples kept, 0: none (layout)
    SCORER = 4       # a Scorer
    SEED = 5         # sampling and XGBoost seed


@dataclasses.dataclass(frozen=True)
class PredictorInfo:
    """What :meth:`Predictor.info` reports (hr_predictor_info)."""

    keys: int
    windows: int
    examples: int
    events: int
    learned_active: bool
    trainings: int
    learned_auc: float   # -1 before any training
    heuristic_auc: float
    model_failures: int


def _einval(message):
    return HeliosReplError(Status.EINVAL, message)


def _int(value, what, lo, hi):
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be an int, not "
                        f"{type(value).__name__}") from None
    if not lo <= v <= hi:
        raise _einval(f"{what} {v} outside {lo}..{hi}")
    return v


def _param(param):
    v = _int(param, "predictor parameter", _INT_MIN, _INT_MAX)
    try:
        return PredictorParam(v)
    except ValueError:
        return v


def _key(key):
    raw = c_name(key, "key")
    if not 1 <= len(raw) <= KEY_MAX:
        raise _einval(f"key of {len(raw)} bytes, not 1..{KEY_MAX}")
    return raw


def predictor_param_bounds(param):
    """The inclusive range (min, max) of a :class:`PredictorParam`."""
    param = _param(param)
    lo, hi = ctypes.c_int64(), ctypes.c_int64()
    status = _L.hr_predictor_param_bounds(int(param), ctypes.byref(lo),
                                          ctypes.byref(hi))
    if status != Status.OK:
        raise HeliosReplError(status,
                              f"unknown predictor parameter {int(param)}")
    return lo.value, hi.value


class Predictor(_Handle):
    """An hr_predictor, created from an :class:`~heliosrepl.Env`.

    Use it as a context manager or call :meth:`close`. One thread at a
    time per predictor.
    """

    _free_fn, _errmsg_fn = "hr_predictor_free", "hr_predictor_errmsg"
    _name = "Predictor"
    param_bounds = staticmethod(predictor_param_bounds)

    def __init__(self, env):
        self._handle = None
        self._env = env
        self._handle = env._adopt(self, _L.hr_predictor_new)

    # -- lifetime ----------------------------------------------------------

    @property
    def env(self):
        return self._env

    def __repr__(self):
        state = "closed" if self.closed else hex(self._handle.value or 0)
        return f"<heliosrepl.Predictor {state}>"

    def _check(self, status):
        self._env._raise_pending()
        if status != Status.OK:
            raise HeliosReplError(status, self.errmsg)

    # -- parameters ----------------------------------------------------------

    def set_param(self, param, value):
        """Set a :class:`PredictorParam` (EINVAL out of bounds, ESTATE for
        a layout parameter after the first event)."""
        ptr = self._ptr
        param = _param(param)
        value = _int(value, "parameter value", _INT64_MIN, _INT64_MAX)
        self._check(_L.hr_predictor_set_param(ptr, int(param), value))

    def get_param(self, param):
        """The current value of a :class:`PredictorParam`."""
        ptr = self._ptr
        param = _param(param)
        value = ctypes.c_int64()
        status = _L.hr_predictor_get_param(ptr, int(param),
                                           ctypes.byref(value))
        if status != Status.OK:
            raise HeliosReplError(status,
                                  f"unknown predictor parameter {int(param)}")
        return value.value

    # -- events and answers --------------------------------------------------

    def observe(self, key, now_ns, kind=Access.READ, count=1):
        """Report `count` accesses of `kind` to `key` at `now_ns`."""
        ptr = self._ptr
        raw = _key(key)
        now = _int(now_ns, "now_ns", 1, _UINT64_MAX)
        kind = _int(kind, "access kind", _INT_MIN, _INT_MAX)
        count = _int(count, "count", 1, _UINT32_MAX)
        self._check(_L.hr_predictor_observe(ptr, raw, now, kind, count))

    def advance(self, now_ns):
        """Move the predictor's time to `now_ns`, closing ended windows."""
        ptr = self._ptr
        now = _int(now_ns, "now_ns", 1, _UINT64_MAX)
        self._check(_L.hr_predictor_advance(ptr, now))

    def score(self, key, now_ns):
        """Probability in [0, 1] that `key` is accessed in the window of
        `now_ns`."""
        ptr = self._ptr
        raw = _key(key)
        now = _int(now_ns, "now_ns", 1, _UINT64_MAX)
        out = ctypes.c_double()
        self._check(_L.hr_predictor_score(ptr, raw, now, ctypes.byref(out)))
        return out.value

    def top_k(self, now_ns, k):
        """The `k` best keys for the window of `now_ns`, best first, as a
        list of (key, score)."""
        ptr = self._ptr
        now = _int(now_ns, "now_ns", 1, _UINT64_MAX)
        k = _int(k, "k", 0, 1 << 24)
        keys = (ctypes.c_void_p * max(k, 1))()
        scores = (ctypes.c_double * max(k, 1))()
        n = ctypes.c_size_t()
        self._check(_L.hr_predictor_top_k(ptr, now, keys, scores, k,
                                          ctypes.byref(n)))
        return [(_lib.decode(ctypes.string_at(keys[i])), scores[i])
                for i in range(n.value)]

    def train(self, now_ns):
        """Train the learned model on the examples collected so far (runs
        on this thread). ESTATE: too few examples yet."""
        ptr = self._ptr
        now = _int(now_ns, "now_ns", 1, _UINT64_MAX)
        self._check(_L.hr_predictor_train(ptr, now))

    def info(self):
        """A :class:`PredictorInfo`."""
        raw = _lib.PredictorInfo(size=ctypes.sizeof(_lib.PredictorInfo))
        self._check(_L.hr_predictor_get_info(self._ptr, ctypes.byref(raw)))
        return PredictorInfo(raw.keys, raw.windows, raw.examples, raw.events,
                             bool(raw.learned_active), raw.trainings,
                             raw.learned_auc, raw.heuristic_auc,
                             raw.model_failures)

    # -- persistence -----------------------------------------------------------

    def save(self):
        """The heat state as bytes (a copy)."""
        blob = ctypes.c_void_p()
        n = ctypes.c_size_t()
        self._check(_L.hr_predictor_save(self._ptr, ctypes.byref(blob),
                                         ctypes.byref(n)))
        return _lib.copy_out(blob.value, n.value)

    def load(self, blob):
        """Replace the whole state with saved bytes (unchanged on error)."""
        ptr = self._ptr
        if isinstance(blob, (bytearray, memoryview)):
            blob = bytes(blob)
        if not isinstance(blob, bytes):
            raise TypeError(f"blob must be bytes-like, not "
                            f"{type(blob).__name__}")
        self._check(_L.hr_predictor_load(ptr, blob, len(blob)))
