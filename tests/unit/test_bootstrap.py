"""The Python bootstrap's pipe: secrets and, for the same interpreter, the asset already compiled by pybruin."""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from pybruin.run import bootstrap
from pybruin.run.bootstrap import SECRETS_FD_VARIABLE, bootstrap_payload, precompiled, python_command

ASSET = 'import os\nprint("ran", os.environ["TOKEN"], __file__.endswith("asset.py"))\n'


def run_bootstrap(file: Path, payload: bytes) -> subprocess.CompletedProcess[str]:
    """The bootstrap as the runner starts it, reading `payload` from its pipe."""
    reader, writer = os.pipe()
    try:
        process = subprocess.Popen(
            python_command(sys.executable, str(file)),
            env={**os.environ, SECRETS_FD_VARIABLE: str(reader)},
            pass_fds=(reader,),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    finally:
        os.close(reader)
    with open(writer, "wb") as pipe:
        pipe.write(payload)
    out, _ = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, out)


def test_precompiled_code_is_what_compile_makes(tmp_path: Path) -> None:
    file = tmp_path / "asset.py"
    file.write_text(ASSET)
    code = marshal.loads(precompiled(str(file)) or b"")
    assert code == compile(ASSET, str(file), "exec", dont_inherit=True)
    assert code.co_filename == str(file)


def test_the_bootstrap_runs_the_code_it_receives(tmp_path: Path) -> None:
    file = tmp_path / "asset.py"
    file.write_text(ASSET)
    compiled = precompiled(str(file))
    file.write_text('print("compiled by the asset process")\n')  # what it would run had it compiled the file
    done = run_bootstrap(file, bootstrap_payload({"TOKEN": "t-1"}, compiled))
    assert (done.returncode, done.stdout) == (0, "ran t-1 True\n")


def test_another_interpreter_compiles_the_file_itself(tmp_path: Path) -> None:
    file = tmp_path / "asset.py"
    file.write_text(ASSET)
    payload = bootstrap_payload({"TOKEN": "t-2"}, precompiled(str(file)))
    file.write_text('import os\nprint("compiled here", os.environ["TOKEN"])\n')
    head, _, rest = payload.partition(b"\n")
    version, optimize, size = head.split()
    other = b"%d %s %s\n" % (int(version) + 1, optimize, size) + rest
    done = run_bootstrap(file, other)
    assert (done.returncode, done.stdout) == (0, "compiled here t-2\n")
    done = run_bootstrap(file, bootstrap_payload({"TOKEN": "t-3"}))
    assert (done.returncode, done.stdout) == (0, "compiled here t-3\n")


@pytest.mark.parametrize(
    "source",
    [
        'PATTERN = "\\d+"\n',  # invalid escape sequence: a DeprecationWarning while compiling
        "assert (1, 'always true')\n",  # a SyntaxWarning
        'if len("x") is 1:\n    pass\n',  # "is" with a literal
        "def f(:\n",
        "x = 1\0\n",
    ],
    ids=["deprecation-warning", "syntax-warning", "is-literal", "syntax-error", "null-byte"],
)
def test_what_warns_or_fails_to_compile_is_left_to_the_asset_process(tmp_path: Path, source: str) -> None:
    file = tmp_path / "asset.py"
    file.write_bytes(source.encode())
    before = list(warnings.filters)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        assert precompiled(str(file)) is None
    assert shown == [], "nothing is shown by pybruin: the asset process shows it as python <file> does"
    assert warnings.filters == before


def test_other_warnings_go_on_while_a_file_is_compiled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "asset.py"
    file.write_text("x = 1\n")

    def compile_while_warning(*args: object, **kwargs: object) -> object:  # another thread warns meanwhile
        warnings.warn("a warning of pybruin's own", UserWarning, stacklevel=1)
        return compile(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(bootstrap, "compile", compile_while_warning, raising=False)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        assert precompiled(str(file)) is not None
    assert [str(warning.message) for warning in shown] == ["a warning of pybruin's own"]


def test_an_unreadable_file_is_left_to_the_asset_process(tmp_path: Path) -> None:
    assert precompiled(str(tmp_path / "missing.py")) is None
