"""Tests of the core binding against the real shared library.

Run: PYTHONPATH=bindings/python HELIOSREPL_LIB=build/lib/libheliosrepl.so.1 \
     python3 -m unittest discover -s bindings/python/tests -v

HELIOSREPL_VERSION_H may name the generated version.h to compare with; by
default it is found next to the loaded library (build/include/heliosrepl/).
HELIOSREPL_INCLUDE_DIR may name the folder of the public headers
(include/heliosrepl); by default the source tree's.
"""

import ctypes
import os
import re
import subprocess
import sys
import time
import unittest
from pathlib import Path

import heliosrepl
from heliosrepl import (Env, HeliosReplError, IncompatibleLibraryError,
                        LogLevel, Status)
from heliosrepl import _lib


# The public headers in the source tree (tests/ -> python/ -> bindings/ -> root).
SOURCE_INCLUDE_DIR = Path(__file__).resolve().parents[3] / "include" / "heliosrepl"

#: Headers whose functions the binding must cover (at least these; any other
#: public header found is checked too).
BOUND_HEADERS = ("core.h", "batch.h", "codec.h", "pgoutput.h", "stream.h",
                 "apply.h", "copy.h", "qos.h", "predict.h",
                 "transport.h")


def public_functions(text):
    """Names of the HR_API functions declared in a header's text."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)  # comments
    text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)  # preprocessor lines
    return set(re.findall(r"\bHR_API\s[^;(]*?\b(hr_\w+)\s*\(", text))


def header_version():
    """(major, minor, patch, string) from the generated version.h."""
    path = os.environ.get("HELIOSREPL_VERSION_H")
    if path is None:
        lib_dir = Path(_lib.path).resolve().parent
        path = lib_dir.parent / "include" / "heliosrepl" / "version.h"
    text = Path(path).read_text(encoding="utf-8")

    def define(name, pattern):
        match = re.search(rf"#define {name} {pattern}", text)
        if match is None:
            raise AssertionError(f"{name} not found in {path}")
        return match.group(1)

    return (int(define("HR_VERSION_MAJOR", r"(\d+)")),
            int(define("HR_VERSION_MINOR", r"(\d+)")),
            int(define("HR_VERSION_PATCH", r"(\d+)")),
            define("HR_VERSION_STRING", r'"([^"]*)"'))


class LoadTest(unittest.TestCase):
    def test_loaded_from_env_var_when_set(self):
        wanted = os.environ.get("HELIOSREPL_LIB")
        if wanted is None:
            self.skipTest("HELIOSREPL_LIB not set")
        self.assertEqual(_lib.path, wanted)

    def test_every_public_function_has_a_prototype(self):
        folder = Path(os.environ.get("HELIOSREPL_INCLUDE_DIR",
                                     SOURCE_INCLUDE_DIR))
        if not folder.is_dir():
            self.skipTest(f"{folder} not found")
        headers = sorted(folder.glob("*.h"))
        names = {h.name for h in headers}
        for wanted in BOUND_HEADERS:
            self.assertIn(wanted, names)
        declared = {}
        for header in headers:
            for fn in public_functions(header.read_text(encoding="utf-8")):
                declared[fn] = header.name
        per_header = {h: sum(1 for v in declared.values() if v == h)
                      for h in BOUND_HEADERS}
        self.assertGreater(per_header["core.h"], 10, per_header)
        self.assertGreater(per_header["batch.h"], 25, per_header)
        self.assertGreater(per_header["codec.h"], 12, per_header)
        self.assertGreater(per_header["pgoutput.h"], 30, per_header)
        self.assertGreater(per_header["stream.h"], 30, per_header)
        self.assertGreater(per_header["apply.h"], 30, per_header)
        self.assertGreater(per_header["qos.h"], 15, per_header)
        self.assertGreater(per_header["predict.h"], 12, per_header)
        missing = sorted(f"{declared[n]}: {n}" for n in
                         set(declared) - set(_lib._PROTOTYPES))
        self.assertEqual(missing, [], "functions without a prototype")
        self.assertEqual(sorted(set(_lib._PROTOTYPES) - set(declared)), [],
                         "prototypes of functions no header declares")
        for name in declared:
            fn = getattr(_lib.lib, name)
            self.assertIsNotNone(fn.argtypes, name)
            self.assertEqual((fn.restype, fn.argtypes),
                             (_lib._PROTOTYPES[name][0],
                              _lib._PROTOTYPES[name][1]), name)

    def test_prototype_arity_matches_headers(self):
        # A cheap check of the argument lists: the number of parameters
        # declared in C equals the number of argtypes.
        folder = Path(os.environ.get("HELIOSREPL_INCLUDE_DIR",
                                     SOURCE_INCLUDE_DIR))
        if not folder.is_dir():
            self.skipTest(f"{folder} not found")
        for header in sorted(folder.glob("*.h")):
            text = re.sub(r"/\*.*?\*/", " ",
                          header.read_text(encoding="utf-8"), flags=re.S)
            for name, params in re.findall(
                    r"\bHR_API\s[^;(]*?\b(hr_\w+)\s*\(([^)]*)\)", text):
                params = params.strip()
                count = 0 if params in ("", "void") else params.count(",") + 1
                with self.subTest(function=name):
                    self.assertEqual(len(_lib._PROTOTYPES[name][1]), count)

    def test_bad_env_var_fails_import(self):
        env = dict(os.environ, HELIOSREPL_LIB="/nonexistent/libheliosrepl.so.1",
                   PYTHONDONTWRITEBYTECODE="1")
        proc = subprocess.run(
            [sys.executable, "-c", "import heliosrepl"], env=env,
            capture_output=True, text=True, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("ImportError", proc.stderr)
        self.assertIn("/nonexistent/libheliosrepl.so.1", proc.stderr)


class VersionTest(unittest.TestCase):
    def test_matches_header(self):
        major, minor, patch, text = header_version()
        self.assertEqual(heliosrepl.version(),
                         (major << 16) | (minor << 8) | patch)
        self.assertEqual(heliosrepl.version_string(), text)
        self.assertEqual(text, f"{major}.{minor}.{patch}")

    def test_binding_version_is_served(self):
        self.assertEqual((heliosrepl.BINDING_MAJOR, heliosrepl.BINDING_MINOR),
                         (1, 0))
        heliosrepl.require_version(heliosrepl.BINDING_MAJOR,
                                   heliosrepl.BINDING_MINOR)

    def test_incompatible_versions_raise(self):
        major, minor, _, _ = header_version()
        for wanted in ((major + 1, 0), (major, minor + 1), (major - 1, 0)):
            with self.subTest(wanted=wanted):
                with self.assertRaises(IncompatibleLibraryError) as cm:
                    heliosrepl.require_version(*wanted)
                err = cm.exception
                self.assertIsInstance(err, ImportError)
                self.assertIsInstance(err, HeliosReplError)
                self.assertIs(err.code, Status.EVERSION)
                self.assertEqual(err.name, "HR_EVERSION")
                self.assertIn(heliosrepl.version_string(), err.message)


class StatusTest(unittest.TestCase):
    # The transient codes listed at hr_is_fatal in core.h.
    TRANSIENT = {Status.OK, Status.EAGAIN, Status.ETIMEDOUT, Status.EIO,
                 Status.ENOMEM, Status.ECONFLICT, Status.ECLOSED}

    def test_names_match_library(self):
        for status in Status:
            self.assertEqual(heliosrepl.status_name(status),
                             "HR_" + status.name)

    def test_enum_is_complete(self):
        # The library knows no code below the enum's minimum.
        below = min(Status) - 1
        self.assertEqual(heliosrepl.status_name(below), "HR_UNKNOWN")
        self.assertEqual(heliosrepl.status_name(1), "HR_UNKNOWN")

    def test_strerror(self):
        self.assertEqual(heliosrepl.strerror(Status.OK), "success")
        self.assertEqual(heliosrepl.strerror(Status.EINVAL), "invalid argument")
        self.assertEqual(heliosrepl.strerror(-1000), "unknown error")
        for status in Status:
            self.assertTrue(heliosrepl.strerror(status))

    def test_is_fatal(self):
        for status in Status:
            with self.subTest(status=status):
                self.assertEqual(heliosrepl.is_fatal(status),
                                 status not in self.TRANSIENT)
        self.assertTrue(heliosrepl.is_fatal(-1000))

    def test_error_of_unknown_code(self):
        err = HeliosReplError(-1000)
        self.assertEqual(err.code, -1000)
        self.assertNotIsInstance(err.code, Status)
        self.assertEqual(err.name, "HR_UNKNOWN")
        self.assertEqual(err.message, "unknown error")
        self.assertTrue(err.fatal)


class EnvErrorTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.addCleanup(self.env.close)

    def test_bad_log_level_maps_to_einval(self):
        for level in (0, 6, 9, -1):
            with self.subTest(level=level):
                with self.assertRaises(HeliosReplError) as cm:
                    self.env.set_log(lambda level, msg: None, level)
                err = cm.exception
                self.assertIs(err.code, Status.EINVAL)
                self.assertEqual(err.name, "HR_EINVAL")
                self.assertEqual(err.message,
                                 f"log level {level} out of range 1..5")
                self.assertEqual(self.env.errmsg, err.message)
                self.assertEqual(str(err), "HR_EINVAL: " + err.message)
                self.assertTrue(err.fatal)

    def test_success_clears_errmsg(self):
        with self.assertRaises(HeliosReplError):
            self.env.set_log(None, 9)
        self.assertNotEqual(self.env.errmsg, "")
        self.env.set_log(None, LogLevel.ERROR)
        self.assertEqual(self.env.errmsg, "")

    def test_set_log_accepts_every_level(self):
        for level in LogLevel:
            self.env.set_log(lambda lvl, msg: None, level)
        self.env.set_log(None)

    def test_set_log_rejects_non_callable(self):
        with self.assertRaises(TypeError):
            self.env.set_log("not a function", LogLevel.INFO)

    def test_log_trampoline_converts_arguments(self):
        # No core function logs yet: call the registered C function pointer
        # directly to check the adapter between C and Python.
        seen = []
        self.env.set_log(lambda lvl, msg: seen.append((lvl, msg)),
                         LogLevel.DEBUG)
        message = ctypes.create_string_buffer(b"caf\xc3\xa9 \xff")
        self.env._log_cb(None, 2, ctypes.addressof(message))
        self.assertEqual(seen, [(LogLevel.WARN, "caf\u00e9 \ufffd")])
        self.assertIsInstance(seen[0][0], LogLevel)

    def test_half_a_clock_is_rejected_by_the_library(self):
        with self.assertRaises(HeliosReplError) as cm:
            self.env.set_clock(lambda: 1)
        self.assertIs(cm.exception.code, Status.EINVAL)
        self.assertIn("both monotonic_ns and wall_ns", cm.exception.message)


class EnvClockTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.addCleanup(self.env.close)

    def test_system_clock_by_default(self):
        before = time.time_ns()
        wall = self.env.wall_ns()
        after = time.time_ns()
        self.assertLessEqual(before, wall)
        self.assertLessEqual(wall, after)
        first = self.env.monotonic_ns()
        self.assertLessEqual(first, self.env.monotonic_ns())

    def test_injected_clock_is_used(self):
        ticks = iter(range(100, 200))
        calls = []

        def wall():
            calls.append("wall")
            return 1_700_000_000_000_000_000

        self.env.set_clock(lambda: next(ticks), wall)
        self.assertEqual(self.env.monotonic_ns(), 100)
        self.assertEqual(self.env.monotonic_ns(), 101)
        self.assertEqual(self.env.wall_ns(), 1_700_000_000_000_000_000)
        self.assertEqual(calls, ["wall"])
        self.assertEqual(self.env.monotonic_ns(), 102)

    def test_full_uint64_range(self):
        top = (1 << 64) - 1
        self.env.set_clock(lambda: top, lambda: 0)
        self.assertEqual(self.env.monotonic_ns(), top)
        self.assertEqual(self.env.wall_ns(), 0)

    def test_set_clock_none_restores_system_clock(self):
        self.env.set_clock(lambda: 5, lambda: 7)
        self.env.set_clock(None)
        self.assertGreater(self.env.wall_ns(), 1_600_000_000 * 10**9)
        self.assertNotEqual(self.env.monotonic_ns(), 5)

    def test_callback_exception_is_reraised(self):
        def broken():
            raise KeyError("clock broke")

        self.env.set_clock(broken, lambda: 1)
        with self.assertRaises(KeyError):
            self.env.monotonic_ns()
        self.assertEqual(self.env.wall_ns(), 1)  # the error was consumed

    def test_bad_callback_values_raise(self):
        self.env.set_clock(lambda: -1, lambda: "soon")
        with self.assertRaises(ValueError):
            self.env.monotonic_ns()
        with self.assertRaises(TypeError):
            self.env.wall_ns()


class EnvLifetimeTest(unittest.TestCase):
    def test_close_twice_is_safe(self):
        env = Env()
        self.assertFalse(env.closed)
        env.close()
        env.close()
        self.assertTrue(env.closed)

    def test_use_after_close_raises_eclosed(self):
        env = Env()
        env.close()
        for call in (env.monotonic_ns, env.wall_ns, lambda: env.errmsg,
                     lambda: env.set_clock(None)):
            with self.assertRaises(HeliosReplError) as cm:
                call()
            self.assertIs(cm.exception.code, Status.ECLOSED)

    def test_context_manager_closes(self):
        with Env() as env:
            self.assertEqual(env.errmsg, "")
        self.assertTrue(env.closed)
        self.assertIn("closed", repr(env))

    def test_many_envs_are_released(self):
        # Exercises new/free pairs and __del__ without close().
        for _ in range(1000):
            Env().set_clock(lambda: 1, lambda: 2)


if __name__ == "__main__":
    unittest.main()
