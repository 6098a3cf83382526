"""The ui's pages in-process: every page, the journey, and the state shared with the CLI.

The instance is the in-process demo instance (``snow_app``); the ui calls the library with a
``WSGITransport`` to it, the instance-side pages (login, consent) are read by the catalogue's
httpx ``Browser``. Chromium runs the same journey in tests/browser/test_ui_journey.py.
"""

from __future__ import annotations

import json
from io import BytesIO

import pytest

from tests.connector.ui.pages import Harness
from tests.scenarios.catalogue_helpers import INTEGRATION_USER

PAGES = ("/", "/servicenow/connect", "/ticketProvisioning", "/securescore",
         "/securescore?share=DLPEnabled", "/servicenow/configuration",
         "/servicenow/configuration?confirm=delete", "/tickets?type=change",
         "/tickets?type=incident")


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_without_a_connection(harness: Harness, path: str) -> None:
    page = harness.ui.get(path)
    assert page.status == 200
    assert "Microsoft 365 security" in page.text and "Traceback" not in page.html
    assert page.response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_home_without_a_connection_is_the_do_you_use_servicenow_card(harness: Harness) -> None:
    page = harness.ui.get("/")
    assert page.element("connect-card").startswith("Do you use ServiceNow?")
    assert page.element("connect-button") == "Connect to ServiceNow"
    assert not page.has("card-change") and not page.has("provisioning-notice")
    connect = harness.ui.get("/servicenow/connect")
    assert "integration user name and password" in connect.element("integration-user-note")
    assert "Don't use your personal credentials." in connect.element("integration-user-note")
    assert "http://127.0.0.1:8765/callback" in connect.element("redirect-note")


def test_the_whole_journey_through_the_pages(harness: Harness) -> None:
    qa, ui = harness.qa, harness.ui
    # Connect: the instance's login and consent pages as the integration user, back to the
    # connection status page.
    status = harness.connect_in_browser()
    assert status.status == 200
    assert status.element("connected") == "Connected to ServiceNow"
    assert "connected, not provisioned" in status.element("connection-status")
    assert harness.hand_offs[-1].redirect_uri == "http://127.0.0.1:8765/callback"
    assert harness.hand_offs[-1].closed
    # Not provisioned yet: a notice and no cards; the share panel refuses.
    home = ui.get("/")
    assert home.has("provisioning-notice") and not home.has("card-change")
    panel = ui.get("/securescore?share=DLPEnabled")
    assert panel.problems == ["the connection is not provisioned on the instance yet (hint: run "
                              "`snow-connector authorize` to provision the connection, then "
                              "retry)"]
    assert 'id="submit-task" disabled' in panel.html
    # Provisioning: Authorize, back home, the cards are there.
    provisioning = ui.get("/ticketProvisioning")
    assert "connected, not provisioned" in provisioning.element("provisioning-status")
    home = ui.post("/ticketProvisioning")
    assert home.has("card-change") and home.has("card-incident")
    assert "connected and provisioned" in home.element("flash-1")
    # Share one change and one incident from Secure score.
    panel = ui.get("/securescore?share=DLPEnabled")
    assert panel.problems == [] and 'id="submit-task" disabled' not in panel.html
    assert 'value="Apply data loss prevention policies"' in panel.html
    shared = ui.post("/securescore/share", action_id="DLPEnabled", type="change",
                     priority="high", name="Apply DLP policies", due=qa.due(),
                     description="Turn on DLP for Exchange and SharePoint.", category="data")
    assert shared.element("flash-1") == "Sent to ServiceNow: CHG0030001"
    assert shared.element("existing-number") == "CHG0030001"
    shared = ui.post("/securescore/share", action_id="MFARegistrationPolicy", type="incident",
                     priority="critical", name="Register everyone for MFA", due=qa.due(),
                     description="Identity Protection MFA registration policy.",
                     category="identity")
    assert shared.element("flash-1") == "Sent to ServiceNow: INC0010001"
    # The tickets are on the instance, made by the integration user.
    change, incident = qa.ticket("CHG0030001"), qa.ticket("INC0010001")
    assert change["sys_created_by"] == incident["sys_created_by"] == INTEGRATION_USER
    assert change["short_description"] == "Apply DLP policies" and change["priority"] == "2"
    assert incident["priority"] == "1"
    # Sharing the same action again shows the existing ticket.
    again = ui.post("/securescore/share", action_id="DLPEnabled", type="incident",
                    priority="low", name="x", due=qa.due(), description="y", category="data")
    assert again.element("flash-1") == "already shared: CHG0030001 exists for this action"
    # A custom state name, and the instance moving the incident along: the cards show both.
    ui.post("/servicenow/configuration/states", type="incident", name_2="Being fixed")
    assert qa.admin.patch(f"/api/now/table/incident/{incident['sys_id']}",
                          json={"state": "2"}).status_code == 200
    home = ui.get("/")
    assert "CHG0030001 Apply DLP policies New 2 - High" in home.element("card-change")
    assert "INC0010001 Register everyone for MFA Being fixed 1 - Critical" in \
        home.element("card-incident")
    assert "Being fixed 1" in home.element("card-incident")  # the count by state
    assert f'href="https://dev00000.service-now.test/incident.do?sys_id={incident["sys_id"]}"' \
        in home.html
    # View all tickets: synced on load.
    tickets = ui.get("/tickets?type=incident")
    assert "INC0010001" in tickets.element("tickets") and "Being fixed" in tickets.text
    # Delete the connection (with confirmation): back to the "Do you use ServiceNow?" card.
    confirm = ui.get("/servicenow/configuration?confirm=delete")
    assert "Delete the ServiceNow connection?" in confirm.element("delete-dialog")
    home = ui.post("/servicenow/configuration/delete")
    assert home.element("flash-1") == "disconnected" and home.has("connect-card")
    assert qa.cli("status").out.startswith("status: not connected")
    connection = qa.admin.get("/api/x_mioms_m365ticket/v1/connection").json()["result"]
    assert connection["status"] == "not_connected"


def test_what_the_cli_does_the_pages_show_and_back(harness: Harness) -> None:
    qa, ui = harness.qa, harness.ui
    assert qa.connect_with_password().code == 0
    assert "connected, not provisioned" in ui.get("/servicenow/configuration").element(
        "connection-status")
    ui.post("/ticketProvisioning")
    assert "connected and provisioned" in qa.cli("status").out
    number = qa.share("DefenderASRRules", "incident").out.strip()
    assert number in ui.get("/").element("card-incident")
    assert qa.cli("states", "set", "incident", "1", "Triaged").code == 0
    assert "Triaged" in ui.get("/").element("card-incident")
    ui.post("/securescore/share", action_id="DLPEnabled", type="change", priority="low",
            name="DLP", description="DLP.", due=qa.due(), category="data")
    assert "CHG0030001" in qa.cli("tickets").out
    ui.post("/servicenow/configuration/delete")
    assert qa.cli("status").out.startswith("status: not connected")


def test_the_share_panel_enforces_the_required_fields(harness: Harness) -> None:
    qa, ui = harness.qa, harness.ui
    assert qa.connect_with_password().code == 0 and qa.cli("authorize").code == 0
    panel = ui.get("/securescore?share=mfaregistrationpolicy")
    assert 'value="Require all users to register for multifactor authentication"' in panel.html
    assert "Identity Protection" in panel.element("description")
    assert '<option value="identity" selected>' in panel.html
    assert '<option value="" selected>Select a priority</option>' in panel.html
    missing = ui.post("/securescore/share", action_id="MFARegistrationPolicy", type="change",
                      priority="", name="n", description="d", due="", category="identity")
    assert missing.status == 400
    assert missing.problems == ["required field(s) missing: priority (--priority), due date "
                                "(--due)"]
    # What was typed is kept.
    assert 'value="n"' in missing.html
    past = ui.post("/securescore/share", action_id="MFARegistrationPolicy", type="change",
                   priority="low", name="n", description="d", due="2000-01-01",
                   category="identity")
    assert past.problems[0].startswith("due date 2000-01-01 is in the past")
    unknown = ui.get("/securescore?share=NoSuchControl")
    assert unknown.problems == ["no improvement action with id 'NoSuchControl'"]


def test_an_uploaded_graph_export_replaces_the_samples(harness: Harness) -> None:
    ui = harness.ui
    page = {"value": [
        {"id": "aad_admin_consent_workflow", "controlCategory": "Apps", "rank": 10,
         "title": "Ensure the admin consent workflow is enabled", "maxScore": "5",
         "implementationCost": "Unknown", "remediation": "<p>Turn it <b>on</b></p>"}],
        "@odata.nextLink": "https://graph.microsoft.com/v1.0/next"}
    imported = ui.client.post("/securescore/import", base_url=ui.base_url,
                              follow_redirects=True, data={
                                  "csrf_token": ui.csrf(),
                                  "export": (BytesIO(json.dumps(page).encode()), "p1.json")})
    text = imported.get_data(as_text=True)
    assert "Imported 1 improvement actions (the last page has an @odata.nextLink" in text
    listing = ui.get("/securescore")
    assert listing.has("action-aad_admin_consent_workflow") and not listing.has(
        "action-DLPEnabled")
    assert "the uploaded Microsoft Graph export" in listing.element("action-source")
    assert "Turn it on" in ui.get("/securescore?share=aad_admin_consent_workflow").element(
        "description")
    broken = ui.client.post("/securescore/import", base_url=ui.base_url, data={
        "csrf_token": ui.csrf(), "export": (BytesIO(b"{not json"), "bad.json")})
    assert broken.status_code == 400 and "page 1 is not valid JSON" in broken.get_data(
        as_text=True)
    assert ui.get("/securescore").has("action-aad_admin_consent_workflow")  # kept
    back = ui.post("/securescore/sample")
    assert back.has("action-DLPEnabled") and "built-in sample set" in back.text


def test_state_names_are_saved_cleared_and_added(harness: Harness) -> None:
    qa, ui = harness.qa, harness.ui
    page = ui.post("/servicenow/configuration/states", type="change", **{
        "name_-5": "Draft", "name_3": "Done", "new_value": "10", "new_name": "Design"})
    assert page.status == 200 and 'value="Draft"' in page.html
    assert qa.cli("states", "set", "change", "0", "Checking").code == 0
    names = {row.value: row.custom for row in qa.connector().state_names("change")}
    assert names["-5"] == "Draft" and names["3"] == "Done" and names["10"] == "Design"
    assert names["0"] == "Checking"
    # An empty name (or the platform's own label) goes back to the platform's label.
    ui.post("/servicenow/configuration/states", type="change", **{
        "name_-5": "", "name_3": "Closed", "name_10": "Design", "name_0": "Checking"})
    names = {row.value: row.custom for row in qa.connector().state_names("change")}
    assert names["-5"] is None and names["3"] is None and names["0"] == "Checking"
    bad = ui.post("/servicenow/configuration/states", type="change", new_value="ten",
                  new_name="x")
    assert bad.status == 400
    assert bad.problems == ["state value 'ten' is not a ServiceNow state value (an integer "
                            "such as -5, 1 or 7)"]
    wrong = ui.post("/servicenow/configuration/states", type="problem")
    assert wrong.problems == ["ticket type 'problem' is not one of: change, incident"]


def test_a_ticket_type_that_does_not_exist_is_refused(harness: Harness) -> None:
    page = harness.ui.get("/tickets?type=problem")
    assert page.status == 400
    assert page.problems == ["ticket type 'problem' is not one of: change, incident"]


def test_unknown_pages_and_methods_get_a_page_not_a_trace(harness: Harness) -> None:
    assert harness.ui.get("/nowhere").status == 404
    response = harness.ui.client.put("/ticketProvisioning", base_url=harness.ui.base_url)
    assert response.status_code == 405 and b"Traceback" not in response.data
