"""Cross-scope access records (servicenow-behaviour §5)."""

from __future__ import annotations

from mock_servicenow.dictionary.model import Field, Table, choices

F = Field

SYS_SCOPE_PRIVILEGE = Table(
    "sys_scope_privilege",
    "Cross scope privilege",
    fields=(
        F("source_scope", "reference", "Source Scope", reference="sys_scope", indexed=True),
        F("target_scope", "reference", "Target Scope", reference="sys_scope"),
        F("target_name", "string", "Target Name", display=True, indexed=True, max_length=100),
        F("target_type", "choice", "Target Type", default="sys_db_object", choices=choices(
            ("sys_db_object", "Table"), ("sys_script_include", "Script Include"),
            ("scriptable", "Scriptable"),
        )),
        F("operation", "choice", "Operation", default="read", choices=choices(
            ("read", "Read"), ("write", "Write"), ("create", "Create"), ("delete", "Delete"),
            ("execute", "Execute API"),
        )),
        F("status", "choice", "Status", default="allowed", choices=choices(
            ("requested", "Requested"), ("allowed", "Allowed"), ("denied", "Denied"),
        )),
    ),
)

SYS_RATE_LIMIT_RULES = Table(
    "sys_rate_limit_rules",
    "Rate Limit Rule",
    fields=(
        F("name", "string", "Name", display=True, max_length=100),
        F("rest_resource", "string", "REST API", max_length=100, default="Table API"),
        F("user", "reference", "User", reference="sys_user"),
        F("role", "reference", "Role", reference="sys_user_role"),
        F("max_requests", "integer", "Requests per hour", default="100"),
        F("active", "boolean", "Active", default="true"),
        F("type", "choice", "Applies to", default="user", choices=choices(
            ("all", "All Users"), ("user", "Single User"), ("role", "Users with Role"),
        )),
    ),
)

SCOPING_TABLES = (SYS_SCOPE_PRIVILEGE, SYS_RATE_LIMIT_RULES)
