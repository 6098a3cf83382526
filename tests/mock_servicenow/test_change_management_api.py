"""The Change Management API, ``/api/sn_chg_rest/change`` (issue 14 item 6).

Sources: the Change Management API reference (ServiceNowDocs ``change-management-api.md``),
servicenow-behaviour §7.4, and ServiceNow's ChangeCommon / *ChangeProcessSNC script includes
(public copies, cited in ``mock_servicenow/domain/change``).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_servicenow.app import create_app
from mock_servicenow.dictionary.records import stable_sys_id
from mock_servicenow.settings import Settings
from tests.mock_servicenow.table_api_helpers import client_as, envelope, set_password

API = "/api/sn_chg_rest/change"
V1 = "/api/sn_chg_rest/v1/change"
CHG1 = "a9e9c33dc61122760072455df62663d2"  # CHG0000001, normal, New
CHG8 = stable_sys_id("change_request", "CHG0000008")  # standard, Scheduled
CHG9 = stable_sys_id("change_request", "CHG0000009")  # emergency, Implement
NETWORK_TEMPLATE = "92b8544047810200e90d87e8dee490b0"
NETWORK_VERSION = "a08e02ec47410200e90d87e8dee4905a"
NETWORK_GROUP = "287ebd7da9fe198100f92cc8d1d2154e"
NOT_FOUND = {"message": "No Record found",
             "detail": "Record doesn't exist or ACL restricts the record retrieval"}
NOT_AUTHORIZED = {"message": "User Not Authorized", "detail": "Failed API level ACL Validation"}


def result(response: httpx.Response, status: int = 200) -> Any:
    """The ``result`` of a successful answer, after checking its status and content type."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    return response.json()["result"]


def values(record: dict[str, Any], *names: str) -> dict[str, Any]:
    """``{name: record[name]["value"]}``."""
    return {name: record[name]["value"] for name in names}


# -- the answer shape ------------------------------------------------------------------------

def test_get_change_every_field_is_display_and_value(snow_admin: httpx.Client) -> None:
    """ChangeCommon.toJS: {display_value, value}; booleans and integers typed; dates add
    display_value_internal; sys_mod_count left out; an object, not a list."""
    change = result(snow_admin.get(f"{API}/{CHG1}"))
    assert isinstance(change, dict)
    assert change["number"] == {"display_value": "CHG0000001", "value": "CHG0000001"}
    assert change["sys_id"] == {"display_value": CHG1, "value": CHG1}
    assert change["state"] == {"display_value": "New", "value": -5}
    assert change["type"] == {"display_value": "Normal", "value": "normal"}
    assert change["active"] == {"display_value": "true", "value": True}
    assert change["impact"] == {"display_value": "3 - Low", "value": 3}
    assert change["sys_class_name"]["display_value"] == "Change Request"
    created = change["sys_created_on"]
    assert set(created) == {"display_value", "value", "display_value_internal"}
    # The admin's time zone is the instance's (America/Los_Angeles): 7 or 8 hours behind UTC.
    assert created["display_value_internal"] == created["display_value"] != created["value"]
    assert change["sla_due"] == {"display_value": "UNKNOWN", "value": "",
                                 "display_value_internal": ""}
    assert change["closed_by"] == {"display_value": "", "value": ""}
    assert change["close_code"] == {"display_value": "", "value": ""}
    assert "sys_mod_count" not in change
    assert all({"display_value", "value"} <= set(field) for field in change.values())
    assert result(snow_admin.get(f"{V1}/{CHG1}")) == change


def test_typed_paths_find_only_their_type(snow_admin: httpx.Client) -> None:
    """findById adds type=<type>: a change of another type is 404 like a missing one."""
    assert result(snow_admin.get(f"{API}/normal/{CHG1}"))["number"]["value"] == "CHG0000001"
    assert result(snow_admin.get(f"{V1}/standard/{CHG8}"))["type"]["value"] == "standard"
    assert result(snow_admin.get(f"{API}/emergency/{CHG9}"))["type"]["value"] == "emergency"
    for path in (f"{API}/emergency/{CHG1}", f"{API}/standard/{CHG1}", f"{V1}/normal/{CHG8}",
                 f"{API}/{'0' * 32}", f"{API}/not-a-sys-id"):
        assert envelope(snow_admin.get(path), 404) == NOT_FOUND
    assert envelope(snow_admin.patch(f"{API}/standard/{CHG1}", json={}), 404) == NOT_FOUND
    assert envelope(snow_admin.delete(f"{API}/emergency/{CHG1}"), 404) == NOT_FOUND


# -- lists -----------------------------------------------------------------------------------

def numbers(records: list[dict[str, Any]]) -> list[str]:
    return [r["number"]["value"] for r in records]


def test_list_changes_query_pairs_order_and_paging(snow_admin: httpx.Client) -> None:
    """sysparm_query, else name-value pairs; order (default number); limit and offset."""
    every = result(snow_admin.get(API))
    assert numbers(every) == [f"CHG{n:07d}" for n in range(1, 15)]
    assert numbers(result(snow_admin.get(API, params={"state": "Closed"}))) == [
        "CHG0000003", "CHG0000011", "CHG0000012"]
    # sysparm_query wins: the name-value pair is not applied.
    both = {"sysparm_query": "number=CHG0000002", "number": "CHG0000001"}
    assert numbers(result(snow_admin.get(API, params=both))) == ["CHG0000002"]
    page = {"sysparm_limit": "3", "sysparm_offset": "2"}
    assert numbers(result(snow_admin.get(API, params=page))) == [
        "CHG0000003", "CHG0000004", "CHG0000005"]
    ordered = result(snow_admin.get(API, params={"order": "short_description",
                                                 "sysparm_limit": "2"}))
    assert [r["short_description"]["value"] for r in ordered] == [
        "Add a VLAN for the new conference rooms", "Apply monthly Windows security patches"]
    by_query = result(snow_admin.get(API, params={"sysparm_query": "ORDERBYDESCnumber",
                                                  "sysparm_limit": "1"}))
    assert numbers(by_query) == ["CHG0000014"]
    # Unknown fields are ignored, as in every query (§1.2); an empty page is 200 [].
    assert len(result(snow_admin.get(API, params={"no_such_field": "x"}))) == 14
    assert result(snow_admin.get(API, params={"number": "CHG9999999"})) == []


def test_typed_lists_keep_active_changes_of_the_type(snow_admin: httpx.Client) -> None:
    """findAll: addActiveQuery + type (CHG0000012, a closed standard change, is left out)."""
    assert numbers(result(snow_admin.get(f"{API}/normal"))) == [
        "CHG0000001", "CHG0000004", "CHG0000005", "CHG0000006", "CHG0000007", "CHG0000010",
        "CHG0000014"]
    assert numbers(result(snow_admin.get(f"{V1}/standard"))) == ["CHG0000008"]
    assert numbers(result(snow_admin.get(f"{API}/emergency"))) == ["CHG0000009"]


def test_text_search_needs_every_word(snow_admin: httpx.Client) -> None:
    """textSearch: IR_AND_QUERY over the text fields."""
    assert numbers(result(snow_admin.get(API, params={"textSearch": "oracle"}))) == [
        "CHG0000001", "CHG0000004"]
    assert numbers(result(snow_admin.get(API, params={"textSearch": "Oracle rollback"}))) == [
        "CHG0000001"]
    assert result(snow_admin.get(f"{API}/normal", params={"textSearch": "VLAN"})) == []


# -- creating changes ------------------------------------------------------------------------

def test_create_normal_and_emergency_from_query_and_body(snow_admin: httpx.Client) -> None:
    """The reference's example: fields in the URL, an unknown one ignored; the body wins."""
    created = result(snow_admin.post(
        f"{V1}/normal?no_such_field=something&description=test&short_description=Remove server"))
    assert values(created, "type", "state", "short_description", "description", "approval") == {
        "type": "normal", "state": -5, "short_description": "Remove server",
        "description": "test", "approval": "not requested"}
    assert created["number"]["value"] == "CHG0030001"
    assert created["__meta"] == {"ignoredFields": ["no_such_field"]}
    emergency = result(snow_admin.post(f"{API}/emergency?short_description=from the URL",
                                       json={"short_description": "from the body",
                                             "assignment_group": "Network",
                                             "impact": "1 - High", "risk": "high",
                                             "number": "CHG1234567"}))
    assert values(emergency, "type", "short_description", "assignment_group", "impact",
                  "risk") == {"type": "emergency", "short_description": "from the body",
                              "assignment_group": NETWORK_GROUP, "impact": 1, "risk": 2}
    assert emergency["assignment_group"]["display_value"] == "Network"
    # number is read-only: ignored, and the change is numbered.
    assert emergency["__meta"] == {"ignoredFields": ["number"]}
    assert emergency["number"]["value"] == "CHG0030002"


def test_create_change_takes_the_type_from_the_request(snow_admin: httpx.Client) -> None:
    """POST /change: the type given (as a value or a label), else normal."""
    assert result(snow_admin.post(API, json={"type": "Emergency"}))["type"]["value"] == (
        "emergency")
    assert result(snow_admin.post(f"{API}?type=standard", json={}))["type"]["value"] == (
        "standard")
    assert result(snow_admin.post(API))["type"] == {"display_value": "Normal",
                                                    "value": "normal"}


def test_standard_change_from_a_template(snow_admin: httpx.Client) -> None:
    """The template's values and current version; description and plans cannot be set."""
    created = result(snow_admin.post(
        f"{API}/standard/{NETWORK_TEMPLATE}",
        json={"short_description": "Rack sw-42", "description": "mine", "test_plan": "none",
              "no_such_field": 1}))
    assert values(created, "type", "state", "approval", "short_description",
                  "std_change_producer_version") == {
        "type": "standard", "state": -5, "approval": "approved",
        "short_description": "Rack sw-42", "std_change_producer_version": NETWORK_VERSION}
    assert created["std_change_producer_version"]["display_value"] == (
        "Add network switch to datacenter cabinet - 1")
    assert created["description"]["value"] == (
        "This standard change template describes adding a new network switch to a datacenter "
        "cabinet")
    assert created["test_plan"]["value"].startswith("-- Run connectivity tests")
    assert created["implementation_plan"]["value"].startswith(
        "-- Physically rack switch in top of cabinet\r\n")
    assert created["approval_set"]["value"] != ""
    assert created["__meta"] == {"ignoredFields": ["description", "test_plan", "no_such_field"]}
    # std_change_producer_version is the template's to set, not the caller's.
    other = result(snow_admin.post(f"{V1}/standard/{NETWORK_TEMPLATE}",
                                   json={"std_change_producer_version": "x" * 32}))
    assert other["std_change_producer_version"]["value"] == NETWORK_VERSION
    assert other["short_description"]["value"] == "Add network switch to cabinet"
    assert other["__meta"] == {"ignoredFields": ["std_change_producer_version"]}


def test_standard_change_from_a_missing_template_is_404(snow_admin: httpx.Client) -> None:
    assert envelope(snow_admin.post(f"{API}/standard/{'f' * 32}", json={}), 404) == NOT_FOUND
    # A change's sys_id is not a template's.
    assert envelope(snow_admin.post(f"{API}/standard/{CHG1}"), 404) == NOT_FOUND


# -- updates, state transitions, nextstates --------------------------------------------------

TRANSITION_ABORT = (
    "Change Request record could not be updated. Operation against file 'change_request' was "
    "aborted by Business Rule 'Change Model: Check State Transition^"
    "6a8ab5c8c3031000b959fd251eba8f61'. Business Rule Stack:Change Model: Check State "
    "Transition")


def test_patch_moves_state_by_label_or_name_and_refuses_illegal_jumps(
        snow_admin: httpx.Client) -> None:
    """§7.4: state by value, label or lowercase name; an illegal jump is the business rule's
    abort, answered 400 with detail "" (captured sn_chg_rest error shape)."""
    moved = result(snow_admin.patch(f"{API}/{CHG1}?state=assess",
                                    json={"no_such_field": "this will be ignored",
                                          "sys_updated_by": "me"}))
    assert moved["state"] == {"display_value": "Assess", "value": -4}
    assert moved["__meta"] == {"ignoredFields": ["no_such_field", "sys_updated_by"]}
    error = envelope(snow_admin.patch(f"{V1}/normal/{CHG1}", json={"state": "Implement"}), 400)
    assert error == {"message": TRANSITION_ABORT, "detail": ""}
    assert result(snow_admin.get(f"{API}/{CHG1}"))["state"]["value"] == -4
    scheduled = result(snow_admin.patch(f"{API}/normal/{CHG1}", json={"state": "-2"}))
    assert scheduled["state"]["display_value"] == "Scheduled"
    # The body wins over the URL; journal fields take an entry.
    noted = result(snow_admin.patch(f"{API}/{CHG1}?short_description=url",
                                    json={"short_description": "body", "work_notes": "hi"}))
    assert noted["short_description"]["value"] == "body"
    assert "hi" in noted["work_notes"]["display_value"]


@pytest.mark.parametrize(("sys_id", "expected"), [
    (CHG1, {"available_states": ["-4", "4", "-5"],
            "state_label": {"-4": "Assess", "4": "Canceled", "-5": "New"}}),
    (CHG8, {"available_states": ["-1", "4", "-2"],
            "state_label": {"-1": "Implement", "4": "Canceled", "-2": "Scheduled"}}),
    (stable_sys_id("change_request", "CHG0000007"),
     {"available_states": ["-5", "-2", "4", "-3"],
      "state_label": {"-5": "New", "-2": "Scheduled", "4": "Canceled", "-3": "Authorize"}}),
    (stable_sys_id("change_request", "CHG0000003"),
     {"available_states": ["3"], "state_label": {"3": "Closed"}}),
])
def test_nextstates_follow_the_change_model(snow_admin: httpx.Client, sys_id: str,
                                            expected: dict[str, Any]) -> None:
    """The states the model allows (then the current one), labels, one transition each."""
    answer = result(snow_admin.get(f"{API}/{sys_id}/nextstates"))
    assert {k: answer[k] for k in expected} == expected
    current = expected["available_states"][-1]
    transitions = answer["state_transitions"]
    assert [t[0]["to_state"] for t in transitions] == expected["available_states"][:-1]
    for (transition,) in transitions:
        assert transition["from_state"] == current
        assert transition["display_value"] == (
            f"{expected['state_label'][current]} to "
            f"{expected['state_label'][transition['to_state']]}")
        assert transition["transition_available"] is True
        assert transition["automatic_transition"] is False
        assert transition["conditions"] == []
        assert len(transition["sys_id"]) == 32
    assert envelope(snow_admin.get(f"{API}/{'0' * 32}/nextstates"), 404) == NOT_FOUND


STATES = ["-5", "-4", "-3", "-2", "-1", "0", "3", "4"]


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(change_type=st.sampled_from(["normal", "emergency", "standard"]),
       walk=st.lists(st.sampled_from(STATES), min_size=1, max_size=5))
def test_patch_accepts_exactly_the_next_states(snow_admin: httpx.Client, change_type: str,
                                              walk: list[str]) -> None:
    """Property: a PATCH to a state succeeds iff nextstates listed it (or it is the current
    state); a refused one leaves the state as it was."""
    sys_id = result(snow_admin.post(API, json={"type": change_type}))["sys_id"]["value"]
    for target in walk:
        before = result(snow_admin.get(f"{API}/{sys_id}/nextstates"))["available_states"]
        answer = snow_admin.patch(f"{API}/{sys_id}", json={"state": target})
        if target in before:
            assert result(answer)["state"]["value"] == int(target)
        else:
            assert envelope(answer, 400)["message"] == TRANSITION_ABORT
            assert result(snow_admin.get(f"{API}/{sys_id}"))["state"]["value"] == int(
                before[-1])


# -- delete ----------------------------------------------------------------------------------

def test_delete_answers_the_record_then_it_is_gone(snow_admin: httpx.Client) -> None:
    deleted = result(snow_admin.delete(f"{API}/normal/{CHG1}"))
    assert deleted["number"]["value"] == "CHG0000001"
    assert envelope(snow_admin.get(f"{API}/{CHG1}"), 404) == NOT_FOUND
    assert envelope(snow_admin.delete(f"{API}/{CHG1}"), 404) == NOT_FOUND
    assert snow_admin.get(f"/api/now/table/change_request/{CHG1}").status_code == 404


# -- change tasks ----------------------------------------------------------------------------

def test_change_tasks_lifecycle(snow_admin: httpx.Client) -> None:
    """Create (the reference's example), list, get, patch, delete; CTASK numbering."""
    created = result(snow_admin.post(
        f"{API}/{CHG1}/task?short_description=Retire node&no_such_field=test"))
    assert created["number"]["value"] == "CTASK0010001"
    assert created["sys_class_name"]["display_value"] == "Change Task"
    assert created["parent"] == {"display_value": "CHG0000001", "value": CHG1}
    assert created["change_request"] == {"display_value": "CHG0000001", "value": CHG1}
    assert created["__meta"] == {"ignoredFields": ["no_such_field"]}
    task_id = created["sys_id"]["value"]
    second = result(snow_admin.post(f"{V1}/{CHG1}/task", json={"short_description": "Back up"}))
    listed = result(snow_admin.get(f"{API}/{CHG1}/task"))
    assert numbers(listed) == ["CTASK0010001", "CTASK0010002"]
    assert numbers(result(snow_admin.get(f"{API}/{CHG1}/task",
                                         params={"textSearch": "retire"}))) == ["CTASK0010001"]
    assert result(snow_admin.get(f"{API}/{CHG8}/task")) == []
    got = result(snow_admin.get(f"{API}/{CHG1}/task/{task_id}"))
    assert got["short_description"]["value"] == "Retire node"
    patched = result(snow_admin.patch(
        f"{API}/{CHG1}/task/{task_id}?short_description=Retire both nodes",
        json={"state": "In Progress", "no_such_field": "x"}))
    assert values(patched, "short_description", "state") == {
        "short_description": "Retire both nodes", "state": 2}
    assert patched["__meta"] == {"ignoredFields": ["no_such_field"]}
    # A task is found only under its own change.
    for path in (f"{API}/{CHG8}/task/{task_id}", f"{API}/{'0' * 32}/task/{task_id}",
                 f"{API}/{CHG1}/task/{'0' * 32}", f"{API}/{'0' * 32}/task"):
        assert envelope(snow_admin.get(path), 404) == NOT_FOUND
    assert envelope(snow_admin.post(f"{API}/{'0' * 32}/task", json={}), 404) == NOT_FOUND
    assert envelope(snow_admin.delete(f"{API}/{CHG8}/task/{task_id}"), 404) == NOT_FOUND
    deleted = result(snow_admin.delete(f"{API}/{CHG1}/task/{task_id}"))
    assert deleted["number"]["value"] == "CTASK0010001"
    assert numbers(result(snow_admin.get(f"{API}/{CHG1}/task"))) == [second["number"]["value"]]


# -- standard change templates ---------------------------------------------------------------

def test_templates_list_and_get(snow_admin: httpx.Client) -> None:
    """Active, not retired, by name; textSearch in the template's name or short description."""
    templates = result(snow_admin.get(f"{API}/standard/template"))
    assert [t["name"]["value"] for t in templates] == [
        "Add network switch to datacenter cabinet", "Clear BGP sessions on a Cisco router"]
    network = templates[0]
    assert network["sys_id"]["value"] == NETWORK_TEMPLATE
    assert network["template"] == {"display_value": "Add network switch to datacenter cabinet",
                                   "value": "1c8e02ec47410200e90d87e8dee49057"}
    assert network["short_description"]["value"] == (
        "Standard change template to add network switch to cabinet")
    assert network["current_version"]["value"] == NETWORK_VERSION
    found = result(snow_admin.get(f"{V1}/standard/template", params={"textSearch": "BGP"}))
    assert [t["name"]["value"] for t in found] == ["Clear BGP sessions on a Cisco router"]
    assert result(snow_admin.get(f"{API}/standard/template/{NETWORK_TEMPLATE}")) == network
    assert envelope(snow_admin.get(f"{API}/standard/template/{CHG1}"), 404) == NOT_FOUND
    # A retired template leaves the list, and is still readable by sys_id.
    retired = snow_admin.patch(f"/api/now/table/std_change_record_producer/{NETWORK_TEMPLATE}",
                               json={"retired": "true"})
    assert retired.status_code == 200, retired.text
    assert [t["name"]["value"] for t in result(snow_admin.get(f"{API}/standard/template"))] == [
        "Clear BGP sessions on a Cisco router"]
    assert result(snow_admin.get(f"{API}/standard/template/{NETWORK_TEMPLATE}"))


# -- bad input and access --------------------------------------------------------------------

@pytest.mark.parametrize(("content", "content_type", "status"), [
    (b"{broken", "application/json", 400),
    (b"[{\"short_description\": \"x\"}]", "application/json", 400),
    (b"\"text\"", "application/json", 400),
    (b"<xml/>", "application/xml", 415),
    (b"short_description=x", "application/x-www-form-urlencoded", 415),
])
def test_bad_bodies(snow_admin: httpx.Client, content: bytes, content_type: str,
                    status: int) -> None:
    """Not a JSON object: 400 Exception while reading request; another media type: 415."""
    for method, path in (("POST", f"{API}/normal"), ("PATCH", f"{API}/{CHG1}"),
                         ("POST", f"{API}/standard/{NETWORK_TEMPLATE}"),
                         ("POST", f"{API}/{CHG1}/task")):
        error = envelope(snow_admin.request(method, path, content=content,
                                            headers={"Content-Type": content_type}), status)
        if status == 400:
            assert error == {"message": "Exception while reading request",
                             "detail": "The payload is not valid JSON."}
    assert result(snow_admin.get(f"{API}/{CHG1}"))["state"]["value"] == -5
    assert result(snow_admin.get(API, params={"number": "CHG0030001"})) == []


def test_unknown_paths_and_methods(snow_admin: httpx.Client) -> None:
    assert envelope(snow_admin.get("/api/sn_chg_rest/v2/change"), 400)["message"] == (
        "Requested URI does not represent any resource")
    assert envelope(snow_admin.put(f"{API}/{CHG1}", json={}), 405)["message"] == (
        "Method not Supported")


def test_unauthenticated_is_401(snow_client: httpx.Client) -> None:
    response = snow_client.get(API)
    assert envelope(response, 401) == {"message": "User Not Authenticated",
                                       "detail": "Required to provide Auth information"}
    assert response.headers["WWW-Authenticate"] == 'BASIC realm="Service-now"'


def grant(admin: httpx.Client, user_sys_id: str, role: str) -> None:
    role_id = admin.get("/api/now/table/sys_user_role",
                        params={"name": role, "sysparm_fields": "sys_id"}).json()["result"][0]
    answer = admin.post("/api/now/table/sys_user_has_role",
                        json={"user": user_sys_id, "role": role_id["sys_id"]})
    assert answer.status_code == 201, answer.text


def test_roles_per_method(snow_app: Flask, snow_admin: httpx.Client) -> None:
    """GET change_manager/itil/sn_change_read; POST/PATCH change_manager/itil; DELETE
    change_manager; anyone else 403 User Not Authorized."""
    set_password(snow_admin, "abel.tuter", "Abel-pw-1")  # no roles
    abel = client_as(snow_app, "abel.tuter", "Abel-pw-1")
    for method, path in (("GET", API), ("GET", f"{API}/{CHG1}"), ("POST", f"{API}/normal"),
                         ("GET", f"{API}/standard/template"), ("DELETE", f"{API}/{CHG1}")):
        assert envelope(abel.request(method, path), 403) == NOT_AUTHORIZED
    set_password(snow_admin, "itil", "Itil-pw-1")
    itil = client_as(snow_app, "itil", "Itil-pw-1")
    created = result(itil.post(f"{API}/standard/{NETWORK_TEMPLATE}"))
    change_id = created["sys_id"]["value"]
    assert created["opened_by"]["display_value"] == "ITIL User"
    assert result(itil.patch(f"{API}/{change_id}", json={"state": "Scheduled"}))
    assert envelope(itil.delete(f"{API}/{change_id}"), 403) == NOT_AUTHORIZED
    reader_id = set_password(snow_admin, "joe.employee", "Joe-pw-1")
    grant(snow_admin, reader_id, "sn_change_read")
    reader = client_as(snow_app, "joe.employee", "Joe-pw-1")
    assert result(reader.get(f"{API}/{change_id}"))["state"]["value"] == -2
    assert len(result(reader.get(f"{API}/standard/template"))) == 2
    assert envelope(reader.patch(f"{API}/{change_id}", json={}), 403) == NOT_AUTHORIZED
    manager_id = set_password(snow_admin, "don.goodliffe", "Don-pw-1")  # itil, change_manager
    assert manager_id
    manager = client_as(snow_app, "don.goodliffe", "Don-pw-1")
    assert result(manager.delete(f"{API}/{change_id}"))["sys_id"]["value"] == change_id


# -- persistence -----------------------------------------------------------------------------

def test_changes_survive_a_restart(snow_app: Flask, snow_settings: Settings,
                                   snow_admin: httpx.Client) -> None:
    """A change and its task written through the API are on disk: a new app on the same
    database file reads them."""
    created = result(snow_admin.post(f"{API}/standard/{NETWORK_TEMPLATE}",
                                     json={"short_description": "kept"}))
    change_id = created["sys_id"]["value"]
    task_id = result(snow_admin.post(f"{API}/{change_id}/task"))["sys_id"]["value"]
    snow_app.extensions["mock_servicenow"].instance.close()
    again = create_app(snow_settings)
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=again),
                          base_url="https://dev00000.service-now.test",
                          auth=("admin", "admin")) as client:
            read = result(client.get(f"{API}/standard/{change_id}"))
            assert values(read, "short_description", "std_change_producer_version") == {
                "short_description": "kept", "std_change_producer_version": NETWORK_VERSION}
            assert result(client.get(f"{API}/{change_id}/task/{task_id}"))["number"]["value"] == (
                "CTASK0010001")
    finally:
        again.extensions["mock_servicenow"].instance.close()


def test_written_through_the_table_api_too(snow_admin: httpx.Client) -> None:
    """What the Change API writes is a change_request row like any other."""
    created = result(snow_admin.post(f"{API}/emergency", json={"short_description": "both"}))
    row = snow_admin.get(f"/api/now/table/change_request/{created['sys_id']['value']}").json()
    assert {k: row["result"][k] for k in ("number", "type", "state", "short_description")} == {
        "number": created["number"]["value"], "type": "emergency", "state": "-5",
        "short_description": "both"}
