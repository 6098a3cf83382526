"""An import-set load end to end over a real socket (issue 14, "done means"): plain
``requests`` (the way most integrations call the Import Set API), then ``pysnow``'s generic
resource on the same endpoint.

An admin creates a staging table and its transform map through the Table API, an
integration user with only ``import_transformer`` loads rows with ``insertMultiple`` (the
transform runs after the answer, so the client reads results back until they are there, as
a real client of the asynchronous transform must) and with single inserts, and the incidents
read back through the Table API.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

pysnow = pytest.importorskip("pysnow")

ADMIN = ("admin", "admin")
STAGING = "u_imp_monitoring_alert"


def _ok(response: requests.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _setup(base: str) -> tuple[str, str]:
    """The staging table, its map into incident, an import_transformer user."""
    table = f"{base}/api/now/table"
    _ok(requests.post(f"{table}/sys_db_object", auth=ADMIN, timeout=30, json={
        "name": STAGING, "label": "Monitoring alert", "super_class": "sys_import_set_row"}), 201)
    for element, label in (("u_alert_id", "Alert ID"), ("u_summary", "Summary"),
                           ("u_group", "Group")):
        _ok(requests.post(f"{table}/sys_dictionary", auth=ADMIN, timeout=30, json={
            "name": STAGING, "element": element, "column_label": label,
            "internal_type": "string", "max_length": "200"}), 201)
    tmap = _ok(requests.post(f"{table}/sys_transform_map", auth=ADMIN, timeout=30, json={
        "name": "Monitoring alerts", "source_table": STAGING, "target_table": "incident",
        "active": "true"}), 201)["result"]["sys_id"]
    for source, target, coalesce in (("u_alert_id", "correlation_id", "true"),
                                     ("u_summary", "short_description", "false"),
                                     ("u_group", "assignment_group", "false")):
        _ok(requests.post(f"{table}/sys_transform_entry", auth=ADMIN, timeout=30, json={
            "map": tmap, "source_field": source, "target_field": target,
            "coalesce": coalesce}), 201)
    user = _ok(requests.post(f"{table}/sys_user", auth=ADMIN, timeout=30, json={
        "user_name": "monitoring.integration", "user_password": "Monitoring-Pw-1"}),
        201)["result"]["sys_id"]
    _ok(requests.post(f"{table}/sys_user_has_role", auth=ADMIN, timeout=30,
                      params={"sysparm_input_display_value": "true"},
                      json={"user": user, "role": "import_transformer"}), 201)
    return "monitoring.integration", "Monitoring-Pw-1"


def _result_when_transformed(session: requests.Session, url: str) -> dict[str, Any]:
    """Read a row's result until the asynchronous transform has produced it (bounded)."""
    for _ in range(200):
        result = _ok(session.get(url, timeout=30), 200)["result"]
        if result:
            return result[0]  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"{url} never transformed")


def test_an_import_set_load_through_requests_and_pysnow(snow_server: str) -> None:
    base = snow_server
    credentials = _setup(base)
    session = requests.Session()
    session.auth = credentials
    session.headers.update({"Accept": "application/json"})

    loaded = _ok(session.post(f"{base}/api/now/import/{STAGING}/insertMultiple", timeout=30,
                              json={"records": [
                                  {"Alert ID": "mon-1", "Summary": "CPU high", "Group": "Network"},
                                  {"Alert ID": "mon-2", "Summary": "Disk full"},
                                  {"Alert ID": "MON-1", "Summary": "CPU very high"}]}), 201)
    assert set(loaded) == {"import_set_id", "multi_import_set_id"}
    rows = _ok(requests.get(f"{base}/api/now/table/{STAGING}", auth=ADMIN, timeout=30, params={
        "sysparm_query": f"sys_import_set={loaded['import_set_id']}^ORDERBYsys_import_row",
        "sysparm_fields": "sys_id"}), 200)["result"]
    results = [_result_when_transformed(session, f"{base}/api/now/import/{STAGING}/{r['sys_id']}")
               for r in rows]
    assert [r["status"] for r in results] == ["inserted", "inserted", "updated"]
    assert results[0]["sys_id"] == results[2]["sys_id"]

    single = _ok(session.post(f"{base}/api/now/import/{STAGING}", timeout=30,
                              json={"u_alert_id": "mon-2", "u_summary": "Disk full"}), 201)
    assert single["result"][0]["status"] == "ignored"
    assert single["result"][0]["status_message"] == "No field values changed"

    incident = _ok(requests.get(results[0]["record_link"], auth=ADMIN, timeout=30, params={
        "sysparm_display_value": "true",
        "sysparm_fields": "short_description,assignment_group,sys_created_by"}), 200)["result"]
    assert incident["short_description"] == "CPU very high"
    assert incident["assignment_group"]["display_value"] == "Network"
    assert incident["sys_created_by"] == "monitoring.integration"

    broken = session.post(f"{base}/api/now/import/{STAGING}", data="{oops", timeout=30,
                          headers={"Content-Type": "application/json"})
    assert broken.status_code == 400
    assert broken.json()["error"]["message"] == "Exception while reading request"

    host = base.removeprefix("http://")
    client = pysnow.Client(host=host, user=credentials[0], password=credentials[1],
                           use_ssl=False)
    alerts = client.resource(api_path=f"/import/{STAGING}")
    created = alerts.create(payload={"u_alert_id": "mon-3", "u_summary": "Fan failure"}).one()
    assert (created["status"], created["table"], created["transform_map"]) == (
        "inserted", "incident", "Monitoring alerts")
    assert created["display_value"].startswith("INC")
