"""The seed: what a fresh personal developer instance holds where clients rely on it.

The platform's own records (the global scope, ``admin`` with its out-of-box sys_id
``6816f79cc0a8016401c5a33be04be441``, servicenow-behaviour §1.4; the base roles; the
dictionary records; system properties) come from here; the demo data (users, groups, CIs,
catalogs, tasks, logs...) from the data files read by ``demo.py``.

``empty`` seeds only what the platform cannot run without: the global scope, ``admin``, the
base roles, ``sys_db_object`` rows, number counters and system properties.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from mock_servicenow.dictionary import Dictionary
from mock_servicenow.dictionary.records import stable_sys_id
from mock_servicenow.dictionary.values import script_default, to_storage
from mock_servicenow.domain.identity.passwords import hash_password
from mock_servicenow.domain.platform.clock import format_glide
from mock_servicenow.domain.platform.context import ADMIN_SYS_ID, Context
from mock_servicenow.domain.platform.demo import seed_demo
from mock_servicenow.domain.platform.schema import seed_dictionary, stamp_out_of_box
from mock_servicenow.store import rows

#: An app installer: called with the context after the platform seed (see ``apps/``).
Installer = Callable[[Context], None]

#: When the demo data "happened": fixed, so the seed (and its cached template) is stable.
DEMO_EPOCH = datetime(2026, 9, 1, 8, 0, 0, tzinfo=UTC)

ROLE_IDS = {
    # Out-of-box sys_ids of the two roles every integration touches.
    "admin": "2831a114c611228501d4ea6c309d626d",
    "itil": "282bf1fac6112285017366cb5f867469",
}

#: Roles of a fresh instance that integrations and the reference mention (§6).
BASE_ROLES = (
    ("admin", "System administrator: passes every role check", True),
    ("itil", "Incident, problem and change fulfiller", False),
    ("itil_admin", "Administrator of the ITIL applications", False),
    ("security_admin", "Elevated privilege: security configuration", True),
    ("oauth_admin", "Creates and manages OAuth application registries", False),
    ("user_admin", "Manages users and groups", False),
    ("rest_api_explorer", "Uses the REST API Explorer", False),
    ("snc_platform_rest_api_access", "Calls the Table, Aggregate, Import Set and Attachment APIs "
     "when their REST ACLs are active", False),
    ("web_service_admin", "Authors scripted REST services", False),
    ("import_admin", "Manages import sets (contains the loader, transformer and scheduler)",
     False),
    ("import_set_loader", "Loads import sets", False),
    ("import_transformer", "Manages transform maps and runs import transforms", False),
    ("import_scheduler", "Schedules imports", False),
    ("rate_limit_admin", "Manages inbound REST rate limits", False),
    ("query_no_domain_table_api", "May use sysparm_query_no_domain", False),
    ("personalize_choices", "Personalizes choice lists", False),
    ("template_editor", "Edits templates", False),
    ("view_changer", "Changes form and list views", False),
    ("snc_internal", "Internal user", False),
    ("snc_external", "External user", False),
    ("change_manager", "Manages change requests", False),
    # The Change Management API's read role, and the write role of change tasks (its docs and
    # "Create a change task", docs/platform-apis.md).
    ("sn_change_read", "Reads change requests through the Change Management API", False),
    ("sn_change_write", "Writes change requests and change tasks", False),
    ("problem_manager", "Manages problems", False),
)

def storage_row(dictionary: Dictionary, table: str, values: Mapping[str, Any], *,
                stamp: str, user_name: str) -> dict[str, Any]:
    """A complete stored row: wire ``values`` converted, defaults filled, sys_* stamped.

    Defaults are the dictionary's (servicenow-behaviour §7.1 lists the incident ones).
    """
    fields = dictionary.fields(table)
    row: dict[str, Any] = {}
    for name, fld in fields.items():
        if not fld.is_stored:
            continue
        if name in values:
            row[name] = to_storage(fld, values[name])
        elif fld.default is not None and script_default(fld.default) is None:
            row[name] = to_storage(fld, fld.default)
    row.setdefault("sys_created_on", stamp)
    row.setdefault("sys_updated_on", stamp)
    row.setdefault("sys_created_by", user_name)
    row.setdefault("sys_updated_by", user_name)
    row["sys_mod_count"] = row.get("sys_mod_count") or 0
    if dictionary.is_extended(table):
        row["sys_class_name"] = table
    return row


class Seeder:
    """Writes seed rows through the store, with stamps at a fixed instant."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def add(self, table: str, values: Mapping[str, Any], *, sys_id: str | None = None,
            at: datetime = DEMO_EPOCH, by: str = "admin") -> str:
        """Insert one record (wire values); returns its sys_id."""
        row = storage_row(self.ctx.dictionary, table, values, stamp=format_glide(at),
                          user_name=by)
        row["sys_id"] = sys_id or row.get("sys_id") or self.ctx.platform.ids.sys_id()
        rows.insert(self.ctx.db, self.ctx.dictionary, table, row)
        return str(row["sys_id"])


def seed_instance(ctx: Context, *, kind: str, admin_password: str,
                  installers: Iterable[Installer] = ()) -> None:
    """Fill a migrated, empty database: platform records, demo data (``kind="demo"``), apps."""
    # The out-of-box dictionary, whatever the version triggers draw while the seed writes.
    ctx.use_dictionary(ctx.platform.dictionary)
    seeder = Seeder(ctx)
    _seed_platform(seeder, admin_password)
    if kind == "demo":
        seed_demo(ctx, format_glide(DEMO_EPOCH))
    for install in installers:
        install(ctx)
    # The records describe the out-of-box dictionary: the version says so, whatever the
    # triggers drew while they were written.
    stamp_out_of_box(ctx.db, ctx.platform.schema)


def _seed_platform(seeder: Seeder, admin_password: str) -> None:
    ctx = seeder.ctx
    seeder.add("sys_scope", {"name": "Global", "scope": "global", "version": "",
                             "vendor": "ServiceNow", "short_description": "Global scope"},
               sys_id="global")
    for name, description, elevated in BASE_ROLES:
        seeder.add("sys_user_role", {"name": name, "description": description,
                                     "elevated_privilege": elevated},
                   sys_id=ROLE_IDS.get(name) or stable_sys_id("sys_user_role", name))
    iterations = ctx.platform.password_hash_iterations
    seeder.add("sys_user", {
        "user_name": "admin", "first_name": "System", "last_name": "Administrator",
        "name": "System Administrator", "email": "admin@example.com",
        "title": "System Administrator",
        "user_password": hash_password(admin_password, iterations=iterations), "roles": "admin",
    }, sys_id=ADMIN_SYS_ID)
    grant_role(seeder, ADMIN_SYS_ID, "admin")
    seed_dictionary(ctx.db, ctx.platform.schema, format_glide(DEMO_EPOCH))
    stamp_out_of_box(ctx.db, ctx.platform.schema)  # contexts made from here on read it
    release = ctx.platform.release
    properties = (
        ("glide.war", release.glide_war, "string", "The running build (servicenow-behaviour §8)"),
        ("instance_name", ctx.platform.name, "string", "Instance name"),
        ("glide.servlet.uri", f"https://{ctx.platform.name}.service-now.com/", "string",
         "Instance URL"),
        ("glide.appcreator.company.code", "1234567", "string", "Company code for scoped apps"),
        ("com.snc.platform.security.oauth.is.active", "true", "boolean", "OAuth enabled"),
        ("glide.oauth.state.parameter.required", "true", "boolean",
         "OAuth authorize requires a state parameter (servicenow-behaviour §4.2)"),
        ("glide.authenticate.multisso.enabled", "false", "boolean", "Multi-provider SSO"),
        ("glide.invalid_query.returns_no_rows", "false", "boolean",
         "Invalid queries return no rows instead of ignoring invalid terms (§1.2)"),
        ("glide.rest.cors.enabled", "true", "boolean", "CORS for REST"),
    )
    for name, value, kind, description in properties:
        seeder.add("sys_properties", {"name": name, "value": value, "type": kind,
                                      "description": description},
                   sys_id=stable_sys_id("sys_properties", name))
    _seed_inbound_auth(seeder)


#: Out-of-box inbound authentication records (issue 18): the API key auth parameters
#: (configure-api-key: "x-sn-apikey: Auth Header", "x-sn-apikey: Query Parameter"; the header
#: one is named "Header for API Key" by public setup scripts), the standard profiles
#: (create-an-authentication-profile: Basic Auth, the default "ID Token" and "OAuth Token"
#: profiles; the basic one as public setup scripts find it, trailing space included) and the
#: inactive "Table GET API Access Policy" those scripts activate.
TOKEN_AUTH_PARAMETERS = (
    ("Header for API Key", "auth_header"),
    ("Query Parameter for API Key", "query_param"),
)
STANDARD_AUTH_PROFILES = (
    ("BasicAuth for none public processors ", "basic_auth"),
    ("OAuth Token", "oauth"),
    ("ID Token", "id_token"),
    ("Certificate based Auth", "mutual_auth"),
)
ACCESS_POLICIES = (
    {"name": "Table GET API Access Policy", "active": "false", "api": "Table API",
     "api_path": "now/table", "http_method": "GET", "apply_all_versions": "true",
     "apply_all_resources": "true", "apply_all_tables": "false"},
)


def _seed_inbound_auth(seeder: Seeder) -> None:
    for name, kind in TOKEN_AUTH_PARAMETERS:
        seeder.add("sys_token_auth_parameter", {"name": name, "parameter_name": "x-sn-apikey",
                                                "type": kind},
                   sys_id=stable_sys_id("sys_token_auth_parameter", name))
    for name, kind in STANDARD_AUTH_PROFILES:
        seeder.add("std_http_auth", {"name": name, "type": kind, "active": "true"},
                   sys_id=stable_sys_id("std_http_auth", name))
    for policy in ACCESS_POLICIES:
        seeder.add("sys_api_access_policy", policy,
                   sys_id=stable_sys_id("sys_api_access_policy", policy["name"]))


def grant_role(seeder: Seeder, user_sys_id: str, role: str) -> None:
    """Give a user a role (a ``sys_user_has_role`` row)."""
    seeder.add("sys_user_has_role", {
        "user": user_sys_id,
        "role": ROLE_IDS.get(role) or stable_sys_id("sys_user_role", role),
        "state": "active",
    }, sys_id=stable_sys_id("sys_user_has_role", user_sys_id, role))
