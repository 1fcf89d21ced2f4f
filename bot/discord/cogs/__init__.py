"""Slash-command cogs (discord.py extensions), and what they share: the ``service``
autocomplete, answered from memory (the catalog) well inside Discord's 3-second window.

Each extension's ``setup(bot)`` takes the ``Runtime`` from ``bot.runtime``: resources are made
once by ``bot.discord.client.run_bot`` and handed in, never created by a cog.
"""

from __future__ import annotations

from typing import Collection

from discord import app_commands

from bot.catalog import ALL, Catalog, Match
from bot.i18n import N_, bilingual
from bot.i18n import in_arabic_script
from bot.services.subscriptions import ALL_WORDS

#: the command extensions the bot loads
EXTENSIONS = ("bot.discord.cogs.status", "bot.discord.cogs.subscriptions", "bot.discord.cogs.settings", "bot.discord.cogs.reports")

ALL_SERVICES = N_("All services")
CHOICE_MAX = 100


def ui(table: dict[str, str], key: str) -> str:
    """``bilingual(table[key])`` for command descriptions and choice names. A function of its
    own so message extraction does not take the *key* for a msgid (``bilingual(X["status"])``
    would extract "status"); the msgids are marked with ``N_`` in ``bot.notify.render``."""
    return bilingual(table[key])


def extensions() -> list[str]:
    """The extensions to load."""
    return list(EXTENSIONS)


def _choice_name(match: Match) -> str:
    """The label that matched, with the service's name in the same script when they differ
    (``واتس اب (واتساب)``, ``gh (GitHub)``)."""
    service = match.service
    display = service.name_ar if in_arabic_script(match.label) else service.name
    name = match.label if match.label == display else f"{match.label} ({display})"
    return name[:CHOICE_MAX]


def service_choices(
    catalog: Catalog, current: str, *, with_all: bool = False, own_pages: Collection[str] = ()
) -> list[app_commands.Choice[str]]:
    """Up to 25 suggestions for what is being typed; the value is the matched label itself, so
    a query typed in Arabic stays Arabic (and ``/isitdown`` then answers in Arabic). Status
    pages typed by users are suggested only to a guild that follows them (``own_pages``): which
    pages other servers follow is theirs to know."""
    typed = current.strip()[:CHOICE_MAX]  # what is being typed: Discord caps it, so do we
    choices: list[app_commands.Choice[str]] = []
    if with_all and (not typed or any(word.startswith(typed.casefold()) for word in ALL_WORDS)):
        value = "الكل" if in_arabic_script(typed) else ALL
        choices.append(app_commands.Choice(name=bilingual(ALL_SERVICES), value=value))
    for match in catalog.search(typed, limit=len(catalog)):
        if len(choices) >= 25:
            break
        if any(spec.guarded for spec in match.service.sources) and match.service.id not in own_pages:
            continue
        choices.append(app_commands.Choice(name=_choice_name(match), value=match.label[:CHOICE_MAX]))
    return choices
