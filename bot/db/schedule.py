"""The scheduler's two per-round statements on ``source_state``, written by hand.

Why: every round of the scheduler asks which sources are due (and leases them) and when the
next one is; through the ORM, building those statements (query cloning, filter resolution)
cost several times what the database took to answer them — most of a round's time when only
a few sources are due, as in ``simulate`` or a small catalog. Values are bound as the ORM
binds them (``db_value``); PostgreSQL locks the claimed rows and skips rows another process
is claiming (``FOR UPDATE SKIP LOCKED``); SQLite has a single writer.

A row is claimable when it is unleased, its lease ran out, or it is one of ``orphaned``:
ours, leased, but its result could not be written (why: the comment above ``Scheduler._claim``).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from bot.db.batch import db_value, marks
from bot.db.models import SourceState


def _claimable(conn: Any, now: datetime, owner: str, orphaned: Collection[str], first: int) -> tuple[str, list[Any]]:
    """The WHERE condition for a claimable row, its parameters numbered from ``first``."""
    params: list[Any] = [db_value(SourceState, "lease_until", now)]
    m = marks(conn, 1, first)
    sql = f'("lease_until" IS NULL OR "lease_until" <= {m[0]}'
    if orphaned:
        keys = sorted(orphaned)
        m = marks(conn, 1 + len(keys), first + 1)
        sql += f' OR ("owner" = {m[0]} AND "key" IN ({", ".join(m[1:])}))'
        params += [owner, *keys]
    return sql + ")", params


def _due_time(value: Any) -> datetime:
    return SourceState._meta.fields_map["next_due"].to_python_value(value)  # type: ignore[no-any-return]


async def claim_due(
    conn: Any, now: datetime, *, owner: str, lease_until: datetime, limit: int, orphaned: Collection[str] = ()
) -> list[tuple[str, int, datetime]]:
    """Lease up to ``limit`` claimable rows due at ``now``, earliest first, to ``owner`` until
    ``lease_until``: ``(key, consecutive_errors, next_due)`` each — not the stored reading
    (decoding 500 JSON readings per round stalled the loop).

    One statement, atomic by itself (no transaction around it): the due rows are chosen (and
    on PostgreSQL locked, skipping rows another process is claiming) and leased at once. A
    transaction of a select and an update cost five round trips to SQLite's worker thread,
    some 70 µs of CPU each, on every round. (``WITH`` first: tortoise's PostgreSQL client reads
    no rows back from a statement that starts with ``UPDATE``.)"""
    (m_now,) = marks(conn, 1)
    where, params = _claimable(conn, now, owner, orphaned, 2)
    m_limit, m_owner, m_lease = marks(conn, 3, 2 + len(params))  # (numbered in the order they appear: SQLite's are "?")
    lock = " FOR UPDATE SKIP LOCKED" if conn.capabilities.dialect == "postgres" else ""
    sql = (
        f'WITH "due" AS (SELECT "key" FROM "source_state" WHERE "next_due" <= {m_now} AND {where} '
        f'ORDER BY "next_due" LIMIT {m_limit}{lock}) '
        f'UPDATE "source_state" SET "owner" = {m_owner}, "lease_until" = {m_lease} WHERE "key" IN (SELECT "key" FROM "due") '
        'RETURNING "key", "consecutive_errors", "next_due"'
    )
    values = [db_value(SourceState, "next_due", now), *params, limit, owner, db_value(SourceState, "lease_until", lease_until)]
    _, rows = await conn.execute_query(sql, values)
    claimed = [(str(row[0]), int(row[1]), _due_time(row[2])) for row in rows]
    claimed.sort(key=lambda row: row[2])  # (RETURNING keeps no order)
    return claimed


async def earliest_due(conn: Any, now: datetime, *, owner: str, orphaned: Collection[str] = ()) -> datetime | None:
    """The earliest ``next_due`` of a claimable row (None when there is none)."""
    where, params = _claimable(conn, now, owner, orphaned, 1)
    _, rows = await conn.execute_query(f'SELECT MIN("next_due") FROM "source_state" WHERE {where}', params)
    value = rows[0][0] if rows else None
    return _due_time(value) if value is not None else None


__all__ = ["claim_due", "earliest_due"]
