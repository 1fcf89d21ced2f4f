"""Fan one incident out to N subscribed channels through the real outbox, delivery worker and
discord.py client, against the loopback fake Discord enforcing Discord's limits.

    python benchmarks/fanout.py [--n 10000] [--rate 48] [--concurrency 16]

The fake answers like Discord: 50 requests/s globally, 5 per 5 s per channel route, 429s
with real headers; on top of that about 1 % of channels get one injected 429 (discord.py
retries it itself) and 0.1 % get six (discord.py gives up after five, so the outbox must
reschedule). ``--n 300`` is a quick smoke run; 10,000 at 50/s takes about 3.5 minutes.

Rows (same run, same fake rules):

* ``limit``       — Discord's global limit itself, the ceiling (50 messages/s);
* ``bare d.py``   — ``client.http.send_message`` in a loop with the same concurrency and no
  pacing, relying on discord.py's own 429 handling (``--baseline-n`` channels);
* ``worker``      — ``DeliveryWorker.run_forever`` over the N delivery rows.

Measured: messages/s (first request to last message), its ratio to the limit, 429s received
(all and global), lost (deliveries not sent, channels without a message) and duplicated
(channels with more than one message). Ends with one JSON line.

    python benchmarks/fanout.py --follow [--n 100000] [--direct-n 1000]

Follow delivery against direct delivery: the time until ``--n`` subscribed channels have the
alert. ``follow``: the channels follow three hub announcement channels (ar, en, both: a third
each) in the fake, as ``/subscribe delivery:follow`` leaves them; the real worker posts the
alert once per hub and publishes it (Discord's limits enforced: 50 requests/s, 5 per 5 s per
channel route, 10 publishes per hub per hour), and the fake copies it into every follower
channel before it answers the publish — the figure includes the fake's copying, not Discord's
own fan-out time, which no loopback can measure. ``direct``: the same worker posting to
``--direct-n`` channels, measured, and its rate extrapolated to ``--n`` (at 50 requests/s,
100,000 channels would take over half an hour to measure).

    python benchmarks/fanout.py --processes 3 [--n 3000]

Direct delivery from several real ``run`` processes sharing Discord's limit through Redis, and
the same processes without it (``benchmarks/fanout_processes.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import discord  # noqa: E402
from tortoise.transactions import in_transaction  # noqa: E402

from bot.catalog import load_catalog  # noqa: E402
from bot.db.models import Delivery, Incident, IncidentEventRecord, Subscription  # noqa: E402
from bot.db.setup import close_db, init_db  # noqa: E402
from bot.detect.model import Confidence, EventKind, Evidence, IncidentEvent  # noqa: E402
from bot.detect.serialize import event_to_dict  # noqa: E402
from bot.discord.api_base import configure_api_base, reset_discord_endpoints  # noqa: E402
from bot.discord.delivery import DeliveryWorker  # noqa: E402
from bot.notify.outbox import create_deliveries  # noqa: E402
from bot.services.subscriptions import SubscriptionService  # noqa: E402
from bot.settings import FollowHub  # noqa: E402
from bot.sources.base import SourceRole  # noqa: E402
from bot.status import Status  # noqa: E402
from tests.fake_discord import CHANNEL_ANNOUNCEMENT, FLAG_IS_CROSSPOST, FakeDiscord  # noqa: E402

LIMIT_PER_S = 50
CHANNELS_PER_GUILD = 250
SEND_ROUTE = "POST /channels/{channel_id}/messages"


def _event(now: datetime) -> IncidentEvent:
    return IncidentEvent(
        kind=EventKind.OPENED,
        service_id="github",
        incident_key=f"github-bench-{int(now.timestamp())}",
        at=now,
        status=Status.MAJOR_OUTAGE,
        confidence=Confidence.CONFIRMED,
        started_at=now,
        evidence=(
            Evidence(SourceRole.OFFICIAL, "statuspage", Status.MAJOR_OUTAGE, since=now,
                     official_title="Incident with Git Operations", official_url="https://www.githubstatus.com"),
            Evidence(SourceRole.PROBE, "http", Status.MAJOR_OUTAGE, since=now, http_status=503, latency_ms=812.0),
        ),
        official_update="We are investigating reports of degraded availability for Git Operations.",
    )


def _channels(fake: FakeDiscord, n: int, prefix: str) -> list[int]:
    out: list[int] = []
    while len(out) < n:
        guild = fake.add_guild(f"{prefix}-{len(out) // CHANNELS_PER_GUILD}", channels=())
        for _ in range(min(CHANNELS_PER_GUILD, n - len(out))):
            out.append(fake.add_channel(guild.id, f"{prefix}-{len(out)}"))
    return out


def _inject_429s(fake: FakeDiscord, channels: list[int], rng: random.Random) -> tuple[int, int]:
    """~1 % of channels: one 429 (discord.py retries); ~0.1 %: six (discord.py gives up)."""
    once = rng.sample(channels, max(1, len(channels) // 100))
    rest = [c for c in channels if c not in set(once)]
    many = rng.sample(rest, max(1, len(channels) // 1000))
    for cid in once:
        fake.inject_429(f"POST /channels/{cid}/messages", retry_after=0.25)
    for cid in many:
        fake.inject_429(f"POST /channels/{cid}/messages", retry_after=0.05, times=6)
    return len(once), len(many)


def _window(fake: FakeDiscord, channels: set[int]) -> tuple[float, float]:
    """(first request, last successful send) among the sends to ``channels``."""
    reqs = [r for r in fake.requests if r.key == SEND_ROUTE and r.channel_id in channels]
    ok = [r.at for r in reqs if r.status == 200]
    first = min(r.at for r in reqs)
    return first, max(ok) if ok else first


def _tally(fake: FakeDiscord, channels: list[int]) -> tuple[int, int, int]:
    """(messages, channels without one, channels with more than one)."""
    counts = [len(fake.messages(c)) for c in channels]
    return sum(counts), sum(1 for c in counts if c == 0), sum(1 for c in counts if c > 1)


async def _bare_discord_py(fake: FakeDiscord, client: discord.Client, channels: list[int], concurrency: int) -> dict:
    """discord.py alone: send as fast as the semaphore allows, let the library eat the 429s."""
    before_429, before_global = fake.stats["429"], fake.stats["429_global"]
    sem = asyncio.Semaphore(concurrency)
    failures = 0
    embed = discord.Embed(title="GitHub is down", description="bench")

    async def send(cid: int) -> None:
        nonlocal failures
        async with sem:
            params = discord.http.handle_message_parameters(embeds=[embed], nonce=f"b{cid % 10**20}")
            try:
                await client.http.send_message(cid, params=params)
            except discord.HTTPException:
                failures += 1

    started = time.monotonic()
    await asyncio.gather(*(send(c) for c in channels))
    first, last = _window(fake, set(channels))
    msgs, lost, dup = _tally(fake, channels)
    elapsed = max(1e-9, last - min(first, started))
    return {"msgs": msgs, "elapsed": elapsed, "rate": msgs / elapsed, "429": fake.stats["429"] - before_429,
            "429_global": fake.stats["429_global"] - before_global, "lost": lost, "dup": dup, "failed": failures}


async def _seed(fake: FakeDiscord, channels: list[int]) -> None:
    """One subscription per channel (ar, en, both in turn) and the alert's deliveries, as the
    monitor leaves them when it detects the outage."""
    now = datetime.now(timezone.utc)
    event = _event(now)
    async with in_transaction():
        await Subscription.bulk_create([
            Subscription(guild_id=fake._guild_of_channel(cid).id, channel_id=cid, service_id="github",
                         language=("ar", "en", "both")[i % 3])
            for i, cid in enumerate(channels)
        ])
        incident = await Incident.create(key=event.incident_key, service_id="github", status="major_outage",
                                         peak_status="major_outage", started_at=now)
        record = await IncidentEventRecord.create(incident=incident, kind="opened", at=now, status="major_outage",
                                                  payload=event_to_dict(event))
        await create_deliveries(record, incident, event)


async def _worker_run(fake: FakeDiscord, client: discord.Client, channels: list[int], args: argparse.Namespace) -> dict:
    rng = random.Random(args.seed)
    await _seed(fake, channels)
    once, many = _inject_429s(fake, channels, rng)
    before_429, before_global = fake.stats["429"], fake.stats["429_global"]

    worker = DeliveryWorker(client, load_catalog(), concurrency=args.concurrency, rate_per_s=args.rate,
                            batch_size=args.batch, rng=rng)
    stop = asyncio.Event()
    started = time.monotonic()
    task = asyncio.create_task(worker.run_forever(stop))
    deadline = started + len(channels) / 40 + 120
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        if not await Delivery.filter(state="pending").exists():
            break
        if task.done():
            break
    stop.set()
    worker.wake()
    await asyncio.wait_for(task, 30)
    first, last = _window(fake, set(channels))
    msgs, no_message, dup = _tally(fake, channels)
    not_sent = await Delivery.exclude(state="sent").count()
    elapsed = max(1e-9, last - min(first, started))
    return {"msgs": msgs, "elapsed": elapsed, "rate": msgs / elapsed, "429": fake.stats["429"] - before_429,
            "429_global": fake.stats["429_global"] - before_global, "lost": max(no_message, not_sent), "dup": dup,
            "injected_once": once, "injected_many": many, "outbox_429": worker.stats["rate_limited"],
            "requests": worker.stats["requests"]}


async def main(args: argparse.Namespace) -> dict:
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        db_url = args.db or f"sqlite://{Path(tmp) / 'fanout.sqlite3'}"
        await init_db(db_url)
        try:
            async with FakeDiscord() as fake:
                configure_api_base(fake.api_base)
                client = discord.Client(intents=discord.Intents.none())
                try:
                    await client.login(fake.token)
                    channels = _channels(fake, args.n, "w")
                    bare_channels = _channels(fake, args.baseline_n, "b") if args.baseline_n else []
                    fake.set_rate_limits(global_limit=LIMIT_PER_S, global_window=1.0, channel_limit=5, channel_window=5.0)
                    worker = await _worker_run(fake, client, channels, args)
                    await asyncio.sleep(1.1)  # a fresh global window for the baseline
                    bare = await _bare_discord_py(fake, client, bare_channels, args.concurrency) if bare_channels else None
                finally:
                    await client.close()
                    reset_discord_endpoints()
        finally:
            await close_db()
    return {"worker": worker, "bare": bare}


LANGUAGES = ("ar", "en", "both")


async def _follow_run(fake: FakeDiscord, client: discord.Client, channels: list[int], args: argparse.Namespace) -> dict:
    """The follow side: hubs, follower channels, one event; the worker until nothing is pending."""
    hub_guild = fake.add_guild("Outage Hub", channels=())
    hubs = [FollowHub(lang, "all", False, fake.add_channel(hub_guild.id, f"alerts-{lang}", type_=CHANNEL_ANNOUNCEMENT))
            for lang in LANGUAGES]
    rows = []
    for i, cid in enumerate(channels):
        hub = hubs[i % len(hubs)]
        webhook_id = fake.add_follower(hub.channel_id, cid)
        rows.append(Subscription(guild_id=fake._guild_of_channel(cid).id, channel_id=cid, service_id="all",
                                 language=hub.language, delivery="follow", hub_channel_id=hub.channel_id,
                                 webhook_id=webhook_id))
    now = datetime.now(timezone.utc)
    event = _event(now)
    async with in_transaction():
        await Subscription.bulk_create(rows, batch_size=5000)
    await SubscriptionService(load_catalog(), hubs=hubs).sync_hubs()
    before = len(fake.requests)
    worker = DeliveryWorker(client, load_catalog(), concurrency=args.concurrency, rate_per_s=args.rate,
                            batch_size=args.batch, rng=random.Random(args.seed))
    stop = asyncio.Event()
    started = time.monotonic()
    async with in_transaction():  # what the monitor does when the outage is detected
        incident = await Incident.create(key=event.incident_key, service_id="github", status="major_outage",
                                         peak_status="major_outage", started_at=now)
        record = await IncidentEventRecord.create(incident=incident, kind="opened", at=now, status="major_outage",
                                                  payload=event_to_dict(event))
        await create_deliveries(record, incident, event)
    task = asyncio.create_task(worker.run_forever(stop))
    while time.monotonic() < started + 120:
        await asyncio.sleep(0.05)
        if not await Delivery.filter(state="pending").exists() or task.done():
            break
    elapsed = time.monotonic() - started
    stop.set()
    worker.wake()
    await asyncio.wait_for(task, 30)
    copies = [sum(1 for m in fake.messages(cid) if m["flags"] & FLAG_IS_CROSSPOST) for cid in channels]
    requests = [r for r in fake.requests[before:]]
    return {"elapsed": elapsed, "hubs": len(hubs), "requests": len(requests),
            "publishes": sum(1 for r in requests if r.route.endswith("/crosspost") and r.status == 200),
            "deliveries": await Delivery.all().count(), "lost": sum(1 for c in copies if c == 0),
            "dup": sum(1 for c in copies if c > 1), "429": sum(1 for r in requests if r.status == 429)}


async def main_follow(args: argparse.Namespace) -> dict:
    logging.basicConfig(level=logging.ERROR)
    result: dict = {}
    for mode in ("direct", "follow"):  # a fresh database and fake for each side
        with tempfile.TemporaryDirectory() as tmp:
            await init_db(args.db or f"sqlite://{Path(tmp) / f'{mode}.sqlite3'}")
            try:
                async with FakeDiscord() as fake:
                    configure_api_base(fake.api_base)
                    client = discord.Client(intents=discord.Intents.none(), max_ratelimit_timeout=30.0)
                    try:
                        await client.login(fake.token)
                        channels = _channels(fake, args.direct_n if mode == "direct" else args.n, mode[0])
                        fake.set_rate_limits(global_limit=LIMIT_PER_S, global_window=1.0, channel_limit=5, channel_window=5.0)
                        if mode == "direct":
                            result[mode] = await _worker_run(fake, client, channels, args)
                        else:
                            result[mode] = await _follow_run(fake, client, channels, args)
                    finally:
                        await client.close()
                        reset_discord_endpoints()
            finally:
                await close_db()
    return result


def _print_follow(args: argparse.Namespace, result: dict) -> dict:
    d, f = result["direct"], result["follow"]
    direct_full = args.n / d["rate"]
    rows = [
        ("limit", args.n, args.n, args.n / LIMIT_PER_S, "Discord's 50 requests/s, one message per channel"),
        ("direct", args.direct_n, d["requests"], d["elapsed"], f"measured: {d['rate']:.1f} msgs/s, lost {d['lost']}, dup {d['dup']}"),
        ("direct", args.n, args.n, direct_full, f"extrapolated from the measured {args.direct_n:,} at {d['rate']:.1f} msgs/s"),
        ("follow", args.n, f["requests"], f["elapsed"],
         f"measured: {f['hubs']} hubs, {f['publishes']} publishes, lost {f['lost']}, dup {f['dup']}"),
    ]
    print(f"{'mode':<7} {'channels':>9} {'requests':>9} {'seconds':>9}  note")
    for name, n, reqs, secs, note in rows:
        print(f"{name:<7} {n:>9,} {reqs:>9,} {secs:>9.1f}  {note}")
    print("(follow: the alert is posted once per hub and published; the fake copies it into every follower "
          "channel before answering the publish — Discord's own fan-out time is not measured. Each hub can "
          "publish 10 messages an hour: the 11th alert in an hour waits for the budget. Direct keeps roles, "
          "per-guild time zones and recovery replies.)")
    return {"benchmark": "fanout_follow", "channels": args.n, "follow_s": round(f["elapsed"], 2),
            "follow_requests": f["requests"], "hubs": f["hubs"], "direct_s_extrapolated": round(direct_full, 1),
            "direct_measured_channels": args.direct_n, "direct_msgs_per_s": round(d["rate"], 2),
            "speedup": round(direct_full / max(1e-9, f["elapsed"]), 1), "lost": f["lost"] + d["lost"],
            "duplicated": f["dup"] + d["dup"]}


def _print(args: argparse.Namespace, result: dict) -> None:
    w, b = result["worker"], result["bare"]
    rows = [("limit", args.n, args.n / LIMIT_PER_S, float(LIMIT_PER_S), 0, 0, 0, 0)]
    if b is not None:
        rows.append(("bare d.py", args.baseline_n, b["elapsed"], b["rate"], b["429"], b["429_global"], b["lost"], b["dup"]))
    rows.append(("worker", args.n, w["elapsed"], w["rate"], w["429"], w["429_global"], w["lost"], w["dup"]))
    print(f"{'mode':<10} {'channels':>8} {'seconds':>8} {'msgs/s':>7} {'ratio':>6} {'429s':>6} {'global':>6} {'lost':>5} {'dup':>4}")
    for name, n, secs, rate, r429, rglobal, lost, dup in rows:
        print(f"{name:<10} {n:>8} {secs:>8.1f} {rate:>7.2f} {rate / LIMIT_PER_S:>6.3f} {r429:>6} {rglobal:>6} {lost:>5} {dup:>4}")
    print(f"(worker: {w['injected_once']} channels got one injected 429, {w['injected_many']} got six; "
          f"{w['outbox_429']} 429s reached the outbox and were rescheduled; pace {args.rate}/s, "
          f"concurrency {args.concurrency}; languages ar/en/both in turn)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="subscribed channels (default 10,000)")
    parser.add_argument("--rate", type=float, default=48.0, help="the worker's pace, requests/s (default 48)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch", type=int, default=200, help="deliveries claimed per run")
    parser.add_argument("--baseline-n", type=int, default=300, help="channels for the bare discord.py row (0: skip)")
    parser.add_argument("--db", default=None, help="tortoise URL (default: a temporary SQLite file)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--follow", action="store_true", help="follow delivery against direct (default --n 100,000)")
    parser.add_argument("--direct-n", type=int, default=1000, help="with --follow: channels the direct side measures")
    parser.add_argument("--processes", type=int, default=0,
                        help="direct delivery from this many `run` processes, sharing the limit through Redis and "
                             "not (needs PostgreSQL: --db, default TEST_POSTGRES_URL or the local test database)")
    args = parser.parse_args()
    if args.processes:
        from benchmarks.fanout_processes import main_processes

        if "--n" not in sys.argv:
            args.n = 3000
        args.db = args.db or os.environ.get("TEST_POSTGRES_URL") or "postgres://postgres@127.0.0.1:5432/test"
        print(json.dumps(asyncio.run(main_processes(args))))
        sys.exit(0)
    if args.follow:
        if "--n" not in sys.argv:
            args.n = 100_000
        print(json.dumps(_print_follow(args, asyncio.run(main_follow(args)))))
        sys.exit(0)
    result = asyncio.run(main(args))
    _print(args, result)
    w = result["worker"]
    print(json.dumps({
        "benchmark": "fanout", "channels": args.n, "msgs_per_s": round(w["rate"], 2), "limit_per_s": LIMIT_PER_S,
        "ratio": round(w["rate"] / LIMIT_PER_S, 3), "429s": w["429"], "lost": w["lost"], "duplicated": w["dup"],
        "baseline_bare_msgs_per_s": round(result["bare"]["rate"], 2) if result["bare"] else None,
        "baseline_bare_429s": result["bare"]["429"] if result["bare"] else None,
    }))
