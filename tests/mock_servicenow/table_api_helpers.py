"""Helpers shared by the Table API tests: bulk rows, users with passwords, envelopes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from flask import Flask

from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.platform.demo import DEMO_DIR
from mock_servicenow.domain.platform.seed import Seeder

ERROR_KEYS = {"error", "status"}

#: The demo incidents as the data file gives them (mock_servicenow/data/demo).
DEMO_INCIDENTS: list[dict[str, Any]] = json.loads(
    (DEMO_DIR / "85-incidents.json").read_text())["records"][0]["rows"]


def envelope(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert the ServiceNow error envelope (servicenow-behaviour §3); return ``error``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    body = response.json()
    assert set(body) == ERROR_KEYS and body["status"] == "failure"
    assert set(body["error"]) == {"message", "detail"}
    return body["error"]  # type: ignore[no-any-return]


@contextmanager
def domain_context(app: Flask, api_version: str) -> Iterator[Context]:
    """A domain context on the test instance, as a request on ``/api/now/<api_version>``
    would have."""
    instance = app.extensions["mock_servicenow"].instance
    db = instance.connect()
    context = instance.context(db)
    context.base_url = "https://dev00000.service-now.test"
    context.api_version = api_version
    try:
        yield context
    finally:
        db.close()


def add_incidents(app: Flask, count: int, **values: Any) -> list[str]:
    """Insert ``count`` incidents directly (one transaction); returns their sys_ids."""
    instance = app.extensions["mock_servicenow"].instance
    db = instance.connect()
    try:
        ctx = instance.context(db)
        seeder = Seeder(ctx)
        ids = []
        with db.atomic():
            for index in range(count):
                row = {"number": f"BLK{index:07d}", "short_description": f"bulk {index}",
                       "impact": 3, "urgency": 3, "priority": 5, "state": 1}
                row.update(values)
                ids.append(seeder.add("incident", row))
        return ids
    finally:
        db.close()


def set_password(admin: httpx.Client, user_name: str, password: str) -> str:
    """Give a demo user a password through the Table API; returns the user's sys_id."""
    found = admin.get("/api/now/table/sys_user", params={"sysparm_fields": "sys_id,user_name"})
    sys_id = next(u["sys_id"] for u in found.json()["result"] if u["user_name"] == user_name)
    response = admin.patch(f"/api/now/table/sys_user/{sys_id}", json={"user_password": password})
    assert response.status_code == 200, response.text
    return str(sys_id)


def client_as(app: Flask, user_name: str, password: str) -> httpx.Client:
    """An in-process client authenticated with Basic as ``user_name``."""
    return httpx.Client(transport=httpx.WSGITransport(app=app),
                        base_url="https://dev00000.service-now.test",
                        auth=(user_name, password), headers={"Accept": "application/json"})
