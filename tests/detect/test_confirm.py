"""Fast confirmation (bot/detect/confirm.py): the re-check schedule and what it buys."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.detect.confirm import ConfirmConfig, count_failures, next_check
from bot.detect.fusion import fuse
from bot.detect.incident import IncidentState, step
from bot.detect.model import EventKind
from bot.sources.base import Observation, SourceRole
from bot.status import Status

NOW = datetime(2024, 3, 5, 12, 0, tzinfo=timezone.utc)
S = timedelta(seconds=1)


@pytest.mark.parametrize(
    "failures,expected",
    [
        (0, 60 * S),  # healthy: the regular interval
        (1, 10 * S),  # first failure: look again soon
        (2, 10 * S),
        (3, 10 * S),  # third and last re-check
        (4, 60 * S),  # burst spent: back to the regular interval
        (40, 60 * S),
    ],
)
def test_schedule(failures: int, expected: timedelta) -> None:
    assert next_check(failures, NOW, ConfirmConfig()) == NOW + expected


def test_schedule_is_configurable_and_never_later_than_the_regular_poll() -> None:
    config = ConfirmConfig(recheck_every=5 * S, max_rechecks=1)
    assert next_check(1, NOW, config) == NOW + 5 * S
    assert next_check(2, NOW, config) == NOW + 60 * S
    assert next_check(1, NOW, ConfirmConfig(), interval=4 * S) == NOW + 4 * S
    assert next_check(0, NOW, ConfirmConfig(), interval=300 * S) == NOW + 300 * S
    with pytest.raises(ValueError):
        ConfirmConfig(recheck_every=timedelta(0))


def reading(status: Status, at: datetime) -> Observation:
    return Observation("x", "http", status, at, role=SourceRole.PROBE, url="https://x.com/")


def test_count_failures() -> None:
    assert count_failures(0, reading(Status.MAJOR_OUTAGE, NOW)) == 1
    assert count_failures(2, reading(Status.DEGRADED, NOW)) == 3
    assert count_failures(2, reading(Status.UNKNOWN, NOW)) == 2
    assert count_failures(2, reading(Status.OPERATIONAL, NOW)) == 0


def test_probe_only_outage_is_confirmed_by_the_rechecks_within_30_seconds() -> None:
    """Drive schedule → reading → fusion → state machine with a simulated clock."""
    down_from = NOW + 30 * S  # the service dies between two regular polls
    t, failures, state = NOW, 0, IncidentState("x")
    opened_at: datetime | None = None
    first_failure_at: datetime | None = None
    while t < NOW + 5 * 60 * S and opened_at is None:
        obs = reading(Status.MAJOR_OUTAGE if t >= down_from else Status.OPERATIONAL, t)
        failures = count_failures(failures, obs)
        if failures == 1:
            first_failure_at = t
        state, events = step(state, fuse("x", [obs], None, t), t)
        if any(e.kind is EventKind.OPENED for e in events):
            opened_at = t
        t = next_check(failures, t, ConfirmConfig())
    assert first_failure_at == NOW + 60 * S  # seen at the next regular poll
    assert opened_at is not None and opened_at - first_failure_at == 20 * S
    assert opened_at - down_from < 60 * S
