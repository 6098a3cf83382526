"""``GET /api/now/cmdb/meta/{className}`` (issue 14 item 4): a class's metadata from the live
dictionary, as the CMDB Meta API page shows it for cmdb_ci_computer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.mock_servicenow.table_api_helpers import envelope

META = "/api/now/cmdb/meta"


def meta(client: httpx.Client, cls: str) -> dict[str, Any]:
    response = client.get(f"{META}/{cls}")
    assert response.status_code == 200, response.text
    return response.json()["result"]  # type: ignore[no-any-return]


def attribute(result: dict[str, Any], element: str) -> dict[str, Any]:
    return next(a for a in result["attributes"] if a["element"] == element)


def test_computer_as_the_page_shows_it(snow_admin: httpx.Client) -> None:
    result = meta(snow_admin, "cmdb_ci_computer")
    assert list(result) == ["icon_url", "is_extendable", "parent", "children", "name", "icon",
                            "attributes", "relationship_rules", "label",
                            "identification_rules"]
    assert result["name"] == "cmdb_ci_computer" and result["label"] == "Computer"
    assert result["parent"] == "cmdb_ci_hardware" and result["is_extendable"] is True
    assert "cmdb_ci_server" in result["children"]
    assert result["icon"] == "c6442dd69fb00200eb3919eb552e7012"
    assert result["icon_url"] == "images/app.ngbsm/computer.svg"
    # Two attributes exactly as the page's sample prints them.
    assert attribute(result, "os_address_width") == {
        "is_inherited": "false", "is_mandatory": "false", "is_read_only": "false",
        "default_value": None, "label": "OS Address Width (bits)", "type": "integer",
        "element": "os_address_width", "max_length": "40", "is_display": "false"}
    assert attribute(result, "skip_sync") == {
        "is_inherited": "true", "is_mandatory": "false", "is_read_only": "true",
        "default_value": "false", "label": "Skip sync", "type": "boolean",
        "element": "skip_sync", "max_length": "40", "is_display": "false"}
    assert attribute(result, "name")["is_display"] == "true"
    assert attribute(result, "manufacturer")["reference"] == "core_company"
    rule = result["identification_rules"]
    assert rule["name"] == "Hardware Rule" and rule["applies_to"] == "cmdb_ci_hardware"
    assert rule["is_independent"] is True and rule["description"] == "Identifier for hardware."
    assert [(i["order"], i["attributes"], i["table"]) for i in rule["identifiers"]] == [
        (100, "serial_number,serial_number_type", "cmdb_serial_number"),
        (200, "serial_number", None), (300, "name", None),
        (400, "ip_address,mac_address", "cmdb_ci_network_adapter")]


def test_attributes_are_the_dictionary_s(snow_admin: httpx.Client) -> None:
    linux = meta(snow_admin, "cmdb_ci_linux_server")
    elements = [a["element"] for a in linux["attributes"]]
    served = snow_admin.get("/api/now/table/cmdb_ci_linux_server",
                            params={"sysparm_limit": 1}).json()["result"][0]
    assert set(elements) == set(served)  # the same fields the Table API answers
    assert attribute(linux, "kernel_release")["is_inherited"] == "false"
    assert attribute(linux, "firewall_status")["is_inherited"] == "true"
    assert attribute(linux, "sys_id")["is_inherited"] == "true"
    assert linux["children"] == [] and linux["is_extendable"] is False
    assert linux["identification_rules"]["applies_to"] == "cmdb_ci_hardware"  # derived
    assert linux["icon"] == "" and linux["relationship_rules"] == []
    root = meta(snow_admin, "cmdb")
    assert root["parent"] == "" and "cmdb_ci" in root["children"]
    assert attribute(root, "sys_id")["is_inherited"] == "false"
    assert meta(snow_admin, "cmdb_ci_appl")["identification_rules"] == {}


def test_a_custom_field_shows_up(snow_admin: httpx.Client) -> None:
    made = snow_admin.post("/api/now/table/sys_dictionary", json={
        "name": "cmdb_ci_server", "element": "u_rack", "internal_type": "string",
        "column_label": "Rack", "max_length": "60"})
    assert made.status_code == 201, made.text
    server = attribute(meta(snow_admin, "cmdb_ci_server"), "u_rack")
    assert server == {"is_inherited": "false", "is_mandatory": "false", "is_read_only": "false",
                      "default_value": None, "label": "Rack", "type": "string",
                      "element": "u_rack", "max_length": "60", "is_display": "false"}
    assert attribute(meta(snow_admin, "cmdb_ci_linux_server"), "u_rack")["is_inherited"] == \
        "true"


@pytest.mark.parametrize("cls", ["incident", "cmdb_rel_ci", "cmdb_ci_nothing"])
def test_other_tables_are_404(snow_admin: httpx.Client, cls: str) -> None:
    assert envelope(snow_admin.get(f"{META}/{cls}"), 404) == {
        "message": "No Record found", "detail": f"CMDB class {cls} does not exist"}


def test_versioned_path(snow_admin: httpx.Client) -> None:
    assert snow_admin.get("/api/now/v1/cmdb/meta/cmdb_ci").json()["result"]["name"] == "cmdb_ci"
