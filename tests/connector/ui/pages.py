"""Driving the ui in-process (Flask's test client) the way a person's browser does.

``UiBrowser`` reads pages as text, finds elements by id, and submits forms with the page's
CSRF token; ``FakeHandOff`` stands in for the loopback receiver of the registered redirect URI
(the test delivers the instance's redirect to it). ``Harness`` ties one demo instance (the
catalogue's ``QA``), the ui app and the instance-side ``Browser`` together.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.test import TestResponse

from connector import Connector, ConnectorSettings
from connector.ui import create_app
from tests.scenarios.catalogue_helpers import (
    INTEGRATION_PASSWORD,
    INTEGRATION_USER,
    QA,
    Browser,
)

REDIRECT_URI = "http://127.0.0.1:8765/callback"


@dataclass
class Page:
    """A ui response as a person reads it."""

    response: TestResponse

    @property
    def status(self) -> int:
        """HTTP status."""
        return self.response.status_code

    @property
    def html(self) -> str:
        """The page source."""
        return self.response.get_data(as_text=True)

    @property
    def text(self) -> str:
        """The page's text, tags removed, whitespace collapsed."""
        return _text(self.html)

    def element(self, element_id: str) -> str:
        """Text of the element with this id (its whole subtree)."""
        found = re.search(rf'<(\w+)[^>]*\bid="{re.escape(element_id)}"[^>]*>', self.html)
        assert found, f"no #{element_id} on the page:\n{self.text[:1500]}"
        tag = found.group(1)
        depth, pos = 1, found.end()
        opener, closer = re.compile(rf"<{tag}\b"), re.compile(rf"</{tag}>")
        while depth:
            o, c = opener.search(self.html, pos), closer.search(self.html, pos)
            assert c, f"unclosed #{element_id}"
            if o and o.start() < c.start():
                depth, pos = depth + 1, o.end()
            else:
                depth, pos = depth - 1, c.end()
        return _text(self.html[found.start():pos])

    def has(self, element_id: str) -> bool:
        """Whether an element with this id is on the page."""
        return f'id="{element_id}"' in self.html

    @property
    def problems(self) -> list[str]:
        """The error bars' texts (the CLI's words)."""
        found = re.findall(r'<span class="message-body problem-text">(.*?)</span>', self.html,
                           re.S)
        return [_text(m) for m in found]


def _text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


class FakeHandOff:
    """The registered redirect URI's receiver, fed by the test."""

    def __init__(self, return_to: str) -> None:
        self.return_to = return_to
        self.redirect_uri = ""
        self.callback: str | None = None
        self.closed = False

    @property
    def received(self) -> bool:
        """Whether the redirect was delivered."""
        return self.callback is not None

    def start(self, redirect_uri: str) -> None:
        """Remember where the instance will redirect."""
        self.redirect_uri = redirect_uri

    def deliver(self, callback_url: str) -> str:
        """The instance's redirect arrives; returns where the browser is sent (303)."""
        assert callback_url.startswith(self.redirect_uri), callback_url
        self.callback = callback_url
        return self.return_to

    def wait(self) -> str:
        """The callback URL."""
        assert self.callback is not None
        self.closed = True
        return self.callback

    def close(self) -> None:
        """Stop listening."""
        self.closed = True


class UiBrowser:
    """The ui's pages through Flask's test client."""

    def __init__(self, app: Flask, base_url: str = "http://127.0.0.1:8766") -> None:
        self.app = app
        self.client = app.test_client()
        self.base_url = base_url
        self.page: Page | None = None

    def get(self, path: str) -> Page:
        """Open a page (redirects inside the ui are followed)."""
        self.page = Page(self.client.get(path, base_url=self.base_url, follow_redirects=True))
        return self.page

    def csrf(self) -> str:
        """This session's CSRF token, as every form carries it."""
        with self.client.session_transaction(base_url=self.base_url) as session:
            token = session.get("csrf_token")
        if not token:
            page = self.get("/servicenow/configuration")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.html).group(1)
        return str(token)

    def post(self, path: str, follow: bool = True, **fields: Any) -> Page:
        """Submit a form to ``path`` (the CSRF token added, as the page's form has it)."""
        data = {"csrf_token": self.csrf(), **fields}
        response = self.client.post(path, data=data, base_url=self.base_url,
                                    follow_redirects=follow)
        self.page = Page(response)
        return self.page

    def post_raw(self, path: str, data: dict[str, Any], **kwargs: Any) -> TestResponse:
        """POST exactly ``data`` (no token added)."""
        return self.client.post(path, data=data, base_url=self.base_url, **kwargs)


@dataclass
class Harness:
    """One demo instance, its QA helper, the ui on the same connector home, the hand-offs."""

    qa: QA
    home: Path
    hand_offs: list[FakeHandOff] = field(default_factory=list)
    redirect_uri: str = REDIRECT_URI
    app: Flask = field(init=False)
    ui: UiBrowser = field(init=False)

    def __post_init__(self) -> None:
        settings = ConnectorSettings(home=self.home, redirect_uri=self.redirect_uri)

        def hand_off(return_to: str) -> FakeHandOff:
            made = FakeHandOff(return_to)
            self.hand_offs.append(made)
            return made

        def connector() -> Connector:
            made = self.qa.connector()
            made.settings = settings
            return made

        self.app = create_app(settings, connector_factory=connector,
                              hand_off_factory=hand_off, account="secadmin@contoso.com")
        self.ui = UiBrowser(self.app)

    # the authorization-code flow through the pages ----------------------------------------
    def start_connect(self) -> Browser:
        """Fill the connect form and submit it; returns the instance-side browser, on the
        page the ui sent it to (the instance's authorize page)."""
        client_id, secret = self.qa.credentials()
        response = self.ui.post_raw("/servicenow/connect", {
            "csrf_token": self.ui.csrf(), "instance": self.qa_base, "client_id": client_id,
            "client_secret": secret})
        assert response.status_code == 303, Page(response).text[:1500]
        browser = Browser(self.qa.app)
        browser.redirect_uri = self.redirect_uri
        browser.go(response.headers["Location"])
        return browser

    def come_back(self, browser: Browser) -> Page:
        """The instance redirected ``browser`` to the registered URI: the receiver hands it
        back to the ui, which completes the connection."""
        assert browser.callback, f"not redirected back; on {browser.page.url}"
        back = self.hand_offs[-1].deliver(browser.callback)
        parts = urlsplit(back)
        return self.ui.get(f"{parts.path}?{parts.query}")

    def connect_in_browser(self, user: str = INTEGRATION_USER,
                           password: str = INTEGRATION_PASSWORD) -> Page:
        """Connect through the pages, signing in as ``user`` and clicking Allow."""
        browser = self.start_connect()
        browser.log_in(user, password)
        browser.allow()
        return self.come_back(browser)

    @property
    def qa_base(self) -> str:
        """The instance URL typed into the connect form."""
        from tests.scenarios.catalogue_helpers import BASE

        return BASE


def register_redirect_url(qa: QA, redirect_uri: str) -> None:
    """What an admin does on the instance: add a redirect URL to the app's OAuth entity."""
    from tests.scenarios.catalogue_helpers import OAUTH_ENTITY_NAME

    found = qa.admin.get("/api/now/table/oauth_entity", params={
        "sysparm_query": f"name={OAUTH_ENTITY_NAME}"}).json()["result"]
    entity = found[0]
    urls = f"{entity['redirect_url']},{redirect_uri}"
    assert qa.admin.patch(f"/api/now/table/oauth_entity/{entity['sys_id']}",
                          json={"redirect_url": urls}).status_code == 200
