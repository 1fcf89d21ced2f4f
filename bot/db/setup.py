"""Connecting tortoise and applying migrations.

Tortoise 1.x keeps its connections in a context variable: call ``init_db`` in the task that
later creates the workers (tasks copy the context at creation), never inside a worker.

``init_db`` also guards tortoise's pooled transactions (PostgreSQL) against a connection that
died while idle in the pool (``pg_terminate_backend``, a server restart, a failover): tortoise
1.1 sets the task's connection to the transaction *before* ``BEGIN``, so when ``BEGIN`` fails
on the dead connection the task keeps pointing at a transaction that will never work again,
and the pool never gets that connection back. A long-lived loop (the scheduler, the delivery
worker) would fail every query until the process restarts, and after a few such deaths the
pool would be empty. The guard undoes both when entering the transaction fails.

On PostgreSQL, ``upgrade`` holds an advisory lock while it migrates: several ``run`` processes
started together (a Procfile with several workers) apply each migration once, one after the
other, instead of racing to create the same tables.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate

from bot.db.loop_sqlite import ENGINE as LOOP_SQLITE_ENGINE

MODELS = ["bot.db.models"]
MIGRATIONS = "bot.db.migrations"
#: the advisory lock ``upgrade`` holds on PostgreSQL (any constant of our own)
MIGRATION_LOCK = 0x0DB07A6E
#: SQLite's database that lives in its connection's memory
IN_MEMORY = "sqlite://:memory:"
#: The crowd's rate-limit index (user pseudonym, service, time), as tortoise names the one
#: ``CrowdReport`` declares. Only PostgreSQL reads it (several processes write reports, so each
#: report asks the database who counted lately); SQLite's one process keeps that window in
#: memory (``CrowdService``), and there this index on a random key was the largest cost of
#: writing a burst of reports (x-outage: 0.7–1.0 of 5.5 CPU-s). ``sqlite_trimmed`` drops it.
RATE_LIMIT_INDEX = "idx_crowd_repor_user_ha_ae7643"


def in_memory(database_url: str) -> bool:
    """SQLite's in-memory database (``sqlite://:memory:``, with or without options)."""
    return database_url.split("?", 1)[0] == IN_MEMORY


def guard_pooled_transactions() -> None:
    """Make a failed ``BEGIN`` of a pooled transaction leave nothing behind (see module
    docstring): reset the task's connection and give the connection back to the pool, where
    asyncpg replaces a dead one. Idempotent."""
    from tortoise.backends.base.client import TransactionContextPooled
    from tortoise.connection import get_connections

    if getattr(TransactionContextPooled.__aenter__, "_outage_bot_guard", False):
        return
    enter = TransactionContextPooled.__aenter__

    async def guarded_enter(self: TransactionContextPooled) -> Any:
        try:
            return await enter(self)
        except BaseException:
            token = getattr(self, "token", None)  # set only once a connection was acquired
            if token is not None:
                get_connections().reset(token)
            connection, pool = self.client._connection, self.client._parent._pool
            if connection is not None and pool is not None:
                self.client._connection = None
                await pool.release(connection)
            raise

    guarded_enter._outage_bot_guard = True  # type: ignore[attr-defined]
    TransactionContextPooled.__aenter__ = guarded_enter  # type: ignore[method-assign]


def tortoise_config(database_url: str, *, on_loop_thread: bool = False) -> dict[str, Any]:
    """The tortoise config for ``database_url`` (one app, ``models``, with our migrations).
    ``on_loop_thread``: a SQLite database's statements run on the event loop's thread
    (``bot.db.loop_sqlite``, for ``simulate``), not on aiosqlite's worker thread."""
    url = _with_sqlite_pragmas(database_url)
    connection: str | dict[str, Any] = url
    if on_loop_thread and url.startswith("sqlite://"):
        connection = {**expand_db_url(url), "engine": LOOP_SQLITE_ENGINE}
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": MODELS,
                "default_connection": "default",
                "migrations": MIGRATIONS,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _with_sqlite_pragmas(url: str) -> str:
    """SQLite with a busy timeout (tortoise already sets WAL), so a reader never fails a write."""
    if not url.startswith("sqlite://") or in_memory(url) or "busy_timeout" in url:
        return url
    return url + ("&" if "?" in url else "?") + "busy_timeout=5000"


def ensure_sqlite_dir(database_url: str) -> None:
    """Create the directory of a SQLite file (``sqlite://data/x.sqlite3`` → ``data/``)."""
    if database_url.startswith("sqlite://") and not in_memory(database_url):
        path = database_url[len("sqlite://"):].split("?", 1)[0]
        parent = Path(path).parent
        if str(parent) not in ("", "."):
            parent.mkdir(parents=True, exist_ok=True)


async def upgrade(database_url: str) -> None:
    """Apply every pending migration (``python -m bot db upgrade``; also done by ``run``)."""
    ensure_sqlite_dir(database_url)
    async with _one_migrator(database_url):
        await migrate(config=tortoise_config(database_url), direction="forward")
        await close_db()


@asynccontextmanager
async def _one_migrator(database_url: str) -> AsyncIterator[None]:
    """On PostgreSQL: wait for any other process migrating the same database (its own
    connection holds the lock; closing it releases the lock, even after a crash)."""
    scheme = database_url.split("://", 1)[0]
    if scheme not in ("postgres", "postgresql", "asyncpg"):
        yield
        return
    import asyncpg

    dsn = urlsplit(database_url)._replace(scheme="postgresql", query="").geturl()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        yield
    finally:
        await conn.close()


async def sqlite_trimmed(client: Any) -> None:
    """Drop on SQLite what only PostgreSQL reads (``RATE_LIMIT_INDEX``); nothing elsewhere.
    Migration 0011 runs it on existing databases, ``build_from_models`` on new in-memory ones."""
    if client.capabilities.dialect == "sqlite":
        await client.execute_script(f'DROP INDEX IF EXISTS "{RATE_LIMIT_INDEX}"')


async def build_from_models() -> None:
    """Create the connected (empty) database's tables from the models, as the migrations would
    leave them (a test compares the two)."""
    await Tortoise.generate_schemas()
    await sqlite_trimmed(Tortoise.get_connection("default"))


async def init_db(database_url: str, *, apply_migrations: bool = True, on_loop_thread: bool = False) -> None:
    """Migrate (by default) and open the connections for this task's context
    (``on_loop_thread``: see ``tortoise_config``)."""
    fresh = in_memory(database_url)  # (lives and dies with the connection init_db opens)
    if apply_migrations and not fresh:
        await upgrade(database_url)
    ensure_sqlite_dir(database_url)
    guard_pooled_transactions()
    config = tortoise_config(database_url, on_loop_thread=on_loop_thread)
    await Tortoise.init(config=config)
    if apply_migrations and fresh:
        # An in-memory database lives as long as its connection: ``upgrade``'s own connection
        # would migrate one that is gone when it closes. It starts empty, so it is built from
        # the models — the schema the migrations build (a test compares them), in a
        # fiftieth of the time (4 ms against 0.2 s of CPU: ``simulate`` starts with it).
        await build_from_models()


async def close_db() -> None:
    """Close the connections and forget the compiled queries.

    Tortoise caches each model's INSERT statement by connection *name*, not by dialect, so
    opening a PostgreSQL database after a SQLite one in the same process (the tests do) would
    reuse SQLite's ``?`` placeholders; clearing the cache here prevents that.
    """
    from tortoise.backends.base import executor

    await Tortoise.close_connections()
    await Tortoise._reset_apps()
    executor.EXECUTOR_CACHE.clear()



