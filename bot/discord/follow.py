"""Following a hub announcement channel for ``/subscribe delivery:follow``, and undoing it.

Discord does the fan-out: ``POST /channels/{hub}/followers`` (discord.py's
``TextChannel.follow``) makes a Channel Follower webhook in the subscriber's channel, which
needs the bot to hold Manage Webhooks there; deleting that webhook ends the follow. The bot
must be in the hub's guild to publish there, so the hub is fetched by id (it may live on
another shard, outside this process's cache)."""

from __future__ import annotations

import logging

import discord

log = logging.getLogger(__name__)

AUDIT_REASON = "outage alerts: /subscribe delivery:follow"


class HubUnavailable(Exception):
    """The configured hub cannot be followed (not an announcement channel, gone, not visible
    to the bot): the operator's FOLLOW_HUBS needs fixing."""


async def follow_hub(client: discord.Client, hub_channel_id: int, destination: discord.TextChannel) -> int:
    """Make ``destination`` follow the hub; returns the follower webhook's id. Raises
    ``discord.Forbidden`` when Discord refuses it in ``destination`` (no Manage Webhooks)."""
    try:
        hub = client.get_channel(hub_channel_id) or await client.fetch_channel(hub_channel_id)
    except discord.HTTPException as exc:
        raise HubUnavailable(f"hub {hub_channel_id}: {exc.status} {exc.code} {exc.text}") from exc
    if not isinstance(hub, discord.TextChannel) or not hub.is_news():
        raise HubUnavailable(f"hub {hub_channel_id} is not an announcement channel")
    webhook = await hub.follow(destination=destination, reason=AUDIT_REASON)
    return webhook.id


async def webhook_alive(client: discord.Client, webhook_id: int) -> bool:
    """Whether a follower webhook still exists (someone may have removed the follow by hand)."""
    try:
        await client.fetch_webhook(webhook_id)
    except discord.NotFound:
        return False
    return True


async def unfollow(client: discord.Client, webhook_id: int) -> bool:
    """Delete a follower webhook; True when it is gone (or was already), False when Discord
    would not let us (the channel's settings can still remove it)."""
    try:
        webhook = await client.fetch_webhook(webhook_id)
        await webhook.delete(reason=AUDIT_REASON)
    except discord.NotFound:
        return True
    except discord.HTTPException as exc:
        log.warning("could not delete follower webhook %s: %s %s %s", webhook_id, exc.status, exc.code, exc.text)
        return False
    return True


async def check_hubs(client: discord.Client, hub_channel_ids: list[int]) -> list[str]:
    """What is wrong with the configured hubs, one line each (logged at start: a hub the bot
    cannot post in or publish from would leave every follower without alerts)."""
    problems: list[str] = []
    for channel_id in hub_channel_ids:
        try:
            hub = client.get_channel(channel_id) or await client.fetch_channel(channel_id)
        except discord.HTTPException as exc:
            problems.append(f"FOLLOW_HUBS channel {channel_id} cannot be read by the bot ({exc.status} {exc.text}): add the bot to its server")
            continue
        if not isinstance(hub, discord.TextChannel) or not hub.is_news():
            problems.append(f"FOLLOW_HUBS channel {channel_id} is not an announcement channel: only those can be followed")
            continue
        me = hub.guild.me if isinstance(hub.guild, discord.Guild) else None
        if me is not None:
            perms = hub.permissions_for(me)
            missing = [name for name in ("view_channel", "send_messages", "embed_links") if not getattr(perms, name)]
            if missing:
                problems.append(f"FOLLOW_HUBS channel {channel_id} (#{hub.name}): the bot lacks {', '.join(missing)} there")
    return problems
