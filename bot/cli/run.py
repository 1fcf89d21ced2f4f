"""``python -m bot run``: validate everything an operator controls, then start the bot.

Checks come first and fail with one line (exit 2): the token, DATABASE_URL, SERVICES_FILE and
the catalog it names. Only then is the Discord client built (``bot.discord.client.run_bot``), which
applies pending migrations before connecting.
"""

from __future__ import annotations

import argparse
import asyncio

from bot.catalog import load_catalog
from bot.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "Configuration comes from the environment: see the README's configuration table."


def main(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    settings.require_token()
    catalog = load_catalog(settings.services_file)  # a broken catalog stops us before we connect

    from bot.discord.client import run_bot

    return asyncio.run(run_bot(settings, catalog))
