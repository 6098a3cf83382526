"""Row access on the physical tables, with identifiers whitelisted by the data dictionary.

Values here are *storage* values (see ``dictionary/values.py``). Rows of an extended table
live in their root's table and are told apart by ``sys_class_name``. These helpers never
commit: the domain function that calls them owns the transaction (house style §6).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

import sqlite_utils
from sqlite_utils.db import quote_identifier

from mock_servicenow.dictionary import Dictionary
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
    """SQL condition (and parameters) restricting a root table to ``table``'s classes."""
    root = dictionary.root(table)
    if root == table or not dictionary.is_extended(table):
        return "1", []
    classes = list(dictionary.descendants(table))
    marks = ", ".join("?" for _ in classes)
    return f"sys_class_name IN ({marks})", classes


def _columns(dictionary: Dictionary, table: str, names: Iterable[str]) -> list[str]:
    physical = dictionary.physical_fields(dictionary.root(table))
    unknown = [n for n in names if n not in physical]
    if unknown:
        raise KeyError(f"{table} has no stored column(s): {', '.join(unknown)}")
    return list(names)


def insert(db: sqlite_utils.Database, dictionary: Dictionary, table: str,
           values: Mapping[str, Any]) -> None:
    """Insert one row of ``table`` (``values`` must include ``sys_id``)."""
    row = dict(values)
    if dictionary.is_extended(table):
        row.setdefault("sys_class_name", table)
    names = _columns(dictionary, table, row)
    insert_values(db, dictionary.root(table), {n: row[n] for n in names})


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
                rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert many rows of one table; returns how many. Each row names the same columns."""
    count = 0
    for row in rows:
        insert(db, dictionary, table, row)
        count += 1
    return count


def get(db: sqlite_utils.Database, dictionary: Dictionary, table: str,
        sys_id: str) -> dict[str, Any] | None:
    """The stored row of ``table`` with this sys_id, or ``None`` (other classes excluded)."""
    where, params = class_filter(dictionary, table)
    root = dictionary.root(table)
    cursor = db.execute(
        f"SELECT * FROM {quote_identifier(root)} WHERE sys_id = ? AND {where}", [sys_id, *params]
    )
    return fetch_dict(cursor)


def update(db: sqlite_utils.Database, dictionary: Dictionary, table: str, sys_id: str,
           values: Mapping[str, Any]) -> None:
    """Set some columns of one row."""
    if not values:
        return
    names = _columns(dictionary, table, values)
    assignments = ", ".join(f"{quote_identifier(n)} = ?" for n in names)
    db.execute(
        f"UPDATE {quote_identifier(dictionary.root(table))} SET {assignments} WHERE sys_id = ?",
        [*(values[n] for n in names), sys_id],
    )


def delete(db: sqlite_utils.Database, dictionary: Dictionary, table: str, sys_id: str) -> None:
    """Delete one row."""
    db.execute(f"DELETE FROM {quote_identifier(dictionary.root(table))} WHERE sys_id = ?", [sys_id])


def count(db: sqlite_utils.Database, dictionary: Dictionary, table: str) -> int:
    """How many rows ``table`` holds (its classes only)."""
    where, params = class_filter(dictionary, table)
    root = dictionary.root(table)
    return int(db.execute(f"SELECT count(*) FROM {quote_identifier(root)} WHERE {where}",
                          params).fetchone()[0])


def find_by(db: sqlite_utils.Database, dictionary: Dictionary, table: str,
            **equals: Any) -> list[dict[str, Any]]:
    """Rows of ``table`` whose columns equal the given storage values (small lookups)."""
    where, params = class_filter(dictionary, table)
    names = _columns(dictionary, table, equals)
    clauses = [where] + [f"{quote_identifier(n)} = ?" for n in names]
    cursor = db.execute(
        f"SELECT * FROM {quote_identifier(dictionary.root(table))} WHERE {' AND '.join(clauses)}",
        [*params, *(equals[n] for n in names)],
    )
    return fetch_dicts(cursor)


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
