"""Shared test configuration: hypothesis profiles. Instance fixtures come from the
``mock_servicenow.pytest_plugin`` entry point (``snow_app``, ``snow_client``, ...)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
