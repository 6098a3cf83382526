"""``store.db.cached_scalar`` (the listing's ``X-Total-Count``, issue 9) never answers from
data that changed: commits by other connections, own changes, rollbacks, resets."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mock_servicenow.store import db as store_db
from mock_servicenow.store.db import DatabaseLocation, cached_scalar, copy_database

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

