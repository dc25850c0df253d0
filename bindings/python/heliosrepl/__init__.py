"""Python (ctypes) binding of libheliosrepl, tenant-level PostgreSQL
replication.

Importing the package loads the shared library (see ``heliosrepl._lib`` for
where it looks; ``HELIOSREPL_LIB`` overrides) and checks that it can serve
this binding, written for version ``BINDING_MAJOR.BINDING_MINOR``; an
incompatible library raises :class:`IncompatibleLibraryError`, which is
both a :class:`HeliosReplError` and an ImportError.

Handles: an :class:`Env` comes first; a :class:`Batch` (a relation's columns
plus rows of Python values, see :mod:`heliosrepl.batch` for the mapping) and
a :class:`Codec` (Batch <-> frame bytes, optionally sealed with AES-256-GCM;
:func:`frame_inspect` reads a frame's header) are created from it and keep
a reference to it. A :class:`PgDecoder` decodes PostgreSQL's logical
replication stream (pgoutput) into :class:`PgTxn` snapshots, whose row
changes convert to typed batches (see :mod:`heliosrepl.pgoutput`). A
:class:`Stream` runs a tenant change stream from a source PostgreSQL
(see :mod:`heliosrepl.stream`); a :class:`Copier` reads a tenant's
existing rows for its initial copy (see :mod:`heliosrepl.copy`); an
:class:`Applier` applies tenants' transactions exactly once to a target
PostgreSQL (see :mod:`heliosrepl.apply`). A :class:`Scheduler` decides which
tenant's work runs next (reservation / weight / limit, see
:mod:`heliosrepl.qos`). A :class:`Predictor` predicts which
tenants / tables will be hot (see :mod:`heliosrepl.predict`). A :class:`Transport` moves encoded
frames with their metadata (see :mod:`heliosrepl.transport`).
"""

from ._lib import BINDING_MAJOR, BINDING_MINOR
# .core first: importing it runs the version check.
from .core import require_version, version, version_string  # isort: skip
from .apply import (OP_TRUNCATE, Applier, ApplierOpts, ApplierPhase,
                    ApplierStats, ApplyOp, CopyState, truncate_batch)
from .batch import UNCHANGED_TOAST, Batch, Column, Oid, ValueState
from .codec import (KEY_SIZE, Codec, Compressor, FrameFlag, FrameInfo, Param,
                    frame_inspect, param_bounds)
from .env import Env, LogLevel
from .errors import (HeliosReplError, IncompatibleLibraryError, Status,
                     is_fatal, status_name, strerror)
from .pgoutput import (PgChange, PgChangeKind, PgColumn, PgDecoder,
                       PgDecoderParam, PgMessage, PgRelation, PgTruncate,
                       PgTruncateOption, PgTxn, PgValue, PgValueForm)
from .copy import Copier, CopierOpts
from .qos import (Phase, Scheduler, SchedulerParam, Setting, TenantStats,
                  Tier, scheduler_param_bounds)
from .predict import (Access, Predictor, PredictorInfo, PredictorParam,
                      Scorer, predictor_param_bounds)
from .stream import (PollFlag, Stream, StreamChange, StreamMode, StreamOpts,
                     StreamPhase, StreamRole, stream_batches,
                     stream_to_batch)
from .transport import (Message, MessageFlag, MessageMeta, Transport,
                        TransportKind, TransportParam, transport_param_bounds)

__all__ = [
    "Applier",
    "ApplierOpts",
    "ApplierPhase",
    "ApplierStats",
    "ApplyOp",
    "Access",
    "BINDING_MAJOR",
    "BINDING_MINOR",
    "Batch",
    "Codec",
    "Column",
    "Compressor",
    "CopyState",
    "Copier",
    "CopierOpts",
    "Env",
    "FrameFlag",
    "FrameInfo",
    "HeliosReplError",
    "IncompatibleLibraryError",
    "KEY_SIZE",
    "LogLevel",
    "Message",
    "MessageFlag",
    "MessageMeta",
    "OP_TRUNCATE",
    "Oid",
    "Param",
    "Phase",
    "PgChange",
    "PgChangeKind",
    "PgColumn",
    "PgDecoder",
    "PgDecoderParam",
    "PgMessage",
    "PgRelation",
    "PgTruncate",
    "PgTruncateOption",
    "PgTxn",
    "PgValue",
    "PgValueForm",
    "PollFlag",
    "Scheduler",
    "SchedulerParam",
    "Setting",
    "Predictor",
    "PredictorInfo",
    "PredictorParam",
    "Scorer",
    "Status",
    "Stream",
    "StreamChange",
    "StreamMode",
    "StreamOpts",
    "StreamPhase",
    "StreamRole",
    "TenantStats",
    "Tier",
    "Transport",
    "TransportKind",
    "TransportParam",
    "UNCHANGED_TOAST",
    "ValueState",
    "frame_inspect",
    "is_fatal",
    "param_bounds",
    "predictor_param_bounds",
    "require_version",
    "scheduler_param_bounds",
    "status_name",
    "stream_batches",
    "stream_to_batch",
    "strerror",
    "transport_param_bounds",
    "truncate_batch",
    "version",
    "version_string",
]
