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
from typing import Any, ClassVar

from bot.sources._json import (
    PayloadError,
    as_dict,
    as_list,
    check_str_list,
    error_observation,
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
    SourceError,
    SourceKind,
    SourceRole,
    register,
)
from bot.status import Status

KIND = "slack"
DEFAULT_ENDPOINT = "https://slack-status.com/api/v2.0.0/current"

TYPES: dict[str, Status] = {
    "outage": Status.MAJOR_OUTAGE,
    "incident": Status.PARTIAL_OUTAGE,
    "notice": Status.DEGRADED,
    "maintenance": Status.MAINTENANCE,
}
_CLOSED = frozenset({"ok", "resolved", "completed"})


def _latest_note(incident: dict[str, Any]) -> tuple[str | None, datetime | None]:
    notes = [n for n in as_list(incident.get("notes"), "notes") if isinstance(n, dict)]
    if not notes:
        return None, None
    dated = [(parse_time(n.get("date_created")), i, n) for i, n in enumerate(notes)]
    with_time = [d for d in dated if d[0] is not None]
    latest = max(with_time, key=lambda d: (d[0], d[1]))[2] if with_time else notes[0]
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
    per_service: dict[str, Status] = {}
    for raw in as_list(doc.get("active_incidents"), "active_incidents"):
        inc = as_dict(raw, "incident")
        if (opt_str(inc.get("status")) or "active").lower() in _CLOSED:
            continue
        services = [s for s in as_list(inc.get("services"), "services") if isinstance(s, str)]
        if wanted is not None and not {s.strip().casefold() for s in services} & wanted:
            continue
        kind = (opt_str(inc.get("type")) or "").lower()
        impact = TYPES.get(kind, Status.DEGRADED)
        latest, noted_at = _latest_note(inc)
        title = text(inc.get("title")) or "(untitled incident)"
        if impact is Status.MAINTENANCE:
            maintenances.append(
                Maintenance(
                    id=opt_str(inc.get("id")) or title,
                    title=title,
                    starts_at=parse_time(inc.get("date_created")),
                    ends_at=None,
                    in_progress=True,
                    url=opt_str(inc.get("url")),
                )
            )
        else:
            incidents.append(
                IncidentInfo(
                    id=opt_str(inc.get("id")) or title,
                    title=title,
                    impact=impact,
                    status=opt_str(inc.get("status")) or "active",
                    url=opt_str(inc.get("url")),
                    latest_update=latest,
                    updated_at=noted_at or parse_time(inc.get("date_updated")),
                    started_at=parse_time(inc.get("date_created")),
                )
            )
        for name in services:
            previous = per_service.get(name)
            per_service[name] = impact if previous is None else Status.worst(previous, impact)

    components = tuple(Component(name=n, status=s) for n, s in per_service.items())
    if incidents:
        status = worst(i.impact for i in incidents)
    elif maintenances:
        status = Status.MAINTENANCE
    elif top.lower() == "ok" or wanted is not None:
        status = Status.OPERATIONAL
    else:
        return error_observation(
            service_id=service_id,
            kind=KIND,
            fetched_at=fetched_at,
            error=SourceError("parse", f"slack: status {top!r} but no active incidents listed"),
            url=page_url,
        )
    return Observation(
        service_id=service_id,
        source_kind=KIND,
        status=status,
        fetched_at=fetched_at,
        role=SourceRole.OFFICIAL,
        components=components,
        incidents=tuple(incidents),
        maintenances=tuple(maintenances),
        url=page_url,
        description="All systems operational" if status is Status.OPERATIONAL else f"{len(incidents)} active incident(s)",
    )


parse = guarded_parse(KIND, _parse)


@register
class SlackKind(SourceKind):
    """Slack's own status API; ``url`` is the status page or the API endpoint."""

    name: ClassVar[str] = KIND
    role: ClassVar[SourceRole] = SourceRole.OFFICIAL
    options: ClassVar[frozenset[str]] = frozenset({"services"})

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> list[str]:
        return super().validate_options(options) + check_str_list(options, "services")

    @classmethod
    async def poll(cls, ctx: PollContext) -> Observation:
        url = ctx.spec.url.rstrip("/")
        endpoint = url if "/api/" in url else DEFAULT_ENDPOINT
        return await poll_official(ctx, kind=KIND, endpoint=endpoint, parse=parse, options=dict(ctx.spec.options))
