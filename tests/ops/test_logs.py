"""Logging: one line per event, JSON on request, and the token never reaches a log line."""

from __future__ import annotations

import io
import json
import logging
from typing import Iterator

import pytest

from bot.ops import logs

# shaped like a real bot token (id . timestamp . hmac), but not one
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"
DB_URL = "postgres://bot:s3cr3t-pass@db.internal:5432/outage"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    level = root.level
    out = io.StringIO()
    handler = logs.setup_logging("text", secrets=[TOKEN], database_url=DB_URL, stream=out)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture
def json_stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    level = root.level
    out = io.StringIO()
    handler = logs.setup_logging("json", secrets=[TOKEN], database_url=DB_URL, stream=out)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _emit_everything(log: logging.Logger) -> None:
    """Every way a secret can slip into a record."""
    log.info("starting with token %s", TOKEN)
    log.info(f"headers={{'Authorization': 'Bot {TOKEN}'}}")
    log.warning("connecting to %s", DB_URL)
    log.info("plain %r", {"token": TOKEN})
    log.info("event", extra={"auth": f"Bot {TOKEN}", "dsn": DB_URL})
    try:
        raise RuntimeError(f"401 Unauthorized for token {TOKEN} at {DB_URL}")
    except RuntimeError:
        log.exception("login failed")
    log.info("stack", stack_info=True)
    log.info("Authorization: Bot %s", "AnOtherUnregisteredTokenValue.x1y2z3.ABCDEFGHIJKLMNOPQRSTUVWXYZ01")


def test_text_lines_never_hold_a_secret(stream: io.StringIO) -> None:
    _emit_everything(logging.getLogger("bot.test"))
    out = stream.getvalue()
    lines = out.splitlines()
    assert len(lines) == 8  # one line per event, tracebacks included
    assert TOKEN not in out and "s3cr3t-pass" not in out and "AnOtherUnregisteredTokenValue" not in out
    assert logs.MASK in lines[0] and "starting with token" in lines[0]
    assert "Bot [REDACTED]" in lines[1]
    assert "postgres://bot:[REDACTED]@db.internal:5432/outage" in lines[2]
    assert "auth=Bot [REDACTED]" in lines[4]
    assert "| exc=Traceback" in lines[5] and "RuntimeError: 401 Unauthorized for token [REDACTED]" in lines[5]
    assert " INFO bot.test: " in lines[0]


def test_json_lines_never_hold_a_secret(json_stream: io.StringIO) -> None:
    _emit_everything(logging.getLogger("bot.test"))
    out = json_stream.getvalue()
    assert TOKEN not in out and "s3cr3t-pass" not in out
    docs = [json.loads(line) for line in out.splitlines()]
    assert len(docs) == 8
    assert docs[0]["level"] == "INFO" and docs[0]["logger"] == "bot.test" and docs[0]["ts"].endswith("Z")
    assert docs[4]["auth"] == "Bot [REDACTED]" and docs[4]["dsn"] == "postgres://bot:[REDACTED]@db.internal:5432/outage"
    assert docs[5]["msg"] == "login failed" and "[REDACTED]" in docs[5]["exc"]
    assert "stack" in docs[6]


def test_other_handlers_see_redacted_records_too(stream: io.StringIO, caplog: pytest.LogCaptureFixture) -> None:
    """A handler we did not install (discord.py's, pytest's) still gets no token."""
    caplog.set_level(logging.DEBUG)
    logging.getLogger("discord.http").debug("PATCH /x with headers {'Authorization': 'Bot %s'}", TOKEN)
    logging.getLogger("discord.client").error("bad", exc_info=ValueError(f"token={TOKEN}"))
    assert caplog.records
    assert TOKEN not in caplog.text
    assert all(TOKEN not in r.getMessage() and TOKEN not in (r.exc_text or "") for r in caplog.records)


def test_arabic_stays_readable_in_json(json_stream: io.StringIO) -> None:
    logging.getLogger("bot.render").info("تنبيه: إكس متوقف\nسطر ثان")
    doc = json.loads(json_stream.getvalue().splitlines()[-1])
    assert doc["msg"] == "تنبيه: إكس متوقف\nسطر ثان"
    assert "تنبيه" in json_stream.getvalue()


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "GitHub is down (partial_outage) since 12:51 — 25,800 reports, see https://www.githubstatus.com"
    assert logs.redact(text) == text
    logs.add_secret("ab")  # too short to be a secret: would mask ordinary words
    assert logs.redact("about") == "about"


# --- issue 14, item 3: linear redaction, bounded records -------------------------------------

import re  # noqa: E402
import re._constants as sre_constants  # noqa: E402
import re._parser as sre_parser  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

#: the URL-password rule as a regular expression (what the scanner must agree with)
_URL_PASSWORD_REGEX = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)([^@\s]+)(@)")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["a", "B", "1", "+", ".", "-", ":", "/", "@", " ", "\n", "://", "x://u:", "é"]), max_size=30).map("".join))
def test_the_url_password_scanner_masks_what_the_regex_would(text: str) -> None:
    expected = _URL_PASSWORD_REGEX.sub(lambda m: f"{m.group(1)}{logs.MASK}{m.group(3)}", text)
    assert logs._mask_url_passwords(text) == expected


def _unbounded_repeats(parsed: sre_parser.SubPattern) -> list[tuple[int, bool]]:
    """(index, is last item) of every repeat without an upper bound, anywhere in the pattern."""
    found: list[tuple[int, bool]] = []
    items = list(parsed)
    for index, (op, av) in enumerate(items):
        last = index == len(items) - 1
        if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT):
            low, high, sub = av
            if high is sre_constants.MAXREPEAT:
                found.append((index, last))
            found.extend((i, False) for i, _ in _unbounded_repeats(sub))
            assert high is sre_constants.MAXREPEAT or high <= 64, f"repeat of up to {high}"
        elif op is sre_constants.SUBPATTERN:
            found.extend((i, False) for i, _ in _unbounded_repeats(av[-1]))
        elif op is sre_constants.BRANCH:
            for branch in av[1]:
                found.extend((i, False) for i, _ in _unbounded_repeats(branch))
    return found


@pytest.mark.parametrize("pattern", logs.PATTERNS, ids=lambda p: p.pattern[:30])
def test_redaction_patterns_cannot_backtrack_far(pattern: re.Pattern[str]) -> None:
    """Linear time by construction: a repeat is bounded (at most 64), or has no upper bound
    only as the very last item — once it runs, the match has succeeded and what it read is
    consumed. So a failed attempt at any position reads a bounded number of characters, and
    the 7.8 s of a 100 kB URL (a leading unbounded ``[A-Za-z0-9+.-]*`` retried at every
    position) cannot come back."""
    repeats = _unbounded_repeats(sre_parser.parse(pattern.pattern, pattern.flags))
    assert all(last for _, last in repeats), pattern.pattern


def test_a_megabyte_log_value_is_read_only_up_to_the_bound(stream: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    """A record carries at most MESSAGE_MAX / VALUE_MAX / TRACE_MAX characters, and redaction
    never reads more than that plus a small margin, whatever a user typed."""
    seen: list[int] = []
    real = logs.redact

    def measuring(text: str, **kwargs: object) -> str:
        seen.append(len(text))
        return real(text, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(logs, "redact", measuring)
    huge = "x " * 500_000  # 1 MB
    try:
        raise ValueError(huge)
    except ValueError:
        logging.getLogger("bot.test").exception("isitdown %r", huge, extra={"options": {"service": huge}, "many": list(range(10_000))})
    line = stream.getvalue()
    assert seen and max(seen) <= logs.TRACE_MAX + 1_000
    assert len(line) < logs.MESSAGE_MAX + logs.TRACE_MAX + logs.VALUE_MAX + logs.ITEMS_MAX * 20 + 2_000
    assert "more characters]" in line and "more items" in line


def test_a_secret_cut_by_the_bound_is_still_masked() -> None:
    """The cut happens after redaction, and a URL password running past it is masked."""
    for offset in range(logs.MESSAGE_MAX - 60, logs.MESSAGE_MAX + 5, 7):
        text = "a" * offset + " " + TOKEN + " " + "b" * 5_000
        assert TOKEN[:12] not in logs.bounded(text, logs.MESSAGE_MAX)
    text = "x" * (logs.MESSAGE_MAX - 40) + " postgres://bot:" + "p" * 10_000 + "@db"
    assert "ppppp" not in logs.bounded(text, logs.MESSAGE_MAX)


def test_a_token_shaped_string_nobody_registered_is_masked_by_its_shape() -> None:
    """A bot token that is not the configured one (another bot's, pasted into an outside
    error text) has no registered value to search for and no ``Authorization`` header around
    it: the token's shape alone must mask it."""
    stray = "MTA5OTg3NjU0MzIxMDk4NzY1NA.Gh1Jk2.abcdefghijklmnopqrstuvwxyz0123456789AB"
    out = logs.redact(f"discord said 401 for {stray} while posting")
    assert stray not in out and "while posting" in out and "discord said 401 for" in out


@pytest.mark.parametrize("fmt", ["stream", "json_stream"])
def test_outside_text_can_neither_forge_nor_hide_log_lines(fmt: str, request: pytest.FixtureRequest) -> None:
    """A status page title or a user's input reaching a log line may carry terminal escape
    sequences (ANSI, C1 CSI), bidi overrides or line separators: they are written escaped."""
    out: io.StringIO = request.getfixturevalue(fmt)
    hostile = "Degraded\x1b[2J\x1b[31m fake\r\n2026-01-01T00:00:00Z INFO forged\u2028 \u202eevil\x9b1m end"
    logging.getLogger("bot.test").warning("title %s", hostile, extra={"title": hostile})
    [line] = out.getvalue().splitlines()
    for ch in "\x1b\r\u2028\u202e\x9b":
        assert ch not in line
    if fmt == "json_stream":
        doc = json.loads(line)
        assert doc["msg"] == f"title {hostile}" and doc["title"] == hostile  # nothing lost, only escaped
    else:
        assert "\\u001b[2J" in line and "\\u202eevil" in line and "\\n2026-01-01" in line
