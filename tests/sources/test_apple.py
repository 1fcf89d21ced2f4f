"""bot/sources/apple.py on Apple System Status files captured from the live pages (provenance in
tests/fixtures/SOURCES.md)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.sources import registry
from bot.sources.apple import PAGE, parse
from bot.status import Status

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "apple"
UTC = timezone.utc
OUTAGE_2022_03_21 = FIXTURES / "system_status_ru_2022-03-21_outage_ongoing_onflow.json"
ISSUE_2022_07_28 = FIXTURES / "developer_status_en_2022-07-28_issue_ongoing_onflow.json"


def read(path: Path, at: datetime, **options: object) -> object:
    return parse(path.read_bytes(), service_id="icloud", fetched_at=at, **options)


def test_the_march_2022_outage_is_one_incident_per_message_not_per_service() -> None:
    obs = read(OUTAGE_2022_03_21, datetime(2022, 3, 21, 17, 30, tzinfo=UTC))
    assert obs.status is Status.MAJOR_OUTAGE and obs.error is None  # type: ignore[attr-defined]
    # 18 services carry an ongoing outage, posted as 4 messages; the resolved one is ignored
    assert len(obs.incidents) == 4  # type: ignore[attr-defined]
    assert len(obs.components) == 18  # type: ignore[attr-defined]
    icloud = next(i for i in obs.incidents if "Почта iCloud" in i.title)  # type: ignore[attr-defined]
    assert icloud.started_at == datetime.fromtimestamp(1647880020, tz=UTC) and icloud.url == PAGE
    assert not any("Активация" in c.name for c in obs.components)  # type: ignore[attr-defined]


def test_the_services_option_narrows_the_reading() -> None:
    at = datetime(2022, 3, 21, 17, 30, tzinfo=UTC)
    mail = read(OUTAGE_2022_03_21, at, services=["Почта iCloud"])
    assert mail.status is Status.MAJOR_OUTAGE and [c.name for c in mail.components] == ["Почта iCloud"]  # type: ignore[attr-defined]
    untouched = read(OUTAGE_2022_03_21, at, services=["Активация устройств с iOS"])  # resolved earlier that day
    assert untouched.status is Status.OPERATIONAL and untouched.incidents == ()  # type: ignore[attr-defined]


def test_an_ongoing_issue_is_a_partial_outage_with_padded_names_trimmed() -> None:
    obs = read(ISSUE_2022_07_28, datetime(2022, 7, 27, 18, 0, tzinfo=UTC), services=["App Store Connect - App Processing"])
    assert obs.status is Status.PARTIAL_OUTAGE  # type: ignore[attr-defined]
    [incident] = obs.incidents  # type: ignore[attr-defined]
    assert incident.title == "App Store Connect - App Processing" and "working to resolve" in (incident.latest_update or "")


@pytest.mark.parametrize(
    "name",
    [
        "developer_status_en_2022-06-16_onflow.json",  # a resolved issue only
        "developer_status_en_2022-07-12_maintenance_completed_onflow.json",  # a completed maintenance
        "developer_status_en_2020-02_testflight_issue_resolved_manzo.json",  # minified, Apple's key order
    ],
)
def test_finished_events_leave_the_page_operational(name: str) -> None:
    obs = read(FIXTURES / name, datetime(2022, 7, 28, tzinfo=UTC))
    assert obs.status is Status.OPERATIONAL and obs.incidents == () and obs.maintenances == () and obs.error is None  # type: ignore[attr-defined]


def test_the_live_script_wrapper_is_read_and_garbage_is_a_clear_error() -> None:
    # the live file is the same JSON inside jsonCallback(…); (the capture had it removed)
    wrapped = b"jsonCallback(" + OUTAGE_2022_03_21.read_bytes() + b");\n"
    obs = parse(wrapped, service_id="icloud", fetched_at=datetime(2022, 3, 21, 17, 30, tzinfo=UTC))
    assert obs.status is Status.MAJOR_OUTAGE
    broken = parse(b"<html>maintenance</html>", service_id="icloud", fetched_at=datetime(2022, 3, 21, tzinfo=UTC))
    assert broken.status is Status.UNKNOWN and broken.error is not None and broken.error.kind == "parse"


def test_another_formats_services_list_is_not_read_as_apples() -> None:
    statuspal = (FIXTURES.parent / "statuspal" / "v2_summary_maslak_2022-12_major_linuxfabrik.json").read_bytes()
    obs = parse(statuspal, service_id="icloud", fetched_at=datetime(2022, 12, 15, 17, 0, tzinfo=UTC))
    assert obs.status is Status.UNKNOWN and obs.error is not None and "serviceName" in obs.error.message


def test_the_kind_is_registered_and_validates_its_option() -> None:
    kind = registry()["apple"]
    assert kind.validate_options({"services": ["iCloud Mail"]}) == []
    assert kind.validate_options({"services": "iCloud Mail"}) == ["services: must be a non-empty list of names"]
    assert kind.validate_options({"page_id": "x"}) == ["page_id: unknown option for kind 'apple'"]
