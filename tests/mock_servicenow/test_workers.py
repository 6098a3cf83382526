"""``serve --workers N``: gunicorn processes sharing one SQLite file (issue 9 item 3).

Each test starts the real command in a subprocess. Requests open a fresh connection each
time (no keep-alive), so gunicorn's workers share them out.
"""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


@dataclass
class Served:
    """A running ``serve --workers`` process and what it printed."""

    process: subprocess.Popen[str]
    url: str
    banner: dict[str, str]


def _start(tmp_path: Path, *extra: str) -> Served:
    env = dict(os.environ)
    env["MOCK_SERVICENOW_HOME"] = str(tmp_path / "home")
    env["MOCK_SERVICENOW_HASH_ITERATIONS"] = "1000"
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_servicenow", "serve", "--workers", "2", "--port", "0",
         "--db", str(tmp_path / "shared.db"), "--quiet", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    banner: dict[str, str] = {}
    assert process.stdout is not None
    for line in process.stdout:
        key, _, value = line.strip().partition(": ")
        banner[key] = value
        if key == "ready":
            return Served(process, value, banner)
    process.wait(timeout=10)
    pytest.fail(f"serve --workers exited early: {process.stderr.read() if process.stderr else ''}")


#: One client, no keep-alive: every request is a new connection (and workers take turns),
#: without paying httpx's per-client TLS set-up each time.
http = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0), timeout=30)


def _stop(served: Served) -> tuple[int, str, str]:
    """SIGTERM, then the exit status and the rest of stdout and stderr."""
    served.process.send_signal(signal.SIGTERM)
    out, err = served.process.communicate(timeout=30)
    return served.process.returncode, out, err


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    running = _start(tmp_path_factory.mktemp("workers"))
    try:
        yield running
    finally:
        if running.process.poll() is None:
            _stop(running)


def _pids(url: str, headers: dict[str, str] | None = None, tries: int = 200) -> set[int]:
    seen: set[int] = set()
    for _ in range(tries):
        response = http.get(f"{url}/_emulator/info", headers=headers)
        assert response.status_code == 200, response.text
        seen.add(response.json()["pid"])
        if len(seen) > 1:
            break
    return seen


def test_more_than_one_worker_process_answers(served: Served) -> None:
    pids = _pids(served.url)
    assert len(pids) == 2
    assert served.process.pid not in pids  # the master only supervises


def test_one_server_header_under_gunicorn(served: Served) -> None:
    """gunicorn names itself ServiceNow, once, on API answers and pages alike (issue 16)."""
    for path in ("/_emulator/info", "/login.do", "/", "/no_such_page"):
        response = http.get(f"{served.url}{path}")
        assert response.headers.get_list("server") == ["ServiceNow"], path


def test_concurrent_clock_writes_from_eight_threads(served: Served) -> None:
    """Every advance counts, whichever worker served it, and none is a 5xx."""
    start = http.post(f"{served.url}/_emulator/clock", json={"action": "freeze",
                                                               "at": "2026-01-01 00:00:00"})
    assert start.status_code == 200
    statuses: list[int] = []
    lock = threading.Lock()

    def advance() -> None:
        for _ in range(10):
            response = http.post(f"{served.url}/_emulator/clock",
                                  json={"action": "advance", "seconds": 1}, timeout=30)
            with lock:
                statuses.append(response.status_code)

    threads = [threading.Thread(target=advance) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 80
    assert http.get(f"{served.url}/_emulator/clock").json()["now"] == "2026-01-01 00:01:20"
    http.post(f"{served.url}/_emulator/clock", json={"action": "reset"})


def test_instances_are_visible_to_every_worker(served: Served) -> None:
    created = http.post(f"{served.url}/_emulator/instances", json={"name": "ci-3"})
    assert created.status_code == 201
    host = {"Host": "ci-3.localhost"}
    assert len(_pids(served.url, host)) == 2  # both workers found it
    for _ in range(10):
        assert http.get(f"{served.url}/_emulator/info",
                         headers=host).json()["instance_name"] == "ci-3"
    assert http.delete(f"{served.url}/_emulator/instances/ci-3").status_code == 200
    for _ in range(10):
        assert http.get(f"{served.url}/_emulator/info", headers=host).status_code == 404


def test_fault_times_are_shared_by_the_workers(served: Served) -> None:
    rule = {"path": "/_emulator/info", "action": "status", "status": 503, "times": 5}
    assert http.post(f"{served.url}/_emulator/faults", json=rule).status_code == 201
    statuses = [http.get(f"{served.url}/_emulator/info").status_code for _ in range(12)]
    assert statuses == [503] * 5 + [200] * 7


def _clock_change_is_kept_when_its_answer_is_dropped(client: httpx.Client, url: str,
                                                     at: str) -> None:
    """A ``drop_after_commit`` fault on the clock: the client sees the connection break, the
    freeze is committed anyway."""
    rule = {"method": "POST", "path": "/_emulator/clock", "action": "drop_after_commit",
            "times": 1}
    assert client.post(f"{url}/_emulator/faults", json=rule).status_code == 201
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(f"{url}/_emulator/clock", json={"action": "freeze", "at": at})
    assert client.get(f"{url}/_emulator/clock").json()["now"] == at


def test_drop_after_commit_under_gunicorn(served: Served) -> None:
    _clock_change_is_kept_when_its_answer_is_dropped(http, served.url, "2029-09-09 09:09:09")
    http.post(f"{served.url}/_emulator/clock", json={"action": "reset"})


def test_sigterm_stops_cleanly_after_one_ready_line(tmp_path: Path) -> None:
    running = _start(tmp_path)
    assert http.get(f"{running.url}/_emulator/info").status_code == 200
    status, out, err = _stop(running)
    assert status == 0, err
    assert "ready:" not in out  # printed once, before serving (already read)
    assert "Traceback" not in err


def test_workers_serve_tls(tmp_path: Path) -> None:
    running = _start(tmp_path, "--tls")
    try:
        assert running.url.startswith("https://")
        verify = ssl.create_default_context(cafile=running.banner["ca-bundle"])
        pids = set()
        tls = httpx.Client(verify=verify, limits=httpx.Limits(max_keepalive_connections=0))
        for _ in range(50):
            response = tls.get(f"{running.url}/_emulator/info")
            assert response.status_code == 200
            pids.add(response.json()["pid"])
            if len(pids) > 1:
                break
        assert len(pids) == 2
        # commit-then-drop under TLS: the socket is shut below the TLS layer
        _clock_change_is_kept_when_its_answer_is_dropped(tls, running.url,
                                                         "2030-03-03 03:03:03")
        tls.close()
    finally:
        status, _, err = _stop(running)
    assert status == 0, err


def test_memory_is_refused_with_workers(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mock_servicenow", "serve", "--workers", "2", "--memory"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "--memory" in result.stderr


def test_user_and_role_changes_reach_every_worker_at_once(served: Served) -> None:
    """Each worker remembers the calling user, roles and ACL inputs while the data is
    unchanged (store/db.py ``cached_read``, issue 9); a change committed through one worker
    must be seen by the other on the very next request (servicenow-behaviour §6: a
    deactivated user cannot authenticate anywhere)."""
    admin = ("admin", "admin")
    created = http.post(f"{served.url}/api/now/table/sys_user", auth=admin, json={
        "user_name": "cache.probe", "user_password": "Probe-Pass-1", "active": "true"})
    assert created.status_code == 201, created.text
    sys_id = created.json()["result"]["sys_id"]
    probe = ("cache.probe", "Probe-Pass-1")
    incident = f"{served.url}/api/now/table/incident?sysparm_limit=1"
    # Both workers answer, each with the user and roles cached: without itil the user sees
    # only incidents they opened or called in (none).
    for _ in range(10):
        answer = http.get(incident, auth=probe)
        assert answer.status_code == 200 and answer.json()["result"] == []
    itil = http.get(f"{served.url}/api/now/table/sys_user_role?sysparm_query=name=itil",
                    auth=admin).json()["result"][0]["sys_id"]
    granted = http.post(f"{served.url}/api/now/table/sys_user_has_role", auth=admin, json={
        "user": sys_id, "role": itil})
    assert granted.status_code == 201, granted.text
    for _ in range(10):
        assert len(http.get(incident, auth=probe).json()["result"]) == 1
    patched = http.patch(f"{served.url}/api/now/table/sys_user/{sys_id}", auth=admin,
                         json={"active": "false"})
    assert patched.status_code == 200, patched.text
    assert [http.get(incident, auth=probe).status_code for _ in range(10)] == [401] * 10


def test_custom_field_and_table_reach_every_worker_at_once(served: Served) -> None:
    """Issue 13: a column added through ``sys_dictionary`` and a table created through
    ``sys_db_object`` by one worker are served by every worker on the next request (each
    rebuilds its dictionary once when the dictionary version moves)."""
    admin = ("admin", "admin")
    url = served.url
    # Each worker has served (and cached its dictionary) before the change.
    assert len(_pids(url, tries=60)) == 2
    column = http.post(f"{url}/api/now/table/sys_dictionary", auth=admin, json={
        "name": "incident", "element": "u_worker_probe", "internal_type": "string"})
    assert column.status_code == 201, column.text
    table = http.post(f"{url}/api/now/table/sys_db_object", auth=admin, json={
        "name": "u_worker_notes", "label": "Worker notes"})
    assert table.status_code == 201, table.text
    answered: set[int] = set()
    for attempt in range(40):
        created = http.post(f"{url}/api/now/table/incident", auth=admin, json={
            "short_description": "probe", "u_worker_probe": f"value-{attempt}"})
        assert created.status_code == 201, created.text
        assert created.json()["result"]["u_worker_probe"] == f"value-{attempt}"
        listed = http.get(f"{url}/api/now/table/incident", auth=admin, params={
            "sysparm_query": f"u_worker_probe=value-{attempt}", "sysparm_fields": "u_worker_probe"})
        assert listed.json()["result"] == [{"u_worker_probe": f"value-{attempt}"}]
        note = http.post(f"{url}/api/now/table/u_worker_notes", auth=admin, json={})
        assert note.status_code == 201, note.text
        answered |= _pids(url, tries=1)
    assert len(answered) == 2
