"""Sibling assets cannot read each other's secrets: a Python asset makes itself non-dumpable before its code
runs, and its secrets never are in the environment block `/proc/<pid>/environ` shows — yet it runs exactly as
`python <file>` would (`__main__`, `sys.argv`, `sys.path[0]`, tracebacks, exit codes).
"""

from __future__ import annotations

import hashlib
import uuid

import pytest

DUMPABLE = (
    "import _ctypes\n"
    "class _Call(_ctypes.CFuncPtr):\n    _flags_ = _ctypes.FUNCFLAG_CDECL\n"
    "class _Libc:\n    _handle = _ctypes.dlopen(None)\n"
    "def dumpable():\n    return _Call(('prctl', _Libc()))(3, 0, 0, 0, 0)\n"
)

HOLDER = (
    '"""@bruin\nname: holder\nsecrets: [{key: K, inject_as: HELD}]\n@bruin"""\n'
    "import os, pathlib, subprocess, sys, time\n"
    + DUMPABLE
    + "pathlib.Path('holder.dumpable').write_text(str(dumpable()))\n"
    "child = subprocess.run([sys.executable, '-c', 'import os; print(os.environ[\"HELD\"] == os.environ[\"EXPECT\"])'],"
    " capture_output=True, text=True, env={**os.environ, 'EXPECT': os.environ['HELD']})\n"
    "pathlib.Path('holder.child').write_text(child.stdout.strip())\n"
    "pathlib.Path('holder.pid').write_text(str(os.getpid()))\n"
    "for _ in range(1200):\n    if pathlib.Path('reader.done').exists():\n        break\n    time.sleep(0.05)\n"
)
READER = (
    '"""@bruin\nname: reader\n@bruin"""\n'
    "import hashlib, os, pathlib, time\n"
    "for _ in range(1200):\n    if pathlib.Path('holder.pid').exists():\n        break\n    time.sleep(0.05)\n"
    "environ = pathlib.Path(f\"/proc/{pathlib.Path('holder.pid').read_text()}/environ\").read_bytes()\n"
    "digests = {hashlib.sha256(item.partition(b'=')[2]).hexdigest() for item in environ.split(b'\\0')}\n"
    "pathlib.Path('reader.found').write_text(str(os.environ['EXPECT_SHA'] in digests))\n"
    "pathlib.Path('reader.done').write_text('1')\n"
)


@pytest.mark.parametrize("allow_debugging", [False, True], ids=["default", "--allow-debugging"])
def test_a_sibling_cannot_read_an_assets_secret_from_proc(project, allow_debugging):
    secret = f"held-{uuid.uuid4().hex}"
    project.write(".bruin.yml", f"environments:\n  default:\n    connections:\n      generic:\n"
                  f"        - {{name: K, value: {secret}}}\n")  # fmt: skip
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/holder.py", HOLDER)
    project.write("p/assets/reader.py", READER)
    args = ["run", "--workers", "2", *(["--allow-debugging"] if allow_debugging else []), "p"]
    result = project.bruin(*args, env={"EXPECT_SHA": hashlib.sha256(secret.encode()).hexdigest()})
    assert result.returncode == 0, result.output
    read = lambda name: (project.root / name).read_text()  # noqa: E731
    assert read("holder.child") == "True", "what the asset starts inherits its secrets"
    if allow_debugging:
        assert (read("holder.dumpable"), read("reader.found")) == ("1", "True")
    else:
        assert (read("holder.dumpable"), read("reader.found")) == ("0", "False")
    assert secret not in result.output


MAIN = '''"""@bruin
name: main_like
@bruin"""
import os, pickle, sys

class Thing:
    pass

assert __name__ == "__main__"
assert sys.argv == [__file__] and os.path.isabs(__file__) and __file__.endswith("main_like.py")
assert sys.path[0] == os.path.dirname(__file__)
assert pickle.loads(pickle.dumps(Thing())).__class__ is Thing
assert "PYBRUIN_SECRETS_FD" not in os.environ
assert not [name for name in globals() if name.startswith("_") and not name.startswith("__")], globals()
import helper_next_to_it
if __name__ == "__main__":
    print("main block ran")
    raise ValueError("boom from the asset")
'''


def test_a_python_asset_runs_exactly_as_python_file(project):
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/sub/main_like.py", MAIN)
    project.write("p/assets/sub/helper_next_to_it.py", "VALUE = 1\n")
    project.write("p/assets/exits.py", '"""@bruin\nname: exits\n@bruin"""\nimport sys\nsys.exit(3)\n')
    project.write("p/assets/broken.py", '"""@bruin\nname: broken\n@bruin"""\ndef f(:\n')
    result = project.bruin("run", "p")
    assert result.returncode == 1
    out = result.stdout
    assert "[main_like] >> main block ran" in out
    path = project.root / "p" / "assets" / "sub" / "main_like.py"
    assert '[main_like] >> Traceback (most recent call last):\n' in out.replace("\r", "")
    assert f'File "{path}", line 18, in <module>' in out
    assert "<string>" not in out, "the bootstrap's frame is not shown"
    assert "ValueError: boom from the asset" in out
    assert "Failed: exits" in out and "exit status 3" in out
    assert f'File "{project.root / "p" / "assets" / "broken.py"}", line 4' in out and "SyntaxError" in out


def test_compile_warnings_come_from_the_asset_as_python_file_shows_them(project):
    """pybruin compiles plain assets for their processes; an asset whose compiling warns compiles itself."""
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/warns.py", '"""@bruin\nname: warns\n@bruin"""\nassert (1, "always")\nprint("ran")\n')
    project.write("p/assets/plain.py", '"""@bruin\nname: plain\n@bruin"""\nprint("plain ran", __file__)\n')
    result = project.bruin("run", "p")
    assert result.returncode == 0, result.output
    path = project.root / "p" / "assets" / "warns.py"
    assert f"[warns] >> {path}:4: SyntaxWarning: assertion is always true" in result.stdout
    assert "[warns] >> ran" in result.stdout and "SyntaxWarning" not in result.stderr
    assert f"[plain] >> plain ran {project.root / 'p' / 'assets' / 'plain.py'}" in result.stdout
