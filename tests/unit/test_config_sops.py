"""config/sops.py without the sops binary: recognising a SOPS file, and saying so when sops is missing.
The real sops and age keys are in tests/e2e/test_sops_config.py."""

from __future__ import annotations

import pytest

from pybruin.config import sops
from pybruin.errors import BruinError


@pytest.mark.parametrize(
    ("document", "encrypted"),
    [
        ({"environments": {}, "sops": {"mac": "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]", "age": []}}, True),
        ({"environments": {}, "sops": "not metadata"}, False),
        ({"environments": {}}, False),
        ("text", False),
        (None, False),
    ],
)
def test_a_sops_file_is_known_by_its_metadata(document: object, encrypted: bool) -> None:
    assert sops.is_encrypted(document) is encrypted


def test_encrypted_values_are_recognised() -> None:
    assert sops.ENCRYPTED_VALUE.fullmatch("ENC[AES256_GCM,data:c+5y,iv:cSCz=,tag:bg07==,type:str]")
    assert not sops.ENCRYPTED_VALUE.fullmatch("my-ENC[AES256_GCM,data:x]-password")


def test_without_sops_one_line_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sops, "_sops_binary", lambda: None)
    with pytest.raises(BruinError) as caught:
        sops.decrypt("secret-plaintext: x\nsops: {mac: y}\n", ".bruin.yml", {})
    assert str(caught.value) == (
        ".bruin.yml: cannot decrypt the SOPS-encrypted config: sops is not installed (pip install 'pybruin[sops]')"
    )
