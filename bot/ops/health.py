"""``/healthz`` and ``/metrics`` on a small aiohttp server (started when ``HEALTH_PORT`` is set).

``/healthz`` answers 200 only when all three vital parts work — the Discord gateway is
connected, the database answers a cheap query on our own schema, and the scheduler polled
within two intervals — and 503 otherwise; its JSON body names each part and says which one is
failing, so an orchestrator's restart and an operator's ``curl`` tell the same story.
Informational checks (the vantage self-check's "monitoring degraded", the outbox backlog) are
shown in the body without changing the status code: a restart does not fix the internet.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping, Sequence

from aiohttp import web

from bot.ops import metrics

__all__ = ["HealthChecks", "build_app", "database_ping", "run_checks", "start_health_server"]

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 3.0  # a hung database must turn /healthz red, not hang it

#: a check: returns ``None``/``True`` when fine, ``False`` or a string (why) when failing, or
#: raises; may be sync or async
Check = Callable[[], Any]


async def database_ping() -> None:
    """One cheap query on a table our migrations create: fails when the database is
    unreachable *or* is not ours any more (a dropped or replaced database)."""
    from bot.db.models import KeyValue

    await KeyValue.all().limit(1).values_list("key", flat=True)


def _as_unix(value: datetime | float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


@dataclass(slots=True)
class HealthChecks:
    """What ``/healthz`` asks.

    ``gateway``: true when the Discord gateway is connected (e.g. ``lambda: bot.is_ready() and
    not bot.is_closed()``). ``last_poll``: when the scheduler last polled (datetime or Unix
    seconds; ``None`` = never). ``poll_interval``: the scheduler's interval in seconds.
    ``database``: the DB check (``database_ping`` by default). ``info``: name → callable
    returning JSON-able details shown in the body only. ``clock``: Unix seconds now.
    ``started_at``: a fresh process gets two intervals of grace before its first poll.
    ``stopped_tasks``: background tasks that ended on their own (``background`` fails).
    """

    gateway: Check
    last_poll: Callable[[], datetime | float | None]
    poll_interval: float
    database: Check = database_ping
    info: Mapping[str, Callable[[], Any]] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    started_at: float | None = None
    #: the names of background tasks that have stopped although the process has not (a
    #: delivery loop or crowd upkeep that died leaves the gateway and the scheduler green)
    stopped_tasks: Callable[[], Sequence[str]] = tuple

    def __post_init__(self) -> None:
        if self.started_at is None:
            self.started_at = self.clock()

    def scheduler(self) -> str | None:
        """Why the scheduler looks stalled, or ``None`` when it polled recently enough."""
        now = self.clock()
        limit = 2 * self.poll_interval
        last = _as_unix(self.last_poll())
        if last is None:
            waited = now - (self.started_at or now)
            return None if waited <= limit else f"no poll since start {waited:.0f}s ago (limit {limit:.0f}s)"
        age = now - last
        return None if age <= limit else f"last poll {age:.0f}s ago (limit {limit:.0f}s)"


async def _run_one(check: Check) -> tuple[bool, str | None]:
    try:
        result = check()
        if inspect.isawaitable(result):
            result = await asyncio.wait_for(result, CHECK_TIMEOUT)
    except asyncio.TimeoutError:
        return False, f"no answer within {CHECK_TIMEOUT:.0f}s"
    except Exception as exc:  # any failure of a part is the answer, not a 500
        return False, f"{type(exc).__name__}: {exc}"[:300]
    if result is None or result is True:
        return True, None
    if result is False:
        return False, "not ready"
    return False, str(result)[:300]


async def run_checks(checks: HealthChecks) -> tuple[bool, dict[str, Any]]:
    """Run every check; (healthy, JSON body)."""
    gateway, database = await asyncio.gather(_run_one(checks.gateway), _run_one(checks.database))
    scheduler_problem = checks.scheduler()
    stopped = list(checks.stopped_tasks())
    parts = {
        "gateway": gateway,
        "database": database,
        "scheduler": (scheduler_problem is None, scheduler_problem),
        "background": (not stopped, f"stopped: {', '.join(stopped)}" if stopped else None),
    }
    body: dict[str, Any] = {"checks": {}}
    for name, (ok, why) in parts.items():
        body["checks"][name] = {"ok": ok} | ({"error": why} if why else {})
    failing = [name for name, (ok, _) in parts.items() if not ok]
    body["status"] = "ok" if not failing else "failing"
    body["failing"] = failing
    info: dict[str, Any] = {}
    for name, read in checks.info.items():
        try:
            value = read()
            info[name] = await value if inspect.isawaitable(value) else value
        except Exception as exc:
            info[name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    if info:
        body["info"] = info
    return not failing, body


def build_app(checks: HealthChecks) -> web.Application:
    """The aiohttp application serving ``/healthz`` and ``/metrics``."""

    async def healthz(_request: web.Request) -> web.Response:
        healthy, body = await run_checks(checks)
        if not healthy:
            log.warning("health check failing: %s", ", ".join(f"{n} ({body['checks'][n].get('error')})" for n in body["failing"]))
        return web.json_response(body, status=200 if healthy else 503, dumps=_dumps)

    async def metrics_page(_request: web.Request) -> web.Response:
        response = web.Response(body=metrics.render())
        response.headers["Content-Type"] = metrics.CONTENT_TYPE
        return response

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    return app


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, default=str)


#: loopback unless told otherwise (``HEALTH_HOST``): the server is unauthenticated
DEFAULT_HOST = "127.0.0.1"


async def start_health_server(port: int, checks: HealthChecks, *, host: str = DEFAULT_HOST) -> web.AppRunner:
    """Serve ``/healthz`` and ``/metrics`` on ``host:port`` (port 0: any free port; read it
    from ``runner.addresses``). ``host`` is loopback by default: the endpoints are
    unauthenticated, so exposing them is the operator's choice (``HEALTH_HOST``). Stop with
    ``await runner.cleanup()``."""
    runner = web.AppRunner(build_app(checks), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("health server listening on %s", ", ".join(f"{a[0]}:{a[1]}" for a in runner.addresses))
    return runner
