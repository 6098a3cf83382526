"""Issue 13: the out-of-box dictionary as data, served by the Table API; the dictionary tables
as real tables; custom fields, tables and choices created through the API; the demo data.

Sources: ServiceNow's SDK table definitions (``@servicenow/sdk-core`` 4.9.0, the committed
``dictionary/data/sdk-core-4.9.0.json``); the data dictionary tables
(https://docs.servicenow.com/bundle/washingtondc-platform-administration/page/administer/
data-dictionary-tables/concept/c_SystemDictionary.html).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask

from mock_servicenow.dictionary import Dictionary, Field
from mock_servicenow.dictionary.loader import DATA_DIR, data_files
from mock_servicenow.pytest_plugin import IN_PROCESS_BASE_URL
from mock_servicenow.settings import Settings

SDK = json.loads(next(DATA_DIR.glob("sdk-core-*.json")).read_text())
SDK_TABLES = {table["name"]: table for table in SDK["tables"]}


@pytest.fixture(scope="module")
def module_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One instance for the read-mostly tests of this module (each test cleans up)."""
    from mock_servicenow.app import create_app

    home = tmp_path_factory.mktemp("dictionary")
    app = create_app(Settings(database_path=str(home / "instance.db"), home=home / ".m",
                              admin_password="admin", password_hash_iterations=1000,
                              secret_key="k", random_seed=13))
    yield app
    app.extensions["mock_servicenow"].instance.close()


@pytest.fixture(scope="module")
def admin(module_app: Flask) -> Iterator[httpx.Client]:
    with httpx.Client(transport=httpx.WSGITransport(app=module_app),
                      base_url=IN_PROCESS_BASE_URL, auth=("admin", "admin"),
                      headers={"Accept": "application/json"}) as client:
        yield client


def _dictionary(app: Flask) -> Dictionary:
    instance = app.extensions["mock_servicenow"].instance
    db = instance.connect()
    try:
        return instance.dictionary(db)  # type: ignore[no-any-return]
    finally:
        db.close()


def _overridden_types() -> set[tuple[str, str]]:
    """(table, element) whose SDK type our additions replace on purpose (each entry cites
    why: ``sys_domain`` is a reference to the domain's group, as the platform shows it)."""
    replaced: set[tuple[str, str]] = set()
    for path in data_files():
        if path.name.startswith("sdk-core-"):
            continue
        for table in json.loads(path.read_text())["tables"]:
            for element, column in table.get("columns", {}).items():
                if "type" in column:
                    replaced.add((table["name"], element))
    return replaced


def _sdk_columns(name: str) -> dict[str, str]:
    """The SDK's columns of ``name``, own and inherited (as far as the SDK defines parents),
    with their types; active ones only."""
    chain: list[str] = []
    current: str | None = name
    while current in SDK_TABLES:
        chain.append(current)
        current = SDK_TABLES[current].get("extends")
    columns: dict[str, str] = {}
    for table in reversed(chain):
        for element, column in SDK_TABLES[table]["columns"].items():
            if column.get("active") is False:
                columns.pop(element, None)
            elif "type" in column:
                columns[element] = column["type"]
    return columns


def test_every_sdk_table_is_served_with_its_columns_and_types(
        module_app: Flask, admin: httpx.Client) -> None:
    """Drift: for every table of the committed SDK data, the served ``sys_dictionary`` records
    (the table's and its ancestors', as on the platform) list exactly the table's columns,
    and every SDK column with the SDK's type unless an addition replaces it on purpose."""
    dictionary = _dictionary(module_app)
    replaced = _overridden_types()
    listed = admin.get("/api/now/table/sys_dictionary", params={
        "sysparm_query": "elementISNOTEMPTY", "sysparm_fields": "name,element,internal_type",
        "sysparm_exclude_reference_link": "true"}).json()["result"]
    by_table: dict[str, dict[str, str]] = {}
    for entry in listed:
        by_table.setdefault(entry["name"], {})[entry["element"]] = entry["internal_type"]
    assert len(SDK_TABLES) > 150
    for name in SDK_TABLES:
        assert name in dictionary, name
        served: dict[str, str] = {}
        for table in reversed(list(dictionary.ancestry(name))):
            served.update(by_table.get(table, {}))
        expected = {element for element, fld in dictionary.fields(name).items()}
        assert set(served) == expected, name
        for element, sdk_type in _sdk_columns(name).items():
            if any((table, element) in replaced for table in dictionary.ancestry(name)):
                continue
            assert served[element] == sdk_type, (name, element)


def test_sys_db_object_lists_every_table_and_the_count_matches(
        module_app: Flask, admin: httpx.Client) -> None:
    """Every served table is a ``sys_db_object`` record; ``super_class`` is a reference to
    the parent's record; numbered tables name their ``sys_number`` record."""
    dictionary = _dictionary(module_app)
    response = admin.get("/api/now/table/sys_db_object", params={
        "sysparm_fields": "sys_id,name,super_class,number_ref,is_extendable",
        "sysparm_display_value": "all"})
    assert int(response.headers["X-Total-Count"]) == len(dictionary)
    records = {r["name"]["value"]: r for r in response.json()["result"]}
    assert set(records) == {table.name for table in dictionary}
    incident = records["incident"]
    assert incident["super_class"]["display_value"] == "Task"
    assert incident["super_class"]["value"] == records["task"]["sys_id"]["value"]
    assert incident["number_ref"]["display_value"] == "incident"
    assert records["task"]["is_extendable"]["value"] == "true"


def test_sys_choice_lists_the_choices_display_values_use(admin: httpx.Client) -> None:
    """Choice lists are ``sys_choice`` records (name, element, value, label, sequence)."""
    choices = admin.get("/api/now/table/sys_choice", params={
        "sysparm_query": "name=incident^element=state^ORDERBYsequence",
        "sysparm_fields": "value,label,sequence,inactive,language"}).json()["result"]
    assert [(c["value"], c["label"]) for c in choices][:2] == [("1", "New"), ("2", "In Progress")]
    assert all(c["language"] == "en" and c["inactive"] == "false" for c in choices)


def test_inheritance_across_levels(admin: httpx.Client) -> None:
    """A row created on ``cmdb_ci_linux_server`` is listed by every ancestor with its class,
    and a query on an inherited field works at every level."""
    created = admin.post("/api/now/table/cmdb_ci_linux_server", json={
        "name": "lnx-inherit-01", "os": "Linux Red Hat", "ip_address": "10.1.2.3"})
    assert created.status_code == 201, created.text
    sys_id = created.json()["result"]["sys_id"]
    assert created.json()["result"]["sys_class_name"] == "cmdb_ci_linux_server"
    levels = ["cmdb_ci_linux_server", "cmdb_ci_server", "cmdb_ci_computer", "cmdb_ci_hardware",
              "cmdb_ci", "cmdb"]
    for level in levels:
        found = admin.get(f"/api/now/table/{level}", params={
            "sysparm_query": "name=lnx-inherit-01", "sysparm_fields": "sys_id,sys_class_name"})
        assert found.json()["result"] == [
            {"sys_id": sys_id, "sys_class_name": "cmdb_ci_linux_server"}], level
    for level in levels[:3]:  # os is a cmdb_ci_computer field
        found = admin.get(f"/api/now/table/{level}", params={
            "sysparm_query": "os=Linux Red Hat^nameSTARTSWITHlnx-inherit",
            "sysparm_fields": "name"})
        assert found.json()["result"] == [{"name": "lnx-inherit-01"}], level
    assert admin.get("/api/now/table/cmdb_ci_win_server", params={
        "sysparm_query": "name=lnx-inherit-01"}).json()["result"] == []
    assert admin.delete(f"/api/now/table/cmdb_ci/{sys_id}").status_code == 204


def test_a_parent_stored_in_parts_lists_its_childrens_rows(admin: httpx.Client) -> None:
    """``sys_metadata``'s children are stored apart: listing it still reads them all."""
    listed = admin.get("/api/now/table/sys_metadata", params={
        "sysparm_query": "sys_class_name=sys_db_object^sys_name=incident",
        "sysparm_fields": "sys_class_name"})
    assert listed.status_code == 200
    total = admin.get("/api/now/table/sys_metadata", params={"sysparm_limit": "1"})
    dictionary_total = admin.get("/api/now/table/sys_dictionary", params={"sysparm_limit": "1"})
    assert int(total.headers["X-Total-Count"]) > int(dictionary_total.headers["X-Total-Count"])


def test_custom_field_added_queried_ordered_and_removed(admin: httpx.Client) -> None:
    """An admin adds ``u_vendor_ref`` to incident through ``sys_dictionary``: the next request
    reads, writes, queries and orders by it; deleting the record removes the column."""
    entry = admin.post("/api/now/table/sys_dictionary", json={
        "name": "incident", "element": "u_vendor_ref", "internal_type": "string",
        "max_length": "100", "column_label": "Vendor reference"})
    assert entry.status_code == 201, entry.text
    entry_id = entry.json()["result"]["sys_id"]
    numbers = []
    for value in ("V-2", "V-1"):
        created = admin.post("/api/now/table/incident",
                             json={"short_description": "custom", "u_vendor_ref": value})
        assert created.json()["result"]["u_vendor_ref"] == value
        numbers.append(created.json()["result"]["number"])
    listed = admin.get("/api/now/table/incident", params={
        "sysparm_query": "u_vendor_refSTARTSWITHV-^ORDERBYu_vendor_ref",
        "sysparm_fields": "number,u_vendor_ref"}).json()["result"]
    assert listed == [{"number": numbers[1], "u_vendor_ref": "V-1"},
                      {"number": numbers[0], "u_vendor_ref": "V-2"}]
    shown = admin.get("/api/now/table/incident", params={
        "sysparm_query": "u_vendor_ref=V-1", "sysparm_display_value": "all",
        "sysparm_fields": "u_vendor_ref"}).json()["result"]
    assert shown == [{"u_vendor_ref": {"display_value": "V-1", "value": "V-1"}}]
    assert admin.delete(f"/api/now/table/sys_dictionary/{entry_id}").status_code == 204
    after = admin.get("/api/now/table/incident", params={
        "sysparm_query": f"number={numbers[0]}"}).json()["result"][0]
    assert "u_vendor_ref" not in after


def test_a_column_name_gets_the_u_prefix_and_duplicates_are_refused(admin: httpx.Client) -> None:
    """A new column in the global scope is named ``u_...``; an existing one is refused."""
    entry = admin.post("/api/now/table/sys_dictionary", json={
        "name": "problem", "element": "vendor", "internal_type": "integer"})
    assert entry.status_code == 201
    assert entry.json()["result"]["element"] == "u_vendor"
    again = admin.post("/api/now/table/sys_dictionary", json={
        "name": "problem", "element": "u_vendor", "internal_type": "string"})
    assert again.status_code == 403
    assert again.json()["error"]["detail"] == "Column u_vendor already exists on table problem"
    unknown = admin.post("/api/now/table/sys_dictionary", json={
        "name": "no_such_table", "element": "u_x", "internal_type": "string"})
    assert unknown.status_code == 403
    assert admin.delete(f"/api/now/table/sys_dictionary/{entry.json()['result']['sys_id']}"
                        ).status_code == 204


def test_custom_choices_are_used_by_display_values(admin: httpx.Client) -> None:
    """``sys_choice`` records added for a field make its display values."""
    created = admin.post("/api/now/table/incident", json={
        "short_description": "choice", "category": "u_security"}).json()["result"]
    plain = admin.get(f"/api/now/table/incident/{created['sys_id']}", params={
        "sysparm_display_value": "true", "sysparm_fields": "category"}).json()["result"]
    assert plain["category"] == "u_security"
    choice = admin.post("/api/now/table/sys_choice", json={
        "name": "incident", "element": "category", "value": "u_security",
        "label": "Security", "sequence": "99", "language": "en"})
    assert choice.status_code == 201
    shown = admin.get(f"/api/now/table/incident/{created['sys_id']}", params={
        "sysparm_display_value": "true", "sysparm_fields": "category"}).json()["result"]
    assert shown["category"] == "Security"
    listed = admin.get("/api/now/table/sys_choice", params={
        "sysparm_query": "name=incident^element=category", "sysparm_fields": "value"})
    assert {"value": "inquiry"} in listed.json()["result"]  # the others are kept
    assert admin.delete(f"/api/now/table/sys_choice/{choice.json()['result']['sys_id']}"
                        ).status_code == 204


def test_custom_table_created_served_extended_and_deleted(admin: httpx.Client) -> None:
    """POSTing a ``sys_db_object`` record creates a table at once (with its system columns in
    ``sys_dictionary``); a table extending task gets a number prefix of its own only if
    asked, inherits task's columns, and is listed by task; deleting it removes it."""
    table = admin.post("/api/now/table/sys_db_object", json={
        "name": "vendor_note", "label": "Vendor note"})
    assert table.status_code == 201, table.text
    assert table.json()["result"]["name"] == "u_vendor_note"
    column = admin.post("/api/now/table/sys_dictionary", json={
        "name": "u_vendor_note", "element": "u_text", "internal_type": "string"})
    assert column.status_code == 201
    row = admin.post("/api/now/table/u_vendor_note", json={"u_text": "hello"})
    assert row.status_code == 201 and row.json()["result"]["u_text"] == "hello"
    described = admin.get("/api/now/table/sys_dictionary", params={
        "sysparm_query": "name=u_vendor_note", "sysparm_fields": "element"}).json()["result"]
    assert {"element": "sys_id"} in described and {"element": "u_text"} in described
    child = admin.post("/api/now/table/sys_db_object", json={
        "name": "u_vendor_task", "label": "Vendor task", "super_class": "task"})
    assert child.status_code == 201
    task_row = admin.post("/api/now/table/u_vendor_task",
                          json={"short_description": "a vendor task"}).json()["result"]
    assert task_row["sys_class_name"] == "u_vendor_task"
    assert task_row["number"] == ""  # no numbering asked for
    listed = admin.get("/api/now/table/task", params={
        "sysparm_query": "sys_class_name=u_vendor_task", "sysparm_fields": "short_description"})
    assert listed.json()["result"] == [{"short_description": "a vendor task"}]
    for created in (child, table):
        assert admin.delete(f"/api/now/table/sys_db_object/{created.json()['result']['sys_id']}"
                            ).status_code == 204
    gone = admin.get("/api/now/table/u_vendor_note")
    assert gone.status_code == 400
    assert gone.json()["error"]["message"] == "Invalid table u_vendor_note"
    assert admin.get("/api/now/table/task", params={
        "sysparm_query": "sys_class_name=u_vendor_task"}).json()["result"] == []


def test_deleting_an_out_of_box_parent_table_is_refused(admin: httpx.Client) -> None:
    task = admin.get("/api/now/table/sys_db_object",
                     params={"sysparm_query": "name=task"}).json()["result"][0]
    refused = admin.delete(f"/api/now/table/sys_db_object/{task['sys_id']}")
    assert refused.status_code == 403
    assert admin.get("/api/now/table/task", params={"sysparm_limit": "1"}).status_code == 200


def test_demo_data(admin: httpx.Client) -> None:
    """A developer instance's demo data (mock_servicenow/data/demo)."""
    tables = admin.get("/api/now/table/sys_db_object", params={
        "sysparm_query": "name=alm_asset^ORname=cmdb_ci_linux_server", "sysparm_fields": "name"})
    assert tables.headers["X-Total-Count"] == "2"
    logs = admin.get("/api/now/table/syslog", params={"sysparm_limit": "1"})
    assert int(logs.headers["X-Total-Count"]) >= 1000
    abel = admin.get("/api/now/table/sys_user/62826bf03710200044e0bfc8bcbe5df1").json()["result"]
    assert abel["user_name"] == "abel.tuter"
    catalogs = admin.get("/api/now/table/sc_catalog", params={"sysparm_fields": "title"})
    titles = {c["title"] for c in catalogs.json()["result"]}
    assert {"Service Catalog", "Technical Catalog"} <= titles
    first = admin.get("/api/now/table/incident/9c573169c611228700193229fff72400").json()
    assert first["result"]["number"] == "INC0000001"
    types = admin.get("/api/now/table/cmdb_rel_type", params={"sysparm_fields": "name"})
    assert {"name": "Runs on::Runs"} in types.json()["result"]
    relations = admin.get("/api/now/table/cmdb_rel_ci", params={
        "sysparm_display_value": "true", "sysparm_fields": "type"}).json()["result"]
    assert any(r["type"]["display_value"] == "Depends on::Used by" for r in relations)


# -- every table: create, read, update, delete -------------------------------------------------

#: What a record of these tables needs to be valid (the rest is generated per type).
REQUIRED: dict[str, dict[str, str]] = {
    "sys_db_object": {"name": "u_crud_table", "label": "CRUD table"},
    "sys_dictionary": {"name": "incident", "element": "u_crud_field", "internal_type": "string"},
    "sys_choice": {"name": "incident", "element": "category", "value": "u_crud",
                   "label": "CRUD", "language": "en"},
}

_TEXT = "crud"


def _value(table: str, fld: Field, references: dict[str, str]) -> str | None:
    if fld.choices:
        return fld.choices[0].value
    kind = fld.column_type
    if fld.type == "reference":
        return references.get(str(fld.reference))
    if fld.type == "boolean":
        return "true"
    if kind == "INTEGER":
        return "7"
    if kind == "REAL":
        return "1.5"
    if fld.type in ("glide_date_time", "due_date"):
        return "2026-01-02 03:04:05"
    if fld.type == "glide_date":
        return "2026-01-02"
    if kind == "TEXT" and fld.type in ("string", "translated_text", "html", "url", "email"):
        return f"{_TEXT}-{table}"[: max(fld.max_length, 4)]
    return None


def _writable_string(table: str, fields: dict[str, Field]) -> str | None:
    for name, fld in fields.items():
        if (fld.type == "string" and not fld.read_only and not name.startswith("sys_")
                and name not in REQUIRED.get(table, {}) and name != "number"
                and not fld.choices and fld.max_length >= 8):
            return name
    return None


def _tables() -> list[str]:
    from mock_servicenow.dictionary import default_dictionary

    return sorted(table.name for table in default_dictionary())


@pytest.fixture(scope="module")
def references(module_app: Flask, admin: httpx.Client) -> dict[str, str]:
    """A sys_id of an existing record per referenced table that has one."""
    dictionary = _dictionary(module_app)
    targets = {fld.reference for table in dictionary for fld in
               dictionary.fields(table.name).values() if fld.reference in dictionary}
    found: dict[str, str] = {}
    for target in sorted(str(t) for t in targets):
        rows: list[dict[str, Any]] = admin.get(f"/api/now/table/{target}", params={
            "sysparm_limit": "1", "sysparm_fields": "sys_id"}).json().get("result", [])
        if rows:
            found[target] = rows[0]["sys_id"]
    return found


@pytest.mark.parametrize("table", _tables())
def test_crud_on_every_served_table(module_app: Flask, admin: httpx.Client, table: str,
                                    references: dict[str, str]) -> None:
    """Create as admin with the mandatory fields, read back, update, delete."""
    fields = dict(_dictionary(module_app).fields(table))
    body: dict[str, str] = dict(REQUIRED.get(table, {}))
    for name, fld in fields.items():
        if name in body or name.startswith("sys_") or not fld.is_stored or fld.read_only:
            continue
        if fld.mandatory or fld.display or fld.unique:
            value = _value(table, fld, references)
            if value is not None:
                body[name] = value
    created = admin.post(f"/api/now/table/{table}", json=body)
    assert created.status_code == 201, (table, created.text)
    record = created.json()["result"]
    sys_id = record["sys_id"]
    read = admin.get(f"/api/now/table/{table}/{sys_id}", params={
        "sysparm_exclude_reference_link": "true"})
    assert read.status_code == 200, (table, read.text)
    for name, value in body.items():
        if name in ("name", "element") and table in ("sys_db_object", "sys_dictionary"):
            continue  # the u_ prefix
        assert read.json()["result"].get(name) == value, (table, name)
    editable = _writable_string(table, fields)
    if editable is not None:
        changed = admin.patch(f"/api/now/table/{table}/{sys_id}",
                              json={editable: "changed by crud"})
        assert changed.status_code == 200, (table, changed.text)
        again = admin.get(f"/api/now/table/{table}/{sys_id}").json()["result"]
        assert again[editable] == "changed by crud", table
    deleted = admin.delete(f"/api/now/table/{table}/{sys_id}")
    assert deleted.status_code == 204, (table, deleted.text)
    assert admin.get(f"/api/now/table/{table}/{sys_id}").status_code == 404


def test_an_existing_database_gets_this_releases_out_of_box_records(tmp_path: Any) -> None:
    """A database written by an older release of the emulator: on open, its out-of-box
    dictionary records are rewritten from this release's data files, and the columns an admin
    added are kept and still served."""
    from mock_servicenow.app import create_app

    settings = Settings(database_path=str(tmp_path / "old.db"), home=tmp_path / ".m",
                        admin_password="admin", password_hash_iterations=1000,
                        secret_key="k", random_seed=5)

    def client(app: Flask) -> httpx.Client:
        return httpx.Client(transport=httpx.WSGITransport(app=app),
                            base_url=IN_PROCESS_BASE_URL, auth=("admin", "admin"))

    app = create_app(settings)
    with client(app) as admin:
        assert admin.post("/api/now/table/sys_dictionary", json={
            "name": "incident", "element": "u_kept", "internal_type": "string"}
        ).status_code == 201
    instance = app.extensions["mock_servicenow"].instance
    db = instance.connect()
    with db.atomic():  # what an older release left: another stamp, records it did not have
        db.execute("UPDATE _emulator_state SET value = '1' WHERE key = 'dictionary_base'")
        db.execute("DELETE FROM sys_dictionary WHERE name = 'incident' AND element = 'caller_id'"
                   " AND sys_created_by = 'system'")
    db.close()
    instance.close()
    reopened = create_app(settings)
    with client(reopened) as admin:
        caller = admin.get("/api/now/table/sys_dictionary", params={
            "sysparm_query": "name=incident^element=caller_id"}).json()["result"]
        assert len(caller) == 1
        kept = admin.post("/api/now/table/incident", json={"u_kept": "yes"}).json()["result"]
        assert kept["u_kept"] == "yes" and kept["caller_id"] == ""
    reopened.extensions["mock_servicenow"].instance.close()
