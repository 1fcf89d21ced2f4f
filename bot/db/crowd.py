"""The crowd store's statements on ``crowd_reports``, ``crowd_buckets`` and its salt, written by
hand where the ORM spent longer building a statement than the database took to run it (a
burst of reports is thousands a minute). ``bot.services.crowd.CrowdService`` is their one
caller: it owns the rules (who counts, the transaction, the in-memory window).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import Any

from tortoise.exceptions import IntegrityError

from bot.db.batch import db_value, insert_many, marks
from bot.db.models import CrowdBucket, CrowdReport, KeyValue
from bot.detect.baseline import bucket_start
from bot.detect.crowd import Bucket, BucketCounts

#: where the report-hash salt is kept (``KeyValue``)
SALT_KEY = "crowd:salt"



async def load_or_create_salt() -> bytes:
    """The report-hash salt: made with ``secrets`` on the very first start, then reused (a new
    salt would make every user look new to the rate limit)."""
    row = await KeyValue.get_or_none(key=SALT_KEY)
    if row is None:
        try:
            row = await KeyValue.create(key=SALT_KEY, value={"hex": secrets.token_bytes(32).hex()})
        except IntegrityError:  # another process created it first
            row = await KeyValue.get(key=SALT_KEY)
    return bytes.fromhex(row.value["hex"])


async def add_to_bucket(conn: Any, service_id: str, start: datetime, amount: float) -> None:
    """Add ``amount`` to a bucket's count, creating the bucket when it is the first report, in
    one upsert. It also takes the bucket row's lock until the transaction ends (PostgreSQL waits
    for a concurrent insert of the same bucket to commit, then updates it): adding 0.0 first
    serializes one service's reports within a bucket. Hand-written because the ORM spent
    three statements (exists, create, lock) and most of their time building them."""
    m = marks(conn, 3)
    sql = (
        f'INSERT INTO "crowd_buckets" ("service_id", "bucket_start", "count") VALUES ({m[0]}, {m[1]}, {m[2]}) '
        'ON CONFLICT ("service_id", "bucket_start") DO UPDATE SET "count" = "crowd_buckets"."count" + EXCLUDED."count"'
    )
    await conn.execute_query(sql, [service_id, db_value(CrowdBucket, "bucket_start", start), float(amount)])


async def lock_bucket(conn: Any, service_id: str, start: datetime) -> None:
    """Hold the bucket row's lock until the transaction ends, so one service's reports in one
    bucket are weighed one at a time (PostgreSQL: adding 0.0 takes the row lock). SQLite needs
    no statement for it: a transaction there holds the process's one connection (tortoise's
    connection lock), so nothing else runs until it ends — and a burst of thousands of reports
    a minute saves a statement per batch."""
    if conn.capabilities.dialect == "sqlite":
        return
    await add_to_bucket(conn, service_id, start, 0.0)


async def last_counted(conn: Any, service_id: str, user_hashes: set[str] | None, since: datetime) -> dict[str, datetime]:
    """When each of ``user_hashes`` (None: every user) last had a report of the service counted
    after ``since``, oldest first; a user without one is absent. One query (the ORM took longer
    to build this ``IN`` list than the database took to answer it)."""
    if user_hashes is not None and not user_hashes:
        return {}
    m = marks(conn, len(user_hashes or ()) + 2)
    sql = f'SELECT "user_hash", MAX("at") FROM "crowd_reports" WHERE "service_id" = {m[0]} AND "counted" AND "at" > {m[1]}'
    if user_hashes is not None:
        sql += f' AND "user_hash" IN ({", ".join(m[2:])})'
    sql += ' GROUP BY "user_hash"'
    _, rows = await conn.execute_query(sql, [service_id, db_value(CrowdReport, "at", since), *(user_hashes or ())])
    last = {str(row[0]): _read_at(row[1]) for row in rows}
    return dict(sorted(last.items(), key=lambda item: item[1]))


def _read_at(value: object) -> datetime:
    """A ``MAX("at")``: asyncpg gives a datetime, SQLite the text tortoise stored."""
    if isinstance(value, datetime):
        return aware(value)
    return aware(datetime.fromisoformat(str(value)))


async def bucket_counts(service_id: str, start: datetime, now: datetime) -> BucketCounts:
    """Counted reports in ``[start, now]`` per bucket, guild and problem, in one query."""
    counts = BucketCounts()
    rows = await CrowdReport.filter(service_id=service_id, counted=True, at__gte=start, at__lte=now).values_list(
        "guild_id", "problem", "weight", "at", "country"
    )
    for guild_id, problem, weight, at, country in rows:
        if weight:
            counts.buckets.setdefault(bucket_start(aware(at)), Bucket()).add(int(guild_id or 0), problem, float(weight), country)
    return counts


_REPORT_COLUMNS = ("service_id", "guild_id", "user_hash", "problem", "weight", "counted", "at", "country")


async def insert_reports(conn: Any, rows: list[dict[str, object]]) -> None:
    """One ``executemany`` for a batch of reports, without a model object per report."""
    await insert_many(conn, CrowdReport, _REPORT_COLUMNS, rows)


def aware(dt: datetime) -> datetime:
    """Database datetimes as UTC-aware (SQLite may hand back naive ones)."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)


__all__ = [
    "SALT_KEY", "add_to_bucket", "aware", "bucket_counts", "insert_reports", "last_counted", "load_or_create_salt", "lock_bucket",
]  # fmt: skip
