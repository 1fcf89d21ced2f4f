"""``insert_many`` and ``update_many`` write exactly what the ORM would, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tortoise import Tortoise

from bot.db.batch import insert_many, update_many
from bot.db.models import CrowdReport, SourceState
from tests.conftest import TestDB

T0 = datetime(2026, 11, 21, 12, 51, tzinfo=timezone.utc)
COLUMNS = ("service_id", "guild_id", "user_hash", "problem", "weight", "counted", "at", "country")


async def test_a_batch_of_rows_reads_back_as_written_even_when_values_repeat_or_merely_compare_equal(db: TestDB) -> None:
    """Each column's conversion is remembered per value: 1 and True, 1 and 1.0, or one instant
    in two time zones compare equal, yet each row must read back as what it was given."""
    plus3 = timezone(timedelta(hours=3))
    rows = [
        {"service_id": "x", "guild_id": 1, "user_hash": "a", "problem": "app", "weight": 1, "counted": True, "at": T0, "country": "IQ"},
        {"service_id": "x", "guild_id": None, "user_hash": "b", "problem": "app", "weight": 1.0, "counted": False, "at": T0.astimezone(plus3), "country": None},
        {"service_id": "x", "guild_id": 1, "user_hash": "c", "problem": "login", "weight": 0.5, "counted": True, "at": T0 + timedelta(seconds=1), "country": "IQ"},
    ]  # fmt: skip
    conn = Tortoise.get_connection("default")
    await insert_many(conn, CrowdReport, COLUMNS, rows)
    await CrowdReport.create(**(rows[1] | {"user_hash": "b-orm"}))  # the ORM's own write of row b
    _, raw = await conn.execute_query('SELECT "user_hash", "at" FROM "crowd_reports" WHERE "user_hash" IN (\'b\', \'b-orm\')')
    assert len({str(row[1]) for row in raw}) == 1  # (byte for byte what the ORM writes, zone included)
    await CrowdReport.filter(user_hash="b-orm").delete()
    stored = await CrowdReport.all().order_by("user_hash")
    assert [(r.user_hash, r.guild_id, r.problem, r.weight, r.counted, r.at, r.country) for r in stored] == [
        ("a", 1, "app", 1.0, True, T0, "IQ"),
        ("b", None, "app", 1.0, False, T0, None),
        ("c", 1, "login", 0.5, True, T0 + timedelta(seconds=1), "IQ"),
    ]


async def test_rows_changing_different_columns_are_each_updated_with_only_their_own_changes(db: TestDB) -> None:
    for key in ("a:0", "b:0", "c:0"):
        await SourceState.create(key=key, service_id=key[0], kind="http", next_due=T0, consecutive_errors=3, owner="w1", lease_until=T0)
    later = T0 + timedelta(minutes=1)
    await update_many(Tortoise.get_connection("default"), SourceState, {
        "a:0": {"next_due": later, "consecutive_errors": 0, "owner": None, "lease_until": None},
        "b:0": {"next_due": later, "consecutive_errors": 0, "owner": None, "lease_until": None, "last_observation": {"status": "major"}},
        "c:0": {"consecutive_errors": 4},
    })  # fmt: skip
    rows = {r.key: r for r in await SourceState.all()}
    assert (rows["a:0"].next_due, rows["a:0"].consecutive_errors, rows["a:0"].owner, rows["a:0"].last_observation) == (later, 0, None, None)
    assert rows["b:0"].last_observation == {"status": "major"} and rows["b:0"].lease_until is None
    assert (rows["c:0"].next_due, rows["c:0"].consecutive_errors, rows["c:0"].owner) == (T0, 4, "w1")


async def test_a_long_batch_of_repeating_mixed_and_distinct_columns_reads_back_as_written(db: TestDB) -> None:
    """Each column is converted a column at a time, each distinct value once: columns of one
    type (problems), of mixed types (1, 1.0 and 0.5), with None (guilds, countries) or all
    distinct (user hashes) — each row reads back as given."""
    rows = [
        {"service_id": "x", "guild_id": i % 3 or None, "user_hash": f"u{i:03d}", "problem": ("app", "login")[i % 2],
         "weight": (1, 1.0, 0.5)[i % 3], "counted": i % 4 != 0, "at": T0 + timedelta(seconds=i % 5), "country": ("IQ", None)[i % 2]}
        for i in range(300)
    ]  # fmt: skip
    await insert_many(Tortoise.get_connection("default"), CrowdReport, COLUMNS, rows)
    stored = await CrowdReport.all().order_by("user_hash")
    assert [(r.user_hash, r.guild_id, r.problem, r.weight, r.counted, r.at, r.country) for r in stored] == [
        (row["user_hash"], row["guild_id"], row["problem"], float(row["weight"]), row["counted"], row["at"], row["country"])  # type: ignore[arg-type]
        for row in rows
    ]


async def test_one_instant_in_two_zones_down_a_column_reads_back_as_one_instant(db: TestDB) -> None:
    """A column repeating one instant in Baghdad's zone, with the same instant in UTC beside it
    (equal values the conversion memo keeps apart): every row reads back as that instant."""
    from zoneinfo import ZoneInfo

    baghdad = T0.astimezone(ZoneInfo("Asia/Baghdad"))
    rows = [{"service_id": "x", "guild_id": 7, "user_hash": f"h{i:02d}", "problem": "login", "weight": 1.0,
             "counted": True, "at": baghdad if i % 10 else T0, "country": "IQ"} for i in range(40)]  # fmt: skip
    await insert_many(Tortoise.get_connection("default"), CrowdReport, COLUMNS, rows)
    stored = await CrowdReport.all().order_by("user_hash")
    assert len(stored) == 40 and {r.at for r in stored} == {T0} and {r.problem for r in stored} == {"login"}


def test_values_that_merely_compare_equal_are_converted_each_as_itself() -> None:
    """-0.0 == 0.0 and 1 == 1.0 == True: a column holding both keeps each as it was given."""
    import math

    from bot.db.batch import _convert_column, _field_db_value

    weight = CrowdReport._meta.fields_map["weight"]
    weights = _convert_column(weight, [0.0, -0.0, 0.5, -0.0])
    assert [math.copysign(1, w) for w in weights] == [1, -1, 1, -1]
    for field in (weight, CrowdReport._meta.fields_map["guild_id"], CrowdReport._meta.fields_map["counted"]):
        values = [1, 1.0, True, None, 1]
        converted = _convert_column(field, values)
        alone = [_field_db_value(field, value) for value in values]
        assert [(type(v), v) for v in converted] == [(type(v), v) for v in alone]


class Statements:
    """The real connection, with a record of the rows each ``executemany`` was given and of
    what else ran while it did (an observer: every call goes to the database)."""

    def __init__(self, conn: Any) -> None:
        self.conn, self.batches, self.running = conn, [], False
        self.capabilities = conn.capabilities

    async def execute_many(self, sql: str, values: list[Any]) -> None:
        self.batches.append(len(values))
        self.running = True
        try:
            await self.conn.execute_many(sql, values)
        finally:
            self.running = False

    async def execute_query(self, sql: str, values: list[Any]) -> Any:
        self.batches.append(1)
        return await self.conn.execute_query(sql, values)


def _report(i: int) -> dict[str, Any]:
    return {"service_id": "x", "guild_id": i, "user_hash": f"u{i:02}", "problem": "app", "weight": 1.0,
            "counted": True, "at": T0 + timedelta(seconds=i), "country": None}


async def test_a_chunked_batch_writes_every_row_a_statement_per_chunk(db: TestDB) -> None:
    """An alert to 20,000 channels is written in chunks so the loop runs other tasks between
    two: each chunk is its own statement, and every row arrives once, as given."""
    statements = Statements(Tortoise.get_connection("default"))
    await insert_many(statements, CrowdReport, COLUMNS, (_report(i) for i in range(7)), chunk=3)
    assert statements.batches == [3, 3, 1]
    stored = await CrowdReport.all().order_by("guild_id").values_list("guild_id", "user_hash", "at")
    assert stored == [(i, f"u{i:02}", T0 + timedelta(seconds=i)) for i in range(7)]
    statements.batches.clear()
    await insert_many(statements, CrowdReport, COLUMNS, [], chunk=3)
    assert statements.batches == []
    with pytest.raises(ValueError):  # zero rows a statement would write nothing, silently
        await insert_many(statements, CrowdReport, COLUMNS, [_report(9)], chunk=0)


async def test_a_chunk_that_cannot_be_converted_leaves_nothing_of_the_batch_in_a_transaction(db: TestDB) -> None:
    """The third chunk's row fails its field's validation after two chunks were written: the
    error reaches the caller, and the caller's transaction leaves none of the batch behind."""
    from tortoise.exceptions import ValidationError
    from tortoise.transactions import in_transaction

    rows = [_report(i) for i in range(7)]
    rows[6]["service_id"] = "s" * 500  # longer than the column allows
    with pytest.raises(ValidationError):
        async with in_transaction() as conn:
            statements = Statements(conn)
            await insert_many(statements, CrowdReport, COLUMNS, rows, chunk=3)
    assert statements.batches == [3, 3] and not statements.running
    assert await CrowdReport.all().count() == 0
    await insert_many(Tortoise.get_connection("default"), CrowdReport, COLUMNS, rows[:6], chunk=3)  # the connection still works
    assert await CrowdReport.all().count() == 6
