"""Google Cloud status ``incidents.json`` (https://status.cloud.google.com/incidents.json).

The file lists recent incidents, resolved or not; an incident without an ``end`` is active.
``severity`` ``low/medium/high`` → degraded / partial_outage / major_outage (an unknown
severity counts as degraded). ``affected_products`` become components carrying the worst
severity of the active incidents that name them. Option ``products`` restricts the reading
to incidents naming one of those products (titles, case-insensitive).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.sources._toolkit import ComponentTally, OfficialKind, PayloadError, as_list, guarded_parse, load_json, name_filter, opt_str
from bot.sources._toolkit import page_observation, parse_time, text, wanted_by
from bot.sources.base import IncidentInfo, Observation, register
from bot.status import Status

KIND = "gcloud"
DEFAULT_PAGE = "https://status.cloud.google.com"
SEVERITY: dict[str, Status] = {"low": Status.DEGRADED, "medium": Status.PARTIAL_OUTAGE, "high": Status.MAJOR_OUTAGE}


def _products(incident: dict[str, Any]) -> list[str]:
    titles = [
        p["title"]
        for p in as_list(incident.get("affected_products"), "affected_products")
        if isinstance(p, dict) and isinstance(p.get("title"), str)
    ]
    if not titles and isinstance(incident.get("service_name"), str):
        titles = [incident["service_name"]]
    return titles


def _parse(
    payload: bytes, *, service_id: str, fetched_at: datetime, url: str | None = None, **options: Any
) -> Observation:
    """Read one ``incidents.json`` payload."""
    doc = load_json(payload)
    if not isinstance(doc, list):
        raise PayloadError(f"incidents.json must be a list, got {type(doc).__name__}")
    wanted = name_filter(options, "products")
    page = (url or DEFAULT_PAGE).rstrip("/")

    incidents: list[IncidentInfo] = []
    affected = ComponentTally()
    for raw in doc:
        if not isinstance(raw, dict):
            raise PayloadError(f"incident must be an object, got {type(raw).__name__}")
        if raw.get("end"):  # any non-empty end marks a closed incident
            continue
        products = _products(raw)
        if not wanted_by(wanted, products):
            continue
        impact = SEVERITY.get((opt_str(raw.get("severity")) or "").lower(), Status.DEGRADED)
        latest: dict[str, Any] = raw["most_recent_update"] if isinstance(raw.get("most_recent_update"), dict) else {}
        uri = opt_str(raw.get("uri"))
        incidents.append(
            IncidentInfo(
                id=opt_str(raw.get("id")) or opt_str(raw.get("number")) or (uri or "?"),
                title=text(raw.get("external_desc")) or "(untitled incident)", impact=impact,
                status=(opt_str(latest.get("status")) or opt_str(raw.get("status_impact")) or "open").lower(),
                url=f"{page}/{uri.lstrip('/')}" if uri else page, latest_update=text(latest.get("text")),
                updated_at=parse_time(latest.get("when")) or parse_time(raw.get("modified")),
                started_at=parse_time(raw.get("begin")) or parse_time(raw.get("created")),
            )
        )
        affected.add(products, impact)

    description = None if incidents else "No active incidents"
    return page_observation(KIND, service_id, fetched_at, page, incidents=incidents, components=affected.components(), description=description)


parse = guarded_parse(KIND, _parse)


@register
class GcloudKind(OfficialKind):
    """Google Cloud's public incident list; ``url`` is the status page or the JSON itself."""

    name, parse, name_option, api_path = KIND, parse, "products", "/incidents.json"
