"""Display-value rendering with per-column converters (issue 9) gives what the per-value rules
(``display._raw`` and ``display._display``, servicenow-behaviour §1.4) give."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from mock_servicenow.domain.platform.clock import GLIDE_FORMAT
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.table import display, records
from mock_servicenow.domain.table.display import ReadOptions
from mock_servicenow.store import table_queries
from tests.mock_servicenow.table_api_helpers import add_incidents, domain_context


@pytest.fixture
def ctx(snow_app: Flask) -> Iterator[Context]:
    """A domain context on the test instance, as a request on ``/api/now/v1`` would have."""
    with domain_context(snow_app, "v1") as context:
        yield context


def _reference(ctx: Context, table: str, rows: Sequence[Mapping[str, Any]],
               options: ReadOptions) -> list[dict[str, Any]]:
    """The rendering loop as it was before issue 9, value by value."""
    page = {name: [row.get(name) for row in rows]
            for name in display._read_columns(ctx, table, options)}
    columns = display._columns(ctx, table, page, len(rows), options)
    displays = display._reference_displays(ctx, columns)
    journals = display._journals(ctx, table, columns, [str(row.get("sys_id")) for row in rows])
    zone = display.user_zone(ctx)
    labels = {t.name: t.label for t in ctx.dictionary}
    rendered: list[dict[str, Any]] = [{} for _ in rows]
    for column in columns:
        fld = column.field
        for index, stored in enumerate(column.values):
            raw = display._raw(ctx, fld, stored, options.exclude_reference_link)
            if fld.type in display.JOURNAL_TYPES:
                shown: Any = journals.get((str(rows[index].get("sys_id")), column.key), "")
            else:
                shown = display._display(fld, stored, displays, zone, labels)
            if options.display_value == "true":
                if fld.type == "reference" and stored and not options.exclude_reference_link:
                    assert fld.reference is not None
                    shown = {"display_value": shown,
                             "link": display.reference_link(ctx, fld.reference, str(stored))}
                rendered[index][column.key] = shown
            else:
                value = raw["value"] if isinstance(raw, dict) else raw
                both: dict[str, Any] = {"display_value": shown, "value": value}
                if isinstance(raw, dict) and "link" in raw:
                    both["link"] = raw["link"]
                rendered[index][column.key] = both
    return rendered


def _rows(ctx: Context, table: str) -> list[dict[str, Any]]:
    return table_queries.select_page(ctx.db, ctx.dictionary, table, where="1", params=[],
                                     limit=300, offset=0)


@pytest.mark.parametrize("options", [
    ReadOptions(display_value="true"),
    ReadOptions(display_value="all"),
    ReadOptions(display_value="true", exclude_reference_link=True),
    ReadOptions(display_value="all", exclude_reference_link=True),
    ReadOptions(display_value="all", fields=("caller_id.name", "number", "comments_and_work_notes",
                                             "opened_at", "business_duration", "state")),
])
def test_every_table_renders_as_the_per_value_rules(snow_app: Flask, ctx: Context,
                                                    options: ReadOptions) -> None:
    add_incidents(snow_app, 2, business_duration="1970-01-03 04:05:06", due_date=None,
                  opened_at="0999-01-01 00:00:00", resolved_at="2026-13-01 00:00:00",
                  closed_at="2026-3-29 01:30:00", state=6, caller_id="no-such-user")
    compared = 0
    for table in ctx.dictionary:
        found = _rows(ctx, table.name)
        if options.fields is not None and table.name != "incident":
            continue
        assert display.render_records(ctx, table.name, found, options) == _reference(
            ctx, table.name, found, options), table.name
        compared += len(found)
    assert compared > 20


def test_journal_history_renders_the_same(snow_admin: Any, ctx: Context) -> None:
    created = snow_admin.post("/api/now/table/incident",
                              json={"short_description": "j", "comments": "first",
                                    "work_notes": "second"})
    assert created.status_code == 201
    found = _rows(ctx, "incident")
    options = ReadOptions(display_value="all")
    rendered = display.render_records(ctx, "incident", found, options)
    assert rendered == _reference(ctx, "incident", found, options)
    assert any("first" in r["comments_and_work_notes"]["display_value"] for r in rendered)


@pytest.mark.parametrize("stored", [
    "2026-03-29 01:30:00", "2026-10-25 09:59:59", "1970-01-01 00:00:00", "0999-06-01 12:00:00",
    "0001-01-01 00:00:00", "9999-12-31 23:59:59", "2026-02-30 00:00:00", "2026-1-01 00:00:00",
    " 2026-01-01 00:00:00", "2026-01-01T00:00:00", "2026-01-01 00:00", "", "garbage",
    "２０２６-01-01 00:00:00",
])
@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Europe/Paris", "UTC",
                                  "Pacific/Chatham"])
def test_local_time_matches_strptime(stored: str, zone: str) -> None:
    tz = ZoneInfo(zone)
    try:
        moment = datetime.strptime(stored, GLIDE_FORMAT).replace(tzinfo=UTC)
        expected = moment.astimezone(tz).strftime(GLIDE_FORMAT)
    except (ValueError, OverflowError):
        expected = stored
    try:
        actual = display._local(stored, tz)
    except OverflowError:
        actual = stored
    assert actual == expected


def test_records_api_uses_the_converters(ctx: Context) -> None:
    page = records.list_records(ctx, "incident", records.ListQuery(limit=5),
                                ReadOptions(display_value="all"))
    found = _rows(ctx, "incident")[:5]
    assert page.records == _reference(ctx, "incident", found, ReadOptions(display_value="all"))
