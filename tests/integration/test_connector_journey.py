"""The connector against the emulator in-process (httpx.WSGITransport, no sockets).

The full journey: connect (password grant, and the authorization-code flow driven through the
instance's login and consent pages with httpx), authorize (provisioning), share as a change
request and as an incident, sync after the instance changes states, custom state names on
cards, disconnect (old tokens rejected afterwards). Every request the connector sends is
recorded and validated against the OpenAPI documents in ``contracts/``.

The recorder fails the test on any exchange ``contracts/`` does not document (path, method,
query, request body, status, response body); tests/contract/test_consumer_contracts.py proves
it does with the real contracts.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from connector import Connector, ConnectorSettings, NotProvisioned
from tests.connector.recording import RecordingTransport, load_contract
from tests.connector.test_mapping import profiles

BASE = "https://dev00000.service-now.test"
ROOT = Path(__file__).resolve().parents[2]
REDIRECT_URI = "http://127.0.0.1:8765/callback"
CLIENT_SECRET = "journey-client-secret-0123456789"
# The demo seed's integration user (task brief: m365_integration / integration).
INTEGRATION_USER, INTEGRATION_PASSWORD = "m365_integration", "integration"


@functools.cache
def _contracts() -> tuple[dict[str, Any], ...]:
    paths = sorted([*ROOT.glob("contracts/*.openapi.yaml"),
                    *ROOT.glob("mock_servicenow/contracts/*.openapi.yaml")])
    assert paths, "no OpenAPI documents found in contracts/"
    return tuple(load_contract(p) for p in paths)


@pytest.fixture
def recorder(snow_app: Flask) -> Iterator[RecordingTransport]:
    transport = RecordingTransport(httpx.WSGITransport(app=snow_app), _contracts())
    yield transport
    assert transport.problems == [], "\n".join(transport.problems)
    # Every exchange was validated against contracts/: none bypassed the recorder or failed
    # before an answer (a transport error would leave nothing to check).
    assert all(exchange.response is not None for exchange in transport.exchanges)


@pytest.fixture
def oauth_client(snow_admin: httpx.Client) -> str:
    """An OAuth API endpoint for external clients, created the way an admin would (§4.3)."""
    response = snow_admin.post("/api/now/table/oauth_entity", json={
        "name": "Journey connector", "type": "client", "client_secret": CLIENT_SECRET,
        "redirect_url": REDIRECT_URI, "active": "true"})
    assert response.status_code == 201, response.text
    client_id = response.json()["result"]["client_id"]
    assert client_id
    return str(client_id)


@pytest.fixture
def make_connector(tmp_path: Path, recorder: RecordingTransport, snow_client: httpx.Client):  # type: ignore[no-untyped-def]
    def clock() -> float:
        # The connector follows the instance's controllable clock (token expiry, due dates).
        now = snow_client.get("/_emulator/clock").json()["now"]  # "YYYY-MM-DD HH:MM:SS" UTC
        return dt.datetime.fromisoformat(now).replace(tzinfo=dt.UTC).timestamp()

    def build(**options: Any) -> Connector:
        return Connector(ConnectorSettings(home=tmp_path / "home"), transport=recorder,
                         sleep=lambda _s: None, clock=clock, initiated_by="admin@contoso.com",
                         **options)
    return build


def _connect(connector: Connector, client_id: str) -> None:
    connector.connect_with_password(BASE, client_id, CLIENT_SECRET, INTEGRATION_USER,
                                    INTEGRATION_PASSWORD)


def test_full_journey(make_connector, oauth_client: str, snow_admin: httpx.Client,  # type: ignore[no-untyped-def]
                      snow_client: httpx.Client, recorder: RecordingTransport) -> None:
    connector: Connector = make_connector()
    _connect(connector, oauth_client)
    assert connector.status().summary == "connected, not provisioned"
    due = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    with pytest.raises(NotProvisioned):
        connector.share("DLPEnabled", ticket_type="change", priority="high", due=due)

    assert connector.authorize().summary == "connected and provisioned"
    change = connector.share("DLPEnabled", ticket_type="change", priority="high", due=due)
    incident = connector.share("MFARegistrationPolicy", ticket_type="incident",
                               priority="critical", due=due)
    assert change.number.startswith("CHG") and incident.number.startswith("INC")
    # Sharing again never makes a second ticket.
    assert connector.share("DLPEnabled", ticket_type="change", priority="high",
                           due=due).number == change.number

    # Visible on the instance, with the app's fields.
    row = snow_admin.get(f"/api/now/table/incident/{incident.sys_id}").json()["result"]
    assert row["priority"] == "1" and row["x_mioms_m365ticket_recommendation_source"] == \
        "microsoft"
    assert row["correlation_display"] == "Microsoft 365 Security and Configuration"

    # An agent picks the incident up; the connector's next sync sees it.
    snow_client.post("/_emulator/clock", json={"action": "advance", "seconds": 120})
    patched = snow_admin.patch(f"/api/now/table/incident/{incident.sys_id}",
                               json={"state": "2"})
    assert patched.status_code == 200
    result = connector.sync()
    assert result.changed >= 1
    states = {t.number: t.state for t in connector.tickets()}
    assert states[incident.number] == "2"

    connector.set_state_name("incident", "2", "Being fixed")
    cards = {c.table: c for c in connector.cards()}
    incident_lines = {line.name: line.count for line in cards["incident"].states}
    assert incident_lines["Being fixed"] == 1
    assert {line.name: line.count for line in cards["change_request"].states}["New"] == 1

    old = connector.store.load_credentials()
    assert old is not None
    done = connector.disconnect()
    assert done.connection_removed and done.tokens_revoked and not done.warnings
    rejected = snow_client.get("/api/now/table/incident",
                               headers={"Authorization": f"Bearer {old.access_token}"})
    assert rejected.status_code == 401
    refresh = snow_client.post("/oauth_token.do", data={
        "grant_type": "refresh_token", "client_id": oauth_client,
        "client_secret": CLIENT_SECRET, "refresh_token": old.refresh_token})
    assert refresh.status_code == 401
    assert connector.disconnect().was_connected is False
    # The journey went through the recorder: token, revoke, Table API and the app's API.
    exchanged = {(e.request.method, e.request.url.path) for e in recorder.exchanges}
    assert ("POST", "/oauth_token.do") in exchanged
    assert any(path.startswith("/api/now/table/") for _, path in exchanged)
    assert any(path.startswith("/api/x_mioms_m365ticket/") for _, path in exchanged)
    assert any(path == "/oauth_revoke_token.do" for _, path in exchanged)


class _Forms(HTMLParser):
    """Collects the forms of a page: action, method and input name/value pairs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": values.get("action", ""), "fields": {},
                               "buttons": []})
        elif tag in ("input", "button") and self.forms and values.get("name"):
            if values.get("type") in ("submit",) or tag == "button":
                self.forms[-1]["buttons"].append((values["name"], values.get("value", "")))
            else:
                self.forms[-1]["fields"][values["name"]] = values.get("value", "")


def _forms(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class ConsentDriver:
    """Plays the admin's browser: login page as the integration user, then Allow."""

    def __init__(self, app: Flask) -> None:
        self.browser = httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE)
        self.callback = ""
        self.redirect_uri = ""

    def start(self, redirect_uri: str) -> None:
        self.redirect_uri = redirect_uri

    def open(self, url: str) -> None:
        response = self.browser.get(url)
        for _ in range(10):
            if response.is_redirect:
                location = response.headers["Location"]
                if location.startswith(self.redirect_uri):
                    self.callback = location
                    return
                response = self.browser.get(httpx.URL(str(response.url)).join(location))
                continue
            forms = _forms(response.text)
            assert forms, response.text[:500]
            form = forms[0]
            data = dict(form["fields"])
            for name in data:
                if "password" in name:
                    data[name] = INTEGRATION_PASSWORD
                elif "user" in name:
                    data[name] = INTEGRATION_USER
            allow = [b for f in forms for b in f["buttons"] if b[1].lower() == "allow"]
            if allow:
                form = next(f for f in forms if allow[0] in f["buttons"])
                data = dict(form["fields"])
                data[allow[0][0]] = allow[0][1]
            elif form["buttons"]:
                data.setdefault(*form["buttons"][0])
            target = httpx.URL(str(response.url)).join(form["action"] or str(response.url))
            response = self.browser.post(target, data=data)
        raise AssertionError("the consent flow did not redirect back")

    def wait(self) -> str:
        return self.callback


def test_authorization_code_connect_through_login_and_consent(
        make_connector, oauth_client: str, snow_app: Flask) -> None:  # type: ignore[no-untyped-def]
    driver = ConsentDriver(snow_app)
    connector: Connector = make_connector(open_url=driver.open, receiver=lambda: driver)
    status = connector.connect_with_browser(BASE, oauth_client, CLIENT_SECRET)
    assert status.connected and not status.reauthorization_required
    assert "state=" in driver.callback and "code=" in driver.callback
    assert connector.authorize().provisioned


def test_wrong_client_secret_is_refused(make_connector, oauth_client: str) -> None:  # type: ignore[no-untyped-def]
    from connector import AuthenticationError

    connector: Connector = make_connector()
    with pytest.raises(AuthenticationError):
        connector.connect_with_password(BASE, oauth_client, "not-the-secret",
                                        INTEGRATION_USER, INTEGRATION_PASSWORD)
    assert connector.store.load_credentials() is None


@given(profiles, st.sampled_from(["critical", "high", "medium", "low"]),
       st.sampled_from(["change", "incident"]))
def test_mapped_payloads_satisfy_the_table_api_contract(profile: dict[str, Any],
                                                        priority: str, kind: str) -> None:
    """The hypothesis property of tests/connector/test_mapping.py, against contracts/."""
    from connector import build_task, to_payload
    from connector.graph import parse_profile
    from connector.mapping import TABLES
    from tests.connector.recording import validate_exchange

    action = parse_profile(profile)
    today = dt.date(2026, 11, 26)
    task = build_task(action=action, control_id=action.id, tenant_id=action.tenant_id,
                      initiated_by="admin@contoso.com", priority=priority, due=today,
                      today=today)
    request = httpx.Request("POST", f"{BASE}/api/now/table/{TABLES[kind]}",
                            json=to_payload(task, kind))
    results = [validate_exchange(contract, request, None) for contract in _contracts()]
    assert any(not problems for problems in results), results
