"""``/login.do``, ``/side_door.do``, ``/logout.do``, browser sessions (servicenow-behaviour §6)."""

from __future__ import annotations

import re

import httpx
import pytest
from flask import Flask

from tests.mock_servicenow.identity_helpers import (
    PROBE,
    add_probe,
    form_field,
    login,
    make_user,
    update_user,
)

NOT_AUTHENTICATED = {"error": {"message": "User Not Authenticated",
                               "detail": "Required to provide Auth information"},
                     "status": "failure"}


@pytest.fixture(autouse=True)
def _probe(snow_app: Flask) -> None:
    add_probe(snow_app)


def test_login_page_is_self_contained(snow_client: httpx.Client) -> None:
    page = snow_client.get("/login.do")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html;charset=UTF-8"
    assert 'name="user_name"' in page.text and 'name="user_password"' in page.text
    assert not re.search(r'(src|href)="(https?:)?//', page.text)  # no external assets


def test_login_sets_a_session_and_lands_on_navpage(snow_client: httpx.Client) -> None:
    response = login(snow_client, "admin", "admin")
    assert response.status_code == 302 and response.headers["location"] == "/navpage.do"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("glide_session_store=") and "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    page = snow_client.get("/navpage.do")
    assert "System Administrator" in page.text


def test_bad_credentials_show_the_platform_message(snow_client: httpx.Client) -> None:
    response = login(snow_client, "admin", "nope")
    assert response.status_code == 401
    assert "User name or password invalid" in response.text
    assert snow_client.get("/navpage.do").status_code == 302


def test_login_form_needs_the_csrf_token(snow_client: httpx.Client) -> None:
    snow_client.get("/login.do")
    response = snow_client.post("/login.do", data={"user_name": "admin",
                                                   "user_password": "admin",
                                                   "sysparm_ck": "forged"})
    assert response.status_code == 403
    assert snow_client.get("/navpage.do").status_code == 302


def test_web_service_only_user_cannot_log_in_to_pages(snow_app: Flask,
                                                      snow_client: httpx.Client) -> None:
    make_user(snow_app, "m365_integration", "Integr4tion!", web_service_access_only="true")
    response = login(snow_client, "m365_integration", "Integr4tion!")
    assert response.status_code == 403
    assert "web service access only" in response.text
    basic = snow_client.get(PROBE, auth=("m365_integration", "Integr4tion!"))
    assert basic.json()["result"]["user_name"] == "m365_integration"


@pytest.mark.parametrize("flags", [{"active": 0}, {"locked_out": 1}])
def test_inactive_and_locked_users_cannot_log_in(snow_app: Flask, snow_client: httpx.Client,
                                                 flags: dict[str, int]) -> None:
    sys_id = make_user(snow_app, "some.one", "Passw0rd!")
    update_user(snow_app, sys_id, **flags)
    assert login(snow_client, "some.one", "Passw0rd!").status_code == 401
    assert snow_client.get(PROBE, auth=("some.one", "Passw0rd!")).status_code == 401


def test_session_ends_when_the_user_is_locked_out(snow_app: Flask,
                                                  snow_client: httpx.Client) -> None:
    sys_id = make_user(snow_app, "some.one", "Passw0rd!")
    login(snow_client, "some.one", "Passw0rd!")
    assert snow_client.get("/navpage.do").status_code == 200
    update_user(snow_app, sys_id, locked_out=1)
    assert snow_client.get("/navpage.do").status_code == 302


def test_session_cookie_needs_the_user_token_on_the_api(snow_client: httpx.Client) -> None:
    login(snow_client, "admin", "admin")
    page = snow_client.get("/navpage.do").text
    g_ck = re.search(r'window.g_ck = "([0-9a-f]+)"', page)
    assert g_ck
    without = snow_client.get(PROBE)
    assert without.status_code == 401 and without.json() == NOT_AUTHENTICATED
    wrong = snow_client.get(PROBE, headers={"X-UserToken": "0" * 64})
    assert wrong.status_code == 401
    right = snow_client.get(PROBE, headers={"X-UserToken": g_ck.group(1)})
    assert right.json()["result"] == {"user_name": "admin", "via": "session"}


def test_anonymous_api_call_is_the_401_envelope(snow_client: httpx.Client) -> None:
    response = snow_client.get(PROBE)
    assert response.status_code == 401
    assert response.json() == NOT_AUTHENTICATED
    assert response.headers["www-authenticate"] == 'BASIC realm="Service-now"'


def test_logout_ends_the_session(snow_client: httpx.Client) -> None:
    login(snow_client, "admin", "admin")
    out = snow_client.get("/logout.do")
    assert out.status_code == 302 and out.headers["location"] == "/login.do"
    assert snow_client.get("/navpage.do").status_code == 302


def test_user_token_changes_at_login(snow_client: httpx.Client) -> None:
    before = form_field(snow_client.get("/login.do").text, "sysparm_ck")
    login(snow_client, "admin", "admin")
    after = re.search(r'window.g_ck = "([0-9a-f]+)"', snow_client.get("/navpage.do").text)
    assert after and after.group(1) != before


@pytest.mark.parametrize("goto", ["https://evil.example/", "//evil.example/x", "/\\evil"])
def test_no_open_redirect_after_login(snow_client: httpx.Client, goto: str) -> None:
    response = login(snow_client, "admin", "admin", goto=goto)
    assert response.headers["location"] == "/navpage.do"


def test_side_door_logs_in_locally_and_refuses_when_logged_in(
        snow_client: httpx.Client) -> None:
    page = snow_client.get("/side_door.do")
    assert page.status_code == 200
    response = snow_client.post("/side_door.do", data={
        "sysparm_ck": form_field(page.text, "sysparm_ck"), "user_name": "admin",
        "user_password": "admin"})
    assert response.status_code == 302
    again = snow_client.get("/side_door.do")
    assert again.status_code == 400 and "already logged in" in again.text


def test_logout_kills_a_copied_cookie(snow_client: httpx.Client) -> None:
    login(snow_client, "admin", "admin")
    copied = snow_client.cookies["glide_session_store"]
    snow_client.get("/logout.do")
    snow_client.cookies.set("glide_session_store", copied, domain="dev00000.service-now.test")
    assert snow_client.get("/navpage.do").status_code == 302


def test_idle_session_times_out_by_the_instance_clock(snow_client: httpx.Client) -> None:
    snow_client.post("/_emulator/clock", json={"action": "freeze", "at": "2026-11-26 10:00:00"})
    login(snow_client, "admin", "admin")
    snow_client.post("/_emulator/clock", json={"action": "advance", "seconds": 29 * 60})
    assert snow_client.get("/navpage.do").status_code == 200  # activity extends the session
    snow_client.post("/_emulator/clock", json={"action": "advance", "seconds": 29 * 60})
    assert snow_client.get("/navpage.do").status_code == 200
    snow_client.post("/_emulator/clock", json={"action": "advance", "seconds": 30 * 60})
    assert snow_client.get("/navpage.do").status_code == 302
