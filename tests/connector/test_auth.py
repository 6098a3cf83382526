"""Token handling: proactive refresh, one refresh-and-retry on 401, persistence, refusal."""

from __future__ import annotations

import json
import os
import stat

import httpx
import pytest

from connector import Connector, ReauthorizationRequired
from connector.auth import InstanceAuth, code_from_callback, parse_token_response
from connector.errors import AuthenticationError
from connector.store import Credentials
from tests.connector import fake_instance
from tests.connector.fake_instance import FakeInstance


def _token_grants(fake: FakeInstance) -> list[str]:
    grants = []
    for request in fake.requests:
        if request.url.path == "/oauth_token.do":
            grants.append(dict(httpx.QueryParams(request.content.decode()))["grant_type"])
    return grants


def test_password_connect_stores_tokens_owner_only(connected: Connector) -> None:
    path = connected.store.credentials_path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    data = json.loads(path.read_text())
    assert set(data) == {"instance_url", "client_id", "client_secret", "access_token",
                         "refresh_token", "expires_at", "ca_bundle"}
    assert "password" not in path.read_text()  # the integration user's password is not kept
    assert fake_instance.PASSWORD not in path.read_text()


def test_proactive_refresh_before_expiry(connected: Connector, fake: FakeInstance) -> None:
    before = connected.store.load_credentials()
    assert before is not None
    fake.now += 1799 - 30  # inside the 60 s leeway
    connected.status()
    after = connected.store.load_credentials()
    assert after is not None and after.access_token != before.access_token
    assert after.refresh_token == before.refresh_token  # ServiceNow echoes it (§4.1)
    # Refreshed before the API call: no 401 was needed.
    assert _token_grants(fake)[-1] == "refresh_token"
    assert not [r for r in fake.requests if r.url.path.startswith("/api/")
                and r.headers.get("Authorization") == f"Bearer {before.access_token}"
                and fake.requests.index(r) > len(fake.requests) - 3]


def test_401_refreshes_once_and_retries(connected: Connector, fake: FakeInstance) -> None:
    fake.expire_access_tokens()  # revoked early on the instance; the connector cannot know
    status = connected.status()
    assert status.summary == "connected and provisioned"
    api_calls = [r for r in fake.requests if r.url.path.endswith("/connection")]
    assert [c.method for c in api_calls[-2:]] == ["GET", "GET"]
    assert _token_grants(fake).count("refresh_token") == 1
    saved = connected.store.load_credentials()
    assert saved is not None and saved.access_token in fake.access


def test_new_tokens_survive_a_new_process(connected: Connector, fake: FakeInstance,
                                          make_connector) -> None:  # type: ignore[no-untyped-def]
    fake.expire_access_tokens()
    connected.status()
    fresh = make_connector()
    assert fresh.status().summary == "connected and provisioned"
    assert _token_grants(fake).count("refresh_token") == 1  # the persisted token is used


def test_failed_refresh_means_reauthorization_required(connected: Connector,
                                                       fake: FakeInstance) -> None:
    fake.expire_access_tokens()
    fake.refresh.clear()  # refresh token expired/revoked on the instance
    status = connected.status()
    assert status.summary == "reauthorization required"
    assert status.hint and "connect" in status.hint
    assert connected.store.load_state().reauthorization_required
    with pytest.raises(ReauthorizationRequired) as caught:
        connected.share("DLPEnabled", ticket_type="change", priority="low", due="2030-01-01")
    assert "refresh token" in str(caught.value)


def test_second_401_after_refresh_is_reported_not_looped(connected: Connector,
                                                         fake: FakeInstance) -> None:
    from connector import NotAuthenticated

    original = fake._route

    def always_401(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/api/"):
            return httpx.Response(401, json={"error": {"message": "User Not Authenticated",
                                                       "detail": "Required to provide Auth "
                                                                 "information"},
                                             "status": "failure"})
        return original(request)

    fake._route = always_401  # type: ignore[method-assign]
    with pytest.raises(NotAuthenticated):
        connected.cards()
    assert _token_grants(fake).count("refresh_token") == 1


def test_token_failure_message_has_no_secret() -> None:
    response = httpx.Response(401, json={"error_description": "access_denied",
                                         "error": "server_error"})
    with pytest.raises(AuthenticationError) as caught:
        parse_token_response(response, "password", lambda: 0.0)
    assert "client id" in str(caught.value)


def test_wrong_client_secret_is_refused_and_nothing_stored(connector: Connector) -> None:
    with pytest.raises(AuthenticationError) as caught:
        connector.connect_with_password(fake_instance.BASE, fake_instance.CLIENT_ID, "wrong",
                                        fake_instance.USER, fake_instance.PASSWORD)
    assert "wrong" not in str(caught.value)
    assert connector.store.load_credentials() is None


def test_credentials_repr_hides_secrets() -> None:
    creds = Credentials("https://x", "cid", "SECRET1", "ACCESS1", "REFRESH1", None)
    text = repr(creds)
    assert "SECRET1" not in text and "ACCESS1" not in text and "REFRESH1" not in text


def test_callback_state_is_checked() -> None:
    with pytest.raises(AuthenticationError, match="state"):
        code_from_callback("http://127.0.0.1:8765/callback?code=abc&state=other", "expected")
    with pytest.raises(AuthenticationError, match="Allow"):
        code_from_callback("http://127.0.0.1:8765/callback?error=access_denied&state=s", "s")
    assert code_from_callback("http://127.0.0.1:8765/callback?code=abc&state=s", "s") == "abc"


def test_auth_flow_on_its_own_with_mock_transport() -> None:
    """The httpx.Auth is usable without the Connector (refresh via the same transport)."""
    fake = FakeInstance()
    fake.access["old"] = fake.now - 1
    fake.refresh.add("r1")
    saved: list[str] = []
    creds = Credentials(fake_instance.BASE, fake_instance.CLIENT_ID,
                        fake_instance.CLIENT_SECRET, "old", "r1", fake.now + 1000)
    auth = InstanceAuth(creds, on_tokens=lambda c: saved.append(c.access_token),
                        on_refresh_refused=lambda: None, clock=fake.clock)
    with httpx.Client(transport=httpx.MockTransport(fake), base_url=fake_instance.BASE,
                      auth=auth) as client:
        response = client.get("/api/x_mioms_m365ticket/v1/connection")
    assert response.status_code == 200
    assert saved == [creds.access_token] and creds.refresh_token == "r1"
