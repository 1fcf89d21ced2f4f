"""What one report chart costs: start-up (import + first chart) and memory added to a fresh
interpreter, then CPU per chart once warm — the bot's ``report_chart`` (Pillow) against the
same 24-hour bar chart drawn by matplotlib's Agg when matplotlib is installed, in the same run.

    python benchmarks/chart.py [--n 50]

Each variant runs in its own fresh interpreter so that imports and memory are its own; the
baseline row is an empty interpreter. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
t0 = time.process_time()
variant, n = {variant!r}, {n}
from datetime import datetime, timedelta, timezone
start = datetime(2025, 3, 9, 13, 0, tzinfo=timezone.utc)
counts = tuple(float(10 + (25800 if i == 80 else 0) + (i % 7)) for i in range(96))
usual = tuple(12.0 for _ in range(96))
def render():
    if variant == "pillow":
        from bot.i18n import translations
        from bot.notify.render.chart import ReportSeries, report_chart
        series = ReportSeries(start, counts, usual, incident=(start + timedelta(hours=20), None), peak=25800, peak_at=start + timedelta(hours=20, minutes=6))
        return report_chart(series, "إكس", t=translations("ar", "Asia/Riyadh", "arab"), now=start + timedelta(hours=24)).png
    if variant == "matplotlib":
        import io
        import matplotlib
        matplotlib.use("Agg")
        from matplotlib.figure import Figure
        fig = Figure(figsize=(9.6, 4.2), dpi=100)
        ax = fig.add_subplot()
        ax.bar(range(96), counts, color="#5865f2")
        ax.fill_between(range(96), usual, color="#57f287", alpha=0.35)
        ax.axvspan(80, 96, color="#ed4245", alpha=0.15)
        ax.set_title("User reports for X, last 24 hours")
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    return b""
first = render()
cold_cpu = time.process_time() - t0
rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t1 = time.process_time()
for _ in range(n):
    render()
warm_ms = (time.process_time() - t1) / max(1, n) * 1000
print(json.dumps({{"variant": variant, "cold_cpu_s": cold_cpu, "rss_mb": rss_kb / 1024, "warm_ms": warm_ms if variant != "baseline" else 0.0, "bytes": len(first)}}))
"""


def run(variant: str, n: int) -> dict[str, float] | None:
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=str(ROOT), variant=variant, n=n)], capture_output=True, text=True, timeout=300
    )
    if out.returncode != 0:
        if variant == "matplotlib" and "No module named 'matplotlib'" in out.stderr:
            return None
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50, help="warm charts to time per variant")
    args = parser.parse_args()
    rows = {v: run(v, args.n) for v in ("baseline", "pillow", "matplotlib")}
    base = rows["baseline"]
    assert base is not None
    print(f"{'variant':<12} {'start-up CPU s':>15} {'RSS MB':>8} {'+RSS MB':>8} {'ms/chart':>9} {'PNG kB':>7}")
    for name, row in rows.items():
        if row is None:
            print(f"{name:<12} {'(not installed)':>15}")
            continue
        print(
            f"{name:<12} {row['cold_cpu_s']:>15.3f} {row['rss_mb']:>8.1f} {row['rss_mb'] - base['rss_mb']:>8.1f} "
            f"{row['warm_ms']:>9.1f} {row['bytes'] / 1024:>7.1f}"
        )
    pillow = rows["pillow"]
    assert pillow is not None
    result = {
        "benchmark": "chart",
        "charts": args.n,
        "ms_per_chart": round(pillow["warm_ms"], 2),
        "startup_cpu_s": round(pillow["cold_cpu_s"] - base["cold_cpu_s"], 3),
        "rss_added_mb": round(pillow["rss_mb"] - base["rss_mb"], 1),
        "png_kb": round(pillow["bytes"] / 1024, 1),
    }
    mpl = rows["matplotlib"]
    if mpl is not None:
        result |= {
            "matplotlib_ms_per_chart": round(mpl["warm_ms"], 2),
            "matplotlib_startup_cpu_s": round(mpl["cold_cpu_s"] - base["cold_cpu_s"], 3),
            "matplotlib_rss_added_mb": round(mpl["rss_mb"] - base["rss_mb"], 1),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
