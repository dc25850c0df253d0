"""Python (ctypes) binding of libheliosrepl, tenant-level PostgreSQL
replication.

Importing the package loads the shared library (see ``heliosrepl._lib`` for
where it looks; ``HELIOSREPL_LIB`` overrides) and checks that it can serve
this binding, written for version ``BINDING_MAJOR.BINDING_MINOR``; an
incompatible library raises :class:`IncompatibleLibraryError`, which is
both a :class:`HeliosReplError` and an ImportError.
"""

from ._lib import BINDING_MAJOR, BINDING_MINOR
from .core import require_version, version, version_string
from .env import Env, LogLevel
from .errors import (HeliosReplError, IncompatibleLibraryError, Status,
                     is_fatal, status_name, strerror)

__all__ = [
    "BINDING_MAJOR",
    "BINDING_MINOR",
    "Env",
    "HeliosReplError",
    "IncompatibleLibraryError",
    "LogLevel",
    "Status",
    "is_fatal",
    "require_version",
    "status_name",
    "strerror",
    "version",
    "version_string",
]
