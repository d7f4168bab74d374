"""Finding the project root, the folder every relative project path starts from."""

from __future__ import annotations

import os
from pathlib import Path

from pybruin.errors import BruinError


def find_project_root(start: Path) -> Path:
    """Return the git work tree holding ``start``, or else the nearest folder with a ``.bruin.yml``.

    A ``.git`` *file* counts as well as a directory, so worktrees and submodules are roots of their
    own. The ``.bruin.yml`` fallback lets a project run outside git, which upstream Bruin refuses.
    """
    start = Path(os.path.abspath(start))
    folder = start if start.is_dir() else start.parent
    candidates = [folder, *folder.parents]
    for marker in (".git", ".bruin.yml"):
        for candidate in candidates:
            if os.path.lexists(candidate / marker):
                return candidate
    raise BruinError(f"no git repository or .bruin.yml found above '{start}'")
