"""The control plane: info, reset, clock, journal (ARCHITECTURE §2)."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import httpx
from flask import Flask

from mock_servicenow.app import create_app
from mock_servicenow.settings import MEMORY, Settings


def test_info_names_the_instance_release_and_table_counts(snow_client: httpx.Client) -> None:
    info = snow_client.get("/_emulator/info").json()
    assert info["instance_name"] == "dev00000"
    assert info["release"] == "australia"
    assert info["build"].startswith("glide-australia-")
    assert info["tables"]["sys_user"] >= 10
    assert info["tables"]["incident"] >= 20
    assert info["tables"]["task"] == (info["tables"]["incident"] + info["tables"]["change_request"]
                                      + info["tables"]["problem"])


def test_reset_restores_the_seeded_state(snow_app: Flask, snow_client: httpx.Client) -> None:
    instance = snow_app.extensions["mock_servicenow"].instance
    db = instance.connect()
    try:
        before = instance.table_counts(db, ["incident"])["incident"]
        db.execute("DELETE FROM task WHERE sys_class_name = 'incident'")
        db.conn.commit()
        assert instance.table_counts(db, ["incident"])["incident"] == 0
    finally:
        db.close()
    answer = snow_client.post("/_emulator/reset").json()
    assert answer["status"] == "reset"
    assert snow_client.get("/_emulator/info").json()["tables"]["incident"] == before


def test_clock_freezes_and_advances(snow_client: httpx.Client) -> None:
    frozen = snow_client.post("/_emulator/clock",
                              json={"action": "freeze", "at": "2026-01-01 00:00:00"}).json()
    assert frozen == {"now": "2026-01-01 00:00:00", "frozen": True, "offset_seconds": 0.0}
    advanced = snow_client.post("/_emulator/clock", json={"action": "advance", "seconds": 3600})
    assert advanced.json()["now"] == "2026-01-01 01:00:00"
    assert snow_client.get("/_emulator/clock").json()["now"] == "2026-01-01 01:00:00"
    assert snow_client.post("/_emulator/clock", json={"action": "reset"}).json()["frozen"] is False


def test_journal_redacts_secrets(snow_client: httpx.Client) -> None:
    snow_client.get("/_emulator/info", params={"access_token": "SECRET-TOKEN-1", "x": "visible"})
    entries = snow_client.get("/_emulator/journal").json()["entries"]
    text = repr(entries)
    assert "SECRET-TOKEN-1" not in text
    assert "access_token=%2A%2A%2A" in text and "x=visible" in text


def test_control_plane_refuses_non_loopback_callers(snow_app: Flask) -> None:
    transport = httpx.WSGITransport(app=snow_app, remote_addr="192.0.2.10")
    with httpx.Client(transport=transport, base_url="https://dev00000.service-now.test") as c:
        response = c.get("/_emulator/info")
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "User Not Authorized"


def test_control_plane_can_be_switched_off(snow_settings: Settings) -> None:
    app = create_app(dataclasses.replace(snow_settings, enable_control_plane=False))
    with httpx.Client(transport=httpx.WSGITransport(app=app),
                      base_url="https://dev00000.service-now.test") as client:
        assert client.get("/_emulator/info").status_code == 400


def test_memory_database_is_shared_across_threads(snow_settings: Settings) -> None:
    app = create_app(dataclasses.replace(snow_settings, database_path=MEMORY))
    instance = app.extensions["mock_servicenow"].instance
    errors: list[BaseException] = []
    db = instance.connect()
    before = db.execute("SELECT count(*) FROM syslog").fetchone()[0]  # the demo log
    db.close()

    def write(n: int) -> None:
        try:
            db = instance.connect()
            for i in range(50):
                with db.atomic():
                    db.execute("INSERT INTO syslog (sys_id, message) VALUES (?, ?)",
                               [f"{n:02d}{i:030d}", "x"])
            db.close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db = instance.connect()
    assert db.execute("SELECT count(*) FROM syslog").fetchone()[0] == before + 400
    db.close()
    instance.close()


def test_an_existing_database_keeps_its_data_across_restarts(snow_settings: Settings) -> None:
    first = create_app(snow_settings)
    db = first.extensions["mock_servicenow"].instance.connect()
    with db.atomic():
        db.execute("UPDATE sys_properties SET value = 'kept' "
                   "WHERE name = 'glide.rest.cors.enabled'")
    db.close()
    second = create_app(snow_settings)
    db = second.extensions["mock_servicenow"].instance.connect()
    value = db.execute("SELECT value FROM sys_properties WHERE name = 'glide.rest.cors.enabled'")
    assert value.fetchone()[0] == "kept"
    assert Path(snow_settings.database_path).exists()
    db.close()
