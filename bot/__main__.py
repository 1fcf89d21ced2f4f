"""``python -m bot``: run | simulate | check | inspect | db upgrade.

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and
``main(args) -> int``; this file only dispatches. Operator mistakes (a missing token, a bad
DATABASE_URL or catalog) print one line and exit 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Callable

from bot import __version__

#: subcommand → (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "run": ("bot.cli.run", "connect to Discord and run the bot (needs DISCORD_TOKEN)"),
    "simulate": ("bot.simulate.cli", "replay a bundled outage through the real pipeline and print the alerts (no token)"),
    "check": ("bot.cli.check", "the /isitdown answer for a service or URL, in the terminal"),
    "inspect": ("bot.cli.inspect", "read one source once and print the observation as JSON"),
    "db": ("bot.db.cli", "database maintenance: db upgrade applies pending migrations"),
}
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Outage bot: watches services and posts Arabic and English outage alerts to Discord.",
    )
    parser.add_argument("--version", action="version", version=f"outage-bot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)  # a missing subcommand is a broken install: say so
        command = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(command)
        command.set_defaults(handler=module.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    from bot.catalog import CatalogError
    from bot.settings import SettingsError

    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except (SettingsError, CatalogError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
