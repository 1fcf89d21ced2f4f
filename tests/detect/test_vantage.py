"""Vantage self-check (bot/detect/vantage.py): quorum truth table and once-only changes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.detect.vantage import VantageChangeKind, VantageState, assess

NOW = datetime(2024, 3, 5, 12, 0, tzinfo=timezone.utc)
MIN = timedelta(minutes=1)
CANARIES = ("cloudflare", "google", "quad9-dns", "wikipedia")


def results(failing: int, names: tuple[str, ...] = CANARIES) -> dict[str, bool]:
    return {name: i >= failing for i, name in enumerate(names)}


@pytest.mark.parametrize(
    "failing,total,blind",
    [
        (0, 4, False),
        (1, 4, False),
        (2, 4, False),  # half is not most
        (3, 4, True),
        (4, 4, True),
        (1, 3, False),
        (2, 3, True),
        (1, 1, True),
        (0, 0, False),  # self-check off
    ],
)
def test_quorum(failing: int, total: int, blind: bool) -> None:
    state, _ = assess(results(failing, CANARIES[:total]), VantageState(), NOW)
    assert state.blind is blind
    assert len(state.failing) == failing and state.total == total


def test_quorum_is_configurable() -> None:
    assert assess(results(1), VantageState(), NOW, quorum=0.2)[0].blind
    assert not assess(results(3), VantageState(), NOW, quorum=0.75)[0].blind


def test_degraded_once_and_restored_once() -> None:
    state, changes = VantageState(), []
    pattern = [0, 4, 4, 3, 4, 4, 1, 0, 0]
    for i, failing in enumerate(pattern):
        state, change = assess(results(failing), state, NOW + i * MIN)
        if change is not None:
            changes.append(change)
    assert [c.kind for c in changes] == [VantageChangeKind.DEGRADED, VantageChangeKind.RESTORED]
    degraded, restored = changes
    assert degraded.at == NOW + MIN and degraded.failing == tuple(sorted(CANARIES))
    assert restored.at == NOW + 6 * MIN and restored.duration == 5 * 60
    assert "monitoring degraded" in degraded.log_message() and "restored" in restored.log_message()
    assert state.since == NOW + 6 * MIN and not state.blind


def test_state_round_trips_through_dict() -> None:
    state, _ = assess(results(3), VantageState(), NOW)
    assert VantageState.from_dict(state.to_dict()) == state
    assert VantageState.from_dict({}) == VantageState()
