"""Opening databases: pragmas in one place, a connection per use, shared in-memory databases.

sqlite3 connections are thread-bound (house style F4), so every request opens its own
connection (``Database.connect()``) and closes it on teardown. ``--memory`` uses SQLite's
``memdb`` VFS with a ``/``-prefixed name: one database shared by every connection of the
process, with ordinary locking (unlike ``cache=shared``, whose table locks ignore the busy
timeout and fail concurrent writers).
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils
from sqlite_utils.db import quote_identifier

T = TypeVar("T")

#: How long a writer waits for another one before SQLite gives up (milliseconds).
BUSY_TIMEOUT_MS = 10_000
#: Idle connections a location keeps for the next requests (DatabaseLocation.acquire).
_IDLE_CONNECTIONS = 16


class DatabaseUnavailable(Exception):
    """The database file cannot be opened, created or read (one clear line for the CLI)."""


@dataclass
class DatabaseLocation:
    """Where an instance's database lives: a file path, or a process-wide memory database.

    A memory location keeps one connection open for its whole life: the ``memdb`` database
    exists only while some connection holds it.
    """

    path: str | None
    memory_name: str | None = None
    _keepalive: sqlite3.Connection | None = field(default=None, repr=False)
    # Idle connections shared by this process's threads (see acquire), the process they
    # were opened in, and the lock guarding both.
    _idle: list[sqlite_utils.Database] = field(default_factory=list, repr=False,
                                               compare=False)
    _idle_pid: int = field(default=0, repr=False, compare=False)
    _idle_lock: threading.Lock = field(default_factory=threading.Lock, repr=False,
                                       compare=False)
    _writer: WriterLock = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._writer = WriterLock(None if self.path is None else f"{self.path}-writer.lock")

    @classmethod
    def file(cls, path: str | Path) -> DatabaseLocation:
        """A database file (created when missing, with its parent folder)."""
        return cls(path=str(path))

    @classmethod
    def memory(cls) -> DatabaseLocation:
        """A fresh shared in-memory database, unique to this location."""
        location = cls(path=None, memory_name=f"/mock_servicenow-{uuid.uuid4().hex}")
        location._keepalive = location._raw_connect()
        return location

    @property
    def uri(self) -> str:
        """The URI another connection can ``ATTACH`` this database by."""
        if self.memory_name is not None:
            return f"file:{self.memory_name}?vfs=memdb"
        assert self.path is not None
        return Path(self.path).absolute().as_uri()

    @property
    def is_memory(self) -> bool:
        """True for ``--memory`` databases."""
        return self.memory_name is not None

    def _raw_connect(self) -> sqlite3.Connection:
        if self.memory_name is not None:
            target = f"file:{self.memory_name}?vfs=memdb"
            conn = sqlite3.connect(
                target, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
            )
        else:
            assert self.path is not None
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                # A URI: ATTACH then accepts the memdb template (restore_changed).
                conn = sqlite3.connect(
                    Path(self.path).absolute().as_uri(), uri=True,
                    timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
                )
            except (OSError, sqlite3.Error) as exc:
                raise DatabaseUnavailable(
                    f"cannot open database {self.path}: {exc} (is the folder writable?)"
                ) from exc
        return conn

    def connect(self) -> sqlite_utils.Database:
        """A new connection with the emulator's pragmas; the caller closes it."""
        conn = self._raw_connect()
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            # WAL (set once by a migration) makes NORMAL durable against process crashes;
            # a 201 is only sent after COMMIT returned (ARCHITECTURE §5).
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise DatabaseUnavailable(
                f"{self.describe()} is not a usable SQLite database ({exc}); "
                "move it away or start with --memory"
            ) from exc
        db = sqlite_utils.Database(conn)
        _WRITERS[db] = self._writer
        return db

    def acquire(self) -> sqlite_utils.Database:
        """An idle connection of this process, or a new one, for one request; hand it back
        with :meth:`release`.

        Opening a connection is cheap, but its first statement parses the whole schema (249
        tables with their indexes, views and triggers: ~8 ms). Connections are reused request
        after request, by whichever thread serves the request. werkzeug's threaded server
        runs each request in a new thread: with a connection per thread, every request parsed
        the schema, and with eight concurrent clients one request's thread waited 17-42 s
        for the GIL (py-spy) while the new threads parsed it
        (``tests/browser/test_pages_browser.py`` fetches 1,342 links eight at a time: 45 s
        before, 6 s now). Connections are opened with ``check_same_thread`` off; one serves
        one request at a time. SQLite notices schema changes made elsewhere by itself.
        """
        with self._idle_lock:
            if self._idle_pid != os.getpid():
                # A forked worker never uses the connections its parent opened.
                self._idle = []
                self._idle_pid = os.getpid()
            db = self._idle.pop() if self._idle else None
        if db is None:
            db = self.connect()
        # One request: its configuration reads share one version reading (_config_token).
        _REQUEST_CONFIG[db] = None
        return db

    def release(self, db: sqlite_utils.Database) -> None:
        """Give back a connection from :meth:`acquire`: a transaction left open (an error
        mid-request) is rolled back; the connection waits for the next request, or is closed
        when enough already wait."""
        _REQUEST_CONFIG.pop(db, None)
        try:
            if db.conn.in_transaction:
                db.conn.rollback()
        except sqlite3.Error:
            db.close()
            return
        with self._idle_lock:
            if self._idle_pid == os.getpid() and len(self._idle) < _IDLE_CONNECTIONS:
                self._idle.append(db)
                return
        db.close()

    def describe(self) -> str:
        """Human-readable location for messages and ``/_emulator/info``."""
        return ":memory:" if self.is_memory else str(self.path)

    def close(self) -> None:
        """Release a memory database (its data is gone afterwards) and the idle
        connections."""
        with self._idle_lock:
            idle = self._idle if self._idle_pid == os.getpid() else []
            self._idle = []
        for cached in idle:
            cached.close()
        if self._keepalive is not None:
            self._keepalive.close()
            self._keepalive = None
        self._writer.close()


#: The emulator's own table listing the tables written since the last template copy (a
#: trigger per table and event adds the table's name; ``store/migrations.py``).
DIRTY_TABLE = "_emulator_dirty"
#: Tables a restore always copies back, last (written by other tables' triggers).
ALWAYS_RESTORED = ("_emulator_config_version", "_emulator_dictionary_version")
_TEMPLATE_ALIAS = "template"
#: The prefix of the tables of kept record texts (``store/wire.py``).
WIRE_TABLE_PREFIX = "_wire_"
#: Per connection: the URI of the template attached to it.
_ATTACHED: weakref.WeakKeyDictionary[sqlite_utils.Database, str] = weakref.WeakKeyDictionary()
#: ``(template URI, table) -> quoted column list`` of the template's tables.
_TEMPLATE_COLUMNS: dict[tuple[str, str], str] = {}


def restore_changed(template_uri: str, target: sqlite_utils.Database) -> bool:
    """Put back, from the template at ``template_uri``, only the tables written since the
    last copy (:data:`DIRTY_TABLE`); ``False``, with nothing changed, when that cannot be
    done (a table the template lacks, a database older than dirty tracking): copy the whole
    template then. One write transaction: a reset of a few changed tables takes a couple of
    milliseconds where a copy of every page took thirty (issue 13)."""
    if target.conn.in_transaction:
        return False
    try:
        if _ATTACHED.get(target) != template_uri:
            if target in _ATTACHED:
                target.execute(f"DETACH DATABASE {_TEMPLATE_ALIAS}")
            target.execute(f"ATTACH DATABASE ? AS {_TEMPLATE_ALIAS}", [template_uri])
            _ATTACHED[target] = template_uri
        with write_transaction(target):
            dirty = [str(name) for (name,) in
                     target.execute(f"SELECT name FROM main.{DIRTY_TABLE}").fetchall()]
            # A table's kept texts (store/wire.py) change only with its rows, and deleting
            # the rows deletes them (by trigger): they are put back after their rows. They
            # have no dirty trigger of their own.
            texts = [str(name) for (name,) in target.execute(
                f"SELECT name FROM {_TEMPLATE_ALIAS}.sqlite_master WHERE type = 'table' "
                "AND name IN (SELECT ? || value FROM json_each(?))",
                [WIRE_TABLE_PREFIX, json.dumps(dirty)]).fetchall()]
            tables = [*(n for n in dirty if n not in ALWAYS_RESTORED), *texts,
                      *ALWAYS_RESTORED]
            columns = [_template_columns(target, template_uri, table) for table in tables]
            if any(not listed for listed in columns):
                raise _CannotRestore
            for table, listed in zip(tables, columns, strict=True):
                quoted = quote_identifier(table)
                target.execute(f"DELETE FROM main.{quoted}")
                target.execute(f"INSERT INTO main.{quoted} ({listed}) "
                               f"SELECT {listed} FROM {_TEMPLATE_ALIAS}.{quoted}")
            if target.execute(f"SELECT 1 FROM {_TEMPLATE_ALIAS}.sqlite_master "
                              "WHERE name = 'sqlite_sequence'").fetchone():
                target.execute("DELETE FROM main.sqlite_sequence")
                target.execute("INSERT INTO main.sqlite_sequence SELECT * FROM "
                               f"{_TEMPLATE_ALIAS}.sqlite_sequence")
            target.execute(f"DELETE FROM main.{DIRTY_TABLE}")
    except (_CannotRestore, sqlite3.Error):
        return False
    return True


def clear_dirty(db: sqlite_utils.Database) -> None:
    """Forget which tables were written (the template, once seeded)."""
    db.execute(f"DELETE FROM {DIRTY_TABLE}")


class _CannotRestore(Exception):
    """The fast restore does not apply (see :func:`restore_changed`)."""


def _template_columns(target: sqlite_utils.Database, template_uri: str, table: str) -> str:
    known = _TEMPLATE_COLUMNS.get((template_uri, table))
    if known is None:
        names = [str(row[1]) for row in target.execute(
            f"PRAGMA {_TEMPLATE_ALIAS}.table_info({quote_identifier(table)})").fetchall()]
        main = {str(row[1]) for row in target.execute(
            f"PRAGMA main.table_info({quote_identifier(table)})").fetchall()}
        if not names or not set(names) <= main:
            return ""  # not a table of both (a custom table, a view): copy everything
        # A physical table of records keeps its rowids: its kept texts (store/wire.py) are
        # found by rowid.
        kept = target.execute(f"SELECT 1 FROM {_TEMPLATE_ALIAS}.sqlite_master WHERE "
                              "type = 'table' AND name = ?", [WIRE_TABLE_PREFIX + table]).fetchone()
        known = _TEMPLATE_COLUMNS[(template_uri, table)] = ", ".join(
            [*(["rowid"] if kept else []), *(quote_identifier(name) for name in names)])
    return known


def copy_database(source: sqlite_utils.Database, target: sqlite_utils.Database, *,
                  wal: bool = False) -> None:
    """Replace ``target``'s whole content with ``source``'s (SQLite online backup).

    Used by reset: the seeded template is built once and copied, never re-seeded. ``wal``
    puts a file database back in WAL mode afterwards (the backup copies the source's header,
    and the template lives in memory, without WAL).
    """
    # A backup into this connection is neither another connection's commit nor a row change
    # of its own: answers cached for it (cached_read) are dropped by hand.
    _CACHED.pop(target, None)
    source.conn.backup(target.conn)
    _CACHED.pop(target, None)
    if wal:
        target.execute("PRAGMA journal_mode=WAL")


#: Per connection: {key: (data token, value)}, see :func:`cached_read`.
_CACHED: weakref.WeakKeyDictionary[sqlite_utils.Database,
                                   OrderedDict[Hashable, tuple[Hashable, Any]]]
_CACHED = weakref.WeakKeyDictionary()
_CACHED_PER_CONNECTION = 128


def _data_token(db: sqlite_utils.Database) -> tuple[int, int]:
    # data_version moves when any other connection (any process) commits; total_changes
    # when this one changes rows, committed or not.
    return int(db.execute("PRAGMA data_version").fetchone()[0]), db.conn.total_changes


def cached_scalar(db: sqlite_utils.Database, sql: str, parameters: Sequence[Any]) -> Any:
    """The first column of the first row of ``sql``, remembered until the data changes.

    For expensive read-only aggregates asked again and again (the listing's ``count(*)``,
    ``X-Total-Count``, asked once per page of the same query); see :func:`cached_read` for
    when a remembered answer is reused. ``sql`` must be deterministic (no ``random()``, no
    ``'now'``: times are bound parameters).
    """
    params = list(parameters)
    try:
        key = ("scalar", sql, tuple(params))
        hash(key)
    except TypeError:
        return db.execute(sql, params).fetchone()[0]
    return cached_read(db, key, lambda: db.execute(sql, params).fetchone()[0])


def cached_read(db: sqlite_utils.Database, key: Hashable, load: Callable[[], T]) -> T:
    """``load()``, remembered per connection under ``key`` until the data changes.

    For expensive aggregates (configuration reads use :func:`cached_config`, which survives
    writes to other tables). The answer is reused only while the database holds exactly the
    data it was computed on: no commit by another connection, in any process (``PRAGMA
    data_version``), and no row changed by this one (``total_changes``); nothing is cached
    inside a transaction (a rollback moves neither token); :func:`copy_database` forgets the
    target's answers. The value is shared by every caller: it must not be mutated (use
    tuples, frozensets, or copy it).
    """
    return _remembered(db, key, load, _data_token)


#: The tables whose rows :func:`cached_config` reads may come from. A trigger on each
#: (``store/migrations.py``) gives :data:`CONFIG_VERSION_TABLE` a new random value on every
#: insert, update and delete, in any process and through any connection.
CONFIG_TABLES = frozenset({
    "sys_user", "sys_user_has_role", "sys_user_role", "sys_rate_limit_rules",
    "sys_db_object", "sys_properties", "oauth_credential", "_emulator_fault",
    "_emulator_state", "sys_dictionary", "sys_choice", "sys_dictionary_override",
    # Inbound authentication (issue 18): API keys, access policies, certificate mappings.
    "api_key", "sys_api_access_policy", "sys_auth_profile_mapping", "inbound_auth_profile",
    "sys_token_auth_parameter", "sys_user_certificate",
})
CONFIG_VERSION_TABLE = "_emulator_config_version"


def cached_config(db: sqlite_utils.Database, tables: Iterable[str], key: Hashable,
                  load: Callable[[], T]) -> T:
    """:func:`cached_read` for reads of :data:`CONFIG_TABLES` only (``tables`` names the
    ones ``load`` reads): remembered until one of those tables changes, so the writes of
    the Table API (incidents) do not make every request after them read its user, roles,
    clock and fault rules again (issue 9). The version is random per change, and reset's
    copy brings the template's rows with the template's version: equal versions always mean
    equal rows."""
    unknown = set(tables) - CONFIG_TABLES
    if unknown:
        raise ValueError(f"not configuration tables (no version trigger): {sorted(unknown)}")
    return _remembered(db, key, load, _config_token)


#: Connections handed out by :meth:`DatabaseLocation.acquire` for one request, with the
#: configuration version their first cached read saw and the connection's ``total_changes``
#: then (``None`` until the first read).
_REQUEST_CONFIG: weakref.WeakKeyDictionary[sqlite_utils.Database, tuple[Any, int] | None]
_REQUEST_CONFIG = weakref.WeakKeyDictionary()


def _config_token(db: sqlite_utils.Database) -> tuple[Any, ...]:
    # Read once per request (its configuration reads see one consistent state, whatever
    # other processes commit meanwhile), again after this connection changed rows (a write
    # to a configuration table moves the version in its own view).
    memo = _REQUEST_CONFIG.get(db)
    if memo is not None and memo[1] == db.conn.total_changes:
        return ("config", memo[0])
    try:
        version = db.execute(f"SELECT value FROM {CONFIG_VERSION_TABLE}").fetchone()
    except sqlite3.OperationalError:  # a database the migrations have not reached yet
        return ("data", *_data_token(db))
    value = None if version is None else version[0]
    if db in _REQUEST_CONFIG:
        _REQUEST_CONFIG[db] = (value, db.conn.total_changes)
    return ("config", value)


def _remembered(db: sqlite_utils.Database, key: Hashable, load: Callable[[], T],
                token_of: Callable[[sqlite_utils.Database], Hashable]) -> T:
    if db.conn.in_transaction:
        # Own uncommitted changes may be rolled back, and a rollback moves neither token.
        return load()
    token = token_of(db)
    cache = _CACHED.get(db)
    if cache is None:
        cache = _CACHED[db] = OrderedDict()
    known = cache.get(key)
    if known is not None and known[0] == token:
        cache.move_to_end(key)
        return known[1]  # type: ignore[no-any-return]
    # Computed after the token was read: if data changed in between, the token no longer
    # matches on the next call and the value is computed again (never served stale).
    value = load()
    cache[key] = (token, value)
    if len(cache) > _CACHED_PER_CONNECTION:
        cache.popitem(last=False)
    return value


class WriterLock:
    """Writers of one database take turns here before SQLite's own write lock.

    SQLite lets one writer in at a time and makes the others poll: its busy handler sleeps
    1, 2, 5, 10... ms between attempts, while an insert holds the lock for a fraction of a
    millisecond, so concurrent POSTs spent most of their time asleep (scripts/bench, issue
    9). Here a waiting writer blocks on a lock and runs the moment the previous one commits:
    a thread lock among the threads of a process, then an ``flock`` on ``<database>-writer
    .lock`` among processes (``serve --workers N``). Both are made afresh in each process (a
    forked worker must not share its parent's). Memory databases live in one process: the
    thread lock is enough.
    """

    def __init__(self, path: str | None) -> None:
        self._path = path
        self._pid: int | None = None
        self._thread = threading.Lock()
        self._fd: int | None = None
        self._setup = threading.Lock()

    def _for_this_process(self) -> tuple[threading.Lock, int | None]:
        pid = os.getpid()
        if self._pid != pid:
            with self._setup:
                if self._pid != pid:
                    self._thread = threading.Lock()
                    self._fd = (None if self._path is None else
                                os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600))
                    self._pid = pid
        return self._thread, self._fd

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Wait for this database's write turn (no timeout: every holder commits or rolls
        back within its own request)."""
        lock, fd = self._for_this_process()
        with lock:
            if fd is None:
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close this process's lock file (the location is closing)."""
        with self._setup:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None
            self._pid = None


#: The :class:`WriterLock` of each connection's database (set by ``connect``).
_WRITERS: weakref.WeakKeyDictionary[sqlite_utils.Database, WriterLock]
_WRITERS = weakref.WeakKeyDictionary()


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A transaction that takes the write lock first (:class:`WriterLock`, then ``BEGIN
    IMMEDIATE``).

    For the Table API's writes and read-modify-write use cases shared by several processes
    (the clock state): a deferred transaction that reads and then writes fails at once with
    "database is locked" when another writer got in between (SQLite does not wait on a lock
    upgrade), and two plain read-then-write steps lose updates. Nested use becomes a
    savepoint.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    writer = _WRITERS.get(db)
    with writer.hold() if writer is not None else nullcontext():
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.rollback()
            raise
        db.execute("COMMIT")
