"""Library version queries and the load-time compatibility check."""

from . import _lib
from .errors import IncompatibleLibraryError, Status


def version():
    """The run-time library version as an int 0xMMmmpp (hr_version)."""
    return int(_lib.lib.hr_version())


def version_string():
    """The run-time library version as text, e.g. "1.0.0"."""
    return _lib.decode(_lib.lib.hr_version_string())


def require_version(major, minor):
    """Raise IncompatibleLibraryError unless the loaded library can serve a
    caller written for version ``major.minor`` (hr_check_version)."""
    status = _lib.lib.hr_check_version(major, minor)
    if status != Status.OK:
        raise IncompatibleLibraryError(
            status,
            f"{_lib.path} is version {version_string()}; this binding needs "
            f"{major}.x with x >= {minor}")


require_version(_lib.BINDING_MAJOR, _lib.BINDING_MINOR)
