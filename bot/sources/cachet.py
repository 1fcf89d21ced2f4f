"""Cachet status pages (open source, self-hosted; Cachet 2.x ``/api/v1/components``).

The public API lists the page's enabled components (``data[]``) with a numeric ``status`` —
Cachet's own words for them (``resources/lang/en/cachet.php``): 1 Operational, 2 Performance
Issues, 3 Partial Outage, 4 Major Outage, 0 Unknown (not counted). Old releases send the number
as a string. The page's state is its worst component. Incidents live at another endpoint
(``/api/v1/incidents``) and are not read: the components already say what is down, in one
request. ``per_page=100`` asks for 100 components at once (Cachet pages 20 by default; a page with
more is read from its first 100). Option
``components`` restricts the reading to those components.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from bot.sources._toolkit import ComponentTally, OfficialKind, PayloadError, as_dict, as_list, beside, guarded_parse, load_json, name_filter
from bot.sources._toolkit import opt_str, page_observation, wanted_by, worst
from bot.sources.base import Observation, register
from bot.status import Status

KIND = "cachet"
STATUSES: dict[int, Status | None] = {
    0: None, 1: Status.OPERATIONAL, 2: Status.DEGRADED, 3: Status.PARTIAL_OUTAGE, 4: Status.MAJOR_OUTAGE,
}  # fmt: skip


def _status(value: Any) -> Status | None:
    """A component's status from Cachet's number (or its string); ``None`` for Unknown."""
    if isinstance(value, bool):
        raise PayloadError("component status must be a number, got a boolean")
    try:
        code = int(value)
    except (TypeError, ValueError):
        raise PayloadError(f"component status must be a number, got {value!r}") from None
    return STATUSES.get(code, Status.DEGRADED)


def _parse(payload: bytes, *, service_id: str, fetched_at: datetime, url: str | None = None, **options: Any) -> Observation:
    """Read one ``/api/v1/components`` answer."""
    doc = as_dict(load_json(payload), "Cachet components")
    meta = doc.get("meta")
    if not isinstance(meta, dict) or not isinstance(meta.get("pagination"), dict):
        raise PayloadError("not a Cachet answer (no meta.pagination block)")
    wanted = name_filter(options, "components")
    published: list[str] = []
    affected = ComponentTally()  # (two components may share a name: one entry, the worse)
    for raw in as_list(doc.get("data"), "data", missing_ok=False):
        item = as_dict(raw, "component")
        name = " ".join((opt_str(item.get("name")) or "").split())
        if not name:
            raise PayloadError("component without a name")
        if item.get("enabled") is False:
            continue
        status = _status(item.get("status"))
        published.append(name)
        if status is not None and status is not Status.OPERATIONAL and wanted_by(wanted, [name]):
            affected.add([name], status)
    components = affected.components()
    status = worst(c.status for c in components) if components else Status.OPERATIONAL
    page = url.split("/api/v1/", 1)[0] if url else url  # (an API URL's page is what comes before it)
    return page_observation(KIND, service_id, fetched_at, page, status=status, components=components,
                            component_names=list(dict.fromkeys(published)))  # fmt: skip


parse = guarded_parse(KIND, _parse)


@register
class CachetKind(OfficialKind):
    """A Cachet page; ``url`` is the page (its components API is beside it) or that API URL."""

    name, parse, name_option = KIND, parse, "components"

    @classmethod
    def endpoint(cls, url: str, options: dict[str, Any]) -> str:
        """The page's components API, asking for 100 a page; an API URL is read as it is, the
        components one with 100 a page unless it says otherwise."""
        url = url.rstrip("/")
        if "/api/" not in urlsplit(url).path:
            return beside(url, "/api/v1/components?per_page=100")
        if url.split("?", 1)[0].endswith("/api/v1/components") and "per_page=" not in url:
            return url + ("&" if "?" in url else "?") + "per_page=100"
        return url
