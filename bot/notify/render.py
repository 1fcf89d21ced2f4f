"""Render what users read — outage alerts, updates, recovery notices, ``/isitdown`` answers —
in one language, as plain data (pure: no discord import; the Discord layer converts).

API (every function takes a ``Translator`` as ``t`` and the current time as ``now``)::

    from bot.i18n import translations
    from bot.notify.render import ServiceNames, render_event, render_for, render_verdict

    names = ServiceNames("x", "X", "إكس", status_url="https://status.x.com")
    t = translations("ar", tz="Asia/Riyadh", digits="arab")

    msg = render_event(event, names, t=t, now=now)   # RenderedMessage (alert/update/recovery/…)
    msg.to_embed_dict()                              # Discord embed JSON → discord.Embed.from_dict
    print(msg.as_text())                             # terminal / simulate / golden files

    # a subscription's language ("ar" | "en" | "both") → one message's embeds, Arabic first:
    embeds = render_for("both", render_event, event, names, tz="Asia/Riyadh", digits="arab", now=now)

* ``render_event`` dispatches on ``event.kind``: OPENED, ESCALATED, DEESCALATED and UPDATED →
  ``render_alert`` (the alert, edited in place as the incident moves); RESOLVED →
  ``render_recovery`` (the reply); UNSTABLE → ``render_unstable``.
  ``render_resolved_alert`` is the original alert edited to show it is over.
* ``render_verdict`` is the ``/isitdown`` answer; pass ``crowd`` to show report counts
  against usual even when they are quiet.
* ``COMMAND_DESCRIPTIONS``, ``OPTION_DESCRIPTIONS``, ``CHOICE_NAMES`` (pass through
  ``bot.i18n.bilingual``) and ``DOWN_FOR_ME_TOO`` (``t.gettext``) are the command UI's words.
* ``render_both``/``render_for`` return a list of ``RenderedMessage`` (one embed each) that
  together fit one Discord message (6,000 characters in all).

Wording rules that depend on the evidence:

* An incident that was worse and now rests on user reports alone (confidence UNCONFIRMED,
  peak or previous status more severe) is "X is having problems — our checks pass now; user
  reports are still above normal", not "possible problems … not confirmed" (``_eased``).
* A latency that rounds to 0 ms reads "under a millisecond".
* The share of a problem ("63% of reporters can't log in") is shown only while reports are above normal
  (the crowd signal above NONE): a share of the everyday background means nothing.
* The recovery notice shows the peak of user reports only when it stood out: at least 5 and
  twice the usual (``_peak_worth_telling``).
* The resolved alert says "was disrupted", "was partially down" or "was down" by the incident's
  peak status (``extra["peak_status"]`` of the RESOLVED event).

Everything from outside (titles, update bodies) goes through ``bot.notify.text.clean``:
quoted, trimmed, mentions neutralised, masked links opened, markdown escaped; every message is
finally fitted to Discord's embed limits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import urlsplit

from bot.detect.crowd import CrowdConfig
from bot.detect.model import Confidence, CrowdLevel, CrowdSignal, EventKind, Evidence, IncidentEvent, Verdict
from bot.i18n import N_, RLM, Nn_, Text, Translator, is_rtl, orient, translations
from bot.notify import text as tx
from bot.sources.base import SourceRole
from bot.status import Status

# --- vocabulary ----------------------------------------------------------------------------------

#: status words as they appear inside sentences (English lower case; capitalised at line start)
STATUS_WORDS: dict[Status, str] = {
    Status.OPERATIONAL: N_("operational"),
    Status.DEGRADED: N_("disruption"),
    Status.PARTIAL_OUTAGE: N_("partial outage"),
    Status.MAJOR_OUTAGE: N_("major outage"),
    Status.MAINTENANCE: N_("scheduled maintenance"),
    Status.UNKNOWN: N_("unknown status"),
}

#: problem categories of crowd reports (``/report`` choices); values are msgids
PROBLEM_LABELS: dict[str, str] = {
    "login": N_("Logging in"),
    "app": N_("The app"),
    "website": N_("The website"),
    "messages": N_("Messages and notifications"),
    "posting": N_("Posting and uploads"),
    "connection": N_("Connection"),
    "other": N_("Something else"),
}

#: what a share of reporters is struggling with: "63% of reporters can't log in"
PROBLEM_SHARES: dict[str, str] = {
    "login": N_("{share} of reporters can't log in"),
    "app": N_("{share} of reporters have problems with the app"),
    "website": N_("{share} of reporters have problems with the website"),
    "messages": N_("{share} of reporters have problems with messages or notifications"),
    "posting": N_("{share} of reporters can't post or upload"),
    "connection": N_("{share} of reporters can't connect"),
    "other": N_("{share} of reporters report other problems"),
}

#: Discord's command UI. Descriptions and choice names go through ``bot.i18n.bilingual``
#: ("English · العربية", ≤ 100 characters, tested); command and choice *values* stay as DESIGN.md
#: fixes them. Use: ``description=bilingual(COMMAND_DESCRIPTIONS["isitdown"])``.
COMMAND_DESCRIPTIONS: dict[str, str] = {
    "isitdown": N_("Check whether a service is down"),
    "status": N_("Current status of the services we watch"),
    "subscribe": N_("Post outage alerts for a service in a channel"),
    "unsubscribe": N_("Stop outage alerts for a service in a channel"),
    "subscriptions": N_("List this server's alert subscriptions"),
    "report": N_("Report that a service is down for you"),
    "settings": N_("Language, time zone and digits for this server"),
}
OPTION_DESCRIPTIONS: dict[str, str] = {
    "service": N_("A service name or alias"),
    "service_or_url": N_("A service name, alias or web address"),
    "service_or_all": N_("A service name, or all for every service"),
    "channel": N_("Channel for the alerts (default: this one)"),
    "language": N_("Language of the alerts"),
    "role": N_("Role to mention in alerts"),
    "min_severity": N_("Alert only at this severity or worse"),
    "problem": N_("What is not working"),
    "timezone": N_("Time zone, e.g. Asia/Riyadh"),
    "digits": N_("How numbers are written"),
}
CHOICE_NAMES: dict[str, dict[str, str]] = {
    "language": {"ar": N_("Arabic"), "en": N_("English"), "both": N_("Both, Arabic first")},
    "min_severity": {
        "degraded": N_("Disruption or worse"),
        "partial_outage": N_("Partial outage or worse"),
        "major_outage": N_("Major outage only"),
    },
    "digits": {"latn": N_("Western digits"), "arab": N_("Eastern Arabic digits")},
    "problem": PROBLEM_LABELS,
}
#: the button under an ``/isitdown`` answer that files a crowd report
DOWN_FOR_ME_TOO = N_("Down for me too")

#: the three independent kinds of evidence, as a sentence names them
ROLE_WORDS: dict[SourceRole, str] = {
    SourceRole.OFFICIAL: N_("the official status page"),
    SourceRole.PROBE: N_("our checks"),
    SourceRole.CROWD: N_("user reports"),
}

COLORS: dict[Status, int] = {
    Status.OPERATIONAL: 0x2ECC71,
    Status.DEGRADED: 0xF1C40F,
    Status.PARTIAL_OUTAGE: 0xE67E22,
    Status.MAJOR_OUTAGE: 0xE74C3C,
    Status.MAINTENANCE: 0x3498DB,
    Status.UNKNOWN: 0x95A5A6,
}
UNSTABLE_COLOR = 0x9B59B6

#: how much outside text we show before trimming (the final fit enforces Discord's limits)
OFFICIAL_TITLE_BUDGET = 200
OFFICIAL_UPDATE_BUDGET = 700
DEFAULT_CROWD_WINDOW = timedelta(minutes=15)
#: a recovery notice shows the peak of user reports only from this many, and this many times
#: the usual: the crowd detector's "possible problems" by count (see ``_peak_worth_telling``)
PEAK_MIN_REPORTS = CrowdConfig().possible_min_count
PEAK_MIN_MULTIPLE = CrowdConfig().possible_multiple


# --- data ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceNames:
    """What rendering needs to know about a service (from the catalog)."""

    id: str
    name: str
    name_ar: str | None = None
    status_url: str | None = None

    def for_locale(self, t: Translator) -> str:
        return (self.name_ar or self.name) if t.lang == "ar" else self.name


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """One embed's worth of text in one language; the Discord layer turns it into an Embed."""

    title: str
    description: str
    color: int
    fields: tuple[tuple[str, str], ...] = ()
    footer: str = ""
    url: str | None = None
    lang: str = "en"

    def __post_init__(self) -> None:
        """Every line of a right-to-left message is oriented here, the one place all embeds
        pass through (see ``bot.i18n`` on direction)."""
        if is_rtl(self.lang):
            set_ = object.__setattr__
            set_(self, "title", orient(self.title, True))
            set_(self, "description", orient(self.description, True))
            set_(self, "footer", orient(self.footer, True))
            set_(self, "fields", tuple((orient(n, True), orient(v, True)) for n, v in self.fields))

    def size(self) -> int:
        """Characters as Discord counts them towards the 6,000 limit."""
        parts = [self.title, self.description, self.footer, *(s for f in self.fields for s in f)]
        return sum(tx.utf16_len(p) for p in parts)

    def to_embed_dict(self) -> dict[str, Any]:
        """Discord's embed JSON (``discord.Embed.from_dict`` accepts it)."""
        data: dict[str, Any] = {"type": "rich", "title": self.title, "description": self.description, "color": self.color}
        if self.url:
            data["url"] = self.url
        if self.fields:
            data["fields"] = [{"name": n, "value": v, "inline": False} for n, v in self.fields]
        if self.footer:
            data["footer"] = {"text": self.footer}
        return data

    def as_text(self) -> str:
        """A plain-text rendering for terminals, logs and golden files."""
        lines = [f"# {self.title}"]
        if self.url:
            lines.append(f"<{self.url}>")
        lines += ["", self.description]
        for name, value in self.fields:
            lines += ["", f"## {name}", value]
        if self.footer:
            lines += ["", f"-- {self.footer}"]
        return "\n".join(lines)

    def fit(self, total: int = tx.TOTAL_MAX) -> "RenderedMessage":
        """This message within Discord's limits: each part trimmed, then the description and
        the last fields shortened until the whole fits ``total``."""
        cut = self._trim
        fields = tuple((cut(n, tx.FIELD_NAME_MAX), cut(v, tx.FIELD_VALUE_MAX)) for n, v in self.fields[: tx.FIELDS_MAX])
        msg = replace(
            self,
            title=cut(self.title, tx.TITLE_MAX),
            description=cut(self.description, tx.DESCRIPTION_MAX),
            footer=cut(self.footer, tx.FOOTER_MAX),
            fields=fields,
        )
        while msg.size() > total:
            excess = msg.size() - total
            longest = max(range(len(msg.fields)), key=lambda i: tx.utf16_len(msg.fields[i][1]), default=None)
            if longest is not None and tx.utf16_len(msg.fields[longest][1]) > 64:
                name, value = msg.fields[longest]
                value = cut(value, max(64, tx.utf16_len(value) - excess))
                msg = replace(msg, fields=msg.fields[:longest] + ((name, value),) + msg.fields[longest + 1 :])
            elif tx.utf16_len(msg.description) > 64:
                msg = replace(msg, description=cut(msg.description, max(64, tx.utf16_len(msg.description) - excess)))
            elif msg.fields:
                msg = replace(msg, fields=msg.fields[:-1])
            else:
                msg = replace(msg, footer="", description=cut(msg.description, max(1, tx.utf16_len(msg.description) - excess)))
        return msg

    def _trim(self, text: str, limit: int) -> str:
        """``text`` trimmed so that, oriented again for this message's direction, it still fits
        ``limit`` (the direction marks count towards Discord's limits too)."""
        rtl = is_rtl(self.lang)
        plain = text.replace(RLM, "") if rtl else text
        budget = limit
        while True:
            cut = tx.trim(plain, budget)
            over = tx.utf16_len(orient(cut, rtl)) - limit
            if over <= 0 or budget <= 1:
                return cut
            budget -= over


def as_text(messages: Sequence[RenderedMessage]) -> str:
    """Several embeds of one message as text (``both``: Arabic, then English)."""
    return "\n\n====\n\n".join(m.as_text() for m in messages)


# --- helpers -------------------------------------------------------------------------------------


def _cap(text: str) -> str:
    """Capitalise a line's first letter (English labels are lower case inside sentences)."""
    return text[:1].upper() + text[1:] if text[:1].islower() else text


def _service(names: ServiceNames, t: Translator) -> str:
    return tx.clean_line(names.for_locale(t))


def status_word(t: Translator, status: Status) -> Text:
    return t.gettext(STATUS_WORDS[status])


def problem_label(t: Translator, problem: str) -> Text:
    """The localized name of a crowd-report problem category (unknown keys → "other")."""
    return t.gettext(PROBLEM_LABELS.get(problem, PROBLEM_LABELS["other"]))


def quote(t: Translator, outside: str, budget: int) -> Text:
    """Outside text cleaned, trimmed to ``budget`` and put in the locale's quotation marks."""
    # NOTE: quotation marks around text from a status page; Arabic uses «…»
    return t.gettext("“{text}”", text=tx.trim(tx.clean(outside), budget))


def _at(t: Translator, dt: datetime, now: datetime) -> Text:
    """"at 3:51 PM" (today) or "on Mar 5 at 3:51 PM"."""
    if t.when(dt, now) == t.time(dt):
        return t.gettext("at {time}", time=t.time(dt))
    return t.gettext("on {date} at {time}", date=t.date(dt), time=t.time(dt))


def since_phrase(t: Translator, dt: datetime, now: datetime) -> Text:
    """"since 3:51 PM" (today) or "since Mar 5 at 3:51 PM"."""
    if t.when(dt, now) == t.time(dt):
        return t.gettext("since {time}", time=t.time(dt))
    return t.gettext("since {date} at {time}", date=t.date(dt), time=t.time(dt))


def _link(url: str | None) -> str | None:
    """Only plain http(s) URLs become links (no spaces or brackets that break markdown)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c in url for c in " ()<>[]\n\"'"):
        return None
    return url


def _link_line(t: Translator, url: str) -> str:
    """A markdown link to the official page (the URL is hidden, so it needs no isolate)."""
    label = t.gettext("Open the status page")
    return f"[{label}]({url})"


def _footer(t: Translator) -> Text:
    return t.gettext("All times: {zone}", zone=t.zone())


def _color(status: Status) -> int:
    return COLORS.get(status, COLORS[Status.UNKNOWN])


def _by_role(evidence: Iterable[Evidence], role: SourceRole) -> list[Evidence]:
    return [e for e in evidence if e.role is role]


def _title(
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


def _state_line(t: Translator, status: Status, since: datetime | None, now: datetime) -> Text:
    word = status_word(t, status)
    if since is None:
        return Text(f"**{_cap(word)}**")
    return t.gettext("**{status}** {since}.", status=Text(_cap(word)), since=since_phrase(t, since, now))


def _eased(event: IncidentEvent) -> bool:
    """An incident that was worse (confirmed by the page or our checks) and now rests on user
    reports alone: its words are "still above normal", not "possible problems"."""
    if event.confidence is not Confidence.UNCONFIRMED or not event.status.is_outage:
        return False
    worst = _status_or_none(event.extra.get("peak_status")) or event.previous_status
    return worst is not None and (worst.severity or 0) > (event.status.severity or 0)


def _status_or_none(value: str | None) -> Status | None:
    try:
        return Status(value) if value else None
    except ValueError:
        return None


def _confidence_line(
    t: Translator, status: Status, confidence: Confidence | None, evidence: Sequence[Evidence], *, eased: bool = False
) -> Text | None:
    """Which independent sources see the problem (nothing to say for maintenance)."""
    roles = [r for r in (SourceRole.OFFICIAL, SourceRole.PROBE, SourceRole.CROWD) if any(e.role is r and e.status.is_outage for e in evidence)]
    if confidence is None or not roles or not status.is_outage:
        return None
    if eased:
        probes = _by_role(evidence, SourceRole.PROBE)
        if probes and all(p.status is Status.OPERATIONAL for p in probes):
            return t.gettext("Our checks find nothing wrong now, but user reports are still above normal.")
        return t.gettext("User reports are still above normal.")
    sources = t.list(t.gettext(ROLE_WORDS[r]) for r in roles)
    if confidence is Confidence.CONFIRMED:
        return t.gettext("Confirmed by {sources}.", sources=sources)
    if confidence is Confidence.LIKELY:
        return t.gettext("Probably real: so far only {sources} see it.", sources=sources)
    return t.gettext("Not confirmed: so far only {sources} point to it.", sources=sources)


# --- evidence fields -----------------------------------------------------------------------------


def _official_field(
    t: Translator,
    evidence: Sequence[Evidence],
    *,
    unacknowledged: bool,
    unacknowledged_since: datetime | None,
    now: datetime,
    fallback_url: str | None,
) -> tuple[str, str] | None:
    official = _by_role(evidence, SourceRole.OFFICIAL)
    url = _link(next((e.official_url for e in official if e.official_url), None) or fallback_url)
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
                        status=Text(_cap(status_word(t, e.status))),
                        title=quote(t, tx.clean_line(e.official_title), OFFICIAL_TITLE_BUDGET),
                    )
                )
            else:
                lines.append(_cap(status_word(t, e.status)))
    if not lines and url is None:
        return None
    if url is not None:
        lines.append(_link_line(t, url))
    return t.gettext("Official status page"), "\n".join(dict.fromkeys(lines))


#: why a probe failed, by the source's error kind: what a reader can act on, never the code
PROBE_FAILURES: dict[str, str] = {
    "timeout": N_("No answer (timed out)."),
    "dns": N_("The domain name does not resolve (DNS)."),
    "tls": N_("Secure connection failed (TLS certificate or handshake)."),
    "connection": N_("Connection refused or dropped."),
    "redirects": N_("Too many redirects."),
}


def _http(code: int) -> str:
    """A status code as the one left-to-right token readers know ("HTTP 503"), Latin digits
    in every digit style: it is an identifier, not a quantity."""
    return f"HTTP {code}"


def _ms(t: Translator, ms: float) -> Text:
    """A latency with its unit ("843 ms"); under half a millisecond reads "under a
    millisecond", never "0 ms"."""
    if round(ms) < 1:
        return t.gettext("under a millisecond")
    return t.ngettext("{n} ms", "{n} ms", round(ms))


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


def _probe_field(t: Translator, evidence: Sequence[Evidence]) -> tuple[str, str] | None:
    probes = _by_role(evidence, SourceRole.PROBE)
    if not probes:
        return None
    lines = []
    for p in probes:
        line = probe_line(t, p)
        if len(probes) > 1 and p.source_kind != "http":  # HTTP lines name HTTP already
            line = t.gettext("{kind}: {result}", kind=p.source_kind.upper(), result=line)
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
) -> Text:
    """"1,240 reports in the last 15 minutes (usually 12) · 63% of reporters can't log in".

    The share of a problem is shown only when the reports are above usual (``elevated``: the
    crowd signal is above NONE; by default, more reports than usual): a share of the everyday
    background says nothing about an outage."""
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
    return Text(" · ".join(parts))


def _crowd_field(t: Translator, evidence: Sequence[Evidence], window: timedelta, crowd: CrowdSignal | None = None) -> tuple[str, str] | None:
    if crowd is not None:
        value = crowd_line(
            t, crowd.recent, crowd.usual, crowd.window, crowd.top_problem, crowd.top_problem_share,
            elevated=crowd.level is not CrowdLevel.NONE,
        )  # fmt: skip
        return t.gettext("User reports"), value
    for e in _by_role(evidence, SourceRole.CROWD):
        if e.reports is not None:
            value = crowd_line(
                t, e.reports, e.usual, window, e.top_problem, e.top_problem_share, elevated=e.status.is_outage
            )
            return t.gettext("User reports"), value
    return None


def _update_field(t: Translator, update: str | None) -> tuple[str, str] | None:
    if not update or not update.strip():
        return None
    return t.gettext("Latest official update"), quote(t, update, OFFICIAL_UPDATE_BUDGET)


def _evidence_fields(
    t: Translator,
    evidence: Sequence[Evidence],
    names: ServiceNames,
    *,
    now: datetime,
    unacknowledged: bool = False,
    unacknowledged_since: datetime | None = None,
    crowd_window: timedelta = DEFAULT_CROWD_WINDOW,
    crowd: CrowdSignal | None = None,
) -> list[tuple[str, str]]:
    found = [
        _official_field(
            t,
            evidence,
            unacknowledged=unacknowledged,
            unacknowledged_since=unacknowledged_since,
            now=now,
            fallback_url=names.status_url,
        ),
        _probe_field(t, evidence),
        _crowd_field(t, evidence, crowd_window, crowd),
    ]
    return [f for f in found if f is not None]


def _status_url(evidence: Sequence[Evidence], names: ServiceNames) -> str | None:
    for e in _by_role(evidence, SourceRole.OFFICIAL):
        if _link(e.official_url):
            return e.official_url
    return _link(names.status_url)


# --- messages ------------------------------------------------------------------------------------


def render_alert(
    event: IncidentEvent,
    names: ServiceNames,
    *,
    t: Translator,
    now: datetime,
    crowd_window: timedelta = DEFAULT_CROWD_WINDOW,
) -> RenderedMessage:
    """The outage alert (OPENED), and the same message as the incident escalates, eases or the
    official page posts an update (ESCALATED, DEESCALATED, UPDATED)."""
    service = _service(names, t)
    lines: list[str] = [_state_line(t, event.status, event.started_at, now)]
    eased = _eased(event)
    confidence = _confidence_line(t, event.status, event.confidence, event.evidence, eased=eased)
    if confidence:
        lines.append(confidence)
    change = _change_line(t, event, now)
    if change:
        lines.append(change)
    fields = _evidence_fields(
        t,
        event.evidence,
        names,
        now=now,
        unacknowledged=event.unacknowledged,
        unacknowledged_since=event.unacknowledged_since,
        crowd_window=crowd_window,
    )
    update = _update_field(t, event.official_update)
    if update:
        fields.append(update)
    return RenderedMessage(
        title=_title(t, service, event.status, event.confidence, eased=eased),
        description="\n".join(lines),
        color=_color(event.status),
        fields=tuple(fields),
        footer=_footer(t),
        url=_status_url(event.evidence, names),
        lang=t.lang,
    ).fit()


def _change_line(t: Translator, event: IncidentEvent, now: datetime) -> Text | None:
    at = _at(t, event.at, now)
    old = status_word(t, event.previous_status) if event.previous_status else None
    new = status_word(t, event.status)
    if event.kind is EventKind.ESCALATED and old:
        return t.gettext("Worsened from {old} to {new} {at}.", old=old, new=new, at=at)
    if event.kind is EventKind.DEESCALATED and old:
        return t.gettext("Eased from {old} to {new} {at}.", old=old, new=new, at=at)
    if event.kind in (EventKind.ESCALATED, EventKind.DEESCALATED, EventKind.UPDATED):
        return t.gettext("Alert updated {at}.", at=at)
    return None


def render_recovery(
    event: IncidentEvent,
    names: ServiceNames,
    *,
    t: Translator,
    now: datetime,
    crowd_window: timedelta = DEFAULT_CROWD_WINDOW,
) -> RenderedMessage:
    """The recovery notice (RESOLVED), posted as a reply to the alert. The peak of user
    reports is a count per ``crowd_window``, and says so."""
    service = _service(names, t)
    resolved_at = event.resolved_at or event.at
    duration = t.span(event.started_at, resolved_at)
    if _was_disruption(event):
        description = t.gettext("{service} is working normally again. The disruption lasted {duration}.", service=service, duration=duration)
    else:
        description = t.gettext("{service} is working again. The outage lasted {duration}.", service=service, duration=duration)
    fields: list[tuple[str, str]] = [
        (t.gettext("When"), t.gettext("From {start} to {end}", start=t.when(event.started_at, now), end=t.when(resolved_at, now)))
    ]
    if _peak_worth_telling(event):
        window = t.duration(crowd_window)
        value = t.ngettext("{n} report in {window}", "{n} reports in {window}", event.report_peak, window=window)
        if event.report_peak_at is not None:
            value = t.ngettext(
                "{n} report in {window}, {at}", "{n} reports in {window}, {at}",
                event.report_peak, window=window, at=_at(t, event.report_peak_at, now),
            )  # fmt: skip
        fields.append((t.gettext("Peak user reports"), value))
    update = _update_field(t, event.official_update)
    if update:
        fields.append(update)
    url = _status_url(event.evidence, names)
    if url:
        fields.append((t.gettext("Official status page"), _link_line(t, url)))
    return RenderedMessage(
        title=t.gettext("{service} is back", service=service),
        description=description,
        color=COLORS[Status.OPERATIONAL],
        fields=tuple(fields),
        footer=_footer(t),
        url=url,
        lang=t.lang,
    ).fit()


def _peak_status(event: IncidentEvent) -> Status | None:
    """The worst status of a resolved incident (``extra["peak_status"]``, else the last one)."""
    return _status_or_none(event.extra.get("peak_status")) or event.previous_status


def _was_disruption(event: IncidentEvent) -> bool:
    """True when the incident never went beyond degraded (so "outage" would overstate it)."""
    return _peak_status(event) is Status.DEGRADED


def _peak_worth_telling(event: IncidentEvent) -> bool:
    """Whether the recovery notice shows the incident's peak of user reports.

    Only a peak that stood out from the everyday background is news: it must reach what the
    crowd detector needs for "possible problems" by count — at least ``PEAK_MIN_REPORTS`` (5)
    and ``PEAK_MIN_MULTIPLE`` (2) times the usual. The usual is the crowd evidence's at
    recovery, standing in for the one at the peak (the baseline moves slowly next to an
    incident); without crowd evidence only the minimum applies. So a probe-found outage
    during which a handful of people reported as usual shows no "peak" of that handful."""
    if not event.report_peak:
        return False
    usual = max((e.usual for e in _by_role(event.evidence, SourceRole.CROWD) if e.usual is not None), default=0.0)
    return event.report_peak >= max(PEAK_MIN_REPORTS, PEAK_MIN_MULTIPLE * usual)


def render_resolved_alert(
    event: IncidentEvent,
    names: ServiceNames,
    *,
    t: Translator,
    now: datetime,
) -> RenderedMessage:
    """The original alert, edited once the incident is resolved (the reply tells the rest)."""
    service = _service(names, t)
    resolved_at = event.resolved_at or event.at
    peak = _peak_status(event)
    if peak is Status.DEGRADED:
        title = t.gettext("Resolved: {service} was disrupted", service=service)
    elif peak is Status.PARTIAL_OUTAGE:
        title = t.gettext("Resolved: {service} was partially down", service=service)
    else:
        title = t.gettext("Resolved: {service} was down", service=service)
    return RenderedMessage(
        title=title,
        description=t.gettext(
            "Lasted {duration}, from {start} to {end}.",
            duration=t.span(event.started_at, resolved_at),
            start=t.when(event.started_at, now),
            end=t.when(resolved_at, now),
        ),
        color=COLORS[Status.OPERATIONAL],
        footer=_footer(t),
        url=_status_url(event.evidence, names),
        lang=t.lang,
    ).fit()


def render_unstable(
    event: IncidentEvent,
    names: ServiceNames,
    *,
    t: Translator,
    now: datetime,
    crowd_window: timedelta = DEFAULT_CROWD_WINDOW,
) -> RenderedMessage:
    """The one notice for a flapping service (then quiet until it settles)."""
    service = _service(names, t)
    description = "\n".join(
        [
            t.gettext("{service} keeps going down and coming back.", service=service),
            t.gettext("We will post again when it settles, or if it goes down for good."),
        ]
    )
    fields = _evidence_fields(
        t,
        event.evidence,
        names,
        now=now,
        unacknowledged=event.unacknowledged,
        unacknowledged_since=event.unacknowledged_since,
        crowd_window=crowd_window,
    )
    return RenderedMessage(
        title=t.gettext("{service} is unstable", service=service),
        description=description,
        color=UNSTABLE_COLOR,
        fields=tuple(fields),
        footer=_footer(t),
        url=_status_url(event.evidence, names),
        lang=t.lang,
    ).fit()


def render_event(event: IncidentEvent, names: ServiceNames, *, t: Translator, now: datetime, **kw: Any) -> RenderedMessage:
    """The message for any incident event (see the module docstring)."""
    if event.kind is EventKind.RESOLVED:
        return render_recovery(event, names, t=t, now=now, **kw)
    if event.kind is EventKind.UNSTABLE:
        return render_unstable(event, names, t=t, now=now, **kw)
    return render_alert(event, names, t=t, now=now, **kw)


def render_verdict(
    verdict: Verdict,
    names: ServiceNames,
    *,
    t: Translator,
    now: datetime,
    crowd: CrowdSignal | None = None,
    crowd_window: timedelta = DEFAULT_CROWD_WINDOW,
) -> RenderedMessage:
    """The ``/isitdown`` answer: the verdict, then the evidence from each source."""
    service = _service(names, t)
    status = verdict.status
    lines: list[str] = []
    if status is Status.OPERATIONAL:
        lines.append(t.gettext("No problems right now."))
    elif status is Status.UNKNOWN:
        lines.append(t.gettext("None of our sources could be read just now."))
    else:
        lines.append(_state_line(t, status, verdict.since, now))
        confidence = _confidence_line(t, status, verdict.confidence, verdict.evidence)
        if confidence:
            lines.append(confidence)
    lines.append(t.gettext("Checked {at}.", at=_at(t, verdict.at, now)))
    fields = _evidence_fields(
        t,
        verdict.evidence,
        names,
        now=now,
        unacknowledged=verdict.unacknowledged,
        unacknowledged_since=verdict.unacknowledged_since,
        crowd_window=crowd_window,
        crowd=crowd,
    )
    update = next((e.official_update for e in _by_role(verdict.evidence, SourceRole.OFFICIAL) if e.official_update), None)
    if status.is_outage or status is Status.MAINTENANCE:
        extra = _update_field(t, update)
        if extra:
            fields.append(extra)
    return RenderedMessage(
        title=_title(t, service, status, verdict.confidence),
        description="\n".join(lines),
        color=_color(status),
        fields=tuple(fields),
        footer=_footer(t),
        url=_status_url(verdict.evidence, names),
        lang=t.lang,
    ).fit()


# --- several languages in one message ------------------------------------------------------------

RenderFn = Callable[..., RenderedMessage]


def render_both(render: RenderFn, *args: Any, ar: Translator, en: Translator, **kwargs: Any) -> list[RenderedMessage]:
    """Arabic then English renderings of the same thing, fitted to share one message."""
    messages = [render(*args, t=ar, **kwargs), render(*args, t=en, **kwargs)]
    if sum(m.size() for m in messages) <= tx.TOTAL_MAX:
        return messages
    share = tx.TOTAL_MAX // len(messages)
    return [m.fit(total=share) for m in messages]


def render_for(language: str, render: RenderFn, *args: Any, tz: str = "UTC", digits: str = "latn", **kwargs: Any) -> list[RenderedMessage]:
    """A subscription's language (``ar``, ``en`` or ``both``) → the embeds of one message."""
    if language == "both":
        return render_both(render, *args, ar=translations("ar", tz, digits), en=translations("en", tz, digits), **kwargs)  # type: ignore[arg-type]
    return [render(*args, t=translations(language, tz, digits), **kwargs)]  # type: ignore[arg-type]
