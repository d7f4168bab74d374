"""The Arrow pipe between a materializing asset and the run: `arrow_child.py` in a real interpreter process on one
side, `ArrowReceiver` on the other; what crosses is the data only (no metadata, so no secret)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pyarrow as pa
import pytest

from pybruin.errors import BruinError
from pybruin.pipeline.model import Asset
from pybruin.run.materialize import FD_VARIABLE, ArrowReceiver, child_script

CANARY = "canary-arrow-metadata-4f1d2c"


def run_child(tmp_path: Path, body: str) -> tuple[subprocess.CompletedProcess[str], bytes]:
    """Run `body` as a materializing asset; its exit, and the raw bytes it wrote into the pipe."""
    file = tmp_path / "assets" / "asset.py"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(textwrap.dedent(body))
    asset = Asset(name="a", type="python", definition_file=file, executable_file=file)
    read_fd, write_fd = os.pipe()
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: os.read(read_fd, 65536), b"")))
    reader.start()
    env = {**os.environ, FD_VARIABLE: str(write_fd)}
    done = subprocess.run([sys.executable, *child_script(asset, tmp_path)], env=env, pass_fds=(write_fd,),
                          capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    os.close(write_fd)
    reader.join()
    os.close(read_fd)
    return done, b"".join(chunks)


def test_metadata_never_crosses_the_pipe(tmp_path: Path) -> None:
    done, sent = run_child(tmp_path, f"""
        import pyarrow as pa
        def materialize():
            field = pa.field("id", pa.int64(), metadata={{"token": "{CANARY}"}})
            return pa.table({{"id": [1, 2]}}, schema=pa.schema([field], metadata={{"token": "{CANARY}"}}))
    """)
    assert done.returncode == 0, done.stderr
    assert CANARY.encode() not in sent
    table = pa.ipc.open_stream(sent).read_all()
    assert table.column("id").to_pylist() == [1, 2]
    assert table.schema.metadata is None and table.schema.field("id").metadata is None


def test_pandas_index_metadata_is_dropped_and_none_sends_nothing(tmp_path: Path) -> None:
    done, sent = run_child(tmp_path, "import pandas as pd\ndef materialize():\n    return pd.DataFrame({'x': [1]})\n")
    assert done.returncode == 0, done.stderr
    assert b"pandas" not in sent
    done, sent = run_child(tmp_path, "def materialize():\n    return None\n")
    assert (done.returncode, sent) == (0, b"")


def test_the_descriptor_is_not_inherited_by_what_the_asset_starts(tmp_path: Path) -> None:
    done, _ = run_child(tmp_path, """
        import os, subprocess, sys
        print("variable" if "PYBRUIN_ARROW_FD" in os.environ else "no variable")
        def materialize():
            return None
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "no variable"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("def materialize():\n    return 'text'\n", "Unsupported return type: <class 'str'>"),
        ("import pyarrow as pa\ndef materialize():\n    yield pa.table({'a': [1]})\n    yield pa.table({'b': [1]})\n",
         "All yielded pyarrow Tables must have the same schema."),
        ("x = 1\n", "has no materialize() function"),
    ],
)  # fmt: skip
def test_what_cannot_be_sent_is_one_line(tmp_path: Path, body: str, message: str) -> None:
    done, _ = run_child(tmp_path, body)
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr


def write_to(receiver: ArrowReceiver, data: bytes) -> None:
    with open(os.dup(receiver.write_fd), "wb") as pipe:
        pipe.write(data)
    receiver.finish()


def test_receiver_reads_a_stream_larger_than_the_pipe() -> None:
    table = pa.table({"id": list(range(200_000)), "text": ["x" * 20] * 200_000})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    receiver = ArrowReceiver()
    write_to(receiver, sink.getvalue().to_pybytes())
    assert receiver.result().equals(table)


def test_receiver_nothing_is_none_and_garbage_is_an_error() -> None:
    receiver = ArrowReceiver()
    receiver.finish()
    assert receiver.result() is None
    receiver = ArrowReceiver()
    write_to(receiver, b"not arrow at all" * 10_000)
    with pytest.raises(BruinError, match="could not be read"):
        receiver.result()
