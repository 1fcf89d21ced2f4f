"""Sample incidents for render tests and golden files: the press story of a big X outage
(reports climbing to 25,800 at 12:51 UTC while the official page said all was well)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from bot.detect.model import Confidence, CrowdSignal, CrowdLevel, EventKind, Evidence, IncidentEvent, Verdict
from bot.notify.render import ServiceNames
from bot.notify.render.group import GroupLine, GroupView
from bot.sources.base import SourceRole
from bot.status import Status

UTC = timezone.utc
X = ServiceNames("x", "X", "إكس", status_url="https://api.twitterstat.us")
STARTED = datetime(2025, 3, 10, 12, 20, tzinfo=UTC)
OPENED_AT = datetime(2025, 3, 10, 12, 45, tzinfo=UTC)
ESCALATED_AT = datetime(2025, 3, 10, 13, 5, tzinfo=UTC)
PEAK_AT = datetime(2025, 3, 10, 12, 51, tzinfo=UTC)
RESOLVED_AT = datetime(2025, 3, 10, 15, 32, tzinfo=UTC)

OFFICIAL_OK = Evidence(SourceRole.OFFICIAL, "statuspage", Status.OPERATIONAL, official_url="https://api.twitterstat.us")
HTTP_503 = Evidence(
    SourceRole.PROBE, "http", Status.MAJOR_OUTAGE, since=STARTED, http_status=503, latency_ms=842.6, error_kind="http_status"
)
TCP_TIMEOUT = Evidence(SourceRole.PROBE, "tcp", Status.MAJOR_OUTAGE, since=STARTED, error_kind="timeout")
#: the press story's countries: "users in the US, Germany, Spain, France, India, Canada, Australia
#: and Britain could not log in"
COUNTRIES = ("US", "DE", "IN", "ES", "FR", "CA", "AU", "GB")
CROWD = Evidence(
    SourceRole.CROWD, "crowd", Status.DEGRADED, since=STARTED, reports=1240, usual=12.4, top_problem="login",
    top_problem_share=0.63, countries=COUNTRIES,
)
CROWD_PEAK = Evidence(
    SourceRole.CROWD, "crowd", Status.DEGRADED, since=STARTED, reports=18432, usual=12.4, top_problem="login", top_problem_share=0.71
)
OFFICIAL_MAJOR = Evidence(
    SourceRole.OFFICIAL,
    "statuspage",
    Status.MAJOR_OUTAGE,
    since=datetime(2025, 3, 10, 12, 58, tzinfo=UTC),
    official_title="Some users are having trouble accessing X @everyone",
    official_update=(
        "We are investigating reports of issues loading posts and logging in. "
        "Follow [our updates](https://evil.example/phish) <@&123456789012345678> for more."
    ),
    official_url="https://api.twitterstat.us/incidents/abc123",
)

ALERT = IncidentEvent(
    kind=EventKind.OPENED,
    service_id="x",
    incident_key="x-20250310-1220",
    at=OPENED_AT,
    status=Status.MAJOR_OUTAGE,
    confidence=Confidence.CONFIRMED,
    started_at=STARTED,
    evidence=(OFFICIAL_OK, HTTP_503, TCP_TIMEOUT, CROWD),
    unacknowledged=True,
    unacknowledged_since=STARTED,
    report_peak=1240,
    report_peak_at=OPENED_AT,
)

UPDATE = IncidentEvent(
    kind=EventKind.ESCALATED,
    service_id="x",
    incident_key="x-20250310-1220",
    at=ESCALATED_AT,
    status=Status.MAJOR_OUTAGE,
    confidence=Confidence.CONFIRMED,
    started_at=STARTED,
    evidence=(OFFICIAL_MAJOR, HTTP_503, CROWD_PEAK),
    official_update=OFFICIAL_MAJOR.official_update,
    report_peak=25800,
    report_peak_at=PEAK_AT,
    previous_status=Status.PARTIAL_OUTAGE,
)

RECOVERY = IncidentEvent(
    kind=EventKind.RESOLVED,
    service_id="x",
    incident_key="x-20250310-1220",
    at=RESOLVED_AT,
    status=Status.OPERATIONAL,
    confidence=None,
    started_at=STARTED,
    evidence=(
        Evidence(SourceRole.OFFICIAL, "statuspage", Status.OPERATIONAL, official_url="https://api.twitterstat.us/incidents/abc123"),
        Evidence(SourceRole.PROBE, "http", Status.OPERATIONAL, http_status=200, latency_ms=231.0),
    ),
    official_update="This incident has been resolved. All services are operating normally.",
    report_peak=25800,
    report_peak_at=PEAK_AT,
    resolved_at=RESOLVED_AT,
    previous_status=Status.MAJOR_OUTAGE,
    extra={"peak_status": "major_outage"},
)

VERDICT_OK = Verdict(
    service_id="x",
    status=Status.OPERATIONAL,
    confidence=None,
    at=RESOLVED_AT,
    evidence=(OFFICIAL_OK, Evidence(SourceRole.PROBE, "http", Status.OPERATIONAL, http_status=200, latency_ms=231.0)),
    official_status=Status.OPERATIONAL,
)
QUIET_CROWD = CrowdSignal(CrowdLevel.NONE, recent=3, usual=4.2, window=timedelta(minutes=30))

# national internet connectivity (IODA): what an alert may carry, and /isitdown's first line
from bot.detect.national import ContextKind, InternetContext, context_to_extra  # noqa: E402
from bot.sources.ioda import CountryOutage  # noqa: E402

NATIONAL_IQ = InternetContext(ContextKind.NATIONAL, ("IQ",), STARTED - timedelta(hours=8))
NATIONAL_TWO = InternetContext(ContextKind.NATIONAL, ("IQ", "SY"), STARTED - timedelta(days=1, hours=2))
INTERNATIONAL = InternetContext(ContextKind.INTERNATIONAL, COUNTRIES)
INTERNET_EXTRAS = tuple(context_to_extra(c) for c in (NATIONAL_IQ, NATIONAL_TWO, INTERNATIONAL))
IQ_OUTAGE = CountryOutage("IQ", STARTED - timedelta(hours=8, minutes=20), ("bgp", "ping-slash24"), "Iraq")


# -- a grouped outage: Cloudflare down, Discord and X with it (bot.notify.render.group) --------
CLOUDFLARE = ServiceNames("cloudflare", "Cloudflare", "كلاود فلير", status_url="https://www.cloudflarestatus.com")
DISCORD = ServiceNames("discord", "Discord", "ديسكورد", status_url="https://discordstatus.com")
GROUP_OPEN = GroupView(
    GroupLine(CLOUDFLARE, Status.MAJOR_OUTAGE, STARTED),
    (GroupLine(DISCORD, Status.PARTIAL_OUTAGE, STARTED + timedelta(minutes=4)), GroupLine(X, Status.MAJOR_OUTAGE, PEAK_AT)),
    over=False,
)
GROUP_RECOVERING = GroupView(
    GROUP_OPEN.provider,
    (replace(GROUP_OPEN.members[0], resolved_at=ESCALATED_AT), GROUP_OPEN.members[1]),
    over=False,
)
GROUP_OVER = GroupView(
    replace(GROUP_OPEN.provider, resolved_at=RESOLVED_AT - timedelta(minutes=20)),
    (replace(GROUP_OPEN.members[0], resolved_at=ESCALATED_AT), replace(GROUP_OPEN.members[1], resolved_at=RESOLVED_AT)),
    over=True,
)
