"""`interval_modifiers` values: `-2h`, `1d`, `30m`, `1M`, `500ms`, or a Jinja template rendering one.

The grammar and the messages are upstream's: an integer (Go `strconv.Atoi`: optional sign, ASCII digits)
followed by one unit, two-letter units (`ms`, `ns`) first. Templates are kept as written and parsed after
they are rendered for an asset (`pybruin.run.templating`).
"""

from __future__ import annotations

import re

from pybruin.pipeline.model import TimeModifier

_ATOI = re.compile(r"[+-]?[0-9]+")
_UNITS = {"h": "hours", "m": "minutes", "s": "seconds", "d": "days", "M": "months", "ms": "milliseconds",
          "ns": "nanoseconds"}  # fmt: skip


class IntervalError(ValueError):
    """A modifier that is not `<integer><unit>`; the message is upstream's."""


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


def parse_modifier(text: str) -> TimeModifier:
    """A modifier as written in YAML: a template, or `<integer><unit>` (at least two characters)."""
    if len(text) < 2:
        raise IntervalError(f"invalid time modifier format: {text}")
    if is_template(text):
        return TimeModifier(template=text)
    return parse_rendered(text)


def parse_rendered(text: str) -> TimeModifier:
    """`<integer><unit>`: what a written modifier, or a rendered template, must be."""
    suffix = text[-2:] if len(text) >= 3 and text[-2:] in ("ms", "ns") else text[-1:]
    numeric = text[: len(text) - len(suffix)]
    if not _ATOI.fullmatch(numeric):
        raise IntervalError(
            f'invalid numeric portion "{numeric}" in interval "{text}": strconv.Atoi: parsing "{numeric}": '
            "invalid syntax"
        )
    unit = _UNITS.get(suffix)
    if unit is None:
        raise IntervalError(f'unknown interval suffix "{suffix}" in "{text}"; must be h, m, s, d, M, ms, or ns')
    return TimeModifier(**{unit: int(numeric)})
