"""Multi-provider SSO with the identity-provider stand-in (servicenow-behaviour §6)."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from flask import Flask

from tests.mock_servicenow.identity_helpers import (
    form_field,
    make_client,
    make_user,
    set_property,
)

BASE = "https://dev00000.service-now.test"


@pytest.fixture
def sso_on(snow_client: httpx.Client) -> dict[str, str]:
    response = snow_client.post("/_emulator/idp/sso", json={"enabled": True})
    assert response.status_code == 200, response.text
    return response.json()["result"]  # type: ignore[no-any-return]


def add_idp_user(client: httpx.Client, user_name: str, email: str,
                 password: str = "IdpPass1!") -> None:
    response = client.post("/_emulator/idp/users", json={
        "user_name": user_name, "email": email, "password": password, "name": user_name})
    assert response.status_code == 201, response.text


def to_idp(client: httpx.Client, goto: str = "/navpage.do") -> str:
    """Follow login.do -> login_with_sso.do -> the IdP; returns the IdP sign-in URL."""
    first = client.get("/login.do", params={"sysparm_goto_url": goto})
    assert first.status_code == 302 and first.headers["location"].startswith("/login_with_sso.do")
    second = client.get(first.headers["location"])
    assert second.status_code == 302
    location = second.headers["location"]
    assert location.startswith(BASE + "/_idp/authorize?")
    return location[len(BASE):]


def idp_sign_in(client: httpx.Client, url: str, login: str,
                password: str = "IdpPass1!") -> httpx.Response:
    page = client.get(url)
    return client.post(url, data={"idp_ck": form_field(page.text, "idp_ck"), "login": login,
                                  "password": password})


def post_back(client: httpx.Client, form_post: httpx.Response,
              **override: str) -> httpx.Response:
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form_post.text))
    fields = {k: html.unescape(v) for k, v in fields.items()}
    fields.update(override)
    action = html.unescape(re.search(r'action="([^"]+)"', form_post.text).group(1))  # type: ignore[union-attr]
    return client.post(action[len(BASE):], data=fields)


def test_login_page_is_local_while_sso_is_off(snow_client: httpx.Client) -> None:
    assert snow_client.get("/login.do").status_code == 200


def test_sso_login_maps_the_idp_user_by_email(snow_client: httpx.Client,
                                              sso_on: dict[str, str]) -> None:
    add_idp_user(snow_client, "abel@contoso.test", "abel.tuter@example.com")
    url = to_idp(snow_client)
    form_post = idp_sign_in(snow_client, url, "abel@contoso.test")
    assert form_post.status_code == 200 and "id_token" in form_post.text
    landed = post_back(snow_client, form_post)
    assert landed.status_code == 302 and landed.headers["location"] == "/navpage.do"
    assert "abel.tuter" in snow_client.get("/navpage.do").text


def test_idp_refuses_unknown_credentials(snow_client: httpx.Client,
                                         sso_on: dict[str, str]) -> None:
    add_idp_user(snow_client, "abel@contoso.test", "abel.tuter@example.com")
    url = to_idp(snow_client)
    response = idp_sign_in(snow_client, url, "abel@contoso.test", "wrong")
    assert response.status_code == 401
    assert "Your account or password is incorrect." in response.text
    response = idp_sign_in(snow_client, url, "m365_integration@example.com")
    assert response.status_code == 401


def test_idp_user_without_sys_user_gets_a_clear_page(snow_client: httpx.Client,
                                                     sso_on: dict[str, str]) -> None:
    add_idp_user(snow_client, "stranger", "stranger@contoso.test")
    form_post = idp_sign_in(snow_client, to_idp(snow_client), "stranger@contoso.test")
    refused = post_back(snow_client, form_post)
    assert refused.status_code == 403
    assert "no user with that email exists on this instance" in refused.text
    assert "/side_door.do" in refused.text
    assert snow_client.get("/navpage.do").status_code == 302


def test_web_service_only_user_cannot_use_sso(snow_app: Flask, snow_client: httpx.Client,
                                              sso_on: dict[str, str]) -> None:
    make_user(snow_app, "m365_integration", "Integr4tion!", web_service_access_only="true")
    add_idp_user(snow_client, "m365_integration", "m365_integration@example.com")
    refused = post_back(snow_client, idp_sign_in(snow_client, to_idp(snow_client),
                                                 "m365_integration"))
    assert refused.status_code == 403 and "web service access only" in refused.text


def _tamper(token: str) -> str:
    head, payload, signature = token.split(".")
    return ".".join([head, payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB"), signature])


def test_tampered_expired_or_foreign_tokens_are_refused(snow_client: httpx.Client,
                                                        sso_on: dict[str, str]) -> None:
    add_idp_user(snow_client, "abel@contoso.test", "abel.tuter@example.com")
    form_post = idp_sign_in(snow_client, to_idp(snow_client), "abel@contoso.test")
    token = html.unescape(re.search(r'name="id_token" value="([^"]+)"',  # type: ignore[union-attr]
                                    form_post.text).group(1))
    refused = post_back(snow_client, form_post, id_token=_tamper(token))
    assert refused.status_code == 403 and "invalid signature" in refused.text

    form_post = idp_sign_in(snow_client, to_idp(snow_client), "abel@contoso.test")
    snow_client.post("/_emulator/clock", json={"action": "advance", "seconds": 3601})
    refused = post_back(snow_client, form_post)
    assert refused.status_code == 403 and "expired" in refused.text
    snow_client.post("/_emulator/clock", json={"action": "reset"})

    url = to_idp(snow_client)
    query = parse_qs(urlsplit(url).query)
    query["client_id"] = ["someone-else"]
    foreign = "/_idp/authorize?" + urlencode({k: v[0] for k, v in query.items()})
    refused = post_back(snow_client, idp_sign_in(snow_client, foreign, "abel@contoso.test"))
    assert refused.status_code == 403 and "audience mismatch" in refused.text


def test_replayed_response_is_refused(snow_client: httpx.Client,
                                      sso_on: dict[str, str]) -> None:
    add_idp_user(snow_client, "abel@contoso.test", "abel.tuter@example.com")
    form_post = idp_sign_in(snow_client, to_idp(snow_client), "abel@contoso.test")
    assert post_back(snow_client, form_post).status_code == 302
    snow_client.get("/logout.do")
    assert post_back(snow_client, form_post).status_code == 403


def test_authorize_goes_to_the_idp_and_side_door_stays_local(
        snow_app: Flask, snow_client: httpx.Client, sso_on: dict[str, str]) -> None:
    make_user(snow_app, "m365_integration", "Integr4tion!")
    entity = make_client(snow_app)
    authorize = "/oauth_auth.do?" + urlencode({
        "response_type": "code", "client_id": entity[1],
        "redirect_uri": "https://client.example.test/callback", "state": "s1"})
    login_redirect = snow_client.get(authorize).headers["location"]
    to_idp(snow_client, goto=parse_qs(urlsplit(login_redirect).query)["sysparm_goto_url"][0])
    side = snow_client.get("/side_door.do", params={"sysparm_goto_url": authorize})
    assert side.status_code == 200
    done = snow_client.post("/side_door.do", data={
        "sysparm_ck": form_field(side.text, "sysparm_ck"), "user_name": "m365_integration",
        "user_password": "Integr4tion!", "sysparm_goto_url": authorize})
    assert done.headers["location"] == authorize
    consent = snow_client.get(authorize)
    assert consent.status_code == 200 and "(m365_integration)" in consent.text


def test_sso_property_off_again(snow_app: Flask, snow_client: httpx.Client,
                                sso_on: dict[str, str]) -> None:
    set_property(snow_app, "glide.authenticate.multisso.enabled", "false")
    assert snow_client.get("/login.do").status_code == 200


def test_control_plane_manages_idp_users(snow_client: httpx.Client) -> None:
    add_idp_user(snow_client, "alice", "alice@contoso.test", "AlicePass1!")
    listed = snow_client.get("/_emulator/idp/users").json()["result"]
    assert listed == [{"user_name": "alice", "email": "alice@contoso.test", "name": "alice"}]
    assert "AlicePass1!" not in snow_client.get("/_emulator/idp/users").text
    assert snow_client.delete("/_emulator/idp/users/alice").status_code == 204
    assert snow_client.get("/_emulator/idp/users").json()["result"] == []
    missing = snow_client.delete("/_emulator/idp/users/alice")
    assert missing.status_code == 404
    bad = snow_client.post("/_emulator/idp/users", json={"user_name": "x"})
    assert bad.status_code == 400 and bad.json()["status"] == "failure"
    bad = snow_client.post("/_emulator/idp/users", content=b"{not json",
                           headers={"Content-Type": "application/json"})
    assert bad.status_code == 400
    assert snow_client.post("/_emulator/idp/sso", json={"enabled": "yes"}).status_code == 400
    assert snow_client.post("/_emulator/idp/sso",
                            json={"enabled": True, "client_id": {"a": 1}}).status_code == 400


def test_idp_refuses_foreign_redirect_uris(snow_client: httpx.Client) -> None:
    response = snow_client.get("/_idp/authorize", params={
        "client_id": "x", "redirect_uri": "https://evil.example/cb", "state": "s"})
    assert response.status_code == 400 and "AADSTS50011" in response.text


def test_callback_without_a_pending_login_is_refused(snow_client: httpx.Client) -> None:
    response = snow_client.post("/oauth_redirect.do", data={"id_token": "x", "state": "y"})
    assert response.status_code == 403 and "state mismatch" in response.text
