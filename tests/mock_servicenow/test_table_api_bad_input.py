"""Bad input gets ServiceNow's own answer, never a 500 (servicenow-behaviour §1.1, §1.5, §3)."""

from __future__ import annotations

import httpx
import pytest

from tests.mock_servicenow.table_api_helpers import envelope

MEDIA_TEXT = ("Invalid content-type. Supported request media types for this service are: "
              "[application/json, application/xml, text/xml]")


@pytest.mark.parametrize("table", ["no_such_table", "incident..", "x" * 8000,
                                   "incident;DROP TABLE task", "sys_user'--"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_table_is_400_invalid_table(snow_admin: httpx.Client, table: str,
                                            method: str) -> None:
    """§1.5: 400 Invalid table <name> with detail null (8 000-char names too)."""
    response = snow_admin.request(method, f"/api/now/table/{table}",
                                  json={} if method == "POST" else None)
    assert envelope(response, 400) == {"message": f"Invalid table {table}", "detail": None}


@pytest.mark.parametrize("path", ["/api/now/table/%2e%2e", "/api/now/table/%2e%2e/%2e%2e",
                                  "/api/now/table/../../_emulator/info",
                                  "/api/now/table/incident/../../x"])
def test_path_tricks_never_escape_the_api(snow_admin: httpx.Client, path: str) -> None:
    """Dot segments are either normalized to an unknown resource or an invalid table."""
    response = snow_admin.get(path)
    assert response.status_code in (400, 404)
    assert response.status_code < 500
    assert response.json()["status"] == "failure"


def test_unknown_table_on_single_record_and_stats(snow_admin: httpx.Client) -> None:
    """§1.5: the same 400 for /{sys_id} and the Aggregate API."""
    for path in ("/api/now/table/nope/0123456789abcdef0123456789abcdef", "/api/now/stats/nope"):
        assert envelope(snow_admin.get(path), 400)["message"] == "Invalid table nope"


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2", b"\"just a string\"", b"42",
                                     b"\xff\xfe\x00", b"[3]"])
def test_malformed_json_is_400(snow_admin: httpx.Client, content: bytes) -> None:
    """§1.1, §3: malformed JSON -> 400 Exception while reading request."""
    response = snow_admin.post("/api/now/table/incident", content=content,
                               headers={"Content-Type": "application/json"})
    assert envelope(response, 400)["message"] == "Exception while reading request"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "image/png"])
def test_unsupported_content_type_is_415(snow_admin: httpx.Client, content_type: str) -> None:
    """§1.1: 415 with the real instance's text."""
    response = snow_admin.post("/api/now/table/incident", content=b"a=b",
                               headers={"Content-Type": content_type})
    assert envelope(response, 415) == {"message": MEDIA_TEXT, "detail": None}


def test_huge_body_is_refused_with_the_captured_text(snow_admin: httpx.Client) -> None:
    """§1.1 (KB0747638): 10 MiB cap on the Table API."""
    size = 10 * 1024 * 1024 + 10
    response = snow_admin.post("/api/now/table/incident", content=b"{" + b" " * (size - 2) + b"}",
                               headers={"Content-Type": "application/json"})
    assert envelope(response, 400) == {
        "message": "Exception while reading request",
        "detail": f"Rejected large REST payload with content-length = {size} bytes. "
                  "Max allowed: 10485760 bytes."}


@pytest.mark.parametrize("params", [
    {"sysparm_limit": "abc"}, {"sysparm_limit": "-5"}, {"sysparm_offset": "-1"},
    {"sysparm_offset": "x"}, {"sysparm_display_value": "maybe"}, {"sysparm_fields": ",,,"},
    {"sysparm_fields": "a.b.c.d.e"}, {"sysparm_view": "mobile"},
    {"sysparm_query_no_domain": "true"}, {"sysparm_no_count": "true"},
])
def test_odd_parameters_never_500(snow_admin: httpx.Client, params: dict[str, str]) -> None:
    """§1.2: odd parameter values are tolerated (defaults apply)."""
    response = snow_admin.get("/api/now/table/incident", params=params)
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["result"], list)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_collection_write_methods_are_405(snow_admin: httpx.Client, method: str) -> None:
    """§1.5 code table: 405 for a method the resource does not support."""
    response = snow_admin.request(method, "/api/now/table/incident")
    assert envelope(response, 405)["message"] == "Method not Supported"


def test_wrong_value_types_are_ignored_not_500(snow_admin: httpx.Client) -> None:
    """§1.1: values the field cannot hold are ignored like unknown fields."""
    response = snow_admin.post("/api/now/table/incident", json={
        "impact": [1], "urgency": None, "active": "perhaps", "short_description": 12345,
        "caller_id": {"value": "62826bf03710200044e0bfc8bcbe5df1"}, "opened_at": {"x": 1}})
    assert response.status_code == 201, response.text
    record = response.json()["result"]
    assert record["impact"] == "3" and record["active"] == "true"
    assert record["short_description"] == "12345"
    assert record["caller_id"]["value"] == "62826bf03710200044e0bfc8bcbe5df1"


def test_unique_clash_is_403_not_500(snow_admin: httpx.Client) -> None:
    """A duplicate unique value (sys_user.user_name) is refused as Operation Failed (§1.5
    pattern), never a 500."""
    response = snow_admin.post("/api/now/table/sys_user", json={"user_name": "admin"})
    assert envelope(response, 403) == {"message": "Operation Failed",
                                       "detail": "Unique Key violation detected by database"}


def test_405_lists_allowed_methods(snow_admin: httpx.Client) -> None:
    """RFC 9110: a 405 names the allowed methods in Allow."""
    response = snow_admin.request("TRACE", "/api/now/table/incident")
    assert envelope(response, 405)["message"] == "Method not Supported"
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]
