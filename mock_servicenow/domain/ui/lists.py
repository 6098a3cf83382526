"""List pages: ``/<table>_list.do`` for every table the dictionary serves.

What a list does, from the platform documentation (navigate-using-url and
configure-use-list-functions,
https://www.servicenow.com/docs/r/platform-user-interface/navigate-using-url.html,
https://www.servicenow.com/docs/r/platform-user-interface/configure-use-list-functions.html):

* ``sysparm_query`` filters and orders (``ORDERBY``/``ORDERBYDESC``); ``sysparm_order`` with
  ``sysparm_order_direction=desc`` orders too; the filter is shown as a breadcrumb whose every
  crumb links to the query up to that condition ("All" clears it);
* clicking a column name sorts ascending, clicking it again descending;
* ``sysparm_first_row`` (1-based) pages, ``sysparm_force_row_count`` limits the rows shown
  (the page size; 20 by default);
* rows come from :func:`mock_servicenow.domain.table.records.list_records`, the Table API's
  listing: the same filter semantics and ACLs. Rows the user may not read are removed after
  the page is cut, and the list says how many, as the platform does ("Number of rows removed
  from this list by Security constraints: N").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from mock_servicenow.dictionary import Dictionary, Field
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.table import acl, records
from mock_servicenow.domain.table.encoded_query import (
    Clause,
    Condition,
    Group,
    OrderBy,
    Query,
    format_query,
    parse,
)
from mock_servicenow.domain.ui import views
from mock_servicenow.domain.ui.urls import (
    DEFAULT_ROWS,
    NEW_RECORD,
    ROW_CHOICES,
    form_url,
    list_url,
    reference_url,
)
from mock_servicenow.store import table_queries

#: The largest page a list shows (the platform's menu stops at 100; URLs may ask for more).
MAX_ROWS = 1000
#: Field types a list's search box can search (contains), directly or through a reference.
SEARCHABLE_TYPES = frozenset({"string", "translated_text", "email", "url", "phone_number",
                              "GUID", "sys_id", "table_name"})

#: How a breadcrumb names an operator (the condition builder's words).
OPERATOR_WORDS = {
    "LIKE": "contains", "NOT LIKE": "does not contain", "STARTSWITH": "starts with",
    "ENDSWITH": "ends with", "IN": "is one of", "NOT IN": "is not one of",
    "ISEMPTY": "is empty", "ISNOTEMPTY": "is not empty", "EMPTYSTRING": "is empty string",
    "ANYTHING": "is anything", "BETWEEN": "between", "SAMEAS": "is same as",
    "NSAMEAS": "is different from", "ON": "on", "NOTON": "not on", "INSTANCEOF": "is a",
    "GT_FIELD": "greater than field", "LT_FIELD": "less than field",
    "RELATIVEGT": "relative after", "RELATIVELT": "relative before",
}
_ONE_LINE_TYPES = frozenset({"glide_date_time", "glide_date", "due_date", "boolean"})
#: The platform's note about rows an ACL removed from a page.
REMOVED_MESSAGE = "Number of rows removed from this list by Security constraints: {count}"


@dataclass(frozen=True)
class ListRequest:
    """The parameters of a list URL."""

    query: str = ""
    first_row: int = 1
    rows: int = DEFAULT_ROWS
    view: str = ""
    order: str = ""
    order_direction: str = ""


@dataclass(frozen=True)
class Column:
    """A column header: the label, the URL that sorts by it, and how it is sorted now."""

    name: str
    label: str
    sort_url: str
    sorted: str = ""  # "", "asc" or "desc"


@dataclass(frozen=True)
class Cell:
    """One shown value; ``url`` opens the record (first column) or the referenced record."""

    text: str
    url: str | None = None
    #: Dates and choice labels are short: shown on one line.
    nowrap: bool = False


@dataclass(frozen=True)
class Row:
    """One record of the page."""

    sys_id: str
    url: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Crumb:
    """One breadcrumb: the condition in words and the list of everything up to it."""

    text: str
    url: str


@dataclass(frozen=True)
class Pager:
    """Where the page is and the links to the others (``None`` when there is none)."""

    first_row: int
    last_row: int
    total: int
    rows: int
    first_url: str | None
    previous_url: str | None
    next_url: str | None
    last_url: str | None
    row_choices: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class ListPage:
    """Everything a list page shows."""

    table: str
    title: str
    query: str
    view: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    crumbs: tuple[Crumb, ...]
    pager: Pager
    removed: int
    new_url: str | None
    search_fields: tuple[tuple[str, str], ...]
    search_field: str | None

    @property
    def removed_message(self) -> str | None:
        """The security-constraints note, when rows were removed."""
        return REMOVED_MESSAGE.format(count=self.removed) if self.removed else None


def plural(label: str) -> str:
    """A table's plural label for the list title (``Incident`` -> ``Incidents``)."""
    if not label or label.endswith("s"):
        return label
    if label.endswith("y") and label[-2:-1] not in ("a", "e", "i", "o", "u"):
        return label[:-1] + "ies"
    if label.endswith(("x", "ch", "sh")):
        return label + "es"
    return label + "s"


def _ordered(query: Query, order: OrderBy | None) -> Query:
    return replace(query, order_by=(order,) if order is not None else ())


def effective_query(request: ListRequest) -> Query:
    """The list's query: ``sysparm_query`` plus ``sysparm_order``/``_direction`` (a column
    sort puts its ``ORDERBY`` first)."""
    query = parse(request.query)
    if request.order:
        order = OrderBy(request.order, request.order_direction.strip().lower() == "desc")
        query = replace(query, order_by=(order, *(o for o in query.order_by
                                                  if o.field != order.field)))
    return query


def _field_at(dictionary: Dictionary, table: str, path: str) -> Field | None:
    current: str | None = table
    found: Field | None = None
    for part in path.split("."):
        if current is None or current not in dictionary:
            return None
        found = dictionary.field(current, part)
        if found is None:
            return None
        current = found.reference
    return found


def _label_of(dictionary: Dictionary, table: str, path: str) -> str:
    labels = []
    current: str | None = table
    for part in path.split("."):
        fld = (dictionary.field(current, part)
               if current is not None and current in dictionary else None)
        if fld is None:
            return path
        labels.append(fld.label)
        current = fld.reference
    return ".".join(labels)


def _reference_label(ctx: Context, target: str, sys_id: str) -> str:
    display = ctx.dictionary.display_field(target)
    if display is None or not sys_id:
        return sys_id
    found = table_queries.columns_by_ids(ctx.db, ctx.dictionary, target, [sys_id], [display])
    value = found.get(sys_id, {}).get(display)
    return str(value) if value not in (None, "") else sys_id


def _value_words(ctx: Context, fld: Field | None, operator: str, value: str) -> str:
    if fld is None or value.startswith("javascript:"):
        return value
    values = value.split(",") if operator in ("IN", "NOT IN") else [value]
    shown = []
    for one in values:
        label = fld.choice_label(one) if fld.choices else None
        if label is not None:
            shown.append(label)
        elif fld.type == "reference" and fld.reference and operator in ("=", "!=", "IN",
                                                                          "NOT IN"):
            shown.append(_reference_label(ctx, fld.reference, one))
        else:
            shown.append(one)
    return ", ".join(shown)


def describe_condition(ctx: Context, table: str, condition: Condition) -> str:
    """A condition in words: ``Priority = 1 - Critical``, ``Short description contains x``."""
    fld = _field_at(ctx.dictionary, table, condition.field)
    label = _label_of(ctx.dictionary, table, condition.field)
    word = OPERATOR_WORDS.get(condition.operator, condition.operator)
    if condition.operator in ("ISEMPTY", "ISNOTEMPTY", "EMPTYSTRING", "ANYTHING"):
        return f"{label} {word}"
    return f"{label} {word} {_value_words(ctx, fld, condition.operator, condition.value)}"


def _describe_clause(ctx: Context, table: str, clause: Clause) -> str:
    return " or ".join(describe_condition(ctx, table, term) if isinstance(term, Condition)
                       else term.text for term in clause.terms)


def breadcrumbs(ctx: Context, table: str, query: Query, view: str = "",
                rows: int = DEFAULT_ROWS) -> tuple[Crumb, ...]:
    """``All > Active = true > Priority = 1 - Critical``: each crumb lists the query up to
    itself (the ordering kept); ``^NQ`` groups start with "or"."""
    order = query.order_by[0] if query.order_by else None

    def url(groups: tuple[Group, ...]) -> str:
        text = format_query(_ordered(Query(groups=groups), order))
        return list_url(table, text, rows=rows, view=view)

    crumbs = [Crumb("All", url(()))]
    done: list[Group] = []
    for index, group in enumerate(query.groups):
        for position, clause in enumerate(group.clauses):
            text = _describe_clause(ctx, table, clause)
            if index and not position:
                text = f"or {text}"
            crumbs.append(Crumb(text, url((*done, Group(group.clauses[:position + 1])))))
        done.append(group)
    return tuple(crumbs)


def _sort_url(table: str, query: Query, column: str, current: OrderBy | None, view: str,
              rows: int) -> str:
    descending = current is not None and current.field == column and not current.descending
    return list_url(table, format_query(_ordered(query, OrderBy(column, descending))), rows=rows,
                    view=view)


def search_fields(dictionary: Dictionary, table: str,
                  columns: list[str]) -> tuple[tuple[str, str], ...]:
    """``(field, label)`` of the list columns the search box can search."""
    fields = dictionary.fields(table)
    found = []
    for name in columns:
        fld = fields[name]
        if fld.type in SEARCHABLE_TYPES and not fld.choices:
            found.append((name, fld.label))
        elif fld.type == "reference" and fld.reference and dictionary.display_field(
                fld.reference):
            found.append((name, fld.label))
    return tuple(found)


def _search_path(ctx: Context, table: str, name: str) -> str | None:
    """What ``LIKE`` compares for a searched field (a reference: its display field)."""
    fld = ctx.dictionary.field(table, name)
    if fld is None:
        return None
    if fld.type == "reference" and fld.reference:
        display = ctx.dictionary.display_field(fld.reference)
        return f"{name}.{display}" if display else None
    return name


def search_query(ctx: Context, table: str, query: str, text: str,
                 search_field: str | None = None) -> str:
    """The list's query narrowed by the search box: ``<field>LIKE<text>`` (a reference is
    searched on its display field); without ``search_field``, any searchable column of the
    list may contain the text (``a LIKE x ^OR b LIKE x``, the search "for text")."""
    text = text.strip()
    if not text:
        return query
    if search_field:
        names = [search_field]
    else:
        columns = views.list_columns(ctx.dictionary, table)
        names = [name for name, _ in search_fields(ctx.dictionary, table, columns)]
    paths = [p for p in (_search_path(ctx, table, n) for n in names) if p is not None]
    if not paths:
        return query
    parsed = parse(query)
    added = Clause(tuple(Condition(path, "LIKE", text) for path in paths))
    # The search narrows every ^NQ group (it is ANDed with the whole filter).
    groups = tuple(Group((*group.clauses, added)) for group in parsed.groups or (Group(()),))
    return format_query(replace(parsed, groups=groups))


def presets(ctx: Context, table: str, query: str) -> dict[str, str]:
    """``field=value`` terms of a query (AND, first group): the values a new record gets
    from ``sysparm_query`` (navigate-using-url: "Applies the values to the new record");
    ``javascript:gs.getUserID()`` is the acting user."""
    parsed = parse(query)
    found: dict[str, str] = {}
    if not parsed.groups:
        return found
    for clause in parsed.groups[0].clauses:
        if len(clause.terms) != 1 or not isinstance(clause.terms[0], Condition):
            continue
        term = clause.terms[0]
        if term.operator != "=" or "." in term.field:
            continue
        if ctx.dictionary.field(table, term.field) is None:
            continue
        value = term.value
        if value == "javascript:gs.getUserID()":
            value = ctx.user.sys_id
        elif value.startswith("javascript:"):
            continue
        found[term.field] = value
    return found


def _cell(column: str, value: Any, fld: Field) -> Cell:
    if isinstance(value, dict):
        shown = value.get("display_value")
        raw = value.get("value")
    else:
        shown, raw = value, value
    text = "" if shown is None else str(shown)
    if fld.type == "reference" and fld.reference and raw and text:
        return Cell(text, reference_url(fld.reference, fld.reference_key, str(raw)))
    return Cell(text, nowrap=bool(fld.choices) or fld.type in _ONE_LINE_TYPES)


def _pager(table: str, query: str, request: ListRequest, total: int, shown: int) -> Pager:
    rows, first = request.rows, request.first_row
    last_start = max(((total - 1) // rows) * rows + 1, 1) if total else 1

    def at(row: int) -> str:
        return list_url(table, query, first_row=row, rows=rows, view=request.view)

    return Pager(
        first_row=first if total else 0,
        last_row=min(first + rows - 1, total) if total else 0,
        total=total, rows=rows,
        first_url=at(1) if first > 1 else None,
        previous_url=at(max(first - rows, 1)) if first > 1 else None,
        next_url=at(first + rows) if first + rows <= total else None,
        last_url=at(last_start) if first < last_start else None,
        row_choices=tuple((count, list_url(table, query, rows=count, view=request.view))
                          for count in ROW_CHOICES),
    )


def list_page(ctx: Context, table: str, request: ListRequest) -> ListPage:
    """One page of ``table``'s list for the acting user."""
    records.check_table(ctx, table, web_service=False)
    request = replace(request, rows=min(max(request.rows, 1), MAX_ROWS),
                      first_row=max(request.first_row, 1))
    dictionary = ctx.dictionary
    fields = dictionary.fields(table)
    columns = views.list_columns(dictionary, table)
    query = effective_query(request)
    text = format_query(query)
    page = records.list_records(
        ctx, table,
        records.ListQuery(query=text, limit=request.rows, offset=request.first_row - 1),
        records.ReadOptions(display_value="all", fields=("sys_id", *columns)), ui_list=True)
    total = page.total or 0
    expected = max(min(request.rows, total - (request.first_row - 1)), 0)
    order = query.order_by[0] if query.order_by else None
    shown_rows = []
    for record in page.records:
        sys_id = str((record.get("sys_id") or {}).get("value") or "")
        url = form_url(table, sys_id, view=request.view)
        cells = [_cell(name, record.get(name), fields[name]) for name in columns]
        if cells:
            cells[0] = Cell(cells[0].text or "(empty)", url)
        shown_rows.append(Row(sys_id, url, tuple(cells)))
    header = tuple(
        Column(name, fields[name].label,
               _sort_url(table, query, name, order, request.view, request.rows),
               ("desc" if order.descending else "asc")
               if order is not None and order.field == name else "")
        for name in columns)
    searchable = search_fields(dictionary, table, columns)
    display = dictionary.display_field(table)
    new_url = None
    if acl.can_write(ctx, table, "create"):
        preset = "^".join(f"{k}={v.replace('^', '^^')}" for k, v in
                          presets(ctx, table, text).items())
        new_url = form_url(table, NEW_RECORD, query=preset, view=request.view)
    return ListPage(
        table=table, title=plural(dictionary.table(table).label), query=text,
        view=request.view, columns=header, rows=tuple(shown_rows),
        crumbs=breadcrumbs(ctx, table, query, request.view, request.rows),
        pager=_pager(table, text, request, total, len(shown_rows)),
        removed=max(expected - len(shown_rows), 0), new_url=new_url,
        search_fields=searchable,
        search_field=display if any(n == display for n, _ in searchable)
        else (searchable[0][0] if searchable else None),
    )
