"""``/oauth_auth.do``: login, consent, Not You?, Allow/Deny, codes (servicenow-behaviour §4.2)."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from flask import Flask

from tests.mock_servicenow.identity_helpers import (
    PROBE,
    REDIRECT,
    add_probe,
    clock,
    form_action,
    form_field,
    login,
    make_client,
    make_user,
    set_property,
)

FAILURE = {"error_description": "access_denied", "error": "server_error"}


@pytest.fixture
def entity(snow_app: Flask) -> tuple[str, str, str]:
    return make_client(snow_app, name="Microsoft 365 Security + Compliance Connector")


def authorize_url(entity: tuple[str, str, str], **extra: str) -> str:
    params = {"response_type": "code", "client_id": entity[1], "redirect_uri": REDIRECT,
              "state": "xyz", **extra}
    return "/oauth_auth.do?" + urlencode({k: v for k, v in params.items() if v is not None})


def consent(client: httpx.Client, url: str, action: str) -> httpx.Response:
    page = client.get(url)
    assert page.status_code == 200, page.text
    return client.post(form_action(page.text), data={
        "sysparm_ck": form_field(page.text, "sysparm_ck"), "action": action})


def exchange(client: httpx.Client, entity: tuple[str, str, str], code: str,
             redirect_uri: str = REDIRECT, **extra: str) -> httpx.Response:
    return client.post("/oauth_token.do", data={
        "grant_type": "authorization_code", "client_id": entity[1], "client_secret": entity[2],
        "code": code, "redirect_uri": redirect_uri, **extra})


def code_of(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def test_anonymous_browser_gets_the_login_page(snow_client: httpx.Client,
                                               entity: tuple[str, str, str]) -> None:
    url = authorize_url(entity)
    response = snow_client.get(url)
    assert response.status_code == 302
    assert response.headers["location"] == "/login.do?" + urlencode({"sysparm_goto_url": url})


def test_full_code_flow(snow_client: httpx.Client, entity: tuple[str, str, str]) -> None:
    url = authorize_url(entity)
    logged_in = login(snow_client, "admin", "admin", goto=url)
    assert logged_in.headers["location"] == url
    page = snow_client.get(url)
    assert "System Administrator" in page.text and "Not You?" in page.text
    assert "Microsoft 365 Security + Compliance Connector" in page.text
    code = code_of(consent(snow_client, url, "allow"))
    token = exchange(snow_client, entity, code)
    assert token.status_code == 200
    assert list(token.json()) == ["access_token", "refresh_token", "scope", "token_type",
                                  "expires_in"]
    second = exchange(snow_client, entity, code)
    assert second.status_code == 401 and second.json() == FAILURE


def test_code_is_short_lived(snow_client: httpx.Client, entity: tuple[str, str, str]) -> None:
    clock(snow_client, action="freeze", at="2026-11-26 10:00:00")
    url = authorize_url(entity)
    login(snow_client, "admin", "admin")
    code = code_of(consent(snow_client, url, "allow"))
    clock(snow_client, action="advance", seconds=61)
    assert exchange(snow_client, entity, code).json() == FAILURE


def test_code_is_bound_to_client_and_redirect(snow_app: Flask, snow_client: httpx.Client,
                                              entity: tuple[str, str, str]) -> None:
    url = authorize_url(entity)
    login(snow_client, "admin", "admin")
    code = code_of(consent(snow_client, url, "allow"))
    other = make_client(snow_app, name="Other")
    assert exchange(snow_client, other, code).status_code == 401
    assert exchange(snow_client, entity, code,
                    redirect_uri="http://127.0.0.1:8765/callback").status_code == 401


def test_deny_redirects_with_access_denied_and_keeps_the_session(
        snow_client: httpx.Client, entity: tuple[str, str, str]) -> None:
    url = authorize_url(entity)
    login(snow_client, "admin", "admin")
    denied = consent(snow_client, url, "deny")
    assert denied.status_code == 302
    query = parse_qs(urlsplit(denied.headers["location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["xyz"]
    assert "code" not in query
    assert snow_client.get(url).status_code == 200  # still logged in (§4.2)


def test_not_you_logs_out_and_returns_to_login(snow_app: Flask, snow_client: httpx.Client,
                                               entity: tuple[str, str, str]) -> None:
    add_probe(snow_app)
    make_user(snow_app, "m365_integration", "Integr4tion!")
    url = authorize_url(entity)
    login(snow_client, "admin", "admin")
    page = snow_client.get(url)
    not_you = page.text.split('id="not_you" href="')[1].split('"')[0].replace("&amp;", "&")
    out = snow_client.get(not_you)
    assert out.status_code == 302
    assert out.headers["location"] == "/login.do?" + urlencode({"sysparm_goto_url": url})
    assert snow_client.get(url).status_code == 302  # logged out
    login(snow_client, "m365_integration", "Integr4tion!", goto=url)
    page = snow_client.get(url)
    assert 'id="consent_user"' in page.text and "(m365_integration)" in page.text
    code = code_of(consent(snow_client, url, "allow"))
    token = exchange(snow_client, entity, code).json()
    me = snow_client.get(PROBE, headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.json()["result"] == {"user_name": "m365_integration", "via": "bearer"}


def test_missing_state_is_refused_with_the_platform_message(
        snow_client: httpx.Client, entity: tuple[str, str, str]) -> None:
    response = snow_client.get(authorize_url(entity, state=None))  # type: ignore[arg-type]
    assert response.status_code == 400
    assert "Missing State parameter in request." in response.text


def test_state_not_required_when_the_property_is_false(snow_app: Flask,
                                                       snow_client: httpx.Client,
                                                       entity: tuple[str, str, str]) -> None:
    set_property(snow_app, "glide.oauth.state.parameter.required", "false")
    login(snow_client, "admin", "admin")
    response = snow_client.get(authorize_url(entity, state=None))  # type: ignore[arg-type]
    assert response.status_code == 200 and "Allow" in response.text


@pytest.mark.parametrize("extra", [
    {"redirect_uri": "https://evil.example/cb"},
    {"client_id": "f" * 32},
    {"response_type": "token"},
])
def test_bad_authorize_requests_never_redirect_elsewhere(snow_client: httpx.Client,
                                                         entity: tuple[str, str, str],
                                                         extra: dict[str, str]) -> None:
    login(snow_client, "admin", "admin")
    response = snow_client.get(authorize_url(entity, **extra))
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert response.headers["location"].startswith(REDIRECT)
        assert "error=" in response.headers["location"]
    else:
        assert "<html" in response.text.lower()


def test_consent_post_needs_the_csrf_token(snow_client: httpx.Client,
                                           entity: tuple[str, str, str]) -> None:
    url = authorize_url(entity)
    login(snow_client, "admin", "admin")
    response = snow_client.post(url, data={"action": "allow", "sysparm_ck": "forged"})
    assert response.status_code == 403
    assert "location" not in response.headers


def test_pkce_public_flow(snow_client: httpx.Client, entity: tuple[str, str, str]) -> None:
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode()
    url = authorize_url(entity, code_challenge=challenge.rstrip("="),
                        code_challenge_method="S256")
    login(snow_client, "admin", "admin")
    code = code_of(consent(snow_client, url, "allow"))
    assert exchange(snow_client, entity, code, code_verifier="w" * 64).status_code == 401
    code = code_of(consent(snow_client, url, "allow"))
    assert exchange(snow_client, entity, code, code_verifier=verifier).status_code == 200
