"""Reset brings an instance back to its seeded state exactly, whether it copies back only the
tables written since the last copy (``store.db.restore_changed``) or, after a schema change,
the whole template."""

from __future__ import annotations

from typing import Any

import httpx
from flask import Flask


def _dump(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in the order a listing without ORDER BY returns them."""
    instance = app.extensions["mock_servicenow"].instance
    db = instance.connect()
    try:
        names = [name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name").fetchall()]
        return {name: db.execute(f'SELECT * FROM "{name}"').fetchall() for name in names}
    finally:
        db.close()


def _write_a_lot(admin: httpx.Client) -> None:
    created = admin.post("/api/now/table/incident", json={"short_description": "to reset"})
    assert created.status_code == 201
    problem = admin.get("/api/now/table/problem", params={"sysparm_limit": "1"}).json()
    assert admin.delete(f"/api/now/table/problem/{problem['result'][0]['sys_id']}"
                        ).status_code == 204
    user = admin.get("/api/now/table/sys_user", params={
        "sysparm_query": "user_name=abel.tuter"}).json()["result"][0]
    assert admin.patch(f"/api/now/table/sys_user/{user['sys_id']}",
                       json={"title": "Changed"}).status_code == 200
    assert admin.patch(f"/api/now/table/incident/{created.json()['result']['sys_id']}",
                       json={"work_notes": "a journal entry"}).status_code == 200
    assert admin.post("/_emulator/clock", json={"action": "advance", "seconds": 3600}
                      ).status_code == 200
    assert admin.post("/_emulator/faults", json={
        "method": "GET", "path": "/api/now/table/nothing", "action": "status", "status": 503}
    ).status_code == 201
    assert admin.post("/_emulator/scenarios/not-provisioned", json={}).status_code == 200


def test_reset_of_changed_tables_restores_every_row(snow_app: Flask,
                                                    snow_admin: httpx.Client) -> None:
    seeded = _dump(snow_app)
    _write_a_lot(snow_admin)
    assert _dump(snow_app) != seeded
    answer = snow_admin.post("/_emulator/reset")
    assert answer.status_code == 200
    assert _dump(snow_app) == seeded
    # Twice in a row, and after writes again: still exact.
    _write_a_lot(snow_admin)
    snow_admin.post("/_emulator/reset")
    assert _dump(snow_app) == seeded


def test_reset_after_a_schema_change_restores_the_schema_too(snow_app: Flask,
                                                            snow_admin: httpx.Client) -> None:
    seeded = _dump(snow_app)
    column = snow_admin.post("/api/now/table/sys_dictionary", json={
        "name": "incident", "element": "u_reset_probe", "internal_type": "string"})
    assert column.status_code == 201
    table = snow_admin.post("/api/now/table/sys_db_object", json={"name": "u_reset_table"})
    assert table.status_code == 201
    assert snow_admin.post("/api/now/table/u_reset_table", json={}).status_code == 201
    _write_a_lot(snow_admin)
    assert snow_admin.post("/_emulator/reset").status_code == 200
    assert _dump(snow_app) == seeded
    assert snow_admin.get("/api/now/table/u_reset_table").status_code == 400
    listed = snow_admin.get("/api/now/table/incident", params={
        "sysparm_limit": "1", "sysparm_fields": "u_reset_probe,number"}).json()["result"]
    assert listed == [{"number": "INC0000001"}]


def test_an_instance_reopened_with_the_same_seed_still_inserts(snow_settings: Any) -> None:
    """Seeded ids replay after a restart (``random_seed``): a taken sys_id is drawn again
    instead of failing the insert with a unique-key violation."""
    from mock_servicenow.app import create_app
    from mock_servicenow.pytest_plugin import IN_PROCESS_BASE_URL

    created: list[str] = []
    for _ in range(2):
        app = create_app(snow_settings)
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=IN_PROCESS_BASE_URL,
                          auth=("admin", "admin")) as admin:
            answer = admin.post("/api/now/table/incident", json={"short_description": "seed"})
            assert answer.status_code == 201, answer.text
            created.append(answer.json()["result"]["sys_id"])
        app.extensions["mock_servicenow"].instance.close()
    assert created[0] != created[1]


def test_the_same_seed_gives_the_same_instance_whichever_came_first(snow_settings: Any) -> None:
    """Seeded records take their sys_ids from ``random_seed``: instances share a seeded
    template per process only when their seeds match, so a test's instance does not depend on
    which instance another test in the same process made first (a schemathesis run explored
    differently in a full suite than alone because of this)."""
    import dataclasses

    from mock_servicenow.app import create_app

    made = 0

    def generated_ids(seed: int) -> list[str]:
        nonlocal made
        made += 1  # a new database each time (one file would be reopened, not seeded)
        app = create_app(dataclasses.replace(
            snow_settings, random_seed=seed,
            database_path=snow_settings.database_path.replace(".db", f"-{made}.db")))
        instance = app.extensions["mock_servicenow"].instance
        db = instance.connect()
        try:  # role grants made while seeding draw their ids from the seed
            return sorted(sys_id for (sys_id,) in db.execute(
                "SELECT sys_id FROM sys_user_has_role").fetchall())
        finally:
            db.close()
            instance.close()

    first = generated_ids(101)
    assert generated_ids(102) != first
    assert generated_ids(101) == first
