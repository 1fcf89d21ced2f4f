"""Shared database fixtures: every DB test runs on SQLite and, when configured, PostgreSQL.

Fixtures (use them by name in any test under ``tests/``):

* ``db`` — parametrized ``[sqlite, postgres]``: a migrated, connected database for this test
  (``bot.db.setup.init_db`` in the test's own task, closed afterwards). Yields a ``TestDB``
  with ``url`` (a tortoise URL: re-``init_db(url, apply_migrations=False)`` it to simulate a
  restart) and ``dialect`` (``"sqlite"`` or ``"postgres"``). The PostgreSQL case runs when
  ``TEST_POSTGRES_URL`` is set (e.g. ``postgres://postgres@127.0.0.1:5432/test``) and is
  skipped with a visible reason otherwise.
* ``sqlite_db`` / ``postgres_db`` — the same for one backend only (``postgres_db`` skips
  without ``TEST_POSTGRES_URL``), for tests that only make sense on one of them (row locks).

Isolation: SQLite gets a fresh file in ``tmp_path``; PostgreSQL gets a fresh schema
(``t_<random>``, via tortoise's ``?schema=`` which sets ``search_path``) that is dropped
afterwards, so tests — and several test runs sharing one server — never see each other's rows.
Use ``make_db_url(dialect, tmp_path)`` (an async context manager) when a test needs a second,
independent database.

An autouse fixture clears tortoise's process-wide INSERT/DELETE SQL cache before every test:
it is keyed by connection name, not backend, so SQLite SQL would otherwise reach PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator
from urllib.parse import urlsplit

import pytest

from bot.db.setup import close_db, init_db

POSTGRES_ENV = "TEST_POSTGRES_URL"
NO_POSTGRES = f"{POSTGRES_ENV} is not set (e.g. postgres://postgres@127.0.0.1:5432/test): PostgreSQL case skipped"


@dataclass(frozen=True, slots=True)
class TestDB:
    """A connected test database: its tortoise ``url`` and ``dialect`` (sqlite | postgres)."""

    __test__ = False  # not a test class, despite the name

    url: str
    dialect: str

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgres"


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV, "").strip() or None


@asynccontextmanager
async def make_db_url(dialect: str, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database for ``dialect`` (not yet migrated or connected); removed afterwards."""
    if dialect == "sqlite":
        yield f"sqlite://{tmp_path / f'test-{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    base = postgres_url()
    if base is None:
        pytest.skip(NO_POSTGRES)
    import asyncpg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    dsn = _asyncpg_dsn(base)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()
    try:
        yield base + ("&" if "?" in base else "?") + f"schema={schema}"
    finally:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()


def _asyncpg_dsn(url: str) -> str:
    """asyncpg wants ``postgresql://`` and no tortoise-only query options."""
    parts = urlsplit(url)
    return parts._replace(scheme="postgresql", query="").geturl()


@asynccontextmanager
async def _connected(dialect: str, tmp_path: Path) -> AsyncIterator[TestDB]:
    async with make_db_url(dialect, tmp_path) as url:
        forget_dialect()
        await init_db(url)
        try:
            yield TestDB(url=url, dialect=dialect)
        finally:
            await close_db()
            forget_dialect()


def forget_dialect() -> None:
    """Drop tortoise's process-wide cache of INSERT/DELETE SQL: it is keyed by connection name
    ("default"), not by backend, so SQL built for SQLite would be sent to PostgreSQL (``?``
    placeholders) after switching. Production uses one backend per process; tests switch."""
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    EXECUTOR_CACHE.clear()


@pytest.fixture(autouse=True)
def _tortoise_sql_cache_per_test() -> None:
    """Every test starts without SQL cached for another backend (see ``forget_dialect``);
    tests that open their own connections (not through ``db``) need this too."""
    forget_dialect()


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TestDB]:
    """A migrated, connected database: SQLite always, PostgreSQL when TEST_POSTGRES_URL is set."""
    if request.param == "postgres" and postgres_url() is None:
        pytest.skip(NO_POSTGRES)
    async with _connected(request.param, tmp_path) as test_db:
        yield test_db


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[TestDB]:
    """A migrated, connected SQLite database in ``tmp_path``."""
    async with _connected("sqlite", tmp_path) as test_db:
        yield test_db


@pytest.fixture
async def postgres_db(tmp_path: Path) -> AsyncIterator[TestDB]:
    """A migrated, connected PostgreSQL schema (skipped without TEST_POSTGRES_URL)."""
    if postgres_url() is None:
        pytest.skip(NO_POSTGRES)
    async with _connected("postgres", tmp_path) as test_db:
        yield test_db
