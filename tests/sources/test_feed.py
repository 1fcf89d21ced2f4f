"""RSS/Atom feed parser on real Statuspage and AWS feeds; time is passed in."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from bot.sources.base import FetchResult, Observation, PollContext, SourceSpec
from bot.sources.feed import FeedKind, parse
from bot.status import Status

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feed"
MALFORMED = Path(__file__).resolve().parents[1] / "fixtures" / "statuspage" / "malformed"
JUL_5 = datetime(2023, 7, 5, 5, 0, tzinfo=timezone.utc)


def read(name: str, at: datetime, **options: object) -> Observation:
    return parse((FIXTURES / name).read_bytes(), service_id="svc", fetched_at=at, **options)


def test_statuspage_history_all_resolved_is_operational() -> None:
    obs = read("statuspage_history_streamyard.rss", JUL_5)
    assert obs.status is Status.OPERATIONAL and obs.incidents == ()
    assert obs.url == "https://status.streamyard.com"
    assert obs.description == "StreamYard Status - Incident History"


def test_statuspage_history_open_item_is_active() -> None:
    obs = read("statuspage_history_streamyard_active_derived.rss", JUL_5)
    assert obs.status is Status.PARTIAL_OUTAGE  # "experiencing an outage"
    (inc,) = obs.incidents
    assert inc.title == "StreamYard On-Air Issue"
    assert inc.status == "identified"
    assert inc.latest_update == "One of our cloud providers is experiencing an outage. This is causing issues with On-Air Webinars."
    assert inc.url == "https://status.streamyard.com/incidents/6pz1jst84ctl"
    assert inc.updated_at == datetime(2023, 7, 5, 4, 15, 35, tzinfo=timezone.utc)


def test_open_item_stops_counting_after_active_hours() -> None:
    later = datetime(2023, 7, 5, 11, 0, tzinfo=timezone.utc)
    assert read("statuspage_history_streamyard_active_derived.rss", later).status is Status.OPERATIONAL
    assert read("statuspage_history_streamyard_active_derived.rss", later, active_hours=12).status is Status.PARTIAL_OUTAGE


def test_aws_open_informational_message_is_degraded() -> None:
    obs = read("aws_all_2023-02.rss", datetime(2023, 2, 2, 23, 0, tzinfo=timezone.utc))
    assert obs.status is Status.DEGRADED  # "Increased error rates"
    (inc,) = obs.incidents
    assert inc.id == "http://status.aws.amazon.com/#billingconsole_1675376364"
    assert inc.title.startswith("Informational message: Increased error rates")
    assert inc.latest_update.startswith("We are currently seeing early signs of recovery")
    assert inc.updated_at == datetime(2023, 2, 2, 22, 19, 24, tzinfo=timezone.utc)


def test_aws_feed_at_build_time_is_operational() -> None:
    obs = read("aws_all_2023-02.rss", datetime(2023, 2, 13, 8, 5, 51, tzinfo=timezone.utc))
    assert obs.status is Status.OPERATIONAL and obs.incidents == ()


def test_aws_later_resolved_item_closes_the_group() -> None:
    payload = (FIXTURES / "aws_all_2023-02.rss").read_text().replace(
        "#rds-us-east-1_1676072880", "#billingconsole_1676072880"
    )
    obs = parse(payload.encode(), service_id="aws", fetched_at=datetime(2023, 2, 10, 23, 50, tzinfo=timezone.utc), active_hours=400)
    assert obs.status is Status.OPERATIONAL


def test_malformed_feeds() -> None:
    for payload in ((MALFORMED / "nginx_502.html").read_bytes(), b"", b"not xml at all", b'{"json": true}'):
        obs = parse(payload, service_id="svc", fetched_at=JUL_5)
        assert obs.status is Status.UNKNOWN and obs.error.kind == "parse", payload


def test_bytes_that_look_like_a_path_are_not_opened() -> None:
    obs = parse(b"/etc/hostname", service_id="svc", fetched_at=JUL_5)
    assert obs.status is Status.UNKNOWN and obs.error.kind == "parse"


async def test_poll_fetches_the_feed_url() -> None:
    urls: list[str] = []

    class One:
        async def get(self, url: str, **_: object) -> FetchResult:
            urls.append(url)
            return FetchResult(url=url, status=200, body=(FIXTURES / "aws_all_2023-02.rss").read_bytes())

    spec = SourceSpec(kind="feed", url="https://status.aws.amazon.com/rss/all.rss")
    obs = await FeedKind.poll(PollContext(service_id="aws", spec=spec, fetcher=One(), now=datetime(2023, 2, 2, 23, 0, tzinfo=timezone.utc)))  # type: ignore[arg-type]
    assert urls == ["https://status.aws.amazon.com/rss/all.rss"] and obs.status is Status.DEGRADED
    assert FeedKind.validate_options({"active_hours": 0}) == ["active_hours: must be a positive number of hours"]
