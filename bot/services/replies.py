"""The words of the command answers other than the ``/isitdown`` verdict (which
``bot.notify.render.render_verdict`` owns): confirmations, lists, the ``/status`` overview and
the error replies. Pure: a ``Translator`` in, text or a ``RenderedMessage`` out.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Sequence

from bot.catalog import ALL
from bot.i18n import N_, UTC_NAMES, Nn_, Text, Translator
from bot.detect.crowd import RATE_LIMIT_WINDOW
from bot.notify.render import COLORS, RenderedMessage, ServiceNames, crowd_line, since_phrase, status_word
from bot.notify.render.words import country_name
from bot.notify.text import echo
from bot.services.crowd import RecordResult, ReportCounts
from bot.services.custom import Detection
from bot.services.guilds import GuildPrefs
from bot.services.status import Overview
from bot.services.subscriptions import FOLLOW, NoHubError, SubscriptionInfo
from bot.sources.base import Observation
from bot.status import Status

#: the generic answer to anything unexpected (the details go to the log)
GENERIC_ERROR = N_("Something went wrong on our side. It has been logged; please try again in a moment.")
ERR_MANAGE_GUILD = N_("You need the Manage Server permission to change alerts and settings.")
ERR_GUILD_ONLY = N_("This command works only in a server.")
ERR_CHECK_FAILED = N_("You can't use this command here.")
ERR_CANNOT_POST = N_("We can't post alerts in {channel} until we have {permissions} there.")
ERR_BAD_CHANNEL = N_("Pick a text channel for the alerts.")
#: an option longer than the command declares (Discord caps it; the bot checks it too)
ERR_TOO_LONG = Nn_("That is too long: type at most {n} character.", "That is too long: type at most {n} characters.")
#: the private note left where a refusal would have gone, once the answer is posted publicly
ANSWER_POSTED = N_("Done: the answer is posted below for everyone.")

LANGUAGE_WORDS: dict[str, str] = {"ar": N_("Arabic"), "en": N_("English"), "both": N_("Arabic and English")}
#: a subscription's language inside a sentence (Arabic: «باللغتين العربية والإنجليزية», a dual)
IN_LANGUAGE_WORDS: dict[str, str] = {"ar": N_("in Arabic"), "en": N_("in English"), "both": N_("in Arabic and English")}
#: how a guild's digit style shows in its settings: the digits themselves speak
DIGIT_SAMPLES: dict[str, str] = {"latn": "0123", "arab": "٠١٢٣"}
#: the channel permissions an alert needs, in Discord's own words
PERMISSION_WORDS: dict[str, str] = {
    "view_channel": N_("View Channel"),
    "send_messages": N_("Send Messages"),
    "embed_links": N_("Embed Links"),
    "manage_webhooks": N_("Manage Webhooks"),
}
ERR_FOLLOW_NEEDS_WEBHOOKS = N_(
    "To follow our alerts in {channel} we need the {permissions} permission there: Discord delivers a followed announcement channel through a webhook. Grant it, or subscribe with direct delivery."
)
ERR_FOLLOW_FAILED = N_("We could not follow our announcement channel just now. Please try again later, or use direct delivery.")
WEBHOOK_LEFT = N_("We could not remove the follow from {channel} ourselves: remove it in that channel's settings, under Integrations.")

NameOf = Callable[[str], ServiceNames | None]


def service_label(t: Translator, service_id: str, name_of: NameOf) -> Text:
    """A subscription's service as readers know it (``all`` → "all services")."""
    if service_id == ALL:
        return t.gettext("all services")
    names = name_of(service_id)
    if names is None:
        return Text(t.bidi(service_id))  # a service since removed from the catalog
    return Text(t.bidi(names.for_locale(t)))


#: the formats a typed status page is tried as, by source kind (brand names stay as they are)
FORMAT_NAMES: dict[str, str] = {
    "statuspage": "Statuspage",
    "statusio": "status.io",
    "slack": "Slack",
    "gcloud": "Google Cloud",
    "apple": "Apple",
    "instatus": "Instatus",
    "betterstack": "Better Stack",
    "statuspal": "Statuspal",
    "cachet": "Cachet",
    "psn": "PlayStation",
    "xbox": "Xbox",
    "feed": N_("RSS/Atom feed"),
}
#: why a typed status page could not be read, by the error kind of the attempt
PAGE_FAILURES: dict[str, str] = {
    "timeout": N_("no answer in time"),
    "too_large": N_("the answer is too large"),
    "ssrf": N_("it leads to a private or local address"),
    "dns": N_("the domain name does not resolve"),
    "tls": N_("the secure connection failed"),
    "connection": N_("the connection failed"),
    "redirects": N_("too many redirects"),
    "rate_limited": N_("the site asked us to slow down"),
    "unavailable": N_("the site is unavailable"),
    "parse": N_("not in this format"),
}
PAGE_FAILURE_OTHER = N_("could not be read")


def _page_failure(t: Translator, observation: Observation) -> Text:
    error = observation.error
    if error is None:  # not an attempt that failed: nothing to explain
        return t.gettext(PAGE_FAILURES["parse"])
    if error.kind in ("http_status", "rate_limited", "unavailable") and observation.http_status is not None:
        return t.gettext("answered {http}", http=f"HTTP {observation.http_status}")
    if error.kind == "parse" and "HTML" in error.message:
        return t.gettext("a web page, not status data")
    return t.gettext(PAGE_FAILURES.get(error.kind, PAGE_FAILURE_OTHER))


def unreadable_page(t: Translator, detection: Detection) -> Text:
    """The answer when no known format reads a typed status page: what was tried and why
    each failed, or the one reason when every attempt failed the same way (a timeout, a
    redirect to a private address, a page too large)."""
    url = echo(detection.url, 100)
    reasons = [_page_failure(t, a.observation) for a in detection.attempts]
    if reasons and len(set(reasons)) == 1 and detection.attempts[0].observation.error is not None \
            and detection.attempts[0].observation.error.kind not in ("parse", "http_status"):
        return t.gettext("We couldn't read {url} as a status page: {reason}.", url=url, reason=reasons[0])
    tried: list[Text] = []
    seen: set[str] = set()
    for attempt, reason in zip(detection.attempts, reasons):
        kind = attempt.candidate.kind
        label = FORMAT_NAMES.get(kind, kind)
        item = t.gettext("{format} ({reason})", format=t.gettext(label) if kind == "feed" else Text(t.bidi(label)), reason=reason)
        if item not in seen:
            seen.add(item)
            tried.append(item)
    return t.gettext(
        "We couldn't read {url} as a status page. We tried: {tried}. Check the address, or pick a service from the suggestions.",
        url=url, tried=t.list(tried),
    )


def subscribed(t: Translator, sub: SubscriptionInfo, *, created: bool, name_of: NameOf) -> Text:
    """The confirmation of ``/subscribe``."""
    values = dict(
        channel=f"<#{sub.channel_id}>",
        service=_service_with_component(t, sub, name_of),
        in_language=t.gettext(IN_LANGUAGE_WORDS[sub.language]),
        severity=status_word(t, Status(sub.min_severity)),
    )
    if sub.delivery == FOLLOW:
        text = t.gettext(
            "{channel} now follows our announcement channel for {service} {in_language}, from {severity} up: Discord copies each alert into it.",
            **values,
        )
    elif created:
        text = t.gettext("{channel} will now get alerts for {service} {in_language}, from {severity} up.", **values)
    else:
        text = t.gettext("Updated: {channel} gets alerts for {service} {in_language}, from {severity} up.", **values)
    if sub.role_id is not None:
        mention = t.gettext("Alerts will mention {role}.", role=f"<@&{sub.role_id}>")
        text = Text(f"{text}\n{mention}")
    return text


def _service_with_component(t: Translator, sub: SubscriptionInfo, name_of: NameOf) -> Text:
    """The service, with the component when the subscription names one ("GitHub: Actions")."""
    label = service_label(t, sub.service_id, name_of)
    if not sub.component:
        return label
    return t.gettext("{service}: {component}", service=label, component=echo(sub.component, 100))


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
            description=t.gettext("This server has no alert subscriptions yet. Add one with {command}.", command="/subscribe"),
            color=COLORS[Status.UNKNOWN],
            lang=t.lang,
        )
    lines = []
    for sub in subs:
        line = t.gettext(
            "{channel}: {service} {in_language}, from {severity} up",
            channel=f"<#{sub.channel_id}>",
            service=_service_with_component(t, sub, name_of),
            in_language=t.gettext(IN_LANGUAGE_WORDS.get(sub.language, IN_LANGUAGE_WORDS["en"])),
            severity=status_word(t, Status(sub.min_severity)),
        )
        if sub.role_id is not None:
            mention = t.gettext("mentions {role}", role=f"<@&{sub.role_id}>")
            line = Text(f"{line} · {mention}")
        if sub.delivery == FOLLOW:
            followed = t.gettext("by following our announcement channel")
            line = Text(f"{line} · {followed}")
        if not sub.enabled:
            paused = t.gettext("paused: we could not post there")
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
        zone=_zone(t, prefs.timezone),
        digits=DIGIT_SAMPLES.get(prefs.digits, DIGIT_SAMPLES["latn"]),
    )
    if prefs.country:
        country = t.gettext("Country: {country}", country=country_name(prefs.country, t.lang))
        text = Text(f"{text} · {country}")
    if changed:
        saved = t.gettext("Saved.")
        return Text(f"{saved}\n{text}")
    return text


def no_hub(t: Translator, err: NoHubError, *, name_of: NameOf) -> Text:
    """Why ``delivery:follow`` found no announcement channel to follow."""
    return t.gettext(
        err.msgid if isinstance(err.msgid, str) else err.msgid[0],
        service=service_label(t, err.service_id, name_of),
        in_language=t.gettext(IN_LANGUAGE_WORDS[err.language]),
    )


def follow_needs_webhooks(t: Translator, channel_id: int) -> Text:
    return t.gettext(ERR_FOLLOW_NEEDS_WEBHOOKS, channel=f"<#{channel_id}>", permissions=t.gettext(PERMISSION_WORDS["manage_webhooks"]))


def webhook_left(t: Translator, channel_id: int) -> Text:
    return t.gettext(WEBHOOK_LEFT, channel=f"<#{channel_id}>")


def cannot_post(t: Translator, channel_id: int, missing: Sequence[str]) -> Text:
    return t.gettext(
        ERR_CANNOT_POST,
        channel=f"<#{channel_id}>",
        permissions=t.list(t.gettext(PERMISSION_WORDS[p]) for p in missing),
    )


def _zone(t: Translator, name: str) -> Text:
    """The zone as readers know it, with the name to type beside it: "Saudi Arabia Time
    (Asia/Riyadh)" (a UTC-like zone reads just "UTC")."""
    known = t.zone()
    if name in UTC_NAMES:
        return known
    if "(" in known:  # "United States (New York) Time": no second bracket beside the first
        return t.gettext("{zone_name}, {zone}", zone_name=known, zone=name)
    return t.gettext("{zone_name} ({zone})", zone_name=known, zone=name)


def status_overview(t: Translator, overview: Overview, *, now: datetime) -> RenderedMessage:
    """``/status``: the services that have problems now, or that all is well."""
    footer = t.gettext("All times: {zone}", zone=t.zone())
    if overview.known == 0:
        return RenderedMessage(
            title=t.gettext("No readings yet"),
            description=t.gettext("We have not checked the services yet. Try again in a minute."),
            color=COLORS[Status.UNKNOWN],
            lang=t.lang,
        )
    if not overview.troubled:
        return RenderedMessage(
            title=t.gettext("All services are working normally"),
            description=t.ngettext(
                "No problems with the one service we watch.", "No problems with any of the {n} services we watch.",
                overview.known,
            ),
            color=COLORS[Status.OPERATIONAL],
            footer=footer,
            lang=t.lang,
        )
    lines = []
    for names, verdict in overview.troubled:
        word = status_word(t, verdict.status, verdict.confidence)
        name = t.bidi(names.for_locale(t))
        if verdict.since is not None:
            line = t.gettext("**{service}**: {status} {since}", service=name, status=word, since=since_phrase(t, verdict.since, now))
        else:
            line = t.gettext("**{service}**: {status}", service=name, status=word)
        lines.append(f"• {line}")
    lines.append("")
    lines.append(t.gettext("Ask {command} for the evidence behind each one.", command="/isitdown"))
    worst = Status.worst(*(v.status for _, v in overview.troubled))
    return RenderedMessage(
        title=t.ngettext("{n} service has problems", "{n} services have problems", len(overview.troubled)),
        description="\n".join(lines),
        color=COLORS.get(worst, COLORS[Status.UNKNOWN]),
        footer=footer,
        lang=t.lang,
    ).fit()


# --- /report and "Works for me" --------------------------------------------------------------

THANKS_COUNTED = N_("Thanks! Your report about {service} was counted.")
# NOTE: {window} is a duration such as "30 minutes"
THANKS_REPEAT = N_("Thanks! You already reported {service} in the last {window}, so this report was not counted again.")


def works_reply(t: Translator, service: str, counted: bool) -> Text:
    """The private answer to "Works for me"."""
    if counted:
        return t.gettext("Thanks: noted that {service} works for you. It weighs against reports that it is down.", service=service)
    return t.gettext("You already said {service} works for you in the last few minutes.", service=service)


def report_reply(
    t: Translator,
    service_name: str,
    result: RecordResult,
    counts: ReportCounts,
    rate_window: timedelta = RATE_LIMIT_WINDOW,
) -> Text:
    """The ephemeral answer to a report: thanks (and whether it counted), then the reports
    of the last half hour against the usual."""
    if result.counted:
        thanks = t.gettext(THANKS_COUNTED, service=service_name)
    else:
        thanks = t.gettext(THANKS_REPEAT, service=service_name, window=t.duration(rate_window))
    line = crowd_line(t, counts.recent, counts.usual, counts.window)
    return Text(f"{thanks}\n{line}")
