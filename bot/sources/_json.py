"""Helpers shared by the official-source kinds: safe JSON decoding, defensive field access,
timestamp parsing, and the one ``poll`` flow every JSON/feed kind follows.

Pure except ``poll_official``, which only talks to ``ctx.fetcher`` (no aiohttp here). The
underscore keeps ``bot.sources`` from loading this module as a kind.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Iterable

from bot.sources.base import Observation, PollContext, SourceError, SourceRole
from bot.status import Status

#: longest provider text we keep on an observation (Discord embeds cut far earlier anyway)
MAX_TEXT = 2000


class PayloadError(ValueError):
    """Raised inside a parser when the payload is not what the provider serves."""


def load_json(payload: bytes) -> Any:
    """Decode ``payload`` as JSON or raise ``PayloadError`` with a message a human can act on."""
    if not isinstance(payload, (bytes, bytearray)):
        raise PayloadError(f"payload must be bytes, got {type(payload).__name__}")
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


def worst(statuses: Iterable[Status]) -> Status:
    """``Status.worst`` over an iterable, operational when empty."""
    items = list(statuses)
    return Status.worst(*items) if items else Status.OPERATIONAL


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def error_observation(
    *,
    service_id: str,
    kind: str,
    fetched_at: datetime,
    error: SourceError,
    url: str | None = None,
    http_status: int | None = None,
    latency_ms: float | None = None,
) -> Observation:
    """An ``unknown`` observation that says why the source could not be read."""
    return Observation(
        service_id=service_id,
        source_kind=kind,
        status=Status.UNKNOWN,
        fetched_at=fetched_at,
        role=SourceRole.OFFICIAL,
        error=error,
        url=url,
        http_status=http_status,
        latency_ms=latency_ms,
    )


def guarded_parse(kind: str, impl: Callable[..., Observation]) -> Callable[..., Observation]:
    """Wrap a parser body so that no payload can make it raise: ``PayloadError`` and any
    other exception become an ``unknown`` observation with a ``parse`` error."""

    def parse(
        payload: bytes,
        *,
        service_id: str,
        fetched_at: datetime,
        url: str | None = None,
        **options: Any,
    ) -> Observation:
        try:
            return impl(payload, service_id=service_id, fetched_at=fetched_at, url=url, **options)
        except PayloadError as exc:
            message = str(exc)
        except Exception as exc:  # noqa: BLE001 - a parser must never take the poll loop down
            message = f"unexpected payload shape ({type(exc).__name__}: {exc})"
        return error_observation(
            service_id=service_id,
            kind=kind,
            fetched_at=fetched_at,
            error=SourceError("parse", f"{kind}: {message}"[:500]),
            url=url,
        )

    parse.__doc__ = impl.__doc__
    parse.__name__ = "parse"
    return parse


async def poll_official(
    ctx: PollContext,
    *,
    kind: str,
    endpoint: str,
    parse: Callable[..., Observation],
    options: dict[str, Any] | None = None,
) -> Observation:
    """Fetch ``endpoint`` through ``ctx.fetcher`` and turn the answer into an observation.

    A 304 reuses ``ctx.previous`` (with the new fetch time); a transport error or a non-2xx
    answer is an ``unknown`` observation carrying the error; anything else goes to ``parse``.
    Never raises.
    """
    page_url = ctx.spec.url
    try:
        result = await ctx.fetcher.get(endpoint, conditional=True)
    except Exception as exc:  # noqa: BLE001 - a broken fetcher is still just an unreadable source
        return error_observation(
            service_id=ctx.service_id,
            kind=kind,
            fetched_at=ctx.now,
            error=SourceError("connection", f"fetch failed: {type(exc).__name__}: {exc}"[:500]),
            url=page_url,
        )
    if result.not_modified:
        if ctx.previous is not None:
            return dataclasses.replace(
                ctx.previous, fetched_at=ctx.now, latency_ms=result.latency_ms, http_status=result.status
            )
        return error_observation(
            service_id=ctx.service_id,
            kind=kind,
            fetched_at=ctx.now,
            error=SourceError("not_modified", "304 Not Modified but no earlier observation to reuse"),
            url=page_url,
            http_status=result.status,
            latency_ms=result.latency_ms,
        )
    if result.error is not None:
        return error_observation(
            service_id=ctx.service_id,
            kind=kind,
            fetched_at=ctx.now,
            error=result.error,
            url=page_url,
            http_status=result.status,
            latency_ms=result.latency_ms,
        )
    if result.status is None or not 200 <= result.status < 300:
        return error_observation(
            service_id=ctx.service_id,
            kind=kind,
            fetched_at=ctx.now,
            error=SourceError("http_status", f"{endpoint} answered HTTP {result.status}"),
            url=page_url,
            http_status=result.status,
            latency_ms=result.latency_ms,
        )
    observation = parse(
        result.body, service_id=ctx.service_id, fetched_at=ctx.now, url=page_url, **(options or {})
    )
    return dataclasses.replace(observation, latency_ms=result.latency_ms, http_status=result.status)


def check_str_list(options: dict[str, Any], key: str) -> list[str]:
    """Validation problems for an optional list-of-strings option."""
    if key not in options:
        return []
    value = options[key]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        return [f"{key}: must be a non-empty list of names"]
    return []


def name_filter(options: dict[str, Any], key: str) -> frozenset[str] | None:
    """The case-folded names of a filter option, ``None`` when the option is absent."""
    value = options.get(key)
    if not isinstance(value, list):
        return None
    return frozenset(v.strip().casefold() for v in value if isinstance(v, str) and v.strip())
