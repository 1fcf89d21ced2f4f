"""Fuse the latest observations of one service and its crowd signal into a ``Verdict``.

Three independent kinds of evidence — the official status page, our probes, crowd reports —
are weighed here, and where they disagree the verdict says so. Pure: time is an argument.

Rules, first match wins (``official`` is the worst status of the usable official sources):

| official            | probes (majority) | crowd            | → status          | confidence  | unacknowledged |
|---------------------|-------------------|------------------|-------------------|-------------|----------------|
| outage              | any               | any              | official's status | confirmed   | no             |
| maintenance now     | any               | any              | maintenance       | confirmed   | no             |
| operational         | failing           | possible/problems| probes' worst     | confirmed   | yes            |
| operational         | failing           | none             | probes' worst     | likely      | yes            |
| operational         | not failing       | problems         | degraded          | unconfirmed | yes            |
| unreadable / none   | failing           | possible/problems| probes' worst     | confirmed   | no             |
| unreadable / none   | failing           | none             | probes' worst     | likely      | no             |
| operational / none  | not failing       | possible         | degraded          | unconfirmed | no             |
| unreadable / none   | not failing       | problems         | degraded          | unconfirmed | no             |
| operational         | ok / none         | none             | operational       | None        | no             |
| unreadable / none   | ok                | none             | operational       | None        | no             |
| unreadable / none   | none / blind      | none             | unknown           | None        | no             |

* The official page saying so is enough for ``confirmed``: the service itself admits it.
* "Failing" probes means a strict majority of the usable probes report an outage status
  (one of one, two of two or three, …); a minority failing is listed as evidence only.
* "Maintenance now" is an official maintenance in progress (or the page's status is
  maintenance): it covers probe failures and crowd reports, which are expected then.
* Unusable, and so ignored: observations older than ``stale_after``; ``unknown`` readings;
  official readings that carry an ``error`` (the page could not be read). A probe kind must
  map a failed check (timeout, refused, bad status) to an outage status, with ``error`` as
  the reason; ``unknown`` from a probe means "could not tell". With ``probes_blind`` (the
  vantage self-check says our network is the problem) every probe reading counts as unknown.

Observations come as a sequence (keyed here by ``source_key``: role, kind, URL; the latest
reading per key wins) or as a mapping from the caller's own source key (e.g. the catalog
index) to that source's latest reading — use the mapping when two sources of one kind share
a URL or have none (tcp, dns).

"Since when" is not visible in one observation, so the caller (the detector) keeps a
``first_failure_at`` map from the same source keys to the time that source started failing,
updated after each poll with ``track_first_failures``; it is plain ``str → datetime`` and
can be stored with the detector state. Without an entry a failing source's ``since`` is its
``fetched_at``. An official incident's ``started_at`` wins when it is earlier.

"Unacknowledged since" is when the official page's silence began: the verdict's ``since``,
but never earlier than ``acknowledged_at``, the last time the page itself reported a problem
(an incident or a maintenance). When the page resolves its incident while reports linger, the
page was not silent all along: its silence starts when it stopped reporting. The detector keeps
that time with ``track_acknowledged`` after each poll, next to the ``first_failure_at`` map.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from bot.detect.model import Confidence, CrowdLevel, CrowdSignal, Evidence, Verdict
from bot.sources.base import IncidentInfo, Maintenance, Observation, SourceRole
from bot.status import Status

DEFAULT_STALE_AFTER = timedelta(minutes=10)
"""Ten poll intervals at the default 60 s: older readings no longer describe now."""


def source_key(obs: Observation) -> str:
    """A stable name for the source behind ``obs`` (role, kind and URL)."""
    return f"{obs.role.value}:{obs.source_kind}:{obs.url or ''}"


Readings = Sequence[Observation] | Mapping[str, Observation]


def track_first_failures(
    previous: Mapping[str, datetime],
    observations: Readings,
    *,
    probes_blind: bool = False,
) -> dict[str, datetime]:
    """The ``first_failure_at`` map after ``observations``: a failing source keeps its first
    failure time (or starts one at ``fetched_at``); a healthy source is dropped; an unknown or
    erroring reading keeps what we knew (one unreadable poll does not restart the clock)."""
    result = dict(previous)
    for key, obs in _keyed(observations).items():
        if not _usable(obs, probes_blind):
            continue
        if obs.status.is_outage:
            result.setdefault(key, obs.fetched_at)
        else:
            result.pop(key, None)
    return result


def track_acknowledged(previous: datetime | None, observations: Readings) -> datetime | None:
    """The last time an official source reported a problem: the newest ``fetched_at`` of a
    usable official reading with an outage status or a maintenance in progress, else
    ``previous`` (a healthy or unreadable page leaves it as it was)."""
    latest = previous
    for obs in _keyed(observations).values():
        if obs.role is not SourceRole.OFFICIAL or not _usable(obs, probes_blind=False):
            continue
        reporting = obs.status.is_outage or obs.status is Status.MAINTENANCE
        if reporting or _maintenance_now([obs], obs.fetched_at) is not None:
            latest = obs.fetched_at if latest is None else max(latest, obs.fetched_at)
    return latest


def fuse(
    service_id: str,
    observations: Readings,
    crowd: CrowdSignal | None,
    now: datetime,
    *,
    probes_blind: bool = False,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
    first_failure_at: Mapping[str, datetime] | None = None,
    acknowledged_at: datetime | None = None,
) -> Verdict:
    """The verdict for ``service_id`` at ``now`` (see the module's table); ``acknowledged_at``
    (from ``track_acknowledged``) bounds ``unacknowledged_since`` from below."""
    firsts = first_failure_at or {}
    keyed = {k: o for k, o in _keyed(observations).items() if now - o.fetched_at <= stale_after}
    fresh = list(keyed.values())
    official = [o for o in fresh if o.role is SourceRole.OFFICIAL and _usable(o, probes_blind)]
    probes = [o for o in fresh if o.role is SourceRole.PROBE and _usable(o, probes_blind)]

    evidence: list[Evidence] = []
    for key, obs in sorted(keyed.items(), key=lambda item: (_ROLE_ORDER.get(item[1].role, 9), item[0])):
        if obs.role is SourceRole.CROWD:
            continue  # crowd evidence comes from the CrowdSignal
        usable = _usable(obs, probes_blind)
        evidence.append(_evidence(obs, usable=usable, first_failure=firsts.get(key), now=now))
    crowd_ev = _crowd_evidence(crowd, now) if crowd is not None else None
    if crowd_ev is not None:
        evidence.append(crowd_ev)

    official_status = Status.worst(*(o.status for o in official)) if official else None
    maintenance = _maintenance_now(official, now)
    failing_probes = [o for o in probes if o.status.is_outage]
    probes_failing = bool(probes) and 2 * len(failing_probes) > len(probes)
    level = crowd.level if crowd is not None else CrowdLevel.NONE
    probe_at = max((o.fetched_at for o in probes), default=None)

    def since_of(role: SourceRole) -> list[datetime]:
        return [e.since for e in evidence if e.role is role and e.status.is_outage and e.since is not None]

    def verdict(
        status: Status, confidence: Confidence | None, since: datetime | None, unacknowledged: bool = False
    ) -> Verdict:
        return Verdict(
            service_id=service_id,
            status=status,
            confidence=confidence,
            at=now,
            evidence=tuple(evidence),
            unacknowledged=unacknowledged,
            unacknowledged_since=_silent_since(since, acknowledged_at, now) if unacknowledged else None,
            official_status=official_status,
            since=since,
            probe_at=probe_at,
        )

    if official_status is not None and official_status.is_outage:
        agreeing = since_of(SourceRole.OFFICIAL)
        if probes_failing:
            agreeing += since_of(SourceRole.PROBE)
        if level is not CrowdLevel.NONE:
            agreeing += since_of(SourceRole.CROWD)
        return verdict(official_status, Confidence.CONFIRMED, min(agreeing, default=now))

    if maintenance is not None or official_status is Status.MAINTENANCE:
        window_start = maintenance.starts_at if maintenance is not None else None
        return verdict(Status.MAINTENANCE, Confidence.CONFIRMED, window_start)

    page_says_ok = official_status is Status.OPERATIONAL
    if probes_failing:
        status = Status.worst(*(o.status for o in failing_probes))
        crowd_agrees = level is not CrowdLevel.NONE
        starts = since_of(SourceRole.PROBE) + (since_of(SourceRole.CROWD) if crowd_agrees else [])
        since = min(starts, default=now)
        confidence = Confidence.CONFIRMED if crowd_agrees else Confidence.LIKELY
        return verdict(status, confidence, since, unacknowledged=page_says_ok)

    if level is not CrowdLevel.NONE:
        since = min(since_of(SourceRole.CROWD), default=now)
        unack = page_says_ok and level is CrowdLevel.PROBLEMS
        return verdict(Status.DEGRADED, Confidence.UNCONFIRMED, since, unacknowledged=unack)

    if official or probes:
        return verdict(Status.OPERATIONAL, None, None)
    return verdict(Status.UNKNOWN, None, None)


def _silent_since(since: datetime | None, acknowledged_at: datetime | None, now: datetime) -> datetime | None:
    """Since when the official page has said nothing of the problem (see the module)."""
    if acknowledged_at is None or since is None:
        return since
    return max(since, min(acknowledged_at, now))


_ROLE_ORDER = {SourceRole.OFFICIAL: 0, SourceRole.PROBE: 1, SourceRole.CROWD: 2}


def _keyed(observations: Readings) -> dict[str, Observation]:
    """Source key → latest reading (a mapping is taken as already keyed by the caller)."""
    if isinstance(observations, Mapping):
        return dict(observations)
    latest: dict[str, Observation] = {}
    for obs in observations:
        key = source_key(obs)
        if key not in latest or obs.fetched_at > latest[key].fetched_at:
            latest[key] = obs
    return latest


def _usable(obs: Observation, probes_blind: bool) -> bool:
    if obs.status is Status.UNKNOWN:
        return False
    if obs.role is SourceRole.PROBE:
        return not probes_blind
    return obs.error is None


def _maintenance_now(official: Sequence[Observation], now: datetime) -> Maintenance | None:
    """The first official maintenance in progress at ``now`` (by the page's flag or window)."""
    for obs in official:
        for m in obs.maintenances:
            in_window = m.starts_at is not None and m.ends_at is not None and m.starts_at <= now < m.ends_at
            if m.in_progress or in_window:
                return m
    return None


def _main_incident(obs: Observation) -> IncidentInfo | None:
    """The official incident to quote: the most severe, then the most recently updated."""
    if not obs.incidents:
        return None

    def rank(i: IncidentInfo) -> tuple[int, datetime]:
        return (i.impact.severity or 0, i.updated_at or i.started_at or obs.fetched_at)

    return max(obs.incidents, key=rank)


def probe_target(url: str | None) -> str | None:
    """What a probe checked, as a reader can tell two probes apart: the host without ``www.``
    and the path without its query (``https://discord.com/api/v10/gateway`` →
    ``discord.com/api/v10/gateway``; ``https://www.youtube.com/oembed?url=…`` →
    ``youtube.com/oembed``)."""
    if not url:
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    if not host:
        return None
    path = parts.path.rstrip("/")
    return f"{host}{path}"[:80]


def _evidence(obs: Observation, *, usable: bool, first_failure: datetime | None, now: datetime) -> Evidence:
    status = obs.status if usable else Status.UNKNOWN
    since: datetime | None = None
    if status.is_outage:
        since = first_failure or obs.fetched_at
    error_kind = obs.error.kind if obs.error is not None else None
    if obs.role is SourceRole.PROBE:
        return Evidence(
            role=obs.role,
            source_kind=obs.source_kind,
            status=status,
            since=since,
            http_status=obs.http_status,
            latency_ms=obs.latency_ms,
            error_kind=error_kind,
            target=probe_target(obs.url),
        )
    incident = _main_incident(obs) if usable else None
    title = incident.title if incident is not None else None
    url = (incident.url if incident is not None else None) or obs.url
    if incident is not None and incident.started_at is not None and status.is_outage:
        since = min(since or incident.started_at, incident.started_at)
    maintenance = _maintenance_now([obs], now) if usable and not status.is_outage else None
    if maintenance is not None:
        status = Status.MAINTENANCE
        title, url, since = maintenance.title, maintenance.url or url, maintenance.starts_at
    return Evidence(
        role=obs.role,
        source_kind=obs.source_kind,
        status=status,
        since=since,
        official_title=title,
        official_update=incident.latest_update if incident is not None else None,
        official_url=url,
        error_kind=error_kind,
        components=tuple(c.name for c in obs.components if c.status is not Status.OPERATIONAL) if usable else (),
    )


def _crowd_evidence(crowd: CrowdSignal, now: datetime) -> Evidence:
    spiking = crowd.level is not CrowdLevel.NONE
    return Evidence(
        role=SourceRole.CROWD,
        source_kind="crowd",
        status=Status.DEGRADED if spiking else Status.OPERATIONAL,
        since=(crowd.since or now) if spiking else None,
        reports=crowd.recent,
        usual=crowd.usual,
        top_problem=crowd.top_problem,
        top_problem_share=crowd.top_problem_share,
        countries=crowd.countries,
        works=crowd.works or None,
    )
