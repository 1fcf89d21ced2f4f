"""National connectivity beside an outage: the truth table of ``internet_context``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.detect.national import (
    MAX_AGE,
    Connectivity,
    ContextKind,
    InternetContext,
    NationalState,
    context_from_extra,
    context_to_extra,
    internet_context,
    merge_contexts,
)
from bot.sources.base import SourceError
from bot.sources.ioda import CountryOutage, IodaReading

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)
IQ_SINCE = NOW - timedelta(hours=5)
SY_SINCE = NOW - timedelta(hours=2)


def state(normal=(), disrupted=(), at=NOW - timedelta(minutes=5)) -> NationalState:
    since = {"IQ": IQ_SINCE, "SY": SY_SINCE}
    outages = {c: CountryOutage(c, since.get(c, NOW - timedelta(hours=1)), ("bgp",)) for c in disrupted}
    return NationalState({c: at for c in (*normal, *disrupted)}, outages)


# reporting countries, normal, disrupted, expected kind, expected countries
TABLE = [
    ((), ("US", "DE"), (), None, ()),  # nobody reports from a country
    (("US",), ("US",), (), None, ()),  # one country is not "international"
    (("US", "DE"), ("US", "DE"), (), ContextKind.INTERNATIONAL, ("US", "DE")),
    (("US", "DE", "IN"), ("US", "DE", "IN"), (), ContextKind.INTERNATIONAL, ("US", "DE", "IN")),
    (("US", "DE"), ("US",), (), None, ()),  # Germany never read: no claim
    (("IQ",), (), ("IQ",), ContextKind.NATIONAL, ("IQ",)),
    (("US", "IQ"), ("US",), ("IQ",), ContextKind.NATIONAL, ("IQ",)),
    (("IQ", "US", "SY"), ("US",), ("IQ", "SY"), ContextKind.NATIONAL, ("IQ", "SY")),
    (("IQ", "DE"), (), ("IQ",), ContextKind.NATIONAL, ("IQ",)),  # a disruption is told even beside an unknown
    (("iq", "IQ"), (), ("IQ",), ContextKind.NATIONAL, ("IQ",)),  # codes are compared upper case, once
]


@pytest.mark.parametrize("reporting, normal, disrupted, kind, countries", TABLE)
def test_internet_context_truth_table(reporting, normal, disrupted, kind, countries):
    ctx = internet_context(reporting, state(normal, disrupted), NOW)
    if kind is None:
        assert ctx is None
    else:
        assert ctx is not None and ctx.kind is kind and ctx.countries == countries
        if kind is ContextKind.NATIONAL:
            assert ctx.since == min({"IQ": IQ_SINCE, "SY": SY_SINCE}[c] for c in countries)
        else:
            assert ctx.since is None


def test_stale_readings_say_nothing():
    old = state(("US", "DE"), ("IQ",), at=NOW - MAX_AGE - timedelta(seconds=1))
    assert internet_context(("US", "DE"), old, NOW) is None
    assert internet_context(("IQ",), old, NOW) is None
    assert old.connectivity("IQ", NOW) is Connectivity.UNKNOWN


def test_a_reading_replaces_its_countries_and_a_failed_one_changes_nothing():
    s = NationalState().apply(IodaReading(NOW, frozenset({"IQ", "US"}), {"IQ": CountryOutage("IQ", IQ_SINCE, ("bgp",))}))
    assert s.connectivity("IQ", NOW) is Connectivity.DISRUPTED and s.connectivity("US", NOW) is Connectivity.NORMAL
    assert s.connectivity("DE", NOW) is Connectivity.UNKNOWN
    failed = s.apply(IodaReading(NOW + timedelta(minutes=5), frozenset(), error=SourceError("timeout", "slow")))
    assert failed == s
    later = NOW + timedelta(minutes=10)
    recovered = s.apply(IodaReading(later, frozenset({"IQ"})))
    assert recovered.connectivity("IQ", later) is Connectivity.NORMAL
    assert recovered.outage("IQ", later) is None and s.outage("IQ", NOW).since == IQ_SINCE


def test_the_state_survives_its_json_form_and_bad_entries_become_unknown():
    s = state(("US",), ("IQ",))
    assert NationalState.from_dict(s.to_dict()) == s
    data = s.to_dict()
    data["outages"]["IQ"]["since"] = "yesterday"
    data["checked_at"]["US"] = 5
    back = NationalState.from_dict(data)
    assert back.connectivity("IQ", NOW) is Connectivity.UNKNOWN and back.connectivity("US", NOW) is Connectivity.UNKNOWN


@pytest.mark.parametrize(
    "ctx",
    [
        InternetContext(ContextKind.NATIONAL, ("IQ", "SY"), IQ_SINCE),
        InternetContext(ContextKind.INTERNATIONAL, ("US", "DE")),
        None,
    ],
)
def test_the_context_travels_on_an_event(ctx):
    assert context_from_extra(context_to_extra(ctx)) == ctx


@pytest.mark.parametrize(
    "extra",
    [{}, {"internet": "global", "internet_countries": "US,DE"}, {"internet": "national", "internet_countries": "IQ"},
     {"internet": "international", "internet_countries": ""}, {"internet": "national", "internet_countries": "IQ", "internet_since": "x"}],
)
def test_an_event_without_a_readable_context_has_none(extra):
    assert context_from_extra(extra) is None


def test_a_grouped_alert_speaks_of_every_reporting_country_by_its_latest_word():
    """Several services' contexts become one line: each country by the latest context naming
    it; a national outage among them makes it national, else all of them are international."""
    us_de = InternetContext(ContextKind.INTERNATIONAL, ("US", "DE"))
    iq_since = NOW - timedelta(hours=3)
    iq = InternetContext(ContextKind.NATIONAL, ("IQ",), iq_since)
    later = InternetContext(ContextKind.INTERNATIONAL, ("EG", "SA", "US", "IQ"))
    assert merge_contexts([us_de, later]) == InternetContext(ContextKind.INTERNATIONAL, ("DE", "EG", "SA", "US", "IQ"))
    assert merge_contexts([us_de, iq]) == InternetContext(ContextKind.NATIONAL, ("IQ",), iq_since)
    # Iraq's outage ended: a later context found it normal, so the line is international again
    assert merge_contexts([iq, later]).kind is ContextKind.INTERNATIONAL  # type: ignore[union-attr]
    sy = InternetContext(ContextKind.NATIONAL, ("SY",), NOW - timedelta(hours=1))
    assert merge_contexts([iq, us_de, sy]) == InternetContext(ContextKind.NATIONAL, ("IQ", "SY"), iq_since)
    assert merge_contexts([]) is None
