"""Reading the dictionary's data files into :class:`Table` objects.

The files and their format are described in ``dictionary/data/README.md``: the SDK's table
definitions first (converted by ``scripts/convert_sdk_tables``), then our additions, then each
scoped app's ``tables.json``. A later entry for a table merges into the earlier one: table
keys replace, ``columns`` merge per element, column keys replace. A column of a child table
that names an inherited element overrides it for that table (the platform's per-table choice
lists and ``sys_dictionary_override``): it starts from the inherited definition.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from mock_servicenow.dictionary.model import (
    DEFAULT_MAX_LENGTH,
    Choice,
    DictionaryError,
    Field,
    Table,
    TableAcl,
    system_fields,
)

FORMAT = "mock-servicenow-dictionary/1"
DATA_DIR = Path(__file__).resolve().parent / "data"
APPS_DIR = Path(__file__).resolve().parent.parent / "apps"

#: Column keys and the :class:`Field` attribute each sets.
_COLUMN_KEYS = {
    "type": "type", "label": "label", "max_length": "max_length", "reference": "reference",
    "reference_key": "reference_key", "default": "default", "mandatory": "mandatory",
    "read_only": "read_only", "display": "display", "unique": "unique", "indexed": "indexed",
    "choices": "choices",
}
_IGNORED_COLUMN_KEYS = frozenset({"active", "source", "comment"})
_TABLE_KEYS = frozenset({"name", "label", "extends", "extensible", "display", "number", "scope",
                         "access", "acl", "indexes", "source", "comment", "columns",
                         "partition"})


def data_files() -> tuple[Path, ...]:
    """The dictionary's files in the order they apply (``dictionary/data/README.md``)."""
    return (*sorted(DATA_DIR.glob("sdk-core-*.json")),
            *sorted((DATA_DIR / "tables").glob("*.json")),
            *sorted(APPS_DIR.glob("*/tables.json")))


def read_document(path: Path, expected: str) -> dict[str, Any]:
    """A JSON data file whose ``format`` is ``expected``; :class:`DictionaryError` (a
    ``ValueError``) naming the file otherwise."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DictionaryError(f"{path.name}: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != expected:
        raise DictionaryError(f"{path.name}: not a {expected} document")
    return document


def merged_definitions(paths: Iterable[Path]) -> dict[str, dict[str, Any]]:
    """Every table's definition once the files are merged, in first-definition order."""
    merged: dict[str, dict[str, Any]] = {}
    for path in paths:
        document = read_document(path, FORMAT)
        for entry in document.get("tables", ()):
            unknown = set(entry) - _TABLE_KEYS
            if unknown or "name" not in entry:
                raise DictionaryError(f"{path.name}: table {entry.get('name')!r}: "
                                      f"unknown keys {sorted(unknown)} or no name")
            current = merged.get(entry["name"])
            if current is None:
                merged[entry["name"]] = {**entry, "columns": {
                    element: dict(column) for element, column in entry.get("columns", {}).items()
                }}
                continue
            for key, value in entry.items():
                if key == "columns":
                    for element, column in value.items():
                        current["columns"][element] = {**current["columns"].get(element, {}),
                                                       **column}
                elif key == "access":
                    current["access"] = {**current.get("access", {}), **value}
                else:
                    current[key] = value
    return merged


def build_tables(definitions: Mapping[str, Mapping[str, Any]]) -> tuple[Table, ...]:
    """:class:`Table` objects for merged definitions, parents before children."""
    inherited: dict[str, dict[str, Field]] = {}
    system = {fld.name: fld for fld in system_fields()}
    tables: list[Table] = []
    for name in _parents_first(definitions):
        definition = definitions[name]
        parent = definition.get("extends")
        view = dict(inherited[parent]) if parent else {}
        own: list[Field] = []
        for element, column in definition.get("columns", {}).items():
            if column.get("active", True) is False:
                view.pop(element, None)
                continue
            try:
                fld = _field(element, column, view.get(element) or system.get(element))
            except (TypeError, ValueError) as exc:
                raise DictionaryError(f"{name}.{element}: {exc}") from None
            own.append(fld)
            view[element] = fld
        inherited[name] = view
        tables.append(_table(definition, tuple(own)))
    return tuple(tables)


def load_tables(paths: Iterable[Path] | None = None) -> tuple[Table, ...]:
    """The tables described by ``paths`` (default: :func:`data_files`)."""
    return build_tables(merged_definitions(data_files() if paths is None else paths))


def _parents_first(definitions: Mapping[str, Mapping[str, Any]]) -> list[str]:
    ordered: list[str] = []
    placed: set[str] = set()

    def place(name: str, path: tuple[str, ...]) -> None:
        if name in placed:
            return
        if name in path:
            raise DictionaryError(f"tables extend each other: {' -> '.join((*path, name))}")
        parent = definitions[name].get("extends")
        if parent:
            if parent not in definitions:
                raise DictionaryError(f"table {name} extends unknown table {parent}")
            place(parent, (*path, name))
        placed.add(name)
        ordered.append(name)

    for name in definitions:
        place(name, ())
    return ordered


#: ``(element, id(column), base) -> (column, field)``: a dictionary rebuilt after a custom
#: field shares most column definitions with the out-of-box one, and their fields too.
_FIELDS: dict[tuple[str, int, Field | None], tuple[Mapping[str, Any], Field]] = {}


def _field(element: str, column: Mapping[str, Any], base: Field | None) -> Field:
    key = (element, id(column), base)
    known = _FIELDS.get(key)
    if known is not None and known[0] is column:
        return known[1]
    built = _new_field(element, column, base)
    if len(_FIELDS) > 50_000:
        _FIELDS.clear()
    _FIELDS[key] = (column, built)
    return built


def _new_field(element: str, column: Mapping[str, Any], base: Field | None) -> Field:
    unknown = set(column) - set(_COLUMN_KEYS) - _IGNORED_COLUMN_KEYS
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    values: dict[str, Any] = {}
    for key, attribute in _COLUMN_KEYS.items():
        if key not in column:
            continue
        value = column[key]
        if key == "choices":
            value = tuple(Choice(str(v), str(label)) for v, label in value)
        elif key == "default":
            value = None if value is None else str(value)
        elif key == "max_length":
            value = int(value)
        values[attribute] = value
    if base is not None:
        if "type" in values and values["type"] != base.type and "max_length" not in values:
            values["max_length"] = DEFAULT_MAX_LENGTH.get(values["type"], 40)
        return replace(base, **values)
    if "type" not in values:
        raise ValueError("a new column needs a type")
    values.setdefault("max_length", DEFAULT_MAX_LENGTH.get(values["type"], 40))
    return Field(element, **values)


def _acl(definition: Mapping[str, Any]) -> TableAcl:
    """A table's ``acl``: role lists per operation, owner fields, ``privileged_rows``."""
    roles = {key: tuple(value) for key, value in definition.items() if key != "privileged_rows"}
    return TableAcl(**roles, privileged_rows=bool(definition.get("privileged_rows", False)))


def _table(definition: Mapping[str, Any], fields: tuple[Field, ...]) -> Table:
    access = definition.get("access", {})
    number = definition.get("number") or {}
    acl = definition.get("acl")
    return Table(
        name=definition["name"],
        label=definition.get("label") or definition["name"],
        fields=fields,
        super_class=definition.get("extends") or None,
        number_prefix=number.get("prefix"),
        number_start=int(number.get("start", 1001)),
        number_digits=int(number.get("digits", 7)),
        scope=definition.get("scope", "global"),
        extensible=bool(definition.get("extensible", False)),
        access=access.get("access", "public"),
        read_access=bool(access.get("read", True)),
        create_access=bool(access.get("create", False)),
        update_access=bool(access.get("update", False)),
        delete_access=bool(access.get("delete", False)),
        ws_access=bool(access.get("ws_access", True)),
        caller_access=str(access.get("caller_access", "")),
        indexes=tuple(tuple(index) for index in definition.get("indexes", ())),
        display=definition.get("display") or None,
        acl=None if acl is None else _acl(acl),
        source=definition.get("source", ""),
        partition=bool(definition.get("partition", False)),
    )

