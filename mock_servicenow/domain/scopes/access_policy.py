"""Cross-scope access: may code running in one application scope touch another scope's table?

The platform answers in two stages (servicenow-behaviour §5), both read from the database at
call time because admins and QA scenarios change them through the Table API and the
application access form:

1. **The table's application access policy**, the ``sys_db_object`` row of the target table:
   ``access`` (``public`` = "All application scopes", ``package_private`` = "This application
   scope only"), then ``read_access``, ``create_access``, ``update_access``, ``delete_access``
   (create, update and delete need read too). On a *global* table, create and update are also
   allowed when ``glide.record.legacy_cross_scope_access_policy_in_script`` is true, its
   default when the property is absent (servicenow-behaviour §5, last row): this is why a
   scoped app can create ``oauth_entity`` rows although the table's "Can create" is off.
   Refusal text (servicenow-behaviour §5, captured from Microsoft's docs):
   ``Read operation against 'oauth_entity' from scope 'x_mioms_m365ticket' has been refused
   due to the table's cross-scope access policy``.
2. **Cross-scope privileges** (``sys_scope_privilege``), governed by the *source* scope's
   runtime access tracking (servicenow-behaviour §5): ``none`` checks nothing; ``permissive``
   ("Tracking") records a missing privilege as ``allowed`` and lets the operation through;
   ``enforcing`` records it as ``requested`` and refuses until an admin sets ``allowed``. A
   privilege whose status is ``requested`` or ``denied`` refuses in both tracking modes.
   Refusal text (servicenow-behaviour §5, KB captures), scope shown by its display name:
   ``Security restricted: Read operation on table 'incident' from scope 'Microsoft 365
   Ticketing Connector' was denied. The application 'Microsoft 365 Ticketing Connector' must
   declare a cross scope access privilege. Please contact the application admin to update
   their access requests.`` When the privilege was missing and has just been requested, the
   captured variant ending ``Please contact the application author to update their privilege
   requests.`` is used.

These checks govern other scopes' *server scripts* only: REST requests and global or admin
sessions are not subject to them (servicenow-behaviour §5, "CRUD Can flags govern other
scopes' server scripts only"). The scoped execution context (``domain/scopes/scoped.py``) is the
only caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.platform.seed import storage_row
from mock_servicenow.errors import InvalidTable
from mock_servicenow.store import rows

#: Operations as ``sys_scope_privilege.operation`` stores them, with the word in messages.
OPERATIONS: dict[str, str] = {"read": "Read", "create": "Create", "write": "Write",
                              "delete": "Delete"}

#: The property letting scoped scripts create/update global tables (servicenow-behaviour §5).
LEGACY_PROPERTY = "glide.record.legacy_cross_scope_access_policy_in_script"

GLOBAL = "global"


@dataclass(frozen=True)
class Scope:
    """An application scope as the access check needs it (a ``sys_scope`` row)."""

    sys_id: str
    scope: str
    name: str
    runtime_access_tracking: str = "permissive"

    @property
    def is_global(self) -> bool:
        """True for the global scope (not subject to cross-scope checks)."""
        return self.scope == GLOBAL


@dataclass(frozen=True)
class Decision:
    """The outcome of one check: allowed, or refused with the platform's message.

    ``kind`` is ``"policy"`` (the table's application access) or ``"privilege"`` (a missing,
    requested or denied ``sys_scope_privilege``) for refusals, ``""`` when allowed.
    """

    allowed: bool
    message: str = ""
    kind: str = ""


ALLOWED = Decision(True)


def policy_refusal_message(operation: str, table: str, scope: str) -> str:
    """The table-policy refusal text (servicenow-behaviour §5), e.g. for ``oauth_entity``."""
    return (f"{OPERATIONS[operation]} operation against '{table}' from scope '{scope}' "
            "has been refused due to the table's cross-scope access policy")


def privilege_denial_message(operation: str, table: str, scope_name: str, *,
                             just_requested: bool = False) -> str:
    """The missing-privilege text (servicenow-behaviour §5), both captured endings."""
    ending = ("Please contact the application author to update their privilege requests."
              if just_requested else
              "Please contact the application admin to update their access requests.")
    return (f"Security restricted: {OPERATIONS[operation]} operation on table '{table}' from "
            f"scope '{scope_name}' was denied. The application '{scope_name}' must declare a "
            f"cross scope access privilege. {ending}")


def load_scope(ctx: Context, scope: str) -> Scope | None:
    """The scope named ``scope`` (``x_mioms_m365ticket``, ``global``), or ``None``."""
    found = rows.find_by(ctx.db, ctx.dictionary, "sys_scope", scope=scope)
    if not found:
        return None
    row = found[0]
    return Scope(sys_id=str(row["sys_id"]), scope=str(row["scope"]),
                 name=str(row.get("name") or row["scope"]),
                 runtime_access_tracking=str(row.get("runtime_access_tracking") or "none"))


def table_policy(ctx: Context, table: str) -> dict[str, Any]:
    """The ``sys_db_object`` row of ``table`` (its application access, as stored now)."""
    found = rows.find_by(ctx.db, ctx.dictionary, "sys_db_object", name=table)
    if not found:
        raise InvalidTable(table)
    return found[0]


def _legacy_global_writes(ctx: Context) -> bool:
    found = rows.find_by(ctx.db, ctx.dictionary, "sys_properties", name=LEGACY_PROPERTY)
    if not found:
        return True  # "default true when absent" (servicenow-behaviour §5)
    return str(found[0].get("value") or "").strip().lower() != "false"


def _policy_allows(ctx: Context, policy: dict[str, Any], operation: str) -> bool:
    if policy.get("access") != "public":
        return False
    if not policy.get("read_access"):
        return False  # create, update and delete need read (servicenow-behaviour §5)
    if operation == "read":
        return True
    if operation == "delete":
        return bool(policy.get("delete_access"))
    flag = "create_access" if operation == "create" else "update_access"
    if policy.get(flag):
        return True
    owner = policy.get("sys_scope") or GLOBAL
    return owner == GLOBAL and _legacy_global_writes(ctx)


def check(ctx: Context, source: Scope, table: str, operation: str) -> Decision:
    """May code in ``source`` perform ``operation`` (read/create/write/delete) on ``table``?

    May record a privilege (runtime access tracking), inside the caller's transaction.
    """
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}")
    policy = table_policy(ctx, table)
    if source.is_global or (policy.get("sys_scope") or GLOBAL) == source.sys_id:
        return ALLOWED
    if not _policy_allows(ctx, policy, operation):
        return Decision(False, policy_refusal_message(operation, table, source.scope), "policy")
    return _privilege(ctx, source, table, operation)


def _privilege(ctx: Context, source: Scope, table: str, operation: str) -> Decision:
    tracking = source.runtime_access_tracking
    if tracking not in ("permissive", "enforcing"):
        return ALLOWED
    found = rows.find_by(ctx.db, ctx.dictionary, "sys_scope_privilege",
                         source_scope=source.sys_id, target_name=table,
                         target_type="sys_db_object", operation=operation)
    if found:
        if any(p.get("status") == "allowed" for p in found):
            return ALLOWED
        return Decision(False, privilege_denial_message(operation, table, source.name),
                        "privilege")
    status = "allowed" if tracking == "permissive" else "requested"
    record_privilege(ctx, source, table, operation, status)
    if status == "allowed":
        return ALLOWED
    return Decision(False, privilege_denial_message(operation, table, source.name,
                                                    just_requested=True), "privilege")


def record_privilege(ctx: Context, source: Scope, table: str, operation: str,
                     status: str) -> str:
    """Insert a ``sys_scope_privilege`` row for ``source`` on ``table``; returns its sys_id."""
    policy = table_policy(ctx, table)
    row = storage_row(ctx.dictionary, "sys_scope_privilege", {
        "source_scope": source.sys_id, "target_scope": policy.get("sys_scope") or GLOBAL,
        "target_name": table, "target_type": "sys_db_object", "operation": operation,
        "status": status,
    }, stamp=ctx.now_glide(), user_name=ctx.user.user_name)
    row["sys_id"] = ctx.platform.ids.sys_id()
    rows.insert(ctx.db, ctx.dictionary, "sys_scope_privilege", row)
    return str(row["sys_id"])
