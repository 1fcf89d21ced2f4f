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
from typing import Any, ClassVar

from bot.sources._json import (
    PayloadError,
    as_dict,
    as_list,
    check_str_list,
    guarded_parse,
    load_json,
    name_filter,
    opt_str,
    parse_time,
    poll_official,
    text,
    worst,
)
from bot.sources.base import (
    Component,
    IncidentInfo,
    Maintenance,
    Observation,
    PollContext,
    SourceKind,
    SourceRole,
    register,
)
from bot.status import Status

KIND = "statuspage"

INDICATOR: dict[str, Status] = {
    "none": Status.OPERATIONAL,
    "minor": Status.DEGRADED,
    "major": Status.PARTIAL_OUTAGE,
    "critical": Status.MAJOR_OUTAGE,
    "maintenance": Status.MAINTENANCE,
}
COMPONENT: dict[str, Status] = {
    "operational": Status.OPERATIONAL,
    "degraded_performance": Status.DEGRADED,
    "partial_outage": Status.PARTIAL_OUTAGE,
    "major_outage": Status.MAJOR_OUTAGE,
    "under_maintenance": Status.MAINTENANCE,
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


def _latest_update(incident: dict[str, Any]) -> tuple[str | None, datetime | None]:
    updates = [u for u in as_list(incident.get("incident_updates"), "incident_updates") if isinstance(u, dict)]
    if not updates:
        return None, None
    # The API lists newest first; sort anyway so a reordered payload cannot fool us.
    dated = [(parse_time(u.get("display_at")) or parse_time(u.get("created_at")), i, u) for i, u in enumerate(updates)]
    with_time = [d for d in dated if d[0] is not None]
    latest = max(with_time, key=lambda d: d[0])[2] if with_time else updates[0]
    when = parse_time(latest.get("display_at")) or parse_time(latest.get("created_at"))
    return text(latest.get("body")), when


def _incident_components(incident: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for comp in as_list(incident.get("components"), "incident components"):
        if isinstance(comp, dict) and isinstance(comp.get("name"), str):
            names.add(comp["name"].strip().casefold())
    return names


def _parse(
    payload: bytes, *, service_id: str, fetched_at: datetime, url: str | None = None, **options: Any
) -> Observation:
    """Read one ``summary.json`` payload."""
    doc = as_dict(load_json(payload), "summary.json")
    if "status" not in doc and "components" not in doc and "incidents" not in doc:
        raise PayloadError("not a Statuspage summary (no status, components or incidents)")
    wanted = name_filter(options, "components")

    page = doc.get("page") if isinstance(doc.get("page"), dict) else {}
    page_url = opt_str(page.get("url")) or url
    status_block = doc.get("status") if isinstance(doc.get("status"), dict) else {}
    indicator = opt_str(status_block.get("indicator"))
    description = text(status_block.get("description"))

    seen: list[Status] = []
    if wanted is None and indicator is not None:
        if indicator not in INDICATOR:
            raise PayloadError(f"unknown page indicator {indicator!r}")
        seen.append(INDICATOR[indicator])

    affected: list[Component] = []
    for raw in as_list(doc.get("components"), "components"):
        comp = as_dict(raw, "component")
        name = opt_str(comp.get("name"))
        if name is None:
            continue
        if wanted is not None and name.strip().casefold() not in wanted:
            continue
        status = COMPONENT.get(opt_str(comp.get("status")) or "", Status.UNKNOWN)
        seen.append(status)
        if status is not Status.OPERATIONAL:
            affected.append(Component(name=name, status=status))

    incidents: list[IncidentInfo] = []
    for raw in as_list(doc.get("incidents"), "incidents"):
        inc = as_dict(raw, "incident")
        state = (opt_str(inc.get("status")) or "").lower()
        if state in _CLOSED:
            continue
        if wanted is not None and not (_incident_components(inc) & wanted):
            continue
        impact = IMPACT.get(opt_str(inc.get("impact")) or "", Status.DEGRADED)
        seen.append(impact)
        latest, updated_at = _latest_update(inc)
        incidents.append(
            IncidentInfo(
                id=opt_str(inc.get("id")) or opt_str(inc.get("name")) or "?",
                title=text(inc.get("name")) or "(untitled incident)",
                impact=impact,
                status=state or "unknown",
                url=opt_str(inc.get("shortlink")) or (f"{page_url.rstrip('/')}/incidents/{inc['id']}" if page_url and isinstance(inc.get("id"), str) else None),
                latest_update=latest,
                updated_at=updated_at or parse_time(inc.get("updated_at")),
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
        maintenances.append(
            Maintenance(
                id=opt_str(m.get("id")) or opt_str(m.get("name")) or "?",
                title=text(m.get("name")) or "(untitled maintenance)",
                starts_at=parse_time(m.get("scheduled_for")),
                ends_at=parse_time(m.get("scheduled_until")),
                in_progress=state in _MAINT_ACTIVE,
                url=opt_str(m.get("shortlink")),
            )
        )

    status = worst(s for s in seen if s is not Status.UNKNOWN)
    maintenance_now = Status.MAINTENANCE in seen or any(m.in_progress for m in maintenances)
    if status is Status.OPERATIONAL and maintenance_now:
        status = Status.MAINTENANCE
    if wanted is not None and not seen:
        raise PayloadError("none of the configured components is on this page")

    return Observation(
        service_id=service_id,
        source_kind=KIND,
        status=status,
        fetched_at=fetched_at,
        role=SourceRole.OFFICIAL,
        components=tuple(affected),
        incidents=tuple(incidents),
        maintenances=tuple(maintenances),
        url=page_url,
        description=description,
    )


parse = guarded_parse(KIND, _parse)


def endpoint_for(url: str) -> str:
    """``<page>/api/v2/summary.json`` unless the URL already names a JSON endpoint."""
    base = url.rstrip("/")
    if base.endswith(".json"):
        return base
    return f"{base}/api/v2/summary.json"


@register
class StatuspageKind(SourceKind):
    """An Atlassian Statuspage (or incident.io page) read through ``/api/v2/summary.json``."""

    name: ClassVar[str] = KIND
    role: ClassVar[SourceRole] = SourceRole.OFFICIAL
    options: ClassVar[frozenset[str]] = frozenset({"components"})

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> list[str]:
        return super().validate_options(options) + check_str_list(options, "components")

    @classmethod
    async def poll(cls, ctx: PollContext) -> Observation:
        return await poll_official(
            ctx, kind=KIND, endpoint=endpoint_for(ctx.spec.url), parse=parse, options=dict(ctx.spec.options)
        )
