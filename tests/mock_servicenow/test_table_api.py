"""Table API: methods, status codes, headers and wire values (servicenow-behaviour §1, §7)."""

from __future__ import annotations

import re

import httpx
import pytest
from flask import Flask

from tests.mock_servicenow.table_api_helpers import envelope

BASE = "https://dev00000.service-now.test"
#: INC0000003 "Wireless access is down in my area" (its published sys_id; demo data
#: 85-incidents.json): In Progress, impact 1, caller Joe Employee (Finance), group Network.
INC1 = "e8caedcbc0a80164017df472f39eaed1"
ADMIN = "6816f79cc0a8016401c5a33be04be441"


def create(admin: httpx.Client, body: dict[str, object], path: str = "/api/now/table/incident",
           **kwargs: object) -> httpx.Response:
    return admin.post(path, json=body, **kwargs)  # type: ignore[arg-type]


# -- §1.1 methods and status codes ----------------------------------------------------------

@pytest.mark.parametrize("prefix", ["/api/now", "/api/now/v1", "/api/now/v2"])
def test_post_is_201_with_location_and_full_record(snow_admin: httpx.Client, prefix: str) -> None:
    """§1.1: POST -> 201, Location = URL of the new record (version kept), {"result": {...}}."""
    response = create(snow_admin, {"short_description": "Printer on fire"},
                      f"{prefix}/table/incident")
    assert response.status_code == 201
    record = response.json()["result"]
    assert response.headers["Location"] == f"{BASE}{prefix}/table/incident/{record['sys_id']}"
    assert record["short_description"] == "Printer on fire"
    assert re.fullmatch(r"[0-9a-f]{32}", record["sys_id"])


def test_insert_defaults_and_stamps(snow_admin: httpx.Client) -> None:
    """§7.1: incident POST defaults, opened_by = caller, opened_at = sys_created_on,
    sys_created_by/sys_updated_by = user_name, first API record is INC0010001."""
    record = create(snow_admin, {}).json()["result"]
    expected = {"state": "1", "incident_state": "1", "impact": "3", "urgency": "3",
                "priority": "5", "severity": "3", "category": "inquiry", "active": "true",
                "approval": "not requested", "upon_approval": "proceed",
                "upon_reject": "cancel", "made_sla": "true", "notify": "1",
                "escalation": "0", "knowledge": "false", "reopen_count": "0",
                "sys_mod_count": "0", "sys_created_by": "admin", "sys_updated_by": "admin",
                "number": "INC0010001", "sys_class_name": "incident"}
    assert {k: record[k] for k in expected} == expected
    assert record["opened_by"]["value"] == ADMIN
    assert record["opened_at"] == record["sys_created_on"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", record["sys_created_on"])
    second = create(snow_admin, {}).json()["result"]
    assert second["number"] == "INC0010002"


@pytest.mark.parametrize(("table", "number"), [("change_request", "CHG0030001"),
                                                ("problem", "PRB0040001")])
def test_numbering_per_table(snow_admin: httpx.Client, table: str, number: str) -> None:
    """§7.1: CHG0030001, PRB... numbering."""
    record = create(snow_admin, {"short_description": "n"}, f"/api/now/table/{table}").json()
    assert record["result"]["number"] == number


@pytest.mark.parametrize(("impact", "urgency", "priority"), [
    ("1", "1", "1"), ("1", "2", "2"), ("1", "3", "3"), ("2", "1", "2"), ("2", "2", "3"),
    ("2", "3", "4"), ("3", "1", "3"), ("3", "2", "4"), ("3", "3", "5"),
])
def test_priority_lookup(snow_admin: httpx.Client, impact: str, urgency: str,
                         priority: str) -> None:
    """§7.2: priority from the impact x urgency matrix; a sent priority is overridden."""
    record = create(snow_admin, {"impact": impact, "urgency": urgency, "priority": "1"}).json()
    assert record["result"]["priority"] == priority


def test_patch_and_put_return_the_record_after_business_rules(snow_admin: httpx.Client) -> None:
    """§1.1: PATCH/PUT -> 200 with the full record; §7.1 sys_mod_count increments;
    §7.2 priority recalculated on update."""
    sys_id = create(snow_admin, {}).json()["result"]["sys_id"]
    patched = snow_admin.patch(f"/api/now/table/incident/{sys_id}", json={"impact": "1"})
    assert patched.status_code == 200
    assert patched.json()["result"]["priority"] == "3"
    assert patched.json()["result"]["sys_mod_count"] == "1"
    put = snow_admin.put(f"/api/now/table/incident/{sys_id}", json={"urgency": "1"})
    assert put.status_code == 200
    record = put.json()["result"]
    assert (record["priority"], record["sys_mod_count"], record["impact"]) == ("1", "2", "1")
    assert len(record) > 50  # the full record, not only the changed fields


def test_delete_is_204_without_body_then_404(snow_admin: httpx.Client) -> None:
    """§1.1: DELETE -> 204, empty body; §1.5: the record is then No Record found."""
    sys_id = create(snow_admin, {}).json()["result"]["sys_id"]
    response = snow_admin.delete(f"/api/now/table/incident/{sys_id}")
    assert response.status_code == 204 and response.content == b""
    error = envelope(snow_admin.get(f"/api/now/table/incident/{sys_id}"), 404)
    assert error == {"message": "No Record found",
                     "detail": "Record doesn't exist or ACL restricts the record retrieval"}


@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
def test_unknown_sys_id_is_404(snow_admin: httpx.Client, method: str) -> None:
    """§1.5: bad sys_id on GET/PATCH/PUT/DELETE -> 404 with the exact envelope."""
    path = "/api/now/table/incident/0123456789abcdef0123456789abcdef"
    response = snow_admin.request(method, path, json={} if method in ("PATCH", "PUT") else None)
    assert envelope(response, 404)["message"] == "No Record found"


def test_head_is_get_without_body(snow_admin: httpx.Client) -> None:
    """§1.1: HEAD = GET without body, same headers."""
    response = snow_admin.head("/api/now/table/incident", params={"sysparm_limit": "1"})
    assert response.status_code == 200 and response.content == b""
    assert response.headers["X-Total-Count"] == "48"


def test_method_override_header(snow_admin: httpx.Client) -> None:
    """§1.1: X-http-method-override turns a POST into PATCH / DELETE."""
    sys_id = create(snow_admin, {}).json()["result"]["sys_id"]
    patched = snow_admin.post(f"/api/now/table/incident/{sys_id}", json={"short_description": "o"},
                              headers={"X-http-method-override": "PATCH"})
    assert patched.status_code == 200 and patched.json()["result"]["short_description"] == "o"
    deleted = snow_admin.post(f"/api/now/table/incident/{sys_id}",
                              headers={"X-http-method-override": "DELETE"})
    assert deleted.status_code == 204


def test_no_response_body_header(snow_admin: httpx.Client) -> None:
    """§1.1: X-no-response-body: true suppresses the body on POST/PATCH."""
    response = create(snow_admin, {}, headers={"X-no-response-body": "true"})
    assert response.status_code == 201 and response.content == b""
    assert "Location" in response.headers
    sys_id = response.headers["Location"].rsplit("/", 1)[1]
    patched = snow_admin.patch(f"/api/now/table/incident/{sys_id}", json={"impact": "2"},
                               headers={"X-no-response-body": "true"})
    assert patched.status_code == 200 and patched.content == b""


def test_array_body_processes_only_the_first_record(snow_admin: httpx.Client) -> None:
    """§1.1: POST of several records processes only the first."""
    response = snow_admin.post("/api/now/table/incident",
                               json=[{"short_description": "first"}, {"short_description": "2nd"}])
    assert response.status_code == 201
    assert response.json()["result"]["short_description"] == "first"
    listed = snow_admin.get("/api/now/table/incident", params={"sysparm_offset": "48"})
    assert [r["short_description"] for r in listed.json()["result"]] == ["first"]


def test_unknown_and_read_only_body_fields_are_ignored(snow_admin: httpx.Client) -> None:
    """§1.1: unknown fields silently ignored; sys_* not writable; wrong types ignored."""
    response = create(snow_admin, {"no_such_field": "x", "sys_created_by": "mallory",
                                   "sys_mod_count": "99", "impact": "abc",
                                   "short_description": "ok", "urgency": {"nested": 1}})
    assert response.status_code == 201
    record = response.json()["result"]
    assert "no_such_field" not in record
    assert (record["sys_created_by"], record["sys_mod_count"], record["impact"],
            record["urgency"]) == ("admin", "0", "3", "3")


def test_empty_string_clears_a_field(snow_admin: httpx.Client) -> None:
    """§1.1: send "" to clear a field; §1.4 empty reads back as ""."""
    sys_id = create(snow_admin, {"description": "d", "assigned_to": ADMIN}).json()["result"][
        "sys_id"]
    record = snow_admin.patch(f"/api/now/table/incident/{sys_id}",
                              json={"description": "", "assigned_to": ""}).json()["result"]
    assert (record["description"], record["assigned_to"]) == ("", "")


# -- §1.4 wire values -----------------------------------------------------------------------

def test_raw_values_are_strings_and_references_are_objects(snow_admin: httpx.Client) -> None:
    """§1.4 / §10.1: every scalar a string; filled reference {link,value}; empty reference "";
    sys_domain links to sys_user_group/global; link uses the request's API version."""
    record = snow_admin.get(f"/api/now/v2/table/incident/{INC1}").json()["result"]
    assert all(isinstance(v, str | dict) for v in record.values())
    assert record["impact"] == "1" and record["active"] == "true"
    assert record["rfc"] == ""
    group = record["assignment_group"]
    assert set(group) == {"link", "value"}
    assert group["link"] == f"{BASE}/api/now/v2/table/sys_user_group/{group['value']}"
    assert record["sys_domain"] == {"link": f"{BASE}/api/now/v2/table/sys_user_group/global",
                                    "value": "global"}
    v1 = snow_admin.get(f"/api/now/v1/table/incident/{INC1}").json()["result"]
    assert v1["caller_id"]["link"].startswith(f"{BASE}/api/now/v1/table/sys_user/")


def test_exclude_reference_link(snow_admin: httpx.Client) -> None:
    """§1.4: sysparm_exclude_reference_link=true -> plain sys_id."""
    record = snow_admin.get(f"/api/now/table/incident/{INC1}",
                            params={"sysparm_exclude_reference_link": "true"}).json()["result"]
    assert re.fullmatch(r"[0-9a-f]{32}", record["caller_id"])


def test_display_value_true_shapes(snow_admin: httpx.Client) -> None:
    """§1.4: labels for choices, {display_value, link} for references, null for an empty
    choice, UNKNOWN for empty due dates, class label, dates in the user's time zone."""
    record = snow_admin.get(f"/api/now/table/incident/{INC1}",
                            params={"sysparm_display_value": "true"}).json()["result"]
    raw = snow_admin.get(f"/api/now/table/incident/{INC1}").json()["result"]
    assert record["state"] == "In Progress"
    assert record["priority"] == "1 - Critical"
    assert record["category"] == "Network"
    assert record["notify"] == "Do Not Notify"
    assert record["approval"] == "Not Yet Requested"
    assert record["escalation"] == "Normal"
    assert record["sys_class_name"] == "Incident"
    assert record["caller_id"] == {"display_value": "Joe Employee",
                                   "link": raw["caller_id"]["link"]}
    assert record["close_code"] is None
    assert record["activity_due"] == "UNKNOWN" and record["sla_due"] == "UNKNOWN"
    # Admin has no time zone: the system zone (America/Los_Angeles, UTC-7 in June).
    assert raw["sys_created_on"] == "2026-06-27 23:07:30"
    assert record["sys_created_on"] == "2026-06-27 16:07:30"


def test_display_value_all_shapes(snow_admin: httpx.Client) -> None:
    """§1.4: all -> {display_value, value[, link]}; empty choice {null, ""}."""
    record = snow_admin.get(f"/api/now/table/incident/{INC1}",
                            params={"sysparm_display_value": "all"}).json()["result"]
    assert record["state"] == {"display_value": "In Progress", "value": "2"}
    assert record["close_code"] == {"display_value": None, "value": ""}
    caller = record["caller_id"]
    assert set(caller) == {"display_value", "value", "link"}
    assert caller["display_value"] == "Joe Employee"
    excluded = snow_admin.get(f"/api/now/table/incident/{INC1}", params={
        "sysparm_display_value": "all", "sysparm_exclude_reference_link": "true"}).json()
    assert set(excluded["result"]["caller_id"]) == {"display_value", "value"}


def test_sysparm_fields_with_dot_walk_and_unknown_names(snow_admin: httpx.Client) -> None:
    """§1.2: comma list, dot-walking keys appear literally, invalid names ignored,
    sys_id not auto-added."""
    record = snow_admin.get(f"/api/now/table/incident/{INC1}", params={
        "sysparm_fields": "number,caller_id.name,caller_id.department.name,nope,nope.x"}).json()
    assert record["result"] == {"number": "INC0000003", "caller_id.name": "Joe Employee",
                                "caller_id.department.name": "Finance"}


def test_journal_fields_read_empty_raw_and_history_in_display(snow_admin: httpx.Client) -> None:
    """§1.4: work_notes/comments read "" raw; display renders history blocks, newest first."""
    sys_id = create(snow_admin, {"work_notes": "first note"}).json()["result"]["sys_id"]
    snow_admin.post("/_emulator/clock", json={"action": "advance", "seconds": 60})
    snow_admin.patch(f"/api/now/table/incident/{sys_id}", json={"work_notes": "second note",
                                                                "comments": "hello caller"})
    raw = snow_admin.get(f"/api/now/table/incident/{sys_id}").json()["result"]
    assert raw["work_notes"] == "" and raw["comments"] == ""
    shown = snow_admin.get(f"/api/now/table/incident/{sys_id}",
                           params={"sysparm_display_value": "true",
                                   "sysparm_fields": "work_notes,comments"}).json()["result"]
    blocks = shown["work_notes"].split("\n\n")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - System Administrator \(Work notes\)"
                        r"\nsecond note", blocks[0])
    assert blocks[1].endswith("(Work notes)\nfirst note")
    assert shown["comments"].endswith("(Additional comments)\nhello caller\n\n")


def test_input_display_value_accepts_labels_and_names(snow_admin: httpx.Client) -> None:
    """§1.2: sysparm_input_display_value=true: reference by display name, choice by label."""
    response = snow_admin.post("/api/now/table/incident",
                               params={"sysparm_input_display_value": "true"},
                               json={"caller_id": "Abel Tuter", "category": "Network"})
    record = response.json()["result"]
    assert record["caller_id"]["value"] == "62826bf03710200044e0bfc8bcbe5df1"
    assert record["category"] == "network"


# -- §7.3 incident state model --------------------------------------------------------------

@pytest.mark.parametrize(("body", "missing"), [
    ({"state": "6"}, "Resolution code, Close notes"),
    ({"state": "7", "close_notes": "done"}, "Resolution code"),
    ({"state": "6", "close_code": "Not a real code", "close_notes": "x"}, "Resolution code"),
    ({"state": "6", "close_code": "Duplicate"}, "Close notes"),
])
def test_resolve_close_data_policy(snow_admin: httpx.Client, body: dict[str, str],
                                   missing: str) -> None:
    """§7.3 / §1.5: 403 Operation Failed, Data Policy Exception with the mandatory fields;
    an invalid close_code counts as empty."""
    sys_id = create(snow_admin, {}).json()["result"]["sys_id"]
    error = envelope(snow_admin.patch(f"/api/now/table/incident/{sys_id}", json=body), 403)
    assert error == {"message": "Operation Failed",
                     "detail": f"Data Policy Exception: \n\tThe following fields are mandatory: "
                               f"{missing}"}
    unchanged = snow_admin.get(f"/api/now/table/incident/{sys_id}").json()["result"]
    assert unchanged["state"] == "1" and unchanged["sys_mod_count"] == "0"


def test_resolve_keeps_active_and_close_flips_it(snow_admin: httpx.Client) -> None:
    """§7.3: Resolved keeps active true and stamps resolved_*; Closed sets active false and
    closed_*."""
    sys_id = create(snow_admin, {}).json()["result"]["sys_id"]
    resolved = snow_admin.patch(f"/api/now/table/incident/{sys_id}", json={
        "state": "6", "close_code": "Solution provided", "close_notes": "fixed"}).json()["result"]
    assert (resolved["state"], resolved["incident_state"], resolved["active"]) == (
        "6", "6", "true")
    assert resolved["resolved_by"]["value"] == ADMIN and resolved["resolved_at"]
    closed = snow_admin.patch(f"/api/now/table/incident/{sys_id}",
                              json={"state": "7"}).json()["result"]
    assert (closed["state"], closed["active"]) == ("7", "false")
    assert closed["closed_at"] and closed["closed_by"]["value"] == ADMIN


# -- §7.4 change transitions ----------------------------------------------------------------

def test_change_state_transitions(snow_admin: httpx.Client) -> None:
    """§7.4: legal steps pass; an illegal jump is a 403 business-rule abort."""
    change = create(snow_admin, {"short_description": "c"}, "/api/now/table/change_request")
    sys_id = change.json()["result"]["sys_id"]
    assert change.json()["result"]["state"] == "-5"
    path = f"/api/now/table/change_request/{sys_id}"
    for state in ("-4", "-3"):
        assert snow_admin.patch(path, json={"state": state}).status_code == 200
    error = envelope(snow_admin.patch(path, json={"state": "-1"}), 403)
    assert error["message"] == "Operation Failed"
    assert error["detail"].startswith(
        "Operation against file 'change_request' was aborted by Business Rule "
        "'Change Model: Check State Transition^")
    assert error["detail"].endswith("Business Rule Stack:Change Model: Check State Transition")
    for state in ("-2", "-1", "0", "3"):
        assert snow_admin.patch(path, json={"state": state}).status_code == 200
    record = snow_admin.get(path).json()["result"]
    assert (record["state"], record["active"]) == ("3", "false")
    assert envelope(snow_admin.patch(path, json={"state": "4"}), 403)["message"] == (
        "Operation Failed")


def test_standard_change_skips_assess_and_authorize(snow_admin: httpx.Client) -> None:
    """§7.4: standard changes go New -> Scheduled; Assess is refused."""
    sys_id = create(snow_admin, {"type": "standard"}, "/api/now/table/change_request").json()[
        "result"]["sys_id"]
    path = f"/api/now/table/change_request/{sys_id}"
    assert snow_admin.patch(path, json={"state": "-4"}).status_code == 403
    assert snow_admin.patch(path, json={"state": "-2"}).status_code == 200


def test_created_record_is_on_disk(snow_app: Flask, snow_admin: httpx.Client) -> None:
    """ARCHITECTURE §5: a 201 means the row is committed (visible to another connection)."""
    sys_id = create(snow_admin, {"short_description": "durable"}).json()["result"]["sys_id"]
    db = snow_app.extensions["mock_servicenow"].instance.connect()
    try:
        row = db.execute("SELECT short_description FROM task WHERE sys_id = ?", [sys_id]).fetchone()
    finally:
        db.close()
    assert row == ("durable",)


def test_post_with_sysparm_fields_keeps_location(snow_admin: httpx.Client) -> None:
    """§1.1-1.2: Location names the new record even when sysparm_fields omits sys_id, and
    the body holds only the requested fields."""
    response = create(snow_admin, {"short_description": "f"},
                      params={"sysparm_fields": "number,short_description"})
    assert response.status_code == 201
    assert response.json()["result"] == {"number": "INC0010001", "short_description": "f"}
    followed = snow_admin.get(response.headers["Location"]).json()["result"]
    assert followed["number"] == "INC0010001"


def test_journal_entries_are_rows_of_sys_journal_field(snow_admin: httpx.Client) -> None:
    """§1.4: entries live in sys_journal_field (element, element_id, name, value)."""
    sys_id = create(snow_admin, {"comments": "visible to the caller"}).json()["result"]["sys_id"]
    entries = snow_admin.get("/api/now/table/sys_journal_field", params={
        "sysparm_query": f"element_id={sys_id}",
        "sysparm_fields": "name,element,element_id,value,sys_created_by"}).json()["result"]
    assert entries == [{"name": "incident", "element": "comments", "element_id": sys_id,
                        "value": "visible to the caller", "sys_created_by": "admin"}]
    shown = snow_admin.get(f"/api/now/table/task/{sys_id}", params={
        "sysparm_display_value": "true", "sysparm_fields": "comments"}).json()["result"]
    assert shown["comments"].endswith("(Additional comments)\nvisible to the caller\n\n")
