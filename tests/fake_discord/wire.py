"""The wire format the fake speaks: Discord's constants (permission bits, intents, message
flags and types, locales), its error bodies and codes, and JSON responses exactly as
discord.py reads them (``Content-Type: application/json``, no charset)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

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
MANAGE_WEBHOOKS = 1 << 29
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
MSG_CHANNEL_FOLLOW_ADD = 12
# Channel Following (https://discord.com/developers/docs/resources/message#message-object-message-flags)
FLAG_CROSSPOSTED = 1 << 0  # this message has been published to subscribed channels
FLAG_IS_CROSSPOST = 1 << 1  # this message originated from a message in another channel
FLAG_SOURCE_MESSAGE_DELETED = 1 << 3  # the source message for this crosspost has been deleted
CHANNEL_TEXT, CHANNEL_ANNOUNCEMENT = 0, 5
WEBHOOK_CHANNEL_FOLLOWER = 2

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
    "already_crossposted": (400, 40033, "This message has already been crossposted"),
    # the code and message are documented (opcodes-and-status-codes); the HTTP status is not
    "announcement_edit_limit": (400, 20022, "This message cannot be edited due to announcement rate limits"),
    "wrong_channel_type": (400, 50024, "Cannot execute action on this channel type"),
    "unknown_command": (404, 10063, "Unknown application command"),
    "unknown_interaction": (404, 10062, "Unknown interaction"),
    "already_acknowledged": (400, 40060, "Interaction has already been acknowledged."),
    "empty_message": (400, 50006, "Cannot send an empty message"),
    "entity_too_large": (413, 40005, "Request entity too large"),
    "server_error": (500, 0, "500: Internal Server Error"),
    "bad_gateway": (502, 0, "502: Bad Gateway"),
}


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """discord.py only parses a body whose Content-Type is exactly ``application/json``: aiohttp
    adds ``; charset=utf-8`` to ``text=`` responses, so send bytes with the header set by hand."""
    resp = web.Response(body=json.dumps(body).encode(), status=status, headers={"Content-Type": "application/json"})
    if headers:
        resp.headers.update(headers)
    return resp


def error_body(name: str) -> tuple[int, dict[str, Any]]:
    status, code, message = ERRORS[name]
    return status, {"message": message, "code": code}


class FormErrors:
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
        return json_response({"message": "Invalid Form Body", "code": 50035, "errors": self.errors}, 400)


BODY_KEY: web.RequestKey[Any] = web.RequestKey("body")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class DiscordHTTPError(Exception):
    """Raised inside handlers to answer with a Discord error."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response

    @classmethod
    def named(cls, name: str) -> DiscordHTTPError:
        status, body = error_body(name)
        return cls(json_response(body, status))
