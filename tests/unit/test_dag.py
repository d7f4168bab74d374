"""The asset graph: stable topological order, cycles named in one line, downstream sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybruin.errors import BruinError
from pybruin.pipeline import (
    Asset,
    Dependency,
    Pipeline,
    downstream_of,
    find_cycles,
    load_pipeline,
    topological_order,
    upstreams,
)


def make_pipeline(*assets: tuple[str, list[str]]) -> Pipeline:
    directory = Path("/project/p")
    return Pipeline(
        name="p",
        directory=directory,
        definition_file=directory / "pipeline.yml",
        assets=[
            Asset(
                name=name,
                type="empty",
                definition_file=directory / "assets" / f"{name}.sql",
                executable_file=directory / "assets" / f"{name}.sql",
                depends=depends,
            )
            for name, depends in assets
        ],
    )


def names(assets: list[Asset]) -> list[str]:
    return [asset.name for asset in assets]


def test_independent_assets_keep_file_order() -> None:
    assert names(topological_order(make_pipeline(("c", []), ("a", []), ("b", [])))) == ["c", "a", "b"]


def test_upstreams_come_first_and_ready_assets_follow_file_order() -> None:
    pipeline = make_pipeline(("report", ["clean"]), ("clean", ["raw"]), ("side", []), ("raw", []))
    assert names(topological_order(pipeline)) == ["side", "raw", "clean", "report"]


def test_diamond() -> None:
    pipeline = make_pipeline(("d", ["b", "c"]), ("c", ["a"]), ("b", ["a"]), ("a", []))
    assert names(topological_order(pipeline)) == ["a", "c", "b", "d"]


def test_released_asset_takes_its_file_position_among_ready_ones() -> None:
    # After "a" runs, "b" (file position 1) is ready and precedes "z" (position 2).
    pipeline = make_pipeline(("a", []), ("b", ["a"]), ("z", []))
    assert names(topological_order(pipeline)) == ["a", "b", "z"]


def test_unknown_and_duplicate_dependencies_are_ignored() -> None:
    pipeline = make_pipeline(("a", ["outside", "b", "b"]), ("b", []))
    assert upstreams(pipeline) == {"a": ["b"], "b": []}
    assert names(topological_order(pipeline)) == ["b", "a"]


def test_symbolic_and_uri_dependencies_do_not_order_the_run() -> None:
    pipeline = make_pipeline(("a", []), ("b", []))
    pipeline.assets[0].other_depends = [Dependency("asset", "b", "symbolic"), Dependency("uri", "x://b")]
    assert upstreams(pipeline) == {"a": [], "b": []}
    assert names(topological_order(pipeline)) == ["a", "b"]


def test_cycle_is_one_line_naming_the_pipeline_file() -> None:
    pipeline = make_pipeline(("a", ["b"]), ("b", ["a"]))
    with pytest.raises(BruinError) as info:
        topological_order(pipeline)
    assert str(info.value) == "/project/p/pipeline.yml: dependency cycle: a -> b -> a"


def test_self_dependency_is_a_cycle() -> None:
    pipeline = make_pipeline(("ok", []), ("loop", ["loop"]))
    with pytest.raises(BruinError) as info:
        topological_order(pipeline)
    assert str(info.value) == "/project/p/pipeline.yml: dependency cycle: loop -> loop"


def test_cycle_reported_from_its_earliest_asset_even_when_reached_from_outside() -> None:
    # "top" waits for the cycle but is not part of it; the cycle starts at "x", the earliest file.
    pipeline = make_pipeline(("top", ["z"]), ("x", ["y"]), ("y", ["z"]), ("z", ["x"]), ("free", []))
    assert find_cycles(pipeline) == [["x", "y", "z", "x"]]


def test_no_cycle() -> None:
    assert find_cycles(make_pipeline(("a", []), ("b", ["a"]))) == []


def test_every_separate_cycle_is_found_in_file_order() -> None:
    pipeline = make_pipeline(("s", ["s"]), ("b", ["c"]), ("c", ["b"]), ("d", ["b"]), ("a", ["c"]))
    assert find_cycles(pipeline) == [["s", "s"], ["b", "c", "b"]]


def test_cycle_from_disk_names_the_real_file(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yml").write_text("name: p\n")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "a.sql").write_text("/* @bruin\ntype: duckdb.sql\ndepends: [b]\n@bruin */\n")
    (tmp_path / "assets" / "b.sql").write_text("/* @bruin\ntype: duckdb.sql\ndepends: [a]\n@bruin */\n")
    with pytest.raises(BruinError) as info:
        topological_order(load_pipeline(tmp_path))
    assert str(info.value) == f"{tmp_path / 'pipeline.yml'}: dependency cycle: a -> b -> a"


def test_downstream_is_transitive() -> None:
    pipeline = make_pipeline(
        ("raw", []), ("clean", ["raw"]), ("report", ["clean"]), ("other", []), ("mix", ["other", "raw"])
    )
    assert downstream_of(pipeline, "raw") == {"clean", "report", "mix"}
    assert downstream_of(pipeline, "report") == set()
    assert downstream_of(pipeline, "missing") == set()


def test_downstream_in_a_cycle_includes_itself() -> None:
    assert downstream_of(make_pipeline(("a", ["b"]), ("b", ["a"])), "a") == {"a", "b"}
