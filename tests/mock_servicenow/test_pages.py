"""The navigator, list and form pages (issue 16), in-process through Flask's test client.

A logged-in browser session (``browser_session``) opens the pages as a person would; forms
are posted the way a browser posts them (``page_forms.submit``). Every write goes through
the Table API's domain functions, so what the Table API reads back is what the pages did.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mock_servicenow.store import rows
from tests.apps.x_mioms_m365ticket.conftest import browser_session, system_ctx
from tests.mock_servicenow.page_forms import browser_form, ck, submit

DATA_POLICY = ("Data Policy Exception: \n\tThe following fields are mandatory: Resolution code, "
               "Close notes")


def _row(app: Flask, table: str, **equals: object) -> dict[str, Any]:
    ctx = system_ctx(app)
    try:
        found = rows.find_by(ctx.db, ctx.dictionary, table, **equals)
    finally:
        ctx.db.close()
    assert found, f"no {table} row with {equals}"
    return found[0]


def _user_sys_id(app: Flask, user_name: str) -> str:
    return str(_row(app, "sys_user", user_name=user_name)["sys_id"])


def _html(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code,
                                            response.get_data(as_text=True)[:500])
    return response.get_data(as_text=True)


def _text(html: str) -> str:
    """What a person reads: tags removed, entities decoded, spaces collapsed."""
    import html as html_module

    return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def _messages(html: str) -> list[str]:
    return [_text(m).strip() for m in
            re.findall(r'<div class="sn-message sn-error" role="alert">(.*?)</div>', html, re.S)]


@pytest.fixture
def admin(snow_app: Flask) -> FlaskClient:
    """The admin's browser, logged in."""
    return browser_session(snow_app)  # type: ignore[no-any-return]


# -- the address, the navigator -----------------------------------------------------------

def test_the_instance_address_leads_to_login_then_to_the_navigator(snow_app: Flask,
                                                                   admin: FlaskClient) -> None:
    anonymous = snow_app.test_client().get("/")
    assert anonymous.status_code == 302 and anonymous.headers["Location"] == "/login.do"
    assert admin.get("/").headers["Location"] == "/navpage.do"
    page = _html(admin, "/navpage.do")
    for menu in ("Incident", "Problem", "Change", "User Administration", "System OAuth",
                 "System Definition", "System Logs", "Microsoft 365 Ticketing Connector"):
        assert f'data-title="{menu}"' in page, menu
    assert 'href="/x_mioms_m365ticket_checklist.do">Installation Checklist<' in page
    assert 'href="/incident_list.do?sysparm_query=active%3Dtrue">Open<' in page


def test_every_navigator_link_answers_200(admin: FlaskClient) -> None:
    page = _html(admin, "/navpage.do")
    nav = page.split('id="gsft_nav"', 1)[1].split("</nav>", 1)[0]
    links = sorted(set(re.findall(r'href="([^"]+)"', nav)))
    assert len(links) > 40
    for link in links:
        url = link.replace("&amp;", "&")
        assert admin.get(url).status_code == 200, url


def test_modules_follow_the_users_acls(snow_app: Flask, snow_admin: Any) -> None:
    """An employee without roles sees what the ACLs let them use (their incidents, a new
    incident), not the fulfillers' or the admins' modules."""
    employee = browser_session(snow_app, _user_sys_id(snow_app, "joe.employee"))
    page = _html(employee, "/navpage.do")
    assert 'data-title="Self-Service"' in page and ">Create New<" in page
    for hidden in ("System Definition", "System OAuth", "Microsoft 365 Ticketing Connector",
                   "Change"):
        assert f'data-title="{hidden}"' not in page, hidden
    joe = _user_sys_id(snow_app, "joe.employee")
    own = _new_incident(snow_app, snow_admin, caller_id=joe)
    mine = _html(employee, "/incident_list.do?sysparm_query=caller_id%3D" + joe)
    assert own["number"] in mine  # Joe's own incident (caller), visible through the ESS rule


def test_nav_to_opens_same_site_pages_only(admin: FlaskClient) -> None:
    assert admin.get("/nav_to.do?uri=/incident_list.do").headers["Location"] == \
        "/incident_list.do"
    # The platform's documented form: the page's own parameters follow, unencoded.
    assert admin.get("/nav_to.do?uri=incident.do?sys_id=-1&sysparm_query=priority=1"
                     ).headers["Location"] == "/incident.do?sys_id=-1&sysparm_query=priority%3D1"
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil", ""):
        assert admin.get("/nav_to.do", query_string={"uri": evil}).headers["Location"] == \
            "/navpage.do", evil


# -- lists -------------------------------------------------------------------------------

def _numbers(html: str) -> list[str]:
    return re.findall(r">(INC\d{7})</a>", html)


def test_list_filter_breadcrumb_sort_and_pages(admin: FlaskClient) -> None:
    page = _html(admin, "/incident_list.do?sysparm_query=active=true^priority=1")
    assert _text(page.split('id="breadcrumbs">')[1].split("</div>")[0]).split() == \
        "All > Active = true > Priority = 1 - Critical".split()
    assert set(_numbers(page)) and 'id="record_count">' in page
    # Sorting: a column header sorts ascending, then descending.
    sort = re.search(r'<th data-field="number"><a href="([^"]+)"', page)
    assert sort is not None
    ascending = _html(admin, sort.group(1).replace("&amp;", "&"))
    assert "ORDERBYnumber" in sort.group(1)
    assert _numbers(ascending) == sorted(_numbers(ascending))
    again = re.search(r'<th data-field="number" aria-sort="ascending"><a href="([^"]+)"',
                      ascending)
    assert again is not None and "ORDERBYDESCnumber" in again.group(1)
    descending = _html(admin, again.group(1).replace("&amp;", "&"))
    assert _numbers(descending) == sorted(_numbers(descending), reverse=True)
    # Pages: 5 rows per page, the second page starts at row 6.
    first = _html(admin, "/incident_list.do?sysparm_query=ORDERBYnumber&sysparm_force_row_count=5")
    second = _html(admin, "/incident_list.do?sysparm_query=ORDERBYnumber"
                   "&sysparm_force_row_count=5&sysparm_first_row=6")
    assert len(_numbers(first)) == len(_numbers(second)) == 5
    assert _numbers(first)[-1] < _numbers(second)[0]
    assert re.search(r'id="page_position">6 to 10 of <span id="record_count">\d+', second)
    nxt = re.search(r'id="page_next" href="([^"]+)"', first)
    assert nxt is not None and "sysparm_first_row=6" in nxt.group(1)


def test_list_count_matches_the_table_api(admin: FlaskClient, snow_admin: Any) -> None:
    api = snow_admin.get("/api/now/table/incident", params={"sysparm_query": "active=true",
                                                            "sysparm_limit": 1})
    page = _html(admin, "/incident_list.do?sysparm_query=active%3Dtrue")
    assert f'id="record_count">{api.headers["X-Total-Count"]}<' in page


def test_list_search_narrows_the_query_on_the_display_field(admin: FlaskClient) -> None:
    found = admin.get("/sys_user_list.do?sysparm_search=Beth&sysparm_search_field=name")
    assert found.status_code == 302
    query = parse_qs(urlsplit(found.headers["Location"]).query)["sysparm_query"][0]
    assert query == "nameLIKEBeth"
    page = _html(admin, found.headers["Location"])
    assert "beth.anglin" in page and "abel.tuter" not in page
    assert "Name contains Beth" in _text(page)
    # A reference column is searched on the referenced record's display field.
    by_group = admin.get("/incident_list.do?sysparm_search=Network"
                         "&sysparm_search_field=assignment_group")
    assert "assignment_group.nameLIKENetwork" in parse_qs(
        urlsplit(by_group.headers["Location"]).query)["sysparm_query"][0]


def test_list_rows_hidden_by_acl_are_counted_as_removed(snow_app: Flask) -> None:
    employee = browser_session(snow_app, _user_sys_id(snow_app, "joe.employee"))
    page = _html(employee, "/incident_list.do")
    assert "Number of rows removed from this list by Security constraints:" in page
    assert 'id="sysverb_new"' in page  # any user may raise an incident


@pytest.mark.parametrize("url", [
    "/incident_list.do?sysparm_query=nonsense^^^ORDERBYno_such_field",
    "/incident_list.do?sysparm_first_row=-5&sysparm_force_row_count=0",
    "/incident_list.do?sysparm_first_row=abc&sysparm_force_row_count=99999999999999999999",
    "/incident_list.do?sysparm_first_row=99999999",
    "/incident_list.do?sysparm_order=short_description&sysparm_order_direction=desc",
    "/incident_list.do?sysparm_query=caller_id.nameSTARTSWITHAbel^ORpriorityIN1,2",
    "/incident_list.do?sysparm_query=%00%FF",
    "/sys_user_list.do?sysparm_query=user_password=admin",
])
def test_bad_list_input_is_a_page_never_a_500(admin: FlaskClient, url: str) -> None:
    response = admin.get(url)
    assert response.status_code in (200, 403), url
    assert response.mimetype == "text/html"
    if response.status_code == 403:  # a filter on a password field (§1.2): the API's refusal
        assert "Field(s) present in the query do not have permission to be read" in \
            response.get_data(as_text=True)


def test_unknown_pages_are_styled_404s_and_other_methods_405(admin: FlaskClient) -> None:
    for url in ("/no_such_table_list.do", "/no_such_table.do", "/nothing_here"):
        response = admin.get(url)
        assert response.status_code == 404, url
        html = response.get_data(as_text=True)
        assert "/styles/mock_servicenow.css" in html and 'href="/"' in html
    assert admin.post("/incident_list.do").status_code == 405
    token = admin.get("/oauth_token.do")  # a POST-only endpoint: its envelope
    assert token.status_code == 405 and token.json is not None


#: Pages with a route of their own, and the methods each answers (HEAD with every GET).
_OWN_PAGES = {"/logout.do": "GET, HEAD", "/login_with_sso.do": "GET, HEAD",
              "/navpage.do": "GET, HEAD", "/nav_to.do": "GET, HEAD",
              "/x_mioms_m365ticket_connection.do": "GET, HEAD", "/oauth_token.do": "POST"}


@pytest.mark.parametrize("logged_in", [False, True])
@pytest.mark.parametrize("path", sorted(_OWN_PAGES))
def test_a_page_of_its_own_is_never_the_generic_list_or_form(
        snow_app: Flask, admin: FlaskClient, path: str, logged_in: bool) -> None:
    """``/<name>.do`` (a table's list or form) never answers a path another page owns: a
    method that page does not take is its 405, whoever asks, and the 405's Allow names that
    page's methods only (RFC 9110 §15.5.6), OPTIONS included (a 405 too, servicenow-behaviour
    §1.1). Before, an anonymous POST /logout.do went to the login page and GET
    /oauth_token.do (POST only, https://docs.servicenow.com/bundle/geneva-servicenow-platform/
    page/administer/security/reference/r_OAuthTokens.html) to the login form, while Allow
    listed POST for /logout.do and GET for /oauth_token.do."""
    client = admin if logged_in else snow_app.test_client()
    allowed = _OWN_PAGES[path]
    other = "GET" if allowed == "POST" else "POST"
    for method in (other, "OPTIONS", "PUT"):
        response = client.open(path, method=method)
        assert response.status_code == 405, (method, path, response.status_code)
        assert response.headers["Allow"] == allowed, (method, path)
    assert client.open("/incident.do", method="OPTIONS").headers["Allow"] == "GET, HEAD, POST"


def test_every_table_has_a_list_and_a_form(snow_app: Flask, admin: FlaskClient) -> None:
    """Generic over the dictionary: no table is left out (new tables included)."""
    dictionary = snow_app.extensions["mock_servicenow"].instance.platform.dictionary
    for table in dictionary:
        assert admin.get(f"/{table.name}_list.do").status_code == 200, table.name
        assert admin.get(f"/{table.name}.do?sys_id=-1").status_code == 200, table.name


# -- forms -------------------------------------------------------------------------------

def _incident(app: Flask, number: str) -> dict[str, Any]:
    return _row(app, "incident", number=number)


def _new_incident(app: Flask, api: Any, **fields: str) -> dict[str, Any]:
    """An incident of the test's own (created through the Table API), as stored."""
    body = {"short_description": "A page test's incident", "impact": "2", "urgency": "2",
            "caller_id": _user_sys_id(app, "abel.tuter"), **fields}
    created = api.post("/api/now/table/incident", json=body)
    assert created.status_code == 201, created.text
    return _incident(app, created.json()["result"]["number"])


def test_form_shows_labels_choices_references_and_read_only_fields(
        snow_app: Flask, admin: FlaskClient, snow_admin: Any) -> None:
    row = _new_incident(snow_app, snow_admin, state="2")
    page = _html(admin, f"/incident.do?sys_id={row['sys_id']}")
    assert '<label for="incident.short_description">Short description</label>' in page
    assert re.search(r'<select id="incident.state" name="incident.state">.*?'
                     r'<option value="2" selected>In Progress</option>', page, re.S)
    caller = _row(snow_app, "sys_user", sys_id=row["caller_id"])
    assert f'value="{caller["name"]}"' in page  # the reference's display value
    assert f'href="/sys_user.do?sys_id={caller["sys_id"]}"' in page
    assert f'<input type="text" id="incident.number" value="{row["number"]}" readonly>' in page
    assert 'name="incident.sys_created_on"' not in page  # system fields are never posted
    # The same record by its number (navigate-using-url).
    assert f'data-sys-id="{row["sys_id"]}"' in _html(
        admin, f"/incident.do?sysparm_query=number={row['number']}")
    _html(admin, "/incident.do?sysparm_query=number=NOPE", 404)
    _html(admin, "/incident.do?sys_id=0123456789abcdef0123456789abcdef", 404)


def test_update_saves_only_what_changed_through_the_table_api(
        snow_app: Flask, admin: FlaskClient, snow_admin: Any) -> None:
    row = _new_incident(snow_app, snow_admin, description="Untouched",
                        assignment_group=str(_row(snow_app, "sys_user_group")["sys_id"]))
    html = _html(admin, f"/incident.do?sys_id={row['sys_id']}")
    saved = submit(admin, html, {"incident.short_description": "Wireless fixed?",
                                 "incident.urgency": "1"})
    assert saved.status_code == 303
    after = _incident(snow_app, row["number"])
    assert after["short_description"] == "Wireless fixed?"
    assert after["sys_mod_count"] == row["sys_mod_count"] + 1
    assert after["sys_updated_by"] == "admin"
    # Business rules ran: priority from impact x urgency (servicenow-behaviour §7.2).
    assert after["priority"] == {1: 1, 2: 2, 3: 3}[row["impact"]]
    # Fields nobody touched keep their stored values (date-times shown in the user's zone).
    for name in ("opened_at", "caller_id", "assignment_group", "description", "sys_created_on"):
        assert after[name] == row[name], name
    api = snow_admin.get(f"/api/now/table/incident/{row['sys_id']}").json()["result"]
    assert api["short_description"] == "Wireless fixed?"


def test_data_policy_message_at_the_top_of_the_form(snow_app: Flask, admin: FlaskClient,
                                                    snow_admin: Any) -> None:
    row = _new_incident(snow_app, snow_admin)
    html = _html(admin, f"/incident.do?sys_id={row['sys_id']}")
    refused = submit(admin, html, {"incident.state": "6",
                                   "incident.short_description": "typed, not saved"})
    assert refused.status_code == 200
    page = refused.get_data(as_text=True)
    assert _messages(page) == [" ".join(DATA_POLICY.split()), "Invalid update"]
    # The form keeps what the person typed; nothing was saved.
    assert 'value="typed, not saved"' in page
    assert _incident(snow_app, row["number"])["state"] == row["state"]
    # With the close fields filled, the same Update resolves it.
    resolved = submit(admin, page, {"incident.close_code": "Solution provided",
                                    "incident.close_notes": "Rebooted the router"})
    assert resolved.status_code == 303
    after = _incident(snow_app, row["number"])
    assert (after["state"], after["close_notes"]) == (6, "Rebooted the router")
    assert after["short_description"] == "typed, not saved"


def test_business_rule_abort_is_shown_on_the_form(snow_app: Flask, admin: FlaskClient) -> None:
    change = _row(snow_app, "change_request", state=-5)
    html = _html(admin, f"/change_request.do?sys_id={change['sys_id']}")
    page = submit(admin, html, {"change_request.state": "3"}).get_data(as_text=True)
    assert _messages(page)[0].startswith("Operation against file 'change_request' was aborted "
                                         "by Business Rule 'Change Model: Check State Transition")


def test_new_record_from_minus_one_with_presets(snow_app: Flask, admin: FlaskClient) -> None:
    html = _html(admin, "/incident.do?sys_id=-1&sysparm_query=impact=1^urgency=1"
                 "^caller_id=javascript:gs.getUserID()")
    assert re.search(r'name="incident.impact">.*?<option value="1" selected>', html, re.S)
    assert 'value="System Administrator"' in html  # the caller preset: the acting user
    assert 'id="sysverb_insert"' in html and 'id="sysverb_update"' not in html
    created = submit(admin, html, {"incident.short_description": "Created on a form"},
                     button="sysverb_insert")
    assert created.status_code == 303
    row = _row(snow_app, "incident", short_description="Created on a form")
    assert re.fullmatch(r"INC\d{7}", row["number"])  # numbered like any insert
    assert (row["impact"], row["urgency"], row["priority"]) == (1, 1, 1)
    assert row["caller_id"] == _user_sys_id(snow_app, "admin")
    assert row["opened_by"] == row["caller_id"] and row["sys_created_by"] == "admin"


def test_references_are_typed_as_display_values(snow_app: Flask, admin: FlaskClient,
                                                snow_admin: Any) -> None:
    row = _new_incident(snow_app, snow_admin)
    html = _html(admin, f"/incident.do?sys_id={row['sys_id']}")
    saved = submit(admin, html, {"sys_display.incident.assigned_to": "Beth Anglin"})
    assert saved.status_code == 303
    assert _incident(snow_app, row["number"])["assigned_to"] == _user_sys_id(snow_app,
                                                                             "beth.anglin")
    html = _html(admin, f"/incident.do?sys_id={row['sys_id']}")
    refused = submit(admin, html, {"sys_display.incident.assigned_to": "Nobody At All"})
    assert _messages(refused.get_data(as_text=True))[0] == \
        'Assigned to: no User matches "Nobody At All"'
    cleared = submit(admin, html, {"sys_display.incident.assigned_to": ""})
    assert cleared.status_code == 303
    assert not _incident(snow_app, row["number"])["assigned_to"]


def test_journal_entries_and_checkboxes(snow_app: Flask, admin: FlaskClient,
                                        snow_admin: Any) -> None:
    row = _new_incident(snow_app, snow_admin)
    html = _html(admin, f"/incident.do?sys_id={row['sys_id']}")
    assert submit(admin, html, {"incident.work_notes": "Called the user back"},
                  button="sysverb_update_and_stay").headers["Location"] == \
        f"/incident.do?sys_id={row['sys_id']}"
    page = _html(admin, f"/incident.do?sys_id={row['sys_id']}")
    assert "Called the user back" in page and "(Work notes)" in page
    user = _row(snow_app, "sys_user", user_name="luke.wilson")
    form = _html(admin, f"/sys_user.do?sys_id={user['sys_id']}")
    submit(admin, form, {"sys_user.web_service_access_only": True})
    assert _row(snow_app, "sys_user", user_name="luke.wilson")["web_service_access_only"] == 1
    form = _html(admin, f"/sys_user.do?sys_id={user['sys_id']}")
    submit(admin, form, {"sys_user.web_service_access_only": False})
    assert _row(snow_app, "sys_user", user_name="luke.wilson")["web_service_access_only"] == 0


def test_passwords_are_write_only_on_forms(snow_app: Flask, admin: FlaskClient) -> None:
    user = _row(snow_app, "sys_user", user_name="admin")
    html = _html(admin, f"/sys_user.do?sys_id={user['sys_id']}")
    assert user["user_password"] not in html and "pbkdf2" not in html
    assert '<input type="password" id="sys_user.user_password"' in html
    entity = _row(snow_app, "oauth_entity", type="client")
    html = _html(admin, f"/oauth_entity.do?sys_id={entity['sys_id']}")
    assert entity["client_secret"] not in html


def test_delete_and_acl_refusals(snow_app: Flask, admin: FlaskClient, snow_admin: Any) -> None:
    row = _new_incident(snow_app, snow_admin, caller_id=_user_sys_id(snow_app, "joe.employee"))
    caller = browser_session(snow_app, str(row["caller_id"]))  # an employee, owner of it
    html = _html(caller, f"/incident.do?sys_id={row['sys_id']}")
    assert 'id="sysverb_delete"' not in html  # delete is the admin's (ACL)
    action, pairs, _ = browser_form(html)
    forced = caller.post(action, data={**dict(pairs), "sys_action": "sysverb_delete"})
    assert _messages(forced.get_data(as_text=True)) == [
        "ACL Exception Delete Failed due to security constraints", "Invalid delete"]
    html = _html(admin, f"/incident.do?sys_id={row['sys_id']}")
    deleted = submit(admin, html, button="sysverb_delete")
    assert deleted.status_code == 303 and deleted.headers["Location"] == "/incident_list.do"
    ctx = system_ctx(snow_app)
    assert rows.get(ctx.db, ctx.dictionary, "incident", row["sys_id"]) is None
    ctx.db.close()


def test_forms_need_the_sessions_token(snow_app: Flask, admin: FlaskClient,
                                      snow_admin: Any) -> None:
    row = _new_incident(snow_app, snow_admin)
    html = _html(admin, f"/incident.do?sys_id={row['sys_id']}")
    action, pairs, _ = browser_form(html)
    posted = {**dict(pairs), "incident.short_description": "forged",
              "sys_action": "sysverb_update"}
    for token in ("", "0" * 64):
        posted["sysparm_ck"] = token
        assert admin.post(action, data=posted).status_code == 403
    assert _incident(snow_app, row["number"])["short_description"] != "forged"
    assert ck(html)  # the real token is on the form
    anonymous = snow_app.test_client().post(action, data={**posted, "sysparm_ck": ck(html)})
    assert anonymous.status_code == 302  # not logged in: the login page first


def test_update_goes_back_where_the_form_was_opened(snow_app: Flask, admin: FlaskClient,
                                                    snow_admin: Any) -> None:
    row = _new_incident(snow_app, snow_admin)
    url = f"/incident.do?sys_id={row['sys_id']}"
    listing = "/incident_list.do?sysparm_query=active%3Dtrue"
    html = admin.get(url, headers={"Referer": f"http://localhost{listing}"}).get_data(
        as_text=True)
    assert submit(admin, html, {"incident.description": "x"}).headers["Location"] == listing
    html = admin.get(url, headers={"Referer": "https://evil.example/x.do"}).get_data(
        as_text=True)
    assert submit(admin, html, {"incident.description": "y"}).headers["Location"] == \
        "/incident_list.do"


def test_references_that_store_a_key_link_by_that_key(admin: FlaskClient) -> None:
    """``sys_dictionary.name`` stores the table's name, not a sys_id: its link opens the
    ``sys_db_object`` record by name."""
    page = _html(admin, "/sys_dictionary_list.do?sysparm_query=name%3Dincident"
                 "&sysparm_force_row_count=5")
    links = set(re.findall(r'href="(/sys_db_object\.do\?[^"]+)"', page))
    assert links and all(link.startswith("/sys_db_object.do?sysparm_query=name%3D")
                         for link in links)  # the Reference column: sys_user, task...
    link = sorted(links)[0]
    form = _html(admin, link)
    name = link.rsplit("%3D", 1)[1]
    assert '<input type="text" id="sys_db_object.name" name="sys_db_object.name" ' \
        f'value="{name}">' in form
