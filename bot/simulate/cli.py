"""``python -m bot simulate [SCENARIO] [--lang ar|en|both] [--speed N] [--charts DIR]``.

Replays a bundled outage through the real pipeline and prints what a subscribed channel would
receive. No token, no internet, no Discord: see ``bot.simulate.runner``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from bot.ops.logs import setup_logging
from bot.settings import SettingsError, log_format_of
from bot.simulate import scenarios
from bot.simulate.runner import default_speed, run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "scenario",
        nargs="?",
        default=scenarios.DEFAULT,
        choices=list(scenarios.names()),
        help=f"which story to replay (default: {scenarios.DEFAULT})",
    )
    parser.add_argument(
        "--lang",
        choices=("ar", "en", "both"),
        default="both",
        help="which subscribed channel to show: Arabic, English, or the one that gets both (default: both)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=None,
        metavar="N",
        help="virtual seconds per real second (0: as fast as possible; default: the scenario plays in about 12 s)",
    )
    parser.add_argument(
        "--charts",
        type=Path,
        default=None,
        metavar="DIR",
        help="write the report chart each shown message would carry, as PNG files in DIR",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="show the bot's own log lines (stderr)")


def main(args: argparse.Namespace) -> int:
    try:
        log_format = log_format_of(os.environ)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    setup_logging(log_format, level=logging.INFO if args.verbose else logging.ERROR)
    scenario = scenarios.get(args.scenario)
    speed = default_speed(scenario) if args.speed is None else args.speed
    if speed < 0:
        raise SystemExit("--speed must be 0 (as fast as possible) or positive")
    asyncio.run(run(scenario, show=args.lang, speed=speed, charts=args.charts))
    return 0
