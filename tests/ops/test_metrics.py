"""The bot's own metrics registry: names, labels, and that the helpers move the numbers."""

from __future__ import annotations

import logging
import math

import prometheus_client
import pytest

from bot.ops import metrics


def test_private_registry_not_the_global_one() -> None:
    assert metrics.REGISTRY is not prometheus_client.REGISTRY
    text = metrics.render().decode()
    assert "outage_bot_polls_total" in text or "# TYPE outage_bot_polls counter" in text
    assert "python_gc_objects_collected_total" not in text  # no default process collectors


def test_observe_poll_counts_outcomes_and_errors() -> None:
    ok = ("outage_bot_polls_total", {"kind": "m-test", "outcome": "ok"})
    err = ("outage_bot_polls_total", {"kind": "m-test", "outcome": "error"})
    nm = ("outage_bot_polls_total", {"kind": "m-test", "outcome": "not_modified"})
    by_code = ("outage_bot_poll_errors_total", {"kind": "m-test", "error": "dns"})
    before = [metrics.value(*s) for s in (ok, err, nm, by_code)]
    metrics.observe_poll("m-test", at=1234.0)
    metrics.observe_poll("m-test", "dns", at=1240.0)
    metrics.observe_poll("m-test", not_modified=True, at=1250.0)
    after = [metrics.value(*s) for s in (ok, err, nm, by_code)]
    assert [a - b for a, b in zip(after, before)] == [1, 1, 1, 1]
    assert metrics.value("outage_bot_last_poll_timestamp_seconds") == 1250.0


def test_command_latency_histogram_times_even_on_error() -> None:
    labels = {"command": "m-isitdown"}
    count = metrics.value("outage_bot_command_latency_seconds_count", labels)
    with metrics.time_command("m-isitdown"):
        pass
    with pytest.raises(ValueError):
        with metrics.time_command("m-isitdown"):
            raise ValueError("boom")
    assert metrics.value("outage_bot_command_latency_seconds_count", labels) == count + 2
    assert metrics.value("outage_bot_command_latency_seconds_bucket", labels | {"le": "+Inf"}) == count + 2


def test_gateway_latency_read_at_scrape_time() -> None:
    latency = {"value": 0.042}
    metrics.bind_gateway_latency(lambda: latency["value"])
    assert metrics.value("outage_bot_gateway_latency_seconds") == pytest.approx(0.042)
    latency["value"] = 0.1
    assert metrics.value("outage_bot_gateway_latency_seconds") == pytest.approx(0.1)
    latency["value"] = math.inf  # discord.py before the first heartbeat ACK
    assert math.isnan(metrics.value("outage_bot_gateway_latency_seconds"))


def test_discord_429_log_lines_are_counted() -> None:
    metrics.install_discord_429_counter()
    metrics.install_discord_429_counter()  # idempotent: one filter, one count per 429
    logger = logging.getLogger("discord.http")
    before = metrics.value("outage_bot_discord_rate_limited_total", {"handler": "library"})
    logger.warning("We are being rate limited. %s %s responded with 429. Retrying in %.2f seconds.", "POST", "/x", 0.5)
    logger.warning("Global rate limit has been hit. Retrying in %.2f seconds.", 0.5)  # same 429, not a second one
    logger.debug("POST /x has received {}")
    assert metrics.value("outage_bot_discord_rate_limited_total", {"handler": "library"}) == before + 1
