"""What secret redaction costs on hostile log values: ``redact`` on adversarial text of
growing size (it must grow linearly: the old regular expression took 7.8 s on a 100 kB URL),
and a whole log record carrying a 1 MB value (bounded: only ``MESSAGE_MAX`` and a margin are
read), against the baseline of one ``str.replace`` pass over the same text, in the same run.

    python benchmarks/redact.py [--n 1000000]

Prints a table and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.ops import logs  # noqa: E402

CASES = {
    "letters": lambda n: "a" * n,
    "url-like": lambda n: "https://" + "a" * n,
    "scheme-colon": lambda n: "a://b:" * (n // 6),
    "dashes": lambda n: "a-" * (n // 2) + "://",
    "token-ish": lambda n: ("A" * 24 + ".") * (n // 25),
    "no-at": lambda n: "x://u:" + "p" * n,
}


def timed(fn, *args) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="size of the largest value (characters)")
    args = parser.parse_args()
    sizes = [args.n // 100, args.n // 10, args.n]
    print(f"{'case':<14}" + "".join(f"{s:>14,}" for s in sizes) + f"{'x10 ratio':>11}{'baseline':>11}")
    worst_s, worst_ratio = 0.0, 0.0
    for name, make in CASES.items():
        times = [timed(logs.redact, make(s)) for s in sizes]
        base = timed(str.replace, make(sizes[-1]), "\x00", "")
        ratio = times[-1] / max(times[-2], 1e-9)
        worst_s, worst_ratio = max(worst_s, times[-1]), max(worst_ratio, ratio)
        print(f"{name:<14}" + "".join(f"{t * 1000:>12.2f}ms" for t in times) + f"{ratio:>11.1f}{base * 1000:>9.2f}ms")

    out = io.StringIO()
    handler = logs.setup_logging("json", stream=out)
    log = logging.getLogger("benchmark.redact")
    record_s = 0.0
    try:
        for make in CASES.values():
            value = make(args.n)
            record_s = max(record_s, timed(lambda v: log.warning("isitdown %r", v, extra={"value": v}), value))
    finally:
        logging.getLogger().removeHandler(handler)
    longest = max(len(line) for line in out.getvalue().splitlines())
    print(f"\none log record carrying a {args.n:,}-character value: {record_s * 1000:.2f} ms at worst, "
          f"longest line {longest:,} characters (MESSAGE_MAX {logs.MESSAGE_MAX:,}, VALUE_MAX {logs.VALUE_MAX:,})")
    print(json.dumps({
        "benchmark": "redact", "chars": args.n, "redact_worst_s": round(worst_s, 4),
        "growth_x10_worst": round(worst_ratio, 2), "record_worst_ms": round(record_s * 1000, 3),
        "record_longest_line": longest,
    }))


if __name__ == "__main__":
    main()
