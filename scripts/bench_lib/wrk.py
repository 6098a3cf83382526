"""Running wrk (Debian's package) and reading its report."""

from __future__ import annotations

import re
import statistics
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class WrkRun:
    """One wrk run: throughput, latency percentiles (ms), failures."""

    requests_per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse(output: str) -> WrkRun:
    """Read ``wrk --latency`` output."""
    def percentile(p: str) -> float:
        match = re.search(rf"^\s+{p}%\s+(\S+)", output, re.M)
        if not match:
            raise ValueError(f"no {p}% line in wrk output:\n{output}")
        return _ms(match.group(1))

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    if not rps or not total:
        raise ValueError(f"unexpected wrk output:\n{output}")
    return WrkRun(
        requests_per_second=float(rps.group(1)),
        p50_ms=percentile("50"), p90_ms=percentile("90"), p99_ms=percentile("99"),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )


def run(url: str, *, seconds: float, connections: int, threads: int,
        headers: dict[str, str] | None = None, script: Path | None = None) -> WrkRun:
    """One wrk run against ``url``."""
    command = ["wrk", "--latency", "-d", f"{seconds:g}s", "-c", str(connections),
               "-t", str(min(threads, connections)), "--timeout", "10s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    command.append(url)
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60,
                            check=False)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed: {result.stderr.strip() or result.stdout.strip()}")
    return parse(result.stdout)


def median_of(runs: list[WrkRun]) -> dict[str, Any]:
    """Medians over repeated runs, and every run for the record."""
    return {
        "requests_per_second": statistics.median(r.requests_per_second for r in runs),
        "p50_ms": statistics.median(r.p50_ms for r in runs),
        "p90_ms": statistics.median(r.p90_ms for r in runs),
        "p99_ms": statistics.median(r.p99_ms for r in runs),
        "non_2xx": sum(r.non_2xx for r in runs),
        "socket_errors": sum(r.socket_errors for r in runs),
        "runs": [asdict(r) for r in runs],
    }


def post_script(path: Path, body: str) -> Path:
    """A wrk Lua script sending ``body`` as a JSON POST."""
    escaped = body.replace("\\", "\\\\").replace("'", "\\'")
    path.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = '{escaped}'\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    return path
