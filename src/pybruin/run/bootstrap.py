"""How a Python asset starts: not dumpable, its secrets never in its initial environment, then its file run
exactly as `python <file>` would run it.

Processes of the same user may read a dumpable process's `/proc/<pid>/environ`, so a sibling asset could read
another's secrets there. Exec makes every process dumpable again, so the asset itself must give that up, before
any of its code runs: `python -c BOOTSTRAP <file>` calls `prctl(PR_SET_DUMPABLE, 0)` (through `_ctypes`, which
costs a fraction of importing `ctypes`), reads its secret variables from an inherited pipe into `os.environ`
(so they were never in the environment block that `/proc/<pid>/environ` shows, not even before the `prctl`),
and runs the file as `__main__`: `sys.argv`, `sys.path[0]`, `__file__` and tracebacks (the bootstrap's own
frames left out) are those of `python <file>`. Processes the asset starts inherit the variables as usual.

For pybruin's own interpreter the pipe also brings the code, compiled by pybruin (`python_launch`): the asset's
file (`precompiled`: a process's first `compile()` builds Python's AST classes, which costs an asset process a
quarter of a bare interpreter's start, while pybruin has them built), and before it the bootstrap itself, so that
the command line holds only `STAGE`, which reads exactly the bootstrap's bytes from the pipe and runs them (compiling
the bootstrap's text cost each asset process 3.5M instructions, 9% of a bare interpreter's start). The secrets stay
in the pipe until the bootstrap, non-dumpable by then, reads them. Another interpreter gets `-c BOOTSTRAP` and
compiles everything itself.

Root, or a process with `CAP_SYS_PTRACE`, can still read a non-dumpable process's memory and environment.
"""

from __future__ import annotations

import functools
import marshal
import os
import sys
import warnings
from collections.abc import Mapping, Sequence

#: The variable that tells the bootstrap which inherited descriptor holds the secret variables.
SECRETS_FD_VARIABLE = "PYBRUIN_SECRETS_FD"

#: `prctl(PR_SET_DUMPABLE, 0)` through `_ctypes`, on Linux (elsewhere it does nothing): `_sealed` says whether
#: it held. The bootstrap runs it first; `processes.seal_this_process` runs the same text in pybruin itself.
NON_DUMPABLE = """\
import sys
_sealed = sys.platform != "linux"
if not _sealed:
    import _ctypes
    class _Call(_ctypes.CFuncPtr):
        _flags_ = _ctypes.FUNCFLAG_CDECL
    class _Libc:
        _handle = _ctypes.dlopen(None)
    _sealed = _Call(("prctl", _Libc()))(4, 0, 0, 0, 0) == 0
    del _Call, _Libc, _ctypes
"""

BOOTSTRAP = NON_DUMPABLE + """\
import os
if not _sealed:
    raise SystemExit("pybruin: cannot make the asset process non-dumpable")
del _sealed
_compiled = b""
if "PYBRUIN_SECRETS_FD" in os.environ:
    with open(int(os.environ.pop("PYBRUIN_SECRETS_FD")), "rb") as _pipe:
        _head, _, _fields = _pipe.read().partition(b"\\n")
    _version, _optimize, _size = map(int, _head.split())
    if (_version, _optimize) == (sys.hexversion, sys.flags.optimize):
        _compiled = _fields[:_size]
    _fields = _fields[_size:].split(b"\\0")
    for _name, _value in zip(_fields[0:-1:2], _fields[1:-1:2]):
        os.environ[os.fsdecode(_name)] = os.fsdecode(_value)
    del _pipe, _fields, _head, _version, _optimize, _size
    if "_name" in globals():
        del _name, _value
def _excepthook(kind, value, traceback, _hook=sys.excepthook):
    shown = traceback
    while shown is not None and shown.tb_frame.f_code.co_filename == "<string>":
        shown = shown.tb_next
    if shown is not traceback and isinstance(value, BaseException):
        value.__traceback__ = shown
    _hook(kind, value, shown)
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
if _compiled:
    import marshal
    _code = marshal.loads(_compiled)
else:
    with open(sys.argv[0], "rb") as _source:
        _code = compile(_source.read(), sys.argv[0], "exec")
exec(_code, _as_main(sys.argv[0]))
"""


#: The command line's code for pybruin's own interpreter: read the compiled bootstrap, `{size}` bytes, from the
#: pipe (never a byte more: what follows is secrets, read once the process is not dumpable) and run it. Its frame
#: is `<string>` like the bootstrap's, and left out of tracebacks with it.
STAGE = """\
import marshal, os
_fd, _boot = int(os.environ["PYBRUIN_SECRETS_FD"]), b""
while len(_boot) < {size}:
    _chunk = os.read(_fd, {size} - len(_boot))
    if not _chunk:
        raise SystemExit("pybruin: the asset process lost its pipe")
    _boot += _chunk
del _fd, _chunk
exec(marshal.loads(_boot))
"""


@functools.cache
def _staged() -> tuple[str, bytes]:
    """`STAGE` for this interpreter's compiled bootstrap, and that code, marshalled (compiled once per run)."""
    code = marshal.dumps(compile(BOOTSTRAP, "<string>", "exec", dont_inherit=True))
    return STAGE.format(size=len(code)), code


def python_launch(interpreter: str, script: Sequence[str], variables: Mapping[str, str]) -> tuple[list[str], bytes]:
    """How a Python asset's `script` (its file and arguments) starts through the bootstrap: the command line, and
    what to write to the pipe the bootstrap reads (`SECRETS_FD_VARIABLE`), `variables` at its end."""
    file = script[0]
    if interpreter != sys.executable:
        return [interpreter, "-c", BOOTSTRAP, *script], bootstrap_payload(variables)
    stage, code = _staged()
    return [interpreter, "-c", stage, *script], code + bootstrap_payload(variables, precompiled(file))


def bootstrap_payload(variables: Mapping[str, str], compiled: bytes | None = None) -> bytes:
    """What the bootstrap reads from its pipe (after `STAGE`'s code, for pybruin's interpreter): a line with this
    interpreter's version, its optimization level and the size of `compiled` (the asset's code, from `precompiled`,
    run only by the same interpreter at the same level), that code, then the variables: name and value, each ended
    by a NUL byte."""
    code = compiled or b""
    head = b"%d %d %d\n" % (sys.hexversion, sys.flags.optimize, len(code))
    secrets = b"".join(os.fsencode(name) + b"\0" + os.fsencode(value) + b"\0" for name, value in variables.items())
    return head + code + secrets


def precompiled(path: str) -> bytes | None:
    """The file at `path` compiled as the bootstrap compiles it, marshalled; None leaves compiling to the bootstrap.

    Compiling here must not change what the asset shows, so a file that cannot be read, does not compile or whose
    compiling warns (an invalid escape sequence, `is` with a literal) is left to the asset process, which reports
    it as `python <file>` does. Compile-time warnings carry the file's name (without `.py`) as their module: a
    filter turning warnings of that module alone into errors notices them without touching any other warning of
    pybruin's threads. (Python reads the filter list at every warning, so the entry needs no `_filters_mutated()`,
    which would reset every module's once-only registry.)
    """
    try:
        with open(path, "rb") as file:
            source = file.read()
    except OSError:
        return None
    only_this_file = ("error", None, Warning, path.removesuffix(".py"), 0)
    filters = warnings.filters  # removed from this list, even if a `catch_warnings` elsewhere swaps it meanwhile
    filters.insert(0, only_this_file)
    try:
        code = compile(source, path, "exec", dont_inherit=True)
    except Exception:  # the asset process compiles it again and reports the error as Python does
        return None
    finally:
        filters.remove(only_this_file)
    return marshal.dumps(code)
