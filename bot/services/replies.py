"""The words of the command answers other than the ``/isitdown`` verdict (which
``bot.notify.render.render_verdict`` owns): confirmations, lists, the ``/status`` overview and
the error replies. Pure: a ``Translator`` in, text or a ``RenderedMessage`` out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable, Sequence

from bot.catalog import ALL
from bot.i18n import N_, Text, Translator
from bot.notify.render import COLORS, RenderedMessage, ServiceNames, status_word
from bot.services.guilds import GuildPrefs
from bot.services.status import Overview
from bot.services.subscriptions import SubscriptionInfo
from bot.status import Status

#: the generic answer to anything unexpected (the details go to the log)
GENERIC_ERROR = N_("Something went wrong on my side. It has been logged; please try again in a moment.")
ERR_MANAGE_GUILD = N_("You need the Manage Server permission to change alerts and settings.")
ERR_GUILD_ONLY = N_("This command works only in a server.")
ERR_CHECK_FAILED = N_("You can't use this command here.")
ERR_CANNOT_POST = N_("I can't post alerts in {channel}: I am missing {permissions} there.")
ERR_BAD_CHANNEL = N_("Pick a text channel for the alerts.")

LANGUAGE_WORDS: dict[str, str] = {"ar": N_("Arabic"), "en": N_("English"), "both": N_("Arabic and English")}
DIGIT_WORDS: dict[str, str] = {"latn": N_("Western digits 0123"), "arab": N_("Eastern Arabic digits ٠١٢٣")}
#: the channel permissions an alert needs, in Discord's own words
PERMISSION_WORDS: dict[str, str] = {
    "view_channel": N_("View Channel"),
    "send_messages": N_("Send Messages"),
    "embed_links": N_("Embed Links"),
}

NameOf = Callable[[str], ServiceNames | None]


def service_label(t: Translator, service_id: str, name_of: NameOf) -> Text:
    """A subscription's service as readers know it (``all`` → "all services")."""
    if service_id == ALL:
        return t.gettext("all services")
    names = name_of(service_id)
    if names is None:
        return Text(service_id)  # a service since removed from the catalog
    return Text(t.bidi(names.for_locale(t)))


def subscribed(t: Translator, sub: SubscriptionInfo, *, created: bool, name_of: NameOf) -> Text:
    """The confirmation of ``/subscribe``."""
    values = dict(
        channel=f"<#{sub.channel_id}>",
        service=service_label(t, sub.service_id, name_of),
        language=t.gettext(LANGUAGE_WORDS[sub.language]),
        severity=status_word(t, Status(sub.min_severity)),
    )
    if created:
        text = t.gettext("{channel} will now get alerts for {service} in {language}, from {severity} up.", **values)
    else:
        text = t.gettext("Updated: {channel} gets alerts for {service} in {language}, from {severity} up.", **values)
    if sub.role_id is not None:
        mention = t.gettext("Alerts will mention {role}.", role=f"<@&{sub.role_id}>")
        text = Text(f"{text}\n{mention}")
    return text


def unsubscribed(t: Translator, channel_id: int, removed: Sequence[str], *, name_of: NameOf) -> Text:
    """The confirmation of ``/unsubscribe``."""
    labels = [service_label(t, sid, name_of) for sid in removed]
    return t.gettext(
        "{channel} will no longer get alerts for {services}.", channel=f"<#{channel_id}>", services=t.list(labels)
    )


def subscription_list(t: Translator, subs: Sequence[SubscriptionInfo], *, name_of: NameOf) -> RenderedMessage:
    """``/subscriptions``: one line per subscription."""
    if not subs:
        return RenderedMessage(
            title=t.gettext("Alert subscriptions"),
            description=t.gettext("This server has no alert subscriptions yet. Add one with /subscribe."),
            color=COLORS[Status.UNKNOWN],
            lang=t.lang,
        )
    lines = []
    for sub in subs:
        line = t.gettext(
            "{channel}: {service} in {language}, from {severity} up",
            channel=f"<#{sub.channel_id}>",
            service=service_label(t, sub.service_id, name_of),
            language=t.gettext(LANGUAGE_WORDS.get(sub.language, LANGUAGE_WORDS["en"])),
            severity=status_word(t, Status(sub.min_severity)),
        )
        if sub.role_id is not None:
            mention = t.gettext("mentions {role}", role=f"<@&{sub.role_id}>")
            line = Text(f"{line} · {mention}")
        if not sub.enabled:
            paused = t.gettext("paused: I could not post there")
            line = Text(f"{line} · {paused}")
        lines.append(f"• {line}")
    return RenderedMessage(
        title=t.ngettext("{n} alert subscription", "{n} alert subscriptions", len(subs)),
        description="\n".join(lines),
        color=COLORS[Status.OPERATIONAL],
        lang=t.lang,
    ).fit()


def settings_summary(t: Translator, prefs: GuildPrefs, *, changed: bool) -> Text:
    """``/settings``: what the guild's settings are now."""
    text = t.gettext(
        "Language: {language} · Time zone: {zone} · Digits: {digits}",
        language=t.gettext(LANGUAGE_WORDS[prefs.language]),
        zone=prefs.timezone,
        digits=t.gettext(DIGIT_WORDS[prefs.digits]),
    )
    if changed:
        saved = t.gettext("Saved.")
        return Text(f"{saved}\n{text}")
    return text


def cannot_post(t: Translator, channel_id: int, missing: Sequence[str]) -> Text:
    return t.gettext(
        ERR_CANNOT_POST,
        channel=f"<#{channel_id}>",
        permissions=t.list(t.gettext(PERMISSION_WORDS[p]) for p in missing),
    )


def _since(t: Translator, since: datetime, now: datetime) -> Text:
    if t.when(since, now) == t.time(since):
        return t.gettext("since {time}", time=t.time(since))
    return t.gettext("since {date} at {time}", date=t.date(since), time=t.time(since))


def status_overview(t: Translator, overview: Overview, *, now: datetime) -> RenderedMessage:
    """``/status``: the services that have problems now, or that all is well."""
    footer = t.gettext("Times in {zone}", zone=t.zone())
    if overview.known == 0:
        return RenderedMessage(
            title=t.gettext("No readings yet"),
            description=t.gettext("I have not checked the services yet. Try again in a minute."),
            color=COLORS[Status.UNKNOWN],
            lang=t.lang,
        )
    if not overview.troubled:
        return RenderedMessage(
            title=t.gettext("All services are working normally"),
            description=t.ngettext(
                "No problems with the {n} service we watch.", "No problems with any of the {n} services we watch.",
                overview.known,
            ),
            color=COLORS[Status.OPERATIONAL],
            footer=footer,
            lang=t.lang,
        )
    lines = []
    for names, verdict in overview.troubled:
        word = status_word(t, verdict.status)
        name = t.bidi(names.for_locale(t))
        if verdict.since is not None:
            line = t.gettext("**{service}**: {status} {since}", service=name, status=word, since=_since(t, verdict.since, now))
        else:
            line = t.gettext("**{service}**: {status}", service=name, status=word)
        lines.append(f"• {line}")
    lines.append("")
    lines.append(t.gettext("Ask /isitdown for the evidence behind each one."))
    worst = Status.worst(*(v.status for _, v in overview.troubled))
    return RenderedMessage(
        title=t.ngettext("{n} service has problems", "{n} services have problems", len(overview.troubled)),
        description="\n".join(lines),
        color=COLORS.get(worst, COLORS[Status.UNKNOWN]),
        footer=footer,
        lang=t.lang,
    ).fit()
