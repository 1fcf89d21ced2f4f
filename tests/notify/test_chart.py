"""bot/notify/render/chart.py: the report chart of the seeds' outage, read structurally (what
was drawn where, and pixels at those places) rather than compared byte for byte, in both
languages and both digit styles."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from bot.detect.model import EventKind
from bot.i18n import translations
from bot.notify.render.chart import BAR, HEIGHT, MAX_BYTES, WIDTH, report_chart, series_from_buckets, series_span, tells_reports
from tests.detect.test_crowd_replay import PROBES_FAIL, replay
from tests.seeds_curve import MONDAY

VARIANTS = [("en", "UTC", "latn"), ("ar", "UTC", "latn"), ("ar", "Asia/Riyadh", "arab"), ("en", "Asia/Baghdad", "arab")]


@pytest.fixture(scope="module")
def seeds():  # type: ignore[no-untyped-def]
    """The seeds' outage through crowd → fusion → incident machine; its recovery event and
    the chart series as the crowd service builds it from the same 5-minute buckets."""
    run = replay(PROBES_FAIL)
    resolved = next(e for e in run.events if e.kind is EventKind.RESOLVED)
    now = resolved.at
    buckets = {at: bucket.total for at, bucket in run.counts.buckets.items()}
    assert run.baseline is not None
    series = series_from_buckets(
        buckets, run.baseline.expected_between, now, incident=series_span(resolved), peak=resolved.report_peak, peak_at=resolved.report_peak_at
    )
    return resolved, series, now


@pytest.mark.parametrize("lang,tz,digits", VARIANTS)
def test_the_seeds_chart_marks_the_peak_at_12_51_with_25_800(seeds, lang: str, tz: str, digits: str) -> None:  # type: ignore[no-untyped-def]
    resolved, series, now = seeds
    assert abs(resolved.report_peak - 25_800) <= 258 and resolved.report_peak_at == MONDAY + timedelta(hours=12, minutes=51)
    t = translations(lang, tz, digits)  # type: ignore[arg-type]
    chart = report_chart(series, "X" if lang == "en" else "إكس", t=t, now=now)

    # a PNG Discord accepts, of the size we drew
    assert chart.png.startswith(b"\x89PNG") and len(chart.png) < MAX_BYTES
    image = Image.open(io.BytesIO(chart.png)).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)

    # the peak marker sits at 12:51 and above every bar, labelled with the pipeline's figures
    layout = chart.layout
    assert layout.peak is not None
    bar_of_peak = int((resolved.report_peak_at - series.start) / timedelta(minutes=15))
    left, right = layout.bars[bar_of_peak][0] - 12, layout.bars[bar_of_peak][0] + 12
    assert left <= layout.peak[0] <= right
    assert layout.peak[1] <= min(top for _, top in layout.bars)
    label = next(text for text in layout.labels if t.number(resolved.report_peak) in text)
    assert t.time(resolved.report_peak_at) in label
    if digits == "arab" and lang == "ar":
        assert "٢٥٬" in label and "٣:٥١" in label  # Riyadh time, Eastern Arabic digits
    if lang == "ar":
        assert "الذروة" in label

    # bars are drawn where the data says: higher counts, taller bars, in the bar colour
    counts = series.counts
    order = sorted(range(len(counts)), key=lambda i: counts[i])
    tops = [layout.bars[i][1] for i in order]
    assert tops == sorted(tops, reverse=True)  # y grows downwards
    assert layout.bars[order[-1]][1] < layout.bars[order[0]][1]
    x, top = layout.bars[bar_of_peak]
    assert image.getpixel((x, top + 3)) == BAR
    # the incident's span is shaded and covers the peak
    assert layout.incident is not None and layout.incident[0] < layout.peak[0] < layout.incident[1]


def test_titles_sit_on_the_reader_side_and_arabic_is_drawn() -> None:
    """Arabic title right-aligned, English left-aligned: ink in the matching corner."""
    from bot.notify.render.chart import BACKGROUND, ReportSeries

    start = MONDAY
    series = ReportSeries(start, (1.0,) * 96, (1.0,) * 96)
    for lang, corner in (("en", (70, 14, 300, 36)), ("ar", (WIDTH - 300, 14, WIDTH - 24, 36))):
        chart = report_chart(series, "X" if lang == "en" else "إكس", t=translations(lang), now=start + timedelta(hours=24))
        image = Image.open(io.BytesIO(chart.png)).convert("RGB")
        ink = sum(1 for px in image.crop(corner).get_flattened_data() if px != BACKGROUND)
        assert ink > 100, lang


def test_a_chart_goes_with_messages_whose_evidence_holds_reports(seeds) -> None:  # type: ignore[no-untyped-def]
    resolved, _series, _now = seeds
    assert tells_reports(resolved)
    from dataclasses import replace

    assert not tells_reports(replace(resolved, report_peak=None))
    opened = replace(resolved, kind=EventKind.OPENED, evidence=())
    assert not tells_reports(opened)
