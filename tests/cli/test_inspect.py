"""``python -m bot inspect``: file payloads through the parsers, URLs through poll, CLI exits."""

from __future__ import annotations

import argparse
import json
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import AsyncIterator

import pytest

from bot.cli.inspect import InspectError, add_arguments, inspect, main
from bot.sources.base import FetchResult

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
AT = datetime(2023, 2, 2, 23, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("kind", "path", "status"),
    [
        ("statuspage", "statuspage/github_operational.json", "operational"),
        ("statuspage", "statuspage/github_major_outage.json", "major_outage"),
        ("statuspage", "statuspage/cloudamqp_maintenance.json", "maintenance"),
        ("statuspage", "statuspage/twilio_degraded.json", "degraded"),
        ("statusio", "statusio/docker_partial.json", "partial_outage"),
        ("slack", "slack/incident.json", "partial_outage"),
        ("gcloud", "gcloud/gcs_disruption_2021-07-27.json", "major_outage"),
        ("feed", "feed/aws_all_2023-02.rss", "degraded"),
        ("statuspage", "statuspage/malformed/nginx_502.html", "unknown"),
    ],
)
async def test_file_targets(kind: str, path: str, status: str) -> None:
    result = await inspect(kind, str(FIXTURES / path), now=AT)
    assert result["status"] == status
    assert result["source_kind"] == kind
    assert result["fetched_at"] == "2023-02-02T23:00:00+00:00"
    json.dumps(result)


async def test_file_target_with_options() -> None:
    result = await inspect("statuspage", str(FIXTURES / "statuspage/github_major_outage.json"), options={"components": ["GitHub Pages"]})
    assert result["status"] == "operational"


async def test_unknown_kind_and_bad_inputs() -> None:
    with pytest.raises(InspectError, match="unknown source kind 'nope'"):
        await inspect("nope", "x.json")
    with pytest.raises(InspectError, match="cannot read"):
        await inspect("statuspage", str(FIXTURES / "does-not-exist.json"))
    with pytest.raises(InspectError, match="components"):
        await inspect("statuspage", str(FIXTURES / "statuspage/github_operational.json"), options={"components": 3})


async def test_url_target_polls_through_the_factory() -> None:
    asked: list[str] = []

    class Fake:
        async def get(self, url: str, **_: object) -> FetchResult:
            asked.append(url)
            body = (FIXTURES / "statuspage/twilio_degraded.json").read_bytes()
            return FetchResult(url=url, status=200, body=body, latency_ms=42.0)

    @asynccontextmanager
    async def factory() -> AsyncIterator[Fake]:
        yield Fake()

    result = await inspect("statuspage", "https://status.twilio.com", fetcher_factory=factory, now=AT)  # type: ignore[arg-type]
    assert asked == ["https://status.twilio.com/api/v2/summary.json"]
    assert result["status"] == "degraded" and result["http_status"] == 200 and result["latency_ms"] == 42.0


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_cli_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(_args("feed", str(FIXTURES / "feed/aws_all_2023-02.rss"), "--at", "2023-02-02T23:00:00Z", "-o", "active_hours=6"))
    out = capsys.readouterr().out
    assert code == 0
    data = json.loads(out)
    assert data["status"] == "degraded" and data["incidents"][0]["title"].startswith("Informational message")


def test_cli_keeps_non_ascii(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args("statuspage", str(FIXTURES / "statuspage/cloudamqp_maintenance.json"))) == 0
    assert "“jellyfish”" in capsys.readouterr().out


def test_cli_unknown_kind_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args("nope", "x.json")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown source kind 'nope'" in err


def test_cli_bad_time_and_bad_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args("feed", "x.rss", "--at", "yesterday")) == 2
    assert main(_args("feed", "x.rss", "-o", "novalue")) == 2
    assert capsys.readouterr().err.count("inspect:") == 2
