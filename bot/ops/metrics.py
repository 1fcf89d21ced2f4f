"""The bot's Prometheus metrics, on a registry of its own.

A private ``CollectorRegistry`` (not prometheus-client's global one) so tests can read values
without cross-talk from other libraries, and ``/metrics`` shows only what this bot exports.
Other modules import this module and call the objects directly, e.g.::

    from bot.ops import metrics
    metrics.polls.labels(kind="statuspage", outcome="ok").inc()
    metrics.poll_errors.labels(kind="http", error="timeout").inc()
    metrics.open_incidents.set(3)
    metrics.deliveries.labels(outcome="sent").inc()
    metrics.deliveries_pending.set(12)
    metrics.discord_429s.labels(handler="outbox").inc()
    metrics.discord_invalid_requests.labels(status="429").inc()
    metrics.discord_invalid_requests_window.set(12)
    metrics.discord_global_limits.inc()
    metrics.gateway_latency.set(0.042)          # or bind_gateway_latency(lambda: bot.latency)
    with metrics.time_command("isitdown"): ...

No I/O here; ``render()`` produces the text ``/metrics`` serves.
"""

from __future__ import annotations

import logging
import math
import time
from contextlib import contextmanager
from typing import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = [
    "CONTENT_TYPE",
    "REGISTRY",
    "bind_gateway_latency",
    "command_latency",
    "deliveries",
    "deliveries_pending",
    "discord_429s",
    "discord_global_limits",
    "discord_invalid_requests",
    "discord_invalid_requests_window",
    "gateway_latency",
    "install_discord_429_counter",
    "last_poll",
    "observe_poll",
    "open_incidents",
    "poll_errors",
    "polls",
    "render",
    "time_command",
    "value",
]

NAMESPACE = "outage_bot"
CONTENT_TYPE = CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)

polls = Counter(
    "polls", "Source polls, by source kind and outcome (ok, error, not_modified).",
    ["kind", "outcome"], namespace=NAMESPACE, registry=REGISTRY,
)
poll_errors = Counter(
    "poll_errors", "Failed source polls, by source kind and error code (timeout, dns, http_status …).",
    ["kind", "error"], namespace=NAMESPACE, registry=REGISTRY,
)
last_poll = Gauge(
    "last_poll_timestamp_seconds", "Unix time of the scheduler's last poll round.",
    namespace=NAMESPACE, registry=REGISTRY,
)
open_incidents = Gauge(
    "open_incidents", "Incidents currently open (a service whose verdict is not operational).",
    namespace=NAMESPACE, registry=REGISTRY,
)
poller_leader = Gauge(
    "poller_leader", "1 while this process is the elected poller (it polls and detects), else 0.",
    namespace=NAMESPACE, registry=REGISTRY,
)
deliveries_pending = Gauge(
    "deliveries_pending", "Delivery rows waiting in the outbox.",
    namespace=NAMESPACE, registry=REGISTRY,
)
deliveries = Counter(
    "deliveries", "Deliveries finished, by outcome (sent, failed, dropped).",
    ["outcome"], namespace=NAMESPACE, registry=REGISTRY,
)
discord_429s = Counter(
    "discord_rate_limited", "HTTP 429 answers from Discord, by who handled them: library (discord.py "
    "retried it) or outbox (it reached our delivery worker).",
    ["handler"], namespace=NAMESPACE, registry=REGISTRY,
)
hub_publishes = Counter(
    "hub_publishes", "Follow delivery: alerts published in a hub announcement channel, and alerts "
    "held back because the hub's hourly publish budget was spent (outcome published|waited).",
    ["outcome"], namespace=NAMESPACE, registry=REGISTRY,
)
discord_invalid_requests = Counter(
    "discord_invalid_requests", "Answers Discord counts towards its invalid-request ban (10,000 in 10 "
    "minutes): 401, 403, and 429 except X-RateLimit-Scope: shared; by status.",
    ["status"], namespace=NAMESPACE, registry=REGISTRY,
)
discord_invalid_requests_window = Gauge(
    "discord_invalid_requests_10m", "Invalid Discord requests in the last 10 minutes (the ban is at 10,000).",
    namespace=NAMESPACE, registry=REGISTRY,
)
discord_global_limits = Counter(
    "discord_global_rate_limits", "Global rate limits Discord announced; every send of the process waited "
    "each one out.",
    namespace=NAMESPACE, registry=REGISTRY,
)
gateway_latency = Gauge(
    "gateway_latency_seconds", "Discord gateway heartbeat latency (NaN before the first ACK).",
    namespace=NAMESPACE, registry=REGISTRY,
)
event_loop_lag = Histogram(
    "event_loop_lag_seconds", "How late the event loop woke a 100 ms sleep (start-up included).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5), namespace=NAMESPACE, registry=REGISTRY,
)
event_loop_lag_max = Gauge(
    "event_loop_lag_max_seconds", "The worst event-loop lag since the process started.",
    namespace=NAMESPACE, registry=REGISTRY,
)
gc_pause_max = Gauge(
    "gc_pause_max_seconds", "The longest full garbage collection since the process started (the loop stops meanwhile).",
    namespace=NAMESPACE, registry=REGISTRY,
)
command_latency = Histogram(
    "command_latency_seconds", "Slash command handling time, by command name.",
    ["command"], namespace=NAMESPACE, registry=REGISTRY,
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, math.inf),
)


def observe_poll(kind: str, error: str | None = None, *, not_modified: bool = False, at: float | None = None) -> None:
    """Count one poll of a source of ``kind``; ``error`` is the ``SourceError.kind`` when it
    failed. ``at`` (Unix seconds, default now) updates the last-poll timestamp."""
    outcome = "error" if error else ("not_modified" if not_modified else "ok")
    polls.labels(kind=kind, outcome=outcome).inc()
    if error:
        poll_errors.labels(kind=kind, error=error).inc()
    last_poll.set(time.time() if at is None else at)


@contextmanager
def time_command(name: str) -> Iterator[None]:
    """Time a slash command's handler into ``command_latency`` (also when it raises)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        command_latency.labels(command=name).observe(time.perf_counter() - started)


def bind_gateway_latency(read: Callable[[], float]) -> None:
    """Read the gateway latency at scrape time (e.g. ``lambda: bot.latency``); a non-finite
    value (discord.py's ``inf`` before the first heartbeat) is exported as NaN."""

    def _read() -> float:
        try:
            latency = float(read())
        except Exception:  # a scrape must never fail because the bot is shutting down
            return math.nan
        return latency if math.isfinite(latency) else math.nan

    gateway_latency.set_function(_read)


class _RateLimitLogCounter(logging.Filter):
    """Counts discord.py's own 429 log lines (its HTTP client retries 429s internally, so the
    outbox never sees those); never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg if isinstance(record.msg, str) else ""
        if message.startswith("We are being rate limited."):  # logged once per 429 received
            discord_429s.labels(handler="library").inc()
        return True


_RATE_LIMIT_FILTER = _RateLimitLogCounter()


def install_discord_429_counter(logger_name: str = "discord.http") -> None:
    """Attach the 429 counter to discord.py's HTTP logger (idempotent)."""
    logger = logging.getLogger(logger_name)
    if _RATE_LIMIT_FILTER not in logger.filters:
        logger.addFilter(_RATE_LIMIT_FILTER)


def render() -> bytes:
    """The Prometheus text exposition of this registry."""
    return generate_latest(REGISTRY)


def value(name: str, labels: dict[str, str] | None = None) -> float:
    """The current value of one sample (0.0 when absent) — for tests and ``/healthz``."""
    found = REGISTRY.get_sample_value(name, labels or {})
    return 0.0 if found is None else found
