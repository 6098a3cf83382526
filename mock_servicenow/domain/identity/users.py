"""Users, roles and password authentication (servicenow-behaviour §6).

Inactive and locked-out users cannot authenticate anywhere; a "web service access only" user
may use Basic auth and the password grant but not interactive logins (§6). Every failure is
the same :class:`NotAuthenticated` so that a caller learns nothing about which part was wrong,
as on the platform.
"""

from __future__ import annotations

from typing import Any

from mock_servicenow.domain.platform.context import Context, Principal
from mock_servicenow.errors import NotAuthenticated
from mock_servicenow.store import identity_tables


class InteractiveLoginRefused(NotAuthenticated):
    """A web-service-only user tried an interactive (browser) login (servicenow-behaviour §6)."""


def find_user(ctx: Context, user_name: str) -> dict[str, Any] | None:
    """The ``sys_user`` row with this ``user_name``, or ``None``."""
    return identity_tables.user_by_name(ctx.db, ctx.dictionary, user_name)


def get_user(ctx: Context, sys_id: str) -> dict[str, Any] | None:
    """The ``sys_user`` row with this sys_id, or ``None``."""
    return identity_tables.user_by_sys_id(ctx.db, ctx.dictionary, sys_id)


def role_names(ctx: Context, user_sys_id: str) -> frozenset[str]:
    """Names of the active roles granted to a user (``sys_user_has_role``)."""
    return identity_tables.role_names(ctx.db, user_sys_id)


def principal_for(ctx: Context, row: dict[str, Any], *, via: str) -> Principal:
    """The :class:`Principal` of a ``sys_user`` row."""
    return Principal(
        sys_id=str(row["sys_id"]),
        user_name=str(row["user_name"]),
        name=str(row.get("name") or row["user_name"]),
        roles=role_names(ctx, str(row["sys_id"])),
        via=via,
        row=row,
    )


def can_authenticate(row: dict[str, Any]) -> bool:
    """Active and not locked out (servicenow-behaviour §4.1, §6)."""
    return bool(row.get("active")) and not bool(row.get("locked_out"))


def authenticate_password(ctx: Context, user_name: str, password: str, *, via: str,
                          interactive: bool = False) -> Principal:
    """Check a user name and password; raise :class:`NotAuthenticated` on any failure.

    :param interactive: a browser login (login page, authorize page), refused to
        web-service-only users with :class:`InteractiveLoginRefused`.
    """
    row = find_user(ctx, user_name)
    if row is None or not can_authenticate(row):
        raise NotAuthenticated()
    if not ctx.platform.verifier.verify(row.get("user_password"), password):
        raise NotAuthenticated()
    if interactive and row.get("web_service_access_only"):
        raise InteractiveLoginRefused()
    return principal_for(ctx, row, via=via)
