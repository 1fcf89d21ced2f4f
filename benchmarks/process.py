"""The whole bot process under load, next to a bare aiohttp loop doing the same fetches.

    python benchmarks/process.py [--sources 1000,5000] [--subscriptions 1000] [--interval 60]
                                 [--warmup 70] [--duration 60] [--db postgres://…]

For each N in ``--sources``: an endpoint farm in its own process serves a real Statuspage
``summary.json`` on 8 loopback ports; the catalog has N services, half ``statuspage`` pages and
half ``http`` probes on the farm; ``--subscriptions`` channels (250 per guild) of the loopback
fake Discord subscribe to them, seeded in the database before the start. Then

* ``bot``  — ``python -m bot run`` as a user runs it (``POLL_INTERVAL=PROBE_INTERVAL=--interval``,
  gateway heartbeats every second), measured from outside: CPU and peak RSS from ``/proc``,
  the event loop's worst lag from its ``/metrics`` (start-up included), the worst heartbeat
  delay from the fake's gateway, the seconds until the gateway is ready and until a first
  ``/isitdown`` is answered, the CPU spent until ready, and the stalls of 100 ms or more its
  log names over the whole run, by whether the loop's thread was running for most of the
  sample (busy) or not (blocked, or the machine paused);
* ``bare`` — a bare aiohttp loop (one session, each URL once per interval, evenly spread,
  ``GET`` + ``read``) in its own process over the same N URLs, measured the same way.

Steady-state CPU is counted over ``--duration`` seconds after ``--warmup`` (past the first
interval, when every source has been polled once). Prints a table and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from benchmarks.poll import SUMMARY_PATH, _serve_forever  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PORTS = 8
CHANNELS_PER_GUILD = 250


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` (``/proc/<pid>/stat`` fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (``VmHWM``), MB."""
    match = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) / 1024 if match else 0.0


def rss_mb(pid: int) -> float:
    """The process's resident set now (``VmRSS``), MB."""
    match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) / 1024 if match else 0.0


def urls(ports: list[int], n: int) -> list[tuple[str, str]]:
    """(kind, URL) of the N sources: even ones Statuspage pages, odd ones http probes."""
    out = []
    for i in range(n):
        base = f"http://127.0.0.1:{ports[i % len(ports)]}/s/{i}/"
        out.append(("statuspage", base) if i % 2 == 0 else ("http", base + SUMMARY_PATH.lstrip("/")))
    return out


# -- the bare loop (its own process) ---------------------------------------------------------

def _bare_main(targets: list[str], interval: float, seconds: float) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:
            async def one(url: str) -> None:
                try:
                    async with session.get(url) as resp:
                        await resp.read()
                except aiohttp.ClientError:
                    pass

            step = interval / max(1, len(targets))
            started = time.monotonic()
            tasks: set[asyncio.Task[None]] = set()
            i = 0
            while time.monotonic() - started < seconds:
                due = started + i * step
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                task = asyncio.create_task(one(targets[i % len(targets)]))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                i += 1
            await asyncio.gather(*tasks)

    asyncio.run(main())


# -- one size --------------------------------------------------------------------------------

@dataclass
class Row:
    name: str
    sources: int
    cpu_per_min: float
    rss_mb: float
    extra: dict[str, float | int | None] = field(default_factory=dict)


def _catalog(path: Path, targets: list[tuple[str, str]]) -> None:
    lines = []
    for i, (kind, url) in enumerate(targets):
        lines += ["[[services]]", f'id = "svc{i}"', f'name = "Service {i}"', f'name_ar = "الخدمة {i}"',
                  "[[services.sources]]", f'kind = "{kind}"', f'url = "{url}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")


async def _seed(url: str, fake: "object", sources: int, subscriptions: int) -> None:
    from tortoise.transactions import in_transaction

    from bot.db.models import Subscription
    from bot.db.setup import close_db, init_db

    await init_db(url)
    try:
        rows = []
        guild = None
        for i in range(subscriptions):
            if i % CHANNELS_PER_GUILD == 0:
                guild = fake.add_guild(f"g{i // CHANNELS_PER_GUILD}", channels=())  # type: ignore[attr-defined]
            cid = fake.add_channel(guild.id, f"c{i}")  # type: ignore[attr-defined, union-attr]
            rows.append(Subscription(guild_id=guild.id, channel_id=cid, service_id=f"svc{i % sources}",  # type: ignore[union-attr]
                                     language=("ar", "en", "both")[i % 3]))
        async with in_transaction():
            await Subscription.bulk_create(rows, batch_size=5000)
    finally:
        await close_db()


async def _metrics(port: int) -> str:
    """The bot's ``/metrics`` text ("" when it does not answer)."""
    try:
        async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/metrics") as r:
            return await r.text()
    except aiohttp.ClientError:
        return ""


async def _metric(port: int, name: str) -> float | None:
    match = re.search(rf"^{name} (\S+)$", await _metrics(port), re.M)
    return float(match.group(1)) if match else None


async def _slow_lags(port: int) -> int:
    """How many of the loop-lag samples so far were over 100 ms (from the histogram)."""
    text = await _metrics(port)
    total = re.search(r"^outage_bot_event_loop_lag_seconds_count (\S+)$", text, re.M)
    fast = re.search(r'^outage_bot_event_loop_lag_seconds_bucket\{le="0\.1"\} (\S+)$', text, re.M)
    return round(float(total.group(1)) - float(fast.group(1))) if total and fast else 0


def _stalls(log_text: str) -> tuple[int, int]:
    """How many stalls the bot logged over its whole run (``bot.ops.looplag``): with its thread
    running for most of them (busy), and with it not running (blocked, or the machine paused)."""
    stalls = re.findall(r"the event loop stalled \d+ ms .*?: its thread was (running|not running)", log_text)
    return stalls.count("running"), stalls.count("not running")


async def _polls(port: int) -> float:
    text = await _metrics(port)
    return sum(float(v) for v in re.findall(r"^outage_bot_polls_total\{[^}]*\} (\S+)$", text, re.M))


async def run_bot(args: argparse.Namespace, ports: list[int], n: int, tmp: Path) -> Row:
    from benchmarks.fanout_processes import bot_database
    from tests.fake_discord import FakeDiscord
    from tests.loopback import free_port

    targets = urls(ports, n)
    catalog = tmp / f"services-{n}.toml"
    _catalog(catalog, targets)
    async with FakeDiscord(heartbeat_interval_ms=1000) as fake:
        async with bot_database(args.db, tmp / f"bot-{n}.sqlite3") as url:
            await _seed(url, fake, n, args.subscriptions)
            health = free_port()
            env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH", "PYTHONASYNCIODEBUG")}
            env |= {"DISCORD_TOKEN": fake.token, "DISCORD_API_BASE": fake.api_base, "DATABASE_URL": url,
                    "SERVICES_FILE": str(catalog), "POLL_INTERVAL": str(args.interval),
                    "PROBE_INTERVAL": str(args.interval), "CANARY_TARGETS": "", "IODA_URL": "",
                    "ALLOW_PRIVATE_TARGETS": "1", "HEALTH_PORT": str(health), "LOG_FORMAT": "text"}
            if args.shards:
                env["SHARD_COUNT"] = str(args.shards)
            if args.keep_logs:
                Path(args.keep_logs).mkdir(parents=True, exist_ok=True)
            log_path = Path(args.keep_logs) / f"bot-{n}.log" if args.keep_logs else tmp / f"bot-{n}.log"
            log = log_path.open("wb")
            started = time.monotonic()
            profile = ["-m", "cProfile", "-o", f"{args.profile}.{n}"] if args.profile else []
            proc = await asyncio.create_subprocess_exec(sys.executable, *profile, "-m", "bot", "run", cwd=ROOT, env=env,
                                                        stdout=log, stderr=asyncio.subprocess.STDOUT)
            while sum(s.conn is not None for s in fake._sessions.values()) < (args.shards or 1) or not fake.commands():
                await asyncio.sleep(0.05)
                if proc.returncode is not None or time.monotonic() - started > 300:
                    raise RuntimeError(f"the bot did not connect: see {tmp / f'bot-{n}.log'}")
            ready_s = time.monotonic() - started
            ready_cpu = cpu_seconds(proc.pid)
            guild = next(iter(fake.guilds.values()))
            asked = time.monotonic()
            inter = await fake.invoke_command(guild.id, next(iter(guild.channels)), "isitdown", {"service": "svc0"})
            await inter.wait_response()
            isitdown_s = time.monotonic() - asked
            await asyncio.sleep(max(0.0, started + args.warmup - time.monotonic()))
            cpu0, polls0, t0 = cpu_seconds(proc.pid), await _polls(health), time.monotonic()
            slow0 = await _slow_lags(health)
            await asyncio.sleep(args.duration)
            cpu1, polls1, t1 = cpu_seconds(proc.pid), await _polls(health), time.monotonic()
            slow1 = await _slow_lags(health)
            lag = await _metric(health, "outage_bot_event_loop_lag_max_seconds")
            gc_pause = await _metric(health, "outage_bot_gc_pause_max_seconds")
            rss = peak_rss_mb(proc.pid)
            rss_now = rss_mb(proc.pid)
            beats = sorted(e.at for e in fake.gateway_ops(1))
            gaps = [b - a for a, b in zip(beats, beats[1:])]
            steady_gaps = [b - a for a, b in zip(beats, beats[1:]) if a >= t0 and b <= t1]
            proc.send_signal(signal.SIGTERM)
            await proc.wait()
            log.close()
            busy, blocked = _stalls(log_path.read_text(encoding="utf-8", errors="replace"))
    return Row("bot", n, (cpu1 - cpu0) / (t1 - t0) * 60, rss, {
        "polls_per_min": round((polls1 - polls0) / (t1 - t0) * 60), "ready_s": round(ready_s, 2),
        "ready_cpu_s": round(ready_cpu, 2), "isitdown_s": round(isitdown_s, 3),
        "loop_lag_max_ms": round(lag * 1000) if lag is not None else None,
        "heartbeat_delay_max_ms": round(max(0.0, max(gaps) - 1.0) * 1000) if gaps else None,
        "steady_heartbeat_delay_max_ms": round(max(0.0, max(steady_gaps) - 1.0) * 1000) if steady_gaps else None,
        "steady_lags_over_100ms": slow1 - slow0,
        "gc_pause_max_ms": round(gc_pause * 1000) if gc_pause is not None else None,
        "rss_at_end_mb": round(rss_now), "stalls_busy": busy, "stalls_blocked": blocked,
    })


def run_bare(args: argparse.Namespace, ports: list[int], n: int) -> Row:
    targets = [url if kind == "http" else url + SUMMARY_PATH.lstrip("/") for kind, url in urls(ports, n)]
    seconds = args.warmup + args.duration
    proc = multiprocessing.get_context("spawn").Process(target=_bare_main, args=(targets, args.interval, seconds))
    proc.start()
    assert proc.pid is not None
    time.sleep(args.warmup)
    cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
    time.sleep(args.duration)
    cpu1, t1 = cpu_seconds(proc.pid), time.monotonic()
    rss = peak_rss_mb(proc.pid)
    proc.join()
    return Row("bare", n, (cpu1 - cpu0) / (t1 - t0) * 60, rss)


def main(args: argparse.Namespace) -> dict:
    parent, child = multiprocessing.Pipe()
    farm = multiprocessing.get_context("fork").Process(target=_serve_forever, args=(PORTS, child), daemon=True)
    farm.start()
    ports: list[int] = parent.recv()
    rows: list[tuple[Row, Row]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in args.sources:
                bot = asyncio.run(run_bot(args, ports, n, Path(tmp)))
                bare = run_bare(args, ports, n)
                rows.append((bot, bare))
    finally:
        farm.terminate()
    print(f"{'sources':>8} {'subs':>7} {'bot CPU s/min':>13} {'bare CPU s/min':>14} {'ratio':>6} {'bot RSS MB':>10} "
          f"{'loop lag ms':>11} {'heartbeat ms':>12} {'ready s':>7} {'ready CPU s':>11} {'/isitdown s':>11} {'polls/min':>9}")
    for bot, bare in rows:
        e = bot.extra
        print(f"{bot.sources:>8} {args.subscriptions:>7} {bot.cpu_per_min:>13.2f} {bare.cpu_per_min:>14.2f} "
              f"{bot.cpu_per_min / max(1e-9, bare.cpu_per_min):>6.2f} {bot.rss_mb:>10.0f} {e['loop_lag_max_ms']!s:>11} "
              f"{e['heartbeat_delay_max_ms']!s:>12} {e['ready_s']!s:>7} {e['ready_cpu_s']!s:>11} {e['isitdown_s']!s:>11} "
              f"{e['polls_per_min']!s:>9}")
    print(f"{'sources':>8} {'steady lags > 100 ms':>20} {'steady heartbeat ms':>19} {'worst full GC ms':>16} {'RSS at end MB':>13} "
          f"{'stalls busy':>11} {'stalls blocked':>14}")
    for bot, _bare in rows:
        e = bot.extra
        print(f"{bot.sources:>8} {e['steady_lags_over_100ms']!s:>20} {e['steady_heartbeat_delay_max_ms']!s:>19} "
              f"{e['gc_pause_max_ms']!s:>16} {e['rss_at_end_mb']!s:>13} {e['stalls_busy']!s:>11} {e['stalls_blocked']!s:>14}")
    print(f"(interval {args.interval:g} s, steady state over {args.duration:g} s after {args.warmup:g} s; "
          f"database {'PostgreSQL' if args.db else 'SQLite'}; bare: GET + read of the same URLs at the same rate)")
    return {"benchmark": "process", "interval_s": args.interval, "subscriptions": args.subscriptions,
            "database": "postgres" if args.db else "sqlite",
            "rows": [{"sources": b.sources, "bot_cpu_s_per_min": round(b.cpu_per_min, 2),
                      "bare_cpu_s_per_min": round(r.cpu_per_min, 2),
                      "ratio": round(b.cpu_per_min / max(1e-9, r.cpu_per_min), 2), "bot_rss_mb": round(b.rss_mb),
                      **b.extra} for b, r in rows]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=lambda s: [int(x) for x in s.split(",")], default=[1000, 5000])
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=70.0, help="seconds before the steady-state window")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of the steady-state window")
    parser.add_argument("--shards", type=int, default=None, help="SHARD_COUNT for the bot (all shards in its one process)")
    parser.add_argument("--db", default=None, help="PostgreSQL URL (a fresh schema); default a SQLite file")
    parser.add_argument("--profile", default=None, help="run the bot under cProfile, writing PROFILE.<sources>")
    parser.add_argument("--keep-logs", default=None, help="a folder to keep the bot's log in (bot-<sources>.log)")
    print(json.dumps(main(parser.parse_args())))
