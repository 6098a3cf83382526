"""Raw Table API records written by SQLite, and kept as JSON text beside each row (issue 13).

SQLite writes a raw record as one JSON object (:func:`json_select`, issue 9): no Python
work per field. A listing of 100 incidents still had SQLite build 100 objects of 93 fields
per request, most of its time. A record renders the same until the record or the dictionary
changes, so the store also keeps that text, per root's physical table ``R``, in a table
``_wire_R`` (:func:`wire_table`) holding for each row of ``R``: its rowid and sys_id, the
text, and a fingerprint of the class and of the SQL that wrote it. The text is the record as
``GET /api/now/table/<its class>`` returns it raw with the default field list, each
reference link written ``\x01<table>/<sys_id>``: the request's base URL and API version
replace :data:`LINK_MARK` when the page is sent (one byte replace per page; ``json_object``
escapes control characters, so the raw byte marks only links). The texts live apart from
the rows so that scans of ``R`` stay as fast as before (a 2.4 kB text per row made a
``LIKE`` scan of 100,000 incidents 5.7 times slower).

``store.rows`` writes the text after each insert and update it makes (:func:`refresh`);
triggers on ``R`` delete it when any statement updates or deletes the row (a business
rule's SQL, a test's), and rows inserted otherwise have none. A listing
(``table_queries.select_page_wire``) takes the text where its sys_id and fingerprint are
the row's and the listed table's under the listing's dictionary, and builds the object in
SQL otherwise (a child class's row in a parent's listing, a row written under another
dictionary, a row without text): a text is never served stale. A dictionary change
rewrites the texts of the classes it touched (:func:`sync_wire`); reset's restore puts back
``_wire_R`` with ``R`` (``store.db.restore_changed``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import NamedTuple

import sqlite_utils
from sqlite_utils.db import quote_identifier

from mock_servicenow.dictionary import Dictionary, Field
from mock_servicenow.store.db import WIRE_TABLE_PREFIX

#: Stands for ``<base URL>/api/now[/vN]/table/`` in a kept text (:func:`link_base`).
LINK_MARK = "\x01"
#: Field types whose raw value is always ``""`` in a Table API record: write-only passwords,
#: and journal fields, read from ``sys_journal_field`` (servicenow-behaviour §1.4, §6).
PASSWORD_TYPES = frozenset({"password", "password2"})
JOURNAL_TYPES = frozenset({"journal", "journal_input", "journal_list"})


def readable_columns(dictionary: Dictionary, table: str) -> Mapping[str, Field]:
    """The stored columns of what ``table`` is read from (``Dictionary.read_source``)."""
    if len(dictionary.parts(table)) == 1:
        return dictionary.physical_fields(dictionary.root(table))
    return {name: fld for name, fld in dictionary.fields(table).items() if fld.is_stored}


#: How a column becomes its raw wire value in ``table_queries.select_page_json`` (the same rules as
#: ``domain/table/display.py``'s raw converters): ``empty`` is always ``""``; ``text`` the value as
#: text, ``""`` for NULL; ``boolean`` ``"true"``/``"false"``, ``""`` for NULL; ``reference``
#: ``{"link": <prefix><sys_id>, "value": <sys_id>}``, ``""`` when empty; ``reference_value``
#: the plain sys_id (``sysparm_exclude_reference_link``).
WIRE_KINDS = frozenset({"empty", "text", "boolean", "reference", "reference_value"})

#: SQLite allows 127 arguments per function call: json_object() takes at most 63 pairs.
_JSON_PAIRS = 60


def _wire_expression(column: str, kind: str, column_type: str | None = None,
                     link: str = "?") -> str:
    if kind == "empty" or column == "":
        return "''"
    ref = f"{{a}}.{quote_identifier(column)}"
    # TEXT affinity stores every non-NULL value we write as text: no CAST per value (a tenth
    # of a listing's SQL, issue 9).
    text = ref if column_type == "TEXT" else f"CAST({ref} AS TEXT)"
    if kind == "text":
        return f"ifnull({text}, '')"
    if kind == "boolean":
        return (f"CASE WHEN {ref} IS NULL THEN '' "
                f"WHEN {ref} IN (1, '1', 'true') THEN 'true' ELSE 'false' END")
    empty = f"{ref} IS NULL OR {ref} = ''"
    if kind == "reference_value":
        return f"CASE WHEN {empty} THEN '' ELSE {text} END"
    if kind == "reference":
        # The link prefix is a bound parameter (it holds the request's host name), or a
        # literal in the stored form (``store/wire.py``).
        return (f"CASE WHEN {empty} THEN '' ELSE json_object('link', {link} || {text}, "
                f"'value', {text}) END")
    raise ValueError(f"unknown wire kind {kind!r}")


def _spliced(objects: Sequence[str]) -> str:
    """One SQL expression joining ``json_object`` texts into one object: the closing brace
    of each but the last and the opening brace of each but the first are trimmed. Only for
    objects whose last value is a string (``..."}``): ``rtrim`` then removes exactly one
    brace, where a nested object's ``}}`` would lose two."""
    parts = []
    for index, text in enumerate(objects):
        if index < len(objects) - 1:
            text = f"rtrim({text}, '}}')"
        if index > 0:
            text = f"ltrim({text}, '{{')"
        parts.append(text)
    return " || ',' || ".join(parts)


class JsonSelect(NamedTuple):
    """What :func:`json_select` builds."""

    #: The SELECT list.
    sql: str
    #: The link prefixes it binds, in order.
    prefixes: tuple[str, ...]
    #: How many columns it selects: one object, or one per chunk for Python to join.
    columns: int


@functools.lru_cache(maxsize=512)
def json_select(dictionary: Dictionary, table: str, wire: tuple[tuple[str, str, str], ...],
                 alias: str, literal_links: bool = False) -> JsonSelect:
    """The SELECT list of ``table_queries.select_page_json`` (built once per field list): one
    ``json_object`` per 60 fields; and the link prefixes it binds, in order. With
    ``literal_links`` the prefixes are written into the SQL (nothing is bound)."""
    physical = readable_columns(dictionary, table)
    pairs: list[str] = []
    ends_nested: list[bool] = []  # the pair's value can be an object (a reference link)
    prefixes: list[str] = []
    for key, kind, prefix in wire:
        if kind not in WIRE_KINDS:
            raise ValueError(f"unknown wire kind {kind!r}")
        stored = key if key in physical else ""
        column_type = physical[stored].column_type if stored else None
        link = "'" + prefix.replace("'", "''") + "'" if literal_links else "?"
        pairs.append(f"'{key.replace(chr(39), chr(39) * 2)}', "
                     + _wire_expression(stored, kind, column_type, link).replace("{a}", alias))
        ends_nested.append(kind == "reference" and stored != "")
        if kind == "reference" and stored != "" and not literal_links:
            prefixes.append(prefix)
    # SQLite joins the objects itself (no Python work per row, issue 9) when each object
    # but the last can end on a string value: its chunk boundary moves back past references.
    bounds: list[tuple[int, int]] = []
    at = 0
    while at < len(pairs):
        end = min(at + _JSON_PAIRS, len(pairs))
        while end < len(pairs) and end > at + 1 and ends_nested[end - 1]:
            end -= 1
        bounds.append((at, end))
        at = end
    objects = [f"json_object({', '.join(pairs[a:b])})" for a, b in bounds] or ["json_object()"]
    if len(objects) > 1 and not any(ends_nested[b - 1] for _, b in bounds[:-1]):
        return JsonSelect(_spliced(objects), tuple(prefixes), 1)
    return JsonSelect(", ".join(objects), tuple(prefixes), len(objects))


@functools.lru_cache(maxsize=1024)
def wire_kinds(dictionary: Dictionary, table: str, wanted: tuple[str, ...] | None,
               exclude_link: bool) -> tuple[tuple[str, str, str], ...] | None:
    """``(field, kind, referenced table or "")`` per output field of a raw record of
    ``table`` (:data:`WIRE_KINDS`), ``wanted`` naming the fields (``None``: all of them);
    ``None`` when SQLite cannot write the record as Python does (a floating-point column:
    ``repr(float)`` and SQLite's float text differ)."""
    fields = dictionary.fields(table)
    names = list(fields) if wanted is None else [
        n for n in dict.fromkeys(wanted) if n in fields]
    plan: list[tuple[str, str, str]] = []
    for name in names:
        fld = fields[name]
        if fld.type in PASSWORD_TYPES or fld.type in JOURNAL_TYPES:
            plan.append((name, "empty", ""))
        elif fld.type == "reference":
            assert fld.reference is not None
            plan.append((name, "reference_value", "") if exclude_link
                        else (name, "reference", fld.reference))
        elif fld.type == "boolean":
            plan.append((name, "boolean", ""))
        elif fld.column_type == "REAL":
            return None
        else:
            plan.append((name, "text", ""))
    return tuple(plan)


class StoredWire(NamedTuple):
    """How the kept text of one class's rows is written."""

    #: SQL over the alias ``{a}``.
    expression: str
    #: Of the class and the expression: what a kept text's ``plan`` must be to be served.
    fingerprint: str


@functools.lru_cache(maxsize=1024)
def stored_wire(dictionary: Dictionary, table: str) -> StoredWire | None:
    """How rows of class ``table`` keep their text; ``None`` when they keep none (a table read
    through a union of several physical tables, or one :func:`wire_kinds` refuses)."""
    if len(dictionary.parts(table)) != 1:
        return None
    kinds = wire_kinds(dictionary, table, None, False)
    if kinds is None:
        return None
    plan = tuple((name, kind, f"{target}/" if kind == "reference" else "")
                 for name, kind, target in kinds)
    select = json_select(dictionary, table, plan, "{a}", literal_links=True)
    if select.columns != 1:
        return None  # several objects, joined in Python (table_queries.select_page_json)
    # The mark goes in after json_object, which would escape it.
    expression = f"""replace({select.sql}, '{{"link":"', '{{"link":"' || char(1))"""
    fingerprint = hashlib.sha256(f"{table}\0{expression}".encode()).hexdigest()[:16]
    return StoredWire(expression, fingerprint)


def link_base(base_url: str, api_version: str | None) -> str:
    """What :data:`LINK_MARK` stands for in a page sent to ``base_url``
    (``<base>/api/now[/vN]/table/<table>/<sys_id>``, servicenow-behaviour §1.4)."""
    version = f"/{api_version}" if api_version else ""
    return f"{base_url}/api/now{version}/table/"


def wire_table(root: str) -> str:
    """The table of the kept texts of the rows of the physical table ``root``."""
    return f"{WIRE_TABLE_PREFIX}{root}"


@functools.lru_cache(maxsize=1024)
def _write_sql(dictionary: Dictionary, table: str, where: str) -> str | None:
    """``INSERT OR REPLACE`` of the kept texts of the rows of class ``table`` selected by
    ``where`` (over the alias ``a``)."""
    stored = stored_wire(dictionary, table) if table in dictionary else None
    if stored is None:
        return None
    root = dictionary.root(table)
    return (f"INSERT OR REPLACE INTO {quote_identifier(wire_table(root))} "
            "(rid, sys_id, plan, wire) "
            f"SELECT a.rowid, a.sys_id, '{stored.fingerprint}', "
            f"{stored.expression.replace('{a}', 'a')} "
            f"FROM {quote_identifier(root)} AS a WHERE {where}")


#: Connections whose writes keep no texts for now (:func:`unkept`).
_UNKEPT: weakref.WeakSet[sqlite_utils.Database] = weakref.WeakSet()


@contextlib.contextmanager
def unkept(db: sqlite_utils.Database) -> Iterator[None]:
    """Rows written through ``db`` meanwhile keep no text: the seed's. Their listings are
    built in SQL as before; kept texts would double the seeded template (8.8 MB, most of it
    ``sys_dictionary``), which every new instance and every reset copies."""
    _UNKEPT.add(db)
    try:
        yield
    finally:
        _UNKEPT.discard(db)


def refresh(db: sqlite_utils.Database, dictionary: Dictionary, table: str,
            sys_ids: Iterable[str]) -> None:
    """Write the kept texts of rows of class ``table`` (just inserted or updated)."""
    if db in _UNKEPT:
        return
    sql = _write_sql(dictionary, table, "a.sys_id = ?")
    if sql is not None:
        db.conn.executemany(sql, [[sys_id] for sys_id in sys_ids])


def page_join(root: str, alias: str) -> tuple[str, str]:
    """The join of a page's rows (alias ``alias``) to their kept texts, and the alias of
    those."""
    texts = f"{alias}_wire"
    return (f"LEFT JOIN {quote_identifier(wire_table(root))} AS {texts} "
            f"ON {texts}.rid = {alias}.rowid", texts)


def sync_wire(db: sqlite_utils.Database, dictionary: Dictionary, root: str, *,
              previous: Dictionary | None, rewrite: bool) -> None:
    """Give a root's physical table its table of kept texts and the triggers that delete a
    row's text when any statement updates or deletes the row; with ``rewrite``, write the
    texts of each class that ``previous`` (the dictionary until now; ``None``: unknown)
    wrote differently. Idempotent."""
    quoted, texts = quote_identifier(root), quote_identifier(wire_table(root))
    created = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                         [wire_table(root)]).fetchone() is None
    if created:
        db.execute(f"CREATE TABLE {texts} (rid INTEGER PRIMARY KEY, sys_id TEXT NOT NULL, "
                   "plan TEXT NOT NULL, wire TEXT NOT NULL)")
    for event in ("UPDATE", "DELETE"):
        trigger = quote_identifier(f"_wire_{root}_{event.lower()}")
        db.execute(f"CREATE TRIGGER IF NOT EXISTS {trigger} AFTER {event} ON {quoted} "
                   f"BEGIN DELETE FROM {texts} WHERE rid = OLD.rowid; END")
    if not rewrite and not (created and db.execute(
            f"SELECT 1 FROM {quoted} LIMIT 1").fetchone()):
        return  # nothing to write (a new physical table, or nothing changed)
    keep_all(db, dictionary, root, None if created else previous)


def keep_all(db: sqlite_utils.Database, dictionary: Dictionary, root: str,
             previous: Dictionary | None = None) -> None:
    """Write the text of every row of the root's physical table (with ``previous``, only of
    the classes whose text it wrote differently)."""
    classed = "sys_class_name" in dictionary.physical_fields(root)
    for name in dictionary.stored_classes(root):
        stored = stored_wire(dictionary, name)
        if stored is None or (previous is not None and name in previous
                              and stored_wire(previous, name) == stored):
            continue
        sql = _write_sql(dictionary, name, "a.sys_class_name = ?" if classed else "1")
        assert sql is not None
        db.execute(sql, [name] if classed else [])
