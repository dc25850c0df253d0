"""The source side of a tenant's initial copy (hr_copier): reads the
tenant's existing rows of a set of tables from a source PostgreSQL inside
one snapshot and hands them over as :class:`~heliosrepl.Batch` objects
("_hr_op" = 1 first, then the table's columns, typed as pgoutput's values).

Build the options with :class:`CopierOpts` (every setter copies its
argument and raises :class:`HeliosReplError` ``EINVAL`` with the library's
message), then create a :class:`Copier`. The host owns the I/O: it waits on
:attr:`Copier.fd` for :attr:`Copier.interest` for at most
:meth:`Copier.timeout_ms`, then calls :meth:`Copier.step`;
:meth:`Copier.run` is the blocking convenience.

**Callbacks** run inside ``step`` / ``run``:

* ``on_batch(schema, table, batch)`` (required) - the next batch of the
  table. The callback owns `batch` (close it, or keep it). Returning
  ``False`` is backpressure: the batch is not taken (do not keep it: it is
  closed for Python) and the same rows come again at the next step.
* ``on_table_begin(schema, table, rows_expected)`` and
  ``on_table_end(schema, table, rows, bytes)`` (optional).

An exception raised by a callback ends the copy: the library's step returns
a negative status (the exception's code for a :class:`HeliosReplError` with
a negative code, ``HR_EIO`` otherwise) and the exception is re-raised, as
is, from ``step`` / ``run``. Every failure is final for a copier: free it
and start a new one with the completed tables as ``skip_tables``.
"""

import ctypes
import operator

from . import _lib
from ._handle import _Handle
from .batch import Batch, decode_text
from .errors import HeliosReplError, Status
from .pgoutput import _stop_status

_L = _lib.lib

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_UINT64_MAX = (1 << 64) - 1


def _einval(message):
    return HeliosReplError(Status.EINVAL, message)


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
    data = value.encode("utf-8")
    if b"\0" in data:
        raise _einval(f"{what} contains a NUL character")
    return data


def _name(ptr):
    return decode_text(ctypes.string_at(ptr)) if ptr else ""


class CopierOpts(_Handle):
    """An hr_copier_opts builder. ``CopierOpts(env, **options)`` calls the
    setter of every keyword: ``conninfo``, ``tenant``, ``tenant_column``,
    ``tables`` (an iterable, :meth:`add_table` each), ``schemas``
    (likewise), ``snapshot``, ``skip_tables`` (likewise), and
    ``rows_per_batch``. Setters return self.
    """

    _KEYWORDS = ("conninfo", "tenant", "tenant_column", "snapshot",
                 "rows_per_batch")
    _free_fn, _errmsg_fn = "hr_copier_opts_free", "hr_copier_opts_errmsg"
    _name = _pickle_name = "CopierOpts"
    _errmsg_null = ""

    def __init__(self, env, **options):
        self._handle = None
        self._env = env
        self._handle = env._adopt(self, _L.hr_copier_opts_new)
        try:
            for table in options.pop("tables", ()):
                self.add_table(table)
            for schema in options.pop("schemas", ()):
                self.add_schema(schema)
            for table in options.pop("skip_tables", ()):
                self.add_skip_table(table)
            for name, value in options.items():
                if name not in self._KEYWORDS:
                    raise TypeError(f"unknown copier option {name!r}")
                getattr(self, "set_" + name)(value)
        except BaseException:
            self.close()
            raise

    def set_conninfo(self, conninfo):
        """The libpq connection string of the source (required)."""
        return self._set(_L.hr_copier_opts_set_conninfo,
                         _cstr(conninfo, "conninfo"))

    def set_tenant(self, tenant):
        """The tenant id (required), 1..63 of [A-Za-z0-9_.-]."""
        return self._set(_L.hr_copier_opts_set_tenant,
                         _cstr(tenant, "tenant"))

    def set_tenant_column(self, column):
        """The tenant column name (default "tenant_id")."""
        return self._set(_L.hr_copier_opts_set_tenant_column,
                         _cstr(column, "column"))

    def add_table(self, table):
        """Copy "schema.table" (or "table": schema public)."""
        return self._set(_L.hr_copier_opts_add_table, _cstr(table, "table"))

    def add_schema(self, schema):
        """Copy every table of `schema` that has the tenant column."""
        return self._set(_L.hr_copier_opts_add_schema,
                         _cstr(schema, "schema"))

    def set_snapshot(self, name):
        """Copy in the exported snapshot `name` (Stream.snapshot_name);
        None or "" for a snapshot of the copier's own."""
        return self._set(_L.hr_copier_opts_set_snapshot,
                         _cstr(name, "snapshot", optional=True))

    def add_skip_table(self, table):
        """Do not copy "schema.table" (copied already)."""
        return self._set(_L.hr_copier_opts_add_skip_table,
                         _cstr(table, "table"))

    def set_table_priority(self, table, priority):
        """Copy "schema.table" before tables of a lower priority (default
        0; equal priorities in schema, name order). `priority`: finite."""
        return self._set(_L.hr_copier_opts_set_table_priority,
                         _cstr(table, "table"), float(priority))

    def set_rows_per_batch(self, rows):
        """Rows of one batch, 1..1048576 (default 1024)."""
        return self._set(_L.hr_copier_opts_set_rows_per_batch,
                         _int_arg(rows, "rows per batch", 0, _UINT64_MAX))


def _batch_from_library(env, ptr):
    """A Batch owning the hr_batch the library handed over."""
    batch = Batch.__new__(Batch)
    batch._env = env
    batch._info = None
    batch._partial = False
    batch._moved = False
    batch._handle = ctypes.c_void_p(ptr)
    env._children.add(id(batch))
    return batch


def _release_unowned(batch):
    """Forget a batch the host did not take (the library keeps it)."""
    if batch._handle is not None:
        batch._handle = None
        batch._env._disown(batch)


def _trampolines(env, pending, on_begin, on_batch, on_end):
    def begin(_ctx, schema, table, rows):
        try:
            on_begin(_name(schema), _name(table), rows)
            return Status.OK
        except BaseException as exc:  # re-raised by step / run
            pending.append(exc)
            return _stop_status(exc)

    def batch(_ctx, schema, table, ptr):
        wrapped = None
        try:
            wrapped = _batch_from_library(env, ptr)
            if on_batch(_name(schema), _name(table), wrapped) is False:
                _release_unowned(wrapped)
                return Status.EAGAIN
            return Status.OK
        except BaseException as exc:  # re-raised by step / run
            if wrapped is not None:
                _release_unowned(wrapped)  # the library frees it
            pending.append(exc)
            return _stop_status(exc)

    def end(_ctx, schema, table, rows, nbytes):
        try:
            on_end(_name(schema), _name(table), rows, nbytes)
            return Status.OK
        except BaseException as exc:  # re-raised by step / run
            pending.append(exc)
            return _stop_status(exc)

    return (_lib.COPIER_BEGIN_FN(begin) if on_begin
            else _lib.COPIER_BEGIN_FN(),
            _lib.COPIER_BATCH_FN(batch),
            _lib.COPIER_END_FN(end) if on_end else _lib.COPIER_END_FN())


class Copier(_Handle):
    """An hr_copier (see the module documentation).

    ``Copier(env, opts, on_batch, on_table_begin=None, on_table_end=None)``;
    `opts` is a :class:`CopierOpts` (copied). Creation failures raise
    HeliosReplError with the env's message. Use it as a context manager or
    call :meth:`close`. One thread at a time per copier.
    """

    _free_fn, _errmsg_fn = "hr_copier_free", "hr_copier_errmsg"
    _name = _pickle_name = "Copier"
    _errmsg_null = ""

    def __init__(self, env, opts, on_batch, on_table_begin=None,
                 on_table_end=None):
        self._handle = None
        if not isinstance(opts, CopierOpts):
            raise TypeError(f"opts must be a CopierOpts, not "
                            f"{type(opts).__name__}")
        if not callable(on_batch):
            raise TypeError("on_batch must be callable")
        for name, fn in (("on_table_begin", on_table_begin),
                         ("on_table_end", on_table_end)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be callable or None")
        self._env = env
        self._pending = []
        self._stepping = False
        self._cbs = _trampolines(env, self._pending, on_table_begin,
                                 on_batch, on_table_end)
        table = _lib.CopierCallbacks(_lib.HR_COPIER_CALLBACKS_VERSION, None,
                                     *self._cbs)
        opts_ptr = opts._ptr
        failure = []

        def hr_copier_new(env_ptr, out):
            status = _L.hr_copier_new(env_ptr, opts_ptr, ctypes.byref(table),
                                      out)
            if status != Status.OK:
                failure.append(_lib.decode(_L.hr_env_errmsg(env_ptr)))
            return status

        try:
            self._handle = env._adopt(self, hr_copier_new)
        except HeliosReplError as exc:
            if failure and failure[0]:
                raise HeliosReplError(exc.code, failure[0]) from None
            raise

    def close(self):
        """Free the copier (closes its connection). Not from a callback."""
        if self._stepping:
            raise HeliosReplError(Status.ESTATE,
                                  "Copier.close called from a callback")
        super().close()

    def __del__(self):
        if getattr(self, "_handle", None) is not None and not self._stepping:
            self.close()

    def _run(self, fn, *args):
        ptr = self._ptr
        if self._stepping:
            raise HeliosReplError(Status.ESTATE,
                                  "Copier called from a copier callback")
        self._stepping = True
        try:
            status = fn(ptr, *args)
            message = _lib.decode(_L.hr_copier_errmsg(ptr)) \
                if status < 0 else ""
        finally:
            self._stepping = False
        self._env._raise_pending()
        if self._pending:
            exc = self._pending[0]
            self._pending.clear()
            raise exc
        if status < 0:
            raise HeliosReplError(status, message)

    @property
    def fd(self):
        """The socket to wait on, -1 while there is none."""
        return _L.hr_copier_fd(self._ptr)

    @property
    def interest(self):
        """HR_POLL_IN | HR_POLL_OUT bits to wait for (0: none)."""
        return _L.hr_copier_interest(self._ptr)

    def _now(self):
        value = _L.hr_env_monotonic_ns(self._env._handle)
        self._env._raise_pending()
        return value

    def timeout_ms(self, now_ns=None):
        """Milliseconds until step must run anyway (-1: none)."""
        now = self._now() if now_ns is None else now_ns
        return _L.hr_copier_timeout_ms(
            self._ptr, _int_arg(now, "now_ns", 0, _UINT64_MAX))

    def step(self, now_ns=None):
        """Do the work that is ready, without blocking."""
        now = self._now() if now_ns is None else now_ns
        self._run(_L.hr_copier_step, _int_arg(now, "now_ns", 0, _UINT64_MAX))

    def run(self, timeout_ms=-1):
        """Step until done, an error, or `timeout_ms` (negative: no
        limit); True once done."""
        self._run(_L.hr_copier_run,
                  _int_arg(timeout_ms, "timeout_ms", _INT64_MIN, _INT64_MAX))
        return self.done

    @property
    def done(self):
        """True once every table is copied."""
        return bool(_L.hr_copier_done(self._ptr))

    def progress(self):
        """``(rows_done, rows_expected, bytes, percent)``."""
        done, expected, nbytes = (ctypes.c_uint64(), ctypes.c_uint64(),
                                  ctypes.c_uint64())
        percent = ctypes.c_double()
        status = _L.hr_copier_progress(self._ptr, ctypes.byref(done),
                                       ctypes.byref(expected),
                                       ctypes.byref(nbytes),
                                       ctypes.byref(percent))
        if status != Status.OK:
            raise HeliosReplError(status, self.errmsg)
        return done.value, expected.value, nbytes.value, percent.value

    @property
    def snapshot_lsn(self):
        """The WAL position of the copier's own snapshot (0 if none)."""
        return _L.hr_copier_snapshot_lsn(self._ptr)
