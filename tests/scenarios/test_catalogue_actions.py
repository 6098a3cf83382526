"""The pieces the catalogue added to the framework: ``release`` and ``sso`` actions, hashed
passwords in scenario data, the app's release gate reading ``glide.war``, startup scenarios."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask

from mock_servicenow.app import create_app
from mock_servicenow.apps.x_mioms_m365ticket import install
from mock_servicenow.pytest_plugin import IN_PROCESS_BASE_URL
from mock_servicenow.releases import parse_release
from mock_servicenow.settings import Settings

SCENARIO = """
name: {name}
title: t
troubleshooting: t
symptom: {{surface: s, text: t}}
outcome: o
setup:
{setup}
"""


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "more-scenarios"
    folder.mkdir()
    return folder


@pytest.fixture
def app(snow_settings: Settings, user_dir: Path) -> Iterator[Flask]:
    built = create_app(dataclasses.replace(snow_settings, scenario_dirs=(user_dir,)))
    yield built
    built.extensions["mock_servicenow"].instance.close()


def _client(app: Flask, auth: tuple[str, str] | None = None) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url=IN_PROCESS_BASE_URL,
                        auth=auth, headers={"Accept": "application/json"})


def _write(folder: Path, name: str, setup: str) -> None:
    (folder / f"{name}.yaml").write_text(SCENARIO.format(name=name, setup=setup))


def _glide_war(client: httpx.Client) -> str:
    found = client.get("/api/now/table/sys_properties",
                       params={"sysparm_query": "name=glide.war"}).json()["result"]
    return str(found[0]["value"])


def test_release_action_changes_what_the_instance_reports_and_the_app_gate(app: Flask) -> None:
    control, admin = _client(app), _client(app, ("admin", "admin"))
    running = _glide_war(admin)
    assert control.post("/_emulator/scenarios/pre-kingston").status_code == 200
    assert _glide_war(admin) == parse_release("jakarta").glide_war
    instance = app.extensions["mock_servicenow"].instance
    db = instance.connect()
    try:
        ctx = instance.context(db)
        assert install.reported_release(ctx).family == "jakarta"
        assert not install.is_installed(ctx)
        with pytest.raises(install.InstallRefused):
            install.install(ctx)
    finally:
        db.close()
    assert admin.get("/api/x_mioms_m365ticket/v1/connection").status_code == 400
    # Other pages and APIs of the platform are unaffected.
    assert admin.get("/api/now/table/incident?sysparm_limit=1").status_code == 200
    assert control.post("/_emulator/scenarios/pre-kingston", json={"fix": True}).status_code \
        == 200
    assert _glide_war(admin) == running
    assert admin.get("/api/x_mioms_m365ticket/v1/connection").status_code == 200


def test_an_unparseable_glide_war_falls_back_to_the_started_release(app: Flask,
                                                                     user_dir: Path) -> None:
    _write(user_dir, "odd-build", '  - property: {name: glide.war, value: "custom-build.zip"}')
    control, admin = _client(app), _client(app, ("admin", "admin"))
    assert control.post("/_emulator/scenarios/odd-build").status_code == 200
    assert admin.get("/api/x_mioms_m365ticket/v1/connection").status_code == 200


@pytest.mark.parametrize("args, reason", [
    ("{}", "release needs a 'family'"),
    ("{family: nowhere}", "unknown release 'nowhere'"),
])
def test_bad_release_actions_are_refused(app: Flask, user_dir: Path, args: str,
                                         reason: str) -> None:
    _write(user_dir, "bad-release", f"  - release: {args}")
    response = _client(app).post("/_emulator/scenarios/bad-release")
    assert response.status_code == 400
    assert reason in response.json()["error"]["detail"]


def test_sso_action_points_the_instance_at_the_url_it_was_applied_through(
        snow_app: Flask, snow_server: str) -> None:
    assert httpx.post(f"{snow_server}/_emulator/scenarios/sso-enabled").status_code == 200
    admin = httpx.Client(base_url=snow_server, auth=("admin", "admin"))
    idp = admin.get("/api/now/table/sso_properties").json()["result"]
    assert [(r["issuer"], r["auth_url"]) for r in idp] == [
        (f"{snow_server}/_idp", f"{snow_server}/_idp/authorize")]
    multisso = admin.get("/api/now/table/sys_properties", params={
        "sysparm_query": "name=glide.authenticate.multisso.enabled"}).json()["result"][0]
    assert multisso["value"] == "true"
    login = httpx.get(f"{snow_server}/login.do")
    assert login.status_code in (301, 302, 303) and "login_with_sso.do" in \
        login.headers["Location"]
    assert httpx.post(f"{snow_server}/_emulator/scenarios/sso-enabled",
                      json={"fix": True}).status_code == 200
    assert httpx.get(f"{snow_server}/login.do").status_code == 200


def test_sso_action_needs_a_boolean(app: Flask, user_dir: Path) -> None:
    _write(user_dir, "bad-sso", '  - sso: {enabled: "yes"}')
    response = _client(app).post("/_emulator/scenarios/bad-sso")
    assert response.status_code == 400
    assert "sso needs 'enabled'" in response.json()["error"]["detail"]


def test_scenario_passwords_are_stored_hashed_and_work(app: Flask) -> None:
    assert _client(app).post("/_emulator/scenarios/personal-credentials").status_code == 200
    instance = app.extensions["mock_servicenow"].instance
    db = instance.connect()
    try:
        stored = db.execute("SELECT user_password FROM sys_user WHERE user_name = ?",
                            ["beth.anglin.admin"]).fetchone()[0]
    finally:
        db.close()
    assert stored and "Personal1!" not in stored
    personal = _client(app, ("beth.anglin.admin", "Personal1!"))
    assert personal.get("/api/now/table/sys_properties?sysparm_limit=1").status_code == 200
    assert _client(app, ("beth.anglin.admin", "wrong")).get(
        "/api/now/table/incident").status_code == 401


def test_serve_scenario_applies_a_catalogue_entry_at_start(snow_settings: Settings) -> None:
    app = create_app(dataclasses.replace(snow_settings, scenarios=("pre-kingston",)))
    try:
        admin = _client(app, ("admin", "admin"))
        assert admin.get("/api/x_mioms_m365ticket/v1/checklist").status_code == 400
        assert _client(app).get("/_emulator/info").json()["scenarios"] == ["pre-kingston"]
    finally:
        app.extensions["mock_servicenow"].instance.close()
