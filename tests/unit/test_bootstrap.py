"""The Python bootstrap's pipe: secrets and, for the same interpreter, the asset already compiled by pybruin."""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from pybruin.run import bootstrap
from pybruin.run.bootstrap import SECRETS_FD_VARIABLE, bootstrap_payload, precompiled, python_launch

ASSET = 'import os\nprint("ran", os.environ["TOKEN"], __file__.endswith("asset.py"))\n'
RAISES = 'import os\ndef f():\n    raise ValueError("boom " + os.environ["TOKEN"][:2])\nf()\n'


def start(argv: list[str], *writes: bytes, pause: float = 0.0) -> subprocess.CompletedProcess[str]:
    """A bootstrap command line as the runner starts it, its pipe receiving `writes` (`pause` apart)."""
    reader, writer = os.pipe()
    try:
        process = subprocess.Popen(
            argv,
            env={**os.environ, SECRETS_FD_VARIABLE: str(reader)},
            pass_fds=(reader,),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    finally:
        os.close(reader)
    with open(writer, "wb", buffering=0) as pipe:
        for index, chunk in enumerate(writes):
            if index:
                time.sleep(pause)
            pipe.write(chunk)
    out, _ = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, out)


def run_bootstrap(
    file: Path, variables: dict[str, str], interpreter: str = sys.executable
) -> subprocess.CompletedProcess[str]:
    return start(*python_launch(interpreter, [str(file)], variables))


@pytest.fixture
def other_interpreter(tmp_path: Path) -> str:
    """Python under another name: pybruin cannot tell it runs code compiled here, so it sends none."""
    link = tmp_path / "bin" / "python3"
    link.parent.mkdir()
    link.symlink_to(sys.executable)
    return str(link)


def test_precompiled_code_is_what_compile_makes(tmp_path: Path) -> None:
    file = tmp_path / "asset.py"
    file.write_text(ASSET)
    code = marshal.loads(precompiled(str(file)) or b"")
    assert code == compile(ASSET, str(file), "exec", dont_inherit=True)
    assert code.co_filename == str(file)


def test_the_bootstrap_runs_the_code_it_receives(tmp_path: Path) -> None:
    file = tmp_path / "asset.py"
    file.write_text(ASSET)
    argv, pipe = python_launch(sys.executable, [str(file)], {"TOKEN": "t-1"})
    file.write_text('print("compiled by the asset process")\n')  # what it would run had it compiled the file
    done = start(argv, pipe)
    assert (done.returncode, done.stdout) == (0, "ran t-1 True\n")


def test_pybruins_interpreter_gets_the_bootstrap_compiled_through_the_pipe(tmp_path: Path) -> None:
    file = tmp_path / "asset.py"
    file.write_text(ASSET)
    argv, pipe = python_launch(sys.executable, [str(file), "--flag"], {"TOKEN": "t-secret-4"})
    assert argv[:2] == [sys.executable, "-c"] and argv[3:] == [str(file), "--flag"]
    assert "prctl" not in argv[2] and len(argv[2]) < 400, "only the stage is on the command line"
    assert all("t-secret-4" not in arg for arg in argv)
    tail = bootstrap_payload({"TOKEN": "t-secret-4"}, precompiled(str(file)))
    assert pipe.endswith(tail)
    code = marshal.loads(pipe[: len(pipe) - len(tail)])
    assert code == compile(bootstrap.BOOTSTRAP, "<string>", "exec", dont_inherit=True)


def test_the_stage_waits_for_the_whole_bootstrap_and_reads_nothing_after_it(tmp_path: Path) -> None:
    file = tmp_path / "asset.py"
    file.write_text(ASSET)
    argv, pipe = python_launch(sys.executable, [str(file)], {"TOKEN": "t-5"})
    size = len(pipe) - len(bootstrap_payload({"TOKEN": "t-5"}, precompiled(str(file))))
    # the bootstrap arrives in two parts, the secrets later: the stage's reads must stop at the bootstrap's end
    done = start(argv, pipe[:100], pipe[100:size], pipe[size:], pause=0.2)
    assert (done.returncode, done.stdout) == (0, "ran t-5 True\n")
    done = start(argv, pipe[: size - 1])
    assert (done.returncode, done.stdout) == (1, "pybruin: the asset process lost its pipe\n")


def test_another_interpreter_compiles_the_file_itself(tmp_path: Path, other_interpreter: str) -> None:
    file = tmp_path / "asset.py"
    file.write_text(ASSET)
    argv, pipe = python_launch(sys.executable, [str(file)], {"TOKEN": "t-2"})
    tail = bootstrap_payload({"TOKEN": "t-2"}, precompiled(str(file)))
    file.write_text('import os\nprint("compiled here", os.environ["TOKEN"])\n')
    head, _, rest = tail.partition(b"\n")
    version, optimize, size = head.split()
    other = b"%d %s %s\n" % (int(version) + 1, optimize, size) + rest
    done = start(argv, pipe[: len(pipe) - len(tail)] + other)
    assert (done.returncode, done.stdout) == (0, "compiled here t-2\n")
    argv, pipe = python_launch(other_interpreter, [str(file)], {"TOKEN": "t-3"})
    assert argv == [other_interpreter, "-c", bootstrap.BOOTSTRAP, str(file)]
    assert pipe == bootstrap_payload({"TOKEN": "t-3"})
    done = run_bootstrap(file, {"TOKEN": "t-3"}, other_interpreter)
    assert (done.returncode, done.stdout) == (0, "compiled here t-3\n")


@pytest.mark.parametrize("interpreter", ["ours", "another"])
def test_tracebacks_show_the_asset_and_not_the_bootstrap(
    tmp_path: Path, other_interpreter: str, interpreter: str
) -> None:
    file = tmp_path / "asset.py"
    file.write_text(RAISES)
    done = run_bootstrap(file, {"TOKEN": "t-6"}, sys.executable if interpreter == "ours" else other_interpreter)
    assert done.returncode == 1
    assert done.stdout.startswith("Traceback (most recent call last):\n")
    assert f'File "{file}", line 4, in <module>' in done.stdout and "ValueError: boom t-" in done.stdout
    assert "<string>" not in done.stdout


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
