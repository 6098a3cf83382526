"""``mock-servicenow serve``: ready line, TLS, and one-line failures (issue: bad input)."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "mock_servicenow", *args]


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["MOCK_SERVICENOW_HOME"] = str(tmp_path / "home")
    env["MOCK_SERVICENOW_HASH_ITERATIONS"] = "1000"
    return env


@contextmanager
def serving(tmp_path: Path, *args: str) -> Iterator[dict[str, str]]:
    """Start ``serve`` and read its banner up to ``ready:``; stop it afterwards."""
    process = subprocess.Popen(_cmd("serve", "--port", "0", "--quiet", *args),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=_env(tmp_path), cwd=tmp_path)
    lines: dict[str, str] = {}
    try:
        assert process.stdout is not None
        for line in process.stdout:
            key, _, value = line.strip().partition(": ")
            lines[key] = value
            if key == "ready":
                break
        else:
            pytest.fail(f"serve exited early: {process.stderr.read() if process.stderr else ''}")
        yield lines
    finally:
        process.terminate()
        process.communicate(timeout=10)


def _fails_with_one_line(tmp_path: Path, *args: str) -> str:
    result = subprocess.run(_cmd(*args), capture_output=True, text=True, env=_env(tmp_path),
                            cwd=tmp_path, timeout=60)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_serve_prints_ready_and_answers_info(tmp_path: Path) -> None:
    with serving(tmp_path) as banner:
        info = httpx.get(f"{banner['ready']}/_emulator/info").json()
    assert info["instance_name"] == "dev00000"
    assert info["tables"]["incident"] > 0
    assert (tmp_path / "home" / "instance.db").exists()


def test_serve_tls_is_verified_with_the_printed_bundle(tmp_path: Path) -> None:
    with serving(tmp_path, "--tls") as banner:
        assert banner["ready"].startswith("https://")
        bundle = banner["ca-bundle"]
        verify = ssl.create_default_context(cafile=bundle)
        response = httpx.get(f"{banner['ready']}/_emulator/info", verify=verify)
        assert response.status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{banner['ready']}/_emulator/info")  # system trust store: refused
    # the CA is reused on restart: clients keep trusting the bundle they were given
    first = Path(bundle).read_bytes()
    with serving(tmp_path, "--tls") as banner:
        assert Path(banner["ca-bundle"]).read_bytes() == first


def test_serve_memory(tmp_path: Path) -> None:
    with serving(tmp_path, "--memory", "--empty") as banner:
        info = httpx.get(f"{banner['ready']}/_emulator/info").json()
    assert info["database"] == ":memory:"
    assert info["tables"]["incident"] == 0


def test_unknown_flag_is_one_line(tmp_path: Path) -> None:
    assert "unrecognized arguments: --frobnicate" in _fails_with_one_line(
        tmp_path, "serve", "--frobnicate")


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = _fails_with_one_line(tmp_path, "serve", "--port", str(port), "--memory")
    assert line == f"mock-servicenow: port {port} on 127.0.0.1 is already in use"


def test_unwritable_database_path_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    line = _fails_with_one_line(tmp_path, "serve", "--db", str(blocker / "x.db"))
    assert line.startswith("mock-servicenow: cannot open database")


def test_corrupt_database_is_one_line(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not sqlite" * 100)
    line = _fails_with_one_line(tmp_path, "serve", "--db", str(corrupt))
    assert "is not a usable SQLite database" in line


def test_unknown_release_is_one_line(tmp_path: Path) -> None:
    assert "unknown release 'neptune'" in _fails_with_one_line(
        tmp_path, "serve", "--release", "neptune")


def test_reset_command(tmp_path: Path) -> None:
    with serving(tmp_path, "--memory") as banner:
        result = subprocess.run(_cmd("reset", "--url", banner["ready"]), capture_output=True,
                                text=True, env=_env(tmp_path), timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("reset: ")
