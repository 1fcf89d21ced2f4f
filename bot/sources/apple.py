"""Apple System Status (``https://www.apple.com/support/systemstatus/data/system_status_en_US.js``
and the developer page's ``developer/system_status_en_US.js``).

The file is JSON wrapped in ``jsonCallback(…);``. It has no overall status: ``services[]``
each list ``events[]``, and one event (one ``messageId``) is repeated under every service it
affects. An event is open while its ``eventStatus`` is ``ongoing`` (or ``upcoming`` for a
maintenance) and its ``epochEndDate`` (Unix milliseconds) is unset or still ahead; resolved and
completed events stay in the file for days and are ignored. ``statusType``: ``Outage`` →
major_outage, ``Issue`` → partial_outage, ``Performance`` → degraded, ``Maintenance`` →
maintenance. Events have no title: the affected services name it. Option ``services``
restricts the reading to those service names (Apple pads some with spaces; matched trimmed and
case-insensitively). Text is in the file's locale.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from bot.sources._toolkit import ComponentTally, OfficialKind, PayloadError, as_dict, as_list, guarded_parse, load_json
from bot.sources._toolkit import name_filter, opt_str, page_observation, text, wanted_by
from bot.sources.base import IncidentInfo, Maintenance, Observation, register
from bot.status import Status

KIND = "apple"
PAGE = "https://www.apple.com/support/systemstatus/"
TYPES: dict[str, Status] = {"outage": Status.MAJOR_OUTAGE, "issue": Status.PARTIAL_OUTAGE, "performance": Status.DEGRADED}
_OPEN = frozenset({"ongoing", "upcoming", "scheduled"})


def _unwrap(payload: bytes) -> bytes:
    """The JSON inside ``jsonCallback(…);`` (a bare JSON document is taken as it is)."""
    body = payload.strip()
    if body[:1] in (b"{", b"["):
        return body
    start, end = body.find(b"("), body.rfind(b")")
    if start < 0 or end <= start:
        raise PayloadError("neither JSON nor a jsonCallback(…) script")
    return body[start + 1 : end]


def _epoch(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _parse(payload: bytes, *, service_id: str, fetched_at: datetime, url: str | None = None, **options: Any) -> Observation:
    """Read one Apple System Status file."""
    doc = as_dict(load_json(_unwrap(payload)), "Apple System Status")
    services = as_list(doc.get("services"), "services", missing_ok=False)
    wanted = name_filter(options, "services")
    events: dict[str, tuple[dict[str, Any], list[str]]] = {}  # messageId → (event, services)
    published: list[str] = []  # every service the file lists: what ``/subscribe component:`` offers
    for raw in services:
        service = as_dict(raw, "service")
        name = (opt_str(service.get("serviceName")) or "").strip()
        if name:
            published.append(name)
        if not name or not wanted_by(wanted, [name]):
            continue
        for event in as_list(service.get("events"), "events"):
            if not isinstance(event, dict) or (opt_str(event.get("eventStatus")) or "").lower() not in _OPEN:
                continue
            ends = _epoch(event.get("epochEndDate"))
            if ends is not None and ends <= fetched_at:
                continue
            key = opt_str(event.get("messageId")) or f"{name}:{event.get('epochStartDate')}"
            events.setdefault(key, (event, []))[1].append(name)

    if services and not published:  # (another format's "services" list: Statuspal's, say)
        raise PayloadError("no service has a serviceName: not an Apple System Status file")
    incidents: list[IncidentInfo] = []
    maintenances: list[Maintenance] = []
    affected = ComponentTally()
    for key, (event, names) in events.items():
        kind = (opt_str(event.get("statusType")) or "").lower()
        starts, title = _epoch(event.get("epochStartDate")), ", ".join(names)
        if kind == "maintenance":
            in_progress = starts is None or starts <= fetched_at
            maintenances.append(Maintenance(id=key, title=title, starts_at=starts, ends_at=_epoch(event.get("epochEndDate")),
                                            in_progress=in_progress, url=PAGE))  # fmt: skip
            if in_progress:
                affected.add(names, Status.MAINTENANCE)
            continue
        impact = TYPES.get(kind, Status.DEGRADED)
        incidents.append(IncidentInfo(id=key, title=title, impact=impact, status=opt_str(event.get("eventStatus")) or "ongoing",
                                      url=PAGE, latest_update=text(event.get("message")), updated_at=starts, started_at=starts))  # fmt: skip
        affected.add(names, impact)
    return page_observation(KIND, service_id, fetched_at, url or PAGE, incidents=incidents, maintenances=maintenances,
                            components=affected.components(), component_names=published)  # fmt: skip


parse = guarded_parse(KIND, _parse)


@register
class AppleKind(OfficialKind):
    """Apple's System Status file; ``url`` is the ``system_status_<locale>.js`` script."""

    name, parse, name_option = KIND, parse, "services"
