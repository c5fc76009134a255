"""Many rows of one table in one round trip, for the hot paths (sync push, hotline import).

On SQLite the values are converted once per column kind and handed to the driver's
``executemany`` as plain tuples, stored exactly as SQLAlchemy would store them (UTC datetimes
without zone as ``YYYY-MM-DD HH:MM:SS.ffffff``, JSON as text, booleans as integers) but without
SQLAlchemy's per-value processing, which costs more than SQLite's own work for wide rows. On
other databases the rows go through SQLAlchemy Core unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Table, insert
from sqlmodel import Session

from server.models.types import UTCDateTime

Converter = Callable[[Any], Any]


def _sqlite_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _memoised(convert: Converter) -> Converter:
    """``convert`` remembering its answers for one batch (a push stamps every row with the
    same ``now``)."""
    seen: dict[Any, Any] = {}

    def cached(value: Any) -> Any:
        if value not in seen:
            seen[value] = convert(value)
        return seen[value]

    return cached


def _sqlite_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _sqlite_bool(value: bool | None) -> int | None:
    return None if value is None else int(bool(value))


def _converter(column_type: Any) -> Converter | None:
    if isinstance(column_type, UTCDateTime):
        return _memoised(_sqlite_datetime)
    if isinstance(column_type, JSON):
        return _sqlite_json
    if isinstance(column_type, Boolean):
        return _sqlite_bool
    return None


def insert_many(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys) into ``table`` in one ``executemany``."""
    if not rows:
        return
    connection = session.connection()
    names = list(rows[0].keys())
    missing_defaults = [
        c.name for c in table.columns if c.name not in names and c.default is not None
    ]
    if connection.dialect.name != "sqlite" or missing_defaults:
        connection.execute(insert(table), list(rows))
        return
    converters = [_converter(table.c[name].type) for name in names]
    plan = list(zip(names, converters, strict=True))
    params = [
        tuple(row[name] if convert is None else convert(row[name]) for name, convert in plan)
        for row in rows
    ]
    columns = ", ".join(f'"{name}"' for name in names)
    marks = ", ".join("?" for _ in names)
    connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})', params)
