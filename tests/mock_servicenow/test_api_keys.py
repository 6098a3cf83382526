"""REST API keys (``x-sn-apikey``) and the REST API access policies that allow them (issue 18).

Set up the way ServiceNow's configure-api-key page and public setup scripts written against
real instances do it: an API key profile on the ``x-sn-apikey`` auth parameter, the "Table GET
API Access Policy" activated for all tables with that profile (and Basic) mapped, a key
created for a user through the Table API.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import requests
from flask import Flask

from mock_servicenow.app import create_app
from mock_servicenow.domain.identity import api_access
from mock_servicenow.pytest_plugin import IN_PROCESS_BASE_URL
from mock_servicenow.settings import Settings
from tests.mock_servicenow.auth_profile_helpers import (
    BASIC_PROFILE,
    TABLE_GET_POLICY,
    allow_api_keys,
    api_key_profile,
    create,
    map_profile,
    new_api_key,
    one,
    user_sys_id,
)
from tests.mock_servicenow.identity_helpers import form_field, make_user, update_user

NOT_AUTHENTICATED = {"error": {"message": "User Not Authenticated",
                               "detail": "Required to provide Auth information"},
                     "status": "failure"}


def refused(response: httpx.Response, challenge: str = 'BASIC realm="Service-now"') -> bool:
    """The platform's 401 envelope with its realm header (servicenow-behaviour §1.5)."""
    return (response.status_code == 401 and response.json() == NOT_AUTHENTICATED
            and response.headers["WWW-Authenticate"] == challenge)


def journal_user(client: httpx.Client) -> str | None:
    entries = client.get("/_emulator/journal", params={"limit": 5}).json()["entries"]
    return [e for e in entries if e["path"].startswith("/api/now/")][-1]["user"]


# -- creating a key -----------------------------------------------------------------------------

def test_a_key_created_through_the_table_api_shows_its_token_once(
        snow_admin: httpx.Client, snow_settings: Settings) -> None:
    sys_id, token = new_api_key(snow_admin, "abel.tuter")
    assert re.fullmatch(r"now_[A-Za-z0-9_-]{43}", token)
    stored = snow_admin.get(f"/api/now/table/api_key/{sys_id}").json()["result"]
    assert stored["token"] == ""
    assert stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert stored["user"]["value"] == user_sys_id(snow_admin, "abel.tuter")
    listed = snow_admin.get("/api/now/table/api_key", params={"sysparm_display_value": "all"})
    assert all(r["token"] == {"display_value": "", "value": ""}
               for r in listed.json()["result"])
    # Never stored in clear: not in the database file either.
    assert token.encode() not in Path(snow_settings.database_path).read_bytes()


def test_the_token_cannot_be_written_and_each_key_gets_its_own(snow_admin: httpx.Client) -> None:
    created = snow_admin.post("/api/now/table/api_key", json={
        "name": "mine", "user": user_sys_id(snow_admin, "abel.tuter"),
        "token": "now_chosen-by-the-caller", "token_hash": "0" * 64},
        params={"sysparm_display_value": "all"}).json()["result"]
    assert created["token"]["value"].startswith("now_")
    assert created["token"]["value"] != "now_chosen-by-the-caller"
    assert created["token_hash"]["value"] != "0" * 64
    _, other = new_api_key(snow_admin, "abel.tuter")
    assert other != created["token"]["value"]


def test_only_admins_create_or_read_keys(snow_admin: httpx.Client,
                                         snow_client: httpx.Client) -> None:
    new_api_key(snow_admin, "abel.tuter")
    itil = ("itil", "Itil-pw-1")
    snow_admin.patch(f"/api/now/table/sys_user/{user_sys_id(snow_admin, 'itil')}",
                     json={"user_password": itil[1]})
    answer = snow_client.post("/api/now/table/api_key", auth=itil, json={"name": "x"})
    assert answer.status_code == 403
    assert snow_client.get("/api/now/table/api_key", auth=itil).json()["result"] == []


# -- using a key --------------------------------------------------------------------------------

def test_a_key_authenticates_as_its_user_where_the_policy_allows_it(
        snow_admin: httpx.Client, snow_client: httpx.Client) -> None:
    allow_api_keys(snow_admin)
    _, token = new_api_key(snow_admin, "beth.anglin")
    answer = snow_client.get("/api/now/table/incident", params={"sysparm_limit": "2"},
                             headers={"x-sn-apikey": token})
    assert answer.status_code == 200 and len(answer.json()["result"]) == 2
    assert journal_user(snow_client) == "beth.anglin"
    # Basic is mapped too, so it keeps working on the policy's API.
    assert snow_admin.get("/api/now/table/incident?sysparm_limit=1").status_code == 200


def test_without_a_policy_a_key_is_refused(snow_admin: httpx.Client,
                                           snow_client: httpx.Client) -> None:
    _, token = new_api_key(snow_admin, "beth.anglin")
    assert refused(snow_client.get("/api/now/table/incident", headers={"x-sn-apikey": token}))
    # The default instance restricts nothing else.
    assert snow_admin.get("/api/now/table/incident?sysparm_limit=1").status_code == 200


@pytest.mark.parametrize("call", [
    ("POST", "/api/now/table/incident"),           # the policy covers GET only
    ("GET", "/api/now/stats/incident"),            # another API
    ("GET", "/api/now/v2/table/incident"),         # a version the policy names not
])
def test_a_key_on_an_api_its_policy_does_not_cover_is_refused(
        snow_admin: httpx.Client, snow_client: httpx.Client, call: tuple[str, str]) -> None:
    allow_api_keys(snow_admin, apply_all_versions="false", version="v1")
    _, token = new_api_key(snow_admin, "beth.anglin")
    assert snow_client.get("/api/now/v1/table/incident?sysparm_limit=1",
                           headers={"x-sn-apikey": token}).status_code == 200
    method, path = call
    assert refused(snow_client.request(method, path, headers={"x-sn-apikey": token},
                                       json={"short_description": "x"}))


def test_a_policy_for_some_tables_covers_only_those(snow_admin: httpx.Client,
                                                    snow_client: httpx.Client) -> None:
    allow_api_keys(snow_admin, apply_all_tables="false", api_tablename="incident,problem")
    _, token = new_api_key(snow_admin, "beth.anglin")
    key = {"x-sn-apikey": token}
    assert snow_client.get("/api/now/table/problem", headers=key).status_code == 200
    assert refused(snow_client.get("/api/now/table/change_request", headers=key))


def test_a_global_policy_never_allows_api_keys(snow_admin: httpx.Client,
                                               snow_client: httpx.Client) -> None:
    basic = one(snow_admin, "std_http_auth", f"name={BASIC_PROFILE}")["sys_id"]
    policy = create(snow_admin, "sys_api_access_policy", {
        "name": "Every REST API", "active": "true", "apply_global": "true",
        "apply_all_methods": "true"})
    map_profile(snow_admin, policy["sys_id"], basic)
    map_profile(snow_admin, policy["sys_id"], api_key_profile(snow_admin))
    _, token = new_api_key(snow_admin, "beth.anglin")
    assert refused(snow_client.get("/api/now/table/incident", headers={"x-sn-apikey": token}))
    assert snow_admin.get("/api/now/table/incident?sysparm_limit=1").status_code == 200


def test_the_query_parameter_needs_a_query_parameter_profile(
        snow_admin: httpx.Client, snow_client: httpx.Client) -> None:
    policy = allow_api_keys(snow_admin)
    _, token = new_api_key(snow_admin, "beth.anglin")
    by_query = {"x-sn-apikey": token, "sysparm_limit": "3"}
    assert refused(snow_client.get("/api/now/table/incident", params=by_query))
    map_profile(snow_admin, policy, api_key_profile(snow_admin, sent_as="query_param"))
    answer = snow_client.get("/api/now/table/incident", params=by_query)
    assert answer.status_code == 200 and len(answer.json()["result"]) == 3
    # The credential is no name=value filter, and the journal never holds it.
    total = snow_admin.get("/api/now/table/incident").headers["X-Total-Count"]
    assert answer.headers["X-Total-Count"] == total
    assert token not in snow_client.get("/_emulator/journal").text


def test_a_prefix_is_part_of_the_value(snow_admin: httpx.Client,
                                       snow_client: httpx.Client) -> None:
    allow_api_keys(snow_admin, prefix="Key ")
    _, token = new_api_key(snow_admin, "beth.anglin")
    assert refused(snow_client.get("/api/now/table/incident", headers={"x-sn-apikey": token}))
    assert snow_client.get("/api/now/table/incident?sysparm_limit=1",
                           headers={"x-sn-apikey": f"Key {token}"}).status_code == 200


@pytest.mark.parametrize("spoil", ["wrong key", "inactive key", "expired key", "no user",
                                   "inactive user", "locked-out user", "empty key"])
def test_wrong_inactive_and_expired_keys_get_the_401(
        snow_app: Flask, snow_admin: httpx.Client, snow_client: httpx.Client, spoil: str) -> None:
    allow_api_keys(snow_admin)
    make_user(snow_app, "key.user", "Key-user-1")
    sys_id, token = new_api_key(snow_admin, "key.user")
    user = user_sys_id(snow_admin, "key.user")
    key = {"x-sn-apikey": token}
    assert snow_client.get("/api/now/table/incident", headers=key).status_code == 200
    if spoil == "wrong key":
        key = {"x-sn-apikey": token[:-1] + ("A" if token[-1] != "A" else "B")}
    elif spoil == "empty key":
        key = {"x-sn-apikey": ""}
    elif spoil == "inactive key":
        snow_admin.patch(f"/api/now/table/api_key/{sys_id}", json={"active": "false"})
    elif spoil == "expired key":
        snow_admin.patch(f"/api/now/table/api_key/{sys_id}", json={
            "expires": "2030-01-01 00:00:00"})
        assert snow_client.get("/api/now/table/incident", headers=key).status_code == 200
        snow_client.post("/_emulator/clock", json={"action": "freeze",
                                                   "at": "2030-01-01 00:00:01"})
    elif spoil == "no user":
        snow_admin.patch(f"/api/now/table/api_key/{sys_id}", json={"user": ""})
    elif spoil == "inactive user":
        update_user(snow_app, user, active=0)
    else:
        update_user(snow_app, user, locked_out=1)
    assert refused(snow_client.get("/api/now/table/incident", headers=key))


def test_mapping_a_policy_locks_out_the_methods_it_does_not_map(
        snow_admin: httpx.Client, snow_client: httpx.Client) -> None:
    """ClosedSSPM's "CRITICAL" note: map the Basic profile too or Basic gets the 401."""
    oauth = one(snow_admin, "std_http_auth", "name=OAuth Token")["sys_id"]
    policy = allow_api_keys(snow_admin, map_basic=False)
    locked = snow_client.get("/api/now/table/incident", auth=("admin", "admin"))
    assert refused(locked)
    # Writes are not covered by the GET policy: the admin can still repair it.
    map_profile(snow_admin, policy, oauth)
    # The challenge names the most recently mapped standard profile (create-an-auth-profile).
    assert refused(snow_client.get("/api/now/table/incident", auth=("admin", "admin")),
                   'BEARER realm="Service-now"')
    assert snow_admin.patch(f"/api/now/table/sys_api_access_policy/{policy}",
                            json={"active": "false"}).status_code == 200
    assert snow_admin.get("/api/now/table/incident?sysparm_limit=1").status_code == 200


def test_keys_need_washington_dc(snow_settings: Settings) -> None:
    app = create_app(dataclasses.replace(snow_settings, release="vancouver"))
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=IN_PROCESS_BASE_URL,
                          auth=("admin", "admin")) as admin:
            allow_api_keys(admin)
            _, token = new_api_key(admin, "beth.anglin")
            admin.auth = None  # type: ignore[assignment]
            assert refused(admin.get("/api/now/table/incident", headers={"x-sn-apikey": token}))
    finally:
        app.extensions["mock_servicenow"].instance.close()


# -- a real client over a socket, and a real setup script's steps ------------------------------

def test_requests_with_the_header_over_a_real_socket(snow_server: str) -> None:
    """What ClosedSSPM's setup script does against a real instance, with ``requests``, then
    its own check: ``GET /api/now/table/sys_user`` with the key. One step moves: the script
    looks the Basic profile up (a Basic GET on the Table API) right after mapping the API
    key profile; here policies apply at once, so that GET would be refused and the lookup
    comes first (docs/identity.md)."""
    session = requests.Session()
    session.trust_env = False
    session.auth = ("admin", "admin")
    session.headers.update({"Accept": "application/json", "Content-Type": "application/json"})
    table = f"{snow_server}/api/now/table"
    policy = session.get(f"{table}/sys_api_access_policy", params={
        "sysparm_query": f"name={TABLE_GET_POLICY}",
        "sysparm_fields": "sys_id,name,active,apply_all_tables"}).json()["result"][0]
    assert policy["active"] == "false"
    session.patch(f"{table}/sys_api_access_policy/{policy['sys_id']}",
                  json={"active": "true", "apply_all_tables": "true"}).raise_for_status()
    parameter = session.get(f"{table}/sys_token_auth_parameter", params={
        "sysparm_query": "parameter_name=x-sn-apikey^type=auth_header",
        "sysparm_fields": "sys_id,parameter_name,type"}).json()["result"][0]
    profile = session.post(f"{table}/http_key_auth", json={
        "name": "ClosedSSPM API Key Auth", "auth_parameter": parameter["sys_id"],
        "active": "true", "auth_processor": "true", "sys_class_name": "http_key_auth",
    }).json()["result"]
    basic = session.get(f"{table}/std_http_auth", params={
        "sysparm_query": "nameLIKEBasicAuth for none public processors",
        "sysparm_fields": "sys_id,name"}).json()["result"][0]
    for mapped in (profile["sys_id"], basic["sys_id"]):
        session.post(f"{table}/sys_auth_profile_mapping", json={
            "api_access_policy": policy["sys_id"], "inbound_auth_profile": mapped,
        }).raise_for_status()
    user = session.get(f"{table}/sys_user", params={"sysparm_query": "user_name=admin",
                                                     "sysparm_fields": "sys_id"})
    # The script keeps its admin: keys work for admins (only the JWT grant refuses them).
    key = session.post(f"{table}/api_key", json={
        "name": "ClosedSSPM Audit Key", "user": user.json()["result"][0]["sys_id"],
        "active": "true", "expires": "2099-01-01 00:00:00"}).json()["result"]
    check = requests.get(f"{table}/sys_user", headers={
        "Accept": "application/json", "x-sn-apikey": key["token"]},
        params={"sysparm_limit": "1", "sysparm_fields": "user_name"})
    assert check.status_code == 200 and check.json()["result"][0]["user_name"]
    assert session.get(f"{table}/incident", params={"sysparm_limit": 1}).status_code == 200
    again = session.get(f"{table}/api_key", params={"sysparm_query": "name=ClosedSSPM Audit Key"})
    assert again.json()["result"][0]["token"] == ""


# -- the form page -------------------------------------------------------------------------------

@pytest.fixture
def browser(snow_app: Flask) -> Iterator[httpx.Client]:
    with httpx.Client(transport=httpx.WSGITransport(app=snow_app),
                      base_url=IN_PROCESS_BASE_URL) as client:
        yield client


def log_in(client: httpx.Client, user: str, password: str) -> None:
    page = client.get("/login.do")
    answer = client.post("/login.do", data={"user_name": user, "user_password": password,
                                            "sysparm_ck": form_field(page.text, "sysparm_ck")})
    assert answer.status_code == 302


def test_the_form_page_creates_a_key_and_shows_its_token_once(
        browser: httpx.Client, snow_admin: httpx.Client) -> None:
    assert browser.get("/api_key.do").status_code == 302
    log_in(browser, "admin", "admin")
    form = browser.get("/api_key.do")
    assert form.status_code == 200 and 'id="user"' in form.text
    ck = form_field(form.text, "sysparm_ck")
    created = browser.post("/api_key.do", data={"sysparm_ck": ck, "name": "From the form",
                                               "user": "beth.anglin", "active": "true"})
    assert created.status_code == 200
    token = re.search(r'id="api_key_token">([^<]+)<', created.text)
    assert token and token.group(1).startswith("now_")
    sys_id = re.search(r'data-sys-id="([0-9a-f]{32})"', created.text)
    assert sys_id
    shown = browser.get("/api_key.do", params={"sys_id": sys_id.group(1)})
    assert shown.status_code == 200 and 'id="token_hidden"' in shown.text
    assert token.group(1) not in shown.text
    allow_api_keys(snow_admin)
    assert browser.get("/api/now/table/incident?sysparm_limit=1",
                       headers={"x-sn-apikey": token.group(1)}).status_code == 200
    assert browser.post("/api_key.do", data={"sysparm_ck": ck, "name": "x",
                                             "user": "nobody.here"}).status_code == 400
    assert browser.post("/api_key.do", data={"sysparm_ck": "forged", "name": "x",
                                             "user": "beth.anglin"}).status_code == 403
    assert browser.get("/api_key.do", params={"sys_id": "0" * 32}).status_code == 404


def test_the_form_page_is_for_admins(snow_app: Flask, browser: httpx.Client) -> None:
    make_user(snow_app, "form.itil", "Form-itil-1", roles="itil")
    log_in(browser, "form.itil", "Form-itil-1")
    assert browser.get("/api_key.do").status_code == 403


# -- which policy governs a call (api-access-policy-prioritization) ----------------------------

def test_calls_are_described_as_policies_see_them() -> None:
    call = api_access.describe_call("/api/now/v2/table/incident/abc", "get", "Table API")
    assert call == api_access.RestCall(api="Table API", api_path="now/table", method="GET",
                                       version="v2", resource="/now/table/incident/abc",
                                       table="incident")
    plain = api_access.describe_call("/api/x_app/v1/thing/items", "POST", "x_app")
    assert (plain.api_path, plain.version, plain.table) == ("x_app/thing", "v1", None)


def test_a_specific_policy_beats_a_less_specific_one_and_any_global_one() -> None:
    call = api_access.describe_call("/api/now/v1/table/incident", "GET", "Table API")
    base = {"api": "Table API", "apply_all_tables": 1}
    ranked = {
        "global all": {"apply_global": 1, "apply_all_methods": 1},
        "global": {"apply_global": 1},
        "all": {**base, "apply_all": 1},
        "method": {**base, "http_method": "GET", "apply_all_resources": 1,
                   "apply_all_versions": 1},
        "resource+version": {**base, "api_resource": "/now/table/{tableName}", "version": "v1",
                             "apply_all_methods": 1},
        "all three": {**base, "http_method": "GET", "api_resource": "/now/table/{tableName}",
                      "version": "v1"},
    }
    ranks = {name: api_access.priority(policy, call) for name, policy in ranked.items()}
    assert ranks == {"global all": 9, "global": 8, "all": 7, "method": 6,
                     "resource+version": 3, "all three": 1}
    entries = [(dict(policy, name=name), ()) for name, policy in ranked.items()]
    chosen = api_access.applicable(entries, call)
    assert chosen is not None and chosen[0]["name"] == "all three"
    # Not this call's: other method, other resource, other API.
    for policy in ({**base, "http_method": "POST", "apply_all_resources": 1,
                    "apply_all_versions": 1},
                   {**base, "api_resource": "/now/table/{tableName}/{sys_id}",
                    "apply_all_methods": 1, "apply_all_versions": 1},
                   {"api": "Aggregate API", "apply_all": 1}):
        assert api_access.priority(policy, call) is None


def test_an_auth_parameter_given_by_its_name_is_resolved(snow_admin: httpx.Client,
                                                         snow_client: httpx.Client) -> None:
    """A setup script writes ``auth_parameter: "Header for API Key"`` (a display value)."""
    policy = one(snow_admin, "sys_api_access_policy", f"name={TABLE_GET_POLICY}")["sys_id"]
    basic = one(snow_admin, "std_http_auth", f"name={BASIC_PROFILE}")["sys_id"]
    profile = create(snow_admin, "http_key_auth", {"name": "API Key",
                                                   "auth_parameter": "Header for API Key"})
    snow_admin.patch(f"/api/now/table/sys_api_access_policy/{policy}",
                     json={"active": "true", "apply_all_tables": "true"})
    map_profile(snow_admin, policy, basic)
    map_profile(snow_admin, policy, profile["sys_id"])
    _, token = new_api_key(snow_admin, "beth.anglin")
    assert snow_client.get("/api/now/table/incident?sysparm_limit=1",
                           headers={"x-sn-apikey": token}).status_code == 200
