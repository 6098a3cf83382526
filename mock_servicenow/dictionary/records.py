"""The dictionary as the platform's own records, and back.

A real instance describes itself in tables: ``sys_db_object`` (one row per table),
``sys_dictionary`` (one per column, plus a ``collection`` row per table), ``sys_choice`` (one
per choice of a table's column), ``sys_dictionary_override`` (a child table's other default,
mandatory or read-only flag for an inherited column) and ``sys_number`` (numbering). Writing to
them changes the schema (https://docs.servicenow.com/bundle/washingtondc-platform-administration/
page/administer/data-dictionary-tables/concept/c_SystemDictionary.html).

:func:`dictionary_rows` writes a :class:`Dictionary` as those rows (wire values, stable
sys_ids); :func:`apply_rows` reads rows back into table definitions (the loader's format,
``dictionary/data/README.md``): given the rows generated for the out-of-box dictionary and the
rows an instance holds now, it changes the out-of-box definitions by what differs (a column
added, a label changed, a table deleted...), so everything the records do not say (SQLite
indexes, ACL roles, sources) stays as the data files have it.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from mock_servicenow.dictionary.model import SYSTEM_FIELD_NAMES, Dictionary, Field, Table

#: The dictionary's own tables, in the order their rows are written.
DICTIONARY_TABLES = ("sys_number", "sys_db_object", "sys_dictionary", "sys_choice",
                     "sys_dictionary_override")

#: The dictionary tables whose changes change the schema at once (a trigger moves the
#: dictionary version on each write). ``sys_number`` is left out: every numbered insert
#: moves its counter.
VERSIONED_TABLES = ("sys_db_object", "sys_dictionary", "sys_choice", "sys_dictionary_override")

#: Columns of each dictionary table that describe the schema (compared by :func:`apply_rows`;
#: ``sys_number.number`` is the live counter, not a description).
DESCRIBING: Mapping[str, tuple[str, ...]] = {
    "sys_db_object": ("name", "label", "super_class", "number_ref", "is_extendable", "sys_scope",
                      "access", "read_access", "create_access", "update_access",
                      "delete_access", "ws_access", "caller_access"),
    "sys_dictionary": ("name", "element", "column_label", "internal_type", "max_length",
                       "reference", "mandatory", "read_only", "display", "unique",
                       "default_value", "active"),
    "sys_choice": ("name", "element", "value", "label", "sequence", "inactive", "language"),
    "sys_number": ("category", "prefix", "maximum_digits"),
    "sys_dictionary_override": ("name", "element", "base_table", "default_value",
                                "default_value_override", "mandatory", "mandatory_override",
                                "read_only", "read_only_override"),
}


def stable_sys_id(*parts: str) -> str:
    """A deterministic 32-hex sys_id for a record named by ``parts``."""
    return hashlib.md5("/".join(parts).encode(), usedforsecurity=False).hexdigest()


def table_sys_id(name: str) -> str:
    """The ``sys_db_object`` sys_id of table ``name``."""
    return stable_sys_id("sys_db_object", name)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def dictionary_rows(dictionary: Dictionary) -> dict[str, list[dict[str, str]]]:
    """Every dictionary record describing ``dictionary``: ``{table: [row, ...]}``, rows as
    wire values with their ``sys_id``."""
    out: dict[str, list[dict[str, str]]] = {name: [] for name in DICTIONARY_TABLES}
    for table in dictionary:
        number_id = ""
        if table.number_prefix:
            number_id = stable_sys_id("sys_number", table.name)
            out["sys_number"].append({
                "sys_id": number_id, "category": table.name, "prefix": table.number_prefix,
                "number": str(table.number_start), "maximum_digits": str(table.number_digits)})
        out["sys_db_object"].append({
            "sys_id": table_sys_id(table.name), "name": table.name, "label": table.label,
            "super_class": table_sys_id(table.super_class) if table.super_class else "",
            "number_ref": number_id,
            "is_extendable": _flag(table.extensible
                                   or bool(dictionary.descendants(table.name)[1:])),
            "sys_scope": table.scope, "access": table.access,
            "read_access": _flag(table.read_access), "create_access": _flag(table.create_access),
            "update_access": _flag(table.update_access),
            "delete_access": _flag(table.delete_access), "ws_access": _flag(table.ws_access),
            "caller_access": table.caller_access,
        })
        out["sys_dictionary"].append(_collection_row(table))
        parent = dictionary.fields(table.super_class) if table.super_class else {}
        if table.super_class is None:
            # The fields every table has are described once, on the root of a hierarchy.
            out["sys_dictionary"].extend(_column_row(table.name, fld)
                                         for fld in _root_system_fields(dictionary, table))
        for fld in table.fields:
            if fld.name in SYSTEM_FIELDS:
                continue
            base = parent.get(fld.name)
            if base is None:
                out["sys_dictionary"].append(_column_row(table.name, fld))
                out["sys_choice"].extend(_choice_rows(table.name, fld))
                continue
            override = _override_row(table.name, dictionary.root(table.name), fld, base)
            if override is not None:
                out["sys_dictionary_override"].append(override)
            if fld.choices != base.choices:
                out["sys_choice"].extend(_choice_rows(table.name, fld))
    return out


#: Fields of every record, described on the root of each hierarchy only.
SYSTEM_FIELDS = frozenset({*SYSTEM_FIELD_NAMES, "sys_class_name"})


def _root_system_fields(dictionary: Dictionary, table: Table) -> list[Field]:
    fields = dictionary.fields(table.name)
    return [fields[name] for name in (*SYSTEM_FIELD_NAMES, "sys_class_name") if name in fields]


def _collection_row(table: Table) -> dict[str, str]:
    return {"sys_id": stable_sys_id("sys_dictionary", table.name, ""), "name": table.name,
            "element": "", "column_label": table.label, "internal_type": "collection",
            "max_length": "40", "reference": "", "mandatory": "false", "read_only": "false",
            "display": "false", "unique": "false", "default_value": "", "active": "true"}


def _column_row(table: str, fld: Field) -> dict[str, str]:
    return {
        "sys_id": stable_sys_id("sys_dictionary", table, fld.name), "name": table,
        "element": fld.name, "column_label": fld.label, "internal_type": fld.type,
        "max_length": str(fld.max_length), "reference": fld.reference or "",
        "mandatory": _flag(fld.mandatory), "read_only": _flag(fld.read_only),
        "display": _flag(fld.display), "unique": _flag(fld.unique),
        "default_value": fld.default or "", "active": "true",
    }


def _choice_rows(table: str, fld: Field) -> list[dict[str, str]]:
    return [{"sys_id": stable_sys_id("sys_choice", table, fld.name, choice.value),
             "name": table, "element": fld.name, "value": choice.value, "label": choice.label,
             "sequence": str(position), "inactive": "false", "language": "en"}
            for position, choice in enumerate(fld.choices)]


def _override_row(table: str, root: str, fld: Field, base: Field) -> dict[str, str] | None:
    default = fld.default != base.default
    mandatory = fld.mandatory != base.mandatory
    read_only = fld.read_only != base.read_only
    if not (default or mandatory or read_only):
        return None
    return {"sys_id": stable_sys_id("sys_dictionary_override", table, fld.name),
            "name": table, "element": fld.name, "base_table": root,
            "default_value": fld.default or "", "default_value_override": _flag(default),
            "mandatory": _flag(fld.mandatory), "mandatory_override": _flag(mandatory),
            "read_only": _flag(fld.read_only), "read_only_override": _flag(read_only)}


# -- records -> definitions ------------------------------------------------------------------

Rows = Mapping[str, Iterable[Mapping[str, str]]]


def _keyed(rows: Rows, table: str) -> dict[str, Mapping[str, str]]:
    return {str(row["sys_id"]): row for row in rows.get(table, ())}


def _describes(table: str, row: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(str(row.get(column, "")) for column in DESCRIBING[table])


def changed_rows(base: Rows, current: Rows) -> dict[str, tuple[list[Mapping[str, str]],
                                                                 list[Mapping[str, str]]]]:
    """``{table: (rows added or changed, base rows deleted)}`` of ``current`` against
    ``base`` (wire values; only the :data:`DESCRIBING` columns count)."""
    changes: dict[str, tuple[list[Mapping[str, str]], list[Mapping[str, str]]]] = {}
    for table in DICTIONARY_TABLES:
        before, after = _keyed(base, table), _keyed(current, table)
        added = [row for sys_id, row in after.items()
                 if sys_id not in before or _describes(table, row) != _describes(table,
                                                                                 before[sys_id])]
        deleted = [row for sys_id, row in before.items() if sys_id not in after]
        if added or deleted:
            changes[table] = (added, deleted)
    return changes


def apply_rows(definitions: Mapping[str, Mapping[str, Any]], base: Rows,
               current: Rows) -> dict[str, dict[str, Any]]:
    """The table definitions that ``current`` describes, starting from ``definitions`` (whose
    rows are ``base``): only what differs is changed."""
    changes = changed_rows(base, current)
    result = _CopyOnWrite(definitions)
    if not changes:
        return result.tables
    names_by_id = {str(row["sys_id"]): str(row["name"])
                   for row in current.get("sys_db_object", ())}
    names_by_id.update({str(row["sys_id"]): str(row["name"])
                        for row in base.get("sys_db_object", ())})
    prefixes = {str(row["sys_id"]): row for row in current.get("sys_number", ())}
    added, deleted = changes.get("sys_db_object", ([], []))
    for row in deleted:
        result.tables.pop(str(row["name"]), None)
    for row in added:
        name = str(row["name"])
        entry = result.get(name) or result.new(name)
        super_class = names_by_id.get(str(row.get("super_class") or ""))
        entry["label"] = row.get("label") or name
        if super_class:
            entry["extends"] = super_class
        else:
            entry.pop("extends", None)
        entry["extensible"] = row.get("is_extendable") == "true"
        entry["scope"] = row.get("sys_scope") or "global"
        entry["access"] = {
            "access": row.get("access") or "public",
            "read": row.get("read_access") == "true", "create": row.get("create_access") == "true",
            "update": row.get("update_access") == "true",
            "delete": row.get("delete_access") == "true",
            "ws_access": row.get("ws_access") != "false",
            "caller_access": row.get("caller_access") or ""}
        number = prefixes.get(str(row.get("number_ref") or ""))
        if number is not None and number.get("prefix"):
            entry["number"] = {"prefix": number["prefix"],
                               "start": int(number.get("number") or 1001),
                               "digits": int(number.get("maximum_digits") or 7)}
    added, deleted = changes.get("sys_dictionary", ([], []))
    for row in deleted:
        owner = result.get(str(row["name"]))
        if owner is not None and row.get("element"):
            owner["columns"][str(row["element"])] = {"active": False}
    for row in added:
        column_of = result.get(str(row["name"]))
        element = str(row.get("element") or "")
        if column_of is None or not element:
            continue
        column: dict[str, Any] = {
            "type": row.get("internal_type") or "string",
            "label": row.get("column_label") or element,
            "mandatory": row.get("mandatory") == "true",
            "read_only": row.get("read_only") == "true",
            "display": row.get("display") == "true", "unique": row.get("unique") == "true",
        }
        if row.get("max_length"):
            column["max_length"] = int(row["max_length"])
        if row.get("reference"):
            column["reference"] = row["reference"]
        column["default"] = row.get("default_value") or None
        if row.get("active") == "false":
            column = {"active": False}
        previous = column_of["columns"].get(element, {})
        column_of["columns"][element] = {**previous, **column}
    for table, element in _choice_lists_changed(changes):
        listed = result.get(table)
        if listed is None:
            continue
        choices = sorted(
            (int(row.get("sequence") or 0), str(row["value"]), str(row.get("label") or ""))
             for row in current.get("sys_choice", ())
             if row.get("name") == table and row.get("element") == element
             and row.get("inactive") != "true" and (row.get("language") or "en") == "en")
        listed["columns"].setdefault(element, {})["choices"] = [
            [value, label] for _, value, label in choices]
    added, deleted = changes.get("sys_dictionary_override", ([], []))
    for row in [*deleted, *added]:
        overridden = result.get(str(row["name"]))
        if overridden is None:
            continue
        column = overridden["columns"].setdefault(str(row["element"]), {})
        alive = row in added
        for flag in ("mandatory", "read_only"):
            if alive and row.get(f"{flag}_override") == "true":
                column[flag] = row.get(flag) == "true"
        if alive and row.get("default_value_override") == "true":
            column["default"] = row.get("default_value") or None
    return result.tables


class _CopyOnWrite:
    """The definitions being changed: an entry is copied (with its columns, one level deep)
    the first time it is looked up, the rest are shared with the out-of-box definitions."""

    def __init__(self, definitions: Mapping[str, Mapping[str, Any]]) -> None:
        self.tables: dict[str, dict[str, Any]] = dict(definitions)  # type: ignore[arg-type]
        self._copied: set[str] = set()

    def get(self, name: str) -> dict[str, Any] | None:
        entry = self.tables.get(name)
        if entry is None or name in self._copied:
            return entry
        entry = {**entry, "columns": {element: dict(column) for element, column
                                      in entry.get("columns", {}).items()}}
        self.tables[name] = entry
        self._copied.add(name)
        return entry

    def new(self, name: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": name, "columns": {}}
        self.tables[name] = entry
        self._copied.add(name)
        return entry


def _choice_lists_changed(changes: Mapping[str, tuple[list[Mapping[str, str]],
                                                       list[Mapping[str, str]]]]
                          ) -> list[tuple[str, str]]:
    added, deleted = changes.get("sys_choice", ([], []))
    touched: dict[tuple[str, str], None] = {}
    for row in [*added, *deleted]:
        touched[(str(row.get("name")), str(row.get("element")))] = None
    return list(touched)


def group_rows(rows: Iterable[Mapping[str, str]], key: str) -> dict[str, list[Mapping[str, str]]]:
    """Rows grouped by the value of ``key``."""
    grouped: dict[str, list[Mapping[str, str]]] = defaultdict(list)
    for row in rows:
        grouped[str(row.get(key))].append(row)
    return dict(grouped)
