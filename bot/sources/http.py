"""``http`` source kind: our own HTTP probe of a service's page.

Reading a probe (``evaluate``, pure):

* the response arrived with an expected status (``expect_status``, default ``200-399``) →
  operational; slower than ``degraded_ms`` → degraded;
* an expected status whose body contains ``forbid_text`` (an error page served with 200:
  "Something went wrong, but don't worry…") → major outage, error ``error_page``; a body
  missing ``require_text`` → major outage, error ``missing_text`` (text matching ignores case);
* an unexpected 5xx → major outage; 401/403/429 → unknown (we are being blocked, which says
  nothing about the service); any other unexpected status → partial outage (error
  ``http_status``);
* timeout, refused/reset connection, DNS or TLS failure, a redirect loop → major outage with
  that error kind: the service is down *from our vantage point*; whether we are the blind one
  is the vantage self-check's business;
* a body over the size cap, an SSRF refusal or a bad URL → unknown with the error;
* a host that told us to wait (Retry-After) is not contacted: the previous reading is kept
  (with the error saying why it was not refreshed) or unknown when there is none.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from datetime import datetime
from typing import Any, ClassVar

from bot.sources.base import (
    Fetcher,
    FetchResult,
    Observation,
    PollContext,
    SourceError,
    SourceKind,
    SourceRole,
    register,
)
from bot.status import Status

DEFAULT_EXPECT = "200-399"
_DOWN_KINDS = frozenset({"timeout", "connection", "dns", "tls", "redirects"})
_BLOCKED_STATUSES = frozenset({401, 403, 429})
_SKIP_KINDS = frozenset({"rate_limited", "unavailable"})
_RANGE = re.compile(r"^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$")


def parse_expect_status(value: Any) -> tuple[tuple[int, int], ...]:
    """``"200-399"``, ``"200,204"``, ``200`` or ``[200, "300-308"]`` → inclusive ranges.

    Raises ``ValueError`` with a readable message on anything else."""
    if isinstance(value, str):
        return _parse_expect_text(value)  # cached: every poll of every source parses it
    return _parse_expect_status(value)


@functools.lru_cache(maxsize=256)
def _parse_expect_text(value: str) -> tuple[tuple[int, int], ...]:
    return _parse_expect_status(value)


def _parse_expect_status(value: Any) -> tuple[tuple[int, int], ...]:
    if isinstance(value, bool):
        raise ValueError("must be a status, a range or a list of them")
    if isinstance(value, int):
        items: list[Any] = [value]
    elif isinstance(value, str):
        items = [part for part in value.split(",") if part.strip()]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise ValueError("must be a status, a range or a list of them")
    ranges: list[tuple[int, int]] = []
    for item in items:
        if isinstance(item, bool):
            raise ValueError(f"{item!r} is not a status")
        if isinstance(item, int):
            low = high = item
        elif isinstance(item, str) and (m := _RANGE.match(item)):
            low = int(m.group(1))
            high = int(m.group(2) or low)
        else:
            raise ValueError(f"{item!r} is not a status or a range like 200-399")
        if not (100 <= low <= high <= 599):
            raise ValueError(f"{item!r} is outside 100-599 or reversed")
        ranges.append((low, high))
    if not ranges:
        raise ValueError("is empty")
    return tuple(ranges)


def _texts(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise ValueError("must be a non-empty string or a list of them")
    return tuple(value)


def _positive(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError("must be a positive number")
    return float(value)


@dataclasses.dataclass(frozen=True, slots=True)
class ProbeOptions:
    """The validated options of an ``http`` source."""

    expect_status: tuple[tuple[int, int], ...] = ((200, 399),)
    require_text: tuple[str, ...] = ()
    forbid_text: tuple[str, ...] = ()
    degraded_ms: float | None = None
    timeout: float | None = None

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> "ProbeOptions":
        """Raises ``ValueError("field: message")`` for the first bad option."""
        parsers = {
            "expect_status": lambda v: parse_expect_status(DEFAULT_EXPECT if v is None else v),
            "require_text": _texts,
            "forbid_text": _texts,
            "degraded_ms": _positive,
            "timeout": _positive,
        }
        values: dict[str, Any] = {}
        for name, parse in parsers.items():
            try:
                values[name] = parse(options.get(name))
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        return cls(**values)

    def expects(self, status: int) -> bool:
        return any(low <= status <= high for low, high in self.expect_status)


def _body_text(result: FetchResult) -> str:
    charset = "utf-8"
    content_type = result.headers.get("content-type", "")
    if "charset=" in content_type:
        charset = content_type.split("charset=", 1)[1].split(";", 1)[0].strip().strip('"') or charset
    try:
        return result.body.decode(charset, errors="replace")
    except LookupError:
        return result.body.decode("utf-8", errors="replace")


def evaluate(
    result: FetchResult,
    options: ProbeOptions,
    *,
    service_id: str,
    now: datetime,
    previous: Observation | None = None,
    kind: str = "http",
    url: str | None = None,
) -> Observation:
    """The observation one fetch amounts to (pure; see the module docstring). ``url`` is the
    page to show users (the configured one; defaults to the URL finally fetched)."""

    def observe(status: Status, error: SourceError | None = None) -> Observation:
        return Observation(
            service_id=service_id,
            source_kind=kind,
            status=status,
            fetched_at=now,
            role=SourceRole.PROBE,
            latency_ms=result.latency_ms,
            http_status=result.status,
            error=error,
            url=url or result.url,
        )

    error = result.error
    if result.status is None:
        if error is not None and error.kind in _SKIP_KINDS:
            if previous is not None:
                return dataclasses.replace(previous, error=error)
            return observe(Status.UNKNOWN, error)
        error = error or SourceError("connection", "no response")
        return observe(Status.MAJOR_OUTAGE if error.kind in _DOWN_KINDS else Status.UNKNOWN, error)
    if error is not None and error.kind == "redirects":
        return observe(Status.MAJOR_OUTAGE, error)
    if error is not None and error.kind == "too_large":
        return observe(Status.UNKNOWN, error)
    status = result.status
    if not options.expects(status):
        problem = SourceError("http_status", f"unexpected HTTP status {status}")
        if status >= 500:
            return observe(Status.MAJOR_OUTAGE, problem)
        if status in _BLOCKED_STATUSES:
            return observe(Status.UNKNOWN, problem)
        return observe(Status.PARTIAL_OUTAGE, problem)
    if options.forbid_text or options.require_text:
        text = _body_text(result).casefold()
        for needle in options.forbid_text:
            if needle.casefold() in text:
                return observe(Status.MAJOR_OUTAGE, SourceError("error_page", f"the page says {needle!r}"))
        for needle in options.require_text:
            if needle.casefold() not in text:
                return observe(Status.MAJOR_OUTAGE, SourceError("missing_text", f"the page lacks {needle!r}"))
    if options.degraded_ms is not None and result.latency_ms is not None and result.latency_ms > options.degraded_ms:
        slow = observe(Status.DEGRADED)  # readable and answering, just slow: not an error
        return dataclasses.replace(
            slow, description=f"answered in {result.latency_ms:.0f} ms (threshold {options.degraded_ms:.0f} ms)"
        )
    return observe(Status.OPERATIONAL)


async def probe(
    fetcher: Fetcher,
    url: str,
    options: ProbeOptions,
    *,
    service_id: str,
    now: datetime,
    previous: Observation | None = None,
    guard: bool = False,
) -> Observation:
    """Fetch ``url`` once and read it. ``guard=True`` for URLs typed by users (``/isitdown``)."""
    result = await fetcher.get(url, guard=guard, timeout=options.timeout)
    return evaluate(result, options, service_id=service_id, now=now, previous=previous, url=url)


_OPTIONS_CACHE: dict[int, tuple[dict[str, Any], ProbeOptions]] = {}


def _options_for(options: dict[str, Any]) -> ProbeOptions:
    """``ProbeOptions`` of a catalog options dict, parsed once per dict (catalog options are
    not mutated after loading; the cache holds the dict so its id stays unique)."""
    hit = _OPTIONS_CACHE.get(id(options))
    if hit is not None and hit[0] is options:
        return hit[1]
    parsed = ProbeOptions.from_options(options)
    if len(_OPTIONS_CACHE) >= 4096:
        _OPTIONS_CACHE.clear()
    _OPTIONS_CACHE[id(options)] = (options, parsed)
    return parsed


@register
class HttpKind(SourceKind):
    """GET a page and judge it by status, text and latency."""

    name: ClassVar[str] = "http"
    role: ClassVar[SourceRole] = SourceRole.PROBE
    options: ClassVar[frozenset[str]] = frozenset({"expect_status", "require_text", "forbid_text", "degraded_ms", "timeout"})

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> list[str]:
        problems = super().validate_options(options)
        if not problems:
            try:
                ProbeOptions.from_options(options)
            except ValueError as exc:
                problems.append(str(exc))
        return problems

    @classmethod
    async def poll(cls, ctx: PollContext) -> Observation:
        try:
            options = _options_for(ctx.spec.options)
        except ValueError as exc:
            return Observation(
                service_id=ctx.service_id, source_kind=cls.name, status=Status.UNKNOWN, fetched_at=ctx.now,
                role=cls.role, error=SourceError("config", str(exc)), url=ctx.spec.url,
            )
        return await probe(
            ctx.fetcher, ctx.spec.url, options, service_id=ctx.service_id, now=ctx.now, previous=ctx.previous
        )
