"""bot/i18n.py: plurals from the catalog header, numbers, digits, times, durations, lists,
isolation, bilingual command strings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from babel import Locale

from bot.i18n import (
    FSI,
    PDI,
    Text,
    bilingual,
    isolate,
    load_messages,
    strip_bidi_controls,
    translations,
)

UTC = timezone.utc


def bare(text: str) -> str:
    """Text without isolates, to compare wording."""
    return text.replace(FSI, "").replace(PDI, "")


# --- plurals -------------------------------------------------------------------------------------

# Hand-checked Arabic for the six forms (issue 6 point 3). Eastern Arabic digits read right
# inside Arabic without isolates (bidi class AN), so none are added around them.
REPORTS_AR = {
    0: "لا توجد بلاغات",
    1: "بلاغ واحد",
    2: "بلاغان",
    3: "٣ بلاغات",
    10: "١٠ بلاغات",
    11: "١١ بلاغًا",
    99: "٩٩ بلاغًا",
    100: "١٠٠ بلاغ",
    101: "١٠١ بلاغ",
    102: "١٠٢ بلاغ",
    1240: "١٬٢٤٠ بلاغًا",
    25800: "٢٥٬٨٠٠ بلاغ",
}
REPORTS = ("{n} report in {window}", "{n} reports in {window}")


@pytest.mark.parametrize("n, expected", sorted(REPORTS_AR.items()))
def test_arabic_report_plurals_with_eastern_digits(n: int, expected: str) -> None:
    t = translations("ar", digits="arab")
    window = t.duration(timedelta(minutes=15))
    assert t.ngettext(*REPORTS, n, window=window) == f"{expected} خلال ١٥ دقيقة"


@pytest.mark.parametrize(
    "n, expected",
    [(0, "لا توجد بلاغات"), (2, "بلاغان"), (3, "⁨3⁩ بلاغات"), (11, "⁨11⁩ بلاغًا"), (100, "⁨100⁩ بلاغ"), (1240, "⁨1,240⁩ بلاغًا")],
)
def test_arabic_report_plurals_with_western_digits(n: int, expected: str) -> None:
    t = translations("ar", digits="latn")
    assert t.ngettext(*REPORTS, n, window=t.duration(timedelta(minutes=15))) == f"{expected} خلال ⁨15⁩ دقيقة"


def test_english_plurals() -> None:
    t = translations("en")
    assert [t.ngettext("{n} report", "{n} reports", n) for n in (0, 1, 2, 25800)] == [
        "0 reports",
        "1 report",
        "2 reports",
        "25,800 reports",
    ]


def test_arabic_header_agrees_with_cldr_categories() -> None:
    """msgstr[0..5] are zero, one, two, few, many, other — CLDR's order, which the GNU header
    encodes (and babel's own table does not: python-babel #816)."""
    catalog = load_messages("ar")
    assert catalog.nplurals == 6
    rule = Locale.parse("ar").plural_form
    order = ["zero", "one", "two", "few", "many", "other"]
    for n in range(0, 2001):
        assert catalog.plural(n) == order.index(rule(n)), n


def test_loader_evaluates_the_files_own_header(tmp_path: Path) -> None:
    """The plural rule comes from the .po header, not from babel's built-in table."""
    po_dir = tmp_path / "ar" / "LC_MESSAGES"
    po_dir.mkdir(parents=True)
    (po_dir / "bot.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n'
        '"Language: ar\\n"\n"Plural-Forms: nplurals=2; plural=(n > 5);\\n"\n\n'
        'msgid "{n} thing"\nmsgid_plural "{n} things"\nmsgstr[0] "few {n}"\nmsgstr[1] "many {n}"\n',
        encoding="utf-8",
    )
    t = translations("ar", locales_dir=tmp_path)
    assert bare(t.ngettext("{n} thing", "{n} things", 5)) == "few 5"
    assert bare(t.ngettext("{n} thing", "{n} things", 6)) == "many 6"


def test_fuzzy_entries_are_not_used(tmp_path: Path) -> None:
    po_dir = tmp_path / "en" / "LC_MESSAGES"
    po_dir.mkdir(parents=True)
    (po_dir / "bot.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n"Language: en\\n"\n\n'
        '#, fuzzy\nmsgid "Hello"\nmsgstr "Goodbye"\n',
        encoding="utf-8",
    )
    assert translations("en", locales_dir=tmp_path).gettext("Hello") == "Hello"


# --- numbers and digits --------------------------------------------------------------------------


def test_numbers_per_locale_and_digits() -> None:
    assert translations("en").number(25800) == "25,800"
    assert translations("ar", digits="latn").number(25800) == "25,800"
    assert translations("ar", digits="arab").number(25800) == "٢٥٬٨٠٠"
    assert translations("ar", digits="arab").number(1240.5) == "١٬٢٤٠٫٥"
    assert translations("en").number(842.63) == "842.6"


def test_percent_per_locale_and_digits() -> None:
    assert translations("en").percent(0.63) == "63%"
    assert translations("ar", digits="latn").percent(0.63) == "63%"
    assert translations("ar", digits="arab").percent(0.63) == "٦٣٪"


def test_english_keeps_western_digits_even_when_guild_chose_arab() -> None:
    t = translations("en", tz="Asia/Riyadh", digits="arab")
    assert t.number(1240) == "1,240"
    assert t.duration(timedelta(hours=3, minutes=12)) == "3 hours 12 minutes"


def test_numbers_in_placeholders_are_formatted_and_isolated() -> None:
    # Eastern Arabic digits need no isolate inside Arabic; Western ones get one
    assert translations("ar", digits="arab").gettext("(usually {usual})", usual=1200) == "(المعدّل المعتاد ١٬٢٠٠)"
    assert translations("ar", digits="latn").gettext("(usually {usual})", usual=1200) == "(المعدّل المعتاد ⁨1,200⁩)"
    assert translations("en").gettext("(usually {usual})", usual=1200) == "(usually 1,200)"


# --- dates and times -----------------------------------------------------------------------------

PEAK = datetime(2025, 3, 10, 12, 51, tzinfo=UTC)


def test_time_in_guild_zone() -> None:
    assert translations("ar", tz="Asia/Riyadh", digits="latn").time(PEAK) == "3:51 م"
    assert translations("ar", tz="Asia/Riyadh", digits="arab").time(PEAK) == "٣:٥١ م"
    assert translations("en", tz="UTC").time(PEAK) == "12:51\u202fPM"
    assert translations("en", tz="Africa/Cairo").time(PEAK) == "2:51\u202fPM"


def test_naive_datetimes_are_utc() -> None:
    assert translations("en").time(PEAK.replace(tzinfo=None)) == "12:51\u202fPM"


def test_datetime_and_when() -> None:
    t = translations("ar", tz="Asia/Riyadh", digits="arab")
    assert t.datetime(PEAK) == "١٠ مارس، ٣:٥١ م"
    assert t.when(PEAK, PEAK + timedelta(hours=2)) == "٣:٥١ م"
    assert t.when(PEAK, PEAK + timedelta(days=1)) == "١٠ مارس، ٣:٥١ م"
    # 22:30 UTC is already the next day in Riyadh
    assert translations("en", tz="Asia/Riyadh").when(PEAK, datetime(2025, 3, 10, 22, 30, tzinfo=UTC)) == "Mar 10, 3:51\u202fPM"


def test_zone_names() -> None:
    assert translations("en", tz="Asia/Riyadh").zone() == "Saudi Arabia Time"
    assert translations("ar", tz="Africa/Cairo").zone() == "توقيت مصر"
    assert translations("en", tz="UTC").zone() == "UTC"
    assert "UTC" in translations("ar", tz="Etc/UTC").zone()


# --- durations -----------------------------------------------------------------------------------

DURATIONS = [
    (timedelta(hours=3, minutes=12), "3 hours 12 minutes", "٣ ساعات و١٢ دقيقة"),
    (timedelta(minutes=45), "45 minutes", "٤٥ دقيقة"),
    (timedelta(days=2, hours=4, minutes=20), "2 days 4 hours", "يومين و٤ ساعات"),
    (timedelta(hours=2), "2 hours", "ساعتين"),
    (timedelta(hours=1, minutes=1), "1 hour 1 minute", "ساعة ودقيقة"),
    (timedelta(days=1, hours=1), "1 day 1 hour", "يوم وساعة"),
    (timedelta(days=11), "11 days", "١١ يومًا"),
    (timedelta(minutes=11), "11 minutes", "١١ دقيقة"),
    (timedelta(minutes=3), "3 minutes", "٣ دقائق"),
    (timedelta(minutes=59, seconds=40), "1 hour", "ساعة"),
    (timedelta(seconds=20), "less than a minute", "أقل من دقيقة"),
    (timedelta(seconds=-5), "less than a minute", "أقل من دقيقة"),
]


@pytest.mark.parametrize("delta, english, arabic", DURATIONS)
def test_durations(delta: timedelta, english: str, arabic: str) -> None:
    assert translations("en").duration(delta) == english
    assert bare(translations("ar", digits="arab").duration(delta)) == arabic


def test_duration_numbers_are_isolated_in_arabic() -> None:
    text = translations("ar", digits="latn").duration(timedelta(hours=3, minutes=12))
    assert text == "⁨3⁩ ساعات و⁨12⁩ دقيقة"
    assert isinstance(text, Text)
    assert translations("ar", digits="arab").duration(timedelta(hours=3, minutes=12)) == "٣ ساعات و١٢ دقيقة"


def test_a_span_agrees_with_the_clock_times_shown_beside_it() -> None:
    """8:05:10 → 8:08:50 is shown "from 8:05 PM to 8:08 PM": the rounded duration said 4 minutes,
    the clock beside it says 3."""
    t = translations("en")
    start = datetime(2025, 3, 5, 20, 5, 10, tzinfo=timezone.utc)
    end = datetime(2025, 3, 5, 20, 8, 50, tzinfo=timezone.utc)
    assert t.duration(end - start) == "4 minutes"
    assert t.span(start, end) == "3 minutes"
    assert t.span(start, start + timedelta(seconds=20)) == "less than a minute"
    assert t.span(start, start + timedelta(hours=4, minutes=8, seconds=55)) == "4 hours 9 minutes"


# --- lists and isolation -------------------------------------------------------------------------


def test_lists() -> None:
    assert translations("en").list(["GitHub", "Discord", "X"]) == "GitHub, Discord, and X"
    assert translations("ar").list(["GitHub", "ديسكورد", "X"]) == "⁨GitHub⁩ وديسكورد و⁨X⁩"
    assert translations("ar").list([]) == ""


def test_isolate_is_idempotent_but_wraps_sequences() -> None:
    assert isolate("GitHub") == f"{FSI}GitHub{PDI}"
    assert isolate(isolate("GitHub")) == isolate("GitHub")
    two = f"{FSI}a{PDI} و{FSI}b{PDI}"
    assert isolate(two) == f"{FSI}{two}{PDI}"


def test_arabic_isolates_latin_and_numbers_but_not_arabic_values() -> None:
    t = translations("ar")
    assert t.gettext("{service} is down", service="GitHub") == "انقطاع في خدمة ⁨GitHub⁩"
    assert t.gettext("{service} is down", service="جيت هب") == "انقطاع في خدمة جيت هب"
    assert t.gettext("{service} is down", service="Web 2") == "انقطاع في خدمة ⁨Web 2⁩"


def test_english_isolates_arabic_values_only() -> None:
    t = translations("en")
    assert t.gettext("{service} is down", service="جيت هب") == "⁨جيت هب⁩ is down"
    assert t.gettext("{service} is down", service="GitHub") == "GitHub is down"


def test_translator_output_is_not_isolated_again() -> None:
    t = translations("ar", digits="arab")
    window = t.duration(timedelta(minutes=15))
    text = t.ngettext("{n} report in the last {window}", "{n} reports in the last {window}", 3, window=window)
    assert text == "٣ بلاغات خلال آخر ١٥ دقيقة"
    latin = translations("ar", digits="latn")
    text = latin.ngettext("{n} report in the last {window}", "{n} reports in the last {window}", 3, window=latin.duration(timedelta(minutes=15)))
    assert text == "⁨3⁩ بلاغات خلال آخر ⁨15⁩ دقيقة"  # the duration's own isolate not wrapped again


def test_positional_placeholders_are_refused() -> None:
    with pytest.raises(ValueError):
        translations("en").gettext("{0} is down", x=1)


def test_bad_locale_or_digits() -> None:
    with pytest.raises(ValueError):
        translations("fr")
    with pytest.raises(ValueError):
        translations("ar", digits="roman")  # type: ignore[arg-type]


def test_strip_bidi_controls() -> None:
    assert strip_bidi_controls("\u202eevil\u2068x\u2069\u200f") == "evilx"


# --- bilingual -----------------------------------------------------------------------------------


def test_bilingual_joins_both_languages_without_isolates() -> None:
    text = bilingual("Logging in")
    assert text == "Logging in · تسجيل الدخول"
    assert FSI not in text and PDI not in text


def test_bilingual_refuses_more_than_100_characters(tmp_path: Path) -> None:
    for lang in ("en", "ar"):
        po_dir = tmp_path / lang / "LC_MESSAGES"
        po_dir.mkdir(parents=True)
        body = "ت" * 60 if lang == "ar" else "x" * 50
        (po_dir / "bot.po").write_text(
            f'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n"Language: {lang}\\n"\n\n'
            f'msgid "Long"\nmsgstr "{body}"\n',
            encoding="utf-8",
        )
    with pytest.raises(ValueError, match="max 100"):
        bilingual("Long", locales_dir=tmp_path)
