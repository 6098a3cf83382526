"""Issue 15, access control: dot-walks apply the read ACL of the table they land on (1), only an
admin changes an admin (2), a table the caller cannot read counts 0 (3), password fields and
client secrets are out of reach of ordering and grouping (4).

Sources:
- ACL evaluation, pre- and post-query checks (a field that fails read "isn't shown"; a failed
  read ACL means "can't see the object in forms or lists ... can't retrieve records using API
  protocols"):
  https://www.servicenow.com/docs/r/platform-security/access-control/exploring-access-control-list.html
- Query ACLs default to read access; a failed ``query_range`` restricts sorting:
  https://www.servicenow.com/docs/r/xanadu/platform-security/access-control/query-acl-rule.html
- Table API security (ACLs enforced; only elevated-privilege tables answer 403):
  https://docs.servicenow.com/bundle/geneva-servicenow-platform/page/integrate/inbound_rest/concept/c_TableAPISecurity.html
- "To grant the admin role to a user, you must also have the admin role":
  https://www.servicenow.com/docs/bundle/yokohama-platform-administration/page/administer/users-and-groups/task/t_AssignARoleToAUser.html
- Elevated privilege roles:
  https://www.servicenow.com/docs/r/australia/platform-security/c_ElevatedPrivilege.html
- Password fields are write-only, queries on them 403 (servicenow-behaviour §1.2, §1.5, §6).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from flask import Flask

from mock_servicenow.domain.platform.context import ADMIN_SYS_ID
from tests.mock_servicenow.table_api_helpers import client_as, set_password

INCIDENTS = "/api/now/table/incident"
ABEL = "62826bf03710200044e0bfc8bcbe5df1"  # no roles: an end user (ESS)
SECRET = "Hidden-parent-detail-4f2a"
INSUFFICIENT = "Insufficient rights to query records"


@pytest.fixture
def abel(snow_app: Flask, snow_admin: httpx.Client) -> Iterator[httpx.Client]:
    set_password(snow_admin, "abel.tuter", "Abel-pw-1")
    with client_as(snow_app, "abel.tuter", "Abel-pw-1") as client:
        yield client


@pytest.fixture
def itil(snow_app: Flask, snow_admin: httpx.Client) -> Iterator[httpx.Client]:
    set_password(snow_admin, "itil", "Itil-pw-1")
    with client_as(snow_app, "itil", "Itil-pw-1") as client:
        yield client


@pytest.fixture
def hidden(snow_admin: httpx.Client) -> dict[str, str]:
    """Records abel may not read: someone else's incident, a change, a problem."""
    joe = snow_admin.get("/api/now/table/sys_user", params={
        "sysparm_query": "user_name=joe.employee"}).json()["result"][0]["sys_id"]
    made = {}
    for key, table, body in (
            ("incident", "incident", {"short_description": "someone else's",
                                      "description": SECRET, "caller_id": joe}),
            ("change", "change_request", {"short_description": SECRET}),
            ("problem", "problem", {"short_description": SECRET, "description": SECRET})):
        answer = snow_admin.post(f"/api/now/table/{table}", json=body)
        assert answer.status_code == 201, answer.text
        made[key] = answer.json()["result"]["sys_id"]
        made[key + "_number"] = answer.json()["result"]["number"]
    return made


@pytest.fixture
def walking(abel: httpx.Client, hidden: dict[str, str]) -> str:
    """abel's own incident, pointing at the hidden records (any user may create one)."""
    answer = abel.post(INCIDENTS, json={
        "short_description": "mine", "caller_id": ABEL, "parent_incident": hidden["incident"],
        "rfc": hidden["change"], "problem_id": hidden["problem"], "parent": hidden["incident"]})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["result"]["sys_id"])


WALKS = ("parent_incident.description,parent_incident.short_description,rfc.short_description,"
         "problem_id.description,parent.short_description,parent_incident.caller_id.name")


# -- item 1: dot-walks ---------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["false", "true", "all"])
def test_dot_walked_fields_of_unreadable_records_are_empty(abel: httpx.Client, walking: str,
                                                           mode: str) -> None:
    record = abel.get(f"{INCIDENTS}/{walking}", params={
        "sysparm_fields": "number," + WALKS, "sysparm_display_value": mode}).json()["result"]
    assert SECRET not in str(record) and "someone else" not in str(record)
    assert "Joe Employee" not in str(record)
    for key in WALKS.split(","):
        value = record[key]
        shown = value["display_value"] if mode == "all" else value
        assert shown in ("", None), (key, value)
    listed = abel.get(INCIDENTS, params={"sysparm_query": f"sys_id={walking}",
                                         "sysparm_fields": WALKS,
                                         "sysparm_display_value": mode}).json()["result"]
    assert SECRET not in str(listed)


def test_reference_display_values_of_unreadable_records_are_empty(
        abel: httpx.Client, walking: str, hidden: dict[str, str]) -> None:
    record = abel.get(f"{INCIDENTS}/{walking}", params={
        "sysparm_display_value": "all"}).json()["result"]
    for field, key in (("parent_incident", "incident"), ("rfc", "change"),
                       ("problem_id", "problem")):
        # The reference itself is a field of abel's record: its value stays.
        assert record[field]["value"] == hidden[key]
        assert record[field]["display_value"] == "", record[field]
        assert hidden[key + "_number"] not in str(record)
    # The caller (sys_user, readable by anyone) still shows its name.
    assert record["caller_id"]["display_value"] == "Abel Tuter"


def test_the_same_walks_show_values_to_whoever_may_read_them(itil: httpx.Client,
                                                              snow_admin: httpx.Client,
                                                              walking: str) -> None:
    for client in (itil, snow_admin):
        record = client.get(f"{INCIDENTS}/{walking}", params={
            "sysparm_fields": WALKS}).json()["result"]
        assert record["parent_incident.description"] == SECRET
        assert record["rfc.short_description"] == SECRET
        assert record["problem_id.description"] == SECRET


def test_conditions_on_walks_into_unreadable_records_see_them_empty(
        abel: httpx.Client, itil: httpx.Client, walking: str) -> None:
    for query in (f"parent_incident.descriptionLIKE{SECRET[:10]}",
                  f"rfc.short_descriptionSTARTSWITH{SECRET[:6]}",
                  f"problem_id.description={SECRET}", "parent_incident.descriptionISNOTEMPTY",
                  f"parent_incident.description>{SECRET[:1]}"):
        answer = abel.get(INCIDENTS, params={"sysparm_query": query})
        assert answer.status_code == 200
        assert answer.json()["result"] == [] and answer.headers["X-Total-Count"] == "0", query
        # Control: someone who may read them finds the record with the same query.
        assert itil.get(INCIDENTS, params={"sysparm_query": query}).headers[
            "X-Total-Count"] != "0", query
    empty = abel.get(INCIDENTS, params={"sysparm_query": "parent_incident.descriptionISEMPTY^"
                                                         f"sys_id={walking}"})
    assert [r["sys_id"] for r in empty.json()["result"]] == [walking]


def test_ordering_by_walks_into_unreadable_records_reveals_nothing(
        abel: httpx.Client, snow_admin: httpx.Client) -> None:
    parents = []
    for text in ("aaaa first", "zzzz last"):
        made = snow_admin.post(INCIDENTS, json={"short_description": text,
                                                "description": text})
        parents.append(made.json()["result"]["sys_id"])
    mine = [abel.post(INCIDENTS, json={"short_description": f"child {i}", "caller_id": ABEL,
                                       "parent_incident": parent}).json()["result"]["number"]
            for i, parent in enumerate(parents)]

    def order(direction: str, client: httpx.Client) -> list[str]:
        answer = client.get(INCIDENTS, params={
            "sysparm_query": f"numberIN{','.join(mine)}^ORDERBY{direction}"
                             "parent_incident.description^ORDERBYnumber",
            "sysparm_fields": "number"})
        return [r["number"] for r in answer.json()["result"]]

    assert order("", snow_admin) != order("DESC", snow_admin)  # the values do order them
    assert order("", abel) == order("DESC", abel) == sorted(mine)


def test_admin_only_tables_are_not_read_through_a_walk(abel: httpx.Client) -> None:
    """sys_user_role is readable by anyone; its sys_scope (sys_scope) is admin-only."""
    roles = abel.get("/api/now/table/sys_user_role", params={
        "sysparm_fields": "name,sys_scope.name,sys_scope.scope", "sysparm_limit": "5",
        "sysparm_display_value": "true"})
    assert roles.status_code == 200
    rows = roles.json()["result"]
    assert rows and all(r["name"] for r in rows)
    assert all(r["sys_scope.name"] == "" and r["sys_scope.scope"] == "" for r in rows), rows
    assert abel.get("/api/now/table/sys_user_role", params={
        "sysparm_query": "sys_scope.nameSTARTSWITHG"}).headers["X-Total-Count"] == "0"


def test_a_display_value_filter_never_resolves_an_unreadable_record(
        abel: httpx.Client, itil: httpx.Client, walking: str, hidden: dict[str, str]) -> None:
    # name=value filters accept display values (servicenow-behaviour §1.2): the number of an
    # incident abel may not read is not resolved for abel, so it matches nothing.
    params = {"parent_incident": hidden["incident_number"]}
    assert abel.get(INCIDENTS, params=params).json()["result"] == []
    assert [r["sys_id"] for r in itil.get(INCIDENTS, params=params).json()["result"]] == [walking]


# -- item 2: only an admin changes an admin --------------------------------------------------------

@pytest.fixture
def user_admin(snow_app: Flask, snow_admin: httpx.Client) -> Iterator[httpx.Client]:
    made = snow_admin.post("/api/now/table/sys_user", json={
        "user_name": "ua.person", "first_name": "Ua", "last_name": "Person",
        "user_password": "Ua-pw-12345"})
    assert made.status_code == 201, made.text
    role = snow_admin.get("/api/now/table/sys_user_role", params={
        "sysparm_query": "name=user_admin"}).json()["result"][0]["sys_id"]
    granted = snow_admin.post("/api/now/table/sys_user_has_role", json={
        "user": made.json()["result"]["sys_id"], "role": role})
    assert granted.status_code == 201, granted.text
    with client_as(snow_app, "ua.person", "Ua-pw-12345") as client:
        yield client


DENIED_UPDATE = {"message": "Operation Failed",
                 "detail": "ACL Exception Update Failed due to security constraints"}


@pytest.mark.parametrize("change", [{"user_password": "Taken-over-1"}, {"active": "false"},
                                    {"locked_out": "true"}, {"user_name": "not.admin"}])
def test_a_user_admin_cannot_change_the_admin(user_admin: httpx.Client, snow_client: httpx.Client,
                                              change: dict[str, str]) -> None:
    answer = user_admin.patch(f"/api/now/table/sys_user/{ADMIN_SYS_ID}", json=change)
    assert answer.status_code == 403
    assert answer.json()["error"] == DENIED_UPDATE
    # The admin still logs in with their password; the takeover password does not work.
    assert snow_client.get(INCIDENTS, auth=("admin", "admin")).status_code == 200
    assert snow_client.get(INCIDENTS, auth=("admin", "Taken-over-1")).status_code == 401


def test_a_user_admin_cannot_delete_the_admin(user_admin: httpx.Client) -> None:
    answer = user_admin.delete(f"/api/now/table/sys_user/{ADMIN_SYS_ID}")
    assert answer.status_code == 403
    assert answer.json()["error"]["detail"] == \
        "ACL Exception Delete Failed due to security constraints"


def test_a_user_admin_still_manages_other_users(user_admin: httpx.Client,
                                                snow_client: httpx.Client) -> None:
    joe = user_admin.get("/api/now/table/sys_user", params={
        "sysparm_query": "user_name=joe.employee"}).json()["result"][0]["sys_id"]
    answer = user_admin.patch(f"/api/now/table/sys_user/{joe}",
                              json={"user_password": "Joe-new-pw-1", "title": "Lead"})
    assert answer.status_code == 200, answer.text
    assert snow_client.get(INCIDENTS, auth=("joe.employee", "Joe-new-pw-1")).status_code == 200


def test_an_admin_changes_another_admin(snow_admin: httpx.Client, snow_client: httpx.Client
                                        ) -> None:
    answer = snow_admin.patch(f"/api/now/table/sys_user/{ADMIN_SYS_ID}",
                              json={"title": "Still the admin"})
    assert answer.status_code == 200


# -- item 3: a table the caller cannot read counts 0 -------------------------------------------

@pytest.mark.parametrize("table", ["sys_properties", "oauth_entity", "sys_user_has_role",
                                   "sys_db_object", "sys_scope"])
@pytest.mark.parametrize("query", ["", "nameSTARTSWITHglide", "client_secretISNOTEMPTY",
                                   "sys_idSTARTSWITH0^ORsys_idSTARTSWITH1"])
def test_an_unreadable_table_answers_no_rows_and_a_count_of_0(
        abel: httpx.Client, snow_admin: httpx.Client, table: str, query: str) -> None:
    assert snow_admin.get(f"/api/now/table/{table}").headers["X-Total-Count"] != "0"
    answer = abel.get(f"/api/now/table/{table}", params={"sysparm_query": query})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"result": []}
    assert answer.headers["X-Total-Count"] == "0"
    assert "Link" not in answer.headers
    v1 = abel.get(f"/api/now/v1/table/{table}", params={"sysparm_query": query})
    assert v1.status_code == 404  # v1's answer to an empty listing (servicenow-behaviour §1.1)


# -- item 4: password fields and client secrets ------------------------------------------------

@pytest.mark.parametrize("query", ["ORDERBYuser_password", "ORDERBYDESCuser_password",
                                   "active=true^ORDERBYuser_password",
                                   "ORDERBYmanager.user_password"])
def test_ordering_by_a_password_field_is_refused_like_a_condition(
        snow_admin: httpx.Client, query: str) -> None:
    answer = snow_admin.get("/api/now/table/sys_user", params={"sysparm_query": query})
    assert answer.status_code == 403
    assert answer.json()["error"] == {
        "message": INSUFFICIENT,
        "detail": "Field(s) present in the query do not have permission to be read"}


def test_ordering_by_a_client_secret_is_refused(snow_admin: httpx.Client) -> None:
    answer = snow_admin.get("/api/now/table/oauth_entity",
                            params={"sysparm_query": "ORDERBYclient_secret"})
    assert answer.status_code == 403


@pytest.mark.parametrize("table,field", [("sys_user", "user_password"),
                                         ("oauth_entity", "client_secret")])
def test_grouping_by_a_password_field_is_refused(snow_admin: httpx.Client, table: str,
                                                 field: str) -> None:
    answer = snow_admin.get(f"/api/now/stats/{table}", params={
        "sysparm_count": "true", "sysparm_group_by": field})
    assert answer.status_code == 403
    assert answer.json()["error"]["message"] == INSUFFICIENT


def test_client_secrets_are_stored_hashed_whoever_writes_them(
        snow_app: Flask, snow_admin: httpx.Client) -> None:
    given = "Given-client-secret-123456"
    snow_admin.post("/api/now/table/oauth_entity", json={"name": "given", "type": "client",
                                                         "client_secret": given})
    snow_admin.post("/api/now/table/oauth_entity", json={"name": "generated", "type": "client"})
    changed = snow_admin.get("/api/now/table/oauth_entity", params={
        "sysparm_query": "name=given"}).json()["result"][0]["sys_id"]
    snow_admin.patch(f"/api/now/table/oauth_entity/{changed}",
                     json={"client_secret": given + "-changed"})
    instance = snow_app.extensions["mock_servicenow"].instance
    db = instance.connect()
    try:
        stored = [row[0] for row in db.execute("SELECT client_secret FROM oauth_entity")]
    finally:
        db.close()
    assert len(stored) >= 3
    assert all(str(value).startswith("pbkdf2_sha256$") for value in stored), stored
    assert not any(given in str(value) for value in stored)


def test_a_client_secret_still_authenticates_its_client(snow_admin: httpx.Client,
                                                        snow_client: httpx.Client) -> None:
    secret = "Client-secret-for-token-9876"
    entity = snow_admin.post("/api/now/table/oauth_entity", json={
        "name": "works", "type": "client", "client_secret": secret}).json()["result"]
    token = snow_client.post("/oauth_token.do", data={
        "grant_type": "password", "client_id": entity["client_id"], "client_secret": secret,
        "username": "admin", "password": "admin"})
    assert token.status_code == 200, token.text
    refused = snow_client.post("/oauth_token.do", data={
        "grant_type": "password", "client_id": entity["client_id"],
        "client_secret": "pbkdf2_sha256$x", "username": "admin", "password": "admin"})
    assert refused.status_code == 401
