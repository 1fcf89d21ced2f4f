"""Subscriptions: create, change, remove, list (real database, bundled catalog)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.catalog import load_catalog
from bot.db.models import Subscription
from bot.services import subscriptions as subs_module
from bot.services.errors import UserError
from bot.services.subscriptions import (
    ERR_LANGUAGE,
    ERR_NOT_SUBSCRIBED,
    ERR_SEVERITY,
    ERR_TOO_MANY,
    ERR_UNKNOWN_SERVICE,
    SubscriptionService,
)

GUILD, ALERTS, GENERAL = 10, 100, 200


@pytest.fixture(scope="module")
def service() -> SubscriptionService:
    return SubscriptionService(load_catalog())


def test_resolve_takes_ids_names_aliases_in_both_scripts_and_all(service: SubscriptionService) -> None:
    assert service.resolve("github") == "github"
    assert service.resolve("جيتهب") == "github"
    assert service.resolve("  WhatsApp ") == "whatsapp"
    assert service.resolve("ALL") == service.resolve("الكل") == "all"
    with pytest.raises(UserError) as caught:
        service.resolve("all", allow_all=False)
    assert caught.value.msgid == ERR_UNKNOWN_SERVICE
    with pytest.raises(UserError) as caught:
        service.resolve("myspace")
    assert caught.value.kwargs == {"query": "myspace"}


async def test_subscribe_creates_then_updates_and_re_enables(db: Any, service: SubscriptionService) -> None:
    sub, created = await service.subscribe(GUILD, ALERTS, "gh", language="ar", created_by=7)
    assert created
    assert (sub.service_id, sub.language, sub.min_severity, sub.role_id, sub.enabled) == ("github", "ar", "degraded", None, True)
    await Subscription.filter(id=sub.id).update(enabled=False, disabled_reason="403 Missing Access")

    again, created = await service.subscribe(
        GUILD, ALERTS, "GitHub", language="both", role_id=55, min_severity="major_outage"
    )
    assert not created and again.id == sub.id
    row = await Subscription.get(id=sub.id)
    assert (row.language, row.role_id, row.min_severity, row.enabled, row.disabled_reason, row.created_by) == (
        "both", 55, "major_outage", True, None, 7
    )
    assert await Subscription.all().count() == 1


@pytest.mark.parametrize(("kwargs", "msgid"), [({"language": "fr"}, ERR_LANGUAGE), ({"min_severity": "maintenance"}, ERR_SEVERITY)])
async def test_subscribe_refuses_bad_choices(db: Any, service: SubscriptionService, kwargs: dict[str, str], msgid: str) -> None:
    with pytest.raises(UserError) as caught:
        await service.subscribe(GUILD, ALERTS, "github", **{"language": "en", **kwargs})
    assert caught.value.msgid == msgid
    assert await Subscription.all().count() == 0


async def test_a_guild_has_a_cap(db: Any, service: SubscriptionService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subs_module, "MAX_PER_GUILD", 2)
    await service.subscribe(GUILD, ALERTS, "github", language="en")
    await service.subscribe(GUILD, ALERTS, "discord", language="en")
    await service.subscribe(GUILD, ALERTS, "github", language="ar")  # changing one is fine
    with pytest.raises(UserError) as caught:
        await service.subscribe(GUILD, GENERAL, "x", language="en")
    assert caught.value.msgid == ERR_TOO_MANY and caught.value.kwargs == {"n": 2, "command": "/unsubscribe"}
    await service.subscribe(GUILD + 1, GENERAL + 1, "x", language="en")  # another guild is not affected


async def test_unsubscribe_one_or_all(db: Any, service: SubscriptionService) -> None:
    for sid in ("github", "discord", "all"):
        await service.subscribe(GUILD, ALERTS, sid, language="en")
    await service.subscribe(GUILD, GENERAL, "github", language="en")

    assert await service.unsubscribe(GUILD, ALERTS, "جيتهب") == ["github"]
    with pytest.raises(UserError) as caught:
        await service.unsubscribe(GUILD, ALERTS, "github")
    assert caught.value.msgid == ERR_NOT_SUBSCRIBED
    assert caught.value.kwargs == {"channel": f"<#{ALERTS}>", "service": "github"}

    assert sorted(await service.unsubscribe(GUILD, ALERTS, "all")) == ["all", "discord"]
    assert [(s.channel_id, s.service_id) for s in await service.list(GUILD)] == [(GENERAL, "github")]
    with pytest.raises(UserError):
        await service.unsubscribe(GUILD + 1, GENERAL, "github")  # another guild's channel id


async def test_list_is_by_channel_then_service(db: Any, service: SubscriptionService) -> None:
    await service.subscribe(GUILD, GENERAL, "x", language="en")
    await service.subscribe(GUILD, ALERTS, "youtube", language="ar")
    await service.subscribe(GUILD, ALERTS, "discord", language="both")
    await service.subscribe(GUILD + 1, ALERTS + 1, "github", language="en")
    listed = await service.list(GUILD)
    assert [(s.channel_id, s.service_id, s.language) for s in listed] == [
        (ALERTS, "discord", "both"), (ALERTS, "youtube", "ar"), (GENERAL, "x", "en"),
    ]
    assert await service.list(999) == []


# ------------------------------------------------------------------ follow delivery


def hubs_service(raw: str) -> SubscriptionService:
    from bot.settings import parse_follow_hubs

    return SubscriptionService(load_catalog(), hubs=parse_follow_hubs(raw))


HUBS = "ar:all=111111111111111111,en:all=222222222222222222,en:major=333333333333333333,ar:github=444444444444444444"


def test_hub_for_picks_the_hub_of_the_language_service_and_severity() -> None:
    from bot.services.subscriptions import ERR_FOLLOW_OFF, ERR_FOLLOW_SEVERITY, NoHubError

    service = hubs_service(HUBS)
    assert service.hub_for("all", language="ar", min_severity="degraded")[1].channel_id == 111111111111111111
    assert service.hub_for("الكل", language="en", min_severity="major_outage")[1].channel_id == 333333333333333333
    assert service.hub_for("جيتهب", language="ar", min_severity="degraded") == ("github", service.hubs[3])
    for query, language, severity, major in (("github", "en", "degraded", False), ("all", "ar", "major_outage", True),
                                            ("all", "both", "degraded", False)):
        with pytest.raises(NoHubError) as missing:
            service.hub_for(query, language=language, min_severity=severity)
        assert (missing.value.language, missing.value.major) == (language, major)
    with pytest.raises(UserError) as caught:
        service.hub_for("all", language="en", min_severity="partial_outage")
    assert caught.value.msgid == ERR_FOLLOW_SEVERITY
    with pytest.raises(UserError) as caught:
        hubs_service("").hub_for("all", language="en", min_severity="degraded")
    assert caught.value.msgid == ERR_FOLLOW_OFF


def test_a_hub_naming_a_service_outside_the_catalog_stops_the_start() -> None:
    from bot.settings import SettingsError

    with pytest.raises(SettingsError) as caught:
        hubs_service("ar:myspace=111111111111111111")
    assert str(caught.value).startswith("FOLLOW_HUBS has ar:myspace") and "myspace" in str(caught.value)


async def test_sync_hubs_keeps_one_hub_row_per_configured_hub(db: Any) -> None:
    assert await hubs_service(HUBS).sync_hubs() == 4
    rows = await Subscription.filter(delivery="hub").order_by("channel_id")
    assert [(r.channel_id, r.service_id, r.language, r.min_severity, r.enabled, r.guild_id) for r in rows] == [
        (111111111111111111, "all", "ar", "degraded", True, 0),
        (222222222222222222, "all", "en", "degraded", True, 0),
        (333333333333333333, "all", "en", "major_outage", True, 0),
        (444444444444444444, "github", "ar", "degraded", True, 0),
    ]
    assert await hubs_service("en:all=222222222222222222").sync_hubs() == 1
    live = await Subscription.filter(delivery="hub", enabled=True).values_list("channel_id", flat=True)
    assert live == [222222222222222222]
    assert await Subscription.filter(delivery="hub").count() == 4  # history kept, disabled


async def test_follow_rows_record_the_webhook_and_give_back_the_one_they_replace(db: Any) -> None:
    from bot.services.subscriptions import ERR_FOLLOW_ROLE

    service = hubs_service(HUBS)
    _, hub = service.hub_for("all", language="ar", min_severity="degraded")
    info, created = await service.subscribe(GUILD, ALERTS, "all", language="ar", follow=(hub, 9001))
    assert created and (info.delivery, info.hub_channel_id, info.webhook_id) == ("follow", hub.channel_id, 9001)
    _, en = service.hub_for("all", language="en", min_severity="degraded")
    info, _ = await service.subscribe(GUILD, ALERTS, "all", language="en", follow=(en, 9002))
    assert info.replaced_webhook_id == 9001 and info.webhook_id == 9002
    info, _ = await service.subscribe(GUILD, ALERTS, "all", language="en")  # back to direct
    assert info.replaced_webhook_id == 9002 and (info.delivery, info.webhook_id) == ("direct", None)
    with pytest.raises(UserError) as caught:
        await service.subscribe(GUILD, ALERTS, "all", language="en", role_id=5, follow=(en, 9003))
    assert caught.value.msgid == ERR_FOLLOW_ROLE
    [removed] = await service.remove(GUILD, ALERTS, "all")
    assert removed.service_id == "all"
