"""Every DDL statement of the emulator lives here.

Two kinds of step:

* named migrations in :data:`MIGRATIONS` (sqlite-utils ``Migrations``), each applied once and
  recorded in ``_sqlite_migrations``: WAL, the emulator's internal tables;
* :func:`sync_schema`, which makes the physical tables match the data dictionary (creates
  missing tables, adds missing columns and indexes, refreshes the per-class views). It is
  idempotent and runs after the migrations on every open, so a field added to the dictionary
  reaches existing ``--db`` files without a hand-written migration.
"""

from __future__ import annotations

import sqlite3

import sqlite_utils
from sqlite_utils.db import quote_identifier
from sqlite_utils.migrations import Migrations

from mock_servicenow.dictionary import Dictionary
from mock_servicenow.dictionary.records import VERSIONED_TABLES
from mock_servicenow.store.db import (
    ALWAYS_RESTORED,
    CONFIG_TABLES,
    CONFIG_VERSION_TABLE,
    DIRTY_TABLE,
    WIRE_TABLE_PREFIX,
)
from mock_servicenow.store.wire import sync_wire, wire_kinds

#: One row: the version of the instance's dictionary records (``domain/platform/schema.py``).
#: Triggers on the dictionary tables draw a new random value on every change, from any
#: process; reset's copy brings the template's value back.
DICTIONARY_VERSION_TABLE = "_emulator_dictionary_version"

MIGRATIONS = Migrations("mock_servicenow")


@MIGRATIONS(name="0001_wal", transactional=False)
def _wal(db: sqlite_utils.Database) -> None:
    # memdb databases cannot use WAL; their journal stays in memory.
    mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    if mode != "memory":
        db.enable_wal()


@MIGRATIONS(name="0002_emulator_state")
def _emulator_state(db: sqlite_utils.Database) -> None:
    # Instance-wide emulator state shared by every worker process (clock, scenario names).
    db.execute(
        "CREATE TABLE IF NOT EXISTS _emulator_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
    )


@MIGRATIONS(name="0003_oauth_codes")
def _oauth_codes(db: sqlite_utils.Database) -> None:
    # Authorization codes are short-lived and single use; the platform keeps them out of the
    # Table API, so they live in an internal table. Codes are stored hashed.
    db.execute(
        """CREATE TABLE IF NOT EXISTS _oauth_authorization_code (
            code_hash TEXT PRIMARY KEY,
            client_id TEXT NOT NULL,
            user_sys_id TEXT NOT NULL,
            redirect_uri TEXT,
            scope TEXT,
            code_challenge TEXT,
            code_challenge_method TEXT,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used INTEGER NOT NULL DEFAULT 0
        )"""
    )


@MIGRATIONS(name="0004_sessions")
def _sessions(db: sqlite_utils.Database) -> None:
    # Interactive sessions (glide_session_store cookie) shared across worker processes.
    db.execute(
        """CREATE TABLE IF NOT EXISTS _session (
            session_hash TEXT PRIMARY KEY,
            user_sys_id TEXT,
            user_token TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        )"""
    )


@MIGRATIONS(name="0005_rate_limit_counters")
def _rate_limit_counters(db: sqlite_utils.Database) -> None:
    # Requests per (rule, user, hourly window); see domain/platform/rate_limits.py.
    db.execute(
        """CREATE TABLE IF NOT EXISTS _rate_limit_counter (
            rule TEXT NOT NULL,
            user TEXT NOT NULL,
            window_start INTEGER NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (rule, user, window_start)
        )"""
    )


@MIGRATIONS(name="01_idp_users")
def _idp_users(db: sqlite_utils.Database) -> None:
    # The identity-provider stand-in's own directory (it plays Azure AD, another system):
    # not a ServiceNow table, so not in the dictionary. Passwords are stored hashed.
    db.execute(
        """CREATE TABLE IF NOT EXISTS _idp_user (
            user_name TEXT PRIMARY KEY,
            email TEXT NOT NULL,
            name TEXT NOT NULL,
            password_hash TEXT NOT NULL
        )"""
    )


def apply_migrations(db: sqlite_utils.Database, dictionary: Dictionary) -> None:
    """Bring ``db`` to the current schema: named migrations, then :func:`sync_schema`."""
    MIGRATIONS.apply(db)
    with db.atomic():
        sync_schema(db, dictionary)
        config_version_triggers(db, dictionary)
        dictionary_version_triggers(db, dictionary)
        dirty_triggers(db)


def dirty_triggers(db: sqlite_utils.Database, tables: list[str] | None = None) -> None:
    """:data:`~mock_servicenow.store.db.DIRTY_TABLE` and, on every table (or the named
    ones), a trigger per insert, update and delete that records the table's name there, so
    reset copies back only what changed (``store.db.restore_changed``). Idempotent."""
    db.execute(f"CREATE TABLE IF NOT EXISTS {DIRTY_TABLE} (name TEXT PRIMARY KEY)")
    if tables is None:
        tables = [str(name) for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()]
    for table in tables:
        if table == DIRTY_TABLE or table in ALWAYS_RESTORED or table.startswith(
                WIRE_TABLE_PREFIX):
            continue  # kept texts are put back with their rows (restore_changed)
        name = table.replace("'", "''")
        for event in ("INSERT", "UPDATE", "DELETE"):
            trigger = quote_identifier(f"_dirty_{table}_{event.lower()}")
            db.execute(f"CREATE TRIGGER IF NOT EXISTS {trigger} AFTER {event} "
                       f"ON {quote_identifier(table)} BEGIN "
                       # Not OR IGNORE: an outer upsert's conflict policy overrides it.
                       f"INSERT INTO {DIRTY_TABLE} (name) SELECT '{name}' WHERE NOT EXISTS "
                       f"(SELECT 1 FROM {DIRTY_TABLE} WHERE name = '{name}'); END")


def dictionary_version_triggers(db: sqlite_utils.Database, dictionary: Dictionary) -> None:
    """:data:`DICTIONARY_VERSION_TABLE` and, on the physical table of each dictionary table,
    a trigger per insert, update and delete of its rows (only its class's rows where the
    physical table holds a hierarchy: ``sys_dictionary`` lives in ``sys_metadata``) that
    draws a new version. Idempotent."""
    db.execute(f"CREATE TABLE IF NOT EXISTS {DICTIONARY_VERSION_TABLE} "
               "(id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL)")
    db.execute(f"INSERT OR IGNORE INTO {DICTIONARY_VERSION_TABLE} (id, value) VALUES (1, 0)")
    by_root: dict[str, list[str]] = {}
    for name in VERSIONED_TABLES:
        if name in dictionary:
            by_root.setdefault(dictionary.root(name), []).append(name)
    for root, names in sorted(by_root.items()):
        classed = dictionary.is_extended(root)
        listed = ", ".join(f"'{n}'" for n in names)
        for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            trigger = quote_identifier(f"_dictionary_version_{root}_{event.lower()}")
            when = f" WHEN {row}.sys_class_name IN ({listed})" if classed else ""
            db.execute(
                f"CREATE TRIGGER IF NOT EXISTS {trigger} AFTER {event} "
                f"ON {quote_identifier(root)}{when} BEGIN "
                f"UPDATE {DICTIONARY_VERSION_TABLE} SET value = random() WHERE id = 1; END")


def drop_columns(db: sqlite_utils.Database, root: str, columns: list[str]) -> None:
    """Remove columns a dictionary change deleted from a root's physical table (their indexes
    first); where SQLite cannot drop one, its values are cleared, so nothing of the deleted
    column can be read back."""
    for column in columns:
        for (index,) in db.execute(
                "SELECT DISTINCT il.name FROM sqlite_master AS m, pragma_index_list(m.name) AS il, "
                "pragma_index_info(il.name) AS ii WHERE m.name = ? AND ii.name = ? "
                "AND il.origin = 'c'", [root, column]).fetchall():
            db.execute(f"DROP INDEX IF EXISTS {quote_identifier(index)}")
        try:
            db.execute(f"ALTER TABLE {quote_identifier(root)} "
                       f"DROP COLUMN {quote_identifier(column)}")
        except sqlite3.OperationalError:
            db.execute(f"UPDATE {quote_identifier(root)} SET {quote_identifier(column)} = NULL")


def config_version_triggers(db: sqlite_utils.Database, dictionary: Dictionary) -> None:
    """The configuration version (``store/db.cached_config``): one row holding a random
    value, and on each of :data:`~mock_servicenow.store.db.CONFIG_TABLES` (their physical
    tables) a trigger per insert, update and delete that draws a new one. Idempotent."""
    db.execute(f"CREATE TABLE IF NOT EXISTS {CONFIG_VERSION_TABLE} "
               "(id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL)")
    db.execute(f"INSERT OR IGNORE INTO {CONFIG_VERSION_TABLE} (id, value) VALUES (1, random())")
    physical = sorted({dictionary.root(name) if name in dictionary else name
                       for name in CONFIG_TABLES})
    for table in physical:
        for event in ("INSERT", "UPDATE", "DELETE"):
            trigger = quote_identifier(f"_config_version_{table}_{event.lower()}")
            db.execute(
                f"CREATE TRIGGER IF NOT EXISTS {trigger} AFTER {event} "
                f"ON {quote_identifier(table)} BEGIN "
                f"UPDATE {CONFIG_VERSION_TABLE} SET value = random() WHERE id = 1; END")


def sync_schema(db: sqlite_utils.Database, dictionary: Dictionary,
                previous: Dictionary | None = None) -> None:
    """Create or extend one physical table per hierarchy root, with indexes and class views.

    Rows of extended tables live in their root's table (``incident`` rows in ``task``), as the
    platform stores ``task``; a read-only view per extended table (``incident``) lets a person
    browsing the SQLite file see them by their ServiceNow name. With ``previous`` (the
    dictionary the database followed until now), only the hierarchies that changed are
    visited (a custom field touches one physical table, not sixty).
    """
    views = {name: sql for name, sql in db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'view'").fetchall()}
    tables = {name for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
    for root in dictionary.roots():
        if previous is not None and not _hierarchy_changed(previous, dictionary, root):
            if _wire_changed(previous, dictionary, root):
                # A field's type changed, not its column (a string became a reference).
                sync_wire(db, dictionary, root, previous=previous, rewrite=True)
            continue
        fields = dictionary.physical_fields(root)
        declared = dictionary.physical_column_types(root)
        if root not in tables:
            columns = ", ".join(
                f"{quote_identifier(name)} {declared[name]}".rstrip()
                + (" PRIMARY KEY" if name == "sys_id" else "")
                for name in fields
            )
            db.execute(f"CREATE TABLE {quote_identifier(root)} ({columns})")
            if previous is not None:  # a table created by a dictionary change
                dirty_triggers(db, [root])
        else:
            existing = {str(row[1]) for row in db.execute(
                f"PRAGMA table_info({quote_identifier(root)})").fetchall()}
            for name in fields:
                if name not in existing:
                    db.execute(
                        f"ALTER TABLE {quote_identifier(root)} "
                        f"ADD COLUMN {quote_identifier(name)} {declared[name]}".rstrip()
                    )
        # In a hierarchy stored in one table every query also filters on sys_class_name, so
        # a plain index on the field still visits each matching row to check its class:
        # counting 12,500 incidents of one assignment group out of 100,000 took 24 ms
        # (scripts/bench), against 1.3 ms with (field, sys_class_name), which covers the
        # count and still serves lookups on the field alone. It keeps the field's index name
        # (idx_<root>_<field>); a database made before keeps its one-column index.
        classed = dictionary.is_extended(root)
        for name, indexed, owner in dictionary.physical_indexes(root):
            if owner is not None:
                classes = dictionary.descendants(owner)
                partial = classed and owner != root
                _index(db, root, (name,), unique=True,
                       name=f"idx_{root}_{owner}_{name}_unique" if partial else None,
                       where=(f"sys_class_name IN ({', '.join(repr(c) for c in classes)})"
                              if partial else None))
                if not classed or owner == root:
                    continue
            if not classed or name == "sys_class_name":
                _index(db, root, (name,), unique=False)
            elif indexed:
                _index(db, root, (name, "sys_class_name"), unique=False,
                       name=f"idx_{root}_{name}")
        for table_name in dictionary.stored_classes(root):
            for columns_tuple in dictionary.table(table_name).indexes:
                _index(db, root, columns_tuple, unique=False)
        for table_name in dictionary.stored_classes(root)[1:]:
            if len(dictionary.parts(table_name)) == 1:
                _class_view(db, dictionary, root, table_name, views.get(table_name))
        sync_wire(db, dictionary, root, previous=previous, rewrite=previous is not None)
    wanted = set()
    for name in dictionary.unions():
        wanted.add(_union_view(db, dictionary, name, views))
    for name in views:
        if name in wanted:
            continue
        if name.startswith("_union_") or name not in dictionary or dictionary.root(name) == name:
            db.execute(f"DROP VIEW IF EXISTS {quote_identifier(name)}")  # a deleted table


def _wire_changed(before: Dictionary, after: Dictionary, root: str) -> bool:
    """Whether a class of the root renders its raw records differently (``store/wire.py``)."""
    return any(name not in before
               or wire_kinds(before, name, None, False) != wire_kinds(after, name, None, False)
               for name in after.stored_classes(root))


def _hierarchy_changed(before: Dictionary, after: Dictionary, root: str) -> bool:
    if root not in before or before.root(root) != root:
        return True
    return (before.stored_classes(root) != after.stored_classes(root)
            or tuple(before.physical_column_types(root).items())
            != tuple(after.physical_column_types(root).items())
            or before.physical_indexes(root) != after.physical_indexes(root)
            or any(before.table(name).indexes != after.table(name).indexes
                   for name in after.stored_classes(root) if name in before))


def _index(db: sqlite_utils.Database, root: str, columns: tuple[str, ...], *, unique: bool,
           name: str | None = None, where: str | None = None) -> None:
    """``CREATE [UNIQUE] INDEX IF NOT EXISTS``; ``where`` makes it partial (a unique column
    of one class in a physical table holding several)."""
    name = name or f"idx_{root}_{'_'.join(columns)}"
    quoted = ", ".join(quote_identifier(c) for c in columns)
    kind = "UNIQUE INDEX" if unique else "INDEX"
    db.execute(
        f"CREATE {kind} IF NOT EXISTS {quote_identifier(name)} "
        f"ON {quote_identifier(root)} ({quoted})" + (f" WHERE {where}" if where else "")
    )


def _union_view(db: sqlite_utils.Database, dictionary: Dictionary, name: str,
                views: dict[str, str]) -> str:
    """The view ``_union_<name>``: the rows of a table stored in several physical tables
    (``Dictionary.read_source``), its own columns from each part, its classes only."""
    view = dictionary.read_source(name)
    columns = ", ".join(quote_identifier(c) for c, fld in dictionary.fields(name).items()
                        if fld.is_stored)
    classes = ", ".join(f"'{c}'" for c in dictionary.descendants(name))
    selects = [f"SELECT {columns} FROM {quote_identifier(part)}"
               + (f" WHERE sys_class_name IN ({classes})"
                  if len(dictionary.stored_classes(part)) > 1 else "")
               for part in dictionary.parts(name)]
    sql = f"CREATE VIEW {quote_identifier(view)} AS " + " UNION ALL ".join(selects)
    if views.get(view) != sql:
        db.execute(f"DROP VIEW IF EXISTS {quote_identifier(view)}")
        db.execute(sql)
    return view


def _class_view(db: sqlite_utils.Database, dictionary: Dictionary, root: str, name: str,
                existing: str | None) -> None:
    classes = ", ".join(f"'{c}'" for c in dictionary.descendants(name))
    sql = (f"CREATE VIEW {quote_identifier(name)} AS SELECT * FROM {quote_identifier(root)} "
           f"WHERE sys_class_name IN ({classes})")
    if existing == sql:
        return  # unchanged: rewriting it would make every connection parse the schema again
    db.execute(f"DROP VIEW IF EXISTS {quote_identifier(name)}")
    db.execute(sql)


@MIGRATIONS(name="09_emulator_faults")
def _emulator_faults(db: sqlite_utils.Database) -> None:
    # Fault-injection rules (``/_emulator/faults``), kept in the instance database so every
    # worker process applies them; reset copies the template, which clears them.
    db.execute(
        """CREATE TABLE IF NOT EXISTS _emulator_fault (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            method TEXT NOT NULL,
            path TEXT NOT NULL,
            action TEXT NOT NULL,
            spec TEXT NOT NULL,
            remaining INTEGER,
            created_at TEXT NOT NULL
        )"""
    )


@MIGRATIONS(name="18_oauth_jwt_jti")
def _oauth_jwt_jti(db: sqlite_utils.Database) -> None:
    # JWT bearer grant: the jti (hashed) of every accepted assertion, until it expires, so an
    # assertion cannot be exchanged twice ("Enable JTI Verification", create-jwt-endpoint).
    db.execute(
        """CREATE TABLE IF NOT EXISTS _oauth_jwt_jti (
            entity TEXT NOT NULL,
            jti_hash TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            PRIMARY KEY (entity, jti_hash)
        )"""
    )
