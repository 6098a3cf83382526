"""A CI with relations end to end over a real socket (issue 14, "done means"): plain
``requests`` the way the servicenow.itsm collection's configuration_item_relations module
talks to an instance, and pysnow's generic resources on the same API.

Neither pysnc nor pysnow has CMDB Instance API helpers (pysnc wraps the Table API, pysnow
any ``/api/now`` path as a generic resource): the relations journey is written with
``requests`` after servicenow.itsm (plugins/modules/configuration_item_relations.py and
module_utils/client.py): the relation type is found by ``sys_name`` through the Table API,
a POST must answer 201 and a DELETE 204, and its integration test's assertions (two outbound
relations, then none) are the ones checked here.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

pysnow = pytest.importorskip("pysnow")

AUTH = ("admin", "admin")
HEADERS = {"Accept": "application/json"}


def _post(base: str, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(f"{base}/api/now/{path}", json=payload, auth=AUTH,
                             headers=HEADERS, timeout=30)
    assert response.status_code == 201, response.text  # servicenow.itsm accepts only 201
    return response.json()["result"]  # type: ignore[no-any-return]


def _get(base: str, path: str, **params: str) -> requests.Response:
    response = requests.get(f"{base}/api/now/{path}", params=params, auth=AUTH,
                            headers=HEADERS, timeout=30)
    assert response.status_code == 200, response.text
    return response


def test_a_ci_with_relations_over_a_socket(snow_server: str) -> None:
    base = snow_server
    # Create 3 servers (the integration test creates them through the Table API; here through
    # the CMDB Instance API, in its envelope).
    servers = [_post(base, "cmdb/instance/cmdb_ci_linux_server",
                     {"attributes": {"name": f"linux_e2e_{n}", "serial_number": f"E2E-{n}"},
                      "source": "ServiceNow"})["attributes"]["sys_id"] for n in range(3)]
    assert len(set(servers)) == 3
    # The relation type by sys_name, as configuration_item_relations finds it.
    types = _get(base, "table/cmdb_rel_type", sys_name="Cools::Cooled By",
                 sysparm_exclude_reference_link="true").json()["result"]
    assert len(types) == 1
    type_id = types[0]["sys_id"]
    parent = f"cmdb/instance/cmdb_ci_linux_server/{servers[0]}"
    ci = _post(base, f"{parent}/relation", {
        "source": "ServiceNow",
        "outbound_relations": [{"type": type_id, "target": servers[1]},
                               {"type": type_id, "target": servers[2]}]})
    assert {r["target"]["value"] for r in ci["outbound_relations"]} == set(servers[1:])
    assert {r["type"]["display_value"] for r in ci["outbound_relations"]} == {"Cools::Cooled By"}
    # The other side sees the relation as inbound.
    child = _get(base, f"cmdb/instance/cmdb_ci_linux_server/{servers[1]}").json()["result"]
    assert [r["target"]["value"] for r in child["inbound_relations"]] == [servers[0]]
    read = _get(base, parent).json()["result"]
    assert len(read["outbound_relations"]) == 2 and read["inbound_relations"] == []
    # Remove them: 204 and no body ("SNow does not returned any response").
    for relation in read["outbound_relations"]:
        deleted = requests.delete(f"{base}/api/now/{parent}/relation/{relation['sys_id']}",
                                  auth=AUTH, headers=HEADERS, timeout=30)
        assert deleted.status_code == 204 and deleted.content == b""
    read = _get(base, parent).json()["result"]
    assert read["outbound_relations"] == [] and read["inbound_relations"] == []
    # Identification: the same serial number is the same CI, whatever its name now.
    again = _post(base, "cmdb/instance/cmdb_ci_linux_server",
                  {"attributes": {"name": "linux_e2e_renamed", "serial_number": "E2E-0"},
                   "source": "Manual Entry"})
    assert again["attributes"]["sys_id"] == servers[0]
    listed = _get(base, "cmdb/instance/cmdb_ci_linux_server",
                  sysparm_query="nameSTARTSWITHlinux_e2e^ORDERBYname").json()["result"]
    assert [ci["name"] for ci in listed] == ["linux_e2e_1", "linux_e2e_2", "linux_e2e_renamed"]
    # The class's metadata names the rule that identified it.
    meta = _get(base, "cmdb/meta/cmdb_ci_linux_server").json()["result"]
    assert meta["identification_rules"]["name"] == "Hardware Rule"


def test_pysnow_generic_resources_drive_the_api(snow_server: str) -> None:
    client = pysnow.Client(host=snow_server.split("://", 1)[1], user="admin", password="admin",
                           use_ssl=False)
    try:
        listing = client.resource(api_path="/cmdb/instance/cmdb_ci_linux_server")
        found = list(listing.get(query="nameSTARTSWITHPS^ORDERBYname", limit=10).all())
        assert [ci["name"] for ci in found] == ["PS LinuxApp01", "PS LinuxApp02"]
        made = listing.create(payload={"attributes": {"name": "pysnow-ci"},
                                       "source": "ServiceNow",
                                       "outbound_relations": [{
                                           "type": "Runs on::Runs",
                                           "target": found[0]["sys_id"]}]}).one()
        sys_id = made["attributes"]["sys_id"]
        one = client.resource(api_path=f"/cmdb/instance/cmdb_ci_linux_server/{sys_id}")
        ci = one.get(query={}).one()
        assert ci["attributes"]["name"] == "pysnow-ci"
        assert [r["target"]["display_value"] for r in ci["outbound_relations"]] == [
            "PS LinuxApp01"]
    finally:
        client.session.close()
