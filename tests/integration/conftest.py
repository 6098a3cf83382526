"""Integration-test configuration.

``integration_pending``: tests written against surfaces other engineers are building (the
emulator's OAuth server, Table API, the app's scripted API). They are deselected on feature
branches with ``-m "not integration_pending"``; the lead removes the marker when merging.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker (the suite runs with ``--strict-markers``)."""
    config.addinivalue_line(
        "markers", "integration_pending: needs emulator surfaces not merged yet")
