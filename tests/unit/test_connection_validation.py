"""The pydantic-free validator: pydantic's lax-mode results and messages, without importing pydantic."""

import math
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import ValidationError

from pybruin.config.connections import ConnectionConfigError, FieldError, Model, build_connection
from pybruin.config.connections import twins as twins_module
from pybruin.config.connections.fields import GreaterThan, Secret
from pybruin.config.connections.twins import twin
from pybruin.config.yamlfiles import PlainScalar

CANARY = "canary-41d0e7-do-not-print"


class Inner(Model):
    kind: Literal["x", "y"]
    size: int = 0


class Sample(Model):
    """One field of every kind the connection models use."""

    text: str = ""
    secret: Secret = ""
    number: int = 0
    ratio: float = 0
    flag: bool = False
    choice: Literal["a", "b"] = "a"
    positive: Annotated[int, GreaterThan(0)] | None = None
    inner: Inner | None = None


TEXTS = [
    "5432", "007", " 5 ", "+5", "-5", "-0", "5.0", "5.50", "1_000", "0x10", "1e3", "", " ", "٣", "inf", "nan",
    "true", "True", "TRUE", "tRuE", "yes", "YES", "on", "t", "y", "1", "0", "off", "n", "no", "f", "false",
    " true", "true ", "maybe", "9" * 18, "9" * 19, "9" * 40, "0.1", "00.5", ".5", "5.", "a", "x", "K",
    "1.7976931348623157e309", PlainScalar("5432"), PlainScalar("true"), PlainScalar("1.50"), PlainScalar("2024-01-01"),
]  # fmt: skip
NUMBERS = [
    0, 1, 2, -1, 5432, 2**53, 2**53 + 1, 2**63, 10**18, 10**30, 0.0, -0.0, 1.0, 1.5, 5.0, 1e16, 1e20, 0.1,
    float("inf"), float("nan"), True, False,
]  # fmt: skip
OTHERS = [b"5432", b"true", Decimal("5"), [1], {"kind": "x"}, {"kind": "z"}, {}, (1,), {1, 2}]
VALUES = TEXTS + NUMBERS + OTHERS


def comparable(record: object) -> dict[str, object]:
    """A record's fields with their exact types (by ``repr``, so NaN equals NaN), nested records as dicts."""
    return {
        name: comparable(value) if hasattr(value, "__dict__") else (type(value).__name__, repr(value))
        for name, value in vars(record).items()
    }


def ours(data: dict[object, object]) -> dict[str, object] | str:
    try:
        return comparable(Sample.validate(data))
    except FieldError as exc:
        return str(exc)


def pydantics(data: dict[object, object]) -> dict[str, object] | str:
    try:
        return comparable(twin(Sample).model_validate(data))
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        return str(FieldError(".".join(map(str, problem["loc"])), problem["msg"]))


@pytest.mark.parametrize("field", [field.name for field in Sample.declared_fields])
def test_every_value_gets_pydantic_lax_mode_result(field: str) -> None:
    for value in VALUES:
        data = {field: value}
        assert ours(data) == pydantics(data), (field, value)


@pytest.fixture
def without_pydantic(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(model: type[Model], data: object) -> dict[str, object]:
        raise AssertionError(f"{data!r} reached pydantic")

    monkeypatch.setattr(twins_module, "judged", refuse)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"text": 987654, "secret": 1.5, "number": "5432", "ratio": "1.50"},
         {"text": "987654", "secret": "1.5", "number": 5432, "ratio": 1.5}),
        ({"text": PlainScalar("007"), "number": PlainScalar("007"), "ratio": 2, "positive": "3"},
         {"text": "007", "number": 7, "ratio": 2.0, "positive": 3}),
        ({"number": "-12", "ratio": "-0.25", "positive": 1}, {"number": -12, "ratio": -0.25, "positive": 1}),
        ({"flag": PlainScalar("true"), "choice": "b"}, {"flag": True, "choice": "b"}),
        ({"flag": "Off"}, {"flag": False}),
        ({"flag": "y"}, {"flag": True}),
        ({"flag": False, "text": None, "number": None}, {"flag": False, "text": "", "number": 0}),
        ({"inner": {"kind": "x", "size": "3", "other": 1}}, {"inner": Inner(kind="x", size=3)}),
        ({"unknown": [1], 7: "x"}, {}),
    ],
)  # fmt: skip
def test_ordinary_values_never_reach_pydantic(without_pydantic: None, data: dict, expected: dict) -> None:
    sample = Sample.validate(data)

    assert {key: getattr(sample, key) for key in expected} == expected
    assert all(type(getattr(sample, key)) is type(value) for key, value in expected.items())


def test_unusual_but_valid_values_are_accepted_as_pydantic_would() -> None:
    sample = Sample.validate({"text": b"bytes", "number": " 1_000 ", "ratio": "1e3", "flag": 1, "positive": 2.0})

    assert (sample.text, sample.number, sample.ratio, sample.flag, sample.positive) == ("bytes", 1000, 1000.0, True, 2)
    assert math.isinf(Sample.validate({"ratio": "inf"}).ratio)


@pytest.mark.parametrize(
    ("type_key", "fields", "message"),
    [
        ("postgres", {"port": 5.5},
         "field 'port': Input should be a valid integer, got a number with a fractional part"),
        ("postgres", {"port": [1]}, "field 'port': Input should be a valid integer"),
        ("postgres", {"port": 1e20},
         "field 'port': Unable to parse input string as an integer, exceeded maximum size"),
        ("postgres", {"password": True}, "field 'password': Input should be a valid string"),
        ("postgres", {"max_concurrent_assets": "0"}, "field 'max_concurrent_assets': Input should be greater than 0"),
        ("postgres", {"max_concurrent_assets": False}, "field 'max_concurrent_assets': Input should be greater than 0"),
        ("duckdb", {"read_only": "maybe"},
         "field 'read_only': Input should be a valid boolean, unable to interpret input"),
        ("duckdb", {"read_only": 2}, "field 'read_only': Input should be a valid boolean, unable to interpret input"),
        ("duckdb", {"lakehouse": "s3"},
         "field 'lakehouse': Input should be a valid dictionary or instance of Lakehouse"),
        ("duckdb", {"lakehouse": {}}, "field 'lakehouse.format': Field required"),
        ("duckdb", {"lakehouse": {"format": "iceberg", "catalog": {"port": 1}}},
         "field 'lakehouse.catalog.type': Field required"),
        ("duckdb", {"lakehouse": {"format": "iceberg", "catalog": {"type": "glue", "port": "x"}}},
         "field 'lakehouse.catalog.port': Input should be a valid integer, unable to parse string as an integer"),
        ("duckdb", {"lakehouse": {"format": "iceberg", "catalog": {"type": "s3"}}},
         "field 'lakehouse.catalog.type': Input should be 'glue', 'postgres', 'duckdb' or 'sqlite'"),
        ("duckdb", {"lakehouse": {"format": "iceberg", "storage": {"type": "s3", "auth": []}}},
         "field 'lakehouse.storage.auth': Input should be a valid dictionary or instance of LakehouseStorageAuth"),
        ("google_cloud_platform", {"max_query_cost": "cheap"},
         "field 'max_query_cost': Input should be a valid number, unable to parse string as a number"),
        ("google_cloud_platform", {"max_query_cost": 10**400},
         "field 'max_query_cost': Input should be a valid number"),
        ("google_cloud_platform", {"use_application_default_credentials": "sure"},
         "field 'use_application_default_credentials': Input should be a valid boolean, unable to interpret input"),
        ("clickhouse", {"secure": "x"},
         "field 'secure': Input should be a valid integer, unable to parse string as an integer"),
        ("chess", {None: CANARY}, "field 'None': Keys should be strings"),
        ("chess", {"max_concurrent_assets": "many"},
         "field 'max_concurrent_assets': Input should be a valid integer, unable to parse string as an integer"),
    ],
)  # fmt: skip
def test_error_texts(type_key: str, fields: dict, message: str) -> None:
    with pytest.raises(ConnectionConfigError) as caught:
        build_connection(type_key, {"name": "c", **fields}, base_dir=None, environ={})

    assert str(caught.value) == f"connection 'c' ({type_key}): {message}"
    assert (caught.value.__cause__, caught.value.__context__) == (None, None)


def test_a_name_that_is_not_text_is_reported_without_a_label() -> None:
    with pytest.raises(ConnectionConfigError) as caught:
        build_connection("postgres", {"name": [CANARY]}, base_dir=None, environ={})

    assert str(caught.value) == "connection '' (postgres): field 'name': Input should be a valid string"


def test_models_are_frozen_records_compared_by_value() -> None:
    first = Sample(text="a", inner={"kind": "x"})
    second = Sample.validate({"text": "a", "inner": {"kind": "x", "size": 0}})

    assert first == second
    assert hash(first) == hash(second)
    assert first != Sample(text="b")
    assert first != Inner(kind="x")
    with pytest.raises(AttributeError, match="Sample is immutable"):
        first.text = "b"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="Sample is immutable"):
        del first.text
    assert repr(Sample(secret=CANARY)) == (
        "Sample(text='', number=0, ratio=0, flag=False, choice='a', positive=None, inner=None)"
    )


def test_keyword_construction_validates() -> None:
    with pytest.raises(FieldError) as caught:
        Sample(number=CANARY)

    assert str(caught.value) == "field 'number': Input should be a valid integer, unable to parse string as an integer"
    assert caught.value.location == "number"


def test_twins_are_named_like_their_models() -> None:
    assert twin(Sample).__name__ == "Sample"
    assert twin(Sample) is twin(Sample)


def run_python(code: str, cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_loading_an_ordinary_config_does_not_import_pydantic(tmp_path: Path) -> None:
    (tmp_path / ".bruin.yml").write_text(
        textwrap.dedent(
            """\
            environments:
              default:
                connections:
                  postgres:
                    - {name: pg, host: localhost, port: 5432, username: u, password: "${PW}", max_concurrent_assets: 2}
                  duckdb:
                    - {name: duck, path: data/x.db, read_only: true}
                  generic:
                    - {name: KEY, value: 12345}
                  chess:
                    - {name: chess, players: [a, b]}
              broken:
                connections:
                  postgres:
                    - {name: pg, port: not-a-port}
            """
        )
    )

    output = run_python(
        """
        import sys
        from pathlib import Path
        from pybruin.config.bruin_yml import load_config
        from pybruin.errors import BruinError

        config = load_config(Path.cwd(), None, {"PW": "pw"})
        for connection in config.environment("default").connections.values():
            connection.injection_value(), connection.sensitive_values(), connection.filled_fields(), repr(connection)
        print("pydantic" in sys.modules)
        try:
            config.environment("broken")
        except BruinError as exc:
            print(str(exc).split(": ", 2)[-1])
        print("pydantic" in sys.modules)
        """,
        tmp_path,
    )

    assert output.splitlines() == [
        "False",
        "connection 'pg' (postgres): field 'port': "
        "Input should be a valid integer, unable to parse string as an integer",
        "True",
    ]


def test_untyped_fields_read_as_attributes_but_never_shadow_methods() -> None:
    connection = build_connection(
        "chess", {"name": "c", "players": ["a"], "sensitive_values": "x", "_extra": 1}, base_dir=None, environ={}
    )

    assert connection.players == ["a"]
    assert connection.sensitive_values() == []
    assert connection.injection_value() == '{"name":"c","players":["a"],"sensitive_values":"x","_extra":1}'
    with pytest.raises(AttributeError, match="'ChessConnection' object has no attribute 'missing'"):
        connection.missing  # noqa: B018
