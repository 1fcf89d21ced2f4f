"""Migrations apply (twice, idempotently) and every model round-trips, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from tortoise import Tortoise
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from bot.db import models as m
from bot.db.setup import RATE_LIMIT_INDEX, build_from_models, close_db, init_db, upgrade
from tests.conftest import make_db_url

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "bot" / "db" / "migrations"
T0 = datetime(2026, 11, 21, 12, 51, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path):
    """An empty database (a fresh schema on PostgreSQL) — tests connect themselves, in their
    own task, because tortoise keeps the connection in a context variable."""
    async with make_db_url(request.param, tmp_path) as url:
        yield url


@asynccontextmanager
async def connected(url: str, *, migrate: bool = True):
    await init_db(url, apply_migrations=migrate)
    try:
        yield
    finally:
        await close_db()


async def test_migrations_apply_twice_and_record_themselves(database_url: str) -> None:
    await upgrade(database_url)
    await upgrade(database_url)  # a second run finds nothing to do
    async with connected(database_url, migrate=False):
        conn = Tortoise.get_connection("default")
        _, rows = await conn.execute_query("SELECT name FROM tortoise_migrations")
        names = [r["name"] for r in rows]
    assert names == sorted(p.stem for p in MIGRATIONS_DIR.glob("0*.py"))


async def _schema() -> dict[str, object]:
    """The connected database's tables as the database itself describes them: each table's
    columns (order aside), indexes and foreign keys — tortoise's bookkeeping table aside."""
    conn = Tortoise.get_connection("default")
    schema: dict[str, object] = {}
    if conn.capabilities.dialect == "sqlite":
        _, tables = await conn.execute_query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'tortoise_migrations'"
        )
        for table in [row["name"] for row in tables]:
            _, columns = await conn.execute_query(f"PRAGMA table_info('{table}')")
            _, indexes = await conn.execute_query(f"PRAGMA index_list('{table}')")
            _, keys = await conn.execute_query(f"PRAGMA foreign_key_list('{table}')")
            indexed = {}  # by name: tortoise finds an index by its name to drop or alter it
            for index in indexes:
                _, parts = await conn.execute_query(f"PRAGMA index_info('{index['name']}')")
                indexed[index["name"]] = (tuple(part["name"] for part in parts), index["unique"])
            schema[table] = (
                {(c["name"], c["type"], c["notnull"], c["dflt_value"], c["pk"]) for c in columns},
                indexed,
                {(k["from"], k["table"], k["to"], k["on_delete"]) for k in keys},
            )
        return schema
    _, columns = await conn.execute_query(
        "SELECT table_name, column_name, data_type, character_maximum_length, numeric_precision, numeric_scale, is_nullable, "
        "column_default FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name != 'tortoise_migrations'"
    )
    for c in columns:
        schema.setdefault(c["table_name"], set()).add(tuple(c.values()))  # type: ignore[union-attr]
    _, indexes = await conn.execute_query(
        "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename != 'tortoise_migrations'"
    )
    schema["indexes"] = {(i["tablename"], re.sub(r" ON \S+\.", " ON ", i["indexdef"])) for i in indexes}  # (no schema name)
    _, keys = await conn.execute_query(
        "SELECT conrelid::regclass::text AS tab, pg_get_constraintdef(oid) AS def FROM pg_constraint "
        "WHERE connamespace = current_schema()::regnamespace AND conrelid::regclass::text NOT LIKE '%tortoise_migrations'"
    )
    schema["constraints"] = {(k["tab"].split(".")[-1], k["def"]) for k in keys}
    return schema


async def test_migrations_build_the_schema_the_models_declare(database_url: str, tmp_path: Path) -> None:
    """A migrated database has every column, index and foreign key the models declare, no
    more: the migrations once lost SQLite's index on ``incident_events.at`` (a table rebuild)
    and never made the one on ``deliveries.published_at``. It also lets ``init_db`` build an
    in-memory database straight from the models."""
    async with connected(database_url):
        migrated = await _schema()
    dialect = "sqlite" if database_url.startswith("sqlite") else "postgres"
    async with make_db_url(dialect, tmp_path) as declared_url:
        await init_db(declared_url, apply_migrations=False)
        try:
            await build_from_models()
            declared = await _schema()
        finally:
            await close_db()
    assert migrated == declared


async def test_only_postgresql_keeps_the_rate_limit_index(database_url: str) -> None:
    """Several processes on PostgreSQL ask the database who counted lately, by user; SQLite's
    one process keeps that in memory, so no index of its reports starts with the user."""
    async with connected(database_url):
        conn = Tortoise.get_connection("default")
        if conn.capabilities.dialect == "sqlite":
            _, indexes = await conn.execute_query("PRAGMA index_list('crowd_reports')")
            firsts = []
            for index in indexes:
                _, parts = await conn.execute_query(f"PRAGMA index_info('{index['name']}')")
                firsts.append(parts[0]["name"])
            assert "user_hash" not in firsts and "service_id" in firsts
        else:
            _, rows = await conn.execute_query(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1", [RATE_LIMIT_INDEX]
            )
            assert [row["indexdef"].split("(", 1)[1] for row in rows] == ["user_hash, service_id, at)"]


async def test_the_unread_fanned_out_column_is_gone_after_upgrade(database_url: str) -> None:
    await upgrade(database_url)
    async with connected(database_url, migrate=False):
        conn = Tortoise.get_connection("default")
        _, rows = await conn.execute_query("SELECT * FROM incident_events LIMIT 0")
        if conn.capabilities.dialect == "sqlite":
            _, columns = await conn.execute_query("PRAGMA table_info(incident_events)")
            names = {c["name"] for c in columns}
        else:
            _, columns = await conn.execute_query(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'incident_events' AND table_schema = current_schema()"
            )
            names = {c["column_name"] for c in columns}
    assert "payload" in names and "fanned_out" not in names


async def test_models_round_trip(database_url: str) -> None:
    async with connected(database_url):
        await _round_trip()


async def _round_trip() -> None:
    await m.GuildSettings.create(guild_id=42, language="ar", timezone="Asia/Riyadh", digits="arab")
    settings = await m.GuildSettings.get(guild_id=42)
    assert (settings.language, settings.timezone, settings.digits) == ("ar", "Asia/Riyadh", "arab")

    sub = await m.Subscription.create(guild_id=42, channel_id=7, service_id="x", language="both", role_id=99, min_severity="partial_outage")
    with pytest.raises(IntegrityError):
        await m.Subscription.create(guild_id=42, channel_id=7, service_id="x")

    incident = await m.Incident.create(
        key="x-20261121125100", service_id="x", status="major_outage", peak_status="major_outage",
        confidence="confirmed", unacknowledged=True, started_at=T0, report_peak=25800, report_peak_at=T0,
        official_update="« quoted » text with عربي",
    )
    record = await m.IncidentEventRecord.create(incident=incident, kind="opened", at=T0, status="major_outage", payload={"kind": "opened", "evidence": [{"reports": 25800}]})
    delivery = await m.Delivery.create(event=record, subscription=sub, channel_id=7, language="both", nonce="d1a2b3")
    with pytest.raises(IntegrityError):
        await m.Delivery.create(event=record, subscription=sub, channel_id=7, language="both", nonce="other")
    await m.AlertMessage.create(incident=incident, channel_id=7, message_id=123456789012345678)
    await m.DetectorState.create(service_id="x", state={"open": True, "rounds": [1, 0, 1]})
    await m.SourceState.create(key="x:0", service_id="x", kind="http", next_due=T0 + timedelta(seconds=60), last_observation={"status": "major_outage"})
    await m.CrowdReport.create(service_id="x", guild_id=42, user_hash="ab" * 16, problem="login", weight=0.5, at=T0)
    await m.CrowdBucket.create(service_id="x", bucket_start=T0, count=12.5)
    await m.KeyValue.create(key="salt", value={"hex": "00ff"})

    loaded = await m.Incident.get(key="x-20261121125100").prefetch_related("events")
    assert loaded.started_at == T0 and loaded.report_peak == 25800 and loaded.official_update.endswith("عربي")
    assert [e.payload["evidence"][0]["reports"] for e in loaded.events] == [25800]
    d = await m.Delivery.get(id=delivery.id).select_related("event", "subscription")
    assert d.state == "pending" and d.subscription.role_id == 99 and d.event.kind == "opened"
    assert (await m.AlertMessage.get(channel_id=7)).message_id == 123456789012345678
    assert (await m.DetectorState.get(service_id="x")).state["rounds"] == [1, 0, 1]
    assert (await m.SourceState.get(key="x:0")).last_observation == {"status": "major_outage"}
    assert (await m.CrowdReport.get(service_id="x")).weight == 0.5
    assert (await m.CrowdBucket.get(service_id="x")).count == 12.5
    assert (await m.KeyValue.get(key="salt")).value == {"hex": "00ff"}


async def test_a_failed_transaction_writes_nothing(database_url: str) -> None:
    async with connected(database_url):
        with pytest.raises(RuntimeError):
            async with in_transaction():
                incident = await m.Incident.create(key="k", service_id="x", status="degraded", peak_status="degraded", started_at=T0)
                await m.IncidentEventRecord.create(incident=incident, kind="opened", at=T0, status="degraded", payload={})
                raise RuntimeError("crash between the incident and its deliveries")
        assert await m.Incident.all().count() == 0
        assert await m.IncidentEventRecord.all().count() == 0


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    async with connected(f"sqlite://{tmp_path}/wal.sqlite3"):
        _, rows = await Tortoise.get_connection("default").execute_query("PRAGMA journal_mode")
    assert rows[0][0].lower() == "wal"
