"""The fake's world model: recorded requests, injected faults, rate-limit settings, guilds,
interactions and gateway events — plain dataclasses that tests assert on."""

from __future__ import annotations

import asyncio
import collections
import json
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from tests.fake_discord.server import FakeDiscord

from tests.fake_discord.wire import FLAG_LOADING, now_iso

# --------------------------------------------------------------------------- records


@dataclass
class RecordedRequest:
    """One REST request as the fake saw it, with the status it answered."""

    method: str
    path: str  # without the /api/v10 prefix, e.g. "/channels/123/messages"
    route: str  # template, e.g. "/channels/{channel_id}/messages"
    query: dict[str, str]
    body: Any
    status: int = 0
    channel_id: int | None = None
    at: float = 0.0  # time.monotonic()

    @property
    def key(self) -> str:
        return f"{self.method} {self.route}"


@dataclass
class Fault:
    """A queued response that replaces the real one for a matching request (``status`` None:
    the real answer, once ``gate`` is set — a request held on the wire)."""

    status: int | None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    times: int = 1
    gate: asyncio.Event | None = None


@dataclass
class RateLimits:
    """Optional limiter: ``global_limit`` requests per ``global_window`` for bot-token routes and
    ``channel_limit`` per ``channel_window`` per (route, channel), answered with Discord's 429s."""

    global_limit: int | None = None
    global_window: float = 1.0
    channel_limit: int | None = None
    channel_window: float = 5.0
    #: Discord's Cloudflare ban: this many 401/403/429 answers within ``invalid_window`` seconds
    #: and every further request gets a 429 without ``Via`` (an HTML body), as a banned bot would
    invalid_limit: int | None = None
    invalid_window: float = 600.0


@dataclass
class FakeGuild:
    """Guild state: payload-shaped roles/channels/members keyed by int id."""

    id: int
    name: str
    owner_id: int
    bot_role_id: int
    preferred_locale: str = "en-US"
    roles: dict[int, dict[str, Any]] = field(default_factory=dict)
    channels: dict[int, dict[str, Any]] = field(default_factory=dict)
    members: dict[int, dict[str, Any]] = field(default_factory=dict)  # user id -> {"roles": [...], ...}
    joined_at: str = field(default_factory=now_iso)

    @property
    def channel_ids(self) -> list[int]:
        return list(self.channels)

    def channel_by_name(self, name: str) -> int:
        for cid, ch in self.channels.items():
            if ch["name"] == name:
                return cid
        raise KeyError(name)


class FakeInteraction:
    """One interaction the fake dispatched; tests await what the bot answered."""

    def __init__(self, fake: FakeDiscord, payload: dict[str, Any], component_message_id: int | None = None) -> None:
        self._fake = fake
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.guild_id = int(payload["guild_id"]) if payload.get("guild_id") else None
        self.channel_id = int(payload["channel_id"]) if payload.get("channel_id") else None
        self.dispatched_at = time.monotonic()
        self.responded_at: float | None = None
        self.callback: dict[str, Any] | None = None  # what the bot POSTed to /callback
        self.original_id: int | None = component_message_id if self.type == 3 else None
        self.followup_ids: list[int] = []
        self.modal: dict[str, Any] | None = None

    @property
    def response_delay(self) -> float | None:
        """Seconds from dispatch to the callback (Discord allows 3)."""
        return None if self.responded_at is None else self.responded_at - self.dispatched_at

    @property
    def original(self) -> dict[str, Any] | None:
        return self._fake._messages_by_id.get(self.original_id) if self.original_id else None

    @property
    def followups(self) -> list[dict[str, Any]]:
        return [self._fake._messages_by_id[m] for m in self.followup_ids if m in self._fake._messages_by_id]

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete choices the bot answered (callback type 8)."""
        if not self.callback or self.callback.get("type") != 8:
            return []
        return list((self.callback.get("data") or {}).get("choices", []))

    async def wait_response(self, timeout: float = 5.0) -> dict[str, Any]:
        """The callback JSON the bot sent (``{"type": 4, "data": {...}}`` …)."""
        await self._fake.wait_for(lambda: self.callback is not None, timeout=timeout)
        assert self.callback is not None
        return self.callback

    async def wait_original(
        self, timeout: float = 5.0, predicate: Callable[[dict[str, Any]], bool] | None = None
    ) -> dict[str, Any]:
        """The original response message once it is no longer loading (and ``predicate`` holds)."""

        def ready() -> bool:
            msg = self.original
            if msg is None or msg.get("flags", 0) & FLAG_LOADING:
                return False
            return predicate(msg) if predicate else True

        await self._fake.wait_for(ready, timeout=timeout)
        assert self.original is not None
        return self.original

    async def wait_followups(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        await self._fake.wait_for(lambda: len(self.followup_ids) >= count, timeout=timeout)
        return self.followups


# --------------------------------------------------------------------------- gateway


class GatewayConn:
    """One websocket connection; serialises sends so the zlib stream stays ordered."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self.zlib = zlib.compressobj() if compress == "zlib-stream" else None
        self.lock = asyncio.Lock()
        self.session: GatewaySession | None = None

    async def send(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload)
        async with self.lock:
            if self.ws.closed:
                return
            if self.zlib is not None:
                blob = self.zlib.compress(data.encode()) + self.zlib.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(blob)
            else:
                await self.ws.send_str(data)


@dataclass
class GatewaySession:
    session_id: str
    intents: int
    shard: tuple[int, int]
    seq: int = 0
    conn: GatewayConn | None = None
    buffer: collections.deque[dict[str, Any]] = field(default_factory=lambda: collections.deque(maxlen=5000))

    def wants(self, guild_id: int | None) -> bool:
        return guild_id is None or (guild_id >> 22) % self.shard[1] == self.shard[0]


@dataclass
class GatewayEvent:
    """A frame the fake received on the gateway (for assertions on IDENTIFY/RESUME…)."""

    op: int
    data: Any
    at: float
