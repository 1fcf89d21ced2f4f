"""Logging set-up: one line per event (JSON with ``LOG_FORMAT=json``) and no secrets, ever.

Why a record factory *and* a handler filter: the factory redacts the message and the exception
text of every record the moment it is created — so a handler someone else attaches (discord.py's
own, pytest's ``caplog``) never sees the token either — and the handler filter also cleans the
``extra=`` fields that logging sets after the factory ran.

What is redacted: every registered secret (the Discord token, the database password), any
``Authorization: Bot …`` value, anything shaped like a Discord bot token, and the password of any
``scheme://user:password@host`` URL.

Redaction runs on the event loop for every record, so it is linear in the text: plain
substring search for the secrets, patterns whose only unbounded repeat ends the pattern (a
failed attempt never rescans more than a few dozen characters), and a scanner for URL
passwords that walks the text once. And a record carries a bounded amount of text
(``MESSAGE_MAX``, ``VALUE_MAX``, ``TRACE_MAX``): a longer value is cut — after redaction, with
its tail marked open so a secret cut in two is still masked — and says how much was left out.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import sys
import threading
import traceback
from datetime import datetime, timezone
from typing import Any, Iterable, TextIO
from urllib.parse import urlsplit

__all__ = ["JsonFormatter", "LineFormatter", "RedactingFilter", "add_secret", "bounded", "redact", "setup_logging"]

MASK = "[REDACTED]"
#: ``Bot <token>`` / ``Bearer <token>`` as sent in an Authorization header
_AUTH_RE = re.compile(r"(?i)\b(Bot|Bearer)(\s{1,16}|%20)[A-Za-z0-9._\-=+/]{8,}")
#: a Discord bot token: base64(user id) . base64(timestamp) . HMAC (bounded repeats only)
_TOKEN_RE = re.compile(r"\b[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,40}\b")
#: the patterns ``redact`` runs (``tests/ops/test_logs.py`` checks their shape)
PATTERNS = (_AUTH_RE, _TOKEN_RE)
_SCHEME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+.-")
_USER_RE = re.compile(r"[^:/@\s]*")
_SPACE_RE = re.compile(r"\s")
_MIN_SECRET = 4  # a shorter "secret" would mask ordinary words

#: what one log record may carry, in characters: its message, each ``extra=`` value (and
#: each item of a list or dict, of which ``ITEMS_MAX``), its traceback
MESSAGE_MAX = 4_000
VALUE_MAX = 1_000
ITEMS_MAX = 50
TRACE_MAX = 16_000
#: how far past a cut redaction still reads, so a token or secret straddling it is recognised
_CUT_MARGIN = 256

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()


def add_secret(secret: str | None) -> None:
    """Never let ``secret`` reach a log line (empty and very short values are ignored)."""
    global _secrets
    if not secret or len(secret) < _MIN_SECRET:
        return
    with _lock:
        if secret not in _secrets:
            # longest first, so a secret containing another is masked whole
            _secrets = tuple(sorted((*_secrets, secret), key=len, reverse=True))


def _database_password(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def redact(text: str, *, open_end: bool = False) -> str:
    """``text`` with every known secret and every secret-shaped value masked, in time linear
    in its length. ``open_end``: the text was cut, so a URL password running to its end is
    masked too (its ``@`` was cut off)."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _AUTH_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _TOKEN_RE.sub(MASK, text)
    return _mask_url_passwords(text, open_end=open_end)


def _mask_url_passwords(text: str, *, open_end: bool = False) -> str:
    """The password of every ``scheme://user:password@`` masked (what the regular expression
    ``[A-Za-z][A-Za-z0-9+.-]*://[^:/@\\s]*:([^@\\s]+)@`` finds, without its quadratic
    backtracking): one walk over the text. Each "://" is found once; the scheme before it and
    the user after it are runs that cannot contain another "://"; and the next "@" and the
    next space are looked up only when the walk has passed the last ones found."""
    n = len(text)
    out: list[str] = []
    copied = 0
    pos = 0
    next_at = next_space = -1  # cached: the first "@" / space at or after some earlier point
    while True:
        mark = text.find("://", pos)
        if mark < 0:
            break
        pos = mark + 1
        start = mark
        while start > copied and text[start - 1] in _SCHEME_CHARS:
            start -= 1
        if not any(ch.isalpha() for ch in text[start:mark]):
            continue
        colon = _USER_RE.match(text, mark + 3).end()  # type: ignore[union-attr]
        if colon >= n or text[colon] != ":":
            continue
        if next_at <= colon:
            found = text.find("@", colon + 1)
            next_at = found if found >= 0 else n
        if next_space <= colon:
            space = _SPACE_RE.search(text, colon + 1)
            next_space = space.start() if space else n
        end = min(next_at, next_space)
        if end == colon + 1 or (end == n and not open_end) or (end < n and text[end] != "@"):
            continue
        out.append(text[copied : colon + 1])
        out.append(MASK)
        copied = end
        pos = max(pos, end)
    if not out:
        return text
    out.append(text[copied:])
    return "".join(out)


def bounded(text: str, limit: int) -> str:
    """``text`` redacted and cut to ``limit`` characters (plus a note of what was left out).
    Only ``limit`` and a margin are ever read, whatever the length of ``text``."""
    if len(text) <= limit:
        return redact(text)
    kept = redact(text[: limit + _CUT_MARGIN], open_end=True)[:limit]
    return f"{kept}… [{len(text) - limit} more characters]"


def _redact_value(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return bounded(value, VALUE_MAX)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, (dict, list, tuple)) and depth < 3:
        return _redact_container(value, depth)
    return bounded(_short_repr(value), VALUE_MAX)


def _short_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception as exc:  # noqa: BLE001 - a broken __repr__ must not lose the record
        return f"<unrepresentable {type(value).__name__}: {type(exc).__name__}>"


def _redact_container(value: Any, depth: int) -> Any:
    """At most ``ITEMS_MAX`` items, each bounded; the rest counted."""
    if isinstance(value, dict):
        items = list(itertools.islice(value.items(), ITEMS_MAX))
        out: Any = {bounded(str(k), VALUE_MAX): _redact_value(v, depth + 1) for k, v in items}
        if len(value) > ITEMS_MAX:
            out["…"] = f"{len(value) - ITEMS_MAX} more items"
        return out
    listed = [_redact_value(v, depth + 1) for v in itertools.islice(value, ITEMS_MAX)]
    if len(value) > ITEMS_MAX:
        listed.append(f"… {len(value) - ITEMS_MAX} more items")
    return listed


def _scrub(record: logging.LogRecord) -> None:
    """Freeze ``record``'s message and exception text into redacted strings (idempotent)."""
    if getattr(record, "_redacted", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # a bad %-format must still log something
        message = f"{record.msg!r} % {record.args!r}"
    record.msg = bounded(message, MESSAGE_MAX)
    record.args = None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
    if record.exc_text:
        record.exc_text = bounded(record.exc_text, TRACE_MAX)
    if record.stack_info:
        record.stack_info = bounded(record.stack_info, TRACE_MAX)
    record._redacted = True


_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {"message", "asctime", "_redacted", "taskName"}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and not k.startswith("_")}


class RedactingFilter(logging.Filter):
    """Handler filter: redacts message, exception, stack and ``extra=`` fields; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        _scrub(record)
        for key, val in _extras(record).items():
            setattr(record, key, _redact_value(val))
        return True


_BASE_FACTORY = logging.getLogRecordFactory()
_factory_installed = False


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _BASE_FACTORY(*args, **kwargs)
    _scrub(record)
    return record


def _install_factory() -> None:
    global _factory_installed, _BASE_FACTORY
    if not _factory_installed:
        _BASE_FACTORY = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_redacting_factory)
        _factory_installed = True


#: characters a terminal acts on (C0/C1 controls: ANSI escape sequences, CSI) or that reorder
#: what it shows (bidi controls), and line separators: written as ``\uXXXX`` in log lines, so
#: text from outside (a status page, a user's input) can neither forge nor hide a log line
_UNSAFE_IN_LINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape_unsafe(text: str) -> str:
    return _UNSAFE_IN_LINE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _one_line(text: str) -> str:
    return _escape_unsafe(text.replace("\r", "").replace("\n", "\\n"))


class LineFormatter(logging.Formatter):
    """``2026-07-01T12:51:00Z INFO bot.runtime.monitor: message key=value | exc=…`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        _scrub(record)
        stamp = datetime.fromtimestamp(record.created, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        line = f"{stamp} {record.levelname} {record.name}: {record.msg}"
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        if record.exc_text:
            line += f" | exc={record.exc_text}"
        if record.stack_info:
            line += f" | stack={record.stack_info}"
        return _one_line(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, extra fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        _scrub(record)
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.msg,
        }
        for key, val in _extras(record).items():
            doc.setdefault(key, val)
        if record.exc_text:
            doc["exc"] = record.exc_text
        if record.stack_info:
            doc["stack"] = record.stack_info
        # json.dumps leaves C1 controls, bidi controls and U+2028/9 raw with ensure_ascii=False:
        # the same escapes keep the line valid JSON that parses back to the original text
        return _escape_unsafe(json.dumps(doc, ensure_ascii=False, default=str))


_HANDLER_NAME = "outage-bot"


def setup_logging(
    fmt: str = "text",
    *,
    level: int | str = logging.INFO,
    secrets: Iterable[str | None] = (),
    database_url: str | None = None,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Configure the root logger once (calling again replaces our handler, keeps others).

    ``fmt`` is ``text`` or ``json`` (``Settings.log_format``); ``secrets`` are values never to
    log (pass the Discord token); ``database_url``'s password is added to them. Run the bot
    with ``log_handler=None`` so discord.py does not install a second handler.
    """
    for secret in secrets:
        add_secret(secret)
    add_secret(_database_password(database_url))
    _install_factory()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if fmt == "json" else LineFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    return handler
