"""Many rows written in one ``executemany``, values converted by the model's own fields.

Why: the ORM builds a query object per statement (query cloning, pypika copies). At 20,000
sources the scheduler's one ``UPDATE`` per poll spent more time being built than being run —
a quarter of the process's busy time — and a burst of crowd reports one ``INSERT`` each did
the same. These helpers write exactly what the ORM would (each value through its field's
``to_db_value``), one prepared statement and one transaction for the whole batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from tortoise.fields import DatetimeField, Field
from tortoise.models import Model


def marks(conn: Any, count: int, start: int = 1) -> list[str]:
    """Parameter placeholders in the connection's dialect (``$1`` on PostgreSQL, ``?`` else)."""
    if conn.capabilities.dialect == "postgres":
        return [f"${i}" for i in range(start, start + count)]
    return ["?"] * count


def _column(model: type[Model], name: str) -> str:
    field = model._meta.fields_map[name]
    return f'"{field.source_field or name}"'


def db_value(model: type[Model], name: str, value: Any) -> Any:
    """``value`` as the ORM writes it for ``model``'s field ``name`` (for hand-written SQL): a
    model instance first takes the value in (an aware datetime moves to the ORM's zone, UTC),
    then its field converts it. On SQLite, where datetimes are compared as text, a value
    written or compared otherwise would sort wrong."""
    return _field_db_value(model._meta.fields_map[name], value)


def _field_db_value(field: Field[Any], value: Any) -> Any:
    if value is not None and isinstance(field, DatetimeField):
        value = field.to_python_value(value)
    # (no instance: a field with auto_now would otherwise stamp the class itself)
    return field.to_db_value(value, None)  # type: ignore[arg-type]


class _Converter:
    """One column's ``db_value`` with the field looked up once, and each distinct value of the
    batch converted once: a column mostly repeats a few values (one service, one instant, a
    handful of problems and countries) and a conversion (validators, zone) costs several
    times a dictionary look-up. The key holds the type, and a datetime's zone, because 1,
    1.0 and True — or one instant in two zones — compare equal but are not the same value.
    A column whose values hardly repeat (user hashes) stops being remembered after a sample."""

    __slots__ = ("_field", "_seen", "_calls")

    def __init__(self, model: type[Model], name: str) -> None:
        self._field = model._meta.fields_map[name]
        self._seen: dict[tuple[Any, ...], Any] | None = {}
        self._calls = 0

    def __call__(self, value: Any) -> Any:
        kind = value.__class__
        seen = self._seen
        if seen is None or kind not in _SCALARS:  # (None, JSON documents: as they come)
            return _field_db_value(self._field, value)
        self._calls += 1
        if self._calls == _SAMPLE and len(seen) > _SAMPLE // 2:
            self._seen = None  # (mostly distinct so far: remembering costs more than it saves)
        key = (kind, value, value.tzinfo) if kind is datetime else (kind, value)
        try:
            return seen[key]
        except KeyError:
            converted = seen[key] = _field_db_value(self._field, value)
            return converted


_SAMPLE = 64
_SCALARS = frozenset({str, int, float, bool, datetime})


async def insert_many(conn: Any, model: type[Model], columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """``INSERT`` every row (a mapping of ``columns``) in one ``executemany``."""
    converters = [(name, _Converter(model, name)) for name in columns]
    values = [[convert(row[name]) for name, convert in converters] for row in rows]
    if not values:
        return
    names = ", ".join(_column(model, name) for name in columns)
    sql = f'INSERT INTO "{model._meta.db_table}" ({names}) VALUES ({", ".join(marks(conn, len(columns)))})'
    await conn.execute_many(sql, values)


async def update_many(conn: Any, model: type[Model], changes: Mapping[Any, Mapping[str, Any]]) -> None:
    """``UPDATE`` each row named by its primary key with its own changes: one ``executemany``
    per set of changed columns (rows changing the same columns share a statement)."""
    by_columns: dict[tuple[str, ...], list[list[Any]]] = {}
    converters: dict[str, _Converter] = {}

    def convert(name: str, value: Any) -> Any:
        converter = converters.get(name)
        if converter is None:
            converter = converters[name] = _Converter(model, name)
        return converter(value)

    for pk, row in changes.items():
        columns = tuple(sorted(row))
        values = [convert(name, row[name]) for name in columns]
        values.append(convert(model._meta.pk_attr, pk))
        by_columns.setdefault(columns, []).append(values)
    table = model._meta.db_table
    for columns, values in by_columns.items():
        placeholders = marks(conn, len(columns) + 1)
        assignments = ", ".join(f"{_column(model, name)} = {mark}" for name, mark in zip(columns, placeholders))
        sql = f'UPDATE "{table}" SET {assignments} WHERE {_column(model, model._meta.pk_attr)} = {placeholders[-1]}'
        await conn.execute_many(sql, values)


__all__ = ["db_value", "insert_many", "marks", "update_many"]
