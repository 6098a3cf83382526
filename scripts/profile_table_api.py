#!/usr/bin/env python3
"""Profile the Table API requests of ``scripts/bench`` in-process (issue 9).

Usage: ``.venv/bin/python scripts/profile_table_api.py [--incidents 100000] [--repeat 200]
[--profile clock|get|get_bearer|list|list_all|post|none] [--db PATH]``

Builds the bench's data set once (``scripts/bench_lib/dataset.py``; kept at ``--db`` when
given, reused when that file exists), then sends the bench's requests through httpx over
``WSGITransport`` and prints the median milliseconds of each. With ``--profile`` one of them
runs under pyinstrument (``pip install pyinstrument`` into ``.venv``; not a project
dependency) and its call tree is printed.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts" / "bench_lib"))

import dataset  # noqa: E402
import httpx  # noqa: E402

from mock_servicenow.app import create_app  # noqa: E402
from mock_servicenow.settings import Settings  # noqa: E402

BASIC = "Basic " + base64.b64encode(b"admin:admin").decode()


def _median_ms(call: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> int:
    """Build (or reuse) the data set, time the requests, profile one of them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--profile", default="none",
                        choices=("none", "clock", "get", "get_bearer", "list", "list_all",
                                 "post"))
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory()
    path = args.db or Path(folder.name) / "bench.db"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        info = json.loads(meta.read_text())
    else:
        data = dataset.build(path, args.incidents, hash_iterations=1000)
        info = {"sample": data.sample_sys_id, "group": data.group_sys_id,
                "client_id": data.client_id, "client_secret": data.client_secret}
        meta.write_text(json.dumps(info))
    settings = Settings(database_path=str(path), password_hash_iterations=1000,
                        secret_key="bench", home=path.parent)
    app = create_app(settings)
    client = httpx.Client(transport=httpx.WSGITransport(app=app),
                          base_url="https://dev00000.service-now.test",
                          headers={"Accept": "application/json", "Authorization": BASIC})
    token = client.post("/oauth_token.do", data={
        "grant_type": "password", "client_id": info["client_id"],
        "client_secret": info["client_secret"], "username": "admin", "password": "admin"},
        headers={"Authorization": ""}).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    query = f"sysparm_query=assignment_group%3D{info['group']}&sysparm_limit=100"
    body = json.dumps({"short_description": "bench POST", "impact": "2", "urgency": "2",
                       "caller_id": "6816f79cc0a8016401c5a33be04be441"})
    calls: dict[str, Callable[[], httpx.Response]] = {
        "clock": lambda: client.get("/_emulator/clock"),
        "get": lambda: client.get(f"/api/now/table/incident/{info['sample']}"),
        "get_bearer": lambda: client.get(f"/api/now/table/incident/{info['sample']}",
                                         headers=bearer),
        "list": lambda: client.get(f"/api/now/table/incident?{query}"),
        "list_all": lambda: client.get(
            f"/api/now/table/incident?{query}&sysparm_display_value=all"),
        "post": lambda: client.post("/api/now/table/incident", content=body,
                                    headers={"Content-Type": "application/json"}),
    }
    for name, call in calls.items():
        answer = call()
        assert answer.status_code in (200, 201), (name, answer.status_code, answer.text[:300])
    for name, call in calls.items():
        print(f"{name:10} {_median_ms(call, args.repeat):8.2f} ms", flush=True)
    if args.profile != "none":
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
        profiler.start()
        for _ in range(args.repeat):
            calls[args.profile]()
        profiler.stop()
        every_frame = bool(os.environ.get("PROFILE_ALL"))  # PROFILE_ALL=1: library frames too
        print(profiler.output_text(unicode=False, color=False, show_all=every_frame))
    client.close()
    folder.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
