"""``bot.db.loop_sqlite`` (simulate's engine) and the in-memory database ``init_db`` opens."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pytest
from tortoise import Tortoise
from tortoise.transactions import in_transaction

from bot.db.batch import insert_many
from bot.db.loop_sqlite import ENGINE, LoopConnection
from bot.db.models import CrowdBucket, KeyValue
from bot.db.setup import close_db, init_db, tortoise_config

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)

@pytest.fixture
async def loop_db() -> AsyncIterator[None]:
    await init_db("sqlite://:memory:", on_loop_thread=True)
    try:
        yield
    finally:
        await close_db()


def _raw_connection() -> object:
    connection = Tortoise.get_connection("default")._connection  # type: ignore[attr-defined]
    assert isinstance(connection, LoopConnection)
    return connection._conn


async def test_statements_run_on_the_loops_own_thread(loop_db: None) -> None:
    """The whole point: no hop to a worker thread (aiosqlite's would answer another ident)."""
    _raw_connection().create_function("thread_ident", 0, threading.get_ident)  # type: ignore[attr-defined]
    _, rows = await Tortoise.get_connection("default").execute_query("SELECT thread_ident()")
    assert rows[0][0] == threading.get_ident()


async def test_a_loop_of_statements_lets_other_tasks_run(loop_db: None) -> None:
    """Each statement is a turn of the loop, as awaiting the thread was: a task querying in a
    loop does not starve the others (a poll loop that never yields would hang ``simulate``)."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = ticks
    for _ in range(50):
        await KeyValue.filter(key="nothing").count()
    task.cancel()
    assert ticks - before >= 50


async def test_transactions_commit_and_roll_back_as_tortoises_own(loop_db: None) -> None:
    async with in_transaction():
        await KeyValue.create(key="kept", value={"n": 1})
    with pytest.raises(RuntimeError):
        async with in_transaction() as conn:
            await KeyValue.create(key="undone", value={"n": 2}, using_db=conn)
            await insert_many(conn, KeyValue, ("key", "value", "updated_at"), [{"key": "undone too", "value": {}, "updated_at": NOW}])
            raise RuntimeError("boom")
    assert [row.key for row in await KeyValue.all()] == ["kept"]
    assert (await KeyValue.get(key="kept")).value == {"n": 1}


async def test_a_created_row_reads_its_id_back(loop_db: None) -> None:
    first = await CrowdBucket.create(service_id="x", bucket_start=NOW, count=1.0)
    second = await CrowdBucket.create(service_id="x", bucket_start=NOW + timedelta(minutes=5), count=2.0)
    assert second.id == first.id + 1
    assert (await CrowdBucket.get(id=second.id)).count == 2.0


async def test_an_in_memory_database_is_migrated_on_the_connection_that_uses_it() -> None:
    """``sqlite://:memory:`` (a valid DATABASE_URL) is one database per connection: migrating
    it on ``upgrade``'s own connection left ``run`` with no tables."""
    await init_db("sqlite://:memory:")
    try:
        await KeyValue.create(key="k", value={})
        assert await KeyValue.filter(key="k").exists()
    finally:
        await close_db()


def test_only_sqlite_asked_to_runs_on_the_loop_thread() -> None:
    assert tortoise_config("sqlite://:memory:", on_loop_thread=True)["connections"]["default"]["engine"] == ENGINE
    assert tortoise_config("sqlite://data/x.sqlite3")["connections"]["default"].startswith("sqlite://")
    url = "postgres://bot@127.0.0.1:5432/bot"
    assert tortoise_config(url, on_loop_thread=True)["connections"]["default"] == url
