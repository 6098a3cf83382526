"""The scoped execution context: GlideRecord-like, denials are no rows plus a syslog message."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from mock_servicenow.domain.platform.context import Context, Principal
from mock_servicenow.domain.scopes.scoped import ScopedContext, ScopeNotInstalled
from mock_servicenow.store import rows

DENIAL = ("{op} operation against 'incident' from scope 'x_mioms_m365ticket' has been refused "
          "due to the table's cross-scope access policy")


@pytest.fixture
def ctx(snow_app: Flask) -> Iterator[Context]:
    instance = snow_app.extensions["mock_servicenow"].instance
    db = instance.connect()
    context = instance.context(db)
    context.user = Principal(sys_id="x", user_name="script.runner", name="Runner",
                             roles=frozenset({"admin"}))
    yield context
    db.close()


def _close_incident_table(ctx: Context) -> None:
    row = rows.find_by(ctx.db, ctx.dictionary, "sys_db_object", name="incident")[0]
    rows.update(ctx.db, ctx.dictionary, "sys_db_object", row["sys_id"],
                {"access": "package_private"})


def _syslog(ctx: Context, message: str) -> list[dict[str, object]]:
    return rows.find_by(ctx.db, ctx.dictionary, "syslog", message=message)


def test_allowed_operations_work_and_stamp(ctx: Context) -> None:
    scoped = ScopedContext(ctx, "x_mioms_m365ticket")
    found = scoped.query("incident", number="INC0000001")
    assert len(found) == 1
    sys_id = scoped.insert("incident", {"short_description": "from the app", "impact": "2",
                                        "x_mioms_m365ticket_recommendation_source": "user"})
    assert sys_id is not None
    row = scoped.get("incident", sys_id)
    assert row is not None and row["sys_created_by"] == "script.runner" and row["impact"] == 2
    assert row["sys_class_name"] == "incident" and row["state"] == 1  # defaults filled
    assert scoped.update("incident", sys_id, {"short_description": "changed"})
    row = scoped.get("incident", sys_id)
    assert row is not None and row["sys_mod_count"] == 1 and row["short_description"] == "changed"
    assert scoped.errors == [] and scoped.last_error_message == ""


def test_denials_raise_nothing_return_nothing_and_log(ctx: Context) -> None:
    scoped = ScopedContext(ctx, "x_mioms_m365ticket")
    existing = str(scoped.query("incident", number="INC0000001")[0]["sys_id"])
    before = rows.count(ctx.db, ctx.dictionary, "incident")
    _close_incident_table(ctx)

    assert scoped.query("incident", number="INC0000001") == []
    assert scoped.last_error_message == DENIAL.format(op="Read")
    assert scoped.get("incident", existing) is None
    assert scoped.insert("incident", {"short_description": "x"}) is None
    assert scoped.last_error_message == DENIAL.format(op="Create")
    assert scoped.update("incident", existing, {"short_description": "x"}) is False
    assert scoped.last_error_message == DENIAL.format(op="Write")
    assert scoped.delete("incident", existing) is False
    assert scoped.last_error_message == DENIAL.format(op="Delete")

    assert rows.count(ctx.db, ctx.dictionary, "incident") == before
    assert rows.get(ctx.db, ctx.dictionary, "incident", existing)["short_description"] != "x"
    for op in ("Read", "Create", "Write", "Delete"):
        logged = _syslog(ctx, DENIAL.format(op=op))
        assert logged and logged[0]["level"] == "2"
        assert logged[0]["source"] == "x_mioms_m365ticket"
        assert logged[0]["sys_scope"] == ScopedContext(ctx, "x_mioms_m365ticket").scope.sys_id
    assert len(scoped.errors) == 5


def test_policy_changes_apply_at_call_time(ctx: Context) -> None:
    scoped = ScopedContext(ctx, "x_mioms_m365ticket")
    _close_incident_table(ctx)
    assert scoped.query("incident", number="INC0000001") == []
    row = rows.find_by(ctx.db, ctx.dictionary, "sys_db_object", name="incident")[0]
    rows.update(ctx.db, ctx.dictionary, "sys_db_object", row["sys_id"], {"access": "public"})
    assert len(scoped.query("incident", number="INC0000001")) == 1


def test_missing_records(ctx: Context) -> None:
    scoped = ScopedContext(ctx, "x_mioms_m365ticket")
    assert scoped.get("incident", "0" * 32) is None
    assert scoped.update("incident", "0" * 32, {"short_description": "x"}) is False
    assert scoped.errors == []


def test_unknown_scope(ctx: Context) -> None:
    with pytest.raises(ScopeNotInstalled):
        ScopedContext(ctx, "x_not_installed")
