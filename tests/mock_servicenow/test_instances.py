"""Isolated instances chosen by host name (issue 9 item 4; domain/platform/instances.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask

from mock_servicenow.app import create_app
from mock_servicenow.settings import MEMORY, Settings

LOCAL = "http://127.0.0.1:8080"


@pytest.fixture
def local(snow_app: Flask) -> Iterator[httpx.Client]:
    """A client whose requests name their host explicitly (``ci-7.localhost`` and so on)."""
    with httpx.Client(transport=httpx.WSGITransport(app=snow_app), base_url=LOCAL) as client:
        yield client


def _count_incidents(client: httpx.Client, host: str) -> int:
    info = client.get(f"http://{host}:8080/_emulator/info").json()
    return int(info["tables"]["incident"])


def _delete_incidents(app: Flask, name: str, keep: int) -> None:
    """Write directly into one instance's database (the Table API is another branch)."""
    instance = app.extensions["mock_servicenow"].instances.get(name)
    db = instance.connect()
    try:
        with db.atomic():
            db.execute("DELETE FROM task WHERE sys_class_name = 'incident' AND sys_id NOT IN "
                       "(SELECT sys_id FROM task WHERE sys_class_name = 'incident' LIMIT ?)",
                       [keep])
    finally:
        db.close()


def test_created_instance_answers_its_host_with_its_own_name(local: httpx.Client) -> None:
    created = local.post("/_emulator/instances", json={"name": "ci-7"})
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "ci-7" and body["host"] == "ci-7.localhost"
    assert body["base_url"] == "http://ci-7.localhost:8080"
    assert Path(body["database"]).name == "ci-7.db"
    info = local.get("http://ci-7.localhost:8080/_emulator/info").json()
    assert info["instance_name"] == "ci-7"
    assert info["database"] == body["database"]
    # the default instance still answers every other host, and its own <name>.localhost
    for host in ("127.0.0.1:8080", "localhost:8080", "dev00000.localhost:8080",
                 "dev00000.service-now.test"):
        assert local.get(f"http://{host}/_emulator/info").json()["instance_name"] == "dev00000"


def test_instance_names_itself_in_its_properties(snow_app: Flask, local: httpx.Client) -> None:
    local.post("/_emulator/instances", json={"name": "qa-1"})
    db = snow_app.extensions["mock_servicenow"].instances.get("qa-1").connect()
    try:
        values = dict(db.execute("SELECT name, value FROM sys_properties WHERE name IN "
                                 "('instance_name', 'glide.servlet.uri')").fetchall())
    finally:
        db.close()
    assert values == {"instance_name": "qa-1", "glide.servlet.uri": "https://qa-1.service-now.com/"}


def test_a_write_in_one_instance_is_not_visible_in_another(snow_app: Flask,
                                                          local: httpx.Client) -> None:
    for name in ("gw0", "gw1"):
        assert local.post("/_emulator/instances", json={"name": name}).status_code == 201
    seeded = _count_incidents(local, "gw0.localhost")
    assert seeded > 3
    _delete_incidents(snow_app, "gw0", keep=3)
    assert _count_incidents(local, "gw0.localhost") == 3
    assert _count_incidents(local, "gw1.localhost") == seeded
    assert _count_incidents(local, "127.0.0.1") == seeded


def test_reset_of_one_instance_does_not_touch_another(snow_app: Flask,
                                                      local: httpx.Client) -> None:
    for name in ("gw0", "gw1"):
        local.post("/_emulator/instances", json={"name": name})
    seeded = _count_incidents(local, "gw0.localhost")
    _delete_incidents(snow_app, "gw0", keep=1)
    _delete_incidents(snow_app, "gw1", keep=2)
    local.post("http://gw1.localhost:8080/_emulator/clock",
               json={"action": "freeze", "at": "2030-01-01 00:00:00"})
    assert local.post("http://gw0.localhost:8080/_emulator/reset").status_code == 200
    assert _count_incidents(local, "gw0.localhost") == seeded
    assert _count_incidents(local, "gw1.localhost") == 2
    assert local.get("http://gw1.localhost:8080/_emulator/clock").json()["now"] == \
        "2030-01-01 00:00:00"
    # and a reset of the default instance forgets no instance
    assert local.post("/_emulator/reset").status_code == 200
    names = [e["name"] for e in local.get("/_emulator/instances").json()["instances"]]
    assert names == ["dev00000", "gw0", "gw1"]
    assert _count_incidents(local, "gw1.localhost") == 2


def test_clock_of_one_instance_is_its_own(local: httpx.Client) -> None:
    local.post("/_emulator/instances", json={"name": "a"})
    local.post("http://a.localhost:8080/_emulator/clock",
               json={"action": "freeze", "at": "2031-05-05 00:00:00"})
    assert local.get("/_emulator/clock").json()["frozen"] is False


@pytest.mark.parametrize("name", [
    "", "UPPER", "-lead", "trail-", "a.b", "../etc", "a/b", "a_b", "x" * 64, "é", 7, None,
    "ci 7", "ci-7\n",
])
def test_bad_names_are_refused_with_an_envelope(local: httpx.Client, name: object) -> None:
    response = local.post("/_emulator/instances", json={"name": name})
    assert response.status_code == 400
    assert response.json() == {
        "error": {"message": "Invalid instance name",
                  "detail": "An instance name is 1 to 63 characters a-z, 0-9 and '-', "
                            "starting and ending with a letter or digit"},
        "status": "failure",
    }


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"ci-7"'])
def test_malformed_bodies_get_the_envelope(local: httpx.Client, body: bytes) -> None:
    response = local.post("/_emulator/instances", content=body,
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["status"] == "failure"


def test_duplicate_and_default_names_conflict(local: httpx.Client) -> None:
    assert local.post("/_emulator/instances", json={"name": "ci-7"}).status_code == 201
    again = local.post("/_emulator/instances", json={"name": "ci-7"})
    assert again.status_code == 409
    assert again.json()["error"]["message"] == "Instance already exists"
    assert local.post("/_emulator/instances", json={"name": "dev00000"}).status_code == 409


def test_unknown_instance_host_is_a_404_envelope(local: httpx.Client) -> None:
    for host in ("nope.localhost", "a.b.localhost", "UPPER-NOT-FOUND.localhost:8080"):
        response = local.get(f"http://{host}/api/now/table/incident")
        assert response.status_code == 404, host
        assert response.json()["error"]["message"] == "Instance not found"


def test_delete_removes_the_instance_and_its_database(local: httpx.Client) -> None:
    database = Path(local.post("/_emulator/instances", json={"name": "tmp"}).json()["database"])
    assert local.get("http://tmp.localhost/_emulator/info").status_code == 200
    # A write, so the instance has its WAL and writer-lock files too.
    assert local.post("http://tmp.localhost/api/now/table/incident", auth=("admin", "admin"),
                      json={"short_description": "x"}).status_code == 201
    deleted = local.delete("/_emulator/instances/tmp")
    assert deleted.status_code == 200 and deleted.json() == {"deleted": "tmp"}
    assert not database.exists()
    assert sorted(p.name for p in database.parent.glob("tmp.db*")) == []
    assert not list(database.parent.glob(".tmp.*"))  # nor the scratch build's
    assert local.get("http://tmp.localhost/_emulator/info").status_code == 404
    assert local.delete("/_emulator/instances/tmp").status_code == 404
    assert local.delete("/_emulator/instances/dev00000").status_code == 400
    assert local.delete("/_emulator/instances/..").status_code in (400, 404)
    # the name can be used again, for a fresh instance
    assert local.post("/_emulator/instances", json={"name": "tmp"}).status_code == 201


def test_a_second_app_on_the_same_database_sees_the_instances(snow_settings: Settings,
                                                              local: httpx.Client) -> None:
    """What gunicorn workers rely on: the registry is on disk, not in one process."""
    local.post("/_emulator/instances", json={"name": "shared"})
    other = create_app(snow_settings)
    with httpx.Client(transport=httpx.WSGITransport(app=other), base_url=LOCAL) as client:
        assert client.get("http://shared.localhost/_emulator/info").json()["instance_name"] \
            == "shared"
        assert client.delete("/_emulator/instances/shared").status_code == 200
    assert local.get("http://shared.localhost/_emulator/info").status_code == 404


def test_memory_instances_are_isolated_too(snow_settings: Settings) -> None:
    app = create_app(dataclasses.replace(snow_settings, database_path=MEMORY))
    emulator = app.extensions["mock_servicenow"]
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=LOCAL) as client:
            created = client.post("/_emulator/instances", json={"name": "m1"}).json()
            assert created["database"] == ":memory:"
            seeded = _count_incidents(client, "m1.localhost")
            _delete_incidents(app, "m1", keep=0)
            assert _count_incidents(client, "m1.localhost") == 0
            assert _count_incidents(client, "127.0.0.1") == seeded
            assert client.delete("/_emulator/instances/m1").status_code == 200
            assert client.get("http://m1.localhost/_emulator/info").status_code == 404
    finally:
        emulator.instances.close()
        emulator.instance.close()


def test_instances_endpoint_refuses_non_loopback_callers(snow_app: Flask) -> None:
    transport = httpx.WSGITransport(app=snow_app, remote_addr="192.0.2.10")
    with httpx.Client(transport=transport, base_url=LOCAL) as client:
        assert client.post("/_emulator/instances", json={"name": "x"}).status_code == 403


def test_an_instance_recreated_elsewhere_is_not_read_from_the_old_file(
        snow_settings: Settings, snow_app: Flask, local: httpx.Client) -> None:
    """Worker A deletes and recreates ``ci-9`` while worker B has the old one cached."""
    local.post("/_emulator/instances", json={"name": "ci-9"})
    _delete_incidents(snow_app, "ci-9", keep=0)
    assert _count_incidents(local, "ci-9.localhost") == 0  # cached here, old file
    other = create_app(snow_settings)
    with httpx.Client(transport=httpx.WSGITransport(app=other), base_url=LOCAL) as client:
        assert client.delete("/_emulator/instances/ci-9").status_code == 200
        assert client.post("/_emulator/instances", json={"name": "ci-9"}).status_code == 201
        seeded = _count_incidents(client, "ci-9.localhost")
    assert seeded > 0
    assert _count_incidents(local, "ci-9.localhost") == seeded


def test_clock_requests_out_of_range_get_the_envelope(local: httpx.Client) -> None:
    for body in ({"action": "advance", "seconds": "inf"}, {"action": "advance", "seconds": "nan"},
                 {"action": "advance", "seconds": 1e300}, {"action": "advance"},
                 {"action": "freeze", "at": "yesterday"}, {"action": "explode"}):
        response = local.post("/_emulator/clock", json=body)
        assert response.status_code == 400, body
        assert response.json()["error"]["message"] == "Invalid clock action"
