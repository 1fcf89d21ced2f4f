"""Many rows written in one ``executemany``, values converted by the model's own fields.

Why: the ORM builds a query object per statement (query cloning, pypika copies). At 20,000
sources the scheduler's one ``UPDATE`` per poll spent more time being built than being run —
a quarter of the process's busy time — and a burst of crowd reports one ``INSERT`` each did
the same. These helpers write exactly what the ORM would (each value through its field's
``to_db_value``), one prepared statement and one transaction for the whole batch.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from math import copysign
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


def _convert_column(field: Field[Any], values: Sequence[Any]) -> list[Any]:
    """A column's values as ``_field_db_value`` converts them, each distinct value once: a
    column mostly repeats a few values (one service, one instant, a handful of problems and
    countries) and a conversion (validators, zone) costs many times a dictionary look-up.

    Values are looked up by themselves only when that cannot merge two different ones: one
    scalar type (beside None), one zone for datetimes, no zero among floats — 1, 1.0 and True,
    one instant in two zones, or -0.0 and 0.0 compare equal but are not the same value.
    Otherwise the key holds the type, the zone or the sign too (``_exact_key``); anything else
    (JSON documents) is converted as it comes."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if not kinds <= _SCALARS:
        return [_field_db_value(field, value) for value in values]
    plain = len(kinds) <= 1 and (
        datetime not in kinds or len({value.tzinfo for value in values if value is not None}) <= 1
    ) and not (float in kinds and 0.0 in values)  # (-0.0 == 0.0)
    if plain:
        converted = {value: _field_db_value(field, value) for value in dict.fromkeys(values)}
        return list(map(converted.__getitem__, values))
    keys = [_exact_key(value) for value in values]
    by_key = {key: _field_db_value(field, value) for key, value in zip(keys, values)}
    return list(map(by_key.__getitem__, keys))


def _exact_key(value: Any) -> tuple[Any, ...]:
    """A key that only the same value matches: its type, and a datetime's zone or a float's sign."""
    kind = value.__class__
    if kind is datetime:
        return (kind, value, value.tzinfo)
    if kind is float:
        return (kind, value, copysign(1.0, value))
    return (kind, value)


def _converted_rows(model: type[Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """``rows`` (values in ``columns`` order) as the database takes them, converted a column
    at a time."""
    fields = model._meta.fields_map
    by_column = [_convert_column(fields[name], column) for name, column in zip(columns, zip(*rows))]
    return list(zip(*by_column))


_SCALARS = frozenset({str, int, float, bool, datetime})


async def insert_many(
    conn: Any, model: type[Model], columns: Sequence[str], rows: Iterable[Mapping[str, Any]], *, chunk: int | None = None
) -> None:
    """``INSERT`` every row (a mapping of ``columns``) in one ``executemany``; with ``chunk``,
    one per ``chunk`` rows.

    Why chunks: an alert to 20,000 channels converted its rows in one go, holding the event
    loop for a quarter of a second (heartbeats, commands, sends all waited). In chunks the
    loop runs other tasks while each is written. The chunks are one write only inside the
    caller's transaction."""
    if chunk is not None and chunk < 1:
        raise ValueError(f"chunk must be a positive number of rows, not {chunk}")
    names = ", ".join(_column(model, name) for name in columns)
    sql = f'INSERT INTO "{model._meta.db_table}" ({names}) VALUES ({", ".join(marks(conn, len(columns)))})'
    for part in _parts(rows, chunk):
        await _execute(conn, sql, _converted_rows(model, columns, [[row[name] for name in columns] for row in part]))


def _parts(rows: Iterable[Mapping[str, Any]], size: int | None) -> Iterator[list[Mapping[str, Any]]]:
    """``rows`` in lists of ``size`` (all in one list without a size; none when empty)."""
    it = iter(rows)
    while part := list(itertools.islice(it, size)):
        yield part


async def update_many(conn: Any, model: type[Model], changes: Mapping[Any, Mapping[str, Any]]) -> None:
    """``UPDATE`` each row named by its primary key with its own changes: one ``executemany``
    per set of changed columns (rows changing the same columns share a statement)."""
    by_columns: dict[tuple[str, ...], list[list[Any]]] = {}
    for pk, row in changes.items():
        columns = tuple(sorted(row))
        by_columns.setdefault(columns, []).append([*(row[name] for name in columns), pk])
    table = model._meta.db_table
    for columns, rows in by_columns.items():
        values = _converted_rows(model, (*columns, model._meta.pk_attr), rows)
        placeholders = marks(conn, len(columns) + 1)
        assignments = ", ".join(f"{_column(model, name)} = {mark}" for name, mark in zip(columns, placeholders))
        sql = f'UPDATE "{table}" SET {assignments} WHERE {_column(model, model._meta.pk_attr)} = {placeholders[-1]}'
        await _execute(conn, sql, values)


async def _execute(conn: Any, sql: str, values: list[tuple[Any, ...]]) -> None:
    """``sql`` once per row of ``values``: a lone row as one statement, which is atomic by
    itself — outside a transaction, tortoise wraps an ``executemany`` on SQLite in a ``BEGIN``
    and a ``COMMIT``, three round trips to its worker thread (some 70 µs of CPU each) where
    one does; the scheduler writes a lone row after most polls of a small catalog."""
    if len(values) == 1:
        await conn.execute_query(sql, list(values[0]))
    else:
        await conn.execute_many(sql, values)


__all__ = ["db_value", "insert_many", "marks", "update_many"]
