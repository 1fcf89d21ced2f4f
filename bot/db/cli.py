"""``python -m bot db upgrade``: apply pending migrations to DATABASE_URL."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.db.setup import IN_MEMORY, in_memory, upgrade
from bot.settings import redact_url
from bot.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION")
    actions.required = True
    actions.add_parser("upgrade", help="apply every pending migration (run does this itself at start)")


def main(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if in_memory(settings.database_url):
        print(f"error: DATABASE_URL={IN_MEMORY} lives inside one process: there is nothing to upgrade (run builds it at start)", file=sys.stderr)
        return 2
    try:
        asyncio.run(upgrade(settings.database_url))
    except (OSError, ConnectionError) as exc:
        print(f"error: cannot reach the database at {redact_url(settings.database_url)}: {exc}", file=sys.stderr)
        return 2
    print(f"database at {redact_url(settings.database_url)} is up to date")
    return 0
