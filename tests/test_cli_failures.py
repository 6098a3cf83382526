"""Every failure of both CLIs is one line on stderr and a non-zero exit, never a traceback
(ARCHITECTURE §2 "Exit status"; issue 15 item 13).

Real processes where the point is the process: a closed pipe (``| head``), Ctrl-C, a missing
terminal. Network failures are said in words; a hung server is given up on after the
documented time (the connector's ``timeout``; 30 s for ``mock-servicenow``'s client commands).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from connector import Connector, ConnectorSettings
from connector.cli import main as connector_main
from mock_servicenow.cli import main as emulator_main

pytestmark = pytest.mark.slow

DEVNULL = subprocess.DEVNULL


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and "Error:" not in stderr.split(": ", 1)[0]
    return lines[0]


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HungServer:
    """A server that accepts connections and never answers; ``accepted`` counts them."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.held: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.05)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
                self.held.append(conn)
            except OSError:
                continue

    @property
    def accepted(self) -> int:
        return len(self.held)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture
def hung() -> Iterator[HungServer]:
    server = HungServer()
    yield server
    server.close()


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(MOCK_SERVICENOW_HOME=str(tmp_path / "home"),
               SNOW_CONNECTOR_HOME=str(tmp_path / "connector"), **extra)
    return env


def _interrupt(argv: list[str], tmp_path: Path, blocked: Callable[[int], bool],
               **env: str) -> subprocess.CompletedProcess[str]:
    """Start ``argv``, wait until ``blocked(pid)`` says it is waiting, then Ctrl-C it."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=_env(tmp_path, **env), cwd=tmp_path, stdin=DEVNULL)
    deadline = time.monotonic() + 30
    while process.poll() is None and not blocked(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


class FifoReader:
    """``blocked`` for a process that opens a FIFO to read it: true once it is waiting on it
    (our write end then opens without blocking; kept open, never written, so it waits on)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def __call__(self, _pid: int) -> bool:
        if self.fd is None:
            try:
                self.fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: no reader yet
                return False
        return True

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)


# -- mock-servicenow ----------------------------------------------------------------------------

@pytest.mark.parametrize("argv,expected", [
    (["serve", "--port", "80000"], "invalid port 80000: ports go from 0 to 65535"),
    (["serve", "--port", "-1"], "invalid port -1"),
    (["serve", "--workers", "0"], "--workers must be 1 or more"),
])
def test_emulator_refuses_bad_serve_flags_in_one_line(
        argv: list[str], expected: str, capsys: pytest.CaptureFixture[str],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCK_SERVICENOW_HOME", str(tmp_path))
    with pytest.raises(SystemExit) if "--port" in argv else _no_exit() as raised:
        code = emulator_main(argv)
    status = raised.value.code if isinstance(raised, pytest.ExceptionInfo) else code
    assert status not in (0, None)
    assert expected in _one_line(capsys.readouterr().err)


class _no_exit:  # a context manager that expects nothing
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


def test_emulator_network_failures_in_words(closed_port: int, snow_server: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert emulator_main(["reset", "--url", f"http://127.0.0.1:{closed_port}"]) == 1
    assert _one_line(capsys.readouterr().err) == (
        f"mock-servicenow: connection refused at 127.0.0.1:{closed_port} "
        "(is the instance running? see --url)")
    https = snow_server.replace("http://", "https://")
    assert emulator_main(["scenario", "apply", "not-provisioned", "--url", https]) == 1
    assert _one_line(capsys.readouterr().err) == \
        f"mock-servicenow: the server at {https} speaks http, not https"


def test_ctrl_c_in_emulator_client_commands(tmp_path: Path, hung: HungServer) -> None:
    url = f"http://127.0.0.1:{hung.port}"
    for argv in (["reset", "--url", url], ["scenario", "apply", "sso-enabled", "--url", url]):
        waiting = hung.accepted + 1
        done = _interrupt([sys.executable, "-m", "mock_servicenow", *argv], tmp_path,
                          lambda _pid, n=waiting: hung.accepted >= n)
        assert done.returncode == 130, done.stderr
        assert _one_line(done.stderr) == "mock-servicenow: interrupted"
    # scenario list, blocked reading a scenario file (a FIFO nobody writes).
    folder = tmp_path / "scenarios"
    folder.mkdir()
    fifo = folder / "blocked.yaml"
    os.mkfifo(fifo)
    reader = FifoReader(fifo)
    try:
        done = _interrupt([sys.executable, "-m", "mock_servicenow", "scenario", "list"],
                          tmp_path, reader, MOCK_SERVICENOW_SCENARIOS=str(folder))
    finally:
        reader.close()
    assert done.returncode == 130 and _one_line(done.stderr) == "mock-servicenow: interrupted"


def _first_line_then_close(argv: list[str], tmp_path: Path, **env: str) -> tuple[int, str]:
    """``argv | head -1``: read one line, close the pipe, let the process notice."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=_env(tmp_path, **env), cwd=tmp_path, stdin=DEVNULL)
    assert process.stdout is not None and process.stderr is not None
    with process.stdout, process.stderr:
        process.stdout.readline()
        process.stdout.close()
        err = process.stderr.read().decode()
    return process.wait(timeout=60), err


def test_emulator_output_piped_into_head(tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    steps = "".join(f"    - step {index} of a long fix, to write more than a pipe holds\n"
                    for index in range(3000))
    (folder / "long.yaml").write_text(
        "name: long\ntitle: A long one\ntroubleshooting: t\nsymptom: {surface: s, text: t}\n"
        f"outcome: o\nfix:\n  steps:\n{steps}")
    code, err = _first_line_then_close(
        [sys.executable, "-m", "mock_servicenow", "scenario", "show", "long"], tmp_path,
        MOCK_SERVICENOW_SCENARIOS=str(folder))
    assert code == 141 and "Traceback" not in err and "BrokenPipe" not in err, err


# -- snow-connector -------------------------------------------------------------------------------

def test_connect_with_a_user_and_no_terminal_asks_for_the_password_flag(
        tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "connector.cli", "connect", "--instance",
                           "http://127.0.0.1:1", "--client-id", "c", "--client-secret", "s",
                           "--username", "m365_integration"], capture_output=True, text=True,
                          env=_env(tmp_path), cwd=tmp_path, stdin=DEVNULL, timeout=60)
    assert done.returncode == 1
    assert _one_line(done.stderr) == (
        "snow-connector: no password for m365_integration: give --password or "
        "$SNOW_CONNECTOR_PASSWORD (there is no terminal to ask on)")


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *argv: str,
         timeout: float = 30.0) -> tuple[int, str, str]:
    def factory(settings: ConnectorSettings) -> Connector:
        return Connector(ConnectorSettings(home=settings.home, timeout=timeout),
                         sleep=lambda _s: None)
    code = connector_main(list(argv), connector=factory,
                          environ={"SNOW_CONNECTOR_HOME": str(tmp_path / "connector")})
    out, err = capsys.readouterr()
    return code, out, err


def _connect_argv(url: str) -> list[str]:
    return ["connect", "--instance", url, "--client-id", "c", "--client-secret", "s",
            "--username", "u", "--password", "p"]


def test_connector_network_failures_in_words(tmp_path: Path, closed_port: int,
                                             snow_server: str, hung: HungServer,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(tmp_path, capsys, *_connect_argv(f"http://127.0.0.1:{closed_port}"))
    assert code == 1
    assert _one_line(err) == f"snow-connector: connection refused at 127.0.0.1:{closed_port}"
    https = snow_server.replace("http://", "https://")
    code, _, err = _run(tmp_path, capsys, *_connect_argv(https))
    assert _one_line(err) == f"snow-connector: the server at {https} speaks http, not https"
    # A hung server is given up on after the connector's timeout (documented: 30 s).
    code, _, err = _run(tmp_path, capsys, *_connect_argv(f"http://127.0.0.1:{hung.port}"),
                        timeout=0.5)
    assert code == 1
    assert _one_line(err) == \
        f"snow-connector: no answer from http://127.0.0.1:{hung.port} within 0.5 s"


def test_status_exits_non_zero_when_the_connection_is_not_usable(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(tmp_path, capsys, "status")
    assert code == 1 and "status: not connected" in out
    assert _one_line(err).startswith("snow-connector: the connection is not usable: "
                                     "not connected")
    code, out, err = _run(tmp_path, capsys, "status", "--json")
    assert code == 1 and json.loads(out)["summary"] == "not connected"


@pytest.mark.parametrize("argv,expected", [
    (["states", "set", "incident", "99", "Parked"],
     "incident has no state 99; its states are 1 New, 2 In Progress, 3 On Hold, 6 Resolved, "
     "7 Closed, 8 Canceled"),
    (["states", "set", "change", "5", "Done"], "change_request has no state 5"),
])
def test_states_set_refuses_a_state_the_table_does_not_have(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
        expected: str) -> None:
    code, _, err = _run(tmp_path, capsys, *argv)
    assert code == 1 and expected in _one_line(err)
    code, out, _ = _run(tmp_path, capsys, "states", "set", "incident", "6", "Fixed")
    assert code == 0 and "'Fixed'" in out


def test_connector_output_piped_into_head(tmp_path: Path) -> None:
    home = tmp_path / "connector"
    home.mkdir()
    tickets = {f"{i:032x}": {"table": "incident", "sys_id": f"{i:032x}",
                             "number": f"INC{i:07d}", "correlation_id": "m365ss:x",
                             "control_id": "c", "short_description": "s" * 60, "state": "1",
                             "priority": "3", "due_date": "", "sys_updated_on": ""}
               for i in range(3000)}
    (home / "state.json").write_text(json.dumps({"tickets": tickets}))
    code, err = _first_line_then_close([sys.executable, "-m", "connector.cli", "tickets"],
                                       tmp_path)
    assert code == 141 and "Traceback" not in err and "BrokenPipe" not in err, err


def test_ctrl_c_in_the_connector(tmp_path: Path, hung: HungServer) -> None:
    done = _interrupt([sys.executable, "-m", "connector.cli",
                       *_connect_argv(f"http://127.0.0.1:{hung.port}")], tmp_path,
                      lambda _pid: hung.accepted >= 1)
    assert done.returncode == 130 and _one_line(done.stderr) == "snow-connector: interrupted"


# -- scripts/serve's first install -------------------------------------------------------------

FAKE_PYTHON = """#!/usr/bin/env bash
case "$*" in
  *sys.version_info*) exit 0 ;;
  "-m venv .venv") mkdir -p .venv/bin && cp "$0" .venv/bin/python && exit 0 ;;
  *"-m pip install"*) touch pip-started; exec sleep 60 ;;
  *) exit 0 ;;
esac
"""


def test_ctrl_c_during_the_first_install_says_so_in_one_line_and_leaves_no_half_venv(
        tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    (tmp_path / "scripts" / "lib").mkdir(parents=True)
    (tmp_path / "scripts" / "lib" / "venv.sh").write_text(
        (root / "scripts" / "lib" / "venv.sh").read_text())
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    fake = tmp_path / "fake-python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    process = subprocess.Popen(
        ["bash", "-c", "set -euo pipefail; source scripts/lib/venv.sh; ensure_venv ''; "
                       "echo installed"],
        cwd=tmp_path, env={**os.environ, "PYTHON": str(fake)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 30
    while not (tmp_path / "pip-started").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, (out, err)
    # The set-up's progress lines (one per step), then one line for the interruption.
    lines = err.splitlines()
    assert lines[:-1] == ["bash: creating .venv",
                          "bash: installing the project into .venv (pip; a minute or so the "
                          "first time)"], err
    assert lines[-1] == "bash: interrupted while setting up .venv; run it again to finish"
    assert "installed" not in out
    assert not (tmp_path / ".venv").exists()
