"""``scripts/fuzz``: schemathesis over every contract, against a real ``serve`` process.

Every contract in ``contracts/`` gets its share of a time budget (``--budget`` seconds in all,
default 600, shared by number of operations) and runs schemathesis's phases: examples,
coverage (boundary and edge values of every parameter and body field), fuzzing (positive and
negative generated requests) and, where the contract has OpenAPI links, stateful sequences.
Every check schemathesis has runs (``--checks all``) except two that do not fit a ServiceNow
instance, named in ``EXCLUDED_CHECKS`` with the reason. The instance is reset between
contracts; fault rules and extra instances a generated control-plane call left are removed
after that call (``hooks.py``).

Output: a table (contract, test cases, failures, stop reason) on stdout; per contract the
schemathesis log and its JSON report under ``--report-dir`` (default ``fuzz-results/``).
Exit status 1 when any contract has a failure or an error, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"
HOOKS = Path(__file__).resolve().parent / "hooks.py"
ADMIN = "Basic YWRtaW46YWRtaW4="  # admin:admin, the demo instance's admin
PHASES = "examples,coverage,fuzzing,stateful"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
#: Checks that do not fit the platform, with the reason (everything else runs).
EXCLUDED_CHECKS = {
    # "Schema-valid request rejected": the platform refuses many well-formed requests for what
    # they mean, which a schema cannot say (an unknown scenario or client id, an OAuth request
    # without its client, a clock beyond its range, deleting the default instance). Each such
    # refusal is a documented 4xx, which status_code_conformance checks.
    "positive_data_acceptance": "semantic refusals are documented 4xx answers",
}
SCHEMATHESIS_TOML = """\
[generation]
# ServiceNow ignores query parameters it does not know (servicenow-behaviour §1.2); OpenAPI
# cannot say "other parameters are fine", so extra parameters are not negative data.
allow-extra-parameters = false
"""


@dataclass
class Outcome:
    """One contract's run."""

    contract: str
    operations: int
    budget: int
    cases: int = 0
    failures: int = 0
    errors: int = 0
    seconds: float = 0.0
    log: str = ""

    @property
    def ok(self) -> bool:
        """No failure, no error."""
        return self.failures == 0 and self.errors == 0


def operations(contract: Path) -> int:
    """How many operations ``contract`` documents."""
    document = yaml.safe_load(contract.read_text())
    return sum(1 for item in (document.get("paths") or {}).values()
               for method in item if method in METHODS)


def budgets(names: list[Path], total: int) -> dict[str, int]:
    """Each contract's seconds: a floor of 20, the rest shared by number of operations."""
    counts = {path.name: operations(path) for path in names}
    floor = min(20, total // max(1, len(names)))
    spare = max(0, total - floor * len(names))
    everything = sum(counts.values()) or 1
    return {name: floor + spare * count // everything for name, count in counts.items()}


@contextmanager
def serving(workdir: Path) -> Iterator[str]:
    """A fresh demo instance on a free port (its own database); yields its base URL."""
    env = dict(os.environ, MOCK_SERVICENOW_HOME=str(workdir / "home"),
               MOCK_SERVICENOW_HASH_ITERATIONS="1000", MOCK_SERVICENOW_ADMIN_PASSWORD="admin")
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_servicenow", "serve", "--port", "0", "--quiet",
         "--db", str(workdir / "fuzz.db")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=workdir)
    try:
        assert process.stdout is not None
        base_url = ""
        for line in process.stdout:
            if line.startswith("ready: "):
                base_url = line.split(": ", 1)[1].strip()
                break
        if not base_url:
            raise SystemExit("scripts/fuzz: the emulator did not start")
        yield base_url
    finally:
        process.terminate()
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def _count(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    return int(found.group(1)) if found else 0


def run_contract(base_url: str, contract: Path, budget: int, seed: int | None,
                 workdir: Path, report_dir: Path) -> Outcome:
    """schemathesis run over one contract; its outcome (read from the JSON report)."""
    outcome = Outcome(contract.name, operations(contract), budget)
    httpx.post(f"{base_url}/_emulator/reset", timeout=60)
    stem = contract.name.removesuffix(".openapi.yaml")
    report = report_dir / f"{stem}.json"
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "run",
        f"{base_url}/_emulator/contracts/{contract.name}", "--url", base_url,
        "-H", f"Authorization: {ADMIN}", "--phases", PHASES, "--max-time", str(budget),
        "--checks", "all", "--exclude-checks", ",".join(sorted(EXCLUDED_CHECKS)),
        "--suppress-health-check", "all", "--continue-on-failure", "--no-color",
        "--request-timeout", "60", "--report", "json", "--report-json-path", str(report),
        "--generation-database", "none",
    ]
    if seed is not None:
        command += ["--seed", str(seed)]
    env = dict(os.environ, SCHEMATHESIS_HOOKS="hooks", FUZZ_BASE_URL=base_url,
               PYTHONPATH=str(workdir))
    started = time.monotonic()
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=budget * 3 + 300)
    outcome.seconds = time.monotonic() - started
    outcome.log = done.stdout + done.stderr
    (report_dir / f"{stem}.log").write_text(outcome.log)
    outcome.cases = _count(r"(\d+) generated", outcome.log)
    outcome.failures = _count(r"found (\d+) unique failures?", outcome.log)
    outcome.errors = _count(r"(\d+) errors?", outcome.log.split("SUMMARY")[-1]) \
        if "SUMMARY" in outcome.log else (0 if done.returncode == 0 else 1)
    if done.returncode != 0 and outcome.ok:
        outcome.errors = 1  # schemathesis failed without saying why in its summary
    return outcome


def summary(outcomes: list[Outcome], budget: int, seed: int | None) -> str:
    """The table printed at the end (and pasted into docs/contracts.md)."""
    lines = [f"scripts/fuzz: budget {budget} s, phases {PHASES}, seed "
             f"{seed if seed is not None else 'random'}",
             f"{'contract':<34} {'ops':>4} {'budget':>7} {'cases':>7} {'failures':>9} "
             f"{'errors':>7} {'time':>7}"]
    for o in outcomes:
        lines.append(f"{o.contract:<34} {o.operations:>4} {o.budget:>6}s {o.cases:>7} "
                     f"{o.failures:>9} {o.errors:>7} {o.seconds:>6.0f}s")
    lines.append(f"{'total':<34} {sum(o.operations for o in outcomes):>4} "
                 f"{sum(o.budget for o in outcomes):>6}s {sum(o.cases for o in outcomes):>7} "
                 f"{sum(o.failures for o in outcomes):>9} {sum(o.errors for o in outcomes):>7} "
                 f"{sum(o.seconds for o in outcomes):>6.0f}s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``scripts/fuzz``."""
    parser = argparse.ArgumentParser(prog="scripts/fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=int, default=600,
                        help="seconds for the whole run, shared by the contracts (default 600)")
    parser.add_argument("--contract", action="append", default=[], metavar="NAME",
                        help="only this contract (file name; repeatable)")
    parser.add_argument("--seed", type=int, default=None, help="schemathesis's random seed")
    parser.add_argument("--report-dir", default=str(ROOT / "fuzz-results"),
                        help="where each contract's log and JSON report go")
    args = parser.parse_args(argv)
    if args.budget < 10:
        parser.error("--budget must be at least 10 seconds")
    names = sorted(CONTRACTS.glob("*.openapi.yaml"))
    if args.contract:
        names = [p for p in names if p.name in args.contract]
        unknown = set(args.contract) - {p.name for p in names}
        if unknown:
            parser.error(f"no contract named {', '.join(sorted(unknown))}")
    shares = budgets(names, args.budget)
    report_dir = Path(args.report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="scripts-fuzz-") as tmp:
        workdir = Path(tmp)
        shutil.copy(HOOKS, workdir / "hooks.py")
        (workdir / "schemathesis.toml").write_text(SCHEMATHESIS_TOML)
        with serving(workdir) as base_url:
            for contract in names:
                print(f"scripts/fuzz: {contract.name} for {shares[contract.name]} s ...",
                      file=sys.stderr, flush=True)
                outcomes.append(run_contract(base_url, contract, shares[contract.name],
                                             args.seed, workdir, report_dir))
    table = summary(outcomes, args.budget, args.seed)
    print(table)
    (report_dir / "summary.txt").write_text(table + "\n")
    (report_dir / "summary.json").write_text(json.dumps(
        [o.__dict__ | {"log": None} for o in outcomes], indent=2))
    for outcome in outcomes:
        if not outcome.ok:
            print(f"\n{outcome.contract}: {outcome.failures} failure(s), {outcome.errors} "
                  f"error(s); details in {report_dir}/"
                  f"{outcome.contract.removesuffix('.openapi.yaml')}.log", file=sys.stderr)
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
