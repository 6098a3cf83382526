"""Installing the app: the Kingston release gate, ``--empty``, the ticket fields, the banner."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
import pytest
from flask import Flask

from mock_servicenow import apps
from mock_servicenow.app import create_app
from mock_servicenow.apps.x_mioms_m365ticket import install
from mock_servicenow.dictionary import default_dictionary
from mock_servicenow.settings import Settings
from mock_servicenow.store import rows
from tests.apps.x_mioms_m365ticket.conftest import API, client, system_ctx

REFUSAL = ("Microsoft 365 Ticketing Connector (x_mioms_m365ticket) requires ServiceNow Kingston "
           "or later; this instance runs Jakarta. Upgrade the instance to install it.")


def test_release_gate_refuses_releases_before_kingston(snow_settings: Settings) -> None:
    """m365-ticketing.md §3.2: Kingston or later."""
    app = create_app(dataclasses.replace(snow_settings, release="jakarta"))
    ctx = system_ctx(app)
    assert not install.is_installed(ctx)
    assert rows.find_by(ctx.db, ctx.dictionary, "syslog", message=REFUSAL)
    assert rows.find_by(ctx.db, ctx.dictionary, "oauth_entity") == []
    with pytest.raises(install.InstallRefused) as refused:
        install.install(ctx)
    assert refused.value.detail == REFUSAL
    assert apps.banner_lines(ctx) == [f"m365 app: not installed: {REFUSAL}"]
    ctx.db.close()
    with client(app) as admin:
        response = admin.get(f"{API}/checklist")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Requested URI does not represent any resource"


@pytest.mark.parametrize("release", ["kingston", "London", "australia"])
def test_kingston_and_later_install(snow_settings: Settings, release: str) -> None:
    app = create_app(dataclasses.replace(snow_settings, release=release))
    with client(app) as admin:
        assert admin.get(f"{API}/checklist").json()["result"]["complete"] is True


def test_empty_instances_install_nothing(snow_settings: Settings) -> None:
    app = create_app(dataclasses.replace(snow_settings, seed="empty"))
    ctx = system_ctx(app)
    assert not install.is_installed(ctx)
    assert apps.banner_lines(ctx) == ["m365 app: not installed"]
    ctx.db.close()


def test_ticket_tables_have_the_app_fields(snow_app: Flask) -> None:
    """Fields a scoped app adds to a global table carry its scope prefix (§5)."""
    dictionary = default_dictionary()
    for table in ("incident", "change_request"):
        source = dictionary.field(table, "x_mioms_m365ticket_recommendation_source")
        category = dictionary.field(table, "x_mioms_m365ticket_recommendation_category")
        assert source is not None and category is not None
        assert [c.value for c in source.choices] == ["microsoft", "user"]
        assert source.choice_label("user") == "User recommendation"
        assert [c.value for c in category.choices] == ["devices", "data", "apps", "identity",
                                                        "infrastructure"]
        for name in ("x_mioms_m365ticket_initiated_by", "x_mioms_m365ticket_control_id"):
            fld = dictionary.field(table, name)
            assert fld is not None and fld.type == "string" and fld.max_length == 100
    ctx = system_ctx(snow_app)
    columns = {r[1] for r in ctx.db.execute("PRAGMA table_info(task)")}
    assert {"x_mioms_m365ticket_initiated_by", "x_mioms_m365ticket_control_id",
            "x_mioms_m365ticket_recommendation_source",
            "x_mioms_m365ticket_recommendation_category"} <= columns
    ctx.db.close()


def test_app_records_belong_to_the_app_scope(snow_app: Flask) -> None:
    ctx = system_ctx(snow_app)
    scope = rows.find_by(ctx.db, ctx.dictionary, "sys_scope", scope="x_mioms_m365ticket")[0]
    assert scope["name"] == "Microsoft 365 Ticketing Connector"
    assert scope["runtime_access_tracking"] == "enforcing"
    table = rows.find_by(ctx.db, ctx.dictionary, "sys_db_object",
                         name="x_mioms_m365ticket_checklist")[0]
    assert table["sys_scope"] == scope["sys_id"] and table["access"] == "package_private"
    role = rows.find_by(ctx.db, ctx.dictionary, "sys_user_role",
                        name="x_mioms_m365ticket.user")[0]
    assert role["sys_scope"] == scope["sys_id"]
    ctx.db.close()


def test_integration_password_comes_from_settings(snow_settings: Settings) -> None:
    app = create_app(dataclasses.replace(snow_settings, integration_password="s3cret-pw"))
    with client(app, ("m365_integration", "s3cret-pw")) as integration:
        assert integration.get(f"{API}/connection").status_code == 200
    with client(app, ("m365_integration", "integration")) as integration:
        assert integration.get(f"{API}/connection").status_code == 401
    from_env = Settings.from_env({"MOCK_SERVICENOW_INTEGRATION_PASSWORD": "x"})
    assert from_env.integration_password == "x"
    assert "s3cret-pw" not in repr(dataclasses.replace(snow_settings,
                                                       integration_password="s3cret-pw"))


def test_serve_prints_the_connector_credentials(tmp_path: Path) -> None:
    from tests.mock_servicenow.test_cli import serving

    with serving(tmp_path, "--memory") as banner:
        assert banner["oauth client"] == "Microsoft 365 Security + Compliance Connector"
        assert len(banner["client_id"]) == 32 and banner["client_secret"]
        assert banner["redirect urls"] == ("https://security.microsoft.com/ticketProvisioning,"
                                           "http://127.0.0.1:8765/callback")
        assert banner["integration user"].startswith("m365_integration ")
        # The printed credentials are the ones the instance holds.
        token_probe = httpx.get(f"{banner['ready']}{API}/connection",
                                auth=("m365_integration", "integration"))
        assert token_probe.status_code == 200
