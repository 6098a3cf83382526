"""The instance's live schema: its dictionary records, and their changes applied at once.

On a real instance the tables ``sys_db_object``, ``sys_dictionary`` and ``sys_choice`` *are*
the schema: an admin who inserts a ``sys_dictionary`` record for ``incident`` has added a
column, and the next request reads, writes, queries and orders by it; inserting a
``sys_db_object`` record creates a table (Data dictionary tables,
https://docs.servicenow.com/bundle/washingtondc-platform-administration/page/administer/
data-dictionary-tables/concept/c_SystemDictionary.html; Create a table,
https://docs.servicenow.com/bundle/washingtondc-application-development/page/administer/
table-administration/task/t_CreateATable.html). The emulator does the same:

* the seed writes the out-of-box dictionary as records (:func:`seed_dictionary`) and stamps
  the instance's dictionary version with the out-of-box one;
* a write to a dictionary table (through the Table API or any domain function) runs
  :func:`after_dictionary_write` in the same transaction: the records are read back, the
  dictionary they describe is built (``dictionary.records.apply_rows``: the out-of-box
  definitions changed by what differs) and the physical tables follow it
  (``store.migrations.sync_schema``, ``drop_columns``). Triggers give the dictionary a new
  version, so every worker process sees the change on its next request
  (:meth:`Schema.for_db`: one dictionary per version, built once per process).

Where the platform is silent for a REST insert: a new column's or table's name in the global
scope gets the ``u_`` prefix when it has no ``u_`` or ``x_`` prefix (the platform's rule for
names created in the global scope,
https://docs.servicenow.com/bundle/washingtondc-platform-administration/page/administer/
field-administration/task/t_CreatingNewFields.html).
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from mock_servicenow.dictionary import Dictionary, DictionaryError
from mock_servicenow.dictionary.loader import build_tables, data_files, merged_definitions
from mock_servicenow.dictionary.records import (
    DESCRIBING,
    DICTIONARY_TABLES,
    VERSIONED_TABLES,
    apply_rows,
    dictionary_rows,
    stable_sys_id,
)
from mock_servicenow.dictionary.values import script_default, to_storage, to_wire
from mock_servicenow.errors import OperationFailed
from mock_servicenow.store import rows, schema_store
from mock_servicenow.store.db import cached_config
from mock_servicenow.store.migrations import drop_columns, sync_schema

#: Dictionaries of customised instances kept per process (one per version seen).
_KEPT_VERSIONS = 16
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,79}$")
#: Who the seed's dictionary records were created by (told apart from an admin's).
SEED_USER = "system"
#: ``_emulator_state`` key: the out-of-box dictionary version the records were written for.
BASE_STATE_KEY = "dictionary_base"


@dataclass
class Schema:
    """The out-of-box dictionary, the records describing it, and the dictionaries that
    instances' records describe, by version (one process, every instance)."""

    base: Dictionary
    definitions: Mapping[str, Mapping[str, Any]]
    _base_rows: dict[str, list[dict[str, str]]] | None = field(default=None, repr=False)
    _base_stored_rows: dict[str, dict[str, tuple[Any, ...]]] | None = field(default=None,
                                                                           repr=False)
    _base_version: int | None = field(default=None, repr=False)
    _versions: OrderedDict[int, Dictionary] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def base_version(self) -> int:
        """The dictionary version of an instance holding exactly the out-of-box records: a
        digest of the definitions, so any process with the same data files knows it."""
        if self._base_version is None:
            digest = hashlib.sha256(repr(sorted(
                (name, repr(sorted(d.items(), key=str))) for name, d in self.definitions.items()
            )).encode()).digest()
            self._base_version = int.from_bytes(digest[:7], "big") or 1
        return self._base_version

    def base_rows(self) -> dict[str, list[dict[str, str]]]:
        """The out-of-box dictionary's records, wire values as the Table API reads them back
        (generated once per process)."""
        if self._base_rows is None:
            generated = dictionary_rows(self.base)
            self._base_rows = {table: [_normalised(self.base, table, row) for row in found]
                               for table, found in generated.items()}
        return self._base_rows

    def _base_stored(self) -> dict[str, dict[str, tuple[Any, ...]]]:
        """``{table: {sys_id: describing columns as stored}}`` of the out-of-box records."""
        if self._base_stored_rows is None:
            known: dict[str, dict[str, tuple[Any, ...]]] = {}
            for table, found in dictionary_rows(self.base).items():
                if table not in self.base:
                    continue
                columns = _describing(self.base, table)
                entries: dict[str, tuple[Any, ...]] = {}
                for row in found:
                    stored = _stored(self.base, table, row, "")
                    entries[row["sys_id"]] = tuple(stored.get(c) for c in columns)
                known[table] = entries
            self._base_stored_rows = known
        return self._base_stored_rows

    def for_db(self, db: sqlite_utils.Database) -> Dictionary:
        """The dictionary ``db``'s records describe (remembered per connection until a
        configuration table changes, built once per process and version)."""
        return cached_config(db, VERSIONED_TABLES, ("dictionary", id(self)),
                             lambda: self.for_version(db, schema_store.dictionary_version(db)))

    def for_version(self, db: sqlite_utils.Database, version: int | None) -> Dictionary:
        """The dictionary of ``version`` (read from ``db``'s records when not known yet)."""
        if version in (None, 0, self.base_version):
            # 0: a database whose dictionary records were never written (being seeded).
            return self.base
        with self._lock:
            known = self._versions.get(version)
            if known is not None:
                self._versions.move_to_end(version)
                return known
        built = self.from_records(db)
        with self._lock:
            self._versions[version] = built
            while len(self._versions) > _KEPT_VERSIONS:
                self._versions.popitem(last=False)
        return built

    def remember(self, db: sqlite_utils.Database, dictionary: Dictionary) -> None:
        """Keep ``dictionary`` as the one of ``db``'s current version (just changed by this
        process: no need to build it again)."""
        version = schema_store.dictionary_version(db)
        if version is None or version in (0, self.base_version):
            return
        with self._lock:
            self._versions[version] = dictionary
            while len(self._versions) > _KEPT_VERSIONS:
                self._versions.popitem(last=False)

    def from_records(self, db: sqlite_utils.Database) -> Dictionary:
        """Build the dictionary ``db``'s dictionary records describe now."""
        base_stored = self._base_stored()
        base = self.base_rows()
        current: dict[str, list[dict[str, str]]] = {}
        for table in DICTIONARY_TABLES:
            if table not in self.base:
                continue
            columns = _describing(self.base, table)
            known = base_stored[table]
            by_id = {row["sys_id"]: row for row in base[table]}
            kept: list[dict[str, str]] = []
            for values in rows.select_values(db, self.base, table, ("sys_id", *columns)):
                sys_id, described = values[0], tuple(values[1:])
                if known.get(sys_id) == described:
                    kept.append(by_id[sys_id])  # as seeded: no conversion needed
                else:
                    record = {"sys_id": sys_id, **dict(zip(columns, described, strict=True))}
                    kept.append(_normalised(self.base, table, record))
            current[table] = kept
        definitions = apply_rows(self.definitions, base, current)
        return Dictionary(build_tables(definitions))


@functools.lru_cache(maxsize=1)
def default_schema() -> Schema:
    """The schema of the data files, read once per process."""
    definitions = merged_definitions(data_files())
    return Schema(base=Dictionary(build_tables(definitions)), definitions=definitions)


def _describing(dictionary: Dictionary, table: str) -> tuple[str, ...]:
    """The describing columns of a dictionary table that it has (``sys_number.number``, the
    counter, included: apply_rows reads a new table's first number from it)."""
    fields = dictionary.fields(table)
    return tuple(c for c in (*DESCRIBING[table], "number") if c in fields and
                 (table == "sys_number" or c != "number"))


def _normalised(dictionary: Dictionary, table: str, row: Mapping[str, Any]) -> dict[str, str]:
    """A dictionary record's describing columns as wire strings (storage and generated rows
    compare equal when they say the same)."""
    fields = dictionary.fields(table)
    out = {"sys_id": str(row.get("sys_id") or "")}
    for column in (*DESCRIBING[table], "number"):
        fld = fields.get(column)
        if fld is None or column not in row:
            continue
        value = row[column]
        if isinstance(value, str) and value and fld.column_type != "TEXT":
            try:
                value = to_storage(fld, value)
            except ValueError:
                pass
        out[column] = to_wire(fld, value)
    return out


# -- seeding ---------------------------------------------------------------------------------

def seed_dictionary(db: sqlite_utils.Database, schema: Schema, stamp: str) -> None:
    """Write the out-of-box dictionary records into a new instance."""
    dictionary = schema.base
    for table, found in dictionary_rows(dictionary).items():
        if table not in dictionary:
            continue
        rows.insert_many(db, dictionary, table, (
            _stored(dictionary, table, row, stamp) for row in found))


def stamp_out_of_box(db: sqlite_utils.Database, schema: Schema) -> None:
    """Say that ``db``'s dictionary records are the out-of-box ones (the end of a seed)."""
    schema_store.set_dictionary_version(db, schema.base_version)
    rows.set_state(db, BASE_STATE_KEY, str(schema.base_version))


def refresh_out_of_box(db: sqlite_utils.Database, schema: Schema) -> bool:
    """Bring an existing database's out-of-box dictionary records to this version's data
    files (an instance made by an older release of the emulator); records an admin made are
    kept. Returns True when anything was rewritten."""
    if rows.get_state(db, BASE_STATE_KEY) == str(schema.base_version):
        return False
    dictionary = schema.base
    stamp = db.execute("SELECT strftime('%Y-%m-%d %H:%M:%S', 'now')").fetchone()[0]
    for table, found in dictionary_rows(dictionary).items():
        if table not in dictionary:
            continue
        if table != "sys_number":
            schema_store.delete_seeded(db, dictionary, table, SEED_USER)
        rows.insert_many(db, dictionary, table, (
            _stored(dictionary, table, row, stamp) for row in found),
            conflict="OR IGNORE" if table == "sys_number" else "OR REPLACE")
    custom = any(schema_store.count_not_seeded(db, dictionary, table, SEED_USER)
                 for table in VERSIONED_TABLES if table in dictionary)
    rows.set_state(db, BASE_STATE_KEY, str(schema.base_version))
    schema_store.set_dictionary_version(
        db, schema_store.random_version(db) if custom else schema.base_version)
    return True


@functools.lru_cache(maxsize=64)
def _constant_defaults(dictionary: Dictionary, table: str) -> tuple[tuple[str, Any], ...]:
    return tuple((name, to_storage(fld, fld.default)) for name, fld in
                 dictionary.fields(table).items()
                 if fld.is_stored and fld.default is not None
                 and script_default(fld.default) is None)


def _stored(dictionary: Dictionary, table: str, row: Mapping[str, str],
            stamp: str) -> dict[str, Any]:
    """A seeded dictionary record as stored: the table's constant defaults, then ``row``."""
    fields = dictionary.fields(table)
    stored = dict(_constant_defaults(dictionary, table))
    stored.update({name: to_storage(fields[name], value)
                   for name, value in row.items() if name in fields})
    stored.update(sys_created_on=stamp, sys_updated_on=stamp, sys_created_by=SEED_USER,
                  sys_updated_by=SEED_USER, sys_mod_count=0)
    return stored


# -- changes through the platform ------------------------------------------------------------

def before_dictionary_write(ctx: Any, table: str, row: dict[str, Any],
                            previous: Mapping[str, Any] | None) -> None:
    """Checks and names of a dictionary record about to be written (insert or update).

    ``sys_dictionary``: the table must exist; a new element in the global scope gets the
    ``u_`` prefix; an element already on the table (own or inherited) is refused; a
    reference needs an existing target. ``sys_db_object``: a new table in the global scope
    gets the ``u_`` prefix, must not exist yet, and extends an existing (extensible) table.
    """
    dictionary: Dictionary = ctx.dictionary
    if table == "sys_dictionary":
        name = str(row.get("name") or "")
        element = str(row.get("element") or "")
        if name not in dictionary:
            raise OperationFailed(f"Invalid table name {name!r} for the dictionary entry")
        if previous is None and element:
            element = _prefixed(element)
            row["element"] = element
            if not _NAME.match(element):
                raise OperationFailed(f"Invalid column name {element!r}")
            if dictionary.field(name, element) is not None:
                raise OperationFailed(f"Column {element} already exists on table {name}")
        internal_type = str(row.get("internal_type") or "string")
        row["internal_type"] = internal_type
        if internal_type == "reference":
            target = str(row.get("reference") or "")
            if target not in dictionary:
                raise OperationFailed(
                    f"Reference field {element} needs an existing table, not {target!r}")
        if not row.get("column_label") and element:
            row["column_label"] = element.removeprefix("u_").replace("_", " ").title()
    elif table == "sys_db_object" and previous is None:
        name = _prefixed(str(row.get("name") or ""))
        row["name"] = name
        if not _NAME.match(name):
            raise OperationFailed(f"Invalid table name {name!r}")
        if name in dictionary:
            raise OperationFailed(f"Table {name} already exists")
        given = row.get("super_class")
        parent = _parent_row(ctx, given) if given else None
        if given and parent is None:
            raise OperationFailed(f"Extends table: no table {given!r}")
        if parent is not None:
            row["super_class"] = str(parent["sys_id"])
        if not row.get("label"):
            row["label"] = name.removeprefix("u_").replace("_", " ").title()


def _prefixed(name: str) -> str:
    name = name.strip().lower()
    if not name or name.startswith(("u_", "x_")):
        return name
    return f"u_{name}"


def _parent_row(ctx: Any, value: Any) -> dict[str, Any] | None:
    """The ``sys_db_object`` record a new table extends: ``super_class`` given as its sys_id,
    its name or its label."""
    text = str(value)
    dictionary: Dictionary = ctx.dictionary
    for column in ("sys_id", "name", "label"):
        found = rows.find_by(ctx.db, dictionary, "sys_db_object", **{column: text})
        if found:
            return found[0]
    return None


def after_dictionary_write(ctx: Any, table: str, row: Mapping[str, Any],
                           operation: str) -> None:
    """Apply a dictionary change (``operation``: insert, update or delete) to the schema, in
    the writer's transaction: build the dictionary the records now describe, make the physical
    tables follow it, and hand the new dictionary to the rest of the request."""
    schema: Schema = ctx.platform.schema
    if table == "sys_db_object" and operation == "insert":
        _describe_new_table(ctx, row)
    if table == "sys_db_object" and operation == "delete":
        _forget_table(ctx, str(row.get("name") or ""))
    before: Dictionary = ctx.dictionary
    try:
        after = schema.from_records(ctx.db)
    except DictionaryError as exc:
        raise OperationFailed(f"Invalid dictionary change: {exc}") from None
    sync_schema(ctx.db, after, previous=before)
    for root in before.roots():
        if root not in after:
            continue
        gone = [name for name in before.physical_fields(root)
                if name not in after.physical_fields(root)]
        if gone:
            drop_columns(ctx.db, root, gone)
    ctx.use_dictionary(after)
    schema.remember(ctx.db, after)


def _describe_new_table(ctx: Any, row: Mapping[str, Any]) -> None:
    """A new table's own ``sys_dictionary`` records: its collection record and, for a table
    extending nothing, the fields every record has (the platform creates them with the
    table)."""
    name = str(row.get("name") or "")
    dictionary: Dictionary = ctx.dictionary
    if not name:
        return
    label = str(row.get("label") or name)
    stamp = ctx.now_glide()
    found = [{"sys_id": stable_sys_id("sys_dictionary", name, ""), "name": name, "element": "",
              "column_label": label, "internal_type": "collection", "active": "true"}]
    if not row.get("super_class"):
        for element, internal_type, column_label, length in (
                ("sys_id", "GUID", "Sys ID", "32"),
                ("sys_created_on", "glide_date_time", "Created", "40"),
                ("sys_created_by", "string", "Created by", "40"),
                ("sys_updated_on", "glide_date_time", "Updated", "40"),
                ("sys_updated_by", "string", "Updated by", "40"),
                ("sys_mod_count", "integer", "Updates", "40")):
            found.append({"sys_id": stable_sys_id("sys_dictionary", name, element),
                          "name": name, "element": element, "column_label": column_label,
                          "internal_type": internal_type, "max_length": length,
                          "read_only": "true", "active": "true"})
    fields = dictionary.fields("sys_dictionary")
    rows.insert_many(ctx.db, dictionary, "sys_dictionary", (
        {**{k: to_storage(fields[k], v) for k, v in entry.items()},
         "sys_created_on": stamp, "sys_updated_on": stamp, "sys_created_by": ctx.user.user_name,
         "sys_updated_by": ctx.user.user_name, "sys_mod_count": 0} for entry in found))


def _forget_table(ctx: Any, name: str) -> None:
    """A deleted table: its rows, its dictionary and choice records go with it."""
    dictionary: Dictionary = ctx.dictionary
    if name not in dictionary:
        return
    if dictionary.descendants(name)[1:]:
        raise OperationFailed(f"Table {name} is extended by other tables and cannot be deleted")
    if dictionary.root(name) == name:
        schema_store.drop_table(ctx.db, name)
    else:
        schema_store.delete_class_rows(ctx.db, dictionary.root(name), name)
    for table in ("sys_dictionary", "sys_choice", "sys_dictionary_override"):
        for record in rows.find_by(ctx.db, dictionary, table, name=name):
            rows.delete(ctx.db, dictionary, table, str(record["sys_id"]))
    for record in rows.find_by(ctx.db, dictionary, "sys_number", category=name):
        rows.delete(ctx.db, dictionary, "sys_number", str(record["sys_id"]))
