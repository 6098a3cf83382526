"""The instance as a person sees it (issue 16), in Debian's Chromium.

One instance and one browser serve the whole module (tests run in order, each in a fresh
browser context, so each logs in as a person would). Every page is checked for console
errors. Screenshots of the navigator, a list, a form, the checklist and the dashboard are
written to ``test-artifacts/screenshots/``, and to ``docs/screenshots/`` (checked in) when
``UPDATE_SCREENSHOTS=1``; values that change from run to run (clock, paths, process ids,
the journal) are masked so the pictures only change when the pages do.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from flask import Flask
from playwright import sync_api as playwright_api

from mock_servicenow.app import create_app
from mock_servicenow.server import listen
from mock_servicenow.settings import Settings
from tests.browser.conftest import ARTIFACTS, _page_in

pytestmark = pytest.mark.browser

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1366, "height": 820}


class Site:
    """The module's instance: its app and base URL."""

    def __init__(self, app: Flask, url: str) -> None:
        self.app = app
        self.url = url


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    home = tmp_path_factory.mktemp("pages-browser")
    app = create_app(Settings(database_path=str(home / "instance.db"), home=home,
                              admin_password="admin", password_hash_iterations=1000,
                              secret_key="pages-browser", random_seed=20261126))
    listening = listen(app, "127.0.0.1", 0)
    listening.start_in_thread()
    try:
        yield Site(app, listening.base_url)
    finally:
        listening.shutdown()
        app.extensions["mock_servicenow"].instance.close()


@pytest.fixture
def page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context of the module's Chromium (``tests/browser/conftest.py``,
    artifacts on failure); fails the test on any console error or page exception."""
    with _page_in(chromium, request, viewport=VIEWPORT) as tab:
        errors: list[str] = []
        tab.on("console", lambda m: errors.append(f"{m.type}: {m.text} ({tab.url})")
               if m.type == "error" else None)
        tab.on("pageerror", lambda e: errors.append(f"exception: {e} ({tab.url})"))
        tab.on("dialog", lambda dialog: dialog.accept())
        yield tab
        assert errors == [], errors


def _shot(tab: Any, name: str, mask: list[Any] | None = None) -> None:
    targets = [ARTIFACTS / "screenshots"]
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        targets.append(DOCS_SCREENSHOTS)
    for folder in targets:
        folder.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(folder / f"{name}.png"), mask=mask or [], mask_color="#dfe3e8",
                       animations="disabled")


def _log_in(tab: Any, site: Site) -> None:
    tab.goto(site.url + "/")
    tab.wait_for_url("**/login.do*")
    tab.fill("#user_name", "admin")
    tab.fill("#user_password", "admin")
    tab.click("#sysverb_login")
    tab.wait_for_url("**/navpage.do")


def test_a_person_logs_in_from_the_address_and_finds_the_checklist(site: Site,
                                                                   page: Any) -> None:
    _log_in(page, site)
    playwright_api.expect(page.locator("#current_user")).to_have_text("System Administrator")
    _shot(page, "navigator")
    page.fill("#filter", "checklist")
    visible = page.locator(".sn-module:visible a")
    playwright_api.expect(visible).to_have_text(["Installation Checklist", "Checklist Steps"])
    page.locator(".sn-module:visible a", has_text="Installation Checklist").click()
    page.wait_for_url("**/x_mioms_m365ticket_checklist.do")
    playwright_api.expect(page.locator("#checklist-status")).to_contain_text("Complete")
    _shot(page, "checklist")
    # The navigator's shortcut: a table name and .list opens its list.
    page.fill("#filter", "problem.list")
    page.press("#filter", "Enter")
    page.wait_for_url("**/problem_list.do")
    playwright_api.expect(page.locator("#list_title")).to_have_text("Problems")


def _numbers(tab: Any) -> list[str]:
    return [n.strip() for n in tab.locator("#list_table tbody tr td:first-child").all_inner_texts()]


def test_incident_list_query_sort_pages_form_update_and_data_policy(site: Site,
                                                                    page: Any) -> None:
    _log_in(page, site)
    page.goto(site.url + "/incident_list.do?sysparm_query=active%3Dtrue")
    playwright_api.expect(page.locator("#breadcrumbs")).to_contain_text("Active = true")
    # Sort by Number: ascending, then descending.
    page.locator('th[data-field="number"] a').click()
    playwright_api.expect(page.locator('th[data-field="number"]')).to_have_attribute(
        "aria-sort", "ascending")
    ascending = _numbers(page)
    assert ascending == sorted(ascending) and len(ascending) == 20
    page.locator('th[data-field="number"] a').click()
    playwright_api.expect(page.locator('th[data-field="number"]')).to_have_attribute(
        "aria-sort", "descending")
    assert _numbers(page) == sorted(_numbers(page), reverse=True)
    # Ten rows a page, then the next page.
    page.locator(".sn-rows a", has_text="10").first.click()
    playwright_api.expect(page.locator("#page_position")).to_contain_text("1 to 10 of")
    first_page = _numbers(page)
    page.click("#page_next")
    playwright_api.expect(page.locator("#page_position")).to_contain_text("11 to ")
    assert not set(first_page) & set(_numbers(page))
    page.goto(site.url + "/incident_list.do?sysparm_query=active%3Dtrue%5EORDERBYnumber")
    _shot(page, "list")
    # Open a record, change it, Update: back on the list, which shows the change.
    number = _numbers(page)[0]
    page.get_by_role("link", name=number, exact=True).click()
    page.wait_for_url("**/incident.do?sys_id=*")
    playwright_api.expect(page.locator("#form_heading")).to_have_text(number)
    _shot(page, "form")
    page.fill('[id="incident.short_description"]', "Edited in the browser")
    page.click("#sysverb_update")
    page.wait_for_url("**/incident_list.do*")
    playwright_api.expect(page.locator("#list_table")).to_contain_text("Edited in the browser")
    # Resolving without close notes: the data policy's message at the top of the form.
    page.get_by_role("link", name=number, exact=True).click()
    page.select_option('[id="incident.state"]', label="Resolved")
    page.click("#sysverb_update")
    errors = page.locator("#output_messages .sn-error")
    playwright_api.expect(errors.first).to_contain_text(
        "Data Policy Exception: The following fields are mandatory: Resolution code, "
        "Close notes")
    playwright_api.expect(errors.nth(1)).to_have_text("Invalid update")
    _shot(page, "form-data-policy")
    # Filled in, the same Update resolves it.
    page.select_option('[id="incident.close_code"]', label="Solution provided")
    page.fill('[id="incident.close_notes"]', "Fixed from the browser")
    page.click("#sysverb_update")
    page.wait_for_url("**/incident_list.do*")
    record = httpx.get(f"{site.url}/api/now/table/incident",
                       params={"sysparm_query": f"number={number}",
                               "sysparm_fields": "state,close_notes"},
                       auth=("admin", "admin")).json()["result"][0]
    assert record == {"state": "6", "close_notes": "Fixed from the browser"}


def test_a_new_record_from_minus_one(site: Site, page: Any) -> None:
    _log_in(page, site)
    page.goto(site.url + "/incident_list.do?sysparm_query=ORDERBYDESCnumber")
    page.click("#sysverb_new")
    page.wait_for_url("**/incident.do?sys_id=-1*")
    page.fill('[id="incident.short_description"]', "Printer on fire (browser)")
    page.fill('[id="sys_display.incident.caller_id"]', "Abel Tuter")
    page.select_option('[id="incident.impact"]', label="1 - High")
    page.click("#sysverb_insert")
    page.wait_for_url("**/incident_list.do*")
    top = page.locator("#list_table tbody tr").first
    playwright_api.expect(top).to_contain_text("Printer on fire (browser)")
    playwright_api.expect(top).to_contain_text("Abel Tuter")
    assert re.fullmatch(r"INC\d{7}", _numbers(page)[0])


def test_the_dashboard_applies_a_scenario_and_its_fix_and_moves_the_clock(site: Site,
                                                                          page: Any) -> None:
    page.goto(site.url + "/_emulator/")
    playwright_api.expect(page.locator("#dashboard_status")).to_have_text("Ready")
    row = page.locator('tr[data-scenario="not-provisioned"]')
    row.get_by_role("button", name="Apply").click()
    playwright_api.expect(page.locator("#dashboard_status")).to_contain_text(
        "Applied: not-provisioned")
    playwright_api.expect(row.locator(".sn-badge")).to_have_text("applied")
    assert "not-provisioned" in httpx.get(f"{site.url}/_emulator/info").json()["scenarios"]
    row.get_by_role("button", name="Fix").click()
    playwright_api.expect(page.locator("#dashboard_status")).to_contain_text(
        "Fix applied: not-provisioned")
    playwright_api.expect(row.locator(".sn-badge")).to_have_text("not applied")
    # The clock: freeze at a known time, advance a day.
    page.fill("#freeze_at", "2026-01-01 00:00:00")
    page.click("#clock_freeze")
    playwright_api.expect(page.locator("#clock_now")).to_have_text("2026-01-01 00:00:00")
    page.fill("#advance_seconds", "86400")
    page.click("#clock_advance")
    playwright_api.expect(page.locator("#clock_now")).to_have_text("2026-01-02 00:00:00")
    assert httpx.get(f"{site.url}/_emulator/clock").json()["now"] == "2026-01-02 00:00:00"
    # A fault, added and removed from the page.
    page.fill("#fault_path", "/api/now/table/problem")
    page.click("#fault_add")
    playwright_api.expect(page.locator("#faults tbody tr[data-fault]")).to_have_count(1)
    assert httpx.get(f"{site.url}/api/now/table/problem",
                     auth=("admin", "admin")).status_code == 503
    page.locator("#faults tbody tr[data-fault]").get_by_role("button", name="Remove").click()
    playwright_api.expect(page.locator("#faults tbody tr[data-fault]")).to_have_count(0)
    playwright_api.expect(page.locator("#journal tbody")).to_contain_text("/api/now/table/problem")
    page.click("#clock_reset")
    playwright_api.expect(page.locator("#clock_frozen")).to_have_text("no")
    # Masked: what differs from run to run (database path, process id, times, durations).
    _shot(page, "dashboard", mask=[
        page.locator("#instance_info tr:nth-child(4) td"),
        page.locator("#instance_info tr:nth-child(7) td"),
        page.locator("#clock_now"), page.locator("#clock_offset"),
        page.locator("#dashboard_status"),
        page.locator("#instances tbody td:nth-child(3)"),
        page.locator("#journal tbody td:nth-child(1)"),
        page.locator("#journal tbody td:nth-child(6)")])


def test_every_link_on_every_navigator_page_answers_200(site: Site, page: Any) -> None:
    """Each module of the navigator opens in the browser without a console error, and every
    link on those pages answers 200 once redirects are followed (logging out excepted),
    fetched with the browser's session, eight at a time."""
    _log_in(page, site)
    modules = page.eval_on_selector_all("#gsft_nav a", "links => links.map(a => a.href)")
    assert len(modules) > 40
    found: dict[str, str] = {}
    origin = urlsplit(site.url).netloc
    for module in dict.fromkeys(modules):
        response = page.goto(module)
        assert response is not None and response.status == 200, module
        for link in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            url = urljoin(page.url, link)
            if urlsplit(url).netloc == origin and "/logout.do" not in url:
                found.setdefault(url, module)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    with httpx.Client(cookies=cookies, follow_redirects=True, timeout=30) as client, \
            ThreadPoolExecutor(max_workers=8) as pool:
        statuses = dict(zip(found, pool.map(lambda url: client.get(url).status_code, found),
                            strict=True))
    broken = {url: (status, found[url]) for url, status in statuses.items() if status != 200}
    assert not broken, broken
    assert len(statuses) > 300
