"""The line about national internet connectivity, in alerts and in /isitdown (both languages)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.i18n import translations
from bot.notify.render import render_alert, render_verdict
from tests.bidi import lines_of, misreadings
from tests.notify import samples as s


def alert_text(extra, lang="en", names=s.X):
    t = translations(lang, tz="Asia/Baghdad")
    return render_alert(replace(s.ALERT, extra=extra), names, t=t, now=s.OPENED_AT)


def test_a_national_outage_in_a_reporting_country_is_told_with_its_start():
    m = alert_text(s.INTERNET_EXTRAS[0])
    assert "Internet connectivity in Iraq is disrupted nationwide since 7:20\u202fAM (IODA): reports from there may reflect that rather than X." in m.description


def test_several_countries_and_a_day_ago_are_told():
    m = alert_text(s.INTERNET_EXTRAS[1])
    assert "Internet connectivity in Iraq and Syria is disrupted nationwide since Mar 9 at" in m.description


def test_an_international_disruption_is_told_with_the_number_of_countries():
    m = alert_text(s.INTERNET_EXTRAS[2])
    assert "The disruption is international, not a national internet outage: reports come from 8 countries, none of them under a national outage (IODA)." in m.description


def test_no_context_no_line():
    for extra in ({}, {"internet": "national", "internet_countries": "IQ"}):
        assert "IODA" not in alert_text(extra).description


def test_arabic_uses_the_press_wording():
    national = alert_text(s.INTERNET_EXTRAS[0], "ar").description
    assert "انقطاع الإنترنت على المستوى الوطني في العراق مستمر منذ" in national and "وفق مرصد" in national
    international = alert_text(s.INTERNET_EXTRAS[2], "ar").description
    assert "العطل يطال عدة دول، وليس انقطاعًا وطنيًا للإنترنت" in international and "دول" in international


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_isitdown_in_a_country_under_a_national_outage_answers_that_first(lang):
    t = translations(lang, tz="Asia/Baghdad")
    m = render_verdict(s.VERDICT_OK, s.X, t=t, now=s.RESOLVED_AT, national=s.IQ_OUTAGE)
    first = m.description.split("\n")[0]
    if lang == "en":
        assert first == "It may not be X: internet connectivity in Iraq is disrupted nationwide since 7:00\u202fAM (IODA)."
    else:
        assert first.strip("\u200f").startswith("قد لا يكون العطل في") and "العراق" in first and "IODA" in first
    plain = render_verdict(s.VERDICT_OK, s.X, t=t, now=s.RESOLVED_AT)
    assert "IODA" not in plain.as_text()


@pytest.mark.parametrize("digits", ["latn", "arab"])
def test_the_arabic_lines_read_the_same_in_every_layout(digits):
    t = translations("ar", tz="Asia/Baghdad", digits=digits)
    messages = [render_alert(replace(s.ALERT, extra=e), s.X, t=t, now=s.OPENED_AT) for e in s.INTERNET_EXTRAS]
    messages.append(render_verdict(s.VERDICT_OK, s.X, t=t, now=s.RESOLVED_AT, national=s.IQ_OUTAGE))
    assert not misreadings(line for m in messages for _, line in lines_of(m))
