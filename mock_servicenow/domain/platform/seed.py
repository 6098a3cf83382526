"""The demo seed: what a fresh personal developer instance looks like where clients rely on it.

Well-known records keep their out-of-box sys_ids (``admin`` is
``6816f79cc0a8016401c5a33be04be441`` everywhere, servicenow-behaviour §1.4; ``abel.tuter``
``62826bf03710200044e0bfc8bcbe5df1`` and the ``Network`` group
``287ebd7da9fe198100f92cc8d1d2154e`` appear in ServiceNow's own documentation samples).
Other demo records get sys_ids derived from their names, so the seed is deterministic.

``empty`` seeds only what the platform cannot run without: the global scope, ``admin``, the
base roles, ``sys_db_object`` rows, number counters and system properties.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from mock_servicenow.dictionary import Dictionary
from mock_servicenow.dictionary.values import script_default, to_storage
from mock_servicenow.domain.identity.passwords import hash_password
from mock_servicenow.domain.platform.clock import format_glide
from mock_servicenow.domain.platform.context import ADMIN_SYS_ID, Context
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
    ("import_admin", "Manages import sets", False),
    ("import_transformer", "Runs import transforms", False),
    ("rate_limit_admin", "Manages inbound REST rate limits", False),
    ("query_no_domain_table_api", "May use sysparm_query_no_domain", False),
    ("personalize_choices", "Personalizes choice lists", False),
    ("template_editor", "Edits templates", False),
    ("view_changer", "Changes form and list views", False),
    ("snc_internal", "Internal user", False),
    ("snc_external", "External user", False),
    ("change_manager", "Manages change requests", False),
    ("problem_manager", "Manages problems", False),
)

COMPANIES = ("ACME North America", "ACME EMEA", "ServiceNow")
DEPARTMENTS = ("IT", "Finance", "Sales", "Human Resources", "Development", "Customer Support")
LOCATIONS = ("San Diego", "London", "Paris", "New York")

#: (sys_id or None, user_name, first, last, title, department, roles)
DEMO_USERS: tuple[tuple[str | None, str, str, str, str, str, tuple[str, ...]], ...] = (
    ("62826bf03710200044e0bfc8bcbe5df1", "abel.tuter", "Abel", "Tuter", "Sales Manager",
     "Sales", ()),
    (None, "beth.anglin", "Beth", "Anglin", "Service Desk Analyst", "IT", ("itil",)),
    (None, "david.loo", "David", "Loo", "Network Engineer", "IT", ("itil",)),
    (None, "don.goodliffe", "Don", "Goodliffe", "Change Manager", "IT", ("itil", "change_manager")),
    (None, "fred.luddy", "Fred", "Luddy", "Founder", "Development", ()),
    (None, "itil", "ITIL", "User", "ITIL fulfiller", "IT", ("itil",)),
    (None, "joe.employee", "Joe", "Employee", "Analyst", "Finance", ()),
    (None, "bow.ruggeri", "Bow", "Ruggeri", "Database Administrator", "IT", ("itil",)),
    (None, "charlie.whitherspoon", "Charlie", "Whitherspoon", "Accountant", "Finance", ()),
    (None, "bud.richman", "Bud", "Richman", "Problem Manager", "IT", ("itil", "problem_manager")),
    (None, "luke.wilson", "Luke", "Wilson", "Developer", "Development", ()),
    (None, "problem.coordinator", "Problem", "Coordinator", "Problem coordinator", "IT",
     ("itil",)),
)

#: (sys_id or None, name, description, members)
DEMO_GROUPS: tuple[tuple[str | None, str, str, tuple[str, ...]], ...] = (
    (None, "Service Desk", "First line support", ("beth.anglin", "itil")),
    ("287ebd7da9fe198100f92cc8d1d2154e", "Network", "Network operations", ("david.loo",)),
    (None, "Hardware", "Hardware support", ("beth.anglin",)),
    (None, "Software", "Application support", ("luke.wilson", "itil")),
    (None, "Database", "Database administration", ("bow.ruggeri",)),
    (None, "CAB Approval", "Change Advisory Board", ("don.goodliffe",)),
    (None, "Change Management", "Change coordinators", ("don.goodliffe",)),
    (None, "Problem Solving", "Problem management", ("bud.richman", "problem.coordinator")),
)

#: (short_description, category, impact, urgency, state, caller, group)
DEMO_INCIDENTS: tuple[tuple[str, str, int, int, int, str, str], ...] = (
    ("Can't read email", "software", 1, 1, 2, "abel.tuter", "Service Desk"),
    ("Network file shares access issue", "network", 2, 2, 2, "joe.employee", "Network"),
    ("Wireless access is down in my area", "network", 1, 2, 1, "charlie.whitherspoon", "Network"),
    ("Forgot email password", "inquiry", 3, 3, 7, "joe.employee", "Service Desk"),
    ("CPU load high for over 10 minutes", "hardware", 2, 1, 2, "fred.luddy", "Hardware"),
    ("Hang when trying to print VISIO document", "software", 3, 3, 6, "luke.wilson", "Software"),
    ("Need access to sales DB for the West", "database", 3, 2, 3, "abel.tuter", "Database"),
    ("Printer in my office is out of toner", "hardware", 3, 3, 1, "charlie.whitherspoon",
     "Hardware"),
    ("Reset my password", "inquiry", 3, 2, 7, "luke.wilson", "Service Desk"),
    ("Need Oracle 10GR2 installed", "database", 2, 3, 2, "bow.ruggeri", "Database"),
    ("Email server is down", "software", 1, 1, 2, "abel.tuter", "Software"),
    ("Request for a new service", "inquiry", 3, 3, 1, "joe.employee", "Service Desk"),
    ("EMAIL is slow when an attachment is involved", "software", 2, 2, 2, "fred.luddy",
     "Software"),
    ("Can't get to network file shares", "network", 2, 3, 6, "charlie.whitherspoon", "Network"),
    ("I can't launch my VPN client since the last software update", "network", 2, 2, 1,
     "luke.wilson", "Network"),
    ("Rain is leaking on main DNS Server", "hardware", 1, 1, 2, "david.loo", "Hardware"),
    ("How do I create a sub-folder", "inquiry", 3, 3, 7, "joe.employee", "Service Desk"),
    ("Sales forecast spreadsheet is READ ONLY", "software", 3, 2, 2, "abel.tuter", "Software"),
    ("Can't launch 64-bit Windows 7 virtual machine", "software", 2, 3, 3, "luke.wilson",
     "Software"),
    ("I need a replacement iPhone, please", "hardware", 3, 3, 1, "abel.tuter", "Hardware"),
    ("Unable to connect to the office wifi", "network", 2, 2, 2, "joe.employee", "Network"),
    ("Performance problems with the sales database", "database", 1, 2, 2, "abel.tuter",
     "Database"),
    ("Laptop screen flickers after docking", "hardware", 3, 2, 1, "fred.luddy", "Hardware"),
    ("Outlook keeps asking for credentials", "software", 2, 2, 6, "charlie.whitherspoon",
     "Software"),
    ("Antivirus definitions out of date on several desktops", "software", 2, 1, 2, "david.loo",
     "Software"),
    ("Phishing email reported by finance", "inquiry", 1, 1, 2, "charlie.whitherspoon",
     "Service Desk"),
)

#: (short_description, type, state, risk, category, group)
DEMO_CHANGES: tuple[tuple[str, str, int, int, str, str], ...] = (
    ("Rollback Oracle Version", "normal", -5, 3, "Software", "Database"),
    ("Decommission the legacy file server", "normal", -4, 3, "Hardware", "Hardware"),
    ("Upgrade the core switch firmware", "normal", -3, 2, "Network", "Network"),
    ("Apply monthly Windows security patches", "standard", -2, 4, "Software", "Software"),
    ("Emergency fix for the email relay", "emergency", -1, 2, "Software", "Software"),
    ("Replace the San Diego data center UPS", "normal", 0, 2, "Hardware", "Hardware"),
    ("Migrate the sales database to new storage", "normal", 3, 3, "Applications Software",
     "Database"),
    ("Add a VLAN for the new conference rooms", "standard", 3, 4, "Network", "Network"),
    ("Retire the old VPN concentrator", "normal", 4, 3, "Network", "Network"),
    ("Enable multifactor authentication for administrators", "normal", -5, 2, "Other",
     "Service Desk"),
)

#: (short_description, state, group)
DEMO_PROBLEMS: tuple[tuple[str, int, str], ...] = (
    ("Unknown source of outage on the email server", 102, "Problem Solving"),
    ("Wireless access points drop connections under load", 103, "Network"),
    ("Oracle connections exhaust the pool every Monday", 104, "Database"),
    ("Printers lose their queue after patching", 106, "Hardware"),
    ("Slow logon times at the Paris office", 101, "Problem Solving"),
)

PRIORITY_MATRIX = {
    (1, 1): 1, (1, 2): 2, (1, 3): 3,
    (2, 1): 2, (2, 2): 3, (2, 3): 4,
    (3, 1): 3, (3, 2): 4, (3, 3): 5,
}
"""Incident priority from impact x urgency (servicenow-behaviour §7.2)."""


def stable_sys_id(*parts: str) -> str:
    """A deterministic 32-hex sys_id for a demo record named by ``parts``."""
    return hashlib.md5("/".join(parts).encode(), usedforsecurity=False).hexdigest()


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
        _seed_demo(seeder)
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


def grant_role(seeder: Seeder, user_sys_id: str, role: str) -> None:
    """Give a user a role (a ``sys_user_has_role`` row)."""
    seeder.add("sys_user_has_role", {
        "user": user_sys_id,
        "role": ROLE_IDS.get(role) or stable_sys_id("sys_user_role", role),
        "state": "active",
    }, sys_id=stable_sys_id("sys_user_has_role", user_sys_id, role))


def _seed_demo(seeder: Seeder) -> None:
    company_ids = {name: seeder.add("core_company", {"name": name},
                                    sys_id=stable_sys_id("core_company", name))
                   for name in COMPANIES}
    department_ids = {name: seeder.add("cmn_department", {"name": name, "company":
                                                          company_ids["ACME North America"]},
                                       sys_id=stable_sys_id("cmn_department", name))
                      for name in DEPARTMENTS}
    location_ids = {name: seeder.add("cmn_location", {"name": name, "city": name},
                                     sys_id=stable_sys_id("cmn_location", name))
                    for name in LOCATIONS}
    user_ids = {"admin": ADMIN_SYS_ID}
    for index, (sys_id, user_name, first, last, title, department, roles) in enumerate(DEMO_USERS):
        user_ids[user_name] = seeder.add("sys_user", {
            "user_name": user_name, "first_name": first, "last_name": last,
            "name": f"{first} {last}", "email": f"{user_name}@example.com", "title": title,
            "department": department_ids[department],
            "company": company_ids["ACME North America"],
            "location": location_ids[LOCATIONS[index % len(LOCATIONS)]],
            "roles": ",".join(roles),
        }, sys_id=sys_id or stable_sys_id("sys_user", user_name))
        for role in roles:
            grant_role(seeder, user_ids[user_name], role)
    group_ids: dict[str, str] = {}
    for sys_id, name, description, members in DEMO_GROUPS:
        group_ids[name] = seeder.add("sys_user_group", {
            "name": name, "description": description, "email": "",
            "manager": user_ids[members[0]],
        }, sys_id=sys_id or stable_sys_id("sys_user_group", name))
        for member in members:
            seeder.add("sys_user_grmember", {"user": user_ids[member], "group": group_ids[name]},
                       sys_id=stable_sys_id("sys_user_grmember", member, name))
    _seed_tasks(seeder, user_ids, group_ids)


def _seed_tasks(seeder: Seeder, user_ids: Mapping[str, str], group_ids: Mapping[str, str]) -> None:
    for index, (short, category, impact, urgency, state, caller, group) in enumerate(
        DEMO_INCIDENTS, start=1
    ):
        opened = DEMO_EPOCH + timedelta(days=index, hours=index % 7)
        values: dict[str, Any] = {
            "number": f"INC{index:07d}", "short_description": short,
            "description": f"{short}. Reported by {caller}.", "category": category,
            "impact": impact, "urgency": urgency, "priority": PRIORITY_MATRIX[(impact, urgency)],
            "state": state, "incident_state": state, "caller_id": user_ids[caller],
            "opened_by": user_ids["itil"], "opened_at": format_glide(opened),
            "assignment_group": group_ids[group], "contact_type": "email",
            "active": state not in (7, 8),
        }
        if state in (6, 7):
            values.update(close_code="Solution provided",
                          close_notes="Resolved by the service desk.",
                          resolved_at=format_glide(opened + timedelta(hours=5)),
                          resolved_by=user_ids["beth.anglin"])
        if state == 7:
            values.update(closed_at=format_glide(opened + timedelta(days=2)),
                          closed_by=user_ids["beth.anglin"])
        if state == 3:
            values["hold_reason"] = 1
        seeder.add("incident", values, sys_id=stable_sys_id("incident", str(index)), at=opened,
                   by="itil")
    for index, (short, kind, state, risk, category, group) in enumerate(DEMO_CHANGES, start=1):
        opened = DEMO_EPOCH + timedelta(days=index * 2)
        values = {
            "number": f"CHG{index:07d}", "short_description": short, "description": short,
            "type": kind, "state": state, "risk": risk, "category": category,
            "assignment_group": group_ids[group], "requested_by": user_ids["don.goodliffe"],
            "opened_by": user_ids["don.goodliffe"], "opened_at": format_glide(opened),
            "start_date": format_glide(opened + timedelta(days=7)),
            "end_date": format_glide(opened + timedelta(days=7, hours=4)),
            "priority": 4, "active": state not in (3, 4),
        }
        if state == 3:
            values.update(close_code="successful", close_notes="Implemented as planned.",
                          closed_at=format_glide(opened + timedelta(days=8)))
        seeder.add("change_request", values, sys_id=stable_sys_id("change_request", str(index)),
                   at=opened, by="don.goodliffe")
    for index, (short, state, group) in enumerate(DEMO_PROBLEMS, start=1):
        opened = DEMO_EPOCH + timedelta(days=index * 3)
        seeder.add("problem", {
            "number": f"PRB{index:07d}", "short_description": short, "description": short,
            "state": state, "assignment_group": group_ids[group], "impact": 2, "urgency": 2,
            "priority": 3, "opened_by": user_ids["bud.richman"], "opened_at": format_glide(opened),
            "active": state not in (107,),
        }, sys_id=stable_sys_id("problem", str(index)), at=opened, by="bud.richman")
