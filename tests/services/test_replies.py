"""The words of the command answers, in English and Arabic (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.detect.model import Confidence, Verdict
from bot.services.crowd import RecordResult, ReportCounts
from bot.i18n import Translator, isolate, translations
from bot.notify.render import COLORS, RenderedMessage, ServiceNames
from bot.services import replies
from bot.services.guilds import GuildPrefs
from bot.services.status import Overview
from bot.services.subscriptions import SubscriptionInfo
from bot.status import Status

NOW = datetime(2025, 3, 5, 12, 51, tzinfo=timezone.utc)
NAMES = {"github": ServiceNames("github", "GitHub", "غيت هاب"), "x": ServiceNames("x", "X (Twitter)", "إكس")}
EN, AR = translations("en"), translations("ar")


def name_of(service_id: str) -> ServiceNames | None:
    return NAMES.get(service_id)


def sub(service_id: str = "github", **kw: object) -> SubscriptionInfo:
    values: dict[str, object] = dict(id=1, guild_id=1, channel_id=42, service_id=service_id, language="en",
                                     role_id=None, min_severity="degraded")
    values.update(kw)
    return SubscriptionInfo(**values)  # type: ignore[arg-type]


def test_subscribed_confirmation() -> None:
    text = replies.subscribed(EN, sub(), created=True, name_of=name_of)
    assert text == "<#42> will now get alerts for GitHub in English, from disruption up."
    text = replies.subscribed(EN, sub("all", language="both", role_id=9, min_severity="major_outage"), created=False, name_of=name_of)
    assert text.splitlines() == [
        "Updated: <#42> gets alerts for all services in Arabic and English, from major outage up.",
        "Alerts will mention <@&9>.",
    ]
    arabic = replies.subscribed(AR, sub(language="ar"), created=True, name_of=name_of)
    assert "غيت هاب" in arabic and "باللغة العربية" in arabic and isolate("<#42>") in arabic
    both = replies.subscribed(AR, sub(language="both"), created=True, name_of=name_of)
    assert "باللغتين العربية والإنجليزية" in both  # two languages take the dual


def test_unknown_service_ids_are_shown_as_is() -> None:
    assert replies.service_label(EN, "gone", name_of) == "gone"
    assert replies.service_label(AR, "all", name_of) == "كل الخدمات"


def test_unsubscribed_lists_what_was_removed() -> None:
    text = replies.unsubscribed(EN, 42, ["github", "x", "all"], name_of=name_of)
    assert text == "<#42> will no longer get alerts for GitHub, X (Twitter), and all services."


def test_subscription_list() -> None:
    empty = replies.subscription_list(EN, [], name_of=name_of)
    assert "no alert subscriptions" in empty.description
    msg = replies.subscription_list(
        EN, [sub(), sub("x", channel_id=43, language="ar", role_id=7, enabled=False)], name_of=name_of
    )
    assert msg.title == "2 alert subscriptions"
    lines = msg.description.splitlines()
    assert lines[0] == "• <#42>: GitHub in English, from disruption up"
    assert lines[1].startswith("• <#43>: X (Twitter) in Arabic") and "<@&7>" in lines[1] and "paused" in lines[1]
    one = replies.subscription_list(AR, [sub()], name_of=name_of)
    assert one.title == "\u200fاشتراك واحد في التنبيهات\u200f"  # an Arabic line held right-to-left


def test_settings_summary() -> None:
    prefs = GuildPrefs("ar", "Asia/Riyadh", "arab")
    text = replies.settings_summary(prefs.translator(), prefs, changed=True)
    assert text.splitlines()[0] == "تم الحفظ."
    assert "العربية" in text and isolate("Asia/Riyadh") in text and "٠١٢٣" in text
    assert "توقيت المملكة العربية السعودية" in text  # the zone as readers know it, beside the name to type
    new_york = replies.settings_summary(translations("ar", "America/New_York"), GuildPrefs("ar", "America/New_York"), changed=False)
    assert new_york.count("(") == 1  # babel's bracketed city, and no second bracket beside it
    plain = replies.settings_summary(EN, GuildPrefs(), changed=False)
    assert plain == "Language: English · Time zone: UTC · Digits: 0123"
    riyadh = replies.settings_summary(translations("en", "Asia/Riyadh"), GuildPrefs("en", "Asia/Riyadh"), changed=False)
    assert "Time zone: Saudi Arabia Time (Asia/Riyadh)" in riyadh


def test_cannot_post_names_the_missing_permissions() -> None:
    assert replies.cannot_post(EN, 5, ["send_messages", "embed_links"]) == (
        "We can't post alerts in <#5> until we have Send Messages and Embed Links there."
    )
    # Discord has no Arabic interface: the Arabic names carry Discord's own in brackets
    assert f"إرسال الرسائل ({isolate('Send Messages')})" in replies.cannot_post(AR, 5, ["send_messages"])


def test_status_overview_states() -> None:
    none_yet = replies.status_overview(EN, Overview((), 0, 62), now=NOW)
    assert none_yet.title == "No readings yet"
    calm = replies.status_overview(EN, Overview((), 62, 62), now=NOW)
    assert calm.title == "All services are working normally" and "62 services" in calm.description
    assert calm.color == COLORS[Status.OPERATIONAL]

    troubled = (
        (NAMES["x"], Verdict("x", Status.MAJOR_OUTAGE, Confidence.CONFIRMED, NOW, since=NOW - timedelta(minutes=20))),
        (NAMES["github"], Verdict("github", Status.DEGRADED, Confidence.LIKELY, NOW)),
    )
    msg = replies.status_overview(EN, Overview(troubled, 62, 62), now=NOW)
    assert msg.title == "2 services have problems" and msg.color == COLORS[Status.MAJOR_OUTAGE]
    lines = msg.description.splitlines()
    assert lines[0] == f"• **X (Twitter)**: major outage since {EN.time(NOW - timedelta(minutes=20))}" and "12:31" in lines[0]
    assert lines[1] == "• **GitHub**: disruption"
    ar = replies.status_overview(translations("ar", "Asia/Riyadh", "arab"), Overview(troubled[:1], 62, 62), now=NOW)
    assert ar.title == "‏خدمة واحدة تواجه مشكلات‏" and "إكس" in ar.description and "٣:٣١" in ar.description
    assert "/isitdown" in msg.description and "{command}" not in msg.description
    # a major outage only our probes see is an "outage" here too, as in its alert
    probes_alone = ((NAMES["x"], Verdict("x", Status.MAJOR_OUTAGE, Confidence.LIKELY, NOW, since=NOW - timedelta(minutes=20))),)
    assert replies.status_overview(EN, Overview(probes_alone, 62, 62), now=NOW).description.startswith("• **X (Twitter)**: outage since")


def every_reply(t: Translator) -> tuple[list[str], list[RenderedMessage]]:
    """Every command answer ``replies`` can give in ``t``'s language, with Latin and Arabic
    names, roles, paused channels and times (for the layout test in tests/notify)."""
    subs = [sub(), sub("x", channel_id=43, language="ar", role_id=7, enabled=False), sub("all", language="both", min_severity="major_outage")]
    troubled = (
        (NAMES["x"], Verdict("x", Status.MAJOR_OUTAGE, Confidence.CONFIRMED, NOW, since=NOW - timedelta(minutes=20))),
        (NAMES["github"], Verdict("github", Status.DEGRADED, Confidence.LIKELY, NOW, since=NOW - timedelta(days=2))),
        (ServiceNames("npm", "npm"), Verdict("npm", Status.PARTIAL_OUTAGE, Confidence.LIKELY, NOW)),
    )
    texts: list[str] = []
    for s_ in subs:
        for created in (True, False):
            texts.append(replies.subscribed(t, s_, created=created, name_of=name_of))
    texts.append(replies.unsubscribed(t, 42, ["github", "x", "all", "gone"], name_of=name_of))
    for prefs in (GuildPrefs(), GuildPrefs("ar", "Asia/Riyadh", "arab"), GuildPrefs("en", "America/New_York")):
        texts.append(replies.settings_summary(t, prefs, changed=True))
    texts.append(replies.cannot_post(t, 5, ["view_channel", "send_messages", "embed_links"]))
    for counted in (True, False):
        result = RecordResult(counted, "x", "login", 1.0, NOW)
        for counts in (ReportCounts(0, 0.2), ReportCounts(1240, 12.4)):
            texts.append(replies.report_reply(t, NAMES["x"].for_locale(t), result, counts))
    messages = [
        replies.subscription_list(t, [], name_of=name_of),
        replies.subscription_list(t, subs, name_of=name_of),
        replies.status_overview(t, Overview((), 0, 62), now=NOW),
        replies.status_overview(t, Overview((), 62, 62), now=NOW),
        replies.status_overview(t, Overview((), 1, 1), now=NOW),
        replies.status_overview(t, Overview(troubled, 62, 62), now=NOW),
    ]
    return texts, messages
