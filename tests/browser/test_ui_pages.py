"""The Microsoft 365 side's pages in Debian's Chromium: ``snow-connector ui`` (a real process,
``--port 0``) against a real emulator (``snow_server``).

The whole journey (the "Connect to ServiceNow" card, consent as the integration user,
provisioning, sharing a change and an incident, the cards with a custom state name, deleting
the connection), then the ``not-provisioned``, ``personal-credentials`` and ``sso-enabled``
scenarios, each seen on the pages and fixed through them. The client secret must appear in no
page source and in neither output stream of the ui process.

The ui gets a redirect URI on a free port of its own (registered on the instance's OAuth entity,
as an admin would), so parallel runs never fight over 8765. One Chromium serves the module.

``SNOW_UI_SCREENSHOTS=docs/images ./scripts/test -k test_the_whole_journey`` refreshes the
screenshots in docs/connector.md.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask

from mock_servicenow.domain.platform import scenarios
from tests.browser.test_scenario_pages import (
    _apply,
    _log_in,
    _not_you_then_allow,
)
from tests.scenarios.catalogue_helpers import (
    INTEGRATION_NAME,
    INTEGRATION_PASSWORD,
    INTEGRATION_USER,
    OAUTH_ENTITY_NAME,
    demo_credentials,
)

pytestmark = pytest.mark.browser

SCREENSHOTS = os.environ.get("SNOW_UI_SCREENSHOTS", "")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pages_symptom(name: str) -> str:
    """What the scenario file says the Microsoft 365 pages show."""
    text = scenarios.catalogue()[name].symptom["microsoft_365_pages"]["text"]
    return " ".join(str(text).split())


@dataclass
class Ui:
    """The running ``snow-connector ui`` process and what the test saw of it."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    out: Path
    instance: str
    sources: list[str] = field(default_factory=list)

    def streams(self) -> str:
        """Everything the process wrote (stdout: ``ready:``; stderr: the access log)."""
        return self.out.read_text() + self.log.read_text()


@pytest.fixture
def ui(snow_app: Flask, snow_server: str, tmp_path: Path) -> Iterator[Ui]:
    """``snow-connector ui --port 0`` on a fresh home, its redirect URI registered."""
    redirect = f"http://127.0.0.1:{_free_port()}/callback"
    admin = httpx.Client(base_url=snow_server, auth=("admin", "admin"),
                         headers={"Accept": "application/json"})
    entity = admin.get("/api/now/table/oauth_entity",
                       params={"sysparm_query": f"name={OAUTH_ENTITY_NAME}"}).json()["result"][0]
    assert admin.patch(f"/api/now/table/oauth_entity/{entity['sys_id']}", json={
        "redirect_url": f"{entity['redirect_url']},{redirect}"}).status_code == 200
    admin.close()
    env = {**os.environ, "SNOW_CONNECTOR_HOME": str(tmp_path / "snow-connector"),
           "SNOW_CONNECTOR_REDIRECT_URI": redirect, "SNOW_CONNECTOR_UPN": "secadmin@contoso.com"}
    command = Path(sys.executable).with_name("snow-connector")
    out, log = tmp_path / "ui.out", tmp_path / "ui.log"
    with out.open("wb") as stdout, log.open("wb") as stderr:
        process = subprocess.Popen([str(command), "ui", "--port", "0"], stdout=stdout,
                                   stderr=stderr, env=env)
    try:
        deadline = time.monotonic() + 30
        while "ready: " not in out.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the ui never printed ready:"
            time.sleep(0.05)
        url = out.read_text().split("ready: ", 1)[1].split()[0]
        yield Ui(url=url, process=process, log=log, out=out, instance=snow_server)
    finally:
        process.terminate()
        assert process.wait(timeout=15) == 0, log.read_text()


def _see(page: Any, ui: Ui, shot: str = "") -> None:
    """Keep the page source (for the secret check); save a screenshot when asked to."""
    page.wait_for_load_state()
    ui.sources.append(page.content())
    if SCREENSHOTS and shot:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"connector-ui-{shot}.png"))


def _text(page: Any, selector: str) -> str:
    return " ".join(page.inner_text(selector).split())


def _connect(page: Any, ui: Ui, app: Flask, shot: bool = False) -> None:
    """From the home page's card to the instance's login page (through the connect form)."""
    page.goto(ui.url)
    _see(page, ui, "home-connect" if shot else "")
    page.click("#connect-button")
    client_id, secret = demo_credentials(app)
    page.fill("#instance", ui.instance)
    page.fill("#client_id", client_id)
    page.fill("#client_secret", secret)
    _see(page, ui, "connect" if shot else "")
    page.click("#connect-submit")


def _authorize(page: Any, ui: Ui) -> None:
    page.goto(f"{ui.url}/ticketProvisioning")
    page.click("#authorize")
    page.wait_for_url(f"{ui.url}/")


def _share(page: Any, ui: Ui, action: str, kind: str, priority: str, shot: str = "") -> str:
    page.goto(f"{ui.url}/securescore")
    page.click(f"#share-{action}")  # the Share menu
    if shot:
        _see(page, ui, f"{shot}-menu")
    page.click(f"#share-{action}-servicenow")
    page.wait_for_selector("#share-panel")
    page.check(f"#type-{kind}")
    page.select_option("#priority", priority)
    page.fill("#due", "2031-06-30")
    _see(page, ui, f"{shot}-panel" if shot else "")
    page.click("#submit-task")
    page.wait_for_selector("#existing-number")
    _see(page, ui)
    return str(page.inner_text("#existing-number"))


def test_the_whole_journey(snow_app: Flask, ui: Ui, shared_browser_page: Any) -> None:
    page = shared_browser_page
    _, secret = demo_credentials(snow_app)
    # The "Do you use ServiceNow?" card, the connect form, the instance's login page.
    _connect(page, ui, snow_app, shot=True)
    page.wait_for_selector("#user_name")
    assert page.url.startswith(f"{ui.instance}/login.do")
    _log_in(page, INTEGRATION_USER, INTEGRATION_PASSWORD)
    # Consent as the integration user, then back to the ui on its own port.
    page.wait_for_selector("#allow")
    assert page.inner_text("#consent_user") == INTEGRATION_NAME
    page.click("#allow")
    page.wait_for_selector("#connected")
    assert page.url.startswith(f"{ui.url}/servicenow/connect/complete")
    assert "connected, not provisioned" in _text(page, "#connection-status")
    _see(page, ui, "connected")
    # Home without provisioning: the notice, no cards.
    page.click("a[href='/']")
    page.wait_for_selector("#provisioning-notice")
    assert page.query_selector("#card-change") is None
    _see(page, ui, "home-not-provisioned")
    page.click("#not-provisioned a")
    _see(page, ui, "provisioning")
    page.click("#authorize")
    page.wait_for_selector("#card-change")
    # Share one change and one incident from Secure score.
    assert _share(page, ui, "DLPEnabled", "change", "high", shot="share") == "CHG0030001"
    page.goto(f"{ui.url}/securescore")
    _see(page, ui, "securescore")
    assert _share(page, ui, "MFARegistrationPolicy", "incident", "critical") == "INC0010001"
    # A custom state name for new incidents.
    page.goto(f"{ui.url}/servicenow/configuration")
    page.fill("#incident-name-1", "Triage")
    page.click("#save-incident")
    page.wait_for_selector("#flash-1")
    _see(page, ui)
    page.goto(f"{ui.url}/servicenow/configuration")
    _see(page, ui, "configuration")
    # The cards show both tickets, the incident with its custom state name.
    page.goto(ui.url)
    change_card, incident_card = _text(page, "#card-change"), _text(page, "#card-incident")
    assert "CHG0030001 Apply data loss prevention policies New 2 - High 2031-06-30" in \
        change_card
    assert "INC0010001" in incident_card and "Triage" in incident_card
    assert "Create a ticket" in incident_card and "View all tickets" in incident_card
    assert "Manage ServiceNow configuration" in incident_card
    _see(page, ui, "home-cards")
    page.click("#card-incident >> text=View all tickets")
    page.wait_for_selector("#tickets")
    assert "INC0010001" in _text(page, "#tickets")
    _see(page, ui, "tickets")
    # Delete the connection, with confirmation: back to the connect card.
    page.goto(f"{ui.url}/servicenow/configuration")
    page.click("#delete-connection")
    page.wait_for_selector("#delete-dialog")
    _see(page, ui, "delete-dialog")
    page.click("#confirm-delete")
    page.wait_for_selector("#connect-card")
    _see(page, ui)
    connection = httpx.get(f"{ui.instance}/api/x_mioms_m365ticket/v1/connection",
                           auth=("admin", "admin")).json()["result"]
    assert connection["status"] == "not_connected"
    # The secret in no page source, and in neither stream of the ui process.
    assert len(ui.sources) > 10
    assert not [i for i, source in enumerate(ui.sources) if secret in source]
    streams = ui.streams()
    assert '"GET /securescore' in streams and "ready: http://127.0.0.1:" in streams
    assert secret not in streams and "code=" not in streams.replace("code=%2A%2A%2A", "")


def test_not_provisioned_seen_and_fixed_on_the_pages(snow_app: Flask, ui: Ui,
                                                     shared_browser_page: Any) -> None:
    _apply(ui.instance, "not-provisioned")
    page = shared_browser_page
    _connect(page, ui, snow_app)
    _log_in(page, INTEGRATION_USER, INTEGRATION_PASSWORD)
    page.click("#allow")
    page.wait_for_selector("#connected")
    # Symptom: no cards on the home page, and Secure score cannot share to ServiceNow.
    page.goto(ui.url)
    assert _text(page, "#not-provisioned").startswith(_pages_symptom("not-provisioned"))
    assert page.query_selector("#card-change") is None
    page.goto(f"{ui.url}/securescore?share=DLPEnabled")
    assert _text(page, ".problem-text") == " ".join(str(scenarios.catalogue()[
        "not-provisioned"].symptom["microsoft_365_pages"]["share"]).split())
    assert page.is_disabled("#submit-task")
    # Fix: the provisioning page's Authorize, back home: the cards appear; sharing works.
    page.click("#share-panel .problem a")
    page.click("#authorize")
    page.wait_for_selector("#card-incident")
    assert _share(page, ui, "BlockLegacyAuthentication", "incident", "medium").startswith("INC")


def test_personal_credentials_seen_and_fixed_on_the_pages(snow_app: Flask, ui: Ui,
                                                          shared_browser_page: Any) -> None:
    _apply(ui.instance, "personal-credentials")
    page = shared_browser_page
    # The admin signs in with the personal account: the consent page names Beth.
    _connect(page, ui, snow_app)
    _log_in(page, "beth.anglin.admin", "Personal1!")
    page.wait_for_selector("#allow")
    assert page.inner_text("#consent_user") == "Beth Anglin"
    page.click("#allow")
    page.wait_for_selector("#connected")
    _authorize(page, ui)
    # Symptom on the Microsoft side: the configuration names who connected.
    page.goto(f"{ui.url}/servicenow/configuration")
    assert _pages_symptom("personal-credentials") in _text(page, "#connection-status")
    # Fix: delete the connection, connect again, "Not You?", the integration user, Allow.
    page.click("#delete-connection")
    page.click("#confirm-delete")
    page.wait_for_selector("#connect-card")
    _connect(page, ui, snow_app)
    page.wait_for_selector("#allow")  # still signed in as Beth on the instance
    assert page.inner_text("#consent_user") == "Beth Anglin"
    _not_you_then_allow(page)
    page.wait_for_selector("#connected")
    _authorize(page, ui)
    page.goto(f"{ui.url}/servicenow/configuration")
    assert f"Connected by {INTEGRATION_USER}" in _text(page, "#connection-status")
    number = _share(page, ui, "IntuneDeviceCompliance", "change", "low")
    ticket = httpx.get(f"{ui.instance}/api/now/table/change_request",
                       params={"sysparm_query": f"number={number}"},
                       auth=("admin", "admin")).json()["result"][0]
    assert ticket["sys_created_by"] == INTEGRATION_USER


def test_sso_enabled_seen_and_fixed_on_the_pages(snow_app: Flask, ui: Ui,
                                                 shared_browser_page: Any) -> None:
    _apply(ui.instance, "sso-enabled")
    page = shared_browser_page
    # Connect to ServiceNow leads to the identity provider, which refuses the integration user.
    _connect(page, ui, snow_app)
    page.wait_for_selector("#idp_login")
    page.fill("#idp_login", f"{INTEGRATION_USER}@example.com")
    page.fill("#idp_password", INTEGRATION_PASSWORD)
    page.click("#idp_submit")
    assert scenarios.catalogue()["sso-enabled"].symptom["text"] in page.inner_text("#idp_error")
    # The ui keeps waiting for ServiceNow (the symptom on the Microsoft side).
    page.goto(f"{ui.url}/servicenow/connect")
    assert _text(page, "#flow-pending").startswith(_pages_symptom("sso-enabled"))
    # Fix: sign in locally through the side door, then reopen the authorization from the ui.
    page.goto(f"{ui.instance}/side_door.do")
    _log_in(page, INTEGRATION_USER, INTEGRATION_PASSWORD)
    page.wait_for_url("**/navpage.do*")
    page.goto(f"{ui.url}/servicenow/connect")
    page.click("#reopen-authorization")
    page.wait_for_selector("#allow")
    assert page.inner_text("#consent_user") == INTEGRATION_NAME
    page.click("#allow")
    page.wait_for_selector("#connected")
    _authorize(page, ui)
    assert _share(page, ui, "OAuthAppConsentReview", "incident", "high").startswith("INC")
