"""Every official kind's reading of every captured payload, pinned: the observation each parser
makes of each fixture (with and without a name filter) must stay exactly what
``tests/golden/observations.json`` holds. Refactors of the toolkit or a kind that change any
reading fail here; ``UPDATE_GOLDEN=1`` rewrites the file (read its diff before committing)."""

from __future__ import annotations

import json
import os
from dataclasses import fields, is_dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.sources import registry
from bot.sources._toolkit.detect import official_kinds

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
GOLDEN = ROOT / "golden" / "observations.json"
#: every registered official kind (a new kind is pinned from its first fixture on)
KINDS = tuple(sorted(kind.name for kind in official_kinds()))
FILTERS = ({}, {"components": ["Git Operations", "API Requests"]}, {"services": ["Messaging", "Почта iCloud", "Destiny 2"]}, {"products": ["Compute Engine"]})
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


def readings() -> dict[str, object]:
    out: dict[str, object] = {}
    for kind in KINDS:
        parse = registry()[kind].parse  # type: ignore[attr-defined]
        for path in sorted(FIXTURES.rglob("*")):
            if not path.is_file() or path.suffix not in (".json", ".xml", ".rss", ".atom"):
                continue
            for options in FILTERS:
                obs = parse(path.read_bytes(), service_id="s", fetched_at=NOW, url="https://example.com", **options)
                out[f"{kind}|{path.relative_to(FIXTURES)}|{sorted(options)}"] = obs.to_dict()
    return out


def test_every_kind_reads_every_fixture_as_pinned() -> None:
    got = json.loads(json.dumps(readings(), sort_keys=True, default=str))
    if os.environ.get("UPDATE_GOLDEN") == "1" and json.loads(GOLDEN.read_text(encoding="utf-8")) != got:
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        pytest.fail(f"rewrote {GOLDEN.name}: read its diff, then run again without UPDATE_GOLDEN")  # never a silent pass
    pinned = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert len(pinned) >= 400
    changed = sorted(k for k in pinned.keys() | got.keys() if pinned.get(k) != got.get(k))
    assert not changed, f"{len(changed)} readings changed, e.g. {changed[:5]}"


def _generic(value: object) -> object:
    """What a field-agnostic serialiser makes of a value (enums as values, datetimes in ISO)."""
    from enum import Enum

    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _generic(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_generic(v) for v in value]
    return value


def test_the_hand_written_to_dict_misses_no_field() -> None:
    """``Observation.to_dict`` is written field by field (``asdict`` was a hot spot); a field
    added to any of its dataclasses and forgotten there would be silently dropped from what a
    restart reloads. Compared with a field-agnostic walk over every fixture's reading, and over
    one with every optional part filled."""
    from bot.sources.base import Component, IncidentInfo, Maintenance, Observation, SourceError, SourceRole
    from bot.status import Status

    full = Observation(
        service_id="s", source_kind="statuspage", status=Status.MAJOR_OUTAGE, fetched_at=NOW, role=SourceRole.PROBE,
        components=(Component("API", Status.DEGRADED),),
        incidents=(IncidentInfo("i1", "Down", Status.MAJOR_OUTAGE, "investigating", "https://x", "We look", NOW, NOW),),
        maintenances=(Maintenance("m1", "Upgrade", NOW, NOW, True, "https://m"),),
        latency_ms=12.5, http_status=503, error=SourceError("http_status", "503"), url="https://x",
        description="Down", component_names=("API",),
    )  # fmt: skip
    observations = [full]
    for kind in KINDS:
        parse = registry()[kind].parse  # type: ignore[attr-defined]
        for path in sorted(FIXTURES.joinpath(kind).rglob("*")):
            if path.is_file():
                observations.append(parse(path.read_bytes(), service_id="s", fetched_at=NOW, url="https://example.com"))
    for obs in observations:
        assert obs.to_dict() == _generic(obs)
        assert Observation.from_dict(json.loads(json.dumps(obs.to_dict()))) == obs
