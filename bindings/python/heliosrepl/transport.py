"""The transport (hr_transport): moves encoded frames with their metadata.

:meth:`Transport.inproc` makes the in-process transport, a bounded FIFO
queue (the embedded default). :meth:`Transport.send` copies the bytes and
raises ``EAGAIN`` when the queue is full (backpressure: receive first);
:meth:`Transport.recv` returns the oldest :class:`Message` or None. The
metadata (:class:`MessageFlag` and friends) is what the applying side needs
to drive an applier: see ``heliosrepl/transport.h``.
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
_UINT64_MAX = (1 << 64) - 1
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


class TransportKind(enum.IntEnum):
    """enum hr_transport_kind."""

    INPROC = 1


class TransportParam(enum.IntEnum):
    """enum hr_transport_param; see :func:`transport_param_bounds`."""

    MAX_MESSAGES = 1  # most messages queued, default 4096
    MAX_BYTES = 2     # most payload bytes queued, default 64 MiB


class MessageFlag(enum.IntFlag):
    """HR_TRANSPORT_* message flags."""

    FIRST = 0x01      # first message of its unit
    LAST = 0x02       # last message of its unit
    COPY = 0x04       # unit = initial copy of one table
    COPY_DONE = 0x08  # the tenant's initial copy is done
    ABORT = 0x10      # drop the tenant's unfinished unit


@dataclasses.dataclass(frozen=True)
class MessageMeta:
    """A received message's metadata (hr_transport_meta)."""

    tenant_id: str
    flags: MessageFlag
    lsn: int
    commit_time: int
    schema_name: str | None
    table_name: str | None
    idempotent_until: int
    seq: int


def _einval(message):
    return HeliosReplError(Status.EINVAL, message)


def _u64(value, what):
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be an int, not "
                        f"{type(value).__name__}") from None
    if not 0 <= value <= _UINT64_MAX:
        raise _einval(f"{what} {value} outside 0..2^64-1")
    return value


def _param(param):
    try:
        value = operator.index(param)
    except TypeError:
        raise TypeError("transport parameter must be a TransportParam, not "
                        f"{type(param).__name__}") from None
    if not -(1 << 31) <= value < (1 << 31):
        raise _einval(f"unknown transport parameter {value}")
    return value


def transport_param_bounds(param):
    """The inclusive range (min, max) of a :class:`TransportParam`."""
    param = _param(param)
    lo, hi = ctypes.c_int64(), ctypes.c_int64()
    status = _L.hr_transport_param_bounds(param, ctypes.byref(lo),
                                          ctypes.byref(hi))
    if status != Status.OK:
        raise HeliosReplError(status, f"unknown transport parameter {param}")
    return lo.value, hi.value


def _text(raw):
    return None if raw is None else raw.decode("utf-8", "surrogateescape")


class Message:
    """A received message (hr_transport_msg): :attr:`meta` and :attr:`data`.

    Both are read once, at receipt; the C message is freed right away, so a
    Message needs no closing.
    """

    def __init__(self, handle):
        try:
            meta = _lib.TransportMeta(size=ctypes.sizeof(_lib.TransportMeta))
            status = _L.hr_transport_msg_meta(handle, ctypes.byref(meta))
            if status != Status.OK:
                raise HeliosReplError(status, "hr_transport_msg_meta failed")
            size = ctypes.c_size_t()
            ptr = _L.hr_transport_msg_data(handle, ctypes.byref(size))
            self.data = ctypes.string_at(ptr, size.value) if size.value else b""
            self.meta = MessageMeta(
                _text(meta.tenant_id), MessageFlag(meta.flags), meta.lsn,
                meta.commit_time, _text(meta.schema_name),
                _text(meta.table_name), meta.idempotent_until, meta.seq)
        finally:
            _L.hr_transport_msg_free(handle)

    def __repr__(self):
        return (f"<heliosrepl.Message seq={self.meta.seq} "
                f"tenant={self.meta.tenant_id!r} flags={self.meta.flags!r} "
                f"{len(self.data)} bytes>")


class Transport(_Handle):
    """An hr_transport. Create one with :meth:`inproc`.

    Keeps a reference to its Env. Use it as a context manager or call
    :meth:`close` (queued messages are dropped); calls on a closed
    transport raise HeliosReplError (``Status.ECLOSED``). One thread at a
    time per transport.
    """

    _free_fn, _errmsg_fn = "hr_transport_free", "hr_transport_errmsg"
    _name = "Transport"
    param_bounds = staticmethod(transport_param_bounds)

    def __init__(self, env, _new_fn):
        self._handle = None
        self._env = env
        self._handle = env._adopt(self, _new_fn)

    @classmethod
    def inproc(cls, env):
        """The in-process transport (hr_transport_new_inproc)."""
        return cls(env, _L.hr_transport_new_inproc)

    def _check(self, status):
        if status != Status.OK:
            raise HeliosReplError(status, self.errmsg)

    @property
    def kind(self):
        return TransportKind(_L.hr_transport_kind(self._ptr))

    def set_param(self, param, value):
        ptr = self._ptr
        param = _param(param)
        value = operator.index(value)
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise _einval(f"transport parameter {param}: {value} outside "
                          "int64")
        self._check(_L.hr_transport_set_param(ptr, param, value))

    def get_param(self, param):
        ptr = self._ptr
        param = _param(param)
        value = ctypes.c_int64()
        status = _L.hr_transport_get_param(ptr, param, ctypes.byref(value))
        if status != Status.OK:
            raise HeliosReplError(status,
                                  f"unknown transport parameter {param}")
        return value.value

    def send(self, tenant_id, data=b"", *, flags=MessageFlag(0), lsn=0,
             commit_time=0, schema_name=None, table_name=None,
             idempotent_until=0):
        """Queue a message (bytes copied); return its sequence number.

        Raises HeliosReplError: EAGAIN (queue full, nothing queued), EINVAL
        (bad metadata).
        """
        ptr = self._ptr
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes-like, not "
                            f"{type(data).__name__}")
        data = bytes(data)
        commit_time = operator.index(commit_time)
        if not _INT64_MIN <= commit_time <= _INT64_MAX:
            raise _einval(f"commit_time {commit_time} outside int64")
        flags = operator.index(flags)
        if not 0 <= flags <= 0xFFFFFFFF:
            raise _einval(f"flags {flags} outside 32 bits")
        meta = _lib.TransportMeta(
            size=ctypes.sizeof(_lib.TransportMeta),
            tenant_id=c_name(tenant_id, "tenant id"), flags=flags,
            lsn=_u64(lsn, "lsn"), commit_time=commit_time,
            schema_name=c_name(schema_name, "schema name", allow_none=True),
            table_name=c_name(table_name, "table name", allow_none=True),
            idempotent_until=_u64(idempotent_until, "idempotent_until"))
        self._check(_L.hr_transport_send(ptr, ctypes.byref(meta), data,
                                         len(data)))
        return meta.seq

    def writable(self, length=0):
        """True when a send of `length` bytes would be accepted now."""
        return bool(_L.hr_transport_writable(self._ptr,
                                             _u64(length, "length")))

    def recv(self):
        """The oldest :class:`Message`, or None when nothing is queued."""
        ptr = self._ptr
        out = ctypes.c_void_p()
        status = _L.hr_transport_recv(ptr, ctypes.byref(out))
        if status == Status.EAGAIN:
            return None
        self._check(status)
        return Message(out)

    def fd(self):
        """The socket to wait on, -1 for none (in-process)."""
        return _L.hr_transport_fd(self._ptr)

    def interest(self):
        return _L.hr_transport_interest(self._ptr)

    def timeout_ms(self, now_ns):
        return _L.hr_transport_timeout_ms(self._ptr, _u64(now_ns, "now_ns"))

    def step(self, now_ns):
        self._check(_L.hr_transport_step(self._ptr, _u64(now_ns, "now_ns")))

    def stats(self):
        """(sent_messages, sent_bytes, queued_messages, queued_bytes)."""
        a, b = ctypes.c_uint64(), ctypes.c_uint64()
        c, d = ctypes.c_size_t(), ctypes.c_size_t()
        _L.hr_transport_stats(self._ptr, ctypes.byref(a), ctypes.byref(b),
                              ctypes.byref(c), ctypes.byref(d))
        return a.value, b.value, c.value, d.value

    def __repr__(self):
        state = "closed" if self.closed else hex(self._handle.value or 0)
        return f"<heliosrepl.Transport {state}>"
