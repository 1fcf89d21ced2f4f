"""The loopback HTTP servers ``simulate`` starts: the world the bot watches, on 127.0.0.1.

Small aiohttp servers whose answers follow the *virtual* clock through a ``World`` (the
scenario): the service's Statuspage-compatible status page (``/api/v2/summary.json``) when it
has one, one endpoint per probe URL of its catalog entry (``/probe/<n>``), and the canaries of
the vantage self-check (``/canary/<n>``). The bot's real sources fetch them through
``bot.net.HttpClient``, so parsing, timeouts and error kinds are the production ones.

Probe modes: ``ok`` (a normal answer, carrying the text the catalog's probe requires),
``error_page`` (200 with "Something went wrong, but don't worry…", the error page X serves),
``503``, ``hang`` (no answer until the client gives up), ``drop`` (the connection is closed
without an answer). When the world says the bot's own network is down, every server drops
every connection, canaries included.
"""

from __future__ import annotations

import asyncio
import html
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Awaitable, Callable, Mapping, Protocol, Sequence

from aiohttp import web

ERROR_PAGE_TEXT = "Something went wrong, but don\u2019t worry \u2014 let\u2019s give it another shot."
OK_PAGE = "<!doctype html><html><head><title>{name}</title></head><body><main>{content}</main></body></html>"
ERROR_PAGE = (
    "<!doctype html><html><head><title>{name}</title></head><body><div id='error'>"
    f"<span>{ERROR_PAGE_TEXT}</span><button>Try again</button></div></body></html>"
)
PROBE_MODES = frozenset({"ok", "error_page", "503", "hang", "drop"})


class World(Protocol):
    """What the servers need to know about the scenario at a virtual instant."""

    def network_up(self, at: datetime) -> bool: ...

    def probe(self, url: str, at: datetime) -> str: ...

    def status_summary(self, at: datetime) -> dict[str, Any]: ...


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Servers:
    """The running servers: base URLs on ``http://127.0.0.1:<port>``."""

    status_page: str | None  # None: the service publishes none
    probes: dict[str, str]  # the catalog's probe URL -> its loopback stand-in
    canaries: tuple[str, ...]
    runners: tuple[web.AppRunner, ...]
    hits: dict[str, int]
    #: the catalog's ``tcp://`` targets -> a loopback listener that accepts while the network is up
    tcp: dict[str, str] = field(default_factory=dict)
    listeners: tuple[asyncio.Server, ...] = ()

    async def close(self) -> None:
        for runner in self.runners:
            await runner.cleanup()
        for listener in self.listeners:
            listener.close()
            await listener.wait_closed()


async def start_tcp(world: World, clock: Callable[[], datetime], targets: Sequence[str]) -> tuple[dict[str, str], tuple[asyncio.Server, ...]]:
    """One loopback listener per ``tcp://`` target: it accepts and hangs up (a reachable
    server), or resets at once while the world's network is down. Scenarios do not change
    what a TCP target does otherwise (a CDN's outage leaves its DNS resolver answering)."""
    urls: dict[str, str] = {}
    listeners: list[asyncio.Server] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not world.network_up(clock()):
            writer.transport.abort()
            return
        writer.close()

    for target in targets:
        listener = await asyncio.start_server(accept, "127.0.0.1", 0)
        listeners.append(listener)
        port = listener.sockets[0].getsockname()[1]
        urls[target] = f"tcp://127.0.0.1:{port}"
    return urls, tuple(listeners)


async def start_ioda(events: Callable[[datetime, list[str]], dict[str, Any]], clock: Callable[[], datetime]) -> tuple[web.AppRunner, str]:
    """A loopback IODA API: ``/outages/events`` answers what ``events(now, countries)`` says
    for the countries asked (``entityCode``)."""

    async def outages(request: web.Request) -> web.StreamResponse:
        countries = [c for c in request.query.get("entityCode", "").upper().split(",") if c]
        return web.Response(text=json.dumps(events(clock(), countries)), content_type="application/json")

    app = web.Application()
    app.router.add_get("/outages/events", outages)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without a response (what a dead network looks like to a client)."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    raise asyncio.CancelledError()  # nothing more to write to a closed socket


async def _serve(handlers: dict[str, Handler], world: World, clock: Callable[[], datetime], name: str, hits: dict[str, int]) -> tuple[web.AppRunner, str]:
    @web.middleware
    async def network(request: web.Request, handler: Handler) -> web.StreamResponse:
        hits[name] = hits.get(name, 0) + 1
        if not world.network_up(clock()):
            return _drop(request)
        return await handler(request)

    app = web.Application(middlewares=[network])
    for path, handler in handlers.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


async def start_servers(
    world: World,
    clock: Callable[[], datetime],
    *,
    service_name: str,
    probes: Sequence[str] = (),
    required: Mapping[str, str] | None = None,
    status_page: bool = True,
    canaries: int = 3,
    tcp: Sequence[str] = (),
) -> Servers:
    """Start the servers for ``world``: the status page (``status_page``), one endpoint per
    probe URL in ``probes`` (whose normal answer carries ``required[url]``, the text that
    probe looks for), and the canaries."""
    hang_forever = asyncio.Event()  # never set: a hanging answer ends when the client gives up
    required = required or {}

    async def summary(_request: web.Request) -> web.StreamResponse:
        body = json.dumps(world.status_summary(clock()))
        return web.Response(text=body, content_type="application/json")

    def probe_handler(url: str) -> Handler:
        content = html.escape(f"{service_name} {required.get(url) or ''}".strip())

        async def answer(request: web.Request) -> web.StreamResponse:
            mode = world.probe(url, clock())
            if mode == "ok":
                return web.Response(text=OK_PAGE.format(name=service_name, content=content), content_type="text/html")
            if mode == "error_page":
                return web.Response(text=ERROR_PAGE.format(name=service_name), content_type="text/html")
            if mode == "503":
                return web.Response(status=503, text="<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>", content_type="text/html")
            if mode == "hang":
                await hang_forever.wait()
            return _drop(request)

        return answer

    async def canary(_request: web.Request) -> web.StreamResponse:
        return web.Response(status=204)

    hits: dict[str, int] = {}
    runners: list[web.AppRunner] = []
    try:
        status_url = None
        if status_page:
            status_runner, status_url = await _serve({"/api/v2/summary.json": summary}, world, clock, "status_page", hits)
            runners.append(status_runner)
        probe_urls: dict[str, str] = {}
        if probes:
            handlers = {f"/probe/{n}": probe_handler(url) for n, url in enumerate(probes, start=1)}
            probe_runner, probe_base = await _serve(handlers, world, clock, "probes", hits)
            runners.append(probe_runner)
            probe_urls = {url: f"{probe_base}/probe/{n}" for n, url in enumerate(probes, start=1)}
        canary_runner, canary_url = await _serve({"/canary/{n}": canary}, world, clock, "canary", hits)
        runners.append(canary_runner)
        tcp_urls, listeners = await start_tcp(world, clock, tcp)
    except BaseException:
        for runner in runners:
            await runner.cleanup()
        raise
    return Servers(
        status_page=status_url,
        probes=probe_urls,
        canaries=tuple(f"{canary_url}/canary/{n}" for n in range(1, canaries + 1)),
        runners=tuple(runners),
        hits=hits,
        tcp=tcp_urls,
        listeners=listeners,
    )
