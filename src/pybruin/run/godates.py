"""Go's time layouts, parsed and formatted as Go does, for the date filters of SQL templates.

Upstream's filters (`add_days`, `date_format`, `truncate_day`, ...) parse their input with the first of a
list of Go layouts that matches and print the result in the same layout; `date_format` turns Python
`strftime` codes into a Go layout and formats with it, so literal text that looks like a Go layout token
(`Mon`, `Jan`, `2006`, `1`) is a token. Rendering templates byte for byte like upstream means doing the
same, so this module implements Go's layout tokens (`time.Format`, `time.Parse`) for the subset they use.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

#: The layouts upstream's filters try, in order (`pkg/date` `ParseTimeWithFormat`).
FILTER_LAYOUTS = (
    "2006-01-02 15:04:05.000000Z07:00",
    "2006-01-02T15:04:05.000000Z07:00",
    "2006-01-02 15:04:05.000000",
    "2006-01-02T15:04:05.000000",
    "2006-01-02 15:04:05.000Z07:00",
    "2006-01-02T15:04:05.000Z07:00",
    "2006-01-02 15:04:05.000",
    "2006-01-02T15:04:05.000",
    "2006-01-02 15:04:05Z07:00",
    "2006-01-02T15:04:05Z07:00",
    "2006-01-02 15:04:05",
    "2006-01-02T15:04:05",
    "2006-01-02 15:04Z07:00",
    "2006-01-02T15:04Z07:00",
    "2006-01-02 15:04",
    "2006-01-02T15:04",
    "2006-01-02",
    "02 Jan 2006 15:04:05.000Z07:00",
    "02 Jan 2006 15:04:05Z07:00",
    "02 Jan 2006 15:04Z07:00",
    "02 Jan 2006",
)

#: Python strftime codes -> Go layout tokens.
PYTHON_CODES = {"%Y": "2006", "%y": "06", "%m": "01", "%d": "02", "%H": "15", "%M": "04", "%S": "05",
                "%f": "000000", "%z": "MST", "%Z": "MST", "%a": "Mon", "%A": "Monday", "%b": "Jan",
                "%B": "January"}  # fmt: skip
_PYTHON_CODE = re.compile("|".join(re.escape(code) for code in PYTHON_CODES))

# Go's layout tokens (time/format.go `nextStdChunk`), longest first where they share a prefix.
_TOKENS = (
    "January", "Jan", "Monday", "Mon", "MST", "2006", "002", "__2", "_2", "01", "02", "03", "04", "05", "06",
    "15", "1", "2", "3", "4", "5", "PM", "pm",
    "-07:00:00", "-070000", "-07:00", "-0700", "-07", "Z07:00:00", "Z070000", "Z07:00", "Z0700", "Z07",
)  # fmt: skip
_FRACTION = re.compile(r"[.,](0+|9+)(?![0-9])")


class LayoutError(ValueError):
    """The value does not match the layout."""


def tokenize(layout: str) -> list[tuple[bool, str]]:
    """The layout as (is_token, text) chunks, read as Go reads it."""
    chunks: list[tuple[bool, str]] = []
    literal = []
    index = 0
    while index < len(layout):
        token = _token_at(layout, index)
        if token is None:
            literal.append(layout[index])
            index += 1
            continue
        if literal:
            chunks.append((False, "".join(literal)))
            literal = []
        chunks.append((True, token))
        index += len(token)
    if literal:
        chunks.append((False, "".join(literal)))
    return chunks


def _token_at(layout: str, index: int) -> str | None:
    if layout[index] in ".,":
        match = _FRACTION.match(layout, index)
        return match.group(0) if match else None
    if layout.startswith("_2006", index):
        return None  # Go: a literal `_` before the year
    for token in _TOKENS:
        if layout.startswith(token, index):
            return token
    return None


def go_format(moment: datetime, layout: str) -> str:
    """`moment` formatted with a Go layout."""
    out = []
    for is_token, text in tokenize(layout):
        out.append(_format_token(moment, text) if is_token else text)
    return "".join(out)


def _format_token(moment: datetime, token: str) -> str:
    hour12 = moment.hour % 12 or 12
    simple = {
        "January": MONTHS[moment.month - 1], "Jan": MONTHS[moment.month - 1][:3],
        "Monday": DAYS[moment.weekday()], "Mon": DAYS[moment.weekday()][:3],
        "2006": f"{moment.year:04d}", "06": f"{moment.year % 100:02d}",
        "01": f"{moment.month:02d}", "1": str(moment.month),
        "02": f"{moment.day:02d}", "2": str(moment.day), "_2": f"{moment.day:>2d}",
        "002": f"{moment.timetuple().tm_yday:03d}", "__2": f"{moment.timetuple().tm_yday:>3d}",
        "15": f"{moment.hour:02d}", "03": f"{hour12:02d}", "3": str(hour12),
        "04": f"{moment.minute:02d}", "4": str(moment.minute),
        "05": f"{moment.second:02d}", "5": str(moment.second),
        "PM": "PM" if moment.hour >= 12 else "AM", "pm": "pm" if moment.hour >= 12 else "am",
    }  # fmt: skip
    if token in simple:
        return simple[token]
    if token[0] in ".,":
        digits = f"{moment.microsecond:06d}000"
        if token[1] == "0":
            return token[0] + digits[: len(token) - 1]
        trimmed = digits[: len(token) - 1].rstrip("0")
        return token[0] + trimmed if trimmed else ""
    return _format_zone(moment, token)


def _format_zone(moment: datetime, token: str) -> str:
    offset = moment.utcoffset() or timedelta(0)
    if token == "MST":
        if moment.tzinfo is UTC:
            return "UTC"
        token = "-0700"
    if token.startswith("Z") and not offset:
        return "Z"
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    shape = token[1:]
    if shape == "07":
        return f"{sign}{hours:02d}"
    colon = ":" in shape
    text = f"{sign}{hours:02d}{':' if colon else ''}{minutes:02d}"
    if len(shape.replace(":", "")) == 6:
        text += f"{':' if colon else ''}{secs:02d}"
    return text


def go_parse(value: str, layout: str) -> datetime:
    """`value` read with a Go layout; LayoutError when it does not match."""
    fields = {"year": 1, "month": 1, "day": 1, "hour": 0, "minute": 0, "second": 0, "micro": 0}
    zone: timezone | None = None
    rest = value
    chunks = tokenize(layout)
    for position, (is_token, text) in enumerate(chunks):
        if not is_token:
            if not rest.startswith(text):
                raise LayoutError(value)
            rest = rest[len(text) :]
            continue
        following = chunks[position + 1] if position + 1 < len(chunks) else (False, "")
        rest, zone = _parse_token(text, rest, fields, zone, following)
    if rest:
        raise LayoutError(value)
    try:
        parsed = datetime(fields["year"], fields["month"], fields["day"], fields["hour"], fields["minute"],
                          fields["second"], fields["micro"])  # fmt: skip
    except ValueError:
        raise LayoutError(value) from None
    return parsed.replace(tzinfo=zone or UTC)


def _number(rest: str, width: int, *, fixed: bool) -> tuple[int, str]:
    match = re.match(rf"\d{{{width}}}" if fixed else rf"\d{{1,{width}}}", rest)
    if not match:
        raise LayoutError(rest)
    return int(match.group(0)), rest[match.end() :]


def _parse_token(
    token: str, rest: str, fields: dict[str, int], zone: timezone | None, following: tuple[bool, str]
) -> tuple[str, timezone | None]:
    if token == "2006":
        fields["year"], rest = _number(rest, 4, fixed=True)
    elif token in ("01", "1"):
        fields["month"], rest = _number(rest, 2, fixed=token == "01")
    elif token in ("Jan", "January"):
        for number, name in enumerate(MONTHS, start=1):
            candidate = name[:3] if token == "Jan" else name
            if rest[: len(candidate)].lower() == candidate.lower():
                fields["month"], rest = number, rest[len(candidate) :]
                break
        else:
            raise LayoutError(rest)
    elif token in ("02", "2"):
        fields["day"], rest = _number(rest, 2, fixed=token == "02")
    elif token == "15":
        fields["hour"], rest = _number(rest, 2, fixed=False)
    elif token in ("04", "4"):
        fields["minute"], rest = _number(rest, 2, fixed=token == "04")
    elif token in ("05", "5"):
        fields["second"], rest = _number(rest, 2, fixed=token == "05")
        if not (following[0] and following[1][0] in ".,") and (match := re.match(r"[.,](\d+)", rest)):
            # Go accepts a fraction after the seconds even when the layout has none.
            fields["micro"], rest = int(match.group(1)[:6].ljust(6, "0")), rest[match.end() :]
    elif token[0] in ".,":
        width = len(token) - 1
        match = re.match(rf"[.,](\d{{{width}}})", rest)
        if not match:
            raise LayoutError(rest)
        fields["micro"], rest = int(match.group(1)[:6].ljust(6, "0")), rest[match.end() :]
    elif token.startswith("Z07") and rest.startswith("Z"):
        zone, rest = UTC, rest[1:]
    elif token.lstrip("Z-").startswith("07"):
        match = re.match(r"([+-])(\d{2}):(\d{2})" if ":" in token else r"([+-])(\d{2})(\d{2})", rest)
        if not match:
            raise LayoutError(rest)
        minutes = int(match.group(2)) * 60 + int(match.group(3))
        zone = timezone(timedelta(minutes=-minutes if match.group(1) == "-" else minutes))
        rest = rest[match.end() :]
    else:
        raise LayoutError(rest)
    return rest, zone


def parse_filter_input(value: str) -> tuple[datetime, str]:
    """The moment and the layout of the first filter layout that reads `value`."""
    for layout in FILTER_LAYOUTS:
        try:
            return go_parse(value, layout), layout
        except LayoutError:
            continue
    raise LayoutError("invalid datetime format")


def python_to_go_layout(python_format: str) -> str:
    """Upstream's conversion: the codes replaced, then every `MST` (from `%z`/`%Z`, or written) by a literal
    `Z` (upstream formats the local zone with the layout "Z", which is no token)."""
    return _PYTHON_CODE.sub(lambda match: PYTHON_CODES[match.group(0)], python_format).replace("MST", "Z")


def add_date(moment: datetime, years: int = 0, months: int = 0, days: int = 0) -> datetime:
    """Go's `AddDate`: fields added, then normalised (January 31 + 1 month = March 2 or 3)."""
    month_index = moment.month - 1 + months
    year = moment.year + years + month_index // 12
    first = date(year, month_index % 12 + 1, 1)
    day = first + timedelta(days=moment.day - 1 + days)
    return moment.replace(year=day.year, month=day.month, day=day.day)
