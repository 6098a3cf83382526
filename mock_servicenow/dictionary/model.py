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
from dataclasses import dataclass

#: Storage class per internal type, for the types not stored as TEXT. ``None``: the value is
#: not a column of its table (journal fields live in ``sys_journal_field``,
#: servicenow-behaviour §1.4). Every other type, including ones an admin invents in a
#: ``sys_dictionary`` record, is TEXT.
_STORAGE: Mapping[str, str | None] = {
    "integer": "INTEGER", "boolean": "INTEGER", "longint": "INTEGER", "long": "INTEGER",
    "order_index": "INTEGER",
    "decimal": "REAL", "float": "REAL", "percent_complete": "REAL",
    "journal": None, "journal_input": None, "journal_list": None,
}

#: The internal types of the platform the emulator knows by name (the SDK's column kinds,
#: ``@servicenow/sdk-build-plugins`` ``column-helper.ts``, and the types its table
#: definitions use), with their storage class (TEXT unless :data:`_STORAGE` says otherwise).
FIELD_TYPES: Mapping[str, str | None] = {name: _STORAGE.get(name, "TEXT") for name in (
    "sys_id", "GUID", "string", "translated_text", "translated_field", "translated_html", "html",
    "html_script", "html_template", "wiki_text", "url", "email", "phone_number", "ph_number",
    "phone_number_e164", "integer", "longint", "long", "decimal", "float", "currency", "price",
    "percent_complete", "boolean", "reference", "document_id", "domain_id", "domain_path",
    "choice", "radio", "glide_date_time", "glide_date", "glide_time", "glide_utc_time",
    "calendar_date_time", "datetime", "date", "due_date", "glide_duration", "timer",
    "glide_list", "user_roles", "sys_class_name", "sys_class_path", "sys_class_code",
    "table_name", "short_table_name", "field_name", "field_list", "password", "password2",
    "journal", "journal_input", "journal_list", "conditions", "condition_string", "script",
    "script_plain", "script_server", "email_script", "json", "json_translations", "xml",
    "css", "color", "bootstrap_color", "glyphicon", "image", "user_image", "version",
    "template_value", "name_values", "simple_name_values", "slushbucket", "multi_two_lines",
    "documentation_field", "ip_addr", "char", "order_index", "expression", "variables",
    "glide_var", "glide_action_list", "catalog_preview", "record_hierarchy_path", "properties",
    "sysevent_name", "workflow", "user_input", "collection", "day_of_week", "days_of_week",
    "week_of_month", "month_of_year", "approval_rules", "records", "integer_date",
    "schedule_date_time",
)}

#: The platform's default ``max_length`` per type (``@servicenow/sdk-build-plugins``
#: ``column-helper.ts`` ``getDefaultMaxLength``); 40 for every other type.
DEFAULT_MAX_LENGTH: Mapping[str, int] = {
    "conditions": 4000, "glide_list": 4000, "json": 4000, "name_values": 4000,
    "multi_two_lines": 4000, "slushbucket": 4000, "template_value": 65000, "script": 8000,
    "html": 65536, "decimal": 20, "float": 15, "domain_id": 32, "document_id": 32,
    "reference": 32, "GUID": 32, "domain_path": 255, "user_roles": 255, "password2": 255,
    "email": 255, "url": 1024, "records": 1024, "field_list": 1024, "approval_rules": 1024,
    "table_name": 80, "field_name": 80, "glide_duration": 20, "glide_time": 8,
}

#: Types whose value names another record (a reference shape on the wire).
REFERENCE_TYPES = frozenset({"reference"})


def storage_class(field_type: str) -> str | None:
    """SQLite storage class of a field type: TEXT, INTEGER, REAL, or ``None`` (journals)."""
    return _STORAGE.get(field_type, "TEXT")


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
    :param reference_key: the target's column a reference stores (``sys_id`` unless the
        dictionary says otherwise: ``sys_dictionary.internal_type`` stores a type's ``name``).
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
    reference_key: str = "sys_id"

    def __post_init__(self) -> None:
        if self.type == "reference" and not self.reference:
            raise DictionaryError(f"field {self.name}: a reference needs its target table")
        if not self.label:
            object.__setattr__(self, "label", self.name.replace("_", " ").capitalize())

    @property
    def column_type(self) -> str | None:
        """SQLite storage class, or ``None`` for values kept outside the table (journals)."""
        return storage_class(self.type)

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
    display: str | None = None
    number_digits: int = 7
    acl: TableAcl | None = None
    source: str = ""
    partition: bool = False


@dataclass(frozen=True)
class TableAcl:
    """Roles that pass each operation on a table (its out-of-box ACLs, as data): ``*`` is any
    authenticated user, an empty tuple admin only. ``owner_fields`` let a user read and update
    rows that name them (the ESS rules of ``incident``)."""

    read: tuple[str, ...] = ()
    create: tuple[str, ...] = ()
    write: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()
    owner_fields: tuple[str, ...] = ()
    #: Rows are users: one who holds ``admin`` or an elevated-privilege role is changed or
    #: deleted by admins only (``domain.table.acl``).
    privileged_rows: bool = False


def system_fields() -> tuple[Field, ...]:
    return (
        Field("sys_id", "GUID", "Sys ID", max_length=32, read_only=True),
        Field("sys_created_on", "glide_date_time", "Created", read_only=True),
        Field("sys_created_by", "string", "Created by", read_only=True),
        Field("sys_updated_on", "glide_date_time", "Updated", read_only=True),
        Field("sys_updated_by", "string", "Updated by", read_only=True),
        Field("sys_mod_count", "integer", "Updates", read_only=True, default="0"),
    )


class Dictionary:
    """All tables of an instance, with inheritance resolved.

    Immutable once built; lookups are precomputed because the Table API consults them on
    every request.
    """

    def __init__(self, tables: Iterable[Table]) -> None:
        own: dict[str, Table] = {}
        for table in tables:
            if table.name in own:
                raise DictionaryError(f"table {table.name} defined twice")
            own[table.name] = table
        self._tables = own
        self._roots: dict[str, str] = {}
        self._descendants: dict[str, tuple[str, ...]] = {}
        self._physical: dict[str, Mapping[str, Field]] = {}
        self._column_types: dict[str, Mapping[str, str]] = {}
        self._fields: dict[str, dict[str, Field]] = {}
        self._children: dict[str, list[str]] = {name: [] for name in own}
        for table in own.values():
            if table.super_class is not None:
                if table.super_class not in own:
                    raise DictionaryError(
                        f"table {table.name} extends unknown table {table.super_class}"
                    )
                self._children[table.super_class].append(table.name)
        # Tops of hierarchies whose rows say their class (sys_class_name).
        self._classed = frozenset(name for name, table in own.items() if table.super_class is None
                                  and (table.extensible or self._children[name]))
        # Tables whose children are stored apart (``partition``, dictionary/data/README.md).
        self._partitioned = frozenset(name for name, table in own.items() if table.partition)
        self._stored_classes: dict[str, tuple[str, ...]] = {}
        self._parts: dict[str, tuple[str, ...]] = {}
        for name in own:
            self._fields[name] = self._resolve_fields(name)
        # A reference may name a table the emulator does not serve (the SDK's definitions
        # point at a hundred tables it does not define): its value is kept and shown as a
        # link, its display value is empty, and dot-walking through it finds nothing.

    def _resolve_fields(self, name: str) -> dict[str, Field]:
        chain = list(self.ancestry(name))
        fields: dict[str, Field] = {f.name: f for f in system_fields()}
        if chain[-1] in self._classed:
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
        """One field of ``table`` (inherited included), or ``None`` (also when the table is
        not served: a reference may point at such a table)."""
        fields = self._fields.get(table)
        return None if fields is None else fields.get(name)

    def ancestry(self, name: str) -> Iterator[str]:
        """``name``, its super class, and so on up to the root (``incident, task``)."""
        current: str | None = name
        while current is not None:
            yield current
            current = self._tables[current].super_class

    def root(self, name: str) -> str:
        """The physical SQLite table that stores the rows of class ``name``: the top of its
        hierarchy, or the child of a ``partition`` table it descends from (``sys_dictionary``
        rows have a table of their own, ``incident`` rows live in ``task``)."""
        root = self._roots.get(name)
        if root is None:
            # Memoized: the dictionary is immutable and this runs several times per request.
            current = name
            parent = self._tables[current].super_class
            while parent is not None and parent not in self._partitioned:
                current = parent
                parent = self._tables[current].super_class
            root = self._roots[name] = current
        return root

    def stored_classes(self, root: str) -> tuple[str, ...]:
        """The tables whose rows the physical table ``root`` holds."""
        known = self._stored_classes.get(root)
        if known is None:
            known = self._stored_classes[root] = tuple(
                name for name in self.descendants(root) if self.root(name) == root)
        return known

    def parts(self, name: str) -> tuple[str, ...]:
        """The physical tables holding the rows of ``name`` and its descendants: one, except
        for a ``partition`` table (``sys_metadata``: its own and each child's)."""
        known = self._parts.get(name)
        if known is None:
            known = self._parts[name] = tuple(dict.fromkeys(
                self.root(table) for table in self.descendants(name)))
        return known

    def read_source(self, name: str) -> str:
        """What to read ``name``'s rows from: its physical table, or for a table stored in
        several parts the view ``_union_<name>`` over them (``store/migrations.py``)."""
        parts = self.parts(name)
        return parts[0] if len(parts) == 1 else f"_union_{name}"

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
        """True when the rows of ``name`` are told apart from others in what they are read
        from by ``sys_class_name`` (their physical table holds a hierarchy, or they are read
        through a union of several)."""
        root = self.root(name)
        if len(self.parts(name)) > 1:
            return True
        return "sys_class_name" in self._fields[root] and (
            len(self.stored_classes(root)) > 1 or self._tables[root].extensible)

    def display_field(self, name: str) -> str | None:
        """The field a reference to ``name`` displays (servicenow-behaviour §1.4): the
        table's (or nearest ancestor's) ``display``, else a field flagged ``display``, else
        ``number``, ``name``, ``label`` or ``user_name``. ``None`` for a table not served."""
        if name not in self._tables:
            return None
        for table_name in self.ancestry(name):
            shown = self._tables[table_name].display
            if shown is not None and shown in self._fields[name]:
                return shown
        for fld in reversed(list(self._fields[name].values())):
            if fld.display:
                return fld.name
        for candidate in ("number", "name", "label", "user_name"):
            if candidate in self._fields[name]:
                return candidate
        return None

    def roots(self) -> tuple[str, ...]:
        """Tables that own a physical SQLite table."""
        return tuple(name for name in self._tables if self.root(name) == name)

    def unions(self) -> tuple[str, ...]:
        """Tables read through a union of several physical tables (``read_source``)."""
        return tuple(name for name in self._tables if len(self.parts(name)) > 1)

    def physical_fields(self, root: str) -> Mapping[str, Field]:
        """Every stored column of a root's physical table: the union over its hierarchy.

        Computed once per root (every insert, lookup and listing checks column names here).
        """
        known = self._physical.get(root)
        if known is not None:
            return known
        columns: dict[str, Field] = {}
        for name in self.stored_classes(root):
            for fld in self._fields[name].values():
                if fld.is_stored and fld.name not in columns:
                    columns[fld.name] = fld
        self._physical[root] = types.MappingProxyType(columns)
        return self._physical[root]

    def physical_indexes(self, root: str) -> tuple[tuple[str, bool, str | None], ...]:
        """``(column, indexed, unique owner)`` of the root's stored columns that some table of
        the hierarchy flags ``indexed`` or ``unique``. The unique owner is the table whose
        values must be unique (its classes only, when the physical table holds others:
        ``sys_db_object.name`` is unique, ``sys_dictionary.name`` in the same physical table
        is not)."""
        found: dict[str, tuple[bool, str | None]] = {}
        chain = [name for name in self.ancestry(root)][1:]  # a partition's inherited flags
        for name in (*reversed(chain), *self.stored_classes(root)):
            for fld in self._tables[name].fields:
                if not fld.is_stored or not (fld.indexed or fld.unique):
                    continue
                indexed, owner = found.get(fld.name, (False, None))
                found[fld.name] = (indexed or fld.indexed,
                                   owner or (name if fld.unique else None))
        for fld in system_fields():
            if fld.indexed and fld.name not in found:
                found[fld.name] = (True, None)
        if self.is_extended(root):
            found.setdefault("sys_class_name", (True, None))
        return tuple((name, indexed, owner) for name, (indexed, owner) in found.items())

    def physical_column_types(self, root: str) -> Mapping[str, str]:
        """The declared SQLite type of each stored column of a root's physical table:
        ``TEXT``, ``INTEGER`` or ``REAL``; ``""`` (no affinity: values kept exactly as
        converted) where tables of the hierarchy disagree on a column's storage class
        (``order`` is an integer on one ``sys_metadata`` child and a string on another)."""
        known = self._column_types.get(root)
        if known is not None:
            return known
        kinds: dict[str, set[str]] = {}
        for name in self.stored_classes(root):
            for fld in self._fields[name].values():
                if fld.column_type is not None:
                    kinds.setdefault(fld.name, set()).add(fld.column_type)
        self._column_types[root] = types.MappingProxyType(
            {name: next(iter(found)) if len(found) == 1 else "" for name, found in kinds.items()})
        return self._column_types[root]


def choices(*pairs: tuple[str, str]) -> tuple[Choice, ...]:
    """Shorthand: ``choices(("1", "New"), ("2", "In Progress"))``."""
    return tuple(Choice(value, label) for value, label in pairs)
