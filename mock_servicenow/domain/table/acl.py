"""Table ACLs by role and row-level read rules for the Table API.

What the platform does (servicenow-behaviour §1.5, §5, §6, §10 items 2, 9, 10):

* REST access to a table is also gated by ``sys_db_object.ws_access``; that check lives in
  :func:`mock_servicenow.domain.table.records.check_table`, since it reads the row per request.
* The application-access "Can read/create/..." flags do not apply to REST (§5).
* ACLs by role: ``admin`` passes everything; other rules are data, each table's ``acl`` in
  the dictionary (``dictionary/data/README.md``), modelled on the out-of-box ACLs (``itil``
  works tasks, ``user_admin`` manages users, ``oauth_admin`` the application registries); a
  table without one inherits its nearest ancestor's, and without any is for admins.
* A row the user cannot read is a 404 on a single GET and silently missing from a list page
  (ACLs run after ``sysparm_limit``, §1.2 / §10.10); write denials are 403 ``Operation Failed``
  with ``ACL Exception <Op> Failed due to security constraints`` (§1.5).
* A table the user can read no row of answers a listing with no rows and a count of 0: the
  platform filters by ACL rather than refusing (a failed read ACL means the user "can't see
  the object in forms or lists [and] can't retrieve records using API protocols such as web
  services", https://www.servicenow.com/docs/r/platform-security/access-control/exploring-access-control-list.html;
  only tables guarded by an elevated-privilege role answer 403, Table API security,
  https://docs.servicenow.com/bundle/geneva-servicenow-platform/page/integrate/inbound_rest/concept/c_TableAPISecurity.html).
* Every dot-walk step (``sysparm_fields``, display values, conditions, ordering) lands on a
  table whose read ACL applies there too: what the user cannot read is empty, as the field of
  a record that fails its read ACL is "not shown to the user" (same page, "Pre and post query
  ACL checks"), and queries and sorting are governed by read access when no query ACL exists
  (https://www.servicenow.com/docs/r/xanadu/platform-security/access-control/query-acl-rule.html).
  :func:`read_scope` is computed once per (request, table).
* Only an admin may change a user who holds ``admin`` or an elevated-privilege role (their
  password, roles, anything): "To grant the admin role to a user, you must also have the
  admin role" (https://www.servicenow.com/docs/bundle/yokohama-platform-administration/page/administer/users-and-groups/task/t_AssignARoleToAUser.html),
  and a ``user_admin`` who could reset the admin's password would hold admin by another door
  (elevated privilege roles,
  https://www.servicenow.com/docs/r/australia/platform-security/c_ElevatedPrivilege.html).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mock_servicenow.dictionary import TableAcl
from mock_servicenow.domain.platform.context import Context, Principal
from mock_servicenow.errors import OperationFailed, RecordNotFound
from mock_servicenow.store import identity_tables

#: Tables without an ``acl`` in the dictionary (nor an ancestor with one) are for admins:
#: the dictionary, properties, logs, tokens...
DEFAULT_RULE = TableAcl()

_OPERATION_WORD = {"create": "Insert", "write": "Update", "delete": "Delete"}


def _passes(user: Principal, roles: tuple[str, ...]) -> bool:
    if user.is_admin:
        return True
    if "*" in roles:
        return True
    return any(user.has_role(role) for role in roles)


def rule_for(ctx: Context, table: str) -> TableAcl:
    """The rule of ``table``, or of its nearest ancestor that has one (``incident`` -> task)."""
    dictionary = ctx.dictionary
    for name in dictionary.ancestry(table):
        rule = dictionary.table(name).acl
        if rule is not None:
            return rule
    return DEFAULT_RULE


def is_owner(rule: TableAcl, user: Principal, row: Mapping[str, Any]) -> bool:
    """True when the user is named in one of the rule's owner fields of ``row``."""
    return any(row.get(name) == user.sys_id for name in rule.owner_fields)


@dataclass(frozen=True)
class ReadScope:
    """Which rows of a table the acting user reads: every row (``everything``), the rows
    naming them in one of ``owner_fields``, or none (neither)."""

    everything: bool
    owner_fields: tuple[str, ...] = ()

    @property
    def nothing(self) -> bool:
        """True when no row of the table is readable."""
        return not self.everything and not self.owner_fields


def read_scope(ctx: Context, table: str) -> ReadScope:
    """The user's :class:`ReadScope` on ``table``, worked out once per context (request)."""
    # Keyed by the user too: a context's acting user can be replaced (web.context.get_ctx).
    key = (ctx.user.sys_id, ctx.user.roles, table)
    cache = ctx.acl_cache
    scope = cache.get(key)
    if scope is None:
        rule = rule_for(ctx, table)
        scope = (ReadScope(everything=True) if _passes(ctx.user, rule.read)
                 else ReadScope(everything=False, owner_fields=rule.owner_fields))
        cache[key] = scope
    assert isinstance(scope, ReadScope)
    return scope


def readable_filter(ctx: Context, table: str,
                    alias: str) -> tuple[str, list[object]] | None:
    """An SQL condition on the row ``alias`` of ``table`` that holds for the rows the user
    may read, with its parameters; ``None`` when every row is readable (nothing to add)."""
    scope = read_scope(ctx, table)
    if scope.everything:
        return None
    if scope.nothing:
        return "0", []
    terms = " OR ".join(f'{alias}."{name}" = ?' for name in scope.owner_fields)
    return f"({terms})", [ctx.user.sys_id] * len(scope.owner_fields)


def readable_rows(ctx: Context, table: str,
                  found: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Mapping[str, Any]]:
    """``found`` (rows of ``table`` by sys_id, read for a dot-walk or a display value) without
    the rows the user may not read; the rows must hold the scope's owner fields."""
    scope = read_scope(ctx, table)
    if scope.everything:
        return found
    if scope.nothing:
        return {}
    return {key: row for key, row in found.items()
            if any(row.get(name) == ctx.user.sys_id for name in scope.owner_fields)}


def can_read_table(ctx: Context, table: str) -> bool:
    """True when the user reads every row of ``table`` (no row-level check needed)."""
    return read_scope(ctx, table).everything


def can_read_any(ctx: Context, table: str) -> bool:
    """False when the user can read no row of ``table`` at all (listings are then empty, with
    a count of 0)."""
    return not read_scope(ctx, table).nothing


def can_read_row(ctx: Context, table: str, row: Mapping[str, Any]) -> bool:
    """Row-level read: the table rule, else ownership (servicenow-behaviour §1.5, §10.10)."""
    rule = rule_for(ctx, table)
    return _passes(ctx.user, rule.read) or is_owner(rule, ctx.user, row)


def require_read_row(ctx: Context, table: str, row: Mapping[str, Any]) -> None:
    """404 ``No Record found`` for a row hidden by ACL (servicenow-behaviour §1.5)."""
    if not can_read_row(ctx, table, row):
        raise RecordNotFound()


def can_list(ctx: Context, table: str) -> bool:
    """True when a listing of ``table`` can show the user anything: the table rule passes, or
    the rule lets owners read their own rows (the navigator shows such modules)."""
    rule = rule_for(ctx, table)
    return _passes(ctx.user, rule.read) or bool(rule.owner_fields)


def can_write(ctx: Context, table: str, operation: str,
              row: Mapping[str, Any] | None = None) -> bool:
    """:func:`require_write` as a question (pages show the buttons the user may press)."""
    rule = rule_for(ctx, table)
    if (rule.privileged_rows and row is not None and not ctx.user.is_admin
            and identity_tables.holds_privileged_role(ctx.db, str(row.get("sys_id") or ""))):
        return False  # only an admin changes an admin (module docstring)
    roles: tuple[str, ...] = getattr(rule, operation)
    if _passes(ctx.user, roles):
        return True
    return operation == "write" and row is not None and is_owner(rule, ctx.user, row)


def require_write(ctx: Context, table: str, operation: str,
                  row: Mapping[str, Any] | None = None) -> None:
    """403 ``Operation Failed`` / ``ACL Exception <Op> Failed due to security constraints``.

    ``operation`` is ``create``, ``write`` or ``delete`` (servicenow-behaviour §1.5).
    """
    if can_write(ctx, table, operation, row):
        return
    raise OperationFailed(
        f"ACL Exception {_OPERATION_WORD[operation]} Failed due to security constraints"
    )
