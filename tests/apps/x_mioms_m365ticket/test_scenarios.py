"""The app's troubleshooting cases as scenario data (ARCHITECTURE §4), with the app's action."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mock_servicenow.app import create_app
from mock_servicenow.domain.platform.scenarios import ScenarioError
from mock_servicenow.settings import Settings
from tests.apps.x_mioms_m365ticket.conftest import API, POLICY_DENIAL, client

SCOPE_DENIED = """
name: oauth-entity-scope-denied
title: The checklist's first step is refused by oauth_entity's cross-scope access policy
troubleshooting: You receive an error in the first step of the installation checklist
setup:
  - update: {table: sys_db_object, where: {name: oauth_entity},
             set: {access: package_private, read_access: "false"}}
symptom:
  surface: checklist step 1
  text: >-
    Read operation against 'oauth_entity' from scope 'x_mioms_m365ticket' has been refused
    due to the table's cross-scope access policy
fix:
  steps: ["Open the Application Registries table (oauth_entity)",
          "Accessible from: All application scopes; Can read: checked", "Run step 1 again"]
  apply:
    - update: {table: sys_db_object, where: {name: oauth_entity},
               set: {access: public, read_access: "true"}}
    - x_mioms_m365ticket.run_checklist: {steps: [oauth_entity]}
outcome: Step 1 is complete
"""

USER_MISSING = """
name: integration-user-missing
title: The integration user was deleted
troubleshooting: How to validate the integration user created with the installation checklist
setup:
  - delete: {table: sys_user, where: {user_name: m365_integration}}
symptom:
  surface: User Administration > Users
  text: no user m365_integration
fix:
  steps: ["Run the installation checklist again", "Validate in User Administration > Users"]
  apply:
    - x_mioms_m365ticket.run_checklist: {steps: [integration_user, roles, readiness]}
outcome: m365_integration exists with its roles; the checklist is complete
"""


@pytest.fixture
def scenario_app(snow_settings: Settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "oauth-entity-scope-denied.yaml").write_text(SCOPE_DENIED)
    (folder / "integration-user-missing.yaml").write_text(USER_MISSING)
    app = create_app(dataclasses.replace(snow_settings, scenario_dirs=(folder,)))
    yield app
    app.extensions["mock_servicenow"].instance.close()


def test_scope_denied_scenario_then_its_fix(scenario_app) -> None:  # type: ignore[no-untyped-def]
    with client(scenario_app) as admin:
        described = admin.get("/_emulator/scenarios").json()
        assert POLICY_DENIAL in str(described)
        assert admin.post("/_emulator/scenarios/oauth-entity-scope-denied").status_code == 200
        step = admin.post(f"{API}/checklist/oauth_entity/run").json()["result"]
        assert step["state"] == "failed" and step["message"] == POLICY_DENIAL
        fixed = admin.post("/_emulator/scenarios/oauth-entity-scope-denied", json={"fix": True})
        assert fixed.status_code == 200, fixed.text
        assert admin.get(f"{API}/checklist").json()["result"]["complete"] is True


def test_integration_user_missing_fixed_by_rerunning_the_checklist(scenario_app) -> None:  # type: ignore[no-untyped-def]
    with client(scenario_app) as admin:
        admin.post("/_emulator/scenarios/integration-user-missing")
        with client(scenario_app, ("m365_integration", "integration")) as integration:
            assert integration.get(f"{API}/connection").status_code == 401
        assert admin.post("/_emulator/scenarios/integration-user-missing",
                          json={"fix": True}).status_code == 200
        with client(scenario_app, ("m365_integration", "integration")) as integration:
            assert integration.get(f"{API}/connection").status_code == 200
        assert admin.get(f"{API}/checklist").json()["result"]["complete"] is True


def test_a_fix_that_does_not_fix_is_reported(scenario_app) -> None:  # type: ignore[no-untyped-def]
    with client(scenario_app) as admin:
        admin.post("/_emulator/scenarios/oauth-entity-scope-denied")
        # Re-running the checklist while the policy is still customized: readiness fails, the
        # action reports it and nothing of the fix is applied (one transaction).
        response = admin.post("/_emulator/scenarios/integration-user-missing", json={"fix": True})
        assert response.status_code == 400
        assert response.json()["error"]["detail"] == (
            f"checklist step readiness failed: {POLICY_DENIAL}")
        steps = admin.get(f"{API}/checklist").json()["result"]["steps"]
        assert [s["state"] for s in steps] == ["complete"] * 5  # rolled back
        instance = scenario_app.extensions["mock_servicenow"].instance
        action = instance.actions["x_mioms_m365ticket.run_checklist"]
        db = instance.connect()
        with pytest.raises(ScenarioError, match="steps must be a list"):
            action(instance.context(db), {"steps": ["nope"]}, instance.load_clock(db))
        db.close()
