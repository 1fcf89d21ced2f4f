"""Property tests: no payload makes an official-source parser raise or return anything but
an Observation of its own kind (random bytes, random JSON-ish trees, mutated real fixtures)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.sources._toolkit.detect import official_kinds
from bot.sources.base import Observation
from bot.status import Status

#: every official kind's parser, from the registry (a new kind is fuzzed without being listed)
PARSERS = {kind.name: kind.parse for kind in official_kinds()}
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOW = datetime(2024, 1, 1, tzinfo=timezone.utc)

scalars = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=20)
KEYS = st.sampled_from(
    ["status", "indicator", "components", "incidents", "scheduled_maintenances", "name", "impact", "id",
     "incident_updates", "result", "status_overall", "status_code", "messages", "maintenance", "active",
     "active_incidents", "type", "services", "notes", "end", "severity", "affected_products", "title",
     "most_recent_update", "body", "created_at", "scheduled_for", "datetime", "page", "url", "data", "included",
     "attributes", "aggregate_state", "relationships", "affected_resources", "report_type", "activeIncidents",
     "activeMaintenances", "events", "eventStatus", "statusType"]
) | st.text(max_size=8)
json_trees = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(KEYS, inner, max_size=6), max_leaves=40)


def check(kind: str, payload: bytes) -> Observation:
    obs = PARSERS[kind](payload, service_id="svc", fetched_at=NOW)
    assert isinstance(obs, Observation)
    assert obs.source_kind == kind and obs.service_id == "svc" and obs.fetched_at == NOW
    assert isinstance(obs.status, Status)
    if obs.status is Status.UNKNOWN:
        assert obs.error is not None and obs.error.message
    json.dumps(obs.to_dict())  # always serialisable for inspect/logs
    return obs


@pytest.mark.parametrize("kind", sorted(PARSERS))
@given(payload=st.binary(max_size=300))
@settings(max_examples=60, deadline=None)
def test_random_bytes(kind: str, payload: bytes) -> None:
    check(kind, payload)


@pytest.mark.parametrize("kind", sorted(PARSERS))
@given(tree=json_trees)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_json_structures(kind: str, tree: object) -> None:
    check(kind, json.dumps(tree).encode())


def _fixture_docs() -> list[tuple[str, object]]:
    docs = []
    for kind in sorted(PARSERS):  # every kind's real captures (``tests/fixtures/<kind>/``)
        for path in sorted((FIXTURES / kind).glob("*.json")):
            docs.append((kind, json.loads(path.read_text())))
    return docs


def _mutate(doc: object, path: list[int], replacement: object) -> object:
    """Replace one node of ``doc`` (chosen by ``path`` indices) with ``replacement``."""
    if not path:
        return replacement
    if isinstance(doc, dict) and doc:
        keys = sorted(doc)
        key = keys[path[0] % len(keys)]
        return {**doc, key: _mutate(doc[key], path[1:], replacement)}
    if isinstance(doc, list) and doc:
        i = path[0] % len(doc)
        return doc[:i] + [_mutate(doc[i], path[1:], replacement)] + doc[i + 1 :]
    return replacement


@given(
    which=st.integers(min_value=0),
    path=st.lists(st.integers(min_value=0, max_value=50), max_size=6),
    replacement=json_trees,
)
@settings(max_examples=300, deadline=None)
def test_mutated_real_payloads(which: int, path: list[int], replacement: object) -> None:
    docs = _fixture_docs()
    kind, doc = docs[which % len(docs)]
    check(kind, json.dumps(_mutate(doc, path, replacement)).encode())


@given(cut=st.integers(min_value=0, max_value=4000))
@settings(max_examples=60, deadline=None)
def test_truncated_feeds(cut: int) -> None:
    for path in sorted((FIXTURES / "feed").glob("*.rss")):
        check("feed", path.read_bytes()[:cut])
