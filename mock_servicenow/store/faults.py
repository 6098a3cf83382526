"""Storage of fault-injection rules (``_emulator_fault``; DDL in ``store/migrations.py``).

Helpers never commit: the domain function that calls them owns the transaction.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from mock_servicenow.store.db import cached_config

_COLUMNS = ("id", "method", "path", "action", "spec", "remaining", "created_at")


def _dicts(cursor: Any) -> list[dict[str, Any]]:
    return [dict(zip(_COLUMNS, row, strict=True)) for row in cursor.fetchall()]


def all_rules(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every live rule, oldest first (asked on every request: remembered while the configuration is
    unchanged, ``db.cached_config``)."""
    rules = cached_config(db, ["_emulator_fault"], "_emulator_fault rules", lambda: tuple(
        _dicts(db.execute(f"SELECT {', '.join(_COLUMNS)} FROM _emulator_fault ORDER BY id"))))
    return [dict(rule) for rule in rules]


def add_rule(db: sqlite_utils.Database, *, method: str, path: str, action: str, spec: str,
             remaining: int | None, created_at: str) -> int:
    """Insert a rule; returns its id."""
    cursor = db.execute(
        "INSERT INTO _emulator_fault (method, path, action, spec, remaining, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [method, path, action, spec, remaining, created_at],
    )
    return int(cursor.lastrowid or 0)


def delete_rule(db: sqlite_utils.Database, rule_id: int) -> bool:
    """Delete one rule; ``False`` when there was none with that id."""
    return db.execute("DELETE FROM _emulator_fault WHERE id = ?", [rule_id]).rowcount > 0


def delete_all(db: sqlite_utils.Database) -> int:
    """Delete every rule; returns how many there were."""
    return int(db.execute("DELETE FROM _emulator_fault").rowcount)


def consume(db: sqlite_utils.Database, rule_id: int) -> bool:
    """Use one of a rule's remaining applications; ``False`` when it is already used up.

    One statement, so two worker processes racing for a rule's last use cannot both get it.
    A rule whose count reaches zero is deleted (it expired).
    """
    row = db.execute(
        "UPDATE _emulator_fault SET remaining = remaining - 1 "
        "WHERE id = ? AND (remaining IS NULL OR remaining > 0) RETURNING remaining",
        [rule_id],
    ).fetchone()
    if row is None:
        return False
    if row[0] is not None and row[0] <= 0:
        db.execute("DELETE FROM _emulator_fault WHERE id = ?", [rule_id])
    return True
