import subprocess
from pathlib import Path

import pytest

from pybruin.config.project import find_project_root
from pybruin.errors import BruinError


def git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_git_directory_is_found_from_a_nested_folder_and_a_file(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    nested = repo / "pipelines" / "p1" / "assets"
    nested.mkdir(parents=True)
    git("init", "-q", cwd=repo)
    asset = nested / "a.py"
    asset.write_text("print(1)\n")

    assert find_project_root(nested) == repo
    assert find_project_root(asset) == repo
    assert find_project_root(repo) == repo


def test_git_file_of_a_worktree_marks_its_own_root(tmp_path: Path) -> None:
    main = tmp_path / "main"
    main.mkdir()
    git("init", "-q", cwd=main)
    git("commit", "-q", "--allow-empty", "-m", "init", cwd=main)
    worktree = tmp_path / "wt"
    git("worktree", "add", "-q", str(worktree), cwd=main)
    assert (worktree / ".git").is_file()
    (worktree / "sub").mkdir()

    assert find_project_root(worktree / "sub") == worktree


def test_git_root_wins_over_a_nearer_bruin_yml(tmp_path: Path) -> None:
    git("init", "-q", cwd=tmp_path)
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / ".bruin.yml").write_text("environments: {}\n")

    assert find_project_root(inner) == tmp_path


def test_outside_git_the_nearest_bruin_yml_folder_is_the_root(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    inner = outer / "inner"
    deep = inner / "a" / "b"
    deep.mkdir(parents=True)
    (outer / ".bruin.yml").write_text("")
    (inner / ".bruin.yml").write_text("")

    assert find_project_root(deep) == inner
    assert find_project_root(outer / "missing-file.py") == outer


def test_no_git_and_no_bruin_yml_is_an_error_naming_the_path(tmp_path: Path) -> None:
    lonely = tmp_path / "lonely"
    lonely.mkdir()

    with pytest.raises(BruinError) as caught:
        find_project_root(lonely)

    assert str(caught.value) == f"no git repository or .bruin.yml found above '{lonely}'"
