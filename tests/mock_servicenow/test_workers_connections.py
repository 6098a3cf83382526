"""The per-thread cached connection (``DatabaseLocation.acquire``/``release``).

Each serving thread reuses one SQLite connection across requests (a new connection parses the
whole schema on its first statement); these tests pin what that reuse must not change.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
from flask import Flask

from mock_servicenow.store.db import DatabaseLocation


def test_a_thread_gets_its_cached_connection_back(tmp_path: Path) -> None:
    location = DatabaseLocation.file(tmp_path / "a.db")
    first = location.acquire()
    location.release(first)
    assert location.acquire() is first
    location.release(first)
    location.close()


def test_nested_acquire_gets_a_private_connection(tmp_path: Path) -> None:
    location = DatabaseLocation.file(tmp_path / "a.db")
    outer = location.acquire()
    inner = location.acquire()
    assert inner is not outer
    location.release(inner)  # closed, not cached
    location.release(outer)
    assert location.acquire() is outer
    location.release(outer)
    location.close()


def test_other_threads_get_their_own_connections(tmp_path: Path) -> None:
    location = DatabaseLocation.file(tmp_path / "a.db")
    mine = location.acquire()
    seen: list[object] = []

    def work() -> None:
        db = location.acquire()
        seen.append(db)
        location.release(db)
        location.close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen and seen[0] is not mine
    location.release(mine)
    location.close()


def test_release_rolls_back_a_transaction_left_open(tmp_path: Path) -> None:
    location = DatabaseLocation.file(tmp_path / "a.db")
    db = location.acquire()
    db.execute("CREATE TABLE t (x INTEGER)")
    db.conn.commit()
    db.execute("BEGIN")
    db.execute("INSERT INTO t VALUES (1)")
    location.release(db)  # as after an error in the middle of a request
    again = location.acquire()
    assert not again.conn.in_transaction
    assert again.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    location.release(again)
    location.close()


def test_a_cached_connection_sees_changes_made_elsewhere(snow_app: Flask,
                                                         snow_client: httpx.Client) -> None:
    before = snow_client.get("/_emulator/info").json()["tables"]["incident"]
    instance = snow_app.extensions["mock_servicenow"].instance
    other = instance.connect()  # another connection, as another worker process would have
    with other.atomic():
        other.execute("DELETE FROM task WHERE sys_class_name = 'incident'")
    other.close()
    assert snow_client.get("/_emulator/info").json()["tables"]["incident"] == 0
    assert snow_client.post("/_emulator/reset").status_code == 200
    assert snow_client.get("/_emulator/info").json()["tables"]["incident"] == before


def test_a_failed_request_leaves_no_transaction_behind(snow_app: Flask,
                                                       snow_client: httpx.Client) -> None:
    # a rule that cannot be parsed fails inside the request, after the connection was taken
    assert snow_client.post("/_emulator/faults", json={"path": 5}).status_code == 400
    location = snow_app.extensions["mock_servicenow"].instance.location
    db = location.acquire()
    try:
        assert not db.conn.in_transaction
    finally:
        location.release(db)
