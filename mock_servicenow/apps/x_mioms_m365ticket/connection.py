"""The provisioning handshake: the Microsoft side registers its connection with the app.

m365-ticketing.md §3.4-3.5: after the OAuth consent, the security center's provisioning page
("Authorize") completes the connection, and the connection status is visible "inside the
ServiceNow Microsoft 365 Ticketing Connector app". The exchange itself is not public: this is
our design (docs/m365ticket-app.md). The connector calls ``POST .../connection`` with its
token (the integration user), status shows who connected and when, ``DELETE`` disconnects.

Runs as the app's scoped script: the OAuth entity lookup passes the cross-scope check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mock_servicenow.apps.x_mioms_m365ticket import checklist
from mock_servicenow.apps.x_mioms_m365ticket.constants import CONNECTION_TABLE, SCOPE
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.scopes.scoped import ScopedContext, take_write_lock
from mock_servicenow.errors import InvalidRequest, ServiceNowError


class NotReady(ServiceNowError):
    """409 ``sn_ws_err.ConflictError`` (servicenow-behaviour §3): the checklist is not complete."""

    status = 409
    message = "Conflict"


@dataclass(frozen=True)
class Connection:
    """The app's connection record as the scripted API shows it."""

    status: str
    connected_by: str
    connected_at: str
    tenant_id: str
    client_id: str

    def as_dict(self) -> dict[str, Any]:
        """The scripted REST shape (fixed with the connector)."""
        return {"status": self.status, "connected_by": self.connected_by,
                "connected_at": self.connected_at, "tenant_id": self.tenant_id,
                "client_id": self.client_id}


NOT_CONNECTED = Connection("not_connected", "", "", "", "")


def _record(scoped: ScopedContext) -> dict[str, Any] | None:
    found = scoped.query(CONNECTION_TABLE)
    return found[0] if found else None


def _as_connection(row: dict[str, Any] | None) -> Connection:
    if row is None or row.get("status") != "connected":
        return NOT_CONNECTED
    return Connection("connected", str(row.get("connected_by") or ""),
                      str(row.get("connected_at") or ""), str(row.get("tenant_id") or ""),
                      str(row.get("client_id") or ""))


def get_connection(ctx: Context) -> Connection:
    """Who connected and when (``GET /api/x_mioms_m365ticket/v1/connection``)."""
    return _as_connection(_record(ScopedContext(ctx, SCOPE)))


def _text(body: dict[str, Any], name: str, limit: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"'{name}' is required and must be a non-empty string",
                             message="Bad Request")
    if len(value) > limit:
        raise InvalidRequest(f"'{name}' is longer than {limit} characters",
                             message="Bad Request")
    return value.strip()


def connect(ctx: Context, body: dict[str, Any]) -> Connection:
    """Register the Microsoft side's connection, made by ``ctx.user`` (the token's user).

    400 (``sn_ws_err.BadRequestError``) for a missing field or a client_id that is not an
    active OAuth application registry entry; 409 when the checklist is not complete.
    """
    tenant_id = _text(body, "tenant_id", 100)
    client_id = _text(body, "client_id", 255)
    if not checklist.get_checklist(ctx).complete:
        raise NotReady("The Microsoft 365 Ticketing Connector installation checklist is not "
                       "complete")
    with ctx.db.atomic():
        take_write_lock(ctx, f"{SCOPE}.connection")
        scoped = ScopedContext(ctx, SCOPE)
        entities = scoped.query("oauth_entity", client_id=client_id)
        if not entities or not entities[0].get("active"):
            # A cross-scope refusal reads as no rows; say why when that is the reason.
            raise InvalidRequest(scoped.last_error_message
                                 or "client_id is not an active OAuth application registry "
                                    "entry of this instance", message="Bad Request")
        values = {"name": "Microsoft 365 security center", "status": "connected",
                  "connected_by": ctx.user.user_name, "connected_at": ctx.now_glide(),
                  "tenant_id": tenant_id, "client_id": client_id}
        row = _record(scoped)
        if row is None:
            scoped.insert(CONNECTION_TABLE, values)
        else:
            scoped.update(CONNECTION_TABLE, str(row["sys_id"]), values)
        scoped.log(f"Connected to Microsoft 365 tenant {tenant_id} by {ctx.user.user_name}")
    return get_connection(ctx)


def disconnect(ctx: Context) -> None:
    """Remove the connection (``DELETE .../connection``); idempotent."""
    with ctx.db.atomic():
        take_write_lock(ctx, f"{SCOPE}.connection")
        scoped = ScopedContext(ctx, SCOPE)
        row = _record(scoped)
        if row is not None and row.get("status") == "connected":
            scoped.update(CONNECTION_TABLE, str(row["sys_id"]), {
                "status": "not_connected", "connected_by": "", "connected_at": "",
                "tenant_id": "", "client_id": ""})
            scoped.log(f"Disconnected from Microsoft 365 by {ctx.user.user_name}")
