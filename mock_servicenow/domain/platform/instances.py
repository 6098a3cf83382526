"""Many isolated instances in one server, chosen by host name (issue 9 item 4).

The default instance (the one ``serve`` prints) answers every host name except
``<name>.localhost``: ``127.0.0.1``, ``localhost``, ``dev00000.service-now.test`` and the
configured name keep working as before. ``<name>.localhost`` names another instance, each with
its own database, created through the control plane (``POST /_emulator/instances``) and
reachable at ``http://<name>.localhost:<port>`` (browsers and curl resolve ``*.localhost`` to
loopback, RFC 6761 §6.3; other clients can send the ``Host`` header). ``<default
name>.localhost`` is the default instance. An unknown ``<name>.localhost`` is refused with a
404 envelope rather than created on demand, so a typo in a CI worker's host name fails loudly
instead of silently testing against a fresh instance.

Storage follows the default instance:

* file database ``dir/instance.db``: each instance is ``dir/instance.instances/<name>.db``.
  The directory *is* the registry, so every gunicorn worker sees the same instances and a
  reset of the default instance (a page copy over its database) cannot forget them. A new
  database is built under a temporary name and published with ``os.link`` (atomic, refuses
  an existing name), so no worker ever opens a half-copied instance;
* memory database (``serve --memory``, one process): each instance is its own memory
  database, the registry a dictionary.

Every instance is seeded from the default instance's cached template (creation is a page
copy, like reset), then renamed: ``instance_name`` and ``glide.servlet.uri`` name it
(servicenow-behaviour §8: a PDI is ``https://<instance>.service-now.com``).
"""

from __future__ import annotations

import dataclasses
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from mock_servicenow.domain.platform.ids import IdGenerator
from mock_servicenow.domain.platform.instance import Instance
from mock_servicenow.errors import InvalidRequest, ServiceNowError
from mock_servicenow.store import rows
from mock_servicenow.store.db import DatabaseLocation

#: Host names ending with this choose an instance by their first label.
LOCAL_SUFFIX = ".localhost"

#: An instance name is one DNS label (RFC 1123), lower case: it becomes a host name and a
#: file name, so nothing else (no dots, slashes or ``..``) can get through.
_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class UnknownInstance(ServiceNowError):
    """404 for ``<name>.localhost`` when no instance has that name (body per §3)."""

    status = 404
    message = "Instance not found"

    def __init__(self, name: str) -> None:
        super().__init__(f"No emulated instance is named '{name}'; "
                         "create it with POST /_emulator/instances")


class InvalidInstanceName(InvalidRequest):
    """400 for a name that is not a lower-case DNS label."""

    message = "Invalid instance name"

    def __init__(self) -> None:
        super().__init__("An instance name is 1 to 63 characters a-z, 0-9 and '-', "
                         "starting and ending with a letter or digit")


class InstanceExists(ServiceNowError):
    """409 when creating an instance whose name is taken."""

    status = 409
    message = "Instance already exists"


class DefaultInstanceProtected(InvalidRequest):
    """400 for deleting the default instance."""

    message = "The default instance cannot be deleted"


def validate_name(name: object) -> str:
    """``name`` as an instance name, or :class:`InvalidInstanceName`."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInstanceName()
    return name


def host_name(host: str) -> str:
    """The host of a ``Host`` header: no port, lower case, no trailing dot (IPv6 unwrapped)."""
    if host.startswith("["):
        return host[1:host.find("]")].lower() if "]" in host else host.lower()
    return host.rsplit(":", 1)[0].lower().rstrip(".")


class NamedInstance(Instance):
    """An instance other than the default: same template, its own name in its properties."""

    def _after_copy(self, db: sqlite_utils.Database) -> None:
        name = self.platform.name
        dictionary = self.platform.dictionary
        with db.atomic():
            for prop, value in (("instance_name", name),
                                ("glide.servlet.uri", f"https://{name}.service-now.com/")):
                for row in rows.find_by(db, dictionary, "sys_properties", name=prop):
                    rows.update(db, dictionary, "sys_properties", row["sys_id"],
                                {"value": value})


@dataclass(frozen=True)
class InstanceInfo:
    """One line of ``GET /_emulator/instances``."""

    name: str
    host: str
    database: str
    default: bool = False


class InstanceRegistry:
    """The instances of one server: the default one plus those created by name.

    Thread-safe; with a file database, every process holding a registry on the same default
    database sees the same instances.
    """

    def __init__(self, default: Instance, *, random_seed: int | None = None) -> None:
        self.default = default
        self._random_seed = random_seed
        self._lock = threading.Lock()
        self._cache: dict[str, Instance] = {}
        self._identities: dict[str, tuple[int, int]] = {}
        location = default.location
        self.directory: Path | None = None
        if not location.is_memory:
            assert location.path is not None
            path = Path(location.path)
            self.directory = path.with_name(f"{path.stem}.instances")

    # -- lookups -------------------------------------------------------------------------

    def for_host(self, host: str) -> Instance:
        """The instance a request with this ``Host`` header talks to."""
        name = host_name(host)
        if not name.endswith(LOCAL_SUFFIX):
            return self.default
        label = name[: -len(LOCAL_SUFFIX)]
        if label == self.default.platform.name:
            return self.default
        return self.get(label)

    def get(self, name: str) -> Instance:
        """The instance called ``name`` (404 :class:`UnknownInstance` when there is none)."""
        if not _NAME.fullmatch(name):
            raise UnknownInstance(name)
        with self._lock:
            instance = self._cache.get(name)
            if self.directory is None:
                if instance is None:
                    raise UnknownInstance(name)
                return instance
            path = self._path(name)
            # The file is the truth, the cache a shortcut: another worker may have deleted
            # the instance, or deleted and created it again (a new file: a new inode, and
            # this process's cached connections would still read the old one).
            try:
                identity = _file_identity(path)
            except FileNotFoundError:
                self._cache.pop(name, None)
                self._identities.pop(name, None)
                raise UnknownInstance(name) from None
            if instance is None or self._identities.get(name) != identity:
                instance = self._build(name, DatabaseLocation.file(path))
                instance.prepare()  # migrates a database made by an older emulator
                self._cache[name] = instance
                self._identities[name] = identity
            return instance

    def list(self) -> list[InstanceInfo]:
        """The default instance, then the others by name."""
        default = InstanceInfo(name=self.default.platform.name,
                               host=f"{self.default.platform.name}{LOCAL_SUFFIX}",
                               database=self.default.location.describe(), default=True)
        if self.directory is None:
            with self._lock:
                names = sorted(self._cache)
            found = [(n, ":memory:") for n in names]
        else:
            found = [(p.stem, str(p)) for p in sorted(self.directory.glob("*.db"))
                     if _NAME.fullmatch(p.stem)]
        return [default] + [InstanceInfo(name=n, host=f"{n}{LOCAL_SUFFIX}", database=d)
                            for n, d in found]

    def info(self, name: str) -> InstanceInfo:
        """The listing line of one instance."""
        for entry in self.list():
            if entry.name == name:
                return entry
        raise UnknownInstance(name)

    # -- changes -------------------------------------------------------------------------

    def create(self, name: object) -> tuple[InstanceInfo, float]:
        """Create a seeded instance; returns its listing line and the seconds it took."""
        valid = validate_name(name)
        if valid == self.default.platform.name:
            raise InstanceExists(f"'{valid}' is the default instance")
        started = time.perf_counter()
        with self._lock:
            if self.directory is None:
                if valid in self._cache:
                    raise InstanceExists(f"An instance named '{valid}' exists")
                instance = self._build(valid, DatabaseLocation.memory())
                instance.prepare()
                self._cache[valid] = instance
            else:
                self._cache[valid] = self._create_file(valid)
                self._identities[valid] = _file_identity(self._path(valid))
        return self.info(valid), time.perf_counter() - started

    def _create_file(self, name: str) -> Instance:
        assert self.directory is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self._path(name)
        if final.exists():
            raise InstanceExists(f"An instance named '{name}' exists")
        scratch = self.directory / f".{name}.{uuid.uuid4().hex}.building"
        try:
            self._build(name, DatabaseLocation.file(scratch)).prepare()
            try:
                os.link(scratch, final)
            except FileExistsError:
                raise InstanceExists(f"An instance named '{name}' exists") from None
        finally:
            _remove_database_files(scratch)
        return self._build(name, DatabaseLocation.file(final))

    def delete(self, name: str) -> None:
        """Remove an instance and its database."""
        if name == self.default.platform.name:
            raise DefaultInstanceProtected()
        if not _NAME.fullmatch(name):
            raise UnknownInstance(name)
        with self._lock:
            instance = self._cache.pop(name, None)
            self._identities.pop(name, None)
            if self.directory is None:
                if instance is None:
                    raise UnknownInstance(name)
                instance.close()
                return
            path = self._path(name)
            if not path.exists():
                raise UnknownInstance(name)
            _remove_database_files(path)

    def close(self) -> None:
        """Release every memory database this registry holds (tests, shutdown)."""
        with self._lock:
            for instance in self._cache.values():
                instance.close()
            self._cache.clear()

    # -- helpers -------------------------------------------------------------------------

    def _path(self, name: str) -> Path:
        assert self.directory is not None
        return self.directory / f"{name}.db"

    def _build(self, name: str, location: DatabaseLocation) -> Instance:
        default = self.default
        platform = dataclasses.replace(default.platform, name=name,
                                       ids=IdGenerator(self._random_seed))
        # Same seed, apps and scenario catalogue as the default instance; startup scenarios
        # (serve --scenario) are not applied: an instance made by name starts from the seed.
        return NamedInstance(platform=platform, location=location, seed_kind=default.seed_kind,
                             admin_password=default.admin_password,
                             installers=default.installers, scenario_dirs=default.scenario_dirs,
                             actions=default.actions, _template=default.template())


def _file_identity(path: Path) -> tuple[int, int]:
    """Device and inode of a file: which file a path names right now."""
    found = path.stat()
    return found.st_dev, found.st_ino


def _remove_database_files(path: Path) -> None:
    # "-writer.lock": store/db.WriterLock's file (only a queue for writers; SQLite's own
    # locking keeps the data safe whoever holds it).
    for suffix in ("", "-wal", "-shm", "-journal", "-writer.lock"):
        try:
            os.unlink(f"{path}{suffix}")
        except FileNotFoundError:
            pass
