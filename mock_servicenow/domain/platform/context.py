"""What every domain use case needs: the instance, its database, the time, the acting user.

The web layer builds one :class:`Context` per request; the CLI and the seed build their own.
Domain functions take it as their first argument instead of reaching for globals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlite_utils

from mock_servicenow.dictionary import Dictionary
from mock_servicenow.domain.identity.passwords import PasswordVerifier
from mock_servicenow.domain.platform.clock import Clock, format_glide
from mock_servicenow.domain.platform.ids import IdGenerator
from mock_servicenow.domain.platform.schema import Schema
from mock_servicenow.releases import Release

#: The well-known admin sys_id present on every instance (servicenow-behaviour §1.4).
ADMIN_SYS_ID = "6816f79cc0a8016401c5a33be04be441"


@dataclass
class Platform:
    """Instance-wide services, built once per app: the schema, ids, release, hashing.

    ``schema`` holds the out-of-box dictionary (``dictionary``) and the dictionaries that
    instances' own records describe (custom fields and tables, ``schema.py``).
    """

    name: str
    release: Release
    schema: Schema
    ids: IdGenerator
    verifier: PasswordVerifier
    password_hash_iterations: int
    access_token_lifespan: int = 1800
    refresh_token_lifespan: int = 8_640_000
    base_url: str | None = None

    @property
    def dictionary(self) -> Dictionary:
        """The out-of-box dictionary (an instance's own: ``Context.dictionary``)."""
        return self.schema.base


@dataclass(frozen=True)
class Principal:
    """The user a request acts as: sys_user row plus its role names.

    ``via`` tells how the user authenticated (``basic``, ``bearer``, ``session``, ``system``).
    """

    sys_id: str
    user_name: str
    name: str
    roles: frozenset[str] = frozenset()
    via: str = "system"
    row: dict[str, Any] = field(default_factory=dict, repr=False)

    def has_role(self, role: str) -> bool:
        """True for ``role`` itself or for admins (admin passes every role check)."""
        return role in self.roles or "admin" in self.roles

    @property
    def is_admin(self) -> bool:
        """True when the user holds ``admin``."""
        return "admin" in self.roles


#: The acting user of the seed and of control-plane operations.
SYSTEM = Principal(sys_id=ADMIN_SYS_ID, user_name="system", name="System",
                   roles=frozenset({"admin"}), via="system")


@dataclass
class Context:
    """One use case's world: ``platform``, an open ``db``, a ``clock``, and the ``user``."""

    platform: Platform
    db: sqlite_utils.Database
    clock: Clock
    user: Principal = field(default_factory=lambda: SYSTEM)
    base_url: str = "http://127.0.0.1:8080"
    api_version: str | None = None
    #: Per use case: the user's read scope per table (``domain.table.acl.read_scope``).
    acl_cache: dict[object, object] = field(default_factory=dict, repr=False)
    #: Generated secrets shown once, in the answer to the write that created them (an API
    #: key's token), by ``(table, sys_id)``: business rules put them here, the record's first
    #: rendering takes them out (``domain/table/records.create_record``).
    revealed: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict, repr=False)
    _dictionary: Dictionary | None = field(default=None, init=False, repr=False)

    @property
    def dictionary(self) -> Dictionary:
        """The dictionary of this instance's records (custom fields and tables included),
        read once per use case."""
        known = self._dictionary
        if known is None:
            known = self._dictionary = self.platform.schema.for_db(self.db)
        return known

    def use_dictionary(self, dictionary: Dictionary) -> None:
        """The dictionary after this use case changed the dictionary records."""
        self._dictionary = dictionary

    def now(self) -> datetime:
        """The instance's current time."""
        return self.clock.now()

    def now_glide(self) -> str:
        """The current time as a raw ServiceNow date-time string (UTC)."""
        return format_glide(self.clock.now())
