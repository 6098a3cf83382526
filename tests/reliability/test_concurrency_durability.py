"""Concurrency and durability of ``serve --workers N`` (issue 8 item 6).

The real command runs in a subprocess (gunicorn, 2 worker processes, one SQLite file in WAL
mode). Promises, each a test that fails when broken:

- 8 concurrent clients creating records: no 5xx, every acknowledged record (201) is present
  exactly once, and the numbers of the records created are unique and gapless per table;
- SIGKILL of the master and its workers in the middle of a write load, then a restart on the
  same database: every record that got a 201 is there, with its number, and SQLite's
  ``PRAGMA integrity_check`` answers ``ok`` ("a 201 means the row is on disk",
  ARCHITECTURE §5).

Clients open a new connection per request (no keep-alive) so the workers share the load.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

CLIENTS = 8
PER_CLIENT = 12
AUTH = ("admin", "admin")


@dataclass
class Server:
    """A running ``serve --workers 2`` (its own process group, so SIGKILL reaches workers)."""

    process: subprocess.Popen[str]
    url: str


def start(tmp_path: Path, db: Path) -> Server:
    env = dict(os.environ, MOCK_SERVICENOW_HOME=str(tmp_path / "home"),
               MOCK_SERVICENOW_HASH_ITERATIONS="1000")
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_servicenow", "serve", "--workers", "2", "--port", "0",
         "--db", str(db), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
        start_new_session=True)
    assert process.stdout is not None
    for line in process.stdout:
        key, _, value = line.strip().partition(": ")
        if key == "ready":
            return Server(process, value)
    process.wait(timeout=30)
    pytest.fail(f"serve --workers exited early: {process.stderr.read() if process.stderr else ''}")


def stop(server: Server) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=10)
    for stream in (server.process.stdout, server.process.stderr):
        if stream is not None:
            stream.close()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "served.db"


@pytest.fixture
def server(tmp_path: Path, database: Path) -> Iterator[Server]:
    served = start(tmp_path, database)
    yield served
    stop(served)


@dataclass
class Load:
    """What the writers saw: every 201 (table, sys_id, number) and every other answer."""

    acknowledged: list[tuple[str, str, str]] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def writer(url: str, load: Load, client_no: int, count: int | None,
           stop_when: threading.Event) -> None:
    """Create incidents and change requests until ``count`` or until told to stop."""
    tables = ("incident", "change_request")
    with httpx.Client(base_url=url, auth=AUTH, timeout=30,
                      limits=httpx.Limits(max_keepalive_connections=0),
                      headers={"Accept": "application/json"}) as client:
        n = 0
        while (count is None or n < count) and not stop_when.is_set():
            table = tables[n % 2]
            try:
                response = client.post(f"/api/now/table/{table}", json={
                    "short_description": f"load client {client_no} record {n}"})
            except httpx.TransportError as error:
                # Expected only once the server is killed; otherwise it is a failure.
                with load.lock:
                    load.other.append(f"transport {type(error).__name__}")
                if stop_when.is_set() or count is None:
                    return
                n += 1
                continue
            with load.lock:
                if response.status_code == 201:
                    result = response.json()["result"]
                    load.acknowledged.append((table, result["sys_id"], result["number"]))
                else:
                    load.other.append(f"{response.status_code} {response.text[:200]}")
            n += 1


def rows(url: str, table: str, sys_ids: list[str]) -> dict[str, str]:
    """sys_id -> number for those ``sys_ids`` still in ``table`` (one query per 50)."""
    found: dict[str, str] = {}
    with httpx.Client(base_url=url, auth=AUTH, timeout=60) as client:
        for start_at in range(0, len(sys_ids), 50):
            chunk = sys_ids[start_at:start_at + 50]
            response = client.get(f"/api/now/table/{table}", params={
                "sysparm_query": "sys_idIN" + ",".join(chunk),
                "sysparm_fields": "sys_id,number", "sysparm_limit": "1000"})
            assert response.status_code == 200, response.text
            for row in response.json()["result"]:
                assert row["sys_id"] not in found, f"{row['sys_id']} listed twice"
                found[row["sys_id"]] = row["number"]
    return found


def check_present(url: str, acknowledged: list[tuple[str, str, str]]) -> None:
    for table in ("incident", "change_request"):
        mine = {sys_id: number for t, sys_id, number in acknowledged if t == table}
        assert rows(url, table, list(mine)) == mine, f"acknowledged {table} rows missing"


def test_eight_concurrent_clients_lose_nothing_and_number_without_gaps(server: Server) -> None:
    load = Load()
    never = threading.Event()
    threads = [threading.Thread(target=writer, args=(server.url, load, i, PER_CLIENT, never))
               for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    assert load.other == [], load.other[:5]
    assert len(load.acknowledged) == CLIENTS * PER_CLIENT
    check_present(server.url, load.acknowledged)
    for table, prefix in (("incident", "INC"), ("change_request", "CHG")):
        numbers = sorted(int(n[len(prefix):]) for t, _, n in load.acknowledged if t == table)
        assert len(set(numbers)) == len(numbers), f"duplicate {table} numbers"
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), (
            f"{table} numbers have gaps: {numbers}")


def test_sigkill_mid_load_loses_no_acknowledged_record(tmp_path: Path, database: Path) -> None:
    served = start(tmp_path, database)
    load = Load()
    halt = threading.Event()
    threads = [threading.Thread(target=writer, args=(served.url, load, i, None, halt))
               for i in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        # Kill while writes are in flight: after a first batch is acknowledged.
        deadline = time.monotonic() + 120
        while len(load.acknowledged) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(load.acknowledged) >= 40, load.other[:5]
        os.killpg(served.process.pid, signal.SIGKILL)
        served.process.wait(timeout=30)
    finally:
        halt.set()
        for thread in threads:
            thread.join(timeout=60)
        stop(served)
    assert not [o for o in load.other if not o.startswith("transport")], load.other[:5]
    acknowledged = list(load.acknowledged)

    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    restarted = start(tmp_path, database)
    try:
        check_present(restarted.url, acknowledged)
        # And the restarted instance keeps numbering after the survivors, never reusing one.
        with httpx.Client(base_url=restarted.url, auth=AUTH, timeout=30) as client:
            created = client.post("/api/now/table/incident", json={"short_description": "after"})
        assert created.status_code == 201
        survivors = {n for t, _, n in acknowledged if t == "incident"}
        assert created.json()["result"]["number"] not in survivors
    finally:
        stop(restarted)
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
