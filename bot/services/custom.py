"""Status pages typed by users (custom services): detect the format, name the page, share it.

``/subscribe https://status.example.com`` reaches ``obtain``. A page the catalog already
watches (same host as one of its official sources) is that catalog service. A page another
guild already added is the same ``CustomService`` row (shared). Otherwise every official
kind's API is tried through the SSRF guard (``bot.sources._toolkit.detect`` says where), each
endpoint fetched once, with a short timeout and a small body cap; the first kind that reads
without error wins, and the page is named from itself (``page.name`` of a Statuspage, a
feed's title) or, failing that, its host. A page nothing can read raises ``Unreadable`` with
every attempt (an ``unknown`` observation saying why), and nothing is stored.

The service is then added to the live catalog, so names, ``/isitdown``, rendering and the
scheduler treat it like a bundled one; ``Listener``s (the scheduler's hook, wired by the
composition root: services never import the runtime) start and stop polling it. ``release``
removes a custom service as soon as no subscription uses it. A guild may use at most
``per_guild`` custom services (``CUSTOM_SOURCES_PER_GUILD``).

Several processes: each loads the custom services at start; one added later in another
process is polled by the process that added it (the scheduler hands rows it does not know back).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from tortoise.exceptions import IntegrityError

from bot.catalog import Catalog, Service
from bot.db.models import CustomService, Subscription
from bot.ops.locks import KeyedLock
from bot.i18n import N_, Nn_
from bot.net.ssrf import SSRFRefused, check_url
from bot.notify.text import echo
from bot.services.errors import UserError
from bot.sources._toolkit import OfficialKind, accept_headers
from bot.sources._toolkit.detect import Candidate, candidates, custom_id, page_name, page_url, reading
from bot.sources.base import Fetcher, FetchResult, Observation, SourceError, SourceRole, SourceSpec, registry

log = logging.getLogger(__name__)

#: a detection fetch must finish well inside the 15 minutes of an interaction (and feel quick)
DETECT_TIMEOUT = 8.0
#: the largest status payload we read while detecting (real summaries are well under this)
DETECT_MAX_BYTES = 1024 * 1024
DEFAULT_PER_GUILD = 25

ERR_LIMIT = Nn_(
    "This server already follows {n} status page typed by its members, the maximum. Remove one with {command} first.",
    "This server already follows {n} status pages typed by its members, the maximum. Remove some with {command} first.",
)
ERR_CUSTOM_OFF = N_("This bot does not follow status pages typed by users; pick a service from the suggestions.")
ERR_BAD_PAGE_URL = N_("We can't check {url}: use a public web address starting with {prefix}.")
ERR_PRIVATE_PAGE = N_("We only read public status pages: {url} points to a private or local address.")


class Listener(Protocol):
    """Told when a custom service starts or stops being used (the scheduler's hook)."""

    async def service_added(self, service: Service) -> None: ...

    async def service_removed(self, service_id: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Attempt:
    """One way the page was tried and what came of it."""

    candidate: Candidate
    observation: Observation

    @property
    def ok(self) -> bool:
        return self.observation.error is None


@dataclass(frozen=True, slots=True)
class Detection:
    """What trying every known format on a page found."""

    url: str
    attempts: tuple[Attempt, ...]
    name: str | None = None

    @property
    def found(self) -> Attempt | None:
        return next((a for a in self.attempts if a.ok), None)


class Unreadable(Exception):
    """No known format reads the page; ``detection.attempts`` says what was tried and why not."""

    def __init__(self, detection: Detection) -> None:
        super().__init__(detection.url)
        self.detection = detection


def looks_like_url(text: str) -> bool:
    """What a user typed is a web address rather than a service name."""
    text = text.strip()
    return "://" in text or ("." in text and " " not in text and page_url(text) is not None)


def _same_page_key(url: str) -> str:
    """``url`` compared as a page: scheme, ``www.``, case, trailing slash and fragment aside."""
    normalized = page_url(url) or url
    parts = urlsplit(normalized)
    host = (parts.hostname or "").removeprefix("www.")
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path}" + (f"?{parts.query}" if parts.query else "")


def to_service(row: CustomService) -> Service:
    """The catalog entry of a custom service: its page's name in both scripts (pages name
    themselves in Latin; rendering isolates it in Arabic text), its URL as an alias."""
    host = (urlsplit(row.url).hostname or "").lower()
    spec = SourceSpec(kind=row.kind, url=row.source_url, guarded=True)
    aliases = tuple(dict.fromkeys(a for a in (row.url, host) if a))
    return Service(row.id, row.name, row.name, aliases, row.url, (spec,), latin_in_arabic=True)


@dataclass
class CustomServices:
    """Detects, stores, shares and releases custom services (see the module docstring)."""

    catalog: Catalog
    fetcher: Fetcher
    per_guild: int = DEFAULT_PER_GUILD
    allow_private: bool = False
    timeout: float = DETECT_TIMEOUT
    max_bytes: int = DETECT_MAX_BYTES
    listeners: list[Listener] = field(default_factory=list)
    #: one detection per page at a time in this process (two guilds adding it together share it)
    _locks: KeyedLock = field(default_factory=KeyedLock, init=False, repr=False)
    #: the components each page published when this process read it to add it (until the
    #: scheduler's first reading reaches the monitor)
    _published: dict[str, tuple[str, ...]] = field(default_factory=dict, init=False, repr=False)

    def published(self, service_id: str) -> list[str]:
        """The components a page published when it was read to be added (empty otherwise)."""
        return list(self._published.get(service_id, ()))

    async def load(self) -> list[Service]:
        """Put every stored custom service in the catalog (at start, before the scheduler
        syncs); rows no subscription uses any more are removed instead."""
        loaded = []
        for row in await CustomService.all().order_by("created_at"):
            if not await Subscription.exists(service_id=row.id):
                await row.delete()
                continue
            service = to_service(row)
            self.catalog.add(service)
            loaded.append(service)
        return loaded

    async def adopt_stored(self) -> list[Service]:
        """Status pages another ``run`` process stored since ``load`` (a user subscribed there):
        they join this catalog and the listeners hear of them, so the elected poller polls
        pages whatever process took the command."""
        stored = set(await CustomService.all().values_list("id", flat=True))
        new = [sid for sid in stored if self.catalog.get(str(sid)) is None]
        adopted = []
        for row in await CustomService.filter(id__in=new).order_by("created_at") if new else []:
            service = to_service(row)
            self.catalog.add(service)
            await self._tell("service_added", service)
            adopted.append(service)
        return adopted

    # -- finding the service for a typed URL ---------------------------------------------

    def catalog_service_for(self, url: str) -> Service | None:
        """The bundled service whose official source *is* this page (the same page URL, or the
        same API endpoint), so nobody gets a custom copy of it. Hosts alone are not enough:
        many services share ``api.status.io`` or one Apple status file."""
        wanted = _same_page_key(url)
        kinds = registry()
        for service in self.catalog.services:
            for spec in service.sources:
                kind = kinds.get(spec.kind)
                if spec.guarded or kind is None or kind.role is not SourceRole.OFFICIAL:
                    continue
                keys = {_same_page_key(spec.url)}
                if isinstance(kind, type) and issubclass(kind, OfficialKind):
                    try:
                        keys.add(_same_page_key(kind.endpoint(spec.url, dict(spec.options))))
                    except ValueError:
                        pass
                if wanted in keys:
                    return service
        return None

    async def obtain(self, guild_id: int, typed: str, now: datetime) -> Service:
        """The service for a status page URL typed in ``guild_id``: a catalog service, a
        custom service already known, or a new one detected now. Raises ``UserError`` (bad
        or private URL, the guild's limit) or ``Unreadable``."""
        url = page_url(typed)
        if url is None:
            raise UserError(ERR_BAD_PAGE_URL, url=echo(typed, 100), prefix="https://")
        try:
            check_url(url, allow_private=self.allow_private)
        except SSRFRefused:
            raise UserError(ERR_PRIVATE_PAGE, url=echo(url, 100)) from None
        bundled = self.catalog_service_for(url)
        if bundled is not None:
            return bundled
        sid = custom_id(url)
        await self._check_limit(guild_id, sid)
        async with self._locks.hold(url):
            return await self._stored_or_detected(guild_id, url, sid, now)

    async def _stored_or_detected(self, guild_id: int, url: str, sid: str, now: datetime) -> Service:
        """The page's stored row, or a new one when detection reads it (``Unreadable`` if not)."""
        row = await CustomService.get_or_none(url=url)
        if row is None:
            detection = await self.detect(url, now)
            found = detection.found
            if found is None:
                raise Unreadable(detection)
            self._published[sid] = found.observation.component_names
            host = urlsplit(url).hostname or url
            try:
                row = await CustomService.create(
                    id=sid, url=url, kind=found.candidate.kind, source_url=found.candidate.spec_url,
                    name=detection.name or host, created_by_guild=guild_id,
                )
            except IntegrityError:  # another process stored the same page meanwhile
                row = await CustomService.get(url=url)
        service = self.catalog.get(row.id)
        if service is None:
            service = to_service(row)
            self.catalog.add(service)
            await self._tell("service_added", service)
        return service

    async def _check_limit(self, guild_id: int, service_id: str) -> None:
        if self.per_guild <= 0:
            raise UserError(ERR_CUSTOM_OFF)
        used = set(await Subscription.filter(guild_id=guild_id).distinct().values_list("service_id", flat=True))
        if service_id in used:
            return
        custom = await CustomService.filter(id__in=list(used)).count() if used else 0
        if custom >= self.per_guild:
            raise UserError(ERR_LIMIT, n=custom, command="/unsubscribe")

    async def detect(self, url: str, now: datetime) -> Detection:
        """Try every known format on ``url`` (each endpoint fetched once, through the guard)."""
        tried = candidates(url)
        asks = list(dict.fromkeys((c.endpoint, c.accept) for c in tried))  # (one fetch per endpoint and format asked for)
        results = await asyncio.gather(*(self._fetch(endpoint, accept) for endpoint, accept in asks))
        answers = dict(zip(asks, results))
        sid = custom_id(url)
        attempts = tuple(Attempt(c, reading(c, answers[c.endpoint, c.accept], service_id=sid, now=now)) for c in tried)
        name = None
        found = next((a for a in attempts if a.ok), None)
        if found is not None:
            name = page_name(found.candidate, answers[found.candidate.endpoint, found.candidate.accept].body)
        log.info("detected %s: %s", url, found.candidate.kind if found else "unreadable")
        return Detection(url, attempts, name)

    async def _fetch(self, endpoint: str, accept: str | None = None) -> FetchResult:
        try:
            return await self.fetcher.get(endpoint, guard=True, max_bytes=self.max_bytes, timeout=self.timeout, **accept_headers(accept))
        except Exception as exc:  # noqa: BLE001 - a broken fetcher is one more unreadable answer
            return FetchResult(endpoint, None, error=SourceError("connection", f"{type(exc).__name__}: {exc}"[:300]))

    # -- letting go -----------------------------------------------------------------------

    async def release(self, service_ids: list[str]) -> list[str]:
        """Remove the custom services among ``service_ids`` that no subscription uses any
        more (after an unsubscribe); returns the ids removed."""
        removed = []
        for sid in dict.fromkeys(service_ids):
            row = await CustomService.get_or_none(id=sid)
            if row is None or await Subscription.exists(service_id=sid):
                continue
            await row.delete()
            self._published.pop(sid, None)
            self.catalog.remove(sid)
            await self._tell("service_removed", sid)
            removed.append(sid)
        return removed

    async def _tell(self, event: str, arg: object) -> None:
        for listener in self.listeners:
            try:
                await getattr(listener, event)(arg)
            except Exception:  # a listener's failure must not fail the user's command
                log.exception("custom service listener %s failed on %s", event, arg)


__all__ = [
    "Attempt", "CustomServices", "Detection", "ERR_CUSTOM_OFF", "ERR_LIMIT", "ERR_PRIVATE_PAGE", "Listener",
    "Unreadable", "looks_like_url", "to_service",
]  # fmt: skip
