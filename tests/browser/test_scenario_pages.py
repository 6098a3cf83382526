"""The page-based troubleshooting scenarios in Debian's Chromium, driven by the catalogue.

Each test applies its scenario to a running instance (``snow_server``) with the one command
(``POST /_emulator/scenarios/<name>``), then a person's browser sees the symptom and applies
the documented fix; where the fix ends in a connection, the connector (library, real socket)
receives the browser's redirect and shares a ticket. Screenshots and page HTML are kept under
``test-artifacts/`` on failure (the shared ``browser_page`` fixture).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from playwright import sync_api as playwright_api

from connector import Connector, ConnectorSettings
from tests.browser.test_checklist_browser import _run_checklist_and_fix
from tests.scenarios.catalogue_helpers import (
    INTEGRATION_NAME,
    INTEGRATION_PASSWORD,
    INTEGRATION_USER,
    OAUTH_ENTITY_NAME,
    demo_credentials,
)

pytestmark = pytest.mark.browser

CALLBACK = "http://127.0.0.1:8765/callback"


def _apply(base_url: str, name: str) -> None:
    """The one command (what ``mock-servicenow scenario apply NAME --url`` sends)."""
    response = httpx.post(f"{base_url}/_emulator/scenarios/{name}")
    assert response.status_code == 200, response.text


def _log_in(page: Any, user_name: str, password: str) -> None:
    page.fill("#user_name", user_name)
    page.fill("#user_password", password)
    page.click("#sysverb_login")


def _not_you_then_allow(page: Any) -> None:
    """On the consent page: "Not You?", log in as the integration user, check the consent
    page names it, Allow (the documented fix of the personal-credentials case)."""
    page.click("#not_you")
    page.wait_for_selector("#user_name")
    _log_in(page, INTEGRATION_USER, INTEGRATION_PASSWORD)
    page.wait_for_selector("#allow")
    assert page.inner_text("#consent_user") == INTEGRATION_NAME
    page.click("#allow")


class _BrowserReceiver:
    """Receives the connector's redirect from Chromium (the route to the callback URL)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.urls: list[str] = []

    def start(self, redirect_uri: str) -> None:
        def arrived(route: Any) -> None:
            self.urls.append(route.request.url)
            route.fulfill(status=200, body="connected")

        self.page.route(f"{redirect_uri}**", arrived)

    def wait(self) -> str:
        assert self.urls, f"Chromium was never sent back; it is at {self.page.url}"
        return self.urls[-1]


def _connector(tmp_path: Path, page: Any, person: Any) -> Connector:
    """The connector, whose authorize URL opens in Chromium where ``person`` acts."""
    receiver = _BrowserReceiver(page)

    def open_url(url: str) -> None:
        page.goto(url)
        person(url)

    return Connector(ConnectorSettings(home=tmp_path / "snow-connector"), open_url=open_url,
                     receiver=lambda: receiver, sleep=lambda _s: None,
                     initiated_by="secadmin@contoso.com")


def _connect_and_share(connector: Connector, app: Flask, base_url: str) -> dict[str, Any]:
    client_id, secret = demo_credentials(app)
    status = connector.connect_with_browser(base_url, client_id, secret)
    assert status.connected
    assert connector.authorize().provisioned
    due = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    ticket = connector.share("MFARegistrationPolicy", ticket_type="incident", priority="high",
                             due=due)
    row = httpx.get(f"{base_url}/api/now/table/incident/{ticket.sys_id}",
                    auth=("admin", "admin")).json()["result"]
    return dict(row)


def test_scenario_oauth_entity_scope_denied_on_the_checklist_page(
        snow_app: Flask, snow_server: str, browser_page: Any) -> None:
    _apply(snow_server, "oauth-entity-scope-denied")
    page = browser_page
    page.goto(f"{snow_server}/login.do")
    _log_in(page, "admin", "admin")
    page.wait_for_url("**/navpage.do*")
    # Shows the denial on step 1, fixes the table's application access, re-runs: Complete.
    _run_checklist_and_fix(page, snow_server)


def test_scenario_personal_credentials_not_you(snow_app: Flask, snow_server: str,
                                               browser_page: Any, tmp_path: Path) -> None:
    _apply(snow_server, "personal-credentials")
    page = browser_page

    def person(_url: str) -> None:
        # Logged in with the personal account: the consent page names it (the symptom).
        _log_in(page, "beth.anglin.admin", "Personal1!")
        page.wait_for_selector("#allow")
        assert page.inner_text("#consent_user") == "Beth Anglin"
        # The documented fix: "Not You?", log in as the integration user, Allow.
        _not_you_then_allow(page)
        page.wait_for_url(f"{CALLBACK}**")

    ticket = _connect_and_share(_connector(tmp_path, page, person), snow_app, snow_server)
    assert ticket["sys_created_by"] == INTEGRATION_USER


def test_scenario_sso_enabled_then_the_side_door(snow_app: Flask, snow_server: str,
                                                 browser_page: Any, tmp_path: Path) -> None:
    _apply(snow_server, "sso-enabled")
    page = browser_page

    def person(authorize: str) -> None:
        # The authorize page sends the browser to the identity provider...
        page.wait_for_selector("#idp_login")
        assert "/login_with_sso.do" not in page.url and "/_idp/authorize" in page.url
        # ...which does not know the integration user (the symptom).
        page.fill("#idp_login", f"{INTEGRATION_USER}@example.com")
        page.fill("#idp_password", INTEGRATION_PASSWORD)
        page.click("#idp_submit")
        assert "Your account or password is incorrect." in page.inner_text("#idp_error")
        # The documented fix: log in locally through the side door, back to authorize, Allow.
        page.goto(f"{snow_server}/side_door.do")
        _log_in(page, INTEGRATION_USER, INTEGRATION_PASSWORD)
        page.wait_for_url("**/navpage.do*")
        page.goto(authorize)
        page.wait_for_selector("#allow")
        assert page.inner_text("#consent_user") == INTEGRATION_NAME
        page.click("#allow")
        page.wait_for_url(f"{CALLBACK}**")

    ticket = _connect_and_share(_connector(tmp_path, page, person), snow_app, snow_server)
    assert ticket["sys_created_by"] == INTEGRATION_USER


def test_scenario_sso_enabled_with_a_new_idp_user_of_the_same_name_and_email(
        snow_app: Flask, snow_server: str, browser_page: Any, tmp_path: Path) -> None:
    _apply(snow_server, "sso-enabled")
    # The other documented fix: a new IdP user with the integration user's name and email.
    created = httpx.post(f"{snow_server}/_emulator/idp/users", json={
        "user_name": "m365integration@contoso.test", "email": f"{INTEGRATION_USER}@example.com",
        "name": INTEGRATION_NAME, "password": "IdpPass1!"})
    assert created.status_code == 201, created.text
    page = browser_page

    def person(_url: str) -> None:
        page.wait_for_selector("#idp_login")
        page.fill("#idp_login", "m365integration@contoso.test")
        page.fill("#idp_password", "IdpPass1!")
        page.click("#idp_submit")
        page.wait_for_selector("#allow")
        assert page.inner_text("#consent_user") == INTEGRATION_NAME
        page.click("#allow")
        page.wait_for_url(f"{CALLBACK}**")

    ticket = _connect_and_share(_connector(tmp_path, page, person), snow_app, snow_server)
    assert ticket["sys_created_by"] == INTEGRATION_USER


def test_scenario_missing_objects_validated_in_users_and_application_registry(
        snow_app: Flask, snow_server: str, browser_page: Any) -> None:
    _apply(snow_server, "integration-user-missing")
    _apply(snow_server, "oauth-entity-missing")
    page = browser_page
    page.goto(f"{snow_server}/login.do")
    _log_in(page, "admin", "admin")
    page.wait_for_url("**/navpage.do*")
    # The searches an admin types in the lists' search boxes (User ID; Name).
    users = (f"{snow_server}/sys_user_list.do?sysparm_search={INTEGRATION_USER}"
             "&sysparm_search_field=user_name")
    registry = f"{snow_server}/oauth_entity_list.do?sysparm_search=Microsoft 365"
    # The doc's validation steps fail: neither object is there.
    for url in (users, registry):
        page.goto(url)
        playwright_api.expect(page.locator("#no-records")).to_have_text("No records to display")
    # The fix: re-run the checklist's steps with their Run buttons.
    page.goto(f"{snow_server}/x_mioms_m365ticket_checklist.do")
    for step in ("oauth_entity", "integration_user", "roles", "readiness"):
        page.locator(f"#step-{step}").get_by_role("button", name="Run").click()
        playwright_api.expect(page.locator(f"#step-{step} .state")).to_have_text("Complete")
    playwright_api.expect(page.locator("#checklist-status")).to_contain_text("Complete")
    # Validated in User Administration > Users and System OAuth > Application Registry.
    page.goto(users)
    assert INTEGRATION_USER in page.inner_text("table")
    page.get_by_role("link", name=INTEGRATION_USER, exact=True).click()
    assert INTEGRATION_NAME in page.content()
    page.goto(registry)
    page.get_by_role("link", name=OAUTH_ENTITY_NAME, exact=True).click()
    assert "client_id" in page.content() or "Client ID" in page.content()


def test_scenario_web_service_only_user_cannot_log_in_to_authorize(
        snow_app: Flask, snow_server: str, browser_page: Any) -> None:
    _apply(snow_server, "web-service-only-integration-user")
    page = browser_page
    page.goto(f"{snow_server}/login.do")
    _log_in(page, INTEGRATION_USER, INTEGRATION_PASSWORD)
    playwright_api.expect(page.locator("#login_error")).to_have_text(
        "This user is a web service access only (non-interactive) user and cannot log in to "
        "the user interface.")
    # Fix (by the admin, here the scenario's fix as data), then the same login works.
    assert httpx.post(f"{snow_server}/_emulator/scenarios/web-service-only-integration-user",
                      json={"fix": True}).status_code == 200
    page.goto(f"{snow_server}/login.do")
    _log_in(page, INTEGRATION_USER, INTEGRATION_PASSWORD)
    page.wait_for_url("**/navpage.do*")
