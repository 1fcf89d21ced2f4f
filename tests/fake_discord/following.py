"""Channel Following, as Discord documents it: announcement channels (type 5), following one
into a text channel through a Channel Follower webhook, publishing (crossposting) a message to
every follower, and what followers see of later edits and deletions.

Sources (discord/discord-api-docs at c98d64b, 2026-08-06, and the threads named):

* ``POST /channels/{id}/followers`` {``webhook_channel_id``} needs ``MANAGE_WEBHOOKS`` in the
  *target* channel, returns ``{channel_id, webhook_id}`` and fires Webhooks Update for the target
  (resources/channel.mdx "Follow Announcement Channel"); the webhook is type 2 "Channel
  Follower" with ``source_guild``/``source_channel`` (resources/webhook.mdx); a
  CHANNEL_FOLLOW_ADD message (type 12) whose reference points at the followed channel appears in
  the target (resources/message.mdx "Channel Follow Add messages").
* ``POST /channels/{id}/messages/{mid}/crosspost`` needs ``SEND_MESSAGES`` for the bot's own
  message, ``MANAGE_MESSAGES`` too for anyone else's; returns the message, fires Message Update
  (resources/message.mdx "Crosspost Message"). The source gets ``CROSSPOSTED``; each copy is
  posted by the follower webhook with ``IS_CROSSPOST`` and a ``message_reference`` carrying the
  source's channel, guild and message ids (message flags; "Crosspost messages"). A second
  publish is error 40033 (topics/opcodes-and-status-codes.mdx).
* Publishing is limited to 10 messages per hour per announcement channel, answered as a 429
  with ``X-RateLimit-Scope: shared`` (a per-resource limit that does not count towards the
  invalid-request ban, topics/rate-limits.mdx). The number is not in the API docs: it is the
  figure of Discord's "Announcement Channels" help article as quoted by
  Vedinsoh/discord-auto-publisher's README and its crosspost handler (which treats it as that
  shared-scope sublimit per channel) and synzen/MonitoRSS#184.
* Edits of a published message reach the copies (the help article, quoted in
  discord/discord-api-docs#1910; new attachments do not: #6856), but a published message can be
  edited only a few times an hour: error 20022 "This message cannot be edited due to
  announcement rate limits" (opcodes). The number is undocumented; "3 times per hour" is a
  developer's report in discord/discord-api-docs#2258, the fake's default.
* Deleting the source leaves the copies, flagged ``SOURCE_MESSAGE_DELETED`` (message flags).
"""

from __future__ import annotations

import collections
from typing import Any

from aiohttp import web

from tests.fake_discord.wire import (
    BODY_KEY,
    CHANNEL_ANNOUNCEMENT,
    FLAG_CROSSPOSTED,
    FLAG_IS_CROSSPOST,
    FLAG_SOURCE_MESSAGE_DELETED,
    INTENT_GUILD_MESSAGES,
    MANAGE_MESSAGES,
    MANAGE_WEBHOOKS,
    MSG_CHANNEL_FOLLOW_ADD,
    MSG_DEFAULT,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    WEBHOOK_CHANNEL_FOLLOWER,
    DiscordHTTPError,
    json_response,
    now_iso,
)

#: Discord's publish limit per announcement channel (see the module docstring)
PUBLISH_LIMIT, PUBLISH_WINDOW = 10, 3600.0
#: edits of a published message per hour before 20022 (reported, not documented)
PUBLISHED_EDIT_LIMIT, PUBLISHED_EDIT_WINDOW = 3, 3600.0


class FollowingMixin:
    """Part of ``FakeDiscord`` (see the package docstring); its state lives on the instance:
    ``webhooks`` (follower webhooks by id), ``crossposts`` (source message id -> copy ids),
    ``publish_limit``/``publish_window``, ``published_edit_limit``/``published_edit_window``."""

    # ------------------------------------------------------------------ inspecting

    def followers(self, channel_id: int) -> list[int]:
        """The channels following announcement channel ``channel_id`` (live webhooks only)."""
        return [int(w["channel_id"]) for w in self.webhooks.values()
                if int(w["source_channel"]["id"]) == channel_id and int(w["channel_id"]) not in self.deleted_channels]

    def copies_of(self, message_id: int) -> list[dict[str, Any]]:
        """The crossposted copies of a published message, one per follower channel."""
        return [self._messages_by_id[m] for m in self.crossposts.get(message_id, [])]

    # ------------------------------------------------------------------ following

    def add_follower(self, source_id: int, target_id: int) -> int:
        """World building: ``target_id`` already follows announcement channel ``source_id`` (as
        after ``POST /channels/{source}/followers`` long ago); returns the webhook id."""
        source, target = self.channel(source_id), self.channel(target_id)
        assert source["type"] == CHANNEL_ANNOUNCEMENT, "only announcement channels can be followed"
        webhook_id = self.snowflake()
        self.webhooks[webhook_id] = self._webhook_payload(webhook_id, target, source)
        return webhook_id

    def _webhook_payload(self, webhook_id: int, target: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
        source_guild = self._guild_of_channel(int(source["id"]))
        return {
            "type": WEBHOOK_CHANNEL_FOLLOWER, "id": str(webhook_id), "name": source_guild.name, "avatar": None,
            "channel_id": target["id"], "guild_id": target["guild_id"], "application_id": None,
            "source_guild": {"id": str(source_guild.id), "name": source_guild.name, "icon": None},
            "source_channel": {"id": source["id"], "name": source["name"]},
            "user": self.bot_user,
        }

    async def _follow_channel(self, request: web.Request) -> web.Response:
        source_id = int(request.match_info["channel_id"])
        source = self._channel_or_error(source_id)
        body = request[BODY_KEY] or {}
        try:
            target_id = int(body["webhook_channel_id"])
        except (KeyError, TypeError, ValueError):
            raise DiscordHTTPError(json_response(
                {"message": "Invalid Form Body", "code": 50035,
                 "errors": {"webhook_channel_id": {"_errors": [{"code": "BASE_TYPE_REQUIRED",
                                                                "message": "This field is required"}]}}}, 400)) from None
        if source["type"] != CHANNEL_ANNOUNCEMENT:
            raise DiscordHTTPError.named("wrong_channel_type")
        target = self._channel_or_error(target_id, VIEW_CHANNEL | MANAGE_WEBHOOKS)
        if target["type"] == CHANNEL_ANNOUNCEMENT:  # an announcement channel cannot follow one
            raise DiscordHTTPError.named("wrong_channel_type")
        webhook_id = self.snowflake()
        self.webhooks[webhook_id] = self._webhook_payload(webhook_id, target, source)
        guild = self._guild_of_channel(target_id)
        source_guild = self._guild_of_channel(source_id)
        notice = self._build_message(
            target_id, guild, {"content": f"{source_guild.name} #{source['name']}"},
            type=MSG_CHANNEL_FOLLOW_ADD,
            message_reference={"type": 0, "channel_id": source["id"], "guild_id": str(source_guild.id)},
        )
        self._channel_messages[target_id].append(int(notice["id"]))
        await self.dispatch("WEBHOOKS_UPDATE", {"guild_id": str(guild.id), "channel_id": str(target_id)}, guild.id)
        await self.dispatch("MESSAGE_CREATE", dict(notice), guild.id, intent=INTENT_GUILD_MESSAGES)
        return json_response({"channel_id": str(source_id), "webhook_id": str(webhook_id)})

    def _webhook_or_error(self, request: web.Request) -> dict[str, Any]:
        webhook = self.webhooks.get(int(request.match_info["webhook_id"]))
        if webhook is None or int(webhook["channel_id"]) in self.deleted_channels:
            raise DiscordHTTPError.named("unknown_webhook")
        self._channel_or_error(int(webhook["channel_id"]), VIEW_CHANNEL | MANAGE_WEBHOOKS)
        return webhook

    async def _get_webhook(self, request: web.Request) -> web.Response:
        return json_response(self._webhook_or_error(request))

    async def _delete_webhook(self, request: web.Request) -> web.Response:
        webhook = self._webhook_or_error(request)
        del self.webhooks[int(webhook["id"])]
        guild_id = int(webhook["guild_id"])
        await self.dispatch("WEBHOOKS_UPDATE", {"guild_id": str(guild_id), "channel_id": webhook["channel_id"]}, guild_id)
        return web.Response(status=204)

    async def _channel_webhooks(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        self._channel_or_error(channel_id, VIEW_CHANNEL | MANAGE_WEBHOOKS)
        return json_response([w for w in self.webhooks.values() if int(w["channel_id"]) == channel_id])

    # ------------------------------------------------------------------ publishing

    def _publish_limited(self, channel_id: int) -> web.Response | None:
        """The shared-scope 429 of a spent hourly publish budget, or None (and the publish counted)."""
        now = self.clock()
        times = self._publishes.setdefault(channel_id, collections.deque())
        while times and now - times[0] >= self.publish_window:
            times.popleft()
        if len(times) < self.publish_limit:
            times.append(now)
            return None
        retry = round((times[0] if times else now) + self.publish_window - now, 3)
        self.stats["429_publish"] += 1
        body = {"message": "The resource is being rate limited.", "retry_after": retry, "global": False}
        headers = self._429_headers(retry, is_global=False, limit=self.publish_limit,
                                    bucket=self._bucket_hash(f"crosspost {channel_id}"), scope="shared")
        return json_response(body, 429, headers)

    async def _crosspost(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        channel = self._channel_or_error(channel_id, VIEW_CHANNEL | SEND_MESSAGES)
        if channel["type"] != CHANNEL_ANNOUNCEMENT:
            raise DiscordHTTPError.named("wrong_channel_type")
        msg, guild = self._message_in_channel(request)
        if msg["author"]["id"] != str(self.application_id):
            self._channel_or_error(channel_id, VIEW_CHANNEL | SEND_MESSAGES | MANAGE_MESSAGES)
        if msg["flags"] & FLAG_CROSSPOSTED:
            raise DiscordHTTPError.named("already_crossposted")
        limited = self._publish_limited(channel_id)
        if limited is not None:
            return limited
        msg["flags"] |= FLAG_CROSSPOSTED
        copies: list[int] = []
        author_name = f"{guild.name} #{channel['name']}"
        for webhook in list(self.webhooks.values()):
            target_id = int(webhook["channel_id"])
            if int(webhook["source_channel"]["id"]) != channel_id or target_id in self.deleted_channels:
                continue
            copy = self._copy_for(webhook, msg, guild, author_name)
            copies.append(int(copy["id"]))
            self._channel_messages[target_id].append(int(copy["id"]))
            await self.dispatch("MESSAGE_CREATE", dict(copy), int(webhook["guild_id"]), intent=INTENT_GUILD_MESSAGES)
        self.crossposts[int(msg["id"])] = copies
        self.stats["crossposted"] += 1
        await self.dispatch("MESSAGE_UPDATE", dict(msg), guild.id, intent=INTENT_GUILD_MESSAGES)
        return json_response(msg)

    def _copy_for(self, webhook: dict[str, Any], source: dict[str, Any], source_guild: Any, author_name: str) -> dict[str, Any]:
        """The message a follower channel gets: posted by the follower webhook (named after the
        source guild and channel), the source's words and embeds, pinging nobody (the source
        guild's roles mean nothing in the follower's)."""
        mid = self.snowflake()
        copy: dict[str, Any] = {
            "id": str(mid), "channel_id": webhook["channel_id"], "guild_id": webhook["guild_id"],
            "author": {"id": webhook["id"], "username": author_name,
                       "discriminator": "0000", "avatar": None, "bot": True, "global_name": None},
            "webhook_id": webhook["id"], "content": source["content"], "timestamp": now_iso(),
            "edited_timestamp": None, "tts": False, "attachments": list(source.get("attachments") or []),
            "embeds": list(source.get("embeds") or []), "components": [], "pinned": False, "type": MSG_DEFAULT,
            "flags": FLAG_IS_CROSSPOST, "mention_everyone": False, "mentions": [], "mention_roles": [],
            "mention_channels": [],
            "message_reference": {"type": 0, "channel_id": source["channel_id"], "guild_id": str(source_guild.id),
                                  "message_id": source["id"]},
        }
        self._messages_by_id[mid] = copy
        return copy

    # ------------------------------------------------------------------ edits and deletions of published messages

    def _check_published_edit(self, msg: dict[str, Any]) -> None:
        """A published message may be edited only ``published_edit_limit`` times an hour (20022)."""
        if not msg["flags"] & FLAG_CROSSPOSTED:
            return
        now = self.clock()
        times = self._published_edits.setdefault(int(msg["id"]), collections.deque())
        while times and now - times[0] >= self.published_edit_window:
            times.popleft()
        if len(times) >= self.published_edit_limit:
            self.stats["published_edit_refused"] += 1
            raise DiscordHTTPError.named("announcement_edit_limit")
        times.append(now)

    async def _propagate_edit(self, msg: dict[str, Any]) -> None:
        """The copies take the source's new words and embeds (not new attachments: #6856)."""
        for copy in self.copies_of(int(msg["id"])):
            if int(copy["id"]) in self._deleted_messages:
                continue
            copy["content"], copy["embeds"] = msg["content"], list(msg.get("embeds") or [])
            copy["edited_timestamp"] = now_iso()
            self._edit_history.setdefault(int(copy["id"]), []).append({"content": copy["content"], "embeds": copy["embeds"]})
            await self.dispatch("MESSAGE_UPDATE", dict(copy), int(copy["guild_id"]), intent=INTENT_GUILD_MESSAGES)

    async def _source_deleted(self, message_id: int) -> None:
        for copy in self.copies_of(message_id):
            copy["flags"] |= FLAG_SOURCE_MESSAGE_DELETED
            await self.dispatch("MESSAGE_UPDATE", dict(copy), int(copy["guild_id"]), intent=INTENT_GUILD_MESSAGES)
