"""Poll N loopback status endpoints once through the real source code and once with a bare
aiohttp GET loop, in the same run, and compare wall time and client CPU.

    python benchmarks/poll.py [--n 10000] [--servers 8] [--per-host 4] [--repeat 2]

The endpoints are aiohttp servers on 127.0.0.1 serving a real Statuspage ``summary.json``
(``tests/fixtures/statuspage/github_operational.json`` when present) at N distinct paths.
They run in a separate process, so ``time.process_time()`` measures the client alone.

Modes, each over the same N URLs with the same concurrency (``--per-host`` requests at a time
per server port, like ``HttpClient``'s per-host cap):

* ``baseline``   — ``session.get(url)`` + ``await resp.read()``, nothing else;
* ``http``       — ``HttpKind.poll`` through ``bot.net.HttpClient`` (status + forbid_text);
* ``statuspage`` — ``StatuspageKind.poll`` (conditional GET + JSON parse into an Observation),
  when ``bot/sources/statuspage.py`` exists; a ``(parse only)`` row then times its parser
  alone on the same payload, so fetching and parsing costs can be told apart.

Ends with one JSON line; ``mode``/``cpu_s``/``cpu_ratio`` are the costlier project mode and
its CPU over the baseline's, and ``modes`` gives every mode's figures with both ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Awaitable, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from bot.net.client import HttpClient  # noqa: E402
from bot.sources.base import Observation, PollContext, SourceSpec, registry  # noqa: E402
from bot.status import Status  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "statuspage" / "github_operational.json"
SUMMARY_PATH = "/api/v2/summary.json"


def _payload() -> bytes:
    """A real captured summary.json, or a minimal one of the same shape if it is missing."""
    if FIXTURE.exists():
        return FIXTURE.read_bytes()
    components = [
        {"id": f"c{i}", "name": name, "status": "operational", "created_at": "2017-01-31T20:05:05.370Z",
         "updated_at": "2024-03-05T12:00:00.000Z", "position": i, "description": None, "showcase": False,
         "start_date": None, "group_id": None, "page_id": "kctbh9vrtdwd", "group": False, "only_show_if_degraded": False}
        for i, name in enumerate(["Git Operations", "API Requests", "Webhooks", "Issues", "Pull Requests",
                                  "Actions", "Packages", "Pages", "Codespaces", "Copilot"])
    ]
    return json.dumps({
        "page": {"id": "kctbh9vrtdwd", "name": "GitHub", "url": "https://www.githubstatus.com",
                 "time_zone": "Etc/UTC", "updated_at": "2024-03-05T12:00:00.000Z"},
        "components": components, "incidents": [], "scheduled_maintenances": [],
        "status": {"indicator": "none", "description": "All Systems Operational"},
    }).encode()


# -- the servers (separate process) ---------------------------------------------------------
def _serve_forever(count: int, conn: "multiprocessing.connection.Connection") -> None:
    body = _payload()

    async def summary(request: web.Request) -> web.Response:
        if not request.path.endswith(SUMMARY_PATH):
            return web.Response(status=404)
        return web.Response(body=body, content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/s/{tail:.*}", summary)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        ports = []
        for _ in range(count):
            site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
            await site.start()
            ports.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        conn.send(ports)
        await asyncio.Event().wait()

    asyncio.run(main())


# -- the clients ----------------------------------------------------------------------------
@dataclass
class Run:
    mode: str
    wall_s: float
    cpu_s: float
    failures: int


def _semaphores(urls: list[str], per_host: int) -> dict[str, asyncio.Semaphore]:
    return {u.split("/s/", 1)[0]: asyncio.Semaphore(per_host) for u in urls}


async def _baseline(bases: list[str], per_host: int) -> int:
    urls = [b + SUMMARY_PATH for b in bases]
    sems = _semaphores(urls, per_host)
    failures = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one(url: str) -> None:
            nonlocal failures
            async with sems[url.split("/s/", 1)[0]]:
                async with session.get(url) as resp:
                    await resp.read()
                    failures += resp.status != 200

        await asyncio.gather(*(one(u) for u in urls))
    return failures


async def _project(kind: str, bases: list[str], per_host: int) -> int:
    source_kind = registry()[kind]
    now = datetime.now(timezone.utc)
    options = {"forbid_text": "Something went wrong", "expect_status": "200-399"} if kind == "http" else {}
    urls = [b + SUMMARY_PATH for b in bases] if kind == "http" else bases
    async with HttpClient(per_host=per_host) as client:

        async def one(i: int, url: str) -> Observation:
            spec = SourceSpec(kind=kind, url=url, options=options)
            return await source_kind.poll(PollContext(service_id=f"svc{i}", spec=spec, fetcher=client, now=now))

        observations = await asyncio.gather(*(one(i, u) for i, u in enumerate(urls)))
    return sum(o.status is not Status.OPERATIONAL or o.error is not None for o in observations)


async def _parse_only(count: int) -> int:
    """The statuspage parser alone over ``count`` payloads: the part of the statuspage mode's
    cost that is parsing, not fetching (no network, no event loop work)."""
    from bot.sources.statuspage import parse

    body = _payload()
    now = datetime.now(timezone.utc)
    failures = 0
    for i in range(count):
        obs = parse(body, service_id=f"svc{i}", fetched_at=now, url="https://www.githubstatus.com")
        failures += obs.status is not Status.OPERATIONAL
    return failures


async def _measure(mode: str, work: Callable[[], Awaitable[int]]) -> Run:
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    failures = await work()
    return Run(mode, time.perf_counter() - wall0, time.process_time() - cpu0, failures)


async def _bench(bases: list[str], per_host: int, repeat: int) -> dict[str, Run]:
    modes: dict[str, Callable[[list[str]], Awaitable[int]]] = {"baseline": lambda b: _baseline(b, per_host)}
    modes["http"] = lambda b: _project("http", b, per_host)
    if "statuspage" in registry():
        modes["statuspage"] = lambda b: _project("statuspage", b, per_host)
    warm = bases[: min(200, len(bases))]
    for work in modes.values():  # warm up imports, allocators and the servers
        await work(warm)
    best: dict[str, Run] = {}
    for _ in range(repeat):
        for mode, work in modes.items():  # interleaved so drift hits every mode alike
            run = await _measure(mode, lambda: work(bases))
            if mode not in best or run.cpu_s < best[mode].cpu_s:
                best[mode] = run
    if "statuspage" in modes:
        best["(parse only)"] = await _measure("(parse only)", lambda: _parse_only(len(bases)))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="distinct status endpoints (default 10000)")
    parser.add_argument("--servers", type=int, default=8, help="loopback server ports (default 8)")
    parser.add_argument("--per-host", type=int, default=4, help="concurrent requests per port (default 4)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per mode; the cheapest counts (default 2)")
    args = parser.parse_args()

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("fork").Process(target=_serve_forever, args=(args.servers, child), daemon=True)
    server.start()
    try:
        ports = parent.recv()
        bases = [f"http://127.0.0.1:{ports[i % len(ports)]}/s/{i}" for i in range(args.n)]
        runs = asyncio.run(_bench(bases, args.per_host, args.repeat))
    finally:
        server.terminate()
        server.join(5)

    base = runs["baseline"]
    print(f"poll benchmark: {args.n} sources, {args.servers} loopback ports, {args.per_host} per host, "
          f"best of {args.repeat}; servers in a separate process (CPU is the client's)")
    print(f"{'mode':<12}{'wall s':>9}{'cpu s':>9}{'req/s':>10}{'cpu ×':>8}{'wall ×':>8}{'failed':>8}")
    for run in runs.values():
        print(f"{run.mode:<12}{run.wall_s:>9.2f}{run.cpu_s:>9.2f}{args.n / run.wall_s:>10.0f}"
              f"{run.cpu_s / base.cpu_s:>8.2f}{run.wall_s / base.wall_s:>8.2f}{run.failures:>8}")
    polled = [r for r in runs.values() if r.mode in ("http", "statuspage")]
    project = max(polled, key=lambda r: r.cpu_s)
    if "(parse only)" in runs:
        parse_cpu = runs["(parse only)"].cpu_s
        print(f"statuspage without its parser: {runs['statuspage'].cpu_s - parse_cpu:.2f} s CPU, "
              f"{(runs['statuspage'].cpu_s - parse_cpu) / base.cpu_s:.2f} × baseline "
              f"(parsing {args.n} summaries costs {parse_cpu:.2f} s)")
    print(json.dumps({
        "benchmark": "poll",
        "sources": args.n,
        "mode": project.mode,
        "wall_s": round(project.wall_s, 2),
        "cpu_s": round(project.cpu_s, 2),
        "baseline_wall_s": round(base.wall_s, 2),
        "baseline_cpu_s": round(base.cpu_s, 2),
        "cpu_ratio": round(project.cpu_s / base.cpu_s, 3),
        "modes": {r.mode: {"wall_s": round(r.wall_s, 2), "cpu_s": round(r.cpu_s, 2),
                           "cpu_ratio": round(r.cpu_s / base.cpu_s, 3), "wall_ratio": round(r.wall_s / base.wall_s, 3),
                           "failed": r.failures}
                  for r in runs.values()},
        "failed": sum(r.failures for r in polled) + base.failures,
    }))


if __name__ == "__main__":
    main()
