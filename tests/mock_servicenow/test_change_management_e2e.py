"""End to end over a real socket: a standard change from a template with plain ``requests``,
the way change-automation scripts drive the Change Management API, checked through the
Table API (issue 14, "Done means": a standard change from a template)."""

from __future__ import annotations

import requests

API = "/api/sn_chg_rest/v1/change"
NETWORK_GROUP = "287ebd7da9fe198100f92cc8d1d2154e"
BGP_VERSION = "16c2273c47010200e90d87e8dee49006"


def test_standard_change_from_a_template_end_to_end(snow_server: str) -> None:
    session = requests.Session()
    session.auth = ("admin", "admin")
    session.headers.update({"Accept": "application/json"})

    # Find the template by name, as scripts do (textSearch on the template list).
    listed = session.get(f"{snow_server}{API}/standard/template",
                         params={"textSearch": "Cisco router"}, timeout=30)
    assert listed.status_code == 200, listed.text
    [template] = listed.json()["result"]
    assert template["name"]["value"] == "Clear BGP sessions on a Cisco router"

    # Create the change: fields in the URL, as the published scripts send them.
    created = session.post(f"{snow_server}{API}/standard/{template['sys_id']['value']}",
                           params={"short_description": "Clear BGP on edge-rtr-01"}, timeout=30)
    assert created.status_code == 200, created.text
    change = created.json()["result"]
    change_id, number = change["sys_id"]["value"], change["number"]["value"]
    assert change["__meta"] == {"ignoredFields": []}

    # The record as the Table API sees it: a standard change carrying the template.
    row = session.get(f"{snow_server}/api/now/table/change_request/{change_id}",
                      params={"sysparm_exclude_reference_link": "true"}, timeout=30)
    assert row.status_code == 200, row.text
    stored = row.json()["result"]
    assert {k: stored[k] for k in ("number", "type", "state", "approval",
                                   "std_change_producer_version", "assignment_group",
                                   "short_description")} == {
        "number": number, "type": "standard", "state": "-5", "approval": "approved",
        "std_change_producer_version": BGP_VERSION, "assignment_group": NETWORK_GROUP,
        "short_description": "Clear BGP on edge-rtr-01"}
    assert stored["backout_plan"].startswith("Due to the limited number of commands")

    # Work it through the standard model, asking nextstates before each move.
    for target, label in (("-2", "Scheduled"), ("-1", "Implement"), ("0", "Review")):
        allowed = session.get(f"{snow_server}{API}/{change_id}/nextstates", timeout=30).json()
        assert target in allowed["result"]["available_states"]
        moved = session.patch(f"{snow_server}{API}/standard/{change_id}",
                              json={"state": label}, timeout=30)
        assert moved.status_code == 200, moved.text
        assert moved.json()["result"]["state"]["display_value"] == label
    task = session.post(f"{snow_server}{API}/{change_id}/task",
                        json={"short_description": "Confirm monitoring"}, timeout=30)
    assert task.status_code == 200, task.text
    refused = session.patch(f"{snow_server}{API}/{change_id}", json={"state": "New"}, timeout=30)
    assert refused.status_code == 400
    assert refused.json()["error"]["message"].startswith(
        "Change Request record could not be updated.")
    closed = session.patch(f"{snow_server}{API}/{change_id}",
                           json={"state": "Closed", "close_code": "Successful",
                                 "close_notes": "Sessions cleared"}, timeout=30)
    assert closed.status_code == 200, closed.text

    final = session.get(f"{snow_server}/api/now/table/change_request/{change_id}",
                        timeout=30).json()["result"]
    assert {k: final[k] for k in ("state", "active", "close_code")} == {
        "state": "3", "active": "false", "close_code": "successful"}
    tasks = session.get(f"{snow_server}/api/now/table/change_task",
                        params={"change_request": change_id}, timeout=30).json()["result"]
    assert [t["short_description"] for t in tasks] == ["Confirm monitoring"]
    # Closed: no longer among the active standard changes.
    active = session.get(f"{snow_server}{API}/standard", timeout=30).json()["result"]
    assert number not in {c["number"]["value"] for c in active}
