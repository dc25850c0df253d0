"""The pgoutput decoder (hr_pgdecoder): PostgreSQL's logical replication
stream, decoded without I/O.

Feed :meth:`PgDecoder.feed` the payload of every CopyData message a
replication connection receives after ``START_REPLICATION ... LOGICAL``
(XLogData ``w`` and keepalive ``k`` frames, e.g. from psycopg's replication
cursor), or :meth:`PgDecoder.feed_message` the bare pgoutput messages of
``pg_logical_slot_get_binary_changes()``. The decoder calls the host back
from inside ``feed``:

* ``on_txn(txn)`` - a committed transaction (a :class:`PgTxn`) with every
  change in commit order, also streamed ones assembled from their segments;
* ``on_relation(relation, schema_changed)`` - a Relation message (a
  :class:`PgRelation`); ``schema_changed`` is True when it redefines a
  cached OID;
* ``on_keepalive(wal_end, server_time, reply_requested)`` - a primary
  keepalive (``server_time`` in microseconds since 2000-01-01 UTC);
* ``on_message(lsn, prefix, content)`` - a non-transactional logical
  decoding message.

**Snapshots.** The C transaction (``hr_pgtxn``) is valid only while
``on_txn`` runs, and a cached relation only until a Relation message
replaces it. So the objects a callback receives are *snapshots* built
eagerly, during the C callback, before the Python function is called:
plain Python values (``bytes`` copies of every wire value) that stay valid
after the callback returns and after the decoder is closed. The one thing
that needs the live C transaction is converting its rows into typed
batches: call :meth:`PgTxn.to_batches` (or :meth:`PgTxn.to_batch`) *inside*
``on_txn``; afterwards they raise ``HeliosReplError`` (``Status.ESTATE``).
The batches themselves are ordinary :class:`~heliosrepl.Batch` handles owned
by the caller (close them, or let them be collected).

**Errors.** Failed calls raise :class:`HeliosReplError` with the decoder's
message (:attr:`PgDecoder.errmsg`), e.g. ``EPROTO`` naming the message type
and the byte offset in the payload. After ``EPROTO``, ``ELIMIT`` or
``ENOMEM`` the decoder refuses to be fed (``ESTATE``) until
:meth:`PgDecoder.reset`. An exception raised by a callback stops the feed
(the callback returns a negative status to the library, so the rest of the
payload is not decoded) and is re-raised, as is, from ``feed``; the decoder
stays usable, as after any callback status. The status handed to the
library is the exception's code for a :class:`HeliosReplError` with a
negative code, ``HR_EIO`` otherwise; :attr:`PgDecoder.errmsg` then reads
``"on_txn returned -3"``.

Callbacks must not call back into their decoder, except for
:meth:`PgDecoder.relation`, :attr:`PgDecoder.wal_end` and
:attr:`PgDecoder.errmsg`: ``feed``, ``feed_message``, ``reset`` and
``set_param`` raise ``ESTATE`` there; :meth:`PgDecoder.close` from a
callback takes effect when the feed returns.
"""

import copy
import ctypes
import dataclasses
import datetime
import enum
import operator
import typing

from . import _lib
from ._handle import _Handle
from .batch import EPOCH_UTC, Batch, Oid, decode_text
from .errors import HeliosReplError, Status

_L = _lib.lib

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_UINT32_MAX = (1 << 32) - 1
_UINT64_MAX = (1 << 64) - 1
_INT_MIN, _INT_MAX = -(1 << 31), (1 << 31) - 1


class PgChangeKind(enum.IntEnum):
    """What a change does (enum hr_pgchange_kind)."""

    INSERT = 1
    UPDATE = 2
    DELETE = 3
    TRUNCATE = 4
    MESSAGE = 5  # a transactional logical decoding message


class PgValueForm(str, enum.Enum):
    """The form of one wire value (enum hr_pgvalue_form)."""

    NULL = "n"
    UNCHANGED_TOAST = "u"
    TEXT = "t"
    BINARY = "b"


class PgTruncateOption(enum.IntFlag):
    """The options of a TRUNCATE change."""

    CASCADE = 1
    RESTART_IDENTITY = 2


class PgDecoderParam(enum.IntEnum):
    """Decoder parameters (enum hr_pgdecoder_param)."""

    #: Bytes of changes buffered for one open transaction: 65536..2^40,
    #: default 1 GiB; beyond it feed raises ELIMIT.
    MAX_TXN_BYTES = 1


class PgColumn(typing.NamedTuple):
    """A column of a relation: name, type OID (an :class:`~heliosrepl.Oid`
    member when known), type modifier (-1 for none) and whether it is part
    of the replica identity key."""

    name: str
    type_oid: int
    typmod: int
    is_key: bool


class PgValue(typing.NamedTuple):
    """One value of a tuple, in its wire form: ``data`` is the text or
    binary bytes, None for NULL and unchanged TOAST."""

    form: PgValueForm
    data: typing.Optional[bytes]


class PgTruncate(typing.NamedTuple):
    """A TRUNCATE change: the OIDs of its relations, its options, and
    ``tables``, the :class:`PgRelation` snapshot of each relation (its name,
    to apply the truncate; None for one the library could not name)."""

    relations: list
    options: PgTruncateOption
    tables: typing.Optional[list] = None


class PgMessage(typing.NamedTuple):
    """A transactional logical decoding message: its prefix and content."""

    prefix: str
    content: bytes


@dataclasses.dataclass(frozen=True)
class PgRelation:
    """A snapshot of a relation version (hr_pgrelation).

    ``replica_identity`` is ``"d"`` (default), ``"n"`` (nothing), ``"f"``
    (full) or ``"i"`` (index); ``columns`` is a list of :class:`PgColumn`.
    """

    oid: int
    schema: str
    name: str
    replica_identity: str
    columns: list

    @property
    def key_columns(self):
        """The names of the replica identity key columns."""
        return [c.name for c in self.columns if c.is_key]


@dataclasses.dataclass(frozen=True)
class PgChange:
    """A snapshot of one change of a transaction.

    Row changes (insert, update, delete) have ``relation`` (the version in
    force when the change arrived) and their tuples as lists of
    :class:`PgValue`: ``new`` (insert, update) and ``old`` (a delete; an
    update that sent its old row). ``old_form`` says which old tuple:
    ``"K"`` (replica identity key columns; the others NULL), ``"O"`` (the
    whole old row, REPLICA IDENTITY FULL) or None. A TRUNCATE has
    ``truncate``, a message ``message``; their other fields are None.
    """

    kind: PgChangeKind
    relation: typing.Optional[PgRelation] = None
    old_form: typing.Optional[str] = None
    new: typing.Optional[list] = None
    old: typing.Optional[list] = None
    truncate: typing.Optional[PgTruncate] = None
    message: typing.Optional[PgMessage] = None

    @property
    def is_row(self):
        """True for an insert, update or delete."""
        return self.kind in _ROW_KINDS


_ROW_KINDS = (PgChangeKind.INSERT, PgChangeKind.UPDATE, PgChangeKind.DELETE)


def _einval(message):
    return HeliosReplError(Status.EINVAL, message)


def _enum(cls, value):
    """The member of `cls` for a known value, the plain value otherwise."""
    try:
        return cls(value)
    except ValueError:
        return value


def _text(raw):
    return None if raw is None else decode_text(raw)


def _buffer(data, what):
    """bytes of a bytes-like argument (no copy for bytes)."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"{what} must be bytes-like, not {type(data).__name__}")


def _int_arg(value, what, lo, hi):
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be an int, not "
                        f"{type(value).__name__}") from None
    if not lo <= number <= hi:
        raise _einval(f"{what} {number} outside {lo}..{hi}")
    return number


# --- snapshots ---------------------------------------------------------------

def _relation_snapshot(ptr):
    """A PgRelation from a live hr_pgrelation pointer."""
    columns = [
        PgColumn(decode_text(_L.hr_pgrelation_column_name(ptr, col) or b""),
                 _enum(Oid, _L.hr_pgrelation_column_type(ptr, col)),
                 _L.hr_pgrelation_column_typmod(ptr, col),
                 bool(_L.hr_pgrelation_column_is_key(ptr, col)))
        for col in range(_L.hr_pgrelation_columns(ptr))]
    ident = _L.hr_pgrelation_replica_identity(ptr)
    return PgRelation(_L.hr_pgrelation_oid(ptr),
                      decode_text(_L.hr_pgrelation_schema(ptr) or b""),
                      decode_text(_L.hr_pgrelation_name(ptr) or b""),
                      ident.decode("latin-1"), columns)


class _TxnReader:
    """Builds the snapshot of every change of a live hr_pgtxn."""

    _TUPLE_NEW, _TUPLE_OLD = 1, 2  # hr_pgtuple

    def __init__(self, ptr):
        self.ptr = ptr
        self.relations = {}  # hr_pgrelation address -> PgRelation
        self.data = ctypes.c_void_p()
        self.size = ctypes.c_size_t()

    def relation(self, address):
        rel = self.relations.get(address)
        if rel is None:
            rel = self.relations[address] = _relation_snapshot(address)
        return rel

    def values(self, i, which, count):
        ptr, data, size = self.ptr, self.data, self.size
        out = []
        for col in range(count):
            form = _L.hr_pgtxn_change_value(ptr, i, which, col,
                                            ctypes.byref(data),
                                            ctypes.byref(size))
            if form < 0:
                raise HeliosReplError(
                    form, f"hr_pgtxn_change_value: change {i} column {col}")
            form = _enum(PgValueForm, chr(form))
            if form in (PgValueForm.TEXT, PgValueForm.BINARY):
                out.append(PgValue(form, _lib.copy_out(data.value,
                                                       size.value)))
            else:
                out.append(PgValue(form, None))
        return out

    def change(self, i):
        ptr = self.ptr
        kind = _enum(PgChangeKind, _L.hr_pgtxn_change_kind(ptr, i))
        if kind in _ROW_KINDS:
            rel = self.relation(_L.hr_pgtxn_change_relation(ptr, i))
            count = len(rel.columns)
            old_form = _L.hr_pgtxn_change_old_form(ptr, i)
            old_form = chr(old_form) if old_form > 0 else None
            new = (self.values(i, self._TUPLE_NEW, count)
                   if kind != PgChangeKind.DELETE else None)
            old = (self.values(i, self._TUPLE_OLD, count)
                   if old_form is not None else None)
            return PgChange(kind, rel, old_form, new, old)
        if kind == PgChangeKind.TRUNCATE:
            count, options = ctypes.c_size_t(), ctypes.c_int()
            status = _L.hr_pgtxn_change_truncate(ptr, i, ctypes.byref(count),
                                                 ctypes.byref(options))
            if status != Status.OK:
                raise HeliosReplError(status,
                                      f"hr_pgtxn_change_truncate: change {i}")
            oids = [_L.hr_pgtxn_change_truncate_oid(ptr, i, k)
                    for k in range(count.value)]
            tables = []
            for k in range(count.value):
                address = _L.hr_pgtxn_change_truncate_relation(ptr, i, k)
                tables.append(None if address is None
                              else self.relation(address))
            return PgChange(kind, truncate=PgTruncate(
                oids, PgTruncateOption(options.value), tables))
        if kind == PgChangeKind.MESSAGE:
            prefix = ctypes.c_char_p()
            status = _L.hr_pgtxn_change_message(
                ptr, i, ctypes.byref(prefix), ctypes.byref(self.data),
                ctypes.byref(self.size))
            if status != Status.OK:
                raise HeliosReplError(status,
                                      f"hr_pgtxn_change_message: change {i}")
            return PgChange(kind, message=PgMessage(
                _text(prefix.value) or "",
                _lib.copy_out(self.data.value, self.size.value)))
        return PgChange(kind)  # a kind this binding does not know


class _Live:
    """The hr_pgtxn pointer of a PgTxn while on_txn runs, shared by every
    copy of it so that one expiry reaches them all (a pickled copy is
    never live)."""

    __slots__ = ("ptr",)

    def __init__(self, ptr=None):
        self.ptr = ptr

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (_Live, ())


class PgTxn:
    """A snapshot of a committed transaction (hr_pgtxn), built during
    ``on_txn``.

    Attributes: ``xid``; ``commit_lsn`` (the commit record) and ``end_lsn``
    (its end: what a standby status update confirms once the target applied
    the transaction); ``commit_time`` (microseconds since 2000-01-01 UTC,
    see :attr:`commit_datetime`); ``origin`` (the replication origin's name,
    or None) and ``origin_lsn``; ``streamed`` (True when it arrived in
    streamed segments); ``changes``, a list of :class:`PgChange` in commit
    order.

    Every attribute stays valid after the callback; :meth:`to_batches` and
    :meth:`to_batch` work only inside it.
    """

    __slots__ = ("xid", "commit_lsn", "end_lsn", "commit_time", "origin",
                 "origin_lsn", "streamed", "changes", "_live", "_env")

    def __init__(self, ptr, env):
        self._live = _Live(ptr)
        self._env = env
        self.xid = _L.hr_pgtxn_xid(ptr)
        self.commit_lsn = _L.hr_pgtxn_commit_lsn(ptr)
        self.end_lsn = _L.hr_pgtxn_end_lsn(ptr)
        self.commit_time = _L.hr_pgtxn_commit_time(ptr)
        self.origin = _text(_L.hr_pgtxn_origin(ptr))
        self.origin_lsn = _L.hr_pgtxn_origin_lsn(ptr)
        self.streamed = bool(_L.hr_pgtxn_streamed(ptr))
        reader = _TxnReader(ptr)
        self.changes = [reader.change(i)
                        for i in range(_L.hr_pgtxn_changes(ptr))]

    _FIELDS = ("xid", "commit_lsn", "end_lsn", "commit_time", "origin",
               "origin_lsn", "streamed", "changes")

    def __eq__(self, other):
        if not isinstance(other, PgTxn):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f)
                   for f in self._FIELDS)

    __hash__ = None

    def _clone(self, changes):
        twin = PgTxn.__new__(PgTxn)
        for field in self._FIELDS:
            setattr(twin, field, getattr(self, field))
        twin.changes = changes
        twin._live, twin._env = self._live, self._env  # one expiry for all
        return twin

    def __copy__(self):
        return self._clone(self.changes)

    def __deepcopy__(self, memo):
        return self._clone(copy.deepcopy(self.changes, memo))

    def __reduce__(self):
        # A pickled snapshot is never live and has no Env.
        return (_unpickle_txn, tuple(getattr(self, f) for f in self._FIELDS))

    def __repr__(self):
        return (f"<heliosrepl.PgTxn xid {self.xid} end_lsn "
                f"{self.end_lsn >> 32:X}/{self.end_lsn & 0xFFFFFFFF:X}: "
                f"{len(self.changes)} changes>")

    def __len__(self):
        return len(self.changes)

    @property
    def commit_datetime(self):
        """The commit time as an aware UTC ``datetime.datetime``."""
        return EPOCH_UTC + datetime.timedelta(microseconds=self.commit_time)

    @property
    def live(self):
        """True while ``on_txn`` runs: :meth:`to_batches` works."""
        return self._live.ptr is not None

    def _expire(self):
        self._live.ptr = None

    def _live_ptr(self):
        ptr = self._live.ptr
        if ptr is None:
            raise HeliosReplError(
                Status.ESTATE, "the hr_pgtxn of this PgTxn is gone: call "
                "to_batches() / to_batch() inside on_txn")
        return ptr

    def to_batch(self, first, into=None):
        """Convert the run of row changes that starts at change `first` and
        shares its relation version (hr_pgtxn_to_batch); return
        ``(batch, next)``, `next` being the change after the run.

        The batch is named after the relation; column 0 is ``_hr_op`` (int2:
        1 insert, 2 update, 3 delete, 4 the old row of an update, right
        before its new row), then the relation's columns with their types,
        values typed (see :mod:`heliosrepl.batch`; types the batch does not
        know keep their text form). `into` reuses an open :class:`Batch`
        (cleared first) instead of creating one. Only inside ``on_txn``.

        Raises HeliosReplError: EINVAL (`first` out of range or not a row
        change), EPROTO (a value that does not parse as its type: the
        message names the change, row, column and value), EUNSUPPORTED (a
        binary value of a type without a binary decoder), ESTATE (after
        ``on_txn`` returned).
        """
        ptr = self._live_ptr()
        first = _int_arg(first, "change index", 0, _UINT64_MAX)
        if first >= len(self.changes):
            raise _einval(f"change {first} outside a transaction of "
                          f"{len(self.changes)} changes")
        kind = self.changes[first].kind
        if kind not in _ROW_KINDS:
            raise _einval(f"change {first} is a {getattr(kind, 'name', kind)}"
                          ", not an insert, update or delete")
        if into is None:
            out = Batch._internal(self._env)
        elif isinstance(into, Batch):
            out = into
        else:
            raise TypeError(f"into must be a Batch, not "
                            f"{type(into).__name__}")
        try:
            batch_ptr = out._ptr
            out._info = None  # the conversion replaces the schema
            out._partial = False
            after = ctypes.c_size_t()
            status = _L.hr_pgtxn_to_batch(ptr, first, batch_ptr,
                                          ctypes.byref(after))
            self._env._raise_pending()
            if status != Status.OK:
                raise HeliosReplError(status, out.errmsg)
        except BaseException:
            if into is None:
                out.close()
            raise
        return out, after.value

    def to_batches(self):
        """Every run of row changes as a typed :class:`Batch` (see
        :meth:`to_batch`), in commit order; TRUNCATE and message changes are
        skipped (read them from :attr:`changes`). Only inside ``on_txn``.

        On error no batch is returned (the ones made are closed).
        """
        self._live_ptr()
        batches = []
        try:
            i, count = 0, len(self.changes)
            while i < count:
                if self.changes[i].kind not in _ROW_KINDS:
                    i += 1
                    continue
                batch, i = self.to_batch(i)
                batches.append(batch)
        except BaseException:
            for batch in batches:
                batch.close()
            raise
        return batches


def _unpickle_txn(*fields):
    txn = PgTxn.__new__(PgTxn)
    for name, value in zip(PgTxn._FIELDS, fields):
        setattr(txn, name, value)
    txn._live, txn._env = _Live(), None
    return txn


# --- callbacks ---------------------------------------------------------------

def _stop_status(exc):
    """The status a callback that raised `exc` returns to the library."""
    if isinstance(exc, HeliosReplError):
        code = int(exc.code)
        if code < 0:
            return code
    return int(Status.EIO)


def _txn_trampoline(fn, pending, env):
    def trampoline(_ctx, ptr):
        txn = None
        try:
            txn = PgTxn(ptr, env)
            fn(txn)
            return Status.OK
        except BaseException as exc:  # re-raised by feed
            pending.append(exc)
            return _stop_status(exc)
        finally:
            if txn is not None:
                txn._expire()  # the hr_pgtxn is freed when on_txn returns

    return _lib.PG_TXN_FN(trampoline)


def _relation_trampoline(fn, pending):
    def trampoline(_ctx, ptr, changed):
        try:
            fn(_relation_snapshot(ptr), bool(changed))
            return Status.OK
        except BaseException as exc:  # re-raised by feed
            pending.append(exc)
            return _stop_status(exc)

    return _lib.PG_RELATION_FN(trampoline)


def _keepalive_trampoline(fn, pending):
    def trampoline(_ctx, wal_end, server_time, reply):
        try:
            fn(wal_end, server_time, bool(reply))
            return Status.OK
        except BaseException as exc:  # re-raised by feed
            pending.append(exc)
            return _stop_status(exc)

    return _lib.PG_KEEPALIVE_FN(trampoline)


def _message_trampoline(fn, pending):
    def trampoline(_ctx, lsn, prefix, content, length):
        try:
            raw = ctypes.string_at(prefix) if prefix else b""
            fn(lsn, decode_text(raw), _lib.copy_out(content, length))
            return Status.OK
        except BaseException as exc:  # re-raised by feed
            pending.append(exc)
            return _stop_status(exc)

    return _lib.PG_MESSAGE_FN(trampoline)


# --- the decoder -------------------------------------------------------------

class PgDecoder(_Handle):
    """An hr_pgdecoder: decodes the pgoutput replication stream and calls
    back with committed transactions (see the module documentation).

    ``PgDecoder(env, on_txn=None, on_relation=None, on_keepalive=None,
    on_message=None)``; every callback is optional. The decoder keeps a
    reference to its Env (batches made by :meth:`PgTxn.to_batches` are
    created from it). Use it as a context manager or call :meth:`close`;
    calls on a closed decoder raise HeliosReplError (``Status.ECLOSED``).
    One thread at a time per decoder.
    """

    _free_fn, _errmsg_fn = "hr_pgdecoder_free", "hr_pgdecoder_errmsg"
    _name = "PgDecoder"

    def __init__(self, env, on_txn=None, on_relation=None, on_keepalive=None,
                 on_message=None):
        self._handle = None
        for name, fn in (("on_txn", on_txn), ("on_relation", on_relation),
                         ("on_keepalive", on_keepalive),
                         ("on_message", on_message)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be callable or None")
        self._env = env
        self._pending = []  # exceptions raised inside callbacks
        self._feeding = False  # a feed is running (callbacks may run)
        self._close_requested = False  # close() from a callback
        pending = self._pending
        # The ctypes callbacks must outlive the decoder's use of them; they
        # refer to the pending list and the env, never to self.
        self._cbs = (
            _txn_trampoline(on_txn, pending, env) if on_txn
            else _lib.PG_TXN_FN(),
            _relation_trampoline(on_relation, pending) if on_relation
            else _lib.PG_RELATION_FN(),
            _keepalive_trampoline(on_keepalive, pending) if on_keepalive
            else _lib.PG_KEEPALIVE_FN(),
            _message_trampoline(on_message, pending) if on_message
            else _lib.PG_MESSAGE_FN(),
        )
        table = _lib.PgDecoderCallbacks(_lib.HR_PGDECODER_CALLBACKS_VERSION,
                                        None, *self._cbs)

        def hr_pgdecoder_new(env_ptr, out):
            return _L.hr_pgdecoder_new(env_ptr, ctypes.byref(table), out)

        self._handle = env._adopt(self, hr_pgdecoder_new)

    # -- lifetime ----------------------------------------------------------

    def close(self):
        """Free the decoder (hr_pgdecoder_free). Calling it again does
        nothing. From inside a callback it takes effect when the feed
        returns (the decoder counts as closed at once)."""
        if self._feeding:
            self._close_requested = True
            return
        super().close()

    @property
    def closed(self):
        """True after :meth:`close`."""
        return self._handle is None or self._close_requested

    @property
    def env(self):
        """The Env the decoder was created from."""
        return self._env

    def __repr__(self):
        if self.closed:
            return "<heliosrepl.PgDecoder closed>"
        end = self.wal_end
        return (f"<heliosrepl.PgDecoder wal_end "
                f"{end >> 32:X}/{end & 0xFFFFFFFF:X}>")

    # -- helpers -----------------------------------------------------------

    def _not_in_callback(self, what):
        ptr = self._ptr
        if self._feeding:
            raise HeliosReplError(
                Status.ESTATE, f"PgDecoder.{what} called from a decoder "
                "callback")
        return ptr

    def _run(self, fn, *args):
        """Call a feeding C function, then raise what it raised."""
        ptr = self._not_in_callback(fn.__name__[len("hr_pgdecoder_"):])
        self._feeding = True
        try:
            status = fn(ptr, *args)
            message = _lib.decode(_L.hr_pgdecoder_errmsg(ptr)) \
                if status != Status.OK else ""
        finally:
            self._feeding = False
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

    # -- API ---------------------------------------------------------------

    @property
    def wal_end(self):
        """The highest WAL end the server reported (XLogData or keepalive),
        0 before any: what a standby status update reports as received."""
        return _L.hr_pgdecoder_wal_end(self._ptr)

    def feed(self, payload):
        """Decode one CopyData payload (bytes-like: an XLogData ``w`` or a
        keepalive ``k`` frame); callbacks run from inside.

        Raises HeliosReplError: EPROTO (malformed or out-of-sequence
        message: type and offset in the message), ESTATE (fed after an error
        without :meth:`reset`, or from a callback), ELIMIT
        (``PgDecoderParam.MAX_TXN_BYTES``), ENOMEM - or re-raises what a
        callback raised.
        """
        data = _buffer(payload, "payload")
        self._run(_L.hr_pgdecoder_feed, data, len(data))

    def feed_message(self, lsn, message):
        """Decode one bare pgoutput message written at WAL position `lsn`
        (as ``pg_logical_slot_get_binary_changes()`` returns them); raises
        as :meth:`feed`."""
        lsn = _int_arg(lsn, "lsn", 0, _UINT64_MAX)
        data = _buffer(message, "message")
        self._run(_L.hr_pgdecoder_feed_message, lsn, data, len(data))

    def reset(self, keep_relations=False):
        """Drop open transactions and clear the error state (after a
        reconnect the server sends open transactions again from their
        start); the relation cache is kept only if `keep_relations`."""
        _L.hr_pgdecoder_reset(self._not_in_callback("reset"),
                              int(bool(keep_relations)))

    def set_param(self, param, value):
        """Set a :class:`PgDecoderParam`; EINVAL for an unknown one or a
        value out of its range."""
        ptr = self._not_in_callback("set_param")
        param = _int_arg(param, "pgdecoder parameter", _INT_MIN, _INT_MAX)
        value = _int_arg(value, f"pgdecoder parameter {param} value",
                         _INT64_MIN, _INT64_MAX)
        status = _L.hr_pgdecoder_set_param(ptr, param, value)
        self._env._raise_pending()
        if status != Status.OK:
            raise HeliosReplError(status, self.errmsg)

    def relation(self, oid):
        """A :class:`PgRelation` snapshot of the cached relation with this
        OID, or None."""
        oid = _int_arg(oid, "relation OID", 0, _UINT32_MAX)
        ptr = _L.hr_pgdecoder_relation(self._ptr, oid)
        return None if ptr is None else _relation_snapshot(ptr)
