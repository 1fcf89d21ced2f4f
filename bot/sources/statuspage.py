"""Atlassian Statuspage v2 ``summary.json`` (incident.io-hosted pages serve the same shape).

Mapping (documented so alerts can be explained):

- page indicator ``none/minor/major/critical/maintenance`` → operational / degraded /
  partial_outage / major_outage / maintenance;
- component ``operational/degraded_performance/partial_outage/major_outage/under_maintenance``
  → operational / degraded / partial_outage / major_outage / maintenance;
- unresolved incident impact ``none/minor/major/critical`` → operational / degraded /
  partial_outage / major_outage.

The page status is the **worst** of indicator, unresolved incidents and components, because
the indicator does not always follow them (GitHub 2020-04-02: indicator ``major`` while four
components were ``major_outage``). Maintenance wins only when no outage is present.

Option ``components`` (names) restricts the reading to those components: the page-wide
indicator is then ignored and only incidents naming one of them count.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.sources._toolkit import OfficialKind, PayloadError, as_dict, as_list, guarded_parse, load_json, name_filter, opt_str
from bot.sources._toolkit import page_observation, parse_time, text
from bot.sources.base import Component, IncidentInfo, Maintenance, Observation, register
from bot.status import Status

KIND = "statuspage"

INDICATOR: dict[str, Status] = {
    "none": Status.OPERATIONAL, "minor": Status.DEGRADED, "major": Status.PARTIAL_OUTAGE,
    "critical": Status.MAJOR_OUTAGE, "maintenance": Status.MAINTENANCE,
}
COMPONENT: dict[str, Status] = {
    "operational": Status.OPERATIONAL, "degraded_performance": Status.DEGRADED, "partial_outage": Status.PARTIAL_OUTAGE,
    "major_outage": Status.MAJOR_OUTAGE, "under_maintenance": Status.MAINTENANCE,
}
IMPACT: dict[str, Status] = {
    "none": Status.OPERATIONAL,
    "minor": Status.DEGRADED,
    "major": Status.PARTIAL_OUTAGE,
    "critical": Status.MAJOR_OUTAGE,
    "maintenance": Status.MAINTENANCE,
}
_CLOSED = frozenset({"resolved", "postmortem", "completed"})
_MAINT_ACTIVE = frozenset({"in_progress", "verifying"})

# The parser ranks statuses with plain ints looked up by the provider's own word, instead of
# collecting ``Status`` members and calling ``Status.worst`` (an Enum hashes and compares in
# Python code, which shows at 10,000 pages a minute). Rank = severity on the outage scale;
# maintenance and unknown stand aside exactly as in ``Status.worst``.
_MAINT = -1
_UNRANKED = -2
_STATUS_OF_RANK: dict[int, Status] = {
    s.severity: s for s in Status if s.severity is not None  # type: ignore[misc]
}


def _rank(status: Status) -> int:
    if status.severity is not None:
        return status.severity
    return _MAINT if status is Status.MAINTENANCE else _UNRANKED


def _ranked(table: dict[str, Status]) -> dict[str, tuple[Status, int]]:
    return {word: (status, _rank(status)) for word, status in table.items()}


_COMPONENT_RANKED = _ranked(COMPONENT)
_INDICATOR_RANKED = _ranked(INDICATOR)
_IMPACT_RANKED = _ranked(IMPACT)
_UNKNOWN_COMPONENT = (Status.UNKNOWN, _UNRANKED)
_DEGRADED_IMPACT = (Status.DEGRADED, _rank(Status.DEGRADED))


def _update_time(update: dict[str, Any]) -> datetime | None:
    return parse_time(update.get("display_at")) or parse_time(update.get("created_at"))


def _latest_update(incident: dict[str, Any]) -> tuple[str | None, datetime | None]:
    """The newest update's text and time. The API lists newest first, but the payload is
    not trusted to be ordered: the latest dated update wins (the first one on a tie), the
    first update when none is dated. Each timestamp is parsed once."""
    latest: dict[str, Any] | None = None
    latest_at: datetime | None = None
    first: dict[str, Any] | None = None
    for update in as_list(incident.get("incident_updates"), "incident_updates"):
        if not isinstance(update, dict):
            continue
        if first is None:
            first = update
        when = _update_time(update)
        if when is not None and (latest_at is None or when > latest_at):
            latest, latest_at = update, when
    if latest is None:
        latest = first
    if latest is None:
        return None, None
    return text(latest.get("body")), latest_at


def _incident_components(incident: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for comp in as_list(incident.get("components"), "incident components"):
        if isinstance(comp, dict) and isinstance(comp.get("name"), str):
            names.add(comp["name"].strip().casefold())
    return names


def _parse(payload: bytes, *, service_id: str, fetched_at: datetime, url: str | None = None,
           latency_ms: float | None = None, http_status: int | None = None, **options: Any) -> Observation:  # fmt: skip
    """Read one ``summary.json`` payload.

    Hot path (every page, every minute): the common all-operational page costs a JSON decode
    plus one dict lookup per component, and allocates nothing for operational components.
    """
    doc = as_dict(load_json(payload), "summary.json")
    # summary.json has them all; status.json, components.json, incidents(/unresolved).json and
    # scheduled-maintenances(/active|/upcoming).json one each (a catalog entry may point at one)
    if not any(key in doc for key in ("status", "components", "incidents", "scheduled_maintenances")):
        raise PayloadError("not a Statuspage answer (no status, components, incidents or scheduled_maintenances)")
    if "status_page" in doc:  # (its incidents would read as this format's: a healthy page as degraded)
        raise PayloadError("a Statuspal answer (status_page), not a Statuspage one")
    wanted = name_filter(options, "components") if options else None

    page = doc.get("page")
    page_url = (opt_str(page.get("url")) if isinstance(page, dict) else None) or url
    status_block = doc.get("status")
    if status_block is None:
        status_block = {}
    elif not isinstance(status_block, dict):  # (another format's "status": PlayStation's list, say)
        raise PayloadError(f"status must be an object, got {type(status_block).__name__}")
    indicator = opt_str(status_block.get("indicator"))
    description = text(status_block.get("description"))

    # What the parser has seen so far: the worst outage rank (-1: none yet), whether any
    # maintenance was seen, whether anything at all was seen (for the ``components`` filter).
    top = -1
    maintenance = False
    seen_any = False
    if wanted is None and indicator is not None:
        found = _INDICATOR_RANKED.get(indicator)
        if found is None:
            raise PayloadError(f"unknown page indicator {indicator!r}")
        rank = found[1]
        seen_any = True
        if rank > top:
            top = rank
        elif rank == _MAINT:
            maintenance = True

    affected: list[Component] = []
    published: list[str] = []  # every component's name, for ``/subscribe component:``
    for raw in as_list(doc.get("components"), "components"):
        if not isinstance(raw, dict):
            as_dict(raw, "component")  # raises with the usual message
        word = raw.get("status")
        name = raw.get("name")
        if isinstance(name, str):
            published.append(name)
        if wanted is None and word == "operational":
            continue  # the common case: counts for nothing
        if not isinstance(name, str):
            name = opt_str(name)
            if name is None:
                continue
        if wanted is not None and name.strip().casefold() not in wanted:
            continue
        status, rank = _COMPONENT_RANKED.get(word, _UNKNOWN_COMPONENT) if isinstance(word, str) else _UNKNOWN_COMPONENT
        seen_any = True
        if rank == 0:
            continue
        if rank > top:
            top = rank
        elif rank == _MAINT:
            maintenance = True
        affected.append(Component(name=name, status=status))

    incidents: list[IncidentInfo] = []
    for raw in as_list(doc.get("incidents"), "incidents"):
        inc = as_dict(raw, "incident")
        state = (opt_str(inc.get("status")) or "").lower()
        if state in _CLOSED:
            continue
        if wanted is not None and not (_incident_components(inc) & wanted):
            continue
        impact, rank = _IMPACT_RANKED.get(opt_str(inc.get("impact")) or "", _DEGRADED_IMPACT)
        seen_any = True
        if rank > top:
            top = rank
        elif rank == _MAINT:
            maintenance = True
        latest, updated_at = _latest_update(inc)
        incidents.append(
            IncidentInfo(
                id=opt_str(inc.get("id")) or opt_str(inc.get("name")) or "?",
                title=text(inc.get("name")) or "(untitled incident)", impact=impact, status=state or "unknown",
                url=opt_str(inc.get("shortlink")) or (f"{page_url.rstrip('/')}/incidents/{inc['id']}" if page_url and isinstance(inc.get("id"), str) else None),
                latest_update=latest, updated_at=updated_at or parse_time(inc.get("updated_at")),
                started_at=parse_time(inc.get("started_at")) or parse_time(inc.get("created_at")),
            )
        )

    maintenances: list[Maintenance] = []
    for raw in as_list(doc.get("scheduled_maintenances"), "scheduled_maintenances"):
        m = as_dict(raw, "scheduled maintenance")
        state = (opt_str(m.get("status")) or "").lower()
        if state in _CLOSED:
            continue
        if wanted is not None and not (_incident_components(m) & wanted):
            continue
        in_progress = state in _MAINT_ACTIVE
        maintenance = maintenance or in_progress
        maintenances.append(
            Maintenance(
                id=opt_str(m.get("id")) or opt_str(m.get("name")) or "?",
                title=text(m.get("name")) or "(untitled maintenance)", starts_at=parse_time(m.get("scheduled_for")),
                ends_at=parse_time(m.get("scheduled_until")), in_progress=in_progress, url=opt_str(m.get("shortlink")),
            )
        )

    if wanted is not None and not seen_any:
        raise PayloadError("none of the configured components is on this page")
    # The worst outage wins; maintenance only when nothing is worse than operational.
    if top > 0:
        status = _STATUS_OF_RANK[top]
    elif maintenance:
        status = Status.MAINTENANCE
    else:
        status = Status.OPERATIONAL

    return page_observation(
        KIND, service_id, fetched_at, page_url, status=status, incidents=incidents, maintenances=maintenances,
        components=affected, description=description, latency_ms=latency_ms, http_status=http_status,
        component_names=published,
    )  # fmt: skip


parse = guarded_parse(KIND, _parse, fills_fetch=True)


@register
class StatuspageKind(OfficialKind):
    """An Atlassian Statuspage (or incident.io page) read through ``/api/v2/summary.json``."""

    name, parse, name_option, api_path = KIND, parse, "components", "/api/v2/summary.json"

    @classmethod
    def page_name(cls, payload: bytes) -> str | None:
        """``page.name`` of a summary (``"GitHub"``)."""
        try:
            page = as_dict(load_json(payload), "summary.json").get("page")
        except PayloadError:
            return None
        return text(page.get("name")) if isinstance(page, dict) else None


def endpoint_for(url: str) -> str:
    """``<page>/api/v2/summary.json`` unless the URL already names a JSON endpoint."""
    return StatuspageKind.endpoint(url, {})
