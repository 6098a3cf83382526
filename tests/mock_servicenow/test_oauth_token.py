"""``POST /oauth_token.do`` and ``/oauth_revoke_token.do`` (servicenow-behaviour §4.1, §4.3)."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask

from mock_servicenow.app import create_app
from mock_servicenow.settings import Settings
from tests.mock_servicenow.identity_helpers import (
    PROBE,
    add_probe,
    clock,
    make_client,
    make_user,
    set_property,
    update_user,
)

FAILURE = {"error_description": "access_denied", "error": "server_error"}
KEYS = ["access_token", "refresh_token", "scope", "token_type", "expires_in"]
NOT_AUTHENTICATED = {"error": {"message": "User Not Authenticated",
                               "detail": "Required to provide Auth information"},
                     "status": "failure"}


@pytest.fixture(autouse=True)
def _probe(snow_app: Flask) -> None:
    """Every test here may call the whoami probe."""
    add_probe(snow_app)


@pytest.fixture
def entity(snow_app: Flask) -> tuple[str, str, str]:
    return make_client(snow_app)


def password_grant(client: httpx.Client, entity: tuple[str, str, str], user: str = "admin",
                   password: str = "admin", **extra: str) -> httpx.Response:
    _, client_id, secret = entity
    return client.post("/oauth_token.do", data={
        "grant_type": "password", "client_id": client_id, "client_secret": secret,
        "username": user, "password": password, **extra})


def assert_failure(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.text == json.dumps(FAILURE, separators=(",", ":"))


def test_password_grant_answers_the_captured_shape(snow_client: httpx.Client,
                                                   entity: tuple[str, str, str]) -> None:
    response = password_grant(snow_client, entity)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert list(body) == KEYS
    assert body["token_type"] == "Bearer" and body["scope"] == "useraccount"
    assert body["expires_in"] == 1799
    assert len(body["access_token"]) == 86 and len(body["refresh_token"]) == 86


def test_client_authentication_by_basic(snow_client: httpx.Client,
                                        entity: tuple[str, str, str]) -> None:
    _, client_id, secret = entity
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = snow_client.post("/oauth_token.do", headers={"Authorization": f"Basic {basic}"},
                                data={"grant_type": "password", "username": "admin",
                                      "password": "admin"})
    assert response.status_code == 200
    assert list(response.json()) == KEYS


def test_repeated_password_grant_returns_the_current_token(
        snow_client: httpx.Client, entity: tuple[str, str, str]) -> None:
    clock(snow_client, action="freeze", at="2026-11-26 10:00:00")
    first = password_grant(snow_client, entity).json()
    clock(snow_client, action="advance", seconds=600)
    again = password_grant(snow_client, entity).json()
    assert again["access_token"] == first["access_token"]
    assert again["refresh_token"] == first["refresh_token"]
    assert again["expires_in"] == 1199
    clock(snow_client, action="advance", seconds=1200)
    fresh = password_grant(snow_client, entity).json()
    assert fresh["access_token"] != first["access_token"]


def test_lifespans_come_from_the_entity(snow_app: Flask, snow_client: httpx.Client) -> None:
    entity = make_client(snow_app, access_token_lifespan=600, refresh_token_lifespan=3600)
    clock(snow_client, action="freeze", at="2026-11-26 10:00:00")
    body = password_grant(snow_client, entity).json()
    assert body["expires_in"] == 599
    _, client_id, secret = entity
    clock(snow_client, action="advance", seconds=3600)
    refreshed = snow_client.post("/oauth_token.do", data={
        "grant_type": "refresh_token", "client_id": client_id, "client_secret": secret,
        "refresh_token": body["refresh_token"]})
    assert_failure(refreshed)


@pytest.mark.parametrize("change", [
    {"client_secret": "wrong"},
    {"client_id": "0" * 32},
    {"password": "wrong"},
    {"username": "nobody"},
    {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"},
    {"grant_type": ""},
])
def test_every_failure_is_the_captured_401(snow_client: httpx.Client,
                                           entity: tuple[str, str, str],
                                           change: dict[str, str]) -> None:
    _, client_id, secret = entity
    data = {"grant_type": "password", "client_id": client_id, "client_secret": secret,
            "username": "admin", "password": "admin", **change}
    assert_failure(snow_client.post("/oauth_token.do", data=data))


def test_json_body_and_query_credentials_are_refused(snow_client: httpx.Client,
                                                     entity: tuple[str, str, str]) -> None:
    _, client_id, secret = entity
    data = {"grant_type": "password", "client_id": client_id, "client_secret": secret,
            "username": "admin", "password": "admin"}
    assert_failure(snow_client.post("/oauth_token.do", json=data))
    assert_failure(snow_client.post("/oauth_token.do", params=data))
    assert_failure(snow_client.post("/oauth_token.do", content=b"\xff\xfe garbage",
                                    headers={"Content-Type": "application/x-www-form-urlencoded"}))


@pytest.mark.parametrize("authorization", [
    "Basic !!!", "Basic " + base64.b64encode(b"\xff\xfe:x").decode(), "Basic ", "Bearer x",
])
def test_malformed_client_authentication_is_the_captured_401(snow_client: httpx.Client,
                                                             authorization: str) -> None:
    assert_failure(snow_client.post("/oauth_token.do", headers={"Authorization": authorization},
                                    data={"grant_type": "client_credentials"}))


def test_inactive_entity_cannot_get_tokens(snow_app: Flask, snow_client: httpx.Client,
                                           entity: tuple[str, str, str]) -> None:
    instance = snow_app.extensions["mock_servicenow"].instance
    db = instance.connect()
    with db.atomic():
        db.execute("UPDATE oauth_entity SET active = 0 WHERE sys_id = ?", [entity[0]])
    db.close()
    assert_failure(password_grant(snow_client, entity))


@pytest.mark.parametrize("flags", [{"active": 0}, {"locked_out": 1}])
def test_inactive_or_locked_users_get_nothing(snow_app: Flask, snow_client: httpx.Client,
                                              entity: tuple[str, str, str],
                                              flags: dict[str, int]) -> None:
    sys_id = make_user(snow_app, "svc.user", "S3cret!")
    token = password_grant(snow_client, entity, "svc.user", "S3cret!").json()
    update_user(snow_app, sys_id, **flags)
    assert_failure(password_grant(snow_client, entity, "svc.user", "S3cret!"))
    _, client_id, secret = entity
    assert_failure(snow_client.post("/oauth_token.do", data={
        "grant_type": "refresh_token", "client_id": client_id, "client_secret": secret,
        "refresh_token": token["refresh_token"]}))
    api = snow_client.get(PROBE,
                          headers={"Authorization": f"Bearer {token['access_token']}"})
    assert api.status_code == 401


def test_web_service_only_user_may_use_the_password_grant(
        snow_app: Flask, snow_client: httpx.Client, entity: tuple[str, str, str]) -> None:
    make_user(snow_app, "m365_integration", "Integr4tion!", web_service_access_only="true")
    assert password_grant(snow_client, entity, "m365_integration",
                          "Integr4tion!").status_code == 200


def test_refresh_keeps_the_refresh_token(snow_client: httpx.Client,
                                         entity: tuple[str, str, str]) -> None:
    _, client_id, secret = entity
    first = password_grant(snow_client, entity).json()
    refresh = {"grant_type": "refresh_token", "client_id": client_id, "client_secret": secret,
               "refresh_token": first["refresh_token"]}
    second = snow_client.post("/oauth_token.do", data=refresh).json()
    third = snow_client.post("/oauth_token.do", data=refresh).json()
    assert list(second) == KEYS
    assert second["refresh_token"] == third["refresh_token"] == first["refresh_token"]
    assert len({first["access_token"], second["access_token"], third["access_token"]}) == 3


def test_refresh_token_of_another_client_is_refused(snow_app: Flask,
                                                    snow_client: httpx.Client,
                                                    entity: tuple[str, str, str]) -> None:
    other = make_client(snow_app, name="Other")
    token = password_grant(snow_client, entity).json()
    assert_failure(snow_client.post("/oauth_token.do", data={
        "grant_type": "refresh_token", "client_id": other[1], "client_secret": other[2],
        "refresh_token": token["refresh_token"]}))
    assert_failure(snow_client.post("/oauth_token.do", data={
        "grant_type": "refresh_token", "client_id": entity[1], "client_secret": entity[2],
        "refresh_token": token["access_token"]}))


def test_access_token_expires_by_the_instance_clock(snow_client: httpx.Client,
                                                    entity: tuple[str, str, str]) -> None:
    clock(snow_client, action="freeze", at="2026-11-26 10:00:00")
    token = password_grant(snow_client, entity).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    clock(snow_client, action="advance", seconds=1799)
    assert snow_client.get(PROBE, headers=headers).json()["result"] == {
        "user_name": "admin", "via": "bearer"}
    clock(snow_client, action="advance", seconds=1)
    expired = snow_client.get(PROBE, headers=headers)
    assert expired.status_code == 401
    assert expired.json() == NOT_AUTHENTICATED


def test_bearer_in_header_and_query(snow_client: httpx.Client,
                                    entity: tuple[str, str, str]) -> None:
    token = password_grant(snow_client, entity).json()["access_token"]
    via_header = snow_client.get(PROBE,
                                 headers={"Authorization": f"Bearer {token}"})
    via_query = snow_client.get(PROBE, params={"access_token": token})
    assert via_header.json()["result"]["user_name"] == "admin"
    assert via_query.json()["result"]["via"] == "bearer"
    for bad in ({"headers": {"Authorization": "Bearer not-a-token"}},
                {"params": {"access_token": "not-a-token"}},
                {"headers": {"Authorization": "Bearer "}}):
        response = snow_client.get(PROBE, **bad)  # type: ignore[arg-type]
        assert response.status_code == 401
        assert response.json() == NOT_AUTHENTICATED
        assert response.headers["www-authenticate"] == 'BASIC realm="Service-now"'


def test_revoke_needs_no_authentication(snow_client: httpx.Client,
                                        entity: tuple[str, str, str]) -> None:
    _, client_id, secret = entity
    token = password_grant(snow_client, entity).json()
    assert snow_client.post("/oauth_revoke_token.do",
                            data={"token": token["refresh_token"]}).status_code == 200
    api = snow_client.get(PROBE,
                          headers={"Authorization": f"Bearer {token['access_token']}"})
    assert api.status_code == 401
    assert_failure(snow_client.post("/oauth_token.do", data={
        "grant_type": "refresh_token", "client_id": client_id, "client_secret": secret,
        "refresh_token": token["refresh_token"]}))
    assert snow_client.get("/oauth_revoke_token.do",
                           params={"token": "unknown"}).status_code == 200


def test_revoking_an_access_token_only(snow_client: httpx.Client,
                                       entity: tuple[str, str, str]) -> None:
    _, client_id, secret = entity
    token = password_grant(snow_client, entity).json()
    snow_client.get("/oauth_revoke_token.do", params={"token": token["access_token"]})
    assert snow_client.get(PROBE, params={
        "access_token": token["access_token"]}).status_code == 401
    refreshed = snow_client.post("/oauth_token.do", data={
        "grant_type": "refresh_token", "client_id": client_id, "client_secret": secret,
        "refresh_token": token["refresh_token"]})
    assert refreshed.status_code == 200


def test_tokens_are_stored_hashed(snow_app: Flask, snow_client: httpx.Client,
                                  entity: tuple[str, str, str]) -> None:
    token = password_grant(snow_client, entity).json()
    path = Path(snow_app.extensions["mock_servicenow"].settings.database_path)
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert token["access_token"].encode() not in raw
    assert token["refresh_token"].encode() not in raw
    instance = snow_app.extensions["mock_servicenow"].instance
    db = instance.connect()
    stored = list(db.execute("SELECT token, type, expires FROM oauth_credential").fetchall())
    db.close()
    assert {row[1] for row in stored} == {"access_token", "refresh_token"}
    assert all(row[0] is None for row in stored)


# --- client_credentials: release and property gated (servicenow-behaviour §4.1) ----------

@pytest.fixture
def cc_entity(snow_app: Flask) -> tuple[str, str, str]:
    user = make_user(snow_app, "cc.app.user", "unused-Pass1")
    return make_client(snow_app, name="CC client", user_sys_id=user)


def client_credentials(client: httpx.Client, entity: tuple[str, str, str]) -> httpx.Response:
    return client.post("/oauth_token.do", data={"grant_type": "client_credentials",
                                                "client_id": entity[1],
                                                "client_secret": entity[2]})


def test_client_credentials_disabled_until_the_property_exists(
        snow_client: httpx.Client, cc_entity: tuple[str, str, str]) -> None:
    assert_failure(client_credentials(snow_client, cc_entity))


def test_client_credentials_with_the_property(snow_app: Flask, snow_client: httpx.Client,
                                              cc_entity: tuple[str, str, str]) -> None:
    set_property(snow_app, "glide.oauth.inbound.client.credential.grant_type.enabled", "true")
    response = client_credentials(snow_client, cc_entity)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["access_token", "scope", "token_type", "expires_in"]
    me = snow_client.get(PROBE,
                         headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["result"]["user_name"] == "cc.app.user"


def test_client_credentials_needs_an_application_user(snow_app: Flask,
                                                      snow_client: httpx.Client) -> None:
    set_property(snow_app, "glide.oauth.inbound.client.credential.grant_type.enabled", "true")
    assert_failure(client_credentials(snow_client, make_client(snow_app)))


@pytest.fixture
def vancouver_app(snow_settings: Settings) -> Iterator[Flask]:
    app = create_app(dataclasses.replace(snow_settings, release="vancouver"))
    yield app
    app.extensions["mock_servicenow"].instance.close()


def test_client_credentials_not_before_washington_dc(vancouver_app: Flask) -> None:
    set_property(vancouver_app, "glide.oauth.inbound.client.credential.grant_type.enabled",
                 "true")
    user = make_user(vancouver_app, "cc.app.user", "unused-Pass1")
    entity = make_client(vancouver_app, user_sys_id=user)
    with httpx.Client(transport=httpx.WSGITransport(app=vancouver_app),
                      base_url="https://dev00000.service-now.test") as client:
        assert_failure(client_credentials(client, entity))
