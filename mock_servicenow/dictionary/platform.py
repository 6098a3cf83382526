"""Platform tables: users, roles, groups, scopes, the dictionary itself, properties, logs.

Field names are the wire names of a real instance (servicenow-behaviour §6 for ``sys_user``,
§5 for the application-access columns of ``sys_db_object``).
"""

from __future__ import annotations

from mock_servicenow.dictionary.model import Field, Table, choices

F = Field

CORE_COMPANY = Table(
    "core_company",
    "Company",
    fields=(
        F("name", "string", "Name", display=True, indexed=True, max_length=80),
        F("city", "string", "City"),
        F("country", "string", "Country"),
        F("vendor", "boolean", "Vendor", default="false"),
        F("manufacturer", "boolean", "Manufacturer", default="false"),
        F("customer", "boolean", "Customer", default="false"),
    ),
)

CMN_DEPARTMENT = Table(
    "cmn_department",
    "Department",
    fields=(
        F("name", "string", "Name", display=True, indexed=True, max_length=100),
        F("id", "string", "ID"),
        F("company", "reference", "Company", reference="core_company"),
    ),
)

CMN_LOCATION = Table(
    "cmn_location",
    "Location",
    fields=(
        F("name", "string", "Name", display=True, indexed=True, max_length=100),
        F("city", "string", "City"),
        F("country", "string", "Country"),
    ),
)

SYS_USER = Table(
    "sys_user",
    "User",
    extensible=True,
    fields=(
        F("user_name", "string", "User ID", indexed=True, unique=True, max_length=40),
        F("first_name", "string", "First name", max_length=50),
        F("last_name", "string", "Last name", max_length=50),
        F("name", "string", "Name", display=True, indexed=True, max_length=151),
        F("email", "email", "Email", indexed=True, max_length=100),
        F("title", "string", "Title", max_length=60),
        F("department", "reference", "Department", reference="cmn_department"),
        F("company", "reference", "Company", reference="core_company"),
        F("location", "reference", "Location", reference="cmn_location"),
        F("manager", "reference", "Manager", reference="sys_user"),
        F("phone", "phone_number", "Business phone"),
        F("mobile_phone", "phone_number", "Mobile phone"),
        F("active", "boolean", "Active", default="true"),
        F("locked_out", "boolean", "Locked out", default="false"),
        F("web_service_access_only", "boolean", "Web service access only", default="false"),
        F("internal_integration_user", "boolean", "Internal Integration User", default="false"),
        F("password_needs_reset", "boolean", "Password needs reset", default="false"),
        F("failed_attempts", "integer", "Failed login attempts", default="0"),
        F("last_login_time", "glide_date_time", "Last login time"),
        F("enable_multifactor_authn", "boolean", "Enable Multifactor Authentication",
          default="false"),
        F("vip", "boolean", "VIP", default="false"),
        F("roles", "user_roles", "Roles", max_length=255),
        F("time_zone", "choice", "Time zone", choices=choices(
            ("", "System (America/Los_Angeles)"), ("GMT", "GMT"), ("Europe/Paris", "Europe/Paris"),
            ("America/New_York", "America/New_York"),
            ("America/Los_Angeles", "America/Los_Angeles"),
        )),
        F("date_format", "choice", "Date format", choices=choices(
            ("", "System (yyyy-MM-dd)"), ("dd/MM/yyyy", "dd/MM/yyyy"), ("MM-dd-yyyy", "MM-dd-yyyy"),
            ("yyyy-MM-dd", "yyyy-MM-dd"),
        )),
        F("preferred_language", "choice", "Language", choices=choices(
            ("en", "English"), ("fr", "French"), ("de", "German"),
        ), default="en"),
        F("notification", "choice", "Notification", choices=choices(
            ("1", "Disable"), ("2", "Enable"),
        ), default="2"),
        F("source", "string", "Source", max_length=255),
        F("user_password", "password", "Password", max_length=255),
        F("sys_domain", "reference", "Domain", reference="sys_user_group", default="global"),
    ),
)

SYS_USER_ROLE = Table(
    "sys_user_role",
    "Role",
    fields=(
        F("name", "string", "Name", display=True, indexed=True, unique=True, max_length=100),
        F("description", "string", "Description", max_length=1000),
        F("suffix", "string", "Suffix", max_length=100),
        F("elevated_privilege", "boolean", "Elevated privilege", default="false"),
        F("assignable_by", "reference", "Assignable by", reference="sys_user_role"),
        F("sys_scope", "reference", "Application", reference="sys_scope", default="global"),
    ),
)

SYS_USER_HAS_ROLE = Table(
    "sys_user_has_role",
    "User Role",
    fields=(
        F("user", "reference", "User", reference="sys_user", indexed=True, display=True),
        F("role", "reference", "Role", reference="sys_user_role", indexed=True),
        F("granted_by", "reference", "Granted by", reference="sys_user_group"),
        F("inherited", "boolean", "Inherited", default="false"),
        F("state", "choice", "State", choices=choices(
            ("active", "Active"), ("requested", "Requested"), ("inactive", "Inactive"),
        ), default="active"),
    ),
)

SYS_USER_GROUP = Table(
    "sys_user_group",
    "Group",
    fields=(
        F("name", "string", "Name", display=True, indexed=True, max_length=80),
        F("description", "string", "Description", max_length=1000),
        F("email", "email", "Group email"),
        F("manager", "reference", "Manager", reference="sys_user"),
        F("parent", "reference", "Parent", reference="sys_user_group"),
        F("type", "glide_list", "Type", max_length=1024),
        F("active", "boolean", "Active", default="true"),
        F("roles", "user_roles", "Roles", max_length=255),
    ),
)

SYS_USER_GRMEMBER = Table(
    "sys_user_grmember",
    "Group Member",
    fields=(
        F("user", "reference", "User", reference="sys_user", indexed=True, display=True),
        F("group", "reference", "Group", reference="sys_user_group", indexed=True),
    ),
)

SYS_SCOPE = Table(
    "sys_scope",
    "Application",
    extensible=True,
    fields=(
        F("name", "string", "Name", display=True, max_length=100),
        F("scope", "string", "Scope", indexed=True, unique=True, max_length=18),
        F("version", "string", "Version", max_length=40),
        F("vendor", "string", "Vendor", max_length=100),
        F("vendor_prefix", "string", "Vendor prefix", max_length=40),
        F("short_description", "string", "Short description", max_length=1000),
        F("active", "boolean", "Active", default="true"),
        F("private", "boolean", "Private", default="false"),
        F("licensable", "boolean", "Licensable", default="false"),
        F("enforce_license", "choice", "Enforce license", choices=choices(
            ("none", "None"), ("log", "Log"), ("enforce", "Enforce"),
        ), default="none"),
        F("runtime_access_tracking", "choice", "Runtime access tracking", choices=choices(
            ("none", "None"), ("permissive", "Tracking"), ("enforcing", "Enforcing"),
        ), default="permissive"),
    ),
)

SYS_DB_OBJECT = Table(
    "sys_db_object",
    "Table",
    fields=(
        F("name", "string", "Name", indexed=True, unique=True, max_length=80),
        F("label", "string", "Label", display=True, max_length=80),
        F("super_class", "reference", "Extends table", reference="sys_db_object"),
        F("number_ref", "string", "Auto number", max_length=40),
        F("is_extendable", "boolean", "Extensible", default="false"),
        F("sys_scope", "reference", "Application", reference="sys_scope", default="global"),
        # Application access (servicenow-behaviour §5). ``access`` choice values are the
        # platform's likely ones; the reference marks them unconfirmed.
        F("access", "choice", "Accessible from", choices=choices(
            ("public", "All application scopes"),
            ("package_private", "This application scope only"),
        ), default="public"),
        F("read_access", "boolean", "Can read", default="true"),
        F("create_access", "boolean", "Can create", default="false"),
        F("update_access", "boolean", "Can update", default="false"),
        F("delete_access", "boolean", "Can delete", default="false"),
        F("ws_access", "boolean", "Allow access to this table via web services", default="true"),
        F("caller_access", "choice", "Caller Access", choices=choices(
            ("", "-- None --"), ("1", "Caller Tracking"), ("2", "Caller Restriction"),
        ), default=""),
        F("configuration_access", "boolean", "Allow configuration", default="false"),
        F("alter_access", "boolean", "Can alter", default="false"),
        F("actions_access", "boolean", "Allow UI actions", default="true"),
        F("client_scripts_access", "boolean", "Allow client scripts", default="true"),
        F("create_access_controls", "boolean", "Create access controls", default="false"),
    ),
)

SYS_PROPERTIES = Table(
    "sys_properties",
    "System Property",
    fields=(
        F("name", "string", "Name", display=True, indexed=True, unique=True, max_length=100),
        F("value", "string", "Value", max_length=4000),
        F("type", "choice", "Type", choices=choices(
            ("string", "string"), ("boolean", "true | false"), ("integer", "integer"),
            ("password2", "password2"), ("choicelist", "choice list"),
        ), default="string"),
        F("description", "string", "Description", max_length=512),
        F("suffix", "string", "Suffix", max_length=100),
        F("is_private", "boolean", "Private", default="false"),
        F("read_roles", "string", "Read roles", max_length=255),
        F("write_roles", "string", "Write roles", max_length=255),
        F("sys_scope", "reference", "Application", reference="sys_scope", default="global"),
    ),
)

SYSLOG = Table(
    "syslog",
    "System Log",
    read_access=True,
    fields=(
        F("level", "choice", "Level", choices=choices(
            ("-1", "Debug"), ("0", "Information"), ("1", "Warning"), ("2", "Error"),
        ), default="0"),
        F("message", "string", "Message", display=True, max_length=4000),
        F("source", "string", "Source", max_length=100),
        F("sys_scope", "reference", "Application", reference="sys_scope", default="global"),
        F("context_map", "string", "Context map", max_length=4000),
    ),
)

SYS_JOURNAL_FIELD = Table(
    "sys_journal_field",
    "Journal Entry",
    fields=(
        F("name", "table_name", "Table name", indexed=True, max_length=80),
        F("element", "string", "Element", max_length=80),
        F("element_id", "string", "Element ID", indexed=True, max_length=32),
        F("value", "string", "Value", display=True, max_length=4000),
    ),
)

SYS_NUMBER = Table(
    "sys_number",
    "Number",
    fields=(
        F("category", "table_name", "Table", display=True, indexed=True, unique=True,
          max_length=80),
        F("prefix", "string", "Prefix", max_length=40),
        F("number", "integer", "Number"),
        F("maximum_digits", "integer", "Number of digits", default="7"),
    ),
)

PLATFORM_TABLES = (
    CORE_COMPANY,
    CMN_DEPARTMENT,
    CMN_LOCATION,
    SYS_USER,
    SYS_USER_ROLE,
    SYS_USER_HAS_ROLE,
    SYS_USER_GROUP,
    SYS_USER_GRMEMBER,
    SYS_SCOPE,
    SYS_DB_OBJECT,
    SYS_PROPERTIES,
    SYSLOG,
    SYS_JOURNAL_FIELD,
    SYS_NUMBER,
)
