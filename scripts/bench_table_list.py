#!/usr/bin/env python3
"""Table API listing benchmark: 100 of 100,000 incidents with an indexed filter vs a GET.

Usage: ``.venv/bin/python scripts/bench_table_list.py [--rows 100000] [--repeat 200]``

Builds a fresh instance in a temporary directory, bulk-inserts the incidents in one
transaction, then times (in-process, Flask test client, Basic auth as admin):

* a bare Flask route (the floor: routing + WSGI),
* ``GET /api/now/table/incident/{sys_id}``,
* ``GET /api/now/table/incident?sysparm_query=priority=1&sysparm_limit=100`` (``priority`` is
  indexed with ``sys_class_name``), the same with ``sysparm_no_count=true``, and ordered by
  ``number`` (indexed).

Prints the median and p95 per request in milliseconds, and the list/GET ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mock_servicenow.app import create_app  # noqa: E402
from mock_servicenow.domain.platform.seed import storage_row  # noqa: E402
from mock_servicenow.settings import Settings  # noqa: E402
from mock_servicenow.store import rows  # noqa: E402


def _timed(call: object, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_path=str(Path(folder) / "bench.db"), home=Path(folder),
                            admin_password="admin", password_hash_iterations=1000,
                            secret_key="bench", random_seed=1, access_log=False)
        app = create_app(settings)
        app.add_url_rule("/_bench/bare", "bare", lambda: "ok")
        instance = app.extensions["mock_servicenow"].instance
        db = instance.connect()
        ctx = instance.context(db)
        started = time.perf_counter()
        with db.atomic():
            for index in range(args.rows):
                impact, urgency = 1 + index % 3, 1 + (index // 3) % 3
                row = storage_row(ctx.dictionary, "incident", {
                    "number": f"INC{1_000_000 + index:07d}", "short_description": f"bench {index}",
                    "impact": impact, "urgency": urgency,
                    "priority": {2: 1, 3: 2, 4: 3, 5: 4, 6: 5}[impact + urgency],
                    "state": 1 + index % 3, "caller_id": "6816f79cc0a8016401c5a33be04be441",
                }, stamp="2026-01-01 00:00:00", user_name="admin")
                row["sys_id"] = f"{index:032x}"
                rows.insert(db, ctx.dictionary, "incident", row)
        db.execute("ANALYZE")
        db.close()
        print(f"inserted {args.rows} incidents in {time.perf_counter() - started:.1f}s")
        client = app.test_client()
        auth = {"Authorization": "Basic YWRtaW46YWRtaW4=", "Accept": "application/json"}
        sys_id = f"{args.rows // 2:032x}"
        query = "sysparm_query=priority%3D1&sysparm_limit=100"
        ordered = "sysparm_query=priority%3D1%5EORDERBYnumber&sysparm_limit=100"
        cases = {
            "bare flask route": lambda: client.get("/_bench/bare"),
            "GET by sys_id": lambda: client.get(f"/api/now/table/incident/{sys_id}",
                                                headers=auth),
            "list 100 (priority=1)": lambda: client.get(
                f"/api/now/table/incident?{query}", headers=auth),
            "list 100 (priority=1, no count)": lambda: client.get(
                f"/api/now/table/incident?{query}&sysparm_no_count=true", headers=auth),
            "list 100 (priority=1^ORDERBYnumber)": lambda: client.get(
                f"/api/now/table/incident?{ordered}", headers=auth),
        }
        check = client.get(f"/api/now/table/incident?{query}", headers=auth)
        assert check.status_code == 200 and len(check.get_json()["result"]) == 100, check.data
        print(f"matching rows (X-Total-Count): {check.headers['X-Total-Count']}")
        medians = {}
        for name, call in cases.items():
            _timed(call, 10)  # warm-up
            samples = _timed(call, args.repeat)
            medians[name] = statistics.median(samples)
            p95 = statistics.quantiles(samples, n=20)[-1]
            print(f"{name:40s} median {medians[name]:7.2f} ms   p95 {p95:7.2f} ms")
        get = medians["GET by sys_id"]
        for name in [n for n in cases if n.startswith("list")]:
            print(f"{name} / GET by sys_id = {medians[name] / get:.2f}x")
        instance.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
