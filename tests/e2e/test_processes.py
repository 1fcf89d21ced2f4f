"""Several ``python -m bot run`` processes behind one token (issue 19): three real processes on
PostgreSQL and Redis against the loopback fake Discord with two gateway shards.

Process 0 connects shard 0, process 1 shard 1, process 2 no gateway (``SHARD_IDS=none``): it
sends deliveries and polls when elected. One process is elected the poller; every process's
delivery worker takes deliveries from the shared outbox, paced through Redis. The story: users
subscribe channels in a guild on each shard and ask ``/isitdown``; the status page goes down;
every channel gets the alert once; the elected poller is killed with SIGKILL mid-outage; another
process takes the lease within two lease periods, reads the open incident the dead one left,
and when the page recovers every channel gets the recovery once — no alert lost, none twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.discord.client import token_namespace
from tests.conftest import NO_POSTGRES, make_db_url, postgres_url
from tests.fake_discord import FakeDiscord, FakeGuild
from tests.loopback import free_port, serve
from tests.shared_redis import REDIS_URL, forget_bot, redis_up

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "statuspage"
LEASE = 3.0  # LEADER_LEASE: short, so the take-over is quick to watch
SAFETY_TIMEOUT = 60.0  # against hangs only
MANAGE = 1 << 5 | 1 << 10  # Manage Server, View Channel: may /subscribe


pytestmark = [
    pytest.mark.skipif(postgres_url() is None, reason=NO_POSTGRES),
    pytest.mark.skipif(not redis_up(), reason="Redis not reachable at 127.0.0.1:6379: the multi-process test needs it"),
]


@dataclass
class Proc:
    name: str
    shard_ids: str
    health: int
    log: Path
    process: asyncio.subprocess.Process | None = None

    async def state(self) -> dict | None:
        """The process's /healthz body (None while it does not answer)."""
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as s:
                async with s.get(f"http://127.0.0.1:{self.health}/healthz") as r:
                    return await r.json()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            return None

    async def leading(self) -> bool:
        body = await self.state()
        return bool(body and body.get("info", {}).get("poller", {}).get("leading"))


class Page:
    """The status page: its summary is swapped by the test."""

    def __init__(self) -> None:
        self.body = (FIXTURES / "github_operational.json").read_bytes()

    async def handler(self, _request: object) -> aiohttp.web.Response:
        return aiohttp.web.Response(body=self.body, content_type="application/json")


def guild_on_shard(fake: FakeDiscord, shard: int, name: str, channels: tuple[str, ...]) -> FakeGuild:
    """A guild whose id Discord routes to ``shard`` of two ((id >> 22) % 2)."""
    gid = fake.snowflake()
    while (gid >> 22) % 2 != shard:
        gid = fake.snowflake() + (1 << 22)
    return fake.add_guild(name, channels=channels, guild_id=gid)


async def until(predicate, what: str, timeout: float = SAFETY_TIMEOUT, details=lambda: "") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} {details()}")
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def processes(procs: list[Proc], env: dict[str, str]) -> AsyncIterator[list[Proc]]:
    try:
        for p in procs:
            penv = {**env, "SHARD_IDS": p.shard_ids, "HEALTH_PORT": str(p.health)}
            p.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=ROOT, env=penv,
                stdout=p.log.open("wb"), stderr=asyncio.subprocess.STDOUT,
            )
        yield procs
    finally:
        for p in procs:
            if p.process is not None and p.process.returncode is None:
                p.process.send_signal(signal.SIGTERM)
        for p in procs:
            if p.process is not None:
                try:
                    await asyncio.wait_for(p.process.wait(), 20)
                except asyncio.TimeoutError:
                    p.process.kill()
                    await p.process.wait()


def callbacks(fake: FakeDiscord, interaction_id: int) -> int:
    return sum(1 for r in fake.requests if r.route.startswith("/interactions/") and r.path.split("/")[2] == str(interaction_id))


async def test_three_processes_answer_once_deliver_once_and_survive_the_pollers_death(tmp_path: Path) -> None:
    page = Page()
    async with make_db_url("postgres", tmp_path) as database_url, FakeDiscord() as fake, serve(
        {"/api/v2/summary.json": page.handler}
    ) as server:
        fake.set_rate_limits(global_limit=50, global_window=1.0)  # Discord's, enforced
        await forget_bot(token_namespace(fake.token))
        g0 = guild_on_shard(fake, 0, "Shard zero", tuple(f"zero-{i}" for i in range(6)))
        g1 = guild_on_shard(fake, 1, "Shard one", tuple(f"one-{i}" for i in range(6)))
        catalog = tmp_path / "services.toml"
        catalog.write_text(
            '[[services]]\nid = "octo"\nname = "Octo"\nname_ar = "أوكتو"\n'
            f'[[services.sources]]\nkind = "statuspage"\nurl = "{server.url("/")}"\n',
            encoding="utf-8",
        )
        env = {
            **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH", "SYSTEMROOT")},
            "DISCORD_TOKEN": fake.token, "DISCORD_API_BASE": fake.api_base, "DATABASE_URL": database_url,
            "SERVICES_FILE": str(catalog), "POLL_INTERVAL": "5", "CANARY_TARGETS": "", "IODA_URL": "",
            "REDIS_URL": REDIS_URL, "SHARD_COUNT": "2", "LEADER_LEASE": f"{LEASE:g}",
            "ALLOW_PRIVATE_TARGETS": "1",
        }
        procs = [Proc(f"p{i}", ids, free_port(), tmp_path / f"p{i}.log") for i, ids in enumerate(("0", "1", "none"))]
        try:
            async with processes(procs, env):
                # both shards connected, every process healthy, exactly one poller
                await until(lambda: sum(1 for s in fake._sessions.values() if s.conn is not None) == 2, "two shards")
                await until(lambda: {c["name"] for c in fake.commands()} >= {"isitdown", "subscribe"}, "commands synced")

                bodies: list[dict | None] = []

                async def all_up() -> bool:
                    bodies[:] = [await p.state() for p in procs]
                    return all(b is not None and b["status"] == "ok" for b in bodies)

                await until(all_up, "every process healthy", details=lambda: bodies)
                await until(lambda: _one_leader(procs), "one elected poller")

                # each interaction reaches the one process holding its guild's shard: answered once
                interactions = []
                for guild in (g0, g1):
                    for cid in guild.channels:
                        inter = await fake.invoke_command(guild.id, cid, "subscribe", {"service": "octo"}, permissions=MANAGE)
                        assert "will now get alerts" in (await inter.wait_response())["data"]["content"]
                        interactions.append(inter)
                    ask = await fake.invoke_command(guild.id, next(iter(guild.channels)), "isitdown", {"service": "octo"})
                    await ask.wait_response()
                    interactions.append(ask)
                await asyncio.sleep(1)  # a second answer, were there one, would have come by now
                assert [callbacks(fake, i.id) for i in interactions] == [1] * len(interactions)

                channels = [*g0.channels, *g1.channels]
                page.body = (FIXTURES / "github_major_outage.json").read_bytes()
                await until(lambda: all(len(fake.messages(c)) == 1 for c in channels), "the alert in every channel")

                leader = [p for p in procs if await p.leading()][0]
                assert leader.process is not None
                leader.process.kill()  # SIGKILL: no release, no goodbye
                killed_at = time.monotonic()
                await leader.process.wait()
                survivors = [p for p in procs if p is not leader]

                async def taken_over() -> bool:
                    return any([await p.leading() for p in survivors])

                await until(taken_over, "another poller")
                took = time.monotonic() - killed_at
                print(f"the poller came back {took:.2f} s after the kill (lease {LEASE:g} s)")
                assert took <= 2 * LEASE, f"the poller came back after {took:.1f} s (lease {LEASE:g} s)"

                page.body = (FIXTURES / "github_operational.json").read_bytes()
                await until(lambda: all(len(fake.messages(c)) == 2 for c in channels), "the recovery in every channel")
                await asyncio.sleep(2 * float(env["POLL_INTERVAL"]))  # nothing more arrives
                for cid in channels:
                    alert, recovery = fake.messages(cid)
                    assert recovery.get("message_reference", {}).get("message_id") == alert["id"]
                assert fake.stats["nonce_deduplicated"] == 0
                assert fake.stats["429"] == 0  # three senders, one shared pace under the global limit
        except BaseException:
            for p in procs:
                if p.log.exists():
                    sys.stderr.write(f"--- {p.name} (SHARD_IDS={p.shard_ids}) ---\n{p.log.read_text(errors='replace')[-6000:]}\n")
            raise
        logs = {p.name: p.log.read_text(errors="replace") for p in procs}
        for name, text in logs.items():
            assert "Traceback" not in text, f"{name}:\n{text[-4000:]}"
            assert "loaded: " in text and "objects frozen out of garbage collection" in text  # (bot.ops.gcpause)
        assert any("settled: " in text for text in logs.values())  # the first poller, connected and synced


async def _one_leader(procs: list[Proc]) -> bool:
    return sum([await p.leading() for p in procs]) == 1
