"""Cross-scope access checks (servicenow-behaviour §5), read from the database at call time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.platform.seed import storage_row
from mock_servicenow.domain.scopes import access_policy
from mock_servicenow.domain.scopes.access_policy import Scope
from mock_servicenow.errors import InvalidTable
from mock_servicenow.store import rows

APP = "x_mioms_m365ticket"
APP_NAME = "Microsoft 365 Ticketing Connector"


@pytest.fixture
def ctx(snow_app: Flask) -> Iterator[Context]:
    instance = snow_app.extensions["mock_servicenow"].instance
    db = instance.connect()
    yield instance.context(db)
    db.close()


def _scope(ctx: Context, tracking: str | None = None) -> Scope:
    scope = access_policy.load_scope(ctx, APP)
    assert scope is not None
    if tracking is not None:
        rows.update(ctx.db, ctx.dictionary, "sys_scope", scope.sys_id,
                    {"runtime_access_tracking": tracking})
        scope = access_policy.load_scope(ctx, APP)
        assert scope is not None
    return scope


def _policy(ctx: Context, table: str, **values: object) -> None:
    row = rows.find_by(ctx.db, ctx.dictionary, "sys_db_object", name=table)[0]
    rows.update(ctx.db, ctx.dictionary, "sys_db_object", row["sys_id"], values)


def _property(ctx: Context, name: str, value: str) -> None:
    row = storage_row(ctx.dictionary, "sys_properties", {"name": name, "value": value},
                      stamp=ctx.now_glide(), user_name="admin")
    row["sys_id"] = ctx.platform.ids.sys_id()
    rows.insert(ctx.db, ctx.dictionary, "sys_properties", row)


@pytest.mark.parametrize("operation, word", [("read", "Read"), ("create", "Create"),
                                             ("write", "Write"), ("delete", "Delete")])
def test_package_private_tables_refuse_every_operation(ctx: Context, operation: str,
                                                       word: str) -> None:
    scope = _scope(ctx, "none")
    _policy(ctx, "incident", access="package_private", delete_access=1)
    decision = access_policy.check(ctx, scope, "incident", operation)
    assert decision == access_policy.Decision(
        False, f"{word} operation against 'incident' from scope 'x_mioms_m365ticket' has been "
               "refused due to the table's cross-scope access policy", "policy")


def test_the_documented_oauth_entity_message(ctx: Context) -> None:
    """Word for word from Microsoft's troubleshooting page (m365-ticketing.md §3.5)."""
    _policy(ctx, "oauth_entity", read_access=0)
    assert access_policy.check(ctx, _scope(ctx), "oauth_entity", "read").message == (
        "Read operation against 'oauth_entity' from scope 'x_mioms_m365ticket' has been refused "
        "due to the table's cross-scope access policy")


def test_create_update_delete_need_read(ctx: Context) -> None:
    scope = _scope(ctx, "none")
    _policy(ctx, "incident", read_access=0, create_access=1, update_access=1, delete_access=1)
    for operation in ("create", "write", "delete"):
        assert not access_policy.check(ctx, scope, "incident", operation).allowed


def test_legacy_property_lets_scoped_scripts_create_and_update_global_tables(ctx: Context) -> None:
    scope = _scope(ctx, "none")
    # oauth_entity: Can create / Can update off out of the box, yet the app creates rows.
    assert access_policy.check(ctx, scope, "oauth_entity", "create").allowed
    assert access_policy.check(ctx, scope, "oauth_entity", "write").allowed
    assert not access_policy.check(ctx, scope, "oauth_entity", "delete").allowed
    _property(ctx, access_policy.LEGACY_PROPERTY, "false")
    assert not access_policy.check(ctx, scope, "oauth_entity", "create").allowed
    assert not access_policy.check(ctx, scope, "oauth_entity", "write").allowed
    assert access_policy.check(ctx, scope, "oauth_entity", "read").allowed
    _policy(ctx, "oauth_entity", create_access=1)
    assert access_policy.check(ctx, scope, "oauth_entity", "create").allowed


def test_global_scope_and_own_tables_are_not_checked(ctx: Context) -> None:
    _policy(ctx, "incident", access="package_private", read_access=0)
    global_scope = access_policy.load_scope(ctx, "global")
    assert global_scope is not None and global_scope.is_global
    assert access_policy.check(ctx, global_scope, "incident", "delete").allowed
    # The app's own package_private tables are open to the app itself.
    assert access_policy.check(ctx, _scope(ctx), "x_mioms_m365ticket_checklist", "delete").allowed
    other = Scope(sys_id="other", scope="x_other_app", name="Other", runtime_access_tracking="none")
    assert access_policy.check(ctx, other, "x_mioms_m365ticket_checklist", "read").message == (
        "Read operation against 'x_mioms_m365ticket_checklist' from scope 'x_other_app' has been "
        "refused due to the table's cross-scope access policy")


def _privileges(ctx: Context, table: str) -> list[tuple[str, str]]:
    return sorted((str(r["operation"]), str(r["status"])) for r in rows.find_by(
        ctx.db, ctx.dictionary, "sys_scope_privilege", target_name=table))


def test_enforcing_requests_a_missing_privilege_and_refuses(ctx: Context) -> None:
    scope = _scope(ctx, "enforcing")
    decision = access_policy.check(ctx, scope, "problem", "read")
    assert decision.kind == "privilege" and not decision.allowed
    assert decision.message == (
        f"Security restricted: Read operation on table 'problem' from scope '{APP_NAME}' was "
        f"denied. The application '{APP_NAME}' must declare a cross scope access privilege. "
        "Please contact the application author to update their privilege requests.")
    assert _privileges(ctx, "problem") == [("read", "requested")]
    again = access_policy.check(ctx, scope, "problem", "read")
    assert again.message.endswith(
        "Please contact the application admin to update their access requests.")
    assert _privileges(ctx, "problem") == [("read", "requested")]  # not recorded twice
    row = rows.find_by(ctx.db, ctx.dictionary, "sys_scope_privilege", target_name="problem")[0]
    rows.update(ctx.db, ctx.dictionary, "sys_scope_privilege", row["sys_id"],
                {"status": "allowed"})
    assert access_policy.check(ctx, scope, "problem", "read").allowed


def test_tracking_records_allowed_privileges(ctx: Context) -> None:
    scope = _scope(ctx, "permissive")
    assert access_policy.check(ctx, scope, "problem", "write").allowed
    assert _privileges(ctx, "problem") == [("write", "allowed")]


def test_a_denied_privilege_refuses_while_tracking(ctx: Context) -> None:
    scope = _scope(ctx, "permissive")
    access_policy.record_privilege(ctx, scope, "problem", "read", "denied")
    assert access_policy.check(ctx, scope, "problem", "read").kind == "privilege"


def test_no_tracking_checks_no_privilege(ctx: Context) -> None:
    scope = _scope(ctx, "none")
    assert access_policy.check(ctx, scope, "problem", "read").allowed
    assert _privileges(ctx, "problem") == []


def test_unknown_tables_and_operations(ctx: Context) -> None:
    with pytest.raises(InvalidTable):
        access_policy.check(ctx, _scope(ctx), "no_such_table", "read")
    with pytest.raises(ValueError):
        access_policy.check(ctx, _scope(ctx), "incident", "execute")
