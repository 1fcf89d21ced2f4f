"""Full garbage collections are timed into /metrics, and freezing takes objects out of them."""

from __future__ import annotations

import gc
import logging

import pytest

from bot.ops import metrics
from bot.ops.gcpause import GcPauses, freeze


def test_a_full_collection_is_timed_and_the_worst_is_exported() -> None:
    pauses = GcPauses().install()
    gc.disable()  # (only the collections this test asks for)
    try:
        junk = [[i] for i in range(200_000)]  # something for the collector to walk
        gc.collect(0)  # a young collection is not what stalls the loop: not counted
        assert pauses.worst == 0.0
        gc.collect(2)
        assert pauses.worst > 0.0
        del junk
    finally:
        gc.enable()
        pauses.uninstall()
    assert pauses not in gc.callbacks
    exported = metrics.render().decode()
    assert "outage_bot_gc_pause_max_seconds" in exported


def test_freezing_moves_what_is_alive_out_of_later_collections() -> None:
    kept = [[i] for i in range(50_000)]
    before = gc.get_freeze_count()
    try:
        frozen = freeze("test")
        assert frozen >= before + len(kept)  # every list alive now is out of the young and old generations
        assert all(not any(obj is kept for obj in gen) for gen in (gc.get_objects(0), gc.get_objects(1), gc.get_objects(2)))
    finally:
        gc.unfreeze()  # (the rest of the test session collects as usual)


def test_fewer_full_collections_leaves_the_young_generations_alone() -> None:
    from bot.ops.gcpause import fewer_full_collections

    before = gc.get_threshold()
    try:
        fewer_full_collections(250)
        assert gc.get_threshold() == (before[0], before[1], 250)
    finally:
        gc.set_threshold(*before)


def test_a_slow_full_collection_is_logged_once_a_minute_at_most(caplog: pytest.LogCaptureFixture) -> None:
    pauses = GcPauses()
    with caplog.at_level(logging.WARNING, logger="bot.ops.gcpause"):
        for _ in range(3):
            pauses("start", {"generation": 2})
            pauses._started = (pauses._started or 0.0) - 0.2  # (as if it had run for 200 ms)
            pauses("stop", {"generation": 2, "collected": 0})
    assert pauses.worst >= 0.2
    assert len([r for r in caplog.records if "stopped the loop" in r.getMessage()]) == 1
