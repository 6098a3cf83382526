"""``store.db.begin_immediate``: the write lock by polling (issue 9), same errors as SQLite."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from mock_servicenow.store import db as store_db
from mock_servicenow.store.db import DatabaseLocation, begin_immediate, write_transaction


def _location(tmp_path: Path) -> DatabaseLocation:
    location = DatabaseLocation.file(tmp_path / "lock.db")
    first = location.connect()
    first.execute("PRAGMA journal_mode = WAL")
    first.execute("CREATE TABLE t (n INTEGER)")
    first.close()
    return location


def test_a_writer_waits_for_the_lock_and_gets_it(tmp_path: Path) -> None:
    location = _location(tmp_path)
    holder, waiter = location.connect(), location.connect()
    begin_immediate(holder)
    holder.execute("INSERT INTO t VALUES (1)")
    got = threading.Event()

    def write() -> None:
        with write_transaction(waiter):
            waiter.execute("INSERT INTO t VALUES (2)")
        got.set()

    thread = threading.Thread(target=write)
    thread.start()
    assert not got.wait(0.05)  # still waiting: the holder has not committed
    holder.execute("COMMIT")
    thread.join(5)
    assert got.is_set()
    assert [r[0] for r in waiter.execute("SELECT n FROM t ORDER BY n").fetchall()] == [1, 2]
    # The busy timeout is back for the statements that follow.
    assert waiter.execute("PRAGMA busy_timeout").fetchone()[0] == store_db.BUSY_TIMEOUT_MS
    holder.close()
    waiter.close()


def test_a_lock_never_released_is_database_is_locked(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_MS", 30)
    location = _location(tmp_path)
    holder, waiter = location.connect(), location.connect()
    begin_immediate(holder)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        begin_immediate(waiter)
    assert not waiter.conn.in_transaction
    assert waiter.execute("PRAGMA busy_timeout").fetchone()[0] == 30
    holder.execute("ROLLBACK")
    holder.close()
    waiter.close()
