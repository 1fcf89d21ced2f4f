"""The line about national internet connectivity (IODA), in an alert and in ``/isitdown`` (pure).

* An alert carries, when it was true as the event was made, ``bot.detect.national``'s context
  on ``event.extra``: either some reporting countries are under a national internet outage
  ("reports from there may reflect that rather than X"), or several countries report and none
  is ("the disruption is international, not a national internet outage").
* ``/isitdown`` asked in a guild whose country is under a national outage answers that first:
  "It may not be X: internet connectivity in Iraq is disrupted nationwide since 4:00 AM (IODA)."

Country names come from babel (CLDR) in the reader's language; times in the guild's zone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Mapping

from bot.detect.national import ContextKind, InternetContext, context_from_extra
from bot.i18n import Text, Translator
from bot.notify.render.phrases import since_phrase
from bot.notify.render.words import country_name
from bot.sources.ioda import CountryOutage


def _countries(t: Translator, codes: tuple[str, ...]) -> Text:
    return t.list(country_name(code, t.lang) for code in codes)


def context_line(t: Translator, ctx: InternetContext | None, service: str, now: datetime) -> Text | None:
    """The alert's line for ``ctx`` (None when there is none)."""
    if ctx is None:
        return None
    if ctx.kind is ContextKind.NATIONAL and ctx.since is not None:
        return t.gettext(
            "Internet connectivity in {countries} is disrupted nationwide {since} (IODA): reports from there may reflect that rather than {service}.",
            countries=_countries(t, ctx.countries), since=since_phrase(t, ctx.since, now), service=service,
        )  # fmt: skip
    if ctx.kind is ContextKind.INTERNATIONAL:
        return t.ngettext(
            "Reports come from {n} country, with no national internet outage there (IODA).",
            "The disruption is international, not a national internet outage: reports come from {n} countries, none of them under a national outage (IODA).",
            len(ctx.countries),
        )  # fmt: skip
    return None


def event_context_line(t: Translator, extra: Mapping[str, str], service: str, now: datetime) -> Text | None:
    """The line an incident event carries (``IncidentEvent.extra``), if any."""
    return context_line(t, context_from_extra(extra), service, now)


def national_outage_line(t: Translator, outage: CountryOutage, service: str, now: datetime) -> Text:
    """``/isitdown``'s first line in a guild whose country is under a national outage."""
    return t.gettext(
        "It may not be {service}: internet connectivity in {country} is disrupted nationwide {since} (IODA).",
        service=service, country=country_name(outage.country, t.lang), since=since_phrase(t, outage.since, now),
    )  # fmt: skip
