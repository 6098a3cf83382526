"""TinyURL (issue 14 item 2): ``POST /api/now/tinyurl`` stores a long URL's query and answers
the short form; a Table API GET with ``sysparm_tiny=<id>`` runs the stored query
(domain/tinyurl/tiny_urls.py has the sources)."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest
from flask import Flask

from mock_servicenow.dictionary.records import stable_sys_id
from mock_servicenow.domain.tinyurl.tiny_urls import data_hash
from tests.mock_servicenow.table_api_helpers import client_as, envelope, set_password

BASE = "https://dev00000.service-now.test"
TINY = re.compile(r"sysparm_tiny=([0-9a-f]{32})$")
INC_ABEL = stable_sys_id("incident", "INC0000018")


def long_query(terms: int = 120) -> str:
    """An encoded query over 2,048 characters: many ORs that still match the open incidents."""
    ors = "^OR".join(f"short_description=nothing {i}" for i in range(terms))
    return f"active=true^{ors}^ORshort_descriptionISNOTEMPTY^ORDERBYnumber"


def shorten(client: httpx.Client, url: str) -> str:
    response = client.post("/api/now/tinyurl", json={"url": url})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    result: str = response.json()["result"]
    return result


def tiny_id(short: str) -> str:
    match = TINY.search(short)
    assert match, short
    return match.group(1)


def test_a_long_url_becomes_its_page_with_sysparm_tiny(snow_app: Flask,
                                                       snow_admin: httpx.Client) -> None:
    query = f"sysparm_query={quote(long_query())}&sysparm_fields=number,short_description"
    url = f"{BASE}/api/now/table/incident?{query}"
    assert len(url) > 2048
    short = shorten(snow_admin, url)
    assert short == f"{BASE}/api/now/table/incident?sysparm_tiny={tiny_id(short)}"
    # The same query reuses its row; the row holds the query and its hash.
    assert shorten(snow_admin, url) == short
    rows = snow_admin.get("/api/now/table/sys_tiny_url",
                          params={"sysparm_query": f"tiny_url={tiny_id(short)}"}).json()
    assert [(r["data"], r["data_hash"]) for r in rows["result"]] == [(query, data_hash(query))]


def test_the_platforms_own_relative_urls_stay_relative(snow_admin: httpx.Client) -> None:
    """GlideNavigation posts ``<table>_list.do?...`` above 2,000 characters and opens the
    result; the Service Portal reads ``sysparm_tiny`` back from it."""
    url = f"incident_list.do?sysparm_query={quote(long_query())}"
    short = shorten(snow_admin, url)
    assert short == f"incident_list.do?sysparm_tiny={tiny_id(short)}"


@pytest.mark.parametrize("url", [
    f"{BASE}/incident_list.do?sysparm_query=active%3Dtrue",  # under 1024 characters
    f"{BASE}/incident_list.do" + "/x" * 600,  # long, but no query to store
])
def test_short_or_queryless_urls_come_back_unchanged(snow_admin: httpx.Client, url: str) -> None:
    assert shorten(snow_admin, url) == url


def test_the_properties_switch_and_size_it(snow_admin: httpx.Client) -> None:
    url = f"{BASE}/incident_list.do?sysparm_query=active%3Dtrue"
    for name, value in (("glide.tiny_url_min_length", "20"),):
        assert snow_admin.post("/api/now/table/sys_properties",
                               json={"name": name, "value": value}).status_code == 201
    short = shorten(snow_admin, url)
    assert TINY.search(short)
    off = snow_admin.post("/api/now/table/sys_properties",
                          json={"name": "glide.use_tiny_urls", "value": "false"})
    assert off.status_code == 201
    assert shorten(snow_admin, url + "&other=1") == url + "&other=1"


def test_sysparm_tiny_runs_the_stored_listing(snow_admin: httpx.Client) -> None:
    params = {"sysparm_query": long_query(), "sysparm_fields": "number,active",
              "sysparm_limit": "3"}
    direct = snow_admin.get("/api/now/table/incident", params=params)
    url = str(httpx.URL(f"{BASE}/api/now/table/incident", params=params))
    identifier = tiny_id(shorten(snow_admin, url))
    tiny = snow_admin.get("/api/now/table/incident", params={"sysparm_tiny": identifier})
    assert tiny.status_code == 200
    assert tiny.json() == direct.json() and len(tiny.json()["result"]) == 3
    assert tiny.headers["X-Total-Count"] == direct.headers["X-Total-Count"]
    # The Link header stays tiny, and the request's own parameters win over stored ones.
    assert f"sysparm_tiny={identifier}&sysparm_offset=3" in tiny.headers["Link"]
    next_page = snow_admin.get("/api/now/table/incident",
                               params={"sysparm_tiny": identifier, "sysparm_offset": "3"})
    expected = snow_admin.get("/api/now/table/incident", params={**params, "sysparm_offset": "3"})
    assert next_page.json() == expected.json() != tiny.json()


def test_sysparm_tiny_on_a_single_record(snow_admin: httpx.Client) -> None:
    url = f"{BASE}/api/now/table/incident?sysparm_fields=number&" + "x=1&" * 300
    identifier = tiny_id(shorten(snow_admin, url))
    one = snow_admin.get(f"/api/now/v2/table/incident/{INC_ABEL}",
                         params={"sysparm_tiny": identifier})
    assert one.json() == {"result": {"number": "INC0000018"}}


def test_an_unknown_tiny_id_is_ignored(snow_admin: httpx.Client) -> None:
    plain = snow_admin.get("/api/now/table/incident", params={"sysparm_limit": "2"})
    tiny = snow_admin.get("/api/now/table/incident",
                          params={"sysparm_limit": "2", "sysparm_tiny": "f" * 32})
    assert tiny.status_code == 200 and tiny.json() == plain.json()


def test_a_stored_query_runs_with_the_callers_acls(snow_app: Flask,
                                                   snow_admin: httpx.Client) -> None:
    """Any user who can log in may shorten a URL; a stored query reads only what the caller
    may read (the admin's tiny URL shows abel his own incidents)."""
    set_password(snow_admin, "abel.tuter", "Abel-pw-1")
    abel = client_as(snow_app, "abel.tuter", "Abel-pw-1")
    url = f"{BASE}/api/now/table/incident?sysparm_query={quote(long_query())}"
    identifier = tiny_id(shorten(abel, url))
    seen = abel.get("/api/now/table/incident", params={"sysparm_tiny": identifier})
    direct = abel.get("/api/now/table/incident", params={"sysparm_query": long_query()})
    assert seen.status_code == 200 and seen.json() == direct.json()
    assert INC_ABEL in {r["sys_id"] for r in seen.json()["result"]}
    everything = snow_admin.get("/api/now/table/incident", params={"sysparm_tiny": identifier})
    assert len(everything.json()["result"]) > len(seen.json()["result"])


@pytest.mark.parametrize(("kwargs", "status"), [
    ({"json": {}}, 400), ({"json": {"url": ""}}, 400), ({"json": {"url": 5}}, 400),
    ({"json": ["https://x"]}, 400),
    ({"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400),
    ({"content": b"url=x", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
     415),
])
def test_bad_bodies_get_the_envelope(snow_admin: httpx.Client, kwargs: dict[str, object],
                                     status: int) -> None:
    envelope(snow_admin.post("/api/now/tinyurl", **kwargs), status)  # type: ignore[arg-type]


def test_unauthenticated_is_401(snow_client: httpx.Client) -> None:
    response = snow_client.post("/api/now/tinyurl", json={"url": "https://x/y?z=1"})
    assert envelope(response, 401)["message"] == "User Not Authenticated"


def test_credentials_in_the_url_are_never_stored(snow_admin: httpx.Client) -> None:
    """A token or API key in the long URL does not end up in a readable sys_tiny_url row."""
    secret = "tok3n-" + "s" * 80
    url = (f"{BASE}/api/now/table/incident?access_token={secret}&x-sn-apikey={secret}"
           f"&sysparm_query={quote(long_query())}")
    identifier = tiny_id(shorten(snow_admin, url))
    stored = snow_admin.get("/api/now/table/sys_tiny_url",
                            params={"sysparm_query": f"tiny_url={identifier}"}).json()["result"]
    assert len(stored) == 1 and secret not in stored[0]["data"]
    assert stored[0]["data"].startswith("sysparm_query=")
