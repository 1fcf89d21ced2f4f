"""The ``tcp`` probe kind through the real HttpClient."""

from __future__ import annotations

from datetime import datetime, timezone

from bot.net.client import HttpClient
from bot.sources.base import Observation, PollContext, SourceRole, SourceSpec, get_kind
from bot.sources.tcp import TcpKind, parse_target
from bot.status import Status
from tests.loopback import StubResolver, free_port, respond, serve

NOW = datetime(2024, 3, 5, 12, 51, tzinfo=timezone.utc)


async def poll(client: HttpClient, url: str, **options: object) -> Observation:
    spec = SourceSpec(kind="tcp", url=url, options=dict(options))
    return await TcpKind.poll(PollContext(service_id="x", spec=spec, fetcher=client, now=NOW))


def test_registered() -> None:
    assert get_kind("tcp") is TcpKind and TcpKind.role is SourceRole.PROBE


async def test_open_port_is_operational() -> None:
    async with serve({"/": respond()}) as server, HttpClient() as client:
        obs = await poll(client, f"tcp://127.0.0.1:{server.port}", timeout=2)
    assert obs.status is Status.OPERATIONAL and obs.latency_ms is not None and obs.error is None


async def test_refused_port_is_major_outage() -> None:
    async with HttpClient() as client:
        obs = await poll(client, f"tcp://127.0.0.1:{free_port()}")
    assert obs.status is Status.MAJOR_OUTAGE and obs.error is not None and obs.error.kind == "connection"


async def test_unresolvable_host_is_major_outage_dns() -> None:
    async with HttpClient(resolver=StubResolver({})) as client:
        obs = await poll(client, "tcp://gone.example:5222")
    assert obs.status is Status.MAJOR_OUTAGE and obs.error is not None and obs.error.kind == "dns"


async def test_bad_url_is_unknown() -> None:
    async with HttpClient() as client:
        obs = await poll(client, "tcp://host-without-port")
    assert obs.status is Status.UNKNOWN and obs.error is not None and obs.error.kind == "config"


def test_url_and_option_validation() -> None:
    assert parse_target("tcp://mqtt.example:8883") == ("mqtt.example", 8883)
    assert TcpKind.validate_url("tcp://a.example:443") is None
    assert TcpKind.validate_url("https://a.example/") is not None
    assert TcpKind.validate_url("tcp://a.example") is not None
    assert TcpKind.validate_options({"timeout": 3}) == []
    assert TcpKind.validate_options({"timeout": "soon"}) == ["timeout: must be a positive number"]


async def test_slow_connect_is_degraded() -> None:
    ticks = iter([100.0, 103.0])  # the injected clock says the connect took 3 s

    async with serve({"/": respond()}) as server, HttpClient(clock=lambda: next(ticks)) as client:
        obs = await poll(client, f"tcp://127.0.0.1:{server.port}", degraded_ms=1000)
    assert obs.status is Status.DEGRADED and obs.error is None
    assert obs.latency_ms == 3000.0
