"""Column batches (hr_batch): a relation's schema plus rows of values.

Python values map to a column's type as follows (``append_row``,
``from_rows``, ``from_columns``):

=========================  ===================================================
column type                accepted Python values
=========================  ===================================================
bool                       ``bool``
int2, int4, int8           ``int`` (not ``bool``), range-checked per type
date                       ``int`` days since 2000-01-01, or ``datetime.date``
                           (not ``datetime.datetime``: call ``.date()``)
timestamp, timestamptz     ``int`` microseconds since 2000-01-01 00:00, or
                           ``datetime.datetime``: an aware one is converted to
                           UTC; a naive one is taken as written (for
                           timestamptz that means: as UTC)
float4, float8             ``float`` or ``int`` (not ``bool``); float4 values
                           are rounded to single precision, and a finite value
                           too large for it is refused rather than made
                           infinite. -0.0 and NaN are kept bit for bit.
uuid                       ``uuid.UUID`` or 16 bytes
bytea                      ``bytes``, ``bytearray``, ``memoryview``
text, varchar, bpchar,     ``str`` (encoded UTF-8) or bytes-like (as is)
json, jsonb, numeric and
every other type OID
=========================  ===================================================

Any column also takes ``None`` (NULL; nullable columns only) and
:data:`UNCHANGED_TOAST`, pgoutput's "unchanged TOAST value" marker.

Reading (``rows()``, ``row()``, ``to_columns()``) gives back ``bool``,
``int`` (also for date and timestamps, unless ``datetimes=True`` asks for
``datetime.date`` / ``datetime.datetime`` - naive for timestamp, UTC-aware for
timestamptz), ``float``, ``uuid.UUID``, ``bytes`` (bytea) and ``str`` (other
byte types), ``None`` and :data:`UNCHANGED_TOAST`.

Text is converted with the ``surrogateescape`` error handler both ways, so a
value that is not valid UTF-8 reads back as a ``str`` that appends back to the
same bytes.

Errors: a Python value of a type the column cannot take raises
``TypeError``; every other refused value (out of range, NULL into a NOT NULL
column, wrong row length, a NUL byte in a name, ...) raises
:class:`HeliosReplError` with ``Status.EINVAL`` - checked before anything is
appended, so a refused row leaves the batch as it was.
"""

import collections
import ctypes
import datetime
import enum
import numbers
import operator
import struct
import uuid

from . import _lib
from ._handle import _Handle
from .errors import HeliosReplError, Status

_L = _lib.lib

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1
_UINT32_MAX = (1 << 32) - 1

EPOCH_DATE = datetime.date(2000, 1, 1)
EPOCH = datetime.datetime(2000, 1, 1)
EPOCH_UTC = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
_MICROSECOND = datetime.timedelta(microseconds=1)


class Oid(enum.IntEnum):
    """PostgreSQL type OIDs with native encodings (HR_OID_*).

    A column may have any other OID: its values are bytes (text form).
    """

    BOOL = 16
    BYTEA = 17
    INT8 = 20
    INT2 = 21
    INT4 = 23
    TEXT = 25
    JSON = 114
    FLOAT4 = 700
    FLOAT8 = 701
    BPCHAR = 1042
    VARCHAR = 1043
    DATE = 1082
    TIMESTAMP = 1114
    TIMESTAMPTZ = 1184
    NUMERIC = 1700
    UUID = 2950
    JSONB = 3802


class ValueState(enum.IntEnum):
    """The state of a cell (enum hr_value_state)."""

    PRESENT = 0
    NULL = 1
    UNCHANGED_TOAST = 2


#: HR_BATCH_MAX_COLUMNS / HR_BATCH_MAX_NAME.
MAX_COLUMNS = 1664
MAX_NAME = 255


class _UnchangedToast:
    """The type of :data:`UNCHANGED_TOAST` (a singleton)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self):
        return "heliosrepl.UNCHANGED_TOAST"

    def __reduce__(self):
        return (_UnchangedToast, ())


#: pgoutput's "unchanged TOAST value": the old value was not sent and must be
#: left as it is on the target. Never the same as None (NULL).
UNCHANGED_TOAST = _UnchangedToast()


class Column(collections.namedtuple("Column", "name type nullable",
                                    defaults=(True,))):
    """A column declaration: name, type OID and whether NULL is allowed.

    ``type`` is an :class:`Oid` member when the binding knows the OID, the
    plain int otherwise; ``nullable`` defaults to True.
    """

    __slots__ = ()


# --- conversions ------------------------------------------------------------

def _einval(message):
    return HeliosReplError(Status.EINVAL, message)


def encode_text(value, what):
    """str (UTF-8, surrogateescape) or bytes-like -> bytes."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}")


def decode_text(raw):
    """bytes -> str (UTF-8, surrogateescape)."""
    return raw.decode("utf-8", "surrogateescape")


def c_name(value, what, allow_none=False):
    """A name as a C string: str/bytes without NUL bytes."""
    if value is None and allow_none:
        return None
    raw = encode_text(value, what)
    if b"\0" in raw:
        raise _einval(f"{what} contains a NUL byte")
    return raw


def _type_oid(value):
    try:
        oid = operator.index(value)
    except TypeError:
        raise TypeError(f"column type must be an int OID, not "
                        f"{type(value).__name__}") from None
    if not 0 <= oid <= _UINT32_MAX:
        raise _einval(f"type oid {oid} outside 0..2^32-1")
    try:
        return Oid(oid)
    except ValueError:
        return oid


def _column_spec(spec):
    """Column for a Column, (name, type) or (name, type, nullable)."""
    if isinstance(spec, Column):
        return spec
    try:
        return Column(*spec)
    except TypeError:
        raise TypeError("a column is (name, type_oid[, nullable]), not "
                        f"{spec!r}") from None


def _int_range(oid):
    if oid == Oid.INT2:
        return -(1 << 15), (1 << 15) - 1
    if oid in (Oid.INT4, Oid.DATE):
        return _INT32_MIN, _INT32_MAX
    return _INT64_MIN, _INT64_MAX


_BOOL, _INT, _FLOAT4, _FLOAT8, _UUID, _BYTES = range(6)

_STORAGE = {
    Oid.BOOL: _BOOL,
    Oid.INT2: _INT, Oid.INT4: _INT, Oid.INT8: _INT,
    Oid.DATE: _INT, Oid.TIMESTAMP: _INT, Oid.TIMESTAMPTZ: _INT,
    Oid.FLOAT4: _FLOAT4, Oid.FLOAT8: _FLOAT8,
    Oid.UUID: _UUID,
}


def _storage(oid):
    return _STORAGE.get(oid, _BYTES)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def date_to_days(value):
    """datetime.date -> days since 2000-01-01."""
    return (value - EPOCH_DATE).days


def datetime_to_micros(value):
    """datetime.datetime -> microseconds since 2000-01-01 00:00 (aware
    datetimes: UTC; naive ones as written)."""
    epoch = EPOCH if value.utcoffset() is None else EPOCH_UTC
    return (value - epoch) // _MICROSECOND


class _ColumnInfo:
    """What append/read need to know about one column."""

    __slots__ = ("index", "name", "oid", "nullable", "storage", "lo", "hi")

    def __init__(self, index, name, oid, nullable):
        self.index = index
        self.name = name
        self.oid = oid
        self.nullable = nullable
        self.storage = _storage(oid)
        self.lo, self.hi = _int_range(oid)

    def where(self):
        return f'column "{self.name}" (type oid {int(self.oid)})'

    def _type_error(self, value, wanted):
        return TypeError(f"{self.where()} takes {wanted}, not "
                         f"{type(value).__name__} {value!r:.80}")

    def cell(self, value):
        """(C appender, extra args) for `value`, checked; appends nothing."""
        if value is None:
            if not self.nullable:
                raise _einval(f'NULL in column "{self.name}", which is NOT '
                              "NULL")
            return _L.hr_batch_append_null, ()
        if value is UNCHANGED_TOAST:
            return _L.hr_batch_append_unchanged_toast, ()
        storage = self.storage
        if storage == _BYTES:
            if self.oid == Oid.BYTEA:
                if not isinstance(value, (bytes, bytearray, memoryview)):
                    raise self._type_error(value, "bytes")
                data = bytes(value)
            elif isinstance(value, str):
                data = value.encode("utf-8", "surrogateescape")
            elif isinstance(value, (bytes, bytearray, memoryview)):
                data = bytes(value)
            else:
                raise self._type_error(value, "str or bytes")
            return _L.hr_batch_append_bytes, (data, len(data))
        if storage == _INT:
            return _L.hr_batch_append_int64, (self._int(value),)
        if storage in (_FLOAT8, _FLOAT4):
            if not _is_real(value):
                raise self._type_error(value, "float")
            try:
                number = float(value)
                if storage == _FLOAT4:
                    struct.pack("<f", number)  # OverflowError past FLT_MAX
            except OverflowError:
                raise _einval(f"{value!r:.80} out of range for "
                              f"{self.where()}") from None
            if storage == _FLOAT8:
                return _L.hr_batch_append_float8, (number,)
            return _L.hr_batch_append_float4, (number,)
        if storage == _BOOL:
            if not isinstance(value, bool):
                raise self._type_error(value, "bool")
            return _L.hr_batch_append_bool, (int(value),)
        # _UUID
        if isinstance(value, uuid.UUID):
            data = value.bytes
        elif isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
            if len(data) != 16:
                raise _einval(f"{self.where()} takes 16 bytes, not "
                              f"{len(data)}")
        else:
            raise self._type_error(value, "uuid.UUID or 16 bytes")
        return _L.hr_batch_append_uuid, (data,)

    def _int(self, value):
        oid = self.oid
        if _is_int(value):
            number = int(value)
        elif oid == Oid.DATE and isinstance(value, datetime.date) \
                and not isinstance(value, datetime.datetime):
            number = date_to_days(value)
        elif oid in (Oid.TIMESTAMP, Oid.TIMESTAMPTZ) \
                and isinstance(value, datetime.datetime):
            number = datetime_to_micros(value)
        elif oid == Oid.DATE:
            raise self._type_error(value, "int days or datetime.date")
        elif oid in (Oid.TIMESTAMP, Oid.TIMESTAMPTZ):
            raise self._type_error(value,
                                   "int microseconds or datetime.datetime")
        else:
            raise self._type_error(value, "int")
        if not self.lo <= number <= self.hi:
            raise _einval(f"{number} out of range for {self.where()}")
        return number


# --- the batch ----------------------------------------------------------------

class Batch(_Handle):
    """An hr_batch: a relation's schema (columns) plus rows of values.

    ``Batch(env, columns=[("id", Oid.INT8, False), ...],
    relation=("public", "t"))`` declares the columns; then append rows with
    :meth:`append_row`, or build it at once with :meth:`from_rows` /
    :meth:`from_columns`. See the module documentation for the Python value
    of each column type.

    A batch keeps a reference to its Env (whose callbacks must outlive it);
    :meth:`Env.close` may come first. Use it as a context manager or call
    :meth:`close`; calls on a closed batch raise HeliosReplError
    (``Status.ECLOSED``). One thread at a time per batch.

    ``len(batch)`` is the number of rows; ``==`` compares relation, columns
    and values bit for bit (hr_batch_equal: -0.0 != 0.0, a NaN equals the
    same NaN).
    """

    _free_fn, _errmsg_fn = "hr_batch_free", "hr_batch_errmsg"
    _name = "Batch"

    def __init__(self, env, columns=(), relation=None):
        self._init(env, internal=False)
        try:
            if relation is not None:
                self.set_relation(*relation)
            for spec in columns:
                self.add_column(*_column_spec(spec))
        except BaseException:
            self.close()
            raise

    def _init(self, env, internal):
        self._handle = None
        self._env = env  # keeps the env's callbacks alive
        self._info = None  # cached [_ColumnInfo]; None after schema changes
        self._partial = False  # an append_row failed part-way
        self._moved = False  # an Applier took the C batch (see _detach)
        self._handle = env._adopt(self, _L.hr_batch_new, internal=internal)

    @classmethod
    def _internal(cls, env):
        """A batch a codec decodes into: allowed after env.close()."""
        self = cls.__new__(cls)
        self._init(env, internal=True)
        return self

    @classmethod
    def from_rows(cls, env, columns, rows, relation=None):
        """A batch of `columns` holding `rows` (an iterable of sequences)."""
        batch = cls(env, columns, relation)
        try:
            for row in rows:
                batch.append_row(row)
        except BaseException:
            batch.close()
            raise
        return batch

    @classmethod
    def from_columns(cls, env, columns, data, relation=None):
        """A batch of `columns` from ``data = {column name: [values]}``.

        `data` must have exactly one entry per column, all of one length.
        """
        batch = cls(env, columns, relation)
        try:
            info = batch._columns_info()
            names = [c.name for c in info]
            if len(set(names)) != len(names):
                raise _einval("from_columns needs distinct column names")
            missing = [n for n in names if n not in data]
            unknown = [n for n in data if n not in names]
            if missing or unknown:
                raise _einval(f"from_columns: missing columns {missing}, "
                              f"unknown columns {unknown}")
            lengths = {n: len(data[n]) for n in names}
            if len(set(lengths.values())) > 1:
                raise _einval(f"from_columns: columns of different lengths "
                              f"{lengths}")
            ptr = batch._ptr
            for c in info:
                for value in data[c.name]:
                    fn, args = c.cell(value)
                    batch._check(fn(ptr, c.index, *args))
        except BaseException:
            batch.close()
            raise
        return batch

    # -- lifetime ----------------------------------------------------------

    def _detach(self):
        """Hand the C batch over to its new owner (hr_applier_add_batch
        took it): this object forgets the pointer, never frees it, and
        raises ECLOSED on use from now on."""
        handle, self._handle = self._handle, None
        self._moved = True
        self._info = None
        self._env._disown(self)
        return handle

    @property
    def closed(self):
        """True after :meth:`close`, or once an Applier took the batch."""
        return self._handle is None

    @property
    def moved(self):
        """True once :meth:`Applier.add_batch` took the batch over."""
        return self._moved

    @property
    def env(self):
        """The Env the batch was created from."""
        return self._env

    def __repr__(self):
        if self.closed:
            return ("<heliosrepl.Batch moved>" if self._moved
                    else "<heliosrepl.Batch closed>")
        schema, table = self.relation
        name = f"{schema}.{table}" if schema else table or "(no relation)"
        return (f"<heliosrepl.Batch {name}: {self.column_count} columns x "
                f"{len(self)} rows>")

    # -- helpers -----------------------------------------------------------

    @property
    def _ptr(self):
        if self._handle is None:
            raise HeliosReplError(
                Status.ECLOSED, "the Batch was handed over to an Applier"
                if self._moved else "the Batch is closed")
        return self._handle

    def _check(self, status):
        """Raise for a failed call, with the batch's message."""
        self._env._raise_pending()
        if status != Status.OK:
            raise HeliosReplError(status, self.errmsg)

    def _columns_info(self):
        if self._info is None:
            ptr = self._ptr
            self._info = [
                _ColumnInfo(i,
                            decode_text(_L.hr_batch_column_name(ptr, i)),
                            _type_oid(_L.hr_batch_column_type(ptr, i)),
                            bool(_L.hr_batch_column_nullable(ptr, i)))
                for i in range(_L.hr_batch_columns(ptr))]
        return self._info

    # -- schema ------------------------------------------------------------

    @property
    def relation(self):
        """(schema name, table name); "" when unset."""
        ptr = self._ptr
        return (decode_text(_L.hr_batch_schema_name(ptr)),
                decode_text(_L.hr_batch_table_name(ptr)))

    def set_relation(self, schema_name, table_name):
        """Name the relation (None or "" for none); at most 255 bytes each."""
        self._check(_L.hr_batch_set_relation(
            self._ptr, c_name(schema_name, "schema name", allow_none=True),
            c_name(table_name, "table name", allow_none=True)))

    def add_column(self, name, type_oid, nullable=True):
        """Declare the next column; only before any value is appended.

        Returns its index. Raises HeliosReplError: ESTATE once values were
        appended, EINVAL for an empty or too long name or too many columns.
        """
        raw = c_name(name, "column name")
        oid = _type_oid(type_oid)
        ptr = self._ptr
        self._info = None
        index = _L.hr_batch_add_column(ptr, raw, int(oid), int(bool(nullable)))
        if index < 0:
            self._check(index)
        return index

    @property
    def columns(self):
        """The columns, as a tuple of :class:`Column`."""
        return tuple(Column(c.name, c.oid, c.nullable)
                     for c in self._columns_info())

    @property
    def column_count(self):
        """The number of columns."""
        return _L.hr_batch_columns(self._ptr)

    # -- values ------------------------------------------------------------

    def append_row(self, values):
        """Append one row: one value per column, in column order.

        Every value is checked before any is appended, so a refused row
        (TypeError, HeliosReplError EINVAL) leaves the batch unchanged. Only
        an allocation failure part-way (ENOMEM, ELIMIT) can leave a partial
        row; the batch then refuses further rows (ESTATE) until
        :meth:`clear_rows`.
        """
        ptr = self._ptr
        if self._partial:
            raise HeliosReplError(
                Status.ESTATE, "an earlier append_row failed part-way; "
                "call clear_rows() before appending again")
        info = self._columns_info()
        values = tuple(values)
        if len(values) != len(info):
            raise _einval(f"row of {len(values)} values for {len(info)} "
                          "columns")
        cells = [c.cell(v) for c, v in zip(info, values)]
        for col, (fn, args) in enumerate(cells):
            status = fn(ptr, col, *args)
            if status != Status.OK:
                self._partial = col > 0
                self._check(status)
        self._env._raise_pending()

    def extend(self, rows):
        """append_row for every row of `rows`."""
        for row in rows:
            self.append_row(row)

    def append_rows(self, other):
        """Append the rows of Batch `other` (same relation and columns; a
        batch without columns takes other's first). `other` is unchanged."""
        if not isinstance(other, Batch):
            raise TypeError("other must be a Batch")
        status = _L.hr_batch_append_rows(self._ptr, other._ptr)
        self._info = None
        self._check(status)

    def clear_rows(self):
        """Drop the rows, keep the columns and relation."""
        _L.hr_batch_clear_rows(self._ptr)
        self._partial = False

    def truncate(self, rows):
        """Keep the first `rows` cells of every column, drop the rest."""
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
            raise TypeError("rows must be a non-negative int")
        _L.hr_batch_truncate(self._ptr, rows)
        self._partial = False

    def clear(self):
        """Drop rows, columns and relation."""
        _L.hr_batch_clear(self._ptr)
        self._info = None
        self._partial = False

    def __len__(self):
        return _L.hr_batch_rows(self._ptr)

    def state(self, col, row):
        """The :class:`ValueState` of a cell."""
        status = _L.hr_batch_value_state(self._ptr, *self._cell_index(col, row))
        if status < 0:
            raise HeliosReplError(status, f"no cell ({col}, {row})")
        return ValueState(status)

    def _cell_index(self, col, row):
        col, row = operator.index(col), operator.index(row)
        if not 0 <= col < len(self._columns_info()) or \
                not 0 <= row < len(self):
            raise IndexError(f"cell ({col}, {row}) outside the batch")
        return col, row

    def _reader(self, datetimes):
        """fn(col_info, row) -> Python value, for this batch's handle."""
        ptr = self._ptr
        i64, f32, f64, flag = (ctypes.c_int64(), ctypes.c_float(),
                               ctypes.c_double(), ctypes.c_int())
        data, size = ctypes.c_void_p(), ctypes.c_size_t()
        uuid_buf = (ctypes.c_uint8 * 16)()

        def get(fn, c, row, *out):
            status = fn(ptr, c.index, row, *out)
            if status != Status.OK:
                raise HeliosReplError(
                    status, f"{fn.__name__} of {c.where()} row {row} failed")

        def read(c, row):
            state = _L.hr_batch_value_state(ptr, c.index, row)
            if state == ValueState.NULL:
                return None
            if state == ValueState.UNCHANGED_TOAST:
                return UNCHANGED_TOAST
            if state != ValueState.PRESENT:
                raise HeliosReplError(state, f"no cell {row} in {c.where()}")
            storage = c.storage
            if storage == _BYTES:
                get(_L.hr_batch_get_bytes, c, row, ctypes.byref(data),
                    ctypes.byref(size))
                raw = _lib.copy_out(data.value, size.value)
                return raw if c.oid == Oid.BYTEA else decode_text(raw)
            if storage == _INT:
                get(_L.hr_batch_get_int64, c, row, ctypes.byref(i64))
                if datetimes and c.oid in _TIME_EPOCHS:
                    return _to_datetime(c, row, i64.value)
                return i64.value
            if storage == _FLOAT8:
                get(_L.hr_batch_get_float8, c, row, ctypes.byref(f64))
                return f64.value
            if storage == _FLOAT4:
                get(_L.hr_batch_get_float4, c, row, ctypes.byref(f32))
                return f32.value
            if storage == _BOOL:
                get(_L.hr_batch_get_bool, c, row, ctypes.byref(flag))
                return bool(flag.value)
            get(_L.hr_batch_get_uuid, c, row, uuid_buf)
            return uuid.UUID(bytes=bytes(uuid_buf))

        return read

    def rows(self, datetimes=False):
        """Iterate over the rows as tuples of Python values.

        Date and timestamp columns give ints (days / microseconds since
        2000-01-01) unless `datetimes` is true: then ``datetime.date``, naive
        ``datetime.datetime`` (timestamp) and UTC ``datetime.datetime``
        (timestamptz); a value outside datetime's range (such as
        PostgreSQL's infinity) raises OverflowError.
        """
        info = self._columns_info()
        read = self._reader(datetimes)
        for row in range(len(self)):
            # The batch may be closed between two rows: check it each time
            # (a changed batch is safe, the library checks every index).
            self._ptr  # pylint: disable=pointless-statement
            yield tuple(read(c, row) for c in info)

    def __iter__(self):
        return self.rows()

    def row(self, index, datetimes=False):
        """One row as a tuple (negative indexes count from the end)."""
        index = operator.index(index)
        count = len(self)
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError(f"row {index} outside a batch of {count} rows")
        read = self._reader(datetimes)
        return tuple(read(c, index) for c in self._columns_info())

    def __getitem__(self, index):
        return self.row(index)

    def to_columns(self, datetimes=False):
        """{column name: [values]}, the inverse of :meth:`from_columns`."""
        info = self._columns_info()
        if len({c.name for c in info}) != len(info):
            raise _einval("to_columns needs distinct column names")
        read = self._reader(datetimes)
        count = len(self)
        return {c.name: [read(c, row) for row in range(count)] for c in info}

    # -- comparison ----------------------------------------------------------

    def __eq__(self, other):
        if not isinstance(other, Batch):
            return NotImplemented
        return bool(_L.hr_batch_equal(self._ptr, other._ptr))

    __hash__ = None  # mutable

    def equal(self, other):
        """hr_batch_equal: same relation, columns and values bit for bit."""
        return self == other

    @property
    def raw_size(self):
        """The plain binary size of the rows (hr_batch_raw_size): the
        yardstick codec compression ratios are quoted against."""
        return _L.hr_batch_raw_size(self._ptr)


_TIME_EPOCHS = {Oid.DATE: EPOCH_DATE, Oid.TIMESTAMP: EPOCH,
                Oid.TIMESTAMPTZ: EPOCH_UTC}


def _to_datetime(c, row, value):
    try:
        if c.oid == Oid.DATE:
            return EPOCH_DATE + datetime.timedelta(days=value)
        return _TIME_EPOCHS[c.oid] + datetime.timedelta(microseconds=value)
    except OverflowError:
        raise OverflowError(
            f"{c.where()} row {row}: {value} is outside datetime's range; "
            "read it with datetimes=False") from None
