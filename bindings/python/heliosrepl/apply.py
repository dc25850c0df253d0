"""The applier (hr_applier): exactly-once apply of tenants' source
transactions to a target PostgreSQL.

Build the options with :class:`ApplierOpts` (every setter copies its
argument and raises :class:`HeliosReplError` ``EINVAL`` with the library's
message), then create an :class:`Applier`. The host owns the I/O, as for a
:class:`~heliosrepl.Stream`: it waits on :attr:`Applier.fd` /
:attr:`Applier.interest` for at most :meth:`Applier.timeout_ms`, then calls
:meth:`Applier.step`. A lost target connection is no error: the applier
reconnects (phase ``BACKOFF``) and applies again what the target's
checkpoints do not cover.

Submitting a source transaction of a tenant::

    applier.begin(tenant, txn.end_lsn)
    for batch in batches:          # "_hr_op" int2 first (PgTxn.to_batch)
        applier.add_batch(batch)   # the applier takes the batch over
    applier.commit()

**Batch ownership**: :meth:`Applier.add_batch` hands the C batch to the
library on success; the :class:`~heliosrepl.Batch` object is then *moved*
(:attr:`Batch.moved` is True, :attr:`Batch.closed` too, any use raises
``ECLOSED``, ``close`` does nothing). On failure it stays with the caller,
unchanged.

**Callbacks** run inside :meth:`Applier.step`:

* ``on_applied(tenant, lsn)`` - a target transaction committed: `tenant`
  is durably applied up to `lsn` (confirm it to the stream).
* ``on_error(tenant, lsn, status, message)`` - the tenant paused (`status`
  a :class:`Status`, e.g. ``ESCHEMA``, ``ECONFLICT``): its transaction from
  `lsn` on stays queued until :meth:`Applier.resume`.

They may call :meth:`Applier.checkpoint` and the submit methods (``begin``,
``add_batch``, ``commit``, ...); ``step`` and ``resume`` raise ``ESTATE``
there, and ``close`` takes effect when the step returns. The C callbacks
return nothing, so an exception raised by a callback cannot stop the
library: the step carries on, and the first such exception is re-raised,
as is, when it returns.
"""

import ctypes
import enum
import typing

from . import _lib
from ._handle import _Handle
from .batch import Batch, Oid, decode_text
from .errors import HeliosReplError, Status
from .stream import PollFlag, _cstr, _enum, _int_arg

_L = _lib.lib

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_UINT64_MAX = (1 << 64) - 1
_SIZE_MAX = (1 << (8 * ctypes.sizeof(ctypes.c_size_t))) - 1

#: The "_hr_op" value of a truncate batch (HR_OP_TRUNCATE).
OP_TRUNCATE = _lib.HR_OP_TRUNCATE


class ApplyOp(enum.IntEnum):
    """The values of a batch's "_hr_op" column (pgoutput.h, apply.h)."""

    INSERT = 1
    UPDATE = 2
    DELETE = 3
    UPDATE_OLD = 4  # an update's old row, right before its new row
    TRUNCATE = OP_TRUNCATE  # every row of the tenant in the relation


class ApplierPhase(enum.IntEnum):
    """What an applier is doing (enum hr_applier_phase)."""

    IDLE = 0
    CONNECTING = 1
    SETUP = 2
    READY = 3
    BACKOFF = 4
    CLOSED = 5


class ApplierStats(typing.NamedTuple):
    """Totals since the applier was created (hr_applier_stats)."""

    target_txns: int
    source_txns: int
    rows: int
    bytes: int


class CopyState(typing.NamedTuple):
    """A tenant's initial copy (hr_applier_copy_state): `done` once every
    table was copied, else `tables_done` tables are."""

    done: bool
    tables_done: int


def truncate_batch(env, schema_name, table_name):
    """A one-row truncate batch of relation ``schema_name.table_name``:
    applied, it deletes every row of the tenant from that table."""
    return Batch.from_rows(env, [("_hr_op", Oid.INT2, False)],
                           [(OP_TRUNCATE,)], (schema_name, table_name))


# --- options -------------------------------------------------------------------

class ApplierOpts(_Handle):
    """An hr_applier_opts builder. ``ApplierOpts(env, **options)`` calls the
    setter of every keyword: ``conninfo``, ``source_id``, ``meta_schema``,
    ``tenant_column``, ``group_rows``, ``group_bytes``, ``group_delay_ms``,
    ``copy_min_rows``, ``max_pending_bytes``. Setters return self.
    """

    _KEYWORDS = ("conninfo", "source_id", "meta_schema", "tenant_column",
                 "group_rows", "group_bytes", "group_delay_ms",
                 "copy_min_rows", "max_pending_bytes")
    _free_fn, _errmsg_fn = "hr_applier_opts_free", "hr_applier_opts_errmsg"
    _name = _pickle_name = "ApplierOpts"
    _article, _errmsg_null = "an", ""

    def __init__(self, env, **options):
        self._handle = None
        self._env = env
        self._handle = env._adopt(self, _L.hr_applier_opts_new)
        try:
            for name, value in options.items():
                if name not in self._KEYWORDS:
                    raise TypeError(f"unknown applier option {name!r}")
                getattr(self, "set_" + name)(value)
        except BaseException:
            self.close()
            raise

    def set_conninfo(self, conninfo):
        """The libpq connection string of the target (required)."""
        return self._set(_L.hr_applier_opts_set_conninfo,
                         _cstr(conninfo, "conninfo"))

    def set_source_id(self, source_id):
        """The source's name in the checkpoints: 1..63 of [A-Za-z0-9_.-]
        (default "default")."""
        return self._set(_L.hr_applier_opts_set_source_id,
                         _cstr(source_id, "source_id"))

    def set_meta_schema(self, schema):
        """The schema of the applier's own tables (default
        "heliosrepl")."""
        return self._set(_L.hr_applier_opts_set_meta_schema,
                         _cstr(schema, "meta_schema"))

    def set_tenant_column(self, column):
        """The tenant column, for truncates (default "tenant_id")."""
        return self._set(_L.hr_applier_opts_set_tenant_column,
                         _cstr(column, "tenant_column"))

    def set_group_rows(self, rows):
        """Close a target transaction after this many rows (default
        20000)."""
        return self._set(_L.hr_applier_opts_set_group_rows,
                         _int_arg(rows, "group_rows", 0, _SIZE_MAX))

    def set_group_bytes(self, size):
        """... or after this many bytes of values (default 16 MiB)."""
        return self._set(_L.hr_applier_opts_set_group_bytes,
                         _int_arg(size, "group_bytes", 0, _SIZE_MAX))

    def set_group_delay_ms(self, ms):
        """Wait at most this long for more source transactions (default
        20; 0 commits at once)."""
        return self._set(_L.hr_applier_opts_set_group_delay_ms,
                         _int_arg(ms, "group_delay_ms", _INT64_MIN,
                                  _INT64_MAX))

    def set_copy_min_rows(self, rows):
        """Runs of at least this many inserts go through COPY (default 64;
        0 never)."""
        return self._set(_L.hr_applier_opts_set_copy_min_rows,
                         _int_arg(rows, "copy_min_rows", 0, _SIZE_MAX))

    def set_max_pending_bytes(self, size):
        """:meth:`Applier.begin` raises EAGAIN while more bytes than this
        wait (default 64 MiB)."""
        return self._set(_L.hr_applier_opts_set_max_pending_bytes,
                         _int_arg(size, "max_pending_bytes", 0, _SIZE_MAX))


# --- callbacks -----------------------------------------------------------------

def _text_at(address):
    return decode_text(ctypes.string_at(address)) if address else ""


def _applied_trampoline(fn, pending):
    def trampoline(_ctx, tenant, lsn):
        try:
            fn(_text_at(tenant), lsn)
        except BaseException as exc:  # re-raised by step
            pending.append(exc)

    return _lib.APPLIER_APPLIED_FN(trampoline)


def _error_trampoline(fn, pending):
    def trampoline(_ctx, tenant, lsn, status, message):
        try:
            fn(_text_at(tenant), lsn, _enum(Status, status),
               _text_at(message))
        except BaseException as exc:  # re-raised by step
            pending.append(exc)

    return _lib.APPLIER_ERROR_FN(trampoline)


# --- the applier ---------------------------------------------------------------

class Applier(_Handle):
    """An hr_applier (see the module documentation).

    ``Applier(env, opts, on_applied=None, on_error=None)``; `opts` is an
    :class:`ApplierOpts` (copied). Nothing connects before the first
    :meth:`step`. Creation failures raise HeliosReplError with the env's
    message (EINVAL for a missing conninfo). Use it as a context manager or
    call :meth:`close` (what was not committed on the target is not
    applied); calls on a closed applier raise ``ECLOSED``. One thread at a
    time per applier.
    """

    _free_fn, _errmsg_fn = "hr_applier_free", "hr_applier_errmsg"
    _name = _pickle_name = "Applier"
    _article, _errmsg_null = "an", ""

    def __init__(self, env, opts, on_applied=None, on_error=None):
        self._handle = None
        if not isinstance(opts, ApplierOpts):
            raise TypeError(f"opts must be an ApplierOpts, not "
                            f"{type(opts).__name__}")
        for name, fn in (("on_applied", on_applied), ("on_error", on_error)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be callable or None")
        self._env = env
        self._pending = []
        self._stepping = False
        self._close_requested = False
        # Envs of batches taken over from another Env: the library frees
        # those batches through them, so their callbacks must stay alive.
        self._batch_envs = {}
        self._cbs = (
            _applied_trampoline(on_applied, self._pending) if on_applied
            else _lib.APPLIER_APPLIED_FN(),
            _error_trampoline(on_error, self._pending) if on_error
            else _lib.APPLIER_ERROR_FN(),
        )
        table = _lib.ApplierCallbacks(_lib.HR_APPLIER_CALLBACKS_VERSION, None,
                                      *self._cbs)
        opts_ptr = opts._ptr
        failure = []

        def hr_applier_new(env_ptr, out):
            status = _L.hr_applier_new(env_ptr, opts_ptr, ctypes.byref(table),
                                       out)
            if status != Status.OK:
                failure.append(_lib.decode(_L.hr_env_errmsg(env_ptr)))
            return status

        try:
            self._handle = env._adopt(self, hr_applier_new)
        except HeliosReplError as exc:
            if failure and failure[0]:
                raise HeliosReplError(exc.code, failure[0]) from None
            raise

    # -- lifetime ------------------------------------------------------------

    def close(self):
        """Free the applier (hr_applier_free, which also frees the batches
        it took). Calling it again does nothing; from a callback it takes
        effect when the step returns."""
        if self._stepping:
            self._close_requested = True
            return
        super().close()

    def _free(self, handle):
        super()._free(handle)
        self._batch_envs.clear()

    @property
    def closed(self):
        return self._handle is None or self._close_requested

    @property
    def env(self):
        return self._env

    def __repr__(self):
        if self.closed:
            return "<heliosrepl.Applier closed>"
        return f"<heliosrepl.Applier {self.phase.name}>"

    # -- helpers ---------------------------------------------------------------

    def _not_in_callback(self, what):
        ptr = self._ptr
        if self._stepping:
            raise HeliosReplError(
                Status.ESTATE, f"Applier.{what} called from an applier "
                "callback")
        return ptr

    def _check(self, status):
        self._env._raise_pending()
        if status != Status.OK:
            raise HeliosReplError(status, self.errmsg)

    def _now(self):
        value = _L.hr_env_monotonic_ns(self._env._handle)
        self._env._raise_pending()
        return value

    # -- I/O -------------------------------------------------------------------

    @property
    def fd(self):
        """The target connection's socket, -1 while none."""
        return _L.hr_applier_fd(self._ptr)

    @property
    def interest(self):
        """What to wait for on :attr:`fd` (:class:`PollFlag`)."""
        return PollFlag(_L.hr_applier_interest(self._ptr) & 3)

    def timeout_ms(self, now_ns=None):
        """Milliseconds until :meth:`step` must run anyway (0: now, -1: no
        timer); `now_ns` defaults to the env's monotonic clock."""
        ptr = self._ptr
        if now_ns is None:
            now_ns = self._now()
        return _L.hr_applier_timeout_ms(
            ptr, _int_arg(now_ns, "now_ns", 0, _UINT64_MAX))

    @property
    def phase(self):
        """The :class:`ApplierPhase` (CLOSED once the applier is closed)."""
        if self.closed:
            return ApplierPhase.CLOSED
        return _enum(ApplierPhase, _L.hr_applier_phase(self._handle))

    def step(self, now_ns=None):
        """Do the ready work without blocking (hr_applier_step); `now_ns`
        defaults to the env's monotonic clock. A lost connection is not an
        error. Raises HeliosReplError (EAUTH, EIO - the applier retries
        after a back-off -, ENOMEM, ESTATE from a callback, ECLOSED), or
        re-raises a callback's exception once the step is done."""
        ptr = self._not_in_callback("step")
        if now_ns is None:
            now_ns = self._now()
        now_ns = _int_arg(now_ns, "now_ns", 0, _UINT64_MAX)
        self._stepping = True
        try:
            status = _L.hr_applier_step(ptr, now_ns)
            message = _lib.decode(_L.hr_applier_errmsg(ptr)) \
                if status != Status.OK else ""
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
        if status != Status.OK:
            raise HeliosReplError(status, message)

    # -- checkpoints -------------------------------------------------------------

    def checkpoint(self, tenant):
        """The end LSN of the tenant's last applied source transaction (0:
        none). EAGAIN before the checkpoints are loaded (phase READY),
        EINVAL for a bad tenant id."""
        ptr = self._ptr
        lsn = ctypes.c_uint64()
        self._check(_L.hr_applier_checkpoint(ptr, _cstr(tenant, "tenant"),
                                             ctypes.byref(lsn)))
        return lsn.value

    def copy_state(self, tenant):
        """The tenant's initial copy as a :class:`CopyState`; EAGAIN before
        the checkpoints are loaded, EINVAL for a bad tenant id."""
        ptr = self._ptr
        done, tables = ctypes.c_int(), ctypes.c_size_t()
        self._check(_L.hr_applier_copy_state(ptr, _cstr(tenant, "tenant"),
                                             ctypes.byref(done),
                                             ctypes.byref(tables)))
        return CopyState(bool(done.value), tables.value)

    def copy_table_done(self, tenant, schema_name, table_name):
        """True when the tenant's initial copy of the table is done (False
        also before the checkpoints are loaded)."""
        return bool(_L.hr_applier_copy_table_done(
            self._ptr, _cstr(tenant, "tenant"),
            _cstr(schema_name, "schema_name"),
            _cstr(table_name, "table_name")))

    # -- submitting --------------------------------------------------------------

    def begin(self, tenant, end_lsn):
        """Open a source transaction of `tenant` ending at `end_lsn`.
        EAGAIN (backpressure: step, then retry), ESTATE (a transaction is
        open, the tenant is paused, the checkpoints are not loaded,
        `end_lsn` not above the tenant's last), EINVAL (bad tenant id)."""
        ptr = self._ptr
        self._check(_L.hr_applier_begin(
            ptr, _cstr(tenant, "tenant"),
            _int_arg(end_lsn, "end_lsn", 0, _UINT64_MAX)))

    def add_batch(self, batch):
        """Add `batch` to the open transaction. On success the applier owns
        the C batch and `batch` is moved (see the module documentation);
        on error it stays with the caller. EINVAL (no "_hr_op" int2 first
        column, no relation name), ESTATE (no transaction open), ECLOSED
        (a closed or moved batch)."""
        if not isinstance(batch, Batch):
            raise TypeError(f"batch must be a Batch, not "
                            f"{type(batch).__name__}")
        ptr = self._ptr
        self._check(_L.hr_applier_add_batch(ptr, batch._ptr))
        env = batch.env
        if env is not self._env:
            self._batch_envs[id(env)] = env
        batch._detach()

    def commit(self):
        """Close the open transaction (queued for the target); ESTATE
        without one."""
        self._check(_L.hr_applier_commit(self._ptr))

    def rollback(self):
        """Drop the open transaction and its batches (no-op without
        one)."""
        _L.hr_applier_rollback(self._ptr)

    def begin_copy(self, tenant, schema_name, table_name, snapshot_lsn):
        """Open the initial copy of one table of `tenant` (add insert
        batches, then :meth:`commit`). Raises as :meth:`begin`."""
        ptr = self._ptr
        self._check(_L.hr_applier_begin_copy(
            ptr, _cstr(tenant, "tenant"), _cstr(schema_name, "schema_name"),
            _cstr(table_name, "table_name"),
            _int_arg(snapshot_lsn, "snapshot_lsn", 0, _UINT64_MAX)))

    def finish_copy(self, tenant, lsn):
        """Record the tenant's whole copy as done, its checkpoint `lsn`.
        Raises as :meth:`begin`."""
        ptr = self._ptr
        self._check(_L.hr_applier_finish_copy(
            ptr, _cstr(tenant, "tenant"),
            _int_arg(lsn, "lsn", 0, _UINT64_MAX)))

    def set_idempotent_until(self, tenant, lsn):
        """Apply the tenant's changes up to `lsn` idempotently (a copy
        resumed with a later snapshot). EINVAL for a bad tenant id."""
        ptr = self._ptr
        self._check(_L.hr_applier_set_idempotent_until(
            ptr, _cstr(tenant, "tenant"),
            _int_arg(lsn, "lsn", 0, _UINT64_MAX)))

    def resume(self, tenant):
        """Let a paused tenant try its queued transaction again; ENOTFOUND
        when it is not paused."""
        ptr = self._not_in_callback("resume")
        self._check(_L.hr_applier_resume(ptr, _cstr(tenant, "tenant")))

    # -- figures -----------------------------------------------------------------

    @property
    def pending_bytes(self):
        """Bytes of submitted changes not yet committed on the target."""
        return _L.hr_applier_pending_bytes(self._ptr)

    def stats(self):
        """Totals since creation, as :class:`ApplierStats`."""
        out = [ctypes.c_uint64() for _ in range(4)]
        _L.hr_applier_stats(self._ptr, *(ctypes.byref(v) for v in out))
        return ApplierStats(*(v.value for v in out))
