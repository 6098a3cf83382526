"""The scoped execution context: app code reading and writing tables like a scoped script.

A scoped app's server script uses GlideRecord; every operation passes the cross-scope check
(``domain/scopes/access_policy.py``). A refusal behaves as on the platform (servicenow-behaviour §5,
§10 item 9): **no exception** for the script. A query finds no rows, an insert returns no
sys_id, an update or delete reports ``False``; the message is what ``getLastErrorMessage()``
returns (:attr:`ScopedContext.last_error_message`) and is written to ``syslog`` (level Error,
the source scope as ``sys_scope``) where the admin sees it.

Reads and writes use the store directly (``store.rows`` with ``domain.seed.storage_row``),
with ``sys_*`` stamps from the context's clock and user; the Table API's ``domain/table/records.py``
may replace these helpers later without changing this interface.

Values passed in are *wire* values (strings, as a script would set them); rows returned are
*storage* rows (booleans 0/1, integers as ints, empty as ``None``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_servicenow.dictionary.values import to_storage
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.platform.seed import storage_row
from mock_servicenow.domain.scopes import access_policy
from mock_servicenow.domain.scopes.access_policy import Scope
from mock_servicenow.errors import ServiceNowError
from mock_servicenow.store import rows

#: ``syslog.level`` of a refusal (Error; servicenow-behaviour §5 "shown as a UI error banner/log").
ERROR_LEVEL = "2"


def take_write_lock(ctx: Context, purpose: str) -> None:
    """Make the open transaction a writer before it reads anything.

    A read-then-write use case (find the entity, create it if missing) run twice at once would
    otherwise have both read "missing", or fail to upgrade a stale WAL read snapshot (SQLite
    does not wait in that case). Writing first makes SQLite queue the second run on the busy
    timeout. The write is a marker in the emulator's internal state table.
    """
    rows.set_state(ctx.db, f"lock.{purpose}", ctx.now_glide())


class ScopeNotInstalled(ServiceNowError):
    """The scope has no ``sys_scope`` row: the app is not installed on this instance."""

    status = 400
    message = "Requested URI does not represent any resource"


class ScopedContext:
    """Code running in application scope ``scope`` on behalf of ``ctx.user``.

    One instance per script run (a checklist step, a scripted REST call). It does not open
    transactions: the domain function that creates it owns the ``db.atomic()`` block.
    """

    def __init__(self, ctx: Context, scope: str) -> None:
        found = access_policy.load_scope(ctx, scope)
        if found is None:
            raise ScopeNotInstalled(f"Application scope {scope} is not installed")
        self.ctx = ctx
        self.scope: Scope = found
        #: The refusal messages of this run, oldest first.
        self.errors: list[str] = []

    @property
    def last_error_message(self) -> str:
        """The last refusal's message (``GlideRecord.getLastErrorMessage()``), or ``""``."""
        return self.errors[-1] if self.errors else ""

    # -- the check ------------------------------------------------------------------------

    def can(self, table: str, operation: str) -> bool:
        """Run the cross-scope check; on refusal log it and remember the message."""
        decision = access_policy.check(self.ctx, self.scope, table, operation)
        if decision.allowed:
            return True
        self.errors.append(decision.message)
        self.log(decision.message, level=ERROR_LEVEL)
        return False

    def log(self, message: str, *, level: str = "0") -> None:
        """Write a ``syslog`` row attributed to this scope (``gs.error``/``gs.info``)."""
        row = storage_row(self.ctx.dictionary, "syslog", {
            "level": level, "message": message, "source": self.scope.scope,
            "sys_scope": self.scope.sys_id,
        }, stamp=self.ctx.now_glide(), user_name=self.ctx.user.user_name)
        row["sys_id"] = self.ctx.platform.ids.sys_id()
        rows.insert(self.ctx.db, self.ctx.dictionary, "syslog", row)

    # -- GlideRecord-like operations --------------------------------------------------------

    def query(self, table: str, **equals: Any) -> list[dict[str, Any]]:
        """Rows of ``table`` whose fields equal the given wire values; ``[]`` when refused."""
        if not self.can(table, "read"):
            return []
        fields = self.ctx.dictionary.fields(table)
        stored = {name: to_storage(fields[name], value) for name, value in equals.items()}
        return rows.find_by(self.ctx.db, self.ctx.dictionary, table, **stored)

    def get(self, table: str, sys_id: str) -> dict[str, Any] | None:
        """One row by sys_id; ``None`` when missing or refused."""
        if not self.can(table, "read"):
            return None
        return rows.get(self.ctx.db, self.ctx.dictionary, table, sys_id)

    def insert(self, table: str, values: Mapping[str, Any], *,
               sys_id: str | None = None) -> str | None:
        """Insert a record (wire values, defaults filled); its sys_id, or ``None`` when refused."""
        if not self.can(table, "create"):
            return None
        row = storage_row(self.ctx.dictionary, table, values, stamp=self.ctx.now_glide(),
                          user_name=self.ctx.user.user_name)
        row["sys_id"] = sys_id or self.ctx.platform.ids.sys_id()
        rows.insert(self.ctx.db, self.ctx.dictionary, table, row)
        return str(row["sys_id"])

    def update(self, table: str, sys_id: str, values: Mapping[str, Any]) -> bool:
        """Change some fields of a record (wire values); ``False`` when refused or missing."""
        if not self.can(table, "write"):
            return False
        current = rows.get(self.ctx.db, self.ctx.dictionary, table, sys_id)
        if current is None:
            return False
        fields = self.ctx.dictionary.fields(table)
        changes = {name: to_storage(fields[name], value) for name, value in values.items()}
        changes.update(sys_updated_on=self.ctx.now_glide(),
                       sys_updated_by=self.ctx.user.user_name,
                       sys_mod_count=int(current.get("sys_mod_count") or 0) + 1)
        rows.update(self.ctx.db, self.ctx.dictionary, table, sys_id, changes)
        return True

    def delete(self, table: str, sys_id: str) -> bool:
        """Delete a record; ``False`` when refused or missing."""
        if not self.can(table, "delete"):
            return False
        if rows.get(self.ctx.db, self.ctx.dictionary, table, sys_id) is None:
            return False
        rows.delete(self.ctx.db, self.ctx.dictionary, table, sys_id)
        return True
