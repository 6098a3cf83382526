"""Fixtures of the ui's in-process tests: a demo instance and the ui on one connector home."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.connector.ui.pages import Harness
from tests.scenarios.catalogue_helpers import QA


@pytest.fixture
def harness(snow_app: Flask, tmp_path: Path) -> Harness:
    """The demo instance (app installed, checklist complete) and the ui."""
    home = tmp_path / "snow-connector"
    return Harness(QA(snow_app, home), home)
