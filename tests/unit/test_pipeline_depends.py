"""pybruin.pipeline.depends: `depends` entries as written, as the documents and the compatibility hash read them."""

from __future__ import annotations

from pybruin.pipeline.depends import WrittenDependency, scalar_text, written_dependencies


def test_names_and_mappings_in_order_the_first_of_each_only() -> None:
    own = ["raw.a", {"asset": "raw.b", "mode": "symbolic"}, {"uri": "s3://x"}, 7, None, "raw.a"]
    defaults = [{"uri": "s3://x"}, "raw.c", {"asset": "raw.d", "uri": "ignored"}]
    found = written_dependencies(own, defaults)
    assert [(d.type, d.value) for d in found] == [
        ("asset", "raw.a"), ("asset", "raw.b"), ("uri", "s3://x"), ("asset", "raw.c"), ("asset", "raw.d"),
    ]  # fmt: skip
    assert found[1].entry == {"asset": "raw.b", "mode": "symbolic"} and found[0].entry == {}


def test_a_single_entry_or_nothing() -> None:
    assert written_dependencies("raw.a", None) == [WrittenDependency("asset", "raw.a")]
    assert written_dependencies(None) == [] and written_dependencies({"asset": None}) == [
        WrittenDependency("asset", "", {"asset": None})
    ]


def test_values_read_as_upstream_writes_a_string_field() -> None:
    assert [scalar_text(v) for v in (None, True, False, 12, 1.5, "x")] == ["", "true", "false", "12", "1.5", "x"]
    assert written_dependencies([{"asset": True}])[0].value == "true"
