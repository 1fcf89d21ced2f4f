"""One upstream, one message: which incidents belong to an infrastructure provider's outage (pure).

When Cloudflare or AWS fails, a dozen services fail with it, and a channel subscribed to
several of them should read one message ("Cloudflare outage — also affecting Discord, X,
ChatGPT"), not one alert each. This module only decides; storing, rendering and delivering
the grouped message are the callers' business.

Rules (truth tables in ``tests/detect/test_upstream.py``):

* **A group** is a provider's incident (a catalog service with ``provider = true``) and the
  incidents of services that name it in ``depends_on`` (documented links only: a guess would
  merge unrelated outages) whose start lies within ``lead`` before the provider's start (users
  of a dependent service often notice first) and ``window`` after it.
* A dependent incident that could join two providers' groups joins the one whose start is
  closest to its own (the earlier provider on a tie). A provider's own incident is never a
  member of another group.
* A group with no member is no group: a provider failing alone is an ordinary alert.
* A group lives while any of its incidents is open; a member that recovered stays in it (shown
  as recovered) until the last one does, so recoveries are grouped too.
* **Per channel**: a channel subscribed to at least two of a group's services (``all`` counts
  as every service) reads that group as one message for those services; any other channel
  gets its per-service alerts, each naming the likely upstream (``upstream_of``). Grouping only
  holds back the *creation* of the separate alerts; monitoring and recoveries go on (they
  become lines of the grouped message).
"""

from __future__ import annotations

import json

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

#: a dependent incident may start this long before its provider's and still join it
DEFAULT_LEAD = timedelta(minutes=15)
#: … or this long after it
DEFAULT_WINDOW = timedelta(minutes=30)
#: a subscription to every service (``/subscribe all``)
ALL = "all"
#: ``IncidentEvent.extra`` key: the service id of the provider the incident most likely comes from
UPSTREAM = "upstream"
#: ``IncidentEvent.extra`` key: the group the incident belongs to (``group_to_extra``)
GROUP = "group"


@dataclass(frozen=True, slots=True)
class OpenIncident:
    """An incident as grouping sees it: whose, which, when it began and (maybe) ended."""

    service_id: str
    key: str
    started_at: datetime
    resolved_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.resolved_at is None


@dataclass(frozen=True, slots=True)
class Group:
    """A provider's incident and the dependent incidents that joined it, in order of start."""

    provider: OpenIncident
    members: tuple[OpenIncident, ...]

    @property
    def key(self) -> str:
        """Stable while the group lives: the provider's incident key."""
        return f"group:{self.provider.key}"

    @property
    def services(self) -> tuple[str, ...]:
        """The provider first, then the members in order of start."""
        return (self.provider.service_id, *(m.service_id for m in self.members))

    @property
    def active(self) -> bool:
        return self.provider.open or any(m.open for m in self.members)

    def incident_of(self, service_id: str) -> OpenIncident | None:
        for incident in (self.provider, *self.members):
            if incident.service_id == service_id:
                return incident
        return None


def group_incidents(
    incidents: Sequence[OpenIncident],
    depends_on: Mapping[str, Collection[str]],
    providers: Collection[str],
    *,
    lead: timedelta = DEFAULT_LEAD,
    window: timedelta = DEFAULT_WINDOW,
) -> list[Group]:
    """The groups among ``incidents`` (see the module docstring): ``depends_on`` maps a
    service to the providers it documents; ``providers`` are the services marked as such.
    Groups come ordered by their provider incident's start; inactive groups are left out."""
    provider_incidents = sorted(
        (i for i in incidents if i.service_id in providers), key=lambda i: (i.started_at, i.key)
    )
    members: dict[str, list[OpenIncident]] = {p.key: [] for p in provider_incidents}
    for incident in incidents:
        if incident.service_id in providers:
            continue
        upstreams = set(depends_on.get(incident.service_id, ()))
        candidates = [
            p
            for p in provider_incidents
            if p.service_id in upstreams and p.started_at - lead <= incident.started_at <= p.started_at + window
        ]
        if not candidates:
            continue
        best = min(candidates, key=lambda p: (abs(incident.started_at - p.started_at), p.started_at, p.key))
        members[best.key].append(incident)
    groups = [
        Group(p, tuple(sorted(members[p.key], key=lambda m: (m.started_at, m.service_id))))
        for p in provider_incidents
        if members[p.key]
    ]
    return [g for g in groups if g.active]


def upstream_of(service_id: str, groups: Sequence[Group]) -> str | None:
    """The provider whose outage ``service_id``'s incident most likely comes from, if any."""
    for group in groups:
        if any(m.service_id == service_id for m in group.members):
            return group.provider.service_id
    return None


def followed_together(services: Iterable[str], subscribed: Collection[str]) -> list[str]:
    """The services of one group that a channel subscribed to ``subscribed`` (service ids, or
    ``all``) reads as one message: those it follows, when it follows at least two; else none."""
    everything = ALL in subscribed
    followed = [s for s in services if everything or s in subscribed]
    return followed if len(followed) >= 2 else []


def grouped_for_channel(groups: Sequence[Group], subscribed: Collection[str]) -> dict[str, Group]:
    """Service id → the group whose one message carries it in a channel subscribed to
    ``subscribed`` (service ids, or ``all``): only groups of which the channel follows at least
    two services. A service absent from the result gets its own alert there."""
    out: dict[str, Group] = {}
    for group in groups:
        for service_id in followed_together(group.services, subscribed):
            out.setdefault(service_id, group)
    return out


@dataclass(frozen=True, slots=True)
class GroupRef:
    """A group as an event carries it to delivery (``extra["group"]``): its key, its provider
    and the incident key of each of its services, provider first."""

    key: str
    provider: str
    incidents: Mapping[str, str]

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(self.incidents)


def group_to_extra(group: Group) -> str:
    """The group as ``extra["group"]`` holds it (a JSON string: ``extra`` holds strings)."""
    incidents = {i.service_id: i.key for i in (group.provider, *group.members)}
    return json.dumps({"key": group.key, "provider": group.provider.service_id, "incidents": incidents}, separators=(",", ":"))


def group_from_extra(raw: str | None) -> GroupRef | None:
    """The group an event names, or None for anything malformed (an old or foreign payload
    must never stop a delivery)."""
    try:
        value = json.loads(raw) if raw else None
    except (TypeError, ValueError):
        return None
    if not isinstance(value, Mapping):
        return None
    key, provider, incidents = value.get("key"), value.get("provider"), value.get("incidents")
    if not isinstance(key, str) or not isinstance(provider, str) or not isinstance(incidents, Mapping):
        return None
    if provider not in incidents or not all(isinstance(k, str) and isinstance(v, str) for k, v in incidents.items()):
        return None
    return GroupRef(key, provider, dict(incidents))


def group_of(service_id: str, groups: Sequence[Group]) -> Group | None:
    """The group ``service_id``'s incident belongs to, as its provider or a member."""
    for group in groups:
        if service_id in group.services:
            return group
    return None


@dataclass(frozen=True, slots=True)
class Upstreams:
    """The catalog's documented links, as grouping needs them."""

    depends_on: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    providers: frozenset[str] = frozenset()
    lead: timedelta = DEFAULT_LEAD
    window: timedelta = DEFAULT_WINDOW

    @classmethod
    def of(cls, services: Iterable[Any]) -> Upstreams:
        """From catalog services (``id``, ``provider``, ``depends_on``)."""
        services = list(services)
        return cls(
            depends_on={s.id: tuple(s.depends_on) for s in services if s.depends_on},
            providers=frozenset(s.id for s in services if s.provider),
        )

    def groups(self, incidents: Sequence[OpenIncident]) -> list[Group]:
        return group_incidents(incidents, self.depends_on, self.providers, lead=self.lead, window=self.window)

    def likely(self, service_id: str, incidents: Sequence[OpenIncident]) -> str | None:
        """The provider ``service_id``'s open incident most likely comes from, if any."""
        if service_id not in self.depends_on:
            return None
        return upstream_of(service_id, self.groups(incidents))
