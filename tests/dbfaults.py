"""The database going away and coming back, for tests of what backs off and what resumes.

``database_that_goes_away(dialect, tmp_path)`` yields ``(url, outage)``: a migrated database
(not yet connected) whose ``outage.down()`` / ``outage.up()`` take it away and give it back:

* PostgreSQL: the URL points at a loopback TCP proxy in front of the real server. ``down()``
  stops listening (new connections are refused) and cuts every open connection (the pool's
  connections die, as with ``pg_terminate_backend`` or a server restart); ``up()`` listens
  again on the same port.
* SQLite: ``down()`` takes an exclusive lock on the file from a second connection (another
  process writing, a backup tool) so every write fails with "database is locked" after the
  busy timeout (50 ms here, instead of production's 5 s); ``up()`` releases it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

from tests.conftest import make_db_url


class PgProxy:
    """A TCP proxy to ``target`` on a fixed loopback port that can refuse and cut connections."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    def down(self) -> None:
        """Refuse new connections and cut the open ones (synchronous: safe inside a handler)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()
                self._writers.discard(dst)

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))


class SqliteLock:
    """An exclusive lock on a SQLite file, held from a second connection."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None

    async def up(self) -> None:
        if self._conn is not None:
            self._conn.rollback()
            self._conn.close()
            self._conn = None

    def down(self) -> None:
        self._conn = sqlite3.connect(self.path, isolation_level=None, timeout=0)
        self._conn.execute("BEGIN EXCLUSIVE")


@asynccontextmanager
async def database_that_goes_away(dialect: str, tmp_path: Path) -> AsyncIterator[tuple[str, PgProxy | SqliteLock]]:
    """A migrated database (connect it with ``init_db(url, apply_migrations=False)``) and the
    switch that takes it away (see the module docstring)."""
    from bot.db.setup import upgrade

    async with make_db_url(dialect, tmp_path) as url:
        await upgrade(url)
        if dialect == "sqlite":
            path = url[len("sqlite://"):].split("?", 1)[0]
            lock = SqliteLock(path)
            try:
                yield url + ("&" if "?" in url else "?") + "busy_timeout=50", lock
            finally:
                await lock.up()
            return
        parts = urlsplit(url)
        proxy = PgProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
        await proxy.up()
        netloc = parts.netloc.rsplit(":", 1)[0] if parts.port else parts.netloc
        try:
            yield parts._replace(netloc=f"{netloc}:{proxy.port}").geturl(), proxy
        finally:
            proxy.down()
