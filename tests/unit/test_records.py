"""pybruin.records: the record base the run path's classes are built on instead of dataclasses."""

from __future__ import annotations

import copy
import pickle
import re
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, NamedTuple

import pytest

import pybruin
from pybruin.records import FrozenRecordError, Record, as_dict, field, field_names, replace


class Point(Record):
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)
    token: str = field(default="", repr=False)
    note: str = field(default="", compare=False)
    KIND: ClassVar[str] = "point"


class Counter(Record, frozen=False):
    name: str
    count: int = 0


class Derived(Record):
    parts: tuple[str, ...]
    joined: str = field(init=False, repr=False)
    seen: dict[str, int] = field(default_factory=dict, init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "joined", "/".join(self.parts))


class Span(NamedTuple):
    start: object
    end: object


class Outer(Record):  # the classes are at module level: pickle finds them by name
    inner: Point
    points: list[Point]
    by_name: dict[str, object]


def test_arguments_by_position_and_keyword_with_defaults() -> None:
    assert Point(1) == Point(x=1, y=0)
    point = Point(1, 2, ["a"])
    assert (point.x, point.y, point.tags, point.token) == (1, 2, ["a"], "")
    assert field_names(Point) == ("x", "y", "tags", "token", "note")


def test_each_instance_gets_its_own_factory_value() -> None:
    first, second = Point(1), Point(2)
    first.tags.append("a")
    assert second.tags == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Point(), "missing required argument: 'x'"),
        (lambda: Point(1, colour="red"), "unexpected keyword argument 'colour'"),
        (lambda: Point(1, x=2), "multiple values for argument 'x'"),
        (lambda: Point(1, 2, [], "", "", 6), "takes 5 positional arguments but 6 were given"),
        (lambda: Derived(("a",), "a/b"), "takes 1 positional arguments but 2 were given"),
        (lambda: Derived(("a",), joined="x"), "unexpected keyword argument 'joined'"),
    ],
)
def test_wrong_arguments_are_type_errors(call, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        call()


def test_a_required_field_after_a_default_is_refused_when_the_class_is_made() -> None:
    with pytest.raises(TypeError, match="field 'b' without a default follows one with a default"):

        class Broken(Record):
            a: int = 0
            b: int


def test_frozen_records_refuse_assignment_and_mutable_ones_allow_it() -> None:
    point = Point(1)
    with pytest.raises(FrozenRecordError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del point.x  # type: ignore[misc]
    counter = Counter("runs")
    counter.count += 1
    assert counter == Counter("runs", 1)


def test_equality_and_hash_follow_the_compared_fields() -> None:
    assert Point(1, note="a") == Point(1, note="b")
    first, second = Derived(("a",)), Derived(("a",))
    first.seen["x"] = 1  # not compared
    assert first == second and hash(first) == hash(second)
    assert Point(1) != Point(2)
    assert Point(1) != (1, 0, [], "", "")
    assert {Derived(("a", "b"))} == {Derived(("a", "b"))}
    with pytest.raises(TypeError, match="unhashable"):
        hash(Counter("runs"))


def test_repr_leaves_out_hidden_fields() -> None:
    shown = repr(Point(1, token="s3cr3t-canary"))
    assert shown == "Point(x=1, y=0, tags=[], note='')"
    assert "s3cr3t-canary" not in shown
    assert repr(Derived(("a",))) == "Derived(parts=('a',), seen={})"


def test_post_init_and_fields_not_in_init() -> None:
    derived = Derived(("a", "b"))
    assert derived.joined == "a/b"
    assert derived.seen == {}
    assert Derived(("a",)).seen is not derived.seen


def test_replace_copies_with_changes_and_remakes_derived_fields() -> None:
    point = Point(1, 2, ["a"], token="t")
    moved = replace(point, y=5)
    assert moved == Point(1, 5, ["a"], token="t") and point.y == 2
    assert replace(Derived(("a",)), parts=("b", "c")).joined == "b/c"
    with pytest.raises(TypeError, match="no field 'joined'"):
        replace(Derived(("a",)), joined="x")


def test_as_dict_converts_nested_records() -> None:
    outer = Outer(Point(1), [Point(2, tags=["t"])], {"p": Point(3)})
    plain = as_dict(outer)
    assert plain["inner"] == {"x": 1, "y": 0, "tags": [], "token": "", "note": ""}
    assert plain["points"][0]["tags"] == ["t"]
    assert plain["by_name"]["p"]["x"] == 3
    spans = as_dict(Outer(Point(0), [], {"s": Span(Point(1), Point(2))}))["by_name"]
    assert spans["s"] == Span(plain["inner"], {**plain["inner"], "x": 2})
    assert type(spans["s"]) is Span


def _opener(name: str) -> str:
    return f"opened {name}"


class Declaration(Record):
    open: Callable[[str], str] = _opener
    close: Callable[[str], str] = field(default=_opener, init=False)


def test_a_function_default_stays_a_plain_function() -> None:
    declaration = Declaration()
    assert declaration.open("a") == "opened a"
    assert declaration.close("b") == "opened b"


def test_class_variables_are_not_fields() -> None:
    assert Point.KIND == "point"
    assert "KIND" not in field_names(Point)


def test_records_copy_and_pickle() -> None:
    point = Point(1, 2, ["a"], token="t")
    assert pickle.loads(pickle.dumps(point)) == point
    assert copy.copy(point) == point
    assert copy.deepcopy(Derived(("a",))).joined == "a"


def test_only_the_json_documents_are_dataclasses() -> None:
    """Creating a dataclass compiles its methods (~3M instructions on Python 3.11): the run path uses records.
    The JSON documents (`documents/`, read by tools and written after a run) keep them for their reflection."""
    package = Path(pybruin.__file__).parent
    uses = re.compile(r"^(from dataclasses |import dataclasses)", re.M)
    users = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.parent.name != "documents" and uses.search(path.read_text())
    ]
    assert users == []
