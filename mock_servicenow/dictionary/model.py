"""The data dictionary's vocabulary: tables, fields, choices, inheritance.

ServiceNow describes every table in ``sys_db_object`` and every column in ``sys_dictionary``;
this module is the same idea as frozen Python data. Storage (``store/``), the Table API
(``domain/``) and the seed all read the one :class:`Dictionary`.

Inheritance follows the platform's "table per hierarchy" storage for ``task``: an extended
table (``incident``) is stored in its root's physical table (``task``) and told apart by
``sys_class_name``; its fields are the root's plus its own (servicenow-behaviour §7.1).
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

#: The ServiceNow field types the emulator knows, with their SQLite storage class.
#: ``None`` means the value is not a column of its table (journal fields live in
#: ``sys_journal_field``, servicenow-behaviour §1.4).
FIELD_TYPES: Mapping[str, str | None] = {
    "sys_id": "TEXT",
    "GUID": "TEXT",
    "string": "TEXT",
    "translated_text": "TEXT",
    "html": "TEXT",
    "url": "TEXT",
    "email": "TEXT",
    "phone_number": "TEXT",
    "integer": "INTEGER",
    "decimal": "REAL",
    "float": "REAL",
    "boolean": "INTEGER",
    "reference": "TEXT",
    "choice": "TEXT",
    "glide_date_time": "TEXT",
    "glide_date": "TEXT",
    "due_date": "TEXT",
    "glide_duration": "TEXT",
    "timer": "TEXT",
    "domain_id": "TEXT",
    "domain_path": "TEXT",
    "glide_list": "TEXT",
    "user_roles": "TEXT",
    "sys_class_name": "TEXT",
    "table_name": "TEXT",
    "password": "TEXT",
    "password2": "TEXT",
    "journal": None,
    "journal_input": None,
    "journal_list": None,
}

#: Fields every table has (servicenow-behaviour §7.1: sys_* stamping).
SYSTEM_FIELD_NAMES = (
    "sys_id",
    "sys_created_on",
    "sys_created_by",
    "sys_updated_on",
    "sys_updated_by",
    "sys_mod_count",
)


class DictionaryError(ValueError):
    """The dictionary contradicts itself (unknown super class, type, reference...)."""


@dataclass(frozen=True)
class Choice:
    """One value of a choice list: the stored ``value`` and the display ``label``."""

    value: str
    label: str


@dataclass(frozen=True)
class Field:
    """One column (``sys_dictionary`` entry) of a table.

    :param reference: target table of a ``reference`` field.
    :param default: value a new record gets when the insert does not name the field, as a
        wire string (``"1"``, ``"true"``).
    :param display: this is the table's display field (what a reference shows as its
        display value, servicenow-behaviour §1.4).
    :param indexed: create an SQLite index on the column (fields queries commonly filter on).
    """

    name: str
    type: str
    label: str = ""
    reference: str | None = None
    choices: tuple[Choice, ...] = ()
    default: str | None = None
    mandatory: bool = False
    read_only: bool = False
    max_length: int = 40
    display: bool = False
    indexed: bool = False
    unique: bool = False

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise DictionaryError(f"field {self.name}: unknown type {self.type!r}")
        if self.type == "reference" and not self.reference:
            raise DictionaryError(f"field {self.name}: a reference needs its target table")
        if not self.label:
            object.__setattr__(self, "label", self.name.replace("_", " ").capitalize())

    @property
    def column_type(self) -> str | None:
        """SQLite storage class, or ``None`` for values kept outside the table (journals)."""
        return FIELD_TYPES[self.type]

    @property
    def is_stored(self) -> bool:
        """True when the value is a column of the table's physical SQLite table."""
        return self.column_type is not None

    def choice_label(self, value: str) -> str | None:
        """Label for a stored choice value, ``None`` when the value is not in the list."""
        for choice in self.choices:
            if choice.value == value:
                return choice.label
        return None


@dataclass(frozen=True)
class Table:
    """One table (``sys_db_object`` row) as data.

    Application-access defaults mirror the ``sys_db_object`` columns
    (servicenow-behaviour §5): ``access`` is ``public`` ("All application scopes") or
    ``package_private`` ("This application scope only").
    """

    name: str
    label: str
    fields: tuple[Field, ...] = ()
    super_class: str | None = None
    number_prefix: str | None = None
    number_start: int = 1001
    scope: str = "global"
    extensible: bool = False
    access: str = "public"
    read_access: bool = True
    create_access: bool = False
    update_access: bool = False
    delete_access: bool = False
    ws_access: bool = True
    caller_access: str = ""
    indexes: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class FieldExtension:
    """Fields an application adds to a table it does not own (``x_<scope>_<name>`` columns)."""

    table: str
    fields: tuple[Field, ...]


def _system_fields() -> tuple[Field, ...]:
    return (
        Field("sys_id", "GUID", "Sys ID", max_length=32, read_only=True),
        Field("sys_created_on", "glide_date_time", "Created", read_only=True, indexed=True),
        Field("sys_created_by", "string", "Created by", read_only=True),
        Field("sys_updated_on", "glide_date_time", "Updated", read_only=True, indexed=True),
        Field("sys_updated_by", "string", "Updated by", read_only=True),
        Field("sys_mod_count", "integer", "Updates", read_only=True, default="0"),
    )


class Dictionary:
    """All tables of an instance, with inheritance resolved.

    Immutable once built; lookups are precomputed because the Table API consults them on
    every request.
    """

    def __init__(self, tables: Iterable[Table], extensions: Iterable[FieldExtension] = ()) -> None:
        own: dict[str, Table] = {}
        for table in tables:
            if table.name in own:
                raise DictionaryError(f"table {table.name} defined twice")
            own[table.name] = table
        for extension in extensions:
            if extension.table not in own:
                raise DictionaryError(f"extension of unknown table {extension.table}")
            base = own[extension.table]
            own[extension.table] = replace(base, fields=base.fields + extension.fields)
        self._tables = own
        self._roots: dict[str, str] = {}
        self._descendants: dict[str, tuple[str, ...]] = {}
        self._physical: dict[str, Mapping[str, Field]] = {}
        self._fields: dict[str, dict[str, Field]] = {}
        self._children: dict[str, list[str]] = {name: [] for name in own}
        for table in own.values():
            if table.super_class is not None:
                if table.super_class not in own:
                    raise DictionaryError(
                        f"table {table.name} extends unknown table {table.super_class}"
                    )
                self._children[table.super_class].append(table.name)
        for name in own:
            self._fields[name] = self._resolve_fields(name)
        for name, fields in self._fields.items():
            for fld in fields.values():
                if fld.reference is not None and fld.reference not in own:
                    raise DictionaryError(
                        f"{name}.{fld.name} references unknown table {fld.reference}"
                    )

    def _resolve_fields(self, name: str) -> dict[str, Field]:
        chain = list(self.ancestry(name))
        fields: dict[str, Field] = {f.name: f for f in _system_fields()}
        root = self._tables[chain[-1]]
        if root.extensible:
            fields["sys_class_name"] = Field(
                "sys_class_name", "sys_class_name", "Class", default=chain[-1], indexed=True,
                max_length=80,
            )
        for table_name in reversed(chain):
            for fld in self._tables[table_name].fields:
                fields[fld.name] = fld
        return fields

    def __contains__(self, name: object) -> bool:
        return name in self._tables

    def __iter__(self) -> Iterator[Table]:
        return iter(self._tables.values())

    def __len__(self) -> int:
        return len(self._tables)

    def table(self, name: str) -> Table:
        """The table called ``name``; ``KeyError`` when there is none."""
        return self._tables[name]

    def get(self, name: str) -> Table | None:
        """The table called ``name``, or ``None``."""
        return self._tables.get(name)

    def fields(self, name: str) -> Mapping[str, Field]:
        """Every field of ``name``, inherited ones included, in declaration order."""
        return self._fields[name]

    def field(self, table: str, name: str) -> Field | None:
        """One field of ``table`` (inherited included), or ``None``."""
        return self._fields[table].get(name)

    def ancestry(self, name: str) -> Iterator[str]:
        """``name``, its super class, and so on up to the root (``incident, task``)."""
        current: str | None = name
        while current is not None:
            yield current
            current = self._tables[current].super_class

    def root(self, name: str) -> str:
        """The root of ``name``'s hierarchy: the physical SQLite table that stores its rows."""
        root = self._roots.get(name)
        if root is None:
            # Memoized: the dictionary is immutable and this runs several times per request.
            root = self._roots[name] = list(self.ancestry(name))[-1]
        return root

    def descendants(self, name: str) -> tuple[str, ...]:
        """``name`` and every table extending it, directly or not (``task`` -> all tasks)."""
        known = self._descendants.get(name)
        if known is not None:
            return known
        found = [name]
        for child in self._children[name]:
            found.extend(self.descendants(child))
        self._descendants[name] = tuple(found)
        return self._descendants[name]

    def is_extended(self, name: str) -> bool:
        """True when the table shares its physical table with others (a hierarchy)."""
        return self._tables[self.root(name)].extensible

    def display_field(self, name: str) -> str | None:
        """The field a reference to ``name`` displays (servicenow-behaviour §1.4)."""
        for fld in reversed(list(self._fields[name].values())):
            if fld.display:
                return fld.name
        for candidate in ("number", "name", "label", "user_name"):
            if candidate in self._fields[name]:
                return candidate
        return None

    def roots(self) -> tuple[str, ...]:
        """Tables that own a physical SQLite table."""
        return tuple(t.name for t in self._tables.values() if t.super_class is None)

    def physical_fields(self, root: str) -> Mapping[str, Field]:
        """Every stored column of a root's physical table: the union over its hierarchy.

        Computed once per root (every insert, lookup and listing checks column names here).
        """
        known = self._physical.get(root)
        if known is not None:
            return known
        columns: dict[str, Field] = {}
        for name in self.descendants(root):
            for fld in self._fields[name].values():
                if fld.is_stored and fld.name not in columns:
                    columns[fld.name] = fld
        self._physical[root] = types.MappingProxyType(columns)
        return self._physical[root]


def choices(*pairs: tuple[str, str]) -> tuple[Choice, ...]:
    """Shorthand: ``choices(("1", "New"), ("2", "In Progress"))``."""
    return tuple(Choice(value, label) for value, label in pairs)
