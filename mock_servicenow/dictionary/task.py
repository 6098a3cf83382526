"""``task`` and the tables extending it: ``incident``, ``change_request``, ``problem``.

Fields and choice lists follow servicenow-behaviour §7 (states, priority matrix, defaults,
close codes of current releases) and the captured records it cites.
"""

from __future__ import annotations

from mock_servicenow.dictionary.model import Field, Table, choices

F = Field

IMPACT_URGENCY = choices(("1", "1 - High"), ("2", "2 - Medium"), ("3", "3 - Low"))
PRIORITY = choices(
    ("1", "1 - Critical"), ("2", "2 - High"), ("3", "3 - Moderate"), ("4", "4 - Low"),
    ("5", "5 - Planning"),
)

TASK = Table(
    "task",
    "Task",
    extensible=True,
    number_prefix="TASK",
    number_start=10001,
    indexes=(("sys_class_name", "state"), ("sys_class_name", "priority"),
             ("sys_class_name", "sys_updated_on")),
    fields=(
        F("number", "string", "Number", display=True, indexed=True, unique=True, read_only=True),
        F("short_description", "string", "Short description", max_length=160),
        F("description", "string", "Description", max_length=4000),
        F("state", "integer", "State", default="1", indexed=True, choices=choices(
            ("-5", "Pending"), ("1", "Open"), ("2", "Work in Progress"), ("3", "Closed Complete"),
            ("4", "Closed Incomplete"), ("7", "Closed Skipped"),
        )),
        F("priority", "integer", "Priority", choices=PRIORITY, default="4", indexed=True),
        F("impact", "integer", "Impact", choices=IMPACT_URGENCY, default="3"),
        F("urgency", "integer", "Urgency", choices=IMPACT_URGENCY, default="3"),
        F("active", "boolean", "Active", default="true", indexed=True),
        F("assignment_group", "reference", "Assignment group", reference="sys_user_group",
          indexed=True),
        F("assigned_to", "reference", "Assigned to", reference="sys_user", indexed=True),
        F("opened_by", "reference", "Opened by", reference="sys_user"),
        F("opened_at", "glide_date_time", "Opened"),
        F("closed_by", "reference", "Closed by", reference="sys_user"),
        F("closed_at", "glide_date_time", "Closed"),
        F("close_notes", "string", "Close notes", max_length=4000),
        F("correlation_id", "string", "Correlation ID", max_length=100, indexed=True),
        F("correlation_display", "string", "Correlation display", max_length=100),
        F("due_date", "glide_date_time", "Due date"),
        F("activity_due", "due_date", "Activity due"),
        F("sla_due", "due_date", "SLA due"),
        F("expected_start", "glide_date_time", "Expected start"),
        F("work_start", "glide_date_time", "Actual start"),
        F("work_end", "glide_date_time", "Actual end"),
        F("approval", "string", "Approval", default="not requested", choices=choices(
            ("not requested", "Not Yet Requested"), ("requested", "Requested"),
            ("approved", "Approved"), ("rejected", "Rejected"),
            ("not_required", "No Longer Required"),
        )),
        F("upon_approval", "string", "Upon approval", default="proceed", choices=choices(
            ("proceed", "Proceed to Next Task"),
            ("do_nothing", "Wait for a User to Close this task"),
        )),
        F("upon_reject", "string", "Upon reject", default="cancel", choices=choices(
            ("cancel", "Cancel all future Tasks"), ("goto", "Go to a previous Task"),
        )),
        F("escalation", "integer", "Escalation", default="0", choices=choices(
            ("0", "Normal"), ("1", "Moderate"), ("2", "High"), ("3", "Overdue"),
        )),
        F("made_sla", "boolean", "Made SLA", default="true"),
        F("knowledge", "boolean", "Knowledge", default="false"),
        F("reassignment_count", "integer", "Reassignment count", default="0"),
        F("contact_type", "string", "Contact type", choices=choices(
            ("email", "Email"), ("phone", "Phone"), ("self-service", "Self-service"),
            ("virtual_agent", "Virtual Agent"), ("walk-in", "Walk-in"),
        )),
        F("company", "reference", "Company", reference="core_company"),
        F("location", "reference", "Location", reference="cmn_location"),
        F("parent", "reference", "Parent", reference="task"),
        F("watch_list", "glide_list", "Watch list", max_length=4000),
        F("work_notes_list", "glide_list", "Work notes list", max_length=4000),
        F("business_duration", "glide_duration", "Business duration"),
        F("calendar_duration", "glide_duration", "Duration"),
        F("work_notes", "journal_input", "Work notes"),
        F("comments", "journal_input", "Additional comments"),
        F("comments_and_work_notes", "journal_list", "Comments and Work notes"),
        F("sys_domain", "reference", "Domain", reference="sys_user_group", default="global"),
        F("sys_domain_path", "domain_path", "Domain Path", default="/"),
        F("sys_tags", "string", "Tags", max_length=255),
    ),
)

INCIDENT = Table(
    "incident",
    "Incident",
    super_class="task",
    number_prefix="INC",
    number_start=10001,
    create_access=True,
    update_access=True,
    fields=(
        F("caller_id", "reference", "Caller", reference="sys_user", indexed=True),
        F("state", "integer", "State", default="1", indexed=True, choices=choices(
            ("1", "New"), ("2", "In Progress"), ("3", "On Hold"), ("6", "Resolved"),
            ("7", "Closed"), ("8", "Canceled"),
        )),
        F("incident_state", "integer", "Incident state", default="1", choices=choices(
            ("1", "New"), ("2", "In Progress"), ("3", "On Hold"), ("6", "Resolved"),
            ("7", "Closed"), ("8", "Canceled"),
        )),
        F("priority", "integer", "Priority", choices=PRIORITY, default="5", indexed=True),
        F("severity", "integer", "Severity", default="3", choices=IMPACT_URGENCY),
        F("category", "string", "Category", default="inquiry", choices=choices(
            ("inquiry", "Inquiry / Help"), ("software", "Software"), ("hardware", "Hardware"),
            ("network", "Network"), ("database", "Database"),
        )),
        F("subcategory", "string", "Subcategory", choices=choices(
            ("antivirus", "Antivirus"), ("email", "Email"), ("internal application",
                                                              "Internal Application"),
            ("vpn", "VPN"), ("wireless", "Wireless"), ("db2", "DB2"), ("oracle", "Oracle"),
        )),
        F("close_code", "string", "Resolution code", choices=choices(
            ("Solution provided", "Solution provided"),
            ("Workaround provided", "Workaround provided"),
            ("Resolved by caller", "Resolved by caller"),
            ("Resolved by change", "Resolved by change"),
            ("Resolved by problem", "Resolved by problem"),
            ("Duplicate", "Duplicate"), ("Known error", "Known error"),
            ("User error", "User error"),
        )),
        F("close_notes", "string", "Resolution notes", max_length=4000),
        F("resolved_at", "glide_date_time", "Resolved"),
        F("resolved_by", "reference", "Resolved by", reference="sys_user"),
        F("hold_reason", "integer", "On hold reason", choices=choices(
            ("1", "Awaiting Caller"), ("3", "Awaiting Problem"), ("4", "Awaiting Vendor"),
            ("5", "Awaiting Change"),
        )),
        F("parent_incident", "reference", "Parent Incident", reference="incident"),
        F("problem_id", "reference", "Problem", reference="problem"),
        F("rfc", "reference", "Change Request", reference="change_request"),
        F("caused_by", "reference", "Caused by Change", reference="change_request"),
        F("child_incidents", "integer", "Child Incidents", default="0"),
        F("reopen_count", "integer", "Reopen count", default="0"),
        F("notify", "integer", "Notify", default="1", choices=choices(
            ("1", "Do Not Notify"), ("2", "Send Email"), ("3", "Send SMS"),
        )),
        F("business_stc", "integer", "Business resolve time", default="0"),
        F("calendar_stc", "integer", "Resolve time", default="0"),
    ),
)

CHANGE_REQUEST = Table(
    "change_request",
    "Change Request",
    super_class="task",
    number_prefix="CHG",
    number_start=30001,
    create_access=True,
    update_access=True,
    fields=(
        F("state", "integer", "State", default="-5", indexed=True, choices=choices(
            ("-5", "New"), ("-4", "Assess"), ("-3", "Authorize"), ("-2", "Scheduled"),
            ("-1", "Implement"), ("0", "Review"), ("3", "Closed"), ("4", "Canceled"),
        )),
        F("type", "string", "Type", default="normal", choices=choices(
            ("normal", "Normal"), ("standard", "Standard"), ("emergency", "Emergency"),
        )),
        F("category", "string", "Category", default="Other", choices=choices(
            ("Hardware", "Hardware"), ("Software", "Software"), ("Service", "Service"),
            ("System Software", "System Software"), ("Applications Software",
                                                     "Applications Software"),
            ("Network", "Network"), ("Telecom", "Telecom"), ("Documentation", "Documentation"),
            ("Other", "Other"),
        )),
        F("risk", "integer", "Risk", default="3", choices=choices(
            ("1", "Very High"), ("2", "High"), ("3", "Moderate"), ("4", "Low"),
        )),
        F("requested_by", "reference", "Requested by", reference="sys_user"),
        F("start_date", "glide_date_time", "Planned start date"),
        F("end_date", "glide_date_time", "Planned end date"),
        F("close_code", "string", "Close code", choices=choices(
            ("successful", "Successful"), ("successful_issues", "Successful with issues"),
            ("unsuccessful", "Unsuccessful"),
        )),
        F("justification", "string", "Justification", max_length=4000),
        F("implementation_plan", "string", "Implementation plan", max_length=4000),
        F("backout_plan", "string", "Backout plan", max_length=4000),
        F("test_plan", "string", "Test plan", max_length=4000),
        F("on_hold", "boolean", "On hold", default="false"),
        F("on_hold_reason", "string", "On hold reason", max_length=4000),
        F("phase", "string", "Phase", default="requested", choices=choices(
            ("requested", "Requested"), ("approval", "Approval"),
            ("implementation", "Implementation"),
            ("review", "Review"), ("closed", "Closed"),
        )),
        F("scope", "integer", "Scope", default="3", choices=choices(
            ("1", "Massive"), ("2", "Large"), ("3", "Medium"), ("4", "Small"), ("5", "Tiny"),
        )),
    ),
)

PROBLEM = Table(
    "problem",
    "Problem",
    super_class="task",
    number_prefix="PRB",
    number_start=40001,
    create_access=True,
    update_access=True,
    fields=(
        F("state", "integer", "State", default="101", indexed=True, choices=choices(
            ("101", "New"), ("102", "Assess"), ("103", "Root Cause Analysis"),
            ("104", "Fix in Progress"), ("106", "Resolved"), ("107", "Closed"),
        )),
        F("problem_state", "integer", "Problem state", default="1", choices=choices(
            ("1", "Open"), ("2", "Known Error"), ("3", "Pending Change"), ("4", "Closed/Resolved"),
        )),
        F("known_error", "boolean", "Known error", default="false"),
        F("cause_notes", "string", "Cause notes", max_length=4000),
        F("fix_notes", "string", "Fix notes", max_length=4000),
        F("workaround", "string", "Workaround", max_length=4000),
        F("related_incidents", "integer", "Related Incidents", default="0"),
        F("resolution_code", "string", "Resolution code", choices=choices(
            ("fix_applied", "Fix Applied"), ("risk_accepted", "Risk Accepted"),
            ("canceled", "Canceled"), ("duplicate", "Duplicate"),
        )),
        F("category", "string", "Category", choices=choices(
            ("software", "Software"), ("hardware", "Hardware"), ("network", "Network"),
            ("database", "Database"),
        )),
    ),
)

TASK_TABLES = (TASK, INCIDENT, CHANGE_REQUEST, PROBLEM)
