"""Loading libheliosrepl and declaring the C prototypes (internal).

The shared library is looked up, in order, at:

1. the path in the environment variable ``HELIOSREPL_LIB``;
2. the build tree: walking up from this package's folder, the first
   ``build/lib/libheliosrepl.so.1`` found;
3. the system: ``ctypes.util.find_library("heliosrepl")``, then the bare
   SONAME ``libheliosrepl.so.1`` (the dynamic loader's search path).

Every function of ``heliosrepl/core.h`` gets its ``argtypes`` and
``restype`` here, so no call goes through ctypes' int-only defaults.
"""

import ctypes
import ctypes.util
import os
from pathlib import Path

#: The library version this binding was written for (hr_check_version).
BINDING_MAJOR = 1
BINDING_MINOR = 0

SONAME = "libheliosrepl.so.1"
ENV_VAR = "HELIOSREPL_LIB"


# --- C types of core.h ------------------------------------------------------

hr_env_p = ctypes.c_void_p  # opaque hr_env *

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


# name: (restype, argtypes), in the order of core.h.
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
}


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
    """Set restype/argtypes on every function of core.h."""
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
