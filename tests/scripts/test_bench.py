"""``scripts/bench``: reading wrk's report and judging the targets (the fragile parts).

The full bench takes minutes and needs wrk; it is run by hand (docs/performance.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts" / "bench_lib"))

import run  # noqa: E402
import wrk  # noqa: E402

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:40000/api/now/table/incident/x
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms    1.20ms  40.00ms   90.00%
    Req/Sec     1.00k   100.00     1.20k    70.00%
  Latency Distribution
     50%  850.00us
     75%    2.00ms
     90%    3.50ms
     99%    1.20s
  10000 requests in 5.00s, 30.00MB read
  Non-2xx or 3xx responses: 7
Requests/sec:   2000.50
Transfer/sec:      6.00MB
"""


def test_wrk_report_is_read_with_units() -> None:
    parsed = wrk.parse(WRK_OUTPUT)
    assert parsed.requests_per_second == 2000.5
    assert parsed.p50_ms == pytest.approx(0.85)
    assert parsed.p90_ms == pytest.approx(3.5)
    assert parsed.p99_ms == pytest.approx(1200.0)
    assert parsed.requests == 10000 and parsed.non_2xx == 7 and parsed.socket_errors == 0


def test_unexpected_wrk_output_is_an_error_not_a_number() -> None:
    with pytest.raises(ValueError):
        wrk.parse("wrk: connection refused")


def test_medians_over_runs() -> None:
    runs = [wrk.WrkRun(r, r / 1000, 1.0, 2.0, 10, 0, 0) for r in (100.0, 300.0, 200.0)]
    assert wrk.median_of(runs)["requests_per_second"] == 200.0


def test_targets_hold_miss_or_are_not_available() -> None:
    results = {
        "baseline_get": {"requests_per_second": 1000.0, "p50_ms": 1.0},
        "get_basic": {"requests_per_second": 600.0, "p50_ms": 2.0},
        "list_100": {"requests_per_second": 100.0, "p50_ms": 7.0},
        "post_incident": {"kind": "not available", "reason": "HTTP 400"},
        "reset": {"median_ms": 3.0},
        "cold_start_existing_db": {"median_s": 1.5},
        "connector_sync_10000": {"requests": 103, "pages": 100},
    }
    status = {row["target"]: (row["value"], row["status"]) for row in run.targets(results)}
    assert status["GET by sys_id (Basic) / baseline, socket"] == (0.6, "ok")
    assert status["POST incident / baseline GET, socket"] == (None, "n/a")
    assert status["list 100 of 100,000: p50 / GET p50"] == (3.5, "MISSED")
    assert status["reset of a seeded instance (ms)"] == (3.0, "ok")
    assert status["cold start, serve to ready: (s)"] == (1.5, "MISSED")
    assert status["connector sync: requests - pages"] == (3.0, "MISSED")


def test_the_data_load_reports_progress_and_is_quiet_off_a_terminal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import dataset  # noqa: E402  (scripts/bench_lib, on sys.path above)

    seen: list[tuple[int, int]] = []
    data = dataset.build(tmp_path / "d.db", 25_000, hash_iterations=1000,
                         progress=lambda done, total: seen.append((done, total)))
    assert data.incidents == 25_000
    assert seen == [(10_000, 25_000), (20_000, 25_000), (25_000, 25_000)]
    bench = run.Bench.__new__(run.Bench)
    bench.load_progress(25_000, 25_000)  # stderr is captured: not a terminal
    assert capsys.readouterr().err == ""
