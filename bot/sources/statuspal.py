"""Statuspal public status pages (``https://statuspal.io/api/v2/status_pages/<subdomain>/summary``;
EU pages on ``statuspal.eu``; the older ``/api/v1/…/status`` answers the same shape).

``services`` is a tree (``children``), each service with the type of its current incident
(``current_incident_type``); ``incidents`` are the open incidents, ``maintenances`` the windows
in progress and ``upcoming_maintenances`` the planned ones, each with ``service_ids`` and
``updates``. Incident types: ``major`` → major outage, ``minor`` → partial outage,
``performance`` → degraded; ``scheduled`` and ``emergency-maintenance`` are maintenance;
``info`` is a notice the page itself does not count as a problem (it is left out), and an
unknown word counts as degraded. Timestamps carry no zone and are UTC (Statuspal's API
reference, as Exoscale's Go client quotes it: "The time at which the incident/maintenance
started (UTC)"). Option ``components`` restricts the reading to those
services (a parent brings its children).

A page URL ``https://<subdomain>.statuspal.io`` (or ``.eu``) is read at that API; a page on its
own domain is configured by its API URL (the page names no subdomain we could find).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from bot.sources._toolkit import ComponentTally, OfficialKind, PayloadError, as_dict, as_list, guarded_parse, load_json, name_filter
from bot.sources._toolkit import newest, opt_str, page_observation, parse_time, text, wanted_by, worst
from bot.sources.base import IncidentInfo, Maintenance, Observation, register
from bot.status import Status

KIND = "statuspal"
TYPES: dict[str, Status] = {
    "major": Status.MAJOR_OUTAGE, "minor": Status.PARTIAL_OUTAGE, "performance": Status.DEGRADED,
    "scheduled": Status.MAINTENANCE, "emergency-maintenance": Status.MAINTENANCE,
}  # fmt: skip
_NOTICE = "info"
_API_HOSTS = ("statuspal.io", "statuspal.eu")


def _type(value: Any) -> Status | None:
    """The status an incident type stands for; ``None`` for none or a notice."""
    word = (opt_str(value) or "").strip().lower()
    if not word or word == _NOTICE:
        return None
    return TYPES.get(word, Status.DEGRADED)


def _services(doc: dict[str, Any]) -> list[tuple[dict[str, Any], list[int]]]:
    """Every service of the tree with the ids of its ancestors, parents first."""
    out: list[tuple[dict[str, Any], list[int]]] = []

    def walk(items: Any, ancestors: list[int]) -> None:
        for raw in as_list(items, "services"):
            service = as_dict(raw, "service")
            out.append((service, ancestors))
            sid = service.get("id")
            walk(service.get("children"), ancestors + [sid] if isinstance(sid, int) else ancestors)

    if not isinstance(doc.get("services"), list):
        raise PayloadError("a Statuspal page lists its services; this answer has none")
    walk(doc.get("services"), [])
    return out


def _latest(event: dict[str, Any]) -> dict[str, Any]:
    updates = [u for u in as_list(event.get("updates"), "updates") if isinstance(u, dict)]
    return newest(updates, lambda u: parse_time(u.get("posted_at") or u.get("inserted_at"))) or {}


def _parse(payload: bytes, *, service_id: str, fetched_at: datetime, url: str | None = None, **options: Any) -> Observation:
    """Read one Statuspal ``summary`` (or v1 ``status``) document."""
    doc = as_dict(load_json(payload), "Statuspal page")
    page = as_dict(doc.get("status_page"), "status_page")
    wanted = name_filter(options, "components")

    names: dict[int, str] = {}
    published: list[str] = []
    in_scope: set[int] = set()
    affected = ComponentTally()
    for service, ancestors in _services(doc):
        name = " ".join((opt_str(service.get("name")) or "").split())
        sid = service.get("id")
        if not name:
            continue
        published.append(name)
        if isinstance(sid, int):
            names[sid] = name
        chosen = wanted_by(wanted, [name]) or bool(in_scope & set(ancestors))
        if not chosen:
            continue
        if isinstance(sid, int):
            in_scope.add(sid)
        status = _type(service.get("current_incident_type"))
        if status is not None:
            affected.add([name], status)

    def concerns(event: dict[str, Any]) -> bool:
        ids = {i for i in as_list(event.get("service_ids"), "service_ids") if isinstance(i, int)}
        return wanted is None or bool(ids & in_scope)

    incidents: list[IncidentInfo] = []
    for raw in as_list(doc.get("incidents"), "incidents"):
        event = as_dict(raw, "incident")
        impact, ends = _type(event.get("type")), parse_time(event.get("ends_at"))
        if impact is None or impact is Status.MAINTENANCE or not concerns(event) or (ends is not None and ends <= fetched_at):
            continue
        latest = _latest(event)
        incidents.append(IncidentInfo(
            id=opt_str(event.get("id")) or (opt_str(event.get("title")) or "incident"), title=text(event.get("title")) or "(untitled incident)",
            impact=impact, status=opt_str(latest.get("type")) or "issue", url=opt_str(event.get("url")),
            latest_update=text(latest.get("description")), updated_at=parse_time(event.get("updated_at")),
            started_at=parse_time(event.get("starts_at"))))  # fmt: skip

    maintenances: list[Maintenance] = []
    for key, in_progress in (("maintenances", True), ("upcoming_maintenances", False)):
        for raw in as_list(doc.get(key), key):
            event = as_dict(raw, "maintenance")
            if not concerns(event):
                continue
            starts, ends = parse_time(event.get("starts_at")), parse_time(event.get("ends_at"))
            if ends is not None and ends <= fetched_at:
                continue
            maintenances.append(Maintenance(
                id=opt_str(event.get("id")) or (opt_str(event.get("title")) or key), title=text(event.get("title")) or "(untitled maintenance)",
                starts_at=starts, ends_at=ends, in_progress=in_progress, url=opt_str(event.get("url"))))  # fmt: skip

    components = affected.components()
    statuses = [c.status for c in components] + [i.impact for i in incidents]
    if any(m.in_progress for m in maintenances):
        statuses.append(Status.MAINTENANCE)
    if wanted is None:
        own = _type(page.get("current_incident_type"))
        statuses += [own] if own is not None else []
    status = worst(statuses) if statuses else Status.OPERATIONAL
    return page_observation(KIND, service_id, fetched_at, page_url(url), status=status, incidents=incidents, maintenances=maintenances,
                            components=components, component_names=list(dict.fromkeys(published)))  # fmt: skip


parse = guarded_parse(KIND, _parse)


def page_url(url: str | None) -> str | None:
    """The page people read for a configured URL: the summary API of ``sub`` is the page
    ``https://sub.statuspal.io`` (which sends visitors on to a page's own domain)."""
    if url is None:
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    segments = parts.path.strip("/").split("/")
    if host in _API_HOSTS and "status_pages" in segments[:-1]:
        subdomain = segments[segments.index("status_pages") + 1]
        if subdomain:
            return f"https://{subdomain}.{host}"
    return url


def api_url(url: str) -> str:
    """The summary API of a page URL: an API URL as it is, ``<sub>.statuspal.io`` → the summary
    of ``sub``; ``ValueError`` for a page on its own domain."""
    url = url.rstrip("/")
    parts = urlsplit(url)
    if "/api/" in parts.path:
        return url
    host = (parts.hostname or "").lower()
    for api_host in _API_HOSTS:
        if host.endswith("." + api_host):
            subdomain = host[: -len(api_host) - 1]
            if subdomain and "." not in subdomain and subdomain != "www":
                return f"https://{api_host}/api/v2/status_pages/{subdomain}/summary"
    raise ValueError(f"a Statuspal page is configured by its API URL (https://statuspal.io/api/v2/status_pages/<subdomain>/summary), got {url}")


@register
class StatuspalKind(OfficialKind):
    """A Statuspal page; ``url`` is its summary API URL or its ``<sub>.statuspal.io`` address."""

    name, parse, name_option = KIND, parse, "components"
    api_elsewhere = True  # <sub>.statuspal.io is read at statuspal.io

    @classmethod
    def endpoint(cls, url: str, options: dict[str, Any]) -> str:
        return api_url(url)

    @classmethod
    def page_name(cls, payload: bytes) -> str | None:
        try:
            page = as_dict(load_json(payload), "Statuspal page").get("status_page")
        except PayloadError:
            return None
        return text(page.get("name")) if isinstance(page, dict) else None
