"""SQL of the live schema (``domain/platform/schema.py``): the dictionary version, and the
physical changes a deleted table needs."""

from __future__ import annotations

import sqlite3

import sqlite_utils
from sqlite_utils.db import quote_identifier

from mock_servicenow.dictionary import Dictionary
from mock_servicenow.store.migrations import DICTIONARY_VERSION_TABLE
from mock_servicenow.store.rows import class_filter
from mock_servicenow.store.wire import wire_table


def dictionary_version(db: sqlite_utils.Database) -> int | None:
    """The version of the instance's dictionary records (``None`` before the migrations)."""
    try:
        row = db.execute(f"SELECT value FROM {DICTIONARY_VERSION_TABLE} WHERE id = 1").fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else int(row[0])


def set_dictionary_version(db: sqlite_utils.Database, value: int) -> None:
    """Stamp the dictionary version (the seed: the out-of-box version)."""
    db.execute(f"UPDATE {DICTIONARY_VERSION_TABLE} SET value = ? WHERE id = 1", [value])


def drop_table(db: sqlite_utils.Database, name: str) -> None:
    """Drop a deleted root table (its rows and their kept texts go with it)."""
    db.execute(f"DROP TABLE IF EXISTS {quote_identifier(name)}")
    db.execute(f"DROP TABLE IF EXISTS {quote_identifier(wire_table(name))}")


def delete_class_rows(db: sqlite_utils.Database, root: str, name: str) -> None:
    """Delete the rows of a deleted extended table from its root's physical table."""
    db.execute(f"DELETE FROM {quote_identifier(root)} WHERE sys_class_name = ?", [name])


def delete_seeded(db: sqlite_utils.Database, dictionary: Dictionary, table: str,
                  seed_user: str) -> None:
    """Delete the records of ``table`` that the seed wrote (created by ``seed_user``)."""
    where, params = class_filter(dictionary, table)
    db.execute(f"DELETE FROM {quote_identifier(dictionary.root(table))} "
               f"WHERE {where} AND sys_created_by = ?", [*params, seed_user])


def count_not_seeded(db: sqlite_utils.Database, dictionary: Dictionary, table: str,
                     seed_user: str) -> int:
    """How many records of ``table`` someone other than the seed created."""
    where, params = class_filter(dictionary, table)
    return int(db.execute(
        f"SELECT count(*) FROM {quote_identifier(dictionary.root(table))} "
        f"WHERE {where} AND coalesce(sys_created_by, '') != ?", [*params, seed_user]
    ).fetchone()[0])


def random_version(db: sqlite_utils.Database) -> int:
    """A new random dictionary version (as the triggers draw them)."""
    return int(db.execute("SELECT random()").fetchone()[0])
