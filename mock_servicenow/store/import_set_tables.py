"""The two lookups of the import set transform that the row helpers lack.

A coalesce lookup compares case-insensitively unless told otherwise, and may match an empty
value; the next row number of an import set is one past the largest so far. Identifiers are
whitelisted by the dictionary, values are bound (house style §6); nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils
from sqlite_utils.db import quote_identifier

from mock_servicenow.dictionary import Dictionary
from mock_servicenow.store.rows import class_filter, fetch_dict


@dataclass(frozen=True)
class Match:
    """One condition of :func:`first_match`: ``column`` equals ``value`` (a storage value;
    ``None`` matches an empty column), compared without case when ``nocase``."""

    column: str
    value: Any
    nocase: bool = False


def first_match(db: sqlite_utils.Database, dictionary: Dictionary, table: str,
                conditions: Sequence[Match]) -> dict[str, Any] | None:
    """The first row of ``table`` (oldest first) meeting every condition, or ``None``."""
    fields = dictionary.fields(table)
    unknown = [c.column for c in conditions
               if c.column not in fields or not fields[c.column].is_stored]
    if unknown:
        raise KeyError(f"{table} has no stored column(s): {', '.join(unknown)}")
    where, params = class_filter(dictionary, table)
    clauses = [where]
    for condition in conditions:
        column = quote_identifier(condition.column)
        if condition.value is None:
            clauses.append(f"({column} IS NULL OR {column} = '')")
        elif condition.nocase and isinstance(condition.value, str):
            clauses.append(f"{column} = ? COLLATE NOCASE")
            params.append(condition.value)
        else:
            clauses.append(f"{column} = ?")
            params.append(condition.value)
    cursor = db.execute(
        f"SELECT * FROM {quote_identifier(dictionary.read_source(table))} "
        f"WHERE {' AND '.join(clauses)} ORDER BY sys_created_on, sys_id LIMIT 1", params)
    return fetch_dict(cursor)


def next_row_number(db: sqlite_utils.Database, dictionary: Dictionary, staging_table: str,
                    import_set: str) -> int:
    """The ``sys_import_row`` of the next row of ``import_set`` (rows count from zero)."""
    found = db.execute(
        f"SELECT max(sys_import_row) FROM {quote_identifier(dictionary.read_source(staging_table))}"
        " WHERE sys_import_set = ?", [import_set]).fetchone()
    return 0 if found is None or found[0] is None else int(found[0]) + 1
