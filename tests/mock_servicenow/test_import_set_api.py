"""The Import Set API (issue 14 item 3): ``/api/now/import/{staging table}``.

Source: the Import Set API reference (ServiceNowDocs ``api-reference/rest-apis/c_ImportSetAPI.md``),
servicenow-behaviour §9.3, and the import set pages cited in ``domain/import_sets``. The demo
instance ships the Notification staging table (``imp_notification``) and its transform map
into ``incident`` (coalescing on ``uuid`` -> ``correlation_id``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import httpx
import pytest
from flask import Flask

from mock_servicenow.app import create_app
from mock_servicenow.domain.import_sets import loading
from mock_servicenow.settings import Settings
from mock_servicenow.store import rows
from tests.mock_servicenow.import_set_helpers import (
    DOCUMENTED_KEYS,
    NOTIFICATION,
    create_map,
    create_staging_table,
    incidents,
    notification_entry,
    notification_map,
    patch,
    staging_rows,
    user_with_roles,
)
from tests.mock_servicenow.table_api_helpers import domain_context, envelope

ISET = re.compile(r"^ISET\d{7}$")


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One instance for the tests that only look (bad input, authentication)."""
    directory = tmp_path_factory.mktemp("import-set-shared")
    app = create_app(Settings(
        database_path=str(directory / "instance.db"), home=directory, admin_password="admin",
        password_hash_iterations=1000, secret_key="import-set", random_seed=14))
    yield app
    app.extensions["mock_servicenow"].instance.close()


@pytest.fixture
def shared_admin(shared_app: Flask) -> Iterator[httpx.Client]:
    """``shared_app`` as admin."""
    with _admin(shared_app) as client:
        yield client


def _only(response: httpx.Response, status: int = 201) -> dict[str, str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"import_set", "staging_table", "result"}
    assert len(body["result"]) == 1, body
    return body["result"][0]  # type: ignore[no-any-return]


# -- single-row insert ----------------------------------------------------------------------

def test_insert_answers_the_documented_shape_and_creates_the_incident(
        snow_admin: httpx.Client) -> None:
    """201 with import_set (ISET number), staging_table and, per transform map, exactly the
    seven documented keys; the record link reads the incident back (c_ImportSetAPI.md)."""
    response = snow_admin.post(NOTIFICATION, json={
        "uuid": "alert-1", "message": "Host 198.10.10.210 is down", "category": "network",
        "severity": "1", "assignment_group": "Network", "comments": "from the monitor"})
    body = response.json()
    assert ISET.match(body["import_set"]) and body["staging_table"] == "imp_notification"
    entry = _only(response)
    assert set(entry) == DOCUMENTED_KEYS
    assert entry["transform_map"] == "Notification" and entry["table"] == "incident"
    assert entry["status"] == "inserted" and entry["display_name"] == "number"
    assert re.match(r"^INC\d{7}$", entry["display_value"])
    assert entry["record_link"] == (
        f"https://dev00000.service-now.test/api/now/table/incident/{entry['sys_id']}")
    incident = snow_admin.get(entry["record_link"], params={
        "sysparm_display_value": "true",
        "sysparm_fields": "number,short_description,correlation_id,category,severity,"
                          "assignment_group,comments,sys_created_by"}).json()["result"]
    assert incident["number"] == entry["display_value"]
    assert incident["short_description"] == "Host 198.10.10.210 is down"
    assert incident["correlation_id"] == "alert-1"
    assert incident["category"] == "Network" and incident["severity"] == "1 - High"
    assert incident["assignment_group"]["display_value"] == "Network"
    assert "from the monitor" in incident["comments"]
    assert incident["sys_created_by"] == "admin"


def test_staging_row_and_import_set_records_are_kept(snow_admin: httpx.Client) -> None:
    """The staging row holds the values as sent, its state, target and transform map; the
    import set is Synchronous/Loading; one Transform History (sys_import_set_run) per run."""
    entry = _only(snow_admin.post(NOTIFICATION, json={
        "uuid": "kept-1", "message": "disk full", "corrective_message": "clean /var"}))
    row = staging_rows(snow_admin, "imp_notification", "uuid=kept-1",
                       "sys_id,sys_import_state,sys_target_table,sys_target_sys_id,"
                       "sys_transform_map,sys_import_set,sys_import_row,corrective_message,"
                       "import_set_run")[0]
    assert row["sys_import_state"] == "inserted" and row["sys_target_table"] == "incident"
    assert row["sys_target_sys_id"] == entry["sys_id"]
    assert row["corrective_message"] == "clean /var"  # unmapped: staged, not transformed
    import_set = snow_admin.get(f"/api/now/table/sys_import_set/{row['sys_import_set']['value']}",
                                ).json()["result"]
    assert (import_set["mode"], import_set["state"], import_set["table_name"]) == (
        "synchronous", "loading", "imp_notification")
    run = snow_admin.get(f"/api/now/table/sys_import_set_run/{row['import_set_run']['value']}",
                         ).json()["result"]
    assert (run["state"], run["total"], run["inserts"], run["errors"]) == (
        "complete", "1", "1", "0")
    assert run["sys_transform_map"]["value"] == row["sys_transform_map"]["value"]


def test_inserts_of_a_day_share_an_import_set_until_midnight(
        snow_admin: httpx.Client) -> None:
    """Web service import set mode: inserts join the Loading synchronous set; at midnight it
    becomes Processed and the next insert starts a new one; rows count from zero."""
    clock = snow_admin.post("/_emulator/clock",
                            json={"action": "freeze", "at": "2026-10-01 09:00:00"})
    assert clock.status_code == 200, clock.text
    first = snow_admin.post(NOTIFICATION, json={"uuid": "day-1"}).json()["import_set"]
    second = snow_admin.post(NOTIFICATION, json={"uuid": "day-2"}).json()["import_set"]
    assert first == second
    rows = staging_rows(snow_admin, "imp_notification", "uuidSTARTSWITHday-",
                        "uuid,sys_import_row")
    assert [r["sys_import_row"] for r in rows] == ["0", "1"]
    snow_admin.post("/_emulator/clock", json={"action": "advance", "seconds": 86400})
    third = snow_admin.post(NOTIFICATION, json={"uuid": "day-3"}).json()["import_set"]
    assert third != first and ISET.match(third)
    sets = snow_admin.get("/api/now/table/sys_import_set", params={
        "sysparm_query": f"number={first}", "sysparm_fields": "state"}).json()["result"]
    assert sets == [{"state": "processed"}]


def test_coalesce_updates_then_ignores_an_unchanged_row(snow_admin: httpx.Client) -> None:
    """A matching coalesce value updates the incident; the same values again are ignored
    with status_message "No field values changed" (r_ImportSetMode.md)."""
    inserted = _only(snow_admin.post(NOTIFICATION, json={"uuid": "co-1", "message": "one"}))
    updated = _only(snow_admin.post(NOTIFICATION, json={"uuid": "co-1", "message": "two"}))
    assert updated["status"] == "updated" and updated["sys_id"] == inserted["sys_id"]
    assert set(updated) == DOCUMENTED_KEYS
    ignored = _only(snow_admin.post(NOTIFICATION, json={"uuid": "co-1", "message": "two"}))
    assert ignored["status"] == "ignored" and ignored["sys_id"] == inserted["sys_id"]
    assert ignored["status_message"] == "No field values changed"
    assert set(ignored) == DOCUMENTED_KEYS | {"status_message"}
    found = incidents(snow_admin, "co-1", "short_description,sys_mod_count")
    assert found == [{"short_description": "two", "sys_mod_count": "1"}]


def test_coalesce_ignores_case_unless_the_field_map_says_so(snow_admin: httpx.Client) -> None:
    """Coalesce values match case-insensitively by default; Coalesce case sensitive makes a
    differently cased value a new record (c_ImportSetCoalesce.md)."""
    first = _only(snow_admin.post(NOTIFICATION, json={"uuid": "CaSe-1", "message": "a"}))
    again = _only(snow_admin.post(NOTIFICATION, json={"uuid": "case-1", "message": "b"}))
    assert again["sys_id"] == first["sys_id"] and again["status"] == "updated"
    patch(snow_admin, "sys_transform_entry", notification_entry(snow_admin, "correlation_id"),
          coalesce_case_sensitive="true")
    other = _only(snow_admin.post(NOTIFICATION, json={"uuid": "CASE-1", "message": "c"}))
    assert other["status"] == "inserted" and other["sys_id"] != first["sys_id"]


def test_missing_coalesce_value_skips_the_row(snow_admin: httpx.Client) -> None:
    """No coalesce value: skipped, the sys_id is the staging row's (r_InsertMultiple.md), the
    row's error says so; with 'Create new record on empty coalesce fields' it inserts."""
    response = snow_admin.post(NOTIFICATION, json={"message": "no uuid"})
    entry = _only(response)
    assert entry["status"] == "skipped"
    assert entry["status_message"] == (
        "Unable to resolve target record, coalesce values not present: [correlation_id]")
    row = snow_admin.get(f"/api/now/table/imp_notification/{entry['sys_id']}", params={
        "sysparm_display_value": "true",
        "sysparm_fields": "sys_import_state,sys_row_error,message"}).json()["result"]
    assert row["message"] == "no uuid" and row["sys_import_state"] == "Skipped"
    assert row["sys_row_error"]["display_value"] == entry["status_message"]
    patch(snow_admin, "sys_transform_map", notification_map(snow_admin),
          create_new_record_on_empty_coalesce_fields="true")
    assert _only(snow_admin.post(NOTIFICATION, json={"message": "no uuid"}))["status"] == \
        "inserted"


def test_reference_values_are_looked_up_created_ignored_or_rejected(
        snow_admin: httpx.Client) -> None:
    """A reference source value matches the referenced table's display value (or a sys_id);
    a missing one follows the Choice action: create, ignore, reject (t_CreatingAFieldMap.md)."""
    existing = _only(snow_admin.post(NOTIFICATION, json={"uuid": "ref-1",
                                                        "assignment_group": "network"}))
    group = snow_admin.get(f"/api/now/table/incident/{existing['sys_id']}", params={
        "sysparm_display_value": "true", "sysparm_fields": "assignment_group"}).json()
    assert group["result"]["assignment_group"]["display_value"] == "Network"
    created = _only(snow_admin.post(NOTIFICATION, json={"uuid": "ref-2",
                                                       "assignment_group": "NOC Tier 9"}))
    made = snow_admin.get("/api/now/table/sys_user_group",
                          params={"sysparm_query": "name=NOC Tier 9"}).json()["result"]
    assert len(made) == 1
    assert incidents(snow_admin, "ref-2", "assignment_group")[0]["assignment_group"][
        "value"] == made[0]["sys_id"] == _group_of(snow_admin, created["sys_id"])
    by_id = _only(snow_admin.post(NOTIFICATION, json={"uuid": "ref-3",
                                                     "assignment_group": made[0]["sys_id"]}))
    assert _group_of(snow_admin, by_id["sys_id"]) == made[0]["sys_id"]
    entry = notification_entry(snow_admin, "assignment_group")
    patch(snow_admin, "sys_transform_entry", entry, choice_action="ignore")
    ignored = _only(snow_admin.post(NOTIFICATION, json={"uuid": "ref-4",
                                                       "assignment_group": "Nobody's"}))
    assert ignored["status"] == "inserted" and _group_of(snow_admin, ignored["sys_id"]) == ""
    patch(snow_admin, "sys_transform_entry", entry, choice_action="reject")
    rejected = _only(snow_admin.post(NOTIFICATION, json={"uuid": "ref-5",
                                                        "assignment_group": "Nobody's"}))
    assert rejected["status"] == "skipped"
    assert rejected["status_message"] == "Reference field value rejected"
    assert incidents(snow_admin, "ref-5") == []
    assert snow_admin.get("/api/now/table/sys_user_group", params={
        "sysparm_query": "name=Nobody's"}).json()["result"] == []


def test_referenced_value_field_name_picks_the_lookup_column(snow_admin: httpx.Client) -> None:
    """'Referenced value field name' matches another column of the referenced table."""
    create_staging_table(snow_admin, "u_imp_caller", {"u_key": "Key", "u_caller": "Caller"})
    create_map(snow_admin, "Callers", "u_imp_caller", "incident", [
        {"source_field": "u_key", "target_field": "correlation_id", "coalesce": "true"},
        {"source_field": "u_caller", "target_field": "caller_id",
         "reference_value_field": "user_name", "choice_action": "ignore"}])
    entry = _only(snow_admin.post("/api/now/import/u_imp_caller",
                                  json={"u_key": "caller-1", "u_caller": "abel.tuter"}))
    caller = snow_admin.get(f"/api/now/table/incident/{entry['sys_id']}", params={
        "sysparm_display_value": "true", "sysparm_fields": "caller_id"}).json()["result"]
    assert caller["caller_id"]["display_value"] == "Abel Tuter"


def _group_of(admin: httpx.Client, incident: str) -> str:
    value = admin.get(f"/api/now/table/incident/{incident}",
                      params={"sysparm_fields": "assignment_group"}).json()["result"]
    group = value["assignment_group"]
    return "" if group == "" else str(group["value"])


def test_choice_values_labels_new_choices_and_rejects(snow_admin: httpx.Client) -> None:
    """Choice fields take a value or a label; an unknown value creates a choice (the
    Notification map's default) or, with reject, skips the row."""
    by_label = _only(snow_admin.post(NOTIFICATION, json={"uuid": "ch-1", "category": "Hardware",
                                                        "state": "In Progress"}))
    assert incidents(snow_admin, "ch-1", "category")[0]["category"] == "hardware"
    assert by_label["status"] == "inserted"
    _only(snow_admin.post(NOTIFICATION, json={"uuid": "ch-2", "category": "telemetry"}))
    choice = snow_admin.get("/api/now/table/sys_choice", params={
        "sysparm_query": "name=incident^element=category^value=telemetry",
        "sysparm_fields": "label"}).json()["result"]
    assert choice == [{"label": "telemetry"}]
    assert incidents(snow_admin, "ch-2", "category")[0]["category"] == "telemetry"
    patch(snow_admin, "sys_transform_entry", notification_entry(snow_admin, "category"),
          choice_action="reject")
    rejected = _only(snow_admin.post(NOTIFICATION, json={"uuid": "ch-3", "category": "unheard"}))
    assert (rejected["status"], rejected["status_message"]) == (
        "skipped", "Choice field value rejected")


def test_empty_values_keep_the_target_unless_copy_empty_fields(
        snow_admin: httpx.Client) -> None:
    """Empty source values do not overwrite target values unless the map copies empty
    fields; the reserved value NULL always clears (t_CreateATransformMap.md)."""
    _only(snow_admin.post(NOTIFICATION, json={"uuid": "em-1", "message": "kept",
                                              "category": "network"}))
    same = _only(snow_admin.post(NOTIFICATION, json={"uuid": "em-1", "message": ""}))
    assert same["status"] == "ignored"
    assert incidents(snow_admin, "em-1", "short_description")[0]["short_description"] == "kept"
    cleared = _only(snow_admin.post(NOTIFICATION, json={"uuid": "em-1", "message": "NULL"}))
    assert cleared["status"] == "updated"
    assert incidents(snow_admin, "em-1", "short_description")[0]["short_description"] == ""
    patch(snow_admin, "sys_transform_map", notification_map(snow_admin),
          copy_empty_fields="true")
    _only(snow_admin.post(NOTIFICATION, json={"uuid": "em-1", "category": ""}))
    assert incidents(snow_admin, "em-1", "category")[0]["category"] == ""


def test_values_are_taken_as_strings(snow_admin: httpx.Client) -> None:
    """'accepts only name-value pairs of String data types': other JSON types are stored as
    their text, the ':' of a nested object becoming '='; unknown names are ignored; values
    longer than the column are cut to it."""
    entry = _only(snow_admin.post(NOTIFICATION, json={
        "uuid": "str-1", "message": {"host": "db1", "up": False}, "severity": 2,
        "type": True, "duration": [1, "x"], "no_such_column": "dropped",
        "corrective_message": "y" * 100}))
    row = staging_rows(snow_admin, "imp_notification", "uuid=str-1",
                       "message,severity,type,duration,corrective_message")[0]
    assert row == {"message": "{host=db1, up=false}", "severity": "2", "type": "true",
                   "duration": "[1, x]", "corrective_message": "y" * 40}
    assert incidents(snow_admin, "str-1", "severity")[0]["severity"] == "2"
    assert entry["status"] == "inserted"


def test_transform_errors_are_answered_per_row(snow_admin: httpx.Client) -> None:
    """A target write the platform refuses (here the incident resolve data policy, §7.3) is
    status error with its message; the incident is unchanged."""
    _only(snow_admin.post(NOTIFICATION, json={"uuid": "err-1", "message": "x"}))
    failed = snow_admin.post(NOTIFICATION, json={"uuid": "err-1", "state": "Resolved"})
    entry = _only(failed)
    assert entry == {
        "transform_map": "Notification", "table": "incident", "status": "error",
        "error_message": "Data Policy Exception: \n\tThe following fields are mandatory: "
                         "Resolution code, Close notes",
        "status_message": "Data Policy Exception: \n\tThe following fields are mandatory: "
                          "Resolution code, Close notes"}
    assert incidents(snow_admin, "err-1", "state")[0]["state"] == "1"
    runs = snow_admin.get("/api/now/table/sys_import_set_run", params={
        "sysparm_query": "errors=1", "sysparm_fields": "state"}).json()["result"]
    assert runs == [{"state": "complete_with_errors"}]


def test_no_active_transform_map_stages_the_row_only(snow_admin: httpx.Client) -> None:
    """Without an active map nothing is transformed: an empty result, the row pending."""
    patch(snow_admin, "sys_transform_map", notification_map(snow_admin), active="false")
    response = snow_admin.post(NOTIFICATION, json={"uuid": "idle-1"})
    assert response.status_code == 201 and response.json()["result"] == []
    assert staging_rows(snow_admin, "imp_notification", "uuid=idle-1",
                        "sys_import_state") == [{"sys_import_state": "pending"}]


def test_versioned_path_links_with_its_version(snow_admin: httpx.Client) -> None:
    """``/api/now/v1/import``; record links keep the request's version (§10 item 8)."""
    entry = _only(snow_admin.post("/api/now/v1/import/imp_notification", json={"uuid": "v1-1"}))
    assert "/api/now/v1/table/incident/" in entry["record_link"]


# -- reading a result -----------------------------------------------------------------------

def test_get_reads_a_rows_result_and_404s_once_it_is_gone(snow_admin: httpx.Client) -> None:
    """GET answers what the insert answered; 404 when the row is gone ('import set tables
    are deleted frequently')."""
    posted = snow_admin.post(NOTIFICATION, json={"uuid": "get-1", "message": "m"}).json()
    row = staging_rows(snow_admin, "imp_notification", "uuid=get-1")[0]["sys_id"]
    read = snow_admin.get(f"{NOTIFICATION}/{row}")
    assert read.status_code == 200 and read.json() == posted
    skipped = snow_admin.post(NOTIFICATION, json={"message": "none"}).json()
    again = snow_admin.get(f"{NOTIFICATION}/{skipped['result'][0]['sys_id']}").json()
    assert again["result"][0]["status"] == "skipped"
    assert again["result"][0]["status_message"] == skipped["result"][0]["status_message"]
    assert snow_admin.delete(f"/api/now/table/imp_notification/{row}").status_code == 204
    assert envelope(snow_admin.get(f"{NOTIFICATION}/{row}"), 404)["message"] == \
        "No Record found"


# -- insertMultiple -------------------------------------------------------------------------

def test_insert_multiple_keys_by_label_and_transforms_after_answering(
        snow_admin: httpx.Client) -> None:
    """201 {import_set_id, multi_import_set_id}; records keyed by column label; a new
    Asynchronous import set, transformed once the answer has been sent."""
    response = snow_admin.post(f"{NOTIFICATION}/insertMultiple", json={"records": [
        {"UUID": "mul-1", "Message": "one"}, {"UUID": "mul-2", "Message": "two"},
        {"UUID": "mul-1", "Message": "one again"}, {"uuid": "mul-3", "message": "by name"}]})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"import_set_id", "multi_import_set_id"}
    import_set = snow_admin.get(f"/api/now/table/sys_import_set/{body['import_set_id']}",
                                ).json()["result"]
    assert (import_set["mode"], import_set["state"]) == ("asynchronous", "processed")
    assert import_set["multi_import_set"]["value"] == body["multi_import_set_id"]
    rows = staging_rows(snow_admin, "imp_notification",
                        f"sys_import_set={body['import_set_id']}",
                        "uuid,message,sys_import_state,sys_import_row")
    assert [(r["uuid"], r["sys_import_state"]) for r in rows] == [
        ("mul-1", "inserted"), ("mul-2", "inserted"), ("mul-1", "updated"), ("", "skipped")]
    assert rows[3]["message"] == ""  # keyed by name, not label: not a column
    assert incidents(snow_admin, "mul-1", "short_description") == [
        {"short_description": "one again"}]


def test_insert_multiple_is_asynchronous_until_the_scheduled_run(snow_app: Flask) -> None:
    """The domain use case answers with the set Loaded and its rows Pending; the run that
    follows the answer (run_pending) transforms each set exactly once."""
    with domain_context(snow_app, "v1") as ctx:
        load = loading.insert_multiple(ctx, "imp_notification", [
            {"UUID": "async-1"}, {"UUID": "async-2"}])
        assert load.pending
        import_set = rows.get(ctx.db, ctx.dictionary, "sys_import_set", load.import_set_id)
        assert import_set is not None and import_set["state"] == "loaded"
        staged = rows.find_by(ctx.db, ctx.dictionary, "imp_notification",
                              sys_import_set=load.import_set_id)
        assert sorted(r["sys_import_state"] for r in staged) == ["pending", "pending"]
        assert rows.find_by(ctx.db, ctx.dictionary, "incident", correlation_id="async-1") == []
        assert loading.run_pending(ctx) == 1
        assert loading.run_pending(ctx) == 0
        result = loading.import_result(ctx, "imp_notification", str(staged[0]["sys_id"]))
        assert [o.status for o in result.outcomes] == ["inserted"]
        assert len(rows.find_by(ctx.db, ctx.dictionary, "incident",
                                correlation_id="async-2")) == 1


def test_insert_multiple_synchronous_by_column_name_when_configured(
        snow_admin: httpx.Client) -> None:
    """A REST Insert Multiple record: transformation Synchronous, column mapping by name."""
    setting = snow_admin.post("/api/now/table/sys_rest_insert_multiple", json={
        "source_table": "imp_notification", "transformation": "synchronous",
        "column_mapping": "name"})
    assert setting.status_code == 201, setting.text
    body = snow_admin.post(f"{NOTIFICATION}/insertMultiple", json={"records": [
        {"uuid": "syn-1", "message": "named"}]}).json()
    import_set = snow_admin.get(f"/api/now/table/sys_import_set/{body['import_set_id']}",
                                ).json()["result"]
    assert (import_set["mode"], import_set["state"]) == ("synchronous", "processed")
    assert incidents(snow_admin, "syn-1", "short_description") == [
        {"short_description": "named"}]


def test_multi_import_set_id_groups_and_run_after_waits(snow_admin: httpx.Client,
                                                        snow_app: Flask) -> None:
    """multi_import_set_id adds the import to that multi import set; run_after holds a set
    until the named one is done (c_ImportSetAPI.md)."""
    first = snow_admin.post(f"{NOTIFICATION}/insertMultiple",
                            json={"records": [{"UUID": "grp-1"}]}).json()
    second = snow_admin.post(f"{NOTIFICATION}/insertMultiple",
                             params={"multi_import_set_id": first["multi_import_set_id"]},
                             json={"records": [{"UUID": "grp-2"}]}).json()
    assert second["multi_import_set_id"] == first["multi_import_set_id"]
    assert second["import_set_id"] != first["import_set_id"]
    # A set still Loading (a synchronous one) holds a set that runs after it.
    loading_set = snow_admin.post(NOTIFICATION, json={"uuid": "grp-3"}).json()["import_set"]
    held_on = snow_admin.get("/api/now/table/sys_import_set", params={
        "sysparm_query": f"number={loading_set}"}).json()["result"][0]["sys_id"]
    held = snow_admin.post(f"{NOTIFICATION}/insertMultiple", params={"run_after": held_on},
                           json={"records": [{"UUID": "grp-4"}]}).json()
    state = snow_admin.get(f"/api/now/table/sys_import_set/{held['import_set_id']}",
                           ).json()["result"]["state"]
    assert state == "loaded" and incidents(snow_admin, "grp-4") == []
    patch(snow_admin, "sys_import_set", held_on, state="processed")
    snow_admin.get(f"{NOTIFICATION}/{'0' * 32}")  # any Import Set API call runs what is due
    assert len(incidents(snow_admin, "grp-4")) == 1


# -- staging tables created at runtime ------------------------------------------------------

def test_an_admin_creates_a_staging_table_and_map_at_runtime(snow_admin: httpx.Client) -> None:
    """A table extending sys_import_set_row, its columns and a transform map into sys_user,
    all through the Table API: the Import Set API serves it (insert, coalesce, labels)."""
    create_staging_table(snow_admin, "u_imp_hr_employee", {
        "u_employee_id": "Employee ID", "u_first_name": "First name",
        "u_last_name": "Last name", "u_department": "Department"})
    create_map(snow_admin, "HR employees", "u_imp_hr_employee", "sys_user", [
        {"source_field": "u_employee_id", "target_field": "user_name", "coalesce": "true"},
        {"source_field": "u_first_name", "target_field": "first_name"},
        {"source_field": "u_last_name", "target_field": "last_name"},
        {"source_field": "u_department", "target_field": "department",
         "choice_action": "ignore"}])
    entry = _only(snow_admin.post("/api/now/import/u_imp_hr_employee", json={
        "u_employee_id": "E1001", "u_first_name": "Ada", "u_last_name": "Lovelace",
        "u_department": "nowhere"}))
    assert (entry["table"], entry["status"], entry["display_name"]) == (
        "sys_user", "inserted", "name")
    body = snow_admin.post("/api/now/import/u_imp_hr_employee/insertMultiple", json={
        "records": [{"Employee ID": "e1001", "Last name": "King"}]}).json()
    row = staging_rows(snow_admin, "u_imp_hr_employee",
                       f"sys_import_set={body['import_set_id']}", "sys_import_state")
    assert row == [{"sys_import_state": "updated"}]
    users = snow_admin.get("/api/now/table/sys_user", params={
        "sysparm_query": "user_name=e1001", "sysparm_fields": "first_name,last_name"})
    assert users.json()["result"] == [{"first_name": "Ada", "last_name": "King"}]


# -- access ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [
    ("POST", NOTIFICATION), ("POST", f"{NOTIFICATION}/insertMultiple"),
    ("GET", f"{NOTIFICATION}/{'0' * 32}")])
def test_unauthenticated_is_401(shared_app: Flask, method: str, path: str) -> None:
    """§1.5: 401 User Not Authenticated with the realm header."""
    with httpx.Client(transport=httpx.WSGITransport(app=shared_app),
                      base_url="https://dev00000.service-now.test") as client:
        response = client.request(method, path, json={"records": []})
    assert envelope(response, 401)["message"] == "User Not Authenticated"
    assert response.headers["WWW-Authenticate"] == 'BASIC realm="Service-now"'


def test_a_user_without_import_roles_is_denied(snow_app: Flask,
                                               snow_admin: httpx.Client) -> None:
    """No import role: the staging table's ACL refuses the insert (403, §1.5) and hides rows
    (404); itil does not help."""
    staged = _only(snow_admin.post(NOTIFICATION, json={"message": "admin only"}))["sys_id"]
    for user, roles in (("nobody.import", ()), ("itil.import", ("itil",))):
        client = user_with_roles(snow_app, snow_admin, user, *roles)
        for path, body in ((NOTIFICATION, {"uuid": "denied"}),
                           (f"{NOTIFICATION}/insertMultiple", {"records": [{"UUID": "d"}]})):
            error = envelope(client.post(path, json=body), 403)
            assert error == {"message": "Operation Failed",
                             "detail": "ACL Exception Insert Failed due to security constraints"}
        assert envelope(client.get(f"{NOTIFICATION}/{staged}"), 404)["message"] == \
            "No Record found"
        refused = client.post("/api/now/table/sys_transform_map", json={"name": "mine"})
        assert refused.status_code == 403
    assert incidents(snow_admin, "denied") == []


@pytest.mark.parametrize("role", ["import_transformer", "import_set_loader", "import_admin"])
def test_an_import_role_is_all_the_api_needs(snow_app: Flask, snow_admin: httpx.Client,
                                             role: str) -> None:
    """With only an import role (no itil), the caller loads rows and the transform creates
    the incident server-side; the incident is stamped with the caller."""
    client = user_with_roles(snow_app, snow_admin, f"loader.{role}", role)
    entry = _only(client.post(NOTIFICATION, json={"uuid": f"role-{role}", "message": "m"}))
    assert entry["status"] == "inserted"
    assert client.get(f"{NOTIFICATION}/{staging_rows(snow_admin, 'imp_notification', f'uuid=role-{role}')[0]['sys_id']}").status_code == 200  # noqa: E501
    assert incidents(snow_admin, f"role-{role}", "sys_created_by") == [
        {"sys_created_by": f"loader.{role}"}]
    # The role gives nothing on task tables: a change needs itil (the Table API's 403).
    assert client.post("/api/now/table/change_request", json={}).status_code == 403


def test_transform_maps_are_data_an_import_transformer_creates(
        snow_app: Flask, snow_admin: httpx.Client) -> None:
    """'Role required: import_transformer, import_admin, or admin' (t_CreateATransformMap.md)."""
    client = user_with_roles(snow_app, snow_admin, "maps.transformer", "import_transformer")
    created = client.post("/api/now/table/sys_transform_map", json={
        "name": "Second notification map", "source_table": "imp_notification",
        "target_table": "problem", "active": "true", "order": "200"})
    assert created.status_code == 201, created.text
    entry = client.post("/api/now/table/sys_transform_entry", json={
        "map": created.json()["result"]["sys_id"], "source_field": "message",
        "target_field": "short_description"})
    assert entry.status_code == 201
    body = client.post(NOTIFICATION, json={"uuid": "two-maps", "message": "both"}).json()
    assert [(r["transform_map"], r["table"], r["status"]) for r in body["result"]] == [
        ("Notification", "incident", "inserted"),
        ("Second notification map", "problem", "inserted")]
    assert re.match(r"^PRB\d{7}$", body["result"][1]["display_value"])


def test_rest_access_to_a_staging_table_follows_ws_access(snow_admin: httpx.Client) -> None:
    """sys_db_object.ws_access false: the REST gate refuses the table (§5, as the Table API)."""
    table = snow_admin.get("/api/now/table/sys_db_object",
                           params={"sysparm_query": "name=imp_notification"}).json()
    patch(snow_admin, "sys_db_object", table["result"][0]["sys_id"], ws_access="false")
    assert envelope(snow_admin.post(NOTIFICATION, json={}), 403)["detail"] == \
        "Failed API level ACL Validation"


# -- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("table", ["no_such_table", "incident", "sys_import_set_row"])
@pytest.mark.parametrize("suffix", ["", "/insertMultiple"])
def test_unknown_or_non_staging_table_is_400(shared_admin: httpx.Client, table: str,
                                             suffix: str) -> None:
    """Only tables extending sys_import_set_row are staging tables."""
    response = shared_admin.post(f"/api/now/import/{table}{suffix}", json={"records": []})
    assert envelope(response, 400) == {"message": f"Invalid table {table}", "detail": None}
    assert envelope(shared_admin.get(f"/api/now/import/{table}/{'0' * 32}"),
                    400)["message"] == f"Invalid table {table}"


@pytest.mark.parametrize(("path", "content", "content_type", "status"), [
    (NOTIFICATION, b"{not json", "application/json", 400),
    (NOTIFICATION, b'"a string"', "application/json", 400),
    # JSON null is not an empty body (it was taken as one: an empty row staged, 201)
    (NOTIFICATION, b"null", "application/json", 400),
    (NOTIFICATION, b"[null]", "application/json", 400),
    (f"{NOTIFICATION}/insertMultiple", b"null", "application/json", 400),
    (NOTIFICATION, b"<uuid>x</uuid>", "application/xml", 415),
    (f"{NOTIFICATION}/insertMultiple", b"{not json", "application/json", 400),
    (f"{NOTIFICATION}/insertMultiple", b'{"rows": []}', "application/json", 400),
    (f"{NOTIFICATION}/insertMultiple", b'{"records": {"UUID": "x"}}', "application/json", 400),
    (f"{NOTIFICATION}/insertMultiple", b'{"records": ["x"]}', "application/json", 400),
    (f"{NOTIFICATION}/insertMultiple", b"", "application/json", 400),
    (f"{NOTIFICATION}/insertMultiple", b'{"records": []}', "text/plain", 415),
])
def test_bad_bodies_get_the_platforms_answer(shared_admin: httpx.Client, path: str,
                                             content: bytes, content_type: str,
                                             status: int) -> None:
    """Malformed or wrongly shaped JSON: 400 "Exception while reading request"; other media
    types: the Table API's 415 text (§1.1, §3). Nothing is staged."""
    before = len(staging_rows(shared_admin, "imp_notification", "sys_idISNOTEMPTY"))
    error = envelope(shared_admin.post(path, content=content,
                                       headers={"Content-Type": content_type}), status)
    if status == 400:
        assert error["message"] == "Exception while reading request"
    else:
        assert error["message"].startswith("Invalid content-type.")
    assert len(staging_rows(shared_admin, "imp_notification", "sys_idISNOTEMPTY")) == before


def test_an_array_body_takes_its_first_row_and_an_empty_body_stages_an_empty_row(
        snow_admin: httpx.Client) -> None:
    """The REST JSON reader's rules (§1.1): an array has its first element processed."""
    entry = _only(snow_admin.post(NOTIFICATION, json=[{"uuid": "arr-1"}, {"uuid": "arr-2"}]))
    assert entry["status"] == "inserted" and incidents(snow_admin, "arr-2") == []
    empty = _only(snow_admin.post(NOTIFICATION, content=b""))
    assert empty["status"] == "skipped"


def test_oversized_body_is_refused(snow_settings: Settings) -> None:
    """Bodies over the instance's limit: 400 with the captured KB0747638 text (§1.1)."""
    app = create_app(dataclasses.replace(snow_settings, max_body_bytes=2048))
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=app),
                          base_url="https://dev00000.service-now.test",
                          auth=("admin", "admin")) as admin:
            response = admin.post(f"{NOTIFICATION}/insertMultiple",
                                  json={"records": [{"Message": "x" * 80}] * 40})
            error = envelope(response, 400)
            assert error["message"] == "Exception while reading request"
            assert error["detail"].startswith("Rejected large REST payload")
    finally:
        app.extensions["mock_servicenow"].instance.close()


# -- persistence ----------------------------------------------------------------------------

@pytest.fixture
def restartable(snow_settings: Settings) -> Iterator[list[Flask]]:
    """Apps opened on one database file, closed at the end."""
    apps: list[Flask] = []
    yield apps
    for app in apps:
        app.extensions["mock_servicenow"].instance.close()


def _admin(app: Flask) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=app),
                        base_url="https://dev00000.service-now.test", auth=("admin", "admin"))


def test_imports_survive_a_restart_and_leftover_sets_run_after_it(
        snow_settings: Settings, restartable: list[Flask]) -> None:
    """A 201 means the rows are on disk: a new app on the same file reads the results; an
    asynchronous set whose transform never ran (the process died after answering) is run
    by the next Import Set API call."""
    restartable.append(create_app(snow_settings))
    with _admin(restartable[0]) as admin:
        posted = admin.post(NOTIFICATION, json={"uuid": "disk-1", "message": "kept"}).json()
        row = staging_rows(admin, "imp_notification", "uuid=disk-1")[0]["sys_id"]
    with domain_context(restartable[0], "v1") as ctx:
        left = loading.insert_multiple(ctx, "imp_notification", [{"UUID": "disk-2"}])
    restartable[0].extensions["mock_servicenow"].instance.close()
    restartable.append(create_app(snow_settings))
    with _admin(restartable[1]) as admin:
        assert admin.get(f"{NOTIFICATION}/{row}").json() == posted
        state = admin.get(f"/api/now/table/sys_import_set/{left.import_set_id}").json()
        assert state["result"]["state"] == "processed"
        assert len(incidents(admin, "disk-2")) == 1
