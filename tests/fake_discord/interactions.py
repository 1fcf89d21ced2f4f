"""Interactions: the dispatch side (invoking a command, autocomplete, a button click) and
the REST side (callbacks, follow-ups, the original response)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from tests.fake_discord.records import FakeGuild, FakeInteraction
from tests.fake_discord.wire import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    BODY_KEY,
    DEFAULT_MEMBER_PERMISSIONS,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    MSG_CHAT_INPUT_COMMAND,
    MSG_DEFAULT,
    DiscordHTTPError,
    FormErrors,
    json_response,
    now_iso,
)


class InteractionsMixin:
    """Part of ``FakeDiscord`` (see the package docstring); its state lives on the instance."""

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
        guild.members.setdefault(uid, {"roles": [], "joined_at": now_iso(), "nick": None})
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
            raise DiscordHTTPError.named("unknown_interaction")
        if inter.callback is not None:
            raise DiscordHTTPError.named("already_acknowledged")
        if time.monotonic() - inter.dispatched_at > self.interaction_window:
            raise DiscordHTTPError.named("unknown_interaction")
        body = request[BODY_KEY] or {}
        ctype = int(body.get("type", 0))
        data = body.get("data") or {}
        allowed = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}.get(inter.type, set())
        if ctype not in allowed:
            errs = FormErrors()
            errs.add(["type"], "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type")
            raise DiscordHTTPError(errs.response())
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
            errs = FormErrors()
            choices = data.get("choices") or []
            if len(choices) > 25:
                errs.add(["data", "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            for i, choice in enumerate(choices):
                if not 1 <= len(choice.get("name") or "") <= 100:
                    errs.add(["data", "choices", i, "name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
                errs.max_len(["data", "choices", i, "value"], choice.get("value"), 100)
            if errs:
                raise DiscordHTTPError(errs.response())
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
        return json_response(result)

    def _webhook_interaction(self, request: web.Request) -> FakeInteraction:
        inter = self._interactions_by_token.get(request.match_info["token"])
        if inter is None or request.match_info["app_id"] != str(self.application_id) or inter.callback is None:
            raise DiscordHTTPError.named("unknown_webhook")
        return inter

    def _webhook_target(self, request: web.Request) -> tuple[FakeInteraction, dict[str, Any]]:
        inter = self._webhook_interaction(request)
        raw = request.match_info.get("message_id")
        mid = inter.original_id if raw is None else int(raw)
        msg = self._messages_by_id.get(mid) if mid is not None else None
        if msg is None or mid in self._deleted_messages or (mid != inter.original_id and mid not in inter.followup_ids):
            raise DiscordHTTPError.named("unknown_message")
        return inter, msg

    async def _followup(self, request: web.Request) -> web.Response:
        """A follow-up message. As Discord documents for a deferred response, the first
        follow-up while the "thinking…" message is still loading replaces that message, and
        keeps its visibility (an ephemeral defer stays ephemeral whatever the follow-up asks)."""
        inter = self._webhook_interaction(request)
        body = request[BODY_KEY] or {}
        self._validate_message(body, creating=True)
        original = inter.original
        if original is not None and original.get("flags", 0) & FLAG_LOADING:
            body = {**body, "flags": int(body.get("flags") or 0) & ~FLAG_EPHEMERAL}  # visibility is the defer's
            self._apply_edit(original, body, self.guilds.get(inter.guild_id) if inter.guild_id else None)
            self.stats["followup_replaced_defer"] += 1
            if request.query.get("wait") in ("true", "1", "True"):
                return json_response(original)
            return web.Response(status=204)
        msg = self._interaction_message(inter, body)
        inter.followup_ids.append(int(msg["id"]))
        if request.query.get("wait") in ("true", "1", "True"):
            return json_response(msg)
        return web.Response(status=204)

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        return json_response(self._webhook_target(request)[1])

    async def _patch_webhook_message(self, request: web.Request) -> web.Response:
        inter, msg = self._webhook_target(request)
        self._apply_edit(msg, request[BODY_KEY] or {}, self.guilds.get(inter.guild_id) if inter.guild_id else None)
        return json_response(msg)

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        _, msg = self._webhook_target(request)
        self._deleted_messages.add(int(msg["id"]))
        return web.Response(status=204)
