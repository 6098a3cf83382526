"""Scenarios are data: files, loaded, listed, applied to a running instance without restart."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mock_servicenow.app import create_app
from mock_servicenow.domain.platform import scenarios
from mock_servicenow.settings import Settings

USER_SCENARIO = """
name: lock-abel
title: Abel is locked out
troubleshooting: A user who cannot log in
setup:
  - update: {table: sys_user, where: {user_name: abel.tuter}, set: {locked_out: "true"}}
  - property: {name: x_test.flag, value: "on"}
  - clock: {advance: 60}
symptom:
  surface: login
  text: User Not Authenticated
fix:
  steps: ["Open the user record", "Clear Locked out"]
  apply:
    - update: {table: sys_user, where: {user_name: abel.tuter}, set: {locked_out: "false"}}
outcome: Abel can log in again
"""


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "my-scenarios"
    folder.mkdir()
    (folder / "lock-abel.yaml").write_text(USER_SCENARIO)
    return folder


@pytest.fixture
def client(snow_settings: Settings, user_dir: Path) -> httpx.Client:
    app = create_app(dataclasses.replace(snow_settings, scenario_dirs=(user_dir,)))
    return httpx.Client(transport=httpx.WSGITransport(app=app),
                        base_url="https://dev00000.service-now.test")


def _locked(client: httpx.Client) -> int:
    app = client._transport.app  # type: ignore[attr-defined]
    db = app.extensions["mock_servicenow"].instance.connect()
    try:
        return int(db.execute("SELECT locked_out FROM sys_user WHERE user_name = 'abel.tuter'")
                   .fetchone()[0])
    finally:
        db.close()


def test_a_user_adds_a_scenario_by_adding_a_file(user_dir: Path) -> None:
    catalogue = scenarios.catalogue([user_dir])
    assert "lock-abel" in catalogue
    assert catalogue["lock-abel"].fix_steps == ("Open the user record", "Clear Locked out")


def test_apply_and_fix_on_a_running_instance(client: httpx.Client) -> None:
    listed = client.get("/_emulator/scenarios").json()["scenarios"]
    assert {"name": "lock-abel", "applied": False}.items() <= next(
        s for s in listed if s["name"] == "lock-abel").items()
    before = client.get("/_emulator/clock").json()
    answer = client.post("/_emulator/scenarios/lock-abel").json()
    assert answer == {"scenario": "lock-abel", "applied": "setup", "active": ["lock-abel"]}
    assert _locked(client) == 1
    assert client.get("/_emulator/info").json()["scenarios"] == ["lock-abel"]
    after = client.get("/_emulator/clock").json()
    assert after["offset_seconds"] - before["offset_seconds"] == 60
    fixed = client.post("/_emulator/scenarios/lock-abel", json={"fix": True}).json()
    assert fixed["active"] == []
    assert _locked(client) == 0


def test_reset_undoes_an_applied_scenario(client: httpx.Client) -> None:
    client.post("/_emulator/scenarios/lock-abel")
    client.post("/_emulator/reset")
    assert _locked(client) == 0
    assert client.get("/_emulator/info").json()["scenarios"] == []


def test_startup_scenarios_survive_reset(snow_settings: Settings, user_dir: Path) -> None:
    app = create_app(dataclasses.replace(snow_settings, scenario_dirs=(user_dir,),
                                         scenarios=("lock-abel",)))
    client = httpx.Client(transport=httpx.WSGITransport(app=app),
                          base_url="https://dev00000.service-now.test")
    assert _locked(client) == 1
    client.post("/_emulator/reset")
    assert _locked(client) == 1


def test_unknown_scenario_is_a_404_envelope(client: httpx.Client) -> None:
    response = client.post("/_emulator/scenarios/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "No such scenario"


@pytest.mark.parametrize("content, reason", [
    ("name: [", "cannot read"),
    ("- a list", "a scenario file is a mapping"),
    ("name: other\ntitle: t\ntroubleshooting: x\nsymptom: {}\noutcome: o\n", "must match"),
    ("name: broken\ntitle: t\ntroubleshooting: x\nsymptom: {}\noutcome: o\n"
     "setup: [{update: {}, insert: {}}]\n", "one-key mapping"),
])
def test_bad_scenario_files_are_refused_clearly(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(content)
    with pytest.raises(scenarios.ScenarioError) as caught:
        scenarios.load_file(path)
    assert reason in str(caught.value)


def test_bad_actions_roll_back(client: httpx.Client, user_dir: Path) -> None:
    (user_dir / "half-broken.yaml").write_text(USER_SCENARIO.replace("lock-abel", "half-broken")
                                               .replace("clock: {advance: 60}",
                                                        "update: {table: nope, set: {}}"))
    response = client.post("/_emulator/scenarios/half-broken")
    assert response.status_code == 400
    assert "unknown table 'nope'" in response.json()["error"]["detail"]
    assert _locked(client) == 0  # the first action was rolled back with the rest


@pytest.mark.slow
def test_cli_list_show_and_unknown(tmp_path: Path, user_dir: Path) -> None:
    env = {"MOCK_SERVICENOW_SCENARIOS": str(user_dir), "PATH": "/usr/bin:/bin",
           "MOCK_SERVICENOW_HOME": str(tmp_path / "home")}
    run = [sys.executable, "-m", "mock_servicenow", "scenario"]
    listed = subprocess.run([*run, "list"], capture_output=True, text=True, env=env, check=True)
    assert "lock-abel" in listed.stdout and "Abel is locked out" in listed.stdout
    shown = subprocess.run([*run, "show", "lock-abel", "--json"], capture_output=True, text=True,
                           env=env, check=True)
    assert json.loads(shown.stdout)["fix"]["steps"][1] == "Clear Locked out"
    missing = subprocess.run([*run, "show", "nope"], capture_output=True, text=True, env=env)
    assert missing.returncode == 1
    assert missing.stderr.strip().startswith("mock-servicenow: unknown scenario 'nope'")
