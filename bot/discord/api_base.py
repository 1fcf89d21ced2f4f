"""Point discord.py at ``DISCORD_API_BASE`` and at the gateway that base announces.

Why this exists: discord.py hard-codes ``https://discord.com/api/v10`` as the class attribute
``discord.http.Route.BASE`` and ``wss://gateway.discord.gg/`` as
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``. A REST proxy in production and the
loopback fake in tests both need the bot to talk to *them* instead.

- REST: every request discord.py makes -- bot REST in ``discord/http.py`` *and* the interaction
  callback/webhook requests in ``discord/webhook/async_.py`` (which imports the same ``Route``) --
  builds its URL from ``Route.BASE`` when the route is created, so one assignment covers both.
  (``Webhook.url`` still prints ``https://discord.com/api/webhooks/…``; it is a display property,
  nothing is sent to it.) ``discord.http._set_api_version`` would reset ``Route.BASE``: don't call it.
- Gateway: ``discord.AutoShardedClient``/``commands.AutoShardedBot`` ask ``GET /gateway/bot``
  for the first connection, but a plain ``Client``/``commands.Bot`` never asks, and *both* fall back
  to ``DEFAULT_GATEWAY`` when a session is invalidated or a shard re-identifies. So the app must
  call :func:`adopt_gateway_url` once after login -- in ``setup_hook`` is the natural place::

      class OutageBot(commands.AutoShardedBot):
          async def setup_hook(self) -> None:
              await adopt_gateway_url(self.http)

  ``configure_api_base(settings.discord_api_base)`` must run before ``bot.start(token)``.
"""

from __future__ import annotations

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import HTTPClient, Route

from bot.settings import DEFAULT_API_BASE
DEFAULT_GATEWAY = "wss://gateway.discord.gg/"


def configure_api_base(base: str) -> None:
    """Send every discord.py REST and interaction-webhook request to ``base`` (no trailing slash).

    ``base`` includes the version path, e.g. ``http://127.0.0.1:8080/api/v10``.
    """
    url = yarl.URL(base.rstrip("/"))
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"DISCORD_API_BASE must be an absolute http(s) URL, got {base!r}")
    Route.BASE = str(url)


async def adopt_gateway_url(http: HTTPClient) -> yarl.URL:
    """Ask ``GET {base}/gateway/bot`` and make its ``url`` the gateway discord.py dials by default.

    Needs a logged-in ``HTTPClient`` (call it from ``setup_hook``). Returns the adopted URL.
    """
    _shards, url, _limits = await http.get_bot_gateway()
    gateway = yarl.URL(url)
    if not gateway.path:
        gateway = gateway.with_path("/")
    DiscordWebSocket.DEFAULT_GATEWAY = gateway
    return gateway


def reset_discord_endpoints() -> None:
    """Restore discord.py's built-in Discord endpoints (tests use it to undo the two settings)."""
    Route.BASE = DEFAULT_API_BASE
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(DEFAULT_GATEWAY)
