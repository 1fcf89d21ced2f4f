"""Reading a provider's payload defensively: JSON decoding (msgspec when installed, with a
stdlib fallback that keeps the same results), field access that names what is wrong, outside
text trimmed and stripped of tags, and timestamps in the formats status pages use (pure)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable

#: longest provider text we keep on an observation (Discord embeds cut far earlier anyway)
MAX_TEXT = 2000


_scan_once = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # the C scanner ``json.loads`` itself uses
_json_space = re.compile(r"[ \t\n\r]*").match  # ``json.decoder.WHITESPACE``

try:  # optional accelerator, about 2.5x faster than the stdlib's scanner on a summary.json
    from msgspec.json import Decoder as _MsgspecDecoder
except ImportError:  # pragma: no cover - the stdlib path alone is complete
    _msgspec_decode = None
else:
    _msgspec_decode = _MsgspecDecoder().decode

_NOT_FAST = object()


def _fast_object(payload: bytes | bytearray) -> Any:
    """A JSON object from the first byte, decoded the quick way, or ``_NOT_FAST`` for
    anything the quick way refuses. What it returns is what ``json.loads`` returns: msgspec
    gives the same values for all it accepts (integers of any size included) and refuses
    what only the stdlib takes (NaN, Infinity, 1e400, lone surrogates) and every error; the
    stdlib branch is ``json.loads`` minus its Python wrappers (its ``detect_encoding`` says
    UTF-8 when the first byte is ``{`` and the second is not NUL)."""
    if _msgspec_decode is not None:
        try:
            return _msgspec_decode(payload)
        except Exception:  # noqa: BLE001 - the stdlib decides below
            return _NOT_FAST
    try:
        decoded = payload.decode("utf-8", "surrogatepass")
        value, end = _scan_once(decoded, 0)
    except Exception:  # noqa: BLE001 - decoded again below for the proper error
        return _NOT_FAST
    space = _json_space(decoded, end)  # matches always: the pattern may be empty
    return value if space is not None and space.end() == len(decoded) else _NOT_FAST


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


class PayloadError(ValueError):
    """Raised inside a parser when the payload is not what the provider serves."""


def load_json(payload: bytes) -> Any:
    """Decode ``payload`` as JSON or raise ``PayloadError`` with a message a human can act on."""
    if not isinstance(payload, (bytes, bytearray)):
        raise PayloadError(f"payload must be bytes, got {type(payload).__name__}")
    if payload[:1] == b"{" and payload[1:2] != b"\x00":
        # The common case, an object from the first byte. Whatever the quick way refuses
        # takes the usual way below, so values and error messages stay the stdlib's.
        value = _fast_object(payload)
        if value is not _NOT_FAST:
            return value
    if not payload.strip():
        raise PayloadError("empty body, expected JSON")
    head = bytes(payload[:64]).lstrip().lower()
    if head.startswith((b"<!doctype", b"<html", b"<?xml", b"<")):
        raise PayloadError("got HTML/XML instead of JSON (an error or login page?)")
    try:
        return json.loads(payload)
    except UnicodeDecodeError as exc:
        raise PayloadError(f"body is not UTF-8 text: {exc.reason}") from None
    except json.JSONDecodeError as exc:
        raise PayloadError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise PayloadError("JSON nested too deeply") from None


def as_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{what} must be an object, got {_type_name(value)}")
    return value


def as_list(value: Any, what: str, *, missing_ok: bool = True) -> list[Any]:
    """A list field; ``None``/absent is an empty list when ``missing_ok``."""
    if value is None and missing_ok:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{what} must be a list, got {_type_name(value)}")
    return value


def opt_str(value: Any) -> str | None:
    """A string field, or ``None`` for anything else (numbers become their text)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def text(value: Any) -> str | None:
    """Provider prose, trimmed to ``MAX_TEXT`` and stripped; ``None`` when empty."""
    s = opt_str(value)
    if s is None:
        return None
    s = s.strip()
    if not s:
        return None
    return s if len(s) <= MAX_TEXT else s[: MAX_TEXT - 1] + "…"


_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"[ \t\r\f\v]+")


def strip_tags(html: str) -> str:
    """Plain text from a small HTML fragment (status feed bodies)."""
    import html as _html

    plain = _html.unescape(_TAG.sub(" ", html))
    lines = (_SPACE.sub(" ", line).strip() for line in plain.splitlines())
    return "\n".join(line for line in lines if line)


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 (``Z`` or offset) or RFC 2822 timestamps as aware UTC datetimes; ``None``
    for anything unparseable (a bad timestamp never sinks a whole observation)."""
    s = opt_str(value)
    if not s or isinstance(value, (int, float)):
        return None
    s = s.strip()
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            dt = parsedate_to_datetime(s)
        except (TypeError, ValueError, IndexError):
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    try:
        return dt.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None


def newest(items: list[dict[str, Any]], when: Callable[[dict[str, Any]], datetime | None], *, undated: str = "first") -> dict[str, Any] | None:
    """The item with the newest time (the later one on a tie); when none is dated, the
    ``undated`` one ("first" or "last") of the list. Payloads are not trusted to be ordered."""
    if not items:
        return None
    dated = [(at, i, item) for i, item in enumerate(items) if (at := when(item)) is not None]
    if dated:
        return max(dated, key=lambda d: (d[0], d[1]))[2]
    return items[0] if undated == "first" else items[-1]
