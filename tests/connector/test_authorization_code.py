"""The authorization-code connect without a browser: open_url and the receiver are injected."""

from __future__ import annotations

import httpx
import pytest

from connector import AuthenticationError, Connector, LoopbackReceiver
from tests.connector import fake_instance as fi
from tests.connector.fake_instance import FakeInstance


class ConsentPage:
    """Plays the instance's consent page: Allow redirects with a code and the state."""

    def __init__(self, fake: FakeInstance, *, deny: bool = False, state: str | None = None):
        self.fake, self.deny, self.state = fake, deny, state
        self.callback = ""
        self.redirect_uri = ""

    def start(self, redirect_uri: str) -> None:
        self.redirect_uri = redirect_uri

    def open(self, url: str) -> None:
        params = httpx.URL(url).params
        assert params["response_type"] == "code" and params["client_id"] == fi.CLIENT_ID
        assert params["redirect_uri"] == self.redirect_uri
        state = self.state or params["state"]
        if self.deny:
            self.callback = f"{self.redirect_uri}?error=access_denied&state={state}"
        else:
            self.callback = f"{self.redirect_uri}?code={self.fake.issue_code()}&state={state}"

    def wait(self) -> str:
        return self.callback


def test_authorization_code_connect(make_connector, fake: FakeInstance) -> None:  # type: ignore[no-untyped-def]
    page = ConsentPage(fake)
    announced: list[str] = []
    connector: Connector = make_connector(open_url=page.open, receiver=lambda: page)
    status = connector.connect_with_browser(fi.BASE, fi.CLIENT_ID, fi.CLIENT_SECRET,
                                            announce=announced.append)
    assert status.connected and announced[0].startswith(fi.BASE + "/oauth_auth.do?")
    assert page.redirect_uri == "http://127.0.0.1:8765/callback"
    token_body = [r for r in fake.requests if r.url.path == "/oauth_token.do"][-1].content
    assert b"grant_type=authorization_code" in token_body
    assert b"redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback" in token_body


@pytest.mark.parametrize("deny, state, message", [(True, None, "Allow"),
                                                  (False, "forged", "state")])
def test_deny_or_forged_state_stores_nothing(make_connector, fake: FakeInstance,  # type: ignore[no-untyped-def]
                                             deny: bool, state: str | None,
                                             message: str) -> None:
    page = ConsentPage(fake, deny=deny, state=state)
    connector: Connector = make_connector(open_url=page.open, receiver=lambda: page)
    with pytest.raises(AuthenticationError, match=message):
        connector.connect_with_browser(fi.BASE, fi.CLIENT_ID, fi.CLIENT_SECRET)
    assert connector.store.load_credentials() is None


def test_loopback_receiver_hands_back_the_callback() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    receiver = LoopbackReceiver(timeout=10)
    redirect = f"http://127.0.0.1:{port}/callback"
    receiver.start(redirect)
    with httpx.Client() as client:
        assert client.get(f"http://127.0.0.1:{port}/other").status_code == 404
        response = client.get(redirect, params={"code": "c1", "state": "s1"})
    assert response.status_code == 200 and "close this window" in response.text
    assert receiver.wait() == redirect + "?code=c1&state=s1"


def test_without_browser_the_url_is_only_announced(make_connector, fake: FakeInstance) -> None:  # type: ignore[no-untyped-def]
    page = ConsentPage(fake)
    opened: list[str] = []
    announced: list[str] = []

    class ManualReceiver:
        """The admin copies the printed URL into a browser by hand."""

        def start(self, redirect_uri: str) -> None:
            page.start(redirect_uri)

        def wait(self) -> str:
            page.open(announced[0])
            return page.wait()

    connector: Connector = make_connector(open_url=opened.append, receiver=ManualReceiver)
    status = connector.connect_with_browser(fi.BASE, fi.CLIENT_ID, fi.CLIENT_SECRET,
                                            announce=announced.append, open_browser=False)
    assert status.connected and opened == []


def test_cli_connect_with_the_authorization_code_flow(home, recorder, fake: FakeInstance,  # type: ignore[no-untyped-def]
                                                      capsys) -> None:
    from connector import ConnectorSettings
    from connector.cli import main

    page = ConsentPage(fake)

    def factory(settings: ConnectorSettings) -> Connector:
        return Connector(settings, transport=recorder, clock=fake.clock,
                         open_url=page.open, receiver=lambda: page)

    code = main(["connect", "--instance", fi.BASE, "--client-id", fi.CLIENT_ID,
                 "--client-secret", fi.CLIENT_SECRET], connector=factory,
                environ={"SNOW_CONNECTOR_HOME": str(home)})
    out, err = capsys.readouterr()
    assert code == 0 and "status: connected, not provisioned" in out
    assert "/oauth_auth.do?response_type=code" in err and fi.CLIENT_SECRET not in out + err
