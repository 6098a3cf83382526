"""Applications of the emulated platform (scoped apps installed on the instance).

Each app package exposes an installer (run after the platform seed) and may contribute tables
and fields to the data dictionary. :func:`installers` lists what a new instance installs.

The dictionary imports each app's ``tables`` module, so this package (and each app's
``__init__``) must stay importable without the domain layer: domain imports happen inside
the functions below, never at module level (it would be a circular import).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from mock_servicenow.releases import Release

if TYPE_CHECKING:
    from mock_servicenow.domain.platform.context import Context
    from mock_servicenow.domain.platform.scenarios import Action
    from mock_servicenow.domain.platform.seed import Installer


def installers(release: Release, seed_kind: str, *,
               integration_password: str = "integration") -> tuple[Installer, ...]:
    """App installers for an instance on ``release`` seeded as ``seed_kind``.

    ``empty`` instances install nothing (ARCHITECTURE §2); the demo instance installs the
    ``x_mioms_m365ticket`` app and completes its checklist.
    """
    if seed_kind == "empty":
        return ()
    from mock_servicenow.apps.x_mioms_m365ticket import install

    return (install.installer(integration_password),)


def navigator_files() -> tuple[Path, ...]:
    """The apps' application menus (``navigator.yaml``, the format of
    ``mock_servicenow/ui/navigator.yaml``); each menu shows while its app is installed."""
    return (Path(__file__).resolve().parent / "x_mioms_m365ticket" / "navigator.yaml",)


def banner_lines(ctx: Context) -> list[str]:
    """Lines ``serve`` prints at start about the installed apps (the connector's credentials)."""
    from mock_servicenow.apps.x_mioms_m365ticket import install

    return install.banner_lines(ctx)


def scenario_actions(*, integration_password: str = "integration") -> Mapping[str, Action]:
    """Scenario actions the installed apps add to the built-in ones (name -> action).

    ``x_mioms_m365ticket.run_checklist: {steps: [...]}`` runs checklist steps as the admin
    would (the documented fix of the "missing object" troubleshooting cases).
    """
    from mock_servicenow.apps.x_mioms_m365ticket import checklist

    return {"x_mioms_m365ticket.run_checklist":
            checklist.scenario_action(integration_password)}
