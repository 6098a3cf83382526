"""How the catalog reads and writes records, and who may order for whom.

The Service Catalog API is a scripted REST API whose scripts call the platform's cart
(``sn_sc.CartJS``, ``sn_sc.CatItem``): Java code that reads and writes ``sc_*`` records as
GlideRecord, without the table ACLs, in the caller's name (``sys_created_by``, ``opened_by``).
Its own access check is the item's ``canView()`` (KB0717979, the ``order_now`` script). The
emulator does the same: :func:`as_platform` is the caller with the platform's rights.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from mock_servicenow.domain.platform.context import Context, Principal
from mock_servicenow.domain.table import records
from mock_servicenow.domain.table.display import ReadOptions

#: Plain wire values: references as sys_id strings, no links.
PLAIN = ReadOptions(exclude_reference_link=True)
SYS_ID = re.compile(r"^[0-9a-f]{32}$")

#: Catalog properties (Service Catalog properties,
#: https://github.com/ServiceNow/ServiceNowDocs/blob/australia/markdown/servicenow-platform/service-catalog/r_ServiceCatalogProperties.md).
TWO_STEP = "glide.sc.checkout.twostep"
REQ_FOR_ROLES = "glide.sc.req_for.roles"
REQ_FOR_DEFAULT = "glide.sc.req_for.roles.default"
#: Roles that may empty any user's cart (``DELETE cart/{cart_id}/empty``, Service Catalog API).
CART_ADMIN_ROLES = ("admin", "catalog_admin")


def as_platform(ctx: Context) -> Context:
    """``ctx`` acting with the platform's rights in the caller's name (GlideRecord, not
    GlideRecordSecure): records are stamped with the caller, ACLs do not apply."""
    user = ctx.user
    elevated = Principal(sys_id=user.sys_id, user_name=user.user_name, name=user.name,
                         roles=user.roles | {"admin"}, via="system", row=user.row)
    return dataclasses.replace(ctx, user=elevated)


def rows(ctx: Context, table: str, query: str = "", *,
         limit: int = records.DEFAULT_LIMIT) -> list[dict[str, Any]]:
    """Records of ``table`` matching an encoded query, plain wire values, no ACLs (``ctx``
    comes from :func:`as_platform`)."""
    page = records.list_records(ctx, table, records.ListQuery(query=query, limit=limit,
                                                             no_count=True), PLAIN)
    return page.records


def one(ctx: Context, table: str, sys_id: str) -> dict[str, Any] | None:
    """The record ``sys_id`` of ``table`` (plain values), ``None`` for a malformed or unknown
    sys_id; never builds a query from an unchecked value."""
    if not SYS_ID.match(sys_id):
        return None
    found = rows(ctx, table, f"sys_id={sys_id}", limit=1)
    return found[0] if found else None


def in_list(ids: list[str] | set[str] | tuple[str, ...]) -> str:
    """An ``IN`` operand of checked sys_ids (anything else is left out)."""
    return ",".join(sorted(i for i in ids if SYS_ID.match(i))) or "none"


def property_value(ctx: Context, name: str, default: str) -> str:
    """A system property, ``default`` when it is not defined (an ``--empty`` instance)."""
    found = rows(ctx, "sys_properties", f"name={name}", limit=1)
    if not found:
        return default
    return str(found[0].get("value") or "")


def two_step(ctx: Context) -> bool:
    """``glide.sc.checkout.twostep`` (default false, Service Catalog checkout models:
    https://github.com/ServiceNow/ServiceNowDocs/blob/australia/markdown/servicenow-platform/service-catalog/c_EnableATwoStepCheckout.md)."""
    return property_value(ctx, TWO_STEP, "false").strip().lower() == "true"


def may_request_for_others(ctx: Context, user: Principal) -> bool:
    """Whether ``user`` may order for someone else (Configure the default behavior to request
    items for other users,
    https://github.com/ServiceNow/ServiceNowDocs/blob/australia/markdown/servicenow-platform/service-catalog/config-default-behavior-request-other-user.md):
    admin always; else a role listed in ``glide.sc.req_for.roles``; with that list blank,
    anyone unless ``glide.sc.req_for.roles.default`` is ``deny`` (the value a new instance
    ships with; an undefined or other value means allow)."""
    if user.is_admin:
        return True
    listed = [r.strip() for r in property_value(ctx, REQ_FOR_ROLES, "").split(",") if r.strip()]
    if listed:
        return any(role in user.roles for role in listed)
    return property_value(ctx, REQ_FOR_DEFAULT, "").strip().lower() != "deny"
