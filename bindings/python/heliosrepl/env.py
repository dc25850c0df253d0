"""The environment handle (hr_env): log sink and clock."""

import ctypes
import enum
import operator

from . import _lib
from .errors import HeliosReplError, Status, strerror

_UINT64_LIMIT = 1 << 64


class LogLevel(enum.IntEnum):
    """Log severities (enum hr_log_level); lower is more severe."""

    ERROR = 1
    WARN = 2
    INFO = 3
    DEBUG = 4
    TRACE = 5


def _level(value):
    """LogLevel member for a known level, the plain int otherwise."""
    try:
        return LogLevel(value)
    except ValueError:
        return value


def _log_trampoline(fn, pending):
    """Wrap fn(level, message) as an hr_log_fn.

    An exception cannot cross the C frames, so it is parked in `pending` and
    re-raised by the Env method whose C call logged.
    """

    def trampoline(_ctx, level, message):
        try:
            raw = ctypes.string_at(message) if message else b""
            fn(_level(level), raw.decode("utf-8", errors="replace"))
        except BaseException as exc:  # re-raised after the C call returns
            pending.append(exc)

    return _lib.LOG_FN(trampoline)


def _clock_trampoline(fn, pending, what):
    """Wrap fn() -> int nanoseconds as an hr_clock function (see above)."""

    def trampoline(_ctx):
        try:
            value = operator.index(fn())
            if not 0 <= value < _UINT64_LIMIT:
                raise ValueError(f"{what} returned {value}, outside uint64")
            return value
        except BaseException as exc:  # re-raised after the C call returns
            pending.append(exc)
            return 0

    return _lib.CLOCK_FN(trampoline)


class Env:
    """An hr_env: the allocator, log sink and clock shared by later handles.

    Use it as a context manager or call :meth:`close`. One thread at a time
    may use an Env. Failed calls raise :class:`HeliosReplError` carrying the
    env's detail message; calls on a closed Env raise it with
    ``Status.ECLOSED``. An exception raised by a log or clock callback is
    re-raised from the Env method during which the library called it (or
    from the method of a handle created from this env, see below).

    Handles created from an env (:class:`~heliosrepl.Batch`,
    :class:`~heliosrepl.Codec`, :class:`~heliosrepl.PgDecoder`) keep a
    reference to it, so its callbacks stay alive as long as they do.
    :meth:`close` may be called while such handles are still open: the Env
    refuses further calls and new handles at once, but the underlying
    hr_env is released only when the last of its handles is closed (a codec
    or a decoder still needs it to create batches).
    """

    def __init__(self):
        handle = _lib.hr_env_p()
        status = _lib.lib.hr_env_new(ctypes.byref(handle), None)
        if status != Status.OK:
            raise HeliosReplError(status, "hr_env_new failed")
        self._handle = handle  # None once hr_env_free was called
        self._closed = False
        # id() of each open handle created from this env (see close()). A
        # set: add/discard are atomic under the GIL, also from __del__.
        self._children = set()
        self._pending = []  # exceptions raised inside callbacks
        # ctypes callbacks the library may call: they must outlive their use
        # by C, so they stay referenced for the life of this object.
        self._log_cb = None
        self._clock_cbs = None

    # -- lifetime ----------------------------------------------------------

    def close(self):
        """Release the env (hr_env_free) - at once, or when the last handle
        created from it is closed. Calling it again does nothing."""
        self._closed = True
        if not self._children:
            self._release()

    def _release(self):
        handle, self._handle = self._handle, None
        if handle is not None:
            _lib.lib.hr_env_free(handle)

    @property
    def closed(self):
        """True after :meth:`close`."""
        return self._closed

    def __reduce_ex__(self, protocol):
        # A copy would share (and free twice) the C handle.
        raise TypeError(f"a {type(self).__name__} cannot be copied or "
                        "pickled")

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __del__(self):
        # Children hold a reference, so this runs after theirs - or, in a
        # garbage cycle, in any order, which the library's own reference
        # counting of hr_env allows.
        if getattr(self, "_handle", None) is not None:
            self._closed = True
            self._release()

    def __repr__(self):
        state = "closed" if self.closed else hex(self._handle.value or 0)
        return f"<heliosrepl.Env {state}>"

    # -- helpers -----------------------------------------------------------

    @property
    def _ptr(self):
        """The hr_env pointer, for calls into the library."""
        if self._closed or self._handle is None:
            raise HeliosReplError(Status.ECLOSED, "the Env is closed")
        return self._handle

    def _adopt(self, child, new_fn, *, internal=False):
        """Create a child handle: ``new_fn(env_ptr, byref(out))``; return it.

        The child must call :meth:`_disown` when it frees the handle. An
        `internal` child (a batch a codec decodes into) may be created after
        :meth:`close`, while the hr_env is kept for other children.
        """
        env_ptr = self._handle if internal else self._ptr
        if env_ptr is None:
            raise HeliosReplError(Status.ECLOSED, "the Env is released")
        out = ctypes.c_void_p()
        status = new_fn(env_ptr, ctypes.byref(out))
        if status != Status.OK:
            raise HeliosReplError(
                status, f"{new_fn.__name__}: {strerror(status)}")
        self._children.add(id(child))
        return out

    def _disown(self, child):
        """A child handle was freed; release a closed env after its last."""
        self._children.discard(id(child))
        if self._closed and not self._children:
            self._release()

    def _raise_pending(self):
        """Re-raise the first exception a callback raised during a C call."""
        if self._pending:
            exc = self._pending[0]
            self._pending.clear()
            raise exc

    def _check(self, status):
        """Raise for a failed call, with the env's message."""
        self._raise_pending()
        if status != Status.OK:
            raise HeliosReplError(status, self.errmsg)

    # -- API ---------------------------------------------------------------

    @property
    def errmsg(self):
        """The message of the last failed call on this env, or ""."""
        return _lib.decode(_lib.lib.hr_env_errmsg(self._ptr))

    def set_log(self, fn, min_level=LogLevel.INFO):
        """Send library log messages at `min_level` or more severe to
        ``fn(level, message)``; ``fn=None`` disables logging.

        `fn` runs on the thread of the library call that logs and must not
        call back into the handle that is logging. Raises HeliosReplError
        (HR_EINVAL) for a level outside 1..5.
        """
        if fn is None:
            callback = _lib.LOG_FN()  # NULL
        elif callable(fn):
            callback = _log_trampoline(fn, self._pending)
        else:
            raise TypeError("set_log: fn must be callable or None")
        self._check(_lib.lib.hr_env_set_log(self._ptr, callback, None,
                                            int(min_level)))
        self._log_cb = callback if fn is not None else None

    def set_clock(self, monotonic_fn, wall_fn=None):
        """Read time from the host: ``monotonic_fn()`` and ``wall_fn()``
        return nanoseconds (monotonic never goes backwards; wall is since the
        Unix epoch, UTC). ``set_clock(None)`` restores the system clock.

        Both functions are required together: giving only one raises
        HeliosReplError (HR_EINVAL) from the library.
        """
        if monotonic_fn is None and wall_fn is None:
            self._check(_lib.lib.hr_env_set_clock(self._ptr, None))
            self._clock_cbs = None
            return
        for fn in (monotonic_fn, wall_fn):
            if fn is not None and not callable(fn):
                raise TypeError("set_clock: clock functions must be callable")
        callbacks = tuple(
            _clock_trampoline(fn, self._pending, what) if fn is not None
            else _lib.CLOCK_FN()  # NULL: the library rejects the table
            for fn, what in ((monotonic_fn, "monotonic_fn"),
                             (wall_fn, "wall_fn")))
        table = _lib.Clock(_lib.HR_CLOCK_VERSION, None, *callbacks)
        self._check(_lib.lib.hr_env_set_clock(self._ptr, ctypes.byref(table)))
        self._clock_cbs = callbacks

    def monotonic_ns(self):
        """The env clock's monotonic time in nanoseconds."""
        value = _lib.lib.hr_env_monotonic_ns(self._ptr)
        self._raise_pending()
        return value

    def wall_ns(self):
        """The env clock's wall time in nanoseconds since the Unix epoch."""
        value = _lib.lib.hr_env_wall_ns(self._ptr)
        self._raise_pending()
        return value
