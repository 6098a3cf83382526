"""One staging row through one transform map: what the platform's transform engine does.

Sources (ServiceNow product documentation, ``ServiceNow/ServiceNowDocs`` markdown):

* Create a transform map (``integrate-applications/system-import-sets/t_CreateATransformMap.md``):
  active maps of a source table run in ``order``; *Copy empty fields* (empty source values
  override target values only when set); *Create new record on empty coalesce fields*; the
  reserved value ``NULL`` clears a field.
* Create a field map (``t_CreatingAFieldMap.md``): source field to target field; *Choice
  action* ``create`` / ``ignore`` / ``reject`` for a reference or choice value that does not
  exist; *Referenced value field name* (blank: the referenced table's display value column);
  *Coalesce*, *Coalesce empty fields*, *Coalesce case sensitive*; *Date format*.
* Updating records using coalesce (``c_ImportSetCoalesce.md``): all coalesce fields must
  match; the first matching record is updated; no match inserts; case-insensitive by default.
* Web service import set mode (``r_ImportSetMode.md``): the statuses ``inserted``,
  ``updated``, ``ignored`` ("No field values changed"), ``skipped`` (missing coalesce values),
  ``error``; ``status_message`` is the row's Comment.
* Import run history (``r_ImportRunHistory.md``): row error codes 100 (reference field value
  rejected), 200 (choice field value rejected), 800 (invalid target record or field).

Inferred (no public text): the skipped message lists the missing coalesce fields by target
field name in brackets ("Unable to resolve target record, coalesce values not present:
[Script]" is the one captured); a rejected value skips the row (a community answer: "it will
show up in the transform history as a skipped ... record"). Transform scripts, field map
source scripts and *Enforce mandatory fields* are not run (this emulator runs no JavaScript).

The target record is written the way a transform writes it, server-side (GlideRecord, no ACL
on the target table: the Import Set API needs no role on the target, see ``loading.py``), but
with the Table API's defaults, numbering and business rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from mock_servicenow.dictionary import Field
from mock_servicenow.dictionary.values import InvalidValue, to_storage, to_wire
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.table import records
from mock_servicenow.domain.table.display import ReadOptions
from mock_servicenow.errors import ServiceNowError
from mock_servicenow.store import rows, schema_store
from mock_servicenow.store.import_set_tables import Match, first_match

__all__ = [
    "FieldMap",
    "Outcome",
    "TransformMap",
    "active_maps",
    "display_of",
    "transform_row",
]

INSERTED, UPDATED, IGNORED, SKIPPED, ERROR = "inserted", "updated", "ignored", "skipped", "error"
#: The reserved value that clears a target field (Create a transform map).
NULL = "NULL"
NO_CHANGE = "No field values changed"
REFERENCE_REJECTED, CHOICE_REJECTED, INVALID_TARGET = 100, 200, 800
_SYS_ID = re.compile(r"^[0-9a-f]{32}$")
_DATE_TYPES = {"glide_date_time": "%Y-%m-%d %H:%M:%S", "due_date": "%Y-%m-%d %H:%M:%S",
               "glide_date": "%Y-%m-%d"}
#: Java date pattern letters (the field map's Date format) and their strptime directives.
_JAVA_DATE = (("yyyy", "%Y"), ("yy", "%y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"),
              ("hh", "%I"), ("mm", "%M"), ("ss", "%S"), ("a", "%p"), ("z", "%Z"))


@dataclass(frozen=True)
class FieldMap:
    """A ``sys_transform_entry`` record."""

    source_field: str
    target_field: str
    coalesce: bool = False
    coalesce_case_sensitive: bool = False
    coalesce_empty_fields: bool = False
    choice_action: str = "create"
    reference_value_field: str = ""
    date_format: str = ""
    use_source_script: bool = False


@dataclass(frozen=True)
class TransformMap:
    """An active ``sys_transform_map`` record with its field maps."""

    sys_id: str
    name: str
    target_table: str
    copy_empty_fields: bool = False
    create_new_record_on_empty_coalesce_fields: bool = False
    fields: tuple[FieldMap, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """What one transform map did with one staging row (an entry of the API's ``result``).

    ``sys_id`` is the target record's, or the staging row's when nothing was transformed
    (``skipped``: "the sys_id of the import set row, rather than the targeted transform
    table", insertMultiple SOAP reference, ``api-reference/web-services/r_InsertMultiple.md``).
    """

    transform_map: str
    map_sys_id: str
    table: str
    status: str
    sys_id: str = ""
    display_name: str = ""
    display_value: str = ""
    status_message: str = ""
    error_message: str = ""
    error_code: int | None = None


class _Skip(Exception):
    """The row is skipped (missing coalesce values, a rejected value)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class _Unset:
    """A value the field map leaves out (ignored, not storable, not resolved)."""


_UNSET = _Unset()


def _flag(value: Any) -> bool:
    return value in (1, True, "1", "true")


def active_maps(ctx: Context, staging_table: str) -> list[TransformMap]:
    """The active transform maps whose source is ``staging_table``, lowest ``order`` first."""
    found = rows.find_by(ctx.db, ctx.dictionary, "sys_transform_map",
                         source_table=staging_table, active=1)
    found.sort(key=lambda r: (int(r.get("order") or 0), str(r.get("name") or ""),
                              str(r["sys_id"])))
    maps = []
    for row in found:
        entries = rows.find_by(ctx.db, ctx.dictionary, "sys_transform_entry", map=row["sys_id"])
        entries.sort(key=lambda r: (str(r.get("sys_created_on") or ""), str(r["sys_id"])))
        maps.append(TransformMap(
            sys_id=str(row["sys_id"]), name=str(row.get("name") or ""),
            target_table=str(row.get("target_table") or ""),
            copy_empty_fields=_flag(row.get("copy_empty_fields")),
            create_new_record_on_empty_coalesce_fields=_flag(
                row.get("create_new_record_on_empty_coalesce_fields")),
            fields=tuple(FieldMap(
                source_field=str(e.get("source_field") or ""),
                target_field=str(e.get("target_field") or ""),
                coalesce=_flag(e.get("coalesce")),
                coalesce_case_sensitive=_flag(e.get("coalesce_case_sensitive")),
                coalesce_empty_fields=_flag(e.get("coalesce_empty_fields")),
                choice_action=str(e.get("choice_action") or "create"),
                reference_value_field=str(e.get("reference_value_field") or ""),
                date_format=str(e.get("date_format") or ""),
                use_source_script=_flag(e.get("use_source_script")),
            ) for e in entries),
        ))
    return maps


def transform_row(ctx: Context, tmap: TransformMap, staging_table: str,
                  row: Mapping[str, Any]) -> Outcome:
    """Transform one staging row (storage values) with ``tmap``; ``ctx`` acts server-side.

    Everything the row writes (created references and choices, the target record) is undone
    when the row ends skipped or in error: the row runs in a savepoint.
    """
    target = tmap.target_table
    base = Outcome(transform_map=tmap.name, map_sys_id=tmap.sys_id, table=target, status=ERROR)
    if target not in ctx.dictionary:
        # 800 Invalid target record or field; the captured error text is "Invalid table".
        return replace(base, error_message="Invalid table", status_message="Invalid table",
                       error_code=INVALID_TARGET)
    staging_fields = ctx.dictionary.fields(staging_table)
    source = {name: to_wire(fld, row.get(name)) for name, fld in staging_fields.items()
              if fld.is_stored}
    dictionary_before = ctx.dictionary
    try:
        with ctx.db.atomic():
            return _apply(ctx, tmap, source, base)
    except _Skip as skip:
        _forget_rolled_back_schema(ctx, dictionary_before)
        return replace(base, status=SKIPPED, sys_id=str(row["sys_id"]),
                       status_message=skip.message, error_message=skip.message,
                       error_code=skip.code)
    except ServiceNowError as error:
        _forget_rolled_back_schema(ctx, dictionary_before)
        message = error.detail or error.message
        return replace(base, error_message=message, status_message=message)


def _forget_rolled_back_schema(ctx: Context, before: Any) -> None:
    """A choice created by a row that was then rolled back is no longer in the schema."""
    if ctx.dictionary is not before:
        version = schema_store.dictionary_version(ctx.db)
        ctx.use_dictionary(ctx.platform.schema.for_version(ctx.db, version))


def _apply(ctx: Context, tmap: TransformMap, source: Mapping[str, str],
           base: Outcome) -> Outcome:
    target = tmap.target_table
    fields = ctx.dictionary.fields(target)
    maps = [fm for fm in tmap.fields
            if not fm.use_source_script and fm.source_field in source
            and fm.target_field in fields]
    existing = _coalesce(ctx, tmap, maps, source)
    values: dict[str, str] = {}
    for fm in maps:
        raw = source[fm.source_field]
        if raw == NULL:
            values[fm.target_field] = ""
        elif raw == "":
            if tmap.copy_empty_fields:
                values[fm.target_field] = ""
        else:
            value = _resolve(ctx, fm, fields[fm.target_field], target, raw, create=True)
            if not isinstance(value, _Unset):
                values[fm.target_field] = value
    if existing is None:
        created = records.create_record(ctx, target, {k: v for k, v in values.items() if v})
        sys_id, status, message = str(created["sys_id"]), INSERTED, ""
    else:
        sys_id = str(existing["sys_id"])
        changes = {name: value for name, value in values.items()
                   if _changes(fields[name], existing.get(name), value)}
        if changes:
            records.update_record(ctx, target, sys_id, changes)
            status, message = UPDATED, ""
        else:
            status, message = IGNORED, NO_CHANGE
    display_name, display_value = display_of(ctx, target, sys_id)
    return replace(base, status=status, sys_id=sys_id, display_name=display_name,
                   display_value=display_value, status_message=message)


def _coalesce(ctx: Context, tmap: TransformMap, maps: list[FieldMap],
              source: Mapping[str, str]) -> dict[str, Any] | None:
    """The target record the row updates, ``None`` to insert; :class:`_Skip` when coalesce
    values are missing (Updating records using coalesce; Create a transform map)."""
    coalescing = [fm for fm in maps if fm.coalesce]
    if not coalescing:
        return None
    fields = ctx.dictionary.fields(tmap.target_table)
    missing: list[str] = []
    conditions: list[Match] = []
    unresolved = False
    for fm in coalescing:
        fld = fields[fm.target_field]
        raw = source[fm.source_field]
        if raw in ("", NULL):
            if fm.coalesce_empty_fields:
                conditions.append(Match(fm.target_field, None))
            else:
                missing.append(fm.target_field)
            continue
        value = _resolve(ctx, fm, fld, tmap.target_table, raw, create=False)
        stored = _storage(fld, value) if not isinstance(value, _Unset) else _UNSET
        if isinstance(stored, _Unset) or not fld.is_stored:
            unresolved = True  # nothing stored can equal it: a new record
            continue
        conditions.append(Match(fm.target_field, stored, nocase=not fm.coalesce_case_sensitive))
    if missing:
        if len(missing) == len(coalescing) and tmap.create_new_record_on_empty_coalesce_fields:
            return None
        raise _Skip("Unable to resolve target record, coalesce values not present: "
                    f"[{', '.join(missing)}]")
    if unresolved:
        return None
    return first_match(ctx.db, ctx.dictionary, tmap.target_table, conditions)


def _storage(fld: Field, value: str) -> Any:
    try:
        return to_storage(fld, value)
    except InvalidValue:
        return _UNSET


def _changes(fld: Field, stored: Any, value: str) -> bool:
    """True when writing ``value`` would change the record (journal entries always add)."""
    if not fld.is_stored:
        return bool(value)
    new = _storage(fld, value)
    return not isinstance(new, _Unset) and new != stored


def _resolve(ctx: Context, fm: FieldMap, fld: Field, target: str, raw: str, *,
             create: bool) -> str | _Unset:
    """The wire value a source value sets on ``fld``: references and choices resolved (and
    created when the choice action says so and ``create``), dates in the field's format."""
    if fld.type == "reference" and fld.reference and fld.reference in ctx.dictionary:
        return _reference(ctx, fm, fld, raw, create=create)
    if fld.choices:
        return _choice(ctx, fm, fld, target, raw, create=create)
    if fld.type in _DATE_TYPES and fm.date_format:
        return _date(fm.date_format, _DATE_TYPES[fld.type], raw)
    if fld.is_stored and isinstance(_storage(fld, raw), _Unset):
        return _UNSET  # a value the field cannot hold is left out, as the Table API does
    return raw


def _reference(ctx: Context, fm: FieldMap, fld: Field, raw: str, *,
               create: bool) -> str | _Unset:
    """Match the value to a record of the referenced table by *Referenced value field name*
    (blank: its display value column), or by sys_id; else the choice action."""
    table = str(fld.reference)
    key = fld.reference_key
    referenced = ctx.dictionary.fields(table)
    if _SYS_ID.match(raw):
        found = rows.get(ctx.db, ctx.dictionary, table, raw)
        if found is not None:
            return str(found[key])
    column = fm.reference_value_field if fm.reference_value_field in referenced else (
        ctx.dictionary.display_field(table) or "sys_id")
    lookup = referenced[column]
    stored = _storage(lookup, raw) if lookup.is_stored else _UNSET
    if not isinstance(stored, _Unset):
        found = first_match(ctx.db, ctx.dictionary, table,
                            [Match(column, stored, nocase=True)])
        if found is not None:
            return str(found[key])
    if fm.choice_action == "reject":
        raise _Skip("Reference field value rejected", REFERENCE_REJECTED)
    if fm.choice_action == "ignore" or not create or isinstance(stored, _Unset):
        return _UNSET
    created = records.create_record(ctx, table, {column: raw})
    if key == "sys_id":
        return str(created["sys_id"])
    row = rows.get(ctx.db, ctx.dictionary, table, str(created["sys_id"]))
    return _UNSET if row is None or row.get(key) is None else str(row[key])


def _choice(ctx: Context, fm: FieldMap, fld: Field, target: str, raw: str, *,
            create: bool) -> str | _Unset:
    """A choice value, or the value of a choice whose label it is; else the choice action
    (``create`` adds a ``sys_choice`` record for the target table)."""
    if fld.choice_label(raw) is not None:
        return raw
    lowered = raw.lower()
    for choice in fld.choices:
        if choice.label.lower() == lowered:
            return choice.value
    if fm.choice_action == "reject":
        raise _Skip("Choice field value rejected", CHOICE_REJECTED)
    if fm.choice_action == "ignore" or isinstance(_storage(fld, raw), _Unset):
        return _UNSET
    if create:
        records.create_record(ctx, "sys_choice", {
            "name": target, "element": fld.name, "value": raw, "label": raw,
            "language": "en", "inactive": "false"})
    return raw


def _date(java_format: str, glide_format: str, raw: str) -> str:
    """A date in the field map's Date format (Java pattern letters) in the platform's own
    format; a value that does not match is passed on unchanged (Mapping options)."""
    pattern = re.sub("|".join(token for token, _ in _JAVA_DATE),
                     lambda m: dict(_JAVA_DATE)[m.group(0)], java_format)
    try:
        return datetime.strptime(raw.strip(), pattern).strftime(glide_format)
    except ValueError:
        return raw


def display_of(ctx: Context, table: str, sys_id: str) -> tuple[str, str]:
    """``display_name`` / ``display_value`` of a target record: its display field (``number``
    for tasks) and that field's display value; ``sys_id`` for a table without one."""
    name = ctx.dictionary.display_field(table)
    if name is None:
        return "sys_id", sys_id
    shown = records.get_record(ctx, table, sys_id,
                               ReadOptions(display_value="true", fields=(name,)))
    value = shown.get(name)
    if isinstance(value, dict):
        value = value.get("display_value")
    return name, "" if value is None else str(value)
