"""National internet connectivity (IODA) end to end: the real bot against the loopback fake
Discord, the real IODA poller reading a loopback IODA through the real HTTP client, the real
monitor, outbox and delivery worker, a real database.

* ``/isitdown`` asked in a guild whose country IODA shows disrupted answers that first, in the
  guild's language; once the guild's country is one IODA shows normal, it says nothing of it.
* An alert whose reports come from a country under a national outage says so.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.catalog import load_catalog
from bot.db.models import Delivery, Subscription
from bot.detect.crowd import CrowdLevel
from bot.detect.model import CrowdSignal
from bot.discord.client import Runtime
from bot.discord.delivery import DeliveryWorker
from bot.net.client import HttpClient
from bot.runtime.ioda import IodaPoller
from bot.runtime.monitor import Monitor
from bot.services.crowd import CrowdService
from bot.services.guilds import GuildService, countries_that_matter
from bot.settings import Settings
from bot.sources.base import IncidentInfo, Observation, SourceRole
from bot.status import Status
from tests.e2e.test_commands import ADMIN, SAFETY_TIMEOUT, E2EBot, data_of
from tests.fake_discord import FakeDiscord, discord_py_on_fake
from tests.loopback import serve
from tests.test_fake_discord import ProbeClient, running

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "ioda" / "events_iq_ongoing_derived.json"
#: the fixture's window end: Iraq's outage started at 04:00 UTC and is still going on
NOW = datetime(2024, 5, 31, 7, 30, tzinfo=timezone.utc)


def github_down() -> Observation:
    return Observation(
        service_id="github", source_kind="statuspage", status=Status.MAJOR_OUTAGE, fetched_at=NOW,
        role=SourceRole.OFFICIAL, url="https://www.githubstatus.com",
        incidents=(IncidentInfo(id="i1", title="Incident with Git operations", impact=Status.MAJOR_OUTAGE,
                                status="investigating", started_at=NOW, updated_at=NOW),),
    )  # fmt: skip


@pytest.fixture
async def ioda() -> AsyncIterator[tuple[IodaPoller, list[web.Request]]]:
    seen: list[web.Request] = []

    async def events(request: web.Request) -> web.Response:
        seen.append(request)
        return web.Response(body=FIXTURE.read_bytes(), content_type="application/json")

    async with serve({"/v2/outages/events": events}) as server:
        async with HttpClient(allow_private=True, timeout=5.0) as fetcher:
            yield IodaPoller(fetcher, countries_that_matter, api=server.url("/v2"), clock=lambda: NOW), seen


@contextlib.asynccontextmanager
async def started(fake: FakeDiscord, runtime: Runtime) -> AsyncIterator[E2EBot]:
    bot = E2EBot(runtime)
    task = asyncio.create_task(bot.start(fake.token))
    try:
        await asyncio.wait_for(bot.connected.wait(), SAFETY_TIMEOUT)
        yield bot
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, SAFETY_TIMEOUT)


async def test_isitdown_in_a_country_under_a_national_outage_says_so_first(db: Any, ioda: Any) -> None:
    poller, seen = ioda
    async with discord_py_on_fake(("Baghdad Gamers", ("general",))) as fake:
        guild = next(iter(fake.guilds.values()))
        general = guild.channel_by_name("general")
        monitor = Monitor()
        await monitor.ingest("github", "github:0", github_down(), NOW)
        catalog = load_catalog()
        async with HttpClient(timeout=5.0) as fetcher:
            settings = Settings(discord_token=fake.token, discord_api_base=fake.api_base)
            runtime = Runtime.build(settings, catalog, fetcher, monitor=monitor, crowd=CrowdService(catalog, clock=lambda: NOW),
                                    clock=lambda: NOW, national=poller)  # fmt: skip
            async with started(fake, runtime):

                async def ask() -> str:
                    inter = await fake.invoke_command(guild.id, general, "isitdown", {"service": "github"})
                    return data_of(await inter.wait_response())["embeds"][0]["description"]

                async def settings_cmd(**options: str) -> None:
                    inter = await fake.invoke_command(guild.id, general, "settings", options, permissions=ADMIN)
                    await inter.wait_response()

                assert "IODA" not in await ask()  # no country, no IODA reading yet

                await settings_cmd(country="IQ")
                assert await poller.poll_once() is not None
                assert seen[-1].query["entityCode"] == "IQ"  # the guild's country is the one asked
                first = (await ask()).split("\n")[0]
                assert first == "It may not be GitHub: internet connectivity in Iraq is disrupted nationwide since 4:00\u202fAM (IODA)."

                await settings_cmd(language="ar")
                first = (await ask()).split("\n")[0]
                assert "قد لا يكون العطل في" in first and "العراق" in first and "وفق مرصد" in first

                await settings_cmd(country="DE", language="en")
                await poller.poll_once()
                assert "IODA" not in await ask()  # Germany's internet is normal in the same reading


async def test_an_alert_from_reports_in_a_country_under_a_national_outage_says_so(db: Any, ioda: Any) -> None:
    poller, _ = ioda
    async with discord_py_on_fake(("Watchers", ("alerts",))) as fake:
        guild = next(iter(fake.guilds.values()))
        alerts = guild.channel_by_name("alerts")
        await Subscription.create(guild_id=guild.id, channel_id=alerts, service_id="github", language="en")
        # reports come from guilds in Iraq and the United States (Iraq's guild makes IODA ask for it)
        await GuildService().update(guild.id, country="IQ")
        await poller.poll_once()

        async def crowd(service_id: str, now: datetime) -> CrowdSignal:
            return CrowdSignal(CrowdLevel.PROBLEMS, recent=900, usual=12, window=timedelta(minutes=15), countries=("IQ", "US"))

        monitor = Monitor(crowd_provider=crowd, internet=poller.context)
        await monitor.ingest("github", "github:0", github_down(), NOW)
        async with running(ProbeClient(), fake.token) as client:
            worker = DeliveryWorker(client, load_catalog(), rate_per_s=None)
            assert await worker.run_once(NOW) == 1
        [message] = fake.messages(alerts)
        description = message["embeds"][0]["description"]
        assert "Internet connectivity in Iraq is disrupted nationwide since 4:00\u202fAM (IODA): reports from there may reflect that rather than GitHub." in description
        assert await Delivery.exclude(state="sent").count() == 0
