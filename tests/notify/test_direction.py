"""Every Arabic line reads in the right order whether the client lays it out left-to-right
(Discord), right-to-left or by first strong character — laid out with the Unicode
Bidirectional Algorithm (python-bidi) — and the lines that matter most still do when a client
drops the isolate characters. English output is left as it was: no direction marks.

The simulate scenarios are checked in ``tests/simulate/test_scenarios.py`` (every message each
scenario posts, in both digit styles), where they already run.
"""

from __future__ import annotations

import string
from pathlib import Path
from dataclasses import replace
from datetime import timedelta

import pytest
from babel.messages.pofile import read_po

from bot.i18n import FSI, PDI, RLM, Translator, bilingual, load_messages, translations
from bot.notify.render import message as message_module
from bot.notify.render import CHOICE_NAMES, COMMAND_DESCRIPTIONS, OPTION_DESCRIPTIONS, render_for, render_event
from bot.notify.render import render_recovery, render_resolved_alert
from bot.discord.tree import send_kwargs
from tests.bidi import drawn, lines_of, misread, misreadings, without_isolates
from tests.notify import samples as s
from tests.notify.test_render import EVENTS, VARIANTS, all_arabic_renderings
from tests.services.test_replies import every_reply

ROOT_POT = Path(__file__).resolve().parents[2] / "locales" / "bot.pot"
DIGITS = ["latn", "arab"]


def samples(t: Translator) -> dict[str, object]:
    """Values a real message carries: Latin names, URLs, channels, roles and codes as plain
    strings; numbers; and the translator's own phrases (times, durations, status words) where
    the code passes those."""
    when = s.PEAK_AT
    return {
        "service": "GitHub", "services": t.list(["GitHub", "إكس"]), "query": "gh-status",
        "url": "https://intranet.example/x", "channel": "<#1234567890>", "role": "<@&987654321>",
        "zone": "Asia/Riyadh", "zone_name": t.zone(), "command": "/isitdown", "prefix": "https://",
        "everyone": "@everyone", "example": "Asia/Riyadh", "http": "HTTP 503", "kind": "TCP",
        "title": "Degraded performance [EU]", "text": "Some users can't log in", "share": t.percent(0.63),
        "usual": 12, "digits": "0123", "window": t.duration(timedelta(minutes=15)), "at": t.gettext("at {time}", time=t.time(when)),
        "time": t.time(when), "date": t.date(when), "start": t.time(s.STARTED), "end": t.time(s.RESOLVED_AT),
        "duration": t.duration(timedelta(hours=4, minutes=9)), "since": t.gettext("since {time}", time=t.time(when)),
        "status": t.gettext("partial outage"), "old": t.gettext("partial outage"), "new": t.gettext("major outage"),
        "severity": t.gettext("disruption"), "sources": t.list([t.gettext("our checks"), t.gettext("user reports")]),
        "result": t.gettext("No answer (timed out)."), "language": t.gettext("Arabic"), "in_language": t.gettext("in Arabic"),
        "permissions": t.list([t.gettext("Send Messages"), t.gettext("Embed Links")]),
        "larger": t.ngettext("{n} hour", "{n} hours", 3), "smaller": t.ngettext("{n} minute", "{n} minutes", 12),
        "seconds": 5.2, "upstream": "Cloudflare", "provider": "Cloudflare", "grade": "C", "acknowledged": 7,
        "reports": t.ngettext("{n} report in the last {window}", "{n} reports in the last {window}", 1240, window=t.duration(timedelta(minutes=15))), "country": "العراق", "countries": t.list(["الولايات المتحدة", "ألمانيا", "الهند"]), "span": t.duration(timedelta(hours=24)), "bucket": t.duration(timedelta(minutes=15)),
        "format": "Statuspage", "reason": t.gettext("no answer in time"), "component": "Actions",
        "tried": t.list([t.gettext("{format} ({reason})", format="Statuspage", reason=t.gettext("answered {http}", http="HTTP 404")),
                         t.gettext("{format} ({reason})", format=t.gettext("RSS/Atom feed"), reason=t.gettext("not in this format"))]),
        "items": t.list(["Actions", "Pages", "API Requests"]), "more": t.ngettext("{n} more", "{n} more", 3),
    }  # fmt: skip


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


# --- the checker has teeth ------------------------------------------------------------------------


def test_the_layout_check_catches_what_the_issue_saw() -> None:
    """The lines of issue 11 as the bot used to write them misread in a left-to-right paragraph."""
    count = "\u2068470\u2069 بلاغًا خلال آخر \u206815\u2069 دقيقة (المعتاد \u206813\u2069)"
    span = "من \u20683:20 م\u2069 إلى \u20686:32 م\u2069"
    command = "استخدم الأمر /isitdown لمعرفة الأدلة"
    assert misread(count) and misread(span) and misread(command)
    assert drawn(count, "L").startswith("470")  # the count drawn far left, read last
    assert misread(f"{RLM}{count}{RLM}") is None and misread(f"{RLM}{span}{RLM}") is None


@pytest.mark.parametrize("digits", DIGITS)
def test_without_the_direction_rule_arabic_messages_misread(digits: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove the one place that orients lines and this suite fails: the check is not vacuous."""
    monkeypatch.setattr(message_module, "orient", lambda text, rtl: text)
    t = translations("ar", tz="Asia/Riyadh", digits=digits)
    lines = [line for m in all_arabic_renderings(t) for _, line in lines_of(m)]
    assert len(misreadings(lines)) > len(lines) // 5


# --- every Arabic rendering -------------------------------------------------------------------------


@pytest.mark.parametrize("digits", DIGITS)
def test_every_arabic_alert_update_recovery_and_answer_reads_the_same_in_every_layout(digits: str) -> None:
    t = translations("ar", tz="Asia/Riyadh", digits=digits)
    messages = all_arabic_renderings(t)
    assert len(messages) > 40
    problems = misreadings(line for m in messages for _, line in lines_of(m))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v != "en"])
@pytest.mark.parametrize("name", EVENTS)
def test_every_golden_reads_the_same_in_every_layout(name: str, variant: str) -> None:
    event, now = EVENTS[name]
    language, tz, digits = VARIANTS[variant]
    messages = render_for(language, render_event, event, s.X, tz=tz, digits=digits, now=now)
    arabic = [m for m in messages if m.lang == "ar"]
    assert arabic
    problems = misreadings(line for m in arabic for _, line in lines_of(m))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("digits", DIGITS)
def test_every_arabic_catalog_message_reads_the_same_once_sent(digits: str) -> None:
    """Every message of the catalog, filled with realistic values and laid out as the reply
    path sends it (``bot.discord.tree.send_kwargs``), covers the command replies and errors."""
    t = translations("ar", tz="Asia/Riyadh", digits=digits)
    with open(ROOT_POT, "rb") as fh:
        template = read_po(fh)
    problems: list[str] = []
    count = 0
    values_of = samples(t)
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, (list, tuple)):
            values = {k: values_of[k] for k in _placeholders(message.id[1]) - {"n"}}
            texts = [t.ngettext(message.id[0], message.id[1], n, **values) for n in (0, 1, 2, 3, 11, 100, 1240)]
        else:
            values = {k: values_of[k] for k in _placeholders(message.id)}
            texts = [t.gettext(message.id, **values)]
        for text in texts:
            sent = send_kwargs(text, lang="ar")["content"]
            count += 1
            problems += misreadings(sent.split("\n"))
    assert count > 150
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("digits", DIGITS)
def test_every_command_reply_reads_the_same_in_every_layout(digits: str) -> None:
    t = translations("ar", tz="Asia/Riyadh", digits=digits)
    texts, messages = every_reply(t)
    assert texts and messages
    lines = [line for text in texts for line in send_kwargs(text, lang="ar")["content"].split("\n")]
    lines += [line for m in messages for _, line in lines_of(m)]
    problems = misreadings(lines)
    assert not problems, "\n".join(problems)


def test_arabic_halves_of_command_descriptions_read_the_same_without_any_marks() -> None:
    """Discord strips direction controls from command and choice names, so the Arabic half must
    read right by itself: no Latin word inside it."""
    msgids = [*COMMAND_DESCRIPTIONS.values(), *OPTION_DESCRIPTIONS.values()]
    msgids += [name for choices in CHOICE_NAMES.values() for name in choices.values()]
    problems = []
    for msgid in msgids:
        arabic = bilingual(msgid).split(" · ")[1]
        if (why := misread(arabic)) is not None:
            problems.append(why)
    assert not problems, "\n".join(problems)


# --- graceful without isolates ----------------------------------------------------------------------


@pytest.mark.parametrize("digits", DIGITS)
def test_the_lines_that_matter_most_read_right_even_without_isolates(digits: str) -> None:
    """Title, status line, report count and recovery duration, for a client that drops U+2066–9."""
    t = translations("ar", tz="Asia/Riyadh", digits=digits)
    alert = render_event(s.ALERT, s.X, t=t, now=s.OPENED_AT)
    update = render_event(replace(s.UPDATE, at=s.ESCALATED_AT), s.X, t=t, now=s.ESCALATED_AT + timedelta(days=1))
    recovery = render_recovery(s.RECOVERY, s.X, t=t, now=s.RESOLVED_AT)
    resolved = render_resolved_alert(s.RECOVERY, s.X, t=t, now=s.RESOLVED_AT)
    crowd = dict(alert.fields)[t.orient(t.gettext("User reports"))]
    peak = dict(recovery.fields)[t.orient(t.gettext("Peak user reports"))]
    lines = [
        alert.title, *alert.description.split("\n")[:1], update.description.split("\n")[0], crowd.split(" · ")[0] + RLM,
        recovery.title, recovery.description, peak, resolved.title, resolved.description,
    ]  # fmt: skip
    problems = misreadings(without_isolates(line) for line in lines)
    assert not problems, "\n".join(problems)


# --- English is left alone ------------------------------------------------------------------------


def test_english_output_carries_no_direction_marks_and_reads_left_to_right() -> None:
    en = translations("en", tz="Asia/Riyadh")
    messages = all_arabic_renderings(en)
    for message in messages:
        for _, line in lines_of(message):
            assert RLM not in line, line
            if FSI not in line:
                assert drawn(line, "L") == line  # nothing to reorder in plain English
    assert send_kwargs("Saved.", lang="en")["content"] == "Saved."


def test_both_messages_orient_only_their_arabic_embed() -> None:
    arabic, english = render_for("both", render_event, s.ALERT, s.X, tz="Asia/Riyadh", digits="arab", now=s.OPENED_AT)
    assert arabic.title.startswith(RLM) and arabic.title.endswith(RLM)
    assert RLM not in english.title + english.description


def test_literal_latin_in_arabic_translations_is_isolated_once_loaded() -> None:
    catalog = load_messages("ar")
    tls = catalog.singular["Secure connection failed (TLS certificate or handshake)."]
    assert f"{FSI}TLS{PDI}" in tls
    send = catalog.singular["Send Messages"]
    assert f"{FSI}Send Messages{PDI}" in send  # two Latin words read as one token
