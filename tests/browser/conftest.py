"""Browser fixtures: Debian's Chromium driven by Playwright, artifacts saved on failure.

``browser_page`` yields a Playwright page; when the test fails, a screenshot and the page's
HTML are written under ``test-artifacts/`` (named after the test).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Remember each phase's outcome on the item (for the artifact fixture)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def browser_page(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh Chromium page; screenshot + HTML saved to test-artifacts/ on failure."""
    if not Path(CHROMIUM).exists():
        # Never a silent skip: ./scripts/test installs Debian's chromium before running.
        pytest.fail(f"{CHROMIUM} is not installed; run ./scripts/test, which installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            yield page
        finally:
            report = getattr(request.node, "rep_call", None)
            if report is not None and report.failed:
                ARTIFACTS.mkdir(exist_ok=True)
                name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
                try:
                    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
                    (ARTIFACTS / f"{name}.html").write_text(page.content())
                except Exception:  # noqa: BLE001 - artifacts are best effort
                    pass
            context.close()
            browser.close()
