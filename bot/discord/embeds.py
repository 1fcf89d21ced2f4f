"""Turn rendered messages (plain data from ``bot.notify.render``) into discord.py arguments.

Why one place: every message the bot posts — alerts, recovery notices, command replies — must
carry an ``allowed_mentions`` that admits at most the subscription's own role. Outside text is
already neutralised by ``bot.notify.text``; ``allowed_mentions`` is the second lock, so even a
mention that slipped through pings no one. Use::

    await channel.send(**to_send_kwargs(messages, role_id=sub.role_id), nonce=...)
    await message.edit(**to_edit_kwargs(messages))
    await interaction.response.send_message(**to_send_kwargs([msg], role_id=None))
"""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import replace
from datetime import datetime
from typing import Any, Sequence

import discord

from bot.i18n import translations
from bot.notify.render import RenderedMessage, ServiceNames
from bot.notify.render.chart import ReportSeries, report_chart

log = logging.getLogger(__name__)

#: Discord accepts at most 10 embeds in one message
MAX_EMBEDS = 10


def allowed_mentions(role_id: int | None) -> discord.AllowedMentions:
    """Only ``role_id`` may be pinged (nobody when None): never @everyone, @here, users or replies."""
    roles: list[discord.abc.Snowflake] | bool = [discord.Object(id=role_id)] if role_id else False
    return discord.AllowedMentions(everyone=False, users=False, roles=roles, replied_user=False)


def embeds(messages: Sequence[RenderedMessage]) -> list[discord.Embed]:
    """One embed per rendered message (``both``: Arabic first, as ``render_for`` orders them)."""
    if not messages:
        raise ValueError("nothing to send: no rendered message")
    if len(messages) > MAX_EMBEDS:
        raise ValueError(f"a Discord message holds at most {MAX_EMBEDS} embeds, got {len(messages)}")
    return [discord.Embed.from_dict(m.to_embed_dict()) for m in messages]


def to_send_kwargs(messages: Sequence[RenderedMessage], *, role_id: int | None = None) -> dict[str, Any]:
    """Keyword arguments for ``Messageable.send`` / ``InteractionResponse.send_message``.

    With a role the content is just its mention (the embeds cannot ping); without one there is
    no content at all.
    """
    return {
        "content": f"<@&{int(role_id)}>" if role_id else None,
        "embeds": embeds(messages),
        "allowed_mentions": allowed_mentions(role_id),
    }


def to_edit_kwargs(messages: Sequence[RenderedMessage], *, role_id: int | None = None) -> dict[str, Any]:
    """Keyword arguments for ``Message.edit``: new embeds, content left as it was (Discord never
    pings on an edit); ``role_id`` keeps the role's mention highlighted, nothing else."""
    return {"embeds": embeds(messages), "allowed_mentions": allowed_mentions(role_id)}


async def draw_charts(
    messages: Sequence[RenderedMessage], series: ReportSeries, names: ServiceNames, *, tz: str, digits: str, now: datetime
) -> tuple[list[RenderedMessage], list[tuple[str, bytes]]]:
    """``messages`` each showing the report chart in its own language, and the PNG files to
    attach (``chart-ar.png``, ``chart-en.png``). Drawn off the event loop; a chart that fails
    is logged and left out, so a message never waits on or fails for its picture."""
    out: list[RenderedMessage] = []
    files: list[tuple[str, bytes]] = []
    for message in messages:
        t = translations(message.lang, tz, digits)  # type: ignore[arg-type]
        try:
            chart = await asyncio.to_thread(report_chart, series, names.for_locale(t), t=t, now=now)
        except Exception:  # noqa: BLE001 - the alert goes out without its picture
            log.exception("report chart for %s (%s) failed", names.id, message.lang)
            out.append(message)
            continue
        name = f"chart-{message.lang}.png"
        files.append((name, chart.png))
        out.append(replace(message, image=name))
    return out, files


def files_of(charts: Sequence[tuple[str, bytes]]) -> list[discord.File]:
    """discord.py files for the attachments (a ``discord.File`` is read once: make new ones
    for every request)."""
    return [discord.File(io.BytesIO(data), filename=name) for name, data in charts]
