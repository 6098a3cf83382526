"""One schemathesis run over every contract in ``contracts/`` (issue 8 item 3).

Each contract gets a fresh emulator, in-process (WSGI, no sockets), loaded the way a user
would: from the contract the emulator itself serves under ``/_emulator/contracts/<name>``.
For every operation, schemathesis generates valid requests (positive mode) and invalid ones
(negative mode) and the answers must pass:

- ``not_a_server_error``: never a 5xx;
- ``status_code_conformance``: only documented statuses;
- ``content_type_conformance``: the documented media type;
- ``response_schema_conformance``: bodies match their schema (ServiceNow envelopes included);
- ``response_headers_conformance``: documented headers (``Location``, ``X-Total-Count``...);
- ``negative_data_rejection`` (negative mode): invalid input gets a 4xx.

Then the Table API runs stateful: the OpenAPI links in ``table-api.openapi.yaml`` chain a
create to a read, an update and a delete of the created record.

Every test records ``operations / examples / failures`` for its contract; the terminal summary
(``tests/conftest.py``) prints them as one table at the end of the run. Example counts are
bounded so the whole run stays well under 3 minutes on 2 cores.
"""

from __future__ import annotations

import base64
import importlib
import os
import pkgutil
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.generation.stateful import run_state_machine_as_test
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import mock_servicenow
from mock_servicenow.app import create_app
from mock_servicenow.settings import Settings

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
NAMES = sorted(p.name for p in CONTRACTS.glob("*.openapi.yaml"))
ADMIN = {"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()}
# Bounded: ~60 operations x (positive + negative); raise locally with SCHEMATHESIS_EXAMPLES.
POSITIVE = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))
NEGATIVE = max(1, POSITIVE // 2)
STATEFUL_RUNS = int(os.environ.get("SCHEMATHESIS_STATEFUL_RUNS", "40"))

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
NEGATIVE_CHECKS = [*CHECKS, negative_data_rejection]
SETTINGS = {"deadline": None, "database": None, "derandomize": True,
            "phases": [Phase.explicit, Phase.generate],
            "suppress_health_check": list(HealthCheck)}


@pytest.fixture(autouse=True)
def same_constants_in_every_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Hypothesis mixes into its draws the constants of every project module the process has
    imported (``hypothesis.internal.conjecture.providers._get_local_constants``), so a
    derandomized run explored differently in a full suite, after other tests had imported
    more modules, than alone: the stateful run's coverage check then failed in CI only. Here
    the pool is the constants of every ``mock_servicenow`` module, whatever else is loaded:
    the same run in every process, and still the emulator's own words (field names, query
    operators, messages) to draw from."""
    from hypothesis.internal.conjecture import providers
    from hypothesis.internal.constants_ast import constants_from_module
    from hypothesis.internal.floats import float_to_int
    from sortedcontainers import SortedSet

    pool = providers.Constants(integers=SortedSet(), floats=SortedSet(key=float_to_int),
                               bytes=SortedSet(), strings=SortedSet())
    for module in sorted(pkgutil.walk_packages(mock_servicenow.__path__, "mock_servicenow."),
                         key=lambda m: m.name):
        if module.name.endswith(".__main__"):  # running it would start the CLI
            continue
        pool |= constants_from_module(importlib.import_module(module.name))
    monkeypatch.setattr(providers, "_get_local_constants", lambda: pool)
    providers.CONSTANTS_CACHE.cache.clear()
    yield
    providers.CONSTANTS_CACHE.cache.clear()


def _app(directory: Path) -> Flask:
    return create_app(Settings(database_path=str(directory / "instance.db"), home=directory,
                               admin_password="admin", password_hash_iterations=1000,
                               secret_key="contracts", random_seed=8))


@pytest.fixture
def fresh_app(tmp_path: Path) -> Iterator[Flask]:
    """A fresh instance per contract: one contract's writes never leak into another's."""
    app = _app(tmp_path)
    yield app
    app.extensions["mock_servicenow"].instance.close()


def served_schema(app: Flask, name: str) -> Any:
    """The contract as the emulator serves it (what a user points schemathesis at)."""

    def loopback(environ: dict[str, Any], start_response: Any) -> Any:
        # Werkzeug's test client sends no REMOTE_ADDR, which the control plane (rightly)
        # refuses; a local user's schemathesis run comes from 127.0.0.1.
        environ.setdefault("REMOTE_ADDR", "127.0.0.1")
        return app(environ, start_response)

    schema = schemathesis.openapi.from_wsgi(f"/_emulator/contracts/{name}", loopback)
    # ServiceNow ignores parameters it does not know (servicenow-behaviour §1.2), and OpenAPI
    # cannot say "other query parameters are fine": extra parameters are not negative data.
    schema.config.generation.update(allow_extra_parameters=False)
    return schema


class Tally:
    """Examples and failures of one contract's run."""

    def __init__(self) -> None:
        self.operations = 0
        self.examples = 0
        self.failures: list[str] = []

    def run(self, label: str, call: Callable[[], None]) -> None:
        """One example: count it; keep the failure (first lines) instead of stopping."""
        self.examples += 1
        try:
            call()
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - all are reported
            text = "".join(traceback.format_exception_only(error)).strip()
            self.failures.append(f"{label}: {text[:1500]}")


def _clear_faults(app: Flask) -> None:
    # A generated fault rule (docs/faults.md) would fail or slow down the examples after it
    # (a 500 on "/*", a 300 s latency): each example starts with none.
    answer = app.test_client().delete("/_emulator/faults",
                                      environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert answer.status_code == 200, answer.get_data(as_text=True)


def _exercise(app: Flask, operation: Any, mode: GenerationMode, count: int,
              tally: Tally) -> None:
    checks = NEGATIVE_CHECKS if mode is GenerationMode.NEGATIVE else CHECKS
    label = f"{operation.label} [{mode.value}]"

    @hypothesis_settings(max_examples=count, **SETTINGS)  # type: ignore[arg-type]
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        tally.run(label, lambda: case.call_and_validate(headers=ADMIN, checks=checks))
        _clear_faults(app)

    try:
        check()
    except Exception as error:  # noqa: BLE001 - e.g. nothing generable in negative mode
        if "Unsatisfiable" not in type(error).__name__:
            tally.failures.append(f"{label}: could not generate: {error!r}"[:500])


@pytest.mark.parametrize("name", NAMES)
def test_contract_holds_for_generated_requests(name: str, fresh_app: Flask,
                                               record_property: Callable[[str, Any], None]
                                               ) -> None:
    """Every operation of ``name``, positive and negative examples, every check above."""
    schema = served_schema(fresh_app, name)
    tally = Tally()
    for result in schema.get_all_operations():
        operation = result.ok()
        tally.operations += 1
        _exercise(fresh_app, operation, GenerationMode.POSITIVE, POSITIVE, tally)
        _exercise(fresh_app, operation, GenerationMode.NEGATIVE, NEGATIVE, tally)
    record_property("schemathesis", {"contract": name, "mode": "generated",
                                     "operations": tally.operations,
                                     "examples": tally.examples,
                                     "failures": len(tally.failures)})
    assert tally.examples >= tally.operations * 2
    assert not tally.failures, "\n\n".join(tally.failures[:20])


def test_table_api_stateful_crud(fresh_app: Flask,
                                 record_property: Callable[[str, Any], None]) -> None:
    """Links create -> read / update / delete: the created record is readable, updatable and
    deletable through the links, every step conforming to the contract."""
    schema = served_schema(fresh_app, "table-api.openapi.yaml")
    tally = Tally()
    calls: dict[str, int] = {}
    created: set[str] = set()
    # (method, status) of calls made on a record this run created: the links at work.
    on_created: set[tuple[str, int]] = set()

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": ADMIN}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            key = f"{case.method} {case.path}"
            calls[key] = calls.get(key, 0) + 1
            sys_id = (case.path_parameters or {}).get("sys_id")
            # With sysparm_display_value=all the link carries {"display_value", "value"}.
            if isinstance(sys_id, str) and sys_id in created:
                on_created.add((case.method, response.status_code))
            if case.method == "POST" and response.status_code == 201:
                result = (response.json() or {}).get("result") or {}
                if isinstance(result, dict) and isinstance(result.get("sys_id"), str):
                    created.add(result["sys_id"])
            tally.run(f"stateful {key}", lambda: case.validate_response(response, checks=CHECKS))

    run_state_machine_as_test(Machine, settings=hypothesis_settings(
        max_examples=STATEFUL_RUNS, stateful_step_count=8, **SETTINGS))  # type: ignore[arg-type]
    record_property("schemathesis", {"contract": "table-api.openapi.yaml", "mode": "stateful",
                                     "operations": len(calls), "examples": tally.examples,
                                     "failures": len(tally.failures)})
    assert not tally.failures, "\n\n".join(tally.failures[:20])
    # The links were followed: records the run created were read, updated and deleted.
    assert {"GET", "DELETE"} <= {m for m, status in on_created if status in (200, 204)}, (
        f"links not followed to a created record: {sorted(on_created)}; calls {sorted(calls)}")
    assert any(m in ("PATCH", "PUT") and status == 200 for m, status in on_created), on_created
