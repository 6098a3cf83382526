"""Issue 15, web-side security items: open redirect after login (5), nested batch through an
encoded path (6), secrets nested in logged query strings (9), ``Secure`` session cookie over
https and the connector home's mode (10).

Sources:
- Redirects: the WHATWG URL Standard's basic URL parser (what a browser does with the
  ``Location`` value: removes tab and newline, trims C0 controls and spaces); the platform
  only sends users back to its own pages after login (servicenow-behaviour §6, login.do).
- Batch: https://www.servicenow.com/docs/r/api-reference/rest-apis/c_BatchAPI.html (a batch
  runs REST API requests; servicenow-behaviour §9.4); nesting one is not one of them.
- Cookies: servicenow-behaviour §1.3 (``glide_session_store`` on an https-only platform).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from flask import Flask

from connector.store import ConnectorState, Store
from mock_servicenow.app import create_app
from mock_servicenow.settings import Settings
from tests.mock_servicenow.identity_helpers import login

# -- item 5: open redirect -------------------------------------------------------------------

@pytest.mark.parametrize("goto", [
    "/\t/evil.example/x",            # the reported one: a tab browsers strip -> //evil...
    "/\n/evil.example/x", "/\r\n/evil.example/x", " //evil.example/x", "\x00//evil.example",
    "/\\evil.example/x", "\\\\evil.example", "/\t\\evil.example", "https://evil.example/",
    "//evil.example", "/%09/evil.example",
])
def test_goto_never_leaves_the_instance(snow_client: httpx.Client, goto: str) -> None:
    # After login (POST), on the login form's hidden field (GET) and on logout.
    landing = login(snow_client, "admin", "admin", goto=goto)
    assert landing.status_code == 302
    location = landing.headers["location"]
    assert location.startswith("/") and location[1:2] not in ("/", "\\"), location
    assert not any(ord(c) < 0x20 for c in location), location
    form = snow_client.get("/login.do", params={"sysparm_goto_url": goto})
    assert form.status_code == 200
    assert "evil.example" not in form.text or goto.startswith("/%09")
    out = snow_client.get("/logout.do", params={"sysparm_goto_url": goto})
    assert out.status_code == 302
    assert out.headers["location"].startswith("/login.do?sysparm_goto_url=%2F")


def test_crlf_in_goto_is_not_a_500_and_never_reaches_a_header(snow_client: httpx.Client) -> None:
    goto = "/navpage.do\r\nSet-Cookie: planted=1"
    landing = login(snow_client, "admin", "admin", goto=goto)
    assert landing.status_code == 302
    assert "planted" not in landing.headers.get("set-cookie", "")
    assert "\r" not in landing.headers["location"] and "\n" not in landing.headers["location"]


def test_a_same_instance_path_still_comes_back(snow_client: httpx.Client) -> None:
    landing = login(snow_client, "admin", "admin", goto="/x_mioms_m365ticket_checklist.do?a=1")
    assert landing.headers["location"] == "/x_mioms_m365ticket_checklist.do?a=1"


# -- item 6: nested batch ----------------------------------------------------------------------

def _batch(*items: dict[str, object]) -> dict[str, object]:
    return {"batch_request_id": "b", "rest_requests": list(items)}


def _item(request_id: str, method: str, url: str, body: dict[str, object] | None = None
          ) -> dict[str, object]:
    item: dict[str, object] = {"id": request_id, "method": method, "url": url,
                               "headers": [{"name": "Content-Type",
                                            "value": "application/json"}]}
    if body is not None:
        item["body"] = base64.b64encode(json.dumps(body).encode()).decode()
    return item


@pytest.mark.parametrize("path", [
    "/api/now/v1/%62atch", "/api/now/v1/b%61tch", "/api/now/%62atch", "/api/now/v1/BATCH",
    "/api/now/v1/%2562atch", "/api/now/./v1/batch",
])
def test_a_batch_never_runs_a_nested_batch(snow_admin: httpx.Client, path: str) -> None:
    inner = _batch(_item("inner", "POST", "/api/now/table/incident",
                         {"short_description": "created by a nested batch"}))
    answer = snow_admin.post("/api/now/v1/batch", json=_batch(_item("n", "POST", path, inner)))
    assert answer.status_code == 200
    body = answer.json()
    for served in body["serviced_requests"]:
        # Whatever the nested path answered, it was not a batch run.
        assert "serviced_requests" not in base64.b64decode(served["body"]).decode()
    found = snow_admin.get("/api/now/table/incident", params={
        "sysparm_query": "short_description=created by a nested batch"}).json()["result"]
    assert found == []


def test_the_control_plane_is_not_reachable_through_a_batch(snow_admin: httpx.Client) -> None:
    answer = snow_admin.post("/api/now/v1/batch", json=_batch(
        _item("cp", "POST", "/api/now/../../_emulator/faults",
              {"method": "*", "path": "/*", "action": "status", "status": 500}),
        _item("ok", "GET", "/api/now/table/incident?sysparm_limit=1")))
    served = {s["id"]: s for s in answer.json()["serviced_requests"]}
    assert served["ok"]["status_code"] == 200
    assert snow_admin.get("/_emulator/faults").json()["faults"] == []


# -- item 9: secrets nested in logged query strings ---------------------------------------------

TOKEN = "Nested-Token-9f8e7d6c5b4a"
STATE = "State-Secret-0a1b2c3d"
PASSWORD_WITH_CARET = "Caret^pw^^Secret-77"


@pytest.fixture
def logging_client(snow_settings: Settings) -> Iterator[httpx.Client]:
    """An instance that writes its access log (stderr), as ``serve`` does by default."""
    app = create_app(dataclasses.replace(snow_settings, access_log=True))
    with httpx.Client(transport=httpx.WSGITransport(app=app),
                      base_url="https://dev00000.service-now.test") as client:
        yield client
    app.extensions["mock_servicenow"].instance.close()


def test_journal_and_access_log_mask_nested_and_caret_secrets(
        logging_client: httpx.Client, capsys: pytest.CaptureFixture[str]) -> None:
    snow_client = logging_client
    goto = "/oauth_auth.do?" + urlencode({"response_type": "code", "client_id": "c",
                                          "state": STATE, "access_token": TOKEN})
    snow_client.get("/login.do", params={"sysparm_goto_url": goto})
    # The login redirect itself carries the original URL, token included.
    snow_client.get("/navpage.do", params={"sysparm_goto_url": "/x?" + urlencode(
        {"sysparm_goto_url": goto})})
    snow_client.get("/api/now/table/sys_user", auth=("admin", "admin"), params={
        "sysparm_query": f"active=true^user_password={PASSWORD_WITH_CARET}^ORDERBYname"})
    snow_client.get("/api/now/table/sys_user", auth=("admin", "admin"), params={
        "sysparm_query": f"user_password={PASSWORD_WITH_CARET.replace('^', '^^')}"})
    journal = json.dumps(snow_client.get("/_emulator/journal").json())
    logged = capsys.readouterr().err
    for text in (journal, logged):
        for secret in (TOKEN, STATE, "Secret-77", "pw^", "^pw"):
            assert secret not in text, (secret, text[-2000:])
    assert "response_type" in journal and "client_id" in journal  # the rest stays readable


# -- item 10: Secure cookie over https, connector home 0700 ------------------------------------

def test_the_session_cookie_is_secure_over_https(snow_client: httpx.Client,
                                                 snow_app: Flask) -> None:
    # snow_client talks https (WSGI url_scheme https), as serve --tls serves.
    over_https = login(snow_client, "admin", "admin")
    assert "Secure" in over_https.headers["set-cookie"].split(";")[1:] or \
        "; Secure" in over_https.headers["set-cookie"]
    plain = httpx.Client(transport=httpx.WSGITransport(app=snow_app),
                         base_url="http://127.0.0.1:8080")
    with plain:
        over_http = login(plain, "admin", "admin")
    assert "Secure" not in over_http.headers["set-cookie"]


def test_the_session_cookie_is_secure_from_a_real_tls_server(snow_app: Flask,
                                                              tmp_path: Path) -> None:
    from mock_servicenow.server import listen
    from mock_servicenow.tls import ensure_tls

    tls = ensure_tls(tmp_path / "tls", "127.0.0.1")
    listening = listen(snow_app, "127.0.0.1", 0, tls)
    listening.start_in_thread()
    try:
        import ssl
        verify = ssl.create_default_context(cafile=str(tls.ca_bundle))
        with httpx.Client(base_url=listening.base_url, verify=verify) as client:
            answer = login(client, "admin", "admin")
    finally:
        listening.shutdown()
    assert "; Secure" in answer.headers["set-cookie"]


def test_an_existing_connector_home_is_made_owner_only(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    Store(home).save_state(ConnectorState())
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "state.json").stat().st_mode) == 0o600
