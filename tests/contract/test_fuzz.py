"""``scripts/fuzz`` at the depth the CI budget allows (issue 15 item 8).

The same runner as ``./scripts/fuzz`` (every contract, against a real ``serve`` process,
schemathesis's examples, coverage, fuzzing and stateful phases, every check but the ones
``EXCLUDED_CHECKS`` names), with a fixed seed and ``FUZZ_CI_BUDGET`` seconds (default 90)
instead of ten minutes. The in-process run beside it (``test_schemathesis.py``) keeps its own
deterministic examples; this one adds the coverage phase's boundary values, schemathesis's own
checks and real sockets, which is where the independent fuzzing run found what the project's
run did not.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUDGET = int(os.environ.get("FUZZ_CI_BUDGET", "90"))
SEED = 15


def _runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_run", ROOT / "scripts" / "fuzz_lib"
                                                  / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_fuzzing_every_contract_finds_nothing(tmp_path: Path,
                                              record_property: Callable[[str, Any], None]
                                              ) -> None:
    run = _runner()
    code = run.main(["--budget", str(BUDGET), "--seed", str(SEED),
                     "--report-dir", str(tmp_path)])
    table = (tmp_path / "summary.txt").read_text()
    outcomes = json.loads((tmp_path / "summary.json").read_text())
    for outcome in outcomes:
        record_property("schemathesis", {
            "contract": outcome["contract"], "mode": "fuzz", "operations": outcome["operations"],
            "examples": outcome["cases"], "failures": outcome["failures"] + outcome["errors"]})
    names = {p.name for p in (ROOT / "contracts").glob("*.openapi.yaml")}
    assert {o["contract"] for o in outcomes} == names
    assert all(o["cases"] > 0 for o in outcomes), table
    failed = [o["contract"] for o in outcomes if o["failures"] or o["errors"]]
    logs = "\n\n".join((tmp_path / f"{name.removesuffix('.openapi.yaml')}.log").read_text()
                       [-4000:] for name in failed)
    assert code == 0 and not failed, f"{table}\n\n{logs}"
