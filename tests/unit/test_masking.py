"""The masking engine: every encoded form of a secret is masked, whole or streamed in pieces."""

from __future__ import annotations

import base64
import io
import json
import os
import random
import string
import subprocess
import sys
import threading
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import pytest

from pybruin.masking import Masker
from pybruin.run.output import RunOutput
from pybruin.run.report import RunReport
from pybruin.run.scheduler import Status, TaskResult

DEMO_TOKEN = "sk_demo_social_7K9m+Q2pX="
# Every character class an encoder treats specially: URL-reserved, JSON-escaped, non-ASCII.
AWKWARD = 'p@ss w/rd+x=y:;,$&?"\\\n\t é€😀 canary-AWK-91'


def stream_all(masker: Masker, data: bytes, sizes: Callable[[], int]) -> bytes:
    """data fed through a fresh stream in pieces of the given sizes, then flushed."""
    stream = masker.stream()
    out = []
    position = 0
    while position < len(data):
        size = sizes()
        out.append(stream.feed(data[position : position + size]))
        position += size
    out.append(stream.flush())
    return b"".join(out)


def base64_core(secret: bytes, offset: int, encode: Callable[[bytes], bytes]) -> bytes:
    """The base64 characters that depend only on secret when it starts offset bytes into a group."""
    encoded = encode(bytes(offset) + secret)
    return encoded[-(-8 * offset // 6) : 8 * (offset + len(secret)) // 6]


def test_upstream_demo_printed_raw_quoted_and_base64_by_a_child_is_masked() -> None:
    script = (
        "import base64, os, sys, urllib.parse\n"
        "token = os.environ['DEMO_API_TOKEN']\n"
        "print('raw:', token)\n"
        "print('quoted:', urllib.parse.quote(token))\n"
        "print('base64:', base64.b64encode(token.encode()).decode())\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "DEMO_API_TOKEN": DEMO_TOKEN},
        capture_output=True,
        check=True,
    )
    masker = Masker([DEMO_TOKEN])
    for size in (1, 7, 64 * 1024):
        out = stream_all(masker, child.stdout, lambda size=size: size)
        assert out == b"raw: ****\nquoted: ****\nbase64: ****\n"
    assert masker.mask(child.stdout.decode()) == "raw: ****\nquoted: ****\nbase64: ****\n"


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: s,
        lambda s: quote_plus(s, safe=""),
        lambda s: quote(s, safe="$&+:=@"),
        lambda s: quote(s, safe="$&+,;="),
        quote,
        lambda s: json.dumps(s)[1:-1],
        lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
        lambda s: base64.b64encode(s.encode()).decode(),
        lambda s: base64.urlsafe_b64encode(s.encode()).decode(),
        lambda s: quote_plus(base64.b64encode(s.encode()).decode()),
        lambda s: quote(base64.b64encode(s.encode()).decode(), safe=""),
    ],
    ids=[
        "raw", "query", "path", "userinfo", "quote-default", "json", "json-unicode",
        "base64", "base64-urlsafe", "base64-query", "base64-escaped",
    ],
)  # fmt: skip
def test_each_form_is_masked_in_context(encode: Callable[[str], str]) -> None:
    masker = Masker([AWKWARD])
    form = encode(AWKWARD)
    assert masker.mask(f"before {form} after") == "before **** after"
    assert masker.mask_bytes(f"<{form}>".encode()) == b"<****>"


def test_json_payload_stays_valid_json_with_the_value_masked() -> None:
    masker = Masker([AWKWARD])
    for ensure_ascii in (True, False):
        payload = json.dumps({"password": AWKWARD, "user": "bob"}, ensure_ascii=ensure_ascii)
        masked = masker.mask(payload)
        assert json.loads(masked) == {"password": "****", "user": "bob"}
        assert "canary-AWK-91" not in masked


def test_upstream_url_shapes() -> None:
    secret = "p@ss w/rd+x=y"
    masker = Masker([secret])
    assert masker.mask(f"postgres://user:{quote(secret, safe='$&+,;=')}@host/db") == "postgres://user:****@host/db"
    assert masker.mask(f"/v1?api_key={quote_plus(secret)}&league=39") == "/v1?api_key=****&league=39"
    creds = base64.b64encode(secret.encode()).decode()
    assert masker.mask(f"/v1?creds={quote_plus(creds)}") == "/v1?creds=****"
    assert masker.mask(f"/v1/{quote(creds, safe='$&+:=@')}/items") == "/v1/****/items"
    assert masker.mask("region_name=us-east-1 loose text") == "region_name=us-east-1 loose text"


@pytest.mark.parametrize("prefix_length", range(6))
def test_base64_inside_longer_blobs_at_every_alignment(prefix_length: int) -> None:
    rng = random.Random(prefix_length)
    secret = "canary-B64-" + "".join(rng.choices(string.ascii_letters + string.digits + "+/=", k=17))
    masker = Masker([secret])
    for _ in range(25):
        prefix = rng.randbytes(prefix_length)
        suffix = rng.randbytes(rng.randint(0, 7))
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            blob = encode(prefix + secret.encode() + suffix).decode()
            core = base64_core(secret.encode(), prefix_length % 3, encode).decode()
            assert core in blob
            for shown in (blob, quote_plus(blob), quote(blob, safe="$&+:=@"), f"Authorization: Basic {blob}"):
                masked = masker.mask(shown)
                assert masked != shown
                assert "****" in masked
                assert core not in masked
                assert quote_plus(core) not in masked


def test_min_length_secret_is_caught_in_base64_at_every_alignment() -> None:
    secret = b"q7#Kz!"
    masker = Masker([secret.decode()])
    for offset in range(3):
        blob = base64.b64encode(b"\x01" * offset + secret + b"\x02\x03").decode()
        core = base64_core(secret, offset, base64.b64encode).decode()
        assert len(core) >= Masker.MIN_LENGTH
        assert core not in masker.mask(blob)


def test_longest_form_wins_when_a_secret_contains_another() -> None:
    inner = "inner-canary-42"
    outer = f"prefix-{inner}-suffix"
    for masker in (Masker([inner, outer]), Masker([outer, inner])):
        assert masker.mask(f"a {outer} b") == "a **** b"
        assert masker.mask(f"a {inner} b") == "a **** b"


def test_overlapping_secrets_are_masked_as_one_stretch() -> None:
    masker = Masker(["XYZSECRET1", "RET1abcdef"])
    assert masker.mask("<XYZSECRET1abcdef>") == "<****>"
    assert masker.mask("<XYZSECRET1><XYZSECRET1>") == "<****><****>"


def test_short_values_are_refused() -> None:
    masker = Masker(["", "abc", "12345"])
    assert not masker
    assert masker.protect("") is False
    assert masker.protect("x" * (Masker.MIN_LENGTH - 1)) is False
    assert not masker
    assert masker.mask("abc 12345 xxxxx") == "abc 12345 xxxxx"
    assert masker.stream().feed(b"abc 12345") == b"abc 12345"
    assert masker.protect("abcdef") is True
    assert masker
    assert masker.mask("abc abcdef") == "abc ****"


def test_secret_split_across_two_feeds_at_every_point() -> None:
    secret = "canary-SPLIT-7f3e9a"
    masker = Masker([secret])
    for form in (secret, base64.b64encode(secret.encode()).decode(), quote_plus(secret)):
        data = f"head {form} tail".encode()
        for split in range(1, len(data)):
            stream = masker.stream()
            out = stream.feed(data[:split]) + stream.feed(data[split:]) + stream.flush()
            assert out == b"head **** tail", split


def test_only_a_real_prefix_is_held_back() -> None:
    secret = "canary-HOLD-2b8d1c"
    masker = Masker([secret])
    stream = masker.stream()
    assert stream.feed(b"ordinary output line\n") == b"ordinary output line\n"
    assert stream.feed(b"no newline yet, no prefix") == b"no newline yet, no prefix"
    assert stream.feed(b"token=" + secret[:9].encode()) == b"token="
    assert stream.feed(b"x") == secret[:9].encode() + b"x"
    # The secret's last byte could also start another occurrence: it is held, yet masked only once.
    assert stream.feed(b"token=" + secret.encode()) == b"token=****"
    assert stream.feed(b" done " + secret[:1].encode()) == b" done "
    assert stream.flush() == secret[:1].encode()
    assert stream.flush() == b""


def test_secret_start_alone_is_not_emitted_until_flush() -> None:
    secret = "canary-START-" + "9" * 27
    stream = Masker([secret]).stream()
    assert stream.feed(secret[:10].encode()) == b""
    assert stream.flush() == secret[:10].encode()


def test_flush_masks_a_complete_secret_still_held_back() -> None:
    short, longer = "canary-FLUSH", "canary-FLUSH-and-more"
    stream = Masker([short, longer]).stream()
    assert stream.feed(b"v=" + short.encode()) == b"v="
    assert stream.flush() == b"****"


def test_stream_matches_whole_text_masking_for_any_chunking() -> None:
    rng = random.Random(7)
    secrets = ["".join(rng.choices(string.ascii_letters + "+/=%", k=rng.randint(6, 30))) for _ in range(20)]
    secrets += [secrets[0] + secrets[1], secrets[2][3:] + "tail-overlap"]
    masker = Masker(secrets)
    encoders: list[Callable[[str], str]] = [
        lambda s: s,
        quote_plus,
        lambda s: json.dumps(s)[1:-1],
        lambda s: base64.b64encode(rng.randbytes(rng.randint(0, 4)) + s.encode()).decode(),
    ]
    parts = []
    for _ in range(400):
        parts.append(
            rng.choice(encoders)(rng.choice(secrets)) if rng.random() < 0.3 else rng.choice(["x", " ", "\n", "abc"])
        )
    data = "".join(parts).encode()
    expected = masker.mask_bytes(data)
    for secret in secrets:
        assert secret.encode() not in expected
    for _ in range(20):
        assert stream_all(masker, data, lambda: rng.randint(1, 40)) == expected


def test_multi_line_private_key_in_small_writes() -> None:
    rng = random.Random(3)
    body = base64.b64encode(rng.randbytes(600)).decode()
    key = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    key += "\n-----END PRIVATE KEY-----\n"
    masker = Masker([key])
    printed = f"loaded key:\n{key}as json: {json.dumps(key)}\nstripped: {key.strip()}.\n".encode()
    out = stream_all(masker, printed, lambda: 7)
    assert out == b'loaded key:\n****as json: "****"\nstripped: ****.\n'
    assert masker.mask(base64.b64encode(key.encode()).decode()) == "****"


def test_unicode_secret() -> None:
    secret = "pässwörd-€-😀-ü"
    masker = Masker([secret])
    for shown in (secret, json.dumps(secret)[1:-1], quote(secret), base64.b64encode(secret.encode()).decode()):
        assert masker.mask(f"[{shown}]") == "[****]"
    assert stream_all(masker, f"a {secret} b".encode(), lambda: 1) == b"a **** b"


def test_secret_from_a_non_utf8_environment_masks_the_bytes_a_child_prints() -> None:
    secret = os.fsdecode(b"canary-\xff\xfe-raw")
    masker = Masker([secret])
    assert masker.mask_bytes(b"got canary-\xff\xfe-raw!") == b"got ****!"
    assert masker.mask(f"got {secret}!") == "got ****!"
    assert masker.mask("lone \ud800 surrogate") == "lone \ud800 surrogate"


def test_trailing_newline_of_a_file_secret_is_not_required() -> None:
    masker = Masker(["file-contents-canary-55\n"])
    assert masker.mask("printed: file-contents-canary-55.") == "printed: ****."


def test_secrets_added_mid_stream_apply_to_later_feeds() -> None:
    masker = Masker(["canary-FIRST-111"])
    stream = masker.stream()
    assert stream.feed(b"a canary-FIRST-111 canary-LATER-222\n") == b"a **** canary-LATER-222\n"
    assert masker.protect("canary-LATER-222")
    assert stream.feed(b"b canary-FIRST-111 canary-LATER-222\n") == b"b **** ****\n"


def test_add_from_threads_while_streams_mask() -> None:
    masker = Masker(["canary-BASE-000"])
    errors: list[BaseException] = []
    added = [f"canary-THREAD-{index:03d}" for index in range(60)]

    def adder(names: list[str]) -> None:
        for name in names:
            masker.protect(name)

    def masker_thread() -> None:
        try:
            stream = masker.stream()
            for round_ in range(200):
                out = stream.feed(f"{round_} canary-BASE-000 ok\n".encode())
                assert b"canary-BASE-000" not in out
            stream.flush()
        except BaseException as error:  # reported to the main thread below
            errors.append(error)

    threads = [threading.Thread(target=adder, args=(added[i::3],)) for i in range(3)]
    threads += [threading.Thread(target=masker_thread) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    text = " ".join(added)
    assert masker.mask(text) == " ".join(["****"] * len(added))


def test_masker_and_stream_never_show_a_secret() -> None:
    secret = "canary-REPR-8c1d44"
    masker = Masker([secret])
    stream = masker.stream()
    stream.feed(b"x " + secret[:8].encode())
    for shown in (repr(masker), str(masker), repr(stream)):
        assert secret[:8] not in shown


@pytest.mark.parametrize("color", [True, False])
def test_run_summary_masks_errors_that_a_table_would_wrap(color: bool) -> None:
    secret = "canary-SUMMARY-" + "x7" * 40
    failed = TaskResult("a", Status.FAILED, 1.0, f"driver said [bold]no[/] to password {secret} on the host")
    report = RunReport("run", "p", "default", "2024-01-01T00:00:00+00:00", 1.0, [failed])
    masker = Masker([secret])
    summary = masker.mask(report.render_summary(color=color, mask=masker.mask, width=80))
    assert secret[:20] not in summary and "x7x7x7x7" not in summary
    assert "****" in summary
    assert "[bold]no[/]" in summary, "error text is shown as written, not read as markup"


def test_asset_output_without_line_ends_is_shown_in_masked_pieces_before_it_ends() -> None:
    secret = "canary-LONGLINE-4d2e9a"
    terminal = io.BytesIO()
    stream = RunOutput(Masker([secret]), terminal, timestamps=False).asset_stream("a")
    data = (b"\r" + b"#" * 1000 + secret.encode()) * 300  # a progress bar that never prints a newline
    for start in range(0, len(data), 4096):
        stream.feed(data[start : start + 4096])
    shown_while_running = terminal.getvalue()
    stream.close()
    shown = terminal.getvalue()
    assert shown_while_running, "nothing is shown until the process ends"
    assert secret.encode() not in shown
    pieces = shown.removesuffix(b"\n").split(b"\n")
    assert all(piece.startswith(b"[a] >> ") for piece in pieces)
    assert b"".join(piece.removeprefix(b"[a] >> ") for piece in pieces) == data.replace(secret.encode(), b"****")
