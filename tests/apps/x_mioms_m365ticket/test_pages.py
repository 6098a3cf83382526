"""The app's pages (checklist, connection) and the platform pages an admin validates the
checklist on (Application Registry, Users, a table's application access: the generic list
and form pages): login required, who may see what, what they show, the form token."""

from __future__ import annotations

import dataclasses
import re

from flask import Flask
from markupsafe import escape

from mock_servicenow.app import create_app
from mock_servicenow.settings import Settings
from mock_servicenow.store import rows
from tests.apps.x_mioms_m365ticket.conftest import POLICY_DENIAL, browser_session, system_ctx

PAGES = ("/x_mioms_m365ticket_checklist.do", "/x_mioms_m365ticket_connection.do",
         "/oauth_entity_list.do", "/sys_user_list.do",
         "/sys_db_object.do?sysparm_query=name=oauth_entity")
REMOVED = "Number of rows removed from this list by Security constraints"


def _sys_id(app: Flask, table: str, **equals: object) -> str:
    ctx = system_ctx(app)
    found = rows.find_by(ctx.db, ctx.dictionary, table, **equals)[0]
    ctx.db.close()
    return str(found["sys_id"])


def _ck(html: str) -> str:
    return html.split('name="sysparm_ck" value="')[1].split('"')[0]


def test_pages_send_anonymous_browsers_to_the_login_page(snow_app: Flask) -> None:
    anonymous = snow_app.test_client()
    for page in PAGES:
        response = anonymous.get(page)
        assert response.status_code == 302, page
        assert response.headers["Location"].startswith("/login.do?sysparm_goto_url=")


def test_pages_follow_the_users_rights(snow_app: Flask) -> None:
    """The checklist is the admin's; the platform pages apply the tables' ACLs, as the Table
    API does (oauth_entity needs oauth_admin, sys_db_object admin, sys_user is readable)."""
    integration = browser_session(snow_app, _sys_id(snow_app, "sys_user",
                                                    user_name="m365_integration"))
    assert integration.get(PAGES[0]).status_code == 403
    # The app's user may see the connection status.
    assert integration.get("/x_mioms_m365ticket_connection.do").status_code == 200
    registry = integration.get("/oauth_entity_list.do").get_data(as_text=True)
    assert REMOVED in registry and "Microsoft 365 Security" not in registry
    assert "m365_integration" in integration.get("/sys_user_list.do").get_data(as_text=True)
    assert integration.get(PAGES[4]).status_code == 404  # hidden by ACL: "No Record found"


def test_checklist_page_shows_steps_and_runs_them(snow_app: Flask) -> None:
    from tests.apps.x_mioms_m365ticket.conftest import set_table_access

    admin = browser_session(snow_app)
    page = admin.get("/x_mioms_m365ticket_checklist.do").get_data(as_text=True)
    assert page.count('data-state="complete"') == 5 and "Status: <strong>Complete" in page
    set_table_access(snow_app, "oauth_entity", access="package_private")
    ran = admin.post("/x_mioms_m365ticket_checklist.do",
                     data={"step": "oauth_entity", "sysparm_ck": _ck(page)})
    assert ran.status_code == 303
    after = admin.get("/x_mioms_m365ticket_checklist.do").get_data(as_text=True)
    row = re.search(r'<tr id="step-oauth_entity".*?</tr>', after, re.S)
    assert row is not None and 'data-state="failed"' in row.group(0)
    assert escape(POLICY_DENIAL) in row.group(0)
    assert "Status: <strong>Not complete" in after


def test_posts_need_the_form_token(snow_app: Flask) -> None:
    admin = browser_session(snow_app)
    forged = admin.post("/x_mioms_m365ticket_checklist.do", data={"step": "oauth_entity"})
    assert forged.status_code == 403
    access = _sys_id(snow_app, "sys_db_object", name="oauth_entity")
    forged = admin.post(f"/sys_db_object.do?sys_id={access}",
                        data={"sys_db_object.access": "package_private",
                              "sys_original.sys_db_object.access": "public",
                              "sys_action": "sysverb_update", "sysparm_ck": "0" * 64})
    assert forged.status_code == 403
    ctx = system_ctx(snow_app)
    assert rows.get(ctx.db, ctx.dictionary, "sys_db_object", access)["access"] == "public"
    ctx.db.close()


def test_unknown_step_and_bad_access_values_are_html_errors(snow_app: Flask) -> None:
    admin = browser_session(snow_app)
    ck = _ck(admin.get("/x_mioms_m365ticket_checklist.do").get_data(as_text=True))
    response = admin.post("/x_mioms_m365ticket_checklist.do", data={"step": "x", "sysparm_ck": ck})
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert admin.get("/sys_db_object.do?sys_id=nope").status_code == 404
    assert admin.get("/sys_db_object.do?sysparm_query=name=no_such_table").status_code == 404
    assert admin.get("/sys_user.do?sys_id=nope").status_code == 404


def test_application_registry_validates_the_entity_by_name(snow_app: Flask) -> None:
    admin = browser_session(snow_app)
    search = admin.get("/oauth_entity_list.do?sysparm_search=Security+%2B+Compliance")
    assert search.status_code == 302  # the search box narrows the list's query
    listing = admin.get(search.headers["Location"])
    html = listing.get_data(as_text=True)
    assert "Microsoft 365 Security + Compliance Connector" in html
    sys_id = _sys_id(snow_app, "oauth_entity",
                     name="Microsoft 365 Security + Compliance Connector")
    assert f"/oauth_entity.do?sys_id={sys_id}" in html
    assert "No records to display" in admin.get(
        "/oauth_entity_list.do?sysparm_query=nameLIKEnothing-like-this").get_data(as_text=True)
    form = admin.get(f"/oauth_entity.do?sys_id={sys_id}").get_data(as_text=True)
    ctx = system_ctx(snow_app)
    entity = rows.get(ctx.db, ctx.dictionary, "oauth_entity", sys_id)
    ctx.db.close()
    assert entity is not None and entity["client_id"] in form
    assert entity["client_secret"] not in form and "********" in form


def test_users_page_validates_the_integration_user(snow_app: Flask) -> None:
    admin = browser_session(snow_app)
    html = admin.get("/sys_user_list.do?sysparm_query=user_nameLIKEm365").get_data(as_text=True)
    assert "m365_integration" in html and "abel.tuter" not in html
    sys_id = _sys_id(snow_app, "sys_user", user_name="m365_integration")
    form = admin.get(f"/sys_user.do?sys_id={sys_id}").get_data(as_text=True)
    assert 'id="ni.sys_user.web_service_access_only" name="sys_user.web_service_access_only" ' \
        'value="true">' in form  # not checked
    assert "x_mioms_m365ticket.user" in form and "pbkdf2" not in form


def test_connection_page_shows_who_connected(snow_app: Flask) -> None:
    admin = browser_session(snow_app)
    html = admin.get("/x_mioms_m365ticket_connection.do").get_data(as_text=True)
    assert 'id="connection-status">Not connected<' in html


def test_app_pages_explain_a_refused_install(snow_settings: Settings) -> None:
    app = create_app(dataclasses.replace(snow_settings, release="Istanbul"))
    admin = browser_session(app)
    for page in ("/x_mioms_m365ticket_checklist.do", "/x_mioms_m365ticket_connection.do"):
        html = admin.get(page).get_data(as_text=True)
        assert "requires ServiceNow Kingston or later; this instance runs Istanbul" in html


def test_the_journal_names_the_page_user(snow_app: Flask, snow_admin) -> None:  # type: ignore[no-untyped-def]
    browser_session(snow_app).get("/sys_user_list.do")
    entries = snow_admin.get("/_emulator/journal").json()["entries"]
    assert [e["user"] for e in entries if e["path"] == "/sys_user_list.do"] == ["admin"]
