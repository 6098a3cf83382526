"""Every error the CLI reports reads the same on the pages (issue 17, item 3).

For each case the same connector home and instance are put in the failing state; the CLI
prints ``snow-connector: <reason> (hint: <hint>)`` on stderr, and the page doing the same
thing shows ``<reason> (hint: <hint>)`` in its error bar: the same words, never a trace.
"""

from __future__ import annotations

import contextlib
import io

import httpx
import pytest

from connector import Connector, ConnectorSettings
from connector.cli import main
from connector.ui import create_app
from mock_servicenow.domain.platform import scenarios
from tests.connector.ui.pages import Harness, Page, UiBrowser


def pages_symptom(name: str, key: str = "text") -> str:
    """What the scenario file says the Microsoft 365 pages show (checked here against the
    pages, so the catalogue cannot drift from them)."""
    return " ".join(str(scenarios.catalogue()[name].symptom["microsoft_365_pages"][key]).split())


def _same_words(cli_err: str, page_problems: list[str]) -> None:
    assert cli_err.startswith("snow-connector: "), cli_err
    assert page_problems == [cli_err.removeprefix("snow-connector: ")]
    assert "Traceback" not in cli_err


def _share(harness: Harness, action: str, kind: str, category: str) -> Page:
    """Submit the ServiceNow task for ``action`` on the Secure score page."""
    return harness.ui.post("/securescore/share", action_id=action, type=kind, priority="high",
                           name="n", description="d", due=harness.qa.due(), category=category)


def _connected(harness: Harness, provisioned: bool = True) -> None:
    assert harness.qa.connect_with_password().code == 0
    if provisioned:
        assert harness.qa.cli("authorize").code == 0


def test_not_provisioned(harness: Harness) -> None:
    harness.qa.apply("not-provisioned")
    _connected(harness, provisioned=False)
    cli = harness.qa.share("DLPEnabled")
    page = _share(harness, "DLPEnabled", "change", "data")
    assert page.status == 409
    _same_words(cli.err, page.problems)
    # The panel says so before anything is typed, in the same words.
    panel = harness.ui.get("/securescore?share=DLPEnabled")
    _same_words(cli.err, panel.problems)
    assert panel.problems == [pages_symptom("not-provisioned", "share")]
    assert pages_symptom("not-provisioned") in harness.ui.get("/").element("not-provisioned")
    # `status` and the pages' status blocks: the same lines.
    status = harness.qa.cli("status").out
    home = harness.ui.get("/").element("connection-status")
    assert "status: connected, not provisioned" in status
    assert "Status connected, not provisioned" in home
    hint = status.split("hint: ", 1)[1].strip()
    assert f"Hint {hint}" in home


def test_reauthorization_required(harness: Harness) -> None:
    _connected(harness)
    harness.qa.apply("expired-refresh-token")
    # The pages see it first (the home page's status), then the CLI and the tickets page.
    home = harness.ui.get("/")
    assert home.element("status-summary") == pages_symptom("expired-refresh-token")
    cli = harness.qa.cli("sync")
    assert cli.code == 1
    _same_words(cli.err, harness.ui.get("/tickets?type=change").problems)


def test_cross_scope_denial(harness: Harness) -> None:
    harness.qa.apply("oauth-entity-scope-denied")
    assert harness.connect_in_browser().has("connected")  # the OAuth flow itself still works
    cli = harness.qa.cli("authorize")
    assert "cross-scope access policy" in cli.err
    page = harness.ui.post("/ticketProvisioning")
    assert page.status == 502
    _same_words(cli.err, page.problems)
    assert pages_symptom("oauth-entity-scope-denied") in page.problems[0]


def test_pre_kingston(harness: Harness) -> None:
    harness.qa.apply("pre-kingston")
    cli = harness.qa.connect_with_password()
    assert cli.code == 1
    page = harness.connect_in_browser()
    assert page.status == 409
    _same_words(cli.err, page.problems)
    assert page.problems[0].startswith(pages_symptom("pre-kingston"))


def test_rate_limited(harness: Harness) -> None:
    _connected(harness)
    harness.qa.apply("rate-limited-integration-user")
    cli = harness.qa.share("DLPEnabled")
    assert "Rate limit exceeded" in cli.err
    page = _share(harness, "DLPEnabled", "change", "data")
    assert page.status == 429
    _same_words(cli.err, page.problems)
    assert page.problems[0].startswith(pages_symptom("rate-limited-integration-user"))


def test_change_requests_closed_to_web_services(harness: Harness) -> None:
    _connected(harness)
    harness.qa.apply("change-request-rest-disabled")
    cli = harness.qa.share("DLPEnabled", "change")
    page = _share(harness, "DefenderASRRules", "change", "devices")
    assert page.status == 502
    _same_words(cli.err, page.problems)
    assert page.problems[0].startswith(pages_symptom("change-request-rest-disabled"))
    incident = _share(harness, "DefenderASRRules", "incident", "devices")
    assert incident.element("flash-1").startswith("Sent to ServiceNow: INC")


def test_instance_unreachable(harness: Harness) -> None:
    _connected(harness)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    def unreachable(_settings: object = None) -> Connector:
        return Connector(ConnectorSettings(home=harness.home),
                         transport=httpx.MockTransport(refuse), sleep=lambda _s: None,
                         initiated_by="secadmin@contoso.com")

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main(["sync"], connector=unreachable,
                    environ={"SNOW_CONNECTOR_HOME": str(harness.home)}) == 1
    ui = UiBrowser(create_app(ConnectorSettings(home=harness.home),
                              connector_factory=unreachable))
    _same_words(" ".join(err.getvalue().split()), ui.get("/tickets?type=change").problems)
    home = ui.get("/")
    assert "status: connected, instance unreachable" in home.element("status-summary")


@pytest.mark.parametrize("path", ["/", "/securescore?share=DLPEnabled", "/tickets"])
def test_not_connected_pages_say_what_the_cli_says(harness: Harness, path: str) -> None:
    cli = harness.qa.cli("sync")
    page = harness.ui.get(path)
    if path == "/":
        assert page.has("connect-card")
    else:
        _same_words(cli.err, page.problems)


def test_every_pages_symptom_in_the_catalogue_is_checked_against_the_pages() -> None:
    """A scenario file that says what the Microsoft 365 pages show is checked here or in the
    Chromium tests: the catalogue cannot claim a symptom nobody looked at."""
    from pathlib import Path

    here = Path(__file__).read_text()
    browser = (Path(__file__).parents[2] / "browser" / "test_ui_pages.py").read_text()
    with_pages = {name for name, s in scenarios.catalogue().items()
                  if "microsoft_365_pages" in s.symptom}
    assert {"not-provisioned", "personal-credentials", "sso-enabled"} <= with_pages
    for name in with_pages:
        entry = scenarios.catalogue()[name].symptom["microsoft_365_pages"]
        assert entry.get("surface") and entry.get("text"), name
        assert f'pages_symptom("{name}"' in here or f'_pages_symptom("{name}")' in browser, name
