"""Helpers that start the real discord.py against the fake, for tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import discord

from tests.fake_discord.server import FakeDiscord


@asynccontextmanager
async def discord_py_on_fake(*guilds: tuple[str, tuple[str, ...]], **kwargs: Any) -> AsyncIterator[FakeDiscord]:
    """A started fake (with ``guilds`` as ``(name, channels)``) and discord.py's REST base
    pointed at it; discord.py's endpoints are restored afterwards."""
    from bot.discord.api_base import configure_api_base, reset_discord_endpoints

    async with FakeDiscord(**kwargs) as fake:
        for name, channels in guilds:
            fake.add_guild(name, channels=channels)
        configure_api_base(fake.api_base)
        try:
            yield fake
        finally:
            reset_discord_endpoints()


@asynccontextmanager
async def rest_client(fake: FakeDiscord, **client_kwargs: Any) -> AsyncIterator["discord.Client"]:
    """The real discord.py client logged in over REST only (no gateway, no cache): all a
    delivery worker needs. ``client_kwargs`` go to ``discord.Client`` (e.g. ``http_trace``)."""
    import discord

    client = discord.Client(intents=discord.Intents.none(), **client_kwargs)
    await client.login(fake.token)
    try:
        yield client
    finally:
        await client.close()
