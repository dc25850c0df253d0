"""The tenant change stream (hr_stream): a non-blocking logical replication
connection to a source PostgreSQL that hands the host each committed
transaction of its tenants.

Build the options with :class:`StreamOpts` (every setter copies its
argument and raises :class:`HeliosReplError` ``EINVAL`` with the library's
message), then create a :class:`Stream`. The host owns the I/O: it waits on
:meth:`Stream.fds` (or :attr:`Stream.fd` / :attr:`Stream.interest`) for at
most :meth:`Stream.timeout_ms`, then calls :meth:`Stream.step`;
:meth:`Stream.run` is the blocking convenience.

**Callbacks** run inside ``step`` / ``run``:

* ``on_txn(tenant, txn, changes)`` - a committed transaction of `tenant`
  (a str): `txn` is a :class:`~heliosrepl.PgTxn` snapshot (see
  :mod:`heliosrepl.pgoutput`), `changes` a list of :class:`StreamChange`
  ``(index, role)`` naming the changes of `txn` that belong to the tenant.
  Convert them to typed batches *inside* the callback with
  :func:`stream_to_batch` / :func:`stream_batches` (hr_stream_to_batch);
  :meth:`Stream.confirm` may be called from here.
* ``on_schema_change(relation)`` - a :class:`~heliosrepl.PgRelation`
  snapshot of a relation whose definition changed on the source.

An exception raised by a callback makes the library's step return a
negative status (the exception's code for a :class:`HeliosReplError` with
a negative code, ``HR_EIO`` otherwise) and is re-raised, as is, from
``step`` / ``run``; the stream stays usable (the transaction is handed over
again after a reconnect unless it was confirmed).

A lost connection, a restarting server and the like are not errors:
``step`` returns normally and the stream reconnects on its own (phase
``BACKOFF``). Other failures raise :class:`HeliosReplError` with
:attr:`Stream.errmsg`.
"""

import ctypes
import enum
import operator
import typing

from . import _lib
from ._handle import _Handle
from .batch import Batch, decode_text
from .errors import HeliosReplError, Status
from .pgoutput import PgTxn, _relation_snapshot, _stop_status

_L = _lib.lib

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_UINT64_MAX = (1 << 64) - 1
_INT_MIN, _INT_MAX = -(1 << 31), (1 << 31) - 1


class StreamMode(enum.IntEnum):
    """hr_stream_mode."""

    DEDICATED = 1
    SHARED = 2


class StreamPhase(enum.IntEnum):
    """What a stream is doing (enum hr_stream_phase)."""

    IDLE = 0
    CONNECTING = 1
    SETUP = 2
    SNAPSHOT_HELD = 3
    STREAMING = 4
    BACKOFF = 5
    CLOSED = 6
    HELD = 7  # hold_start: set up, waits for its tenant to move in


class StreamRole(enum.IntEnum):
    """How to apply one change of a tenant's transaction (hr_stream_role)."""

    AS_IS = 0
    DELETE = 1  # an update that moved the row out of this tenant
    INSERT = 2  # an update that moved the row into this tenant


class PollFlag(enum.IntFlag):
    """Interest bits of an fd (HR_POLL_IN, HR_POLL_OUT)."""

    NONE = 0
    IN = 1
    OUT = 2


class StreamChange(typing.NamedTuple):
    """One change of a tenant's transaction: its index in the
    :class:`~heliosrepl.PgTxn` and the :class:`StreamRole` to apply it
    with."""

    index: int
    role: int


def _einval(message):
    return HeliosReplError(Status.EINVAL, message)


def _enum(cls, value):
    try:
        return cls(value)
    except ValueError:
        return value


def _int_arg(value, what, lo, hi):
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be an int, not "
                        f"{type(value).__name__}") from None
    if not lo <= number <= hi:
        raise _einval(f"{what} {number} outside {lo}..{hi}")
    return number


def _cstr(value, what, optional=False):
    """A str argument as NUL-terminated bytes (None only if optional)."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    raw = value.encode("utf-8")
    if b"\0" in raw:
        raise _einval(f"{what} contains a NUL character")
    return raw


# --- converting a tenant's changes --------------------------------------------

def _c_changes(txn, changes):
    if not isinstance(txn, PgTxn):
        raise TypeError(f"txn must be a PgTxn, not {type(txn).__name__}")
    array = (_lib.StreamChange * max(len(changes), 1))()
    for k, entry in enumerate(changes):
        index, role = entry
        array[k].index = _int_arg(index, "change index", 0, _UINT64_MAX)
        array[k].role = _int_arg(role, "change role", _INT_MIN, _INT_MAX)
    return array


def stream_to_batch(txn, changes, first, into=None):
    """Convert the run of `changes` (a list of :class:`StreamChange`) that
    starts at ``changes[first]`` into a typed :class:`~heliosrepl.Batch`
    with the roles applied (hr_stream_to_batch); return ``(batch, next)``,
    `next` being the entry after the run. Only inside ``on_txn`` (ESTATE
    afterwards). `into` reuses an open Batch (cleared first).

    Raises HeliosReplError: EINVAL (`first` out of range, an entry that is
    no row change, a role out of range or on a change that is not an
    update), EPROTO (a DELETE-role update without an old tuple, or a value
    that does not parse), and the errors of :meth:`PgTxn.to_batch`.
    """
    ptr = txn._live_ptr() if isinstance(txn, PgTxn) else None
    array = _c_changes(txn, changes)
    first = _int_arg(first, "entry index", 0, _UINT64_MAX)
    if first >= len(changes):
        raise _einval(f"entry {first} outside a list of {len(changes)} "
                      "changes")
    if into is None:
        out = Batch._internal(txn._env)
    elif isinstance(into, Batch):
        out = into
    else:
        raise TypeError(f"into must be a Batch, not {type(into).__name__}")
    try:
        batch_ptr = out._ptr
        out._info = None  # the conversion replaces the schema
        out._partial = False
        after = ctypes.c_size_t()
        status = _L.hr_stream_to_batch(ptr, array, len(changes), first,
                                       batch_ptr, ctypes.byref(after))
        txn._env._raise_pending()
        if status != Status.OK:
            raise HeliosReplError(status, out.errmsg)
    except BaseException:
        if into is None:
            out.close()
        raise
    return out, after.value


def stream_batches(txn, changes):
    """Every run of `changes` as a typed :class:`~heliosrepl.Batch` (see
    :func:`stream_to_batch`), in order; entries that are not row changes
    (TRUNCATE) are skipped. Only inside ``on_txn``. On error no batch is
    returned (the ones made are closed)."""
    txn._live_ptr()
    batches = []
    try:
        i, count = 0, len(changes)
        while i < count:
            index = changes[i][0]
            if (not 0 <= index < len(txn.changes)
                    or not txn.changes[index].is_row):
                i += 1
                continue
            batch, i = stream_to_batch(txn, changes, i)
            batches.append(batch)
    except BaseException:
        for batch in batches:
            batch.close()
        raise
    return batches


# --- options -------------------------------------------------------------------

class StreamOpts(_Handle):
    """An hr_stream_opts builder. ``StreamOpts(env, **options)`` calls the
    setter of every keyword: ``conninfo``, ``mode``, ``tenant``,
    ``tenant_column``, ``tables`` (an iterable, :meth:`add_table` each),
    ``schemas`` (likewise), ``slot``, ``publication``, ``start_lsn``,
    ``binary``, ``proto_version``, ``status_interval_ms``,
    ``heartbeat_interval_ms``, ``export_snapshot``, ``hold_start``.
    Setters return self.
    """

    _KEYWORDS = ("conninfo", "mode", "tenant", "tenant_column", "slot",
                 "publication", "start_lsn", "binary", "proto_version",
                 "status_interval_ms", "heartbeat_interval_ms",
                 "export_snapshot", "hold_start")
    _free_fn, _errmsg_fn = "hr_stream_opts_free", "hr_stream_opts_errmsg"
    _name = _pickle_name = "StreamOpts"
    _errmsg_null = ""

    def __init__(self, env, **options):
        self._handle = None
        self._env = env
        self._handle = env._adopt(self, _L.hr_stream_opts_new)
        try:
            for table in options.pop("tables", ()):
                self.add_table(table)
            for schema in options.pop("schemas", ()):
                self.add_schema(schema)
            for name, value in options.items():
                if name not in self._KEYWORDS:
                    raise TypeError(f"unknown stream option {name!r}")
                getattr(self, "set_" + name)(value)
        except BaseException:
            self.close()
            raise

    def set_conninfo(self, conninfo):
        """The libpq connection string of the source (required)."""
        return self._set(_L.hr_stream_opts_set_conninfo,
                         _cstr(conninfo, "conninfo"))

    def set_mode(self, mode):
        """:class:`StreamMode` DEDICATED (default) or SHARED."""
        return self._set(_L.hr_stream_opts_set_mode,
                         _int_arg(mode, "mode", _INT_MIN, _INT_MAX))

    def set_tenant(self, tenant):
        """Dedicated mode: the tenant id, 1..63 of [A-Za-z0-9_.-]."""
        return self._set(_L.hr_stream_opts_set_tenant,
                         _cstr(tenant, "tenant"))

    def set_tenant_column(self, column):
        """The tenant column name (default "tenant_id")."""
        return self._set(_L.hr_stream_opts_set_tenant_column,
                         _cstr(column, "tenant_column"))

    def add_table(self, table):
        """Add "schema.table" to the explicit table list."""
        return self._set(_L.hr_stream_opts_add_table, _cstr(table, "table"))

    def add_schema(self, schema):
        """Add every table of `schema` that has the tenant column."""
        return self._set(_L.hr_stream_opts_add_schema,
                         _cstr(schema, "schema"))

    def set_slot(self, slot):
        """The slot name, 1..63 of [a-z0-9_]."""
        return self._set(_L.hr_stream_opts_set_slot, _cstr(slot, "slot"))

    def set_publication(self, publication):
        """The publication name (1..63 bytes, no backslash)."""
        return self._set(_L.hr_stream_opts_set_publication,
                         _cstr(publication, "publication"))

    def set_start_lsn(self, lsn):
        """The host's checkpoint (dedicated mode; default 0)."""
        return self._set(_L.hr_stream_opts_set_start_lsn,
                         _int_arg(lsn, "start_lsn", 0, _UINT64_MAX))

    def set_binary(self, binary):
        """Ask pgoutput for binary values (default False: text)."""
        return self._set(_L.hr_stream_opts_set_binary, int(bool(binary)))

    def set_proto_version(self, version):
        """pgoutput protocol 1 or 2 (default 2)."""
        return self._set(_L.hr_stream_opts_set_proto_version,
                         _int_arg(version, "proto_version", _INT_MIN,
                                  _INT_MAX))

    def set_status_interval_ms(self, ms):
        """Standby status updates at least this often (default 10000)."""
        return self._set(_L.hr_stream_opts_set_status_interval_ms,
                         _int_arg(ms, "status_interval_ms", _INT64_MIN,
                                  _INT64_MAX))

    def set_heartbeat_interval_ms(self, ms):
        """Heartbeat interval (default 30000; 0 disables)."""
        return self._set(_L.hr_stream_opts_set_heartbeat_interval_ms,
                         _int_arg(ms, "heartbeat_interval_ms", _INT64_MIN,
                                  _INT64_MAX))

    def set_export_snapshot(self, hold):
        """Hold the exported snapshot of a slot this stream creates."""
        return self._set(_L.hr_stream_opts_set_export_snapshot,
                         int(bool(hold)))

    def set_hold_start(self, hold):
        """Dedicated mode, for a tenant moving off a shared stream: set up,
        then wait (phase HELD) for :meth:`Stream.move_tenant`."""
        return self._set(_L.hr_stream_opts_set_hold_start, int(bool(hold)))


# --- callbacks -----------------------------------------------------------------

def _stream_txn_trampoline(fn, pending, env):
    def trampoline(_ctx, tenant, ptr, changes, n):
        txn = None
        try:
            name = decode_text(ctypes.string_at(tenant)) if tenant else ""
            entries = []
            if n:
                array = ctypes.cast(changes,
                                    ctypes.POINTER(_lib.StreamChange))
                entries = [StreamChange(array[k].index,
                                        _enum(StreamRole, array[k].role))
                           for k in range(n)]
            txn = PgTxn(ptr, env)
            fn(name, txn, entries)
            return Status.OK
        except BaseException as exc:  # re-raised by step / run
            pending.append(exc)
            return _stop_status(exc)
        finally:
            if txn is not None:
                txn._expire()

    return _lib.STREAM_TXN_FN(trampoline)


def _stream_schema_trampoline(fn, pending):
    def trampoline(_ctx, ptr):
        try:
            fn(_relation_snapshot(ptr))
            return Status.OK
        except BaseException as exc:  # re-raised by step / run
            pending.append(exc)
            return _stop_status(exc)

    return _lib.STREAM_SCHEMA_FN(trampoline)


# --- the stream ----------------------------------------------------------------

class Stream(_Handle):
    """An hr_stream (see the module documentation).

    ``Stream(env, opts, on_txn=None, on_schema_change=None)``; `opts` is a
    :class:`StreamOpts` (copied). Creation failures raise HeliosReplError
    with the env's message (e.g. EINVAL for a missing conninfo). Use it as a
    context manager or call :meth:`close`; calls on a closed stream raise
    ``ECLOSED``. One thread at a time per stream.
    """

    _free_fn, _errmsg_fn = "hr_stream_free", "hr_stream_errmsg"
    _name = _pickle_name = "Stream"
    _errmsg_null = ""

    def __init__(self, env, opts, on_txn=None, on_schema_change=None):
        self._handle = None
        if not isinstance(opts, StreamOpts):
            raise TypeError(f"opts must be a StreamOpts, not "
                            f"{type(opts).__name__}")
        for name, fn in (("on_txn", on_txn),
                         ("on_schema_change", on_schema_change)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be callable or None")
        self._env = env
        self._pending = []
        self._stepping = False
        self._close_requested = False
        pending = self._pending
        self._cbs = (
            _stream_txn_trampoline(on_txn, pending, env) if on_txn
            else _lib.STREAM_TXN_FN(),
            _stream_schema_trampoline(on_schema_change, pending)
            if on_schema_change else _lib.STREAM_SCHEMA_FN(),
        )
        table = _lib.StreamCallbacks(_lib.HR_STREAM_CALLBACKS_VERSION, None,
                                     *self._cbs)
        opts_ptr = opts._ptr
        failure = []

        def hr_stream_new(env_ptr, out):
            status = _L.hr_stream_new(env_ptr, opts_ptr, ctypes.byref(table),
                                      out)
            if status != Status.OK:
                failure.append(_lib.decode(_L.hr_env_errmsg(env_ptr)))
            return status

        try:
            self._handle = env._adopt(self, hr_stream_new)
        except HeliosReplError as exc:
            if failure and failure[0]:
                raise HeliosReplError(exc.code, failure[0]) from None
            raise

    # -- lifetime ------------------------------------------------------------

    def close(self):
        """Free the stream (hr_stream_free: closes the connection, drops
        nothing). Calling it again does nothing; from a callback it takes
        effect when the step returns."""
        if self._stepping:
            self._close_requested = True
            return
        super().close()

    @property
    def closed(self):
        return self._handle is None or self._close_requested

    @property
    def env(self):
        return self._env

    def __repr__(self):
        if self.closed:
            return "<heliosrepl.Stream closed>"
        return f"<heliosrepl.Stream {self.phase.name}>"

    # -- helpers ---------------------------------------------------------------

    def _not_in_callback(self, what):
        ptr = self._ptr
        if self._stepping:
            raise HeliosReplError(
                Status.ESTATE, f"Stream.{what} called from a stream callback")
        return ptr

    def _now(self):
        """The env clock's monotonic time (also once the Env is closed but
        kept for this stream)."""
        value = _L.hr_env_monotonic_ns(self._env._handle)
        self._env._raise_pending()
        return value

    def _check(self, status):
        self._env._raise_pending()
        if status < 0:
            raise HeliosReplError(status, self.errmsg)

    def _run(self, fn, *args):
        """Call a C function that may run callbacks, then raise what it
        raised."""
        ptr = self._not_in_callback(fn.__name__[len("hr_stream_"):])
        self._stepping = True
        try:
            status = fn(ptr, *args)
            message = _lib.decode(_L.hr_stream_errmsg(ptr)) \
                if status < 0 else ""
        finally:
            self._stepping = False
            if self._close_requested:
                self._close_requested = False
                self.close()
        self._env._raise_pending()
        if self._pending:
            exc = self._pending[0]
            self._pending.clear()
            raise exc
        if status < 0:
            raise HeliosReplError(status, message)

    # -- API -------------------------------------------------------------------

    @property
    def fd(self):
        """The replication connection's socket, -1 while none."""
        return _L.hr_stream_fd(self._ptr)

    @property
    def interest(self):
        """What to wait for on :attr:`fd` (:class:`PollFlag`)."""
        return PollFlag(_L.hr_stream_interest(self._ptr) & 3)

    def fds(self):
        """Every socket the stream waits on now: a list of ``(fd,
        PollFlag)``, the replication connection's first. Ask again after
        every step."""
        ptr = self._ptr
        room = _lib.HR_STREAM_FDS_MAX
        while True:
            fds, interests = (ctypes.c_int * room)(), (ctypes.c_int * room)()
            count = _L.hr_stream_fds(ptr, fds, interests, room)
            if count < 0:
                raise HeliosReplError(count, self.errmsg)
            if count <= room:
                return [(fds[k], PollFlag(interests[k] & 3))
                        for k in range(count)]
            room = count

    def timeout_ms(self, now_ns=None):
        """Milliseconds until :meth:`step` must run even if the fds stay
        quiet (0: now, -1: no timer); `now_ns` defaults to the env's
        monotonic clock."""
        ptr = self._ptr
        if now_ns is None:
            now_ns = self._now()
        return _L.hr_stream_timeout_ms(
            ptr, _int_arg(now_ns, "now_ns", 0, _UINT64_MAX))

    @property
    def phase(self):
        """The :class:`StreamPhase` (CLOSED once the stream is closed)."""
        if self.closed:
            return StreamPhase.CLOSED
        return _enum(StreamPhase, _L.hr_stream_phase(self._handle))

    def step(self, now_ns=None):
        """Do the work that is ready, without blocking (hr_stream_step);
        `now_ns` defaults to the env's monotonic clock. Returns None; a lost
        connection is not an error (the stream backs off and reconnects).
        Raises HeliosReplError (ESCHEMA, EAUTH, ESTATE, ENOTFOUND,
        EUNSUPPORTED, ELIMIT, EPROTO, EIO, ECLOSED, ...) or re-raises a
        callback's exception."""
        if now_ns is None:
            now_ns = self._now()
        self._run(_L.hr_stream_step,
                  _int_arg(now_ns, "now_ns", 0, _UINT64_MAX))

    def run(self, timeout_ms):
        """Step until `timeout_ms` passes, polling the fds (negative: until
        an error); raises as :meth:`step`."""
        self._run(_L.hr_stream_run,
                  _int_arg(timeout_ms, "timeout_ms", _INT64_MIN, _INT64_MAX))

    def confirm(self, tenant, lsn):
        """The host durably applied everything of `tenant` (None in
        dedicated mode) up to `lsn`. May be called from ``on_txn``.
        EINVAL (None tenant in shared mode), ENOTFOUND (unknown tenant)."""
        ptr = self._ptr
        status = _L.hr_stream_confirm(
            ptr, _cstr(tenant, "tenant", optional=True),
            _int_arg(lsn, "lsn", 0, _UINT64_MAX))
        self._check(status)

    def confirmed_lsn(self, tenant=None):
        """The confirmed position of `tenant` (None: the slot's), 0 if
        none."""
        return _L.hr_stream_confirmed_lsn(
            self._ptr, _cstr(tenant, "tenant", optional=True))

    def add_tenant(self, tenant, confirmed_lsn=0):
        """Shared mode: add a tenant with its checkpoint. EINVAL (bad id,
        already added, dedicated mode)."""
        ptr = self._not_in_callback("add_tenant")
        status = _L.hr_stream_add_tenant(
            ptr, _cstr(tenant, "tenant"),
            _int_arg(confirmed_lsn, "confirmed_lsn", 0, _UINT64_MAX))
        self._check(status)

    def remove_tenant(self, tenant):
        """Shared mode: remove a tenant; ENOTFOUND for an unknown one."""
        ptr = self._not_in_callback("remove_tenant")
        self._check(_L.hr_stream_remove_tenant(ptr, _cstr(tenant, "tenant")))

    @property
    def snapshot_name(self):
        """The exported snapshot's name while one is held, else None."""
        return _lib.decode(_L.hr_stream_snapshot_name(self._ptr))

    @property
    def consistent_lsn(self):
        """The consistent LSN of a slot this stream created, else 0."""
        return _L.hr_stream_consistent_lsn(self._ptr)

    def release_snapshot(self):
        """Let the held snapshot go and start replicating; ESTATE when none
        is held."""
        ptr = self._not_in_callback("release_snapshot")
        self._check(_L.hr_stream_release_snapshot(ptr))

    @property
    def slot_lsn(self):
        """Where the slot starts (its confirmed position at the last setup;
        its consistent point if this stream created it), 0 before setup saw
        it: the slot holds every transaction ending after it."""
        return _L.hr_stream_slot_lsn(self._ptr)

    def tenant_lag_bytes(self, tenant=None):
        """Bytes of WAL between `tenant`'s confirmed position (None in
        dedicated mode) and the furthest WAL end the server reported.
        EINVAL (None tenant in shared mode), ENOTFOUND (unknown tenant)."""
        value = _L.hr_stream_tenant_lag_bytes(
            self._ptr, _cstr(tenant, "tenant", optional=True))
        if value < 0:
            raise HeliosReplError(value, f"no lag for tenant {tenant!r}")
        return value

    def move_tenant(self, tenant, to):
        """Move `tenant` from this shared stream to the dedicated Stream
        `to` (made for it with ``hold_start``). Returns True once moved,
        False while not yet possible (`to` not set up, or the tenant's
        confirm has not reached ``to.slot_lsn``: keep stepping both streams
        and confirming, then call again). Raises EINVAL, ENOTFOUND, ESTATE
        (see hr_stream_move_tenant)."""
        ptr = self._not_in_callback("move_tenant")
        if not isinstance(to, Stream):
            raise TypeError("to must be a Stream")
        other = to._not_in_callback("move_tenant")
        status = _L.hr_stream_move_tenant(ptr, _cstr(tenant, "tenant"),
                                          other)
        if status == Status.EAGAIN:
            return False
        self._check(status)
        return True

    def drop(self):
        """Remove the slot and the publication from the source (blocking);
        the stream is closed for good afterwards (phase CLOSED)."""
        ptr = self._not_in_callback("drop")
        self._check(_L.hr_stream_drop(ptr))
