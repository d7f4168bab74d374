"""Reading `.bruin.yml` scalars as Bruin's typed decoder does, and YAML errors that quote nothing."""

from __future__ import annotations

import pytest
import yaml

from pybruin.config.yamlfiles import PlainScalar, load_config_yaml, resolve_plain, yaml_error

CANARY = "canary-41c9e2-yaml"


def test_unquoted_booleans_numbers_and_dates_load_as_their_text() -> None:
    document = load_config_yaml("a: 007\nb: yes\nc: 2024-01-01\nd: 1.50\ne: '5'\nf: text\ng: ~\n12: key\n")

    assert document == {"a": "007", "b": "yes", "c": "2024-01-01", "d": "1.50", "e": "5", "f": "text", "g": None,
                        "12": "key"}  # fmt: skip
    assert [type(value) for value in document.values()] == [PlainScalar] * 4 + [str, str, type(None), str]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True), ("FALSE", False), ("5432", 5432), ("-3", -3), ("0", 0), ("1.5", 1.5), ("-0.25", -0.25),
        ("yes", "yes"), ("007", "007"), ("1.50", "1.50"), ("+1", "+1"), ("1e3", "1e3"), ("0x1F", "0x1F"),
        ("1_000", "1_000"), (".inf", ".inf"), ("nan", "nan"), ("12:30", "12:30"),
        ("0.30000000000000001", "0.30000000000000001"),
    ],
)  # fmt: skip
def test_resolve_plain_types_only_what_reads_back_as_written(text: str, expected: object) -> None:
    resolved = resolve_plain(PlainScalar(text))

    assert resolved == expected
    assert type(resolved) is type(expected)


@pytest.mark.parametrize(
    "text",
    [
        f"a: !{CANARY} x",
        f"a: *{CANARY}",
        f"a: &{CANARY} 1\nb: &{CANARY} 2",
        f"a: !<tag:{CANARY},1> x",
        f"a: !e!{CANARY} x",
    ],
)
@pytest.mark.parametrize("loader", [yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)])
def test_yaml_error_never_quotes_tags_anchors_or_aliases(text: str, loader: type) -> None:
    with pytest.raises(yaml.YAMLError) as caught:
        yaml.load(text, Loader=loader)

    line, problem = yaml_error(caught.value)

    assert line in (1, 2)
    assert problem
    assert CANARY not in problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a:\tb: c\n\td", "found character '\\t' that cannot start any token"),
        ("a: %x", "found character '%' that cannot start any token"),
        ('a: "x\\q"', "found unknown escape character 'q'"),
        ("a: [1, 2", "expected ',' or ']', but got '<stream end>'"),
    ],
)
def test_yaml_error_keeps_quoted_characters_and_token_kinds(text: str, expected: str) -> None:
    with pytest.raises(yaml.YAMLError) as caught:
        yaml.load(text, Loader=yaml.SafeLoader)

    assert yaml_error(caught.value) == (1, expected)


def test_an_error_without_a_position_has_neither_line_nor_problem() -> None:
    assert yaml_error(yaml.YAMLError("something")) == (None, None)
