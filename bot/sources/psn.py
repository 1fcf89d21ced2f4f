"""PlayStation Network status (``https://status.playstation.com/data/statuses/region/<REGION>.json``:
SCEA the Americas, SCEE Europe, the Middle East and Africa, SCEJA Japan and Asia).

A region document lists its ``countries``, each with ``services`` ("Account Management",
"PlayStation Store"…) and their ``resources`` ("Sign In", "Purchase"…). Every level has a
``status`` list: empty when all is well, else entries ``{statusId, statusType}`` whose type is
``Outage``, ``Degraded``, ``Maintenance`` or ``OK`` (the words the stts client decodes; our only
capture is healthy). A problem on the whole region is read as it is (an outage is a major
outage); one in some countries or services is a partial outage at most, since the network
elsewhere still works. An unknown word counts as degraded. Alerts link the status page, not
the document. Affected services become components
(their names as the file writes them). Option ``services`` restricts the reading to those
services.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.sources._toolkit import ComponentTally, OfficialKind, PayloadError, as_dict, as_list, guarded_parse, load_json, name_filter
from bot.sources._toolkit import opt_str, page_observation, wanted_by, worst
from bot.sources.base import Observation, register
from bot.status import Status

KIND = "psn"
PAGE = "https://status.playstation.com"
TYPES: dict[str, Status] = {"outage": Status.MAJOR_OUTAGE, "degraded": Status.DEGRADED, "maintenance": Status.MAINTENANCE, "ok": Status.OPERATIONAL}


def _statuses(entry: dict[str, Any], what: str) -> list[Status]:
    """The statuses an entry's ``status`` list reports (nothing when it is empty)."""
    out = []
    for raw in as_list(entry.get("status"), f"{what} status"):
        item = as_dict(raw, f"{what} status entry")
        out.append(TYPES.get((opt_str(item.get("statusType")) or "").strip().lower(), Status.DEGRADED))
    return out


def _local(status: Status) -> Status:
    """A problem of some countries or services: at most a partial outage of the network."""
    return Status.PARTIAL_OUTAGE if status is Status.MAJOR_OUTAGE else status


def _parse(payload: bytes, *, service_id: str, fetched_at: datetime, url: str | None = None, **options: Any) -> Observation:
    """Read one region document."""
    doc = as_dict(load_json(payload), "PlayStation status")
    if not isinstance(doc.get("regionName"), str):
        raise PayloadError("not a PlayStation status document (no regionName)")
    wanted = name_filter(options, "services")
    region = _statuses(doc, "region")
    statuses = [] if wanted is not None else list(region)
    affected = ComponentTally()
    published: list[str] = []
    countries = as_list(doc.get("countries"), "countries", missing_ok=False)
    if not countries:
        raise PayloadError("a region document lists its countries; this one lists none")
    for raw_country in countries:
        country = as_dict(raw_country, "country")
        whole_country = [_local(s) for s in _statuses(country, "country")]
        if wanted is None:
            statuses += whole_country
        for raw_service in as_list(country.get("services"), "services"):
            service = as_dict(raw_service, "service")
            name = " ".join((opt_str(service.get("serviceName")) or opt_str(service.get("serviceId")) or "").split())
            published.append(name)
            found = [_local(s) for s in _statuses(service, "service")]
            for raw_resource in as_list(service.get("resources"), "resources"):
                found += [_local(s) for s in _statuses(as_dict(raw_resource, "resource"), "resource")]
            if wanted is not None and wanted_by(wanted, [name]):
                found += whole_country + region  # (the whole country's or region's trouble is the named service's too)
            elif wanted is not None:
                continue
            problems = [s for s in found if s is not Status.OPERATIONAL]
            if problems and name:
                affected.add([name], worst(problems))
    components = affected.components()
    statuses += [c.status for c in components]
    problems = [s for s in statuses if s is not Status.OPERATIONAL]
    status = worst(problems) if problems else Status.OPERATIONAL
    return page_observation(KIND, service_id, fetched_at, PAGE, status=status, components=components,
                            component_names=list(dict.fromkeys(n for n in published if n)))  # fmt: skip


parse = guarded_parse(KIND, _parse)


@register
class PsnKind(OfficialKind):
    """A PlayStation Network region document; ``url`` is its ``.../region/<REGION>.json``."""

    name, parse, name_option = KIND, parse, "services"
