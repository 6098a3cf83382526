"""Raw records kept as JSON text beside their rows (``store/wire.py``, issue 13): a listing
serves them, and never serves one that no longer matches its row or the dictionary."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from flask import Flask

from mock_servicenow.store import wire
from tests.mock_servicenow.table_api_helpers import add_incidents


def _sql(app: Flask, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """One statement on the instance database (committed), as another writer would."""
    instance = app.extensions["mock_servicenow"].instance
    db = instance.connect()
    try:
        with db.atomic():
            return db.execute(sql, params or []).fetchall()
    finally:
        db.close()


def _listed(admin: httpx.Client, query: str, **params: str) -> list[dict[str, Any]]:
    answer = admin.get("/api/now/table/incident", params={"sysparm_query": query, **params})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["result"])


def _same_as_built(admin: httpx.Client, query: str) -> list[dict[str, Any]]:
    """The listing, checked against the same records built field by field (``sysparm_fields``
    naming every field takes the SQL-built path, never the kept texts)."""
    kept = _listed(admin, query)
    assert kept
    built = _listed(admin, query, sysparm_fields=",".join(kept[0]))
    assert kept == built
    return kept


def test_a_listing_serves_the_kept_text(snow_app: Flask, snow_admin: httpx.Client) -> None:
    """The text kept for a row is what the listing sends (its links completed for the
    request): proof that the fast path is taken. Tampering stands in for a recognisable
    text; nothing but the store writes these tables."""
    sys_id = add_incidents(snow_app, 1, short_description="kept text probe")[0]
    rows = _sql(snow_app, "SELECT wire FROM _wire_task WHERE sys_id = ?", [sys_id])
    assert len(rows) == 1 and "kept text probe" in rows[0][0]
    # Links are kept without the request's base: '\x01' stands for it.
    assert '"sys_domain":{"link":"\x01sys_user_group/global","value":"global"}' in rows[0][0]
    _sql(snow_app, "UPDATE _wire_task SET wire = replace(wire, 'kept text probe', "
                   "'served from the kept text') WHERE sys_id = ?", [sys_id])
    listed = _listed(snow_admin, f"sys_id={sys_id}")
    assert listed[0]["short_description"] == "served from the kept text"
    one = snow_admin.get(f"/api/now/table/incident/{sys_id}").json()["result"]
    assert one == listed[0]  # a GET by sys_id sends the kept text too
    base = str(snow_admin.base_url).rstrip("/")
    assert listed[0]["sys_domain"]["link"] == f"{base}/api/now/table/sys_user_group/global"
    v1 = snow_admin.get("/api/now/v1/table/incident", params={"sysparm_query": f"sys_id={sys_id}"})
    assert v1.json()["result"][0]["sys_domain"]["link"] == (
        f"{base}/api/now/v1/table/sys_user_group/global")


def test_another_writer_s_update_or_delete_drops_the_text(snow_app: Flask,
                                                          snow_admin: httpx.Client) -> None:
    first, second = add_incidents(snow_app, 2, short_description="before")
    _sql(snow_app, "UPDATE task SET short_description = 'after, by raw SQL' WHERE sys_id = ?",
         [first])
    assert _sql(snow_app, "SELECT count(*) FROM _wire_task WHERE sys_id = ?", [first]) == [(0,)]
    listed = _same_as_built(snow_admin, f"sys_id={first}")
    assert listed[0]["short_description"] == "after, by raw SQL"
    one = snow_admin.get(f"/api/now/table/incident/{first}")
    assert one.json()["result"] == listed[0]
    assert snow_admin.get(f"/api/now/table/problem/{first}").status_code == 404
    # Deleted, then the same sys_id inserted again by a statement that keeps no text.
    _sql(snow_app, "DELETE FROM task WHERE sys_id = ?", [second])
    assert _sql(snow_app, "SELECT count(*) FROM _wire_task WHERE sys_id = ?", [second]) == [(0,)]
    _sql(snow_app, "INSERT INTO task (sys_id, sys_class_name, number, short_description) "
                   "VALUES (?, 'incident', 'RAW0000001', 'raw insert')", [second])
    listed = _same_as_built(snow_admin, f"sys_id={second}")
    assert listed[0]["short_description"] == "raw insert"


def test_the_table_api_s_writes_keep_the_text_current(snow_app: Flask,
                                                      snow_admin: httpx.Client) -> None:
    created = snow_admin.post("/api/now/table/incident", json={"short_description": "new"})
    sys_id = created.json()["result"]["sys_id"]
    assert snow_admin.patch(f"/api/now/table/incident/{sys_id}", json={
        "short_description": "patched", "work_notes": "a note"}).status_code == 200
    listed = _same_as_built(snow_admin, f"sys_id={sys_id}")
    assert listed[0]["short_description"] == "patched"
    kept = _sql(snow_app, "SELECT wire FROM _wire_task WHERE sys_id = ?", [sys_id])
    assert "patched" in kept[0][0]
    assert snow_admin.delete(f"/api/now/table/incident/{sys_id}").status_code == 204
    assert _sql(snow_app, "SELECT count(*) FROM _wire_task WHERE sys_id = ?", [sys_id]) == [(0,)]


def _kept_plans(app: Flask, table: str) -> set[str]:
    return {plan for (plan,) in _sql(
        app, "SELECT DISTINCT w.plan FROM _wire_task AS w JOIN task AS t ON t.rowid = w.rid "
             "WHERE t.sys_class_name = ?", [table])}


def test_a_custom_field_is_in_every_kept_text_at_once(snow_app: Flask,
                                                      snow_admin: httpx.Client) -> None:
    add_incidents(snow_app, 3)  # the seeded incidents keep no text (wire.unkept)
    before = _kept_plans(snow_app, "incident")
    assert len(before) == 1
    column = snow_admin.post("/api/now/table/sys_dictionary", json={
        "name": "incident", "element": "u_kept_probe", "internal_type": "string"})
    assert column.status_code == 201
    after = _kept_plans(snow_app, "incident")
    assert len(after) == 1 and after != before  # every incident's text was rewritten
    assert _without_text(snow_app) == [(0,)]  # the seeded ones' too
    listed = _same_as_built(snow_admin, "ORDERBYnumber")
    assert all(record["u_kept_probe"] == "" for record in listed)
    # A reference field: its link in every text, for the request's host.
    assert snow_admin.post("/api/now/table/sys_dictionary", json={
        "name": "incident", "element": "u_kept_ref", "internal_type": "reference",
        "reference": "sys_user"}).status_code == 201
    first = listed[0]["sys_id"]
    admin_id = "6816f79cc0a8016401c5a33be04be441"
    assert snow_admin.patch(f"/api/now/table/incident/{first}",
                            json={"u_kept_ref": admin_id}).status_code == 200
    record = _same_as_built(snow_admin, f"sys_id={first}")[0]
    assert record["u_kept_ref"]["value"] == admin_id
    # Deleting the field takes it out of every text again.
    field = snow_admin.get("/api/now/table/sys_dictionary", params={
        "sysparm_query": "name=incident^element=u_kept_probe"}).json()["result"][0]
    assert snow_admin.delete(f"/api/now/table/sys_dictionary/{field['sys_id']}"
                             ).status_code == 204
    assert all("u_kept_probe" not in record
               for record in _same_as_built(snow_admin, "ORDERBYnumber"))


def test_a_parent_listing_and_reset_stay_exact(snow_app: Flask,
                                               snow_admin: httpx.Client) -> None:
    answer = snow_admin.get("/api/now/table/task", params={"sysparm_limit": "200"})
    tasks = answer.json()["result"]
    built = snow_admin.get("/api/now/table/task", params={
        "sysparm_limit": "200", "sysparm_fields": ",".join(tasks[0])}).json()["result"]
    assert tasks == built and {t["sys_class_name"] for t in tasks} > {"incident"}
    listing: Callable[[], str] = lambda: snow_admin.get(  # noqa: E731
        "/api/now/table/incident", params={"sysparm_limit": "500"}).text
    seeded = listing()
    snow_admin.post("/api/now/table/incident", json={"short_description": "to reset"})
    _sql(snow_app, "UPDATE task SET short_description = 'raw' WHERE number = 'INC0000001'")
    assert listing() != seeded
    assert snow_admin.post("/_emulator/reset").status_code == 200
    assert json.loads(listing()) == json.loads(seeded)
    # The texts are the template's again: the seed keeps none.
    assert _sql(snow_app, "SELECT count(*) FROM _wire_task") == [(0,)]
    assert _without_text(snow_app) != [(0,)]


def _without_text(app: Flask) -> list[tuple[Any, ...]]:
    return _sql(app, "SELECT count(*) FROM task AS t LEFT JOIN _wire_task AS w "
                     "ON w.rid = t.rowid AND w.sys_id = t.sys_id "
                     "WHERE t.sys_class_name = 'incident' AND w.rid IS NULL")


def test_every_table_s_kept_texts_are_its_records(snow_app: Flask,
                                                  snow_admin: httpx.Client) -> None:
    """Texts kept for every seeded row of every table (the seed keeps none) list exactly
    the records built field by field."""
    instance = snow_app.extensions["mock_servicenow"].instance
    db = instance.connect()
    try:
        dictionary = instance.dictionary(db)
        with db.atomic():
            for root in dictionary.roots():
                wire.keep_all(db, dictionary, root)
    finally:
        db.close()
    compared = 0
    for table in dictionary:
        if wire.stored_wire(dictionary, table.name) is None:
            continue
        answer = snow_admin.get(f"/api/now/table/{table.name}", params={"sysparm_limit": "40"})
        if answer.status_code != 200 or not answer.json()["result"]:
            continue
        kept = answer.json()["result"]
        built = snow_admin.get(f"/api/now/table/{table.name}", params={
            "sysparm_limit": "40", "sysparm_fields": ",".join(kept[0])}).json()["result"]
        assert kept == built, table.name
        compared += len(kept)
    assert compared > 400  # 534 records of 60-odd tables on the demo seed


def test_a_deleted_custom_table_takes_its_texts_along(snow_app: Flask,
                                                     snow_admin: httpx.Client) -> None:
    table = snow_admin.post("/api/now/table/sys_db_object", json={"name": "u_kept_table"})
    assert table.status_code == 201
    assert snow_admin.post("/api/now/table/u_kept_table", json={}).status_code == 201
    assert _sql(snow_app, "SELECT count(*) FROM _wire_u_kept_table") == [(1,)]
    gone = snow_admin.delete(f"/api/now/table/sys_db_object/{table.json()['result']['sys_id']}")
    assert gone.status_code == 204
    assert _sql(snow_app, "SELECT count(*) FROM sqlite_master WHERE name = "
                          "'_wire_u_kept_table'") == [(0,)]
