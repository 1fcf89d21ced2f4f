"""The ``/isitdown`` answer and the ``/status`` overview.

``/isitdown`` answers at once from the monitor's current verdict. Only when there is none, or
it is stale, or the user typed a URL, does it probe live: a catalog service through its own
sources (trusted operator configuration), a URL through the SSRF guard (``guard=True``;
``ALLOW_PRIVATE_TARGETS`` lifts the address rule inside ``bot.net.HttpClient``).

The same code serves ``python -m bot check`` (no monitor, no database: always live).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping, Protocol, Sequence
from urllib.parse import urlsplit

from bot.catalog import Catalog, Service
from bot.detect.fusion import fuse, track_acknowledged, track_first_failures
from bot.db.records import past_incidents
from bot.detect.model import CrowdSignal, Verdict
from bot.detect.track_record import WINDOW as RECORD_WINDOW, PastIncident, TrackRecord, track_record
from bot.i18n import N_, in_arabic_script
from bot.notify.render import ServiceNames
from bot.notify.render.chart import ReportSeries
from bot.notify.text import echo
from bot.services.custom import CustomServices
from bot.services.errors import UserError
from bot.sources._toolkit.detect import page_url
from bot.sources.base import Fetcher, Observation, PollContext, SourceError, get_kind
from bot.sources.http import ProbeOptions, probe
from bot.sources.ioda import CountryOutage
from bot.net.ssrf import SSRFRefused, check_url, literal_address, vet_address
from bot.status import Status

log = logging.getLogger(__name__)

#: a verdict older than this is not "current": /isitdown probes live instead
LIVE_AFTER = timedelta(minutes=3)
#: a live probe must finish well inside the 15 minutes an interaction token lives
LIVE_TIMEOUT = 8.0
URL_SERVICE_ID = "url"

ERR_UNKNOWN = N_("We don't know a service called {query}. Pick one from the suggestions, or type a web address.")
ERR_PRIVATE = N_("We only check public websites: {url} points to a private or local address.")
ERR_BAD_URL = N_("We can't check {url}: use a public web address starting with {prefix}.")

_HOSTLIKE = re.compile(r"^[^\s/]+\.[^\s/]{2,}(/\S*)?$")


class MonitorView(Protocol):
    """What the status answer needs from ``bot.runtime.monitor.Monitor``."""

    def verdict(self, service_id: str) -> Verdict | None: ...

    def first_failures(self, service_id: str, now: datetime) -> Mapping[str, datetime]: ...

    def acknowledged_at(self, service_id: str) -> datetime | None: ...

    @property
    def probes_blind(self) -> bool: ...


async def canaries_blind(fetcher: Fetcher, targets: Sequence[str], now: datetime) -> bool:
    """The vantage self-check, once: are most canaries failing (our own network is down)?

    Used where no monitor runs (``python -m bot check``): without it, a machine with no
    network would call every service down."""
    from bot.detect.vantage import VantageState, assess, canary_spec

    async def one(target: str) -> tuple[str, bool]:
        spec = canary_spec(target)
        try:
            obs = await get_kind(spec.kind).poll(PollContext("_canary", spec, fetcher, now))
        except Exception:  # noqa: BLE001 - a broken canary counts as failing
            return target, False
        return target, obs.status in (Status.OPERATIONAL, Status.DEGRADED)

    if not targets:
        return False
    results = dict(await asyncio.gather(*(one(t) for t in targets)))
    state, _ = assess(results, VantageState(), now)
    return state.blind


class NationalView(Protocol):
    """What the status answer needs from ``bot.runtime.ioda.IodaPoller``."""

    def outage(self, country: str | None, now: datetime) -> CountryOutage | None: ...


class CrowdView(Protocol):
    """What the status answer needs from ``bot.services.crowd.CrowdService``."""

    async def signal(self, service_id: str, now: datetime) -> CrowdSignal | None: ...

    async def series(
        self, service_id: str, now: datetime | None = None, *, incident: tuple[datetime, datetime | None] | None = None
    ) -> ReportSeries: ...


def looks_like_status_page(url: str) -> bool:
    """A typed URL that names a status page (``status.example.com``, ``githubstatus.com``,
    ``…/systemstatus/…``): ``/isitdown`` then reads it in its own format too, beside the
    plain web check. Any other site gets the web check alone (no extra requests)."""
    parts = urlsplit(url)
    return "status" in (parts.hostname or "").lower() or "status" in parts.path.lower()


@dataclass(frozen=True, slots=True)
class Target:
    """What ``/isitdown`` was asked about: a catalog service or a URL."""

    names: ServiceNames
    service: Service | None = None
    url: str | None = None
    #: "ar" when the query was in Arabic script, else None (the guild's language)
    lang: str | None = None

    @property
    def service_id(self) -> str:
        return self.service.id if self.service is not None else URL_SERVICE_ID


@dataclass(frozen=True, slots=True)
class Answer:
    """A verdict to render, with the crowd signal that goes with it."""

    target: Target
    verdict: Verdict
    crowd: CrowdSignal | None = None
    live: bool = False


def published_components(monitor: object, service_id: str) -> list[str]:
    """The components the service's official pages publish, from the monitor's latest
    observations (empty without a monitor or a reading yet)."""
    observations = getattr(monitor, "observations", None)
    if observations is None:
        return []
    names: dict[str, None] = {}
    for obs in observations(service_id).values():
        for name in obs.component_names:
            names.setdefault(name, None)
    return list(names)


def names_of(service: Service) -> ServiceNames:
    return ServiceNames.of(service)


@dataclass
class StatusService:
    """Resolves what users ask about and produces verdicts, current or live."""

    catalog: Catalog
    fetcher: Fetcher
    monitor: MonitorView | None = None
    crowd: CrowdView | None = None
    stale_after: timedelta = LIVE_AFTER
    allow_private: bool = False
    live_timeout: float = LIVE_TIMEOUT
    #: canary targets checked before a live answer when no monitor runs (the CLI)
    canaries: tuple[str, ...] = ()
    #: what IODA says of national connectivity (``bot.runtime.ioda.IodaPoller``), when it runs
    national: NationalView | None = None
    #: reads a typed status page in any known format (a URL naming a status page)
    custom: CustomServices | None = None
    _probe_options: ProbeOptions = field(init=False)

    def __post_init__(self) -> None:
        self._probe_options = ProbeOptions(timeout=self.live_timeout)

    # -- what was asked -------------------------------------------------------------------

    def target(self, query: str) -> Target:
        """A catalog service (by id, name or alias, or by a URL on its own site) or a URL to
        probe. Raises ``UserError`` for anything else, or a URL the guard refuses outright."""
        text = query.strip()
        lang = "ar" if in_arabic_script(text) else None
        service = self.catalog.resolve(text)
        if service is None and (page := page_url(text)) is not None:
            service = self.catalog.resolve(page)  # a status page a guild added, typed as a URL
        if service is not None:
            return Target(names_of(service), service=service, lang=lang)
        url = _as_url(text)
        if url is None:
            raise UserError(ERR_UNKNOWN, query=echo(text), _lang=lang)
        host = (urlsplit(url).hostname or "").lower()
        by_host = self._service_for_host(host)
        if by_host is not None:
            return Target(names_of(by_host), service=by_host, lang=lang)
        try:
            check_url(url, allow_private=self.allow_private)
        except SSRFRefused as exc:
            raise self._refusal(url, SourceError("ssrf", str(exc)), lang) from None
        return Target(ServiceNames(URL_SERVICE_ID, host or url), url=url, lang=lang)

    def _service_for_host(self, host: str) -> Service | None:
        bare = host.removeprefix("www.")
        service = self.catalog.resolve(host) or self.catalog.resolve(bare)
        if service is not None:
            return service
        for candidate in self.catalog:
            if candidate.homepage and (urlsplit(candidate.homepage).hostname or "").lower().removeprefix("www.") == bare:
                return candidate
        return None

    @staticmethod
    def _refusal(url: str, error: SourceError, lang: str | None) -> UserError:
        log.info("refused /isitdown URL %s: %s", url, error.message)
        if _private_host(url) or (error.kind == "ssrf" and "address" in error.message):
            return UserError(ERR_PRIVATE, url=echo(url, 100), _lang=lang)
        return UserError(ERR_BAD_URL, url=echo(url, 100), prefix="https://", _lang=lang)

    # -- answers --------------------------------------------------------------------------

    def needs_live(self, target: Target, now: datetime) -> bool:
        """True for a URL, or a service without a fresh verdict (then: defer and probe)."""
        if target.service is None or self.monitor is None:
            return True
        verdict = self.monitor.verdict(target.service.id)
        return verdict is None or now - verdict.at > self.stale_after

    async def current(self, target: Target, now: datetime) -> Answer | None:
        """The monitor's fresh verdict for a service, or None (see ``needs_live``)."""
        if self.needs_live(target, now):
            return None
        assert self.monitor is not None and target.service is not None
        verdict = self.monitor.verdict(target.service.id)
        assert verdict is not None
        return Answer(target, verdict, await self._crowd(target, now))

    def national_outage(self, country: str | None, now: datetime) -> CountryOutage | None:
        """The national internet outage IODA shows now in ``country`` (the asking guild's), if
        any: ``/isitdown`` answers that first. None without IODA, a country, or a reading."""
        if self.national is None or not country:
            return None
        try:
            return self.national.outage(country, now)
        except Exception:  # the national context is optional: never let it stop an answer
            log.exception("national outage lookup failed for %s", country)
            return None

    async def track_record(self, target: Target, now: datetime) -> TrackRecord | None:
        """How late the service's official page admitted its outages over the last 90 days
        (``bot.detect.track_record``); None for a URL, a service without an official page, or
        when the database cannot say (the record is a detail: never let it stop an answer)."""
        service = target.service
        if service is None or service.status_url is None:
            return None
        try:
            rows = await past_incidents(service.id, now, RECORD_WINDOW)
        except Exception:
            log.exception("track record of %s failed", service.id)
            return None
        return track_record((PastIncident(*row) for row in rows), now)

    async def answer(self, target: Target, now: datetime) -> Answer:
        """The current answer when there is one, else a live one."""
        return await self.current(target, now) or await self.live(target, now)

    async def live(self, target: Target, now: datetime) -> Answer:
        """Probe now: the service's own sources, or the URL through the SSRF guard."""
        if target.service is None:
            assert target.url is not None
            obs = await probe(self.fetcher, target.url, self._probe_options, service_id=URL_SERVICE_ID, now=now, guard=True)
            if obs.error is not None and obs.error.kind in ("ssrf", "invalid_url"):
                raise self._refusal(target.url, obs.error, target.lang)
            detection = None
            if self.custom is not None and looks_like_status_page(target.url):  # only a URL the guard let through
                detection = await self.custom.detect(target.url, now)
            readings = {"url": obs}
            found = detection.found if detection is not None else None
            if detection is not None and found is not None:  # the page's own word, named by the page
                readings["page"] = found.observation
                names = ServiceNames(URL_SERVICE_ID, detection.name or target.names.name, status_url=target.url)
                target = Target(names, url=target.url, lang=target.lang)
            blind = await self._probes_blind(now)
            return Answer(target, fuse(URL_SERVICE_ID, readings, None, now, probes_blind=blind), live=True)
        service = target.service
        crowd = await self._crowd(target, now)
        readings, blind = await asyncio.gather(self.poll_sources(service, now), self._probes_blind(now))
        # what the monitor already knew: since when a source has been failing, when the page
        # last admitted a problem — without it, an outage hours old would read "since now"
        firsts = self.monitor.first_failures(service.id, now) if self.monitor is not None else {}
        acknowledged = self.monitor.acknowledged_at(service.id) if self.monitor is not None else None
        verdict = fuse(
            service.id, readings, crowd, now, probes_blind=blind,
            first_failure_at=track_first_failures(firsts, readings, probes_blind=blind),
            acknowledged_at=track_acknowledged(acknowledged, readings),
        )
        return Answer(target, verdict, crowd, live=True)

    async def poll_sources(self, service: Service, now: datetime) -> dict[str, Observation]:
        """One reading of each of the service's sources (a failing kind never sinks the rest),
        under the keys the monitor keeps them by (``Service.source_key``)."""

        async def one(index: int) -> Observation:
            spec = service.sources[index]
            kind = get_kind(spec.kind)
            try:
                return await asyncio.wait_for(
                    kind.poll(PollContext(service.id, spec, self.fetcher, now)), self.live_timeout + 2
                )
            except (asyncio.TimeoutError, Exception) as exc:  # noqa: BLE001 - isolate each source
                log.warning("live poll of %s source %d (%s) failed: %r", service.id, index, spec.kind, exc)
                return Observation(
                    service.id, spec.kind, Status.UNKNOWN, now, role=kind.role,
                    error=SourceError("timeout" if isinstance(exc, asyncio.TimeoutError) else "error", str(exc)[:200]),
                    url=spec.url,
                )

        results = await asyncio.gather(*(one(i) for i in range(len(service.sources))))
        return {service.source_key(i): obs for i, obs in enumerate(results)}

    async def _probes_blind(self, now: datetime) -> bool:
        """Our probes say nothing when our own network is down: the monitor knows (the
        scheduler checks canaries); without one, check the canaries now."""
        if self.monitor is not None:
            return bool(getattr(self.monitor, "probes_blind", False))
        return await canaries_blind(self.fetcher, self.canaries, now)

    async def chart_series(self, answer: Answer, now: datetime) -> ReportSeries | None:
        """The report chart's data for an ``/isitdown`` answer about a catalog service, its
        current problem shaded (None for a URL, or when nobody reported in 24 hours)."""
        target, verdict = answer.target, answer.verdict
        if self.crowd is None or target.service is None:
            return None
        since = verdict.since if verdict.status.is_outage else None
        try:
            series = await self.crowd.series(target.service.id, now, incident=(since, None) if since else None)
        except Exception:  # noqa: BLE001 - the answer stands without its picture
            log.exception("chart data for %s failed", target.service.id)
            return None
        return series if any(series.counts) else None  # a day without one report: nothing to show

    async def _crowd(self, target: Target, now: datetime) -> CrowdSignal | None:
        if self.crowd is None or target.service is None:
            return None
        try:
            return await self.crowd.signal(target.service.id, now)
        except Exception:  # noqa: BLE001 - the answer still stands without crowd numbers
            log.exception("crowd signal for %s failed", target.service.id)
            return None

    # -- /status --------------------------------------------------------------------------

    def overview(self) -> "Overview":
        """Every catalog service whose current verdict is not operational, worst first.
        Status pages typed by users are left out: they are their servers' own business."""
        bundled = [s for s in self.catalog if not any(spec.guarded for spec in s.sources)]
        if self.monitor is None:
            return Overview((), 0, len(bundled))
        troubled: list[tuple[Service, Verdict]] = []
        known = 0
        for service in bundled:
            verdict = self.monitor.verdict(service.id)
            if verdict is None:
                continue
            known += 1
            if verdict.status.is_outage or verdict.status is Status.MAINTENANCE:
                troubled.append((service, verdict))
        troubled.sort(key=lambda sv: (-(sv[1].status.severity or 0), sv[1].since or sv[1].at))
        return Overview(tuple((names_of(s), v) for s, v in troubled), known, len(bundled))


@dataclass(frozen=True, slots=True)
class Overview:
    """What ``/status`` shows: the troubled services and how many we have readings for."""

    troubled: tuple[tuple[ServiceNames, Verdict], ...]
    known: int
    total: int


def _private_host(url: str) -> bool:
    """True when the URL names a private or local host outright (the guard would refuse its
    address whatever the port or scheme)."""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = literal_address(host)
    except SSRFRefused:
        return True  # an odd numeric spelling of an address: refused as such
    if address is None:
        return False
    try:
        vet_address(address)
    except SSRFRefused:
        return True
    return False


def _as_url(text: str) -> str | None:
    """``text`` as an http(s) URL when it looks like one (a bare host gets https://)."""
    if "://" in text:
        return text if " " not in text else None
    if _HOSTLIKE.match(text) and not in_arabic_script(text):
        return f"https://{text}"
    return None


def describe(answer: Answer) -> dict[str, Any]:
    """A log-friendly summary of an answer."""
    v = answer.verdict
    return {"service": v.service_id, "status": v.status.value, "live": answer.live, "evidence": len(v.evidence)}
