"""REST routes: identity, guilds and channels, and messages (create, edit, reply, delete,
nonces, allowed mentions). Add a new route here and register it in
``server.FakeDiscord._add_routes``."""

from __future__ import annotations

import re
import secrets
from typing import Any

from aiohttp import web

from tests.fake_discord.attachments import attachments_for
from tests.fake_discord.records import FakeGuild
from tests.fake_discord.wire import (
    BODY_KEY,
    ATTACH_FILES,
    EMBED_LINKS,
    FLAG_CROSSPOSTED,
    FLAG_EPHEMERAL,
    FLAG_IS_CROSSPOST,
    FLAG_LOADING,
    FLAG_SOURCE_MESSAGE_DELETED,
    INTENT_GUILD_MESSAGES,
    MENTION_EVERYONE,
    MSG_DEFAULT,
    MSG_REPLY,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    DiscordHTTPError,
    FormErrors,
    json_response,
    now_iso,
)


class RestMixin:
    """Part of ``FakeDiscord`` (see the package docstring); its state lives on the instance."""

    # ------------------------------------------------------------------ REST: identity

    async def _get_me(self, request: web.Request) -> web.Response:
        return json_response({**self.bot_user, "mfa_enabled": False, "verified": True, "email": None,
                               "locale": "en-US", "premium_type": 0})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        return json_response({
            "url": self.gateway_url, "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1},
        })

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.gateway_url})

    async def _get_application(self, request: web.Request) -> web.Response:
        return json_response({
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
            raise DiscordHTTPError.named("unknown_guild")
        return guild

    def _channel_or_error(self, channel_id: int, need: int = VIEW_CHANNEL) -> dict[str, Any]:
        try:
            channel = self.channel(channel_id)
        except KeyError:
            raise DiscordHTTPError.named("unknown_channel") from None
        perms = self.bot_permissions(channel_id)
        if not perms & VIEW_CHANNEL:
            raise DiscordHTTPError.named("missing_access")
        if perms & need != need:
            raise DiscordHTTPError.named("missing_permissions")
        return channel

    async def _get_channel(self, request: web.Request) -> web.Response:
        return json_response(self._channel_or_error(int(request.match_info["channel_id"])))

    async def _get_guild(self, request: web.Request) -> web.Response:
        return json_response(self._guild_payload(self._guild_or_404(request)))

    async def _get_guild_channels(self, request: web.Request) -> web.Response:
        return json_response(list(self._guild_or_404(request).channels.values()))

    async def _get_roles(self, request: web.Request) -> web.Response:
        return json_response(list(self._guild_or_404(request).roles.values()))

    async def _get_member(self, request: web.Request) -> web.Response:
        guild = self._guild_or_404(request)
        uid = int(request.match_info["user_id"])
        if uid not in guild.members:
            raise DiscordHTTPError.named("unknown_member")
        return json_response(self._member_payload(guild, uid))

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
        errs = FormErrors()
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
            raise DiscordHTTPError(errs.response())
        if creating and not (body.get("content") or embeds or body.get("components") or body.get("_files")
                             or body.get("sticker_ids") or body.get("poll")):
            raise DiscordHTTPError.named("empty_message")

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
            "content": body.get("content") or "", "timestamp": now_iso(), "edited_timestamp": None,
            "tts": bool(body.get("tts")), "attachments": [], "embeds": body.get("embeds") or [],
            "components": body.get("components") or [], "pinned": False, "type": MSG_DEFAULT,
            "flags": int(body.get("flags") or 0), "allowed_mentions": body.get("allowed_mentions"),
            **self._mentions(guild, channel_id, body),
        }
        msg["attachments"] = attachments_for(self, channel_id, body) or []
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
        attachments = attachments_for(self, int(msg["channel_id"]), body, msg.get("attachments") or [])
        if attachments is not None:
            msg["attachments"] = attachments
        for key in ("content", "embeds", "components", "allowed_mentions"):
            if key in body:
                msg[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        if "flags" in body and body["flags"] is not None:
            # only SUPPRESS_EMBEDS-like flags are the sender's; the rest are Discord's to set
            kept = FLAG_EPHEMERAL | FLAG_LOADING | FLAG_CROSSPOSTED | FLAG_IS_CROSSPOST | FLAG_SOURCE_MESSAGE_DELETED
            msg["flags"] = (msg["flags"] & kept) | (int(body["flags"]) & ~kept)
        msg["flags"] &= ~FLAG_LOADING
        msg.update(self._mentions(guild, int(msg["channel_id"]), {**body, "content": msg["content"],
                                                                  "allowed_mentions": msg.get("allowed_mentions")}))
        if not was_loading:
            msg["edited_timestamp"] = now_iso()
        self._edit_history.setdefault(int(msg["id"]), []).append(body)

    async def _create_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        body = request[BODY_KEY] or {}
        need = VIEW_CHANNEL | SEND_MESSAGES | (EMBED_LINKS if body.get("embeds") else 0) | (ATTACH_FILES if body.get("_files") else 0)
        self._channel_or_error(channel_id, need)
        guild = self._guild_of_channel(channel_id)
        self._validate_message(body, creating=True)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            seen = self._nonces.get((channel_id, str(nonce)))
            if seen and self.clock() - seen[1] < self.nonce_window and seen[0] not in self._deleted_messages:
                self.stats["nonce_deduplicated"] += 1
                return json_response(self._messages_by_id[seen[0]])
        extra: dict[str, Any] = {}
        if ref := body.get("message_reference"):
            ref_id = int(ref["message_id"])
            target = self._messages_by_id.get(ref_id)
            if (target is None or ref_id in self._deleted_messages) and ref.get("fail_if_not_exists", True):
                errs = FormErrors()
                errs.add(["message_reference"], "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
                raise DiscordHTTPError(errs.response())
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
        return json_response(msg)

    def _message_in_channel(self, request: web.Request) -> tuple[dict[str, Any], FakeGuild]:
        channel_id = int(request.match_info["channel_id"])
        self._channel_or_error(channel_id, VIEW_CHANNEL | READ_MESSAGE_HISTORY)
        mid = int(request.match_info["message_id"])
        msg = self._messages_by_id.get(mid)
        if msg is None or mid in self._deleted_messages or int(msg["channel_id"]) != channel_id:
            raise DiscordHTTPError.named("unknown_message")
        return msg, self._guild_of_channel(channel_id)

    async def _get_message(self, request: web.Request) -> web.Response:
        return json_response(self._message_in_channel(request)[0])

    async def _list_messages(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        self._channel_or_error(channel_id, VIEW_CHANNEL | READ_MESSAGE_HISTORY)
        limit = min(100, int(request.query.get("limit", 50)))
        msgs = self.messages(channel_id, include_interaction_responses=True)
        return json_response(list(reversed(msgs))[:limit])

    async def _edit_message(self, request: web.Request) -> web.Response:
        msg, guild = self._message_in_channel(request)
        if msg["author"]["id"] != str(self.application_id):
            raise DiscordHTTPError.named("cannot_edit_other_user")
        if (request[BODY_KEY] or {}).get("_files"):
            self._channel_or_error(int(msg["channel_id"]), VIEW_CHANNEL | ATTACH_FILES)
        self._check_published_edit(msg)
        self._apply_edit(msg, request[BODY_KEY] or {}, guild)
        await self.dispatch("MESSAGE_UPDATE", dict(msg), guild.id, intent=INTENT_GUILD_MESSAGES)
        await self._propagate_edit(msg)
        return json_response(msg)

    async def _delete_message(self, request: web.Request) -> web.Response:
        msg, guild = self._message_in_channel(request)
        self._deleted_messages.add(int(msg["id"]))
        await self._source_deleted(int(msg["id"]))
        await self.dispatch("MESSAGE_DELETE", {"id": msg["id"], "channel_id": msg["channel_id"], "guild_id": str(guild.id)},
                            guild.id, intent=INTENT_GUILD_MESSAGES)
        return web.Response(status=204)
