"""Both CLIs explain themselves (issue 16): --version, help on every option and argument,
and the client commands' URL default (--url, else $MOCK_SERVICENOW_URL, else the default
instance)."""

from __future__ import annotations

import argparse
import contextlib
import io
from collections.abc import Iterator
from importlib.metadata import version

import pytest

from connector import cli as connector_cli
from mock_servicenow import cli as emulator_cli

Parsers = Iterator[tuple[str, argparse.ArgumentParser]]


def _parsers(parser: argparse.ArgumentParser, path: str) -> Parsers:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, f"{path} {name}")


@pytest.mark.parametrize("parser, prog", [(emulator_cli.build_parser(), "mock-servicenow"),
                                          (connector_cli._parser(), "snow-connector")])
def test_every_option_and_argument_has_help(parser: argparse.ArgumentParser, prog: str) -> None:
    missing = []
    commands = 0
    for path, command in _parsers(parser, prog):
        commands += 1
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if isinstance(action, argparse._SubParsersAction):
                missing += [f"{path} {a.dest}" for a in action._choices_actions if not a.help]
                continue
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    assert commands > 5 and missing == []


@pytest.mark.parametrize("main, prog", [(emulator_cli.main, "mock-servicenow"),
                                        (connector_cli.main, "snow-connector")])
def test_version(main: object, prog: str) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exited:
        main(["--version"])  # type: ignore[operator]
    assert exited.value.code == 0
    assert out.getvalue().strip() == f"{prog} {version('mock-servicenow')}"


def test_client_commands_default_their_url() -> None:
    assert emulator_cli.instance_url(None, {}) == "http://127.0.0.1:8080"
    assert emulator_cli.instance_url(None, {"MOCK_SERVICENOW_URL": "http://h:9/"}) == "http://h:9"
    assert emulator_cli.instance_url("https://x.test/", {"MOCK_SERVICENOW_URL": "http://h:9"}) \
        == "https://x.test"
    parser = emulator_cli.build_parser()
    assert parser.parse_args(["reset"]).url is None
    assert parser.parse_args(["scenario", "apply", "sso-enabled"]).url is None


def test_reset_and_apply_use_the_environment(snow_server: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCK_SERVICENOW_URL", snow_server)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert emulator_cli.main(["scenario", "apply", "not-provisioned"]) == 0
        assert emulator_cli.main(["reset"]) == 0
    assert "applied: not-provisioned" in out.getvalue() and "reset:" in out.getvalue()
