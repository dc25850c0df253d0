"""The lifetime of a library handle owned by a Python object (internal).

:class:`_Handle` holds what every wrapper of an ``hr_X`` handle created
from an :class:`~heliosrepl.Env` repeats: :meth:`close` (free the handle
once and tell the Env), ``closed``, the context manager, the finalizer,
the refusal to copy or pickle, the ``_ptr`` that raises ``ECLOSED``, the
``errmsg`` property and the ``_set`` of option setters.

A subclass sets ``_handle`` (None until created) and ``_env``, and names
its C functions and itself in class attributes. Classes whose lifetime
does more (deferred close inside callbacks, moved batches) override the
pieces that differ; the hook :meth:`_free` runs between the free and the
Env's :meth:`~heliosrepl.Env._disown`.
"""

from . import _lib
from .errors import HeliosReplError, Status


class _Handle:
    """Base of the handle wrappers (see the module documentation)."""

    _free_fn = None      # "hr_X_free", looked up in the loaded library
    _errmsg_fn = None    # "hr_X_errmsg"
    _name = None         # "X" in "the X is closed"
    _article = "a"       # "a X cannot be copied or pickled"
    _pickle_name = None  # the X of that message; None: the type's name
    _errmsg_null = None  # errmsg when the library returns NULL

    _handle = None

    def close(self):
        """Free the handle; calling it again does nothing."""
        handle, self._handle = self._handle, None
        if handle is not None:
            self._free(handle)
            self._env._disown(self)

    def _free(self, handle):
        getattr(_lib.lib, self._free_fn)(handle)

    @property
    def closed(self):
        """True after :meth:`close`."""
        return self._handle is None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __del__(self):
        if getattr(self, "_handle", None) is not None:
            self.close()

    def __reduce_ex__(self, protocol):
        # A copy would share (and free twice) the C handle.
        name = self._pickle_name or type(self).__name__
        raise TypeError(f"{self._article} {name} cannot be copied or "
                        "pickled")

    @property
    def _ptr(self):
        if self.closed:
            raise HeliosReplError(Status.ECLOSED,
                                  f"the {self._name} is closed")
        return self._handle

    @property
    def errmsg(self):
        """The message of the last failed call, or "". The library does
        not clear it on success: read it only right after a failure."""
        message = _lib.decode(getattr(_lib.lib, self._errmsg_fn)(self._ptr))
        return self._errmsg_null if message is None else message

    def _set(self, fn, *args):
        """Call an option setter; raise with errmsg if it fails."""
        status = fn(self._ptr, *args)
        if status != Status.OK:
            raise HeliosReplError(status, self.errmsg)
        return self
