"""Shared by the Service Catalog API tests: the demo catalog's published ids, a signed-in user
without roles, properties set through the Table API."""

from __future__ import annotations

from typing import Any

import httpx
from flask import Flask

from tests.mock_servicenow.table_api_helpers import client_as, set_password

API = "/api/sn_sc/servicecatalog"
SERVICE_CATALOG = "e0d08b13c3330100c8b837659bba8fb4"
TECHNICAL_CATALOG = "742ce428d7211100f2d224837e61036d"
HARDWARE = "d258b953c611227a0146101fb1be7c31"
TABLETS = "b06546f23731300054b6a3549dbe5dd8"
OFFICE = "109cdff8c6112276003b17991a09ad65"
OFFICE_SERVICES = "109f0438c6112276003ae8ac13e7009d"
IPAD_3 = "060f3afa3731300054b6a3549dbe5d3e"
STANDARD_LAPTOP = "04b7e94b4f7b4200086eeed18110c7fd"
DEVELOPER_MAC = "774906834fbb4200086eeed18110c737"
NEW_EMAIL = "186d917a6fab7980575967ddbb3ee4f2"
DESK_SET_UP = "962967674ff38200086eeed18110c7e7"
RETIRE_TEMPLATE = "011f117a9f3002002920bde8132e7020"
ABEL_TUTER = "62826bf03710200044e0bfc8bcbe5df1"
ADMIN = "6816f79cc0a8016401c5a33be04be441"
MISSING = "0" * 32


def employee(app: Flask, admin: httpx.Client, user_name: str = "abel.tuter") -> httpx.Client:
    """A signed-in demo user without roles (``abel.tuter`` by default)."""
    set_password(admin, user_name, "Catalog-1")
    return client_as(app, user_name, "Catalog-1")


def set_property(admin: httpx.Client, name: str, value: str) -> None:
    """Set (or create) a system property through the Table API."""
    found = admin.get("/api/now/table/sys_properties",
                      params={"sysparm_query": f"name={name}", "sysparm_fields": "sys_id"})
    rows = found.json()["result"]
    if rows:
        answer = admin.patch(f"/api/now/table/sys_properties/{rows[0]['sys_id']}",
                             json={"value": value})
    else:
        answer = admin.post("/api/now/table/sys_properties",
                            json={"name": name, "value": value, "type": "string"})
    assert answer.status_code in (200, 201), answer.text


def table(admin: httpx.Client, name: str, query: str, fields: str = "") -> list[dict[str, Any]]:
    """Records of ``name`` (plain values) through the Table API as admin."""
    params = {"sysparm_query": query, "sysparm_exclude_reference_link": "true"}
    if fields:
        params["sysparm_fields"] = fields
    answer = admin.get(f"/api/now/table/{name}", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]  # type: ignore[no-any-return]


def order(client: httpx.Client, item: str, body: Any, version: str = "") -> httpx.Response:
    """POST ``items/{item}/order_now`` with ``body`` as JSON."""
    base = API.replace("/servicecatalog", f"/{version}/servicecatalog") if version else API
    return client.post(f"{base}/items/{item}/order_now", json=body)
