"""Table API semantics: read, list, create, update, delete and aggregate records.

The public API other parts build on (the plugin's scoped context, the connector's tickets, the
benchmark). Every function takes the :class:`Context` first, runs one use case in one
``db.atomic()`` (house style 9.4) and raises :class:`~mock_servicenow.errors.ServiceNowError`
subclasses. Records come back as wire dictionaries (:mod:`mock_servicenow.domain.table.display`).

Sources (servicenow-behaviour): §1.1 methods and write semantics (unknown body fields are
ignored, ``""`` clears a field, ``sys_*`` fields are not writable); §1.2 query parameters
(name=value filters accept display values for choices and references; invalid query terms
are ignored unless ``glide.invalid_query.returns_no_rows``; ``sysparm_limit`` applies before
ACLs); §1.5 errors; §5-6 access; §7 business rules; §9.1 the Aggregate API.

``web_service=True`` marks a request arriving over REST: it is then gated by the table's
``sys_db_object.ws_access`` (§5, §10 item 9). Callers inside the platform leave it false.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from mock_servicenow.dictionary import Dictionary, Field
from mock_servicenow.dictionary.values import InvalidValue, script_default, to_storage, to_wire
from mock_servicenow.domain.identity.passwords import hash_password, stored_hashed
from mock_servicenow.domain.platform.clock import GLIDE_FORMAT, format_glide
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.table import acl, business_rules
from mock_servicenow.domain.table.display import (
    PASSWORD_TYPES,
    ReadOptions,
    encode_page,
    encode_records,
    raw_wire_plan,
    render_records,
    user_zone,
)
from mock_servicenow.domain.table.encoded_query import Condition, Query, compile_query, parse
from mock_servicenow.errors import (
    InsufficientRights,
    InvalidTable,
    NotAuthorized,
    OperationFailed,
    RecordNotFound,
)
from mock_servicenow.store import rows, table_queries, wire
from mock_servicenow.store.db import write_transaction

__all__ = [
    "DEFAULT_LIMIT",
    "AggregateQuery",
    "ListQuery",
    "Page",
    "ReadOptions",
    "aggregate",
    "create_record",
    "delete_record",
    "get_record",
    "list_records",
    "update_record",
]

#: ``sysparm_limit`` default (servicenow-behaviour §1.2).
DEFAULT_LIMIT = 10000
INVALID_QUERY_PROPERTY = "glide.invalid_query.returns_no_rows"
_SQL_INT_MAX = 2**63 - 1
_SYS_ID = re.compile(r"^[0-9a-f]{32}$")
_ALIAS = "t"
T = TypeVar("T")

#: Raw values, all fields, reference links (the defaults of a Table API read).
RAW = ReadOptions()
#: Stands for each link's base in :attr:`Page.encoded` when :attr:`Page.link_base` is set.
LINK_MARK = wire.LINK_MARK


@dataclass(frozen=True)
class ListQuery:
    """What to list: ``sysparm_query``, name=value ``filters``, ``sysparm_limit``/``offset``,
    ``sysparm_no_count`` (servicenow-behaviour §1.2)."""

    query: str = ""
    filters: tuple[tuple[str, str], ...] = ()
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    no_count: bool = False


@dataclass(frozen=True)
class Page:
    """One page of a listing: rendered records and the full match count (``None`` when
    ``sysparm_no_count`` skipped it)."""

    records: list[dict[str, Any]]
    total: int | None
    limit: int
    offset: int
    #: With ``list_records(..., encoded=True)``: the page's records as compact JSON objects
    #: (``records`` is then empty), built by SQLite when the raw-mode shortcut applies, else
    #: by ``display.encode_page`` or ``display.encode_records``.
    encoded: list[str] | None = None
    #: What ``store.wire.LINK_MARK`` stands for in :attr:`encoded` (the texts the store kept
    #: beside the rows hold it in place of each link's base), ``None`` when they hold none.
    link_base: str | None = None

    @property
    def size(self) -> int:
        """How many records the page holds, in whichever form it holds them."""
        return len(self.encoded) if self.encoded is not None else len(self.records)


@dataclass(frozen=True)
class AggregateQuery:
    """Parameters of ``/api/now/stats/{table}`` (servicenow-behaviour §9.1)."""

    query: str = ""
    filters: tuple[tuple[str, str], ...] = ()
    count: bool = False
    group_by: tuple[str, ...] = ()
    avg_fields: tuple[str, ...] = ()
    min_fields: tuple[str, ...] = ()
    max_fields: tuple[str, ...] = ()
    sum_fields: tuple[str, ...] = ()
    display_value: bool = False


@dataclass
class _Filter:
    where: str = "1"
    params: list[Any] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)
    order_by: list[str] = field(default_factory=list)
    join_params: list[Any] = field(default_factory=list)

    def sql(self) -> dict[str, Any]:
        """The ``where``, ``params``, ``joins`` and ``join_params`` arguments of the
        ``store.table_queries`` functions."""
        return {"where": self.where, "params": self.params, "joins": self.joins,
                "join_params": self.join_params}


# -- access ---------------------------------------------------------------------------------

def check_table(ctx: Context, table: str, *, web_service: bool) -> None:
    """400 ``Invalid table <name>`` for unknown tables (§1.5); the ``ws_access`` gate (§5)."""
    if table not in ctx.dictionary:
        raise InvalidTable(table)
    if web_service and table_queries.web_service_access(ctx.db, table) is False:
        # The closest documented REST-level denial (servicenow-behaviour §1.5).
        raise NotAuthorized("Failed API level ACL Validation")


# -- reads ----------------------------------------------------------------------------------

def get_record(ctx: Context, table: str, sys_id: str, options: ReadOptions = RAW, *,
               web_service: bool = False) -> dict[str, Any]:
    """One record; 404 ``No Record found`` when missing or hidden by ACL (§1.5)."""
    check_table(ctx, table, web_service=web_service)
    row = rows.get(ctx.db, ctx.dictionary, table, sys_id)
    if row is None:
        raise RecordNotFound()
    acl.require_read_row(ctx, table, row)
    return render_records(ctx, table, [row], options)[0]


def get_record_encoded(ctx: Context, table: str, sys_id: str, options: ReadOptions = RAW, *,
                       web_service: bool = False) -> str | None:
    """:func:`get_record` as a compact JSON object that SQLite wrote, for raw reads of a
    table the user reads in full (the same shortcut as a listing's, issue 9); ``None`` when
    the shortcut does not apply (call :func:`get_record`). 404 ``No Record found`` (§1.5)."""
    check_table(ctx, table, web_service=web_service)
    if not acl.can_read_table(ctx, table):
        return None
    kept = _kept_record(ctx, table, sys_id) if options == RAW else None
    if kept is not None:
        if not kept:
            raise RecordNotFound()
        return kept[0]
    plan = raw_wire_plan(ctx, table, options)
    if plan is None:
        return None
    text = _record_json(ctx, table, plan, sys_id)
    if text is None:
        raise RecordNotFound()
    return text


def _kept_record(ctx: Context, table: str, sys_id: str) -> list[str] | None:
    """The record ``sys_id`` of ``table`` with every field, raw, as JSON: its row's kept text
    (``store/wire.py``) with the links completed for this request, or built by SQLite where
    the row keeps none; ``[]`` for no such record, ``None`` when ``table``'s rows keep no
    text."""
    texts = table_queries.select_page_wire(
        ctx.db, ctx.dictionary, table, where=f"{_ALIAS}.sys_id = ?", params=[sys_id],
        limit=1, offset=0, alias=_ALIAS)
    if texts is None:
        return None
    base = wire.link_base(ctx.base_url, ctx.api_version)
    return [text.replace(LINK_MARK, base) for text in texts]


def _record_json(ctx: Context, table: str, plan: Sequence[tuple[str, str, str]],
                 sys_id: str) -> str | None:
    """One record of ``table`` as the JSON object SQLite writes for ``plan``, or ``None``."""
    texts = table_queries.select_page_json(
        ctx.db, ctx.dictionary, table, wire=plan, where=f"{_ALIAS}.sys_id = ?",
        params=[sys_id], limit=1, offset=0, alias=_ALIAS)
    return texts[0] if texts else None


def list_records(ctx: Context, table: str, query: ListQuery | None = None,
                 options: ReadOptions = RAW, *, web_service: bool = False,
                 encoded: bool = False, ui_list: bool = False) -> Page:
    """A page of matching records, filtered in SQL with LIMIT/OFFSET.

    Rows the user may not read are dropped *after* the limit, and the total still counts them
    (servicenow-behaviour §1.2 ``sysparm_limit``, §10 item 10). With ``encoded`` the records
    come as JSON texts (:attr:`Page.encoded`) instead of dictionaries.

    A table the user can read no row of answers no rows and a count of 0 (issue 15: the
    count would be a blind query oracle), except for the UI's list (``ui_list``), which
    pages, removes each page's unreadable rows and says how many, as the platform's lists do
    (https://hi.service-now.com/kb_view.do?sysparm_article=KB0718678).
    """
    check_table(ctx, table, web_service=web_service)
    query = query or ListQuery()
    # SQLite binds 64-bit integers: a larger sysparm_limit/offset means "no bound" (not a 500).
    limit = min(max(query.limit, 0), _SQL_INT_MAX)
    offset = min(max(query.offset, 0), _SQL_INT_MAX)
    if not ui_list and not acl.can_read_any(ctx, table):
        # No row of the table is readable: no rows and a count of 0, the query never runs
        # (a count of hidden matches would be a blind query oracle; acl module docstring).
        return Page(records=[], total=None if query.no_count else 0, limit=limit,
                    offset=offset, encoded=[] if encoded else None)
    compiled = _compile(ctx, table, query.query, query.filters)
    if encoded and acl.can_read_table(ctx, table):
        if options == RAW:
            # Every field, raw: the texts the store keeps beside the rows (store/wire.py).
            texts = table_queries.select_page_wire(
                ctx.db, ctx.dictionary, table, **compiled.sql(), order_by=compiled.order_by,
                limit=limit, offset=offset, alias=_ALIAS)
            if texts is not None:
                return Page(records=[], total=_count(ctx, table, query, compiled),
                            limit=limit, offset=offset, encoded=texts,
                            link_base=wire.link_base(ctx.base_url, ctx.api_version))
        texts = _encoded_page(ctx, table, options, compiled, limit, offset)
        if texts is not None:
            return Page(records=[], total=_count(ctx, table, query, compiled), limit=limit,
                        offset=offset, encoded=texts)
    found = table_queries.select_page(ctx.db, ctx.dictionary, table, **compiled.sql(),
                                      order_by=compiled.order_by, limit=limit, offset=offset,
                                      alias=_ALIAS)
    total = _count(ctx, table, query, compiled)
    if not acl.can_read_table(ctx, table):
        found = [row for row in found if acl.can_read_row(ctx, table, row)]
    if encoded:
        return Page(records=[], total=total, limit=limit, offset=offset,
                    encoded=encode_records(ctx, table, found, options))
    return Page(records=render_records(ctx, table, found, options), total=total, limit=limit,
                offset=offset)


def _encoded_page(ctx: Context, table: str, options: ReadOptions, compiled: _Filter,
                  limit: int, offset: int) -> list[str] | None:
    """The JSON texts of a page of a table the user reads in full, ``None`` when no shortcut
    applies. Raw records: SQLite writes the JSON itself. Display values: the page's columns
    go to ``display.encode_page`` without a dict per row. The per-field Python conversion and
    json.dumps were most of a listing's time (issue 9)."""
    if options.display_value != "false":
        columns = table_queries.select_page_columns(
            ctx.db, ctx.dictionary, table, **compiled.sql(), order_by=compiled.order_by,
            limit=limit, offset=offset, alias=_ALIAS)
        return encode_page(ctx, table, columns, options)
    plan = raw_wire_plan(ctx, table, options)
    if plan is None:
        return None
    return table_queries.select_page_json(
        ctx.db, ctx.dictionary, table, wire=plan, **compiled.sql(), order_by=compiled.order_by,
        limit=limit, offset=offset, alias=_ALIAS)


def _count(ctx: Context, table: str, query: ListQuery, compiled: _Filter) -> int | None:
    """``X-Total-Count``: every match, rows hidden by ACL included (§1.2); ``None`` with
    ``sysparm_no_count``."""
    if query.no_count:
        return None
    return table_queries.count_matching(ctx.db, ctx.dictionary, table, **compiled.sql(),
                                        alias=_ALIAS)


def _compile(ctx: Context, table: str, text: str,
             filters: Sequence[tuple[str, str]]) -> _Filter:
    terms = [text] if text else []
    # A literal caret in a value is written ^^ in an encoded query.
    terms += [f"{name}={_filter_value(ctx, table, name, value).replace('^', '^^')}"
              for name, value in filters
              if ctx.dictionary.field(table, name) is not None]
    if not terms:
        return _Filter()
    # parse() never raises: unparseable terms come back as invalid and are ignored (§1.2).
    parsed = parse("^".join(terms))
    _require_readable_query_fields(ctx, table, parsed)
    compiled = compile_query(parsed, dictionary=ctx.dictionary, table=table,
                             now=ctx.now(), user_sys_id=ctx.user.sys_id, alias=_ALIAS,
                             row_filter=lambda target, alias: acl.readable_filter(
                                 ctx, target, alias))
    if compiled.invalid_fields and _invalid_query_returns_no_rows(ctx):
        return _Filter(where="0")
    return _Filter(where=compiled.where, params=list(compiled.params),
                   joins=list(compiled.joins), order_by=list(compiled.order_by),
                   join_params=list(compiled.join_params))


#: The refusal of a query naming a field nobody may read (servicenow-behaviour §1.2, §1.5).
UNREADABLE_QUERY_FIELDS = "Field(s) present in the query do not have permission to be read"


def _require_readable_query_fields(ctx: Context, table: str, query: Query) -> None:
    """403 ``Insufficient rights to query records`` / ``Field(s) present in the query do not
    have permission to be read`` (servicenow-behaviour §1.2, §1.5) for conditions on, and
    orderings by, fields nobody may read: password fields are write-only (§6), so filtering
    or sorting on them would leak their hashes one character at a time (a ``query_range``
    ACL "restricts sorting by column" like range conditions,
    https://www.servicenow.com/docs/r/xanadu/platform-security/access-control/query-acl-rule.html)."""
    fields = [term.field for group in query.groups for clause in group.clauses
              for term in clause.terms if isinstance(term, Condition)]
    fields += [order.field for order in query.order_by]
    if any(_is_password_path(ctx, table, name) for name in fields):
        raise InsufficientRights(UNREADABLE_QUERY_FIELDS)


def _is_password_path(ctx: Context, table: str, path: str) -> bool:
    current: str | None = table
    fld: Field | None = None
    for part in path.split("."):
        if current is None or current not in ctx.dictionary:
            return False
        fld = ctx.dictionary.field(current, part)
        if fld is None:
            return False
        current = fld.reference
    return fld is not None and fld.type in PASSWORD_TYPES


def _invalid_query_returns_no_rows(ctx: Context) -> bool:
    value = table_queries.property_value(ctx.db, INVALID_QUERY_PROPERTY)
    return (value or "").strip().lower() == "true"


def _filter_value(ctx: Context, table: str, name: str, value: str) -> str:
    """name=value pairs accept display values for choices and references (§1.2)."""
    fld = ctx.dictionary.field(table, name)
    assert fld is not None
    return _from_display(ctx, fld, value)


def _from_display(ctx: Context, fld: Field, value: str) -> str:
    if fld.choices and fld.choice_label(value) is None:
        for choice in fld.choices:
            if choice.label == value:
                return choice.value
    target = fld.reference
    if (fld.type == "reference" and target is not None and target in ctx.dictionary and value
            and not (fld.reference_key == "sys_id" and _SYS_ID.match(value))):
        display = ctx.dictionary.display_field(target)
        if display is not None and display != fld.reference_key:
            # Only a record the caller may read is found by its name (a dot-walk to the
            # referenced table's display field, acl module docstring): otherwise the name
            # stays unresolved, as for a record that does not exist.
            found = [row for row in rows.find_by(ctx.db, ctx.dictionary, target,
                                                 **{display: value})
                     if acl.can_read_row(ctx, target, row)]
            if found:
                return str(found[0][fld.reference_key])
    return value


# -- writes ---------------------------------------------------------------------------------

def _storage_values(ctx: Context, table: str, body: Mapping[str, Any], *,
                    input_display_value: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """Body -> (storage values, journal entries). Unknown, read-only and badly typed fields
    are ignored, as the platform ignores them (servicenow-behaviour §1.1)."""
    fields = ctx.dictionary.fields(table)
    values: dict[str, Any] = {}
    journals: dict[str, str] = {}
    for name, given in body.items():
        fld = fields.get(name) if isinstance(name, str) else None
        if fld is None or fld.read_only or name == "sys_class_name":
            continue
        if isinstance(given, dict) and "value" in given:
            given = given["value"]  # a record read back and sent again
        if fld.type == "journal_input":
            if isinstance(given, str) and given.strip():
                journals[name] = given
            continue
        if not fld.is_stored or isinstance(given, dict | list):
            continue
        if input_display_value and isinstance(given, str):
            given = _input_display(ctx, fld, given)
        try:
            stored = to_storage(fld, given)
        except InvalidValue:
            continue
        if stored and stored_hashed(ctx.dictionary, table, name):
            # Write-only and stored hashed, never in clear (servicenow-behaviour §6): no read,
            # query, ordering or aggregate can reach the value (client secrets included).
            stored = hash_password(str(stored), iterations=ctx.platform.password_hash_iterations)
        values[name] = stored
    return values, journals


def _input_display(ctx: Context, fld: Field, value: str) -> str:
    """``sysparm_input_display_value=true``: display values in, date-times in the user's
    time zone (servicenow-behaviour §1.2)."""
    if fld.type in ("glide_date_time", "due_date") and value:
        try:
            local = datetime.strptime(value.strip(), GLIDE_FORMAT).replace(tzinfo=user_zone(ctx))
        except ValueError:
            return value
        return format_glide(local)
    return _from_display(ctx, fld, value)


def _record_journals(ctx: Context, table: str, sys_id: str, journals: Mapping[str, str]) -> None:
    """``sys_journal_field`` rows: ``name`` is the record's table, ``element`` the field
    (servicenow-behaviour §1.4)."""
    now = ctx.now_glide()
    for element, text in journals.items():
        table_queries.insert_journal(ctx.db, {
            "sys_id": ctx.platform.ids.sys_id(), "name": table,
            "element": element, "element_id": sys_id, "value": text,
            "sys_created_on": now, "sys_created_by": ctx.user.user_name,
            "sys_updated_on": now, "sys_updated_by": ctx.user.user_name, "sys_mod_count": 0,
        })


def create_record(ctx: Context, table: str, body: Mapping[str, Any], *,
                  input_display_value: bool = False, options: ReadOptions = RAW,
                  web_service: bool = False) -> dict[str, Any]:
    """Insert a record: defaults, numbering and business rules; returns it as stored (§1.1,
    §7.1). The record is committed before this returns (a 201 means it is on disk)."""
    def read(sys_id: str) -> dict[str, Any]:
        stored = rows.get(ctx.db, ctx.dictionary, table, sys_id)
        assert stored is not None
        return _reveal(ctx, table, sys_id, render_records(ctx, table, [stored], options)[0])
    return _create(ctx, table, body, input_display_value=input_display_value,
                   web_service=web_service, read=read)


def _reveal(ctx: Context, table: str, sys_id: str, record: dict[str, Any]) -> dict[str, Any]:
    """Show a secret a business rule generated for this new record (an API key's token) in
    the one answer that may show it; it is forgotten either way (issue 18)."""
    for name, value in ctx.revealed.pop((table, sys_id), {}).items():
        shown = record.get(name)
        if isinstance(shown, dict):
            shown.update({k: value for k in ("value", "display_value") if k in shown})
        elif name in record:
            record[name] = value
    return record


def create_record_encoded(ctx: Context, table: str, body: Mapping[str, Any], *,
                          input_display_value: bool = False, options: ReadOptions = RAW,
                          web_service: bool = False) -> tuple[str, str] | None:
    """:func:`create_record` answering ``(sys_id, the record as a compact JSON object that
    SQLite wrote)`` for raw reads of a table the user reads in full (the shortcut of
    :func:`get_record_encoded`); ``None``, with nothing written, when it does not apply."""
    if table in business_rules.REVEALED_ON_CREATE:
        return None  # the answer shows a generated secret: rendered by create_record
    check_table(ctx, table, web_service=web_service)
    plan = raw_wire_plan(ctx, table, options) if acl.can_read_table(ctx, table) else None
    if plan is None:
        return None

    def read(sys_id: str) -> tuple[str, str]:
        # The text the insert just kept (store/wire.py) when every field is asked for.
        kept = _kept_record(ctx, table, sys_id) if options == RAW else None
        text = kept[0] if kept else _record_json(ctx, table, plan, sys_id)
        assert text is not None  # committed by this request
        return sys_id, text
    return _create(ctx, table, body, input_display_value=input_display_value,
                   web_service=web_service, read=read)


def _create(ctx: Context, table: str, body: Mapping[str, Any], *, input_display_value: bool,
            web_service: bool, read: Callable[[str], T]) -> T:
    """The insert of :func:`create_record`, then ``read(sys_id)`` of the committed record.

    Only what needs the write lock runs under it (numbering, business rules, the insert):
    writers take turns there (``store.db.WriterLock``), so checking the ACL, parsing the body
    and hashing a password happen before (issue 9).
    """
    check_table(ctx, table, web_service=web_service)
    acl.require_write(ctx, table, "create")
    values, journals = _storage_values(ctx, table, body,
                                       input_display_value=input_display_value)
    row = dict(_stored_defaults(ctx.dictionary, table))
    row.update(values)
    with write_transaction(ctx.db):
        # A caller may choose the new record's sys_id (32 hex). One already taken is refused
        # by the database's primary key, as on the platform ("Duplicate entry ... for key
        # 'PRIMARY'", KB0748828), never silently replaced: a client that repeats an insert
        # under the same sys_id can rely on it to never make a second record (issue 15).
        requested = body.get("sys_id")
        chosen = isinstance(requested, str) and _SYS_ID.match(requested) is not None
        row["sys_id"] = requested if chosen else ctx.platform.ids.sys_id()
        if ctx.dictionary.is_extended(table):
            row["sys_class_name"] = table
        business_rules.before_insert(ctx, table, row)
        if chosen:
            _write(lambda: rows.insert(ctx.db, ctx.dictionary, table, row))
        else:
            _insert_new(ctx, table, row)
        sys_id = row["sys_id"]
        business_rules.after_write(ctx, table, row, "insert")
        _record_journals(ctx, table, sys_id, journals)
    return read(sys_id)


def _insert_new(ctx: Context, table: str, row: dict[str, Any]) -> None:
    """Insert a new record under a drawn sys_id. One that is already taken is drawn again: an
    instance reopened with the same ``random_seed`` (tests) replays the ids it gave out
    before. (A sys_id the caller chose is never replaced: see :func:`_create`.)"""
    for _ in range(16):
        try:
            rows.insert(ctx.db, ctx.dictionary, table, row)
            return
        except sqlite3.IntegrityError:
            taken = rows.get(ctx.db, ctx.dictionary, ctx.dictionary.root(table), row["sys_id"])
            if taken is None:  # another unique column
                raise OperationFailed("Unique Key violation detected by database") from None
            row["sys_id"] = ctx.platform.ids.sys_id()
    raise OperationFailed("Unique Key violation detected by database")


@functools.lru_cache(maxsize=256)
def _stored_defaults(dictionary: Dictionary, table: str) -> tuple[tuple[str, Any], ...]:
    """``(column, storage value)`` of every stored field with a constant default, computed
    once per table (script defaults run in ``business_rules.before_insert``)."""
    return tuple((name, to_storage(fld, fld.default))
                 for name, fld in dictionary.fields(table).items()
                 if fld.is_stored and fld.default is not None
                 and script_default(fld.default) is None)


def _write(statement: Callable[[], None]) -> None:
    """Run an insert/update; a unique-index clash is the platform's 403 (inferred: the
    database error surfaces as ``Operation Failed``, servicenow-behaviour §1.5 pattern)."""
    try:
        statement()
    except sqlite3.IntegrityError:
        raise OperationFailed("Unique Key violation detected by database") from None


def update_record(ctx: Context, table: str, sys_id: str, body: Mapping[str, Any], *,
                  input_display_value: bool = False, options: ReadOptions = RAW,
                  web_service: bool = False) -> dict[str, Any]:
    """Partial update (PUT behaves like PATCH, §1.1); returns the record after business rules.

    404 for a missing or unreadable record, 403 for ACL denials, data policies and business
    rule aborts (servicenow-behaviour §1.5, §7.3, §7.4).
    """
    check_table(ctx, table, web_service=web_service)
    # Parsed (and a password hashed) before taking the write turn, as in _create.
    values, journals = _storage_values(ctx, table, body, input_display_value=input_display_value)
    with write_transaction(ctx.db):
        previous = _row_to_change(ctx, table, sys_id, "write")
        row = {**previous, **values}
        business_rules.before_update(ctx, table, previous, row)
        changes = {name: value for name, value in row.items()
                   if name != "sys_id" and value != previous.get(name)}
        _write(lambda: rows.update(ctx.db, ctx.dictionary, table, sys_id, changes))
        business_rules.after_write(ctx, table, row, "update")
        _record_journals(ctx, str(previous.get("sys_class_name") or table), sys_id, journals)
        stored = rows.get(ctx.db, ctx.dictionary, table, sys_id)
    assert stored is not None
    return render_records(ctx, table, [stored], options)[0]


def delete_record(ctx: Context, table: str, sys_id: str, *, web_service: bool = False) -> None:
    """Delete a record: 404 when missing or unreadable, 403 when the ACL denies (§1.1, §1.5)."""
    check_table(ctx, table, web_service=web_service)
    with write_transaction(ctx.db):
        previous = _row_to_change(ctx, table, sys_id, "delete")
        rows.delete(ctx.db, ctx.dictionary, table, sys_id)
        business_rules.after_write(ctx, table, previous, "delete")


def _row_to_change(ctx: Context, table: str, sys_id: str, operation: str) -> dict[str, Any]:
    """The stored row an update or delete acts on: 404 when missing or unreadable, 403 when
    the ACL denies the operation (servicenow-behaviour §1.5). Called inside a transaction that
    already holds the write lock (``write_transaction``): a read-then-write in a deferred
    transaction fails at once with "database is locked" when another writer commits between
    the read and the write (SQLite does not wait on a lock upgrade)."""
    previous = rows.get(ctx.db, ctx.dictionary, table, sys_id)
    if previous is None:
        raise RecordNotFound()
    acl.require_read_row(ctx, table, previous)
    acl.require_write(ctx, table, operation, previous)
    return previous


# -- aggregate ------------------------------------------------------------------------------

def aggregate(ctx: Context, table: str, query: AggregateQuery, *,
              web_service: bool = False) -> Any:
    """``/api/now/stats/{table}``: counts and AVG/MIN/MAX/SUM, optionally grouped, in one SQL
    ``GROUP BY`` (servicenow-behaviour §9.1). Numbers are strings; averages have 4 decimals.

    A user who cannot read the table gets 403 ``Insufficient rights to query records`` /
    ``No permission to read table '<t>'`` (servicenow-behaviour §3, KB0744425).
    """
    check_table(ctx, table, web_service=web_service)
    if not acl.can_read_table(ctx, table):
        raise InsufficientRights(f"No permission to read table '{table}'")
    fields = ctx.dictionary.fields(table)

    def stored(names: Sequence[str]) -> list[str]:
        # Password fields are never read back (§6), not even as MIN/MAX.
        return [n for n in dict.fromkeys(names) if n in fields and fields[n].is_stored
                and fields[n].type not in PASSWORD_TYPES]

    if any(name in fields and fields[name].type in PASSWORD_TYPES for name in query.group_by):
        # Grouping by a password field shows how many rows share each hash: refused like a
        # condition on it (servicenow-behaviour §1.2, §1.5).
        raise InsufficientRights(UNREADABLE_QUERY_FIELDS)
    group_by = stored(query.group_by)
    aggregates = [(fn, name) for fn, names in (("AVG", query.avg_fields),
                                               ("MIN", query.min_fields),
                                               ("MAX", query.max_fields),
                                               ("SUM", query.sum_fields))
                  for name in stored(names)]
    compiled = _compile(ctx, table, query.query, query.filters)
    found = table_queries.aggregate_rows(ctx.db, ctx.dictionary, table, **compiled.sql(),
                                         group_by=group_by, aggregates=aggregates,
                                         count=query.count, alias=_ALIAS)
    results: list[dict[str, Any]] = []
    for values in found:
        groups, rest = values[:len(group_by)], values[len(group_by):]
        stats: dict[str, Any] = {}
        if query.count:
            stats["count"] = str(rest[0])
        for (fn, name), value in zip(aggregates, rest[1:], strict=True):
            stats.setdefault(fn.lower(), {})[name] = _aggregate_text(fn, fields[name], value)
        if not group_by:
            return {"stats": stats}
        results.append({"stats": stats, "groupby_fields": [
            {"value": to_wire(fields[name], value), "field": name}
            for name, value in zip(group_by, groups, strict=True)]})
    if query.display_value and results:
        # One rendering per grouped field for all groups (reference labels in one query).
        for position, name in enumerate(group_by):
            shown = render_records(
                ctx, table, [{name: values[position]} for values in found],
                ReadOptions(display_value="true", exclude_reference_link=True, fields=(name,)))
            for entry, rendered in zip(results, shown, strict=True):
                label = rendered[name]
                entry["groupby_fields"][position]["display_value"] = (
                    "" if label is None else label)
    return results


def _aggregate_text(function: str, fld: Field, value: Any) -> str:
    if value is None:
        return ""
    if function == "AVG":
        return f"{float(value):.4f}"
    if isinstance(value, float) and value.is_integer() and fld.column_type == "INTEGER":
        return str(int(value))
    return to_wire(fld, value)
