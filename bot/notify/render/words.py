"""The vocabulary of every message: status words, problem categories, the command UI's
descriptions and choice names, the names of the three kinds of evidence, probe failures and the
colours of each status (pure). Layout lives beside it: ``message`` (the embed), ``phrases``
(shared sentence parts), ``evidence``, ``incident`` and ``answers``.

Values are msgids (``N_``): translate them with ``t.gettext`` where they are shown;
descriptions and choice names pass through ``bot.i18n.bilingual``.
"""

from __future__ import annotations

from functools import lru_cache

from babel import Locale

from bot.detect.model import Confidence
from bot.i18n import N_, Text, Translator
from bot.sources.base import SourceRole
from bot.status import Status

#: status words as they appear inside sentences (English lower case; capitalised at line start)
STATUS_WORDS: dict[Status, str] = {
    Status.OPERATIONAL: N_("operational"),
    Status.DEGRADED: N_("disruption"),
    Status.PARTIAL_OUTAGE: N_("partial outage"),
    Status.MAJOR_OUTAGE: N_("major outage"),
    Status.MAINTENANCE: N_("scheduled maintenance"),
    Status.UNKNOWN: N_("unknown status"),
}
# NOTE: an outage only our own checks see so far (never "widespread")
PROBES_ALONE_MAJOR = N_("outage")


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
    "settings": N_("Language, time zone, digits and country"),
}


OPTION_DESCRIPTIONS: dict[str, str] = {
    "service": N_("A service name or alias"),
    "service_or_url": N_("A service name, alias or web address"),
    "service_or_all": N_("A service name, or all for every service"),
    "service_or_page": N_("A service, all, or a status page address"),
    "component": N_("Only this part of its status page"),
    "channel": N_("Channel for the alerts (default: this one)"),
    "language": N_("Language of the alerts"),
    "role": N_("Role to mention in alerts"),
    "min_severity": N_("Alert only at this severity or worse"),
    "delivery": N_("How alerts arrive: posted by the bot, or followed"),
    "problem": N_("What is not working"),
    "timezone": N_("Time zone, e.g. Asia/Riyadh"),
    "digits": N_("How numbers are written"),
    "country": N_("This server's country (default: from its time zone)"),
}


CHOICE_NAMES: dict[str, dict[str, str]] = {
    "language": {"ar": N_("Arabic"), "en": N_("English"), "both": N_("Both, Arabic first")},
    "min_severity": {
        "degraded": N_("Disruption or worse"),
        "partial_outage": N_("Partial outage or worse"),
        "major_outage": N_("Major outage only"),
    },
    "digits": {"latn": N_("Western digits"), "arab": N_("Eastern Arabic digits")},
    "delivery": {"direct": N_("Direct: the bot posts here"), "follow": N_("Follow our announcement channel")},
    "problem": PROBLEM_LABELS,
}


#: the button under an ``/isitdown`` answer that files a crowd report
DOWN_FOR_ME_TOO = N_("Down for me too")
#: … and its counterpart: the service works for the one who presses it
WORKS_FOR_ME = N_("Works for me")


#: the three independent kinds of evidence, as a sentence names them
ROLE_WORDS: dict[SourceRole, str] = {
    SourceRole.OFFICIAL: N_("the official status page"),
    SourceRole.PROBE: N_("our checks"),
    SourceRole.CROWD: N_("user reports"),
}


#: why a probe failed, by the source's error kind: what a reader can act on, never the code
PROBE_FAILURES: dict[str, str] = {
    "timeout": N_("No answer (timed out)."),
    "dns": N_("The domain name does not resolve (DNS)."),
    "tls": N_("Secure connection failed (TLS certificate or handshake)."),
    "connection": N_("Connection refused or dropped."),
    "redirects": N_("Too many redirects."),
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


def status_word(t: Translator, status: Status, confidence: Confidence | None = None) -> Text:
    """The status in a word. A major outage only our probes see (``Confidence.LIKELY``) is an
    "outage": they find the service not answering, not how many people it fails — "major
    outage" / «انقطاع واسع» (widespread) waits until reports or the official page agree."""
    if status is Status.MAJOR_OUTAGE and confidence is Confidence.LIKELY:
        return t.gettext(PROBES_ALONE_MAJOR)
    return t.gettext(STATUS_WORDS[status])


def problem_label(t: Translator, problem: str) -> Text:
    """The localized name of a crowd-report problem category (unknown keys → "other")."""
    return t.gettext(PROBLEM_LABELS.get(problem, PROBLEM_LABELS["other"]))


@lru_cache(maxsize=1024)
def country_name(code: str, lang: str) -> str:
    """A country's name in ``lang`` (``IQ`` → "Iraq" / «العراق»), as babel (CLDR) writes it."""
    return Locale.parse(lang).territories.get(code, code)
