"""Row access on the physical tables, with identifiers whitelisted by the data dictionary.

Values here are *storage* values (see ``dictionary/values.py``). Rows of an extended table
live in their root's table and are told apart by ``sys_class_name``. These helpers never
commit: the domain function that calls them owns the transaction (house style §6).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlite_utils
from sqlite_utils.db import quote_identifier

from mock_servicenow.dictionary import Dictionary
from mock_servicenow.store import wire
from mock_servicenow.store.db import cached_config


def fetch_dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    """Every remaining row of ``cursor`` as a dict keyed by column name."""
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def fetch_dict(cursor: sqlite3.Cursor) -> dict[str, Any] | None:
    """The next row of ``cursor`` as a dict keyed by column name, or ``None``."""
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


def class_filter(dictionary: Dictionary, table: str) -> tuple[str, list[str]]:
    """SQL condition (and parameters) restricting ``dictionary.read_source(table)`` to
    ``table``'s classes."""
    source = dictionary.read_source(table)
    if source == table or not dictionary.is_extended(table):
        return "1", []
    if source != dictionary.root(table):  # a union holds exactly the table's classes
        return "1", []
    classes = list(dictionary.descendants(table))
    marks = ", ".join("?" for _ in classes)
    return f"sys_class_name IN ({marks})", classes


def _physical_of_row(db: sqlite_utils.Database, dictionary: Dictionary, table: str,
                     sys_id: str) -> str:
    """The physical table holding the row ``sys_id`` of ``table`` (a table read through a
    union keeps each class's rows in its own physical table)."""
    if len(dictionary.parts(table)) == 1:
        return dictionary.root(table)
    found = db.execute(f"SELECT sys_class_name FROM "
                       f"{quote_identifier(dictionary.read_source(table))} WHERE sys_id = ?",
                       [sys_id]).fetchone()
    if found is None or found[0] not in dictionary:
        return dictionary.root(table)
    return dictionary.root(str(found[0]))


def _columns(dictionary: Dictionary, table: str, names: Iterable[str]) -> list[str]:
    physical = dictionary.fields(table) if len(dictionary.parts(table)) > 1 else \
        dictionary.physical_fields(dictionary.root(table))
    unknown = [n for n in names if n not in physical]
    if unknown:
        raise KeyError(f"{table} has no stored column(s): {', '.join(unknown)}")
    return list(names)


def insert(db: sqlite_utils.Database, dictionary: Dictionary, table: str,
           values: Mapping[str, Any]) -> None:
    """Insert one row of ``table`` (``values`` must include ``sys_id``)."""
    row = dict(values)
    if "sys_class_name" in dictionary.fields(table):
        row.setdefault("sys_class_name", table)
    names = _columns(dictionary, table, row)
    insert_values(db, dictionary.root(table), {n: row[n] for n in names})
    wire.refresh(db, dictionary, str(row.get("sys_class_name") or table), [row["sys_id"]])


def insert_values(db: sqlite_utils.Database, table: str, values: Mapping[str, Any], *,
                  replace: bool = False) -> None:
    """``INSERT [OR REPLACE] INTO table (columns...) VALUES (?...)`` for one row of a physical
    table (storage values; names are the caller's columns, quoted here)."""
    names = list(values)
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    db.execute(
        f"{verb} INTO {quote_identifier(table)} "
        f"({', '.join(quote_identifier(n) for n in names)}) "
        f"VALUES ({', '.join('?' for _ in names)})",
        [values[n] for n in names],
    )


def insert_many(db: sqlite_utils.Database, dictionary: Dictionary, table: str,
                rows: Iterable[Mapping[str, Any]], *, conflict: str = "") -> int:
    """Insert many rows of one table (one prepared statement per column set, the seed's bulk
    path); returns how many. ``conflict``: ``""``, ``"OR REPLACE"`` or ``"OR IGNORE"``."""
    groups: dict[tuple[str, ...], list[list[Any]]] = {}
    classed = "sys_class_name" in dictionary.fields(table)
    count = 0
    by_class: dict[str, list[str]] = {}
    for values in rows:
        row = dict(values)
        if classed:
            row.setdefault("sys_class_name", table)
        groups.setdefault(tuple(row), []).append(list(row.values()))
        by_class.setdefault(str(row.get("sys_class_name") or table), []).append(row["sys_id"])
        count += 1
    root = quote_identifier(dictionary.root(table))
    verb = f"INSERT {conflict}".rstrip()
    for names, batch in groups.items():
        _columns(dictionary, table, names)
        db.conn.executemany(
            f"{verb} INTO {root} ({', '.join(quote_identifier(n) for n in names)}) "
            f"VALUES ({', '.join('?' for _ in names)})", batch)
    for name, sys_ids in by_class.items():
        wire.refresh(db, dictionary, name, sys_ids)
    return count


def get(db: sqlite_utils.Database, dictionary: Dictionary, table: str,
        sys_id: str) -> dict[str, Any] | None:
    """The stored row of ``table`` with this sys_id, or ``None`` (other classes excluded)."""
    where, params = class_filter(dictionary, table)
    source = dictionary.read_source(table)
    cursor = db.execute(
        f"SELECT * FROM {quote_identifier(source)} WHERE sys_id = ? AND {where}",
        [sys_id, *params])
    return fetch_dict(cursor)


def update(db: sqlite_utils.Database, dictionary: Dictionary, table: str, sys_id: str,
           values: Mapping[str, Any]) -> None:
    """Set some columns of one row."""
    if not values:
        return
    names = _columns(dictionary, table, values)
    assignments = ", ".join(f"{quote_identifier(n)} = ?" for n in names)
    physical = _physical_of_row(db, dictionary, table, sys_id)
    classed = "sys_class_name" in dictionary.physical_fields(physical)
    found = db.execute(
        f"UPDATE {quote_identifier(physical)} SET {assignments} WHERE sys_id = ?"
        + (" RETURNING sys_class_name" if classed else ""),
        [*(values[n] for n in names), sys_id],
    ).fetchall()
    if classed:
        for (name,) in found:
            if name in dictionary:
                wire.refresh(db, dictionary, str(name), [sys_id])
    else:
        wire.refresh(db, dictionary, physical, [sys_id])


def delete(db: sqlite_utils.Database, dictionary: Dictionary, table: str, sys_id: str) -> None:
    """Delete one row."""
    physical = _physical_of_row(db, dictionary, table, sys_id)
    db.execute(f"DELETE FROM {quote_identifier(physical)} WHERE sys_id = ?", [sys_id])


def count(db: sqlite_utils.Database, dictionary: Dictionary, table: str) -> int:
    """How many rows ``table`` holds (its classes only)."""
    where, params = class_filter(dictionary, table)
    source = dictionary.read_source(table)
    return int(db.execute(f"SELECT count(*) FROM {quote_identifier(source)} WHERE {where}",
                          params).fetchone()[0])


def find_by(db: sqlite_utils.Database, dictionary: Dictionary, table: str,
            **equals: Any) -> list[dict[str, Any]]:
    """Rows of ``table`` whose columns equal the given storage values (small lookups)."""
    where, params = class_filter(dictionary, table)
    names = _columns(dictionary, table, equals)
    clauses = [where] + [f"{quote_identifier(n)} = ?" for n in names]
    cursor = db.execute(
        f"SELECT * FROM {quote_identifier(dictionary.read_source(table))} "
        f"WHERE {' AND '.join(clauses)}",
        [*params, *(equals[n] for n in names)],
    )
    return fetch_dicts(cursor)


def select_columns(db: sqlite_utils.Database, dictionary: Dictionary, table: str,
                   columns: Iterable[str]) -> list[dict[str, Any]]:
    """Every row of ``table`` (its classes), only the named columns that exist: a wide
    physical table (``sys_metadata`` has a thousand columns) is read narrow."""
    fields = dictionary.fields(table)
    names = [c for c in dict.fromkeys(["sys_id", *columns]) if c in fields
             and fields[c].is_stored]
    where, params = class_filter(dictionary, table)
    cursor = db.execute(
        f"SELECT {', '.join(quote_identifier(n) for n in names)} "
        f"FROM {quote_identifier(dictionary.read_source(table))} WHERE {where}", params)
    return fetch_dicts(cursor)


def select_values(db: sqlite_utils.Database, dictionary: Dictionary, table: str,
                  columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """Every row of ``table`` (its classes) as a tuple of the named columns (all must be
    stored columns): the cheapest full read."""
    _columns(dictionary, table, columns)
    where, params = class_filter(dictionary, table)
    return db.execute(
        f"SELECT {', '.join(quote_identifier(n) for n in columns)} "
        f"FROM {quote_identifier(dictionary.read_source(table))} WHERE {where}",
        params).fetchall()


def next_number(db: sqlite_utils.Database, table: str) -> tuple[str, int, int] | None:
    """Take the next number of ``table``'s ``sys_number`` counter.

    Returns ``(prefix, number, digits)`` or ``None`` when the table is not numbered. The
    increment is one statement inside the caller's transaction, so concurrent inserts from
    several worker processes get unique, gapless numbers.
    """
    row = db.execute(
        "UPDATE sys_number SET number = number + 1 WHERE category = ? "
        "RETURNING prefix, number - 1, maximum_digits",
        [table],
    ).fetchone()
    if row is None:
        return None
    return str(row[0]), int(row[1]), int(row[2] or 7)


def get_state(db: sqlite_utils.Database, key: str) -> str | None:
    """A value of the emulator's internal ``_emulator_state`` table (the clock is read on
    every request: remembered while the configuration is unchanged, ``db.cached_config``)."""
    def load() -> str | None:
        row = db.execute("SELECT value FROM _emulator_state WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])
    return cached_config(db, ["_emulator_state"], ("_emulator_state", key), load)


def set_state(db: sqlite_utils.Database, key: str, value: str) -> None:
    """Store a value in ``_emulator_state``."""
    db.execute(
        "INSERT INTO _emulator_state (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )
