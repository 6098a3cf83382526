"""The browser authorization flow of the pages on any port (connector/ui/flows.py)."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from connector import ConnectorSettings, LoopbackReceiver
from connector.ui.flows import Flows, is_own_address
from tests.connector.ui.pages import FakeHandOff, Harness, UiBrowser, register_redirect_url
from tests.scenarios.catalogue_helpers import INTEGRATION_NAME


def test_deny_on_the_consent_page_reads_as_in_the_cli(harness: Harness) -> None:
    browser = harness.start_connect()
    browser.log_in("m365_integration", "integration")
    browser.submit(action="deny")
    page = harness.come_back(browser)
    assert page.status == 409
    assert page.problems == ["authorization was not granted on the instance (access_denied); "
                             "sign in as the integration user and click Allow"]
    assert harness.qa.connector().store.load_credentials() is None


def test_the_pending_flow_can_be_reopened_and_cancelled(harness: Harness) -> None:
    browser = harness.start_connect()
    authorize_url = str(browser.authorize_url or harness.hand_offs[-1].redirect_uri)
    page = harness.ui.get("/servicenow/connect")
    assert "Waiting for ServiceNow" in page.element("flow-pending")
    link = page.html.split('id="reopen-authorization" href="', 1)[1].split('"', 1)[0]
    assert link.replace("&amp;", "&").startswith(
        "https://dev00000.service-now.test/oauth_auth.do?response_type=code")
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback" in link
    assert authorize_url
    # Reloading the return page before the instance answered shows the pending flow.
    flow = harness.app.extensions["snow_connector_ui"].flows.current()
    assert harness.ui.get(f"/servicenow/connect/complete?flow={flow.id}").has("flow-pending")
    harness.ui.post("/servicenow/connect/cancel")
    assert harness.hand_offs[-1].closed
    assert not harness.ui.get("/servicenow/connect").has("flow-pending")
    stale = harness.ui.get(f"/servicenow/connect/complete?flow={flow.id}")
    assert stale.status == 409 and "not in progress any more" in stale.problems[0]


def test_a_second_connect_drops_the_first_flow(harness: Harness) -> None:
    harness.start_connect()
    harness.start_connect()
    assert [h.closed for h in harness.hand_offs] == [True, False]


def test_the_flow_belongs_to_the_browser_that_started_it(harness: Harness) -> None:
    browser = harness.start_connect()
    browser.log_in("m365_integration", "integration")
    browser.allow()
    back = harness.hand_offs[-1].deliver(browser.callback)
    other = UiBrowser(harness.app)
    refused = other.get(back.split("8766", 1)[1])
    assert refused.status == 409 and "began in another browser" in refused.problems[0]
    assert harness.qa.connector().store.load_credentials() is None
    # The browser that started it completes it.
    assert harness.ui.get(back.split("8766", 1)[1]).has("connected")


def test_the_consent_page_reached_from_the_ui_names_the_signed_in_user(
        harness: Harness) -> None:
    harness.qa.apply("personal-credentials")
    browser = harness.start_connect()
    browser.log_in("beth.anglin.admin", "Personal1!")
    assert browser.element("consent_user") == "Beth Anglin"
    browser.not_you()
    browser.log_in("m365_integration", "integration")
    assert browser.element("consent_user") == INTEGRATION_NAME
    browser.allow()
    assert harness.come_back(browser).has("connected")


def test_the_ui_on_the_redirect_uris_own_port_is_the_callback(snow_app: object,
                                                              tmp_path: Path) -> None:
    from tests.scenarios.catalogue_helpers import QA

    home = tmp_path / "home"
    harness = Harness(QA(snow_app, home), home,  # type: ignore[arg-type]
                      redirect_uri="http://127.0.0.1:8766/callback")
    register_redirect_url(harness.qa, "http://127.0.0.1:8766/callback")
    browser = harness.start_connect()
    assert harness.hand_offs == []  # no second listener: the ui is the callback
    browser.log_in("m365_integration", "integration")
    browser.allow()
    assert browser.callback.startswith("http://127.0.0.1:8766/callback?code=")
    page = harness.ui.get(browser.callback.removeprefix("http://127.0.0.1:8766"))
    assert page.has("connected") and "connected, not provisioned" in page.text
    # Without a flow, the callback path says so.
    again = harness.ui.get("/callback?code=x&state=y")
    assert again.status == 409 and again.problems[0].startswith("no authorization is in")


@pytest.mark.parametrize(("host", "redirect", "own"), [
    ("127.0.0.1:8765", "http://127.0.0.1:8765/callback", True),
    ("localhost:8765", "http://127.0.0.1:8765/callback", True),
    ("127.0.0.1:8766", "http://127.0.0.1:8765/callback", False),
    ("127.0.0.1", "http://127.0.0.1/callback", True),
    ("example.test:8765", "http://127.0.0.1:8765/callback", False),
])
def test_own_address(host: str, redirect: str, own: bool) -> None:
    assert is_own_address(host, redirect) is own


def test_a_flow_nobody_comes_back_to_expires_and_frees_its_listener(tmp_path: Path) -> None:
    from connector import Connector

    now = [0.0]
    made: list[FakeHandOff] = []
    flows = Flows(lambda back: made.append(FakeHandOff(back)) or made[-1], timeout=60,
                  clock=lambda: now[0])
    pending = Connector(ConnectorSettings(home=tmp_path)).begin_authorization(
        "https://dev1.service-now.com", "id", "secret")
    flow = flows.start(pending, return_to=lambda f: f"http://ui/complete?flow={f}",
                       ui_receives=False)
    assert made[0].return_to == f"http://ui/complete?flow={flow.id}"
    assert flows.get(flow.id) is flow and "secret" not in repr(flow)
    now[0] = 61
    assert flows.current() is None and made[0].closed
    flows.cancel()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_loopback_receiver_returns_the_browser_with_a_303() -> None:
    redirect = f"http://127.0.0.1:{_free_port()}/callback"
    receiver = LoopbackReceiver(timeout=10, return_to="http://127.0.0.1:1/back?flow=f1")
    receiver.start(redirect)
    try:
        assert not receiver.received
        response = httpx.get(redirect, params={"code": "c1", "state": "s1"})
        assert response.status_code == 303
        assert response.headers["Location"] == "http://127.0.0.1:1/back?flow=f1"
        assert "c1" not in response.headers["Location"]
        assert receiver.received
        assert receiver.wait() == redirect + "?code=c1&state=s1"
    finally:
        receiver.close()
    # The port is free again: the next flow (or the CLI's connect) can listen there.
    again = LoopbackReceiver(timeout=10)
    again.start(redirect)
    again.close()


def test_closing_a_waiting_receiver_ends_its_wait() -> None:
    receiver = LoopbackReceiver(timeout=10)
    receiver.start(f"http://127.0.0.1:{_free_port()}/callback")
    receiver.close()
    receiver.close()  # idempotent
    with pytest.raises(Exception, match="no answer from the instance's authorize page"):
        receiver.wait()
