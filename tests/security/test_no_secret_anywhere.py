"""No secret in any log line, journal entry, error or page (issue 8 item 7, ARCHITECTURE §5).

One journey against an instance whose passwords are distinctive (so a leak cannot hide behind
a user name), with the access log on. Everything the emulator writes is captured: stdout and
stderr (access log), log records, the journal, and every response's headers and body except
the one place a secret is the answer (the token endpoint's 200). The run-wide scan in
tests/conftest.py (tests/security/secret_scan.py) covers the rest of the suite.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask

from mock_servicenow.app import create_app
from mock_servicenow.pytest_plugin import IN_PROCESS_BASE_URL
from mock_servicenow.settings import Settings
from tests.mock_servicenow.identity_helpers import make_client
from tests.security.secret_scan import SecretScan, scanning

ADMIN_PASSWORD = "Adm1n-pw-7f3a9c"
INTEGRATION_PASSWORD = "Integr4tion-pw-b81d"


@pytest.fixture
def app(snow_settings: Settings) -> Iterator[Flask]:
    settings = dataclasses.replace(snow_settings, admin_password=ADMIN_PASSWORD,
                                   integration_password=INTEGRATION_PASSWORD, access_log=True)
    built = create_app(settings)
    yield built
    built.extensions["mock_servicenow"].instance.close()


def test_a_whole_journey_leaks_no_secret(app: Flask, capfd: pytest.CaptureFixture[str],
                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _, client_id, client_secret = make_client(app)
    secrets = {ADMIN_PASSWORD, INTEGRATION_PASSWORD, client_secret}
    seen: list[str] = []

    def keep(response: httpx.Response) -> None:
        response.read()
        seen.append(" ".join(f"{k}: {v}" for k, v in response.headers.items()))
        if not (response.request.url.path == "/oauth_token.do" and response.is_success):
            seen.append(response.text)

    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=IN_PROCESS_BASE_URL,
                      event_hooks={"response": [keep]}) as client:
        token = client.post("/oauth_token.do", data={
            "grant_type": "password", "client_id": client_id, "client_secret": client_secret,
            "username": "admin", "password": ADMIN_PASSWORD}).json()
        secrets |= {token["access_token"], token["refresh_token"]}
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        assert client.get("/api/now/table/incident", params={"sysparm_limit": 1},
                          headers=bearer).status_code == 200
        # The token in the query string (allowed, §4): the journal and access log mask it.
        # (Not kept for the response scan: its Link header echoes the caller's own query,
        # token included, as the pagination links repeat the request's parameters.)
        client.event_hooks["response"] = []
        assert client.get("/api/now/table/incident", params={
            "sysparm_limit": 1, "access_token": token["access_token"]}).status_code == 200
        client.event_hooks["response"] = [keep]
        # Failures that involve the secrets.
        for attempt in [
            {"grant_type": "password", "client_id": client_id, "client_secret": client_secret,
             "username": "admin", "password": ADMIN_PASSWORD + "x"},
            {"grant_type": "password", "client_id": client_id, "client_secret": "x" + client_secret,
             "username": "m365_integration", "password": INTEGRATION_PASSWORD},
            {"grant_type": "refresh_token", "client_id": client_id,
             "client_secret": client_secret, "refresh_token": token["refresh_token"] + "x"},
        ]:
            assert client.post("/oauth_token.do", data=attempt).status_code == 401
        assert client.post("/oauth_token.do", params={"password": ADMIN_PASSWORD},
                           data={"grant_type": "password"}).status_code == 401
        assert client.get("/api/now/table/incident",
                          auth=("admin", INTEGRATION_PASSWORD)).status_code == 401
        assert client.get("/api/now/table/incident", headers={
            "Authorization": f"Bearer {token['access_token']}x"}).status_code == 401
        assert client.get("/api/now/table/sys_user", params={
            "sysparm_query": f"active=true^user_password={ADMIN_PASSWORD}"},
            headers=bearer).status_code == 403
        assert client.post("/api/now/table/sys_user", headers=bearer,
                           content=f'{{"user_password": "{ADMIN_PASSWORD}"'.encode(),
                           ).status_code == 400
        # Users, entities and the app's connection as the admin sees them.
        for table in ("sys_user", "oauth_entity", "oauth_credential"):
            assert client.get(f"/api/now/table/{table}", headers=bearer).status_code == 200
        login = client.get("/login.do")
        ck = login.text.split('name="sysparm_ck" value="', 1)[1].split('"', 1)[0]
        assert client.post("/login.do", data={"user_name": "admin", "sysparm_ck": ck,
                                              "user_password": INTEGRATION_PASSWORD}
                           ).status_code == 401
        assert client.post("/login.do", data={"user_name": "admin", "sysparm_ck": ck,
                                              "user_password": ADMIN_PASSWORD}
                           ).status_code == 302
        for page in ("/oauth_entity_list.do", "/sys_user_list.do", "/navpage.do"):
            assert client.get(page).status_code == 200
        client.post("/oauth_revoke_token.do", data={"token": token["access_token"]})
        assert client.get("/api/now/table/incident", headers=bearer).status_code == 401
        journal = client.get("/_emulator/journal", params={"limit": 1000})
        assert journal.status_code == 200 and len(journal.json()["entries"]) > 15
    out, err = capfd.readouterr()
    # The emulator's log records (and authlib's, which it configures); not the test's own
    # httpx client, which logs the URLs it was asked to fetch.
    records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert any(r.name.startswith("authlib") for r in records)  # DEBUG really was on
    assert "/oauth_token.do" in err  # the access log was on and captured
    texts = {"stdout": out, "stderr": err,
             "logs": "\n".join(logging.Formatter().format(r) for r in records),
             "journal": journal.text, "responses": "\n".join(seen)}
    leaks = [f"{where}: {secret[:4]}..." for where, text in texts.items()
             for secret in secrets if secret in text]
    assert not leaks, leaks


def test_the_run_wide_scan_catches_a_leak() -> None:
    """The run-wide scan is not vacuous: a harvested secret in a log line is reported."""
    for scan in scanning():
        app = create_app(Settings(database_path=":memory:", home=Path("."),
                                  admin_password="admin", password_hash_iterations=1000,
                                  secret_key="scan", random_seed=1))
        try:
            with httpx.Client(transport=httpx.WSGITransport(app=app),
                              base_url=IN_PROCESS_BASE_URL) as client:
                # A successful request carrying a secret (an admin setting a password).
                client.post("/api/now/table/sys_user", auth=("admin", "admin"),
                            json={"user_name": "leaky", "user_password": "Leaky-pw-123"})
        finally:
            app.extensions["mock_servicenow"].instance.close()
        assert "Leaky-pw-123" in scan.secrets
        assert scan.leaks() == []
        # Handed to this scan only: the run-wide one must not see this test's own "leak".
        scan.handle(logging.LogRecord("mock_servicenow", logging.WARNING, __file__, 1,
                                      "login failed with %s", ("Leaky-pw-123",), None))
        assert [leak.split(":")[0] for leak in scan.leaks()] == ["log mock_servicenow"]


def test_distinctive_secrets_only() -> None:
    from tests.security.secret_scan import distinctive

    assert distinctive("Adm1n-pw-7f3a9c") and distinctive("a" * 60 + "-")
    assert not distinctive("admin") and not distinctive("integration")
    assert isinstance(SecretScan().secrets, set)


def test_the_run_wide_scan_reads_every_ui_page(tmp_path: Path) -> None:
    """The connector's pages are scanned whatever their status: a client secret typed into the
    connect form is harvested, and a page that showed it back would be reported."""
    from flask import Flask as _Flask
    from flask import Response as _Response

    from connector import ConnectorSettings
    from connector.ui import create_app as create_ui
    from tests.connector.ui.pages import FakeHandOff, UiBrowser
    from tests.security.secret_scan import UI_APP

    for scan in scanning():
        ui = UiBrowser(create_ui(ConnectorSettings(home=tmp_path),
                                 hand_off_factory=FakeHandOff))
        started = ui.post("/servicenow/connect", follow=False,
                          instance="https://dev12345.service-now.com", client_id="cid",
                          client_secret="Typed-secret-4821")
        assert started.status == 303
        assert "Typed-secret-4821" in scan.secrets
        ui.get("/servicenow/connect")
        assert scan.leaks() == []
        # A page that showed it back (status 200: only the ui's pages are read at any status).
        # Handed to this scan only, as the run-wide one must not see this test's own "leak".
        leaky = _Flask(UI_APP)
        with leaky.test_request_context("/"):
            scan.response(leaky, _Response("your secret: Typed-secret-4821"))
        assert [leak.split(":")[0] for leak in scan.leaks()] == ["ui page 200 GET /"]
