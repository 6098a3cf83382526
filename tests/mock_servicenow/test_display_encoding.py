"""Display-value records written as JSON text (``display.encode_page`` and
``display.encode_records``, issue 9) are, byte for byte, ``json.dumps`` of what the reference
renderer ``display.render_records`` returns: same keys in the same order, same values
(servicenow-behaviour §1.4: choice labels, reference display values and links, date-times in
the user's time zone, durations, journal histories, write-only passwords, ``sysparm_fields``
with dot-walks, ``sysparm_exclude_reference_link``, modes ``true`` and ``all``)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_servicenow.dictionary import Field
from mock_servicenow.domain.platform.context import Context, Principal
from mock_servicenow.domain.table import display, records
from mock_servicenow.domain.table.display import ReadOptions
from mock_servicenow.store import rows, table_queries
from mock_servicenow.web.responses import dumps
from tests.mock_servicenow.table_api_helpers import domain_context
from tests.mock_servicenow.test_table_api_wire_json import TRICKY

MODES = [ReadOptions(display_value=mode, exclude_reference_link=exclude)
         for mode in ("true", "all") for exclude in (False, True)]
FIELD_LISTS: list[tuple[str, ...]] = [
    ("number", "caller_id", "state", "number", "nope", "caller_id.nope", ""),
    ("caller_id.name", "caller_id.department.name", "assignment_group.name", "parent.number",
     "short_description.name", "parent.caller_id", "caller_id.user_password"),
    ("comments", "work_notes", "comments_and_work_notes", "sys_class_name", "opened_at"),
    ("due_date", "activity_due", "business_duration", "active", "approval", "sys_id"),
    (),
]


@pytest.fixture
def ctx(snow_app: Flask) -> Iterator[Context]:
    """A domain context on the test instance, as a request on ``/api/now/v2`` would have."""
    with domain_context(snow_app, "v2") as context:
        yield context


def _pairs(value: Any) -> Any:
    """``value`` with every object as its list of (key, value) pairs: key order compared."""
    if isinstance(value, dict):
        return [(key, _pairs(item)) for key, item in value.items()]
    return value


def assert_same(fast: Sequence[str], reference: Sequence[dict[str, Any]]) -> None:
    """The fast texts decode to the reference records, key order included, and are the bytes
    the web layer's ``dumps`` writes for them."""
    assert [json.loads(text, object_pairs_hook=list) for text in fast] == [
        _pairs(record) for record in reference]
    assert list(fast) == [dumps(record) for record in reference]


def _listed(ctx: Context, table: str, options: ReadOptions,
            query: records.ListQuery) -> tuple[list[str], list[dict[str, Any]]]:
    fast = records.list_records(ctx, table, query, options, encoded=True)
    slow = records.list_records(ctx, table, query, options)
    assert fast.encoded is not None and slow.encoded is None
    assert fast.total == slow.total
    return fast.encoded, slow.records


@pytest.mark.parametrize("fields", [None, ("sys_id",)])
@pytest.mark.parametrize("options", MODES)
def test_every_table_lists_as_the_reference_renderer(ctx: Context, options: ReadOptions,
                                                     fields: tuple[str, ...] | None) -> None:
    # ("sys_id",): rows come in the same order too (a SELECT of sys_id alone would be read
    # from the sys_id index, in sys_id order instead of the table's).
    compared = 0
    for table in ctx.dictionary:
        fast, slow = _listed(ctx, table.name, replace(options, fields=fields),
                             records.ListQuery(limit=300))
        assert_same(fast, slow)
        compared += len(fast)
    assert compared > 100  # the demo seed: users (with passwords), groups, incidents...


@pytest.mark.parametrize("fields", FIELD_LISTS)
@pytest.mark.parametrize("options", MODES)
def test_field_lists_and_journals_list_as_the_reference_renderer(
        snow_admin: Any, ctx: Context, options: ReadOptions, fields: tuple[str, ...]) -> None:
    created = snow_admin.post("/api/now/table/incident", json={
        "short_description": TRICKY, "comments": TRICKY, "work_notes": "second\n\"note\""})
    assert created.status_code == 201
    fast, slow = _listed(ctx, "incident", replace(options, fields=fields),
                         records.ListQuery(query="ORDERBYnumber", limit=100))
    assert len(fast) > 20
    assert_same(fast, slow)


def test_rows_hidden_by_acl_are_encoded_from_rows(ctx: Context) -> None:
    # A caller without itil reads only their own incidents: rows are filtered one by one,
    # then encoded from the row dictionaries (display.encode_records).
    caller = table_queries.select_page(ctx.db, ctx.dictionary, "incident",
                                       where="caller_id IS NOT NULL", params=[], limit=1,
                                       offset=0)[0]["caller_id"]
    ctx.user = Principal(sys_id=caller, user_name="caller", name="Caller", via="basic",
                         row={"time_zone": "Europe/Paris"})
    for options in MODES:
        fast, slow = _listed(ctx, "incident", options, records.ListQuery(limit=500))
        assert fast and all(json.loads(text)["caller_id"] for text in fast)
        assert_same(fast, slow)


def test_an_empty_page_and_no_fields(ctx: Context) -> None:
    for options in MODES:
        none = records.ListQuery(query="number=NOPE")
        assert _listed(ctx, "incident", options, none) == ([], [])
        fast, slow = _listed(ctx, "incident", replace(options, fields=("nope",)),
                             records.ListQuery(limit=3))
        assert fast == ["{}"] * 3 and slow == [{}] * 3


# -- generated records ----------------------------------------------------------------------

ZONES = ["America/Los_Angeles", "Europe/Paris", "Pacific/Chatham", "UTC", "Not/AZone", ""]
TEXTS = st.one_of(
    st.sampled_from(["", TRICKY, " ", "\\", '"', "\u2028", "é", "null", "true", "0"]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
)
#: Date-times a zone conversion can represent: ``display._local`` raises OverflowError for
#: the first and last day of year 1 and 9999 in zones that push them out of range.
DATES = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(
        lambda moment: moment.strftime("%Y-%m-%d %H:%M:%S")),
    st.sampled_from(["2026-03-29 01:30:00", "2026-10-25 09:59:59", "0999-01-01 00:00:00",
                     "2026-13-01 00:00:00", "2026-3-29 01:30:00", "1970-01-03 04:05:06",
                     "1970-01-01 00:00:00", "garbage", "9999-12-30 23:59:59"]),
)
#: Fields whose generated values are written to the database (with their SQLite affinity).
GENERATED = ["short_description", "description", "state", "priority", "impact", "active",
             "made_sla", "reassignment_count", "assignment_group", "assigned_to", "caller_id",
             "opened_by", "company", "location", "parent", "parent_incident", "problem_id",
             "opened_at", "resolved_at", "due_date", "activity_due", "sla_due",
             "business_duration", "calendar_duration", "approval", "category", "contact_type",
             "x_mioms_m365ticket_recommendation_category", "watch_list", "sys_domain_path",
             "correlation_display"]
PICKED = ["number", "caller_id", "caller_id.name", "caller_id.department.name",
          "assignment_group.name", "parent.number", "parent.caller_id.email", "comments",
          "work_notes", "comments_and_work_notes", "opened_at", "due_date", "activity_due",
          "business_duration", "sys_class_name", "active", "state", "approval", "nope",
          "caller_id.nope", "short_description.name", "sys_id", "", "company", "location"]


def _values(fld: Field, references: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    """Stored values of one field: empty, odd text, and values of its type (known and
    unknown choices, dangling references, dates the zone conversion cannot read)."""
    typed: list[st.SearchStrategy[Any]] = [st.none(), TEXTS]
    if fld.choices:
        typed.append(st.sampled_from([c.value for c in fld.choices] + ["99", "-1"]))
    if fld.column_type == "INTEGER":
        typed.append(st.integers(min_value=-3, max_value=2**40))
    if fld.type == "reference":
        assert fld.reference is not None
        # A reference to a table the emulator does not serve has no records to pick.
        typed.append(st.sampled_from([*references.get(fld.reference, []), "no-such-record"]))
    if fld.type in ("glide_date_time", "due_date", "glide_duration"):
        typed.append(DATES)
    return st.one_of(typed)


def _references(ctx: Context) -> dict[str, list[str]]:
    targets = {fld.reference for fld in ctx.dictionary.fields("incident").values()
               if fld.reference and fld.reference in ctx.dictionary}
    return {target: [str(row["sys_id"]) for row in table_queries.select_page(
        ctx.db, ctx.dictionary, target, where="1", params=[], limit=4, offset=0)]
        for target in targets}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(),
       mode=st.sampled_from(["true", "all"]),
       exclude=st.booleans(),
       fields=st.none() | st.lists(st.sampled_from(PICKED), max_size=8).map(tuple),
       zone=st.sampled_from(ZONES),
       version=st.sampled_from([None, "v1", "v2"]),
       base_url=st.sampled_from(["https://dev00000.service-now.test", 'http://h"\\é:1']))
def test_generated_records_encode_as_the_reference_renderer(
        ctx: Context, data: st.DataObject, mode: str, exclude: bool,
        fields: tuple[str, ...] | None, zone: str, version: str | None, base_url: str) -> None:
    ctx.user = replace(ctx.user, row={"time_zone": zone})
    ctx.base_url, ctx.api_version = base_url, version
    ctx.db.execute("SAVEPOINT generated")  # each example starts from the seeded data
    try:
        _compare_generated(ctx, data, ReadOptions(display_value=mode,
                                                  exclude_reference_link=exclude, fields=fields))
    finally:
        ctx.db.execute("ROLLBACK TO generated")
        ctx.db.execute("RELEASE generated")


def _compare_generated(ctx: Context, data: st.DataObject, options: ReadOptions) -> None:
    fields_of = ctx.dictionary.fields("incident")
    references = _references(ctx)
    count = data.draw(st.integers(min_value=1, max_value=5), label="count")
    sys_ids = sorted(data.draw(st.uuids()).hex for _ in range(count))
    for sys_id in sys_ids:
        row = {name: data.draw(_values(fields_of[name], references), label=name)
               for name in GENERATED}
        rows.insert(ctx.db, ctx.dictionary, "incident", {**row, "sys_id": sys_id,
                                                         "number": sys_id[:10]})
        for element in data.draw(st.lists(st.sampled_from(["comments", "work_notes"]),
                                          max_size=2)):
            table_queries.insert_journal(ctx.db, {
                "sys_id": data.draw(st.uuids()).hex, "name": "incident", "element": element,
                "element_id": sys_id, "value": data.draw(TEXTS),
                "sys_created_on": data.draw(DATES),
                "sys_created_by": data.draw(st.sampled_from(["admin", "nobody", TRICKY])),
            })
    query = records.ListQuery(query=f"sys_idIN{','.join(sys_ids)}^ORDERBYsys_id")
    # The page read column by column (display.encode_page, what the Table API sends)...
    fast, slow = _listed(ctx, "incident", options, query)
    assert len(fast) == count
    assert_same(fast, slow)
    # ... and from row dictionaries (display.encode_records), with any sys_class_name.
    found = table_queries.select_page(ctx.db, ctx.dictionary, "incident",
                                      where=f"sys_id IN ({','.join('?' * count)})",
                                      params=sys_ids, limit=count, offset=0)
    classes = st.sampled_from([None, "", "incident", "task", "no_such_table", TRICKY])
    found = [{**row, "sys_class_name": data.draw(classes)} for row in found]
    assert_same(display.encode_records(ctx, "incident", found, options),
                display.render_records(ctx, "incident", found, options))
