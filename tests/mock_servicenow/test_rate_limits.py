"""Inbound REST rate limits: hourly windows on the instance clock, 429 with the documented
headers and body (servicenow-behaviour §1.5 "Rate limited")."""

from __future__ import annotations

import httpx
import pytest
from flask import Blueprint, Flask

from mock_servicenow.domain.platform.seed import storage_row
from mock_servicenow.web.auth import authenticate, rest_api_name
from mock_servicenow.web.responses import json_response

ABEL = "62826bf03710200044e0bfc8bcbe5df1"
RULE = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def app(snow_app: Flask) -> Flask:
    probe = Blueprint("probe", __name__)

    @probe.get("/api/x_probe/v1/ping")
    def ping():  # type: ignore[no-untyped-def]
        return json_response({"result": {"user": authenticate().user_name}})

    snow_app.register_blueprint(probe)
    instance = snow_app.extensions["mock_servicenow"].instance
    db = instance.connect()
    with db.atomic():
        db.execute("UPDATE sys_user SET user_password = (SELECT user_password FROM sys_user "
                   "WHERE user_name = 'admin') WHERE sys_id = ?", [ABEL])
        row = storage_row(instance.platform.dictionary, "sys_rate_limit_rules", {
            "name": "Abel: 3 per hour", "rest_resource": "x_probe", "user": ABEL,
            "max_requests": "3", "type": "user"}, stamp="2026-01-01 00:00:00", user_name="admin")
        row["sys_id"] = RULE
        db.table("sys_rate_limit_rules").insert(row)
    db.close()
    return snow_app


def _client(app: Flask, user: str) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=app),
                        base_url="https://dev00000.service-now.test", auth=(user, "admin"))


def test_the_fourth_request_in_the_hour_is_refused(app: Flask) -> None:
    abel = _client(app, "abel.tuter")
    abel.post("/_emulator/clock", json={"action": "freeze", "at": "2026-03-01 10:15:00"})
    assert [abel.get("/api/x_probe/v1/ping").status_code for _ in range(3)] == [200, 200, 200]
    refused = abel.get("/api/x_probe/v1/ping")
    assert refused.status_code == 429
    assert refused.json() == {"error": {"message": "Rate limit exceeded",
                                        "detail": "Rate limit of 3 requests per hour for "
                                                  "x_probe exceeded"},
                              "status": "failure"}
    assert refused.headers["Retry-After"] == str(45 * 60)
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert refused.headers["X-RateLimit-Reset"] == "1772362800"  # 2026-03-01 11:00:00 UTC
    assert refused.headers["X-RateLimit-Rule"] == RULE
    assert "X-RateLimit-Remaining" not in refused.headers


def test_the_next_window_starts_afresh(app: Flask) -> None:
    abel = _client(app, "abel.tuter")
    abel.post("/_emulator/clock", json={"action": "freeze", "at": "2026-03-01 10:59:00"})
    for _ in range(4):
        abel.get("/api/x_probe/v1/ping")
    abel.post("/_emulator/clock", json={"action": "advance", "seconds": 60})
    assert abel.get("/api/x_probe/v1/ping").status_code == 200


def test_other_users_are_not_limited(app: Flask) -> None:
    admin = _client(app, "admin")
    assert all(admin.get("/api/x_probe/v1/ping").status_code == 200 for _ in range(5))


@pytest.mark.parametrize("path, name", [
    ("/api/now/table/incident", "Table API"),
    ("/api/now/v2/table/incident/abc", "Table API"),
    ("/api/now/stats/incident", "Aggregate API"),
    ("/api/now/v1/batch", "Batch API"),
    ("/api/x_mioms_m365ticket/v1/connection", "x_mioms_m365ticket"),
    ("/oauth_token.do", None),
])
def test_requests_are_counted_against_their_api(path: str, name: str | None) -> None:
    assert rest_api_name(path) == name
