"""Listing, pagination headers and queries (servicenow-behaviour §1.1-1.3, §2, §10 item 4)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
import requests
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_servicenow.web.table_api import link_header
from tests.mock_servicenow.table_api_helpers import DEMO_INCIDENTS, add_incidents, envelope

URL = "https://dev86373.service-now.com/api/now/table/incident"


def _offsets(header: str) -> dict[str, int]:
    links = dict((rel, int(re.search(r"sysparm_offset=(-?\d+)", url).group(1)))  # type: ignore[union-attr]
                 for url, rel in re.findall(r'<([^>]*)>;rel="(\w+)"', header))
    return links


# -- §1.3 Link header arithmetic (captured examples) ----------------------------------------

def test_link_header_matches_the_capture_exactly() -> None:
    """§1.3: limit=1, total 73 at offset 0: first, prev at -1, next 1, last 72; no spaces."""
    header = link_header(URL, "sysparm_limit=1", limit=1, offset=0, total=73)
    assert header == (
        f'<{URL}?sysparm_limit=1&sysparm_offset=0>;rel="first",'
        f'<{URL}?sysparm_limit=1&sysparm_offset=-1>;rel="prev",'
        f'<{URL}?sysparm_limit=1&sysparm_offset=1>;rel="next",'
        f'<{URL}?sysparm_limit=1&sysparm_offset=72>;rel="last"')


@pytest.mark.parametrize(("limit", "offset", "total", "expected"), [
    (1, 0, 67, {"first": 0, "prev": -1, "next": 1, "last": 66}),
    (10000, 0, 28124, {"first": 0, "next": 10000, "last": 20000}),
    (10000, 20000, 28124, {"first": 0, "prev": 10000, "last": 20000}),
    (10, 10, 25, {"first": 0, "prev": 0, "next": 20, "last": 20}),
    (10, 20, 30, {"first": 0, "prev": 10, "last": 20}),
])
def test_link_header_arithmetic(limit: int, offset: int, total: int,
                                expected: dict[str, int]) -> None:
    """§1.3: last = floor((total-1)/limit)*limit, next = offset+limit when more rows, first 0,
    prev per the captured rule, rels in the order first, prev, next, last."""
    header = link_header(URL, f"sysparm_limit={limit}", limit=limit, offset=offset, total=total)
    assert header is not None
    assert _offsets(header) == expected
    assert [rel for _, rel in re.findall(r'<([^>]*)>;rel="(\w+)"', header)] == list(expected)


@pytest.mark.parametrize(("limit", "total"), [(10, 0), (10, 5), (10, 10), (10000, 26)])
def test_single_page_has_no_link_header(limit: int, total: int) -> None:
    """§1.3 (ansible-sn-inventory #15): no Link when there is only one page."""
    assert link_header(URL, "", limit=limit, offset=0, total=total) is None


def test_link_keeps_caller_params_in_order_and_appends_limit() -> None:
    """§1.2-1.3: unknown params echoed, original order kept, sysparm_limit appended."""
    header = link_header(URL, "query=active%3Dtrue&display_value=True&sysparm_offset=5",
                         limit=10000, offset=5, total=20005)
    assert header is not None
    first = re.findall(r"<([^>]*)>", header)[0]
    assert first == f"{URL}?query=active%3Dtrue&display_value=True&sysparm_offset=0" \
                    "&sysparm_limit=10000"


# -- listing over HTTP ----------------------------------------------------------------------

#: Demo incidents of priority 1 - Critical.
CRITICAL = sum(1 for incident in DEMO_INCIDENTS if incident["priority"] == "1")


def test_listing_headers_and_defaults(snow_admin: httpx.Client) -> None:
    """§1.3: X-Total-Count = total matches; default limit 10000 (one page: no Link)."""
    response = snow_admin.get("/api/now/table/incident")
    total = len(DEMO_INCIDENTS)
    assert response.headers["X-Total-Count"] == str(total) and "Link" not in response.headers
    assert len(response.json()["result"]) == total
    paged = snow_admin.get("/api/now/v2/table/incident", params={"sysparm_limit": "1"})
    links = _offsets(paged.headers["Link"])
    assert links == {"first": 0, "prev": -1, "next": 1, "last": total - 1}
    assert "/api/now/v2/table/incident?" in paged.headers["Link"]


def test_suppress_pagination_header(snow_admin: httpx.Client) -> None:
    """§1.2: sysparm_suppress_pagination_header=true removes Link (keeps X-Total-Count)."""
    response = snow_admin.get("/api/now/table/incident", params={
        "sysparm_limit": "2", "sysparm_suppress_pagination_header": "true"})
    assert "Link" not in response.headers
    assert response.headers["X-Total-Count"] == str(len(DEMO_INCIDENTS))


def test_v1_empty_result_is_404_v2_is_empty_list(snow_admin: httpx.Client) -> None:
    """§1.1: no match -> v1 404, v2 and unversioned 200 {"result": []}."""
    params = {"sysparm_query": "number=NOPE"}
    assert envelope(snow_admin.get("/api/now/v1/table/incident", params=params), 404)[
        "message"] == "No Record found"
    for prefix in ("/api/now", "/api/now/v2"):
        response = snow_admin.get(f"{prefix}/table/incident", params=params)
        assert response.status_code == 200 and response.json() == {"result": []}
        assert response.headers["X-Total-Count"] == "0"


def test_query_filters_and_orders_in_sql(snow_admin: httpx.Client) -> None:
    """§2: encoded query with ORDERBYDESC; §1.2 the total counts the matches."""
    response = snow_admin.get("/api/now/table/incident", params={
        "sysparm_query": "priority=1^ORDERBYDESCnumber", "sysparm_fields": "number,priority"})
    result = response.json()["result"]
    assert response.headers["X-Total-Count"] == str(len(result)) == str(CRITICAL)
    assert [r["number"] for r in result] == sorted((r["number"] for r in result), reverse=True)


def test_invalid_query_terms_are_ignored_unless_property(snow_admin: httpx.Client) -> None:
    """§1.2: unknown fields ignored (the rest applies); with
    glide.invalid_query.returns_no_rows=true no rows."""
    params = {"sysparm_query": "no_such_field=1^priority=1"}
    assert snow_admin.get("/api/now/table/incident", params=params).headers[
        "X-Total-Count"] == str(CRITICAL)
    prop = snow_admin.get("/api/now/table/sys_properties", params={
        "sysparm_query": "name=glide.invalid_query.returns_no_rows"}).json()["result"][0]
    snow_admin.patch(f"/api/now/table/sys_properties/{prop['sys_id']}", json={"value": "true"})
    response = snow_admin.get("/api/now/table/incident", params=params)
    assert response.json() == {"result": []} and response.headers["X-Total-Count"] == "0"
    valid = snow_admin.get("/api/now/table/incident", params={"sysparm_query": "priority=1"})
    assert valid.headers["X-Total-Count"] == str(CRITICAL)


def test_name_value_pairs_accept_display_values(snow_admin: httpx.Client) -> None:
    """§1.2: name=value filters; choice and reference fields accept display values."""
    by_label = snow_admin.get("/api/now/table/incident", params={
        "state": "In Progress", "caller_id": "Abel Tuter"}).json()["result"]
    by_value = snow_admin.get("/api/now/table/incident", params={
        "sysparm_query": "state=2^caller_id=62826bf03710200044e0bfc8bcbe5df1"}).json()["result"]
    assert [r["sys_id"] for r in by_label] == [r["sys_id"] for r in by_value]
    assert len(by_label) == sum(1 for d in DEMO_INCIDENTS
                                if d["state"] == "2" and d.get("caller_id") == "Abel Tuter") > 0


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(list("^=!<>@,.*%ORDERBYNQLIKEINSTARTSWITH")
                                + ["priority", "state", "caller_id.name", "number", "active",
                                   "sys_id", "javascript:gs.now()", "x", "1", "\x00", "'", "\"",
                                   "é", "ISEMPTY", "BETWEEN", "^OR", "^NQ", "ORDERBYDESC"]),
                max_size=30).map("".join))
def test_any_encoded_query_returns_rows_or_empty(snow_admin: httpx.Client, query: str) -> None:
    """§1.2 / §2: any generated query yields 200 with a list, never a 500."""
    response = snow_admin.get("/api/now/table/incident",
                              params={"sysparm_query": query, "sysparm_fields": "number"})
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["result"], list)
    assert int(response.headers["X-Total-Count"]) >= len(response.json()["result"])


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(limit=st.integers(min_value=1, max_value=30),
       order=st.sampled_from(["ORDERBYnumber", "ORDERBYDESCpriority^ORDERBYnumber",
                              "ORDERBYsys_id", "active=true^ORDERBYsys_created_on^ORDERBYsys_id"]))
def test_pagination_visits_every_row_once(snow_admin: httpx.Client, limit: int,
                                          order: str) -> None:
    """§1.3: ordered pages over any limit visit every matching row exactly once."""
    expected = snow_admin.get("/api/now/table/incident", params={
        "sysparm_query": order, "sysparm_fields": "sys_id"}).json()["result"]
    seen: list[str] = []
    offset = 0
    while True:
        page = snow_admin.get("/api/now/table/incident", params={
            "sysparm_query": order, "sysparm_fields": "sys_id", "sysparm_limit": str(limit),
            "sysparm_offset": str(offset)})
        rows = page.json()["result"]
        seen.extend(r["sys_id"] for r in rows)
        link = page.headers.get("Link", "")
        if 'rel="next"' not in link:
            break
        offset = _offsets(link)["next"]
    assert seen == [r["sys_id"] for r in expected]
    assert len(set(seen)) == len(seen)


# -- a real client over a real socket -------------------------------------------------------

@pytest.fixture
def thousand(snow_app: Flask, snow_server: str) -> Iterator[tuple[str, set[str]]]:
    ids = add_incidents(snow_app, 1000, correlation_id="bulk-1000")
    yield snow_server, set(ids)


@pytest.mark.slow
def test_requests_pages_with_the_link_header(thousand: tuple[str, set[str]]) -> None:
    """§1.3: a plain `requests` client follows rel="next" and sees each row exactly once."""
    base, ids = thousand
    url: str | None = (f"{base}/api/now/table/incident?sysparm_query=correlation_id=bulk-1000"
                       "^ORDERBYsys_id&sysparm_fields=sys_id&sysparm_limit=97")
    seen: list[str] = []
    with requests.Session() as session:
        session.auth = ("admin", "admin")
        # No keep-alive: the fixture's threaded server is shut down right after the test,
        # and an idle kept-alive connection would outlive it (a ResourceWarning).
        session.headers["Connection"] = "close"
        while url:
            response = session.get(url, headers={"Accept": "application/json"}, timeout=30)
            assert response.status_code == 200
            seen.extend(r["sys_id"] for r in response.json()["result"])
            url = response.links.get("next", {}).get("url")
    assert len(seen) == len(set(seen)) == len(ids) and set(seen) == ids


@pytest.mark.slow
def test_requests_pages_with_x_total_count(thousand: tuple[str, set[str]]) -> None:
    """§1.3: X-Total-Count drives offset arithmetic to every row exactly once."""
    base, ids = thousand
    params = {"sysparm_query": "correlation_id=bulk-1000^ORDERBYnumber",
              "sysparm_fields": "sys_id", "sysparm_limit": "250", "sysparm_offset": "0"}
    with requests.Session() as session:
        session.auth = ("admin", "admin")
        # No keep-alive: the fixture's threaded server is shut down right after the test,
        # and an idle kept-alive connection would outlive it (a ResourceWarning).
        session.headers["Connection"] = "close"
        first = session.get(f"{base}/api/now/table/incident", params=params, timeout=30)
        total = int(first.headers["X-Total-Count"])
        seen = [r["sys_id"] for r in first.json()["result"]]
        for offset in range(250, total, 250):
            params["sysparm_offset"] = str(offset)
            page = session.get(f"{base}/api/now/table/incident", params=params, timeout=30)
            seen.extend(r["sys_id"] for r in page.json()["result"])
    assert total == len(ids)
    assert len(seen) == total == len(set(seen)) and set(seen) == ids
