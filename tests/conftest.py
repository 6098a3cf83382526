"""Shared test configuration: hypothesis profiles. Instance fixtures come from the
``mock_servicenow.pytest_plugin`` entry point (``snow_app``, ``snow_client``, ...)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.security.secret_scan import SecretScan, scanning

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_terminal_summary(terminalreporter: object) -> None:
    """The schemathesis summary table (tests/contract/test_schemathesis.py): operations,
    examples and failures per contract. Read from each report's ``user_properties``, which
    pytest-xdist carries back from its workers."""
    rows = []
    for reports in terminalreporter.stats.values():  # type: ignore[attr-defined]
        for report in reports:
            for key, value in getattr(report, "user_properties", ()):
                if key == "schemathesis" and getattr(report, "when", "call") == "call":
                    rows.append(value)
    if not rows:
        return
    rows.sort(key=lambda r: (r["contract"], r["mode"]))
    write = terminalreporter.write_line  # type: ignore[attr-defined]
    terminalreporter.section("schemathesis: every contract")  # type: ignore[attr-defined]
    write(f"{'contract':<32} {'mode':<10} {'operations':>10} {'examples':>9} {'failures':>9}")
    for r in rows:
        write(f"{r['contract']:<32} {r['mode']:<10} {r['operations']:>10} {r['examples']:>9} "
              f"{r['failures']:>9}")
    write(f"{'total':<43} {sum(r['operations'] for r in rows):>10} "
          f"{sum(r['examples'] for r in rows):>9} {sum(r['failures'] for r in rows):>9}")


@pytest.fixture(scope="session", autouse=True)
def secret_scan() -> Iterator[SecretScan]:
    """The whole run's secret scan (tests/security/secret_scan.py): at the end, no log record,
    journal entry, error (body and headers) or redirect may hold a password, client secret or
    token the run used. Fails as the last test's teardown, listing each leak."""
    for scan in scanning():
        yield scan
        leaks = scan.leaks()
        assert not leaks, "secrets leaked:\n" + "\n".join(leaks[:20])
