"""Table API access: authentication, role ACLs, ws_access, write-only passwords
(servicenow-behaviour §1.5, §5, §6, §10 items 2, 9, 10)."""

from __future__ import annotations

import httpx
import pytest
from flask import Flask

from mock_servicenow.dictionary.records import stable_sys_id
from tests.mock_servicenow.table_api_helpers import client_as, envelope, set_password

# Demo data (85-incidents.json): INC0000018, caller abel.tuter (sys_id derived from its number);
# INC0000002, caller fred.luddy (its published sys_id).
INC1 = stable_sys_id("incident", "INC0000018")
INC2 = "9d385017c611228701d22104cc95c371"


@pytest.mark.parametrize("auth", [None, ("admin", "wrong"), ("nobody", "x")])
@pytest.mark.parametrize("path", ["/api/now/table/incident", f"/api/now/v2/table/incident/{INC1}",
                                  "/api/now/stats/incident"])
def test_unauthenticated_is_401_with_realm(snow_client: httpx.Client,
                                           auth: tuple[str, str] | None, path: str) -> None:
    """§1.5: 401 User Not Authenticated / Required to provide Auth information +
    WWW-Authenticate: BASIC realm="Service-now"."""
    response = snow_client.get(path, auth=auth) if auth else snow_client.get(path)
    error = envelope(response, 401)
    assert error == {"message": "User Not Authenticated",
                     "detail": "Required to provide Auth information"}
    assert response.headers["WWW-Authenticate"] == 'BASIC realm="Service-now"'


@pytest.fixture
def abel(snow_app: Flask, snow_admin: httpx.Client) -> httpx.Client:
    """abel.tuter: no roles (an end user)."""
    set_password(snow_admin, "abel.tuter", "Abel-pw-1")
    return client_as(snow_app, "abel.tuter", "Abel-pw-1")


@pytest.fixture
def itil(snow_app: Flask, snow_admin: httpx.Client) -> httpx.Client:
    """The itil user (role itil)."""
    set_password(snow_admin, "itil", "Itil-pw-1")
    return client_as(snow_app, "itil", "Itil-pw-1")


def test_unreadable_row_is_404(abel: httpx.Client) -> None:
    """§1.5: a row hidden by ACL is 404 No Record found; the caller reads their own."""
    assert abel.get(f"/api/now/table/incident/{INC1}").status_code == 200
    error = envelope(abel.get(f"/api/now/table/incident/{INC2}"), 404)
    assert error["detail"] == "Record doesn't exist or ACL restricts the record retrieval"


def test_acl_filters_after_limit_and_total_counts_hidden_rows(abel: httpx.Client) -> None:
    """§1.2 / §10.10: sysparm_limit applies before ACLs: short pages, full X-Total-Count."""
    response = abel.get("/api/now/table/incident", params={"sysparm_limit": "5"})
    assert response.headers["X-Total-Count"] == "48"
    callers = {r["caller_id"]["value"] for r in response.json()["result"]}
    assert len(response.json()["result"]) < 5
    assert callers <= {"62826bf03710200044e0bfc8bcbe5df1"}


def test_itil_reads_and_writes_incidents(itil: httpx.Client) -> None:
    """§6: itil works incidents."""
    assert itil.get(f"/api/now/table/incident/{INC2}").status_code == 200
    response = itil.patch(f"/api/now/table/incident/{INC2}", json={"short_description": "x"})
    assert response.status_code == 200
    assert response.json()["result"]["sys_updated_by"] == "itil"


@pytest.mark.parametrize(("method", "path", "word"), [
    ("POST", "/api/now/table/sys_user_role", "Insert"),
    ("PATCH", f"/api/now/table/core_company/{stable_sys_id('core_company', 'ACME EMEA')}",
     "Update"),
    ("DELETE", f"/api/now/table/incident/{INC1}", "Delete"),
    ("POST", "/api/now/table/change_request", "Insert"),
])
def test_write_denials_are_403_operation_failed(abel: httpx.Client, method: str, path: str,
                                                word: str) -> None:
    """§1.5: ACL Exception <Insert|Update|Delete> Failed due to security constraints."""
    response = abel.request(method, path, json={"name": "x"} if method != "DELETE" else None)
    error = envelope(response, 403)
    assert error == {"message": "Operation Failed",
                     "detail": f"ACL Exception {word} Failed due to security constraints"}


def test_end_user_may_raise_an_incident(abel: httpx.Client) -> None:
    """Any user may create an incident (ESS); they are opened_by."""
    response = abel.post("/api/now/table/incident", json={"short_description": "help"})
    assert response.status_code == 201
    assert response.json()["result"]["opened_by"]["value"] == "62826bf03710200044e0bfc8bcbe5df1"


def test_ws_access_false_denies_rest_access(snow_admin: httpx.Client) -> None:
    """§5 / §10.9: REST access gated by sys_db_object.ws_access, read at request time."""
    found = snow_admin.get("/api/now/table/sys_db_object",
                           params={"sysparm_fields": "sys_id,name,ws_access"}).json()["result"]
    row = next(r for r in found if r["name"] == "core_company")
    assert row["ws_access"] == "true"
    changed = snow_admin.patch(f"/api/now/table/sys_db_object/{row['sys_id']}",
                               json={"ws_access": "false"})
    assert changed.status_code == 200
    error = envelope(snow_admin.get("/api/now/table/core_company"), 403)
    assert error == {"message": "User Not Authorized", "detail": "Failed API level ACL Validation"}
    assert snow_admin.post("/api/now/table/core_company", json={}).status_code == 403
    assert snow_admin.get("/api/now/stats/core_company",
                          params={"sysparm_count": "true"}).status_code == 403
    snow_admin.patch(f"/api/now/table/sys_db_object/{row['sys_id']}", json={"ws_access": "true"})
    assert snow_admin.get("/api/now/table/core_company").status_code == 200


def test_password_fields_are_never_returned(snow_app: Flask, snow_admin: httpx.Client) -> None:
    """§6: user_password is write-only (stored hashed); password2 secrets are not echoed."""
    user = snow_admin.post("/api/now/table/sys_user", json={
        "user_name": "svc.integration", "user_password": "S3cret-Value!"})
    assert user.status_code == 201
    assert user.json()["result"]["user_password"] == ""
    assert "S3cret-Value!" not in user.text
    db = snow_app.extensions["mock_servicenow"].instance.connect()
    try:
        stored = db.execute("SELECT user_password FROM sys_user WHERE user_name = ?",
                            ["svc.integration"]).fetchone()[0]
    finally:
        db.close()
    assert stored.startswith("pbkdf2_sha256$") and "S3cret-Value!" not in stored
    # The hash works for Basic auth.
    as_user = client_as(snow_app, "svc.integration", "S3cret-Value!")
    assert as_user.get("/api/now/table/sys_user", params={"sysparm_limit": "1"}).status_code == 200
    for mode in ("false", "true", "all"):
        listed = snow_admin.get("/api/now/table/sys_user", params={
            "sysparm_display_value": mode, "user_name": "admin"}).text
        assert "pbkdf2" not in listed
    entity = snow_admin.post("/api/now/table/oauth_entity",
                             json={"name": "app", "client_secret": "very-secret-value"})
    assert entity.status_code == 201 and "very-secret-value" not in entity.text
    assert entity.json()["result"]["client_secret"] == ""


def test_aggregate_without_read_rights_is_403(abel: httpx.Client) -> None:
    """§3 (KB0744425): Insufficient rights to query records / No permission to read table."""
    error = envelope(abel.get("/api/now/stats/sys_properties", params={"sysparm_count": "true"}),
                     403)
    assert error == {"message": "Insufficient rights to query records",
                     "detail": "No permission to read table 'sys_properties'"}


@pytest.mark.parametrize("query", ["user_passwordSTARTSWITHpbkdf2", "user_password=x^ORactive=true",
                                   "active=true^NQuser_passwordISNOTEMPTY"])
def test_query_on_password_field_is_403(snow_admin: httpx.Client, query: str) -> None:
    """§1.2 / §1.5: a query on a field that may not be read -> 403 Insufficient rights to query
    records; password fields are write-only (§6), so nobody may filter on them."""
    response = snow_admin.get("/api/now/table/sys_user", params={"sysparm_query": query})
    assert envelope(response, 403) == {
        "message": "Insufficient rights to query records",
        "detail": "Field(s) present in the query do not have permission to be read"}
    walked = snow_admin.get("/api/now/table/incident",
                            params={"sysparm_query": "caller_id.user_passwordISNOTEMPTY"})
    assert envelope(walked, 403)["message"] == "Insufficient rights to query records"
