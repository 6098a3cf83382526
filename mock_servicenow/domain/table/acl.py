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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_servicenow.dictionary import TableAcl
from mock_servicenow.domain.platform.context import Context, Principal
from mock_servicenow.errors import OperationFailed, RecordNotFound

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


def can_read_table(ctx: Context, table: str) -> bool:
    """True when the user reads every row of ``table`` (no row-level check needed)."""
    return _passes(ctx.user, rule_for(ctx, table).read)


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
