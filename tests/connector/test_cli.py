"""The CLI over the library, with the fake instance injected through ``main(connector=...)``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from connector import Connector, ConnectorSettings
from connector.cli import main
from tests.connector import fake_instance as fi
from tests.connector.fake_instance import FakeInstance
from tests.connector.recording import RecordingTransport


@pytest.fixture
def run(home: Path, recorder: RecordingTransport, fake: FakeInstance, capsys):  # type: ignore[no-untyped-def]
    env = {"SNOW_CONNECTOR_HOME": str(home), "SNOW_CONNECTOR_UPN": "admin@contoso.com"}

    def factory(settings: ConnectorSettings) -> Connector:
        assert settings.home == home
        return Connector(settings, transport=recorder, clock=fake.clock, sleep=lambda s: None)

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv), connector=factory, environ=env)
        out, err = capsys.readouterr()
        return code, out, err
    return invoke


def _connect(run) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run("connect", "--instance", fi.BASE, "--client-id", fi.CLIENT_ID,
                         "--client-secret", fi.CLIENT_SECRET, "--username", fi.USER,
                         "--password", fi.PASSWORD)
    assert code == 0, err
    assert fi.CLIENT_SECRET not in out + err and fi.PASSWORD not in out + err


def test_full_cli_journey(run, fake: FakeInstance, home: Path) -> None:  # type: ignore[no-untyped-def]
    _connect(run)
    code, out, err = run("share", "DLPEnabled", "--type", "change", "--priority", "high",
                         "--due", "2030-01-31")
    assert code == 1 and "authorize" in err and err.count("\n") == 1
    assert run("authorize")[0] == 0
    code, out, _ = run("status")
    assert "connected and provisioned" in out
    assert "client_secret held" in out and "refresh_token held" in out
    creds = json.loads((home / "credentials.json").read_text())
    assert creds["access_token"] not in out
    code, out, _ = run("share", "DLPEnabled", "--type", "change", "--priority", "high",
                       "--due", "2030-01-31")
    assert (code, out) == (0, "CHG0030001\n")
    code, out, _ = run("share", "MFARegistrationPolicy", "--type", "incident", "--priority",
                       "critical", "--due", "2030-01-31")
    assert (code, out) == (0, "INC0010001\n")
    incident = next(iter(fake.tables["incident"]))
    fake.now += 10
    fake.set_state("incident", incident, "2")
    assert run("sync")[0] == 0
    assert run("states", "set", "incident", "2", "Investigating")[0] == 0
    code, out, _ = run("cards", "--json")
    cards = {c["table"]: c for c in json.loads(out)}
    assert {"value": "2", "name": "Investigating", "count": 1} in cards["incident"]["states"]
    code, out, _ = run("tickets", "--json")
    assert sorted(t["number"] for t in json.loads(out)) == ["CHG0030001", "INC0010001"]
    code, out, _ = run("cards")
    assert "Change management (1)" in out and "Investigating" in out
    assert run("disconnect")[0] == 0
    assert run("disconnect")[1] == "not connected\n"
    code, out, _ = run("status", "--json")
    assert json.loads(out)["summary"] == "not connected"


def test_actions_lists_the_samples(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("actions", "--json")
    data = json.loads(out)
    assert code == 0 and len(data["actions"]) == 8 and data["incomplete"] is False
    code, out, _ = run("actions")
    assert "DLPEnabled\tdata\tApply data loss prevention policies" in out


def test_errors_are_one_line_with_exit_1(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run("cards")
    assert code == 1 and err.startswith("snow-connector: ") and err.count("\n") == 1
    bad = tmp_path / "bad.json"
    bad.write_text("[")
    code, _, err = run("actions", "--file", str(bad))
    assert code == 1 and "not valid JSON" in err and err.count("\n") == 1
    code, _, err = run("states", "set", "incident", "x", "Name")
    assert code == 1


def test_usage_errors_exit_2(run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as caught:
        run("share", "X", "--type", "problem", "--priority", "high", "--due", "2030-01-01")
    assert caught.value.code == 2


def test_wrong_password_is_one_line_without_secrets(run) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run("connect", "--instance", fi.BASE, "--client-id", fi.CLIENT_ID,
                         "--client-secret", fi.CLIENT_SECRET, "--username", fi.USER,
                         "--password", "hunter2-wrong")
    assert code == 1 and "refused the password grant" in err
    assert "hunter2-wrong" not in err + out and fi.CLIENT_SECRET not in err + out


class _Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_long_runs_on_a_terminal() -> None:
    from connector.cli import _ProgressBar

    stream = _Terminal()
    bar = _ProgressBar(stream, threshold=100)
    bar(5, 50)
    assert stream.getvalue() == ""
    for done in range(1, 251):
        bar(done, 250)
    bar.finish()
    text = stream.getvalue()
    assert text.endswith("] 250/250\n") and "\r" in text
    # Not a terminal (a log, a pipe): no bar, not even for long runs.
    piped = io.StringIO()
    bar = _ProgressBar(piped, threshold=100)
    for done in range(1, 251):
        bar(done, 250)
    bar.finish()
    assert piped.getvalue() == ""


def test_bad_ca_bundle_is_a_clear_error(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from connector import Connector, ConnectorSettings, InvalidInput

    connector = Connector(ConnectorSettings(home=tmp_path / "h"))
    with pytest.raises(InvalidInput, match="CA bundle"):
        connector.connect_with_password("https://dev1.service-now.com", "id", "secret", "u",
                                        "p", ca_bundle=str(tmp_path / "missing.pem"))
