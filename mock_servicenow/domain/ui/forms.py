"""Form pages: ``/<table>.do?sys_id=<sys_id>`` (``-1``: a new record) for every served table.

What a form does (platform documentation, navigate-using-url,
https://www.servicenow.com/docs/r/platform-user-interface/navigate-using-url.html):
``sys_id`` opens a record, ``sysparm_query`` without a sys_id opens the first record it
matches (``incident.do?sysparm_query=number=INC0010001``), and with ``sys_id=-1`` presets the
new record's values. Fields show their labels; choice fields are selects, references link to
the referenced record, system fields and the dictionary's read-only fields are read-only.

Update, Insert and Delete call :func:`mock_servicenow.domain.table.records.update_record`,
``create_record`` and ``delete_record``, the functions behind the Table API: the same ACLs,
business rules, data policies, numbering and messages. Only the fields the person changed are
sent (each input posts its original value beside it, ``sys_original.<table>.<field>``, as the
platform's forms do), so a form never rewrites values nobody touched. Values are entered as
display values (``sysparm_input_display_value=true`` semantics, servicenow-behaviour §1.2):
date-times in the user's time zone, references by their display value or sys_id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from mock_servicenow.dictionary import Field
from mock_servicenow.dictionary.model import SYSTEM_FIELD_NAMES
from mock_servicenow.dictionary.values import InvalidValue, script_default, to_storage
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.table import acl, records
from mock_servicenow.domain.table.business_rules import SCRIPT_DEFAULTS
from mock_servicenow.domain.table.display import render_records
from mock_servicenow.domain.ui import lists, views
from mock_servicenow.domain.ui.urls import NEW_RECORD, list_url, reference_url
from mock_servicenow.errors import InvalidRequest, RecordNotFound
from mock_servicenow.store import rows

#: What the platform adds under a refused save (the business rule or data policy message
#: comes first): "Invalid update" / "Invalid insert".
INVALID = {"update": "Invalid update", "insert": "Invalid insert", "delete": "Invalid delete"}
_SECRET_TYPES = frozenset({"password", "password2"})
_TEXT_TYPES = frozenset({"string", "translated_text", "html"})
_DATE_TYPES = frozenset({"glide_date_time", "due_date", "glide_date"})


class InvalidReference(InvalidRequest):
    """A reference field's text matches no record of the referenced table (the form shows
    it at the top; nothing is saved)."""

    message = "Invalid reference"


@dataclass(frozen=True)
class FormField:
    """One field of a form.

    ``kind`` says how it is edited: ``text``, ``textarea``, ``select``, ``checkbox``,
    ``reference``, ``datetime``, ``password``, ``journal`` (a new entry plus the history),
    ``history`` (journal history only) or ``readonly``.
    """

    name: str
    label: str
    kind: str
    value: str = ""
    display: str = ""
    mandatory: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    reference_table: str | None = None
    reference_url: str | None = None
    history: str = ""
    max_length: int = 40
    #: What the input showed when the form was opened (posted back as ``sys_original.*``, so
    #: a save sends only what changed, even after a refused save kept the typed values).
    original: str = ""


@dataclass(frozen=True)
class FormSection:
    """A titled group of fields."""

    title: str
    collapsed: bool
    fields: tuple[FormField, ...]


@dataclass(frozen=True)
class FormPage:
    """Everything a form page shows."""

    table: str
    table_label: str
    sys_id: str
    heading: str
    sections: tuple[FormSection, ...]
    can_update: bool
    can_delete: bool
    can_insert: bool
    list_url: str
    errors: tuple[str, ...] = ()
    query: str = ""

    @property
    def is_new(self) -> bool:
        """True for a record that does not exist yet."""
        return self.sys_id == NEW_RECORD


def is_editable(fld: Field) -> bool:
    """True for fields a form lets a person change (never ``sys_*`` or read-only ones)."""
    return not (fld.read_only or fld.name in SYSTEM_FIELD_NAMES or fld.name == "sys_class_name"
                or fld.type in ("journal", "journal_list"))


def _kind(fld: Field, editable: bool) -> str:
    if fld.type in ("journal", "journal_list"):
        return "history"
    if not editable:
        return "readonly"
    if fld.type == "journal_input":
        return "journal"
    if fld.type in _SECRET_TYPES:
        return "password"
    if fld.type == "boolean":
        return "checkbox"
    if fld.choices:
        return "select"
    if fld.type == "reference":
        return "reference"
    if fld.type in _DATE_TYPES:
        return "datetime"
    if fld.type in _TEXT_TYPES and fld.max_length > views.LONG_TEXT:
        return "textarea"
    return "text"


def _parts(value: Any) -> tuple[str, str]:
    """``(raw value, display value)`` of a field of a record read with display values."""
    if isinstance(value, dict):
        raw, shown = value.get("value"), value.get("display_value")
    else:
        raw, shown = value, value
    return ("" if raw is None else str(raw)), ("" if shown is None else str(shown))


def _field(table: str, fld: Field, value: Any, editable: bool) -> FormField:
    raw, shown = _parts(value)
    kind = _kind(fld, editable)
    if fld.type in _SECRET_TYPES:
        raw = shown = ""  # write-only (servicenow-behaviour §6): never sent to a browser
    if fld.type == "due_date" and not raw:
        shown = ""  # the API's "UNKNOWN" display of an empty due date
    history = shown if kind in ("journal", "history") else ""
    choices: tuple[tuple[str, str], ...] = ()
    if fld.choices:
        choices = tuple((c.value, c.label) for c in fld.choices)
        if raw and all(value != raw for value, _ in choices):
            choices += ((raw, raw),)  # a stored value the list does not know stays shown
    # A reference to a record that does not exist (sys_domain "global") has no display value
    # and gets no link: every link on a page opens something.
    link = (reference_url(fld.reference, fld.reference_key, raw)
            if fld.type == "reference" and fld.reference and raw and shown else None)
    display = shown if kind in ("reference", "datetime", "readonly") else raw
    return FormField(
        name=fld.name, label=fld.label, kind=kind, value=raw, display=display,
        mandatory=fld.mandatory, choices=choices, reference_table=fld.reference,
        reference_url=link, history=history, max_length=fld.max_length,
        original=display if kind in ("reference", "datetime") else raw)


def _new_record(ctx: Context, table: str, query: str) -> dict[str, Any]:
    """A new record as a form shows it: the dictionary's defaults (the ``javascript:`` ones the
    insert runs, evaluated now: the user, the time), then ``sysparm_query``'s ``field=value``
    terms (navigate-using-url: "Applies the values to the new record")."""
    fields = ctx.dictionary.fields(table)
    row: dict[str, Any] = {"sys_id": None}
    wanted: dict[str, str] = {}
    for name, fld in fields.items():
        script = script_default(fld.default)
        if script is None:
            if fld.default is not None:
                wanted[name] = fld.default
        elif script in SCRIPT_DEFAULTS:  # run as the insert runs them: the user, the time
            value = SCRIPT_DEFAULTS[script](ctx, table)
            if value is not None:
                wanted[name] = value
    wanted.update(lists.presets(ctx, table, query))
    for name, value in wanted.items():
        fld = fields[name]
        if not fld.is_stored or name in SYSTEM_FIELD_NAMES:
            continue
        try:
            row[name] = to_storage(fld, value)
        except InvalidValue:
            continue
    if ctx.dictionary.is_extended(table):
        row["sys_class_name"] = table
    return render_records(ctx, table, [row], records.ReadOptions(display_value="all"))[0]


def _located(ctx: Context, table: str, sys_id: str, query: str) -> str:
    """The sys_id a form URL names: ``sys_id``, else the first record ``query`` matches,
    else a new record."""
    if sys_id:
        return sys_id
    if not query:
        return NEW_RECORD
    page = records.list_records(ctx, table, records.ListQuery(query=query, limit=1),
                                records.ReadOptions(fields=("sys_id",)))
    if not page.records:
        raise RecordNotFound()
    return str(page.records[0]["sys_id"])


def form_page(ctx: Context, table: str, sys_id: str = "", *, query: str = "",
              submitted: Mapping[str, Sequence[str]] | None = None,
              errors: Sequence[str] = ()) -> FormPage:
    """The form of one record (or of a new one) for the acting user; ``submitted`` (a posted
    form) replaces the shown values, to show a refused save with what the person typed.

    404 ``No Record found`` for a record that is missing or hidden by ACL (§1.5).
    """
    records.check_table(ctx, table, web_service=False)
    sys_id = _located(ctx, table, sys_id.strip(), query)
    dictionary = ctx.dictionary
    if sys_id == NEW_RECORD:
        record = _new_record(ctx, table, query)
        can_update = can_delete = False
        can_insert = acl.can_write(ctx, table, "create")
        heading = "New record"
    else:
        record = records.get_record(ctx, table, sys_id,
                                    records.ReadOptions(display_value="all"))
        raw = {name: _parts(value)[0] for name, value in record.items()}
        can_update = acl.can_write(ctx, table, "write", raw)
        can_delete = acl.can_write(ctx, table, "delete", raw)
        can_insert = False
        display = dictionary.display_field(table)
        heading = _parts(record.get(display))[1] if display else ""
    fields = dictionary.fields(table)
    editable = can_update or can_insert
    sections = []
    for section in views.form_sections(dictionary, table):
        shown = tuple(_field(table, fields[name], record.get(name),
                             editable and is_editable(fields[name]))
                      for name in section.fields)
        if submitted is not None:
            shown = tuple(_resubmitted(table, f, submitted) for f in shown)
        sections.append(FormSection(section.title, section.collapsed, shown))
    return FormPage(
        table=table, table_label=dictionary.table(table).label, sys_id=sys_id,
        heading=heading or (sys_id if sys_id != NEW_RECORD else "New record"),
        sections=tuple(sections), can_update=can_update, can_delete=can_delete,
        can_insert=can_insert, list_url=list_url(table), errors=tuple(errors), query=query)


def element(table: str, name: str) -> str:
    """The form element name of a field (``incident.short_description``), as the platform's
    forms name their inputs."""
    return f"{table}.{name}"


def _posted(form: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = form.get(name)
    return str(values[-1]) if values else None


def _resubmitted(table: str, fld: FormField, form: Mapping[str, Sequence[str]]) -> FormField:
    """``fld`` showing what was posted for it (a refused save keeps the person's input)."""
    if fld.kind in ("readonly", "history", "password"):
        return fld
    key = element(table, fld.name)
    if fld.kind == "reference":
        text = _posted(form, f"sys_display.{key}")
        return fld if text is None else replace(fld, display=text)
    posted = _posted(form, key)
    if posted is None:
        return fld
    return replace(fld, value=posted, display=posted)


def _resolve_reference(ctx: Context, fld: Field, text: str) -> str:
    """The sys_id a person meant by ``text`` in a reference field (its display value, or a
    sys_id of the referenced table); :class:`InvalidReference` when nothing matches."""
    assert fld.reference is not None
    target, key = fld.reference, fld.reference_key
    display = ctx.dictionary.display_field(target)
    for column in dict.fromkeys(c for c in (display, key) if c is not None):
        found = rows.find_by(ctx.db, ctx.dictionary, target, **{column: text})
        if found:
            return str(found[0][key])  # what the reference stores: a sys_id, or its key
    target_label = ctx.dictionary.table(target).label if target in ctx.dictionary else target
    raise InvalidReference(f"{fld.label}: no {target_label} matches \"{text}\"")


def changes(ctx: Context, table: str, form: Mapping[str, Sequence[str]], *,
            inserting: bool) -> dict[str, Any]:
    """The Table API body a posted form stands for: each editable field whose value differs
    from the original posted beside it (on insert also every filled field), references
    resolved to sys_ids, new journal entries and passwords when typed."""
    body: dict[str, Any] = {}
    for name, fld in ctx.dictionary.fields(table).items():
        if not is_editable(fld):
            continue
        key = element(table, name)
        original = _posted(form, f"sys_original.{key}")
        if fld.type == "journal_input" or fld.type in _SECRET_TYPES:
            value = _posted(form, key)
            if value and value.strip():
                body[name] = value
            continue
        if fld.type == "reference":
            text = _posted(form, f"sys_display.{key}")
            if text is None:
                continue
            text = text.strip()
            if text != (original or ""):
                body[name] = _resolve_reference(ctx, fld, text) if text else ""
            elif inserting and (_posted(form, key) or ""):
                body[name] = _posted(form, key)
            continue
        value = _posted(form, key)
        if value is None:
            continue
        if value != (original or "") or (inserting and value != ""):
            body[name] = value
    return body


def submit(ctx: Context, table: str, sys_id: str, action: str,
           form: Mapping[str, Sequence[str]]) -> str | None:
    """Carry out a form's button: ``insert``, ``update`` or ``delete`` through the Table API's
    domain functions. Returns the record's sys_id (``None`` after a delete); raises the same
    :class:`~mock_servicenow.errors.ServiceNowError` the Table API answers with."""
    records.check_table(ctx, table, web_service=False)
    if action == "delete":
        records.delete_record(ctx, table, sys_id)
        return None
    if action == "insert":
        body = changes(ctx, table, form, inserting=True)
        created = records.create_record(ctx, table, body, input_display_value=True)
        return str(created["sys_id"])
    if action == "update":
        body = changes(ctx, table, form, inserting=False)
        records.update_record(ctx, table, sys_id, body, input_display_value=True)
        return sys_id
    raise InvalidRequest(f"Unknown form action {action!r}", message="Invalid request")
