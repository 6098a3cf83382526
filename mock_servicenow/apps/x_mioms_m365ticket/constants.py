"""Names shared by the app's installer, checklist, connection and web layer.

Fixed with the other parts of the project (the connector and the identity server rely on
them); the reasoning behind each is in docs/m365ticket-app.md.
"""

from __future__ import annotations

__all__ = [
    "APP_NAME", "APP_ROLE", "APP_VERSION", "CHECKLIST_TABLE", "CONNECTION_TABLE",
    "CORRELATION_DISPLAY", "INTEGRATION_ROLES", "INTEGRATION_USER", "INTEGRATION_USER_FULL_NAME",
    "MIN_RELEASE", "OAUTH_ENTITY_NAME", "PACKAGE_PRIVILEGES", "PRIVILEGES", "REDIRECT_URL",
    "SCOPE", "SCOPE_SYS_ID",
]

#: The application scope (m365-ticketing.md §3.1, from the verbatim error text).
SCOPE = "x_mioms_m365ticket"
#: The app's ``sys_scope`` sys_id (md5 of ``sys_scope/x_mioms_m365ticket``, like other seeded
#: records; fixed so ``sys_db_object.sys_scope`` of the app tables (``tables.json``) can name it).
SCOPE_SYS_ID = "10fffb71a7f8d7d771178fe51c24160d"

#: The app's display name (``sys_scope.name``; m365-ticketing.md §3.4 "Status" row).
APP_NAME = "Microsoft 365 Ticketing Connector"
APP_VERSION = "1.0.0"
#: Oldest supported release family (m365-ticketing.md §3.2: "Kingston or later").
MIN_RELEASE = "kingston"
#: The app's user role, by analogy with ``x_mioms_microsoft.user`` (m365-ticketing.md §3.5).
APP_ROLE = f"{SCOPE}.user"

#: The OAuth application registry entry the checklist creates (the consent prompt's name,
#: m365-ticketing.md §3.1 "Security + Compliance Connector").
OAUTH_ENTITY_NAME = "Microsoft 365 Security + Compliance Connector"
#: Microsoft's provisioning page, then the connector CLI's loopback redirect.
REDIRECT_URL = "https://security.microsoft.com/ticketProvisioning,http://127.0.0.1:8765/callback"

#: The integration user (m365-ticketing.md §3.4: it logs in and clicks Allow, so it is an
#: interactive user, not web-service-only).
INTEGRATION_USER = "m365_integration"
INTEGRATION_USER_FULL_NAME = "Microsoft 365 Integration"
#: Its roles, by analogy with the sibling app's checklist (m365-ticketing.md §3.5).
INTEGRATION_ROLES = ("itil", APP_ROLE, "personalize_choices", "import_transformer",
                     "template_editor", "view_changer")

#: Cross-scope privileges the app needs on the ticket tables (its scripts read and write
#: tickets; it never deletes them).
PRIVILEGES: tuple[tuple[str, str], ...] = tuple(
    (table, operation)
    for table in ("incident", "change_request")
    for operation in ("read", "create", "write")
)

#: Privileges the app package declares on the platform tables its checklist uses; a store app
#: ships these records and installing it allows them (servicenow-behaviour §5).
PACKAGE_PRIVILEGES: tuple[tuple[str, str], ...] = (
    ("oauth_entity", "read"), ("oauth_entity", "create"),
    ("sys_user", "read"), ("sys_user", "create"), ("sys_user", "write"),
    ("sys_user_role", "read"),
    ("sys_user_has_role", "read"), ("sys_user_has_role", "create"),
)

#: ``correlation_display`` of tickets the integration creates (m365-ticketing.md §3.4
#: "Microsoft 365 Security and Configuration Change Request").
CORRELATION_DISPLAY = "Microsoft 365 Security and Configuration"

CHECKLIST_TABLE = f"{SCOPE}_checklist"
CONNECTION_TABLE = f"{SCOPE}_connection"
