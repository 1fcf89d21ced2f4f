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
