"""Credential masking: every registered secret, in every encoding it travels in, becomes ``****``.

A secret rarely reaches output verbatim only: it shows up URL-escaped in a connection string,
JSON-escaped in a payload, or base64-encoded inside a longer blob such as a basic-auth header.
Each secret therefore expands into a set of byte strings ("forms"), and masking replaces every
stretch of output covered by any occurrence of any form. Using the union of occurrences (rather
than replacing forms one after another) means a secret containing another, or two overlapping
secrets, are masked whole and the result never depends on replacement order.

Searching for thousands of forms must stay cheap. Python's regex engine is fast only where a
pattern starts with one literal byte, so each form is looked for from its rarest byte (its
"anchor") onwards, and output is first translated so that every anchor byte becomes the same
byte. One scan with a single-literal pattern then finds every place a form may be, and only the
short windows around those places are searched exactly, in the original bytes.
"""

from __future__ import annotations

import base64
import bisect
import itertools
import json
import operator
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import Protocol
from urllib.parse import quote, quote_plus

_MASK = b"****"

# The ways programs put a value into a URL. The first three are what Go's net/url produces (query
# component, path segment, userinfo password); the last is urllib.parse.quote's default.
_URL_ESCAPES: tuple[Callable[[bytes], str], ...] = (
    partial(quote_plus, safe=""),
    partial(quote, safe="$&+:=@"),
    partial(quote, safe="$&+,;="),
    quote,
)

# Bytes in rough order of how often they appear in program output (log lines, timestamps, SQL,
# JSON), most frequent first; bytes not listed are rarer still. Only speed depends on this.
_FREQUENT = b" \netaoinsrldcuh0123456789.:-_/=,\"'mfpgwybvk()[]{}TZEINORASLDCUFGWxjqzHMPBYKVJQX+*@#%&!?;<>|$\t"
_COMMONNESS = [len(_FREQUENT) - _FREQUENT.index(byte) if byte in _FREQUENT else 0 for byte in range(256)]

# The scanner checks at least this many bytes of a form after the anchor byte it starts from.
_SCAN_MIN = 4
# Suffixes at least this long are found by regex and checked against the forms sharing their first
# bytes; shorter ones are looked up in a set of all short proper prefixes.
_HEAD = 4
#: Up to this many anchor bytes in a piece, windows around them are checked one by one.
_FEW_ANCHORS = 32

# What a terminal does not show: escape sequences (CSI in any parameter form, 8-bit CSI, OSC such as links
# and titles, DCS/SOS/PM/APC strings, two-byte escapes), a character erased by the backspace after it, and
# the control characters it ignores. Text split by any of them still reads whole on screen.
TERMINAL_SEQUENCE = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]"
    rb"|\xc2\x9b[0-?]*[ -/]*[@-~]"
    rb"|(?:\x1b\]|\xc2\x9d)[^\x07\x1b]*?(?:\x07|\x1b\\|\xc2\x9c)"
    rb"|\x1b[PX^_][^\x1b]*?\x1b\\"
    rb"|\x1b[ -/]*[0-~]"
    rb"|(?:[\xc0-\xff][\x80-\xbf]*|[^\x80-\xbf\n])\x08"
    rb"|[\x00-\x07\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]"
)
# A sequence that has begun at the end of a piece and may still complete in the next one.
_UNFINISHED = re.compile(rb"(?:\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*|[PX^_][^\x1b]*|[ -/]*)?|\xc2\x9b?|%[0-9A-Fa-f]?)\Z")
_PERCENT = re.compile(rb"%[0-9A-Fa-f]{2}")
_PERCENT_OR_PLUS = re.compile(rb"%[0-9A-Fa-f]{2}|\+")
# Bytes whose presence means a piece may hold a secret in a form only a view reveals.
_VIEW_BYTES = bytes(range(0x20)).replace(b"\t", b"").replace(b"\n", b"").replace(b"\r", b"") + b"\x7f\xc2%+"
_NOT_VIEW_BYTES = bytes(byte for byte in range(256) if byte not in _VIEW_BYTES)
# `scheme://user:password@` or `scheme://token@`: the userinfo of a URL, up to its last `@`.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)(?:([^\s/?#'\"<>:@]*):)?[^\s/?#'\"<>]*@")


class HasSecrets(Protocol):
    """Anything that knows its own secret values, such as a connection."""

    name: str

    def sensitive_values(self) -> list[str]: ...


class Masker:
    """The set of values that must never reach an output, and every encoded form they travel in.

    It is the one way a value becomes masked: :meth:`protect` for a value, :meth:`protect_connection`
    for every sensitive value of a connection. Both dedupe, and both say (once per owner, through the
    warning sink) when a value is too short to mask. ``protect`` may be called from any thread while
    other threads mask: the compiled search state is immutable and replaced whole, rebuilt on first use
    after a change. A disabled masker (``--mask-credentials=false``) accepts every value and hides none.
    """

    MASK = _MASK.decode()
    MIN_LENGTH = 6

    def __init__(
        self, secrets: Iterable[str] = (), *, enabled: bool = True, warn: Callable[[str], None] | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._forms: set[bytes] = set()
        self._matcher: _Matcher | None = None
        self._enabled = enabled
        self._warn = warn
        self._warned: set[str] = set()
        self._connections: dict[int, HasSecrets] = {}
        self._spaced = False  # whether a secret holds a space, so that `+` in a URL may stand for it
        for secret in secrets:
            self.protect(secret)

    def warn_to(self, sink: Callable[[str], None]) -> None:
        """Where warnings about values too short to mask go from now on (pybruin's own output)."""
        self._warn = sink

    def protect(self, secret: str, *, owner: str | None = None, requested: bool = False) -> bool:
        """Register secret with all its forms; False, registering nothing, when it is too short.

        Values shorter than MIN_LENGTH are refused because masking them would shred ordinary output;
        when ``owner`` names where the value comes from (``connection 'x'``, ``asset 'y'``, ``variable
        'Z'``), a warning says so, once per owner. ``requested`` phrases it for a value an asset asked
        to mask. The whitespace-trimmed value is registered as well: files such as PEM keys end in a
        newline that programs usually strip before printing.
        """
        if not self._enabled:
            return True
        if len(secret) < self.MIN_LENGTH:
            if owner is not None:
                what = "asked to mask a value" if requested else "has a sensitive value"
                self._warn_once(
                    owner,
                    f"warning: {owner} {what} shorter than {self.MIN_LENGTH} characters; it cannot be masked in output",
                )
            return False
        forms = _forms(secret)
        trimmed = secret.strip()
        if trimmed != secret and len(trimmed) >= self.MIN_LENGTH:
            forms |= _forms(trimmed)
        with self._lock:
            self._spaced = self._spaced or " " in secret
            if not forms <= self._forms:
                self._forms |= forms
                self._matcher = None
        return True

    def protect_connection(self, connection: HasSecrets) -> bool:
        """Register every sensitive value of a connection (once per connection object); False when one of
        them was too short to mask."""
        if id(connection) in self._connections:
            return True
        self._connections[id(connection)] = connection  # kept, so its id is not reused while we live
        owner = f"connection '{connection.name}'"
        return all([self.protect(value, owner=owner) for value in connection.sensitive_values()])

    def _warn_once(self, owner: str, message: str) -> None:
        with self._lock:
            if owner in self._warned:
                return
            self._warned.add(owner)
        if self._warn is not None:
            self._warn(message)

    def mask(self, text: str) -> str:
        """A message of pybruin's own: every occurrence of every form replaced by ``****``, and the userinfo
        of every URL in it too (a DSN pasted into a non-secret field such as `host` carries a password)."""
        if not self._enabled:
            return text
        text = hide_url_userinfo(text)
        if not self._forms:
            return text
        data, errors = _encode(text)
        return self.mask_bytes(data).decode("utf-8", errors)

    def mask_bytes(self, data: bytes) -> bytes:
        """data with every occurrence of every form replaced by ``****``, also where a terminal or a URL
        decoder would read one: split by escape sequences, or percent-escaped in any mix and case."""
        matcher = self._current()
        if matcher is None:
            return data
        runs, dropped = self._runs(matcher, data)
        return _splice(data, runs, len(data), continued=False, dropped=dropped)

    def _runs(self, matcher: _Matcher, data: bytes) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Where data must be masked: the forms found in it, and in every view of it, as data's own spans; and
        the escape sequences to drop from the lines where a terminal would have shown a secret that they split
        (those lines are written masked and uncoloured)."""
        runs = matcher.runs(data)
        views = _views(data, plus_is_space=self._spaced)
        if not views:
            return runs, []
        found = [(span, view.terminal) for view in views for span in view.spans(matcher.runs(view.data))]
        merged = _merge([*runs, *(span for span, _ in found)])
        lines = _merge(_line_around(data, span) for span, terminal in found if terminal and span not in runs)
        dropped = [
            found.span()
            for start, end in lines
            for found in TERMINAL_SEQUENCE.finditer(data, start, end)
            if not any(run_start <= found.start() < run_end for run_start, run_end in merged)
        ]
        return merged, dropped

    def _tail_start(self, matcher: _Matcher, data: bytes) -> int:
        """Where a held-back tail begins: a prefix of a form, also in a view, or a sequence not finished yet."""
        cut = matcher.tail_start(data)
        unfinished = _UNFINISHED.search(data, max(0, len(data) - 4096))
        if unfinished is not None and unfinished.start() < len(data):
            cut = min(cut, unfinished.start())
            data = data[: unfinished.start()]  # held back anyway; what precedes it may begin a form
            cut = min(cut, matcher.tail_start(data))
        for view in _views(data, plus_is_space=self._spaced):
            start = matcher.tail_start(view.data)
            if start < len(view.data):
                cut = min(cut, view.start_of(start))
        return cut

    def stream(self) -> MaskingStream:
        """A masking filter for one byte stream that arrives in pieces."""
        return MaskingStream(self)

    def __bool__(self) -> bool:
        return bool(self._forms)

    @property
    def enabled(self) -> bool:
        return self._enabled

    def _current(self) -> _Matcher | None:
        """The compiled state for the forms registered so far; None while there are none."""
        matcher = self._matcher
        if matcher is None and self._forms:
            with self._lock:
                if self._matcher is None:
                    self._matcher = _Matcher(frozenset(self._forms))
                matcher = self._matcher
        return matcher


class MaskingStream:
    """Masks a byte stream (a child's output, say) that arrives in pieces of any size.

    Only a tail that could still grow into a form is held back, so a secret split across pieces is
    masked while ordinary output passes on at once. Secrets added to the masker mid-stream apply
    from the next piece. A stream serves one producer; it is not meant to be shared across threads.
    """

    def __init__(self, masker: Masker) -> None:
        self._masker = masker
        self._pending = b""  # raw bytes held back because a form may start in them
        self._covered = 0  # leading bytes of _pending that an already emitted mask stands for

    def feed(self, data: bytes) -> bytes:
        """Take the next piece; return the masked bytes that are safe to emit now."""
        return self._release(self._pending + data, final=False)

    def flush(self) -> bytes:
        """End of stream: return everything still held back, masked."""
        return self._release(self._pending, final=True)

    def _release(self, buffer: bytes, *, final: bool) -> bytes:
        matcher = self._masker._current()
        if matcher is None:
            self._pending = b""
            return buffer
        runs, dropped = self._masker._runs(matcher, buffer)
        continued = self._covered > 0
        if continued:
            runs = _merge([(0, self._covered), *runs])
        cut = len(buffer) if final else self._masker._tail_start(matcher, buffer)
        straddling = next((end for start, end in runs if start < cut < end), cut)
        self._covered = straddling - cut
        self._pending = buffer[cut:]
        return _splice(buffer, runs, cut, continued=continued, dropped=dropped)


class _Matcher:
    """The compiled search state for one fixed set of forms; never changed once built."""

    def __init__(self, forms: frozenset[bytes]) -> None:
        # An occurrence can reach this far to either side of any byte inside it.
        self.reach = max(map(len, forms)) - 1
        anchors = {form: _anchor(form) for form in forms}
        # Every occurrence contains one of these bytes; a piece with none of them needs no scan at all.
        self._anchor_bytes = [bytes([byte]) for byte in sorted({form[index] for form, index in anchors.items()})]
        sentinel = min(form[index] for form, index in anchors.items())
        table = bytearray(range(256))
        for form, index in anchors.items():
            table[form[index]] = sentinel
        self._merge_anchors = bytes(table)
        words = {form[index:].translate(self._merge_anchors) for form, index in anchors.items()}
        self._scanner = re.compile(_trie_pattern(words, any_match=True))
        self._finder = re.compile(b"(?=(" + _trie_pattern(forms) + b"))")
        # A suffix is a proper prefix of a form exactly when it is a prefix of a form minus its last byte.
        stems = {form[:-1] for form in forms}
        by_head: defaultdict[bytes, list[bytes]] = defaultdict(list)
        for stem in stems:
            if len(stem) >= _HEAD:
                by_head[stem[:_HEAD]].append(stem)
        self._stems_by_head = dict(by_head)
        self._stem_bytes = bytes(sorted(set().union(*stems)))
        self._heads = re.compile(_trie_pattern(by_head.keys()))
        self._short_prefixes = frozenset(
            stem[:size] for stem in stems for size in range(1, min(len(stem), _HEAD - 1) + 1)
        )

    def runs(self, data: bytes) -> list[tuple[int, int]]:
        """The maximal stretches of data covered by occurrences of forms, as sorted (start, end)."""
        windows = self._windows_near_anchors(data)
        if windows is None:
            windows = [
                (max(hit.start() - self.reach, 0), min(hit.end() + self.reach, len(data)))
                for hit in self._scanner.finditer(data.translate(self._merge_anchors))
            ]
        return _merge(
            found.span(1) for start, end in _merge(windows) for found in self._finder.finditer(data, start, end)
        )

    def _windows_near_anchors(self, data: bytes) -> list[tuple[int, int]] | None:
        """Where an occurrence could be, around each anchor byte in data; None when there are too many to
        visit one by one (the scanner is faster then). Finding a byte is a memchr, far faster than a scan."""
        windows: list[tuple[int, int]] = []
        for anchor in self._anchor_bytes:
            position = data.find(anchor)
            while position >= 0:
                if len(windows) == _FEW_ANCHORS:
                    return None
                windows.append((max(position - self.reach, 0), min(position + self.reach + 1, len(data))))
                position = data.find(anchor, position + 1)
        return windows

    def tail_start(self, data: bytes) -> int:
        """Where the longest suffix of data that is a proper prefix of a form begins; len(data) if none."""
        end = len(data)
        # Such a suffix is made only of bytes that occur in forms, so it lies in data's trailing run of those.
        window = data[-self.reach :]
        pos = end - len(window) + len(window.rstrip(self._stem_bytes))
        while (head := self._heads.search(data, pos)) is not None:
            suffix = data[head.start() :]
            if any(stem.startswith(suffix) for stem in self._stems_by_head[head.group()]):
                return head.start()
            pos = head.start() + 1
        short = range(max(end - _HEAD + 1, pos), end)
        return next((start for start in short if data[start:] in self._short_prefixes), end)


class _View:
    """Bytes as a reader sees them (a terminal, a URL decoder), and which bytes of the original each came from.

    Built from a pattern whose matches are replaced (by nothing, or one decoded byte); every other byte is
    kept. `segments` are ``(view start, original start, original end, kept)``, in order.
    """

    def __init__(
        self,
        data: bytes,
        pattern: re.Pattern[bytes],
        replace: Callable[[re.Match[bytes]], bytes],
        *,
        terminal: bool = False,
    ) -> None:
        #: Whether this is what a terminal shows (rather than what a URL decoder reads).
        self.terminal = terminal
        pieces: list[bytes] = []
        self.segments: list[tuple[int, int, int, bool]] = []
        position = last = 0
        for found in pattern.finditer(data):
            start, end = found.span()
            if start > last:
                self.segments.append((position, last, start, True))
                pieces.append(data[last:start])
                position += start - last
            replacement = replace(found)
            if replacement:
                self.segments.append((position, start, end, False))
                pieces.append(replacement)
                position += len(replacement)
            last = end
        if last < len(data):
            self.segments.append((position, last, len(data), True))
            pieces.append(data[last:])
        self.data = b"".join(pieces)
        self._starts = [segment[0] for segment in self.segments]

    def start_of(self, index: int) -> int:
        """Where the view's byte `index` begins in the original (a decoded byte: where its escape begins)."""
        view_start, start, _, kept = self.segments[bisect.bisect_right(self._starts, index) - 1]
        return start + (index - view_start) if kept else start

    def spans(self, runs: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
        """The view's runs as spans of the original, covering whatever the view dropped inside them."""
        for start, end in runs:
            view_start, last_start, last_end, kept = self.segments[bisect.bisect_right(self._starts, end - 1) - 1]
            yield self.start_of(start), (last_start + end - view_start if kept else last_end)


def _views(data: bytes, *, plus_is_space: bool) -> list[_View | _Composed]:
    """The views of data that differ from it: what a terminal shows, what URL decoding gives, and both."""
    present = data.translate(None, _NOT_VIEW_BYTES)
    if not present:
        return []
    views: list[_View | _Composed] = []
    bases = [data]
    if present.strip(b"%+"):
        terminal = _View(data, TERMINAL_SEQUENCE, lambda _: b"", terminal=True)
        if terminal.data != data:
            views.append(terminal)
            bases.append(terminal.data)
    if b"%" in present or (plus_is_space and b"+" in present):
        patterns = [_PERCENT, _PERCENT_OR_PLUS] if plus_is_space and b"+" in present else [_PERCENT]
        for base in bases:
            for pattern in patterns:
                decoded = _View(base, pattern, _decode_escape)
                if decoded.data != base:
                    views.append(decoded if base is data else _Composed(views[0], decoded))
    return views


class _Composed:
    """A view of a view (URL decoding of what a terminal shows), mapped back to the original."""

    terminal = True

    def __init__(self, outer: _View, inner: _View) -> None:
        self.data = inner.data
        self._outer = outer
        self._inner = inner

    def start_of(self, index: int) -> int:
        return self._outer.start_of(self._inner.start_of(index))

    def spans(self, runs: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
        return self._outer.spans(self._inner.spans(runs))


def _decode_escape(found: re.Match[bytes]) -> bytes:
    text = found[0]
    return b" " if text == b"+" else bytes([int(text[1:], 16)])


def hide_url_userinfo(text: str, *, keep_user: bool = True) -> str:
    """text with the credentials of every URL in it replaced by ``****``: the password (the user name is kept
    unless `keep_user` is False), or the whole userinfo when it has no password (a token, then)."""

    def hide(found: re.Match[str]) -> str:
        scheme, user = found[1], found[2]
        return f"{scheme}{user}:****@" if keep_user and user is not None else f"{scheme}****@"

    return _URL_USERINFO.sub(hide, text)


def strip_terminal_sequences(data: bytes) -> bytes:
    """data without what a terminal does not show (for a log file, which is read as plain text)."""
    return TERMINAL_SEQUENCE.sub(b"", data)


def _forms(secret: str) -> set[bytes]:
    """Every byte string secret can appear as in output, at least MIN_LENGTH bytes long."""
    raw, errors = _encode(secret)
    forms = {
        json.dumps(secret)[1:-1].encode(),
        json.dumps(secret, ensure_ascii=False)[1:-1].encode("utf-8", errors),
    }
    for value in (raw, *(text.encode() for text in _base64_forms(raw))):
        forms.add(value)
        forms.update(escape(value).encode() for escape in _URL_ESCAPES)
    return {form for form in forms if len(form) >= Masker.MIN_LENGTH}


def _base64_forms(raw: bytes) -> Iterator[str]:
    """Base64 of raw alone, and what raw contributes to any longer base64 blob it sits in.

    Inside a blob, raw starts 0, 1 or 2 bytes into a 3-byte group. For each alignment the
    characters whose 6 bits all come from raw are the same whatever surrounds it; those are kept,
    in both the standard and the URL-safe alphabet.
    """
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        yield encode(raw).decode()
        for offset in range(3):
            encoded = encode(bytes(offset) + raw).decode()
            yield encoded[-(-8 * offset // 6) : 8 * (offset + len(raw)) // 6]


def _encode(text: str) -> tuple[bytes, str]:
    """text as UTF-8, and the error handler that decodes it back to text.

    Values from a non-UTF-8 environment carry their undecodable bytes as surrogate escapes; those
    become the original bytes again, because that is what a child process prints.
    """
    try:
        return text.encode("utf-8", "surrogateescape"), "surrogateescape"
    except UnicodeEncodeError:  # a lone surrogate that stands for no byte
        return text.encode("utf-8", "surrogatepass"), "surrogatepass"


def _anchor(form: bytes) -> int:
    """Where the scanner starts looking for form: its rarest byte, leaving _SCAN_MIN bytes to check."""
    return min(range(len(form) - _SCAN_MIN + 1), key=lambda index: _COMMONNESS[form[index]])


def _trie_pattern(words: Iterable[bytes], *, any_match: bool = False) -> bytes:
    """One regex for many literal words, shaped as a trie so a position costs one walk down it.

    It matches the longest word at a position; with any_match, the shortest, which is enough to
    learn that one is there.
    """
    branches = []
    for _, group in itertools.groupby(sorted(words), key=operator.itemgetter(0)):
        bucket = list(group)  # sorted, so its first and last words differ the earliest
        stem = bucket[0][: _common_length(bucket[0], bucket[-1])]
        rests = [word[len(stem) :] for word in bucket if len(word) > len(stem)]
        branch = re.escape(stem)
        if len(rests) == len(bucket):
            branch += _trie_pattern(rests, any_match=any_match)
        elif rests and not any_match:
            branch += b"(?:" + _trie_pattern(rests) + b")?"
        branches.append(branch)
    return branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"


def _common_length(first: bytes, second: bytes) -> int:
    """The length of the longest common prefix of two byte strings."""
    return next(
        (index for index, (a, b) in enumerate(zip(first, second, strict=False)) if a != b),
        min(len(first), len(second)),
    )


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans sorted, with overlapping ones joined."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _splice(
    data: bytes,
    runs: list[tuple[int, int]],
    stop: int,
    *,
    continued: bool,
    dropped: Sequence[tuple[int, int]] = (),
) -> bytes:
    """data[:stop] with each run replaced by the mask and each dropped span removed, except that a run at 0
    is dropped when it continues one whose mask was already emitted."""
    pieces = []
    position = 0
    edits = sorted([*((start, end, True) for start, end in runs), *((start, end, False) for start, end in dropped)])
    for start, end, masked in edits:
        if start >= stop:
            break
        pieces.append(data[position:start])
        if masked and not (continued and start == 0):
            pieces.append(_MASK)
        position = end
    pieces.append(data[position:stop])
    return b"".join(pieces)


def _line_around(data: bytes, span: tuple[int, int]) -> tuple[int, int]:
    """The whole lines of data that span touches."""
    end = data.find(b"\n", span[1])
    return data.rfind(b"\n", 0, span[0]) + 1, len(data) if end < 0 else end
