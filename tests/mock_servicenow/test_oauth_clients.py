"""Real, unmodified OAuth clients complete the password and refresh flows.

requests-oauthlib (what pysnc and pysnow use) and authlib's own client, both over a real
socket (``snow_server``), as a connector would use them (servicenow-behaviour §4.1).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.mock_servicenow.identity_helpers import PROBE, add_probe, clock, make_client


@pytest.fixture
def served(snow_app: Flask) -> Flask:
    add_probe(snow_app)  # before the server handles its first request
    return snow_app


def test_requests_oauthlib_password_and_refresh(served: Flask, snow_server: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from oauthlib.oauth2 import LegacyApplicationClient
    from requests_oauthlib import OAuth2Session

    # oauthlib refuses http:// even on loopback; clients of a local instance set this.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    _, client_id, secret = make_client(served)
    token_url = f"{snow_server}/oauth_token.do"
    updates: list[dict[str, Any]] = []
    session = OAuth2Session(client=LegacyApplicationClient(client_id=client_id),
                            auto_refresh_url=token_url,
                            auto_refresh_kwargs={"client_id": client_id,
                                                 "client_secret": secret},
                            token_updater=updates.append)
    token = session.fetch_token(token_url=token_url, username="admin", password="admin",
                                client_id=client_id, client_secret=secret)
    assert token["token_type"] == "Bearer" and token["expires_in"] == 1799
    me = session.get(f"{snow_server}{PROBE}")
    assert me.json()["result"] == {"user_name": "admin", "via": "bearer"}

    refreshed = session.refresh_token(token_url, client_id=client_id, client_secret=secret)
    assert refreshed["refresh_token"] == token["refresh_token"]
    assert refreshed["access_token"] != token["access_token"]
    assert session.get(f"{snow_server}{PROBE}").status_code == 200
    session.close()


def test_requests_oauthlib_auto_refresh_on_expiry(served: Flask, snow_server: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx
    from oauthlib.oauth2 import LegacyApplicationClient
    from requests_oauthlib import OAuth2Session

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    _, client_id, secret = make_client(served)
    token_url = f"{snow_server}/oauth_token.do"
    updates: list[dict[str, Any]] = []
    session = OAuth2Session(client=LegacyApplicationClient(client_id=client_id),
                            auto_refresh_url=token_url,
                            auto_refresh_kwargs={"client_id": client_id,
                                                 "client_secret": secret},
                            token_updater=updates.append)
    token = session.fetch_token(token_url=token_url, username="admin", password="admin",
                                client_id=client_id, client_secret=secret)
    with httpx.Client(base_url=snow_server) as control:
        clock(control, action="freeze")
        clock(control, action="advance", seconds=1800)
        old = control.get(PROBE, headers={"Authorization": f"Bearer {token['access_token']}"})
        assert old.status_code == 401
    # The client's own view of expiry is wall-clock: make it due, as it would be 30 min later.
    session.token = {**session.token, "expires_at": 1, "expires_in": -1}
    assert session.get(f"{snow_server}{PROBE}").status_code == 200
    assert len(updates) == 1 and updates[0]["refresh_token"] == token["refresh_token"]
    session.close()


def test_authlib_client_password_and_refresh(served: Flask, snow_server: str) -> None:
    from authlib.integrations.requests_client import OAuth2Session

    _, client_id, secret = make_client(served)
    token_url = f"{snow_server}/oauth_token.do"
    session = OAuth2Session(client_id, secret, token_endpoint=token_url,
                            token_endpoint_auth_method="client_secret_post")
    token = session.fetch_token(token_url, grant_type="password", username="admin",
                                password="admin")
    assert token["scope"] == "useraccount" and token["expires_in"] == 1799
    assert session.get(f"{snow_server}{PROBE}").json()["result"]["user_name"] == "admin"
    refreshed = session.refresh_token(token_url, refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] == token["refresh_token"]
    assert refreshed["access_token"] != token["access_token"]
    assert session.get(f"{snow_server}{PROBE}").status_code == 200
    session.close()
