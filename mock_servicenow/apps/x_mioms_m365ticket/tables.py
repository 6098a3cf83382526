"""The app's tables and the fields it adds to ``task`` (our design: m365-ticketing.md §3.6).

Nothing of the real app's schema is public (m365-ticketing.md §3.6), so this follows how a
ServiceNow developer builds a scoped app:

* fields a scoped app adds to a global table are named ``<scope>_<name>``
  (``x_mioms_m365ticket_control_id``), which is how the platform prefixes them
  (servicenow-behaviour §5, namespace identifier);
* the app's own tables are named ``<scope>_<name>`` and belong to the app's scope, accessible
  from this application scope only (``package_private``): nothing outside the app needs them.

This module is data only (the dictionary layer): no storage, no domain imports.
"""

from __future__ import annotations

from mock_servicenow.dictionary.model import Field, FieldExtension, Table, choices

F = Field

#: The application scope (m365-ticketing.md §3.1, from the verbatim error text).
SCOPE = "x_mioms_m365ticket"
#: The app's ``sys_scope`` sys_id (md5 of ``sys_scope/x_mioms_m365ticket``, like other seeded
#: records; fixed so ``sys_db_object.sys_scope`` of the app tables can name it).
SCOPE_SYS_ID = "10fffb71a7f8d7d771178fe51c24160d"

#: Recommendation source choices (m365-ticketing.md §3.3 item 6).
RECOMMENDATION_SOURCES = choices(
    ("microsoft", "Microsoft recommendation"), ("user", "User recommendation"),
)
#: Recommendation category choices (m365-ticketing.md §3.3 item 7).
RECOMMENDATION_CATEGORIES = choices(
    ("devices", "Devices"), ("data", "Data"), ("apps", "Apps"), ("identity", "Identity"),
    ("infrastructure", "Infrastructure"),
)

#: The app's fields on ``task`` (so ``incident`` and ``change_request`` both have them).
TASK_FIELDS = FieldExtension(
    "task",
    (
        F(f"{SCOPE}_initiated_by", "string", "Initiated by (Microsoft 365)", max_length=100),
        F(f"{SCOPE}_recommendation_source", "choice", "Recommendation source",
          choices=RECOMMENDATION_SOURCES, max_length=40),
        F(f"{SCOPE}_recommendation_category", "choice", "Recommendation category",
          choices=RECOMMENDATION_CATEGORIES, max_length=40),
        F(f"{SCOPE}_control_id", "string", "Secure Score control ID", max_length=100,
          indexed=True),
    ),
)

#: Step states of the installation checklist.
STEP_STATES = choices(
    ("not_started", "Not started"), ("complete", "Complete"), ("failed", "Failed"),
)

CHECKLIST = Table(
    f"{SCOPE}_checklist",
    "Installation Checklist Step",
    scope=SCOPE_SYS_ID,
    access="package_private",
    fields=(
        F("step", "string", "Step", indexed=True, unique=True, max_length=40),
        F("order", "integer", "Order"),
        F("title", "string", "Title", display=True, max_length=100),
        F("state", "choice", "State", choices=STEP_STATES, default="not_started"),
        F("message", "string", "Message", max_length=4000),
        F("last_run", "glide_date_time", "Last run"),
        F("last_run_by", "string", "Last run by", max_length=40),
    ),
)

CONNECTION = Table(
    f"{SCOPE}_connection",
    "Microsoft 365 Connection",
    scope=SCOPE_SYS_ID,
    access="package_private",
    fields=(
        F("name", "string", "Name", display=True, max_length=100),
        F("status", "choice", "Status", choices=choices(
            ("connected", "Connected"), ("not_connected", "Not connected"),
        ), default="not_connected"),
        F("connected_by", "string", "Connected by", max_length=40),
        F("connected_at", "glide_date_time", "Connected at"),
        F("tenant_id", "string", "Tenant ID", max_length=100),
        F("client_id", "string", "Client ID", max_length=255),
    ),
)

TABLES: tuple[Table, ...] = (CHECKLIST, CONNECTION)
EXTENSIONS: tuple[FieldExtension, ...] = (TASK_FIELDS,)
