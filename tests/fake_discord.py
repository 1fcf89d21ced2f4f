"""A loopback fake of Discord's REST API and gateway that the real discord.py client talks to.

Why: end-to-end tests and the fan-out benchmark must exercise discord.py itself (its rate-limit
handling, its gateway state, its interaction plumbing), not mocks of it. The fake speaks the wire
format discord.py reads (see discord/http.py, gateway.py, state.py, interactions.py,
webhook/async_.py in discord.py 2.7) and keeps its state in plain, inspectable dicts and lists.

Wire details that matter to discord.py:
- JSON bodies go out with ``Content-Type: application/json`` exactly (no charset), else
  discord.py treats them as text.
- A 429 carries ``Via`` (discord.py takes a 429 without it for a Cloudflare ban), Discord's
  ``X-RateLimit-*`` headers, ``Retry-After`` and ``{"message", "retry_after", "global"}``.
- Interaction callbacks come with ``?with_response=1`` and get the callback object back.
- The gateway honours ``compress=zlib-stream`` (one zlib stream, each payload Z_SYNC_FLUSHed).

Usage::

    async with FakeDiscord() as fake:
        guild = fake.add_guild("Test", channels=("alerts",))
        configure_api_base(fake.api_base)          # bot/discord_api.py
        ...  # start a discord.AutoShardedClient with fake.token; adopt_gateway_url in setup_hook
        inter = await fake.invoke_command(guild.id, guild.channel_by_name("alerts"), "isitdown",
                                          {"service": "github"})
        await inter.wait_response()                # the callback JSON
        fake.messages(guild.channel_by_name("alerts"))

State to assert on: ``requests`` (RecordedRequest list), ``stats`` (Counter: requests, 429,
429_global, 429_channel, injected, invalid_requests, nonce_deduplicated, banned), ``messages()``,
``edit_history()``, ``commands()``, ``interactions``, ``gateway_ops()``, ``gateway_connections``.
Faults: ``inject``/``inject_error``/``inject_429``; limits: ``set_rate_limits``.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import json
import re
import secrets
import socket
import time
import uuid
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    import discord

# --------------------------------------------------------------------------- constants

DISCORD_EPOCH_MS = 1420070400000
API_PREFIX = "/api/v10"

# permission bits (https://discord.com/developers/docs/topics/permissions)
CREATE_INSTANT_INVITE = 1 << 0
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
MANAGE_ROLES = 1 << 28
USE_APPLICATION_COMMANDS = 1 << 31
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1

#: what a freshly invited outage bot typically gets: read, write, embed, history
DEFAULT_BOT_PERMISSIONS = (
    VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | READ_MESSAGE_HISTORY | ATTACH_FILES | ADD_REACTIONS
    | USE_EXTERNAL_EMOJIS | SEND_MESSAGES_IN_THREADS
)
#: an ordinary member's computed permissions in a channel
DEFAULT_MEMBER_PERMISSIONS = (
    VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | READ_MESSAGE_HISTORY | ATTACH_FILES | ADD_REACTIONS
    | USE_EXTERNAL_EMOJIS | USE_APPLICATION_COMMANDS | CREATE_INSTANT_INVITE | SEND_MESSAGES_IN_THREADS
)

# gateway intents
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

# message flags / types
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
MSG_DEFAULT, MSG_REPLY, MSG_CHAT_INPUT_COMMAND = 0, 19, 20

# the locales Discord accepts in *_localizations (there is no Arabic one)
DISCORD_LOCALES = frozenset(
    "id da de en-GB en-US es-ES es-419 fr hr it lt hu nl no pl pt-BR ro fi sv-SE vi tr cs el bg ru uk "
    "hi th zh-CN ja zh-TW ko".split()
)

#: canned Discord errors: name -> (status, code, message)
ERRORS: dict[str, tuple[int, int, str]] = {
    "unauthorized": (401, 0, "401: Unauthorized"),
    "missing_access": (403, 50001, "Missing Access"),
    "missing_permissions": (403, 50013, "Missing Permissions"),
    "cannot_edit_other_user": (403, 50005, "Cannot edit a message authored by another user"),
    "unknown_channel": (404, 10003, "Unknown Channel"),
    "unknown_guild": (404, 10004, "Unknown Guild"),
    "unknown_member": (404, 10007, "Unknown Member"),
    "unknown_message": (404, 10008, "Unknown Message"),
    "unknown_webhook": (404, 10015, "Unknown Webhook"),
    "unknown_command": (404, 10063, "Unknown application command"),
    "unknown_interaction": (404, 10062, "Unknown interaction"),
    "already_acknowledged": (400, 40060, "Interaction has already been acknowledged."),
    "empty_message": (400, 50006, "Cannot send an empty message"),
    "server_error": (500, 0, "500: Internal Server Error"),
    "bad_gateway": (502, 0, "502: Bad Gateway"),
}


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """discord.py only parses a body whose Content-Type is exactly ``application/json``: aiohttp
    adds ``; charset=utf-8`` to ``text=`` responses, so send bytes with the header set by hand."""
    resp = web.Response(body=json.dumps(body).encode(), status=status, headers={"Content-Type": "application/json"})
    if headers:
        resp.headers.update(headers)
    return resp


def _error_body(name: str) -> tuple[int, dict[str, Any]]:
    status, code, message = ERRORS[name]
    return status, {"message": message, "code": code}


class _FormErrors:
    """Builds Discord's nested ``Invalid Form Body`` (50035) error object."""

    def __init__(self) -> None:
        self.errors: dict[str, Any] = {}

    def add(self, path: Iterable[str | int], code: str, message: str) -> None:
        node = self.errors
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_len(self, path: Iterable[str | int], value: Any, limit: int) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def __bool__(self) -> bool:
        return bool(self.errors)

    def response(self) -> web.Response:
        return _json_response({"message": "Invalid Form Body", "code": 50035, "errors": self.errors}, 400)


_BODY: web.RequestKey[Any] = web.RequestKey("body")
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _HTTPError(Exception):
    """Raised inside handlers to answer with a Discord error."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response

    @classmethod
    def named(cls, name: str) -> _HTTPError:
        status, body = _error_body(name)
        return cls(_json_response(body, status))


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
    """A queued response that replaces the real one for a matching request."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    times: int = 1


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
    joined_at: str = field(default_factory=_now_iso)

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


class _GatewayConn:
    """One websocket connection; serialises sends so the zlib stream stays ordered."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self.zlib = zlib.compressobj() if compress == "zlib-stream" else None
        self.lock = asyncio.Lock()
        self.session: _GatewaySession | None = None

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
class _GatewaySession:
    session_id: str
    intents: int
    shard: tuple[int, int]
    seq: int = 0
    conn: _GatewayConn | None = None
    buffer: collections.deque[dict[str, Any]] = field(default_factory=lambda: collections.deque(maxlen=5000))

    def wants(self, guild_id: int | None) -> bool:
        return guild_id is None or (guild_id >> 22) % self.shard[1] == self.shard[0]


@dataclass
class GatewayEvent:
    """A frame the fake received on the gateway (for assertions on IDENTIFY/RESUME…)."""

    op: int
    data: Any
    at: float


# --------------------------------------------------------------------------- the fake


class FakeDiscord:
    """Discord REST + gateway on 127.0.0.1; see module docstring."""

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        bot_name: str = "OutageBot",
        heartbeat_interval_ms: int = 41250,
        allow_privileged_intents: bool = False,
        interaction_window: float = 3.0,
        nonce_window: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.allow_privileged_intents = allow_privileged_intents
        self.interaction_window = interaction_window
        self.nonce_window = nonce_window
        self.clock = clock
        self._last_snowflake = 0
        self.application_id = self.snowflake()
        self.bot_user: dict[str, Any] = self._user_payload(self.application_id, bot_name, bot=True)
        self.users: dict[int, dict[str, Any]] = {self.application_id: self.bot_user}
        self.guilds: dict[int, FakeGuild] = {}
        self.deleted_channels: set[int] = set()

        self.requests: list[RecordedRequest] = []
        self.gateway_received: list[GatewayEvent] = []
        self.gateway_connections: list[tuple[str, dict[str, str]]] = []  # (path, query) per websocket
        self.stats: collections.Counter[str] = collections.Counter()
        self.rate_limits = RateLimits()
        self._faults: list[tuple[str, Fault]] = []
        self._global_rl: list[float] = [0.0, 0]  # window start, count
        self._channel_rl: dict[tuple[str, int], list[float]] = {}
        self._invalid_at: collections.deque[float] = collections.deque()

        self._global_commands: dict[str, dict[str, Any]] = {}
        self._guild_commands: dict[int, dict[str, dict[str, Any]]] = {}
        self._command_ids: dict[tuple[int | None, int, str], int] = {}

        self._channel_messages: dict[int, list[int]] = {}
        self._messages_by_id: dict[int, dict[str, Any]] = {}
        self._deleted_messages: set[int] = set()
        self._edit_history: dict[int, list[dict[str, Any]]] = {}
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}

        self.interactions: dict[int, FakeInteraction] = {}
        self._interactions_by_token: dict[str, FakeInteraction] = {}

        self._sessions: dict[str, _GatewaySession] = {}
        self._conns: set[_GatewayConn] = set()
        self._changed: asyncio.Condition | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._default_user: int | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway-resume"

    async def start(self) -> None:
        self._changed = asyncio.Condition()
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        self._add_routes(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))  # a free port, known before the site starts
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        for task in list(self._background):
            task.cancel()
        for conn in list(self._conns):
            if not conn.ws.closed:
                await conn.ws.close(code=1001, message=b"fake discord stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ ids, waiting

    def snowflake(self) -> int:
        """Monotonic snowflakes whose timestamp part is 'now' (discord.py derives created_at)."""
        candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last_snowflake = max(candidate, self._last_snowflake + 1)
        return self._last_snowflake

    async def _notify(self) -> None:
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until ``predicate()`` holds; re-checked after every request or gateway frame."""
        assert self._changed is not None, "FakeDiscord not started"

        async def waiter() -> None:
            async with self._changed:  # type: ignore[union-attr]
                await self._changed.wait_for(predicate)  # type: ignore[union-attr]

        await asyncio.wait_for(waiter(), timeout)

    async def wait_for_messages(self, channel_id: int, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        await self.wait_for(lambda: len(self.messages(channel_id)) >= count, timeout)
        return self.messages(channel_id)

    # ------------------------------------------------------------------ world building

    @staticmethod
    def _user_payload(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
        return {
            "id": str(user_id), "username": name, "discriminator": "0", "global_name": None if bot else name,
            "avatar": None, "bot": bot, "system": False, "public_flags": 0, "flags": 0,
            "banner": None, "accent_color": None, "avatar_decoration_data": None,
            "primary_guild": None, "collectibles": None,
        }

    def add_user(self, name: str = "user", user_id: int | None = None) -> int:
        uid = user_id or self.snowflake()
        self.users[uid] = self._user_payload(uid, name)
        return uid

    @staticmethod
    def _role_payload(role_id: int, name: str, permissions: int, position: int, *, managed: bool = False) -> dict[str, Any]:
        return {
            "id": str(role_id), "name": name, "color": 0, "colors": {"primary_color": 0}, "hoist": False,
            "icon": None, "unicode_emoji": None, "position": position, "permissions": str(permissions),
            "managed": managed, "mentionable": False, "flags": 0,
            **({"tags": {}} if managed else {}),
        }

    def add_guild(
        self,
        name: str = "Test Guild",
        *,
        channels: Iterable[str] = ("general",),
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
        everyone_permissions: int = 0,
        owner_id: int | None = None,
        preferred_locale: str = "en-US",
        guild_id: int | None = None,
    ) -> FakeGuild:
        """A guild the bot is in, with text channels; dispatched as GUILD_CREATE if connected.

        ``@everyone`` gets ``everyone_permissions`` (0 by default) so the bot's effective guild
        permissions are exactly ``bot_permissions`` (its managed role)."""
        gid = guild_id or self.snowflake()
        owner = owner_id or self.add_user("owner")
        guild = FakeGuild(id=gid, name=name, owner_id=owner, bot_role_id=self.snowflake(), preferred_locale=preferred_locale)
        guild.roles[gid] = self._role_payload(gid, "@everyone", everyone_permissions, 0)
        guild.roles[guild.bot_role_id] = self._role_payload(
            guild.bot_role_id, self.bot_user["username"], bot_permissions, 1, managed=True)
        guild.members[self.application_id] = {"roles": [guild.bot_role_id], "joined_at": guild.joined_at, "nick": None}
        guild.members.setdefault(owner, {"roles": [], "joined_at": guild.joined_at, "nick": None})
        self.guilds[gid] = guild
        for cname in channels:
            self._new_channel(guild, cname)
        self._spawn_dispatch("GUILD_CREATE", self._guild_create_payload(guild), gid)
        return guild

    def _new_channel(self, guild: FakeGuild, name: str, type_: int = 0, overwrites: list[dict[str, Any]] | None = None) -> int:
        cid = self.snowflake()
        guild.channels[cid] = {
            "id": str(cid), "type": type_, "guild_id": str(guild.id), "name": name,
            "position": len(guild.channels), "permission_overwrites": overwrites or [], "parent_id": None,
            "topic": None, "nsfw": False, "last_message_id": None, "rate_limit_per_user": 0, "flags": 0,
        }
        self._channel_messages[cid] = []
        return cid

    def add_channel(self, guild_id: int, name: str, *, type_: int = 0, overwrites: list[dict[str, Any]] | None = None) -> int:
        """A new text channel; dispatched as CHANNEL_CREATE."""
        guild = self.guilds[guild_id]
        cid = self._new_channel(guild, name, type_, overwrites)
        self._spawn_dispatch("CHANNEL_CREATE", dict(guild.channels[cid]), guild_id)
        return cid

    def delete_channel(self, channel_id: int) -> None:
        """Remove a channel: REST on it then answers 404 Unknown Channel (10003); CHANNEL_DELETE."""
        guild = self._guild_of_channel(channel_id)
        payload = guild.channels.pop(channel_id)
        self.deleted_channels.add(channel_id)
        self._spawn_dispatch("CHANNEL_DELETE", payload, guild.id)

    def set_bot_permissions(self, guild_id: int, permissions: int, *, channel_id: int | None = None) -> None:
        """Make the bot's effective permissions exactly ``permissions`` guild-wide (its role) or in
        one channel (a member overwrite). The client learns it via GUILD_ROLE_UPDATE/CHANNEL_UPDATE."""
        guild = self.guilds[guild_id]
        if channel_id is None:
            role = guild.roles[guild.bot_role_id]
            role["permissions"] = str(permissions)
            self._spawn_dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(guild_id), "role": dict(role)}, guild_id)
            return
        channel = guild.channels[channel_id]
        overwrites = [o for o in channel["permission_overwrites"] if o["id"] != str(self.application_id)]
        overwrites.append({"id": str(self.application_id), "type": 1, "allow": str(permissions),
                           "deny": str(ALL_PERMISSIONS & ~permissions)})
        channel["permission_overwrites"] = overwrites
        self._spawn_dispatch("CHANNEL_UPDATE", dict(channel), guild_id)

    def _guild_of_channel(self, channel_id: int) -> FakeGuild:
        for guild in self.guilds.values():
            if channel_id in guild.channels:
                return guild
        raise KeyError(channel_id)

    def channel(self, channel_id: int) -> dict[str, Any]:
        return self._guild_of_channel(channel_id).channels[channel_id]

    # ------------------------------------------------------------------ permissions

    def permissions(self, guild_id: int, user_id: int, channel_id: int | None = None) -> int:
        """Discord's permission computation: roles, then channel overwrites; admin/owner = all."""
        guild = self.guilds[guild_id]
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        member_roles = [int(r) for r in guild.members.get(user_id, {}).get("roles", [])]
        perms = int(guild.roles[guild.id]["permissions"])
        for rid in member_roles:
            perms |= int(guild.roles[rid]["permissions"])
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        if channel_id is None:
            return perms
        overwrites = {int(o["id"]): o for o in guild.channels[channel_id]["permission_overwrites"]}
        if ow := overwrites.get(guild.id):
            perms = (perms & ~int(ow["deny"])) | int(ow["allow"])
        allow = deny = 0
        for rid in member_roles:
            if ow := overwrites.get(rid):
                allow |= int(ow["allow"])
                deny |= int(ow["deny"])
        perms = (perms & ~deny) | allow
        if (ow := overwrites.get(user_id)) and ow.get("type", 1) == 1:
            perms = (perms & ~int(ow["deny"])) | int(ow["allow"])
        if not perms & VIEW_CHANNEL:
            return 0
        return perms

    def bot_permissions(self, channel_id: int) -> int:
        return self.permissions(self._guild_of_channel(channel_id).id, self.application_id, channel_id)

    # ------------------------------------------------------------------ payloads

    def _member_payload(self, guild: FakeGuild, user_id: int) -> dict[str, Any]:
        member = guild.members[user_id]
        return {
            "user": self.users[user_id], "roles": [str(r) for r in member["roles"]], "nick": member.get("nick"),
            "avatar": None, "banner": None, "joined_at": member["joined_at"], "premium_since": None,
            "deaf": False, "mute": False, "pending": False, "flags": 0, "communication_disabled_until": None,
        }

    def _guild_payload(self, guild: FakeGuild) -> dict[str, Any]:
        return {
            "id": str(guild.id), "name": guild.name, "icon": None, "splash": None, "discovery_splash": None,
            "banner": None, "description": None, "owner_id": str(guild.owner_id), "afk_channel_id": None,
            "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 1,
            "explicit_content_filter": 0, "features": [], "mfa_level": 0, "application_id": None,
            "system_channel_id": None, "system_channel_flags": 0, "rules_channel_id": None,
            "public_updates_channel_id": None, "safety_alerts_channel_id": None, "vanity_url_code": None,
            "premium_tier": 0, "premium_subscription_count": 0, "preferred_locale": guild.preferred_locale,
            "nsfw_level": 0, "premium_progress_bar_enabled": False, "max_members": 500000,
            "max_video_channel_users": 25, "roles": list(guild.roles.values()), "emojis": [], "stickers": [],
        }

    def _guild_create_payload(self, guild: FakeGuild) -> dict[str, Any]:
        return {
            **self._guild_payload(guild), "joined_at": guild.joined_at, "large": False, "unavailable": False,
            "member_count": len(guild.members), "voice_states": [], "presences": [], "threads": [],
            "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
            "channels": [{k: v for k, v in ch.items() if k != "guild_id"} for ch in guild.channels.values()],
            "members": [self._member_payload(guild, self.application_id)],
        }

    # ------------------------------------------------------------------ faults and limits

    def inject(
        self,
        route: str,
        status: int,
        body: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
        delay: float = 0.0,
    ) -> None:
        """Queue a response for requests matching ``route``: "POST /channels/123/messages" (a path)
        or "POST /channels/{channel_id}/messages" (a template); method "*" matches any."""
        self._faults.append((route, Fault(status, body, dict(headers or {}), delay, times)))

    def inject_error(self, route: str, name: str, *, times: int = 1) -> None:
        """Queue one of :data:`ERRORS` by name ("missing_access", "unknown_channel", "server_error"…)."""
        status, body = _error_body(name)
        self.inject(route, status, body, times=times)

    def inject_429(
        self,
        route: str,
        retry_after: float = 0.05,
        *,
        is_global: bool = False,
        times: int = 1,
        via: bool = True,
    ) -> None:
        """Queue a Discord 429 (``via=False`` imitates a Cloudflare ban, which discord.py won't retry)."""
        headers = self._429_headers(retry_after, is_global=is_global, limit=5, bucket=self._bucket_hash(route))
        if not via:
            headers.pop("Via")
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global}
        self.inject(route, 429, body, headers=headers, times=times)

    def set_rate_limits(
        self,
        *,
        global_limit: int | None = None,
        global_window: float = 1.0,
        channel_limit: int | None = None,
        channel_window: float = 5.0,
        invalid_limit: int | None = None,
        invalid_window: float = 600.0,
    ) -> None:
        """Enforce Discord-style limits (e.g. 50 per 1 s globally, 5 per 5 s per channel route,
        a ban after 10,000 invalid requests in 600 s)."""
        self.rate_limits = RateLimits(global_limit, global_window, channel_limit, channel_window,
                                      invalid_limit, invalid_window)
        self._global_rl = [0.0, 0]
        self._channel_rl.clear()

    @staticmethod
    def _bucket_hash(key: str) -> str:
        return hashlib.sha1(key.encode()).hexdigest()[:16]

    @staticmethod
    def _429_headers(retry_after: float, *, is_global: bool, limit: int, bucket: str, scope: str | None = None) -> dict[str, str]:
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(max(1, int(retry_after + 0.999))),
            "X-RateLimit-Scope": scope or ("global" if is_global else "user"),
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        else:
            headers.update({
                "X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{retry_after:.3f}", "X-RateLimit-Bucket": bucket,
            })
        return headers

    def _banned(self) -> bool:
        rl = self.rate_limits
        if rl.invalid_limit is None:
            return False
        while self._invalid_at and self.clock() - self._invalid_at[0] > rl.invalid_window:
            self._invalid_at.popleft()
        return len(self._invalid_at) >= rl.invalid_limit

    def _take_fault(self, method: str, path: str, route: str) -> Fault | None:
        for i, (pattern, fault) in enumerate(self._faults):
            pm, _, pp = pattern.partition(" ")
            if pm not in ("*", method) or pp not in (path, route):
                continue
            fault.times -= 1
            if fault.times <= 0:
                del self._faults[i]
            return fault
        return None

    def _rate_limit(
        self, method: str, route: str, channel_id: int | None, bot_route: bool
    ) -> tuple[web.Response | None, dict[str, str]]:
        """(429 response or None, headers for a successful response)."""
        rl, now = self.rate_limits, self.clock()
        if rl.global_limit and bot_route:
            start, count = self._global_rl
            if now - start >= rl.global_window:
                self._global_rl = [now, 0]
                start, count = now, 0
            if count >= rl.global_limit:
                retry = round(start + rl.global_window - now, 3)
                self.stats["429_global"] += 1
                body = {"message": "You are being rate limited.", "retry_after": retry, "global": True}
                return _json_response(body, 429, self._429_headers(retry, is_global=True, limit=rl.global_limit, bucket="")), {}
        headers: dict[str, str] = {}
        if rl.channel_limit and channel_id is not None:
            key = f"{method} {route}"
            bucket = self._channel_rl.setdefault((key, channel_id), [now, 0])
            if now - bucket[0] >= rl.channel_window:
                bucket[:] = [now, 0]
            reset_after = round(bucket[0] + rl.channel_window - now, 3)
            if bucket[1] >= rl.channel_limit:
                self.stats["429_channel"] += 1
                body = {"message": "You are being rate limited.", "retry_after": reset_after, "global": False}
                headers = self._429_headers(reset_after, is_global=False, limit=rl.channel_limit,
                                            bucket=self._bucket_hash(key))
                return _json_response(body, 429, headers), {}
            bucket[1] += 1
            headers = {
                "X-RateLimit-Limit": str(rl.channel_limit), "X-RateLimit-Remaining": str(rl.channel_limit - int(bucket[1])),
                "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}", "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Bucket": self._bucket_hash(key),
            }
        if rl.global_limit and bot_route:
            self._global_rl[1] += 1
        return None, headers

    # ------------------------------------------------------------------ HTTP plumbing

    @web.middleware
    async def _middleware(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        if request.path.startswith("/gateway"):
            return await handler(request)
        path = request.path[len(API_PREFIX):] if request.path.startswith(API_PREFIX) else request.path
        info = request.match_info
        if info.http_exception is not None:
            exc = info.http_exception
            return _json_response({"message": f"{exc.status}: {exc.reason}", "code": 0}, exc.status)
        resource = info.route.resource
        canonical = resource.canonical if resource is not None else request.path
        route = canonical[len(API_PREFIX):] if canonical.startswith(API_PREFIX) else canonical
        channel_id = int(info["channel_id"]) if "channel_id" in info and info["channel_id"].isdigit() else None
        body = await self._read_body(request)
        record = RecordedRequest(request.method, path, route, dict(request.query), body,
                                 channel_id=channel_id, at=time.monotonic())
        request[_BODY] = body
        self.requests.append(record)
        self.stats["requests"] += 1
        try:
            response = await self._answer(request, handler, record)
        finally:
            await self._notify()
        record.status = response.status
        if response.status in (401, 403) or (response.status == 429 and response.headers.get("X-RateLimit-Scope") != "shared"):
            self.stats["invalid_requests"] += 1
            self._invalid_at.append(self.clock())
        if response.status == 429:
            self.stats["429"] += 1
        return response

    async def _answer(self, request: web.Request, handler: _Handler, record: RecordedRequest) -> web.StreamResponse:
        bot_route = not record.route.startswith(("/interactions/", "/webhooks/"))
        if bot_route and request.headers.get("Authorization") != f"Bot {self.token}":
            status, body = _error_body("unauthorized")
            return _json_response(body, status)
        if self._banned():
            self.stats["banned"] += 1
            return web.Response(status=429, text="error code: 1015", content_type="text/html")
        fault = self._take_fault(record.method, record.path, record.route)
        if fault is not None:
            self.stats["injected"] += 1
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status == 0:  # drop the connection without an answer
                if request.transport is not None:
                    request.transport.close()
                return web.Response(status=599)
            if isinstance(fault.body, (dict, list)):
                return _json_response(fault.body, fault.status, fault.headers)
            return web.Response(status=fault.status, text=fault.body or "", headers=fault.headers,
                                content_type="text/html")
        limited, rl_headers = self._rate_limit(record.method, record.route, record.channel_id, bot_route)
        if limited is not None:
            return limited
        try:
            response = await handler(request)
        except _HTTPError as exc:
            response = exc.response
        for k, v in rl_headers.items():
            response.headers[k] = v
        return response

    @staticmethod
    async def _read_body(request: web.Request) -> Any:
        if not request.can_read_body:
            return None
        ctype = request.content_type
        if ctype == "application/json":
            return await request.json()
        if ctype.startswith("multipart/"):
            form = await request.post()
            if "payload_json" in form:
                payload = json.loads(str(form["payload_json"]))
                payload["_files"] = [k for k in form if k != "payload_json"]
                return payload
            return {k: str(v) for k, v in form.items()}
        text = await request.text()
        return text or None

    def _add_routes(self, app: web.Application) -> None:
        p = API_PREFIX
        r = app.router
        r.add_get("/gateway", self._gateway)
        r.add_get("/gateway-resume", self._gateway)
        r.add_get(p + "/users/@me", self._get_me)
        r.add_get(p + "/gateway/bot", self._get_gateway_bot)
        r.add_get(p + "/gateway", self._get_gateway)
        r.add_get(p + "/oauth2/applications/@me", self._get_application)
        r.add_get(p + "/applications/@me", self._get_application)
        for base in ("/applications/{app_id}/commands", "/applications/{app_id}/guilds/{guild_id}/commands"):
            r.add_get(p + base, self._get_commands)
            r.add_put(p + base, self._put_commands)
            r.add_post(p + base, self._post_command)
            r.add_get(p + base + "/{command_id}", self._get_command)
            r.add_patch(p + base + "/{command_id}", self._patch_command)
            r.add_delete(p + base + "/{command_id}", self._delete_command)
        r.add_post(p + "/interactions/{interaction_id}/{token}/callback", self._callback)
        r.add_post(p + "/webhooks/{app_id}/{token}", self._followup)
        for m in ("@original", "{message_id}"):
            r.add_get(p + "/webhooks/{app_id}/{token}/messages/" + m, self._get_webhook_message)
            r.add_patch(p + "/webhooks/{app_id}/{token}/messages/" + m, self._patch_webhook_message)
            r.add_delete(p + "/webhooks/{app_id}/{token}/messages/" + m, self._delete_webhook_message)
        r.add_get(p + "/channels/{channel_id}", self._get_channel)
        r.add_get(p + "/channels/{channel_id}/messages", self._list_messages)
        r.add_post(p + "/channels/{channel_id}/messages", self._create_message)
        r.add_get(p + "/channels/{channel_id}/messages/{message_id}", self._get_message)
        r.add_patch(p + "/channels/{channel_id}/messages/{message_id}", self._edit_message)
        r.add_delete(p + "/channels/{channel_id}/messages/{message_id}", self._delete_message)
        r.add_get(p + "/guilds/{guild_id}", self._get_guild)
        r.add_get(p + "/guilds/{guild_id}/channels", self._get_guild_channels)
        r.add_get(p + "/guilds/{guild_id}/members/{user_id}", self._get_member)
        r.add_get(p + "/guilds/{guild_id}/roles", self._get_roles)

    # ------------------------------------------------------------------ REST: identity

    async def _get_me(self, request: web.Request) -> web.Response:
        return _json_response({**self.bot_user, "mfa_enabled": False, "verified": True, "email": None,
                               "locale": "en-US", "premium_type": 0})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        return _json_response({
            "url": self.gateway_url, "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1},
        })

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return _json_response({"url": self.gateway_url})

    async def _get_application(self, request: web.Request) -> web.Response:
        return _json_response({
            "id": str(self.application_id), "name": self.bot_user["username"], "icon": None, "description": "",
            "summary": "", "type": None, "hook": True, "bot_public": True, "bot_require_code_grant": False,
            "verify_key": secrets.token_hex(32), "flags": 0, "owner": self.users[next(iter(self.users))],
            "team": None, "rpc_origins": [], "interactions_endpoint_url": None, "tags": [],
            "bot": self.bot_user, "approximate_guild_count": len(self.guilds), "redirect_uris": [],
        })

    # ------------------------------------------------------------------ REST: guilds, channels

    def _guild_or_404(self, request: web.Request) -> FakeGuild:
        guild = self.guilds.get(int(request.match_info["guild_id"]))
        if guild is None:
            raise _HTTPError.named("unknown_guild")
        return guild

    def _channel_or_error(self, channel_id: int, need: int = VIEW_CHANNEL) -> dict[str, Any]:
        try:
            channel = self.channel(channel_id)
        except KeyError:
            raise _HTTPError.named("unknown_channel") from None
        perms = self.bot_permissions(channel_id)
        if not perms & VIEW_CHANNEL:
            raise _HTTPError.named("missing_access")
        if perms & need != need:
            raise _HTTPError.named("missing_permissions")
        return channel

    async def _get_channel(self, request: web.Request) -> web.Response:
        return _json_response(self._channel_or_error(int(request.match_info["channel_id"])))

    async def _get_guild(self, request: web.Request) -> web.Response:
        return _json_response(self._guild_payload(self._guild_or_404(request)))

    async def _get_guild_channels(self, request: web.Request) -> web.Response:
        return _json_response(list(self._guild_or_404(request).channels.values()))

    async def _get_roles(self, request: web.Request) -> web.Response:
        return _json_response(list(self._guild_or_404(request).roles.values()))

    async def _get_member(self, request: web.Request) -> web.Response:
        guild = self._guild_or_404(request)
        uid = int(request.match_info["user_id"])
        if uid not in guild.members:
            raise _HTTPError.named("unknown_member")
        return _json_response(self._member_payload(guild, uid))

    # ------------------------------------------------------------------ REST: messages

    def messages(self, channel_id: int, *, include_interaction_responses: bool = False) -> list[dict[str, Any]]:
        """Live (not deleted) messages in a channel, oldest first. By default only those the bot
        posted through channel REST; interaction responses (never ephemeral ones) on request."""
        out = []
        for mid in self._channel_messages.get(channel_id, []):
            msg = self._messages_by_id.get(mid)
            if msg is None or mid in self._deleted_messages:
                continue
            if "interaction_metadata" in msg and not include_interaction_responses:
                continue
            out.append(msg)
        return out

    def all_messages(self) -> list[dict[str, Any]]:
        """Every live channel message the bot posted through channel REST, all channels."""
        return [m for m in self._messages_by_id.values()
                if "interaction_metadata" not in m and int(m["id"]) not in self._deleted_messages]

    def message(self, message_id: int) -> dict[str, Any]:
        return self._messages_by_id[message_id]

    def edit_history(self, message_id: int) -> list[dict[str, Any]]:
        """The PATCH bodies applied to a message, in order."""
        return list(self._edit_history.get(message_id, []))

    def _validate_message(self, body: dict[str, Any], *, creating: bool) -> None:
        errs = _FormErrors()
        errs.max_len(["content"], body.get("content"), 2000)
        nonce = body.get("nonce")
        if nonce is not None and len(str(nonce)) > 25:
            errs.add(["nonce"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        embeds = body.get("embeds") or []
        if len(embeds) > 10:
            errs.add(["embeds"], "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        total = 0
        for i, emb in enumerate(embeds):
            for key, limit in (("title", 256), ("description", 4096)):
                errs.max_len(["embeds", i, key], emb.get(key), limit)
                total += len(emb.get(key) or "")
            for key, sub, limit in (("footer", "text", 2048), ("author", "name", 256)):
                value = (emb.get(key) or {}).get(sub)
                errs.max_len(["embeds", i, key, sub], value, limit)
                total += len(value or "")
            fields = emb.get("fields") or []
            if len(fields) > 25:
                errs.add(["embeds", i, "fields"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            for j, f in enumerate(fields):
                for key, limit in (("name", 256), ("value", 1024)):
                    if not f.get(key):
                        errs.add(["embeds", i, "fields", j, key], "BASE_TYPE_REQUIRED", "This field is required")
                    errs.max_len(["embeds", i, "fields", j, key], f.get(key), limit)
                    total += len(f.get(key) or "")
        if total > 6000:
            errs.add(["embeds"], "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
        if errs:
            raise _HTTPError(errs.response())
        if creating and not (body.get("content") or embeds or body.get("components") or body.get("_files")
                             or body.get("sticker_ids") or body.get("poll")):
            raise _HTTPError.named("empty_message")

    def _mentions(self, guild: FakeGuild | None, channel_id: int | None, body: dict[str, Any]) -> dict[str, Any]:
        """Who a message really pings, from its content and ``allowed_mentions`` as Discord decides."""
        content = body.get("content") or ""
        allowed = body.get("allowed_mentions")
        parse = set(allowed.get("parse", [])) if allowed is not None else {"everyone", "users", "roles"}
        allowed_users = {str(u) for u in (allowed or {}).get("users", [])}
        allowed_roles = {str(r) for r in (allowed or {}).get("roles", [])}
        can_everyone = True
        if guild is not None and channel_id is not None and channel_id in guild.channels:
            can_everyone = bool(self.permissions(guild.id, self.application_id, channel_id) & MENTION_EVERYONE)
        everyone = "everyone" in parse and can_everyone and bool(re.search(r"@(everyone|here)", content))
        users = [u for u in dict.fromkeys(re.findall(r"<@!?(\d+)>", content)) if "users" in parse or u in allowed_users]
        roles = [r for r in dict.fromkeys(re.findall(r"<@&(\d+)>", content)) if "roles" in parse or r in allowed_roles]
        return {
            "mention_everyone": everyone,
            "mentions": [self.users.get(int(u), self._user_payload(int(u), "unknown")) for u in users],
            "mention_roles": roles,
        }

    def _build_message(self, channel_id: int, guild: FakeGuild | None, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
        mid = self.snowflake()
        msg: dict[str, Any] = {
            "id": str(mid), "channel_id": str(channel_id), "author": self.bot_user,
            "content": body.get("content") or "", "timestamp": _now_iso(), "edited_timestamp": None,
            "tts": bool(body.get("tts")), "attachments": [], "embeds": body.get("embeds") or [],
            "components": body.get("components") or [], "pinned": False, "type": MSG_DEFAULT,
            "flags": int(body.get("flags") or 0), "allowed_mentions": body.get("allowed_mentions"),
            **self._mentions(guild, channel_id, body),
        }
        if guild is not None:
            msg["guild_id"] = str(guild.id)
        if body.get("nonce") is not None:
            msg["nonce"] = body["nonce"]
        msg.update(extra)
        self._messages_by_id[mid] = msg
        return msg

    def _apply_edit(self, msg: dict[str, Any], body: dict[str, Any], guild: FakeGuild | None) -> None:
        self._validate_message(body, creating=False)
        was_loading = msg["flags"] & FLAG_LOADING
        for key in ("content", "embeds", "components", "allowed_mentions", "attachments"):
            if key in body:
                msg[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        if "flags" in body and body["flags"] is not None:
            msg["flags"] = (msg["flags"] & (FLAG_EPHEMERAL | FLAG_LOADING)) | int(body["flags"])
        msg["flags"] &= ~FLAG_LOADING
        msg.update(self._mentions(guild, int(msg["channel_id"]), {**body, "content": msg["content"],
                                                                  "allowed_mentions": msg.get("allowed_mentions")}))
        if not was_loading:
            msg["edited_timestamp"] = _now_iso()
        self._edit_history.setdefault(int(msg["id"]), []).append(body)

    async def _create_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        body = request[_BODY] or {}
        need = VIEW_CHANNEL | SEND_MESSAGES | (EMBED_LINKS if body.get("embeds") else 0)
        self._channel_or_error(channel_id, need)
        guild = self._guild_of_channel(channel_id)
        self._validate_message(body, creating=True)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            seen = self._nonces.get((channel_id, str(nonce)))
            if seen and self.clock() - seen[1] < self.nonce_window and seen[0] not in self._deleted_messages:
                self.stats["nonce_deduplicated"] += 1
                return _json_response(self._messages_by_id[seen[0]])
        extra: dict[str, Any] = {}
        if ref := body.get("message_reference"):
            ref_id = int(ref["message_id"])
            target = self._messages_by_id.get(ref_id)
            if (target is None or ref_id in self._deleted_messages) and ref.get("fail_if_not_exists", True):
                errs = _FormErrors()
                errs.add(["message_reference"], "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
                raise _HTTPError(errs.response())
            extra = {"type": MSG_REPLY, "message_reference": {"type": 0, "message_id": str(ref_id),
                     "channel_id": ref.get("channel_id") or str(channel_id), "guild_id": str(guild.id)},
                     "referenced_message": target}
        msg = self._build_message(channel_id, guild, body, **extra)
        self._channel_messages[channel_id].append(int(msg["id"]))
        guild.channels[channel_id]["last_message_id"] = msg["id"]
        if nonce is not None:
            self._nonces[(channel_id, str(nonce))] = (int(msg["id"]), self.clock())
        await self.dispatch("MESSAGE_CREATE", {**msg, "member": {"roles": [str(guild.bot_role_id)]}}, guild.id,
                            intent=INTENT_GUILD_MESSAGES)
        return _json_response(msg)

    def _message_in_channel(self, request: web.Request) -> tuple[dict[str, Any], FakeGuild]:
        channel_id = int(request.match_info["channel_id"])
        self._channel_or_error(channel_id, VIEW_CHANNEL | READ_MESSAGE_HISTORY)
        mid = int(request.match_info["message_id"])
        msg = self._messages_by_id.get(mid)
        if msg is None or mid in self._deleted_messages or int(msg["channel_id"]) != channel_id:
            raise _HTTPError.named("unknown_message")
        return msg, self._guild_of_channel(channel_id)

    async def _get_message(self, request: web.Request) -> web.Response:
        return _json_response(self._message_in_channel(request)[0])

    async def _list_messages(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        self._channel_or_error(channel_id, VIEW_CHANNEL | READ_MESSAGE_HISTORY)
        limit = min(100, int(request.query.get("limit", 50)))
        msgs = self.messages(channel_id, include_interaction_responses=True)
        return _json_response(list(reversed(msgs))[:limit])

    async def _edit_message(self, request: web.Request) -> web.Response:
        msg, guild = self._message_in_channel(request)
        if msg["author"]["id"] != str(self.application_id):
            raise _HTTPError.named("cannot_edit_other_user")
        self._apply_edit(msg, request[_BODY] or {}, guild)
        await self.dispatch("MESSAGE_UPDATE", dict(msg), guild.id, intent=INTENT_GUILD_MESSAGES)
        return _json_response(msg)

    async def _delete_message(self, request: web.Request) -> web.Response:
        msg, guild = self._message_in_channel(request)
        self._deleted_messages.add(int(msg["id"]))
        await self.dispatch("MESSAGE_DELETE", {"id": msg["id"], "channel_id": msg["channel_id"], "guild_id": str(guild.id)},
                            guild.id, intent=INTENT_GUILD_MESSAGES)
        return web.Response(status=204)

    # ------------------------------------------------------------------ REST: application commands

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """The synced commands (global when ``guild_id`` is None), as Discord stored them."""
        store = self._global_commands if guild_id is None else self._guild_commands.get(guild_id, {})
        return list(store.values())

    def command(self, name: str, guild_id: int | None = None) -> dict[str, Any]:
        """A synced command by name: the guild's first, then the global one."""
        if guild_id is not None and name in self._guild_commands.get(guild_id, {}):
            return self._guild_commands[guild_id][name]
        return self._global_commands[name]

    def _command_store(self, request: web.Request) -> tuple[int | None, dict[str, dict[str, Any]]]:
        if request.match_info["app_id"] != str(self.application_id):
            raise _HTTPError(_json_response({"message": "Unknown Application", "code": 10002}, 404))
        if "guild_id" in request.match_info:
            gid = int(request.match_info["guild_id"])
            if gid not in self.guilds:
                raise _HTTPError.named("missing_access")
            return gid, self._guild_commands.setdefault(gid, {})
        return None, self._global_commands

    def _validate_command(self, errs: _FormErrors, path: list[str | int], cmd: dict[str, Any], *, top: bool) -> None:
        ctype = cmd.get("type", 1) if top else 1
        name = cmd.get("name") or ""
        if ctype == 1 and not re.fullmatch(r"[-_\w]{1,32}", name) or name != name.lower() and ctype == 1:
            errs.add(path + ["name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        desc = cmd.get("description") or ""
        if ctype == 1 and not 1 <= len(desc) <= 100:
            errs.add(path + ["description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        for key, limit in (("name_localizations", 32), ("description_localizations", 100)):
            for loc, text in (cmd.get(key) or {}).items():
                if loc not in DISCORD_LOCALES:
                    errs.add(path + [key, loc], "LOCALE_INVALID", f"Invalid locale: {loc}")
                elif not 1 <= len(text or "") <= limit:
                    errs.add(path + [key, loc], "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {limit} in length.")
        options = cmd.get("options") or []
        if len(options) > 25:
            errs.add(path + ["options"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        seen_optional = False
        for i, opt in enumerate(options):
            if opt.get("type") in (1, 2):
                self._validate_command(errs, path + ["options", i], opt, top=False)
                continue
            self._validate_command(errs, path + ["options", i], {k: v for k, v in opt.items() if k != "options"}, top=False)
            if opt.get("required"):
                if seen_optional:
                    errs.add(path + ["options", i, "required"], "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                             "Required options must be placed before non-required options")
            else:
                seen_optional = True
            choices = opt.get("choices") or []
            if len(choices) > 25:
                errs.add(path + ["options", i, "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            if choices and opt.get("autocomplete"):
                errs.add(path + ["options", i, "autocomplete"], "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
                         "Autocomplete cannot be set with choices")

    def _store_command(self, guild_id: int | None, store: dict[str, dict[str, Any]], cmd: dict[str, Any]) -> dict[str, Any]:
        ctype = int(cmd.get("type", 1))
        key = (guild_id, ctype, cmd["name"])
        cid = self._command_ids.setdefault(key, self.snowflake())
        stored = {
            "id": str(cid), "application_id": str(self.application_id), "version": str(self.snowflake()),
            "type": ctype, "name": cmd["name"], "name_localizations": cmd.get("name_localizations"),
            "description": cmd.get("description", ""), "description_localizations": cmd.get("description_localizations"),
            "options": cmd.get("options") or [],
            "default_member_permissions": None if cmd.get("default_member_permissions") is None
            else str(cmd["default_member_permissions"]),
            "dm_permission": cmd.get("dm_permission", True), "nsfw": bool(cmd.get("nsfw", False)),
            "contexts": cmd.get("contexts"), "integration_types": cmd.get("integration_types") or [0],
        }
        if guild_id is not None:
            stored["guild_id"] = str(guild_id)
        store[cmd["name"]] = stored
        return stored

    async def _get_commands(self, request: web.Request) -> web.Response:
        _, store = self._command_store(request)
        return _json_response(list(store.values()))

    async def _put_commands(self, request: web.Request) -> web.Response:
        guild_id, store = self._command_store(request)
        body = request[_BODY] or []
        errs = _FormErrors()
        names = set()
        for i, cmd in enumerate(body):
            self._validate_command(errs, [i], cmd, top=True)
            key = (cmd.get("type", 1), cmd.get("name"))
            if key in names:
                errs.add([i, "name"], "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
            names.add(key)
        if len(body) > 100:
            errs.add([], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
        if errs:
            raise _HTTPError(errs.response())
        store.clear()
        return _json_response([self._store_command(guild_id, store, cmd) for cmd in body])

    async def _post_command(self, request: web.Request) -> web.Response:
        guild_id, store = self._command_store(request)
        errs = _FormErrors()
        self._validate_command(errs, [], request[_BODY], top=True)
        if errs:
            raise _HTTPError(errs.response())
        return _json_response(self._store_command(guild_id, store, request[_BODY]), 201)

    def _find_command(self, request: web.Request) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
        _, store = self._command_store(request)
        for cmd in store.values():
            if cmd["id"] == request.match_info["command_id"]:
                return store, cmd
        raise _HTTPError.named("unknown_command")

    async def _get_command(self, request: web.Request) -> web.Response:
        return _json_response(self._find_command(request)[1])

    async def _patch_command(self, request: web.Request) -> web.Response:
        store, cmd = self._find_command(request)
        cmd.update({k: v for k, v in (request[_BODY] or {}).items() if k in cmd and k not in ("id", "application_id")})
        return _json_response(cmd)

    async def _delete_command(self, request: web.Request) -> web.Response:
        store, cmd = self._find_command(request)
        del store[cmd["name"]]
        return web.Response(status=204)

    # ------------------------------------------------------------------ interactions (dispatch side)

    def _interaction_base(self, itype: int, guild_id: int, channel_id: int, user_id: int | None,
                          permissions: int | None, locale: str) -> tuple[dict[str, Any], int]:
        guild = self.guilds[guild_id]
        if user_id is None:
            self._default_user = self._default_user or self.add_user("member")
        uid = user_id or self._default_user
        assert uid is not None
        if uid not in self.users:
            self.add_user(f"user{uid}", uid)
        guild.members.setdefault(uid, {"roles": [], "joined_at": _now_iso(), "nick": None})
        perms = DEFAULT_MEMBER_PERMISSIONS if permissions is None else permissions
        if perms & ADMINISTRATOR:
            perms = ALL_PERMISSIONS  # Discord sends the computed set, admins have every bit
        iid = self.snowflake()
        channel = dict(guild.channels[channel_id])
        payload = {
            "id": str(iid), "application_id": str(self.application_id), "type": itype,
            "token": f"itok.{iid}.{secrets.token_urlsafe(24)}", "version": 1,
            "guild_id": str(guild_id), "channel_id": str(channel_id),
            "channel": {**channel, "permissions": str(perms)},
            "guild": {"id": str(guild_id), "locale": guild.preferred_locale, "features": []},
            "member": {**self._member_payload(guild, uid), "permissions": str(perms)},
            "app_permissions": str(self.bot_permissions(channel_id)),
            "locale": locale, "guild_locale": guild.preferred_locale, "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id)}, "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        return payload, perms

    def _resolve_options(self, guild: FakeGuild, defs: list[dict[str, Any]], values: Mapping[str, Any],
                         resolved: dict[str, dict[str, Any]], focused: str | None) -> list[dict[str, Any]]:
        by_name = {d["name"]: d for d in defs}
        out: list[dict[str, Any]] = []
        for name, value in values.items():
            if name not in by_name:
                raise KeyError(f"command has no option {name!r}; it has {sorted(by_name)}")
            otype = by_name[name]["type"]
            opt: dict[str, Any] = {"name": name, "type": otype}
            if otype == 3:
                opt["value"] = str(value)
            elif otype == 4:
                opt["value"] = int(value)
            elif otype == 10:
                opt["value"] = float(value)
            elif otype == 5:
                opt["value"] = bool(value)
            elif otype == 7:
                ch = guild.channels[int(value)]
                opt["value"] = str(value)
                resolved.setdefault("channels", {})[str(value)] = {
                    "id": ch["id"], "name": ch["name"], "type": ch["type"], "parent_id": ch["parent_id"],
                    "permissions": str(self.bot_permissions(int(value))), "guild_id": str(guild.id)}
            elif otype == 8:
                opt["value"] = str(value)
                resolved.setdefault("roles", {})[str(value)] = guild.roles[int(value)]
            elif otype in (6, 9):
                opt["value"] = str(value)
                if int(value) in self.users:
                    resolved.setdefault("users", {})[str(value)] = self.users[int(value)]
                elif int(value) in guild.roles:
                    resolved.setdefault("roles", {})[str(value)] = guild.roles[int(value)]
            else:
                opt["value"] = value
            if name == focused:
                opt["focused"] = True
                opt["value"] = str(value)
            out.append(opt)
        return out

    def _command_data(
        self, guild_id: int, name: str, options: Mapping[str, Any], focused: str | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        parts = name.split()
        cmd = self.command(parts[0], guild_id)
        guild = self.guilds[guild_id]
        resolved: dict[str, dict[str, Any]] = {}
        defs = cmd.get("options") or []
        nested: list[dict[str, Any]] = []
        chain = nested
        for sub in parts[1:]:
            sub_def = next(o for o in defs if o["name"] == sub and o["type"] in (1, 2))
            entry: dict[str, Any] = {"name": sub, "type": sub_def["type"], "options": []}
            chain.append(entry)
            chain = entry["options"]
            defs = sub_def.get("options") or []
        chain.extend(self._resolve_options(guild, defs, options, resolved, focused))
        data: dict[str, Any] = {"id": cmd["id"], "name": parts[0], "type": cmd["type"], "options": nested}
        if "guild_id" in cmd:
            data["guild_id"] = cmd["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return data, cmd

    async def _dispatch_interaction(self, payload: dict[str, Any], component_message_id: int | None = None) -> FakeInteraction:
        inter = FakeInteraction(self, payload, component_message_id)
        self.interactions[inter.id] = inter
        self._interactions_by_token[inter.token] = inter
        sent = await self.dispatch("INTERACTION_CREATE", payload, inter.guild_id)
        if not sent:
            raise RuntimeError("no gateway session is connected to receive the interaction")
        inter.dispatched_at = time.monotonic()
        return inter

    async def invoke_command(
        self,
        guild_id: int,
        channel_id: int,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user_id: int | None = None,
        permissions: int | None = None,
        locale: str = "en-US",
        ignore_default_permissions: bool = False,
    ) -> FakeInteraction:
        """Dispatch a slash command (type 2) as Discord would; ``name`` may be "group sub".

        Like Discord, refuses (PermissionError) when the user lacks the command's
        ``default_member_permissions`` unless ``ignore_default_permissions`` (a server admin's
        integration override, which is why the bot must check permissions itself)."""
        payload, perms = self._interaction_base(2, guild_id, channel_id, user_id, permissions, locale)
        data, cmd = self._command_data(guild_id, name, options or {}, None)
        required = cmd.get("default_member_permissions")
        lacking = required is not None and (int(required) == 0 or perms & int(required) != int(required))
        if lacking and not ignore_default_permissions and not perms & ADMINISTRATOR:
            raise PermissionError(f"Discord would not offer /{cmd['name']} to this member")
        payload["data"] = data
        return await self._dispatch_interaction(payload)

    async def autocomplete(
        self,
        guild_id: int,
        channel_id: int,
        name: str,
        options: Mapping[str, Any],
        focused: str,
        *,
        user_id: int | None = None,
        permissions: int | None = None,
        locale: str = "en-US",
    ) -> FakeInteraction:
        """Dispatch an autocomplete request (type 4) with ``focused`` being typed."""
        payload, _ = self._interaction_base(4, guild_id, channel_id, user_id, permissions, locale)
        payload["data"], _ = self._command_data(guild_id, name, options, focused)
        return await self._dispatch_interaction(payload)

    async def click(
        self,
        message_id: int,
        custom_id: str,
        *,
        user_id: int | None = None,
        permissions: int | None = None,
        locale: str = "en-US",
        component_type: int = 2,
        values: list[str] | None = None,
    ) -> FakeInteraction:
        """Dispatch a component interaction (type 3): a button click or a select on a bot message."""
        msg = self._messages_by_id[message_id]
        channel_id = int(msg["channel_id"])
        guild_id = self._guild_of_channel(channel_id).id
        payload, _ = self._interaction_base(3, guild_id, channel_id, user_id, permissions, locale)
        payload["message"] = msg
        payload["data"] = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            payload["data"]["values"] = values
        return await self._dispatch_interaction(payload, component_message_id=message_id)

    # ------------------------------------------------------------------ interactions (REST side)

    def _interaction_message(self, inter: FakeInteraction, body: dict[str, Any], *, loading: bool = False) -> dict[str, Any]:
        assert inter.channel_id is not None
        guild = self.guilds.get(inter.guild_id) if inter.guild_id else None
        member = inter.payload.get("member") or {}
        flags = int(body.get("flags") or 0) | (FLAG_LOADING if loading else 0)
        msg = self._build_message(
            inter.channel_id, guild, {**body, "flags": flags},
            type=MSG_CHAT_INPUT_COMMAND if inter.type == 2 else MSG_DEFAULT,
            webhook_id=str(self.application_id), application_id=str(self.application_id),
            interaction_metadata={"id": str(inter.id), "type": inter.type, "user": member.get("user"),
                                  "authorizing_integration_owners": {"0": str(inter.guild_id)},
                                  **({"name": inter.payload["data"].get("name")} if inter.type == 2 else {})},
        )
        if not flags & FLAG_EPHEMERAL:
            self._channel_messages.setdefault(inter.channel_id, []).append(int(msg["id"]))
        return msg

    async def _callback(self, request: web.Request) -> web.Response:
        inter = self.interactions.get(int(request.match_info["interaction_id"]))
        if inter is None or inter.token != request.match_info["token"]:
            raise _HTTPError.named("unknown_interaction")
        if inter.callback is not None:
            raise _HTTPError.named("already_acknowledged")
        if time.monotonic() - inter.dispatched_at > self.interaction_window:
            raise _HTTPError.named("unknown_interaction")
        body = request[_BODY] or {}
        ctype = int(body.get("type", 0))
        data = body.get("data") or {}
        allowed = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}.get(inter.type, set())
        if ctype not in allowed:
            errs = _FormErrors()
            errs.add(["type"], "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type")
            raise _HTTPError(errs.response())
        resource: dict[str, Any] | None = None
        loading = False
        if ctype == 4:
            self._validate_message(data, creating=True)
            inter.original_id = int(self._interaction_message(inter, data)["id"])
        elif ctype == 5:
            loading = True
            inter.original_id = int(self._interaction_message(inter, {"flags": data.get("flags", 0)}, loading=True)["id"])
        elif ctype == 7 and inter.original is not None:
            guild = self.guilds.get(inter.guild_id) if inter.guild_id else None
            self._apply_edit(inter.original, data, guild)
        elif ctype == 8:
            errs = _FormErrors()
            choices = data.get("choices") or []
            if len(choices) > 25:
                errs.add(["data", "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            for i, choice in enumerate(choices):
                if not 1 <= len(choice.get("name") or "") <= 100:
                    errs.add(["data", "choices", i, "name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
                errs.max_len(["data", "choices", i, "value"], choice.get("value"), 100)
            if errs:
                raise _HTTPError(errs.response())
        elif ctype == 9:
            inter.modal = data
        inter.callback = body
        inter.responded_at = time.monotonic()
        if ctype in (4, 5, 7) and inter.original is not None:
            resource = {"type": ctype, "message": inter.original}
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        original = inter.original
        result: dict[str, Any] = {"interaction": {
            "id": str(inter.id), "type": inter.type, "activity_instance_id": None,
            "response_message_id": original["id"] if original and ctype in (4, 5, 6, 7) else None,
            "response_message_loading": loading,
            "response_message_ephemeral": bool(original and original["flags"] & FLAG_EPHEMERAL and ctype in (4, 5)),
        }}
        if resource is not None:
            result["resource"] = resource
        return _json_response(result)

    def _webhook_interaction(self, request: web.Request) -> FakeInteraction:
        inter = self._interactions_by_token.get(request.match_info["token"])
        if inter is None or request.match_info["app_id"] != str(self.application_id) or inter.callback is None:
            raise _HTTPError.named("unknown_webhook")
        return inter

    def _webhook_target(self, request: web.Request) -> tuple[FakeInteraction, dict[str, Any]]:
        inter = self._webhook_interaction(request)
        raw = request.match_info.get("message_id")
        mid = inter.original_id if raw is None else int(raw)
        msg = self._messages_by_id.get(mid) if mid is not None else None
        if msg is None or mid in self._deleted_messages or (mid != inter.original_id and mid not in inter.followup_ids):
            raise _HTTPError.named("unknown_message")
        return inter, msg

    async def _followup(self, request: web.Request) -> web.Response:
        inter = self._webhook_interaction(request)
        body = request[_BODY] or {}
        self._validate_message(body, creating=True)
        msg = self._interaction_message(inter, body)
        inter.followup_ids.append(int(msg["id"]))
        if request.query.get("wait") in ("true", "1", "True"):
            return _json_response(msg)
        return web.Response(status=204)

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        return _json_response(self._webhook_target(request)[1])

    async def _patch_webhook_message(self, request: web.Request) -> web.Response:
        inter, msg = self._webhook_target(request)
        self._apply_edit(msg, request[_BODY] or {}, self.guilds.get(inter.guild_id) if inter.guild_id else None)
        return _json_response(msg)

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        _, msg = self._webhook_target(request)
        self._deleted_messages.add(int(msg["id"]))
        return web.Response(status=204)

    # ------------------------------------------------------------------ gateway

    @property
    def connected(self) -> bool:
        """True when some identified session has a live websocket."""
        return any(s.conn is not None and not s.conn.ws.closed for s in self._sessions.values())

    def gateway_ops(self, op: int) -> list[GatewayEvent]:
        """Frames the client sent with this opcode (2 IDENTIFY, 6 RESUME, 1 HEARTBEAT…)."""
        return [e for e in self.gateway_received if e.op == op]

    def _spawn_dispatch(self, event: str, data: dict[str, Any], guild_id: int | None) -> None:
        """Dispatch from sync world-building helpers when a loop is running and a session listens."""
        if not self._sessions:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self.dispatch(event, data, guild_id, intent=INTENT_GUILDS))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def dispatch(self, event: str, data: dict[str, Any], guild_id: int | None = None, *, intent: int | None = None) -> int:
        """Send a DISPATCH to every session that covers ``guild_id`` (and has ``intent``); buffered
        for RESUME. Returns how many live websockets got it."""
        sent = 0
        for session in list(self._sessions.values()):
            if not session.wants(guild_id) or (intent is not None and not session.intents & intent):
                continue
            session.seq += 1
            frame = {"op": 0, "t": event, "s": session.seq, "d": data}
            session.buffer.append(frame)
            if session.conn is not None and not session.conn.ws.closed:
                await session.conn.send(frame)
                sent += 1
        return sent

    async def reconnect_gateway(self, *, resume: bool = True) -> None:
        """Ask clients to reconnect: op 7 RECONNECT (they RESUME) or op 9 INVALID_SESSION (they IDENTIFY)."""
        for session in list(self._sessions.values()):
            conn = session.conn
            if conn is None or conn.ws.closed:
                continue
            if resume:
                await conn.send({"op": 7, "d": None})
            else:
                del self._sessions[session.session_id]
                await conn.send({"op": 9, "d": False})

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = _GatewayConn(ws, request.query.get("compress"))
        self.gateway_connections.append((request.path, dict(request.query)))
        self._conns.add(conn)
        try:
            if request.query.get("encoding", "json") != "json":
                await ws.close(code=4002, message=b"Error while decoding payload.")
                return ws
            await conn.send({"op": 10, "s": None, "t": None, "d": {
                "heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["[\"fake-gateway\"]"]}})
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    if msg.type is WSMsgType.BINARY:
                        await ws.close(code=4002, message=b"Error while decoding payload.")
                    continue
                frame = json.loads(msg.data)
                self.gateway_received.append(GatewayEvent(frame.get("op"), frame.get("d"), time.monotonic()))
                await self._gateway_frame(conn, frame)
                await self._notify()
        finally:
            self._conns.discard(conn)
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
            await self._notify()
        return ws

    async def _gateway_frame(self, conn: _GatewayConn, frame: dict[str, Any]) -> None:
        op, d = frame.get("op"), frame.get("d")
        if op == 1:
            await conn.send({"op": 11, "d": None})
        elif op == 2:
            await self._identify(conn, d or {})
        elif op == 6:
            await self._resume(conn, d or {})
        elif op in (3, 4, 8):
            return  # presence, voice, member chunk requests: recorded, no answer needed
        else:
            await conn.ws.close(code=4001, message=b"Unknown opcode.")

    async def _identify(self, conn: _GatewayConn, d: dict[str, Any]) -> None:
        if conn.session is not None:
            await conn.ws.close(code=4005, message=b"Already authenticated.")
            return
        if d.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = int(d.get("intents", 0))
        if intents & PRIVILEGED_INTENTS and not self.allow_privileged_intents:
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        shard_id, shard_count = d.get("shard") or (0, 1)
        if not 0 <= shard_id < shard_count:
            await conn.ws.close(code=4010, message=b"Invalid shard.")
            return
        for sid in [s for s, sess in self._sessions.items() if sess.shard == (shard_id, shard_count) and sess.conn is None]:
            del self._sessions[sid]
        session = _GatewaySession(uuid.uuid4().hex, intents, (shard_id, shard_count), conn=conn)
        conn.session = session
        self._sessions[session.session_id] = session
        mine = [g for g in self.guilds.values() if session.wants(g.id)]
        ready = {
            "v": 10, "user": {**self.bot_user, "mfa_enabled": False, "verified": True},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in mine],
            "session_id": session.session_id, "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [], "relationships": [], "presences": [], "guild_join_requests": [],
            "geo_ordered_rtc_regions": [], "user_settings": {}, "auth": {}, "_trace": ["[\"fake-gateway\"]"],
        }
        if "shard" in d:
            ready["shard"] = [shard_id, shard_count]
        await self.dispatch("READY", ready, None)
        if intents & INTENT_GUILDS:
            for guild in mine:
                await self.dispatch("GUILD_CREATE", self._guild_create_payload(guild), guild.id)

    async def _resume(self, conn: _GatewayConn, d: dict[str, Any]) -> None:
        session = self._sessions.get(d.get("session_id") or "")
        if session is None or d.get("token") != self.token:
            await conn.send({"op": 9, "d": False})
            return
        seq = int(d.get("seq") or 0)
        missed = [f for f in session.buffer if f["s"] > seq]
        if seq < session.seq and (not missed or missed[0]["s"] != seq + 1):
            del self._sessions[session.session_id]
            await conn.send({"op": 9, "d": False})
            return
        if session.conn is not None and session.conn is not conn and not session.conn.ws.closed:
            await session.conn.ws.close(code=4000)
        session.conn = conn
        conn.session = session
        for frame in missed:
            await conn.send(frame)
        await self.dispatch("RESUMED", {"_trace": ["[\"fake-gateway\"]"]}, None)


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
async def rest_client(fake: FakeDiscord) -> AsyncIterator["discord.Client"]:
    """The real discord.py client logged in over REST only (no gateway, no cache): all a
    delivery worker needs."""
    import discord

    client = discord.Client(intents=discord.Intents.none())
    await client.login(fake.token)
    try:
        yield client
    finally:
        await client.close()
