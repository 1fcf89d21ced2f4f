"""The gateway: websocket with zlib-stream, hello/identify/resume/heartbeat, dispatching
events to connected shards. Add a new gateway event here."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from aiohttp import WSMsgType, web

from tests.fake_discord.records import GatewayConn, GatewayEvent, GatewaySession
from tests.fake_discord.wire import INTENT_GUILDS, PRIVILEGED_INTENTS


class GatewayMixin:
    """Part of ``FakeDiscord`` (see the package docstring); its state lives on the instance."""

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

    async def _dispatch_to(self, session: GatewaySession, event: str, data: dict[str, Any]) -> None:
        """A DISPATCH for one session only: READY and RESUMED answer that session's own
        IDENTIFY/RESUME (Discord never shows one shard's READY to another)."""
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.buffer.append(frame)
        if session.conn is not None and not session.conn.ws.closed:
            await session.conn.send(frame)

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
        conn = GatewayConn(ws, request.query.get("compress"))
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

    async def _gateway_frame(self, conn: GatewayConn, frame: dict[str, Any]) -> None:
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

    async def _identify(self, conn: GatewayConn, d: dict[str, Any]) -> None:
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
        session = GatewaySession(uuid.uuid4().hex, intents, (shard_id, shard_count), conn=conn)
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
        await self._dispatch_to(session, "READY", ready)
        if intents & INTENT_GUILDS:
            for guild in mine:
                await self.dispatch("GUILD_CREATE", self._guild_create_payload(guild), guild.id)

    async def _resume(self, conn: GatewayConn, d: dict[str, Any]) -> None:
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
        await self._dispatch_to(session, "RESUMED", {"_trace": ["[\"fake-gateway\"]"]})
