"""``bot.net.client.HttpClient`` against loopback servers: timeouts, caps, TLS, redirects, DNS,
conditional GET, Retry-After, per-host concurrency and the SSRF guard on the wire."""

from __future__ import annotations

import asyncio
import ssl
from typing import AsyncIterator

import pytest
import trustme
from aiohttp import web

import bot.net.client
import bot.net.ssrf
from bot import __version__
from bot.net.client import HttpClient, jitter, parse_retry_after
from tests.loopback import StubResolver, free_port, hang, redirect, respond, serve, stream


class FakeClock:
    """Monotonic seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


WALL_EPOCH = 1_700_000_000.0  # 2023-11-14T22:13:20Z


@pytest.fixture
async def client() -> AsyncIterator[HttpClient]:
    async with HttpClient(timeout=2.0) as c:
        yield c


# -- plain fetching -------------------------------------------------------------------------
async def test_200_returns_body_headers_latency_and_honest_user_agent(client: HttpClient) -> None:
    async def echo_agent(request: web.Request) -> web.Response:
        return web.Response(text=request.headers["User-Agent"], headers={"X-Thing": "1"})

    async with serve({"/": echo_agent}) as server:
        result = await client.get(server.url("/"))
    assert result.status == 200 and result.error is None
    assert result.body.decode() == f"outage-bot/{__version__} (+https://github.com/)"
    assert result.headers["x-thing"] == "1"
    assert result.latency_ms is not None and result.latency_ms >= 0


async def test_503_is_returned_as_unavailable(client: HttpClient) -> None:
    async with serve({"/": respond("down", status=503)}) as server:
        result = await client.get(server.url("/"))
    assert result.status == 503
    assert result.error is not None and result.error.kind == "unavailable"
    assert result.body == b"down"


async def test_slow_server_times_out() -> None:
    async with serve({"/slow": hang()}) as server, HttpClient(timeout=0.2) as client:
        result = await client.get(server.url("/slow"))
    assert result.status is None
    assert result.error is not None and result.error.kind == "timeout"


async def test_per_call_timeout_overrides_default(client: HttpClient) -> None:
    async with serve({"/slow": hang()}) as server:
        result = await client.get(server.url("/slow"), timeout=0.2)
    assert result.error is not None and result.error.kind == "timeout"


async def test_streamed_body_over_cap_is_too_large_not_buffered() -> None:
    async with serve({"/big": stream(5 * 1024 * 1024), "/small": stream(1000)}) as server:
        async with HttpClient(max_bytes=256 * 1024) as client:
            big = await client.get(server.url("/big"))
            small = await client.get(server.url("/small"))
    assert big.error is not None and big.error.kind == "too_large"
    assert big.body == b"" and big.status == 200
    assert small.error is None and len(small.body) == 1000


async def test_declared_length_over_cap_is_refused_before_reading(client: HttpClient) -> None:
    async with serve({"/big": respond(b"y" * 5000)}) as server:
        result = await client.get(server.url("/big"), max_bytes=4096)
    assert result.error is not None and result.error.kind == "too_large"


async def test_connection_refused(client: HttpClient) -> None:
    result = await client.get(f"http://127.0.0.1:{free_port()}/")
    assert result.status is None
    assert result.error is not None and result.error.kind == "connection"


async def test_invalid_url_is_an_error_not_an_exception(client: HttpClient) -> None:
    result = await client.get("http://exa mple.com:99999/")
    assert result.status is None and result.error is not None
    assert result.error.kind in {"invalid_url", "http"}


async def test_injected_resolver_failure_is_dns() -> None:
    resolver = StubResolver({})  # every name is NXDOMAIN
    async with HttpClient(resolver=resolver) as client:
        result = await client.get("http://no-such-host.invalid/")
    assert result.error is not None and result.error.kind == "dns"
    assert "no-such-host.invalid" in result.error.message
    assert resolver.calls["no-such-host.invalid"] == 1


# -- TLS ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


async def test_tls_to_a_plain_http_port_is_tls_failure(client: HttpClient) -> None:
    async with serve({"/": respond("plain")}) as server:
        result = await client.get(server.url("/").replace("http://", "https://"))
    assert result.error is not None and result.error.kind == "tls"


async def test_untrusted_certificate_is_tls_failure(client: HttpClient, ca: trustme.CA) -> None:
    async with serve({"/": respond("secret")}, ssl_context=_server_context(ca)) as server:
        result = await client.get(server.url("/"))
    assert result.error is not None and result.error.kind == "tls"
    assert result.status is None


async def test_trusted_certificate_works(ca: trustme.CA) -> None:
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    async with serve({"/": respond("secret")}, ssl_context=_server_context(ca)) as server:
        async with HttpClient(ssl_context=trusting) as client:
            result = await client.get(server.url("/"))
    assert result.status == 200 and result.body == b"secret"


# -- redirects ------------------------------------------------------------------------------
async def test_redirect_is_followed(client: HttpClient) -> None:
    async with serve({"/old": redirect("/new", 301), "/new": respond("here")}) as server:
        result = await client.get(server.url("/old"))
    assert result.status == 200 and result.body == b"here"
    assert result.url == server.url("/new")


async def test_redirect_loop_is_an_error(client: HttpClient) -> None:
    async with serve({"/a": redirect("/b"), "/b": redirect("/a")}) as server:
        result = await client.get(server.url("/a"))
    assert result.error is not None and result.error.kind == "redirects"
    assert server.hits["/a"] == 1 and server.hits["/b"] == 1


async def test_too_many_redirects_is_an_error() -> None:
    routes = {f"/{i}": redirect(f"/{i + 1}") for i in range(10)}
    async with serve(routes) as server, HttpClient(max_redirects=4) as client:
        result = await client.get(server.url("/0"))
    assert result.error is not None and result.error.kind == "redirects"
    assert sum(server.hits.values()) == 5  # the first request and four followed hops


async def test_cookies_are_carried_within_a_redirect_chain_only(client: HttpClient) -> None:
    async def set_cookie(request: web.Request) -> web.Response:
        response = web.Response(status=302, headers={"Location": "/check"})
        response.set_cookie("consent", "yes")
        return response

    async def check(request: web.Request) -> web.Response:
        return web.Response(text=request.cookies.get("consent", "none"))

    async with serve({"/start": set_cookie, "/check": check}) as server:
        chained = await client.get(server.url("/start"))
        fresh = await client.get(server.url("/check"))
    assert chained.body == b"yes"
    assert fresh.body == b"none"  # no cookie jar across polls: every probe is a first visit


# -- conditional GET ------------------------------------------------------------------------
async def test_etag_conditional_get_returns_not_modified(client: HttpClient) -> None:
    seen: list[str | None] = []

    async def tagged(request: web.Request) -> web.Response:
        seen.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        return web.Response(text='{"ok": true}', headers={"ETag": '"v1"'})

    async with serve({"/summary.json": tagged}) as server:
        url = server.url("/summary.json")
        first = await client.get(url, conditional=True)
        second = await client.get(url, conditional=True)
        unconditional = await client.get(url)
    assert first.status == 200 and not first.not_modified
    assert second.status == 304 and second.not_modified and second.error is None
    assert unconditional.status == 200
    assert seen == [None, '"v1"', None]


async def test_last_modified_conditional_get(client: HttpClient) -> None:
    stamp = "Tue, 14 Nov 2023 22:13:20 GMT"

    async def dated(request: web.Request) -> web.Response:
        if request.headers.get("If-Modified-Since") == stamp:
            return web.Response(status=304)
        return web.Response(text="feed", headers={"Last-Modified": stamp})

    async with serve({"/feed": dated}) as server:
        await client.get(server.url("/feed"), conditional=True)
        again = await client.get(server.url("/feed"), conditional=True)
    assert again.not_modified


# -- Retry-After ----------------------------------------------------------------------------
async def test_retry_after_seconds_skips_host_until_it_passes() -> None:
    clock = FakeClock()
    async with serve({"/": respond("slow down", 429, {"Retry-After": "120"}), "/other": respond("ok")}) as server:
        async with HttpClient(clock=clock, wall_clock=lambda: WALL_EPOCH + clock.now) as client:
            first = await client.get(server.url("/"))
            skipped = await client.get(server.url("/other"))  # same host: not contacted
            clock.now += 121
            after = await client.get(server.url("/other"))
    assert first.status == 429 and first.error is not None and first.error.kind == "rate_limited"
    assert skipped.status is None and skipped.error is not None and skipped.error.kind == "rate_limited"
    assert "skipped" in skipped.error.message
    assert after.status == 200
    assert server.hits == {"/": 1, "/other": 1}


async def test_retry_after_http_date_on_503() -> None:
    clock = FakeClock()
    when = "Tue, 14 Nov 2023 22:18:20 GMT"  # 300 s after WALL_EPOCH
    async with serve({"/": respond("maintenance", 503, {"Retry-After": when})}) as server:
        async with HttpClient(clock=clock, wall_clock=lambda: WALL_EPOCH) as client:
            await client.get(server.url("/"))
            clock.now += 299
            still = await client.get(server.url("/"))
            clock.now += 2
            again = await client.get(server.url("/"))
    assert still.status is None and still.error is not None and still.error.kind == "unavailable"
    assert again.status == 503
    assert server.hits["/"] == 2


def test_parse_retry_after() -> None:
    assert parse_retry_after("30", WALL_EPOCH) == 30
    assert parse_retry_after("Tue, 14 Nov 2023 22:14:20 GMT", WALL_EPOCH) == 60
    assert parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", WALL_EPOCH) == 0  # in the past
    assert parse_retry_after("9999999", WALL_EPOCH) == bot.net.client.MAX_RETRY_AFTER
    assert parse_retry_after("soon", WALL_EPOCH) is None
    assert parse_retry_after(None, WALL_EPOCH) is None


# -- per-host concurrency -------------------------------------------------------------------
async def test_per_host_concurrency_is_capped() -> None:
    gate = asyncio.Event()
    in_flight = 0
    peak = 0
    two_in = asyncio.Event()

    async def gated(request: web.Request) -> web.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        if in_flight == 2:
            two_in.set()
        await gate.wait()
        in_flight -= 1
        return web.Response(text="ok")

    async with serve({"/": gated}) as server, HttpClient(per_host=2) as client:
        tasks = [asyncio.create_task(client.get(server.url("/"))) for _ in range(8)]
        await asyncio.wait_for(two_in.wait(), 5)
        for _ in range(50):  # give the other six every chance to get in (they must not)
            await asyncio.sleep(0)
        assert in_flight == 2
        gate.set()
        results = await asyncio.gather(*tasks)
    assert peak == 2
    assert [r.status for r in results] == [200] * 8


# -- jitter ---------------------------------------------------------------------------------
def test_jitter_is_stable_in_range_and_spread() -> None:
    offsets = [jitter(60, f"svc-{i}/statuspage") for i in range(1000)]
    assert offsets == [jitter(60, f"svc-{i}/statuspage") for i in range(1000)]
    assert all(0 <= o < 60 for o in offsets)
    per_second = [0] * 60
    for o in offsets:
        per_second[int(o)] += 1
    assert max(per_second) < 40  # 1000 sources over 60 s: no second gets a crowd
    assert jitter(0, "x") == 0


# -- the SSRF guard on the wire -------------------------------------------------------------
@pytest.fixture
def any_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lift the port rule only, so loopback servers on random ports qualify."""

    class AnyPort(frozenset):
        def __contains__(self, item: object) -> bool:
            return True

    monkeypatch.setattr(bot.net.ssrf, "ALLOWED_PORTS", AnyPort())


@pytest.fixture
def simulated_internet(monkeypatch: pytest.MonkeyPatch, any_port: None) -> None:
    """Make 127.0.0.1 count as a public address (our stand-in for the internet) while every
    other address keeps the real rule."""
    real = bot.net.ssrf.vet_addresses

    def vet(addresses: list[str], *, allow_private: bool = False) -> list[str]:
        return addresses if addresses == ["127.0.0.1"] else real(addresses, allow_private=allow_private)

    monkeypatch.setattr(bot.net.client, "vet_addresses", vet)


async def test_public_looking_name_resolving_to_loopback_is_refused() -> None:
    resolver = StubResolver({"totally-public.example": ["127.0.0.1"]})
    async with HttpClient(resolver=resolver) as client:
        result = await client.get("http://totally-public.example/", guard=True)
    assert result.error is not None and result.error.kind == "ssrf"
    assert "127.0.0.1" in result.error.message
    assert result.status is None


async def test_mixed_public_and_private_answers_are_refused() -> None:
    resolver = StubResolver({"mixed.example": ["93.184.216.34", "10.0.0.7"]})
    async with HttpClient(resolver=resolver) as client:
        result = await client.get("https://mixed.example/", guard=True)
    assert result.error is not None and result.error.kind == "ssrf"


@pytest.mark.parametrize("url", ["http://0x7f.1/", "http://2130706433/", "http://[::ffff:127.0.0.1]/", "http://169.254.169.254/"])
async def test_guarded_client_refuses_literal_vectors(url: str, client: HttpClient) -> None:
    result = await client.get(url, guard=True)
    assert result.error is not None and result.error.kind == "ssrf"


async def test_guarded_port_rule(client: HttpClient) -> None:
    async with serve({"/": respond("hi")}) as server:
        result = await client.get(server.url("/"), guard=True)
    assert result.error is not None and result.error.kind == "ssrf"
    assert server.hits["/"] == 0


async def test_allow_private_reaches_loopback() -> None:
    async with serve({"/": respond("hi")}) as server, HttpClient(allow_private=True) as client:
        result = await client.get(server.url("/"), guard=True)
    assert result.status == 200 and result.body == b"hi"


async def test_allow_private_still_rechecks_every_hop() -> None:
    async with serve({"/to-ftp": redirect("ftp://127.0.0.1/"), "/to-octal": redirect("http://0177.0.0.1/")}) as server:
        async with HttpClient(allow_private=True) as client:
            ftp = await client.get(server.url("/to-ftp"), guard=True)
            octal = await client.get(server.url("/to-octal"), guard=True)
    assert ftp.error is not None and ftp.error.kind == "ssrf"
    assert octal.error is not None and octal.error.kind == "ssrf"


async def test_redirect_to_private_address_is_refused(simulated_internet: None) -> None:
    resolver = StubResolver({"public.example": ["127.0.0.1"], "intranet.example": ["192.168.0.10"]})
    async with serve({"/": respond("never")}) as target:
        routes = {
            "/to-literal": redirect("http://10.0.0.1/admin"),
            "/to-metadata": redirect("http://169.254.169.254/latest/meta-data/"),
            "/to-name": redirect(f"http://intranet.example:{target.port}/"),
        }
        async with serve(routes) as server, HttpClient(resolver=resolver) as client:
            results = {path: await client.get(server.url(path, "public.example"), guard=True) for path in routes}
    for path, result in results.items():
        assert result.error is not None and result.error.kind == "ssrf", path
        assert server.hits[path] == 1  # the public first hop was fetched …
    assert target.hits["/"] == 0  # … the private one never


async def test_guarded_redirects_stop_after_three_hops(simulated_internet: None) -> None:
    routes = {f"/{i}": redirect(f"/{i + 1}") for i in range(6)}
    resolver = StubResolver({"public.example": ["127.0.0.1"]})
    async with serve(routes) as server, HttpClient(resolver=resolver) as client:
        result = await client.get(server.url("/0", "public.example"), guard=True)
    assert result.error is not None and result.error.kind == "redirects"
    assert sum(server.hits.values()) == 4  # the first request and three followed hops


async def test_dns_rebinding_connects_to_the_vetted_answer_only(simulated_internet: None) -> None:
    # First answer "public" (127.0.0.1 in the simulated internet), every later one private.
    resolver = StubResolver({"rebind.example": [["127.0.0.1"], ["10.0.0.1"]]})
    async with serve({"/": respond("public side")}) as server:
        async with HttpClient(resolver=resolver) as client:
            result = await client.get(server.url("/", "rebind.example"), guard=True)
        assert resolver.calls["rebind.example"] == 1  # one lookup: vetted and connected to
        assert result.status == 200 and result.body == b"public side"
        async with HttpClient(resolver=resolver) as fresh:  # a new connection looks up again …
            rebound = await fresh.get(server.url("/", "rebind.example"), guard=True)
    assert rebound.error is not None and rebound.error.kind == "ssrf"  # … and is vetted again
    assert server.hits["/"] == 1


async def test_trusted_pool_is_not_shared_with_guarded_requests(any_port: None) -> None:
    resolver = StubResolver({"internal.example": ["127.0.0.1"]})
    async with serve({"/": respond("internal")}) as server:
        async with HttpClient(resolver=resolver) as client:
            trusted = await client.get(server.url("/", "internal.example"))
            guarded = await client.get(server.url("/", "internal.example"), guard=True)
    assert trusted.status == 200
    assert guarded.error is not None and guarded.error.kind == "ssrf"
    assert server.hits["/"] == 1


async def test_get_never_raises_even_when_not_started() -> None:
    client = HttpClient()
    try:
        result = await client.get(f"http://127.0.0.1:{free_port()}/")
    finally:
        await client.close()
    assert result.error is not None and result.error.kind == "connection"


# -- TCP and DNS ----------------------------------------------------------------------------
async def test_connect_succeeds_and_fails(client: HttpClient) -> None:
    async with serve({"/": respond()}) as server:
        latency, error = await client.connect("127.0.0.1", server.port)
    assert error is None and latency is not None
    latency, error = await client.connect("127.0.0.1", free_port())
    assert latency is None and error is not None and error.kind == "connection"


async def test_connect_through_resolver_and_dns_failure() -> None:
    resolver = StubResolver({"db.example": ["127.0.0.1"]})
    async with serve({"/": respond()}) as server, HttpClient(resolver=resolver) as client:
        ok = await client.connect("db.example", server.port)
        missing = await client.connect("gone.example", server.port)
    assert ok[1] is None
    assert missing[1] is not None and missing[1].kind == "dns"


async def test_connect_timeout() -> None:
    async def slow(host: str) -> list[str]:
        await asyncio.Event().wait()
        return []

    async with HttpClient(resolver=slow) as client:
        latency, error = await client.connect("slow.example", 443, timeout=0.1)
    assert error is not None and error.kind == "timeout"


async def test_resolve() -> None:
    resolver = StubResolver({"a.example": ["192.0.2.1", "2001:db8::1"], "bad.example": OSError("SERVFAIL")})
    async with HttpClient(resolver=resolver) as client:
        addresses, latency, error = await client.resolve("a.example")
        _none, _lat, missing = await client.resolve("nx.example")
        _none, _lat, failed = await client.resolve("bad.example")
    assert addresses == ["192.0.2.1", "2001:db8::1"] and error is None and latency is not None
    assert missing is not None and missing.kind == "dns"
    assert failed is not None and failed.kind == "dns" and "SERVFAIL" in failed.message


async def test_body_that_stalls_midway_times_out() -> None:
    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = 1000
        await response.prepare(request)
        await response.write(b"x" * 10)
        await asyncio.Event().wait()  # the other 990 bytes never come
        return response

    async with serve({"/": trickle}) as server, HttpClient(timeout=0.2) as client:
        result = await client.get(server.url("/"))
    assert result.error is not None and result.error.kind == "timeout"


async def test_redirect_chain_shares_one_timeout() -> None:
    async with serve({"/go": redirect("/slow"), "/slow": hang()}) as server, HttpClient(timeout=5) as client:
        result = await client.get(server.url("/go"), timeout=0.2)
    assert result.error is not None and result.error.kind == "timeout"
    assert server.hits["/slow"] == 1


async def test_internationalised_name_is_vetted_by_its_ascii_form() -> None:
    resolver = StubResolver({"xn--bcher-kva.example": ["127.0.0.1"]})
    async with serve({"/": respond("ok")}) as server, HttpClient(resolver=resolver, allow_private=True) as client:
        allowed = await client.get(server.url("/", "bücher.example"), guard=True)
    async with HttpClient(resolver=resolver) as strict:
        refused = await strict.get("http://bücher.example/", guard=True)
    assert allowed.status == 200
    assert refused.error is not None and refused.error.kind == "ssrf" and "127.0.0.1" in refused.error.message
