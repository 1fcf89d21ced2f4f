"""The slash commands end to end: the real ``OutageBot`` (real discord.py, real cogs, real
services, a real database) against the loopback fake Discord.

Nothing of discord.py is mocked: the bot logs in through ``GET /gateway/bot``, syncs its
commands, receives INTERACTION_CREATE over the gateway and answers through the callback and
webhook endpoints. The monitor is the real ``Monitor`` fed an official observation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.ops import metrics
from bot.discord.client import OutageBot, Runtime
from bot.catalog import Catalog, load_catalog, parse_catalog
from bot.services.crowd import CrowdService
from bot.db.models import GuildSettings, Subscription
from bot.i18n import BILINGUAL_MAX, translations
from bot.runtime.monitor import Monitor
from bot.net.client import HttpClient
from bot.services import replies
from bot.services.replies import ANSWER_POSTED, ERR_TOO_LONG
from bot.services.status import ERR_PRIVATE
from bot.settings import Settings
from bot.sources.base import IncidentInfo, Observation, SourceRole
from bot.status import Status
from tests.fake_discord import (
    ADMINISTRATOR,
    EMBED_LINKS,
    FLAG_EPHEMERAL,
    MANAGE_GUILD,
    PRIVILEGED_INTENTS,
    VIEW_CHANNEL,
    FakeDiscord,
    FakeGuild,
    discord_py_on_fake,
)
from tests.loopback import respond, serve

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SAFETY_TIMEOUT = 10.0  # a safety net against hangs, never a timing assertion
NOW = datetime(2025, 3, 5, 12, 51, tzinfo=timezone.utc)
ADMIN = MANAGE_GUILD | VIEW_CHANNEL
EXPECTED_COMMANDS = {"isitdown", "status", "subscribe", "unsubscribe", "subscriptions", "settings", "report"}


class E2EBot(OutageBot):
    """The production bot with the fake's test settings: no wait for more GUILD_CREATEs and
    no 5 s identify pause (the fake has no identify rate limit)."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime, guild_ready_timeout=0.05)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with discord_py_on_fake(("Outage Watchers", ("alerts", "general", "locked"))) as f:
        yield f
    assert Route.BASE == "https://discord.com/api/v10"
    assert str(DiscordWebSocket.DEFAULT_GATEWAY) == "wss://gateway.discord.gg/"


@pytest.fixture
def guild(fake: FakeDiscord) -> FakeGuild:
    return next(iter(fake.guilds.values()))


@pytest.fixture
async def monitor(db: Any) -> Monitor:
    """The real monitor, told that GitHub's official page reports a major outage."""
    m = Monitor()
    obs = Observation(
        service_id="github",
        source_kind="statuspage",
        status=Status.MAJOR_OUTAGE,
        fetched_at=NOW,
        role=SourceRole.OFFICIAL,
        incidents=(
            IncidentInfo(
                id="inc1", title="Incident with Git operations", impact=Status.MAJOR_OUTAGE,
                status="investigating", started_at=NOW, updated_at=NOW,
            ),
        ),
        url="https://www.githubstatus.com",
    )
    await m.ingest("github", "github:0", obs, NOW)
    return m


Starter = Callable[..., "contextlib.AbstractAsyncContextManager[E2EBot]"]


@pytest.fixture
def start_bot(fake: FakeDiscord, monitor: Monitor) -> Starter:
    @contextlib.asynccontextmanager
    async def start(
        *, allow_private: bool = False, catalog: Catalog | None = None, resolver: Any = None
    ) -> AsyncIterator[E2EBot]:
        settings = Settings(
            discord_token=fake.token, discord_api_base=fake.api_base, allow_private_targets=allow_private
        )
        async with HttpClient(allow_private=allow_private, timeout=5.0, resolver=resolver) as fetcher:
            services = catalog or load_catalog()
            crowd = CrowdService(services, clock=lambda: NOW)
            runtime = Runtime.build(settings, services, fetcher, monitor=monitor, crowd=crowd, clock=lambda: NOW)
            bot = E2EBot(runtime)
            task = asyncio.create_task(bot.start(fake.token))
            ready = asyncio.create_task(bot.connected.wait())
            try:
                done, _ = await asyncio.wait({task, ready}, timeout=SAFETY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
                if task in done:
                    task.result()
                    raise AssertionError("the bot stopped before it was ready")
                assert ready in done, "the bot never became ready"
                yield bot
            finally:
                ready.cancel()
                await bot.close()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, SAFETY_TIMEOUT)

    return start


@pytest.fixture
async def bot(start_bot: Starter) -> AsyncIterator[E2EBot]:
    async with start_bot() as b:
        yield b


def data_of(callback: dict[str, Any]) -> dict[str, Any]:
    return callback.get("data") or {}


def is_ephemeral(callback: dict[str, Any]) -> bool:
    return bool(int(data_of(callback).get("flags") or 0) & FLAG_EPHEMERAL)


def embed_text(message: dict[str, Any]) -> str:
    parts = []
    for embed in message.get("embeds") or []:
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f['name']} {f['value']}" for f in embed.get("fields") or []]
    return "\n".join(parts)


def arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


# ------------------------------------------------------------------ connecting and syncing


async def test_bot_connects_without_privileged_intents_and_syncs_the_commands(fake: FakeDiscord, bot: E2EBot) -> None:
    identify = fake.gateway_ops(2)
    assert identify, "the bot never identified"
    assert int(identify[-1].data["intents"]) & PRIVILEGED_INTENTS == 0

    commands = {c["name"]: c for c in fake.commands()}
    assert EXPECTED_COMMANDS <= set(commands)
    for cmd in commands.values():
        assert 1 <= len(cmd["description"]) <= BILINGUAL_MAX
        for opt in cmd["options"]:
            assert 1 <= len(opt["description"]) <= BILINGUAL_MAX
            for choice in opt.get("choices") or []:
                assert 1 <= len(choice["name"]) <= BILINGUAL_MAX

    def options(name: str) -> dict[str, dict[str, Any]]:
        return {o["name"]: o for o in commands[name]["options"]}

    def choice_values(name: str, option: str) -> list[str]:
        return [c["value"] for c in options(name)[option].get("choices") or []]

    assert list(options("isitdown")) == ["service"]
    assert options("isitdown")["service"]["autocomplete"] is True
    assert list(options("subscribe")) == ["service", "channel", "language", "role", "min_severity", "component", "delivery"]
    assert options("subscribe")["component"]["autocomplete"] is True and not options("subscribe")["component"].get("required")
    assert choice_values("subscribe", "delivery") == ["direct", "follow"]
    assert options("subscribe")["delivery"]["required"] is False
    assert options("subscribe")["service"]["required"] is True
    assert options("subscribe")["service"]["autocomplete"] is True
    assert choice_values("subscribe", "language") == ["ar", "en", "both"]
    assert choice_values("subscribe", "min_severity") == ["degraded", "partial_outage", "major_outage"]
    assert list(options("unsubscribe")) == ["service", "channel"]
    assert list(options("settings")) == ["language", "timezone", "digits", "country"]
    assert choice_values("settings", "language") == ["ar", "en"]
    assert choice_values("settings", "digits") == ["latn", "arab"]
    assert options("settings")["timezone"]["autocomplete"] is True
    assert options("status") == {} and options("subscriptions") == {}
    # Arabic rides in the bilingual description: Discord has no Arabic client locale
    assert arabic(commands["isitdown"]["description"])
    for name in ("subscribe", "unsubscribe", "settings"):
        assert int(commands[name]["default_member_permissions"]) == MANAGE_GUILD
    for name in ("isitdown", "status", "subscriptions"):
        assert commands[name]["default_member_permissions"] is None


# ------------------------------------------------------------------ subscriptions


async def test_subscribe_as_admin_creates_the_row_and_confirms_in_the_guild_language(
    fake: FakeDiscord, guild: FakeGuild, bot: E2EBot
) -> None:
    alerts = guild.channel_by_name("alerts")
    inter = await fake.invoke_command(guild.id, alerts, "subscribe", {"service": "github"}, permissions=ADMIN)
    callback = await inter.wait_response()
    assert callback["type"] == 4 and is_ephemeral(callback)
    content = data_of(callback)["content"]
    assert "GitHub" in content and f"<#{alerts}>" in content and "will now get alerts" in content
    rows = await Subscription.filter(guild_id=guild.id)
    assert [(r.channel_id, r.service_id, r.language, r.min_severity) for r in rows] == [(alerts, "github", "en", "degraded")]


async def test_subscribe_with_options_to_another_channel(fake: FakeDiscord, guild: FakeGuild, bot: E2EBot) -> None:
    general, alerts = guild.channel_by_name("general"), guild.channel_by_name("alerts")
    inter = await fake.invoke_command(
        guild.id, general, "subscribe",
        {"service": "واتساب", "channel": alerts, "language": "both", "min_severity": "major_outage"},
        permissions=ADMINISTRATOR,
    )
    callback = await inter.wait_response()
    assert "WhatsApp" in data_of(callback)["content"]
    row = await Subscription.get(channel_id=alerts, service_id="whatsapp")
    assert (row.language, row.min_severity) == ("both", "major_outage")


async def test_subscribe_is_refused_by_discord_and_by_the_bot_for_a_member_without_manage_server(
    fake: FakeDiscord, guild: FakeGuild, bot: E2EBot
) -> None:
    alerts = guild.channel_by_name("alerts")
    with pytest.raises(PermissionError):
        await fake.invoke_command(guild.id, alerts, "subscribe", {"service": "github"})
    # an admin opened the command to everyone in the integration settings: the bot still checks
    inter = await fake.invoke_command(
        guild.id, alerts, "subscribe", {"service": "github"}, ignore_default_permissions=True
    )
    callback = await inter.wait_response()
    assert is_ephemeral(callback)
    assert data_of(callback)["content"] == translations("en").gettext(replies.ERR_MANAGE_GUILD)
    assert await Subscription.filter(guild_id=guild.id).count() == 0


async def test_subscribe_says_so_when_the_bot_cannot_post_in_the_channel(
    fake: FakeDiscord, guild: FakeGuild, bot: E2EBot
) -> None:
    alerts, locked = guild.channel_by_name("alerts"), guild.channel_by_name("locked")
    updated = asyncio.create_task(
        bot.wait_for("guild_channel_update", check=lambda _before, after: after.id == locked, timeout=SAFETY_TIMEOUT)
    )
    fake.set_bot_permissions(guild.id, VIEW_CHANNEL | EMBED_LINKS, channel_id=locked)
    _, channel = await updated
    assert not channel.permissions_for(channel.guild.me).send_messages
    inter = await fake.invoke_command(
        guild.id, alerts, "subscribe", {"service": "github", "channel": locked}, permissions=ADMIN
    )
    callback = await inter.wait_response()
    content = data_of(callback)["content"]
    assert is_ephemeral(callback)
    assert f"<#{locked}>" in content and "Send Messages" in content and "View Channel" not in content
    assert await Subscription.filter(guild_id=guild.id).count() == 0


async def test_unsubscribe_and_list(fake: FakeDiscord, guild: FakeGuild, bot: E2EBot) -> None:
    alerts = guild.channel_by_name("alerts")
    for service in ("github", "discord"):
        inter = await fake.invoke_command(guild.id, alerts, "subscribe", {"service": service}, permissions=ADMIN)
        await inter.wait_response()

    listing = await fake.invoke_command(guild.id, alerts, "subscriptions")
    embed = data_of(await listing.wait_response())["embeds"][0]
    assert "2 alert subscriptions" in embed["title"]
    assert "GitHub" in embed["description"] and "Discord" in embed["description"]

    inter = await fake.invoke_command(guild.id, alerts, "unsubscribe", {"service": "gh"}, permissions=ADMIN)
    content = data_of(await inter.wait_response())["content"]
    assert "no longer get alerts for GitHub" in content
    assert [r.service_id for r in await Subscription.filter(guild_id=guild.id)] == ["discord"]

    again = await fake.invoke_command(guild.id, alerts, "unsubscribe", {"service": "github"}, permissions=ADMIN)
    callback = await again.wait_response()
    assert is_ephemeral(callback) and "is not subscribed to github" in data_of(callback)["content"]

    everything = await fake.invoke_command(guild.id, alerts, "unsubscribe", {"service": "all"}, permissions=ADMIN)
    await everything.wait_response()
    assert await Subscription.filter(guild_id=guild.id).count() == 0


async def test_settings_language_ar_makes_later_replies_arabic(fake: FakeDiscord, guild: FakeGuild, bot: E2EBot) -> None:
    alerts = guild.channel_by_name("alerts")
    inter = await fake.invoke_command(
        guild.id, alerts, "settings", {"language": "ar", "timezone": "asia/riyadh", "digits": "arab"}, permissions=ADMIN
    )
    content = data_of(await inter.wait_response())["content"]
    assert arabic(content) and "Asia/Riyadh" in content
    row = await GuildSettings.get(guild_id=guild.id)
    assert (row.language, row.timezone, row.digits) == ("ar", "Asia/Riyadh", "arab")

    sub = await fake.invoke_command(guild.id, alerts, "subscribe", {"service": "github"}, permissions=ADMIN)
    content = data_of(await sub.wait_response())["content"]
    assert arabic(content) and "غيت هاب" in content
    assert (await Subscription.get(channel_id=alerts)).language == "ar"  # the guild's language

    status = await fake.invoke_command(guild.id, alerts, "isitdown", {"service": "github"})
    embed = data_of(await status.wait_response())["embeds"][0]
    assert arabic(embed["title"]) and "غيت هاب" in embed["title"]

    refused = await fake.invoke_command(guild.id, alerts, "settings", {"timezone": "Mars/Olympus"}, permissions=ADMIN)
    callback = await refused.wait_response()
    assert is_ephemeral(callback) and arabic(data_of(callback)["content"])
    assert (await GuildSettings.get(guild_id=guild.id)).timezone == "Asia/Riyadh"


# ------------------------------------------------------------------ autocomplete


async def test_autocomplete_keeps_arabic_queries_arabic(fake: FakeDiscord, guild: FakeGuild, bot: E2EBot) -> None:
    alerts = guild.channel_by_name("alerts")
    inter = await fake.autocomplete(guild.id, alerts, "isitdown", {"service": "واتس"}, focused="service")
    await inter.wait_response()
    choices = inter.choices
    assert 1 <= len(choices) <= 25
    assert all(arabic(c["name"]) and arabic(c["value"]) for c in choices)
    assert "واتساب" in {c["value"] for c in choices}

    latin = await fake.autocomplete(guild.id, alerts, "subscribe", {"service": ""}, focused="service")
    await latin.wait_response()
    assert latin.choices[0]["value"] == "all" and len(latin.choices) == 25

    zones = await fake.autocomplete(guild.id, alerts, "settings", {"timezone": "riy"}, focused="timezone")
    await zones.wait_response()
    assert zones.choices[0]["value"] == "Asia/Riyadh"


# ------------------------------------------------------------------ /isitdown and /status


async def test_isitdown_answers_at_once_from_the_current_verdict(fake: FakeDiscord, guild: FakeGuild, bot: E2EBot) -> None:
    alerts = guild.channel_by_name("alerts")
    timed_before = metrics.value("outage_bot_command_latency_seconds_count", {"command": "isitdown"})
    inter = await fake.invoke_command(guild.id, alerts, "isitdown", {"service": "github"})
    callback = await inter.wait_response()
    for _ in range(500):  # the handler returns just after its callback: let it finish
        if metrics.value("outage_bot_command_latency_seconds_count", {"command": "isitdown"}) > timed_before:
            break
        await asyncio.sleep(0.01)
    assert metrics.value("outage_bot_command_latency_seconds_count", {"command": "isitdown"}) > timed_before
    assert callback["type"] == 4, "answered from the monitor's verdict, without deferring"
    assert not is_ephemeral(callback)
    message = data_of(callback)
    text = embed_text(message)
    assert message["embeds"][0]["title"] == "GitHub is down"
    assert "Incident with Git operations" in text and "githubstatus.com" in text
    buttons = [c for row in message.get("components") or [] for c in row.get("components") or []]
    assert [(b["custom_id"], b["label"]) for b in buttons] == [("report:github", "Down for me too"), ("works:github", "Works for me")]
    assert message["allowed_mentions"]["parse"] == []


async def test_isitdown_in_arabic_script_answers_in_arabic(fake: FakeDiscord, guild: FakeGuild, bot: E2EBot) -> None:
    inter = await fake.invoke_command(guild.id, guild.channel_by_name("alerts"), "isitdown", {"service": "جيتهب"})
    message = data_of(await inter.wait_response())
    assert arabic(message["embeds"][0]["title"])
    buttons = [c for row in message.get("components") or [] for c in row.get("components") or []]
    assert buttons[0]["label"] == translations("ar").gettext("Down for me too")


async def test_isitdown_url_defers_privately_then_answers_for_everyone(
    fake: FakeDiscord, guild: FakeGuild, start_bot: Starter
) -> None:
    """A URL may still be refused once its name is looked up, so its live check is deferred
    privately; a good answer leaves a private note there and goes to everyone as a follow-up."""

    async def ok(_request: web.Request) -> web.Response:
        return web.Response(text="hello")

    alerts = guild.channel_by_name("alerts")
    async with serve({"/": ok}) as server, start_bot(allow_private=True):
        url = server.url("/")
        inter = await fake.invoke_command(guild.id, alerts, "isitdown", {"service": url})
        callback = await inter.wait_response()
        assert callback["type"] == 5 and is_ephemeral(callback), "a URL is probed live: the bot defers, privately"
        note = await inter.wait_original(timeout=SAFETY_TIMEOUT)
        (answer,) = await inter.wait_followups(1, timeout=SAFETY_TIMEOUT)
        assert server.hits["/"] == 1
    assert note["flags"] & FLAG_EPHEMERAL and note["content"] == translations("en").gettext(ANSWER_POSTED)
    assert not answer["flags"] & FLAG_EPHEMERAL
    assert "127.0.0.1" in answer["embeds"][0]["title"] and "is up" in answer["embeds"][0]["title"]
    assert "HTTP 200" in embed_text(answer)
    public = fake.messages(alerts, include_interaction_responses=True)
    assert [m["id"] for m in public] == [answer["id"]]


async def test_isitdown_refusal_after_a_name_lookup_stays_private(
    fake: FakeDiscord, guild: FakeGuild, start_bot: Starter
) -> None:
    """Issue 14, item 4: a name that resolves to a private address is refused only after the
    defer; the refusal (with the address the user typed) must not reach the channel."""

    looked_up: list[str] = []

    async def resolve(host: str) -> list[str]:
        looked_up.append(host)
        return ["127.0.0.1"]  # a public-looking name pointing inside

    alerts = guild.channel_by_name("alerts")
    url = "http://intranet.example/status"
    async with start_bot(resolver=resolve):
        inter = await fake.invoke_command(guild.id, alerts, "isitdown", {"service": url})
        callback = await inter.wait_response()
        assert callback["type"] == 5 and is_ephemeral(callback)
        refusal = await inter.wait_original(timeout=SAFETY_TIMEOUT, predicate=lambda m: bool(m.get("content")))
    assert looked_up == ["intranet.example"], "refused only after the name lookup, after the defer"
    assert refusal["flags"] & FLAG_EPHEMERAL
    assert refusal["content"] == translations("en").gettext(ERR_PRIVATE, url=url)
    assert fake.messages(alerts, include_interaction_responses=True) == []
    assert inter.followups == []


async def test_an_option_longer_than_declared_is_refused_by_the_bot(
    fake: FakeDiscord, guild: FakeGuild, bot: E2EBot, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 14, item 3: Discord caps option values, but the bot does not rely on it: a value
    over the declared 200 characters is refused (privately, localized) before it is looked
    up or logged."""
    alerts = guild.channel_by_name("alerts")
    typed = "https://" + "a" * 300 + ".example/"
    with caplog.at_level(logging.INFO):
        inter = await fake.invoke_command(guild.id, alerts, "isitdown", {"service": typed})
        callback = await inter.wait_response()
    assert callback["type"] == 4 and is_ephemeral(callback)
    assert data_of(callback)["content"] == translations("en").ngettext(*ERR_TOO_LONG, 200)
    assert not any("a" * 250 in r.getMessage() for r in caplog.records)
    arabic_query = "واتس" * 60
    inter = await fake.invoke_command(guild.id, alerts, "isitdown", {"service": arabic_query})
    callback = await inter.wait_response()
    assert is_ephemeral(callback) and arabic(data_of(callback)["content"])
    inter = await fake.invoke_command(guild.id, alerts, "report", {"service": "x" * 101})
    assert is_ephemeral(await inter.wait_response())


async def test_isitdown_for_a_service_without_fresh_data_defers_and_probes_its_sources(
    fake: FakeDiscord, guild: FakeGuild, start_bot: Starter
) -> None:
    summary = (FIXTURES / "statuspage" / "github_major_outage.json").read_bytes()
    async with serve({"/api/v2/summary.json": respond(summary), "/": respond("ok")}) as server:
        catalog = parse_catalog({"services": [{
            "id": "octo", "name": "Octo", "name_ar": "أوكتو",
            "sources": [{"kind": "statuspage", "url": server.url("/")}, {"kind": "http", "url": server.url("/")}],
        }]})
        async with start_bot(catalog=catalog):  # the monitor has never read octo
            inter = await fake.invoke_command(guild.id, guild.channel_by_name("alerts"), "isitdown", {"service": "octo"})
            callback = await inter.wait_response()
            assert callback["type"] == 5, "no current verdict: defer, then probe"
            original = await inter.wait_original(timeout=SAFETY_TIMEOUT, predicate=lambda m: bool(m.get("embeds")))
    assert server.hits["/api/v2/summary.json"] == 1 and server.hits["/"] == 1
    assert original["embeds"][0]["title"] == "Octo is down"
    buttons = [c for row in original.get("components") or [] for c in row.get("components") or []]
    assert [b["custom_id"] for b in buttons] == ["report:octo", "works:octo"]


async def test_isitdown_private_url_is_refused_without_allow_private(
    fake: FakeDiscord, guild: FakeGuild, bot: E2EBot
) -> None:
    async def ok(_request: web.Request) -> web.Response:
        return web.Response(text="secret")

    async with serve({"/": ok}) as server:
        url = server.url("/")
        inter = await fake.invoke_command(guild.id, guild.channel_by_name("alerts"), "isitdown", {"service": url})
        callback = await inter.wait_response()
        assert is_ephemeral(callback)
        assert data_of(callback)["content"] == translations("en").gettext(ERR_PRIVATE, url=url)
        assert server.hits["/"] == 0


async def test_status_lists_the_services_with_problems(fake: FakeDiscord, guild: FakeGuild, bot: E2EBot) -> None:
    inter = await fake.invoke_command(guild.id, guild.channel_by_name("alerts"), "status")
    embed = data_of(await inter.wait_response())["embeds"][0]
    assert embed["title"] == "1 service has problems"
    assert "**GitHub**: major outage" in embed["description"]


async def test_an_unexpected_exception_gets_the_generic_reply_and_a_log_line(
    fake: FakeDiscord, guild: FakeGuild, bot: E2EBot, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("the overview exploded")

    monkeypatch.setattr(bot.runtime.status, "overview", broken)
    alerts = guild.channel_by_name("alerts")
    with caplog.at_level(logging.ERROR, logger="bot.discord.tree"):
        inter = await fake.invoke_command(guild.id, alerts, "status")
        callback = await inter.wait_response()
    assert is_ephemeral(callback)
    assert data_of(callback)["content"] == translations("en").gettext(replies.GENERIC_ERROR)
    [record] = [r for r in caplog.records if r.name == "bot.discord.tree"]
    line = record.getMessage()
    assert "/status" in line and f"guild={guild.id}" in line and f"channel={alerts}" in line
    assert record.exc_info is not None and "the overview exploded" in str(record.exc_info[1])


async def test_isitdown_adds_the_report_chart_to_its_answer(fake: FakeDiscord, guild: FakeGuild, bot: E2EBot) -> None:
    """The answer first (a plain embed at once), then the chart of the last 24 hours added to it
    by an edit, as an attachment the embed shows."""
    crowd = bot.runtime.crowd
    assert crowd is not None
    for i in range(12):
        await crowd.record("github", 1000 + i % 4, 10_000 + i, "login", NOW - timedelta(minutes=30 - i))  # type: ignore[union-attr]
    inter = await fake.invoke_command(guild.id, guild.channel_by_name("alerts"), "isitdown", {"service": "github"})
    first = data_of(await inter.wait_response())
    assert "image" not in first["embeds"][0]  # answered without waiting for the picture
    original = await inter.wait_original(timeout=SAFETY_TIMEOUT, predicate=lambda m: bool(m.get("attachments")))
    [attachment] = original["attachments"]
    assert attachment["filename"] == "chart-en.png" and attachment["content_type"] == "image/png"
    assert fake.attachment_data[int(attachment["id"])].startswith(b"\x89PNG")
    assert original["embeds"][0]["image"]["url"] == "attachment://chart-en.png"
    assert original["embeds"][0]["title"] == "GitHub is down"  # the answer itself unchanged


async def test_isitdown_without_any_report_has_no_chart(fake: FakeDiscord, guild: FakeGuild, bot: E2EBot) -> None:
    timed_before = metrics.value("outage_bot_command_latency_seconds_count", {"command": "isitdown"})
    inter = await fake.invoke_command(guild.id, guild.channel_by_name("alerts"), "isitdown", {"service": "github"})
    await inter.wait_response()
    # the handler has returned (its latency is recorded after any chart edit it makes)
    for _ in range(500):
        if metrics.value("outage_bot_command_latency_seconds_count", {"command": "isitdown"}) > timed_before:
            break
        await asyncio.sleep(0.01)
    assert inter.original is not None and inter.original["attachments"] == []
    assert not any("/messages/@original" in r.path for r in fake.requests if r.method == "PATCH")
