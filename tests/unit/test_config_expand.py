import pytest

from pybruin.config.expand import expand_set_variables, expand_unset_to_empty
from pybruin.config.yamlfiles import PlainScalar


def test_stage_one_substitutes_set_variables_and_leaves_unset_ones_literal() -> None:
    environ = {"HOST": "db.internal", "EMPTY": ""}
    value = "${HOST}:${MISSING}/${EMPTY}x"

    assert expand_set_variables(value, environ) == "db.internal:${MISSING}/x"


def test_stage_two_turns_remaining_references_into_empty_strings() -> None:
    assert expand_unset_to_empty("a-${MISSING}-${SET}", {"SET": "s"}) == "a--s"


@pytest.mark.parametrize("expand", [expand_set_variables, expand_unset_to_empty])
def test_recurses_into_values_but_never_keys(expand) -> None:
    environ = {"K": "key-value", "V": "v"}
    document = {"${K}": {"nested": ["${V}", {"deeper": "${V}${V}"}]}, "n": 3, "b": True, "none": None}

    assert expand(document, environ) == {
        "${K}": {"nested": ["v", {"deeper": "vv"}]},
        "n": 3,
        "b": True,
        "none": None,
    }


@pytest.mark.parametrize("expand", [expand_set_variables, expand_unset_to_empty])
def test_single_pass_does_not_expand_inserted_text(expand) -> None:
    environ = {"A": "${B}", "B": "nope"}

    assert expand("x${A}y", environ) == "x${B}y"


@pytest.mark.parametrize("inserted", ["access:key # hash", "quote'and\"double", "{json: [1]}", "null", "5433", "\\n"])
def test_special_characters_are_inserted_verbatim(inserted: str) -> None:
    assert expand_set_variables("${V}", {"V": inserted}) == inserted
    assert expand_unset_to_empty("${V}", {"V": inserted}) == inserted


def test_only_braced_non_empty_references_are_expanded() -> None:
    environ = {"A": "a", "A:-x": "odd"}

    assert expand_set_variables("$A ${} ${A:-x} ${A", environ) == "$A ${} odd ${A"


@pytest.mark.parametrize(
    ("text", "variable", "expected"),
    [
        ("${V}", "5432", 5432),
        ("${V}", "true", True),
        ("${V}", "1.5", 1.5),
        ("${V}", "null", "null"),
        ("${V}", "", ""),
        ("${V}", "2024-01-01", "2024-01-01"),
        ("${V}", "a: b # c", "a: b # c"),
        ("${V}", "[1, 2]", "[1, 2]"),
        ("port-${V}", "5432", "port-5432"),
        ("${MISSING}", "5432", "${MISSING}"),
    ],
)
def test_resolve_types_rereads_a_whole_reference_as_a_yaml_scalar(text, variable, expected) -> None:
    result = expand_set_variables({"k": text}, {"V": variable}, resolve_types=True)

    assert result == {"k": expected}
    assert type(result["k"]) is type(expected)


def test_without_resolve_types_a_number_stays_text() -> None:
    assert expand_set_variables("${V}", {"V": "5432"}) == "5432"


@pytest.mark.parametrize("variable", ["007", "1.50", "yes", "0x1F", "1_000", "12:30", "1e3", ".inf", "nan"])
def test_resolve_types_keeps_text_that_would_not_read_back_as_written(variable: str) -> None:
    assert expand_set_variables({"k": "${V}"}, {"V": variable}, resolve_types=True) == {"k": variable}


def test_resolve_types_types_unquoted_scalars_and_only_with_the_flag() -> None:
    document = {"port": PlainScalar("5432"), "on": PlainScalar("false"), "pin": [PlainScalar("007")]}

    assert expand_set_variables(document, {}, resolve_types=True) == {"port": 5432, "on": False, "pin": ["007"]}
    assert expand_set_variables(document, {}) == {"port": "5432", "on": "false", "pin": ["007"]}
