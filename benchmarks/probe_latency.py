"""How long a probe-only outage takes to reach Discord, over every phase of the poll schedule.

    python benchmarks/probe_latency.py [--services 40] [--interval 60] [--probe-interval 20]
                                       [--settle 70] [--fanout 20000] [--db postgres://…]

Issue 13 item 5: an outage only our probes can see must be alerted within 45 s whatever its
phase. The phase is when the outage begins relative to a probe's next scheduled poll; the
catalog's jitter spreads N probes evenly over their interval, so taking all N endpoints down at
one instant measures N phases at once. For each setting —

* ``probe``    — ``PROBE_INTERVAL=--probe-interval``: the probes of followed services polled faster;
* ``baseline`` — ``PROBE_INTERVAL=--interval``: every source at ``POLL_INTERVAL`` (before item 5);

``python -m bot run`` runs as a user runs it against the loopback fake Discord, N http probes on
a loopback server and one channel subscribed to each service. After ``--settle`` seconds (every
probe polled and healthy), every endpoint answers 503 from one instant on; the time from that
instant to the alert's ``POST /channels/{id}/messages`` at the fake is each service's latency.
A third run (``--fanout``, default 20,000) subscribes that many more channels to one probe and
measures the time from the poll that detected its outage (its ``opened`` event's time) to the
first message of the fan-out at the fake (issue 13: at most 0.5 s).

Prints a table (median, 90th percentile, worst) and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402


class Endpoints:
    """N loopback endpoints answering 200 until ``down()``, then 503."""

    def __init__(self) -> None:
        self.down_at: float | None = None

    async def handle(self, _request: web.Request) -> web.Response:
        if self.down_at is not None:
            return web.Response(status=503, text="unavailable")
        return web.Response(text="ok")

    def down(self) -> None:
        self.down_at = time.monotonic()


def _catalog(path: Path, port: int, n: int) -> None:
    lines = []
    for i in range(n):
        lines += ["[[services]]", f'id = "probe{i}"', f'name = "Probe {i}"', f'name_ar = "مسبار {i}"',
                  "[[services.sources]]", 'kind = "http"', f'url = "http://127.0.0.1:{port}/p/{i}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")


async def one_setting(
    args: argparse.Namespace, name: str, probe_interval: float, tmp: Path, fanout: int = 0
) -> dict[str, object]:
    """One run of the bot; with ``fanout``, that many more channels (250 a guild) follow
    ``probe0`` and only the time from its detecting poll to its first message is measured."""
    from benchmarks.fanout_processes import bot_database
    from bot.db.models import Subscription
    from bot.db.setup import close_db, init_db
    from tests.fake_discord import FakeDiscord
    from tests.loopback import free_port

    endpoints = Endpoints()
    app = web.Application()
    app.router.add_get("/p/{i}", endpoints.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    catalog = tmp / f"services-{name}.toml"
    _catalog(catalog, port, args.services)
    try:
        async with FakeDiscord(heartbeat_interval_ms=1000) as fake:
            async with bot_database(args.db, tmp / f"bot-{name}.sqlite3") as url:
                guild = fake.add_guild("latency", channels=())
                channels = {f"probe{i}": fake.add_channel(guild.id, f"c{i}") for i in range(args.services)}
                crowd: list[tuple[int, int]] = []  # (guild, channel) of the fan-out's channels
                for k in range(fanout):
                    if k % 250 == 0:
                        many = fake.add_guild(f"fanout{k // 250}", channels=())
                    crowd.append((many.id, fake.add_channel(many.id, f"f{k}")))
                await init_db(url)
                try:
                    await Subscription.bulk_create([
                        Subscription(guild_id=guild.id, channel_id=cid, service_id=sid, language="en")
                        for sid, cid in channels.items()
                    ] + [Subscription(guild_id=g, channel_id=c, service_id="probe0", language="en") for g, c in crowd],
                        batch_size=5000)  # fmt: skip
                finally:
                    await close_db()
                if fanout:  # only probe0's first message counts
                    channels = {"probe0": channels["probe0"]} | {f"fanout{k}": c for k, (_, c) in enumerate(crowd)}
                env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")}
                env |= {"DISCORD_TOKEN": fake.token, "DISCORD_API_BASE": fake.api_base, "DATABASE_URL": url,
                        "SERVICES_FILE": str(catalog), "POLL_INTERVAL": str(args.interval),
                        "PROBE_INTERVAL": str(probe_interval), "CANARY_TARGETS": "", "IODA_URL": "",
                        "ALLOW_PRIVATE_TARGETS": "1", "LOG_FORMAT": "text"}
                log = (tmp / f"bot-{name}.log").open("wb")
                proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
                                                            stdout=log, stderr=asyncio.subprocess.STDOUT)
                try:
                    await asyncio.sleep(args.settle)  # every probe polled, healthy
                    if proc.returncode is not None:
                        raise RuntimeError(f"the bot stopped: see {tmp / f'bot-{name}.log'}")
                    endpoints.down()
                    assert endpoints.down_at is not None
                    waiting = set(channels.values())
                    first: dict[int, float] = {}
                    deadline = endpoints.down_at + args.timeout
                    while waiting and time.monotonic() < deadline and not (fanout and first):
                        await asyncio.sleep(0.2)
                        for r in fake.requests:
                            if (r.method == "POST" and r.route == "/channels/{channel_id}/messages" and r.status == 200
                                    and r.channel_id in waiting and r.at >= endpoints.down_at):
                                first[r.channel_id] = r.at - endpoints.down_at
                                waiting.discard(r.channel_id)
                    if fanout and first:
                        detected = await _detected_at(url, "probe0")
                        posted = min(first.values()) + endpoints.down_at
                        fanout_first = posted - (time.monotonic() - (time.time() - detected))
                finally:
                    proc.terminate()
                    await proc.wait()
                    log.close()
    finally:
        await runner.cleanup()
    latencies = sorted(first.values())
    if fanout:
        return {"setting": name, "probe_interval_s": probe_interval, "services": args.services, "channels": fanout + 1,
                "first_message_after_detecting_poll_s": round(fanout_first, 3) if first else None}
    return {
        "setting": name, "probe_interval_s": probe_interval, "services": args.services,
        "alerted": len(latencies), "missed": args.services - len(latencies),
        "median_s": round(statistics.median(latencies), 1) if latencies else None,
        "p90_s": round(latencies[int(0.9 * (len(latencies) - 1))], 1) if latencies else None,
        "worst_s": round(latencies[-1], 1) if latencies else None,
    }


async def _detected_at(url: str, service_id: str) -> float:
    """When the poll that opened ``service_id``'s incident ran (its event's time, epoch seconds)."""
    from bot.db.models import IncidentEventRecord
    from bot.db.setup import close_db, init_db

    await init_db(url, apply_migrations=False)
    try:
        event = await IncidentEventRecord.filter(incident__service_id=service_id, kind="opened").order_by("at").first()
        assert event is not None, "no incident was opened"
        return event.at.timestamp()
    finally:
        await close_db()


async def main(args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            await one_setting(args, "probe", args.probe_interval, Path(tmp)),
            await one_setting(args, "baseline", args.interval, Path(tmp)),
        ]
        spread = await one_setting(args, "fanout", args.probe_interval, Path(tmp), fanout=args.fanout) if args.fanout else None
    print(f"{'setting':>9} {'probe interval s':>16} {'alerted':>8} {'median s':>9} {'p90 s':>6} {'worst s':>8}")
    for r in rows:
        print(f"{r['setting']!s:>9} {r['probe_interval_s']!s:>16} {r['alerted']!s:>8} {r['median_s']!s:>9} "
              f"{r['p90_s']!s:>6} {r['worst_s']!s:>8}")
    if spread is not None:
        print(f"fan-out to {spread['channels']:,} channels: first message "
              f"{spread['first_message_after_detecting_poll_s']} s after the poll that detected the outage")
    print(f"(outage to alert at the fake Discord, {args.services} probes whose phases the jitter spreads over the "
          f"interval; POLL_INTERVAL {args.interval:g} s; database {'PostgreSQL' if args.db else 'SQLite'})")
    return {"benchmark": "probe_latency", "interval_s": args.interval, "rows": rows, "fanout": spread}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=40)
    parser.add_argument("--interval", type=float, default=60.0)
    parser.add_argument("--probe-interval", type=float, default=20.0)
    parser.add_argument("--settle", type=float, default=70.0, help="seconds before the outage (every probe polled)")
    parser.add_argument("--timeout", type=float, default=150.0, help="seconds to wait for every alert")
    parser.add_argument("--fanout", type=int, default=20_000, help="channels following probe0 in a third run (0: skip)")
    parser.add_argument("--db", default=None, help="PostgreSQL URL (a fresh schema); default a SQLite file")
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
