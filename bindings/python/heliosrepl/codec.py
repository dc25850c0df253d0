"""The batch codec (hr_codec): one Batch <-> one frame of bytes.

A frame is self-describing, checksummed, bound to a tenant id and optionally
sealed with AES-256-GCM. A codec keeps state across calls (trained zstd
dictionaries, keys): use one codec per stream direction and reuse it.

Errors raise :class:`HeliosReplError` with the codec's message; on decoding:
``ECORRUPT`` (damaged frame), ``EAUTH`` (wrong tenant, unknown or wrong key,
plaintext frame while encryption is required), ``EVERSION`` (newer format),
``ENOTFOUND`` (a dictionary this codec has not seen: see
:meth:`Codec.import_dicts`), ``ELIMIT`` (``Param.MAX_ROWS`` / ``MAX_BYTES``).
Arguments the C types cannot carry (a key id beyond 32 bits, a key that is
not 32 bytes, a NUL byte in a tenant id) raise it with ``EINVAL`` before any
call; a Python value of the wrong type raises TypeError.
"""

import ctypes
import dataclasses
import enum
import operator

from . import _lib
from ._handle import _Handle
from .batch import Batch, c_name
from .errors import HeliosReplError, Status

_L = _lib.lib

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_UINT32_MAX = (1 << 32) - 1
_INT_MIN, _INT_MAX = -(1 << 31), (1 << 31) - 1

#: HR_CODEC_KEY_SIZE: bytes of an AES-256 key.
KEY_SIZE = 32


class Param(enum.IntEnum):
    """Codec parameters (enum hr_codec_param); see :func:`param_bounds`."""

    LEVEL = 1               # zstd level, 1..19, default 3
    SAMPLE_ROWS = 2         # rows sampled to choose an encoding, default 1024
    DICTIONARY = 3          # train per-table zstd dictionaries: 0/1
    DICT_MIN_BYTES = 4      # bytes collected before training one
    COMPRESSOR = 5          # Compressor.ZSTD (default) or Compressor.SNAPPY
    MAX_ROWS = 6            # decoding: refuse frames of more rows
    MAX_BYTES = 7           # decoding: refuse frames of more value bytes
    REQUIRE_ENCRYPTION = 8  # decoding: refuse plaintext frames: 0/1


class Compressor(enum.IntEnum):
    """Values of ``Param.COMPRESSOR`` (HR_CODEC_ZSTD / HR_CODEC_SNAPPY)."""

    ZSTD = 0
    SNAPPY = 1


class FrameFlag(enum.IntFlag):
    """Frame header flags (HR_FRAME_FLAG_*)."""

    ENCRYPTED = 0x01
    HAS_DICT = 0x02  # carries a zstd dictionary inline


@dataclasses.dataclass(frozen=True)
class FrameInfo:
    """What a frame's header says (hr_frame_info)."""

    format_version: int
    flags: FrameFlag
    schema_fingerprint: int  # same schema <=> same fingerprint
    rows: int
    columns: int
    key_id: int  # 0 when not encrypted

    @property
    def encrypted(self):
        return bool(self.flags & FrameFlag.ENCRYPTED)

    @property
    def has_dict(self):
        return bool(self.flags & FrameFlag.HAS_DICT)


def _einval(message):
    return HeliosReplError(Status.EINVAL, message)


def _buffer(data, what):
    """bytes of a bytes-like argument (no copy for bytes)."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"{what} must be bytes-like, not {type(data).__name__}")


def _param(param):
    try:
        value = operator.index(param)
    except TypeError:
        raise TypeError(f"codec parameter must be a Param, not "
                        f"{type(param).__name__}") from None
    if not _INT_MIN <= value <= _INT_MAX:
        raise _einval(f"unknown codec parameter {value}")
    try:
        return Param(value)
    except ValueError:
        return value


def _key_id(key_id):
    try:
        value = operator.index(key_id)
    except TypeError:
        raise TypeError(f"key id must be an int, not "
                        f"{type(key_id).__name__}") from None
    if not 0 <= value <= _UINT32_MAX:
        raise _einval(f"key id {value} outside 0..2^32-1")
    return value


def _tenant(tenant):
    return c_name(tenant, "tenant id")


def param_bounds(param):
    """The inclusive range (min, max) of a :class:`Param`."""
    param = _param(param)
    lo, hi = ctypes.c_int64(), ctypes.c_int64()
    status = _L.hr_codec_param_bounds(int(param), ctypes.byref(lo),
                                      ctypes.byref(hi))
    if status != Status.OK:
        raise HeliosReplError(status, f"unknown codec parameter {int(param)}")
    return lo.value, hi.value


_INSPECT_ERRORS = {
    Status.ECORRUPT: "not a valid frame (truncated, damaged or checksum "
                     "mismatch)",
    Status.EVERSION: "frame format version newer than this library reads",
}


def frame_inspect(frame):
    """Parse and check a frame's header and checksum -> :class:`FrameInfo`.

    Raises HeliosReplError: ECORRUPT (damaged, truncated, not a frame),
    EVERSION (newer format version). Thread-safe.
    """
    data = _buffer(frame, "frame")
    info = _lib.FrameInfo(size=ctypes.sizeof(_lib.FrameInfo))
    status = _L.hr_frame_inspect(data, len(data), ctypes.byref(info))
    if status != Status.OK:
        # hr_frame_inspect has no message channel: say what the code means.
        raise HeliosReplError(status, "frame_inspect: " + _INSPECT_ERRORS.get(
            status, _lib.decode(_L.hr_strerror(status))))
    return FrameInfo(info.format_version, FrameFlag(info.flags),
                     info.schema_fingerprint, info.rows, info.columns,
                     info.key_id)


class Codec(_Handle):
    """An hr_codec: encodes a :class:`Batch` into a frame and back.

    ``Codec(env)`` has default parameters and no keys. It keeps a reference
    to its Env; batches it decodes are created from the same Env. Use it as
    a context manager or call :meth:`close` (which wipes its keys); calls on
    a closed codec raise HeliosReplError (``Status.ECLOSED``). One thread at
    a time per codec.
    """

    _free_fn, _errmsg_fn = "hr_codec_free", "hr_codec_errmsg"
    _name = "Codec"
    param_bounds = staticmethod(param_bounds)

    def __init__(self, env):
        self._handle = None
        self._env = env
        self._handle = env._adopt(self, _L.hr_codec_new)

    # -- lifetime ----------------------------------------------------------

    @property
    def env(self):
        """The Env the codec was created from."""
        return self._env

    def __repr__(self):
        state = "closed" if self.closed else hex(self._handle.value or 0)
        return f"<heliosrepl.Codec {state}>"

    def _check(self, status):
        self._env._raise_pending()
        if status != Status.OK:
            raise HeliosReplError(status, self.errmsg)

    # -- parameters ----------------------------------------------------------

    def set_param(self, param, value):
        """Set a :class:`Param`; EINVAL outside :func:`param_bounds`."""
        ptr = self._ptr
        param = _param(param)
        try:
            value = operator.index(value)
        except TypeError:
            raise TypeError(f"codec parameter value must be an int, not "
                            f"{type(value).__name__}") from None
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise _einval(f"codec parameter {int(param)}: {value} outside "
                          "int64")
        self._check(_L.hr_codec_set_param(ptr, int(param), value))

    def get_param(self, param):
        """The current value of a :class:`Param`."""
        ptr = self._ptr
        param = _param(param)
        value = ctypes.c_int64()
        status = _L.hr_codec_get_param(ptr, int(param), ctypes.byref(value))
        if status != Status.OK:
            # hr_codec_get_param sets no message.
            raise HeliosReplError(status,
                                  f"unknown codec parameter {int(param)}")
        return value.value

    # -- keys ------------------------------------------------------------------

    def add_key(self, key_id, key):
        """Load a 32-byte AES-256 key under `key_id` (1..2^32-1).

        Several keys may be loaded (rotation). EINVAL for id 0, a key that is
        not 32 bytes, or an id already loaded with another key.
        """
        ptr = self._ptr
        key_id = _key_id(key_id)
        data = _buffer(key, "key")
        if len(data) != KEY_SIZE:
            raise _einval(f"a key is {KEY_SIZE} bytes, not {len(data)}")
        self._check(_L.hr_codec_add_key(ptr, key_id, data))

    def remove_key(self, key_id):
        """Forget (and wipe) a key; ENOTFOUND when not loaded."""
        self._check(_L.hr_codec_remove_key(self._ptr, _key_id(key_id)))

    def set_encrypt_key(self, key_id):
        """Seal frames encoded from now on with a loaded key; 0 for
        plaintext. ENOTFOUND when the key is not loaded."""
        self._check(_L.hr_codec_set_encrypt_key(self._ptr, _key_id(key_id)))

    # -- frames ----------------------------------------------------------------

    def encode(self, batch, tenant):
        """Encode every row of `batch` into a frame for `tenant` (str or
        bytes, 1..255 bytes, no NUL); returns a copy of the frame."""
        if not isinstance(batch, Batch):
            raise TypeError(f"encode takes a Batch, not "
                            f"{type(batch).__name__}")
        ptr = self._ptr
        tenant = _tenant(tenant)
        frame, size = ctypes.c_void_p(), ctypes.c_size_t()
        self._check(_L.hr_codec_encode(ptr, batch._ptr, tenant,
                                       ctypes.byref(frame),
                                       ctypes.byref(size)))
        return _lib.copy_out(frame.value, size.value)

    def decode(self, frame, tenant, into=None):
        """Decode a frame of `tenant` into a new :class:`Batch` (or into the
        open batch `into`, which is cleared first) and return it.

        On error no batch is returned (and `into` is left empty).
        """
        ptr = self._ptr
        data = _buffer(frame, "frame")
        tenant = _tenant(tenant)
        if into is None:
            out = Batch._internal(self._env)
        elif isinstance(into, Batch):
            out = into
        else:
            raise TypeError(f"into must be a Batch, not "
                            f"{type(into).__name__}")
        try:
            out._info = None  # the decoder replaces the schema
            out._partial = False
            self._check(_L.hr_codec_decode(ptr, data, len(data), tenant,
                                           out._ptr))
        except BaseException:
            if into is None:
                out.close()
            raise
        return out

    # -- dictionaries ------------------------------------------------------------

    def export_dicts(self):
        """The dictionaries this codec knows, as one blob (bytes) to persist
        next to a checkpoint."""
        blob, size = ctypes.c_void_p(), ctypes.c_size_t()
        self._check(_L.hr_codec_export_dicts(self._ptr, ctypes.byref(blob),
                                             ctypes.byref(size)))
        return _lib.copy_out(blob.value, size.value)

    def import_dicts(self, blob):
        """Learn the dictionaries of an exported blob (merged with what the
        codec knows). ECORRUPT for a damaged blob."""
        data = _buffer(blob, "blob")
        self._check(_L.hr_codec_import_dicts(self._ptr, data, len(data)))
