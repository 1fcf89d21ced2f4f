"""status.io public status API (``https://api.status.io/1.0/status/<page_id>``).

Status codes (status.io documents them for the overall status, components, containers and
incident messages): 100 operational, 200 planned maintenance, 300 degraded performance,
400 partial service disruption, 500 service disruption, 600 security event. A security event
is mapped to ``degraded``: the service answers but something is wrong, and the code says
nothing about how much is down.

Like Statuspage, the page status is the worst of the overall code, the component codes and
the open incidents' latest message codes (GitLab 2020-09-05: overall "Planned Maintenance"
while an open incident's latest message said 400). Option ``page_id`` names the status.io
page when ``url`` is the public page rather than the API endpoint; option ``components``
restricts the reading to those component names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from bot.sources._toolkit import OfficialKind, PayloadError, as_dict, as_list, guarded_parse, load_json, name_filter, newest, opt_str
from bot.sources._toolkit import page_observation, parse_time, text, worst
from bot.sources.base import Component, IncidentInfo, Maintenance, Observation, register
from bot.status import Status

KIND = "statusio"
API_BASE = "https://api.status.io/1.0/status/"

CODES: dict[int, Status] = {
    100: Status.OPERATIONAL,
    200: Status.MAINTENANCE,
    300: Status.DEGRADED,
    400: Status.PARTIAL_OUTAGE,
    500: Status.MAJOR_OUTAGE,
    600: Status.DEGRADED,
}
#: incident message ``state`` codes
STATES: dict[int, str] = {100: "investigating", 200: "identified", 300: "monitoring"}


def _code(value: Any) -> Status:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return Status.UNKNOWN
    try:
        return CODES.get(int(value), Status.UNKNOWN)
    except ValueError:
        return Status.UNKNOWN


def _latest_message(event: dict[str, Any]) -> dict[str, Any] | None:
    messages = [m for m in as_list(event.get("messages"), "messages") if isinstance(m, dict)]
    return newest(messages, lambda m: parse_time(m.get("datetime")), undated="last")


def _names(event: dict[str, Any]) -> set[str]:
    return {
        c["name"].strip().casefold()
        for c in as_list(event.get("components_affected"), "components_affected")
        if isinstance(c, dict) and isinstance(c.get("name"), str)
    }


def _parse(
    payload: bytes, *, service_id: str, fetched_at: datetime, url: str | None = None, **options: Any
) -> Observation:
    """Read one status.io ``/1.0/status/<id>`` payload."""
    doc = as_dict(load_json(payload), "status.io answer")
    result = as_dict(doc.get("result"), "result")
    wanted = name_filter(options, "components")
    seen: list[Status] = []

    overall = result.get("status_overall") if isinstance(result.get("status_overall"), dict) else None
    if overall is None and "status" not in result:
        raise PayloadError("not a status.io status answer (no status_overall or status)")
    description = text(overall.get("status")) if overall else None
    if overall is not None and wanted is None:
        seen.append(_code(overall.get("status_code")))

    affected: list[Component] = []
    published: list[str] = []
    for raw in as_list(result.get("status"), "status"):
        comp = as_dict(raw, "component")
        name = opt_str(comp.get("name"))
        if name is not None:
            published.append(name)
        if name is None or (wanted is not None and name.strip().casefold() not in wanted):
            continue
        status = _code(comp.get("status_code"))
        seen.append(status)
        if status is not Status.OPERATIONAL:
            affected.append(Component(name=name, status=status))

    incidents: list[IncidentInfo] = []
    for raw in as_list(result.get("incidents"), "incidents"):
        inc = as_dict(raw, "incident")
        if wanted is not None and not (_names(inc) & wanted):
            continue
        latest = _latest_message(inc)
        impact = _code(latest.get("status")) if latest else Status.UNKNOWN
        if impact is Status.UNKNOWN:
            impact = Status.DEGRADED  # an open incident with no readable code is still an incident
        seen.append(impact)
        state = latest.get("state") if latest else None
        incidents.append(
            IncidentInfo(
                id=opt_str(inc.get("_id")) or opt_str(inc.get("name")) or "?",
                title=text(inc.get("name")) or "(untitled incident)", impact=impact,
                status=STATES.get(state, "open") if isinstance(state, int) else "open", url=url,
                latest_update=text(latest.get("details")) if latest else None,
                updated_at=parse_time(latest.get("datetime")) if latest else None,
                started_at=parse_time(inc.get("datetime_open")),
            )
        )

    maintenances: list[Maintenance] = []
    maint: dict[str, Any] = result["maintenance"] if isinstance(result.get("maintenance"), dict) else {}
    for key, in_progress in (("active", True), ("upcoming", False)):
        for raw in as_list(maint.get(key), f"maintenance.{key}"):
            m = as_dict(raw, "maintenance")
            if wanted is not None and not (_names(m) & wanted):
                continue
            maintenances.append(
                Maintenance(
                    id=opt_str(m.get("_id")) or opt_str(m.get("name")) or "?",
                    title=text(m.get("name")) or "(untitled maintenance)",
                    starts_at=parse_time(m.get("datetime_planned_start")),
                    ends_at=parse_time(m.get("datetime_planned_end")), in_progress=in_progress, url=url,
                )
            )

    if wanted is not None and not seen:
        raise PayloadError("none of the configured components is on this page")
    status = worst(s for s in seen if s is not Status.UNKNOWN)
    if status is Status.OPERATIONAL and (Status.MAINTENANCE in seen or any(m.in_progress for m in maintenances)):
        status = Status.MAINTENANCE
    return page_observation(
        KIND, service_id, fetched_at, url, status=status, incidents=incidents, maintenances=maintenances, components=affected,
        description=description, component_names=published,
    )  # fmt: skip


parse = guarded_parse(KIND, _parse)


def endpoint_for(url: str, options: dict[str, Any]) -> str:
    """The API URL: ``url`` itself when it already is one, else built from ``page_id``."""
    if urlsplit(url).hostname == "api.status.io":
        return url
    page_id = options.get("page_id")
    if isinstance(page_id, str) and page_id.strip():
        return API_BASE + page_id.strip()
    raise ValueError("statusio needs page_id or an api.status.io URL")


@register
class StatusioKind(OfficialKind):
    """A status.io page read through its public status API."""

    name, parse, name_option, endpoint_options = KIND, parse, "components", frozenset({"page_id"})

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> list[str]:
        problems = super().validate_options(options)
        page_id = options.get("page_id")
        if "page_id" in options and not (isinstance(page_id, str) and page_id.strip().isalnum()):
            problems.append("page_id: must be the status.io page id (letters and digits)")
        return problems

    @classmethod
    def endpoint(cls, url: str, options: dict[str, Any]) -> str:
        return endpoint_for(url, options)
