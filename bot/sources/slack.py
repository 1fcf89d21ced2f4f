"""Slack status API v2.0.0 ``current`` (https://slack-status.com/api/v2.0.0/current).

``status`` is ``ok`` when nothing is going on, otherwise ``active`` (or ``broken``) with a
list of ``active_incidents``. Incident ``type`` maps to: ``outage`` → major_outage,
``incident`` → partial_outage, ``notice`` → degraded, ``maintenance`` → maintenance (anything
else → degraded). The page status is the worst active incident; a non-``ok`` status without
any incident is reported as ``unknown`` with the contradiction as the error. Affected Slack
``services`` become components. Option ``services`` restricts the reading to those names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.sources._toolkit import ComponentTally, OfficialKind, PayloadError, as_dict, as_list, error_observation, guarded_parse, load_json, name_filter
from bot.sources._toolkit import newest, opt_str, page_observation, page_status, parse_time, text, wanted_by
from bot.sources.base import IncidentInfo, Maintenance, Observation, SourceError, register
from bot.status import Status

KIND = "slack"
DEFAULT_ENDPOINT = "https://slack-status.com/api/v2.0.0/current"

TYPES: dict[str, Status] = {
    "outage": Status.MAJOR_OUTAGE, "incident": Status.PARTIAL_OUTAGE,
    "notice": Status.DEGRADED, "maintenance": Status.MAINTENANCE,
}
_CLOSED = frozenset({"ok", "resolved", "completed"})


def _latest_note(incident: dict[str, Any]) -> tuple[str | None, datetime | None]:
    notes = [n for n in as_list(incident.get("notes"), "notes") if isinstance(n, dict)]
    latest = newest(notes, lambda n: parse_time(n.get("date_created")), undated="first")
    if latest is None:
        return None, None
    return text(latest.get("body")), parse_time(latest.get("date_created"))


def _parse(
    payload: bytes, *, service_id: str, fetched_at: datetime, url: str | None = None, **options: Any
) -> Observation:
    """Read one Slack ``current`` payload."""
    doc = as_dict(load_json(payload), "Slack status answer")
    top = opt_str(doc.get("status"))
    if top is None:
        raise PayloadError("no 'status' field (is this the Slack status API?)")
    wanted = name_filter(options, "services")
    page_url = url or "https://slack-status.com"

    incidents: list[IncidentInfo] = []
    maintenances: list[Maintenance] = []
    affected = ComponentTally()
    for raw in as_list(doc.get("active_incidents"), "active_incidents"):
        inc = as_dict(raw, "incident")
        if (opt_str(inc.get("status")) or "active").lower() in _CLOSED:
            continue
        services = [s for s in as_list(inc.get("services"), "services") if isinstance(s, str)]
        if not wanted_by(wanted, services):
            continue
        kind = (opt_str(inc.get("type")) or "").lower()
        impact = TYPES.get(kind, Status.DEGRADED)
        latest, noted_at = _latest_note(inc)
        title = text(inc.get("title")) or "(untitled incident)"
        if impact is Status.MAINTENANCE:
            maintenances.append(
                Maintenance(
                    id=opt_str(inc.get("id")) or title, title=title, starts_at=parse_time(inc.get("date_created")),
                    ends_at=None, in_progress=True, url=opt_str(inc.get("url")),
                )
            )
        else:
            incidents.append(
                IncidentInfo(
                    id=opt_str(inc.get("id")) or title, title=title, impact=impact,
                    status=opt_str(inc.get("status")) or "active", url=opt_str(inc.get("url")), latest_update=latest,
                    updated_at=noted_at or parse_time(inc.get("date_updated")),
                    started_at=parse_time(inc.get("date_created")),
                )
            )
        affected.add(services, impact)

    if not incidents and not maintenances and top.lower() != "ok" and wanted is None:
        error = SourceError("parse", f"slack: status {top!r} but no active incidents listed")
        return error_observation(service_id=service_id, kind=KIND, fetched_at=fetched_at, error=error, url=page_url)
    status = page_status(incidents, maintenances)
    description = "All systems operational" if status is Status.OPERATIONAL else f"{len(incidents)} active incident(s)"
    return page_observation(
        KIND, service_id, fetched_at, page_url, status=status, incidents=incidents, maintenances=maintenances,
        components=affected.components(), description=description,
    )  # fmt: skip


parse = guarded_parse(KIND, _parse)


@register
class SlackKind(OfficialKind):
    """Slack's own status API; ``url`` is the status page or the API endpoint."""

    name, parse, name_option, api_path = KIND, parse, "services", DEFAULT_ENDPOINT
