"""Render what users read — outage alerts, updates, recovery notices, ``/isitdown`` answers —
in one language, as plain data (pure: no discord import; the Discord layer converts).

The package is split by what it renders: ``words`` is the vocabulary (status words, labels,
the command UI's words); ``message`` the embed itself, its direction and Discord's limits;
``phrases`` the sentence parts messages share; ``evidence`` the official / probe / crowd
fields; ``incident`` the alert, recovery, resolved alert and unstable notice; ``answers`` the
``/isitdown`` answer. Command replies (confirmations, lists, ``/status``) are in
``bot.services.replies``. A new message family is a new module here; a new word goes in
``words``; everything a user reads goes through the catalogs in ``locales/``.

API (every function takes a ``Translator`` as ``t`` and the current time as ``now``)::

    from bot.i18n import translations
    from bot.notify.render import ServiceNames, render_event, render_for, render_verdict

    names = ServiceNames("x", "X", "إكس", status_url="https://status.x.com")
    t = translations("ar", tz="Asia/Riyadh", digits="arab")

    msg = render_event(event, names, t=t, now=now)   # RenderedMessage (alert/update/recovery/…)
    msg.to_embed_dict()                              # Discord embed JSON → discord.Embed.from_dict
    print(msg.as_text())                             # terminal / simulate / golden files

    # a subscription's language ("ar" | "en" | "both") → one message's embeds, Arabic first:
    embeds = render_for("both", render_event, event, names, tz="Asia/Riyadh", digits="arab", now=now)

* ``render_event`` dispatches on ``event.kind``: OPENED, ESCALATED, DEESCALATED and UPDATED →
  ``render_alert`` (the alert, edited in place as the incident moves); RESOLVED →
  ``render_recovery`` (the reply); UNSTABLE → ``render_unstable``.
  ``render_resolved_alert`` is the original alert edited to show it is over.
* ``render_verdict`` is the ``/isitdown`` answer.
* ``render_both``/``render_for`` return a list of ``RenderedMessage`` (one embed each) that
  together fit one Discord message (6,000 characters in all).

Everything from outside (titles, update bodies) goes through ``bot.notify.text.clean`` once, in ``phrases.quote`` (pass it raw):
quoted, trimmed, mentions neutralised, masked links opened, markdown escaped.
"""

from bot.notify.render.answers import render_verdict
from bot.notify.render.evidence import crowd_line, probe_line
from bot.notify.render.incident import render_alert, render_event, render_recovery, render_resolved_alert, render_unstable
from bot.notify.render.message import RenderedMessage, RenderFn, ServiceNames, as_text, render_both, render_for
from bot.notify.render.phrases import DEFAULT_CROWD_WINDOW, quote, since_phrase
from bot.notify.render.words import (
    CHOICE_NAMES,
    COLORS,
    COMMAND_DESCRIPTIONS,
    DOWN_FOR_ME_TOO,
    WORKS_FOR_ME,
    OPTION_DESCRIPTIONS,
    PROBLEM_LABELS,
    PROBLEM_SHARES,
    ROLE_WORDS,
    STATUS_WORDS,
    problem_label,
    status_word,
)

__all__ = [
    "CHOICE_NAMES", "COLORS", "COMMAND_DESCRIPTIONS", "DEFAULT_CROWD_WINDOW", "DOWN_FOR_ME_TOO", "WORKS_FOR_ME",
    "OPTION_DESCRIPTIONS", "PROBLEM_LABELS", "PROBLEM_SHARES", "ROLE_WORDS", "STATUS_WORDS",
    "RenderFn", "RenderedMessage", "ServiceNames", "as_text", "crowd_line", "probe_line",
    "problem_label", "quote", "render_alert", "render_both", "render_event", "render_for",
    "render_recovery", "render_resolved_alert", "render_unstable", "render_verdict",
    "since_phrase", "status_word",
]  # fmt: skip
