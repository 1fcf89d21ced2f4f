"""The gateway's frames, one event-loop turn each.

discord.py reads its gateway websocket in a loop that does not suspend while frames are
buffered (``receive`` returns at once when one is waiting). At start-up Discord sends one
``GUILD_CREATE`` per guild, so a bot in hundreds of guilds gets a burst, and discord.py parses
all that one socket read holds in one go: 80–300 ms of the event loop per read at 400 guilds of
250 channels (``benchmarks/process.py``, traced to ``Shard.worker`` → ``received_message``),
while every command, poll and reply waits. ``take_turns`` makes the client's gateway sockets
give the loop one turn after each frame — a ``sleep(0)``, microseconds, on a handful of frames a
second once connected — so the longest stall is one frame's parse.

It wraps the one public method discord.py opens its websockets with, ``HTTPClient.ws_connect``,
and hands back the socket itself behind a thin proxy whose ``receive`` yields after each frame;
everything else reaches the socket unchanged.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from discord.http import HTTPClient


class TurnTakingSocket:
    """A websocket whose ``receive`` lets the event loop run once before returning a frame."""

    __slots__ = ("_socket",)

    def __init__(self, socket: Any) -> None:
        self._socket = socket

    async def receive(self, timeout: float | None = None) -> Any:
        message = await self._socket.receive(timeout)
        await asyncio.sleep(0)  # the loop's turn: whatever else is ready runs before this frame's parse
        return message

    def __getattr__(self, name: str) -> Any:
        return getattr(self._socket, name)


def take_turns(http: HTTPClient) -> None:
    """Wrap every websocket ``http`` opens from now on in a ``TurnTakingSocket`` (idempotent)."""
    connect = http.ws_connect
    if getattr(connect, "_takes_turns", False):
        return

    @functools.wraps(connect)
    async def ws_connect(*args: Any, **kwargs: Any) -> Any:
        return TurnTakingSocket(await connect(*args, **kwargs))

    ws_connect._takes_turns = True  # type: ignore[attr-defined]
    http.ws_connect = ws_connect  # type: ignore[method-assign]
