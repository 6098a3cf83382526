"""What the admin pages show: Application Registry, Users, a table's application access.

The Microsoft troubleshooting page (ms-docs-servicenow-tickets.fr.md, "Procédure de
validation") has the admin validate the OAuth entity under System OAuth > Application
Registry and the integration user under User Administration > Users, and fix the scope
denial on the ``oauth_entity`` table's application access form. These are platform pages
(the admin's global session, not the app's scope), so they are not subject to the
cross-scope check (servicenow-behaviour §5). Secrets are never part of what they return.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mock_servicenow.dictionary.values import to_wire
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.scopes.access_policy import table_policy
from mock_servicenow.domain.scopes.scoped import take_write_lock
from mock_servicenow.errors import InvalidRequest, NotAuthorized, RecordNotFound
from mock_servicenow.store import rows

#: Page size of the list pages (enough for the demo; the search narrows it).
LIST_LIMIT = 200

#: ``sys_db_object`` application-access fields shown and edited on the form (§5).
ACCESS_FLAGS = ("read_access", "create_access", "update_access", "delete_access", "ws_access")
ACCESS_CHOICES = ("public", "package_private")
CALLER_ACCESS_CHOICES = ("", "1", "2")

_SECRET_TYPES = {"password", "password2"}


@dataclass(frozen=True)
class Record:
    """A record for display: its sys_id and ``(label, wire value)`` pairs, secrets masked."""

    sys_id: str
    table: str
    values: dict[str, str]
    labels: dict[str, str]


def _record(ctx: Context, table: str, row: Mapping[str, Any]) -> Record:
    values: dict[str, str] = {}
    labels: dict[str, str] = {}
    for name, fld in ctx.dictionary.fields(table).items():
        if not fld.is_stored:
            continue
        labels[name] = fld.label
        if fld.type in _SECRET_TYPES:
            # Never sent to the browser; the form shows a masked field as the platform does.
            values[name] = "********" if row.get(name) else ""
        else:
            values[name] = to_wire(fld, row.get(name))
    return Record(str(row["sys_id"]), table, values, labels)


def _require_admin(ctx: Context) -> None:
    if not ctx.user.is_admin:
        raise NotAuthorized("This page requires the admin role")


def search(ctx: Context, table: str, text: str, fields: tuple[str, ...]) -> list[Record]:
    """Records of ``table`` whose ``fields`` contain ``text`` (case-insensitive), by name."""
    _require_admin(ctx)
    needle = text.strip().lower()
    found = rows.find_by(ctx.db, ctx.dictionary, table)
    matches = [r for r in found
               if not needle or any(needle in str(r.get(f) or "").lower() for f in fields)]
    matches.sort(key=lambda r: str(r.get(fields[0]) or "").lower())
    return [_record(ctx, table, r) for r in matches[:LIST_LIMIT]]


def get(ctx: Context, table: str, sys_id: str) -> Record:
    """One record for a form page; 404 when missing."""
    _require_admin(ctx)
    row = rows.get(ctx.db, ctx.dictionary, table, sys_id)
    if row is None:
        raise RecordNotFound()
    return _record(ctx, table, row)


def application_access(ctx: Context, *, sys_id: str = "", name: str = "") -> Record:
    """The ``sys_db_object`` record of a table (by sys_id or by name) for its access form."""
    _require_admin(ctx)
    if name:
        try:
            row = table_policy(ctx, name)
        except InvalidRequest:
            raise RecordNotFound() from None
        return _record(ctx, "sys_db_object", row)
    return get(ctx, "sys_db_object", sys_id)


def update_application_access(ctx: Context, sys_id: str, form: Mapping[str, str]) -> Record:
    """Save the application access form (servicenow-behaviour §5 fields); admin only.

    Checkboxes absent from ``form`` are unchecked, as an HTML form submits them.
    """
    _require_admin(ctx)
    access = form.get("access", "public")
    caller = form.get("caller_access", "")
    if access not in ACCESS_CHOICES or caller not in CALLER_ACCESS_CHOICES:
        raise InvalidRequest("Invalid application access value", message="Invalid request")
    with ctx.db.atomic():
        take_write_lock(ctx, "sys_db_object")
        row = rows.get(ctx.db, ctx.dictionary, "sys_db_object", sys_id)
        if row is None:
            raise RecordNotFound()
        changes: dict[str, Any] = {flag: 1 if form.get(flag) in ("true", "on", "1") else 0
                                   for flag in ACCESS_FLAGS}
        changes.update(access=access, caller_access=caller or None,
                       sys_updated_on=ctx.now_glide(), sys_updated_by=ctx.user.user_name,
                       sys_mod_count=int(row.get("sys_mod_count") or 0) + 1)
        rows.update(ctx.db, ctx.dictionary, "sys_db_object", sys_id, changes)
    return get(ctx, "sys_db_object", sys_id)
