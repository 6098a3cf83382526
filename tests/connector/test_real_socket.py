"""The default transport and the loopback redirect listener over real loopback sockets.

The fake instance is served by wsgiref on a free port; the connector uses its own
``httpx.HTTPTransport``; a thread plays the browser that follows the authorize URL to the
connector's loopback listener. No sleeping: every wait is on an event or a response.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx
import pytest

from connector import Connector, ConnectorSettings
from tests.connector import fake_instance as fi
from tests.connector.fake_instance import FakeInstance


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served() -> Iterator[tuple[FakeInstance, str]]:
    fake = FakeInstance()
    server = make_server("127.0.0.1", 0, fi.wsgi_app(fake), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_browser_connect_over_real_sockets(served: tuple[FakeInstance, str],
                                           tmp_path: Path) -> None:
    fake, base = served
    redirect = f"http://127.0.0.1:{_free_port()}/callback"
    browser_errors: list[BaseException] = []

    def browser(url: str) -> None:
        def follow() -> None:
            try:
                with httpx.Client(follow_redirects=True) as client:
                    assert client.get(url).status_code == 200  # the listener's page
            except BaseException as exc:  # reported by the assertion below
                browser_errors.append(exc)
        threading.Thread(target=follow, daemon=True).start()

    connector = Connector(ConnectorSettings(home=tmp_path / "h", redirect_uri=redirect),
                          open_url=browser, clock=fake.clock, initiated_by="me@contoso.com")
    status = connector.connect_with_browser(base, fi.CLIENT_ID, fi.CLIENT_SECRET)
    assert browser_errors == []
    assert status.summary == "connected, not provisioned"
    connector.authorize()
    ticket = connector.share("DLPEnabled", ticket_type="change", priority="medium",
                             due="2030-01-01")
    assert ticket.number == "CHG0030001"
    assert connector.disconnect().tokens_revoked
