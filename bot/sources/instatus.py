"""Instatus public pages (``https://<page>/summary.json``).

The summary names the page's own status (``page.status``: ``UP``, ``HASISSUES``,
``UNDERMAINTENANCE``) and lists ``activeIncidents`` (each with an ``impact``:
``DEGRADEDPERFORMANCE``, ``PARTIALOUTAGE``, ``MAJOROUTAGE``) and ``activeMaintenances``; a
healthy page omits both lists. The page status is the **worst** of ``page.status`` and its
incidents' impacts, because the page status trails its incidents (Manychat, captured with an
open "degraded performance" incident while ``page.status`` said ``UP``). ``HASISSUES`` alone
says something is wrong but not how much: degraded.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.sources._toolkit import OfficialKind, PayloadError, as_dict, as_list, guarded_parse, load_json, opt_str
from bot.sources._toolkit import page_observation, parse_time, text, worst
from bot.sources.base import IncidentInfo, Maintenance, Observation, register
from bot.status import Status

KIND = "instatus"

PAGE: dict[str, Status] = {
    "UP": Status.OPERATIONAL, "HASISSUES": Status.DEGRADED, "UNDERMAINTENANCE": Status.MAINTENANCE,
}
IMPACT: dict[str, Status] = {
    "OPERATIONAL": Status.OPERATIONAL, "DEGRADEDPERFORMANCE": Status.DEGRADED, "PARTIALOUTAGE": Status.PARTIAL_OUTAGE,
    "MAJOROUTAGE": Status.MAJOR_OUTAGE, "UNDERMAINTENANCE": Status.MAINTENANCE,
}
_CLOSED = frozenset({"resolved", "completed"})


def _page(doc: dict[str, Any]) -> dict[str, Any]:
    page = doc.get("page")
    if not isinstance(page, dict) or not isinstance(page.get("status"), str):
        raise PayloadError("not an Instatus summary (no page.status)")
    return page


def _parse(payload: bytes, *, service_id: str, fetched_at: datetime, url: str | None = None, **_options: Any) -> Observation:
    """Read one Instatus ``summary.json`` payload."""
    doc = as_dict(load_json(payload), "Instatus summary")
    page = _page(doc)
    word = page["status"].strip().upper()
    if word not in PAGE:
        raise PayloadError(f"unknown page status {page['status'][:40]!r}")
    page_url = opt_str(page.get("url")) or url
    seen = [PAGE[word]]

    incidents: list[IncidentInfo] = []
    for raw in as_list(doc.get("activeIncidents"), "activeIncidents"):
        inc = as_dict(raw, "incident")
        state = (opt_str(inc.get("status")) or "").lower()
        if state in _CLOSED:
            continue
        impact = IMPACT.get((opt_str(inc.get("impact")) or "").upper(), Status.DEGRADED)  # open, impact unreadable: still an incident
        seen.append(impact)
        incidents.append(
            IncidentInfo(
                id=opt_str(inc.get("id")) or opt_str(inc.get("name")) or "?",
                title=text(inc.get("name")) or "(untitled incident)", impact=impact, status=state or "unknown",
                url=opt_str(inc.get("url")) or page_url, updated_at=parse_time(inc.get("updatedAt")),
                started_at=parse_time(inc.get("started")),
            )
        )

    maintenances: list[Maintenance] = []
    for raw in as_list(doc.get("activeMaintenances"), "activeMaintenances"):
        m = as_dict(raw, "maintenance")
        state = (opt_str(m.get("status")) or "").lower()
        if state in _CLOSED:
            continue
        starts = parse_time(m.get("start"))
        minutes = m.get("duration")
        ends = starts + timedelta(minutes=minutes) if starts and isinstance(minutes, (int, float)) and not isinstance(minutes, bool) and 0 < minutes < 60 * 24 * 60 else None
        maintenances.append(
            Maintenance(
                id=opt_str(m.get("id")) or opt_str(m.get("name")) or "?", title=text(m.get("name")) or "(untitled maintenance)",
                starts_at=starts, ends_at=ends, in_progress=state in ("inprogress", "in_progress", "verifying"), url=opt_str(m.get("url")),
            )
        )

    status = worst(s for s in seen if s is not Status.MAINTENANCE)
    if status is Status.OPERATIONAL and (Status.MAINTENANCE in seen or any(m.in_progress for m in maintenances)):
        status = Status.MAINTENANCE
    return page_observation(KIND, service_id, fetched_at, page_url, status=status, incidents=incidents, maintenances=maintenances)


parse = guarded_parse(KIND, _parse)


@register
class InstatusKind(OfficialKind):
    """An Instatus page read through its public ``summary.json``."""

    name, parse, api_path = KIND, parse, "/summary.json"

    @classmethod
    def page_name(cls, payload: bytes) -> str | None:
        """``page.name`` of a summary (``"Manychat"``)."""
        try:
            page = as_dict(load_json(payload), "Instatus summary").get("page")
        except PayloadError:
            return None
        return text(page.get("name")) if isinstance(page, dict) else None
