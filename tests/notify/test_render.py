"""bot/notify/render.py: golden renderings, direction of every Arabic interpolation, Discord's
limits, outside text made safe, the /isitdown answer for each status."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.detect.model import PREVIOUS_CONFIDENCE, Confidence, CrowdLevel, CrowdSignal, EventKind, Evidence, Verdict
from bot.i18n import FSI, PDI, RLM, Text, Translator, isolate, translations
from bot.i18n import has_ltr_or_digits
from bot.notify import text as tx
from bot.notify.render.group import render_group_alert, render_group_pointer, render_group_recovery
from bot.detect.track_record import Grade, TrackRecord
from bot.notify.render import (
    COLORS,
    PROBLEM_LABELS,
    RenderedMessage,
    ServiceNames,
    as_text,
    crowd_line,
    problem_label,
    render_alert,
    render_both,
    render_event,
    render_for,
    render_recovery,
    render_resolved_alert,
    render_unstable,
    render_verdict,
)
from bot.sources.base import SourceRole
from bot.status import Status
from tests.notify import samples as s

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def bare(text: str) -> str:
    """``text`` without its direction controls (isolates, right-to-left marks): the words."""
    return text.replace(FSI, "").replace(PDI, "").replace(RLM, "")

UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"

HTTP_OK_LOOPBACK = Evidence(SourceRole.PROBE, "http", Status.OPERATIONAL, http_status=200, latency_ms=0.2)
#: hours into a confirmed outage our checks pass again while user reports stay high
EASED = replace(
    s.ALERT,
    kind=EventKind.DEESCALATED,
    at=s.RESOLVED_AT,
    status=Status.DEGRADED,
    confidence=Confidence.UNCONFIRMED,
    evidence=(s.OFFICIAL_OK, HTTP_OK_LOOPBACK, replace(s.CROWD, reports=470, usual=13.0, top_problem_share=0.51)),
    previous_status=Status.MAJOR_OUTAGE,
)

EVENTS = {
    "alert": (s.ALERT, s.OPENED_AT),
    "update": (s.UPDATE, s.ESCALATED_AT),
    "recovery": (s.RECOVERY, s.RESOLVED_AT),
    "eased": (EASED, s.RESOLVED_AT),
}
VARIANTS = {
    "en": ("en", "UTC", "latn"),
    "ar-latn": ("ar", "Asia/Riyadh", "latn"),
    "ar-arab": ("ar", "Asia/Riyadh", "arab"),
    "both-arab": ("both", "Asia/Riyadh", "arab"),
}


def rendered(name: str, variant: str) -> str:
    event, now = EVENTS[name]
    language, tz, digits = VARIANTS[variant]
    return as_text(render_for(language, render_event, event, s.X, tz=tz, digits=digits, now=now)) + "\n"


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", EVENTS)
def test_golden(name: str, variant: str) -> None:
    """Compared exactly with tests/golden/<name>.<variant>.txt (UPDATE_GOLDEN=1 rewrites them;
    read every changed file before committing it)."""
    path = GOLDEN / f"{name}.{variant}.txt"
    text = rendered(name, variant)
    if UPDATE_GOLDEN and (not path.exists() or path.read_text(encoding="utf-8") != text):
        path.write_text(text, encoding="utf-8")
        pytest.fail(f"rewrote {path.name}: read its diff, then run again without UPDATE_GOLDEN")  # never a silent pass
    assert path.read_text(encoding="utf-8") == text


def test_golden_story_in_plain_words() -> None:
    """The hand-checked phrases of the issue, whatever the layout around them."""
    ar = bare(rendered("alert", "ar-arab"))
    assert "انقطاع في خدمة إكس" in ar
    assert "١٬٢٤٠ بلاغًا خلال آخر ١٥ دقيقة (المعدّل المعتاد ١٢) · ٦٣٪ من المبلِّغين لا يستطيعون تسجيل الدخول" in ar
    # the page never acknowledged it: "still says … has not mentioned it although 25 minutes passed"
    assert "ما زالت تقول إن جميع الأنظمة تعمل بشكل طبيعي، ولم تذكر المشكلة رغم مرور ٢٥ دقيقة على رصدنا لها." in ar
    assert "خطأ HTTP 503 بعد ٨٤٣ ميلي ثانية." in ar  # the status code a left-to-right token, Latin digits
    en = bare(rendered("alert", "en"))
    assert "1,240 reports in the last 15 minutes (usually 12) · 63% of reporters can't log in" in en
    assert "Still says all systems are operational: no word of the problem 25 minutes after we spotted it." in en
    recovery_ar = bare(rendered("recovery", "ar-arab"))
    assert "عودة خدمة إكس" in recovery_ar and "٣ ساعات و١٢ دقيقة" in recovery_ar
    assert "٢٥٬٨٠٠ بلاغ خلال ١٥ دقيقة، عند الساعة ٣:٥١ م" in recovery_ar
    recovery_en = bare(rendered("recovery", "en"))
    assert "3 hours 12 minutes" in recovery_en and "25,800 reports in 15 minutes, at 12:51\u202fPM" in recovery_en


def test_both_is_arabic_first_in_one_message() -> None:
    messages = render_for("both", render_event, s.ALERT, s.X, tz="Asia/Riyadh", digits="arab", now=s.OPENED_AT)
    assert [m.lang for m in messages] == ["ar", "en"]
    assert sum(m.size() for m in messages) <= tx.TOTAL_MAX


def test_render_for_single_languages() -> None:
    assert [m.lang for m in render_for("ar", render_event, s.ALERT, s.X, now=s.OPENED_AT)] == ["ar"]
    assert [m.lang for m in render_for("en", render_event, s.ALERT, s.X, now=s.OPENED_AT)] == ["en"]


# --- direction -----------------------------------------------------------------------------------

LATIN = ServiceNames("github", "GitHub", None, status_url="https://www.githubstatus.com")


def all_arabic_renderings(t: Translator) -> list[RenderedMessage]:
    """Every kind of message, with Latin names, URLs, codes and numbers in them."""
    out = []
    for names in (s.X, LATIN):
        out.append(render_alert(s.ALERT, names, t=t, now=s.OPENED_AT))
        out.append(render_alert(s.UPDATE, names, t=t, now=s.ESCALATED_AT))
        out.append(render_alert(replace(s.UPDATE, kind=EventKind.DEESCALATED, status=Status.PARTIAL_OUTAGE, previous_status=Status.MAJOR_OUTAGE), names, t=t, now=s.ESCALATED_AT))
        out.append(render_alert(replace(s.UPDATE, kind=EventKind.UPDATED), names, t=t, now=s.ESCALATED_AT + timedelta(days=1)))
        out.append(render_recovery(s.RECOVERY, names, t=t, now=s.RESOLVED_AT))
        out.append(render_recovery(replace(s.RECOVERY, extra={"peak_status": "degraded"}), names, t=t, now=s.RESOLVED_AT + timedelta(days=2)))
        out.append(render_resolved_alert(s.RECOVERY, names, t=t, now=s.RESOLVED_AT))
        for peak in ("degraded", "partial_outage"):
            out.append(render_resolved_alert(replace(s.RECOVERY, extra={"peak_status": peak}), names, t=t, now=s.RESOLVED_AT))
        out.append(render_alert(EASED, names, t=t, now=s.RESOLVED_AT))
        out.append(render_alert(replace(EASED, evidence=(s.OFFICIAL_OK, s.CROWD)), names, t=t, now=s.RESOLVED_AT))
        out.append(render_unstable(replace(s.ALERT, kind=EventKind.UNSTABLE), names, t=t, now=s.OPENED_AT))
        for verdict in VERDICTS.values():
            out.append(render_verdict(verdict, names, t=t, now=s.RESOLVED_AT))
        out.append(render_verdict(s.VERDICT_OK, names, t=t, now=s.RESOLVED_AT, crowd=s.QUIET_CROWD))
        for extra in s.INTERNET_EXTRAS:
            out.append(render_alert(replace(s.ALERT, extra=extra), names, t=t, now=s.OPENED_AT))
        out.append(render_verdict(s.VERDICT_OK, names, t=t, now=s.RESOLVED_AT, national=s.IQ_OUTAGE))
    graded = TrackRecord(incidents=9, acknowledged=7, average=timedelta(minutes=40), typical=timedelta(minutes=12),
                         recent_never=1, recent=5, grade=Grade.C)  # fmt: skip
    out.append(render_verdict(s.VERDICT_OK, s.X, t=t, now=s.RESOLVED_AT, record=graded))
    for view in (s.GROUP_OPEN, s.GROUP_RECOVERING, s.GROUP_OVER):
        out.append(render_group_alert(view, t=t, now=s.ESCALATED_AT))
        out.append(render_group_alert(view, t=t, now=s.RESOLVED_AT + timedelta(days=1)))
    out.append(render_group_recovery(s.GROUP_OVER, t=t, now=s.RESOLVED_AT))
    out.append(render_alert(replace(s.ALERT, evidence=(replace(s.CROWD, works=300),)), names, t=t, now=s.OPENED_AT))
    out.append(render_group_pointer(s.DISCORD, s.CLOUDFLARE, "https://discord.com/channels/1/2/3", t=t, now=s.ESCALATED_AT))
    crowded = replace(s.GROUP_OPEN, members=tuple(replace(m, crowd=s.CROWD) for m in s.GROUP_OPEN.members), internet=s.NATIONAL_IQ)
    out.append(render_group_alert(crowded, t=t, now=s.ESCALATED_AT))
    for loopback in SUB_MS_PROBES:
        out.append(render_alert(replace(s.ALERT, evidence=(loopback,)), LATIN, t=t, now=s.OPENED_AT))
    for kind in ("timeout", "dns", "tls", "connection", "error_page", "weird"):
        probe = Evidence(SourceRole.PROBE, "http", Status.MAJOR_OUTAGE, http_status=502, latency_ms=12.0, error_kind=kind)
        out.append(render_alert(replace(s.ALERT, evidence=(probe, replace(probe, source_kind="dns"))), LATIN, t=t, now=s.OPENED_AT))
    return out


@pytest.mark.parametrize("digits", ["latn", "arab"])
def test_every_arabic_interpolation_is_isolated(digits: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Translator, dict[str, Any], str]] = []
    original = Translator._format

    def recording(self: Translator, template: str, kw: dict[str, Any]) -> Text:
        result = original(self, template, kw)
        calls.append((self, dict(kw), result))
        return result

    monkeypatch.setattr(Translator, "_format", recording)
    t = translations("ar", tz="Asia/Riyadh", digits=digits)
    messages = all_arabic_renderings(t)
    assert len(calls) > 100
    problems = []
    for translator, kw, result in calls:
        for name, value in kw.items():
            if isinstance(value, Text):
                continue  # produced by the translator, its own values were checked
            shown = translator.number(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
            # (a count Arabic writes as a word — the dual «ساعتين» — is not shown at all)
            if has_ltr_or_digits(shown) and shown in result and isolate(shown) not in result:
                problems.append(f"{name}={shown!r} not isolated in {result!r}")
    assert not problems, "\n".join(problems)
    for message in messages:
        for part in (message.title, message.description, message.footer, *(x for f in message.fields for x in f)):
            assert part.count(FSI) == part.count(PDI), part


def test_no_latin_digits_leak_into_eastern_arabic_text() -> None:
    t = translations("ar", tz="Asia/Riyadh", digits="arab")
    for message in all_arabic_renderings(t):
        text = message.as_text()
        visible = "".join(part.split("](")[0] for part in text.split("\n") if not part.startswith("<"))
        # Latin digits may only appear inside link targets, quoted outside text and HTTP
        # status codes (an identifier, "HTTP 503", not a quantity)
        for line in visible.splitlines():
            if "«" in line:
                continue
            line = re.sub(r"HTTP \d{3}", "", line)
            assert not any(c.isascii() and c.isdigit() for c in line), line


# --- /isitdown -----------------------------------------------------------------------------------


def verdict(status: Status, confidence: Confidence | None, *evidence: Evidence, **kw: Any) -> Verdict:
    return Verdict("x", status, confidence, s.RESOLVED_AT, evidence, since=s.STARTED if status.is_outage else None, **kw)


VERDICTS = {
    Status.OPERATIONAL: s.VERDICT_OK,
    Status.DEGRADED: verdict(Status.DEGRADED, Confidence.UNCONFIRMED, s.OFFICIAL_OK, s.CROWD, unacknowledged=True),
    Status.PARTIAL_OUTAGE: verdict(Status.PARTIAL_OUTAGE, Confidence.LIKELY, s.OFFICIAL_OK, replace(s.HTTP_503, status=Status.PARTIAL_OUTAGE)),
    Status.MAJOR_OUTAGE: verdict(Status.MAJOR_OUTAGE, Confidence.CONFIRMED, s.OFFICIAL_MAJOR, s.HTTP_503, s.CROWD),
    Status.MAINTENANCE: verdict(
        Status.MAINTENANCE,
        Confidence.CONFIRMED,
        Evidence(SourceRole.OFFICIAL, "statuspage", Status.MAINTENANCE, since=s.STARTED, official_title="Database upgrade"),
    ),
    Status.UNKNOWN: verdict(Status.UNKNOWN, None, Evidence(SourceRole.OFFICIAL, "statuspage", Status.UNKNOWN, error_kind="timeout")),
}

VERDICT_TITLES = {
    Status.OPERATIONAL: ("X is up", "خدمة إكس تعمل بشكل طبيعي"),
    Status.DEGRADED: ("Possible problems with X", "مشكلات محتملة في خدمة إكس"),
    Status.PARTIAL_OUTAGE: ("X is partially down", "انقطاع جزئي في خدمة إكس"),
    Status.MAJOR_OUTAGE: ("X is down", "انقطاع في خدمة إكس"),
    Status.MAINTENANCE: ("X: scheduled maintenance", "صيانة مجدولة لخدمة إكس"),
    Status.UNKNOWN: ("Can't tell whether X is down", "تعذّر التحقق من حالة خدمة إكس"),
}


@pytest.mark.parametrize("status", list(VERDICTS))
def test_isitdown_titles_and_colors(status: Status) -> None:
    english, arabic = VERDICT_TITLES[status]
    en = render_verdict(VERDICTS[status], s.X, t=translations("en"), now=s.RESOLVED_AT)
    ar = render_verdict(VERDICTS[status], s.X, t=translations("ar"), now=s.RESOLVED_AT)
    assert en.title == english and bare(ar.title) == arabic
    assert en.color == ar.color == COLORS[status]


def test_isitdown_wording() -> None:
    t = translations("en")
    ok = render_verdict(s.VERDICT_OK, s.X, t=t, now=s.RESOLVED_AT, crowd=s.QUIET_CROWD)
    assert ok.description == "No problems right now.\nChecked at 3:32\u202fPM."
    assert ("User reports", "3 reports in the last 30 minutes (usually 4)") in ok.fields
    assert ("Our checks", "Responds normally (HTTP 200 in 231 ms).") in ok.fields
    likely = render_verdict(VERDICTS[Status.PARTIAL_OUTAGE], s.X, t=t, now=s.RESOLVED_AT)
    assert "Probably real: so far only our checks see it." in likely.description
    unconfirmed = render_verdict(VERDICTS[Status.DEGRADED], s.X, t=t, now=s.RESOLVED_AT)
    assert "Not confirmed: so far only user reports point to it." in unconfirmed.description
    maintenance = render_verdict(VERDICTS[Status.MAINTENANCE], s.X, t=t, now=s.RESOLVED_AT)
    assert "Confirmed" not in maintenance.description
    assert any("“Database upgrade”" in value for _, value in maintenance.fields)
    unknown = render_verdict(VERDICTS[Status.UNKNOWN], s.X, t=translations("ar"), now=s.RESOLVED_AT)
    fields = [(bare(name), bare(value)) for name, value in unknown.fields]
    assert ("صفحة الحالة الرسمية", "تعذّرت قراءتها في الوقت الحالي.\n[افتح صفحة الحالة](https://api.twitterstat.us)") in fields


def test_a_major_outage_only_our_probes_see_is_not_called_widespread() -> None:
    """Our probes find a service not answering, not how many people it fails: the Arabic
    «انقطاع واسع» (widespread outage) is said only once reports or the official page agree."""
    probes_alone = verdict(Status.MAJOR_OUTAGE, Confidence.LIKELY, s.OFFICIAL_OK, s.HTTP_503)
    confirmed = VERDICTS[Status.MAJOR_OUTAGE]
    for which, expected in ((probes_alone, ("**Outage** since", "**انقطاع** منذ")), (confirmed, ("**Major outage** since", "**انقطاع واسع** منذ"))):
        en = render_verdict(which, s.X, t=translations("en"), now=s.RESOLVED_AT)
        ar = render_verdict(which, s.X, t=translations("ar"), now=s.RESOLVED_AT)
        assert en.description.startswith(expected[0]) and bare(ar.description).startswith(expected[1])
    probes_only = replace(s.ALERT, confidence=Confidence.LIKELY, evidence=(s.OFFICIAL_OK, s.HTTP_503, s.TCP_TIMEOUT))
    alert = render_alert(probes_only, s.X, t=translations("ar"), now=s.OPENED_AT)
    assert bare(alert.description).startswith("**انقطاع** منذ") and "واسع" not in bare(alert.description)
    # the same alert escalated from a partial outage says where it went in the same words
    worse = replace(probes_only, kind=EventKind.ESCALATED, previous_status=Status.PARTIAL_OUTAGE)
    en = render_alert(worse, s.X, t=translations("en"), now=s.OPENED_AT).description
    ar = bare(render_alert(worse, s.X, t=translations("ar"), now=s.OPENED_AT).description)
    assert "Worsened from partial outage to outage" in en and "major" not in en and "واسع" not in ar
    # and a grouped alert's line for it
    group = replace(s.GROUP_OPEN, members=(replace(s.GROUP_OPEN.members[1], confidence=Confidence.LIKELY),))
    lines = bare(render_group_alert(group, t=translations("ar"), now=s.ESCALATED_AT).description)
    assert "إكس: انقطاع منذ" in lines and "إكس: انقطاع واسع" not in lines


def test_easing_from_a_probes_only_outage_names_it_as_the_alert_did() -> None:
    """The alert said «انقطاع» (probes alone): its easing must not call what it left a
    widespread outage («انقطاع واسع»), nor the English a "major outage"."""
    eased = replace(s.ALERT, kind=EventKind.DEESCALATED, status=Status.DEGRADED, confidence=Confidence.LIKELY,
                    previous_status=Status.MAJOR_OUTAGE, extra={PREVIOUS_CONFIDENCE: Confidence.LIKELY.value})  # fmt: skip
    en = render_alert(eased, s.X, t=translations("en"), now=s.OPENED_AT).description
    ar = bare(render_alert(eased, s.X, t=translations("ar"), now=s.OPENED_AT).description)
    assert "Eased from outage to disruption" in en and "major" not in en
    assert "من انقطاع إلى اضطراب" in ar and "واسع" not in ar
    confirmed = replace(eased, extra={PREVIOUS_CONFIDENCE: Confidence.CONFIRMED.value})
    assert "Eased from major outage to disruption" in render_alert(confirmed, s.X, t=translations("en"), now=s.OPENED_AT).description
    older = replace(eased, extra={})  # an event stored before the confidence was kept: as before
    assert "Eased from major outage to disruption" in render_alert(older, s.X, t=translations("en"), now=s.OPENED_AT).description


def test_isitdown_both_languages() -> None:
    messages = render_both(render_verdict, VERDICTS[Status.MAJOR_OUTAGE], s.X, ar=translations("ar"), en=translations("en"), now=s.RESOLVED_AT)
    assert [bare(m.title) for m in messages] == ["انقطاع في خدمة إكس", "X is down"]


# --- other messages ------------------------------------------------------------------------------


def test_unstable_notice() -> None:
    event = replace(s.ALERT, kind=EventKind.UNSTABLE)
    en = render_event(event, s.X, t=translations("en"), now=s.OPENED_AT)
    ar = render_event(event, s.X, t=translations("ar"), now=s.OPENED_AT)
    assert en.title == "X is unstable" and bare(ar.title) == "خدمة إكس غير مستقرة"
    assert en.description.startswith("X keeps going down and coming back.")


def test_resolved_alert_edit() -> None:
    message = render_resolved_alert(s.RECOVERY, s.X, t=translations("ar", tz="Asia/Riyadh", digits="arab"), now=s.RESOLVED_AT)
    assert bare(message.title) == "انتهى الانقطاع في خدمة إكس"
    assert bare(message.description) == "استمر مدة ٣ ساعات و١٢ دقيقة (من ٣:٢٠ م إلى ٦:٣٢ م)."
    assert message.color == COLORS[Status.OPERATIONAL]


def test_disruption_recovery_does_not_say_outage() -> None:
    event = replace(s.RECOVERY, extra={"peak_status": "degraded"}, previous_status=Status.DEGRADED)
    en = render_recovery(event, s.X, t=translations("en"), now=s.RESOLVED_AT)
    assert en.description == "X is working normally again. The disruption lasted 3 hours 12 minutes."


def test_resolved_alert_title_follows_the_peak_status() -> None:
    """"was down" only for what was down: a disruption was disrupted, a partial outage partly down."""
    cases = {
        "degraded": ("Resolved: X was disrupted", "انتهى الاضطراب في خدمة إكس"),
        "partial_outage": ("Resolved: X was partially down", "انتهى الانقطاع الجزئي في خدمة إكس"),
        "major_outage": ("Resolved: X was down", "انتهى الانقطاع في خدمة إكس"),
    }
    for peak, (english, arabic) in cases.items():
        event = replace(s.RECOVERY, extra={"peak_status": peak}, previous_status=Status.DEGRADED)
        assert render_resolved_alert(event, s.X, t=translations("en"), now=s.RESOLVED_AT).title == english
        assert bare(render_resolved_alert(event, s.X, t=translations("ar"), now=s.RESOLVED_AT).title) == arabic
    # an older event without the extra falls back to the last announced status
    legacy = replace(s.RECOVERY, extra={}, previous_status=Status.DEGRADED)
    assert render_resolved_alert(legacy, s.X, t=translations("en"), now=s.RESOLVED_AT).title == "Resolved: X was disrupted"


def test_an_eased_incident_says_reports_are_still_high_not_possible_problems() -> None:
    en = render_alert(EASED, s.X, t=translations("en"), now=s.RESOLVED_AT)
    assert en.title == "X is having problems"
    assert en.description.split("\n")[1] == "Our checks find nothing wrong now, but user reports are still above normal."
    assert "Eased from major outage to disruption at 3:32\u202fPM." in en.description
    assert "Not confirmed" not in en.description and "Possible" not in en.title
    ar = render_alert(EASED, s.X, t=translations("ar"), now=s.RESOLVED_AT)
    assert bare(ar.title) == "اضطراب في خدمة إكس"
    assert "لم تعد فحوصنا ترصد خللًا، لكن بلاغات المستخدمين ما زالت أعلى من المعتاد." in bare(ar.description)
    # no probe that passes to speak of: the reports alone
    no_probes = render_alert(replace(EASED, evidence=(s.OFFICIAL_OK, s.CROWD)), s.X, t=translations("en"), now=s.RESOLVED_AT)
    assert no_probes.description.split("\n")[1] == "User reports are still above normal."
    # the peak status says the same on any later edit of the alert
    later = replace(EASED, kind=EventKind.UPDATED, previous_status=None, extra={"peak_status": "partial_outage"})
    assert "still above normal" in render_alert(later, s.X, t=translations("en"), now=s.RESOLVED_AT).description
    # a crowd spike that was never more is still "possible problems"
    fresh = replace(EASED, kind=EventKind.OPENED, previous_status=None)
    opened = render_alert(fresh, s.X, t=translations("en"), now=s.RESOLVED_AT)
    assert opened.title == "Possible problems with X"
    assert "Not confirmed: so far only user reports point to it." in opened.description


SUB_MS_PROBES = (
    Evidence(SourceRole.PROBE, "http", Status.OPERATIONAL, http_status=200, latency_ms=0.0),
    Evidence(SourceRole.PROBE, "http", Status.MAJOR_OUTAGE, http_status=503, latency_ms=0.4, error_kind="http_status"),
    Evidence(SourceRole.PROBE, "tcp", Status.OPERATIONAL, latency_ms=0.1),
)


def test_a_loopback_latency_reads_under_a_millisecond_never_0() -> None:
    en = translations("en")
    lines = [render_probe(en, e) for e in SUB_MS_PROBES]
    assert lines == [
        "Responds normally (HTTP 200 in under a millisecond).",
        "HTTP 503 error.",
        "Responds normally in under a millisecond.",
    ]
    ar = [render_probe(translations("ar"), e) for e in SUB_MS_PROBES]
    assert bare(ar[0]) == "تستجيب بشكل طبيعي (HTTP 200 خلال أقل من ميلي ثانية)."
    assert isolate("HTTP 200") in ar[0] and "أقل من ميلي ثانية" in ar[2] and "واحدة" not in ar[2]
    # 0.5 ms and up round as usual; Arabic counts milliseconds with its six plural forms
    assert render_probe(en, replace(SUB_MS_PROBES[0], latency_ms=0.6)) == "Responds normally (HTTP 200 in 1 ms)."
    arabic_ms = {n: bare(render_probe(translations("ar", digits="arab"), replace(SUB_MS_PROBES[2], latency_ms=n))) for n in (1, 2, 5, 43, 300)}
    assert arabic_ms == {
        1: "تستجيب بشكل طبيعي خلال ميلي ثانية واحدة.",
        2: "تستجيب بشكل طبيعي خلال ميلي ثانيتين.",
        5: "تستجيب بشكل طبيعي خلال ٥ ميلي ثوانٍ.",
        43: "تستجيب بشكل طبيعي خلال ٤٣ ميلي ثانية.",
        300: "تستجيب بشكل طبيعي خلال ٣٠٠ ميلي ثانية.",
    }
    # from a second on, seconds: whole ones with their plural forms, fractions with the singular
    seconds = {n: bare(render_probe(translations("ar", digits="arab"), replace(SUB_MS_PROBES[2], latency_ms=n))) for n in (2000, 3000, 5240)}
    assert seconds == {
        2000: "تستجيب بشكل طبيعي خلال ثانيتين.",
        3000: "تستجيب بشكل طبيعي خلال ٣ ثوانٍ.",
        5240: "تستجيب بشكل طبيعي خلال ٥٫٢ ثانية.",
    }


PROBE_STORIES = {
    # (status, error kind, HTTP code): what the English line must say — never "HTTP 200 error"
    "slow": ((Status.DEGRADED, None, 200), "Slow: HTTP 200 in 5.2 seconds."),
    "slow tcp": ((Status.DEGRADED, None, None), "Slow: answered in 5.2 seconds."),
    "missing content": ((Status.MAJOR_OUTAGE, "missing_text", 200), "The page loads (HTTP 200) but without its usual content."),
    "error page": ((Status.MAJOR_OUTAGE, "error_page", 200), "Serves an error page (HTTP 200)."),
    "redirect loop": ((Status.MAJOR_OUTAGE, "redirects", 301), "Too many redirects."),
    "error status": ((Status.MAJOR_OUTAGE, "http_status", 503), "HTTP 503 error after 5.2 seconds."),
    "not found": ((Status.PARTIAL_OUTAGE, "http_status", 404), "HTTP 404 error after 5.2 seconds."),
    "timeout": ((Status.MAJOR_OUTAGE, "timeout", None), "No answer (timed out)."),
    "internal": ((Status.MAJOR_OUTAGE, "parse", None), "The check failed."),
    "exception": ((Status.MAJOR_OUTAGE, "exception", 200), "The check failed."),
    "too large": ((Status.UNKNOWN, "too_large", 200), "Could not check just now."),
}


@pytest.mark.parametrize("story", PROBE_STORIES)
def test_a_probe_line_says_what_happened(story: str) -> None:
    (status, kind, code), english = PROBE_STORIES[story]
    probe = Evidence(SourceRole.PROBE, "http", status, http_status=code, latency_ms=5200.0, error_kind=kind)
    assert render_probe(translations("en"), probe) == english
    arabic = bare(render_probe(translations("ar"), probe))
    assert "(" + (kind or "") + ")" not in arabic and not (kind and kind in arabic)  # no internal code reaches a reader
    if code == 200:
        assert "خطأ" not in arabic or "صفحة خطأ" in arabic  # a 200 is never called an error


def render_probe(t: Translator, evidence: Evidence) -> str:
    fields = dict(render_alert(replace(s.ALERT, evidence=(evidence,)), s.X, t=t, now=s.OPENED_AT).fields)
    return fields[t.orient(t.gettext("Our checks"))]


def test_problem_share_only_when_reports_are_above_usual() -> None:
    en = translations("en")
    background = replace(s.CROWD, status=Status.OPERATIONAL, reports=7, usual=9.0, top_problem="app", top_problem_share=0.71)
    quiet = dict(render_alert(replace(s.ALERT, evidence=(background,)), s.X, t=en, now=s.OPENED_AT).fields)["User reports"]
    assert quiet == "7 reports in the last 15 minutes (usually 9)"
    spiking = replace(background, status=Status.DEGRADED, reports=70)
    loud = dict(render_alert(replace(s.ALERT, evidence=(spiking,)), s.X, t=en, now=s.OPENED_AT).fields)["User reports"]
    assert loud == (
        "70 reports in the last 15 minutes (usually 9) · 71% of reporters have problems with the app"
        " · reports from 8 countries: United States, Germany, India…"
    )  # the background (quiet, above) names neither a problem nor countries
    # /isitdown with the crowd signal itself: its level decides
    signal = CrowdSignal(CrowdLevel.NONE, recent=12, usual=10.0, top_problem="login", top_problem_share=0.6)
    answer = render_verdict(s.VERDICT_OK, s.X, t=en, now=s.RESOLVED_AT, crowd=signal)
    assert dict(answer.fields)["User reports"] == "12 reports in the last 15 minutes (usually 10)"
    raised = render_verdict(s.VERDICT_OK, s.X, t=en, now=s.RESOLVED_AT, crowd=replace(signal, level=CrowdLevel.POSSIBLE))
    assert dict(raised.fields)["User reports"].endswith(" · 60% of reporters can't log in")


@pytest.mark.parametrize(
    "peak,usual,shown",
    [
        (14, 9.0, False),  # flapping: the background, not news
        (6, 8.0, False),
        (17, 9.0, False),
        (18, 9.0, True),  # twice the usual: news
        (25800, 13.0, True),
        (4, None, False),  # no crowd evidence at recovery: the minimum of 5 alone
        (5, None, True),
    ],
)
def test_recovery_shows_the_report_peak_only_when_it_stood_out(peak: int, usual: float | None, shown: bool) -> None:
    crowd = () if usual is None else (Evidence(SourceRole.CROWD, "crowd", Status.OPERATIONAL, reports=3, usual=usual),)
    event = replace(s.RECOVERY, report_peak=peak, evidence=s.RECOVERY.evidence + crowd)
    for lang, name in (("en", "Peak user reports"), ("ar", "ذروة بلاغات المستخدمين")):
        fields = {bare(n) for n, _ in render_recovery(event, s.X, t=translations(lang), now=s.RESOLVED_AT).fields}
        assert (name in fields) is shown


def test_reporting_countries_are_named_as_the_press_names_them() -> None:
    """One country, two, a few, many: the plural forms, babel's names and list, "…" past three."""
    ar, en = translations("ar", digits="arab"), translations("en")
    window = timedelta(minutes=15)

    def line(t: Translator, countries: tuple[str, ...]) -> str:
        return bare(crowd_line(t, 400, 10.0, window, countries=countries).split(" · ")[-1])

    assert line(en, ("IQ",)) == "reports from 1 country: Iraq"
    assert line(ar, ("IQ",)) == "بلاغات من دولة واحدة: العراق"
    assert line(ar, ("IQ", "SA")) == "بلاغات من دولتين: العراق والمملكة العربية السعودية"
    assert line(ar, s.COUNTRIES) == "بلاغات من ٨ دول: الولايات المتحدة وألمانيا والهند…"
    assert line(ar, s.COUNTRIES * 2) == "بلاغات من ١٦ دولة: الولايات المتحدة وألمانيا والهند…"
    # a list that goes on has no "and" before its last name shown; a complete one has
    assert line(en, s.COUNTRIES) == "reports from 8 countries: United States, Germany, India…"
    assert line(en, s.COUNTRIES[:3]) == "reports from 3 countries: United States, Germany, and India"
    quiet = crowd_line(en, 3, 10.0, window, countries=("IQ", "SA"))  # below usual: no countries
    assert "countr" not in quiet


def test_a_long_component_list_says_and_once() -> None:
    from bot.notify.render.evidence import COMPONENTS_SHOWN, components_field

    names = tuple(f"Region {n}" for n in range(1, COMPONENTS_SHOWN + 3))
    official = Evidence(SourceRole.OFFICIAL, "statuspage", Status.PARTIAL_OUTAGE, components=names)
    _, en = components_field(translations("en"), [official])  # type: ignore[misc]
    assert bare(en) == ", ".join(names[:COMPONENTS_SHOWN]) + " and 2 more"
    _, few = components_field(translations("en"), [replace(official, components=names[:3])])  # type: ignore[misc]
    assert bare(few) == "Region 1, Region 2, and Region 3"


def test_problem_categories_are_localized() -> None:
    ar = {problem_label(translations("ar"), key) for key in PROBLEM_LABELS}
    en = {problem_label(translations("en"), key) for key in PROBLEM_LABELS}
    assert len(ar) == len(en) == 7
    assert problem_label(translations("ar"), "login") == "تسجيل الدخول"
    assert problem_label(translations("en"), "nonsense") == "Something else"


@pytest.mark.parametrize("problem", sorted(PROBLEM_LABELS))
def test_crowd_problem_share_lines(problem: str) -> None:
    crowd = replace(s.CROWD, top_problem=problem)
    message = render_alert(replace(s.ALERT, evidence=(crowd,)), s.X, t=translations("ar", digits="arab"), now=s.OPENED_AT)
    value = bare(dict((bare(n), v) for n, v in message.fields)["بلاغات المستخدمين"])
    assert "٦٣٪ من المبلِّغين" in value and " · " in value


# --- safety and limits ---------------------------------------------------------------------------


def test_outside_text_cannot_ping_or_hide_links() -> None:
    for lang in ("ar", "en"):
        message = render_alert(s.UPDATE, s.X, t=translations(lang), now=s.ESCALATED_AT)
        text = message.as_text()
        assert "@everyone" not in text and "<@&123456789012345678>" not in text
        assert "[our updates](" not in text and "https://evil.example/phish" in text


def test_huge_outside_text_is_trimmed_within_discord_limits() -> None:
    words = " ".join(f"word{i}" for i in range(4000))
    official = replace(s.OFFICIAL_MAJOR, official_title="Title " * 200, official_update=words)
    probes = tuple(replace(s.HTTP_503, source_kind=f"probe{i}") for i in range(40))
    event = replace(s.UPDATE, evidence=(official, *probes, s.CROWD), official_update=words)
    names = ServiceNames("long", "L" * 300, "ل" * 300)
    for lang in ("ar", "en"):
        message = render_alert(event, names, t=translations(lang), now=s.ESCALATED_AT)
        assert tx.utf16_len(message.title) <= tx.TITLE_MAX
        assert len(message.fields) <= tx.FIELDS_MAX
        assert all(tx.utf16_len(v) <= tx.FIELD_VALUE_MAX and tx.utf16_len(n) <= tx.FIELD_NAME_MAX for n, v in message.fields)
        assert message.size() <= tx.TOTAL_MAX
        t = translations(lang)
        update = dict(message.fields)[t.orient(t.gettext("Latest official update"))]
        assert tx.ELLIPSIS in update and "word3999" not in update
    both = render_for("both", render_alert, event, names, now=s.ESCALATED_AT)
    assert sum(m.size() for m in both) <= tx.TOTAL_MAX


def test_fit_shrinks_an_oversized_message() -> None:
    big = RenderedMessage(title="t", description="d " * 3000, color=1, fields=tuple((f"f{i}", "v " * 600) for i in range(30)))
    fitted = big.fit()
    assert fitted.size() <= tx.TOTAL_MAX and len(fitted.fields) <= tx.FIELDS_MAX
    assert tx.utf16_len(fitted.description) <= tx.DESCRIPTION_MAX


def test_embed_dict_shape() -> None:
    message = render_alert(s.ALERT, s.X, t=translations("en"), now=s.OPENED_AT)
    data = message.to_embed_dict()
    assert data["title"] == "X is down"
    assert data["url"] == "https://api.twitterstat.us"
    assert data["color"] == COLORS[Status.MAJOR_OUTAGE]
    assert data["fields"][0] == {"name": "Official status page", "value": message.fields[0][1], "inline": False}
    assert data["footer"] == {"text": "All times: UTC"}


def test_unsafe_official_urls_are_not_linked() -> None:
    official = replace(s.OFFICIAL_OK, official_url="javascript:alert(1)")
    message = render_alert(replace(s.ALERT, evidence=(official, s.HTTP_503)), ServiceNames("x", "X"), t=translations("en"), now=s.OPENED_AT)
    assert message.url is None
    assert "javascript" not in message.as_text()


def test_crowd_signal_quiet_baseline_below_one() -> None:
    crowd = CrowdSignal(CrowdLevel.NONE, recent=0, usual=0.2, window=timedelta(minutes=30))
    message = render_verdict(s.VERDICT_OK, s.X, t=translations("ar", digits="arab"), now=s.RESOLVED_AT, crowd=crowd)
    value = bare(dict((bare(n), v) for n, v in message.fields)["بلاغات المستخدمين"])
    assert value == "لا توجد بلاغات خلال آخر ٣٠ دقيقة (عادةً لا تكاد توجد بلاغات)"
    english = render_verdict(s.VERDICT_OK, s.X, t=translations("en"), now=s.RESOLVED_AT, crowd=crowd)
    assert dict(english.fields)["User reports"] == "No reports in the last 30 minutes (usually almost none)"


@pytest.mark.parametrize(
    "url",
    [
        "https://[::1/incidents/x",  # does not parse: urlsplit raises
        "https://status.example:99999/",  # a port out of range raises too
        "https://status.example/\x07bell",  # a control character
        "https://stätus.example/",  # not ASCII: Discord refuses it in an embed
        "https://status.example/" + "x" * 3000,  # over Discord's length
        "https://status.example\\@evil.example/",  # a backslash
    ],
)
def test_a_hostile_status_page_link_is_no_link_and_never_breaks_the_alert(url: str) -> None:
    """A page's own link is outside text: a bad one must leave the alert without a link, not
    make rendering raise (which would hold every delivery of the event back)."""
    official = replace(s.OFFICIAL_MAJOR, official_url=url)
    message = render_alert(replace(s.ALERT, evidence=(official, s.HTTP_503)), ServiceNames("x", "X"), t=translations("en"), now=s.OPENED_AT)
    assert message.url is None and url not in message.as_text()


def test_an_alert_names_its_likely_upstream_in_both_languages() -> None:
    cloudflare = ServiceNames("cloudflare", "Cloudflare", "كلاود فلير")
    event = replace(s.ALERT, extra={**s.ALERT.extra, "upstream": "cloudflare"})
    names = replace(s.X, upstream=cloudflare)
    ar, en = render_for("both", render_alert, event, names, tz="UTC", digits="latn", now=s.OPENED_AT)
    assert "Likely cause: Cloudflare is down at the same time." in en.description
    assert bare(translations("ar").gettext("Likely cause: {upstream} is down at the same time.", upstream="كلاود فلير")) in bare(ar.description)
    # no line without the event naming it, or for another provider than the one named
    assert "Likely cause" not in render_alert(s.ALERT, names, t=translations("en"), now=s.OPENED_AT).description
    other = replace(names, upstream=ServiceNames("aws", "AWS", "أمازون ويب سيرفيسز"))
    assert "Likely cause" not in render_alert(event, other, t=translations("en"), now=s.OPENED_AT).description


def test_a_service_the_arabic_press_names_in_latin_keeps_its_latin_name_in_arabic() -> None:
    from bot.catalog import load_catalog

    latin = next(service for service in load_catalog() if service.latin_in_arabic)
    names = ServiceNames.of(latin)
    alert = render_alert(replace(s.ALERT, service_id=latin.id), names, t=translations("ar"), now=s.OPENED_AT)
    assert latin.name in alert.title and latin.name_ar not in alert.title


def test_two_probes_say_which_is_which() -> None:
    site = Evidence(SourceRole.PROBE, "http", Status.OPERATIONAL, http_status=200, latency_ms=120, target="discord.com")
    api = replace(s.HTTP_503, target="discord.com/api/v10/gateway")
    event = replace(s.ALERT, evidence=(site, api))
    en = render_alert(event, s.X, t=translations("en"), now=s.OPENED_AT)
    checks = dict(en.fields)["Our checks"]
    assert checks.splitlines() == ["discord.com: Responds normally (HTTP 200 in 120 ms).", "discord.com/api/v10/gateway: HTTP 503 error after 843 ms."]
    ar = render_alert(event, s.X, t=translations("ar"), now=s.OPENED_AT)
    arabic_checks = next(value for name, value in ar.fields if bare(name) == bare(translations("ar").gettext("Our checks")))
    assert [line.count(f"{FSI}discord.com") for line in arabic_checks.splitlines()] == [1, 1]
    # one probe needs no label
    alone = render_alert(replace(s.ALERT, evidence=(api,)), s.X, t=translations("en"), now=s.OPENED_AT)
    assert dict(alone.fields)["Our checks"] == "HTTP 503 error after 843 ms."


@pytest.mark.parametrize(
    ("note", "english"),
    [
        ("never:5", "X's status page acknowledged none of its last 5 outages."),
        ("usually_late:12", "X's status page usually confirms an outage about 12 minutes after users notice."),
    ],
)
def test_a_silent_page_alert_tells_the_pages_record(note: str, english: str) -> None:
    silent = replace(s.ALERT, unacknowledged=True, extra={**s.ALERT.extra, "page_record": note})
    assert english in render_alert(silent, s.X, t=translations("en"), now=s.OPENED_AT).description
    arabic = render_alert(silent, s.X, t=translations("ar"), now=s.OPENED_AT).description
    assert "صفحة الحالة الرسمية لخدمة" in arabic
    # once the page speaks, its record is beside the point
    spoken = replace(silent, unacknowledged=False)
    assert english not in render_alert(spoken, s.X, t=translations("en"), now=s.OPENED_AT).description


def test_the_arabic_record_line_agrees_in_number() -> None:
    ar = translations("ar")
    lines = {n: bare(render_alert(replace(s.ALERT, unacknowledged=True, extra={"page_record": f"never:{n}"}), s.X, t=ar, now=s.OPENED_AT).description)
             for n in (1, 2, 3, 5, 11)}
    assert "بآخر انقطاع لها" in lines[1] and "انقطاعَين" in lines[2]
    assert "انقطاعات لها" in lines[3] and "انقطاعات لها" in lines[5] and "انقطاعًا لها" in lines[11]


def test_digits_inside_an_arabic_service_name_follow_the_guilds_digits() -> None:
    """«مايكروسوفت 365» reads «مايكروسوفت ٣٦٥» where the guild reads ٠١٢٣, like every other
    number there; a Latin name keeps its own digits (Arabic review, item 35)."""
    m365 = ServiceNames("microsoft-365", "Microsoft 365", "مايكروسوفت 365")
    arab = render_alert(s.ALERT, m365, t=translations("ar", digits="arab"), now=s.OPENED_AT)
    latn = render_alert(s.ALERT, m365, t=translations("ar"), now=s.OPENED_AT)
    assert "مايكروسوفت ٣٦٥" in arab.title and "365" not in arab.title
    assert "مايكروسوفت" in latn.title and "365" in latn.title
    english = render_alert(s.ALERT, m365, t=translations("en"), now=s.OPENED_AT)
    assert "Microsoft 365" in english.title
    assert translations("ar", digits="arab").name_digits("Microsoft 365") == "Microsoft 365"
