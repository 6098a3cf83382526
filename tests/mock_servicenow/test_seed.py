"""The demo seed looks like a fresh developer instance where clients rely on it."""

from __future__ import annotations

import dataclasses

from flask import Flask

from mock_servicenow.app import create_app
from mock_servicenow.dictionary import default_dictionary
from mock_servicenow.settings import Settings
from mock_servicenow.store import rows


def _db(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["mock_servicenow"].instance.connect()


def test_admin_has_the_well_known_sys_id_and_role(snow_app: Flask) -> None:
    """servicenow-behaviour §1.4: admin is 6816f79cc0a8016401c5a33be04be441 everywhere."""
    db = _db(snow_app)
    admin = rows.get(db, default_dictionary(), "sys_user", "6816f79cc0a8016401c5a33be04be441")
    assert admin is not None and admin["user_name"] == "admin"
    assert admin["user_password"].startswith("pbkdf2_sha256$")
    roles = db.execute(
        "SELECT r.name FROM sys_user_has_role h JOIN sys_user_role r ON r.sys_id = h.role "
        "WHERE h.user = ?", ["6816f79cc0a8016401c5a33be04be441"]).fetchall()
    assert ("admin",) in roles
    db.close()


def test_every_table_has_a_sys_db_object_row(snow_app: Flask) -> None:
    db = _db(snow_app)
    names = {r[0] for r in db.execute("SELECT name FROM sys_db_object")}
    assert names == {t.name for t in default_dictionary()}
    incident = rows.find_by(db, default_dictionary(), "sys_db_object", name="incident")[0]
    assert incident["super_class"] == rows.find_by(db, default_dictionary(), "sys_db_object",
                                                   name="task")[0]["sys_id"]
    assert incident["ws_access"] == 1 and incident["access"] == "public"
    db.close()


def test_glide_war_names_the_configured_release(snow_settings: Settings) -> None:
    """servicenow-behaviour §8: the version probe reads glide.war."""
    app = create_app(dataclasses.replace(snow_settings, release="Washington DC"))
    db = _db(app)
    value = db.execute("SELECT value FROM sys_properties WHERE name = 'glide.war'").fetchone()[0]
    assert value.startswith("glide-washingtondc-") and value.endswith(".zip")
    db.close()


def test_demo_numbers_leave_room_for_the_api_sequence(snow_app: Flask) -> None:
    """servicenow-behaviour §7.1: demo data is INC00000xx; the first API record INC0010001."""
    db = _db(snow_app)
    numbers = [r[0] for r in db.execute(
        "SELECT number FROM task WHERE sys_class_name = 'incident' ORDER BY number")]
    assert numbers[0] == "INC0000001"
    assert rows.next_number(db, "incident") == ("INC", 10001, 7)
    assert rows.next_number(db, "change_request") == ("CHG", 30001, 7)
    db.close()


def test_demo_incident_priorities_follow_the_matrix(snow_app: Flask) -> None:
    """servicenow-behaviour §7.2."""
    matrix = {(1, 1): 1, (1, 2): 2, (1, 3): 3, (2, 1): 2, (2, 2): 3, (2, 3): 4, (3, 1): 3,
              (3, 2): 4, (3, 3): 5}
    db = _db(snow_app)
    for impact, urgency, priority in db.execute(
            "SELECT impact, urgency, priority FROM task WHERE sys_class_name = 'incident'"):
        assert matrix[(impact, urgency)] == priority
    db.close()


def test_empty_seed_has_only_the_platform(snow_settings: Settings) -> None:
    app = create_app(dataclasses.replace(snow_settings, seed="empty"))
    db = _db(app)
    assert rows.count(db, default_dictionary(), "incident") == 0
    assert rows.count(db, default_dictionary(), "sys_user") == 1
    assert rows.count(db, default_dictionary(), "sys_db_object") == len(default_dictionary())
    db.close()
