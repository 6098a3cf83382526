"""Applications of the emulated platform (scoped apps installed on the instance).

Each app package exposes an installer (run after the platform seed) and may contribute tables
and fields to the data dictionary. :func:`installers` lists what a new instance installs.
"""

from __future__ import annotations

from collections.abc import Mapping

from mock_servicenow.domain.scenarios import Action
from mock_servicenow.domain.seed import Installer
from mock_servicenow.releases import Release


def installers(release: Release, seed_kind: str) -> tuple[Installer, ...]:
    """App installers for an instance on ``release`` seeded as ``seed_kind``."""
    return ()


def scenario_actions() -> Mapping[str, Action]:
    """Scenario actions the installed apps add to the built-in ones (name -> action)."""
    return {}
