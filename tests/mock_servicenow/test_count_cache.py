"""``store.db.cached_read``/``cached_scalar`` (the listing's ``X-Total-Count`` and every
request's configuration reads, issue 9) never answer from data that changed: commits by other
connections, own changes, rollbacks, resets; within one request (``acquire`` to ``release``)
other connections' commits are read once."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import sqlite_utils

from mock_servicenow.store import db as store_db
from mock_servicenow.store.db import (
    DatabaseLocation,
    cached_read,
    cached_scalar,
    copy_database,
)

COUNT = "SELECT count(*) FROM t WHERE n > ?"


@pytest.fixture
def location(tmp_path: Path) -> DatabaseLocation:
    """A WAL database with a table of three rows."""
    place = DatabaseLocation.file(tmp_path / "count.db")
    first = place.connect()
    first.execute("PRAGMA journal_mode = WAL")
    first.execute("CREATE TABLE t (n INTEGER)")
    first.conn.executemany("INSERT INTO t VALUES (?)", [(1,), (2,), (3,)])
    first.conn.commit()
    first.close()
    return place


def test_other_connections_commits_are_seen(location: DatabaseLocation) -> None:
    reader, writer = location.connect(), location.connect()
    assert cached_scalar(reader, COUNT, [0]) == 3
    assert cached_scalar(reader, COUNT, [0]) == 3
    writer.execute("BEGIN")
    writer.execute("INSERT INTO t VALUES (4)")
    assert cached_scalar(reader, COUNT, [0]) == 3  # not committed yet
    writer.execute("COMMIT")
    assert cached_scalar(reader, COUNT, [0]) == 4
    assert cached_scalar(reader, COUNT, [2]) == 2  # parameters are part of the key
    reader.close()
    writer.close()


def test_own_changes_and_rollbacks_are_seen(location: DatabaseLocation) -> None:
    db = location.connect()
    assert cached_scalar(db, COUNT, [0]) == 3
    db.execute("BEGIN")
    db.execute("DELETE FROM t WHERE n = 1")
    assert cached_scalar(db, COUNT, [0]) == 2
    db.execute("ROLLBACK")
    assert cached_scalar(db, COUNT, [0]) == 3
    db.close()


def test_a_copied_database_is_counted_again(location: DatabaseLocation,
                                            tmp_path: Path) -> None:
    db = location.connect()
    assert cached_scalar(db, COUNT, [0]) == 3
    other = DatabaseLocation.file(tmp_path / "other.db").connect()
    other.execute("CREATE TABLE t (n INTEGER)")
    other.execute("INSERT INTO t VALUES (9)")
    other.conn.commit()
    copy_database(other, db)
    assert cached_scalar(db, COUNT, [0]) == 1
    db.close()
    other.close()


def test_the_cache_is_bounded(location: DatabaseLocation,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_db, "_CACHED_PER_CONNECTION", 3)
    db = location.connect()
    for bound in range(10):
        assert cached_scalar(db, COUNT, [bound]) == max(0, 3 - bound)
    assert len(store_db._CACHED[db]) == 3
    db.close()


def test_total_count_follows_writes_and_reset(snow_admin: httpx.Client) -> None:
    params = {"sysparm_query": "active=true", "sysparm_limit": "1", "sysparm_fields": "number"}

    def total() -> int:
        answer = snow_admin.get("/api/now/table/incident", params=params)
        assert answer.status_code == 200
        return int(answer.headers["X-Total-Count"])

    before = total()
    assert total() == before
    created = snow_admin.post("/api/now/table/incident", json={"short_description": "c"})
    assert created.status_code == 201
    assert total() == before + 1
    sys_id = created.json()["result"]["sys_id"]
    closed = snow_admin.patch(f"/api/now/table/incident/{sys_id}",
                              json={"state": "8"})  # Canceled: active becomes false
    assert closed.status_code == 200
    assert total() == before
    snow_admin.post("/api/now/table/incident", json={"short_description": "d"})
    assert total() == before + 1
    assert snow_admin.post("/_emulator/reset").status_code == 200
    assert total() == before


def test_one_request_reads_other_commits_once(location: DatabaseLocation) -> None:
    """A request's cached reads share one ``data_version`` reading: another process's commit
    in the middle of a request shows from the next request on; the request's own writes
    show at once."""
    loads: list[int] = []

    def total(db: sqlite_utils.Database) -> int:
        def load() -> int:
            loads.append(1)
            return int(db.execute("SELECT count(*) FROM t").fetchone()[0])
        return cached_read(db, "count", load)

    request, writer = location.acquire(), location.connect()
    assert total(request) == 3
    writer.execute("INSERT INTO t VALUES (4)")
    writer.conn.commit()
    assert total(request) == 3  # same request: the configuration it started with
    request.execute("INSERT INTO t VALUES (5)")
    request.conn.commit()
    assert total(request) == 5  # its own write: seen at once (and the other commit with it)
    location.release(request)
    writer.execute("INSERT INTO t VALUES (6)")
    writer.conn.commit()
    again = location.acquire()
    assert again is request  # the thread's connection, reused by the next request
    assert total(again) == 6
    assert total(again) == 6 and len(loads) == 3  # unchanged data: no reload
    location.release(again)
    writer.close()
    location.close()
