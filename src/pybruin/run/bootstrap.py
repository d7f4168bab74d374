"""How a Python asset starts: not dumpable, its secrets never in its initial environment, then its file run
exactly as `python <file>` would run it.

Processes of the same user may read a dumpable process's `/proc/<pid>/environ`, so a sibling asset could read
another's secrets there. Exec makes every process dumpable again, so the asset itself must give that up, before
any of its code runs: `python -c BOOTSTRAP <file>` calls `prctl(PR_SET_DUMPABLE, 0)` (through `_ctypes`, which
costs a fraction of importing `ctypes`), reads its secret variables from an inherited pipe into `os.environ`
(so they were never in the environment block that `/proc/<pid>/environ` shows, not even before the `prctl`),
and runs the file as `__main__`: `sys.argv`, `sys.path[0]`, `__file__` and tracebacks (the bootstrap's own
frame left out) are those of `python <file>`. Processes the asset starts inherit the variables as usual.

Root, or a process with `CAP_SYS_PTRACE`, can still read a non-dumpable process's memory and environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: The variable that tells the bootstrap which inherited descriptor holds the secret variables.
SECRETS_FD_VARIABLE = "PYBRUIN_SECRETS_FD"

BOOTSTRAP = """\
import sys, os
if sys.platform == "linux":
    import _ctypes
    class _Call(_ctypes.CFuncPtr):
        _flags_ = _ctypes.FUNCFLAG_CDECL
    class _Libc:
        _handle = _ctypes.dlopen(None)
    if _Call(("prctl", _Libc()))(4, 0, 0, 0, 0) != 0:
        raise SystemExit("pybruin: cannot make the asset process non-dumpable")
    del _Call, _Libc, _ctypes
if "PYBRUIN_SECRETS_FD" in os.environ:
    with open(int(os.environ.pop("PYBRUIN_SECRETS_FD")), "rb") as _pipe:
        _fields = _pipe.read().split(b"\\0")
    for _name, _value in zip(_fields[0:-1:2], _fields[1:-1:2]):
        os.environ[os.fsdecode(_name)] = os.fsdecode(_value)
    del _pipe, _fields
    if "_name" in globals():
        del _name, _value
def _excepthook(kind, value, traceback, _hook=sys.excepthook):
    if traceback is not None and traceback.tb_frame.f_code.co_filename == "<string>":
        traceback = traceback.tb_next
        if isinstance(value, BaseException):
            value.__traceback__ = traceback
    _hook(kind, value, traceback)
def _as_main(path):
    main = sys.modules["__main__"].__dict__
    # importlib.machinery.SourceFileLoader, without importing importlib.machinery
    loader = sys.modules["_frozen_importlib_external"].SourceFileLoader("__main__", path)
    builtins = main["__builtins__"]
    main.clear()
    main.update(__name__="__main__", __doc__=None, __package__=None, __spec__=None, __cached__=None,
                __file__=path, __builtins__=builtins, __loader__=loader)
    return main
sys.excepthook = _excepthook
sys.argv = sys.argv[1:]
sys.path[0] = os.path.dirname(sys.argv[0])
with open(sys.argv[0], "rb") as _source:
    _code = compile(_source.read(), sys.argv[0], "exec")
exec(_code, _as_main(sys.argv[0]))
"""


def python_command(interpreter: str, file: str) -> list[str]:
    """The command line that runs a Python asset's file through the bootstrap."""
    return [interpreter, "-c", BOOTSTRAP, file]


def secrets_payload(variables: Mapping[str, str]) -> bytes:
    """The variables as the bootstrap reads them from its pipe: name and value, each ended by a NUL byte."""
    return b"".join(os.fsencode(name) + b"\0" + os.fsencode(value) + b"\0" for name, value in variables.items())
