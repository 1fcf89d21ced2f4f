"""SQLite run on the event loop's own thread: the engine of ``simulate``'s throwaway database.

Tortoise reaches SQLite through aiosqlite, which runs every statement on a worker thread so a
slow statement never stalls the loop — right for ``run``, where a gateway heartbeat or an
``/isitdown`` answer must not wait behind a purge. The price is a thread round trip per
statement (a queue put, a futex wake, a ``call_soon_threadsafe`` and the loop's self-pipe):
about 70 µs of CPU on a 2-core machine before any SQL, two thirds of the cost of a small
statement. ``simulate`` plays virtual time on loopback servers, where the loop stalling for a
statement's few milliseconds changes nothing anyone sees, and it runs some ten thousand
statements: there the hop is a sixth of the run's CPU.

This engine keeps tortoise's SQLite client (its SQL, its transactions, its connection lock)
and swaps the connection underneath for one that calls ``sqlite3`` directly and then yields
one turn of the loop (``asyncio.sleep(0)``), so a task that loops over statements still lets
the others run, as it did while awaiting the thread. Select it with
``tortoise_config(url, on_loop_thread=True)``; ``run`` never does.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from tortoise.backends.sqlite.client import SqliteClient

__all__ = ["ENGINE", "LoopConnection", "LoopSqliteClient", "client_class"]

#: this module's name, as a tortoise connection's ``engine``
ENGINE = __name__


class LoopConnection:
    """The part of ``aiosqlite.Connection`` that tortoise's SQLite client calls, each statement
    run on the calling thread and followed by one turn of the loop."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection  # (the name tortoise reads to set the row factory)

    @property
    def total_changes(self) -> int:
        return self._conn.total_changes

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> _Cursor:
        cursor = self._conn.execute(sql, tuple(parameters or ()))
        await asyncio.sleep(0)
        return _Cursor(cursor)

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any] | None = None) -> list[Any]:
        rows = self._conn.execute(sql, tuple(parameters or ())).fetchall()
        await asyncio.sleep(0)
        return rows

    async def execute_insert(self, sql: str, parameters: Iterable[Any] | None = None) -> sqlite3.Row | None:
        cursor = self._conn.execute(sql, tuple(parameters or ()))
        row = cursor.execute("SELECT last_insert_rowid()").fetchone()  # (as aiosqlite does)
        await asyncio.sleep(0)
        return row

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> _Cursor:
        cursor = self._conn.executemany(sql, parameters)
        await asyncio.sleep(0)
        return _Cursor(cursor)

    async def executescript(self, sql_script: str) -> _Cursor:
        cursor = self._conn.executescript(sql_script)
        await asyncio.sleep(0)
        return _Cursor(cursor)

    async def commit(self) -> None:
        self._conn.commit()
        await asyncio.sleep(0)

    async def rollback(self) -> None:
        self._conn.rollback()
        await asyncio.sleep(0)

    async def close(self) -> None:
        self._conn.close()


class _Cursor:
    """What tortoise does with a cursor ``execute`` returned: close it."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def close(self) -> None:
        self._cursor.close()


class LoopSqliteClient(SqliteClient):
    """Tortoise's SQLite client on a ``LoopConnection``: same SQL, same transactions."""

    async def create_connection(self, with_db: bool) -> None:
        if self._connection:
            return
        # tortoise's own settings: autocommit (it sends BEGIN itself), rows by column name
        raw = sqlite3.connect(self.filename, isolation_level=None)
        raw.row_factory = sqlite3.Row
        connection = LoopConnection(raw)
        try:
            for pragma, value in self.pragmas.items():
                await (await connection.execute(f"PRAGMA {pragma}={value}")).close()
        except BaseException:
            raw.close()  # (a bad pragma in the URL: no connection left open behind the error)
            raise
        self._connection = connection  # type: ignore[assignment]
        await self._post_connect()


#: tortoise's engine protocol: the module's client class
client_class = LoopSqliteClient
