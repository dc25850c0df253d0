"""Loading libheliosrepl and declaring the C prototypes (internal).

The shared library is looked up, in order, at:

1. the path in the environment variable ``HELIOSREPL_LIB``;
2. the build tree: walking up from this package's folder, the first
   ``build/lib/libheliosrepl.so.1`` found;
3. the system: ``ctypes.util.find_library("heliosrepl")``, then the bare
   SONAME ``libheliosrepl.so.1`` (the dynamic loader's search path).

Every public function (``heliosrepl/core.h``, ``batch.h``, ``codec.h``,
``pgoutput.h``, ``stream.h``, ``apply.h``,
``copy.h``, ``qos.h``, ``predict.h``) gets its ``argtypes`` and
``restype`` here, so no call goes through ctypes' int-only defaults.
Read-only byte buffers (``const void *``, ``const uint8_t *``) are declared
``c_char_p``: a ``bytes`` object is passed by address, embedded NUL bytes
included, without a copy.

ctypes converts a Python int to a fixed-width C integer *modulo* its width
and never raises, so callers range-check every integer they pass.
"""

import ctypes
import ctypes.util
import os
from pathlib import Path

from . import _lib_qos

#: The library version this binding was written for (hr_check_version).
BINDING_MAJOR = 1
BINDING_MINOR = 0

SONAME = "libheliosrepl.so.1"
ENV_VAR = "HELIOSREPL_LIB"


# --- C types of core.h ------------------------------------------------------

hr_env_p = ctypes.c_void_p  # opaque hr_env *
hr_batch_p = ctypes.c_void_p  # opaque hr_batch *
hr_codec_p = ctypes.c_void_p  # opaque hr_codec *
hr_pgdecoder_p = ctypes.c_void_p  # opaque hr_pgdecoder *
hr_pgtxn_p = ctypes.c_void_p  # opaque const hr_pgtxn *
hr_pgrelation_p = ctypes.c_void_p  # opaque const hr_pgrelation *
hr_stream_p = ctypes.c_void_p  # opaque hr_stream *
hr_stream_opts_p = ctypes.c_void_p  # opaque hr_stream_opts *
hr_transport_p = ctypes.c_void_p  # opaque hr_transport *
hr_transport_msg_p = ctypes.c_void_p  # opaque hr_transport_msg *
hr_applier_p = ctypes.c_void_p  # opaque hr_applier *
hr_applier_opts_p = ctypes.c_void_p  # opaque hr_applier_opts *
hr_copier_p = ctypes.c_void_p  # opaque hr_copier *
hr_copier_opts_p = ctypes.c_void_p  # opaque hr_copier_opts *
hr_predictor_p = ctypes.c_void_p  # opaque hr_predictor *

#: void *(*malloc)(void *ctx, size_t size) and friends (hr_allocator).
MALLOC_FN = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
REALLOC_FN = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p,
                              ctypes.c_void_p, ctypes.c_size_t)
FREE_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)

#: void (*hr_log_fn)(void *ctx, hr_log_level level, const char *message).
#: The message is declared as a void pointer so that bytes that are not
#: valid UTF-8 reach the Python side intact (see Env.set_log).
LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)

#: uint64_t (*)(void *ctx), the two functions of hr_clock.
CLOCK_FN = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p)

HR_ALLOCATOR_VERSION = 1
HR_CLOCK_VERSION = 1
HR_PGDECODER_CALLBACKS_VERSION = 1

# The callbacks of hr_pgdecoder_callbacks (pgoutput.h). Strings and byte
# buffers are declared as void pointers, read with their lengths.
#: int (*on_txn)(void *ctx, const hr_pgtxn *txn)
PG_TXN_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
#: int (*on_relation)(void *ctx, const hr_pgrelation *rel, int changed)
PG_RELATION_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p,
                                  ctypes.c_void_p, ctypes.c_int)
#: int (*on_keepalive)(void *ctx, uint64_t wal_end, int64_t server_time,
#:                     int reply_requested)
PG_KEEPALIVE_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p,
                                   ctypes.c_uint64, ctypes.c_int64,
                                   ctypes.c_int)
#: int (*on_message)(void *ctx, uint64_t lsn, const char *prefix,
#:                   const uint8_t *content, size_t content_len)
PG_MESSAGE_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p,
                                 ctypes.c_uint64, ctypes.c_void_p,
                                 ctypes.c_void_p, ctypes.c_size_t)

HR_STREAM_CALLBACKS_VERSION = 1
HR_STREAM_FDS_MAX = 2

# The callbacks of hr_stream_callbacks (stream.h).
#: int (*on_txn)(void *ctx, const char *tenant_id, const hr_pgtxn *txn,
#:               const hr_stream_change *changes, size_t n)
STREAM_TXN_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p,
                                 ctypes.c_void_p, ctypes.c_void_p,
                                 ctypes.c_void_p, ctypes.c_size_t)
#: int (*on_schema_change)(void *ctx, const hr_pgrelation *relation)
STREAM_SCHEMA_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p,
                                    ctypes.c_void_p)


HR_APPLIER_CALLBACKS_VERSION = 1
HR_OP_TRUNCATE = 5

# The callbacks of hr_applier_callbacks (apply.h); both return nothing.
#: void (*on_applied)(void *ctx, const char *tenant_id, uint64_t lsn)
APPLIER_APPLIED_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p,
                                      ctypes.c_uint64)
#: void (*on_error)(void *ctx, const char *tenant_id, uint64_t lsn,
#:                  int status, const char *message)
APPLIER_ERROR_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p,
                                    ctypes.c_uint64, ctypes.c_int,
                                    ctypes.c_void_p)
HR_COPIER_CALLBACKS_VERSION = 1

# The callbacks of hr_copier_callbacks (copy.h); names as void pointers,
# decoded by the binding.
#: int (*on_table_begin)(void *ctx, const char *schema, const char *table,
#:                       uint64_t rows_expected)
COPIER_BEGIN_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p,
                                   ctypes.c_void_p, ctypes.c_void_p,
                                   ctypes.c_uint64)
#: int (*on_batch)(void *ctx, const char *schema, const char *table,
#:                 hr_batch *batch)
COPIER_BATCH_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p,
                                   ctypes.c_void_p, ctypes.c_void_p,
                                   ctypes.c_void_p)
#: int (*on_table_end)(void *ctx, const char *schema, const char *table,
#:                     uint64_t rows, uint64_t bytes)
COPIER_END_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p,
                                 ctypes.c_void_p, ctypes.c_void_p,
                                 ctypes.c_uint64, ctypes.c_uint64)


class Allocator(ctypes.Structure):
    """struct hr_allocator."""

    _fields_ = [
        ("version", ctypes.c_uint),
        ("ctx", ctypes.c_void_p),
        ("malloc", MALLOC_FN),
        ("realloc", REALLOC_FN),
        ("free", FREE_FN),
    ]


class Clock(ctypes.Structure):
    """struct hr_clock."""

    _fields_ = [
        ("version", ctypes.c_uint),
        ("ctx", ctypes.c_void_p),
        ("monotonic_ns", CLOCK_FN),
        ("wall_ns", CLOCK_FN),
    ]


class PgDecoderCallbacks(ctypes.Structure):
    """struct hr_pgdecoder_callbacks (pgoutput.h); the library copies it."""

    _fields_ = [
        ("version", ctypes.c_uint),
        ("ctx", ctypes.c_void_p),
        ("on_txn", PG_TXN_FN),
        ("on_relation", PG_RELATION_FN),
        ("on_keepalive", PG_KEEPALIVE_FN),
        ("on_message", PG_MESSAGE_FN),
    ]


class StreamChange(ctypes.Structure):
    """struct hr_stream_change (stream.h)."""

    _fields_ = [
        ("index", ctypes.c_size_t),
        ("role", ctypes.c_int),
    ]


class StreamCallbacks(ctypes.Structure):
    """struct hr_stream_callbacks (stream.h); the library copies it."""

    _fields_ = [
        ("version", ctypes.c_uint),
        ("ctx", ctypes.c_void_p),
        ("on_txn", STREAM_TXN_FN),
        ("on_schema_change", STREAM_SCHEMA_FN),
    ]


class ApplierCallbacks(ctypes.Structure):
    """struct hr_applier_callbacks (apply.h); the library copies it."""

    _fields_ = [
        ("version", ctypes.c_uint),
        ("ctx", ctypes.c_void_p),
        ("on_applied", APPLIER_APPLIED_FN),
        ("on_error", APPLIER_ERROR_FN),
    ]


class CopierCallbacks(ctypes.Structure):
    """struct hr_copier_callbacks (copy.h); the library copies it."""

    _fields_ = [
        ("version", ctypes.c_uint),
        ("ctx", ctypes.c_void_p),
        ("on_table_begin", COPIER_BEGIN_FN),
        ("on_batch", COPIER_BATCH_FN),
        ("on_table_end", COPIER_END_FN),
    ]


class PredictorInfo(ctypes.Structure):
    """struct hr_predictor_info (predict.h); `size` is set by the caller."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("keys", ctypes.c_uint64),
        ("windows", ctypes.c_uint64),
        ("examples", ctypes.c_uint64),
        ("events", ctypes.c_uint64),
        ("learned_active", ctypes.c_int),
        ("trainings", ctypes.c_int),
        ("learned_auc", ctypes.c_double),
        ("heuristic_auc", ctypes.c_double),
        ("model_failures", ctypes.c_uint64),
    ]


class FrameInfo(ctypes.Structure):
    """struct hr_frame_info (codec.h); `size` is set by the caller."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("format_version", ctypes.c_uint),
        ("flags", ctypes.c_uint),
        ("schema_fingerprint", ctypes.c_uint64),
        ("rows", ctypes.c_uint32),
        ("columns", ctypes.c_uint32),
        ("key_id", ctypes.c_uint32),
    ]


class TransportMeta(ctypes.Structure):
    """struct hr_transport_meta (transport.h); `size` is set by the caller.
    Strings read back as bytes (they hold no NUL byte)."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("tenant_id", ctypes.c_char_p),
        ("flags", ctypes.c_uint32),
        ("lsn", ctypes.c_uint64),
        ("commit_time", ctypes.c_int64),
        ("schema_name", ctypes.c_char_p),
        ("table_name", ctypes.c_char_p),
        ("idempotent_until", ctypes.c_uint64),
        ("seq", ctypes.c_uint64),
    ]


_c_int = ctypes.c_int
_c_size = ctypes.c_size_t
_c_bytes = ctypes.c_char_p  # const void * / const uint8_t * / const char *
_p = ctypes.POINTER

# name: (restype, argtypes), in the order of core.h, batch.h, codec.h,
# pgoutput.h, stream.h, apply.h, copy.h, transport.h, predict.h (qos.h:
# _lib_qos.py).
_PROTOTYPES = {
    "hr_strerror": (ctypes.c_char_p, [ctypes.c_int]),
    "hr_status_name": (ctypes.c_char_p, [ctypes.c_int]),
    "hr_is_fatal": (ctypes.c_int, [ctypes.c_int]),
    "hr_version": (ctypes.c_uint32, []),
    "hr_version_string": (ctypes.c_char_p, []),
    "hr_check_version": (ctypes.c_int, [ctypes.c_int, ctypes.c_int]),
    "hr_env_new": (ctypes.c_int,
                   [ctypes.POINTER(hr_env_p), ctypes.POINTER(Allocator)]),
    "hr_env_free": (None, [hr_env_p]),
    "hr_env_set_log": (ctypes.c_int,
                       [hr_env_p, LOG_FN, ctypes.c_void_p, ctypes.c_int]),
    "hr_env_set_clock": (ctypes.c_int, [hr_env_p, ctypes.POINTER(Clock)]),
    "hr_env_monotonic_ns": (ctypes.c_uint64, [hr_env_p]),
    "hr_env_wall_ns": (ctypes.c_uint64, [hr_env_p]),
    "hr_env_errmsg": (ctypes.c_char_p, [hr_env_p]),
    # --- batch.h ---
    "hr_batch_new": (_c_int, [hr_env_p, _p(hr_batch_p)]),
    "hr_batch_free": (None, [hr_batch_p]),
    "hr_batch_clear": (None, [hr_batch_p]),
    "hr_batch_clear_rows": (None, [hr_batch_p]),
    "hr_batch_truncate": (None, [hr_batch_p, ctypes.c_size_t]),
    "hr_batch_append_rows": (_c_int, [hr_batch_p, hr_batch_p]),
    "hr_batch_set_relation": (_c_int, [hr_batch_p, _c_bytes, _c_bytes]),
    "hr_batch_add_column": (_c_int, [hr_batch_p, _c_bytes, ctypes.c_uint32,
                                     _c_int]),
    "hr_batch_append_null": (_c_int, [hr_batch_p, _c_int]),
    "hr_batch_append_unchanged_toast": (_c_int, [hr_batch_p, _c_int]),
    "hr_batch_append_bool": (_c_int, [hr_batch_p, _c_int, _c_int]),
    "hr_batch_append_int64": (_c_int, [hr_batch_p, _c_int, ctypes.c_int64]),
    "hr_batch_append_float4": (_c_int, [hr_batch_p, _c_int, ctypes.c_float]),
    "hr_batch_append_float8": (_c_int, [hr_batch_p, _c_int, ctypes.c_double]),
    "hr_batch_append_uuid": (_c_int, [hr_batch_p, _c_int, _c_bytes]),
    "hr_batch_append_bytes": (_c_int, [hr_batch_p, _c_int, _c_bytes, _c_size]),
    "hr_batch_columns": (_c_int, [hr_batch_p]),
    "hr_batch_rows": (_c_size, [hr_batch_p]),
    "hr_batch_column_name": (ctypes.c_char_p, [hr_batch_p, _c_int]),
    "hr_batch_column_type": (ctypes.c_uint32, [hr_batch_p, _c_int]),
    "hr_batch_column_nullable": (_c_int, [hr_batch_p, _c_int]),
    "hr_batch_schema_name": (ctypes.c_char_p, [hr_batch_p]),
    "hr_batch_table_name": (ctypes.c_char_p, [hr_batch_p]),
    "hr_batch_value_state": (_c_int, [hr_batch_p, _c_int, _c_size]),
    "hr_batch_get_bool": (_c_int, [hr_batch_p, _c_int, _c_size, _p(_c_int)]),
    "hr_batch_get_int64": (_c_int, [hr_batch_p, _c_int, _c_size,
                                    _p(ctypes.c_int64)]),
    "hr_batch_get_float4": (_c_int, [hr_batch_p, _c_int, _c_size,
                                     _p(ctypes.c_float)]),
    "hr_batch_get_float8": (_c_int, [hr_batch_p, _c_int, _c_size,
                                     _p(ctypes.c_double)]),
    "hr_batch_get_uuid": (_c_int, [hr_batch_p, _c_int, _c_size,
                                   _p(ctypes.c_uint8)]),
    "hr_batch_get_bytes": (_c_int, [hr_batch_p, _c_int, _c_size,
                                    _p(ctypes.c_void_p), _p(_c_size)]),
    "hr_batch_equal": (_c_int, [hr_batch_p, hr_batch_p]),
    "hr_batch_raw_size": (_c_size, [hr_batch_p]),
    "hr_batch_errmsg": (ctypes.c_char_p, [hr_batch_p]),
    # --- codec.h ---
    "hr_codec_new": (_c_int, [hr_env_p, _p(hr_codec_p)]),
    "hr_codec_free": (None, [hr_codec_p]),
    "hr_codec_set_param": (_c_int, [hr_codec_p, _c_int, ctypes.c_int64]),
    "hr_codec_get_param": (_c_int, [hr_codec_p, _c_int, _p(ctypes.c_int64)]),
    "hr_codec_param_bounds": (_c_int, [_c_int, _p(ctypes.c_int64),
                                       _p(ctypes.c_int64)]),
    "hr_codec_add_key": (_c_int, [hr_codec_p, ctypes.c_uint32, _c_bytes]),
    "hr_codec_remove_key": (_c_int, [hr_codec_p, ctypes.c_uint32]),
    "hr_codec_set_encrypt_key": (_c_int, [hr_codec_p, ctypes.c_uint32]),
    "hr_codec_encode": (_c_int, [hr_codec_p, hr_batch_p, _c_bytes,
                                 _p(ctypes.c_void_p), _p(_c_size)]),
    "hr_codec_decode": (_c_int, [hr_codec_p, _c_bytes, _c_size, _c_bytes,
                                 hr_batch_p]),
    "hr_frame_inspect": (_c_int, [_c_bytes, _c_size, _p(FrameInfo)]),
    "hr_codec_export_dicts": (_c_int, [hr_codec_p, _p(ctypes.c_void_p),
                                       _p(_c_size)]),
    "hr_codec_import_dicts": (_c_int, [hr_codec_p, _c_bytes, _c_size]),
    "hr_codec_errmsg": (ctypes.c_char_p, [hr_codec_p]),
    # --- pgoutput.h ---
    "hr_pgdecoder_new": (_c_int, [hr_env_p, _p(PgDecoderCallbacks),
                                  _p(hr_pgdecoder_p)]),
    "hr_pgdecoder_free": (None, [hr_pgdecoder_p]),
    "hr_pgdecoder_reset": (None, [hr_pgdecoder_p, _c_int]),
    "hr_pgdecoder_set_param": (_c_int, [hr_pgdecoder_p, _c_int,
                                        ctypes.c_int64]),
    "hr_pgdecoder_feed": (_c_int, [hr_pgdecoder_p, _c_bytes, _c_size]),
    "hr_pgdecoder_feed_message": (_c_int, [hr_pgdecoder_p, ctypes.c_uint64,
                                           _c_bytes, _c_size]),
    "hr_pgdecoder_wal_end": (ctypes.c_uint64, [hr_pgdecoder_p]),
    "hr_pgdecoder_relation": (hr_pgrelation_p, [hr_pgdecoder_p,
                                                ctypes.c_uint32]),
    "hr_pgdecoder_errmsg": (ctypes.c_char_p, [hr_pgdecoder_p]),
    "hr_pgrelation_oid": (ctypes.c_uint32, [hr_pgrelation_p]),
    "hr_pgrelation_schema": (ctypes.c_char_p, [hr_pgrelation_p]),
    "hr_pgrelation_name": (ctypes.c_char_p, [hr_pgrelation_p]),
    "hr_pgrelation_replica_identity": (ctypes.c_char, [hr_pgrelation_p]),
    "hr_pgrelation_columns": (_c_int, [hr_pgrelation_p]),
    "hr_pgrelation_column_name": (ctypes.c_char_p, [hr_pgrelation_p, _c_int]),
    "hr_pgrelation_column_type": (ctypes.c_uint32, [hr_pgrelation_p, _c_int]),
    "hr_pgrelation_column_typmod": (ctypes.c_int32, [hr_pgrelation_p,
                                                     _c_int]),
    "hr_pgrelation_column_is_key": (_c_int, [hr_pgrelation_p, _c_int]),
    "hr_pgtxn_xid": (ctypes.c_uint32, [hr_pgtxn_p]),
    "hr_pgtxn_commit_lsn": (ctypes.c_uint64, [hr_pgtxn_p]),
    "hr_pgtxn_end_lsn": (ctypes.c_uint64, [hr_pgtxn_p]),
    "hr_pgtxn_commit_time": (ctypes.c_int64, [hr_pgtxn_p]),
    "hr_pgtxn_origin": (ctypes.c_char_p, [hr_pgtxn_p]),
    "hr_pgtxn_origin_lsn": (ctypes.c_uint64, [hr_pgtxn_p]),
    "hr_pgtxn_streamed": (_c_int, [hr_pgtxn_p]),
    "hr_pgtxn_changes": (_c_size, [hr_pgtxn_p]),
    "hr_pgtxn_change_kind": (_c_int, [hr_pgtxn_p, _c_size]),
    "hr_pgtxn_change_relation": (hr_pgrelation_p, [hr_pgtxn_p, _c_size]),
    "hr_pgtxn_change_old_form": (_c_int, [hr_pgtxn_p, _c_size]),
    "hr_pgtxn_change_value": (_c_int, [hr_pgtxn_p, _c_size, _c_int, _c_int,
                                       _p(ctypes.c_void_p), _p(_c_size)]),
    "hr_pgtxn_change_truncate": (_c_int, [hr_pgtxn_p, _c_size, _p(_c_size),
                                          _p(_c_int)]),
    "hr_pgtxn_change_truncate_oid": (ctypes.c_uint32, [hr_pgtxn_p, _c_size,
                                                       _c_size]),
    "hr_pgtxn_change_truncate_relation": (hr_pgrelation_p,
                                          [hr_pgtxn_p, _c_size, _c_size]),
    "hr_pgtxn_change_message": (_c_int, [hr_pgtxn_p, _c_size,
                                         _p(ctypes.c_char_p),
                                         _p(ctypes.c_void_p), _p(_c_size)]),
    "hr_pgtxn_to_batch": (_c_int, [hr_pgtxn_p, _c_size, hr_batch_p,
                                   _p(_c_size)]),
    # --- stream.h ---
    "hr_stream_opts_new": (_c_int, [hr_env_p, _p(hr_stream_opts_p)]),
    "hr_stream_opts_free": (None, [hr_stream_opts_p]),
    "hr_stream_opts_set_conninfo": (_c_int, [hr_stream_opts_p, _c_bytes]),
    "hr_stream_opts_set_mode": (_c_int, [hr_stream_opts_p, _c_int]),
    "hr_stream_opts_set_tenant": (_c_int, [hr_stream_opts_p, _c_bytes]),
    "hr_stream_opts_set_tenant_column": (_c_int, [hr_stream_opts_p,
                                                  _c_bytes]),
    "hr_stream_opts_add_table": (_c_int, [hr_stream_opts_p, _c_bytes]),
    "hr_stream_opts_add_schema": (_c_int, [hr_stream_opts_p, _c_bytes]),
    "hr_stream_opts_set_slot": (_c_int, [hr_stream_opts_p, _c_bytes]),
    "hr_stream_opts_set_publication": (_c_int, [hr_stream_opts_p, _c_bytes]),
    "hr_stream_opts_set_start_lsn": (_c_int, [hr_stream_opts_p,
                                              ctypes.c_uint64]),
    "hr_stream_opts_set_binary": (_c_int, [hr_stream_opts_p, _c_int]),
    "hr_stream_opts_set_proto_version": (_c_int, [hr_stream_opts_p, _c_int]),
    "hr_stream_opts_set_status_interval_ms": (_c_int, [hr_stream_opts_p,
                                                       ctypes.c_int64]),
    "hr_stream_opts_set_heartbeat_interval_ms": (_c_int, [hr_stream_opts_p,
                                                          ctypes.c_int64]),
    "hr_stream_opts_set_export_snapshot": (_c_int, [hr_stream_opts_p,
                                                    _c_int]),
    "hr_stream_opts_set_hold_start": (_c_int, [hr_stream_opts_p, _c_int]),
    "hr_stream_opts_errmsg": (ctypes.c_char_p, [hr_stream_opts_p]),
    "hr_stream_new": (_c_int, [hr_env_p, hr_stream_opts_p,
                               _p(StreamCallbacks), _p(hr_stream_p)]),
    "hr_stream_free": (None, [hr_stream_p]),
    "hr_stream_add_tenant": (_c_int, [hr_stream_p, _c_bytes,
                                      ctypes.c_uint64]),
    "hr_stream_remove_tenant": (_c_int, [hr_stream_p, _c_bytes]),
    "hr_stream_fds": (_c_int, [hr_stream_p, _p(_c_int), _p(_c_int), _c_int]),
    "hr_stream_fd": (_c_int, [hr_stream_p]),
    "hr_stream_interest": (_c_int, [hr_stream_p]),
    "hr_stream_timeout_ms": (ctypes.c_int64, [hr_stream_p, ctypes.c_uint64]),
    "hr_stream_phase": (_c_int, [hr_stream_p]),
    "hr_stream_step": (_c_int, [hr_stream_p, ctypes.c_uint64]),
    "hr_stream_run": (_c_int, [hr_stream_p, ctypes.c_int64]),
    "hr_stream_confirm": (_c_int, [hr_stream_p, _c_bytes, ctypes.c_uint64]),
    "hr_stream_confirmed_lsn": (ctypes.c_uint64, [hr_stream_p, _c_bytes]),
    "hr_stream_snapshot_name": (ctypes.c_char_p, [hr_stream_p]),
    "hr_stream_consistent_lsn": (ctypes.c_uint64, [hr_stream_p]),
    "hr_stream_release_snapshot": (_c_int, [hr_stream_p]),
    "hr_stream_drop": (_c_int, [hr_stream_p]),
    "hr_stream_slot_lsn": (ctypes.c_uint64, [hr_stream_p]),
    "hr_stream_tenant_lag_bytes": (ctypes.c_int64, [hr_stream_p, _c_bytes]),
    "hr_stream_move_tenant": (_c_int, [hr_stream_p, _c_bytes, hr_stream_p]),
    "hr_stream_to_batch": (_c_int, [hr_pgtxn_p, _p(StreamChange), _c_size,
                                    _c_size, hr_batch_p, _p(_c_size)]),
    "hr_stream_errmsg": (ctypes.c_char_p, [hr_stream_p]),
    # --- apply.h ---
    "hr_applier_opts_new": (_c_int, [hr_env_p, _p(hr_applier_opts_p)]),
    "hr_applier_opts_free": (None, [hr_applier_opts_p]),
    "hr_applier_opts_set_conninfo": (_c_int, [hr_applier_opts_p, _c_bytes]),
    "hr_applier_opts_set_source_id": (_c_int, [hr_applier_opts_p, _c_bytes]),
    "hr_applier_opts_set_meta_schema": (_c_int, [hr_applier_opts_p,
                                                 _c_bytes]),
    "hr_applier_opts_set_tenant_column": (_c_int, [hr_applier_opts_p,
                                                   _c_bytes]),
    "hr_applier_opts_set_group_rows": (_c_int, [hr_applier_opts_p, _c_size]),
    "hr_applier_opts_set_group_bytes": (_c_int, [hr_applier_opts_p,
                                                 _c_size]),
    "hr_applier_opts_set_group_delay_ms": (_c_int, [hr_applier_opts_p,
                                                    ctypes.c_int64]),
    "hr_applier_opts_set_copy_min_rows": (_c_int, [hr_applier_opts_p,
                                                   _c_size]),
    "hr_applier_opts_set_max_pending_bytes": (_c_int, [hr_applier_opts_p,
                                                       _c_size]),
    "hr_applier_opts_errmsg": (ctypes.c_char_p, [hr_applier_opts_p]),
    "hr_applier_new": (_c_int, [hr_env_p, hr_applier_opts_p,
                                _p(ApplierCallbacks), _p(hr_applier_p)]),
    "hr_applier_free": (None, [hr_applier_p]),
    "hr_applier_fd": (_c_int, [hr_applier_p]),
    "hr_applier_interest": (_c_int, [hr_applier_p]),
    "hr_applier_timeout_ms": (ctypes.c_int64, [hr_applier_p,
                                               ctypes.c_uint64]),
    "hr_applier_phase": (_c_int, [hr_applier_p]),
    "hr_applier_step": (_c_int, [hr_applier_p, ctypes.c_uint64]),
    "hr_applier_checkpoint": (_c_int, [hr_applier_p, _c_bytes,
                                       _p(ctypes.c_uint64)]),
    "hr_applier_copy_state": (_c_int, [hr_applier_p, _c_bytes, _p(_c_int),
                                       _p(_c_size)]),
    "hr_applier_copy_table_done": (_c_int, [hr_applier_p, _c_bytes,
                                            _c_bytes, _c_bytes]),
    "hr_applier_begin": (_c_int, [hr_applier_p, _c_bytes, ctypes.c_uint64]),
    "hr_applier_add_batch": (_c_int, [hr_applier_p, hr_batch_p]),
    "hr_applier_commit": (_c_int, [hr_applier_p]),
    "hr_applier_rollback": (None, [hr_applier_p]),
    "hr_applier_begin_copy": (_c_int, [hr_applier_p, _c_bytes, _c_bytes,
                                       _c_bytes, ctypes.c_uint64]),
    "hr_applier_finish_copy": (_c_int, [hr_applier_p, _c_bytes,
                                        ctypes.c_uint64]),
    "hr_applier_set_idempotent_until": (_c_int, [hr_applier_p, _c_bytes,
                                                 ctypes.c_uint64]),
    "hr_applier_resume": (_c_int, [hr_applier_p, _c_bytes]),
    "hr_applier_pending_bytes": (_c_size, [hr_applier_p]),
    "hr_applier_stats": (None, [hr_applier_p, _p(ctypes.c_uint64),
                                _p(ctypes.c_uint64), _p(ctypes.c_uint64),
                                _p(ctypes.c_uint64)]),
    "hr_applier_errmsg": (ctypes.c_char_p, [hr_applier_p]),
    # --- copy.h ---
    "hr_copier_opts_new": (_c_int, [hr_env_p, _p(hr_copier_opts_p)]),
    "hr_copier_opts_free": (None, [hr_copier_opts_p]),
    "hr_copier_opts_set_conninfo": (_c_int, [hr_copier_opts_p, _c_bytes]),
    "hr_copier_opts_set_tenant": (_c_int, [hr_copier_opts_p, _c_bytes]),
    "hr_copier_opts_set_tenant_column": (_c_int, [hr_copier_opts_p,
                                                  _c_bytes]),
    "hr_copier_opts_add_table": (_c_int, [hr_copier_opts_p, _c_bytes]),
    "hr_copier_opts_add_schema": (_c_int, [hr_copier_opts_p, _c_bytes]),
    "hr_copier_opts_set_snapshot": (_c_int, [hr_copier_opts_p, _c_bytes]),
    "hr_copier_opts_add_skip_table": (_c_int, [hr_copier_opts_p, _c_bytes]),
    "hr_copier_opts_set_rows_per_batch": (_c_int, [hr_copier_opts_p,
                                                   _c_size]),
    "hr_copier_opts_set_table_priority": (_c_int, [hr_copier_opts_p,
                                                   _c_bytes,
                                                   ctypes.c_double]),
    "hr_copier_opts_errmsg": (ctypes.c_char_p, [hr_copier_opts_p]),
    "hr_copier_new": (_c_int, [hr_env_p, hr_copier_opts_p,
                               _p(CopierCallbacks), _p(hr_copier_p)]),
    "hr_copier_free": (None, [hr_copier_p]),
    "hr_copier_fd": (_c_int, [hr_copier_p]),
    "hr_copier_interest": (_c_int, [hr_copier_p]),
    "hr_copier_timeout_ms": (ctypes.c_int64, [hr_copier_p, ctypes.c_uint64]),
    "hr_copier_step": (_c_int, [hr_copier_p, ctypes.c_uint64]),
    "hr_copier_run": (_c_int, [hr_copier_p, ctypes.c_int64]),
    "hr_copier_done": (_c_int, [hr_copier_p]),
    "hr_copier_progress": (_c_int, [hr_copier_p, _p(ctypes.c_uint64),
                                    _p(ctypes.c_uint64), _p(ctypes.c_uint64),
                                    _p(ctypes.c_double)]),
    "hr_copier_snapshot_lsn": (ctypes.c_uint64, [hr_copier_p]),
    "hr_copier_errmsg": (ctypes.c_char_p, [hr_copier_p]),
    # --- transport.h ---
    "hr_transport_new_inproc": (_c_int, [hr_env_p, _p(hr_transport_p)]),
    "hr_transport_free": (None, [hr_transport_p]),
    "hr_transport_kind": (_c_int, [hr_transport_p]),
    "hr_transport_set_param": (_c_int, [hr_transport_p, _c_int,
                                        ctypes.c_int64]),
    "hr_transport_get_param": (_c_int, [hr_transport_p, _c_int,
                                        _p(ctypes.c_int64)]),
    "hr_transport_param_bounds": (_c_int, [_c_int, _p(ctypes.c_int64),
                                           _p(ctypes.c_int64)]),
    "hr_transport_send": (_c_int, [hr_transport_p, _p(TransportMeta),
                                   _c_bytes, _c_size]),
    "hr_transport_writable": (_c_int, [hr_transport_p, _c_size]),
    "hr_transport_recv": (_c_int, [hr_transport_p, _p(hr_transport_msg_p)]),
    "hr_transport_msg_free": (None, [hr_transport_msg_p]),
    "hr_transport_msg_meta": (_c_int, [hr_transport_msg_p,
                                       _p(TransportMeta)]),
    "hr_transport_msg_data": (ctypes.c_void_p, [hr_transport_msg_p,
                                                _p(_c_size)]),
    "hr_transport_fd": (_c_int, [hr_transport_p]),
    "hr_transport_interest": (_c_int, [hr_transport_p]),
    "hr_transport_timeout_ms": (ctypes.c_int64, [hr_transport_p,
                                                 ctypes.c_uint64]),
    "hr_transport_step": (_c_int, [hr_transport_p, ctypes.c_uint64]),
    "hr_transport_stats": (None, [hr_transport_p, _p(ctypes.c_uint64),
                                  _p(ctypes.c_uint64), _p(_c_size),
                                  _p(_c_size)]),
    "hr_transport_errmsg": (ctypes.c_char_p, [hr_transport_p]),
    # --- predict.h ---
    "hr_predictor_new": (_c_int, [hr_env_p, _p(hr_predictor_p)]),
    "hr_predictor_free": (None, [hr_predictor_p]),
    "hr_predictor_set_param": (_c_int, [hr_predictor_p, _c_int,
                                        ctypes.c_int64]),
    "hr_predictor_get_param": (_c_int, [hr_predictor_p, _c_int,
                                        _p(ctypes.c_int64)]),
    "hr_predictor_param_bounds": (_c_int, [_c_int, _p(ctypes.c_int64),
                                           _p(ctypes.c_int64)]),
    "hr_predictor_observe": (_c_int, [hr_predictor_p, _c_bytes,
                                      ctypes.c_uint64, _c_int,
                                      ctypes.c_uint32]),
    "hr_predictor_advance": (_c_int, [hr_predictor_p, ctypes.c_uint64]),
    "hr_predictor_score": (_c_int, [hr_predictor_p, _c_bytes, ctypes.c_uint64,
                                    _p(ctypes.c_double)]),
    "hr_predictor_top_k": (_c_int, [hr_predictor_p, ctypes.c_uint64,
                                    _p(ctypes.c_void_p), _p(ctypes.c_double),
                                    _c_size, _p(_c_size)]),
    "hr_predictor_train": (_c_int, [hr_predictor_p, ctypes.c_uint64]),
    "hr_predictor_get_info": (_c_int, [hr_predictor_p, _p(PredictorInfo)]),
    "hr_predictor_save": (_c_int, [hr_predictor_p, _p(ctypes.c_void_p),
                                   _p(_c_size)]),
    "hr_predictor_load": (_c_int, [hr_predictor_p, _c_bytes, _c_size]),
    "hr_predictor_errmsg": (ctypes.c_char_p, [hr_predictor_p]),
}


# qos.h lives in its own file to keep this one short.
_PROTOTYPES.update(_lib_qos.prototypes(hr_env_p))
QosTenantStats = _lib_qos.QosTenantStats


def _build_tree_candidates():
    """Yield build/lib/libheliosrepl.so.1 in this folder and its parents."""
    here = Path(__file__).resolve().parent
    for folder in (here, *here.parents):
        yield folder / "build" / "lib" / SONAME


def _candidates():
    """Yield the library paths (or names) to try, best first."""
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        # An explicit choice is final: do not silently fall back to another
        # copy of the library when it is wrong.
        yield explicit
        return
    for path in _build_tree_candidates():
        if path.is_file():
            yield str(path)
            break
    found = ctypes.util.find_library("heliosrepl")
    if found:
        yield found
    yield SONAME


def _declare(lib):
    """Set restype/argtypes on every public function."""
    for name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def load():
    """Load the library and declare its prototypes; return (CDLL, path).

    Raises ImportError listing every place tried when none loads.
    """
    failures = []
    for candidate in _candidates():
        try:
            lib = ctypes.CDLL(candidate)
        except OSError as exc:
            failures.append(f"{candidate}: {exc}")
            continue
        try:
            _declare(lib)
        except AttributeError as exc:
            failures.append(f"{candidate}: missing symbol: {exc}")
            continue
        return lib, candidate
    raise ImportError(
        "heliosrepl: cannot load libheliosrepl (set HELIOSREPL_LIB to its "
        "path); tried:\n  " + "\n  ".join(failures))


lib, path = load()


def decode(raw):
    """Decode a C string returned by the library (None stays None)."""
    return None if raw is None else raw.decode("utf-8", errors="replace")


def copy_out(address, length):
    """Copy `length` bytes at C address `address` (may be NULL if 0)."""
    if length == 0:
        return b""
    return ctypes.string_at(address, length)
