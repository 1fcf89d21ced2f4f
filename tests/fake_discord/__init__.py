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
- Once a global 429 went out, the global limit is in force for its ``retry_after``: every
  bot-token request meanwhile is answered with another global 429 (``429_inside_global``);
  interaction callbacks and follow-ups are not bound to it, as Discord documents.
- Interaction callbacks come with ``?with_response=1`` and get the callback object back.
- The gateway honours ``compress=zlib-stream`` (one zlib stream, each payload Z_SYNC_FLUSHed).

Usage::

    async with FakeDiscord() as fake:
        guild = fake.add_guild("Test", channels=("alerts",))
        configure_api_base(fake.api_base)          # bot/discord/api_base.py
        ...  # start a discord.AutoShardedClient with fake.token; adopt_gateway_url in setup_hook
        inter = await fake.invoke_command(guild.id, guild.channel_by_name("alerts"), "isitdown",
                                          {"service": "github"})
        await inter.wait_response()                # the callback JSON
        fake.messages(guild.channel_by_name("alerts"))

State to assert on: ``requests`` (RecordedRequest list), ``stats`` (Counter: requests, 429,
429_global, 429_channel, 429_inside_global, 429_publish, injected, held, invalid_requests, nonce_deduplicated,
banned, crossposted, published_edit_refused), ``messages()``,
``edit_history()``, ``commands()``, ``interactions``, ``gateway_ops()``, ``gateway_connections``.
Faults: ``inject``/``inject_error``/``inject_429``, ``hold`` (requests held on the wire until a
gate opens); limits: ``set_rate_limits``.

The package, one module per area (``FakeDiscord`` is composed of one mixin each):

* ``wire``: Discord's constants, error codes and JSON responses as discord.py reads them;
* ``records``: the world model tests assert on (requests, faults, limits, guilds, interactions,
  gateway events);
* ``server``: ``FakeDiscord`` itself — the aiohttp app, lifecycle, and the HTTP plumbing every
  route goes through (recording, faults, rate limits, auth); routes are registered in
  ``FakeDiscord._add_routes``;
* ``world``: users, guilds, channels, roles, permissions and their payloads;
* ``faults``: injected errors and 429s, per-route and global rate limits, the invalid-request ban;
* ``rest`` (identity, channels, messages), ``following`` (announcement channels, follower
  webhooks, crossposting with its hourly publish limit and the edit limit of published
  messages), ``commands`` (application commands),
  ``interactions`` (dispatching commands/clicks, callbacks, follow-ups), ``gateway``;
* ``client``: start the real discord.py against the fake.

Where to add: a REST route in ``rest`` (or a new module for a new area, e.g. attachments or
channel following) plus its line in ``server.FakeDiscord._add_routes``; a gateway event in
``gateway``; a fault or a limit in ``faults``.
"""

from __future__ import annotations

from tests.fake_discord.client import (
    discord_py_on_fake,
    rest_client,
)
from tests.fake_discord.records import (
    FakeGuild,
    FakeInteraction,
    Fault,
    GatewayEvent,
    RateLimits,
    RecordedRequest,
)
from tests.fake_discord.server import (
    FakeDiscord,
)
from tests.fake_discord.wire import (
    ADD_REACTIONS,
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    API_PREFIX,
    ATTACH_FILES,
    CHANNEL_ANNOUNCEMENT,
    CREATE_INSTANT_INVITE,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_MEMBER_PERMISSIONS,
    DISCORD_EPOCH_MS,
    DISCORD_LOCALES,
    EMBED_LINKS,
    ERRORS,
    FLAG_CROSSPOSTED,
    FLAG_EPHEMERAL,
    FLAG_IS_CROSSPOST,
    FLAG_LOADING,
    FLAG_SOURCE_MESSAGE_DELETED,
    FLAG_SUPPRESS_EMBEDS,
    INTENT_GUILD_MEMBERS,
    INTENT_GUILD_MESSAGES,
    INTENT_GUILD_PRESENCES,
    INTENT_GUILDS,
    INTENT_MESSAGE_CONTENT,
    MANAGE_CHANNELS,
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    MANAGE_ROLES,
    MANAGE_WEBHOOKS,
    MENTION_EVERYONE,
    MSG_CHANNEL_FOLLOW_ADD,
    MSG_CHAT_INPUT_COMMAND,
    MSG_DEFAULT,
    MSG_REPLY,
    PRIVILEGED_INTENTS,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    USE_APPLICATION_COMMANDS,
    USE_EXTERNAL_EMOJIS,
    VIEW_CHANNEL,
)

__all__ = [
    "ADD_REACTIONS",
    "ADMINISTRATOR",
    "ALL_PERMISSIONS",
    "API_PREFIX",
    "ATTACH_FILES",
    "CHANNEL_ANNOUNCEMENT",
    "CREATE_INSTANT_INVITE",
    "DEFAULT_BOT_PERMISSIONS",
    "DEFAULT_MEMBER_PERMISSIONS",
    "DISCORD_EPOCH_MS",
    "DISCORD_LOCALES",
    "EMBED_LINKS",
    "ERRORS",
    "FLAG_CROSSPOSTED",
    "FLAG_EPHEMERAL",
    "FLAG_IS_CROSSPOST",
    "FLAG_LOADING",
    "FLAG_SOURCE_MESSAGE_DELETED",
    "FLAG_SUPPRESS_EMBEDS",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "Fault",
    "GatewayEvent",
    "INTENT_GUILDS",
    "INTENT_GUILD_MEMBERS",
    "INTENT_GUILD_MESSAGES",
    "INTENT_GUILD_PRESENCES",
    "INTENT_MESSAGE_CONTENT",
    "MANAGE_CHANNELS",
    "MANAGE_GUILD",
    "MANAGE_MESSAGES",
    "MANAGE_ROLES",
    "MANAGE_WEBHOOKS",
    "MENTION_EVERYONE",
    "MSG_CHANNEL_FOLLOW_ADD",
    "MSG_CHAT_INPUT_COMMAND",
    "MSG_DEFAULT",
    "MSG_REPLY",
    "PRIVILEGED_INTENTS",
    "READ_MESSAGE_HISTORY",
    "RateLimits",
    "RecordedRequest",
    "SEND_MESSAGES",
    "SEND_MESSAGES_IN_THREADS",
    "USE_APPLICATION_COMMANDS",
    "USE_EXTERNAL_EMOJIS",
    "VIEW_CHANNEL",
    "discord_py_on_fake",
    "rest_client",
]
