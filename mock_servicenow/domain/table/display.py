"""Records on the wire: raw values, display values, reference objects, dot-walked fields.

servicenow-behaviour §1.4 and §10 items 1 and 8:

* raw mode: every scalar a string, ``""`` for empty; a filled reference is
  ``{"link": "<base>/api/now[/vN]/table/<ref>/<sys_id>", "value": "<sys_id>"}`` (the link uses
  the request's API version), an empty one is ``""``; with ``sysparm_exclude_reference_link``
  the plain sys_id;
* ``sysparm_display_value=true``: choice labels (``null`` for an empty choice), references as
  ``{"display_value", "link"}``, ``"UNKNOWN"`` for empty due dates, durations in words,
  ``sys_class_name`` as the table label, date-times in the user's time zone;
* ``all``: ``{"display_value", "value"[, "link"]}`` for every field;
* journal fields read ``""`` raw and render their history blocks in display modes;
* password fields (``password``, ``password2``) are write-only (§6: ``user_password``
  "write-only"): the emulator returns ``""`` for them in every mode, never a clear value or
  a hash.

Display values of references are resolved with one query per referenced table per page,
never one per row. Listings in display modes are written as JSON text by :func:`encode_page`
(the bytes ``json.dumps`` gives for :func:`render_records`'s dictionaries).

Every dot-walk step (``caller_id.department.name``) and every reference's display value
reads the referenced table under that table's read ACL (:mod:`.acl`): a record the caller
may not read gives empty values (``""``), as a field that fails its read ACL "isn't shown"
(https://www.servicenow.com/docs/r/platform-security/access-control/exploring-access-control-list.html).
The referencing field's own value (the sys_id) belongs to the readable record and stays.
"""

from __future__ import annotations

import functools
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring as _string
from operator import itemgetter
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mock_servicenow.dictionary import Dictionary, Field
from mock_servicenow.dictionary.values import to_wire
from mock_servicenow.domain.platform.clock import GLIDE_FORMAT
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.table import acl
from mock_servicenow.store import table_queries, wire

#: The time zone of a fresh PDI, used when the user has none (the ``time_zone`` choice label).
SYSTEM_TIME_ZONE = "America/Los_Angeles"
PASSWORD_TYPES = wire.PASSWORD_TYPES
JOURNAL_TYPES = wire.JOURNAL_TYPES
DATE_TIME_TYPES = frozenset({"glide_date_time", "due_date"})


@dataclass(frozen=True)
class ReadOptions:
    """How records are rendered: ``sysparm_display_value``, ``sysparm_exclude_reference_link``
    and ``sysparm_fields`` (servicenow-behaviour §1.2)."""

    display_value: str = "false"
    exclude_reference_link: bool = False
    fields: tuple[str, ...] | None = None


class _Column(NamedTuple):
    key: str
    field: Field
    values: Sequence[Any]


def reference_link(ctx: Context, table: str, sys_id: str) -> str:
    """``<base>/api/now[/vN]/table/<table>/<sys_id>`` (servicenow-behaviour §1.4)."""
    return _link_prefix(ctx.base_url, ctx.api_version, table) + sys_id


def _link_prefix(base_url: str, api_version: str | None, table: str) -> str:
    version = f"/{api_version}" if api_version else ""
    return f"{base_url}/api/now{version}/table/{table}/"


def user_zone(ctx: Context) -> ZoneInfo:
    """The acting user's time zone (display values are in it, servicenow-behaviour §1.4)."""
    name = str(ctx.user.row.get("time_zone") or SYSTEM_TIME_ZONE)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


_GLIDE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


def _local(stored: str, zone: ZoneInfo) -> str:
    try:
        if _GLIDE_TEXT.fullmatch(stored):
            # The common shape: fromisoformat is C code, strptime a Python regex parser.
            moment = datetime.fromisoformat(stored).replace(tzinfo=UTC)
        else:
            moment = datetime.strptime(stored, GLIDE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return stored
    local = moment.astimezone(zone)
    if local.year >= 1000:  # strftime's %Y does not pad years below 1000
        return local.replace(tzinfo=None).isoformat(" ")
    return local.strftime(GLIDE_FORMAT)


def duration_words(stored: str) -> str:
    """``1970-01-01 00:35:02`` -> ``35 Minutes 2 Seconds``; zero is ``0 Seconds`` (§1.4)."""
    try:
        moment = datetime.strptime(stored, GLIDE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return stored
    total = int((moment - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())
    parts = []
    for unit, size in (("Day", 86400), ("Hour", 3600), ("Minute", 60), ("Second", 1)):
        amount, total = divmod(total, size)
        if amount:
            parts.append(f"{amount} {unit}{'s' if amount != 1 else ''}")
    return " ".join(parts) or "0 Seconds"


def _read_columns(ctx: Context, table: str, options: ReadOptions) -> list[str]:
    """The stored columns a rendering of ``table`` reads: ``sys_id`` (journal histories), the
    fields shown (all, or ``sysparm_fields``'s) and the first field of each dot-walk."""
    fields = ctx.dictionary.fields(table)
    names = fields if options.fields is None else [key.split(".", 1)[0] for key in options.fields]
    return list(dict.fromkeys(["sys_id", *(name for name in names
                                           if name in fields and fields[name].is_stored)]))


def _by_column(rows: Sequence[Mapping[str, Any]],
               names: Sequence[str]) -> dict[str, Sequence[Any]]:
    """``{name: [row.get(name) for row in rows]}``, transposed by C code for the names every
    row holds (a row of ``select_page`` holds all of its table's columns; issue 9)."""
    held = [name for name in names if name in rows[0]] if rows else []
    values: dict[str, Sequence[Any]] = {}
    if len(held) > 1:
        try:
            values = dict(zip(held, zip(*map(itemgetter(*held), rows), strict=True),
                              strict=True))
        except KeyError:  # a row without one of them
            values = {}
    return {name: values[name] if name in values else [row.get(name) for row in rows]
            for name in names}


def _columns(ctx: Context, table: str, page: Mapping[str, Sequence[Any]], count: int,
             options: ReadOptions) -> list[_Column]:
    """The output fields of a page given column by column (``page`` holds the
    :func:`_read_columns` of ``count`` rows)."""
    fields = ctx.dictionary.fields(table)
    absent = [None] * count  # journal fields: their values are kept outside the table
    if options.fields is None:
        return [_Column(name, fld, page.get(name, absent)) for name, fld in fields.items()]
    columns = []
    for key in dict.fromkeys(options.fields):
        if "." in key:
            walked = _walk(ctx, table, page, key)
            if walked is not None:
                columns.append(_Column(key, walked[0], walked[1]))
        elif key in fields:
            columns.append(_Column(key, fields[key], page.get(key, absent)))
        # Unknown names are ignored (servicenow-behaviour §1.2 sysparm_fields).
    return columns


def _readable_columns(ctx: Context, table: str, keys: Iterable[str], columns: Sequence[str],
                      key: str = "sys_id") -> Mapping[str, Mapping[str, Any]]:
    """``{key value: {column: value}}`` of the rows of ``table`` the caller may read (one
    query for the page; nothing at all when no row of the table is readable)."""
    scope = acl.read_scope(ctx, table)
    if scope.nothing:
        return {}
    wanted = list(columns) if scope.everything else [*columns, *scope.owner_fields]
    found = table_queries.columns_by_ids(ctx.db, ctx.dictionary, table, keys,
                                         list(dict.fromkeys(wanted)), key=key)
    return acl.readable_rows(ctx, table, found)


def _walk(ctx: Context, table: str, page: Mapping[str, Sequence[Any]],
          path: str) -> tuple[Field, Sequence[Any]] | None:
    """Follow ``caller_id.department.name`` with one query per level (§1.2, §2 dot-walking);
    each level sees only the rows the caller may read (module docstring)."""
    parts = path.split(".")
    fld = ctx.dictionary.field(table, parts[0])
    if fld is None or not fld.is_stored:
        return None
    values = page[parts[0]]
    for part in parts[1:]:
        if fld.type != "reference" or fld.reference is None:
            return None
        target = fld.reference
        following = ctx.dictionary.field(target, part)
        if following is None or not following.is_stored:
            return None
        found = _readable_columns(ctx, target, [str(v) for v in values if v], [part],
                                  key=fld.reference_key)
        values = [found.get(str(v), {}).get(part) if v else None for v in values]
        fld = following
    return fld, values


def _reference_displays(ctx: Context, columns: Sequence[_Column]) -> dict[str, dict[str, str]]:
    """``{target table: {stored value: display value}}`` for the reference columns shown (a
    reference stores the target's sys_id, or its ``reference_key`` column)."""
    wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
    for column in columns:
        if column.field.type == "reference" and column.field.reference:
            wanted[(column.field.reference, column.field.reference_key)].update(
                str(v) for v in column.values if v)
    displays: dict[str, dict[str, str]] = {}
    for (target, key), ids in wanted.items():
        shown = displays.setdefault(target, {})
        display = ctx.dictionary.display_field(target)
        if display is None or not ids:
            continue
        display_field = ctx.dictionary.fields(target)[display]
        found = _readable_columns(ctx, target, ids, [display], key=key)
        shown.update({value: to_wire(display_field, row.get(display))
                      for value, row in found.items()})
    return displays


def _journals(ctx: Context, table: str, columns: Sequence[_Column],
              sys_ids: Sequence[str]) -> dict[tuple[str, str], str]:
    """``{(sys_id, field): history text}`` for the journal columns being displayed."""
    journal_columns = [c for c in columns if c.field.type in JOURNAL_TYPES]
    if not journal_columns:
        return {}
    fields = ctx.dictionary.fields(table)
    elements = sorted({n for n, f in fields.items() if f.type == "journal_input"})
    labels = {n: fields[n].label for n in elements}
    entries = table_queries.journal_entries(ctx.db, sys_ids, elements)
    zone = user_zone(ctx)
    texts: dict[tuple[str, str], list[str]] = defaultdict(list)
    for entry in entries:
        block = (f"{_local(str(entry['sys_created_on']), zone)} - "
                 f"{entry['author'] or entry['sys_created_by']} ({labels[entry['element']]})\n"
                 f"{entry['value']}\n\n")
        texts[(str(entry["element_id"]), str(entry["element"]))].append(block)
        for column in journal_columns:
            if column.field.type == "journal_list":
                texts[(str(entry["element_id"]), column.key)].append(block)
    return {key: "".join(blocks) for key, blocks in texts.items()}


class _Shown(NamedTuple):
    """One output field of a display-mode rendering, ready to convert row by row."""

    key: str
    #: Per row: the stored value; for journal fields the history text (their raw value is "").
    values: Sequence[Any]
    #: value -> display value (``None`` for an empty choice).
    shown: Callable[[Any], Any]
    #: value -> raw wire string (used by ``all`` for fields without a link).
    raw: Callable[[Any], str]
    #: The reference link prefix when the field renders a ``link``, else ``None``.
    link_prefix: str | None


def _shown_columns(ctx: Context, table: str, page: Mapping[str, Sequence[Any]], count: int,
                   options: ReadOptions) -> list[_Shown]:
    """What :func:`render_records` and :func:`encode_page` render in display modes: the
    fields, with the page's reference display values and journal histories looked up once."""
    columns = _columns(ctx, table, page, count, options)
    sys_ids = [str(sys_id) for sys_id in page["sys_id"]]
    displays = _reference_displays(ctx, columns)
    journals = _journals(ctx, table, columns, sys_ids)
    zone = user_zone(ctx)
    labels = _table_labels(ctx.dictionary)
    exclude = options.exclude_reference_link
    shown: list[_Shown] = []
    for column in columns:
        fld, key = column.field, column.key
        raw = _raw_converter(ctx, fld, exclude)
        if fld.type in JOURNAL_TYPES:
            texts = [journals.get((sys_id, key), "") for sys_id in sys_ids]
            shown.append(_Shown(key, texts, _unchanged, raw, None))
            continue
        prefix = None
        if fld.type == "reference" and not exclude:
            assert fld.reference is not None
            prefix = reference_link(ctx, fld.reference, "")
        shown.append(_Shown(key, column.values, _display_converter(fld, displays, zone, labels),
                            raw, prefix))
    return shown


@functools.lru_cache(maxsize=16)
def _table_labels(dictionary: Dictionary) -> Mapping[str, str]:
    """``{table name: label}`` (display values of table-name fields), once per dictionary:
    built per page it was a walk over every table (249) on each display-value read."""
    return {t.name: t.label for t in dictionary}


def _unchanged(value: Any) -> Any:
    return value


def render_records(ctx: Context, table: str, rows: Sequence[Mapping[str, Any]],
                   options: ReadOptions) -> list[dict[str, Any]]:
    """Wire dictionaries for stored ``rows`` of ``table`` (servicenow-behaviour §1.4)."""
    if not rows:
        return []
    if options.display_value == "false":
        return _render_raw(ctx, table, rows, options)
    true_mode = options.display_value == "true"
    page = _by_column(rows, _read_columns(ctx, table, options))
    rendered: list[dict[str, Any]] = [{} for _ in rows]
    # Column by column, with one converter per column chosen once (issue 9: the per-value
    # type dispatch of _raw/_display was most of a display-value listing's time).
    for column in _shown_columns(ctx, table, page, len(rows), options):
        key, values, prefix = column.key, column.values, column.link_prefix
        shown_values = _each(column.shown, values)
        if true_mode:
            if prefix is not None:
                for target, stored, shown in zip(rendered, values, shown_values, strict=True):
                    target[key] = ({"display_value": shown, "link": prefix + str(stored)}
                                   if stored else shown)
            else:
                for target, shown in zip(rendered, shown_values, strict=True):
                    target[key] = shown
            continue
        if prefix is not None:
            for target, stored, shown in zip(rendered, values, shown_values, strict=True):
                target[key] = ({"display_value": shown, "value": str(stored),
                                "link": prefix + str(stored)}
                               if not (stored is None or stored == "")
                               else {"display_value": shown, "value": ""})
            continue
        raw_values = _each(column.raw, values)
        for target, shown, raw in zip(rendered, shown_values, raw_values, strict=True):
            target[key] = {"display_value": shown, "value": raw}
    return rendered


#: The web layer's JSON (``json.dumps(..., separators=(",", ":"), ensure_ascii=False)``).
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode_records(ctx: Context, table: str, rows: Sequence[Mapping[str, Any]],
                   options: ReadOptions) -> list[str]:
    """:func:`render_records` as compact JSON object texts: the bytes ``json.dumps(record,
    separators=(",", ":"), ensure_ascii=False)`` gives (servicenow-behaviour §1.4)."""
    if options.display_value == "false":
        return [_dumps(record) for record in render_records(ctx, table, rows, options)]
    return encode_page(ctx, table, _by_column(rows, _read_columns(ctx, table, options)), options)


def encode_page(ctx: Context, table: str, page: Mapping[str, Sequence[Any]],
                options: ReadOptions) -> list[str]:
    """:func:`encode_records` in a display mode, for rows given column by column: ``page``
    maps column names to their stored values in row order (``sys_id``, the fields shown and
    the first field of each dot-walk at least; ``table_queries.select_page_columns``).

    A record is spliced from ``"<key>":<value>`` fragments, each written once per distinct
    value of its column, in the shapes of servicenow-behaviour §1.4 (issue 9: building ~7,300
    dictionaries and then json.dumps were most of a 100-record ``sysparm_display_value=all``
    listing).
    """
    count = len(page["sys_id"])
    if not count:
        return []
    true_mode = options.display_value == "true"
    parts = [_each(_fragment(column, true_mode), column.values)
             for column in _shown_columns(ctx, table, page, count, options)]
    if not parts:
        return ["{}"] * count
    return ["{" + ",".join(cells) + "}" for cells in zip(*parts, strict=True)]


def _json(value: Any) -> str:
    """``_dumps(value)``, with strings (nearly every value) sent to the C string encoder."""
    return _string(value) if value.__class__ is str else _dumps(value)


def _fragment(column: _Shown, true_mode: bool) -> Callable[[Any], str]:
    """A function value -> ``"<key>":<JSON of the field's wire value>`` for one column,
    the same shapes as :func:`render_records` builds as dictionaries."""
    name = _string(column.key) + ":"
    shown, raw, prefix = column.shown, column.raw, column.link_prefix
    if true_mode:
        if prefix is None:
            return lambda stored: name + _json(shown(stored))
        return lambda stored: (
            f'{name}{{"display_value":{_json(shown(stored))},'
            f'"link":{_string(prefix + str(stored))}}}'
            if stored else name + _json(shown(stored)))
    if prefix is None:
        if shown is raw:  # text fields (``_text``): the display value is the value
            def same(stored: Any) -> str:
                text = _string(raw(stored))
                return f'{name}{{"display_value":{text},"value":{text}}}'
            return same
        return lambda stored: (f'{name}{{"display_value":{_json(shown(stored))},'
                               f'"value":{_string(raw(stored))}}}')
    return lambda stored: (
        f'{name}{{"display_value":{_json(shown(stored))},"value":""}}'
        if stored is None or stored == ""
        else f'{name}{{"display_value":{_json(shown(stored))},"value":{_string(str(stored))},'
             f'"link":{_string(prefix + str(stored))}}}')


def _each(convert: Callable[[Any], Any], values: Sequence[Any]) -> list[Any]:
    """``[convert(v) for v in values]``, converting each distinct value once (a page's
    columns repeat a few values: states, flags, groups, empty fields)."""
    if len(values) == 1:  # a single-record read
        return [convert(values[0])]
    try:
        converted = {stored: convert(stored) for stored in set(values)}
    except TypeError:  # an unhashable value: convert one by one
        return [convert(stored) for stored in values]
    return list(map(converted.__getitem__, values))


def _display_converter(fld: Field, displays: Mapping[str, Mapping[str, str]], zone: ZoneInfo,
                       labels: Mapping[str, str]) -> Callable[[Any], Any]:
    """A function stored value -> display value for one column (same rules as
    :func:`_display`, with the field's type looked at once instead of per value)."""
    if fld.type in PASSWORD_TYPES:
        return lambda _stored: ""
    if fld.type == "reference":
        assert fld.reference is not None
        shown = displays.get(fld.reference, {})
        return lambda stored: ("" if stored is None or stored == ""
                               else shown.get(str(stored), ""))
    if fld.choices:
        by_value: dict[str, str] = {}
        for option in fld.choices:
            by_value.setdefault(option.value, option.label)

        def label(stored: Any) -> Any:
            if stored is None or stored == "":
                return None
            text = to_wire(fld, stored)
            return by_value.get(text, text)
        return label
    if fld.type in DATE_TIME_TYPES:
        empty_text = "UNKNOWN" if fld.type == "due_date" else ""
        seen: dict[str, str] = {}

        def moment(stored: Any) -> str:
            if stored is None or stored == "":
                return empty_text
            text = str(stored)
            local = seen.get(text)
            if local is None:
                local = seen[text] = _local(text, zone)
            return local
        return moment
    if fld.type in ("glide_duration", "timer"):
        return lambda stored: "" if stored is None or stored == "" else duration_words(str(stored))
    if fld.type == "sys_class_name":
        return lambda stored: ("" if stored is None or stored == ""
                               else labels.get(str(stored), str(stored)))
    if fld.type == "boolean" or fld.column_type == "REAL":
        return lambda stored: "" if stored is None or stored == "" else to_wire(fld, stored)
    return _text  # to_wire's str(), "" for None (and for "")


def _render_raw(ctx: Context, table: str, rows: Sequence[Mapping[str, Any]],
                options: ReadOptions) -> list[dict[str, Any]]:
    """The hot path (every default read): one converter per field, applied row by row."""
    link = options.exclude_reference_link
    if options.fields is None or not any("." in name for name in options.fields):
        plan = _raw_plan(ctx.dictionary, table, options.fields, link, ctx.base_url,
                         ctx.api_version)
        return [{name: convert(row.get(name)) for name, convert in plan} for row in rows]
    page = _by_column(rows, _read_columns(ctx, table, options))
    columns = _columns(ctx, table, page, len(rows), options)
    walked = [(c.key, c.values, _raw_converter(ctx, c.field, link)) for c in columns]
    return [{key: convert(values[index]) for key, values, convert in walked}
            for index in range(len(rows))]


def raw_wire_plan(ctx: Context, table: str,
                  options: ReadOptions) -> tuple[tuple[str, str, str], ...] | None:
    """How the store can build raw-mode records itself (``table_queries.select_page_json``):
    ``(key, kind, link prefix)`` per output field, the same rules as :func:`_raw_converter`.

    ``None`` when that shortcut does not apply: display modes, dot-walked fields, or a field
    whose wire text SQLite would not spell like Python (floating-point columns).
    """
    if options.display_value != "false":
        return None
    if options.fields is not None and any("." in name for name in options.fields):
        return None
    return _wire_plan(ctx.dictionary, table, options.fields, options.exclude_reference_link,
                      ctx.base_url, ctx.api_version)


@functools.lru_cache(maxsize=256)
def _wire_plan(dictionary: Dictionary, table: str, wanted: tuple[str, ...] | None,
               exclude_link: bool, base_url: str,
               api_version: str | None) -> tuple[tuple[str, str, str], ...] | None:
    """:func:`raw_wire_plan`, built once per (table, field list, link base) instead of once
    per read (a GET by sys_id looked at 73 fields). The kinds are the store's
    (``store/wire.wire_kinds``: the stored records follow the same rules)."""
    kinds = wire.wire_kinds(dictionary, table, wanted, exclude_link)
    if kinds is None:
        return None
    return tuple((name, kind, _link_prefix(base_url, api_version, target) if target else "")
                 for name, kind, target in kinds)


@functools.lru_cache(maxsize=256)
def _raw_plan(dictionary: Dictionary, table: str, wanted: tuple[str, ...] | None,
              exclude_link: bool, base_url: str,
              api_version: str | None) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    """``(name, converter)`` of each output field, built once per (table, field list, link
    base) instead of once per read (a single GET rendered 73 converters)."""
    fields = dictionary.fields(table)
    names = list(fields) if wanted is None else [
        n for n in dict.fromkeys(wanted) if n in fields]
    return tuple((name, _converter(fields[name], exclude_link, base_url, api_version))
                 for name in names)


def _raw_converter(ctx: Context, fld: Field, exclude_link: bool) -> Callable[[Any], Any]:
    """A function stored value -> raw wire value for one column (same rules as ``_raw``)."""
    return _converter(fld, exclude_link, ctx.base_url, ctx.api_version)


def _converter(fld: Field, exclude_link: bool, base_url: str,
               api_version: str | None) -> Callable[[Any], Any]:
    if fld.type in PASSWORD_TYPES or fld.type in JOURNAL_TYPES:
        return lambda _stored: ""
    if fld.type == "reference":
        assert fld.reference is not None
        prefix = _link_prefix(base_url, api_version, fld.reference)
        if exclude_link:
            return lambda stored: "" if stored is None or stored == "" else str(stored)
        return lambda stored: ("" if stored is None or stored == ""
                               else {"link": prefix + str(stored), "value": str(stored)})
    if fld.type == "boolean" or fld.column_type == "REAL":
        return lambda stored: to_wire(fld, stored)
    return _text


def _text(stored: Any) -> str:
    if stored.__class__ is str:
        return stored
    return "" if stored is None else str(stored)


def _raw(ctx: Context, fld: Field, stored: Any, exclude_link: bool) -> Any:
    if fld.type in PASSWORD_TYPES or fld.type in JOURNAL_TYPES:
        return ""
    if fld.type == "reference":
        if stored is None or stored == "":
            return ""
        if exclude_link:
            return str(stored)
        assert fld.reference is not None
        return {"link": reference_link(ctx, fld.reference, str(stored)), "value": str(stored)}
    return to_wire(fld, stored)


def _display(fld: Field, stored: Any, displays: Mapping[str, Mapping[str, str]],
             zone: ZoneInfo, labels: Mapping[str, str]) -> Any:
    empty = stored is None or stored == ""
    if fld.type in PASSWORD_TYPES:
        return ""
    if fld.type == "reference":
        if empty:
            return ""
        assert fld.reference is not None
        return displays.get(fld.reference, {}).get(str(stored), "")
    if fld.choices:
        if empty:
            return None
        text = to_wire(fld, stored)
        label = fld.choice_label(text)
        return label if label is not None else text
    if fld.type == "due_date" and empty:
        return "UNKNOWN"
    if empty:
        return ""
    if fld.type in DATE_TIME_TYPES:
        return _local(str(stored), zone)
    if fld.type in ("glide_duration", "timer"):
        return duration_words(str(stored))
    if fld.type == "sys_class_name":
        return labels.get(str(stored), str(stored))
    return to_wire(fld, stored)
