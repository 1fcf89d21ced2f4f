"""National internet connectivity beside a service's outage (pure).

The Arabic press tells every big outage with one more sentence: "the disruption was
international, not a national internet shutdown". IODA (``bot.sources.ioda``) tells us which
countries' internet is down as a whole; this module keeps what it said (``NationalState``) and
decides the one line an alert may add (``internet_context``):

======================================  =====================================================
the reporting countries (crowd)          the line
======================================  =====================================================
any of them disrupted nationwide         NATIONAL: "internet connectivity in Iraq is disrupted
                                         nationwide since 04:00 (IODA)" — those countries
two or more, every one read and normal   INTERNATIONAL: "reports from 3 countries, none under a
                                         national internet outage (IODA)"
one country only, or any of them         nothing: one country is not "international", and
unknown (never read, stale, bad answer)  an unread country is no evidence either way
======================================  =====================================================

The bot's own vantage self-check (``bot.detect.vantage``) is a different thing — our network,
not the users' — and is never mixed with this.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Iterable, Mapping, Sequence

from bot.sources.ioda import CountryOutage, IodaReading

#: a country's reading older than this says nothing (IODA is polled every few minutes)
MAX_AGE = timedelta(minutes=30)
#: countries needed before a disruption can be called international
MIN_INTERNATIONAL = 2


class Connectivity(str, Enum):
    NORMAL = "normal"
    DISRUPTED = "disrupted"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class NationalState:
    """What IODA last said per country: when it was read, and the outage if there is one."""

    checked_at: dict[str, datetime] = field(default_factory=dict)
    outages: dict[str, CountryOutage] = field(default_factory=dict)

    def apply(self, reading: IodaReading) -> "NationalState":
        """The state after ``reading``: its known countries are replaced; the others keep their
        last reading (which ages into unknown), so a failed poll loses nothing and claims nothing."""
        checked = dict(self.checked_at)
        outages = dict(self.outages)
        for country in reading.known:
            checked[country] = reading.fetched_at
            outage = reading.outages.get(country)
            if outage is None:
                outages.pop(country, None)
            else:
                outages[country] = outage
        return replace(self, checked_at=checked, outages=outages)

    def connectivity(self, country: str, now: datetime, max_age: timedelta = MAX_AGE) -> Connectivity:
        at = self.checked_at.get(country.upper())
        if at is None or not timedelta(0) <= now - at <= max_age:
            return Connectivity.UNKNOWN
        return Connectivity.DISRUPTED if country.upper() in self.outages else Connectivity.NORMAL

    def outage(self, country: str | None, now: datetime, max_age: timedelta = MAX_AGE) -> CountryOutage | None:
        """The current national outage of ``country`` (None when normal, unknown or no country)."""
        if not country or self.connectivity(country, now, max_age) is not Connectivity.DISRUPTED:
            return None
        return self.outages[country.upper()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "checked_at": {c: at.isoformat() for c, at in self.checked_at.items()},
            "outages": {
                c: {"since": o.since.isoformat(), "datasources": list(o.datasources), "name": o.name}
                for c, o in self.outages.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "NationalState":
        """The inverse of ``to_dict``; unreadable entries are dropped (they become unknown)."""
        checked: dict[str, datetime] = {}
        for country, at in (data.get("checked_at") or {}).items():
            try:
                checked[str(country)] = datetime.fromisoformat(at)
            except (TypeError, ValueError):
                continue
        outages: dict[str, CountryOutage] = {}
        for country, raw in (data.get("outages") or {}).items():
            try:
                outages[str(country)] = CountryOutage(
                    str(country), datetime.fromisoformat(raw["since"]), tuple(raw.get("datasources") or ()), raw.get("name")
                )
            except (KeyError, TypeError, ValueError):
                checked.pop(str(country), None)
        return cls(checked, outages)


class ContextKind(str, Enum):
    NATIONAL = "national"  # some reporting countries are under a national outage
    INTERNATIONAL = "international"  # several countries report, none under a national outage


@dataclass(frozen=True, slots=True)
class InternetContext:
    kind: ContextKind
    #: NATIONAL: the disrupted countries (in the reporting order); INTERNATIONAL: all of them
    countries: tuple[str, ...]
    since: datetime | None = None  # NATIONAL: the earliest start among them


def internet_context(
    countries: Sequence[str], state: NationalState, now: datetime, max_age: timedelta = MAX_AGE
) -> InternetContext | None:
    """The line an alert adds about national connectivity in the reporting ``countries``
    (see the module's table), or None when there is nothing true to say."""
    codes = tuple(dict.fromkeys(c.upper() for c in countries if c))
    if not codes:
        return None
    seen = {c: state.connectivity(c, now, max_age) for c in codes}
    disrupted = tuple(c for c in codes if seen[c] is Connectivity.DISRUPTED)
    if disrupted:
        since = min(state.outages[c].since for c in disrupted)
        return InternetContext(ContextKind.NATIONAL, disrupted, since)
    if len(codes) >= MIN_INTERNATIONAL and all(v is Connectivity.NORMAL for v in seen.values()):
        return InternetContext(ContextKind.INTERNATIONAL, codes)
    return None


def merge_contexts(contexts: Iterable[InternetContext]) -> InternetContext | None:
    """One line for several services' contexts (``contexts`` oldest first): a grouped alert
    shows the countries reporting any of its services, so its IODA line must speak of all of
    them, not of the last event's few (it read "reports from 8 countries" above "reports come
    from 5 countries"). Each country counts by the latest context that names it; any still
    under a national outage make the line national (from the earliest of their starts), else
    all of them were normal: international."""
    word: dict[str, tuple[ContextKind, datetime | None]] = {}
    for ctx in contexts:
        for code in ctx.countries:
            word.pop(code, None)  # (re-inserted: the order follows the latest word)
            word[code] = (ctx.kind, ctx.since)
    national = [(code, since) for code, (kind, since) in word.items() if kind is ContextKind.NATIONAL]
    if national:
        starts = [since for _, since in national if since is not None]
        return InternetContext(ContextKind.NATIONAL, tuple(code for code, _ in national), min(starts) if starts else None)
    return InternetContext(ContextKind.INTERNATIONAL, tuple(word)) if word else None


# --- carried on an incident event (``IncidentEvent.extra`` is str → str) ---------------------

EXTRA_KIND, EXTRA_COUNTRIES, EXTRA_SINCE = "internet", "internet_countries", "internet_since"


def context_to_extra(ctx: InternetContext | None) -> dict[str, str]:
    if ctx is None:
        return {}
    extra = {EXTRA_KIND: ctx.kind.value, EXTRA_COUNTRIES: ",".join(ctx.countries)}
    if ctx.since is not None:
        extra[EXTRA_SINCE] = ctx.since.isoformat()
    return extra


def context_from_extra(extra: Mapping[str, str]) -> InternetContext | None:
    """The context an event carries; None when it carries none or it does not read."""
    try:
        kind = ContextKind(extra.get(EXTRA_KIND, ""))
    except ValueError:
        return None
    countries = tuple(c for c in (extra.get(EXTRA_COUNTRIES) or "").split(",") if len(c) == 2)
    if not countries:
        return None
    since: datetime | None = None
    if extra.get(EXTRA_SINCE):
        try:
            since = datetime.fromisoformat(extra[EXTRA_SINCE])
        except ValueError:
            since = None
    if kind is ContextKind.NATIONAL and since is None:
        return None
    return InternetContext(kind, countries, since)


def countries_of(values: Iterable[Sequence[str]]) -> tuple[str, ...]:
    """The reporting countries across crowd evidence, first seen first."""
    return tuple(dict.fromkeys(c for group in values for c in group))
