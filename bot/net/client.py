"""Network discipline in one place: the only module that imports aiohttp for outbound calls.

``HttpClient`` implements ``bot.sources.base.Fetcher``. It owns one long-lived session for
trusted traffic (catalog sources, configured by the operator) and a second one, built on its
own connector, for guarded traffic (URLs typed by Discord users): the guarded connector's
resolver *is* the SSRF vetting step, so every connection goes to addresses that were vetted
in the same lookup, and a pooled connection opened for a trusted source is never handed to a
user's request.

Every call returns a result and never raises (except cancellation): failures become a
``SourceError`` whose ``kind`` is one of ``timeout``, ``dns``, ``tls``, ``connection``,
``too_large``, ``redirects``, ``rate_limited``, ``unavailable``, ``ssrf``, ``invalid_url``
or ``http`` (anything else).
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Awaitable, Callable

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from bot import __version__
from bot.sources.base import FetchResult, SourceError
from bot.net.ssrf import MAX_REDIRECTS as GUARDED_MAX_REDIRECTS
from bot.net.ssrf import SSRFRefused, check_url, vet_addresses

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_PER_HOST = 4
DEFAULT_MAX_CONNECTIONS = 256
DEFAULT_MAX_REDIRECTS = 10  # trusted sources; guarded requests allow bot.net.ssrf.MAX_REDIRECTS
MAX_RETRY_AFTER = 3600.0  # a hostile or broken header must not silence a source for days
USER_AGENT = f"outage-bot/{__version__} (+https://github.com/)"
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024

#: An injectable name resolver: host name → IP address strings; raises on failure.
Resolver = Callable[[str], Awaitable[list[str]]]


async def system_resolve(host: str) -> list[str]:
    """Resolve ``host`` with the operating system's resolver (``getaddrinfo``)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for _family, _type, _proto, _canon, sockaddr in infos:
        seen.setdefault(str(sockaddr[0]).split("%", 1)[0], None)
    return list(seen)


def jitter(interval: float, key: str) -> float:
    """A stable offset in ``[0, interval)`` for ``key``, so sources sharing an interval are
    spread over it instead of all firing in the same second (and keep their slot across
    restarts: no randomness, no Python ``hash`` seed)."""
    if interval <= 0:
        return 0.0
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 * interval


def parse_retry_after(value: str | None, now_wall: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date), capped at
    ``MAX_RETRY_AFTER``; ``None`` when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        delay = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None or when.tzinfo is None:
            return None
        delay = when.timestamp() - now_wall
    return max(0.0, min(delay, MAX_RETRY_AFTER))


def _family(address: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


class _ResolverAdapter(AbstractResolver):
    """Plugs a ``Resolver`` into aiohttp's connector. With ``guard`` set it vets the answer
    and hands the connector only vetted addresses — the connection goes to exactly those."""

    def __init__(self, resolver: Resolver, *, guard: bool, allow_private: bool) -> None:
        self._resolver = resolver
        self._guard = guard
        self._allow_private = allow_private

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_UNSPEC) -> list[ResolveResult]:
        name = host.rstrip(".")
        try:
            addresses = await self._resolver(name)
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            raise
        except Exception as exc:  # any resolver failure is a DNS failure (aiohttp wraps OSError)
            raise OSError(f"cannot resolve {name}: {exc}") from exc
        if self._guard:
            addresses = vet_addresses(addresses, allow_private=self._allow_private)
        if not addresses:
            raise OSError(f"cannot resolve {name}: no addresses")
        return [
            {"hostname": host, "host": a, "port": port, "family": _family(a), "proto": 0, "flags": socket.AI_NUMERICHOST}
            for a in addresses
        ]

    async def close(self) -> None:
        return None


class _Limiter:
    """One semaphore per key, dropped when idle so the table stays as small as the set of
    hosts currently being contacted. (Plain acquire/release rather than an async context
    manager: async generators cost a WeakSet entry each, which shows at 10,000 sources.)"""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._slots: dict[str, list] = {}  # key → [semaphore, users]

    def enter(self, key: str) -> asyncio.Semaphore:
        """Count one more user of ``key`` and return its semaphore; pair with ``leave``."""
        entry = self._slots.get(key)
        if entry is None:
            entry = self._slots[key] = [asyncio.Semaphore(self._limit), 0]
        entry[1] += 1
        return entry[0]

    def leave(self, key: str) -> None:
        entry = self._slots[key]
        entry[1] -= 1
        if entry[1] == 0:
            del self._slots[key]

    def __len__(self) -> int:
        return len(self._slots)


class _Gate:
    """A per-host slot, then a global one (always in that order), released in reverse.

    ``acquire`` returns the host's semaphore for ``release``: one coroutine and one plain
    call per request instead of an ``async with`` object whose enter and exit were
    coroutines wrapping a third one (that layering cost ~6 % of the client's CPU in
    ``benchmarks/poll.py``, where 10,000 polls wait on these semaphores at once)."""

    __slots__ = ("_hosts", "_global")

    def __init__(self, per_host: int, max_connections: int) -> None:
        self._hosts = _Limiter(per_host)
        self._global = asyncio.Semaphore(max_connections) if max_connections > 0 else None

    async def acquire(self, key: str) -> asyncio.Semaphore:
        slot = self._hosts.enter(key)
        try:
            await slot.acquire()
        except BaseException:
            self._hosts.leave(key)
            raise
        if self._global is not None:
            try:
                await self._global.acquire()
            except BaseException:
                slot.release()
                self._hosts.leave(key)
                raise
        return slot

    def release(self, key: str, slot: asyncio.Semaphore) -> None:
        if self._global is not None:
            self._global.release()
        slot.release()
        self._hosts.leave(key)

    def __len__(self) -> int:
        """Hosts with a request running or waiting."""
        return len(self._hosts)


@dataclass(slots=True)
class _Validators:
    etag: str | None
    last_modified: str | None


class _TooLarge(Exception):
    pass


class HttpClient:
    """The bot's outbound HTTP/TCP/DNS client (see the module docstring).

    Use as ``async with HttpClient() as client:`` or ``await client.start()`` …
    ``await client.close()``; ``get`` starts it lazily if needed. ``clock`` (monotonic seconds)
    and ``wall_clock`` (epoch seconds) are injectable so tests can drive ``Retry-After``.
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        per_host: int = DEFAULT_PER_HOST,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        resolver: Resolver | None = None,
        allow_private: bool = False,
        user_agent: str = USER_AGENT,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.timeout = timeout
        self.connect_timeout = connect_timeout if connect_timeout is not None else timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.allow_private = allow_private
        self.user_agent = user_agent
        self._resolver: Resolver = resolver or system_resolve
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._clock = clock
        self._wall_clock = wall_clock
        self._gate = _Gate(per_host, max_connections)
        self._validators: dict[str, _Validators] = {}
        self._not_before: dict[str, tuple[float, str]] = {}
        self._default_timeout = aiohttp.ClientTimeout(total=timeout, connect=self.connect_timeout)
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}
        self._session: aiohttp.ClientSession | None = None
        self._guarded: aiohttp.ClientSession | None = None

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> "HttpClient":
        """Create the sessions (idempotent); must run inside the event loop that uses them."""
        if self._session is None:
            self._session = self._new_session(guard=False)
            self._guarded = self._new_session(guard=True)
        return self

    def _new_session(self, *, guard: bool) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=0,  # the client's own semaphores bound concurrency, outside the timeout
            resolver=_ResolverAdapter(self._resolver, guard=guard, allow_private=self.allow_private),
            use_dns_cache=not guard,  # guarded: vet at every new connection
            ssl=self._ssl,
        )
        return aiohttp.ClientSession(
            connector=connector,
            timeout=self._default_timeout,
            headers={"User-Agent": self.user_agent},
            cookie_jar=aiohttp.DummyCookieJar(),  # stateless probes; cookies only within a redirect chain
            trust_env=False,  # never route through an environment proxy
            auto_decompress=True,
        )

    async def close(self) -> None:
        for session in (self._session, self._guarded):
            if session is not None:
                await session.close()
        self._session = self._guarded = None

    async def __aenter__(self) -> "HttpClient":
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- HTTP ------------------------------------------------------------------------------
    async def get(
        self,
        url: str,
        *,
        conditional: bool = False,
        guard: bool = False,
        max_bytes: int | None = None,
        timeout: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> FetchResult:
        """GET ``url`` following redirects itself (re-vetting each hop when ``guard``), with
        the body capped at ``max_bytes``; never raises.

        The timeout bounds the whole redirect chain's network time (time spent waiting for a
        per-host slot does not count). It is aiohttp's own total timeout — the session's
        default, or a per-request one only when it differs — because a second timer per
        request (``asyncio.timeout``) costs measurably at 10,000 sources."""
        total = timeout or self.timeout
        try:
            if self._session is None:
                await self.start()
            session = self._guarded if guard else self._session
            assert session is not None
            cap = max_bytes or self.max_bytes
            max_hops = min(self.max_redirects, GUARDED_MAX_REDIRECTS) if guard else self.max_redirects
            req_headers = dict(headers) if headers else {}
            if conditional and (v := self._validators.get(url)) is not None:
                if v.etag:
                    req_headers["If-None-Match"] = v.etag
                if v.last_modified:
                    req_headers["If-Modified-Since"] = v.last_modified
                validated = True
            else:
                validated = False
            current = url
            seen: set[str] | None = None
            hops = 0
            spent = 0.0
            cookies: dict[str, str] | None = None
            while True:
                target = URL(current)
                if guard:
                    self._check_guarded(target)
                host_key = f"{target.host}:{target.port}"
                if self._not_before and (skipped := self._skip(host_key, current)) is not None:
                    return skipped
                remaining = total - spent
                if remaining <= 0:
                    raise TimeoutError(f"timed out after {hops} redirects")
                slot = await self._gate.acquire(host_key)
                try:
                    started = self._clock()
                    async with session.get(
                        target,
                        allow_redirects=False,
                        headers=req_headers or None,
                        cookies=cookies,
                        timeout=self._client_timeout(remaining),
                    ) as resp:
                        status = resp.status
                        location = resp.headers.get("Location") if status in _REDIRECT_STATUSES else None
                        if location:
                            cookies = {k: m.value for k, m in resp.cookies.items()} or None
                            resp.release()
                        elif status == 304 and validated:
                            spent += self._clock() - started
                            return FetchResult(
                                url=current, status=304, headers=_headers(resp), latency_ms=spent * 1000, not_modified=True
                            )
                        else:
                            try:
                                body = await _read_capped(resp, cap)
                            except _TooLarge:
                                return FetchResult(
                                    url=current, status=status, latency_ms=(spent + self._clock() - started) * 1000,
                                    error=SourceError("too_large", f"response body larger than {cap} bytes"),
                                )
                            spent += self._clock() - started
                            return self._finish(url, current, resp, body, spent, conditional)
                    spent += self._clock() - started
                finally:
                    self._gate.release(host_key, slot)
                hops += 1
                following = str(target.join(URL(location)))
                if hops > max_hops:
                    return FetchResult(
                        url=current, status=status, latency_ms=spent * 1000,
                        error=SourceError("redirects", f"more than {max_hops} redirects"),
                    )
                if seen is None:
                    seen = {url}
                if following in seen:
                    return FetchResult(
                        url=current, status=status, latency_ms=spent * 1000,
                        error=SourceError("redirects", f"redirect loop back to {following}"),
                    )
                seen.add(following)
                if URL(following).host != target.host:
                    cookies = None  # never carry cookies to another host
                current = following
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the contract: errors are results, not exceptions
            return FetchResult(url=url, status=None, error=classify(exc))

    def _client_timeout(self, seconds: float) -> aiohttp.ClientTimeout:
        """The session's timeout object when ``seconds`` is the default, else a cached one."""
        if seconds == self.timeout:
            return self._default_timeout
        found = self._timeouts.get(seconds)
        if found is None:
            found = aiohttp.ClientTimeout(total=seconds, connect=min(self.connect_timeout, seconds))
            if len(self._timeouts) < 64:
                self._timeouts[seconds] = found
        return found

    def _check_guarded(self, target: URL) -> None:
        """The URL rules of ``bot.net.ssrf`` on what aiohttp will actually connect to."""
        vetted = check_url(str(target), allow_private=self.allow_private)
        host = (target.raw_host or "").rstrip(".").lower()  # raw: IDNA-encoded, as in str(target)
        if vetted.address is not None:
            same = ipaddress.ip_address(host) == vetted.address
        else:
            same = host == vetted.host.lower()
        if not same:
            raise SSRFRefused(f"URL parsers disagree about the host of {str(target)!r}")

    def _skip(self, host_key: str, url: str) -> FetchResult | None:
        """A result for a host that asked us (Retry-After) to stay away until later."""
        entry = self._not_before.get(host_key)
        if entry is None:
            return None
        until, kind = entry
        left = until - self._clock()
        if left <= 0:
            del self._not_before[host_key]
            return None
        return FetchResult(
            url=url, status=None,
            error=SourceError(kind, f"skipped: {host_key} asked us to wait {left:.0f} s more (Retry-After)"),
        )

    def _finish(
        self, original: str, current: str, resp: aiohttp.ClientResponse, body: bytes, spent: float, conditional: bool
    ) -> FetchResult:
        status = resp.status
        headers = _headers(resp)
        error: SourceError | None = None
        if status in (429, 503):
            kind = "rate_limited" if status == 429 else "unavailable"
            delay = parse_retry_after(headers.get("retry-after"), self._wall_clock())
            message = f"HTTP {status}"
            if delay is not None and delay > 0:
                host_key = f"{resp.url.host}:{resp.url.port}"  # the same key get() checks
                self._not_before[host_key] = (self._clock() + delay, kind)
                message += f"; retry after {delay:.0f} s"
            error = SourceError(kind, message)
        elif conditional and 200 <= status < 300:
            etag, modified = headers.get("etag"), headers.get("last-modified")
            if etag or modified:
                self._validators[original] = _Validators(etag, modified)
        return FetchResult(url=current, status=status, body=body, headers=headers, latency_ms=spent * 1000, error=error)

    # -- TCP and DNS -----------------------------------------------------------------------
    async def connect(self, host: str, port: int, *, timeout: float | None = None) -> tuple[float | None, SourceError | None]:
        """Open and close a TCP connection to ``host:port``: (latency_ms, error)."""
        total = timeout or self.timeout
        try:
            key = f"{host.lower()}:{port}"
            slot = await self._gate.acquire(key)
            try:
                started = self._clock()
                async with asyncio.timeout(total):
                    try:
                        addresses = [host] if _is_ip(host) else await self._resolver(host)
                    except (asyncio.CancelledError, TimeoutError):
                        raise
                    except Exception as exc:
                        return None, SourceError("dns", f"cannot resolve {host}: {exc}")
                    last: OSError | None = None
                    for address in addresses:
                        try:
                            _reader, writer = await asyncio.open_connection(address, port)
                        except OSError as exc:
                            last = exc
                            continue
                        latency = (self._clock() - started) * 1000
                        writer.close()
                        try:
                            await writer.wait_closed()
                        except OSError:
                            pass
                        return latency, None
                    return None, classify(last or OSError(f"no address for {host}"))
            finally:
                self._gate.release(key, slot)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return None, classify(exc)

    async def resolve(self, host: str, *, timeout: float | None = None) -> tuple[list[str], float | None, SourceError | None]:
        """Resolve ``host`` through the injected resolver: (addresses, latency_ms, error)."""
        started = self._clock()
        try:
            async with asyncio.timeout(timeout or self.timeout):
                addresses = await self._resolver(host)
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            return [], None, SourceError("timeout", f"resolving {host} timed out")
        except Exception as exc:
            return [], None, SourceError("dns", f"cannot resolve {host}: {exc}")
        latency = (self._clock() - started) * 1000
        if not addresses:
            return [], latency, SourceError("dns", f"{host} has no addresses")
        return list(addresses), latency, None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _headers(resp: aiohttp.ClientResponse) -> dict[str, str]:
    """Response headers with lower-case names (a repeated header keeps its last value)."""
    return {k.lower(): v for k, v in resp.headers.items()}


async def _read_capped(resp: aiohttp.ClientResponse, cap: int) -> bytes:
    """The body, or ``_TooLarge`` as soon as more than ``cap`` bytes arrived (never buffers
    more than one chunk past the cap; decompressed size counts)."""
    length = resp.content_length
    if length is not None:
        if length > cap:
            raise _TooLarge
        if "Content-Encoding" not in resp.headers:
            return await resp.read()  # the declared length is what arrives: already capped
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > cap:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def classify(exc: BaseException) -> SourceError:
    """The stable error kind for an exception raised while fetching."""
    message = str(exc) or exc.__class__.__name__
    if isinstance(exc, SSRFRefused):
        return SourceError("ssrf", message)
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        cause = exc.__cause__ or exc.os_error
        return SourceError("dns", str(cause) if str(cause) else f"cannot resolve {exc.host}")
    if isinstance(exc, (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError, ssl.SSLError, ssl.CertificateError)):
        return SourceError("tls", message)
    if isinstance(exc, TimeoutError):
        return SourceError("timeout", "timed out" if not str(exc) else message)
    if isinstance(exc, aiohttp.InvalidURL) or (isinstance(exc, ValueError) and not isinstance(exc, aiohttp.ClientError)):
        return SourceError("invalid_url", message)
    if isinstance(exc, (aiohttp.ClientConnectionError, ConnectionError, OSError)):
        return SourceError("connection", message)
    return SourceError("http", f"{exc.__class__.__name__}: {message}")
