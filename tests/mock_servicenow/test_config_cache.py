"""``store.db.cached_config`` (issue 9): the configuration every request reads (user, roles,
clock, fault rules, rate-limit rules, ws_access, properties, tokens) is remembered until a
configuration table changes, through any connection; writes to other tables (incidents)
keep it."""

from __future__ import annotations

import pytest
import sqlite_utils
from flask import Flask

from mock_servicenow.store.db import CONFIG_TABLES, CONFIG_VERSION_TABLE, cached_config


def test_config_reads_survive_other_writes_and_follow_config_writes(snow_app: Flask) -> None:
    instance = snow_app.extensions["mock_servicenow"].instance
    loads: list[str] = []
    reader, writer = instance.location.connect(), instance.location.connect()

    def name_of_admin() -> str:
        def load() -> str:
            loads.append("load")
            return str(reader.execute(
                "SELECT name FROM sys_user WHERE user_name = 'admin'").fetchone()[0])
        return cached_config(reader, ["sys_user"], "admin name", load)

    first = name_of_admin()
    assert name_of_admin() == first and len(loads) == 1
    # An incident written by another connection: not configuration.
    writer.execute("UPDATE task SET short_description = 'changed' WHERE rowid = "
                   "(SELECT min(rowid) FROM task)")
    writer.conn.commit()
    assert name_of_admin() == first and len(loads) == 1
    # The user renamed by another connection (another worker process, in production).
    writer.execute("UPDATE sys_user SET name = 'Renamed Admin' WHERE user_name = 'admin'")
    writer.conn.commit()
    assert name_of_admin() == "Renamed Admin" and len(loads) == 2
    # The reader's own change is seen at once too.
    reader.execute("UPDATE sys_user SET name = 'Again' WHERE user_name = 'admin'")
    reader.conn.commit()
    assert name_of_admin() == "Again" and len(loads) == 3
    reader.close()
    writer.close()


def test_one_request_reads_the_version_once(snow_app: Flask) -> None:
    """Within one request (``acquire`` to ``release``) other connections' commits are read
    once, so the request's configuration is one consistent state; the request's own writes
    show at once; the next request sees everything."""
    location = snow_app.extensions["mock_servicenow"].instance.location
    loads: list[str] = []

    def flag(db: sqlite_utils.Database) -> str | None:
        def load() -> str | None:
            loads.append("load")
            row = db.execute("SELECT value FROM _emulator_state WHERE key = 'probe'").fetchone()
            return None if row is None else str(row[0])
        return cached_config(db, ["_emulator_state"], "probe", load)

    request, writer = location.acquire(), location.connect()
    assert flag(request) is None
    writer.execute("INSERT INTO _emulator_state (key, value) VALUES ('probe', 'other')")
    writer.conn.commit()
    assert flag(request) is None  # same request: the configuration it started with
    request.execute("UPDATE _emulator_state SET value = 'own' WHERE key = 'probe'")
    request.conn.commit()
    assert flag(request) == "own"  # its own write: seen at once
    location.release(request)
    writer.execute("UPDATE _emulator_state SET value = 'next' WHERE key = 'probe'")
    writer.conn.commit()
    again = location.acquire()
    assert again is request  # the thread's connection, reused by the next request
    assert flag(again) == "next"
    assert flag(again) == "next" and len(loads) == 3  # unchanged: no reload
    location.release(again)
    writer.close()


def test_every_configuration_table_has_its_triggers(snow_app: Flask) -> None:
    instance = snow_app.extensions["mock_servicenow"].instance
    db = instance.location.connect()
    dictionary = instance.platform.dictionary
    triggers = {(row[0], row[1]) for row in db.execute(
        "SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")}
    for name in CONFIG_TABLES:
        table = dictionary.root(name) if name in dictionary else name
        events = {sql.split(" AFTER ")[1].split()[0] for tbl, sql in triggers if tbl == table
                  and CONFIG_VERSION_TABLE in sql}
        assert events == {"INSERT", "UPDATE", "DELETE"}, name
    db.close()


def test_only_configuration_tables_may_be_cached_this_way(snow_app: Flask) -> None:
    db = snow_app.extensions["mock_servicenow"].instance.location.connect()
    with pytest.raises(ValueError, match="task"):
        cached_config(db, ["task"], "incidents", lambda: 0)
    db.close()
