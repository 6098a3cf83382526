"""The Change Management API's use cases: changes, their tasks, standard change templates.

``/api/sn_chg_rest/change`` (servicenow-behaviour §7.4; the Change Management API reference,
https://github.com/ServiceNow/ServiceNowDocs/blob/xanadu/markdown/api-reference/rest-apis/change-management-api.md).
Records are read and written through the Table API's functions
(:mod:`mock_servicenow.domain.table.records`), so the tables' ACLs, numbering, defaults and
business rules (the change state model of §7.4) hold here as everywhere. What the API adds,
from ServiceNow's own script includes behind it (public copies: ``ChangeCommon``
FS#33218946150, ``NormalChangeProcessSNC`` FS#33478524899, ``EmergencyChangeProcessSNC``
FS#33822763945, ``StandardChangeProcessSNC`` FS#33490604584, ``StandardChangeTemplateSNC``
FS#33594890651, ``ChangeProcessSNC`` FS#33384742676):

* roles per method, as the reference lists them (GET change_manager, itil, sn_change_read;
  POST/PATCH change_manager, itil; DELETE change_manager; admin always);
* a typed path (``/change/normal/{sys_id}``...) finds only a change of that type
  (``findById`` adds ``type=<type>``): another type is 404 like a missing record; typed lists
  keep active changes of the type (``findAll``: ``addActiveQuery`` + ``type``);
* lists: ``sysparm_query``, else name-value pairs (unknown names ignored), ``textSearch`` (every
  word in some text field: ``IR_AND_QUERY``, the ``com.snc.change_management.process.match.all``
  default), ``order`` (default ``number``; templates ``name``), ``sysparm_limit`` (default 500)
  and ``sysparm_offset``;
* writes answer the record with ``__meta.ignoredFields`` (``fields.py``);
* a standard change applies its template's values (``std_change_template``), records the
  template's current version in ``std_change_producer_version``, and ignores the fields the
  reference says a template request cannot set (description, backout, test and implementation
  plans); standard changes are pre-approved (``approval`` approved, as a change created from a
  template on an instance shows: the ServiceNow v2 integration's
  ``create_co_from_template_result.json``);
* ``nextstates`` answers the states the change model allows from the current one
  (``business_rules.CHANGE_TRANSITIONS``, the transitions the emulator enforces).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mock_servicenow.dictionary.records import stable_sys_id
from mock_servicenow.domain.change.fields import assign, parse_template
from mock_servicenow.domain.change.wire import ALL, to_js
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.table import records
from mock_servicenow.domain.table.business_rules import CHANGE_TRANSITIONS
from mock_servicenow.errors import (
    BadRequestError,
    NotAuthorized,
    OperationFailed,
    RecordNotFound,
)
from mock_servicenow.store import rows
from mock_servicenow.store.db import write_transaction

CHANGE = "change_request"
TASK = "change_task"
TEMPLATE = "std_change_record_producer"
VERSION = "std_change_producer_version"
TYPES = ("normal", "emergency", "standard")

#: Roles per method (the reference's list; ``admin`` passes every role check).
ROLES: Mapping[str, tuple[str, ...]] = {
    "GET": ("change_manager", "itil", "sn_change_read"),
    "POST": ("change_manager", "itil"),
    "PATCH": ("change_manager", "itil"),
    "DELETE": ("change_manager",),
}

#: What a standard change template request may not set (the reference, POST
#: /change/standard/{standard_change_template_id}: "Fields that cannot be modified").
STANDARD_RESTRICTED = frozenset({"description", "backout_plan", "test_plan",
                                 "implementation_plan"})
#: Field types ``textSearch`` looks in.
_TEXT_TYPES = frozenset({"string", "translated_text", "html"})
DEFAULT_LIMIT = 500


@dataclass(frozen=True)
class Listing:
    """A list request: ``sysparm_query``, name-value ``filters``, ``textSearch``, ``order``,
    ``sysparm_limit`` and ``sysparm_offset``."""

    query: str = ""
    filters: tuple[tuple[str, str], ...] = ()
    text_search: str = ""
    order: str = ""
    limit: int = DEFAULT_LIMIT
    offset: int = 0


def require_role(ctx: Context, method: str) -> None:
    """403 ``User Not Authorized`` / ``Failed API level ACL Validation`` for a user without
    one of the roles the reference names for ``method`` (the REST API level ACL answer,
    servicenow-behaviour §1.5)."""
    user = ctx.user
    if user.is_admin or any(user.has_role(role) for role in ROLES.get(method, ())):
        return
    raise NotAuthorized("Failed API level ACL Validation")


# -- reads ------------------------------------------------------------------------------------

def list_changes(ctx: Context, kind: str | None, listing: Listing) -> list[dict[str, Any]]:
    """``GET /change`` or ``/change/{type}`` (typed: active changes of that type)."""
    require_role(ctx, "GET")
    prefix = [f"active=true^type={kind}"] if kind else []
    return _list(ctx, CHANGE, listing, prefix, default_order="number",
                 search=_text_search(ctx, CHANGE, listing.text_search))


def get_change(ctx: Context, kind: str | None, sys_id: str) -> dict[str, Any]:
    """``GET /change/{sys_id}`` or ``/change/{type}/{sys_id}``: 404 when missing, hidden, or
    of another type."""
    require_role(ctx, "GET")
    return to_js(ctx, CHANGE, [_find(ctx, kind, sys_id)])[0]


def _find(ctx: Context, kind: str | None, sys_id: str) -> dict[str, Any]:
    record = records.get_record(ctx, CHANGE, sys_id, ALL, web_service=True)
    if kind is not None and _value(record, "type") != kind:
        raise RecordNotFound()
    return record


def _value(record: Mapping[str, Any], name: str) -> str:
    pair = record.get(name)
    return str(pair.get("value") or "") if isinstance(pair, dict) else ""


def _list(ctx: Context, table: str, listing: Listing, prefix: list[str], *,
          default_order: str, search: str) -> list[dict[str, Any]]:
    """One page: ``prefix`` and ``search`` conditions, then the caller's query (or name-value
    pairs when there is none), then ``ORDERBY order``."""
    parts = [*prefix, search, listing.query, f"ORDERBY{listing.order or default_order}"]
    query = records.ListQuery(
        query="^".join(part for part in parts if part),
        filters=() if listing.query else listing.filters,
        limit=listing.limit if listing.limit > 0 else DEFAULT_LIMIT,
        offset=max(listing.offset, 0),
        no_count=True,
    )
    page = records.list_records(ctx, table, query, ALL, web_service=True)
    return to_js(ctx, table, page.records)


def _text_search(ctx: Context, table: str, text: str) -> str:
    """Every word in at least one text field (``IR_AND_QUERY``) as an encoded query."""
    names = [name for name, fld in ctx.dictionary.fields(table).items()
             if fld.type in _TEXT_TYPES and fld.is_stored]
    groups = []
    for word in text.split():
        escaped = word.replace("^", "^^")
        groups.append("^OR".join(f"{name}LIKE{escaped}" for name in names))
    return "^".join(groups)


# -- writes -----------------------------------------------------------------------------------

def create_change(ctx: Context, kind: str | None, pairs: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /change`` (type from the request, else the dictionary's default) or
    ``/change/normal``, ``/change/emergency``: the new change and ``__meta``."""
    require_role(ctx, "POST")
    assignment = assign(ctx, CHANGE, pairs)
    values: dict[str, Any] = dict(assignment.values)
    if kind is not None:
        values["type"] = kind
    sys_id = _insert(ctx, values)
    return _answer(ctx, CHANGE, sys_id, assignment.ignored)


def create_standard_change(ctx: Context, template_id: str,
                           pairs: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /change/standard/{standard_change_template_id}``: a standard change with the
    template's values, its current version, and the request's other fields."""
    require_role(ctx, "POST")
    template = records.get_record(ctx, TEMPLATE, template_id, records.RAW, web_service=True)
    assignment = assign(ctx, CHANGE, pairs, restricted=STANDARD_RESTRICTED)
    values: dict[str, Any] = {**_template_values(ctx, template), **assignment.values,
                              "type": "standard", "approval": "approved",
                              "approval_set": ctx.now_glide()}
    version = _current_version(ctx, template)
    with write_transaction(ctx.db):
        sys_id = _insert(ctx, values)
        if version:
            # Read-only to callers; the template sets it (applyToChange).
            rows.update(ctx.db, ctx.dictionary, CHANGE, sys_id,
                        {"std_change_producer_version": version})
    return _answer(ctx, CHANGE, sys_id, assignment.ignored)


def _template_values(ctx: Context, template: Mapping[str, Any]) -> dict[str, str]:
    """The fields of the template's ``std_change_template`` values that ``change_request``
    has (``GlideTemplate.apply``)."""
    reference = template.get("template")
    sys_id = reference.get("value") if isinstance(reference, dict) else reference
    if not sys_id:
        return {}
    stored = rows.get(ctx.db, ctx.dictionary, "sys_template", str(sys_id))
    fields = ctx.dictionary.fields(CHANGE)
    return {name: value for name, value in parse_template(str((stored or {}).get("template")
                                                                or "")).items()
            if name in fields}


def _current_version(ctx: Context, template: Mapping[str, Any]) -> str:
    """The template's ``current_version``, else its highest version."""
    current = template.get("current_version")
    current = current.get("value") if isinstance(current, dict) else current
    if current:
        return str(current)
    versions = rows.find_by(ctx.db, ctx.dictionary, VERSION,
                            std_change_producer=str(template.get("sys_id")))
    versions.sort(key=lambda row: int(row.get("version") or 0))
    return str(versions[-1]["sys_id"]) if versions else ""


def _insert(ctx: Context, values: Mapping[str, Any], table: str = CHANGE,
            label: str = "Change Request") -> str:
    """Create the record; a platform refusal is the API's 400 ``<label> record could not be
    created. ...`` (the create side of :func:`_update`)."""
    try:
        created = records.create_record(ctx, table, values, web_service=True)
    except OperationFailed as failure:
        raise BadRequestError(
            f"{label} record could not be created. {failure.detail or ''}".strip()) from None
    return str(created["sys_id"])


def _answer(ctx: Context, table: str, sys_id: str, ignored: list[str]) -> dict[str, Any]:
    record = records.get_record(ctx, table, sys_id, ALL, web_service=True)
    return {**to_js(ctx, table, [record])[0], "__meta": {"ignoredFields": ignored}}


def update_change(ctx: Context, kind: str | None, sys_id: str,
                  pairs: Mapping[str, Any]) -> dict[str, Any]:
    """``PATCH /change/{sys_id}`` (or typed): an illegal state jump is the business rule's
    abort as a 400 ``Change Request record could not be updated. ...`` (§7.4, FS#49011577966).
    """
    require_role(ctx, "PATCH")
    _find(ctx, kind, sys_id)
    assignment = assign(ctx, CHANGE, pairs)
    _update(ctx, CHANGE, "Change Request", sys_id, assignment.values)
    return _answer(ctx, CHANGE, sys_id, assignment.ignored)


def _update(ctx: Context, table: str, label: str, sys_id: str,
            values: Mapping[str, Any]) -> None:
    try:
        records.update_record(ctx, table, sys_id, values, web_service=True)
    except OperationFailed as failure:
        raise BadRequestError(
            f"{label} record could not be updated. {failure.detail or ''}".strip()) from None


def delete_change(ctx: Context, kind: str | None, sys_id: str) -> dict[str, Any]:
    """``DELETE /change/{sys_id}`` (or typed): the record as it was before the delete."""
    require_role(ctx, "DELETE")
    before = to_js(ctx, CHANGE, [_find(ctx, kind, sys_id)])[0]
    records.delete_record(ctx, CHANGE, sys_id, web_service=True)
    return before


# -- next states ------------------------------------------------------------------------------

def next_states(ctx: Context, sys_id: str) -> dict[str, Any]:
    """``GET /change/{sys_id}/nextstates``: the states the change's model allows from its
    current state (then the current state), their labels, and one transition list per state.

    Transitions are the type-driven model's (§7.4): no conditions, always available, never
    automatic; their sys_ids are stable per type, from and to state.
    """
    require_role(ctx, "GET")
    record = _find(ctx, None, sys_id)
    current = _value(record, "state")
    change_type = _value(record, "type") or "normal"
    model = CHANGE_TRANSITIONS.get(change_type, CHANGE_TRANSITIONS["normal"])
    fld = ctx.dictionary.fields(CHANGE)["state"]
    order = [choice.value for choice in fld.choices]
    try:
        allowed = {str(state) for state in model.get(int(current), frozenset())}
    except ValueError:
        allowed = set()
    targets = sorted(allowed, key=lambda s: order.index(s) if s in order else len(order))

    def label(state: str) -> str:
        return fld.choice_label(state) or state

    transitions = [[{
        "sys_id": stable_sys_id("sttrm_state_transition", change_type, current, target),
        "display_value": f"{label(current)} to {label(target)}",
        "from_state": current,
        "to_state": target,
        "transition_available": True,
        "automatic_transition": False,
        "conditions": [],
    }] for target in targets]
    available = [*targets, current]
    return {"available_states": available, "state_transitions": transitions,
            "state_label": {state: label(state) for state in available}}


# -- change tasks -----------------------------------------------------------------------------

def list_tasks(ctx: Context, change_id: str, listing: Listing) -> list[dict[str, Any]]:
    """``GET /change/{change_sys_id}/task``: the change's tasks (404 for an unknown change)."""
    require_role(ctx, "GET")
    _find(ctx, None, change_id)
    return _list(ctx, TASK, listing, [f"change_request={change_id}"], default_order="number",
                 search=_text_search(ctx, TASK, listing.text_search))


def create_task(ctx: Context, change_id: str, pairs: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /change/{change_sys_id}/task``: a change task of that change (``CTASK...``)."""
    require_role(ctx, "POST")
    _find(ctx, None, change_id)
    assignment = assign(ctx, TASK, pairs)
    values = {**assignment.values, "change_request": change_id, "parent": change_id}
    sys_id = _insert(ctx, values, TASK, "Change Task")
    return _answer(ctx, TASK, sys_id, assignment.ignored)


def _task(ctx: Context, change_id: str, task_id: str) -> dict[str, Any]:
    """The task, when it belongs to the change (the reference: the change sys_id "verifies
    that the task is actually associated to the specified change request"); else 404."""
    _find(ctx, None, change_id)
    task = records.get_record(ctx, TASK, task_id, ALL, web_service=True)
    if _value(task, "change_request") != change_id:
        raise RecordNotFound()
    return task


def get_task(ctx: Context, change_id: str, task_id: str) -> dict[str, Any]:
    """``GET /change/{change_sys_id}/task/{task_sys_id}``."""
    require_role(ctx, "GET")
    return to_js(ctx, TASK, [_task(ctx, change_id, task_id)])[0]


def update_task(ctx: Context, change_id: str, task_id: str,
                pairs: Mapping[str, Any]) -> dict[str, Any]:
    """``PATCH /change/{change_sys_id}/task/{task_sys_id}``."""
    require_role(ctx, "PATCH")
    _task(ctx, change_id, task_id)
    assignment = assign(ctx, TASK, pairs)
    _update(ctx, TASK, "Change Task", task_id, assignment.values)
    return _answer(ctx, TASK, task_id, assignment.ignored)


def delete_task(ctx: Context, change_id: str, task_id: str) -> dict[str, Any]:
    """``DELETE /change/{change_sys_id}/task/{task_sys_id}``: the task before the delete."""
    require_role(ctx, "DELETE")
    before = to_js(ctx, TASK, [_task(ctx, change_id, task_id)])[0]
    records.delete_record(ctx, TASK, task_id, web_service=True)
    return before


# -- standard change templates ----------------------------------------------------------------

def list_templates(ctx: Context, listing: Listing) -> list[dict[str, Any]]:
    """``GET /change/standard/template``: active, not retired templates; ``textSearch`` looks
    in the template values' name and short description (``StandardChangeTemplateSNC.findAll``)."""
    require_role(ctx, "GET")
    search = ""
    if listing.text_search.strip():
        text = listing.text_search.replace("^", "^^")
        search = f"template.nameLIKE{text}^ORtemplate.short_descriptionLIKE{text}"
    return _list(ctx, TEMPLATE, listing, ["active=true^retired=false"], default_order="name",
                 search=search)


def get_template(ctx: Context, sys_id: str) -> dict[str, Any]:
    """``GET /change/standard/template/{sys_id}`` (404 when missing or hidden)."""
    require_role(ctx, "GET")
    record = records.get_record(ctx, TEMPLATE, sys_id, ALL, web_service=True)
    return to_js(ctx, TEMPLATE, [record])[0]
