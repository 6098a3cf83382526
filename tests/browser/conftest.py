"""Browser fixtures: Debian's Chromium driven by Playwright, artifacts saved on failure.

``browser_page`` yields a Playwright page in a Chromium of its own; ``shared_browser_page`` a page
in a fresh context of one Chromium per module (``chromium``), for modules with many tests. When
the test fails, a screenshot and the page's HTML are written under ``test-artifacts/`` (named
after the test).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
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


def _launch(playwright: Any) -> Any:
    if not Path(CHROMIUM).exists():
        # Never a silent skip: ./scripts/test installs Debian's chromium before running.
        pytest.fail(f"{CHROMIUM} is not installed; run ./scripts/test, which installs it")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def _save_artifacts(request: pytest.FixtureRequest, page: Any) -> None:
    """Screenshot and HTML of ``page`` under test-artifacts/ when the test failed."""
    report = getattr(request.node, "rep_call", None)
    if report is None or not report.failed:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        (ARTIFACTS / f"{name}.html").write_text(page.content())
    except Exception:  # noqa: BLE001 - artifacts are best effort
        pass


@contextmanager
def _page_in(browser: Any, request: pytest.FixtureRequest, **options: Any) -> Iterator[Any]:
    """A page in a fresh context of ``browser``; artifacts saved if the test failed."""
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        _save_artifacts(request, page)
        context.close()


@pytest.fixture
def browser_page(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh Chromium page; screenshot + HTML saved to test-artifacts/ on failure."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = _launch(playwright)
        try:
            with _page_in(browser, request) as page:
                yield page
        finally:
            browser.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One Chromium for a whole module (each test still gets its own context: cookies and
    storage are not shared). Launching takes about a second on this machine."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = _launch(playwright)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def shared_browser_page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page in a fresh context of the module's Chromium (1280x800); artifacts on failure."""
    with _page_in(chromium, request, viewport={"width": 1280, "height": 800}) as page:
        yield page
