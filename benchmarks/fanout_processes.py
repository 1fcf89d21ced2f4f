"""Direct delivery from several ``python -m bot run`` processes behind one token (issue 19).

    python benchmarks/fanout.py --processes 3 [--n 3000] [--db postgres://postgres@127.0.0.1:5432/test]

The outbox is seeded with one alert to ``--n`` channels in a fresh PostgreSQL schema; then
``--processes`` real ``run`` processes (``SHARD_IDS=none``: senders and poller candidates, no
gateway) drain it against the loopback fake Discord enforcing 50 requests/s. Two rows, same run:

* ``shared``   — the processes share Discord's global limit and one send pace through Redis
  (``REDIS_URL``), as the README's multi-process layout runs them;
* ``separate`` — the same processes without ``REDIS_URL``: each paces itself at 48/s, as one
  process would, and together they overrun the limit.

Measured: messages/s (first send to last message), the busiest second of requests the fake
saw from the bot (Discord's limit is 50 in any second), 429s, lost and duplicated channels.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


@contextlib.asynccontextmanager
async def _schema(base: str) -> AsyncIterator[str]:
    """A fresh PostgreSQL schema under ``base`` (dropped afterwards): tortoise's ``?schema=``."""
    import asyncpg

    dsn = urlsplit(base)._replace(scheme="postgresql", query="").geturl()
    name = f"bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(dsn)
    await conn.execute(f'CREATE SCHEMA "{name}"')
    await conn.close()
    try:
        yield base + ("&" if "?" in base else "?") + f"schema={name}"
    finally:
        conn = await asyncpg.connect(dsn)
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        await conn.close()


@contextlib.asynccontextmanager
async def bot_database(db: str | None, sqlite_file: Path) -> AsyncIterator[str]:
    """The benchmarked bot's ``DATABASE_URL``: a fresh schema under the PostgreSQL URL ``db``
    (dropped afterwards), else a SQLite file."""
    if db:
        async with _schema(db) as url:
            yield url
    else:
        yield f"sqlite://{sqlite_file}"


def _busiest_second(times: list[float]) -> int:
    """The most requests inside any one-second window (two pointers over sorted times)."""
    times = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def _row(args: argparse.Namespace, shared: bool, tmp: Path) -> dict:
    from bot.db.setup import close_db, init_db
    from bot.discord.client import token_namespace
    from benchmarks.fanout import LIMIT_PER_S, SEND_ROUTE, _channels, _seed, _tally
    from tests.fake_discord import FakeDiscord
    from tests.loopback import serve
    from tests.shared_redis import REDIS_URL, forget_bot

    page = (ROOT / "tests" / "fixtures" / "statuspage" / "github_operational.json").read_bytes()

    async def summary(_request: object) -> object:
        from aiohttp import web

        return web.Response(body=page, content_type="application/json")

    async with _schema(args.db) as url, FakeDiscord() as fake, serve({"/api/v2/summary.json": summary}) as status:
        channels = _channels(fake, args.n, "s" if shared else "p")
        await init_db(url)
        try:
            await _seed(fake, channels)
        finally:
            await close_db()
        fake.set_rate_limits(global_limit=LIMIT_PER_S, global_window=1.0, channel_limit=5, channel_window=5.0)
        catalog = tmp / "services.toml"
        catalog.write_text(  # the alert's service, its page healthy: the elected poller finds nothing new
            '[[services]]\nid = "github"\nname = "GitHub"\nname_ar = "غيت هاب"\n'
            f'[[services.sources]]\nkind = "statuspage"\nurl = "{status.url("/")}"\n', encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")}
        env |= {"DISCORD_TOKEN": fake.token, "DISCORD_API_BASE": fake.api_base, "DATABASE_URL": url,
                "SERVICES_FILE": str(catalog), "CANARY_TARGETS": "", "IODA_URL": "", "ALLOW_PRIVATE_TARGETS": "1",
                "SHARD_COUNT": "1", "SHARD_IDS": "none"}
        if shared:
            await forget_bot(token_namespace(fake.token))
            env["REDIS_URL"] = REDIS_URL
        procs = []
        started = time.monotonic()
        for i in range(args.processes):
            log = (tmp / f"{'shared' if shared else 'separate'}-{i}.log").open("wb")
            procs.append(await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=ROOT, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT))
        deadline = started + args.n / 40 + 120
        try:
            while time.monotonic() < deadline and any(len(fake.messages(c)) == 0 for c in channels):
                await asyncio.sleep(0.5)
        finally:
            for p in procs:
                with contextlib.suppress(ProcessLookupError):
                    p.send_signal(signal.SIGTERM)
            await asyncio.gather(*(p.wait() for p in procs))
        sends = [r for r in fake.requests if r.key == SEND_ROUTE]
        ok = [r.at for r in sends if r.status == 200]
        bot_requests = [r.at for r in fake.requests if not r.route.startswith(("/interactions/", "/webhooks/"))
                        and r.at >= (sends[0].at if sends else started)]
        msgs, lost, dup = _tally(fake, channels)
        elapsed = max(1e-9, (max(ok) if ok else time.monotonic()) - (min(r.at for r in sends) if sends else started))
        return {"msgs": msgs, "elapsed": elapsed, "rate": msgs / elapsed, "busiest": _busiest_second(bot_requests),
                "429": fake.stats["429"], "lost": lost, "dup": dup}


async def main_processes(args: argparse.Namespace) -> dict:
    """Both rows, shared first; returns the JSON line's fields after printing the table."""
    from benchmarks.fanout import LIMIT_PER_S

    with tempfile.TemporaryDirectory() as tmp:
        shared = await _row(args, True, Path(tmp))
        separate = await _row(args, False, Path(tmp))
    print(f"{'mode':<9} {'procs':>5} {'channels':>8} {'seconds':>8} {'msgs/s':>7} {'busiest s':>9} {'429s':>6} {'lost':>5} {'dup':>4}")
    for name, r in (("shared", shared), ("separate", separate)):
        print(f"{name:<9} {args.processes:>5} {args.n:>8} {r['elapsed']:>8.1f} {r['rate']:>7.2f} "
              f"{r['busiest']:>9} {r['429']:>6} {r['lost']:>5} {r['dup']:>4}")
    print(f"(Discord's global limit: {LIMIT_PER_S} requests in any second, enforced by the fake; 'busiest s' counts "
          "every bot-token request the fake saw in its busiest second. shared: REDIS_URL set; separate: each "
          "process paces itself alone)")
    return {"benchmark": "fanout_processes", "processes": args.processes, "channels": args.n,
            "msgs_per_s": round(shared["rate"], 2), "busiest_second": shared["busiest"], "429s": shared["429"],
            "lost": shared["lost"], "duplicated": shared["dup"], "limit_per_s": LIMIT_PER_S,
            "baseline_separate_busiest_second": separate["busiest"], "baseline_separate_429s": separate["429"],
            "baseline_separate_lost": separate["lost"], "baseline_separate_duplicated": separate["dup"]}
