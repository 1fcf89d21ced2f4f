"""The one way an official page is polled, and the base class of official kinds: a kind
names its endpoint and its parser; fetching, 304 reuse, transport and HTTP errors, option
validation and the name filter are here. Pure except ``poll_official``, which only talks to
``ctx.fetcher`` (no aiohttp here)."""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Iterable
from urllib.parse import urlsplit, urlunsplit

from bot.sources._toolkit.page import error_observation, with_fetch
from bot.sources.base import Observation, PollContext, SourceError, SourceKind, SourceRole

async def poll_official(
    ctx: PollContext,
    *,
    kind: str,
    endpoint: str,
    parse: Callable[..., Observation],
    options: dict[str, Any] | None = None,
    accept: str | None = None,
) -> Observation:
    """Fetch ``endpoint`` through ``ctx.fetcher`` and turn the answer into an observation.
    ``accept``: the ``Accept`` header, for an API that answers another format without it.

    A 304 reuses ``ctx.previous`` (with the new fetch time); a transport error or a non-2xx
    answer is an ``unknown`` observation carrying the error; anything else goes to ``parse``.
    Never raises.
    """
    page_url = ctx.spec.url
    try:
        extra = accept_headers(accept)
        if ctx.spec.guarded:
            result = await ctx.fetcher.get(endpoint, conditional=True, guard=True, **extra)
        else:
            result = await ctx.fetcher.get(endpoint, conditional=True, **extra)
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


class OfficialKind(SourceKind):
    """Base of a kind that reads an official page: subclasses set ``name``, ``parse`` (a
    ``guarded_parse``), optionally ``name_option`` (the option that narrows the reading to
    some components, services or products), ``extra_options`` (more options for the parser)
    and ``endpoint_options`` (options that only choose the URL), and override ``endpoint``
    when the API URL is not the configured one. Register with ``@register``."""

    role: ClassVar[SourceRole] = SourceRole.OFFICIAL
    parse: ClassVar[Callable[..., Observation]]
    name_option: ClassVar[str | None] = None
    extra_options: ClassVar[frozenset[str]] = frozenset()
    endpoint_options: ClassVar[frozenset[str]] = frozenset()
    #: the API of a page may be on another host, derived from the page's own (Statuspal's
    #: ``<sub>.statuspal.io`` is read at ``statuspal.io``): detection may fetch it there
    api_elsewhere: ClassVar[bool] = False
    #: the ``Accept`` header to send, when the API picks its format by it
    accept: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.options = cls.extra_options | cls.endpoint_options | ({cls.name_option} if cls.name_option else set())

    #: where the API is when the configured URL is the page: a path appended to it
    #: ("/api/v2/summary.json") or an absolute URL; a URL that already names the API (ending in
    #: ".json" or holding "/api/") is read as it is
    api_path: ClassVar[str | None] = None

    @classmethod
    def endpoint(cls, url: str, options: dict[str, Any]) -> str:
        """The URL to fetch for the configured ``url``; ``ValueError`` says why there is none."""
        url = url.rstrip("/")
        path = urlsplit(url).path
        if cls.api_path is None or path.endswith(".json") or "/api/" in path:
            return url
        return cls.api_path if "://" in cls.api_path else beside(url, cls.api_path)

    @classmethod
    def page_name(cls, payload: bytes) -> str | None:
        """The name a page gives itself in ``payload`` (what a custom service is called), or
        ``None`` when the format carries none. Pure; never raises."""
        return None

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> list[str]:
        problems = super().validate_options(options)
        return problems + (check_str_list(options, cls.name_option) if cls.name_option else [])

    @classmethod
    async def poll(cls, ctx: PollContext) -> Observation:
        options = dict(ctx.spec.options)
        try:
            endpoint = cls.endpoint(ctx.spec.url, options)
        except ValueError as exc:
            error = SourceError("config", str(exc))
            return error_observation(service_id=ctx.service_id, kind=cls.name, fetched_at=ctx.now, error=error, url=ctx.spec.url)
        for key in cls.endpoint_options:  # options that chose the endpoint are not the parser's
            options.pop(key, None)
        return await poll_official(ctx, kind=cls.name, endpoint=endpoint, parse=cls.parse, options=options, accept=cls.accept)


def accept_headers(accept: str | None) -> dict[str, Any]:
    """The keyword that sends ``Accept: accept`` through a ``Fetcher`` (none when no format is asked for)."""
    return {"headers": {"Accept": accept}} if accept else {}


def beside(url: str, path: str) -> str:
    """``path`` (and its own query) after ``url``'s path. The page's own query and fragment are
    dropped: a typed ``https://status.example.com/?lang=en`` has its API at
    ``/api/v2/summary.json``, not at ``/?lang=en/api/v2/summary.json``."""
    page, api = urlsplit(url), urlsplit(path)
    return urlunsplit((page.scheme, page.netloc, page.path.rstrip("/") + api.path, api.query, ""))


def wanted_by(wanted: frozenset[str] | None, names: Iterable[str]) -> bool:
    """Whether something naming ``names`` passes the name filter (no filter: everything)."""
    return wanted is None or bool({n.strip().casefold() for n in names} & wanted)
