"""The whole authorization-code flow in Chromium: login page, consent, "Not You?", Allow,
code exchange (servicenow-behaviour §4.2; troubleshooting case "personal credentials")."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from flask import Flask

from tests.mock_servicenow.identity_helpers import make_client, make_user

CALLBACK = "http://127.0.0.1:8765/callback"


@pytest.mark.browser
def test_authorization_code_flow_with_not_you(snow_app: Flask, snow_server: str,
                                              browser_page: Any) -> None:
    make_user(snow_app, "m365_integration", "Integr4tion!", name="M365 Integration")
    _, client_id, secret = make_client(
        snow_app, name="Microsoft 365 Security + Compliance Connector")
    page = browser_page
    callbacks: list[str] = []
    page.route(f"{CALLBACK}**", lambda route: (callbacks.append(route.request.url),
                                               route.fulfill(status=200, body="connected")))
    authorize = f"{snow_server}/oauth_auth.do?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK,
        "state": "abc123"})

    # 1. Not logged in: the instance's login page. The admin logs in with personal credentials.
    page.goto(authorize)
    assert "/login.do" in page.url
    page.fill("#user_name", "admin")
    page.fill("#user_password", "admin")
    page.click("#sysverb_login")

    # 2. Consent page names the wrong (personal) user.
    page.wait_for_selector("#allow")
    assert page.inner_text("#consent_user") == "System Administrator"
    assert "Microsoft 365 Security + Compliance Connector" in page.inner_text("#client_name")

    # 3. "Not You?" logs out and returns to the login page; log in as the integration user.
    page.click("#not_you")
    page.wait_for_selector("#user_name")
    assert "/login.do" in page.url
    page.fill("#user_name", "m365_integration")
    page.fill("#user_password", "Integr4tion!")
    page.click("#sysverb_login")
    page.wait_for_selector("#allow")
    assert page.inner_text("#consent_user") == "M365 Integration"

    # 4. Allow: back to the client's redirect URI with a code and the state.
    page.click("#allow")
    page.wait_for_url(f"{CALLBACK}**")
    query = parse_qs(urlsplit(callbacks[-1]).query)
    assert query["state"] == ["abc123"]

    # 5. The client exchanges the code; the token acts as the integration user.
    token = httpx.post(f"{snow_server}/oauth_token.do", data={
        "grant_type": "authorization_code", "code": query["code"][0],
        "redirect_uri": CALLBACK, "client_id": client_id, "client_secret": secret})
    assert token.status_code == 200, token.text
    body = token.json()
    assert list(body) == ["access_token", "refresh_token", "scope", "token_type", "expires_in"]
    instance = snow_app.extensions["mock_servicenow"].instance
    db = instance.connect()
    users = {row[0] for row in db.execute(
        "SELECT u.user_name FROM oauth_credential c JOIN sys_user u ON u.sys_id = c.user")}
    db.close()
    assert users == {"m365_integration"}
