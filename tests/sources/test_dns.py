"""The ``dns`` probe kind through the real HttpClient's (injected) resolver."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from bot.net.client import HttpClient
from bot.sources.base import Observation, PollContext, SourceRole, SourceSpec, get_kind
from bot.sources.dns import DnsKind
from bot.status import Status
from tests.loopback import StubResolver

NOW = datetime(2024, 3, 5, 12, 51, tzinfo=timezone.utc)


async def poll(client: HttpClient, url: str, **options: object) -> Observation:
    spec = SourceSpec(kind="dns", url=url, options=dict(options))
    return await DnsKind.poll(PollContext(service_id="facebook", spec=spec, fetcher=client, now=NOW))


def test_registered() -> None:
    assert get_kind("dns") is DnsKind and DnsKind.role is SourceRole.PROBE


async def test_resolving_name_is_operational() -> None:
    resolver = StubResolver({"facebook.com": ["157.240.1.35", "2a03:2880:f10c:83:face:b00c:0:25de"]})
    async with HttpClient(resolver=resolver) as client:
        obs = await poll(client, "dns://facebook.com")
    assert obs.status is Status.OPERATIONAL and obs.error is None
    assert obs.description == "157.240.1.35, 2a03:2880:f10c:83:face:b00c:0:25de"
    assert resolver.calls["facebook.com"] == 1


async def test_nxdomain_is_major_outage() -> None:
    async with HttpClient(resolver=StubResolver({})) as client:
        obs = await poll(client, "dns://facebook.com")
    assert obs.status is Status.MAJOR_OUTAGE and obs.error is not None and obs.error.kind == "dns"


async def test_resolver_timeout_is_major_outage() -> None:
    async def stuck(host: str) -> list[str]:
        await asyncio.Event().wait()
        return []

    async with HttpClient(resolver=stuck) as client:
        obs = await poll(client, "dns://facebook.com", timeout=0.1)
    assert obs.status is Status.MAJOR_OUTAGE and obs.error is not None and obs.error.kind == "timeout"


async def test_bad_url_and_options() -> None:
    async with HttpClient(resolver=StubResolver({})) as client:
        obs = await poll(client, "https://facebook.com/")
        bad_timeout = await poll(client, "dns://facebook.com", timeout=-1)
    assert obs.status is Status.UNKNOWN and obs.error is not None and obs.error.kind == "config"
    assert bad_timeout.status is Status.UNKNOWN
    assert DnsKind.validate_url("dns://example.com") is None
    assert DnsKind.validate_url("example.com") is not None
