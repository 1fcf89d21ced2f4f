"""The fake itself: one aiohttp application on 127.0.0.1 serving REST and the gateway, its
lifecycle and the HTTP plumbing every route goes through (recording, faults, rate limits,
auth). ``FakeDiscord`` is composed of one mixin per area."""

from __future__ import annotations

import asyncio
import collections
import json
import socket
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.fake_discord.attachments import UploadedFile
from tests.fake_discord.commands import CommandsMixin
from tests.fake_discord.faults import FaultsMixin
from tests.fake_discord.following import PUBLISH_LIMIT, PUBLISH_WINDOW, PUBLISHED_EDIT_LIMIT, PUBLISHED_EDIT_WINDOW, FollowingMixin
from tests.fake_discord.gateway import GatewayMixin
from tests.fake_discord.interactions import InteractionsMixin
from tests.fake_discord.records import FakeGuild, FakeInteraction, Fault, GatewayConn, GatewayEvent, GatewaySession, RateLimits, RecordedRequest
from tests.fake_discord.rest import RestMixin
from tests.fake_discord.wire import API_PREFIX, BODY_KEY, DiscordHTTPError, Handler, error_body, json_response
from tests.fake_discord.world import WorldMixin


class FakeDiscord(WorldMixin, FaultsMixin, RestMixin, FollowingMixin, CommandsMixin, InteractionsMixin, GatewayMixin):
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
        self.holding = 0  # requests held on the wire right now (``hold``)
        self._global_until = float("-inf")  # a global limit the fake announced is in force until then
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
        #: the bytes of every uploaded attachment, by attachment id
        self.attachment_data: dict[int, bytes] = {}
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}

        # Channel Following (``following``): follower webhooks, published messages' copies, limits
        self.webhooks: dict[int, dict[str, Any]] = {}
        self.crossposts: dict[int, list[int]] = {}
        self.publish_limit, self.publish_window = PUBLISH_LIMIT, PUBLISH_WINDOW
        self.published_edit_limit, self.published_edit_window = PUBLISHED_EDIT_LIMIT, PUBLISHED_EDIT_WINDOW
        self._publishes: dict[int, collections.deque[float]] = {}
        self._published_edits: dict[int, collections.deque[float]] = {}

        self.interactions: dict[int, FakeInteraction] = {}
        self._interactions_by_token: dict[str, FakeInteraction] = {}

        self._sessions: dict[str, GatewaySession] = {}
        self._conns: set[GatewayConn] = set()
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

    # ------------------------------------------------------------------ HTTP plumbing

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/gateway"):
            return await handler(request)
        path = request.path[len(API_PREFIX):] if request.path.startswith(API_PREFIX) else request.path
        info = request.match_info
        if info.http_exception is not None:
            exc = info.http_exception
            return json_response({"message": f"{exc.status}: {exc.reason}", "code": 0}, exc.status)
        resource = info.route.resource
        canonical = resource.canonical if resource is not None else request.path
        route = canonical[len(API_PREFIX):] if canonical.startswith(API_PREFIX) else canonical
        channel_id = int(info["channel_id"]) if "channel_id" in info and info["channel_id"].isdigit() else None
        body = await self._read_body(request)
        record = RecordedRequest(request.method, path, route, dict(request.query), body,
                                 channel_id=channel_id, at=time.monotonic())
        request[BODY_KEY] = body
        self.requests.append(record)
        self.stats["requests"] += 1
        try:
            response = await self._answer(request, handler, record)
        finally:
            await self._notify()
        record.status = response.status
        self._note_global_limit(response)
        if response.status in (401, 403) or (response.status == 429 and response.headers.get("X-RateLimit-Scope") != "shared"):
            self.stats["invalid_requests"] += 1
            self._invalid_at.append(self.clock())
        if response.status == 429:
            self.stats["429"] += 1
        return response

    async def _answer(self, request: web.Request, handler: Handler, record: RecordedRequest) -> web.StreamResponse:
        # interaction callbacks and webhook-token routes carry no bot token; /webhooks/{id} does
        bot_route = not record.route.startswith(("/interactions/", "/webhooks/{app_id}/{token}"))
        if bot_route and request.headers.get("Authorization") != f"Bot {self.token}":
            status, body = error_body("unauthorized")
            return json_response(body, status)
        if self._banned():
            self.stats["banned"] += 1
            return web.Response(status=429, text="error code: 1015", content_type="text/html")
        if bot_route and (inside := self._inside_global_limit()) is not None:
            return inside
        fault = self._take_fault(record.method, record.path, record.route)
        if fault is not None and fault.status is None:  # held on the wire, then answered for real
            assert fault.gate is not None
            self.holding += 1
            self.stats["held"] += 1
            await self._notify()
            try:
                await fault.gate.wait()
            finally:
                self.holding -= 1
            fault = None
        if fault is not None:
            self.stats["injected"] += 1
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status == 0:  # drop the connection without an answer
                if request.transport is not None:
                    request.transport.close()
                return web.Response(status=599)
            if isinstance(fault.body, (dict, list)):
                return json_response(fault.body, fault.status, fault.headers)
            return web.Response(status=fault.status, text=fault.body or "", headers=fault.headers,
                                content_type="text/html")
        limited, rl_headers = self._rate_limit(record.method, record.route, record.channel_id, bot_route)
        if limited is not None:
            return limited
        try:
            response = await handler(request)
        except DiscordHTTPError as exc:
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
                payload["_files"] = {
                    name: UploadedFile(part.filename or name, part.content_type, part.file.read())
                    for name, part in form.items()
                    if name != "payload_json" and hasattr(part, "file")
                }
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
        r.add_post(p + "/channels/{channel_id}/messages/{message_id}/crosspost", self._crosspost)
        r.add_post(p + "/channels/{channel_id}/followers", self._follow_channel)
        r.add_get(p + "/channels/{channel_id}/webhooks", self._channel_webhooks)
        r.add_get(p + "/webhooks/{webhook_id}", self._get_webhook)
        r.add_delete(p + "/webhooks/{webhook_id}", self._delete_webhook)
        r.add_get(p + "/guilds/{guild_id}", self._get_guild)
        r.add_get(p + "/guilds/{guild_id}/channels", self._get_guild_channels)
        r.add_get(p + "/guilds/{guild_id}/members/{user_id}", self._get_member)
        r.add_get(p + "/guilds/{guild_id}/roles", self._get_roles)
