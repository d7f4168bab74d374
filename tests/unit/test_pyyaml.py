"""pybruin.pyyaml: PyYAML imported with its reader's character check compiled from the listed complement."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import pybruin
from pybruin.pyyaml import NON_PRINTABLE, NON_PRINTABLE_LISTED, yaml

EVERY_CODE_POINT = "".join(map(chr, range(sys.maxunicode + 1)))


def fresh_interpreter(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_the_listed_set_matches_exactly_the_characters_pyyaml_refuses() -> None:
    # `re.UNICODE` is implied for text patterns: the flag only keeps this compile out of the seeded cache entry.
    pyyaml_own = re.compile(NON_PRINTABLE, re.UNICODE)
    listed = re.compile(NON_PRINTABLE_LISTED)
    refused = [match.start() for match in pyyaml_own.finditer(EVERY_CODE_POINT)]
    assert refused == [match.start() for match in listed.finditer(EVERY_CODE_POINT)]
    assert {0x00, 0x1F, 0x7F, 0x9F, 0xD800, 0xDFFF, 0xFFFE, 0xFFFF} <= set(refused)
    assert not {0x09, 0x0A, 0x0D, 0x20, 0x85, 0xA0, 0xFFFD, 0x10000, sys.maxunicode} & set(refused)


def test_the_pattern_is_the_one_the_installed_pyyaml_compiles() -> None:
    """A PyYAML that words its check differently would leave the seed unused (slower, never wrong): this says so."""
    written = fresh_interpreter("import yaml; print(ascii(yaml.reader.Reader.NON_PRINTABLE.pattern))")
    assert written == ascii(NON_PRINTABLE)


def test_pyyaml_imported_through_pybruin_uses_the_listed_set() -> None:
    seeded = fresh_interpreter(
        "from pybruin.pyyaml import yaml; print(ascii(yaml.reader.Reader.NON_PRINTABLE.pattern))"
    )
    assert seeded == ascii(NON_PRINTABLE_LISTED)


@pytest.mark.parametrize("character", ["\x01", "\x7f", "\x9f", "\ufffe"])
def test_the_pure_python_reader_still_refuses_what_yaml_does_not_allow(character: str) -> None:
    with pytest.raises(yaml.reader.ReaderError, match="special characters are not allowed"):
        yaml.load(f"key: a{character}b\n", Loader=yaml.SafeLoader)
    allowed = "a\tb\u00e9\ufffd\U0001f600"
    assert yaml.load(f"key: '{allowed}'\n", Loader=yaml.SafeLoader) == {"key": allowed}


def test_pybruin_imports_pyyaml_only_through_this_module() -> None:
    package = Path(pybruin.__file__).parent
    imports = re.compile(r"^\s*(import yaml\b|from yaml\b)", re.M)
    users = [str(path.relative_to(package)) for path in package.rglob("*.py") if imports.search(path.read_text())]
    assert users == ["pyyaml.py"]
