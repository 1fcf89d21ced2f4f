"""IODA's country-level outage events: is a country's whole internet disrupted right now?

IODA (Georgia Tech's Internet Outage Detection and Analysis, https://ioda.inetintel.cc.gatech.edu)
watches every country's internet through BGP visibility, active probing of /24 blocks
(``ping-slash24``) and a network telescope (``merit-nt``), and publishes the drops it detects
as *events* at ``GET /v2/outages/events`` (public, no key). This module builds that request and
reads its answer (pure: the time is an argument, no I/O); ``bot.runtime.ioda`` polls it.

This is context, not a source of one service: it does not register a ``SourceKind``. What it
says is about countries, and the alert and ``/isitdown`` use it to tell a national shutdown
from a service's own outage (``bot.detect.national``).

What the answer means (IODA's own server, ``src/Service/OutagesEventsService.php``): events are
built from alerts per (entity, datasource); an event still going on when the window ends is
closed *at the window's end* (``duration`` = ``until`` − ``start``; the public API has also
been seen capping it at 14 days past the start), so an event is **ongoing** when
``start + duration`` reaches the ``until`` that was asked. ``overlaps_window`` only says the
event reaches outside the window, at either end.

A country counts as disrupted nationwide when an ongoing event comes from BGP or active
probing (the signals that measure reachability of the country's address space), or from two
different datasources at once; a telescope-only or traffic-only drop is too noisy alone (IODA
itself drops long telescope-only events as erroneous).

Bad input never guesses: an unreadable answer, an ``error`` in the envelope, or an event whose
country cannot be told makes the whole reading an error (every asked country unknown); an
event of an asked country with unreadable times makes that country unknown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable
from urllib.parse import urlencode

from bot.sources.base import SourceError

KIND = "ioda"
DEFAULT_API = "https://api.ioda.inetintel.cc.gatech.edu/v2"
#: datasources that alone make a national outage (reachability of the country's addresses)
STRONG_DATASOURCES = frozenset({"bgp", "ping-slash24"})
#: other datasources need this many distinct ones agreeing
WEAK_AGREEMENT = 2
#: how far back each request looks; ongoing events are returned whatever their start
WINDOW_SECONDS = 6 * 3600


@dataclass(frozen=True, slots=True)
class CountryOutage:
    """An ongoing national outage of one country, as IODA sees it."""

    country: str  # ISO 3166 alpha-2, upper case
    since: datetime  # the earliest start among the ongoing events that make it
    datasources: tuple[str, ...]  # sorted
    name: str | None = None  # IODA's English name ("Iraq"), for logs


@dataclass(frozen=True, slots=True)
class IodaReading:
    """One reading of IODA for some countries: which of them are disrupted, which are known."""

    fetched_at: datetime
    #: countries this reading tells about (asked and readable); the others are unknown
    known: frozenset[str]
    outages: dict[str, CountryOutage] = field(default_factory=dict)
    error: SourceError | None = None


def events_url(countries: Iterable[str], now: datetime, *, api: str = DEFAULT_API, window: int = WINDOW_SECONDS) -> str:
    """The ``outages/events`` request for ``countries`` over the last ``window`` seconds up to
    ``now`` (country entities only, IODA's common outage data format)."""
    until = int(now.timestamp())
    params = {
        "entityType": "country",
        "entityCode": ",".join(sorted({c.upper() for c in countries})),
        "from": str(until - window),
        "until": str(until),
        "format": "codf",
    }
    return f"{api.rstrip('/')}/outages/events?{urlencode(params, safe=',')}"


class _Bad(ValueError):
    pass


def parse_events(payload: bytes, *, countries: Iterable[str], until: datetime, fetched_at: datetime) -> IodaReading:
    """Read an ``outages/events`` answer for ``countries`` asked up to ``until``; never raises."""
    asked = frozenset(c.upper() for c in countries)
    try:
        return _parse(payload, asked, until, fetched_at)
    except _Bad as exc:
        return IodaReading(fetched_at, frozenset(), error=SourceError("parse", str(exc)[:300]))


def failed(countries: Iterable[str], fetched_at: datetime, error: SourceError) -> IodaReading:
    """A reading that could not be made (network, HTTP status): every asked country unknown."""
    del countries  # nothing is known about any of them
    return IodaReading(fetched_at, frozenset(), error=error)


def _parse(payload: bytes, asked: frozenset[str], until: datetime, fetched_at: datetime) -> IodaReading:
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Bad(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise _Bad(f"the answer must be an object, got {type(doc).__name__}")
    if doc.get("error"):
        raise _Bad(f"IODA says: {doc['error']}")
    data = doc.get("data")
    if not isinstance(data, list):
        raise _Bad(f"'data' must be a list, got {type(data).__name__}")
    end = _window_end(doc, until)

    unreadable: set[str] = set()
    ongoing: dict[str, list[tuple[datetime, str]]] = {}
    names: dict[str, str] = {}
    for raw in data:
        country = _country(raw)
        if country not in asked:
            continue
        try:
            start, duration = _int(raw.get("start")), _int(raw.get("duration"))
            datasource = raw.get("datasource")
            if not isinstance(datasource, str) or not datasource:
                raise _Bad("no datasource")
        except _Bad:
            unreadable.add(country)
            continue
        if isinstance(raw.get("location_name"), str):
            names[country] = raw["location_name"]
        if start + duration >= end:
            ongoing.setdefault(country, []).append((_utc(start), datasource))

    outages: dict[str, CountryOutage] = {}
    for country, events in ongoing.items():
        if country in unreadable:
            continue
        sources = {ds for _, ds in events}
        if sources & STRONG_DATASOURCES or len(sources) >= WEAK_AGREEMENT:
            outages[country] = CountryOutage(country, min(at for at, _ in events), tuple(sorted(sources)), names.get(country))
    return IodaReading(fetched_at, asked - unreadable, outages)


def _country(raw: Any) -> str:
    """The ISO code of a ``country/XX`` event; anything that is no country event is bad input."""
    if not isinstance(raw, dict):
        raise _Bad(f"an event must be an object, got {type(raw).__name__}")
    location = raw.get("location")
    if not isinstance(location, str) or "/" not in location:
        raise _Bad(f"an event without a location: {str(location)[:60]!r}")
    kind, code = location.split("/", 1)
    if kind != "country" or len(code) != 2 or not code.isalpha():
        raise _Bad(f"not a country event: {location[:60]!r}")
    return code.upper()


def _window_end(doc: dict[str, Any], until: datetime) -> int:
    """The ``until`` IODA answered for (its ``requestParameters`` echo it), else the one asked."""
    params = doc.get("requestParameters")
    if isinstance(params, dict):
        echoed = params.get("until")
        if isinstance(echoed, (str, int)) and not isinstance(echoed, bool) and str(echoed).isdigit():
            return int(echoed)
    return int(until.timestamp())


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or abs(value) > 2**40:
        raise _Bad(f"not a time: {value!r}")
    if value < 0:
        raise _Bad(f"negative: {value!r}")
    return int(value)


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)
