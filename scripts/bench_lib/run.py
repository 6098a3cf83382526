"""``scripts/bench``: the emulator against a bare Flask baseline, in the same run (issue 9 item 1).

Every figure is a median over repeated runs. Socket figures come from wrk against
gunicorn (``serve --workers N``, and the baseline served by the same function with the same
settings); in-process figures from an httpx client over ``WSGITransport`` in this process.

Ratios are **paired**: both servers stay up, and each round measures the reference (the
baseline, or a GET by sys_id for the listings) right next to the subject, alternating which
goes first; the ratio reported is the median of the rounds' ratios. The machines are
shared and their load comes in bursts: a baseline measured a minute earlier can be 2.5x
faster or slower than the same baseline now, while neighbours in time see the same load.

A measurement whose endpoint does not exist yet (4xx/5xx on a probe) is reported as "not
available", never as a number. Output: a table on stdout, JSON under ``bench-results/``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dataset
import httpx
import wrk
from baseline import create_baseline_app

ROOT = Path(__file__).resolve().parents[2]
BASIC = "Basic " + base64.b64encode(b"admin:admin").decode()
JSON_HEADERS = {"Accept": "application/json"}


#: wrk's keep-alive connections per gunicorn worker. Workers accept connections in a race:
#: with 2 per worker (4 for 2 workers), all of them landed on one worker in about one run
#: in eight (2 x 1/2^4), which then served alone at a third of the throughput, for the
#: baseline and the emulator alike. With 4 per worker that is 2 / 2^8, under 1 %.
CONNECTIONS_PER_WORKER = 4


class NotAvailable(Exception):
    """The endpoint a measurement needs answers 4xx/5xx (not merged yet, or broken)."""


@dataclass(frozen=True)
class Target:
    """One wrk target: URL, headers, optional Lua script."""

    url: str
    headers: dict[str, str] | None = None
    script: Path | None = None

    def run(self, bench: Bench) -> wrk.WrkRun:
        """One wrk run of ``--seconds`` against this target."""
        return wrk.run(self.url, seconds=bench.args.seconds,
                       connections=CONNECTIONS_PER_WORKER * bench.args.workers,
                       threads=os.cpu_count() or 2,
                       headers=self.headers, script=self.script)


# -- processes -------------------------------------------------------------------------------


@contextmanager
def serving(command: list[str], env: dict[str, str], cwd: Path) -> Iterator[str]:
    """Start a server command, wait for its ``ready:`` line, yield the URL, stop it."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=cwd)
    try:
        url = _wait_ready(process)
        yield url
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def _wait_ready(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("ready: "):
            return line.split(" ", 1)[1].strip()
    stderr = process.stderr.read() if process.stderr else ""
    raise RuntimeError(f"server exited before ready: {stderr.strip()[-2000:]}")


def emulator_command(*args: str) -> list[str]:
    """``mock-servicenow`` from this interpreter's environment."""
    return [sys.executable, "-m", "mock_servicenow", *args]


# -- measurements ----------------------------------------------------------------------------


class Bench:
    """One bench run: settings, a scratch directory, the results so far."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.results: dict[str, Any] = {}
        self.env = dict(os.environ)
        self.env["MOCK_SERVICENOW_HOME"] = str(work / "home")
        self.env["MOCK_SERVICENOW_HASH_ITERATIONS"] = str(args.hash_iterations)
        self.env["PYTHONPATH"] = str(Path(__file__).resolve().parent)

    def log(self, message: str) -> None:
        """Progress on stderr (the table goes to stdout)."""
        print(f"bench: {message}", file=sys.stderr, flush=True)

    def load_progress(self, done: int, total: int) -> None:
        """The data load's progress, redrawn in place on a terminal only (quiet in a log)."""
        if not sys.stderr.isatty():
            return
        end = "\n" if done >= total else ""
        print(f"\rbench: loaded {done:,} of {total:,} incidents", end=end, file=sys.stderr,
              flush=True)

    def wrk(self, name: str, url: str, *, headers: dict[str, str] | None = None,
            script: Path | None = None) -> dict[str, Any]:
        """Median of ``--runs`` wrk runs, :data:`CONNECTIONS_PER_WORKER` per worker."""
        runs = [wrk.run(url, seconds=self.args.seconds,
                        connections=CONNECTIONS_PER_WORKER * self.args.workers,
                        threads=os.cpu_count() or 2, headers=headers, script=script)
                for _ in range(self.args.runs)]
        result = {"kind": "socket", **wrk.median_of(runs)}
        self.results[name] = result
        if result["non_2xx"] or result["socket_errors"]:
            result["note"] = "some requests failed: see runs"
        self.log(f"{name}: {result['requests_per_second']:.0f} req/s, "
                 f"p50 {result['p50_ms']:.2f} ms")
        return result

    def wrk_paired(self, name: str, subject: Target, reference: Target, reference_name: str,
                   *, compare: str = "throughput") -> dict[str, Any]:
        """``--runs`` rounds of (reference, subject), alternating which runs first; the
        subject's medians plus ``ratio``: the median over rounds of subject/reference
        requests per second (``compare="throughput"``) or p50 latency (``"latency"``)."""
        subject_runs, reference_runs, ratios = [], [], []
        for round_number in range(self.args.runs):
            if round_number % 2 == 0:
                ref, sub = reference.run(self), subject.run(self)
            else:
                sub, ref = subject.run(self), reference.run(self)
            subject_runs.append(sub)
            reference_runs.append(ref)
            if compare == "throughput":
                ratios.append(sub.requests_per_second / ref.requests_per_second)
            else:
                ratios.append(sub.p50_ms / ref.p50_ms)
        reference_median = wrk.median_of(reference_runs)
        result = {"kind": "socket", **wrk.median_of(subject_runs),
                  "paired_with": reference_name, "compare": compare,
                  "ratio": statistics.median(ratios), "ratio_runs": ratios,
                  "reference": reference_median}
        self.results[name] = result
        if result["non_2xx"] or result["socket_errors"]:
            result["note"] = "some requests failed: see runs"
        self.log(f"{name}: {result['requests_per_second']:.0f} req/s, "
                 f"p50 {result['p50_ms']:.2f} ms; {reference_name} next to it "
                 f"{reference_median['requests_per_second']:.0f} req/s, p50 "
                 f"{reference_median['p50_ms']:.2f} ms; ratio {result['ratio']:.3f}")
        return result

    def in_process_paired(self, name: str, client: httpx.Client,
                          call: Callable[[httpx.Client], httpx.Response],
                          reference_client: httpx.Client,
                          reference_call: Callable[[httpx.Client], httpx.Response],
                          reference_name: str) -> dict[str, Any]:
        """In-process rounds of (reference, subject), alternating; ``ratio`` is the median
        over rounds of subject/reference requests per second."""
        rates, p50s, reference_rates, ratios = [], [], [], []
        for round_number in range(self.args.runs):
            pair = [(reference_client, reference_call), (client, call)]
            if round_number % 2:
                pair.reverse()
            measured = {id(c): self._loop(c, f) for c, f in pair}
            (rate, p50), (reference_rate, _) = measured[id(client)], measured[id(reference_client)]
            rates.append(rate)
            p50s.append(p50)
            reference_rates.append(reference_rate)
            ratios.append(rate / reference_rate)
        result = {"kind": "in-process", "requests_per_second": statistics.median(rates),
                  "p50_ms": statistics.median(p50s), "runs_requests_per_second": rates,
                  "paired_with": reference_name, "compare": "throughput",
                  "ratio": statistics.median(ratios), "ratio_runs": ratios,
                  "reference": {"requests_per_second": statistics.median(reference_rates),
                                "runs_requests_per_second": reference_rates}}
        self.results[name] = result
        self.log(f"{name}: {result['requests_per_second']:.0f} req/s in-process; "
                 f"{reference_name} next to it "
                 f"{statistics.median(reference_rates):.0f} req/s; ratio {result['ratio']:.3f}")
        return result

    def _loop(self, client: httpx.Client,
              call: Callable[[httpx.Client], httpx.Response]) -> tuple[float, float]:
        """One single-thread loop of ``--in-process-seconds``: (requests/s, p50 ms)."""
        latencies: list[float] = []
        deadline = time.perf_counter() + self.args.in_process_seconds
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = call(client)
            latencies.append(time.perf_counter() - started)
            if response.status_code >= 400:
                raise NotAvailable(f"HTTP {response.status_code}")
        return len(latencies) / sum(latencies), statistics.median(latencies) * 1000

    def in_process(self, name: str, client: httpx.Client,
                   call: Callable[[httpx.Client], httpx.Response]) -> dict[str, Any]:
        """Median of ``--runs`` single-thread loops of ``--in-process-seconds`` each."""
        rates, p50s = [], []
        for _ in range(self.args.runs):
            rate, p50 = self._loop(client, call)
            rates.append(rate)
            p50s.append(p50)
        result = {"kind": "in-process", "requests_per_second": statistics.median(rates),
                  "p50_ms": statistics.median(p50s), "runs_requests_per_second": rates}
        self.results[name] = result
        self.log(f"{name}: {result['requests_per_second']:.0f} req/s in-process")
        return result

    def unavailable(self, name: str, reason: str) -> None:
        """Record a measurement that cannot be taken on this build."""
        self.results[name] = {"kind": "not available", "reason": reason}
        self.log(f"{name}: not available ({reason})")

    # -- the measurements, in order ------------------------------------------------------

    def baseline(self, url: str) -> Target:
        """Bare Flask over gunicorn with the emulator's settings (served by the caller for
        the whole socket phase): one plain measurement for the table, and the target every
        socket ratio is paired with."""
        target = Target(f"{url}/api/now/table/incident/{'0' * 32}")
        self.wrk("baseline_get", target.url)
        return target

    def emulator_socket(self, data: dataset.DataSet) -> None:
        """Everything measured against ``serve --workers N`` on the loaded database, with the
        baseline served next to it."""
        database = self.work / "served.db"
        shutil.copyfile(data.path, database)
        command = emulator_command("serve", "--workers", str(self.args.workers), "--port", "0",
                                   "--db", str(database), "--quiet")
        baseline_command = [sys.executable, str(Path(__file__).with_name("baseline.py")),
                            "--port", "0", "--workers", str(self.args.workers)]
        with serving(baseline_command, self.env, self.work) as baseline_url, \
                serving(command, self.env, self.work) as url:
            baseline = self.baseline(baseline_url)
            self.control_plane(url)
            get = self.get_by_sys_id(url, data, baseline)
            self.get_with_bearer(url, data, baseline)
            self.listing(url, data, get)
            self.connector_sync(url, data)
            self.post(url, baseline)
            self.reset(url)

    def control_plane(self, url: str) -> None:
        """A light emulator endpoint that exists today (clock read: one state row)."""
        self.wrk("emulator_clock_get", f"{url}/_emulator/clock")

    def _probe(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = httpx.request(method, url, timeout=30, **kwargs)
        if response.status_code >= 400:
            raise NotAvailable(f"{method} {httpx.URL(url).path} answers "
                               f"HTTP {response.status_code}")
        return response

    def get_by_sys_id(self, url: str, data: dataset.DataSet,
                      baseline: Target) -> Target | None:
        """GET one incident by sys_id with Basic auth, paired with the baseline."""
        target = Target(f"{url}/api/now/table/incident/{data.sample_sys_id}",
                        {**JSON_HEADERS, "Authorization": BASIC})
        try:
            self._probe("GET", target.url, headers=target.headers)
        except NotAvailable as exc:
            self.unavailable("get_basic", str(exc))
            return None
        self.wrk_paired("get_basic", target, baseline, "baseline_get")
        return target

    def bearer_token(self, url: str, data: dataset.DataSet) -> str:
        """A Bearer token from the password grant (``POST /oauth_token.do``), for the OAuth
        client the data set registered with the identity module's ``create_client``."""
        if data.client_id is None or data.client_secret is None:
            raise NotAvailable("no OAuth client (identity module missing)")
        token = self._probe("POST", f"{url}/oauth_token.do", data={
            "grant_type": "password", "client_id": data.client_id,
            "client_secret": data.client_secret, "username": "admin", "password": "admin"})
        return str(token.json()["access_token"])

    def get_with_bearer(self, url: str, data: dataset.DataSet, baseline: Target) -> None:
        """GET one incident by sys_id with a Bearer token, paired with the baseline."""
        try:
            token = self.bearer_token(url, data)
            target = Target(f"{url}/api/now/table/incident/{data.sample_sys_id}",
                            {**JSON_HEADERS, "Authorization": f"Bearer {token}"})
            self._probe("GET", target.url, headers=target.headers)
        except NotAvailable as exc:
            self.unavailable("get_bearer", str(exc))
            return
        self.wrk_paired("get_bearer", target, baseline, "baseline_get")

    def listing(self, url: str, data: dataset.DataSet, get: Target | None) -> None:
        """100 incidents filtered on an indexed field, raw and with display values; each
        paired with the GET by sys_id (the target compares their p50 latencies)."""
        headers = {**JSON_HEADERS, "Authorization": BASIC}
        query = f"sysparm_query=assignment_group%3D{data.group_sys_id}&sysparm_limit=100"
        for name, extra in (("list_100", ""), ("list_100_display_all",
                                               "&sysparm_display_value=all")):
            target = Target(f"{url}/api/now/table/incident?{query}{extra}", headers)
            try:
                if get is None:
                    raise NotAvailable("GET by sys_id is not available")
                answer = self._probe("GET", target.url, headers=headers)
                count = len(answer.json().get("result", []))
                if count != 100:
                    raise NotAvailable(f"expected 100 records, got {count}")
            except (NotAvailable, ValueError) as exc:
                self.unavailable(name, str(exc))
                continue
            assert get is not None
            self.wrk_paired(name, target, get, "get_basic", compare="latency")

    def post(self, url: str, baseline: Target) -> None:
        """POST one incident (numbering, business rules, commit), paired with the baseline."""
        target_url = f"{url}/api/now/table/incident"
        body = json.dumps({"short_description": "bench POST", "impact": "2", "urgency": "2",
                           "caller_id": "6816f79cc0a8016401c5a33be04be441"})
        headers = {**JSON_HEADERS, "Authorization": BASIC}
        try:
            answer = self._probe("POST", target_url, headers={
                **headers, "Content-Type": "application/json"}, content=body)
            if answer.status_code != 201:
                raise NotAvailable(f"POST answered HTTP {answer.status_code}, not 201")
        except NotAvailable as exc:
            self.unavailable("post_incident", str(exc))
            return
        script = wrk.post_script(self.work / "post.lua", body)
        self.wrk_paired("post_incident", Target(target_url, headers, script), baseline,
                        "baseline_get")

    def reset(self, url: str) -> None:
        """Reset a seeded instance (one created by name, so the loaded data stays)."""
        created = httpx.post(f"{url}/_emulator/instances", json={"name": "bench-reset"},
                             timeout=30)
        if created.status_code not in (201, 409):
            self.unavailable("reset", f"instance creation answered {created.status_code}")
            return
        host = {"Host": "bench-reset.localhost"}
        client_ms, server_ms = [], []
        with httpx.Client(base_url=url, headers=host, timeout=30) as client:
            for _ in range(self.args.resets):
                started = time.perf_counter()
                answer = client.post("/_emulator/reset")
                client_ms.append((time.perf_counter() - started) * 1000)
                answer.raise_for_status()
                server_ms.append(float(answer.json()["elapsed_ms"]))
        self.results["reset"] = {
            "kind": "socket", "median_ms": statistics.median(server_ms),
            "round_trip_median_ms": statistics.median(client_ms), "runs": len(server_ms),
            "creation_ms": created.json().get("elapsed_ms"),
        }
        self.log(f"reset: {statistics.median(server_ms):.2f} ms (server), "
                 f"{statistics.median(client_ms):.2f} ms round trip")

    def emulator_in_process(self, data: dataset.DataSet) -> None:
        """GET by sys_id and the clock read in-process on a copy of the loaded database; the
        GET paired with the bare Flask app called the same way."""
        from mock_servicenow.app import create_app
        from mock_servicenow.settings import Settings

        database = self.work / "in-process.db"
        shutil.copyfile(data.path, database)
        settings = Settings(database_path=str(database), home=self.work / "home",
                            password_hash_iterations=self.args.hash_iterations,
                            secret_key="bench")
        app = create_app(settings)
        baseline_path = f"/api/now/table/incident/{'0' * 32}"
        try:
            with httpx.Client(transport=httpx.WSGITransport(app=app),
                              base_url="https://dev00000.service-now.test",
                              headers=JSON_HEADERS) as client, \
                    httpx.Client(transport=httpx.WSGITransport(app=create_baseline_app()),
                                 base_url="https://bench.service-now.test") as baseline:
                self.in_process("baseline_get_in_process", baseline,
                                lambda c: c.get(baseline_path))
                self.in_process("emulator_clock_get_in_process", client,
                                lambda c: c.get("/_emulator/clock"))
                target = f"/api/now/table/incident/{data.sample_sys_id}"
                # The header as wrk sends it: httpx's auth flow is client work, not the
                # emulator's.
                basic = {"Authorization": BASIC}
                try:
                    self.in_process_paired(
                        "get_basic_in_process", client,
                        lambda c: c.get(target, headers=basic),
                        baseline, lambda c: c.get(baseline_path), "baseline_get_in_process")
                except NotAvailable as exc:
                    self.unavailable("get_basic_in_process", f"GET {target} answers {exc}")
        finally:
            app.extensions["mock_servicenow"].instances.close()
            app.extensions["mock_servicenow"].instance.close()

    def cold_start(self) -> None:
        """``serve`` to ``ready:``: fresh database (seeds), existing database, and workers."""
        cases = {
            "cold_start_new_db": ("--port", "0", "--quiet"),
            "cold_start_existing_db": ("--port", "0", "--quiet"),
            "cold_start_workers_existing_db": ("--port", "0", "--quiet", "--workers",
                                               str(self.args.workers)),
        }
        for name, args in cases.items():
            timings = []
            for attempt in range(self.args.runs):
                database = self.work / ("cold-existing.db" if "existing" in name
                                        else f"cold-new-{attempt}.db")
                command = emulator_command("serve", "--db", str(database), *args)
                started = time.perf_counter()
                with serving(command, self.env, self.work):
                    timings.append(time.perf_counter() - started)
            self.results[name] = {"kind": "process", "median_s": statistics.median(timings),
                                  "runs_s": timings}
            self.log(f"{name}: {statistics.median(timings):.3f} s")

    def connector_sync(self, url: str, data: dataset.DataSet) -> None:
        """The connector (its library API) syncing ``data.tickets`` tickets over the socket.

        Requests are counted by a transport wrapped around httpx's own; a page is
        ``page_size`` rows, so the target is requests <= pages + 2.
        """
        name = f"connector_sync_{data.tickets}"
        try:
            from connector.api import Connector
            from connector.settings import ConnectorSettings
        except ImportError as exc:
            self.unavailable(name, f"the connector is not installed ({exc})")
            return
        if data.client_id is None or data.client_secret is None:
            self.unavailable(name, "no OAuth client (identity module missing)")
            return
        counting = CountingTransport(httpx.HTTPTransport())
        settings = ConnectorSettings(home=self.work / "connector")
        connector = Connector(settings, transport=counting)
        try:
            connector.connect_with_password(url, data.client_id, data.client_secret,
                                            "admin", "admin")
            counting.requests.clear()
            started = time.perf_counter()
            result = connector.sync()
            seconds = time.perf_counter() - started
        except Exception as exc:  # the connector's errors: report, do not crash the bench
            self.unavailable(name, f"{type(exc).__name__}: {str(exc)[:160]}")
            return
        pages = -(-data.tickets // settings.page_size)
        self.results[name] = {
            "kind": "socket", "tickets": result.pulled, "requests": len(counting.requests),
            "pages": pages, "seconds": seconds,
            "tickets_per_second": result.pulled / seconds if seconds else None,
            "requests_by_path": _histogram(counting.requests),
        }
        self.log(f"{name}: {len(counting.requests)} requests for {pages} pages, "
                 f"{result.pulled / seconds:.0f} tickets/s")


class CountingTransport(httpx.BaseTransport):
    """Counts what goes over the wire (method and path of each request)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def _histogram(requests: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in requests:
        counts[entry] = counts.get(entry, 0) + 1
    return counts


# -- report ----------------------------------------------------------------------------------


def _value(results: dict[str, Any], name: str, key: str) -> float | None:
    entry = results.get(name, {})
    value = entry.get(key)
    return float(value) if isinstance(value, int | float) else None


def _paired_ratio(results: dict[str, Any], name: str, reference: str, key: str) -> float | None:
    """The paired ratio of ``name`` (median over rounds, see ``Bench.wrk_paired``); for
    results without one, ``name``'s median over ``reference``'s."""
    paired = results.get(name, {}).get("ratio")
    if isinstance(paired, int | float):
        return float(paired)
    a, b = _value(results, name, key), _value(results, reference, key)
    return None if a is None or b is None or b == 0 else a / b


def _sync_excess(results: dict[str, Any]) -> float | None:
    for name, entry in results.items():
        if name.startswith("connector_sync_") and "requests" in entry:
            return float(entry["requests"] - entry["pages"])
    return None


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with its measured value and whether it holds."""
    rps, p50 = "requests_per_second", "p50_ms"
    rows = [
        ("GET by sys_id (Basic) / baseline, socket",
         _paired_ratio(results, "get_basic", "baseline_get", rps), ">=", 0.5),
        ("GET by sys_id (Bearer) / baseline, socket",
         _paired_ratio(results, "get_bearer", "baseline_get", rps), ">=", 0.5),
        ("GET by sys_id (Basic) / baseline, in-process",
         _paired_ratio(results, "get_basic_in_process", "baseline_get_in_process", rps),
         ">=", 0.5),
        ("POST incident / baseline GET, socket",
         _paired_ratio(results, "post_incident", "baseline_get", rps), ">=", 0.3),
        ("list 100 of 100,000: p50 / GET p50",
         _paired_ratio(results, "list_100", "get_basic", p50), "<=", 3.0),
        ("list 100, display_value=all: p50 / GET p50",
         _paired_ratio(results, "list_100_display_all", "get_basic", p50), "<=", 3.0),
        ("reset of a seeded instance (ms)", _value(results, "reset", "median_ms"), "<", 20.0),
        ("cold start, serve to ready: (s)",
         _value(results, "cold_start_existing_db", "median_s"), "<", 1.0),
        ("connector sync: requests - pages", _sync_excess(results), "<=", 2.0),
    ]
    checked = []
    for label, value, op, goal in rows:
        if value is None:
            status = "n/a"
        else:
            holds = {"<": value < goal, "<=": value <= goal, ">=": value >= goal}[op]
            status = "ok" if holds else "MISSED"
        checked.append({"target": label, "value": value, "goal": f"{op} {goal:g}",
                        "status": status})
    return checked


def _paired_note(entry: dict[str, Any]) -> str:
    if "ratio" not in entry:
        return ""
    measure = "req/s" if entry.get("compare") == "throughput" else "p50"
    return f"; {measure} x{entry['ratio']:.2f} of {entry['paired_with']} next to it"


def table(results: dict[str, Any], checked: list[dict[str, Any]]) -> str:
    """The human-readable report."""
    lines = [f"{'measurement':44} {'req/s':>10} {'p50 ms':>9} {'p99 ms':>9}  note"]
    lines.append("-" * 96)
    for name, entry in results.items():
        if entry.get("kind") == "not available":
            lines.append(f"{name:44} {'n/a':>10} {'':>9} {'':>9}  {entry['reason']}")
        elif "requests_per_second" in entry:
            p99 = entry.get("p99_ms")
            lines.append(f"{name:44} {entry['requests_per_second']:>10.0f} "
                         f"{entry['p50_ms']:>9.2f} {(f'{p99:.2f}' if p99 else ''):>9}  "
                         f"{entry['kind']}{_paired_note(entry)}"
                         f"{'; ' + entry['note'] if 'note' in entry else ''}")
        elif "median_ms" in entry:
            lines.append(f"{name:44} {'':>10} {entry['median_ms']:>9.2f} {'':>9}  server-side; "
                         f"round trip {entry['round_trip_median_ms']:.2f} ms")
        elif "median_s" in entry:
            lines.append(f"{name:44} {'':>10} {entry['median_s'] * 1000:>9.0f} {'':>9}  "
                         "process start to ready:")
        elif "tickets_per_second" in entry:
            lines.append(f"{name:44} {entry['tickets_per_second']:>10.0f} {'':>9} {'':>9}  "
                         f"tickets/s; {entry['requests']} requests for {entry['pages']} pages")
        elif "incidents" in entry:
            lines.append(f"{name:44} {'':>10} {entry['load_seconds'] * 1000:>9.0f} {'':>9}  "
                         f"{entry['incidents']} incidents loaded")
    lines.append("")
    lines.append(f"{'target':52} {'value':>10} {'goal':>8}  status")
    lines.append("-" * 80)
    for row in checked:
        value = "" if row["value"] is None else f"{row['value']:.3f}"
        lines.append(f"{row['target']:52} {value:>10} {row['goal']:>8}  {row['status']}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Run every measurement; print the table; write ``bench-results/bench-<time>.json``."""
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                        help="gunicorn workers for the emulator and the baseline")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one wrk run")
    parser.add_argument("--runs", type=int, default=5,
                        help="repeats (rounds, for paired ratios) per measurement")
    parser.add_argument("--in-process-seconds", type=float, default=1.5)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--resets", type=int, default=20)
    parser.add_argument("--tickets", type=int, default=10_000,
                        help="incidents shaped as connector tickets, pulled by its sync")
    parser.add_argument("--hash-iterations", type=int, default=1000,
                        help="PBKDF2 cost of the admin password (Basic auth hashes per "
                             "request; the demo default is 260000)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench-results")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("scripts/bench: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 1
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mock-servicenow-bench-") as scratch:
        bench = Bench(args, Path(scratch))
        bench.log(f"loading {args.incidents} incidents")
        data = dataset.build(Path(scratch) / "dataset.db", args.incidents,
                             hash_iterations=args.hash_iterations, tickets=args.tickets,
                             progress=bench.load_progress)
        bench.results["dataset"] = {"kind": "setup", "incidents": data.incidents,
                                    "load_seconds": data.load_seconds,
                                    "rows_matching_filter": data.rows_matching_group}
        bench.emulator_socket(data)
        bench.emulator_in_process(data)
        bench.cold_start()
    checked = targets(bench.results)
    report = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(time.perf_counter() - started, 1),
        "command": "scripts/bench " + " ".join(argv),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(),
                    "load_average": os.getloadavg()},
        "settings": {k: str(v) for k, v in vars(args).items()},
        "results": bench.results,
        "targets": checked,
    }
    args.output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.output / f"bench-{stamp}.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    (args.output / "latest.json").write_text(json.dumps(report, indent=2, default=str))
    print(table(bench.results, checked))
    print(f"\nwrote {path} ({report['elapsed_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
