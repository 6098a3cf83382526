"""The troubleshooting catalogue (ARCHITECTURE §4), scenario by scenario, end to end.

Each test applies its scenario with the one command (``POST /_emulator/scenarios/<name>``,
which ``mock-servicenow scenario apply NAME --url`` sends), reproduces the symptom through the
surface a person uses (``snow-connector``, the instance's pages, the Table API), applies the
fix the way the documentation says (pages, Table API writes, the checklist's Run button,
"Not You?", connecting again), and shows the integration working: a share creates a ticket.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask

from mock_servicenow import cli as emulator_cli
from mock_servicenow.domain.platform import scenarios
from tests.scenarios.catalogue_helpers import (
    BASE,
    CHECKLIST,
    INTEGRATION_NAME,
    INTEGRATION_PASSWORD,
    INTEGRATION_USER,
    POLICY_DENIAL,
    QA,
    Browser,
)

#: ARCHITECTURE §4 rows plus the issue's additions.
CATALOGUE = (
    "oauth-entity-scope-denied", "personal-credentials", "sso-enabled", "not-provisioned",
    "pre-kingston", "integration-user-missing", "oauth-entity-missing",
    "expired-refresh-token", "rate-limited-integration-user",
    "web-service-only-integration-user", "change-request-rest-disabled",
    "hibernating-instance", "instance-upgrading", "rate-limited-without-retry-after",
    "api-key-policy-denied", "jwt-subject-unmapped",
)


def symptom(name: str, key: str = "text") -> str:
    """What the scenario file says a person sees (the tests check the file against the
    instance, so the catalogue cannot drift from the behaviour)."""
    return str(scenarios.catalogue()[name].symptom[key])


@pytest.fixture
def qa(snow_app: Flask, tmp_path: Path) -> Iterator[QA]:
    """The demo instance (app installed, checklist complete) and a connector home."""
    yield QA(snow_app, tmp_path / "snow-connector")


# -- the catalogue as data -------------------------------------------------------------------

def test_every_catalogue_row_is_a_scenario_file_with_what_qa_needs() -> None:
    catalogue = scenarios.catalogue()
    assert set(CATALOGUE) <= set(catalogue)
    for name in CATALOGUE:
        entry = catalogue[name]
        assert Path(entry.source).parent == scenarios.BUILTIN_DIR
        assert entry.title and entry.troubleshooting and entry.outcome, name
        assert entry.symptom.get("surface") and entry.symptom.get("text"), name
        assert entry.fix_steps, name
        assert entry.reference, name


def test_the_control_plane_lists_the_catalogue_and_what_is_applied(qa: QA) -> None:
    listed = {s["name"]: s for s in qa.control.get("/_emulator/scenarios").json()["scenarios"]}
    assert set(CATALOGUE) <= set(listed)
    assert not any(listed[name]["applied"] for name in CATALOGUE)
    qa.apply("not-provisioned")
    qa.apply("change-request-rest-disabled")
    listed = {s["name"]: s for s in qa.control.get("/_emulator/scenarios").json()["scenarios"]}
    assert [n for n in CATALOGUE if listed[n]["applied"]] == [
        "not-provisioned", "change-request-rest-disabled"]
    assert listed["sso-enabled"]["fix"]["steps"][0].startswith("Either: log in to the instance")
    assert qa.control.get("/_emulator/info").json()["scenarios"] == [
        "not-provisioned", "change-request-rest-disabled"]


def test_every_scenario_has_its_test_here() -> None:
    names = {n.removeprefix("test_").replace("_", "-") for n in globals()
             if n.startswith("test_")}
    missing = [n for n in CATALOGUE if not any(t.startswith(n) for t in names)]
    assert missing == []


def test_the_qa_guide_lists_every_scenario_with_its_command() -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "qa.md").read_text()
    for name in CATALOGUE:
        assert f"scenario apply {name} --url" in guide, name


def test_scenario_apply_cli_is_the_one_command(snow_server: str) -> None:
    """``mock-servicenow scenario apply NAME --url BASE`` on a running instance, no restart."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert emulator_cli.main(["scenario", "apply", "change-request-rest-disabled",
                                  "--url", snow_server]) == 0
    denied = httpx.post(f"{snow_server}/api/now/table/change_request", auth=("admin", "admin"),
                        json={"short_description": "x"})
    assert denied.status_code == 403
    with contextlib.redirect_stdout(out):
        assert emulator_cli.main(["scenario", "apply", "change-request-rest-disabled",
                                  "--url", snow_server, "--fix"]) == 0
    assert httpx.post(f"{snow_server}/api/now/table/change_request", auth=("admin", "admin"),
                      json={"short_description": "x"}).status_code == 201


# -- ARCHITECTURE §4 -------------------------------------------------------------------------

def test_oauth_entity_scope_denied(qa: QA) -> None:
    qa.apply("oauth-entity-scope-denied")
    admin = qa.admin_browser()
    # Symptom: the checklist's first step, run by the admin on the checklist page.
    assert admin.run_checklist_step("oauth_entity") == "Failed"
    assert admin.step_message("oauth_entity") == POLICY_DENIAL == \
        symptom("oauth-entity-scope-denied")
    assert "Not complete" in admin.element("checklist-status") + admin.text
    logged = qa.admin.get("/api/now/table/syslog", params={
        "sysparm_query": "source=x_mioms_m365ticket^level=2"}).json()["result"]
    assert POLICY_DENIAL in [row["message"] for row in logged]

    # Fix: Application Registries back to default, on its application access form.
    admin.go("/sys_db_object.do?sysparm_query=name=oauth_entity")
    admin.update_form("sys_db_object", access="public", read_access="true")
    assert admin.run_checklist_step("oauth_entity") == "Complete"
    assert "Not complete" not in admin.text

    assert qa.connect_with_password().code == 0
    assert qa.cli("authorize").code == 0
    qa.assert_integration_works()


def test_personal_credentials(qa: QA) -> None:
    qa.apply("personal-credentials")
    browser = Browser(qa.app)

    def as_personal_account(b: Browser) -> None:
        b.log_in("beth.anglin.admin", "Personal1!")
        # Symptom: the consent page names the personal account.
        assert b.element("consent_user") == "Beth Anglin" == symptom("personal-credentials")
        b.allow()

    browser.script = as_personal_account
    assert qa.connect_in_browser(browser).code == 0
    assert qa.cli("authorize").code == 0
    shared = qa.share()
    assert shared.code == 0
    # ...and the tokens are bound to the wrong account: the ticket is made by Beth.
    assert qa.ticket(shared.out.split()[-1])["sys_created_by"] == "beth.anglin.admin"

    # Fix: back to the authorization page (still logged in as Beth), "Not You?", log in as
    # the integration user, Allow.
    def not_you(b: Browser) -> None:
        assert b.element("consent_user") == "Beth Anglin"
        b.not_you()
        b.log_in(INTEGRATION_USER, INTEGRATION_PASSWORD)
        assert b.element("consent_user") == INTEGRATION_NAME
        b.allow()

    browser.script = not_you
    browser.callback = ""
    assert qa.cli("disconnect").code == 0
    assert qa.connect_in_browser(browser).code == 0
    assert qa.cli("authorize").code == 0
    ticket = qa.assert_integration_works(kind="incident")
    assert ticket["sys_updated_by"] == INTEGRATION_USER
    journal = qa.control.get("/_emulator/journal").json()
    creates = [e for e in journal["entries"]
               if e["method"] == "POST" and e["path"] == "/api/now/table/incident"]
    assert creates and creates[-1]["user"] == INTEGRATION_USER


def test_sso_enabled_fixed_through_the_side_door(qa: QA) -> None:
    qa.apply("sso-enabled")
    browser = Browser(qa.app)

    def through_the_idp(b: Browser) -> None:
        # Symptom: the authorize page goes to the IdP, which does not know the user.
        assert "/_idp/authorize" in str(b.page.url)
        b.idp_sign_in(f"{INTEGRATION_USER}@example.com", INTEGRATION_PASSWORD)
        assert b.element("idp_error") == symptom("sso-enabled")

    browser.script = through_the_idp
    with pytest.raises(AssertionError, match="never redirected back"):
        qa.connect_in_browser(browser)
    assert "status: not connected" in qa.cli("status").out

    # Fix 1: log in locally through the side door, back to the authorization page, Allow.
    def side_door(b: Browser) -> None:
        authorize = str(b.page.url)
        assert "/_idp/" in authorize
        b.go("/side_door.do")
        b.log_in(INTEGRATION_USER, INTEGRATION_PASSWORD)
        b.go(b.authorize_url)
        assert b.element("consent_user") == INTEGRATION_NAME
        b.allow()

    browser = Browser(qa.app)
    browser.script = side_door
    assert qa.connect_in_browser(browser).code == 0
    assert qa.cli("authorize").code == 0
    qa.assert_integration_works()


def test_sso_enabled_fixed_with_an_idp_user_of_the_same_name_and_email(qa: QA) -> None:
    qa.apply("sso-enabled")
    # Fix 2: the IdP admin creates a user with the integration user's name and email, with
    # the very request the QA guide gives (it once named fields the endpoint rejects).
    guide = (Path(__file__).resolve().parents[2] / "docs" / "qa.md").read_text()
    documented = re.search(r"`POST /_emulator/idp/users` with `(\{[^`]*\})`", guide)
    assert documented, "docs/qa.md gives no IdP user request for sso-enabled"
    body = json.loads(documented.group(1))
    assert body["email"] == f"{INTEGRATION_USER}@example.com"
    assert body["name"] == INTEGRATION_NAME
    created = qa.control.post("/_emulator/idp/users", json=body)
    assert created.status_code == 201, created.text
    browser = Browser(qa.app)

    def sign_in(b: Browser) -> None:
        b.idp_sign_in("m365integration@contoso.test", "IdpPass1!")
        assert b.element("consent_user") == INTEGRATION_NAME
        b.allow()

    browser.script = sign_in
    assert qa.connect_in_browser(browser).code == 0
    assert qa.cli("authorize").code == 0
    qa.assert_integration_works()


def test_not_provisioned(qa: QA) -> None:
    qa.apply("not-provisioned")
    assert qa.connect_with_password().code == 0
    # Symptom: connected, but no cards and sharing refused, with the fix in the message.
    assert symptom("not-provisioned", "status") in qa.cli("status").out
    for refused in (qa.share(), qa.cli("cards")):
        assert refused.code == 1
        assert refused.err == symptom("not-provisioned")
    # Fix: the provisioning step (Authorize); the cards appear.
    assert qa.cli("authorize").code == 0
    assert "connected and provisioned" in qa.cli("status").out
    cards = qa.cli("cards")
    assert cards.code == 0 and "change" in cards.out.lower()
    qa.assert_integration_works()
    admin = qa.admin_browser()
    admin.go("/x_mioms_m365ticket_connection.do")
    assert INTEGRATION_USER in admin.text


def test_pre_kingston(qa: QA) -> None:
    qa.apply("pre-kingston")
    refusal = symptom("pre-kingston")
    assert refusal == ("Microsoft 365 Ticketing Connector (x_mioms_m365ticket) requires "
                       "ServiceNow Kingston or later; this instance runs Jakarta. Upgrade the "
                       "instance to install it.")
    # Symptom: connect refuses with a clear message, nothing is stored. The integration user
    # cannot read glide.war (sys_properties is admin-only), so it is told the app is missing;
    # an admin account is told the release.
    refused = qa.connect_with_password()
    assert refused.code == 1
    assert "app (x_mioms_m365ticket) is not installed on the instance" in refused.err
    as_admin = qa.connect_with_password("admin", "admin")
    assert as_admin.code == 1
    assert ("the instance runs ServiceNow Jakarta; the Microsoft 365 ticketing integration "
            "needs Kingston or later: upgrade the instance") in as_admin.err
    assert "status: not connected" in qa.cli("status").out
    # The app is not there: its pages explain why, its API does not exist.
    admin = qa.admin_browser()
    admin.go(CHECKLIST)
    assert refusal in admin.text
    api = qa.admin.get("/api/x_mioms_m365ticket/v1/checklist")
    assert api.status_code == 400
    assert api.json()["error"]["message"] == "Requested URI does not represent any resource"
    assert qa.banner()["m365 app"] == f"not installed: {refusal}"
    # Fix: upgrade (not fixable in place): the scenario's fix stands for the upgrade.
    assert qa.apply("pre-kingston", fix=True)["active"] == []
    assert qa.connect_with_password().code == 0
    assert qa.cli("authorize").code == 0
    qa.assert_integration_works()


def test_integration_user_missing(qa: QA) -> None:
    qa.apply("integration-user-missing")
    admin = qa.admin_browser()
    # Symptom: the doc's validation fails: User Administration > Users has no such user.
    admin.go(f"/sys_user_list.do?sysparm_search={INTEGRATION_USER}")
    assert admin.element("no-records") == symptom("integration-user-missing")
    assert admin.run_checklist_step("readiness") == "Failed"
    assert admin.step_message("readiness") == ("The integration user m365_integration does "
                                               "not exist; run step 2 again")
    refused = qa.connect_with_password()
    assert refused.code == 1
    assert refused.err.startswith("snow-connector: the instance refused the password grant")
    # Fix: re-run the checklist's steps (Run buttons), then validate in Users.
    for step in ("integration_user", "roles", "readiness"):
        assert admin.run_checklist_step(step) == "Complete", admin.step_message(step)
    assert "Not complete" not in admin.text
    admin.go(f"/sys_user_list.do?sysparm_search={INTEGRATION_USER}")
    assert INTEGRATION_USER in admin.text and 'id="no-records"' not in admin.page.text
    assert qa.connect_with_password().code == 0
    assert qa.cli("authorize").code == 0
    qa.assert_integration_works()


def test_oauth_entity_missing(qa: QA) -> None:
    old_client_id, _ = qa.credentials()
    qa.apply("oauth-entity-missing")
    admin = qa.admin_browser()
    # Symptom: System OAuth > Application Registry has no entry; the connector is refused.
    admin.go("/oauth_entity_list.do?sysparm_search=Microsoft 365")
    assert admin.element("no-records") == symptom("oauth-entity-missing")
    assert admin.run_checklist_step("readiness") == "Failed"
    assert admin.step_message("readiness") == (
        "The OAuth application registry entry 'Microsoft 365 Security + Compliance Connector' "
        "is missing or inactive; run step 1 again")
    assert "client_id" not in qa.banner()
    # The connector still holding the old client id is refused.
    client_id_refused = qa.cli("connect", "--instance", BASE, "--client-id", old_client_id,
                               "--client-secret", "the-old-secret", "--username",
                               INTEGRATION_USER, "--password", INTEGRATION_PASSWORD)
    assert client_id_refused.code == 1
    assert "the instance refused the password grant" in client_id_refused.err
    # Fix: run step 1 and readiness again, validate in the Application Registry.
    for step in ("oauth_entity", "readiness"):
        assert admin.run_checklist_step(step) == "Complete", admin.step_message(step)
    admin.go("/oauth_entity_list.do?sysparm_search=Microsoft 365")
    assert "Microsoft 365 Security + Compliance Connector" in admin.text
    new_client_id, _ = qa.credentials()
    assert new_client_id != old_client_id  # a new entry: the connector gets new credentials
    assert qa.connect_with_password().code == 0
    assert qa.cli("authorize").code == 0
    qa.assert_integration_works()


# -- the additions -------------------------------------------------------------------

def test_expired_refresh_token(qa: QA) -> None:
    assert qa.connect_with_password().code == 0
    assert qa.cli("authorize").code == 0
    qa.assert_integration_works()
    qa.apply("expired-refresh-token")
    # Symptom: the connector asks for reauthorization.
    synced = qa.cli("sync")
    assert synced.code == 1
    assert ("reauthorization required: run `snow-connector connect` again, signed in as the "
            "integration user") in synced.err
    assert symptom("expired-refresh-token", "status") in qa.cli("status").out
    # Fix: connect again (here through the browser, as the integration user).
    browser = Browser(qa.app)

    def allow(b: Browser) -> None:
        b.log_in(INTEGRATION_USER, INTEGRATION_PASSWORD)
        b.allow()

    browser.script = allow
    assert qa.connect_in_browser(browser).code == 0
    assert "connected and provisioned" in qa.cli("status").out
    assert qa.cli("sync").code == 0
    qa.assert_integration_works(kind="incident")


def test_rate_limited_integration_user(qa: QA) -> None:
    # A frozen instance clock: the hourly window cannot roll over in the middle of the test.
    assert qa.control.post("/_emulator/clock", json={"action": "freeze"}).status_code == 200
    assert qa.connect_with_password().code == 0
    assert qa.cli("authorize").code == 0
    qa.apply("rate-limited-integration-user")
    # Symptom, through the connector: sharing fails with the instance's words and the wait.
    refused = qa.share()
    assert refused.code == 1 and "Rate limit exceeded" in refused.err
    assert re.search(r"retry in \d+ (min|s)", refused.err), refused.err
    # ...and on the wire: 429, Retry-After and the X-RateLimit-* headers, no Remaining.
    answer = qa.control.get("/api/now/table/incident", params={"sysparm_limit": "1"},
                            auth=(INTEGRATION_USER, INTEGRATION_PASSWORD))
    assert answer.status_code == 429
    assert answer.json()["error"] == {
        "message": symptom("rate-limited-integration-user"),
        "detail": symptom("rate-limited-integration-user", "detail")}
    assert answer.json()["error"]["detail"] == \
        "Rate limit of 10 requests per hour for Table API exceeded"
    retry_after = int(answer.headers["Retry-After"])
    reset = int(answer.headers["X-RateLimit-Reset"])
    assert 0 < retry_after <= 3600 and reset % 3600 == 0
    assert answer.headers["X-RateLimit-Limit"] == "10"
    assert answer.headers["X-RateLimit-Rule"] == "7a1e5c0d9b8f4e2a8c6d4b2a0f1e3d5c"
    assert "X-RateLimit-Remaining" not in answer.headers
    # The admin is not limited by a rule on the app's role.
    assert qa.admin.get("/api/now/table/incident?sysparm_limit=1").status_code == 200
    # Fix 1, waiting out the window (the instance clock): the whole share goes through (it
    # needs three Table API calls of the ten the new hour allows).
    qa.control.post("/_emulator/clock", json={"action": "advance", "seconds": retry_after})
    qa.assert_integration_works()
    # Fix 2, the admin deactivates the rule (Table API write): four more shares are twelve
    # calls, more than the hour allows, and all go through.
    rule = qa.admin.get("/api/now/table/sys_rate_limit_rules", params={
        "sysparm_query": "name=M365 integration throttle"}).json()["result"][0]
    assert qa.admin.patch(f"/api/now/table/sys_rate_limit_rules/{rule['sys_id']}",
                          json={"active": "false"}).status_code == 200
    for _ in range(4):
        qa.assert_integration_works()


def test_web_service_only_integration_user(qa: QA) -> None:
    qa.apply("web-service-only-integration-user")
    refusal = symptom("web-service-only-integration-user")
    browser = Browser(qa.app)

    def log_in(b: Browser) -> None:
        b.log_in(INTEGRATION_USER, INTEGRATION_PASSWORD)
        # Symptom: it cannot log in to authorize.
        assert b.page.status_code == 403
        assert b.element("login_error") == refusal

    browser.script = log_in
    with pytest.raises(AssertionError, match="never redirected back"):
        qa.connect_in_browser(browser)
    # Fix: the admin unchecks Web service access only on the user (a Table API write).
    user = qa.admin.get("/api/now/table/sys_user", params={
        "sysparm_query": f"user_name={INTEGRATION_USER}"}).json()["result"][0]
    assert user["web_service_access_only"] == "true"
    assert qa.admin.patch(f"/api/now/table/sys_user/{user['sys_id']}",
                          json={"web_service_access_only": "false"}).status_code == 200

    def allow(b: Browser) -> None:
        b.log_in(INTEGRATION_USER, INTEGRATION_PASSWORD)
        assert b.element("consent_user") == INTEGRATION_NAME
        b.allow()

    browser = Browser(qa.app)
    browser.script = allow
    assert qa.connect_in_browser(browser).code == 0
    assert qa.cli("authorize").code == 0
    qa.assert_integration_works()


def test_change_request_rest_disabled(qa: QA) -> None:
    assert qa.connect_with_password().code == 0
    assert qa.cli("authorize").code == 0
    qa.apply("change-request-rest-disabled")
    # Symptom: sharing as a change request is refused with the platform's REST denial; incidents
    # are unaffected (the connector's duplicate check skips a table closed to it).
    refused = qa.share(kind="change")
    assert refused.code == 1
    # The hint names the table's web-service access, not a missing role (issue 15).
    assert refused.err == symptom("change-request-rest-disabled", "connector")
    assert "lacks a role" not in refused.err
    assert qa.share(kind="incident").code == 0
    # Fix: Allow access to this table via web services, on the table's form.
    admin = qa.admin_browser()
    admin.go("/sys_db_object.do?sysparm_query=name=change_request")
    admin.update_form("sys_db_object", ws_access="true")  # tick it; the rest as it is
    qa.assert_integration_works(kind="change")


def test_each_fix_as_data_restores_a_working_integration(qa: QA) -> None:
    """``scenario apply NAME --fix`` (fix.apply) is the same fix for the instance-side cases."""
    assert qa.connect_with_password().code == 0
    assert qa.cli("authorize").code == 0
    for name in ("oauth-entity-scope-denied", "change-request-rest-disabled",
                 "web-service-only-integration-user", "rate-limited-integration-user",
                 "sso-enabled"):
        qa.apply(name)
        assert qa.apply(name, fix=True)["active"] == [], name
    checklist = qa.admin.get("/api/x_mioms_m365ticket/v1/checklist").json()["result"]
    assert checklist["complete"] is True
    qa.assert_integration_works()


# -- identity breadth (issue 18) -----------------------------------------------------------------

def test_api_key_policy_denied(qa: QA) -> None:
    name = "api-key-policy-denied"
    qa.apply(name)
    key = {"x-sn-apikey": symptom(name, "key")}
    assert qa.control.get("/api/now/table/incident?sysparm_limit=1",
                          headers=key).status_code == 200
    # Symptom: the same key cannot create a record.
    refused = qa.control.post("/api/now/table/incident", headers=key,
                              json={"short_description": "raised with an API key"})
    assert refused.status_code == int(symptom(name, "status"))
    assert refused.json()["error"] == {"message": symptom(name), "detail": symptom(name, "detail")}
    assert f"WWW-Authenticate: {refused.headers['WWW-Authenticate']}" == symptom(name, "header")
    # Fix: the admin ticks Apply to all methods on the policy (a Table API write).
    policy = qa.admin.get("/api/now/table/sys_api_access_policy", params={
        "sysparm_query": "name=Table GET API Access Policy"}).json()["result"][0]
    assert qa.admin.patch(f"/api/now/table/sys_api_access_policy/{policy['sys_id']}",
                          json={"apply_all_methods": "true"}).status_code == 200
    created = qa.control.post("/api/now/table/incident", headers=key,
                              json={"short_description": "raised with an API key"})
    assert created.status_code == 201
    assert created.json()["result"]["sys_created_by"] == "api.integration"
    # The admin's Basic calls were mapped too: never locked out.
    assert qa.admin.get("/api/now/table/incident?sysparm_limit=1").status_code == 200


def test_jwt_subject_unmapped(qa: QA) -> None:
    from tests.mock_servicenow.auth_profile_helpers import FAILURE, JWT_GRANT, sign_hs256

    name = "jwt-subject-unmapped"
    qa.apply(name)
    now = int(qa.now().timestamp())

    def exchange(jti: str) -> httpx.Response:
        assertion = sign_hs256({"iss": symptom(name, "client_id"),
                                "aud": symptom(name, "client_id"), "sub": "jwt.integration",
                                "exp": now + 300, "jti": jti},
                               "Jwt-scenario-shared-key-3b9e", kid="scenario")
        return qa.control.post("/oauth_token.do", data={
            "grant_type": JWT_GRANT, "client_id": symptom(name, "client_id"),
            "client_secret": symptom(name, "client_secret"), "assertion": assertion})

    assert symptom(name, "assertion").startswith("HS256, kid scenario, key "
                                                 "Jwt-scenario-shared-key-3b9e")
    refused = exchange("first")
    assert refused.status_code == int(symptom(name, "status")) and refused.json() == FAILURE
    assert refused.text == symptom(name)
    logged = qa.admin.get("/api/now/table/syslog", params={
        "sysparm_query": "source=OAuth JWT", "sysparm_fields": "message"}).json()["result"]
    assert [r["message"] for r in logged] == [symptom(name, "syslog")]
    # Fix: the admin sets the endpoint's User Field to User ID; a new assertion works.
    endpoint = qa.admin.get("/api/now/table/oauth_jwt", params={
        "sysparm_query": "name=JWT integration"}).json()["result"][0]
    assert qa.admin.patch(f"/api/now/table/oauth_jwt/{endpoint['sys_id']}",
                          json={"user_field": "user_name"}).status_code == 200
    granted = exchange("second")
    assert granted.status_code == 200
    bearer = {"Authorization": f"Bearer {granted.json()['access_token']}"}
    created = qa.control.post("/api/now/table/incident", headers=bearer,
                              json={"short_description": "raised over a JWT"})
    assert created.json()["result"]["sys_created_by"] == "jwt.integration"


# -- platform situations of real developer instances (issue 15) -------------------------------

def _connected(qa: QA) -> None:
    assert qa.connect_with_password().code == 0
    assert qa.cli("authorize").code == 0


def test_hibernating_instance(qa: QA) -> None:
    _whole_instance_answers_a_page(qa, "hibernating-instance", 200)


def test_instance_upgrading(qa: QA) -> None:
    _whole_instance_answers_a_page(qa, "instance-upgrading", 503)


def _whole_instance_answers_a_page(qa: QA, name: str, status: int) -> None:
    _connected(qa)
    qa.apply(name)
    # Symptom on the wire: every surface of the instance answers the page, REST and OAuth.
    for method, path in (("GET", "/api/now/table/incident"), ("POST", "/oauth_token.do"),
                         ("GET", "/api/x_mioms_m365ticket/v1/connection"),
                         ("GET", "/login.do")):
        answer = qa.control.request(method, path, auth=("admin", "admin"))
        assert answer.status_code == status == int(symptom(name, "status"))
        assert answer.headers["content-type"] == symptom(name, "content_type")
        assert symptom(name) in answer.text
    # The page's own style sheet loads (the page extends the one layout).
    sheet = re.search(r'href="(/styles/[^"]+)"', answer.text)
    assert sheet is not None and qa.control.get(sheet.group(1)).headers[
        "content-type"].startswith("text/css")
    # The control plane is not the instance: it still answers, so the fix can be applied.
    assert qa.control.get("/_emulator/info").status_code == 200
    # Symptom through the connector: one clear line, and status says what is wrong.
    for command in (("share", "DLPEnabled", "--type", "change", "--priority", "high",
                     "--due", qa.due()), ("sync",), ("cards",)):
        refused = qa.cli(*command)
        assert refused.code == 1 and refused.err == symptom(name, "connector"), refused.err
    status_answer = qa.cli("status")
    assert status_answer.code == 1
    assert symptom(name, "connector").split(": ", 1)[1].split(" (hint")[0] in status_answer.out
    # Connecting meets the same page, not a "refused grant".
    client_id, secret = qa.credentials()
    refused = qa.cli("connect", "--instance", BASE, "--client-id", client_id,
                     "--client-secret", secret, "--username", INTEGRATION_USER,
                     "--password", INTEGRATION_PASSWORD)
    assert refused.code == 1 and refused.err == symptom(name, "connector")
    assert "refused" not in refused.err
    # Fix (the instance wakes up / the upgrade ends): the integration works again.
    qa.apply(name, fix=True)
    assert "connected and provisioned" in qa.cli("status").out
    qa.assert_integration_works()


def test_rate_limited_without_retry_after(qa: QA) -> None:
    _connected(qa)
    assert qa.control.post("/_emulator/clock", json={"action": "freeze"}).status_code == 200
    qa.apply("rate-limited-without-retry-after")
    answer = qa.control.get("/api/now/table/incident", auth=("admin", "admin"))
    assert answer.status_code == 429
    assert answer.json()["error"]["detail"] == symptom("rate-limited-without-retry-after",
                                                       "detail")
    for header in symptom_list("rate-limited-without-retry-after", "headers"):
        assert header in answer.headers, header
    for header in symptom_list("rate-limited-without-retry-after", "missing_headers"):
        assert header not in answer.headers, header
    # The connector takes the wait from X-RateLimit-Reset, gives up at once (it is beyond its
    # 30 s budget) and says how long.
    refused = qa.share()
    assert refused.code == 1
    assert refused.err == symptom("rate-limited-without-retry-after", "connector")
    qa.apply("rate-limited-without-retry-after", fix=True)
    qa.assert_integration_works()


def symptom_list(name: str, key: str) -> list[str]:
    """A list-valued symptom entry of a scenario file."""
    return [str(item) for item in scenarios.catalogue()[name].symptom[key]]
