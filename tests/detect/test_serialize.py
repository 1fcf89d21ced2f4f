"""Events survive the trip through the database's JSON column unchanged."""

from __future__ import annotations

import json

import pytest

from bot.detect.model import IncidentEvent
from bot.detect.serialize import event_from_dict, event_to_dict, verdict_to_dict
from tests.notify.samples import ALERT, RECOVERY, UPDATE, VERDICT_OK


@pytest.mark.parametrize("event", [ALERT, UPDATE, RECOVERY], ids=lambda e: e.kind.value)
def test_event_round_trips_through_json(event: IncidentEvent) -> None:
    payload = json.loads(json.dumps(event_to_dict(event)))
    assert event_from_dict(payload) == event
    assert event_from_dict(payload).duration == event.duration


def test_event_payload_is_plain_json_types() -> None:
    payload = event_to_dict(RECOVERY)
    assert payload["kind"] == "resolved"
    assert payload["resolved_at"] == RECOVERY.resolved_at.isoformat()  # type: ignore[union-attr]
    assert json.loads(json.dumps(payload)) == payload


def test_verdict_dump_names_status_and_evidence() -> None:
    dump = verdict_to_dict(VERDICT_OK)
    assert dump["status"] == VERDICT_OK.status.value
    assert len(dump["evidence"]) == len(VERDICT_OK.evidence)
    json.dumps(dump)


def test_a_probes_target_survives_the_trip() -> None:
    from dataclasses import replace

    from tests.notify.samples import HTTP_503

    event = replace(ALERT, evidence=(replace(HTTP_503, target="discord.com/api/v10/gateway"),))
    assert event_from_dict(json.loads(json.dumps(event_to_dict(event)))).evidence[0].target == "discord.com/api/v10/gateway"
