"""Xbox status (``https://xnotify.xboxlive.com/servicestatusv6/US/en-US``, the JSON behind
support.xbox.com/xbox-live-status; the older ``servicestatusv5`` has the same shape).

Sections are lists of categories ``{Name, Status: {Name, Id}, Scenarios: [...]}``: v6 has
``CoreServices`` ("Account & profile", "Multiplayer gaming"…) and ``Titles`` ("Games & gaming",
"Apps & mobile"); v5 had ``CoreServices``, ``Games``, ``Apps`` and ``Website`` (one category).
A scenario is a feature ("Sign-in", "Game saves") or, in v5, a game ("Destiny 2"), with
``Incidents`` (``Begin``, ``End``, ``Stage.Message``) and, since v6, its own ``Status``.

A status ``Name`` of ``None`` means no problem. ``Impacted`` is the only word the captures show
for one; the data does not say how bad (the page draws "Limited" or "Major outage"), so it
reads as a partial outage, and any other word as degraded.
``Status.Overall.State`` sums up Xbox's own services, ``SelectedScenarios`` the games and apps.

Without option ``services`` the reading is what Xbox's overall state covers — ``CoreServices``
and that state — because one game's or app's trouble is not an Xbox outage. ``services`` names
categories or scenarios of any section ("Sign-in", "Destiny 2") to read instead. Every
category and scenario name is offered to ``/subscribe component:``. Alerts link Xbox's status
page, not the document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.sources._toolkit import ComponentTally, OfficialKind, PayloadError, as_dict, as_list, guarded_parse, load_json, name_filter
from bot.sources._toolkit import opt_str, page_observation, parse_time, text, wanted_by, worst
from bot.sources.base import IncidentInfo, Observation, register
from bot.status import Status

KIND = "xbox"
PAGE = "https://support.xbox.com/xbox-live-status"
SECTIONS = ("CoreServices", "Titles", "Games", "Apps", "Website")
_FINE = "none"


def _status_word(value: Any) -> Status:
    """``None`` → operational, ``Impacted`` → partial outage, another word → degraded."""
    word = (opt_str(value) or "").strip().casefold()
    if not word or word == _FINE:
        return Status.OPERATIONAL
    return Status.PARTIAL_OUTAGE if word == "impacted" else Status.DEGRADED


def _status_of(entry: dict[str, Any]) -> Status | None:
    """An entry's own status, ``None`` when it carries none (a v5 scenario)."""
    status = entry.get("Status")
    if not isinstance(status, dict):
        return None
    return _status_word(status.get("Name", status.get("State")))


def _open_incidents(scenario: dict[str, Any], fetched_at: datetime) -> list[dict[str, Any]]:
    """Incidents without an end, or whose end is still ahead."""
    out = []
    for incident in as_list(scenario.get("Incidents"), "Incidents"):
        if not isinstance(incident, dict):
            continue
        ends = parse_time(incident.get("End"))
        if ends is None or ends > fetched_at:
            out.append(incident)
    return out


def _categories(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every category as ``(section, category)``, in the file's order."""
    out: list[tuple[str, dict[str, Any]]] = []
    for section in SECTIONS:
        value = doc.get(section)
        entries = [value] if isinstance(value, dict) else as_list(value, section)
        out += [(section, as_dict(entry, f"{section} entry")) for entry in entries]
    return out


def _parse(payload: bytes, *, service_id: str, fetched_at: datetime, url: str | None = None, **options: Any) -> Observation:
    """Read one ``servicestatus`` document."""
    doc = as_dict(load_json(payload), "Xbox status")
    summary = as_dict(doc.get("Status"), "Status")
    overall = as_dict(summary.get("Overall"), "Status.Overall")
    if not isinstance(overall.get("State"), str):
        raise PayloadError("Status.Overall has no State: not Xbox's status document")
    categories = _categories(doc)
    wanted = name_filter(options, "services")

    published: list[str] = []
    affected = ComponentTally()
    incidents: list[IncidentInfo] = []
    for section, category in categories:
        category_name = (opt_str(category.get("Name")) or "").strip()
        category_status = _status_of(category) or Status.OPERATIONAL
        whole_category = wanted_by(wanted, [category_name]) if wanted is not None else section == "CoreServices"
        published.append(category_name)
        if whole_category and category_status is not Status.OPERATIONAL:
            affected.add([category_name], category_status)
        for raw in as_list(category.get("Scenarios"), "Scenarios"):
            scenario = as_dict(raw, "scenario")
            name = (opt_str(scenario.get("Name")) or "").strip()
            published.append(name)
            if not (whole_category or (wanted is not None and wanted_by(wanted, [name]))):
                continue
            ongoing = _open_incidents(scenario, fetched_at)
            own = _status_of(scenario)
            status = worst([own or Status.OPERATIONAL, category_status if ongoing else Status.OPERATIONAL])
            if ongoing and status is Status.OPERATIONAL:
                status = Status.PARTIAL_OUTAGE  # an open incident is a problem whatever the word
            if status is Status.OPERATIONAL:
                continue
            affected.add([name, category_name], status)
            for incident in ongoing:
                stage = incident.get("Stage")
                stage = stage if isinstance(stage, dict) else {}
                begun = parse_time(incident.get("Begin"))
                incidents.append(IncidentInfo(
                    id=f"{opt_str(incident.get('Id')) or name}", title=f"{category_name}: {name}", impact=status,
                    status="ongoing", url=PAGE, latest_update=text(stage.get("Message")), updated_at=begun, started_at=begun))  # fmt: skip

    components = affected.components()
    statuses = [c.status for c in components]
    if wanted is None:
        statuses.append(_status_word(overall.get("State")))
    status = worst(statuses) if statuses else Status.OPERATIONAL
    names = list(dict.fromkeys(n for n in published if n))
    return page_observation(KIND, service_id, fetched_at, PAGE, status=status, incidents=incidents,
                            components=components, component_names=names)  # fmt: skip


parse = guarded_parse(KIND, _parse)


@register
class XboxKind(OfficialKind):
    """Xbox's service status document; ``url`` is the ``servicestatusv6/<country>/<locale>`` URL."""

    name, parse, name_option = KIND, parse, "services"
    accept = "application/json"  # (without it the same URL answers XML)
