"""Status codes and the exception raised for them."""

import enum

from . import _lib


class Status(enum.IntEnum):
    """The library's status codes (enum hr_status); values are pinned.

    Member names are the C names without the ``HR_`` prefix.
    """

    OK = 0
    EINVAL = -1
    ENOMEM = -2
    EIO = -3
    EPROTO = -4
    ECORRUPT = -5
    EAUTH = -6
    EAGAIN = -7
    ESTATE = -8
    ECONFLICT = -9
    ESCHEMA = -10
    ETIMEDOUT = -11
    EUNSUPPORTED = -12
    ENOTFOUND = -13
    ECLOSED = -14
    EVERSION = -15
    ELIMIT = -16
    EINTERNAL = -17


def strerror(code):
    """Short English description of a status code (hr_strerror)."""
    return _lib.decode(_lib.lib.hr_strerror(int(code)))


def status_name(code):
    """The C enum name of a status code, e.g. "HR_EINVAL" (hr_status_name)."""
    return _lib.decode(_lib.lib.hr_status_name(int(code)))


def is_fatal(code):
    """True when retrying the same call cannot succeed (hr_is_fatal)."""
    return bool(_lib.lib.hr_is_fatal(int(code)))


def _as_status(code):
    """Status member for a known code, the plain int for an unknown one."""
    try:
        return Status(code)
    except ValueError:
        return int(code)


class HeliosReplError(Exception):
    """A failed library call.

    Attributes:
        code: the status code, a :class:`Status` member when this binding
            knows it (a newer library may return codes it does not).
        name: the C name of the code ("HR_EINVAL"), from hr_status_name.
        message: the handle's detail message, or hr_strerror(code) when the
            library gave none.
    """

    def __init__(self, code, message=None):
        code = _as_status(code)
        message = message or strerror(code)
        # Base __init__ first: ImportError's (see IncompatibleLibraryError)
        # resets its own `name` attribute.
        super().__init__(code, message)
        self.code = code
        self.name = status_name(code)
        self.message = message

    def __str__(self):
        return f"{self.name}: {self.message}"

    @property
    def fatal(self):
        """True when retrying without a change cannot succeed."""
        return is_fatal(self.code)


class IncompatibleLibraryError(HeliosReplError, ImportError):
    """The loaded library cannot serve this binding (HR_EVERSION).

    Raised while importing :mod:`heliosrepl`; it is also an ImportError.
    """
