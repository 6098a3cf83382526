"""SQL of the Table and Aggregate APIs: pages, counts, batched lookups, GROUP BY.

Identifiers come from the data dictionary (quoted here); filter SQL comes from the encoded
query compiler with positional parameters; values are always bound. Nothing here commits.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

import sqlite_utils
from sqlite_utils.db import quote_identifier

from mock_servicenow.dictionary import Dictionary
from mock_servicenow.store.db import cached_config, cached_scalar
from mock_servicenow.store.rows import class_filter, fetch_dicts, insert_values
from mock_servicenow.store.wire import json_select, page_join, readable_columns, stored_wire

#: SQLite's default limit on bound parameters is 32766; stay well below it per statement.
_CHUNK = 900


def _qualified_class_filter(dictionary: Dictionary, table: str,
                            alias: str) -> tuple[str, list[str]]:
    where, params = class_filter(dictionary, table)
    if where == "1":
        return where, params
    return f"{alias}.{where}", params


def _from(dictionary: Dictionary, table: str, joins: Sequence[str], alias: str) -> str:
    source = dictionary.read_source(table)
    return f"FROM {quote_identifier(source)} AS {alias} " + " ".join(joins)


def _page_sql(dictionary: Dictionary, table: str, select: str, *, where: str,
              joins: Sequence[str], order_by: Sequence[str],
              alias: str) -> tuple[str, tuple[str, ...]]:
    """``SELECT <select> ... LIMIT ? OFFSET ?`` of a page, and the parameters of its class
    filter (bound after those of ``select`` and of the joins, before ``where``'s)."""
    return _built_page_sql(dictionary, table, select, where, tuple(joins), tuple(order_by),
                           alias)


@functools.lru_cache(maxsize=1024)
def _built_page_sql(dictionary: Dictionary, table: str, select: str, where: str,
                    joins: tuple[str, ...], order_by: tuple[str, ...],
                    alias: str) -> tuple[str, tuple[str, ...]]:
    # Built once per statement shape: a GET by sys_id asks the same one every time.
    class_where, class_params = _qualified_class_filter(dictionary, table, alias)
    order = f" ORDER BY {', '.join(order_by)}" if order_by else ""
    sql = (f"SELECT {select} {_from(dictionary, table, joins, alias)} "
           f"WHERE ({class_where}) AND ({where}){order} LIMIT ? OFFSET ?")
    return sql, tuple(class_params)


def select_page(db: sqlite_utils.Database, dictionary: Dictionary, table: str, *,
                where: str, params: Sequence[Any], joins: Sequence[str] = (),
                join_params: Sequence[Any] = (), order_by: Sequence[str] = (), limit: int,
                offset: int, alias: str = "t") -> list[dict[str, Any]]:
    """One page of ``table``'s rows matching ``where`` (SQL over alias ``t``), LIMIT/OFFSET."""
    sql, class_params = _page_sql(dictionary, table, f"{alias}.*", where=where, joins=joins,
                                  order_by=order_by, alias=alias)
    cursor = db.execute(sql, [*join_params, *class_params, *params, limit, offset])
    return fetch_dicts(cursor)


def select_page_columns(db: sqlite_utils.Database, dictionary: Dictionary, table: str, *,
                        where: str, params: Sequence[Any], joins: Sequence[str] = (),
                        join_params: Sequence[Any] = (), order_by: Sequence[str] = (),
                        limit: int, offset: int,
                        alias: str = "t") -> dict[str, Sequence[Any]]:
    """The page :func:`select_page` returns, column by column: ``{column: values in row
    order}``, without a dict per row. The statement is :func:`select_page`'s: a narrower
    SELECT list may be answered from a covering index, in another row order."""
    sql, class_params = _page_sql(dictionary, table, f"{alias}.*", where=where, joins=joins,
                                  order_by=order_by, alias=alias)
    cursor = db.execute(sql, [*join_params, *class_params, *params, limit, offset])
    found = cursor.fetchall()
    names = [d[0] for d in cursor.description]
    if not found:
        return {name: () for name in names}
    return dict(zip(names, zip(*found, strict=True), strict=True))


def select_page_wire(db: sqlite_utils.Database, dictionary: Dictionary, table: str, *,
                     where: str, params: Sequence[Any], joins: Sequence[str] = (),
                     join_params: Sequence[Any] = (), order_by: Sequence[str] = (),
                     limit: int, offset: int, alias: str = "t") -> list[str] | None:
    """The raw records of a page with every field, as JSON texts whose links start with
    ``store.wire.LINK_MARK`` (the rows, in the order, of :func:`select_page`): the text kept
    beside each row where it was written for ``table`` under this dictionary, else built
    here. ``None`` when ``table``'s records are not kept (``store.wire.stored_wire``)."""
    built = _wire_select(dictionary, table, alias)
    if built is None:
        return None
    select, join, fingerprint = built
    sql, class_params = _page_sql(dictionary, table, select, where=where,
                                  joins=[join, *joins], order_by=order_by, alias=alias)
    cursor = db.execute(sql, [fingerprint, *join_params, *class_params, *params, limit,
                              offset])
    return [row[0] for row in cursor.fetchall()]


@functools.lru_cache(maxsize=1024)
def _wire_select(dictionary: Dictionary, table: str,
                 alias: str) -> tuple[str, str, str] | None:
    """The SELECT list, the join and the fingerprint of :func:`select_page_wire`, built
    once per table and dictionary (the expression is kilobytes long)."""
    stored = stored_wire(dictionary, table)
    if stored is None:
        return None
    join, texts = page_join(dictionary.root(table), alias)
    select = (f"CASE WHEN {texts}.plan = ? AND {texts}.sys_id = {alias}.sys_id "
              f"THEN {texts}.wire ELSE {stored.expression.replace('{a}', alias)} END")
    return select, join, stored.fingerprint


def select_page_json(db: sqlite_utils.Database, dictionary: Dictionary, table: str, *,
                     wire: Sequence[tuple[str, str, str]], where: str, params: Sequence[Any],
                     joins: Sequence[str] = (), join_params: Sequence[Any] = (),
                     order_by: Sequence[str] = (), limit: int,
                     offset: int, alias: str = "t") -> list[str]:
    """The page :func:`select_page` returns, each row already a compact JSON object.

    ``wire`` lists ``(key, kind, link prefix)`` in output order (kinds:
    ``store.wire.WIRE_KINDS``);
    SQLite builds the objects with ``json_object`` (its escaping is ``json.dumps(...,
    ensure_ascii=False)``'s), so a listing costs no Python work per field. Columns that the
    root table does not store render ``""``, as a missing key does in the Python renderer.
    """
    # Parameters bind in text order: the link prefixes of the SELECT list come first.
    select, prefixes, _ = json_select(dictionary, table, tuple(wire), alias)
    sql, class_params = _page_sql(dictionary, table, select, where=where, joins=joins,
                                  order_by=order_by, alias=alias)
    cursor = db.execute(sql, [*prefixes, *join_params, *class_params, *params, limit, offset])
    found = cursor.fetchall()
    if found and len(found[0]) == 1:
        return [row[0] for row in found]
    # Splice the objects of one row: '{"a":"1"}', '{"b":"2"}' -> '{"a":"1","b":"2"}' (no
    # object is empty; measured faster than json_patch() in SQL).
    return ["{" + ",".join(part[1:-1] for part in row) + "}" for row in found]


def count_matching(db: sqlite_utils.Database, dictionary: Dictionary, table: str, *,
                   where: str, params: Sequence[Any], joins: Sequence[str] = (),
                   join_params: Sequence[Any] = (), alias: str = "t") -> int:
    """``count(*)`` of the rows ``select_page`` would page through.

    Remembered per connection while the data is unchanged (``db.cached_scalar``): every page
    of one query (and a client polling the same listing) asks the same count.
    """
    class_where, class_params = _qualified_class_filter(dictionary, table, alias)
    sql = (f"SELECT count(*) {_from(dictionary, table, joins, alias)} "
           f"WHERE ({class_where}) AND ({where})")
    return int(cached_scalar(db, sql, [*join_params, *class_params, *params]))


def columns_by_ids(db: sqlite_utils.Database, dictionary: Dictionary, table: str,
                   sys_ids: Iterable[str], columns: Sequence[str], *,
                   key: str = "sys_id") -> dict[str, dict[str, Any]]:
    """``{key value: {column: value}}`` for the rows of ``table`` whose ``key`` column (the
    sys_id, or a reference's ``reference_key``) is one of ``sys_ids`` (one query per 900);
    empty for a table the dictionary does not serve."""
    if table not in dictionary:
        return {}
    physical = readable_columns(dictionary, table)
    if key not in physical:
        return {}
    wanted = [c for c in dict.fromkeys([key, *columns]) if c in physical]
    ids = sorted({i for i in sys_ids if i})
    found: dict[str, dict[str, Any]] = {}
    root = quote_identifier(dictionary.read_source(table))
    select = ", ".join(quote_identifier(c) for c in wanted)
    where, params = _qualified_class_filter(dictionary, table, root)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        marks = ", ".join("?" for _ in chunk)
        cursor = db.execute(f"SELECT {select} FROM {root} WHERE ({where}) AND "
                            f"{quote_identifier(key)} IN ({marks})", [*params, *chunk])
        for row in cursor.fetchall():
            record = dict(zip(wanted, row, strict=True))
            found.setdefault(str(record[key]), record)
    return found


def journal_entries(db: sqlite_utils.Database, element_ids: Iterable[str],
                    elements: Sequence[str]) -> list[dict[str, Any]]:
    """Journal entries (``sys_journal_field``) of some records, newest first, with the
    author's full name (servicenow-behaviour §1.4). sys_ids are unique instance-wide, so the
    ``name`` (table) column is not needed to find them."""
    ids = sorted(set(element_ids))
    if not ids or not elements:
        return []
    found: list[dict[str, Any]] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        sql = (
            "SELECT j.element_id, j.element, j.value, j.sys_created_on, j.sys_created_by, "
            "u.name AS author FROM sys_journal_field AS j "
            "LEFT JOIN sys_user AS u ON u.user_name = j.sys_created_by "
            f"WHERE j.element IN ({', '.join('?' for _ in elements)}) "
            f"AND j.element_id IN ({', '.join('?' for _ in chunk)}) "
            "ORDER BY j.sys_created_on DESC, j.rowid DESC"
        )
        cursor = db.execute(sql, [*elements, *chunk])
        found.extend(fetch_dicts(cursor))
    return found


def web_service_access(db: sqlite_utils.Database, table: str) -> bool | None:
    """``sys_db_object.ws_access`` of ``table`` (``None`` when the row is missing); asked on
    every Table API request, remembered while the configuration is unchanged
    (``db.cached_config``)."""
    def load() -> bool | None:
        row = db.execute("SELECT ws_access FROM sys_db_object WHERE name = ?",
                         [table]).fetchone()
        if row is None:
            return None
        return row[0] is None or bool(row[0])
    return cached_config(db, ["sys_db_object"], ("sys_db_object.ws_access", table), load)


def property_value(db: sqlite_utils.Database, name: str) -> str | None:
    """The value of a ``sys_properties`` row, or ``None`` (remembered while the configuration is
    unchanged, ``db.cached_config``)."""
    def load() -> str | None:
        row = db.execute("SELECT value FROM sys_properties WHERE name = ?", [name]).fetchone()
        return None if row is None else (None if row[0] is None else str(row[0]))
    return cached_config(db, ["sys_properties"], ("sys_properties", name), load)


def int_property(db: sqlite_utils.Database, name: str, default: int) -> int:
    """An integer ``sys_properties`` value; ``default`` when unset or not an integer (the
    platform's fallback value)."""
    value = property_value(db, name)
    try:
        return int(value.strip()) if value is not None else default
    except ValueError:
        return default


def aggregate_rows(db: sqlite_utils.Database, dictionary: Dictionary, table: str, *,
                   where: str, params: Sequence[Any], joins: Sequence[str] = (),
                   join_params: Sequence[Any] = (), group_by: Sequence[str],
                   aggregates: Sequence[tuple[str, str]], count: bool,
                   alias: str = "t") -> list[tuple[Any, ...]]:
    """One ``SELECT <group cols>, count(*), AGG(col)... GROUP BY`` over the matching rows.

    ``aggregates`` are ``(function, column)`` with function in AVG/MIN/MAX/SUM. Each result
    row is ``(*group values, count or None, *aggregate values)``.
    """
    class_where, class_params = _qualified_class_filter(dictionary, table, alias)
    group_sql = [f"{alias}.{quote_identifier(c)}" for c in group_by]
    select = [*group_sql, "count(*)" if count else "NULL"]
    select += [f"{fn}({alias}.{quote_identifier(col)})" for fn, col in aggregates]
    sql = (f"SELECT {', '.join(select)} {_from(dictionary, table, joins, alias)} "
           f"WHERE ({class_where}) AND ({where})")
    if group_sql:
        sql += f" GROUP BY {', '.join(group_sql)} ORDER BY {', '.join(group_sql)}"
    cursor = db.execute(sql, [*join_params, *class_params, *params])
    return [tuple(row) for row in cursor.fetchall()]


def insert_journal(db: sqlite_utils.Database, values: dict[str, Any]) -> None:
    """Insert one ``sys_journal_field`` row (storage values, sys_id included)."""
    insert_values(db, "sys_journal_field", values)
