"""The picture of an outage: a PNG of a service's user reports over the last 24 hours in
15-minute bars, the usual level as a band, the incident's span shaded and its peak marked —
in the reader's language, digits and time zone (pure: data in, bytes out).

Why Pillow and not matplotlib: measured in ``benchmarks/chart.py``, Pillow starts in a tenth of
the time and adds a fraction of the memory, and a 24-hour bar chart needs no plotting library.
Neither shapes Arabic without help, so Arabic labels are shaped (``arabic_reshaper``) and put
in visual order (``python-bidi``) here, and drawn with Pillow's basic layout so that the result
does not depend on whether the machine has libraqm. The font (DejaVu Sans: Latin, Arabic and
both digit styles) ships with the bot (``bot/data/fonts``).

Use: ``report_chart(series, service_name, t=t, now=now)`` → ``Chart`` (``png`` bytes and the
``layout`` of what was drawn, which tests read instead of comparing pixels).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Callable, Mapping

from bot.detect.model import EventKind, IncidentEvent
from bot.i18n import Text, Translator, strip_bidi_controls
from bot.sources.base import SourceRole

FONT = Path(__file__).resolve().parents[2] / "data" / "fonts" / "DejaVuSans.ttf"
BUCKET = timedelta(minutes=15)
SPAN = timedelta(hours=24)
WIDTH, HEIGHT = 960, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 24, 64, 48  # plot margins
#: Discord's dark embed background and a palette readable on it
BACKGROUND = (43, 45, 49)
GRID = (70, 73, 80)
TEXT = (219, 222, 225)
MUTED = (148, 155, 164)
BAR = (88, 101, 242)
PEAK = (237, 66, 69)
USUAL = (87, 242, 135, 90)
INCIDENT = (237, 66, 69, 40)
#: Discord refuses attachments above 10 MiB for bots without boosts; ours are ~30 kB
MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ReportSeries:
    """User reports per ``BUCKET`` from ``start`` (UTC), the usual count for each bucket, the
    incident's span (end None while it lasts) and its peak as the detector counted it (a
    15-minute window ending at ``peak_at``)."""

    start: datetime
    counts: tuple[float, ...]
    usual: tuple[float, ...]
    incident: tuple[datetime, datetime | None] | None = None
    peak: int | None = None
    peak_at: datetime | None = None

    def __post_init__(self) -> None:
        if len(self.usual) != len(self.counts):
            raise ValueError("one usual level per bucket")


@dataclass(frozen=True, slots=True)
class ChartLayout:
    """What was drawn where, in pixels: for tests and for alt text."""

    bars: tuple[tuple[int, int], ...]  # (x centre, top y) per bucket
    peak: tuple[int, int] | None  # where the peak marker is
    labels: tuple[str, ...]  # every text drawn, as logical strings
    incident: tuple[int, int] | None  # x from … to of the shaded span
    y_max: float


@dataclass(frozen=True, slots=True)
class Chart:
    png: bytes
    layout: ChartLayout
    alt: str = field(default="")


def series_from_buckets(
    buckets: Mapping[datetime, float],
    usual_between: Callable[[datetime, datetime], float],
    now: datetime,
    *,
    incident: tuple[datetime, datetime | None] | None = None,
    peak: int | None = None,
    peak_at: datetime | None = None,
) -> ReportSeries:
    """The last ``SPAN`` of 5-minute report buckets (keyed by their start, UTC) as ``BUCKET``
    bars on the clock's quarter hours, the last one holding ``now``; ``usual_between(start,
    end)`` is the baseline's usual count for a bar."""
    end = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0) + BUCKET
    start = end - SPAN
    n = int(SPAN / BUCKET)
    counts = [0.0] * n
    for at, count in buckets.items():
        if start <= at < end:
            counts[int((at - start) / BUCKET)] += count
    usual = tuple(usual_between(start + i * BUCKET, start + (i + 1) * BUCKET) for i in range(n))
    return ReportSeries(start, tuple(float(round(c)) for c in counts), usual, incident=incident, peak=peak, peak_at=peak_at)


def tells_reports(event: IncidentEvent) -> bool:
    """Whether a message about ``event`` carries the chart: when user reports are part of its
    evidence (or, for the recovery, when the incident had a peak of them)."""
    if event.kind is EventKind.RESOLVED:
        return bool(event.report_peak)
    return any(e.role is SourceRole.CROWD and e.reports for e in event.evidence)


def series_span(event: IncidentEvent) -> tuple[datetime, datetime | None]:
    """The incident's span as the chart shades it."""
    return (event.started_at, event.resolved_at if event.kind is EventKind.RESOLVED else None)


@lru_cache(maxsize=8)
def _font(size: int):  # type: ignore[no-untyped-def]
    from PIL import ImageFont

    return ImageFont.truetype(str(FONT), size, layout_engine=ImageFont.Layout.BASIC)


def _visual(text: str, rtl: bool) -> str:
    """A logical string as Pillow's basic layout must get it: Arabic shaped and reordered."""
    plain = strip_bidi_controls(text)
    if not rtl:
        return plain
    import arabic_reshaper
    from bidi import get_display

    return get_display(arabic_reshaper.reshape(plain), base_dir="R")


def _nice_max(value: float) -> float:
    """A round upper bound for the y axis (1, 2, 5 × 10ⁿ)."""
    if value <= 5:
        return 5.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 1.5, 2, 3, 4, 5, 6, 8, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10.0 * magnitude


def report_chart(series: ReportSeries, service: str, *, t: Translator, now: datetime) -> Chart:
    """The chart of ``series`` for ``service`` (its name in ``t``'s language)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    overlay = Image.new("RGBA", (WIDTH, HEIGHT), (0, 0, 0, 0))
    draw, shade = ImageDraw.Draw(image), ImageDraw.Draw(overlay)
    labels: list[str] = []
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(1, len(series.counts))
    y_max = _nice_max(max([*series.counts, *series.usual, float(series.peak or 0), 1.0]))

    def x_of(at: datetime) -> int:
        return LEFT + round(plot_w * (at - series.start).total_seconds() / (n * BUCKET.total_seconds()))

    def y_of(value: float) -> int:
        return TOP + plot_h - round(plot_h * min(value, y_max) / y_max)

    def text(xy: tuple[int, int], value: Text | str, size: int, fill: tuple[int, int, int], anchor: str) -> None:
        labels.append(strip_bidi_controls(value))
        draw.text(xy, _visual(value, t.rtl), font=_font(size), fill=fill, anchor=anchor)

    # grid and y labels: 0, half, max
    for fraction in (0.0, 0.5, 1.0):
        y = y_of(y_max * fraction)
        draw.line([(LEFT, y), (WIDTH - RIGHT, y)], fill=GRID, width=1)
        text((LEFT - 8, y), t.number(round(y_max * fraction)), 13, MUTED, "rm")

    # the incident's span, shaded behind everything
    span_px: tuple[int, int] | None = None
    if series.incident is not None:
        begin, end = series.incident
        x0 = max(LEFT, x_of(begin))
        x1 = min(WIDTH - RIGHT, x_of(end or now))
        if x1 > x0:
            shade.rectangle([(x0, TOP), (x1, TOP + plot_h)], fill=INCIDENT)
            span_px = (x0, x1)

    # the usual level as a band from zero
    outline: list[tuple[int, int]] = []
    for i, u in enumerate(series.usual):
        outline += [(LEFT + round(plot_w * i / n), y_of(u)), (LEFT + round(plot_w * (i + 1) / n), y_of(u))]
    if outline:
        shade.polygon([(LEFT, TOP + plot_h), *outline, (LEFT + plot_w, TOP + plot_h)], fill=USUAL)
    image.paste(overlay, (0, 0), overlay)
    draw = ImageDraw.Draw(image)

    # the bars
    bars: list[tuple[int, int]] = []
    width = max(1, plot_w // n - 2)
    for i, count in enumerate(series.counts):
        x0 = LEFT + round(plot_w * i / n) + 1
        top = y_of(count)
        if count > 0:
            draw.rectangle([(x0, top), (x0 + width - 1, TOP + plot_h)], fill=BAR)
        bars.append((x0 + width // 2, top))

    # x labels every 3 hours of the reader's clock (whole hours in every time zone we know
    # are whole UTC quarter-hours, so stepping through UTC hours and quarters finds them)
    tick = series.start.replace(minute=series.start.minute - series.start.minute % 15, second=0, microsecond=0)
    while tick <= series.start + n * BUCKET:
        local = tick.astimezone(t.tz)
        if tick >= series.start and local.minute == 0 and local.hour % 3 == 0:
            x = x_of(tick)
            draw.line([(x, TOP + plot_h), (x, TOP + plot_h + 4)], fill=MUTED, width=1)
            text((x, TOP + plot_h + 8), t.time(tick), 13, MUTED, "mt")
        tick += BUCKET

    # the peak, as the detector counted it: a 15-minute window ending at ``peak_at``, which
    # straddles two bars, so it is a marker at its own time and height, not a bar
    peak_px: tuple[int, int] | None = None
    if series.peak and series.peak_at is not None:
        peak_px = (x_of(series.peak_at), y_of(series.peak))
        draw.ellipse([(peak_px[0] - 5, peak_px[1] - 5), (peak_px[0] + 5, peak_px[1] + 5)], fill=PEAK, outline=TEXT)
        label = t.ngettext("Peak: {n} report at {time}", "Peak: {n} reports at {time}", series.peak, time=t.time(series.peak_at))
        anchor = "rb" if peak_px[0] > WIDTH * 0.7 else "lb"
        text((peak_px[0] + (-10 if anchor == "rb" else 10), max(TOP + 14, peak_px[1] - 8)), label, 15, TEXT, anchor)

    # title and legend: on the reader's side
    hours = t.ngettext("{n} hour", "{n} hours", int(SPAN / timedelta(hours=1)))  # "24 hours", not "1 day"
    title = t.gettext("User reports for {service}, last {span}", service=service, span=hours)
    legend = t.gettext("Shaded green: the usual level · bars: reports per {bucket}", bucket=t.duration(BUCKET))
    if t.rtl:
        text((WIDTH - RIGHT, 14), title, 18, TEXT, "ra")
        text((WIDTH - RIGHT, 40), legend, 13, MUTED, "ra")
    else:
        text((LEFT, 14), title, 18, TEXT, "la")
        text((LEFT, 40), legend, 13, MUTED, "la")

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    layout = ChartLayout(tuple(bars), peak_px, tuple(labels), span_px, y_max)
    return Chart(buffer.getvalue(), layout, alt=strip_bidi_controls(title))
