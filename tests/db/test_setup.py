"""``bot.db.setup`` against a real PostgreSQL whose connections are killed under the pool."""

from __future__ import annotations

import asyncpg
from tortoise import Tortoise
from tortoise.transactions import in_transaction

from bot.db.models import SourceState
from tests.conftest import TestDB, _asyncpg_dsn, postgres_url


async def _our_backend_pid() -> int:
    [row] = await Tortoise.get_connection("default").execute_query_dict("SELECT pg_backend_pid() AS pid")
    return int(row["pid"])


async def test_a_transaction_begun_on_a_killed_connection_does_not_poison_the_task(postgres_db: TestDB) -> None:
    """``pg_terminate_backend`` kills the pool's idle connection; the next ``in_transaction``
    fails on it (asyncpg has not noticed yet). That failure must stay one failure: the task's
    later queries and transactions work again and the pool does not lose a connection — more
    rounds than the pool has connections (tortoise's default 5) prove nothing leaks."""
    base = postgres_url()
    assert base is not None
    killer = await asyncpg.connect(_asyncpg_dsn(base))
    try:
        failures = 0
        for _ in range(7):
            pid = await _our_backend_pid()
            await killer.execute("SELECT pg_terminate_backend($1)", pid)
            try:
                async with in_transaction() as conn:
                    await SourceState.all().using_db(conn).count()
            except Exception:
                failures += 1  # the transaction that met the dead connection may fail, once
            assert await SourceState.all().count() == 0  # the task is not stuck on a dead connection
            async with in_transaction() as conn:
                assert await SourceState.all().using_db(conn).count() == 0
        assert failures >= 1  # the kill really landed under a transaction at least once
    finally:
        await killer.close()
