"""The pages keep to their owner: CSRF on every form, loopback Host names only, no framing,
no outside assets, and the client secret in no page, header or log line."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from connector import ConnectorSettings
from connector.ui import create_app
from connector.ui.server import redact
from tests.connector.ui.pages import Harness, UiBrowser

FORMS = ("/servicenow/connect", "/servicenow/connect/cancel", "/ticketProvisioning",
         "/servicenow/configuration/delete", "/servicenow/configuration/states",
         "/securescore/share", "/securescore/import", "/securescore/sample")


@pytest.mark.parametrize("path", FORMS)
def test_every_form_needs_the_sessions_csrf_token(harness: Harness, path: str) -> None:
    harness.qa.connect_with_password()
    ui = harness.ui
    ui.csrf()  # the session has a token; the attacker's page cannot read it
    for data in ({}, {"csrf_token": "forged"}):
        response = ui.post_raw(path, data)
        assert response.status_code == 400, path
        assert "This form has expired or did not come from these pages" in \
            response.get_data(as_text=True)
    # Nothing happened: still connected, nothing provisioned.
    assert harness.qa.connector().store.load_credentials() is not None
    assert "connected, not provisioned" in harness.qa.cli("status").out


def test_a_token_of_another_session_is_refused(harness: Harness) -> None:
    other = UiBrowser(harness.app)
    stolen = other.csrf()
    harness.ui.csrf()
    assert harness.ui.post_raw("/securescore/sample", {"csrf_token": stolen}).status_code == 400


@pytest.mark.parametrize(("host", "served"), [
    ("127.0.0.1:8766", True), ("localhost:8766", True), ("[::1]:8766", True),
    ("evil.example:8766", False), ("127.0.0.1.nip.io", False),
])
def test_only_loopback_host_names_are_served(tmp_path: Path, host: str, served: bool) -> None:
    app = create_app(ConnectorSettings(home=tmp_path))
    response = app.test_client().get("/", headers={"Host": host})
    assert (response.status_code == 200) is served
    if not served:
        assert response.status_code == 400
        assert b"served for the address the ui was started on only" in response.data


def test_a_ui_bound_to_another_address_serves_any_host_name(tmp_path: Path) -> None:
    app = create_app(ConnectorSettings(home=tmp_path), bound_host="0.0.0.0")
    assert app.test_client().get("/", headers={"Host": "laptop.lan:8766"}).status_code == 200


def test_pages_cannot_be_framed_cached_or_load_anything_from_elsewhere(
        harness: Harness) -> None:
    response = harness.ui.get("/servicenow/connect").response
    headers = response.headers
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script-src" not in headers["Content-Security-Policy"]  # default-src 'none'
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # Local assets only: every src/href is a path on the ui or the instance's own links.
    for page in ("/", "/securescore?share=DLPEnabled", "/servicenow/configuration"):
        markup = harness.ui.get(page).html
        assert "<script" not in markup
        for url in re.findall(r'(?:src|href)="([^"]+)"', markup):
            assert url.startswith(("/", "#")) or "service-now.test" in url or \
                url.startswith("https://dev00000"), url
    with harness.ui.client.get("/static/ui.css") as response:
        css = response.get_data(as_text=True)
    assert "url(" not in css and "@import" not in css


def test_the_client_secret_is_in_no_page_header_or_log(harness: Harness,
                                                       caplog: pytest.LogCaptureFixture
                                                       ) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    qa, ui = harness.qa, harness.ui
    _, secret = qa.credentials()
    assert len(secret) >= 16

    original = ui.client.open

    def keep(*args: object, **kwargs: object) -> object:
        response = original(*args, **kwargs)  # type: ignore[arg-type]
        seen.append(str(response.headers) + response.get_data(as_text=True))
        return response

    ui.client.open = keep  # type: ignore[method-assign]
    browser = harness.start_connect()  # the secret is typed into the connect form
    browser.log_in("m365_integration", "integration")
    browser.allow()
    harness.come_back(browser)
    ui.post("/ticketProvisioning")
    ui.post("/securescore/share", action_id="DLPEnabled", type="change", priority="high",
            name="n", description="d", due=qa.due(), category="data")
    for path in ("/", "/servicenow/connect", "/servicenow/configuration",
                 "/ticketProvisioning", "/securescore?share=DLPEnabled", "/tickets"):
        ui.get(path)
    # A failed connect re-shows the form: the secret is not filled back in.
    client_id, _ = qa.credentials()
    ui.post("/servicenow/connect", instance="", client_id=client_id, client_secret=secret)
    assert ui.page is not None and ui.page.problems
    assert len(seen) > 10
    assert not [page for page in seen if secret in page]
    assert not [r for r in caplog.records if secret in r.getMessage()]
    # Only the owner-only credentials file holds it.
    holders = [p.name for p in harness.home.rglob("*") if p.is_file()
               and secret in p.read_text(errors="replace")]
    assert holders == ["credentials.json"]


def test_the_access_log_masks_codes_and_tokens() -> None:
    assert redact("/callback?code=abc&state=xyz") == "/callback?code=%2A%2A%2A&state=%2A%2A%2A"
    assert redact("/tickets?type=change") == "/tickets?type=change"
    assert redact("/") == "/"


FIELDS = ("instance", "client_id", "action_id", "type", "priority", "name",
          "description", "due", "category", "new_value", "new_name", "name_1", "name_-5")


def test_odd_form_input_never_breaks_a_page(harness: Harness) -> None:
    """Whatever a form sends, the page answers with its message, never a 500 or a trace."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    assert harness.qa.connect_with_password().code == 0
    assert harness.qa.cli("authorize").code == 0
    ui = harness.ui
    token = ui.csrf()
    paths = [p for p in FORMS if p not in ("/servicenow/configuration/delete",
                                           "/securescore/import")]

    @settings(max_examples=60, deadline=None)
    @given(path=st.sampled_from(paths),
           fields=st.dictionaries(st.sampled_from(FIELDS),
                                  st.one_of(st.text(max_size=80),
                                            st.sampled_from(["change", "incident", "high",
                                                             "2031-01-01", "DLPEnabled",
                                                             "http://[::1", "-5", "data"])),
                                  max_size=8))
    def check(path: str, fields: dict[str, str]) -> None:
        # A client secret of its own: the run-wide secret scan takes what a successful connect
        # form sent for a secret, and generated text ("DLPEnabled") would match every page.
        response = ui.post_raw(path, {**fields, "client_secret": "Fuzz-secret-93f1",
                                      "csrf_token": token})
        body = response.get_data(as_text=True)
        assert response.status_code < 500, (path, fields, body[-600:])
        assert "Traceback" not in body

    check()


def test_an_upload_too_large_gets_its_page(harness: Harness) -> None:
    token = harness.ui.csrf()
    # A raw multipart body (the test client would spool a dict's big file to a temp file).
    body = (b"--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            + token.encode() + b"\r\n--b\r\nContent-Disposition: form-data; name=\"export\";"
            b" filename=\"big.json\"\r\n\r\n" + b" " * (11 * 1024 * 1024) + b"\r\n--b--\r\n")
    response = harness.ui.client.post("/securescore/import", base_url=harness.ui.base_url,
                                      data=body, content_type="multipart/form-data; boundary=b")
    assert response.status_code == 413
    assert "The upload is larger than 10 MB." in response.get_data(as_text=True)


def test_a_busy_redirect_port_reads_as_in_the_cli(tmp_path: Path) -> None:
    """The registered callback's port is taken (say, by a waiting `snow-connector connect`):
    the connect page says so in the loopback receiver's words."""
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        settings = ConnectorSettings(home=tmp_path, redirect_uri=f"http://127.0.0.1:{port}/cb")
        ui = UiBrowser(create_app(settings))
        page = ui.post("/servicenow/connect", instance="https://dev1.service-now.com",
                       client_id="cid", client_secret="Secret-value-1234")
    assert page.status == 409
    assert page.problems[0].startswith(f"cannot listen on 127.0.0.1:{port} for the redirect:")
