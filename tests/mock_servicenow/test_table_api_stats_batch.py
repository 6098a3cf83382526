"""Aggregate API (servicenow-behaviour §9.1) and Batch API (§9.4)."""

from __future__ import annotations

import base64
import json
from collections import Counter

import httpx

from tests.mock_servicenow.table_api_helpers import DEMO_INCIDENTS, envelope

#: INC0000001's published sys_id.
INC0000001 = "9c573169c611228700193229fff72400"


def test_count_only(snow_admin: httpx.Client) -> None:
    """§9.1: {"result":{"stats":{"count":"48"}}}, count is a string."""
    response = snow_admin.get("/api/now/stats/incident", params={"sysparm_count": "true"})
    assert response.json() == {"result": {"stats": {"count": str(len(DEMO_INCIDENTS))}}}
    v1 = snow_admin.get("/api/now/v1/stats/incident", params={
        "sysparm_count": "true", "sysparm_query": "priority=1"})
    critical = sum(1 for incident in DEMO_INCIDENTS if incident["priority"] == "1")
    assert v1.json() == {"result": {"stats": {"count": str(critical)}}}


def test_grouped_counts_match_the_data(snow_admin: httpx.Client) -> None:
    """§9.1: grouped shape with groupby_fields [{value, field}], one entry per group."""
    response = snow_admin.get("/api/now/stats/incident", params={
        "sysparm_count": "true", "sysparm_group_by": "state"})
    expected = Counter(incident["state"] for incident in DEMO_INCIDENTS)
    got = {entry["groupby_fields"][0]["value"]: entry["stats"]["count"]
           for entry in response.json()["result"]}
    assert got == {k: str(v) for k, v in expected.items()}
    entry = response.json()["result"][0]
    assert set(entry) == {"stats", "groupby_fields"}
    assert entry["groupby_fields"][0]["field"] == "state"


def test_averages_have_four_decimals_and_display_values(snow_admin: httpx.Client) -> None:
    """§9.1: "stats":{"avg":{"<field>":"1.2500"}}; display values add display_value."""
    response = snow_admin.get("/api/now/stats/incident", params={
        "sysparm_avg_fields": "impact", "sysparm_min_fields": "urgency",
        "sysparm_max_fields": "priority", "sysparm_sum_fields": "reopen_count"})
    stats = response.json()["result"]["stats"]
    impacts = [int(d["impact"]) for d in DEMO_INCIDENTS]
    assert stats["avg"] == {"impact": f"{sum(impacts) / len(impacts):.4f}"}
    assert stats["min"] == {"urgency": min(d["urgency"] for d in DEMO_INCIDENTS)}
    assert stats["max"] == {"priority": max(d["priority"] for d in DEMO_INCIDENTS)}
    assert stats["sum"] == {"reopen_count": "0"}
    grouped = snow_admin.get("/api/now/stats/incident", params={
        "sysparm_count": "true", "sysparm_group_by": "category",
        "sysparm_display_value": "true"}).json()["result"]
    labels = {g["groupby_fields"][0]["value"]: g["groupby_fields"][0]["display_value"]
              for g in grouped}
    assert labels["inquiry"] == "Inquiry / Help"


def test_stats_ignore_unknown_fields(snow_admin: httpx.Client) -> None:
    """§1.2 by analogy: unknown field names are ignored, not a 500."""
    response = snow_admin.get("/api/now/stats/incident", params={
        "sysparm_count": "true", "sysparm_group_by": "nope", "sysparm_avg_fields": "x,,y"})
    assert response.json() == {"result": {"stats": {"count": str(len(DEMO_INCIDENTS))}}}


def _b64(payload: object) -> str:
    return base64.b64encode(json.dumps(payload).encode()).decode()


def test_batch_runs_requests_and_encodes_bodies(snow_admin: httpx.Client) -> None:
    """§9.4: base64 bodies in and out, serviced_requests with status_code and headers."""
    inc1 = INC0000001
    payload = {"batch_request_id": "1", "rest_requests": [
        {"id": "a", "method": "GET", "url": f"/api/now/table/incident/{inc1}?sysparm_fields=number",
         "headers": [{"name": "Accept", "value": "application/json"}]},
        {"id": "b", "method": "POST", "url": "/api/now/table/incident",
         "headers": [{"name": "Content-Type", "value": "application/json"},
                     {"name": "Accept", "value": "application/json"}],
         "body": _b64({"short_description": "from batch"})},
        {"id": "c", "method": "GET", "url": "/api/now/table/nope"},
        {"id": "d", "method": "GET", "url": "/oauth_token.do"},
    ]}
    response = snow_admin.post("/api/now/v1/batch", json=payload)
    assert response.status_code == 200
    body = response.json()
    assert body["batch_request_id"] == "1"
    served = {r["id"]: r for r in body["serviced_requests"]}
    assert served["a"]["status_code"] == 200
    assert json.loads(base64.b64decode(served["a"]["body"])) == {
        "result": {"number": "INC0000001"}}
    assert served["b"]["status_code"] == 201
    created = json.loads(base64.b64decode(served["b"]["body"]))["result"]
    assert created["short_description"] == "from batch" and created["sys_created_by"] == "admin"
    assert any(h["name"] == "Location" for h in served["b"]["headers"])
    assert served["c"]["status_code"] == 400
    assert body["unserviced_requests"] == ["d"]
    assert snow_admin.get(f"/api/now/table/incident/{created['sys_id']}").status_code == 200


def test_batch_requires_authentication(snow_client: httpx.Client) -> None:
    """§1.5: the batch endpoint itself needs credentials."""
    response = snow_client.post("/api/now/v1/batch", json={"rest_requests": []})
    assert envelope(response, 401)["message"] == "User Not Authenticated"


def test_group_by_reference_shows_display_values(snow_admin: httpx.Client) -> None:
    """§9.1: grouping by a reference gives sys_id values and, with display values, names."""
    grouped = snow_admin.get("/api/now/stats/incident", params={
        "sysparm_count": "true", "sysparm_group_by": "assignment_group",
        "sysparm_display_value": "true"}).json()["result"]
    names = {g["groupby_fields"][0]["display_value"]: g["stats"]["count"] for g in grouped}
    expected = Counter(d.get("assignment_group") or "" for d in DEMO_INCIDENTS)
    assert names == {k: str(v) for k, v in expected.items()}
    # Named groups are sys_ids; incidents without a group form the "" bucket.
    assert all(len(g["groupby_fields"][0]["value"]) == 32
               for g in grouped if g["groupby_fields"][0]["display_value"])


def test_password_fields_are_not_aggregated(snow_admin: httpx.Client) -> None:
    """§6: password hashes never leave through the Aggregate API either: MIN/MAX of one are
    dropped, grouping by one is refused like a condition on it (issue 15)."""
    response = snow_admin.get("/api/now/stats/sys_user", params={
        "sysparm_count": "true", "sysparm_max_fields": "user_password"})
    assert response.status_code == 200
    assert "pbkdf2" not in response.text
    assert response.json()["result"] == {"stats": {"count": str(
        snow_admin.get("/api/now/table/sys_user").headers["X-Total-Count"])}}
    grouped = snow_admin.get("/api/now/stats/sys_user", params={
        "sysparm_count": "true", "sysparm_group_by": "user_password"})
    assert grouped.status_code == 403
    assert grouped.json()["error"]["message"] == "Insufficient rights to query records"


def test_batch_with_unusable_headers_is_unserviced_not_500(snow_admin: httpx.Client) -> None:
    """Bad input never 500s: a header no HTTP request can carry leaves that request
    unserviced."""
    payload = {"batch_request_id": "x", "rest_requests": [
        {"id": "bad", "method": "GET", "url": "/api/now/table/incident",
         "headers": [{"name": "X-Bad", "value": "line\nbreak"}, {"name": "\ud800", "value": "s"}]},
        {"id": "body", "method": "POST", "url": "/api/now/table/incident", "body": "%%%",
         "headers": 7},
    ]}
    response = snow_admin.post("/api/now/v1/batch", content=json.dumps(payload).encode(),
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json()["unserviced_requests"] == ["bad", "body"]
