"""Alerts delivered end to end: outbox rows → DeliveryWorker → the real discord.py client →
the loopback fake Discord, which enforces nonces, permissions, limits and computes real pings.

The incident story is the sample X outage (tests/notify/samples.py): opened, escalated with an
official update, resolved 3 h 12 min after it started.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import discord
import pytest

from bot.catalog import Catalog, load_catalog
from bot.db.models import AlertMessage, Delivery, Subscription
from bot.db.setup import close_db, init_db
from bot.i18n import translations
from bot.discord.delivery import DeliveryWorker
from bot.discord.pacing import Pacer
from tests.fake_discord import discord_py_on_fake, rest_client, DEFAULT_BOT_PERMISSIONS, MENTION_EVERYONE, MSG_REPLY, FakeDiscord, FakeGuild
from tests.notify.samples import ALERT, OFFICIAL_MAJOR, RECOVERY, STARTED, UPDATE
from tests.discord.test_delivery import persist, subscribe, worker_for
from tests.test_fake_discord import ProbeClient, running

NOW = ALERT.at + timedelta(minutes=1)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with discord_py_on_fake() as f:
        yield f


@pytest.fixture
def guild(fake: FakeDiscord) -> FakeGuild:
    return fake.add_guild(
        "Watchers", channels=("alerts-ar", "alerts-en", "alerts-both", "spare"),
        bot_permissions=DEFAULT_BOT_PERMISSIONS | MENTION_EVERYONE,  # so a leaked @everyone WOULD ping
    )


@pytest.fixture
async def client(fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    async with rest_client(fake) as c:
        yield c


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def add_role(fake: FakeDiscord, guild: FakeGuild, name: str) -> int:
    rid = fake.snowflake()
    guild.roles[rid] = fake._role_payload(rid, name, 0, 2)
    return rid


async def drain(worker: DeliveryWorker, start: Any, *, limit: int = 50) -> None:
    """Run the worker, jumping the clock to each retry time, until nothing is pending."""
    now = start
    for _ in range(limit):
        await worker.run_once(now)
        nxt = await Delivery.filter(state="pending").order_by("next_attempt_at").first()
        if nxt is None:
            return
        now = max(now, nxt.next_attempt_at or now)
    raise AssertionError("deliveries still pending after many runs")


# ---------------------------------------------------------------- the whole story


async def test_an_outage_is_one_message_per_channel_in_its_language_edited_then_answered(
    db: Any, fake: FakeDiscord, guild: FakeGuild, catalog: Catalog
) -> None:
    ar, en, both = (guild.channel_by_name(n) for n in ("alerts-ar", "alerts-en", "alerts-both"))
    role = add_role(fake, guild, "outage-watch")
    await subscribe(guild, ar, "ar")
    await subscribe(guild, en, "en")
    await subscribe(guild, both, "both", role_id=role)

    # the bot as deployed: a gateway-connected AutoShardedClient (REST through DISCORD_API_BASE)
    async with running(ProbeClient(), fake.token) as client:
        worker = DeliveryWorker(client, catalog, rate_per_s=None)

        await persist(ALERT)
        assert await worker.run_once(NOW) == 3
        [ar_msg], [en_msg], [both_msg] = fake.messages(ar), fake.messages(en), fake.messages(both)
        assert len(ar_msg["embeds"]) == 1 and "إكس" in ar_msg["embeds"][0]["title"]
        assert "X (Twitter)" not in ar_msg["embeds"][0]["title"]
        assert len(en_msg["embeds"]) == 1 and "X (Twitter)" in en_msg["embeds"][0]["title"]
        assert len(both_msg["embeds"]) == 2
        assert "إكس" in both_msg["embeds"][0]["title"] and "X (Twitter)" in both_msg["embeds"][1]["title"]
        # only the subscription's role is pinged, only where it was set
        assert both_msg["content"] == f"<@&{role}>" and both_msg["mention_roles"] == [str(role)]
        assert ar_msg["content"] == "" and ar_msg["mention_roles"] == [] and not ar_msg["mention_everyone"]
        # people can answer the alert: "Down for me too" / "Works for me", in the channel's language
        buttons = {cid: [(b["custom_id"], b["label"]) for row in msg["components"] for b in row["components"]]
                   for cid, msg in ((ar, ar_msg), (en, en_msg), (both, both_msg))}  # fmt: skip
        assert buttons[en] == [("report:x", "Down for me too"), ("works:x", "Works for me")]
        assert buttons[ar] == [("report:x", translations("ar").gettext("Down for me too")), ("works:x", translations("ar").gettext("Works for me"))]
        assert buttons[both][1] == ("works:x", translations("ar").gettext("Works for me") + " · Works for me")

        # the escalation with an official update edits the same message in place
        await persist(UPDATE)
        assert await worker.run_once(UPDATE.at) == 3
        for cid, msg in ((ar, ar_msg), (en, en_msg), (both, both_msg)):
            assert [m["id"] for m in fake.messages(cid)] == [msg["id"]]
            assert len(fake.edit_history(int(msg["id"]))) == 1
        edited = fake.message(int(en_msg["id"]))
        assert "Worsened from partial outage to major outage" in edited["embeds"][0]["description"]
        assert any(f["name"] == "Latest official update" for f in edited["embeds"][0]["fields"])

        # recovery: a reply to the alert with how long it lasted; the alert says it is over
        await persist(RECOVERY)
        assert await worker.run_once(RECOVERY.at) == 3
        for cid, lang, msg in ((ar, "ar", ar_msg), (en, "en", en_msg), (both, "ar", both_msg)):
            alert, reply = fake.messages(cid)
            assert alert["id"] == msg["id"]
            assert reply["type"] == MSG_REPLY and reply["message_reference"]["message_id"] == msg["id"]
            lasted = translations(lang).duration(RECOVERY.resolved_at - STARTED)
            assert lasted in reply["embeds"][0]["description"]
            assert fake.message(int(msg["id"]))["embeds"][0]["color"] == 0x2ECC71  # edited: resolved
        en_reply = fake.messages(en)[1]
        assert "3 hours" in en_reply["embeds"][0]["description"]
        assert any("25,800" in f["value"] for f in en_reply["embeds"][0]["fields"])  # the peak of reports
        assert fake.message(int(en_msg["id"]))["embeds"][0]["title"].startswith("Resolved")
        assert not fake.message(int(en_msg["id"])).get("components")  # over: nothing left to answer
        assert not fake.messages(both)[1]["mention_everyone"]

    assert await Delivery.exclude(state="sent").count() == 0
    assert fake.stats["429"] == 0 and fake.stats["invalid_requests"] == 0


# ---------------------------------------------------------------- crash and restart


class FreezesBeforeRecording(DeliveryWorker):
    """A worker that records its first ``record_first`` outcomes, then freezes right after
    each send, before writing it down — the worst moment for a crash."""

    def __init__(self, *args: Any, record_first: int, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.record_first = record_first
        self.frozen = 0
        self.all_frozen = asyncio.Event()

    async def _finish(self, d: Delivery, state: str, **kw: Any) -> None:
        if self.record_first > 0:
            self.record_first -= 1
            await super()._finish(d, state, **kw)
            return
        self.frozen += 1
        if self.frozen == 4:  # every concurrent sender is stuck
            self.all_frozen.set()
        await asyncio.Event().wait()


async def test_a_restart_during_fan_out_leaves_no_duplicate_and_loses_nothing(
    db: Any, fake: FakeDiscord, guild: FakeGuild, client: discord.Client, catalog: Catalog
) -> None:
    channels = [fake.add_channel(guild.id, f"c{i}") for i in range(40)]
    for cid in channels:
        await subscribe(guild, cid, "en")
    await persist(ALERT)
    lease = timedelta(seconds=60)

    first = FreezesBeforeRecording(client, catalog, record_first=10, concurrency=4, lease=lease, pacer=Pacer(None))
    run = asyncio.create_task(first.run_once(NOW))
    await asyncio.wait_for(first.all_frozen.wait(), 5)
    run.cancel()  # the process dies: 4 messages are out, Discord has them, the database does not
    with pytest.raises(asyncio.CancelledError):
        await run
    posted_before_crash = len(fake.all_messages())
    assert posted_before_crash == 14

    # restart: new connections, new worker; the leased rows come back once the lease ends
    await close_db()
    await init_db(db.url, apply_migrations=False)
    recorded = await Delivery.filter(state="sent").count()
    assert recorded == 10
    second, _ = worker_for(client, catalog, concurrency=4, lease=lease)
    assert await second.run_once(NOW) == 0  # every row is still leased by the dead worker
    await drain(second, NOW + lease + timedelta(seconds=1))

    for cid in channels:
        [msg] = fake.messages(cid)
        assert (await AlertMessage.get(channel_id=cid)).message_id == int(msg["id"])
    assert await Delivery.filter(state="sent").count() == len(channels)
    # each of those was sent again with its nonce, and Discord answered with the first message
    assert fake.stats["nonce_deduplicated"] == posted_before_crash - recorded


# ---------------------------------------------------------------- failures


async def test_a_deleted_channel_disables_its_subscription_after_one_attempt(
    db: Any, fake: FakeDiscord, guild: FakeGuild, client: discord.Client, catalog: Catalog
) -> None:
    gone, kept = guild.channel_by_name("alerts-en"), guild.channel_by_name("alerts-ar")
    gone_sub = await subscribe(guild, gone, "en")
    await subscribe(guild, kept, "ar")
    fake.delete_channel(gone)
    worker, _ = worker_for(client, catalog)

    await persist(ALERT)
    await drain(worker, NOW)
    await gone_sub.refresh_from_db()
    assert not gone_sub.enabled and gone_sub.disabled_reason == "unknown_channel"
    assert [(r.key, r.status) for r in fake.requests if r.channel_id == gone] == [
        ("POST /channels/{channel_id}/messages", 404)]
    assert len(fake.messages(kept)) == 1

    # later events of the incident never knock on that door again
    await persist(UPDATE)
    await persist(RECOVERY)
    await drain(worker, RECOVERY.at)
    assert len([r for r in fake.requests if r.channel_id == gone]) == 1
    assert await Delivery.filter(subscription_id=gone_sub.id).count() == 1
    assert len(fake.messages(kept)) == 2


async def test_429s_and_5xx_are_retried_until_delivered_once(
    db: Any, fake: FakeDiscord, guild: FakeGuild, client: discord.Client, catalog: Catalog
) -> None:
    ar, en, both = (guild.channel_by_name(n) for n in ("alerts-ar", "alerts-en", "alerts-both"))
    for cid in (ar, en, both):
        await subscribe(guild, cid, "en")
    fake.inject_429(f"POST /channels/{ar}/messages", retry_after=0.01, times=2)  # discord.py copes
    fake.inject_429(f"POST /channels/{en}/messages", retry_after=0.01, times=6)  # discord.py gives up
    fake.inject(f"POST /channels/{both}/messages", 503, {"message": "Service Unavailable", "code": 0}, times=2)
    fake.inject(f"POST /channels/{both}/messages", 0)  # then a dropped connection
    worker, _ = worker_for(client, catalog)

    await persist(ALERT)
    await drain(worker, NOW)
    for cid in (ar, en, both):
        assert len(fake.messages(cid)) == 1
    assert await Delivery.filter(state="sent").count() == 3
    assert fake.stats["429"] == 8 and fake.stats["injected"] == 11
    assert worker.stats["rate_limited"] >= 1 and worker.stats["retried"] >= 4
    by_channel = {d.channel_id: d for d in await Delivery.all()}
    assert by_channel[both].attempts == 4  # two 503s, one dropped connection, then sent
    assert by_channel[ar].attempts == 1  # discord.py's own retries are invisible to the outbox


# ---------------------------------------------------------------- mentions


async def test_incident_text_with_everyone_pings_no_one(
    db: Any, fake: FakeDiscord, guild: FakeGuild, client: discord.Client, catalog: Catalog
) -> None:
    en, both = guild.channel_by_name("alerts-en"), guild.channel_by_name("alerts-both")
    role = add_role(fake, guild, "outage-watch")
    await subscribe(guild, en, "en")
    await subscribe(guild, both, "both", role_id=role)
    loud = replace(OFFICIAL_MAJOR, official_title="@everyone @here X is down for <@1234567890> and <@&555555555555>")
    event = replace(ALERT, evidence=(loud,) + ALERT.evidence[1:], official_update="@everyone please stay calm <@!1234567890>")

    # the fake computes real pings: a raw message with that text WOULD ping everyone
    raw = await client.http.send_message(en, params=discord.http.handle_message_parameters(content="@everyone test"))
    assert raw["mention_everyone"] is True
    await client.http.delete_message(en, int(raw["id"]))

    worker, _ = worker_for(client, catalog)
    await persist(event)
    await drain(worker, NOW)
    [plain], [with_role] = fake.messages(en), fake.messages(both)
    for msg in (plain, with_role):
        assert msg["mention_everyone"] is False and msg["mentions"] == []
        text = json.dumps(msg["embeds"], ensure_ascii=False)
        assert "@everyone" not in text and "@here" not in text and "<@1234567890>" not in text
        assert "@\u200beveryone" in text  # shown, but inert
    assert plain["mention_roles"] == [] and plain["content"] == ""
    assert with_role["mention_roles"] == [str(role)]
    assert await Subscription.filter(enabled=True).count() == 2
