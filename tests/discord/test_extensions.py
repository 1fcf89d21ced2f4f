"""Meta-test (python-discord/bot style): every cog module in ``bot/cogs`` is an extension the
bot loads, and each one loads into a real ``OutageBot`` with its commands registered."""

from __future__ import annotations

import pkgutil
from typing import Any, AsyncIterator

import pytest

import bot.discord.cogs
from bot.discord.client import OutageBot, Runtime
from bot.catalog import load_catalog
from bot.discord.cogs import extensions
from bot.services.crowd import CrowdService
from bot.net.client import HttpClient
from bot.settings import Settings

ALL_COG_MODULES = sorted(f"bot.discord.cogs.{m.name}" for m in pkgutil.iter_modules(bot.discord.cogs.__path__) if not m.name.startswith("_"))


@pytest.fixture
async def outage_bot(sqlite_db: Any) -> AsyncIterator[OutageBot]:
    catalog = load_catalog()
    runtime = Runtime.build(Settings(), catalog, HttpClient(), crowd=CrowdService(catalog))
    client = OutageBot(runtime)
    try:
        yield client
    finally:  # never connected, so nothing to close but the extensions (cog_unload)
        for name in list(client.extensions):
            await client.unload_extension(name)


def test_every_cog_module_is_loaded_by_the_bot() -> None:
    assert ALL_COG_MODULES, "no cog modules found"
    assert sorted(extensions()) == ALL_COG_MODULES


@pytest.mark.parametrize("name", ALL_COG_MODULES)
async def test_extension_loads_and_unloads(outage_bot: OutageBot, name: str) -> None:
    before = {c.name for c in outage_bot.tree.get_commands()}
    await outage_bot.load_extension(name)
    added = {c.name for c in outage_bot.tree.get_commands()} - before
    assert added, f"{name} registered no slash command"
    await outage_bot.unload_extension(name)
    assert {c.name for c in outage_bot.tree.get_commands()} == before


async def test_all_extensions_together_make_the_designed_commands(outage_bot: OutageBot) -> None:
    for name in extensions():
        await outage_bot.load_extension(name)
    names = {c.name for c in outage_bot.tree.get_commands()}
    assert names == {"isitdown", "status", "subscribe", "unsubscribe", "subscriptions", "report", "settings"}
