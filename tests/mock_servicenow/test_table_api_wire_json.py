"""Raw listings built by SQLite (``table_queries.select_page_json``, issue 9) are byte for byte
what the Python renderer (``display.render_records``) plus ``json.dumps`` would send."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from flask import Flask

from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.table import records
from mock_servicenow.domain.table.display import ReadOptions, raw_wire_plan
from mock_servicenow.web.responses import dumps
from tests.mock_servicenow.table_api_helpers import add_incidents, domain_context

TRICKY = ("quote \" backslash \\ slash / tab \t newline \n nul \x00 bell \x07 del \x7f "
          "é ü 漢字 \u2028 \U0001f600")


@pytest.fixture
def ctx(snow_app: Flask) -> Iterator[Context]:
    """A domain context on the test instance, as a request on ``/api/now/v2`` would have."""
    with domain_context(snow_app, "v2") as context:
        yield context


def _both(ctx: Context, table: str, options: ReadOptions,
          query: records.ListQuery | None = None) -> tuple[list[str], list[str]]:
    query = query or records.ListQuery(limit=500)
    fast = records.list_records(ctx, table, query, options, encoded=True)
    slow = records.list_records(ctx, table, query, options)
    assert fast.encoded is not None and slow.encoded is None
    assert fast.total == slow.total
    texts = fast.encoded
    if fast.link_base is not None:  # texts kept beside the rows (store/wire.py)
        texts = [text.replace(records.LINK_MARK, fast.link_base) for text in texts]
    return texts, [dumps(record) for record in slow.records]


def test_every_readable_table_lists_the_same_bytes(ctx: Context) -> None:
    compared = 0
    for table in ctx.dictionary:
        if raw_wire_plan(ctx, table.name, ReadOptions()) is None:
            continue
        fast, slow = _both(ctx, table.name, ReadOptions())
        assert fast == slow, table.name
        compared += len(fast)
    assert compared > 100  # the demo seed: users, groups, incidents, properties...


@pytest.mark.parametrize("options", [
    ReadOptions(exclude_reference_link=True),
    ReadOptions(fields=("number", "caller_id", "active", "sys_mod_count", "nope", "number")),
    ReadOptions(fields=("work_notes", "comments", "short_description"),
                exclude_reference_link=True),
    ReadOptions(fields=()),
])
def test_options_list_the_same_bytes(ctx: Context, options: ReadOptions) -> None:
    fast, slow = _both(ctx, "incident", options)
    assert fast and fast == slow


def test_tricky_values_are_escaped_like_json_dumps(snow_app: Flask, ctx: Context) -> None:
    add_incidents(snow_app, 3, short_description=TRICKY, description="", active=0,
                  caller_id="", assignment_group=None, reassignment_count=12345678901)
    query = records.ListQuery(query="numberSTARTSWITHBLK^active=false", limit=10)
    fast, slow = _both(ctx, "incident", ReadOptions(), query)
    assert len(fast) == 3 and fast == slow
    assert '"short_description":"quote \\" backslash' in fast[0]


def test_more_than_one_sql_function_call_of_fields(ctx: Context) -> None:
    # incident has 73 fields: more than one json_object() call (63 pairs at most each).
    plan = raw_wire_plan(ctx, "incident", ReadOptions())
    assert plan is not None and len(plan) > 63
    fast, slow = _both(ctx, "incident", ReadOptions(), records.ListQuery(limit=1))
    assert fast == slow and fast[0].count('"sys_id":') == 1


@pytest.mark.parametrize("references_first", [57, 58, 59, 60, 61])
def test_objects_are_joined_in_sql_whatever_ends_a_chunk(ctx: Context,
                                                         references_first: int) -> None:
    """SQLite joins the json_object() calls of a row (``table_queries._spliced``) by
    trimming one brace: a reference's nested object must never end a chunk. Field lists
    that put references (``caller_id``, ``assignment_group``...) right at the 60-pair
    boundary, and a run of references across it, still give the renderer's bytes."""
    fields = ctx.dictionary.fields("incident")
    references = [n for n, f in fields.items() if f.type == "reference"]
    others = [n for n, f in fields.items() if f.type not in ("reference", "journal_input",
                                                             "journal_list", "password2")]
    assert len(references) >= 6
    names = others[:references_first] + references + others[references_first:]
    options = ReadOptions(fields=tuple(names))
    fast, slow = _both(ctx, "incident", options, records.ListQuery(limit=5))
    assert len(fast) == 5 and fast == slow
    assert all(text.startswith("{") and text.endswith("}") for text in fast)


@pytest.mark.parametrize("options", [
    ReadOptions(display_value="all"),
    ReadOptions(fields=("caller_id.name", "number")),
])
def test_display_values_and_dot_walks_are_encoded_in_python(ctx: Context,
                                                             options: ReadOptions) -> None:
    # No SQLite plan: display.encode_page / encode_records write the same bytes (their own
    # tests: test_display_encoding.py).
    assert raw_wire_plan(ctx, "incident", options) is None
    fast, slow = _both(ctx, "incident", options)
    assert len(fast) > 20 and fast == slow


def test_listing_over_http_matches_the_renderer(snow_app: Flask,
                                                snow_admin: httpx.Client) -> None:
    answer = snow_admin.get("/api/now/v2/table/incident",
                            params={"sysparm_limit": "3", "sysparm_query": "ORDERBYnumber"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json;charset=UTF-8"
    instance = snow_app.extensions["mock_servicenow"].instance
    db = instance.connect()
    try:
        context = instance.context(db)
        context.base_url = "https://dev00000.service-now.test"
        context.api_version = "v2"
        page = records.list_records(context, "incident",
                                    records.ListQuery(query="ORDERBYnumber", limit=3))
    finally:
        db.close()
    assert answer.text == dumps({"result": page.records})


def test_huge_limit_and_offset_are_not_a_server_error(snow_admin: httpx.Client) -> None:
    answer = snow_admin.get("/api/now/table/incident",
                            params={"sysparm_limit": str(10**26), "sysparm_offset": "1",
                                    "sysparm_fields": "number"})
    assert answer.status_code == 200
    assert int(answer.headers["X-Total-Count"]) == len(answer.json()["result"]) + 1
    far = snow_admin.get("/api/now/v2/table/incident",
                         params={"sysparm_offset": str(10**26), "sysparm_limit": "1"})
    assert far.status_code == 200 and far.json() == {"result": []}


def test_cached_renderers_follow_the_version_and_host(snow_app: Flask,
                                                      snow_admin: httpx.Client) -> None:
    listed = snow_admin.get("/api/now/table/incident",
                            params={"sysparm_query": "caller_idISNOTEMPTY", "sysparm_limit": "1",
                                    "sysparm_fields": "sys_id,caller_id"}).json()["result"][0]
    sys_id, caller = listed["sys_id"], listed["caller_id"]["value"]
    for version, host in (("", "dev00000.service-now.test"), ("/v1", "other.example.test"),
                          ("/v2", "dev00000.service-now.test"), ("", "other.example.test")):
        one = snow_admin.get(f"/api/now{version}/table/incident/{sys_id}",
                             headers={"Host": host}).json()["result"]
        many = snow_admin.get(f"/api/now{version}/table/incident",
                              params={"sysparm_query": f"sys_id={sys_id}"},
                              headers={"Host": host}).json()["result"][0]
        link = f"https://{host}/api/now{version}/table/sys_user/{caller}"
        assert one["caller_id"] == many["caller_id"] == {"link": link, "value": caller}
