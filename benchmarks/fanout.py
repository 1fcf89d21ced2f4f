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
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
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
from bot.sources.base import SourceRole  # noqa: E402
from bot.status import Status  # noqa: E402
from tests.fake_discord import FakeDiscord  # noqa: E402

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


async def _worker_run(fake: FakeDiscord, client: discord.Client, channels: list[int], args: argparse.Namespace) -> dict:
    rng = random.Random(args.seed)
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
    args = parser.parse_args()
    result = asyncio.run(main(args))
    _print(args, result)
    w = result["worker"]
    print(json.dumps({
        "benchmark": "fanout", "channels": args.n, "msgs_per_s": round(w["rate"], 2), "limit_per_s": LIMIT_PER_S,
        "ratio": round(w["rate"] / LIMIT_PER_S, 3), "429s": w["429"], "lost": w["lost"], "duplicated": w["dup"],
        "baseline_bare_msgs_per_s": round(result["bare"]["rate"], 2) if result["bare"] else None,
        "baseline_bare_429s": result["bare"]["429"] if result["bare"] else None,
    }))
