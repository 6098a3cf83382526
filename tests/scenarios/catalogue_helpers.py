"""Driving a catalogue scenario the way QA does: one command, then a person's surfaces.

``QA`` wraps one in-process demo instance (the ``snow_app`` fixture): the control plane (the
one command that applies a scenario or its fix), an admin's Table API client, the connector
CLI and library against the instance, and ``Browser``, an httpx "browser" that reads and
submits the instance's pages (login, consent, "Not You?", the IdP sign-in, the checklist) as a
person would. Chromium versions of the page flows live in ``tests/browser/test_scenario_*.py``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
from flask import Flask

from connector import Connector, ConnectorSettings
from connector.cli import main as connector_main
from mock_servicenow.apps import banner_lines
from mock_servicenow.domain.identity import oauth_tokens
from mock_servicenow.pytest_plugin import IN_PROCESS_BASE_URL
from mock_servicenow.store import rows

BASE = IN_PROCESS_BASE_URL
INTEGRATION_USER, INTEGRATION_PASSWORD = "m365_integration", "integration"
INTEGRATION_NAME = "Microsoft 365 Integration"
OAUTH_ENTITY_NAME = "Microsoft 365 Security + Compliance Connector"
#: The connector's built-in sample improvement actions (``snow-connector actions``).
SAMPLE_ACTIONS = ("MFARegistrationPolicy", "BlockLegacyAuthentication", "IntuneDeviceCompliance",
                  "DefenderASRRules", "DLPEnabled", "SharePointExternalSharing",
                  "OAuthAppConsentReview", "ExposedServerManagementPorts")
CHECKLIST = "/x_mioms_m365ticket_checklist.do"
POLICY_DENIAL = ("Read operation against 'oauth_entity' from scope 'x_mioms_m365ticket' has "
                 "been refused due to the table's cross-scope access policy")


@dataclass(frozen=True)
class CliResult:
    """What ``snow-connector`` printed and its exit status."""

    code: int
    out: str
    err: str


class _FormParser(HTMLParser):
    """Forms as a browser submits them: hidden and text inputs, checked boxes, selected
    options (unchecked boxes are not sent)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": values.get("action", ""), "fields": {}})
        elif not self.forms or not values.get("name") and tag != "option":
            return
        elif tag == "input":
            kind = values.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in values:
                return
            if kind not in ("submit", "button"):
                self.forms[-1]["fields"][values["name"]] = values.get("value", "")
        elif tag == "select":
            self._select = values["name"]
        elif tag == "option" and self._select and "selected" in values:
            self.forms[-1]["fields"][self._select] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def _forms(page: str) -> list[dict[str, Any]]:
    """The forms of a page (action and the fields a browser would send)."""
    parser = _FormParser()
    parser.feed(page)
    return parser.forms


class Browser:
    """A person's browser on the instance: cookies, redirects, reading and submitting forms."""

    def __init__(self, app: Flask) -> None:
        self.http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE,
                                 follow_redirects=False)
        self.page = httpx.Response(200)
        self.callback = ""
        self.redirect_uri = ""
        self.authorize_url = ""
        #: What the person does once the authorize URL opens (set by the test).
        self.script: Callable[[Browser], None] = lambda _b: None

    # The connector's RedirectReceiver protocol: the browser delivers the redirect.
    def start(self, redirect_uri: str) -> None:
        """Remember the connector's redirect URI (the browser stops there)."""
        self.redirect_uri = redirect_uri

    def wait(self) -> str:
        """The callback URL the browser was sent to."""
        assert self.callback, f"never redirected back; last page:\n{self.page.text[:800]}"
        return self.callback

    def open_authorize(self, url: str) -> None:
        """The connector's ``open_url``: open the authorize page, then play the script."""
        self.authorize_url = url
        self.go(url)
        self.script(self)

    def go(self, url: str, **post: str) -> httpx.Response:
        """GET (or POST ``post``) ``url`` and follow redirects, stopping at the callback."""
        response = (self.http.post(url, data=post) if post else self.http.get(url))
        for _ in range(10):
            if not response.is_redirect:
                break
            target = str(httpx.URL(str(response.url)).join(response.headers["Location"]))
            if self.redirect_uri and target.startswith(self.redirect_uri):
                self.callback = target
                break
            response = self.http.get(target)
        self.page = response
        if 'id="form_post"' in response.text:
            # The IdP's response page posts itself back to the instance (a script does it in
            # a real browser).
            return self.submit()
        return response

    @property
    def text(self) -> str:
        """The current page's text with tags removed (what a person reads)."""
        return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", self.page.text)))

    def element(self, element_id: str) -> str:
        """Text of the element with this id on the current page."""
        found = re.search(rf'id="{element_id}"[^>]*>(.*?)</', self.page.text, re.S)
        assert found, f"no #{element_id} on {self.page.url}:\n{self.page.text[:800]}"
        return html.unescape(found.group(1)).strip()

    def submit(self, index: int = 0, **values: str) -> httpx.Response:
        """Fill and submit the ``index``-th form of the page."""
        form = _forms(self.page.text)[index]
        action = str(httpx.URL(str(self.page.url)).join(form["action"] or str(self.page.url)))
        return self.go(action, **{**form["fields"], **values})

    def update_form(self, table: str, **values: str) -> httpx.Response:
        """Change fields on the current record's form and press Update: back on the page the
        form was opened from (the table's list here), with no error shown."""
        assert f'id="{table}.do"' in self.page.text, f"not a {table} form: {self.page.url}"
        response = self.submit(sys_action="sysverb_update",
                               **{f"{table}.{name}": value for name, value in values.items()})
        assert 'id="output_messages"' not in self.page.text, self.text[:800]
        assert self.page.url.path == f"/{table}_list.do", self.page.url
        return response

    def log_in(self, user_name: str, password: str) -> httpx.Response:
        """Fill the instance's login form (login.do or side_door.do) and submit it."""
        assert 'id="user_name"' in self.page.text, f"not a login page: {self.page.url}"
        return self.submit(user_name=user_name, user_password=password)

    def idp_sign_in(self, login: str, password: str) -> httpx.Response:
        """Fill the identity provider's sign-in form and submit it."""
        assert 'id="idp_login"' in self.page.text, f"not the IdP sign-in page: {self.page.url}"
        return self.submit(login=login, password=password)

    def not_you(self) -> httpx.Response:
        """Click the consent page's "Not You?" link."""
        found = re.search(r'id="not_you" href="([^"]+)"', self.page.text)
        assert found, "no Not You? link"
        return self.go(str(httpx.URL(str(self.page.url)).join(html.unescape(found.group(1)))))

    def allow(self) -> httpx.Response:
        """Click Allow on the consent page."""
        assert 'id="allow"' in self.page.text, f"not the consent page: {self.page.url}"
        return self.submit(action="allow")

    def run_checklist_step(self, step: str) -> str:
        """Click Run on a checklist step; returns the step's state as the page shows it."""
        self.go(CHECKLIST)
        index = next(i for i, f in enumerate(_forms(self.page.text))
                     if f["fields"].get("step") == step)
        self.submit(index, run=step)
        return self.step_state(step)

    def step_state(self, step: str) -> str:
        """State text of a checklist step on the current page ("Complete", "Failed"...)."""
        row = re.search(rf'id="step-{step}".*?</tr>', self.page.text, re.S)
        assert row, f"no step {step} on the page"
        state = re.search(r'class="state[^"]*">([^<]*)<', row.group(0))
        return state.group(1) if state else ""

    def step_message(self, step: str) -> str:
        """Message of a checklist step on the current page."""
        row = re.search(rf'id="step-{step}".*?</tr>', self.page.text, re.S)
        assert row
        message = re.search(r'class="message[^"]*">([^<]*)<', row.group(0), re.S)
        return html.unescape(message.group(1)).strip() if message else ""


class QA:
    """One demo instance, driven by QA: apply a scenario, reproduce, fix, check."""

    def __init__(self, app: Flask, home: Path) -> None:
        self.app = app
        self.home = home
        self.control = httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE)
        self.admin = httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE,
                                  auth=("admin", "admin"),
                                  headers={"Accept": "application/json"})
        self._shared = 0

    # the one command ------------------------------------------------------------------------
    def apply(self, name: str, *, fix: bool = False) -> dict[str, Any]:
        """``POST /_emulator/scenarios/<name>`` (what ``scenario apply`` sends)."""
        response = self.control.post(f"/_emulator/scenarios/{name}",
                                     json={"fix": True} if fix else None)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    # what serve prints ----------------------------------------------------------------------
    def banner(self) -> dict[str, str]:
        """The ``serve`` banner's ``key: value`` lines (client id and secret among them)."""
        instance = self.app.extensions["mock_servicenow"].instance
        db = instance.connect()
        try:
            lines = banner_lines(instance.context(db))
        finally:
            db.close()
        return dict(line.split(": ", 1) for line in lines if ": " in line)

    def credentials(self) -> tuple[str, str]:
        """The app's OAuth client id and secret, as ``serve`` printed them at start (the banner
        no longer shows them on a refused app)."""
        return demo_credentials(self.app)

    def now(self) -> dt.datetime:
        """The instance clock."""
        value = self.control.get("/_emulator/clock").json()["now"]
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)

    def due(self, days: int = 30) -> str:
        """A due date ``days`` after the instance's today."""
        return (self.now().date() + dt.timedelta(days=days)).isoformat()

    # the connector --------------------------------------------------------------------------
    def connector(self, browser: Browser | None = None) -> Connector:
        """The connector library against this instance (state under ``home``)."""
        return Connector(ConnectorSettings(home=self.home),
                         transport=httpx.WSGITransport(app=self.app),
                         open_url=browser.open_authorize if browser else None,
                         receiver=(lambda: browser) if browser else None,
                         sleep=lambda _s: None, clock=lambda: self.now().timestamp(),
                         initiated_by="secadmin@contoso.com")

    def cli(self, *argv: str, browser: Browser | None = None) -> CliResult:
        """Run ``snow-connector ARGV`` against this instance; capture its output."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = connector_main(list(argv), connector=lambda _s: self.connector(browser),
                                  environ={"SNOW_CONNECTOR_HOME": str(self.home)})
        return CliResult(code, out.getvalue(), " ".join(err.getvalue().split()))

    def connect_with_password(self, user: str = INTEGRATION_USER,
                              password: str = INTEGRATION_PASSWORD) -> CliResult:
        """``snow-connector connect ... --username --password`` with the banner's client."""
        client_id, secret = self.credentials()
        return self.cli("connect", "--instance", BASE, "--client-id", client_id,
                        "--client-secret", secret, "--username", user, "--password", password)

    def connect_in_browser(self, browser: Browser) -> CliResult:
        """``snow-connector connect`` (authorization code) with ``browser`` playing the person."""
        client_id, secret = self.credentials()
        return self.cli("connect", "--instance", BASE, "--client-id", client_id,
                        "--client-secret", secret, browser=browser)

    def share(self, action: str | None = None, kind: str = "change") -> CliResult:
        """``snow-connector share ACTION --type KIND --priority high --due <in 30 days>``.

        Without ``action``, the next sample action not shared yet (sharing an action twice
        returns the first ticket, whatever the type).
        """
        if action is None:
            action = SAMPLE_ACTIONS[self._shared % len(SAMPLE_ACTIONS)]
            self._shared += 1
        return self.cli("share", action, "--type", kind, "--priority", "high",
                        "--due", self.due())

    def ticket(self, number: str) -> dict[str, Any]:
        """The ticket with this number, read by the admin through the Table API."""
        table = "change_request" if number.startswith("CHG") else "incident"
        found = self.admin.get(f"/api/now/table/{table}",
                               params={"sysparm_query": f"number={number}"}).json()["result"]
        assert len(found) == 1, found
        return dict(found[0])

    def assert_integration_works(self, kind: str = "change") -> dict[str, Any]:
        """The outcome every fix ends with: sharing creates a ticket (made by the integration
        user); returns the ticket."""
        shared = self.share(kind=kind)
        assert shared.code == 0, shared.err
        number = shared.out.strip().split()[-1]
        assert number.startswith("CHG" if kind == "change" else "INC"), shared.out
        ticket = self.ticket(number)
        assert ticket["sys_created_by"] == INTEGRATION_USER
        return ticket

    def admin_browser(self) -> Browser:
        """A browser logged in as admin through /login.do."""
        browser = Browser(self.app)
        browser.go("/login.do")
        browser.log_in("admin", "admin")
        return browser


def demo_credentials(app: Flask) -> tuple[str, str]:
    """The checklist's OAuth client id and secret, as ``serve``'s banner prints them: the
    Application Registry keeps only a hash of the secret, the platform re-derives the one it
    generated (``oauth_tokens.generated_client_secret``)."""
    instance = app.extensions["mock_servicenow"].instance
    db = instance.connect()
    try:
        ctx = instance.context(db)
        found = rows.find_by(db, ctx.dictionary, "oauth_entity", name=OAUTH_ENTITY_NAME)
        assert found, f"no {OAUTH_ENTITY_NAME} in the Application Registry"
        secret = oauth_tokens.generated_client_secret(ctx, found[0])
    finally:
        db.close()
    assert secret is not None
    return str(found[0]["client_id"]), secret
