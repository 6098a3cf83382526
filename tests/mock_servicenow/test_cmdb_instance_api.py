"""The CMDB Instance API (issue 14 item 4): the CMDB Instance API page's endpoints, shapes and
samples, the identification engine's observable behaviour on POST, its documented errors, bad
input, access and persistence (docs/platform-apis.md lists the sources)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from flask import Flask

from mock_servicenow.app import create_app
from mock_servicenow.settings import Settings
from tests.mock_servicenow.cmdb_helpers import (
    APACHE01,
    DEPENDS_ON,
    EXCHANGES,
    FILE_SERVER1,
    INSTANCE,
    LINUX,
    LINUX_APP01,
    ORA01,
    RUNS_ON,
    count,
    create,
    created,
    targets,
)
from tests.mock_servicenow.table_api_helpers import client_as, envelope, set_password

BASE = "https://dev00000.service-now.test"
NO_SOURCE = ("INVALID_INPUT_DATA: In payload no data source exist. You need to provide choice "
             "value from choice field [discovery_source] in table [cmdb_ci]")
EXCEPTION_DETAIL = (" Check logs for error trace or enable glide.rest.debug property to verify "
                    "REST request processing")


def invalid_source(source: str) -> str:
    return (f"INVALID_INPUT_DATA: In payload invalid data source [{source}] exist. You need to "
            "provide a valid choice value from field [discovery_source] in table [cmdb_ci]")


def exception(reason: str) -> dict[str, str]:
    message = f"Exception while executing request: {reason}"
    return {"message": message, "detail": message + EXCEPTION_DETAIL}


# -- listing ---------------------------------------------------------------------------------

def test_list_answers_sys_id_and_name_of_the_class_and_its_subclasses(
        snow_admin: httpx.Client) -> None:
    response = snow_admin.get(LINUX)
    assert response.status_code == 200
    result = response.json()["result"]
    assert {"sys_id": LINUX_APP01, "name": "PS LinuxApp01"} in result
    assert all(list(ci) == ["sys_id", "name"] for ci in result)
    assert FILE_SERVER1 not in {ci["sys_id"] for ci in result}  # a Windows server
    servers = {ci["sys_id"] for ci in snow_admin.get(f"{INSTANCE}/cmdb_ci_server").json()["result"]}
    assert {LINUX_APP01, FILE_SERVER1} <= servers
    # No X-Total-Count nor Link: servicenow.itsm's generic client pages until an empty page.
    assert "x-total-count" not in response.headers and "link" not in response.headers


def test_list_filters_and_pages(snow_admin: httpx.Client) -> None:
    everything = snow_admin.get(LINUX, params={"sysparm_query": "ORDERBYname"}).json()["result"]
    names = [ci["name"] for ci in everything]
    assert names == sorted(names) and len(names) >= 6
    query = {"sysparm_query": "nameSTARTSWITHPS^ORDERBYname"}
    assert [ci["name"] for ci in snow_admin.get(LINUX, params=query).json()["result"]] == [
        "PS LinuxApp01", "PS LinuxApp02"]
    page = snow_admin.get(LINUX, params={"sysparm_query": "ORDERBYname", "sysparm_limit": "2",
                                         "sysparm_offset": "2"}).json()["result"]
    assert [ci["name"] for ci in page] == names[2:4]
    # Bad numbers are tolerated as the Table API tolerates them (§1.2).
    tolerant = snow_admin.get(LINUX, params={"sysparm_query": "ORDERBYname",
                                             "sysparm_limit": "x", "sysparm_offset": "-4"})
    assert [ci["name"] for ci in tolerant.json()["result"]] == names
    empty = snow_admin.get(LINUX, params={"sysparm_query": "name=nothing such"})
    assert empty.status_code == 200 and empty.json() == {"result": []}


def test_versioned_paths_and_unknown_versions(snow_admin: httpx.Client) -> None:
    assert snow_admin.get("/api/now/v1/cmdb/instance/cmdb_ci_linux_server").status_code == 200
    unknown = snow_admin.get("/api/now/v2/cmdb/instance/cmdb_ci_linux_server")
    assert envelope(unknown, 400)["message"] == "Requested URI does not represent any resource"


# -- reading one CI --------------------------------------------------------------------------

def test_get_answers_attributes_and_relations_as_documented(snow_admin: httpx.Client) -> None:
    response = snow_admin.get(f"{LINUX}/{LINUX_APP01}")
    assert response.status_code == 200
    ci = response.json()["result"]
    assert list(ci) == ["outbound_relations", "attributes", "inbound_relations"]
    attributes = ci["attributes"]
    assert attributes["name"] == "PS LinuxApp01"
    assert attributes["sys_class_name"] == "cmdb_ci_linux_server"
    assert attributes["install_status"] == "1" and attributes["used_for"] == "Production"
    assert attributes["kernel_release"] == ""  # the class's own field, empty
    assert attributes["managed_by"] == {
        "display_value": "Lynda Caraway",
        "link": f"{BASE}/api/now/table/sys_user/8a826bf03710200044e0bfc8bcbe5d72",
        "value": "8a826bf03710200044e0bfc8bcbe5d72"}
    assert attributes["assigned_to"] == ""  # an empty reference
    assert targets(ci["outbound_relations"]) == [
        ("Depends on::Used by", "PS ORA01"),
        ("Exchanges data with::Exchanges data with", "PS ORA01")]
    first = ci["outbound_relations"][0]
    assert first == {
        "sys_id": "3a62e64ac0a8ce0100aead1e3fd5439f",
        "type": {"display_value": "Depends on::Used by",
                 "link": f"{BASE}/api/now/table/cmdb_rel_type/{DEPENDS_ON}",
                 "value": DEPENDS_ON},
        "target": {"display_value": "PS ORA01",
                   "link": f"{BASE}/api/now/cmdb/instance/cmdb_ci/{ORA01}", "value": ORA01}}
    assert targets(ci["inbound_relations"]) == [
        ("Depends on::Used by", "PS Apache01"), ("Depends on::Used by", "PS Apache02"),
        ("Depends on::Used by", "PS Apache03")]


def test_versioned_get_links_carry_the_version(snow_admin: httpx.Client) -> None:
    ci = snow_admin.get(f"/api/now/v1/cmdb/instance/cmdb_ci_linux_server/{LINUX_APP01}")
    relation = ci.json()["result"]["outbound_relations"][0]
    assert relation["target"]["link"] == f"{BASE}/api/now/v1/cmdb/instance/cmdb_ci/{ORA01}"
    assert relation["type"]["link"].startswith(f"{BASE}/api/now/v1/table/cmdb_rel_type/")


def test_get_through_a_parent_class_shows_that_class_s_attributes(
        snow_admin: httpx.Client) -> None:
    ci = snow_admin.get(f"{INSTANCE}/cmdb_ci/{LINUX_APP01}").json()["result"]
    assert ci["attributes"]["name"] == "PS LinuxApp01"
    assert "kernel_release" not in ci["attributes"]  # a Linux server's own field
    assert len(ci["outbound_relations"]) == 2


@pytest.mark.parametrize("path", [
    f"{INSTANCE}/cmdb_ci_win_server/{LINUX_APP01}",  # a record of another class
    f"{LINUX}/{'0' * 32}",
    f"{LINUX}/not-a-sys-id",
])
def test_get_of_a_ci_not_in_the_class_is_404(snow_admin: httpx.Client, path: str) -> None:
    assert envelope(snow_admin.get(path), 404) == {
        "message": "No Record found",
        "detail": "Record doesn't exist or ACL restricts the record retrieval"}


@pytest.mark.parametrize(("cls", "detail"), [
    ("cmdb_ci_no_such_class", None),
    ("incident", "incident is not a CMDB class (a table extending cmdb)"),
    ("cmdb_rel_ci", "cmdb_rel_ci is not a CMDB class (a table extending cmdb)"),
])
def test_unknown_and_non_cmdb_classes_are_400(snow_admin: httpx.Client, cls: str,
                                              detail: str | None) -> None:
    for response in (snow_admin.get(f"{INSTANCE}/{cls}"),
                     snow_admin.get(f"{INSTANCE}/{cls}/{LINUX_APP01}"),
                     create(snow_admin, {"name": "x"}, cls=cls),
                     snow_admin.patch(f"{INSTANCE}/{cls}/{LINUX_APP01}",
                                      json={"attributes": {}, "source": "ServiceNow"}),
                     snow_admin.post(f"{INSTANCE}/{cls}/{LINUX_APP01}/relation",
                                     json={"source": "ServiceNow"}),
                     snow_admin.delete(f"{INSTANCE}/{cls}/{LINUX_APP01}/relation/{'1' * 32}")):
        assert envelope(response, 400) == {"message": f"Invalid table {cls}", "detail": detail}


# -- creating a CI ---------------------------------------------------------------------------

def test_post_creates_the_documented_sample_with_its_relations(snow_admin: httpx.Client) -> None:
    """The POST sample of the CMDB Instance API page, relations by sys_id (and one type by
    name, as the identification engine takes them)."""
    response = create(snow_admin, {"name": "lnux999", "firewall_status": "Intranet"},
                      outbound_relations=[{"type": DEPENDS_ON, "target": ORA01},
                                          {"type": EXCHANGES, "target": ORA01}],
                      inbound_relations=[{"type": "Depends on::Used by", "target": APACHE01}])
    assert response.status_code == 201, response.text
    ci = response.json()["result"]
    attributes = ci["attributes"]
    assert attributes["name"] == "lnux999" and attributes["firewall_status"] == "Intranet"
    assert attributes["sys_class_name"] == "cmdb_ci_linux_server"
    assert attributes["discovery_source"] == "ServiceNow"
    assert attributes["first_discovered"] == attributes["last_discovered"] == \
        attributes["sys_created_on"]
    assert targets(ci["outbound_relations"]) == [
        ("Depends on::Used by", "PS ORA01"),
        ("Exchanges data with::Exchanges data with", "PS ORA01")]
    assert targets(ci["inbound_relations"]) == [("Depends on::Used by", "PS Apache01")]
    sys_id = attributes["sys_id"]
    # Stored as ordinary records: the Table API sees the CI and its cmdb_rel_ci rows.
    row = snow_admin.get(f"/api/now/table/cmdb_ci/{sys_id}").json()["result"]
    assert row["sys_class_name"] == "cmdb_ci_linux_server"
    assert count(snow_admin, "cmdb_rel_ci", f"parent={sys_id}^ORchild={sys_id}") == 3
    assert snow_admin.get(f"{LINUX}/{sys_id}").json()["result"] == ci


def test_post_identifies_an_existing_ci_by_name_instead_of_duplicating_it(
        snow_admin: httpx.Client) -> None:
    first = created(snow_admin, {"name": "lnux-ire", "os": "Linux"})
    again = created(snow_admin, {"name": "lnux-ire", "os_version": "9.3"}, source="Manual Entry")
    assert again["attributes"]["sys_id"] == first["attributes"]["sys_id"]
    assert again["attributes"]["os"] == "Linux" and again["attributes"]["os_version"] == "9.3"
    assert again["attributes"]["discovery_source"] == "Manual Entry"
    assert again["attributes"]["first_discovered"] == first["attributes"]["first_discovered"]
    assert count(snow_admin, "cmdb_ci", "name=lnux-ire") == 1
    # The demo CI of the page's samples is found the same way.
    demo = created(snow_admin, {"name": "PS LinuxApp01", "cpu_count": "4"})
    assert demo["attributes"]["sys_id"] == LINUX_APP01
    assert len(demo["outbound_relations"]) == 2


def test_serial_number_comes_first_then_name(snow_admin: httpx.Client) -> None:
    """class-hardware.md: "IRE looks first for the Serial Number. Then, if a Serial Number is
    not found, IRE falls back to using Name"."""
    by_serial = created(snow_admin, {"name": "host-a", "serial_number": "SN-1"})
    renamed = created(snow_admin, {"name": "host-b", "serial_number": "SN-1"})
    assert renamed["attributes"]["sys_id"] == by_serial["attributes"]["sys_id"]
    assert renamed["attributes"]["name"] == "host-b"
    by_name = created(snow_admin, {"name": "host-b", "serial_number": "SN-2"})
    assert by_name["attributes"]["sys_id"] == by_serial["attributes"]["sys_id"]
    assert by_name["attributes"]["serial_number"] == "SN-2"
    fresh = created(snow_admin, {"name": "host-c", "serial_number": "SN-3"})
    assert fresh["attributes"]["sys_id"] != by_serial["attributes"]["sys_id"]


def test_identification_spans_the_hardware_rule_s_classes(snow_admin: httpx.Client) -> None:
    """The Hardware Rule applies to cmdb_ci_hardware and is derived by its subclasses: a
    server posted by the name of a Linux server is that Linux server (its class kept)."""
    ci = created(snow_admin, {"name": "PS LinuxApp02", "ram": "4096"}, cls="cmdb_ci_server")
    assert ci["attributes"]["sys_id"] == "3a5dd3dbc0a8ce0100655f1ec66ed42c"
    assert ci["attributes"]["sys_class_name"] == "cmdb_ci_linux_server"
    # A Linux server posted by the name of a Windows server would have to change its class.
    refused = create(snow_admin, {"name": "FileServerFloor1"})
    assert envelope(refused, 400) == {
        "message": "Reclassification not allowed",
        "detail": "RECLASSIFICATION_NOT_ALLOWED: CI Reclassification not allowed from class: "
                  "[cmdb_ci_win_server] to [cmdb_ci_linux_server]"}


def test_identification_needs_the_rule_s_attributes(snow_admin: httpx.Client) -> None:
    response = create(snow_admin, {"os": "Linux"})
    assert envelope(response, 400) == {
        "message": "Missing matching attributes",
        "detail": "MISSING_MATCHING_ATTRIBUTES: In payload missing minimum set of input values "
                  "for criterion (matching) attributes from identify rule for table "
                  "[cmdb_ci_linux_server]. Add these input values in payload item "
                  "'{\"className\":\"cmdb_ci_linux_server\",\"values\":{\"os\":\"Linux\"}}'"}


def test_duplicates_already_in_the_cmdb_are_reported(snow_admin: httpx.Client) -> None:
    for _ in range(2):  # the Table API does not identify: two CIs of one name
        made = snow_admin.post("/api/now/table/cmdb_ci_linux_server", json={"name": "twin"})
        assert made.status_code == 201
    response = create(snow_admin, {"name": "twin"})
    assert envelope(response, 400) == {
        "message": "Multiple duplicate records",
        "detail": "MULTIPLE_DUPLICATE_RECORDS: Found duplicate records in table "
                  "[cmdb_ci_hardware] using fields [name]"}
    assert count(snow_admin, "cmdb_ci", "name=twin") == 2


def test_classes_without_an_identification_rule_insert(snow_admin: httpx.Client) -> None:
    """No rule is published for applications: each POST inserts (docs/platform-apis.md)."""
    one = created(snow_admin, {"name": "billing"}, cls="cmdb_ci_appl")
    two = created(snow_admin, {"name": "billing"}, cls="cmdb_ci_appl")
    assert one["attributes"]["sys_id"] != two["attributes"]["sys_id"]
    assert created(snow_admin, {}, cls="cmdb_ci_appl")["attributes"]["name"] == ""


def test_a_payload_sys_id_identifies_the_ci(snow_admin: httpx.Client) -> None:
    ci = created(snow_admin, {"sys_id": LINUX_APP01, "name": "PS LinuxApp01 renamed"})
    assert ci["attributes"]["sys_id"] == LINUX_APP01
    assert ci["attributes"]["name"] == "PS LinuxApp01 renamed"
    unknown = create(snow_admin, {"sys_id": "f" * 32, "name": "ghost"})
    assert envelope(unknown, 400)["detail"] == (
        f"INVALID_INPUT_DATA: Found invalid sys_id in payload. No record with sys_id [{'f' * 32}]"
        " exist in table [cmdb_ci_linux_server] or is a duplicate record with [duplicate_of] "
        "field set to a main CI")
    assert count(snow_admin, "cmdb_ci", "name=ghost") == 0


def test_attributes_sys_class_name_chooses_the_class(snow_admin: httpx.Client) -> None:
    """The page's dependent-CI sample posts to cmdb_ci_linux_server a CI whose
    attributes.sys_class_name names another class, and gets a CI of that class."""
    ci = created(snow_admin, {"name": "db-1", "sys_class_name": "cmdb_ci_db_mysql_instance"},
                 depends_on={"outbound_relations": {"target": LINUX_APP01, "type": RUNS_ON}})
    assert ci["attributes"]["sys_class_name"] == "cmdb_ci_db_mysql_instance"
    assert targets(ci["outbound_relations"]) == [("Runs on::Runs", "PS LinuxApp01")]
    unknown = create(snow_admin, {"name": "x", "sys_class_name": "cmdb_ci_nothing"})
    assert envelope(unknown, 400)["message"] == "Invalid table cmdb_ci_nothing"


def test_a_dependent_ci_without_its_target_is_the_documented_exception(
        snow_admin: httpx.Client) -> None:
    """The page: 'what is returned when a sys_id is not passed ... Same result occurs if the
    sys_id is invalid' (a 500 there, a 400 here)."""
    for relation in ({"type": RUNS_ON}, {"type": RUNS_ON, "target": "0" * 32}):
        response = create(snow_admin, {"name": "db-2"}, cls="cmdb_ci_db_mysql_instance",
                          depends_on={"outbound_relations": relation})
        assert envelope(response, 400) == exception("null")
    assert count(snow_admin, "cmdb_ci", "name=db-2") == 0


# -- the source ------------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "detail"), [
    (None, NO_SOURCE),
    ("", NO_SOURCE),
    ("Nonesuch", invalid_source("Nonesuch")),
    ("servicenow", invalid_source("servicenow")),  # matched exactly, case included
    (5, invalid_source("5")),
])
def test_source_must_be_a_discovery_source_choice(snow_admin: httpx.Client, source: object,
                                                  detail: str) -> None:
    body: dict[str, object] = {"attributes": {"name": "sourced"}}
    if source is not None:
        body["source"] = source
    for response in (snow_admin.post(LINUX, json=body),
                     snow_admin.put(f"{LINUX}/{LINUX_APP01}", json=body),
                     snow_admin.patch(f"{LINUX}/{LINUX_APP01}", json=body),
                     snow_admin.post(f"{LINUX}/{LINUX_APP01}/relation", json=body)):
        assert envelope(response, 400) == {"message": "Invalid input data", "detail": detail}
    assert count(snow_admin, "cmdb_ci", "name=sourced") == 0


def test_a_source_added_to_the_choice_list_is_accepted(snow_admin: httpx.Client) -> None:
    """KB0720501's fix: add the choice to cmdb_ci.discovery_source."""
    assert create(snow_admin, {"name": "intune-1"}, source="Intune").status_code == 400
    choice = snow_admin.post("/api/now/table/sys_choice", json={
        "name": "cmdb_ci", "element": "discovery_source", "value": "Intune", "label": "Intune",
        "language": "en"})
    assert choice.status_code == 201, choice.text
    ci = created(snow_admin, {"name": "intune-1"}, source="Intune")
    assert ci["attributes"]["discovery_source"] == "Intune"


# -- bad envelopes and bodies ----------------------------------------------------------------

@pytest.mark.parametrize(("attributes", "reason"), [
    ({"name": "bad", "cpu_count": 8}, "class java.lang.Integer cannot be cast to class "
                                      "java.lang.String"),
    ({"name": "bad", "virtual": True}, "class java.lang.Boolean cannot be cast to class "
                                       "java.lang.String"),
    ({"name": "bad", "disk_space": 1.5}, "class java.lang.Double cannot be cast to class "
                                         "java.lang.String"),
    ({"name": "bad", "ram": 2**40}, "class java.lang.Long cannot be cast to class "
                                    "java.lang.String"),
    ({"name": "bad", "os": {"a": 1}}, "class java.util.LinkedHashMap cannot be cast to class "
                                      "java.lang.String"),
    ({"name": "bad", "os": ["x"]}, "class java.util.ArrayList cannot be cast to class "
                                   "java.lang.String"),
    ("bad", "class java.lang.String cannot be cast to class java.util.Map"),
    ([], "class java.util.ArrayList cannot be cast to class java.util.Map"),
])
def test_attribute_values_must_be_strings(snow_admin: httpx.Client, attributes: object,
                                          reason: str) -> None:
    """Live instances cast every attribute to a String and fail with nothing written."""
    body = {"attributes": attributes, "source": "ServiceNow"}
    assert envelope(snow_admin.post(LINUX, json=body), 400) == exception(reason)
    assert envelope(snow_admin.patch(f"{LINUX}/{LINUX_APP01}", json=body), 400) == \
        exception(reason)
    assert count(snow_admin, "cmdb_ci", "name=bad") == 0


def test_a_body_without_attributes(snow_admin: httpx.Client) -> None:
    """A flat body: 400 for the missing source on POST, the ``"attributes" is null`` exception
    on PATCH and PUT (the order live instances check them in)."""
    flat = {"name": "flat", "source": "ServiceNow"}
    assert envelope(snow_admin.post(LINUX, json={"name": "flat"}), 400)["detail"] == NO_SOURCE
    assert envelope(snow_admin.post(LINUX, json=flat), 400) == exception('"attributes" is null')
    for method in ("PUT", "PATCH"):
        response = snow_admin.request(method, f"{LINUX}/{LINUX_APP01}", json={"name": "flat"})
        assert envelope(response, 400) == exception('"attributes" is null')


@pytest.mark.parametrize(("content", "content_type", "status", "message"), [
    (b"{not json", "application/json", 400, "Exception while reading request"),
    (b"[]", "application/json", 400, "Exception while reading request"),
    (b'"text"', "application/json", 400, "Exception while reading request"),
    (b'{"attributes": {"name": "\\ud800"}, "source": "ServiceNow"}', "application/json", 400,
     "Exception while reading request"),
    (b"<xml/>", "application/xml", 415, "Invalid content-type. Supported request media types "
                                        "for this service are: [application/json, "
                                        "application/xml, text/xml]"),
])
def test_broken_bodies(snow_admin: httpx.Client, content: bytes, content_type: str,
                       status: int, message: str) -> None:
    headers = {"Content-Type": content_type}
    for method, path in (("POST", LINUX), ("PATCH", f"{LINUX}/{LINUX_APP01}"),
                         ("PUT", f"{LINUX}/{LINUX_APP01}"),
                         ("POST", f"{LINUX}/{LINUX_APP01}/relation")):
        response = snow_admin.request(method, path, content=content, headers=headers)
        assert envelope(response, status)["message"] == message


def test_surrogate_pairs_are_characters(snow_admin: httpx.Client) -> None:
    """A lone surrogate escape is refused above; a pair spells one character."""
    body = b'{"attributes": {"name": "\\ud83d\\ude00"}, "source": "ServiceNow"}'
    response = snow_admin.post(LINUX, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    assert response.json()["result"]["attributes"]["name"] == "\U0001f600"


def test_an_oversized_body_is_refused(snow_admin: httpx.Client) -> None:
    size = 10 * 1024 * 1024 + 1
    response = snow_admin.post(LINUX, content=b"x" * size,
                               headers={"Content-Type": "application/json"})
    assert envelope(response, 400)["message"] == "Exception while reading request"


# -- updating --------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_changes_only_the_attributes_given(snow_admin: httpx.Client, method: str) -> None:
    """The PUT sample: not destructive; discovery_source takes the source even over an
    attribute ('ServiceNows' sent, 'ServiceNow' stored); relations untouched."""
    before = snow_admin.get(f"{LINUX}/{LINUX_APP01}").json()["result"]
    response = snow_admin.request(method, f"{LINUX}/{LINUX_APP01}", json={
        "attributes": {"firewall_status": "Internet", "discovery_source": "ServiceNows",
                       "used_for": "Staging", "container": "Box", "sys_class_name": "cmdb"},
        "source": "ServiceNow"})
    assert response.status_code == 200, response.text
    after = response.json()["result"]
    changed = {name for name, value in after["attributes"].items()
               if before["attributes"][name] != value}
    assert changed == {"firewall_status", "used_for", "discovery_source", "last_discovered",
                       "sys_updated_on", "sys_mod_count"}
    assert after["attributes"]["discovery_source"] == "ServiceNow"
    assert after["attributes"]["sys_class_name"] == "cmdb_ci_linux_server"
    assert after["outbound_relations"] == before["outbound_relations"]
    assert after["inbound_relations"] == before["inbound_relations"]


def test_a_null_attribute_clears_the_field(snow_admin: httpx.Client) -> None:
    cleared = snow_admin.patch(f"{LINUX}/{LINUX_APP01}",
                               json={"attributes": {"os": None}, "source": "ServiceNow"})
    assert cleared.json()["result"]["attributes"]["os"] == ""


def test_update_of_a_ci_of_another_class_is_404(snow_admin: httpx.Client) -> None:
    body = {"attributes": {"name": "moved"}, "source": "ServiceNow"}
    assert envelope(snow_admin.patch(f"{INSTANCE}/cmdb_ci_win_server/{LINUX_APP01}",
                                     json=body), 404)["message"] == "No Record found"
    assert envelope(snow_admin.put(f"{LINUX}/{'0' * 32}", json=body), 404)["message"] == \
        "No Record found"


# -- relations -------------------------------------------------------------------------------

def test_add_relations_answers_the_ci_and_is_idempotent(snow_admin: httpx.Client) -> None:
    ci = created(snow_admin, {"name": "rel-host"})["attributes"]["sys_id"]
    body = {"source": "ServiceNow",
            "outbound_relations": [{"type": "Hosted on::Hosts", "target": ORA01}],
            "inbound_relations": [{"type": RUNS_ON, "target": APACHE01}]}
    response = snow_admin.post(f"{LINUX}/{ci}/relation", json=body)
    assert response.status_code == 201, response.text
    result = response.json()["result"]
    assert result["attributes"]["sys_id"] == ci
    assert targets(result["outbound_relations"]) == [("Hosted on::Hosts", "PS ORA01")]
    assert targets(result["inbound_relations"]) == [("Runs on::Runs", "PS Apache01")]
    again = snow_admin.post(f"{LINUX}/{ci}/relation", json=body).json()["result"]
    assert again["outbound_relations"] == result["outbound_relations"]
    assert count(snow_admin, "cmdb_rel_ci", f"parent={ci}^ORchild={ci}") == 2
    nothing = snow_admin.post(f"{LINUX}/{ci}/relation", json={"source": "ServiceNow"})
    assert nothing.status_code == 201 and nothing.json()["result"] == again


def test_delete_relation(snow_admin: httpx.Client) -> None:
    ci = snow_admin.get(f"{LINUX}/{LINUX_APP01}").json()["result"]
    outbound = ci["outbound_relations"][0]["sys_id"]
    inbound = ci["inbound_relations"][0]["sys_id"]
    for rel in (outbound, inbound):
        response = snow_admin.delete(f"{LINUX}/{LINUX_APP01}/relation/{rel}")
        assert response.status_code == 204 and response.content == b""
    after = snow_admin.get(f"{LINUX}/{LINUX_APP01}").json()["result"]
    assert len(after["outbound_relations"]) == 1 and len(after["inbound_relations"]) == 2
    assert count(snow_admin, "cmdb_rel_ci", f"sys_id={outbound}") == 0
    # Gone, unknown, or another CI's relation: 404.
    other = snow_admin.post(f"{INSTANCE}/cmdb_ci_appl/{APACHE01}/relation", json={
        "source": "ServiceNow", "outbound_relations": [{"type": RUNS_ON, "target": ORA01}]})
    foreign = other.json()["result"]["outbound_relations"][0]["sys_id"]
    for rel in (outbound, "0" * 32, foreign):
        response = snow_admin.delete(f"{LINUX}/{LINUX_APP01}/relation/{rel}")
        assert envelope(response, 404)["message"] == "No Record found"
    assert count(snow_admin, "cmdb_rel_ci", f"sys_id={foreign}") == 1
    # A relation deleted through a CI of the wrong class is not found either.
    response = snow_admin.delete(f"{INSTANCE}/cmdb_ci_win_server/{LINUX_APP01}/relation/"
                                 f"{after['inbound_relations'][0]['sys_id']}")
    assert envelope(response, 404)["message"] == "No Record found"


def test_relation_errors(snow_admin: httpx.Client) -> None:
    path = f"{LINUX}/{LINUX_APP01}/relation"

    def post(**relations: object) -> httpx.Response:
        return snow_admin.post(path, json={"source": "ServiceNow", **relations})

    unknown = post(outbound_relations=[{"type": "Powers::Powered by", "target": ORA01}])
    assert envelope(unknown, 400)["detail"] == (
        "INVALID_INPUT_DATA: No such relationship with name [Powers::Powered by] exist in table "
        "[cmdb_rel_type]. If out-of-box relationship for [Powers::Powered by] has been removed "
        "or renamed, it should be restored")
    for relation in ({"type": DEPENDS_ON}, {"type": DEPENDS_ON, "target": "0" * 32},
                     {"target": ORA01}, {"type": "", "target": ORA01}):
        assert envelope(post(outbound_relations=[relation]), 400) == exception("null")
    assert envelope(post(outbound_relations={"type": DEPENDS_ON, "target": ORA01}), 400) == \
        exception("class java.util.LinkedHashMap cannot be cast to class java.util.List")
    assert envelope(post(inbound_relations=["x"]), 400) == \
        exception("class java.lang.String cannot be cast to class java.util.Map")
    assert envelope(post(inbound_relations=[{"type": DEPENDS_ON, "target": 7}]), 400) == \
        exception("class java.lang.Integer cannot be cast to class java.lang.String")
    # A relation to another CI of the body fails the whole request: nothing is written.
    partial = post(outbound_relations=[{"type": RUNS_ON, "target": ORA01},
                                       {"type": "nope", "target": ORA01}])
    assert partial.status_code == 400
    assert count(snow_admin, "cmdb_rel_ci", f"parent={LINUX_APP01}^type={RUNS_ON}") == 0


def test_null_relation_lists_are_no_relations(snow_admin: httpx.Client) -> None:
    """The body is read as a Java map, whose lookup answers null for a null as for a missing
    key: ``"inbound_relations": null`` (and a null ``depends_on``) add nothing, as the
    contract says (RequestRelations), while the relations beside them are written."""
    before = count(snow_admin, "cmdb_rel_ci", f"parent={LINUX_APP01}^ORchild={LINUX_APP01}")
    added = snow_admin.post(f"{LINUX}/{LINUX_APP01}/relation", json={
        "source": "ServiceNow", "inbound_relations": None,
        "outbound_relations": [{"type": RUNS_ON, "target": ORA01}]})
    assert added.status_code == 201, added.text
    assert count(snow_admin, "cmdb_rel_ci",
                 f"parent={LINUX_APP01}^ORchild={LINUX_APP01}") == before + 1
    created = snow_admin.post(LINUX, json={
        "attributes": {"name": "null-relations-1"}, "source": "ServiceNow",
        "outbound_relations": None, "depends_on": None})
    assert created.status_code == 201, created.text
    assert created.json()["result"]["outbound_relations"] == []


def test_a_type_name_two_types_share_is_reported(snow_admin: httpx.Client) -> None:
    twin = snow_admin.post("/api/now/table/cmdb_rel_type",
                           json={"name": "Runs on::Runs", "parent_descriptor": "Runs on",
                                 "child_descriptor": "Runs"})
    assert twin.status_code == 201
    twin_id = twin.json()["result"]["sys_id"]
    response = snow_admin.post(f"{LINUX}/{LINUX_APP01}/relation", json={
        "source": "ServiceNow", "outbound_relations": [{"type": "Runs on::Runs", "target": ORA01}]})
    ids = ",".join(sorted([RUNS_ON, twin_id]))
    assert envelope(response, 400)["detail"] == (
        "DUPLICATE_RELATIONSHIP_TYPES: Duplicate relationship type records exists with name "
        f"[Runs on::Runs] in table [cmdb_rel_type] having sys_ids: [{ids}]")
    # By sys_id it is unambiguous.
    by_id = snow_admin.post(f"{LINUX}/{LINUX_APP01}/relation", json={
        "source": "ServiceNow", "outbound_relations": [{"type": twin_id, "target": ORA01}]})
    assert by_id.status_code == 201


def test_a_failed_create_leaves_nothing_behind(snow_admin: httpx.Client) -> None:
    response = create(snow_admin, {"name": "half-made"},
                      outbound_relations=[{"type": DEPENDS_ON, "target": ORA01},
                                          {"type": DEPENDS_ON, "target": "0" * 32}])
    assert response.status_code == 400
    assert count(snow_admin, "cmdb_ci", "name=half-made") == 0


# -- access ----------------------------------------------------------------------------------

def test_the_api_requires_the_itil_role(snow_app: Flask, snow_admin: httpx.Client) -> None:
    """'This API requires the user have the ITIL role': a user without it is refused at the
    API (§1.5 text), whatever the method."""
    set_password(snow_admin, "joe.employee", "Joe-pass-1")
    with client_as(snow_app, "joe.employee", "Joe-pass-1") as joe:
        for response in (joe.get(LINUX), joe.get(f"{LINUX}/{LINUX_APP01}"),
                         create(joe, {"name": "joe-ci"}),
                         joe.patch(f"{LINUX}/{LINUX_APP01}",
                                   json={"attributes": {}, "source": "ServiceNow"}),
                         joe.post(f"{LINUX}/{LINUX_APP01}/relation",
                                  json={"source": "ServiceNow"}),
                         joe.delete(f"{LINUX}/{LINUX_APP01}/relation/{'0' * 32}"),
                         joe.get("/api/now/cmdb/meta/cmdb_ci_linux_server")):
            assert envelope(response, 403) == {"message": "User Not Authorized",
                                               "detail": "Failed API level ACL Validation"}
    assert count(snow_admin, "cmdb_ci", "name=joe-ci") == 0


def test_an_itil_user_works_through_the_api(snow_app: Flask, snow_admin: httpx.Client) -> None:
    set_password(snow_admin, "itil", "Itil-pass-1")
    with client_as(snow_app, "itil", "Itil-pass-1") as itil:
        ci = created(itil, {"name": "itil-host"},
                     outbound_relations=[{"type": DEPENDS_ON, "target": ORA01}])
        assert ci["attributes"]["sys_created_by"] == "itil"
        sys_id = ci["attributes"]["sys_id"]
        rel = ci["outbound_relations"][0]["sys_id"]
        assert itil.delete(f"{LINUX}/{sys_id}/relation/{rel}").status_code == 204
        assert itil.get(f"{LINUX}/{sys_id}").json()["result"]["outbound_relations"] == []


def test_no_credentials_is_401(snow_client: httpx.Client) -> None:
    response = snow_client.get(LINUX)
    assert envelope(response, 401)["message"] == "User Not Authenticated"
    assert response.headers["www-authenticate"] == 'BASIC realm="Service-now"'


# -- persistence -----------------------------------------------------------------------------

def test_cis_and_relations_survive_a_restart(snow_settings: Settings, tmp_path: Path) -> None:
    first = create_app(snow_settings)
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=first), base_url=BASE,
                          auth=("admin", "admin")) as client:
            ci = created(client, {"name": "durable", "serial_number": "D-1"},
                         outbound_relations=[{"type": RUNS_ON, "target": LINUX_APP01}])
    finally:
        first.extensions["mock_servicenow"].instance.close()
    second = create_app(snow_settings)
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=second), base_url=BASE,
                          auth=("admin", "admin")) as client:
            again = client.get(f"{LINUX}/{ci['attributes']['sys_id']}").json()["result"]
            assert again == ci
            # and identification still finds it after the restart
            found = created(client, {"name": "other name", "serial_number": "D-1"})
            assert found["attributes"]["sys_id"] == ci["attributes"]["sys_id"]
    finally:
        second.extensions["mock_servicenow"].instance.close()
