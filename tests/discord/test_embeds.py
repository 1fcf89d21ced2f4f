"""RenderedMessage → discord.py arguments: embeds in order, and mentions locked to one role."""

from __future__ import annotations

import discord
import pytest

from bot.discord.embeds import allowed_mentions, embeds, to_edit_kwargs, to_send_kwargs
from bot.notify.render import RenderedMessage, render_event, render_for
from tests.notify.samples import ALERT, UPDATE, X


def _both() -> list[RenderedMessage]:
    return render_for("both", render_event, UPDATE, X, tz="Asia/Riyadh", digits="arab", now=UPDATE.at)


def test_both_languages_become_two_embeds_arabic_first() -> None:
    messages = _both()
    result = embeds(messages)
    assert [e.title for e in result] == [m.title for m in messages]
    assert messages[0].lang == "ar" and messages[1].lang == "en"
    assert result[0].to_dict() == discord.Embed.from_dict(messages[0].to_embed_dict()).to_dict()
    assert result[1].fields[0].name == messages[1].fields[0][0]


def test_without_a_role_nothing_can_be_pinged() -> None:
    kwargs = to_send_kwargs(render_for("en", render_event, ALERT, X, now=ALERT.at), role_id=None)
    assert kwargs["content"] is None
    assert kwargs["allowed_mentions"].to_dict() == {"parse": []}


def test_with_a_role_only_that_role_is_mentioned_and_allowed() -> None:
    kwargs = to_send_kwargs(render_for("ar", render_event, ALERT, X, now=ALERT.at), role_id=1234567890123)
    assert kwargs["content"] == "<@&1234567890123>"
    assert kwargs["allowed_mentions"].to_dict() == {"parse": [], "roles": [1234567890123]}


def test_allowed_mentions_override_a_permissive_client_default() -> None:
    """discord.py merges a message's allowed_mentions into the client's default: ours must win."""
    permissive = discord.AllowedMentions.all()
    merged = permissive.merge(allowed_mentions(42))
    assert merged.to_dict() == {"parse": [], "roles": [42]}


def test_edits_keep_the_content_and_the_lock() -> None:
    kwargs = to_edit_kwargs(_both(), role_id=7)
    assert "content" not in kwargs and len(kwargs["embeds"]) == 2
    assert kwargs["allowed_mentions"].to_dict() == {"parse": [], "roles": [7]}


def test_empty_or_oversized_message_lists_are_refused() -> None:
    with pytest.raises(ValueError):
        embeds([])
    with pytest.raises(ValueError):
        embeds(_both() * 6)
