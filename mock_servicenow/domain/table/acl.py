"""Table ACLs by role and row-level read rules for the Table API.

What the platform does (servicenow-behaviour §1.5, §5, §6, §10 items 2, 9, 10):

* REST access to a table is also gated by ``sys_db_object.ws_access``; that check lives in
  :func:`mock_servicenow.domain.table.records.check_table`, since it reads the row per request.
* The application-access "Can read/create/..." flags do not apply to REST (§5).
* ACLs by role: ``admin`` passes everything; other rules are a small table below, modelled on
  the out-of-box ACLs of the tables the emulator knows (``itil`` works tasks, ``user_admin``
  manages users, ``oauth_admin`` the application registries).
* A row the user cannot read is a 404 on a single GET and silently missing from a list page
  (ACLs run after ``sysparm_limit``, §1.2 / §10.10); write denials are 403 ``Operation Failed``
  with ``ACL Exception <Op> Failed due to security constraints`` (§1.5).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mock_servicenow.domain.platform.context import Context, Principal
from mock_servicenow.errors import OperationFailed, RecordNotFound

#: Who passes an operation on a table: any of these roles (``*`` = any authenticated user).
#: Tables not listed fall back to :data:`DEFAULT_RULE`.
Roles = frozenset[str]
ANY: Roles = frozenset({"*"})
ADMIN_ONLY: Roles = frozenset()


@dataclass(frozen=True)
class TableRule:
    """Roles needed per operation; ``owner_fields`` let a user read/write their own rows."""

    read: Roles = ADMIN_ONLY
    create: Roles = ADMIN_ONLY
    write: Roles = ADMIN_ONLY
    delete: Roles = ADMIN_ONLY
    owner_fields: tuple[str, ...] = ()


_ITIL = frozenset({"itil"})
_TASK_RULE = TableRule(read=_ITIL, create=_ITIL, write=_ITIL, delete=ADMIN_ONLY)

#: Out-of-box-like ACLs (servicenow-behaviour §6: roles; §7: task tables).
RULES: Mapping[str, TableRule] = {
    # Any user may raise an incident and see/update the ones they are caller or opener of
    # (the ESS rules); fulfillers (itil) see and work all of them.
    "incident": TableRule(read=_ITIL, create=ANY, write=_ITIL, delete=ADMIN_ONLY,
                          owner_fields=("caller_id", "opened_by")),
    "task": _TASK_RULE,
    "change_request": TableRule(read=_ITIL, create=_ITIL, write=_ITIL | {"change_manager"}),
    "problem": TableRule(read=_ITIL, create=_ITIL, write=_ITIL | {"problem_manager"}),
    "sys_user": TableRule(read=ANY, create=frozenset({"user_admin"}),
                          write=frozenset({"user_admin"}), delete=frozenset({"user_admin"})),
    "sys_user_group": TableRule(read=ANY, create=frozenset({"user_admin"}),
                                write=frozenset({"user_admin"}),
                                delete=frozenset({"user_admin"})),
    "sys_user_grmember": TableRule(read=ANY, create=frozenset({"user_admin"}),
                                   write=frozenset({"user_admin"}),
                                   delete=frozenset({"user_admin"})),
    "sys_user_role": TableRule(read=ANY),
    "sys_user_has_role": TableRule(read=frozenset({"user_admin"})),
    "core_company": TableRule(read=ANY),
    "cmn_department": TableRule(read=ANY),
    "cmn_location": TableRule(read=ANY),
    "oauth_entity": TableRule(read=frozenset({"oauth_admin"}), create=frozenset({"oauth_admin"}),
                              write=frozenset({"oauth_admin"}),
                              delete=frozenset({"oauth_admin"})),
}

#: Everything else (dictionary, properties, logs, tokens...) is for admins.
DEFAULT_RULE = TableRule()

_OPERATION_WORD = {"create": "Insert", "write": "Update", "delete": "Delete"}


def _passes(user: Principal, roles: Roles) -> bool:
    if user.is_admin:
        return True
    if "*" in roles:
        return True
    return any(user.has_role(role) for role in roles)


def rule_for(ctx: Context, table: str) -> TableRule:
    """The rule of ``table``, or of its nearest ancestor that has one (``incident`` -> task)."""
    for name in ctx.dictionary.ancestry(table):
        if name in RULES:
            return RULES[name]
    return DEFAULT_RULE


def is_owner(rule: TableRule, user: Principal, row: Mapping[str, Any]) -> bool:
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
    if _passes(ctx.user, getattr(rule, operation)):
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
