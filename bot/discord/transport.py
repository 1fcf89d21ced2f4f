"""Where the delivery worker's messages go: the seam between its rules and the wire.

``DeliveryWorker`` decides what to post, edit or reply, in which order, how to retry and when
to give up; a ``Transport`` only carries one message. ``DiscordTransport`` is production (a
``discord.Client``'s REST calls); ``python -m bot simulate`` plugs in a console transport, so
the simulation runs the worker's own rules instead of a copy of them.

A transport raises discord.py's exceptions (``discord.HTTPException`` and subclasses) for the
answers the worker handles — a refused chart, a deleted alert, a closed channel.

A transport that can also ``crosspost`` (a ``Publisher``) carries follow delivery: the worker
posts an alert once in a hub announcement channel and publishes it to every channel that
follows the hub. A transport without it (the console) posts hub messages like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence, runtime_checkable

import discord

from bot.detect.model import IncidentEvent
from bot.discord.embeds import files_of, to_edit_kwargs, to_send_kwargs
from bot.i18n import translations
from bot.notify.render import DOWN_FOR_ME_TOO, WORKS_FOR_ME, RenderedMessage


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message for one channel: what it says, whom it may ping, what it carries.

    ``nonce`` makes a repeated post return the first message (Discord's ``enforce_nonce``);
    ``reply_to`` makes it a reply; ``files`` are the PNG charts its embeds show; ``event`` is
    what the message is about (a transport that prints or records may say so); ``over`` marks
    the edit that shows an alert is over."""

    channel_id: int
    messages: Sequence[RenderedMessage]
    event: IncidentEvent
    nonce: str | None = None
    role_id: int | None = None
    reply_to: int | None = None
    files: Sequence[tuple[str, bytes]] = ()
    over: bool = False
    #: an alert people can answer: "Down for me too" / "Works for me" for this service, labelled
    #: in ``language`` (ar, en, or both)
    buttons: str | None = None
    language: str = "en"


class Transport(Protocol):
    """What the delivery worker needs from the place messages go."""

    def is_closed(self) -> bool:
        """Shut down: a failure now is not the delivery's fault."""
        ...

    async def send(self, out: Outgoing) -> int:
        """Post ``out`` (a reply when ``reply_to`` is set); returns the new message's id."""
        ...

    async def edit(self, out: Outgoing, message_id: int) -> None:
        """Replace message ``message_id``'s embeds with ``out``'s (its files replace the old
        ones; no files: the attachments are left as they are)."""
        ...


@runtime_checkable
class Publisher(Protocol):
    """A transport that can publish a message of an announcement channel to its followers."""

    async def crosspost(self, channel_id: int, message_id: int) -> None:
        """Publish message ``message_id`` of announcement channel ``channel_id`` (Discord's
        Crosspost Message); raises ``discord.RateLimited`` when the channel's hourly publish
        budget is spent, ``discord.HTTPException`` code 40033 when it was published already."""
        ...


def answer_buttons(service_id: str, language: str) -> discord.ui.View:
    """The alert's "Down for me too" and "Works for me" buttons (handled by the reports cog by
    their ``custom_id``, whoever posted them), labelled in the subscription's language."""
    from bot.discord.cogs.reports import ReportButton, WorksButton  # the cog owns what a click does

    def label(msgid: str) -> str:
        if language == "both":
            return f"{translations('ar').gettext(msgid)} · {translations('en').gettext(msgid)}"
        return translations(language).gettext(msgid)

    view = discord.ui.View(timeout=None)
    view.add_item(ReportButton(service_id, label(DOWN_FOR_ME_TOO)))
    view.add_item(WorksButton(service_id, label(WORKS_FOR_ME)))
    return view


class DiscordTransport:
    """Discord through a discord.py client's REST calls (no gateway needed)."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    def is_closed(self) -> bool:
        return self.client.is_closed()

    async def send(self, out: Outgoing) -> int:
        channel = self.client.get_partial_messageable(out.channel_id)
        kwargs: dict[str, Any] = to_send_kwargs(out.messages, role_id=out.role_id)
        if out.reply_to is not None:
            kwargs["reference"] = discord.MessageReference(message_id=out.reply_to, channel_id=out.channel_id, fail_if_not_exists=False)
            kwargs["mention_author"] = False
        if out.files:
            kwargs["files"] = files_of(out.files)
        if out.nonce is not None:
            kwargs["nonce"] = out.nonce
        if out.buttons is not None:
            kwargs["view"] = answer_buttons(out.buttons, out.language)
        message = await channel.send(**kwargs)
        return message.id

    async def edit(self, out: Outgoing, message_id: int) -> None:
        message = self.client.get_partial_messageable(out.channel_id).get_partial_message(message_id)
        kwargs = to_edit_kwargs(out.messages, role_id=out.role_id)
        if out.files:
            kwargs["attachments"] = files_of(out.files)
        if out.over:
            kwargs["view"] = None  # it is over: nothing left to answer
        await message.edit(**kwargs)

    async def crosspost(self, channel_id: int, message_id: int) -> None:
        message = self.client.get_partial_messageable(channel_id).get_partial_message(message_id)
        await message.publish()
