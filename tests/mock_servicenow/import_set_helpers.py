"""Helpers shared by the Import Set API tests: users with import roles, transform maps,
runtime staging tables, reads of staging rows."""

from __future__ import annotations

from typing import Any

import httpx
from flask import Flask

from tests.mock_servicenow.table_api_helpers import client_as

NOTIFICATION = "/api/now/import/imp_notification"
#: The demo Notification map's fields (mock_servicenow/data/demo/75-import-sets.json).
DOCUMENTED_KEYS = {"transform_map", "table", "display_name", "display_value", "record_link",
                   "status", "sys_id"}


def user_with_roles(app: Flask, admin: httpx.Client, user_name: str,
                    *roles: str) -> httpx.Client:
    """Create a user with a password and these roles (through the Table API as admin)."""
    password = f"{user_name}-Pw-1"
    created = admin.post("/api/now/table/sys_user", json={
        "user_name": user_name, "first_name": user_name, "user_password": password})
    assert created.status_code == 201, created.text
    user = created.json()["result"]["sys_id"]
    for role in roles:
        granted = admin.post("/api/now/table/sys_user_has_role",
                             params={"sysparm_input_display_value": "true"},
                             json={"user": user, "role": role})
        assert granted.status_code == 201, granted.text
    return client_as(app, user_name, password)


def notification_entry(admin: httpx.Client, target_field: str) -> str:
    """The sys_id of the Notification map's field map onto ``target_field``."""
    found = admin.get("/api/now/table/sys_transform_entry", params={
        "sysparm_query": f"map.name=Notification^target_field={target_field}",
        "sysparm_fields": "sys_id"}).json()["result"]
    assert len(found) == 1, found
    return str(found[0]["sys_id"])


def notification_map(admin: httpx.Client) -> str:
    """The sys_id of the demo Notification transform map."""
    found = admin.get("/api/now/table/sys_transform_map",
                      params={"sysparm_query": "name=Notification"}).json()["result"]
    return str(found[0]["sys_id"])


def patch(admin: httpx.Client, table: str, sys_id: str, **values: str) -> None:
    """Change a record through the Table API (asserting it worked)."""
    response = admin.patch(f"/api/now/table/{table}/{sys_id}", json=values)
    assert response.status_code == 200, response.text


def incidents(admin: httpx.Client, correlation_id: str, fields: str = "sys_id") -> list[Any]:
    """Incidents whose correlation_id is ``correlation_id`` (exact)."""
    return list(admin.get("/api/now/table/incident", params={
        "sysparm_query": f"correlation_id={correlation_id}",
        "sysparm_fields": fields}).json()["result"])


def staging_rows(admin: httpx.Client, table: str, query: str,
                 fields: str = "sys_id,sys_import_state") -> list[dict[str, Any]]:
    """Rows of a staging table, oldest row number first."""
    return list(admin.get(f"/api/now/table/{table}", params={
        "sysparm_query": f"{query}^ORDERBYsys_import_row", "sysparm_fields": fields,
    }).json()["result"])


def create_staging_table(admin: httpx.Client, name: str, columns: dict[str, str]) -> None:
    """An admin's staging table at runtime: a ``sys_db_object`` extending
    ``sys_import_set_row`` and one string ``sys_dictionary`` column per (element, label)."""
    table = admin.post("/api/now/table/sys_db_object", json={
        "name": name, "label": name, "super_class": "sys_import_set_row"})
    assert table.status_code == 201, table.text
    for element, label in columns.items():
        column = admin.post("/api/now/table/sys_dictionary", json={
            "name": name, "element": element, "column_label": label,
            "internal_type": "string", "max_length": "100"})
        assert column.status_code == 201, column.text


def create_map(admin: httpx.Client, name: str, source: str, target: str,
               entries: list[dict[str, str]], **flags: str) -> str:
    """A transform map with its field maps, through the Table API; returns its sys_id."""
    created = admin.post("/api/now/table/sys_transform_map", json={
        "name": name, "source_table": source, "target_table": target, "active": "true",
        **flags})
    assert created.status_code == 201, created.text
    map_id = str(created.json()["result"]["sys_id"])
    for entry in entries:
        field = admin.post("/api/now/table/sys_transform_entry", json={
            "map": map_id, "source_table": source, "target_table": target, **entry})
        assert field.status_code == 201, field.text
    return map_id
