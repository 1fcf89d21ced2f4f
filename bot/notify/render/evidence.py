"""The evidence fields of an alert or answer: what the official status page says, what our
probes saw, what users report, and the latest official update (pure).

* A probe line says what happened — answered, slow, an error status, an error page, a page
  without its usual content, too many redirects, no answer — never "HTTP 200 error" and never
  an internal error kind; a latency that rounds to 0 ms reads "under a millisecond".
* The share of a problem ("63% of reporters can't log in") is shown only while reports are
  above normal (the crowd signal above NONE): a share of the everyday background means nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol, Sequence

from bot.detect.model import CrowdLevel, CrowdSignal, Evidence
from bot.i18n import Text, Translator
from bot.notify import text as tx
from bot.notify.render.message import ServiceNames
from bot.notify.render.phrases import (
    DEFAULT_CROWD_WINDOW,
    OFFICIAL_TITLE_BUDGET,
    OFFICIAL_UPDATE_BUDGET,
    by_role,
    capitalized,
    link_line,
    quote,
    safe_link,
)
from bot.notify.render.words import PROBE_FAILURES, PROBLEM_SHARES, country_name, status_word
from bot.sources.base import SourceRole
from bot.status import Status


def official_field(
    t: Translator,
    evidence: Sequence[Evidence],
    *,
    unacknowledged: bool,
    unacknowledged_since: datetime | None,
    now: datetime,
    fallback_url: str | None,
) -> tuple[str, str] | None:
    official = by_role(evidence, SourceRole.OFFICIAL)
    url = safe_link(next((e.official_url for e in official if e.official_url), None) or fallback_url)
    lines: list[str] = []
    if unacknowledged:
        if unacknowledged_since is not None and now - unacknowledged_since >= timedelta(minutes=1):
            lines.append(
                t.gettext(
                    "Still says all systems are operational: no word of the problem {duration} after we spotted it.",
                    duration=t.duration(now - unacknowledged_since),
                )
            )
        else:
            lines.append(t.gettext("Says all systems are operational."))
    else:
        for e in official:
            if e.status is Status.UNKNOWN:
                lines.append(t.gettext("Could not be read just now."))
            elif e.status is Status.OPERATIONAL:
                lines.append(t.gettext("All systems operational."))
            elif e.official_title:
                lines.append(
                    t.gettext(
                        "{status}: {title}",
                        status=Text(capitalized(status_word(t, e.status))),
                        title=quote(t, e.official_title, OFFICIAL_TITLE_BUDGET, one_line=True),
                    )
                )
            else:
                lines.append(capitalized(status_word(t, e.status)))
    if not lines and url is None:
        return None
    if url is not None:
        lines.append(link_line(t, url))
    return t.gettext("Official status page"), "\n".join(dict.fromkeys(lines))


def _http(code: int) -> str:
    """A status code as the one left-to-right token readers know ("HTTP 503"), Latin digits
    in every digit style: it is an identifier, not a quantity."""
    return f"HTTP {code}"


def _ms(t: Translator, ms: float) -> Text:
    """A latency with its unit: "843 ms" under a second, "5.2 seconds" from one second (readers
    take in seconds faster than a five-digit count of milliseconds); under half a millisecond
    reads "under a millisecond", never "0 ms"."""
    if round(ms) < 1:
        return t.gettext("under a millisecond")
    if round(ms) < 1000:
        return t.ngettext("{n} ms", "{n} ms", round(ms))
    seconds = round(ms / 1000, 1)
    if seconds.is_integer():
        return t.ngettext("{n} second", "{n} seconds", int(seconds))
    # NOTE: a fraction of seconds such as 5.2 (Arabic: the singular noun, ٥٫٢ ثانية)
    return t.gettext("{seconds} seconds", seconds=seconds)


def probe_line(t: Translator, e: Evidence) -> Text:
    """One probe's reading in words that say what happened: answered normally, slow, an error
    status, an error page, a page without its usual content, too many redirects, no answer.
    Internal error kinds that mean nothing to a reader ("parse", "exception") read as "the
    check failed"."""
    kind = (e.error_kind or "").lower()
    time = _ms(t, e.latency_ms) if e.latency_ms is not None else None
    code = e.http_status
    if kind in PROBE_FAILURES:
        return t.gettext(PROBE_FAILURES[kind])
    if kind in ("error_page", "forbid_text", "content"):
        if code is not None:
            return t.gettext("Serves an error page ({http}).", http=_http(code))
        return t.gettext("Serves an error page.")
    if kind == "missing_text":
        if code is not None:
            return t.gettext("The page loads ({http}) but without its usual content.", http=_http(code))
        return t.gettext("The page loads but without its usual content.")
    if e.status is Status.UNKNOWN:
        return t.gettext("Could not check just now.")
    if code is not None and e.status.is_outage and (kind == "http_status" or code >= 400):
        if e.latency_ms is not None and round(e.latency_ms) >= 1:  # "after under a millisecond" says nothing
            return t.gettext("{http} error after {time}.", http=_http(code), time=time)
        return t.gettext("{http} error.", http=_http(code))
    if e.status is Status.DEGRADED and not kind:  # answering, but slower than its threshold
        if code is not None and time is not None:
            return t.gettext("Slow: {http} in {time}.", http=_http(code), time=time)
        if time is not None:
            return t.gettext("Slow: answered in {time}.", time=time)
        return t.gettext("Slow to answer.")
    if e.status.is_outage:
        return t.gettext("The check failed.")
    if code is not None and time is not None:
        return t.gettext("Responds normally ({http} in {time}).", http=_http(code), time=time)
    if code is not None:
        return t.gettext("Responds normally ({http}).", http=_http(code))
    if time is not None:
        return t.gettext("Responds normally in {time}.", time=time)
    return t.gettext("Responds normally.")


def probe_field(t: Translator, evidence: Sequence[Evidence]) -> tuple[str, str] | None:
    probes = by_role(evidence, SourceRole.PROBE)
    if not probes:
        return None
    lines = []
    for p in probes:
        line = probe_line(t, p)
        if len(probes) > 1:  # say which check is which: what it checked, else its kind
            label = p.target or (p.source_kind.upper() if p.source_kind != "http" else None)
            if label:
                line = t.gettext("{kind}: {result}", kind=tx.clean_line(label), result=line)
        lines.append(line)
    value = "\n".join(lines)
    return t.gettext("Our checks"), value


def crowd_line(
    t: Translator,
    reports: int,
    usual: float | None,
    window: timedelta,
    top_problem: str | None = None,
    top_problem_share: float | None = None,
    *,
    elevated: bool | None = None,
    countries: Sequence[str] = (),
    works: int | None = None,
) -> Text:
    """"1,240 reports in the last 15 minutes (usually 12) · 63% of reporters can't log in ·
    reports from 8 countries: United States, Germany, India…".

    The share of a problem and the countries are shown only when the reports are above usual
    (``elevated``: the crowd signal is above NONE; by default, more reports than usual): the
    everyday background says nothing about an outage."""
    if elevated is None:
        elevated = usual is None or reports > usual
    if reports:
        count = t.ngettext("{n} report in the last {window}", "{n} reports in the last {window}", reports, window=t.duration(window))
    else:  # English has no zero form: "No reports", not "0 reports"
        count = t.gettext("No reports in the last {window}", window=t.duration(window))
    parts = [count]
    if usual is not None:
        if usual < 0.5:
            baseline = t.gettext("(usually almost none)")
        else:
            baseline = t.gettext("(usually {usual})", usual=round(usual))
        parts[0] = Text(f"{parts[0]} {baseline}")
    if elevated and reports and top_problem and top_problem_share:
        template = PROBLEM_SHARES.get(top_problem, PROBLEM_SHARES["other"])
        parts.append(t.gettext(template, share=t.percent(top_problem_share)))
    if elevated and reports and countries:
        parts.append(countries_phrase(t, countries))
    if works:
        # NOTE: the users who pressed "Works for me" in the same window, as a share of everyone who answered
        parts.append(t.gettext("{share} say it works for them", share=t.percent(works / (works + max(0, reports)))))
    return Text(" · ".join(parts))


#: how many reporting countries are named before "…"
COUNTRIES_NAMED = 3


def countries_phrase(t: Translator, countries: Sequence[str]) -> Text:
    """"reports from 8 countries: United States, Germany, India…" (names from babel; no "and"
    before the last name shown when more follow)."""
    more = len(countries) > COUNTRIES_NAMED
    names = t.list((country_name(code, t.lang) for code in countries[:COUNTRIES_NAMED]), more=more)
    if more:
        names = Text(f"{names}…")
    return t.ngettext("reports from {n} country: {countries}", "reports from {n} countries: {countries}", len(countries), countries=names)



def crowd_field(t: Translator, evidence: Sequence[Evidence], window: timedelta, crowd: CrowdSignal | None = None) -> tuple[str, str] | None:
    if crowd is not None:
        value = crowd_line(
            t, crowd.recent, crowd.usual, crowd.window, crowd.top_problem, crowd.top_problem_share,
            elevated=crowd.level is not CrowdLevel.NONE, countries=crowd.countries, works=crowd.works,
        )  # fmt: skip
        return t.gettext("User reports"), value
    for e in by_role(evidence, SourceRole.CROWD):
        if e.reports is not None:
            value = crowd_line(
                t, e.reports, e.usual, window, e.top_problem, e.top_problem_share, elevated=e.status.is_outage,
                countries=e.countries, works=e.works,
            )  # fmt: skip
            return t.gettext("User reports"), value
    return None


#: the most component names an alert lists (a page in trouble can list dozens)
COMPONENTS_SHOWN = 8


def components_field(t: Translator, evidence: Sequence[Evidence]) -> tuple[str, str] | None:
    """The components the official page lists as affected (what a component subscription
    was alerted for), cleaned like any outside text; ``None`` when it lists none."""
    names: dict[str, None] = {}
    for e in evidence:
        if e.role is SourceRole.OFFICIAL:
            for name in e.components:
                cleaned = tx.trim(tx.clean_line(name), 60)
                if cleaned:
                    names.setdefault(cleaned, None)
    if not names:
        return None
    shown = list(names)[:COMPONENTS_SHOWN]
    value = t.list(shown, more=len(names) > len(shown))  # ("A, B, C and 3 more": one "and")
    if len(names) > len(shown):
        # NOTE: affected components of the status page not listed: "A, B, C and 3 more"
        more = t.ngettext("{n} more", "{n} more", len(names) - len(shown))
        value = t.gettext("{items} and {more}", items=value, more=more)
    return t.gettext("Affected components"), value


def update_field(t: Translator, update: str | None) -> tuple[str, str] | None:
    if not update or not update.strip():
        return None
    return t.gettext("Latest official update"), quote(t, update, OFFICIAL_UPDATE_BUDGET)


class Subject(Protocol):
    """What an alert or an answer is about: an ``IncidentEvent`` or a ``Verdict``."""

    @property
    def evidence(self) -> Sequence[Evidence]: ...
    @property
    def unacknowledged(self) -> bool: ...
    @property
    def unacknowledged_since(self) -> datetime | None: ...


def evidence_fields(
    t: Translator,
    subject: Subject,
    names: ServiceNames,
    *,
    now: datetime,
    crowd_window: timedelta = DEFAULT_CROWD_WINDOW,
    crowd: CrowdSignal | None = None,
) -> list[tuple[str, str]]:
    """The official, probe and crowd fields of ``subject``, those that have something to say."""
    evidence = subject.evidence
    found = [
        official_field(
            t,
            evidence,
            unacknowledged=subject.unacknowledged,
            unacknowledged_since=subject.unacknowledged_since,
            now=now,
            fallback_url=names.status_url,
        ),
        probe_field(t, evidence),
        crowd_field(t, evidence, crowd_window, crowd),
    ]
    return [f for f in found if f is not None]
