"""An admin in a real browser: runs the checklist, reads the scope denial, fixes it, re-runs.

Drives Debian's Chromium with Playwright against a real socket (``snow_server``), logging in
through ``/login.do`` as a person would. On failure a screenshot and the page's HTML go to
``test-artifacts/`` (the shared ``browser_page`` fixture in conftest.py).
"""

from __future__ import annotations

import pytest
from flask import Flask
from playwright import sync_api as playwright_api

from mock_servicenow.store import rows

pytestmark = pytest.mark.browser

POLICY_DENIAL = ("Read operation against 'oauth_entity' from scope 'x_mioms_m365ticket' has "
                 "been refused due to the table's cross-scope access policy")


def _customize_oauth_entity_policy(app: Flask) -> None:
    """The instance state of the ``oauth-entity-scope-denied`` case (ARCHITECTURE §4)."""
    instance = app.extensions["mock_servicenow"].instance
    db = instance.connect()
    dictionary = instance.platform.dictionary
    with db.atomic():
        row = rows.find_by(db, dictionary, "sys_db_object", name="oauth_entity")[0]
        rows.update(db, dictionary, "sys_db_object", row["sys_id"],
                    {"access": "package_private", "read_access": 0})
    db.close()


def _run_checklist_and_fix(page: object, base_url: str) -> None:
    page.goto(f"{base_url}/x_mioms_m365ticket_checklist.do")  # type: ignore[attr-defined]
    step = page.locator("#step-oauth_entity")  # type: ignore[attr-defined]
    step.get_by_role("button", name="Run").click()
    step = page.locator("#step-oauth_entity")  # type: ignore[attr-defined]
    playwright_api.expect(step.locator(".state")).to_have_text("Failed")
    assert step.locator(".message").inner_text().strip() == POLICY_DENIAL
    playwright_api.expect(page.locator("#checklist-status")).to_contain_text(  # type: ignore[attr-defined]
        "Not complete")

    # The documented fix: Application Registries accessible from all scopes, Can read checked,
    # on the table's form (the platform's generic form of its sys_db_object record).
    page.get_by_role("link", name="its application access form").click()  # type: ignore[attr-defined]
    page.get_by_label("Accessible from").select_option("public")  # type: ignore[attr-defined]
    page.get_by_label("Can read", exact=True).check()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Update").click()  # type: ignore[attr-defined]
    # Update goes back to the page the form was opened from: the checklist.
    page.wait_for_url("**/x_mioms_m365ticket_checklist.do*")  # type: ignore[attr-defined]
    page.locator("#step-oauth_entity").get_by_role("button", name="Run").click()  # type: ignore[attr-defined]
    step = page.locator("#step-oauth_entity")  # type: ignore[attr-defined]
    playwright_api.expect(step.locator(".state")).to_have_text("Complete")
    playwright_api.expect(page.locator("#checklist-status")).to_contain_text("Complete")  # type: ignore[attr-defined]
    assert "Not complete" not in page.locator("#checklist-status").inner_text()  # type: ignore[attr-defined]


def test_admin_logs_in_runs_the_checklist_and_reads_the_error(
        snow_app: Flask, snow_server: str, browser_page: object) -> None:
    """Through the login page, as a person would (needs /login.do from the identity part)."""
    _customize_oauth_entity_policy(snow_app)
    page = browser_page
    page.goto(f"{snow_server}/x_mioms_m365ticket_checklist.do")  # type: ignore[attr-defined]
    page.fill("input[name=user_name]", "admin")  # type: ignore[attr-defined]
    page.fill("input[name=user_password]", "admin")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Log in").click()  # type: ignore[attr-defined]
    page.wait_for_url("**/x_mioms_m365ticket_checklist.do*")  # type: ignore[attr-defined]
    _run_checklist_and_fix(page, snow_server)
