"""Status pages typed by users and component subscriptions, end to end: the real ``OutageBot``
against the loopback fake Discord, and a loopback HTTP server serving real captured status
payloads (``tests/fixtures``) as the pages the users type."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.db.models import CustomService, GuildSettings, Subscription
from bot.runtime.monitor import Monitor
from bot.sources.statuspage import parse
from tests.e2e.test_commands import (  # noqa: F401  (fixtures used by name)
    ADMIN,
    NOW,
    SAFETY_TIMEOUT,
    E2EBot,
    Starter,
    bot,
    data_of,
    embed_text,
    fake,
    guild,
    is_ephemeral,
    monitor,
    start_bot,
)
from tests.fake_discord import FakeDiscord, FakeGuild
from tests.loopback import respond, serve

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def page(path: str) -> Any:
    return respond((FIXTURES / path).read_bytes())


async def test_a_typed_statuspage_is_detected_subscribed_listed_checked_and_released(
    fake: FakeDiscord, guild: FakeGuild, start_bot: Starter  # noqa: F811
) -> None:
    alerts = guild.channel_by_name("alerts")
    routes = {"/api/v2/summary.json": page("statuspage/twilio_degraded.json")}
    async with serve(routes) as server, start_bot(allow_private=True):
        url = server.url("/")
        inter = await fake.invoke_command(guild.id, alerts, "subscribe", {"service": url}, permissions=ADMIN)
        callback = await inter.wait_response()
        assert callback["type"] == 5 and is_ephemeral(callback), "reading a page takes a moment: the bot defers"
        answer = await inter.wait_original(timeout=SAFETY_TIMEOUT)
        assert "Twilio" in answer["content"] and "will now get alerts" in answer["content"]
        (row,) = await Subscription.filter(guild_id=guild.id)
        stored = await CustomService.get(id=row.service_id)
        assert (stored.kind, stored.name) == ("statuspage", "Twilio")

        # its components, as the page published them when it was read, before any poll
        offered = await fake.autocomplete(
            guild.id, alerts, "subscribe", {"service": url, "component": "s"}, focused="component", permissions=ADMIN
        )
        await offered.wait_response()
        assert [c["value"] for c in offered.choices][:2] == ["Studio", "SMS Long Code, North America"]
        narrowed = await fake.invoke_command(
            guild.id, alerts, "subscribe", {"service": url, "component": "studio"}, permissions=ADMIN
        )
        assert "Twilio: Studio" in data_of(await narrowed.wait_response())["content"]
        assert (await Subscription.get(id=row.id)).component == "Studio"

        # the typed page is suggested to this server, which follows it
        suggested = await fake.autocomplete(guild.id, alerts, "unsubscribe", {"service": "twil"}, focused="service", permissions=ADMIN)
        await suggested.wait_response()
        assert "Twilio" in {c["value"] for c in suggested.choices}

        listing = await fake.invoke_command(guild.id, alerts, "subscriptions")
        embed = data_of(await listing.wait_response())["embeds"][0]
        assert "Twilio" in embed["description"]

        # /isitdown with the page's URL is the guild's Twilio service (never read yet: read live)
        check = await fake.invoke_command(guild.id, alerts, "isitdown", {"service": url})
        assert (await check.wait_response())["type"] == 5
        result = await check.wait_original(timeout=SAFETY_TIMEOUT, predicate=lambda m: bool(m.get("embeds")))
        assert "Twilio" in result["embeds"][0]["title"]
        assert result["embeds"][0]["title"] == "Twilio is having problems"  # the page says degraded_performance
        assert server.hits["/api/v2/summary.json"] == 2  # read live through the stored format: no detection again

        gone = await fake.invoke_command(guild.id, alerts, "unsubscribe", {"service": url}, permissions=ADMIN)
        assert "Twilio" in data_of(await gone.wait_response())["content"]
    assert await Subscription.filter(guild_id=guild.id).count() == 0
    assert not await CustomService.exists(id=row.service_id)


async def test_a_typed_better_stack_page_is_detected_and_subscribed_to_one_of_its_resources(
    fake: FakeDiscord, guild: FakeGuild, start_bot: Starter  # noqa: F811
) -> None:
    alerts = guild.channel_by_name("alerts")
    routes = {"/index.json": page("betterstack/huggingface_operational.json")}
    async with serve(routes) as server, start_bot(allow_private=True):
        url = server.url("/")
        inter = await fake.invoke_command(guild.id, alerts, "subscribe", {"service": url, "component": "spaces proxy"}, permissions=ADMIN)
        await inter.wait_response()
        answer = await inter.wait_original(timeout=SAFETY_TIMEOUT)
        assert "Hugging Face: Spaces Proxy" in answer["content"] and "will now get alerts" in answer["content"]
        (row,) = await Subscription.filter(guild_id=guild.id)
        stored = await CustomService.get(id=row.service_id)
        assert (stored.kind, stored.name, row.component) == ("betterstack", "Hugging Face", "Spaces Proxy")
        narrowed = await fake.autocomplete(
            guild.id, alerts, "subscribe", {"service": url, "component": "inf"}, focused="component", permissions=ADMIN
        )
        await narrowed.wait_response()
        assert [c["value"] for c in narrowed.choices] == ["Inference Endpoints UI", "Inference Endpoints API"]


async def test_a_typed_statuspal_page_is_detected_and_subscribed_to_one_of_its_services(
    fake: FakeDiscord, guild: FakeGuild, start_bot: Starter  # noqa: F811
) -> None:
    alerts = guild.channel_by_name("alerts")
    path = "/api/v2/status_pages/exoscalestatus/summary"
    routes = {path: page("statuspal/v2_summary_exoscale_2025-07_performance_linuxfabrik.json")}
    async with serve(routes) as server, start_bot(allow_private=True):
        url = server.url(path)
        inter = await fake.invoke_command(guild.id, alerts, "subscribe", {"service": url, "component": "ch-dk-2"}, permissions=ADMIN)
        await inter.wait_response()
        answer = await inter.wait_original(timeout=SAFETY_TIMEOUT)
        assert "Exoscale: CH-DK-2" in answer["content"] and "will now get alerts" in answer["content"]
        (row,) = await Subscription.filter(guild_id=guild.id)
        stored = await CustomService.get(id=row.service_id)
        assert (stored.kind, stored.name, row.component) == ("statuspal", "Exoscale", "CH-DK-2")
        narrowed = await fake.autocomplete(
            guild.id, alerts, "subscribe", {"service": url, "component": "network"}, focused="component", permissions=ADMIN
        )
        await narrowed.wait_response()
        assert "Network Internet Transit Connectivity" in [c["value"] for c in narrowed.choices]


async def test_a_typed_cachet_page_is_detected_named_after_its_host_and_subscribed_to_a_component(
    fake: FakeDiscord, guild: FakeGuild, start_bot: Starter  # noqa: F811
) -> None:
    alerts = guild.channel_by_name("alerts")
    routes = {"/api/v1/components": page("cachet/components_yoti_healthy_devdocs.json")}
    async with serve(routes) as server, start_bot(allow_private=True):
        url = server.url("/")
        inter = await fake.invoke_command(guild.id, alerts, "subscribe", {"service": url, "component": "yoti app"}, permissions=ADMIN)
        await inter.wait_response()
        answer = await inter.wait_original(timeout=SAFETY_TIMEOUT)
        assert "will now get alerts" in answer["content"] and "Yoti App" in answer["content"]
        (row,) = await Subscription.filter(guild_id=guild.id)
        stored = await CustomService.get(id=row.service_id)
        assert (stored.kind, stored.name, row.component) == ("cachet", "127.0.0.1", "Yoti App")  # Cachet's API names no page
        assert server.hits["/api/v1/components"] >= 1


async def test_isitdown_reads_a_status_page_url_in_its_own_format_and_names_it_from_the_page(
    fake: FakeDiscord, guild: FakeGuild, start_bot: Starter  # noqa: F811
) -> None:
    alerts = guild.channel_by_name("alerts")
    routes = {"/status": respond("<html>status</html>"), "/status/api/v2/summary.json": page("statuspage/cloudamqp_maintenance.json")}
    async with serve(routes) as server, start_bot(allow_private=True):
        inter = await fake.invoke_command(guild.id, alerts, "isitdown", {"service": server.url("/status")})
        await inter.wait_response()
        (result,) = await inter.wait_followups(1, timeout=SAFETY_TIMEOUT)
    assert server.hits["/status/api/v2/summary.json"] == 1 and server.hits["/status"] >= 1
    title = result["embeds"][0]["title"]
    assert title.startswith("CloudAMQP") and "maintenance" in title.lower()
    assert await CustomService.all().count() == 0  # a question stores nothing


async def test_a_page_nothing_reads_gets_a_private_answer_naming_what_was_tried_in_arabic(
    fake: FakeDiscord, guild: FakeGuild, start_bot: Starter  # noqa: F811
) -> None:
    await GuildSettings.create(guild_id=guild.id, language="ar")
    alerts = guild.channel_by_name("alerts")
    html = page("statuspage/malformed/nginx_502.html")
    async with serve({"/": html, "/api/v2/summary.json": html, "/history.rss": html, "/incidents.json": html}) as server:
        async with start_bot(allow_private=True):
            inter = await fake.invoke_command(guild.id, alerts, "subscribe", {"service": server.url("/")}, permissions=ADMIN)
            callback = await inter.wait_response()
            answer = await inter.wait_original(timeout=SAFETY_TIMEOUT)
    assert is_ephemeral(callback)
    content = answer["content"]
    assert "تعذّرت علينا قراءة" in content and "جرّبنا" in content and "Statuspage" in content and "خلاصة \u2068RSS/Atom\u2069" in content
    assert await Subscription.filter(guild_id=guild.id).count() == 0 and await CustomService.all().count() == 0


async def test_component_autocomplete_and_a_component_subscription(
    fake: FakeDiscord, guild: FakeGuild, monitor: Monitor, bot: E2EBot  # noqa: F811
) -> None:
    # the latest reading of GitHub's page: githubstatus.com 2020-04-02, as captured
    reading = parse((FIXTURES / "statuspage/github_major_outage.json").read_bytes(), service_id="github", fetched_at=NOW)
    await monitor.ingest("github", "github:0", reading, NOW)
    alerts = guild.channel_by_name("alerts")

    inter = await fake.autocomplete(
        guild.id, alerts, "subscribe", {"service": "gh", "component": "github p"}, focused="component", permissions=ADMIN
    )
    await inter.wait_response()
    assert [c["value"] for c in inter.choices] == ["GitHub Packages", "GitHub Pages"]
    everything = await fake.autocomplete(
        guild.id, alerts, "subscribe", {"service": "github", "component": ""}, focused="component", permissions=ADMIN
    )
    await everything.wait_response()
    assert {"Git Operations", "GitHub Actions", "Webhooks", "Other"} <= {c["value"] for c in everything.choices}

    sub = await fake.invoke_command(
        guild.id, alerts, "subscribe", {"service": "github", "component": "github actions"}, permissions=ADMIN
    )
    content = data_of(await sub.wait_response())["content"]
    assert "GitHub: GitHub Actions" in content
    row = await Subscription.get(channel_id=alerts, service_id="github")
    assert row.component == "GitHub Actions"  # as the page writes it

    wrong = await fake.invoke_command(guild.id, alerts, "subscribe", {"service": "github", "component": "Copilot"}, permissions=ADMIN)
    callback = await wrong.wait_response()
    assert is_ephemeral(callback) and "Copilot" in data_of(callback)["content"]
    assert (await Subscription.get(channel_id=alerts, service_id="github")).component == "GitHub Actions"
