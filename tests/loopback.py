"""Loopback servers and stub resolvers for network tests (no internet needed).

``serve({"/path": handler})`` starts an aiohttp server on 127.0.0.1 on a free port and
counts hits per path; the ``respond``/``hang``/``stream``/``redirect`` factories build the
handlers the probe tests need. ``StubResolver`` answers names from a table (or a script of
successive answers, for DNS rebinding) and counts its calls.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections import Counter
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import AsyncIterator, Awaitable, Callable, Mapping, Sequence

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Server:
    """A running loopback server."""

    port: int
    scheme: str = "http"
    hits: Counter[str] = field(default_factory=Counter)

    host: str = "127.0.0.1"

    def url(self, path: str = "/", host: str | None = None) -> str:
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"


@asynccontextmanager
async def serve(
    routes: Mapping[str, Handler], *, ssl_context: ssl.SSLContext | None = None, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[Server]:
    """Serve ``routes`` (GET) on ``host`` (a free port unless given) until the block ends."""
    server = Server(port=port, scheme="https" if ssl_context else "http", host=host)

    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        server.hits[request.path] += 1
        return await handler(request)

    app = web.Application(middlewares=[count])
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
    await site.start()
    server.port = runner.addresses[0][1]
    try:
        yield server
    finally:
        await runner.cleanup()


def respond(body: str | bytes = "ok", status: int = 200, headers: Mapping[str, str] | None = None) -> Handler:
    """A handler answering with a fixed body, status and headers."""
    data = body.encode() if isinstance(body, str) else body

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(body=data, status=status, headers=dict(headers or {}), content_type="text/html")

    return handler


def hang(event: asyncio.Event | None = None) -> Handler:
    """A handler that waits for ``event`` (never set: the client must time out)."""
    gate = event or asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        await gate.wait()
        return web.Response(text="too late")

    return handler


def stream(total: int, chunk: int = 64 * 1024) -> Handler:
    """A handler streaming ``total`` bytes with chunked encoding (no Content-Length)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        sent = 0
        try:
            while sent < total:
                size = min(chunk, total - sent)
                await response.write(b"x" * size)
                sent += size
            await response.write_eof()
        except (ConnectionResetError, ConnectionError):
            pass  # the client hung up once it had enough, as it should
        return response

    return handler


def redirect(location: str, status: int = 302) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, headers={"Location": location})

    return handler


def free_port() -> int:
    """A port nothing listens on (bound then released): connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StubResolver:
    """A resolver for ``HttpClient(resolver=…)``: a name maps to a list of addresses, to a
    sequence of such lists answered in turn (the last one repeats), or to an exception."""

    def __init__(self, answers: Mapping[str, Sequence[str] | Sequence[Sequence[str]] | BaseException]) -> None:
        self._answers = dict(answers)
        self.calls: Counter[str] = Counter()

    async def __call__(self, host: str) -> list[str]:
        self.calls[host] += 1
        answer = self._answers.get(host)
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, f"Name or service not known: {host}")
        if isinstance(answer, BaseException):
            raise answer
        if answer and not isinstance(answer[0], str):
            turns = list(answer)
            return list(turns[min(self.calls[host], len(turns)) - 1])
        return list(answer)  # type: ignore[arg-type]
