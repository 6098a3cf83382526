"""Settings: the one frozen configuration object, and the only reader of the environment.

``create_app(settings)`` takes a :class:`Settings`; tests build one directly (or with
``dataclasses.replace``), the CLI builds one with :meth:`Settings.from_env` plus its flags.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mock_servicenow.releases import DEFAULT_RELEASE

#: Where ``serve`` keeps its embedded database, TLS material and cached templates.
DEFAULT_HOME = Path(".mock_servicenow")

#: Magic database path meaning "a shared in-memory database" (``serve --memory``).
MEMORY = ":memory:"


@dataclass(frozen=True)
class Settings:
    """Everything an emulated instance needs to know, fixed for the app's lifetime.

    :param database_path: SQLite file, or :data:`MEMORY` for a process-wide in-memory database.
    :param instance_name: the ``<name>`` of ``https://<name>.service-now.com``; shown in
        ``/_emulator/info`` and used in ``glide.servlet.uri``-style properties.
    :param base_url: the URL clients use; reference links (``{"link": ...}``) are built from it
        when set, otherwise from the request's own host (servicenow-behaviour §1.4).
    :param release: release family (``australia``, ``kingston``, ...): drives ``glide.war``
        and release gates such as Kingston for the m365 app.
    :param seed: ``"demo"`` for the demo instance, ``"empty"`` for only what the platform
        cannot run without (``serve --empty``).
    :param admin_password: password of the well-known ``admin`` user.
    :param integration_password: password the ``x_mioms_m365ticket`` checklist gives the
        integration user ``m365_integration``.
    :param password_hash_iterations: PBKDF2-SHA256 cost; cheap in tests, real by default.
    :param random_seed: seeds sys_id and token generation for deterministic tests; ``None``
        uses the operating system's randomness.
    """

    database_path: str = str(DEFAULT_HOME / "instance.db")
    instance_name: str = "dev00000"
    base_url: str | None = None
    release: str = DEFAULT_RELEASE
    seed: str = "demo"
    admin_password: str = "admin"
    integration_password: str = dataclasses.field(default="integration", repr=False)
    secret_key: str = dataclasses.field(default_factory=lambda: os.urandom(32).hex(), repr=False)
    password_hash_iterations: int = 260_000
    access_token_lifespan: int = 1800
    refresh_token_lifespan: int = 8_640_000
    enable_control_plane: bool = True
    control_plane_loopback_only: bool = True
    journal_size: int = 500
    random_seed: int | None = None
    max_body_bytes: int = 10 * 1024 * 1024
    home: Path = DEFAULT_HOME
    scenarios: tuple[str, ...] = ()
    scenario_dirs: tuple[Path, ...] = ()
    access_log: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_memory(self) -> bool:
        """True when the database lives in memory (``serve --memory``)."""
        return self.database_path == MEMORY

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: object) -> Settings:
        """Build settings from ``MOCK_SERVICENOW_*`` variables, then apply ``overrides``.

        Recognised: ``MOCK_SERVICENOW_ADMIN_PASSWORD``, ``MOCK_SERVICENOW_INTEGRATION_PASSWORD``,
        ``MOCK_SERVICENOW_INSTANCE``,
        ``MOCK_SERVICENOW_SECRET_KEY``, ``MOCK_SERVICENOW_HASH_ITERATIONS``,
        ``MOCK_SERVICENOW_CONTROL_PLANE`` (``off`` disables it), ``MOCK_SERVICENOW_HOME``,
        ``MOCK_SERVICENOW_SCENARIOS`` (extra scenario folders).
        """
        values: dict[str, object] = {}
        if "MOCK_SERVICENOW_ADMIN_PASSWORD" in environ:
            values["admin_password"] = environ["MOCK_SERVICENOW_ADMIN_PASSWORD"]
        if "MOCK_SERVICENOW_INTEGRATION_PASSWORD" in environ:
            values["integration_password"] = environ["MOCK_SERVICENOW_INTEGRATION_PASSWORD"]
        if "MOCK_SERVICENOW_INSTANCE" in environ:
            values["instance_name"] = environ["MOCK_SERVICENOW_INSTANCE"]
        if "MOCK_SERVICENOW_SECRET_KEY" in environ:
            values["secret_key"] = environ["MOCK_SERVICENOW_SECRET_KEY"]
        if "MOCK_SERVICENOW_HASH_ITERATIONS" in environ:
            values["password_hash_iterations"] = int(environ["MOCK_SERVICENOW_HASH_ITERATIONS"])
        if environ.get("MOCK_SERVICENOW_CONTROL_PLANE", "").lower() in {"off", "0", "false"}:
            values["enable_control_plane"] = False
        if "MOCK_SERVICENOW_HOME" in environ:
            home = Path(environ["MOCK_SERVICENOW_HOME"])
            values["home"] = home
            values["database_path"] = str(home / "instance.db")
        home = Path(str(values.get("home", DEFAULT_HOME)))
        # A user adds a scenario by dropping a YAML file in <home>/scenarios/ or in the
        # folders listed in MOCK_SERVICENOW_SCENARIOS (os.pathsep-separated).
        dirs = [home / "scenarios"]
        dirs += [Path(p) for p in environ.get("MOCK_SERVICENOW_SCENARIOS", "").split(os.pathsep)
                 if p]
        values["scenario_dirs"] = tuple(dirs)
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
