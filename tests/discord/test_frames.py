"""The gateway's frames one event-loop turn each (``bot.discord.frames``): the real bot against
the loopback fake, which sends its burst of GUILD_CREATEs at connect as fast as the socket
takes them, as Discord does."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.catalog import load_catalog
from bot.discord.client import OutageBot, Runtime
from bot.discord.frames import take_turns
from bot.net.client import HttpClient
from bot.services.crowd import CrowdService
from bot.settings import Settings
from tests.fake_discord.client import discord_py_on_fake

GUILDS = 150
SAFETY_TIMEOUT = 30.0  # against hangs only


def available(client: OutageBot) -> int:
    """Guilds whose GUILD_CREATE was parsed (READY lists them all as unavailable first)."""
    return sum(not guild.unavailable for guild in client.guilds)


class QuickBot(OutageBot):
    """The production bot without the waits meant for Discord's pacing (as the e2e tests)."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime, guild_ready_timeout=0.05)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


async def test_a_burst_of_guilds_is_parsed_one_frame_per_loop_turn(sqlite_db: Any) -> None:
    """A task that looks once per loop turn never sees more than one new guild between two
    looks: nothing else waits behind a whole socket read of frames. (Without the turns, the
    burst arrives dozens of guilds per read and each read is parsed in one go.)"""
    guilds = [(f"g{i}", tuple(f"c{j}" for j in range(30))) for i in range(GUILDS)]
    async with discord_py_on_fake(*guilds) as fake:
        catalog = load_catalog()
        async with HttpClient() as http:
            client = QuickBot(Runtime.build(Settings(), catalog, http, crowd=CrowdService(catalog)))
            started = asyncio.create_task(client.start(fake.token))
            seen: list[int] = []
            try:
                async with asyncio.timeout(SAFETY_TIMEOUT):
                    while not seen or seen[-1] < GUILDS:
                        seen.append(available(client))
                        await asyncio.sleep(0)
            finally:
                await client.close()
                await asyncio.wait_for(started, SAFETY_TIMEOUT)
    steps = [b - a for a, b in zip(seen, seen[1:])]
    assert seen[-1] == GUILDS and max(steps) <= 1, f"{max(steps)} guilds parsed in one loop turn"


def test_turn_taking_is_installed_once_and_keeps_the_method_it_wraps() -> None:
    class Http:
        async def ws_connect(self, url: str, *, compress: int = 0) -> str:
            return url

    http = Http()
    take_turns(http)  # type: ignore[arg-type]
    wrapped = http.ws_connect
    take_turns(http)  # type: ignore[arg-type]
    assert http.ws_connect is wrapped and wrapped.__name__ == "ws_connect"
