"""``python -m bot check SERVICE|URL [--lang ar|en]``: the ``/isitdown`` answer in a terminal.

Probes live, once, through the real sources of the service (or the URL through the SSRF
guard, which ``ALLOW_PRIVATE_TARGETS=1`` relaxes), fuses the readings as the bot does and
prints the rendered answer. No database and no token needed. Exit status: 0 answered, 2 the
service is unknown or the URL refused (one line on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime, timezone
from typing import TextIO

from bot.catalog import Catalog, load_catalog
from bot.i18n import LOCALES, translations
from bot.net.client import HttpClient
from bot.notify.render import render_verdict
from bot.services.custom import CustomServices
from bot.services.errors import UserError
from bot.services.guilds import canonical_timezone
from bot.services.status import StatusService
from bot.settings import Settings
from bot.sources.base import Fetcher

EXIT_OK = 0
EXIT_USAGE = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="SERVICE|URL", help="a service id, name or alias (either script), or a web address")
    parser.add_argument(
        "--lang", choices=LOCALES, default=None,
        help="answer language (default: Arabic for a query in Arabic script, else English)",
    )
    parser.add_argument("--tz", default="UTC", type=_zone, help="IANA time zone for the times shown (default UTC)")


def _zone(value: str) -> str:
    try:
        return canonical_timezone(value)
    except UserError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an IANA time zone (e.g. Asia/Riyadh)") from None


def main(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    catalog = load_catalog(settings.services_file)

    async def go() -> int:
        async with HttpClient(allow_private=settings.allow_private_targets) as fetcher:
            return await check(
                args.target, catalog, fetcher, lang=args.lang, tz=args.tz,
                allow_private=settings.allow_private_targets, canaries=settings.canary_targets,
            )

    return asyncio.run(go())


async def check(
    query: str,
    catalog: Catalog,
    fetcher: Fetcher,
    *,
    lang: str | None = None,
    tz: str = "UTC",
    allow_private: bool = False,
    canaries: tuple[str, ...] = (),
    now: datetime | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Print the answer for ``query`` to ``out``; a user-facing refusal to ``err`` (exit 2)."""
    out = out or sys.stdout
    err = err or sys.stderr
    status = StatusService(
        catalog, fetcher, allow_private=allow_private, canaries=canaries,
        custom=CustomServices(catalog, fetcher, allow_private=allow_private),  # a status page URL read in its format
    )
    try:
        target = status.target(query)
        answer = await status.live(target, now or datetime.now(timezone.utc))
    except UserError as exc:
        t = translations(lang or exc.lang or "en", tz)
        print(f"error: {t.message(exc.msgid, **exc.kwargs)}", file=err)
        return EXIT_USAGE
    t = translations(lang or target.lang or "en", tz)
    message = render_verdict(answer.verdict, target.names, t=t, now=answer.verdict.at)
    print(message.as_text(), file=out)
    return EXIT_OK
