"""The provisioning handshake: ``/api/x_mioms_m365ticket/v1/connection``."""

from __future__ import annotations

import httpx
import pytest
from flask import Flask

from mock_servicenow.apps.x_mioms_m365ticket.constants import OAUTH_ENTITY_NAME
from mock_servicenow.store import rows
from tests.apps.x_mioms_m365ticket.conftest import (
    API,
    POLICY_DENIAL,
    client,
    set_table_access,
    system_ctx,
)

TENANT = "2f3a9c1e-0b6d-4c9a-9d1e-7a1b2c3d4e5f"


def _client_id(app: Flask) -> str:
    ctx = system_ctx(app)
    entity = rows.find_by(ctx.db, ctx.dictionary, "oauth_entity", name=OAUTH_ENTITY_NAME)[0]
    ctx.db.close()
    return str(entity["client_id"])


@pytest.fixture
def integration(snow_app: Flask) -> httpx.Client:
    """The connector's identity: the integration user (Basic here; Bearer once identity lands)."""
    return client(snow_app, ("m365_integration", "integration"))


def test_connect_status_disconnect(snow_app: Flask, snow_admin: httpx.Client,
                                   integration: httpx.Client) -> None:
    assert integration.get(f"{API}/connection").json() == {"result": {
        "status": "not_connected", "connected_by": "", "connected_at": "", "tenant_id": "",
        "client_id": ""}}
    snow_admin.post("/_emulator/clock", json={"action": "freeze", "at": "2026-11-26 10:00:00"})
    client_id = _client_id(snow_app)
    created = integration.post(f"{API}/connection",
                               json={"tenant_id": TENANT, "client_id": client_id})
    assert created.status_code == 201
    expected = {"status": "connected", "connected_by": "m365_integration",
                "connected_at": "2026-11-26 10:00:00", "tenant_id": TENANT,
                "client_id": client_id}
    assert created.json() == {"result": expected}
    assert created.headers["content-type"] == "application/json;charset=UTF-8"
    assert snow_admin.get(f"{API}/connection").json() == {"result": expected}

    deleted = integration.delete(f"{API}/connection")
    assert deleted.status_code == 204 and deleted.content == b""
    assert integration.get(f"{API}/connection").json()["result"]["status"] == "not_connected"
    assert integration.delete(f"{API}/connection").status_code == 204  # idempotent


@pytest.mark.parametrize("content, content_type, status, message", [
    (b"{not json", "application/json", 400, "Exception while reading request"),
    (b"[1, 2]", "application/json", 400, "Bad Request"),
    (b'{"tenant_id": "t"}', "application/json", 400, "Bad Request"),
    (b'{"tenant_id": 5, "client_id": "x"}', "application/json", 400, "Bad Request"),
    (b'{"tenant_id": "t", "client_id": "not-registered"}', "application/json", 400,
     "Bad Request"),
    (b"tenant_id=t", "application/x-www-form-urlencoded", 415, "Invalid content-type. "
     "Supported request media types for this service are: [application/json, "
     "application/xml, text/xml]"),
])
def test_bad_connection_requests_get_the_envelope(integration: httpx.Client, content: bytes,
                                                  content_type: str, status: int,
                                                  message: str) -> None:
    response = integration.post(f"{API}/connection", content=content,
                                headers={"Content-Type": content_type})
    assert response.status_code == status
    body = response.json()
    assert body["status"] == "failure" and body["error"]["message"] == message
    assert integration.get(f"{API}/connection").json()["result"]["status"] == "not_connected"


def test_connection_needs_the_app_role(snow_app: Flask) -> None:
    with client(snow_app, None) as anonymous:
        assert anonymous.get(f"{API}/connection").status_code == 401
    ctx = system_ctx(snow_app)
    with ctx.db.atomic():  # give abel.tuter a password: he has no app role
        from mock_servicenow.domain.identity.passwords import hash_password
        abel = rows.find_by(ctx.db, ctx.dictionary, "sys_user", user_name="abel.tuter")[0]
        rows.update(ctx.db, ctx.dictionary, "sys_user", abel["sys_id"],
                    {"user_password": hash_password("abel", iterations=1000)})
    ctx.db.close()
    with client(snow_app, ("abel.tuter", "abel")) as abel_client:
        for response in (abel_client.get(f"{API}/connection"),
                         abel_client.post(f"{API}/connection", json={}),
                         abel_client.delete(f"{API}/connection")):
            assert response.status_code == 403
            assert response.json()["error"] == {"message": "User Not Authorized",
                                                "detail": "Failed API level ACL Validation"}


def test_connecting_on_a_scope_denied_instance_says_why(snow_app: Flask,
                                                        integration: httpx.Client) -> None:
    client_id = _client_id(snow_app)
    set_table_access(snow_app, "oauth_entity", access="package_private")
    response = integration.post(f"{API}/connection",
                                json={"tenant_id": TENANT, "client_id": client_id})
    assert response.status_code == 400
    assert response.json()["error"] == {"message": "Bad Request", "detail": POLICY_DENIAL}


def test_connecting_before_the_checklist_is_complete_is_a_conflict(
        fresh_app: Flask, fresh_admin: httpx.Client) -> None:
    response = fresh_admin.post(f"{API}/connection", json={"tenant_id": TENANT,
                                                          "client_id": "x"})
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "Conflict"
