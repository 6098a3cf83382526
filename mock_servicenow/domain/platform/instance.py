"""An emulated instance: its database, its seeded template, reset, clock and self-description.

The seeded database is built once per process (migrations + seed into a memory database, the
*template*) and copied into the instance database with SQLite's online backup: a fresh
instance and every reset are a page copy, never a re-run of the seed (issue: reset must be
fast).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from mock_servicenow.dictionary import Dictionary
from mock_servicenow.domain.platform import scenarios, schema
from mock_servicenow.domain.platform.clock import ControllableClock
from mock_servicenow.domain.platform.context import SYSTEM, Context, Platform
from mock_servicenow.domain.platform.scenarios import BUILTIN_ACTIONS, Action, Scenario
from mock_servicenow.domain.platform.seed import Installer, seed_instance
from mock_servicenow.store import rows, schema_store, wire
from mock_servicenow.store.db import (
    DatabaseLocation,
    DatabaseUnavailable,
    clear_dirty,
    copy_database,
    restore_changed,
    write_transaction,
)
from mock_servicenow.store.migrations import MIGRATIONS, apply_migrations, sync_schema

_CLOCK_KEY = "clock"
_SCENARIOS_KEY = "scenarios"

# Seeded templates by seed inputs, shared by the instances of this process; the backup API
# reads them under a lock-free read-only use, writes happen only while building.
_TEMPLATES: dict[tuple[object, ...], sqlite_utils.Database] = {}
_TEMPLATE_LOCK = threading.Lock()
#: id(template) -> (template, its memory location): the location keeps the named memory
#: database alive and gives the URI instance connections attach.
_TEMPLATE_URIS: dict[int, tuple[sqlite_utils.Database, DatabaseLocation]] = {}


class CorruptDatabase(DatabaseUnavailable):
    """The database file exists but is not a usable SQLite database."""


@dataclass
class Instance:
    """One emulated ServiceNow instance.

    :param seed_kind: ``demo`` or ``empty`` (``serve --empty``).
    :param installers: app installers run after the platform seed (``apps/``).
    """

    platform: Platform
    location: DatabaseLocation
    seed_kind: str = "demo"
    admin_password: str = field(default="admin", repr=False)
    installers: tuple[Installer, ...] = ()
    scenario_dirs: tuple[Path, ...] = ()
    startup_scenarios: tuple[str, ...] = ()
    actions: Mapping[str, Action] = field(default_factory=lambda: dict(BUILTIN_ACTIONS))
    _template: sqlite_utils.Database | None = field(default=None, repr=False)

    def prepare(self) -> None:
        """Make the database usable: seed a new one from the template, migrate an old one."""
        db = self.connect()
        try:
            try:
                fresh = not db.table(MIGRATIONS.migrations_table).exists()
            except sqlite3.DatabaseError as exc:
                raise CorruptDatabase(
                    f"{self.location.describe()} is not a usable SQLite database ({exc}); "
                    "move it away or start with --memory"
                ) from exc
            if fresh:
                self._copy_template_into(db)
            else:
                self._migrate(db)
            for name in self.startup_scenarios:
                self.apply_scenario(db, name)
        finally:
            db.close()

    def _migrate(self, db: sqlite_utils.Database) -> None:
        """An existing database: migrations, the out-of-box dictionary records of this
        release, and physical tables for the dictionary its records describe."""
        apply_migrations(db, self.platform.dictionary)
        with write_transaction(db):
            schema.refresh_out_of_box(db, self.platform.schema)
            described = self.platform.schema.for_version(db, schema_store.dictionary_version(db))
            if described is not self.platform.dictionary:
                sync_schema(db, described)

    def dictionary(self, db: sqlite_utils.Database) -> Dictionary:
        """The dictionary ``db``'s records describe (custom fields and tables included)."""
        return self.platform.schema.for_db(db)

    def connect(self) -> sqlite_utils.Database:
        """A new connection to the instance database (the caller closes it)."""
        return self.location.connect()

    def template(self) -> sqlite_utils.Database:
        """The seeded template (built on first use, then kept for the process).

        Instances with the same seed inputs share one template per process (tests create
        hundreds of instances; each then costs a page copy, not a seed run). The
        ``random_seed`` is one of them: the seeded records' sys_ids come from it, so an
        instance seeded with 8 never gets the records of one seeded with 5 (the same seed gives
        the same instance, whichever instance the process made first).
        """
        if self._template is None:
            key = (self.seed_kind, self.platform.release.family, self.platform.name,
                   self.admin_password, self.platform.password_hash_iterations,
                   self.platform.ids.seed,
                   tuple(f"{i.__module__}.{i.__qualname__}" for i in self.installers))
            with _TEMPLATE_LOCK:
                template = _TEMPLATES.get(key)
                if template is None:
                    template = self._build_template()
                    _TEMPLATES[key] = template
            self._template = template
        return self._template

    def _build_template(self) -> sqlite_utils.Database:
        # A named memory database: instance connections attach it to restore what changed.
        location = DatabaseLocation.memory()
        template = location.connect()
        _TEMPLATE_URIS[id(template)] = (template, location)
        apply_migrations(template, self.platform.dictionary)
        ctx = Context(platform=self.platform, db=template, clock=ControllableClock())
        with template.atomic(), wire.unkept(template):
            seed_instance(ctx, kind=self.seed_kind, admin_password=self.admin_password,
                          installers=self.installers)
            clear_dirty(template)  # a copy starts with nothing changed
        return template

    def _copy_template_into(self, db: sqlite_utils.Database) -> None:
        copy_database(self.template(), db, wal=not self.location.is_memory)
        self._after_copy(db)

    def _restore_from_template(self, db: sqlite_utils.Database) -> None:
        """Back to the template: only the tables changed since the last copy when the
        schema is still the template's (``store.db.restore_changed``), else a full copy."""
        template = self.template()
        location = _TEMPLATE_URIS[id(template)][1]
        unchanged_schema = (schema_store.dictionary_version(db)
                            == schema_store.dictionary_version(template))
        if unchanged_schema and restore_changed(location.uri, db):
            self._after_copy(db)
            return
        self._copy_template_into(db)

    def _after_copy(self, db: sqlite_utils.Database) -> None:
        """Hook run after every template copy (creation and reset); instances created by
        name (``domain/platform/instances.py``) write their own name into the copied properties."""

    def reset(self, db: sqlite_utils.Database) -> float:
        """Back to the seeded state; returns the seconds it took (``/_emulator/reset``).

        Scenarios given at start (``serve --scenario``) are applied again: they are part of
        what this instance was started as.
        """
        started = time.perf_counter()
        self._restore_from_template(db)
        for name in self.startup_scenarios:
            self.apply_scenario(db, name)
        return time.perf_counter() - started

    def scenarios(self) -> dict[str, Scenario]:
        """The catalogue this instance knows (built-in plus ``scenario_dirs``)."""
        return scenarios.catalogue(self.scenario_dirs)

    def apply_scenario(self, db: sqlite_utils.Database, name: str, *,
                       fix: bool = False, base_url: str | None = None) -> Scenario:
        """Apply a scenario's setup (or, with ``fix``, its documented fix) in one transaction.

        ``base_url``: the URL the instance is reached through (actions that store absolute
        URLs, like ``sso``, use it); the configured one, else the default system context's.
        """
        scenario = scenarios.find(name, self.scenario_dirs)
        clock = self.load_clock(db)
        base_url = base_url or self.platform.base_url
        ctx = (self.context(db, clock=clock) if base_url is None
               else self.context(db, clock=clock, base_url=base_url))
        with db.atomic():
            scenarios.run_actions(ctx, scenario.fix_actions if fix else scenario.setup, clock,
                                  self.actions)
            rows.set_state(db, _CLOCK_KEY, clock.to_state())
            applied = [n for n in self.applied_scenarios(db) if n != name]
            if not fix:
                applied.append(name)
            rows.set_state(db, _SCENARIOS_KEY, json.dumps(applied))
        return scenario

    def applied_scenarios(self, db: sqlite_utils.Database) -> list[str]:
        """Names of the scenarios applied since the last reset (fixed ones drop out)."""
        state = rows.get_state(db, _SCENARIOS_KEY)
        return list(json.loads(state)) if state else []

    def load_clock(self, db: sqlite_utils.Database) -> ControllableClock:
        """The instance clock as the control plane last set it."""
        return ControllableClock.from_state(rows.get_state(db, _CLOCK_KEY))

    def save_clock(self, db: sqlite_utils.Database, clock: ControllableClock) -> None:
        """Persist the clock so every worker process sees it."""
        with db.atomic():
            rows.set_state(db, _CLOCK_KEY, clock.to_state())

    def update_clock(self, db: sqlite_utils.Database,
                     change: Callable[[ControllableClock], None]) -> ControllableClock:
        """Read, change and save the clock as one write transaction (no lost updates when
        several workers advance it at once); returns the saved clock."""
        with write_transaction(db):
            clock = self.load_clock(db)
            change(clock)
            rows.set_state(db, _CLOCK_KEY, clock.to_state())
        return clock

    def context(self, db: sqlite_utils.Database, *, base_url: str = "http://127.0.0.1:8080",
                clock: ControllableClock | None = None) -> Context:
        """A system context on ``db`` (seed, CLI and control-plane operations)."""
        return Context(platform=self.platform, db=db, clock=clock or self.load_clock(db),
                       user=SYSTEM, base_url=base_url)

    def table_counts(self, db: sqlite_utils.Database,
                     tables: Iterable[str] | None = None) -> dict[str, int]:
        """Row count per table (extended tables counted by class), for ``/_emulator/info``."""
        dictionary = self.dictionary(db)
        names = list(tables) if tables is not None else [t.name for t in dictionary]
        return {name: rows.count(db, dictionary, name) for name in names if name in dictionary}

    def close(self) -> None:
        """Release a memory database (the shared template stays cached)."""
        self._template = None
        self.location.close()
