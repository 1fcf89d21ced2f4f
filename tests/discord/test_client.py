"""``run_bot``: the whole bot as ``python -m bot run`` starts it — migrations, catalog, monitor,
scheduler, crowd, delivery, the Discord client against the loopback fake — and a clean stop on
SIGTERM."""

from __future__ import annotations

import asyncio
import re
import gc
import logging
import os
import signal
from pathlib import Path
from typing import AsyncIterator

import pytest

from bot.discord import client as app_module
from bot.discord.client import OutageBot, intents, run_bot
from bot.discord.api_base import reset_discord_endpoints
from bot.ops.gcpause import FULL_EVERY
from bot.settings import Settings, SettingsError
from tests.fake_discord import INTENT_GUILD_MESSAGES, INTENT_GUILDS, PRIVILEGED_INTENTS, FakeDiscord
from tests.loopback import respond, serve

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = (ROOT / "tests" / "fixtures" / "statuspage" / "github_major_outage.json").read_bytes()
SAFETY_TIMEOUT = 15.0  # against hangs only


def test_intents_are_not_privileged() -> None:
    wanted = intents()
    assert not (wanted.message_content or wanted.members or wanted.presences)
    assert wanted.guilds
    assert wanted.value & PRIVILEGED_INTENTS == 0



async def test_run_bot_refuses_without_a_token() -> None:
    with pytest.raises(SettingsError, match="DISCORD_TOKEN"):
        await run_bot(Settings())


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as f:
        f.add_guild("Outage Watchers", channels=("alerts",))
        try:
            yield f
        finally:
            reset_discord_endpoints()


async def test_run_bot_serves_commands_then_stops_cleanly_on_sigterm(
    fake: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.ops.logs.setup_logging", lambda *a, **k: None)  # keep pytest's logging as it is
    built: list[OutageBot] = []
    full_every_at_connect: list[int] = []
    real_init = OutageBot.__init__
    thresholds = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # Python's defaults (an earlier run_bot in this process changed them)
    monkeypatch.setattr(gc, "freeze", lambda: None)  # (keep this test process's objects collectable)

    def capture(self: OutageBot, *args: object, **kwargs: object) -> None:
        real_init(self, *args, guild_ready_timeout=0.05, **kwargs)  # type: ignore[arg-type]
        built.append(self)
        full_every_at_connect.append(gc.get_threshold()[2])

    monkeypatch.setattr(OutageBot, "__init__", capture)
    guild = next(iter(fake.guilds.values()))
    alerts = guild.channel_by_name("alerts")
    async with serve({"/api/v2/summary.json": respond(SUMMARY), "/": respond("ok")}) as server:
        catalog = tmp_path / "services.toml"
        catalog.write_text(
            '[[services]]\nid = "octo"\nname = "Octo"\nname_ar = "أوكتو"\n'
            f'[[services.sources]]\nkind = "statuspage"\nurl = "{server.url("/")}"\n',
            encoding="utf-8",
        )
        settings = Settings(
            discord_token=fake.token,
            discord_api_base=fake.api_base,
            database_url=f"sqlite://{tmp_path / 'bot.sqlite3'}",
            services_file=catalog,
            poll_interval=5,
            canary_targets=(),
        )
        task = asyncio.create_task(run_bot(settings))
        await _until(lambda: bool(built) and built[0].connected.is_set() or task.done())
        assert not task.done(), task.result()
        bot = built[0]
        assert {c["name"] for c in fake.commands()} >= {"isitdown", "status", "subscribe", "report", "settings"}
        # a busy guild's chatter (every message, typing indicator…) reaches a bot only through
        # the intents it identified with: this one parses none of it
        chatter = {"id": str(fake.snowflake()), "channel_id": str(alerts), "guild_id": str(guild.id), "content": ""}
        assert await fake.dispatch("MESSAGE_CREATE", chatter, guild.id, intent=INTENT_GUILD_MESSAGES) == 0
        assert await fake.dispatch("OUTAGE_BOT_PROBE", {}, guild.id, intent=INTENT_GUILDS) == 1  # (the control: an event it ignores)
        # the first poll lands in the monitor within one interval (jitter): then /isitdown answers
        await _until(lambda: bot.runtime.monitor is not None and bot.runtime.monitor.verdict("octo") is not None)

        inter = await fake.invoke_command(guild.id, alerts, "isitdown", {"service": "octo"})
        callback = await inter.wait_response()
        assert callback["type"] == 4
        assert callback["data"]["embeds"][0]["title"] == "Octo is down"

        sub = await fake.invoke_command(guild.id, alerts, "subscribe", {"service": "octo"}, permissions=1 << 5 | 1 << 10)
        assert "will now get alerts" in (await sub.wait_response())["data"]["content"]

        os.kill(os.getpid(), signal.SIGTERM)
        code = await asyncio.wait_for(task, SAFETY_TIMEOUT)
    gc.set_threshold(*thresholds)
    assert code == 0
    assert bot.is_closed()
    assert all(t.done() for t in bot.runtime.background)
    # full collections are spaced out before the gateway's burst of guilds, not once settled
    assert full_every_at_connect == [FULL_EVERY]


async def test_sigterm_during_a_fan_out_lets_sends_on_the_wire_finish_and_releases_the_rest(
    fake: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A routine deploy mid fan-out: the sends Discord is answering finish and are recorded;
    the deliveries claimed but not yet sent go back to the outbox untouched (no attempt used);
    no traceback, no "Session is closed"; the next start sends each of them exactly once."""
    from bot.db.models import Delivery
    from bot.db.setup import close_db, init_db
    from bot.discord.delivery import DeliveryWorker
    from tests.discord.test_delivery import persist, subscribe
    from tests.fake_discord import rest_client
    from tests.notify.samples import ALERT

    caplog.set_level(logging.INFO)
    monkeypatch.setattr("bot.ops.logs.setup_logging", lambda *a, **k: None)
    guild = next(iter(fake.guilds.values()))
    channels = [fake.add_channel(guild.id, f"c{i}") for i in range(40)]
    url = f"sqlite://{tmp_path / 'bot.sqlite3'}"
    await init_db(url)
    for cid in channels:
        await subscribe(guild, cid, "en")
    await persist(ALERT)  # the alert's deliveries wait in the outbox, as after a restart
    await close_db()

    on_the_wire = asyncio.Event()
    fake.hold("POST /channels/{channel_id}/messages", on_the_wire, times=len(channels))
    operational = (ROOT / "tests" / "fixtures" / "statuspage" / "github_operational.json").read_bytes()
    async with serve({"/api/v2/summary.json": respond(operational)}) as server:
        catalog = tmp_path / "services.toml"
        catalog.write_text(
            '[[services]]\nid = "octo"\nname = "Octo"\nname_ar = "أوكتو"\n'
            f'[[services.sources]]\nkind = "statuspage"\nurl = "{server.url("/")}"\n',
            encoding="utf-8",
        )
        settings = Settings(discord_token=fake.token, discord_api_base=fake.api_base, database_url=url,
                            services_file=catalog, poll_interval=5, canary_targets=())
        task = asyncio.create_task(run_bot(settings))
        # every sender of the worker is waiting for Discord's answer (16 by default)
        await _until(lambda: fake.holding >= 16 or task.done())
        assert not task.done(), task.result()
        held = fake.holding
        os.kill(os.getpid(), signal.SIGTERM)
        await _until(lambda: "stopping (signal received)" in caplog.text)
        on_the_wire.set()  # Discord answers the sends it already has
        code = await asyncio.wait_for(task, SAFETY_TIMEOUT)
    assert code == 0
    noisy = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert noisy == [], [r.getMessage() for r in noisy]
    assert "Session is closed" not in caplog.text

    await init_db(url, apply_migrations=False)
    try:
        rows = await Delivery.all()
        sent = [d for d in rows if d.state == "sent"]
        assert len(sent) == held == len(fake.all_messages())  # what was on the wire got through
        assert all(d.attempts == 1 for d in sent)
        rest = [d for d in rows if d.state != "sent"]
        assert rest and all((d.state, d.attempts) == ("pending", 0) for d in rest)
        # the next start sends the rest at once, each exactly once
        async with rest_client(fake) as client:
            from bot.catalog import load_catalog

            worker = DeliveryWorker(client, load_catalog(), rate_per_s=None)
            while await worker.run_once(ALERT.at):
                pass
        assert await Delivery.filter(state="sent").count() == len(channels)
        assert all(len(fake.messages(cid)) == 1 for cid in channels)
        assert fake.stats["nonce_deduplicated"] == 0
    finally:
        await close_db()


async def _until(predicate, timeout: float = SAFETY_TIMEOUT) -> None:  # type: ignore[no-untyped-def]
    """Wait for state inside the bot's own tasks (yielding to the loop; bounded as a safety net)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def test_runtime_stale_window_follows_the_poll_interval() -> None:
    from bot.catalog import load_catalog
    from bot.net.client import HttpClient

    slow = app_module.Runtime.build(Settings(poll_interval=300), load_catalog(), HttpClient())
    fast = app_module.Runtime.build(Settings(poll_interval=5), load_catalog(), HttpClient())
    assert slow.status.stale_after.total_seconds() == 900
    assert fast.status.stale_after.total_seconds() == 180


async def test_the_health_server_binds_the_host_the_operator_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    """``HEALTH_HOST`` reaches the health server (loopback when unset, see tests/ops)."""
    import bot.ops.health as health

    seen: dict[str, object] = {}

    class Runner:
        async def cleanup(self) -> None:
            seen["cleaned"] = True

    async def fake_start(port: int, checks: object, *, host: str = "?") -> Runner:
        seen.update(port=port, host=host)
        return Runner()

    monkeypatch.setattr(health, "start_health_server", fake_start)
    settings = Settings.from_env({"HEALTH_PORT": "8081", "HEALTH_HOST": "0.0.0.0"})
    stop = asyncio.Event()
    stop.set()

    class Monitor:
        last_poll_at = None

        def health(self) -> dict[str, str]:
            return {}

    await app_module._health_server(settings, object(), Monitor(), stop, list)  # type: ignore[arg-type]
    assert seen == {"port": 8081, "host": "0.0.0.0", "cleaned": True}


async def test_an_unreachable_redis_stops_run_with_one_clear_line(
    fake: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("bot.ops.logs.setup_logging", lambda *a, **k: None)
    settings = Settings(discord_token=fake.token, discord_api_base=fake.api_base,
                        database_url=f"sqlite://{tmp_path / 'bot.sqlite3'}", canary_targets=(), ioda_url=None,
                        redis_url="redis://:hunter2@127.0.0.1:1/0")
    assert await asyncio.wait_for(run_bot(settings), SAFETY_TIMEOUT) == 1
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    # (the password is masked by the message itself, "***", and — once any test has set up the
    # bot's logging, whose record factory stays for the process — by the log redaction too)
    mask = r"(\*\*\*|\[REDACTED\])"
    assert len(errors) == 1 and "hunter2" not in errors[0]
    assert re.fullmatch(rf"REDIS_URL=redis://:{mask}@127\.0\.0\.1:1/0: cannot reach Redis \(ConnectionError\): start it or fix REDIS_URL", errors[0])
    assert not any(r.exc_info for r in caplog.records)
