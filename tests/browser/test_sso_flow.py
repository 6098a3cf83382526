"""SSO in Chromium: the authorize page goes to the identity provider, which does not know the
integration user; the side door logs it in locally (troubleshooting case "SSO enabled")."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from flask import Flask

from tests.mock_servicenow.identity_helpers import make_client, make_user

CALLBACK = "http://127.0.0.1:8765/callback"


@pytest.mark.browser
def test_sso_redirect_then_side_door(snow_app: Flask, snow_server: str,
                                     browser_page: Any) -> None:
    make_user(snow_app, "m365_integration", "Integr4tion!", name="M365 Integration")
    _, client_id, _secret = make_client(snow_app)
    assert httpx.post(f"{snow_server}/_emulator/idp/sso",
                      json={"enabled": True}).status_code == 200
    assert httpx.post(f"{snow_server}/_emulator/idp/users", json={
        "user_name": "abel@contoso.test", "email": "abel.tuter@example.com",
        "password": "IdpPass1!", "name": "Abel Tuter"}).status_code == 201
    page = browser_page
    page.route(f"{CALLBACK}**", lambda route: route.fulfill(status=200, body="connected"))
    authorize = f"{snow_server}/oauth_auth.do?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK,
        "state": "s1"})

    # The authorize page sends the browser to the identity provider.
    page.goto(authorize)
    page.wait_for_selector("#idp_login")
    assert "/_idp/authorize" in page.url

    # The IdP does not know the integration user.
    page.fill("#idp_login", "m365_integration@example.com")
    page.fill("#idp_password", "Integr4tion!")
    page.click("#idp_submit")
    assert "Your account or password is incorrect." in page.inner_text("#idp_error")

    # A known IdP user signs in and lands on the consent page as the mapped sys_user.
    page.fill("#idp_login", "abel@contoso.test")
    page.fill("#idp_password", "IdpPass1!")
    page.click("#idp_submit")
    page.wait_for_selector("#allow")
    assert "Abel Tuter" in page.inner_text("#consent_user")

    # The documented fix: the side door logs the integration user in locally.
    page.goto(f"{snow_server}/logout.do")
    page.goto(f"{snow_server}/side_door.do?" + urlencode({"sysparm_goto_url": authorize[
        len(snow_server):]}))
    page.fill("#user_name", "m365_integration")
    page.fill("#user_password", "Integr4tion!")
    page.click("#sysverb_login")
    page.wait_for_selector("#allow")
    assert page.inner_text("#consent_user") == "M365 Integration"
    page.click("#allow")
    page.wait_for_url(f"{CALLBACK}**")
    assert "code=" in page.url and "state=s1" in page.url
