"""Secure Score action -> the task the admin edits -> a Table API payload.

The mapping, as a table (also in ``docs/connector.md``; m365-ticketing.md §7a, with the app's
fixed field names):

====================  ==========================================  =============================
task item             change_request                              incident
====================  ==========================================  =============================
initiating user       ``x_mioms_m365ticket_initiated_by``         same
name                  ``short_description`` (<= 160 chars)        same
description           ``description`` (plain text, <= 4000)       same
priority              ``priority`` 1-4                            ``impact`` + ``urgency``
                                                                  (instance computes priority)
due date              ``due_date`` ``YYYY-MM-DD 23:59:59`` UTC    same
source                ``x_mioms_m365ticket_recommendation_source``  same (``microsoft``/``user``)
category              ``x_mioms_m365ticket_recommendation_category``  same
control id            ``x_mioms_m365ticket_control_id``           same
(derived)             ``correlation_id``, ``correlation_display``  same
(constant)            ``type`` = ``normal``                       --
====================  ==========================================  =============================
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Literal

from .errors import InvalidInput
from .graph import CATEGORIES, ImprovementAction, html_to_text, normalize_category

TicketType = Literal["change", "incident"]
Priority = Literal["critical", "high", "medium", "low"]
Source = Literal["microsoft", "user"]

#: Table per ticket type.
TABLES: dict[str, str] = {"change": "change_request", "incident": "incident"}
PRIORITIES: tuple[str, ...] = ("critical", "high", "medium", "low")

#: change_request.priority takes the value directly (servicenow-behaviour §7.4, m365 §4.1).
CHANGE_PRIORITY: dict[str, str] = {"critical": "1", "high": "2", "medium": "3", "low": "4"}
#: incident: impact x urgency, chosen so the priority lookup (§7.2) gives the same 1-4.
INCIDENT_IMPACT_URGENCY: dict[str, tuple[str, str]] = {
    "critical": ("1", "1"),  # -> 1 Critical
    "high": ("1", "2"),      # -> 2 High
    "medium": ("2", "2"),    # -> 3 Moderate
    "low": ("2", "3"),       # -> 4 Low
}
#: The priority lookup of servicenow-behaviour §7.2, used to check the table above.
PRIORITY_LOOKUP: dict[tuple[str, str], str] = {
    ("1", "1"): "1", ("1", "2"): "2", ("1", "3"): "3",
    ("2", "1"): "2", ("2", "2"): "3", ("2", "3"): "4",
    ("3", "1"): "3", ("3", "2"): "4", ("3", "3"): "5",
}

CORRELATION_DISPLAY = "Microsoft 365 Security and Configuration"
CORRELATION_ID_MAX = 100
SHORT_DESCRIPTION_MAX = 160
DESCRIPTION_MAX = 4000

APP_FIELD_PREFIX = "x_mioms_m365ticket_"


def correlation_id(tenant_id: str, source: str, control_id: str) -> str:
    """A deterministic id (<= 100 chars) for one action of one tenant.

    ``m365ss:<m|u>:<32 hex of sha256(tenant:source:control)>:<readable control id>``. The hash
    makes it unique whatever the length of the control id (real ids reach 65 chars, tenant ids
    36; m365-ticketing.md §4.2); the readable tail keeps only characters that are safe inside an
    encoded query (no ``^``, ``=``, ``,``), so the lookup query cannot be broken by a strange id.
    """
    key = f"{tenant_id.strip().lower()}:{source}:{control_id.strip().lower()}"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    readable = re.sub(r"[^a-z0-9_.-]", "", control_id.strip().lower())[:50]
    value = f"m365ss:{source[:1]}:{digest}:{readable}"
    return value[:CORRELATION_ID_MAX]


def ticket_sys_id(correlation: str) -> str:
    """The sys_id the ticket of an action is created with: 32 hex derived from its correlation
    id, the same for every attempt and every run.

    The Table API takes a caller-chosen sys_id on insert, and the instance's database refuses
    a second record with a taken one (a unique-key violation: KB0748828,
    https://support.servicenow.com/kb?id=kb_article_view&sysparm_article=KB0748828). So
    sending the create again, after its answer was lost, can never make a second ticket,
    whatever the timing (issue 15; docs/connector.md "Reliability").
    """
    return hashlib.sha256(f"snow-connector:ticket:{correlation}".encode()).hexdigest()[:32]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


@dataclass(frozen=True)
class Task:
    """The task the admin edits before sharing (m365-ticketing.md §3.3, §3.4 "Create")."""

    name: str
    description: str
    priority: str
    due: dt.date
    source: str
    category: str
    control_id: str
    tenant_id: str
    initiated_by: str

    @property
    def correlation_id(self) -> str:
        """Deterministic id of the action this task shares."""
        return correlation_id(self.tenant_id, self.source, self.control_id)


def default_description(action: ImprovementAction) -> str:
    """The description a Microsoft action starts with: remediation, impact, details."""
    parts: list[str] = []
    if action.remediation:
        parts.append(action.remediation)
    if action.remediation_impact:
        parts.append(f"User impact: {action.remediation_impact}")
    details = [f"Secure Score control: {action.id}"]
    if action.service:
        details.append(f"Service: {action.service}")
    if action.tier:
        details.append(f"Tier: {action.tier}")
    if action.max_score is not None:
        details.append(f"Max score: {action.max_score:g}")
    if action.rank is not None:
        details.append(f"Rank: {action.rank}")
    if action.threats:
        details.append("Threats: " + ", ".join(action.threats))
    details.append(f"Implementation cost: {action.implementation_cost}")
    details.append(f"User impact level: {action.user_impact}")
    if action.action_url:
        details.append(f"Where to act: {action.action_url}")
    parts.append("\n".join(details))
    return "\n\n".join(parts)


def parse_due(value: str | dt.date) -> dt.date:
    """``YYYY-MM-DD`` to a date, with a clear message otherwise."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise InvalidInput(f"due date {value!r} is not a date in the form YYYY-MM-DD") from None


def build_task(*, action: ImprovementAction | None, control_id: str, tenant_id: str,
               initiated_by: str, priority: str | None, due: str | dt.date | None,
               today: dt.date, name: str | None = None, description: str | None = None,
               category: str | None = None) -> Task:
    """The task to share, with required fields enforced.

    ``action`` is the Graph action (source Microsoft) or ``None`` for an action the admin
    writes with ``name`` and ``description`` (source User). Name, description, priority, due
    date and category are required; the due date may not be in the past (``today`` is UTC).
    All text is reduced to plain text: no HTML reaches the ticket.
    """
    missing = []
    source = "microsoft" if action is not None else "user"
    final_name = html_to_text(name) if name is not None else (action.title if action else "")
    if not final_name:
        missing.append("name (--name)")
    if description is not None:
        final_description = html_to_text(description)
    else:
        final_description = default_description(action) if action else ""
    if not final_description:
        missing.append("description (--description)")
    if not priority:
        missing.append("priority (--priority)")
    if due is None or (isinstance(due, str) and not due.strip()):
        missing.append("due date (--due)")
    resolved_category = normalize_category(category) if category is not None else (
        action.category if action else None)
    if category is not None and resolved_category is None:
        raise InvalidInput(f"category {category!r} is not one of: " + ", ".join(CATEGORIES))
    if resolved_category is None:
        missing.append("category (--category: " + "|".join(CATEGORIES) + ")")
    if missing:
        raise InvalidInput("required field(s) missing: " + ", ".join(missing))
    assert priority is not None and due is not None and resolved_category is not None
    normalized_priority = priority.strip().lower()
    if normalized_priority not in PRIORITIES:
        raise InvalidInput(f"priority {priority!r} is not one of: " + ", ".join(PRIORITIES))
    due_date = parse_due(due)
    if due_date < today:
        raise InvalidInput(f"due date {due_date.isoformat()} is in the past (today is "
                           f"{today.isoformat()} UTC)")
    if not control_id.strip():
        raise InvalidInput("an action id is required")
    # A last pass over the final text: ids and titles may themselves carry markup.
    clean_name = html_to_text(final_name) or html_to_text(control_id) or "Secure Score action"
    return Task(name=_clip(clean_name, SHORT_DESCRIPTION_MAX),
                description=_clip(html_to_text(final_description), DESCRIPTION_MAX),
                priority=normalized_priority, due=due_date, source=source,
                category=resolved_category, control_id=control_id.strip(),
                tenant_id=tenant_id, initiated_by=initiated_by)


def to_payload(task: Task, ticket_type: str) -> dict[str, str]:
    """The Table API body for ``task`` as a change request or an incident (values: strings)."""
    if ticket_type not in TABLES:
        raise InvalidInput(f"ticket type {ticket_type!r} is not one of: change, incident")
    payload = {
        "sys_id": ticket_sys_id(task.correlation_id),
        "short_description": task.name,
        "description": task.description,
        "due_date": f"{task.due.isoformat()} 23:59:59",
        "correlation_id": task.correlation_id,
        "correlation_display": CORRELATION_DISPLAY,
        APP_FIELD_PREFIX + "initiated_by": task.initiated_by,
        APP_FIELD_PREFIX + "recommendation_source": task.source,
        APP_FIELD_PREFIX + "recommendation_category": task.category,
        APP_FIELD_PREFIX + "control_id": task.control_id,
    }
    if ticket_type == "change":
        payload["priority"] = CHANGE_PRIORITY[task.priority]
        payload["type"] = "normal"
    else:
        impact, urgency = INCIDENT_IMPACT_URGENCY[task.priority]
        payload["impact"] = impact
        payload["urgency"] = urgency
    return payload
