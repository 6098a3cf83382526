"""``snow-connector ui``: its options, a port in use, and the settings it shares with the CLI.
(The running process, ``ready:`` and its log are exercised by tests/browser/test_ui_pages.py.)"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from connector import ConnectorSettings
from connector.cli import DEFAULT_UI_PORT, main
from connector.settings import DEFAULT_REDIRECT_URI


def test_a_port_in_use_is_one_line_and_exit_1(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        code = main(["ui", "--port", str(port)],
                    environ={"SNOW_CONNECTOR_HOME": str(tmp_path)})
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.startswith(f"snow-connector: cannot listen on 127.0.0.1:{port}: ")
    assert err.count("\n") == 1


def test_ui_help_names_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["ui", "--help"])
    out = capsys.readouterr().out
    assert "--host" in out and "--port" in out and f"default {DEFAULT_UI_PORT}" in out
    assert DEFAULT_UI_PORT != 8765  # never the loopback callback's port


def test_the_redirect_uri_can_be_another_registered_one(tmp_path: Path) -> None:
    assert ConnectorSettings.from_env({}).redirect_uri == DEFAULT_REDIRECT_URI
    settings = ConnectorSettings.from_env({"SNOW_CONNECTOR_HOME": str(tmp_path),
                                           "SNOW_CONNECTOR_REDIRECT_URI": "http://127.0.0.1:9/cb"})
    assert settings.redirect_uri == "http://127.0.0.1:9/cb" and settings.home == tmp_path
