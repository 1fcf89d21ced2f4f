"""Sentence parts shared by the messages: the headline and state line, the confidence line,
times ("at 3:51 PM", "since …"), quoted outside text, the status page link and the footer
(pure).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable, Sequence
from urllib.parse import urlsplit

from bot.detect.model import Confidence, Evidence, IncidentEvent
from bot.i18n import Text, Translator
from bot.notify import text as tx
from bot.notify.render.message import RenderedMessage, ServiceNames
from bot.notify.render.words import COLORS, ROLE_WORDS, status_word
from bot.sources.base import SourceRole
from bot.status import Status

#: how much outside text we show before trimming (the final fit enforces Discord's limits)
OFFICIAL_TITLE_BUDGET = 200


OFFICIAL_UPDATE_BUDGET = 700


DEFAULT_CROWD_WINDOW = timedelta(minutes=15)


def capitalized(text: str) -> str:
    """Capitalise a line's first letter (English labels are lower case inside sentences)."""
    return text[:1].upper() + text[1:] if text[:1].islower() else text


def service_name(names: ServiceNames, t: Translator) -> str:
    return tx.clean_line(names.for_locale(t))


def quote(t: Translator, outside: str, budget: int, *, one_line: bool = False) -> Text:
    """Raw outside text cleaned (the one cleaning pass: pass it uncleaned), folded onto one
    line when ``one_line``, trimmed to ``budget`` and put in the locale's quotation marks."""
    cleaned = tx.clean_line(outside) if one_line else tx.clean(outside)
    # NOTE: quotation marks around text from a status page; Arabic uses «…»
    return t.gettext("“{text}”", text=tx.trim(cleaned, budget))


def at_phrase(t: Translator, dt: datetime, now: datetime) -> Text:
    """"at 3:51 PM" (today) or "on Mar 5 at 3:51 PM"."""
    if t.when(dt, now) == t.time(dt):
        return t.gettext("at {time}", time=t.time(dt))
    return t.gettext("on {date} at {time}", date=t.date(dt), time=t.time(dt))


def since_phrase(t: Translator, dt: datetime, now: datetime) -> Text:
    """"since 3:51 PM" (today) or "since Mar 5 at 3:51 PM"."""
    if t.when(dt, now) == t.time(dt):
        return t.gettext("since {time}", time=t.time(dt))
    return t.gettext("since {date} at {time}", date=t.date(dt), time=t.time(dt))


#: Discord refuses an embed whose URL is longer (and then the whole alert is not sent)
URL_MAX = 2048


def safe_link(url: str | None) -> str | None:
    """Only plain http(s) URLs become links: printable ASCII, no spaces, brackets, quotes or
    backslashes that break markdown, within Discord's length; anything else — including a URL
    that does not even parse, such as ``https://[::1/…`` from a hostile page — is no link."""
    if not url or len(url) > URL_MAX or not url.isascii() or any(not c.isprintable() for c in url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port or IPv6 literal
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c in url for c in " ()<>[]\"'\\"):
        return None
    return url


def link_line(t: Translator, url: str) -> str:
    """A markdown link to the official page (the URL is hidden, so it needs no isolate)."""
    label = t.gettext("Open the status page")
    return f"[{label}]({url})"


def footer_line(t: Translator) -> Text:
    return t.gettext("All times: {zone}", zone=t.zone())


def status_color(status: Status) -> int:
    return COLORS.get(status, COLORS[Status.UNKNOWN])


def by_role(evidence: Iterable[Evidence], role: SourceRole) -> list[Evidence]:
    return [e for e in evidence if e.role is role]


def headline(
    t: Translator, service: str, status: Status, confidence: Confidence | None, *, eased: bool = False
) -> Text:
    if status.is_outage and confidence is Confidence.UNCONFIRMED and not eased:
        return t.gettext("Possible problems with {service}", service=service)
    if status is Status.MAJOR_OUTAGE:
        return t.gettext("{service} is down", service=service)
    if status is Status.PARTIAL_OUTAGE:
        return t.gettext("{service} is partially down", service=service)
    if status is Status.DEGRADED:
        return t.gettext("{service} is having problems", service=service)
    if status is Status.MAINTENANCE:
        return t.gettext("{service}: scheduled maintenance", service=service)
    if status is Status.OPERATIONAL:
        return t.gettext("{service} is up", service=service)
    return t.gettext("Can't tell whether {service} is down", service=service)


def state_line(
    t: Translator, status: Status, since: datetime | None, now: datetime, confidence: Confidence | None = None
) -> Text:
    """The status in bold (in ``status_word``'s words for ``confidence``), and since when."""
    word = status_word(t, status, confidence)
    if since is None:
        return Text(f"**{capitalized(word)}**")
    return t.gettext("**{status}** {since}.", status=Text(capitalized(word)), since=since_phrase(t, since, now))


def is_eased(event: IncidentEvent) -> bool:
    """An incident that was worse (confirmed by the page or our checks) and now rests on user
    reports alone: its words are "still above normal", not "possible problems"."""
    if event.confidence is not Confidence.UNCONFIRMED or not event.status.is_outage:
        return False
    worst = status_or_none(event.extra.get("peak_status")) or event.previous_status
    return worst is not None and (worst.severity or 0) > (event.status.severity or 0)


def status_or_none(value: str | None) -> Status | None:
    try:
        return Status(value) if value else None
    except ValueError:
        return None


def confidence_line(
    t: Translator, status: Status, confidence: Confidence | None, evidence: Sequence[Evidence], *, eased: bool = False
) -> Text | None:
    """Which independent sources see the problem (nothing to say for maintenance)."""
    roles = [r for r in (SourceRole.OFFICIAL, SourceRole.PROBE, SourceRole.CROWD) if any(e.role is r and e.status.is_outage for e in evidence)]
    if confidence is None or not roles or not status.is_outage:
        return None
    if eased:
        probes = by_role(evidence, SourceRole.PROBE)
        if probes and all(p.status is Status.OPERATIONAL for p in probes):
            return t.gettext("Our checks find nothing wrong now, but user reports are still above normal.")
        return t.gettext("User reports are still above normal.")
    sources = t.list(t.gettext(ROLE_WORDS[r]) for r in roles)
    if confidence is Confidence.CONFIRMED:
        return t.gettext("Confirmed by {sources}.", sources=sources)
    if confidence is Confidence.LIKELY:
        return t.gettext("Probably real: so far only {sources} see it.", sources=sources)
    return t.gettext("Not confirmed: so far only {sources} point to it.", sources=sources)


def status_page_url(evidence: Sequence[Evidence], names: ServiceNames) -> str | None:
    for e in by_role(evidence, SourceRole.OFFICIAL):
        if safe_link(e.official_url):
            return e.official_url
    return safe_link(names.status_url)


def framed(
    t: Translator,
    names: ServiceNames,
    evidence: Sequence[Evidence],
    *,
    title: str,
    description: str,
    color: int,
    fields: Sequence[tuple[str, str]] = (),
    url: str | None = None,
) -> RenderedMessage:
    """A message with what every alert and answer carries around its words: the footer with
    the time zone, the link to the official page (``url``, else the evidence's), the language,
    and Discord's limits."""
    return RenderedMessage(
        title=title,
        description=description,
        color=color,
        fields=tuple(fields),
        footer=footer_line(t),
        url=url if url is not None else status_page_url(evidence, names),
        lang=t.lang,
    ).fit()
