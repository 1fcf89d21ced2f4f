"""Better Stack (formerly Better Uptime) public status pages (``https://<page>/index.json``).

The answer is a JSON:API document: ``data`` is the page (``attributes.aggregate_state``:
``operational``, ``degraded``, ``downtime``, ``maintenance``) and ``included`` holds its
resources (``status_page_resource``, the components: ``public_name``, ``status``, which may
also be ``not_monitored``), its reports (``status_report``: ``report_type`` ``manual`` for an
incident, ``maintenance`` for a window; ``aggregate_state`` ``resolved`` once over; each lists
its ``affected_resources`` with their state) and the reports' updates (``status_update``:
``message``, ``published_at``). Captured: Hugging Face's page, healthy, with resolved
incidents and maintenances in its history.

Mapping: ``degraded`` → degraded. The format has one word for a resource that is down,
``downtime``; the page is in a **major** outage when every monitored resource in scope is
down, a **partial** one when only some are (the page's own ``downtime`` says no more than
"something is down"). Resolved reports are history and count for nothing. Option
``components`` (resource names) restricts the reading to those resources: the page's own
state is then ignored and only reports naming one of them count.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.sources._toolkit import OfficialKind, PayloadError, as_dict, as_list, guarded_parse, load_json, name_filter, newest
from bot.sources._toolkit import opt_str, page_observation, parse_time, text, worst
from bot.sources.base import Component, IncidentInfo, Maintenance, Observation, register
from bot.status import Status

KIND = "betterstack"

#: the page's and a resource's words (``downtime`` is placed by ``_outage``)
STATE: dict[str, Status] = {
    "operational": Status.OPERATIONAL, "degraded": Status.DEGRADED, "maintenance": Status.MAINTENANCE,
}
DOWN = "downtime"
UNMONITORED = "not_monitored"
RESOLVED = "resolved"


def _page(doc: dict[str, Any]) -> dict[str, Any]:
    data = doc.get("data")
    if not isinstance(data, dict) or data.get("type") != "status_page":
        raise PayloadError("not a Better Stack index.json (no data of type status_page)")
    attributes = as_dict(data.get("attributes"), "status page attributes")
    if not isinstance(attributes.get("aggregate_state"), str):
        raise PayloadError("not a Better Stack index.json (no aggregate_state)")
    return attributes


def _included(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The ``included`` items by type (items of other types, or without attributes, skipped)."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for raw in as_list(doc.get("included"), "included"):
        item = as_dict(raw, "included item")
        kind = item.get("type")
        if isinstance(kind, str) and isinstance(item.get("attributes"), dict):
            by_type.setdefault(kind, []).append(item)
    return by_type


def _outage(down: set[str], monitored: set[str]) -> Status:
    """Down resources as the page's outage: all of those in scope, or only some."""
    return Status.MAJOR_OUTAGE if monitored and monitored <= down else Status.PARTIAL_OUTAGE


def _affected(report: dict[str, Any]) -> list[tuple[str, str]]:
    """A report's ``(resource id, state)`` pairs."""
    pairs = []
    for raw in as_list(report.get("affected_resources"), "affected_resources"):
        if isinstance(raw, dict):
            rid, state = opt_str(raw.get("status_page_resource_id")), opt_str(raw.get("status"))
            if rid is not None and state is not None:
                pairs.append((rid, state.strip().lower()))
    return pairs


def _latest_update(report: dict[str, Any], updates: dict[str, dict[str, Any]]) -> tuple[str | None, datetime | None]:
    """The text and time of a report's newest update (the list is not in time order)."""
    rel = report.get("relationships")
    refs = rel.get("status_updates") if isinstance(rel, dict) else None
    linked = refs.get("data") if isinstance(refs, dict) else None
    found = [updates[ref["id"]] for ref in as_list(linked, "status_updates") if isinstance(ref, dict) and ref.get("id") in updates]
    latest = newest(found, lambda u: parse_time(u["attributes"].get("published_at")), undated="last")
    if latest is None:
        return None, None
    return text(latest["attributes"].get("message")), parse_time(latest["attributes"].get("published_at"))


def _parse(payload: bytes, *, service_id: str, fetched_at: datetime, url: str | None = None, **options: Any) -> Observation:
    """Read one Better Stack ``index.json`` payload."""
    doc = as_dict(load_json(payload), "Better Stack index.json")
    page = _page(doc)
    included = _included(doc)
    wanted = name_filter(options, "components") if options else None
    domain = (opt_str(page.get("custom_domain")) or "").strip()
    page_url = f"https://{domain}" if domain and "/" not in domain else url

    published: list[str] = []
    in_scope: set[str] = set()
    monitored: set[str] = set()
    down: set[str] = set()
    seen: list[Status] = []
    affected: list[Component] = []
    for item in included.get("status_page_resource", []):
        attributes = item["attributes"]
        rid, name = opt_str(item.get("id")), text(attributes.get("public_name"))
        if rid is None or name is None:
            continue
        published.append(name)
        if wanted is not None and name.casefold() not in wanted:
            continue
        in_scope.add(rid)
        word = (opt_str(attributes.get("status")) or "").strip().lower()
        if word == UNMONITORED:
            continue
        monitored.add(rid)
        if word == DOWN:
            down.add(rid)
            affected.append(Component(name=name, status=Status.MAJOR_OUTAGE))
        elif word != "operational":
            status = STATE.get(word)
            if status is None:  # (as for the page's own state: a word we do not know is no reading)
                raise PayloadError(f"unknown status {word[:40]!r} of resource {name[:60]!r}")
            seen.append(status)
            affected.append(Component(name=name, status=status))

    if wanted is not None and not in_scope:
        raise PayloadError("none of the configured components is on this page")
    if wanted is None:
        word = page["aggregate_state"].strip().lower()
        if word != DOWN and word not in STATE:
            raise PayloadError(f"unknown page state {page['aggregate_state'][:40]!r}")
        seen.append(STATE.get(word, Status.PARTIAL_OUTAGE))  # (downtime: at least partial, whatever the list says)

    updates = {item["id"]: item for item in included.get("status_update", []) if isinstance(item.get("id"), str)}
    incidents: list[IncidentInfo] = []
    maintenances: list[Maintenance] = []
    for report in included.get("status_report", []):
        attributes = report["attributes"]
        state = (opt_str(attributes.get("aggregate_state")) or "").strip().lower()
        if state == RESOLVED:
            continue
        pairs = _affected(attributes)
        if wanted is not None and not any(rid in in_scope for rid, _ in pairs):
            continue
        report_id = opt_str(report.get("id")) or "?"
        title = text(attributes.get("title"))
        starts, ends = parse_time(attributes.get("starts_at")), parse_time(attributes.get("ends_at"))
        if (opt_str(attributes.get("report_type")) or "").lower() == "maintenance":
            running = (starts is None or starts <= fetched_at) and (ends is None or fetched_at < ends)
            maintenances.append(Maintenance(
                id=report_id, title=title or "(untitled maintenance)", starts_at=starts, ends_at=ends, in_progress=running, url=page_url,
            ))  # fmt: skip
            if running:
                seen.append(Status.MAINTENANCE)
            continue
        scope = [(rid, s) for rid, s in pairs if wanted is None or rid in in_scope]
        hit = {rid for rid, s in scope if s == DOWN}
        down |= (hit & monitored) if monitored else hit  # (a page with nothing monitored: as the report says)
        marks = [STATE.get(s, Status.DEGRADED) for _, s in scope if s not in (DOWN, RESOLVED)]
        if hit:
            marks.append(_outage(hit, monitored or hit))
        elif not marks:  # open, its effect unreadable: still an incident
            marks.append(Status.PARTIAL_OUTAGE if state == DOWN else STATE.get(state, Status.DEGRADED))
        impact = worst(marks)
        impact = impact if impact.is_outage else Status.DEGRADED
        seen.append(impact)
        latest, updated_at = _latest_update(report, updates)
        incidents.append(IncidentInfo(
            id=report_id, title=title or "(untitled incident)", impact=impact, status=state or "unknown", url=page_url,
            latest_update=latest, updated_at=updated_at, started_at=starts,
        ))  # fmt: skip

    if down:
        seen.append(_outage(down, monitored))
    status = worst(s for s in seen if s is not Status.MAINTENANCE)
    if status is Status.OPERATIONAL and Status.MAINTENANCE in seen:
        status = Status.MAINTENANCE
    return page_observation(
        KIND, service_id, fetched_at, page_url, status=status, incidents=incidents, maintenances=maintenances,
        components=affected, component_names=published,
    )  # fmt: skip


parse = guarded_parse(KIND, _parse)


@register
class BetterStackKind(OfficialKind):
    """A Better Stack status page read through its public ``index.json``."""

    name, parse, name_option, api_path = KIND, parse, "components", "/index.json"

    @classmethod
    def page_name(cls, payload: bytes) -> str | None:
        """``company_name`` of the page (``"Hugging Face"``)."""
        try:
            return text(_page(as_dict(load_json(payload), "Better Stack index.json")).get("company_name"))
        except PayloadError:
            return None
