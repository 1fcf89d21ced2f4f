"""What every source kind produces (``Observation``) and how kinds register themselves.

Pure: dataclasses and a registry only. Parsers are pure functions from a payload (bytes) and
the time it was fetched to an ``Observation``; fetching lives in each kind's ``poll`` and in
``bot.net.client``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar, Protocol

from bot.status import Status


class SourceRole(str, Enum):
    """Which of the three independent kinds of evidence a source gives."""

    OFFICIAL = "official"  # a status page or feed published by the service itself
    PROBE = "probe"  # our own HTTP/TCP/DNS check
    CROWD = "crowd"  # reports from Discord users


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    status: Status


@dataclass(frozen=True, slots=True)
class IncidentInfo:
    """An incident as the official source describes it."""

    id: str
    title: str
    impact: Status
    status: str  # the provider's own word: investigating, identified, monitoring, resolved …
    url: str | None = None
    latest_update: str | None = None
    updated_at: datetime | None = None
    started_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Maintenance:
    id: str
    title: str
    starts_at: datetime | None
    ends_at: datetime | None
    in_progress: bool
    url: str | None = None


@dataclass(frozen=True, slots=True)
class SourceError:
    """Why a source could not be read: ``kind`` is a short stable code (timeout, dns, tls,
    connection, http_status, too_large, parse, ssrf, …), ``message`` is for humans/logs."""

    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class Observation:
    """One normalized reading of one source at one time."""

    service_id: str
    source_kind: str
    status: Status
    fetched_at: datetime
    role: SourceRole = SourceRole.OFFICIAL
    components: tuple[Component, ...] = ()
    incidents: tuple[IncidentInfo, ...] = ()
    maintenances: tuple[Maintenance, ...] = ()
    latency_ms: float | None = None
    http_status: int | None = None
    error: SourceError | None = None
    url: str | None = None  # the page a user can open for details
    description: str | None = None  # the provider's one-line summary ("All Systems Operational")
    #: every component the page publishes, whatever its status (``components`` holds only the
    #: affected ones): what ``/subscribe component:`` offers
    component_names: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (enums as values, datetimes as ISO 8601): what ``from_dict`` reads.
        Written out field by field: ``dataclasses.asdict`` deep-copies every value first, and
        readings are written often enough (every new one, and each at least every few
        minutes at 20,000 sources) for that to show in a profile."""
        error = self.error
        return {
            "service_id": self.service_id,
            "source_kind": self.source_kind,
            "status": self.status.value,
            "fetched_at": self.fetched_at.isoformat(),
            "role": self.role.value,
            "components": [{"name": c.name, "status": c.status.value} for c in self.components],
            "incidents": [
                {
                    "id": i.id,
                    "title": i.title,
                    "impact": i.impact.value,
                    "status": i.status,
                    "url": i.url,
                    "latest_update": i.latest_update,
                    "updated_at": _iso(i.updated_at),
                    "started_at": _iso(i.started_at),
                }
                for i in self.incidents
            ],
            "maintenances": [
                {
                    "id": m.id,
                    "title": m.title,
                    "starts_at": _iso(m.starts_at),
                    "ends_at": _iso(m.ends_at),
                    "in_progress": m.in_progress,
                    "url": m.url,
                }
                for m in self.maintenances
            ],
            "latency_ms": self.latency_ms,
            "http_status": self.http_status,
            "error": {"kind": error.kind, "message": error.message} if error is not None else None,
            "url": self.url,
            "description": self.description,
            "component_names": list(self.component_names),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Observation":
        """The inverse of ``to_dict`` (the last observation is stored as JSON and reloaded at
        start, so a restart keeps evidence and conditional-GET reuse)."""
        error = data.get("error")
        return cls(
            service_id=data["service_id"],
            source_kind=data["source_kind"],
            status=Status(data["status"]),
            fetched_at=_dt(data["fetched_at"]),
            role=SourceRole(data.get("role", SourceRole.OFFICIAL.value)),
            components=tuple(Component(c["name"], Status(c["status"])) for c in data.get("components") or ()),
            incidents=tuple(
                IncidentInfo(
                    id=i["id"],
                    title=i["title"],
                    impact=Status(i["impact"]),
                    status=i["status"],
                    url=i.get("url"),
                    latest_update=i.get("latest_update"),
                    updated_at=_opt_dt(i.get("updated_at")),
                    started_at=_opt_dt(i.get("started_at")),
                )
                for i in data.get("incidents") or ()
            ),
            maintenances=tuple(
                Maintenance(
                    id=m["id"],
                    title=m["title"],
                    starts_at=_opt_dt(m.get("starts_at")),
                    ends_at=_opt_dt(m.get("ends_at")),
                    in_progress=bool(m.get("in_progress")),
                    url=m.get("url"),
                )
                for m in data.get("maintenances") or ()
            ),
            latency_ms=data.get("latency_ms"),
            http_status=data.get("http_status"),
            error=SourceError(error["kind"], error["message"]) if error else None,
            url=data.get("url"),
            description=data.get("description"),
            component_names=tuple(str(n) for n in data.get("component_names") or ()),
        )


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _opt_dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """One ``[[services.sources]]`` table of the catalog, validated.

    ``options`` holds the kind-specific keys (``expect_status``, ``forbid_text`` …) untouched;
    each kind validates its own through ``SourceKind.validate_options``.
    """

    kind: str
    url: str
    interval: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    #: the URL was typed by a Discord user (a custom service), not configured by the operator:
    #: every fetch goes through the SSRF guard
    guarded: bool = False


class SourceKind:
    """Base of a source kind. Subclasses set ``name`` and ``role`` and register themselves
    with ``@register``."""

    name: ClassVar[str]
    role: ClassVar[SourceRole] = SourceRole.OFFICIAL
    #: option keys this kind accepts besides kind/url/interval
    options: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> list[str]:
        """Problems with ``options`` as ``"field: message"`` strings (empty when fine)."""
        return [f"{key}: unknown option for kind {cls.name!r}" for key in options if key not in cls.options]

    @classmethod
    async def poll(cls, ctx: "PollContext") -> Observation:
        """Read the source once through ``ctx.fetcher``; never raises (errors → ``unknown``
        observation with ``error`` set). Every registered kind overrides it (``register``
        refuses one that does not)."""
        raise NotImplementedError

    @classmethod
    def validate_url(cls, url: str) -> str | None:
        """A problem with ``url`` or ``None``. Default: an absolute http(s) URL."""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "must be an absolute http:// or https:// URL"
        return None


_REGISTRY: dict[str, type[SourceKind]] = {}


def register(cls: type[SourceKind]) -> type[SourceKind]:
    """Class decorator: make ``cls`` available under ``cls.name`` (it must implement ``poll``)."""
    if cls.poll.__func__ is SourceKind.poll.__func__:  # type: ignore[attr-defined]
        raise TypeError(f"source kind {cls.name!r} must implement poll")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"source kind {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def registry() -> dict[str, type[SourceKind]]:
    """All registered kinds (importing ``bot.sources`` loads every bundled one)."""
    return dict(_REGISTRY)


def get_kind(name: str) -> type[SourceKind]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown source kind {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What ``bot.net.client`` hands a source kind after one HTTP request (never raises)."""

    url: str
    status: int | None  # HTTP status; None when no response arrived
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    latency_ms: float | None = None
    error: SourceError | None = None  # timeout, dns, tls, connection, too_large, ssrf, redirects …
    not_modified: bool = False  # a 304 to a conditional GET: reuse the last observation


class Fetcher(Protocol):
    """What source kinds fetch through (``bot.net.HttpClient`` in production, small fakes in
    tests): they depend on this, not on aiohttp.

    ``conditional=True`` sends If-None-Match/If-Modified-Since remembered for ``url``.
    ``guard=True`` applies the SSRF guard (URLs typed by users, never catalog sources).
    """

    async def get(
        self,
        url: str,
        *,
        conditional: bool = False,
        guard: bool = False,
        max_bytes: int | None = None,
        timeout: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> FetchResult: ...

    async def connect(self, host: str, port: int, *, timeout: float | None = None) -> tuple[float | None, SourceError | None]:
        """Open and close a TCP connection: (latency_ms, error)."""
        ...

    async def resolve(self, host: str, *, timeout: float | None = None) -> tuple[list[str], float | None, SourceError | None]:
        """Resolve ``host``: (addresses, latency_ms, error)."""
        ...


@dataclass(frozen=True, slots=True)
class PollContext:
    """Everything one poll needs; ``previous`` is the last observation (reused on a 304)."""

    service_id: str
    spec: SourceSpec
    fetcher: Fetcher
    now: datetime
    previous: Observation | None = None
