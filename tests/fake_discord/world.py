"""Building the world (users, guilds, channels, roles, permissions) and the payloads Discord
sends for them; snowflakes and waiting for the fake to change."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

from tests.fake_discord.records import FakeGuild
from tests.fake_discord.wire import ADMINISTRATOR, ALL_PERMISSIONS, DEFAULT_BOT_PERMISSIONS, DISCORD_EPOCH_MS, VIEW_CHANNEL


class WorldMixin:
    """Part of ``FakeDiscord`` (see the package docstring); its state lives on the instance."""

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
