"""Helpers shared by the official-source kinds: safe JSON decoding, defensive field access,
timestamp parsing, and the one ``poll`` flow every JSON/feed kind follows.

Pure except ``poll_official``, which only talks to ``ctx.fetcher`` (no aiohttp here). The
underscore keeps ``bot.sources`` from loading this module as a kind.
"""

from __future__ import annotations

import dataclasses
import json
import operator
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Iterable

from bot.sources.base import Observation, PollContext, SourceError, SourceRole
from bot.status import Status

#: longest provider text we keep on an observation (Discord embeds cut far earlier anyway)
MAX_TEXT = 2000


_scan_once = json.JSONDecoder().scan_once  # the C scanner ``json.loads`` itself uses
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
    return value if _json_space(decoded, end).end() == len(decoded) else _NOT_FAST


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


def guarded_parse(
    kind: str, impl: Callable[..., Observation], *, fills_fetch: bool = False
) -> Callable[..., Observation]:
    """Wrap a parser body so that no payload can make it raise: ``PayloadError`` and any
    other exception become an ``unknown`` observation with a ``parse`` error.

    The wrapper also takes the fetch's ``latency_ms`` and ``http_status`` (``poll_official``
    passes them) and puts them on the observation. With ``fills_fetch`` the body accepts
    both keywords itself and builds the final observation at once, which saves a copy of it
    on every poll of a busy kind."""

    def parse(
        payload: bytes,
        *,
        service_id: str,
        fetched_at: datetime,
        url: str | None = None,
        latency_ms: float | None = None,
        http_status: int | None = None,
        **options: Any,
    ) -> Observation:
        try:
            if fills_fetch:
                return impl(
                    payload, service_id=service_id, fetched_at=fetched_at, url=url,
                    latency_ms=latency_ms, http_status=http_status, **options,
                )
            observation = impl(payload, service_id=service_id, fetched_at=fetched_at, url=url, **options)
        except PayloadError as exc:
            message = str(exc)
        except Exception as exc:  # noqa: BLE001 - a parser must never take the poll loop down
            message = f"unexpected payload shape ({type(exc).__name__}: {exc})"
        else:
            if latency_ms is None and http_status is None:
                return observation
            return with_fetch(observation, latency_ms=latency_ms, http_status=http_status)
        return error_observation(
            service_id=service_id,
            kind=kind,
            fetched_at=fetched_at,
            error=SourceError("parse", f"{kind}: {message}"[:500]),
            url=url,
            http_status=http_status,
            latency_ms=latency_ms,
        )

    parse.__doc__ = impl.__doc__
    parse.__name__ = "parse"
    parse.takes_fetch = True  # type: ignore[attr-defined]  # see poll_official
    return parse


# ``dataclasses.replace`` walks ``fields()`` and builds a dict of keyword arguments on every
# call (~8 µs for an Observation); one is needed per poll, so copy the field values with a
# C-level attrgetter and call the constructor positionally instead. Only valid while every
# field is a positional ``__init__`` parameter: otherwise fall back to ``replace``.
_OBS_FIELDS = tuple(f.name for f in dataclasses.fields(Observation))
_OBS_POSITIONAL = all(f.init and not f.kw_only for f in dataclasses.fields(Observation))
_obs_values = operator.attrgetter(*_OBS_FIELDS)
_FETCHED_AT = _OBS_FIELDS.index("fetched_at")
_LATENCY_MS = _OBS_FIELDS.index("latency_ms")
_HTTP_STATUS = _OBS_FIELDS.index("http_status")


def with_fetch(
    observation: Observation, *, latency_ms: float | None, http_status: int | None, fetched_at: datetime | None = None
) -> Observation:
    """``observation`` with the fetch's latency and HTTP status (and fetch time, if given):
    the same as ``dataclasses.replace``, at a fraction of its cost."""
    if not _OBS_POSITIONAL:  # pragma: no cover - only if Observation grows a keyword-only field
        changes: dict[str, Any] = {"latency_ms": latency_ms, "http_status": http_status}
        if fetched_at is not None:
            changes["fetched_at"] = fetched_at
        return dataclasses.replace(observation, **changes)
    values = list(_obs_values(observation))
    values[_LATENCY_MS] = latency_ms
    values[_HTTP_STATUS] = http_status
    if fetched_at is not None:
        values[_FETCHED_AT] = fetched_at
    return Observation(*values)


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
            return with_fetch(ctx.previous, fetched_at=ctx.now, latency_ms=result.latency_ms, http_status=result.status)
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
    if getattr(parse, "takes_fetch", False):  # a guarded_parse wrapper: one Observation, no copy
        return parse(
            result.body, service_id=ctx.service_id, fetched_at=ctx.now, url=page_url,
            latency_ms=result.latency_ms, http_status=result.status, **(options or {}),
        )
    observation = parse(result.body, service_id=ctx.service_id, fetched_at=ctx.now, url=page_url, **(options or {}))
    return with_fetch(observation, latency_ms=result.latency_ms, http_status=result.status)


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
